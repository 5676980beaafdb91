//! `kubectl create <kind>` end to end: kubectl 1.32+ sends these bodies in
//! protobuf only (`application/vnd.kubernetes.protobuf`), so each command
//! succeeding against `keelson up`, and `kubectl get -o json` then showing
//! the fields it asked for, is what a user of the real kubectl needs.
//!
//! kubectl is a required tool here: when it is missing the tests fail with
//! instructions, they never skip.

mod support;

use serde_json::Value;

use support::Server;

impl Server {
    /// `kubectl get KIND NAME -n x -o json`, parsed.
    fn get(&self, kind: &str, name: &str) -> Value {
        let out = self.ok(&["get", kind, name, "-n", "x", "-o", "json"]);
        serde_json::from_str(&out).unwrap_or_else(|err| panic!("not JSON ({err}):\n{out}"))
    }
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
