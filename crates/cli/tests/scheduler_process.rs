//! `keelson scheduler` as a process of its own, through the real kubectl:
//! `keelson up --scheduler=false` binds nothing; a scheduler with its own
//! identity (`DATA_DIR/scheduler.kubeconfig`) and a configuration file
//! takes the Lease `kube-system/kube-scheduler`, answers `/healthz` and
//! binds pods of its profile; a configuration naming an unknown plugin or
//! a bad weight stops it at start, naming the fault. Every process is
//! killed when the test ends, also when it fails.

use std::time::{Duration, Instant};

use keelson_harness::keelson::KeelsonProcess;
use keelson_harness::kubectl::Kubectl;

const NODE: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {kubernetes.io/hostname: n1}
"#;

const CONFIG: &str = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: packer
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
"#;

fn kubectl_ok(kubectl: &Kubectl, args: &[&str]) -> String {
    let run = kubectl.run(args).unwrap_or_else(|err| panic!("{err}"));
    assert!(run.status.success(), "{run}");
    run.stdout
}

/// Waits (at most 20 s) until kubectl prints something for `args`.
fn until_printed(kubectl: &Kubectl, args: &[&str]) -> String {
    let start = Instant::now();
    loop {
        let run = kubectl.run(args).unwrap_or_else(|err| panic!("{err}"));
        if run.status.success() && !run.stdout.trim().is_empty() {
            return run.stdout;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing within 20 s:\n{run}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_of_its_own_leads_and_binds_its_profiles_pods() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let up = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
        .data_dir(root.path().join("data"))
        .arg("--scheduler=false")
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
    let kubectl = Kubectl::new(up.kubeconfig(), root.path()).unwrap_or_else(|err| panic!("{err}"));
    let node = root.path().join("node.yaml");
    std::fs::write(&node, NODE).expect("written");
    kubectl_ok(&kubectl, &["apply", "-f", &node.display().to_string()]);
    let status = r#"{"status":{"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"}}}"#;
    kubectl_ok(
        &kubectl,
        &[
            "patch",
            "node",
            "n1",
            "--subresource=status",
            "--type=merge",
            "-p",
            status,
        ],
    );
    until_printed(&kubectl, &["get", "sa", "default", "-o", "name"]);
    kubectl_ok(
        &kubectl,
        &[
            "run",
            "early",
            "--image=nginx:1.27",
            "--restart=Never",
            "--overrides",
            r#"{"spec":{"schedulerName":"packer"}}"#,
        ],
    );
    std::thread::sleep(Duration::from_millis(500));
    let unbound = kubectl_ok(
        &kubectl,
        &["get", "pod", "early", "-o", "jsonpath={.spec.nodeName}"],
    );
    assert_eq!(
        unbound.trim(),
        "",
        "keelson up --scheduler=false bound a pod"
    );

    let config = root.path().join("scheduler.yaml");
    std::fs::write(&config, CONFIG).expect("written");
    let scheduler = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "scheduler")
        .writes_kubeconfig(false)
        .probes_plain_http(true)
        .arg("--kubeconfig")
        .arg(up.data_dir().join("scheduler.kubeconfig"))
        .arg("--config")
        .arg(&config)
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson scheduler did not start: {err}"));
    let answer = keelson_harness::net::http_get(scheduler.address(), "/healthz").await;
    assert_eq!(answer.expect("/healthz answers").status, 200);
    let node = until_printed(
        &kubectl,
        &["get", "pod", "early", "-o", "jsonpath={.spec.nodeName}"],
    );
    assert_eq!(node.trim(), "n1", "{}", scheduler.log());
    let holder = until_printed(
        &kubectl,
        &[
            "get",
            "lease",
            "-n",
            "kube-system",
            "kube-scheduler",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
    );
    assert!(
        scheduler.log().contains(holder.trim()),
        "{holder}\n{}",
        scheduler.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_configuration_stops_the_scheduler_naming_the_fault() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = root.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {}}]\n").expect("written");
    let cases = [
        (
            "profiles: [{plugins: {filter: {enabled: [{name: NodeFits}]}}}]",
            "plugin \"NodeFits\" does not exist",
        ),
        (
            "profiles: [{plugins: {score: {enabled: [{name: NodeAffinity, weight: 1000}]}}}]",
            "weight: Invalid value: 1000",
        ),
        (
            "profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: Fewest}}}]}]",
            "Unsupported value: \"Fewest\"",
        ),
    ];
    for (yaml, expected) in cases {
        let config = root.path().join("bad.yaml");
        std::fs::write(&config, yaml).expect("written");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_keelson"))
            .args(["scheduler", "--kubeconfig"])
            .arg(&kubeconfig)
            .arg("--config")
            .arg(&config)
            .args(["--healthz-bind-address", "127.0.0.1:0"])
            .output()
            .expect("keelson runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{yaml}: {stderr}");
        assert!(stderr.contains(expected), "{yaml}: {stderr}");
    }
}
