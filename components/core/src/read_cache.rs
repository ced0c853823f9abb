//! The rules of the read-through cache for expensive board reads (project status, health,
//! board, task context): how entries are keyed so one generation bump per write invalidates
//! every read of a project, how a not-found answer is cached, and how TTLs are spread.

use crate::api_error::ApiError;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Reads that are cached, by tool name.
pub const CACHED_TOOLS: &[&str] = &[
    "get_project_status",
    "check_board_health",
    "get_all_board_tasks",
    "get_task_context",
];
/// A read answered from the cache.
pub const HIT: &str = "hit";
/// A read computed and then cached.
pub const MISS: &str = "miss";
/// A read that waited for another request computing the same answer.
pub const SHARED: &str = "shared";
/// A read computed without the cache (asked for fresh data).
pub const BYPASS: &str = "bypass";
/// How a cached read can end, for counting them from the start.
pub const OUTCOMES: [&str; 4] = [HIT, MISS, SHARED, BYPASS];
/// Lifetime of a cached answer, before jitter (writes invalidate sooner).
pub const TTL_SECONDS: u32 = 30;
/// Lifetime of a cached "no such id".
pub const NEGATIVE_TTL_SECONDS: u32 = 15;
/// Lifetime of a project's generation key (refreshed by every write).
pub const GENERATION_TTL_SECONDS: u32 = 24 * 3600;
/// How long a single-flight claim lasts if its holder never finishes.
pub const FLIGHT_TTL_SECONDS: u32 = 5;

/// The cache key holding a project's generation: a fresh random value on every write.
pub fn generation_key(project_id: &str) -> String {
    format!("rc:gen:{project_id}")
}

/// The cache key of a negative entry for a task id that does not exist.
pub fn missing_task_key(task_id: &str) -> String {
    format!("rc:missing-task:{task_id}")
}

/// The key of one cached read: tool, project, the project's generation and the arguments.
/// A write gives the project a new generation, so every older key is simply never read again.
pub fn entry_key(tool: &str, project_id: &str, generation: &str, args: &Value) -> String {
    let digest = Sha256::digest(args.to_string().as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("rc:{tool}:{project_id}:{generation}:{hex}")
}

/// The single-flight claim for computing `entry_key`.
pub fn flight_key(entry_key: &str) -> String {
    format!("{entry_key}:flight")
}

/// `base` seconds spread by ±10% with `r` in `[0, 1)`, so entries written together do not
/// all expire together.
pub fn jittered_ttl(base: u32, r: f64) -> u32 {
    let spread = f64::from(base) * 0.2 * (r.clamp(0.0, 1.0) - 0.5);
    (f64::from(base) + spread).round().max(1.0) as u32
}

/// The 404 codes the board answers with; a cached "missing" keeps its code.
const MISSING_CODES: &[&str] = &[
    "not_found",
    "project_not_found",
    "task_not_found",
    "agent_not_found",
    "blocker_not_found",
];

/// A cached answer: the value, or a not-found error (negative caching).
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// The read's result.
    Found(Value),
    /// The id did not exist: the 404's code and message.
    Missing(&'static str, String),
}

impl Entry {
    /// From a computed result; errors other than not-found are not cached.
    pub fn of(result: &Result<Value, ApiError>) -> Option<Self> {
        match result {
            Ok(v) => Some(Self::Found(v.clone())),
            Err(e) if e.status == 404 && MISSING_CODES.contains(&e.code) => {
                Some(Self::Missing(e.code, e.message.clone()))
            }
            Err(_) => None,
        }
    }

    /// Bytes for the cache.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Found(v) => json!({"found": v}),
            Self::Missing(code, m) => json!({"missing": m, "code": code}),
        }
        .to_string()
        .into_bytes()
    }

    /// Back from the cache; `None` for anything unreadable (treated as a miss).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut v: Value = serde_json::from_slice(bytes).ok()?;
        if let Some(found) = v.get_mut("found") {
            return Some(Self::Found(found.take()));
        }
        let code = v.get("code").and_then(Value::as_str).unwrap_or("not_found");
        let code = MISSING_CODES
            .iter()
            .find(|c| **c == code)
            .unwrap_or(&"not_found");
        v.get("missing")?
            .as_str()
            .map(|m| Self::Missing(code, m.to_string()))
    }

    /// The answer it stands for.
    pub fn into_result(self) -> Result<Value, ApiError> {
        match self {
            Self::Found(v) => Ok(v),
            Self::Missing(code, m) => Err(ApiError::new(404, code, m)),
        }
    }

    /// TTL for this kind of entry.
    pub fn ttl(&self) -> u32 {
        match self {
            Self::Found(_) => TTL_SECONDS,
            Self::Missing(..) => NEGATIVE_TTL_SECONDS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_change_with_generation_and_arguments() {
        let a = json!({"project_id": "p1"});
        let k1 = entry_key("get_project_status", "p1", "g1", &a);
        assert_eq!(
            k1,
            entry_key(
                "get_project_status",
                "p1",
                "g1",
                &json!({"project_id": "p1"})
            )
        );
        assert_ne!(k1, entry_key("get_project_status", "p1", "g2", &a));
        assert_ne!(k1, entry_key("check_board_health", "p1", "g1", &a));
        assert_ne!(
            k1,
            entry_key(
                "get_project_status",
                "p1",
                "g1",
                &json!({"project_id": "p1", "x": 1})
            )
        );
        assert!(flight_key(&k1).starts_with(&k1));
    }

    #[test]
    fn ttls_spread_ten_percent_each_way() {
        assert_eq!(jittered_ttl(100, 0.0), 90);
        assert_eq!(jittered_ttl(100, 0.5), 100);
        assert_eq!(jittered_ttl(100, 0.999), 110);
        assert_eq!(jittered_ttl(1, 0.0), 1);
    }

    #[test]
    fn entries_round_trip_and_only_not_found_is_cached_as_an_error() {
        let found = Entry::of(&Ok(json!({"a": [1, false]}))).unwrap();
        assert_eq!(Entry::decode(&found.encode()), Some(found.clone()));
        let missing = Entry::of(&Err(ApiError::not_found("no project p9"))).unwrap();
        assert_eq!(Entry::decode(&missing.encode()), Some(missing.clone()));
        assert_eq!(missing.clone().into_result().unwrap_err().status, 404);
        let task = Entry::of(&Err(ApiError::new(404, "task_not_found", "task t9"))).unwrap();
        let back = Entry::decode(&task.encode())
            .unwrap()
            .into_result()
            .unwrap_err();
        assert_eq!(
            (back.status, back.code, back.message.as_str()),
            (404, "task_not_found", "task t9")
        );
        assert!(missing.ttl() < found.ttl());
        assert_eq!(Entry::of(&Err(ApiError::unavailable("db down"))), None);
        assert_eq!(Entry::decode(b"garbage"), None);
        let falsy = Entry::of(&Ok(json!(null))).unwrap();
        assert_eq!(Entry::decode(&falsy.encode()), Some(falsy));
    }
}
