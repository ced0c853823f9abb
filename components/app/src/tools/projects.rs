//! Project tools: `create_project`, `create_tasks`, `list_projects`, `select_project`,
//! `get_project_status`, `get_all_board_tasks`.

use super::board_health::ProjectArgs;
use super::board_reads;
use super::fields::{Count, IdRef, Object, Pick, Str, StrList, TaskList, Text};
use super::hints::Hints;
use super::scope;
use super::tool::{Tool, ToolCtx};
use crate::board_error::{BoardError, Missing};
use crate::events::BoardEvent;
use crate::ids::{new_id, now_ms};
use crate::records::{self, Change, collections};
use crate::unit_of_work;
use marcus_core::board::graph::{self, NewTask};
use marcus_core::board::health::{self, ProjectStatus};
use marcus_core::board::model::{Agent, AgentStatus, PROVIDER, Project, Task, TaskStatus};
use marcus_core::board::{annotate, lease};
use marcus_identity::access::Access;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A created task as the creating call answers it.
#[derive(Serialize, JsonSchema)]
pub struct CreatedTask {
    /// The new task's id.
    id: String,
    /// Its name.
    name: String,
    /// Ids of the tasks it depends on.
    dependencies: Vec<String>,
}

fn created(tasks: &[Task]) -> Vec<CreatedTask> {
    tasks
        .iter()
        .map(|t| CreatedTask {
            id: t.id.clone(),
            name: t.name.clone(),
            dependencies: t.dependencies.clone(),
        })
        .collect()
}

/// `create_project(project_name, description, tasks?, options?)`.
pub struct CreateProject;

/// A new project and, optionally, its tasks.
#[derive(Deserialize, JsonSchema)]
pub struct CreateProjectArgs {
    /// The project's name.
    project_name: Text,
    /// What the project is about.
    description: Option<Str>,
    /// Its first tasks.
    tasks: Option<TaskList>,
    /// Settings of the project.
    options: Option<Object<ProjectOptions>>,
}

/// Settings of a new project.
#[derive(Deserialize, JsonSchema)]
pub struct ProjectOptions {
    /// Lease length at assignment (default 180).
    lease_seconds: Option<Count<1>>,
    /// Labels to group projects by.
    tags: Option<StrList>,
}

/// The new project and its tasks.
#[derive(Serialize, JsonSchema)]
pub struct CreateProjectAnswer {
    success: bool,
    /// The new project's id.
    project_id: String,
    /// The stored project.
    project: Project,
    /// How many tasks were created.
    tasks_created: usize,
    /// The created tasks.
    tasks: Vec<CreatedTask>,
    /// What to do next, when the project was created without tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_step: Option<String>,
    /// Their ids, in the order given.
    task_ids: Vec<String>,
}

impl Tool for CreateProject {
    const NAME: &'static str = "create_project";
    const DESCRIPTION: &'static str = "Create a project, optionally with its tasks (dependencies by name or id; the whole graph is validated, nothing is half-written).";
    const HINTS: Hints = Hints::write(false, false);
    const ACCESS: Access = Access::Board;
    type Args = CreateProjectArgs;
    type Answer = CreateProjectAnswer;

    fn run(_ctx: &ToolCtx, a: CreateProjectArgs) -> Result<CreateProjectAnswer, BoardError> {
        let name = a.project_name.0;
        let description = a.description.map(|d| d.0).unwrap_or_default();
        let (lease_seconds, tags) = match a.options {
            Some(Object(o)) => (o.lease_seconds.map(|s| s.0), o.tags.unwrap_or_default().0),
            None => (None, Vec::new()),
        };
        let new_tasks: Vec<NewTask> = a.tasks.map(|t| t.0).unwrap_or_default();
        let now = now_ms();
        let project = Project {
            id: new_id("proj"),
            name,
            description,
            lease_seconds,
            tags,
            created_at: now,
        };
        let mut tasks =
            graph::plan_new_tasks(&project.id, &[], &new_tasks, || new_id("task"), now)?;
        name_project(&mut tasks, &project);
        annotate::annotate(&mut tasks);
        let event = BoardEvent::new(
            "project_created",
            Some(&project.id),
            None,
            None,
            json!({"name": project.name, "tasks": tasks.len()}),
        );
        let mut changes = vec![Change::create(
            collections::PROJECTS,
            &project.id,
            &project,
        )?];
        for t in &tasks {
            changes.push(Change::create(collections::TASKS, &t.id, t)?);
        }
        unit_of_work::commit_and_announce(changes, &event)?;
        let next_step = tasks.is_empty().then(|| {
            format!(
                "The project has no tasks yet: Marcus does not generate tasks from a \
                 description. Use the MCP prompt {} with this description to plan them \
                 with your own model, then add them with create_tasks (project_id {}).",
                crate::mcp::prompt_names::PLAN,
                project.id
            )
        });
        Ok(CreateProjectAnswer {
            success: true,
            project_id: project.id.clone(),
            project,
            tasks_created: tasks.len(),
            tasks: created(&tasks),
            next_step,
            task_ids: tasks.iter().map(|t| t.id.clone()).collect(),
        })
    }
}

