//! Upstream's single-zone, multi-zone and binding-mode cases.

use serde_json::{Value, json};

use super::*;
use crate::framework::Code;
use crate::plugins::volume_binding::test_support::{
    claim_volume, class, node, node_info, pod, pv, pvc,
};

fn listers() -> Listers {
    let listers = Listers::default();
    let volumes = [
        ("Vol_1", json!({BETA_ZONE: "us-west1-a"})),
        (
            "Vol_2",
            json!({BETA_REGION: "us-west1", "uselessLabel": "none"}),
        ),
        ("Vol_Multi", json!({BETA_ZONE: "us-west1-c__us-west1-a"})),
        ("Vol_Stable_1", json!({ZONE: "us-west1-a"})),
        (
            "Vol_Stable_2",
            json!({REGION: "us-west1", "uselessLabel": "none"}),
        ),
        (
            "Vol_Stable_3",
            json!({ZONE: "us-west1-a", REGION: "us-west1-a"}),
        ),
        ("Vol_Stable_Multi", json!({ZONE: "us-west1-c__us-west1-a"})),
    ];
    for (name, labels) in volumes {
        listers
            .persistent_volumes
            .insert(pv(name, labels, json!({})));
        let claim = name.replace("Vol", "PVC");
        let spec = json!({"volumeName": name});
        listers
            .persistent_volume_claims
            .insert(pvc(&claim, spec, json!({})));
    }
    let claims = [
        ("PVC_4", json!({"volumeName": "Vol_not_exist"})),
        ("PVC_NoSC", json!({"storageClassName": "Class_0"})),
        ("PVC_EmptySC", json!({})),
        ("PVC_WaitSC", json!({"storageClassName": "Class_Wait"})),
        (
            "PVC_ImmediateSC",
            json!({"storageClassName": "Class_Immediate"}),
        ),
    ];
    for (name, spec) in claims {
        listers
            .persistent_volume_claims
            .insert(pvc(name, spec, json!({})));
    }
    let wait = class("Class_Wait", "WaitForFirstConsumer", "p", json!(null));
    listers.storage_classes.insert(wait);
    listers
        .storage_classes
        .insert(class("Class_Immediate", "Immediate", "p", json!(null)));
    listers
}

/// PreFilter's status, then Filter's when PreFilter succeeded.
fn run(claim: Option<&str>, node_labels: Value) -> (Status, Option<Status>) {
    let volumes = claim.map_or(json!([]), |c| json!([claim_volume("v", c)]));
    let pod = pod("pod_1", volumes);
    let info = node_info(node("host1", node_labels), &[]);
    let mut state = CycleState::new();
    let (_, pre) = VolumeZone.pre_filter(&mut state, &pod, &Snapshot::default(), &listers());
    let filtered = pre
        .is_success()
        .then(|| VolumeZone.filter(&state, &pod, &info));
    (pre, filtered)
}

#[test]
fn volume_zones_and_regions_must_match_the_nodes() {
    let fits = (Status::success(), Some(Status::success()));
    let conflict = (
        Status::success(),
        Some(Status::unresolvable(ERR_REASON_CONFLICT)),
    );
    let useless = |key: &str, value: &str| json!({key: value, "uselessLabel": "none"});
    let cases = [
        ("node without labels", "PVC_1", json!({}), &fits),
        (
            "beta zone label matched",
            "PVC_1",
            useless(BETA_ZONE, "us-west1-a"),
            &fits,
        ),
        (
            "beta region label matched",
            "PVC_2",
            useless(BETA_REGION, "us-west1"),
            &fits,
        ),
        (
            "beta region label doesn't match",
            "PVC_2",
            useless(BETA_REGION, "no_us-west1"),
            &conflict,
        ),
        (
            "beta zone label doesn't match",
            "PVC_1",
            useless(BETA_ZONE, "no_us-west1-a"),
            &conflict,
        ),
        (
            "zone label matched",
            "PVC_Stable_1",
            useless(ZONE, "us-west1-a"),
            &fits,
        ),
        (
            "region label matched",
            "PVC_Stable_2",
            useless(REGION, "us-west1"),
            &fits,
        ),
        (
            "region label doesn't match",
            "PVC_Stable_2",
            useless(REGION, "no_us-west1"),
            &conflict,
        ),
        (
            "zone label doesn't match",
            "PVC_Stable_1",
            useless(ZONE, "no_us-west1-a"),
            &conflict,
        ),
        (
            "pv with zone and region, node with only zone",
            "PVC_Stable_3",
            json!({ZONE: "us-west1-a"}),
            &conflict,
        ),
        (
            "pv with zone, node with beta zone",
            "PVC_Stable_1",
            json!({BETA_ZONE: "us-west1-a"}),
            &conflict,
        ),
        (
            "pv with beta label, node with ga label, matched",
            "PVC_1",
            json!({ZONE: "us-west1-a"}),
            &fits,
        ),
        (
            "pv with beta label, node with ga label, don't match",
            "PVC_1",
            json!({ZONE: "us-west1-b"}),
            &conflict,
        ),
        (
            "multi-zone beta label matched",
            "PVC_Multi",
            useless(BETA_ZONE, "us-west1-a"),
            &fits,
        ),
        (
            "multi-zone beta label doesn't match",
            "PVC_1",
            useless(BETA_ZONE, "us-west1-b"),
            &conflict,
        ),
        (
            "multi-zone label matched",
            "PVC_Stable_Multi",
            useless(ZONE, "us-west1-a"),
            &fits,
        ),
        (
            "multi-zone label doesn't match",
            "PVC_Stable_1",
            useless(ZONE, "us-west1-b"),
            &conflict,
        ),
    ];
    for (name, claim, labels, want) in cases {
        assert_eq!(&run(Some(claim), labels), want, "{name}");
    }
}

#[test]
fn a_pod_without_volumes_is_skipped() {
    let (pre, _) = run(None, json!({BETA_ZONE: "us-west1-a"}));
    assert_eq!(pre.code(), Code::Skip);
}

#[test]
fn unbound_claims_wait_only_in_wait_for_first_consumer_classes() {
    let node = json!({BETA_ZONE: "us-west1-a", "uselessLabel": "none"});
    let unresolvable = |m: &str| (Status::unresolvable(m), None);
    let cases = [
        (
            "label zone failure domain matched",
            "PVC_1",
            (Status::success(), Some(Status::success())),
        ),
        (
            "unbound volume empty storage class",
            "PVC_EmptySC",
            unresolvable("PersistentVolumeClaim had no pv name and storageClass name"),
        ),
        (
            "unbound volume no storage class",
            "PVC_NoSC",
            unresolvable("storageclass.storage.k8s.io \"Class_0\" not found"),
        ),
        (
            "unbound volume immediate binding mode",
            "PVC_ImmediateSC",
            unresolvable("PersistentVolume had no name"),
        ),
        (
            "unbound volume wait binding mode",
            "PVC_WaitSC",
            (Status::skip(), None),
        ),
        (
            "claim not found",
            "PVC_missing",
            unresolvable("persistentvolumeclaim \"PVC_missing\" not found"),
        ),
        (
            "volume not found",
            "PVC_4",
            unresolvable("persistentvolume \"Vol_not_exist\" not found"),
        ),
    ];
    for (name, claim, want) in cases {
        assert_eq!(run(Some(claim), node.clone()), want, "{name}");
    }
}

#[test]
fn an_empty_zone_in_a_label_value_drops_the_label() {
    assert_eq!(zones("a__b").map(|z| z.len()), Some(2));
    assert_eq!(zones("a____b"), None);
}
