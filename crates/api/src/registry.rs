//! The resource registry: one static table describing every resource keelson
//! serves (group, version, kind, plural, singular, short names, categories,
//! scope, verbs, subresources and how each is served, and the kind's
//! [`Strategy`]), the look-ups kubectl-style names need, and where each
//! object lives in the store.
//!
//! The names, verbs and subresources are those a Kubernetes v1.33 API server
//! advertises in discovery. Store keys are keelson's own layout:
//! `/registry/<group or "core">/<plural>/<namespace>/<name>`, those of the
//! storing resource for a resource whose objects another one holds
//! ([`StoredAs`]).
//!
//! Beside the static table, resources added at run time: the custom
//! resources of CustomResourceDefinitions ([`set_custom`]). Every look-up
//! below sees them after the built-in ones, so a custom resource never
//! shadows a built-in one. The custom set is the process's: each API
//! server registers what its store defines under its own owner key, and
//! the look-ups see the union (a process serves one cluster's kinds;
//! servers of different clusters in one process, as tests run them, each
//! see the other's kinds too, served from their own stores).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use serde_json::Value;

use crate::resources::RESOURCES;
use crate::strategy::{Message, Strategy};

/// The verbs of a collection of namespaced objects in discovery.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// What happens to a field a subresource owns when a write through it
/// leaves the field out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absent {
    /// It is stored as `null`.
    Null,
    /// It is stored as `[]`.
    EmptyList,
}

/// A top-level part of an object that a subresource writes and the main
/// resource does not (`status`, a namespace's `spec.finalizers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owned {
    /// Its path from the object's root.
    pub path: &'static [&'static str],
    /// What a write that leaves it out stores.
    pub absent: Absent,
}

/// How the API server serves a subresource: routing and discovery are both
/// made from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// Not served (yet): neither routed nor advertised.
    Not,
    /// Reads return the object; writes change only the fields listed
    /// (`status`, a namespace's `finalize`), which main-resource writes in
    /// turn leave as they are.
    Owns(&'static [Owned]),
    /// The `autoscaling/v1` Scale view of the replicas.
    Scale,
    /// `POST` of a Binding: the scheduler's placement of a pod.
    Binding,
    /// `POST` of an Eviction: a disruption-checked pod delete.
    Eviction,
    /// `POST` of a TokenRequest: a ServiceAccount token, made and not stored.
    TokenRequest,
}

impl Serve {
    /// The protobuf message of the bodies a client sends to it, when not
    /// the parent's kind.
    pub fn body(self) -> Option<Message> {
        match self {
            Self::Scale => Some(crate::strategy::SCALE),
            Self::Binding => Some(crate::strategy::BINDING),
            Self::Eviction => Some(crate::strategy::EVICTION),
            Self::TokenRequest => Some(crate::strategy::TOKEN_REQUEST),
            Self::Not | Self::Owns(_) => None,
        }
    }

    /// The fields written through it, if it owns any.
    pub fn owned(self) -> &'static [Owned] {
        match self {
            Self::Owns(owned) => owned,
            _ => &[],
        }
    }
}

/// A subresource such as `pods/status` or `deployments/scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    /// The name after the slash (`status`, `scale`, `log`).
    pub name: &'static str,
    /// The group of the object the subresource takes or returns.
    pub group: &'static str,
    /// Its version.
    pub version: &'static str,
    /// Its kind (`Scale`, `Binding`, `Eviction`, or the parent's kind).
    pub kind: &'static str,
    /// The verbs discovery lists for it.
    pub verbs: &'static [&'static str],
    /// How it is served.
    pub serve: Serve,
}

impl Subresource {
    /// Whether the server serves it (and so discovery lists it).
    pub fn is_served(&self) -> bool {
        self.serve != Serve::Not
    }
}

/// Where the objects of a resource live when another resource's store
/// holds them in that resource's form, as events.k8s.io Events are core
/// Events: the other resource's group and plural (which make the store
/// keys), and the conversions between the two forms.
#[derive(Clone, Copy)]
pub struct StoredAs {
    /// The group of the resource whose form is stored.
    pub group: &'static str,
    /// Its plural.
    pub plural: &'static str,
    /// The stored form of an object of this resource.
    pub to_storage: fn(&Value) -> Value,
    /// This resource's form of a stored object.
    pub from_storage: fn(&Value) -> Value,
}

