//! The `DefaultPreemption` plugin (PostFilter): when no node fits a pod,
//! it looks for a node where deleting pods of lower priority would make
//! room, as upstream's `defaultpreemption` plugin and preemption
//! `Evaluator` do. It only decides: the scheduler deletes the victims,
//! sets the preemptor's `nominatedNodeName` and clears the nominations of
//! the lower-priority pods nominated to that node.
//!
//! What the scheduler is left to do, as upstream's executor does: skip
//! victims already being deleted, mark each victim with a true
//! `DisruptionTarget` condition of reason `PreemptionByScheduler` before
//! deleting it (that is how a later cycle sees the preemptor still waits
//! for its victims), and read a nomination of `""` (no node could be made
//! to fit) as clearing the preemptor's `nominatedNodeName`.
//!
//! - [`args`]: `DefaultPreemptionArgs`, defaulted and validated;
//! - `candidates`: the dry run over the nodes preemption may help, and
//!   the message when none can be made to fit;
//! - `victims`: the fewest pods to delete on one node (PDBs respected);
//! - `pick`: the one node chosen among the candidates.

pub mod args;
mod candidates;
mod pick;
mod victims;

#[cfg(test)]
mod tests;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use keelson_api::k8s_openapi::api::core::v1::Pod;

use crate::framework::events::{ActionType, ClusterEventWithHint, EventResource, QueueingHint};
use crate::framework::{
    Code, CycleState, Handle, NodeToStatus, Plugin, PodInfo, PostFilter, PostFilterContext,
    PostFilterResult, Snapshot, Status,
};

pub use args::DefaultPreemptionArgs;
use candidates::{DryRun, no_candidate_message};
use victims::Budget;

/// The plugin's name in configurations.
pub const NAME: &str = "DefaultPreemption";

/// Picks where among `n` nodes the dry run starts (`0..n`).
pub type OffsetFn = Box<dyn Fn(usize) -> usize + Send + Sync>;

/// The plugin: its arguments, and where the dry run starts.
pub struct DefaultPreemption {
    args: DefaultPreemptionArgs,
    offset: OffsetFn,
}

impl DefaultPreemption {
    /// The plugin with `args`, starting each dry run at a random node so
    /// that preemption does not always fall on the first nodes.
    pub fn new(args: DefaultPreemptionArgs) -> DefaultPreemption {
        DefaultPreemption::with_offset(args, Box::new(random_offset()))
    }

    /// The plugin with `args`, starting each dry run where `offset` says
    /// (tests fix it, as upstream's tests fix `getOffsetRand`).
    pub fn with_offset(args: DefaultPreemptionArgs, offset: OffsetFn) -> DefaultPreemption {
        DefaultPreemption { args, offset }
    }

    /// Where the dry run over `n` nodes starts, and how many candidates it
    /// looks for (upstream's `GetOffsetAndNumCandidates`).
    pub fn offset_and_num_candidates(&self, n: usize) -> (usize, usize) {
        let offset = if n == 0 { 0 } else { (self.offset)(n) % n };
        (offset, self.args.num_candidates(n))
    }

    fn preempt(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        statuses: &NodeToStatus,
        context: &PostFilterContext<'_>,
    ) -> (Option<PostFilterResult>, Status) {
        if let Err(reason) = eligible_to_preempt_others(pod, statuses, context.snapshot) {
            return (None, Status::unschedulable(reason));
        }
        let all = context.snapshot.nodes();
        if all.is_empty() {
            return (None, Status::error("no nodes available"));
        }
        let potential: Vec<_> = all
            .iter()
            .filter(|n| status_code(statuses, n.name()) == Code::Unschedulable)
            .collect();
        let dry_run = if potential.is_empty() {
            DryRun::default()
        } else {
            let budgets = Budget::list(&context.listers.pod_disruption_budgets);
            let (offset, wanted) = self.offset_and_num_candidates(potential.len());
            let input = candidates::Input {
                framework: context.framework,
                state,
                pod,
                budgets: &budgets,
            };
            candidates::dry_run(&input, &potential, offset, wanted)
        };
        if dry_run.candidates.is_empty() {
            if !dry_run.errors.is_empty() {
                return (None, Status::error(aggregate(&dry_run.errors)));
            }
            let message = no_candidate_message(all.len(), &dry_run.statuses);
            // An empty nomination clears the pod's earlier one, as upstream's
            // `NewPostFilterResultWithNominatedNode("")`.
            let result = PostFilterResult {
                nominated_node_name: Some(String::new()),
                ..PostFilterResult::default()
            };
            return (Some(result), Status::unschedulable(message));
        }
        let best = &dry_run.candidates[pick::pick_one_node(&dry_run.candidates)];
        let result = PostFilterResult {
            nominated_node_name: Some(best.node.clone()),
            victims: best.victims.iter().map(|v| v.pod.clone()).collect(),
            clear_nominations: lower_priority_nominated(pod, &best.node, context),
        };
        (Some(result), Status::success())
    }
}