/// Writes the project's name on its new tasks, so handing one out needs no project read.
fn name_project(tasks: &mut [Task], project: &Project) {
    for t in tasks {
        t.project_name = project.name.clone();
    }
}

/// `create_tasks(project_id, tasks)`.
pub struct CreateTasks;

/// Tasks to add to a project.
#[derive(Deserialize, JsonSchema)]
pub struct CreateTasksArgs {
    /// The project; defaults to the session's selected project or the only one.
    project_id: Option<IdRef>,
    /// The tasks; dependencies may name existing tasks or tasks in this call.
    #[schemars(extend("minItems" = 1))]
    tasks: TaskList,
}

/// The created tasks.
#[derive(Serialize, JsonSchema)]
pub struct CreateTasksAnswer {
    success: bool,
    /// The project they were added to.
    project_id: String,
    /// How many tasks were created.
    tasks_created: usize,
    /// The created tasks.
    tasks: Vec<CreatedTask>,
}

impl Tool for CreateTasks {
    const NAME: &'static str = "create_tasks";
    const DESCRIPTION: &'static str =
        "Add tasks to a project; dependencies may name existing tasks or tasks in the same call.";
    const HINTS: Hints = Hints::write(false, false);
    const ACCESS: Access = Access::Board;
    type Args = CreateTasksArgs;
    type Answer = CreateTasksAnswer;

    fn run(ctx: &ToolCtx, a: CreateTasksArgs) -> Result<CreateTasksAnswer, BoardError> {
        let project_id = scope::project_id(ctx, a.project_id.as_ref(), None)?;
        let new_tasks = a.tasks.0;
        if new_tasks.is_empty() {
            return Err(BoardError::invalid("tasks must contain at least one task"));
        }
        let project = board_reads::project(&project_id)?.value;
        let existing = board_reads::tasks_of(&project_id)?;
        let existing_tasks: Vec<Task> = existing.iter().map(|v| v.value.clone()).collect();
        let now = now_ms();
        let mut tasks = graph::plan_new_tasks(
            &project_id,
            &existing_tasks,
            &new_tasks,
            || new_id("task"),
            now,
        )?;
        name_project(&mut tasks, &project);
        // New edges change reverse edges and critical-path weights of existing tasks too.
        let mut all: Vec<Task> = existing_tasks
            .into_iter()
            .chain(tasks.iter().cloned())
            .collect();
        let changed = annotate::annotate(&mut all);
        let (old_part, new_part) = all.split_at(existing.len());
        let tasks: Vec<Task> = new_part.to_vec();
        let event = BoardEvent::new(
            "tasks_created",
            Some(&project_id),
            None,
            None,
            json!({"task_ids": tasks.iter().map(|t| &t.id).collect::<Vec<_>>()}),
        );
        let mut changes = Vec::with_capacity(tasks.len() + changed.len() + 1);
        for (t, stored) in old_part.iter().zip(&existing) {
            if changed.contains(&t.id) {
                changes.push(Change::update(
                    collections::TASKS,
                    &t.id,
                    t,
                    stored.version,
                )?);
            }
        }
        for t in &tasks {
            changes.push(Change::create(collections::TASKS, &t.id, t)?);
        }
        unit_of_work::commit_and_announce(changes, &event)?;
        Ok(CreateTasksAnswer {
            success: true,
            project_id,
            tasks_created: tasks.len(),
            tasks: created(&tasks),
        })
    }
}

/// `list_projects()`.
pub struct List;

/// No arguments.
#[derive(Deserialize, JsonSchema)]
pub struct NoArgs {}

/// A project with its completion.
#[derive(Serialize, JsonSchema)]
pub struct ProjectSummary {
    /// The project's id.
    id: String,
    /// The same id, by its upstream name.
    project_id: String,
    /// Display name.
    name: String,
    /// What the project is about.
    description: String,
    /// Creation time, milliseconds since the Unix epoch.
    created_at: u64,
    /// All its tasks.
    total_tasks: usize,
    /// Done tasks, in percent of all.
    completion_percentage: f64,
    /// Who keeps the board: always `marcus` ([`PROVIDER`]).
    provider: &'static str,
    /// Its labels.
    tags: Vec<String>,
    /// Whether this MCP session selected it (`select_project`).
    is_active: bool,
    /// Its tasks' last change, milliseconds since the Unix epoch (`null` without tasks).
    last_used: Option<u64>,
}

