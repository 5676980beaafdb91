//! The discovery documents kubectl reads.

use keelson_apiserver::discovery::{
    self, Aggregated, CONTENT_TYPE_V2, CONTENT_TYPE_V2BETA1, DiscoveryVersion, negotiate,
};
use serde_json::{Value, json};

const KUBECTL_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

fn find<'a>(items: &'a Value, key: &str, name: &str) -> &'a Value {
    items
        .as_array()
        .expect("an array")
        .iter()
        .find(|item| item[key] == name)
        .unwrap_or_else(|| panic!("no {key}={name}"))
}

#[test]
fn negotiation_takes_the_first_understood_choice() {
    assert_eq!(negotiate(KUBECTL_ACCEPT), Some(DiscoveryVersion::V2));
    let old = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    assert_eq!(negotiate(old), Some(DiscoveryVersion::V2Beta1));
    assert_eq!(negotiate("application/json"), None);
    assert_eq!(negotiate(""), None);
    assert_eq!(
        negotiate(
            "application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        ),
        None
    );
    assert_eq!(DiscoveryVersion::V2.content_type(), CONTENT_TYPE_V2);
    assert_eq!(
        DiscoveryVersion::V2Beta1.content_type(),
        CONTENT_TYPE_V2BETA1
    );
}

#[test]
fn aggregated_core_lists_pods_with_everything_kubectl_uses() {
    let doc = discovery::aggregated(Aggregated::Core, DiscoveryVersion::V2);
    assert_eq!(doc["kind"], "APIGroupDiscoveryList");
    assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
    let items = doc["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    let v1 = &items[0]["versions"][0];
    assert_eq!(v1["version"], "v1");
    assert_eq!(v1["freshness"], "Current");
    let pods = find(&v1["resources"], "resource", "pods");
    assert_eq!(
        pods["responseKind"],
        json!({ "group": "", "version": "v1", "kind": "Pod" })
    );
    assert_eq!(pods["scope"], "Namespaced");
    assert_eq!(pods["singularResource"], "pod");
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["categories"], json!(["all"]));
    let subresources: Vec<&str> = pods["subresources"]
        .as_array()
        .expect("subresources")
        .iter()
        .map(|s| s["subresource"].as_str().expect("name"))
        .collect();
    for expected in ["status", "binding", "eviction"] {
        assert!(
            subresources.contains(&expected),
            "pods/{expected} missing: {subresources:?}"
        );
    }
    // Served with the node agent's streaming; until then a 404.
    for unserved in [
        "log",
        "exec",
        "attach",
        "portforward",
        "proxy",
        "ephemeralcontainers",
        "resize",
    ] {
        assert!(
            !subresources.contains(&unserved),
            "pods/{unserved} advertised"
        );
    }
    let eviction = find(&pods["subresources"], "subresource", "eviction");
    assert_eq!(
        eviction["responseKind"],
        json!({ "group": "policy", "version": "v1", "kind": "Eviction" })
    );
    let nodes = find(&v1["resources"], "resource", "nodes");
    assert_eq!(nodes["scope"], "Cluster");
}

#[test]
fn aggregated_groups_have_deployments_with_scale() {
    for version in [DiscoveryVersion::V2, DiscoveryVersion::V2Beta1] {
        let doc = discovery::aggregated(Aggregated::Groups, version);
        assert_eq!(doc["apiVersion"], version.api_version());
        let apps = doc["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|g| g["metadata"]["name"] == "apps")
            .expect("apps group");
        let deployments = find(&apps["versions"][0]["resources"], "resource", "deployments");
        assert_eq!(deployments["shortNames"], json!(["deploy"]));
        let scale = find(&deployments["subresources"], "subresource", "scale");
        assert_eq!(
            scale["responseKind"],
            json!({ "group": "autoscaling", "version": "v1", "kind": "Scale" })
        );
        assert_eq!(scale["verbs"], json!(["get", "patch", "update"]));
        let status = find(&deployments["subresources"], "subresource", "status");
        assert_eq!(status["responseKind"]["kind"], "Deployment");
    }
}

#[test]
fn legacy_documents() {
    let versions = discovery::api_versions("10.0.0.1:6443");
    assert_eq!(versions["kind"], "APIVersions");
    assert_eq!(versions["versions"], json!(["v1"]));
    assert_eq!(
        versions["serverAddressByClientCIDRs"],
        json!([{ "clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443" }])
    );

    let groups = discovery::api_group_list();
    assert_eq!(groups["kind"], "APIGroupList");
    let apps = find(&groups["groups"], "name", "apps");
    assert_eq!(
        apps["preferredVersion"],
        json!({ "groupVersion": "apps/v1", "version": "v1" })
    );
    assert!(
        groups["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .all(|g| g["name"] != "")
    );

    let group = discovery::api_group("batch").expect("batch is served");
    assert_eq!(group["kind"], "APIGroup");
    assert_eq!(
        group["versions"],
        json!([{ "groupVersion": "batch/v1", "version": "v1" }])
    );
    assert!(discovery::api_group("nope.example.com").is_none());

    let core = discovery::api_resource_list("", "v1").expect("core v1");
    assert_eq!(core["groupVersion"], "v1");
    let pods = find(&core["resources"], "name", "pods");
    assert_eq!(pods["kind"], "Pod");
    assert_eq!(pods["namespaced"], true);
    let eviction = find(&core["resources"], "name", "pods/eviction");
    assert_eq!(
        (&eviction["group"], &eviction["version"], &eviction["kind"]),
        (&json!("policy"), &json!("v1"), &json!("Eviction"))
    );
    let binding = find(&core["resources"], "name", "pods/binding");
    assert!(binding.get("group").is_none());

    let apps = discovery::api_resource_list("apps", "v1").expect("apps v1");
    let scale = find(&apps["resources"], "name", "deployments/scale");
    assert_eq!(scale["group"], "autoscaling");
    assert_eq!(scale["kind"], "Scale");
    assert!(discovery::api_resource_list("apps", "v1beta1").is_none());
}
