//! Every statement on the `documents` table in PostgreSQL's dialect. Reads name [`COLUMNS`]
//! in that order (by position for a driver that reads positions, by name for one that reads
//! rows as JSON objects); each write is one conditional statement per precondition that
//! returns the row it wrote, so several hosts on one database never lose an update and "no
//! row" means the precondition failed (see `rules::unmet_precondition`).

use super::filters::filter_sql;
use crate::store::statement::{SqlValue, Statement};
use crate::store::{Expect, ImportMode, StoreError, WriteRef};

/// The columns every document read returns, in this order (`data` as JSON text).
pub const COLUMNS: &str = "collection, id, data::text, version, created_at, updated_at";

/// A tenant's non-empty collections (column `collection`), as a loose index scan: one
/// primary-key probe per collection instead of reading every row.
pub fn list_collections(tenant: &str) -> Statement {
    Statement::new(
        "WITH RECURSIVE c(name) AS (
           SELECT min(collection) FROM documents WHERE tenant = $1
           UNION ALL
           SELECT (SELECT min(collection) FROM documents WHERE tenant = $1 AND collection > c.name)
           FROM c WHERE c.name IS NOT NULL
         )
         SELECT name AS collection FROM c WHERE name IS NOT NULL",
        vec![tenant.into()],
    )
}

/// A tenant's totals: columns `documents` and `size_bytes` (the bytes of its data).
pub fn stats(tenant: &str) -> Statement {
    Statement::new(
        "SELECT COUNT(*) AS documents,
           COALESCE(SUM(octet_length(data::text)), 0)::bigint AS size_bytes
         FROM documents WHERE tenant = $1",
        vec![tenant.into()],
    )
}

/// Every tenant holding at least one document (column `tenant`), for a migration; read as
/// the owner, since a tenant-scoped role sees one tenant only.
pub const LIST_TENANTS: &str = "SELECT DISTINCT tenant FROM documents ORDER BY tenant";

/// One document.
pub fn get(tenant: &str, collection: &str, id: &str) -> Statement {
    Statement::new(
        format!(
            "SELECT {COLUMNS} FROM documents WHERE tenant = $1 AND collection = $2 AND id = $3"
        ),
        vec![tenant.into(), collection.into(), id.into()],
    )
}

/// Several documents in one statement: the keys as `get_many::keys_json` writes them, then
/// the tenant. Each found row is [`COLUMNS`] then `key_position`, the position of its key (a
/// key given twice answers twice), in key order. Each key is one primary-key lookup (a
/// lateral subquery, so the planner never trades them for a scan of the table), and the
/// text stays the same for any number of keys (one prepared statement).
pub fn get_many(tenant: &str, keys_json: &str) -> Statement {
    Statement::new(
        "SELECT d.collection, d.id, d.data, d.version, d.created_at, d.updated_at,
                k.ord - 1 AS key_position
         FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS k(pair, ord)
         CROSS JOIN LATERAL (
           SELECT collection, id, data::text AS data, version, created_at, updated_at
           FROM documents
           WHERE tenant = $2 AND collection = k.pair->>0 AND id = k.pair->>1 LIMIT 1
         ) AS d
         ORDER BY k.ord",
        vec![keys_json.into(), tenant.into()],
    )
}

/// A document's current version (column `version`), read after a conditional statement
/// changed nothing, for the conflict message.
pub fn version_of(tenant: &str, collection: &str, id: &str) -> Statement {
    Statement::new(
        "SELECT version FROM documents WHERE tenant = $1 AND collection = $2 AND id = $3",
        vec![tenant.into(), collection.into(), id.into()],
    )
}

/// One write under its precondition; returns the written row ([`COLUMNS`]), or none when
/// the precondition failed.
pub fn put(tenant: &str, w: WriteRef<'_>, now: u64) -> Statement {
    let mut params: Vec<SqlValue> = vec![
        tenant.into(),
        w.collection.into(),
        w.id.into(),
        w.data.into(),
        now.into(),
    ];
    let sql = match w.expect {
        Expect::Any => format!(
            "INSERT INTO documents (tenant, collection, id, data, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4::text::jsonb, 1, $5, $5)
             ON CONFLICT (tenant, collection, id) DO UPDATE SET
               data = excluded.data, version = documents.version + 1,
               updated_at = excluded.updated_at
             RETURNING {COLUMNS}"
        ),
        Expect::Absent => format!(
            "INSERT INTO documents (tenant, collection, id, data, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4::text::jsonb, 1, $5, $5)
             ON CONFLICT (tenant, collection, id) DO NOTHING
             RETURNING {COLUMNS}"
        ),
        Expect::Version(v) => {
            params.push(v.into());
            format!(
                "UPDATE documents SET data = $4::text::jsonb, version = version + 1,
                   updated_at = $5
                 WHERE tenant = $1 AND collection = $2 AND id = $3 AND version = $6
                 RETURNING {COLUMNS}"
            )
        }
    };
    Statement::new(sql, params)
}

/// Deletes a document, only at `expected` when given; returns the deleted version (column
/// `version`), or no row when nothing was deleted (see `rules::missed_delete`).
pub fn delete(tenant: &str, collection: &str, id: &str, expected: Option<u64>) -> Statement {
    match expected {
        None => Statement::new(
            "DELETE FROM documents WHERE tenant = $1 AND collection = $2 AND id = $3
             RETURNING version",
            vec![tenant.into(), collection.into(), id.into()],
        ),
        Some(v) => Statement::new(
            "DELETE FROM documents WHERE tenant = $1 AND collection = $2 AND id = $3
               AND version = $4 RETURNING version",
            vec![tenant.into(), collection.into(), id.into(), v.into()],
        ),
    }
}

