//! `kubectl create <kind>` end to end: kubectl 1.32+ sends these bodies in
//! protobuf only (`application/vnd.kubernetes.protobuf`), so each command
//! succeeding against `keelson up`, and `kubectl get -o json` then showing
//! the fields it asked for, is what a user of the real kubectl needs.
//!
//! kubectl is a required tool here: when it is missing the tests fail with
//! instructions, they never skip.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one kubectl command may take.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `keelson up` may take to answer /readyz.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// One `keelson up` process with its data dir, kubectl HOME and cache dir;
/// killed when dropped.
struct Server {
    child: Child,
    root: tempfile::TempDir,
    address: SocketAddr,
}

impl Server {
    /// Starts `keelson up` on a free port, retrying if another process took
    /// the port between our probe and the server's bind.
    fn start() -> Server {
        for _ in 0..3 {
            let mut server = Server::spawn();
            match server.wait_ready() {
                Ok(()) => return server,
                Err(log) if log.contains("cannot listen") => continue,
                Err(log) => panic!("keelson up exited before it was ready: {log}"),
            }
        }
        panic!("keelson up found no free port in 3 attempts")
    }

    fn spawn() -> Server {
        let root = tempfile::tempdir().expect("a temporary directory can be created");
        for dir in ["home", "cache"] {
            std::fs::create_dir(root.path().join(dir)).expect("the temp dir is writable");
        }
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

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("keelson.log")).unwrap_or_default()
    }

    /// Runs `kubectl ARGS` against this server, with a fresh HOME and cache
    /// dir, to completion (or kills it after `KUBECTL_TIMEOUT`).
    fn kubectl(&self, args: &[&str]) -> Run {
        let mut command = Command::new("kubectl");
        command
            .env("HOME", self.root.path().join("home"))
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(self.root.path().join("data/kubeconfig"))
            .arg("--cache-dir")
            .arg(self.root.path().join("cache"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let line = format!("kubectl {}", args.join(" "));
        let mut child = spawn_kubectl(command);
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
                panic!("`{line}` did not finish within {KUBECTL_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(10));
        };
        Run {
            command: line,
            status,
            stdout: stdout.join().expect("the stdout reader does not panic"),
            stderr: stderr.join().expect("the stderr reader does not panic"),
        }
    }

    /// Runs kubectl, asserts it succeeded and returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.kubectl(args);
        assert!(run.status.success(), "expected success\n{run}");
        run.stdout
    }

    /// `kubectl get KIND NAME -n x -o json`, parsed.
    fn get(&self, kind: &str, name: &str) -> Value {
        let out = self.ok(&["get", kind, name, "-n", "x", "-o", "json"]);
        serde_json::from_str(&out).unwrap_or_else(|err| panic!("not JSON ({err}):\n{out}"))
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

/// The outcome of one kubectl command, printed in full by failed assertions.
struct Run {
    command: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
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

fn spawn_kubectl(mut command: Command) -> Child {
    match command.spawn() {
        Ok(child) => child,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => panic!(
            "kubectl is not on PATH, and these end-to-end tests need the real kubectl \
             (they never skip). Install it, e.g. `apt-get install kubectl` from the \
             Kubernetes apt repository (https://pkgs.k8s.io)."
        ),
        Err(err) => panic!("cannot start kubectl: {err}"),
    }
}

/// Reads a pipe to its end on a thread.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
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

/// A server with namespace x, created by `kubectl create namespace`, whose
/// body is checked to be protobuf.
fn server_with_namespace() -> Server {
    let server = Server::start();
    let run = server.kubectl(&["create", "namespace", "x", "-v=8"]);
    assert!(run.status.success(), "expected success\n{run}");
    assert!(
        run.stderr
            .contains("Content-Type: application/vnd.kubernetes.protobuf"),
        "kubectl create is expected to send protobuf\n{run}"
    );
    assert!(run.stdout.contains("namespace/x created"), "{run}");
    let namespace = server.get("namespace", "x");
    assert_eq!(namespace["metadata"]["name"], "x");
    assert_eq!(namespace["status"]["phase"], "Active");
    server
}

#[test]
fn kubectl_create_workloads() {
    let server = server_with_namespace();

    let out = server.ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=2",
        "-n",
        "x",
    ]);
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let deployment = server.get("deployment", "web");
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], 2, "{deployment}");
    assert_eq!(
        spec["selector"]["matchLabels"]["app"], "web",
        "{deployment}"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["containers"][0]["name"], "nginx", "{deployment}");
    assert_eq!(pod["containers"][0]["image"], "nginx:1.27", "{deployment}");
    // Go writes every unset field as its zero value; defaults still apply.
    assert_eq!(pod["restartPolicy"], "Always", "{deployment}");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst", "{deployment}");
    assert_eq!(
        pod["containers"][0]["terminationMessagePath"], "/dev/termination-log",
        "{deployment}"
    );
    assert_eq!(spec["strategy"]["type"], "RollingUpdate", "{deployment}");

    let out = server.ok(&[
        "create",
        "job",
        "once",
        "--image=busybox:1.36",
        "-n",
        "x",
        "--",
        "echo",
        "hi",
    ]);
    assert!(out.contains("job.batch/once created"), "{out}");
    let job = server.get("job", "once");
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never", "{job}");
    assert_eq!(pod["containers"][0]["image"], "busybox:1.36", "{job}");
    assert_eq!(
        pod["containers"][0]["command"],
        serde_json::json!(["echo", "hi"]),
        "{job}"
    );

    let out = server.ok(&[
        "create",
        "cronjob",
        "tick",
        "--image=busybox:1.36",
        "--schedule=*/5 * * * *",
        "-n",
        "x",
        "--",
        "date",
    ]);
    assert!(out.contains("cronjob.batch/tick created"), "{out}");
    let cron_job = server.get("cronjob", "tick");
    assert_eq!(cron_job["spec"]["schedule"], "*/5 * * * *", "{cron_job}");
    let pod = &cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "OnFailure", "{cron_job}");
    assert_eq!(
        pod["containers"][0]["command"],
        serde_json::json!(["date"]),
        "{cron_job}"
    );
}

