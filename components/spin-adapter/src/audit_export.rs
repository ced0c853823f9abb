//! `marcus:platform/audit` on Spin. The audit log (records chained in the same transaction
//! as each write, signed checkpoints) is kept by the native host only; a Spin deployment
//! keeps none, and says so in its capability report's `audit` fact. The app's naming of a
//! change is accepted and has nowhere to go, as with `request-report`.

use crate::Adapter;
use crate::bindings::exports::marcus::platform::audit::{Guest, Refusal};

impl Guest for Adapter {
    fn begin(_action: String, _target_kind: String, _target_id: String, _details: String) {}

    fn refused(_refusal: Refusal, _reason: String) {}
}