/// One page of an equality query in id order after `cursor`, reading `limit + 1` documents
/// (see `page::finish_page`); `columns` when the filters' generated columns exist.
pub fn query(
    tenant: &str,
    collection: &str,
    filters: &[(&str, &str)],
    limit: u32,
    cursor: Option<&str>,
    columns: bool,
) -> Result<Statement, StoreError> {
    let (cond, fparams) = filter_sql(filters, 4, columns)?;
    let mut params: Vec<SqlValue> = vec![
        tenant.into(),
        collection.into(),
        cursor.unwrap_or("").into(),
    ];
    params.extend(fparams.into_iter().map(SqlValue::Text));
    params.push((limit as u64 + 1).into());
    Ok(Statement::new(
        format!(
            "SELECT {COLUMNS} FROM documents WHERE tenant = $1 AND collection = $2 AND id > $3{cond} ORDER BY id LIMIT ${}",
            params.len()
        ),
        params,
    ))
}

/// The number of matching documents (column `count`); `columns` when the filters'
/// generated columns exist.
pub fn count(
    tenant: &str,
    collection: &str,
    filters: &[(&str, &str)],
    columns: bool,
) -> Result<Statement, StoreError> {
    let (cond, fparams) = filter_sql(filters, 3, columns)?;
    let mut params: Vec<SqlValue> = vec![tenant.into(), collection.into()];
    params.extend(fparams.into_iter().map(SqlValue::Text));
    Ok(Statement::new(
        format!(
            "SELECT COUNT(*) AS count FROM documents WHERE tenant = $1 AND collection = $2{cond}"
        ),
        params,
    ))
}

/// Up to `limit` documents in id order strictly after `after`.
pub fn scan(tenant: &str, collection: &str, after: Option<&str>, limit: u32) -> Statement {
    Statement::new(
        format!(
            "SELECT {COLUMNS} FROM documents WHERE tenant = $1 AND collection = $2 AND id > $3
             ORDER BY id LIMIT $4"
        ),
        vec![
            tenant.into(),
            collection.into(),
            after.unwrap_or("").into(),
            (limit as u64).into(),
        ],
    )
}

/// Writes a batch of documents exactly as given (versions and timestamps kept) in one
/// statement, for a migration. The first parameter is the tenant; the six after it are
/// arrays (`text[]` collections, ids and data, `bigint[]` versions, created and updated
/// times), which a driver binds itself; the statement returns `collection, id` of every
/// document it wrote.
pub fn import(mode: ImportMode) -> String {
    let on_conflict = match mode {
        ImportMode::Merge => "DO NOTHING",
        ImportMode::Overwrite => {
            "DO UPDATE SET data = excluded.data, version = excluded.version,
               created_at = excluded.created_at, updated_at = excluded.updated_at"
        }
    };
    format!(
        "INSERT INTO documents (tenant, collection, id, data, version, created_at, updated_at)
         SELECT $1, c, i, d::jsonb, v, ca, ua
         FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
           AS t(c, i, d, v, ca, ua)
         ON CONFLICT (tenant, collection, id) {on_conflict}
         RETURNING collection, id"
    )
}

/// The documents ([`COLUMNS`]) of the tenant in the first parameter at the (collection, id)
/// pairs of two `text[]` parameters, for comparing an import's skipped documents with the
/// target's.
pub fn existing_for_import() -> String {
    format!(
        "SELECT {COLUMNS} FROM documents
         WHERE tenant = $1 AND (collection, id) IN (SELECT * FROM unnest($2::text[], $3::text[]))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_precondition_is_one_statement_returning_the_row() {
        for expect in [Expect::Any, Expect::Absent, Expect::Version(3)] {
            let w = WriteRef {
                collection: "c",
                id: "d",
                data: "{}",
                expect,
            };
            let s = put("t", w, 7);
            assert!(
                s.sql.trim_end().ends_with(&format!("RETURNING {COLUMNS}")),
                "{}",
                s.sql
            );
            let highest = (1..=s.params.len())
                .rev()
                .find(|n| s.sql.contains(&format!("${n}")));
            assert_eq!(highest, Some(s.params.len()), "{}", s.sql);
        }
    }

    #[test]
    fn get_many_is_one_statement_of_one_parameter_probing_the_key() {
        let s = get_many("t", r#"[["c","a"],["c","b"]]"#);
        assert_eq!(
            s.params,
            vec![
                SqlValue::Text(r#"[["c","a"],["c","b"]]"#.into()),
                SqlValue::Text("t".into())
            ]
        );
        assert!(!s.sql.contains("$3"), "{}", s.sql);
        assert!(s.sql.contains("CROSS JOIN LATERAL"), "{}", s.sql);
        assert_eq!(
            get_many("t", "[]").sql,
            s.sql,
            "one text for any number of keys"
        );
    }

    #[test]
    fn a_query_numbers_its_limit_after_the_filters() {
        let q = query("t", "c", &[("status", "\"todo\"")], 10, Some("a"), false).unwrap();
        assert!(q.sql.ends_with("ORDER BY id LIMIT $6"), "{}", q.sql);
        assert_eq!(q.params.len(), 6);
        assert_eq!(q.params[5], SqlValue::Integer(11));
        let c = count("t", "c", &[], false).unwrap();
        assert_eq!(
            c.sql,
            "SELECT COUNT(*) AS count FROM documents WHERE tenant = $1 AND collection = $2"
        );
    }
}
