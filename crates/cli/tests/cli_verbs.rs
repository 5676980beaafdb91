//! `keelson apply`, `get` and `delete` as a user runs them: against a
//! `keelson up` on a free loopback port, through the kubeconfig it writes.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use keelson_harness::keelson::KeelsonProcess;
use serde_json::Value;

const KEELSON: &str = env!("CARGO_BIN_EXE_keelson");

/// A `keelson up` child process (the harness's: ready once `/readyz`
/// answers over TLS), killed on drop.
struct Cluster {
    process: KeelsonProcess,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime can be built");
        let started = runtime.block_on(
            KeelsonProcess::builder(KEELSON, "up")
                .data_dir(dir.path().join("data"))
                .log_file(dir.path().join("keelson.log"))
                .start(),
        );
        let process = started.unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
        Self { process, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.process.kubeconfig()
    }

    /// Writes a manifest into the cluster's directory.
    fn manifest(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write manifest");
        path.display().to_string()
    }

    /// Runs a verb with `--kubeconfig` (and no `KUBECONFIG`).
    fn keelson(&self, args: &[&str]) -> Output {
        self.command(args, None)
    }

    fn command(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(KEELSON)
            .args(args)
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .env_remove("KUBECONFIG")
            .env("HOME", self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("keelson runs");
        let mut input = child.stdin.take().expect("piped stdin");
        input
            .write_all(stdin.unwrap_or("").as_bytes())
            .expect("write stdin");
        drop(input);
        child.wait_with_output().expect("keelson finishes")
    }

    /// Runs a verb that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.keelson(args);
        assert!(
            output.status.success(),
            "keelson {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }

    /// Runs a verb that must fail with exit code 1; its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.keelson(args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "keelson {args:?} should fail"
        );
        String::from_utf8(output.stderr).expect("UTF-8 output")
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

const APP: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels:
    tier: web
data:
  color: blue
---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
";

const PLAIN_CM: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
data:
  size: small
";

#[test]
fn apply_creates_then_leaves_alone_then_configures() {
    let cluster = Cluster::start();
    let app = cluster.manifest("app.yaml", APP);
    assert_eq!(
        cluster.ok(&["apply", "-f", &app]),
        "namespace/shop created\nconfigmap/settings created\ndeployment.apps/web created\n"
    );
    assert_eq!(
        cluster.ok(&["apply", "-f", &app]),
        "namespace/shop unchanged\nconfigmap/settings unchanged\ndeployment.apps/web unchanged\n"
    );
    let changed = cluster.manifest("app.yaml", &APP.replace("color: blue", "color: red"));
    assert_eq!(
        cluster.ok(&["apply", "-f", &changed]),
        "namespace/shop unchanged\nconfigmap/settings configured\ndeployment.apps/web unchanged\n"
    );
    let settings: Value = serde_json::from_str(&cluster.ok(&[
        "get",
        "configmap",
        "settings",
        "-n",
        "shop",
        "-o",
        "json",
    ]))
    .expect("JSON");
    assert_eq!(settings["data"]["color"], "red");
    let last_applied =
        settings["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .expect("apply records the last applied configuration");
    let last_applied: Value = serde_json::from_str(last_applied).expect("JSON annotation");
    assert_eq!(last_applied["data"]["color"], "red");

    // A field dropped from the file is removed from the object.
    let dropped = APP.replace("  labels:\n    tier: web\n", "");
    let dropped = cluster.manifest("app.yaml", &dropped);
    cluster.ok(&["apply", "-f", &dropped]);
    let labels = cluster.ok(&["get", "cm", "-n", "shop", "-l", "tier=web", "-o", "name"]);
    assert_eq!(labels, "");

    // A directory of manifests, and stdin; without a namespace, -n decides.
    let dir = cluster.dir.path().join("more");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("cm.yaml"), PLAIN_CM).expect("write");
    std::fs::write(dir.join("README.md"), "not a manifest").expect("write");
    let dir = dir.display().to_string();
    assert_eq!(
        cluster.ok(&["apply", "-f", &dir, "-n", "shop"]),
        "configmap/plain created\n"
    );
    let output = cluster.command(&["apply", "-f", "-"], Some(PLAIN_CM));
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "configmap/plain created\n"
    );
    assert_eq!(
        cluster.ok(&["get", "cm", "plain", "-o", "name"]),
        "configmap/plain\n",
        "without -n the context's namespace (default) is used"
    );
}

#[test]
fn get_prints_tables_names_and_objects() {
    let cluster = Cluster::start();
    let app = cluster.manifest("app.yaml", APP);
    cluster.ok(&["apply", "-f", &app]);

    let wide = cluster.ok(&["get", "deploy", "-n", "shop", "-o", "wide"]);
    let lines: Vec<&str> = wide.lines().collect();
    assert_eq!(lines.len(), 2, "{wide}");
    assert!(
        lines[0].starts_with("NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES"),
        "{wide}"
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[0], "web");
    assert!(row.contains(&"nginx:1.27"), "{wide}");
    let narrow = cluster.ok(&["get", "deployments.apps", "-n", "shop"]);
    assert!(!narrow.contains("CONTAINERS"), "{narrow}");

    // Beside the namespace's kube-root-ca.crt, which its publisher adds.
    let names = cluster.ok(&["get", "cm", "-n", "shop", "-o", "name"]);
    assert!(names.lines().any(|l| l == "configmap/settings"), "{names}");
    assert_eq!(
        cluster.ok(&["get", "cm", "-n", "shop", "-l", "tier=web", "-o", "name"]),
        "configmap/settings\n"
    );
    let none = cluster.keelson(&["get", "cm", "-n", "shop", "-l", "tier=db"]);
    assert!(none.status.success());
    assert_eq!(String::from_utf8_lossy(&none.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&none.stderr),
        "No resources found in shop namespace.\n"
    );

    let all = cluster.ok(&["get", "cm", "-A"]);
    let header: Vec<&str> = all
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header[..2], ["NAMESPACE", "NAME"], "{all}");
    assert!(
        all.lines()
            .any(|l| l.split_whitespace().take(2).eq(["shop", "settings"])),
        "{all}"
    );

