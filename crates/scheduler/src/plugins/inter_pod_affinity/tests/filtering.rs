//! InterPodAffinity's PreFilter, AddPod/RemovePod and Filter against
//! upstream's `filtering_test.go` cases.

use super::*;

#[test]
fn filter_follows_upstream_single_node_cases() {
    let region = json!({"region": "r1", "zone": "z11", "kubernetes.io/hostname": "n1"});
    let s1 = json!({"service": "securityscan"});
    let affinity_in = required(
        "podAffinity",
        vec![term("service", "In", &["securityscan", "value2"], "region")],
    );
    let anti_in = |values: &[&str]| {
        required(
            "podAntiAffinity",
            vec![term("service", "In", values, "zone")],
        )
    };
    let both = |anti: &[&str]| {
        let mut a = affinity_in.clone();
        a["podAntiAffinity"] = anti_in(anti)["podAntiAffinity"].clone();
        a
    };
    let cases: Vec<FilterCase> = vec![
        (
            "no affinity onto an empty node",
            pod("p", "default", json!({}), "", json!(null)),
            vec![],
            ok(),
        ),
        (
            "affinity In matching the existing pod",
            pod("p", "default", s1.clone(), "", affinity_in.clone()),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            ok(),
        ),
        (
            "affinity NotIn satisfied by the existing pod",
            pod(
                "p",
                "default",
                json!({}),
                "",
                required(
                    "podAffinity",
                    vec![term(
                        "service",
                        "NotIn",
                        &["securityscan3", "value3"],
                        "region",
                    )],
                ),
            ),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            ok(),
        ),
        (
            "affinity not met across namespaces",
            pod("p", "default", json!({}), "", affinity_in.clone()),
            vec![pod("e", "other", s1.clone(), "n1", json!(null))],
            affinity_failed(),
        ),
        (
            "affinity not met by an unmatching existing pod",
            pod(
                "p",
                "default",
                json!({}),
                "",
                required(
                    "podAffinity",
                    vec![term("service", "In", &["antivirusscan"], "region")],
                ),
            ),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            affinity_failed(),
        ),
        (
            "affinity met but anti-affinity refuses the existing pod",
            pod("p", "default", json!({}), "", both(&["securityscan"])),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            anti_affinity_failed(),
        ),
        (
            "affinity and anti-affinity both met",
            pod("p", "default", json!({}), "", both(&["antivirusscan"])),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            ok(),
        ),
        (
            "the existing pod's anti-affinity refuses the pod",
            pod("p", "default", s1.clone(), "", json!(null)),
            vec![pod(
                "e",
                "default",
                json!({}),
                "n1",
                anti_in(&["securityscan"]),
            )],
            existing_failed(),
        ),
        (
            "the existing pod's anti-affinity selects others",
            pod("p", "default", s1.clone(), "", json!(null)),
            vec![pod(
                "e",
                "default",
                json!({}),
                "n1",
                anti_in(&["antivirusscan"]),
            )],
            ok(),
        ),
        (
            "affinity to itself with no pod matching anywhere",
            pod("p", "default", s1.clone(), "", affinity_in.clone()),
            vec![],
            ok(),
        ),
        (
            "affinity to itself, but the node lacks the topology key",
            pod(
                "p",
                "default",
                s1.clone(),
                "",
                required(
                    "podAffinity",
                    vec![term("service", "In", &["securityscan"], "rack")],
                ),
            ),
            vec![],
            affinity_failed(),
        ),
        (
            "affinity to other labels with no pod matching anywhere",
            pod("p", "default", json!({}), "", affinity_in.clone()),
            vec![],
            affinity_failed(),
        ),
    ];
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    for (name, incoming, existing, want) in cases {
        let snapshot = snapshot(&[("n1", region.clone())], &existing);
        let got = filter_all(plugin.as_ref(), &incoming, &snapshot, &l);
        assert_eq!(got, vec![want], "{name}");
    }
}

