use super::*;
use crate::deployment::testing::{deployment, rs};

/// `(name, from, to)` of each scale in the plan, `("+name", 0, n)` for a creation.
fn moves(plan: &Plan) -> Vec<(String, i32, i32)> {
    plan.actions
        .iter()
        .map(|a| match a {
            Action::ScaleReplicaSet { name, from, to, .. } => (name.clone(), *from, *to),
            Action::CreateReplicaSet(rs) => (format!("+{}", name(rs)), 0, spec_replicas(rs)),
            Action::DeleteReplicaSet { name } => (format!("-{name}"), 0, 0),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn m(name: &str, from: i32, to: i32) -> (String, i32, i32) {
    (name.to_owned(), from, to)
}

#[test]
fn new_rs_new_replicas_stays_within_the_surge() {
    let d = deployment(10, "25%", "25%");
    // (new spec, old specs, want)
    let cases: &[(i32, &[i32], i32)] = &[
        (0, &[10], 3),
        (3, &[8], 5),
        (5, &[8], 5),
        (5, &[3], 10),
        (10, &[0], 10),
        (0, &[5, 5], 3),
        (0, &[13], 0),
    ];
    for (new, old, want) in cases {
        let old: Vec<_> = old
            .iter()
            .enumerate()
            .map(|(i, n)| rs(&format!("old{i}"), i as i64, *n, *n))
            .collect();
        assert_eq!(
            new_rs_new_replicas(&d, &rs("new", 9, *new, *new), &old),
            *want,
            "{new} {old:?}"
        );
    }
    let mut recreate = deployment(10, "25%", "25%");
    recreate
        .spec
        .as_mut()
        .and_then(|s| s.strategy.as_mut())
        .expect("strategy")
        .type_ = Some("Recreate".into());
    assert_eq!(
        new_rs_new_replicas(&recreate, &rs("new", 9, 0, 0), &[rs("old", 1, 10, 10)]),
        10
    );
}

#[test]
fn one_rolling_step_at_a_time() {
    let d = deployment(10, "25%", "25%");
    // (new (spec, available), old (name, created, spec, available), want)
    type Case = (
        (i32, i32),
        &'static [(&'static str, i64, i32, i32)],
        &'static [(&'static str, i32, i32)],
    );
    let cases: &[Case] = &[
        // Scale the new one up first.
        ((3, 3), &[("old", 1, 8, 8)], &[("new", 3, 5)]),
        // At the surge: scale old down by what is available above 8.
        ((5, 5), &[("old", 1, 8, 8)], &[("old", 8, 3)]),
        // New pods unavailable: they count against the budget, nothing moves.
        ((5, 0), &[("old", 1, 8, 8)], &[]),
        // Unhealthy old pods go first, then the available ones above 8.
        (
            (3, 3),
            &[("old", 1, 10, 6)],
            &[("old", 10, 6), ("old", 6, 5)],
        ),
        // Oldest first.
        (
            (5, 5),
            &[("b", 2, 6, 6), ("a", 1, 2, 2)],
            &[("a", 2, 0), ("b", 6, 3)],
        ),
        // A new ReplicaSet above the replicas goes straight down.
        ((12, 12), &[("old", 1, 0, 0)], &[("new", 12, 10)]),
        // More available than wanted on an old one: upstream stops.
        ((5, 5), &[("old", 1, 8, 9)], &[]),
    ];
    for ((new_spec, new_available), old, want) in cases {
        let new = rs("new", 9, *new_spec, *new_available);
        let old: Vec<_> = old.iter().map(|(n, c, s, a)| rs(n, *c, *s, *a)).collect();
        let want: Vec<_> = want.iter().map(|(n, f, t)| m(n, *f, *t)).collect();
        assert_eq!(
            moves(&rolling_plan(&d, Some(&new), &old)),
            want,
            "new {new_spec}/{new_available} old {old:?}"
        );
    }
}

