//! Writes of the raw storage API (`/api/storage`): documents stored as given, without board
//! effects (they are not board changes, even when debug routes let them reach the board's
//! collections), but followed by what every committed write owes, so a raw write is never
//! hidden behind a stale cached read.

use super::after_commit;
use crate::bindings::storage::{Document, Expect, Write};
use crate::platform_error::to_api;
use crate::read_cache;
use marcus_core::api_error::ApiError;

/// Stores one document under `expect`.
pub fn put(collection: &str, id: &str, data: &str, expect: Expect) -> Result<Document, ApiError> {
    let doc = crate::platform::current()
        .put(collection, id, data, expect)
        .map_err(to_api)?;
    after_commit(&[written(&doc)]);
    Ok(doc)
}

/// Stores `writes` atomically, all or none, with the invalidations they owe in the same
/// platform call.
pub fn put_many(writes: &[Write]) -> Result<Vec<Document>, ApiError> {
    crate::platform::current()
        .commit(writes, &read_cache::invalidations_for(writes), &[])
        .map_err(to_api)
}

/// Deletes `collection/id` (if still at `expected`); `false` when it did not exist.
pub fn delete(collection: &str, id: &str, expected: Option<u64>) -> Result<bool, ApiError> {
    // What the document said (its project) tells the read cache what the delete affects.
    let before = crate::platform::current()
        .get(collection, id)
        .ok()
        .flatten();
    let deleted = crate::platform::current()
        .delete(collection, id, expected)
        .map_err(to_api)?;
    if deleted && let Some(doc) = before {
        after_commit(&[written(&doc)]);
    }
    Ok(deleted)
}

/// A stored (or just deleted) document as the write that touched it.
fn written(doc: &Document) -> Write {
    Write {
        collection: doc.collection.clone(),
        id: doc.id.clone(),
        data: doc.data.clone(),
        expect: Expect::Any,
    }
}
