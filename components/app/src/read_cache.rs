//! Read-through caching of the expensive board reads (project status and health, the board,
//! task context), shared by the JSON API and MCP.
//!
//! - Keys carry the project's generation; every committed write to a project gives it a new
//!   one ([`invalidations_for`], applied by the unit of work with every commit), so no read
//!   after a write's answer sees older data.
//! - Single-flight: on a miss, one request (on any host sharing the cache) claims the
//!   computation with `cache.add`; the others wait briefly for its result.
//! - TTLs are jittered; a not-found answer is cached too (shorter), and a task's negative
//!   entry is removed when a task with that id is written.
//! - A request with `Cache-Control: no-cache` computes afresh.

use crate::bindings::commit::{CacheChange, CacheEntry};
use crate::bindings::storage::Write;
use crate::records::{self, collections};
use marcus_core::api_error::ApiError;
use marcus_core::board::model::Task;
use marcus_core::read_cache::{self as rules, Entry};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::time::Duration;

thread_local! {
    static BYPASS: Cell<bool> = const { Cell::new(false) };
    static OUTCOME: Cell<Option<&'static str>> = const { Cell::new(None) };
    static CHANGES_AT: Cell<Option<u64>> = const { Cell::new(None) };
}

/// How often a waiting request looks for the result of another's computation.
const WAIT_STEP: Duration = Duration::from_millis(5);
/// How long it waits at most before computing itself.
const WAIT_STEPS: u32 = 400;
/// The generation that board-wide agent changes bump (board health depends on agents).
const AGENTS_SCOPE: &str = "*agents";

/// Makes this request compute every read afresh (the client sent `no-cache`).
pub fn bypass(on: bool) {
    BYPASS.with(|b| b.set(on));
}

/// What the cache did for this request's last cached read (`hit`, `miss`, `shared`,
/// `bypass`), for the `x-marcus-cache` response header.
pub fn outcome() -> Option<&'static str> {
    OUTCOME.with(Cell::get)
}

fn note(outcome: &'static str) {
    OUTCOME.with(|o| o.set(Some(outcome)));
}

/// Notes that the answer being computed changes by itself at `ms`, milliseconds since the
/// Unix epoch, though nothing is written (a lease lapses then, and with it an agent's
/// status): the cache keeps that answer no longer.
pub fn changes_at(ms: u64) {
    CHANGES_AT.with(|c| c.set(Some(c.get().map_or(ms, |m| m.min(ms)))));
}

/// Starts a computation whose answer may be cached: forgets when an earlier one changes.
pub fn forget_changes() {
    CHANGES_AT.with(|c| c.set(None));
}

/// How long to keep `entry`: its jittered TTL, cut to the whole seconds left before the
/// answer changes by itself ([`changes_at`], noted while it was computed); `None` when that
/// is less than a second away, so it is not kept at all.
fn keep_for(entry: &Entry) -> Option<u32> {
    let ttl = rules::jittered_ttl(entry.ttl(), crate::ids::unit_random());
    match CHANGES_AT.with(|c| c.take()) {
        None => Some(ttl),
        Some(at) => {
            let left = at.saturating_sub(crate::ids::now_ms()) / 1000;
            (left > 0).then(|| ttl.min(u32::try_from(left).unwrap_or(u32::MAX)))
        }
    }
}

enum Scope {
    /// Cache under this project's generation.
    Project(String),
    /// A task id that does not exist: compute (a not-found) and cache it as missing.
    MissingTask(String),
    /// Not cacheable (no explicit id): compute.
    None,
}

/// Answers `tool` from the cache or computes it with `compute` and caches the result.
pub fn through(
    tool: &str,
    args: &Map<String, Value>,
    compute: impl FnOnce() -> Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    if !rules::CACHED_TOOLS.contains(&tool) {
        return compute();
    }
    if BYPASS.with(Cell::get) {
        note(rules::BYPASS);
        return compute();
    }
    let project = match scope(tool, args) {
        Ok(Scope::Project(p)) => p,
        Ok(Scope::None) => return compute(),
        Ok(Scope::MissingTask(task_id)) => {
            note(rules::MISS);
            let result = compute();
            if let Some(missing @ Entry::Missing(..)) = Entry::of(&result) {
                let _ = crate::platform::current().cache_set(
                    &rules::missing_task_key(&task_id),
                    &missing.encode(),
                    Some(rules::NEGATIVE_TTL_SECONDS),
                );
            }
            return result;
        }
        Err(cached_missing) => {
            note(rules::HIT);
            return Err(cached_missing);
        }
    };
    let key = rules::entry_key(
        tool,
        &project,
        &read_generation(tool, &project),
        &Value::Object(args.clone()),
    );
    if let Some(entry) = lookup(&key) {
        note(rules::HIT);
        return entry.into_result();
    }
    let flight = rules::flight_key(&key);
    let mine = crate::platform::current()
        .cache_add(&flight, b"1", Some(rules::FLIGHT_TTL_SECONDS))
        .unwrap_or(true);
    if mine {
        // Another request may have stored the answer and let go of its claim between our
        // lookup and our claim.
        if let Some(entry) = lookup(&key) {
            let _ = crate::platform::current().cache_delete(&flight);
            note(rules::HIT);
            return entry.into_result();
        }
    } else {
        for _ in 0..WAIT_STEPS {
            sleep(WAIT_STEP);
            if let Some(entry) = lookup(&key) {
                note(rules::SHARED);
                return entry.into_result();
            }
            if !matches!(crate::platform::current().cache_get(&flight), Ok(Some(_))) {
                // The computation ended: its answer was stored just before the claim went,
                // unless it was not cacheable.
                if let Some(entry) = lookup(&key) {
                    note(rules::SHARED);
                    return entry.into_result();
                }
                break;
            }
        }
    }
    note(rules::MISS);
    forget_changes();
    let result = compute();
    if let Some(entry) = Entry::of(&result)
        && let Some(ttl) = keep_for(&entry)
    {
        let _ = crate::platform::current().cache_set(&key, &entry.encode(), Some(ttl));
    }
    if mine {
        let _ = crate::platform::current().cache_delete(&flight);
    }
    result
}

