//! Table tests of the apply merge on the served schemas: each list type,
//! nested list-maps, shared ownership, conflicts, force, removal.

use keelson_api::registry::{self, ResourceInfo};
use serde_json::{Value, json};

use super::fieldset::FieldSet;
use super::ownership::{self, Applied, Applier, Conflict, Entry};
use super::{last_applied, typed};
use crate::schema::Schemas;

fn resource(group: &str, plural: &str) -> &'static ResourceInfo {
    registry::by_resource(group, plural).expect("registered")
}

/// A live object (its owned part) and its managers, applied to in turn.
struct Object {
    resource: &'static ResourceInfo,
    live: Option<Value>,
    entries: Vec<Entry>,
}

impl Object {
    fn new(group: &str, plural: &str) -> Self {
        Object {
            resource: resource(group, plural),
            live: None,
            entries: Vec::new(),
        }
    }

    fn try_apply(
        &self,
        manager: &str,
        config: Value,
        force: bool,
    ) -> Result<Applied, Vec<Conflict>> {
        let (schemas, root) = Schemas::of(self.resource).expect("schemas");
        let who = Applier {
            manager,
            subresource: None,
            api_version: &self.resource.api_version(),
            force,
            now: "2025-01-01T00:00:00Z",
        };
        ownership::apply(
            &schemas,
            root,
            self.live.as_ref(),
            &config,
            self.entries.clone(),
            &who,
            None,
        )
    }

    /// Applies and keeps the result; panics on conflicts.
    fn apply(&mut self, manager: &str, config: Value) -> &Value {
        self.store(manager, config, false)
    }

    fn force(&mut self, manager: &str, config: Value) -> &Value {
        self.store(manager, config, true)
    }

    fn store(&mut self, manager: &str, config: Value, force: bool) -> &Value {
        let applied = self
            .try_apply(manager, config, force)
            .unwrap_or_else(|c| panic!("conflicts: {c:?}"));
        self.live = Some(applied.object);
        self.entries = applied.entries;
        self.live.as_ref().expect("just stored")
    }

    /// An Update by `manager` owning `fields`.
    fn updated_by(&mut self, manager: &str, object: Value, fields: Value) {
        self.live = Some(object);
        self.entries.push(Entry {
            manager: manager.into(),
            operation: "Update".into(),
            api_version: self.resource.api_version(),
            time: None,
            subresource: None,
            set: FieldSet::from_fields_v1(&fields),
        });
    }

    /// The `fieldsV1` of `manager`'s entry (Null if it has none).
    fn owned_by(&self, manager: &str) -> Value {
        self.entries
            .iter()
            .find(|e| e.manager == manager)
            .map_or(Value::Null, |e| e.set.to_fields_v1())
    }
}

fn fields(conflicts: &[Conflict]) -> Vec<(&str, &str)> {
    conflicts
        .iter()
        .map(|c| (c.manager.as_str(), c.field.as_str()))
        .collect()
}

#[test]
fn a_granular_map_merges_key_by_key_and_each_manager_owns_its_keys() {
    let mut cm = Object::new("", "configmaps");
    cm.apply("a", json!({"data": {"x": "1"}}));
    let live = cm.apply("b", json!({"data": {"y": "2"}}));
    assert_eq!(live["data"], json!({"x": "1", "y": "2"}));
    assert_eq!(cm.owned_by("a"), json!({"f:data": {"f:x": {}}}));
    assert_eq!(cm.owned_by("b"), json!({"f:data": {"f:y": {}}}));
}

#[test]
fn the_same_value_applied_by_two_managers_is_owned_by_both() {
    let mut cm = Object::new("", "configmaps");
    cm.apply("a", json!({"data": {"x": "1"}}));
    cm.apply("b", json!({"data": {"x": "1"}}));
    assert_eq!(cm.owned_by("a"), json!({"f:data": {"f:x": {}}}));
    assert_eq!(cm.owned_by("b"), json!({"f:data": {"f:x": {}}}));
    // One of them dropping it leaves it to the other.
    let live = cm.apply("a", json!({})).clone();
    assert_eq!(live["data"], json!({"x": "1"}));
    assert_eq!(cm.owned_by("a"), Value::Null, "an empty set has no entry");
}

