//! When a project will be done: the pace so far says how long the remaining tasks take at
//! that pace, and the critical path says how long they take at least however many agents
//! work on them. The later of the two is the projection.

use super::health::{optimal_agent_count, project_status};
use super::model::{Millis, Task};
pub use super::projection::ForecastBasis;
use super::projection::{projection_of, round1};
use serde::Serialize;

const HOUR_MS: f64 = 3_600_000.0;

/// A projected completion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// Tasks not done.
    pub remaining_tasks: usize,
    /// Estimated hours of all remaining work (unestimated tasks count one hour).
    pub remaining_work_hours: f64,
    /// Completions per hour over the last 24 hours.
    pub velocity_per_hour: f64,
    /// Hours to finish the remaining tasks at that pace; none without a pace.
    pub hours_by_velocity: Option<f64>,
    /// Hours along the longest chain of remaining work: the least it can take.
    pub hours_by_critical_path: f64,
    /// Ids of the tasks on that chain, first first.
    pub critical_path: Vec<String>,
    /// The projection: the larger of the two bounds.
    pub projected_hours: Option<f64>,
    /// `now` plus the projection.
    pub projected_completion_at: Option<Millis>,
    /// Which bound decided.
    pub basis: ForecastBasis,
}

/// Projects the completion of `tasks` at `now`.
pub fn forecast(tasks: &[Task], now: Millis) -> Forecast {
    let status = project_status(tasks, now);
    let plan = optimal_agent_count(tasks);
    let remaining = status.total - status.done;
    let p = projection_of(
        tasks.is_empty(),
        remaining,
        status.velocity_per_hour,
        plan.critical_path_hours,
    );
    Forecast {
        remaining_tasks: remaining,
        remaining_work_hours: round1(plan.total_work_hours),
        velocity_per_hour: status.velocity_per_hour,
        hours_by_velocity: p.by_velocity,
        hours_by_critical_path: p.by_critical_path,
        critical_path: plan.critical_path,
        projected_hours: p.hours,
        projected_completion_at: p.hours.map(|h| now + (h * HOUR_MS).round() as Millis),
        basis: p.basis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;
    use crate::board::model::TaskStatus;

    const HOUR: Millis = 3_600_000;

    fn chain() -> Vec<Task> {
        vec![
            task("a", &[], 1.0),
            task("b", &["a"], 2.0),
            task("c", &["b"], 3.0),
            task("side", &[], 1.0),
        ]
    }

    #[test]
    fn the_status_eta_is_the_forecast() {
        let mut tasks = chain();
        tasks[0].status = TaskStatus::Done;
        tasks[0].completed_at = Some(HOUR / 2);
        let now = HOUR;
        let status = project_status(&tasks, now);
        assert_eq!(status.eta_hours, forecast(&tasks, now).projected_hours);
        assert_eq!(status.eta_hours, Some(5.0), "the chain b, c bounds it");
    }

    #[test]
    fn without_a_pace_the_critical_path_is_the_projection() {
        let f = forecast(&chain(), 0);
        assert_eq!(f.basis, ForecastBasis::CriticalPath);
        assert_eq!(f.hours_by_velocity, None);
        assert_eq!(f.hours_by_critical_path, 6.0);
        assert_eq!(f.critical_path, ["a", "b", "c"]);
        assert_eq!(f.projected_completion_at, Some(6 * HOUR));
        assert_eq!(f.remaining_work_hours, 7.0);
    }

    #[test]
    fn a_slow_pace_outweighs_the_critical_path() {
        let mut tasks = chain();
        tasks[3].status = TaskStatus::Done;
        tasks[3].completed_at = Some(HOUR);
        // One completion in 10 hours: 0.1 per hour, 3 remaining → 30 hours > 6.
        let now = 10 * HOUR;
        let f = forecast(&tasks, now);
        assert_eq!(f.basis, ForecastBasis::Velocity);
        assert_eq!(f.hours_by_velocity, Some(30.0));
        assert_eq!(f.projected_completion_at, Some(now + 30 * HOUR));
    }

    #[test]
    fn a_fast_pace_cannot_beat_the_critical_path() {
        let mut tasks = chain();
        tasks[3].status = TaskStatus::Done;
        tasks[3].completed_at = Some(HOUR / 60);
        let f = forecast(&tasks, HOUR / 30);
        assert!(f.hours_by_velocity.unwrap() < 6.0, "{f:?}");
        assert_eq!(f.basis, ForecastBasis::CriticalPath);
        assert_eq!(f.projected_hours, Some(6.0));
    }

    #[test]
    fn done_and_empty_projects() {
        let mut tasks = chain();
        for t in tasks.iter_mut() {
            t.status = TaskStatus::Done;
            t.completed_at = Some(HOUR);
        }
        let f = forecast(&tasks, 2 * HOUR);
        assert_eq!(f.basis, ForecastBasis::Done);
        assert_eq!(f.projected_completion_at, Some(2 * HOUR));
        assert_eq!(forecast(&[], 5).basis, ForecastBasis::Empty);
        assert_eq!(forecast(&[], 5).projected_completion_at, None);
    }
}
