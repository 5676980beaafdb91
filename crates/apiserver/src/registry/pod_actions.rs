//! The pod subresources that act rather than store: `binding` (the
//! scheduler's placement, once) and `eviction` (a delete; disruption budgets
//! come later).

use keelson_api::{ApiError, FieldError, FieldPath};
use serde_json::{Value, json};

use crate::meta::meta_str;
use crate::objects::{DeleteOptions, Objects, Update, WriteOptions};

/// The `Status` of an action that succeeded; its `code` is the HTTP
/// status to answer with.
fn success(code: u16) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code})
}

/// `POST pods/NAME/binding`: sets `spec.nodeName` if the pod has none.
pub async fn bind(
    objects: &Objects,
    target: &Update<'_>,
    options: &WriteOptions,
    binding: Value,
) -> Result<Value, ApiError> {
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            let cause = FieldError::required(&FieldPath::new("target").child("name"), "");
            ApiError::invalid("", "Binding", target.name, &[cause])
        })?
        .to_string();
    let binding = Update {
        subresource: Some("binding"),
        ..*target
    };
    objects
        .update(&binding, options, |pod| {
            if !meta_str(pod, "deletionTimestamp").is_empty() {
                return Err(ApiError::conflict_because(
                    "",
                    "pods",
                    target.name,
                    &format!(
                        "pod {} is being deleted, cannot be assigned to a host",
                        target.name
                    ),
                ));
            }
            match pod.pointer("/spec/nodeName").and_then(Value::as_str) {
                Some(current) if !current.is_empty() => Err(ApiError::conflict_because(
                    "",
                    "pods",
                    target.name,
                    &format!(
                        "pod {} is already assigned to node \"{current}\"",
                        target.name
                    ),
                )),
                _ => {
                    let mut bound = pod.clone();
                    bound["spec"]["nodeName"] = Value::from(node.clone());
                    set_scheduled(&mut bound);
                    // A lost race runs the binding again rather than failing it.
                    crate::meta::set_meta(&mut bound, "resourceVersion", None);
                    Ok(bound)
                }
            }
        })
        .await?;
    Ok(success(201))
}

/// Marks a bound pod `PodScheduled=True`, as the binding does upstream.
fn set_scheduled(pod: &mut Value) {
    let condition = json!({
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": null,
        "lastTransitionTime": crate::meta::now_timestamp(),
    });
    if !pod["status"].is_object() {
        pod["status"] = json!({});
    }
    let conditions = &mut pod["status"]["conditions"];
    match conditions.as_array_mut() {
        Some(list) => {
            list.retain(|c| c["type"] != "PodScheduled");
            list.push(condition);
        }
        None => *conditions = json!([condition]),
    }
}

/// `POST pods/NAME/eviction`: deletes the pod with the eviction's options;
/// `dry_run` is the request's `dryRun` (the body's options may ask too).
pub async fn evict(
    objects: &Objects,
    target: &Update<'_>,
    eviction: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let mut options: DeleteOptions = match eviction.get("deleteOptions") {
        Some(options) if !options.is_null() => serde_json::from_value(options.clone())
            .map_err(|err| ApiError::bad_request(format!("invalid deleteOptions: {err}")))?,
        _ => DeleteOptions::default(),
    };
    if dry_run {
        options.dry_run.push("All".into());
    }
    objects
        .delete(target.resource, target.namespace, target.name, &options)
        .await?;
    Ok(success(201))
}
