//! Encryption at rest, as upstream's `--encryption-provider-config`: an
//! `EncryptionConfiguration` (apiserver.config.k8s.io/v1) lists resources
//! and, for each, providers in order (`aesgcm`, `aescbc`, `secretbox`,
//! `identity`). The first provider's first key encrypts every write; all
//! of them are tried to read, so that keys can be rotated: put the new key
//! first, restart, rewrite every object (a PUT of the object unchanged
//! stores it anew when an older key wrote it), then drop the old key.
//!
//! It sits at the store boundary, in one place: [`EncryptedStore`] wraps
//! the server's store, so the object layer, lists, the watch cache and
//! everything reading the store see plain values, and only the store
//! itself (redb's file, etcd) holds ciphertext. A value no provider can
//! read is an internal error naming its key ("failed to decrypt ..."),
//! which fails the read or list it is part of, as upstream.

mod config;
mod provider;
mod store;

use std::path::Path;
use std::sync::Arc;

pub use store::EncryptedStore;

/// Why an encryption configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    /// The file cannot be read.
    #[error("failed to read the encryption configuration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// A field is wrong; secrets are never quoted.
    #[error("invalid encryption configuration: {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// No key could be made.
    #[error("failed to make an encryption key: {0}")]
    Key(String),
}

/// A checked encryption configuration, cheap to clone. Its `Debug` names
/// the providers and keys, never the keys' bytes.
#[derive(Clone, Debug)]
pub struct EncryptionConfig {
    rules: Arc<config::Rules>,
}

impl EncryptionConfig {
    /// Parses the text of an EncryptionConfiguration (YAML or JSON).
    pub fn parse(text: &str) -> Result<Self, EncryptionError> {
        Ok(EncryptionConfig {
            rules: Arc::new(config::parse(text)?),
        })
    }

    /// Reads and parses the file `--encryption-provider-config` names.
    pub fn load(path: &Path) -> Result<Self, EncryptionError> {
        let text = std::fs::read_to_string(path).map_err(|source| EncryptionError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }
}

/// The text of the configuration `keelson up` writes on first start: Secrets
/// encrypted with `secretbox` under a new random key named `key1`, and
/// `identity` after it so that Secrets stored before encryption was on
/// still read (a later rewrite encrypts them).
///
/// secretbox rather than aescbc or aesgcm: of upstream's local-key
/// providers it is the one that is both authenticated (aescbc is not, and
/// upstream's docs rank it weak for its padding-oracle exposure) and safe
/// with random nonces for any number of writes (aesgcm's 12-byte random
/// nonces call for rotating the key every 200,000 writes; secretbox's are
/// 24 bytes).
pub fn default_config() -> Result<String, EncryptionError> {
    let key = provider::new_key().map_err(EncryptionError::Key)?;
    Ok(format!(
        "apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources:
  - secrets
  providers:
  - secretbox:
      keys:
      - name: key1
        secret: {key}
  - identity: {{}}
"
    ))
}

/// `store` as the server uses it: with encryption at rest when `config`
/// asks for it (and the handle that tells stale values), else as it is.
pub fn wrap(
    store: Arc<dyn keelson_store::Store>,
    config: Option<&EncryptionConfig>,
) -> (Arc<dyn keelson_store::Store>, Option<Arc<EncryptedStore>>) {
    match config {
        Some(config) => {
            let encrypted = Arc::new(EncryptedStore::new(store, config.clone()));
            (encrypted.clone(), Some(encrypted))
        }
        None => (store, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_configuration_parses_and_debug_hides_the_key() {
        let text = default_config().expect("a key");
        let config = EncryptionConfig::parse(&text).expect("valid");
        let shown = format!("{config:?}");
        assert!(shown.contains("k8s:enc:secretbox:v1:key1:"), "{shown}");
        let key = text
            .lines()
            .find_map(|line| line.trim().strip_prefix("secret: "))
            .expect("a secret line");
        assert!(!shown.contains(key));
        assert_ne!(
            default_config().expect("a key"),
            text,
            "a new key each time"
        );
    }
}