impl Plugin for DefaultPreemption {
    fn name(&self) -> &str {
        NAME
    }

    fn as_post_filter(&self) -> Option<&dyn PostFilter> {
        Some(self)
    }

    /// Upstream (v1.33, asynchronous preemption on) registers the deletion
    /// of assigned pods with a hint that always skips: the plugins whose
    /// rejections preemption resolves decide when the pod is retried.
    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        Some(vec![ClusterEventWithHint::hinted(
            EventResource::AssignedPod,
            ActionType::DELETE,
            |_, _| QueueingHint::Skip,
        )])
    }
}

impl PostFilter for DefaultPreemption {
    fn post_filter(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        statuses: &NodeToStatus,
        context: &PostFilterContext<'_>,
    ) -> (Option<PostFilterResult>, Status) {
        let (result, status) = self.preempt(state, pod, statuses, context);
        let message = status.message();
        if message.is_empty() {
            return (result, status);
        }
        let status = Status::new(status.code(), [format!("preemption: {message}")]);
        (result, status)
    }
}

/// Makes the plugin from its arguments.
pub fn new(args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    let args = DefaultPreemptionArgs::from_json(args)?;
    Ok(Arc::new(DefaultPreemption::new(args)))
}

/// Whether `pod` may preempt at all (upstream's
/// `PodEligibleToPreemptOthers`): not when its policy is `Never`, nor
/// while lower-priority pods it preempted earlier are still terminating on
/// the node it is nominated to (unless that node no longer fits it at all).
pub fn eligible_to_preempt_others(
    pod: &PodInfo,
    statuses: &NodeToStatus,
    snapshot: &Snapshot,
) -> Result<(), &'static str> {
    let spec = pod.pod.spec.as_ref();
    if spec.and_then(|s| s.preemption_policy.as_deref()) == Some("Never") {
        return Err("not eligible due to preemptionPolicy=Never.");
    }
    let status = pod.pod.status.as_ref();
    let nominated = status.and_then(|s| s.nominated_node_name.as_deref());
    let Some(nominated) = nominated.filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    if status_code(statuses, nominated) == Code::UnschedulableAndUnresolvable {
        return Ok(());
    }
    let Some(node) = snapshot.get(nominated) else {
        return Ok(());
    };
    let priority = pod.priority();
    let waiting = node
        .pods
        .iter()
        .any(|p| p.priority() < priority && terminating_by_preemption(&p.pod));
    if waiting {
        return Err("not eligible due to a terminating pod on the nominated node.");
    }
    Ok(())
}

/// Whether `pod` is being deleted because the scheduler preempted it: it
/// has a deletion timestamp and a true `DisruptionTarget` condition of
/// reason `PreemptionByScheduler` (set by whoever carries out preemption).
fn terminating_by_preemption(pod: &Pod) -> bool {
    if pod.metadata.deletion_timestamp.is_none() {
        return false;
    }
    let mut conditions = pod
        .status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten());
    conditions
        .find(|c| c.type_ == "DisruptionTarget")
        .is_some_and(|c| c.status == "True" && c.reason.as_deref() == Some("PreemptionByScheduler"))
}

/// A node's filter status code; a node with none was rejected for good
/// (upstream's default absent-node status).
fn status_code(statuses: &NodeToStatus, node: &str) -> Code {
    statuses
        .get(node)
        .map_or(Code::UnschedulableAndUnresolvable, Status::code)
}

/// The pods of lower priority nominated to `node`: the room they counted
/// on is what the preemptor takes, so their nominations are cleared.
fn lower_priority_nominated(
    pod: &PodInfo,
    node: &str,
    context: &PostFilterContext<'_>,
) -> Vec<Arc<Pod>> {
    let priority = pod.priority();
    let nominated = context.nominator.pods_on(node);
    nominated
        .into_iter()
        .filter(|p| p.priority() < priority)
        .map(|p| p.pod.clone())
        .collect()
}

/// Several errors as one message, as upstream's aggregate errors read.
fn aggregate(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Offsets from std's randomly keyed hasher: a new key per process, a
/// counter hashed per call, so no random-number crate is needed.
fn random_offset() -> impl Fn(usize) -> usize + Send + Sync {
    let state = RandomState::new();
    let counter = AtomicU64::new(0);
    move |n| {
        let mut hasher = state.build_hasher();
        hasher.write_u64(counter.fetch_add(1, Ordering::Relaxed));
        let n = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
        usize::try_from(hasher.finish() % n).unwrap_or(0)
    }
}
