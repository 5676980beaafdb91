//! What an upstream API server's apiextensions controllers do for
//! CustomResourceDefinitions, as one loop of each API server over the
//! definitions in its watch cache:
//!
//! - naming: a definition's names are accepted unless another definition
//!   of its group has accepted them already (`NamesAccepted`, with
//!   upstream's reasons `PluralConflict`, `KindConflict`, ...), and its
//!   storage version joins `status.storedVersions`;
//! - establishing: once its names are accepted the definition is
//!   `Established` and its served versions are served (registered with
//!   [`registry::set_custom`] under this server's owner key), so every API
//!   server on the store serves it without a restart;
//! - cleanup: a definition being deleted (the deletion adds the
//!   `customresourcecleanup.apiextensions.k8s.io` finalizer) is marked
//!   `Terminating`, its objects are deleted, and once none is left the
//!   finalizer goes, then the definition, then its endpoints.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use keelson_api::ApiError;
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use keelson_api::registry::{self, ResourceInfo};
use serde_json::{Value, json};

use super::custom::{self, RulesOf};
use crate::meta::meta_str;
use crate::objects::{DeleteOptions, Objects, Update, WriteOptions};
use crate::watch::Caches;

/// The API group of CustomResourceDefinitions.
pub const GROUP: &str = "apiextensions.k8s.io";
/// Their resource.
pub const PLURAL: &str = "customresourcedefinitions";
/// The finalizer a definition's deletion adds (its strategy's), removed
/// once its objects are gone.
pub use keelson_api::strategy::CLEANUP_FINALIZER;

/// The manager the status writes are recorded under.
const MANAGER: &str = "kube-apiserver";

/// How often the loop looks again while a definition is being deleted
/// (its objects may wait on their own finalizers), and otherwise while
/// nothing changes (to notice that its server is gone).
const RESYNC: Duration = Duration::from_secs(1);
const IDLE: Duration = Duration::from_secs(30);

/// The registration of one server's custom resources; they are no longer
/// served from it once it is dropped.
pub struct CustomKinds {
    owner: u64,
}

impl Drop for CustomKinds {
    fn drop(&mut self) {
        registry::set_custom(self.owner, Vec::new());
    }
}

