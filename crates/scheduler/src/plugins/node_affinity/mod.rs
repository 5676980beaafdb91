//! The `NodeAffinity` plugin: a pod fits only nodes matching its
//! `nodeSelector` and required node affinity (and the profile's
//! scheduler-enforced `addedAffinity`), and prefers nodes matching its
//! preferred terms, as upstream's `nodeaffinity` plugin. Selectors are
//! parsed once per cycle (PreFilter, PreScore) or once per profile (the
//! arguments); Filter and Score only match.

mod args;
mod selector;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::sync::Arc;

use keelson_api::field_error::aggregate;
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::api::core::v1::{NodeSelector, Pod};

use crate::framework::events::ClusterChange;
use crate::framework::{
    ActionType, ClusterEventWithHint, Code, CycleState, EventResource, Filter, Handle, Listers,
    MAX_NODE_SCORE, NodeInfo, NodeScore, Plugin, PodInfo, PreFilter, PreFilterResult, PreScore,
    QueueingHint, Score, Snapshot, Status,
};

pub use selector::{PreferredTerms, RequiredNodeAffinity, Selector};

/// The plugin's name in configurations.
pub const NAME: &str = "NodeAffinity";

/// Why a node not matching the pod's selector or affinity is rejected.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";

/// Why a node not matching the profile's `addedAffinity` is rejected.
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";

/// Why a pod whose terms name no node at all is rejected.
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

const PRE_FILTER_STATE_KEY: &str = "PreFilterNodeAffinity";
const PRE_SCORE_STATE_KEY: &str = "PreScoreNodeAffinity";

/// What Filter matches, parsed in PreFilter; other pods do not change it.
#[derive(Clone)]
struct PreFilterState(Arc<RequiredNodeAffinity>);

/// The pod's preferred terms, parsed in PreScore (none: the field is unset).
#[derive(Clone)]
struct PreScoreState(Option<Arc<PreferredTerms>>);

/// The plugin, with the profile's added affinity parsed.
pub struct NodeAffinity {
    added_selector: Option<Arc<Selector>>,
    added_preferred: Option<PreferredTerms>,
}

impl Plugin for NodeAffinity {
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

    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        let added = self.added_selector.clone();
        Some(vec![ClusterEventWithHint::hinted(
            EventResource::Node,
            ActionType::ADD | ActionType::UPDATE_NODE_LABEL,
            move |pod, change| after_node_change(added.as_deref(), pod, change),
        )])
    }
}

impl PreFilter for NodeAffinity {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
        _listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        let required = selector::required_terms(&pod.pod);
        let has_node_selector = pod
            .pod
            .spec
            .as_ref()
            .is_some_and(|s| s.node_selector.is_some());
        if required.is_none() && self.added_selector.is_none() && !has_node_selector {
            return (None, Status::skip());
        }
        let parsed = RequiredNodeAffinity::of(&pod.pod);
        state.write(PRE_FILTER_STATE_KEY, PreFilterState(Arc::new(parsed)));
        match required.map(named_nodes) {
            Some(Some(names)) if names.is_empty() => {
                (None, Status::unresolvable(ERR_REASON_CONFLICT))
            }
            Some(Some(names)) => (Some(PreFilterResult::only(names)), Status::success()),
            _ => (None, Status::success()),
        }
    }
}

/// The nodes the required terms can only be, when every term names its
/// nodes by `metadata.name In` (terms are ORed, a term's requirements
/// ANDed); `None` when some term may match any node.
fn named_nodes(required: &NodeSelector) -> Option<BTreeSet<String>> {
    if required.node_selector_terms.is_empty() {
        return None;
    }
    let mut names = BTreeSet::new();
    for term in &required.node_selector_terms {
        let by_name = term
            .match_fields
            .iter()
            .flatten()
            .filter(|r| r.key == selector::OBJECT_NAME_FIELD && r.operator == "In");
        let mut term_names: Option<BTreeSet<String>> = None;
        for requirement in by_name {
            let values: BTreeSet<String> = requirement.values.iter().flatten().cloned().collect();
            term_names = Some(match term_names {
                None => values,
                Some(before) => before.intersection(&values).cloned().collect(),
            });
        }
        names.extend(term_names?);
    }
    Some(names)
}

