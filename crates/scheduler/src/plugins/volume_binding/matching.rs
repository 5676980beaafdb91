//! Filter's question for one node (upstream's `FindPodVolumes`): do the
//! bound claims' volumes allow the node, and can each unbound claim get
//! a volume there, an available one (the smallest that fits) or one its
//! class provisions in the node's topology?

use std::collections::HashSet;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::TopologySelectorTerm;
use keelson_api::k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim};
use keelson_api::label_selector::Selector;

use super::claims::{claim_class, quantity_bytes, requested_storage};
use super::classify::{PodVolumeClaims, claim_key, volume_class};
use crate::framework::node_selector::selector_matches;

/// An available volume that does not fit the claims on this node.
pub const ERR_REASON_BIND_CONFLICT: &str =
    "node(s) didn't find available persistent volumes to bind";
/// A bound volume whose node affinity excludes the node.
pub const ERR_REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// A bound claim's volume not found.
pub const ERR_REASON_PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";

/// The annotation naming the node a claim is provisioned for.
pub(crate) const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// A class's provisioner that provisions nothing.
const NOT_SUPPORTED_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// A claim and the volume chosen for it.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) claim: Arc<PersistentVolumeClaim>,
    pub(crate) volume: Arc<PersistentVolume>,
}

/// What the pod's unbound claims get on one node.
#[derive(Debug, Clone)]
pub(crate) struct PodVolumes {
    /// The node (PreBind checks the volumes' affinity against it again).
    pub(crate) node: Arc<Node>,
    pub(crate) static_bindings: Vec<Binding>,
    pub(crate) dynamic_provisions: Vec<Arc<PersistentVolumeClaim>>,
}

/// Whether `node` satisfies the volume's required node affinity (a
/// volume without one is anywhere).
pub(crate) fn node_affinity_matches(
    volume: &PersistentVolume,
    node: &Node,
) -> Result<bool, String> {
    let spec = volume.spec.as_ref();
    let required = spec.and_then(|s| s.node_affinity.as_ref()?.required.as_ref());
    required.map_or(Ok(true), |selector| selector_matches(selector, node))
}

/// The node's volumes for the pod, or why it cannot have them (reasons
/// in upstream's order); `Err` when something is wrong beyond this node.
pub(crate) fn find_pod_volumes(
    claims: &PodVolumeClaims,
    node: &Arc<Node>,
) -> Result<Result<PodVolumes, Vec<&'static str>>, String> {
    let mut volumes = PodVolumes {
        node: node.clone(),
        static_bindings: Vec::new(),
        dynamic_provisions: Vec::new(),
    };
    let (bound_satisfied, bound_found) = check_bound_claims(claims, node);
    let unbound_satisfied = if claims.unbound_delay_binding.is_empty() {
        true
    } else {
        find_unbound(claims, node, &mut volumes)?
    };
    let reasons: Vec<&'static str> = [
        (!bound_satisfied).then_some(ERR_REASON_NODE_CONFLICT),
        (!unbound_satisfied).then_some(ERR_REASON_BIND_CONFLICT),
        (!bound_found).then_some(ERR_REASON_PV_NOT_EXIST),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(if reasons.is_empty() {
        Ok(volumes)
    } else {
        Err(reasons)
    })
}

/// Whether the bound claims' volumes allow the node, and were all found.
fn check_bound_claims(claims: &PodVolumeClaims, node: &Node) -> (bool, bool) {
    for (_, volume) in &claims.bound {
        let Some(volume) = volume else {
            return (true, false);
        };
        // An invalid affinity excludes the node as a mismatch does.
        if !node_affinity_matches(volume, node).unwrap_or(false) {
            return (false, true);
        }
    }
    (true, true)
}

/// Finds volumes or provisioning for the unbound claims; whether every
/// claim got one.
fn find_unbound(
    claims: &PodVolumeClaims,
    node: &Arc<Node>,
    into: &mut PodVolumes,
) -> Result<bool, String> {
    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    let mut to_match = Vec::new();
    let mut to_provision = Vec::new();
    for claim in &claims.unbound_delay_binding {
        let annotations = claim.metadata.annotations.as_ref();
        match annotations.and_then(|a| a.get(ANN_SELECTED_NODE)) {
            // Already being provisioned for another node.
            Some(selected) if selected != node_name => return Ok(false),
            Some(_) => to_provision.push(claim.clone()),
            None => to_match.push(claim.clone()),
        }
    }
    let mut satisfied = true;
    if !to_match.is_empty() {
        let (found, unmatched) = find_matching_volumes(claims, &to_match, node, into)?;
        satisfied = found;
        to_provision.extend(unmatched);
    }
    if !to_provision.is_empty() {
        // Provisioning may satisfy the claims no volume matched.
        satisfied = check_volume_provisions(claims, &to_provision, node, into)?;
    }
    Ok(satisfied)
}

