//! Turns recorded events into webhook deliveries: for every event written in a change, one
//! queued delivery job (and its log record) per subscription of the event's project that
//! wants its kind. They join the event's own atomic change, so a recorded event always has
//! its deliveries, and a failed change has none.

use crate::bindings::storage::Read;
use crate::events::BoardEvent;
use crate::ids;
use crate::read_ahead;
use crate::records::{self, Change, collections};
use marcus_core::api_error::ApiError;
use marcus_core::jobs::Job;
use marcus_core::webhooks::{Delivery, Webhook};
use serde_json::json;
use std::collections::BTreeMap;

/// The job kind that delivers one event to one subscription.
pub const DELIVERY_JOB: &str = marcus_core::jobs::kinds::WEBHOOK_DELIVERY;

/// The subscriptions of a project are found by this filter.
fn by_project(project: &str) -> [(&'static str, serde_json::Value); 1] {
    [("project_id", json!(project))]
}

/// The read of `project`'s subscriptions, for an operation to read ahead with what it reads
/// before it writes (a write with events reads them to queue its deliveries).
pub fn subscriptions_read(project: &str) -> Read {
    read_ahead::query(collections::WEBHOOKS, &by_project(project))
}

/// The delivery jobs and log records owed for `events`.
pub fn deliveries_for(events: &[BoardEvent]) -> Result<Vec<Change>, ApiError> {
    let mut subscriptions: BTreeMap<String, Vec<Webhook>> = BTreeMap::new();
    let mut changes = Vec::new();
    let now = ids::now_ms();
    for event in events {
        let Some(project) = &event.project_id else {
            continue;
        };
        if !subscriptions.contains_key(project) {
            let found = records::query_all::<Webhook>(collections::WEBHOOKS, &by_project(project))?;
            subscriptions.insert(
                project.clone(),
                found.into_iter().map(|v| v.value).collect(),
            );
        }
        for hook in &subscriptions[project] {
            if !hook.wants(&event.kind) {
                continue;
            }
            let id = ids::new_id("dlv");
            let mut job = Job::new(
                id.clone(),
                DELIVERY_JOB,
                json!({"webhook_id": hook.id, "event_id": event.id}),
                hook.max_attempts,
                now,
            );
            job.project_id = Some(project.clone());
            let delivery = Delivery::pending(&id, &hook.id, project, &event.id, &event.kind, now);
            changes.push(Change::create(collections::JOBS, &id, &job)?);
            changes.push(Change::create(
                collections::WEBHOOK_DELIVERIES,
                &id,
                &delivery,
            )?);
        }
    }
    Ok(changes)
}