#[test]
fn kubectl_create_config_and_services() {
    let server = server_with_namespace();

    let out = server.ok(&[
        "create",
        "configmap",
        "app",
        "--from-literal=mode=fast",
        "--from-literal=empty=",
        "-n",
        "x",
    ]);
    assert!(out.contains("configmap/app created"), "{out}");
    let config_map = server.get("configmap", "app");
    assert_eq!(
        config_map["data"],
        serde_json::json!({"mode": "fast", "empty": ""}),
        "{config_map}"
    );

    let out = server.ok(&[
        "create",
        "secret",
        "generic",
        "creds",
        "--from-literal=password=s3cr3t!",
        "-n",
        "x",
    ]);
    assert!(out.contains("secret/creds created"), "{out}");
    let secret = server.get("secret", "creds");
    assert_eq!(secret["type"], "Opaque", "{secret}");
    // base64 of "s3cr3t!"
    assert_eq!(secret["data"]["password"], "czNjcjN0IQ==", "{secret}");

    let out = server.ok(&[
        "create",
        "service",
        "clusterip",
        "web",
        "--tcp=80:8080",
        "-n",
        "x",
    ]);
    assert!(out.contains("service/web created"), "{out}");
    let service = server.get("service", "web");
    let spec = &service["spec"];
    assert_eq!(spec["type"], "ClusterIP", "{service}");
    assert_eq!(spec["selector"]["app"], "web", "{service}");
    let port = &spec["ports"][0];
    assert_eq!(port["port"], 80, "{service}");
    assert_eq!(port["targetPort"], 8080, "{service}");
    assert_eq!(port["protocol"], "TCP", "{service}");
    assert_eq!(port["name"], "80-8080", "{service}");

    let out = server.ok(&["create", "serviceaccount", "robot", "-n", "x"]);
    assert!(out.contains("serviceaccount/robot created"), "{out}");
    let account = server.get("serviceaccount", "robot");
    assert_eq!(account["metadata"]["namespace"], "x", "{account}");

    let listed = server.ok(&[
        "get",
        "configmaps,secrets,services,serviceaccounts",
        "-n",
        "x",
        "-o",
        "name",
    ]);
    for name in [
        "configmap/app",
        "secret/creds",
        "service/web",
        "serviceaccount/robot",
    ] {
        assert!(
            listed.lines().any(|line| line == name),
            "{name} in:\n{listed}"
        );
    }
}
