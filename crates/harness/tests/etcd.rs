//! A real etcd started by the harness: healthy on its client port, with its
//! pid in the pid file, gone after a stop, back on the same port after a
//! restart, and killed with its temporary data removed on drop.

use std::net::SocketAddr;

use keelson_harness::etcd::EtcdProcess;
use keelson_harness::net::http_get;

async fn healthy(address: SocketAddr) -> bool {
    http_get(address, "/health")
        .await
        .is_some_and(|answer| answer.status == 200 && answer.body.contains(r#""health":"true""#))
}

#[tokio::test]
async fn etcd_starts_healthy_stops_and_comes_back_on_the_same_port() {
    let mut etcd = EtcdProcess::start().await.expect("etcd starts");
    let address: SocketAddr = etcd.endpoint().parse().expect("an address");
    assert!(
        healthy(address).await,
        "log:\n{}",
        etcd.log_file().display()
    );
    let pid = etcd.pid().expect("running");
    let written = std::fs::read_to_string(etcd.pid_file()).expect("a pid file");
    assert_eq!(written.trim(), pid.to_string());
    assert_eq!(
        etcd.url(),
        format!("etcd://127.0.0.1:{}", etcd.client_port())
    );

    etcd.stop().await.expect("etcd stops");
    assert!(!etcd.is_running() && etcd.pid().is_none());
    assert!(!etcd.pid_file().exists(), "the pid file goes with etcd");
    assert!(!healthy(address).await, "nothing answers after the stop");

    etcd.restart().await.expect("etcd restarts");
    assert!(healthy(address).await, "back on {address}");

    let data_dir = etcd.data_dir().to_path_buf();
    drop(etcd);
    assert!(!data_dir.exists(), "the temporary data dir is removed");
    assert!(!healthy(address).await, "etcd is killed on drop");
}
