//! The registry finds resources by every name kubectl accepts and places
//! objects in the store.

use keelson_api::registry::{
    self, RegistryError, by_kind, by_resource, resolve, storage_key, storage_prefix,
};

#[test]
fn resolves_every_name_kubectl_accepts() {
    let cases = [
        ("deploy", "apps", "deployments"),
        ("deployments", "apps", "deployments"),
        ("deployment", "apps", "deployments"),
        ("Deployment", "apps", "deployments"),
        ("deployments.apps", "apps", "deployments"),
        ("deploy.apps", "apps", "deployments"),
        ("deployments.v1.apps", "apps", "deployments"),
        ("po", "", "pods"),
        ("POD", "", "pods"),
        ("no", "", "nodes"),
        ("ns", "", "namespaces"),
        ("svc", "", "services"),
        ("ep", "", "endpoints"),
        ("cm", "", "configmaps"),
        ("sa", "", "serviceaccounts"),
        ("ev", "", "events"),
        ("pv", "", "persistentvolumes"),
        ("pvc", "", "persistentvolumeclaims"),
        ("rs", "apps", "replicasets"),
        ("sts", "apps", "statefulsets"),
        ("ds", "apps", "daemonsets"),
        ("cj", "batch", "cronjobs"),
        ("jobs.batch", "batch", "jobs"),
        ("lease", "coordination.k8s.io", "leases"),
        (
            "endpointslices.discovery.k8s.io",
            "discovery.k8s.io",
            "endpointslices",
        ),
        ("EndpointSlice", "discovery.k8s.io", "endpointslices"),
        ("controllerrevisions", "apps", "controllerrevisions"),
        ("rc", "", "replicationcontrollers"),
        ("quota", "", "resourcequotas"),
        ("limits", "", "limitranges"),
        ("podtemplates", "", "podtemplates"),
        ("pdb", "policy", "poddisruptionbudgets"),
        ("pc", "scheduling.k8s.io", "priorityclasses"),
        ("sc", "storage.k8s.io", "storageclasses"),
        ("ing", "networking.k8s.io", "ingresses"),
        ("netpol", "networking.k8s.io", "networkpolicies"),
        ("ip", "networking.k8s.io", "ipaddresses"),
        ("servicecidrs", "networking.k8s.io", "servicecidrs"),
        ("ingressclass", "networking.k8s.io", "ingressclasses"),
        ("hpa", "autoscaling", "horizontalpodautoscalers"),
        (
            "horizontalpodautoscalers.v2.autoscaling",
            "autoscaling",
            "horizontalpodautoscalers",
        ),
        ("clusterrole", "rbac.authorization.k8s.io", "clusterroles"),
        (
            "rolebindings.rbac.authorization.k8s.io",
            "rbac.authorization.k8s.io",
            "rolebindings",
        ),
        ("apiservices", "apiregistration.k8s.io", "apiservices"),
        ("events", "", "events"),
        ("events.events.k8s.io", "events.k8s.io", "events"),
    ];
    for (name, group, plural) in cases {
        let found = resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (found.group, found.plural),
            (group, plural),
            "resolving {name}"
        );
    }
}

#[test]
fn refuses_unknown_names() {
    for name in [
        "foo",
        "deployments.batch",
        "pods.apps",
        "ingresses.apps",
        "",
    ] {
        assert_eq!(
            resolve(name),
            Err(RegistryError::UnknownResource(name.to_string())),
            "resolving {name:?}"
        );
    }
    assert_eq!(
        resolve("foo").err().map(|e| e.to_string()),
        Some("the server doesn't have a resource type \"foo\"".to_string())
    );
}

