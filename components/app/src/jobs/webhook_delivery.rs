//! Delivers one event to one webhook subscription: signs the body, POSTs it, records the
//! attempt in the delivery log. A non-2xx answer or a transport error fails the job, so the
//! runner retries it with backoff until the subscription's attempts run out.

use crate::ids::now_ms;
use crate::outbound_http;
use crate::records::{self, Change, collections};
use marcus_core::jobs::Job;
use marcus_core::webhooks::{Attempt, Delivery, Webhook, delivery, signature};
use serde_json::{Value, json};
use std::time::Duration;

/// The job kind.
pub const KIND: &str = crate::webhook_fanout::DELIVERY_JOB;
/// How long a receiver has to connect and to answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Runs one delivery attempt.
pub fn run(job: &Job) -> Result<Value, String> {
    let field = |name: &str| {
        job.payload
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("job payload lacks {name}"))
    };
    let webhook_id = field("webhook_id")?;
    let event_id = field("event_id")?;
    let Some(hook) =
        records::get::<Webhook>(collections::WEBHOOKS, &webhook_id).map_err(|e| e.message)?
    else {
        return Ok(json!({"skipped": "the subscription was deleted"}));
    };
    let Some(event) =
        records::get::<Value>(collections::EVENTS, &event_id).map_err(|e| e.message)?
    else {
        return Ok(json!({"skipped": "the event is no longer in the log"}));
    };
    let body = delivery::body(&job.id, &event.value);
    let started = now_ms();
    let timestamp = started / 1000;
    let headers = [
        ("content-type", "application/json".to_string()),
        (
            "user-agent",
            concat!("Marcus-Webhooks/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
        ("webhook-id", job.id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            signature::sign(&hook.value.secret, &job.id, timestamp, &body),
        ),
    ];
    let answer = outbound_http::post(&hook.value.url, &headers, &body, TIMEOUT);
    let attempt = Attempt {
        attempt: job.attempts,
        at: started,
        status_code: answer.as_ref().ok().map(|a| a.status),
        error: answer
            .as_ref()
            .err()
            .map(|class| class.as_str().to_string()),
        duration_ms: now_ms().saturating_sub(started),
    };
    let failure = attempt.failure();
    record(job, &hook.value, &event.value, attempt).map_err(|e| e.message)?;
    match failure {
        None => Ok(json!({"delivered": true, "status_code": answer.ok().map(|a| a.status)})),
        Some(why) => Err(why),
    }
}

/// Appends the attempt to the delivery log (creating the record if it is missing).
fn record(
    job: &Job,
    hook: &Webhook,
    event: &Value,
    attempt: Attempt,
) -> Result<(), marcus_core::api_error::ApiError> {
    let last_allowed = job.attempts >= job.max_attempts;
    let existing = records::get::<Delivery>(collections::WEBHOOK_DELIVERIES, &job.id)?;
    let version = existing.as_ref().map(|v| v.version);
    let mut log = match existing {
        Some(v) => v.value,
        None => Delivery::pending(
            &job.id,
            &hook.id,
            &hook.project_id,
            event.get("id").and_then(Value::as_str).unwrap_or(""),
            event.get("kind").and_then(Value::as_str).unwrap_or(""),
            attempt.at,
        ),
    };
    log.record(attempt, last_allowed);
    let change = match version {
        Some(v) => Change::update(collections::WEBHOOK_DELIVERIES, &log.id, &log, v)?,
        None => Change::create(collections::WEBHOOK_DELIVERIES, &log.id, &log)?,
    };
    Ok(crate::unit_of_work::commit(vec![change])?)
}
