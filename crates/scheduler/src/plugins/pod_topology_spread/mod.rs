//! The `PodTopologySpread` plugin (upstream's `podtopologyspread`): a
//! pod's topology spread constraints (or the profile's defaults for a pod
//! with none) keep matching pods spread over topology domains, strictly
//! for `DoNotSchedule` ([`filtering`]) and by preference for
//! `ScheduleAnyway` ([`scoring`]). This module owns the arguments and the
//! events that may make a rejected pod fit.

mod common;
mod filtering;
mod scoring;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use keelson_api::field_error::{FieldError, aggregate};
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::api::core::v1::{Node, Pod, TopologySpreadConstraint};
use keelson_api::validation::is_qualified_name;
use serde::Deserialize;

use crate::framework::events::Changed;
use crate::framework::pod_info::labels;
use crate::framework::{
    ActionType, ClusterChange, ClusterEventWithHint, EventResource, Filter, Handle, Listers,
    Plugin, PreFilter, PreScore, QueueingHint, Score,
};
use common::{
    Constraint, DO_NOT_SCHEDULE, LABEL_HOSTNAME, LABEL_ZONE, SCHEDULE_ANYWAY, has_all_keys,
};

/// The plugin's name in configurations.
pub const NAME: &str = "PodTopologySpread";

/// The plugin's arguments (upstream's `PodTopologySpreadArgs`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Args {
    #[serde(default)]
    default_constraints: Vec<TopologySpreadConstraint>,
    defaulting_type: Option<String>,
}

/// The plugin.
pub struct PodTopologySpread {
    /// The constraints of pods that have none of their own.
    defaults: Arc<Vec<TopologySpreadConstraint>>,
    /// Whether they are the system's (hostname and zone, ScheduleAnyway):
    /// then Score does not require nodes to have both keys.
    system_defaulted: bool,
    /// What the queueing hints read the defaults' selectors from.
    listers: Arc<Listers>,
}

/// Upstream's system default constraints.
fn system_defaults() -> Vec<TopologySpreadConstraint> {
    let constraint = |key: &str, max_skew| TopologySpreadConstraint {
        max_skew,
        topology_key: key.to_string(),
        when_unsatisfiable: SCHEDULE_ANYWAY.to_string(),
        ..TopologySpreadConstraint::default()
    };
    vec![constraint(LABEL_HOSTNAME, 3), constraint(LABEL_ZONE, 5)]
}

/// Makes the plugin from its arguments.
pub fn new(args: Option<&serde_json::Value>, handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    let args: Args = match args {
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|err| format!("decoding PodTopologySpreadArgs: {err}"))?,
        None => Args::default(),
    };
    let defaulting = args.defaulting_type.as_deref().unwrap_or("System");
    validate(defaulting, &args.default_constraints)?;
    let system_defaulted = defaulting == "System";
    let defaults = if system_defaulted {
        system_defaults()
    } else {
        args.default_constraints
    };
    Ok(Arc::new(PodTopologySpread {
        defaults: Arc::new(defaults),
        system_defaulted,
        listers: handle.listers.clone(),
    }))
}

/// Upstream's `ValidatePodTopologySpreadArgs`.
fn validate(defaulting: &str, constraints: &[TopologySpreadConstraint]) -> Result<(), String> {
    let root = FieldPath::new("PodTopologySpreadArgs");
    let mut errors = Vec::new();
    let path = root.child("defaultingType");
    if defaulting != "System" && defaulting != "List" {
        errors.push(FieldError::not_supported(
            &path,
            defaulting,
            &["System", "List"],
        ));
    } else if defaulting == "System" && !constraints.is_empty() {
        errors.push(FieldError::invalid(
            &path,
            defaulting,
            "when .defaultConstraints are not empty",
        ));
    }
    let list = root.child("defaultConstraints");
    for (i, c) in constraints.iter().enumerate() {
        let at = list.index(i);
        if c.max_skew <= 0 {
            let detail = "not in valid range (0, inf)";
            errors.push(FieldError::invalid(
                &at.child("maxSkew"),
                c.max_skew,
                detail,
            ));
        }
        let key = at.child("topologyKey");
        if c.topology_key.is_empty() {
            errors.push(FieldError::required(&key, "can not be empty"));
        } else {
            for message in is_qualified_name(&c.topology_key) {
                errors.push(FieldError::invalid(&key, c.topology_key.as_str(), message));
            }
        }
        let when = c.when_unsatisfiable.as_str();
        if when != DO_NOT_SCHEDULE && when != SCHEDULE_ANYWAY {
            let allowed = [DO_NOT_SCHEDULE, SCHEDULE_ANYWAY];
            errors.push(FieldError::not_supported(
                &at.child("whenUnsatisfiable"),
                when,
                &allowed,
            ));
        }
        if c.label_selector.is_some() {
            let detail = "constraint must not define a selector, as they deduced for each pod";
            errors.push(FieldError::forbidden(&at.child("labelSelector"), detail));
        }
        let repeated = constraints[..i].iter().any(|other| {
            other.topology_key == c.topology_key && other.when_unsatisfiable == c.when_unsatisfiable
        });
        if repeated {
            let value = format!("{{{}, {}}}", c.topology_key, c.when_unsatisfiable);
            errors.push(FieldError::duplicate(&at, value));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(aggregate(&errors))
    }
}

impl PodTopologySpread {
    /// The constraints of `pod` for `action`, the defaults' selectors
    /// read from `listers`.
    fn constraints(
        &self,
        pod: &Pod,
        listers: &Listers,
        action: &str,
    ) -> Result<Vec<Constraint>, String> {
        common::pod_constraints(&self.defaults, pod, listers, action)
    }
}

impl Plugin for PodTopologySpread {
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

    /// A pod rejected here may fit once a pod of its namespace that its
    /// constraints select is bound, deleted or relabelled, once it gains a
    /// toleration (for `nodeTaintsPolicy: Honor`), or once a node with its
    /// topology keys comes, goes, or changes those labels or its taints.
    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        let pods = ActionType::ADD
            | ActionType::UPDATE_POD_LABEL
            | ActionType::UPDATE_POD_TOLERATIONS
            | ActionType::DELETE;
        let nodes = ActionType::ADD
            | ActionType::DELETE
            | ActionType::UPDATE_NODE_LABEL
            | ActionType::UPDATE_NODE_TAINT;
        let hint = |f: fn(&Hints, &Pod, &ClusterChange) -> QueueingHint| {
            let hints = Hints {
                defaults: self.defaults.clone(),
                listers: self.listers.clone(),
            };
            move |pod: &Pod, change: &ClusterChange| f(&hints, pod, change)
        };
        Some(vec![
            ClusterEventWithHint::hinted(
                EventResource::AssignedPod,
                pods,
                hint(Hints::after_pod_change),
            ),
            ClusterEventWithHint::hinted(
                EventResource::UnscheduledPod,
                pods,
                hint(Hints::after_pod_change),
            ),
            ClusterEventWithHint::hinted(
                EventResource::Node,
                nodes,
                hint(Hints::after_node_change),
            ),
        ])
    }
}

