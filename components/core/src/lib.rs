//! Marcus domain logic, free of I/O so it is unit-tested natively and runs unchanged
//! inside the app component on any host.

pub mod api_error;
pub mod board;
pub mod event_stream;
pub mod features;
pub mod jobs;
pub mod names;
pub mod read_cache;
pub mod store;
pub mod text;
pub mod webhooks;
