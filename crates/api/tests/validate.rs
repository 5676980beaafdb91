//! Validation rejects what a Kubernetes v1.33 API server rejects, with the
//! same field paths and messages, and accepts ordinary objects.

use keelson_api::defaults::{apply_defaults, job_selector_defaults};
use keelson_api::registry::{self, ResourceInfo};
use keelson_api::validate::{field_errors, validate};
use serde_json::{Value, json};

fn resource(group: &str, kind: &str) -> &'static ResourceInfo {
    registry::resources_in(group, "v1")
        .find(|r| r.kind == kind)
        .expect("the kind is served")
}

fn defaulted(group: &str, kind: &str, mut object: Value) -> Value {
    apply_defaults(resource(group, kind), &mut object);
    object
}

/// The rendered field errors of creating `object` (defaulted first).
fn create_errors(group: &str, kind: &str, object: Value) -> Vec<String> {
    let object = defaulted(group, kind, object);
    render(field_errors(resource(group, kind), &object, None))
}

/// The rendered field errors of updating `old` to `new` (both defaulted).
fn update_errors(group: &str, kind: &str, old: Value, new: Value) -> Vec<String> {
    let old = defaulted(group, kind, old);
    let new = defaulted(group, kind, new);
    render(field_errors(resource(group, kind), &new, Some(&old)))
}

fn render(errors: Vec<keelson_api::FieldError>) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

fn deployment(selector: Value, labels: Value, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": selector,
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}
        }
    })
}

fn web() -> Value {
    deployment(
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web"}),
        json!([{"name": "web", "image": "nginx:1.25"}]),
    )
}

fn pod(containers: Value) -> Value {
    json!({"metadata": {"name": "p"}, "spec": {"containers": containers}})
}

