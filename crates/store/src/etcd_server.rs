//! A real `etcd` server run as a child process, for tests, benchmarks and the
//! multi-process harness.
//!
//! [`EtcdProcess`] owns one single-member etcd listening on free loopback
//! ports (client and peer, 127.0.0.1 only) with its own data directory, and
//! can kill, stop and restart it on the same ports and data, so that tests can
//! check what a client sees across an etcd crash. The child never outlives
//! the value: dropping it kills the process.
//!
//! The binary is `etcd` from `PATH` (Debian's `etcd-server` package), or the
//! path in `KEELSON_ETCD_BIN`, or one given to [`EtcdBuilder::binary`]. A
//! missing binary is an error ([`EtcdProcessError::NotFound`]), never a skip.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The environment variable that overrides the path of the `etcd` binary.
pub const ETCD_BIN_ENV: &str = "KEELSON_ETCD_BIN";

/// The largest request etcd accepts: room for a value of
/// [`crate::MAX_VALUE_BYTES`] (1.5 MiB) plus its key and the request framing.
pub const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;

const INSTALL_HINT: &str = "install Debian's etcd-server package (`apt-get install etcd-server`)";
const MEMBER_NAME: &str = "keelson";
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const STOP_GRACE: Duration = Duration::from_secs(10);
const LOG_TAIL_BYTES: u64 = 4096;

/// Why an etcd process could not be started or controlled.
#[derive(Debug, thiserror::Error)]
pub enum EtcdProcessError {
    /// No `etcd` binary where we looked.
    #[error("etcd was not found {where_}: {INSTALL_HINT}")]
    NotFound {
        /// "on PATH", or "at PATH (KEELSON_ETCD_BIN)" / "at PATH" for an explicit binary.
        where_: String,
    },

    /// etcd exited before it answered.
    #[error("etcd exited during startup ({status}); log {log}:\n{tail}")]
    Exited {
        status: ExitStatus,
        log: String,
        tail: String,
    },

    /// etcd did not answer its health check in time.
    #[error("etcd did not become healthy within {timeout:?}; log {log}:\n{tail}")]
    NotReady {
        timeout: Duration,
        log: String,
        tail: String,
    },

    /// Starting, signalling or waiting for the process, or preparing its
    /// directories, failed.
    #[error("failed to {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> EtcdProcessError {
    let action = action.into();
    move |source| EtcdProcessError::Io { action, source }
}

/// Options for starting an [`EtcdProcess`]; see [`EtcdProcess::builder`].
#[derive(Clone, Debug, Default)]
pub struct EtcdBuilder {
    binary: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    log_file: Option<PathBuf>,
    startup_timeout: Option<Duration>,
}

impl EtcdBuilder {
    /// Runs this binary instead of `KEELSON_ETCD_BIN` or `etcd` from `PATH`.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Keeps etcd's data in this directory (created if missing, left in
    /// place afterwards). Without it, a fresh temporary directory is used and
    /// removed when the [`EtcdProcess`] is dropped.
    pub fn data_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(path.into());
        self
    }

    /// Appends etcd's output to this file instead of `<data dir>.log`.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// How long to wait for etcd to answer its health check (default 30 s).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = Some(timeout);
        self
    }

    /// Starts etcd on free loopback ports and waits until it is healthy.
    pub async fn start(self) -> Result<EtcdProcess, EtcdProcessError> {
        let binary = resolve_binary(self.binary)?;
        let (temp, data_dir) = match self.data_dir {
            Some(dir) => (None, dir),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("keelson-etcd-")
                    .tempdir()
                    .map_err(io_error("create a temporary directory for etcd"))?;
                let dir = temp.path().join("data");
                (Some(temp), dir)
            }
        };
        let log_file = self.log_file.unwrap_or_else(|| sibling_log(&data_dir));
        let mut process = EtcdProcess {
            binary,
            data_dir,
            log_file,
            client_port: 0,
            peer_port: 0,
            startup_timeout: self.startup_timeout.unwrap_or(Duration::from_secs(30)),
            child: None,
            _temp: temp,
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
    log_file: PathBuf,
    client_port: u16,
    peer_port: u16,
    startup_timeout: Duration,
    child: Option<Child>,
    // Dropped last (after `Drop::drop` has killed the child), removing the data.
    _temp: Option<TempDir>,
}

impl EtcdProcess {
    /// Starts etcd with a temporary data directory and default options.
    pub async fn start() -> Result<Self, EtcdProcessError> {
        Self::builder().start().await
    }

    /// Options for starting etcd: binary, data directory, log file, timeout.
    pub fn builder() -> EtcdBuilder {
        EtcdBuilder::default()
    }

