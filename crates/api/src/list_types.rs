//! The list semantics of every list-valued field of the served kinds (and
//! of the types they contain), as Kubernetes v1.33 declares them: the list
//! type and map keys that server-side apply uses, and the patch strategy and
//! merge key that strategic merge patch uses. The OpenAPI documents publish
//! the same values as `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
//! `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`.
//!
//! Fields are keyed by the OpenAPI definition name of the type that holds
//! them (`io.k8s.api.core.v1.PodSpec`) and the field's JSON name
//! (`containers`). This table is the one source of truth for all three
//! consumers. Every list field reachable from the served kinds declares a
//! list type in v1.33, except the `items` of list objects, which are left
//! out. The same module records the maps and the struct types that apply
//! replaces as a whole (both published as `x-kubernetes-map-type: atomic`).
//!
//! The values were read from the Kubernetes v1.33 type definitions; the
//! `schemars` schemas of k8s-openapi carry none of these extensions, so the
//! OpenAPI documents must take them from here.

/// How server-side apply treats a list (`x-kubernetes-list-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListType {
    /// The list is replaced as a whole.
    Atomic,
    /// A list of unique scalars, merged as a set.
    Set,
    /// A list of objects identified by their map keys, merged per item.
    Map,
}

impl ListType {
    /// The value of `x-kubernetes-list-type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Atomic => "atomic",
            Self::Set => "set",
            Self::Map => "map",
        }
    }
}

/// How strategic merge patch treats a list (`x-kubernetes-patch-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchStrategy {
    /// `merge`: items are merged by the merge key (or as a set of scalars).
    Merge,
    /// `retainKeys`: fields absent from the patch are cleared.
    RetainKeys,
    /// `merge,retainKeys`: both.
    MergeRetainKeys,
}

impl PatchStrategy {
    /// The value of `x-kubernetes-patch-strategy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::RetainKeys => "retainKeys",
            Self::MergeRetainKeys => "merge,retainKeys",
        }
    }

    /// Whether items are merged (rather than the list replaced).
    pub fn merges(self) -> bool {
        matches!(self, Self::Merge | Self::MergeRetainKeys)
    }
}

/// The declared semantics of one list-valued field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListField {
    /// The OpenAPI definition holding the field.
    pub definition: &'static str,
    /// The JSON name of the field.
    pub field: &'static str,
    /// `x-kubernetes-list-type`.
    pub list_type: ListType,
    /// `x-kubernetes-list-map-keys` (empty unless the list type is `map`).
    pub map_keys: &'static [&'static str],
    /// `x-kubernetes-patch-strategy`; `None` means strategic merge patch
    /// replaces the list.
    pub patch_strategy: Option<PatchStrategy>,
    /// `x-kubernetes-patch-merge-key`, when declared.
    pub patch_merge_key: Option<&'static str>,
    /// The definition of the items when they are objects of a known type.
    pub item_definition: Option<&'static str>,
}

/// The semantics of `field` in `definition`, if it is a list field of a
/// known type.
pub fn list_field(definition: &str, field: &str) -> Option<&'static ListField> {
    LIST_FIELDS
        .iter()
        .find(|f| f.definition == definition && f.field == field)
}

/// The list fields of one definition, in declaration order.
pub fn list_fields_of(definition: &str) -> impl Iterator<Item = &'static ListField> {
    let definition = definition.to_string();
    LIST_FIELDS
        .iter()
        .filter(move |f| f.definition == definition)
}

/// Every list field in the table.
pub fn all_list_fields() -> &'static [ListField] {
    LIST_FIELDS
}

/// The patch strategy of a field that is not a list (published as
/// `x-kubernetes-patch-strategy` on the field): `retainKeys` on
/// `DeploymentSpec.strategy`, so that kubectl sends `$retainKeys` and a
/// switch to `Recreate` drops `rollingUpdate`.
pub fn struct_field_strategy(definition: &str, field: &str) -> Option<PatchStrategy> {
    STRUCT_FIELD_STRATEGIES
        .iter()
        .find(|(d, f, _)| *d == definition && *f == field)
        .map(|(_, _, strategy)| *strategy)
}

