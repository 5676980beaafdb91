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

/// Reads a request's method, path and query, with the request info
/// authorization reads ([`crate::auth::request_info`]).
pub fn parse(method: &str, path: &str, query: Option<&str>) -> RequestInfo {
    let info = crate::auth::request_info::parse(method, path, query);
    let verb = match info.verb.is_empty() {
        true => method.to_ascii_lowercase(),
        false => info.verb,
    };
    let some = |text: String| (!text.is_empty()).then_some(text);
    let object = (info.resource_request && !info.resource.is_empty()).then(|| ObjectRef {
        resource: info.resource,
        namespace: info.namespace,
        name: some(info.name),
        api_group: info.api_group,
        api_version: info.api_version,
        subresource: some(info.subresource),
    });
    RequestInfo {
        verb,
        path: path.to_string(),
        object,
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
