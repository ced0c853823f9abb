//! The request (or command) a record is made in: its id, client, user agent, method and
//! path, the change the app named for it, and whether a record was written for it yet. Kept
//! in a task-local, so every layer serving the request (host routes, the app's platform
//! calls, the server's last look at the answer) records into the same one without handing
//! it down.

use marcus_core::audit::{Outcome, RequestInfo, Target};
use rand::RngCore;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::Action;
use marcus_identity::principal::Principal;

/// One request's audit state.
#[derive(Debug, Default)]
pub struct RequestAudit {
    /// The request as records show it.
    pub info: RequestInfo,
    principal: Mutex<Option<Principal>>,
    declared: Mutex<Option<Action>>,
    recorded: AtomicU32,
}

tokio::task_local! {
    static CURRENT: Arc<RequestAudit>;
}

impl RequestAudit {
    /// The state of a request described by `info`.
    pub fn new(info: RequestInfo) -> Arc<Self> {
        Arc::new(Self {
            info,
            ..Default::default()
        })
    }

    /// Runs `work` as this request: records made inside it carry this request.
    pub async fn run<F: Future>(self: Arc<Self>, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }

    /// Who the request turned out to be, once its credentials were verified.
    pub fn set_principal(&self, principal: Option<Principal>) {
        if let Ok(mut p) = self.principal.lock() {
            *p = principal;
        }
    }

    /// Who the request is (none: no credentials verified).
    pub fn principal(&self) -> Option<Principal> {
        self.principal.lock().ok().and_then(|p| p.clone())
    }

    /// The tenant whose chain the request's own records go to: its principal's, else the
    /// server scope's (a request nobody could be verified for belongs to no tenant).
    pub fn tenant(&self) -> String {
        self.principal()
            .map(|p| p.tenant)
            .unwrap_or_else(|| marcus_identity::tenant::SERVER_SCOPE.to_string())
    }

    /// The change the app named for the request's following writes.
    pub fn declare(&self, action: Action) {
        if let Ok(mut d) = self.declared.lock() {
            *d = Some(action);
        }
    }

    /// The change named last, if any.
    pub fn declared(&self) -> Option<Action> {
        self.declared.lock().ok().and_then(|d| d.clone())
    }

    /// How many records were written for the request.
    pub fn records(&self) -> u32 {
        self.recorded.load(Ordering::Relaxed)
    }

    /// The record a request that ended with `status` and wrote no record still owes: a
    /// refusal (401, 403) on any request, a failure of a request that meant to change
    /// something. None for success, for rate limiting (recording each refused request
    /// would let a flood write as fast as it sends) and for server errors.
    pub fn owed(&self, status: u16, changes_state: bool) -> Option<Action> {
        if self.records() > 0 || status < 400 || status == 429 || status >= 500 {
            return None;
        }
        let outcome = match status {
            401 | 403 => Outcome::Denied,
            _ if changes_state => Outcome::Failure,
            _ => return None,
        };
        let fallback = match status {
            401 => "auth.unauthorized",
            403 => "auth.forbidden",
            _ => "request.refused",
        };
        let action = self.declared().unwrap_or_else(|| Action {
            name: fallback.to_string(),
            outcome,
            target: Target {
                kind: "path".into(),
                id: self.info.path.clone(),
            },
            details: serde_json::Value::Null,
        });
        let mut details = match action.details {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        details.insert("status".into(), status.into());
        Some(Action {
            outcome,
            details: details.into(),
            ..action
        })
    }
}

/// The state of a command run from a terminal (`marcus token create …`): the operator at
/// the keyboard of the data directory (or holding `DATABASE_URL`) is the actor.
pub fn command(words: &[String]) -> Arc<RequestAudit> {
    let path: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .take_while(|w| !w.starts_with('-'))
        .take(4)
        .collect();
    let r = RequestAudit::new(RequestInfo {
        id: record_id(),
        client: "local".into(),
        user_agent: format!("marcus/{}", env!("CARGO_PKG_VERSION")),
        method: "CLI".into(),
        path: path.join(" "),
    });
    r.set_principal(Some(Principal::local_admin()));
    r
}

/// The request being served by this task, if any.
pub fn current() -> Option<Arc<RequestAudit>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Counts a record written for the current request.
pub fn note_recorded() {
    if let Some(r) = current() {
        r.recorded.fetch_add(1, Ordering::Relaxed);
    }
}

/// A new record id: 128 random bits in hex.
pub fn record_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    marcus_core::audit::chain::hex(&bytes)
}

/// A key for details' HMAC in a process that installed no audit keys.
pub fn process_key() -> [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    *KEY.get_or_init(|| {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        k
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_owes_a_record_only_for_refusals_and_failed_changes() {
        let r = RequestAudit::new(RequestInfo {
            path: "/api/x".into(),
            ..Default::default()
        });
        assert!(r.owed(200, true).is_none());
        assert!(r.owed(404, false).is_none());
        assert!(r.owed(429, true).is_none());
        assert!(r.owed(503, true).is_none());
        let denied = r.owed(403, false).unwrap();
        assert_eq!(
            (denied.name.as_str(), denied.outcome),
            ("auth.forbidden", Outcome::Denied)
        );
        assert_eq!(denied.details["status"], 403);
        r.declare(Action::success("task.claim", "agent", "a1"));
        let failed = r.owed(409, true).unwrap();
        assert_eq!(
            (failed.name.as_str(), failed.outcome),
            ("task.claim", Outcome::Failure)
        );
        r.recorded.fetch_add(1, Ordering::Relaxed);
        assert!(r.owed(403, true).is_none());
    }
}