/// Whether server-side apply treats `field` of `definition` as an atomic map
/// (`x-kubernetes-map-type: atomic`), e.g. `PodSpec.nodeSelector`.
pub fn is_atomic_map(definition: &str, field: &str) -> bool {
    ATOMIC_MAPS
        .iter()
        .any(|(d, f)| *d == definition && *f == field)
}

/// Whether server-side apply replaces objects of `definition` as a whole
/// (`x-kubernetes-map-type: atomic` on the type), e.g. `LabelSelector`.
pub fn is_atomic_struct(definition: &str) -> bool {
    ATOMIC_STRUCTS.contains(&definition)
}

macro_rules! opt {
    (-) => {
        None
    };
    ($value:literal) => {
        Some($value)
    };
}

macro_rules! list_type {
    (atomic) => {
        ListType::Atomic
    };
    (set) => {
        ListType::Set
    };
    (map) => {
        ListType::Map
    };
}

macro_rules! strategy {
    (none) => {
        None
    };
    (merge) => {
        Some(PatchStrategy::Merge)
    };
    (retain_keys) => {
        Some(PatchStrategy::RetainKeys)
    };
    (merge_retain_keys) => {
        Some(PatchStrategy::MergeRetainKeys)
    };
}

/// `"Definition" "field" => list-type [map keys] patch-strategy merge-key item-definition;`
/// with `-` for an absent merge key or item definition.
macro_rules! list_fields {
    ($($definition:literal $field:literal => $list_type:ident [$($key:literal),*]
        $strategy:ident $merge_key:tt $item:tt;)*) => {
        &[$(ListField {
            definition: $definition,
            field: $field,
            list_type: list_type!($list_type),
            map_keys: &[$($key),*],
            patch_strategy: strategy!($strategy),
            patch_merge_key: opt!($merge_key),
            item_definition: opt!($item),
        },)*]
    };
}

