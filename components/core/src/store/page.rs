//! Pages in id order: a backend reads one document more than asked; if it got it, there is
//! a next page, whose cursor is the last id kept.

/// Cuts `docs` (read with `limit + 1`) to `limit` and returns the next cursor, if any.
pub fn finish_page<T>(docs: &mut Vec<T>, limit: u32, id: impl Fn(&T) -> &str) -> Option<String> {
    if docs.len() > limit as usize {
        docs.truncate(limit as usize);
        docs.last().map(|d| id(d).to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_only_when_more_follow() {
        let mut more = vec!["a", "b", "c"];
        assert_eq!(finish_page(&mut more, 2, |s| s), Some("b".into()));
        assert_eq!(more, ["a", "b"]);
        let mut last = vec!["a", "b"];
        assert_eq!(finish_page(&mut last, 2, |s| s), None);
    }
}
