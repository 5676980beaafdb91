//! Table tests of the graph and the decisions.

use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::json;

use super::decide::{self, Foreground, Found, Latest, Owner, Plan, Propagation};
use super::graph::{Change, FOREGROUND, Graph, Identity, ORPHAN, Object};
use super::queue;

fn identity(kind: &str, namespace: &str, name: &str, uid: &str) -> Identity {
    Identity {
        api_version: "v1".to_string(),
        kind: kind.to_string(),
        namespace: namespace.to_string(),
        name: name.to_string(),
        uid: uid.to_string(),
    }
}

fn reference(name: &str, uid: &str, block: bool) -> OwnerReference {
    OwnerReference {
        api_version: "v1".to_string(),
        kind: "ConfigMap".to_string(),
        name: name.to_string(),
        uid: uid.to_string(),
        block_owner_deletion: block.then_some(true),
        controller: None,
    }
}

fn object(namespace: &str, name: &str, uid: &str, owners: Vec<OwnerReference>) -> Object {
    Object {
        identity: identity("ConfigMap", namespace, name, uid),
        owners,
        being_deleted: false,
        finalizers: Vec::new(),
    }
}

fn deleting(mut object: Object, finalizer: &str) -> Object {
    object.being_deleted = true;
    object.finalizers = vec![finalizer.to_string()];
    object
}

fn uids(set: &std::collections::BTreeSet<String>) -> Vec<&str> {
    set.iter().map(String::as_str).collect()
}

#[test]
fn an_unseen_owner_is_a_virtual_node_looked_up() {
    let mut graph = Graph::default();
    let effects = graph.apply(Change::Upsert(object(
        "ns",
        "child",
        "c",
        vec![reference("owner", "o", false)],
    )));
    assert_eq!(uids(&effects.attempt_delete), ["o"]);
    let owner = graph.node("o").expect("a virtual owner");
    assert!(!owner.observed);
    assert_eq!(owner.identity, identity("ConfigMap", "ns", "owner", "o"));
    assert!(owner.dependents.contains("c"));
    // Seen at last: observed, nothing more to do.
    let effects = graph.apply(Change::Upsert(object("ns", "owner", "o", vec![])));
    assert!(effects.attempt_delete.is_empty());
    assert!(graph.node("o").is_some_and(|n| n.observed));
}

#[test]
fn an_owner_deleted_brings_its_dependents_and_a_waiting_owner_back() {
    let mut graph = Graph::default();
    graph.apply(Change::Upsert(object("ns", "owner", "o", vec![])));
    graph.apply(Change::Upsert(object(
        "ns",
        "child",
        "c",
        vec![reference("owner", "o", true)],
    )));
    let effects = graph.apply(Change::Upsert(deleting(
        object("ns", "owner", "o", vec![]),
        FOREGROUND,
    )));
    assert_eq!(uids(&effects.attempt_delete), ["c", "o"]);
    assert!(graph.node("o").is_some_and(|n| n.deleting_dependents));
    assert_eq!(
        decide::deleting_dependents(&graph, "o"),
        Foreground::Attempt(vec!["c".into()])
    );
    let effects = graph.apply(Change::Delete(identity("ConfigMap", "ns", "child", "c")));
    assert_eq!(uids(&effects.attempt_delete), ["o"]);
    assert_eq!(
        decide::deleting_dependents(&graph, "o"),
        Foreground::RemoveFinalizer
    );
    let effects = graph.apply(Change::Delete(identity("ConfigMap", "ns", "owner", "o")));
    assert!(effects.attempt_delete.is_empty());
    assert!(graph.is_empty());
}

#[test]
fn only_blocking_dependents_hold_a_foreground_deletion() {
    let mut graph = Graph::default();
    graph.apply(Change::Upsert(deleting(
        object("ns", "owner", "o", vec![]),
        FOREGROUND,
    )));
    graph.apply(Change::Upsert(object(
        "ns",
        "free",
        "f",
        vec![reference("owner", "o", false)],
    )));
    assert_eq!(
        decide::deleting_dependents(&graph, "o"),
        Foreground::RemoveFinalizer
    );
    graph.apply(Change::Upsert(object(
        "ns",
        "held",
        "h",
        vec![reference("owner", "o", true)],
    )));
    assert_eq!(
        decide::deleting_dependents(&graph, "o"),
        Foreground::Attempt(vec!["h".into()])
    );
    // A blocking dependent itself deleting its dependents is waited for.
    graph.apply(Change::Upsert(deleting(
        object("ns", "held", "h", vec![reference("owner", "o", true)]),
        FOREGROUND,
    )));
    assert_eq!(
        decide::deleting_dependents(&graph, "o"),
        Foreground::Attempt(vec![])
    );
    // Unblocked, the owner is looked at again.
    let effects = graph.apply(Change::Upsert(object(
        "ns",
        "held",
        "h",
        vec![reference("owner", "o", false)],
    )));
    assert!(effects.attempt_delete.contains("o"));
}

