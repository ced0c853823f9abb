//! The exported `marcus:platform/storage`: argument checks, then the configured backend.

use crate::bindings::Error;
use crate::bindings::storage::{
    Document, DocumentKey, Expect, FieldFilter, Guest, Page, Read, ReadAnswer, StorageStats, Write,
};
use crate::checks;
use crate::document_store::{self, check_write};
use marcus_core::store::{get_many, read_many, rules};
use std::collections::HashSet;

impl Guest for crate::Adapter {
    fn get(collection: String, id: String) -> Result<Option<Document>, Error> {
        document_store::open()?.get(&collection, &id)
    }

    fn get_many(keys: Vec<DocumentKey>) -> Result<Vec<Option<Document>>, Error> {
        get_many::check_count(keys.len())?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        document_store::open()?.get_many(&keys)
    }

    fn read_many(reads: Vec<Read>) -> Result<Vec<ReadAnswer>, Error> {
        read_many::check_count(reads.len())?;
        let slots = read_many::slots(&reads, |r| matches!(r, Read::Get(_)));
        let (mut keys, mut queries) = (Vec::new(), Vec::new());
        for read in reads {
            match read {
                Read::Get(key) => keys.push(key),
                Read::Query(q) => queries.push(q),
            }
        }
        let documents = Self::get_many(keys)?;
        let pages = queries
            .into_iter()
            .map(|q| Self::query(q.collection, q.filters, q.limit, q.cursor))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(read_many::in_read_order(
            &slots,
            documents,
            pages,
            ReadAnswer::Document,
            ReadAnswer::Page,
        ))
    }

    fn put(
        collection: String,
        id: String,
        data: String,
        expect: Expect,
    ) -> Result<Document, Error> {
        let w = Write {
            collection,
            id,
            data,
            expect,
        };
        check_write(&w)?;
        document_store::open()?.put(&w, checks::now_ms())
    }

    fn put_many(writes: Vec<Write>) -> Result<Vec<Document>, Error> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let mut seen = HashSet::new();
        for w in &writes {
            check_write(w)?;
            if !seen.insert((w.collection.as_str(), w.id.as_str())) {
                return Err(Error::Invalid(format!(
                    "{}/{} appears twice in one batch; write each document once",
                    w.collection, w.id
                )));
            }
        }
        document_store::open()?.put_many(&writes, checks::now_ms())
    }

    fn delete(
        collection: String,
        id: String,
        expected_version: Option<u64>,
    ) -> Result<bool, Error> {
        document_store::open()?.delete(&collection, &id, expected_version)
    }

    fn query(
        collection: String,
        filters: Vec<FieldFilter>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page, Error> {
        rules::check_limit(limit)?;
        document_store::open()?.query(&collection, &filters, limit, cursor.as_deref())
    }

    fn count(collection: String, filters: Vec<FieldFilter>) -> Result<u64, Error> {
        document_store::open()?.count(&collection, &filters)
    }

    fn list_collections() -> Result<Vec<String>, Error> {
        document_store::open()?.list_collections()
    }

    fn scan(collection: String, after: Option<String>, limit: u32) -> Result<Vec<Document>, Error> {
        rules::check_limit(limit)?;
        document_store::open()?.scan(&collection, after.as_deref(), limit)
    }

    fn stats() -> Result<StorageStats, Error> {
        document_store::open()?.stats()
    }
}
