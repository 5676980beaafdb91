//! `keelson apply` (client-side) against `keelson up`: it sends the
//! three-way strategic merge patch that kubectl sends, so what other
//! writers set survives, lists merge by key, and a step-by-step comparison
//! with the real kubectl finds the same patch at every step.
//!
//! keelson's patch is read from its debug log (`RUST_LOG=keelson::apply=debug`),
//! kubectl's from `-v=9` (its request body log).

mod support;

use std::process::Command;

use serde_json::Value;
use support::{Run, Server};

const NAMESPACE: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: shop
";

/// Deployment `web` (namespace from the file or `-n`), without replicas
/// (so another writer owns them), strategy and containers as given.
fn web(namespace: &str, strategy: &str, containers: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
{namespace}  labels:
    app: web
spec:
  selector:
    matchLabels:
      app: web
{strategy}  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
{containers}"
    )
}

const ROLLING: &str = "  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
";

const RECREATE: &str = "  strategy:
    type: Recreate
";

const IN_SHOP: &str = "  namespace: shop\n";

const A: &str = "      - name: a
        image: nginx:1.27
        env:
        - name: MODE
          value: one
        - name: LEVEL
          value: \"2\"
";

const A_MORE_ENV: &str = "      - name: a
        image: nginx:1.27
        env:
        - name: MODE
          value: one
        - name: DEBUG
          value: \"true\"
        - name: LEVEL
          value: \"2\"
";

const B: &str = "      - name: b
        image: busybox:1
        command: [sleep, \"3600\"]
";

const B_NEW_IMAGE: &str = "      - name: b
        image: busybox:2
        command: [sleep, \"3600\"]
";

impl Server {
    /// `keelson apply -f` of `text` (as file `file`), asserting its output.
    fn keelson_apply(&self, file: &str, text: &str, extra: &[&str], expected: &str) -> Run {
        let path = self.manifest(file, text);
        let mut args = vec!["apply", "-f", &path];
        args.extend(extra);
        let run = self.keelson(&args[..]);
        assert!(
            run.status.success() && run.stdout.trim() == expected,
            "expected the output {expected:?}\n{run}"
        );
        run
    }

    /// A JSONPath of deployment `web` in `namespace`.
    fn deployment(&self, namespace: &str, path: &str) -> String {
        self.ok(&[
            "get",
            "deployment",
            "web",
            "-n",
            namespace,
            "-o",
            &format!("jsonpath={path}"),
        ])
    }

    /// Deployment `web` in `namespace` as JSON.
    fn deployment_json(&self, namespace: &str) -> Value {
        let text = self.ok(&["get", "deployment", "web", "-n", namespace, "-o", "json"]);
        serde_json::from_str(&text).expect("kubectl prints JSON")
    }
}

#[test]
fn apply_changes_only_what_the_file_changed() {
    let server = Server::start();
    server.keelson_apply("ns.yaml", NAMESPACE, &[], "namespace/shop created");
    let first = web(IN_SHOP, ROLLING, &format!("{A}{B}"));
    server.keelson_apply("web.yaml", &first, &[], "deployment.apps/web created");

    // Other writers: a label and the replicas, neither in the file.
    other_writer(
        &server,
        "merge",
        r#"{"metadata":{"labels":{"team":"blue"}}}"#,
    );
    other_writer(&server, "merge", r#"{"spec":{"replicas":3}}"#);
    let names = "{.spec.template.spec.containers[*].name}";
    let images = "{.spec.template.spec.containers[*].image}";
    let env = r#"{.spec.template.spec.containers[?(@.name=="a")].env[*].name}"#;

    let changed = web(IN_SHOP, ROLLING, &format!("{A}{B_NEW_IMAGE}"));
    server.keelson_apply("web.yaml", &changed, &[], "deployment.apps/web configured");
    assert_eq!(server.deployment("shop", names), "a b");
    assert_eq!(server.deployment("shop", images), "nginx:1.27 busybox:2");
    assert_eq!(server.deployment("shop", env), "MODE LEVEL");
    assert_eq!(
        server.deployment("shop", "{.spec.template.spec.containers[1].command}"),
        r#"["sleep","3600"]"#
    );
    assert_eq!(server.deployment("shop", "{.metadata.labels.team}"), "blue");
    assert_eq!(server.deployment("shop", "{.spec.replicas}"), "3");
    let managers = server.deployment("shop", "{.metadata.managedFields[*].manager}");
    assert!(managers.contains("keelson-client-side-apply"), "{managers}");
    server.keelson_apply("web.yaml", &changed, &[], "deployment.apps/web unchanged");

    // Dry run: the server computes the result and stores nothing.
    let without_b = web(IN_SHOP, ROLLING, A);
    server.keelson_apply(
        "web.yaml",
        &without_b,
        &["--dry-run=server"],
        "deployment.apps/web configured (server dry run)",
    );
    assert_eq!(server.deployment("shop", names), "a b");
    let other = first.replace("name: web\n", "name: other\n");
    server.keelson_apply(
        "other.yaml",
        &other,
        &["--dry-run=server"],
        "deployment.apps/other created (server dry run)",
    );
    let run = server.kubectl(&["get", "deploy", "other", "-n", "shop"]);
    assert!(!run.status.success(), "a dry run created nothing\n{run}");

    // A new env var in the middle of a's: the file's order is kept.
    let more_env = web(IN_SHOP, ROLLING, &format!("{A_MORE_ENV}{B_NEW_IMAGE}"));
    server.keelson_apply("web.yaml", &more_env, &[], "deployment.apps/web configured");
    assert_eq!(server.deployment("shop", env), "MODE DEBUG LEVEL");

    // RollingUpdate -> Recreate: retainKeys drops rollingUpdate.
    let recreate = web(IN_SHOP, RECREATE, &format!("{A_MORE_ENV}{B_NEW_IMAGE}"));
    server.keelson_apply("web.yaml", &recreate, &[], "deployment.apps/web configured");
    let strategy = &server.deployment_json("shop")["spec"]["strategy"];
    assert_eq!(strategy, &serde_json::json!({"type": "Recreate"}));
    assert_eq!(server.deployment("shop", "{.spec.replicas}"), "3");
    assert_eq!(server.deployment("shop", "{.metadata.labels.team}"), "blue");
    server.keelson_apply("web.yaml", &recreate, &[], "deployment.apps/web unchanged");

    // A sidecar from another writer survives; b leaves the file and goes.
    other_writer(
        &server,
        "strategic",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"envoy:1"}]}}}}"#,
    );
    assert_eq!(server.deployment("shop", names), "c a b");
    let without_b = web(IN_SHOP, RECREATE, A_MORE_ENV);
    server.keelson_apply(
        "web.yaml",
        &without_b,
        &[],
        "deployment.apps/web configured",
    );
    assert_eq!(server.deployment("shop", names), "c a");
    assert_eq!(server.deployment("shop", images), "envoy:1 nginx:1.27");
    assert_eq!(server.deployment("shop", env), "MODE DEBUG LEVEL");
    // As with kubectl, a list with an item the file lacks is sent again
    // (its `$setElementOrder` alone), which changes nothing.
    let version = server.deployment("shop", "{.metadata.resourceVersion}");
    server.keelson_apply(
        "web.yaml",
        &without_b,
        &[],
        "deployment.apps/web configured",
    );
    assert_eq!(
        server.deployment("shop", "{.metadata.resourceVersion}"),
        version
    );
}

