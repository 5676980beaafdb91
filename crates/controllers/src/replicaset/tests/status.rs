//! The status, the ReplicaFailure condition, requeues and events.

use super::*;
use crate::replicaset::events;

fn with_min_ready(replicas: i32, seconds: i32) -> ReplicaSet {
    let mut rs = rs(replicas);
    if let Some(spec) = rs.spec.as_mut() {
        spec.min_ready_seconds = Some(seconds);
    }
    rs
}

#[test]
fn status_counts_labeled_ready_and_available_pods() {
    let pods = [
        pod("long-ready"),
        pod("just-ready").ready_since(Some(ago(5))),
        pod("exactly-min").ready_since(Some(ago(10))),
        pod("ready-no-time").ready_since(None),
        pod("not-ready").not_ready(),
        pod("partly-labeled").labels(&[("app", "web")]).not_ready(),
    ];
    let pods: Vec<Pod> = pods.into_iter().map(P::build).collect();
    // Available means ready for strictly more than minReadySeconds.
    let cases = [(0, 4), (4, 3), (5, 2), (10, 1)];
    for (min_ready, available) in cases {
        let status = plan(&with_min_ready(6, min_ready), &pods).status;
        let what = format!("minReadySeconds {min_ready}");
        assert_eq!(status.replicas, 6, "{what}");
        assert_eq!(status.fully_labeled_replicas, Some(5), "{what}");
        assert_eq!(status.ready_replicas, Some(4), "{what}");
        assert_eq!(status.available_replicas, Some(available), "{what}");
        assert_eq!(status.observed_generation, Some(3), "{what}");
    }
}

#[test]
fn requeue_after_min_ready_seconds_when_ready_but_not_yet_available() {
    let pods = [pod("a").ready_since(Some(ago(5))).build()];
    assert_eq!(
        plan(&with_min_ready(1, 30), &pods).requeue_after,
        Some(SignedDuration::from_secs(30))
    );
    let available = [pod("a").build()];
    assert_eq!(plan(&with_min_ready(1, 30), &available).requeue_after, None);
    assert_eq!(plan(&rs(1), &pods).requeue_after, None);
    let status = plan(&with_min_ready(1, 30), &pods).status;
    assert_eq!(requeue_after(&with_min_ready(1, 30), &status, true), None);
}

fn failure_of(status: &ReplicaSetStatus) -> Option<(&str, &str)> {
    condition(status, REPLICA_FAILURE).map(|c| {
        (
            c.reason.as_deref().unwrap_or(""),
            c.message.as_deref().unwrap_or(""),
        )
    })
}

#[test]
fn replica_failure_is_set_on_failure_and_cleared_after() {
    let one = [pod("a").build()];
    let err = "pods \"web-x\" is forbidden: exceeded quota";
    let too_few = status_after(&rs(3), &one, Some(err), now());
    assert_eq!(failure_of(&too_few), Some(("FailedCreate", err)));
    let cond = condition(&too_few, REPLICA_FAILURE).expect("the condition");
    assert_eq!(cond.status, "True");
    assert_eq!(cond.last_transition_time, Some(Time(now())));
    let too_many = status_after(&rs(0), &one, Some("boom"), now());
    assert_eq!(failure_of(&too_many), Some(("FailedDelete", "boom")));

    // A condition already there is kept as it is on a new failure...
    let mut failing = rs(3);
    failing.status = Some(too_few.clone());
    let again = status_after(&failing, &one, Some("other"), ago(-60));
    assert_eq!(again.conditions, too_few.conditions);
    // ...and removed once a sync goes through.
    let cleared = status_after(&failing, &one, None, now());
    assert_eq!(failure_of(&cleared), None);
    assert!(status_needs_update(&failing, &cleared));
}

#[test]
fn status_is_written_only_when_it_changes() {
    let pods = [pod("a").build()];
    let mut synced = rs(1);
    synced.status = Some(plan(&synced, &pods).status);
    assert!(!plan(&synced, &pods).status_changed);
    synced.metadata.generation = Some(4);
    assert!(plan(&synced, &pods).status_changed);
    assert!(plan(&rs(1), &pods).status_changed);
    let other = ReplicaSetCondition {
        type_: "Other".into(),
        status: "True".into(),
        ..ReplicaSetCondition::default()
    };
    let mut with_other = rs(1);
    with_other.status = Some(ReplicaSetStatus {
        conditions: Some(vec![other.clone()]),
        ..plan(&rs(1), &pods).status
    });
    let plan = plan(&with_other, &pods);
    assert!(!plan.status_changed);
    assert_eq!(plan.status.conditions, Some(vec![other]));
}

#[test]
fn events_read_as_upstream_s() {
    let cases = [
        (
            events::created("web-abc"),
            "Normal",
            "SuccessfulCreate",
            "Created pod: web-abc",
        ),
        (
            events::deleted("web-abc"),
            "Normal",
            "SuccessfulDelete",
            "Deleted pod: web-abc",
        ),
        (
            events::failed_create("quota"),
            "Warning",
            "FailedCreate",
            "Error creating: quota",
        ),
        (
            events::failed_delete("boom"),
            "Warning",
            "FailedDelete",
            "Error deleting: boom",
        ),
    ];
    for (event, type_, reason, message) in cases {
        assert_eq!((event.type_.as_str(), event.reason), (type_, reason));
        assert_eq!(event.message, message);
    }
}
