//! The Spin adapter: exports the `marcus:platform` interfaces on what Spin gives a component,
//! so the unchanged app component runs under `spin up` through component dependencies.
//!
//! Storage and the realtime log live in Spin SQLite (database `default`), the cache in Spin
//! key-value (store `default`); a `redis_address` variable adds a Redis publish of every
//! event for the Redis-trigger worker. Whatever the Spin configuration does not grant answers
//! `unavailable` instead of trapping, because Spin requires the adapter to export every
//! interface the app imports.

mod bindings;
mod capabilities_report;
mod checks;
mod event_log;
mod field_filters;
mod kv_cache;
mod redis_fanout;
mod settings;
mod sqlite_db;
mod sqlite_storage;

/// The exported implementation of all four platform interfaces.
struct Adapter;

bindings::export!(Adapter with_types_in bindings);
