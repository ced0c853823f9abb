//! The raw platform API: `/api/storage`, `/api/cache`, `/api/realtime`.

use super::operation::{Operation, name_schema};
use super::schemas::{count, document_id, document_ref, event_page, int_range, object_with};
use crate::routes::realtime::MAX_POLL;
use crate::routes::storage::MAX_LIMIT;
use marcus_core::store::MAX_GET_MANY;
use marcus_core::store::read_many::MAX_READ_MANY;
use marcus_core::store::rules::FIELD_PATTERN;
use serde_json::{Value, json};

const BAD: &[&str] = &["bad_request", "invalid"];
const RESERVED: &[&str] = &["reserved_collection"];

fn page_limit() -> Value {
    json!({"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIMIT, "description": "Page size (100 when absent)"})
}

fn filters() -> Value {
    json!({"type": ["object", "null"], "description": "Equality filters: field name to JSON value",
           "propertyNames": {"maxLength": 200, "pattern": FIELD_PATTERN}})
}

fn version_header() -> Value {
    json!({"type": "string", "pattern": "^\"?[0-9]{1,19}\"?$"})
}

fn storage() -> Vec<Operation> {
    let docs = json!({"type": "array", "items": document_ref()});
    let item = |method: &str, name: &str| {
        Operation::new(method, "/api/storage/{collection}/{id}", "storage", name)
            .path_param("id", document_id())
    };
    let op_on = |method: &str, op: &str, summary: &str| {
        Operation::new(
            method,
            &format!("/api/storage/{{collection}}/{op}"),
            "storage",
            summary,
        )
        .fails(400, BAD)
        .fails(403, RESERVED)
    };
    vec![
        Operation::new("GET", "/api/storage", "storage", "Collections").answers(
            200,
            "Collection names",
            object_with(&[("collections", json!({"type": "array", "items": {"type": "string"}}))]),
        ),
        item("GET", "Read a document")
            .answers(200, "The document (ETag: its version)", document_ref())
            .fails(400, BAD)
            .fails(403, RESERVED)
            .fails(404, &["not_found"]),
        item("PUT", "Write a document (If-Match / If-None-Match)")
            .header("If-Match", false, version_header(), "Write only over this version")
                .header("If-None-Match", false, json!({"type": "string", "enum": ["*"]}), "Write only if absent")
                .json_body(true, json!({"description": "Any JSON value"}))
                .answers(200, "The stored document (ETag: its version)", document_ref())
                .fails(400, BAD)
                .fails(403, RESERVED)
                .fails(409, &["conflict"]),
        item("DELETE", "Delete a document")
                .header("If-Match", false, version_header(), "Delete only this version")
                .answers(200, "Deleted", object_with(&[("deleted", json!({"const": true}))]))
                .fails(400, BAD)
                .fails(403, RESERVED)
                .fails(404, &["not_found"])
                .fails(409, &["conflict"]),
        op_on("POST", "_query", "Equality query, a page at a time")
            .json_body(false, json!({"type": "object", "properties": {
                "where": filters(), "limit": page_limit(),
                "cursor": {"type": ["string", "null"], "description": "next_cursor of the previous page"}}}))
            .answers(200, "A page", object_with(&[("documents", docs.clone()), ("next_cursor", json!({"type": ["string", "null"]}))])),
        op_on("POST", "_count", "Count matching documents")
            .json_body(false, json!({"type": "object", "properties": {"where": filters()}}))
            .answers(200, "The count", object_with(&[("count", count())])),
        op_on("POST", "_scan", "Scan in id order")
            .json_body(false, json!({"type": "object", "properties": {
                "after": {"type": ["string", "null"], "description": "Start after this id"}, "limit": page_limit()}}))
            .answers(200, "Documents", object_with(&[("documents", docs.clone())])),
        Operation::new("POST", "/api/storage/_batch", "storage", "Atomic batch write: all or nothing")
            .json_body(true, json!({"type": "object", "required": ["writes"], "properties": {"writes": {
                "type": "array", "items": {"type": "object", "required": ["collection", "id", "data"], "properties": {
                    "collection": name_schema(),
                    "id": document_id(),
                    "data": {"description": "Any JSON value"},
                    "expect": {"anyOf": [{"enum": ["any", "absent", null]}, count()],
                               "description": "any (default), absent, or the current version"}
                }}}}}))
            .answers(200, "The stored documents", object_with(&[("documents", docs.clone())]))
            .fails(400, BAD)
            .fails(403, RESERVED)
            .fails(409, &["conflict"]),
        Operation::new("POST", "/api/storage/_get_many", "storage", "Read several documents in one storage call")
            .json_body(true, json!({"type": "object", "required": ["keys"], "properties": {"keys": {
                "type": "array", "maxItems": MAX_GET_MANY, "items": {"type": "object", "required": ["collection", "id"], "properties": {
                    "collection": name_schema(),
                    "id": document_id()
                }}}}}))
            .answers(200, "One entry per key in key order: the document, or null when it does not exist",
                object_with(&[("documents", json!({"type": "array", "items": {"anyOf": [document_ref(), {"type": "null"}]}}))]))
            .fails(400, BAD)
            .fails(403, RESERVED),
        Operation::new("POST", "/api/storage/_read_many", "storage", "Several gets and queries in one storage call")
            .json_body(true, json!({"type": "object", "required": ["reads"], "properties": {"reads": {
                "type": "array", "maxItems": MAX_READ_MANY, "items": {"oneOf": [
                    {"type": "object", "required": ["get"], "additionalProperties": false, "properties": {"get": {
                        "type": "object", "required": ["collection", "id"], "properties": {
                            "collection": name_schema(), "id": document_id()}}}},
                    {"type": "object", "required": ["query"], "additionalProperties": false, "properties": {"query": {
                        "type": "object", "required": ["collection"], "properties": {
                            "collection": name_schema(), "where": filters(), "limit": page_limit(),
                            "cursor": {"type": ["string", "null"], "description": "next_cursor of the previous page"}}}}}
                ]}}}}))
            .answers(200, "One answer per read in read order: a get's document (or null), a query's page",
                object_with(&[("answers", json!({"type": "array", "items": {"oneOf": [
                    {"type": "object", "required": ["document"], "properties": {"document": {"anyOf": [document_ref(), {"type": "null"}]}}},
                    {"type": "object", "required": ["page"], "properties": {"page": {"type": "object", "required": ["documents", "next_cursor"], "properties": {
                        "documents": docs, "next_cursor": {"type": ["string", "null"]}}}}}
                ]}}))]))
            .fails(400, BAD)
            .fails(403, RESERVED),
    ]
}

fn cache() -> Vec<Operation> {
    let key = |method: &str, summary: &str| {
        Operation::new(method, "/api/cache/{key}", "cache", summary).fails(400, BAD)
    };
    vec![
        Operation::new("DELETE", "/api/cache", "cache", "Clear the cache").answers(
            200,
            "Cleared",
            object_with(&[("cleared", json!({"const": true}))]),
        ),
        key("GET", "Read a cached value")
            .answers_media(
                200,
                "The value's bytes",
                &[(
                    "application/octet-stream",
                    json!({"type": "string", "format": "binary"}),
                )],
            )
            .fails(404, &["not_found"]),
        key("PUT", "Cache the body's bytes")
            .query(
                "ttl",
                int_range(1, u32::MAX as u64),
                "Seconds to keep it (none: until evicted)",
            )
            .body_media(
                false,
                &[
                    (
                        "application/octet-stream",
                        json!({"type": "string", "format": "binary"}),
                    ),
                    (
                        "application/json",
                        json!({"description": "The value (stored as the body's bytes)"}),
                    ),
                ],
            )
            .answers(
                200,
                "Stored",
                object_with(&[("stored", json!({"const": true}))]),
            ),
        key("DELETE", "Remove a cached value").answers(
            200,
            "Whether it was cached",
            object_with(&[("deleted", json!({"type": "boolean"}))]),
        ),
    ]
}

fn realtime() -> Vec<Operation> {
    let channel = |method: &str, summary: &str| {
        Operation::new(method, "/api/realtime/{channel}", "realtime", summary).fails(400, BAD)
    };
    vec![
        channel("GET", "Poll a channel")
            .query(
                "since",
                count(),
                "Events after this sequence number (0: from the oldest retained)",
            )
            .query(
                "limit",
                int_range(1, MAX_POLL as u64),
                "Most events returned (100 when absent)",
            )
            .answers(
                200,
                "Events",
                event_page(object_with(&[
                    ("seq", count()),
                    ("payload", json!({})),
                    ("published_at", count()),
                ])),
            ),
        channel("POST", "Publish the JSON body on a channel")
            .json_body(true, json!({"description": "Any JSON value"}))
            .answers(200, "Its sequence number", object_with(&[("seq", count())])),
    ]
}

/// The storage, cache and realtime operations.
pub fn operations() -> Vec<Operation> {
    let mut ops = storage();
    ops.extend(cache());
    ops.extend(realtime());
    ops
}
