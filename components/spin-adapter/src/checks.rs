//! The shared storage rules (`marcus_core::store`) in the adapter's error type, so the app
//! sees the native host's refusals word for word, and the wall clock.

use crate::bindings::Error;
use crate::bindings::storage::{Expect, Write};
use marcus_core::store::{StoreError, WriteRef};

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => Error::Invalid(m),
            StoreError::Conflict(m) => Error::Conflict(m),
        }
    }
}

/// The WIT precondition as the shared rules' type.
pub fn expect(e: Expect) -> marcus_core::store::Expect {
    match e {
        Expect::Any => marcus_core::store::Expect::Any,
        Expect::Absent => marcus_core::store::Expect::Absent,
        Expect::Version(v) => marcus_core::store::Expect::Version(v),
    }
}

/// A WIT write as the shared statement builders take it.
pub fn write_ref(w: &Write) -> WriteRef<'_> {
    WriteRef {
        collection: &w.collection,
        id: &w.id,
        data: &w.data,
        expect: expect(w.expect),
    }
}

/// Milliseconds since the Unix epoch, from the host's wall clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
