//! One pod's scheduling cycle over a snapshot, as upstream's
//! `schedulePod`: PreFilter, then Filter over the nodes from a rotating
//! start until enough feasible ones are found (the adaptive
//! `percentageOfNodesToScore`), then PreScore and Score, and the highest
//! total wins (ties broken at random). When no node fits, the diagnosis
//! says why each node was rejected and gives upstream's message
//! (`0/3 nodes are available: 1 Insufficient cpu, ...`). It is pure over
//! its inputs: no I/O, no clock.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::framework::runtime::Framework;
use crate::framework::{
    Code, CycleState, Listers, NodeInfo, NodeToStatus, PodInfo, Snapshot, Status,
};

/// Upstream's message when the cluster has no nodes.
pub const NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";

/// The fewest nodes a cycle looks for before it stops filtering.
const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The lowest adaptive percentage.
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;
/// The adaptive percentage at zero nodes, less 1 per 125 nodes.
const BASE_PERCENTAGE_OF_NODES_TO_SCORE: i64 = 50;

/// The node a cycle chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleResult {
    pub node: String,
    /// How many nodes were filtered.
    pub evaluated: usize,
    /// How many of them fit.
    pub feasible: usize,
}

/// Why no node fits: each node's rejection, the plugins that rejected
/// the pod (whose events may make it fit later), and what PreFilter and
/// PostFilter said.
#[derive(Debug, Clone, Default)]
pub struct Diagnosis {
    pub node_to_status: NodeToStatus,
    /// The status of the nodes not in `node_to_status` (left out by a
    /// PreFilter narrowing or failure).
    pub absent_status: Option<Status>,
    pub unschedulable_plugins: BTreeSet<String>,
    pub pending_plugins: BTreeSet<String>,
    pub pre_filter_msg: String,
    pub post_filter_msg: String,
}

/// No node fits the pod.
#[derive(Debug, Clone)]
pub struct FitError {
    pub num_all_nodes: usize,
    pub diagnosis: Diagnosis,
}

impl FitError {
    /// Upstream's message: how many nodes, each reason with how many nodes
    /// gave it (sorted), then what preemption said.
    pub fn message(&self) -> String {
        let mut message = format!("0/{} nodes are available:", self.num_all_nodes);
        let diagnosis = &self.diagnosis;
        if !diagnosis.pre_filter_msg.is_empty() {
            message.push_str(&format!(" {}.", diagnosis.pre_filter_msg));
        } else {
            let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
            for status in diagnosis.node_to_status.values() {
                for reason in status.reasons() {
                    *reasons.entry(reason).or_default() += 1;
                }
            }
            let absent = self
                .num_all_nodes
                .saturating_sub(diagnosis.node_to_status.len());
            if absent > 0 {
                for reason in diagnosis.absent_status.iter().flat_map(|s| s.reasons()) {
                    *reasons.entry(reason).or_default() += absent;
                }
            }
            let mut histogram: Vec<String> = reasons
                .into_iter()
                .map(|(reason, count)| format!("{count} {reason}"))
                .collect();
            histogram.sort();
            if !histogram.is_empty() {
                message.push_str(&format!(" {}.", histogram.join(", ")));
            }
        }
        if !diagnosis.post_filter_msg.is_empty() {
            message.push_str(&format!(
                " {}.",
                diagnosis.post_filter_msg.trim_end_matches('.')
            ));
        }
        message
    }
}

/// Why a cycle chose no node.
#[derive(Debug, Clone)]
pub enum ScheduleError {
    /// No node fits.
    Fit(Box<FitError>),
    /// The cluster has no nodes.
    NoNodes,
    /// A plugin failed (not the pod's fault): retried after backoff.
    Error(Status),
}

/// What a cycle keeps from one to the next: where filtering starts, and
/// the state of its tie-breaking generator.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub next_start: usize,
    pub seed: u64,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            next_start: 0,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

impl Rotation {
    /// A number in `0..n` (xorshift: tie-breaking needs no better).
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed = x;
        (x % n.max(1) as u64) as usize
    }
}

/// How many feasible nodes to find among `all` (upstream's
/// `numFeasibleNodesToFind`): every node up to 100; else the percentage
/// (adaptive when 0: 50% less 1% per 125 nodes, at least 5%), at least 100.
pub fn feasible_nodes_to_find(percentage: Option<i32>, all: usize) -> usize {
    if all < MIN_FEASIBLE_NODES_TO_FIND {
        return all;
    }
    let mut percentage = i64::from(percentage.unwrap_or(0));
    if percentage <= 0 {
        percentage = BASE_PERCENTAGE_OF_NODES_TO_SCORE - all as i64 / 125;
        percentage = percentage.max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
    }
    let count = (all as i64 * percentage / 100) as usize;
    count.max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// The inputs of one cycle.
pub struct Cycle<'a> {
    pub framework: &'a Framework,
    pub snapshot: &'a Snapshot,
    pub listers: &'a Listers,
    /// The scheduler's `percentageOfNodesToScore` (the profile's wins).
    pub percentage: Option<i32>,
}

