//! How long a token lives: an expiry is required, 30 days unless asked otherwise, at most
//! 365 days, so a forgotten token stops working on its own.

/// Days a token lives when no lifetime is asked for.
pub const DEFAULT_DAYS: u64 = 30;
/// The longest lifetime a token may have, in days.
pub const MAX_DAYS: u64 = 365;

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;

/// A lifetime in milliseconds from `30d`, `12h` (or none: the default); refused when it is
/// zero, malformed or longer than [`MAX_DAYS`].
pub fn parse(asked: Option<&str>) -> Result<u64, String> {
    let Some(text) = asked.map(str::trim) else {
        return Ok(DEFAULT_DAYS * DAY_MS);
    };
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let unit_ms = match unit {
        "d" => DAY_MS,
        "h" => HOUR_MS,
        _ => {
            return Err(format!(
                "expiry {text:?}: give days or hours, such as 30d or 12h"
            ));
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("expiry {text:?}: give days or hours, such as 30d or 12h"))?;
    let ms = n.saturating_mul(unit_ms);
    if ms == 0 {
        return Err("a token must live at least an hour".into());
    }
    if ms > MAX_DAYS * DAY_MS {
        return Err(format!(
            "a token lives at most {MAX_DAYS} days, asked {text}"
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_required_bounded_and_read_in_days_or_hours() {
        assert_eq!(parse(None), Ok(30 * DAY_MS));
        assert_eq!(parse(Some("7d")), Ok(7 * DAY_MS));
        assert_eq!(parse(Some("12h")), Ok(12 * HOUR_MS));
        assert_eq!(parse(Some("365d")), Ok(365 * DAY_MS));
        assert!(parse(Some("366d")).unwrap_err().contains("at most 365"));
        assert!(parse(Some("0d")).is_err());
        assert!(parse(Some("forever")).is_err());
        assert!(parse(Some("30")).is_err());
        assert!(parse(Some("")).is_err());
        assert!(parse(Some("99999999999999999999d")).is_err());
    }
}
