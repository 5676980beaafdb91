//! The `InterPodAffinity` plugin (upstream's `interpodaffinity`): a pod's
//! required affinity and anti-affinity to other pods, and existing pods'
//! required anti-affinity to it, decide where it may run
//! ([`filtering`]); preferred terms of both sides, and existing pods'
//! required affinity weighted by `hardPodAffinityWeight`, rank the nodes
//! ([`scoring`]). This module owns the arguments, the topology counts both
//! halves keep, and the events that may make a rejected pod fit.

mod filtering;
mod scoring;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use keelson_api::field_error::{FieldError, aggregate};
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::api::core::v1::{Node, Pod, PodAffinityTerm};
use keelson_api::label_selector::Selector;
use serde::Deserialize;

use crate::framework::events::Changed;
use crate::framework::pod_info::AffinityTerm;
use crate::framework::{
    ActionType, ClusterChange, ClusterEventWithHint, EventResource, Filter, Handle, Listers,
    Plugin, PreFilter, PreScore, QueueingHint, Score,
};

/// The plugin's name in configurations.
pub const NAME: &str = "InterPodAffinity";

/// The default `hardPodAffinityWeight`.
pub const DEFAULT_HARD_POD_AFFINITY_WEIGHT: i32 = 1;

/// The plugin's arguments (upstream's `InterPodAffinityArgs`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Args {
    hard_pod_affinity_weight: Option<i32>,
    #[serde(default)]
    ignore_preferred_terms_of_existing_pods: bool,
}

/// The plugin.
pub struct InterPodAffinity {
    /// The score an existing pod's required affinity term gives the
    /// domains of its node when the incoming pod matches it.
    hard_pod_affinity_weight: i32,
    /// Whether existing pods' preferred terms are left out of scoring when
    /// the incoming pod has no preferred terms of its own.
    ignore_preferred_terms_of_existing_pods: bool,
}

/// Makes the plugin from its arguments.
pub fn new(args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    let args: Args = match args {
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|err| format!("decoding InterPodAffinityArgs: {err}"))?,
        None => Args::default(),
    };
    let weight = args
        .hard_pod_affinity_weight
        .unwrap_or(DEFAULT_HARD_POD_AFFINITY_WEIGHT);
    if !(0..=100).contains(&weight) {
        let path = FieldPath::new("InterPodAffinityArgs").child("hardPodAffinityWeight");
        let error = FieldError::invalid(&path, weight, "not in valid range [0, 100]");
        return Err(aggregate(&[error]));
    }
    Ok(Arc::new(InterPodAffinity {
        hard_pod_affinity_weight: weight,
        ignore_preferred_terms_of_existing_pods: args.ignore_preferred_terms_of_existing_pods,
    }))
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &str {
        NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilter> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }

    fn as_pre_score(&self) -> Option<&dyn PreScore> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn Score> {
        Some(self)
    }

    /// A pod rejected here may fit once a bound pod matching its affinity
    /// appears (or is relabelled to match), once one matching its
    /// anti-affinity goes (or is relabelled not to match), or once a node
    /// with one of its topology keys appears.
    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        let pods = ActionType::ADD | ActionType::UPDATE_POD_LABEL | ActionType::DELETE;
        let nodes = ActionType::ADD | ActionType::UPDATE_NODE_LABEL;
        Some(vec![
            ClusterEventWithHint::hinted(EventResource::AssignedPod, pods, hint_after_pod_change),
            ClusterEventWithHint::hinted(EventResource::Node, nodes, hint_after_node_change),
        ])
    }
}

/// Counts per topology domain (key, then value), kept without zero
/// entries so that "no domain counted" is an empty map. Nested maps let
/// Filter and Score look up a node's labels without building keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TopologyCounts(HashMap<String, HashMap<String, i64>>);

impl TopologyCounts {
    /// Adds `delta` to the domain `key`=`value`.
    fn add(&mut self, key: &str, value: &str, delta: i64) {
        let values = match self.0.get_mut(key) {
            Some(values) => values,
            None => self.0.entry(key.to_string()).or_default(),
        };
        let count = match values.get_mut(value) {
            Some(count) => count,
            None => values.entry(value.to_string()).or_insert(0),
        };
        *count += delta;
        if *count == 0 {
            values.remove(value);
            if values.is_empty() {
                self.0.remove(key);
            }
        }
    }

