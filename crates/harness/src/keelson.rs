//! keelson's own components as child processes: `keelson up`, `keelson
//! apiserver` and every later component subcommand, started from a binary
//! the caller names (a test passes `env!("CARGO_BIN_EXE_keelson")`, the CLI
//! its own executable).
//!
//! A [`KeelsonProcess`] runs `BINARY SUBCOMMAND --data-dir DIR --listen ADDR
//! ARGS...` on a free loopback address (or a given one) with its own data
//! dir, log file and pid file, and is ready once `GET /readyz` answers 200
//! and, for the components that write one, `DIR/kubeconfig` exists. It can
//! be stopped with SIGTERM and started again on the same data dir and
//! address; dropping it kills the process, and when that happens during a
//! panic the end of its log is printed.
//!
//! The component is taken to serve TLS with the cluster's certificates in
//! `DIR/pki` (`ca.crt`, and `admin.crt` with `admin.key` for the admin's
//! client certificate), as `up` and `apiserver` make them, unless its
//! arguments hold [`INSECURE_PLAIN_HTTP`]: the probe verifies the server
//! with `DIR/pki/ca.crt` (or the file given to
//! [`Builder::server_ca`](crate::Builder)).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use tempfile::TempDir;

use crate::launch::Builder;
use crate::net::{free_loopback_address, http_get, https_get};
use crate::tls::{Identity, client_config};

/// The flag that makes a component serve plain HTTP.
pub const INSECURE_PLAIN_HTTP: &str = "--insecure-serve-plain-http";
use crate::process::{ProcessError, Stopped, Supervised, io_error, retry_port_races};

/// How long a component has to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Options for starting a [`KeelsonProcess`]; see
/// [`KeelsonProcess::builder`]. The data dir, log and pid files, timeout
/// and process group are set as for every launcher ([`Builder`]).
pub type KeelsonBuilder = Builder<KeelsonOptions>;

/// What only a keelson component's builder holds: the command line, the
/// address and what readiness means.
#[derive(Clone, Debug)]
pub struct KeelsonOptions {
    binary: PathBuf,
    subcommand: String,
    args: Vec<OsString>,
    listen: Option<SocketAddr>,
    writes_kubeconfig: bool,
    server_ca: Option<PathBuf>,
    plain_http: bool,
}

impl Builder<KeelsonOptions> {
    /// Probes readiness over plain HTTP although the arguments do not
    /// hold [`INSECURE_PLAIN_HTTP`]: for a component that serves only
    /// its health over HTTP (`controller-manager`).
    pub fn probes_plain_http(mut self, plain: bool) -> Self {
        self.spec.plain_http = plain;
        self
    }

    /// Verifies the server with the CAs in this PEM file instead of
    /// `DIR/pki/ca.crt` (for a component given `--tls-cert-file`).
    pub fn server_ca(mut self, path: impl Into<PathBuf>) -> Self {
        self.spec.server_ca = Some(path.into());
        self
    }

    /// Appends one argument after `--data-dir` and `--listen`.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.spec.args.push(arg.into());
        self
    }

    /// Appends arguments after `--data-dir` and `--listen`.
    pub fn args<I, A>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        self.spec.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Serves on this address instead of a free loopback one.
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.spec.listen = Some(address);
        self
    }

    /// Whether readiness includes `DIR/kubeconfig` existing (default true:
    /// `up` and `apiserver` write it; a component that only reads a
    /// kubeconfig is given one in its arguments and passes false).
    pub fn writes_kubeconfig(mut self, writes: bool) -> Self {
        self.spec.writes_kubeconfig = writes;
        self
    }

    /// Starts the component and waits until it is ready.
    pub async fn start(self) -> Result<KeelsonProcess, ProcessError> {
        let spec = self.spec.clone();
        let name = format!("keelson {}", spec.subcommand);
        let placed = self.place(&format!("keelson-{}-", spec.subcommand), name)?;
        let mut process = KeelsonProcess {
            binary: spec.binary,
            subcommand: spec.subcommand,
            args: spec.args,
            address: spec.listen.unwrap_or(([127, 0, 0, 1], 0).into()),
            data_dir: placed.data_dir,
            startup_timeout: placed.startup_timeout,
            writes_kubeconfig: spec.writes_kubeconfig,
            server_ca: spec.server_ca,
            plain_http: spec.plain_http,
            process: placed.process,
            _temp: placed.temp,
        };
        retry_port_races(async || {
            if spec.listen.is_none() {
                process.address =
                    free_loopback_address().map_err(io_error("find a free loopback port"))?;
            }
            process.spawn_and_wait().await
        })
        .await?;
        Ok(process)
    }
}

/// A running (or stopped) keelson component owned by this process.
///
/// The data dir and address are fixed at start: [`KeelsonProcess::restart`]
/// brings the component back on both. Dropping the value kills the process
/// and removes its data if the directory was temporary.
#[derive(Debug)]
pub struct KeelsonProcess {
    binary: PathBuf,
    subcommand: String,
    args: Vec<OsString>,
    address: SocketAddr,
    data_dir: PathBuf,
    startup_timeout: Duration,
    writes_kubeconfig: bool,
    server_ca: Option<PathBuf>,
    plain_http: bool,
    process: Supervised,
    // Dropped last (after `process` has killed the component), removing the data.
    _temp: Option<TempDir>,
}