/// Starts the loop of one server, if a runtime runs; it stops when the
/// returned registration is dropped or `stopping` turns true.
pub fn start(
    objects: Objects,
    caches: Caches,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    rules: RulesOf,
) -> Arc<CustomKinds> {
    static OWNERS: AtomicU64 = AtomicU64::new(1);
    let kinds = Arc::new(CustomKinds {
        owner: OWNERS.fetch_add(1, Ordering::Relaxed),
    });
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return kinds;
    };
    let weak = Arc::downgrade(&kinds);
    runtime.spawn(async move {
        let mut state = Loop {
            objects,
            caches,
            rules,
            made: HashMap::new(),
        };
        while !*stopping.borrow() {
            let (changed, pause) = match state.round(&weak).await {
                Next::Stop => break,
                Next::Retry => (None, RESYNC),
                Next::Watch(changed, false) => (Some(changed), IDLE),
                Next::Watch(changed, true) => (Some(changed), RESYNC),
            };
            let next_change = async {
                match &changed {
                    Some(changed) => drop(changed.recv().await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = next_change => {}
                _ = tokio::time::sleep(pause) => {}
                _ = stopping.changed() => {}
            }
        }
    });
    kinds
}

/// What follows a round.
enum Next {
    /// Another round once this watch tells of a change, or after
    /// [`RESYNC`] when a definition is being deleted (true), else [`IDLE`].
    Watch(crate::watch::Receiver, bool),
    /// Another round after [`RESYNC`].
    Retry,
    /// None: the server is gone.
    Stop,
}

struct Loop {
    objects: Objects,
    caches: Caches,
    rules: RulesOf,
    /// The entries made for each definition, by its uid and generation.
    made: HashMap<String, ((String, i64), Vec<&'static ResourceInfo>)>,
}

impl Loop {
    /// One pass over every definition; the watch that tells of the next
    /// change, or `None` when the server is gone.
    async fn round(&mut self, owner: &Weak<CustomKinds>) -> Next {
        let Some(resource) = registry::by_resource(GROUP, PLURAL) else {
            // Definitions are not served: nothing to do.
            return Next::Stop;
        };
        let cache = match self.caches.of(resource).await {
            Ok(cache) => cache,
            Err(err) => {
                tracing::warn!(error = %err, "custom resource definitions cannot be watched");
                return Next::Retry;
            }
        };
        let Some((snapshot, changed)) = cache.watch_now() else {
            return Next::Retry;
        };
        let prefix = registry::storage_prefix(resource, None);
        let definitions: Vec<Value> = snapshot.under(&prefix).map(|o| o.value().clone()).collect();
        let mut served = Vec::new();
        for definition in &definitions {
            match self.reconcile(resource, definition, &definitions).await {
                Ok(resources) => served.extend(resources),
                // One bad definition never stops the others.
                Err(err) => tracing::warn!(
                    definition = meta_str(definition, "name"),
                    error = %err,
                    "custom resource definition not reconciled"
                ),
            }
        }
        let Some(kinds) = owner.upgrade() else {
            return Next::Stop;
        };
        registry::set_custom(kinds.owner, served);
        let live: BTreeSet<String> = definitions
            .iter()
            .map(|d| meta_str(d, "uid").to_string())
            .collect();
        self.made.retain(|uid, _| live.contains(uid));
        let deleting = definitions
            .iter()
            .any(|d| !meta_str(d, "deletionTimestamp").is_empty());
        Next::Watch(changed, deleting)
    }

    /// Brings one definition's status up to date, cleans up after a
    /// deleted one, and returns what it serves.
    async fn reconcile(
        &mut self,
        resource: &'static ResourceInfo,
        definition: &Value,
        all: &[Value],
    ) -> Result<Vec<&'static ResourceInfo>, ApiError> {
        let name = meta_str(definition, "name").to_string();
        let status = status_of(definition, all);
        if status != definition["status"] {
            self.write_status(resource, &name, definition, &status)
                .await?;
        }
        let deleting = !meta_str(definition, "deletionTimestamp").is_empty();
        if deleting {
            self.clean_up(resource, definition).await?;
        }
        if !condition_is(&status, "Established", "True") {
            return Ok(Vec::new());
        }
        let crd: CustomResourceDefinition = serde_json::from_value(definition.clone())
            .map_err(|err| ApiError::internal(format!("definition {name} does not read: {err}")))?;
        let key = (
            meta_str(definition, "uid").to_string(),
            definition["metadata"]["generation"].as_i64().unwrap_or(0),
        );
        let uid = key.0.clone();
        if let Some((made_for, resources)) = self.made.get(&uid)
            && *made_for == key
        {
            return Ok(resources.clone());
        }
        let resources = custom::resources(&crd, self.rules);
        self.made.insert(uid, (key, resources.clone()));
        Ok(resources)
    }

    async fn write_status(
        &self,
        resource: &'static ResourceInfo,
        name: &str,
        seen: &Value,
        status: &Value,
    ) -> Result<(), ApiError> {
        let target = Update {
            resource,
            namespace: "",
            name,
            subresource: Some("status"),
        };
        let options = WriteOptions {
            dry_run: false,
            field_manager: Some(MANAGER.to_string()),
        };
        let seen_version = meta_str(seen, "resourceVersion").to_string();
        let result = self
            .objects
            .update(&target, &options, |current| {
                let mut next = current.clone();
                // A definition changed since it was looked at is looked at
                // again in the next round.
                if meta_str(current, "resourceVersion") != seen_version {
                    return Err(ApiError::conflict(GROUP, PLURAL, name));
                }
                next["status"] = status.clone();
                Ok(next)
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if matches!(err.code(), 404 | 409) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Deletes the objects of a definition being deleted; once none is
    /// left, removes the cleanup finalizer.
    async fn clean_up(
        &self,
        resource: &'static ResourceInfo,
        definition: &Value,
    ) -> Result<(), ApiError> {
        let finalizers = definition["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == CLEANUP_FINALIZER) {
            return Ok(());
        }
        let name = meta_str(definition, "name").to_string();
        let group = definition["spec"]["group"].as_str().unwrap_or_default();
        let plural = definition["spec"]["names"]["plural"]
            .as_str()
            .unwrap_or_default();
        // What this server serves of the definition, if anything.
        let served = registry::custom()
            .iter()
            .copied()
            .find(|r| r.group == group && r.plural == plural);
        let remaining = match served {
            Some(custom) => self.delete_all(custom).await?,
            None => 0,
        };
        if remaining > 0 {
            return Ok(());
        }
        let target = Update {
            resource,
            namespace: "",
            name: &name,
            subresource: None,
        };
        let options = WriteOptions {
            dry_run: false,
            field_manager: Some(MANAGER.to_string()),
        };
        let result = self
            .objects
            .update(&target, &options, |current| {
                let mut next = current.clone();
                if let Some(list) = next["metadata"]["finalizers"].as_array_mut() {
                    list.retain(|f| f != CLEANUP_FINALIZER);
                }
                Ok(next)
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.code() == 404 => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Deletes every object of `custom`; how many are left (held by
    /// their finalizers).
    async fn delete_all(&self, custom: &'static ResourceInfo) -> Result<usize, ApiError> {
        let list = self
            .objects
            .list(custom, None, &crate::objects::ListOptions::default())
            .await?;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        let mut left = 0;
        for item in &items {
            let namespace = meta_str(item, "namespace");
            let name = meta_str(item, "name");
            match self
                .objects
                .delete(custom, namespace, name, &DeleteOptions::default())
                .await
            {
                Ok(crate::objects::Deleted::Gone(_)) => {}
                Ok(crate::objects::Deleted::Pending(_)) => left += 1,
                Err(err) if err.code() == 404 => {}
                Err(err) => return Err(err),
            }
        }
        Ok(left)
    }
}

/// Whether `status` has the condition `kind` with `value`.
fn condition_is(status: &Value, kind: &str, value: &str) -> bool {
    status["conditions"].as_array().is_some_and(|list| {
        list.iter()
            .any(|c| c["type"] == kind && c["status"] == value)
    })
}

/// The names other definitions of `group` have accepted: resource names
/// (plural, singular, short names) and kinds (kind, list kind).
fn taken(group: &str, own_name: &str, all: &[Value]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut resources = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for other in all {
        if meta_str(other, "name") == own_name || other["spec"]["group"] != group {
            continue;
        }
        let accepted = &other["status"]["acceptedNames"];
        for key in ["plural", "singular"] {
            if let Some(name) = accepted[key].as_str().filter(|n| !n.is_empty()) {
                resources.insert(name.to_string());
            }
        }
        for short in accepted["shortNames"].as_array().into_iter().flatten() {
            if let Some(short) = short.as_str() {
                resources.insert(short.to_string());
            }
        }
        for key in ["kind", "listKind"] {
            if let Some(kind) = accepted[key].as_str().filter(|n| !n.is_empty()) {
                kinds.insert(kind.to_string());
            }
        }
    }
    (resources, kinds)
}

/// The status a definition should have: its accepted names, conditions
/// and stored versions.
pub fn status_of(definition: &Value, all: &[Value]) -> Value {
    let name = meta_str(definition, "name");
    let spec = &definition["spec"];
    let names = &spec["names"];
    let old = &definition["status"];
    let accepted_before = &old["acceptedNames"];
    let (resources, kinds) = taken(spec["group"].as_str().unwrap_or_default(), name, all);
    let mut accepted = accepted_before.as_object().cloned().unwrap_or_default();
    let mut conflict: Option<(&str, String)> = None;
    // Each name is checked on its own; the status holds the best match.
    let mut check = |key: &str, used: &BTreeSet<String>, reason: &'static str| {
        let wanted = &names[key];
        if wanted.is_null() {
            return;
        }
        let clash = match wanted {
            Value::Array(list) => list
                .iter()
                .filter_map(Value::as_str)
                .find(|n| used.contains(*n))
                .map(str::to_string),
            other => other
                .as_str()
                .filter(|n| used.contains(*n))
                .map(str::to_string),
        };
        match clash {
            Some(clash) if accepted_before[key] != *wanted => {
                conflict.get_or_insert((reason, format!("{clash:?} is already in use")));
            }
            _ => {
                accepted.insert(key.to_string(), wanted.clone());
            }
        }
    };
    check("plural", &resources, "PluralConflict");
    check("singular", &resources, "SingularConflict");
    check("shortNames", &resources, "ShortNamesConflict");
    check("kind", &kinds, "KindConflict");
    check("listKind", &kinds, "ListKindConflict");
    for key in ["categories"] {
        if !names[key].is_null() {
            accepted.insert(key.to_string(), names[key].clone());
        }
    }
    let now = crate::meta::now_timestamp();
    let previous: BTreeMap<String, Value> = old["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["type"].as_str()?.to_string(), c.clone())))
        .collect();
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        let same = previous
            .get(kind)
            .filter(|c| c["status"] == status && c["reason"] == reason && c["message"] == message);
        match same {
            Some(kept) => kept.clone(),
            None => json!({
                "type": kind, "status": status, "reason": reason,
                "message": message, "lastTransitionTime": now,
            }),
        }
    };
    let mut conditions = Vec::new();
    let was_established = previous
        .get("Established")
        .is_some_and(|c| c["status"] == "True");
    match &conflict {
        None => {
            conditions.push(condition(
                "NamesAccepted",
                "True",
                "NoConflicts",
                "no conflicts found",
            ));
            conditions.push(condition(
                "Established",
                "True",
                "InitialNamesAccepted",
                "the initial names have been accepted",
            ));
        }
        Some((reason, message)) => {
            conditions.push(condition("NamesAccepted", "False", reason, message));
            // A definition once established stays so under its old names.
            conditions.push(match was_established {
                true => previous["Established"].clone(),
                false => condition(
                    "Established",
                    "False",
                    "NotAccepted",
                    "not all names are accepted",
                ),
            });
        }
    }
    if !meta_str(definition, "deletionTimestamp").is_empty() {
        conditions.push(condition(
            "Terminating",
            "True",
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
        ));
    }
    let mut stored: Vec<Value> = old["storedVersions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let storage = spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["storage"] == true)
        .and_then(|v| v["name"].as_str());
    if let Some(storage) = storage
        && !stored.iter().any(|v| v == storage)
    {
        stored.push(json!(storage));
    }
    json!({
        "acceptedNames": accepted,
        "conditions": conditions,
        "storedVersions": stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(name: &str, plural: &str, kind: &str, accepted: Option<Value>) -> Value {
        let mut object = json!({
            "metadata": {"name": name, "uid": name},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": plural, "singular": plural.trim_end_matches('s'), "kind": kind, "listKind": format!("{kind}List")},
                "versions": [{"name": "v1", "served": true, "storage": true}]},
        });
        if let Some(accepted) = accepted {
            object["status"] = json!({"acceptedNames": accepted});
        }
        object
    }

    fn condition<'a>(status: &'a Value, kind: &str) -> &'a Value {
        status["conditions"]
            .as_array()
            .and_then(|list| list.iter().find(|c| c["type"] == kind))
            .unwrap_or(&Value::Null)
    }

    #[test]
    fn free_names_are_accepted_and_the_definition_established() {
        let widgets = definition("widgets.example.com", "widgets", "Widget", None);
        let status = status_of(&widgets, std::slice::from_ref(&widgets));
        assert_eq!(status["acceptedNames"]["plural"], "widgets");
        assert_eq!(status["acceptedNames"]["listKind"], "WidgetList");
        assert_eq!(condition(&status, "NamesAccepted")["reason"], "NoConflicts");
        assert_eq!(condition(&status, "Established")["status"], "True");
        assert_eq!(
            condition(&status, "Established")["reason"],
            "InitialNamesAccepted"
        );
        assert_eq!(status["storedVersions"], json!(["v1"]));
    }

    #[test]
    fn names_another_definition_accepted_are_refused() {
        let accepted = json!({"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"});
        let first = definition("widgets.example.com", "widgets", "Widget", Some(accepted));
        let second = definition("gadgets.example.com", "gadgets", "Widget", None);
        let all = [first, second.clone()];
        let status = status_of(&second, &all);
        let names = condition(&status, "NamesAccepted");
        assert_eq!(names["status"], "False");
        assert_eq!(names["reason"], "KindConflict");
        assert_eq!(names["message"], "\"Widget\" is already in use");
        assert_eq!(condition(&status, "Established")["status"], "False");
        assert_eq!(condition(&status, "Established")["reason"], "NotAccepted");
        // What does not clash is accepted.
        assert_eq!(status["acceptedNames"]["plural"], "gadgets");
        // A second plural clash names the plural.
        let third = definition("widgets.other", "widgets", "Thing", None);
        let status = status_of(&third, &[all[0].clone(), third.clone()]);
        assert_eq!(
            condition(&status, "NamesAccepted")["reason"],
            "PluralConflict"
        );
    }

    #[test]
    fn a_status_that_is_current_is_left_as_it_is() {
        let widgets = definition("widgets.example.com", "widgets", "Widget", None);
        let mut written = widgets.clone();
        written["status"] = status_of(&widgets, std::slice::from_ref(&widgets));
        let again = status_of(&written, std::slice::from_ref(&written));
        assert_eq!(again, written["status"]);
    }
}
