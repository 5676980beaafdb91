use super::*;
use crate::deployment::testing::{at, deployment, rs};

fn progressing_at(
    d: &mut Deployment,
    reason: &str,
    updated: i64,
    transition: i64,
    counts: &DeploymentStatus,
) {
    let mut status = counts.clone();
    let mut condition = new_condition(PROGRESSING, "True", reason, "before".into(), at(updated));
    condition.last_transition_time = Some(Time(at(transition)));
    set_condition(&mut status, condition);
    d.status = Some(status);
}

fn progress(status: &DeploymentStatus) -> (String, String, String, i64, i64) {
    let c = get_condition(status, PROGRESSING).expect("a Progressing condition");
    let second = |t: &Option<Time>| t.as_ref().map_or(-1, |t| t.0.as_second());
    (
        c.status.clone(),
        c.reason.clone().unwrap_or_default(),
        c.message.clone().unwrap_or_default(),
        second(&c.last_update_time),
        second(&c.last_transition_time),
    )
}

#[test]
fn counts_sum_over_the_replica_sets() {
    let mut d = deployment(10, "25%", "25%");
    d.metadata.generation = Some(4);
    d.status = Some(DeploymentStatus {
        collision_count: Some(2),
        ..Default::default()
    });
    let mut new = rs("new", 2, 5, 2);
    new.status.as_mut().expect("status").ready_replicas = Some(3);
    let old = [rs("old", 1, 8, 8), rs("older", 0, 0, 0)];
    let status = calculate_status(&d, Some(&new), &old, at(10));
    assert_eq!(status.replicas, Some(13));
    assert_eq!(status.updated_replicas, Some(5));
    assert_eq!(status.ready_replicas, Some(11));
    assert_eq!(status.available_replicas, Some(10));
    assert_eq!(status.unavailable_replicas, Some(3));
    assert_eq!(status.observed_generation, Some(4));
    assert_eq!(status.collision_count, Some(2));
    // More available than wanted is no unavailability, and zero is left out.
    let status = calculate_status(&d, Some(&rs("new", 2, 1, 3)), &[], at(10));
    assert_eq!(status.unavailable_replicas, None);
}

#[test]
fn available_condition_follows_max_unavailable() {
    let d = deployment(10, "25%", "25%");
    // (available, want status, reason, message)
    let cases = [
        (
            8,
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        ),
        (
            10,
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        ),
        (
            7,
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        ),
        (
            0,
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        ),
    ];
    for (available, want, why, message) in cases {
        let status = calculate_status(&d, Some(&rs("new", 1, 10, available)), &[], at(10));
        let c = get_condition(&status, AVAILABLE).expect("Available");
        assert_eq!(
            (c.status.as_str(), c.reason.as_deref(), c.message.as_deref()),
            (want, Some(why), Some(message))
        );
    }
}

#[test]
fn available_condition_keeps_its_transition_time() {
    let mut d = deployment(10, "25%", "25%");
    let first = calculate_status(&d, Some(&rs("new", 1, 10, 10)), &[], at(10));
    d.status = Some(first);
    let again = calculate_status(&d, Some(&rs("new", 1, 10, 9)), &[], at(50));
    let c = get_condition(&again, AVAILABLE).expect("Available");
    assert_eq!(
        c.last_update_time,
        Some(Time(at(10))),
        "same status and reason: untouched"
    );
    d.status = Some(again);
    let down = calculate_status(&d, Some(&rs("new", 1, 10, 2)), &[], at(90));
    let c = get_condition(&down, AVAILABLE).expect("Available");
    assert_eq!(
        (c.status.as_str(), c.last_transition_time.clone()),
        ("False", Some(Time(at(90))))
    );
}

