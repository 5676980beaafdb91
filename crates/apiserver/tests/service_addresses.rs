//! Services get cluster IPs and node ports as upstream allocates them:
//! IPAddress objects and a node port bitmap in the store, requested or
//! free, refused when taken, freed on delete, never shared between
//! concurrent creates.

mod support;

use futures::future::join_all;
use keelson_apiserver::{Config, Ranges};
use serde_json::{Value, json};
use support::{Backend, Server, failure};

on_every_backend!(
    local_load_balancers_get_a_health_check_port,
    cluster_ips_are_ip_address_objects,
    requested_addresses_and_ports,
    concurrent_creates_never_share,
    deletes_and_type_changes_free_addresses
);

const SERVICES: &str = "/api/v1/namespaces/default/services";

fn service(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    if spec.get("ports").is_none() {
        spec["ports"] = json!([{"port": 80}]);
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
}

async fn create(server: &Server, name: &str, spec: Value) -> support::Answer {
    server.json("POST", SERVICES, &service(name, spec)).await
}

fn in_default_range(ip: &str) -> bool {
    let ip: std::net::Ipv4Addr = ip.parse().expect("an IPv4 address");
    let net: ipnet::Ipv4Net = "10.96.0.0/12".parse().expect("a CIDR");
    net.contains(&ip) && ip != net.network() && ip != net.broadcast()
}

async fn local_load_balancers_get_a_health_check_port(server: Server) {
    let spec = json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local"});
    let created = create(&server, "lb", spec).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let spec = &created.body["spec"];
    let health = spec["healthCheckNodePort"]
        .as_u64()
        .expect("a health check port");
    let node = spec["ports"][0]["nodePort"].as_u64().expect("a node port");
    assert!(
        (30000..=32767).contains(&health) && health != node,
        "{spec}"
    );
    let taken = create(
        &server,
        "lb2",
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": health}),
    )
    .await;
    let body = failure(&taken, 422);
    assert_eq!(
        body["message"],
        format!(
            "Service \"lb2\" is invalid: spec.healthCheckNodePort: Invalid value: {health}: provided port is already allocated"
        )
    );
    // Deleting frees it.
    let deleted = server
        .json("DELETE", &format!("{SERVICES}/lb"), &Value::Null)
        .await;
    assert_eq!(deleted.code, 200, "{}", deleted.body);
    let again = create(
        &server,
        "lb3",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": health}]}),
    )
    .await;
    assert_eq!(again.code, 201, "{}", again.body);
}

async fn cluster_ips_are_ip_address_objects(server: Server) {
    let created = create(&server, "web", json!({})).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let spec = &created.body["spec"];
    let ip = spec["clusterIP"].as_str().expect("a cluster IP");
    assert!(in_default_range(ip), "{ip}");
    assert_eq!(spec["clusterIPs"], json!([ip]));
    assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
    let address = server
        .get(&format!("/apis/networking.k8s.io/v1/ipaddresses/{ip}"))
        .await;
    assert_eq!(address.code, 200, "{}", address.body);
    assert_eq!(
        address.body["spec"]["parentRef"],
        json!({"group": "", "resource": "services", "namespace": "default", "name": "web"})
    );
    let headless = create(&server, "headless", json!({"clusterIP": "None"})).await;
    assert_eq!(headless.code, 201, "{}", headless.body);
    assert_eq!(headless.body["spec"]["clusterIPs"], json!(["None"]));
    let external = create(
        &server,
        "external",
        json!({"type": "ExternalName", "externalName": "example.com", "ports": []}),
    )
    .await;
    assert_eq!(external.code, 201, "{}", external.body);
    assert!(
        external.body["spec"].get("clusterIP").is_none(),
        "{}",
        external.body
    );
    // The kubernetes Service holds the first address.
    let kubernetes = server.get(&format!("{SERVICES}/kubernetes")).await;
    assert_eq!(kubernetes.code, 200, "{}", kubernetes.body);
    assert_eq!(kubernetes.body["spec"]["clusterIP"], "10.96.0.1");
    let endpoints = server
        .get("/api/v1/namespaces/default/endpoints/kubernetes")
        .await;
    assert_eq!(
        endpoints.body["subsets"][0]["ports"][0]["port"],
        server.address.port(),
        "{}",
        endpoints.body
    );
    let slice = server
        .get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes")
        .await;
    assert_eq!(
        slice.body["endpoints"][0]["addresses"][0],
        server.address.ip().to_string()
    );
}

async fn requested_addresses_and_ports(server: Server) {
    let first = create(&server, "a", json!({"clusterIP": "10.96.0.50"})).await;
    assert_eq!(
        first.body["spec"]["clusterIP"], "10.96.0.50",
        "{}",
        first.body
    );
    let taken = create(&server, "b", json!({"clusterIP": "10.96.0.50"})).await;
    let body = failure(&taken, 422);
    assert_eq!(
        body["message"],
        "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.50\"}: failed to allocate IP 10.96.0.50: provided IP is already allocated"
    );
    let outside = create(&server, "c", json!({"clusterIP": "10.0.0.1"})).await;
    let body = failure(&outside, 422);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12")),
        "{body}"
    );

    let node_port = create(&server, "np", json!({"type": "NodePort"})).await;
    assert_eq!(node_port.code, 201, "{}", node_port.body);
    let port = node_port.body["spec"]["ports"][0]["nodePort"]
        .as_u64()
        .expect("a node port");
    assert!((30000..=32767).contains(&port), "{port}");
    let same = create(
        &server,
        "np2",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": port}]}),
    )
    .await;
    let body = failure(&same, 422);
    assert_eq!(
        body["message"],
        format!(
            "Service \"np2\" is invalid: spec.ports[0].nodePort: Invalid value: {port}: provided port is already allocated"
        )
    );
    let low = create(
        &server,
        "np3",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}),
    )
    .await;
    let body = failure(&low, 422);
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains(
            "provided port is not in the valid range. The range of valid ports is 30000-32767"
        )),
        "{body}"
    );
    // A refused create takes nothing: the requested IP of a refused
    // Service stays free.
    let refused = create(
        &server,
        "np4",
        json!({"type": "NodePort", "clusterIP": "10.96.0.60", "ports": [{"port": 80, "nodePort": 80}]}),
    )
    .await;
    failure(&refused, 422);
    let free = create(&server, "d", json!({"clusterIP": "10.96.0.60"})).await;
    assert_eq!(free.code, 201, "{}", free.body);
}

