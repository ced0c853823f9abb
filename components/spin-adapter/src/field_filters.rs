//! Equality filters on top-level JSON fields as Spin SQLite SQL: the shared builder
//! (`marcus_core::store::sqlite_sql`), typed like the native SQLite backend, with Spin's
//! parameter values.

use crate::bindings::Error;
use crate::bindings::sqlite::Value;
use crate::bindings::storage::FieldFilter;
use marcus_core::store::sqlite_sql::{self, SqlValue};

/// Filters as `(field, JSON value)` pairs, the shape the shared SQL builders take.
pub fn pairs(filters: &[FieldFilter]) -> Vec<(&str, &str)> {
    filters
        .iter()
        .map(|f| (f.field.as_str(), f.value.as_str()))
        .collect()
}

/// The `AND …` conditions and their parameters for `filters`.
pub fn sql(filters: &[FieldFilter]) -> Result<(String, Vec<Value>), Error> {
    let (sql, params) = sqlite_sql::filter_sql(&pairs(filters))?;
    let params = params
        .into_iter()
        .map(|p| match p {
            SqlValue::Integer(i) => Value::Integer(i),
            SqlValue::Real(r) => Value::Real(r),
            SqlValue::Text(t) => Value::Text(t),
        })
        .collect();
    Ok((sql, params))
}

/// The expression index serving a combination of filtered fields, and the statement that
/// creates it; `None` without filters.
pub fn index_for(filters: &[FieldFilter]) -> Option<(String, String)> {
    let fields: Vec<&str> = filters.iter().map(|f| f.field.as_str()).collect();
    sqlite_sql::field_index(&fields)
}