#[test]
fn rolling_plan_creates_the_new_replica_set_and_scales_old_down_at_once() {
    let d = deployment(10, "25%", "25%");
    let plan = rolling_plan(&d, None, &[rs("old", 1, 10, 10)]);
    let Some(Action::CreateReplicaSet(new)) = plan.actions.first() else {
        panic!("{plan:?}")
    };
    assert_eq!(
        moves(&plan),
        [m(&format!("+{}", name(new)), 0, 3), m("old", 10, 8)]
    );
    let events: Vec<String> = plan.events().into_iter().map(|e| e.message).collect();
    assert_eq!(events, ["Scaled down replica set old from 10 to 8"]);
}

#[test]
fn scale_events_use_upstreams_wording() {
    let d = deployment(10, "25%", "25%");
    let up = scale_to(&d, &rs("web-1", 1, 3, 3), 5).expect("a change");
    let event = up.event().expect("an event");
    assert_eq!((event.type_, event.reason), ("Normal", "ScalingReplicaSet"));
    assert_eq!(event.message, "Scaled up replica set web-1 from 3 to 5");
    let down = scale_to(&d, &rs("web-0", 1, 8, 8), 3).expect("a change");
    assert_eq!(
        down.event().expect("an event").message,
        "Scaled down replica set web-0 from 8 to 3"
    );
    assert_eq!(scale_to(&d, &rs("web-0", 1, 8, 8), 8), None);
    let Action::ScaleReplicaSet {
        desired_replicas,
        max_replicas,
        ..
    } = up
    else {
        panic!()
    };
    assert_eq!((desired_replicas, max_replicas), (10, 13));
}

#[test]
fn recreate_empties_the_old_before_starting_the_new() {
    let mut d = deployment(3, "25%", "25%");
    let strategy = d
        .spec
        .as_mut()
        .and_then(|s| s.strategy.as_mut())
        .expect("strategy");
    strategy.type_ = Some("Recreate".into());
    strategy.rolling_update = None;
    let old = [rs("a", 1, 2, 2), rs("b", 2, 1, 1), rs("c", 0, 0, 0)];
    assert_eq!(
        moves(&recreate_plan(&d, None, &old, true)),
        [m("a", 2, 0), m("b", 1, 0)]
    );
    let emptied = [rs("a", 1, 0, 0), rs("b", 2, 0, 0)];
    assert!(
        recreate_plan(&d, None, &emptied, true).actions.is_empty(),
        "old pods still run"
    );
    let plan = recreate_plan(&d, None, &emptied, false);
    let Some(Action::CreateReplicaSet(new)) = plan.actions.first() else {
        panic!("{plan:?}")
    };
    assert_eq!(spec_replicas(new), 3);
    assert_eq!(
        moves(&recreate_plan(
            &d,
            Some(&rs("new", 3, 0, 0)),
            &emptied,
            false
        )),
        [m("new", 0, 3)]
    );
}

#[test]
fn old_pods_running_counts_unfinished_pods_of_old_replica_sets() {
    let pod = |owner: &str, phase: &str| -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                "uid": format!("{owner}-uid"), "controller": true}]},
            "status": {"phase": phase},
        }))
        .expect("a valid pod")
    };
    let mut old = rs("old", 1, 0, 0);
    old.status.as_mut().expect("status").replicas = 0;
    let old = [old];
    assert!(!old_pods_running(&old, &[]));
    assert!(old_pods_running(&old, &[pod("old", "Running")]));
    assert!(old_pods_running(&old, &[pod("old", "Unknown")]));
    assert!(!old_pods_running(
        &old,
        &[pod("old", "Succeeded"), pod("old", "Failed")]
    ));
    assert!(!old_pods_running(&old, &[pod("new", "Running")]));
    assert!(
        old_pods_running(&[rs("old", 1, 0, 1)], &[]),
        "status still counts a pod"
    );
}
