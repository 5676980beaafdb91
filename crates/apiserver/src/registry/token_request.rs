//! `POST serviceaccounts/NAME/token`: a TokenRequest answered with a signed
//! token for the ServiceAccount (`kubectl create token`), as upstream: the
//! audiences asked for (the server's by default), an expiry of at least ten
//! minutes (an hour by default) and, when the request names one, a binding
//! to a Pod, Secret or Node that must exist with the uid given. Nothing is
//! stored.

use keelson_api::registry::ResourceInfo;
use keelson_api::{ApiError, FieldError, FieldPath};
use serde_json::{Value, json};

use super::served;
use super::tokens::{Claims, Issuer, Private, Ref, now_seconds};
use crate::meta::meta_str;
use crate::objects::admission::{Attributes, Operation};
use crate::objects::{Objects, Update};

/// The shortest and longest lifetimes a client may ask for, as upstream.
const MIN_EXPIRATION_SECONDS: i64 = 600;
const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;
/// The lifetime when the request names none.
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;

/// Makes the token `request` asks for, for the ServiceAccount `target`
/// names, and returns the TokenRequest with its status.
pub async fn create(
    objects: &Objects,
    issuer: Option<&Issuer>,
    target: &Update<'_>,
    mut request: Value,
) -> Result<Value, ApiError> {
    let Some(issuer) = issuer else {
        return Err(ApiError::service_unavailable(
            "the server has no service account signing key",
        ));
    };
    let namespace = target.namespace;
    let spec = request.get("spec").cloned().unwrap_or_else(|| json!({}));
    if !spec.is_object() {
        return Err(ApiError::bad_request(
            "TokenRequest in version \"v1\" cannot be handled as a TokenRequest: spec must be an object",
        ));
    }
    // The request is checked before the ServiceAccount is looked up.
    let expiration = expiration(&spec, target.name)?;
    let write = Attributes {
        operation: Operation::Create,
        resource: target.resource,
        namespace: Some(namespace),
        name: target.name,
        subresource: Some("token"),
        old: None,
        dry_run: false,
    };
    objects.validate_only(&write, &request).await?;
    let account = objects.get(target.resource, namespace, target.name).await?;
    let audiences = match spec.get("audiences").and_then(Value::as_array) {
        Some(given) if !given.is_empty() => given
            .iter()
            .map(|a| a.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                invalid(
                    target.name,
                    "spec.audiences",
                    json!(given),
                    "must be strings",
                )
            })?,
        _ => issuer.audiences().to_vec(),
    };
    let mut claims = Claims {
        iss: String::new(),
        sub: format!("system:serviceaccount:{namespace}:{}", target.name),
        aud: audiences.clone(),
        exp: 0,
        iat: 0,
        nbf: 0,
        jti: uuid::Uuid::new_v4().to_string(),
        kubernetes: Private {
            namespace: namespace.to_string(),
            serviceaccount: Ref {
                name: target.name.to_string(),
                uid: meta_str(&account, "uid").to_string(),
            },
            pod: None,
            secret: None,
            node: None,
        },
    };
    if let Some(bound) = spec.get("boundObjectRef").filter(|b| !b.is_null()) {
        bind(
            objects,
            namespace,
            target.name,
            bound,
            &mut claims.kubernetes,
        )
        .await?;
    }
    let now = now_seconds();
    claims.iat = now;
    claims.nbf = now;
    claims.exp = now + expiration;
    let token = issuer.sign(claims).map_err(ApiError::internal)?;
    let expires = jiff::Timestamp::from_second(now + expiration)
        .map_err(ApiError::internal)?
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut spec = spec;
    spec["audiences"] = json!(audiences);
    spec["expirationSeconds"] = json!(expiration);
    request["apiVersion"] = json!("authentication.k8s.io/v1");
    request["kind"] = json!("TokenRequest");
    request["metadata"] = json!({
        "name": target.name,
        "namespace": namespace,
        "creationTimestamp": crate::meta::now_timestamp(),
    });
    request["spec"] = spec;
    request["status"] = json!({"token": token, "expirationTimestamp": expires});
    Ok(request)
}

