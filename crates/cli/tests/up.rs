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
