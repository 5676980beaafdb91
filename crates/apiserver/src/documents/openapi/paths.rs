//! The `paths` of one group-version: for each resource its collection and
//! item paths (and the `status` and `scale` subresources), each operation
//! named, tagged and marked with `x-kubernetes-action` and
//! `x-kubernetes-group-version-kind` as upstream does. kubectl finds a
//! kind's PATCH operation by that extension and reads from it whether the
//! server takes `fieldValidation` and strategic merge patches.

use keelson_api::registry::ResourceInfo;
use serde_json::{Map, Value, json};

use super::schemas::{DELETE_OPTIONS, PATCH, SCALE, STATUS, list_definition, reference};

/// The content types of a PATCH body, as upstream lists them.
pub const PATCH_CONTENT_TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

fn query(name: &str, type_: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "query",
        "description": description,
        "schema": { "type": type_, "uniqueItems": true },
    })
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "path",
        "description": description,
        "required": true,
        "schema": { "type": "string", "uniqueItems": true },
    })
}

fn dry_run() -> Value {
    query(
        "dryRun",
        "string",
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    )
}

fn field_manager() -> Value {
    query(
        "fieldManager",
        "string",
        "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
    )
}

fn field_validation() -> Value {
    query(
        "fieldValidation",
        "string",
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
    )
}

fn force() -> Value {
    query(
        "force",
        "boolean",
        "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
    )
}

