//! The table behind [`crate::registry`]: one entry per resource, with the
//! names, verbs and subresources a Kubernetes v1.33 API server advertises,
//! how keelson serves each subresource, and the kind's strategy.

use crate::registry::{ALL_VERBS, Absent, Owned, ResourceInfo, Serve, StoredAs, Subresource};
use crate::strategy;

/// Verbs of namespaces: no `deletecollection`.
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];
const PROXY_VERBS: &[&str] = &["create", "delete", "get", "patch", "update"];
const CONNECT_VERBS: &[&str] = &["create", "get"];

/// A subresource keelson does not serve yet.
const fn sub(
    name: &'static str,
    group: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> Subresource {
    served(name, group, kind, verbs, Serve::Not)
}

const fn served(
    name: &'static str,
    group: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
    serve: Serve,
) -> Subresource {
    served_in(name, group, "v1", kind, verbs, serve)
}

/// A served subresource whose kind is of another version than v1.
const fn served_in(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
    serve: Serve,
) -> Subresource {
    Subresource {
        name,
        group,
        version,
        kind,
        verbs,
        serve,
    }
}

/// What the status subresource writes.
const STATUS: &[Owned] = &[Owned {
    path: &["status"],
    absent: Absent::Null,
}];

const fn status(group: &'static str, kind: &'static str) -> Subresource {
    served("status", group, kind, STATUS_VERBS, Serve::Owns(STATUS))
}

/// What the `approval` subresource of CertificateSigningRequests writes:
/// the conditions (validation keeps Approved and Denied apart).
const APPROVAL: &[Owned] = &[Owned {
    path: &["status", "conditions"],
    absent: Absent::Null,
}];

const SCALE: Subresource = served("scale", "autoscaling", "Scale", STATUS_VERBS, Serve::Scale);

/// The stored form of events.k8s.io Events: core Events.
const CORE_EVENTS: StoredAs = StoredAs {
    group: "",
    plural: "events",
    to_storage: crate::conversion::events::to_core,
    from_storage: crate::conversion::events::from_core,
};

/// The stored form of autoscaling/v1 HorizontalPodAutoscalers: v2's.
const HPA_V2: StoredAs = StoredAs {
    group: "autoscaling",
    plural: "horizontalpodautoscalers",
    to_storage: crate::conversion::hpa::to_v2,
    from_storage: crate::conversion::hpa::from_v2,
};

/// A resource with the common shape: list kind `<Kind>List`, all verbs,
/// version v1 unless named, stored in its own form unless `stored_as`
/// says otherwise.
macro_rules! resource {
    (
        $group:literal $kind:literal $plural:literal $singular:literal,
        short $short:expr, categories $categories:expr, namespaced $namespaced:literal,
        $(verbs $verbs:expr,)? subresources $subresources:expr, definition $definition:literal,
        strategy $strategy:expr
        $(, version $version:literal)?
        $(, stored_as $stored:expr)?
    ) => {
        ResourceInfo {
            group: $group,
            version: resource!(@version $($version)?),
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
            strategy: &$strategy,
            stored_as: resource!(@stored $($stored)?),
        }
    };
    (@verbs) => { ALL_VERBS };
    (@verbs $verbs:expr) => { $verbs };
    (@version) => { "v1" };
    (@version $version:literal) => { $version };
    (@stored) => { None };
    (@stored $stored:expr) => { Some($stored) };
}

const NONE: &[&str] = &[];
const ALL: &[&str] = &["all"];
const API_EXTENSIONS: &[&str] = &["api-extensions"];

pub(crate) static RESOURCES: &[ResourceInfo] = &[
    resource!("" "ConfigMap" "configmaps" "configmap",
        short &["cm"], categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.ConfigMap",
        strategy strategy::CONFIG_MAP),
    resource!("" "Endpoints" "endpoints" "endpoints",
        short &["ep"], categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.Endpoints",
        strategy strategy::ENDPOINTS),
    resource!("" "Event" "events" "event",
        short &["ev"], categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.Event",
        strategy strategy::EVENT),
    resource!("" "LimitRange" "limitranges" "limitrange",
        short &["limits"], categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.LimitRange",
        strategy strategy::LIMIT_RANGE),
    resource!("" "Namespace" "namespaces" "namespace",
        short &["ns"], categories NONE, namespaced false,
        verbs NAMESPACE_VERBS,
        subresources &[
            served("finalize", "", "Namespace", &["update"], Serve::Owns(&[Owned {
                path: &["spec", "finalizers"],
                absent: Absent::EmptyList,
            }])),
            status("", "Namespace"),
        ],
        definition "io.k8s.api.core.v1.Namespace",
        strategy strategy::NAMESPACE),
    resource!("" "Node" "nodes" "node",
        short &["no"], categories NONE, namespaced false,
        subresources &[
            sub("proxy", "", "NodeProxyOptions", PROXY_VERBS),
            status("", "Node"),
        ],
        definition "io.k8s.api.core.v1.Node",
        strategy strategy::NODE),
    resource!("" "PersistentVolumeClaim" "persistentvolumeclaims" "persistentvolumeclaim",
        short &["pvc"], categories NONE, namespaced true,
        subresources &[status("", "PersistentVolumeClaim")],
        definition "io.k8s.api.core.v1.PersistentVolumeClaim",
        strategy strategy::PERSISTENT_VOLUME_CLAIM),
    resource!("" "PersistentVolume" "persistentvolumes" "persistentvolume",
        short &["pv"], categories NONE, namespaced false,
        subresources &[status("", "PersistentVolume")],
        definition "io.k8s.api.core.v1.PersistentVolume",
        strategy strategy::PERSISTENT_VOLUME),
    resource!("" "Pod" "pods" "pod",
        short &["po"], categories ALL, namespaced true,
        subresources &[
            sub("attach", "", "PodAttachOptions", CONNECT_VERBS),
            served("binding", "", "Binding", &["create"], Serve::Binding),
            sub("ephemeralcontainers", "", "Pod", STATUS_VERBS),
            served("eviction", "policy", "Eviction", &["create"], Serve::Eviction),
            sub("exec", "", "PodExecOptions", CONNECT_VERBS),
            sub("log", "", "Pod", &["get"]),
            sub("portforward", "", "PodPortForwardOptions", CONNECT_VERBS),
            sub("proxy", "", "PodProxyOptions", PROXY_VERBS),
            sub("resize", "", "Pod", STATUS_VERBS),
            status("", "Pod"),
        ],
        definition "io.k8s.api.core.v1.Pod",
        strategy strategy::POD),
    resource!("" "PodTemplate" "podtemplates" "podtemplate",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.PodTemplate",
        strategy strategy::POD_TEMPLATE),
    resource!("" "ReplicationController" "replicationcontrollers" "replicationcontroller",
        short &["rc"], categories ALL, namespaced true,
        subresources &[SCALE, status("", "ReplicationController")],
        definition "io.k8s.api.core.v1.ReplicationController",
        strategy strategy::REPLICATION_CONTROLLER),
    resource!("" "ResourceQuota" "resourcequotas" "resourcequota",
        short &["quota"], categories NONE, namespaced true,
        subresources &[status("", "ResourceQuota")],
        definition "io.k8s.api.core.v1.ResourceQuota",
        strategy strategy::RESOURCE_QUOTA),
    resource!("" "Secret" "secrets" "secret",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.core.v1.Secret",
        strategy strategy::SECRET),
    resource!("" "ServiceAccount" "serviceaccounts" "serviceaccount",
        short &["sa"], categories NONE, namespaced true,
        subresources &[served(
            "token",
            "authentication.k8s.io",
            "TokenRequest",
            &["create"],
            Serve::TokenRequest,
        )],
        definition "io.k8s.api.core.v1.ServiceAccount",
        strategy strategy::SERVICE_ACCOUNT),
    resource!("" "Service" "services" "service",
        short &["svc"], categories ALL, namespaced true,
        subresources &[
            sub("proxy", "", "ServiceProxyOptions", PROXY_VERBS),
            status("", "Service"),
        ],
        definition "io.k8s.api.core.v1.Service",
        strategy strategy::SERVICE),
    resource!("apiregistration.k8s.io" "APIService" "apiservices" "apiservice",
        short NONE, categories API_EXTENSIONS, namespaced false,
        subresources &[status("apiregistration.k8s.io", "APIService")],
        definition "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService",
        strategy strategy::API_SERVICE),
    resource!("apps" "ControllerRevision" "controllerrevisions" "controllerrevision",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.apps.v1.ControllerRevision",
        strategy strategy::CONTROLLER_REVISION),
    resource!("apps" "DaemonSet" "daemonsets" "daemonset",
        short &["ds"], categories ALL, namespaced true,
        subresources &[status("apps", "DaemonSet")],
        definition "io.k8s.api.apps.v1.DaemonSet",
        strategy strategy::DAEMON_SET),
    resource!("apps" "Deployment" "deployments" "deployment",
        short &["deploy"], categories ALL, namespaced true,
        subresources &[SCALE, status("apps", "Deployment")],
        definition "io.k8s.api.apps.v1.Deployment",
        strategy strategy::DEPLOYMENT),
    resource!("apps" "ReplicaSet" "replicasets" "replicaset",
        short &["rs"], categories ALL, namespaced true,
        subresources &[SCALE, status("apps", "ReplicaSet")],
        definition "io.k8s.api.apps.v1.ReplicaSet",
        strategy strategy::REPLICA_SET),
    resource!("apps" "StatefulSet" "statefulsets" "statefulset",
        short &["sts"], categories ALL, namespaced true,
        subresources &[SCALE, status("apps", "StatefulSet")],
        definition "io.k8s.api.apps.v1.StatefulSet",
        strategy strategy::STATEFUL_SET),
    resource!("events.k8s.io" "Event" "events" "event",
        short &["ev"], categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.events.v1.Event",
        strategy strategy::EVENTS_EVENT, stored_as CORE_EVENTS),
    resource!("autoscaling" "HorizontalPodAutoscaler" "horizontalpodautoscalers" "horizontalpodautoscaler",
        short &["hpa"], categories ALL, namespaced true,
        subresources &[served_in("status", "autoscaling", "v2", "HorizontalPodAutoscaler", STATUS_VERBS, Serve::Owns(STATUS))],
        definition "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
        strategy strategy::HORIZONTAL_POD_AUTOSCALER, version "v2"),
    resource!("autoscaling" "HorizontalPodAutoscaler" "horizontalpodautoscalers" "horizontalpodautoscaler",
        short &["hpa"], categories ALL, namespaced true,
        subresources &[served_in("status", "autoscaling", "v1", "HorizontalPodAutoscaler", STATUS_VERBS, Serve::Owns(STATUS))],
        definition "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
        strategy strategy::HORIZONTAL_POD_AUTOSCALER_V1, version "v1", stored_as HPA_V2),
    resource!("batch" "CronJob" "cronjobs" "cronjob",
        short &["cj"], categories ALL, namespaced true,
        subresources &[status("batch", "CronJob")],
        definition "io.k8s.api.batch.v1.CronJob",
        strategy strategy::CRON_JOB),
    resource!("batch" "Job" "jobs" "job",
        short NONE, categories ALL, namespaced true,
        subresources &[status("batch", "Job")],
        definition "io.k8s.api.batch.v1.Job",
        strategy strategy::JOB),
    resource!("certificates.k8s.io" "CertificateSigningRequest" "certificatesigningrequests" "certificatesigningrequest",
        short &["csr"], categories NONE, namespaced false,
        subresources &[
            served("approval", "certificates.k8s.io", "CertificateSigningRequest", STATUS_VERBS, Serve::Owns(APPROVAL)),
            status("certificates.k8s.io", "CertificateSigningRequest"),
        ],
        definition "io.k8s.api.certificates.v1.CertificateSigningRequest",
        strategy strategy::CERTIFICATE_SIGNING_REQUEST),
    resource!("networking.k8s.io" "IngressClass" "ingressclasses" "ingressclass",
        short NONE, categories NONE, namespaced false,
        subresources &[], definition "io.k8s.api.networking.v1.IngressClass",
        strategy strategy::INGRESS_CLASS),
    resource!("networking.k8s.io" "Ingress" "ingresses" "ingress",
        short &["ing"], categories NONE, namespaced true,
        subresources &[status("networking.k8s.io", "Ingress")],
        definition "io.k8s.api.networking.v1.Ingress",
        strategy strategy::INGRESS),
    resource!("networking.k8s.io" "IPAddress" "ipaddresses" "ipaddress",
        short &["ip"], categories NONE, namespaced false,
        subresources &[], definition "io.k8s.api.networking.v1.IPAddress",
        strategy strategy::IP_ADDRESS),
    resource!("networking.k8s.io" "NetworkPolicy" "networkpolicies" "networkpolicy",
        short &["netpol"], categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.networking.v1.NetworkPolicy",
        strategy strategy::NETWORK_POLICY),
    resource!("networking.k8s.io" "ServiceCIDR" "servicecidrs" "servicecidr",
        short NONE, categories NONE, namespaced false,
        subresources &[status("networking.k8s.io", "ServiceCIDR")],
        definition "io.k8s.api.networking.v1.ServiceCIDR",
        strategy strategy::SERVICE_CIDR),
    resource!("policy" "PodDisruptionBudget" "poddisruptionbudgets" "poddisruptionbudget",
        short &["pdb"], categories NONE, namespaced true,
        subresources &[status("policy", "PodDisruptionBudget")],
        definition "io.k8s.api.policy.v1.PodDisruptionBudget",
        strategy strategy::POD_DISRUPTION_BUDGET),
    resource!("rbac.authorization.k8s.io" "ClusterRoleBinding" "clusterrolebindings" "clusterrolebinding",
        short NONE, categories NONE, namespaced false,
        subresources &[], definition "io.k8s.api.rbac.v1.ClusterRoleBinding",
        strategy strategy::CLUSTER_ROLE_BINDING),
    resource!("rbac.authorization.k8s.io" "ClusterRole" "clusterroles" "clusterrole",
        short NONE, categories NONE, namespaced false,
        subresources &[], definition "io.k8s.api.rbac.v1.ClusterRole",
        strategy strategy::CLUSTER_ROLE),
    resource!("rbac.authorization.k8s.io" "RoleBinding" "rolebindings" "rolebinding",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.rbac.v1.RoleBinding",
        strategy strategy::ROLE_BINDING),
    resource!("rbac.authorization.k8s.io" "Role" "roles" "role",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.rbac.v1.Role",
        strategy strategy::ROLE),
    resource!("storage.k8s.io" "StorageClass" "storageclasses" "storageclass",
        short &["sc"], categories NONE, namespaced false,
        subresources &[], definition "io.k8s.api.storage.v1.StorageClass",
        strategy strategy::STORAGE_CLASS),
    resource!("storage.k8s.io" "CSINode" "csinodes" "csinode",
        short NONE, categories NONE, namespaced false,
        subresources &[], definition "io.k8s.api.storage.v1.CSINode",
        strategy strategy::CSI_NODE),
    resource!("apiextensions.k8s.io" "CustomResourceDefinition" "customresourcedefinitions" "customresourcedefinition",
        short &["crd", "crds"], categories API_EXTENSIONS, namespaced false,
        subresources &[status("apiextensions.k8s.io", "CustomResourceDefinition")],
        definition "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
        strategy strategy::CUSTOM_RESOURCE_DEFINITION),
    resource!("scheduling.k8s.io" "PriorityClass" "priorityclasses" "priorityclass",
        short &["pc"], categories NONE, namespaced false,
        subresources &[], definition "io.k8s.api.scheduling.v1.PriorityClass",
        strategy strategy::PRIORITY_CLASS),
    resource!("coordination.k8s.io" "Lease" "leases" "lease",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.coordination.v1.Lease",
        strategy strategy::LEASE),
    resource!("discovery.k8s.io" "EndpointSlice" "endpointslices" "endpointslice",
        short NONE, categories NONE, namespaced true,
        subresources &[], definition "io.k8s.api.discovery.v1.EndpointSlice",
        strategy strategy::ENDPOINT_SLICE),
];
