//! What a request is to the audit log: its verb and, for a resource
//! request, the object it addresses, read from the path alone as upstream's
//! request info does (so custom resources and unknown paths are named too).

use serde_json::{Value, json};

/// The verb and the object of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestInfo {
    pub verb: String,
    pub path: String,
    /// `None` for a non-resource request (`/healthz`, discovery, ...).
    pub object: Option<ObjectRef>,
}

/// The `objectRef` of an event.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRef {
    pub resource: String,
    pub namespace: String,
    pub name: Option<String>,
    pub api_group: String,
    pub api_version: String,
    pub subresource: Option<String>,
}

impl ObjectRef {
    pub fn to_json(&self) -> Value {
        let mut out = json!({"resource": self.resource, "apiVersion": self.api_version});
        let mut set = |field: &str, value: &str| {
            if !value.is_empty() {
                out[field] = Value::from(value);
            }
        };
        set("namespace", &self.namespace);
        set("name", self.name.as_deref().unwrap_or(""));
        set("apiGroup", &self.api_group);
        set("subresource", self.subresource.as_deref().unwrap_or(""));
        out
    }
}

/// Reads a request's method, path and query.
pub fn parse(method: &str, path: &str, query: Option<&str>) -> RequestInfo {
    let non_resource = || RequestInfo {
        verb: method.to_ascii_lowercase(),
        path: path.to_string(),
        object: None,
    };
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let (group, version, mut rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return non_resource(),
    };
    let mut watch_path = false;
    if rest.first() == Some(&"watch") {
        watch_path = true;
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return non_resource();
    }
    let mut namespace = "";
    if rest[0] == "namespaces" && rest.len() > 1 {
        namespace = rest[1];
        // `namespaces/NAME/status` and `/finalize` are the namespace's own.
        if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
            rest = &rest[2..];
        }
    }
    let (resource, name, subresource) = match rest {
        [resource] => (*resource, None, None),
        [resource, name] => (*resource, Some(*name), None),
        [resource, name, sub, ..] => (*resource, Some(*name), Some(*sub)),
        [] => return non_resource(),
    };
    let watch_param = query.is_some_and(|q| {
        q.split('&')
            .any(|pair| matches!(pair, "watch=true" | "watch=1" | "watch=True" | "watch=t"))
    });
    let verb = match (method, name.is_some()) {
        ("GET" | "HEAD", _) if watch_path || watch_param => "watch",
        ("GET" | "HEAD", true) => "get",
        ("GET" | "HEAD", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        (other, _) => {
            return RequestInfo {
                verb: other.to_ascii_lowercase(),
                ..non_resource()
            };
        }
    };
    RequestInfo {
        verb: verb.to_string(),
        path: path.to_string(),
        object: Some(ObjectRef {
            resource: resource.to_string(),
            namespace: namespace.to_string(),
            name: name.map(str::to_string),
            api_group: group.to_string(),
            api_version: version.to_string(),
            subresource: subresource.map(str::to_string),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_and_objects_come_from_the_path() {
        let cases = [
            (
                "GET",
                "/api/v1/namespaces/ns/secrets/s",
                None,
                "get",
                Some(("secrets", "ns", Some("s"), "", None)),
            ),
            (
                "GET",
                "/api/v1/namespaces/ns/secrets",
                None,
                "list",
                Some(("secrets", "ns", None, "", None)),
            ),
            (
                "GET",
                "/api/v1/secrets",
                Some("watch=true"),
                "watch",
                Some(("secrets", "", None, "", None)),
            ),
            (
                "GET",
                "/apis/apps/v1/watch/namespaces/ns/deployments",
                None,
                "watch",
                Some(("deployments", "ns", None, "apps", None)),
            ),
            (
                "POST",
                "/apis/apps/v1/namespaces/ns/deployments",
                None,
                "create",
                Some(("deployments", "ns", None, "apps", None)),
            ),
            (
                "PUT",
                "/apis/apps/v1/namespaces/ns/deployments/d/scale",
                None,
                "update",
                Some(("deployments", "ns", Some("d"), "apps", Some("scale"))),
            ),
            (
                "PATCH",
                "/api/v1/nodes/n",
                None,
                "patch",
                Some(("nodes", "", Some("n"), "", None)),
            ),
            (
                "DELETE",
                "/api/v1/namespaces/ns/pods",
                None,
                "deletecollection",
                Some(("pods", "ns", None, "", None)),
            ),
            (
                "DELETE",
                "/api/v1/namespaces/ns",
                None,
                "delete",
                Some(("namespaces", "ns", Some("ns"), "", None)),
            ),
            (
                "PUT",
                "/api/v1/namespaces/ns/finalize",
                None,
                "update",
                Some(("namespaces", "ns", Some("ns"), "", Some("finalize"))),
            ),
            ("GET", "/healthz", None, "get", None),
            ("GET", "/apis/apps/v1", None, "get", None),
            ("POST", "/api", None, "post", None),
        ];
        for (method, path, query, verb, object) in cases {
            let info = parse(method, path, query);
            assert_eq!(info.verb, verb, "{method} {path}");
            let got = info.object.as_ref().map(|o| {
                (
                    o.resource.as_str(),
                    o.namespace.as_str(),
                    o.name.as_deref(),
                    o.api_group.as_str(),
                    o.subresource.as_deref(),
                )
            });
            assert_eq!(got, object, "{method} {path}");
        }
    }
}