    let object: Value =
        serde_json::from_str(&cluster.ok(&["get", "deploy/web", "-n", "shop", "-o", "json"]))
            .expect("JSON");
    assert_eq!(object["kind"], "Deployment");
    assert_eq!(object["spec"]["replicas"], 2);
    let list: Value = serde_json::from_str(
        &cluster.ok(&["get", "cm", "-n", "shop", "-l", "tier=web", "-o", "json"]),
    )
    .expect("JSON");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["kind"], "ConfigMap");
    assert_eq!(list["items"][0]["metadata"]["name"], "settings");
    let yaml = cluster.ok(&["get", "ns", "shop", "-o", "yaml"]);
    assert!(
        yaml.contains("kind: Namespace\n") && yaml.contains("name: shop\n"),
        "{yaml}"
    );

    let error = cluster.fails(&["get", "deploy", "nope", "-n", "shop"]);
    assert_eq!(
        error,
        "Error from server (NotFound): deployments.apps \"nope\" not found\n"
    );
    let error = cluster.fails(&["get", "widgets"]);
    assert_eq!(
        error,
        "error: the server doesn't have a resource type \"widgets\"\n"
    );
}

#[test]
fn delete_removes_objects_and_reports_missing_ones() {
    let cluster = Cluster::start();
    let app = cluster.manifest("app.yaml", APP);
    cluster.ok(&["apply", "-f", &app]);

    assert_eq!(
        cluster.ok(&["delete", "deploy", "web", "-n", "shop"]),
        "deployment.apps \"web\" deleted\n"
    );
    let error = cluster.fails(&["get", "deploy", "web", "-n", "shop"]);
    assert_eq!(
        error,
        "Error from server (NotFound): deployments.apps \"web\" not found\n"
    );
    let error = cluster.fails(&["delete", "deploy", "web", "-n", "shop"]);
    assert_eq!(
        error,
        "Error from server (NotFound): deployments.apps \"web\" not found\n"
    );
    assert_eq!(
        cluster.ok(&[
            "delete",
            "deploy",
            "web",
            "-n",
            "shop",
            "--ignore-not-found"
        ]),
        ""
    );

    // By file: what is there goes, what is not is reported.
    let plain = cluster.manifest("plain.yaml", PLAIN_CM);
    cluster.ok(&["apply", "-f", &plain]);
    let output = cluster.keelson(&["delete", "-f", &app, "-f", &plain]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("configmap \"settings\" deleted\n"),
        "{stdout}"
    );
    assert!(stdout.contains("configmap \"plain\" deleted\n"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "Error from server (NotFound): error when deleting \"{app}\": deployments.apps \"web\" not found"
        )),
        "{stderr}"
    );
}

#[test]
fn the_kubeconfig_env_var_and_a_missing_server() {
    let cluster = Cluster::start();
    let output = Command::new(KEELSON)
        .args(["get", "ns", "default", "-o", "name"])
        .env("KUBECONFIG", cluster.kubeconfig())
        .output()
        .expect("keelson runs");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "namespace/default\n"
    );

    let port = free_port();
    let text = std::fs::read_to_string(cluster.kubeconfig()).expect("kubeconfig");
    let server = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .expect("a server line")
        .to_string();
    let elsewhere = cluster.dir.path().join("elsewhere");
    std::fs::write(
        &elsewhere,
        text.replace(&server, &format!("https://127.0.0.1:{port}")),
    )
    .expect("write kubeconfig");
    let output = Command::new(KEELSON)
        .args(["get", "pods", "--kubeconfig"])
        .arg(&elsewhere)
        .output()
        .expect("keelson runs");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "The connection to the server 127.0.0.1:{port} was refused - did you specify the right host or port?\n"
        )
    );
}
