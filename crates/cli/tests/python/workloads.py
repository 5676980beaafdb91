"""Creates every workload kind with the official Python client's typed
models against the server of the kubeconfig given as the first argument,
and reads each back through the typed API (which refuses objects missing
fields its models require). Prints one line per kind; exits non-zero on
the first failure."""

import sys

from kubernetes import client, config

NS = "default"
LABELS = {"app": "py"}


def template():
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=LABELS),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="app", image="busybox:1.36")]
        ),
    )


def selector():
    return client.V1LabelSelector(match_labels=LABELS)


def main():
    config.load_kube_config(config_file=sys.argv[1])
    # The server is verified with the kubeconfig's CA, over TLS.
    settings = client.Configuration.get_default_copy()
    if not settings.host.startswith("https://") or not settings.verify_ssl:
        sys.exit(f"expected a verified https server, got {settings.host} (verify_ssl={settings.verify_ssl})")
    print(f"server {settings.host}, verified")
    apps, batch, core = client.AppsV1Api(), client.BatchV1Api(), client.CoreV1Api()
    meta = client.V1ObjectMeta(name="py")
    cases = [
        (
            "Deployment",
            lambda: apps.create_namespaced_deployment(
                NS, client.V1Deployment(metadata=meta, spec=client.V1DeploymentSpec(selector=selector(), template=template()))
            ),
            lambda: apps.read_namespaced_deployment("py", NS),
        ),
        (
            "ReplicaSet",
            lambda: apps.create_namespaced_replica_set(
                NS, client.V1ReplicaSet(metadata=meta, spec=client.V1ReplicaSetSpec(selector=selector(), template=template()))
            ),
            lambda: apps.read_namespaced_replica_set("py", NS),
        ),
        (
            "StatefulSet",
            lambda: apps.create_namespaced_stateful_set(
                NS,
                client.V1StatefulSet(
                    metadata=meta,
                    spec=client.V1StatefulSetSpec(selector=selector(), template=template(), service_name="py"),
                ),
            ),
            lambda: apps.read_namespaced_stateful_set("py", NS),
        ),
        (
            "DaemonSet",
            lambda: apps.create_namespaced_daemon_set(
                NS, client.V1DaemonSet(metadata=meta, spec=client.V1DaemonSetSpec(selector=selector(), template=template()))
            ),
            lambda: apps.read_namespaced_daemon_set("py", NS),
        ),
        (
            "Job",
            lambda: batch.create_namespaced_job(
                NS, client.V1Job(metadata=meta, spec=client.V1JobSpec(template=restart_never(template())))
            ),
            lambda: batch.read_namespaced_job("py", NS),
        ),
        (
            "CronJob",
            lambda: batch.create_namespaced_cron_job(
                NS,
                client.V1CronJob(
                    metadata=meta,
                    spec=client.V1CronJobSpec(
                        schedule="*/5 * * * *",
                        job_template=client.V1JobTemplateSpec(spec=client.V1JobSpec(template=restart_never(template()))),
                    ),
                ),
            ),
            lambda: batch.read_namespaced_cron_job("py", NS),
        ),
        (
            "Pod",
            lambda: core.create_namespaced_pod(NS, client.V1Pod(metadata=meta, spec=template().spec)),
            lambda: core.read_namespaced_pod("py", NS),
        ),
        (
            "Service",
            lambda: core.create_namespaced_service(
                NS, client.V1Service(metadata=meta, spec=client.V1ServiceSpec(selector=LABELS, ports=[client.V1ServicePort(port=80)]))
            ),
            lambda: core.read_namespaced_service("py", NS),
        ),
    ]
    for kind, create, read in cases:
        create()
        read()
        listed = {
            "Deployment": lambda: apps.list_namespaced_deployment(NS),
            "ReplicaSet": lambda: apps.list_namespaced_replica_set(NS),
            "StatefulSet": lambda: apps.list_namespaced_stateful_set(NS),
            "DaemonSet": lambda: apps.list_namespaced_daemon_set(NS),
            "Job": lambda: batch.list_namespaced_job(NS),
            "CronJob": lambda: batch.list_namespaced_cron_job(NS),
            "Pod": lambda: core.list_namespaced_pod(NS),
            "Service": lambda: core.list_namespaced_service(NS),
        }[kind]()
        assert any(item.metadata.name == "py" for item in listed.items), kind
        print(f"read back {kind}")


def restart_never(template_spec):
    template_spec.spec.restart_policy = "Never"
    return template_spec


if __name__ == "__main__":
    main()
