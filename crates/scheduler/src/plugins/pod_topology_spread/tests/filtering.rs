//! PodTopologySpread's PreFilter, AddPod/RemovePod and Filter against
//! upstream's `filtering_test.go` cases.

use super::*;

#[test]
fn filter_follows_upstream_single_constraint_cases() {
    let zone = |skew| constraint(skew, "zone", "DoNotSchedule", json!({}));
    let host = |skew| constraint(skew, "node", "DoNotSchedule", json!({}));
    let away_from_b_x = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "node", "operator": "NotIn", "values": ["node-b", "node-x"]}]}]
    }}}});
    let cases: Vec<FilterCase> = vec![
        (
            "no existing pods",
            incoming(vec![zone(1)], json!({})),
            vec![0, 0, 0, 0],
            vec![FIT; 4],
        ),
        (
            "zones 3/3: every node fits",
            incoming(vec![zone(1)], json!({})),
            vec![2, 1, 1, 2],
            vec![FIT; 4],
        ),
        (
            "zones 3/1: only zone2 fits",
            incoming(vec![zone(1)], json!({})),
            vec![2, 1, 1, 0],
            vec![SKEWED, SKEWED, FIT, FIT],
        ),
        (
            "no node has the key",
            incoming(
                vec![constraint(1, "rack", "DoNotSchedule", json!({}))],
                json!({}),
            ),
            vec![1, 0, 0, 0],
            vec![NO_KEY; 4],
        ),
        (
            "hosts 2/1/0/3: only node-x fits",
            incoming(vec![host(1)], json!({})),
            vec![2, 1, 0, 3],
            vec![SKEWED, SKEWED, FIT, SKEWED],
        ),
        (
            "hosts 2/1/0/3, maxSkew 2: node-b and node-x fit",
            incoming(vec![host(2)], json!({})),
            vec![2, 1, 0, 3],
            vec![SKEWED, FIT, FIT, SKEWED],
        ),
        (
            "hosts 2/~1~/~0~/3 by node affinity: node-a fits (and the excluded ones, for NodeAffinity to reject)",
            incoming(vec![host(1)], away_from_b_x.clone()),
            vec![2, 1, 0, 3],
            vec![FIT, FIT, FIT, SKEWED],
        ),
        (
            "nodeAffinityPolicy Ignore counts the excluded nodes",
            incoming(
                vec![constraint(
                    1,
                    "node",
                    "DoNotSchedule",
                    json!({"nodeAffinityPolicy": "Ignore"}),
                )],
                away_from_b_x,
            ),
            vec![2, 1, 0, 3],
            vec![SKEWED, SKEWED, FIT, SKEWED],
        ),
        (
            "zones 2/1 with minDomains 3 count the global minimum as 0",
            incoming(
                vec![constraint(
                    2,
                    "zone",
                    "DoNotSchedule",
                    json!({"minDomains": 3}),
                )],
                json!({}),
            ),
            vec![1, 1, 1, 0],
            vec![SKEWED, SKEWED, FIT, FIT],
        ),
        (
            "zones 2/1 with minDomains 2 (met): every node fits maxSkew 2",
            incoming(
                vec![constraint(
                    2,
                    "zone",
                    "DoNotSchedule",
                    json!({"minDomains": 2}),
                )],
                json!({}),
            ),
            vec![1, 1, 1, 0],
            vec![FIT; 4],
        ),
        (
            "two constraints: zone then host",
            incoming(vec![zone(1), host(1)], json!({})),
            vec![1, 0, 2, 1],
            vec![SKEWED, FIT, SKEWED, SKEWED],
        ),
    ];
    let plugin = plugin();
    for (name, pod, counts, want) in cases {
        let snapshot = snapshot(&four_nodes(), &spread(&NODES, &counts));
        assert_eq!(filter_all(&plugin, &pod, &snapshot), want, "{name}");
    }
}

#[test]
fn a_node_missing_the_key_is_neither_counted_nor_fit() {
    let mut nodes = four_nodes();
    nodes[1].1 = json!({"zon": "zone1", "node": "node-b"});
    let snapshot = snapshot(&nodes, &spread(&NODES, &[1, 1, 1, 1]));
    let pod = incoming(
        vec![constraint(1, "zone", "DoNotSchedule", json!({}))],
        json!({}),
    );
    assert_eq!(
        filter_all(&plugin(), &pod, &snapshot),
        vec![FIT, NO_KEY, SKEWED, SKEWED]
    );
}

#[test]
fn node_taints_policy_honor_leaves_out_untolerated_nodes() {
    let mut nodes = four_nodes();
    nodes[2].2 = json!([{"key": "k", "value": "v", "effect": "NoSchedule"}]);
    let snapshot = snapshot(&nodes, &spread(&NODES, &[2, 1, 0, 3]));
    let honor = json!({"nodeTaintsPolicy": "Honor"});
    let pod = incoming(
        vec![constraint(1, "node", "DoNotSchedule", honor)],
        json!({}),
    );
    assert_eq!(
        filter_all(&plugin(), &pod, &snapshot),
        vec![SKEWED, FIT, FIT, SKEWED]
    );
    let ignore = incoming(
        vec![constraint(1, "node", "DoNotSchedule", json!({}))],
        json!({}),
    );
    assert_eq!(
        filter_all(&plugin(), &ignore, &snapshot),
        vec![SKEWED, SKEWED, FIT, SKEWED]
    );
}

