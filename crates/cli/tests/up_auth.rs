//! `keelson up --token-auth-file ... --authorization-mode RBAC`: an admin
//! token in `system:masters` sets up a namespace and a Role for jane;
//! jane may do what the Role says and is refused the rest with upstream's
//! message; a bad token is 401; impersonation is checked against the
//! `impersonate` verb.
//!
//! The token users go through keelson's own CLI (kube-rs), the official
//! Python client and the real kubectl, each verifying the server with the
//! cluster's CA; kubectl is also there as the anonymous user: it sees the
//! public paths, upstream's 403 for the rest, and its `--as` refused.
//!
//! kubectl and the Python client (`pip install kubernetes==37.0.2`, which
//! `.ci/run` does) are required tools here: when one is missing the test
//! fails with instructions, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use keelson_harness::keelson::KeelsonProcess;
use keelson_harness::kubectl::{self, Kubectl, Run};

const TOKENS: &str = "admin-token,admin,1,system:masters\njane-token,jane,2\n";

const SETUP: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: dev
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: config-editor
  namespace: dev
rules:
- apiGroups: [\"\"]
  resources: [configmaps]
  verbs: [get, list, create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: jane-config
  namespace: dev
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: config-editor
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: jane
";

struct Cluster {
    process: KeelsonProcess,
    kubectl: Kubectl,
    root: tempfile::TempDir,
}

impl Cluster {
    fn start(runtime: &tokio::runtime::Runtime) -> Cluster {
        let root = tempfile::tempdir().expect("a temporary directory can be created");
        let tokens = root.path().join("tokens.csv");
        std::fs::write(&tokens, TOKENS).expect("the temp dir is writable");
        let started = runtime.block_on(
            KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
                .data_dir(root.path().join("data"))
                .log_file(root.path().join("keelson.log"))
                .pid_file(root.path().join("keelson.pid"))
                .arg("--token-auth-file")
                .arg(&tokens)
                .arg("--authorization-mode")
                .arg("RBAC")
                .start(),
        );
        let process = started.unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
        let anonymous = kubeconfig_for(&process, root.path(), "");
        let kubectl = Kubectl::new(anonymous, root.path()).unwrap_or_else(|err| panic!("{err}"));
        Cluster {
            process,
            kubectl,
            root,
        }
    }

    /// A kubeconfig for this server with `token`.
    fn kubeconfig(&self, token: &str) -> PathBuf {
        kubeconfig_for(&self.process, self.root.path(), token)
    }

    /// `keelson ARGS` with `token`.
    fn keelson(&self, token: &str, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keelson"));
        command
            .arg("--kubeconfig")
            .arg(self.kubeconfig(token))
            .args(args)
            .env_remove("KUBECONFIG");
        let label = format!("keelson {}", args.join(" "));
        kubectl::run(label, command, kubectl::DEFAULT_TIMEOUT).unwrap_or_else(|err| panic!("{err}"))
    }

    fn ok(&self, token: &str, args: &[&str]) -> String {
        let run = self.keelson(token, args);
        assert!(
            run.status.success(),
            "expected success\n{run}\nlog:\n{}",
            self.process.log()
        );
        run.stdout
    }

    fn refused(&self, token: &str, args: &[&str], message: &str) {
        assert_refused(&self.keelson(token, args), message);
    }

    /// The real kubectl, with the server's kubeconfig (no credentials).
    fn kubectl(&self, args: &[&str]) -> Run {
        self.kubectl.run(args).unwrap_or_else(|err| panic!("{err}"))
    }
}

/// A kubeconfig for `process` that trusts the cluster's CA and sends
/// `token` (none when empty).
fn kubeconfig_for(process: &KeelsonProcess, dir: &Path, token: &str) -> PathBuf {
    let name = if token.is_empty() { "anonymous" } else { token };
    let path = dir.join(format!("{name}.kubeconfig"));
    // kubectl asks for a password when a user has no credentials at all;
    // basic auth, which the server does not take, leaves it anonymous.
    let user = match token.is_empty() {
        true => "\n    username: anonymous\n    password: none".to_string(),
        false => format!("\n    token: {token}"),
    };
    let ca = process.data_dir().join("pki/ca.crt");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster:\n    server: {}\n    \
         certificate-authority: {}\nusers:\n- name: u\n  user: {user}\ncontexts:\n- name: k\n  \
         context:\n    cluster: k\n    user: u\ncurrent-context: k\n",
        process.url(),
        ca.display()
    );
    std::fs::write(&path, text).expect("the temp dir is writable");
    path
}

fn assert_refused(run: &Run, message: &str) {
    assert!(
        !run.status.success() && run.stderr.contains(message),
        "expected {message:?}\n{run}"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the temp dir is writable");
    path.to_str().expect("temp paths are UTF-8").to_string()
}

#[test]
fn a_token_user_with_a_namespaced_role() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can be built");
    let cluster = Cluster::start(&runtime);
    let setup = write(cluster.root.path(), "setup.yaml", SETUP);
    cluster.ok("admin-token", &["apply", "-f", &setup]);

    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: dev\ndata:\n  a: b\n";
    let config_map = write(cluster.root.path(), "cm.yaml", config_map);
    cluster.ok("jane-token", &["apply", "-f", &config_map]);
    let names = cluster.ok(
        "jane-token",
        &["get", "configmaps", "-n", "dev", "-o", "name"],
    );
    assert!(names.contains("configmap/settings"), "{names}");

    cluster.refused(
        "jane-token",
        &["delete", "configmap", "settings", "-n", "dev"],
        "configmaps \"settings\" is forbidden: User \"jane\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"dev\"",
    );
    cluster.refused(
        "jane-token",
        &["get", "pods", "-n", "dev"],
        "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"dev\"",
    );
    cluster.refused(
        "jane-token",
        &["get", "configmaps", "-n", "default"],
        "User \"jane\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\"",
    );
    cluster.refused("wrong-token", &["get", "pods"], "Unauthorized");

    // The official Python client sends jane's token and reads the 403.
    let script = "import json, sys\n\
from kubernetes import client, config\n\
config.load_kube_config(sys.argv[1])\n\
v1 = client.CoreV1Api()\n\
print('dev:', ','.join(c.metadata.name for c in v1.list_namespaced_config_map('dev').items))\n\
try:\n    v1.list_namespaced_pod('dev')\n\
except client.exceptions.ApiException as e:\n    print('refused:', e.status, json.loads(e.body)['message'])\n";
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(cluster.kubeconfig("jane-token"))
        .output()
        .expect("python3 runs (Debian: apt-get install python3)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'kubernetes'"),
        "the Python client is missing: pip install kubernetes==37.0.2\n{stderr}"
    );
    assert!(
        output.status.success()
            && stdout.lines().any(|l| l.starts_with("dev:") && l.contains("settings"))
            && stdout.contains("refused: 403 pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"dev\""),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // kubectl with jane's token: what the Role allows, and who she is.
    let jane = Kubectl::new(cluster.kubeconfig("jane-token"), cluster.root.path())
        .unwrap_or_else(|err| panic!("{err}"));
    let run = jane
        .run(&["get", "configmaps", "-n", "dev", "-o", "name"])
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(
        run.status.success() && run.stdout.contains("configmap/settings"),
        "{run}"
    );
    let run = jane
        .run(&["auth", "can-i", "delete", "configmaps", "-n", "dev"])
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.stdout.trim(), "no", "{run}");

    // kubectl, anonymous: the public paths only, and no impersonation.
    let run = cluster.kubectl(&["get", "--raw", "/healthz"]);
    assert!(run.status.success() && run.stdout.trim() == "ok", "{run}");
    assert_refused(
        &cluster.kubectl(&["get", "--raw", "/api/v1/namespaces/dev/configmaps"]),
        "configmaps is forbidden: User \"system:anonymous\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"dev\"",
    );
    assert_refused(
        &cluster.kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/dev/configmaps",
            "--as",
            "jane",
        ]),
        "users \"jane\" is forbidden: User \"system:anonymous\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
    );
}
