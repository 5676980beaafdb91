//! End-to-end server-side apply with the real kubectl against `keelson up`:
//! `kubectl apply --server-side` creates, conflicts between field
//! managers, `--force-conflicts`, removal of fields a manager alone owned,
//! and the upgrade of an object made by client-side `kubectl apply`; and
//! keelson's own `apply --server-side` and `patch`, checked with kubectl.
//! The harness is `support` (fresh HOME and discovery cache per server);
//! kubectl is required, never skipped.

mod support;

use serde_json::{Value, json};

use support::Server;

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
