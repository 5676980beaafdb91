//! `DefaultBinder`: binds a pod to its node by creating its `binding`
//! subresource, as upstream's does.

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Binding, ObjectReference, Pod};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};

use crate::framework::{Bind, CycleState, Handle, Plugin, PodInfo, Status};

/// The plugin's name in configurations.
pub const NAME: &str = "DefaultBinder";

/// The plugin.
pub struct DefaultBinder {
    client: Option<kube::Client>,
}

impl Plugin for DefaultBinder {
    fn name(&self) -> &str {
        NAME
    }

    fn as_bind(&self) -> Option<&dyn Bind> {
        Some(self)
    }
}

/// The binding of `pod` to `node`, with the pod's uid so that a pod
/// deleted and made again under its name is not bound by mistake.
pub fn binding(pod: &Pod, node: &str) -> Binding {
    Binding {
        metadata: ObjectMeta {
            name: pod.metadata.name.clone(),
            namespace: pod.metadata.namespace.clone(),
            uid: pod.metadata.uid.clone(),
            ..ObjectMeta::default()
        },
        target: ObjectReference {
            kind: Some("Node".to_string()),
            name: Some(node.to_string()),
            ..ObjectReference::default()
        },
    }
}

#[async_trait::async_trait]
impl Bind for DefaultBinder {
    async fn bind(&self, _state: &CycleState, pod: &PodInfo, node: &str) -> Status {
        let Some(client) = self.client.clone() else {
            return Status::error("the binder has no API client");
        };
        let api: Api<Pod> = Api::namespaced(client, pod.namespace());
        let body = binding(&pod.pod, node);
        let made: Result<serde_json::Value, _> = api
            .create_subresource("binding", pod.name(), &PostParams::default(), &body)
            .await;
        match made {
            Ok(_) => Status::success(),
            Err(err) => Status::error(super::super::error_message(&err)),
        }
    }
}

/// Makes the plugin (it takes no arguments).
pub fn new(_args: Option<&serde_json::Value>, handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(DefaultBinder {
        client: handle.client.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_names_the_pod_with_its_uid_and_the_node() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop", "uid": "u1"},
            "spec": {"containers": []},
        }))
        .expect("a pod");
        let made = serde_json::to_value(binding(&pod, "n1")).expect("serializable");
        assert_eq!(
            made,
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": "web", "namespace": "shop", "uid": "u1"},
                "target": {"kind": "Node", "name": "n1"},
            })
        );
    }
}
