//! Table tests of the ReplicaSet's pure sync, against upstream's behaviour.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use keelson_api::k8s_openapi::api::apps::v1::{
    ReplicaSet, ReplicaSetCondition, ReplicaSetSpec, ReplicaSetStatus,
};
use keelson_api::k8s_openapi::api::core::v1::{
    Container, ContainerStatus, Pod, PodCondition, PodSpec, PodStatus, PodTemplateSpec,
};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};
use serde_json::json;

use super::*;

const RS_UID: &str = "rs-uid";

fn now() -> Timestamp {
    "2026-01-01T12:00:00Z".parse().expect("a valid timestamp")
}

fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn rs(replicas: i32) -> ReplicaSet {
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some(RS_UID.into()),
            generation: Some(3),
            ..ObjectMeta::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: None,
            selector: LabelSelector {
                match_labels: Some(labels(&[("app", "web")])),
                match_expressions: None,
            },
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(&[("app", "web"), ("tier", "front")])),
                    annotations: Some(labels(&[("note", "kept")])),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "app".into(),
                        image: Some("nginx".into()),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            }),
        }),
        status: None,
    }
}

fn owner(uid: &str, controller: bool) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: "someone".into(),
        uid: uid.into(),
        controller: Some(controller),
        block_owner_deletion: Some(true),
    }
}

/// A pod builder. By default: owned by the ReplicaSet, fully labeled,
/// running and ready for an hour on node `n1`, created two hours ago.
struct P(Pod);

fn pod(name: &str) -> P {
    P(Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            uid: Some(format!("uid-{name}")),
            labels: Some(labels(&[("app", "web"), ("tier", "front")])),
            owner_references: Some(vec![owner(RS_UID, true)]),
            creation_timestamp: Some(Time(ago(7200))),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some("n1".into()),
            ..PodSpec::default()
        }),
        status: Some(PodStatus {
            phase: Some("Running".into()),
            ..PodStatus::default()
        }),
    })
    .ready_since(Some(ago(3600)))
}

impl P {
    fn status(&mut self) -> &mut PodStatus {
        self.0.status.get_or_insert_with(PodStatus::default)
    }
    fn ready_since(mut self, since: Option<Timestamp>) -> Self {
        self.status().conditions = Some(vec![PodCondition {
            type_: "Ready".into(),
            status: "True".into(),
            last_transition_time: since.map(Time),
            ..PodCondition::default()
        }]);
        self
    }
    fn not_ready(mut self) -> Self {
        self.status().conditions = Some(vec![PodCondition {
            type_: "Ready".into(),
            status: "False".into(),
            ..PodCondition::default()
        }]);
        self
    }
    fn phase(mut self, phase: &str) -> Self {
        self.status().phase = Some(phase.into());
        self
    }
    fn node(mut self, node: &str) -> Self {
        let spec = self.0.spec.get_or_insert_with(PodSpec::default);
        spec.node_name = (!node.is_empty()).then(|| node.to_string());
        self
    }
    fn owners(mut self, owners: Vec<OwnerReference>) -> Self {
        self.0.metadata.owner_references = (!owners.is_empty()).then_some(owners);
        self
    }
    fn labels(mut self, pairs: &[(&str, &str)]) -> Self {
        self.0.metadata.labels = Some(labels(pairs));
        self
    }
    fn deleting(mut self) -> Self {
        self.0.metadata.deletion_timestamp = Some(Time(ago(1)));
        self
    }
    fn cost(mut self, cost: &str) -> Self {
        self.0.metadata.annotations = Some(labels(&[(POD_DELETION_COST, cost)]));
        self
    }
    fn created(mut self, at: Option<Timestamp>) -> Self {
        self.0.metadata.creation_timestamp = at.map(Time);
        self
    }
    fn restarts(mut self, count: i32) -> Self {
        self.status().container_statuses = Some(vec![ContainerStatus {
            name: "app".into(),
            restart_count: count,
            ..ContainerStatus::default()
        }]);
        self
    }
    fn sidecar_restarts(mut self, count: i32) -> Self {
        let spec = self.0.spec.get_or_insert_with(PodSpec::default);
        spec.init_containers = Some(vec![Container {
            name: "proxy".into(),
            restart_policy: Some("Always".into()),
            ..Container::default()
        }]);
        self.status().init_container_statuses = Some(vec![ContainerStatus {
            name: "proxy".into(),
            restart_count: count,
            ..ContainerStatus::default()
        }]);
        self
    }
    fn build(self) -> Pod {
        self.0
    }
}

