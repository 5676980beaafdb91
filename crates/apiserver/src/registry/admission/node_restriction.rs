//! NodeRestriction: what a node agent (`system:node:NAME`) may change, as
//! upstream's plugin of that name decides it. The Node authorizer lets a
//! node write pods, its Node, leases and token requests at all; this step
//! limits those writes to what belongs to the node: mirror pods bound to
//! it (owned by its Node, naming no other object), deleting, evicting and
//! updating the status of pods bound to it, its own Node (its taints, the
//! `node-restriction.kubernetes.io/` labels and unknown `kubernetes.io`
//! labels left alone), its own Lease, tokens bound to its pods, and the
//! capacity and conditions of claims' status. Runs when the server
//! authorizes with `Node,RBAC`.

use std::collections::{BTreeMap, BTreeSet};

use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::Value;

use super::{forbidden, resource};
use crate::auth::node::{NODE_LEASE_NAMESPACE, node_of, references};
use crate::meta::meta_str;
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

/// The annotation that marks a mirror pod.
const MIRROR: &str = "kubernetes.io/config.mirror";

/// The NodeRestriction admission step.
pub struct NodeRestriction;

#[async_trait::async_trait]
impl Admission for NodeRestriction {
    fn name(&self) -> &'static str {
        "NodeRestriction"
    }

    async fn validate(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        object: &Value,
    ) -> Result<(), ApiError> {
        let Some(user) = crate::auth::requester() else {
            return Ok(());
        };
        let Some(node) = node_of(&user) else {
            return Ok(());
        };
        let no = |why: String| Err(forbidden(write, &why));
        if node.is_empty() {
            return no(format!(
                "could not determine node from user {:?}",
                user.name
            ));
        }
        let resource = write.resource;
        match (resource.group, resource.plural, write.subresource) {
            ("", "pods", None) => pod(objects, node, write, object).await,
            ("", "pods", Some("status")) => pod_status(node, write, object),
            ("", "pods", Some("eviction")) => eviction(objects, node, write, object).await,
            ("", "pods", Some(other)) => no(format!(
                "unexpected pod subresource {other:?}, only 'status' and 'eviction' are allowed"
            )),
            ("", "nodes", _) => node_object(node, write, object),
            ("", "persistentvolumeclaims", Some("status")) => claim_status(node, write, object),
            ("", "persistentvolumeclaims", _) => no("may only update PVC status".to_string()),
            ("", "serviceaccounts", Some("token")) if write.operation == Operation::Create => {
                token(objects, write, node, object).await
            }
            ("coordination.k8s.io", "leases", _) => lease(node, write, object),
            ("storage.k8s.io", "csinodes", _) => {
                let name = match write.operation {
                    Operation::Create => meta_str(object, "name"),
                    _ => write.name,
                };
                match name == node {
                    true => Ok(()),
                    false => no(
                        "can only access CSINode with the same name as the requesting node"
                            .to_string(),
                    ),
                }
            }
            _ => Ok(()),
        }
    }
}

/// Upstream's name of an operation.
fn operation_name(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
    }
}

async fn pod(
    objects: &Objects,
    node: &str,
    write: &Attributes<'_>,
    pod: &Value,
) -> Result<(), ApiError> {
    let no = |why: String| Err(forbidden(write, &why));
    match write.operation {
        Operation::Create => mirror_pod(objects, node, write, pod).await,
        Operation::Delete => match pod["spec"]["nodeName"] == node {
            true => Ok(()),
            false => no(format!(
                "node {node:?} can only delete pods with spec.nodeName set to itself"
            )),
        },
        Operation::Update => no(format!(
            "unexpected operation {:?}, node {node:?} can only create and delete mirror pods",
            operation_name(write.operation)
        )),
    }
}

