//! `keelson api sockets`: `keelson up` against many clients that connect
//! and then send nothing, or half a request's headers: whether `/readyz`
//! still answers and how soon, the server's memory and CPU time, and how
//! many of the sockets the server has closed after a while.
//!
//! The server is started from `--keelson` (this binary by default, so that
//! a build of another revision can be measured by the same program) under a
//! soft open-files limit as low as a login shell's, and optionally a lower
//! hard limit, set by `sh` before it becomes the server. This process
//! raises its own limit first: it holds every socket's other end.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use keelson_harness::keelson::KeelsonProcess;
use keelson_harness::tls::{Dialer, Io};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Options of `keelson api sockets`.
#[derive(clap::Args, Debug)]
pub struct ApiSocketsArgs {
    /// Sockets to open: every other one sends half a request's headers,
    /// the rest nothing.
    #[arg(long, default_value_t = 1100)]
    sockets: usize,
    /// The `keelson` binary to run `keelson up` from (default: this one).
    #[arg(long)]
    keelson: Option<PathBuf>,
    /// The server's soft open-files limit when it starts.
    #[arg(long, default_value_t = 1024)]
    soft_open_files: u64,
    /// The server's hard open-files limit (default: this process's).
    #[arg(long)]
    hard_open_files: Option<u64>,
    /// Seconds to wait, sockets open, before the last look.
    #[arg(long, default_value_t = 40)]
    wait: u64,
    /// An argument for `keelson up` (repeatable), e.g.
    /// `--up-arg=--max-connections=1000`.
    #[arg(long = "up-arg", allow_hyphen_values = true)]
    up_args: Vec<String>,
}

/// How long `/readyz` and each connect may take before they count as no
/// answer.
const PATIENCE: Duration = Duration::from_secs(10);

/// How long one socket may take to connect.
const CONNECT_PATIENCE: Duration = Duration::from_secs(2);

/// Half of a request's headers.
const HALF_A_HEADER: &[u8] = b"GET /readyz HTTP/1.1\r\nHost: keel";

pub async fn run(args: ApiSocketsArgs) -> anyhow::Result<()> {
    crate::open_files::raise()?;
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    let keelson = match &args.keelson {
        Some(path) => path.clone(),
        None => std::env::current_exe()?,
    };
    let script = write_launcher(scratch.path(), &keelson, &args)?;
    let server = KeelsonProcess::builder("/bin/sh", script.to_string_lossy())
        .data_dir(scratch.path().join("data"))
        .args(&args.up_args)
        .start()
        .await
        .context("cannot start keelson up")?;
    let pid = server.pid().context("keelson up is not running")?;
    let address = &server.dialer()?;

    let mut rows = vec![look("started", pid, address, None).await?];
    let mut sockets = open_sockets(address, args.sockets).await;
    let opened = sockets.len();
    rows.push(
        look(
            "sockets open",
            pid,
            address,
            Some(count_closed(&mut sockets).await),
        )
        .await?,
    );
    tokio::time::sleep(Duration::from_secs(args.wait)).await;
    let after = format!("{} s later", args.wait);
    rows.push(look(&after, pid, address, Some(count_closed(&mut sockets).await)).await?);

    let hard = args
        .hard_open_files
        .map_or_else(|| "unchanged".to_string(), |hard| hard.to_string());
    println!(
        "keelson api sockets: {opened} of {} sockets opened (half silent, half with half a \
         header) against {} up {}, open files {} soft, {hard} hard",
        args.sockets,
        keelson.display(),
        args.up_args.join(" "),
        args.soft_open_files,
    );
    print_table(&rows, opened);
    Ok(())
}

