//! Sets of field paths, as structured-merge-diff keeps them: a tree whose
//! edges are `FieldsV1` keys (`f:name`, `k:{"name":"c"}`, `v:"x"`) and whose
//! nodes may themselves be members of the set (`.` in `FieldsV1`, or an
//! empty object for a leaf).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A set of field paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Whether the path leading here is itself in the set (never for the root).
    member: bool,
    children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set a `fieldsV1` value describes (anything else is empty).
    pub fn from_fields_v1(value: &Value) -> Self {
        let mut set = FieldSet::new();
        for (key, child) in value.as_object().into_iter().flatten() {
            if key == "." {
                set.member = true;
                continue;
            }
            let mut node = FieldSet::from_fields_v1(child);
            if node.children.is_empty() {
                node.member = true;
            }
            set.children.insert(key.clone(), node);
        }
        set
    }

    /// The `fieldsV1` form of the set.
    pub fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".into(), Value::Object(Map::new()));
        }
        for (key, child) in &self.children {
            map.insert(key.clone(), child.to_fields_v1());
        }
        Value::Object(map)
    }

    /// Whether the set has no paths.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    /// Adds the path `keys` (a sequence of `FieldsV1` keys).
    pub fn insert(&mut self, keys: &[String]) {
        match keys.split_first() {
            None => self.member = true,
            Some((first, rest)) => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// The set below `key`.
    pub fn child(&self, key: &str) -> Option<&FieldSet> {
        self.children.get(key)
    }

    /// The sets below each key, in key order.
    pub fn children(&self) -> impl Iterator<Item = (&String, &FieldSet)> {
        self.children.iter()
    }

    /// Whether the path leading to this node is a member.
    pub fn is_member(&self) -> bool {
        self.member
    }

    /// Adds `child` (unless empty) below `key`.
    pub(crate) fn add_child(&mut self, key: String, child: FieldSet) {
        if child.is_empty() {
            return;
        }
        let slot = self.children.entry(key).or_default();
        *slot = std::mem::take(slot).union(&child);
    }

    /// Marks this node as a member.
    pub(crate) fn mark(&mut self) {
        self.member = true;
    }

    /// Makes this node no member (children stay).
    pub(crate) fn unmark(&mut self) {
        self.member = false;
    }

    /// Every path of either set.
    pub fn union(mut self, other: &FieldSet) -> FieldSet {
        self.member |= other.member;
        for (key, child) in &other.children {
            let mine = self.children.remove(key).unwrap_or_default();
            self.children.insert(key.clone(), mine.union(child));
        }
        self
    }

    /// The paths of `self` that are not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (key, child) in &self.children {
            let rest = match other.children.get(key) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                out.children.insert(key.clone(), rest);
            }
        }
        out
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (key, child) in &self.children {
            if let Some(theirs) = other.children.get(key) {
                let both = child.intersection(theirs);
                if !both.is_empty() {
                    out.children.insert(key.clone(), both);
                }
            }
        }
        out
    }

    /// The set with every ancestor of a member made a member too (what
    /// structured-merge-diff calls making named fields members), so that
    /// removing it also removes the fields that only held those members.
    pub fn with_ancestors(&self) -> FieldSet {
        let mut out = FieldSet {
            member: self.member,
            children: BTreeMap::new(),
        };
        for (key, child) in &self.children {
            let mut child = child.with_ancestors();
            child.member = true;
            out.children.insert(key.clone(), child);
        }
        out
    }

    /// Every member path, each as its `FieldsV1` keys, in order.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.member && !prefix.is_empty() {
            out.push(prefix.clone());
        }
        for (key, child) in &self.children {
            prefix.push(key.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }
}

/// A path as upstream prints it: `.spec.containers[name="c"].image`,
/// `.spec.finalizers[="x"]`.
pub fn path_string(keys: &[String]) -> String {
    keys.iter().map(|key| element_string(key)).collect()
}

fn element_string(key: &str) -> String {
    if let Some(name) = key.strip_prefix("f:") {
        return format!(".{name}");
    }
    if let Some(fields) = key.strip_prefix("k:") {
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) else {
            return format!("[{fields}]");
        };
        let mut parts: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{name}={}", value_string(value)))
            .collect();
        parts.sort();
        return format!("[{}]", parts.join(","));
    }
    if let Some(value) = key.strip_prefix("v:") {
        let value = serde_json::from_str::<Value>(value).unwrap_or(Value::Null);
        return format!("[={}]", value_string(&value));
    }
    if let Some(index) = key.strip_prefix("i:") {
        return format!("[{index}]");
    }
    key.to_string()
}

/// A value in a path, as structured-merge-diff prints it (strings quoted).
fn value_string(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{text:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(value: Value) -> FieldSet {
        FieldSet::from_fields_v1(&value)
    }

    #[test]
    fn fields_v1_round_trips_with_dot_for_members_with_children() {
        let value = json!({"f:spec": {"f:containers": {
            "k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}
        }}});
        assert_eq!(set(value.clone()).to_fields_v1(), value);
    }

    #[test]
    fn set_operations_work_on_member_paths() {
        let a = set(json!({"f:data": {"f:a": {}, "f:b": {}}}));
        let b = set(json!({"f:data": {"f:b": {}, "f:c": {}}}));
        assert_eq!(
            a.difference(&b).to_fields_v1(),
            json!({"f:data": {"f:a": {}}})
        );
        assert_eq!(
            a.intersection(&b).to_fields_v1(),
            json!({"f:data": {"f:b": {}}})
        );
        assert_eq!(
            a.clone().union(&b).to_fields_v1(),
            json!({"f:data": {"f:a": {}, "f:b": {}, "f:c": {}}})
        );
        assert_eq!(
            a.with_ancestors().to_fields_v1(),
            json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}})
        );
    }

    #[test]
    fn paths_print_as_upstream() {
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            path_string(&keys(&["f:spec", "f:replicas"])),
            ".spec.replicas"
        );
        assert_eq!(
            path_string(&keys(&[
                "f:spec",
                "f:ports",
                "k:{\"port\":80,\"protocol\":\"TCP\"}",
                "f:name"
            ])),
            ".spec.ports[port=80,protocol=\"TCP\"].name"
        );
        assert_eq!(
            path_string(&keys(&["f:metadata", "f:finalizers", "v:\"x\""])),
            ".metadata.finalizers[=\"x\"]"
        );
    }
}
