//! `/api/storage`: versioned JSON documents over the storage capability. Reads go to storage
//! directly; writes go through [`raw`], which runs what every committed write owes.

use crate::allowed_methods::method_not_allowed;
use crate::bindings::storage::{self, Document, DocumentKey, Expect, FieldFilter, Write};
use crate::http_io::{Request, Response};
use crate::platform_error::to_api;
use crate::records::collections;
use crate::unit_of_work::raw;
use marcus_core::api_error::ApiError;
use marcus_core::names::{check_document_id, check_name};
use serde_json::{Map, Value, json};

/// Page size of `_query` and `_scan` when the body names none.
const DEFAULT_LIMIT: u32 = 100;
/// Largest page `_query` and `_scan` return.
pub const MAX_LIMIT: u32 = 1000;

/// Dispatches the storage routes below `/api/storage`.
pub fn handle(req: &Request, rest: &[&str]) -> Result<Response, ApiError> {
    let m = req.method.as_str();
    match rest {
        [] => match m {
            "GET" => list_collections(),
            _ => Err(method_not_allowed(m, &["GET"])),
        },
        ["_batch"] => match m {
            "POST" => batch(req),
            _ => Err(method_not_allowed(m, &["POST"])),
        },
        ["_get_many"] => match m {
            "POST" => get_many(req),
            _ => Err(method_not_allowed(m, &["POST"])),
        },
        ["_read_many"] => match m {
            "POST" => read_many(req),
            _ => Err(method_not_allowed(m, &["POST"])),
        },
        [collection, op @ ("_query" | "_count" | "_scan")] => {
            check_open(collection)?;
            if m != "POST" {
                return Err(method_not_allowed(m, &["POST"]));
            }
            let body = object_body(req)?;
            match *op {
                "_query" => query(collection, &body),
                "_count" => count(collection, &body),
                _ => scan(collection, &body),
            }
        }
        [collection, id] => {
            check_open(collection)?;
            check_document_id(id)?;
            match m {
                "GET" => get(collection, id),
                "PUT" => put(req, collection, id),
                "DELETE" => delete(req, collection, id),
                _ => Err(method_not_allowed(m, &["GET", "PUT", "DELETE"])),
            }
        }
        _ => Err(ApiError::not_found(format!(
            "no route for {} {}",
            m, req.path
        ))),
    }
}

/// A valid collection name that the raw API may use: the board's own collections are
/// refused (403 `reserved_collection`) unless the host runs with `--debug-routes`, which
/// test suites use to inspect and seed the board.
fn check_open(collection: &str) -> Result<(), ApiError> {
    check_name("collection", collection)?;
    if !collections::RESERVED.contains(&collection) || crate::routes::debug::enabled() {
        return Ok(());
    }
    Err(ApiError::new(
        403,
        "reserved_collection",
        format!(
            "collection {collection:?} belongs to the board and is not served by the raw \
             storage API; use the board's routes (/api/projects, /api/tasks, /api/tools, /mcp)"
        ),
    ))
}

/// The JSON form of a stored document.
pub fn document_json(doc: &Document) -> Value {
    let data = serde_json::from_str::<Value>(&doc.data).unwrap_or(Value::Null);
    json!({
        "collection": doc.collection,
        "id": doc.id,
        "data": data,
        "version": doc.version,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    })
}

fn list_collections() -> Result<Response, ApiError> {
    let mut names = storage::list_collections().map_err(to_api)?;
    if !crate::routes::debug::enabled() {
        names.retain(|n| !collections::RESERVED.contains(&n.as_str()));
    }
    Ok(Response::json(200, &json!({"collections": names})))
}

fn get(collection: &str, id: &str) -> Result<Response, ApiError> {
    match storage::get(collection, id).map_err(to_api)? {
        Some(doc) => Ok(Response::json(200, &document_json(&doc))
            .with_header("etag", format!("\"{}\"", doc.version))),
        None => Err(ApiError::not_found(format!(
            "document {collection}/{id} does not exist"
        ))),
    }
}

/// Reads `If-Match: <version>` / `If-None-Match: *` into a precondition.
fn precondition(req: &Request) -> Result<Expect, ApiError> {
    if let Some(v) = req.header("if-match") {
        let version = v.trim().trim_matches('"').parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "If-Match must be a document version number, got {v:?}"
            ))
        })?;
        return Ok(Expect::Version(version));
    }
    if let Some(v) = req.header("if-none-match") {
        if v.trim() == "*" {
            return Ok(Expect::Absent);
        }
        return Err(ApiError::bad_request("If-None-Match supports only *"));
    }
    Ok(Expect::Any)
}

