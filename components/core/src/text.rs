//! Free-text arguments (names, messages, decisions): a required one must not be blank.
//!
//! "Blank" is spelled out here once, as the validator and as the JSON Schema `pattern` the
//! OpenAPI document publishes, so a client's schema check and the server agree on every
//! character: Rust's `char::is_whitespace` and a regex's `\s` differ (Python's `\s` also
//! matches U+001C..U+001F), hence the explicit class.

/// The white-space characters (Unicode `White_Space`, as `char::is_whitespace`), as ranges.
const WHITESPACE: &[(char, char)] = &[
    ('\t', '\r'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

fn is_space(c: char) -> bool {
    WHITESPACE.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c))
}

/// Whether `text` has no character other than white space (the empty text is blank).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_space)
}

/// A JSON Schema `pattern` that a text matches exactly when it is not blank: one character
/// outside the white-space class.
pub fn not_blank_pattern() -> String {
    let mut class = String::from("[^");
    for (lo, hi) in WHITESPACE {
        class.push_str(&format!("\\u{:04x}", *lo as u32));
        if lo != hi {
            class.push_str(&format!("-\\u{:04x}", *hi as u32));
        }
    }
    class.push(']');
    class
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_is_rusts_white_space() {
        for c in (0..=0x10ffff_u32).filter_map(char::from_u32) {
            assert_eq!(is_space(c), c.is_whitespace(), "{c:?}");
        }
    }

    #[test]
    fn blank_texts() {
        assert!(is_blank(""));
        assert!(is_blank(" \t\n\u{3000}"));
        assert!(!is_blank(" a "));
        assert!(!is_blank("\u{1c}"));
    }

    #[test]
    fn the_pattern_names_every_range() {
        let p = not_blank_pattern();
        assert!(p.starts_with("[^\\u0009-\\u000d\\u0020"), "{p}");
        assert!(p.ends_with("\\u3000]"), "{p}");
    }
}
