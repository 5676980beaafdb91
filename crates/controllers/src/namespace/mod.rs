//! The Namespace controller, as upstream's `pkg/controller/namespace`:
//! once a namespace has a deletionTimestamp, everything in it is deleted
//! (every namespaced kind the server serves that can be deleted, custom
//! resources included), the namespace's status says how far that got
//! (upstream's five `NamespaceDeletion*`/`Namespace*Remaining`
//! conditions, with upstream's reasons and messages), and once nothing is
//! left the `kubernetes` finalizer is taken out of `spec.finalizers`
//! through the `finalize` subresource, which lets the API server remove
//! the namespace.
//!
//! This module holds the decisions, pure and table-tested: which
//! discovered resources to empty ([`deletable`]), how long the pods will
//! take ([`pod_estimate`]), what one resource's emptying came to
//! ([`resource_outcome`]), the conditions of a pass ([`conditions`],
//! merged into the namespace's as upstream does by [`merge_conditions`])
//! and what to do next ([`decide`]). [`run`] is the loop.

mod run;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use jiff::Timestamp;
use keelson_api::k8s_openapi::api::core::v1::{NamespaceCondition, Pod};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub use run::{run, shared};

/// The finalizer of `spec.finalizers` this controller owns.
pub const FINALIZER: &str = "kubernetes";
/// How long upstream waits for content held by finalizers (seconds).
pub const FINALIZER_ESTIMATE_SECONDS: i64 = 15;
/// A pod's grace period when its spec names none (upstream's default).
const DEFAULT_GRACE_SECONDS: i64 = 30;

/// The condition types this controller keeps, in upstream's order.
pub const CONDITION_TYPES: [&str; 5] = [
    DISCOVERY_FAILURE,
    GROUP_VERSION_PARSING_FAILURE,
    CONTENT_FAILURE,
    CONTENT_REMAINING,
    FINALIZERS_REMAINING,
];
/// Some groups could not be discovered.
pub const DISCOVERY_FAILURE: &str = "NamespaceDeletionDiscoveryFailure";
/// Some group versions could not be parsed.
pub const GROUP_VERSION_PARSING_FAILURE: &str = "NamespaceDeletionGroupVersionParsingFailure";
/// Some resources could not be deleted.
pub const CONTENT_FAILURE: &str = "NamespaceDeletionContentFailure";
/// Some objects are still there.
pub const CONTENT_REMAINING: &str = "NamespaceContentRemaining";
/// Some objects are held by their finalizers.
pub const FINALIZERS_REMAINING: &str = "NamespaceFinalizersRemaining";

/// One resource the server serves, as discovery told it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    /// Its API group (`""` for the core group).
    pub group: String,
    /// Its plural name.
    pub resource: String,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
    /// Its verbs.
    pub verbs: Vec<String>,
}

impl Served {
    fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Whether the whole collection goes in one request.
    pub fn deletes_collections(&self) -> bool {
        self.supports("deletecollection")
    }

    /// Whether its objects can be listed (to count what remains).
    pub fn lists(&self) -> bool {
        self.supports("list")
    }
}

/// The namespaced resources that can be deleted, which a namespace's
/// deletion empties (upstream filters discovery by the `delete` verb).
pub fn deletable(served: &[Served]) -> Vec<&Served> {
    served
        .iter()
        .filter(|r| r.namespaced && r.supports("delete"))
        .collect()
}

/// How long (seconds) the pods of a deleted namespace will take to go: the
/// longest grace period among the pods still running, as upstream's
/// `estimateGracefulTerminationForPods`.
pub fn pod_estimate(pods: &[Pod]) -> i64 {
    pods.iter()
        .filter(|pod| {
            let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
            !matches!(phase, Some("Succeeded" | "Failed"))
        })
        .map(|pod| {
            let spec = pod
                .spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds);
            pod.metadata
                .deletion_grace_period_seconds
                .or(spec)
                .unwrap_or(DEFAULT_GRACE_SECONDS)
        })
        .max()
        .unwrap_or(0)
}

/// What emptying one resource came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceOutcome {
    /// Its group.
    pub group: String,
    /// Its plural name.
    pub resource: String,
    /// How many objects were still there after the deletion.
    pub remaining: usize,
    /// How many of them each finalizer holds.
    pub finalizers: BTreeMap<String, usize>,
    /// Seconds until they should be gone.
    pub estimate: i64,
    /// Why it could not be emptied.
    pub error: Option<String>,
}

