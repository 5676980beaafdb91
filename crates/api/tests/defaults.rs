//! Defaulting fills what a Kubernetes v1.33 API server fills, keeps what
//! the user set and fields it does not know.

use keelson_api::defaults::{apply_defaults, job_selector_defaults};
use keelson_api::registry;
use serde_json::{Value, json};

fn defaulted(group: &str, kind: &str, mut object: Value) -> Value {
    let resource = registry::resources_in(group, "v1")
        .find(|r| r.kind == kind)
        .expect("the kind is served");
    apply_defaults(resource, &mut object);
    object
}

fn deployment(template_spec: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": template_spec}}
    })
}

#[test]
fn deployment_with_only_a_template_gets_upstream_defaults() {
    let spec = json!({"containers": [{"name": "web", "image": "nginx"}]});
    let got = defaulted("apps", "Deployment", deployment(spec));
    assert_eq!(got["spec"]["replicas"], 1);
    assert_eq!(
        got["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(got["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(got["spec"]["progressDeadlineSeconds"], 600);
    let pod = &got["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod["schedulerName"], "default-scheduler");
    assert_eq!(pod["securityContext"], json!({}));
    // A Pod-only default: templates do not get it.
    assert!(pod.get("enableServiceLinks").is_none());
    let container = &pod["containers"][0];
    assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(container["terminationMessagePolicy"], "File");
    assert_eq!(container["resources"], json!({}));
}

#[test]
fn pull_policy_depends_on_the_image_tag() {
    let cases = [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("localhost:5000/nginx", "Always"),
        (
            "nginx@sha256:2f68b99bc0d6d25d0c56876b924ec20418544ff28e1fb89a4c27679a40da811b",
            "IfNotPresent",
        ),
    ];
    for (image, want) in cases {
        let spec = json!({"containers": [{"name": "c", "image": image}]});
        let got = defaulted("apps", "Deployment", deployment(spec));
        let policy = &got["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"];
        assert_eq!(policy, want, "image {image}");
    }
}

#[test]
fn values_the_user_set_and_unknown_fields_are_kept() {
    let mut object = deployment(json!({
        "restartPolicy": "Always",
        "dnsPolicy": "Default",
        "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Never", "futureField": 1}]
    }));
    object["spec"]["replicas"] = json!(0);
    object["spec"]["strategy"] = json!({"type": "Recreate"});
    object["spec"]["somethingNew"] = json!({"a": [1, 2]});
    let got = defaulted("apps", "Deployment", object);
    assert_eq!(got["spec"]["replicas"], 0);
    assert_eq!(got["spec"]["strategy"], json!({"type": "Recreate"}));
    assert_eq!(got["spec"]["somethingNew"], json!({"a": [1, 2]}));
    let pod = &got["spec"]["template"]["spec"];
    assert_eq!(pod["dnsPolicy"], "Default");
    assert_eq!(pod["containers"][0]["imagePullPolicy"], "Never");
    assert_eq!(pod["containers"][0]["futureField"], 1);
}

#[test]
fn defaulting_twice_changes_nothing() {
    let objects = [
        (
            "apps",
            "Deployment",
            deployment(json!({"containers": [{"name": "c", "image": "a"}]})),
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}),
        ),
        (
            "batch",
            "Job",
            json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {}}}}),
        ),
    ];
    for (group, kind, object) in objects {
        let once = defaulted(group, kind, object);
        let twice = defaulted(group, kind, once.clone());
        assert_eq!(once, twice, "{kind}");
    }
}

#[test]
fn pod_gets_pod_only_defaults_probes_env_and_volumes() {
    let pod = json!({
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{
                "name": "c", "image": "busybox:1.36",
                "ports": [{"containerPort": 80}],
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}},
                "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                "livenessProbe": {"httpGet": {"port": 80}},
                "volumeMounts": [{"name": "scratch", "mountPath": "/tmp"}]
            }],
            "volumes": [
                {"name": "scratch"},
                {"name": "cfg", "configMap": {"name": "c"}},
                {"name": "sec", "secret": {"secretName": "s"}},
                {"name": "host", "hostPath": {"path": "/var/log"}}
            ]
        }
    });
    let got = defaulted("", "Pod", pod);
    let spec = &got["spec"];
    assert_eq!(spec["enableServiceLinks"], true);
    assert_eq!(spec["restartPolicy"], "Always");
    let container = &spec["containers"][0];
    assert_eq!(container["ports"][0]["protocol"], "TCP");
    assert_eq!(
        container["resources"]["requests"],
        json!({"cpu": "500m", "memory": "1Gi"}),
        "requests default to limits, resource by resource"
    );
    assert_eq!(
        container["env"][0]["valueFrom"]["fieldRef"]["apiVersion"],
        "v1"
    );
    assert_eq!(
        container["livenessProbe"],
        json!({
            "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
        })
    );
    assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
    assert_eq!(spec["volumes"][1]["configMap"]["defaultMode"], 420);
    assert_eq!(spec["volumes"][2]["secret"]["defaultMode"], 420);
    assert_eq!(spec["volumes"][3]["hostPath"]["type"], "");
}

#[test]
fn host_network_pods_expose_container_ports_on_the_host() {
    let pod = json!({"spec": {"hostNetwork": true, "containers": [
        {"name": "c", "image": "a", "ports": [{"containerPort": 8080}]}
    ]}});
    let got = defaulted("", "Pod", pod);
    assert_eq!(got["spec"]["containers"][0]["ports"][0]["hostPort"], 8080);
}

