//! `marcus:platform/capabilities` on Spin: the host is `spin`, and each backend is probed
//! per request, so the app's `/api/features` shows what this Spin configuration grants.

use crate::bindings::capabilities::{Backend, Environment, Guest, HostKind, Report};
use crate::kv_cache;
use crate::postgres_storage::PgConnection;
use crate::redis_fanout;
use crate::settings;
use crate::sqlite_db::{DATABASE, Db};
use marcus_core::realtime_limits;

/// How long one SSE stream from the app lasts on Spin before the browser reconnects.
pub const SSE_STREAM_SECONDS: u32 = 25;

fn backend(capability: &str, name: &str, healthy: bool, detail: String) -> Backend {
    Backend {
        capability: capability.into(),
        name: name.into(),
        healthy,
        detail,
    }
}

fn storage() -> Backend {
    if let Some(url) = settings::configured(settings::DATABASE_URL) {
        let location = settings::without_credentials(&url);
        // The request's connection, opened and (once per instance) schema-checked: proof
        // enough, without a count over a large table on every report.
        return match PgConnection::for_this_request(&url) {
            Ok(_) => backend("storage", "postgres", true, location),
            Err(e) => backend("storage", "postgres", false, format!("{location}: {e:?}")),
        };
    }
    match Db::open().and_then(|db| db.first("SELECT 1", &[])) {
        Ok(_) => backend(
            "storage",
            "spin-sqlite",
            true,
            format!("Spin SQLite database {DATABASE:?}"),
        ),
        Err(e) => backend("storage", "spin-sqlite", false, format!("{e:?}")),
    }
}

fn cache() -> Backend {
    match kv_cache::open() {
        Ok(_) => backend(
            "cache",
            "spin-key-value",
            true,
            format!("Spin key-value store {:?}", kv_cache::STORE),
        ),
        Err(e) => backend("cache", "spin-key-value", false, format!("{e:?}")),
    }
}

fn realtime(log_healthy: bool) -> Backend {
    let log = format!(
        "event log in Spin SQLite ({} events / {} h per channel)",
        realtime_limits::RETAIN_EVENTS,
        realtime_limits::RETAIN_MS / 3_600_000
    );
    match redis_fanout::probe() {
        None => backend("realtime", "sqlite-log", log_healthy, log),
        Some((redis_ok, detail)) => backend(
            "realtime",
            "sqlite-log+redis",
            log_healthy && redis_ok,
            format!("{log}; Redis publish to {detail}"),
        ),
    }
}

impl Guest for crate::Adapter {
    fn describe() -> Report {
        let storage = storage();
        // The realtime log is always in Spin SQLite, whichever store holds documents.
        let log_healthy = Db::open().and_then(|db| db.first("SELECT 1", &[])).is_ok();
        let realtime = realtime(log_healthy);
        let push = backend(
            "push",
            "sse",
            realtime.healthy,
            format!(
                "server-sent events from the app component, {SSE_STREAM_SECONDS} s per stream, \
                 resumed with Last-Event-ID"
            ),
        );
        let facts = vec![
            // The audit log is the native host's (see `audit_export`).
            ("audit".to_string(), "off".to_string()),
            (
                "sse-stream-seconds".to_string(),
                SSE_STREAM_SECONDS.to_string(),
            ),
            (
                "redis-events".to_string(),
                settings::configured(settings::REDIS_ADDRESS)
                    .is_some()
                    .to_string(),
            ),
        ];
        Report {
            host: HostKind::Spin,
            backends: vec![storage, cache(), realtime, push],
            environment: Environment {
                kubernetes: false,
                facts,
            },
        }
    }
}
