//! Table tests of the Namespace controller's decisions.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn served(group: &str, resource: &str, namespaced: bool, verbs: &[&str]) -> Served {
    Served {
        group: group.into(),
        resource: resource.into(),
        namespaced,
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
    }
}

fn pod(phase: &str, spec_grace: Option<i64>, deletion_grace: Option<i64>) -> Pod {
    let mut object = json!({"metadata": {"name": "p"}, "spec": {"containers": []},
        "status": {"phase": phase}});
    if let Some(grace) = spec_grace {
        object["spec"]["terminationGracePeriodSeconds"] = json!(grace);
    }
    if let Some(grace) = deletion_grace {
        object["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    }
    serde_json::from_value(object).expect("a pod")
}

fn outcome(group: &str, resource: &str, remaining: usize) -> ResourceOutcome {
    ResourceOutcome {
        group: group.into(),
        resource: resource.into(),
        remaining,
        ..ResourceOutcome::default()
    }
}

#[test]
fn only_namespaced_deletable_resources_are_emptied() {
    let all = [
        served("", "pods", true, &["delete", "deletecollection", "list"]),
        served("", "nodes", false, &["delete", "list"]),
        served("", "bindings", true, &["create"]),
        served("example.com", "widgets", true, &["delete", "list"]),
    ];
    let chosen: Vec<&str> = deletable(&all)
        .into_iter()
        .map(|r| r.resource.as_str())
        .collect();
    assert_eq!(chosen, ["pods", "widgets"]);
    assert!(all[0].deletes_collections());
    assert!(!all[3].deletes_collections());
}

#[test]
fn pods_are_waited_for_as_long_as_their_longest_grace_period() {
    let cases = [
        (vec![], 0),
        (vec![pod("Running", None, None)], 30),
        (
            vec![pod("Running", Some(5), None), pod("Pending", Some(7), None)],
            7,
        ),
        // A deletion's own grace period wins over the spec's.
        (vec![pod("Running", Some(60), Some(2))], 2),
        // Finished pods take no time.
        (
            vec![pod("Succeeded", Some(60), None), pod("Failed", None, None)],
            0,
        ),
    ];
    for (pods, want) in cases {
        assert_eq!(pod_estimate(&pods), want, "{pods:?}");
    }
}

#[test]
fn what_remains_of_a_resource() {
    let pods = served("", "pods", true, &["delete", "list"]);
    let finalized = vec!["example.com/hold".to_string()];
    // (estimate, finalizers of what is left) -> (remaining, estimate, error?)
    type Case = (i64, Vec<Vec<String>>, usize, i64, bool);
    let cases: [Case; 5] = [
        (30, vec![], 0, 0, false),
        (30, vec![vec![], vec![]], 2, 30, false),
        (
            0,
            vec![finalized.clone()],
            1,
            FINALIZER_ESTIMATE_SECONDS,
            false,
        ),
        (10, vec![finalized.clone()], 1, 10, false),
        (0, vec![vec![]], 1, 0, true),
    ];
    for (estimate, left, remaining, want_estimate, error) in cases {
        let got = resource_outcome(&pods, "dev", estimate, &left);
        assert_eq!(
            (got.remaining, got.estimate, got.error.is_some()),
            (remaining, want_estimate, error),
            "{estimate} {left:?}"
        );
    }
    let stuck = resource_outcome(&pods, "dev", 0, &[vec![]]);
    assert_eq!(
        stuck.error.as_deref(),
        Some("unexpected items still remain in namespace: dev for gvr: pods.")
    );
    let held = resource_outcome(&pods, "dev", 0, &[finalized.clone(), finalized]);
    assert_eq!(
        held.finalizers,
        BTreeMap::from([("example.com/hold".to_string(), 2)])
    );
}

fn by_type<'a>(conditions: &'a [Condition], type_: &str) -> &'a Condition {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .expect("the condition")
}

