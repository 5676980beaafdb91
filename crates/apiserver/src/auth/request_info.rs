//! What a request asks to do, in the terms authorization decides on, as
//! upstream's `RequestInfo` reads them from the method, the path and the
//! query: a resource request (verb, API group, resource, subresource,
//! namespace, name) or a non-resource one (verb, path).
//!
//! The path is read on its own, not through the served resources, so a
//! request for something keelson does not serve is still authorized (and
//! then answered 404) as upstream does.

/// The attributes of one request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attributes {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, `proxy`, or the lowercase method of a
    /// non-resource request.
    pub verb: String,
    /// Whether the request is for a resource (else for `path`).
    pub resource_request: bool,
    pub path: String,
    pub api_group: String,
    pub api_version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// The `fieldSelector` of a list or watch, as sent (decoded).
    pub field_selector: String,
}

impl Attributes {
    /// A resource request, for checks made inside the server.
    pub fn resource(verb: &str, group: &str, resource: &str, namespace: &str, name: &str) -> Self {
        Attributes {
            verb: verb.to_string(),
            resource_request: true,
            api_group: group.to_string(),
            resource: resource.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            ..Attributes::default()
        }
    }

    /// `resource/subresource`, or the resource alone.
    pub fn combined_resource(&self) -> String {
        match self.subresource.is_empty() {
            true => self.resource.clone(),
            false => format!("{}/{}", self.resource, self.subresource),
        }
    }
}

/// Subresources of a namespace, which stay subresources after
/// `namespaces/NAME`.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

/// The attributes of `method` on `path` with `query`.
pub fn parse(method: &str, path: &str, query: Option<&str>) -> Attributes {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let non_resource = || Attributes {
        verb: method.to_ascii_lowercase(),
        path: path.to_string(),
        ..Attributes::default()
    };
    let (group, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] if !rest.is_empty() => ("", (*version, rest)),
        ["apis", group, version, rest @ ..] if !rest.is_empty() => (*group, (*version, rest)),
        _ => return non_resource(),
    };
    let (version, mut rest) = rest;
    let mut verb = match method {
        "POST" => "create",
        "GET" | "HEAD" => "get",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => "",
    }
    .to_string();
    let mut by_path = false;
    if let Some((&special, more)) = rest.split_first()
        && matches!(special, "watch" | "proxy")
    {
        verb = special.to_string();
        by_path = true;
        rest = more;
        if rest.is_empty() {
            return non_resource();
        }
    }
    let mut info = Attributes {
        verb,
        resource_request: true,
        path: path.to_string(),
        api_group: group.to_string(),
        api_version: version.to_string(),
        ..Attributes::default()
    };
    if let ["namespaces", namespace, more @ ..] = rest {
        info.namespace = namespace.to_string();
        if let Some(next) = more.first()
            && !NAMESPACE_SUBRESOURCES.contains(next)
        {
            rest = more;
        }
    }
    info.resource = rest.first().map(|r| r.to_string()).unwrap_or_default();
    info.name = rest.get(1).map(|n| n.to_string()).unwrap_or_default();
    if info.verb != "proxy" {
        info.subresource = rest.get(2).map(|s| s.to_string()).unwrap_or_default();
    }
    let query = Query(query.unwrap_or(""));
    if !by_path && info.name.is_empty() && info.verb == "get" {
        info.verb = match query.flag("watch") {
            true => "watch",
            false => "list",
        }
        .to_string();
    }
    if info.name.is_empty() && matches!(info.verb.as_str(), "list" | "watch") {
        // A list of one name by field selector is a request for that name.
        if let Some(name) = query.single_name() {
            info.name = name;
        }
    }
    if !by_path && info.name.is_empty() && info.verb == "delete" {
        info.verb = "deletecollection".to_string();
    }
    if matches!(info.verb.as_str(), "list" | "watch" | "deletecollection") {
        info.field_selector = query.values("fieldSelector").next().unwrap_or_default();
    }
    info
}

/// A query string, read for the few parameters authorization needs.
struct Query<'a>(&'a str);

