//! The server's audit keys: the Ed25519 key that signs checkpoints and, derived from it, the
//! HMAC key that replaces secrets in details. Kept outside the database on purpose (a
//! database owner who could read the key could re-sign a rewritten chain): from
//! `MARCUS_AUDIT_SIGNING_KEY` (every host of a team sets the same), else from
//! `audit-signing.key` in the data directory, made on first start with mode 0600.

use marcus_core::audit::chain::hex;
use marcus_core::audit::checkpoint::{SigningKey, signing_key};

use rand::RngCore;
use std::path::{Path, PathBuf};

/// The environment variable holding the signing key's 32-byte seed in hex.
pub const KEY_ENV: &str = "MARCUS_AUDIT_SIGNING_KEY";

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "audit-signing.key";

/// The keys, loaded once per process.
pub struct AuditKeys {
    /// Signs checkpoints.
    pub signing: SigningKey,
    /// Keys the HMAC that replaces secrets in details.
    pub details: [u8; 32],
}

impl AuditKeys {
    /// Keys from a signing key's seed.
    pub fn from_signing(signing: SigningKey) -> Self {
        Self {
            details: marcus_core::audit::redact::details_key(signing.as_bytes()),
            signing,
        }
    }

    /// The public key in hex, as checkpoints name it and `marcus audit verify` trusts it.
    pub fn public_key(&self) -> String {
        hex(self.signing.verifying_key().as_bytes())
    }

    /// The keys from the environment, else from the data directory's file; `create` makes
    /// the file when it is missing (a server starting), otherwise its absence is the error
    /// (a command reading a log should not invent a key).
    pub fn load(data_dir: &Path, create: bool) -> anyhow::Result<Self> {
        if let Ok(text) = std::env::var(KEY_ENV)
            && !text.trim().is_empty()
        {
            let key = signing_key(&text).map_err(|e| anyhow::anyhow!("{KEY_ENV}: {e}"))?;
            return Ok(Self::from_signing(key));
        }
        let path = key_path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key =
                    signing_key(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                Ok(Self::from_signing(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let mut seed = [0u8; 32];
                rand::rng().fill_bytes(&mut seed);
                write_private(&path, &hex(&seed))?;
                // Read back: another process may have made the file first, and then its key
                // is the one.
                let text = std::fs::read_to_string(&path)?;
                let key =
                    signing_key(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                Ok(Self::from_signing(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
                "no audit signing key: {} does not exist and {KEY_ENV} is not set",
                path.display()
            ),
            Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        }
    }
}

/// Where the data directory keeps the key.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// Writes `text` to a new file only its owner may read; an existing file is kept (another
/// process made it first) and is then the key.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!("writing {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let made = AuditKeys::load(dir.path(), true).unwrap();
        let again = AuditKeys::load(dir.path(), false).unwrap();
        assert_eq!(made.public_key(), again.public_key());
        assert_eq!(made.details, again.details);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let empty = tempfile::tempdir().unwrap();
        assert!(AuditKeys::load(empty.path(), false).is_err());
    }
}