/// A script for `sh` that sets the limits and becomes `keelson up`.
fn write_launcher(dir: &Path, keelson: &Path, args: &ApiSocketsArgs) -> anyhow::Result<PathBuf> {
    let mut text = format!("ulimit -Sn {} || exit 1\n", args.soft_open_files);
    if let Some(hard) = args.hard_open_files {
        text.push_str(&format!("ulimit -Hn {hard} || exit 1\n"));
    }
    text.push_str(&format!("exec '{}' up \"$@\"\n", keelson.display()));
    let path = dir.join("launch.sh");
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Opens `count` sockets one after the other (a burst would overflow the
/// listen queue, and the sockets it held back would reach the server only
/// later); those that connected within [`CONNECT_PATIENCE`].
async fn open_sockets(dialer: &Dialer, count: usize) -> Vec<Box<dyn Io>> {
    let mut sockets = Vec::with_capacity(count);
    for i in 0..count {
        let connected =
            tokio::time::timeout(CONNECT_PATIENCE, TcpStream::connect(dialer.address)).await;
        let Ok(Ok(stream)) = connected else {
            continue;
        };
        // The silent half sends not even a TLS hello; the other half
        // completes the handshake, then sends half a header.
        if i % 2 == 0 {
            sockets.push(Box::new(stream) as Box<dyn Io>);
            continue;
        }
        let secured = tokio::time::timeout(CONNECT_PATIENCE, dialer.secure(stream)).await;
        let Ok(Ok(mut stream)) = secured else {
            continue;
        };
        if stream.write_all(HALF_A_HEADER).await.is_err() || stream.flush().await.is_err() {
            continue;
        }
        sockets.push(stream);
    }
    // Time for the server to accept what the listen queue holds.
    tokio::time::sleep(Duration::from_secs(1)).await;
    sockets
}

/// How many of `sockets` the server has closed.
async fn count_closed(sockets: &mut [Box<dyn Io>]) -> usize {
    let probes = sockets.iter_mut().map(|stream| async move {
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => true,
            Ok(Ok(_)) | Err(_) => false,
        }
    });
    let closed = futures::future::join_all(probes).await;
    closed.into_iter().filter(|closed| *closed).count()
}

/// One row: what `/readyz` said and what the server uses.
struct Row {
    moment: String,
    readyz: String,
    rss_mib: f64,
    cpu_seconds: f64,
    closed: Option<usize>,
}

async fn look(
    moment: &str,
    pid: u32,
    address: &Dialer,
    closed: Option<usize>,
) -> anyhow::Result<Row> {
    let readyz = readyz(address).await;
    let (rss_mib, cpu_seconds) = usage(pid)?;
    Ok(Row {
        moment: moment.to_string(),
        readyz,
        rss_mib,
        cpu_seconds,
        closed,
    })
}

/// `GET /readyz` on a new connection: its status and time, or why none.
async fn readyz(dialer: &Dialer) -> String {
    let start = Instant::now();
    let asked = async {
        let mut stream = dialer.connect().await?;
        let request = b"GET /readyz HTTP/1.1\r\nHost: keelson\r\nConnection: close\r\n\r\n";
        stream.write_all(request).await?;
        let mut answer = Vec::new();
        // A TLS server that closes without close_notify still answered.
        if let Err(err) = stream.read_to_end(&mut answer).await
            && answer.is_empty()
        {
            return Err(err);
        }
        Ok::<_, std::io::Error>(answer)
    };
    match tokio::time::timeout(PATIENCE, asked).await {
        Err(_) => format!("no answer in {} s", PATIENCE.as_secs()),
        Ok(Err(err)) => format!("failed: {err}"),
        Ok(Ok(answer)) => {
            let text = String::from_utf8_lossy(&answer);
            let code = text.split_whitespace().nth(1).unwrap_or("nothing");
            format!("{code} in {:.1} ms", start.elapsed().as_secs_f64() * 1000.0)
        }
    }
}

/// The resident memory (MiB) and CPU time (user + system, s) of `pid`.
fn usage(pid: u32) -> anyhow::Result<(f64, f64)> {
    let usage = keelson_harness::usage::of(pid)
        .with_context(|| format!("cannot read what process {pid} uses"))?;
    Ok((
        usage.rss_bytes as f64 / (1024.0 * 1024.0),
        usage.cpu_seconds,
    ))
}

fn print_table(rows: &[Row], opened: usize) {
    println!();
    println!(
        "| moment          | /readyz              | server RSS | server CPU | closed by the server |"
    );
    println!(
        "|-----------------|----------------------|-----------:|-----------:|---------------------:|"
    );
    for row in rows {
        let closed = row
            .closed
            .map_or_else(|| "-".to_string(), |n| format!("{n} of {opened}"));
        println!(
            "| {:<15} | {:<20} | {:>6.1} MiB | {:>8.2} s | {:>20} |",
            row.moment, row.readyz, row.rss_mib, row.cpu_seconds, closed
        );
    }
}
