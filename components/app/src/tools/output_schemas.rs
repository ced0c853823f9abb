//! The JSON Schema of each tool's structured result, for `tools/list`: the fields clients
//! can rely on and their types. Every result (and every tool error) carries `success`.

use serde_json::{Map, Value, json};

const S: &str = "string";
const I: &str = "integer";
const B: &str = "boolean";
const O: &str = "object";
const A: &str = "array";

/// `(field, JSON type or [types])` pairs of a tool's result.
fn fields(tool: &str) -> Vec<(&'static str, Value)> {
    let t = |ty: &str| json!(ty);
    let maybe = |ty: &str| json!([ty, "null"]);
    match tool {
        "ping" => vec![
            ("status", t(S)),
            ("service", t(S)),
            ("version", t(S)),
            ("echo", t(S)),
            ("timestamp", t(I)),
        ],
        "register_agent" => vec![("message", t(S)), ("agent_id", t(S)), ("agent", t(O))],
        "request_next_task" => vec![
            ("task", maybe(O)),
            ("lease_token", maybe(I)),
            ("lease_expires_at", maybe(I)),
            ("already_assigned", t(B)),
            ("recovery_note", maybe(S)),
            ("retry_after_seconds", t(I)),
            ("retry_reason", t(S)),
        ],
        "report_task_progress" => vec![
            ("message", t(S)),
            ("task_id", t(S)),
            ("status", t(S)),
            ("progress", t(I)),
            ("lease_expires_at", maybe(I)),
        ],
        "report_blocker" => vec![
            ("message", t(S)),
            ("blocker_id", t(S)),
            ("task_id", t(S)),
            ("blocker", t(O)),
        ],
        "resolve_blocker" => vec![
            ("message", t(S)),
            ("task_id", t(S)),
            ("task_status", t(S)),
            ("resolved_blockers", t(A)),
        ],
        "get_task_context" => vec![("context", t(O))],
        "log_decision" => vec![("decision_id", t(S)), ("decision", t(O))],
        "log_artifact" => vec![
            ("artifact_id", t(S)),
            ("filename", t(S)),
            ("artifact_type", t(S)),
            ("size_bytes", t(I)),
            ("location", t(S)),
        ],
        "create_project" => vec![
            ("project_id", t(S)),
            ("project", t(O)),
            ("tasks_created", t(I)),
            ("tasks", t(A)),
        ],
        "create_tasks" => vec![
            ("project_id", t(S)),
            ("tasks_created", t(I)),
            ("tasks", t(A)),
        ],
        "get_project_status" => vec![("project_id", t(S)), ("project", t(O)), ("status", t(O))],
        "list_projects" => vec![("projects", t(A)), ("count", t(I))],
        "select_project" => vec![
            ("project_id", t(S)),
            ("project", t(O)),
            ("selected_for_session", t(B)),
            ("selected_for_agent", t(B)),
        ],
        "get_agent_status" => vec![("agent", t(O)), ("current_task", maybe(O))],
        "list_registered_agents" => vec![("agents", t(A)), ("count", t(I))],
        "get_all_board_tasks" => vec![("project_id", t(S)), ("tasks", t(A)), ("count", t(I))],
        "check_task_dependencies" => vec![
            ("task_id", t(S)),
            ("task_name", t(S)),
            ("all_dependencies_done", t(B)),
            ("completed_dependencies", t(A)),
            ("pending_dependencies", t(A)),
            ("dependents", t(A)),
        ],
        "unassign_task" => vec![
            ("message", t(S)),
            ("task_id", t(S)),
            ("previous_holder", maybe(S)),
            ("status", t(S)),
        ],
        "check_board_health" => vec![("project_id", t(S)), ("health", t(O))],
        "get_optimal_agent_count" => vec![("project_id", t(S)), ("analysis", t(O))],
        _ => vec![],
    }
}

/// The output schema of `tool`.
pub fn of(tool: &str) -> Value {
    let mut properties = Map::new();
    properties.insert("success".into(), json!({"type": B}));
    properties.insert(
        "error".into(),
        json!({"type": S, "description": "Set when success is false"}),
    );
    properties.insert("error_code".into(), json!({"type": S}));
    for (name, ty) in fields(tool) {
        properties.insert(name.into(), json!({"type": ty}));
    }
    json!({"type": O, "properties": properties, "required": ["success"], "additionalProperties": true})
}
