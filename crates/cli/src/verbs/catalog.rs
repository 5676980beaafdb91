//! What the server serves, from aggregated discovery (`/api` and `/apis`
//! as `apidiscovery.k8s.io/v2`, two requests): each resource's kube-rs
//! [`ApiResource`], scope, singular and short names, and how kubectl's
//! resource arguments (`deploy`, `deployments.apps`, `pods.v1.`, `all`)
//! resolve to them.

use kube::Client;
use kube::core::discovery::v2::{APIGroupDiscovery, APIResourceDiscovery};
use kube::discovery::ApiResource;

use super::Error;

/// One resource of one group version.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Group, version, kind and plural, as kube-rs requests need them.
    pub api: ApiResource,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// `deployment`.
    pub singular: String,
    /// `deploy`.
    pub short_names: Vec<String>,
    /// `all`, ...
    pub categories: Vec<String>,
    /// Whether this version is the group's preferred one.
    pub preferred: bool,
}

impl Resource {
    /// How kubectl names the kind in output: `deployment.apps`, `pod`.
    pub fn kind_group(&self) -> String {
        with_group(&self.api.kind.to_lowercase(), &self.api.group)
    }

    fn is_named(&self, name: &str) -> bool {
        self.api.plural == name
            || self.singular == name
            || self.api.kind.to_lowercase() == name
            || self.short_names.iter().any(|short| short == name)
    }
}

fn with_group(name: &str, group: &str) -> String {
    if group.is_empty() {
        name.to_string()
    } else {
        format!("{name}.{group}")
    }
}

/// Every resource the server serves, core group first, then the named
/// groups in the server's order.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    resources: Vec<Resource>,
}

impl Catalog {
    /// Asks the server (aggregated discovery: `/api`, then `/apis`).
    pub async fn discover(client: &Client) -> Result<Self, Error> {
        let core = client.list_core_api_versions_aggregated().await?;
        let named = client.list_api_groups_aggregated().await?;
        Ok(Self::from_groups(core.items.iter().chain(&named.items)))
    }

    /// The catalog of these discovery documents.
    pub fn from_groups<'a>(groups: impl IntoIterator<Item = &'a APIGroupDiscovery>) -> Self {
        let mut resources = Vec::new();
        for group in groups {
            let name = group
                .metadata
                .as_ref()
                .and_then(|m| m.name.clone())
                .unwrap_or_default();
            for (index, version) in group.versions.iter().enumerate() {
                let Some(version_name) = version.version.as_deref() else {
                    continue;
                };
                for entry in &version.resources {
                    if let Some(resource) = from_discovery(&name, version_name, index == 0, entry) {
                        resources.push(resource);
                    }
                }
            }
        }
        Self { resources }
    }

    /// The resource of an object's `apiVersion` and `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.api.api_version == api_version && r.api.kind == kind)
    }

    /// The resources a kubectl resource argument names: one resource
    /// (`deploy`, `Deployment`, `deployments.apps`, `deployments.v1.apps`)
    /// or, for a category such as `all`, each resource in it.
    pub fn lookup(&self, argument: &str) -> Result<Vec<&Resource>, Error> {
        let wanted = argument.to_lowercase();
        for (name, version, group) in interpretations(&wanted) {
            let found = self.resources.iter().find(|r| {
                r.is_named(name)
                    && group.is_none_or(|g| r.api.group == g)
                    && match version {
                        Some(v) => r.api.version == v,
                        None => r.preferred,
                    }
            });
            if let Some(resource) = found {
                return Ok(vec![resource]);
            }
        }
        let category: Vec<&Resource> = self
            .resources
            .iter()
            .filter(|r| r.preferred && r.categories.contains(&wanted))
            .collect();
        if category.is_empty() {
            return Err(Error::usage(format!(
                "the server doesn't have a resource type \"{argument}\""
            )));
        }
        Ok(category)
    }
}

/// The objects a verb's arguments name: `TYPE[,TYPE...] [NAME...]` or
/// `TYPE/NAME...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Target<'a> {
    /// The resource.
    pub resource: &'a Resource,
    /// The names; empty for all (that match the selectors).
    pub names: Vec<String>,
}

impl Catalog {
    /// Reads verb arguments as kubectl does; consecutive `TYPE/NAME`
    /// arguments of one type make one target.
    pub fn targets(&self, arguments: &[String]) -> Result<Vec<Target<'_>>, Error> {
        let Some(first) = arguments.first() else {
            return Err(Error::usage(
                "You must specify the type of resource to get. \
                 Use \"keelson api-resources\" for a complete list of supported resources.",
            ));
        };
        if !first.contains('/') {
            let names = arguments[1..].to_vec();
            let mut targets = Vec::new();
            for kind in first.split(',').filter(|k| !k.is_empty()) {
                for resource in self.lookup(kind)? {
                    targets.push(Target {
                        resource,
                        names: names.clone(),
                    });
                }
            }
            if names.iter().any(|n| n.contains('/')) {
                return Err(Error::usage(
                    "there is no need to specify a resource type as a separate argument \
                     when passing arguments in resource/name form",
                ));
            }
            return Ok(targets);
        }
        let mut targets: Vec<Target> = Vec::new();
        for argument in arguments {
            let Some((kind, name)) = argument
                .split_once('/')
                .filter(|(k, n)| !k.is_empty() && !n.is_empty())
            else {
                return Err(Error::usage(format!(
                    "arguments in resource/name form must have a single resource and name: {argument:?}"
                )));
            };
            let resource = self.lookup(kind)?[0];
            match targets.last_mut() {
                Some(last) if last.resource == resource => last.names.push(name.to_string()),
                _ => targets.push(Target {
                    resource,
                    names: vec![name.to_string()],
                }),
            }
        }
        Ok(targets)
    }
}