#[test]
fn stateful_set_and_daemon_set_defaults() {
    let sts = defaulted(
        "apps",
        "StatefulSet",
        json!({"spec": {"serviceName": "db", "template": {"spec": {"containers": []}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}]}}),
    );
    let spec = &sts["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["serviceName"], "db");
    assert_eq!(spec["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        spec["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(
        spec["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(
        spec["volumeClaimTemplates"][0]["spec"]["volumeMode"],
        "Filesystem"
    );
    assert_eq!(
        spec["volumeClaimTemplates"][0]["status"]["phase"],
        "Pending"
    );

    let ds = defaulted(
        "apps",
        "DaemonSet",
        json!({"spec": {"template": {"spec": {}}}}),
    );
    assert_eq!(
        ds["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(ds["spec"]["revisionHistoryLimit"], 10);

    let rs = defaulted("apps", "ReplicaSet", json!({"spec": {}}));
    assert_eq!(rs["spec"]["replicas"], 1);
}

#[test]
fn job_defaults_follow_completions_and_parallelism() {
    let cases = [
        (json!({}), json!(1), json!(1)),
        (json!({"parallelism": 3}), Value::Null, json!(3)),
        (json!({"completions": 5}), json!(5), json!(1)),
    ];
    for (spec, completions, parallelism) in cases {
        let mut spec = spec;
        spec["template"] =
            json!({"metadata": {"labels": {"app": "batch"}}, "spec": {"containers": []}});
        let got = defaulted(
            "batch",
            "Job",
            json!({"metadata": {"name": "j"}, "spec": spec}),
        );
        let spec = &got["spec"];
        assert_eq!(
            spec.get("completions").cloned().unwrap_or(Value::Null),
            completions
        );
        assert_eq!(spec["parallelism"], parallelism);
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        // The user must choose OnFailure or Never: no default here.
        assert!(spec["template"]["spec"].get("restartPolicy").is_none());
        assert_eq!(got["metadata"]["labels"], json!({"app": "batch"}));
    }
}

#[test]
fn job_selector_is_generated_from_the_uid() {
    let mut job = json!({"metadata": {"name": "pi"}, "spec": {"template": {"metadata": {"labels": {"app": "pi"}}}}});
    job_selector_defaults(&mut job, "u-1");
    assert_eq!(
        job["spec"]["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})
    );
    assert_eq!(
        job["spec"]["template"]["metadata"]["labels"],
        json!({
            "app": "pi",
            "controller-uid": "u-1",
            "batch.kubernetes.io/controller-uid": "u-1",
            "job-name": "pi",
            "batch.kubernetes.io/job-name": "pi"
        })
    );

    let mut manual = json!({"metadata": {"name": "m"}, "spec": {"manualSelector": true}});
    job_selector_defaults(&mut manual, "u-2");
    assert!(manual["spec"].get("selector").is_none());
}

#[test]
fn cron_job_defaults() {
    let got = defaulted(
        "batch",
        "CronJob",
        json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
    );
    let spec = &got["spec"];
    assert_eq!(spec["concurrencyPolicy"], "Allow");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["successfulJobsHistoryLimit"], 3);
    assert_eq!(spec["failedJobsHistoryLimit"], 1);
    let pod = &spec["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
    assert!(pod.get("restartPolicy").is_none());
}

#[test]
fn service_defaults() {
    let got = defaulted(
        "",
        "Service",
        json!({"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}]}}),
    );
    let spec = &got["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    assert!(spec.get("externalTrafficPolicy").is_none());
    assert_eq!(
        spec["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(spec["ports"][1]["targetPort"], "dns");

    let node_port = defaulted(
        "",
        "Service",
        json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
    );
    assert_eq!(node_port["spec"]["externalTrafficPolicy"], "Cluster");

    let lb = defaulted("", "Service", json!({"spec": {"type": "LoadBalancer"}}));
    assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);

    let headless = defaulted("", "Service", json!({"spec": {"clusterIP": "None"}}));
    assert_eq!(headless["spec"]["ipFamilyPolicy"], "RequireDualStack");

    let sticky = defaulted(
        "",
        "Service",
        json!({"spec": {"sessionAffinity": "ClientIP"}}),
    );
    assert_eq!(
        sticky["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"],
        10800
    );
}

#[test]
fn namespace_secret_and_volume_defaults() {
    let ns = defaulted("", "Namespace", json!({"metadata": {"name": "team-a"}}));
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "team-a"
    );

    let secret = defaulted(
        "",
        "Secret",
        json!({"metadata": {"name": "s"}, "data": {"a": "YQ=="}, "stringData": {"b": "hello"}}),
    );
    assert_eq!(secret["type"], "Opaque");
    assert_eq!(secret["data"], json!({"a": "YQ==", "b": "aGVsbG8="}));
    assert!(secret.get("stringData").is_none());

    let pvc = defaulted("", "PersistentVolumeClaim", json!({"spec": {}}));
    assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
    assert_eq!(pvc["status"]["phase"], "Pending");

    let pv = defaulted("", "PersistentVolume", json!({"spec": {}}));
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    assert_eq!(pv["spec"]["volumeMode"], "Filesystem");
}
