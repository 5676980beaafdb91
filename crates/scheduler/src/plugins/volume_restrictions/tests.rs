//! Upstream's cases: disk conflicts of each kind, and ReadWriteOncePod
//! claims in use.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::framework::Code;
use crate::plugins::volume_binding::test_support::{claim_volume, node, node_info, pod, pvc};

/// PreFilter's code, then Filter's status when PreFilter succeeded.
fn run(
    pod: &PodInfo,
    node: &NodeInfo,
    snapshot: &Snapshot,
    listers: &Listers,
) -> (Code, Option<Status>) {
    let mut state = CycleState::new();
    let (_, pre) = VolumeRestrictions.pre_filter(&mut state, pod, snapshot, listers);
    let filtered = pre
        .is_success()
        .then(|| VolumeRestrictions.filter(&state, pod, node));
    (pre.code(), filtered)
}

/// Upstream's four cases for one kind of disk: `same` conflicts with
/// itself and not with `other`.
fn disk_cases(same: Value, other: Value) {
    let conflict = Status::unschedulable(ERR_REASON_DISK_CONFLICT);
    let with = |v: &Value| pod("p", json!([v]));
    let empty = pod("p", json!([]));
    let holder = with(&same);
    let cases = [
        ("nothing", empty.clone(), vec![], Code::Skip, None),
        ("one state", empty, vec![holder.clone()], Code::Skip, None),
        (
            "same state",
            with(&same),
            vec![holder.clone()],
            Code::Success,
            Some(conflict),
        ),
        (
            "different state",
            with(&other),
            vec![holder],
            Code::Success,
            Some(Status::success()),
        ),
    ];
    let listers = Listers::default();
    for (name, pod, on_node, pre, filter) in cases {
        let info = node_info(node("n", json!({})), &on_node);
        let snapshot = Snapshot::new(vec![Arc::new(info.clone())]);
        assert_eq!(
            run(&pod, &info, &snapshot, &listers),
            (pre, filter),
            "{name}"
        );
    }
}

#[test]
fn gce_disks_conflict_by_name() {
    disk_cases(
        json!({"name": "v", "gcePersistentDisk": {"pdName": "foo"}}),
        json!({"name": "v", "gcePersistentDisk": {"pdName": "bar"}}),
    );
}

#[test]
fn aws_disks_conflict_by_volume_id() {
    disk_cases(
        json!({"name": "v", "awsElasticBlockStore": {"volumeID": "foo"}}),
        json!({"name": "v", "awsElasticBlockStore": {"volumeID": "bar"}}),
    );
}

#[test]
fn rbd_images_conflict_with_a_shared_monitor() {
    let rbd = |monitors: Value| json!({"name": "v", "rbd": {"monitors": monitors, "pool": "foo", "image": "bar", "fsType": "ext4"}});
    disk_cases(rbd(json!(["a", "b"])), rbd(json!(["c", "d"])));
}

#[test]
fn iscsi_targets_conflict_by_iqn() {
    let iscsi = |iqn: &str| json!({"name": "v", "iscsi": {"targetPortal": "127.0.0.1:3260", "iqn": iqn, "fsType": "ext4", "lun": 0}});
    disk_cases(
        iscsi("iqn.2016-12.server:storage.target01"),
        iscsi("iqn.2017-12.server:storage.target01"),
    );
}

#[test]
fn read_only_gce_disks_may_be_shared_but_ebs_may_not() {
    let gce = json!({"name": "v", "gcePersistentDisk": {"pdName": "foo", "readOnly": true}});
    let ebs = json!({"name": "v", "awsElasticBlockStore": {"volumeID": "foo", "readOnly": true}});
    let listers = Listers::default();
    for (volume, want) in [
        (gce, Status::success()),
        (ebs, Status::unschedulable(ERR_REASON_DISK_CONFLICT)),
    ] {
        let info = node_info(node("n", json!({})), &[pod("q", json!([volume]))]);
        let snapshot = Snapshot::new(vec![Arc::new(info.clone())]);
        let got = run(&pod("p", json!([volume])), &info, &snapshot, &listers);
        assert_eq!(got, (Code::Success, Some(want)));
    }
}

#[test]
fn a_volume_without_restrictions_is_skipped() {
    let info = node_info(node("n", json!({})), &[]);
    let snapshot = Snapshot::new(vec![Arc::new(info.clone())]);
    let pod = pod("p", json!([{"name": "scratch", "emptyDir": {}}]));
    assert_eq!(
        run(&pod, &info, &snapshot, &Listers::default()),
        (Code::Skip, None)
    );
}

