//! Revisions: each ReplicaSet of a Deployment carries the revision it was
//! (last) the new one at; the new ReplicaSet's annotations; and which old
//! ReplicaSets the revision history limit lets go.

use std::collections::BTreeMap;
use std::num::ParseIntError;

use keelson_api::k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::fenceposts::max_surge;
use super::{
    DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION, by_creation, desired, spec_replicas, status_replicas,
};

/// The longest revision-history annotation upstream keeps, in characters.
const MAX_REVISION_HISTORY_CHARS: usize = 2000;

/// Annotations of a Deployment that are never copied to its ReplicaSets:
/// kubectl's last applied configuration and the controller's own.
const ANNOTATIONS_TO_SKIP: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    "deprecated.deployment.rollback.to",
];

/// The revision of `rs`: its revision annotation, 0 when it has none.
pub fn revision(rs: &ReplicaSet) -> Result<i64, ParseIntError> {
    let annotations = rs.metadata.annotations.as_ref();
    match annotations.and_then(|a| a.get(REVISION_ANNOTATION)) {
        None => Ok(0),
        Some(value) => value.parse(),
    }
}

/// The revision a new ReplicaSet gets: one past the highest of the old
/// ones (those whose revision does not parse are skipped).
pub fn next_revision(old_rses: &[ReplicaSet]) -> i64 {
    old_rses
        .iter()
        .filter_map(|rs| revision(rs).ok())
        .max()
        .unwrap_or(0)
        .max(0)
        + 1
}

/// Sets the desired-replicas and max-replicas annotations; true if they changed.
pub(crate) fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_default();
    let mut changed = false;
    for (key, value) in [
        (DESIRED_REPLICAS_ANNOTATION, desired),
        (MAX_REPLICAS_ANNOTATION, max),
    ] {
        let value = value.to_string();
        if annotations.get(key) != Some(&value) {
            annotations.insert(key.to_owned(), value);
            changed = true;
        }
    }
    changed
}

/// Brings the new ReplicaSet's annotations up to date, as upstream's
/// `SetNewReplicaSetAnnotations`; true if they changed:
/// - the Deployment's annotations are copied, except kubectl's
///   last-applied-configuration, the controller's own and the deprecated
///   rollback one;
/// - the revision becomes `new_revision` unless it is already higher;
///   a revision it had before goes to the revision-history annotation
///   (a rollback to it), oldest dropped past 2000 characters;
/// - a ReplicaSet about to be created (`exists` false) gets the
///   desired-replicas (replicas) and max-replicas (replicas + maxSurge)
///   annotations.
pub fn set_new_replica_set_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: &str,
    exists: bool,
) -> bool {
    let mut changed =
        copy_deployment_annotations(d, rs.metadata.annotations.get_or_insert_default());
    let annotations = rs.metadata.annotations.get_or_insert_default();
    let old = annotations.get(REVISION_ANNOTATION).cloned();
    let old_number = match old.as_deref().map(str::parse::<i64>) {
        None => 0,
        Some(Ok(n)) => n,
        // An unparsable revision is left alone, as upstream does.
        Some(Err(_)) => return false,
    };
    let Ok(new_number) = new_revision.parse::<i64>() else {
        return false;
    };
    if old_number < new_number {
        annotations.insert(REVISION_ANNOTATION.to_owned(), new_revision.to_owned());
        changed = true;
        if let Some(old) = old {
            push_revision_history(annotations, &old);
        }
    }
    if !exists {
        changed |= set_replicas_annotations(rs, desired(d), desired(d) + max_surge(d));
    }
    changed
}

fn copy_deployment_annotations(d: &Deployment, into: &mut BTreeMap<String, String>) -> bool {
    let mut changed = false;
    for (key, value) in d.metadata.annotations.iter().flatten() {
        if ANNOTATIONS_TO_SKIP.contains(&key.as_str()) || into.get(key) == Some(value) {
            continue;
        }
        into.insert(key.clone(), value.clone());
        changed = true;
    }
    changed
}

fn push_revision_history(annotations: &mut BTreeMap<String, String>, old: &str) {
    let history = annotations
        .get(REVISION_HISTORY_ANNOTATION)
        .cloned()
        .unwrap_or_default();
    if history.is_empty() {
        annotations.insert(REVISION_HISTORY_ANNOTATION.to_owned(), old.to_owned());
        return;
    }
    let mut revisions: Vec<&str> = history.split(',').collect();
    let mut length = history.len() + old.len() + 1;
    let mut start = 0;
    while length > MAX_REVISION_HISTORY_CHARS && start < revisions.len() {
        length -= revisions[start].len() + 1;
        start += 1;
    }
    if length <= MAX_REVISION_HISTORY_CHARS {
        revisions.drain(..start);
        revisions.push(old);
        annotations.insert(REVISION_HISTORY_ANNOTATION.to_owned(), revisions.join(","));
    }
}

