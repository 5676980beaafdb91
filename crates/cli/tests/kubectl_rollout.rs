//! The Deployment verbs of the real kubectl against `keelson up`, whose
//! controllers roll Deployments out, with stand-in nodes running the pods:
//! `rollout status`, `history`, `undo`, `pause`, `resume` and `restart`,
//! and `scale`, answering as against upstream.

mod support;

use std::time::Duration;

use support::Server;

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: app:1
";

/// `kubectl rollout status` until the rollout is complete (at most 30 s).
fn rolled_out(server: &Server) {
    let status = server.ok(&["rollout", "status", "deployment/web", "--timeout=30s"]);
    assert!(
        status
            .trim_end()
            .ends_with("deployment \"web\" successfully rolled out"),
        "{status}"
    );
}

fn image(server: &Server) -> String {
    server.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ])
}

/// The revisions `kubectl rollout history` lists.
fn revisions(server: &Server) -> Vec<String> {
    let history = server.ok(&["rollout", "history", "deployment/web"]);
    history
        .lines()
        .skip_while(|line| !line.starts_with("REVISION"))
        .skip(1)
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The pods that run and are not being deleted (at most 20 s for `want`).
fn running_pods(server: &Server, want: usize) -> usize {
    let mut count = 0;
    for _ in 0..200 {
        let pods = server.ok(&[
            "get",
            "pods",
            "-l",
            "app=web",
            "-o",
            "jsonpath={range .items[?(@.status.phase==\"Running\")]}{.metadata.deletionTimestamp}|{end}",
        ]);
        count = pods
            .split('|')
            .filter(|deleting| deleting.is_empty())
            .count()
            - 1;
        if count == want {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    count
}

#[test]
fn rollout_verbs_and_scale_behave_as_upstream() {
    let server = Server::start();
    let _nodes = server.stand_in_nodes(&["n1", "n2"]);
    let file = server.manifest("web.yaml", DEPLOYMENT);
    server.ok(&["apply", "-f", &file]);
    rolled_out(&server);
    assert_eq!(running_pods(&server, 3), 3);

    // A new image: a second revision rolls out.
    server.ok(&["set", "image", "deployment/web", "app=app:2"]);
    rolled_out(&server);
    assert_eq!(revisions(&server), ["1", "2"]);
    let second = server.ok(&["rollout", "history", "deployment/web", "--revision=2"]);
    assert!(second.contains("Image:\tapp:2"), "{second}");

    // Undo: back to the first template, which becomes revision 3.
    let undone = server.ok(&["rollout", "undo", "deployment/web"]);
    assert_eq!(undone.trim(), "deployment.apps/web rolled back");
    rolled_out(&server);
    assert_eq!(image(&server), "app:1");
    assert_eq!(revisions(&server), ["2", "3"]);

    // Paused: a change of template waits for the resume.
    let paused = server.ok(&["rollout", "pause", "deployment/web"]);
    assert_eq!(paused.trim(), "deployment.apps/web paused");
    server.ok(&["set", "image", "deployment/web", "app=app:4"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        revisions(&server),
        ["2", "3"],
        "no new revision while paused"
    );
    let resumed = server.ok(&["rollout", "resume", "deployment/web"]);
    assert_eq!(resumed.trim(), "deployment.apps/web resumed");
    rolled_out(&server);
    assert_eq!(revisions(&server), ["2", "3", "4"]);

    // Restart: the same template with a restartedAt annotation rolls out
    // as a new revision.
    let restarted = server.ok(&["rollout", "restart", "deployment/web"]);
    assert_eq!(restarted.trim(), "deployment.apps/web restarted");
    rolled_out(&server);
    assert_eq!(revisions(&server), ["2", "3", "4", "5"]);

    // Scale.
    let scaled = server.ok(&["scale", "deployment/web", "--replicas=5"]);
    assert_eq!(scaled.trim(), "deployment.apps/web scaled");
    rolled_out(&server);
    assert_eq!(running_pods(&server, 5), 5);
    let ready = server.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.status.readyReplicas}/{.status.availableReplicas}",
    ]);
    assert_eq!(ready, "5/5");
    let scaled = server.ok(&["scale", "deployment/web", "--replicas=2"]);
    assert_eq!(scaled.trim(), "deployment.apps/web scaled");
    rolled_out(&server);
    assert_eq!(running_pods(&server, 2), 2);

    // `kubectl get` prints the columns upstream's does.
    let table = server.ok(&["get", "deployment", "web"]);
    let row = support::row(&table, "web");
    assert_eq!(&row[1..4], ["2/2", "2", "2"], "{table}");
}