#[test]
fn filter_spreads_anti_affinity_over_zones_and_affinity_over_regions() {
    let nodes = [
        ("n1", json!({"region": "r1", "zone": "z1"})),
        ("n2", json!({"region": "r1", "zone": "z2"})),
        ("n3", json!({"region": "r2", "zone": "z3"})),
        ("n4", json!({})),
    ];
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    let app = json!({"app": "web"});
    let existing = vec![pod("e", "default", app.clone(), "n1", json!(null))];
    let snapshot = snapshot(&nodes, &existing);

    let anti = pod(
        "p",
        "default",
        json!({}),
        "",
        required("podAntiAffinity", vec![term("app", "In", &["web"], "zone")]),
    );
    let got = filter_all(plugin.as_ref(), &anti, &snapshot, &l);
    assert_eq!(got, vec![anti_affinity_failed(), ok(), ok(), ok()]);

    let affinity = pod(
        "p",
        "default",
        json!({}),
        "",
        required("podAffinity", vec![term("app", "In", &["web"], "region")]),
    );
    let got = filter_all(plugin.as_ref(), &affinity, &snapshot, &l);
    assert_eq!(got, vec![ok(), ok(), affinity_failed(), affinity_failed()]);

    let refusing = vec![pod(
        "e",
        "default",
        json!({}),
        "n2",
        required(
            "podAntiAffinity",
            vec![term("app", "In", &["web"], "region")],
        ),
    )];
    let snapshot = super::snapshot(&nodes, &refusing);
    let incoming = pod("p", "default", app, "", json!(null));
    let got = filter_all(plugin.as_ref(), &incoming, &snapshot, &l);
    assert_eq!(got, vec![existing_failed(), existing_failed(), ok(), ok()]);
}

#[test]
fn namespace_selectors_match_namespaces_by_their_labels() {
    let l = listers(&[
        ("team-a", json!({"team": "a"})),
        ("team-b", json!({"team": "b"})),
    ]);
    let plugin = plugin(None, &l);
    let nodes = [("n1", json!({"zone": "z1"})), ("n2", json!({"zone": "z2"}))];
    let existing = vec![
        pod("a", "team-a", json!({"app": "db"}), "n1", json!(null)),
        pod("b", "team-b", json!({"app": "db"}), "n2", json!(null)),
    ];
    let snapshot = snapshot(&nodes, &existing);
    let with_selector = |selector: Value| {
        let mut t = term("app", "In", &["db"], "zone");
        t["namespaceSelector"] = selector;
        pod(
            "p",
            "default",
            json!({}),
            "",
            required("podAffinity", vec![t]),
        )
    };
    let team_a = with_selector(json!({"matchLabels": {"team": "a"}}));
    assert_eq!(
        filter_all(plugin.as_ref(), &team_a, &snapshot, &l),
        vec![ok(), affinity_failed()]
    );
    let every = with_selector(json!({}));
    assert_eq!(
        filter_all(plugin.as_ref(), &every, &snapshot, &l),
        vec![ok(), ok()]
    );

    // An existing pod's anti-affinity selecting namespaces by label
    // refuses a pod of a namespace so labelled.
    let mut t = term("app", "In", &["web"], "zone");
    t["namespaceSelector"] = json!({"matchLabels": {"team": "a"}});
    let refusing = vec![pod(
        "r",
        "default",
        json!({}),
        "n1",
        required("podAntiAffinity", vec![t]),
    )];
    let snapshot = super::snapshot(&nodes, &refusing);
    let in_a = pod("p", "team-a", json!({"app": "web"}), "", json!(null));
    let in_b = pod("p", "team-b", json!({"app": "web"}), "", json!(null));
    assert_eq!(
        filter_all(plugin.as_ref(), &in_a, &snapshot, &l),
        vec![existing_failed(), ok()]
    );
    assert_eq!(
        filter_all(plugin.as_ref(), &in_b, &snapshot, &l),
        vec![ok(), ok()]
    );
}