#[test]
fn short_names_and_categories_are_upstreams() {
    let cases: [(&str, &[&str], &[&str]); 41] = [
        ("pods", &["po"], &["all"]),
        ("nodes", &["no"], &[]),
        ("namespaces", &["ns"], &[]),
        ("services", &["svc"], &["all"]),
        ("endpoints", &["ep"], &[]),
        ("configmaps", &["cm"], &[]),
        ("secrets", &[], &[]),
        ("serviceaccounts", &["sa"], &[]),
        ("events", &["ev"], &[]),
        ("persistentvolumes", &["pv"], &[]),
        ("persistentvolumeclaims", &["pvc"], &[]),
        ("replicasets", &["rs"], &["all"]),
        ("deployments", &["deploy"], &["all"]),
        ("statefulsets", &["sts"], &["all"]),
        ("daemonsets", &["ds"], &["all"]),
        ("controllerrevisions", &[], &[]),
        ("jobs", &[], &["all"]),
        ("cronjobs", &["cj"], &["all"]),
        ("leases", &[], &[]),
        ("endpointslices", &[], &[]),
        ("limitranges", &["limits"], &[]),
        ("podtemplates", &[], &[]),
        ("replicationcontrollers", &["rc"], &["all"]),
        ("resourcequotas", &["quota"], &[]),
        ("apiservices", &[], &["api-extensions"]),
        ("horizontalpodautoscalers", &["hpa"], &["all"]),
        ("certificatesigningrequests", &["csr"], &[]),
        ("ingressclasses", &[], &[]),
        ("ingresses", &["ing"], &[]),
        ("ipaddresses", &["ip"], &[]),
        ("networkpolicies", &["netpol"], &[]),
        ("servicecidrs", &[], &[]),
        ("poddisruptionbudgets", &["pdb"], &[]),
        ("clusterrolebindings", &[], &[]),
        ("clusterroles", &[], &[]),
        ("rolebindings", &[], &[]),
        ("roles", &[], &[]),
        ("storageclasses", &["sc"], &[]),
        ("csinodes", &[], &[]),
        (
            "customresourcedefinitions",
            &["crd", "crds"],
            &["api-extensions"],
        ),
        ("priorityclasses", &["pc"], &[]),
    ];
    // events.k8s.io serves the core events a second time, and
    // autoscaling/v1 the v2 autoscalers.
    assert_eq!(registry::all().len(), cases.len() + 2);
    for (plural, short, categories) in cases {
        let resource = registry::all()
            .iter()
            .find(|r| r.plural == plural)
            .unwrap_or_else(|| panic!("{plural} is registered"));
        assert_eq!(resource.short_names, short, "short names of {plural}");
        assert_eq!(resource.categories, categories, "categories of {plural}");
    }
    let all: Vec<&str> = registry::in_category("all").map(|r| r.plural).collect();
    assert_eq!(
        all,
        [
            "pods",
            "replicationcontrollers",
            "services",
            "daemonsets",
            "deployments",
            "replicasets",
            "statefulsets",
            "horizontalpodautoscalers",
            "cronjobs",
            "jobs"
        ]
    );
}

#[test]
fn looks_up_by_kind_and_by_resource() {
    let deployment = by_kind("apps", "v1", "Deployment").expect("Deployment is registered");
    assert_eq!(deployment.plural, "deployments");
    assert_eq!(deployment.list_kind, "DeploymentList");
    assert_eq!(deployment.api_version(), "apps/v1");
    assert_eq!(deployment.group_resource(), "deployments.apps");
    assert_eq!(deployment.definition, "io.k8s.api.apps.v1.Deployment");
    assert!(by_kind("apps", "v1beta1", "Deployment").is_none());
    assert!(
        by_kind("", "v1", "Binding").is_none(),
        "binding is only a subresource"
    );
    let pods = by_resource("", "pods").expect("pods are registered");
    assert_eq!((pods.kind, pods.api_version()), ("Pod", "v1".to_string()));
    assert!(by_resource("apps", "pods").is_none());
}

