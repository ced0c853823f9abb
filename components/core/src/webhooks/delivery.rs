//! The delivery log: one record per (event, subscription) with every attempt, so people can
//! see what a receiver got, when, and what it answered.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One try at delivering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1 for the first try.
    pub attempt: u32,
    /// When it started (ms).
    pub at: u64,
    /// The receiver's HTTP status, if it answered.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Why it did not answer: a [`FailureClass`] name, never the transport's own error text
    /// (which would tell open ports from closed ones on networks the caller cannot see).
    #[serde(default)]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
}

impl Attempt {
    /// Whether the receiver accepted the delivery (any 2xx).
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }

    /// The failure in words, for the job's last error.
    pub fn failure(&self) -> Option<String> {
        match (self.status_code, &self.error) {
            (Some(s), _) if (200..300).contains(&s) => None,
            (Some(s), _) => Some(format!("receiver answered HTTP {s}")),
            (None, Some(e)) => Some(format!("receiver unreachable: {e}")),
            (None, None) => Some("no answer".to_string()),
        }
    }
}

/// Why a delivery got no HTTP answer, as recorded in the delivery log and the job's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The destination is not public and the operator's allow-list does not name it.
    DestinationRefused,
    /// No connection (unknown name, refused, reset, unreachable, not HTTP).
    ConnectionFailed,
    /// No connection or no answer within the delivery timeout.
    Timeout,
    /// The TLS handshake or the receiver's certificate failed.
    TlsFailed,
}

impl FailureClass {
    /// The class's name in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DestinationRefused => "destination_refused",
            Self::ConnectionFailed => "connection_failed",
            Self::Timeout => "timeout",
            Self::TlsFailed => "tls_failed",
        }
    }
}

/// One event on its way to one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The delivery id, also the job id and the `webhook-id` header receivers dedupe on.
    pub id: String,
    /// The subscription.
    pub webhook_id: String,
    /// Its project.
    pub project_id: String,
    /// The event delivered.
    pub event_id: String,
    /// The event's kind.
    pub event_kind: String,
    /// `pending`, `delivered`, `retrying` or `dead`.
    pub status: String,
    /// Every attempt so far, oldest first.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// Created at (ms).
    pub created_at: u64,
    /// Last change (ms).
    pub updated_at: u64,
}

impl Delivery {
    /// A delivery not yet tried.
    pub fn pending(
        id: &str,
        webhook_id: &str,
        project_id: &str,
        event_id: &str,
        event_kind: &str,
        now: u64,
    ) -> Self {
        Self {
            id: id.to_string(),
            webhook_id: webhook_id.to_string(),
            project_id: project_id.to_string(),
            event_id: event_id.to_string(),
            event_kind: event_kind.to_string(),
            status: "pending".to_string(),
            attempts: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Records `attempt`; `last_allowed` says whether a failure ends the delivery.
    pub fn record(&mut self, attempt: Attempt, last_allowed: bool) {
        self.status = if attempt.succeeded() {
            "delivered"
        } else if last_allowed {
            "dead"
        } else {
            "retrying"
        }
        .to_string();
        self.updated_at = attempt.at + attempt.duration_ms;
        self.attempts.push(attempt);
    }
}

/// The JSON body POSTed to receivers: the envelope names the delivery and the event kind,
/// `data` is the board event as stored.
pub fn body(delivery_id: &str, event: &Value) -> Vec<u8> {
    let envelope = json!({
        "id": delivery_id,
        "type": event.get("kind").cloned().unwrap_or(Value::Null),
        "timestamp": event.get("timestamp").cloned().unwrap_or(Value::Null),
        "data": event,
    });
    serde_json::to_vec(&envelope).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(n: u32, status: Option<u16>, error: Option<&str>) -> Attempt {
        Attempt {
            attempt: n,
            at: 100 * u64::from(n),
            status_code: status,
            error: error.map(str::to_string),
            duration_ms: 5,
        }
    }

    #[test]
    fn attempts_move_a_delivery_to_delivered_retrying_or_dead() {
        let mut d = Delivery::pending("dlv-1", "wh-1", "p1", "evt-1", "task_completed", 0);
        d.record(attempt(1, Some(500), None), false);
        assert_eq!(d.status, "retrying");
        assert_eq!(
            d.attempts[0].failure().unwrap(),
            "receiver answered HTTP 500"
        );
        let refused = FailureClass::DestinationRefused.as_str();
        d.record(attempt(2, None, Some(refused)), false);
        assert_eq!(
            d.attempts[1].failure().unwrap(),
            "receiver unreachable: destination_refused"
        );
        d.record(attempt(3, Some(204), None), false);
        assert_eq!(d.status, "delivered");
        assert_eq!(d.attempts.len(), 3);
        let mut dead = Delivery::pending("dlv-2", "wh-1", "p1", "evt-1", "task_completed", 0);
        dead.record(attempt(1, Some(410), None), true);
        assert_eq!(dead.status, "dead");
    }

    #[test]
    fn the_body_wraps_the_event() {
        let event = json!({"id": "evt-1", "kind": "task_completed", "timestamp": 7});
        let v: Value = serde_json::from_slice(&body("dlv-1", &event)).unwrap();
        assert_eq!(v["id"], "dlv-1");
        assert_eq!(v["type"], "task_completed");
        assert_eq!(v["data"]["id"], "evt-1");
    }
}