impl KeelsonProcess {
    /// Options for running `binary subcommand` (e.g. `up`, `apiserver`).
    pub fn builder(binary: impl Into<PathBuf>, subcommand: impl Into<String>) -> KeelsonBuilder {
        Builder::new(KeelsonOptions {
            binary: binary.into(),
            subcommand: subcommand.into(),
            args: Vec::new(),
            listen: None,
            writes_kubeconfig: true,
            server_ca: None,
            plain_http: false,
        })
    }

    /// The address the component serves on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The component's base URL, `https://127.0.0.1:PORT` (`http://`
    /// when it serves plain HTTP).
    pub fn url(&self) -> String {
        match self.serves_tls() {
            true => format!("https://{}", self.address),
            false => format!("http://{}", self.address),
        }
    }

    /// Whether the component serves TLS (its arguments do not hold
    /// [`INSECURE_PLAIN_HTTP`] and it was not built to probe plain HTTP).
    pub fn serves_tls(&self) -> bool {
        !self.plain_http && !self.args.iter().any(|arg| arg == INSECURE_PLAIN_HTTP)
    }

    /// The CA file clients verify the server with.
    pub fn server_ca(&self) -> PathBuf {
        self.server_ca
            .clone()
            .unwrap_or_else(|| self.data_dir.join("pki/ca.crt"))
    }

    /// A TLS client configuration that verifies the server and presents
    /// the admin's client certificate (`DIR/pki/admin.crt`), offering
    /// `alpn`; `None` when the component serves plain HTTP.
    pub fn tls_client_config(
        &self,
        alpn: &[&[u8]],
    ) -> std::io::Result<Option<std::sync::Arc<rustls::ClientConfig>>> {
        if !self.serves_tls() {
            return Ok(None);
        }
        let pki = self.data_dir.join("pki");
        let (cert, key) = (pki.join("admin.crt"), pki.join("admin.key"));
        let identity = Identity {
            cert: &cert,
            key: &key,
        };
        client_config(&self.server_ca(), Some(identity), alpn).map(Some)
    }

    /// How to open raw HTTP/1.1 connections to the component as the admin
    /// (TLS unless it serves plain HTTP), for requests written by hand.
    pub fn dialer(&self) -> std::io::Result<crate::tls::Dialer> {
        Ok(crate::tls::Dialer {
            address: self.address,
            tls: self.tls_client_config(&[b"http/1.1"])?,
        })
    }

    /// The component's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `DIR/kubeconfig`, the admin kubeconfig `up` and `apiserver` write.
    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir.join("kubeconfig")
    }

    /// The file the component's output is appended to.
    pub fn log_file(&self) -> &Path {
        self.process.log_file()
    }

    /// The file holding the component's pid while it runs.
    pub fn pid_file(&self) -> &Path {
        self.process.pid_file()
    }

    /// The whole log so far, of this start and the earlier ones.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The process id while the component runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Sends SIGTERM and waits (at most 10 s) for the process to exit; one
    /// that does not is killed and reported as [`ProcessError::DidNotStop`].
    pub async fn terminate(&mut self) -> Result<ExitStatus, ProcessError> {
        match self.process.terminate(STOP_GRACE).await? {
            Stopped::Exited(status) => Ok(status),
            Stopped::Killed => Err(self.process.did_not_stop(STOP_GRACE)),
            Stopped::NotRunning => Err(ProcessError::NotRunning {
                name: self.process.name().to_string(),
            }),
        }
    }

    /// Kills the process with SIGKILL and waits for it to exit. A no-op when
    /// not running.
    pub fn kill(&mut self) -> Result<(), ProcessError> {
        self.process.kill()
    }

    /// Starts the component again on the same data dir and address,
    /// stopping it first if it still runs, and waits until it is ready.
    pub async fn restart(&mut self) -> Result<(), ProcessError> {
        if let Stopped::Killed = self.process.terminate(STOP_GRACE).await? {
            return Err(self.process.did_not_stop(STOP_GRACE));
        }
        self.spawn_and_wait().await
    }

    async fn spawn_and_wait(&mut self) -> Result<(), ProcessError> {
        let mut command = Command::new(&self.binary);
        command
            .arg(&self.subcommand)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(self.address.to_string())
            .args(&self.args);
        let address = self.address;
        let kubeconfig = self.writes_kubeconfig.then(|| self.kubeconfig());
        // The CA is made by the component's first start: read at each probe.
        let ca = self.serves_tls().then(|| self.server_ca());
        let ready = move || {
            let (kubeconfig, ca) = (kubeconfig.clone(), ca.clone());
            async move {
                let answer = match ca {
                    None => http_get(address, "/readyz").await,
                    Some(ca) => match client_config(&ca, None, &[]) {
                        Ok(config) => https_get(address, "/readyz", &config).await,
                        Err(_) => None,
                    },
                };
                let serving = answer.is_some_and(|answer| answer.status == 200);
                serving && kubeconfig.is_none_or(|path| path.exists())
            }
        };
        self.process
            .start(command, self.startup_timeout, ready)
            .await
    }
}
