//! InterPodAffinity's PreFilter, its AddPod/RemovePod extensions and
//! Filter (upstream's `filtering.go`): the topology domains counted once
//! per cycle, then each node judged by its labels alone.

use std::collections::BTreeMap;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::Pod;

use super::{InterPodAffinity, NO_LABELS, TopologyCounts, matches_all_terms, merge_namespaces};
use crate::framework::pod_info::AffinityTerm;
use crate::framework::{
    CycleState, Filter, NodeInfo, PodInfo, PreFilter, PreFilterResult, Snapshot, Status,
};

/// The cycle state key of the PreFilter counts.
const PRE_FILTER_STATE_KEY: &str = "PreFilterInterPodAffinity";

/// Filter's reason when no domain of the node holds a pod the pod's
/// required affinity asks for.
pub const ERR_REASON_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
/// Filter's reason when a domain of the node holds a pod the pod's
/// required anti-affinity refuses.
pub const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't match pod anti-affinity rules";
/// Filter's reason when a pod in a domain of the node refuses the pod.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// What PreFilter computes for Filter.
#[derive(Debug, Clone)]
struct PreFilterState {
    /// The incoming pod's required terms, namespace selectors merged.
    affinity_terms: Arc<Vec<AffinityTerm>>,
    anti_affinity_terms: Arc<Vec<AffinityTerm>>,
    /// The labels of the incoming pod's namespace, which existing pods'
    /// namespace selectors are matched with.
    namespace_labels: Arc<BTreeMap<String, String>>,
    /// Domains with existing pods whose required anti-affinity matches
    /// the incoming pod.
    existing_anti_affinity_counts: TopologyCounts,
    /// Domains with existing pods matching all the incoming pod's
    /// required affinity terms.
    affinity_counts: TopologyCounts,
    /// Domains with existing pods matching one of its required
    /// anti-affinity terms.
    anti_affinity_counts: TopologyCounts,
}

impl PreFilterState {
    /// Counts `other` on `node` (`delta` 1) or stops counting it (-1).
    fn update_with_pod(&mut self, incoming: &Pod, other: &PodInfo, node: &NodeInfo, delta: i64) {
        count_anti_affinity(
            &mut self.existing_anti_affinity_counts,
            &other.required_anti_affinity_terms,
            incoming,
            &self.namespace_labels,
            node,
            delta,
        );
        count_affinity(
            &mut self.affinity_counts,
            &self.affinity_terms,
            &other.pod,
            node,
            delta,
        );
        count_anti_affinity(
            &mut self.anti_affinity_counts,
            &self.anti_affinity_terms,
            &other.pod,
            &NO_LABELS,
            node,
            delta,
        );
    }
}

/// Adds `delta` to the domains of `node` for each of `terms` when `pod`
/// matches them all (upstream's `updateWithAffinityTerms`).
fn count_affinity(
    counts: &mut TopologyCounts,
    terms: &[AffinityTerm],
    pod: &Pod,
    node: &NodeInfo,
    delta: i64,
) {
    if !matches_all_terms(terms, pod) {
        return;
    }
    for term in terms {
        if let Some(value) = node.labels().get(&term.topology_key) {
            counts.add(&term.topology_key, value, delta);
        }
    }
}

/// Adds `delta` to the domains of `node` for each of `terms` that `pod`
/// (in a namespace labelled `namespace_labels`) matches.
fn count_anti_affinity(
    counts: &mut TopologyCounts,
    terms: &[AffinityTerm],
    pod: &Pod,
    namespace_labels: &BTreeMap<String, String>,
    node: &NodeInfo,
    delta: i64,
) {
    for term in terms {
        if !term.matches(pod, namespace_labels) {
            continue;
        }
        if let Some(value) = node.labels().get(&term.topology_key) {
            counts.add(&term.topology_key, value, delta);
        }
    }
}

