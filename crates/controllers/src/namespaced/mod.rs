//! What every namespace holds, as upstream's ServiceAccount controller and
//! root CA publisher keep it: a `default` ServiceAccount, and the
//! `kube-root-ca.crt` ConfigMap with the cluster's CA bundle (which the
//! projected `kube-api-access-*` volume of every pod reads). Neither is
//! made in a namespace that is being deleted.

pub mod run;

use keelson_api::k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use serde_json::json;

/// The ServiceAccount every namespace has.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// The ConfigMap of the CA bundle.
pub const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";
/// Its key.
pub const ROOT_CA_KEY: &str = "ca.crt";
/// Upstream's description of it.
pub const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";

/// Whether a namespace takes new content: it exists and is not
/// terminating.
pub fn is_active(namespace: &Namespace) -> bool {
    let phase = namespace.status.as_ref().and_then(|s| s.phase.as_deref());
    namespace.metadata.deletion_timestamp.is_none() && phase != Some("Terminating")
}

/// The `default` ServiceAccount to create in `namespace`, if it has none.
pub fn service_account(
    namespace: &Namespace,
    existing: Option<&ServiceAccount>,
) -> Option<ServiceAccount> {
    if existing.is_some() || !is_active(namespace) {
        return None;
    }
    let name = namespace.metadata.name.clone().unwrap_or_default();
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": DEFAULT_SERVICE_ACCOUNT, "namespace": name}
    }))
    .ok()
}

/// The `kube-root-ca.crt` ConfigMap `namespace` should have, when it has
/// none or one that differs (another bundle, or without the
/// description); `None` when it is as it should be.
pub fn root_ca(
    namespace: &Namespace,
    existing: Option<&ConfigMap>,
    ca_bundle: &str,
) -> Option<ConfigMap> {
    if !is_active(namespace) {
        return None;
    }
    let current = existing.map(|config_map| {
        let data = config_map
            .data
            .as_ref()
            .and_then(|d| d.get(ROOT_CA_KEY))
            .map(String::as_str);
        let annotations = config_map.metadata.annotations.as_ref();
        let described = annotations
            .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
            .map(String::as_str);
        (data, described)
    });
    if current == Some((Some(ca_bundle), Some(ROOT_CA_DESCRIPTION))) {
        return None;
    }
    let mut wanted = existing.cloned().unwrap_or_default();
    wanted.metadata.name = Some(ROOT_CA_CONFIG_MAP.to_string());
    wanted.metadata.namespace = namespace.metadata.name.clone();
    wanted
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(
            DESCRIPTION_ANNOTATION.to_string(),
            ROOT_CA_DESCRIPTION.to_string(),
        );
    wanted
        .data
        .get_or_insert_with(Default::default)
        .insert(ROOT_CA_KEY.to_string(), ca_bundle.to_string());
    Some(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespace(name: &str, terminating: bool) -> Namespace {
        let mut object = json!({"metadata": {"name": name}, "status": {"phase": "Active"}});
        if terminating {
            object["status"]["phase"] = json!("Terminating");
        }
        serde_json::from_value(object).expect("a namespace")
    }

    #[test]
    fn every_active_namespace_gets_a_default_service_account() {
        let dev = namespace("dev", false);
        let made = service_account(&dev, None).expect("one to make");
        assert_eq!(made.metadata.name.as_deref(), Some("default"));
        assert_eq!(made.metadata.namespace.as_deref(), Some("dev"));
        assert!(service_account(&dev, Some(&made)).is_none());
        assert!(service_account(&namespace("gone", true), None).is_none());
    }

    #[test]
    fn the_root_ca_config_map_follows_the_bundle() {
        let dev = namespace("dev", false);
        let made = root_ca(&dev, None, "CA1").expect("one to make");
        assert_eq!(made.metadata.namespace.as_deref(), Some("dev"));
        assert_eq!(
            made.data
                .as_ref()
                .and_then(|d| d.get("ca.crt"))
                .map(String::as_str),
            Some("CA1")
        );
        let description = made
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DESCRIPTION_ANNOTATION));
        assert_eq!(description.map(String::as_str), Some(ROOT_CA_DESCRIPTION));
        // As it should be: nothing to write.
        assert!(root_ca(&dev, Some(&made), "CA1").is_none());
        // A new bundle, or a lost description, is written back.
        let rotated = root_ca(&dev, Some(&made), "CA2").expect("an update");
        assert_eq!(
            rotated
                .data
                .as_ref()
                .and_then(|d| d.get("ca.crt"))
                .map(String::as_str),
            Some("CA2")
        );
        let mut bare = made.clone();
        bare.metadata.annotations = None;
        assert!(root_ca(&dev, Some(&bare), "CA1").is_some());
        assert!(root_ca(&namespace("gone", true), None, "CA1").is_none());
    }
}
