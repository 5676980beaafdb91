//! `keelson store bench`: one workload against the embedded store and a real
//! etcd, printed side by side.
//!
//! The workload: creates from N concurrent writers; gets of random existing
//! keys from N concurrent readers; prefix lists; and watch delivery, measured
//! from the moment a write is issued to the moment each watcher receives it.
//! Both backends fsync before acknowledging a write (etcd by default, the
//! embedded store by design), so throughputs compare at equal durability.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use futures::StreamExt;
use keelson_harness::etcd::EtcdProcess;
use keelson_store::{RangeRequest, Store};

/// Options of `keelson store bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The embedded store to measure (default: a fresh temporary directory).
    #[arg(long)]
    store: Option<String>,
    /// Measure this etcd instead of starting one beside the embedded store.
    #[arg(long)]
    etcd: Option<String>,
    /// Concurrent writers (and readers).
    #[arg(long, default_value_t = 64)]
    writers: usize,
    /// Writes (and gets) per backend.
    #[arg(long, default_value_t = 20_000)]
    ops: usize,
    /// Size of each value in bytes.
    #[arg(long, default_value_t = 1024)]
    value_size: usize,
    /// Concurrent watchers for the delivery measurement.
    #[arg(long, default_value_t = 10)]
    watchers: usize,
}

/// Throughput and latency of one measured phase.
pub(crate) struct Phase {
    pub(crate) name: String,
    pub(crate) ops_per_sec: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.writers > 0 && args.ops >= args.writers,
        "need --ops >= --writers > 0"
    );
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    let embedded_url = match &args.store {
        Some(url) => url.clone(),
        None => format!("embedded:{}", scratch.path().join("embedded").display()),
    };
    anyhow::ensure!(
        embedded_url.starts_with("embedded:"),
        "--store names the embedded store (embedded:DIR); use --etcd for etcd"
    );
    let embedded = keelson_store::open(&embedded_url).await?;
    let embedded_results = workload(embedded, &args).await?;

    let mut etcd_process = None;
    let etcd_url = match &args.etcd {
        Some(url) => url.clone(),
        None => {
            let process = EtcdProcess::builder()
                .data_dir(scratch.path().join("etcd"))
                .start()
                .await?;
            let url = process.url();
            etcd_process = Some(process);
            url
        }
    };
    let etcd = keelson_store::open(&etcd_url).await?;
    let etcd_results = workload(etcd, &args).await?;
    drop(etcd_process);

    println!(
        "keelson store bench: {} writers, {} ops, {}-byte values, {} watchers",
        args.writers, args.ops, args.value_size, args.watchers
    );
    print_table(&embedded_results, &etcd_results);
    Ok(())
}

async fn workload(store: Arc<dyn Store>, args: &BenchArgs) -> anyhow::Result<Vec<Phase>> {
    let value = Bytes::from(vec![b'x'; args.value_size]);
    let prefix = format!("/bench/{}/", std::process::id());
    let mut phases = Vec::new();

    let per_writer = args.ops / args.writers;
    let writers = args.writers;
    let (s, p) = (store.clone(), prefix.clone());
    let writes = concurrently(writers, per_writer, move |w, i| {
        let (store, value, key) = (s.clone(), value.clone(), key(&p, w, i));
        async move { Ok(store.create(&key, value).await.map(drop)?) }
    })
    .await?;
    phases.push(phase(format!("writes ({} writers)", args.writers), writes));

    let (s, p) = (store.clone(), prefix.clone());
    let gets = concurrently(writers, per_writer, move |w, i| {
        let store = s.clone();
        // A different writer's key each time, spread over the key space.
        let key = key(&p, (w * 7 + i) % writers, (i * 31) % per_writer);
        async move {
            let found = store.get(&key).await?;
            anyhow::ensure!(found.is_some(), "{key} missing");
            Ok(())
        }
    })
    .await?;
    phases.push(phase(format!("gets ({} readers)", args.writers), gets));

    let lists = args.ops / 200;
    let list_prefix = format!("{prefix}w0000/");
    let s = store.clone();
    let listed = concurrently(4, lists.div_ceil(4), move |_, _| {
        let store = s.clone();
        let request = RangeRequest {
            prefix: list_prefix.clone(),
            ..Default::default()
        };
        async move {
            let response = store.range(request).await?;
            anyhow::ensure!(
                response.kvs.len() == per_writer,
                "list saw {}",
                response.kvs.len()
            );
            Ok(())
        }
    })
    .await?;
    phases.push(phase(
        format!("lists of {per_writer} keys (4 clients)"),
        listed,
    ));

    phases.push(watch_delivery(&store, args, &prefix).await?);
    Ok(phases)
}

