//! The official Python client (v37, typed models) creates every workload
//! kind against `keelson up` and reads each back: its models refuse objects
//! that miss a field upstream always writes, so this catches zero values
//! keelson leaves out. It speaks TLS, verifying the server with the
//! kubeconfig's CA.
//!
//! The client is a required tool here (`pip install kubernetes==37.0.2`,
//! which `.ci/run` does): when it is missing the test fails, it never
//! skips.

mod support;

use std::process::Command;

use support::Server;

#[test]
fn python_client_reads_every_workload_kind_back() {
    let server = Server::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/workloads.py");
    let kubeconfig = server.kubeconfig();
    let output = Command::new("python3")
        .arg(script)
        .arg(&kubeconfig)
        .output()
        .expect("python3 runs (Debian: apt-get install python3)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'kubernetes'"),
        "the Python client is missing: pip install kubernetes==37.0.2\n{stderr}"
    );
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("verified"), "{stdout}");
    for kind in [
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "Pod",
        "Service",
    ] {
        assert!(
            stdout.contains(&format!("read back {kind}")),
            "{kind}:\n{stdout}"
        );
    }
}
