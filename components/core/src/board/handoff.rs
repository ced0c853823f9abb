//! What a task's new holder is handed with it (upstream's task payload fields): the
//! instructions, the work its dependencies left and the contract they fixed, from the
//! records the claim read. The full texts stay in `get_task_context`; the hand-off names the
//! artifacts by location so a claim answer stays small.

use super::model::{Artifact, Decision, Task, artifact_location};
use schemars::JsonSchema;
use serde::Serialize;

/// What to do, for the agent to read: the name, description, acceptance criteria, where to
/// find its dependencies' work and what an earlier holder left (`dependency_count` direct
/// dependencies).
pub fn instructions(task: &Task, dependency_count: usize) -> String {
    let mut instructions = format!("{}\n\n{}", task.name, task.description);
    if !task.acceptance_criteria.is_empty() {
        instructions.push_str("\n\nAcceptance criteria:\n");
        for c in &task.acceptance_criteria {
            instructions.push_str(&format!("- {c}\n"));
        }
    }
    if dependency_count > 0 {
        instructions.push_str(
            "\n\nThis task builds on finished dependencies: call get_task_context for their artifacts and decisions.",
        );
    }
    if let Some(note) = &task.recovery_note {
        instructions.push_str(&format!("\n\nRecovery: {note}"));
    }
    instructions
}

/// An artifact by reference: everything but its content.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ArtifactRef {
    /// The artifact's id.
    pub id: String,
    /// The task that logged it.
    pub task_id: String,
    /// Its file name.
    pub filename: String,
    /// Its kind (specification, api, design, code, ...).
    pub artifact_type: String,
    /// What it is.
    pub description: String,
    /// Where Marcus keeps it (`marcus://artifacts/<id>`).
    pub location: String,
    /// Its size.
    pub size_bytes: u64,
}

impl From<&Artifact> for ArtifactRef {
    fn from(a: &Artifact) -> Self {
        Self {
            id: a.id.clone(),
            task_id: a.task_id.clone(),
            filename: a.filename.clone(),
            artifact_type: a.artifact_type.clone(),
            description: a.description.clone(),
            location: artifact_location(&a.id),
            size_bytes: a.size_bytes,
        }
    }
}

/// Artifact kinds that fix an interface other tasks build against.
pub const INTERFACE_KINDS: &[&str] = &[
    "specification",
    "api",
    "design",
    "architecture",
    "schema",
    "contract",
];

/// Whether an artifact of this kind fixes an interface ([`INTERFACE_KINDS`], any case).
pub fn is_interface(artifact_type: &str) -> bool {
    INTERFACE_KINDS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(artifact_type.trim()))
}

/// The contract a task builds against: the interface artifacts of the tasks it depends on
/// and the decisions taken on them.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ProjectContract {
    /// Interface artifacts ([`INTERFACE_KINDS`]), in time order.
    pub artifacts: Vec<ArtifactRef>,
    /// Decisions, in time order.
    pub decisions: Vec<Decision>,
}

/// The contract fixed by `artifacts` and `decisions` (those of the tasks a task depends on).
pub fn contract(artifacts: &[Artifact], decisions: &[Decision]) -> ProjectContract {
    ProjectContract {
        artifacts: in_time_order(artifacts)
            .into_iter()
            .filter(|a| is_interface(&a.artifact_type))
            .map(|a| ArtifactRef::from(&a))
            .collect(),
        decisions: decisions_in_time_order(decisions),
    }
}

/// A task further up the dependency chain, for background (by id: `get_task_context`
/// gives its name and work).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct UpstreamTask {
    /// Its id.
    pub task_id: String,
    /// The direct dependency that builds on it.
    pub via: String,
}

/// One finished dependency's work, as the new holder should reuse it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PreviousImplementation {
    /// The dependency's id.
    pub task_id: String,
    /// Its name.
    pub task_name: String,
    /// Who completed it.
    pub completed_by: Option<String>,
    /// Locations of the artifacts it logged.
    pub artifacts: Vec<String>,
}

/// How the dependencies were implemented: their artifacts and the decisions taken on them.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ImplementationContext {
    /// Each direct dependency with the locations of its artifacts.
    pub previous_implementations: Vec<PreviousImplementation>,
    /// The decisions taken on them, in time order.
    pub decisions: Vec<String>,
}

/// Upstream's hand-off fields of a task payload.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Handoff {
    /// Conditions for done (upstream's name for the acceptance criteria).
    pub completion_criteria: Vec<String>,
    /// Artifacts of the direct dependencies, by reference, in time order.
    pub dependency_artifacts: Vec<ArtifactRef>,
    /// The interface artifacts and decisions of the direct dependencies.
    pub project_contract: ProjectContract,
    /// The tasks the direct dependencies build on (one step further up the chain), for
    /// background; `get_task_context` walks the whole chain.
    pub transitive_context: Vec<UpstreamTask>,
    /// How the direct dependencies were implemented; `null` for a task without any.
    pub implementation_context: Option<ImplementationContext>,
}

