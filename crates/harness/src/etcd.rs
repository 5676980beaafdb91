//! A real `etcd` server run as a child process, for tests, benchmarks and
//! multi-process clusters.
//!
//! [`EtcdProcess`] owns one single-member etcd listening on free loopback
//! ports (client and peer, 127.0.0.1 only) with its own data directory, log
//! file and pid file, and can kill, stop and restart it on the same ports and
//! data, so that tests can check what a client sees across an etcd crash. The
//! child never outlives the value: dropping it kills the process.
//!
//! The binary is `etcd` from `PATH` (Debian's `etcd-server` package), or the
//! path in `KEELSON_ETCD_BIN`, or one given to [`EtcdBuilder::binary`]. A
//! missing binary is an error ([`EtcdProcessError::NotFound`]), never a skip.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::launch::Builder;
use crate::net::{free_loopback_address, http_get};
use crate::process::{ProcessError, Supervised, io_error, retry_port_races};

/// The environment variable that overrides the path of the `etcd` binary.
pub const ETCD_BIN_ENV: &str = "KEELSON_ETCD_BIN";

/// The largest request etcd accepts (`--max-request-bytes`): room for the
/// keelson store's largest value (`keelson_store::MAX_VALUE_BYTES`, 1.5 MiB)
/// plus its key and the request framing. The store's tests check that the
/// two agree.
pub const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;

const INSTALL_HINT: &str = "install Debian's etcd-server package (`apt-get install etcd-server`)";
const MEMBER_NAME: &str = "keelson";
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Why an etcd process could not be started or controlled.
#[derive(Debug, thiserror::Error)]
pub enum EtcdProcessError {
    /// No `etcd` binary where we looked.
    #[error("etcd was not found {where_}: {INSTALL_HINT}")]
    NotFound {
        /// "on PATH", or "at PATH (KEELSON_ETCD_BIN)" / "at PATH" for an explicit binary.
        where_: String,
    },

    /// etcd exited during startup, did not become healthy in time, or
    /// starting, signalling or waiting for it failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
}

/// Options for starting an [`EtcdProcess`]; see [`EtcdProcess::builder`].
/// The data dir, log and pid files, timeout and process group are set as
/// for every launcher ([`Builder`]).
pub type EtcdBuilder = Builder<EtcdOptions>;

/// What only etcd's builder holds: the binary.
#[derive(Clone, Debug, Default)]
pub struct EtcdOptions {
    binary: Option<PathBuf>,
}

impl Builder<EtcdOptions> {
    /// Runs this binary instead of `KEELSON_ETCD_BIN` or `etcd` from `PATH`.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.spec.binary = Some(path.into());
        self
    }

    /// Starts etcd on free loopback ports and waits until it is healthy.
    pub async fn start(self) -> Result<EtcdProcess, EtcdProcessError> {
        let binary = resolve_binary(self.spec.binary.clone())?;
        let placed = self.place("keelson-etcd-", "etcd".to_string())?;
        let mut process = EtcdProcess {
            binary,
            data_dir: placed.data_dir,
            client_port: 0,
            peer_port: 0,
            startup_timeout: placed.startup_timeout,
            process: placed.process,
            _temp: placed.temp,
        };
        process.first_start().await?;
        Ok(process)
    }
}

/// A running (or stopped) single-member etcd server owned by this process.
///
/// The ports and data directory are fixed at start: [`EtcdProcess::restart`]
/// brings etcd back at the same address with the same data. Dropping the
/// value kills etcd and removes its data directory if it was temporary.
#[derive(Debug)]
pub struct EtcdProcess {
    binary: PathBuf,
    data_dir: PathBuf,
    client_port: u16,
    peer_port: u16,
    startup_timeout: Duration,
    process: Supervised,
    // Dropped last (after `process` has killed etcd), removing the data.
    _temp: Option<TempDir>,
}

impl EtcdProcess {
    /// Starts etcd with a temporary data directory and default options.
    pub async fn start() -> Result<Self, EtcdProcessError> {
        Self::builder().start().await
    }

    /// Options for starting etcd: binary, data directory, log and pid files,
    /// timeout.
    pub fn builder() -> EtcdBuilder {
        Builder::new(EtcdOptions::default())
    }