#[test]
fn ordinary_objects_are_valid() {
    let job = {
        let mut job = defaulted(
            "batch",
            "Job",
            json!({"metadata": {"name": "pi", "uid": "u-1"}, "spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}}}),
        );
        job_selector_defaults(&mut job, "u-1");
        job
    };
    let cases = [
        ("apps", "Deployment", web()),
        (
            "",
            "Pod",
            pod(
                json!([{"name": "a", "image": "busybox", "ports": [{"containerPort": 80, "name": "http"}]}]),
            ),
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
        ),
        ("", "Namespace", json!({"metadata": {"name": "team-a"}})),
        (
            "",
            "ConfigMap",
            json!({"metadata": {"name": "cfg"}, "data": {"app.properties": "a=b"}}),
        ),
        (
            "",
            "Secret",
            json!({"metadata": {"name": "s"}, "stringData": {"password": "x"}}),
        ),
        ("batch", "Job", job),
        (
            "batch",
            "CronJob",
            json!({"metadata": {"name": "tick"}, "spec": {"schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
        ),
        (
            "apps",
            "StatefulSet",
            json!({"metadata": {"name": "db"}, "spec": {"serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres"}]}}}}),
        ),
        (
            "apps",
            "DaemonSet",
            json!({"metadata": {"name": "agent"}, "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "agent"}]}}}}),
        ),
        (
            "coordination.k8s.io",
            "Lease",
            json!({"metadata": {"name": "leader"}, "spec": {"leaseDurationSeconds": 15}}),
        ),
    ];
    for (group, kind, object) in cases {
        let object = defaulted(group, kind, object);
        let result = validate(resource(group, kind), &object, None);
        assert_eq!(result, Ok(()), "{kind} should be valid");
    }
}

#[test]
fn invalid_objects_name_the_field_and_the_problem() {
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "apps",
            "Deployment",
            deployment(
                json!({"matchLabels": {"app": "api"}}),
                json!({"app": "web"}),
                json!([{"name": "a", "image": "x"}]),
            ),
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
        ),
        (
            "apps",
            "Deployment",
            deployment(
                json!({}),
                json!({"app": "web"}),
                json!([{"name": "a", "image": "x"}]),
            ),
            "spec.selector: Invalid value: {}: empty selector is invalid for deployment",
        ),
        (
            "apps",
            "Deployment",
            deployment(
                json!({"matchLabels": {"app": "web"}}),
                json!({"app": "web"}),
                json!([{"name": "a"}]),
            ),
            "spec.template.spec.containers[0].image: Required value",
        ),
        (
            "apps",
            "Deployment",
            {
                let mut d = web();
                d["spec"]["replicas"] = json!(-1);
                d
            },
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            "apps",
            "Deployment",
            {
                let mut d = web();
                d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
                d
            },
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
        ),
        (
            "",
            "Pod",
            pod(
                json!([{"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}}}]),
            ),
            "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
        ),
        (
            "",
            "Pod",
            pod(json!([{"name": "a", "image": "x"}, {"name": "a", "image": "y"}])),
            "spec.containers[1].name: Duplicate value: \"a\"",
        ),
        (
            "",
            "Pod",
            pod(json!([{"name": "A_b", "image": "x"}])),
            "spec.containers[0].name: Invalid value: \"A_b\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ),
        (
            "",
            "Pod",
            pod(json!([{"name": "a", "image": "x", "ports": [{"containerPort": 70000}]}])),
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        ),
        (
            "",
            "Pod",
            pod(
                json!([{"name": "a", "image": "x", "ports": [{"containerPort": 80, "protocol": "HTTP"}]}]),
            ),
            "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
        ),
        (
            "",
            "Pod",
            pod(
                json!([{"name": "a", "image": "x", "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}]}]),
            ),
            "spec.containers[0].ports[1].name: Duplicate value: \"web\"",
        ),
        (
            "",
            "Pod",
            pod(json!([{"name": "a", "image": "x", "env": [{"name": "A=B", "value": "1"}]}])),
            "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
        ),
        (
            "",
            "Pod",
            pod(
                json!([{"name": "a", "image": "x", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]),
            ),
            "spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
        ),
        ("", "Pod", pod(json!([])), "spec.containers: Required value"),
        (
            "",
            "Pod",
            json!({"metadata": {"name": "Web"}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
            "metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ),
        (
            "",
            "Pod",
            json!({"metadata": {"name": "p", "labels": {"app": "-bad"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
            "metadata.labels: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
        (
            "",
            "Pod",
            json!({"metadata": {}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
            "metadata.name: Required value: name or generateName is required",
        ),
        (
            "",
            "Namespace",
            json!({"metadata": {"name": "team.a"}}),
            "metadata.name: Invalid value: \"team.a\": must not contain dots",
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}}}),
            "spec.ports: Required value",
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}, {"port": 443}]}}),
            "spec.ports[0].name: Required value",
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}}),
            "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        ),
        (
            "",
            "ConfigMap",
            json!({"metadata": {"name": "c"}, "data": {"a/b": "x"}}),
            "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ),
        (
            "",
            "ConfigMap",
            json!({"metadata": {"name": "c"}, "data": {"big": "x".repeat(1024 * 1024 + 1)}}),
            ": Too long: may not be more than 1048576 bytes",
        ),
        (
            "",
            "Secret",
            json!({"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "YQ=="}}),
            "data[tls.key]: Required value",
        ),
        (
            "batch",
            "Job",
            json!({"metadata": {"name": "j"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
            "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
        ),
        (
            "batch",
            "CronJob",
            json!({"metadata": {"name": "c"}, "spec": {"schedule": "* * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}}}),
            "spec.schedule: Invalid value: \"* * *\": expected exactly 5 fields, found 3: [* * *]",
        ),
        (
            "batch",
            "CronJob",
            json!({"metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}}}),
            "spec.schedule: Required value",
        ),
    ];
    for (group, kind, object, want) in cases {
        let got = create_errors(group, kind, object);
        assert!(
            got.iter().any(|e| e == want),
            "{kind}: want {want:?}, got {got:#?}"
        );
    }
}

#[test]
fn the_error_reads_like_upstream() {
    let object = defaulted(
        "apps",
        "Deployment",
        deployment(
            Value::Null,
            json!({"app": "web"}),
            json!([{"name": "web", "image": "nginx"}]),
        ),
    );
    let error = validate(resource("apps", "Deployment"), &object, None).expect_err("no selector");
    assert_eq!(error.code(), 422);
    assert_eq!(
        error.message,
        "Deployment.apps \"web\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`]"
    );
    let status = error.to_json();
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(status["details"]["kind"], "Deployment");
    assert_eq!(status["details"]["group"], "apps");
    assert_eq!(status["details"]["causes"][0]["field"], "spec.selector");
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldValueRequired"
    );
}

#[test]
fn immutable_fields_on_update() {
    let mut moved = web();
    moved["spec"]["selector"] = json!({"matchLabels": {"app": "web", "tier": "front"}});
    moved["spec"]["template"]["metadata"]["labels"] = json!({"app": "web", "tier": "front"});
    let got = update_errors("apps", "Deployment", web(), moved);
    assert_eq!(
        got,
        [
            "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"tier\":\"front\"}}: field is immutable"
        ]
    );

    let mut scaled = web();
    scaled["spec"]["replicas"] = json!(5);
    scaled["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    assert!(update_errors("apps", "Deployment", web(), scaled).is_empty());

    let sts = |service: &str, replicas: i64| {
        json!({"metadata": {"name": "db"}, "spec": {"serviceName": service, "replicas": replicas,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "pg"}]}}}})
    };
    assert!(update_errors("apps", "StatefulSet", sts("db", 1), sts("db", 3)).is_empty());
    assert_eq!(
        update_errors("apps", "StatefulSet", sts("db", 1), sts("other", 1)),
        [
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        ]
    );

    let service = |ip: &str| json!({"metadata": {"name": "web"}, "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"port": 80}]}});
    assert_eq!(
        update_errors("", "Service", service("10.0.0.1"), service("10.0.0.2")),
        ["spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.2\"}: may not change once set"]
    );
}

#[test]
fn pod_updates_may_change_images_only() {
    let old = pod(json!([{"name": "a", "image": "nginx:1.25"}]));
    let new_image =
        pod(json!([{"name": "a", "image": "nginx:1.26", "imagePullPolicy": "IfNotPresent"}]));
    assert!(update_errors("", "Pod", old.clone(), new_image).is_empty());

    let new_port =
        pod(json!([{"name": "a", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]));
    let got = update_errors("", "Pod", old.clone(), new_port);
    assert_eq!(
        got,
        [
            "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
        ]
    );

    let two = pod(json!([{"name": "a", "image": "nginx:1.25"}, {"name": "b", "image": "x"}]));
    assert_eq!(
        update_errors("", "Pod", old, two),
        ["spec.containers: Forbidden: pod updates may not add or remove containers"]
    );
}

#[test]
fn job_template_is_immutable_and_counts_not_negative() {
    let job = |image: &str, completions: i64| {
        let mut job = defaulted(
            "batch",
            "Job",
            json!({"metadata": {"name": "pi", "uid": "u-1"}, "spec": {"completions": completions, "template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "pi", "image": image}]}}}}),
        );
        job_selector_defaults(&mut job, "u-1");
        job
    };
    let resource = resource("batch", "Job");
    let changed = job("perl:2", 1);
    let got = render(field_errors(resource, &changed, Some(&job("perl:1", 1))));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("spec.template: Invalid value: "),
        "{got:#?}"
    );
    assert!(got[0].ends_with(": field is immutable"), "{got:#?}");

    let negative = job("perl", -1);
    let got = render(field_errors(resource, &negative, None));
    assert_eq!(
        got,
        ["spec.completions: Invalid value: -1: must be greater than or equal to 0"]
    );
}
