//! Reads made ahead: an operation that knows what it will read names it all at once, and one
//! `read-many` call answers it; the code that then reads each record finds the answer here
//! instead of crossing to the platform again. Each answer is used once (a retry after a lost
//! race reads afresh), and everything read ahead is forgotten when a write is committed and
//! when a tool call ends, so nothing read ahead outlives the decision it was read for.

use crate::bindings::storage::{
    Document, DocumentKey, FieldFilter, Page, QueryRequest, Read, ReadAnswer,
};
use crate::platform_error::to_api;
use marcus_core::api_error::ApiError;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;

/// The page size of a query read ahead: the first page [`crate::records::query_all`] asks for.
pub const PAGE: u32 = 1000;

/// A query's address: its collection and filters, as sent.
type QueryKey = (String, Vec<(String, String)>);

#[derive(Default)]
struct Ahead {
    documents: HashMap<(String, String), Option<Document>>,
    pages: HashMap<QueryKey, Page>,
}

thread_local! {
    static AHEAD: RefCell<Ahead> = RefCell::new(Ahead::default());
}

/// Equality filters as the storage interface takes them (JSON text values).
pub fn field_filters(filters: &[(&str, Value)]) -> Vec<FieldFilter> {
    filters
        .iter()
        .map(|(f, v)| FieldFilter {
            field: (*f).to_string(),
            value: v.to_string(),
        })
        .collect()
}

/// A read of one document.
pub fn get(collection: &str, id: &str) -> Read {
    Read::Get(DocumentKey {
        collection: collection.to_string(),
        id: id.to_string(),
    })
}

/// A read of the first page of a query with equality filters.
pub fn query(collection: &str, filters: &[(&str, Value)]) -> Read {
    Read::Query(QueryRequest {
        collection: collection.to_string(),
        filters: field_filters(filters),
        limit: PAGE,
        cursor: None,
    })
}

fn query_key(collection: &str, filters: &[FieldFilter]) -> QueryKey {
    (
        collection.to_string(),
        filters
            .iter()
            .map(|f| (f.field.clone(), f.value.clone()))
            .collect(),
    )
}

/// Reads `reads` in one platform call and keeps the answers for the reads that follow. At
/// most `read-many`'s bound: a longer list is not read ahead (each read then crosses on
/// its own, as without this).
pub fn read(reads: Vec<Read>) -> Result<(), ApiError> {
    if reads.is_empty() || reads.len() > marcus_core::store::read_many::MAX_READ_MANY {
        return Ok(());
    }
    let answers = crate::platform::current()
        .read_many(&reads)
        .map_err(to_api)?;
    if answers.len() != reads.len() {
        return Err(ApiError::internal(format!(
            "storage answered {} entries for {} reads",
            answers.len(),
            reads.len()
        )));
    }
    AHEAD.with(|ahead| {
        let mut ahead = ahead.borrow_mut();
        for (read, answer) in reads.into_iter().zip(answers) {
            match (read, answer) {
                (Read::Get(k), ReadAnswer::Document(d)) => {
                    ahead.documents.insert((k.collection, k.id), d);
                }
                (Read::Query(q), ReadAnswer::Page(p)) => {
                    ahead.pages.insert(query_key(&q.collection, &q.filters), p);
                }
                // A host answering a read with the other kind: read it again when needed.
                _ => {}
            }
        }
    });
    Ok(())
}

/// The document read ahead for `collection/id` (`Some(None)`: read ahead, absent), taken.
pub fn take_document(collection: &str, id: &str) -> Option<Option<Document>> {
    AHEAD.with(|a| {
        a.borrow_mut()
            .documents
            .remove(&(collection.to_string(), id.to_string()))
    })
}

/// The first page read ahead for this query, taken.
pub fn take_first_page(collection: &str, filters: &[FieldFilter]) -> Option<Page> {
    AHEAD.with(|a| a.borrow_mut().pages.remove(&query_key(collection, filters)))
}

/// Forgets everything read ahead (a write was committed, or a tool call ended).
pub fn forget() {
    AHEAD.with(|a| *a.borrow_mut() = Ahead::default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::storage::Expect;
    use crate::platform::Platform;
    use crate::platform::in_memory::InMemory;
    use serde_json::json;

    #[test]
    fn an_answer_read_ahead_is_used_once_and_never_after_it_is_forgotten() {
        let platform = InMemory::installed();
        platform
            .put("c", "x", r#"{"n":1,"k":"a"}"#, Expect::Any)
            .unwrap();
        let before = platform.calls();
        read(vec![
            get("c", "x"),
            get("c", "absent"),
            query("c", &[("k", json!("a"))]),
        ])
        .unwrap();
        assert_eq!(platform.calls() - before, 1, "one crossing for three reads");

        let page = take_first_page("c", &field_filters(&[("k", json!("a"))])).unwrap();
        assert_eq!(page.documents.len(), 1);
        assert!(matches!(take_document("c", "absent"), Some(None)));
        let x = take_document("c", "x").unwrap().unwrap();
        assert_eq!(x.version, 1);
        assert!(take_document("c", "x").is_none(), "an answer is used once");

        read(vec![get("c", "x")]).unwrap();
        platform.put("c", "x", r#"{"n":2}"#, Expect::Any).unwrap();
        forget();
        assert!(
            take_document("c", "x").is_none(),
            "nothing survives a forget"
        );
        let fresh = crate::records::get::<serde_json::Value>("c", "x")
            .unwrap()
            .unwrap();
        assert_eq!(fresh.version, 2, "a read after the forget goes to storage");
    }
}
