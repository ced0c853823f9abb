//! MCP sessions, stored as documents so every host process recognises them. A session that
//! stays quiet for [`IDLE_MS`] ends: its client gets `404` and initializes again, as the
//! streamable HTTP transport prescribes.

use crate::bindings::storage::Expect;
use crate::board_error::BoardError;
use crate::ids;
use crate::platform_error::to_api;
use crate::read_ahead;
use crate::records::{self, Change, collections};
use marcus_core::api_error::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const COLLECTION: &str = collections::MCP_SESSIONS;

/// How long a session may stay quiet before it ends (one hour): long enough for a person
/// to leave an agent's terminal and come back, short enough that abandoned sessions and
/// their agent bindings do not pile up.
pub const IDLE_MS: u64 = 60 * 60 * 1000;

/// How stale the stored last activity may get before a request writes it again: one write
/// per session per half minute at most, far finer than any expiry it decides.
const ACTIVITY_GRANULARITY_MS: u64 = 30 * 1000;

/// A session as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The negotiated protocol version.
    pub protocol_version: String,
    /// What the client said it is at `initialize`.
    #[serde(default)]
    pub client_info: Value,
    /// When it began, milliseconds since the Unix epoch.
    #[serde(default)]
    pub started_at: u64,
    /// When a request last came in it (to [`ACTIVITY_GRANULARITY_MS`]).
    #[serde(default)]
    pub last_active: u64,
    /// The project `select_project` chose, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The agent the session registered as, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Agents another session took over from this one: this session may no longer act
    /// as them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taken_over: Vec<String>,
}

impl SessionRecord {
    /// Milliseconds since a request last came in this session, at `now`.
    pub fn quiet_for(&self, now: u64) -> u64 {
        now.saturating_sub(self.last_active.max(self.started_at))
    }
}

/// Records a new session and returns its id.
pub fn start(protocol_version: &str, client_info: &Value) -> Result<String, ApiError> {
    let id = ids::new_id("mcp");
    let now = ids::now_ms();
    let record = SessionRecord {
        protocol_version: protocol_version.to_string(),
        client_info: client_info.clone(),
        started_at: now,
        last_active: now,
        project_id: None,
        agent_id: None,
        taken_over: Vec::new(),
    };
    let data = serde_json::to_string(&record).map_err(|e| ApiError::internal(e.to_string()))?;
    crate::platform::current()
        .put(COLLECTION, &id, &data, Expect::Absent)
        .map_err(to_api)?;
    Ok(id)
}

/// What a request needs of its session: the protocol it negotiated, the project it selected
/// and the agent it registered as, read in one call.
pub struct SessionFacts {
    /// The negotiated protocol version.
    pub protocol: String,
    /// The project `select_project` chose, if any.
    pub project_id: Option<String>,
    /// The agent the session registered as, if any.
    pub agent_id: Option<String>,
    /// Agents taken over by another session since.
    pub taken_over: Vec<String>,
}

/// The session's facts, or `None` when the id was never issued, the session ended or it
/// was quiet for longer than [`IDLE_MS`] (then it is removed). Notes the activity.
pub fn facts(id: &str) -> Result<Option<SessionFacts>, ApiError> {
    if marcus_core::names::check_name("session id", id).is_err() {
        return Ok(None);
    }
    let doc = match read_ahead::take_document(COLLECTION, id) {
        Some(doc) => doc,
        None => crate::platform::current()
            .get(COLLECTION, id)
            .map_err(to_api)?,
    };
    let Some(doc) = doc else {
        return Ok(None);
    };
    let Ok(mut record) = serde_json::from_str::<SessionRecord>(&doc.data) else {
        return Ok(None);
    };
    let now = ids::now_ms();
    let quiet = record.quiet_for(now);
    if quiet > IDLE_MS {
        let _ = crate::platform::current().delete(COLLECTION, id, Some(doc.version));
        return Ok(None);
    }
    if quiet > ACTIVITY_GRANULARITY_MS {
        record.last_active = now;
        // Best effort: a concurrent request of the session notes the same activity.
        if let Ok(change) = Change::update(COLLECTION, id, &record, doc.version) {
            let _ = crate::unit_of_work::commit(vec![change]);
        }
    }
    Ok(Some(SessionFacts {
        protocol: record.protocol_version,
        project_id: record.project_id,
        agent_id: record.agent_id,
        taken_over: record.taken_over,
    }))
}

