//! Signed checkpoints: every so often the head of a tenant's chain (its sequence number and
//! hash) is signed with the server's Ed25519 key, together with the previous checkpoint's
//! signature. Rewriting the chain then needs the key, and removing records a checkpoint
//! covers (a truncated tail) leaves a signature pointing past the end.

use super::chain::{hex, unhex};
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};

/// The server's checkpoint signing key (Ed25519), for hosts that sign.
pub use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

/// What a checkpoint vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The tenant whose chain it covers.
    pub tenant: String,
    /// The sequence number of the record it vouches for (and so every one before it).
    pub seq: u64,
    /// That record's hash.
    pub hash: String,
    /// When it was made, in milliseconds since the Unix epoch.
    pub at: u64,
    /// The tenant's previous checkpoint's signature (empty for the first).
    pub prev_signature: String,
}

impl Checkpoint {
    /// The bytes signed: the checkpoint's canonical JSON.
    pub fn message(&self) -> Vec<u8> {
        let text = serde_json::to_string(self).unwrap_or_default();
        crate::store::canonical::canonical_json(&text).into_bytes()
    }

    /// Signs it with `key`.
    pub fn sign(self, key: &SigningKey) -> SignedCheckpoint {
        let signature = hex(&key.sign(&self.message()).to_bytes());
        SignedCheckpoint {
            public_key: hex(key.verifying_key().as_bytes()),
            signature,
            checkpoint: self,
        }
    }
}

/// A checkpoint with its signature and the public key that made it, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    /// What is vouched for.
    #[serde(flatten)]
    pub checkpoint: Checkpoint,
    /// Hex of the Ed25519 public key that signed it.
    pub public_key: String,
    /// Hex of the signature.
    pub signature: String,
}

impl SignedCheckpoint {
    /// Whether the signature is the named key's over the checkpoint.
    pub fn check_signature(&self) -> Result<(), String> {
        let key = public_key(&self.public_key)?;
        let bytes: [u8; 64] = unhex(&self.signature)
            .and_then(|b| b.try_into().ok())
            .ok_or("the signature is not 64 bytes of hex")?;
        key.verify(&self.checkpoint.message(), &Signature::from_bytes(&bytes))
            .map_err(|_| "the signature does not match the checkpoint".to_string())
    }
}

/// The Ed25519 public key in hex `text`.
pub fn public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = unhex(text.trim())
        .and_then(|b| b.try_into().ok())
        .ok_or("a public key is 32 bytes of hex")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not an Ed25519 public key".to_string())
}

/// The signing key whose 32-byte seed is hex `text`.
pub fn signing_key(text: &str) -> Result<SigningKey, String> {
    let bytes: [u8; 32] = unhex(text.trim())
        .and_then(|b| b.try_into().ok())
        .ok_or("an audit signing key is 32 bytes of hex (64 hex digits)")?;
    Ok(SigningKey::from_bytes(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_only_as_signed() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let signed = Checkpoint {
            tenant: "acme".into(),
            seq: 10,
            hash: "ab".repeat(32),
            at: 1,
            prev_signature: String::new(),
        }
        .sign(&key);
        signed.check_signature().unwrap();
        let mut moved = signed.clone();
        moved.checkpoint.seq = 9;
        assert!(moved.check_signature().is_err());
        let other = Checkpoint {
            tenant: "acme".into(),
            seq: 10,
            hash: "ab".repeat(32),
            at: 1,
            prev_signature: String::new(),
        }
        .sign(&SigningKey::from_bytes(&[8u8; 32]));
        let mut foreign = signed.clone();
        foreign.public_key = other.public_key;
        assert!(foreign.check_signature().is_err());
        assert!(signing_key("zz").is_err());
        assert_eq!(
            hex(signing_key(&"07".repeat(32))
                .unwrap()
                .verifying_key()
                .as_bytes()),
            signed.public_key
        );
    }
}
