//! ServiceAccount, as upstream's plugin: a new pod without a service
//! account runs as `default`, and the deprecated `serviceAccount` field
//! says the same as `serviceAccountName`; the account must exist (looked
//! up in the watch cache, then live, again and again for a while when it
//! is `default`, which the ServiceAccount controller may not have made yet
//! in a namespace just made), else the pod is refused (403) with
//! upstream's words; unless the pod or its account opts out
//! (`automountServiceAccountToken: false`, the pod's word first), it gets
//! upstream's projected `kube-api-access-*` volume (a ServiceAccount
//! token, the cluster's `ca.crt` from the `kube-root-ca.crt` ConfigMap
//! and the namespace), mounted read-only at
//! `/var/run/secrets/kubernetes.io/serviceaccount` in every container that
//! has nothing there; a pod with no image pull secrets gets its account's.
//! Mirror pods (made by a kubelet from a file) are left alone.

use std::time::Duration;

use async_trait::async_trait;
use keelson_api::ApiError;
use keelson_api::StatusReason;
use serde_json::Value;

use super::{Lookups, forbidden_object, is_write_of};
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

/// The service account of pods that name none.
const DEFAULT: &str = "default";
/// The annotation of mirror pods.
const MIRROR: &str = "kubernetes.io/config.mirror";
/// How many live lookups of a missing account are made: more for
/// `default`, which the ServiceAccount controller makes in every new
/// namespace, as upstream's plugin waits for it.
const ATTEMPTS: usize = 1;
const DEFAULT_ATTEMPTS: usize = 10;
/// The pause between them (upstream's is 100-200 ms).
const RETRY_INTERVAL: Duration = Duration::from_millis(150);

/// Defaults a new pod's service account, refuses it when that account
/// does not exist, and mounts its token.
pub struct ServiceAccount {
    lookups: Lookups,
}

impl ServiceAccount {
    /// The step, reading accounts through `lookups`.
    pub fn new(lookups: Lookups) -> Self {
        ServiceAccount { lookups }
    }

    /// The account `namespace`/`name`: from the cache, else live, tried
    /// again while missing ([`DEFAULT_ATTEMPTS`] times for `default`);
    /// the error text is what follows upstream's "error looking up
    /// service account ns/name: ".
    async fn account(
        &self,
        objects: &Objects,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String> {
        let accounts = super::resource("", "serviceaccounts").map_err(|err| err.message)?;
        match self.lookups.get(objects, accounts, namespace, name).await {
            Ok(account) => return Ok(account),
            Err(err) if err.reason != StatusReason::NotFound => return Err(err.message),
            Err(_) => {}
        }
        let attempts = if name == DEFAULT {
            DEFAULT_ATTEMPTS
        } else {
            ATTEMPTS
        };
        for attempt in 0..attempts {
            if attempt != 0 {
                tokio::time::sleep(RETRY_INTERVAL).await;
            }
            match objects.get(accounts, namespace, name).await {
                Ok(account) => return Ok(account),
                Err(err) if err.reason != StatusReason::NotFound => return Err(err.message),
                Err(_) => {}
            }
        }
        Err(format!("serviceaccount {name:?} not found"))
    }
}

#[async_trait]
impl Admission for ServiceAccount {
    fn name(&self) -> &'static str {
        "ServiceAccount"
    }

    async fn admit(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        pod: &mut Value,
    ) -> Result<(), ApiError> {
        if !is_write_of(write, "", "pods", &[Operation::Create]) || is_mirror(pod) {
            return Ok(());
        }
        let name = default_service_account(pod);
        let namespace = write.namespace.unwrap_or_default();
        let account = match self.account(objects, namespace, &name).await {
            Ok(account) => account,
            Err(err) => {
                let why = format!("error looking up service account {namespace}/{name}: {err}");
                return Err(forbidden_object(write, pod, &why));
            }
        };
        if automounts(&account, pod) {
            mount_token(pod, &crate::objects::create::random_suffix(5));
        }
        copy_pull_secrets(&account, pod);
        Ok(())
    }
}

/// Whether the token is mounted: the pod's `automountServiceAccountToken`
/// if it says, else the account's, else yes.
fn automounts(account: &Value, pod: &Value) -> bool {
    let pod_says = pod.pointer("/spec/automountServiceAccountToken");
    let account_says = account.get("automountServiceAccountToken");
    pod_says
        .and_then(Value::as_bool)
        .or_else(|| account_says.and_then(Value::as_bool))
        .unwrap_or(true)
}

/// A pod that names no image pull secrets gets its account's.
fn copy_pull_secrets(account: &Value, pod: &mut Value) {
    let Some(secrets) = account
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
    else {
        return;
    };
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let has_own = spec
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .is_some_and(|own| !own.is_empty());
    if !has_own {
        let names: Vec<Value> = secrets
            .iter()
            .filter_map(|s| s.get("name").cloned())
            .map(|name| serde_json::json!({"name": name}))
            .collect();
        spec.insert("imagePullSecrets".into(), Value::Array(names));
    }
}

fn is_mirror(pod: &Value) -> bool {
    pod.pointer("/metadata/annotations")
        .and_then(|a| a.get(MIRROR))
        .is_some()
}

/// `serviceAccountName`, else the deprecated `serviceAccount`, else
/// `default`, written to both fields; the name is returned.
fn default_service_account(pod: &mut Value) -> String {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return DEFAULT.to_string();
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
    spec.insert("serviceAccount".into(), Value::from(name.as_str()));
    name
}

/// Where a pod's containers find their ServiceAccount's credentials.
const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The token's lifetime, as upstream asks the kubelet for it.
const TOKEN_SECONDS: i64 = 3607;

/// Adds the projected token volume `kube-api-access-SUFFIX` and mounts it
/// where no container mounts anything.
fn mount_token(pod: &mut Value, suffix: &str) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
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
    }

    #[test]
    fn the_pod_then_its_account_say_whether_the_token_is_mounted() {
        let cases = [
            (json!({}), json!({}), true),
            (
                json!({"automountServiceAccountToken": false}),
                json!({}),
                false,
            ),
            (
                json!({}),
                json!({"automountServiceAccountToken": false}),
                false,
            ),
            (
                json!({"automountServiceAccountToken": true}),
                json!({"automountServiceAccountToken": false}),
                true,
            ),
        ];
        for (spec, account, want) in cases {
            assert_eq!(
                automounts(&account, &json!({"spec": spec})),
                want,
                "{spec} {account}"
            );
        }
    }

    #[test]
    fn a_pod_without_pull_secrets_gets_its_accounts() {
        let account = json!({"imagePullSecrets": [{"name": "reg"}]});
        let mut bare = json!({"spec": {}});
        copy_pull_secrets(&account, &mut bare);
        assert_eq!(bare["spec"]["imagePullSecrets"], json!([{"name": "reg"}]));
        let mut own = json!({"spec": {"imagePullSecrets": [{"name": "mine"}]}});
        copy_pull_secrets(&account, &mut own);
        assert_eq!(own["spec"]["imagePullSecrets"], json!([{"name": "mine"}]));
    }

    #[test]
    fn mirror_pods_are_recognised() {
        assert!(is_mirror(
            &json!({"metadata": {"annotations": {MIRROR: "x"}}})
        ));
        assert!(!is_mirror(&json!({"metadata": {}})));
    }
}
