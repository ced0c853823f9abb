//! Support for the Spin suites: the manifests, a Spin stand-in for running the adapter,
//! requests to the app served on it, and board walks any server can be put through.
#![allow(dead_code)]

pub mod app_requests;
pub mod board_walk;
pub mod manifest;
pub mod tenants;
pub mod test_host;
