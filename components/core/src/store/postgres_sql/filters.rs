//! Equality filters on top-level JSON fields as PostgreSQL SQL: exact JSON equality that the
//! GIN index and the field indexes can serve.

use crate::store::StoreError;
use crate::store::rules::filter_value;

/// SQL condition and text parameters for `(field, JSON value)` filters, numbered from
/// `$first`. `data @> {...}` lets the GIN index find candidates; `data -> field = value`
/// makes it exact equality (containment alone would let `[1]` match `[1, 2]`). With
/// `columns` (the fields' generated columns exist, see `field_indexes`), a string, boolean
/// or null value is also compared as text with its column, which the field index serves
/// under row-level security; numbers are not (`1.0` and `1` are equal JSON, not equal
/// text).
pub fn filter_sql(
    filters: &[(&str, &str)],
    first: usize,
    columns: bool,
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
        let n = first + params.len() - 1;
        sql.push_str(&format!(" AND data -> '{field}' = ${n}::text::jsonb"));
        if columns && !value.is_number() && !value.is_array() && !value.is_object() {
            sql.push_str(&format!(
                " AND {} = (${n}::text::jsonb)::text",
                super::field_indexes::field_column(field)
            ));
        }
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
        let (sql, params) = filter_sql(&[("status", "\"todo\""), ("n", "3")], 3, false).unwrap();
        assert_eq!(
            sql,
            " AND data -> 'status' = $3::text::jsonb AND data -> 'n' = $4::text::jsonb AND data @> $5::text::jsonb"
        );
        assert_eq!(params, vec!["\"todo\"", "3", r#"{"n":3,"status":"todo"}"#]);
        assert!(filter_sql(&[("a' OR '1", "1")], 1, false).is_err());
        let (sql, _) = filter_sql(&[("status", "\"todo\""), ("n", "3")], 3, true).unwrap();
        assert!(
            sql.contains(" AND f_status = ($3::text::jsonb)::text"),
            "{sql}"
        );
        assert!(
            !sql.contains("f_n"),
            "numbers are compared as JSON only: {sql}"
        );
    }
}
