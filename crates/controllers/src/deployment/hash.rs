//! The `pod-template-hash` of a Deployment's template: the suffix of its
//! ReplicaSets' names and the label that keeps their pods apart.
//!
//! Upstream (`controller.ComputeHash`) feeds FNV-1a 32-bit with Go's `%#v`
//! printing (through spew) of its internal Go struct, then the collision
//! count, and renders the number with `rand.SafeEncodeString`. That
//! printing cannot be reproduced outside Go, so keelson hashes a canonical
//! JSON encoding of the template instead (object keys sorted, no
//! whitespace). **The hash therefore differs from upstream's for the same
//! template.** That is harmless: no client computes it, a ReplicaSet is
//! found by comparing templates, not hashes; what matters is that the hash
//! is stable for one template and differs between templates and between
//! collision counts, which this keeps. The rest is as upstream: the
//! collision count appended as 8 bytes (its `u32` little-endian, then
//! zeroes), the decimal digits of the 32-bit sum mapped onto the alphabet
//! without vowels.

use keelson_api::k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

/// The alphabet upstream's `SafeEncodeString` maps bytes onto (no vowels,
/// no look-alike digits, so a hash never spells a word).
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

const FNV32_OFFSET: u32 = 0x811c_9dc5;
const FNV32_PRIME: u32 = 0x0100_0193;

/// The hash of `template` with `collision_count` (the Deployment's
/// `status.collisionCount`), as its ReplicaSets' names end and its pods
/// are labelled. Deterministic: the same template and count give the same
/// hash in every process and release (see the module doc for how it
/// differs from upstream's).
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut bytes = Vec::new();
    match serde_json::to_value(template) {
        Ok(value) => write_canonical(&value, &mut bytes),
        // A k8s-openapi type always serializes; keep the function total.
        Err(_) => bytes.extend_from_slice(b"null"),
    }
    if let Some(count) = collision_count {
        // `as u32` is upstream's uint32 conversion of the int32.
        bytes.extend_from_slice(&(count as u32).to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
    }
    safe_encode(&fnv1a32(&bytes).to_string())
}

fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(FNV32_OFFSET, |hash, b| {
        (hash ^ u32::from(*b)).wrapping_mul(FNV32_PRIME)
    })
}

/// Each byte of `s` replaced by the alphabet's letter at byte mod 27.
fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| char::from(SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()]))
        .collect()
}

/// JSON with object keys in byte order, whatever order the map keeps.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(&Value::String(key.clone()), out);
                out.push(b':');
                write_canonical(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keelson_api::k8s_openapi::api::core::v1::{Container, PodSpec};

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(serde_json::json!({
            "metadata": {"labels": {"app": "web", "tier": "front"}},
            "spec": {"containers": [{"name": "web", "image": image}]},
        }))
        .expect("a valid template")
    }

    #[test]
    fn fnv_and_alphabet_are_upstreams() {
        // FNV-1a 32-bit reference values.
        assert_eq!(fnv1a32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9c_f968);
        // '0'..'9' land on these letters, as in upstream's hashes.
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
    }

    #[test]
    fn hash_is_stable_and_tells_templates_and_collisions_apart() {
        let a = pod_template_hash(&template("nginx:1.27"), None);
        assert_eq!(a, pod_template_hash(&template("nginx:1.27"), None));
        assert!(!a.is_empty() && a.len() <= 10);
        assert!(a.bytes().all(|b| SAFE_ALPHABET.contains(&b)), "{a}");
        let hashes = [
            a.clone(),
            pod_template_hash(&template("nginx:1.28"), None),
            pod_template_hash(&template("nginx:1.27"), Some(0)),
            pod_template_hash(&template("nginx:1.27"), Some(1)),
        ];
        for (i, x) in hashes.iter().enumerate() {
            for y in &hashes[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }

    #[test]
    fn hash_does_not_depend_on_how_the_template_was_built() {
        let mut built = PodTemplateSpec {
            metadata: Some(Default::default()),
            ..Default::default()
        };
        let labels = built
            .metadata
            .as_mut()
            .expect("set above")
            .labels
            .get_or_insert_default();
        labels.insert("tier".into(), "front".into());
        labels.insert("app".into(), "web".into());
        built.spec = Some(PodSpec {
            containers: vec![Container {
                name: "web".into(),
                image: Some("nginx:1.27".into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert_eq!(
            pod_template_hash(&built, Some(2)),
            pod_template_hash(&template("nginx:1.27"), Some(2))
        );
    }

    #[test]
    fn hash_of_a_known_template_never_changes() {
        // A changed value would roll every Deployment on upgrade: the
        // encoding is part of keelson's compatibility with itself.
        let hashes = [
            pod_template_hash(&template("nginx:1.27"), None),
            pod_template_hash(&template("nginx:1.27"), Some(1)),
        ];
        assert_eq!(hashes, ["7764c78798", "757c8dc78c"]);
    }
}
