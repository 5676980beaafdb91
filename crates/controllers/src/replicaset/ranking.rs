//! Which pods go first when a ReplicaSet scales down: upstream's
//! `ActivePodsWithRanks` order as Kubernetes v1.33 runs it, with pod
//! deletion cost (beta, on by default) and logarithmic scale-down (GA)
//! both in force. Earlier in the order means deleted sooner:
//!
//! 1. unscheduled before scheduled;
//! 2. `Pending` (or no phase) before `Unknown` before `Running`;
//! 3. not ready before ready;
//! 4. lower `controller.kubernetes.io/pod-deletion-cost` first;
//! 5. more related pods on the same node first (doubled-up pods);
//! 6. both ready: ready for less time first; no ready time first;
//! 7. higher restart count of a regular container first, then of a
//!    sidecar (an init container with `restartPolicy: Always`);
//! 8. newer creation first; no creation time first.
//!
//! Times in rules 6 and 8 are compared by the whole power of two of their
//! age in nanoseconds, so pods of about the same age are treated as equal
//! and then ordered by uid, which spreads deletions over the ages as
//! upstream does. Unlike upstream, two pods ready (or created) at the very
//! same instant are ordered by uid too rather than by the rules after:
//! upstream's shortcut makes the order inconsistent (A equal to B, both
//! ordered differently against C), which Go's sort tolerates and Rust's
//! refuses. Ties keep the order the pods were given in (upstream's
//! sort is not stable; keeping the input order makes ours deterministic).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use keelson_api::k8s_openapi::api::core::v1::Pod;

use crate::pods;

/// The annotation by which users rank pods for deletion (lower first).
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The `count` pods to delete out of `pods`, in the order they go.
/// `related` are the active pods of every ReplicaSet under the same
/// controller (this one included), which rank pods by how crowded their
/// node is; upstream passes none for a ReplicaSet without a controller.
pub fn pods_to_delete<'a>(
    pods: &[&'a Pod],
    related: &[Pod],
    count: usize,
    now: Timestamp,
) -> Vec<&'a Pod> {
    let mut ranked: Vec<(&Pod, usize)> = pods.iter().map(|pod| (*pod, 0)).collect();
    // Upstream sorts only when some pods stay: deleting them all needs no
    // choice.
    if count < pods.len() {
        let per_node = pods_per_node(related);
        for (pod, rank) in &mut ranked {
            *rank = per_node.get(pods::node_name(pod)).copied().unwrap_or(0);
        }
        ranked.sort_by(|a, b| delete_order(a, b, now));
    }
    ranked.into_iter().take(count).map(|(pod, _)| pod).collect()
}

fn pods_per_node(related: &[Pod]) -> BTreeMap<&str, usize> {
    let mut per_node = BTreeMap::new();
    for pod in related.iter().filter(|pod| pods::is_active(pod)) {
        *per_node.entry(pods::node_name(pod)).or_insert(0) += 1;
    }
    per_node
}

/// `Less` when the first pod is to be deleted before the second.
fn delete_order(a: &(&Pod, usize), b: &(&Pod, usize), now: Timestamp) -> Ordering {
    let ((pa, rank_a), (pb, rank_b)) = (a, b);
    let (node_a, node_b) = (pods::node_name(pa), pods::node_name(pb));
    if node_a != node_b && (node_a.is_empty() || node_b.is_empty()) {
        return if node_a.is_empty() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    let (ready_a, ready_b) = (pods::is_ready(pa), pods::is_ready(pb));
    phase_ordinal(pa)
        .cmp(&phase_ordinal(pb))
        .then_with(|| ready_a.cmp(&ready_b))
        .then_with(|| deletion_cost(pa).cmp(&deletion_cost(pb)))
        .then_with(|| rank_b.cmp(rank_a))
        .then_with(|| {
            if ready_a && ready_b {
                by_age(pa, pods::ready_since(pa), pb, pods::ready_since(pb), now)
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| max_restarts(pb).cmp(&max_restarts(pa)))
        .then_with(|| {
            let created = |pod: &Pod| pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
            by_age(pa, created(pa), pb, created(pb), now)
        })
}

fn phase_ordinal(pod: &Pod) -> u8 {
    match pods::phase(pod) {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

/// The pod's deletion cost; 0 when absent or not a canonical 32-bit
/// integer (upstream rejects a leading `+` and leading zeros).
pub fn deletion_cost(pod: &Pod) -> i32 {
    let Some(value) = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(POD_DELETION_COST))
    else {
        return 0;
    };
    let canonical = match value.as_bytes().first() {
        Some(b'-' | b'1'..=b'9') => true,
        Some(b'0') => value == "0",
        _ => false,
    };
    if canonical {
        value.parse().unwrap_or(0)
    } else {
        0
    }
}

/// Younger first; a missing time first; equal log-ages by uid.
fn by_age(
    pa: &Pod,
    ta: Option<Timestamp>,
    pb: &Pod,
    tb: Option<Timestamp>,
    now: Timestamp,
) -> Ordering {
    // Equal times are not a tie here, as they are upstream (which then
    // goes on to the next rule): only the log-age and the uid together
    // order every set of pods consistently, which a sort needs.
    match (ta, tb) {
        (None, None) => Ordering::Equal,
        (None, _) => Ordering::Less,
        (_, None) => Ordering::Greater,
        (Some(a), Some(b)) => log_age(a, now).cmp(&log_age(b, now)).then_with(|| {
            let uid = |pod: &Pod| pod.metadata.uid.clone().unwrap_or_default();
            uid(pa).cmp(&uid(pb))
        }),
    }
}

/// The whole part of log2 of the age in nanoseconds; -1 for no age.
fn log_age(since: Timestamp, now: Timestamp) -> i64 {
    let nanos = now.duration_since(since).as_nanos();
    if nanos <= 0 {
        return -1;
    }
    // Go truncates the float logarithm; the cast floors a positive value.
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let rank = (nanos as f64).log2() as i64;
    rank
}

/// The highest restart count of a regular container and of a sidecar.
fn max_restarts(pod: &Pod) -> (i32, i32) {
    let Some(status) = pod.status.as_ref() else {
        return (0, 0);
    };
    let regular = status
        .container_statuses
        .iter()
        .flatten()
        .map(|c| c.restart_count)
        .fold(0, i32::max);
    let sidecars: BTreeSet<&str> = pod
        .spec
        .iter()
        .flat_map(|spec| spec.init_containers.iter().flatten())
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .map(|c| c.name.as_str())
        .collect();
    let sidecar = status
        .init_container_statuses
        .iter()
        .flatten()
        .filter(|c| sidecars.contains(c.name.as_str()))
        .map(|c| c.restart_count)
        .fold(0, i32::max);
    (regular, sidecar)
}