/// Matches the claims, smallest request first, each to the smallest
/// fitting volume not chosen yet; the claims left unmatched.
fn find_matching_volumes(
    claims: &PodVolumeClaims,
    to_match: &[Arc<PersistentVolumeClaim>],
    node: &Node,
    into: &mut PodVolumes,
) -> Result<(bool, Vec<Arc<PersistentVolumeClaim>>), String> {
    let mut sorted = to_match.to_vec();
    sorted.sort_by_key(|c| requested_storage(c));
    let mut chosen = HashSet::new();
    let mut unmatched = Vec::new();
    for claim in sorted {
        let volumes = claims.volumes_by_class.get(claim_class(&claim));
        let volumes = volumes.map(Vec::as_slice).unwrap_or_default();
        match find_matching_volume(&claim, volumes, node, &chosen)? {
            Some(volume) => {
                chosen.insert(volume.metadata.name.clone().unwrap_or_default());
                into.static_bindings.push(Binding { claim, volume });
            }
            None => unmatched.push(claim),
        }
    }
    Ok((unmatched.is_empty(), unmatched))
}

/// The volume pre-bound to the claim, else the smallest available one of
/// its class that fits it on `node` (upstream's `FindMatchingVolume` on
/// the scheduler's path).
pub(crate) fn find_matching_volume(
    claim: &PersistentVolumeClaim,
    volumes: &[Arc<PersistentVolume>],
    node: &Node,
    excluded: &HashSet<String>,
) -> Result<Option<Arc<PersistentVolume>>, String> {
    let requested = requested_storage(claim);
    let class = claim_class(claim);
    let spec = claim.spec.as_ref();
    let selector = match spec.and_then(|s| s.selector.as_ref()) {
        None => None,
        Some(selector) => Some(
            Selector::from_optional_label_selector(Some(selector)).map_err(|e| {
                format!(
                    "error creating internal label selector for claim: {}: {e}",
                    claim_key(claim)
                )
            })?,
        ),
    };
    let mut smallest: Option<(&Arc<PersistentVolume>, i64)> = None;
    for volume in volumes {
        let name = volume.metadata.name.as_deref().unwrap_or_default();
        let volume_spec = volume.spec.as_ref();
        let claim_ref = volume_spec.and_then(|s| s.claim_ref.as_ref());
        if excluded.contains(name) || (claim_ref.is_some() && !is_bound_to_claim(volume, claim)) {
            continue;
        }
        let capacity = volume_spec.and_then(|s| s.capacity.as_ref()?.get("storage"));
        let capacity = capacity.map_or(0, |q| quantity_bytes(&q.0));
        if capacity < requested
            || volume_mode_mismatch(claim, volume)
            || volume.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        let affinity_ok = node_affinity_matches(volume, node).unwrap_or(false);
        if is_bound_to_claim(volume, claim) {
            // The volume pre-bound to the claim, or none on this node.
            return Ok(affinity_ok.then(|| volume.clone()));
        }
        let phase = volume.status.as_ref().and_then(|s| s.phase.as_deref());
        let labels = volume.metadata.labels.clone().unwrap_or_default();
        if phase != Some("Available")
            || selector.as_ref().is_some_and(|s| !s.matches(&labels))
            || volume_class(volume) != class
            || !affinity_ok
            || !access_modes_fit(claim, volume)
        {
            continue;
        }
        if smallest.is_none_or(|(_, size)| size > capacity) {
            smallest = Some((volume, capacity));
        }
    }
    Ok(smallest.map(|(volume, _)| volume.clone()))
}

/// Whether the volume's `claimRef` names this claim (and its uid, if it
/// says one).
pub(crate) fn is_bound_to_claim(volume: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(claim_ref) = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    let uid = claim_ref.uid.as_deref().unwrap_or_default();
    claim_ref.name == claim.metadata.name
        && claim_ref.namespace == claim.metadata.namespace
        && (uid.is_empty() || Some(uid) == claim.metadata.uid.as_deref())
}

/// Whether claim and volume differ in mode (both default to Filesystem).
fn volume_mode_mismatch(claim: &PersistentVolumeClaim, volume: &PersistentVolume) -> bool {
    let claim_mode = claim.spec.as_ref().and_then(|s| s.volume_mode.as_deref());
    let volume_mode = volume.spec.as_ref().and_then(|s| s.volume_mode.as_deref());
    claim_mode.unwrap_or("Filesystem") != volume_mode.unwrap_or("Filesystem")
}

/// Whether the volume offers every access mode the claim asks for.
fn access_modes_fit(claim: &PersistentVolumeClaim, volume: &PersistentVolume) -> bool {
    let offered = volume.spec.as_ref().and_then(|s| s.access_modes.as_ref());
    let asked = claim.spec.as_ref().and_then(|s| s.access_modes.as_ref());
    asked
        .into_iter()
        .flatten()
        .all(|mode| offered.is_some_and(|o| o.contains(mode)))
}

