//! Delivery signatures in the Standard Webhooks scheme: HMAC-SHA256 over
//! `"{delivery id}.{unix seconds}.{body}"`, sent as `webhook-signature: v1,<base64>` with
//! `webhook-id` and `webhook-timestamp`. Receivers reject stale timestamps (replay) and
//! compare signatures in constant time; many webhook libraries verify this scheme as is.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Prefix of generated secrets; the rest is base64 of the key bytes.
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of key material in a generated secret.
pub const SECRET_BYTES: usize = 24;

/// A secret from random bytes, in the `whsec_<base64>` form receivers expect.
pub fn secret_from_bytes(bytes: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The HMAC key a secret stands for: the decoded base64 after `whsec_`, or the raw text of
/// a secret chosen by the user in another form.
pub fn key_of(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

fn mac(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key_of(secret))
        .expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` header value for one delivery.
pub fn sign(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> String {
    let tag = mac(secret, id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// Whether `header` (space-separated `v1,<base64>` entries) holds a valid signature for the
/// delivery, and `timestamp` is within `tolerance_s` of `now_s`.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: u64,
    body: &[u8],
    header: &str,
    now_s: u64,
    tolerance_s: u64,
) -> bool {
    if now_s.abs_diff(timestamp) > tolerance_s {
        return false;
    }
    header.split_whitespace().any(|entry| {
        let Some(b64) = entry.strip_prefix("v1,") else {
            return false;
        };
        let Ok(tag) = STANDARD.decode(b64) else {
            return false;
        };
        mac(secret, id, timestamp, body).verify_slice(&tag).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_the_same_secret_id_time_and_body() {
        let secret = secret_from_bytes(&[7u8; SECRET_BYTES]);
        let sig = sign(&secret, "job_1", 1_700_000_000, b"{\"a\":1}");
        assert!(sig.starts_with("v1,"));
        let ok = |s: &str, id: &str, t: u64, b: &[u8], h: &str| {
            verify(s, id, t, b, h, 1_700_000_010, 300)
        };
        assert!(ok(&secret, "job_1", 1_700_000_000, b"{\"a\":1}", &sig));
        assert!(!ok(&secret, "job_1", 1_700_000_000, b"{\"a\":2}", &sig));
        assert!(!ok(&secret, "job_2", 1_700_000_000, b"{\"a\":1}", &sig));
        assert!(!ok(&secret, "job_1", 1_700_000_001, b"{\"a\":1}", &sig));
        let other = secret_from_bytes(&[8u8; SECRET_BYTES]);
        assert!(!ok(&other, "job_1", 1_700_000_000, b"{\"a\":1}", &sig));
        assert!(ok(
            &secret,
            "job_1",
            1_700_000_000,
            b"{\"a\":1}",
            &format!("v1,AAAA {sig}")
        ));
        assert!(!verify(
            &secret,
            "job_1",
            1_700_000_000,
            b"{\"a\":1}",
            &sig,
            1_700_001_000,
            300
        ));
    }

    #[test]
    fn matches_the_standard_webhooks_scheme_as_computed_elsewhere() {
        // Computed with Python's hmac module over "job_1.1700000000.{\"a\":1}".
        let secret = "whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH";
        assert_eq!(key_of(secret), vec![7u8; 24]);
        assert_eq!(
            sign(secret, "job_1", 1_700_000_000, b"{\"a\":1}"),
            "v1,SPFS1NzT/lG4DujKrm3ZzXRmSddHCoHa5j0zPSZyCso="
        );
    }
}
