//! Filters in the shape the shared statement builders (`marcus_core::store`) take, for both
//! of the adapter's backends.

use crate::bindings::storage::FieldFilter;

/// Filters as `(field, JSON value)` pairs.
pub fn pairs(filters: &[FieldFilter]) -> Vec<(&str, &str)> {
    filters
        .iter()
        .map(|f| (f.field.as_str(), f.value.as_str()))
        .collect()
}