/// Whether every claim can be provisioned for `node`: its class has a
/// provisioner and its allowed topologies include the node.
fn check_volume_provisions(
    claims: &PodVolumeClaims,
    to_provision: &[Arc<PersistentVolumeClaim>],
    node: &Node,
    into: &mut PodVolumes,
) -> Result<bool, String> {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    for claim in to_provision {
        let class_name = claim_class(claim);
        if class_name.is_empty() {
            return Err(format!("no class for claim {:?}", claim_key(claim)));
        }
        let class = claims.classes.get(class_name).cloned().flatten();
        let class = class.ok_or_else(|| format!("failed to find storage class {class_name:?}"))?;
        let provisioner = class.provisioner.as_str();
        if provisioner.is_empty() || provisioner == NOT_SUPPORTED_PROVISIONER {
            into.dynamic_provisions.clear();
            return Ok(false);
        }
        let terms = class.allowed_topologies.as_deref().unwrap_or_default();
        if !topology_terms_match(terms, &labels) {
            into.dynamic_provisions.clear();
            return Ok(false);
        }
        into.dynamic_provisions.push(claim.clone());
    }
    Ok(true)
}

/// Whether labels match one of the terms (no terms: any labels). A term
/// without requirements, or with a requirement without values, matches
/// nothing.
pub(crate) fn topology_terms_match(
    terms: &[TopologySelectorTerm],
    labels: &std::collections::BTreeMap<String, String>,
) -> bool {
    if terms.is_empty() {
        return true;
    }
    terms.iter().any(|term| {
        let requirements = term.match_label_expressions.as_deref().unwrap_or_default();
        !requirements.is_empty()
            && requirements.iter().all(|r| {
                !r.values.is_empty() && labels.get(&r.key).is_some_and(|v| r.values.contains(v))
            })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::plugins::volume_binding::test_support::{node, pvc};

    /// A change to a test volume's JSON.
    type Change = fn(&mut Value);

    /// Whether a 1Gi volume of class `fast` changed by `change` matches a
    /// claim for 1Gi of `fast` selecting `tier: gold`.
    fn matches(change: impl FnOnce(&mut Value)) -> bool {
        let mut volume = json!({
            "metadata": {"name": "pv", "labels": {"tier": "gold"}},
            "spec": {"storageClassName": "fast", "capacity": {"storage": "1Gi"},
                     "accessModes": ["ReadWriteOnce"]},
            "status": {"phase": "Available"},
        });
        change(&mut volume);
        let volume: PersistentVolume = serde_json::from_value(volume).expect("a volume");
        let claim = pvc(
            "data",
            json!({"storageClassName": "fast", "accessModes": ["ReadWriteOnce"],
                   "resources": {"requests": {"storage": "1Gi"}},
                   "selector": {"matchLabels": {"tier": "gold"}}}),
            json!({}),
        );
        let node = node("n", json!({"zone": "a"}));
        let found = find_matching_volume(&claim, &[Arc::new(volume)], &node, &HashSet::new());
        found.expect("a valid claim").is_some()
    }

    #[test]
    fn an_available_volume_must_fit_the_claim_in_every_respect() {
        assert!(matches(|_| {}));
        let cases: [(&str, Change); 9] = [
            ("too small", |v| {
                v["spec"]["capacity"]["storage"] = json!("512Mi")
            }),
            ("not available", |v| {
                v["status"]["phase"] = json!("Released")
            }),
            ("another class", |v| {
                v["spec"]["storageClassName"] = json!("slow")
            }),
            ("not selected", |v| {
                v["metadata"]["labels"]["tier"] = json!("silver")
            }),
            ("block mode", |v| v["spec"]["volumeMode"] = json!("Block")),
            ("being deleted", |v| {
                v["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z")
            }),
            ("read-only many", |v| {
                v["spec"]["accessModes"] = json!(["ReadOnlyMany"])
            }),
            ("another zone", |v| {
                v["spec"]["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}
                ]}})
            }),
            ("bound elsewhere", |v| {
                v["spec"]["claimRef"] = json!({"name": "other", "namespace": "default"})
            }),
        ];
        for (name, change) in cases {
            assert!(!matches(change), "{name}");
        }
    }

    #[test]
    fn allowed_topologies_need_one_term_all_of_whose_requirements_hold() {
        let terms: Vec<TopologySelectorTerm> = serde_json::from_value(json!([
            {"matchLabelExpressions": [{"key": "zone", "values": ["a", "b"]}, {"key": "rack", "values": ["1"]}]},
            {"matchLabelExpressions": [{"key": "zone", "values": ["c"]}]},
        ]))
        .expect("terms");
        let labels = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(topology_terms_match(&[], &labels(&[])));
        assert!(topology_terms_match(
            &terms,
            &labels(&[("zone", "b"), ("rack", "1")])
        ));
        assert!(topology_terms_match(&terms, &labels(&[("zone", "c")])));
        assert!(!topology_terms_match(&terms, &labels(&[("zone", "a")])));
    }
}
