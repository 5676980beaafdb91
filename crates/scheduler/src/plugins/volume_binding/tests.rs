//! Upstream's PreFilter and Filter cases, and what Reserve assumes.

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim};
use serde_json::{Value, json};

use super::*;
use crate::plugins::volume_binding::test_support::{
    claim_volume, class, node, node_info, pod, pv, pvc,
};

const WAIT: &str = "wait-sc";
const WAIT_HDD: &str = "wait-hdd-sc";
const IMMEDIATE: &str = "immediate-sc";
const PROVISIONED: &str = "provisioned-sc";

fn claim(name: &str, class: &str) -> PersistentVolumeClaim {
    pvc(name, json!({"storageClassName": class}), json!({}))
}

fn sized(name: &str, class: &str, size: &str) -> PersistentVolumeClaim {
    let spec = json!({"storageClassName": class, "resources": {"requests": {"storage": size}}});
    pvc(name, spec, json!({}))
}

fn bound(name: &str, volume: &str) -> PersistentVolumeClaim {
    let spec = json!({"storageClassName": WAIT, "volumeName": volume});
    pvc(
        name,
        spec,
        json!({"pv.kubernetes.io/bind-completed": "yes"}),
    )
}

/// A volume of `class` with `extra` merged into its spec.
fn volume(
    name: &str,
    class: &str,
    extra: Value,
) -> keelson_api::k8s_openapi::api::core::v1::PersistentVolume {
    let mut spec = json!({"storageClassName": class});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    pv(name, json!({}), spec)
}

fn affinity(key: &str, values: &[&str]) -> Value {
    json!({"nodeAffinity": {"required": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": key, "operator": "In", "values": values}]}
    ]}}})
}

fn local(capacity: &str, host: &str) -> Value {
    let mut spec = affinity("kubernetes.io/hostname", &[host]);
    spec["capacity"] = json!({"storage": capacity});
    spec
}

fn cluster(
    claims: Vec<PersistentVolumeClaim>,
    volumes: Vec<keelson_api::k8s_openapi::api::core::v1::PersistentVolume>,
) -> Arc<Listers> {
    let listers = Listers::default();
    listers
        .storage_classes
        .insert(class(WAIT, "WaitForFirstConsumer", "", json!(null)));
    listers
        .storage_classes
        .insert(class(WAIT_HDD, "WaitForFirstConsumer", "", json!(null)));
    listers
        .storage_classes
        .insert(class(IMMEDIATE, "Immediate", "", json!(null)));
    let zones = json!([{"matchLabelExpressions": [{"key": "zone", "values": ["a"]}]}]);
    listers.storage_classes.insert(class(
        PROVISIONED,
        "WaitForFirstConsumer",
        "csi.example.com",
        zones,
    ));
    for claim in claims {
        listers.persistent_volume_claims.insert(claim);
    }
    for volume in volumes {
        listers.persistent_volumes.insert(volume);
    }
    Arc::new(listers)
}

fn plugin(listers: &Arc<Listers>) -> VolumeBinding {
    let handle = Handle::offline(listers.clone());
    VolumeBinding {
        listers: handle.listers,
        client: None,
        bind_timeout: Duration::from_secs(600),
        assumed: Arc::default(),
    }
}

fn claims_pod(claims: &[&str]) -> Arc<PodInfo> {
    let volumes: Vec<Value> = claims.iter().map(|c| claim_volume(c, c)).collect();
    pod("pod-a", json!(volumes))
}

struct Run {
    result: Option<PreFilterResult>,
    pre_filter: Status,
    filter: Vec<Status>,
    state: CycleState,
}

fn run(plugin: &VolumeBinding, pod: &PodInfo, nodes: &[Arc<Node>]) -> Run {
    let mut state = CycleState::new();
    let (result, pre_filter) =
        plugin.pre_filter(&mut state, pod, &Snapshot::default(), &plugin.listers);
    let filter = if pre_filter.is_success() {
        let infos = nodes.iter().map(|n| node_info(n.clone(), &[]));
        infos
            .map(|info| plugin.filter(&state, pod, &info))
            .collect()
    } else {
        Vec::new()
    };
    Run {
        result,
        pre_filter,
        filter,
        state,
    }
}

/// A node labelled with its host name, as the kubelet labels it.
fn host(name: &str) -> Arc<Node> {
    node(name, json!({"kubernetes.io/hostname": name}))
}

