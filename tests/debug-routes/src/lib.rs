//! Nothing to call: depending on this crate is what compiles the host (and its app
//! component) with the test-only routes, and only the test build depends on it.
