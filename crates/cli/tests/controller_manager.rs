//! `keelson controller-manager` as processes of their own, through the
//! real kubectl: `keelson up --controllers=` serves the API with no
//! controllers in-process, two controller managers with short leader
//! election durations run against its admin kubeconfig, exactly one holds
//! the Lease and acts (new namespaces get their `default`
//! ServiceAccount), and when it is killed with SIGKILL the other takes
//! over within the lease duration and a few retry periods, and acts. As
//! the component's own identity, a leader stopped with SIGTERM releases
//! the Lease (the standby takes it at once) and one whose Lease another
//! holder took exits with "leaderelection lost".
//! Every process is killed when the test ends, also when it fails.

use std::path::Path;
use std::time::{Duration, Instant};

use keelson_harness::keelson::KeelsonProcess;
use keelson_harness::kubectl::Kubectl;

const LEASE: Duration = Duration::from_secs(2);
const RETRY: Duration = Duration::from_millis(200);

async fn controller_manager(kubeconfig: &Path) -> KeelsonProcess {
    let started = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "controller-manager")
        .writes_kubeconfig(false)
        .probes_plain_http(true)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args([
            "--leader-elect-lease-duration=2s",
            "--leader-elect-renew-deadline=1500ms",
            "--leader-elect-retry-period=200ms",
        ])
        .start()
        .await;
    started.unwrap_or_else(|err| panic!("keelson controller-manager did not start: {err}"))
}

/// The identity a controller manager told in its log.
fn identity(process: &KeelsonProcess) -> String {
    let log = process.log();
    let line = log.lines().find_map(|line| {
        let rest = line.strip_prefix("keelson controller-manager: ")?;
        let (identity, _) = rest.split_once(" is a candidate")?;
        Some(identity.to_string())
    });
    line.unwrap_or_else(|| panic!("no identity in the log:\n{log}"))
}

fn holder(kubectl: &Kubectl) -> String {
    let run = kubectl
        .run(&[
            "get",
            "lease",
            "-n",
            "kube-system",
            "kube-controller-manager",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ])
        .unwrap_or_else(|err| panic!("{err}"));
    match run.status.success() {
        true => run.stdout.trim().to_string(),
        false => String::new(),
    }
}

