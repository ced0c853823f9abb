//! Typed records over the storage capability: every board record is one JSON document,
//! read with its version so writes can be compare-and-swap. This module knows storage only;
//! a board write is committed, with what it owes, by [`crate::unit_of_work`].

use crate::bindings::storage::{Document, DocumentKey, Expect, Write};
use crate::board_error::BoardError;
use crate::platform_error::to_api;
use crate::read_ahead;
use marcus_core::api_error::ApiError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A record and the storage version it was read at.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    /// The record.
    pub value: T,
    /// Storage version, for compare-and-swap.
    pub version: u64,
}

/// Collections of the board (the core names them, for the hosts that count them too).
pub mod collections {
    pub use marcus_core::collections::*;

    /// The board's own collections and the credential store: only the board's code (and the
    /// host, for credentials) writes them, so the raw storage API can neither corrupt the
    /// board nor read its secrets, sessions and token digests.
    pub const RESERVED: &[&str] = &[
        PROJECTS,
        TASKS,
        AGENTS,
        PROGRESS,
        BLOCKERS,
        DECISIONS,
        ARTIFACTS,
        EVENTS,
        JOBS,
        WEBHOOKS,
        WEBHOOK_DELIVERIES,
        MCP_SESSIONS,
        marcus_identity::record::COLLECTION,
        marcus_identity::record::SETTINGS_COLLECTION,
        marcus_identity::user::COLLECTION,
        marcus_identity::user::LINKS_COLLECTION,
        marcus_identity::user::NAMES_COLLECTION,
    ];
}

fn decode<T: DeserializeOwned>(collection: &str, id: &str, data: &str) -> Result<T, ApiError> {
    serde_json::from_str(data)
        .map_err(|e| ApiError::internal(format!("stored {collection}/{id} is unreadable: {e}")))
}

thread_local! {
    /// `collection/id` of every document this request skipped as unreadable.
    static UNREADABLE: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Notes a document a listing skipped, with a log line; one damaged document must not make
/// every listing that meets it fail.
fn skip_unreadable(collection: &str, id: &str, error: &ApiError) {
    eprintln!(
        "marcus: skipped unreadable document {collection}/{id}: {}",
        error.message
    );
    UNREADABLE.with(|u| u.borrow_mut().push(format!("{collection}/{id}")));
}

/// The documents this request skipped as unreadable (for the response's report header).
pub fn unreadable_skipped() -> Vec<String> {
    UNREADABLE.with(|u| u.borrow().clone())
}

/// Reads one record.
pub fn get<T: DeserializeOwned>(
    collection: &str,
    id: &str,
) -> Result<Option<Versioned<T>>, ApiError> {
    if marcus_core::names::check_name("id", id).is_err() {
        return Ok(None);
    }
    let doc = match read_ahead::take_document(collection, id) {
        Some(doc) => doc,
        None => crate::platform::current()
            .get(collection, id)
            .map_err(to_api)?,
    };
    match doc {
        Some(doc) => Ok(Some(Versioned {
            value: decode(collection, id, &doc.data)?,
            version: doc.version,
        })),
        None => Ok(None),
    }
}

/// Reads the records of `collection` with these ids in one platform call per
/// `MAX_GET_MANY` ids: one entry per id, in the order given, `None` for a record that does
/// not exist (or an id no record can have), as [`get`] answers each.
pub fn get_many<T: DeserializeOwned>(
    collection: &str,
    ids: &[String],
) -> Result<Vec<Option<Versioned<T>>>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(marcus_core::store::MAX_GET_MANY) {
        let keys: Vec<DocumentKey> = chunk
            .iter()
            .map(|id| DocumentKey {
                collection: collection.to_string(),
                id: id.clone(),
            })
            .collect();
        for (id, doc) in chunk.iter().zip(documents(&keys)?) {
            out.push(record(collection, id, doc)?);
        }
    }
    Ok(out)
}

/// The documents at `keys`, in key order: those read ahead from there, the others with one
/// `get-many` (none when all were read ahead).
fn documents(keys: &[DocumentKey]) -> Result<Vec<Option<Document>>, ApiError> {
    let mut found: Vec<Option<Option<Document>>> = keys
        .iter()
        .map(|k| read_ahead::take_document(&k.collection, &k.id))
        .collect();
    let missing: Vec<DocumentKey> = keys
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(k, _)| k.clone())
        .collect();
    if !missing.is_empty() {
        let read = crate::platform::current()
            .get_many(&missing)
            .map_err(to_api)?;
        if read.len() != missing.len() {
            return Err(ApiError::internal(format!(
                "storage answered {} entries for {} keys",
                read.len(),
                missing.len()
            )));
        }
        let mut read = read.into_iter();
        for slot in found.iter_mut().filter(|f| f.is_none()) {
            *slot = read.next();
        }
    }
    Ok(found.into_iter().map(Option::flatten).collect())
}

