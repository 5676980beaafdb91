//! The encryption configuration `keelson up` runs with: the file
//! `--encryption-provider-config` names, else `DATA_DIR/encryption-config.yaml`,
//! written on first start with a new random key (mode 0600: it holds the
//! key to every Secret).

use std::path::{Path, PathBuf};

use keelson_apiserver::encryption::{self, EncryptionConfig};

/// The name of the default configuration in the data dir.
pub const DEFAULT_FILE: &str = "encryption-config.yaml";

/// The configuration to run with, and the file it came from.
pub fn config(
    given: Option<&Path>,
    data_dir: &Path,
) -> anyhow::Result<(EncryptionConfig, PathBuf)> {
    let path = match given {
        Some(path) => path.to_path_buf(),
        None => ensure_default(data_dir)?,
    };
    let config = EncryptionConfig::load(&path)?;
    Ok((config, path))
}

/// `DATA_DIR/encryption-config.yaml`, made with a new key if missing.
fn ensure_default(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = data_dir.join(DEFAULT_FILE);
    if path.exists() {
        // Kept as its owner made it, but never readable by others.
        crate::up::set_mode(&path, 0o600)?;
        return Ok(path);
    }
    let text = encryption::default_config()?;
    // Created with its mode, so that the key is never readable by others,
    // not even for a moment, and never over an existing key.
    crate::up::create_private(&path, text.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_default_is_made_once_for_its_owner_only() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let (_, path) = config(None, dir.path()).expect("made");
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let first = std::fs::read_to_string(&path).expect("readable");
        config(None, dir.path()).expect("read again");
        assert_eq!(std::fs::read_to_string(&path).expect("readable"), first);
    }
}