#[test]
fn a_clean_pass_says_all_is_well_in_upstreams_words() {
    let got = conditions(&Pass {
        resources: vec![outcome("", "pods", 0)],
        ..Pass::default()
    });
    let types: Vec<&str> = got.iter().map(|c| c.type_).collect();
    assert_eq!(types, CONDITION_TYPES);
    let want = [
        (
            DISCOVERY_FAILURE,
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        (
            GROUP_VERSION_PARSING_FAILURE,
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        (
            CONTENT_FAILURE,
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
        (
            CONTENT_REMAINING,
            "ContentRemoved",
            "All content successfully removed",
        ),
        (
            FINALIZERS_REMAINING,
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished",
        ),
    ];
    for (type_, reason, message) in want {
        let c = by_type(&got, type_);
        assert_eq!(
            (c.status, c.reason, c.message.as_str()),
            ("False", reason, message)
        );
    }
}

#[test]
fn what_is_left_and_what_failed_show_in_the_conditions() {
    let mut widgets = outcome("example.com", "widgets", 1);
    widgets.finalizers = BTreeMap::from([("example.com/hold".to_string(), 1)]);
    widgets.estimate = FINALIZER_ESTIMATE_SECONDS;
    let mut secrets = outcome("", "secrets", 0);
    secrets.error = Some("secrets: boom".into());
    let pass = Pass {
        discovery_error: None,
        discovery_failures: vec![
            ("b.io/v1".into(), "gone".into()),
            ("a.io/v1".into(), "down".into()),
        ],
        parse_failures: vec!["bad/group/version".into()],
        resources: vec![outcome("", "pods", 2), widgets, secrets],
    };
    let got = conditions(&pass);
    let cases = [
        (
            DISCOVERY_FAILURE,
            "DiscoveryFailed",
            "Discovery failed for some groups, 2 failing: unable to retrieve the complete list of server APIs: a.io/v1: down, b.io/v1: gone",
        ),
        (
            GROUP_VERSION_PARSING_FAILURE,
            "GroupVersionParsingFailed",
            "bad/group/version",
        ),
        (
            CONTENT_FAILURE,
            "ContentDeletionFailed",
            "Failed to delete all resource types, 1 remaining: secrets: boom",
        ),
        (
            CONTENT_REMAINING,
            "SomeResourcesRemain",
            "Some resources are remaining: pods. has 2 resource instances, widgets.example.com has 1 resource instances",
        ),
        (
            FINALIZERS_REMAINING,
            "SomeFinalizersRemain",
            "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
        ),
    ];
    for (type_, reason, message) in cases {
        let c = by_type(&got, type_);
        assert_eq!(
            (c.status, c.reason, c.message.as_str()),
            ("True", reason, message)
        );
    }
    assert!(matches!(decide(&pass), Decision::Retry(_)));
}

#[test]
fn the_decision_after_a_pass() {
    let mut pods = outcome("", "pods", 2);
    pods.estimate = 30;
    let mut held = outcome("", "configmaps", 1);
    held.estimate = FINALIZER_ESTIMATE_SECONDS;
    let mut broken = outcome("", "secrets", 0);
    broken.error = Some("boom".into());
    let cases = [
        (vec![outcome("", "pods", 0)], Decision::Finalize),
        (vec![], Decision::Finalize),
        (vec![pods.clone(), held.clone()], Decision::Requeue(16)),
        (vec![held], Decision::Requeue(8)),
        (vec![pods, broken], Decision::Retry("boom".into())),
    ];
    for (resources, want) in cases {
        let pass = Pass {
            resources,
            ..Pass::default()
        };
        assert_eq!(decide(&pass), want, "{pass:?}");
    }
    let undiscovered = Pass {
        discovery_error: Some("no groups".into()),
        ..Pass::default()
    };
    assert_eq!(decide(&undiscovered), Decision::Retry("no groups".into()));
    assert_eq!(
        conditions(&undiscovered)[0].message,
        "no groups",
        "a discovery that failed whole says why"
    );
}

#[test]
fn conditions_merge_as_upstream_updates_them() {
    let earlier = Timestamp::from_second(1_000).expect("a time");
    let later = Timestamp::from_second(2_000).expect("a time");
    let first = conditions(&Pass {
        resources: vec![outcome("", "pods", 1)],
        ..Pass::default()
    });
    let written = merge_conditions(&[], &first, earlier).expect("all five are new");
    assert_eq!(written.len(), 5);
    assert_eq!(
        merge_conditions(&written, &first, later),
        None,
        "nothing changed"
    );
    // The count changes: same status, so the transition time stays.
    let second = conditions(&Pass {
        resources: vec![outcome("", "pods", 2)],
        ..Pass::default()
    });
    let updated = merge_conditions(&written, &second, later).expect("a new message");
    let remaining = updated
        .iter()
        .find(|c| c.type_ == CONTENT_REMAINING)
        .expect("the condition");
    assert_eq!(
        remaining.message.as_deref(),
        Some("Some resources are remaining: pods. has 2 resource instances")
    );
    assert_eq!(remaining.last_transition_time, Some(Time(earlier)));
    // All gone: the status flips, and so does the time.
    let done = conditions(&Pass::default());
    let cleared = merge_conditions(&updated, &done, later).expect("a flip");
    let remaining = cleared
        .iter()
        .find(|c| c.type_ == CONTENT_REMAINING)
        .expect("the condition");
    assert_eq!(remaining.status, "False");
    assert_eq!(remaining.last_transition_time, Some(Time(later)));
    // Conditions of other types are kept.
    let mut other = cleared.clone();
    other.push(NamespaceCondition {
        type_: "Other".into(),
        status: "True".into(),
        ..NamespaceCondition::default()
    });
    assert_eq!(merge_conditions(&other, &done, later), None);
}

#[test]
fn finalizing_takes_out_only_the_kubernetes_finalizer() {
    let cases: [(&[&str], &[&str]); 3] = [
        (&["kubernetes"], &[]),
        (
            &["z.io/x", "kubernetes", "a.io/y", "a.io/y"],
            &["a.io/y", "z.io/x"],
        ),
        (&[], &[]),
    ];
    for (before, after) in cases {
        let before: Vec<String> = before.iter().map(|f| f.to_string()).collect();
        assert_eq!(finalizers_after(&before), after, "{before:?}");
    }
}