#[rustfmt::skip]
static LIST_FIELDS: &[ListField] = list_fields! {
    "io.k8s.api.apps.v1.DaemonSetStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.apps.v1.DaemonSetCondition";
    "io.k8s.api.apps.v1.DeploymentStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.apps.v1.DeploymentCondition";
    "io.k8s.api.apps.v1.ReplicaSetStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.apps.v1.ReplicaSetCondition";
    "io.k8s.api.apps.v1.StatefulSetSpec" "volumeClaimTemplates" => atomic [] none - "io.k8s.api.core.v1.PersistentVolumeClaim";
    "io.k8s.api.apps.v1.StatefulSetStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.apps.v1.StatefulSetCondition";
    "io.k8s.api.autoscaling.v2.HPAScalingRules" "policies" => atomic [] none - "io.k8s.api.autoscaling.v2.HPAScalingPolicy";
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec" "metrics" => atomic [] none - "io.k8s.api.autoscaling.v2.MetricSpec";
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus" "currentMetrics" => atomic [] none - "io.k8s.api.autoscaling.v2.MetricStatus";
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerCondition";
    "io.k8s.api.batch.v1.CronJobStatus" "active" => atomic [] none - "io.k8s.api.core.v1.ObjectReference";
    "io.k8s.api.batch.v1.JobStatus" "conditions" => atomic [] merge "type" "io.k8s.api.batch.v1.JobCondition";
    "io.k8s.api.batch.v1.PodFailurePolicy" "rules" => atomic [] none - "io.k8s.api.batch.v1.PodFailurePolicyRule";
    "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement" "values" => set [] none - -;
    "io.k8s.api.batch.v1.PodFailurePolicyRule" "onPodConditions" => atomic [] none - "io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern";
    "io.k8s.api.batch.v1.SuccessPolicy" "rules" => atomic [] none - "io.k8s.api.batch.v1.SuccessPolicyRule";
    "io.k8s.api.batch.v1.UncountedTerminatedPods" "succeeded" => set [] none - -;
    "io.k8s.api.batch.v1.UncountedTerminatedPods" "failed" => set [] none - -;
    "io.k8s.api.certificates.v1.CertificateSigningRequestSpec" "groups" => atomic [] none - -;
    "io.k8s.api.certificates.v1.CertificateSigningRequestSpec" "usages" => atomic [] none - -;
    "io.k8s.api.certificates.v1.CertificateSigningRequestStatus" "conditions" => map ["type"] none - "io.k8s.api.certificates.v1.CertificateSigningRequestCondition";
    "io.k8s.api.core.v1.Capabilities" "add" => atomic [] none - -;
    "io.k8s.api.core.v1.Capabilities" "drop" => atomic [] none - -;
    "io.k8s.api.core.v1.CephFSPersistentVolumeSource" "monitors" => atomic [] none - -;
    "io.k8s.api.core.v1.CephFSVolumeSource" "monitors" => atomic [] none - -;
    "io.k8s.api.core.v1.ConfigMapProjection" "items" => atomic [] none - "io.k8s.api.core.v1.KeyToPath";
    "io.k8s.api.core.v1.ConfigMapVolumeSource" "items" => atomic [] none - "io.k8s.api.core.v1.KeyToPath";
    "io.k8s.api.core.v1.Container" "command" => atomic [] none - -;
    "io.k8s.api.core.v1.Container" "args" => atomic [] none - -;
    "io.k8s.api.core.v1.Container" "ports" => map ["containerPort", "protocol"] merge "containerPort" "io.k8s.api.core.v1.ContainerPort";
    "io.k8s.api.core.v1.Container" "envFrom" => atomic [] none - "io.k8s.api.core.v1.EnvFromSource";
    "io.k8s.api.core.v1.Container" "env" => map ["name"] merge "name" "io.k8s.api.core.v1.EnvVar";
    "io.k8s.api.core.v1.Container" "resizePolicy" => atomic [] none - "io.k8s.api.core.v1.ContainerResizePolicy";
    "io.k8s.api.core.v1.Container" "volumeMounts" => map ["mountPath"] merge "mountPath" "io.k8s.api.core.v1.VolumeMount";
    "io.k8s.api.core.v1.Container" "volumeDevices" => map ["devicePath"] merge "devicePath" "io.k8s.api.core.v1.VolumeDevice";
    "io.k8s.api.core.v1.ContainerImage" "names" => atomic [] none - -;
    "io.k8s.api.core.v1.ContainerStatus" "volumeMounts" => map ["mountPath"] merge "mountPath" "io.k8s.api.core.v1.VolumeMountStatus";
    "io.k8s.api.core.v1.ContainerStatus" "allocatedResourcesStatus" => map ["name"] merge "name" "io.k8s.api.core.v1.ResourceStatus";
    "io.k8s.api.core.v1.DownwardAPIProjection" "items" => atomic [] none - "io.k8s.api.core.v1.DownwardAPIVolumeFile";
    "io.k8s.api.core.v1.DownwardAPIVolumeSource" "items" => atomic [] none - "io.k8s.api.core.v1.DownwardAPIVolumeFile";
    "io.k8s.api.core.v1.EndpointSubset" "addresses" => atomic [] none - "io.k8s.api.core.v1.EndpointAddress";
    "io.k8s.api.core.v1.EndpointSubset" "notReadyAddresses" => atomic [] none - "io.k8s.api.core.v1.EndpointAddress";
    "io.k8s.api.core.v1.EndpointSubset" "ports" => atomic [] none - "io.k8s.api.core.v1.EndpointPort";
    "io.k8s.api.core.v1.Endpoints" "subsets" => atomic [] none - "io.k8s.api.core.v1.EndpointSubset";
    "io.k8s.api.core.v1.EphemeralContainer" "command" => atomic [] none - -;
    "io.k8s.api.core.v1.EphemeralContainer" "args" => atomic [] none - -;
    "io.k8s.api.core.v1.EphemeralContainer" "ports" => map ["containerPort", "protocol"] merge "containerPort" "io.k8s.api.core.v1.ContainerPort";
    "io.k8s.api.core.v1.EphemeralContainer" "envFrom" => atomic [] none - "io.k8s.api.core.v1.EnvFromSource";
    "io.k8s.api.core.v1.EphemeralContainer" "env" => map ["name"] merge "name" "io.k8s.api.core.v1.EnvVar";
    "io.k8s.api.core.v1.EphemeralContainer" "resizePolicy" => atomic [] none - "io.k8s.api.core.v1.ContainerResizePolicy";
    "io.k8s.api.core.v1.EphemeralContainer" "volumeMounts" => map ["mountPath"] merge "mountPath" "io.k8s.api.core.v1.VolumeMount";
    "io.k8s.api.core.v1.EphemeralContainer" "volumeDevices" => map ["devicePath"] merge "devicePath" "io.k8s.api.core.v1.VolumeDevice";
    "io.k8s.api.core.v1.ExecAction" "command" => atomic [] none - -;
    "io.k8s.api.core.v1.FCVolumeSource" "targetWWNs" => atomic [] none - -;
    "io.k8s.api.core.v1.FCVolumeSource" "wwids" => atomic [] none - -;
    "io.k8s.api.core.v1.HTTPGetAction" "httpHeaders" => atomic [] none - "io.k8s.api.core.v1.HTTPHeader";
    "io.k8s.api.core.v1.HostAlias" "hostnames" => atomic [] none - -;
    "io.k8s.api.core.v1.ISCSIPersistentVolumeSource" "portals" => atomic [] none - -;
    "io.k8s.api.core.v1.ISCSIVolumeSource" "portals" => atomic [] none - -;
    "io.k8s.api.core.v1.LimitRangeSpec" "limits" => atomic [] none - "io.k8s.api.core.v1.LimitRangeItem";
    "io.k8s.api.core.v1.LinuxContainerUser" "supplementalGroups" => atomic [] none - -;
    "io.k8s.api.core.v1.LoadBalancerIngress" "ports" => atomic [] none - "io.k8s.api.core.v1.PortStatus";
    "io.k8s.api.core.v1.LoadBalancerStatus" "ingress" => atomic [] none - "io.k8s.api.core.v1.LoadBalancerIngress";
    "io.k8s.api.core.v1.NamespaceSpec" "finalizers" => atomic [] none - -;
    "io.k8s.api.core.v1.NamespaceStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.core.v1.NamespaceCondition";
    "io.k8s.api.core.v1.NodeAffinity" "preferredDuringSchedulingIgnoredDuringExecution" => atomic [] none - "io.k8s.api.core.v1.PreferredSchedulingTerm";
    "io.k8s.api.core.v1.NodeSelector" "nodeSelectorTerms" => atomic [] none - "io.k8s.api.core.v1.NodeSelectorTerm";
    "io.k8s.api.core.v1.NodeSelectorRequirement" "values" => atomic [] none - -;
    "io.k8s.api.core.v1.NodeSelectorTerm" "matchExpressions" => atomic [] none - "io.k8s.api.core.v1.NodeSelectorRequirement";
    "io.k8s.api.core.v1.NodeSelectorTerm" "matchFields" => atomic [] none - "io.k8s.api.core.v1.NodeSelectorRequirement";
    "io.k8s.api.core.v1.NodeSpec" "podCIDRs" => set [] merge - -;
    "io.k8s.api.core.v1.NodeSpec" "taints" => atomic [] none - "io.k8s.api.core.v1.Taint";
    "io.k8s.api.core.v1.NodeStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.core.v1.NodeCondition";
    "io.k8s.api.core.v1.NodeStatus" "addresses" => map ["type"] merge "type" "io.k8s.api.core.v1.NodeAddress";
    "io.k8s.api.core.v1.NodeStatus" "images" => atomic [] none - "io.k8s.api.core.v1.ContainerImage";
    "io.k8s.api.core.v1.NodeStatus" "volumesInUse" => atomic [] none - -;
    "io.k8s.api.core.v1.NodeStatus" "volumesAttached" => atomic [] none - "io.k8s.api.core.v1.AttachedVolume";
    "io.k8s.api.core.v1.NodeStatus" "runtimeHandlers" => atomic [] none - "io.k8s.api.core.v1.NodeRuntimeHandler";
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec" "accessModes" => atomic [] none - -;
    "io.k8s.api.core.v1.PersistentVolumeClaimStatus" "accessModes" => atomic [] none - -;
    "io.k8s.api.core.v1.PersistentVolumeClaimStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.core.v1.PersistentVolumeClaimCondition";
    "io.k8s.api.core.v1.PersistentVolumeSpec" "accessModes" => atomic [] none - -;
    "io.k8s.api.core.v1.PersistentVolumeSpec" "mountOptions" => atomic [] none - -;
    "io.k8s.api.core.v1.PodAffinity" "requiredDuringSchedulingIgnoredDuringExecution" => atomic [] none - "io.k8s.api.core.v1.PodAffinityTerm";
    "io.k8s.api.core.v1.PodAffinity" "preferredDuringSchedulingIgnoredDuringExecution" => atomic [] none - "io.k8s.api.core.v1.WeightedPodAffinityTerm";
    "io.k8s.api.core.v1.PodAffinityTerm" "namespaces" => atomic [] none - -;
    "io.k8s.api.core.v1.PodAffinityTerm" "matchLabelKeys" => atomic [] none - -;
    "io.k8s.api.core.v1.PodAffinityTerm" "mismatchLabelKeys" => atomic [] none - -;
    "io.k8s.api.core.v1.PodAntiAffinity" "requiredDuringSchedulingIgnoredDuringExecution" => atomic [] none - "io.k8s.api.core.v1.PodAffinityTerm";
    "io.k8s.api.core.v1.PodAntiAffinity" "preferredDuringSchedulingIgnoredDuringExecution" => atomic [] none - "io.k8s.api.core.v1.WeightedPodAffinityTerm";
    "io.k8s.api.core.v1.PodDNSConfig" "nameservers" => atomic [] none - -;
    "io.k8s.api.core.v1.PodDNSConfig" "searches" => atomic [] none - -;
    "io.k8s.api.core.v1.PodDNSConfig" "options" => atomic [] none - "io.k8s.api.core.v1.PodDNSConfigOption";
    "io.k8s.api.core.v1.PodSecurityContext" "supplementalGroups" => atomic [] none - -;
    "io.k8s.api.core.v1.PodSecurityContext" "sysctls" => atomic [] none - "io.k8s.api.core.v1.Sysctl";
    "io.k8s.api.core.v1.PodSpec" "volumes" => map ["name"] merge_retain_keys "name" "io.k8s.api.core.v1.Volume";
    "io.k8s.api.core.v1.PodSpec" "initContainers" => map ["name"] merge "name" "io.k8s.api.core.v1.Container";
    "io.k8s.api.core.v1.PodSpec" "containers" => map ["name"] merge "name" "io.k8s.api.core.v1.Container";
    "io.k8s.api.core.v1.PodSpec" "ephemeralContainers" => map ["name"] merge "name" "io.k8s.api.core.v1.EphemeralContainer";
    "io.k8s.api.core.v1.PodSpec" "imagePullSecrets" => map ["name"] merge "name" "io.k8s.api.core.v1.LocalObjectReference";
    "io.k8s.api.core.v1.PodSpec" "tolerations" => atomic [] none - "io.k8s.api.core.v1.Toleration";
    "io.k8s.api.core.v1.PodSpec" "hostAliases" => map ["ip"] merge "ip" "io.k8s.api.core.v1.HostAlias";
    "io.k8s.api.core.v1.PodSpec" "readinessGates" => atomic [] none - "io.k8s.api.core.v1.PodReadinessGate";
    "io.k8s.api.core.v1.PodSpec" "topologySpreadConstraints" => map ["topologyKey", "whenUnsatisfiable"] merge "topologyKey" "io.k8s.api.core.v1.TopologySpreadConstraint";
    "io.k8s.api.core.v1.PodSpec" "schedulingGates" => map ["name"] merge "name" "io.k8s.api.core.v1.PodSchedulingGate";
    "io.k8s.api.core.v1.PodSpec" "resourceClaims" => map ["name"] merge_retain_keys "name" "io.k8s.api.core.v1.PodResourceClaim";
    "io.k8s.api.core.v1.PodStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.core.v1.PodCondition";
    "io.k8s.api.core.v1.PodStatus" "hostIPs" => atomic [] merge "ip" "io.k8s.api.core.v1.HostIP";
    "io.k8s.api.core.v1.PodStatus" "podIPs" => map ["ip"] merge "ip" "io.k8s.api.core.v1.PodIP";
    "io.k8s.api.core.v1.PodStatus" "initContainerStatuses" => atomic [] none - "io.k8s.api.core.v1.ContainerStatus";
    "io.k8s.api.core.v1.PodStatus" "containerStatuses" => atomic [] none - "io.k8s.api.core.v1.ContainerStatus";
    "io.k8s.api.core.v1.PodStatus" "ephemeralContainerStatuses" => atomic [] none - "io.k8s.api.core.v1.ContainerStatus";
    "io.k8s.api.core.v1.PodStatus" "resourceClaimStatuses" => map ["name"] merge_retain_keys "name" "io.k8s.api.core.v1.PodResourceClaimStatus";
    "io.k8s.api.core.v1.ProjectedVolumeSource" "sources" => atomic [] none - "io.k8s.api.core.v1.VolumeProjection";
    "io.k8s.api.core.v1.RBDPersistentVolumeSource" "monitors" => atomic [] none - -;
    "io.k8s.api.core.v1.RBDVolumeSource" "monitors" => atomic [] none - -;
    "io.k8s.api.core.v1.ReplicationControllerStatus" "conditions" => map ["type"] merge "type" "io.k8s.api.core.v1.ReplicationControllerCondition";
    "io.k8s.api.core.v1.ResourceQuotaSpec" "scopes" => atomic [] none - -;
    "io.k8s.api.core.v1.ResourceRequirements" "claims" => map ["name"] none - "io.k8s.api.core.v1.ResourceClaim";
    "io.k8s.api.core.v1.ResourceStatus" "resources" => map ["resourceID"] none - "io.k8s.api.core.v1.ResourceHealth";
    "io.k8s.api.core.v1.ScopeSelector" "matchExpressions" => atomic [] none - "io.k8s.api.core.v1.ScopedResourceSelectorRequirement";
    "io.k8s.api.core.v1.ScopedResourceSelectorRequirement" "values" => atomic [] none - -;
    "io.k8s.api.core.v1.SecretProjection" "items" => atomic [] none - "io.k8s.api.core.v1.KeyToPath";
    "io.k8s.api.core.v1.SecretVolumeSource" "items" => atomic [] none - "io.k8s.api.core.v1.KeyToPath";
    "io.k8s.api.core.v1.ServiceAccount" "secrets" => map ["name"] merge "name" "io.k8s.api.core.v1.ObjectReference";
    "io.k8s.api.core.v1.ServiceAccount" "imagePullSecrets" => atomic [] none - "io.k8s.api.core.v1.LocalObjectReference";
    "io.k8s.api.core.v1.ServiceSpec" "ports" => map ["port", "protocol"] merge "port" "io.k8s.api.core.v1.ServicePort";
    "io.k8s.api.core.v1.ServiceSpec" "clusterIPs" => atomic [] none - -;
    "io.k8s.api.core.v1.ServiceSpec" "externalIPs" => atomic [] none - -;
    "io.k8s.api.core.v1.ServiceSpec" "loadBalancerSourceRanges" => atomic [] none - -;
    "io.k8s.api.core.v1.ServiceSpec" "ipFamilies" => atomic [] none - -;
    "io.k8s.api.core.v1.ServiceStatus" "conditions" => map ["type"] merge "type" "io.k8s.apimachinery.pkg.apis.meta.v1.Condition";
    "io.k8s.api.core.v1.TopologySelectorLabelRequirement" "values" => atomic [] none - -;
    "io.k8s.api.core.v1.TopologySelectorTerm" "matchLabelExpressions" => atomic [] none - "io.k8s.api.core.v1.TopologySelectorLabelRequirement";
    "io.k8s.api.core.v1.TopologySpreadConstraint" "matchLabelKeys" => atomic [] none - -;
    "io.k8s.api.discovery.v1.Endpoint" "addresses" => set [] none - -;
    "io.k8s.api.discovery.v1.EndpointHints" "forZones" => atomic [] none - "io.k8s.api.discovery.v1.ForZone";
    "io.k8s.api.discovery.v1.EndpointHints" "forNodes" => atomic [] none - "io.k8s.api.discovery.v1.ForNode";
    "io.k8s.api.discovery.v1.EndpointSlice" "endpoints" => atomic [] none - "io.k8s.api.discovery.v1.Endpoint";
    "io.k8s.api.discovery.v1.EndpointSlice" "ports" => atomic [] none - "io.k8s.api.discovery.v1.EndpointPort";
    "io.k8s.api.networking.v1.HTTPIngressRuleValue" "paths" => atomic [] none - "io.k8s.api.networking.v1.HTTPIngressPath";
    "io.k8s.api.networking.v1.IPBlock" "except" => atomic [] none - -;
    "io.k8s.api.networking.v1.IngressLoadBalancerIngress" "ports" => atomic [] none - "io.k8s.api.networking.v1.IngressPortStatus";
    "io.k8s.api.networking.v1.IngressLoadBalancerStatus" "ingress" => atomic [] none - "io.k8s.api.networking.v1.IngressLoadBalancerIngress";
    "io.k8s.api.networking.v1.IngressSpec" "tls" => atomic [] none - "io.k8s.api.networking.v1.IngressTLS";
    "io.k8s.api.networking.v1.IngressSpec" "rules" => atomic [] none - "io.k8s.api.networking.v1.IngressRule";
    "io.k8s.api.networking.v1.IngressTLS" "hosts" => atomic [] none - -;
    "io.k8s.api.networking.v1.NetworkPolicyEgressRule" "ports" => atomic [] none - "io.k8s.api.networking.v1.NetworkPolicyPort";
    "io.k8s.api.networking.v1.NetworkPolicyEgressRule" "to" => atomic [] none - "io.k8s.api.networking.v1.NetworkPolicyPeer";
    "io.k8s.api.networking.v1.NetworkPolicyIngressRule" "ports" => atomic [] none - "io.k8s.api.networking.v1.NetworkPolicyPort";
    "io.k8s.api.networking.v1.NetworkPolicyIngressRule" "from" => atomic [] none - "io.k8s.api.networking.v1.NetworkPolicyPeer";
    "io.k8s.api.networking.v1.NetworkPolicySpec" "ingress" => atomic [] none - "io.k8s.api.networking.v1.NetworkPolicyIngressRule";
    "io.k8s.api.networking.v1.NetworkPolicySpec" "egress" => atomic [] none - "io.k8s.api.networking.v1.NetworkPolicyEgressRule";
    "io.k8s.api.networking.v1.NetworkPolicySpec" "policyTypes" => atomic [] none - -;
    "io.k8s.api.networking.v1.ServiceCIDRSpec" "cidrs" => atomic [] none - -;
    "io.k8s.api.networking.v1.ServiceCIDRStatus" "conditions" => map ["type"] merge "type" "io.k8s.apimachinery.pkg.apis.meta.v1.Condition";
    "io.k8s.api.policy.v1.PodDisruptionBudgetStatus" "conditions" => map ["type"] merge "type" "io.k8s.apimachinery.pkg.apis.meta.v1.Condition";
    "io.k8s.api.rbac.v1.AggregationRule" "clusterRoleSelectors" => atomic [] none - "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector";
    "io.k8s.api.rbac.v1.ClusterRole" "rules" => atomic [] none - "io.k8s.api.rbac.v1.PolicyRule";
    "io.k8s.api.rbac.v1.ClusterRoleBinding" "subjects" => atomic [] none - "io.k8s.api.rbac.v1.Subject";
    "io.k8s.api.rbac.v1.PolicyRule" "verbs" => atomic [] none - -;
    "io.k8s.api.rbac.v1.PolicyRule" "apiGroups" => atomic [] none - -;
    "io.k8s.api.rbac.v1.PolicyRule" "resources" => atomic [] none - -;
    "io.k8s.api.rbac.v1.PolicyRule" "resourceNames" => atomic [] none - -;
    "io.k8s.api.rbac.v1.PolicyRule" "nonResourceURLs" => atomic [] none - -;
    "io.k8s.api.rbac.v1.Role" "rules" => atomic [] none - "io.k8s.api.rbac.v1.PolicyRule";
    "io.k8s.api.rbac.v1.RoleBinding" "subjects" => atomic [] none - "io.k8s.api.rbac.v1.Subject";
    "io.k8s.api.storage.v1.StorageClass" "mountOptions" => atomic [] none - -;
    "io.k8s.api.storage.v1.StorageClass" "allowedTopologies" => atomic [] none - "io.k8s.api.core.v1.TopologySelectorTerm";
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup" "versions" => atomic [] none - "io.k8s.apimachinery.pkg.apis.meta.v1.GroupVersionForDiscovery";
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup" "serverAddressByClientCIDRs" => atomic [] none - "io.k8s.apimachinery.pkg.apis.meta.v1.ServerAddressByClientCIDR";
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList" "groups" => atomic [] none - "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup";
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource" "shortNames" => atomic [] none - -;
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource" "categories" => atomic [] none - -;
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList" "resources" => atomic [] none - "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource";
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions" "dryRun" => atomic [] none - -;
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector" "matchExpressions" => atomic [] none - "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement";
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement" "values" => atomic [] none - -;
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" "ownerReferences" => map ["uid"] merge "uid" "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference";
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" "finalizers" => set [] merge - -;
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" "managedFields" => atomic [] none - "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry";
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails" "causes" => atomic [] none - "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause";
    "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus" "conditions" => map ["type"] merge "type" "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceCondition";
};

static STRUCT_FIELD_STRATEGIES: &[(&str, &str, PatchStrategy)] = &[(
    "io.k8s.api.apps.v1.DeploymentSpec",
    "strategy",
    PatchStrategy::RetainKeys,
)];

static ATOMIC_MAPS: &[(&str, &str)] = &[
    ("io.k8s.api.core.v1.PodSpec", "nodeSelector"),
    ("io.k8s.api.core.v1.ReplicationControllerSpec", "selector"),
    ("io.k8s.api.core.v1.ServiceSpec", "selector"),
];

static ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.EndpointAddress",
    "io.k8s.api.core.v1.EndpointPort",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ObjectReference",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.SecretKeySelector",
    "io.k8s.api.core.v1.SecretReference",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "io.k8s.api.discovery.v1.EndpointPort",
    "io.k8s.api.rbac.v1.RoleRef",
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
];
