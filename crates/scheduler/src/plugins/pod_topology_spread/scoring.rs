//! PodTopologySpread's PreScore, Score and Normalize (upstream's
//! `scoring.go`): each `ScheduleAnyway` constraint's domains among the
//! filtered nodes counted once, a node scored by the matching pods of its
//! domains (weighted by `log(domains + 2)`, so small topologies are not
//! drowned by big ones), then the scores reversed and scaled: the fewer
//! matching pods, the higher.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::PodTopologySpread;
use super::common::{
    Constraint, LABEL_HOSTNAME, NodeAffinityMatch, SCHEDULE_ANYWAY, count_matching, has_all_keys,
};
use crate::framework::{
    CycleState, Listers, MAX_NODE_SCORE, NodeInfo, NodeScore, PodInfo, PreScore, Score, Snapshot,
    Status,
};

/// The cycle state key of the PreScore counts.
const PRE_SCORE_STATE_KEY: &str = "PreScorePodTopologySpread";

/// What PreScore computes for Score, per constraint (by index).
#[derive(Debug, Clone)]
struct PreScoreState {
    constraints: Arc<Vec<Constraint>>,
    /// The filtered nodes lacking a topology key: they score 0.
    ignored_nodes: Arc<HashSet<String>>,
    /// Each constraint's domains among the filtered nodes and their
    /// matching pods (the hostname's are counted by Score, node by node).
    counts: Arc<Vec<HashMap<String, i64>>>,
    /// `log(domains + 2)` of each constraint.
    weights: Arc<Vec<f64>>,
}

impl PodTopologySpread {
    /// The constraints' domains among `filtered` (upstream's
    /// `initPreScoreState`), their matching pods not yet counted.
    fn init_state(
        &self,
        constraints: Vec<Constraint>,
        filtered: &[Arc<NodeInfo>],
        require_all: bool,
    ) -> PreScoreState {
        let mut ignored = HashSet::new();
        let mut counts = vec![HashMap::new(); constraints.len()];
        for node in filtered {
            if require_all && !has_all_keys(node.labels(), &constraints) {
                ignored.insert(node.name().to_string());
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == LABEL_HOSTNAME {
                    continue;
                }
                let value = node
                    .labels()
                    .get(&c.topology_key)
                    .map_or("", String::as_str);
                if !counts[i].contains_key(value) {
                    counts[i].insert(value.to_string(), 0_i64);
                }
            }
        }
        let weights = constraints
            .iter()
            .zip(&counts)
            .map(|(c, domains)| {
                let size = if c.topology_key == LABEL_HOSTNAME {
                    filtered.len() - ignored.len()
                } else {
                    domains.len()
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        PreScoreState {
            constraints: Arc::new(constraints),
            ignored_nodes: Arc::new(ignored),
            counts: Arc::new(counts),
            weights: Arc::new(weights),
        }
    }
}

impl PreScore for PodTopologySpread {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        filtered: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
        listers: &Listers,
    ) -> Status {
        if snapshot.is_empty() {
            return Status::skip();
        }
        let constraints = match self.constraints(&pod.pod, listers, SCHEDULE_ANYWAY) {
            Ok(constraints) => constraints,
            Err(err) => {
                return Status::error(format!(
                    "calculating preScoreState: obtaining pod's soft topology spread constraints: {err}"
                ));
            }
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        // Only the pod's own constraints or configured defaults need every
        // key: the system defaults still spread over hostnames on nodes
        // without a zone.
        let own = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_ref())
            .is_some_and(|c| !c.is_empty());
        let require_all = own || !self.system_defaulted;
        let mut computed = self.init_state(constraints, filtered, require_all);
        let mut counts = Arc::unwrap_or_clone(std::mem::take(&mut computed.counts));
        for node in snapshot.nodes() {
            count_node(&computed.constraints, &mut counts, pod, node, require_all);
        }
        computed.counts = Arc::new(counts);
        state.write(PRE_SCORE_STATE_KEY, computed);
        Status::success()
    }
}

/// Adds the matching pods of `node` to the domains of it that a filtered
/// node shares.
fn count_node(
    constraints: &[Constraint],
    counts: &mut [HashMap<String, i64>],
    pod: &PodInfo,
    node: &NodeInfo,
    require_all: bool,
) {
    let Some(node_object) = node.node() else {
        return;
    };
    if require_all && !has_all_keys(node.labels(), constraints) {
        return;
    }
    let mut affinity = NodeAffinityMatch::default();
    for (i, c) in constraints.iter().enumerate() {
        if !c.includes(&pod.pod, node_object, &mut affinity) {
            continue;
        }
        let value = node
            .labels()
            .get(&c.topology_key)
            .map_or("", String::as_str);
        if let Some(count) = counts[i].get_mut(value) {
            *count += count_matching(&node.pods, &c.selector, pod.namespace());
        }
    }
}

fn read_state(state: &CycleState) -> Result<&PreScoreState, Status> {
    state
        .read::<PreScoreState>(PRE_SCORE_STATE_KEY)
        .ok_or_else(|| {
            Status::error(format!(
                "error reading {PRE_SCORE_STATE_KEY:?} from cycleState: not found"
            ))
        })
}

impl Score for PodTopologySpread {
    /// The matching pods of the node's domains, each constraint's weighted
    /// by its topology's size, plus `maxSkew - 1` to tolerate small skews.
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let computed = read_state(state)?;
        if computed.ignored_nodes.contains(node.name()) {
            return Ok(0);
        }
        let mut score = 0.0;
        for (i, c) in computed.constraints.iter().enumerate() {
            let Some(value) = node.labels().get(&c.topology_key) else {
                continue;
            };
            let count = if c.topology_key == LABEL_HOSTNAME {
                count_matching(&node.pods, &c.selector, pod.namespace())
            } else {
                computed.counts[i].get(value).copied().unwrap_or(0)
            };
            score += count as f64 * computed.weights[i] + f64::from(c.max_skew - 1);
        }
        Ok(score.round() as i64)
    }

    /// Reverses and scales the scores: the lowest gets 100; ignored nodes
    /// get 0.
    fn normalize(&self, state: &CycleState, _pod: &PodInfo, scores: &mut [NodeScore]) -> Status {
        let computed = match read_state(state) {
            Ok(computed) => computed,
            Err(status) => return status,
        };
        let counted = || {
            scores
                .iter()
                .filter(|s| !computed.ignored_nodes.contains(&s.name))
                .map(|s| s.score)
        };
        let min = counted().min().unwrap_or(i64::MAX);
        let max = counted().max().unwrap_or(0).max(0);
        for score in scores.iter_mut() {
            score.score = if computed.ignored_nodes.contains(&score.name) {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - score.score) / max
            };
        }
        Status::success()
    }
}