/// The ways kubectl reads `name[.version].group`, most specific first:
/// (resource name, version, group).
fn interpretations(text: &str) -> Vec<(&str, Option<&str>, Option<&str>)> {
    let mut readings = Vec::new();
    if let Some((name, rest)) = text.split_once('.') {
        if let Some((version, group)) = rest.split_once('.') {
            readings.push((name, Some(version), Some(group)));
        }
        readings.push((name, None, Some(rest)));
    }
    readings.push((text, None, None));
    readings
}

fn from_discovery(
    group: &str,
    version: &str,
    preferred: bool,
    entry: &APIResourceDiscovery,
) -> Option<Resource> {
    let plural = entry.resource.clone()?;
    let kind = entry.response_kind.as_ref()?.kind.clone()?;
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(Resource {
        api: ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            api_version,
            kind,
            plural,
        },
        namespaced: entry.scope.as_deref() == Some("Namespaced"),
        singular: entry.singular_resource.clone().unwrap_or_default(),
        short_names: entry.short_names.clone(),
        categories: entry.categories.clone(),
        preferred,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let document = serde_json::json!([
            {"metadata": {"name": ""}, "versions": [{"version": "v1", "resources": [
                {"resource": "pods", "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                 "scope": "Namespaced", "singularResource": "pod", "shortNames": ["po"],
                 "categories": ["all"], "verbs": ["get"]},
                {"resource": "namespaces", "responseKind": {"group": "", "version": "v1", "kind": "Namespace"},
                 "scope": "Cluster", "singularResource": "namespace", "shortNames": ["ns"], "verbs": ["get"]}
            ]}]},
            {"metadata": {"name": "apps"}, "versions": [
                {"version": "v1", "resources": [
                    {"resource": "deployments", "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                     "scope": "Namespaced", "singularResource": "deployment", "shortNames": ["deploy"],
                     "categories": ["all"], "verbs": ["get"]}]},
                {"version": "v1beta1", "resources": [
                    {"resource": "deployments", "responseKind": {"group": "apps", "version": "v1beta1", "kind": "Deployment"},
                     "scope": "Namespaced", "singularResource": "deployment", "verbs": ["get"]}]}
            ]}
        ]);
        let groups: Vec<APIGroupDiscovery> =
            serde_json::from_value(document).expect("the test document is valid");
        Catalog::from_groups(&groups)
    }

    #[test]
    fn resource_arguments_resolve_like_kubectl() {
        let catalog = catalog();
        let cases = [
            ("deploy", "apps/v1", "Deployment"),
            ("deployment", "apps/v1", "Deployment"),
            ("Deployments", "apps/v1", "Deployment"),
            ("deployments.apps", "apps/v1", "Deployment"),
            ("deployment.apps", "apps/v1", "Deployment"),
            ("deployments.v1beta1.apps", "apps/v1beta1", "Deployment"),
            ("po", "v1", "Pod"),
            ("ns", "v1", "Namespace"),
        ];
        for (argument, api_version, kind) in cases {
            let found = catalog.lookup(argument).expect(argument);
            assert_eq!(found.len(), 1, "{argument}");
            assert_eq!(
                (
                    found[0].api.api_version.as_str(),
                    found[0].api.kind.as_str()
                ),
                (api_version, kind),
                "{argument}"
            );
        }
    }

    #[test]
    fn categories_expand_and_unknown_types_fail() {
        let catalog = catalog();
        let all: Vec<String> = catalog
            .lookup("all")
            .expect("all is a category")
            .iter()
            .map(|r| r.kind_group())
            .collect();
        assert_eq!(all, ["pod", "deployment.apps"]);
        let err = catalog.lookup("widgets").expect_err("no such type");
        assert_eq!(
            err.to_string(),
            "error: the server doesn't have a resource type \"widgets\""
        );
    }

    #[test]
    fn arguments_name_types_and_objects() {
        let catalog = catalog();
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let summary = |targets: Vec<Target>| {
            targets
                .iter()
                .map(|t| format!("{}:{}", t.resource.kind_group(), t.names.join("+")))
                .collect::<Vec<_>>()
        };
        let targets = catalog
            .targets(&args(&["deploy,po", "a", "b"]))
            .expect("valid");
        assert_eq!(summary(targets), ["deployment.apps:a+b", "pod:a+b"]);
        let targets = catalog
            .targets(&args(&["deploy/a", "deployment/b", "po/c"]))
            .expect("valid");
        assert_eq!(summary(targets), ["deployment.apps:a+b", "pod:c"]);
        assert!(catalog.targets(&args(&[])).is_err());
        assert!(catalog.targets(&args(&["deploy/"])).is_err());
        assert!(catalog.targets(&args(&["deploy", "po/a"])).is_err());
    }

    #[test]
    fn objects_resolve_by_api_version_and_kind() {
        let catalog = catalog();
        let deployment = catalog.by_kind("apps/v1", "Deployment").expect("served");
        assert!(deployment.namespaced);
        assert_eq!(deployment.kind_group(), "deployment.apps");
        assert!(
            !catalog
                .by_kind("v1", "Namespace")
                .expect("served")
                .namespaced
        );
        assert!(catalog.by_kind("apps/v2", "Deployment").is_none());
    }
}
