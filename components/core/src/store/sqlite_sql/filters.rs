//! Equality filters on top-level JSON fields as SQLite SQL. Scalars compare as plain SQL
//! values (so expression indexes serve them) plus a check of the JSON type, so `true` never
//! equals `1` and `"3"` never equals `3`. Field names are checked to a safe alphabet, so the
//! JSON path is written into the SQL.

use crate::store::StoreError;
use crate::store::rules::filter_value;
use crate::store::statement::SqlValue;

/// The `AND …` conditions and their parameters for `(field, JSON value)` filters.
pub fn filter_sql(filters: &[(&str, &str)]) -> Result<(String, Vec<SqlValue>), StoreError> {
    let mut sql = String::new();
    let mut params = Vec::new();
    for (field, json) in filters {
        let value = filter_value(field, json)?;
        let path = format!("'$.\"{field}\"'");
        let (type_name, bound) = match &value {
            serde_json::Value::Null => ("null", None),
            serde_json::Value::Bool(true) => ("true", Some(SqlValue::Integer(1))),
            serde_json::Value::Bool(false) => ("false", Some(SqlValue::Integer(0))),
            serde_json::Value::String(text) => ("text", Some(SqlValue::Text(text.clone()))),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => ("integer", Some(SqlValue::Integer(i))),
                None => ("real", Some(SqlValue::Real(n.as_f64().unwrap_or(0.0)))),
            },
            _ => {
                sql.push_str(&format!(
                    " AND json_extract(data, {path}) IS json(?) AND json_type(data, {path}) IS json_type(?)"
                ));
                params.extend([
                    SqlValue::Text(json.to_string()),
                    SqlValue::Text(json.to_string()),
                ]);
                continue;
            }
        };
        match bound {
            Some(v) => {
                sql.push_str(&format!(
                    " AND json_extract(data, {path}) = ? AND json_type(data, {path}) = '{type_name}'"
                ));
                params.push(v);
            }
            None => sql.push_str(&format!(" AND json_type(data, {path}) = 'null'")),
        }
    }
    Ok((sql, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_typed_and_containers_compare_as_json() {
        let (sql, params) = filter_sql(&[("n", "3"), ("flag", "true"), ("tags", "[1]")]).unwrap();
        assert!(
            sql.contains("json_type(data, '$.\"n\"') = 'integer'"),
            "{sql}"
        );
        assert!(
            sql.contains("json_type(data, '$.\"flag\"') = 'true'"),
            "{sql}"
        );
        assert!(sql.contains("IS json(?)"), "{sql}");
        assert_eq!(params[0], SqlValue::Integer(3));
        assert_eq!(params[1], SqlValue::Integer(1));
        assert!(filter_sql(&[("bad field", "1")]).is_err());
        assert!(filter_sql(&[("n", "{")]).is_err());
    }
}
