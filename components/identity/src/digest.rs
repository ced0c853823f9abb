//! Tokens are stored only as HMAC-SHA-256 digests keyed with a server secret: a copy of the
//! database alone does not let anyone present a stored token, nor test guesses offline. A
//! presented token's digest is compared with the stored one in constant time.

use crate::token::Token;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Bytes of a server secret: as many as the digest's.
pub const SECRET_BYTES: usize = 32;

/// The server secret that keys every token digest of an installation.
#[derive(Clone)]
pub struct ServerSecret([u8; SECRET_BYTES]);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(…)")
    }
}

impl ServerSecret {
    /// The secret from its stored hex form.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes = decode_hex(hex)?;
        Some(Self(bytes.try_into().ok()?))
    }

    /// A secret from `random` bytes (a system source).
    pub fn from_bytes(random: [u8; SECRET_BYTES]) -> Self {
        Self(random)
    }

    /// The secret from its stored document (`{"secret": hex}`); none when it is damaged.
    pub fn from_document(data: &str) -> Option<Self> {
        let doc: serde_json::Value = serde_json::from_str(data).ok()?;
        Self::from_hex(doc.get("secret")?.as_str()?)
    }

    /// The document that stores the secret.
    pub fn to_document(&self) -> String {
        serde_json::json!({"secret": self.to_hex()}).to_string()
    }

    /// The stored hex form.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// The digest stored for `token`, as hex.
    pub fn digest(&self, token: &Token) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(token.reveal().as_bytes());
        encode_hex(&mac.finalize().into_bytes())
    }

    /// Whether `token` is the one whose digest is `stored`, compared in constant time.
    pub fn matches(&self, token: &Token, stored: &str) -> bool {
        let computed = self.digest(token);
        computed.len() == stored.len() && bool::from(computed.as_bytes().ct_eq(stored.as_bytes()))
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(seed: u8) -> Token {
        Token::from_random(
            &(0..64u8)
                .map(|i| i.wrapping_mul(31).wrapping_add(seed))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn a_token_matches_its_digest_and_nothing_else() {
        let secret = ServerSecret::from_bytes([7; SECRET_BYTES]);
        let (a, b) = (token(1), token(2));
        let stored = secret.digest(&a);
        assert_eq!(stored.len(), 64);
        assert!(!stored.contains(a.reveal()));
        assert!(secret.matches(&a, &stored));
        assert!(!secret.matches(&b, &stored));
        assert!(!secret.matches(&a, &stored[..63]));
        // Another installation's secret gives another digest.
        let other = ServerSecret::from_bytes([8; SECRET_BYTES]);
        assert!(!other.matches(&a, &stored));
    }

    #[test]
    fn the_secret_round_trips_through_hex_and_never_prints() {
        let secret = ServerSecret::from_bytes([0xab; SECRET_BYTES]);
        let hex = secret.to_hex();
        assert_eq!(ServerSecret::from_hex(&hex).unwrap().to_hex(), hex);
        assert!(ServerSecret::from_hex("abc").is_none());
        assert!(ServerSecret::from_hex(&hex[..62]).is_none());
        assert!(ServerSecret::from_hex(&"zz".repeat(32)).is_none());
        assert_eq!(format!("{secret:?}"), "ServerSecret(…)");
        let doc = secret.to_document();
        assert_eq!(ServerSecret::from_document(&doc).unwrap().to_hex(), hex);
        assert!(ServerSecret::from_document(r#"{"secret": 3}"#).is_none());
        assert!(ServerSecret::from_document("not json").is_none());
    }
}
