//! The table behind [`crate::registry`]: one entry per resource, with the
//! names, verbs and subresources a Kubernetes v1.33 API server advertises.

use crate::registry::{ALL_VERBS, ResourceInfo, Subresource};

/// Verbs of namespaces: no `deletecollection`.
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];
const PROXY_VERBS: &[&str] = &["create", "delete", "get", "patch", "update"];
const CONNECT_VERBS: &[&str] = &["create", "get"];

const fn sub(
    name: &'static str,
    group: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> Subresource {
    let version = "v1";
    Subresource {
        name,
        group,
        version,
        kind,
        verbs,
    }
}

const fn status(group: &'static str, kind: &'static str) -> Subresource {
    sub("status", group, kind, STATUS_VERBS)
}

const SCALE: Subresource = sub("scale", "autoscaling", "Scale", STATUS_VERBS);

/// A resource with the common shape: version v1, list kind `<Kind>List`,
/// all verbs.
macro_rules! resource {
    (
        $group:literal $kind:literal $plural:literal $singular:literal,
        short $short:expr, categories $categories:expr, namespaced $namespaced:literal,
        $(verbs $verbs:expr,)? subresources $subresources:expr, definition $definition:literal
    ) => {
        ResourceInfo {
            group: $group,
            version: "v1",
            kind: $kind,
            list_kind: concat!($kind, "List"),
            plural: $plural,
            singular: $singular,
            short_names: $short,
            categories: $categories,
            namespaced: $namespaced,
            verbs: resource!(@verbs $($verbs)?),
            subresources: $subresources,
            definition: $definition,
        }
    };
    (@verbs) => { ALL_VERBS };
    (@verbs $verbs:expr) => { $verbs };
}

const NONE: &[&str] = &[];
const ALL: &[&str] = &["all"];

pub(crate) static RESOURCES: &[ResourceInfo] = &[
    resource!("" "ConfigMap" "configmaps" "configmap",
        short &["cm"], categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.ConfigMap"),
    resource!("" "Endpoints" "endpoints" "endpoints",
        short &["ep"], categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.Endpoints"),
    resource!("" "Event" "events" "event",
        short &["ev"], categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.Event"),
    resource!("" "Namespace" "namespaces" "namespace",
        short &["ns"], categories NONE, namespaced false,
        verbs NAMESPACE_VERBS,
        subresources &[
            sub("finalize", "", "Namespace", &["update"]),
            status("", "Namespace"),
        ],
        definition "io.k8s.api.core.v1.Namespace"),
    resource!("" "Node" "nodes" "node",
        short &["no"], categories NONE, namespaced false,
        subresources &[
            sub("proxy", "", "NodeProxyOptions", PROXY_VERBS),
            status("", "Node"),
        ],
        definition "io.k8s.api.core.v1.Node"),
    resource!("" "PersistentVolumeClaim" "persistentvolumeclaims" "persistentvolumeclaim",
        short &["pvc"], categories NONE, namespaced true,
        subresources &[status("", "PersistentVolumeClaim")],
        definition "io.k8s.api.core.v1.PersistentVolumeClaim"),
    resource!("" "PersistentVolume" "persistentvolumes" "persistentvolume",
        short &["pv"], categories NONE, namespaced false,
        subresources &[status("", "PersistentVolume")],
        definition "io.k8s.api.core.v1.PersistentVolume"),
    resource!("" "Pod" "pods" "pod",
        short &["po"], categories ALL, namespaced true,
        subresources &[
            sub("attach", "", "PodAttachOptions", CONNECT_VERBS),
            sub("binding", "", "Binding", &["create"]),
            sub("ephemeralcontainers", "", "Pod", STATUS_VERBS),
            sub("eviction", "policy", "Eviction", &["create"]),
            sub("exec", "", "PodExecOptions", CONNECT_VERBS),
            sub("log", "", "Pod", &["get"]),
            sub("portforward", "", "PodPortForwardOptions", CONNECT_VERBS),
            sub("proxy", "", "PodProxyOptions", PROXY_VERBS),
            sub("resize", "", "Pod", STATUS_VERBS),
            status("", "Pod"),
        ],
        definition "io.k8s.api.core.v1.Pod"),
    resource!("" "Secret" "secrets" "secret",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.Secret"),
    resource!("" "ServiceAccount" "serviceaccounts" "serviceaccount",
        short &["sa"], categories NONE, namespaced true,
        subresources &[sub("token", "authentication.k8s.io", "TokenRequest", &["create"])],
        definition "io.k8s.api.core.v1.ServiceAccount"),
    resource!("" "Service" "services" "service",
        short &["svc"], categories ALL, namespaced true,
        subresources &[
            sub("proxy", "", "ServiceProxyOptions", PROXY_VERBS),
            status("", "Service"),
        ],
        definition "io.k8s.api.core.v1.Service"),
    resource!("apps" "ControllerRevision" "controllerrevisions" "controllerrevision",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.apps.v1.ControllerRevision"),
    resource!("apps" "DaemonSet" "daemonsets" "daemonset",
        short &["ds"], categories ALL, namespaced true,
        subresources &[status("apps", "DaemonSet")],
        definition "io.k8s.api.apps.v1.DaemonSet"),
    resource!("apps" "Deployment" "deployments" "deployment",
        short &["deploy"], categories ALL, namespaced true,
        subresources &[SCALE, status("apps", "Deployment")],
        definition "io.k8s.api.apps.v1.Deployment"),
    resource!("apps" "ReplicaSet" "replicasets" "replicaset",
        short &["rs"], categories ALL, namespaced true,
        subresources &[SCALE, status("apps", "ReplicaSet")],
        definition "io.k8s.api.apps.v1.ReplicaSet"),
    resource!("apps" "StatefulSet" "statefulsets" "statefulset",
        short &["sts"], categories ALL, namespaced true,
        subresources &[SCALE, status("apps", "StatefulSet")],
        definition "io.k8s.api.apps.v1.StatefulSet"),
    resource!("batch" "CronJob" "cronjobs" "cronjob",
        short &["cj"], categories ALL, namespaced true,
        subresources &[status("batch", "CronJob")],
        definition "io.k8s.api.batch.v1.CronJob"),
    resource!("batch" "Job" "jobs" "job",
        short NONE, categories ALL, namespaced true,
        subresources &[status("batch", "Job")],
        definition "io.k8s.api.batch.v1.Job"),
    resource!("coordination.k8s.io" "Lease" "leases" "lease",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.coordination.v1.Lease"),
    resource!("discovery.k8s.io" "EndpointSlice" "endpointslices" "endpointslice",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.discovery.v1.EndpointSlice"),
];
