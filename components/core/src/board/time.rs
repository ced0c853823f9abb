//! Time units and a readable UTC rendering of [`Millis`], so notes written for people
//! (recovery notes, retry reasons) show dates instead of raw epoch numbers.

use super::model::Millis;

/// Milliseconds in a second: leases are configured in seconds, stored in milliseconds.
pub const MS_PER_SEC: Millis = 1_000;

/// Milliseconds in an hour: velocities and estimates are per hour.
pub const MS_PER_HOUR: Millis = 3_600_000;

/// Milliseconds in a day: the velocity window.
pub const MS_PER_DAY: Millis = 24 * MS_PER_HOUR;

/// Whole seconds from `now` until `at`, rounded up (0 when `at` is not in the future), so a
/// client told to wait that long never asks too early.
pub fn secs_until(at: Millis, now: Millis) -> u64 {
    at.saturating_sub(now).div_ceil(MS_PER_SEC)
}

/// Renders `ms` as ISO 8601 UTC (`2023-11-14T22:13:20Z`), the form people and logs read.
pub fn format_utc(ms: Millis) -> String {
    let secs = ms / MS_PER_SEC;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        (rem % 3_600) / 60,
        rem % 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_and_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_709_251_199_999), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn secs_until_rounds_up_and_never_goes_negative() {
        assert_eq!(secs_until(10_000, 10_000), 0);
        assert_eq!(secs_until(10_001, 10_000), 1);
        assert_eq!(secs_until(12_000, 10_000), 2);
        assert_eq!(secs_until(5_000, 10_000), 0);
    }
}
