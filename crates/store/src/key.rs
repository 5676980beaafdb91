//! Checks on keys, prefixes and values shared by every backend, so that bad
//! input fails the same way everywhere and before any I/O.

use crate::StoreError;

/// The largest value the store accepts: 1.5 MiB, the object limit Kubernetes
/// inherits from etcd's default request size.
pub const MAX_VALUE_BYTES: usize = 1536 * 1024;

/// The longest key the store accepts.
pub const MAX_KEY_BYTES: usize = 2048;

/// Checks that `key` is a usable key: non-empty, starting with '/', free of
/// NUL bytes (the embedded backend uses NUL as a separator), not too long.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    let reason = if key.is_empty() {
        "key must not be empty"
    } else if !key.starts_with('/') {
        "key must start with '/'"
    } else if key.contains('\0') {
        "key must not contain NUL bytes"
    } else if key.len() > MAX_KEY_BYTES {
        "key is longer than 2048 bytes"
    } else if key.ends_with('/') {
        "key must not end with '/'"
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidKey {
        key: key.to_string(),
        reason: reason.to_string(),
    })
}

/// Checks a prefix for range and watch: like a key, but may end with '/'.
pub fn validate_prefix(prefix: &str) -> Result<(), StoreError> {
    match validate_key(prefix) {
        Err(StoreError::InvalidKey { .. }) if prefix.len() > 1 && prefix.ends_with('/') => {
            validate_key(prefix.trim_end_matches('/'))
        }
        Err(_) if prefix == "/" => Ok(()),
        other => other,
    }
}

/// Checks a value's size.
pub fn validate_value(key: &str, value: &[u8]) -> Result<(), StoreError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StoreError::ValueTooLarge {
            key: key.to_string(),
            size: value.len(),
            limit: MAX_VALUE_BYTES,
        });
    }
    Ok(())
}

/// The smallest key greater than every key starting with `prefix` (etcd's
/// range end for a prefix). Keys are UTF-8 without NUL, so bumping the last
/// byte is enough when it is below 0xff.
pub fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Every byte was 0xff: no upper bound ("\0" means "to the end" in etcd).
    vec![0]
}

#[cfg(test)]
mod tests {
    use super::*;

    // The etcd that the tests and benchmarks start must take the largest
    // object: its request limit leaves room for a key, a value and framing.
    const _: () = assert!(
        MAX_KEY_BYTES + MAX_VALUE_BYTES + 64 * 1024 <= keelson_harness::etcd::MAX_REQUEST_BYTES
    );

    #[test]
    fn keys_are_checked() {
        assert!(validate_key("/registry/core/pods/ns/a").is_ok());
        for bad in ["", "registry/a", "/a\0b", "/a/"] {
            assert!(
                matches!(validate_key(bad), Err(StoreError::InvalidKey { .. })),
                "{bad:?} should be refused"
            );
        }
        assert!(validate_key(&format!("/{}", "a".repeat(MAX_KEY_BYTES))).is_err());
    }

    #[test]
    fn prefixes_may_end_with_a_slash() {
        assert!(validate_prefix("/registry/core/pods/").is_ok());
        assert!(validate_prefix("/").is_ok());
        assert!(validate_prefix("").is_err());
        assert!(validate_prefix("pods/").is_err());
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end("/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end("/registry/pods"), b"/registry/podt".to_vec());
    }

    #[test]
    fn values_over_the_limit_are_refused() {
        assert!(validate_value("/k", &vec![0; MAX_VALUE_BYTES]).is_ok());
        let err = validate_value("/k", &vec![0; MAX_VALUE_BYTES + 1]).unwrap_err();
        assert!(err.to_string().contains("over the limit"), "{err}");
    }
}
