//! `marcus:platform/commit`: a write through the storage backend, then its cache changes
//! and announcements through the cache and realtime backends, in one call from the app.

use super::bindings::marcus::platform::commit as wit;
use super::bindings::marcus::platform::types::Error;
use super::{PlatformView, storage_glue};
use crate::cache::DEFAULT_TTL_SECONDS;
use marcus_identity::tenant::scoped;

impl wit::Host for PlatformView {
    async fn apply(
        &mut self,
        writes: Vec<wit::Write>,
        cache_changes: Vec<wit::CacheChange>,
        announcements: Vec<wit::Announcement>,
    ) -> Result<Vec<wit::Document>, Error> {
        self.record_call("commit", "apply");
        let tenant = self.tenant()?;
        let docs = if writes.is_empty() {
            Vec::new()
        } else {
            storage_glue::put_many(self, writes).await?
        };
        // The write stands whatever follows: a failing cache or realtime backend only
        // leaves entries to expire and live readers to catch up from the event log.
        for change in cache_changes {
            let outcome = match change {
                wit::CacheChange::Set(entry) => {
                    let ttl = entry.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
                    let key = scoped(&tenant, &entry.key);
                    self.platform.cache.set(&key, entry.value, ttl).await
                }
                wit::CacheChange::Delete(key) => {
                    let key = scoped(&tenant, &key);
                    self.platform.cache.delete(&key).await.map(drop)
                }
            };
            if let Err(e) = outcome {
                tracing::debug!(error = %e, "a cache change after a committed write failed");
            }
        }
        for a in announcements {
            let channel = scoped(&tenant, &a.channel);
            if let Err(e) = self.platform.realtime.publish(&channel, &a.payload).await {
                tracing::debug!(error = %e, channel = %a.channel, "an announcement after a committed write failed");
            }
        }
        Ok(docs)
    }
}
