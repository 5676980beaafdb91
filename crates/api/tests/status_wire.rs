//! Error `Status` bodies are byte for byte what upstream writes: Go's
//! field order and a closing newline (clients compare them as strings).

use keelson_api::{ApiError, FieldError, FieldPath};

#[test]
fn not_found_is_written_as_upstream() {
    let wire = ApiError::not_found("apps", "deployments", "web").to_wire();
    assert_eq!(
        String::from_utf8(wire).expect("UTF-8"),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"deployments.apps \\\"web\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"web\",\"group\":\"apps\",\"kind\":\"deployments\"},\"code\":404}\n"
    );
}

#[test]
fn causes_keep_the_go_field_order() {
    let cause = FieldError::required(&FieldPath::new("spec").child("selector"), "");
    let wire = ApiError::invalid("apps", "Deployment", "web", &[cause]).to_wire();
    let text = String::from_utf8(wire).expect("UTF-8");
    assert!(
        text.contains("\"details\":{\"name\":\"web\",\"group\":\"apps\",\"kind\":\"Deployment\",\"causes\":[{\"reason\":\"FieldValueRequired\",\"message\":\"Required value\",\"field\":\"spec.selector\"}]},\"code\":422}\n"),
        "{text}"
    );
    let retry = ApiError::too_many_requests("slow down", 3).to_wire();
    let text = String::from_utf8(retry).expect("UTF-8");
    assert!(
        text.contains("\"details\":{\"retryAfterSeconds\":3},\"code\":429}"),
        "{text}"
    );
}

#[test]
fn the_wire_form_says_what_the_json_form_says() {
    for error in [
        ApiError::bad_request("nope"),
        ApiError::conflict("", "pods", "a"),
        ApiError::too_many_requests("slow down", 3),
    ] {
        let wire: serde_json::Value = serde_json::from_slice(&error.to_wire()).expect("JSON");
        assert_eq!(wire, error.to_json());
    }
}
