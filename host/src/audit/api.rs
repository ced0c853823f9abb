//! `GET /api/audit`: a tenant's records for its admins, newest first, filtered and paged.
//! Only the caller's own tenant's chain is ever read (the route table admits admins only).

use crate::json_error;
use crate::storage::StorageBackend;
use marcus_core::audit::AuditFilter;
use marcus_identity::principal::Principal;

/// The route's path.
pub const PATH: &str = "/api/audit";

/// Answers one request for records: `{records: [...], next_cursor}`.
pub async fn serve(
    storage: &dyn StorageBackend,
    principal: &Principal,
    query: Option<&str>,
) -> hyper::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let filter = match AuditFilter::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        Ok(f) => f,
        Err(message) => return json_error::response(400, "invalid_query", &message),
    };
    match storage.audit_list(&principal.tenant, &filter).await {
        Ok(records) => {
            let next_cursor = (records.len() == filter.limit as usize)
                .then(|| records.last().map(|r| r.seq.to_string()))
                .flatten();
            let records: Vec<serde_json::Value> = records.iter().map(|r| r.to_json()).collect();
            json_error::json(
                200,
                &serde_json::json!({ "tenant": principal.tenant, "records": records, "next_cursor": next_cursor }),
            )
        }
        Err(e) => json_error::response(503, "unavailable", &e.to_string()),
    }
}
