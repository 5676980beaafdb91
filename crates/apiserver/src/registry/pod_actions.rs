//! The pod subresources that act rather than store: `binding` (the
//! scheduler's placement, once) and `eviction` (a delete that honours the
//! pod's disruption budget, see [`super::disruption`]).

use keelson_api::registry;
use keelson_api::{ApiError, FieldError, FieldPath};
use serde_json::{Value, json};

use super::disruption;
use crate::meta::meta_str;
use crate::objects::admission::{Attributes, Operation};
use crate::objects::{DeleteOptions, ListOptions, Objects, Update, WriteOptions};

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

/// `POST pods/NAME/eviction`: deletes the pod with the eviction's options
/// unless its disruption budget forbids it, as upstream: a pod that has
/// not started, has finished or is being deleted goes at once; one that a
/// budget covers takes one of the budget's allowed disruptions (recorded
/// in its status) or is refused with 429; more than one budget is a 500.
/// `dry_run` is the request's `dryRun` (the body's options may ask too);
/// a dry run writes nothing.
pub async fn evict(
    objects: &Objects,
    target: &Update<'_>,
    eviction: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let name = eviction.pointer("/metadata/name").and_then(Value::as_str);
    if name.is_some_and(|n| n != target.name) {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Eviction object",
        ));
    }
    let options = eviction_options(&eviction, dry_run)?;
    let write = Attributes {
        operation: Operation::Create,
        resource: target.resource,
        namespace: Some(target.namespace),
        name: target.name,
        subresource: Some("eviction"),
        old: None,
        dry_run,
    };
    objects.validate_only(&write, &eviction).await?;
    let unconditional = unconditional(&options);
    for _ in 0..EVICTION_ATTEMPTS {
        let pod = objects
            .get(target.resource, target.namespace, target.name)
            .await?;
        if !disruption::ignores_budgets(&pod) {
            return evict_under_budget(objects, target, &pod, options).await;
        }
        // Nothing was taken from a budget: a pod that changed meanwhile
        // is looked at again.
        match delete_pod(objects, target, &pod, &options, unconditional).await {
            Err(err) if disruption::is_conflict(&err) && unconditional => continue,
            result => return result,
        }
    }
    Err(ApiError::conflict("", target.resource.plural, target.name))
}

/// How often an eviction that needs no budget is tried again after the pod
/// changed under it.
const EVICTION_ATTEMPTS: usize = 20;

/// Whether the client's delete names no resourceVersion to delete at.
fn unconditional(options: &DeleteOptions) -> bool {
    options
        .preconditions
        .as_ref()
        .is_none_or(|p| p.resource_version.is_none())
}

fn budget_resource() -> &'static registry::ResourceInfo {
    registry::by_resource("policy", "poddisruptionbudgets")
        .expect("poddisruptionbudgets are registered")
}

/// Evicts a running pod as the budget covering it allows.
async fn evict_under_budget(
    objects: &Objects,
    target: &Update<'_>,
    pod: &Value,
    options: DeleteOptions,
) -> Result<Value, ApiError> {
    let unconditional = unconditional(&options);
    let budgets = budgets(objects, target.namespace).await?;
    let spared = match disruption::covering(&budgets, pod).as_slice() {
        [] => None,
        [budget] if disruption::spares_budget(budget, pod) => Some(meta_str(budget, "name")),
        [budget] => {
            take_disruption(objects, budget, target.name, &options).await?;
            None
        }
        _ => return Ok(disruption::more_than_one()),
    };
    // An unready pod spared by its budget must still be unready when it
    // goes: the delete is conditional on the version looked at.
    let guard = spared.is_some() && unconditional;
    match delete_pod(objects, target, pod, &options, guard).await {
        Err(err) if disruption::is_conflict(&err) && guard => {
            Err(disruption::still_processing(spared.unwrap_or_default()))
        }
        result => result,
    }
}

/// Deletes the pod, conditional on the version looked at when `guard` is
/// set and the pod may still turn ready.
async fn delete_pod(
    objects: &Objects,
    target: &Update<'_>,
    pod: &Value,
    options: &DeleteOptions,
    guard: bool,
) -> Result<Value, ApiError> {
    let mut options = options.clone();
    if guard && disruption::guards_resource_version(pod) {
        let preconditions = options.preconditions.get_or_insert_with(Default::default);
        preconditions.resource_version = Some(meta_str(pod, "resourceVersion").to_string());
    }
    objects
        .delete(target.resource, target.namespace, target.name, &options)
        .await?;
    Ok(success(201))
}

/// The delete options of an eviction, with the request's dry run.
fn eviction_options(eviction: &Value, dry_run: bool) -> Result<DeleteOptions, ApiError> {
    let mut options: DeleteOptions = match eviction.get("deleteOptions") {
        Some(options) if !options.is_null() => serde_json::from_value(options.clone())
            .map_err(|err| ApiError::bad_request(format!("invalid deleteOptions: {err}")))?,
        _ => DeleteOptions::default(),
    };
    if dry_run && options.dry_run.is_empty() {
        options.dry_run.push("All".into());
    } else if dry_run && options.dry_run != ["All"] {
        return Err(ApiError::bad_request(format!(
            "Non-matching dry-run options in request and content: [All] and {:?}",
            options.dry_run
        )));
    }
    Ok(options)
}

/// The disruption budgets of a namespace.
async fn budgets(objects: &Objects, namespace: &str) -> Result<Vec<Value>, ApiError> {
    let resource = budget_resource();
    let list = objects
        .list(resource, Some(namespace), &ListOptions::default())
        .await?;
    Ok(list["items"].as_array().cloned().unwrap_or_default())
}

/// Takes one of `budget`'s allowed disruptions for `pod` through its
/// status, checked again on the latest budget if another write wins the
/// race; a dry run only checks.
async fn take_disruption(
    objects: &Objects,
    budget: &Value,
    pod: &str,
    options: &DeleteOptions,
) -> Result<(), ApiError> {
    let now = crate::meta::now_timestamp();
    if options.dry_run.iter().any(|d| d == "All") {
        return disruption::take_disruption(budget, pod, &now).map(|_| ());
    }
    let resource = budget_resource();
    let target = Update {
        resource,
        namespace: meta_str(budget, "namespace"),
        name: meta_str(budget, "name"),
        subresource: Some("status"),
    };
    let writer = WriteOptions {
        dry_run: false,
        field_manager: Some("kube-apiserver".to_string()),
    };
    objects
        .update(&target, &writer, |current| {
            let mut next = current.clone();
            next["status"] = disruption::take_disruption(current, pod, &now)?;
            crate::meta::set_meta(&mut next, "resourceVersion", None);
            Ok(next)
        })
        .await
        .map(|_| ())
}