async fn mirror_pod(
    objects: &Objects,
    node: &str,
    write: &Attributes<'_>,
    pod: &Value,
) -> Result<(), ApiError> {
    let no = |why: String| Err(forbidden(write, &why));
    if pod["metadata"]["annotations"].get(MIRROR).is_none() {
        return no(format!(
            "pod does not have {MIRROR:?} annotation, node {node:?} can only create mirror pods"
        ));
    }
    if pod["spec"]["nodeName"] != node {
        return no(format!(
            "node {node:?} can only create pods with spec.nodeName set to itself"
        ));
    }
    let owners = pod["metadata"]["ownerReferences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let owner = match owners.as_slice() {
        [] => {
            return no(format!(
                "node {node:?} can only create pods with an owner reference set to itself"
            ));
        }
        [owner] => owner,
        _ => {
            return no(format!(
                "node {node:?} can only create pods with a single owner reference set to itself"
            ));
        }
    };
    if owner["apiVersion"] != "v1" || owner["kind"] != "Node" || owner["name"] != node {
        return no(format!(
            "node {node:?} can only create pods with an owner reference set to itself"
        ));
    }
    if owner["controller"] != true {
        return no(format!(
            "node {node:?} can only create pods with a controller owner reference set to itself"
        ));
    }
    if owner["blockOwnerDeletion"] == true {
        return no(format!(
            "node {node:?} must not set blockOwnerDeletion on an owner reference"
        ));
    }
    let nodes = resource("", "nodes")?;
    let found = objects.get(nodes, "", node).await?;
    let uid = meta_str(&found, "uid");
    let owner_uid = owner["uid"].as_str().unwrap_or_default();
    if owner_uid != uid {
        return no(format!(
            "node {node} UID mismatch: expected {owner_uid} got {uid}"
        ));
    }
    let spec = &pod["spec"];
    if spec["serviceAccountName"]
        .as_str()
        .is_some_and(|s| !s.is_empty())
    {
        return no(format!(
            "node {node:?} can not create pods that reference a service account"
        ));
    }
    let named = references(pod);
    if !named.secrets.is_empty() {
        return no(format!(
            "node {node:?} can not create pods that reference secrets"
        ));
    }
    if !named.config_maps.is_empty() {
        return no(format!(
            "node {node:?} can not create pods that reference configmaps"
        ));
    }
    let volumes = spec["volumes"].as_array().cloned().unwrap_or_default();
    let trust_bundle = volumes.iter().any(|volume| {
        volume["projected"]["sources"]
            .as_array()
            .is_some_and(|sources| sources.iter().any(|s| s["clusterTrustBundle"].is_object()))
    });
    if trust_bundle {
        return no(format!(
            "node {node:?} can not create pods that reference clustertrustbundles"
        ));
    }
    if volumes
        .iter()
        .any(|volume| volume["persistentVolumeClaim"].is_object())
    {
        return no(format!(
            "node {node:?} can not create pods that reference persistentvolumeclaims"
        ));
    }
    Ok(())
}

/// The stored object of a status update; any other write is refused as
/// upstream refuses it.
fn updated<'a>(write: &Attributes<'a>) -> Result<&'a Value, ApiError> {
    match (write.operation, write.old) {
        (Operation::Update, Some(old)) => Ok(old),
        _ => Err(forbidden(
            write,
            &format!("unexpected operation {:?}", operation_name(write.operation)),
        )),
    }
}

