//! The Spin adapter: exports the `marcus:platform` interfaces on what Spin gives a component,
//! so the unchanged app component runs under `spin up` through component dependencies.
//!
//! Storage lives in Spin SQLite (database `default`), or in PostgreSQL when the
//! `database_url` variable is set; the realtime log in Spin SQLite, the cache in Spin
//! key-value (store `default`); a `redis_address` variable adds a Redis publish of every
//! event for the Redis-trigger worker. Whatever the Spin configuration does not grant answers
//! `unavailable` instead of trapping, because Spin requires the adapter to export every
//! interface the app imports.
//!
//! Tenants are kept apart here, never in the app: the principal `identity.current`
//! establishes (or, for the worker, the tenant `job-scope.enter` names) scopes every
//! storage statement, cache key and realtime channel of the instance, and a call made
//! before any tenant is established fails closed.

mod audit_export;
mod bindings;
mod capabilities_report;
mod checks;
mod commit_export;
mod document_store;
mod event_log;
mod field_filters;
mod identity_export;
mod job_scope_export;
mod kv_cache;
mod postgres_storage;
mod redis_fanout;
mod request_report;
mod request_scope;
mod settings;
mod sqlite_db;
mod sqlite_storage;
mod storage_export;

/// The exported implementation of the platform's interfaces.
struct Adapter;

bindings::export!(Adapter with_types_in bindings);
