//! The fewest pods to delete on one node so that the preemptor fits
//! there (upstream's `SelectVictimsOnNode`): every pod of lower priority
//! taken away, then as many as still let the preemptor fit given back,
//! the most important first and those a PodDisruptionBudget protects
//! before the others.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_api::k8s_openapi::api::policy::v1::PodDisruptionBudget;
use keelson_api::label_selector::Selector;

use crate::framework::pod_info::{labels, namespace};
use crate::framework::runtime::Framework;
use crate::framework::{CycleState, Lister, NodeInfo, PodInfo, Status};

/// A PodDisruptionBudget as preemption reads it, its selector parsed once
/// per preemption rather than once per pod.
#[derive(Debug, Clone)]
pub struct Budget {
    namespace: String,
    selector: Selector,
    disruptions_allowed: i32,
    /// The pods already being disrupted (by name), which the API server
    /// has counted: deleting one again costs nothing.
    disrupted: BTreeSet<String>,
}

impl Budget {
    /// Every budget with a selector that parses and selects something (a
    /// budget with no selector, or an empty one, protects no pod).
    pub fn list(lister: &Lister<PodDisruptionBudget>) -> Vec<Budget> {
        lister
            .list()
            .iter()
            .filter_map(|pdb| Budget::new(pdb))
            .collect()
    }

    fn new(pdb: &PodDisruptionBudget) -> Option<Budget> {
        let spec_selector = pdb.spec.as_ref().and_then(|s| s.selector.as_ref());
        let selector = Selector::from_optional_label_selector(spec_selector).ok()?;
        if selector.is_everything() {
            return None;
        }
        let status = pdb.status.as_ref();
        Some(Budget {
            namespace: pdb.metadata.namespace.clone().unwrap_or_default(),
            selector,
            disruptions_allowed: status.map_or(0, |s| s.disruptions_allowed),
            disrupted: status
                .and_then(|s| s.disrupted_pods.as_ref())
                .map(|pods| pods.keys().cloned().collect())
                .unwrap_or_default(),
        })
    }

    fn counts(&self, pod: &Pod) -> bool {
        self.namespace == namespace(pod)
            && self.selector.matches(labels(pod))
            && !pod
                .metadata
                .name
                .as_ref()
                .is_some_and(|n| self.disrupted.contains(n))
    }
}

/// The pods of `pods` (in order) whose deletion would take a budget below
/// zero, and the others (upstream's `filterPodsWithPDBViolation`).
pub fn split_by_violation(
    pods: Vec<Arc<PodInfo>>,
    budgets: &[Budget],
) -> (Vec<Arc<PodInfo>>, Vec<Arc<PodInfo>>) {
    let mut allowed: Vec<i32> = budgets.iter().map(|b| b.disruptions_allowed).collect();
    let mut violating = Vec::new();
    let mut others = Vec::new();
    for pod in pods {
        let mut violates = false;
        // A pod with no labels is selected by no budget.
        if !labels(&pod.pod).is_empty() {
            for (budget, left) in budgets.iter().zip(allowed.iter_mut()) {
                if budget.counts(&pod.pod) {
                    *left -= 1;
                    violates |= *left < 0;
                }
            }
        }
        if violates {
            violating.push(pod);
        } else {
            others.push(pod);
        }
    }
    (violating, others)
}

/// Upstream's `MoreImportantPod` as an ordering, most important first:
/// higher priority, then the one running longer (a pod not started yet
/// counts as starting now, so after every started one).
pub fn by_importance(a: &Pod, b: &Pod) -> Ordering {
    let priority = crate::framework::pod_info::priority;
    priority(b)
        .cmp(&priority(a))
        .then_with(|| start_key(a).cmp(&start_key(b)))
}

/// When a pod started, in nanoseconds since the epoch; `i128::MAX` for one
/// not started yet.
pub fn start_key(pod: &Pod) -> i128 {
    let start = pod.status.as_ref().and_then(|s| s.start_time.as_ref());
    start.map_or(i128::MAX, |t| t.0.as_nanosecond())
}

/// The victims chosen on one node, most important first, and how many of
/// them a budget protects.
#[derive(Debug, Clone, Default)]
pub struct Victims {
    pub pods: Vec<Arc<PodInfo>>,
    pub pdb_violations: usize,
}

/// What a dry run on a node works with: the profile and the preemptor.
pub struct OnNode<'a> {
    pub framework: &'a Framework,
    pub pod: &'a PodInfo,
    pub budgets: &'a [Budget],
}

impl OnNode<'_> {
    /// Chooses victims on `node` (a copy, changed as pods are taken away),
    /// with `state` the cycle's state copied for this node. A rejection
    /// when no pod can be preempted or the preemptor does not fit even
    /// with all of them gone.
    pub fn select(&self, state: &mut CycleState, node: &mut NodeInfo) -> Result<Victims, Status> {
        let priority = self.pod.priority();
        let mut potential: Vec<_> = node
            .pods
            .iter()
            .filter(|p| p.priority() < priority)
            .cloned()
            .collect();
        for victim in &potential {
            self.remove(state, node, victim)?;
        }
        if potential.is_empty() {
            return Err(Status::unresolvable(
                "No preemption victims found for incoming pod",
            ));
        }
        self.fits(state, node)?;
        potential.sort_by(|a, b| by_importance(&a.pod, &b.pod));
        let (violating, others) = split_by_violation(potential, self.budgets);
        let mixed = !violating.is_empty() && !others.is_empty();
        let mut victims = Victims::default();
        for pod in violating {
            if !self.reprieve(state, node, &pod)? {
                victims.pods.push(pod);
                victims.pdb_violations += 1;
            }
        }
        for pod in others {
            if !self.reprieve(state, node, &pod)? {
                victims.pods.push(pod);
            }
        }
        if mixed {
            victims.pods.sort_by(|a, b| by_importance(&a.pod, &b.pod));
        }
        Ok(victims)
    }

    /// Gives `pod` back to the node; whether the preemptor still fits (if
    /// not, it is taken away again and stays a victim).
    fn reprieve(
        &self,
        state: &mut CycleState,
        node: &mut NodeInfo,
        pod: &Arc<PodInfo>,
    ) -> Result<bool, Status> {
        node.add_pod(pod.clone());
        let added = self
            .framework
            .run_pre_filter_add_pod(state, self.pod, pod, node);
        as_error(added)?;
        if self.fits(state, node).is_ok() {
            return Ok(true);
        }
        self.remove(state, node, pod)?;
        Ok(false)
    }

    fn fits(&self, state: &CycleState, node: &NodeInfo) -> Result<(), Status> {
        let status = self
            .framework
            .run_filter_with_nominated_pods(state, self.pod, node);
        if status.is_success() {
            Ok(())
        } else {
            Err(status)
        }
    }

    fn remove(
        &self,
        state: &mut CycleState,
        node: &mut NodeInfo,
        pod: &Arc<PodInfo>,
    ) -> Result<(), Status> {
        if !node.remove_pod(pod.uid()) {
            return Err(Status::error(format!(
                "pod {}/{} not found on node {}",
                pod.namespace(),
                pod.name(),
                node.name()
            )));
        }
        let removed = self
            .framework
            .run_pre_filter_remove_pod(state, self.pod, pod, node);
        as_error(removed)
    }
}

/// A failed AddPod/RemovePod is an error of the dry run, whatever its code.
fn as_error(status: Status) -> Result<(), Status> {
    if status.is_success() {
        Ok(())
    } else {
        Err(Status::error(status.message()))
    }
}