/// The hand-off of `task` from its direct dependencies as read (`dependencies`) and their
/// artifacts and decisions (others are left out).
pub fn handoff(
    task: &Task,
    dependencies: &[Task],
    artifacts: &[Artifact],
    decisions: &[Decision],
) -> Handoff {
    let artifacts: Vec<Artifact> = in_time_order(artifacts)
        .into_iter()
        .filter(|a| task.dependencies.contains(&a.task_id))
        .collect();
    let decisions: Vec<Decision> = decisions_in_time_order(decisions)
        .into_iter()
        .filter(|d| task.dependencies.contains(&d.task_id))
        .collect();
    let mut transitive_context: Vec<UpstreamTask> = Vec::new();
    for dep in dependencies {
        for id in &dep.dependencies {
            if task.dependencies.contains(id) || transitive_context.iter().any(|u| &u.task_id == id)
            {
                continue;
            }
            transitive_context.push(UpstreamTask {
                task_id: id.clone(),
                via: dep.id.clone(),
            });
        }
    }
    let implementation_context = (!dependencies.is_empty()).then(|| ImplementationContext {
        previous_implementations: dependencies
            .iter()
            .map(|d| PreviousImplementation {
                task_id: d.id.clone(),
                task_name: d.name.clone(),
                completed_by: d.completed_by.clone(),
                artifacts: artifacts
                    .iter()
                    .filter(|a| a.task_id == d.id)
                    .map(|a| artifact_location(&a.id))
                    .collect(),
            })
            .collect(),
        decisions: decisions.iter().map(|d| d.decision.clone()).collect(),
    });
    Handoff {
        completion_criteria: task.acceptance_criteria.clone(),
        dependency_artifacts: artifacts.iter().map(ArtifactRef::from).collect(),
        project_contract: contract(&artifacts, &decisions),
        transitive_context,
        implementation_context,
    }
}

/// Artifacts in time order (then id), whatever order storage returned.
pub fn in_time_order(artifacts: &[Artifact]) -> Vec<Artifact> {
    let mut out = artifacts.to_vec();
    out.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
    out
}

/// Decisions in time order (then id), whatever order storage returned.
pub fn decisions_in_time_order(decisions: &[Decision]) -> Vec<Decision> {
    let mut out = decisions.to_vec();
    out.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::board::graph::tests::task;
    use crate::board::model::TaskStatus;

    /// An artifact of `task_id` of kind `kind` logged at `at`.
    pub fn artifact(id: &str, task_id: &str, kind: &str, at: u64) -> Artifact {
        Artifact {
            id: id.into(),
            task_id: task_id.into(),
            project_id: "p".into(),
            agent_id: None,
            filename: format!("{id}.md"),
            artifact_type: kind.into(),
            description: String::new(),
            content: "x".into(),
            size_bytes: 1,
            timestamp: at,
        }
    }

    /// A decision on `task_id` taken at `at`.
    pub fn decision(id: &str, task_id: &str, at: u64) -> Decision {
        Decision {
            id: id.into(),
            task_id: task_id.into(),
            project_id: "p".into(),
            agent_id: "ag".into(),
            decision: format!("use {id}"),
            timestamp: at,
        }
    }

    #[test]
    fn a_task_without_dependencies_gets_its_criteria_only() {
        let mut t = task("t", &[], 1.0);
        t.acceptance_criteria = vec!["tests pass".into()];
        let h = handoff(&t, &[], &[], &[]);
        assert_eq!(h.completion_criteria, vec!["tests pass"]);
        assert!(h.dependency_artifacts.is_empty() && h.transitive_context.is_empty());
        assert_eq!(h.implementation_context, None);
        assert!(instructions(&t, 0).contains("- tests pass"));
        assert!(!instructions(&t, 0).contains("get_task_context"));
    }

    #[test]
    fn dependencies_hand_over_their_work_and_contract() {
        let mut b = task("b", &["a", "gone"], 1.0);
        b.status = TaskStatus::Done;
        b.completed_by = Some("ada".into());
        let c = task("c", &["b"], 1.0);
        let artifacts = [
            artifact("code", "b", "code", 2),
            artifact("spec", "b", "Specification", 1),
            artifact("elsewhere", "a", "api", 0),
        ];
        let decisions = [decision("late", "b", 9), decision("early", "b", 3)];
        let h = handoff(&c, &[b], &artifacts, &decisions);
        let files: Vec<&str> = h
            .dependency_artifacts
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(files, vec!["spec", "code"], "direct ones, in time order");
        assert_eq!(
            h.dependency_artifacts[0].location,
            "marcus://artifacts/spec"
        );
        let contract: Vec<&str> = h
            .project_contract
            .artifacts
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(contract, vec!["spec"], "interface kinds only");
        let decided: Vec<&str> = h
            .project_contract
            .decisions
            .iter()
            .map(|d| d.id.as_str())
            .collect();
        assert_eq!(decided, vec!["early", "late"]);
        let up: Vec<(&str, &str)> = h
            .transitive_context
            .iter()
            .map(|u| (u.task_id.as_str(), u.via.as_str()))
            .collect();
        assert_eq!(up, vec![("a", "b"), ("gone", "b")]);
        let ctx = h.implementation_context.expect("it has dependencies");
        assert_eq!(
            ctx.previous_implementations[0].completed_by.as_deref(),
            Some("ada")
        );
        assert_eq!(ctx.previous_implementations[0].artifacts.len(), 2);
        assert_eq!(ctx.decisions, vec!["use early", "use late"]);
        assert!(instructions(&c, 1).contains("get_task_context"));
    }
}