async fn concurrent_creates_never_share(server: Server) {
    let creates = (0..24).map(|i| {
        let server = &server;
        async move {
            let answer = create(server, &format!("s{i}"), json!({"type": "NodePort"})).await;
            assert_eq!(answer.code, 201, "{}", answer.body);
            let spec = &answer.body["spec"];
            let ip = spec["clusterIP"].as_str().expect("an IP").to_string();
            (ip, spec["ports"][0]["nodePort"].as_u64().expect("a port"))
        }
    });
    let got = join_all(creates).await;
    let ips: std::collections::BTreeSet<_> = got.iter().map(|(ip, _)| ip.clone()).collect();
    let ports: std::collections::BTreeSet<_> = got.iter().map(|(_, port)| *port).collect();
    assert_eq!((ips.len(), ports.len()), (24, 24), "{got:?}");
}

async fn deletes_and_type_changes_free_addresses(server: Server) {
    let created = create(
        &server,
        "e",
        json!({"type": "NodePort", "clusterIP": "10.96.0.70", "ports": [{"port": 80, "nodePort": 30070}]}),
    )
    .await;
    assert_eq!(created.code, 201, "{}", created.body);
    // A replace without the allocated values keeps them.
    let mut replaced = service("e", json!({"type": "NodePort"}));
    replaced["metadata"]["labels"] = json!({"x": "y"});
    let updated = server
        .json("PUT", &format!("{SERVICES}/e"), &replaced)
        .await;
    assert_eq!(updated.code, 200, "{}", updated.body);
    assert_eq!(updated.body["spec"]["clusterIP"], "10.96.0.70");
    assert_eq!(updated.body["spec"]["ports"][0]["nodePort"], 30070);
    // Becoming a ClusterIP Service frees the node port.
    let mut cluster_ip = updated.body.clone();
    cluster_ip["spec"]["type"] = json!("ClusterIP");
    cluster_ip["spec"]["ports"][0]
        .as_object_mut()
        .expect("a port")
        .remove("nodePort");
    cluster_ip["spec"]
        .as_object_mut()
        .expect("a spec")
        .remove("externalTrafficPolicy");
    let changed = server
        .json("PUT", &format!("{SERVICES}/e"), &cluster_ip)
        .await;
    assert_eq!(changed.code, 200, "{}", changed.body);
    let reuse = create(
        &server,
        "f",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30070}]}),
    )
    .await;
    assert_eq!(reuse.code, 201, "{}", reuse.body);
    // Deleting frees the cluster IP.
    let deleted = server
        .json("DELETE", &format!("{SERVICES}/e"), &Value::Null)
        .await;
    assert_eq!(deleted.code, 200, "{}", deleted.body);
    let gone = server
        .get("/apis/networking.k8s.io/v1/ipaddresses/10.96.0.70")
        .await;
    failure(&gone, 404);
    let again = create(&server, "g", json!({"clusterIP": "10.96.0.70"})).await;
    assert_eq!(again.code, 201, "{}", again.body);
}

#[tokio::test]
async fn a_full_range_is_upstreams_500() {
    let config = Config {
        ranges: Ranges {
            cluster_ips: "10.0.0.0/28".parse().expect("a CIDR"),
            node_ports: 30000..=30002,
        },
        ..Config::default()
    };
    let server = support::server_with(Backend::Embedded, config).await;
    for i in 0..3 {
        let answer = create(&server, &format!("p{i}"), json!({"type": "NodePort"})).await;
        assert_eq!(answer.code, 201, "{}", answer.body);
    }
    let full = create(&server, "pfull", json!({"type": "NodePort"})).await;
    let body = failure(&full, 500);
    assert_eq!(
        body["message"],
        "Internal error occurred: failed to allocate a nodePort: range is full"
    );
    // 14 addresses: the kubernetes Service holds one, the NodePort
    // Services three, and the refused one gave its address back.
    let mut created = 0;
    let body = loop {
        let answer = create(&server, &format!("s{created}"), json!({})).await;
        if answer.code != 201 {
            break failure(&answer, 500).clone();
        }
        created += 1;
        assert!(created <= 14, "more Services than addresses");
    };
    assert_eq!(created, 10);
    assert_eq!(
        body["message"],
        "Internal error occurred: failed to allocate a serviceIP: range is full"
    );
}
