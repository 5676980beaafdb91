//! Scaling up and down: how many pods, in which batches, which go first.

use super::*;

#[test]
fn slow_start_batches_double_and_cut_the_last() {
    let cases: &[(usize, &[usize])] = &[
        (0, &[]),
        (1, &[1]),
        (2, &[1, 1]),
        (3, &[1, 2]),
        (10, &[1, 2, 4, 3]),
        (15, &[1, 2, 4, 8]),
        (500, &[1, 2, 4, 8, 16, 32, 64, 128, 245]),
    ];
    for (count, want) in cases {
        assert_eq!(slow_start_batches(*count), *want, "count {count}");
    }
}

#[test]
fn scale_up_from_zero_creates_in_slow_start_batches() {
    let cases: &[(i32, usize, &[usize])] = &[
        (1, 1, &[1]),
        (5, 5, &[1, 2, 2]),
        (8, 8, &[1, 2, 4, 1]),
        (600, 500, &[1, 2, 4, 8, 16, 32, 64, 128, 245]),
    ];
    for (replicas, count, batches) in cases {
        let create = plan(&rs(*replicas), &[]).create.expect("pods to create");
        assert_eq!(create.count, *count, "replicas {replicas}");
        assert_eq!(create.batches, *batches, "replicas {replicas}");
    }
}

#[test]
fn created_pods_come_from_the_template_and_name_their_controller() {
    let create = plan(&rs(2), &[pod("a").build()])
        .create
        .expect("a pod to create");
    assert_eq!(create.count, 1);
    let meta = &create.pod.metadata;
    assert_eq!(meta.generate_name.as_deref(), Some("web-"));
    assert_eq!(meta.name, None);
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    assert_eq!(
        meta.labels,
        Some(labels(&[("app", "web"), ("tier", "front")]))
    );
    assert_eq!(meta.annotations, Some(labels(&[("note", "kept")])));
    let want = OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: "web".into(),
        uid: RS_UID.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    assert_eq!(meta.owner_references, Some(vec![want]));
    let spec = create.pod.spec.expect("the template's spec");
    assert_eq!(spec.containers[0].image.as_deref(), Some("nginx"));
    assert!(template_has_labels(&rs(1)));
}

#[test]
fn nothing_is_created_or_deleted_while_expectations_wait_or_the_rs_is_deleted() {
    let mut deleting = rs(3);
    deleting.metadata.deletion_timestamp = Some(Time(ago(1)));
    let pods = [pod("a").build()];
    let waiting = plan_with(&rs(3), &pods, &[], false);
    assert_eq!(waiting.create, None);
    assert_eq!(waiting.status.replicas, 1);
    assert_eq!(plan(&deleting, &pods).create, None);
    assert!(plan_with(&rs(0), &pods, &[], false).delete.is_empty());
    assert!(plan(&deleting, &[]).delete.is_empty());
}

#[test]
fn finished_and_terminating_pods_do_not_count() {
    let pods = [
        pod("running").build(),
        pod("terminating").deleting().build(),
        pod("succeeded").phase("Succeeded").build(),
        pod("failed").phase("Failed").build(),
    ];
    let plan = plan(&rs(2), &pods);
    assert_eq!(names(&plan.claimed), ["running"]);
    assert_eq!(plan.create.map(|c| c.count), Some(1));
    assert_eq!(plan.status.replicas, 1);
    assert!(plan.delete.is_empty());
}

/// Each rule on its own: `first` is deleted before `second`, whichever
/// order they come in.
#[test]
fn scale_down_deletes_in_upstream_order() {
    let cases: Vec<(&str, P, P)> = vec![
        ("unscheduled first", pod("a").node(""), pod("b")),
        (
            "pending before unknown",
            pod("a").phase("Pending"),
            pod("b").phase("Unknown"),
        ),
        (
            "unknown before running",
            pod("a").phase("Unknown"),
            pod("b"),
        ),
        (
            "no phase like pending",
            pod("a").phase(""),
            pod("b").phase("Unknown"),
        ),
        ("not ready first", pod("a").not_ready(), pod("b")),
        (
            "lower deletion cost first",
            pod("a").cost("-5"),
            pod("b").cost("10"),
        ),
        (
            "readiness beats cost",
            pod("a").not_ready().cost("100"),
            pod("b").cost("-100"),
        ),
        (
            "ready for less time first",
            pod("a").ready_since(Some(ago(10))),
            pod("b"),
        ),
        ("no ready time first", pod("a").ready_since(None), pod("b")),
        (
            "higher restarts first",
            pod("a").restarts(3),
            pod("b").restarts(1),
        ),
        (
            "sidecar restarts next",
            pod("a").sidecar_restarts(2),
            pod("b"),
        ),
        ("newer first", pod("a").created(Some(ago(600))), pod("b")),
        ("no creation time first", pod("a").created(None), pod("b")),
        // 11s and 10s old fall in the same power of two of nanoseconds,
        // so the uid decides, not the (older) age.
        (
            "same log-age by uid",
            pod("a").ready_since(Some(ago(11))),
            pod("b").ready_since(Some(ago(10))),
        ),
        (
            "same log-age of creation by uid",
            pod("a").created(Some(ago(11))),
            pod("b").created(Some(ago(10))),
        ),
    ];
    for (what, first, second) in cases {
        let (first, second) = (first.build(), second.build());
        for pods in [
            [first.clone(), second.clone()],
            [second.clone(), first.clone()],
        ] {
            assert_eq!(plan(&rs(1), &pods).delete, ["a"], "{what}");
        }
    }
}

