//! An in-memory platform for the app's unit tests: versioned documents with the storage
//! contract's preconditions (`marcus_core::store::rules`), equality filters, id-ordered
//! pages, a cache and a log of what was published. Tests can make another writer land
//! just before the app's next write, to drive the app's compare-and-swap retries.

use super::calls::Platform;
use crate::bindings::commit::{Announcement, CacheChange};
use crate::bindings::storage::{
    Document, DocumentKey, Expect, FieldFilter, Page, Read, ReadAnswer, Write,
};
use crate::bindings::types::Error;
use marcus_core::store::canonical::canonical_json;
use marcus_core::store::page::finish_page;
use marcus_core::store::{self, StoreError, rules};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

/// A write another client makes just before the app's next write lands (or while the app
/// waits on a channel).
type Interloper = Box<dyn FnOnce(&InMemory)>;

/// A cached value and when it expires on the test clock (`None`: never).
type CacheEntry = (Vec<u8>, Option<u64>);

/// The in-memory board.
#[derive(Default)]
pub struct InMemory {
    documents: RefCell<BTreeMap<(String, String), Document>>,
    cache: RefCell<HashMap<String, CacheEntry>>,
    published: RefCell<Vec<(String, String)>>,
    calls: Cell<usize>,
    clock: Cell<u64>,
    now: Cell<u64>,
    seed: Cell<u64>,
    before_next_write: RefCell<Option<Interloper>>,
    during_next_wait: RefCell<Option<Interloper>>,
    audit: RefCell<Vec<String>>,
}

impl InMemory {
    /// A new, empty platform installed as this thread's ([`super::install`]).
    pub fn installed() -> &'static Self {
        let platform: &'static Self = Box::leak(Box::default());
        // 2023-11-14: ids and leases carry real-looking times.
        platform.now.set(1_700_000_000_000);
        super::install(platform);
        platform
    }

    /// The cached value at `key`, unless it expired on the test clock.
    fn live(&self, key: &str) -> Option<Vec<u8>> {
        let now = self.now.get();
        match self.cache.borrow().get(key) {
            Some((value, expiry)) if expiry.is_none_or(|at| at > now) => Some(value.clone()),
            _ => None,
        }
    }

    /// When an entry kept for `ttl` seconds from now expires.
    fn expiry(&self, ttl: Option<u32>) -> Option<u64> {
        ttl.map(|secs| self.now.get() + u64::from(secs) * 1000)
    }

    /// Moves the wall clock on by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }

    /// Runs `write` (as another client) just before the app's next write is applied.
    pub fn before_next_write(&self, write: impl FnOnce(&InMemory) + 'static) {
        *self.before_next_write.borrow_mut() = Some(Box::new(write));
    }

    /// Runs `write` (as another client) while the app's next `realtime_wait` waits.
    pub fn during_next_wait(&self, write: impl FnOnce(&InMemory) + 'static) {
        *self.during_next_wait.borrow_mut() = Some(Box::new(write));
    }

    /// What was published, as (channel, payload), oldest first.
    pub fn published(&self) -> Vec<(String, String)> {
        self.published.borrow().clone()
    }

    /// What the app told the audit, oldest first (`begin …`, `denied …`, `failure …`).
    pub fn audit_calls(&self) -> Vec<String> {
        self.audit.borrow().clone()
    }

    /// How many platform calls were made so far.
    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    /// Every document of `collection`, in id order.
    pub fn documents(&self, collection: &str) -> Vec<Document> {
        self.documents
            .borrow()
            .values()
            .filter(|d| d.collection == collection)
            .cloned()
            .collect()
    }

    /// Whether the cache holds `key`.
    pub fn cached(&self, key: &str) -> bool {
        self.live(key).is_some()
    }

    fn channel_len(&self, channel: &str) -> u64 {
        self.published
            .borrow()
            .iter()
            .filter(|(c, _)| c == channel)
            .count() as u64
    }

    fn call(&self) {
        self.calls.set(self.calls.get() + 1);
    }

    fn tick(&self) -> u64 {
        self.clock.set(self.clock.get() + 1);
        self.clock.get()
    }

    fn apply(&self, writes: &[Write]) -> Result<Vec<Document>, Error> {
        let mut documents = self.documents.borrow_mut();
        for w in writes {
            rules::check_write(&w.collection, &w.id, &w.data).map_err(to_error)?;
            let key = (w.collection.clone(), w.id.clone());
            let current = documents.get(&key).map(|d| d.version);
            rules::check_expect(&w.collection, &w.id, core_expect(w.expect), current)
                .map_err(to_error)?;
        }
        let now = self.tick();
        let mut written = Vec::with_capacity(writes.len());
        for w in writes {
            let key = (w.collection.clone(), w.id.clone());
            let before = documents.get(&key);
            let doc = Document {
                collection: w.collection.clone(),
                id: w.id.clone(),
                data: w.data.clone(),
                version: before.map_or(1, |d| d.version + 1),
                created_at: before.map_or(now, |d| d.created_at),
                updated_at: now,
            };
            documents.insert(key, doc.clone());
            written.push(doc);
        }
        Ok(written)
    }
}

