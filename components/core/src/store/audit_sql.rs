//! The audit tables and every statement on them, for both dialects from one text: SQLite's
//! `?` and PostgreSQL's `$n` placeholders are the only difference, except that PostgreSQL
//! places a record in the chain inside its insert (the hash computed by the database, as
//! `audit::chain::link` computes it), so appending costs no extra round trip there.

use crate::audit::{AuditFilter, SignedCheckpoint, StoredRecord};
use crate::store::statement::{SqlValue, Statement};

/// Which SQL dialect a statement is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (the native host's file, Spin's `default`).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The columns every record read returns, in this order.
pub const RECORD_COLUMNS: &str =
    "tenant, seq, id, at, actor, action, outcome, target, body, prev_hash, hash";

/// The columns every checkpoint read returns, in this order.
pub const CHECKPOINT_COLUMNS: &str = "tenant, seq, hash, at, prev_signature, public_key, signature";

/// The message both dialects' triggers refuse a change with.
pub const REFUSAL: &str =
    "audit records are append-only: they are never changed, and removed only behind a checkpoint";

/// Builds `sql` whose placeholders are written `?`, numbering them for PostgreSQL.
fn statement(dialect: Dialect, sql: &str, params: Vec<SqlValue>) -> Statement {
    match dialect {
        Dialect::Sqlite => Statement::new(sql, params),
        Dialect::Postgres => {
            let mut out = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            Statement::new(out, params)
        }
    }
}

/// The tables, their indexes and (SQLite) the triggers that keep them append-only. On
/// PostgreSQL the triggers, policies and grants come with [`postgres_security`].
pub fn schema(dialect: Dialect) -> Vec<String> {
    // SQLite keeps records (about a kilobyte each) in a rowid table: a table without rowid
    // stores whole rows in its key's B-tree, which suits small rows only.
    let (text, int) = match dialect {
        Dialect::Sqlite => ("TEXT", "INTEGER"),
        Dialect::Postgres => ("TEXT COLLATE \"C\"", "BIGINT"),
    };
    let mut steps = vec![
        format!(
            "CREATE TABLE IF NOT EXISTS audit_log (
                tenant {text} NOT NULL,
                seq {int} NOT NULL,
                id TEXT NOT NULL,
                at {int} NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                outcome TEXT NOT NULL,
                target TEXT NOT NULL,
                body TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL,
                PRIMARY KEY (tenant, seq)
            )"
        ),
        "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (tenant, at)".to_string(),
        format!(
            "CREATE TABLE IF NOT EXISTS audit_checkpoints (
                tenant {text} NOT NULL,
                seq {int} NOT NULL,
                hash TEXT NOT NULL,
                at {int} NOT NULL,
                prev_signature TEXT NOT NULL,
                public_key TEXT NOT NULL,
                signature TEXT NOT NULL,
                PRIMARY KEY (tenant, seq)
            )"
        ),
    ];
    if dialect == Dialect::Sqlite {
        steps.extend([
            format!(
                "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
                 BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            ),
            format!(
                "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
                 WHEN OLD.seq >= COALESCE((SELECT MAX(seq) FROM audit_checkpoints WHERE tenant = OLD.tenant), 0)
                 BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            ),
            format!(
                "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_change BEFORE UPDATE ON audit_checkpoints
                 BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            ),
            format!(
                "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
                 BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            ),
        ]);
    }
    steps
}

/// PostgreSQL's guards, run with the rest of row-level security: the same append-only
/// triggers as SQLite's (the owner is held to them too), a policy per table (a tenant sees
/// its own chain; the server scope, which the commands and the checkpointer use, sees
/// every chain), and for `app_role` only `SELECT` and `INSERT`.
pub fn postgres_security(app_role: &str, tenant_setting: &str, server_scope: &str) -> Vec<String> {
    let scope = format!("'{}'", server_scope.replace('\'', "''"));
    let visible = format!(
        "(tenant = current_setting('{tenant_setting}', true) OR current_setting('{tenant_setting}', true) = {scope})"
    );
    let mut steps = vec![format!(
        "CREATE OR REPLACE FUNCTION marcus_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_log' AND OLD.seq <
              COALESCE((SELECT MAX(seq) FROM audit_checkpoints WHERE tenant = OLD.tenant), 0) THEN
             RETURN OLD;
           END IF;
           RAISE EXCEPTION '{REFUSAL}';
         END $$"
    )];
    for table in ["audit_log", "audit_checkpoints"] {
        steps.extend([
            format!("DROP TRIGGER IF EXISTS {table}_append_only ON {table}"),
            format!(
                "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                 FOR EACH ROW EXECUTE FUNCTION marcus_audit_append_only()"
            ),
            format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
            format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
            format!("DROP POLICY IF EXISTS {table}_tenant ON {table}"),
            format!("CREATE POLICY {table}_tenant ON {table} USING {visible} WITH CHECK {visible}"),
            format!("REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {app_role}"),
            format!("GRANT SELECT, INSERT ON {table} TO {app_role}"),
        ]);
    }
    steps
}