/// Which project's generation covers this read; a cached negative answer for an unknown
/// task comes back as the error.
fn scope(tool: &str, args: &Map<String, Value>) -> Result<Scope, ApiError> {
    if tool == "get_task_context" {
        let Some(task_id) = args.get("task_id").and_then(Value::as_str) else {
            return Ok(Scope::None);
        };
        if let Some(missing @ Entry::Missing(..)) = lookup(&rules::missing_task_key(task_id)) {
            return Err(missing
                .into_result()
                .expect_err("a missing entry is an error"));
        }
        return Ok(match records::get::<Task>(collections::TASKS, task_id) {
            Ok(Some(task)) => Scope::Project(task.value.project_id),
            Ok(None) => Scope::MissingTask(task_id.to_string()),
            Err(_) => Scope::None,
        });
    }
    Ok(match args.get("project_id").and_then(Value::as_str) {
        Some(p) if !p.is_empty() => Scope::Project(p.to_string()),
        _ => Scope::None,
    })
}

fn lookup(key: &str) -> Option<Entry> {
    match crate::platform::current().cache_get(key) {
        Ok(Some(bytes)) => Entry::decode(&bytes),
        _ => None,
    }
}

/// The generations a read of `tool` depends on: the project's, and for board health and
/// project status (which count agents) also the board-wide agents generation.
fn read_generation(tool: &str, project: &str) -> String {
    let generation = generation(project);
    if tool == "check_board_health" || tool == "get_project_status" {
        format!("{generation}.{}", self::generation(AGENTS_SCOPE))
    } else {
        generation
    }
}

/// The project's current generation; a project without one gets a fresh one (set before
/// any storage read, so a value computed under it is never older than it).
fn generation(project: &str) -> String {
    let key = rules::generation_key(project);
    if let Ok(Some(bytes)) = crate::platform::current().cache_get(&key)
        && let Ok(g) = String::from_utf8(bytes)
    {
        return g;
    }
    let fresh = crate::ids::random_hex();
    let _ = crate::platform::current().cache_set(
        &key,
        fresh.as_bytes(),
        Some(rules::GENERATION_TTL_SECONDS),
    );
    fresh
}

/// What a change makes stale, applied once it is stored: new generations for every project
/// it touched, and removal of negative entries for tasks it wrote. The unit of work hands
/// these to the platform with every committed write (board or raw), so the rule lives here
/// and nowhere else.
pub fn invalidations_for(writes: &[Write]) -> Vec<CacheChange> {
    let mut projects = BTreeSet::new();
    let mut changes = Vec::new();
    for w in writes {
        let (collection, id, data) = (w.collection.as_str(), w.id.as_str(), &w.data);
        match collection {
            collections::JOBS | collections::WEBHOOK_DELIVERIES | collections::WEBHOOKS => {
                continue;
            }
            collections::PROJECTS => {
                projects.insert(id.to_string());
            }
            collections::AGENTS => {
                projects.insert(AGENTS_SCOPE.to_string());
            }
            _ => {}
        }
        if collection == collections::TASKS {
            changes.push(CacheChange::Delete(rules::missing_task_key(id)));
        }
        if let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(data)
            && let Some(Value::String(p)) = doc.get("project_id")
        {
            projects.insert(p.clone());
        }
    }
    for project in projects {
        changes.push(CacheChange::Set(CacheEntry {
            key: rules::generation_key(&project),
            value: crate::ids::random_hex().into_bytes(),
            ttl_seconds: Some(rules::GENERATION_TTL_SECONDS),
        }));
    }
    changes
}

/// Stores `result`, just computed for `tool` and `project`, as the current answer (the
/// health job's cache warm-up after a change), for as long as [`keep_for`] allows.
pub fn refresh(tool: &str, project: &str, result: &Result<Value, ApiError>) {
    let mut args = Map::new();
    args.insert("project_id".into(), Value::String(project.to_string()));
    let key = rules::entry_key(
        tool,
        project,
        &read_generation(tool, project),
        &Value::Object(args),
    );
    if let Some(entry) = Entry::of(result)
        && let Some(ttl) = keep_for(&entry)
    {
        let _ = crate::platform::current().cache_set(&key, &entry.encode(), Some(ttl));
    }
}

fn sleep(d: Duration) {
    crate::platform::current().sleep(d);
}
