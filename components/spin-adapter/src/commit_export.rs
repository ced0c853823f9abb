//! `marcus:platform/commit` on the adapter's own exports: the write as `storage.put-many`,
//! then the cache changes on Spin key-value and the announcements on the event log, in one
//! call from the app.

use crate::bindings::commit::{Announcement, CacheChange, Document, Guest, Write};
use crate::bindings::{Error, cache, realtime, storage};

impl Guest for crate::Adapter {
    fn apply(
        writes: Vec<Write>,
        cache_changes: Vec<CacheChange>,
        announcements: Vec<Announcement>,
    ) -> Result<Vec<Document>, Error> {
        let docs = <crate::Adapter as storage::Guest>::put_many(writes)?;
        // The write stands whatever follows: entries expire, the event log keeps the events.
        for change in cache_changes {
            let _ = match change {
                CacheChange::Set(e) => {
                    <crate::Adapter as cache::Guest>::set(e.key, e.value, e.ttl_seconds)
                }
                CacheChange::Delete(key) => <crate::Adapter as cache::Guest>::delete(key).map(drop),
            };
        }
        for a in announcements {
            let _ = <crate::Adapter as realtime::Guest>::publish(a.channel, a.payload);
        }
        Ok(docs)
    }
}
