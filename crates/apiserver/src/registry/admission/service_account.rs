//! ServiceAccount, its defaulting part: a new pod without a service account
//! runs as `default`, and the deprecated `serviceAccount` field says the
//! same as `serviceAccountName`, as upstream's plugin and v1 conversion
//! leave them. Mirror pods (made by a kubelet from a file) are left alone.

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
    fn mirror_pods_are_recognised() {
        assert!(is_mirror(
            &json!({"metadata": {"annotations": {MIRROR: "x"}}})
        ));
        assert!(!is_mirror(&json!({"metadata": {}})));
    }
}
