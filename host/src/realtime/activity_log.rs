//! Agent activity in the server log: one info line per registration, claim, completion,
//! blocker and lapsed lease, written by the host that published the board event, so an
//! operator following the log sees who works on what without opening the dashboard.

use serde::Deserialize;

/// The fields of a board event the log line names.
#[derive(Deserialize)]
struct Activity {
    kind: String,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    task_id: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    data: serde_json::Value,
}

/// Logs the board event `payload` published on `channel` (a tenant's channel, as the host
/// names it) when it is agent activity. Agent events go out on `agents` as well as their
/// project's channel; only the `agents` copy is logged, so each event makes one line.
pub fn record(channel: &str, payload: &str) {
    let Some((tenant, "agents")) = marcus_identity::tenant::split_scoped(channel) else {
        return;
    };
    let Ok(event) = serde_json::from_str::<Activity>(payload) else {
        return;
    };
    let what = match event.kind.as_str() {
        "agent_registered" => "agent registered",
        "task_assigned" => "task claimed",
        "task_completed" => "task completed",
        "task_blocked" => "task blocked",
        "lease_expired" => "lease expired",
        "task_unassigned" => "task unassigned",
        _ => return,
    };
    let agent = event.agent_id.as_deref().unwrap_or("-");
    let task = event.task_id.as_deref().unwrap_or("-");
    let project = event.project_id.as_deref().unwrap_or("-");
    let name = event
        .data
        .get("name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    tracing::info!(tenant, agent, task, project, name, "{what}");
}
