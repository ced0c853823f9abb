//! `marcus:platform/realtime` as an event log in Spin SQLite: publishing appends the next
//! sequence number of the channel (the primary key makes a concurrent append of the same
//! number fail, and the publisher retries: compare-and-swap), polling reads the log.
//!
//! Retention is the native host's (`realtime_limits::RETAIN_EVENTS` newest events of a
//! channel, none older than `RETAIN_MS`); the table is the SQLite dialect's
//! `REALTIME_EVENTS`. The newest event row is kept past its age (hidden from polls) so a
//! quiet channel never restarts its numbering.
//!
//! The log is the whole application's: each channel is stored under the request tenant's
//! name for it (`tenant::scoped`), so a tenant publishes to, polls and waits on its own
//! channels only, and the events it reads carry the name it asked for.

use crate::bindings::Error;
use crate::bindings::realtime::{Batch, Event, Guest};
use crate::sqlite_db::{Db, i, int, t, text};
use crate::{checks, redis_fanout, request_scope};
use marcus_core::realtime_limits::{self, RETAIN_MS};
use marcus_identity::tenant;

/// Events kept per channel, in the log's sequence arithmetic.
const RETAIN_EVENTS: u64 = realtime_limits::RETAIN_EVENTS as u64;
/// Appends attempted before a publish gives up under contention.
const APPEND_ATTEMPTS: usize = 8;

/// Checks the request's channel name and answers the name it is stored under: the
/// request tenant's; fails closed when no tenant is established.
fn stored_channel(channel: &str) -> Result<String, Error> {
    if channel.is_empty() || channel.len() > 200 {
        return Err(Error::Invalid("channel must be 1-200 bytes long".into()));
    }
    Ok(tenant::scoped(&request_scope::tenant()?, channel))
}

fn append(db: &Db, channel: &str, payload: &str, now: u64) -> Result<u64, Error> {
    let mut last_error = None;
    for _ in 0..APPEND_ATTEMPTS {
        let appended = db.first(
            "INSERT INTO realtime_events (channel, seq, payload, published_at)
             SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ? FROM realtime_events WHERE channel = ?
             RETURNING seq",
            &[t(channel), t(payload), i(now), t(channel)],
        );
        match appended {
            Ok(Some(row)) => return Ok(int(&row, 0)? as u64),
            Ok(None) => return Err(Error::Internal("the append returned no sequence".into())),
            // Another writer took this number first: read the new end and try again.
            Err(Error::Internal(message)) if message.contains("UNIQUE") => {
                last_error = Some(message);
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Unavailable(format!(
        "channel {channel} is too busy to append to: {}",
        last_error.unwrap_or_default()
    )))
}

impl Guest for crate::Adapter {
    fn publish(channel: String, payload: String) -> Result<u64, Error> {
        let channel = stored_channel(&channel)?;
        if let Some(refusal) = realtime_limits::oversized(payload.len()) {
            return Err(Error::Invalid(refusal));
        }
        let db = Db::open()?;
        let now = checks::now_ms();
        let seq = append(&db, &channel, &payload, now)?;
        db.rows(
            "DELETE FROM realtime_events WHERE channel = ? AND seq < ?
               AND (seq <= ? OR published_at < ?)",
            &[
                t(&channel),
                i(seq),
                i(seq.saturating_sub(RETAIN_EVENTS)),
                i(now.saturating_sub(RETAIN_MS)),
            ],
        )?;
        redis_fanout::announce(&channel, seq, &payload, now);
        Ok(seq)
    }

    fn poll(channel: String, since: u64, limit: u32) -> Result<Batch, Error> {
        let stored = stored_channel(&channel)?;
        let db = Db::open()?;
        let cutoff = checks::now_ms().saturating_sub(RETAIN_MS);
        let ends = db.first(
            "SELECT MAX(seq), MIN(CASE WHEN published_at >= ? THEN seq END)
             FROM realtime_events WHERE channel = ?",
            &[i(cutoff), t(&stored)],
        )?;
        let (latest, oldest) = match ends {
            Some(row) => (int(&row, 0)? as u64, int(&row, 1)? as u64),
            None => (0, 0),
        };
        // The running byte total stops the page at the poll budget inside SQLite, so a page of
        // large events never enters this component's memory whole.
        let mut events = db
            .rows(
                "SELECT seq, payload, published_at FROM (
                   SELECT seq, payload, published_at,
                          SUM(length(CAST(payload AS BLOB))) OVER (ORDER BY seq) AS running,
                          length(CAST(payload AS BLOB)) AS size
                   FROM realtime_events
                   WHERE channel = ? AND seq > ? AND published_at >= ? AND seq > ?
                   ORDER BY seq LIMIT ?)
                 WHERE running <= ? OR running = size
                 ORDER BY seq",
                &[
                    t(&stored),
                    i(since.min(i64::MAX as u64)),
                    i(cutoff),
                    i(latest.saturating_sub(RETAIN_EVENTS)),
                    i(limit as u64),
                    i(realtime_limits::MAX_POLL_BYTES as u64),
                ],
            )?
            .iter()
            .map(|row| {
                // The name the tenant asked for, never the stored one.
                Ok(Event {
                    channel: channel.clone(),
                    seq: int(row, 0)? as u64,
                    payload: text(row, 1)?,
                    published_at: int(row, 2)? as u64,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        events.truncate(realtime_limits::poll_page_len(
            events.iter().map(|e| e.payload.len()),
        ));
        Ok(Batch {
            events,
            latest,
            oldest,
        })
    }

    /// Spin gives a component no live feed to block on, so the wait looks at the channel's
    /// end every `WAIT_POLL_MS`, opening the database only for each look.
    fn wait(channel: String, since: u64, timeout_ms: u32) -> Result<u64, Error> {
        let channel = stored_channel(&channel)?;
        let timeout = std::time::Duration::from_millis(u64::from(
            timeout_ms.min(realtime_limits::MAX_WAIT_MS),
        ));
        let started = std::time::Instant::now();
        loop {
            let latest = latest_seq(&channel)?;
            if latest > since || started.elapsed() >= timeout {
                return Ok(latest);
            }
            let left = timeout.saturating_sub(started.elapsed());
            std::thread::sleep(left.min(std::time::Duration::from_millis(
                realtime_limits::WAIT_POLL_MS,
            )));
        }
    }
}

/// The stored channel's newest sequence number (0 when it has none).
fn latest_seq(channel: &str) -> Result<u64, Error> {
    let db = Db::open()?;
    match db.first(
        "SELECT COALESCE(MAX(seq), 0) FROM realtime_events WHERE channel = ?",
        &[t(channel)],
    )? {
        Some(row) => Ok(int(&row, 0)? as u64),
        None => Ok(0),
    }
}
