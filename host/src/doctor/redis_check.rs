//! Redis, when `REDIS_URL` is set: the host's own Redis link connects and pings it once.

use super::check::Check;
use crate::redis_link::RedisLink;

const NAME: &str = "Redis";

/// Whether Redis at `url` answers PING (skipped when unset).
pub async fn check(url: Option<&str>, prefix: &str) -> Check {
    let Some(url) = url else {
        return Check::skip(
            NAME,
            "REDIS_URL is not set (cache and events stay in memory)",
        );
    };
    let link = match RedisLink::new(url, prefix) {
        Ok(link) => link,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("{e:#}"),
                "set REDIS_URL to redis://host:port (or unix:///path/to/redis.sock)",
            );
        }
    };
    // The first probe runs before `start` returns; the background prober is not needed.
    link.start().await.abort();
    let status = link.status("doctor");
    if link.is_healthy() {
        Check::ok(NAME, format!("{} answers PING", link.location()))
    } else {
        Check::fail(
            NAME,
            format!("no answer: {}", status.detail),
            "start Redis, or correct REDIS_URL; unset it to keep the cache and events in memory \
             (a server started meanwhile serves from memory until Redis answers)",
        )
    }
}