fn access_mode_listers() -> Listers {
    let listers = Listers::default();
    let modes = |mode: &str| json!({"accessModes": [mode]});
    for (name, mode) in [
        ("claim-with-rwop-1", "ReadWriteOncePod"),
        ("claim-with-rwop-2", "ReadWriteOncePod"),
        ("claim-with-rwx", "ReadWriteMany"),
    ] {
        listers
            .persistent_volume_claims
            .insert(pvc(name, modes(mode), json!({})));
    }
    listers
}

#[test]
fn read_write_once_pod_claims_in_use_conflict() {
    let rwop = |name: &str, claims: &[&str]| {
        let volumes: Vec<Value> = claims.iter().map(|c| claim_volume(c, c)).collect();
        pod(name, json!(volumes))
    };
    let one = rwop("pod-with-one-pvc", &["claim-with-rwop-1"]);
    let two = rwop(
        "pod-with-two-pvcs",
        &["claim-with-rwop-1", "claim-with-rwop-2"],
    );
    let rwx = rwop("pod-with-rwx", &["claim-with-rwx"]);
    let conflict = Status::unschedulable(ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT);
    let cases = [
        (
            "no access mode conflict",
            one.clone(),
            vec![rwx.clone()],
            Code::Skip,
            None,
        ),
        (
            "access mode conflict, unschedulable",
            rwop("pod-with-one-conflict", &["claim-with-rwop-1"]),
            vec![one, rwx.clone()],
            Code::Success,
            Some(conflict.clone()),
        ),
        (
            "two conflicts, unschedulable",
            rwop(
                "pod-with-two-conflicts",
                &["claim-with-rwop-1", "claim-with-rwop-2"],
            ),
            vec![two, rwx],
            Code::Success,
            Some(conflict),
        ),
    ];
    let listers = access_mode_listers();
    for (name, pod, on_node, pre, filter) in cases {
        let info = node_info(node("node-1", json!({})), &on_node);
        // The claim is used on another node: it conflicts everywhere.
        let snapshot = Snapshot::new(vec![Arc::new(info.clone())]);
        let empty = node_info(node("node-2", json!({})), &[]);
        assert_eq!(
            run(&pod, &empty, &snapshot, &listers),
            (pre, filter),
            "{name}"
        );
    }
}

#[test]
fn a_missing_claim_is_unresolvable() {
    let pod = pod("p", json!([claim_volume("v", "claim-with-rwop-1")]));
    let mut state = CycleState::new();
    let (_, status) =
        VolumeRestrictions.pre_filter(&mut state, &pod, &Snapshot::default(), &Listers::default());
    assert_eq!(
        status,
        Status::unresolvable("persistentvolumeclaim \"claim-with-rwop-1\" not found")
    );
}

#[test]
fn removing_the_pod_using_the_claim_lifts_the_conflict() {
    let listers = access_mode_listers();
    let holder = pod("holder", json!([claim_volume("v", "claim-with-rwop-1")]));
    let info = node_info(node("node-1", json!({})), std::slice::from_ref(&holder));
    let snapshot = Snapshot::new(vec![Arc::new(info.clone())]);
    let incoming = pod("incoming", json!([claim_volume("v", "claim-with-rwop-1")]));
    let mut state = CycleState::new();
    let (_, pre) = VolumeRestrictions.pre_filter(&mut state, &incoming, &snapshot, &listers);
    assert!(pre.is_success());
    assert!(
        !VolumeRestrictions
            .filter(&state, &incoming, &info)
            .is_success()
    );
    let removed = VolumeRestrictions.remove_pod(&mut state, &incoming, &holder, &info);
    assert!(removed.is_success());
    assert!(
        VolumeRestrictions
            .filter(&state, &incoming, &info)
            .is_success()
    );
    VolumeRestrictions.add_pod(&mut state, &incoming, &holder, &info);
    assert!(
        !VolumeRestrictions
            .filter(&state, &incoming, &info)
            .is_success()
    );
}

#[test]
fn a_deleted_pod_requeues_only_when_it_held_a_disk_or_claim_of_the_pod() {
    let disk = json!({"name": "v", "gcePersistentDisk": {"pdName": "foo"}});
    let waiting = pod("waiting", json!([disk, claim_volume("c", "data")]));
    let deleted = |p: Arc<PodInfo>| ClusterChange {
        event: crate::framework::ClusterEvent::new(EventResource::AssignedPod, ActionType::DELETE),
        old: Some(Changed::Pod(p.pod.clone())),
        new: None,
    };
    let hint = |p: Arc<PodInfo>| schedulable_after_pod_deleted(&waiting.pod, &deleted(p));
    assert_eq!(hint(pod("disk", json!([disk]))), QueueingHint::Queue);
    assert_eq!(
        hint(pod("claim", json!([claim_volume("x", "data")]))),
        QueueingHint::Queue
    );
    assert_eq!(
        hint(pod("other", json!([claim_volume("x", "logs")]))),
        QueueingHint::Skip
    );
}
