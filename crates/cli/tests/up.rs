//! `keelson up` as a process: SIGTERM stops it at once even with a watch
//! open, and what was written is there after a restart on the same data dir.

mod support;

use std::thread;
use std::time::Duration;

use support::{Server, spawn_kubectl};

#[test]
fn sigterm_stops_the_server_and_data_survives_a_restart() {
    let mut server = Server::start();
    server.ok("create configmap kept --from-literal=a=b");
    // A watch holds its connection open for minutes unless the server ends it.
    let mut watch = spawn_kubectl(server.command("get configmaps -w"));
    thread::sleep(Duration::from_millis(500));

    let status = server.terminate();
    assert!(status.success(), "keelson up exited with {status}");
    assert!(server.log().contains("keelson stopped"), "{}", server.log());
    let _ = watch.kill();
    let _ = watch.wait();

    server.restart();
    server.prints("get configmap kept -o jsonpath={.data.a}", "b");
}

#[test]
fn the_data_dir_and_kubeconfig_are_for_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start();
    let kubeconfig = server.kubeconfig();
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&kubeconfig), 0o600);
    let data_dir = kubeconfig
        .parent()
        .expect("the kubeconfig is in the data dir");
    assert_eq!(mode(data_dir), 0o700);
}
