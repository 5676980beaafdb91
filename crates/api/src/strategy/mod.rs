//! One strategy per kind: the rules of a kind's lifecycle that the generic
//! object layer asks for, as upstream's registry splits its generic `Store`
//! from each kind's `RESTCreateStrategy`, `RESTUpdateStrategy`,
//! `RESTDeleteStrategy`, `ResetFieldsStrategy` and table convertor.
//!
//! The registry entry of every kind ([`crate::registry::ResourceInfo`])
//! names its strategy; defaulting, validation, the generation rule, delete
//! behaviour, table printing, selectable fields and the protobuf message
//! are all found from it, so the object layer never compares kind names.
//! The fields a status (or finalize) write owns, and so the fields a
//! main-resource write keeps, come from the kind's subresources in the same
//! registry entry.
//!
//! The strategies live here, in the object model, rather than in the API
//! server: the registry entry that names them is here, and every client of
//! this crate (the CLI, controllers' tests, the server) shares the same
//! defaulting, validation and selectable fields. What they decide is pure
//! (no I/O, no clock); the server carries it out. The rules themselves stay
//! in [`crate::defaults`], [`crate::validate`] and [`crate::printers`],
//! grouped by kind family, and each strategy module wires one family.

mod apiextensions;
mod apiregistration;
mod apps;
mod autoscaling;
mod batch;
mod certificates;
mod core;
mod events;
mod namespace;
mod network;
mod networking;
mod pod;
mod policy;
mod protobuf;
mod rbac;
mod storage;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_selector::SelectableFields;
use crate::printers::Printer;

pub use self::apiextensions::CLEANUP_FINALIZER;
pub(crate) use self::apiextensions::CUSTOM_RESOURCE_DEFINITION;
pub(crate) use self::apiregistration::API_SERVICE;
pub(crate) use self::apps::{
    CONTROLLER_REVISION, DAEMON_SET, DEPLOYMENT, REPLICA_SET, STATEFUL_SET,
};
pub(crate) use self::autoscaling::{HORIZONTAL_POD_AUTOSCALER, HORIZONTAL_POD_AUTOSCALER_V1};
pub(crate) use self::batch::{CRON_JOB, JOB};
pub(crate) use self::certificates::CERTIFICATE_SIGNING_REQUEST;
pub(crate) use self::core::{
    CONFIG_MAP, EVENT, LEASE, LIMIT_RANGE, NODE, POD_TEMPLATE, REPLICATION_CONTROLLER,
    RESOURCE_QUOTA, SECRET, SERVICE_ACCOUNT,
};
pub(crate) use self::events::EVENTS_EVENT;
pub(crate) use self::namespace::NAMESPACE;
pub(crate) use self::network::{ENDPOINT_SLICE, ENDPOINTS, SERVICE};
pub(crate) use self::networking::{
    INGRESS, INGRESS_CLASS, IP_ADDRESS, NETWORK_POLICY, SERVICE_CIDR,
};
pub(crate) use self::pod::POD;
pub(crate) use self::policy::{POD_DISRUPTION_BUDGET, PRIORITY_CLASS};
pub use self::protobuf::{
    BINDING, DELETE_OPTIONS, EVICTION, Message, REVIEWS, SCALE, TOKEN_REQUEST,
};
pub(crate) use self::rbac::{CLUSTER_ROLE, CLUSTER_ROLE_BINDING, ROLE, ROLE_BINDING};
pub(crate) use self::storage::{
    CSI_NODE, PERSISTENT_VOLUME, PERSISTENT_VOLUME_CLAIM, STORAGE_CLASS,
};

/// Which names a kind accepts (upstream's `Validate<Kind>Name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// A DNS-1123 subdomain (most kinds).
    Subdomain,
    /// A DNS-1123 label (Namespace, StatefulSet).
    Label,
    /// A DNS-1035 label (Service).
    Dns1035Label,
    /// Any name that can be one segment of a URL path: not `.` or `..`,
    /// without `/` or `%` (RBAC kinds, APIService).
    PathSegment,
    /// An IP address in canonical form (IPAddress).
    IpAddress,
}

