//! The audit log's rules, shared by every writer and reader of it (the native host, its
//! commands, the benchmark): what a record holds, how records chain, how checkpoints are
//! signed, how secrets are kept out of details, and how a stored log is verified. Pure code:
//! the stores keep the rows, these rules say what the rows must be.

pub mod actions;
pub mod chain;
pub mod checkpoint;
pub mod entry;
pub mod filter;
pub mod redact;
pub mod stored;
pub mod verify;

pub use chain::GENESIS;
pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use entry::{Actor, Entry, Outcome, RequestInfo, Target};
pub use filter::AuditFilter;
pub use stored::StoredRecord;
