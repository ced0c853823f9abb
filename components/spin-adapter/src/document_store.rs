//! What a storage backend of the adapter does, and the checks and words all backends share.
//! Callers (the exported `storage` interface) never know which backend answers.

use crate::bindings::Error;
use crate::bindings::storage::{
    Document, DocumentKey, Expect, FieldFilter, Page, StorageStats, Write,
};
use crate::checks;
use crate::postgres_storage::PostgresDocuments;
use crate::settings;
use crate::sqlite_storage::SqliteDocuments;
use marcus_core::store::rules;
use std::rc::Rc;

/// Versioned documents with compare-and-swap; arguments are already checked.
pub trait DocumentStore {
    /// Reads one document.
    fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, Error>;
    /// Reads several documents in one statement: one entry per key, in key order; the key
    /// count is already checked and the list is not empty.
    fn get_many(&self, keys: &[DocumentKey]) -> Result<Vec<Option<Document>>, Error>;
    /// One write under its precondition; a failed precondition is `conflict`.
    fn put(&self, write: &Write, now: u64) -> Result<Document, Error>;
    /// All writes or none; `conflict` names the first failing document.
    fn put_many(&self, writes: &[Write], now: u64) -> Result<Vec<Document>, Error>;
    /// Deletes, optionally at an expected version; false when absent.
    fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> Result<bool, Error>;
    /// Equality query in id order after `cursor`.
    fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page, Error>;
    /// Counts matching documents.
    fn count(&self, collection: &str, filters: &[FieldFilter]) -> Result<u64, Error>;
    /// Non-empty collections, sorted.
    fn list_collections(&self) -> Result<Vec<String>, Error>;
    /// Documents in id order strictly after `after`.
    fn scan(
        &self,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Document>, Error>;
    /// Totals.
    fn stats(&self) -> Result<StorageStats, Error>;
}

/// The configured backend: PostgreSQL when `database_url` is set (the request's one
/// connection), else Spin SQLite.
pub fn open() -> Result<Rc<dyn DocumentStore>, Error> {
    crate::identity_export::refuse_after_failed_credentials()?;
    match settings::configured(settings::DATABASE_URL) {
        Some(url) => Ok(PostgresDocuments::for_this_request(&url)?),
        None => Ok(Rc::new(SqliteDocuments::open()?)),
    }
}

/// Whether a precondition holds for a document at `current` (`None` = absent).
pub fn holds(expect: Expect, current: Option<u64>) -> bool {
    rules::holds(checks::expect(expect), current)
}

/// The conflict error of a conditional write that changed nothing, given the version read
/// after it: the shared rule, so the words are the native host's.
pub fn conflict(collection: &str, id: &str, expect: Expect, current: Option<u64>) -> Error {
    rules::unmet_precondition(collection, id, checks::expect(expect), current).into()
}

/// `keys` as the one JSON parameter of the dialects' `get_many` statements.
pub fn keys_json(keys: &[DocumentKey]) -> String {
    marcus_core::store::get_many::keys_json(
        keys.iter().map(|k| (k.collection.as_str(), k.id.as_str())),
    )
}

/// Collection, id and data of one write.
pub fn check_write(w: &Write) -> Result<(), Error> {
    Ok(rules::check_write(&w.collection, &w.id, &w.data)?)
}