#[test]
fn match_label_keys_count_only_pods_of_the_same_values_and_namespace() {
    let versioned = |name: &str, version: &str, node: &str| {
        pod(
            name,
            json!({"foo": "", "version": version}),
            node,
            json!({}),
        )
    };
    let mut pods = vec![
        versioned("a1", "v1", "node-a"),
        versioned("a2", "v2", "node-a"),
        versioned("a3", "v2", "node-a"),
        versioned("x1", "v1", "node-x"),
    ];
    let mut elsewhere = (*pods[0].pod).clone();
    elsewhere.metadata.namespace = Some("other".into());
    elsewhere.metadata.uid = Some("o1".into());
    pods.push(Arc::new(PodInfo::new(Arc::new(elsewhere))));
    let snapshot = snapshot(&four_nodes(), &pods);
    let keyed = constraint(
        1,
        "zone",
        "DoNotSchedule",
        json!({"matchLabelKeys": ["version"]}),
    );
    let mut p = (*incoming(vec![keyed], json!({})).pod).clone();
    p.metadata.labels = Some(
        [("foo", ""), ("version", "v1")]
            .map(|(k, v)| (k.into(), v.into()))
            .into(),
    );
    let p = PodInfo::new(Arc::new(p));
    // v1 only: zone1 1, zone2 1 — every node fits; all versions: 3 and 1.
    assert_eq!(filter_all(&plugin(), &p, &snapshot), vec![FIT; 4]);
    let plain = incoming(
        vec![constraint(1, "zone", "DoNotSchedule", json!({}))],
        json!({}),
    );
    assert_eq!(
        filter_all(&plugin(), &plain, &snapshot),
        vec![SKEWED, SKEWED, FIT, FIT]
    );
}

#[test]
fn add_and_remove_pod_keep_the_counts_and_critical_paths() {
    let tested = plugin();
    let plugin = tested.plugin.as_ref();
    let snapshot = snapshot(&four_nodes(), &spread(&NODES, &[1, 0, 1, 0]));
    let p = incoming(
        vec![constraint(1, "zone", "DoNotSchedule", json!({}))],
        json!({}),
    );
    let mut state = CycleState::new();
    let pre = plugin.as_pre_filter().expect("PreFilter");
    let (_, status) = pre.pre_filter(&mut state, &p, &snapshot, &tested.listers);
    assert!(status.is_success());
    let filter = plugin.as_filter().expect("Filter");
    let codes = |state: &CycleState| -> Vec<Code> {
        snapshot
            .nodes()
            .iter()
            .map(|n| filter.filter(state, &p, n).code())
            .collect()
    };
    assert_eq!(codes(&state), vec![FIT; 4]);
    let added = pod("n1", json!({"foo": ""}), "node-a", json!({}));
    let node_a = &snapshot.nodes()[0];
    assert!(pre.add_pod(&mut state, &p, &added, node_a).is_success());
    assert_eq!(codes(&state), vec![SKEWED, SKEWED, FIT, FIT]);
    let existing = snapshot.nodes()[2].pods[0].clone();
    let before = state.clone();
    assert!(
        pre.remove_pod(&mut state, &p, &existing, &snapshot.nodes()[2])
            .is_success()
    );
    assert_eq!(codes(&state), vec![SKEWED, SKEWED, FIT, FIT]);
    // zone1 1, zone2 0: zone1 is one over.
    assert!(pre.remove_pod(&mut state, &p, &added, node_a).is_success());
    assert_eq!(codes(&state), vec![SKEWED, SKEWED, FIT, FIT]);
    assert!(
        pre.add_pod(&mut state, &p, &existing, &snapshot.nodes()[3])
            .is_success()
    );
    assert_eq!(codes(&state), vec![FIT; 4]);
    // The clone taken before changes apart from it.
    assert_eq!(codes(&before), vec![SKEWED, SKEWED, FIT, FIT]);
}

#[test]
fn list_defaults_are_applied_to_pods_without_constraints() {
    let args = json!({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
    ]});
    let plugin = plugin_with(Some(args), web_listers());
    let front = json!({"app": "web", "tier": "front"});
    let pods = vec![
        web_pod("a", "node-a", front.clone()),
        web_pod("b", "node-b", front.clone()),
    ];
    let snapshot = snapshot(&four_nodes(), &pods);
    let p = web_pod("p", "", front);
    assert_eq!(
        filter_all(&plugin, &p, &snapshot),
        vec![SKEWED, SKEWED, FIT, FIT]
    );
}