/// `keelson patch` of deployment shop/web, as another writer.
fn other_writer(server: &Server, patch_type: &str, patch: &str) {
    let run = server.keelson(&[
        "patch", "deploy", "web", "-n", "shop", "--type", patch_type, "-p", patch,
    ]);
    assert!(run.status.success(), "{run}");
}

/// One step of the comparison: what other writers do first (kubectl
/// arguments, run against both namespaces), then the file both apply.
struct Step {
    others: &'static [&'static [&'static str]],
    file: String,
}

/// Files that touch every directive: merged lists by key (containers, env,
/// volumes with retainKeys), a primitive merged list (finalizers), maps
/// (labels) and the retainKeys struct (strategy).
fn steps() -> Vec<Step> {
    let with = |strategy: &str, containers: String, extra_pod: &str, extra_meta: &str| {
        web("", strategy, &containers).replace(
            "  labels:\n    app: web\nspec:",
            &format!("{extra_meta}  labels:\n    app: web\nspec:"),
        ) + extra_pod
    };
    let volumes = "      volumes:\n      - name: data\n        emptyDir: {}\n";
    let config_volume =
        "      volumes:\n      - name: data\n        configMap:\n          name: settings\n";
    let finalizers = "  finalizers:\n  - example.com/a\n  - example.com/b\n";
    let one_finalizer = "  finalizers:\n  - example.com/b\n";
    let tier = "  annotations:\n    tier: front\n";
    vec![
        Step {
            others: &[],
            file: with(ROLLING, format!("{A}{B}"), "", tier),
        },
        Step {
            others: &[
                &["label", "deployment", "web", "team=blue"],
                &["scale", "deployment", "web", "--replicas=3"],
                &[
                    "patch",
                    "deployment",
                    "web",
                    "-p",
                    r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"envoy:1"}]}}}}"#,
                ],
            ],
            file: with(ROLLING, format!("{A}{B_NEW_IMAGE}"), "", tier),
        },
        Step {
            others: &[],
            file: with(
                ROLLING,
                format!("{A_MORE_ENV}{B_NEW_IMAGE}"),
                volumes,
                finalizers,
            ),
        },
        Step {
            others: &[],
            file: with(
                ROLLING,
                A_MORE_ENV.to_string(),
                config_volume,
                one_finalizer,
            ),
        },
        Step {
            others: &[],
            file: with(RECREATE, format!("{B}{A}"), config_volume, one_finalizer),
        },
        Step {
            others: &[],
            file: with(RECREATE, format!("{B}{A}"), config_volume, one_finalizer),
        },
    ]
}