fn node_a() -> Arc<Node> {
    host("node-a")
}

#[test]
fn pre_filter_sorts_the_pods_claims() {
    let unresolvable = Status::unresolvable;
    let cases = [
        ("pod has not pvcs", vec![], vec![], Status::skip()),
        (
            "PVC does not exist",
            vec!["pvc-a"],
            vec![],
            unresolvable("persistentvolumeclaim \"pvc-a\" not found"),
        ),
        (
            "Part of PVCs do not exist",
            vec!["pvc-a", "pvc-b"],
            vec![bound("pvc-a", "pv-a")],
            unresolvable("persistentvolumeclaim \"pvc-b\" not found"),
        ),
        (
            "immediate claims not bound",
            vec!["pvc-a"],
            vec![claim("pvc-a", IMMEDIATE)],
            unresolvable(ERR_REASON_UNBOUND_IMMEDIATE),
        ),
        (
            "a claim without a class is immediate",
            vec!["pvc-a"],
            vec![pvc("pvc-a", json!({}), json!({}))],
            unresolvable(ERR_REASON_UNBOUND_IMMEDIATE),
        ),
        (
            "pv not found claim lost",
            vec!["pvc-a"],
            vec![{
                let mut lost = bound("pvc-a", "pv-a");
                lost.status =
                    Some(serde_json::from_value(json!({"phase": "Lost"})).expect("a status"));
                lost
            }],
            unresolvable(
                "persistentvolumeclaim \"pvc-a\" bound to non-existent persistentvolume \"pv-a\"",
            ),
        ),
        (
            "claim being deleted",
            vec!["pvc-a"],
            vec![{
                let mut deleted = claim("pvc-a", WAIT);
                deleted.metadata.deletion_timestamp =
                    Some(serde_json::from_value(json!("2026-01-01T00:00:00Z")).expect("a time"));
                deleted
            }],
            unresolvable("persistentvolumeclaim \"pvc-a\" is being deleted"),
        ),
    ];
    for (name, pod_claims, claims, want) in cases {
        let listers = cluster(claims, vec![]);
        let got = run(&plugin(&listers), &claims_pod(&pod_claims), &[node_a()]);
        assert_eq!(got.pre_filter, want, "{name}");
    }
}

