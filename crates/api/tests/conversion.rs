//! events.k8s.io/v1 and core/v1 Events convert into each other field by
//! field, and back without loss.

use keelson_api::conversion::events::{from_core, to_core};
use serde_json::{Value, json};

/// `(events.k8s.io/v1 form, core/v1 form)` pairs of the same event.
fn cases() -> Vec<(Value, Value)> {
    let metadata = json!({"name": "web.17", "namespace": "default"});
    let regarding = json!({"kind": "Pod", "name": "web", "namespace": "default", "uid": "u-1"});
    vec![
        (
            json!({
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": metadata,
                "eventTime": "2025-01-01T00:00:00.000000Z",
                "reportingController": "kubelet", "reportingInstance": "node-1",
                "action": "Pulling", "reason": "Pulling", "type": "Normal",
                "regarding": regarding, "note": "Pulling image",
                "series": {"count": 3, "lastObservedTime": "2025-01-01T00:01:00.000000Z"},
            }),
            json!({
                "apiVersion": "v1", "kind": "Event", "metadata": metadata,
                "eventTime": "2025-01-01T00:00:00.000000Z",
                "reportingComponent": "kubelet", "reportingInstance": "node-1",
                "action": "Pulling", "reason": "Pulling", "type": "Normal",
                "involvedObject": regarding, "message": "Pulling image",
                "series": {"count": 3, "lastObservedTime": "2025-01-01T00:01:00.000000Z"},
            }),
        ),
        (
            json!({
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": metadata,
                "deprecatedSource": {"component": "kubelet", "host": "node-1"},
                "deprecatedFirstTimestamp": "2025-01-01T00:00:00Z",
                "deprecatedLastTimestamp": "2025-01-01T00:05:00Z",
                "deprecatedCount": 4, "related": regarding,
            }),
            json!({
                "apiVersion": "v1", "kind": "Event", "metadata": metadata,
                "source": {"component": "kubelet", "host": "node-1"},
                "firstTimestamp": "2025-01-01T00:00:00Z",
                "lastTimestamp": "2025-01-01T00:05:00Z",
                "count": 4, "related": regarding,
            }),
        ),
        (
            json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {}}),
            json!({"apiVersion": "v1", "kind": "Event", "metadata": {}}),
        ),
    ]
}

#[test]
fn events_convert_field_by_field_both_ways() {
    for (events, core) in cases() {
        assert_eq!(to_core(&events), core);
        assert_eq!(from_core(&core), events);
        assert_eq!(
            from_core(&to_core(&events)),
            events,
            "a round trip keeps all"
        );
    }
}

#[test]
fn a_field_of_the_other_form_does_not_overwrite_the_real_one() {
    let mixed = json!({"note": "new", "message": "stray", "deprecatedCount": 2, "count": 9});
    let core = to_core(&mixed);
    assert_eq!(
        (&core["message"], &core["count"]),
        (&json!("new"), &json!(2))
    );
    assert!(core.get("note").is_none());
    let back = from_core(&json!({"message": "m", "note": "stray"}));
    assert_eq!(back["note"], "m");
}
