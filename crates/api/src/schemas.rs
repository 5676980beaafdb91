//! The JSON schemas of the served kinds, from k8s-openapi's `schemars`
//! implementations: one list of the types, shared by everything that needs
//! the schemas (the OpenAPI documents, strategic merge patch).

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Event, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    Secret, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, ListMeta, Patch, Status};
use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::SchemaGenerator;

/// The served kinds and the API machinery types their documents need.
macro_rules! served_types {
    ($($type:ty),* $(,)?) => {
        /// Adds to `generator` the schema of the type whose upstream
        /// definition name is `definition` (`io.k8s.api.apps.v1.Deployment`),
        /// with every type it contains; false if no served type has that name.
        pub fn add_definition(generator: &mut SchemaGenerator, definition: &str) -> bool {
            $(
                if <$type as JsonSchema>::schema_name() == definition {
                    generator.subschema_for::<$type>();
                    return true;
                }
            )*
            false
        }

        /// Adds to `generator` the schema of every served type.
        pub fn add_all(generator: &mut SchemaGenerator) {
            $(generator.subschema_for::<$type>();)*
        }
    };
}

served_types!(
    ConfigMap,
    Endpoints,
    Event,
    Namespace,
    Node,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    Secret,
    Service,
    ServiceAccount,
    ControllerRevision,
    DaemonSet,
    Deployment,
    ReplicaSet,
    StatefulSet,
    CronJob,
    Job,
    Lease,
    EndpointSlice,
    Scale,
    DeleteOptions,
    ListMeta,
    Patch,
    Status,
);
