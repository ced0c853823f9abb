//! The expression indexes that serve equality queries on SQLite: one per combination of
//! filtered fields, created the first time it is queried, so queries stay index lookups as
//! collections grow.

use crate::store::rules::check_field;

/// The expression index serving a combination of filtered fields (the tenant and collection
/// first, the fields in the order given, then id for the result order): its name and the statement that creates it.
/// `None` without filters or with a field outside the safe alphabet.
pub fn field_index(fields: &[&str]) -> Option<(String, String)> {
    if fields.is_empty() || fields.iter().any(|f| check_field(f).is_err()) {
        return None;
    }
    let name: String = format!("documents_by_{}", fields.join("__"))
        .chars()
        .map(|c| if c == '-' { '_' } else { c })
        .collect();
    let columns: Vec<String> = fields
        .iter()
        .map(|f| format!("json_extract(data, '$.\"{f}\"')"))
        .collect();
    let create = format!(
        "CREATE INDEX IF NOT EXISTS {name} ON documents (tenant, collection, {}, id)",
        columns.join(", ")
    );
    Some((name, create))
}

/// The names of the field indexes a database already has, for a host that learns them once
/// instead of creating each again.
pub const EXISTING_FIELD_INDEXES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'documents_by_%'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_follow_the_fields() {
        let (name, create) = field_index(&["project_id", "deps-remaining"]).unwrap();
        assert_eq!(name, "documents_by_project_id__deps_remaining");
        assert!(create.ends_with("json_extract(data, '$.\"deps-remaining\"'), id)"));
        assert!(field_index(&[]).is_none());
    }
}
