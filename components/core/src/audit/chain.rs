//! How records link: each one's hash covers the previous record's hash, its own sequence
//! number and its body, so changing, removing or reordering any record breaks every link
//! after it. PostgreSQL computes the same hash in SQL (`postgres_sql::audit`), so a record
//! is placed in the one statement that inserts it; the two must stay the same function.

use sha2::{Digest, Sha256};

/// The previous hash of a tenant's first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of the record at `seq` with `body`, after the record whose hash is `prev_hash`:
/// lowercase hex of SHA-256 over `prev_hash`, a newline, `seq` in decimal, a newline, `body`.
pub fn link(prev_hash: &str, seq: u64, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    hex(&h.finalize())
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The bytes of lowercase or uppercase hex `text`.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_covers_the_previous_hash_the_sequence_and_the_body() {
        let a = link(GENESIS, 1, "{}");
        assert_eq!(a.len(), 64);
        assert_ne!(a, link(GENESIS, 2, "{}"));
        assert_ne!(a, link(&a, 1, "{}"));
        assert_ne!(a, link(GENESIS, 1, "{ }"));
        // The known answer: sha256("000…0\n1\n{}").
        let mut h = Sha256::new();
        h.update(format!("{GENESIS}\n1\n{{}}"));
        assert_eq!(a, hex(&h.finalize()));
        assert_eq!(unhex("0aff").unwrap(), vec![10, 255]);
        assert!(unhex("0g").is_none() && unhex("abc").is_none());
    }
}