/// What one resource's emptying came to, from the estimate made before
/// deleting and the finalizers of each object still there afterwards; as
/// upstream, objects that remain with no estimate and no finalizer are an
/// error.
pub fn resource_outcome(
    served: &Served,
    namespace: &str,
    estimate: i64,
    remaining: &[Vec<String>],
) -> ResourceOutcome {
    let mut outcome = ResourceOutcome {
        group: served.group.clone(),
        resource: served.resource.clone(),
        remaining: remaining.len(),
        estimate,
        ..ResourceOutcome::default()
    };
    if remaining.is_empty() {
        outcome.estimate = 0;
        return outcome;
    }
    for finalizer in remaining.iter().flatten() {
        *outcome.finalizers.entry(finalizer.clone()).or_default() += 1;
    }
    if estimate != 0 {
        return outcome;
    }
    if !outcome.finalizers.is_empty() {
        outcome.estimate = FINALIZER_ESTIMATE_SECONDS;
        return outcome;
    }
    let gvr = group_resource(&served.group, &served.resource);
    outcome.error = Some(format!(
        "unexpected items still remain in namespace: {namespace} for gvr: {gvr}"
    ));
    outcome
}

fn group_resource(group: &str, resource: &str) -> String {
    format!("{resource}.{group}")
}

/// Everything one pass over a terminating namespace found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Why discovery failed as a whole (the groups could not be listed).
    pub discovery_error: Option<String>,
    /// The group versions discovery failed on, with why.
    pub discovery_failures: Vec<(String, String)>,
    /// Group versions that could not be parsed.
    pub parse_failures: Vec<String>,
    /// What each emptied resource came to.
    pub resources: Vec<ResourceOutcome>,
}

impl Pass {
    /// The longest of the resources' estimates (seconds).
    pub fn estimate(&self) -> i64 {
        self.resources.iter().map(|r| r.estimate).max().unwrap_or(0)
    }

    fn failed(&self) -> bool {
        self.discovery_error.is_some()
            || !self.discovery_failures.is_empty()
            || !self.parse_failures.is_empty()
            || self.resources.iter().any(|r| r.error.is_some())
    }
}

/// A condition of a pass: type, status, reason and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// One of [`CONDITION_TYPES`].
    pub type_: &'static str,
    /// `"True"` when something is wrong or left, else `"False"`.
    pub status: &'static str,
    /// Upstream's reason.
    pub reason: &'static str,
    /// Upstream's message.
    pub message: String,
}