fn key(prefix: &str, writer: usize, i: usize) -> String {
    format!("{prefix}w{writer:04}/{i:08}")
}

/// Runs `per_task` calls of `op` on each of `tasks` tasks; returns the elapsed
/// time and every call's latency.
pub(crate) async fn concurrently<F, Fut>(
    tasks: usize,
    per_task: usize,
    op: F,
) -> anyhow::Result<(Duration, Vec<Duration>)>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_task);
                for i in 0..per_task {
                    let begun = Instant::now();
                    op(t, i).await?;
                    latencies.push(begun.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(tasks * per_task);
    for handle in handles {
        latencies.extend(handle.await??);
    }
    Ok((start.elapsed(), latencies))
}

/// Watch delivery: watchers on one prefix, a paced writer; latency is from
/// issuing the write to each watcher receiving its event.
async fn watch_delivery(
    store: &Arc<dyn Store>,
    args: &BenchArgs,
    prefix: &str,
) -> anyhow::Result<Phase> {
    const EVENTS: usize = 1000;
    let watch_prefix = format!("{prefix}watch/");
    let epoch = Instant::now();
    let mut receivers = Vec::new();
    for _ in 0..args.watchers {
        let mut watch = store.watch(&watch_prefix, 0).await?;
        receivers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(EVENTS);
            while latencies.len() < EVENTS {
                let event = tokio::time::timeout(Duration::from_secs(30), watch.next())
                    .await
                    .context("no watch event within 30s")?
                    .context("watch ended")??;
                let sent: u64 = std::str::from_utf8(&event.kv.value)?.parse()?;
                let now = epoch.elapsed().as_nanos() as u64;
                latencies.push(Duration::from_nanos(now.saturating_sub(sent)));
            }
            anyhow::Ok(latencies)
        }));
    }
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for i in 0..EVENTS {
        tick.tick().await;
        let sent = epoch.elapsed().as_nanos() as u64;
        store
            .create(
                &format!("{watch_prefix}{i:06}"),
                Bytes::from(sent.to_string()),
            )
            .await?;
    }
    let mut latencies = Vec::new();
    for receiver in receivers {
        latencies.extend(receiver.await??);
    }
    let elapsed = start.elapsed();
    let mut result = phase(
        format!("watch delivery ({} watchers)", args.watchers),
        (elapsed, latencies),
    );
    result.ops_per_sec = (EVENTS * args.watchers) as f64 / elapsed.as_secs_f64();
    Ok(result)
}

pub(crate) fn phase(name: String, (elapsed, mut latencies): (Duration, Vec<Duration>)) -> Phase {
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies.get(index).copied().unwrap_or_default()
    };
    Phase {
        name,
        ops_per_sec: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn print_table(embedded: &[Phase], etcd: &[Phase]) {
    println!();
    println!(
        "| {:<36} | {:>12} | {:>8} | {:>8} | {:>12} | {:>8} | {:>8} | {:>10} |",
        "workload", "embedded/s", "p50 ms", "p99 ms", "etcd/s", "p50 ms", "p99 ms", "emb/etcd"
    );
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(38),
        "-".repeat(13) + ":",
        "-".repeat(9) + ":",
        "-".repeat(9) + ":",
        "-".repeat(13) + ":",
        "-".repeat(9) + ":",
        "-".repeat(9) + ":",
        "-".repeat(11) + ":"
    );
    for (e, d) in embedded.iter().zip(etcd) {
        println!(
            "| {:<36} | {:>12.0} | {:>8} | {:>8} | {:>12.0} | {:>8} | {:>8} | {:>9.2}x |",
            e.name,
            e.ops_per_sec,
            ms(e.p50),
            ms(e.p99),
            d.ops_per_sec,
            ms(d.p50),
            ms(d.p99),
            e.ops_per_sec / d.ops_per_sec
        );
    }
}
