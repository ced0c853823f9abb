//! The projection of a project's completion, from its pace and its critical path: the one
//! rule behind the status's `eta_hours`, the forecast and every panel that shows them.

use serde::Serialize;

/// What a projection rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastBasis {
    /// Every task is done.
    Done,
    /// The pace of recent completions is the slower bound.
    Velocity,
    /// The longest chain of remaining estimates is the slower bound (or there is no pace
    /// yet, so it is the only one).
    CriticalPath,
    /// The project has no tasks.
    Empty,
}

/// The one projection every figure of a project's completion comes from (the status's
/// `eta_hours`, the forecast, the dashboard's panels), so no two of them disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Hours to finish the remaining tasks at the pace given; none without a pace.
    pub by_velocity: Option<f64>,
    /// Hours along the longest chain of remaining work.
    pub by_critical_path: f64,
    /// The larger of the two; none for a project without tasks.
    pub hours: Option<f64>,
    /// Which bound decided.
    pub basis: ForecastBasis,
}

/// Projects a project (`empty` when it has no tasks) with `remaining` tasks not done, at
/// `velocity_per_hour` completions, whose remaining work takes `critical_path_hours` along
/// its longest chain.
pub fn projection_of(
    empty: bool,
    remaining: usize,
    velocity_per_hour: f64,
    critical_path_hours: f64,
) -> Projection {
    let by_velocity = (remaining > 0 && velocity_per_hour > 0.0)
        .then(|| round1(remaining as f64 / velocity_per_hour));
    let by_path = round1(critical_path_hours);
    let (hours, basis) = if empty {
        (None, ForecastBasis::Empty)
    } else if remaining == 0 {
        (Some(0.0), ForecastBasis::Done)
    } else {
        match by_velocity {
            Some(v) if v > by_path => (Some(v), ForecastBasis::Velocity),
            _ => (Some(by_path), ForecastBasis::CriticalPath),
        }
    };
    Projection {
        by_velocity,
        by_critical_path: by_path,
        hours,
        basis,
    }
}

/// `x` rounded to one decimal.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
