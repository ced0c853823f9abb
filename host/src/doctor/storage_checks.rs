//! The stores: the data directory's SQLite database, and PostgreSQL when `DATABASE_URL` is
//! set. Each is opened with the host's own storage code and read without being changed; the
//! schema version it records is held against the one this build writes.

use super::check::Check;
use crate::storage::Inspection;
use crate::storage::postgres::PostgresStorage;
use crate::storage::sqlite::SqliteStorage;
use marcus_core::store::schema_version::SCHEMA_VERSION;
use std::path::Path;
use std::time::Duration;

const SQLITE: &str = "SQLite database";
const POSTGRES: &str = "PostgreSQL";
/// How long connecting to PostgreSQL and reading may take.
const POSTGRES_TIMEOUT: Duration = Duration::from_secs(10);

/// The data directory's database (skipped when `DATABASE_URL` puts storage elsewhere).
pub fn sqlite(path: &Path, database_url_set: bool) -> Check {
    if database_url_set {
        return Check::skip(
            SQLITE,
            "storage is PostgreSQL (DATABASE_URL is set); the data directory's database is not used",
        );
    }
    if !path.exists() {
        return Check::ok(
            SQLITE,
            format!(
                "{} not created yet; `marcus serve` creates it at first start",
                path.display()
            ),
        );
    }
    match SqliteStorage::inspect(path) {
        Ok(found) => schema(SQLITE, &found, &format!("SQLite {}", found.engine_version)),
        Err(e) => Check::fail(
            SQLITE,
            format!("{e:#}"),
            format!(
                "restore {} from a backup (`marcus migrate` copies between stores), or move it away to start afresh",
                path.display()
            ),
        ),
    }
}

/// PostgreSQL at `url` (skipped when unset).
pub async fn postgres(url: Option<&str>) -> Check {
    let Some(url) = url else {
        return Check::skip(POSTGRES, "DATABASE_URL is not set (solo tier: SQLite)");
    };
    match tokio::time::timeout(POSTGRES_TIMEOUT, PostgresStorage::inspect(url)).await {
        Ok(Ok(found)) => schema(
            POSTGRES,
            &found,
            &format!("PostgreSQL {}", found.engine_version),
        ),
        Ok(Err(e)) => Check::fail(
            POSTGRES,
            format!("{e:#}"),
            "start PostgreSQL, or correct DATABASE_URL (postgresql://user[:password]@host:port/database); unset it to use SQLite",
        ),
        Err(_) => Check::fail(
            POSTGRES,
            format!("no answer within {} s", POSTGRES_TIMEOUT.as_secs()),
            "check that DATABASE_URL names a reachable PostgreSQL server",
        ),
    }
}

/// The one rule for a store's schema: this build's version is ok, none yet is ok (the
/// first start creates it), an older one is upgraded at start, a newer one is refused.
fn schema(name: &'static str, found: &Inspection, engine: &str) -> Check {
    let at = &found.location;
    match found.schema_version {
        _ if !found.has_tables => Check::ok(
            name,
            format!("{at} opens ({engine}); no Marcus tables yet, `marcus serve` creates them"),
        ),
        Some(v) if v == SCHEMA_VERSION => {
            Check::ok(name, format!("{at} opens ({engine}), schema version {v}"))
        }
        Some(v) if v > SCHEMA_VERSION => Check::fail(
            name,
            format!(
                "{at} has schema version {v}, newer than this marcus understands ({SCHEMA_VERSION})"
            ),
            "upgrade marcus to the version that wrote this database",
        ),
        recorded => Check::warn(
            name,
            format!(
                "{at} has schema version {}, older than this build's {SCHEMA_VERSION}",
                recorded.map_or("(none)".to_string(), |v| v.to_string())
            ),
            "`marcus serve` upgrades it at start; back it up first",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::check::Status;
    use super::*;

    fn found(has_tables: bool, schema_version: Option<i64>) -> Inspection {
        Inspection {
            location: "db".into(),
            has_tables,
            schema_version,
            engine_version: "1".into(),
        }
    }

    #[test]
    fn schema_versions_are_held_against_this_build() {
        let status = |f| schema("s", &f, "e").status;
        assert_eq!(status(found(true, Some(SCHEMA_VERSION))), Status::Ok);
        assert_eq!(status(found(false, None)), Status::Ok);
        assert_eq!(status(found(true, Some(SCHEMA_VERSION + 1))), Status::Fail);
        assert_eq!(status(found(true, None)), Status::Warn);
    }

    #[test]
    fn a_file_that_is_not_a_database_fails_with_a_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("marcus.db");
        std::fs::write(&path, b"not a database at all, just some text").unwrap();
        let c = sqlite(&path, false);
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.fix.is_some());
        assert_eq!(
            sqlite(&dir.path().join("none.db"), false).status,
            Status::Ok
        );
        assert_eq!(sqlite(&path, true).status, Status::Skip);
    }
}
