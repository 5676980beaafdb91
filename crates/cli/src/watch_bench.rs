//! `keelson api watch-bench`: the API server's memory, CPU and write
//! latency under watchers that never read, and its memory under large
//! lists in the forms that used to copy most (tables, and lists from the
//! watch cache).
//!
//! The watch rows: `keelson up` (a child process, on the embedded store)
//! gets 10,000 ConfigMaps of 1 KiB; then 100 clients each start a watch of
//! them without a resourceVersion (so each is owed every object first),
//! read the response head and nothing more, while writers update the
//! objects. The server is sampled from /proc: its resident memory (the
//! peak while the watchers are open, and once they have left), its CPU
//! seconds, and the latency of the updates beside as many updates with
//! no watcher, made first (the resident memory after those shows what
//! the writes alone add). Then each watcher reads what it is sent, to
//! count the watches that the server ended.
//!
//! The list rows: each on the server freshly restarted over the same
//! objects, one list of them all, read at full speed, as a Table, at
//! `resourceVersion=0`, and at 0 as a Table: the server's peak memory
//! above what it used before (with the watch cache already filled), beside
//! the size of what it sent.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::BodyExt;
use keelson_harness::keelson::KeelsonProcess;
use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::api_bench::{HttpClient, create_namespace, open_watch, request};
use crate::store_bench::{Phase, concurrently, ms, phase};

/// Options of `keelson api watch-bench`.
#[derive(clap::Args, Debug)]
pub struct WatchBenchArgs {
    /// ConfigMaps in the watched namespace.
    #[arg(long, default_value_t = 10_000)]
    objects: usize,
    /// Bytes of data in each.
    #[arg(long, default_value_t = 1024)]
    object_bytes: usize,
    /// Watchers that never read.
    #[arg(long, default_value_t = 100)]
    watchers: usize,
    /// Updates while they are open (and, for comparison, before).
    #[arg(long, default_value_t = 5000)]
    writes: usize,
    /// Concurrent writers.
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// The `keelson` binary whose `up` is measured (default: this one), to
    /// compare builds.
    #[arg(long)]
    server: Option<PathBuf>,
}

/// The namespace of the objects.
const NAMESPACE: &str = "bench";

pub async fn run(args: WatchBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.writers > 0 && args.objects > 0,
        "need --writers and --objects above 0"
    );
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    let binary = match &args.server {
        Some(binary) => binary.clone(),
        None => std::env::current_exe()?,
    };
    let mut server = KeelsonProcess::builder(&binary, "up")
        .data_dir(scratch.path().join("up"))
        .start()
        .await
        .context("cannot start keelson up")?;
    let base = server.url();
    // The server keeps its certificates across the restarts below.
    let client = crate::bench_client::http_client(&server, 64)?;
    create_namespace(&client, &base, NAMESPACE).await?;
    load(&client, &base, &args).await?;
    let watch = watch_rows(&client, &server, &args).await?;
    let mut lists = Vec::new();
    for case in &LIST_CASES {
        server
            .restart()
            .await
            .context("cannot restart keelson up")?;
        lists.push(list_row(&client, &server, case, args.objects).await?);
    }
    println!(
        "keelson api watch-bench: {} ConfigMaps of {} bytes, {} watchers that never read, {} updates from {} writers",
        args.objects, args.object_bytes, args.watchers, args.writes, args.writers
    );
    print_watch_rows(&watch, args.watchers);
    print_list_rows(&lists);
    Ok(())
}

fn config_map(name: &str, bytes: usize) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "data": {"a": "0", "payload": "x".repeat(bytes)},
    })
}

fn object_name(i: usize) -> String {
    format!("cm-{i:06}")
}

fn collection(base: &str) -> String {
    format!("{base}/api/v1/namespaces/{NAMESPACE}/configmaps")
}

/// Creates the objects from 64 clients.
async fn load(client: &HttpClient, base: &str, args: &WatchBenchArgs) -> anyhow::Result<()> {
    const CLIENTS: usize = 64;
    let (client, url, size) = (client.clone(), collection(base), args.object_bytes);
    let objects = args.objects;
    concurrently(CLIENTS, objects.div_ceil(CLIENTS), move |c, i| {
        let (client, url) = (client.clone(), url.clone());
        let n = c + i * CLIENTS;
        async move {
            if n >= objects {
                return Ok(());
            }
            let body = serde_json::to_vec(&config_map(&object_name(n), size))?;
            let (status, body) =
                request(&client, http::Method::POST, &url, Some(body.into())).await?;
            anyhow::ensure!(
                status == http::StatusCode::CREATED || status == http::StatusCode::CONFLICT,
                "create: {status} {body:?}"
            );
            Ok(())
        }
    })
    .await?;
    Ok(())
}

