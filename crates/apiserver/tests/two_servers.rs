//! Two API servers on one etcd hand out cluster IPs and node ports from
//! the same pools: Services created on both at once never share one.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::future::join_all;
use k8s_openapi::api::core::v1::Service;
use keelson_harness::etcd::EtcdProcess;
use kube::Client;
use kube::api::{Api, PostParams};
use serde_json::json;

/// An API server of its own on a new client of the etcd at `url`.
async fn server_on(url: &str) -> Client {
    let store = keelson_store::open(url).await.expect("the store");
    keelson_apiserver::bootstrap(Arc::clone(&store))
        .await
        .expect("bootstrapped");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback has free ports");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(keelson_apiserver::serve(
        listener,
        store,
        std::future::pending(),
    ));
    let uri = format!("http://{address}").parse().expect("a URI");
    Client::try_from(kube::Config::new(uri)).expect("a client")
}

#[tokio::test]
async fn servers_on_one_etcd_never_share_addresses() {
    let etcd = EtcdProcess::start()
        .await
        .unwrap_or_else(|err| panic!("cannot start etcd: {err}"));
    let clients = [server_on(&etcd.url()).await, server_on(&etcd.url()).await];
    let creates = (0..24).map(|i| {
        let api: Api<Service> = Api::namespaced(clients[i % 2].clone(), "default");
        async move {
            let service: Service = serde_json::from_value(json!({
                "metadata": {"name": format!("s{i}")},
                "spec": {"type": "NodePort", "ports": [{"port": 80}]},
            }))
            .expect("a Service");
            let created = api
                .create(&PostParams::default(), &service)
                .await
                .unwrap_or_else(|err| panic!("s{i}: {err}"));
            let spec = created.spec.expect("a spec");
            let port = spec.ports.expect("ports")[0]
                .node_port
                .expect("a node port");
            (spec.cluster_ip.expect("a cluster IP"), port)
        }
    });
    let got = join_all(creates).await;
    let ips: BTreeSet<_> = got.iter().map(|(ip, _)| ip.clone()).collect();
    let ports: BTreeSet<_> = got.iter().map(|(_, port)| *port).collect();
    assert_eq!((ips.len(), ports.len()), (24, 24), "{got:?}");
}