fn plan(rs: &ReplicaSet, pods: &[Pod]) -> Plan {
    plan_with(rs, pods, &[], true)
}

fn plan_with(rs: &ReplicaSet, pods: &[Pod], related: &[Pod], satisfied: bool) -> Plan {
    let observed = Observed {
        pods,
        related_pods: related,
        expectations_satisfied: satisfied,
    };
    reconcile(rs, observed, now()).expect("a valid selector")
}

fn names(pods: &[Pod]) -> Vec<&str> {
    pods.iter()
        .map(|p| p.metadata.name.as_deref().unwrap_or(""))
        .collect()
}

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
            Event::created("web-abc"),
            "Normal",
            "SuccessfulCreate",
            "Created pod: web-abc",
        ),
        (
            Event::deleted("web-abc"),
            "Normal",
            "SuccessfulDelete",
            "Deleted pod: web-abc",
        ),
        (
            Event::failed_create("quota"),
            "Warning",
            "FailedCreate",
            "Error creating: quota",
        ),
        (
            Event::failed_delete("boom"),
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

#[test]
fn expectations_hold_until_observed_or_expired() {
    enum Step {
        Creates(usize),
        Deletes(&'static [&'static str]),
        Created,
        Deleted(&'static str),
        Forget,
    }
    use Step::*;
    let cases: &[(&str, &[Step], i64, bool)] = &[
        ("nothing recorded", &[], 0, true),
        ("creates pending", &[Creates(2), Created], 0, false),
        ("creates all seen", &[Creates(2), Created, Created], 0, true),
        (
            "more seen than expected",
            &[Creates(1), Created, Created],
            0,
            true,
        ),
        ("zero creates", &[Creates(0)], 0, true),
        (
            "deletes pending",
            &[Deletes(&["ns/a", "ns/b"]), Deleted("ns/a")],
            0,
            false,
        ),
        (
            "a deletion counts once",
            &[Deletes(&["ns/a", "ns/b"]), Deleted("ns/a"), Deleted("ns/a")],
            0,
            false,
        ),
        (
            "an unexpected pod does not count",
            &[Deletes(&["ns/a"]), Deleted("ns/z")],
            0,
            false,
        ),
        (
            "deletes all seen",
            &[Deletes(&["ns/a", "ns/b"]), Deleted("ns/b"), Deleted("ns/a")],
            0,
            true,
        ),
        ("not yet expired at 5 minutes", &[Creates(1)], 300, false),
        ("expired after 5 minutes", &[Creates(1)], 301, true),
        ("forgotten", &[Creates(1), Forget], 0, true),
        (
            "creates replace deletes",
            &[Deletes(&["ns/a"]), Creates(1), Created],
            0,
            true,
        ),
    ];
    for (what, steps, later, want) in cases {
        let mut expectations = Expectations::new();
        for step in *steps {
            match step {
                Creates(n) => expectations.expect_creations("ns/web", *n, now()),
                Deletes(pods) => {
                    expectations.expect_deletions("ns/web", pods.iter().copied(), now())
                }
                Created => expectations.creation_observed("ns/web"),
                Deleted(pod) => expectations.deletion_observed("ns/web", pod),
                Forget => expectations.forget("ns/web"),
            }
        }
        let at = now() + SignedDuration::from_secs(*later);
        assert_eq!(expectations.satisfied("ns/web", at), *want, "{what}");
        assert!(expectations.satisfied("ns/other", at), "{what}: other keys");
    }
}

#[test]
fn pod_keys_are_namespace_slash_name() {
    assert_eq!(pod_key(&pod("a").build()), "default/a");
    let mut expectations = Expectations::new();
    expectations.expect_deletions("default/web", [pod_key(&pod("a").build())], now());
    assert_eq!(expectations.pending("default/web"), Some((0, 1)));
    expectations.deletion_observed("default/web", "default/a");
    assert_eq!(expectations.pending("default/web"), Some((0, 0)));
}
