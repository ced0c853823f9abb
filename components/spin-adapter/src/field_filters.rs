//! Equality filters on top-level JSON fields as SQL, typed like the native SQLite backend:
//! `true` never equals `1` and `"3"` never equals `3`.

use crate::bindings::Error;
use crate::bindings::sqlite::Value;
use crate::bindings::storage::FieldFilter;
use crate::checks;

/// The `AND …` conditions and their parameters for `filters`.
pub fn sql(filters: &[FieldFilter]) -> Result<(String, Vec<Value>), Error> {
    let mut sql = String::new();
    let mut params = Vec::new();
    for f in filters {
        checks::field(&f.field)?;
        let value: serde_json::Value = serde_json::from_str(&f.value).map_err(|e| {
            Error::Invalid(format!("filter value for {} is not JSON: {e}", f.field))
        })?;
        let path = format!("'$.\"{}\"'", f.field);
        let (type_name, bound) = match &value {
            serde_json::Value::Null => ("null", None),
            serde_json::Value::Bool(true) => ("true", Some(Value::Integer(1))),
            serde_json::Value::Bool(false) => ("false", Some(Value::Integer(0))),
            serde_json::Value::String(text) => ("text", Some(Value::Text(text.clone()))),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => ("integer", Some(Value::Integer(i))),
                None => ("real", Some(Value::Real(n.as_f64().unwrap_or(0.0)))),
            },
            _ => {
                sql.push_str(&format!(
                    " AND json_extract(data, {path}) IS json(?) AND json_type(data, {path}) IS json_type(?)"
                ));
                params.extend([Value::Text(f.value.clone()), Value::Text(f.value.clone())]);
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

/// The expression index serving a combination of filtered fields, and the statement that
/// creates it; `None` without filters.
pub fn index_for(filters: &[FieldFilter]) -> Option<(String, String)> {
    if filters.is_empty() || filters.iter().any(|f| checks::field(&f.field).is_err()) {
        return None;
    }
    let fields: Vec<&str> = filters.iter().map(|f| f.field.as_str()).collect();
    let name: String = format!("documents_by_{}", fields.join("__"))
        .chars()
        .map(|c| if c == '-' { '_' } else { c })
        .collect();
    let columns: Vec<String> = fields
        .iter()
        .map(|f| format!("json_extract(data, '$.\"{f}\"')"))
        .collect();
    let create = format!(
        "CREATE INDEX IF NOT EXISTS {name} ON documents (collection, {}, id)",
        columns.join(", ")
    );
    Some((name, create))
}
