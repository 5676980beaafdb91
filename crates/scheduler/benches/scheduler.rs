//! The scheduler's benchmark, measured as upstream's scheduler_perf
//! measures: `keelson up` (embedded store, no controllers, no scheduler)
//! as a process, 5,000 Node objects (no node agent) and the pending pods
//! created first, then `keelson scheduler` started as a process; pods/s
//! from its start to the last binding seen through a watch, and the
//! scheduler's RSS and CPU time beside the API server's, which tell what
//! bounds the rate. Three workloads, each with a fresh scheduler:
//! - 10,000 pods with small requests;
//! - 2,000 pods with required anti-affinity on the hostname;
//! - 2,000 pods spread over three zones (maxSkew 1, DoNotSchedule).
//!
//! ```sh
//! cargo build --release -p keelson
//! cargo bench -p keelson-scheduler --bench scheduler
//! ```
//! `KEELSON_BIN` names another keelson binary than `target/release/keelson`;
//! `KEELSON_BENCH_NODES` and `KEELSON_BENCH_PODS` change the sizes.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use keelson_api::k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use keelson_harness::keelson::KeelsonProcess;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

fn keelson_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("KEELSON_BIN") {
        return path.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("release/keelson")
}

fn size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];

async fn make_nodes(client: &Client, count: usize) -> anyhow::Result<()> {
    let api: Api<Node> = Api::all(client.clone());
    futures::stream::iter(0..count)
        .map(|i| {
            let api = api.clone();
            async move {
                let name = format!("node-{i}");
                let node: Node = serde_json::from_value(json!({
                    "metadata": {"name": name, "labels": {
                        "kubernetes.io/hostname": name,
                        "topology.kubernetes.io/zone": ZONES[i % ZONES.len()],
                    }},
                }))?;
                api.create(&PostParams::default(), &node).await?;
                let status = json!({"status": {
                    "capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                    "allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                }});
                api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                    .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

async fn make_pods(
    client: &Client,
    namespace: &str,
    count: usize,
    extra: &Value,
) -> anyhow::Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let made: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace}}))?;
    namespaces.create(&PostParams::default(), &made).await?;
    // No controllers run: the namespace's `default` ServiceAccount is
    // made here, as the ServiceAccount admission needs it.
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let account: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": "default"}}))?;
    accounts.create(&PostParams::default(), &account).await?;
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    futures::stream::iter(0..count)
        .map(|i| {
            let api = api.clone();
            let mut spec = json!({"containers": [{"name": "c", "image": "pause",
                "resources": {"requests": {"cpu": "10m", "memory": "10Mi"}}}]});
            if let (Value::Object(spec), Value::Object(extra)) = (&mut spec, extra) {
                spec.extend(extra.clone());
            }
            async move {
                let pod: Pod = serde_json::from_value(json!({
                    "metadata": {"name": format!("pod-{i}"), "labels": {"color": "green"}},
                    "spec": spec,
                }))?;
                api.create(&PostParams::default(), &pod).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Waits until `want` pods of `namespace` are bound; returns when.
async fn until_bound(client: Client, namespace: String, want: usize) -> anyhow::Result<Instant> {
    let api: Api<Pod> = Api::namespaced(client, &namespace);
    let mut bound = HashSet::new();
    let mut events = watcher(api, watcher::Config::default()).boxed();
    while let Some(event) = events.try_next().await? {
        if let watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) = event
            && pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_ref())
                .is_some()
        {
            bound.insert(pod.name_any());
            if bound.len() >= want {
                return Ok(Instant::now());
            }
        }
    }
    anyhow::bail!("the pod watch ended")
}

struct Row {
    workload: String,
    pods: usize,
    seconds: f64,
    scheduler_cpu: f64,
    server_cpu: f64,
    rss_mib: f64,
}

async fn measure(
    binary: &PathBuf,
    root: &std::path::Path,
    up: &KeelsonProcess,
    client: &Client,
    (workload, namespace, pods, extra): (&str, &str, usize, Value),
) -> anyhow::Result<Row> {
    make_pods(client, namespace, pods, &extra).await?;
    let server_pid = up.pid().ok_or_else(|| anyhow::anyhow!("no server pid"))?;
    let server_before = keelson_harness::usage::of(server_pid)?.cpu_seconds;
    let waiting = tokio::spawn(until_bound(client.clone(), namespace.to_string(), pods));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = Instant::now();
    let scheduler = KeelsonProcess::builder(binary, "scheduler")
        .data_dir(root.join(namespace))
        .writes_kubeconfig(false)
        .probes_plain_http(true)
        .arg("--kubeconfig")
        .arg(up.kubeconfig())
        .arg("--leader-elect=false")
        .start()
        .await?;
    let done = tokio::time::timeout(Duration::from_secs(600), waiting).await???;
    let seconds = done.saturating_duration_since(start).as_secs_f64();
    let pid = scheduler
        .pid()
        .ok_or_else(|| anyhow::anyhow!("no scheduler pid"))?;
    let usage = keelson_harness::usage::of(pid)?;
    let server_cpu = keelson_harness::usage::of(server_pid)?.cpu_seconds - server_before;
    drop(scheduler);
    Ok(Row {
        workload: workload.to_string(),
        pods,
        seconds,
        scheduler_cpu: usage.cpu_seconds,
        server_cpu,
        rss_mib: usage.rss_bytes as f64 / (1024.0 * 1024.0),
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let binary = keelson_binary();
    anyhow::ensure!(
        binary.exists(),
        "no keelson binary at {}: build it with `cargo build --release -p keelson` or set KEELSON_BIN",
        binary.display()
    );
    let nodes = size("KEELSON_BENCH_NODES", 5000);
    let pods = size("KEELSON_BENCH_PODS", 10_000);
    let root = tempfile::tempdir()?;
    let up = KeelsonProcess::builder(&binary, "up")
        .data_dir(root.path().join("up"))
        .arg("--controllers=")
        .arg("--scheduler=false")
        .start()
        .await?;
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(up.kubeconfig())?,
        &kube::config::KubeConfigOptions::default(),
    )
    .await?;
    let client = Client::try_from(config)?;
    let started = Instant::now();
    make_nodes(&client, nodes).await?;
    eprintln!(
        "{nodes} nodes made in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let anti_affinity = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": "kubernetes.io/hostname"}]}}});
    let spread = json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"color": "green"}}}]});
    let workloads = [
        ("small requests", "plain", pods, json!({})),
        (
            "required anti-affinity (hostname)",
            "anti-affinity",
            pods / 5,
            anti_affinity,
        ),
        (
            "topology spread (3 zones, maxSkew 1)",
            "spread",
            pods / 5,
            spread,
        ),
    ];
    let mut rows = Vec::new();
    for workload in workloads {
        let row = measure(&binary, root.path(), &up, &client, workload).await?;
        eprintln!(
            "{}: {:.0} pods/s",
            row.workload,
            row.pods as f64 / row.seconds
        );
        rows.push(row);
    }
    println!(
        "keelson scheduler bench: keelson up (embedded store) and keelson scheduler as processes, {nodes} nodes"
    );
    println!();
    println!(
        "| workload | pods | start to last binding | pods/s | scheduler CPU | API server CPU | scheduler RSS |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} | {:.2} s | {:.0} | {:.2} s | {:.2} s | {:.0} MiB |",
            row.workload,
            row.pods,
            row.seconds,
            row.pods as f64 / row.seconds,
            row.scheduler_cpu,
            row.server_cpu,
            row.rss_mib
        );
    }
    drop(up);
    Ok(())
}
