//! MCP prompts: `marcus_agent`, the protocol an agent follows on the board (what upstream
//! ships as a prompt file for agents to read), and `plan_project`, which has the calling
//! agent's own model turn a description into a task graph that `create_project` accepts,
//! so the server needs no model and no key. Figures and the task format come from the rules
//! and schemas that apply them.

use super::jsonrpc::INVALID_PARAMS;
use marcus_core::board::lease::{LEASE_INITIAL_SECS, renewal_secs};
use marcus_core::realtime_limits::MAX_WAIT_MS;
use serde_json::{Map, Value, json};

pub use super::prompt_names::{AGENT, PLAN};

/// `prompts/list`: each prompt with its arguments.
pub fn list() -> Value {
    json!([
        {
            "name": AGENT,
            "title": "Work as a Marcus agent",
            "description": "The protocol an agent follows on a Marcus board: register, take a task, keep its lease, log decisions and artifacts, report blockers, complete.",
            "arguments": [
                {"name": "agent_id", "description": "The id to register as (unique per agent).", "required": false},
                {"name": "role", "description": "The agent's role, e.g. Backend Developer.", "required": false},
                {"name": "skills", "description": "Comma-separated skills, matched against task labels.", "required": false},
                {"name": "project_id", "description": "The project to work on (when the board has several).", "required": false}
            ]
        },
        {
            "name": PLAN,
            "title": "Plan a project as a task graph",
            "description": "Turn a project description into tasks with dependencies, written for create_project, using your own model.",
            "arguments": [
                {"name": "description", "description": "What the project should deliver.", "required": true},
                {"name": "project_name", "description": "The project's name.", "required": false}
            ]
        }
    ])
}

/// `prompts/get`: the prompt's messages for `arguments`, or a JSON-RPC invalid-params error.
pub fn get(params: &Value) -> Result<Value, (i64, String)> {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err((INVALID_PARAMS, "prompts/get needs a \"name\"".into()));
    };
    let args = match params.get("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err((INVALID_PARAMS, "\"arguments\" must be an object".into())),
    };
    let text_arg = |key: &str| -> Result<Option<String>, (i64, String)> {
        match args.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err((INVALID_PARAMS, format!("argument {key} must be a string"))),
        }
    };
    let (description, text) = match name {
        AGENT => (
            "The Marcus agent protocol",
            agent_protocol(
                text_arg("agent_id")?.as_deref(),
                text_arg("role")?.as_deref(),
                text_arg("skills")?.as_deref(),
                text_arg("project_id")?.as_deref(),
            ),
        ),
        PLAN => {
            let Some(description) = text_arg("description")? else {
                return Err((
                    INVALID_PARAMS,
                    "plan_project needs a \"description\" argument".into(),
                ));
            };
            (
                "Plan a project for create_project",
                plan(&description, text_arg("project_name")?.as_deref()),
            )
        }
        other => {
            return Err((
                INVALID_PARAMS,
                format!("unknown prompt: {other} (see prompts/list)"),
            ));
        }
    };
    Ok(json!({
        "description": description,
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
    }))
}

