//! The one error type of API failures, [`ApiError`]: a Kubernetes
//! `StatusReason`, the message clients show, and the details (name, group,
//! kind, field causes, retry hint). It turns into the `Status` object that
//! goes on the wire.
//!
//! Constructors are named after what happened and produce the same messages
//! as a Kubernetes API server, so that clients and their users see the text
//! they expect (`pods "x" not found`).

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use crate::field_error::{FieldError, aggregate};

/// Why a request failed, as Kubernetes names it in `Status.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusReason {
    /// 400: the request itself is malformed.
    BadRequest,
    /// 401: the client did not authenticate.
    Unauthorized,
    /// 403: the client may not do this.
    Forbidden,
    /// 404: the object does not exist.
    NotFound,
    /// 409: the object to create already exists.
    AlreadyExists,
    /// 409: the request conflicts with the current state (stale resourceVersion).
    Conflict,
    /// 410: the requested resource version is no longer available.
    Gone,
    /// 422: the object fails validation.
    Invalid,
    /// 500: the server could not finish in time; retry.
    ServerTimeout,
    /// 504: the request timed out.
    Timeout,
    /// 429: too many requests; retry later.
    TooManyRequests,
    /// 405: the verb is not allowed on this resource.
    MethodNotAllowed,
    /// 406: no acceptable content type can be produced.
    NotAcceptable,
    /// 413: the request body is too large.
    RequestEntityTooLarge,
    /// 415: the request content type is not supported.
    UnsupportedMediaType,
    /// 500: an unexpected server failure.
    InternalError,
    /// 410: the content (e.g. a continue token) has expired.
    Expired,
    /// 503: the server is not ready to serve the request.
    ServiceUnavailable,
}

impl StatusReason {
    /// The string in `Status.reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "BadRequest",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "NotFound",
            Self::AlreadyExists => "AlreadyExists",
            Self::Conflict => "Conflict",
            Self::Gone => "Gone",
            Self::Invalid => "Invalid",
            Self::ServerTimeout => "ServerTimeout",
            Self::Timeout => "Timeout",
            Self::TooManyRequests => "TooManyRequests",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::NotAcceptable => "NotAcceptable",
            Self::RequestEntityTooLarge => "RequestEntityTooLarge",
            Self::UnsupportedMediaType => "UnsupportedMediaType",
            Self::InternalError => "InternalError",
            Self::Expired => "Expired",
            Self::ServiceUnavailable => "ServiceUnavailable",
        }
    }

    /// The HTTP status code that goes with the reason.
    pub fn http_code(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::AlreadyExists | Self::Conflict => 409,
            Self::Gone | Self::Expired => 410,
            Self::Invalid => 422,
            Self::ServerTimeout | Self::InternalError => 500,
            Self::Timeout => 504,
            Self::TooManyRequests => 429,
            Self::MethodNotAllowed => 405,
            Self::NotAcceptable => 406,
            Self::RequestEntityTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::ServiceUnavailable => 503,
        }
    }
}

impl fmt::Display for StatusReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `reason` strings of `Status` causes that are not field errors.
pub mod cause_type {
    /// The server's answer could not be understood.
    pub const UNEXPECTED_SERVER_RESPONSE: &str = "UnexpectedServerResponse";
    /// Server-side apply: another field manager owns the field.
    pub const FIELD_MANAGER_CONFLICT: &str = "FieldManagerConflict";
    /// The requested resourceVersion is newer than the server has seen.
    pub const RESOURCE_VERSION_TOO_LARGE: &str = "ResourceVersionTooLarge";
}

/// One cause in `Status.details.causes`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusCause {
    /// The cause type (`FieldValueInvalid`, ...); empty when there is none.
    pub reason: String,
    /// What is wrong.
    pub message: String,
    /// The field it is about; empty when none.
    pub field: String,
}

impl From<&FieldError> for StatusCause {
    fn from(error: &FieldError) -> Self {
        Self {
            reason: error.cause_type().to_string(),
            message: error.body(),
            field: error.path.clone(),
        }
    }
}

/// `Status.details`: what the failure is about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusDetails {
    /// The object's name (or the operation, for `ServerTimeout`).
    pub name: String,
    /// The API group.
    pub group: String,
    /// The kind, or the resource plural for errors about a resource.
    pub kind: String,
    /// The causes, field errors first of all.
    pub causes: Vec<StatusCause>,
    /// After how many seconds a client may retry; 0 for no hint.
    pub retry_after_seconds: i32,
}

/// A failed API request: what clients receive as a `Status` object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The reason, which fixes the HTTP code.
    pub reason: StatusReason,
    /// The human message.
    pub message: String,
    /// What the failure is about; `None` for errors with no details.
    pub details: Option<Box<StatusDetails>>,
}

