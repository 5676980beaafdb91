//! The harness shared by the end-to-end tests that drive the real kubectl:
//! one `keelson up` process per test on a free loopback port, with its own
//! data dir, kubectl HOME and discovery cache, polled on /readyz, killed on
//! drop and its log printed when the test fails; kubectl runs with a
//! timeout and its outcome is a `Run` that failed assertions print whole.
//!
//! The processes are `keelson_harness`'s ([`KeelsonProcess`] and its
//! kubectl helpers); this module fixes the layout of one test's temp dir
//! and turns the harness's errors into test failures.
//!
//! kubectl is a required tool here: when it is missing the tests fail with
//! instructions, they never skip.

// Each test file includes this module with `mod support;` and so compiles
// it into its own binary, where the helpers (and re-exports) another file
// uses are unused.
#![allow(dead_code, unused_imports)]

use std::process::{Child, Command, ExitStatus};

use keelson_harness::keelson::KeelsonProcess;
use keelson_harness::kubectl::{self, Kubectl};

pub use keelson_harness::kubectl::{Args, Run, drain};

/// One `keelson up` process with its data dir, kubectl HOME and cache dir;
/// killed when dropped.
pub struct Server {
    process: KeelsonProcess,
    kubectl: Kubectl,
    // Dropped after `process` is killed: removes the data dir and the log.
    root: tempfile::TempDir,
    // The harness's launcher is async; these tests are not.
    runtime: tokio::runtime::Runtime,
}

impl Server {
    /// Starts `keelson up` on a free port (the harness retries if another
    /// process took the port between its probe and the server's bind).
    pub fn start() -> Server {
        let root = tempfile::tempdir().expect("a temporary directory can be created");
        std::fs::create_dir(root.path().join("manifests")).expect("the temp dir is writable");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime can be built");
        let started = runtime.block_on(
            KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
                .data_dir(root.path().join("data"))
                .log_file(root.path().join("keelson.log"))
                .pid_file(root.path().join("keelson.pid"))
                .start(),
        );
        let process = started.unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
        let kubectl =
            Kubectl::new(process.kubeconfig(), root.path()).unwrap_or_else(|err| panic!("{err}"));
        Server {
            process,
            kubectl,
            root,
            runtime,
        }
    }

    /// Sends SIGTERM and waits (at most 10 s) for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let stopped = self.runtime.block_on(self.process.terminate());
        stopped.unwrap_or_else(|err| panic!("{err}"))
    }

    /// Starts `keelson up` again on the same data dir and address.
    pub fn restart(&mut self) {
        let restarted = self.runtime.block_on(self.process.restart());
        restarted.unwrap_or_else(|err| panic!("keelson up did not come back: {err}"));
    }

    /// The admin kubeconfig the server wrote.
    pub fn kubeconfig(&self) -> std::path::PathBuf {
        self.process.kubeconfig().to_path_buf()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.process.log()
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
        self.kubectl.command(args)
    }

    /// `keelson ARGS` against this server.
    pub fn keelson(&self, args: &(impl Args + ?Sized)) -> Run {
        let args = args.to_args();
        let mut command = Command::new(env!("CARGO_BIN_EXE_keelson"));
        command
            .arg("--kubeconfig")
            .arg(self.process.kubeconfig())
            .args(&args)
            .env_remove("KUBECONFIG");
        let label = format!("keelson {}", args.join(" "));
        kubectl::run(label, command, kubectl::DEFAULT_TIMEOUT).unwrap_or_else(|err| panic!("{err}"))
    }

    /// Runs kubectl to completion (or kills it after 30 s).
    pub fn kubectl(&self, args: &(impl Args + ?Sized)) -> Run {
        self.kubectl.run(args).unwrap_or_else(|err| panic!("{err}"))
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

/// Starts a kubectl command, failing with install instructions when
/// kubectl is not on PATH.
pub fn spawn_kubectl(command: Command) -> Child {
    kubectl::spawn(command).unwrap_or_else(|err| panic!("{err}"))
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

/// Stand-in nodes running the pods of a `keelson up` (test support: there
/// is no node agent yet), with the runtime that drives them; they stop
/// when dropped.
pub struct Nodes {
    _nodes: keelson_apiserver::stand_in::StandIn,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    /// Starts stand-in nodes `names` against this server, as its admin.
    pub fn stand_in_nodes(&self, names: &[&str]) -> Nodes {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime can be built");
        let kubeconfig = self.kubeconfig();
        let nodes = runtime.block_on(async move {
            let kubeconfig =
                kube::config::Kubeconfig::read_from(kubeconfig).expect("the kubeconfig");
            let options = kube::config::KubeConfigOptions::default();
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .expect("a client configuration");
            let client = kube::Client::try_from(config).expect("a client");
            keelson_apiserver::stand_in::StandIn::start(client, names)
                .await
                .expect("stand-in nodes start")
        });
        Nodes {
            _nodes: nodes,
            _runtime: runtime,
        }
    }
}

/// Runs kubectl until it succeeds with some output (at most 10 s); its
/// output.
pub fn eventually(server: &Server, args: &[&str]) -> String {
    for _ in 0..100 {
        let run = server.kubectl(args);
        if run.status.success() && !run.stdout.trim().is_empty() {
            return run.stdout;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let run = server.kubectl(args);
    panic!("not within 10 s:\n{run}");
}
