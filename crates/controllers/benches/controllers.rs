//! The controllers' benchmark: `keelson up` (without its own controllers)
//! and `keelson controller-manager` as processes, stand-in nodes in this
//! process running the pods, and a table of:
//! - a 1,000-replica Deployment from its create to all pods created, and
//!   to Available;
//! - a rolling update of it (maxSurge 25%) to complete;
//! - the manager's memory with 10,000 pods and 1,000 Deployments cached.
//!
//! ```sh
//! cargo build --release -p keelson
//! cargo bench -p keelson-controllers --bench controllers
//! ```
//! `KEELSON_BIN` names another keelson binary than `target/release/keelson`;
//! `KEELSON_BENCH_MANAGER_ARGS` adds flags to the controller manager's.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use keelson_api::k8s_openapi::api::apps::v1::Deployment;
use keelson_api::k8s_openapi::api::core::v1::{Namespace, Pod};
use keelson_apiserver::stand_in::StandIn;
use keelson_harness::keelson::KeelsonProcess;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

const REPLICAS: i32 = 1000;
const MANY_DEPLOYMENTS: usize = 1000;
const MANY_REPLICAS: i32 = 9;

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

fn deployment(name: &str, replicas: i32, image: &str) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]}}
        }
    }))
    .expect("a Deployment")
}

/// Whether `d` has rolled out `want` replicas of its latest generation.
fn complete(d: &Deployment, want: i32) -> bool {
    let status = d.status.clone().unwrap_or_default();
    status.observed_generation >= d.metadata.generation
        && status.updated_replicas == Some(want)
        && status.replicas == Some(want)
        && status.available_replicas == Some(want)
}

async fn until_complete(
    api: &Api<Deployment>,
    name: &str,
    want: i32,
    limit: Duration,
) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let d = api.get(name).await?;
        if complete(&d, want) {
            return Ok(());
        }
        anyhow::ensure!(
            start.elapsed() < limit,
            "{name} did not complete within {limit:?}: {:?}",
            d.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn namespace(client: &Client, name: &str) -> anyhow::Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let made: Namespace = serde_json::from_value(json!({"metadata": {"name": name}}))?;
    namespaces.create(&PostParams::default(), &made).await?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let binary = keelson_binary();
    anyhow::ensure!(
        binary.exists(),
        "no keelson binary at {}: build it with `cargo build --release -p keelson` or set KEELSON_BIN",
        binary.display()
    );
    let root = tempfile::tempdir()?;
    let up = KeelsonProcess::builder(&binary, "up")
        .data_dir(root.path().join("up"))
        .arg("--controllers=")
        .start()
        .await?;
    let kubeconfig = up.kubeconfig();
    let manager = KeelsonProcess::builder(&binary, "controller-manager")
        .data_dir(root.path().join("manager"))
        .writes_kubeconfig(false)
        .probes_plain_http(true)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--leader-elect=false")
        .args(
            std::env::var("KEELSON_BENCH_MANAGER_ARGS")
                .unwrap_or_default()
                .split_whitespace(),
        )
        .start()
        .await?;
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&kubeconfig)?,
        &kube::config::KubeConfigOptions::default(),
    )
    .await?;
    let client = Client::try_from(config)?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = manager
        .pid()
        .ok_or_else(|| anyhow::anyhow!("the manager has no pid"))?;
    let idle = keelson_harness::usage::of(pid)?;
    let nodes: Vec<String> = (1..=10).map(|i| format!("node-{i}")).collect();
    let names: Vec<&str> = nodes.iter().map(String::as_str).collect();
    let _nodes = StandIn::start(client.clone(), &names).await?;
    let mut rows = Vec::new();

    // A 1,000-replica Deployment: every pod created, then Available.
    namespace(&client, "big").await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "big");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "big");
    let created = tokio::spawn(count_pods(pods.clone(), REPLICAS as usize));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", REPLICAS, "app:1"),
        )
        .await?;
    let created_in = created.await??.saturating_duration_since(start);
    until_complete(&deployments, "web", REPLICAS, Duration::from_secs(120)).await?;
    rows.push((
        "1,000 pods created after the Deployment's create",
        created_in,
        "3 s",
    ));
    rows.push((
        "the Deployment Available (1,000 ready)",
        start.elapsed(),
        "",
    ));

    // A rolling update of it.
    let start = Instant::now();
    let image = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}});
    deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(&image))
        .await?;
    until_complete(&deployments, "web", REPLICAS, Duration::from_secs(300)).await?;
    rows.push((
        "rolling update of 1,000 (maxSurge 25%) complete",
        start.elapsed(),
        "15 s",
    ));

    // 10,000 pods and 1,000 Deployments cached.
    namespace(&client, "many").await?;
    let many: Api<Deployment> = Api::namespaced(client.clone(), "many");
    let start = Instant::now();
    futures::stream::iter(0..MANY_DEPLOYMENTS)
        .map(|i| {
            let many = many.clone();
            async move {
                let d = deployment(&format!("d{i}"), MANY_REPLICAS, "app:1");
                many.create(&PostParams::default(), &d).await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    let want = MANY_DEPLOYMENTS * MANY_REPLICAS as usize;
    let many_pods: Api<Pod> = Api::namespaced(client.clone(), "many");
    loop {
        let listed = many_pods.list(&ListParams::default()).await?.items.len();
        if listed >= want {
            break;
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(600),
            "only {listed} of {want} pods"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let settled = start.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = manager
        .pid()
        .ok_or_else(|| anyhow::anyhow!("the manager has no pid"))?;
    let usage = keelson_harness::usage::of(pid)?;
    println!(
        "keelson controllers bench: keelson up + keelson controller-manager, 10 stand-in nodes"
    );
    println!();
    println!("| measure | result | target |");
    println!("|---|---|---|");
    for (what, took, target) in &rows {
        println!("| {what} | {:.2} s | {target} |", took.as_secs_f64());
    }
    println!(
        "| 1,000 Deployments of 9 more pods created | {:.1} s | |",
        settled.as_secs_f64()
    );
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "| the manager's RSS at the start, nothing cached | {:.0} MiB | |",
        mib(idle.rss_bytes)
    );
    println!(
        "| the manager's RSS, 10,000 pods and 1,001 Deployments cached | {:.0} MiB (peak {:.0} MiB) | 150 MiB |",
        mib(usage.rss_bytes),
        mib(usage.peak_rss_bytes)
    );
    drop(up);
    Ok(())
}

/// Waits until `want` distinct pods have been seen created; returns when.
async fn count_pods(pods: Api<Pod>, want: usize) -> anyhow::Result<Instant> {
    let mut seen = HashSet::new();
    let mut events = watcher(pods, watcher::Config::default()).boxed();
    while let Some(event) = events.try_next().await? {
        if let watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) = event {
            seen.insert(pod.name_any());
            if seen.len() >= want {
                return Ok(Instant::now());
            }
        }
    }
    anyhow::bail!("the pod watch ended")
}
