//! Retry delays: exponential in the attempt number, capped, with jitter so a burst of
//! failures (a receiver that went down) does not come back as a synchronized burst.

/// Delay before the first retry.
pub const BASE_MS: u64 = 1_000;
/// Longest delay between two attempts.
pub const CAP_MS: u64 = 5 * 60 * 1_000;

/// Delay after `attempt` failed attempts (1 = the first try failed). `jitter` in `[0, 1)`
/// picks a point in the upper half of the exponential step ("equal jitter"): retries spread
/// out but never come sooner than half the step.
pub fn delay_ms(attempt: u32, jitter: f64) -> u64 {
    let step = BASE_MS
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
        .min(CAP_MS);
    let jitter = jitter.clamp(0.0, 1.0);
    step / 2 + ((step / 2) as f64 * jitter) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_stay_within_half_a_step() {
        assert_eq!(delay_ms(1, 0.0), 500);
        assert_eq!(delay_ms(1, 0.999_999), 999);
        assert_eq!(delay_ms(2, 0.0), 1_000);
        assert_eq!(delay_ms(3, 0.5), 3_000);
        for attempt in 1..12 {
            let low = delay_ms(attempt, 0.0);
            let high = delay_ms(attempt, 0.999);
            assert!(
                low <= high && high < 2 * low.max(1) + 1,
                "{attempt}: {low}..{high}"
            );
        }
    }

    #[test]
    fn delays_are_capped() {
        assert_eq!(delay_ms(40, 0.999_999), CAP_MS - 1);
        assert_eq!(delay_ms(u32::MAX, 0.0), CAP_MS / 2);
    }
}