#[test]
fn a_different_value_for_a_field_another_applier_owns_conflicts() {
    let mut cm = Object::new("", "configmaps");
    cm.apply("a", json!({"data": {"x": "1", "y": "1"}}));
    let conflicts = cm
        .try_apply("b", json!({"data": {"x": "2", "y": "2"}}), false)
        .unwrap_err();
    assert_eq!(
        fields(&conflicts),
        [("\"a\"", ".data.x"), ("\"a\"", ".data.y")]
    );
    assert_eq!(
        ownership::conflict_message(&conflicts),
        "Apply failed with 2 conflicts: conflicts with \"a\":\n- .data.x\n- .data.y"
    );
    assert_eq!(
        ownership::conflict_message(&conflicts[..1]),
        "Apply failed with 1 conflict: conflict with \"a\": .data.x"
    );
}

#[test]
fn force_takes_the_field_from_its_owner() {
    let mut cm = Object::new("", "configmaps");
    cm.apply("a", json!({"data": {"x": "1", "y": "1"}}));
    let live = cm.force("b", json!({"data": {"x": "2"}})).clone();
    assert_eq!(live["data"], json!({"x": "2", "y": "1"}));
    assert_eq!(cm.owned_by("a"), json!({"f:data": {"f:y": {}}}));
    assert_eq!(cm.owned_by("b"), json!({"f:data": {"f:x": {}}}));
}

#[test]
fn a_field_left_out_is_removed_unless_another_manager_owns_it() {
    let mut cm = Object::new("", "configmaps");
    cm.apply("a", json!({"data": {"x": "1", "y": "1", "z": "1"}}));
    cm.apply("b", json!({"data": {"y": "1"}}));
    let live = cm.apply("a", json!({"data": {"x": "1"}})).clone();
    assert_eq!(live["data"], json!({"x": "1", "y": "1"}), "z goes, y stays");
    assert_eq!(cm.owned_by("a"), json!({"f:data": {"f:x": {}}}));
    assert_eq!(cm.owned_by("b"), json!({"f:data": {"f:y": {}}}));
    // Leaving out everything removes the field that only held them.
    cm.apply("b", json!({"metadata": {"labels": {"l": "v"}}}));
    let live = cm.apply("a", json!({"metadata": {"labels": {"l": "v"}}}));
    assert!(live.get("data").is_none(), "{live}");
    assert_eq!(live["metadata"]["labels"], json!({"l": "v"}));
}

#[test]
fn a_field_another_manager_updated_conflicts_naming_it_as_upstream() {
    let mut deploy = Object::new("apps", "deployments");
    deploy.updated_by(
        "kubectl-client-side-apply",
        json!({"spec": {"replicas": 2}}),
        json!({"f:spec": {"f:replicas": {}}}),
    );
    let conflicts = deploy
        .try_apply("kubectl", json!({"spec": {"replicas": 3}}), false)
        .unwrap_err();
    assert_eq!(
        ownership::conflict_message(&conflicts),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    // The same value is no conflict: both own it.
    deploy.apply("kubectl", json!({"spec": {"replicas": 2}}));
    assert_eq!(
        deploy.owned_by("kubectl-client-side-apply"),
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert_eq!(
        deploy.owned_by("kubectl"),
        json!({"f:spec": {"f:replicas": {}}})
    );
}

fn pod(containers: Value) -> Value {
    json!({"spec": {"containers": containers}})
}

#[test]
fn an_atomic_list_is_replaced_and_owned_whole() {
    let mut p = Object::new("", "pods");
    p.apply("a", pod(json!([{"name": "c", "args": ["x", "y"]}])));
    assert_eq!(
        p.owned_by("a")["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"],
        json!({".": {}, "f:name": {}, "f:args": {}})
    );
    let conflicts = p
        .try_apply("b", pod(json!([{"name": "c", "args": ["z"]}])), false)
        .unwrap_err();
    assert_eq!(
        fields(&conflicts),
        [("\"a\"", ".spec.containers[name=\"c\"].args")]
    );
    let live = p.force("b", pod(json!([{"name": "c", "args": ["z"]}])));
    assert_eq!(live["spec"]["containers"][0]["args"], json!(["z"]));
}

#[test]
fn a_set_list_merges_members_and_each_manager_owns_its_own() {
    let mut cm = Object::new("", "configmaps");
    cm.apply(
        "a",
        json!({"metadata": {"finalizers": ["x/a", "x/shared"]}}),
    );
    let live = cm
        .apply(
            "b",
            json!({"metadata": {"finalizers": ["x/shared", "x/b"]}}),
        )
        .clone();
    assert_eq!(
        live["metadata"]["finalizers"],
        json!(["x/a", "x/shared", "x/b"])
    );
    assert_eq!(
        cm.owned_by("b"),
        json!({"f:metadata": {"f:finalizers": {"v:\"x/b\"": {}, "v:\"x/shared\"": {}}}})
    );
    let live = cm.apply("a", json!({"metadata": {"finalizers": []}}));
    assert_eq!(live["metadata"]["finalizers"], json!(["x/shared", "x/b"]));
}

fn deployment(containers: Value) -> Value {
    json!({"spec": {"template": {"spec": {"containers": containers}}}})
}

#[test]
fn nested_list_maps_merge_by_key_at_every_level() {
    let mut d = Object::new("apps", "deployments");
    d.apply(
        "a",
        deployment(json!([{"name": "c", "image": "i", "env": [{"name": "A", "value": "1"}]}])),
    );
    let live = d
        .apply(
            "b",
            deployment(json!([
                {"name": "c", "env": [{"name": "B", "value": "2"}]},
                {"name": "side", "image": "s"}
            ])),
        )
        .clone();
    let containers = &live["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        containers,
        &json!([
            {"name": "c", "image": "i", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "side", "image": "s"}
        ])
    );
    let b = d.owned_by("b");
    let c = &b["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"];
    assert_eq!(
        c,
        &json!({".": {}, "f:name": {}, "f:env": {"k:{\"name\":\"B\"}": {".": {}, "f:name": {}, "f:value": {}}}})
    );
    let conflicts = d
        .try_apply(
            "b",
            deployment(json!([{"name": "c", "env": [{"name": "A", "value": "9"}]}])),
            false,
        )
        .unwrap_err();
    assert_eq!(
        fields(&conflicts),
        [(
            "\"a\"",
            ".spec.template.spec.containers[name=\"c\"].env[name=\"A\"].value"
        )]
    );
    // a leaves out its env var: removed, b's stays.
    let live = d.apply("a", deployment(json!([{"name": "c", "image": "i"}])));
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "B", "value": "2"}])
    );
}

