//! The list semantics table holds Kubernetes' list types, map keys, patch
//! strategies and merge keys for the fields of the served kinds.

use keelson_api::list_types::{
    ListType, PatchStrategy, all_list_fields, is_atomic_map, is_atomic_struct, list_field,
    list_fields_of,
};

#[test]
fn container_ports_are_a_map_keyed_by_port_and_protocol() {
    let ports = list_field("io.k8s.api.core.v1.Container", "ports").expect("ports");
    assert_eq!(ports.list_type, ListType::Map);
    assert_eq!(ports.map_keys, ["containerPort", "protocol"]);
    assert_eq!(ports.patch_strategy, Some(PatchStrategy::Merge));
    assert_eq!(ports.patch_merge_key, Some("containerPort"));
    assert_eq!(
        ports.item_definition,
        Some("io.k8s.api.core.v1.ContainerPort")
    );
}

#[test]
fn list_semantics_match_upstream() {
    type Row = (
        &'static str,
        &'static str,
        ListType,
        &'static [&'static str],
        Option<&'static str>,
        Option<&'static str>,
    );
    const CORE: &str = "io.k8s.api.core.v1.";
    let rows: &[Row] = &[
        (
            "PodSpec",
            "containers",
            ListType::Map,
            &["name"],
            Some("merge"),
            Some("name"),
        ),
        (
            "PodSpec",
            "initContainers",
            ListType::Map,
            &["name"],
            Some("merge"),
            Some("name"),
        ),
        (
            "PodSpec",
            "ephemeralContainers",
            ListType::Map,
            &["name"],
            Some("merge"),
            Some("name"),
        ),
        (
            "PodSpec",
            "volumes",
            ListType::Map,
            &["name"],
            Some("merge,retainKeys"),
            Some("name"),
        ),
        (
            "PodSpec",
            "imagePullSecrets",
            ListType::Map,
            &["name"],
            Some("merge"),
            Some("name"),
        ),
        ("PodSpec", "tolerations", ListType::Atomic, &[], None, None),
        (
            "PodSpec",
            "hostAliases",
            ListType::Map,
            &["ip"],
            Some("merge"),
            Some("ip"),
        ),
        (
            "PodSpec",
            "readinessGates",
            ListType::Atomic,
            &[],
            None,
            None,
        ),
        (
            "PodSpec",
            "topologySpreadConstraints",
            ListType::Map,
            &["topologyKey", "whenUnsatisfiable"],
            Some("merge"),
            Some("topologyKey"),
        ),
        (
            "PodSpec",
            "schedulingGates",
            ListType::Map,
            &["name"],
            Some("merge"),
            Some("name"),
        ),
        (
            "PodSpec",
            "resourceClaims",
            ListType::Map,
            &["name"],
            Some("merge,retainKeys"),
            Some("name"),
        ),
        (
            "Container",
            "env",
            ListType::Map,
            &["name"],
            Some("merge"),
            Some("name"),
        ),
        ("Container", "envFrom", ListType::Atomic, &[], None, None),
        (
            "Container",
            "volumeMounts",
            ListType::Map,
            &["mountPath"],
            Some("merge"),
            Some("mountPath"),
        ),
        (
            "Container",
            "volumeDevices",
            ListType::Map,
            &["devicePath"],
            Some("merge"),
            Some("devicePath"),
        ),
        (
            "EphemeralContainer",
            "env",
            ListType::Map,
            &["name"],
            Some("merge"),
            Some("name"),
        ),
        (
            "PodStatus",
            "conditions",
            ListType::Map,
            &["type"],
            Some("merge"),
            Some("type"),
        ),
        (
            "NodeStatus",
            "conditions",
            ListType::Map,
            &["type"],
            Some("merge"),
            Some("type"),
        ),
        (
            "NodeStatus",
            "addresses",
            ListType::Map,
            &["type"],
            Some("merge"),
            Some("type"),
        ),
        ("NodeSpec", "taints", ListType::Atomic, &[], None, None),
        (
            "NodeSpec",
            "podCIDRs",
            ListType::Set,
            &[],
            Some("merge"),
            None,
        ),
        (
            "NamespaceStatus",
            "conditions",
            ListType::Map,
            &["type"],
            Some("merge"),
            Some("type"),
        ),
        (
            "PersistentVolumeClaimStatus",
            "conditions",
            ListType::Map,
            &["type"],
            Some("merge"),
            Some("type"),
        ),
        (
            "ServiceSpec",
            "ports",
            ListType::Map,
            &["port", "protocol"],
            Some("merge"),
            Some("port"),
        ),
        ("Endpoints", "subsets", ListType::Atomic, &[], None, None),
    ];
    for (definition, field, list_type, keys, strategy, merge_key) in rows {
        let name = format!("{CORE}{definition}");
        let found = list_field(&name, field).unwrap_or_else(|| panic!("{name}.{field}"));
        assert_eq!(found.list_type, *list_type, "{name}.{field}");
        assert_eq!(found.map_keys, *keys, "{name}.{field}");
        assert_eq!(
            found.patch_strategy.map(|s| s.as_str()),
            *strategy,
            "{name}.{field}"
        );
        assert_eq!(found.patch_merge_key, *merge_key, "{name}.{field}");
    }
    let other: &[(&str, &str, ListType, &[&str])] = &[
        (
            "io.k8s.api.apps.v1.DeploymentStatus",
            "conditions",
            ListType::Map,
            &["type"],
        ),
        (
            "io.k8s.api.apps.v1.ReplicaSetStatus",
            "conditions",
            ListType::Map,
            &["type"],
        ),
        (
            "io.k8s.api.apps.v1.StatefulSetStatus",
            "conditions",
            ListType::Map,
            &["type"],
        ),
        (
            "io.k8s.api.apps.v1.DaemonSetStatus",
            "conditions",
            ListType::Map,
            &["type"],
        ),
        (
            "io.k8s.api.batch.v1.JobStatus",
            "conditions",
            ListType::Atomic,
            &[],
        ),
        (
            "io.k8s.api.discovery.v1.EndpointSlice",
            "endpoints",
            ListType::Atomic,
            &[],
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "ownerReferences",
            ListType::Map,
            &["uid"],
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "finalizers",
            ListType::Set,
            &[],
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "managedFields",
            ListType::Atomic,
            &[],
        ),
    ];
    for (definition, field, list_type, keys) in other {
        let found = list_field(definition, field).unwrap_or_else(|| panic!("{definition}.{field}"));
        assert_eq!(
            (found.list_type, found.map_keys),
            (*list_type, *keys),
            "{definition}.{field}"
        );
    }
    let finalizers = list_field(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "finalizers",
    );
    assert_eq!(
        finalizers.and_then(|f| f.patch_strategy),
        Some(PatchStrategy::Merge)
    );
    let job = list_field("io.k8s.api.batch.v1.JobStatus", "conditions").expect("job conditions");
    assert_eq!(
        (job.patch_strategy, job.patch_merge_key),
        (Some(PatchStrategy::Merge), Some("type"))
    );
}

