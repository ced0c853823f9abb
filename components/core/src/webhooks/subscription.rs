//! A webhook subscription: where a project's events go and which kinds of them.

use super::destination::{self, AllowList};
use crate::api_error::ApiError;
use serde::{Deserialize, Serialize};

/// Event kinds a subscription may name (`*` takes them all).
pub const EVENT_KINDS: &[&str] = &[
    "project_created",
    "tasks_created",
    "agent_registered",
    "task_assigned",
    "task_progress",
    "task_completed",
    "task_blocked",
    "blocker_resolved",
    "task_unassigned",
    "lease_expired",
    "decision_logged",
    "artifact_logged",
];

/// Attempts per delivery unless the subscription says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// Most attempts a subscription may ask for (with the backoff cap, about half a day).
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;
/// Longest accepted URL.
const MAX_URL_LEN: usize = 2_048;

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// Id (`wh_...`).
    pub id: String,
    /// The project whose events it receives.
    pub project_id: String,
    /// Where deliveries are POSTed (http or https).
    pub url: String,
    /// Event kinds delivered; `["*"]` for all.
    pub events: Vec<String>,
    /// The signing secret (`whsec_...`); shown once, at creation.
    pub secret: String,
    /// Attempts per delivery before it is dead-lettered.
    pub max_attempts: u32,
    /// Created at (ms).
    pub created_at: u64,
}

impl Webhook {
    /// Whether an event of `kind` goes to this subscription.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == kind)
    }

    /// The subscription as listed: everything but the secret.
    pub fn public_view(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "project_id": self.project_id,
            "url": self.url,
            "events": self.events,
            "max_attempts": self.max_attempts,
            "created_at": self.created_at,
        })
    }
}

/// The body of `POST /api/projects/{id}/webhooks`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Receiver URL.
    pub url: String,
    /// Event kinds; omitted means all.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// A secret of the caller's choosing (at least 16 characters); omitted means generated.
    #[serde(default)]
    pub secret: Option<String>,
    /// Attempts per delivery (1..=20).
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

impl NewWebhook {
    /// Checks the request and builds the subscription; `generated_secret` is used when the
    /// caller brought none, `allow` is the operator's list of non-public destinations.
    pub fn into_webhook(
        self,
        id: String,
        project_id: &str,
        generated_secret: String,
        now: u64,
        allow: &AllowList,
    ) -> Result<Webhook, ApiError> {
        check_url(&self.url)?;
        destination::check_url_host(&self.url, allow)?;
        let events = self.events.unwrap_or_else(|| vec!["*".to_string()]);
        if events.is_empty() {
            return Err(ApiError::invalid(
                "events is empty; name event kinds or leave it out for all of them",
            ));
        }
        for e in &events {
            if e != "*" && !EVENT_KINDS.contains(&e.as_str()) {
                return Err(ApiError::invalid(format!(
                    "unknown event kind {e:?}; kinds: *, {}",
                    EVENT_KINDS.join(", ")
                )));
            }
        }
        let max_attempts = self.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if !(1..=MAX_ATTEMPTS_LIMIT).contains(&max_attempts) {
            return Err(ApiError::invalid(format!(
                "max_attempts must be 1 to {MAX_ATTEMPTS_LIMIT}, got {max_attempts}"
            )));
        }
        let secret = match self.secret {
            Some(s) if s.chars().count() < 16 || s.chars().count() > 200 => {
                return Err(ApiError::invalid("secret must be 16 to 200 characters"));
            }
            Some(s) => s,
            None => generated_secret,
        };
        Ok(Webhook {
            id,
            project_id: project_id.to_string(),
            url: self.url,
            events,
            secret,
            max_attempts,
            created_at: now,
        })
    }
}

/// A receiver URL: absolute http(s) with a host, no credentials, no fragment.
pub fn check_url(url: &str) -> Result<(), ApiError> {
    let bad = |why: &str| Err(ApiError::invalid(format!("url {url:?} {why}")));
    if url.len() > MAX_URL_LEN {
        return bad("is too long");
    }
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        r
    } else {
        return bad("must start with http:// or https://");
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.is_empty() {
        return bad("has no host");
    }
    if authority.contains('@') {
        return bad("must not carry credentials; use the signature to authenticate");
    }
    if url.contains('#') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain a fragment, spaces or control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn new(v: serde_json::Value) -> Result<Webhook, ApiError> {
        serde_json::from_value::<NewWebhook>(v)
            .map_err(|e| ApiError::bad_request(e.to_string()))?
            .into_webhook(
                "wh_1".into(),
                "p1",
                "whsec_gen".into(),
                5,
                &AllowList::parse("127.0.0.1").unwrap(),
            )
    }

    #[test]
    fn defaults_take_every_event_with_a_generated_secret() {
        let w = new(json!({"url": "http://127.0.0.1:9/hook"})).unwrap();
        assert_eq!(w.events, vec!["*"]);
        assert_eq!(w.secret, "whsec_gen");
        assert_eq!(w.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert!(w.wants("task_completed") && w.wants("lease_expired"));
        assert!(w.public_view().get("secret").is_none());
    }

    #[test]
    fn named_kinds_filter_events() {
        let w = new(json!({"url": "https://x.example/h", "events": ["task_completed"]})).unwrap();
        assert!(w.wants("task_completed"));
        assert!(!w.wants("task_assigned"));
    }

    #[test]
    fn bad_subscriptions_are_refused_with_reasons() {
        for (body, says) in [
            (json!({"url": "ftp://x/h"}), "http://"),
            (json!({"url": "http:///h"}), "no host"),
            (json!({"url": "http://u:p@x/h"}), "credentials"),
            (json!({"url": "http://x/h", "events": []}), "empty"),
            (
                json!({"url": "http://x/h", "events": ["task_done"]}),
                "unknown event kind",
            ),
            (
                json!({"url": "http://x/h", "max_attempts": 0}),
                "max_attempts",
            ),
            (json!({"url": "http://x/h", "secret": "short"}), "secret"),
            (json!({"url": "http://10.0.0.1/h"}), "private"),
            (json!({"url": "http://localhost/h"}), "this machine"),
            (
                json!({"url": "http://x/h", "colour": "red"}),
                "unknown field",
            ),
        ] {
            let e = new(body.clone()).unwrap_err();
            assert!(e.message.contains(says), "{body}: {}", e.message);
            assert_eq!(e.status, 400);
        }
    }
}
