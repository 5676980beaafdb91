//! End-to-end server-side apply with the real kubectl against `keelson up`:
//! `kubectl apply --server-side` creates, conflicts between field
//! managers, `--force-conflicts`, removal of fields a manager alone owned,
//! and the upgrade of an object made by client-side `kubectl apply`; and
//! keelson's own `apply --server-side` and `patch`, checked with kubectl.
//! The harness is the one of `kubectl_e2e.rs` (fresh HOME and discovery
//! cache per server); kubectl is required, never skipped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long one kubectl command (other than a watch) may take.
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

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("keelson.log")).unwrap_or_default()
    }

    /// Writes a manifest into the temp dir and returns its path.
    fn manifest(&self, file: &str, text: &str) -> String {
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
    /// `line` is split on whitespace: no argument in these tests contains any.
    fn command(&self, line: &str) -> Command {
        let mut command = Command::new("kubectl");
        command
            .env("HOME", self.root.path().join("home"))
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(self.root.path().join("data/kubeconfig"))
            .arg("--cache-dir")
            .arg(self.root.path().join("cache"))
            .args(line.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// `keelson ARGS` against this server (split on whitespace).
    fn keelson(&self, line: &str) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_keelson"))
            .arg("--kubeconfig")
            .arg(self.root.path().join("data/kubeconfig"))
            .args(line.split_whitespace())
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("the keelson binary runs");
        Run {
            command: format!("keelson {line}"),
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs kubectl to completion (or kills it after `KUBECTL_TIMEOUT`).
    fn kubectl(&self, line: &str) -> Run {
        let command = format!("kubectl {line}");
        let mut child = spawn_kubectl(self.command(line));
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
    fn ok(&self, line: &str) -> String {
        let run = self.kubectl(line);
        assert!(run.status.success(), "expected success\n{run}");
        run.stdout
    }

    /// Runs kubectl, asserting it succeeds and prints exactly `expected`.
    fn prints(&self, line: &str, expected: &str) {
        let run = self.kubectl(line);
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
             Kubernetes apt repository (https://pkgs.k8s.io), `gcloud components install \
             kubectl`, or `curl -LO https://dl.k8s.io/release/v1.33.0/bin/linux/amd64/kubectl \
             && install kubectl /usr/local/bin/`."
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

/// The JSON of `kubectl get TARGET -o json`.
fn get_json(server: &Server, target: &str) -> Value {
    let text = server.ok(&format!("get {target} -o json --show-managed-fields"));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}

/// `manager/operation` of each managedFields entry.
fn managers(object: &Value) -> Vec<String> {
    let mut all: Vec<String> = object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{}/{}",
                e["manager"].as_str().unwrap_or(""),
                e["operation"].as_str().unwrap_or("")
            )
        })
        .collect();
    all.sort();
    all
}

/// The fieldsV1 of `manager`'s entry.
fn fields_of(object: &Value, manager: &str) -> Value {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["manager"] == manager)
        .map_or(Value::Null, |e| e["fieldsV1"].clone())
}

fn config_map(data: &[(&str, &str)]) -> String {
    let mut text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n".to_string();
    for (key, value) in data {
        text.push_str(&format!("  {key}: \"{value}\"\n"));
    }
    text
}

#[test]
fn server_side_apply_conflicts_force_and_removal() {
    let server = Server::start();
    let mine = server.manifest(
        "mine.yaml",
        &config_map(&[("colour", "blue"), ("size", "m")]),
    );
    server.prints(
        &format!("apply --server-side -f {mine}"),
        "configmap/settings serverside-applied",
    );
    let object = get_json(&server, "configmap/settings");
    assert_eq!(managers(&object), ["kubectl/Apply"]);

    // Another manager changing a key kubectl owns conflicts.
    let theirs = server.manifest(
        "theirs.yaml",
        &config_map(&[("size", "xl"), ("extra", "1")]),
    );
    let run = server.kubectl(&format!(
        "apply --server-side --field-manager=other -f {theirs}"
    ));
    assert!(!run.status.success(), "expected a conflict\n{run}");
    assert!(run.stderr.contains("conflict"), "{run}");
    assert!(run.stderr.contains(".data.size"), "{run}");
    let object = get_json(&server, "configmap/settings");
    assert_eq!(
        object["data"]["size"], "m",
        "a refused apply changes nothing"
    );

    // Forced, the other manager takes the key; both managers' fields stay.
    server.prints(
        &format!("apply --server-side --field-manager=other --force-conflicts -f {theirs}"),
        "configmap/settings serverside-applied",
    );
    let object = get_json(&server, "configmap/settings");
    assert_eq!(
        object["data"],
        json!({"colour": "blue", "size": "xl", "extra": "1"})
    );
    assert_eq!(
        fields_of(&object, "kubectl"),
        json!({"f:data": {"f:colour": {}}})
    );
    assert_eq!(
        fields_of(&object, "other"),
        json!({"f:data": {"f:extra": {}, "f:size": {}}})
    );

    // kubectl re-applies without `colour`, which it alone owned: it goes.
    let smaller = server.manifest("smaller.yaml", &config_map(&[("shape", "round")]));
    server.prints(
        &format!("apply --server-side -f {smaller}"),
        "configmap/settings serverside-applied",
    );
    let object = get_json(&server, "configmap/settings");
    assert_eq!(
        object["data"],
        json!({"size": "xl", "extra": "1", "shape": "round"})
    );
}

fn deployment(replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
"
    )
}

#[test]
fn client_side_apply_upgrades_to_server_side_apply() {
    let server = Server::start();
    let path = server.manifest("web.yaml", &deployment(2));
    server.prints(&format!("apply -f {path}"), "deployment.apps/web created");
    let object = get_json(&server, "deployment/web");
    assert!(
        managers(&object).contains(&"kubectl-client-side-apply/Update".to_string()),
        "{:?}",
        managers(&object)
    );

    // A changed replica count whose old value client-side apply set is
    // taken without --force-conflicts, as upstream allows kubectl.
    let path = server.manifest("web.yaml", &deployment(3));
    server.prints(
        &format!("apply --server-side -f {path}"),
        "deployment.apps/web serverside-applied",
    );
    let object = get_json(&server, "deployment/web");
    assert_eq!(object["spec"]["replicas"], 3);
    let all = managers(&object);
    assert!(all.contains(&"kubectl/Apply".to_string()), "{all:?}");
    assert!(
        !all.contains(&"kubectl-client-side-apply/Update".to_string()),
        "kubectl moved client-side apply's fields to its apply entry: {all:?}"
    );
    let kubectl = fields_of(&object, "kubectl");
    assert!(kubectl["f:spec"].get("f:replicas").is_some(), "{kubectl}");
    let annotation =
        object["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .expect("the annotation stays");
    let last: Value = serde_json::from_str(annotation).expect("JSON");
    assert_eq!(
        last["spec"]["replicas"], 3,
        "the server keeps it up to date"
    );

    // Someone else scales; kubectl's stale value now conflicts.
    server.ok("scale deployment/web --replicas=5");
    let path = server.manifest("web.yaml", &deployment(4));
    let run = server.kubectl(&format!("apply --server-side -f {path}"));
    assert!(!run.status.success(), "expected a conflict\n{run}");
    assert!(run.stderr.contains("conflict"), "{run}");
    assert!(run.stderr.contains(".spec.replicas"), "{run}");
}

#[test]
fn keelson_applies_server_side_and_patches() {
    let server = Server::start();
    let mine = server.manifest("mine.yaml", &config_map(&[("colour", "blue")]));
    let run = server.keelson(&format!("apply --server-side -f {mine} --dry-run=server"));
    assert!(run.status.success(), "{run}");
    assert_eq!(
        run.stdout.trim(),
        "configmap/settings serverside-applied (server dry run)"
    );
    assert!(
        !server.kubectl("get configmap/settings").status.success(),
        "a dry run stores nothing"
    );
    let run = server.keelson(&format!("apply --server-side -f {mine}"));
    assert_eq!(
        run.stdout.trim(),
        "configmap/settings serverside-applied",
        "{run}"
    );
    let object = get_json(&server, "configmap/settings");
    assert_eq!(managers(&object), ["keelson/Apply"]);

    let theirs = server.manifest("theirs.yaml", &config_map(&[("colour", "red")]));
    let run = server.keelson(&format!(
        "apply --server-side --field-manager=other -f {theirs}"
    ));
    assert!(!run.status.success(), "{run}");
    assert!(run.stderr.contains("conflict with \"keelson\""), "{run}");
    let run = server.keelson(&format!(
        "apply --server-side --field-manager=other --force-conflicts -f {theirs}"
    ));
    assert!(run.status.success(), "{run}");
    assert_eq!(
        get_json(&server, "configmap/settings")["data"]["colour"],
        "red"
    );

    for (kind, patch, value) in [
        ("merge", r#"{"data":{"colour":"green"}}"#, "green"),
        ("strategic", r#"{"data":{"colour":"cyan"}}"#, "cyan"),
        (
            "json",
            r#"[{"op":"replace","path":"/data/colour","value":"pink"}]"#,
            "pink",
        ),
    ] {
        let run = server.keelson(&format!(
            "patch configmap settings --type {kind} -p {patch}"
        ));
        assert_eq!(run.stdout.trim(), "configmap/settings patched", "{run}");
        assert_eq!(
            get_json(&server, "configmap/settings")["data"]["colour"],
            value
        );
    }
    let run =
        server.keelson(r#"patch configmap/settings --type merge -p {"data":{"colour":"pink"}}"#);
    assert_eq!(
        run.stdout.trim(),
        "configmap/settings patched (no change)",
        "{run}"
    );
    let object = get_json(&server, "configmap/settings");
    assert_eq!(
        fields_of(&object, "keelson-patch"),
        json!({"f:data": {"f:colour": {}}})
    );
}