#[test]
fn apply_sends_the_patch_kubectl_sends() {
    let server = Server::start();
    for namespace in ["by-kubectl", "by-keelson"] {
        server.ok(&["create", "namespace", namespace]);
    }
    for (index, step) in steps().iter().enumerate() {
        for args in step.others {
            for namespace in ["by-kubectl", "by-keelson"] {
                let mut args = args.to_vec();
                args.extend(["-n", namespace]);
                server.ok(&args[..]);
            }
        }
        let path = server.manifest(&format!("step{index}.yaml"), &step.file);
        let by_kubectl = server.kubectl(&["apply", "-f", &path, "-n", "by-kubectl", "-v=9"]);
        assert!(by_kubectl.status.success(), "{by_kubectl}");
        let by_keelson = keelson_with_log(&server, &["apply", "-f", &path, "-n", "by-keelson"]);
        assert!(by_keelson.status.success(), "{by_keelson}");
        assert_eq!(
            by_keelson.stdout.replace("by-keelson", "by-kubectl").trim(),
            by_kubectl
                .stdout
                .lines()
                .filter(|l| l.starts_with("deployment"))
                .collect::<Vec<_>>()
                .join("\n"),
            "step {index}: the same outcome"
        );
        let kubectl_patch = kubectl_patch(&by_kubectl.stderr)
            .map(|text| text.replace("by-kubectl", "by-keelson"))
            .map(|text| serde_json::from_str::<Value>(&text).expect("kubectl sent JSON"));
        let keelson_patch = keelson_patch(&by_keelson.stderr)
            .map(|text| serde_json::from_str::<Value>(&text).expect("keelson sent JSON"));
        assert_eq!(
            kubectl_patch.is_some(),
            by_kubectl.stdout.contains("configured"),
            "step {index}: a PATCH exactly when kubectl configures\n{by_kubectl}"
        );
        assert_eq!(
            keelson_patch, kubectl_patch,
            "step {index}: keelson's patch (left) differs from kubectl's (right)"
        );
    }
    let kubectl = server.deployment_json("by-kubectl");
    let keelson = server.deployment_json("by-keelson");
    assert_eq!(keelson["spec"], kubectl["spec"]);
    assert_eq!(keelson["metadata"]["labels"], kubectl["metadata"]["labels"]);
    assert_eq!(
        keelson["metadata"]["finalizers"],
        kubectl["metadata"]["finalizers"]
    );
}

/// `keelson ARGS` with the apply debug log on stderr.
fn keelson_with_log(server: &Server, args: &[&str]) -> Run {
    // The server's kubectl command carries its kubeconfig.
    let kubectl = server.command(&[] as &[&str]);
    let kubeconfig = kubectl
        .get_args()
        .skip_while(|arg| *arg != "--kubeconfig")
        .nth(1)
        .expect("kubectl runs with --kubeconfig");
    let output = Command::new(env!("CARGO_BIN_EXE_keelson"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG")
        .env("RUST_LOG", "keelson::apply=debug")
        .env("NO_COLOR", "1")
        .output()
        .expect("the keelson binary runs");
    Run {
        command: format!("keelson {}", args.join(" ")),
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The body of the PATCH in kubectl's `-v=9` log: the `Request Body` line
/// just before the request's `curl -v -XPATCH` line.
fn kubectl_patch(log: &str) -> Option<String> {
    let mut body = None;
    for line in log.lines() {
        if let Some((_, quoted)) = line.split_once("\"Request Body\" body=") {
            body = serde_json::from_str::<String>(quoted).ok();
        }
        if line.contains("-XPATCH") {
            return body;
        }
    }
    None
}

/// The patch keelson logged.
fn keelson_patch(log: &str) -> Option<String> {
    log.lines()
        .find_map(|line| line.split_once("application/strategic-merge-patch+json: "))
        .map(|(_, patch)| patch.to_string())
}
