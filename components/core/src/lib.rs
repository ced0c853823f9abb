//! Marcus domain logic, free of I/O so it is unit-tested natively and runs unchanged
//! inside the app component on any host.

pub mod api_error;
pub mod audit;
pub mod board;
pub mod collections;
pub mod event_stream;
pub mod features;
pub mod jobs;
pub mod jsonrpc_id;
pub mod names;
pub mod read_cache;
pub mod realtime_limits;
pub mod report_headers;
pub mod request_guard;
pub mod schema;
pub mod store;
pub mod text;
pub mod webhooks;
