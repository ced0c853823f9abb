//! Equality filters on top-level JSON fields as PostgreSQL SQL: exact JSON equality that the
//! GIN index and the field indexes can serve.

use crate::store::StoreError;
use crate::store::rules::filter_value;

/// SQL condition and text parameters for `(field, JSON value)` filters, numbered from
/// `$first`. `data @> {...}` lets the GIN index find candidates; `data -> field = value`
/// makes it exact equality (containment alone would let `[1]` match `[1, 2]`).
pub fn filter_sql(
    filters: &[(&str, &str)],
    first: usize,
) -> Result<(String, Vec<String>), StoreError> {
    if filters.is_empty() {
        return Ok((String::new(), Vec::new()));
    }
    let mut containment = serde_json::Map::new();
    let mut sql = String::new();
    let mut params = Vec::new();
    for (field, json) in filters {
        let value = filter_value(field, json)?;
        params.push(value.to_string());
        sql.push_str(&format!(
            " AND data -> '{field}' = ${}::text::jsonb",
            first + params.len() - 1
        ));
        containment.insert(field.to_string(), value);
    }
    params.push(serde_json::Value::Object(containment).to_string());
    sql.push_str(&format!(
        " AND data @> ${}::text::jsonb",
        first + params.len() - 1
    ));
    Ok((sql, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_exact_and_use_containment() {
        let (sql, params) = filter_sql(&[("status", "\"todo\""), ("n", "3")], 3).unwrap();
        assert_eq!(
            sql,
            " AND data -> 'status' = $3::text::jsonb AND data -> 'n' = $4::text::jsonb AND data @> $5::text::jsonb"
        );
        assert_eq!(params, vec!["\"todo\"", "3", r#"{"n":3,"status":"todo"}"#]);
        assert!(filter_sql(&[("a' OR '1", "1")], 1).is_err());
    }
}
