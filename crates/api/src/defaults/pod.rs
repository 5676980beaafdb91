//! Defaults of a pod spec wherever one appears (a Pod, or the template of a
//! workload), of its containers, probes and volumes, and the pull policy
//! an image implies.

use serde_json::{Value, json};

use crate::json::{
    at_mut, bool_of, default_absent, default_zero, for_each_item, is_absent, is_zero, object_entry,
};

/// The keys of a volume that name its source; a volume with none of them
/// becomes an `emptyDir`.
pub(crate) const VOLUME_SOURCES: &[&str] = &[
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
];

/// Where a pod spec sits, which decides a few defaults.
#[derive(Clone, Copy)]
pub(crate) struct SpecPlace {
    /// In a Pod itself (not a template): pod-only defaults apply.
    pub(crate) pod: bool,
    /// Whether `restartPolicy` defaults to `Always` (not in Job templates,
    /// where the user must choose `OnFailure` or `Never`).
    pub(crate) restart_policy: bool,
}

/// The template of a long-running workload.
pub(crate) const TEMPLATE: SpecPlace = SpecPlace {
    pod: false,
    restart_policy: true,
};

/// The template of a Job (or a CronJob's job template).
pub(crate) const JOB_TEMPLATE: SpecPlace = SpecPlace {
    pod: false,
    restart_policy: false,
};

/// Defaults of a Pod object.
pub(crate) fn pod(object: &mut Value) {
    if let Some(spec) = object_entry(object, "spec") {
        pod_spec(
            spec,
            SpecPlace {
                pod: true,
                restart_policy: true,
            },
        );
    }
}

/// Defaults of the pod spec at `object.spec.template.spec` (or the longer
/// `path`), when there is one.
pub(crate) fn template_spec(object: &mut Value, path: &[&str], place: SpecPlace) {
    if let Some(spec) = at_mut(object, path).filter(|v| v.is_object()) {
        pod_spec(spec, place);
    }
}

/// Defaults of one pod spec.
pub(crate) fn pod_spec(spec: &mut Value, place: SpecPlace) {
    default_zero(spec, "dnsPolicy", json!("ClusterFirst"));
    if place.restart_policy {
        default_zero(spec, "restartPolicy", json!("Always"));
    }
    default_absent(spec, "securityContext", json!({}));
    default_absent(spec, "terminationGracePeriodSeconds", json!(30));
    default_zero(spec, "schedulerName", json!("default-scheduler"));
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        for_each_item(spec, key, container);
    }
    for_each_item(spec, "volumes", volume);
    if place.pod {
        pod_only(spec);
    }
}

/// Defaults upstream applies to Pods but not to pod templates.
fn pod_only(spec: &mut Value) {
    default_absent(spec, "enableServiceLinks", json!(true));
    let host_network = bool_of(spec, "hostNetwork") == Some(true);
    for key in ["containers", "initContainers"] {
        for_each_item(spec, key, |container| {
            requests_from_limits(container);
            if host_network {
                for_each_item(container, "ports", |port| {
                    if is_zero(port.get("hostPort")) {
                        let container_port = port.get("containerPort").cloned();
                        if let (Some(map), Some(cp)) = (port.as_object_mut(), container_port) {
                            map.insert("hostPort".to_string(), cp);
                        }
                    }
                });
            }
        });
    }
}

/// A container's requests default to its limits, resource by resource.
fn requests_from_limits(container: &mut Value) {
    let Some(resources) = container.get_mut("resources") else {
        return;
    };
    let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    if let Some(requests) = object_entry(resources, "requests").and_then(Value::as_object_mut) {
        for (name, quantity) in limits {
            requests.entry(name).or_insert(quantity);
        }
    }
}

/// Defaults of a container (regular, init or ephemeral).
fn container(container: &mut Value) {
    let image = container.get("image").and_then(Value::as_str).unwrap_or("");
    let policy = default_pull_policy(image);
    default_zero(container, "imagePullPolicy", json!(policy));
    default_zero(
        container,
        "terminationMessagePath",
        json!("/dev/termination-log"),
    );
    default_zero(container, "terminationMessagePolicy", json!("File"));
    default_absent(container, "resources", json!({}));
    for_each_item(container, "ports", |port| {
        default_zero(port, "protocol", json!("TCP"));
    });
    for_each_item(container, "env", |env| {
        if let Some(field_ref) = at_mut(env, &["valueFrom", "fieldRef"]) {
            default_zero(field_ref, "apiVersion", json!("v1"));
        }
    });
    for key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = container.get_mut(key).filter(|p| p.is_object()) {
            probe_defaults(probe);
        }
    }
    for key in ["postStart", "preStop"] {
        if let Some(handler) = at_mut(container, &["lifecycle", key]) {
            handler_defaults(handler);
        }
    }
}

fn probe_defaults(probe: &mut Value) {
    default_zero(probe, "timeoutSeconds", json!(1));
    default_zero(probe, "periodSeconds", json!(10));
    default_zero(probe, "successThreshold", json!(1));
    default_zero(probe, "failureThreshold", json!(3));
    handler_defaults(probe);
}