/// The old ReplicaSets to delete so that at most `revisionHistoryLimit`
/// remain (upstream's `cleanupDeployment`), lowest revision first; one
/// that still has or wants pods, is being deleted, or whose status lags
/// its spec is kept. `old_rses` must not include the new ReplicaSet.
/// Without a limit nothing is deleted.
pub fn replica_sets_to_delete(d: &Deployment, old_rses: &[ReplicaSet]) -> Vec<String> {
    let Some(limit) = d.spec.as_ref().and_then(|s| s.revision_history_limit) else {
        return Vec::new();
    };
    let mut alive: Vec<&ReplicaSet> = old_rses
        .iter()
        .filter(|rs| rs.metadata.deletion_timestamp.is_none())
        .collect();
    let excess = alive.len() as i64 - i64::from(limit);
    if excess <= 0 {
        return Vec::new();
    }
    alive.sort_by(|a, b| match (revision(a), revision(b)) {
        (Ok(x), Ok(y)) if x != y => x.cmp(&y),
        _ => by_creation(a, b),
    });
    alive
        .into_iter()
        .take(usize::try_from(excess).unwrap_or(usize::MAX))
        .filter(|rs| {
            let observed = rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            status_replicas(rs) == 0
                && spec_replicas(rs) == 0
                && rs.metadata.generation.unwrap_or(0) <= observed
        })
        .filter_map(|rs| rs.metadata.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{annotated, deployment, rs};
    use super::*;

    fn with_revision(name: &str, created: i64, replicas: i32, revision: &str) -> ReplicaSet {
        annotated(
            rs(name, created, replicas, replicas),
            REVISION_ANNOTATION,
            revision,
        )
    }

    #[test]
    fn revisions_parse_and_the_next_is_one_past_the_highest() {
        assert_eq!(revision(&rs("a", 1, 1, 1)), Ok(0));
        assert_eq!(revision(&with_revision("a", 1, 1, "7")), Ok(7));
        assert!(revision(&with_revision("a", 1, 1, "x")).is_err());
        let old = [
            with_revision("a", 1, 0, "3"),
            with_revision("b", 2, 0, "x"),
            with_revision("c", 3, 0, "5"),
        ];
        assert_eq!(next_revision(&old), 6);
        assert_eq!(next_revision(&[]), 1);
    }

    #[test]
    fn new_replica_set_annotations() {
        let mut d = deployment(10, "25%", "25%");
        let ann = d.metadata.annotations.get_or_insert_default();
        ann.insert("team".into(), "web".into());
        ann.insert(
            "kubectl.kubernetes.io/last-applied-configuration".into(),
            "{}".into(),
        );
        ann.insert(REVISION_ANNOTATION.into(), "4".into());
        let mut new = rs("web-abc", 1, 0, 0);
        assert!(set_new_replica_set_annotations(&d, &mut new, "5", false));
        let want: BTreeMap<String, String> = [
            (DESIRED_REPLICAS_ANNOTATION, "10"),
            (MAX_REPLICAS_ANNOTATION, "13"),
            (REVISION_ANNOTATION, "5"),
            ("team", "web"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(new.metadata.annotations.as_ref(), Some(&want));
        assert!(
            !set_new_replica_set_annotations(&d, &mut new, "5", true),
            "nothing more to change"
        );
        assert!(
            !set_new_replica_set_annotations(&d, &mut new, "3", true),
            "never lowered"
        );
    }

    #[test]
    fn a_rollback_keeps_the_earlier_revisions() {
        let d = deployment(10, "25%", "25%");
        let mut back = with_revision("web-old", 1, 0, "2");
        assert!(set_new_replica_set_annotations(&d, &mut back, "4", true));
        assert!(set_new_replica_set_annotations(&d, &mut back, "6", true));
        let ann = back.metadata.annotations.expect("set");
        assert_eq!(ann[REVISION_ANNOTATION], "6");
        assert_eq!(ann[REVISION_HISTORY_ANNOTATION], "2,4");
    }

    #[test]
    fn history_cleanup_deletes_the_lowest_idle_revisions() {
        let mut d = deployment(3, "25%", "25%");
        d.spec.as_mut().expect("spec").revision_history_limit = Some(2);
        let mut deleting = with_revision("r1", 1, 0, "1");
        deleting.metadata.deletion_timestamp = d.metadata.creation_timestamp.clone().or(Some(
            keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                super::super::testing::at(9),
            ),
        ));
        let old = [
            with_revision("r5", 2, 0, "5"),
            deleting,
            with_revision("r2", 6, 0, "2"),
            with_revision("r3", 3, 1, "3"), // still has a pod: kept
            with_revision("r4", 4, 0, "4"),
        ];
        // Five old, one already going: four alive, two over the limit (r2,
        // r3); r3 has a pod, so only r2 goes now.
        assert_eq!(replica_sets_to_delete(&d, &old), ["r2"]);
        d.spec.as_mut().expect("spec").revision_history_limit = Some(0);
        assert_eq!(replica_sets_to_delete(&d, &old), ["r2", "r4", "r5"]);
        d.spec.as_mut().expect("spec").revision_history_limit = None;
        assert!(replica_sets_to_delete(&d, &old).is_empty());
    }
}