    /// The count of the domain `key`=`value` (0 when not counted).
    fn get(&self, key: &str, value: &str) -> i64 {
        self.0
            .get(key)
            .and_then(|values| values.get(value))
            .copied()
            .unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every counted domain, for scoring a node by its labels.
    fn domains(&self) -> impl Iterator<Item = (&String, &HashMap<String, i64>)> {
        self.0.iter()
    }
}

/// No labels: what the incoming pod's own terms are matched with once
/// their namespace selectors are merged into their namespaces.
static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// Whether `pod` matches every one of `terms` (none: false), with the
/// terms' namespace selectors already merged.
pub(crate) fn matches_all_terms(terms: &[AffinityTerm], pod: &Pod) -> bool {
    !terms.is_empty() && terms.iter().all(|term| term.matches(pod, &NO_LABELS))
}

/// The incoming pod's term with the namespaces its namespace selector
/// selects added to its namespaces, so that matching an existing pod needs
/// no look-up of that pod's namespace labels. A selector selecting every
/// namespace is kept as it is (it matches whatever the labels).
pub(crate) fn merge_namespaces(term: &AffinityTerm, listers: &Listers) -> AffinityTerm {
    let mut merged = term.clone();
    let selector = &term.namespace_selector;
    if selector.is_everything() || *selector == Selector::nothing() {
        return merged;
    }
    for namespace in listers.namespaces.list() {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        let labels = namespace.metadata.labels.as_ref().unwrap_or(&NONE);
        if selector.matches(labels) {
            let name = namespace.metadata.name.clone().unwrap_or_default();
            merged.namespaces.insert(name);
        }
    }
    merged.namespace_selector = Selector::nothing();
    merged
}

/// The terms of `pod`'s required pod affinity (`anti`: anti-affinity),
/// parsed as upstream's hints parse them (namespace selectors unmerged).
fn required_terms(pod: &Pod, anti: bool) -> Result<Vec<AffinityTerm>, String> {
    let affinity = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
    let terms: Option<&Vec<PodAffinityTerm>> = if anti {
        affinity
            .and_then(|a| a.pod_anti_affinity.as_ref())
            .and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
    } else {
        affinity
            .and_then(|a| a.pod_affinity.as_ref())
            .and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
    };
    terms
        .into_iter()
        .flatten()
        .map(|term| AffinityTerm::new(pod, term))
        .collect()
}

fn changed_pod(changed: Option<&Changed>) -> Option<&Pod> {
    match changed {
        Some(Changed::Pod(pod)) => Some(pod),
        _ => None,
    }
}

fn is_unbound(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_none_or(str::is_empty)
}

/// Upstream's `isSchedulableAfterPodChange`: a bound pod added or
/// relabelled to match all of `pod`'s affinity terms, or deleted or
/// relabelled away from all of its anti-affinity terms.
fn hint_after_pod_change(pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let old = changed_pod(change.old.as_ref());
    let new = changed_pod(change.new.as_ref());
    if old.is_some_and(is_unbound) || new.is_some_and(is_unbound) {
        return QueueingHint::Skip;
    }
    let (Ok(terms), Ok(anti_terms)) = (required_terms(pod, false), required_terms(pod, true))
    else {
        return QueueingHint::Queue;
    };
    let matches = |terms: &[AffinityTerm], other: &Pod| {
        !terms.is_empty() && terms.iter().all(|t| t.matches(other, &NO_LABELS))
    };
    let queue = match (old, new) {
        (Some(old), Some(new)) => {
            (!matches(&terms, old) && matches(&terms, new))
                || (matches(&anti_terms, old) && !matches(&anti_terms, new))
        }
        (None, Some(new)) => matches(&terms, new),
        (Some(old), None) => matches(&anti_terms, old),
        (None, None) => true,
    };
    if queue {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// Upstream's `isSchedulableAfterNodeChange`: a node added or relabelled
/// with a topology key of one of `pod`'s required terms.
fn hint_after_node_change(pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let Some(node) = change.new_node() else {
        return QueueingHint::Queue;
    };
    let (Ok(terms), Ok(anti_terms)) = (required_terms(pod, false), required_terms(pod, true))
    else {
        return QueueingHint::Queue;
    };
    let has_key = |term: &AffinityTerm| node_label(node, &term.topology_key).is_some();
    if terms.iter().chain(&anti_terms).any(has_key) {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

fn node_label<'a>(node: &'a Node, key: &str) -> Option<&'a String> {
    node.metadata.labels.as_ref().and_then(|l| l.get(key))
}
