//! Facts about the machine that explain noisy figures: how many cores, how busy they were
//! just before the run.

use std::time::Duration;

/// The CPUs this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// How many cores' worth of CPU other work used during `window` (0.0 = idle machine), from
/// /proc/stat (Linux); the bench itself is idle meanwhile.
pub async fn busy_cores(window: Duration) -> Option<f64> {
    let (busy_a, total_a) = cpu_times()?;
    tokio::time::sleep(window).await;
    let (busy_b, total_b) = cpu_times()?;
    let total = total_b.checked_sub(total_a).filter(|t| *t > 0)?;
    let busy = busy_b.saturating_sub(busy_a);
    Some(busy as f64 / total as f64 * cores() as f64)
}

/// Busy and total jiffies over all CPUs: the first eight fields of the `cpu` line of
/// /proc/stat, idle and iowait counting as not busy.
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle, total))
}