fn put(req: &Request, collection: &str, id: &str) -> Result<Response, ApiError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("request body must be a JSON value"));
    }
    let data = req.json()?;
    let expect = precondition(req)?;
    let doc = raw::put(collection, id, &data.to_string(), expect)?;
    Ok(Response::json(200, &document_json(&doc))
        .with_header("etag", format!("\"{}\"", doc.version)))
}

fn delete(req: &Request, collection: &str, id: &str) -> Result<Response, ApiError> {
    let expected = match precondition(req)? {
        Expect::Version(v) => Some(v),
        Expect::Any => None,
        Expect::Absent => {
            return Err(ApiError::bad_request(
                "If-None-Match makes no sense on DELETE",
            ));
        }
    };
    if raw::delete(collection, id, expected)? {
        Ok(Response::json(200, &json!({"deleted": true})))
    } else {
        Err(ApiError::not_found(format!(
            "document {collection}/{id} does not exist"
        )))
    }
}

fn object_body(req: &Request) -> Result<Map<String, Value>, ApiError> {
    match req.json()? {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        other => Err(ApiError::bad_request(format!(
            "request body must be a JSON object, got {}",
            type_name(&other)
        ))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn filters(body: &Map<String, Value>) -> Result<Vec<FieldFilter>, ApiError> {
    match body.get("where") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => Ok(m
            .iter()
            .map(|(field, value)| FieldFilter {
                field: field.clone(),
                value: value.to_string(),
            })
            .collect()),
        Some(other) => Err(ApiError::bad_request(format!(
            "\"where\" must be an object of field: value pairs, got {}",
            type_name(other)
        ))),
    }
}

fn limit(body: &Map<String, Value>) -> Result<u32, ApiError> {
    match body.get("limit") {
        None | Some(Value::Null) => Ok(DEFAULT_LIMIT),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(l) if (1..=MAX_LIMIT as u64).contains(&l) => Ok(l as u32),
            _ => Err(ApiError::bad_request(format!(
                "\"limit\" must be an integer from 1 to {MAX_LIMIT}, got {n}"
            ))),
        },
        Some(other) => Err(ApiError::bad_request(format!(
            "\"limit\" must be an integer from 1 to {MAX_LIMIT}, got {}",
            type_name(other)
        ))),
    }
}

fn optional_string(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::bad_request(format!(
            "\"{key}\" must be a string or null, got {}",
            type_name(other)
        ))),
    }
}

fn query(collection: &str, body: &Map<String, Value>) -> Result<Response, ApiError> {
    let page = storage::query(
        collection,
        &filters(body)?,
        limit(body)?,
        optional_string(body, "cursor")?.as_deref(),
    )
    .map_err(to_api)?;
    let docs: Vec<Value> = page.documents.iter().map(document_json).collect();
    Ok(Response::json(
        200,
        &json!({"documents": docs, "next_cursor": page.next_cursor}),
    ))
}

fn count(collection: &str, body: &Map<String, Value>) -> Result<Response, ApiError> {
    let n = storage::count(collection, &filters(body)?).map_err(to_api)?;
    Ok(Response::json(200, &json!({"count": n})))
}

fn scan(collection: &str, body: &Map<String, Value>) -> Result<Response, ApiError> {
    let docs = storage::scan(
        collection,
        optional_string(body, "after")?.as_deref(),
        limit(body)?,
    )
    .map_err(to_api)?;
    let docs: Vec<Value> = docs.iter().map(document_json).collect();
    Ok(Response::json(200, &json!({"documents": docs})))
}

/// `POST /api/storage/_get_many` `{"keys": [{"collection", "id"}, …]}`: the documents in key
/// order, `null` for a missing one, in one storage call.
fn get_many(req: &Request) -> Result<Response, ApiError> {
    let body = object_body(req)?;
    let Some(Value::Array(items)) = body.get("keys") else {
        return Err(ApiError::bad_request(
            "\"keys\" must be an array of {\"collection\", \"id\"} objects",
        ));
    };
    let most = marcus_core::store::MAX_GET_MANY;
    if items.len() > most {
        return Err(ApiError::bad_request(format!(
            "\"keys\" holds {} keys; one read takes at most {most}",
            items.len()
        )));
    }
    let mut keys = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(k) = item else {
            return Err(ApiError::bad_request(format!(
                "keys[{i}] must be an object"
            )));
        };
        let field = |name: &str| match k.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(ApiError::bad_request(format!(
                "keys[{i}].{name} must be a string"
            ))),
        };
        let collection = field("collection")?;
        let id = field("id")?;
        check_open(&collection)?;
        check_document_id(&id)?;
        keys.push(DocumentKey { collection, id });
    }
    // An empty list goes to storage too: each backend answers it, as the contract says.
    let found = storage::get_many(&keys).map_err(to_api)?;
    let docs: Vec<Value> = found
        .iter()
        .map(|d| d.as_ref().map_or(Value::Null, document_json))
        .collect();
    Ok(Response::json(200, &json!({"documents": docs})))
}

