//! The one trait the app's logic calls the platform through.

use crate::bindings::commit::{Announcement, CacheChange};
use crate::bindings::storage::{
    Document, DocumentKey, Expect, FieldFilter, Page, Read, ReadAnswer, Write,
};
use crate::bindings::types::Error;

/// The platform calls of the app's logic, as the `marcus:platform` WIT states them.
pub trait Platform {
    /// `storage.get`.
    fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, Error>;
    /// `storage.get-many`: one entry per key, in key order.
    fn get_many(&self, keys: &[DocumentKey]) -> Result<Vec<Option<Document>>, Error>;
    /// `storage.read-many`: one answer per read, in read order.
    fn read_many(&self, reads: &[Read]) -> Result<Vec<ReadAnswer>, Error>;
    /// `storage.put`.
    fn put(
        &self,
        collection: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> Result<Document, Error>;
    /// `storage.delete`.
    fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> Result<bool, Error>;
    /// `storage.query`.
    fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page, Error>;
    /// `storage.count`.
    fn count(&self, collection: &str, filters: &[FieldFilter]) -> Result<u64, Error>;
    /// `cache.get`.
    fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    /// `cache.set`.
    fn cache_set(&self, key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<(), Error>;
    /// `cache.add`: set only if absent; whether it was set.
    fn cache_add(&self, key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<bool, Error>;
    /// `cache.delete`.
    fn cache_delete(&self, key: &str) -> Result<bool, Error>;
    /// `commit.apply`: `writes` atomically, then (only once they are stored) the cache
    /// changes and the announcements, whose failures do not fail the call.
    fn commit(
        &self,
        writes: &[Write],
        cache_changes: &[CacheChange],
        announcements: &[Announcement],
    ) -> Result<Vec<Document>, Error>;
    /// The channel's latest sequence number (`realtime.poll` past the end).
    fn realtime_latest(&self, channel: &str) -> Result<u64, Error>;
    /// `realtime.wait`: the channel's latest sequence number once it is past `since`, or
    /// when `timeout_ms` has passed.
    fn realtime_wait(&self, channel: &str, since: u64, timeout_ms: u32) -> Result<u64, Error>;
    /// Milliseconds since the Unix epoch (`wasi:clocks/wall-clock`).
    fn now_ms(&self) -> u64;
    /// 64 random bits (`wasi:random/random`).
    fn random_u64(&self) -> u64;
    /// Waits `duration` (`wasi:clocks/monotonic-clock`).
    fn sleep(&self, duration: std::time::Duration);
    /// `audit.begin`: names the change the following writes make.
    fn audit_begin(&self, action: &str, target_kind: &str, target_id: &str, details: &str);
    /// `audit.refused`: the change named last was not made (`denied`: not allowed).
    fn audit_refused(&self, denied: bool, reason: &str);
}
