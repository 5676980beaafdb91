//! The dry run of preemption over the nodes where it may help (upstream's
//! `DryRunPreemption`): from a starting offset, each node is tried on a
//! copy of itself and of the cycle state, until enough candidates are
//! found; and the message when none is, built as upstream's `FitError`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::framework::runtime::Framework;
use crate::framework::{Code, CycleState, NodeInfo, PodInfo, Status};

use super::victims::{Budget, OnNode};

/// What the dry run works with.
pub struct Input<'a> {
    pub framework: &'a Framework,
    pub state: &'a CycleState,
    pub pod: &'a PodInfo,
    pub budgets: &'a [Budget],
}

/// A node where the preemptor fits once `victims` are gone.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub node: String,
    /// Most important first.
    pub victims: Vec<Arc<PodInfo>>,
    pub pdb_violations: usize,
}

/// What the dry run found: the candidates (those violating no budget
/// first), and why each other node tried is not one.
#[derive(Debug, Default)]
pub struct DryRun {
    pub candidates: Vec<Candidate>,
    pub statuses: Vec<(String, Status)>,
    /// The messages of the statuses that are errors.
    pub errors: Vec<String>,
}

/// Tries `nodes` from `offset` on, stopping once `wanted` candidates are
/// found of which at least one violates no budget; at most `wanted` of
/// each kind are kept, as upstream's bounded candidate lists.
pub fn dry_run(
    input: &Input<'_>,
    nodes: &[&Arc<NodeInfo>],
    offset: usize,
    wanted: usize,
) -> DryRun {
    let on_node = OnNode {
        framework: input.framework,
        pod: input.pod,
        budgets: input.budgets,
    };
    let mut clean = Vec::new();
    let mut violating = Vec::new();
    let mut run = DryRun::default();
    for i in 0..nodes.len() {
        let node = nodes[(offset + i) % nodes.len()];
        let name = node.name().to_string();
        let mut copy = NodeInfo::clone(node);
        let mut state = input.state.clone();
        match on_node.select(&mut state, &mut copy) {
            Ok(victims) if !victims.pods.is_empty() => {
                let kind = if victims.pdb_violations == 0 {
                    &mut clean
                } else {
                    &mut violating
                };
                if kind.len() < wanted {
                    kind.push(Candidate {
                        node: name,
                        victims: victims.pods,
                        pdb_violations: victims.pdb_violations,
                    });
                }
                if !clean.is_empty() && clean.len() + violating.len() >= wanted {
                    break;
                }
            }
            Ok(_) => {
                let message = format!("expected at least one victim pod on node {name:?}");
                run.record(name, Status::error(message));
            }
            Err(status) => run.record(name, status),
        }
    }
    clean.append(&mut violating);
    run.candidates = clean;
    run
}

impl DryRun {
    fn record(&mut self, node: String, status: Status) {
        if status.code() == Code::Error {
            self.errors.push(status.message());
        }
        self.statuses.push((node, status));
    }
}

/// Why no node can be made to fit, as upstream's `FitError` reads: each
/// reason of the nodes tried counted, the nodes not tried counted as
/// "Preemption is not helpful for scheduling", sorted as strings.
pub fn no_candidate_message(all_nodes: usize, statuses: &[(String, Status)]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, status) in statuses {
        for reason in status.reasons() {
            *counts.entry(reason.as_str()).or_insert(0) += 1;
        }
    }
    let not_tried = all_nodes.saturating_sub(statuses.len());
    if not_tried > 0 {
        *counts
            .entry("Preemption is not helpful for scheduling")
            .or_insert(0) += not_tried;
    }
    let mut histogram: Vec<String> = counts
        .into_iter()
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    histogram.sort();
    let mut message = format!("0/{all_nodes} nodes are available:");
    if !histogram.is_empty() {
        message.push_str(&format!(" {}.", histogram.join(", ")));
    }
    message
}