#[test]
fn the_list_table_is_consistent() {
    assert!(all_list_fields().len() > 100);
    for field in all_list_fields() {
        let name = format!("{}.{}", field.definition, field.field);
        assert_eq!(
            field.list_type == ListType::Map,
            !field.map_keys.is_empty(),
            "{name}"
        );
        if let Some(key) = field.patch_merge_key {
            assert!(field.patch_strategy.is_some_and(|s| s.merges()), "{name}");
            if field.list_type == ListType::Map {
                assert!(
                    field.map_keys.contains(&key),
                    "{name}: merge key among map keys"
                );
            }
        }
        let twice = all_list_fields()
            .iter()
            .filter(|f| f.definition == field.definition && f.field == field.field)
            .count();
        assert_eq!(twice, 1, "{name} appears once");
    }
    assert!(list_fields_of("io.k8s.api.core.v1.PodSpec").count() >= 11);
    assert!(list_field("io.k8s.api.core.v1.PodSpec", "nodeName").is_none());
}

#[test]
fn atomic_maps_and_structs_are_marked() {
    assert!(is_atomic_map("io.k8s.api.core.v1.PodSpec", "nodeSelector"));
    assert!(is_atomic_map("io.k8s.api.core.v1.ServiceSpec", "selector"));
    assert!(!is_atomic_map(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "labels"
    ));
    assert!(is_atomic_struct(
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"
    ));
    assert!(is_atomic_struct("io.k8s.api.core.v1.ObjectReference"));
    assert!(!is_atomic_struct("io.k8s.api.core.v1.PodSpec"));
}