/// The last record of `tenant`'s chain (`seq`, `hash`), if any (SQLite: read inside the
/// writing transaction, which already holds the database's write lock).
pub fn head(dialect: Dialect, tenant: &str) -> Statement {
    statement(
        dialect,
        "SELECT seq, hash FROM audit_log WHERE tenant = ? ORDER BY seq DESC LIMIT 1",
        vec![tenant.into()],
    )
}

/// Inserts a record already placed in its chain (SQLite, and imports).
pub fn insert(dialect: Dialect, r: &StoredRecord) -> Statement {
    statement(
        dialect,
        &format!(
            "INSERT INTO audit_log ({RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        vec![
            r.tenant.as_str().into(),
            r.seq.into(),
            r.id.as_str().into(),
            r.at.into(),
            r.actor.as_str().into(),
            r.action.as_str().into(),
            r.outcome.as_str().into(),
            r.target.as_str().into(),
            r.body.as_str().into(),
            r.prev_hash.as_str().into(),
            r.hash.as_str().into(),
        ],
    )
}

/// PostgreSQL: the transaction-level lock that orders the appends to `tenant`'s chain
/// across hosts (released at commit), run as its own statement so the insert after it
/// reads the head as it is once the lock is held.
pub fn postgres_chain_lock(tenant: &str) -> Statement {
    Statement::new(
        "SELECT pg_advisory_xact_lock(hashtextextended('marcus audit ' || $1, 0))",
        vec![tenant.into()],
    )
}

/// PostgreSQL: appends `r` (its `seq`, `prev_hash` and `hash` ignored) after the chain's
/// head, computing its place and hash in the statement; returns `seq, hash`. The hash is
/// `audit::chain::link`'s.
pub fn postgres_append(r: &StoredRecord) -> Statement {
    Statement::new(
        format!(
            "INSERT INTO audit_log ({RECORD_COLUMNS})
             SELECT $1, h.seq + 1, $2, $3, $4, $5, $6, $7, $8, h.hash,
                    encode(sha256(convert_to(h.hash || E'\\n' || (h.seq + 1)::text || E'\\n' || $8, 'UTF8')), 'hex')
             FROM (SELECT 0::bigint AS seq, '{genesis}'::text AS hash
                   UNION ALL (SELECT seq, hash FROM audit_log WHERE tenant = $1 ORDER BY seq DESC LIMIT 1)
                   ORDER BY seq DESC LIMIT 1) h
             RETURNING seq, hash",
            genesis = crate::audit::GENESIS
        ),
        vec![
            r.tenant.as_str().into(),
            r.id.as_str().into(),
            r.at.into(),
            r.actor.as_str().into(),
            r.action.as_str().into(),
            r.outcome.as_str().into(),
            r.target.as_str().into(),
            r.body.as_str().into(),
        ],
    )
}

