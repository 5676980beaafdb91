//! What PodTopologySpread's Filter and Score share (upstream's
//! `common.go`): a pod's constraints with their selectors parsed (its own,
//! or the defaults with the selector of the Services and controllers that
//! select it), which nodes a constraint counts, and how pods are counted.

use std::collections::BTreeMap;

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod, Taint, TopologySpreadConstraint};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use keelson_api::label_selector::{Operator, Requirement, Selector};

use crate::framework::node_selector::{
    find_untolerated_taint, pod_matches_node, taints, tolerations,
};
use crate::framework::pod_info::{labels, namespace};
use crate::framework::{Listers, PodInfo};

/// The well-known hostname label, whose domains are single nodes.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// The well-known zone label.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
/// A constraint Filter enforces.
pub const DO_NOT_SCHEDULE: &str = "DoNotSchedule";
/// A constraint Score prefers.
pub const SCHEDULE_ANYWAY: &str = "ScheduleAnyway";

/// A topology spread constraint with its selector parsed and its
/// defaults applied (upstream's `topologySpreadConstraint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Constraint {
    pub max_skew: i32,
    pub topology_key: String,
    pub selector: Selector,
    /// 1 when unset.
    pub min_domains: i32,
    /// Whether only nodes matching the pod's node selector and required
    /// node affinity count (Honor, the default).
    pub honor_node_affinity: bool,
    /// Whether only nodes whose taints the pod tolerates count (Ignore,
    /// the default, counts every node).
    pub honor_node_taints: bool,
}

impl Constraint {
    /// Whether `node` takes part in this constraint's spreading for `pod`
    /// (upstream's `matchNodeInclusionPolicies`). `affinity_matches` is
    /// the pod's node affinity against the node, computed by the caller
    /// once for all constraints.
    pub fn includes(
        &self,
        pod: &Pod,
        node: &Node,
        affinity_matches: &mut NodeAffinityMatch,
    ) -> bool {
        if self.honor_node_affinity && !affinity_matches.get(pod, node) {
            return false;
        }
        if self.honor_node_taints {
            let schedule_blocking = |t: &Taint| t.effect == "NoSchedule" || t.effect == "NoExecute";
            let untolerated =
                find_untolerated_taint(taints(node), tolerations(pod), schedule_blocking);
            if untolerated.is_some() {
                return false;
            }
        }
        true
    }
}

/// A pod's node affinity against one node, computed at most once (and
/// not at all for the common pod that has none).
#[derive(Debug, Default)]
pub(crate) struct NodeAffinityMatch(Option<bool>);

impl NodeAffinityMatch {
    fn get(&mut self, pod: &Pod, node: &Node) -> bool {
        *self
            .0
            .get_or_insert_with(|| !has_node_affinity(pod) || pod_matches_node(pod, node))
    }
}

fn has_node_affinity(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    let selector = spec.node_selector.as_ref().is_some_and(|s| !s.is_empty());
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .is_some_and(|a| {
            a.required_during_scheduling_ignored_during_execution
                .is_some()
        });
    selector || required
}

/// The constraints among `constraints` for `action` (`DoNotSchedule` or
/// `ScheduleAnyway`), with the values of their `matchLabelKeys` taken from
/// `pod_labels` into their selectors.
pub(crate) fn filter_constraints(
    constraints: &[TopologySpreadConstraint],
    pod_labels: &BTreeMap<String, String>,
    action: &str,
) -> Result<Vec<Constraint>, String> {
    let mut result = Vec::new();
    for c in constraints
        .iter()
        .filter(|c| c.when_unsatisfiable == action)
    {
        let mut selector = Selector::from_optional_label_selector(c.label_selector.as_ref())
            .map_err(|err| err.to_string())?;
        let keys = c.match_label_keys.as_deref().unwrap_or_default();
        let pinned: BTreeMap<String, String> = keys
            .iter()
            .filter_map(|key| Some((key.clone(), pod_labels.get(key)?.clone())))
            .collect();
        if !pinned.is_empty() && selector != Selector::nothing() {
            selector = and(&set_selector(&pinned)?, &selector);
        }
        result.push(Constraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: c.min_domains.unwrap_or(1),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_node_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        });
    }
    Ok(result)
}

/// The selector requiring every label of `set`.
fn set_selector(set: &BTreeMap<String, String>) -> Result<Selector, String> {
    let requirements = set
        .iter()
        .map(|(key, value)| Requirement::new(key, Operator::Equals, vec![value.clone()]))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| err.to_string())?;
    Ok(Selector::from_requirements(requirements))
}

