//! One module per route family.

pub mod cache;
pub mod debug;
pub mod features;
pub mod health;
pub mod realtime;
pub mod storage;
pub mod tools;