#[test]
fn a_missing_ephemeral_claim_waits_for_its_controller() {
    let pod = pod(
        "pod-a",
        json!([{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]),
    );
    let got = run(&plugin(&cluster(vec![], vec![])), &pod, &[node_a()]);
    let want = "waiting for ephemeral volume controller to create the persistentvolumeclaim \"pod-a-scratch\"";
    assert_eq!(got.pre_filter, Status::unresolvable(want));
}

#[test]
fn bound_claims_volumes_must_allow_the_node() {
    let bound_local = |name: &str, pv_name: &str| {
        (
            bound(name, pv_name),
            volume(
                pv_name,
                WAIT,
                affinity("kubernetes.io/hostname", &["node-a"]),
            ),
        )
    };
    let (a, pv_a) = bound_local("pvc-a", "pv-a");
    let (b, pv_b) = bound_local("pvc-b", "pv-b");
    let listers = cluster(vec![a, b], vec![pv_a, pv_b]);
    let got = run(
        &plugin(&listers),
        &claims_pod(&["pvc-a", "pvc-b"]),
        &[node_a(), host("node-b")],
    );
    assert_eq!(
        got.pre_filter,
        Status::success(),
        "all bound with local volumes"
    );
    // Nodes are not narrowed to the volumes' host names: Filter decides.
    assert_eq!(got.result, None);
    assert_eq!(got.filter[0], Status::success());
    assert_eq!(
        got.filter[1],
        Status::unresolvable(ERR_REASON_NODE_CONFLICT)
    );

    let listers = cluster(vec![bound("pvc-a", "pv-a")], vec![]);
    let got = run(&plugin(&listers), &claims_pod(&["pvc-a"]), &[node_a()]);
    assert_eq!(got.result, None);
    assert_eq!(
        got.filter,
        [Status::unresolvable(ERR_REASON_PV_NOT_EXIST)],
        "pv not found"
    );
}

#[test]
fn unbound_claims_need_a_volume_or_provisioning_on_the_node() {
    let bind_conflict = Status::unresolvable(ERR_REASON_BIND_CONFLICT);
    let listers_ = cluster(vec![claim("pvc-a", WAIT)], vec![]);
    let got = run(&plugin(&listers_), &claims_pod(&["pvc-a"]), &[node_a()]);
    assert_eq!(
        got.filter,
        std::slice::from_ref(&bind_conflict),
        "unbound claims no matches"
    );

    let pv_a = volume("pv-a", WAIT, affinity("foo", &["bar"]));
    let listers_ = cluster(
        vec![bound("pvc-a", "pv-a"), claim("pvc-b", WAIT)],
        vec![pv_a],
    );
    let got = run(
        &plugin(&listers_),
        &claims_pod(&["pvc-a", "pvc-b"]),
        &[node("node-a", json!({"foo": "barbar"}))],
    );
    let both = Status::new(
        Code::UnschedulableAndUnresolvable,
        [ERR_REASON_NODE_CONFLICT, ERR_REASON_BIND_CONFLICT],
    );
    assert_eq!(got.filter, [both], "bound and unbound unsatisfied");

    let listers_ = cluster(vec![claim("pvc-a", PROVISIONED)], vec![]);
    let nodes = [
        node("in-a", json!({"zone": "a"})),
        node("in-b", json!({"zone": "b"})),
    ];
    let got = run(&plugin(&listers_), &claims_pod(&["pvc-a"]), &nodes);
    assert_eq!(
        got.filter,
        [Status::success(), bind_conflict.clone()],
        "provisioning in allowed topologies"
    );

    let selected = pvc(
        "pvc-a",
        json!({"storageClassName": PROVISIONED}),
        json!({"volume.kubernetes.io/selected-node": "in-b"}),
    );
    let got = run(
        &plugin(&cluster(vec![selected], vec![])),
        &claims_pod(&["pvc-a"]),
        &nodes,
    );
    assert_eq!(
        got.filter,
        [bind_conflict.clone(), bind_conflict],
        "being provisioned for another node"
    );
}

/// The volume Filter chose for `claim` on `node`.
fn chosen(run: &Run, node: &str) -> Vec<String> {
    let state = run
        .state
        .read::<State>(STATE_KEY)
        .expect("PreFilter's state");
    let volumes = state.node_volumes(node).expect("the node's volumes");
    let names = volumes.static_bindings.iter();
    names
        .map(|b| b.volume.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn the_smallest_fitting_local_volume_is_chosen() {
    let volumes = vec![
        volume("pv-a-0", WAIT, local("200Gi", "node-a")),
        volume("pv-a-1", WAIT, local("200Gi", "node-a")),
        volume("pv-b-0", WAIT, local("100Gi", "node-b")),
        volume("pv-b-1", WAIT, local("100Gi", "node-b")),
        volume("pv-b-small", WAIT, local("10Gi", "node-b")),
    ];
    let listers = cluster(vec![sized("pvc-a", WAIT, "50Gi")], volumes);
    let nodes = [host("node-a"), host("node-b"), host("node-c")];
    let got = run(&plugin(&listers), &claims_pod(&["pvc-a"]), &nodes);
    let bind_conflict = Status::unresolvable(ERR_REASON_BIND_CONFLICT);
    assert_eq!(
        got.filter,
        [Status::success(), Status::success(), bind_conflict]
    );
    assert_eq!(chosen(&got, "node-a"), ["pv-a-0"]);
    assert_eq!(chosen(&got, "node-b"), ["pv-b-0"]);
}

#[test]
fn a_volume_pre_bound_to_the_claim_wins_and_others_claims_are_passed_over() {
    let claim_ref = |name: &str| json!({"claimRef": {"name": name, "namespace": "default"}, "capacity": {"storage": "1Ti"}});
    let volumes = vec![
        volume("pv-small", WAIT, json!({"capacity": {"storage": "1Gi"}})),
        volume("pv-pre-bound", WAIT, claim_ref("pvc-a")),
        volume("pv-other", WAIT, claim_ref("pvc-other")),
    ];
    let listers_ = cluster(vec![claim("pvc-a", WAIT)], volumes);
    let got = run(&plugin(&listers_), &claims_pod(&["pvc-a"]), &[node_a()]);
    assert_eq!(chosen(&got, "node-a"), ["pv-pre-bound"]);

    let modes = json!({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}});
    let wants_many = pvc(
        "pvc-a",
        json!({"storageClassName": WAIT, "accessModes": ["ReadWriteMany"]}),
        json!({}),
    );
    let listers_ = cluster(vec![wants_many], vec![volume("pv-rwo", WAIT, modes)]);
    let got = run(&plugin(&listers_), &claims_pod(&["pvc-a"]), &[node_a()]);
    assert_eq!(
        got.filter,
        [Status::unresolvable(ERR_REASON_BIND_CONFLICT)],
        "access modes mismatch"
    );
}

#[test]
fn reserve_assumes_the_volume_so_the_next_pod_does_not_take_it() {
    let listers = cluster(
        vec![claim("pvc-a", WAIT), claim("pvc-b", WAIT)],
        vec![volume(
            "pv-a",
            WAIT,
            json!({"capacity": {"storage": "1Gi"}}),
        )],
    );
    let plugin = plugin(&listers);
    let first = claims_pod(&["pvc-a"]);
    let mut got = run(&plugin, &first, &[node_a()]);
    assert!(
        plugin
            .reserve(&mut got.state, &first, "node-a")
            .is_success()
    );
    let state = got.state.read::<State>(STATE_KEY).expect("the state");
    let (_, writes) = state.writes.as_deref().expect("writes decided");
    let claim_ref = writes.volumes[0]
        .spec
        .as_ref()
        .and_then(|s| s.claim_ref.clone())
        .expect("a claimRef");
    assert_eq!(claim_ref.name.as_deref(), Some("pvc-a"));

    let second = claims_pod(&["pvc-b"]);
    let taken = run(&plugin, &second, &[node_a()]);
    assert_eq!(
        taken.filter,
        [Status::unresolvable(ERR_REASON_BIND_CONFLICT)]
    );

    plugin.unreserve(&mut got.state, &first, "node-a");
    let freed = run(&plugin, &second, &[node_a()]);
    assert_eq!(freed.filter, [Status::success()]);
}

#[test]
fn a_pod_whose_claims_are_bound_binds_nothing() {
    let listers = cluster(
        vec![bound("pvc-a", "pv-a")],
        vec![volume("pv-a", WAIT, json!({}))],
    );
    let plugin = plugin(&listers);
    let pod = claims_pod(&["pvc-a"]);
    let mut got = run(&plugin, &pod, &[node_a()]);
    assert!(plugin.reserve(&mut got.state, &pod, "node-a").is_success());
    let state = got.state.read::<State>(STATE_KEY).expect("the state");
    assert!(state.writes.is_none());
    let status = futures::executor::block_on(plugin.pre_bind(&got.state, &pod, "node-a"));
    assert!(status.is_success());
}

#[test]
fn prebind_without_a_client_fails_rather_than_binding_nothing() {
    let listers = cluster(vec![claim("pvc-a", PROVISIONED)], vec![]);
    let plugin = plugin(&listers);
    let pod = claims_pod(&["pvc-a"]);
    let mut got = run(&plugin, &pod, &[node("in-a", json!({"zone": "a"}))]);
    assert!(plugin.reserve(&mut got.state, &pod, "in-a").is_success());
    let status = futures::executor::block_on(plugin.pre_bind(&got.state, &pod, "in-a"));
    assert_eq!(status.code(), Code::Error);
}

#[test]
fn arguments_default_and_are_validated() {
    let args = VolumeBindingArgs::parse(None).expect("defaults");
    assert_eq!(args.bind_timeout_seconds, 600);
    let args = VolumeBindingArgs::parse(Some(&json!({"bindTimeoutSeconds": 30}))).expect("valid");
    assert_eq!(args.bind_timeout_seconds, 30);
    let negative = VolumeBindingArgs::parse(Some(&json!({"bindTimeoutSeconds": -1})));
    assert_eq!(
        negative,
        Err("VolumeBindingArgs.bindTimeoutSeconds: Invalid value: -1: invalid BindTimeoutSeconds, should not be a negative value".to_string())
    );
    let shaped =
        VolumeBindingArgs::parse(Some(&json!({"shape": [{"utilization": 0, "score": 0}]})));
    assert!(shaped.is_err_and(|e| e.starts_with("VolumeBindingArgs.shape: Invalid value")));
}
