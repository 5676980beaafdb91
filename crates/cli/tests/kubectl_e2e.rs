//! End-to-end tests: `keelson up` runs as a real process and the real
//! `kubectl` (from PATH) talks to it, with a fresh HOME and discovery cache
//! per server. Each test asserts what a user sees on stdout/stderr.
//!
//! kubectl is a required tool here: when it is missing the tests fail with
//! instructions, they never skip.

mod support;

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use support::{Server, drain, header, row, spawn_kubectl};

const NAMESPACE: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: shop
";

/// A Deployment `NAME` in namespace shop, labelled and selected by `app: NAME`.
fn deployment(name: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: shop
  labels:
    app: {name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
"
    )
}

/// Starts a server with namespace shop and deployment shop/web applied.
fn server_with_web() -> Server {
    let server = Server::start();
    let namespace = server.manifest("namespace.yaml", NAMESPACE);
    let web = server.manifest("web.yaml", &deployment("web"));
    server.prints(&format!("apply -f {namespace}"), "namespace/shop created");
    server.prints(&format!("apply -f {web}"), "deployment.apps/web created");
    server
}

#[test]
fn api_resources_lists_short_names_and_groups() {
    let server = Server::start();
    let out = server.ok("api-resources");
    let columns = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"];
    assert_eq!(header(&out), columns, "{out}");
    let deployments = ["deployments", "deploy", "apps/v1", "true", "Deployment"];
    assert_eq!(row(&out, "deployments"), deployments, "{out}");
    assert_eq!(
        row(&out, "pods"),
        ["pods", "po", "v1", "true", "Pod"],
        "{out}"
    );
    let apps = server.ok("api-resources --api-group=apps -o name");
    assert!(
        apps.lines().any(|line| line == "deployments.apps"),
        "{apps}"
    );
}

#[test]
fn apply_then_get_in_every_output_format() {
    let server = server_with_web();
    let namespace = server.manifest("namespace.yaml", NAMESPACE);
    let web = server.manifest("web.yaml", &deployment("web"));
    server.prints(&format!("apply -f {namespace}"), "namespace/shop unchanged");
    server.prints(&format!("apply -f {web}"), "deployment.apps/web unchanged");

    // The Deployment controller makes its two pods (up to date, none
    // ready: no node runs them).
    let mut table = server.ok("get deploy -n shop");
    for _ in 0..100 {
        if row(&table, "web").get(2) == Some(&"2") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        table = server.ok("get deploy -n shop");
    }
    let columns = ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"];
    assert_eq!(header(&table), columns, "{table}");
    assert_eq!(row(&table, "web")[..4], ["web", "0/2", "2", "0"], "{table}");

    let wide = server.ok("get deploy -n shop -o wide");
    assert_eq!(header(&wide)[..5], columns, "{wide}");
    assert_eq!(
        header(&wide)[5..],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
        "{wide}"
    );
    assert_eq!(
        row(&wide, "web")[5..],
        ["nginx", "nginx:1.27", "app=web"],
        "{wide}"
    );

    let yaml = server.ok("get deploy web -n shop -o yaml");
    for expected in [
        "kind: Deployment",
        "replicas: 2",
        "image: nginx:1.27",
        "matchLabels:",
    ] {
        assert!(yaml.contains(expected), "no {expected:?} in:\n{yaml}");
    }

    let json = server.ok("get deploy web -n shop -o json");
    let object: serde_json::Value = serde_json::from_str(&json)
        .unwrap_or_else(|err| panic!("-o json is not JSON ({err}):\n{json}"));
    assert_eq!(object["metadata"]["generation"], 1, "{json}");
    let uid = object["metadata"]["uid"].as_str().unwrap_or_default();
    assert!(!uid.is_empty(), "no uid:\n{json}");
    assert_eq!(
        object["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );

    server.prints("get deploy -n shop -o name", "deployment.apps/web");

    // A second deployment is listed without selectors and filtered out by them.
    let api = server.manifest("api.yaml", &deployment("api"));
    server.prints(&format!("apply -f {api}"), "deployment.apps/api created");
    let both = "deployment.apps/api\ndeployment.apps/web";
    server.prints("get deploy -n shop -o name", both);
    server.prints(
        "get deploy -n shop -l app=web -o name",
        "deployment.apps/web",
    );
    let by_field = "get deploy -n shop --field-selector metadata.name=web -o name";
    server.prints(by_field, "deployment.apps/web");
    let table = server.ok("get deploy -n shop -l app=web");
    assert_eq!(
        table.lines().count(),
        2,
        "a header and one row expected:\n{table}"
    );
}

#[test]
fn watch_prints_added_and_deleted_events() {
    let server = server_with_web();
    let configmap = server.manifest(
        "configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  color: blue\n",
    );
    let line = "get configmaps -n shop -w --output-watch-events";
    let mut watch = spawn_kubectl(server.command(line));
    let stderr = drain(watch.stderr.take().expect("stderr is piped"));
    let stdout = BufReader::new(watch.stdout.take().expect("stdout is piped"));
    let (lines, received) = mpsc::channel();
    thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    // Reads watch output until a line `EVENT settings ...` shows up.
    let mut wait_for = |event: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !seen
            .iter()
            .any(|l: &String| l.split_whitespace().take(2).eq([event, "settings"]))
        {
            match received.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => seen.push(line),
                Err(_) => return false,
            }
        }
        true
    };

    // Waiting for ADDED before deleting makes the test independent of whether
    // the object arrives in kubectl's initial list or through the watch.
    server.prints(
        &format!("apply -f {configmap}"),
        "configmap/settings created",
    );
    let added = wait_for("ADDED");
    let deleted = added && {
        server.prints(
            &format!("delete -f {configmap}"),
            "configmap \"settings\" deleted",
        );
        wait_for("DELETED")
    };
    let _ = watch.kill();
    let status = watch.wait().expect("the watch can be reaped");
    let stderr = stderr.join().unwrap_or_default();
    let stdout = seen.join("\n");
    let report =
        format!("command: kubectl {line}\nexit: {status}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        added && deleted,
        "expected ADDED and DELETED lines for settings\n{report}"
    );
    assert_eq!(
        header(&stdout),
        ["EVENT", "NAME", "DATA", "AGE"],
        "{report}"
    );
}

