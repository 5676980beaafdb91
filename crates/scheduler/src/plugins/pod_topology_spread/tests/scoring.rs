//! PodTopologySpread's PreScore, Score and Normalize against upstream's
//! `scoring_test.go` cases.

use super::*;

/// An upstream hostname score case: its name, the constraints (none:
/// the system defaults), the matching pods on each node, the nodes that
/// passed filtering (the first ones), and their scores.
type HostnameCase = (&'static str, Vec<Value>, Vec<usize>, usize, Vec<i64>);

#[test]
fn score_follows_upstream_cases() {
    let soft = |key: &str| constraint(1, key, "ScheduleAnyway", json!({}));
    let hostname_nodes: Vec<_> = four_nodes()
        .into_iter()
        .map(|(n, mut labels, taints)| {
            labels["kubernetes.io/hostname"] = json!(n);
            (n, labels, taints)
        })
        .collect();
    let cases: Vec<ScoreCase> = vec![
        ("no constraints: skipped", vec![], vec![1, 0, 0, 0], 4, None),
        (
            "no existing pods",
            vec![soft("node")],
            vec![0, 0, 0, 0],
            4,
            Some(vec![100; 4]),
        ),
        (
            "the same number everywhere",
            vec![soft("node")],
            vec![1, 1, 1, 1],
            4,
            Some(vec![100; 4]),
        ),
        (
            "hosts 2/1/0/3",
            vec![soft("node")],
            vec![2, 1, 0, 3],
            4,
            Some(vec![20, 60, 100, 0]),
        ),
        (
            "hosts 2/1/0/3, two candidates",
            vec![soft("node")],
            vec![2, 1, 0, 3],
            2,
            Some(vec![33, 100]),
        ),
        (
            "zones and hostnames, 1/1/0/2",
            vec![soft("zone"), soft("kubernetes.io/hostname")],
            vec![1, 1, 0, 2],
            4,
            Some(vec![66, 66, 100, 50]),
        ),
    ];
    let plugin = plugin();
    for (name, constraints, counts, filtered, want) in cases {
        let snapshot = snapshot(&hostname_nodes, &spread(&NODES, &counts));
        let pod = incoming(constraints, json!({}));
        assert_eq!(
            score_all(&plugin, &pod, &snapshot, filtered),
            want,
            "{name}"
        );
    }
}

#[test]
fn score_gives_nodes_missing_a_key_zero() {
    let nodes = [
        ("node-a", json!({"zone": "zone1"}), json!(null)),
        ("node-b", json!({"zone": "zone1"}), json!(null)),
        ("node-x", json!({"rack": "r1"}), json!(null)),
    ];
    let snapshot = snapshot(&nodes, &spread(&NODES, &[1, 0, 1]));
    let pod = incoming(
        vec![constraint(1, "zone", "ScheduleAnyway", json!({}))],
        json!({}),
    );
    assert_eq!(
        score_all(&plugin(), &pod, &snapshot, 3),
        Some(vec![100, 100, 0])
    );
}

#[test]
fn system_defaults_spread_what_services_and_controllers_select() {
    let nodes = [
        ("n1", json!({"kubernetes.io/hostname": "n1"}), json!(null)),
        ("n2", json!({"kubernetes.io/hostname": "n2"}), json!(null)),
    ];
    let front = json!({"app": "web", "tier": "front"});
    let pods = vec![
        web_pod("a", "n1", front.clone()),
        web_pod("b", "n1", front.clone()),
        // Selected by the Service but not by the ReplicaSet: not counted.
        web_pod("c", "n2", json!({"app": "web"})),
    ];
    let snapshot = snapshot(&nodes, &pods);
    let plugin = plugin_with(None, web_listers());
    let p = web_pod("p", "", front);
    // n1: 2 × log(4) + (3 - 1) ≈ 4.77 → 5; n2: 2.
    let scores = score_all(&plugin, &p, &snapshot, snapshot.len());
    assert_eq!(scores, Some(vec![40, 100]));
    // The defaults are ScheduleAnyway: nothing to filter.
    let pre = plugin.plugin.as_pre_filter().expect("PreFilter");
    let (_, status) = pre.pre_filter(&mut CycleState::new(), &p, &snapshot, &plugin.listers);
    assert!(status.is_skip());
    // Nothing selects a pod without labels: no constraints.
    let lone = pod("lone", json!({}), "", json!({}));
    assert_eq!(score_all(&plugin, &lone, &snapshot, snapshot.len()), None);
}

#[test]
fn score_follows_upstream_hostname_cases() {
    let host = |skew| constraint(skew, LABEL_HOSTNAME, "ScheduleAnyway", json!({}));
    let cases: Vec<HostnameCase> = vec![
        (
            "no existing pods",
            vec![host(1)],
            vec![0, 0, 0, 0],
            2,
            vec![100, 100],
        ),
        (
            "only one candidate",
            vec![host(1)],
            vec![2, 1, 0, 0],
            1,
            vec![100],
        ),
        (
            "the same number everywhere",
            vec![host(1)],
            vec![1, 1, 0, 0],
            2,
            vec![100, 100],
        ),
        (
            "2/1/0/3",
            vec![host(1)],
            vec![2, 1, 0, 3],
            4,
            vec![20, 60, 100, 0],
        ),
        (
            "a null selector counts nothing",
            vec![constraint(
                1,
                LABEL_HOSTNAME,
                "ScheduleAnyway",
                json!({"labelSelector": null}),
            )],
            vec![2, 1, 0, 3],
            4,
            vec![100; 4],
        ),
        (
            "2/1/0/3, maxSkew 2",
            vec![host(2)],
            vec![2, 1, 0, 3],
            4,
            vec![33, 66, 100, 16],
        ),
        (
            "4/3/2/1, maxSkew 3",
            vec![host(3)],
            vec![4, 3, 2, 1],
            4,
            vec![44, 66, 77, 100],
        ),
        (
            "system defaults on nodes without zones, pods selected by a Service",
            vec![],
            vec![4, 3, 2, 1],
            4,
            vec![44, 66, 77, 100],
        ),
        (
            "4/2/1/~3~",
            vec![host(1)],
            vec![4, 2, 1, 3],
            3,
            vec![33, 83, 100],
        ),
    ];
    let listers = || {
        let listers = Listers::default();
        let service: Service = serde_json::from_value(json!({
            "metadata": {"name": "foo", "namespace": "default"},
            "spec": {"selector": {"foo": ""}},
        }))
        .expect("a service");
        listers.services.insert(service);
        listers
    };
    let names = ["node-a", "node-b", "node-x", "node-y"];
    let nodes: Vec<_> = names
        .iter()
        .map(|n| (*n, json!({LABEL_HOSTNAME: n}), json!(null)))
        .collect();
    let plugin = plugin_with(None, listers());
    for (name, constraints, counts, filtered, want) in cases {
        let snapshot = snapshot(&nodes, &spread(&names, &counts));
        let pod = if constraints.is_empty() {
            pod("p", json!({"foo": ""}), "", json!({}))
        } else {
            incoming(constraints, json!({}))
        };
        let got = score_all(&plugin, &pod, &snapshot, filtered);
        assert_eq!(got, Some(want), "{name}");
    }
}

#[test]
fn a_candidate_missing_the_hostname_scores_zero() {
    // 4/?2?/1/~3~: node-b lacks the key, node-y did not pass filtering.
    let nodes = [
        ("node-a", json!({LABEL_HOSTNAME: "node-a"}), json!(null)),
        ("node-b", json!({"n": "node-b"}), json!(null)),
        ("node-x", json!({LABEL_HOSTNAME: "node-x"}), json!(null)),
        ("node-y", json!({LABEL_HOSTNAME: "node-y"}), json!(null)),
    ];
    let snapshot = snapshot(&nodes, &spread(&NODES, &[4, 2, 1, 3]));
    let pod = incoming(
        vec![constraint(1, LABEL_HOSTNAME, "ScheduleAnyway", json!({}))],
        json!({}),
    );
    assert_eq!(
        score_all(&plugin(), &pod, &snapshot, 3),
        Some(vec![16, 0, 100])
    );
}