    /// The client address, `127.0.0.1:PORT` (what etcd-client connects to).
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    /// The store URL for [`crate::open`]: `etcd://127.0.0.1:PORT`.
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
        &self.log_file
    }

    /// The process id while etcd runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// True while the child process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(_))) | Some(Err(_)) | None => false,
        }
    }

    /// Kills etcd with SIGKILL (a crash: nothing is flushed beyond what etcd
    /// already synced) and waits for it to exit. A no-op when not running.
    pub fn kill(&mut self) -> Result<(), EtcdProcessError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        // Fails only when the child already exited, which is what we want.
        let _ = child.kill();
        child.wait().map_err(io_error("wait for etcd to exit"))?;
        Ok(())
    }

    /// Stops etcd gracefully with SIGTERM, falling back to SIGKILL after 10 s.
    /// A no-op when not running.
    pub async fn stop(&mut self) -> Result<(), EtcdProcessError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        // std can only SIGKILL, and unsafe code (libc::kill) is forbidden here.
        let sent = Command::new("kill")
            .args(["-s", "TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if matches!(sent, Ok(status) if status.success()) {
            let deadline = Instant::now() + STOP_GRACE;
            while Instant::now() < deadline {
                match child.try_wait() {
                    Ok(Some(_)) => {
                        self.child = None;
                        return Ok(());
                    }
                    Ok(None) => tokio::time::sleep(POLL_INTERVAL).await,
                    Err(source) => return Err(io_error("wait for etcd to exit")(source)),
                }
            }
        }
        self.kill()
    }

    /// Starts etcd again on the same ports with the same data directory,
    /// stopping it first if it still runs, and waits until it is healthy.
    pub async fn restart(&mut self) -> Result<(), EtcdProcessError> {
        self.stop().await?;
        self.spawn_and_wait().await
    }

    /// The first start picks free ports; another process may grab a port
    /// between our probe and etcd's bind, so a start that dies early is
    /// retried on new ports.
    async fn first_start(&mut self) -> Result<(), EtcdProcessError> {
        // etcd warns about data directories others may read.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.data_dir)
            .map_err(io_error(format!("create {}", self.data_dir.display())))?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.client_port = free_port()?;
            self.peer_port = free_port()?;
            match self.spawn_and_wait().await {
                Err(EtcdProcessError::Exited { tail, .. })
                    if attempts < 3 && tail.contains("address already in use") =>
                {
                    continue;
                }
                other => return other,
            }
        }
    }

    async fn spawn_and_wait(&mut self) -> Result<(), EtcdProcessError> {
        self.spawn()?;
        match self.wait_healthy().await {
            Ok(()) => Ok(()),
            Err(err) => {
                // Never leave a half-started etcd behind.
                let _ = self.kill();
                Err(err)
            }
        }
    }

    fn spawn(&mut self) -> Result<(), EtcdProcessError> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .map_err(io_error(format!("open {}", self.log_file.display())))?;
        let log_err = log
            .try_clone()
            .map_err(io_error(format!("open {}", self.log_file.display())))?;
        let mut command = Command::new(&self.binary);
        command
            .args(self.args())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        // etcd reads its flags from ETCD_* variables too; ours must win.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ETCD_") {
                command.env_remove(name);
            }
        }
        let child = command
            .spawn()
            .map_err(io_error(format!("start {}", self.binary.display())))?;
        self.child = Some(child);
        Ok(())
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

    async fn wait_healthy(&mut self) -> Result<(), EtcdProcessError> {
        let deadline = Instant::now() + self.startup_timeout;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.client_port));
        loop {
            if let Some(status) = self.exit_status()? {
                return Err(EtcdProcessError::Exited {
                    status,
                    log: self.log_file.display().to_string(),
                    tail: log_tail(&self.log_file),
                });
            }
            if is_healthy(addr).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(EtcdProcessError::NotReady {
                    timeout: self.startup_timeout,
                    log: self.log_file.display().to_string(),
                    tail: log_tail(&self.log_file),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    fn exit_status(&mut self) -> Result<Option<ExitStatus>, EtcdProcessError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(None);
        };
        let status = child
            .try_wait()
            .map_err(io_error("check whether etcd is running"))?;
        if status.is_some() {
            self.child = None;
        }
        Ok(status)
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        if let Err(err) = self.kill() {
            tracing::warn!(%err, "failed to kill etcd");
        }
    }
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

/// `<data dir>.log`, beside the data directory rather than in it (etcd warns
/// about unknown files in its data directory).
fn sibling_log(data_dir: &Path) -> PathBuf {
    let mut name = data_dir
        .file_name()
        .map(|name| name.to_os_string())
        .unwrap_or_else(|| "etcd".into());
    name.push(".log");
    data_dir.with_file_name(name)
}

fn free_port() -> Result<u16, EtcdProcessError> {
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).map_err(io_error("find a free loopback port"))?;
    let addr = listener
        .local_addr()
        .map_err(io_error("find a free loopback port"))?;
    Ok(addr.port())
}

/// Asks etcd's `/health` endpoint (plain HTTP on the client port) whether it
/// has a leader and serves requests.
async fn is_healthy(addr: SocketAddr) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let response = String::from_utf8_lossy(&response);
        Some(response.starts_with("HTTP/1.1 200") && response.contains("\"health\":\"true\""))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Some(true))
    )
}

/// The last few KiB of the log, for error messages.
fn log_tail(path: &Path) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|err| format!("(cannot read the log: {err})"))
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

    #[test]
    fn the_log_sits_beside_the_data_dir() {
        assert_eq!(
            sibling_log(Path::new("/tmp/x/data")),
            PathBuf::from("/tmp/x/data.log")
        );
    }
}