impl Query<'_> {
    fn values(&self, key: &str) -> impl Iterator<Item = String> + '_ {
        let key = key.to_string();
        self.0.split('&').filter_map(move |pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then(|| percent_decode(v))
        })
    }

    fn flag(&self, key: &str) -> bool {
        self.values(key)
            .next()
            .is_some_and(|v| matches!(v.as_str(), "true" | "1" | "t" | "T" | "TRUE" | "True"))
    }

    /// The name a `fieldSelector=metadata.name=NAME` (or `==`) asks for.
    fn single_name(&self) -> Option<String> {
        let selector = self.values("fieldSelector").next()?;
        if selector.contains(',') {
            return None;
        }
        let name = selector
            .strip_prefix("metadata.name==")
            .or_else(|| selector.strip_prefix("metadata.name="))?;
        (!name.is_empty()).then(|| name.to_string())
    }
}

/// Decodes `%XX` escapes and `+` in a query value.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(method: &str, uri: &str) -> Attributes {
        let (path, query) = match uri.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (uri, None),
        };
        parse(method, path, query)
    }

    #[test]
    fn resource_requests() {
        let cases = [
            // (method, uri, verb, group, resource, subresource, namespace, name)
            (
                "GET",
                "/api/v1/namespaces/dev/pods",
                "list",
                "",
                "pods",
                "",
                "dev",
                "",
            ),
            (
                "GET",
                "/api/v1/namespaces/dev/pods?watch=true",
                "watch",
                "",
                "pods",
                "",
                "dev",
                "",
            ),
            (
                "GET",
                "/api/v1/watch/namespaces/dev/pods",
                "watch",
                "",
                "pods",
                "",
                "dev",
                "",
            ),
            (
                "GET",
                "/api/v1/namespaces/dev/pods/web/log",
                "get",
                "",
                "pods",
                "log",
                "dev",
                "web",
            ),
            (
                "POST",
                "/apis/apps/v1/namespaces/x/deployments",
                "create",
                "apps",
                "deployments",
                "",
                "x",
                "",
            ),
            (
                "PUT",
                "/apis/apps/v1/namespaces/x/deployments/d/scale",
                "update",
                "apps",
                "deployments",
                "scale",
                "x",
                "d",
            ),
            (
                "PATCH",
                "/api/v1/nodes/n1/status",
                "patch",
                "",
                "nodes",
                "status",
                "",
                "n1",
            ),
            (
                "DELETE",
                "/api/v1/namespaces/dev/pods",
                "deletecollection",
                "",
                "pods",
                "",
                "dev",
                "",
            ),
            (
                "DELETE",
                "/api/v1/namespaces/dev/pods/p",
                "delete",
                "",
                "pods",
                "",
                "dev",
                "p",
            ),
            (
                "GET",
                "/api/v1/namespaces/dev",
                "get",
                "",
                "namespaces",
                "",
                "dev",
                "dev",
            ),
            (
                "PUT",
                "/api/v1/namespaces/dev/finalize",
                "update",
                "",
                "namespaces",
                "finalize",
                "dev",
                "dev",
            ),
            (
                "GET",
                "/api/v1/namespaces",
                "list",
                "",
                "namespaces",
                "",
                "",
                "",
            ),
            (
                "GET",
                "/api/v1/pods?fieldSelector=metadata.name%3Dweb",
                "list",
                "",
                "pods",
                "",
                "",
                "web",
            ),
            (
                "GET",
                "/api/v1/nodes/n1/proxy/metrics",
                "get",
                "",
                "nodes",
                "proxy",
                "",
                "n1",
            ),
        ];
        for (method, uri, verb, group, resource, sub, namespace, name) in cases {
            let got = info(method, uri);
            assert!(got.resource_request, "{uri}");
            assert_eq!(
                (
                    got.verb.as_str(),
                    got.api_group.as_str(),
                    got.resource.as_str(),
                    got.subresource.as_str(),
                    got.namespace.as_str(),
                    got.name.as_str()
                ),
                (verb, group, resource, sub, namespace, name),
                "{method} {uri}"
            );
        }
    }

    #[test]
    fn non_resource_requests() {
        for (method, path, verb) in [
            ("GET", "/healthz", "get"),
            ("GET", "/api", "get"),
            ("GET", "/api/v1", "get"),
            ("GET", "/apis/apps", "get"),
            ("GET", "/apis/apps/v1", "get"),
            ("GET", "/openapi/v3/apis/apps/v1", "get"),
            ("POST", "/version", "post"),
        ] {
            let got = info(method, path);
            assert!(!got.resource_request, "{path}");
            assert_eq!((got.verb.as_str(), got.path.as_str()), (verb, path));
        }
    }
}
