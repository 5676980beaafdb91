//! Upstream's CSI limit cases: limits from the CSINode or the node,
//! bound, pending and shared volumes, drivers counted apart, ephemeral
//! volumes.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::framework::Code;
use crate::plugins::volume_binding::test_support::{
    claim_volume, class, csi_node, node, node_info, pod, pv, pvc,
};

const EBS: &str = "ebs.csi.aws.com";
const GCE: &str = "pd.csi.storage.gke.io";

fn listers() -> Listers {
    let listers = Listers::default();
    for (driver, prefix) in [(EBS, "ebs"), (GCE, "gce")] {
        for i in 0..4 {
            let name = format!("{prefix}-{i}");
            let spec = json!({"csi": {"driver": driver, "volumeHandle": format!("handle-{name}")}});
            listers
                .persistent_volumes
                .insert(pv(&format!("vol-{name}"), json!({}), spec));
            let claim = json!({"volumeName": format!("vol-{name}")});
            listers
                .persistent_volume_claims
                .insert(pvc(&name, claim, json!({})));
        }
    }
    let claims = [
        ("pending", json!({"storageClassName": "csi-sc"})),
        (
            "missing-pv",
            json!({"volumeName": "vol-gone", "storageClassName": "csi-sc"}),
        ),
        ("no-sc", json!({})),
        ("class-gone", json!({"storageClassName": "gone"})),
    ];
    for (name, spec) in claims {
        listers
            .persistent_volume_claims
            .insert(pvc(name, spec, json!({})));
    }
    listers
        .storage_classes
        .insert(class("csi-sc", "WaitForFirstConsumer", EBS, json!(null)));
    listers
}

fn claims_pod(name: &str, claims: &[&str]) -> Arc<PodInfo> {
    let volumes: Vec<Value> = claims.iter().map(|c| claim_volume(c, c)).collect();
    pod(name, json!(volumes))
}

/// PreFilter's code, then Filter's status when it ran.
fn run(
    listers: Arc<Listers>,
    new: &PodInfo,
    existing: &[Arc<PodInfo>],
    limits: &[(&str, Option<i32>)],
) -> (Code, Option<Status>) {
    listers.csi_nodes.insert(csi_node("n", limits));
    let plugin = NodeVolumeLimits {
        listers: listers.clone(),
    };
    let info = node_info(node("n", json!({})), existing);
    let mut state = CycleState::new();
    let (_, pre) = plugin.pre_filter(&mut state, new, &Snapshot::default(), &listers);
    let filtered = pre.is_success().then(|| plugin.filter(&state, new, &info));
    (pre.code(), filtered)
}

#[test]
fn volumes_of_a_driver_are_counted_against_its_limit() {
    let one = claims_pod("one", &["ebs-0"]);
    let two = claims_pod("two", &["ebs-1", "ebs-2"]);
    let running = claims_pod("running", &["ebs-3"]);
    let pending = claims_pod("pending", &["pending"]);
    let pending_again = claims_pod("pending-again", &["pending"]);
    let missing_pv = claims_pod("missing-pv", &["missing-pv"]);
    let no_sc = claims_pod("no-sc", &["no-sc"]);
    let class_gone = claims_pod("class-gone", &["class-gone"]);
    let shared = claims_pod("shared", &["ebs-1"]);
    let gce_two = claims_pod("gce-two", &["gce-0", "gce-1"]);
    let gce_other_two = claims_pod("gce-other-two", &["gce-2", "gce-3"]);
    let fits = Some(Status::success());
    let exceeds = Some(Status::unschedulable(ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED));
    let ebs = |max: i32| vec![(EBS, Some(max))];
    let both = vec![(EBS, Some(2)), (GCE, Some(2))];
    let cases = [
        (
            "fits when node volume limit >= new pods CSI volume",
            &one,
            vec![running.clone(), two.clone()],
            ebs(4),
            &fits,
        ),
        (
            "doesn't when node volume limit <= pods CSI volume",
            &one,
            vec![running.clone(), two.clone()],
            ebs(2),
            &exceeds,
        ),
        (
            "should when driver does not support volume limits",
            &one,
            vec![running.clone(), two.clone()],
            vec![(EBS, None)],
            &fits,
        ),
        (
            "count pending PVCs towards volume limit",
            &one,
            vec![pending.clone(), two.clone()],
            ebs(3),
            &exceeds,
        ),
        (
            "count the same pending PVC once",
            &one,
            vec![pending, pending_again, two.clone()],
            ebs(4),
            &fits,
        ),
        (
            "should count PVCs with invalid PV name but valid SC",
            &one,
            vec![missing_pv, two.clone()],
            ebs(3),
            &exceeds,
        ),
        (
            "don't count pvcs with missing SC towards volume limit",
            &one,
            vec![no_sc, two.clone()],
            ebs(3),
            &fits,
        ),
        (
            "don't count pvcs whose SC is not found",
            &one,
            vec![class_gone, two.clone()],
            ebs(3),
            &fits,
        ),
        (
            "a volume attached for another pod is not counted again",
            &shared,
            vec![two.clone()],
            ebs(2),
            &fits,
        ),
        (
            "count pvcs with the same type towards volume limit",
            &one,
            vec![gce_two, two.clone()],
            both.clone(),
            &exceeds,
        ),
        (
            "don't count pvcs with different type towards volume limit",
            &gce_other_two,
            vec![two, running],
            both,
            &fits,
        ),
    ];
    for (name, new, existing, limits, want) in cases {
        let got = run(Arc::new(listers()), new, &existing, &limits);
        assert_eq!(got, (Code::Success, want.clone()), "{name}");
    }
}