/// Every project.
#[derive(Serialize, JsonSchema)]
pub struct ListAnswer {
    success: bool,
    /// The projects, by id.
    projects: Vec<ProjectSummary>,
    /// How many.
    count: usize,
}

impl Tool for List {
    const NAME: &'static str = "list_projects";
    const DESCRIPTION: &'static str = "Every project with its completion.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    type Args = NoArgs;
    type Answer = ListAnswer;

    fn run(ctx: &ToolCtx, _a: NoArgs) -> Result<ListAnswer, BoardError> {
        let now = now_ms();
        let selected = ctx.session_project.borrow().clone();
        let mut out = Vec::new();
        for p in records::query_all::<Project>(collections::PROJECTS, &[])? {
            let tasks: Vec<Task> = board_reads::tasks_of(&p.value.id)?
                .into_iter()
                .map(|v| v.value)
                .collect();
            let status = health::project_status(&tasks, now);
            out.push(ProjectSummary {
                provider: PROVIDER,
                is_active: selected.as_deref() == Some(p.value.id.as_str()),
                last_used: tasks.iter().map(|t| t.updated_at).max(),
                tags: p.value.tags.clone(),
                id: p.value.id.clone(),
                project_id: p.value.id,
                name: p.value.name,
                description: p.value.description,
                created_at: p.value.created_at,
                total_tasks: status.total,
                completion_percentage: status.completion_percentage,
            });
        }
        Ok(ListAnswer {
            success: true,
            count: out.len(),
            projects: out,
        })
    }
}

/// `select_project(project_id | project_name)`.
pub struct Select;

/// The project to choose, by id or by name.
#[derive(Deserialize, JsonSchema)]
#[schemars(transform = id_or_name)]
pub struct SelectArgs {
    /// The project's id.
    project_id: Option<IdRef>,
    /// The project's name, when no id is given.
    project_name: Option<Str>,
    /// Also make it this agent's default project.
    agent_id: Option<IdRef>,
}

fn id_or_name(schema: &mut schemars::Schema) {
    super::schema::require_one_of(schema, &["project_id", "project_name"]);
}

/// A project with who keeps it and how many tasks it has.
#[derive(Serialize, JsonSchema)]
pub struct ProjectCard {
    /// The project.
    #[serde(flatten)]
    project: Project,
    /// Who keeps the board: always `marcus` ([`PROVIDER`]).
    provider: &'static str,
    /// How many tasks it has.
    task_count: u64,
}

/// The chosen project and where it became the default.
#[derive(Serialize, JsonSchema)]
pub struct SelectAnswer {
    success: bool,
    /// What was done: `selected_existing` (Marcus selects; create_project creates).
    action: &'static str,
    /// For people.
    message: String,
    /// The chosen project's id.
    project_id: String,
    /// The chosen project.
    project: ProjectCard,
    /// Whether this MCP session now defaults to it.
    selected_for_session: bool,
    /// Whether the agent now defaults to it.
    selected_for_agent: bool,
}

impl Tool for Select {
    const NAME: &'static str = "select_project";
    const DESCRIPTION: &'static str = "Choose the project that project-scoped calls of this MCP session (or this agent) default to.";
    // The session's (and the agent's) previous default is replaced.
    const HINTS: Hints = Hints::write(true, true);
    const ACCESS: Access = Access::Read;
    type Args = SelectArgs;
    type Answer = SelectAnswer;