#[test]
fn progressing_condition_through_a_rollout() {
    let counts = |replicas, updated, available| DeploymentStatus {
        replicas: Some(replicas),
        updated_replicas: Some(updated),
        ready_replicas: Some(available),
        available_replicas: Some(available),
        observed_generation: Some(1),
        ..Default::default()
    };
    let new = |spec, available| rs("web-abc", 2, spec, available);
    let old = |spec| [rs("web-old", 1, spec, spec)];
    // (condition before: reason, lastUpdate; counts before; new rs; old; now; want)
    type Case = (
        &'static str,
        i64,
        DeploymentStatus,
        ReplicaSet,
        [ReplicaSet; 1],
        i64,
        (&'static str, &'static str, &'static str, i64, i64),
    );
    let cases: Vec<Case> = vec![
        // More available: progressing, lastUpdateTime moves, transition kept.
        (
            "ReplicaSetUpdated",
            100,
            counts(13, 3, 8),
            new(5, 5),
            old(8),
            200,
            (
                "True",
                "ReplicaSetUpdated",
                "ReplicaSet \"web-abc\" is progressing.",
                200,
                50,
            ),
        ),
        // No progress within the deadline (600 s after 100): unchanged at 700.
        (
            "ReplicaSetUpdated",
            100,
            counts(13, 5, 13),
            new(5, 5),
            old(8),
            700,
            ("True", "ReplicaSetUpdated", "before", 100, 50),
        ),
        // ... and timed out just past it.
        (
            "ReplicaSetUpdated",
            100,
            counts(13, 5, 13),
            new(5, 5),
            old(8),
            701,
            (
                "False",
                "ProgressDeadlineExceeded",
                "ReplicaSet \"web-abc\" has timed out progressing.",
                701,
                701,
            ),
        ),
        // Complete: every replica updated and available.
        (
            "ReplicaSetUpdated",
            100,
            counts(10, 10, 9),
            new(10, 10),
            old(0),
            300,
            (
                "True",
                "NewReplicaSetAvailable",
                "ReplicaSet \"web-abc\" has successfully progressed.",
                300,
                50,
            ),
        ),
        // A completed rollout is not looked at again.
        (
            "NewReplicaSetAvailable",
            100,
            counts(10, 10, 10),
            new(10, 9),
            old(0),
            5000,
            ("True", "NewReplicaSetAvailable", "before", 100, 50),
        ),
    ];
    for (reason, updated, before, new_rs, old_rses, now, want) in cases {
        let mut d = deployment(10, "25%", "25%");
        progressing_at(&mut d, reason, updated, 50, &before);
        let (status, _) = rollout_status(&d, Some(&new_rs), &old_rses, at(now));
        let want = (
            want.0.to_owned(),
            want.1.to_owned(),
            want.2.to_owned(),
            want.3,
            want.4,
        );
        assert_eq!(progress(&status), want, "{reason} at {now}");
    }
}

#[test]
fn a_stuck_rollout_is_looked_at_again_past_its_deadline() {
    let before = DeploymentStatus {
        replicas: Some(13),
        updated_replicas: Some(5),
        available_replicas: Some(8),
        ..Default::default()
    };
    let mut d = deployment(10, "25%", "25%");
    progressing_at(&mut d, "ReplicaSetUpdated", 100, 100, &before);
    let new = rs("web-abc", 2, 5, 0);
    let (_, requeue) = rollout_status(&d, Some(&new), &[rs("web-old", 1, 8, 8)], at(400));
    assert_eq!(
        requeue,
        Some(jiff::SignedDuration::from_secs(301)),
        "100 + 600 - 400, plus a second"
    );
    let (_, requeue) = rollout_status(&d, Some(&new), &[rs("web-old", 1, 8, 8)], at(700));
    assert_eq!(requeue, Some(jiff::SignedDuration::ZERO));
}

#[test]
fn without_a_deadline_there_is_no_progressing_condition() {
    let mut d = deployment(10, "25%", "25%");
    progressing_at(
        &mut d,
        "ReplicaSetUpdated",
        100,
        100,
        &DeploymentStatus::default(),
    );
    d.spec.as_mut().expect("spec").progress_deadline_seconds = Some(i32::MAX);
    let (status, requeue) = rollout_status(&d, Some(&rs("web-abc", 2, 5, 0)), &[], at(400));
    assert!(get_condition(&status, PROGRESSING).is_none());
    assert_eq!(requeue, None);
}

#[test]
fn pausing_and_resuming_set_an_unknown_progressing_condition() {
    let mut d = deployment(10, "25%", "25%");
    assert_eq!(paused_condition(&d, at(10)), None, "not paused");
    d.spec.as_mut().expect("spec").paused = Some(true);
    let paused = paused_condition(&d, at(10)).expect("a change");
    let want = (
        "Unknown".to_owned(),
        "DeploymentPaused".to_owned(),
        "Deployment is paused".to_owned(),
        10,
        10,
    );
    assert_eq!(progress(&paused), want);
    d.status = Some(paused);
    assert_eq!(paused_condition(&d, at(20)), None, "already shown");
    d.spec.as_mut().expect("spec").paused = Some(false);
    let resumed = paused_condition(&d, at(30)).expect("a change");
    let want = (
        "Unknown".to_owned(),
        "DeploymentResumed".to_owned(),
        "Deployment is resumed".to_owned(),
        30,
        10,
    );
    assert_eq!(progress(&resumed), want);
    // A timed-out rollout keeps saying so.
    progressing_at(
        &mut d,
        "ProgressDeadlineExceeded",
        5,
        5,
        &DeploymentStatus::default(),
    );
    d.spec.as_mut().expect("spec").paused = Some(true);
    assert_eq!(paused_condition(&d, at(40)), None);
}

#[test]
fn a_replica_failure_is_copied_from_the_new_replica_set() {
    let d = deployment(2, "25%", "25%");
    let mut new = rs("web-abc", 2, 2, 0);
    new.status.as_mut().expect("status").conditions = Some(vec![
        serde_json::from_value(serde_json::json!({
            "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
            "message": "pods \"x\" is forbidden", "lastTransitionTime": "1970-01-01T00:00:05Z"
        }))
        .expect("a valid condition"),
    ]);
    let (status, _) = rollout_status(&d, Some(&new), &[], at(10));
    let c = get_condition(&status, REPLICA_FAILURE).expect("copied");
    assert_eq!(
        (c.reason.as_deref(), c.last_update_time.clone()),
        (Some("FailedCreate"), Some(Time(at(5))))
    );
}
