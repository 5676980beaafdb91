//! Parsing request paths (`/api/v1/namespaces/ns/pods/name/status`) into
//! what they address.

use keelson_api::registry::{self, ResourceInfo};

/// What a resource path addresses.
#[derive(Debug, Clone)]
pub struct Target {
    pub resource: &'static ResourceInfo,
    /// The namespace in the path (`None` for cluster-scoped resources, or a
    /// namespaced resource listed across all namespaces).
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// A parsed path under `/api` or `/apis`.
#[derive(Debug, Clone)]
pub enum ApiPath {
    /// `/api/v1` or `/apis/G/V`: a resource list for discovery.
    GroupVersion { group: String, version: String },
    /// `/apis/G`: a group for discovery.
    Group { group: String },
    /// A resource, collection or subresource.
    Resource(Target),
}

/// Parses a path under `/api` (`core == true`) or `/apis`; `None` for paths
/// that address nothing keelson serves.
pub fn parse(core: bool, rest: &str) -> Option<ApiPath> {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = if core {
        match segments.split_first() {
            Some((version, rest)) => ("", *version, rest),
            None => return None,
        }
    } else {
        match segments.as_slice() {
            [group] => {
                return Some(ApiPath::Group {
                    group: group.to_string(),
                });
            }
            [group, version, rest @ ..] => (*group, *version, rest),
            _ => return None,
        }
    };
    if rest.is_empty() {
        return Some(ApiPath::GroupVersion {
            group: group.to_string(),
            version: version.to_string(),
        });
    }
    let served = |plural: &str| registry::resources_in(group, version).find(|r| r.plural == plural);
    // `namespaces/NS/RESOURCE/...` when RESOURCE is a namespaced resource;
    // otherwise `RESOURCE/NAME/SUB` (which covers `namespaces/NAME/status`).
    if let ["namespaces", namespace, plural, more @ ..] = rest
        && let Some(resource) = served(plural).filter(|r| r.namespaced)
    {
        return target(resource, Some(namespace), more);
    }
    let (plural, more) = rest.split_first()?;
    target(served(plural)?, None, more)
}

fn target(
    resource: &'static ResourceInfo,
    namespace: Option<&str>,
    more: &[&str],
) -> Option<ApiPath> {
    let (name, subresource) = match more {
        [] => (None, None),
        [name] => (Some(*name), None),
        [name, sub] => (Some(*name), Some(*sub)),
        _ => return None,
    };
    Some(ApiPath::Resource(Target {
        resource,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
        subresource: subresource.map(str::to_string),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(core: bool, path: &str) -> Target {
        match parse(core, path) {
            Some(ApiPath::Resource(target)) => target,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn namespaced_paths() {
        let t = resource(true, "v1/namespaces/default/pods/web/status");
        assert_eq!(t.resource.plural, "pods");
        assert_eq!(t.namespace.as_deref(), Some("default"));
        assert_eq!(t.name.as_deref(), Some("web"));
        assert_eq!(t.subresource.as_deref(), Some("status"));
        let t = resource(false, "apps/v1/namespaces/x/deployments");
        assert_eq!((t.resource.kind, t.name), ("Deployment", None));
    }

    #[test]
    fn cluster_paths_and_namespace_objects() {
        let t = resource(true, "v1/namespaces/default");
        assert_eq!(
            (t.resource.kind, t.name.as_deref()),
            ("Namespace", Some("default"))
        );
        let t = resource(true, "v1/namespaces/default/status");
        assert_eq!(t.subresource.as_deref(), Some("status"));
        assert_eq!(t.resource.kind, "Namespace");
        let t = resource(true, "v1/pods");
        assert_eq!((t.resource.kind, t.namespace), ("Pod", None));
        let t = resource(true, "v1/nodes/n1");
        assert_eq!(t.name.as_deref(), Some("n1"));
    }

    #[test]
    fn unknown_paths_are_none() {
        assert!(parse(true, "v1/widgets").is_none());
        assert!(parse(false, "apps/v2/deployments").is_none());
        assert!(parse(true, "v1/namespaces/a/pods/b/c/d").is_none());
        assert!(matches!(parse(false, "apps"), Some(ApiPath::Group { .. })));
        assert!(matches!(
            parse(true, "v1"),
            Some(ApiPath::GroupVersion { .. })
        ));
    }
}
