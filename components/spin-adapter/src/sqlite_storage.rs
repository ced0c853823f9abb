//! Storage on Spin SQLite: the shared SQLite dialect's statements (the native SQLite
//! backend's), each write a single atomic statement, a batch included, every statement
//! scoped by the store's tenant.

use crate::bindings::Error;
use crate::bindings::sqlite::Value;
use crate::bindings::storage::{Document, DocumentKey, FieldFilter, Page, StorageStats, Write};
use crate::checks::write_ref;
use crate::document_store::{DocumentStore, conflict, holds, keys_json};
use crate::field_filters::pairs;
use crate::sqlite_db::{Db, int, text};
use marcus_core::store::MAX_FIELD_INDEXES;
use marcus_core::store::get_many::in_request_order;
use marcus_core::store::page::finish_page;
use marcus_core::store::sqlite_sql::{batch, documents, field_indexes};
use std::cell::RefCell;
use std::collections::HashSet;

thread_local! {
    /// Expression indexes known to exist, read once per instance.
    static FIELD_INDEXES: RefCell<Option<HashSet<String>>> = const { RefCell::new(None) };
}

/// The SQLite backend (the default on Spin), in one scope.
pub struct SqliteDocuments {
    db: Db,
    tenant: String,
}

impl SqliteDocuments {
    /// Opens Spin's `default` database for the documents of `tenant` (a checked scope).
    pub fn open(tenant: &str) -> Result<Self, Error> {
        Ok(Self {
            db: Db::open()?,
            tenant: tenant.to_string(),
        })
    }
}

/// A row of `documents::COLUMNS`.
fn document(row: &[Value]) -> Result<Document, Error> {
    Ok(Document {
        collection: text(row, 0)?,
        id: text(row, 1)?,
        data: text(row, 2)?,
        version: int(row, 3)? as u64,
        created_at: int(row, 4)? as u64,
        updated_at: int(row, 5)? as u64,
    })
}

fn documents_of(rows: Vec<Vec<Value>>) -> Result<Vec<Document>, Error> {
    rows.iter().map(|row| document(row)).collect()
}

fn version_of(db: &Db, tenant: &str, collection: &str, id: &str) -> Result<Option<u64>, Error> {
    Ok(db
        .one(&documents::version_of(tenant, collection, id))?
        .map(|row| int(&row, 0))
        .transpose()?
        .map(|v| v as u64))
}

/// The expression index for `filters`, creating it on first use; `None` when none serves.
fn field_index(db: &Db, filters: &[FieldFilter]) -> Option<String> {
    let fields: Vec<&str> = filters.iter().map(|f| f.field.as_str()).collect();
    let (name, create) = field_indexes::field_index(&fields)?;
    FIELD_INDEXES.with(|known| {
        let mut known = known.borrow_mut();
        let known = known.get_or_insert_with(|| {
            db.rows(field_indexes::EXISTING_FIELD_INDEXES, &[])
                .map(|rows| rows.iter().filter_map(|r| text(r, 0).ok()).collect())
                .unwrap_or_default()
        });
        if known.contains(&name) {
            return Some(name);
        }
        if known.len() >= MAX_FIELD_INDEXES || db.rows(&create, &[]).is_err() {
            return None;
        }
        known.insert(name.clone());
        Some(name)
    })
}

impl DocumentStore for SqliteDocuments {
    fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, Error> {
        self.db
            .one(&documents::get(&self.tenant, collection, id))?
            .as_deref()
            .map(document)
            .transpose()
    }

