//! Shared parts of the benchmark programs.

pub mod team_infra;