#[test]
fn scale_down_deletes_pods_on_crowded_nodes_first() {
    let pods = [pod("a").node("n2").build(), pod("b").node("n1").build()];
    let mut related = pods.to_vec();
    related.push(pod("sibling-1").node("n1").build());
    related.push(pod("sibling-2").node("n1").build());
    // A finished sibling does not crowd its node.
    related.push(pod("done-1").node("n2").phase("Succeeded").build());
    related.push(pod("done-2").node("n2").phase("Succeeded").build());
    related.push(pod("done-3").node("n2").phase("Succeeded").build());
    assert_eq!(plan_with(&rs(1), &pods, &related, true).delete, ["b"]);
    // Without related pods (no controller above the ReplicaSet) the input
    // order stands.
    assert_eq!(plan(&rs(1), &pods).delete, ["a"]);
}

#[test]
fn scale_down_is_capped_and_takes_all_in_order_when_none_stay() {
    let many: Vec<Pod> = (0..600).map(|i| pod(&format!("p{i:03}")).build()).collect();
    assert_eq!(plan(&rs(0), &many).delete.len(), BURST_REPLICAS);
    // Deleting every pod needs no ranking: the given order is kept.
    let pods = [
        pod("ready").build(),
        pod("pending").phase("Pending").build(),
    ];
    assert_eq!(plan(&rs(0), &pods).delete, ["ready", "pending"]);
    assert_eq!(plan(&rs(1), &pods).delete, ["pending"]);
}

#[test]
fn deletion_cost_accepts_only_canonical_integers() {
    let cases = [
        ("0", 0),
        ("-5", -5),
        ("42", 42),
        ("+10", 0),
        ("008", 0),
        ("", 0),
        ("abc", 0),
        ("2147483648", 0),
    ];
    for (value, want) in cases {
        assert_eq!(
            deletion_cost(&pod("a").cost(value).build()),
            want,
            "{value:?}"
        );
    }
}

#[test]
fn generate_name_drops_the_dash_when_it_would_be_too_long() {
    let (fits, too_long) = ("a".repeat(252), "a".repeat(253));
    let cases = [
        ("web".to_string(), "web-".to_string()),
        (fits.clone(), format!("{fits}-")),
        (too_long.clone(), too_long),
    ];
    for (name, want) in cases {
        let mut rs = rs(1);
        rs.metadata.name = Some(name);
        let pod = pod_from_template(&rs, OwnerKind::ReplicaSet);
        assert_eq!(pod.metadata.generate_name, Some(want));
    }
}

#[test]
fn a_template_without_labels_cannot_make_pods() {
    let mut unlabeled = rs(1);
    if let Some(meta) = unlabeled
        .spec
        .as_mut()
        .and_then(|spec| spec.template.as_mut())
        .and_then(|template| template.metadata.as_mut())
    {
        meta.labels = None;
    }
    assert!(!template_has_labels(&unlabeled));
}

#[test]
fn pods_made_at_the_same_instant_are_ranked_without_fault() {
    // A Deployment's pods are often created, and become ready, in the
    // same second: many equal times among near ones must still sort.
    let times = [ago(3600), ago(3600), ago(3000), ago(3601), ago(3600)];
    let pods: Vec<Pod> = (0..200)
        .map(|i| {
            let at = times[i % times.len()];
            pod(&format!("p{:03}", (i * 7919) % 200))
                .created(Some(at))
                .ready_since(Some(times[(i / 3) % times.len()]))
                .build()
        })
        .collect();
    let rs = rs(10);
    let first = plan(&rs, &pods).delete;
    assert_eq!(first.len(), 190);
    // Deterministic: the same pods give the same choice.
    assert_eq!(plan(&rs, &pods).delete, first);
}

#[test]
fn slim_cached_pods_give_the_same_plan_as_whole_ones() {
    let pods: Vec<Pod> = vec![
        pod("a").node("n2").cost("5").build(),
        pod("b").not_ready().build(),
        pod("c").restarts(3).build(),
        pod("d").sidecar_restarts(2).build(),
        pod("e").phase("Pending").build(),
        pod("f").ready_since(Some(ago(10))).build(),
        pod("g").created(Some(ago(30))).build(),
    ];
    let mut slim = pods.clone();
    for pod in &mut slim {
        crate::pods::slim(pod);
    }
    let rs = rs(3);
    let (whole, cut) = (plan(&rs, &pods), plan(&rs, &slim));
    assert_eq!(whole.delete, cut.delete);
    assert_eq!(whole.status, cut.status);
    let related = plan_with(&rs, &pods, &pods, true);
    assert_eq!(related.delete, plan_with(&rs, &slim, &slim, true).delete);
}
