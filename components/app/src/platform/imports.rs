//! The component's platform: each call is the `marcus:platform` import of the same name.

use super::calls::Platform;
use crate::bindings::cache;
use crate::bindings::commit::{self, Announcement, CacheChange};
use crate::bindings::realtime;
use crate::bindings::storage::{
    self, Document, DocumentKey, Expect, FieldFilter, Page, Read, ReadAnswer, Write,
};
use crate::bindings::types::Error;

/// The imports of the `platform` world.
#[cfg_attr(test, allow(dead_code))]
pub struct Imports;

impl Platform for Imports {
    fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, Error> {
        storage::get(collection, id)
    }

    fn get_many(&self, keys: &[DocumentKey]) -> Result<Vec<Option<Document>>, Error> {
        storage::get_many(keys)
    }

    fn read_many(&self, reads: &[Read]) -> Result<Vec<ReadAnswer>, Error> {
        storage::read_many(reads)
    }

    fn put(
        &self,
        collection: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> Result<Document, Error> {
        storage::put(collection, id, data, expect)
    }

    fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> Result<bool, Error> {
        storage::delete(collection, id, expected)
    }

    fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page, Error> {
        storage::query(collection, filters, limit, cursor)
    }

    fn count(&self, collection: &str, filters: &[FieldFilter]) -> Result<u64, Error> {
        storage::count(collection, filters)
    }

    fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        cache::get(key)
    }

    fn cache_set(&self, key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<(), Error> {
        cache::set(key, value, ttl_seconds)
    }

    fn cache_add(&self, key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<bool, Error> {
        cache::add(key, value, ttl_seconds)
    }

    fn cache_delete(&self, key: &str) -> Result<bool, Error> {
        cache::delete(key)
    }

    fn commit(
        &self,
        writes: &[Write],
        cache_changes: &[CacheChange],
        announcements: &[Announcement],
    ) -> Result<Vec<Document>, Error> {
        commit::apply(writes, cache_changes, announcements)
    }

    fn realtime_latest(&self, channel: &str) -> Result<u64, Error> {
        Ok(realtime::poll(channel, u64::MAX, 1)?.latest)
    }

    fn realtime_wait(&self, channel: &str, since: u64, timeout_ms: u32) -> Result<u64, Error> {
        realtime::wait(channel, since, timeout_ms)
    }

    fn now_ms(&self) -> u64 {
        let t = wasip2::clocks::wall_clock::now();
        t.seconds * 1000 + u64::from(t.nanoseconds / 1_000_000)
    }

    fn random_u64(&self) -> u64 {
        wasip2::random::random::get_random_u64()
    }

    fn sleep(&self, duration: std::time::Duration) {
        wasip2::clocks::monotonic_clock::subscribe_duration(duration.as_nanos() as u64).block();
    }

    fn audit_begin(&self, action: &str, target_kind: &str, target_id: &str, details: &str) {
        crate::bindings::audit::begin(action, target_kind, target_id, details);
    }

    fn audit_refused(&self, denied: bool, reason: &str) {
        use crate::bindings::audit::Refusal;
        let refusal = if denied {
            Refusal::Denied
        } else {
            Refusal::Failure
        };
        crate::bindings::audit::refused(refusal, reason);
    }
}
