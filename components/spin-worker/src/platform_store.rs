//! Typed reads of the board and cache writes through the `marcus:platform` imports.

use crate::bindings::marcus::platform::{cache, storage};
use serde::de::DeserializeOwned;

/// Page size when reading whole collections.
const PAGE: u32 = 500;

/// Every document of `collection` matching the equality filters, decoded; undecodable
/// documents are an error naming them.
pub fn query_all<T: DeserializeOwned>(
    collection: &str,
    filters: &[(&str, serde_json::Value)],
) -> Result<Vec<T>, String> {
    let filters: Vec<storage::FieldFilter> = filters
        .iter()
        .map(|(field, value)| storage::FieldFilter {
            field: field.to_string(),
            value: value.to_string(),
        })
        .collect();
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = storage::query(collection, &filters, PAGE, cursor.as_deref())
            .map_err(|e| format!("reading {collection}: {e:?}"))?;
        for doc in page.documents {
            out.push(
                serde_json::from_str(&doc.data)
                    .map_err(|e| format!("{collection}/{} is not readable: {e}", doc.id))?,
            );
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// Stores `value` as JSON in the cache for `ttl_seconds`.
pub fn cache_json(key: &str, value: &serde_json::Value, ttl_seconds: u32) -> Result<(), String> {
    cache::set(key, value.to_string().as_bytes(), Some(ttl_seconds))
        .map_err(|e| format!("caching {key}: {e:?}"))
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