#[test]
fn scope_verbs_and_subresources_are_upstreams() {
    let pods = by_resource("", "pods").expect("pods");
    assert!(pods.namespaced);
    for name in ["status", "binding", "eviction", "log", "exec"] {
        assert!(pods.subresource(name).is_some(), "pods/{name}");
    }
    let eviction = pods.subresource("eviction").expect("pods/eviction");
    assert_eq!(
        (eviction.group, eviction.kind, eviction.verbs),
        ("policy", "Eviction", &["create"][..])
    );
    assert_eq!(pods.subresource("log").map(|s| s.verbs), Some(&["get"][..]));
    for plural in ["deployments", "replicasets", "statefulsets"] {
        let scale = by_resource("apps", plural).and_then(|r| r.subresource("scale"));
        assert_eq!(
            scale.map(|s| (s.group, s.kind)),
            Some(("autoscaling", "Scale")),
            "{plural}/scale"
        );
    }
    assert!(
        by_resource("apps", "daemonsets")
            .and_then(|r| r.subresource("scale"))
            .is_none()
    );
    let namespaces = by_resource("", "namespaces").expect("namespaces");
    assert!(!namespaces.namespaced);
    assert!(!namespaces.supports("deletecollection"));
    assert!(namespaces.subresource("finalize").is_some());
    assert!(
        by_resource("", "nodes").is_some_and(|r| !r.namespaced && r.supports("deletecollection"))
    );
    assert!(by_resource("", "persistentvolumes").is_some_and(|r| !r.namespaced));
    assert!(
        by_resource("", "secrets")
            .is_some_and(|r| r.supports("watch") && r.subresources.is_empty())
    );
}

#[test]
fn iterates_per_group_version() {
    assert_eq!(
        registry::group_versions(),
        [
            ("", "v1"),
            ("apiregistration.k8s.io", "v1"),
            ("apps", "v1"),
            ("events.k8s.io", "v1"),
            ("autoscaling", "v2"),
            ("autoscaling", "v1"),
            ("batch", "v1"),
            ("certificates.k8s.io", "v1"),
            ("networking.k8s.io", "v1"),
            ("policy", "v1"),
            ("rbac.authorization.k8s.io", "v1"),
            ("storage.k8s.io", "v1"),
            ("apiextensions.k8s.io", "v1"),
            ("scheduling.k8s.io", "v1"),
            ("coordination.k8s.io", "v1"),
            ("discovery.k8s.io", "v1"),
        ]
    );
    let batch: Vec<&str> = registry::resources_in("batch", "v1")
        .map(|r| r.kind)
        .collect();
    assert_eq!(batch, ["CronJob", "Job"]);
    assert_eq!(registry::resources_in("", "v1").count(), 15);
}

#[test]
fn places_objects_in_the_store() {
    let pods = by_resource("", "pods").expect("pods");
    let deployments = by_resource("apps", "deployments").expect("deployments");
    let nodes = by_resource("", "nodes").expect("nodes");
    let leases = by_resource("coordination.k8s.io", "leases").expect("leases");
    assert_eq!(
        storage_key(pods, "default", "web"),
        "/registry/core/pods/default/web"
    );
    assert_eq!(
        storage_key(deployments, "prod", "api"),
        "/registry/apps/deployments/prod/api"
    );
    assert_eq!(
        storage_key(nodes, "ignored", "n1"),
        "/registry/core/nodes/n1"
    );
    assert_eq!(
        storage_key(leases, "kube-system", "l"),
        "/registry/coordination.k8s.io/leases/kube-system/l"
    );
    assert_eq!(storage_prefix(pods, None), "/registry/core/pods/");
    assert_eq!(
        storage_prefix(pods, Some("default")),
        "/registry/core/pods/default/"
    );
    assert_eq!(
        storage_prefix(nodes, Some("default")),
        "/registry/core/nodes/"
    );
    assert!(
        storage_key(pods, "default", "web").starts_with(&storage_prefix(pods, Some("default")))
    );
}

#[test]
fn events_k8s_io_events_share_the_core_events_keys() {
    let core = by_resource("", "events").expect("core events");
    let events = by_resource("events.k8s.io", "events").expect("events.k8s.io events");
    assert_eq!(
        storage_key(events, "default", "e"),
        storage_key(core, "default", "e")
    );
    assert_eq!(storage_prefix(events, None), "/registry/core/events/");
    assert!(core.stored_as_served() && !events.stored_as_served());
    let stored = events.to_storage(serde_json::json!({"note": "hi", "deprecatedCount": 2}));
    assert_eq!(stored["message"], "hi");
    assert_eq!(events.from_storage(stored)["note"], "hi");
}
