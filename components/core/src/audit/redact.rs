//! Secrets never enter a record as they are: a detail whose name says it holds a secret is
//! replaced by its HMAC under the server's audit key (as Vault's audit devices do), so the
//! same secret is recognisable across records and an operator holding a candidate can check
//! it, but nobody reads one from the log.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The prefix of a replaced secret.
pub const PREFIX: &str = "hmac-sha256:";

/// Whether a detail named `name` holds a secret.
pub fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if n.ends_with("_id") || n.ends_with("_hint") {
        return false;
    }
    [
        "secret",
        "password",
        "token",
        "authorization",
        "cookie",
        "private_key",
        "credential",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// The details key of a server whose checkpoint signing key's seed is `seed`: one secret to
/// keep, and the two keys stay distinct.
pub fn details_key(seed: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(seed).expect("HMAC takes any key");
    mac.update(b"marcus audit details");
    mac.finalize().into_bytes().into()
}

/// The HMAC-SHA256 of `value` under `key`, as it replaces a secret.
pub fn hmac_of(key: &[u8], value: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(value.as_bytes());
    format!(
        "{PREFIX}{}",
        super::chain::hex(&mac.finalize().into_bytes())
    )
}

/// `details` with every secret-named field's value (at any depth) replaced by its HMAC.
pub fn redact(details: Value, key: &[u8]) -> Value {
    match details {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if is_secret(&k) && !v.is_null() {
                        let text = match &v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        Value::String(hmac_of(key, &text))
                    } else {
                        redact(v, key)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| redact(v, key)).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_replaced_by_their_hmac_and_the_rest_kept() {
        let out = redact(
            json!({"client_secret": "s3cret", "token_id": "t1", "nested": [{"password": "pw"}], "name": "x"}),
            b"k",
        );
        let s = out["client_secret"].as_str().unwrap();
        assert!(s.starts_with(PREFIX) && !s.contains("s3cret"));
        assert_eq!(s, hmac_of(b"k", "s3cret"));
        assert_ne!(s, hmac_of(b"other", "s3cret"));
        assert_eq!(out["token_id"], "t1");
        assert_eq!(out["name"], "x");
        assert!(
            out["nested"][0]["password"]
                .as_str()
                .unwrap()
                .starts_with(PREFIX)
        );
    }
}