/// `spec.expirationSeconds`, checked as upstream.
fn expiration(spec: &Value, name: &str) -> Result<i64, ApiError> {
    let Some(given) = spec.get("expirationSeconds").filter(|v| !v.is_null()) else {
        return Ok(DEFAULT_EXPIRATION_SECONDS);
    };
    let path = "spec.expirationSeconds";
    let seconds = given.as_i64().ok_or_else(|| {
        invalid(
            name,
            path,
            given.clone(),
            "must be a whole number of seconds",
        )
    })?;
    if seconds < MIN_EXPIRATION_SECONDS {
        return Err(invalid(
            name,
            path,
            json!(seconds),
            "may not specify a duration less than 10 minutes",
        ));
    }
    if seconds > MAX_EXPIRATION_SECONDS {
        return Err(invalid(
            name,
            path,
            json!(seconds),
            "may not specify a duration larger than 2^32 seconds",
        ));
    }
    Ok(seconds)
}

/// Checks the object `bound` refers to and records it in the claims.
async fn bind(
    objects: &Objects,
    namespace: &str,
    name: &str,
    bound: &Value,
    claims: &mut Private,
) -> Result<(), ApiError> {
    let kind = bound["kind"].as_str().unwrap_or_default();
    let (plural, namespaced) = match kind {
        "Pod" => ("pods", true),
        "Secret" => ("secrets", true),
        "Node" => ("nodes", false),
        other => {
            return Err(invalid(
                name,
                "spec.boundObjectRef.kind",
                json!(other),
                "supported values: \"Pod\", \"Secret\", \"Node\"",
            ));
        }
    };
    let api_version = bound["apiVersion"].as_str().unwrap_or("v1");
    if api_version != "v1" {
        return Err(invalid(
            name,
            "spec.boundObjectRef.apiVersion",
            json!(api_version),
            "supported values: \"v1\"",
        ));
    }
    let object_name = bound["name"].as_str().unwrap_or_default();
    if object_name.is_empty() {
        let path = FieldPath::new("spec").child("boundObjectRef").child("name");
        let cause = FieldError::required(&path, "");
        return Err(ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            name,
            &[cause],
        ));
    }
    let resource: &ResourceInfo = served("", plural)?;
    let scope = if namespaced { namespace } else { "" };
    let object = objects.get(resource, scope, object_name).await?;
    let uid = meta_str(&object, "uid").to_string();
    if let Some(wanted) = bound["uid"].as_str().filter(|u| !u.is_empty())
        && wanted != uid
    {
        return Err(ApiError::conflict_because(
            "",
            plural,
            object_name,
            &format!(
                "the UID in the bound object reference ({wanted}) does not match the UID in record. The object might have been deleted and then recreated"
            ),
        ));
    }
    let reference = Ref {
        name: object_name.to_string(),
        uid,
    };
    match kind {
        "Pod" => {
            // A pod's token also names the node it runs on.
            if let Some(node) = object["spec"]["nodeName"]
                .as_str()
                .filter(|n| !n.is_empty())
            {
                let nodes = served("", "nodes")?;
                if let Ok(found) = objects.get(nodes, "", node).await {
                    claims.node = Some(Ref {
                        name: node.to_string(),
                        uid: meta_str(&found, "uid").to_string(),
                    });
                }
            }
            claims.pod = Some(reference);
        }
        "Secret" => claims.secret = Some(reference),
        _ => claims.node = Some(reference),
    }
    Ok(())
}

fn invalid(name: &str, path: &str, value: Value, detail: &str) -> ApiError {
    let mut segments = path.split('.');
    let mut field = FieldPath::new(segments.next().unwrap_or(path));
    for segment in segments {
        field = field.child(segment);
    }
    let cause = FieldError::invalid(&field, value, detail);
    ApiError::invalid("authentication.k8s.io", "TokenRequest", name, &[cause])
}