#[test]
fn add_and_remove_pod_keep_the_counts() {
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    let nodes = [("n1", json!({"zone": "z1"})), ("n2", json!({"zone": "z1"}))];
    let snapshot = snapshot(&nodes, &[]);
    let incoming = pod(
        "p",
        "default",
        json!({"app": "web"}),
        "",
        required("podAntiAffinity", vec![term("app", "In", &["web"], "zone")]),
    );
    let mut state = CycleState::new();
    let pre = plugin.as_pre_filter().expect("PreFilter");
    let (_, status) = pre.pre_filter(&mut state, &incoming, &snapshot, &l);
    assert!(status.is_success(), "{status}");
    let filter = plugin.as_filter().expect("Filter");
    let n2 = &snapshot.nodes()[1];
    assert_eq!(filter.filter(&state, &incoming, n2), ok());

    // A nominated pod on n1 of the same app shares the zone with n2.
    let nominated = pod("q", "default", json!({"app": "web"}), "n1", json!(null));
    let n1 = &snapshot.nodes()[0];
    assert!(
        pre.add_pod(&mut state, &incoming, &nominated, n1)
            .is_success()
    );
    assert_eq!(filter.filter(&state, &incoming, n2), anti_affinity_failed());
    assert!(
        pre.remove_pod(&mut state, &incoming, &nominated, n1)
            .is_success()
    );
    assert_eq!(filter.filter(&state, &incoming, n2), ok());

    // A pod whose anti-affinity refuses the incoming pod, added and removed.
    let refusing = pod(
        "r",
        "default",
        json!({}),
        "n1",
        required("podAntiAffinity", vec![term("app", "In", &["web"], "zone")]),
    );
    assert!(
        pre.add_pod(&mut state, &incoming, &refusing, n1)
            .is_success()
    );
    assert_eq!(filter.filter(&state, &incoming, n2), existing_failed());
    assert!(
        pre.remove_pod(&mut state, &incoming, &refusing, n1)
            .is_success()
    );
    assert_eq!(filter.filter(&state, &incoming, n2), ok());
}

#[test]
fn a_pod_without_terms_facing_none_skips_and_a_malformed_one_is_rejected() {
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    let snapshot = snapshot(&[("n1", json!({}))], &[]);
    let pre = plugin.as_pre_filter().expect("PreFilter");
    let plain = pod("p", "default", json!({}), "", json!(null));
    let (_, status) = pre.pre_filter(&mut CycleState::new(), &plain, &snapshot, &l);
    assert!(status.is_skip());

    let bad = pod(
        "p",
        "default",
        json!({}),
        "",
        required("podAffinity", vec![term("app", "Near", &["x"], "zone")]),
    );
    let (_, status) = pre.pre_filter(&mut CycleState::new(), &bad, &snapshot, &l);
    assert_eq!(status.code(), Code::UnschedulableAndUnresolvable);
    assert!(status.message().starts_with("parsing pod: "), "{status}");
    let score = plugin.as_pre_score().expect("PreScore");
    let status = score.pre_score(
        &mut CycleState::new(),
        &bad,
        snapshot.nodes(),
        &snapshot,
        &l,
    );
    assert_eq!(status.code(), Code::Error);
}

#[test]
fn affinity_to_itself_needs_the_matching_pods_domain_once_one_exists() {
    let l = listers(&[]);
    let nodes = [
        ("n1", json!({"region": "r1"})),
        ("n2", json!({"region": "r2"})),
    ];
    let web = json!({"app": "web"});
    let existing = vec![pod("e", "default", web.clone(), "n1", json!(null))];
    let snapshot = snapshot(&nodes, &existing);
    let affinity = required("podAffinity", vec![term("app", "In", &["web"], "region")]);
    let incoming = pod("p", "default", web, "", affinity);
    assert_eq!(
        filter_all(plugin(None, &l).as_ref(), &incoming, &snapshot, &l),
        vec![ok(), affinity_failed()]
    );
}
