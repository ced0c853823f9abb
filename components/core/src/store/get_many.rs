//! The rules of `get-many`, shared by every backend: the bound on the number of keys, the keys
//! as the one JSON parameter the dialects' statements take (so a batch of any size is one
//! statement with one parameter), and the answer put back in request order.

use super::{MAX_GET_MANY, StoreError};

/// Refuses more than [`MAX_GET_MANY`] keys.
pub fn check_count(keys: usize) -> Result<(), StoreError> {
    if keys > MAX_GET_MANY {
        return Err(StoreError::Invalid(format!(
            "get-many reads at most {MAX_GET_MANY} keys, got {keys}; split the read"
        )));
    }
    Ok(())
}

/// The keys as JSON text, `[["collection","id"],…]` in request order; the statements join
/// on its elements and answer each row with its element's position.
pub fn keys_json<'a>(keys: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let pairs: Vec<[&str; 2]> = keys.into_iter().map(|(c, i)| [c, i]).collect();
    serde_json::to_string(&pairs).expect("strings always serialize")
}

/// One entry per key, in request order: the document found for its position, else `None`.
/// Positions out of range (a backend bug) are ignored rather than trusted. Generic over the
/// document type, so each host keeps its own (the WIT bindings' or `store::Document`).
pub fn in_request_order<D>(
    keys: usize,
    found: impl IntoIterator<Item = (usize, D)>,
) -> Vec<Option<D>> {
    let mut out: Vec<Option<D>> = std::iter::repeat_with(|| None).take(keys).collect();
    for (position, doc) in found {
        if let Some(slot) = out.get_mut(position) {
            *slot = Some(doc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Document;

    fn doc(id: &str) -> Document {
        Document {
            collection: "c".into(),
            id: id.into(),
            data: "{}".into(),
            version: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn keys_travel_as_one_json_array_of_pairs() {
        assert_eq!(
            keys_json([("tasks", "t\"1"), ("agents", "a")]),
            r#"[["tasks","t\"1"],["agents","a"]]"#
        );
        assert_eq!(keys_json([]), "[]");
    }

    #[test]
    fn answers_follow_the_keys_and_missing_ones_are_none() {
        let got = in_request_order(
            4,
            [(2, doc("b")), (0, doc("a")), (3, doc("a")), (9, doc("x"))],
        );
        let ids: Vec<Option<&str>> = got
            .iter()
            .map(|d| d.as_ref().map(|d| d.id.as_str()))
            .collect();
        assert_eq!(ids, vec![Some("a"), None, Some("b"), Some("a")]);
    }

    #[test]
    fn the_key_count_is_bounded() {
        assert!(check_count(MAX_GET_MANY).is_ok());
        assert!(
            matches!(check_count(MAX_GET_MANY + 1), Err(StoreError::Invalid(m)) if m.contains("at most 1000"))
        );
    }
}
