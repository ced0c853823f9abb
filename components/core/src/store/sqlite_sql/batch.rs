//! A whole batch of conditional writes as one SQLite statement. Spin serves every instance of
//! an app from one shared SQLite connection, so a transaction spread over several statements
//! could interleave with another request's; one statement is atomic whatever else runs.

use super::documents::COLUMNS;
use crate::store::statement::{SqlValue, Statement};
use crate::store::{Expect, WriteRef};

/// All `writes` in one `INSERT … SELECT` whose rows exist only when every precondition
/// holds, so SQLite applies the whole batch or none of it. It returns the written rows
/// ([`COLUMNS`], in no particular order); fewer rows than writes means nothing was written
/// and some precondition failed. Ids must be distinct within the batch.
pub fn put_all(tenant: &str, writes: &[WriteRef<'_>], now: u64) -> Statement {
    let mut params: Vec<SqlValue> = Vec::with_capacity(writes.len() * 6 + 2);
    let mut rows = Vec::with_capacity(writes.len());
    for (pos, w) in writes.iter().enumerate() {
        let (kind, version) = match w.expect {
            Expect::Any => ("any", 0),
            Expect::Absent => ("absent", 0),
            Expect::Version(v) => ("version", v),
        };
        rows.push("(?, ?, ?, ?, ?, ?)");
        params.extend([
            (pos as u64).into(),
            w.collection.into(),
            w.id.into(),
            w.data.into(),
            kind.into(),
            version.into(),
        ]);
    }
    params.extend([tenant.into(), tenant.into(), now.into(), now.into()]);
    let sql = format!(
        "WITH batch (pos, collection, id, data, kind, want) AS (VALUES {}),
         checked AS (
           SELECT b.*, d.version AS have, d.created_at AS created,
             (b.kind = 'any'
              OR (b.kind = 'absent' AND d.version IS NULL)
              OR (b.kind = 'version' AND d.version = b.want)) AS ok
           FROM batch b LEFT JOIN documents d
             ON d.tenant = ? AND d.collection = b.collection AND d.id = b.id)
         INSERT INTO documents (tenant, {COLUMNS})
         SELECT ?, collection, id, data, COALESCE(have, 0) + 1, COALESCE(created, ?), ?
         FROM checked
         WHERE NOT EXISTS (SELECT 1 FROM checked WHERE NOT ok)
         ON CONFLICT (tenant, collection, id) DO UPDATE SET
           data = excluded.data, version = excluded.version,
           updated_at = excluded.updated_at
         RETURNING {COLUMNS}",
        rows.join(", ")
    );
    Statement::new(sql, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_binds_its_six_values_and_the_clock_closes_the_list() {
        let w = |id| WriteRef {
            collection: "c",
            id,
            data: "{}",
            expect: Expect::Version(4),
        };
        let s = put_all("t", &[w("a"), w("b")], 9);
        assert_eq!(s.params.len(), 16);
        assert_eq!(s.sql.matches('?').count(), s.params.len());
        assert_eq!(s.params[5], SqlValue::Integer(4));
        assert_eq!(s.params[12], SqlValue::Text("t".into()));
        assert_eq!(s.params[15], SqlValue::Integer(9));
    }
}