    fn get_many(&self, keys: &[DocumentKey]) -> Result<Vec<Option<Document>>, Error> {
        let rows = self
            .db
            .all(&documents::get_many(&self.tenant, &keys_json(keys)))?;
        let found = rows
            .iter()
            .map(|row| Ok((int(row, 6)? as usize, document(row)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(in_request_order(keys.len(), found))
    }

    fn put(&self, w: &Write, now: u64) -> Result<Document, Error> {
        match self
            .db
            .one(&documents::put(&self.tenant, write_ref(w), now))?
        {
            Some(row) => document(&row),
            None => {
                let current = version_of(&self.db, &self.tenant, &w.collection, &w.id)?;
                Err(conflict(&w.collection, &w.id, w.expect, current))
            }
        }
    }

    /// All writes in the dialect's single batch statement, so SQLite applies the whole
    /// batch or none of it even on Spin's shared connection.
    fn put_many(&self, writes: &[Write], now: u64) -> Result<Vec<Document>, Error> {
        let db = &self.db;
        let refs: Vec<_> = writes.iter().map(write_ref).collect();
        let written = db.all(&batch::put_all(&self.tenant, &refs, now))?;
        if written.len() != writes.len() {
            for w in writes {
                let current = version_of(db, &self.tenant, &w.collection, &w.id)?;
                if !holds(w.expect, current) {
                    return Err(conflict(&w.collection, &w.id, w.expect, current));
                }
            }
            // Every precondition holds on a second look: another writer moved in between.
            let first = &writes[0];
            return Err(conflict(
                &first.collection,
                &first.id,
                crate::bindings::storage::Expect::Any,
                None,
            ));
        }
        let mut docs = documents_of(written)?;
        // RETURNING order is unspecified: answer in the order the writes were given.
        let position = |d: &Document| {
            writes
                .iter()
                .position(|w| w.collection == d.collection && w.id == d.id)
        };
        docs.sort_by_key(position);
        Ok(docs)
    }

    fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> Result<bool, Error> {
        let db = &self.db;
        if db
            .one(&documents::delete(&self.tenant, collection, id, expected))?
            .is_some()
        {
            return Ok(true);
        }
        let current = match expected {
            Some(_) => version_of(db, &self.tenant, collection, id)?,
            None => None,
        };
        Ok(marcus_core::store::rules::missed_delete(
            collection, id, expected, current,
        )?)
    }

    fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page, Error> {
        let filters_as_pairs = pairs(filters);
        // Built first: a malformed filter is refused before any index is made for it.
        documents::query(
            &self.tenant,
            collection,
            &filters_as_pairs,
            limit,
            cursor,
            None,
        )?;
        let index = field_index(&self.db, filters);
        let statement = documents::query(
            &self.tenant,
            collection,
            &filters_as_pairs,
            limit,
            cursor,
            index.as_deref(),
        )?;
        let mut documents = documents_of(self.db.all(&statement)?)?;
        let next_cursor = finish_page(&mut documents, limit, |d| &d.id);
        Ok(Page {
            documents,
            next_cursor,
        })
    }

    fn count(&self, collection: &str, filters: &[FieldFilter]) -> Result<u64, Error> {
        let filters_as_pairs = pairs(filters);
        documents::count(&self.tenant, collection, &filters_as_pairs, None)?;
        let index = field_index(&self.db, filters);
        let statement = documents::count(
            &self.tenant,
            collection,
            &filters_as_pairs,
            index.as_deref(),
        )?;
        let row = self.db.one(&statement)?;
        Ok(row.map(|r| int(&r, 0)).transpose()?.unwrap_or(0) as u64)
    }

    fn list_collections(&self) -> Result<Vec<String>, Error> {
        self.db
            .all(&documents::list_collections(&self.tenant))?
            .iter()
            .map(|r| text(r, 0))
            .collect()
    }

    fn scan(
        &self,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Document>, Error> {
        documents_of(
            self.db
                .all(&documents::scan(&self.tenant, collection, after, limit))?,
        )
    }

    /// The tenant's documents and the bytes of their data (not the file's size, which
    /// every tenant shares).
    fn stats(&self) -> Result<StorageStats, Error> {
        let row = self.db.one(&documents::stats(&self.tenant))?;
        let (documents, size_bytes) = match row {
            Some(r) => (int(&r, 0)? as u64, int(&r, 1)? as u64),
            None => (0, 0),
        };
        Ok(StorageStats {
            documents,
            size_bytes,
        })
    }
}
