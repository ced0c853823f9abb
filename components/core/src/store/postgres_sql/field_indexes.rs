//! The indexes that serve equality queries on PostgreSQL, one per combination of queried
//! fields, and how a host creates one: inside one transaction holding [`FIELD_INDEX_LOCK`], so
//! hosts sharing a database build each index once, one after the other, instead of racing
//! `CREATE INDEX IF NOT EXISTS` into duplicate-name errors.
//!
//! Each queried field gets a stored generated column holding its JSON value as text, and the
//! index is on those columns. Row-level security evaluates a query's own conditions only
//! after the tenant policy unless they are leakproof, and PostgreSQL's JSON operators are not:
//! an expression index on `data -> 'field'` would never serve a tenant's query. Text equality
//! on a column is leakproof, so the index does.

use super::schema::{QUIET_NOTICES, advisory_lock};
use crate::store::rules::check_field;
use crate::store::statement::Statement;

/// Advisory lock id that serialises field index creation across every host on a database
/// (`marcui`: the schema lock's `marcus` with an `i` for index).
pub const FIELD_INDEX_LOCK: i64 = 0x6d61_7263_7569;

/// `documents_by_<fields>`, within PostgreSQL's 63-byte identifier limit (long combinations
/// end in a hash of the full list instead).
pub fn index_name(fields: &[&str]) -> String {
    let plain: String = format!("documents_by_{}", fields.join("__"))
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if plain.len() <= 63 {
        return plain;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in fields.join(",").bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{}_{h:016x}", &plain[..63 - 17])
}

/// The generated column holding `field`'s JSON value as text (`f_<field>`, within
/// PostgreSQL's 63-byte identifier limit).
pub fn field_column(field: &str) -> String {
    let plain = index_name(&[field]);
    format!("f_{}", &plain["documents_by_".len().min(plain.len())..])
}

/// The statement adding `field`'s generated column when it is missing; `None` for an unsafe
/// field.
pub fn add_field_column(field: &str) -> Option<String> {
    check_field(field).ok()?;
    Some(format!(
        "ALTER TABLE documents ADD COLUMN IF NOT EXISTS {} text
         GENERATED ALWAYS AS ((data -> '{field}')::text) STORED",
        field_column(field)
    ))
}

/// The B-tree index on (tenant, collection, each field's column, id) that serves an equality
/// query on exactly these fields; `None` without fields or with an unsafe one.
pub fn field_index(fields: &[&str]) -> Option<String> {
    if fields.is_empty() || fields.iter().any(|f| check_field(f).is_err()) {
        return None;
    }
    let columns: Vec<String> = fields.iter().map(|f| field_column(f)).collect();
    Some(format!(
        "CREATE INDEX IF NOT EXISTS {} ON documents (tenant, collection, {}, id)",
        index_name(fields),
        columns.join(", ")
    ))
}

/// The statements that create the index for `fields`, to run in order inside one
/// transaction as the table's owner: quiet the "already exists" notices, take
/// [`FIELD_INDEX_LOCK`], add the columns, create the index. `None` without fields or with an
/// unsafe one.
pub fn create_field_index(fields: &[&str]) -> Option<Vec<Statement>> {
    let create = field_index(fields)?;
    let mut steps = vec![
        Statement::plain(QUIET_NOTICES),
        advisory_lock(FIELD_INDEX_LOCK),
    ];
    for f in fields {
        steps.push(Statement::plain(add_field_column(f)?));
    }
    steps.push(Statement::plain(create));
    Some(steps)
}

/// Whether a failed index creation means the index is there after all: a duplicate name
/// (42P07) or the catalog's unique violation (23505) that a concurrent creation outside the
/// lock (an older host) can still cause.
pub fn index_exists_error(sqlstate: &str) -> bool {
    matches!(sqlstate, "42P07" | "23505")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_fit_postgres_identifiers() {
        assert_eq!(
            index_name(&["project_id", "status"]),
            "documents_by_project_id__status"
        );
        assert_eq!(index_name(&["a-b"]), "documents_by_a_b");
        let long = index_name(&[
            "a_really_long_field_name",
            "another_long_field",
            "third_one",
        ]);
        assert_eq!(long.len(), 63);
        assert_ne!(
            long,
            index_name(&[
                "a_really_long_field_name",
                "another_long_field",
                "third_two"
            ])
        );
        assert!(
            field_index(&["status"])
                .unwrap()
                .contains("(tenant, collection, f_status, id)")
        );
    }

    #[test]
    fn creation_takes_the_index_lock_inside_its_transaction() {
        let steps = create_field_index(&["status"]).unwrap();
        assert_eq!(steps[1].sql, "SELECT pg_advisory_xact_lock($1)");
        assert_eq!(steps[1].params, vec![FIELD_INDEX_LOCK.into()]);
        assert!(
            steps[2]
                .sql
                .starts_with("ALTER TABLE documents ADD COLUMN IF NOT EXISTS f_status text")
        );
        assert!(
            steps[3]
                .sql
                .starts_with("CREATE INDEX IF NOT EXISTS documents_by_status")
        );
        assert!(create_field_index(&[]).is_none());
        assert!(index_exists_error("42P07") && !index_exists_error("53300"));
    }
}
