//! Response headers in which the app reports to the host (and the client) what it did
//! beside the answer, so the host can count it without parsing bodies.

/// The documents a response skipped because they do not parse (`collection/id`,
/// space-separated): the host logs each and counts it in `marcus_unreadable_documents_total`.
pub const UNREADABLE: &str = "x-marcus-unreadable";
