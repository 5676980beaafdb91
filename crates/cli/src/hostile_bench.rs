//! `keelson api hostile`: what a few small hostile requests cost a running
//! `keelson up`, in the server's CPU seconds and memory.
//!
//! The benchmark starts `BINARY up` (this executable unless `--server` names
//! another build, so that two builds can be compared) and sends, each on a
//! fresh server:
//!
//! - two 200 KB YAML bodies nested 100,000 deep, at once, while `/readyz`
//!   is polled;
//! - a 3.6 KB JSON patch of 18 `copy` operations that each double the
//!   object.
//!
//! For each it prints the answers, how long they took, the server's CPU
//! seconds and peak resident set (from `/proc`), and the slowest `/readyz`
//! meanwhile.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use keelson_harness::keelson::KeelsonProcess;
use keelson_harness::tls::Dialer;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Options of `keelson api hostile`.
#[derive(clap::Args, Debug)]
pub struct HostileBenchArgs {
    /// The keelson binary to measure (default: this one).
    #[arg(long)]
    server: Option<PathBuf>,
    /// How long to wait for an answer before giving up on it.
    #[arg(long, default_value_t = 120)]
    answer_seconds: u64,
}

/// What one scenario cost.
struct Outcome {
    scenario: &'static str,
    answers: String,
    elapsed: Duration,
    cpu_seconds: f64,
    peak_rss_mib: u64,
    rss_after_mib: u64,
    slowest_readyz: Duration,
}

pub async fn run(args: HostileBenchArgs) -> anyhow::Result<()> {
    let binary = match &args.server {
        Some(binary) => binary.clone(),
        None => std::env::current_exe().context("cannot find this executable")?,
    };
    let limit = Duration::from_secs(args.answer_seconds);
    let outcomes = [
        measure(&binary, "2 YAML bodies 100,000 deep", limit, deep_yaml).await?,
        measure(
            &binary,
            "JSON patch, 18 doubling copies",
            limit,
            doubling_copies,
        )
        .await?,
    ];
    println!("server: {}", binary.display());
    println!(
        "| scenario | answers | time | server CPU s | peak RSS MiB | RSS after MiB | slowest /readyz |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for o in &outcomes {
        println!(
            "| {} | {} | {:.2} s | {:.2} | {} | {} | {} ms |",
            o.scenario,
            o.answers,
            o.elapsed.as_secs_f64(),
            o.cpu_seconds,
            o.peak_rss_mib,
            o.rss_after_mib,
            o.slowest_readyz.as_millis()
        );
    }
    Ok(())
}

/// Starts a fresh server, runs `scenario` against it while `/readyz` is
/// polled, and reads what it cost from `/proc`.
async fn measure<F, Fut>(
    binary: &std::path::Path,
    name: &'static str,
    limit: Duration,
    scenario: F,
) -> anyhow::Result<Outcome>
where
    F: FnOnce(Dialer, Duration) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    let scratch = tempfile::tempdir()?;
    let server = KeelsonProcess::builder(binary, "up")
        .data_dir(scratch.path().join("data"))
        .log_file(scratch.path().join("keelson.log"))
        .start()
        .await
        .context("keelson up did not start")?;
    let dialer = server.dialer()?;
    let pid = server.pid().context("the server has no pid")?;
    let before = keelson_harness::usage::of(pid)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(poll_readyz(dialer.clone(), stopped));
    let start = Instant::now();
    let answers = scenario(dialer, limit).await?;
    let elapsed = start.elapsed();
    // The work a request started may outlive its answer: give it a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop.send(true);
    let slowest_readyz = poller.await.unwrap_or_default();
    let after = keelson_harness::usage::of(pid)?;
    Ok(Outcome {
        scenario: name,
        answers,
        elapsed,
        cpu_seconds: after.cpu_seconds - before.cpu_seconds,
        peak_rss_mib: after.peak_rss_bytes >> 20,
        rss_after_mib: after.rss_bytes >> 20,
        slowest_readyz,
    })
}

/// Polls `/readyz` every 50 ms until told to stop; the slowest answer
/// (a poll that gets none within 30 s counts as 30 s).
async fn poll_readyz(dialer: Dialer, mut stop: tokio::sync::watch::Receiver<bool>) -> Duration {
    let mut slowest = Duration::ZERO;
    while !*stop.borrow() {
        let start = Instant::now();
        let asked = tokio::time::timeout(
            Duration::from_secs(30),
            exchange(
                &dialer,
                b"GET /readyz HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n",
            ),
        )
        .await;
        let took = match asked {
            Ok(Ok(_)) => start.elapsed(),
            _ => Duration::from_secs(30),
        };
        slowest = slowest.max(took);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            _ = stop.changed() => {}
        }
    }
    slowest
}

/// Row 3: two deep YAML bodies at once.
async fn deep_yaml(dialer: Dialer, limit: Duration) -> anyhow::Result<String> {
    let body = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let request = post(
        "/api/v1/namespaces/default/configmaps",
        "application/yaml",
        body.as_bytes(),
    );
    let send = || async {
        match tokio::time::timeout(limit, exchange(&dialer, &request)).await {
            Ok(Ok(code)) => code.to_string(),
            Ok(Err(err)) => format!("error: {err}"),
            Err(_) => "no answer".to_string(),
        }
    };
    let (first, second) = tokio::join!(send(), send());
    Ok(format!("{first}, {second}"))
}

/// Row 4: a ConfigMap, then one JSON patch whose copies double it 18 times.
async fn doubling_copies(dialer: Dialer, limit: Duration) -> anyhow::Result<String> {
    let config_map = json!({"metadata": {"name": "doubled"}, "data": {"a": "x".repeat(2048)}});
    let created = exchange(
        &dialer,
        &post(
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            &serde_json::to_vec(&config_map)?,
        ),
    )
    .await?;
    anyhow::ensure!(created == 201, "the ConfigMap was not created: {created}");
    let ops: Vec<_> = (0..18)
        .map(|i| json!({"op": "copy", "from": "/data", "path": format!("/data/c{i}")}))
        .collect();
    let patch = serde_json::to_vec(&ops)?;
    let request = request(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/doubled",
        "application/json-patch+json",
        &patch,
    );
    let code = match tokio::time::timeout(limit, exchange(&dialer, &request)).await {
        Ok(Ok(code)) => code.to_string(),
        Ok(Err(err)) => format!("error: {err}"),
        Err(_) => "no answer".to_string(),
    };
    Ok(format!(
        "{code} ({:.1} KB patch)",
        patch.len() as f64 / 1000.0
    ))
}

fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    request("POST", path, content_type, body)
}

fn request(method: &str, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: k\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body].concat()
}

/// Sends `request` on a connection of its own; the answer's status code.
async fn exchange(dialer: &Dialer, request: &[u8]) -> anyhow::Result<u16> {
    let mut stream = dialer.connect().await?;
    stream.write_all(request).await?;
    let mut answer = Vec::new();
    // A TLS server that closes without close_notify still sent its answer.
    if let Err(err) = stream.read_to_end(&mut answer).await
        && answer.is_empty()
    {
        return Err(err.into());
    }
    let head = String::from_utf8_lossy(&answer[..answer.len().min(64)]).to_string();
    head.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP answer: {head:?}"))
}
