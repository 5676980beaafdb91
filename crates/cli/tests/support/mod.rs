//! The harness shared by the end-to-end tests that drive the real kubectl:
//! one `keelson up` process per test on a free loopback port, with its own
//! data dir, kubectl HOME and discovery cache, polled on /readyz, killed on
//! drop and its log printed when the test fails; kubectl runs with a
//! timeout and its outcome is a `Run` that failed assertions print whole.
//!
//! kubectl is a required tool here: when it is missing the tests fail with
//! instructions, they never skip.

// Each test file includes this module with `mod support;` and so compiles
// it into its own binary, where the helpers another file uses are unused.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one kubectl command (other than a watch) may take.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `keelson up` may take to answer /readyz.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The arguments of one command: a line is split on whitespace (for lines
/// whose arguments contain none), a list of arguments is taken as it is.
pub trait Args {
    fn to_args(&self) -> Vec<String>;
}

impl Args for str {
    fn to_args(&self) -> Vec<String> {
        self.split_whitespace().map(String::from).collect()
    }
}

impl Args for String {
    fn to_args(&self) -> Vec<String> {
        self.as_str().to_args()
    }
}

impl Args for [&str] {
    fn to_args(&self) -> Vec<String> {
        self.iter().map(|arg| arg.to_string()).collect()
    }
}

impl<const N: usize> Args for [&str; N] {
    fn to_args(&self) -> Vec<String> {
        self.as_slice().to_args()
    }
}

/// One `keelson up` process with its data dir, kubectl HOME and cache dir;
/// killed when dropped.
pub struct Server {
    child: Child,
    root: tempfile::TempDir,
    address: SocketAddr,
}

impl Server {
    /// Starts `keelson up` on a free port, retrying if another process took
    /// the port between our probe and the server's bind.
    pub fn start() -> Server {
        for _ in 0..3 {
            let mut server = Server::spawn(fresh_root());
            match server.wait_ready() {
                Ok(()) => return server,
                Err(log) if log.contains("cannot listen") => continue,
                Err(log) => panic!("keelson up exited before it was ready: {log}"),
            }
        }
        panic!("keelson up found no free port in 3 attempts")
    }

    fn spawn(root: tempfile::TempDir) -> Server {
        let address = free_address();
        let log =
            std::fs::File::create(root.path().join("keelson.log")).expect("temp dir is writable");
        let child = Command::new(env!("CARGO_BIN_EXE_keelson"))
            .arg("up")
            .arg("--data-dir")
            .arg(root.path().join("data"))
            .arg("--listen")
            .arg(address.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log file handle can be cloned"))
            .stderr(log)
            .spawn()
            .expect("the keelson binary starts");
        Server {
            child,
            root,
            address,
        }
    }

    /// Polls /readyz; `Err(log)` if the process exited first.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return Err(format!("exit {status}\n{}", self.log()));
            }
            if readyz(self.address) && self.root.path().join("data/kubeconfig").exists() {
                return Ok(());
            }
            assert!(
                Instant::now() < deadline,
                "keelson up did not answer GET /readyz with 200 within {READY_TIMEOUT:?}:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits (at most 10 s) for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "keelson up did not stop within 10s of SIGTERM:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts `keelson up` again on the same data dir and address.
    pub fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.root.path().join("keelson.log"))
            .expect("the log exists");
        self.child = Command::new(env!("CARGO_BIN_EXE_keelson"))
            .arg("up")
            .arg("--data-dir")
            .arg(self.root.path().join("data"))
            .arg("--listen")
            .arg(self.address.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log file handle can be cloned"))
            .stderr(log)
            .spawn()
            .expect("the keelson binary starts");
        if let Err(log) = self.wait_ready() {
            panic!("keelson up did not come back: {log}");
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("keelson.log")).unwrap_or_default()
    }

    /// Writes a manifest into the temp dir and returns its path.
    pub fn manifest(&self, file: &str, text: &str) -> String {
        let path = self.root.path().join("manifests").join(file);
        std::fs::write(&path, text).expect("the temp dir is writable");
        let path = path.to_str().expect("temp paths are UTF-8").to_string();
        assert!(
            !path.contains(char::is_whitespace),
            "kubectl lines split on whitespace: {path}"
        );
        path
    }

