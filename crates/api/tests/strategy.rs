//! Every registry entry names the strategy of its own kind: the protobuf
//! message, printer and selectable fields it finds are that kind's.

use keelson_api::field_selector::Selector;
use keelson_api::registry::{self, Serve};
use serde_json::json;

#[test]
fn each_resource_reads_protobuf_bodies_of_its_own_kind() {
    for resource in registry::all() {
        let message = resource
            .strategy
            .protobuf()
            .expect("built-in kinds read protobuf");
        assert!(
            message.is(&resource.api_version(), resource.kind),
            "{}: {message:?}",
            resource.group_resource()
        );
        assert_eq!((message.definition)(), resource.definition);
    }
}

#[test]
fn printers_have_a_name_column_and_rows_fill_every_column() {
    let now = "2026-01-01T00:00:00Z".parse().expect("a time");
    let mut printed = 0;
    for resource in registry::all() {
        let Some(printer) = resource.strategy.printer() else {
            continue;
        };
        let name = printer.columns.iter().position(|c| c.name == "Name");
        let name = name.unwrap_or_else(|| panic!("{}: no Name column", resource.plural));
        let object = json!({
            "apiVersion": resource.api_version(), "kind": resource.kind,
            "metadata": {"name": "a", "namespace": "n", "creationTimestamp": "2025-12-31T00:00:00Z"},
        });
        if let Some(row) = printer.row(&object, now) {
            assert_eq!(
                row.cells.len(),
                printer.columns.len(),
                "{}",
                resource.plural
            );
            assert_eq!(row.cells[name], "a", "{}", resource.plural);
            printed += 1;
        }
    }
    assert!(printed >= 15, "only {printed} printers read a bare object");
}

#[test]
fn deletes_answer_with_the_object_where_upstream_stores_do() {
    let returning: Vec<String> = registry::all()
        .iter()
        .filter(|r| r.strategy.returns_deleted_object())
        .map(|r| r.group_resource())
        .collect();
    assert_eq!(
        returning,
        [
            "namespaces",
            "persistentvolumeclaims",
            "persistentvolumes",
            "pods",
            "podtemplates",
            "serviceaccounts",
            "services"
        ]
    );
}

#[test]
fn only_kinds_with_fields_of_their_own_select_beyond_metadata() {
    let by_node = Selector::parse("spec.nodeName=x").expect("parses");
    for resource in registry::all() {
        let fields = resource.strategy.selectable_fields();
        let accepted = by_node.for_fields(fields).is_ok();
        assert_eq!(accepted, resource.kind == "Pod", "{}", resource.plural);
        let by_name = Selector::parse("metadata.name=a").expect("parses");
        assert!(by_name.for_fields(fields).is_ok(), "{}", resource.plural);
    }
}

#[test]
fn generation_and_status_follow_upstream() {
    let with_generation: Vec<&str> = registry::all()
        .iter()
        .filter(|r| r.strategy.has_generation())
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        with_generation,
        [
            "PodTemplate",
            "ReplicationController",
            "DaemonSet",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
            "CronJob",
            "Job",
            "IngressClass",
            "Ingress",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "CustomResourceDefinition"
        ]
    );
    for resource in registry::all() {
        let status = resource.subresource("status");
        let owns_status = resource
            .subresource_owned()
            .any(|owned| owned.path == ["status"]);
        assert_eq!(status.is_some(), owns_status, "{}", resource.plural);
        if let Some(status) = status {
            assert!(
                matches!(status.serve, Serve::Owns(_)),
                "{}",
                resource.plural
            );
        }
    }
}
