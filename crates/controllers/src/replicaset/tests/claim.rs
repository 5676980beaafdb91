//! Adoption and release of pods by their labels and controller reference.

use super::*;

#[test]
fn orphans_that_match_are_adopted_and_strays_released() {
    let pods = [
        pod("mine").build(),
        pod("orphan").owners(vec![]).build(),
        pod("orphan-with-non-controller-owner")
            .owners(vec![owner("other", false)])
            .build(),
        pod("orphan-unmatched")
            .owners(vec![])
            .labels(&[("app", "db")])
            .build(),
        pod("theirs").owners(vec![owner("other", true)]).build(),
        pod("stray").labels(&[("app", "db")]).build(),
        pod("orphan-deleting").owners(vec![]).deleting().build(),
    ];
    let plan = plan(&rs(3), &pods);
    let adopted: Vec<&str> = plan.adopt.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(adopted, ["orphan", "orphan-with-non-controller-owner"]);
    assert_eq!(
        plan.adopt[0].patch,
        json!({"metadata": {
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                "uid": RS_UID, "controller": true, "blockOwnerDeletion": true,
            }],
            "uid": "uid-orphan",
        }})
    );
    let released: Vec<&str> = plan.release.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(released, ["stray"]);
    assert_eq!(
        plan.release[0].patch,
        json!({"metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": RS_UID}],
            "uid": "uid-stray",
        }})
    );
    assert_eq!(
        names(&plan.claimed),
        ["mine", "orphan", "orphan-with-non-controller-owner"]
    );
    let adopted_pod = &plan.claimed[1];
    assert_eq!(
        crate::pods::controller_of(adopted_pod.metadata.owner_references.as_ref())
            .map(|o| o.uid.as_str()),
        Some(RS_UID)
    );
    assert_eq!(plan.create, None);
}

#[test]
fn a_deleted_rs_neither_adopts_nor_releases() {
    let mut deleting = rs(3);
    deleting.metadata.deletion_timestamp = Some(Time(ago(1)));
    let pods = [
        pod("orphan").owners(vec![]).build(),
        pod("stray").labels(&[("app", "db")]).build(),
    ];
    let plan = plan(&deleting, &pods);
    assert!(plan.adopt.is_empty());
    assert!(plan.release.is_empty());
    assert!(plan.claimed.is_empty());
}

#[test]
fn an_absent_or_invalid_selector() {
    let mut no_selector = rs(1);
    if let Some(spec) = no_selector.spec.as_mut() {
        spec.selector = LabelSelector::default();
    }
    // An empty selector selects every pod, so the orphan is adopted.
    let pods = [pod("orphan").owners(vec![]).labels(&[("x", "y")]).build()];
    assert_eq!(plan(&no_selector, &pods).adopt.len(), 1);
    let mut invalid = rs(1);
    if let Some(spec) = invalid.spec.as_mut() {
        spec.selector.match_labels = Some(labels(&[("bad key!", "v")]));
    }
    let observed = Observed::default();
    assert!(matches!(
        reconcile(&invalid, observed, now()),
        Err(ReconcileError::InvalidSelector(_))
    ));
}

#[test]
fn adopted_pods_count_toward_the_replicas() {
    let pods = [
        pod("mine").not_ready().build(),
        pod("orphan").owners(vec![]).build(),
    ];
    let plan = plan(&rs(1), &pods);
    assert_eq!(plan.adopt.len(), 1);
    assert_eq!(plan.create, None);
    // Both are the ReplicaSet's now; the one not ready goes.
    assert_eq!(plan.delete, ["mine"]);
    assert_eq!(plan.status.replicas, 2);
}
