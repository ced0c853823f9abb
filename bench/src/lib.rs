//! Shared parts of the benchmark programs.

pub mod marcus_server;
pub mod team_infra;