/// What a delete that names no propagation policy does with dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the owner now; the garbage collector deletes dependents.
    Background,
    /// Keep dependents (the `orphan` finalizer).
    Orphan,
    /// Delete dependents first (the `foregroundDeletion` finalizer).
    Foreground,
}

impl Propagation {
    /// The finalizer that carries the policy, if it needs one.
    pub fn finalizer(self) -> Option<&'static str> {
        match self {
            Self::Background => None,
            Self::Orphan => Some("orphan"),
            Self::Foreground => Some("foregroundDeletion"),
        }
    }
}

/// The rules of one kind. Every method but [`Strategy::protobuf`] has the
/// behaviour of a kind without rules of its own.
pub trait Strategy: Send + Sync {
    /// The protobuf message a body of this kind is read with; `None` for a
    /// kind served as JSON alone (a custom resource).
    fn protobuf(&self) -> Option<Message>;

    /// Which names the kind accepts.
    fn name_rule(&self) -> NameRule {
        NameRule::Subdomain
    }

    /// Whether objects carry `metadata.generation`, bumped on every change
    /// outside `metadata` and `status`.
    fn has_generation(&self) -> bool {
        false
    }

    /// Upstream's `PrepareForCreate`: what a new object starts with, after
    /// the server has set its system metadata (and an empty `status` where
    /// the kind has a status subresource), before defaulting.
    fn prepare_for_create(&self, _object: &mut Value) {}

    /// The declarative defaults, on every create and update. Fields already
    /// set are kept; applying them twice gives the same object.
    fn defaults(&self, _object: &mut Value) {}

    /// What a new object derives from its own metadata once defaulted (a
    /// Job's selector and labels from its uid).
    fn complete_create(&self, _object: &mut Value) {}

    /// The kind's own field errors (metadata is checked for every kind), on
    /// create when `old` is `None` and on update otherwise.
    fn validate(&self, _object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        Vec::new()
    }

    /// Finalizers outside `metadata.finalizers` that hold a deleted object
    /// (a namespace's `spec.finalizers`).
    fn deletion_holders(&self, _object: &Value) -> Vec<String> {
        Vec::new()
    }

    /// Finalizers a deletion adds to the object as it starts, so that it
    /// stays until they are done (a CustomResourceDefinition's cleanup of
    /// its objects).
    fn deletion_finalizers(&self) -> &'static [&'static str] {
        &[]
    }

    /// Seconds a deleted object stays before it goes (a pod's grace period,
    /// `requested` or its own); 0 deletes at once.
    fn grace_period(&self, _object: &Value, _requested: Option<i64>) -> i64 {
        0
    }

    /// What changes on an object when its deletion starts (a namespace
    /// turns `Terminating`).
    fn begin_deletion(&self, _object: &mut Value) {}

    /// What a delete that names no propagation policy does.
    fn default_propagation(&self) -> Propagation {
        Propagation::Background
    }

    /// Whether a delete that removes the object at once answers with the
    /// object (as pods do) rather than a `Status`.
    fn returns_deleted_object(&self) -> bool {
        false
    }

    /// The printer of the kind's table; `None` for upstream's default
    /// table (name and creation time).
    fn printer(&self) -> Option<&'static Printer> {
        None
    }

    /// The OpenAPI schema of the kind when it is not a k8s-openapi type
    /// (a custom resource's, from its definition): published in its
    /// group-version's document and walked by the server's checks.
    fn openapi_schema(&self) -> Option<&Value> {
        None
    }

    /// The warning every request of this version of the kind answers
    /// with, when the version is deprecated (a custom resource's).
    fn deprecation(&self) -> Option<&str> {
        None
    }

    /// The fields clients may select on.
    fn selectable_fields(&self) -> &'static SelectableFields {
        &crate::field_selector::METADATA_ONLY
    }

    /// Where the object's Scale reads and writes its replicas, and reads
    /// its selector: `spec.replicas`, `status.replicas` and `spec.selector`
    /// for the built-in kinds.
    fn scale_paths(&self) -> ScalePaths {
        ScalePaths::default()
    }

    /// The `status.selector` of the object's Scale: its `spec.selector`
    /// (a label selector) in string form, `""` when it has none.
    fn scale_selector(&self, object: &Value) -> String {
        object
            .pointer("/spec/selector")
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .and_then(|s| crate::label_selector::Selector::from_label_selector(&s).ok())
            .map(|s| s.to_string())
            .unwrap_or_default()
    }
}

