//! Every tool, looked up by name by MCP, the JSON API and the jobs; and the one call path
//! that turns a tool's failure into the wire error.

use super::tool::{Tool, ToolCtx, ToolSpec};
use super::{agents, board_health, knowledge, ping, projects, work};
use marcus_core::api_error::ApiError;
use serde_json::{Map, Value};

/// Runs `tool` with `args` for a caller with the tool's access, through the read cache for
/// the reads it covers. This is where a tool's failure becomes the wire error that the
/// routes and MCP answer with.
pub fn call(tool: &ToolSpec, ctx: &ToolCtx, args: &Map<String, Value>) -> Result<Value, ApiError> {
    let agent_id = args.get("agent_id").and_then(Value::as_str);
    // A change is named before it is checked, so the audit records a refusal of it too.
    let changes = !tool.hints.read_only;
    if changes {
        name_the_change(tool, args);
    }
    if let Err(refusal) = crate::caller::require(tool.access, agent_id) {
        if !changes {
            name_the_change(tool, args);
        }
        crate::platform::current().audit_refused(true, &refusal.message);
        return Err(refusal);
    }
    if let Some(agent) = agent_id
        && tool.name != super::agents::Register::NAME
        && ctx.taken_over.borrow().iter().any(|a| a == agent)
    {
        let refusal = super::agent_binding::taken_over(agent);
        if changes {
            crate::platform::current()
                .audit_refused(matches!(refusal.status, 401 | 403), &refusal.message);
        }
        return Err(refusal);
    }
    let answer = crate::read_cache::through(tool.name, args, || {
        (tool.run)(ctx, args).map_err(ApiError::from)
    });
    if answer.is_ok()
        && tool.renews_holder
        && let Some(Value::String(task_id)) = args.get("task_id")
        && let Some(agent) = agent_id
            .map(str::to_string)
            .or_else(|| ctx.session_agent.borrow().clone())
    {
        super::lease_touch::renew_for_holder(&agent, task_id);
    }
    // Nothing read ahead for this call outlives it.
    crate::read_ahead::forget();
    if changes && let Err(e) = &answer {
        crate::platform::current().audit_refused(matches!(e.status, 401 | 403), &e.message);
    }
    answer
}

/// Tells the host's audit which change the call's writes make (see
/// `marcus_core::audit::actions`).
fn name_the_change(tool: &ToolSpec, args: &Map<String, Value>) {
    let (action, kind, arg) = marcus_core::audit::actions::for_tool(tool.name);
    let target = args.get(arg).and_then(Value::as_str).unwrap_or("");
    let details = serde_json::json!({ "tool": tool.name }).to_string();
    crate::platform::current().audit_begin(&action, kind, target, &details);
}

/// Every tool, in the order `tools/list` shows them.
const TOOLS: &[ToolSpec] = &[
    ToolSpec::of::<ping::Ping>(),
    ToolSpec::of::<agents::Register>(),
    ToolSpec::of::<work::RequestNext>(),
    ToolSpec::of::<work::ReportProgress>(),
    ToolSpec::of::<work::ReportBlocker>(),
    ToolSpec::of::<work::ResolveBlocker>(),
    ToolSpec::of::<knowledge::Context>(),
    ToolSpec::of::<knowledge::LogDecision>(),
    ToolSpec::of::<knowledge::LogArtifact>(),
    ToolSpec::of::<projects::CreateProject>(),
    ToolSpec::of::<projects::CreateTasks>(),
    ToolSpec::of::<projects::Status>(),
    ToolSpec::of::<projects::List>(),
    ToolSpec::of::<projects::Select>(),
    ToolSpec::of::<agents::Status>(),
    ToolSpec::of::<agents::List>(),
    ToolSpec::of::<projects::AllTasks>(),
    ToolSpec::of::<knowledge::CheckDependencies>(),
    ToolSpec::of::<work::Unassign>(),
    ToolSpec::of::<board_health::Check>(),
    ToolSpec::of::<board_health::Optimal>(),
];

/// All tools, in the order `tools/list` shows them.
pub fn registry() -> &'static [ToolSpec] {
    TOOLS
}

/// Finds a tool by name.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    registry().iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::in_memory::InMemory;
    use marcus_identity::principal::Principal;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn each_change_is_named_for_the_audit_and_its_refusal_told() {
        let platform = InMemory::installed();
        let ctx = ToolCtx::default();
        crate::caller::act_as(None);
        let register = find("register_agent").unwrap();
        let refused = call(register, &ctx, &args(serde_json::json!({"agent_id": "a1"})));
        assert!(refused.is_err());
        let told = platform.audit_calls();
        assert_eq!(told[0], "begin agent.register agent/a1");
        assert!(told[1].starts_with("denied "), "{told:?}");

        crate::caller::act_as(Some(Principal::local_admin()));
        let status = find("list_projects").unwrap();
        call(status, &ctx, &Map::new()).unwrap();
        assert_eq!(platform.audit_calls().len(), 2, "a read names no change");

        let create = find("create_tasks").unwrap();
        let failed = call(
            create,
            &ctx,
            &args(serde_json::json!({"project_id": "nope"})),
        );
        assert!(failed.is_err());
        let told = platform.audit_calls();
        assert_eq!(told[2], "begin task.create project/nope");
        assert!(told[3].starts_with("failure "), "{told:?}");
    }
}
