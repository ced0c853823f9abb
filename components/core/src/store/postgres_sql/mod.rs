//! The storage contract in PostgreSQL's dialect, one copy for the native host's PostgreSQL
//! backend and the Spin adapter on outbound PostgreSQL, so hosts of both kinds can share one
//! database: the schema and its lock, every statement with its parameters (`$n`
//! placeholders), and the field filters and indexes.

pub mod documents;
pub mod field_indexes;
pub mod filters;
pub mod schema;