    fn run(ctx: &ToolCtx, a: SelectArgs) -> Result<SelectAnswer, BoardError> {
        let project = match (a.project_id, a.project_name) {
            (Some(IdRef(id)), _) => board_reads::project(&id)?.value,
            (None, Some(Str(name))) => {
                records::query_all::<Project>(collections::PROJECTS, &[("name", json!(name))])?
                    .into_iter()
                    .next()
                    .map(|v| v.value)
                    .ok_or_else(|| {
                        BoardError::not_found(
                            Missing::Project,
                            format!("no project named {name:?}"),
                        )
                    })?
            }
            (None, None) => {
                return Err(BoardError::invalid(
                    "project_id or project_name is required",
                ));
            }
        };
        let session = scope::select_for_session(ctx, &project.id)?;
        let mut agent_updated = false;
        if let Some(IdRef(agent_id)) = a.agent_id {
            for _ in 0..5 {
                let agent = board_reads::agent(&agent_id)?;
                let mut rec = agent.value.clone();
                rec.project_id = Some(project.id.clone());
                match unit_of_work::commit(vec![Change::update(
                    collections::AGENTS,
                    &agent_id,
                    &rec,
                    agent.version,
                )?]) {
                    Ok(()) => {
                        agent_updated = true;
                        break;
                    }
                    Err(BoardError::Conflict(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        let task_count = records::count(collections::TASKS, &[("project_id", json!(project.id))])?;
        Ok(SelectAnswer {
            success: true,
            action: "selected_existing",
            message: format!("Selected project {} ({task_count} tasks)", project.name),
            project_id: project.id.clone(),
            project: ProjectCard {
                project,
                provider: PROVIDER,
                task_count,
            },
            selected_for_session: session,
            selected_for_agent: agent_updated,
        })
    }
}

/// `get_project_status(project_id?)`.
pub struct Status;

/// A project with its counts by upstream's names.
#[derive(Serialize, JsonSchema)]
pub struct ProjectCounts {
    /// The project.
    #[serde(flatten)]
    project: Project,
    /// Who keeps the board: always `marcus` ([`PROVIDER`]).
    provider: &'static str,
    /// All its tasks.
    total_tasks: usize,
    /// Done tasks.
    completed: usize,
    /// Tasks held by an agent.
    in_progress: usize,
    /// Tasks stopped by a blocker.
    blocked: usize,
    /// Done tasks, in percent of all.
    completion_percentage: f64,
}

/// The project's agents (those whose default project it is, and those without one).
#[derive(Serialize, JsonSchema)]
pub struct Workers {
    /// How many.
    total: usize,
    /// Those holding a task under a live lease.
    active: usize,
    /// The others.
    available: usize,
}

/// A project's completion and pace.
#[derive(Serialize, JsonSchema)]
pub struct StatusAnswer {
    success: bool,
    /// The project's id.
    project_id: String,
    /// The project, with its counts.
    project: ProjectCounts,
    /// Counts, completion, velocity and ETA.
    status: ProjectStatus,
    /// Its agents, working or not at the time of the read.
    workers: Workers,
}

impl Tool for Status {
    const NAME: &'static str = "get_project_status";
    const DESCRIPTION: &'static str =
        "Completion, counts by status, velocity and ETA of a project.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    type Args = ProjectArgs;
    type Answer = StatusAnswer;

    fn run(ctx: &ToolCtx, a: ProjectArgs) -> Result<StatusAnswer, BoardError> {
        let project_id = scope::project_id(ctx, a.project_id.as_ref(), None)?;
        let project = board_reads::project(&project_id)?.value;
        let tasks: Vec<Task> = board_reads::tasks_of(&project_id)?
            .into_iter()
            .map(|v| v.value)
            .collect();
        let now = now_ms();
        if let Some(at) = lease::next_lapse(&tasks, now) {
            crate::read_cache::changes_at(at);
        }
        let status = health::project_status(&tasks, now);
        let agents: Vec<Agent> = records::query_all::<Agent>(collections::AGENTS, &[])?
            .into_iter()
            .map(|v| v.value)
            .filter(|ag| ag.project_id.as_deref().is_none_or(|p| p == project_id))
            .collect();
        let agents = board_reads::agents_now(agents, now)?;
        let active = agents
            .iter()
            .filter(|a| a.agent.status == AgentStatus::Working)
            .count();
        Ok(StatusAnswer {
            success: true,
            project_id,
            project: ProjectCounts {
                project,
                provider: PROVIDER,
                total_tasks: status.total,
                completed: status.done,
                in_progress: status.in_progress,
                blocked: status.blocked,
                completion_percentage: status.completion_percentage,
            },
            workers: Workers {
                total: agents.len(),
                active,
                available: agents.len() - active,
            },
            status,
        })
    }
}

/// `get_all_board_tasks(project_id?, status?)`.
pub struct AllTasks;

/// Which project's tasks, and which of them.
#[derive(Deserialize, JsonSchema)]
pub struct AllTasksArgs {
    /// The project; defaults to the session's selected project or the only one.
    project_id: Option<IdRef>,
    /// Only tasks with this status.
    status: Option<Pick<TaskStatus>>,
}

/// A project's tasks.
#[derive(Serialize, JsonSchema)]
pub struct AllTasksAnswer {
    success: bool,
    /// The project's id.
    project_id: String,
    /// The tasks, by id.
    tasks: Vec<Task>,
    /// How many.
    count: usize,
}

impl Tool for AllTasks {
    const NAME: &'static str = "get_all_board_tasks";
    const DESCRIPTION: &'static str =
        "Every task of a project with its status, holder and dependencies.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    type Args = AllTasksArgs;
    type Answer = AllTasksAnswer;

    fn run(ctx: &ToolCtx, a: AllTasksArgs) -> Result<AllTasksAnswer, BoardError> {
        let project_id = scope::project_id(ctx, a.project_id.as_ref(), None)?;
        let filter = a.status.map(|s| s.0);
        let tasks: Vec<Task> = board_reads::tasks_of(&project_id)?
            .into_iter()
            .map(|v| v.value)
            .filter(|t| filter.is_none_or(|f| t.status == f))
            .collect();
        Ok(AllTasksAnswer {
            success: true,
            project_id,
            count: tasks.len(),
            tasks,
        })
    }
}
