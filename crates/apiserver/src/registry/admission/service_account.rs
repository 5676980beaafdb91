//! ServiceAccount, its defaulting part: a new pod without a service account
//! runs as `default`, and the deprecated `serviceAccount` field says the
//! same as `serviceAccountName`, as upstream's plugin and v1 conversion
//! leave them; unless the pod opts out (`automountServiceAccountToken:
//! false`), it gets upstream's projected `kube-api-access-*` volume (a
//! ServiceAccount token, the cluster's `ca.crt` from the `kube-root-ca.crt`
//! ConfigMap and the namespace), mounted read-only at
//! `/var/run/secrets/kubernetes.io/serviceaccount` in every container that
//! has nothing there. Mirror pods (made by a kubelet from a file) are left
//! alone.

use async_trait::async_trait;
use keelson_api::ApiError;
use serde_json::Value;

use super::is_write_of;
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

/// The service account of pods that name none.
const DEFAULT: &str = "default";
/// The annotation of mirror pods.
const MIRROR: &str = "kubernetes.io/config.mirror";

/// Defaults a new pod's service account.
pub struct ServiceAccount;

#[async_trait]
impl Admission for ServiceAccount {
    fn name(&self) -> &'static str {
        "ServiceAccount"
    }

    async fn admit(
        &self,
        _objects: &Objects,
        write: &Attributes<'_>,
        pod: &mut Value,
    ) -> Result<(), ApiError> {
        if is_write_of(write, "", "pods", &[Operation::Create]) && !is_mirror(pod) {
            default_service_account(pod);
            mount_token(pod, &crate::objects::create::random_suffix(5));
        }
        Ok(())
    }
}

fn is_mirror(pod: &Value) -> bool {
    pod.pointer("/metadata/annotations")
        .and_then(|a| a.get(MIRROR))
        .is_some()
}

/// `serviceAccountName`, else the deprecated `serviceAccount`, else
/// `default`, written to both fields.
fn default_service_account(pod: &mut Value) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let named = |field: &str| {
        spec.get(field)
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .map(str::to_string)
    };
    let name = named("serviceAccountName")
        .or_else(|| named("serviceAccount"))
        .unwrap_or_else(|| DEFAULT.to_string());
    spec.insert("serviceAccountName".into(), Value::from(name.as_str()));
    spec.insert("serviceAccount".into(), Value::from(name));
}

/// Where a pod's containers find their ServiceAccount's credentials.
const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The token's lifetime, as upstream asks the kubelet for it.
const TOKEN_SECONDS: i64 = 3607;

/// Adds the projected token volume `kube-api-access-SUFFIX` and mounts it
/// where no container mounts anything, unless the pod opts out.
fn mount_token(pod: &mut Value, suffix: &str) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.get("automountServiceAccountToken") == Some(&Value::Bool(false)) {
        return;
    }
    let containers = ["initContainers", "containers"];
    let mounted = |container: &Value| {
        container["volumeMounts"]
            .as_array()
            .is_some_and(|mounts| mounts.iter().any(|m| m["mountPath"] == MOUNT_PATH))
    };
    let name = format!("kube-api-access-{suffix}");
    let mut wanted = false;
    for list in containers {
        for container in spec
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if mounted(container) {
                continue;
            }
            let mount =
                serde_json::json!({"name": name, "readOnly": true, "mountPath": MOUNT_PATH});
            match container["volumeMounts"].as_array_mut() {
                Some(mounts) => mounts.push(mount),
                None => container["volumeMounts"] = Value::Array(vec![mount]),
            }
            wanted = true;
        }
    }
    if !wanted {
        return;
    }
    let volume = serde_json::json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_SECONDS, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
        },
    });
    match spec.get_mut("volumes").and_then(Value::as_array_mut) {
        Some(volumes) => volumes.push(volume),
        None => {
            spec.insert("volumes".into(), Value::Array(vec![volume]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pods_run_as_default_unless_they_name_an_account() {
        let cases = [
            (json!({}), "default"),
            (json!({"serviceAccountName": ""}), "default"),
            (json!({"serviceAccountName": "robot"}), "robot"),
            (json!({"serviceAccount": "old"}), "old"),
            (
                json!({"serviceAccountName": "new", "serviceAccount": "old"}),
                "new",
            ),
        ];
        for (spec, want) in cases {
            let mut pod = json!({"spec": spec});
            default_service_account(&mut pod);
            assert_eq!(pod["spec"]["serviceAccountName"], want, "{spec}");
            assert_eq!(pod["spec"]["serviceAccount"], want, "{spec}");
        }
    }

    #[test]
    fn pods_get_the_token_volume_unless_they_opt_out() {
        let mut pod = json!({"spec": {"containers": [
            {"name": "a"},
            {"name": "b", "volumeMounts": [{"name": "own", "mountPath": MOUNT_PATH}]},
        ]}});
        mount_token(&mut pod, "abcde");
        assert_eq!(pod["spec"]["volumes"][0]["name"], "kube-api-access-abcde");
        let sources = &pod["spec"]["volumes"][0]["projected"]["sources"];
        assert_eq!(sources[0]["serviceAccountToken"]["expirationSeconds"], 3607);
        assert_eq!(sources[1]["configMap"]["name"], "kube-root-ca.crt");
        assert_eq!(
            pod["spec"]["containers"][0]["volumeMounts"],
            json!([{"name": "kube-api-access-abcde", "readOnly": true, "mountPath": MOUNT_PATH}])
        );
        assert_eq!(
            pod["spec"]["containers"][1]["volumeMounts"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        let mut opted_out =
            json!({"spec": {"automountServiceAccountToken": false, "containers": [{"name": "a"}]}});
        mount_token(&mut opted_out, "abcde");
        assert!(opted_out["spec"].get("volumes").is_none());
    }

    #[test]
    fn mirror_pods_are_recognised() {
        assert!(is_mirror(
            &json!({"metadata": {"annotations": {MIRROR: "x"}}})
        ));
        assert!(!is_mirror(&json!({"metadata": {}})));
    }
}
