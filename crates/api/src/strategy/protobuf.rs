//! The protobuf message of a kind: k8s-pb's prost message (which reads the
//! bytes) paired with k8s-openapi's type of the same path (whose schema
//! gives the JSON names), as upstream's `k8s.io/api` keeps each type's
//! protobuf beside it.

use std::fmt::{self, Debug};

use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::SchemaGenerator;

/// How a body of one kind is read from protobuf.
#[derive(Clone, Copy)]
pub struct Message {
    /// `apps/v1`; `None` for a kind every group-version serves
    /// (`DeleteOptions`).
    pub api_version: Option<&'static str>,
    /// The kind its `typeMeta` names.
    pub kind: &'static str,
    /// Decodes the message and prints it with `Debug`.
    pub decode: fn(&[u8]) -> Result<String, prost::DecodeError>,
    /// Adds the OpenAPI schema of the kind (and of what it refers to) to a
    /// generator and returns its definition name.
    pub schema: fn(&mut SchemaGenerator) -> String,
    /// The definition name of its schema (`io.k8s.api.core.v1.Pod`).
    pub definition: fn() -> String,
    /// Whether bodies of the kind are read from protobuf; false for a kind
    /// whose JSON form the schema-led reading cannot rebuild from its
    /// message (see [`Message::json_only`]).
    pub reads_protobuf: bool,
}

impl Message {
    /// The message of the resource type `O`, read as `P`.
    pub const fn of<P, O>() -> Self
    where
        P: prost::Message + Default + Debug,
        O: k8s_openapi::Resource + JsonSchema,
    {
        Self {
            api_version: Some(O::API_VERSION),
            ..Self::any_version::<P, O>(O::KIND)
        }
    }

    /// The message of `kind`, served by every group-version.
    pub const fn any_version<P, O>(kind: &'static str) -> Self
    where
        P: prost::Message + Default + Debug,
        O: JsonSchema,
    {
        Self {
            api_version: None,
            kind,
            decode: debug_text::<P>,
            schema: schema_of::<O>,
            definition: name_of::<O>,
            reads_protobuf: true,
        }
    }

    /// The same message, for a kind whose bodies are accepted only as JSON
    /// or YAML: a protobuf body of it is refused (415) rather than read
    /// into an object other than the one sent. CustomResourceDefinitions
    /// are such a kind: their schemas hold raw JSON values (`default`,
    /// `enum`) and unions (`items`, `additionalProperties`) that have no
    /// OpenAPI shape, and zeros (`minimum: 0`, `served: false`) that Go's
    /// encoding cannot tell from unset.
    pub const fn json_only(self) -> Self {
        Self {
            reads_protobuf: false,
            ..self
        }
    }

    /// Whether a body whose `typeMeta` names `api_version` and `kind` is
    /// this message.
    pub fn is(&self, api_version: &str, kind: &str) -> bool {
        self.kind == kind && self.api_version.is_none_or(|v| v == api_version)
    }
}

impl Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("api_version", &self.api_version)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        (self.api_version, self.kind) == (other.api_version, other.kind)
    }
}

impl Eq for Message {}

fn debug_text<P: prost::Message + Default + Debug>(
    raw: &[u8],
) -> Result<String, prost::DecodeError> {
    P::decode(raw).map(|message| format!("{message:?}"))
}

fn schema_of<O: JsonSchema>(generator: &mut SchemaGenerator) -> String {
    generator.subschema_for::<O>();
    O::schema_name().into_owned()
}

fn name_of<O: JsonSchema>() -> String {
    O::schema_name().into_owned()
}

/// `Message::of::<k8s_pb::PATH, k8s_openapi::PATH>()`.
macro_rules! message {
    ($($path:ident)::+) => {
        $crate::strategy::Message::of::<k8s_pb::$($path)::+, k8s_openapi::$($path)::+>()
    };
}
pub(crate) use message;

/// The body of `pods/binding`.
pub const BINDING: Message = message!(api::core::v1::Binding);
/// The body of the `scale` subresources.
pub const SCALE: Message = message!(api::autoscaling::v1::Scale);
/// The body of `pods/eviction`.
pub const EVICTION: Message = message!(api::policy::v1::Eviction);
/// The body of `serviceaccounts/token`.
pub const TOKEN_REQUEST: Message = message!(api::authentication::v1::TokenRequest);
/// The review bodies the server answers without storing them
/// (`kubectl auth whoami`, `kubectl auth can-i`).
pub const REVIEWS: &[Message] = &[
    message!(api::authentication::v1::SelfSubjectReview),
    message!(api::authentication::v1::TokenReview),
    message!(api::authorization::v1::SelfSubjectAccessReview),
    message!(api::authorization::v1::SelfSubjectRulesReview),
    message!(api::authorization::v1::SubjectAccessReview),
    message!(api::authorization::v1::LocalSubjectAccessReview),
];
/// The options of a delete, in any group-version.
pub const DELETE_OPTIONS: Message = Message::any_version::<
    k8s_pb::apimachinery::pkg::apis::meta::v1::DeleteOptions,
    k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions,
>("DeleteOptions");
