//! Health tools: `check_board_health`, `get_optimal_agent_count`.

use super::board_reads;
use super::fields::IdRef;
use super::hints::Hints;
use super::scope;
use super::tool::{Tool, ToolCtx};
use crate::board_error::BoardError;
use crate::ids::now_ms;
use crate::records::{self, collections};
use marcus_core::board::health::{
    self, AgentCountAnalysis, AgentCountSummary, BoardHealth, HealthIssue,
};
use marcus_core::board::health_summary::{self, HealthMetrics};
use marcus_core::board::lease;
use marcus_core::board::model::{Agent, Task};
use marcus_identity::access::Access;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which project (the session's, or the only one, when absent).
#[derive(Deserialize, JsonSchema)]
pub struct ProjectArgs {
    /// The project; defaults to the session's selected project or the only one.
    pub project_id: Option<IdRef>,
}

/// `check_board_health(project_id?)`.
pub struct Check;

/// The board's problems and score.
#[derive(Serialize, JsonSchema)]
pub struct CheckAnswer {
    success: bool,
    /// The project checked.
    project_id: String,
    /// Issues and score.
    health: BoardHealth,
    /// The score, 0-100 (upstream's name for `health.score`).
    health_score: u8,
    /// Upstream's grade of the score: excellent, good, fair, poor or critical.
    status: &'static str,
    /// The numbers the check looked at.
    metrics: HealthMetrics,
    /// Everything found (the same as `health.issues`).
    issues: Vec<HealthIssue>,
    /// What to do about each issue, most severe first.
    recommendations: Vec<String>,
}

impl Tool for Check {
    const NAME: &'static str = "check_board_health";
    const DESCRIPTION: &'static str = "Board problems (cycles, bottlenecks, long chains, stale leases, skill mismatch, idle or overloaded agents, gridlock) with a 0-100 score.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    type Args = ProjectArgs;
    type Answer = CheckAnswer;

    fn run(ctx: &ToolCtx, a: ProjectArgs) -> Result<CheckAnswer, BoardError> {
        let project_id = scope::project_id(ctx, a.project_id.as_ref(), None)?;
        let tasks: Vec<Task> = board_reads::tasks_of(&project_id)?
            .into_iter()
            .map(|v| v.value)
            .collect();
        let agents: Vec<Agent> = records::query_all::<Agent>(collections::AGENTS, &[])?
            .into_iter()
            .map(|v| v.value)
            .filter(|ag| ag.project_id.as_deref().is_none_or(|p| p == project_id))
            .collect();
        let now = now_ms();
        if let Some(at) = lease::next_lapse(&tasks, now) {
            crate::read_cache::changes_at(at);
        }
        let agents: Vec<Agent> = board_reads::agents_now(agents, now)?
            .into_iter()
            .map(|v| v.agent)
            .collect();
        let health = health::board_health(&tasks, &agents, now);
        Ok(CheckAnswer {
            success: true,
            project_id,
            health_score: health.score,
            status: health_summary::grade(health.score),
            metrics: health_summary::metrics(&tasks, &agents, &health, now),
            issues: health.issues.clone(),
            recommendations: health_summary::recommendations(&health),
            health,
        })
    }
}

/// `get_optimal_agent_count(project_id?)`.
pub struct Optimal;

/// How many agents the project can use.
#[derive(Serialize, JsonSchema)]
pub struct OptimalAnswer {
    success: bool,
    /// The project analysed.
    project_id: String,
    /// The critical-path analysis.
    analysis: AgentCountAnalysis,
    /// The same analysis by upstream's names.
    #[serde(flatten)]
    summary: AgentCountSummary,
}

impl Tool for Optimal {
    const NAME: &'static str = "get_optimal_agent_count";
    const DESCRIPTION: &'static str =
        "How many agents this project can use, by the critical-path method.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    type Args = ProjectArgs;
    type Answer = OptimalAnswer;

    fn run(ctx: &ToolCtx, a: ProjectArgs) -> Result<OptimalAnswer, BoardError> {
        let project_id = scope::project_id(ctx, a.project_id.as_ref(), None)?;
        let tasks: Vec<Task> = board_reads::tasks_of(&project_id)?
            .into_iter()
            .map(|v| v.value)
            .collect();
        let analysis = health::optimal_agent_count(&tasks);
        Ok(OptimalAnswer {
            success: true,
            project_id,
            summary: AgentCountSummary::from(&analysis),
            analysis,
        })
    }
}