/// The query parameters of list and watch.
fn list_parameters() -> Vec<Value> {
    [
        ("allowWatchBookmarks", "boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."),
        ("continue", "string", "The continue option should be set when retrieving more results from the server."),
        ("fieldSelector", "string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
        ("labelSelector", "string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
        ("limit", "integer", "limit is a maximum number of responses to return for a list call."),
        ("resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from."),
        ("resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
        ("sendInitialEvents", "boolean", "`sendInitialEvents=true` may be set together with `watch=true`."),
        ("timeoutSeconds", "integer", "Timeout for the list/watch call."),
        ("watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."),
    ]
    .iter()
    .map(|(name, type_, description)| query(name, type_, description))
    .collect()
}

/// The query parameters of delete.
fn delete_parameters() -> Vec<Value> {
    vec![
        dry_run(),
        query(
            "gracePeriodSeconds",
            "integer",
            "The duration in seconds before the object should be deleted.",
        ),
        query(
            "orphanDependents",
            "boolean",
            "Deprecated: please use the PropagationPolicy.",
        ),
        query(
            "propagationPolicy",
            "string",
            "Whether and how garbage collection will be performed.",
        ),
    ]
}

fn content(definition: &str) -> Value {
    let schema = reference(definition);
    json!({
        "application/json": { "schema": schema },
        "application/yaml": { "schema": schema },
    })
}

fn responses(codes: &[(&str, &str)], definition: &str) -> Value {
    let mut out = Map::new();
    for (code, description) in codes {
        out.insert(
            (*code).to_string(),
            json!({ "description": description, "content": content(definition) }),
        );
    }
    out.insert("401".into(), json!({ "description": "Unauthorized" }));
    Value::Object(out)
}

/// The parameters of writes that carry an object (POST, PUT).
fn write_parameters() -> Value {
    json!([dry_run(), field_manager(), field_validation()])
}

/// A request body of one schema for any content type.
fn body_of(definition: &str, required: bool) -> Value {
    let mut body = json!({ "content": { "*/*": { "schema": reference(definition) } } });
    if required {
        body["required"] = json!(true);
    }
    body
}

/// Completes an operation with its parameters, request body and responses.
fn with_io(
    mut op: Map<String, Value>,
    parameters: Value,
    request_body: Option<Value>,
    responses: Value,
) -> Value {
    op.insert("parameters".into(), parameters);
    if let Some(body) = request_body {
        op.insert("requestBody".into(), body);
    }
    op.insert("responses".into(), responses);
    Value::Object(op)
}

/// What an operation acts on.
struct Target<'a> {
    resource: &'a ResourceInfo,
    /// `""` for the object itself, else the subresource name.
    subresource: &'a str,
    /// The kind (and its definition) the operation takes and returns.
    kind: (&'a str, &'a str, &'a str),
    definition: &'a str,
}

impl Target<'_> {
    /// `AppsV1NamespacedDeploymentStatus`, as in upstream's operation ids.
    fn operation_suffix(&self, namespaced: bool) -> String {
        let scope = if namespaced { "Namespaced" } else { "" };
        let sub = capitalize(self.subresource);
        format!(
            "{}{scope}{}{sub}",
            group_id(self.resource),
            self.resource.kind
        )
    }

    fn operation(
        &self,
        verb: &str,
        action: &str,
        namespaced: bool,
        description: String,
    ) -> Map<String, Value> {
        let (group, version, kind) = self.kind;
        let mut op = Map::new();
        op.insert("tags".into(), json!([tag(self.resource)]));
        op.insert("description".into(), json!(description));
        op.insert(
            "operationId".into(),
            json!(format!("{verb}{}", self.operation_suffix(namespaced))),
        );
        op.insert("x-kubernetes-action".into(), json!(action));
        op.insert(
            "x-kubernetes-group-version-kind".into(),
            json!({ "group": group, "kind": kind, "version": version }),
        );
        op
    }

    /// GET, PUT and PATCH (and DELETE for the object itself) of one item.
    fn item_path(&self, namespaced: bool) -> Value {
        let what = if self.subresource.is_empty() {
            format!("the specified {}", self.resource.kind)
        } else {
            format!(
                "{} of the specified {}",
                self.subresource, self.resource.kind
            )
        };
        let mut path = Map::new();
        let mut get = self.operation("read", "get", namespaced, format!("read {what}"));
        get.insert(
            "responses".into(),
            responses(&[("200", "OK")], self.definition),
        );
        path.insert("get".into(), Value::Object(get));

        let put = self.operation("replace", "put", namespaced, format!("replace {what}"));
        let put = with_io(
            put,
            write_parameters(),
            Some(body_of(self.definition, true)),
            responses(&[("200", "OK"), ("201", "Created")], self.definition),
        );
        path.insert("put".into(), put);

        let patch = self.operation(
            "patch",
            "patch",
            namespaced,
            format!("partially update {what}"),
        );
        let bodies: Map<String, Value> = PATCH_CONTENT_TYPES
            .iter()
            .map(|t| ((*t).to_string(), json!({ "schema": reference(PATCH) })))
            .collect();
        let patch = with_io(
            patch,
            json!([dry_run(), field_manager(), field_validation(), force()]),
            Some(json!({ "content": bodies, "required": true })),
            responses(&[("200", "OK"), ("201", "Created")], self.definition),
        );
        path.insert("patch".into(), patch);

        if self.subresource.is_empty() && self.resource.supports("delete") {
            let delete = self.operation("delete", "delete", namespaced, format!("delete {what}"));
            let delete = with_io(
                delete,
                json!(delete_parameters()),
                Some(body_of(DELETE_OPTIONS, false)),
                responses(&[("200", "OK"), ("202", "Accepted")], self.definition),
            );
            path.insert("delete".into(), delete);
        }
        path.insert(
            "parameters".into(),
            json!(item_parameters(namespaced, self.resource)),
        );
        Value::Object(path)
    }
}

fn item_parameters(namespaced: bool, resource: &ResourceInfo) -> Vec<Value> {
    let mut parameters = vec![path_parameter(
        "name",
        &format!("name of the {}", resource.kind),
    )];
    parameters.extend(path_parameters(namespaced));
    parameters
}

/// The parameters every path of a collection shares: its namespace (if
/// namespaced) and `pretty`.
fn path_parameters(namespaced: bool) -> Vec<Value> {
    let mut parameters = Vec::new();
    if namespaced {
        parameters.push(path_parameter(
            "namespace",
            "object name and auth scope, such as for teams and projects",
        ));
    }
    parameters.push(query(
        "pretty",
        "string",
        "If 'true', then the output is pretty printed.",
    ));
    parameters
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// `CoreV1`, `AppsV1`, `CoordinationV1`: upstream's operation id prefix.
fn group_id(resource: &ResourceInfo) -> String {
    let group = if resource.group.is_empty() {
        "core".to_string()
    } else {
        resource.group.trim_end_matches(".k8s.io").replace('.', "_")
    };
    let group: String = group.split('_').map(capitalize).collect();
    format!("{group}{}", capitalize(resource.version))
}

/// `core_v1`, `apps_v1`: upstream's tag.
fn tag(resource: &ResourceInfo) -> String {
    let group = if resource.group.is_empty() {
        "core"
    } else {
        resource.group.trim_end_matches(".k8s.io")
    };
    format!("{}_{}", group.replace('.', "_"), resource.version)
}

/// `/api/v1` or `/apis/G/V`.
pub(super) fn prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// Adds every path of `resource` to `paths`.
pub(super) fn add_resource(paths: &mut Map<String, Value>, resource: &ResourceInfo) {
    let base = prefix(resource.group, resource.version);
    let namespaced = resource.namespaced;
    let collection = if namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", resource.plural)
    } else {
        format!("{base}/{}", resource.plural)
    };
    let this = Target {
        resource,
        subresource: "",
        kind: (resource.group, resource.version, resource.kind),
        definition: resource.definition,
    };
    paths.insert(collection.clone(), collection_path(&this, namespaced));
    paths.insert(format!("{collection}/{{name}}"), this.item_path(namespaced));
    if namespaced && resource.supports("list") {
        let mut list = this.operation(
            "list",
            "list",
            false,
            format!("list or watch objects of kind {}", resource.kind),
        );
        if let Some(Value::String(id)) = list.get_mut("operationId") {
            id.push_str("ForAllNamespaces");
        }
        list.insert(
            "responses".into(),
            responses(&[("200", "OK")], &list_definition(resource)),
        );
        let parameters = list_parameters();
        paths.insert(
            format!("{base}/{}", resource.plural),
            json!({ "get": list, "parameters": parameters }),
        );
    }
    for sub in ["status", "scale"] {
        if resource.subresource(sub).is_none() {
            continue;
        }
        let (kind, definition) = if sub == "scale" {
            (("autoscaling", "v1", "Scale"), SCALE)
        } else {
            (
                (resource.group, resource.version, resource.kind),
                resource.definition,
            )
        };
        let target = Target {
            resource,
            subresource: sub,
            kind,
            definition,
        };
        paths.insert(
            format!("{collection}/{{name}}/{sub}"),
            target.item_path(namespaced),
        );
    }
}

/// List, create and delete-collection of a resource.
fn collection_path(this: &Target<'_>, namespaced: bool) -> Value {
    let resource = this.resource;
    let mut path = Map::new();
    let list_definition = list_definition(resource);
    let mut list = this.operation(
        "list",
        "list",
        namespaced,
        format!("list or watch objects of kind {}", resource.kind),
    );
    list.insert("parameters".into(), json!(list_parameters()));
    list.insert(
        "responses".into(),
        responses(&[("200", "OK")], &list_definition),
    );
    path.insert("get".into(), Value::Object(list));

    let create = this.operation(
        "create",
        "post",
        namespaced,
        format!("create a {}", resource.kind),
    );
    let create = with_io(
        create,
        write_parameters(),
        Some(body_of(resource.definition, true)),
        responses(
            &[("200", "OK"), ("201", "Created"), ("202", "Accepted")],
            resource.definition,
        ),
    );
    path.insert("post".into(), create);

    if resource.supports("deletecollection") {
        let mut delete = this.operation(
            "delete",
            "deletecollection",
            namespaced,
            format!("delete collection of {}", resource.kind),
        );
        if let Some(Value::String(id)) = delete.get_mut("operationId") {
            *id = id.replacen("delete", "deleteCollection", 1);
        }
        let mut parameters = delete_parameters();
        parameters.extend(list_parameters());
        let delete = with_io(
            delete,
            json!(parameters),
            Some(body_of(DELETE_OPTIONS, false)),
            responses(&[("200", "OK")], STATUS),
        );
        path.insert("delete".into(), delete);
    }
    path.insert("parameters".into(), json!(path_parameters(namespaced)));
    Value::Object(path)
}