fn core_expect(expect: Expect) -> store::Expect {
    match expect {
        Expect::Any => store::Expect::Any,
        Expect::Absent => store::Expect::Absent,
        Expect::Version(v) => store::Expect::Version(v),
    }
}

fn to_error(error: StoreError) -> Error {
    match error {
        StoreError::Invalid(m) => Error::Invalid(m),
        StoreError::Conflict(m) => Error::Conflict(m),
    }
}

/// Whether `data` (a JSON object) matches every equality filter.
fn matches(data: &str, filters: &[FieldFilter]) -> bool {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str(data) else {
        return false;
    };
    filters.iter().all(|f| {
        let have = object
            .get(&f.field)
            .map_or("null".to_string(), |v| canonical_json(&v.to_string()));
        have == canonical_json(&f.value)
    })
}

impl Platform for InMemory {
    fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, Error> {
        self.call();
        let key = (collection.to_string(), id.to_string());
        Ok(self.documents.borrow().get(&key).cloned())
    }

    fn get_many(&self, keys: &[DocumentKey]) -> Result<Vec<Option<Document>>, Error> {
        self.call();
        store::get_many::check_count(keys.len()).map_err(to_error)?;
        let documents = self.documents.borrow();
        Ok(keys
            .iter()
            .map(|k| {
                documents
                    .get(&(k.collection.clone(), k.id.clone()))
                    .cloned()
            })
            .collect())
    }

    fn read_many(&self, reads: &[Read]) -> Result<Vec<ReadAnswer>, Error> {
        // One crossing, however many reads: each is answered as its own call would be.
        let calls = self.calls.get();
        store::read_many::check_count(reads.len()).map_err(to_error)?;
        let answers = reads
            .iter()
            .map(|read| match read {
                Read::Get(k) => Ok(ReadAnswer::Document(self.get(&k.collection, &k.id)?)),
                Read::Query(q) => Ok(ReadAnswer::Page(self.query(
                    &q.collection,
                    &q.filters,
                    q.limit,
                    q.cursor.as_deref(),
                )?)),
            })
            .collect();
        self.calls.set(calls + 1);
        answers
    }