/// Merge patches of the objects' `a` field, `writes` in all.
async fn updates(
    client: &HttpClient,
    base: &str,
    args: &WatchBenchArgs,
    label: &str,
) -> anyhow::Result<Phase> {
    let (client, url) = (client.clone(), collection(base));
    let (writers, objects) = (args.writers, args.objects);
    // Each phase writes values of its own, so that no update is a no-op.
    let tag = label.to_string();
    let timed = concurrently(writers, args.writes / writers, move |w, i| {
        let n = w + i * writers;
        let url = format!("{url}/{}", object_name(n % objects));
        let (client, value) = (client.clone(), format!("{tag} {n}"));
        async move {
            let patch = serde_json::to_vec(&json!({"data": {"a": value}}))?;
            let request = http::Request::builder()
                .method(http::Method::PATCH)
                .uri(url)
                .header("content-type", "application/merge-patch+json")
                .body(http_body_util::Full::new(Bytes::from(patch)))?;
            let response = client.request(request).await?;
            let status = response.status();
            response.into_body().collect().await?;
            anyhow::ensure!(status.is_success(), "update: {status}");
            Ok(())
        }
    })
    .await?;
    Ok(phase(label.to_string(), timed))
}

/// What the watch rows measure.
struct WatchFigures {
    loaded: u64,
    /// After the updates with no watcher: what the writes alone cost.
    updated: u64,
    open_peak: u64,
    open_settled: u64,
    left: u64,
    cpu: f64,
    ended: usize,
    quiet: Phase,
    watched: Phase,
}

async fn watch_rows(
    client: &HttpClient,
    server: &KeelsonProcess,
    args: &WatchBenchArgs,
) -> anyhow::Result<WatchFigures> {
    let pid = server.pid().context("keelson up has no pid")?;
    let base = server.url();
    settle(pid).await?;
    let loaded = rss(pid)?;
    let quiet = updates(client, &base, args, "no watchers").await?;
    settle(pid).await?;
    let updated = rss(pid)?;
    let sampler = Sampler::start(pid);
    let cpu_before = cpu_seconds(pid)?;
    let dialer = server.dialer()?;
    let path = format!("/api/v1/namespaces/{NAMESPACE}/configmaps?watch=true");
    let mut watches = Vec::with_capacity(args.watchers);
    for _ in 0..args.watchers {
        watches.push(open_watch(&dialer, &path).await?);
    }
    let watched = updates(client, &base, args, "watchers open").await?;
    settle(pid).await?;
    let cpu = cpu_seconds(pid)? - cpu_before;
    let open_settled = rss(pid)?;
    let open_peak = sampler.peak();
    let readers: Vec<_> = watches
        .into_iter()
        .map(|watch| tokio::spawn(read_to_end(watch)))
        .collect();
    let mut ended = 0;
    for reader in readers {
        ended += usize::from(reader.await??);
    }
    settle(pid).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(WatchFigures {
        loaded,
        updated,
        open_peak,
        open_settled,
        left: rss(pid)?,
        cpu,
        ended,
        quiet,
        watched,
    })
}

/// Reads a watch response until the server ends it (true) or sends
/// nothing for 3 s (false); the connection is closed after.
async fn read_to_end(
    (mut stream, body): (Box<dyn crate::bench_client::Io>, Vec<u8>),
) -> anyhow::Result<bool> {
    const END: &[u8] = b"\n0\r\n\r\n";
    let mut tail = body[body.len().saturating_sub(END.len())..].to_vec();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await;
        let n = match read {
            Err(_) => return Ok(false),
            Ok(n) => n?,
        };
        if n == 0 {
            return Ok(true);
        }
        tail.extend_from_slice(&buf[..n]);
        if memchr::memmem::find(&tail, END).is_some() {
            return Ok(true);
        }
        tail.drain(..tail.len().saturating_sub(END.len()));
    }
}

/// One list request of the list rows.
struct ListCase {
    label: &'static str,
    query: &'static str,
    accept: &'static str,
}

const TABLE: &str = "application/json;as=Table;g=meta.k8s.io;v=v1";

const LIST_CASES: [ListCase; 3] = [
    ListCase {
        label: "as Table, no limit",
        query: "",
        accept: TABLE,
    },
    ListCase {
        label: "resourceVersion=0",
        query: "?resourceVersion=0",
        accept: "application/json",
    },
    ListCase {
        label: "resourceVersion=0 as Table",
        query: "?resourceVersion=0",
        accept: TABLE,
    },
];

/// What one list row measures.
struct ListFigures {
    label: &'static str,
    body: usize,
    before: u64,
    peak: u64,
    /// Once the server has been idle a while after the answer.
    after: u64,
}