/// Where a kind keeps what its Scale shows, as JSON pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePaths {
    /// The desired replicas (`/spec/replicas`).
    pub spec_replicas: String,
    /// The observed replicas (`/status/replicas`).
    pub status_replicas: String,
}

impl Default for ScalePaths {
    fn default() -> Self {
        ScalePaths {
            spec_replicas: "/spec/replicas".to_string(),
            status_replicas: "/status/replicas".to_string(),
        }
    }
}

/// A strategy made of the rules it names, for kinds whose rules are only
/// defaults, validation, a generation, whether a delete answers with the
/// object, a name rule, a printer and selectable fields (kinds with lifecycle rules implement [`Strategy`]
/// by hand):
///
/// ```text
/// kind_strategy! {
///     /// apps/v1 Deployment.
///     DeploymentStrategy, DEPLOYMENT, api::apps::v1::Deployment {
///         generation: true,
///         defaults: crate::defaults::workloads::deployment,
///         validate: crate::validate::apps::deployment,
///         printer: (printers::workloads::DEPLOYMENT, printers::workloads::deployment),
///     }
/// }
/// ```
macro_rules! kind_strategy {
    (
        $(#[$doc:meta])*
        $name:ident, $static:ident, $($path:ident)::+ {
            $(generation: $generation:literal,)?
            $(returns_deleted: $returns_deleted:literal,)?
            $(name_rule: $rule:expr,)?
            $(defaults: $defaults:expr,)?
            $(complete_create: $complete:expr,)?
            $(validate: $validate:expr,)?
            $(printer: ($columns:expr, $row:expr),)?
            $(fields: $fields:expr,)?
            $(scale_selector: $scale:expr,)?
            $(deletion_finalizers: $deletion_finalizers:expr,)?
        }
    ) => {
        $(#[$doc])*
        pub(crate) struct $name;
        pub(crate) static $static: $name = $name;

        impl $crate::strategy::Strategy for $name {
            fn protobuf(&self) -> Option<$crate::strategy::Message> {
                Some($crate::strategy::protobuf::message!($($path)::+))
            }
            $(
                fn deletion_finalizers(&self) -> &'static [&'static str] {
                    $deletion_finalizers
                }
            )?
            $(
                fn has_generation(&self) -> bool {
                    $generation
                }
            )?
            $(
                fn returns_deleted_object(&self) -> bool {
                    $returns_deleted
                }
            )?
            $(
                fn name_rule(&self) -> $crate::strategy::NameRule {
                    $rule
                }
            )?
            $(
                fn defaults(&self, object: &mut serde_json::Value) {
                    ($defaults)(object)
                }
            )?
            $(
                fn complete_create(&self, object: &mut serde_json::Value) {
                    ($complete)(object)
                }
            )?
            $(
                fn validate(
                    &self,
                    object: &serde_json::Value,
                    old: Option<&serde_json::Value>,
                ) -> Vec<$crate::field_error::FieldError> {
                    ($validate)(object, old)
                }
            )?
            $(
                fn printer(&self) -> Option<&'static $crate::printers::Printer> {
                    static PRINTER: $crate::printers::Printer =
                        $crate::printers::Printer::new($columns, $row);
                    Some(&PRINTER)
                }
            )?
            $(
                fn selectable_fields(&self) -> &'static $crate::field_selector::SelectableFields {
                    const FIELDS: $crate::field_selector::SelectableFields = $fields;
                    &FIELDS
                }
            )?
            $(
                fn scale_selector(&self, object: &serde_json::Value) -> String {
                    ($scale)(object)
                }
            )?
        }
    };
}
pub(crate) use kind_strategy;