/// `POST /api/storage/_read_many` `{"reads": [{"get": {"collection", "id"}} | {"query":
/// {"collection", "where", "limit", "cursor"}}, …]}`: one answer per read in read order
/// (`{"document": …|null}` or `{"page": {"documents", "next_cursor"}}`), in one storage call.
fn read_many(req: &Request) -> Result<Response, ApiError> {
    let body = object_body(req)?;
    let Some(Value::Array(items)) = body.get("reads") else {
        return Err(ApiError::bad_request(
            "\"reads\" must be an array of {\"get\": …} or {\"query\": …} objects",
        ));
    };
    let most = marcus_core::store::read_many::MAX_READ_MANY;
    if items.len() > most {
        return Err(ApiError::bad_request(format!(
            "\"reads\" holds {} reads; one call takes at most {most}",
            items.len()
        )));
    }
    let mut reads = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let one = match item {
            Value::Object(o) if o.len() == 1 => o.iter().next(),
            _ => None,
        };
        let Some((kind, Value::Object(read))) = one else {
            return Err(ApiError::bad_request(format!(
                "reads[{i}] must be {{\"get\": {{…}}}} or {{\"query\": {{…}}}}"
            )));
        };
        let collection = match read.get("collection") {
            Some(Value::String(c)) => c.clone(),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "reads[{i}].{kind}.collection must be a string"
                )));
            }
        };
        check_open(&collection)?;
        reads.push(match kind.as_str() {
            "get" => {
                let Some(Value::String(id)) = read.get("id") else {
                    return Err(ApiError::bad_request(format!(
                        "reads[{i}].get.id must be a string"
                    )));
                };
                check_document_id(id)?;
                storage::Read::Get(DocumentKey {
                    collection,
                    id: id.clone(),
                })
            }
            "query" => storage::Read::Query(storage::QueryRequest {
                collection,
                filters: filters(read)?,
                limit: limit(read)?,
                cursor: optional_string(read, "cursor")?,
            }),
            other => {
                return Err(ApiError::bad_request(format!(
                    "reads[{i}] is {other:?}; a read is \"get\" or \"query\""
                )));
            }
        });
    }
    let answers: Vec<Value> = storage::read_many(&reads)
        .map_err(to_api)?
        .iter()
        .map(|answer| match answer {
            storage::ReadAnswer::Document(d) => {
                json!({"document": d.as_ref().map_or(Value::Null, document_json)})
            }
            storage::ReadAnswer::Page(p) => json!({"page": {
                "documents": p.documents.iter().map(document_json).collect::<Vec<_>>(),
                "next_cursor": p.next_cursor,
            }}),
        })
        .collect();
    Ok(Response::json(200, &json!({"answers": answers})))
}

fn batch(req: &Request) -> Result<Response, ApiError> {
    let body = object_body(req)?;
    let Some(Value::Array(items)) = body.get("writes") else {
        return Err(ApiError::bad_request(
            "\"writes\" must be an array of writes",
        ));
    };
    let mut writes = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(w) = item else {
            return Err(ApiError::bad_request(format!(
                "writes[{i}] must be an object"
            )));
        };
        let field = |k: &str| match w.get(k) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(ApiError::bad_request(format!(
                "writes[{i}].{k} must be a string"
            ))),
        };
        let collection = field("collection")?;
        let id = field("id")?;
        check_open(&collection)?;
        check_document_id(&id)?;
        let data = w
            .get("data")
            .ok_or_else(|| ApiError::bad_request(format!("writes[{i}].data is missing")))?;
        let expect = match w.get("expect") {
            None | Some(Value::Null) => Expect::Any,
            Some(Value::String(s)) if s == "any" => Expect::Any,
            Some(Value::String(s)) if s == "absent" => Expect::Absent,
            Some(Value::Number(n)) if n.as_u64().is_some() => {
                Expect::Version(n.as_u64().unwrap_or(0))
            }
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "writes[{i}].expect must be \"any\", \"absent\" or a version number"
                )));
            }
        };
        writes.push(Write {
            collection,
            id,
            data: data.to_string(),
            expect,
        });
    }
    let docs = raw::put_many(&writes)?;
    let docs: Vec<Value> = docs.iter().map(document_json).collect();
    Ok(Response::json(200, &json!({"documents": docs})))
}