/// One list on a fresh server whose watch cache of the objects is filled.
async fn list_row(
    client: &HttpClient,
    server: &KeelsonProcess,
    case: &ListCase,
    objects: usize,
) -> anyhow::Result<ListFigures> {
    let pid = server.pid().context("keelson up has no pid")?;
    let url = collection(&server.url());
    // A watch from now fills the cache without being sent its objects.
    let (_, list) = request(client, http::Method::GET, &format!("{url}?limit=1"), None).await?;
    let list: serde_json::Value = serde_json::from_slice(&list)?;
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap_or("0");
    let warm = format!("{url}?watch=true&resourceVersion={rv}&timeoutSeconds=1");
    request(client, http::Method::GET, &warm, None).await?;
    settle(pid).await?;
    let before = rss(pid)?;
    let sampler = Sampler::start(pid);
    let request = http::Request::get(format!("{url}{}", case.query))
        .header("accept", case.accept)
        .body(http_body_util::Full::new(Bytes::new()))?;
    let response = client.request(request).await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{}: {}",
        case.label,
        response.status()
    );
    let body = response.into_body().collect().await?.to_bytes();
    let peak = sampler.peak();
    let names = memchr::memmem::find_iter(&body, b"\"name\":\"cm-").count();
    anyhow::ensure!(names >= objects, "{}: only {names} objects", case.label);
    settle(pid).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(ListFigures {
        label: case.label,
        body: body.len(),
        before,
        peak,
        after: rss(pid)?,
    })
}

/// The resident memory of `pid`, in bytes.
fn rss(pid: u32) -> anyhow::Result<u64> {
    Ok(keelson_harness::usage::of(pid)?.rss_bytes)
}

/// The CPU time `pid` has used (user and system), in seconds.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    Ok(keelson_harness::usage::of(pid)?.cpu_seconds)
}

/// Waits until `pid` has been nearly idle for a second (at most 120 s).
async fn settle(pid: u32) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = cpu_seconds(pid)?;
    let mut quiet = 0;
    while quiet < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = cpu_seconds(pid)?;
        quiet = if now - last < 0.03 { quiet + 1 } else { 0 };
        last = now;
    }
    Ok(())
}

/// The peak resident memory of a process, sampled every 10 ms by a task
/// until dropped.
struct Sampler {
    pid: u32,
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(rss(pid).unwrap_or(0)));
        let seen = Arc::clone(&peak);
        let task = tokio::spawn(async move {
            while let Ok(now) = rss(pid) {
                seen.fetch_max(now, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        Sampler { pid, peak, task }
    }

    /// The highest resident memory seen so far, including now.
    fn peak(&self) -> u64 {
        let now = rss(self.pid).unwrap_or(0);
        self.peak.load(Ordering::Relaxed).max(now)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

fn print_watch_rows(figures: &WatchFigures, watchers: usize) {
    let latency = |p: &Phase| format!("{} / {}", ms(p.p50), ms(p.p99));
    let rows = [
        ("server RSS, objects loaded (MB)", mb(figures.loaded)),
        (
            "RSS after the updates, no watchers (MB)",
            mb(figures.updated),
        ),
        (
            "peak RSS, watchers open, updates (MB)",
            mb(figures.open_peak),
        ),
        (
            "RSS, watchers open and settled (MB)",
            mb(figures.open_settled),
        ),
        ("RSS after the watchers left (MB)", mb(figures.left)),
        (
            "server CPU s, watchers opened to settled",
            format!("{:.2}", figures.cpu),
        ),
        (
            "watches the server ended",
            format!("{} of {watchers}", figures.ended),
        ),
        ("update p50 / p99 ms, no watchers", latency(&figures.quiet)),
        (
            "update p50 / p99 ms, watchers open",
            latency(&figures.watched),
        ),
        (
            "updates/s, no watchers / watchers open",
            format!(
                "{:.0} / {:.0}",
                figures.quiet.ops_per_sec, figures.watched.ops_per_sec
            ),
        ),
    ];
    println!();
    println!("| {:<42} | {:>15} |", "watchers that never read", "value");
    println!("|{}|{}:|", "-".repeat(44), "-".repeat(16));
    for (label, value) in rows {
        println!("| {label:<42} | {value:>15} |");
    }
}

fn print_list_rows(rows: &[ListFigures]) {
    println!();
    println!(
        "| {:<28} | {:>8} | {:>10} | {:>8} | {:>13} | {:>9} |",
        "one list, fresh server", "body MB", "before MB", "peak MB", "peak-before", "after MB"
    );
    println!(
        "|{}|{}:|{}:|{}:|{}:|{}:|",
        "-".repeat(30),
        "-".repeat(9),
        "-".repeat(11),
        "-".repeat(9),
        "-".repeat(14),
        "-".repeat(10)
    );
    for row in rows {
        println!(
            "| {:<28} | {:>8} | {:>10} | {:>8} | {:>13} | {:>9} |",
            row.label,
            mb(row.body as u64),
            mb(row.before),
            mb(row.peak),
            mb(row.peak.saturating_sub(row.before)),
            mb(row.after),
        );
    }
}