fn agent_protocol(
    agent_id: Option<&str>,
    role: Option<&str>,
    skills: Option<&str>,
    project_id: Option<&str>,
) -> String {
    let id = agent_id.unwrap_or("<a unique id, e.g. your name and a number>");
    let role = role.unwrap_or("<your role, e.g. Backend Developer>");
    let skills: Vec<String> = skills
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let project = project_id
        .map(|p| format!(", \"project_id\": {}", json!(p)))
        .unwrap_or_default();
    format!(
        "You are an autonomous agent working on a shared Marcus project board with other \
agents. Follow this protocol exactly.

1. Register once: call register_agent with {{\"agent_id\": {id}, \"name\": <your name>, \
\"role\": {role}, \"skills\": {skills}{project}}}. If it answers agent_id_in_use, another \
live session uses that id: choose another id, or pass \"takeover\": true only if that session \
is a previous run of yourself.
2. Take work: call request_next_task with your agent_id and \"wait_seconds\": {wait}. It \
answers with a task as soon as one is ready for you. When it answers success: false, call it \
again (with wait_seconds, no need to sleep first); stop when retry_reason says all tasks are \
complete.
3. Read first: call get_task_context with the task_id. Use the artifacts and decisions of \
the tasks yours builds on; follow the task's instructions and acceptance criteria.
4. Keep the task: it is yours under a lease of {lease} s. Every call you make about it \
(report_task_progress, log_decision, log_artifact, get_task_context) renews the lease to \
{short} s, up to {long} s as progress grows. During long work call report_task_progress \
with status in_progress and a progress percent at least every two minutes. If the lease \
lapses anyway your completion still counts unless another agent took the task meanwhile.
5. Leave knowledge: call log_decision for each architectural or interface decision \
(what and why), and log_artifact for each specification, API, schema or document that later \
tasks need (its content is stored on the board).
6. When blocked: call report_blocker with a precise description of what you need and from \
whom; the task is released until someone resolves the blocker. Then go back to step 2.
7. Finish: call report_task_progress with status completed (only this completes a task; \
progress 100 alone does not), then go back to step 2.",
        id = json!(id),
        role = json!(role),
        skills = json!(skills),
        wait = MAX_WAIT_MS / 1000,
        lease = LEASE_INITIAL_SECS,
        short = renewal_secs(0),
        long = renewal_secs(100),
    )
}

fn plan(description: &str, project_name: Option<&str>) -> String {
    let task_schema = crate::tools::find("create_project")
        .map(|tool| (tool.input_schema)())
        .map(|schema| schema.to_string())
        .unwrap_or_default();
    let name = project_name
        .map(|n| json!(n).to_string())
        .unwrap_or_else(|| "<a short name for the project>".to_string());
    format!(
        "Plan the project below as a graph of tasks for a team of AI coding agents, then \
create it on the Marcus board.

Project description:
{description}

Rules for the plan:
- Tasks of a few hours each (estimated_hours), each one deliverable by one agent alone, \
with a clear description and acceptance_criteria that say how to check it is done.
- dependencies name the tasks that must be finished first (by their names); keep the graph \
acyclic and as parallel as the work allows: do not chain tasks that could run side by side.
- Start with the tasks that fix interfaces others build on (data model, API contract), so \
their artifacts can be logged and read by dependent tasks.
- priority is low, medium, high or urgent; labels name the skills a task needs (matched \
against agents' skills).

Then call the create_project tool with {{\"project_name\": {name}, \"description\": <one \
paragraph>, \"tasks\": [...]}}. Its input schema is:
{task_schema}

The board validates the whole graph at once (unknown dependencies, cycles, duplicate names) \
and creates nothing when something is wrong: fix what the error names and call it again."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_protocol_carries_the_lease_figures_and_the_arguments() {
        let got =
            get(&json!({"name": AGENT, "arguments": {"agent_id": "dev-1", "skills": "rust, sql"}}))
                .unwrap();
        let text = got["messages"][0]["content"]["text"].as_str().unwrap();
        assert!(text.contains("\"dev-1\""), "{text}");
        assert!(text.contains("[\"rust\",\"sql\"]"), "{text}");
        assert!(text.contains(&format!("lease of {LEASE_INITIAL_SECS} s")));
        assert!(text.contains("\"wait_seconds\": 60"));
    }

    #[test]
    fn planning_needs_a_description_and_shows_the_create_project_schema() {
        let got = get(&json!({"name": PLAN, "arguments": {"description": "A todo app"}})).unwrap();
        let text = got["messages"][0]["content"]["text"].as_str().unwrap();
        assert!(text.contains("A todo app"));
        assert!(text.contains("\"dependencies\""), "the task schema: {text}");
        assert_eq!(get(&json!({"name": PLAN})).unwrap_err().0, INVALID_PARAMS);
        assert_eq!(get(&json!({"name": "nope"})).unwrap_err().0, INVALID_PARAMS);
        assert_eq!(
            get(&json!({"name": AGENT, "arguments": {"skills": 3}}))
                .unwrap_err()
                .0,
            INVALID_PARAMS
        );
    }
}
