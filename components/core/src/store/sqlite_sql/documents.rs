//! Every statement on the `documents` table in SQLite's dialect. Reads name [`COLUMNS`] in
//! that order; each write is one conditional statement per precondition that returns the
//! row it wrote, so "no row" means the precondition failed (see `rules::unmet_precondition`).

use super::filters::filter_sql;
use crate::store::statement::{SqlValue, Statement};
use crate::store::{Document, Expect, ImportMode, StoreError, WriteRef};

/// The columns every document read returns, in this order.
pub const COLUMNS: &str = "collection, id, data, version, created_at, updated_at";

/// A tenant's non-empty collections, sorted (one column).
pub fn list_collections(tenant: &str) -> Statement {
    Statement::new(
        "SELECT DISTINCT collection FROM documents WHERE tenant = ? ORDER BY collection",
        vec![tenant.into()],
    )
}

/// A tenant's totals in one row of two integers: its documents and the bytes of their
/// data.
pub fn stats(tenant: &str) -> Statement {
    Statement::new(
        "SELECT COUNT(*), COALESCE(SUM(length(CAST(data AS BLOB))), 0) FROM documents WHERE tenant = ?",
        vec![tenant.into()],
    )
}

/// Every tenant holding at least one document, sorted (one column), for a migration.
pub const LIST_TENANTS: &str = "SELECT DISTINCT tenant FROM documents ORDER BY tenant";

/// One document.
pub fn get(tenant: &str, collection: &str, id: &str) -> Statement {
    Statement::new(
        format!("SELECT {COLUMNS} FROM documents WHERE tenant = ? AND collection = ? AND id = ?"),
        vec![tenant.into(), collection.into(), id.into()],
    )
}

/// Several documents in one statement with one parameter, the keys as
/// `get_many::keys_json` writes them: each found row is [`COLUMNS`] then the position of its
/// key (a key given twice answers twice), in key order. The keys drive the join, so each is
/// one primary-key lookup whatever the table holds, and the text stays the same for any
/// number of keys (one prepared statement).
pub fn get_many(tenant: &str, keys_json: &str) -> Statement {
    Statement::new(
        "SELECT d.collection, d.id, d.data, d.version, d.created_at, d.updated_at, k.key
         FROM json_each(?) AS k CROSS JOIN documents AS d
         WHERE d.tenant = ? AND d.collection = json_extract(k.value, '$[0]')
           AND d.id = json_extract(k.value, '$[1]')
         ORDER BY k.key",
        vec![keys_json.into(), tenant.into()],
    )
}

/// A document's current version (one column), read after a conditional statement changed
/// nothing, for the conflict message.
pub fn version_of(tenant: &str, collection: &str, id: &str) -> Statement {
    Statement::new(
        "SELECT version FROM documents WHERE tenant = ? AND collection = ? AND id = ?",
        vec![tenant.into(), collection.into(), id.into()],
    )
}

/// One write under its precondition; returns the written row ([`COLUMNS`]), or none when
/// the precondition failed.
pub fn put(tenant: &str, w: WriteRef<'_>, now: u64) -> Statement {
    let returning = format!("RETURNING {COLUMNS}");
    let row = || -> Vec<SqlValue> {
        vec![
            tenant.into(),
            w.collection.into(),
            w.id.into(),
            w.data.into(),
            now.into(),
            now.into(),
        ]
    };
    match w.expect {
        Expect::Any => Statement::new(
            format!(
                "INSERT INTO documents (tenant, {COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?)
                 ON CONFLICT (tenant, collection, id) DO UPDATE SET
                   data = excluded.data, version = documents.version + 1,
                   updated_at = excluded.updated_at
                 {returning}"
            ),
            row(),
        ),
        Expect::Absent => Statement::new(
            format!(
                "INSERT INTO documents (tenant, {COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?)
                 ON CONFLICT (tenant, collection, id) DO NOTHING
                 {returning}"
            ),
            row(),
        ),
        Expect::Version(v) => Statement::new(
            format!(
                "UPDATE documents SET data = ?, version = version + 1, updated_at = ?
                 WHERE tenant = ? AND collection = ? AND id = ? AND version = ?
                 {returning}"
            ),
            vec![
                w.data.into(),
                now.into(),
                tenant.into(),
                w.collection.into(),
                w.id.into(),
                v.into(),
            ],
        ),
    }
}

/// Deletes a document, only at `expected` when given; returns the deleted version (one
/// column), or no row when nothing was deleted (see `rules::missed_delete`).
pub fn delete(tenant: &str, collection: &str, id: &str, expected: Option<u64>) -> Statement {
    match expected {
        None => Statement::new(
            "DELETE FROM documents WHERE tenant = ? AND collection = ? AND id = ? RETURNING version",
            vec![tenant.into(), collection.into(), id.into()],
        ),
        Some(v) => Statement::new(
            "DELETE FROM documents WHERE tenant = ? AND collection = ? AND id = ? AND version = ? RETURNING version",
            vec![tenant.into(), collection.into(), id.into(), v.into()],
        ),
    }
}

/// ` INDEXED BY name`: without statistics SQLite's planner would rather walk the primary key
/// in id order than use an expression index, so a query names the index serving it.
fn indexed_by(index: Option<&str>) -> String {
    index
        .map(|name| format!(" INDEXED BY {name}"))
        .unwrap_or_default()
}

