//! One audit record as it is written: who did what to which thing, through which request,
//! with what outcome. Its canonical JSON is the body the chain hashes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a recorded action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The change was made.
    Success,
    /// The change was attempted and failed (bad input, a conflict, an error).
    Failure,
    /// The caller was not allowed: missing or bad credentials, or a role without the right.
    Denied,
}

impl Outcome {
    /// The outcome's name, as stored and filtered on.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    /// The outcome named `name`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            "denied" => Ok(Outcome::Denied),
            other => Err(format!(
                "unknown outcome {other:?}: success, failure or denied"
            )),
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Actor {
    /// `user`, `agent`, `service`, or `anonymous` when no credentials were verified.
    pub kind: String,
    /// The principal's subject: a token's name, a person's user name, `local`.
    pub id: String,
    /// A display name, when one is known apart from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How the actor was verified: `token`, `oidc`, `session`, `local`, `unverified`, `none`.
    pub verified_by: String,
    /// The credential used (a token's id), so a leaked token's every use can be listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
}

/// What was acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Target {
    /// `task`, `project`, `agent`, `token`, `tenant`, `user`, a collection's name…
    pub kind: String,
    /// Its id.
    pub id: String,
}

impl Target {
    /// `kind/id`, the form stored for filtering.
    pub fn key(&self) -> String {
        if self.kind.is_empty() && self.id.is_empty() {
            String::new()
        } else {
            format!("{}/{}", self.kind, self.id)
        }
    }
}

/// The request that made the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestInfo {
    /// The request id the response carried (`x-request-id`).
    #[serde(default)]
    pub id: String,
    /// The client's address.
    #[serde(default)]
    pub client: String,
    /// The client's `User-Agent`.
    #[serde(default)]
    pub user_agent: String,
    /// HTTP method (or the command, for changes made from the command line).
    #[serde(default)]
    pub method: String,
    /// The path asked for.
    #[serde(default)]
    pub path: String,
}

/// One record's content, before the chain places it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Unique id, for deduplication downstream (a SIEM receives a record at least once).
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    /// The tenant whose chain holds it.
    pub tenant: String,
    /// Who acted.
    pub actor: Actor,
    /// What was done, dotted: `task.claim`, `auth.login.failed`, `token.create`.
    pub action: String,
    /// How it ended.
    pub outcome: Outcome,
    /// What it was done to.
    pub target: Target,
    /// The request it came in.
    pub request: RequestInfo,
    /// Anything else worth keeping; secrets replaced by their HMAC (see [`super::redact`]).
    #[serde(default)]
    pub details: Value,
}

impl Entry {
    /// The canonical JSON the chain hashes and the store keeps: keys sorted, no spaces.
    pub fn body(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        crate::store::canonical::canonical_json(&text)
    }

    /// The entry a stored body holds.
    pub fn from_body(body: &str) -> Result<Self, String> {
        serde_json::from_str(body).map_err(|e| format!("the record's body does not parse: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_canonical_and_reads_back() {
        let e = Entry {
            id: "r1".into(),
            at: 5,
            tenant: "acme".into(),
            actor: Actor {
                kind: "agent".into(),
                id: "a1".into(),
                name: None,
                verified_by: "token".into(),
                token_id: Some("t1".into()),
            },
            action: "task.claim".into(),
            outcome: Outcome::Success,
            target: Target {
                kind: "task".into(),
                id: "T-1".into(),
            },
            request: RequestInfo::default(),
            details: serde_json::json!({"z": 1, "a": 2}),
        };
        let body = e.body();
        assert!(
            body.starts_with(r#"{"action":"task.claim","actor":{"id":"a1""#),
            "{body}"
        );
        assert!(body.contains(r#""details":{"a":2,"z":1}"#), "{body}");
        assert_eq!(Entry::from_body(&body).unwrap(), e);
        assert_eq!(e.target.key(), "task/T-1");
        assert_eq!(Outcome::parse("denied").unwrap(), Outcome::Denied);
        assert!(Outcome::parse("ok").is_err());
    }
}
