//! Support for the Spin suites: the manifests, a Spin stand-in for running the adapter, and
//! requests to the app served on it.
#![allow(dead_code)]

pub mod app_requests;
pub mod manifest;
pub mod test_host;
