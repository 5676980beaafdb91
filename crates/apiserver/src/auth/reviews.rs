//! The review resources, answered where the user is known: TokenReview
//! (whom a bearer token authenticates), `kubectl auth
//! whoami` (authentication.k8s.io/v1 SelfSubjectReview) and `kubectl auth
//! can-i` (authorization.k8s.io/v1 SelfSubjectAccessReview,
//! SelfSubjectRulesReview for `--list`, SubjectAccessReview and
//! LocalSubjectAccessReview). Like upstream's they are create-only and
//! stored nowhere: the answer is the object sent with its `status` filled
//! in. The layer authorizes the `create` first, as for any resource.
//!
//! They are served by the authentication layer itself, so only while it
//! is on, and are not listed in discovery (kubectl reaches them by their
//! paths).

use std::collections::BTreeMap;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use keelson_api::{ApiError, FieldError, FieldPath};
use serde_json::{Value, json};

use super::Authorizer;
use super::rbac::rules::Rule;
use super::request_info::Attributes;
use super::user::User;
use crate::http::response::{Failure, json_response};

const AUTHENTICATION: &str = "authentication.k8s.io";
const AUTHORIZATION: &str = "authorization.k8s.io";

/// The most bytes of a review's body.
const MAX_BODY: usize = 1024 * 1024;

/// Which review a request creates, if it creates one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    Token,
    SelfSubject,
    SelfSubjectAccess,
    SelfSubjectRules,
    SubjectAccess,
    LocalSubjectAccess { namespace: String },
}

impl Review {
    /// The review `request` creates: a POST to one of the review paths.
    pub fn of(request: &Request) -> Option<Review> {
        if request.method() != Method::POST {
            return None;
        }
        let path = request.uri().path().trim_end_matches('/');
        let review = match path {
            "/apis/authentication.k8s.io/v1/tokenreviews" => Review::Token,
            "/apis/authentication.k8s.io/v1/selfsubjectreviews" => Review::SelfSubject,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" => Review::SelfSubjectAccess,
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews" => Review::SelfSubjectRules,
            "/apis/authorization.k8s.io/v1/subjectaccessreviews" => Review::SubjectAccess,
            _ => {
                let rest = path.strip_prefix("/apis/authorization.k8s.io/v1/namespaces/")?;
                let (namespace, "localsubjectaccessreviews") = rest.split_once('/')? else {
                    return None;
                };
                Review::LocalSubjectAccess {
                    namespace: namespace.to_string(),
                }
            }
        };
        Some(review)
    }
}

/// Answers `review` for `user`.
pub async fn serve(review: Review, auth: &super::Auth, user: &User, request: Request) -> Response {
    match answer(review, auth, user, request).await {
        Ok(object) => json_response(StatusCode::CREATED, &object),
        Err(err) => Failure(err).into_response(),
    }
}

async fn answer(
    review: Review,
    auth: &super::Auth,
    user: &User,
    request: Request,
) -> Result<Value, ApiError> {
    let authorizer = &auth.authorizer;
    let media_type = crate::http::body::content_type(request.headers());
    let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|err| ApiError::bad_request(format!("failed to read the request body: {err}")))?;
    let mut object: Value = match bytes.is_empty() {
        true => json!({}),
        // kubectl sends its reviews as protobuf.
        false => crate::codec::decode(&bytes, &media_type)?,
    };
    if !object.is_object() {
        return Err(ApiError::bad_request(
            "the body is not a review: not an object",
        ));
    }
    let (group, kind) = match &review {
        Review::Token => (AUTHENTICATION, "TokenReview"),
        Review::SelfSubject => (AUTHENTICATION, "SelfSubjectReview"),
        Review::SelfSubjectAccess => (AUTHORIZATION, "SelfSubjectAccessReview"),
        Review::SelfSubjectRules => (AUTHORIZATION, "SelfSubjectRulesReview"),
        Review::SubjectAccess => (AUTHORIZATION, "SubjectAccessReview"),
        Review::LocalSubjectAccess { .. } => (AUTHORIZATION, "LocalSubjectAccessReview"),
    };
    object["apiVersion"] = json!(format!("{group}/v1"));
    object["kind"] = json!(kind);
    if object.get("metadata").is_none_or(|m| !m.is_object()) {
        object["metadata"] = json!({});
    }
    object["metadata"]["creationTimestamp"] = Value::Null;
    let status = match review {
        Review::Token => token(auth, &object["spec"]).await?,
        Review::SelfSubject => json!({"userInfo": user_info(user)}),
        Review::SelfSubjectAccess => access(authorizer, user, &object["spec"], kind, None).await?,
        Review::SelfSubjectRules => rules(authorizer, user, &object["spec"]).await?,
        Review::SubjectAccess => {
            let subject = subject_of(&object["spec"], kind)?;
            access(authorizer, &subject, &object["spec"], kind, None).await?
        }
        Review::LocalSubjectAccess { namespace } => {
            let subject = subject_of(&object["spec"], kind)?;
            access(
                authorizer,
                &subject,
                &object["spec"],
                kind,
                Some(&namespace),
            )
            .await?
        }
    };
    object["status"] = status;
    Ok(object)
}

