//! `marcus:platform/audit`: the app names the change its request's writes make, or tells
//! that the change was refused; the host keeps the name for the records it writes with
//! those writes, and records a refusal on its own.

use super::PlatformView;
use super::bindings::marcus::platform::audit as wit;
use crate::audit::{Action, request};
use marcus_core::audit::{Outcome, Target};

/// The details the app gave, when they are a JSON object; anything else is kept as text.
fn details(text: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        Ok(serde_json::Value::Null) | Err(_) if text.trim().is_empty() => serde_json::Value::Null,
        _ => serde_json::json!({ "text": text }),
    }
}

impl wit::Host for PlatformView {
    async fn begin(&mut self, action: String, target_kind: String, target_id: String, d: String) {
        // Not a counted platform call: it touches no backend.
        if let Some(r) = request::current() {
            r.declare(Action {
                name: action,
                outcome: Outcome::Success,
                target: Target {
                    kind: target_kind,
                    id: target_id,
                },
                details: details(&d),
            });
        }
    }

    async fn refused(&mut self, refusal: wit::Refusal, reason: String) {
        self.record_call("audit", "refused");
        let Ok(tenant) = self.tenant() else {
            // No tenant: the host records the refusal when it sees the answer.
            return;
        };
        let outcome = match refusal {
            wit::Refusal::Failure => Outcome::Failure,
            wit::Refusal::Denied => Outcome::Denied,
        };
        let declared = request::current().and_then(|r| r.declared());
        let mut action = declared.unwrap_or_else(|| Action {
            name: "request.refused".into(),
            outcome,
            target: Target::default(),
            details: serde_json::Value::Null,
        });
        let mut map = match action.details {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        map.insert("reason".into(), reason.into());
        action.details = map.into();
        action.outcome = outcome;
        crate::audit::record(
            &*self.platform.storage,
            &tenant,
            self.principal.as_ref(),
            action,
        )
        .await;
    }
}