/// What the queueing hints read: the rejected pod's constraints.
struct Hints {
    defaults: Arc<Vec<TopologySpreadConstraint>>,
    listers: Arc<Listers>,
}

fn changed_pod(changed: Option<&Changed>) -> Option<&Pod> {
    match changed {
        Some(Changed::Pod(pod)) => Some(pod),
        _ => None,
    }
}

fn changed_node(changed: Option<&Changed>) -> Option<&Node> {
    match changed {
        Some(Changed::Node(node)) => Some(node),
        _ => None,
    }
}

fn queue_if(queue: bool) -> QueueingHint {
    if queue {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// Whether a change of `other` can bear on `pod`'s spreading: it is the
/// pod itself, or a bound pod of its namespace.
fn involved(other: &Pod, pod: &Pod) -> bool {
    let bound = other
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    other.metadata.uid == pod.metadata.uid
        || (bound && other.metadata.namespace == pod.metadata.namespace)
}

impl Hints {
    fn constraints(&self, pod: &Pod) -> Result<Vec<Constraint>, String> {
        common::pod_constraints(&self.defaults, pod, &self.listers, DO_NOT_SCHEDULE)
    }

    /// Upstream's `isSchedulableAfterPodChange`.
    fn after_pod_change(&self, pod: &Pod, change: &ClusterChange) -> QueueingHint {
        let old = changed_pod(change.old.as_ref());
        let new = changed_pod(change.new.as_ref());
        if old.is_some_and(|o| !involved(o, pod)) || new.is_some_and(|n| !involved(n, pod)) {
            return QueueingHint::Skip;
        }
        let Ok(constraints) = self.constraints(pod) else {
            return QueueingHint::Queue;
        };
        let selects = |other: &Pod| {
            constraints
                .iter()
                .any(|c| c.selector.matches(labels(other)))
        };
        match (old, new) {
            (Some(old), Some(new)) => {
                let tolerations = |p: &Pod| p.spec.as_ref().map(|s| s.tolerations.clone());
                let honors_taints = constraints.iter().any(|c| c.honor_node_taints);
                if new.metadata.uid == pod.metadata.uid
                    && honors_taints
                    && tolerations(old) != tolerations(new)
                {
                    return QueueingHint::Queue;
                }
                let flips = constraints
                    .iter()
                    .any(|c| c.selector.matches(labels(old)) != c.selector.matches(labels(new)));
                queue_if(labels(old) != labels(new) && flips)
            }
            (Some(other), None) | (None, Some(other)) => queue_if(selects(other)),
            (None, None) => QueueingHint::Queue,
        }
    }

    /// Upstream's `isSchedulableAfterNodeChange`.
    fn after_node_change(&self, pod: &Pod, change: &ClusterChange) -> QueueingHint {
        let Ok(constraints) = self.constraints(pod) else {
            return QueueingHint::Queue;
        };
        let old = changed_node(change.old.as_ref());
        let new = changed_node(change.new.as_ref());
        let node_labels = |n: &Node| n.metadata.labels.clone().unwrap_or_default();
        let matching =
            |n: Option<&Node>| n.is_some_and(|n| has_all_keys(&node_labels(n), &constraints));
        match (old, new) {
            (Some(old), Some(new)) => {
                let (was, is) = (matching(Some(old)), matching(Some(new)));
                if was != is {
                    return QueueingHint::Queue;
                }
                let (old_labels, new_labels) = (node_labels(old), node_labels(new));
                let moved = constraints
                    .iter()
                    .any(|c| old_labels.get(&c.topology_key) != new_labels.get(&c.topology_key));
                let taints = |n: &Node| n.spec.as_ref().and_then(|s| s.taints.clone());
                queue_if(is && (moved || taints(old) != taints(new)))
            }
            (None, Some(node)) | (Some(node), None) => queue_if(matching(Some(node))),
            (None, None) => QueueingHint::Queue,
        }
    }
}
