//! A tenant's transaction on PostgreSQL: every statement of a request runs inside a
//! transaction that first takes on the app role (no table owned, no row-level security
//! bypassed) and names the tenant in a transaction-local setting, so the database holds each
//! statement to its tenant a second time, after the host already scoped it, and a pooled
//! connection never carries one request's tenant into the next.

use super::{bound, classify};
use crate::capability_error::CapResult;
use deadpool_postgres::ClientWrapper as Client;
use marcus_core::store::postgres_sql::schema;
use marcus_core::store::statement::Statement;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// The simple query that opens a tenant's transaction: `BEGIN`, the app role, the tenant.
fn opening(tenant: &str) -> String {
    format!("BEGIN; {}", schema::enter_scope(tenant))
}

/// Prepares (once per connection) every statement, so the pipeline below sends them at once.
async fn prepare_all(
    client: &Client,
    statements: &[Statement],
) -> CapResult<Vec<tokio_postgres::Statement>> {
    let mut prepared = Vec::with_capacity(statements.len());
    for s in statements {
        prepared.push(client.prepare_cached(&s.sql).await.map_err(classify)?);
    }
    Ok(prepared)
}

/// Sends `statements` after the opening and answers each one's rows, without ending the
/// transaction. Every request is queued with the connection before the first answer is
/// awaited (one round trip for all of them), in order, so the server runs them in order.
async fn pipelined(
    client: &Client,
    tenant: &str,
    statements: &[Statement],
    prepared: &[tokio_postgres::Statement],
) -> (Result<(), tokio_postgres::Error>, Vec<CapResult<Vec<Row>>>) {
    let params: Vec<Vec<Box<dyn ToSql + Sync + Send>>> = statements.iter().map(bound).collect();
    let refs: Vec<Vec<&(dyn ToSql + Sync)>> = params
        .iter()
        .map(|p| p.iter().map(|v| &**v as _).collect())
        .collect();
    let opening = opening(tenant);
    let open = client.batch_execute(&opening);
    let queries = futures::future::join_all(
        prepared
            .iter()
            .zip(&refs)
            .map(|(st, r)| async move { client.query(st, r).await.map_err(classify) }),
    );
    futures::future::join(open, queries).await
}

/// Runs `statements` as one transaction of `tenant` and commits it: the opening, the
/// statements and the `COMMIT` travel together. A failing statement aborts the transaction
/// (the `COMMIT` then rolls it back) and is the error.
pub async fn run(
    client: &Client,
    tenant: &str,
    statements: &[Statement],
) -> CapResult<Vec<Vec<Row>>> {
    let prepared = prepare_all(client, statements).await?;
    let ((opened, answers), committed) = futures::future::join(
        pipelined(client, tenant, statements, &prepared),
        client.batch_execute("COMMIT"),
    )
    .await;
    opened.map_err(classify)?;
    let rows = answers.into_iter().collect::<CapResult<Vec<_>>>()?;
    committed.map_err(classify)?;
    Ok(rows)
}

/// A tenant's transaction whose end depends on its answers (a batch of conditional writes
/// commits only when every precondition held). Until it is committed or rolled back, its
/// connection must not go back to the pool: dropped early (a cancelled request), the
/// connection is taken out of the pool and closed, which rolls the transaction back.
pub struct Open {
    client: Option<deadpool_postgres::Object>,
}

impl Open {
    /// Opens the transaction on `client` and runs `statements` in it, answering each one's
    /// rows (a failing statement is the error, and the transaction is rolled back).
    pub async fn run(
        client: deadpool_postgres::Object,
        tenant: &str,
        statements: &[Statement],
    ) -> CapResult<(Self, Vec<Vec<Row>>)> {
        let prepared = prepare_all(&client, statements).await?;
        let mut open = Self {
            client: Some(client),
        };
        let conn: &Client = open.client.as_ref().expect("just set");
        let (opened, answers) = pipelined(conn, tenant, statements, &prepared).await;
        let outcome = opened
            .map_err(classify)
            .and_then(|()| answers.into_iter().collect::<CapResult<Vec<_>>>());
        match outcome {
            Ok(rows) => Ok((open, rows)),
            Err(e) => {
                open.finish("ROLLBACK").await?;
                Err(e)
            }
        }
    }

    /// Commits.
    pub async fn commit(mut self) -> CapResult<()> {
        self.finish("COMMIT").await
    }

    /// Rolls back.
    pub async fn rollback(mut self) -> CapResult<()> {
        self.finish("ROLLBACK").await
    }

    async fn finish(&mut self, how: &str) -> CapResult<()> {
        let client = self.client.as_ref().expect("open until finished");
        let ended = client.batch_execute(how).await.map_err(classify);
        if ended.is_ok() {
            // Back to the pool, its transaction over.
            self.client.take();
        }
        ended
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // The transaction may still be open: this connection never serves another
            // request.
            drop(deadpool_postgres::Object::take(client));
        }
    }
}