impl PreFilter for InterPodAffinity {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        listers: &crate::framework::Listers,
    ) -> (Option<PreFilterResult>, Status) {
        if let Some(error) = &pod.parse_error {
            return (None, Status::unresolvable(format!("parsing pod: {error}")));
        }
        let merge = |terms: &[AffinityTerm]| -> Vec<AffinityTerm> {
            terms.iter().map(|t| merge_namespaces(t, listers)).collect()
        };
        let mut computed = PreFilterState {
            affinity_terms: Arc::new(merge(&pod.required_affinity_terms)),
            anti_affinity_terms: Arc::new(merge(&pod.required_anti_affinity_terms)),
            namespace_labels: Arc::new(listers.namespace_labels(pod.namespace())),
            existing_anti_affinity_counts: TopologyCounts::default(),
            affinity_counts: TopologyCounts::default(),
            anti_affinity_counts: TopologyCounts::default(),
        };
        for node in snapshot.have_pods_with_required_anti_affinity() {
            for existing in &node.pods_with_required_anti_affinity {
                count_anti_affinity(
                    &mut computed.existing_anti_affinity_counts,
                    &existing.required_anti_affinity_terms,
                    &pod.pod,
                    &computed.namespace_labels,
                    node,
                    1,
                );
            }
        }
        let own_terms =
            !computed.affinity_terms.is_empty() || !computed.anti_affinity_terms.is_empty();
        if own_terms {
            count_incoming(&mut computed, snapshot);
        }
        if computed.existing_anti_affinity_counts.is_empty() && !own_terms {
            return (None, Status::skip());
        }
        state.write(PRE_FILTER_STATE_KEY, computed);
        (None, Status::success())
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        added: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        update_state(state, pod, added, node, 1)
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        removed: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        update_state(state, pod, removed, node, -1)
    }
}

/// Counts every existing pod against the incoming pod's own terms.
fn count_incoming(computed: &mut PreFilterState, snapshot: &Snapshot) {
    for node in snapshot.nodes() {
        for existing in &node.pods {
            count_affinity(
                &mut computed.affinity_counts,
                &computed.affinity_terms,
                &existing.pod,
                node,
                1,
            );
            count_anti_affinity(
                &mut computed.anti_affinity_counts,
                &computed.anti_affinity_terms,
                &existing.pod,
                &NO_LABELS,
                node,
                1,
            );
        }
    }
}

fn update_state(
    state: &mut CycleState,
    pod: &PodInfo,
    other: &PodInfo,
    node: &NodeInfo,
    delta: i64,
) -> Status {
    match state.read_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
        Some(computed) => {
            computed.update_with_pod(&pod.pod, other, node, delta);
            Status::success()
        }
        None => Status::error(missing_state()),
    }
}

fn missing_state() -> String {
    format!("reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found")
}

impl Filter for InterPodAffinity {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(computed) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Status::error(missing_state());
        };
        if !satisfies_affinity(computed, pod, node) {
            return Status::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
        }
        if !satisfies_anti_affinity(computed, node) {
            return Status::unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
        }
        if !satisfies_existing_anti_affinity(computed, node) {
            return Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);
        }
        Status::success()
    }
}

/// Whether no domain of `node` holds a pod whose anti-affinity refuses the
/// incoming pod.
fn satisfies_existing_anti_affinity(computed: &PreFilterState, node: &NodeInfo) -> bool {
    let labels = node.labels();
    computed
        .existing_anti_affinity_counts
        .domains()
        .all(|(key, values)| {
            labels
                .get(key)
                .is_none_or(|value| values.get(value).copied().unwrap_or(0) <= 0)
        })
}

/// Whether no domain of `node` (by each anti-affinity term's key) holds a
/// pod the incoming pod's anti-affinity refuses.
fn satisfies_anti_affinity(computed: &PreFilterState, node: &NodeInfo) -> bool {
    if computed.anti_affinity_counts.is_empty() {
        return true;
    }
    let labels = node.labels();
    computed.anti_affinity_terms.iter().all(|term| {
        labels
            .get(&term.topology_key)
            .is_none_or(|value| computed.anti_affinity_counts.get(&term.topology_key, value) <= 0)
    })
}

/// Whether `node` has every affinity term's key and each of its domains
/// holds a matching pod; or, when no pod matches anywhere, whether the pod
/// matches its own terms (the first of a group with affinity to itself).
fn satisfies_affinity(computed: &PreFilterState, pod: &PodInfo, node: &NodeInfo) -> bool {
    let labels = node.labels();
    let mut pods_exist = true;
    for term in computed.affinity_terms.iter() {
        let Some(value) = labels.get(&term.topology_key) else {
            return false;
        };
        if computed.affinity_counts.get(&term.topology_key, value) <= 0 {
            pods_exist = false;
        }
    }
    pods_exist
        || (computed.affinity_counts.is_empty()
            && matches_all_terms(&computed.affinity_terms, &pod.pod))
}