#[test]
fn scale_replace_patch_and_delete() {
    let server = server_with_web();
    let jsonpath = |path: &str| server.ok(&format!("get deploy web -n shop -o jsonpath={path}"));

    server.prints(
        "scale deploy/web -n shop --replicas=4",
        "deployment.apps/web scaled",
    );
    assert_eq!(jsonpath("{.spec.replicas}"), "4");
    assert_eq!(jsonpath("{.metadata.generation}"), "2");

    // A manifest carrying the current resourceVersion goes stale on the next write.
    let stale = server.manifest("stale.yaml", &server.ok("get deploy web -n shop -o yaml"));
    let merge = r#"patch deploy web -n shop --type=merge -p {"metadata":{"labels":{"x":"y"}}}"#;
    server.prints(merge, "deployment.apps/web patched");
    assert_eq!(jsonpath("{.metadata.labels.x}"), "y");

    let replace = server.kubectl(&format!("replace -f {stale}"));
    assert!(
        !replace.status.success(),
        "a stale replace must fail\n{replace}"
    );
    assert!(
        replace.stderr.contains("Conflict")
            && replace.stderr.contains("the object has been modified"),
        "expected a Conflict\n{replace}"
    );
    assert_eq!(
        jsonpath("{.metadata.labels.x}"),
        "y",
        "the failed replace changed nothing"
    );

    let json = r#"patch deploy web -n shop --type=json -p [{"op":"replace","path":"/spec/replicas","value":1}]"#;
    server.prints(json, "deployment.apps/web patched");
    assert_eq!(jsonpath("{.spec.replicas}"), "1");
    assert_eq!(jsonpath("{.metadata.generation}"), "3");

    server.prints(
        "delete deploy web -n shop",
        "deployment.apps \"web\" deleted",
    );
    let gone = server.kubectl("get deploy web -n shop");
    assert!(
        !gone.status.success()
            && gone.stderr.contains("(NotFound)")
            && gone.stderr.contains(r#"deployments.apps "web" not found"#),
        "expected NotFound after delete\n{gone}"
    );
}

#[test]
fn apply_rejects_template_labels_that_do_not_match_the_selector() {
    let server = server_with_web();
    let template_labels = "      labels:\n        app: bad\n";
    let bad = deployment("bad").replace(template_labels, "      labels:\n        app: other\n");
    assert!(
        bad.contains("app: other"),
        "the template labels were not rewritten:\n{bad}"
    );
    let bad = server.manifest("bad.yaml", &bad);
    let run = server.kubectl(&format!("apply -f {bad}"));
    assert!(
        !run.status.success()
            && run.stderr.contains("Invalid")
            && run.stderr.contains("spec.template.metadata.labels"),
        "expected a 422 Invalid naming spec.template.metadata.labels\n{run}"
    );
    let get = server.kubectl("get deploy bad -n shop");
    assert!(
        !get.status.success(),
        "the invalid Deployment was stored\n{get}"
    );
}
