//! Binding a pod's volumes (upstream's `AssumePodVolumes` and
//! `BindPodVolumes`): Reserve works out the writes (volumes pre-bound to
//! their claims, claims given the selected node) as a value; PreBind
//! makes them through the API and polls until the PV controller has
//! bound every claim, checking on the way that nothing undid the choice.

use std::collections::HashMap;
use std::time::Duration;

use keelson_api::k8s_openapi::api::core::v1::{
    Node, ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod,
};
use kube::api::{Api, PostParams};

use super::classify::{is_fully_bound, volume_name};
use super::matching::{ANN_SELECTED_NODE, PodVolumes, is_bound_to_claim, node_affinity_matches};

/// Set on a volume the scheduler (not the user) pre-bound to a claim.
const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";

/// How often PreBind looks again, as upstream.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The API writes that bind one pod's volumes on its node.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Writes {
    /// Volumes with `claimRef` set to their claims.
    pub(crate) volumes: Vec<PersistentVolume>,
    /// Claims annotated with the node to provision for.
    pub(crate) claims: Vec<PersistentVolumeClaim>,
}

/// The writes for `volumes` on `node` (upstream's `GetBindVolumeToClaim`
/// for each static binding, the selected-node annotation for each claim
/// to provision).
pub(crate) fn writes_for(volumes: &PodVolumes, node: &str) -> Writes {
    let bound = volumes.static_bindings.iter();
    let claims = volumes.dynamic_provisions.iter();
    Writes {
        volumes: bound
            .map(|b| bind_volume_to_claim(&b.volume, &b.claim))
            .collect(),
        claims: claims.map(|c| with_selected_node(c, node)).collect(),
    }
}

/// The volume with its `claimRef` naming the claim, marked bound by a
/// controller when the user had not pre-bound it.
fn bind_volume_to_claim(
    volume: &PersistentVolume,
    claim: &PersistentVolumeClaim,
) -> PersistentVolume {
    let pre_bound = is_bound_to_claim(volume, claim);
    let mut volume = volume.clone();
    let spec = volume.spec.get_or_insert_with(Default::default);
    let same = spec.claim_ref.as_ref().is_some_and(|r| {
        r.name == claim.metadata.name
            && r.namespace == claim.metadata.namespace
            && r.uid == claim.metadata.uid
    });
    if !same {
        spec.claim_ref = Some(ObjectReference {
            api_version: Some("v1".to_string()),
            kind: Some("PersistentVolumeClaim".to_string()),
            name: claim.metadata.name.clone(),
            namespace: claim.metadata.namespace.clone(),
            uid: claim.metadata.uid.clone(),
            resource_version: claim.metadata.resource_version.clone(),
            field_path: None,
        });
    }
    if !pre_bound {
        let annotations = volume
            .metadata
            .annotations
            .get_or_insert_with(Default::default);
        annotations
            .entry(ANN_BOUND_BY_CONTROLLER.to_string())
            .or_insert_with(|| "yes".to_string());
    }
    volume
}

/// The claim annotated to be provisioned for `node`.
fn with_selected_node(claim: &PersistentVolumeClaim, node: &str) -> PersistentVolumeClaim {
    let mut claim = claim.clone();
    let annotations = claim
        .metadata
        .annotations
        .get_or_insert_with(Default::default);
    annotations.insert(ANN_SELECTED_NODE.to_string(), node.to_string());
    claim
}

/// The objects as the API holds them now, by name (`None`: not found).
#[derive(Debug, Default)]
pub(crate) struct Observed {
    pub(crate) pod_exists: bool,
    pub(crate) volumes: HashMap<String, Option<PersistentVolume>>,
    pub(crate) claims: HashMap<String, Option<PersistentVolumeClaim>>,
}

fn name_of<K: kube::Resource>(object: &K) -> &str {
    object.meta().name.as_deref().unwrap_or_default()
}