/// One resource: everything discovery, kubectl name resolution and the
/// store need to know about it, and the strategy that holds its kind's
/// rules.
#[derive(Clone, Copy)]
pub struct ResourceInfo {
    /// The API group, `""` for the core group.
    pub group: &'static str,
    /// The served (and stored) version.
    pub version: &'static str,
    /// The kind (`Deployment`).
    pub kind: &'static str,
    /// The kind of its list (`DeploymentList`).
    pub list_kind: &'static str,
    /// The plural resource name (`deployments`).
    pub plural: &'static str,
    /// The singular name (`deployment`).
    pub singular: &'static str,
    /// Short names kubectl accepts (`deploy`).
    pub short_names: &'static [&'static str],
    /// Categories (`all`).
    pub categories: &'static [&'static str],
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// The verbs discovery lists for the resource.
    pub verbs: &'static [&'static str],
    /// The subresources.
    pub subresources: &'static [Subresource],
    /// The OpenAPI definition name of the kind
    /// (`io.k8s.api.apps.v1.Deployment`).
    pub definition: &'static str,
    /// The rules of the kind.
    pub strategy: &'static dyn Strategy,
    /// Where its objects are stored when another resource holds them;
    /// `None` for a resource stored in its own form and key space.
    pub stored_as: Option<StoredAs>,
}

impl fmt::Debug for ResourceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceInfo")
            .field("group", &self.group)
            .field("version", &self.version)
            .field("kind", &self.kind)
            .field("plural", &self.plural)
            .finish_non_exhaustive()
    }
}

/// A resource is known by its group, version and plural.
impl PartialEq for ResourceInfo {
    fn eq(&self, other: &Self) -> bool {
        (self.group, self.version, self.plural) == (other.group, other.version, other.plural)
    }
}

impl Eq for ResourceInfo {}

impl ResourceInfo {
    /// `v1` for the core group, `apps/v1` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, or just the plural for the core group: how
    /// Kubernetes names the resource in messages.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The subresource called `name`, if the resource has it.
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// The subresources the server serves, in table order.
    pub fn served_subresources(&self) -> impl Iterator<Item = &'static Subresource> {
        self.subresources.iter().filter(|s| s.is_served())
    }

    /// The fields that only subresources write (`status`, ...): a write
    /// to the main resource leaves them as they are.
    pub fn subresource_owned(&self) -> impl Iterator<Item = &'static Owned> {
        self.subresources.iter().flat_map(|s| s.serve.owned())
    }

    /// Whether the resource was added at run time ([`set_custom`]): a
    /// custom resource, not one of the static table.
    pub fn is_custom(&self) -> bool {
        !RESOURCES
            .as_ptr_range()
            .contains(&(self as *const ResourceInfo))
    }

    /// Whether discovery lists `verb` for the resource.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// The group segment of store keys: the storing resource's group, or
    /// `core`.
    pub fn storage_group(&self) -> &'static str {
        let group = self.stored_as.map_or(self.group, |s| s.group);
        if group.is_empty() { "core" } else { group }
    }

    /// The plural segment of store keys.
    pub fn storage_plural(&self) -> &'static str {
        self.stored_as.map_or(self.plural, |s| s.plural)
    }

    /// Whether the store holds the objects in this resource's own form.
    pub fn stored_as_served(&self) -> bool {
        self.stored_as.is_none()
    }

    /// The form to store `object` (of this resource) in.
    pub fn to_storage(&self, object: Value) -> Value {
        match self.stored_as {
            Some(stored) => (stored.to_storage)(&object),
            None => object,
        }
    }

    /// This resource's form of a `stored` object.
    pub fn from_storage(&self, stored: Value) -> Value {
        match self.stored_as {
            Some(stored_as) => (stored_as.from_storage)(&stored),
            None => stored,
        }
    }
}

/// Why a name did not resolve to a resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No resource is called that.
    #[error("the server doesn't have a resource type {0:?}")]
    UnknownResource(String),
}

/// Every built-in resource, core group first.
pub fn all() -> &'static [ResourceInfo] {
    RESOURCES
}