impl Cycle<'_> {
    /// Chooses a node for `pod`.
    pub fn schedule(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        rotation: &mut Rotation,
    ) -> Result<ScheduleResult, ScheduleError> {
        if self.snapshot.is_empty() {
            return Err(ScheduleError::NoNodes);
        }
        if let Some(error) = &pod.parse_error {
            let status = Status::unresolvable(format!("invalid pod affinity: {error}"));
            return Err(self.pre_filter_failure(status));
        }
        let feasible = self.find_feasible(state, pod, rotation)?;
        let evaluated = feasible.1;
        let feasible = feasible.0;
        if let [only] = feasible.as_slice() {
            return Ok(ScheduleResult {
                node: only.name().to_string(),
                evaluated,
                feasible: 1,
            });
        }
        let scores = self.prioritize(state, pod, &feasible)?;
        let node = select_host(&feasible, &scores, rotation);
        Ok(ScheduleResult {
            node,
            evaluated,
            feasible: feasible.len(),
        })
    }

    /// PreFilter rejected the pod: every node has its status.
    fn pre_filter_failure(&self, status: Status) -> ScheduleError {
        let mut diagnosis = Diagnosis {
            pre_filter_msg: status.message(),
            ..Diagnosis::default()
        };
        for node in self.snapshot.nodes() {
            diagnosis
                .node_to_status
                .insert(node.name().to_string(), status.clone());
        }
        if let Some(plugin) = status.plugin() {
            diagnosis.unschedulable_plugins.insert(plugin.to_string());
        }
        diagnosis.absent_status = Some(status);
        ScheduleError::Fit(Box::new(FitError {
            num_all_nodes: self.snapshot.len(),
            diagnosis,
        }))
    }

    /// The nodes that pass every filter (as many as are wanted), and how
    /// many nodes were looked at.
    fn find_feasible(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        rotation: &mut Rotation,
    ) -> Result<(Vec<Arc<NodeInfo>>, usize), ScheduleError> {
        let (narrowed, status) =
            self.framework
                .run_pre_filter(state, pod, self.snapshot, self.listers);
        match status.code() {
            Code::Success => {}
            Code::Unschedulable | Code::UnschedulableAndUnresolvable | Code::Pending => {
                return Err(self.pre_filter_failure(status));
            }
            _ => return Err(ScheduleError::Error(status)),
        }
        let mut diagnosis = Diagnosis::default();
        // A nominated node (preemption made room there) is tried first.
        if let Some(node) = nominated_node(pod).and_then(|n| self.snapshot.get(n)) {
            let status = self
                .framework
                .run_filter_with_nominated_pods(state, pod, node);
            if status.is_success() {
                return Ok((vec![node.clone()], 1));
            }
        }
        let all = self.snapshot.nodes();
        let narrowed_nodes: Vec<Arc<NodeInfo>>;
        let nodes: &[Arc<NodeInfo>] = match narrowed.and_then(|r| r.node_names) {
            Some(names) => {
                narrowed_nodes = names
                    .iter()
                    .filter_map(|n| self.snapshot.get(n).cloned())
                    .collect();
                diagnosis.absent_status = Some(Status::unresolvable(format!(
                    "node(s) didn't satisfy plugin(s) [{}]",
                    state.narrowing_plugins.join(" ")
                )));
                &narrowed_nodes
            }
            None => all,
        };
        let wanted = feasible_nodes_to_find(
            self.framework
                .percentage_of_nodes_to_score
                .or(self.percentage),
            nodes.len(),
        );
        let mut feasible = Vec::with_capacity(wanted.min(nodes.len()));
        let mut processed = 0;
        let start = if nodes.is_empty() {
            0
        } else {
            rotation.next_start % nodes.len()
        };
        for i in 0..nodes.len() {
            if feasible.len() >= wanted {
                break;
            }
            let node = &nodes[(start + i) % nodes.len()];
            processed += 1;
            let status = self
                .framework
                .run_filter_with_nominated_pods(state, pod, node);
            if status.is_success() {
                feasible.push(node.clone());
                continue;
            }
            if status.code() == Code::Error {
                return Err(ScheduleError::Error(status));
            }
            if let Some(plugin) = status.plugin() {
                let plugins = if status.code() == Code::Pending {
                    &mut diagnosis.pending_plugins
                } else {
                    &mut diagnosis.unschedulable_plugins
                };
                plugins.insert(plugin.to_string());
            }
            diagnosis
                .node_to_status
                .insert(node.name().to_string(), status);
        }
        if !nodes.is_empty() {
            rotation.next_start = (start + processed) % nodes.len();
        }
        if feasible.is_empty() {
            return Err(ScheduleError::Fit(Box::new(FitError {
                num_all_nodes: all.len(),
                diagnosis,
            })));
        }
        Ok((feasible, processed))
    }

    /// Each feasible node's weighted total.
    fn prioritize(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[Arc<NodeInfo>],
    ) -> Result<Vec<i64>, ScheduleError> {
        if !self.framework.has_score() {
            return Ok(vec![1; nodes.len()]);
        }
        let status = self
            .framework
            .run_pre_score(state, pod, nodes, self.snapshot, self.listers);
        if !status.is_success() {
            return Err(ScheduleError::Error(status));
        }
        self.framework
            .run_score(state, pod, nodes)
            .map_err(ScheduleError::Error)
    }
}

/// The node a pod is nominated to by preemption.
pub fn nominated_node(pod: &PodInfo) -> Option<&str> {
    pod.pod
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty())
}

/// The node of the highest score; among equals, one at random (each
/// equally likely, as upstream's reservoir sampling).
fn select_host(nodes: &[Arc<NodeInfo>], scores: &[i64], rotation: &mut Rotation) -> String {
    let mut best = 0;
    let mut ties = 1;
    for i in 1..nodes.len() {
        if scores[i] > scores[best] {
            best = i;
            ties = 1;
        } else if scores[i] == scores[best] {
            ties += 1;
            if rotation.below(ties) == 0 {
                best = i;
            }
        }
    }
    nodes[best].name().to_string()
}

#[cfg(test)]
mod tests;