/// Changes the stored session with `edit`, retrying lost races; `false` when the session
/// is gone.
pub fn update(id: &str, mut edit: impl FnMut(&mut SessionRecord)) -> Result<bool, BoardError> {
    for _ in 0..5 {
        let Some(mut session) = records::get::<SessionRecord>(COLLECTION, id)? else {
            return Ok(false);
        };
        edit(&mut session.value);
        let change = Change::update(COLLECTION, id, &session.value, session.version)?;
        match crate::unit_of_work::commit(vec![change]) {
            Ok(()) => return Ok(true),
            Err(BoardError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(BoardError::Conflict(
        "the session changed concurrently; try again".into(),
    ))
}

/// The sessions bound to `agent_id`, with their storage versions.
pub fn bound_to(agent_id: &str) -> Result<Vec<(String, u64, SessionRecord)>, ApiError> {
    stored(&[("agent_id", Value::String(agent_id.to_string()))])
}

/// Removes every session quiet for longer than [`IDLE_MS`]; answers how many.
pub fn forget_idle(now: u64) -> Result<usize, ApiError> {
    let mut forgotten = 0;
    for (id, version, record) in stored(&[])? {
        if record.quiet_for(now) > IDLE_MS
            && crate::platform::current()
                .delete(COLLECTION, &id, Some(version))
                .unwrap_or(false)
        {
            forgotten += 1;
        }
    }
    Ok(forgotten)
}

/// Every stored session matching `filters`, as (id, version, record), page by page.
fn stored(filters: &[(&str, Value)]) -> Result<Vec<(String, u64, SessionRecord)>, ApiError> {
    let filters = read_ahead::field_filters(filters);
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = crate::platform::current()
            .query(COLLECTION, &filters, read_ahead::PAGE, cursor.as_deref())
            .map_err(to_api)?;
        out.extend(page.documents.into_iter().filter_map(|d| {
            let record = serde_json::from_str(&d.data).ok()?;
            Some((d.id, d.version, record))
        }));
        match page.next_cursor {
            Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
            _ => return Ok(out),
        }
    }
}

/// Reads the session together with the records a tool call names in its arguments (its
/// agent, task and project), in one platform call: the call's own reads of them then cross
/// nothing. A failed read ahead is left to those reads to report.
pub fn read_ahead(id: &str, method: &str, params: &Value) {
    if marcus_core::names::check_name("session id", id).is_err() {
        return;
    }
    let mut reads = vec![read_ahead::get(COLLECTION, id)];
    if method == "tools/call"
        && let Some(Value::Object(args)) = params.get("arguments")
    {
        for (argument, collection) in [
            ("agent_id", collections::AGENTS),
            ("task_id", collections::TASKS),
            ("project_id", collections::PROJECTS),
        ] {
            if let Some(Value::String(named)) = args.get(argument)
                && marcus_core::names::check_name("id", named).is_ok()
            {
                reads.push(read_ahead::get(collection, named));
            }
        }
    }
    let _ = read_ahead::read(reads);
}

/// Ends a session; unknown ids are a 404.
pub fn end(id: &str) -> Result<(), ApiError> {
    marcus_core::names::check_name("session id", id)?;
    if crate::platform::current()
        .delete(COLLECTION, id, None)
        .map_err(to_api)?
    {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("MCP session {id} is unknown")))
    }
}