fn version<K: kube::Resource>(object: &K) -> u64 {
    let version = object.meta().resource_version.as_deref();
    version.and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Whether every claim written is bound (`Ok(false)`: not yet), or the
/// error that sends the pod back to scheduling (upstream's
/// `checkBindings`).
pub(crate) fn check_bindings(
    written: &Writes,
    observed: &Observed,
    node: &Node,
) -> Result<bool, String> {
    if !observed.pod_exists {
        return Err("pod does not exist any more".to_string());
    }
    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    let affinity = |pv: &PersistentVolume| {
        match node_affinity_matches(pv, node) {
            Ok(true) => Ok(()),
            Ok(false) => Err("no matching NodeSelectorTerms".to_string()),
            Err(err) => Err(err),
        }
        .map_err(|err| {
            format!(
                "pv {:?} node affinity doesn't match node {node_name:?}: {err}",
                name_of(pv)
            )
        })
    };
    for ours in &written.volumes {
        let name = name_of(ours);
        let Some(Some(volume)) = observed.volumes.get(name) else {
            return Err(format!(
                "failed to check binding: PersistentVolume {name:?} not found"
            ));
        };
        let claim_name = ours
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref()?.name.clone());
        let claim = observed
            .claims
            .get(&claim_name.unwrap_or_default())
            .cloned()
            .flatten();
        let Some(claim) = claim else {
            return Err(format!(
                "failed to check binding: PersistentVolumeClaim of {name:?} not found"
            ));
        };
        if version(volume) < version(ours) {
            return Ok(false);
        }
        affinity(volume)?;
        let claim_ref = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
        if claim_ref.is_none_or(|r| r.uid.as_deref().unwrap_or_default().is_empty()) {
            return Err(format!("ClaimRef got reset for pv {name:?}"));
        }
        if !is_fully_bound(&claim) {
            return Ok(false);
        }
    }
    for ours in &written.claims {
        let name = name_of(ours);
        let Some(Some(claim)) = observed.claims.get(name) else {
            return Err(format!(
                "failed to check provisioning pvc: PersistentVolumeClaim {name:?} not found"
            ));
        };
        if version(claim) < version(ours) {
            return Ok(false);
        }
        let annotations = claim.metadata.annotations.as_ref();
        let Some(annotations) = annotations else {
            return Err(format!("selectedNode annotation reset for PVC {name:?}"));
        };
        // The provisioner removes the annotation when it fails.
        if annotations.get(ANN_SELECTED_NODE).map(String::as_str) != Some(node_name) {
            return Err(format!("provisioning failed for PVC {name:?}"));
        }
        let bound_to = volume_name(claim);
        if !bound_to.is_empty() {
            // A volume not seen yet may be on its way.
            let Some(Some(volume)) = observed.volumes.get(bound_to) else {
                return Ok(false);
            };
            affinity(volume)?;
        }
        if !is_fully_bound(claim) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The API's message for a failed request.
fn api_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}

/// Makes the writes; the objects as the API returned them. On a failure
/// the writes made so far stay (the PV controller takes them from there,
/// as upstream).
pub(crate) async fn write(client: &kube::Client, writes: &Writes) -> Result<Writes, String> {
    let params = PostParams::default();
    let mut done = Writes::default();
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    for volume in &writes.volumes {
        let written = volumes.replace(name_of(volume), &params, volume).await;
        done.volumes.push(written.map_err(|e| api_message(&e))?);
    }
    for claim in &writes.claims {
        let namespace = claim.metadata.namespace.as_deref().unwrap_or("default");
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
        let written = claims.replace(name_of(claim), &params, claim).await;
        done.claims.push(written.map_err(|e| api_message(&e))?);
    }
    Ok(done)
}

/// Reads what [`check_bindings`] looks at.
async fn observe(client: &kube::Client, pod: &Pod, written: &Writes) -> Result<Observed, String> {
    let namespace = crate::framework::pod_info::namespace(pod);
    let mut observed = Observed::default();
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    observed.pod_exists = optional(pods.get(name_of(pod)).await)?.is_some();
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let claim_names = written
        .volumes
        .iter()
        .filter_map(|v| v.spec.as_ref()?.claim_ref.as_ref()?.name.clone());
    let claim_names: Vec<String> = claim_names
        .chain(written.claims.iter().map(|c| name_of(c).to_string()))
        .collect();
    for name in claim_names {
        let claim = optional(claims.get(&name).await)?;
        observed.claims.insert(name, claim);
    }
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    let bound_to = observed
        .claims
        .values()
        .flatten()
        .map(|c| volume_name(c).to_string());
    let volume_names: Vec<String> = written
        .volumes
        .iter()
        .map(|v| name_of(v).to_string())
        .chain(bound_to)
        .collect();
    for name in volume_names.into_iter().filter(|n| !n.is_empty()) {
        let volume = optional(volumes.get(&name).await)?;
        observed.volumes.insert(name, volume);
    }
    Ok(observed)
}

fn optional<K>(result: Result<K, kube::Error>) -> Result<Option<K>, String> {
    match result {
        Ok(object) => Ok(Some(object)),
        Err(err) if is_not_found(&err) => Ok(None),
        Err(err) => Err(api_message(&err)),
    }
}

/// Polls until the written claims are bound, an error says they will not
/// be, or `timeout` passes (upstream's message then).
pub(crate) async fn wait_for_bindings(
    client: &kube::Client,
    pod: &Pod,
    node: &Node,
    written: &Writes,
    timeout: Duration,
) -> Result<(), String> {
    let poll = async {
        loop {
            tokio::time::sleep(POLL_INTERVAL).await;
            let observed = observe(client, pod, written).await?;
            if check_bindings(written, &observed, node)? {
                return Ok(());
            }
        }
    };
    match tokio::time::timeout(timeout, poll).await {
        Ok(result) => result.map_err(|err: String| format!("binding volumes: {err}")),
        Err(_) => Err("binding volumes: context deadline exceeded".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::plugins::volume_binding::matching::Binding;
    use crate::plugins::volume_binding::test_support::{node, pv, pvc};

    fn planned() -> (PodVolumes, Writes) {
        let volumes = PodVolumes {
            node: node("node-a", json!({})),
            static_bindings: vec![Binding {
                claim: Arc::new(pvc("pvc-a", json!({}), json!({}))),
                volume: Arc::new(pv("pv-a", json!({}), json!({}))),
            }],
            dynamic_provisions: vec![Arc::new(pvc("pvc-b", json!({}), json!({})))],
        };
        let writes = writes_for(&volumes, "node-a");
        (volumes, writes)
    }

    #[test]
    fn the_writes_pre_bind_volumes_and_select_the_node_for_provisioning() {
        let (_, writes) = planned();
        let volume = &writes.volumes[0];
        let claim_ref = volume
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.clone())
            .expect("a claimRef");
        assert_eq!(claim_ref.kind.as_deref(), Some("PersistentVolumeClaim"));
        assert_eq!(claim_ref.name.as_deref(), Some("pvc-a"));
        assert_eq!(claim_ref.namespace.as_deref(), Some("default"));
        assert_eq!(claim_ref.uid.as_deref(), Some("uid-pvc-a"));
        let annotations = volume.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(
            annotations.get(ANN_BOUND_BY_CONTROLLER).map(String::as_str),
            Some("yes")
        );
        let annotations = writes.claims[0]
            .metadata
            .annotations
            .clone()
            .unwrap_or_default();
        assert_eq!(
            annotations.get(ANN_SELECTED_NODE).map(String::as_str),
            Some("node-a")
        );
    }

    #[test]
    fn a_volume_the_user_pre_bound_is_not_marked_bound_by_controller() {
        let claim = pvc("pvc-a", json!({}), json!({}));
        let ours = pv(
            "pv-a",
            json!({}),
            json!({"claimRef": {"name": "pvc-a", "namespace": "default"}}),
        );
        let written = bind_volume_to_claim(&ours, &claim);
        assert!(written.metadata.annotations.is_none());
        let uid = written.spec.and_then(|s| s.claim_ref?.uid);
        assert_eq!(uid.as_deref(), Some("uid-pvc-a"));
    }

    /// What the API shows after the PV controller's work: claims bound or
    /// not, the selected node kept or dropped.
    fn observed(writes: &Writes, claims_bound: bool, selected: Option<&str>) -> Observed {
        let mut observed = Observed {
            pod_exists: true,
            ..Observed::default()
        };
        let bound = |name: &str, volume: &str, mut annotations: serde_json::Value| {
            if claims_bound {
                annotations["pv.kubernetes.io/bind-completed"] = json!("yes");
            }
            let spec = if claims_bound {
                json!({"volumeName": volume})
            } else {
                json!({})
            };
            pvc(name, spec, annotations)
        };
        observed
            .claims
            .insert("pvc-a".into(), Some(bound("pvc-a", "pv-a", json!({}))));
        let annotation = selected.map_or(json!({}), |n| json!({ANN_SELECTED_NODE: n}));
        observed
            .claims
            .insert("pvc-b".into(), Some(bound("pvc-b", "pv-b", annotation)));
        observed
            .volumes
            .insert("pv-a".into(), Some(writes.volumes[0].clone()));
        observed
            .volumes
            .insert("pv-b".into(), Some(pv("pv-b", json!({}), json!({}))));
        observed
    }

    #[test]
    fn the_wait_ends_when_every_claim_is_bound_or_the_choice_was_undone() {
        let (volumes, writes) = planned();
        let node = &volumes.node;
        assert_eq!(
            check_bindings(&writes, &observed(&writes, false, Some("node-a")), node),
            Ok(false)
        );
        assert_eq!(
            check_bindings(&writes, &observed(&writes, true, Some("node-a")), node),
            Ok(true)
        );
        assert_eq!(
            check_bindings(&writes, &observed(&writes, true, Some("node-b")), node),
            Err("provisioning failed for PVC \"pvc-b\"".to_string())
        );
        let mut reset = observed(&writes, true, Some("node-a"));
        reset
            .volumes
            .insert("pv-a".into(), Some(pv("pv-a", json!({}), json!({}))));
        assert_eq!(
            check_bindings(&writes, &reset, node),
            Err("ClaimRef got reset for pv \"pv-a\"".to_string())
        );
        let mut gone = observed(&writes, true, Some("node-a"));
        gone.pod_exists = false;
        assert!(check_bindings(&writes, &gone, node).is_err());
    }

    #[test]
    fn a_listed_version_older_than_the_write_is_waited_for() {
        let (volumes, mut writes) = planned();
        writes.volumes[0].metadata.resource_version = Some("7".into());
        let mut stale = observed(&writes, true, Some("node-a"));
        if let Some(Some(volume)) = stale.volumes.get_mut("pv-a") {
            volume.metadata.resource_version = Some("6".into());
        }
        assert_eq!(check_bindings(&writes, &stale, &volumes.node), Ok(false));
    }
}
