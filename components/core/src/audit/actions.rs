//! The audit action each board tool's call records, and the argument naming its target.
//! Read-only tools record nothing; a tool missing here records `tool.<name>`.

/// `(tool, action, target kind, argument holding the target's id)`.
const TOOL_ACTIONS: &[(&str, &str, &str, &str)] = &[
    ("register_agent", "agent.register", "agent", "agent_id"),
    ("request_next_task", "task.claim", "agent", "agent_id"),
    ("report_task_progress", "task.progress", "task", "task_id"),
    ("report_blocker", "task.blocker.report", "task", "task_id"),
    ("resolve_blocker", "task.blocker.resolve", "task", "task_id"),
    ("unassign_task", "task.unassign", "task", "task_id"),
    ("log_decision", "task.decision", "task", "task_id"),
    ("log_artifact", "task.artifact", "task", "task_id"),
    (
        "create_project",
        "project.create",
        "project",
        "project_name",
    ),
    ("create_tasks", "task.create", "project", "project_id"),
    ("select_project", "project.select", "project", "project_id"),
];

/// The action a call of `tool` records, its target's kind, and the argument naming it.
pub fn for_tool(tool: &str) -> (String, &'static str, &'static str) {
    match TOOL_ACTIONS.iter().find(|(name, ..)| *name == tool) {
        Some((_, action, kind, arg)) => ((*action).to_string(), kind, arg),
        None => (format!("tool.{tool}"), "tool", ""),
    }
}

/// The action a storage write records when the request named none: `storage.put`,
/// `storage.delete`.
pub fn for_storage(operation: &str) -> String {
    format!("storage.{operation}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_map_to_dotted_actions() {
        assert_eq!(
            for_tool("request_next_task"),
            ("task.claim".into(), "agent", "agent_id")
        );
        assert_eq!(for_tool("something_new").0, "tool.something_new");
        assert_eq!(for_storage("put"), "storage.put");
    }
}
