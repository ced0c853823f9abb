//! Verification after a migration: both stores are read in id order, side by side, and each
//! side's content checksum is computed the same way (SHA-256 over id, version, timestamps and
//! canonical JSON of every document), so formatting differences between stores do not count
//! and any real difference does.

use crate::storage::{Document, StorageBackend, canonical_json, same_document};
use sha2::{Digest, Sha256};

/// What one collection looks like on both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectionCheck {
    /// Documents in the source.
    pub source_count: u64,
    /// Documents in the target.
    pub target_count: u64,
    /// SHA-256 (hex) of the source's documents.
    pub source_checksum: String,
    /// SHA-256 (hex) of the target's documents.
    pub target_checksum: String,
    /// Source documents absent from the target.
    pub missing: u64,
    /// Source documents whose target copy differs.
    pub different: u64,
    /// Target documents the source does not have.
    pub extra: u64,
}

impl CollectionCheck {
    /// Every source document is in the target, identical; with `allow_extra` (merging into
    /// a non-empty target) the target may hold more.
    pub fn passed(&self, allow_extra: bool) -> bool {
        self.missing == 0
            && self.different == 0
            && (allow_extra || (self.extra == 0 && self.source_checksum == self.target_checksum))
    }
}

fn feed(hasher: &mut Sha256, d: &Document) {
    hasher.update(d.id.as_bytes());
    hasher.update([0]);
    hasher.update(d.version.to_le_bytes());
    hasher.update(d.created_at.to_le_bytes());
    hasher.update(d.updated_at.to_le_bytes());
    hasher.update(canonical_json(&d.data).as_bytes());
    hasher.update([0]);
}

/// Reads one side in batches.
struct Cursor<'a> {
    store: &'a dyn StorageBackend,
    tenant: &'a str,
    collection: &'a str,
    batch: u32,
    buffer: std::collections::VecDeque<Document>,
    after: Option<String>,
    done: bool,
}

impl<'a> Cursor<'a> {
    fn new(
        store: &'a dyn StorageBackend,
        tenant: &'a str,
        collection: &'a str,
        batch: u32,
    ) -> Self {
        Self {
            store,
            tenant,
            collection,
            batch,
            buffer: Default::default(),
            after: None,
            done: false,
        }
    }

    async fn peek(&mut self) -> anyhow::Result<Option<&Document>> {
        if self.buffer.is_empty() && !self.done {
            let page = self
                .store
                .scan(
                    self.tenant,
                    self.collection,
                    self.after.as_deref(),
                    self.batch,
                )
                .await?;
            self.done = page.len() < self.batch as usize;
            self.after = page.last().map(|d| d.id.clone());
            self.buffer.extend(page);
        }
        Ok(self.buffer.front())
    }

    fn take(&mut self) -> Option<Document> {
        self.buffer.pop_front()
    }
}

/// Compares one tenant's collection on both sides.
pub async fn check_collection(
    source: &dyn StorageBackend,
    target: &dyn StorageBackend,
    tenant: &str,
    collection: &str,
    batch: u32,
) -> anyhow::Result<CollectionCheck> {
    let mut check = CollectionCheck::default();
    let (mut hs, mut ht) = (Sha256::new(), Sha256::new());
    let mut src = Cursor::new(source, tenant, collection, batch);
    let mut tgt = Cursor::new(target, tenant, collection, batch);
    loop {
        let s_id = src.peek().await?.map(|d| d.id.clone());
        let t_id = tgt.peek().await?.map(|d| d.id.clone());
        match (s_id, t_id) {
            (None, None) => break,
            (Some(_), None) => {
                let d = src.take().expect("peeked");
                feed(&mut hs, &d);
                check.source_count += 1;
                check.missing += 1;
            }
            (None, Some(_)) => {
                let d = tgt.take().expect("peeked");
                feed(&mut ht, &d);
                check.target_count += 1;
                check.extra += 1;
            }
            (Some(s), Some(t)) if s < t => {
                let d = src.take().expect("peeked");
                feed(&mut hs, &d);
                check.source_count += 1;
                check.missing += 1;
            }
            (Some(s), Some(t)) if s > t => {
                let d = tgt.take().expect("peeked");
                feed(&mut ht, &d);
                check.target_count += 1;
                check.extra += 1;
            }
            (Some(_), Some(_)) => {
                let (a, b) = (src.take().expect("peeked"), tgt.take().expect("peeked"));
                feed(&mut hs, &a);
                feed(&mut ht, &b);
                check.source_count += 1;
                check.target_count += 1;
                if !same_document(&a, &b) {
                    check.different += 1;
                }
            }
        }
    }
    check.source_checksum = hex(&hs.finalize());
    check.target_checksum = hex(&ht.finalize());
    Ok(check)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