    /// `kubectl ARGS` against this server, with a fresh HOME and cache dir.
    pub fn command(&self, args: &(impl Args + ?Sized)) -> Command {
        let mut command = Command::new("kubectl");
        command
            .env("HOME", self.root.path().join("home"))
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(self.root.path().join("data/kubeconfig"))
            .arg("--cache-dir")
            .arg(self.root.path().join("cache"))
            .args(args.to_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// `keelson ARGS` against this server.
    pub fn keelson(&self, args: &(impl Args + ?Sized)) -> Run {
        let args = args.to_args();
        let output = Command::new(env!("CARGO_BIN_EXE_keelson"))
            .arg("--kubeconfig")
            .arg(self.root.path().join("data/kubeconfig"))
            .args(&args)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("the keelson binary runs");
        Run {
            command: format!("keelson {}", args.join(" ")),
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs kubectl to completion (or kills it after `KUBECTL_TIMEOUT`).
    pub fn kubectl(&self, args: &(impl Args + ?Sized)) -> Run {
        let command = format!("kubectl {}", args.to_args().join(" "));
        let mut child = spawn_kubectl(self.command(args));
        let stdout = drain(child.stdout.take().expect("stdout is piped"));
        let stderr = drain(child.stderr.take().expect("stderr is piped"));
        let deadline = Instant::now() + KUBECTL_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("kubectl can be polled") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`{command}` did not finish within {KUBECTL_TIMEOUT:?}\nstdout:\n{}\nstderr:\n{}",
                    stdout.join().unwrap_or_default(),
                    stderr.join().unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        Run {
            command,
            status,
            stdout: stdout.join().expect("the stdout reader does not panic"),
            stderr: stderr.join().expect("the stderr reader does not panic"),
        }
    }

    /// Runs kubectl, asserts it succeeded and returns its stdout.
    pub fn ok(&self, args: &(impl Args + ?Sized)) -> String {
        let run = self.kubectl(args);
        assert!(run.status.success(), "expected success\n{run}");
        run.stdout
    }

    /// Runs kubectl, asserting it succeeds and prints exactly `expected`.
    pub fn prints(&self, args: &(impl Args + ?Sized), expected: &str) {
        let run = self.kubectl(args);
        assert!(
            run.status.success() && run.stdout.trim() == expected,
            "expected the output {expected:?}\n{run}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("--- keelson up log ---\n{}", self.log());
        }
    }
}

/// The outcome of one command, printed in full by failed assertions.
pub struct Run {
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command: {}\nexit: {}\nstdout:\n{}\nstderr:\n{}",
            self.command, self.status, self.stdout, self.stderr
        )
    }
}

/// Starts a kubectl command, failing with install instructions when
/// kubectl is not on PATH.
pub fn spawn_kubectl(mut command: Command) -> Child {
    match command.spawn() {
        Ok(child) => child,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => panic!(
            "kubectl is not on PATH, and these end-to-end tests need the real kubectl \
             (they never skip). Install it, e.g. `apt-get install kubectl` from the \
             Kubernetes apt repository (https://pkgs.k8s.io), `gcloud components install \
             kubectl`, or `curl -LO https://dl.k8s.io/release/v1.33.0/bin/linux/amd64/kubectl \
             && install kubectl /usr/local/bin/`."
        ),
        Err(err) => panic!("cannot start kubectl: {err}"),
    }
}

/// Reads a pipe to its end on a thread.
pub fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A temp dir with `home`, `cache` and `manifests` made.
fn fresh_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a temporary directory can be created");
    for dir in ["home", "cache", "manifests"] {
        std::fs::create_dir(root.path().join(dir)).expect("the temp dir is writable");
    }
    root
}

/// A loopback address that was free a moment ago.
fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
    listener
        .local_addr()
        .expect("a bound socket has an address")
}

/// Whether `GET /readyz` answers 200.
fn readyz(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

/// The table row whose first column is `name`, split into columns.
pub fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|columns| columns.first() == Some(&name))
        .unwrap_or_else(|| panic!("no row {name} in:\n{table}"))
}

/// The header row of a table, split into columns.
pub fn header(table: &str) -> Vec<&str> {
    table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect()
}