fn handler_defaults(handler: &mut Value) {
    if let Some(http_get) = handler.get_mut("httpGet").filter(|h| h.is_object()) {
        default_zero(http_get, "path", json!("/"));
        default_zero(http_get, "scheme", json!("HTTP"));
    }
}

/// Defaults of one volume of a pod spec.
fn volume(volume: &mut Value) {
    let has_source = VOLUME_SOURCES
        .iter()
        .any(|key| !is_absent(volume.get(*key)));
    if !has_source {
        default_absent(volume, "emptyDir", json!({}));
    }
    for key in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(source) = volume.get_mut(key).filter(|s| s.is_object()) {
            default_absent(source, "defaultMode", json!(420));
        }
    }
    if let Some(host_path) = volume.get_mut("hostPath").filter(|h| h.is_object()) {
        default_absent(host_path, "type", json!(""));
    }
    if let Some(downward) = volume.get_mut("downwardAPI") {
        downward_api_items(downward);
    }
    if let Some(projected) = volume.get_mut("projected") {
        for_each_item(projected, "sources", |source| {
            if let Some(downward) = source.get_mut("downwardAPI") {
                downward_api_items(downward);
            }
            if let Some(token) = source
                .get_mut("serviceAccountToken")
                .filter(|t| t.is_object())
            {
                default_absent(token, "expirationSeconds", json!(3600));
            }
        });
    }
    if let Some(claim_spec) = at_mut(volume, &["ephemeral", "volumeClaimTemplate", "spec"]) {
        persistent_volume_claim_spec(claim_spec);
    }
}

fn downward_api_items(downward: &mut Value) {
    for_each_item(downward, "items", |item| {
        if let Some(field_ref) = item.get_mut("fieldRef").filter(|f| f.is_object()) {
            default_zero(field_ref, "apiVersion", json!("v1"));
        }
    });
}

/// Defaults of a PersistentVolumeClaim spec (also in StatefulSet claim
/// templates and ephemeral volumes).
pub(crate) fn persistent_volume_claim_spec(spec: &mut Value) {
    default_absent(spec, "volumeMode", json!("Filesystem"));
}

/// The pull policy upstream gives a container that sets none: `Always` for
/// the `latest` tag (explicit, or implied by an image with neither tag nor
/// digest), `IfNotPresent` otherwise, including for references that do not
/// parse.
pub fn default_pull_policy(image: &str) -> &'static str {
    if image_tag(image).as_deref() == Some("latest") {
        "Always"
    } else {
        "IfNotPresent"
    }
}

/// The tag of an image reference: the explicit one, `latest` when there is
/// neither tag nor digest, empty with a digest and no tag, `None` when the
/// reference is malformed.
fn image_tag(image: &str) -> Option<String> {
    let (name_and_tag, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    if digest.is_some_and(|d| !is_digest(d)) {
        return None;
    }
    let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_and_tag[..last_slash + i],
            Some(&name_and_tag[last_slash + i + 1..]),
        ),
        None => (name_and_tag, None),
    };
    if !is_repository(name) || tag.is_some_and(|t| !is_tag(t)) {
        return None;
    }
    Some(match (tag, digest) {
        (Some(tag), _) => tag.to_string(),
        (None, Some(_)) => String::new(),
        (None, None) => "latest".to_string(),
    })
}

/// `algorithm:hex` with at least 32 hex digits.
fn is_digest(digest: &str) -> bool {
    match digest.split_once(':') {
        Some((algorithm, hex)) => {
            algorithm.starts_with(|c: char| c.is_ascii_alphabetic())
                && algorithm
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_+.".contains(c))
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// `[\w][\w.-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    tag.len() <= 128
        && tag.starts_with(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-')
}

/// A repository name: an optional registry host, then lower-case path
/// components joined by `/`.
fn is_repository(name: &str) -> bool {
    let mut components: Vec<&str> = name.split('/').collect();
    if components.len() > 1 {
        let first = components[0];
        let is_domain = first.contains(['.', ':'])
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase());
        if is_domain {
            if !first
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            {
                return false;
            }
            components.remove(0);
        }
    }
    !components.is_empty() && components.iter().all(|c| is_path_component(c))
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
fn is_path_component(component: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !component.starts_with(alnum) || !component.ends_with(alnum) {
        return false;
    }
    let mut separator = String::new();
    for c in component.chars() {
        if alnum(c) {
            let ok = separator.is_empty()
                || separator == "."
                || separator == "_"
                || separator == "__"
                || separator.chars().all(|s| s == '-');
            if !ok {
                return false;
            }
            separator.clear();
        } else if ".-_".contains(c) {
            separator.push(c);
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::default_pull_policy;

    #[test]
    fn pull_policy_follows_the_tag() {
        let cases = [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.25", "IfNotPresent"),
            ("registry.local:5000/team/app", "Always"),
            ("registry.local:5000/team/app:v2", "IfNotPresent"),
            (
                "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "IfNotPresent",
            ),
            (
                "nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "Always",
            ),
            ("NGINX", "IfNotPresent"),
            ("", "IfNotPresent"),
        ];
        for (image, want) in cases {
            assert_eq!(default_pull_policy(image), want, "image {image:?}");
        }
    }
}
