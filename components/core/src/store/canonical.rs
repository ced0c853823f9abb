//! One canonical text per JSON value, so copies of a document in different stores compare
//! and hash equal whatever formatting each store applied.

/// Object keys sorted, no spaces, integral numbers written as integers.
pub fn canonical_json(text: &str) -> String {
    fn normalize(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    Value::from(f as i64)
                }
                _ => Value::Number(n),
            },
            Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
            Value::Object(map) => {
                let sorted: std::collections::BTreeMap<String, Value> =
                    map.into_iter().map(|(k, v)| (k, normalize(v))).collect();
                Value::Object(sorted.into_iter().collect())
            }
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => normalize(v).to_string(),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_ignores_formatting_only() {
        assert_eq!(
            canonical_json(r#"{"b": 1, "a": [1.0, 2.5, {"d": null, "c": "x"}]}"#),
            r#"{"a":[1,2.5,{"c":"x","d":null}],"b":1}"#
        );
        assert_eq!(canonical_json("1e2"), canonical_json("100"));
        assert_ne!(
            canonical_json(r#"{"a": "1"}"#),
            canonical_json(r#"{"a": 1}"#)
        );
    }
}