/// Reads two documents (say an agent and the task it reports on) in one platform call;
/// [`record`] turns each into its record, in whichever order the caller checks them.
pub fn get_pair(
    (collection_a, id_a): (&str, &str),
    (collection_b, id_b): (&str, &str),
) -> Result<[Option<Document>; 2], ApiError> {
    let key = |collection: &str, id: &str| DocumentKey {
        collection: collection.to_string(),
        id: id.to_string(),
    };
    let found = documents(&[key(collection_a, id_a), key(collection_b, id_b)])?;
    found.try_into().map_err(|found: Vec<_>| {
        ApiError::internal(format!(
            "storage answered {} entries for 2 keys",
            found.len()
        ))
    })
}

/// A document read for `collection/id` as its record, as [`get`] answers: none for an id no
/// record can have.
pub fn record<T: DeserializeOwned>(
    collection: &str,
    id: &str,
    doc: Option<Document>,
) -> Result<Option<Versioned<T>>, ApiError> {
    match doc {
        Some(doc) if marcus_core::names::check_name("id", id).is_ok() => Ok(Some(Versioned {
            value: decode(collection, id, &doc.data)?,
            version: doc.version,
        })),
        _ => Ok(None),
    }
}

/// Reads every record matching the equality filters, in id order, page by page.
pub fn query_all<T: DeserializeOwned>(
    collection: &str,
    filters: &[(&str, Value)],
) -> Result<Vec<Versioned<T>>, ApiError> {
    let filters = read_ahead::field_filters(filters);
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let ahead = cursor
            .is_none()
            .then(|| read_ahead::take_first_page(collection, &filters))
            .flatten();
        let page = match ahead {
            Some(page) => page,
            None => crate::platform::current()
                .query(collection, &filters, read_ahead::PAGE, cursor.as_deref())
                .map_err(to_api)?,
        };
        for doc in &page.documents {
            match decode(collection, &doc.id, &doc.data) {
                Ok(value) => out.push(Versioned {
                    value,
                    version: doc.version,
                }),
                Err(error) => skip_unreadable(collection, &doc.id, &error),
            }
        }
        match page.next_cursor {
            // Ids come in ascending order, so a cursor that does not move forward would
            // repeat the same page forever.
            Some(c)
                if cursor
                    .as_ref()
                    .is_some_and(|before| c.as_str() <= before.as_str()) =>
            {
                return Err(ApiError::internal(format!(
                    "storage paged {collection} with a cursor that does not advance ({c:?})"
                )));
            }
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Counts records matching the equality filters.
pub fn count(collection: &str, filters: &[(&str, Value)]) -> Result<u64, ApiError> {
    let filters = read_ahead::field_filters(filters);
    crate::platform::current()
        .count(collection, &filters)
        .map_err(to_api)
}

/// One write of an atomic change set.
pub struct Change {
    write: Write,
}

impl Change {
    /// Writes `value` to `collection/id` under `expect`.
    pub fn put<T: Serialize>(
        collection: &str,
        id: &str,
        value: &T,
        expect: Expect,
    ) -> Result<Self, ApiError> {
        let data = serde_json::to_string(value)
            .map_err(|e| ApiError::internal(format!("encoding {collection}/{id}: {e}")))?;
        Ok(Self {
            write: Write {
                collection: collection.to_string(),
                id: id.to_string(),
                data,
                expect,
            },
        })
    }

    /// Creates `collection/id`; it must not exist yet.
    pub fn create<T: Serialize>(collection: &str, id: &str, value: &T) -> Result<Self, ApiError> {
        Self::put(collection, id, value, Expect::Absent)
    }

    /// Replaces `collection/id` only if it is still at `version`.
    pub fn update<T: Serialize>(
        collection: &str,
        id: &str,
        value: &T,
        version: u64,
    ) -> Result<Self, ApiError> {
        Self::put(collection, id, value, Expect::Version(version))
    }

    /// The storage write, for the unit of work that joins every change of a board write
    /// into one `put_many`.
    pub fn into_write(self) -> Write {
        self.write
    }
}

/// Deletes `collection/id` if it is still at `version`; `false` when it was gone already,
/// [`BoardError::Conflict`] when it changed since.
pub fn delete(collection: &str, id: &str, version: Option<u64>) -> Result<bool, BoardError> {
    crate::platform::current()
        .delete(collection, id, version)
        .map_err(BoardError::from_platform)
}