fn pod_status(node: &str, write: &Attributes<'_>, pod: &Value) -> Result<(), ApiError> {
    let no = |why: String| Err(forbidden(write, &why));
    let old = updated(write)?;
    if old["spec"]["nodeName"] != node {
        return no(format!(
            "node {node:?} can only update pod status for pods with spec.nodeName set to itself"
        ));
    }
    if labels(old) != labels(pod) {
        return no(format!(
            "node {node:?} cannot update labels through pod status"
        ));
    }
    let claims = |pod: &Value| {
        pod["status"]["resourceClaimStatuses"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|s| (s["name"].clone(), s["resourceClaimName"].clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    if claims(old) != claims(pod) {
        // Upstream's wording, spelling included.
        return no(format!(
            "node {node:?} cannot update resource claim statues"
        ));
    }
    Ok(())
}

async fn eviction(
    objects: &Objects,
    node: &str,
    write: &Attributes<'_>,
    eviction: &Value,
) -> Result<(), ApiError> {
    let no = |why: String| Err(forbidden(write, &why));
    if write.operation != Operation::Create {
        return no(format!(
            "unexpected operation {}",
            operation_name(write.operation)
        ));
    }
    let name = match write.name {
        "" => meta_str(eviction, "name"),
        name => name,
    };
    if name.is_empty() {
        return no("could not determine pod from request data".to_string());
    }
    let pods = resource("", "pods")?;
    let namespace = write.namespace.unwrap_or_default();
    let pod = objects.get(pods, namespace, name).await?;
    match pod["spec"]["nodeName"] == node {
        true => Ok(()),
        false => no(format!(
            "node {node} can only evict pods with spec.nodeName set to itself"
        )),
    }
}

/// Which labels differ between two label maps.
fn modified(new: &BTreeMap<String, String>, old: &BTreeMap<String, String>) -> BTreeSet<String> {
    let changed = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| {
        a.iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
    };
    changed(new, old)
        .into_iter()
        .chain(changed(old, new))
        .collect()
}

fn labels(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The namespace (prefix) of a label key.
fn label_namespace(key: &str) -> &str {
    key.split_once('/').map(|(ns, _)| ns).unwrap_or_default()
}

fn in_namespace(namespace: &str, domain: &str) -> bool {
    namespace == domain || namespace.ends_with(&format!(".{domain}"))
}

/// The `kubernetes.io` labels a kubelet sets on its Node.
const KUBELET_LABELS: &[&str] = &[
    "kubernetes.io/hostname",
    "kubernetes.io/arch",
    "kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
];

fn is_kubelet_label(key: &str) -> bool {
    let namespace = label_namespace(key);
    KUBELET_LABELS.contains(&key)
        || in_namespace(namespace, "kubelet.kubernetes.io")
        || in_namespace(namespace, "node.kubernetes.io")
}

/// The modified labels a node may not set.
fn forbidden_labels(modified: BTreeSet<String>) -> Vec<String> {
    modified
        .into_iter()
        .filter(|key| {
            let namespace = label_namespace(key);
            let restricted = in_namespace(namespace, "node-restriction.kubernetes.io");
            let kubernetes =
                in_namespace(namespace, "kubernetes.io") || in_namespace(namespace, "k8s.io");
            restricted || (kubernetes && !is_kubelet_label(key))
        })
        .collect()
}

fn node_object(node: &str, write: &Attributes<'_>, object: &Value) -> Result<(), ApiError> {
    let no = |why: String| Err(forbidden(write, &why));
    let name = match write.operation {
        Operation::Create if write.name.is_empty() => meta_str(object, "name"),
        _ => write.name,
    };
    if name != node {
        return no(format!(
            "node {node:?} is not allowed to modify node {name:?}"
        ));
    }
    let config_source = |node: &Value| node["spec"]["configSource"].clone();
    match (write.operation, write.old) {
        (Operation::Create, _) => {
            if !config_source(object).is_null() {
                // Upstream's wording.
                return no(format!(
                    "node {node:?} is not allowed to create pods with a non-nil configSource"
                ));
            }
            let forbidden = forbidden_labels(modified(&labels(object), &BTreeMap::new()));
            if !forbidden.is_empty() {
                return no(format!(
                    "node {node:?} is not allowed to set the following labels: {}",
                    forbidden.join(", ")
                ));
            }
        }
        (Operation::Update, Some(old)) => {
            let source = config_source(object);
            if !source.is_null() && source != config_source(old) {
                return no(format!(
                    "node {node:?} is not allowed to update configSource to a new non-nil configSource"
                ));
            }
            let taints = |node: &Value| match &node["spec"]["taints"] {
                Value::Array(list) if list.is_empty() => Value::Null,
                other => other.clone(),
            };
            if taints(object) != taints(old) {
                return no(format!("node {node:?} is not allowed to modify taints"));
            }
            let forbidden = forbidden_labels(modified(&labels(object), &labels(old)));
            if !forbidden.is_empty() {
                return no(format!(
                    "is not allowed to modify labels: {}",
                    forbidden.join(", ")
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

fn claim_status(node: &str, write: &Attributes<'_>, claim: &Value) -> Result<(), ApiError> {
    let no = |why: String| Err(forbidden(write, &why));
    let old = updated(write)?;
    // What a node may change: the status's capacity, conditions and the
    // resources of an expansion.
    let strip = |claim: &Value| {
        let mut claim = claim.clone();
        if let Some(meta) = claim["metadata"].as_object_mut() {
            meta.remove("resourceVersion");
            meta.remove("managedFields");
        }
        if let Some(status) = claim["status"].as_object_mut() {
            for field in [
                "capacity",
                "conditions",
                "allocatedResources",
                "allocatedResourceStatuses",
            ] {
                status.remove(field);
            }
        }
        claim
    };
    let (old, new) = (strip(old), strip(claim));
    if old == new {
        return Ok(());
    }
    let changed: Vec<&str> = ["metadata", "spec", "status"]
        .into_iter()
        .filter(|part| old[*part] != new[*part])
        .collect();
    no(format!(
        "node {node:?} is not allowed to update fields other than status.capacity and status.conditions: {} changed",
        changed.join(", ")
    ))
}

async fn token(
    objects: &Objects,
    write: &Attributes<'_>,
    node: &str,
    request: &Value,
) -> Result<(), ApiError> {
    let no = |why: String| Err(forbidden(write, &why));
    let reference = &request["spec"]["boundObjectRef"];
    let name = reference["name"].as_str().unwrap_or_default();
    if reference["apiVersion"] != "v1" || reference["kind"] != "Pod" || name.is_empty() {
        return no("node requested token not bound to a pod".to_string());
    }
    let uid = reference["uid"].as_str().unwrap_or_default();
    if uid.is_empty() {
        return no("node requested token with a pod binding without a uid".to_string());
    }
    let pods: &'static ResourceInfo = resource("", "pods")?;
    let pod = objects
        .get(pods, write.namespace.unwrap_or_default(), name)
        .await?;
    if meta_str(&pod, "uid") != uid {
        return no(format!(
            "the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated"
        ));
    }
    if pod["spec"]["nodeName"] != node {
        return no("node requested token bound to a pod scheduled on a different node".to_string());
    }
    Ok(())
}

fn lease(node: &str, write: &Attributes<'_>, lease: &Value) -> Result<(), ApiError> {
    let no = |why: String| Err(forbidden(write, &why));
    if write.namespace != Some(NODE_LEASE_NAMESPACE) {
        return no(format!(
            "can only access leases in the {NODE_LEASE_NAMESPACE:?} system namespace"
        ));
    }
    let name = match write.operation {
        Operation::Create => meta_str(lease, "name"),
        _ => write.name,
    };
    match name == node {
        true => Ok(()),
        false => no("can only access node lease with the same name as the requesting node".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_sets_only_kubelet_labels_of_kubernetes_io() {
        let set = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>();
        let refused = forbidden_labels(set(&[
            "kubernetes.io/hostname",
            "topology.kubernetes.io/zone",
            "node.kubernetes.io/exclude-from-external-load-balancers",
            "team.example.com/owner",
            "plain",
            "node-role.kubernetes.io/control-plane",
            "node-restriction.kubernetes.io/pool",
            "example.node-restriction.kubernetes.io/pool",
            "k8s.io/anything",
        ]));
        assert_eq!(
            refused,
            [
                "example.node-restriction.kubernetes.io/pool",
                "k8s.io/anything",
                "node-restriction.kubernetes.io/pool",
                "node-role.kubernetes.io/control-plane",
            ]
        );
    }

    #[test]
    fn modified_labels_are_the_added_removed_and_changed_keys() {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let old = map(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let new = map(&[("a", "1"), ("b", "20"), ("d", "4")]);
        let keys: Vec<String> = modified(&new, &old).into_iter().collect();
        assert_eq!(keys, ["b", "c", "d"]);
    }
}
