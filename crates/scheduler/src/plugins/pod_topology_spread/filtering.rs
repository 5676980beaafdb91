//! PodTopologySpread's PreFilter, its AddPod/RemovePod extensions and
//! Filter (upstream's `filtering.go`): the matching pods of each domain of
//! each `DoNotSchedule` constraint counted once per cycle, with the two
//! least-loaded domains kept, then each node judged by the skew placing
//! the pod there would make.

use std::collections::HashMap;
use std::sync::Arc;

use super::PodTopologySpread;
use super::common::{Constraint, DO_NOT_SCHEDULE, NodeAffinityMatch, count_matching, has_all_keys};
use crate::framework::pod_info::labels;
use crate::framework::{
    CycleState, Filter, Listers, NodeInfo, PodInfo, PreFilter, PreFilterResult, Snapshot, Status,
};

/// The cycle state key of the PreFilter counts.
const PRE_FILTER_STATE_KEY: &str = "PreFilterPodTopologySpread";

/// Filter's reason when placing the pod on the node would skew a
/// constraint's domains by more than its `maxSkew`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// Filter's reason when the node lacks a constraint's topology key.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// The two domains with the fewest matching pods: the first always holds
/// the minimum; the second is no less (though not always the second
/// least), which is enough while preemption removes pods from one node
/// at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CriticalPaths([(String, i64); 2]);

impl CriticalPaths {
    fn new() -> CriticalPaths {
        let unset = (String::new(), i64::from(i32::MAX));
        CriticalPaths([unset.clone(), unset])
    }

    /// Records that domain `value` now holds `count` matching pods.
    fn update(&mut self, value: &str, count: i64) {
        let paths = &mut self.0;
        if let Some(i) = paths.iter().position(|(v, _)| v == value) {
            paths[i].1 = count;
            if paths[0].1 > paths[1].1 {
                paths.swap(0, 1);
            }
        } else if count < paths[0].1 {
            paths[1] = std::mem::replace(&mut paths[0], (value.to_string(), count));
        } else if count < paths[1].1 {
            paths[1] = (value.to_string(), count);
        }
    }

    fn min(&self) -> i64 {
        self.0[0].1
    }
}

/// What PreFilter computes for Filter, per constraint (by index).
#[derive(Debug, Clone)]
struct PreFilterState {
    constraints: Arc<Vec<Constraint>>,
    /// Each constraint's domains (topology values) and their matching pods.
    counts: Vec<HashMap<String, i64>>,
    critical_paths: Vec<CriticalPaths>,
}

impl PreFilterState {
    /// The global minimum of constraint `i` for the skew: 0 while fewer
    /// domains than its `minDomains` exist.
    fn min_match(&self, i: usize, min_domains: i32) -> i64 {
        let domains = self.counts[i].len();
        if (domains as i64) < i64::from(min_domains) {
            return 0;
        }
        self.critical_paths[i].min()
    }

    /// Counts `other` on `node` (`delta` 1) or stops counting it (-1).
    fn update_with_pod(&mut self, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, delta: i64) {
        let Some(node_object) = node.node() else {
            return;
        };
        if other.namespace() != pod.namespace() || !has_all_keys(node.labels(), &self.constraints) {
            return;
        }
        let mut affinity = NodeAffinityMatch::default();
        for (i, c) in self.constraints.iter().enumerate() {
            if !c.selector.matches(labels(&other.pod))
                || !c.includes(&pod.pod, node_object, &mut affinity)
            {
                continue;
            }
            let value = &node.labels()[&c.topology_key];
            let count = self.counts[i].entry(value.clone()).or_insert(0);
            *count += delta;
            let count = *count;
            self.critical_paths[i].update(value, count);
        }
    }
}

/// Counts the matching pods of every domain of `constraints`.
fn count_domains(
    constraints: Arc<Vec<Constraint>>,
    pod: &PodInfo,
    snapshot: &Snapshot,
) -> PreFilterState {
    let mut counts = vec![HashMap::new(); constraints.len()];
    for node in snapshot.nodes() {
        let Some(node_object) = node.node() else {
            continue;
        };
        if !has_all_keys(node.labels(), &constraints) {
            continue;
        }
        let mut affinity = NodeAffinityMatch::default();
        for (i, c) in constraints.iter().enumerate() {
            if !c.includes(&pod.pod, node_object, &mut affinity) {
                continue;
            }
            let value = &node.labels()[&c.topology_key];
            let matching = count_matching(&node.pods, &c.selector, pod.namespace());
            match counts[i].get_mut(value) {
                Some(count) => *count += matching,
                None => {
                    counts[i].insert(value.clone(), matching);
                }
            }
        }
    }
    let critical_paths = counts
        .iter()
        .map(|domains| {
            let mut paths = CriticalPaths::new();
            for (value, count) in domains {
                paths.update(value, *count);
            }
            paths
        })
        .collect();
    PreFilterState {
        constraints,
        counts,
        critical_paths,
    }
}

impl PreFilter for PodTopologySpread {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        let constraints = match self.constraints(&pod.pod, listers, DO_NOT_SCHEDULE) {
            Ok(constraints) => constraints,
            Err(err) => {
                let message = format!("obtaining pod's hard topology spread constraints: {err}");
                return (None, Status::error(message));
            }
        };
        if constraints.is_empty() {
            return (None, Status::skip());
        }
        let computed = count_domains(Arc::new(constraints), pod, snapshot);
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

fn update_state(
    state: &mut CycleState,
    pod: &PodInfo,
    other: &PodInfo,
    node: &NodeInfo,
    delta: i64,
) -> Status {
    match state.read_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
        Some(computed) => {
            computed.update_with_pod(pod, other, node, delta);
            Status::success()
        }
        None => Status::error(missing_state()),
    }
}

fn missing_state() -> String {
    format!("reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found")
}

impl Filter for PodTopologySpread {
    /// Rejects the node when a constraint's domain of it would hold more
    /// than `maxSkew` matching pods beyond the least-loaded domain.
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(computed) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Status::error(missing_state());
        };
        let pod_labels = labels(&pod.pod);
        for (i, c) in computed.constraints.iter().enumerate() {
            let Some(value) = node.labels().get(&c.topology_key) else {
                return Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
            };
            let min = computed.min_match(i, c.min_domains);
            let own = i64::from(c.selector.matches(pod_labels));
            let matching = computed.counts[i].get(value).copied().unwrap_or(0);
            if matching + own - min > i64::from(c.max_skew) {
                return Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
            }
        }
        Status::success()
    }
}
