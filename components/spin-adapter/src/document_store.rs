//! What a storage backend of the adapter does, and the checks and words all backends share.
//! Callers (the exported `storage` interface) never know which backend answers. A store is
//! opened for one scope (a tenant, or the installation's own records) and every statement it
//! runs names that scope, so no call can reach another tenant's documents.

use crate::bindings::Error;
use crate::bindings::storage::{
    Document, DocumentKey, Expect, FieldFilter, Page, StorageStats, Write,
};
use crate::checks;
use crate::postgres_storage::PostgresDocuments;
use crate::sqlite_storage::SqliteDocuments;
use crate::{request_scope, settings};
use marcus_core::store::rules;
use marcus_core::store::schema_version::Scopes;
use marcus_identity::tenant::{self, DEFAULT_TENANT, SERVER_COLLECTIONS, SERVER_SCOPE};
use std::rc::Rc;

/// Where an upgrade from schema 1 puts a store's documents, on either backend: the
/// installation's own records in the server scope, everything else in the default tenant.
pub const SCOPES: Scopes<'static> = Scopes {
    server_collections: &SERVER_COLLECTIONS,
    server_scope: SERVER_SCOPE,
    default_tenant: DEFAULT_TENANT,
};

/// Versioned documents of one scope with compare-and-swap; arguments are already checked.
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
    /// The scope's non-empty collections, sorted.
    fn list_collections(&self) -> Result<Vec<String>, Error>;
    /// Documents in id order strictly after `after`.
    fn scan(
        &self,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Document>, Error>;
    /// The scope's totals.
    fn stats(&self) -> Result<StorageStats, Error>;
}

/// The configured backend in the scope of this request's tenant; fails closed when no
/// tenant is established.
pub fn open() -> Result<Rc<dyn DocumentStore>, Error> {
    open_in(&request_scope::tenant()?)
}

/// The configured backend in `scope` (a tenant, or `SERVER_SCOPE` for the installation's
/// own records): PostgreSQL when `database_url` is set (the request's one connection), else
/// Spin SQLite. A name that cannot be a scope is refused before it reaches a backend.
pub fn open_in(scope: &str) -> Result<Rc<dyn DocumentStore>, Error> {
    request_scope::not_refused()?;
    if !tenant::is_scope(scope) {
        return Err(Error::Internal(format!("{scope:?} is not a storage scope")));
    }
    match settings::configured(settings::DATABASE_URL) {
        Some(url) => Ok(Rc::new(PostgresDocuments::open(&url, scope)?)),
        None => Ok(Rc::new(SqliteDocuments::open(scope)?)),
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