#[test]
fn a_nodes_legacy_allocatable_is_a_limit_too() {
    let listers = Arc::new(listers());
    let plugin = NodeVolumeLimits {
        listers: listers.clone(),
    };
    let node: keelson_api::k8s_openapi::api::core::v1::Node = serde_json::from_value(json!({
        "metadata": {"name": "legacy"},
        "status": {"allocatable": {format!("attachable-volumes-csi-{EBS}"): "2"}},
    }))
    .expect("a node");
    let info = node_info(Arc::new(node), &[claims_pod("two", &["ebs-1", "ebs-2"])]);
    let new = claims_pod("one", &["ebs-0"]);
    let mut state = CycleState::new();
    let (_, pre) = plugin.pre_filter(&mut state, &new, &Snapshot::default(), &listers);
    assert!(pre.is_success());
    assert_eq!(
        plugin.filter(&state, &new, &info),
        Status::unschedulable(ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED)
    );
}

#[test]
fn a_pod_without_claims_is_skipped_and_a_missing_claim_is_unresolvable() {
    let listers = Arc::new(listers());
    let secrets = pod(
        "s",
        json!([{"name": "c", "configMap": {"name": "x"}}, {"name": "s", "secret": {}}]),
    );
    assert_eq!(
        run(listers.clone(), &secrets, &[], &[(EBS, Some(2))]).0,
        Code::Skip
    );
    let plugin = NodeVolumeLimits {
        listers: listers.clone(),
    };
    let ephemeral = pod(
        "abc",
        json!([{"name": "xyz", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]),
    );
    let (_, status) = plugin.pre_filter(
        &mut CycleState::new(),
        &ephemeral,
        &Snapshot::default(),
        &listers,
    );
    assert_eq!(
        status,
        Status::unresolvable(
            "looking up PVC default/abc-xyz: persistentvolumeclaim \"abc-xyz\" not found"
        )
    );
    // The claim of that name exists but was made for another pod.
    listers.persistent_volume_claims.insert(pvc(
        "abc-xyz",
        json!({"storageClassName": "csi-sc"}),
        json!({}),
    ));
    let (_, status) = plugin.pre_filter(
        &mut CycleState::new(),
        &ephemeral,
        &Snapshot::default(),
        &listers,
    );
    assert_eq!(
        status,
        Status::error("PVC default/abc-xyz was not created for pod default/abc (pod is not owner)")
    );
}

#[test]
fn an_ephemeral_volume_of_the_pod_counts_as_its_class_provisions() {
    let listers = Arc::new(listers());
    let mut claim = pvc("abc-xyz", json!({"storageClassName": "csi-sc"}), json!({}));
    claim.metadata.owner_references =
        Some(vec![serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "name": "abc", "uid": "uid-abc", "controller": true,
    }))
    .expect("an owner reference")]);
    listers.persistent_volume_claims.insert(claim);
    let ephemeral = pod(
        "abc",
        json!([{"name": "xyz", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]),
    );
    let existing = [claims_pod("two", &["ebs-1", "ebs-2"])];
    let got = run(listers, &ephemeral, &existing, &[(EBS, Some(2))]);
    assert_eq!(
        got,
        (
            Code::Success,
            Some(Status::unschedulable(ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED))
        )
    );
}

#[test]
fn only_a_deleted_scheduled_pod_with_claims_requeues() {
    let deleted = |claims: &[&str], node: Option<&str>| {
        let mut pod = (*claims_pod("gone", claims).pod).clone();
        if let Some(spec) = pod.spec.as_mut() {
            spec.node_name = node.map(str::to_string);
        }
        ClusterChange {
            event: crate::framework::ClusterEvent::new(
                EventResource::AssignedPod,
                ActionType::DELETE,
            ),
            old: Some(Changed::Pod(Arc::new(pod))),
            new: None,
        }
    };
    let waiting = claims_pod("waiting", &["ebs-0"]);
    let hint = |change: ClusterChange| schedulable_after_pod_deleted(&waiting.pod, &change);
    assert_eq!(
        hint(deleted(&["placeholder"], Some("n"))),
        QueueingHint::Queue
    );
    assert_eq!(hint(deleted(&[], Some("n"))), QueueingHint::Skip);
    assert_eq!(hint(deleted(&["ebs-0"], None)), QueueingHint::Skip);
}
