//! Durability under SIGKILL: a child process writes to the embedded store
//! from many tasks and prints each write once it is acknowledged; the parent
//! kills it mid-load, reopens the store and checks that every acknowledged
//! write is there and that the revision never goes back. Several rounds run on
//! the same database.
//!
//! This file is its own test harness (`harness = false`): the same binary is
//! both the parent and, with `KEELSON_CRASH_CHILD` set, the child.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use keelson_store::embedded::{EmbeddedStore, Options};
use keelson_store::{RangeRequest, Store};

const CHILD_ENV: &str = "KEELSON_CRASH_CHILD";
const WRITERS: usize = 32;
const ROUNDS: usize = 3;
const ACKS_BEFORE_KILL: usize = 1500;

fn main() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(&dir);
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = 0;
    let mut last_revision = 0;
    for round in 0..ROUNDS {
        match run_round(dir.path(), round, last_revision) {
            Ok(revision) => {
                println!("test crash_round_{round} ... ok (revision {revision})");
                last_revision = revision;
            }
            Err(err) => {
                println!("test crash_round_{round} ... FAILED: {err}");
                failures += 1;
            }
        }
    }
    println!(
        "\ntest result: {}. {} passed; {failures} failed",
        if failures == 0 { "ok" } else { "FAILED" },
        ROUNDS - failures
    );
    if failures > 0 {
        std::process::exit(1);
    }
}

/// One kill: returns the store's revision after reopening.
fn run_round(dir: &std::path::Path, round: usize, floor: i64) -> Result<i64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .env(CHILD_ENV, dir)
        .env("KEELSON_CRASH_ROUND", round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the writer child: {e}"))?;
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut acked: Vec<(String, String, i64)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.len() < ACKS_BEFORE_KILL {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!("only {} writes acknowledged in 60s", acked.len()));
        }
        match lines.next() {
            Some(Ok(line)) => acked.extend(parse_ack(&line)),
            _ => return Err("the writer child exited early".into()),
        }
    }
    child.kill().map_err(|e| format!("SIGKILL failed: {e}"))?;
    // Lines already written to the pipe were acknowledged before the kill.
    for line in lines.map_while(Result::ok) {
        acked.extend(parse_ack(&line));
    }
    let _ = child.wait();
    verify(dir, &acked, floor)
}

fn parse_ack(line: &str) -> Option<(String, String, i64)> {
    let mut parts = line.splitn(4, ' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("ack"), Some(key), Some(value), Some(revision)) => {
            Some((key.to_string(), value.to_string(), revision.parse().ok()?))
        }
        _ => None,
    }
}

fn verify(
    dir: &std::path::Path,
    acked: &[(String, String, i64)],
    floor: i64,
) -> Result<i64, String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let store = EmbeddedStore::open(dir, Options::default())
            .map_err(|e| format!("reopen after SIGKILL failed: {e}"))?;
        let revision = store.current_revision().await.map_err(|e| e.to_string())?;
        let stored: BTreeMap<String, (Bytes, i64)> = store
            .range(RangeRequest {
                prefix: "/crash/".into(),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?
            .kvs
            .into_iter()
            .map(|kv| (kv.key, (kv.value, kv.mod_revision)))
            .collect();
        let max_acked = acked.iter().map(|(_, _, r)| *r).max().unwrap_or(0);
        if revision < max_acked.max(floor) {
            return Err(format!(
                "revision went back: {revision} after reopen, {max_acked} acknowledged, {floor} before"
            ));
        }
        for (key, value, ack_revision) in acked {
            match stored.get(key) {
                None => return Err(format!("acknowledged write of {key} is lost")),
                Some((_, stored_revision)) if stored_revision < ack_revision => {
                    return Err(format!(
                        "{key} is at revision {stored_revision}, but revision {ack_revision} was acknowledged"
                    ));
                }
                Some((stored_value, stored_revision)) if stored_revision == ack_revision => {
                    if stored_value.as_ref() != value.as_bytes() {
                        return Err(format!("{key} holds another value than acknowledged"));
                    }
                }
                Some(_) => {}
            }
        }
        store.close();
        Ok(revision)
    })
}

/// The child: writers create keys and bump counters until killed.
fn child(dir: &str) {
    let round = std::env::var("KEELSON_CRASH_ROUND").unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        let store: Arc<dyn Store> =
            Arc::new(EmbeddedStore::open(dir, Options::default()).expect("child opens the store"));
        let stdout = Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = store.clone();
                let stdout = stdout.clone();
                let round = round.clone();
                tokio::spawn(async move { write_forever(store, stdout, w, &round).await })
            })
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    });
}

async fn write_forever(
    store: Arc<dyn Store>,
    stdout: Arc<std::sync::Mutex<std::io::Stdout>>,
    writer: usize,
    round: &str,
) {
    let counter = format!("/crash/counter/{writer}");
    let mut n = 0u64;
    loop {
        n += 1;
        let key = format!("/crash/r{round}/w{writer}/{n}");
        let value = format!("v{n}");
        let Ok(kv) = store.create(&key, Bytes::from(value.clone())).await else {
            return;
        };
        ack(&stdout, &key, &value, kv.mod_revision);
        let result = match store.get(&counter).await {
            Ok(Some(current)) => {
                store
                    .update(&counter, Bytes::from(value.clone()), current.mod_revision)
                    .await
            }
            Ok(None) => store.create(&counter, Bytes::from(value.clone())).await,
            Err(_) => return,
        };
        if let Ok(kv) = result {
            ack(&stdout, &counter, &value, kv.mod_revision);
        }
    }
}

fn ack(stdout: &std::sync::Mutex<std::io::Stdout>, key: &str, value: &str, revision: i64) {
    let mut out = stdout.lock().expect("stdout lock");
    let _ = writeln!(out, "ack {key} {value} {revision}");
    let _ = out.flush();
}
