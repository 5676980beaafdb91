//! The audit log `keelson up` writes: `--audit-log-path` (`-` for standard
//! output) with the policy `--audit-policy-file` names, else
//! `DATA_DIR/audit-policy.yaml`, written with keelson's default policy
//! (every request at Metadata, never a body) on first use.

use std::path::{Path, PathBuf};

use keelson_apiserver::audit::{AuditConfig, DEFAULT_POLICY};

/// The name of the default policy in the data dir.
pub const DEFAULT_FILE: &str = "audit-policy.yaml";

/// The audit configuration the flags ask for; `None` without a log, as
/// upstream (a policy alone logs nothing).
pub fn config(
    policy: Option<&Path>,
    log: Option<&Path>,
    data_dir: &Path,
) -> anyhow::Result<Option<(AuditConfig, PathBuf)>> {
    let Some(log) = log else {
        if let Some(policy) = policy {
            eprintln!(
                "warning: --audit-policy-file {} without --audit-log-path: nothing is logged",
                policy.display()
            );
        }
        return Ok(None);
    };
    let policy = match policy {
        Some(policy) => policy.to_path_buf(),
        None => ensure_default(data_dir)?,
    };
    let config = AuditConfig::open(&policy, log)?;
    Ok(Some((config, policy)))
}

fn ensure_default(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = data_dir.join(DEFAULT_FILE);
    if path.exists() {
        return Ok(path);
    }
    crate::up::create_private(&path, DEFAULT_POLICY.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_without_a_policy_gets_the_default_one() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let log = dir.path().join("audit.log");
        let (_, policy) = config(None, Some(&log), dir.path())
            .expect("configured")
            .expect("a log");
        assert_eq!(policy, dir.path().join(DEFAULT_FILE));
        assert_eq!(
            std::fs::read_to_string(&policy).expect("written"),
            DEFAULT_POLICY
        );
        assert!(
            config(Some(&policy), None, dir.path())
                .expect("fine")
                .is_none()
        );
    }
}