#[test]
fn an_orphaning_owner_is_queued_for_orphaning() {
    let mut graph = Graph::default();
    graph.apply(Change::Upsert(object("ns", "owner", "o", vec![])));
    let effects = graph.apply(Change::Upsert(deleting(
        object("ns", "owner", "o", vec![]),
        ORPHAN,
    )));
    assert_eq!(uids(&effects.attempt_orphan), ["o"]);
    assert!(effects.attempt_delete.is_empty());
}

#[test]
fn an_owner_observed_in_another_namespace_is_reported() {
    let mut graph = Graph::default();
    graph.apply(Change::Upsert(object("a", "owner", "o", vec![])));
    let effects = graph.apply(Change::Upsert(object(
        "b",
        "child",
        "c",
        vec![reference("owner", "o", false)],
    )));
    assert_eq!(uids(&effects.attempt_delete), ["c"]);
    assert_eq!(effects.invalid_namespace.len(), 1);
    assert_eq!(effects.invalid_namespace[0].0.name, "child");
    // The other order: the child first, then the owner seen elsewhere.
    let mut graph = Graph::default();
    graph.apply(Change::Upsert(object(
        "b",
        "child",
        "c",
        vec![reference("owner", "o", false)],
    )));
    let effects = graph.apply(Change::Upsert(object("a", "owner", "o", vec![])));
    assert_eq!(uids(&effects.attempt_delete), ["c"]);
    assert_eq!(effects.invalid_namespace.len(), 1);
    let named = Identity::of_reference(&effects.invalid_namespace[0].1, "b");
    assert_eq!(
        named.to_string(),
        "[v1/ConfigMap, namespace: b, name: owner, uid: o]"
    );
}

#[test]
fn an_absent_virtual_owner_goes_and_its_dependents_are_looked_at() {
    let mut graph = Graph::default();
    graph.apply(Change::Upsert(object(
        "ns",
        "child",
        "c",
        vec![reference("owner", "o", false)],
    )));
    let effects = graph.apply(Change::Absent(identity("ConfigMap", "ns", "owner", "o")));
    assert_eq!(uids(&effects.attempt_delete), ["c"]);
    assert!(graph.node("o").is_none());
    // An observed node of other coordinates stays.
    graph.apply(Change::Upsert(object("ns", "real", "r", vec![])));
    graph.apply(Change::Absent(identity(
        "ConfigMap",
        "ns",
        "elsewhere",
        "r",
    )));
    assert!(graph.node("r").is_some());
}

#[test]
fn owners_are_classified_by_what_was_found() {
    let owner = reference("owner", "o", true);
    let found = |uid: &str, finalizers: &[&str], being_deleted| Found {
        uid: uid.to_string(),
        being_deleted,
        finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
    };
    let cases = [
        (None, Owner::Dangling),
        (Some(found("other", &[], false)), Owner::Dangling),
        (Some(found("o", &[], false)), Owner::Solid),
        (Some(found("o", &[ORPHAN], true)), Owner::Solid),
        (Some(found("o", &[], true)), Owner::Solid),
        (Some(found("o", &[FOREGROUND], true)), Owner::Waiting),
        (Some(found("o", &[FOREGROUND], false)), Owner::Solid),
    ];
    for (lookup, want) in cases {
        assert_eq!(
            decide::classify(&owner, lookup.as_ref()),
            want,
            "{lookup:?}"
        );
    }
}

#[test]
fn owners_are_looked_for_in_the_dependents_namespace() {
    assert_eq!(decide::owner_namespace("ns", true), Some("ns"));
    assert_eq!(decide::owner_namespace("ns", false), Some(""));
    assert_eq!(decide::owner_namespace("", false), Some(""));
    assert_eq!(decide::owner_namespace("", true), None);
}