fn ok(type_: &'static str) -> Condition {
    let (reason, message) = match type_ {
        DISCOVERY_FAILURE => (
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        GROUP_VERSION_PARSING_FAILURE => (
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        CONTENT_FAILURE => (
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
        CONTENT_REMAINING => ("ContentRemoved", "All content successfully removed"),
        _ => (
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished",
        ),
    };
    Condition {
        type_,
        status: "False",
        reason,
        message: message.to_string(),
    }
}

fn failing(type_: &'static str, reason: &'static str, message: String) -> Condition {
    Condition {
        type_,
        status: "True",
        reason,
        message,
    }
}

/// The five conditions of a pass, in upstream's order and words.
pub fn conditions(pass: &Pass) -> Vec<Condition> {
    let mut out = Vec::with_capacity(CONDITION_TYPES.len());
    out.push(if let Some(err) = &pass.discovery_error {
        failing(DISCOVERY_FAILURE, "DiscoveryFailed", err.clone())
    } else if pass.discovery_failures.is_empty() {
        ok(DISCOVERY_FAILURE)
    } else {
        let mut groups: Vec<String> = pass
            .discovery_failures
            .iter()
            .map(|(gv, err)| format!("{gv}: {err}"))
            .collect();
        groups.sort();
        let message = format!(
            "Discovery failed for some groups, {} failing: unable to retrieve the complete list of server APIs: {}",
            groups.len(),
            groups.join(", ")
        );
        failing(DISCOVERY_FAILURE, "DiscoveryFailed", message)
    });
    out.push(if pass.parse_failures.is_empty() {
        ok(GROUP_VERSION_PARSING_FAILURE)
    } else {
        let message = pass.parse_failures.join(", ");
        failing(
            GROUP_VERSION_PARSING_FAILURE,
            "GroupVersionParsingFailed",
            message,
        )
    });
    let mut errors: Vec<&str> = pass
        .resources
        .iter()
        .filter_map(|r| r.error.as_deref())
        .collect();
    errors.sort_unstable();
    out.push(if errors.is_empty() {
        ok(CONTENT_FAILURE)
    } else {
        let message = format!(
            "Failed to delete all resource types, {} remaining: {}",
            errors.len(),
            errors.join(", ")
        );
        failing(CONTENT_FAILURE, "ContentDeletionFailed", message)
    });
    out.extend(remaining_conditions(pass));
    out
}

/// `NamespaceContentRemaining` and `NamespaceFinalizersRemaining`.
fn remaining_conditions(pass: &Pass) -> [Condition; 2] {
    let mut left: Vec<String> = pass
        .resources
        .iter()
        .filter(|r| r.remaining > 0)
        .map(|r| {
            let gvr = group_resource(&r.group, &r.resource);
            format!("{gvr} has {} resource instances", r.remaining)
        })
        .collect();
    left.sort();
    let mut held: BTreeMap<&str, usize> = BTreeMap::new();
    for (finalizer, count) in pass.resources.iter().flat_map(|r| &r.finalizers) {
        *held.entry(finalizer).or_default() += count;
    }
    let mut held: Vec<String> = held
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(finalizer, count)| format!("{finalizer} in {count} resource instances"))
        .collect();
    held.sort();
    let content = if left.is_empty() {
        ok(CONTENT_REMAINING)
    } else {
        let message = format!("Some resources are remaining: {}", left.join(", "));
        failing(CONTENT_REMAINING, "SomeResourcesRemain", message)
    };
    let finalizers = if held.is_empty() {
        ok(FINALIZERS_REMAINING)
    } else {
        let message = format!(
            "Some content in the namespace has finalizers remaining: {}",
            held.join(", ")
        );
        failing(FINALIZERS_REMAINING, "SomeFinalizersRemain", message)
    };
    [content, finalizers]
}

/// The namespace's conditions with a pass's merged in, as upstream's
/// `updateConditions`: a new type is added, a changed one is rewritten
/// (its transition time moves only when its status does), others are
/// kept; `None` when nothing changed.
pub fn merge_conditions(
    existing: &[NamespaceCondition],
    wanted: &[Condition],
    now: Timestamp,
) -> Option<Vec<NamespaceCondition>> {
    let mut merged = existing.to_vec();
    let mut changed = false;
    for condition in wanted {
        let found = merged.iter_mut().find(|c| c.type_ == condition.type_);
        let Some(old) = found else {
            merged.push(NamespaceCondition {
                type_: condition.type_.to_string(),
                status: condition.status.to_string(),
                reason: Some(condition.reason.to_string()),
                message: Some(condition.message.clone()),
                last_transition_time: Some(Time(now)),
            });
            changed = true;
            continue;
        };
        let same = old.status == condition.status
            && old.reason.as_deref() == Some(condition.reason)
            && old.message.as_deref() == Some(condition.message.as_str());
        if same {
            continue;
        }
        if old.status != condition.status {
            old.last_transition_time = Some(Time(now));
        }
        old.status = condition.status.to_string();
        old.reason = Some(condition.reason.to_string());
        old.message = Some(condition.message.clone());
        changed = true;
    }
    changed.then_some(merged)
}

/// What to do after a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing is left: take the `kubernetes` finalizer out.
    Finalize,
    /// Content is still going: look again after this many seconds
    /// (upstream's half the estimate, plus one).
    Requeue(u64),
    /// Something failed: try again with backoff.
    Retry(String),
}

/// What a pass calls for: an error retries, content on its way out is
/// waited for, and an empty namespace is finalized.
pub fn decide(pass: &Pass) -> Decision {
    if pass.failed() {
        let mut reasons: Vec<String> = pass.discovery_error.iter().cloned().collect();
        reasons.extend(
            pass.discovery_failures
                .iter()
                .map(|(gv, err)| format!("{gv}: {err}")),
        );
        reasons.extend(pass.parse_failures.iter().cloned());
        reasons.extend(pass.resources.iter().filter_map(|r| r.error.clone()));
        return Decision::Retry(reasons.join("; "));
    }
    match u64::try_from(pass.estimate()) {
        Ok(estimate) if estimate > 0 => Decision::Requeue(estimate / 2 + 1),
        _ => Decision::Finalize,
    }
}

/// `spec.finalizers` without [`FINALIZER`], sorted and without repeats
/// as upstream writes them back.
pub fn finalizers_after(finalizers: &[String]) -> Vec<String> {
    let mut left: Vec<String> = finalizers
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    left.sort();
    left.dedup();
    left
}