impl Filter for NodeAffinity {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(node) = node.node() else {
            return Status::error("node not found");
        };
        if let Some(added) = &self.added_selector
            && !added.matches(node).unwrap_or(false)
        {
            return Status::unresolvable(ERR_REASON_ENFORCED);
        }
        let fallback;
        let required = match state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Some(PreFilterState(parsed)) => parsed.as_ref(),
            None => {
                // PreFilter disabled in this profile: parse here.
                fallback = RequiredNodeAffinity::of(&pod.pod);
                &fallback
            }
        };
        match required.matches(node) {
            Ok(true) => Status::success(),
            Ok(false) => Status::unresolvable(ERR_REASON_POD),
            // Upstream drops the parse error; it is kept as a second reason
            // so that the user reads why the term matches nothing.
            Err(error) => Status::new(
                Code::UnschedulableAndUnresolvable,
                [
                    ERR_REASON_POD.to_string(),
                    format!("invalid node affinity: {error}"),
                ],
            ),
        }
    }
}

impl PreScore for NodeAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[Arc<NodeInfo>],
        _snapshot: &Snapshot,
        _listers: &Listers,
    ) -> Status {
        let preferred = match pod_preferred(&pod.pod) {
            Ok(preferred) => preferred,
            Err(error) => return Status::error(error),
        };
        if preferred.is_none() && self.added_preferred.is_none() {
            return Status::skip();
        }
        state.write(PRE_SCORE_STATE_KEY, PreScoreState(preferred.map(Arc::new)));
        Status::success()
    }
}

/// The pod's preferred terms parsed, if it has the field.
fn pod_preferred(pod: &Pod) -> Result<Option<PreferredTerms>, String> {
    selector::preferred_terms(pod)
        .map(|terms| PreferredTerms::parse(terms, &FieldPath::root()).map_err(|e| aggregate(&e)))
        .transpose()
}

impl Score for NodeAffinity {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let Some(node) = node.node() else {
            return Err(Status::error("node not found"));
        };
        let added = self.added_preferred.as_ref().map_or(0, |p| p.score(node));
        let own = match state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) {
            Some(PreScoreState(preferred)) => preferred.as_ref().map_or(0, |p| p.score(node)),
            // PreScore disabled in this profile: parse here.
            None => pod_preferred(&pod.pod)
                .map_err(Status::error)?
                .map_or(0, |p| p.score(node)),
        };
        Ok(added + own)
    }

    fn normalize(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [NodeScore]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, false, scores)
    }
}

/// Scales `scores` so the highest becomes `max` (integer division, as
/// upstream's `helper.DefaultNormalizeScore`), then, when `reverse`,
/// turns each into `max` minus itself. All zero: all stay 0, or all
/// become `max` when reversed.
pub fn default_normalize_score(max: i64, reverse: bool, scores: &mut [NodeScore]) -> Status {
    let highest = scores.iter().map(|s| s.score).max().unwrap_or(0).max(0);
    for score in scores.iter_mut() {
        let scaled = match highest {
            0 => 0,
            _ => max * score.score / highest,
        };
        score.score = if reverse { max - scaled } else { scaled };
    }
    Status::success()
}

/// A node added, or relabelled from not matching to matching, may take
/// the pod; one outside the profile's added affinity never does.
fn after_node_change(added: Option<&Selector>, pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let Some(node) = change.new_node() else {
        return QueueingHint::Queue;
    };
    if added.is_some_and(|a| !a.matches(node).unwrap_or(false)) {
        return QueueingHint::Skip;
    }
    let required = RequiredNodeAffinity::of(pod);
    match required.matches(node) {
        Ok(true) => {}
        Ok(false) => return QueueingHint::Skip,
        Err(_) => return QueueingHint::Queue,
    }
    match change.old_node().map(|old| required.matches(old)) {
        Some(Ok(true)) => QueueingHint::Skip,
        _ => QueueingHint::Queue,
    }
}

/// Makes the plugin from its arguments (`NodeAffinityArgs`).
pub fn new(args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    let args = args::NodeAffinityArgs::parse(args)?;
    Ok(Arc::new(NodeAffinity {
        added_selector: args.required.map(Arc::new),
        added_preferred: args.preferred,
    }))
}