/// Waits (at most `within`) until the Lease names one of `candidates`.
fn until_held(kubectl: &Kubectl, candidates: &[String], within: Duration) -> String {
    let start = Instant::now();
    loop {
        let holder = holder(kubectl);
        if candidates.contains(&holder) {
            return holder;
        }
        assert!(
            start.elapsed() < within,
            "no leader within {within:?}: {holder:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Creates a namespace and waits (at most 15 s) for its `default`
/// ServiceAccount.
fn gets_its_service_account(kubectl: &Kubectl, namespace: &str) {
    let created = kubectl.run(&["create", "namespace", namespace]);
    let created = created.unwrap_or_else(|err| panic!("{err}"));
    assert!(created.status.success(), "{created}");
    let start = Instant::now();
    loop {
        let args = [
            "get",
            "serviceaccount",
            "default",
            "-n",
            namespace,
            "-o",
            "name",
        ];
        let run = kubectl.run(&args).unwrap_or_else(|err| panic!("{err}"));
        if run.status.success() && run.stdout.trim() == "serviceaccount/default" {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no default ServiceAccount in {namespace}\n{run}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits (at most 15 s) for the namespace's `kube-root-ca.crt`, which
/// publishes the CA of the controller manager's kubeconfig.
fn publishes_the_root_ca(kubectl: &Kubectl, namespace: &str) {
    let start = Instant::now();
    loop {
        let jsonpath = "jsonpath={.data.ca\\.crt}";
        let args = [
            "get",
            "configmap",
            "kube-root-ca.crt",
            "-n",
            namespace,
            "-o",
            jsonpath,
        ];
        let run = kubectl.run(&args[..]).unwrap_or_else(|err| panic!("{err}"));
        if run.status.success() && run.stdout.contains("BEGIN CERTIFICATE") {
            return;
        }
        let waited = start.elapsed() < Duration::from_secs(15);
        assert!(waited, "no kube-root-ca.crt in {namespace}\n{run}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_controller_manager_leads_and_a_standby_takes_over() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let up = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
        .data_dir(root.path().join("data"))
        .arg("--controllers=")
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
    let kubeconfig = up.kubeconfig();
    let kubectl = Kubectl::new(&kubeconfig, root.path()).unwrap_or_else(|err| panic!("{err}"));
    let mut managers = [
        controller_manager(&kubeconfig).await,
        controller_manager(&kubeconfig).await,
    ];
    for manager in &managers {
        let answer = keelson_harness::net::http_get(manager.address(), "/healthz").await;
        let answer = answer.expect("/healthz answers");
        assert_eq!(answer.status, 200);
        assert!(answer.body.ends_with("ok"), "{answer:?}");
    }
    let identities: Vec<String> = managers.iter().map(identity).collect();
    assert_ne!(identities[0], identities[1]);
    let leader = until_held(&kubectl, &identities, Duration::from_secs(10));
    let first = identities
        .iter()
        .position(|id| *id == leader)
        .expect("a candidate");
    gets_its_service_account(&kubectl, "first");
    publishes_the_root_ca(&kubectl, "first");
    // Only the leader's controllers started: the standby has no tokens.
    let standby = 1 - first;
    assert!(
        !managers[standby]
            .data_dir()
            .join("controller-tokens")
            .exists()
    );
    assert_eq!(
        holder(&kubectl),
        leader,
        "the leader changed while both ran"
    );

    managers[first].kill().expect("the leader is killed");
    let killed = Instant::now();
    let others = [identities[standby].clone()];
    until_held(
        &kubectl,
        &others,
        LEASE + RETRY * 3 + Duration::from_secs(3),
    );
    let took = killed.elapsed();
    assert!(
        took >= LEASE / 2,
        "took over after {took:?}, before the lease expired"
    );
    gets_its_service_account(&kubectl, "second");
    assert!(
        managers[standby].is_running(),
        "{}",
        managers[standby].log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_leader_releases_and_one_that_loses_the_lease_exits() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let up = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
        .data_dir(root.path().join("data"))
        .arg("--controllers=")
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
    let kubeconfig = up.kubeconfig();
    let kubectl = Kubectl::new(&kubeconfig, root.path()).unwrap_or_else(|err| panic!("{err}"));
    // This time as the component's own identity, with upstream's
    // bootstrap permissions on its Lease.
    let own = up.data_dir().join("controller-manager.kubeconfig");
    let mut managers = [
        controller_manager(&own).await,
        controller_manager(&own).await,
    ];
    let identities: Vec<String> = managers.iter().map(identity).collect();
    let leader = until_held(&kubectl, &identities, Duration::from_secs(10));
    let first = identities
        .iter()
        .position(|id| *id == leader)
        .expect("a candidate");
    let standby = 1 - first;
    // SIGTERM: the leader releases the Lease, the standby takes it at once.
    let status = managers[first].terminate().await.expect("the leader stops");
    assert!(status.success(), "{status}\n{}", managers[first].log());
    let stopped = Instant::now();
    let others = [identities[standby].clone()];
    until_held(&kubectl, &others, LEASE);
    let took = stopped.elapsed();
    assert!(took < LEASE / 2 + RETRY * 3, "took over after {took:?}");
    // Another holder written into the Lease: the leader stops and exits
    // non-zero, as upstream's does.
    let patch = r#"{"spec":{"holderIdentity":"thief"}}"#;
    let args = [
        "patch",
        "lease",
        "-n",
        "kube-system",
        "kube-controller-manager",
        "--type=merge",
        "-p",
        patch,
    ];
    let stolen = kubectl.run(&args[..]);
    let stolen = stolen.unwrap_or_else(|err| panic!("{err}"));
    assert!(stolen.status.success(), "{stolen}");
    let start = Instant::now();
    while managers[standby].is_running() {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "the leader still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = managers[standby].log();
    assert!(log.contains("leaderelection lost"), "{log}");
    assert_eq!(holder(&kubectl), "thief");
}
