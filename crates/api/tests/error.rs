//! API errors carry Kubernetes' reasons, codes and messages, and become
//! `Status` objects on the wire.

use keelson_api::error::{ApiError, StatusCause, StatusReason};
use keelson_api::field_error::FieldError;
use keelson_api::field_path::FieldPath;
use serde_json::json;

#[test]
fn messages_mirror_kubernetes() {
    let cases = [
        (
            ApiError::not_found("", "pods", "x"),
            r#"pods "x" not found"#,
        ),
        (
            ApiError::not_found("apps", "deployments", "web"),
            r#"deployments.apps "web" not found"#,
        ),
        (
            ApiError::already_exists("", "pods", "x"),
            r#"pods "x" already exists"#,
        ),
        (
            ApiError::conflict("", "pods", "x"),
            r#"Operation cannot be fulfilled on pods "x": the object has been modified; please apply your changes to the latest version and try again"#,
        ),
        (
            ApiError::method_not_supported("", "pods", "deletecollection"),
            r#"deletecollection is not supported on resources of kind "pods""#,
        ),
        (
            ApiError::too_large("limit is 3145728"),
            "Request entity too large: limit is 3145728",
        ),
        (
            ApiError::internal("disk on fire"),
            "Internal error occurred: disk on fire",
        ),
        (
            ApiError::timeout("request did not complete within 60s", 0),
            "Timeout: request did not complete within 60s",
        ),
        (
            ApiError::forbidden("", "pods", "x", "no"),
            r#"pods "x" is forbidden: no"#,
        ),
        (
            ApiError::forbidden("", "pods", "", "no"),
            "pods is forbidden: no",
        ),
        (ApiError::unauthorized(""), "not authorized"),
        (
            ApiError::server_timeout("apps", "deployments", "create", 2),
            "The create operation against deployments.apps could not be completed at this time, please try again.",
        ),
        (
            ApiError::generate_name_conflict("", "pods", "web-abcde", 1),
            r#"pods "web-abcde" already exists, the server was not able to generate a unique name for the object"#,
        ),
    ];
    for (error, want) in cases {
        assert_eq!(error.to_string(), want);
    }
}

#[test]
fn reasons_have_upstream_codes_and_strings() {
    let cases = [
        (StatusReason::BadRequest, 400, "BadRequest"),
        (StatusReason::Unauthorized, 401, "Unauthorized"),
        (StatusReason::Forbidden, 403, "Forbidden"),
        (StatusReason::NotFound, 404, "NotFound"),
        (StatusReason::AlreadyExists, 409, "AlreadyExists"),
        (StatusReason::Conflict, 409, "Conflict"),
        (StatusReason::Gone, 410, "Gone"),
        (StatusReason::Invalid, 422, "Invalid"),
        (StatusReason::ServerTimeout, 500, "ServerTimeout"),
        (StatusReason::Timeout, 504, "Timeout"),
        (StatusReason::TooManyRequests, 429, "TooManyRequests"),
        (StatusReason::MethodNotAllowed, 405, "MethodNotAllowed"),
        (StatusReason::NotAcceptable, 406, "NotAcceptable"),
        (
            StatusReason::RequestEntityTooLarge,
            413,
            "RequestEntityTooLarge",
        ),
        (
            StatusReason::UnsupportedMediaType,
            415,
            "UnsupportedMediaType",
        ),
        (StatusReason::InternalError, 500, "InternalError"),
        (StatusReason::Expired, 410, "Expired"),
        (StatusReason::ServiceUnavailable, 503, "ServiceUnavailable"),
    ];
    for (reason, code, text) in cases {
        assert_eq!((reason.http_code(), reason.as_str()), (code, text));
    }
}