fn latest(owners: Vec<OwnerReference>, finalizers: &[&str]) -> Latest {
    Latest {
        uid: "c".to_string(),
        resource_version: "7".to_string(),
        owners,
        finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
        being_deleted: false,
    }
}

#[test]
fn what_becomes_of_an_item() {
    let a = reference("a", "ua", true);
    let b = reference("b", "ub", false);
    let both = latest(vec![a.clone(), b.clone()], &[]);
    let background = Plan::Delete {
        unblock: None,
        propagation: Propagation::Background,
    };
    let keep_b = json!({"metadata": {
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "b", "uid": "ub"}],
        "resourceVersion": "7", "uid": "c"}});
    let cases: Vec<(&str, Vec<Owner>, bool, bool, Plan)> = vec![
        (
            "all solid",
            vec![Owner::Solid, Owner::Solid],
            false,
            false,
            Plan::Keep,
        ),
        (
            "one dangling",
            vec![Owner::Dangling, Owner::Solid],
            false,
            false,
            Plan::RemoveReferences(keep_b.clone()),
        ),
        (
            "one waiting",
            vec![Owner::Waiting, Owner::Solid],
            true,
            false,
            Plan::RemoveReferences(keep_b),
        ),
        (
            "all dangling",
            vec![Owner::Dangling, Owner::Dangling],
            true,
            false,
            background.clone(),
        ),
        (
            "waiting, no dependents",
            vec![Owner::Waiting, Owner::Dangling],
            false,
            false,
            background,
        ),
        (
            "waiting, with dependents",
            vec![Owner::Waiting, Owner::Dangling],
            true,
            false,
            Plan::Delete {
                unblock: None,
                propagation: Propagation::Foreground,
            },
        ),
    ];
    for (name, states, has_dependents, deleting, want) in cases {
        let owners: Vec<_> = both.owners.iter().cloned().zip(states).collect();
        assert_eq!(
            decide::attempt_to_delete(&both, &owners, has_dependents, deleting),
            want,
            "{name}"
        );
    }
    // A dependent deleting its own dependents: unblock first.
    let owners = vec![(a.clone(), Owner::Waiting)];
    let one = latest(vec![a.clone()], &[]);
    let Plan::Delete {
        unblock: Some(patch),
        propagation,
    } = decide::attempt_to_delete(&one, &owners, true, true)
    else {
        panic!("an unblocking delete");
    };
    assert_eq!(propagation, Propagation::Foreground);
    assert_eq!(
        patch["metadata"]["ownerReferences"][0]["blockOwnerDeletion"],
        json!(false)
    );
    // The item's own finalizers choose the propagation.
    for (finalizer, want) in [
        (ORPHAN, Propagation::Orphan),
        (FOREGROUND, Propagation::Foreground),
    ] {
        let item = latest(vec![b.clone()], &[finalizer]);
        let plan = decide::attempt_to_delete(&item, &[(b.clone(), Owner::Dangling)], false, false);
        assert_eq!(
            plan,
            Plan::Delete {
                unblock: None,
                propagation: want
            }
        );
    }
    assert_eq!(
        decide::attempt_to_delete(&latest(vec![], &[]), &[], false, false),
        Plan::Keep
    );
}

#[test]
fn finalizers_and_orphans_are_patched_with_the_version_read() {
    let item = latest(vec![reference("a", "ua", true)], &[FOREGROUND, "other"]);
    assert_eq!(
        decide::remove_finalizer(&item, FOREGROUND),
        Some(json!({"metadata": {"finalizers": ["other"], "resourceVersion": "7"}}))
    );
    assert_eq!(decide::remove_finalizer(&item, ORPHAN), None);
    assert_eq!(
        decide::orphan(&item, "ua"),
        Some(json!({"metadata": {"ownerReferences": null, "resourceVersion": "7", "uid": "c"}}))
    );
    assert_eq!(decide::orphan(&item, "elsewhere"), None);
}

#[test]
fn backoff_doubles_up_to_a_bound() {
    let waits: Vec<u128> = [1, 2, 3, 40]
        .iter()
        .map(|n| queue::backoff(*n).as_millis())
        .collect();
    assert_eq!(waits, [10, 20, 40, 10_000]);
}