/// `resource` or `resource.group`, as Kubernetes names a group-resource.
fn group_resource(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn quoted(name: &str) -> String {
    crate::quote::quote(name)
}

/// The text of a failed optimistic-concurrency update.
pub const OBJECT_MODIFIED: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

impl ApiError {
    fn plain(reason: StatusReason, message: String) -> Self {
        Self {
            reason,
            message,
            details: None,
        }
    }

    fn about(reason: StatusReason, message: String, group: &str, kind: &str, name: &str) -> Self {
        Self {
            reason,
            message,
            details: Some(Box::new(StatusDetails {
                name: name.to_string(),
                group: group.to_string(),
                kind: kind.to_string(),
                ..StatusDetails::default()
            })),
        }
    }

    /// The HTTP status code to answer with.
    pub fn code(&self) -> u16 {
        self.reason.http_code()
    }

    /// `pods "x" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let message = format!(
            "{} {} not found",
            group_resource(group, resource),
            quoted(name)
        );
        Self::about(StatusReason::NotFound, message, group, resource, name)
    }

    /// `pods "x" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let message = format!(
            "{} {} already exists",
            group_resource(group, resource),
            quoted(name)
        );
        Self::about(StatusReason::AlreadyExists, message, group, resource, name)
    }

    /// A name made from `generateName` collided with an existing object.
    pub fn generate_name_conflict(
        group: &str,
        resource: &str,
        name: &str,
        retry_after_seconds: i32,
    ) -> Self {
        let message = format!(
            "{} {} already exists, the server was not able to generate a unique name for the object",
            group_resource(group, resource),
            quoted(name)
        );
        let mut error = Self::about(StatusReason::AlreadyExists, message, group, resource, name);
        error.set_retry_after(retry_after_seconds);
        error
    }

    /// An update based on a stale `resourceVersion`: `Operation cannot be
    /// fulfilled on pods "x": the object has been modified; ...`.
    pub fn conflict(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict_because(group, resource, name, OBJECT_MODIFIED)
    }

    /// `Operation cannot be fulfilled on pods "x": <why>`.
    pub fn conflict_because(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on {} {}: {why}",
            group_resource(group, resource),
            quoted(name)
        );
        Self::about(StatusReason::Conflict, message, group, resource, name)
    }

    /// A server-side apply conflict with other field managers.
    pub fn apply_conflict(causes: Vec<StatusCause>, message: impl Into<String>) -> Self {
        Self {
            reason: StatusReason::Conflict,
            message: message.into(),
            details: Some(Box::new(StatusDetails {
                causes,
                ..StatusDetails::default()
            })),
        }
    }

    /// `Pod "x" is invalid: [spec.containers[0].image: Required value, ...]`
    /// (one cause alone is not bracketed). `group` empty for the core group.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: &[FieldError]) -> Self {
        let qualified_kind = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let message = if causes.is_empty() {
            format!("{qualified_kind} {} is invalid", quoted(name))
        } else {
            format!(
                "{qualified_kind} {} is invalid: {}",
                quoted(name),
                aggregate(causes)
            )
        };
        let mut error = Self::about(StatusReason::Invalid, message, group, kind, name);
        if let Some(details) = error.details.as_mut() {
            details.causes = causes.iter().map(StatusCause::from).collect();
        }
        error
    }

    /// A malformed request; the message is passed through.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::plain(StatusReason::BadRequest, message.into())
    }

    /// An unauthenticated request (`not authorized` when no reason is given).
    pub fn unauthorized(reason: &str) -> Self {
        let message = if reason.is_empty() {
            "not authorized".to_string()
        } else {
            reason.to_string()
        };
        Self::plain(StatusReason::Unauthorized, message)
    }

    /// `pods "x" is forbidden: <why>` (without the name when it is empty,
    /// `forbidden: <why>` without a resource).
    pub fn forbidden(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let message = if group.is_empty() && resource.is_empty() {
            format!("forbidden: {why}")
        } else if name.is_empty() {
            format!("{} is forbidden: {why}", group_resource(group, resource))
        } else {
            format!(
                "{} {} is forbidden: {why}",
                group_resource(group, resource),
                quoted(name)
            )
        };
        Self::about(StatusReason::Forbidden, message, group, resource, name)
    }

    /// A resource version that is no longer available (410).
    pub fn gone(message: impl Into<String>) -> Self {
        Self::plain(StatusReason::Gone, message.into())
    }

    /// Expired content such as a continue token (410).
    pub fn expired(message: impl Into<String>) -> Self {
        Self::plain(StatusReason::Expired, message.into())
    }

    /// `<action> is not supported on resources of kind "pods"`.
    pub fn method_not_supported(group: &str, resource: &str, action: &str) -> Self {
        let qualified = group_resource(group, resource);
        let message = format!(
            "{action} is not supported on resources of kind {}",
            quoted(&qualified)
        );
        Self::about(StatusReason::MethodNotAllowed, message, group, resource, "")
    }

    /// `The <operation> operation against pods could not be completed at
    /// this time, please try again.`
    pub fn server_timeout(
        group: &str,
        resource: &str,
        operation: &str,
        retry_after_seconds: i32,
    ) -> Self {
        let message = format!(
            "The {operation} operation against {} could not be completed at this time, please try again.",
            group_resource(group, resource)
        );
        let mut error = Self::about(
            StatusReason::ServerTimeout,
            message,
            group,
            resource,
            operation,
        );
        error.set_retry_after(retry_after_seconds);
        error
    }

    /// `Timeout: <message>` (504).
    pub fn timeout(message: &str, retry_after_seconds: i32) -> Self {
        let mut error = Self::plain(StatusReason::Timeout, format!("Timeout: {message}"));
        error.set_retry_after(retry_after_seconds);
        error
    }

    /// Too many requests, with a retry hint; the message is passed through.
    pub fn too_many_requests(message: impl Into<String>, retry_after_seconds: i32) -> Self {
        let mut error = Self::plain(StatusReason::TooManyRequests, message.into());
        error.set_retry_after(retry_after_seconds);
        error
    }

    /// `Request entity too large: <message>` (413).
    pub fn too_large(message: &str) -> Self {
        Self::plain(
            StatusReason::RequestEntityTooLarge,
            format!("Request entity too large: {message}"),
        )
    }

    /// `Internal error occurred: <error>`, the error also as the one cause.
    pub fn internal(error: impl fmt::Display) -> Self {
        let text = error.to_string();
        Self {
            reason: StatusReason::InternalError,
            message: format!("Internal error occurred: {text}"),
            details: Some(Box::new(StatusDetails {
                causes: vec![StatusCause {
                    message: text,
                    ..StatusCause::default()
                }],
                ..StatusDetails::default()
            })),
        }
    }

    /// The server cannot serve now (503); the message is passed through.
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::plain(StatusReason::ServiceUnavailable, message.into())
    }

    /// No acceptable response content type (406); the message is passed through.
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::plain(StatusReason::NotAcceptable, message.into())
    }

    /// An unsupported request content type (415); the message is passed through.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::plain(StatusReason::UnsupportedMediaType, message.into())
    }

    fn set_retry_after(&mut self, seconds: i32) {
        self.details
            .get_or_insert_with(Box::default)
            .retry_after_seconds = seconds;
    }

    /// The `Status` object for the wire (`kind: Status`, `apiVersion: v1`,
    /// `status: Failure`).
    pub fn to_status(&self) -> meta::Status {
        meta::Status {
            code: Some(i32::from(self.code())),
            details: self.details.as_deref().map(details_to_wire),
            message: Some(self.message.clone()),
            metadata: meta::ListMeta::default(),
            reason: Some(self.reason.as_str().to_string()),
            status: Some("Failure".to_string()),
        }
    }

    /// The `Status` object as JSON, with `kind` and `apiVersion`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.to_status())
            .expect("a Status built from strings and numbers always serializes")
    }

    /// The `Status` as upstream writes it on the wire: its fields in the
    /// order of Go's struct (`kind`, `apiVersion`, `metadata`, `status`,
    /// `message`, `reason`, `details`, `code`) and a closing newline, since
    /// clients compare error bodies as strings.
    pub fn to_wire(&self) -> Vec<u8> {
        let details = self.details.as_deref().map(|d| WireDetails {
            name: &d.name,
            group: &d.group,
            kind: &d.kind,
            causes: d
                .causes
                .iter()
                .map(|c| WireCause {
                    reason: &c.reason,
                    message: &c.message,
                    field: &c.field,
                })
                .collect(),
            retry_after_seconds: d.retry_after_seconds,
        });
        let status = WireStatus {
            kind: "Status",
            api_version: "v1",
            metadata: Empty {},
            status: "Failure",
            message: &self.message,
            reason: self.reason.as_str(),
            details,
            code: self.code(),
        };
        let mut bytes = serde_json::to_vec(&status)
            .expect("a Status built from strings and numbers always serializes");
        bytes.push(b'\n');
        bytes
    }
}

