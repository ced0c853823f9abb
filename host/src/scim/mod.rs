//! SCIM 2.0 provisioning (RFC 7644) on the native host: an organisation's identity provider
//! creates, updates, deactivates and deletes its people and groups at `/scim/v2/`, with an
//! admin token of that organisation's tenant. The protocol rules are
//! `marcus_identity::scim`'s; this module serves them over HTTP and keeps the records in
//! the tenant's storage.

pub mod routes;
pub mod store;

/// Where the SCIM service lives.
pub const PATH: &str = "/scim/v2";