    /// The client address, `127.0.0.1:PORT` (what etcd-client connects to).
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    /// The keelson store URL of this etcd: `etcd://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("etcd://{}", self.endpoint())
    }

    /// The client port.
    pub fn client_port(&self) -> u16 {
        self.client_port
    }

    /// The peer (raft) port.
    pub fn peer_port(&self) -> u16 {
        self.peer_port
    }

    /// etcd's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The file etcd's output is appended to.
    pub fn log_file(&self) -> &Path {
        self.process.log_file()
    }

    /// The file holding etcd's pid while it runs.
    pub fn pid_file(&self) -> &Path {
        self.process.pid_file()
    }

    /// The process id while etcd runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// True while the child process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Kills etcd with SIGKILL (a crash: nothing is flushed beyond what etcd
    /// already synced) and waits for it to exit. A no-op when not running.
    pub fn kill(&mut self) -> Result<(), EtcdProcessError> {
        Ok(self.process.kill()?)
    }

    /// Stops etcd gracefully with SIGTERM, falling back to SIGKILL after 10 s.
    /// A no-op when not running.
    pub async fn stop(&mut self) -> Result<(), EtcdProcessError> {
        self.process.terminate(STOP_GRACE).await?;
        Ok(())
    }

    /// Starts etcd again on the same ports with the same data directory,
    /// stopping it first if it still runs, and waits until it is healthy.
    pub async fn restart(&mut self) -> Result<(), EtcdProcessError> {
        self.stop().await?;
        Ok(self.spawn_and_wait().await?)
    }

    /// The first start picks free ports, and new ones when another process
    /// took one before etcd bound it.
    async fn first_start(&mut self) -> Result<(), EtcdProcessError> {
        retry_port_races(async || {
            self.client_port = free_port()?;
            self.peer_port = free_port()?;
            self.spawn_and_wait().await
        })
        .await?;
        Ok(())
    }

    async fn spawn_and_wait(&mut self) -> Result<(), ProcessError> {
        let mut command = Command::new(&self.binary);
        command.args(self.args());
        // etcd reads its flags from ETCD_* variables too; ours must win.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ETCD_") {
                command.env_remove(name);
            }
        }
        let addr = ([127, 0, 0, 1], self.client_port).into();
        let healthy = move || async move {
            // etcd's `/health` (plain HTTP on the client port) says whether
            // it has a leader and serves requests.
            http_get(addr, "/health").await.is_some_and(|answer| {
                answer.status == 200 && answer.body.contains(r#""health":"true""#)
            })
        };
        self.process
            .start(command, self.startup_timeout, healthy)
            .await
    }

    fn args(&self) -> Vec<String> {
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        vec![
            format!("--name={MEMBER_NAME}"),
            format!("--data-dir={}", self.data_dir.display()),
            format!("--listen-client-urls={client}"),
            format!("--advertise-client-urls={client}"),
            format!("--listen-peer-urls={peer}"),
            format!("--initial-advertise-peer-urls={peer}"),
            format!("--initial-cluster={MEMBER_NAME}={peer}"),
            "--initial-cluster-state=new".to_string(),
            format!("--max-request-bytes={MAX_REQUEST_BYTES}"),
            "--logger=zap".to_string(),
            "--log-outputs=stderr".to_string(),
            "--log-level=warn".to_string(),
        ]
    }
}

fn free_port() -> Result<u16, ProcessError> {
    let address = free_loopback_address().map_err(io_error("find a free loopback port"))?;
    Ok(address.port())
}

/// The binary to run: an explicit path, else `KEELSON_ETCD_BIN`, else `etcd`
/// from `PATH`.
fn resolve_binary(explicit: Option<PathBuf>) -> Result<PathBuf, EtcdProcessError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    resolve_binary_in(explicit, std::env::var_os(ETCD_BIN_ENV), &path)
}

/// [`resolve_binary`] with the environment passed in, for tests.
fn resolve_binary_in(
    explicit: Option<PathBuf>,
    from_env: Option<OsString>,
    search_path: &OsStr,
) -> Result<PathBuf, EtcdProcessError> {
    let (path, source) = match (explicit, from_env) {
        (Some(path), _) => (path, None),
        (None, Some(path)) if !path.is_empty() => (PathBuf::from(path), Some(ETCD_BIN_ENV)),
        (None, _) => {
            return std::env::split_paths(search_path)
                .map(|dir| dir.join("etcd"))
                .find(|candidate| is_executable(candidate))
                .ok_or_else(|| EtcdProcessError::NotFound {
                    where_: "on PATH".to_string(),
                });
        }
    };
    if is_executable(&path) {
        return Ok(path);
    }
    let where_ = match source {
        Some(var) => format!("at {} (set by {var})", path.display()),
        None => format!("at {}", path.display()),
    };
    Err(EtcdProcessError::NotFound { where_ })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_binary_says_how_to_install_etcd() {
        let hint = "install Debian's etcd-server package (`apt-get install etcd-server`)";
        let cases = [
            (
                Some("/nonexistent/etcd"),
                None,
                "/usr/bin",
                "at /nonexistent/etcd",
            ),
            (
                None,
                Some("/nonexistent"),
                "/usr/bin",
                "at /nonexistent (set by KEELSON_ETCD_BIN)",
            ),
            (None, None, "/nonexistent:/also-not", "on PATH"),
            (None, Some(""), "/nonexistent", "on PATH"),
        ];
        for (explicit, from_env, search_path, where_) in cases {
            let err = resolve_binary_in(
                explicit.map(PathBuf::from),
                from_env.map(OsString::from),
                OsStr::new(search_path),
            )
            .expect_err("no etcd there");
            assert_eq!(
                err.to_string(),
                format!("etcd was not found {where_}: {hint}")
            );
        }
    }

    #[test]
    fn a_binary_on_path_is_found() {
        let dir = tempfile::tempdir().expect("temp dir");
        let etcd = dir.path().join("etcd");
        std::fs::write(&etcd, "#!/bin/sh\n").expect("write a fake etcd");
        std::fs::set_permissions(&etcd, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("make it executable");
        let search_path = std::env::join_paths(["/nonexistent", &dir.path().display().to_string()])
            .expect("a valid PATH");
        let found = resolve_binary_in(None, None, &search_path).expect("found on PATH");
        assert_eq!(found, etcd);
    }
}