/// One page of an equality query in id order after `cursor`, reading `limit + 1` documents
/// (see `page::finish_page`), through `index` when one serves the filters.
pub fn query(
    tenant: &str,
    collection: &str,
    filters: &[(&str, &str)],
    limit: u32,
    cursor: Option<&str>,
    index: Option<&str>,
) -> Result<Statement, StoreError> {
    let (cond, fparams) = filter_sql(filters)?;
    let mut params: Vec<SqlValue> = vec![
        tenant.into(),
        collection.into(),
        cursor.unwrap_or("").into(),
    ];
    params.extend(fparams);
    params.push((limit as u64 + 1).into());
    Ok(Statement::new(
        format!(
            "SELECT {COLUMNS} FROM documents{} WHERE tenant = ? AND collection = ? AND id > ?{cond} ORDER BY id LIMIT ?",
            indexed_by(index)
        ),
        params,
    ))
}

/// The number of matching documents (one column), through `index` when one serves.
pub fn count(
    tenant: &str,
    collection: &str,
    filters: &[(&str, &str)],
    index: Option<&str>,
) -> Result<Statement, StoreError> {
    let (cond, fparams) = filter_sql(filters)?;
    let mut params: Vec<SqlValue> = vec![tenant.into(), collection.into()];
    params.extend(fparams);
    Ok(Statement::new(
        format!(
            "SELECT COUNT(*) FROM documents{} WHERE tenant = ? AND collection = ?{cond}",
            indexed_by(index)
        ),
        params,
    ))
}

/// Up to `limit` documents in id order strictly after `after`.
pub fn scan(tenant: &str, collection: &str, after: Option<&str>, limit: u32) -> Statement {
    Statement::new(
        format!(
            "SELECT {COLUMNS} FROM documents WHERE tenant = ? AND collection = ? AND id > ? ORDER BY id LIMIT ?"
        ),
        vec![
            tenant.into(),
            collection.into(),
            after.unwrap_or("").into(),
            (limit as u64).into(),
        ],
    )
}

/// Writes a document exactly as given (version and timestamps kept), for a migration; in
/// merge mode an existing document stays and nothing changes (no row counted).
pub fn import(tenant: &str, doc: &Document, mode: ImportMode) -> Statement {
    let verb = match mode {
        ImportMode::Merge => "INSERT OR IGNORE",
        ImportMode::Overwrite => "INSERT OR REPLACE",
    };
    Statement::new(
        format!("{verb} INTO documents (tenant, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
        vec![
            tenant.into(),
            doc.collection.as_str().into(),
            doc.id.as_str().into(),
            doc.data.as_str().into(),
            doc.version.into(),
            doc.created_at.into(),
            doc.updated_at.into(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(expect: Expect) -> WriteRef<'static> {
        WriteRef {
            collection: "c",
            id: "d",
            data: "{}",
            expect,
        }
    }

    #[test]
    fn each_precondition_is_one_statement_returning_the_row() {
        for expect in [Expect::Any, Expect::Absent, Expect::Version(3)] {
            let s = put("t", write(expect), 7);
            assert!(
                s.sql.trim_end().ends_with(&format!("RETURNING {COLUMNS}")),
                "{}",
                s.sql
            );
            assert_eq!(s.sql.matches('?').count(), s.params.len(), "{}", s.sql);
        }
        assert!(
            put("t", write(Expect::Version(3)), 7)
                .params
                .contains(&SqlValue::Integer(3))
        );
        let d = delete("t", "c", "d", Some(2));
        assert_eq!(d.sql.matches('?').count(), d.params.len());
    }

    #[test]
    fn get_many_is_one_statement_of_one_parameter_driven_by_the_keys() {
        let s = get_many("t", r#"[["c","a"]]"#);
        assert_eq!(s.sql.matches('?').count(), 2, "{}", s.sql);
        assert_eq!(
            s.params,
            vec![
                SqlValue::Text(r#"[["c","a"]]"#.into()),
                SqlValue::Text("t".into())
            ]
        );
        assert!(
            s.sql.contains("json_each(?) AS k CROSS JOIN documents"),
            "{}",
            s.sql
        );
        assert_eq!(
            get_many("t", "[]").sql,
            s.sql,
            "one text for any number of keys"
        );
    }

    #[test]
    fn queries_read_one_more_than_the_page_and_name_their_index() {
        let q = query(
            "t",
            "c",
            &[("status", "\"todo\"")],
            10,
            None,
            Some("documents_by_status"),
        )
        .unwrap();
        assert!(
            q.sql.contains(" INDEXED BY documents_by_status WHERE"),
            "{}",
            q.sql
        );
        assert_eq!(q.params.last(), Some(&SqlValue::Integer(11)));
        assert_eq!(q.sql.matches('?').count(), q.params.len());
        let c = count("t", "c", &[], None).unwrap();
        assert_eq!(
            c.sql,
            "SELECT COUNT(*) FROM documents WHERE tenant = ? AND collection = ?"
        );
        assert!(query("t", "c", &[("bad field", "1")], 10, None, None).is_err());
    }
}
