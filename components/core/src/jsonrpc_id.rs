//! Which JSON-RPC request ids MCP accepts, judged on the id's raw JSON text so that an id is
//! never rounded on its way back (2^64 stays `18446744073709551616`, `-0` stays `-0`).
//!
//! MCP requires a string or an integer id, never null (its schema types `RequestId` as
//! `["string", "integer"]`, and a JSON Schema integer is any number whose value has no
//! fractional part, so `1e400` and `2.0` qualify while `1.5` does not).

/// What kind of value a raw id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// A JSON string.
    Text,
    /// A JSON number with an integral value, of any magnitude.
    Integer,
    /// Anything else: null, a fraction, a boolean, an object or an array.
    Refused,
}

/// Classifies the raw JSON text of an id (as it appeared in the request, already known to
/// be valid JSON).
pub fn kind(raw: &str) -> IdKind {
    let raw = raw.trim();
    match raw.as_bytes().first() {
        Some(b'"') => IdKind::Text,
        Some(b'-' | b'0'..=b'9') if is_integral_number(raw) => IdKind::Integer,
        _ => IdKind::Refused,
    }
}

/// Whether a JSON number's value is an integer. `digits[.fraction][e[±]exp]` is
/// `D × 10^(exp − len(fraction))` with `D` all its digits; trailing zeros of `D` raise the
/// power, and the value is integral when `D` is zero or the power is not negative.
fn is_integral_number(raw: &str) -> bool {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
        None => (unsigned, "0"),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exponent_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || exponent_digits.is_empty()
        || !all_digits(exponent_digits)
    {
        return false;
    }
    let digits = format!("{whole}{fraction}");
    let significant = digits.trim_end_matches('0');
    if significant.trim_start_matches('0').is_empty() {
        return true;
    }
    let trailing_zeros = (digits.len() - significant.len()) as i128;
    // Exponents too long for i64 saturate: no request carries that many digits.
    let magnitude = exponent_digits
        .trim_start_matches('0')
        .parse::<i64>()
        .unwrap_or(if exponent_digits.trim_start_matches('0').is_empty() {
            0
        } else {
            i64::MAX
        }) as i128;
    let power = if exponent.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    power - fraction.len() as i128 + trailing_zeros >= 0
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_integers_of_any_size_are_ids() {
        for raw in [
            r#""abc""#,
            r#""""#,
            "0",
            "-0",
            "7",
            "-12",
            "18446744073709551616",
            "1e400",
            "1E+3",
            "2.0",
            "2.50e1",
            "1.25e2",
            "5.000e-0",
            "100e-2",
            "0.0e-5",
            "1.5e99999999999999999999999",
        ] {
            let expected = if raw.starts_with('"') {
                IdKind::Text
            } else {
                IdKind::Integer
            };
            assert_eq!(kind(raw), expected, "{raw}");
        }
    }

    #[test]
    fn null_fractions_and_structures_are_refused() {
        for raw in [
            "null",
            "true",
            "false",
            "1.5",
            "-0.1",
            "1.25e1",
            "1e-3",
            "12e-1",
            "1e-400",
            "{}",
            r#"{"a":1}"#,
            "[1]",
            "[]",
            "",
        ] {
            assert_eq!(kind(raw), IdKind::Refused, "{raw}");
        }
    }
}
