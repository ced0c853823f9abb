//! Tenants on the native host: the registry of the organisations one installation serves
//! (`marcus tenant`, `/api/admin/tenants`), which tenants a credential may still act for,
//! and each tenant's quotas. Scoping every storage, cache and realtime call by the request's
//! tenant happens in the platform glue; this module keeps the registry it relies on.

pub mod admin_api;
pub mod command;
pub mod quotas;
pub mod registry;
pub mod served;