#[test]
fn list_map_keys_take_their_defaults_when_left_out() {
    let mut svc = Object::new("", "services");
    svc.updated_by(
        "defaulted",
        json!({"spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}]}}),
        json!({}),
    );
    let live = svc.apply(
        "a",
        json!({"spec": {"ports": [{"port": 80, "name": "http"}]}}),
    );
    assert_eq!(
        live["spec"]["ports"],
        json!([{"port": 80, "protocol": "TCP", "targetPort": 8080, "name": "http"}])
    );
    assert!(
        svc.owned_by("a")["f:spec"]["f:ports"]
            .get("k:{\"port\":80,\"protocol\":\"TCP\"}")
            .is_some(),
        "{}",
        svc.owned_by("a")
    );
}

#[test]
fn merged_list_items_keep_live_only_items_in_place_and_follow_the_config_order() {
    let resource = resource("", "pods");
    let (schemas, root) = Schemas::of(resource).expect("schemas");
    let named = |names: &[&str]| {
        let containers: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
        pod(Value::from(containers))
    };
    let merged = typed::merge(
        &schemas,
        root,
        Some(&named(&["a", "b", "c"])),
        &named(&["c", "a"]),
    );
    assert_eq!(merged, named(&["b", "c", "a"]));
    let merged = typed::merge(&schemas, root, Some(&named(&["a", "b"])), &named(&["x"]));
    assert_eq!(merged, named(&["a", "b", "x"]));
}

#[test]
fn client_side_apply_fields_with_their_last_applied_values_may_be_taken() {
    let deployments = resource("apps", "deployments");
    let (schemas, root) = Schemas::of(deployments).expect("schemas");
    let last = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"}, "spec": {"replicas": 2, "paused": false}});
    let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "annotations": {last_applied::ANNOTATION: last.to_string()}},
        "spec": {"replicas": 5, "paused": false, "revisionHistoryLimit": 10}});
    let allowed = last_applied::allowed(&schemas, root, &live, "apps/v1", true).expect("allowed");
    assert_eq!(
        allowed.to_fields_v1(),
        json!({"f:spec": {"f:paused": {}}}),
        "replicas was changed since (by kubectl scale, say)"
    );
    assert_eq!(
        last_applied::updated(&last),
        format!("{last}\n"),
        "the annotation is the configuration, newline-terminated"
    );
}
