//! End-to-end tests of strategic merge patch with the real kubectl against
//! `keelson up`: client-side `kubectl apply` (which PATCHes with
//! `application/strategic-merge-patch+json`, `$setElementOrder` and
//! `null`s computed from last-applied-configuration) and `kubectl patch
//! --type=strategic`. Each test has its own server, HOME and cache dir.
//!
//! kubectl is a required tool here: when it is missing the tests fail with
//! instructions, they never skip.

mod support;

use support::Server;

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

impl Server {
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
        let out = self.ok(&[
            "get",
            "deployment",
            "web",
            "-n",
            "shop",
            "-o",
            &format!("jsonpath={path}"),
        ]);
        out.trim().to_string()
    }
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
    assert_eq!(out.trim(), "deployment.apps/web patched");
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
        assert_eq!(out.trim(), "namespace/shop patched");
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
    assert_eq!(types.trim(), "B A");

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
    assert_eq!(out.trim(), "scale.autoscaling/web patched");
    assert_eq!(server.web("{.spec.replicas}"), "4");
}
