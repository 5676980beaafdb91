//! InterPodAffinity's PreScore, Score and Normalize against upstream's
//! `scoring_test.go` cases.

use super::*;

#[test]
fn score_follows_upstream_preferred_cases() {
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    let s1 = json!({"security": "S1"});
    let s2 = json!({"security": "S2"});
    let stay_with_s1 = preferred("podAffinity", 5, term("security", "In", &["S1"], "region"));
    let away_from_s1 = preferred("podAntiAffinity", 5, term("security", "In", &["S1"], "az"));
    let cases: Vec<ScoreCase> = vec![
        (
            "no affinity anywhere: skipped",
            pod("p", "default", s1.clone(), "", json!(null)),
            vec![
                ("n1", json!({"region": "China"})),
                ("n2", json!({"region": "India"})),
            ],
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            None,
        ),
        (
            "the region of a matching pod scores highest",
            pod("p", "default", json!({}), "", stay_with_s1.clone()),
            vec![
                ("n1", json!({"region": "China"})),
                ("n2", json!({"region": "India"})),
                ("n3", json!({"az": "az1"})),
            ],
            vec![
                pod("a", "default", s1.clone(), "n1", json!(null)),
                pod("b", "default", s2.clone(), "n2", json!(null)),
                pod("c", "default", json!({}), "n3", json!(null)),
            ],
            Some(vec![100, 0, 0]),
        ),
        (
            "every node of that region scores the same",
            pod("p", "default", json!({}), "", stay_with_s1.clone()),
            vec![
                ("n1", json!({"region": "China"})),
                ("n2", json!({"region": "China"})),
                ("n3", json!({"region": "India"})),
            ],
            vec![pod("a", "default", s1.clone(), "n1", json!(null))],
            Some(vec![100, 100, 0]),
        ),
        (
            "anti-affinity: the zone of a matching pod scores lowest",
            pod("p", "default", json!({}), "", away_from_s1.clone()),
            vec![
                ("n1", json!({"az": "az1"})),
                ("n2", json!({"region": "China"})),
            ],
            vec![
                pod("a", "default", s1.clone(), "n1", json!(null)),
                pod("b", "default", s2.clone(), "n2", json!(null)),
            ],
            Some(vec![0, 100]),
        ),
        (
            "an existing pod's preferred anti-affinity weighs against its zone",
            pod("p", "default", s1.clone(), "", json!(null)),
            vec![
                ("n1", json!({"az": "az1"})),
                ("n2", json!({"az": "az2"})),
                ("n3", json!({"az": "az3"})),
            ],
            vec![
                pod("a", "default", json!({}), "n1", away_from_s1.clone()),
                pod(
                    "b",
                    "default",
                    json!({}),
                    "n2",
                    preferred("podAntiAffinity", 2, term("security", "In", &["S1"], "az")),
                ),
            ],
            Some(vec![0, 60, 100]),
        ),
    ];
    for (name, incoming, nodes, existing, want) in cases {
        let snapshot = snapshot(&nodes, &existing);
        assert_eq!(
            score_all(plugin.as_ref(), &incoming, &snapshot, &l),
            want,
            "{name}"
        );
    }
}

#[test]
fn existing_pods_required_affinity_scores_by_the_hard_weight() {
    let l = listers(&[]);
    let nodes = [
        ("n1", json!({"region": "China"})),
        ("n2", json!({"region": "India"})),
        ("n3", json!({"az": "az1"})),
    ];
    let hard = required(
        "podAffinity",
        vec![term("security", "In", &["S1"], "region")],
    );
    let existing = vec![
        pod("a", "default", json!({}), "n1", hard.clone()),
        pod("b", "default", json!({}), "n2", hard),
    ];
    let snapshot = snapshot(&nodes, &existing);
    let incoming = pod("p", "default", json!({"security": "S1"}), "", json!(null));
    let weighted = plugin(None, &l);
    assert_eq!(
        score_all(weighted.as_ref(), &incoming, &snapshot, &l),
        Some(vec![100, 100, 0])
    );
    let unweighted = plugin(Some(json!({"hardPodAffinityWeight": 0})), &l);
    assert_eq!(
        score_all(unweighted.as_ref(), &incoming, &snapshot, &l),
        None
    );
}

