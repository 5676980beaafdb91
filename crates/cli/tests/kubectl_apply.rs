//! End-to-end tests of strategic merge patch with the real kubectl against
//! `keelson up`: client-side `kubectl apply` (which PATCHes with
//! `application/strategic-merge-patch+json`, `$setElementOrder` and
//! `null`s computed from last-applied-configuration) and `kubectl patch
//! --type=strategic`. Each test has its own server, HOME and cache dir.
//!
//! kubectl is a required tool here: when it is missing the tests fail with
//! instructions, they never skip.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one kubectl command may take.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `keelson up` may take to answer /readyz.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

const NAMESPACE: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: shop
";

/// Deployment shop/web with `containers` (YAML list items, indented for
/// the pod spec) and no `replicas`, so that `kubectl scale` owns them.
fn web(containers: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
{containers}"
    )
}

const CONTAINER_A: &str = "      - name: a
        image: nginx:1.27
        env:
        - name: MODE
          value: one
";

const CONTAINER_A_NEW_IMAGE: &str = "      - name: a
        image: nginx:1.28
        env:
        - name: MODE
          value: one
";

const CONTAINER_B: &str = "      - name: b
        image: busybox:1
        command: [sleep, \"3600\"]
";

/// One `keelson up` process with its data dir, kubectl HOME and cache dir;
/// killed when dropped.
struct Server {
    child: Child,
    root: tempfile::TempDir,
}

impl Server {
    /// Starts `keelson up` on a free port, retrying if another process took
    /// the port between our probe and the server's bind.
    fn start() -> Server {
        for _ in 0..3 {
            let root = fresh_root();
            let address = free_address();
            let log = std::fs::File::create(root.path().join("keelson.log"))
                .expect("temp dir is writable");
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
            let mut server = Server { child, root };
            match server.wait_ready(address) {
                Ok(()) => return server,
                Err(log) if log.contains("cannot listen") => continue,
                Err(log) => panic!("keelson up exited before it was ready: {log}"),
            }
        }
        panic!("keelson up found no free port in 3 attempts")
    }

    /// Polls /readyz; `Err(log)` if the process exited first.
    fn wait_ready(&mut self, address: SocketAddr) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return Err(format!("exit {status}\n{}", self.log()));
            }
            if readyz(address) && self.root.path().join("data/kubeconfig").exists() {
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
        path.to_str().expect("temp paths are UTF-8").to_string()
    }

    /// Runs `kubectl ARGS` against this server with a fresh HOME and cache
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
                panic!(
                    "`kubectl {}` did not finish within {KUBECTL_TIMEOUT:?}",
                    args.join(" ")
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        Run {
            command: format!("kubectl {}", args.join(" ")),
            status,
            stdout: stdout.join().expect("the stdout reader does not panic"),
            stderr: stderr.join().expect("the stderr reader does not panic"),
        }
    }

    /// Runs kubectl, asserts it succeeded and returns its trimmed stdout.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.kubectl(args);
        assert!(run.status.success(), "expected success\n{run}");
        run.stdout.trim().to_string()
    }

    /// `kubectl apply -f` of `text`, asserting what kubectl prints.
    fn apply(&self, text: &str, expected: &str) {
        let path = self.manifest("web.yaml", text);
        let run = self.kubectl(&["apply", "-f", &path]);
        assert!(
            run.status.success() && run.stdout.trim() == expected,
            "expected the output {expected:?}\n{run}"
        );
        assert!(
            !run.stderr.contains("warning"),
            "kubectl computed its patch without our schema\n{run}"
        );
    }

    /// A JSONPath of deployment shop/web.
    fn web(&self, path: &str) -> String {
        self.ok(&[
            "get",
            "deployment",
            "web",
            "-n",
            "shop",
            "-o",
            &format!("jsonpath={path}"),
        ])
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
             (they never skip). Install it, e.g. `curl -LO \
             https://dl.k8s.io/release/v1.33.0/bin/linux/amd64/kubectl && install kubectl \
             /usr/local/bin/`."
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

/// A server with namespace shop and deployment shop/web (containers a
/// and b) applied.
fn server_with_web() -> Server {
    let server = Server::start();
    let namespace = server.manifest("namespace.yaml", NAMESPACE);
    let run = server.kubectl(&["apply", "-f", &namespace]);
    assert!(run.status.success(), "{run}");
    server.apply(
        &web(&format!("{CONTAINER_A}{CONTAINER_B}")),
        "deployment.apps/web created",
    );
    server
}

const NAMES: &str = "{.spec.template.spec.containers[*].name}";
const IMAGES: &str = "{.spec.template.spec.containers[*].image}";

#[test]
fn client_side_apply_changes_only_what_the_file_changed() {
    let server = server_with_web();
    // Another writer's changes, to fields the file does not set.
    server.ok(&["label", "deployment", "web", "-n", "shop", "team=blue"]);
    server.ok(&["scale", "deployment", "web", "-n", "shop", "--replicas=3"]);

    let changed = web(&format!("{CONTAINER_A_NEW_IMAGE}{CONTAINER_B}"));
    server.apply(&changed, "deployment.apps/web configured");
    assert_eq!(server.web(NAMES), "a b");
    assert_eq!(server.web(IMAGES), "nginx:1.28 busybox:1");
    assert_eq!(
        server.web("{.spec.template.spec.containers[1].command}"),
        r#"["sleep","3600"]"#
    );
    assert_eq!(
        server.web("{.spec.template.spec.containers[0].env[0].value}"),
        "one"
    );
    assert_eq!(server.web("{.metadata.labels.team}"), "blue");
    assert_eq!(server.web("{.spec.replicas}"), "3");

    server.apply(&changed, "deployment.apps/web unchanged");

    server.apply(
        &web(CONTAINER_A_NEW_IMAGE),
        "deployment.apps/web configured",
    );
    assert_eq!(server.web(NAMES), "a");
    assert_eq!(server.web(IMAGES), "nginx:1.28");
    assert_eq!(server.web("{.metadata.labels.team}"), "blue");
    assert_eq!(server.web("{.spec.replicas}"), "3");
}

#[test]
fn patch_type_strategic_merges_containers_by_name() {
    let server = server_with_web();
    let patch =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"busybox:2"}]}}}}"#;
    let out = server.ok(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "shop",
        "--type=strategic",
        "-p",
        patch,
    ]);
    assert_eq!(out, "deployment.apps/web patched");
    assert_eq!(server.web(NAMES), "a b");
    assert_eq!(server.web(IMAGES), "nginx:1.27 busybox:2");
    assert_eq!(
        server.web("{.spec.template.spec.containers[1].command}"),
        r#"["sleep","3600"]"#
    );

    // A list item without its merge key is refused with upstream's message.
    let bad = r#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#;
    let run = server.kubectl(&["patch", "deploy", "web", "-n", "shop", "-p", bad]);
    assert!(!run.status.success(), "{run}");
    assert!(
        run.stderr
            .contains("map: map[image:x] does not contain declared merge key: name"),
        "{run}"
    );
    assert_eq!(server.web(IMAGES), "nginx:1.27 busybox:2");
}

#[test]
fn patch_type_strategic_on_status_and_scale() {
    let server = server_with_web();
    // NamespaceStatus.conditions merge by type.
    for condition in ["A", "B"] {
        let patch =
            format!(r#"{{"status":{{"conditions":[{{"type":"{condition}","status":"True"}}]}}}}"#);
        let out = server.ok(&[
            "patch",
            "namespace",
            "shop",
            "--subresource=status",
            "--type=strategic",
            "-p",
            &patch,
        ]);
        assert_eq!(out, "namespace/shop patched");
    }
    let types = server.ok(&[
        "get",
        "namespace",
        "shop",
        "-o",
        "jsonpath={.status.conditions[*].type}",
    ]);
    // As upstream, an item the patch adds without `$setElementOrder` goes
    // before the server's items.
    assert_eq!(types, "B A");

    let out = server.ok(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "shop",
        "--subresource=scale",
        "--type=strategic",
        "-p",
        r#"{"spec":{"replicas":4}}"#,
    ]);
    assert_eq!(out, "scale.autoscaling/web patched");
    assert_eq!(server.web("{.spec.replicas}"), "4");
}