    fn put(
        &self,
        collection: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> Result<Document, Error> {
        self.call();
        let write = Write {
            collection: collection.into(),
            id: id.into(),
            data: data.into(),
            expect,
        };
        Ok(self.apply(&[write])?.remove(0))
    }

    fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> Result<bool, Error> {
        self.call();
        let key = (collection.to_string(), id.to_string());
        let mut documents = self.documents.borrow_mut();
        let current = documents.get(&key).map(|d| d.version);
        match (current, expected) {
            (Some(have), Some(want)) if have != want => {
                rules::missed_delete(collection, id, expected, current).map_err(to_error)
            }
            (Some(_), _) => Ok(documents.remove(&key).is_some()),
            (None, _) => Ok(false),
        }
    }

    fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page, Error> {
        self.call();
        rules::check_limit(limit).map_err(to_error)?;
        let mut documents: Vec<Document> = self
            .documents
            .borrow()
            .values()
            .filter(|d| d.collection == collection)
            .filter(|d| cursor.is_none_or(|c| d.id.as_str() > c))
            .filter(|d| matches(&d.data, filters))
            .take(limit as usize + 1)
            .cloned()
            .collect();
        let next_cursor = finish_page(&mut documents, limit, |d| &d.id);
        Ok(Page {
            documents,
            next_cursor,
        })
    }

    fn count(&self, collection: &str, filters: &[FieldFilter]) -> Result<u64, Error> {
        self.call();
        Ok(self
            .documents
            .borrow()
            .values()
            .filter(|d| d.collection == collection && matches(&d.data, filters))
            .count() as u64)
    }

    fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.call();
        Ok(self.live(key))
    }

    fn cache_set(&self, key: &str, value: &[u8], ttl: Option<u32>) -> Result<(), Error> {
        self.call();
        let entry = (value.to_vec(), self.expiry(ttl));
        self.cache.borrow_mut().insert(key.into(), entry);
        Ok(())
    }

    fn cache_add(&self, key: &str, value: &[u8], ttl: Option<u32>) -> Result<bool, Error> {
        self.call();
        if self.live(key).is_some() {
            return Ok(false);
        }
        let entry = (value.to_vec(), self.expiry(ttl));
        self.cache.borrow_mut().insert(key.into(), entry);
        Ok(true)
    }

    fn cache_delete(&self, key: &str) -> Result<bool, Error> {
        self.call();
        Ok(self.cache.borrow_mut().remove(key).is_some())
    }

    fn commit(
        &self,
        writes: &[Write],
        cache_changes: &[CacheChange],
        announcements: &[Announcement],
    ) -> Result<Vec<Document>, Error> {
        self.call();
        let docs = if writes.is_empty() {
            Vec::new()
        } else {
            if let Some(interloper) = self.before_next_write.borrow_mut().take() {
                interloper(self);
            }
            self.apply(writes)?
        };
        let mut cache = self.cache.borrow_mut();
        for change in cache_changes {
            match change {
                CacheChange::Set(entry) => {
                    let expiry = self.expiry(entry.ttl_seconds);
                    cache.insert(entry.key.clone(), (entry.value.clone(), expiry));
                }
                CacheChange::Delete(key) => {
                    cache.remove(key);
                }
            }
        }
        self.published.borrow_mut().extend(
            announcements
                .iter()
                .map(|a| (a.channel.clone(), a.payload.clone())),
        );
        Ok(docs)
    }

    fn realtime_latest(&self, channel: &str) -> Result<u64, Error> {
        self.call();
        Ok(self.channel_len(channel))
    }

    fn realtime_wait(&self, channel: &str, since: u64, timeout_ms: u32) -> Result<u64, Error> {
        self.call();
        let writer = self.during_next_wait.borrow_mut().take();
        if let Some(writer) = writer {
            writer(self);
        }
        let latest = self.channel_len(channel);
        if latest <= since {
            self.advance(u64::from(timeout_ms));
        }
        Ok(latest)
    }

    fn now_ms(&self) -> u64 {
        self.now.get()
    }

    fn random_u64(&self) -> u64 {
        // xorshift64*: distinct ids without a random source.
        let mut x = self.seed.get() | 1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.seed.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn sleep(&self, duration: std::time::Duration) {
        self.advance(duration.as_millis() as u64);
    }

    fn audit_begin(&self, action: &str, target_kind: &str, target_id: &str, _details: &str) {
        self.audit
            .borrow_mut()
            .push(format!("begin {action} {target_kind}/{target_id}"));
    }

    fn audit_refused(&self, denied: bool, reason: &str) {
        let how = if denied { "denied" } else { "failure" };
        self.audit.borrow_mut().push(format!("{how} {reason}"));
    }
}