#[test]
fn existing_pods_preferred_terms_can_be_ignored() {
    let l = listers(&[]);
    let nodes = [("n1", json!({"zone": "z1"})), ("n2", json!({"zone": "z2"}))];
    let soft = preferred("podAffinity", 10, term("app", "In", &["web"], "zone"));
    let existing = vec![pod("a", "default", json!({}), "n2", soft)];
    let snapshot = snapshot(&nodes, &existing);
    let incoming = pod("p", "default", json!({"app": "web"}), "", json!(null));
    let counted = plugin(None, &l);
    assert_eq!(
        score_all(counted.as_ref(), &incoming, &snapshot, &l),
        Some(vec![0, 100])
    );
    let ignoring = plugin(
        Some(json!({"ignorePreferredTermsOfExistingPods": true})),
        &l,
    );
    assert_eq!(score_all(ignoring.as_ref(), &incoming, &snapshot, &l), None);
}

#[test]
fn the_region_with_more_matching_pods_scores_higher_for_all_its_nodes() {
    let l = listers(&[]);
    let china = json!({"region": "China"});
    let india = json!({"region": "India"});
    let nodes = [
        ("n1", china.clone()),
        ("n2", india.clone()),
        ("n3", china.clone()),
        ("n4", china),
        ("n5", india),
    ];
    let s2 = json!({"security": "S2"});
    let on = |name: &str, node: &str| pod(name, "default", s2.clone(), node, json!(null));
    let existing = vec![
        on("a", "n1"),
        on("b", "n1"),
        on("c", "n2"),
        on("d", "n3"),
        on("e", "n4"),
        on("f", "n5"),
    ];
    let snapshot = snapshot(&nodes, &existing);
    let stay_with_s2 = preferred("podAffinity", 5, term("security", "In", &["S2"], "region"));
    let incoming = pod("p", "default", json!({}), "", stay_with_s2);
    assert_eq!(
        score_all(plugin(None, &l).as_ref(), &incoming, &snapshot, &l),
        Some(vec![100, 0, 100, 100, 0])
    );
}

#[test]
fn existing_pods_namespace_selectors_score_the_incoming_pods_namespace() {
    let l = listers(&[("subteam1.team1", json!({"team": "team1"}))]);
    let nodes = [
        ("n1", json!({"region": "China"})),
        ("n2", json!({"region": "India"})),
        ("n3", json!({"az": "az1"})),
    ];
    let mut selecting = term("security", "In", &["S1"], "region");
    selecting["namespaceSelector"] = json!({"matchLabels": {"team": "team1"}});
    let stay_with_s2 = preferred("podAffinity", 5, term("security", "In", &["S2"], "region"));
    let s1 = json!({"security": "S1"});
    let s2 = json!({"security": "S2"});
    let incoming = pod("p", "subteam1.team1", s1.clone(), "", json!(null));
    let plugin = plugin(None, &l);

    let existing = vec![
        pod(
            "a",
            "default",
            s1.clone(),
            "n1",
            preferred("podAffinity", 5, selecting.clone()),
        ),
        pod("b", "default", s2.clone(), "n2", stay_with_s2.clone()),
    ];
    let snapshot = snapshot(&nodes, &existing);
    assert_eq!(
        score_all(plugin.as_ref(), &incoming, &snapshot, &l),
        Some(vec![100, 0, 0])
    );

    let existing = vec![
        pod(
            "a",
            "default",
            s1,
            "n1",
            preferred("podAntiAffinity", 5, selecting),
        ),
        pod("b", "default", s2, "n2", stay_with_s2),
    ];
    let snapshot = super::snapshot(&nodes, &existing);
    assert_eq!(
        score_all(plugin.as_ref(), &incoming, &snapshot, &l),
        Some(vec![0, 100, 100])
    );
}
