//! The roles of the controller manager's controllers
//! (`system:controller:<name>`), each bound to the service account of its
//! name in `kube-system`, as upstream's controller policy: what each
//! controller reads and writes, and (for most) the events it records.
//! The controllers of kinds keelson does not serve (dynamic resource
//! allocation, admission policies, volume attributes classes) are left out.

use serde_json::Value;

use super::policy::{CREATE, EVENT_WRITE, READ, binding, named, role, rule, subject};

const LIST_WATCH: &[&str] = &["list", "watch"];
const UPDATE: &[&str] = &["update"];
const PATCH_UPDATE: &[&str] = &["patch", "update"];
const GET_LIST_UPDATE_WATCH: &[&str] = &["get", "list", "update", "watch"];
/// Everything but `deletecollection`, on what a controller owns.
const MANAGE: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const PODS_MANAGE: &[&str] = &["create", "delete", "list", "patch", "watch"];

/// `(controller, rules, records events)`.
type Controller = (&'static str, Vec<Value>, bool);

fn workload_controllers() -> Vec<Controller> {
    let apps = &["apps", "extensions"];
    vec![
        (
            "cronjob-controller",
            vec![
                rule(&["batch"], &["cronjobs"], GET_LIST_UPDATE_WATCH),
                rule(&["batch"], &["jobs"], MANAGE),
                rule(&["batch"], &["cronjobs/status"], UPDATE),
                rule(&["batch"], &["cronjobs/finalizers"], UPDATE),
                rule(&[""], &["pods"], &["delete", "list", "watch"]),
            ],
            true,
        ),
        (
            "daemon-set-controller",
            vec![
                rule(apps, &["daemonsets"], READ),
                rule(apps, &["daemonsets/status"], UPDATE),
                rule(apps, &["daemonsets/finalizers"], UPDATE),
                rule(&[""], &["nodes"], LIST_WATCH),
                rule(&[""], &["pods"], PODS_MANAGE),
                rule(&[""], &["pods/binding"], CREATE),
                rule(&["apps"], &["controllerrevisions"], MANAGE),
            ],
            true,
        ),
        (
            "deployment-controller",
            vec![
                rule(apps, &["deployments"], GET_LIST_UPDATE_WATCH),
                rule(apps, &["deployments/status"], UPDATE),
                rule(apps, &["deployments/finalizers"], UPDATE),
                rule(apps, &["replicasets"], MANAGE),
                rule(&[""], &["pods"], GET_LIST_UPDATE_WATCH),
            ],
            true,
        ),
        (
            "disruption-controller",
            vec![
                rule(apps, &["deployments"], READ),
                rule(apps, &["replicasets"], READ),
                rule(&[""], &["replicationcontrollers"], READ),
                rule(&["policy"], &["poddisruptionbudgets"], READ),
                rule(&["apps"], &["statefulsets"], READ),
                rule(&["policy"], &["poddisruptionbudgets/status"], UPDATE),
                rule(&[""], &["pods/status"], PATCH_UPDATE),
                rule(&["*"], &["*/scale"], &["get"]),
            ],
            true,
        ),
        (
            "horizontal-pod-autoscaler",
            vec![
                rule(&["autoscaling"], &["horizontalpodautoscalers"], READ),
                rule(
                    &["autoscaling"],
                    &["horizontalpodautoscalers/status"],
                    UPDATE,
                ),
                rule(&["*"], &["*/scale"], &["get", "update"]),
                rule(&[""], &["pods"], LIST_WATCH),
                rule(&["metrics.k8s.io"], &["pods"], LIST_WATCH),
                rule(&["custom.metrics.k8s.io"], &["*"], READ),
                rule(&["external.metrics.k8s.io"], &["*"], READ),
            ],
            true,
        ),
        (
            "job-controller",
            vec![
                rule(
                    &["batch"],
                    &["jobs"],
                    &["get", "list", "patch", "update", "watch"],
                ),
                rule(&["batch"], &["jobs/status"], UPDATE),
                rule(&["batch"], &["jobs/finalizers"], UPDATE),
                rule(&[""], &["pods"], PODS_MANAGE),
            ],
            true,
        ),
        (
            "replicaset-controller",
            vec![
                rule(apps, &["replicasets"], GET_LIST_UPDATE_WATCH),
                rule(apps, &["replicasets/status"], UPDATE),
                rule(apps, &["replicasets/finalizers"], UPDATE),
                rule(&[""], &["pods"], PODS_MANAGE),
            ],
            true,
        ),
        (
            "replication-controller",
            vec![
                rule(&[""], &["replicationcontrollers"], GET_LIST_UPDATE_WATCH),
                rule(&[""], &["replicationcontrollers/status"], UPDATE),
                rule(&[""], &["replicationcontrollers/finalizers"], UPDATE),
                rule(&[""], &["pods"], PODS_MANAGE),
            ],
            true,
        ),
        (
            "statefulset-controller",
            vec![
                rule(&[""], &["pods"], LIST_WATCH),
                rule(&["apps"], &["statefulsets"], READ),
                rule(&["apps"], &["statefulsets/status"], UPDATE),
                rule(&["apps"], &["statefulsets/finalizers"], UPDATE),
                rule(
                    &[""],
                    &["pods"],
                    &["create", "delete", "get", "patch", "update"],
                ),
                rule(&["apps"], &["controllerrevisions"], MANAGE),
                rule(
                    &[""],
                    &["persistentvolumeclaims"],
                    &["create", "get", "list", "watch"],
                ),
                rule(&[""], &["persistentvolumeclaims"], &["delete", "update"]),
                rule(&[""], &["pods/finalizers"], UPDATE),
            ],
            true,
        ),
        (
            "ttl-after-finished-controller",
            vec![rule(
                &["batch"],
                &["jobs"],
                &["delete", "get", "list", "watch"],
            )],
            true,
        ),
    ]
}

fn cluster_controllers() -> Vec<Controller> {
    let endpoint_slices = rule(
        &["discovery.k8s.io"],
        &["endpointslices"],
        &["create", "delete", "get", "list", "update", "watch"],
    );
    vec![
        (
            "certificate-controller",
            vec![
                rule(
                    &["certificates.k8s.io"],
                    &["certificatesigningrequests"],
                    &["delete", "get", "list", "watch"],
                ),
                rule(
                    &["certificates.k8s.io"],
                    &[
                        "certificatesigningrequests/approval",
                        "certificatesigningrequests/status",
                    ],
                    UPDATE,
                ),
                named(
                    &["certificates.k8s.io"],
                    &["signers"],
                    &["kubernetes.io/kube-apiserver-client-kubelet"],
                    &["approve"],
                ),
                named(
                    &["certificates.k8s.io"],
                    &["signers"],
                    &[
                        "kubernetes.io/kube-apiserver-client",
                        "kubernetes.io/kube-apiserver-client-kubelet",
                        "kubernetes.io/kubelet-serving",
                        "kubernetes.io/legacy-unknown",
                    ],
                    &["sign"],
                ),
                rule(&["authorization.k8s.io"], &["subjectaccessreviews"], CREATE),
            ],
            true,
        ),
        (
            "clusterrole-aggregation-controller",
            vec![rule(
                &["rbac.authorization.k8s.io"],
                &["clusterroles"],
                &["escalate", "get", "list", "patch", "update", "watch"],
            )],
            false,
        ),
        (
            "endpoint-controller",
            vec![
                rule(&[""], &["pods", "services"], READ),
                rule(
                    &[""],
                    &["endpoints"],
                    &["create", "delete", "get", "list", "update", "watch"],
                ),
                rule(&[""], &["endpoints/restricted"], CREATE),
            ],
            true,
        ),
        (
            "endpointslice-controller",
            vec![
                rule(&[""], &["nodes", "pods", "services"], READ),
                rule(&[""], &["services/finalizers"], UPDATE),
                endpoint_slices.clone(),
            ],
            true,
        ),
        (
            "endpointslicemirroring-controller",
            vec![
                rule(&[""], &["endpoints", "services"], READ),
                rule(&[""], &["services/finalizers"], UPDATE),
                rule(&[""], &["endpoints/finalizers"], UPDATE),
                endpoint_slices,
            ],
            true,
        ),
        (
            "generic-garbage-collector",
            vec![rule(
                &["*"],
                &["*"],
                &["delete", "get", "list", "patch", "update", "watch"],
            )],
            true,
        ),
        (
            "legacy-service-account-token-cleaner",
            vec![
                named(
                    &[""],
                    &["configmaps"],
                    &["kube-apiserver-legacy-service-account-token-tracking"],
                    &["get"],
                ),
                rule(&[""], &["secrets"], &["delete", "patch"]),
            ],
            false,
        ),
        (
            "namespace-controller",
            vec![
                rule(&[""], &["namespaces"], &["delete", "get", "list", "watch"]),
                rule(&[""], &["namespaces/finalize", "namespaces/status"], UPDATE),
                rule(
                    &["*"],
                    &["*"],
                    &["delete", "deletecollection", "get", "list"],
                ),
            ],
            false,
        ),
        (
            "node-controller",
            vec![
                rule(
                    &[""],
                    &["nodes"],
                    &["delete", "get", "list", "patch", "update", "watch"],
                ),
                rule(&[""], &["nodes/status"], PATCH_UPDATE),
                rule(&[""], &["pods/status"], PATCH_UPDATE),
                rule(&[""], &["pods"], &["delete", "get", "list", "watch"]),
            ],
            true,
        ),
        (
            "pod-garbage-collector",
            vec![
                rule(&[""], &["pods"], &["delete", "list", "watch"]),
                rule(&[""], &["nodes"], READ),
                rule(&[""], &["pods/status"], &["patch"]),
            ],
            false,
        ),
        (
            "resourcequota-controller",
            vec![
                rule(&["*"], &["*"], LIST_WATCH),
                rule(&[""], &["resourcequotas/status"], UPDATE),
            ],
            true,
        ),
        (
            "root-ca-cert-publisher",
            vec![rule(&[""], &["configmaps"], &["create", "update"])],
            true,
        ),
        (
            "route-controller",
            vec![
                rule(&[""], &["nodes"], LIST_WATCH),
                rule(&[""], &["nodes/status"], &["patch"]),
            ],
            true,
        ),
        (
            "service-account-controller",
            vec![rule(&[""], &["serviceaccounts"], CREATE)],
            true,
        ),
        (
            "service-cidrs-controller",
            vec![
                rule(
                    &["networking.k8s.io"],
                    &["servicecidrs"],
                    &["get", "list", "patch", "update", "watch"],
                ),
                rule(
                    &["networking.k8s.io"],
                    &["servicecidrs/finalizers"],
                    PATCH_UPDATE,
                ),
                rule(
                    &["networking.k8s.io"],
                    &["servicecidrs/status"],
                    PATCH_UPDATE,
                ),
                rule(&["networking.k8s.io"], &["ipaddresses"], READ),
            ],
            true,
        ),
        (
            "service-controller",
            vec![
                rule(&[""], &["services"], READ),
                rule(&[""], &["services/status"], PATCH_UPDATE),
                rule(&[""], &["nodes"], LIST_WATCH),
            ],
            true,
        ),
        (
            "ttl-controller",
            vec![rule(
                &[""],
                &["nodes"],
                &["list", "patch", "update", "watch"],
            )],
            true,
        ),
    ]
}

fn volume_controllers() -> Vec<Controller> {
    vec![
        (
            "attachdetach-controller",
            vec![
                rule(
                    &[""],
                    &["persistentvolumeclaims", "persistentvolumes"],
                    LIST_WATCH,
                ),
                rule(&[""], &["nodes"], READ),
                rule(&[""], &["nodes/status"], PATCH_UPDATE),
                rule(&[""], &["pods"], LIST_WATCH),
                rule(
                    &["storage.k8s.io"],
                    &["volumeattachments"],
                    &["create", "delete", "get", "list", "watch"],
                ),
                rule(&["storage.k8s.io"], &["csidrivers"], READ),
                rule(&["storage.k8s.io"], &["csinodes"], READ),
            ],
            true,
        ),
        (
            "ephemeral-volume-controller",
            vec![
                rule(&[""], &["pods"], READ),
                rule(&[""], &["pods/finalizers"], UPDATE),
                rule(
                    &[""],
                    &["persistentvolumeclaims"],
                    &["create", "get", "list", "watch"],
                ),
            ],
            true,
        ),
        (
            "expand-controller",
            vec![
                rule(
                    &[""],
                    &["persistentvolumes"],
                    &["get", "list", "patch", "update", "watch"],
                ),
                rule(&[""], &["persistentvolumeclaims/status"], PATCH_UPDATE),
                rule(&[""], &["persistentvolumeclaims"], READ),
            ],
            true,
        ),
        (
            "persistent-volume-binder",
            vec![
                rule(
                    &[""],
                    &["persistentvolumes"],
                    &["create", "delete", "get", "list", "update", "watch"],
                ),
                rule(&[""], &["persistentvolumes/status"], UPDATE),
                rule(&[""], &["persistentvolumeclaims"], GET_LIST_UPDATE_WATCH),
                rule(&[""], &["persistentvolumeclaims/status"], UPDATE),
                rule(
                    &[""],
                    &["pods"],
                    &["create", "delete", "get", "list", "watch"],
                ),
                rule(&["storage.k8s.io"], &["storageclasses"], READ),
                rule(&[""], &["nodes"], LIST_WATCH),
                rule(&["", "events.k8s.io"], &["events"], EVENT_WRITE),
                rule(&[""], &["events"], &["watch"]),
            ],
            false,
        ),
        (
            "pv-protection-controller",
            vec![rule(&[""], &["persistentvolumes"], GET_LIST_UPDATE_WATCH)],
            true,
        ),
        (
            "pvc-protection-controller",
            vec![
                rule(&[""], &["persistentvolumeclaims"], GET_LIST_UPDATE_WATCH),
                rule(&[""], &["persistentvolumeclaims/status"], UPDATE),
                rule(&[""], &["pods"], READ),
            ],
            true,
        ),
    ]
}

/// Every controller, by name.
fn controllers() -> Vec<Controller> {
    let mut all = workload_controllers();
    all.extend(cluster_controllers());
    all.extend(volume_controllers());
    all.sort_by_key(|(name, _, _)| *name);
    all
}

/// The controllers' roles.
pub(super) fn roles() -> Vec<Value> {
    controllers()
        .into_iter()
        .map(|(name, mut rules, records_events)| {
            if records_events {
                rules.push(rule(&["", "events.k8s.io"], &["events"], EVENT_WRITE));
            }
            role(&format!("system:controller:{name}"), None, rules)
        })
        .collect()
}

/// Each controller's role bound to its service account.
pub(super) fn bindings() -> Vec<Value> {
    controllers()
        .into_iter()
        .map(|(name, _, _)| {
            let account = subject("ServiceAccount", &format!("kube-system/{name}"));
            binding(&format!("system:controller:{name}"), vec![account])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_controller_has_one_role_and_one_binding() {
        let roles = roles();
        let bindings = bindings();
        assert_eq!(roles.len(), bindings.len());
        for (role, binding) in roles.iter().zip(&bindings) {
            assert_eq!(role["metadata"]["name"], binding["roleRef"]["name"]);
        }
        let deployment = roles
            .iter()
            .find(|r| r["metadata"]["name"] == "system:controller:deployment-controller")
            .expect("the deployment controller's role");
        assert_eq!(deployment["rules"].as_array().map(Vec::len), Some(6));
        assert_eq!(bindings[0]["subjects"][0]["namespace"], "kube-system");
    }
}