#[test]
fn field_errors_print_like_kubernetes() {
    let spec = FieldPath::new("spec");
    let container = spec.child("containers").index(0);
    let cases = [
        (
            FieldError::invalid(
                &spec.child("replicas"),
                -1,
                "must be greater than or equal to 0",
            ),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            FieldError::required(&container.child("image"), ""),
            "spec.containers[0].image: Required value",
        ),
        (
            FieldError::not_supported(
                &spec.child("restartPolicy"),
                "Sometimes",
                &["Always", "OnFailure", "Never"],
            ),
            r#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#,
        ),
        (
            FieldError::duplicate(&container.child("name"), "web"),
            r#"spec.containers[0].name: Duplicate value: "web""#,
        ),
        (
            FieldError::forbidden(&spec.child("nodeName"), "may not be changed"),
            "spec.nodeName: Forbidden: may not be changed",
        ),
        (
            FieldError::too_long(&spec, Some(10)),
            "spec: Too long: may not be more than 10 bytes",
        ),
        (
            FieldError::too_many(&spec.child("x"), Some(5), Some(4)),
            "spec.x: Too many: 5: must have at most 4 items",
        ),
        (
            FieldError::not_found(&spec.child("x"), "y"),
            r#"spec.x: Not found: "y""#,
        ),
        (
            FieldError::invalid(&spec.child("paused"), true, ""),
            "spec.paused: Invalid value: true",
        ),
        (
            FieldError::invalid(&spec.child("values"), vec!["a", "b"], "bad"),
            r#"spec.values: Invalid value: []string{"a", "b"}: bad"#,
        ),
        (
            FieldError::invalid(&spec.child("v"), serde_json::Value::Null, "x"),
            "spec.v: Invalid value: null: x",
        ),
    ];
    for (error, want) in cases {
        assert_eq!(error.to_string(), want);
    }
}

#[test]
fn invalid_lists_one_cause_bare_and_several_in_brackets() {
    let image = FieldPath::new("spec")
        .child("containers")
        .index(0)
        .child("image");
    let name = FieldPath::new("metadata").child("name");
    let one = ApiError::invalid("", "Pod", "x", &[FieldError::required(&image, "")]);
    assert_eq!(
        one.to_string(),
        r#"Pod "x" is invalid: spec.containers[0].image: Required value"#
    );
    let two = ApiError::invalid(
        "apps",
        "Deployment",
        "web",
        &[
            FieldError::required(&image, ""),
            FieldError::invalid(&name, "Web", "bad name"),
            FieldError::required(&image, ""),
        ],
    );
    assert_eq!(
        two.to_string(),
        r#"Deployment.apps "web" is invalid: [spec.containers[0].image: Required value, metadata.name: Invalid value: "Web": bad name]"#
    );
    assert_eq!(two.code(), 422);
    let details = two.details.expect("invalid errors have details");
    assert_eq!(
        (
            details.group.as_str(),
            details.kind.as_str(),
            details.name.as_str()
        ),
        ("apps", "Deployment", "web")
    );
    assert_eq!(
        details.causes.len(),
        3,
        "every cause is kept in the details"
    );
    assert_eq!(
        details.causes[1],
        StatusCause {
            reason: "FieldValueInvalid".to_string(),
            message: r#"Invalid value: "Web": bad name"#.to_string(),
            field: "metadata.name".to_string(),
        }
    );
    assert_eq!(
        ApiError::invalid("", "Pod", "x", &[]).to_string(),
        r#"Pod "x" is invalid"#
    );
}

#[test]
fn becomes_a_status_object() {
    let status = ApiError::not_found("apps", "deployments", "web").to_json();
    assert_eq!(
        status,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "deployments.apps \"web\" not found",
            "reason": "NotFound",
            "details": {"name": "web", "group": "apps", "kind": "deployments"},
            "code": 404,
        })
    );
    let invalid = ApiError::invalid(
        "",
        "Pod",
        "x",
        &[FieldError::required(
            &FieldPath::new("spec").child("containers"),
            "",
        )],
    )
    .to_json();
    assert_eq!(
        invalid["details"]["causes"],
        json!([{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}])
    );
    let retry = ApiError::too_many_requests("slow down", 3).to_json();
    assert_eq!(retry["details"]["retryAfterSeconds"], 3);
    assert_eq!(retry["code"], 429);
    let bad = ApiError::bad_request("nope").to_json();
    assert!(bad.get("details").is_none());
}
