//! The burndown: how much work was left at each moment, rebuilt from when tasks were
//! created and completed, so it needs no history beyond the task records themselves.

use super::model::{Millis, Task};
use serde::Serialize;

/// Most points a chart gets; longer histories keep the last point of each time bucket.
pub const MAX_POINTS: usize = 120;

/// Remaining work at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BurndownPoint {
    /// When.
    pub at: Millis,
    /// Tasks existing and not done at that moment.
    pub remaining: usize,
    /// Tasks done by then.
    pub done: usize,
}

/// Remaining and done tasks after every creation and completion, oldest first, ending
/// with a point at `now`; at most [`MAX_POINTS`] points, the first and last always kept.
pub fn burndown(tasks: &[Task], now: Millis) -> Vec<BurndownPoint> {
    // (time, created delta, done delta)
    let mut changes: Vec<(Millis, i64, i64)> = Vec::with_capacity(tasks.len() * 2);
    for t in tasks {
        changes.push((t.created_at, 1, 0));
        if let Some(c) = t.completed_at {
            changes.push((c.max(t.created_at), 0, 1));
        }
    }
    changes.sort_by_key(|c| c.0);
    let mut points: Vec<BurndownPoint> = Vec::new();
    let (mut total, mut done) = (0i64, 0i64);
    for (at, created, completed) in changes {
        total += created;
        done += completed;
        let point = BurndownPoint {
            at,
            remaining: (total - done).max(0) as usize,
            done: done.max(0) as usize,
        };
        match points.last_mut() {
            Some(last) if last.at == at => *last = point,
            _ => points.push(point),
        }
    }
    if let Some(last) = points.last().copied()
        && last.at < now
    {
        points.push(BurndownPoint { at: now, ..last });
    }
    thin(points)
}

/// Keeps the last point of each of `MAX_POINTS - 1` equal time buckets plus the first point.
fn thin(points: Vec<BurndownPoint>) -> Vec<BurndownPoint> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let first = points[0];
    let last = points[points.len() - 1];
    let span = (last.at - first.at).max(1);
    let buckets = (MAX_POINTS - 1) as u64;
    let bucket =
        |q: &BurndownPoint| ((q.at - first.at) as u128 * buckets as u128 / span as u128) as u64;
    let mut out = vec![first];
    for p in points.into_iter().skip(1) {
        let replaces_previous =
            out.len() > 1 && out.last().is_some_and(|q| bucket(q) == bucket(&p));
        if replaces_previous {
            let n = out.len();
            out[n - 1] = p;
        } else {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;
    use crate::board::model::TaskStatus;

    fn created_at(id: &str, at: Millis) -> Task {
        let mut t = task(id, &[], 1.0);
        t.created_at = at;
        t
    }

    fn done(mut t: Task, at: Millis) -> Task {
        t.status = TaskStatus::Done;
        t.completed_at = Some(at);
        t
    }

    #[test]
    fn remaining_work_follows_creations_and_completions() {
        let tasks = vec![
            done(created_at("a", 0), 10),
            done(created_at("b", 0), 30),
            created_at("c", 20),
        ];
        let points = burndown(&tasks, 50);
        let seen: Vec<(Millis, usize, usize)> =
            points.iter().map(|p| (p.at, p.remaining, p.done)).collect();
        assert_eq!(
            seen,
            [(0, 2, 0), (10, 1, 1), (20, 2, 1), (30, 1, 2), (50, 1, 2)]
        );
    }

    #[test]
    fn empty_board_has_no_points_and_now_is_not_duplicated() {
        assert!(burndown(&[], 5).is_empty());
        let points = burndown(&[done(created_at("a", 0), 7)], 7);
        assert_eq!(points.len(), 2);
        assert_eq!(points[1].remaining, 0);
    }

    #[test]
    fn long_histories_are_thinned_keeping_both_ends() {
        let tasks: Vec<Task> = (0..1000)
            .map(|i| done(created_at(&format!("t{i}"), 0), 1 + i as Millis * 10))
            .collect();
        let points = burndown(&tasks, 20_000);
        assert!(points.len() <= MAX_POINTS, "{}", points.len());
        assert_eq!(points[0].remaining, 1000);
        assert_eq!(points.last().unwrap().at, 20_000);
        assert_eq!(points.last().unwrap().remaining, 0);
        assert!(points.windows(2).all(|w| w[0].at < w[1].at));
        assert!(points.windows(2).all(|w| w[0].remaining >= w[1].remaining));
    }
}