/// Both selectors' requirements at once (a selector matching nothing
/// adds none, as upstream's `Requirements()` reports none for it).
fn and(a: &Selector, b: &Selector) -> Selector {
    let both = a.requirements().iter().chain(b.requirements()).cloned();
    Selector::from_requirements(both.collect())
}

/// The default constraints for `action` of a pod with none of its own,
/// selecting what its Services and controller select (none when nothing
/// selects it).
pub(crate) fn default_constraints(
    defaults: &[TopologySpreadConstraint],
    pod: &Pod,
    listers: &Listers,
    action: &str,
) -> Result<Vec<Constraint>, String> {
    let mut constraints = filter_constraints(defaults, labels(pod), action)?;
    if constraints.is_empty() {
        return Ok(constraints);
    }
    let selector = default_selector(pod, listers);
    if selector.is_everything() {
        return Ok(Vec::new());
    }
    for c in &mut constraints {
        c.selector = selector.clone();
    }
    Ok(constraints)
}

/// The constraints of `pod` for `action`: its own, or the defaults when it
/// has none.
pub(crate) fn pod_constraints(
    defaults: &[TopologySpreadConstraint],
    pod: &Pod,
    listers: &Listers,
    action: &str,
) -> Result<Vec<Constraint>, String> {
    let own = pod
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_deref())
        .unwrap_or_default();
    if own.is_empty() {
        default_constraints(defaults, pod, listers, action)
    } else {
        filter_constraints(own, labels(pod), action)
    }
}

/// What the Services selecting `pod` select, with what its controlling
/// ReplicationController, ReplicaSet or StatefulSet selects (upstream's
/// `helper.DefaultSelector`).
pub(crate) fn default_selector(pod: &Pod, listers: &Listers) -> Selector {
    let ns = namespace(pod);
    let mut set = BTreeMap::new();
    for service in listers.services.list() {
        if service.metadata.namespace.as_deref().unwrap_or("default") != ns {
            continue;
        }
        // A Service without a selector selects nothing, not everything.
        let Some(selector) = service.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
            continue;
        };
        if selector.iter().all(|(k, v)| labels(pod).get(k) == Some(v)) {
            set.extend(selector.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    let services = set_selector(&set).unwrap_or_else(|_| Selector::everything());
    let owners = pod.metadata.owner_references.iter().flatten();
    let Some(owner) = owners.into_iter().find(|o| o.controller == Some(true)) else {
        return services;
    };
    let parsed = |s: &LabelSelector| Selector::from_label_selector(s).ok();
    let owned = match (owner.api_version.as_str(), owner.kind.as_str()) {
        ("v1", "ReplicationController") => {
            let rc = listers.replication_controllers.get(Some(ns), &owner.name);
            let selector = rc.and_then(|rc| rc.spec.as_ref()?.selector.clone());
            if let Some(selector) = selector {
                set.extend(selector);
                return set_selector(&set).unwrap_or(services);
            }
            None
        }
        ("apps/v1", "ReplicaSet") => listers
            .replica_sets
            .get(Some(ns), &owner.name)
            .and_then(|rs| parsed(&rs.spec.as_ref()?.selector)),
        ("apps/v1", "StatefulSet") => listers
            .stateful_sets
            .get(Some(ns), &owner.name)
            .and_then(|ss| parsed(&ss.spec.as_ref()?.selector)),
        _ => None,
    };
    match owned {
        Some(owned) => and(&services, &owned),
        None => services,
    }
}

/// Whether `labels` has every constraint's topology key.
pub(crate) fn has_all_keys(labels: &BTreeMap<String, String>, constraints: &[Constraint]) -> bool {
    constraints
        .iter()
        .all(|c| labels.contains_key(&c.topology_key))
}

/// How many of `pods` in `namespace` and not terminating `selector`
/// selects; a selector of no requirements counts none, as upstream's.
pub(crate) fn count_matching(
    pods: &[std::sync::Arc<PodInfo>],
    selector: &Selector,
    ns: &str,
) -> i64 {
    if selector.is_everything() {
        return 0;
    }
    let counted = pods.iter().filter(|p| {
        p.pod.metadata.deletion_timestamp.is_none()
            && p.namespace() == ns
            && selector.matches(labels(&p.pod))
    });
    counted.count() as i64
}