/// `Status` in Go's field order (see [`ApiError::to_wire`]).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct WireStatus<'a> {
    kind: &'static str,
    api_version: &'static str,
    metadata: Empty,
    status: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<WireDetails<'a>>,
    code: u16,
}

#[derive(serde::Serialize)]
struct Empty {}

/// `StatusDetails` in Go's field order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct WireDetails<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    group: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    causes: Vec<WireCause<'a>>,
    #[serde(skip_serializing_if = "is_zero")]
    retry_after_seconds: i32,
}

/// `StatusCause` in Go's field order.
#[derive(serde::Serialize)]
struct WireCause<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    field: &'a str,
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn details_to_wire(details: &StatusDetails) -> meta::StatusDetails {
    let causes: Vec<meta::StatusCause> = details
        .causes
        .iter()
        .map(|cause| meta::StatusCause {
            field: non_empty(&cause.field),
            message: non_empty(&cause.message),
            reason: non_empty(&cause.reason),
        })
        .collect();
    meta::StatusDetails {
        causes: (!causes.is_empty()).then_some(causes),
        group: non_empty(&details.group),
        kind: non_empty(&details.kind),
        name: non_empty(&details.name),
        retry_after_seconds: (details.retry_after_seconds != 0)
            .then_some(details.retry_after_seconds),
        uid: None,
    }
}

impl From<ApiError> for meta::Status {
    fn from(error: ApiError) -> Self {
        error.to_status()
    }
}