/// A page of `tenant`'s records matching `filter`, newest first.
pub fn list(dialect: Dialect, tenant: &str, filter: &AuditFilter) -> Statement {
    let mut sql = format!("SELECT {RECORD_COLUMNS} FROM audit_log WHERE tenant = ?");
    let mut params: Vec<SqlValue> = vec![tenant.into()];
    let mut and = |condition: &str, value: SqlValue| {
        sql.push_str(" AND ");
        sql.push_str(condition);
        params.push(value);
    };
    if let Some(since) = filter.since {
        and("at >= ?", since.into());
    }
    if let Some(actor) = &filter.actor {
        and("actor = ?", actor.as_str().into());
    }
    if let Some(action) = &filter.action {
        and("action = ?", action.as_str().into());
    }
    if let Some(target) = &filter.target {
        and("target = ?", target.as_str().into());
    }
    if let Some(outcome) = filter.outcome {
        and("outcome = ?", outcome.as_str().into());
    }
    if let Some(before) = filter.before_seq {
        and("seq < ?", before.into());
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    params.push((filter.limit.max(1) as u64).into());
    statement(dialect, &sql, params)
}

/// Up to `limit` of `tenant`'s records after `after_seq`, oldest first (export, verify).
pub fn scan(dialect: Dialect, tenant: &str, after_seq: u64, since: u64, limit: u32) -> Statement {
    statement(
        dialect,
        &format!(
            "SELECT {RECORD_COLUMNS} FROM audit_log WHERE tenant = ? AND seq > ? AND at >= ? ORDER BY seq LIMIT ?"
        ),
        vec![
            tenant.into(),
            after_seq.into(),
            since.into(),
            (limit as u64).into(),
        ],
    )
}

/// Every tenant with a record or a checkpoint, sorted (one column).
pub fn tenants(dialect: Dialect) -> Statement {
    statement(
        dialect,
        "SELECT tenant FROM audit_log UNION SELECT tenant FROM audit_checkpoints ORDER BY 1",
        vec![],
    )
}

/// `tenant`'s checkpoints, oldest first.
pub fn checkpoints(dialect: Dialect, tenant: &str) -> Statement {
    statement(
        dialect,
        &format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tenant = ? ORDER BY seq"
        ),
        vec![tenant.into()],
    )
}

/// `tenant`'s chain head and last checkpoint, for the checkpointer: one row of
/// `head seq, head hash, checkpointed seq (0 for none), last signature ('' for none)`, or
/// none for an empty chain. Both lookups walk the primary key from its end.
pub fn head_of(dialect: Dialect, tenant: &str) -> Statement {
    statement(
        dialect,
        "SELECT l.seq, l.hash,
                COALESCE((SELECT seq FROM audit_checkpoints WHERE tenant = ? ORDER BY seq DESC LIMIT 1), 0),
                COALESCE((SELECT signature FROM audit_checkpoints WHERE tenant = ? ORDER BY seq DESC LIMIT 1), '')
         FROM audit_log l WHERE l.tenant = ? ORDER BY l.seq DESC LIMIT 1",
        vec![tenant.into(), tenant.into(), tenant.into()],
    )
}

/// Stores a checkpoint only as the successor of the tenant's last one (its
/// `prev_signature` must be that one's signature, its place beyond it), returning its
/// `seq`; no row when another checkpoint got there first, so checkpoints never fork.
pub fn insert_checkpoint(dialect: Dialect, c: &SignedCheckpoint) -> Statement {
    let t = c.checkpoint.tenant.as_str();
    statement(
        dialect,
        &format!(
            "INSERT INTO audit_checkpoints ({CHECKPOINT_COLUMNS})
             SELECT ?, ?, ?, ?, ?, ?, ?
             WHERE COALESCE((SELECT signature FROM audit_checkpoints WHERE tenant = ? ORDER BY seq DESC LIMIT 1), '') = ?
               AND ? > COALESCE((SELECT MAX(seq) FROM audit_checkpoints WHERE tenant = ?), 0)
             RETURNING seq"
        ),
        vec![
            t.into(),
            c.checkpoint.seq.into(),
            c.checkpoint.hash.as_str().into(),
            c.checkpoint.at.into(),
            c.checkpoint.prev_signature.as_str().into(),
            c.public_key.as_str().into(),
            c.signature.as_str().into(),
            t.into(),
            c.checkpoint.prev_signature.as_str().into(),
            c.checkpoint.seq.into(),
            t.into(),
        ],
    )
}

/// Removes `tenant`'s records before `before_seq` that lie behind its last checkpoint
/// (the record a checkpoint vouches for stays, so the rest still verifies from it).
pub fn prune(dialect: Dialect, tenant: &str, before_seq: u64) -> Statement {
    statement(
        dialect,
        "DELETE FROM audit_log WHERE tenant = ? AND seq < ?
           AND seq < COALESCE((SELECT MAX(seq) FROM audit_checkpoints WHERE tenant = ?), 0)",
        vec![tenant.into(), before_seq.into(), tenant.into()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_and_match_the_parameters() {
        let f = AuditFilter {
            since: Some(1),
            outcome: Some(crate::audit::Outcome::Denied),
            limit: 5,
            ..Default::default()
        };
        let s = list(Dialect::Postgres, "acme", &f);
        assert!(
            s.sql.contains("at >= $2") && s.sql.contains("LIMIT $4"),
            "{}",
            s.sql
        );
        assert_eq!(s.params.len(), 4);
        let s = list(Dialect::Sqlite, "acme", &f);
        assert_eq!(s.sql.matches('?').count(), s.params.len());
    }
}
