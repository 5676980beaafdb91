//! Required fields are filled with Go's zero values along the schema,
//! inside the objects a value already has, and nothing else is added.

use keelson_api::registry;
use keelson_api::zero_values::fill;
use serde_json::{Value, json};

/// `object` (given a `metadata`, which every stored object has) filled.
fn filled(group: &str, plural: &str, mut object: Value) -> Value {
    let resource = registry::by_resource(group, plural).expect("served");
    object["metadata"] = json!({"name": "a"});
    fill(resource, &mut object);
    object
        .as_object_mut()
        .expect("an object")
        .remove("metadata");
    object
}

#[test]
fn required_fields_get_their_zero_inside_present_objects() {
    let cases = [
        (
            "apps",
            "replicasets",
            json!({"status": {}}),
            json!({"status": {"replicas": 0}}),
        ),
        ("apps", "replicasets", json!({}), json!({})),
        (
            "apps",
            "daemonsets",
            json!({"status": {"numberReady": 2}}),
            json!({"status": {"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 2}}),
        ),
        // Into lists of structs, and only the struct's own required fields.
        (
            "",
            "pods",
            json!({"spec": {"containers": [{"name": "a", "ports": [{"name": "http"}]}]}}),
            json!({"spec": {"containers": [{"name": "a", "ports": [{"name": "http", "containerPort": 0}]}]}}),
        ),
        // Lists and timestamps Go writes as null stay absent.
        ("", "pods", json!({"spec": {}}), json!({"spec": {}})),
        (
            "",
            "configmaps",
            json!({"data": {"k": "v"}}),
            json!({"data": {"k": "v"}}),
        ),
    ];
    for (group, plural, object, want) in cases {
        assert_eq!(
            filled(group, plural, object.clone()),
            want,
            "{plural}: {object}"
        );
    }
}

#[test]
fn filling_twice_changes_nothing() {
    let once = filled(
        "apps",
        "statefulsets",
        json!({"status": {}, "spec": {"template": {}}}),
    );
    assert_eq!(filled("apps", "statefulsets", once.clone()), once);
}
