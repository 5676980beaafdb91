//! `keelson up` as a process: SIGTERM stops it at once even with a watch
//! open, what was written is there after a restart on the same data dir,
//! and it raises its soft open-files limit to the hard limit.

mod support;

use std::thread;
use std::time::Duration;

use keelson_harness::keelson::KeelsonProcess;
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

#[test]
fn keelson_up_raises_its_open_files_limit_to_the_hard_limit() {
    let root = tempfile::tempdir().expect("a temporary directory can be created");
    // Started with a soft limit as low as a login shell's: sh lowers it,
    // then becomes keelson (same pid). sh reads the script, so it is never
    // executed while being written.
    let script = root.path().join("low-limit.sh");
    let keelson = env!("CARGO_BIN_EXE_keelson");
    let text = format!("ulimit -Sn 256 2>/dev/null\nexec '{keelson}' up \"$@\"\n");
    std::fs::write(&script, text).expect("the temp dir is writable");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can be built");
    let started = runtime.block_on(
        KeelsonProcess::builder("/bin/sh", script.as_os_str().to_string_lossy())
            .data_dir(root.path().join("data"))
            .log_file(root.path().join("keelson.log"))
            .pid_file(root.path().join("keelson.pid"))
            .start(),
    );
    // Killed when dropped, also when an assertion below fails.
    let process = started.unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
    let pid = process.pid().expect("keelson up runs");
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap_or_else(|err| panic!("cannot read the limits of {pid}: {err}"));
    let open_files: Vec<&str> = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap_or_else(|| panic!("no open-files limit in:\n{limits}"))
        .split_whitespace()
        .collect();
    let (soft, hard) = (open_files[3], open_files[4]);
    assert_eq!(soft, hard, "{limits}");
    assert_ne!(soft, "256", "{limits}");
}
