//! The storage contract in SQLite's dialect, one copy for the native host's SQLite backend,
//! the Spin adapter on Spin SQLite and the benchmark: the schema, every statement with its
//! parameters, and the field filters and indexes. Placeholders are plain `?`, numbered by
//! position, so filter conditions can be spliced in anywhere.

pub mod batch;
pub mod documents;
pub mod field_indexes;
pub mod filters;
pub mod schema;
