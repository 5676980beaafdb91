//! Defaults of the core kinds other than Pod: Service, Namespace, Secret,
//! PersistentVolume(Claim), Endpoints, EndpointSlice and Node.

use serde_json::{Map, Value, json};

use crate::json::{
    at, default_absent, default_zero, for_each_item, is_absent, is_zero, list_of, object_entry,
    str_of,
};

use super::pod::persistent_volume_claim_spec;

/// How long a `ClientIP` session sticks when the user gives no timeout.
const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS: i64 = 10800;

/// Service: `ClusterIP`, no session affinity, TCP ports whose target is
/// the port itself, `Cluster` traffic policies, and the IP family policy
/// the allocator would pick (single-stack; dual-stack required for a
/// headless service without selector).
pub(crate) fn service(object: &mut Value) {
    // A struct Go writes even when empty.
    if let Some(status) = object.get_mut("status").filter(|s| s.is_object()) {
        default_absent(status, "loadBalancer", json!({}));
    }
    let Some(spec) = object_entry(object, "spec") else {
        return;
    };
    session_affinity(spec);
    default_zero(spec, "type", json!("ClusterIP"));
    for_each_item(spec, "ports", |port| {
        default_zero(port, "protocol", json!("TCP"));
        if is_zero(port.get("targetPort"))
            && let Some(number) = port.get("port").cloned()
            && let Some(map) = port.as_object_mut()
        {
            map.insert("targetPort".to_string(), number);
        }
    });
    let service_type = str_of(spec, "type").unwrap_or("").to_string();
    let has_external_ips = !list_of(spec, "externalIPs").is_empty();
    let externally_accessible = service_type == "LoadBalancer"
        || service_type == "NodePort"
        || (service_type == "ClusterIP" && has_external_ips);
    if externally_accessible {
        default_zero(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ["NodePort", "LoadBalancer", "ClusterIP"].contains(&service_type.as_str()) {
        default_absent(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if service_type == "LoadBalancer" {
        default_absent(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if service_type != "ExternalName" {
        let headless = str_of(spec, "clusterIP") == Some("None");
        let selectorless = spec
            .get("selector")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty);
        let policy = if headless && selectorless {
            "RequireDualStack"
        } else {
            "SingleStack"
        };
        default_absent(spec, "ipFamilyPolicy", json!(policy));
    }
    if service_type == "LoadBalancer" {
        load_balancer_ip_modes(object);
    }
}

fn session_affinity(spec: &mut Value) {
    default_zero(spec, "sessionAffinity", json!("None"));
    match str_of(spec, "sessionAffinity") {
        Some("None") => {
            if let Some(map) = spec.as_object_mut() {
                map.remove("sessionAffinityConfig");
            }
        }
        Some("ClientIP") => {
            let timeout = at(
                spec,
                &["sessionAffinityConfig", "clientIP", "timeoutSeconds"],
            );
            if timeout.is_none()
                && let Some(map) = spec.as_object_mut()
            {
                map.insert(
                    "sessionAffinityConfig".to_string(),
                    json!({"clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_TIMEOUT_SECONDS}}),
                );
            }
        }
        _ => {}
    }
}

fn load_balancer_ip_modes(object: &mut Value) {
    let Some(ingress) = object
        .get_mut("status")
        .and_then(|s| s.get_mut("loadBalancer"))
    else {
        return;
    };
    for_each_item(ingress, "ingress", |entry| {
        let has_ip = str_of(entry, "ip").is_some_and(|ip| !ip.is_empty());
        if has_ip {
            default_absent(entry, "ipMode", json!("VIP"));
        }
    });
}

/// Namespace: active, with the `kubernetes` finalizer and the
/// `kubernetes.io/metadata.name` label that always equals its name.
pub(crate) fn namespace(object: &mut Value) {
    let name = at(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !name.is_empty()
        && let Some(labels) =
            object_entry(object, "metadata").and_then(|m| object_entry(m, "labels"))
        && let Some(map) = labels.as_object_mut()
    {
        map.insert("kubernetes.io/metadata.name".to_string(), json!(name));
    }
    if let Some(spec) = object_entry(object, "spec") {
        default_absent(spec, "finalizers", json!(["kubernetes"]));
    }
    if let Some(status) = object_entry(object, "status") {
        default_zero(status, "phase", json!("Active"));
    }
}

/// Secret: type `Opaque`; `stringData` is merged into `data` (base64) and
/// dropped, as upstream does when it reads a Secret.
pub(crate) fn secret(object: &mut Value) {
    default_zero(object, "type", json!("Opaque"));
    let Some(map) = object.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = map.remove("stringData") else {
        return;
    };
    if is_absent(map.get("data")) {
        map.insert("data".to_string(), Value::Object(Map::new()));
    }
    if let Some(data) = map.get_mut("data").and_then(Value::as_object_mut) {
        for (key, value) in string_data {
            if let Some(text) = value.as_str() {
                data.insert(key, json!(base64(text.as_bytes())));
            }
        }
    }
}

/// Standard base64 with padding, as Go encodes `[]byte` in JSON.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// PersistentVolumeClaim: pending, filesystem mode.
pub(crate) fn persistent_volume_claim(object: &mut Value) {
    if let Some(status) = object_entry(object, "status") {
        default_zero(status, "phase", json!("Pending"));
    }
    if let Some(spec) = object_entry(object, "spec") {
        persistent_volume_claim_spec(spec);
    }
}

/// PersistentVolume: pending, retained when released, filesystem mode.
pub(crate) fn persistent_volume(object: &mut Value) {
    if let Some(status) = object_entry(object, "status") {
        default_zero(status, "phase", json!("Pending"));
    }
    if let Some(spec) = object_entry(object, "spec") {
        default_zero(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
        default_absent(spec, "volumeMode", json!("Filesystem"));
    }
}

/// Endpoints: TCP ports.
pub(crate) fn endpoints(object: &mut Value) {
    for_each_item(object, "subsets", |subset| {
        for_each_item(subset, "ports", |port| {
            default_zero(port, "protocol", json!("TCP"));
        });
    });
}

/// EndpointSlice: TCP ports with an empty name.
pub(crate) fn endpoint_slice(object: &mut Value) {
    for_each_item(object, "ports", |port| {
        default_absent(port, "name", json!(""));
        default_absent(port, "protocol", json!("TCP"));
    });
}

/// Node: allocatable defaults to capacity.
pub(crate) fn node(object: &mut Value) {
    let Some(status) = object.get_mut("status").filter(|s| s.is_object()) else {
        return;
    };
    if let Some(capacity) = status.get("capacity").filter(|c| c.is_object()).cloned() {
        default_absent(status, "allocatable", capacity);
    }
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads_like_go() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("hello world", "aGVsbG8gd29ybGQ="),
        ];
        for (input, want) in cases {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }
}