/// The custom resources registered: each owner's, their union, and a
/// generation that changes when the union does.
struct Custom {
    owners: BTreeMap<u64, Arc<[&'static ResourceInfo]>>,
    union: Arc<[&'static ResourceInfo]>,
    generation: u64,
}

static CUSTOM: std::sync::LazyLock<RwLock<Custom>> = std::sync::LazyLock::new(|| {
    RwLock::new(Custom {
        owners: BTreeMap::new(),
        union: Arc::new([]),
        generation: 0,
    })
});

/// Makes `resources` the custom resources `owner` (one API server)
/// serves, in place of what it registered before.
pub fn set_custom(owner: u64, resources: Vec<&'static ResourceInfo>) {
    let mut custom = CUSTOM.write().unwrap_or_else(PoisonError::into_inner);
    match resources.is_empty() {
        true => custom.owners.remove(&owner),
        false => custom.owners.insert(owner, resources.into()),
    };
    let mut union: Vec<&'static ResourceInfo> = Vec::new();
    for resource in custom.owners.values().flat_map(|list| list.iter()) {
        if !union.contains(resource) {
            union.push(resource);
        }
    }
    let same = union.len() == custom.union.len()
        && union
            .iter()
            .zip(custom.union.iter())
            .all(|(a, b)| std::ptr::eq(*a, *b));
    if !same {
        custom.union = union.into();
        custom.generation += 1;
    }
}

/// The custom resources registered now, each group-version-plural once
/// (the first owner's).
pub fn custom() -> Arc<[&'static ResourceInfo]> {
    let custom = CUSTOM.read().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(&custom.union)
}

/// A number that changes whenever [`custom`] does, for what is made from
/// the custom resources and kept.
pub fn custom_generation() -> u64 {
    CUSTOM
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .generation
}

/// The custom resources, looked up only once the iteration reaches them
/// (so that finding a built-in resource never touches them).
#[derive(Default)]
struct Later {
    list: Option<Arc<[&'static ResourceInfo]>>,
    next: usize,
}

impl Iterator for Later {
    type Item = &'static ResourceInfo;

    fn next(&mut self) -> Option<Self::Item> {
        let list = self.list.get_or_insert_with(custom);
        let item = list.get(self.next).copied();
        self.next += 1;
        item
    }
}

/// Every resource served: the built-in ones, then the custom ones.
pub fn served() -> impl Iterator<Item = &'static ResourceInfo> {
    RESOURCES.iter().chain(Later::default())
}

/// The resource of a kind, e.g. `("apps", "v1", "Deployment")`.
pub fn by_kind(group: &str, version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    served().find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The resource of a plural name in a group, e.g. `("apps", "deployments")`.
pub fn by_resource(group: &str, plural: &str) -> Option<&'static ResourceInfo> {
    served().find(|r| r.group == group && r.plural == plural)
}

/// Whether `name` designates `resource`: its plural, singular, a short name,
/// or its kind in any case.
fn is_called(resource: &ResourceInfo, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    resource.plural == lower
        || resource.singular == lower
        || resource.short_names.contains(&lower.as_str())
        || resource.kind.eq_ignore_ascii_case(name)
}

/// Resolves any name kubectl accepts: `deploy`, `deployments`,
/// `deployment`, `Deployment`, or the same qualified by group
/// (`deployments.apps`) or by version and group (`deployments.v1.apps`).
pub fn resolve(name: &str) -> Result<&'static ResourceInfo, RegistryError> {
    let unknown = || RegistryError::UnknownResource(name.to_string());
    let every: Vec<&'static ResourceInfo> = served().collect();
    if let Some(found) = every
        .iter()
        .find(|r| r.group.is_empty() && is_called(r, name))
        .or_else(|| every.iter().find(|r| is_called(r, name)))
    {
        return Ok(found);
    }
    let (resource, qualifier) = name.split_once('.').ok_or_else(unknown)?;
    every
        .into_iter()
        .find(|r| {
            is_called(r, resource)
                && (qualifier == r.group || qualifier == format!("{}.{}", r.version, r.group))
        })
        .ok_or_else(unknown)
}

/// The group-versions served, in table order, each once.
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for resource in served() {
        let gv = (resource.group, resource.version);
        if !out.contains(&gv) {
            out.push(gv);
        }
    }
    out
}

/// The resources of one group-version.
pub fn resources_in(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceInfo> {
    let (group, version) = (group.to_string(), version.to_string());
    served().filter(move |r| r.group == group && r.version == version)
}

/// The resources in a category (`all`).
pub fn in_category(category: &str) -> impl Iterator<Item = &'static ResourceInfo> {
    let category = category.to_string();
    let every: Vec<&'static ResourceInfo> = served().collect();
    let mut out = Vec::new();
    for (i, r) in every.iter().enumerate() {
        // A resource served in two versions counts once, in its first
        // (preferred) one.
        let first = !every[..i]
            .iter()
            .any(|other| other.group == r.group && other.plural == r.plural);
        if first && r.categories.contains(&category.as_str()) {
            out.push(*r);
        }
    }
    out.into_iter()
}

/// The store key of one object. `namespace` is ignored for cluster-scoped
/// resources.
pub fn storage_key(resource: &ResourceInfo, namespace: &str, name: &str) -> String {
    if resource.namespaced {
        format!("{}{namespace}/{name}", storage_prefix(resource, None))
    } else {
        format!("{}{name}", storage_prefix(resource, None))
    }
}

/// The store prefix under which to list objects: all of them with `None`,
/// one namespace with `Some(namespace)` (ignored for cluster-scoped
/// resources). Always ends with `/`, so `pods` never matches `podsx`.
pub fn storage_prefix(resource: &ResourceInfo, namespace: Option<&str>) -> String {
    let base = format!(
        "/registry/{}/{}/",
        resource.storage_group(),
        resource.storage_plural()
    );
    match namespace {
        Some(namespace) if resource.namespaced => format!("{base}{namespace}/"),
        _ => base,
    }
}
