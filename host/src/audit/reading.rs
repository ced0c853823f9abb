//! Reading a stored log whole: the export (one JSON record per line) and the verification
//! of each tenant's chain against its signed checkpoints, both page by page, so a log of
//! millions of records needs no more memory than a page.

use crate::storage::StorageBackend;
use marcus_core::audit::verify::{Break, ChainVerifier, Summary};
use std::io::Write;

/// Records read per round trip.
pub const PAGE: u32 = 1000;

/// The tenants to read: the one named, or every tenant with a log.
pub async fn tenants(
    storage: &dyn StorageBackend,
    only: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    Ok(match only {
        Some(t) => vec![t.to_string()],
        None => storage.audit_tenants().await?,
    })
}

/// Writes `tenant`'s records at or after `since` (ms) to `out`, oldest first, one JSON
/// object per line; how many.
pub async fn export(
    storage: &dyn StorageBackend,
    tenant: &str,
    since: u64,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    let mut after = 0;
    let mut written = 0;
    loop {
        let page = storage.audit_scan(tenant, after, since, PAGE).await?;
        for r in &page {
            serde_json::to_writer(&mut *out, &r.to_json())?;
            out.write_all(b"\n")?;
        }
        written += page.len() as u64;
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = last.seq,
            _ => break,
        }
    }
    out.flush()?;
    Ok(written)
}

/// Verifies `tenant`'s chain and checkpoints; checkpoints must be signed by one of
/// `trusted` (hex public keys). The outer error is a store that could not be read; the
/// inner one the first bad sequence number.
pub async fn verify(
    storage: &dyn StorageBackend,
    tenant: &str,
    trusted: &[String],
) -> anyhow::Result<Result<Summary, Break>> {
    let checkpoints = storage.audit_checkpoints(tenant).await?;
    let mut verifier = match ChainVerifier::new(tenant, checkpoints, trusted) {
        Ok(v) => v,
        Err(b) => return Ok(Err(b)),
    };
    let mut after = 0;
    loop {
        let page = storage.audit_scan(tenant, after, 0, PAGE).await?;
        for r in &page {
            if let Err(b) = verifier.record(r) {
                return Ok(Err(b));
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = last.seq,
            _ => break,
        }
    }
    Ok(verifier.finish())
}
