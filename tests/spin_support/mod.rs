//! Support for the Spin suite: the manifests and a Spin stand-in for running the adapter.

pub mod manifest;
pub mod test_host;