/// A TokenReview's status: whom the token authenticates, for the
/// audiences asked for (the server's when none).
async fn token(auth: &super::Auth, spec: &Value) -> Result<Value, ApiError> {
    let Some(token) = spec["token"].as_str().filter(|t| !t.is_empty()) else {
        let path = FieldPath::new("spec").child("token");
        return Err(invalid("TokenReview", FieldError::required(&path, "")));
    };
    let audiences: Vec<String> = spec["audiences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    Ok(match auth.token_user(token, &audiences).await {
        Some((user, audiences)) => json!({
            "authenticated": true,
            "user": user_info(&user),
            "audiences": audiences,
        }),
        None => json!({"user": {}, "error": "invalid bearer token"}),
    })
}

fn user_info(user: &User) -> Value {
    let mut info = json!({"username": user.name, "groups": user.groups});
    if !user.uid.is_empty() {
        info["uid"] = json!(user.uid);
    }
    if !user.extra.is_empty() {
        info["extra"] = json!(user.extra);
    }
    info
}

fn invalid(kind: &str, error: FieldError) -> ApiError {
    ApiError::invalid(AUTHORIZATION, kind, "", &[error])
}

/// The user a SubjectAccessReview asks about.
fn subject_of(spec: &Value, kind: &str) -> Result<User, ApiError> {
    let text = |key: &str| spec[key].as_str().unwrap_or_default().to_string();
    let list = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let user = User {
        name: text("user"),
        uid: text("uid"),
        groups: list(&spec["groups"]),
        extra: spec["extra"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), list(v)))
            .collect::<BTreeMap<_, _>>(),
    };
    if user.name.is_empty() && user.groups.is_empty() {
        return Err(invalid(
            kind,
            FieldError::invalid(
                &FieldPath::new("spec").child("user"),
                "",
                "at least one of user or group must be specified",
            ),
        ));
    }
    Ok(user)
}

/// The status of an access review of `spec` for `user`.
async fn access(
    authorizer: &Authorizer,
    user: &User,
    spec: &Value,
    kind: &str,
    namespace: Option<&str>,
) -> Result<Value, ApiError> {
    let resource = spec.get("resourceAttributes").filter(|a| a.is_object());
    let non_resource = spec.get("nonResourceAttributes").filter(|a| a.is_object());
    let text =
        |attributes: &Value, key: &str| attributes[key].as_str().unwrap_or_default().to_string();
    let attributes = match (resource, non_resource) {
        (Some(a), None) => {
            let mut attributes = Attributes::resource(
                &text(a, "verb"),
                &text(a, "group"),
                &text(a, "resource"),
                &text(a, "namespace"),
                &text(a, "name"),
            );
            attributes.subresource = text(a, "subresource");
            attributes.api_version = text(a, "version");
            if let Some(namespace) = namespace {
                if !attributes.namespace.is_empty() && attributes.namespace != namespace {
                    return Err(invalid(
                        kind,
                        FieldError::invalid(
                            &FieldPath::new("spec")
                                .child("resourceAttributes")
                                .child("namespace"),
                            attributes.namespace.clone(),
                            "must match metadata.namespace",
                        ),
                    ));
                }
                attributes.namespace = namespace.to_string();
            }
            attributes
        }
        (None, Some(a)) => Attributes {
            verb: text(a, "verb"),
            path: text(a, "path"),
            ..Attributes::default()
        },
        _ => {
            return Err(invalid(
                kind,
                FieldError::invalid(
                    &FieldPath::new("spec").child("resourceAttributes"),
                    Value::Null,
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                ),
            ));
        }
    };
    let decision = authorizer.authorize(user, &attributes).await?;
    let mut status = json!({"allowed": decision.allowed});
    let reason = decision.reason();
    if !reason.is_empty() {
        status["reason"] = json!(reason);
    }
    Ok(status)
}

/// The status of a rules review: every rule the user has in the
/// namespace (upstream's `kubectl auth can-i --list`).
async fn rules(authorizer: &Authorizer, user: &User, spec: &Value) -> Result<Value, ApiError> {
    let namespace = spec["namespace"].as_str().unwrap_or_default();
    let (rules, errors): (Vec<Rule>, Vec<String>) = match authorizer {
        Authorizer::AlwaysAllow => (super::escalation::full_authority(), Vec::new()),
        Authorizer::Rbac(rbac) => rbac.policy().await?.rules_for(user, namespace),
        Authorizer::NodeRbac(_, rbac) => {
            let (rules, mut errors) = rbac.policy().await?.rules_for(user, namespace);
            // As upstream: a node's permissions are not all rules.
            if super::node::node_of(user).is_some() {
                errors.push("node authorizer does not support user rule resolution".to_string());
            }
            (rules, errors)
        }
    };
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    for rule in &rules {
        if !rule.resources.is_empty() {
            let mut one = json!({"verbs": rule.verbs, "apiGroups": rule.api_groups, "resources": rule.resources});
            if !rule.resource_names.is_empty() {
                one["resourceNames"] = json!(rule.resource_names);
            }
            resource_rules.push(one);
        }
        if !rule.non_resource_urls.is_empty() {
            non_resource_rules
                .push(json!({"verbs": rule.verbs, "nonResourceURLs": rule.non_resource_urls}));
        }
    }
    let mut status = json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": !errors.is_empty(),
    });
    if !errors.is_empty() {
        status["evaluationError"] = json!(errors.join(", "));
    }
    Ok(status)
}
