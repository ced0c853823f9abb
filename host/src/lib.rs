//! The native Marcus host as a library: the binary's parts, reusable by `marcus` subcommands,
//! tests and benchmarks.

pub mod auth;
pub mod backend_status;
pub mod backends;
pub mod browser_guard;
pub mod cache;
pub mod capability_error;
pub mod cli;
pub mod component;
pub mod connection_cap;
pub mod data_dir;
pub mod engine;
pub mod fd_limit;
pub mod guest_call;
pub mod health;
pub mod jobs;
pub mod json_error;
pub mod launcher;
pub mod metrics;
pub mod migrate;
pub mod outbound_http;
pub mod over_capacity;
pub mod platform;
pub mod push;
pub mod rate_limit;
pub mod realtime;
pub mod redis_link;
pub mod request_body;
pub mod request_id;
pub mod request_state;
pub mod serve;
pub mod server;
pub mod server_client;
pub mod slots;
pub mod stdio_bridge;
pub mod storage;
