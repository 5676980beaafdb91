//! The `scale` subresource (autoscaling/v1 Scale) of deployments,
//! replicasets, statefulsets and replication controllers, and of custom
//! resources whose definition asks for one (at the paths it names).

use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::{Value, json};

use crate::fields::patch::Patch;
use crate::objects::{Objects, Update, WriteOptions};
use crate::schema::Source;

/// The Scale view of a scalable object.
pub fn to_scale(resource: &ResourceInfo, object: &Value) -> Result<Value, ApiError> {
    if resource.subresource("scale").is_none() {
        return Err(super::no_such_path());
    }
    let metadata = &object["metadata"];
    let selector = resource.strategy.scale_selector(object);
    let paths = resource.strategy.scale_paths();
    let replicas = |path: &str| object.pointer(path).cloned().unwrap_or(json!(0));
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "uid": metadata["uid"],
            "resourceVersion": metadata["resourceVersion"],
            "creationTimestamp": metadata["creationTimestamp"],
        },
        "spec": {"replicas": replicas(&paths.spec_replicas)},
        "status": {
            "replicas": replicas(&paths.status_replicas),
            "selector": selector,
        },
    }))
}

/// Writes `scale.spec.replicas` into the object.
fn set_replicas(
    resource: &ResourceInfo,
    current: &Value,
    scale: &Value,
) -> Result<Value, ApiError> {
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            let path = keelson_api::FieldPath::new("spec").child("replicas");
            let cause = keelson_api::FieldError::required(&path, "");
            ApiError::invalid(
                "autoscaling",
                "Scale",
                crate::meta::meta_str(current, "name"),
                &[cause],
            )
        })?;
    if replicas < 0 {
        let path = keelson_api::FieldPath::new("spec").child("replicas");
        let cause = keelson_api::FieldError::invalid(
            &path,
            json!(replicas),
            "must be greater than or equal to 0",
        );
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            crate::meta::meta_str(current, "name"),
            &[cause],
        ));
    }
    let mut next = current.clone();
    set_pointer(
        &mut next,
        &resource.strategy.scale_paths().spec_replicas,
        json!(replicas),
    );
    let rv = crate::meta::meta_str(scale, "resourceVersion");
    crate::meta::set_meta(
        &mut next,
        "resourceVersion",
        (!rv.is_empty()).then(|| json!(rv)),
    );
    Ok(next)
}

/// Sets the value at a JSON pointer, making the objects on the way.
fn set_pointer(object: &mut Value, pointer: &str, value: Value) {
    let mut at = object;
    let mut parts = pointer.split('/').skip(1).peekable();
    while let Some(part) = parts.next() {
        if !at.is_object() {
            *at = json!({});
        }
        let map = at.as_object_mut().expect("made an object");
        if parts.peek().is_none() {
            map.insert(part.to_string(), value);
            return;
        }
        at = map.entry(part.to_string()).or_insert_with(|| json!({}));
    }
}

/// Checks the types of a Scale body against its schema.
fn check(resource: &ResourceInfo, scale: &mut Value, source: Source) -> Result<(), ApiError> {
    const SCALE: (&str, &str) = ("autoscaling/v1", "Scale");
    crate::schema::check_types(
        resource,
        SCALE,
        "io.k8s.api.autoscaling.v1.Scale",
        scale,
        source,
    )
}

/// PUT of a Scale.
pub async fn update(
    objects: &Objects,
    target: &Update<'_>,
    options: &WriteOptions,
    mut scale: Value,
) -> Result<Value, ApiError> {
    check(target.resource, &mut scale, Source::Body)?;
    // The object is written as a main-resource update; managedFields
    // record it under the `scale` subresource, as upstream.
    let updated = objects
        .update(target, options, |current| {
            set_replicas(target.resource, current, &scale)
        })
        .await?;
    to_scale(target.resource, &updated)
}

/// PATCH of a Scale: the patch applies to the Scale view.
pub async fn patch(
    objects: &Objects,
    target: &Update<'_>,
    options: &WriteOptions,
    patch: &Patch,
) -> Result<Value, ApiError> {
    let updated = objects
        .update(target, options, |current| {
            let mut scale = patch.apply(&to_scale(target.resource, current)?)?;
            check(target.resource, &mut scale, Source::Patch)?;
            // The view's resourceVersion is the current one, not a precondition.
            crate::meta::set_meta(&mut scale, "resourceVersion", None);
            set_replicas(target.resource, current, &scale)
        })
        .await?;
    to_scale(target.resource, &updated)
}
