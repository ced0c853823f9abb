//! One module per route family.

pub mod board;
pub mod cache;
pub mod dashboard;
pub mod debug;
pub mod event_stream;
pub mod events;
pub mod features;
pub mod health;
pub mod openapi;
pub mod realtime;
pub mod storage;
pub mod tools;
pub mod webhooks;
