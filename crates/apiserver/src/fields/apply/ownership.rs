//! The apply of one manager's configuration to a live object, as
//! structured-merge-diff's `Updater.Apply` does it: merge, drop what the
//! manager applied before and nobody owns any more, find conflicts with
//! the other managers, and move ownership. Pure: objects in, object and
//! entries (or conflicts) out.

use serde_json::{Value, json};

use super::fieldset::{FieldSet, path_string};
use super::typed;
use crate::schema::Schemas;

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: Option<String>,
    pub set: FieldSet,
}

impl Entry {
    /// The entry of a managedFields item (`None` if it is not one).
    pub fn from_json(value: &Value) -> Option<Entry> {
        let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_string);
        Some(Entry {
            manager: text("manager")?,
            operation: text("operation").unwrap_or_else(|| "Update".into()),
            api_version: text("apiVersion").unwrap_or_default(),
            time: text("time"),
            subresource: text("subresource").filter(|s| !s.is_empty()),
            set: FieldSet::from_fields_v1(value.get("fieldsV1").unwrap_or(&Value::Null)),
        })
    }

    /// The managedFields item.
    pub fn to_json(&self) -> Value {
        let mut entry = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "fieldsType": "FieldsV1",
            "fieldsV1": self.set.to_fields_v1(),
        });
        if let Some(time) = &self.time {
            entry["time"] = Value::from(time.as_str());
        }
        if let Some(sub) = &self.subresource {
            entry["subresource"] = Value::from(sub.as_str());
        }
        entry
    }

    /// The manager as upstream names it in conflicts: `"kubectl"` for an
    /// applier, `"x" using apps/v1` for an updater, with `with subresource
    /// "status"` when it wrote through one.
    pub fn describe(&self) -> String {
        let mut text = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            text.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == "Update" {
            text.push_str(&format!(" using {}", self.api_version));
        }
        text
    }
}

/// The entries of a managedFields value.
pub fn decode(value: Option<&Value>) -> Vec<Entry> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Entry::from_json)
        .collect()
}

/// Who applies.
pub struct Applier<'a> {
    pub manager: &'a str,
    pub subresource: Option<&'a str>,
    pub api_version: &'a str,
    /// Take fields other managers own instead of failing.
    pub force: bool,
    /// The timestamp of this write.
    pub now: &'a str,
}

impl Applier<'_> {
    fn owns(&self, entry: &Entry) -> bool {
        entry.manager == self.manager
            && entry.operation == "Apply"
            && entry.subresource.as_deref() == self.subresource
    }
}

/// A field another manager owns and the apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The owner, as [`Entry::describe`] names it.
    pub manager: String,
    /// The field, as upstream prints paths (`.spec.replicas`).
    pub field: String,
}

/// The outcome of an apply.
#[derive(Debug)]
pub struct Applied {
    /// The new owned part of the object.
    pub object: Value,
    /// The new managedFields entries.
    pub entries: Vec<Entry>,
}

/// Applies `config` (the owned part of the applied configuration) to
/// `live` (the owned part of the live object, `None` when absent).
/// `allowed`: conflicting fields the applier may take without `force`
/// (client-side apply's fields whose values it last applied, see
/// [`super::last_applied`]).
pub fn apply(
    schemas: &Schemas,
    root: &Value,
    live: Option<&Value>,
    config: &Value,
    mut entries: Vec<Entry>,
    who: &Applier<'_>,
    allowed: Option<&FieldSet>,
) -> Result<Applied, Vec<Conflict>> {
    let empty = json!({});
    let live = live.unwrap_or(&empty);
    let mut object = typed::merge(schemas, root, Some(live), config);
    let mut set = typed::field_set(schemas, root, config);
    set.unmark();
    let last = entries
        .iter()
        .position(|e| who.owns(e))
        .map(|i| entries.remove(i));
    if let Some(last) = &last {
        let mut owned = entries.iter().fold(set.clone(), |all, e| all.union(&e.set));
        // Metadata always stays (it holds the object's name).
        owned.insert(&["f:metadata".to_string()]);
        let dropped = last
            .set
            .with_ancestors()
            .difference(&owned.with_ancestors());
        typed::remove(schemas, root, &mut object, &dropped);
    }
    let (changed, removed) = typed::compare(schemas, root, Some(live), Some(&object));
    let conflicts: Vec<(usize, FieldSet)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (i, e.set.intersection(&changed)))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let excused = |c: &FieldSet| allowed.is_some_and(|a| c.difference(a).is_empty());
    if !who.force && !conflicts.iter().all(|(_, c)| excused(c)) {
        return Err(conflicts
            .iter()
            .flat_map(|(i, c)| {
                let rest = allowed.map_or_else(|| c.clone(), |a| c.difference(a));
                let manager = entries[*i].describe();
                rest.paths().into_iter().map(move |path| Conflict {
                    manager: manager.clone(),
                    field: path_string(&path),
                })
            })
            .collect());
    }
    for (i, taken) in &conflicts {
        entries[*i].set = entries[*i].set.difference(taken);
    }
    for entry in &mut entries {
        entry.set = entry.set.difference(&removed);
    }
    entries.retain(|e| !e.set.is_empty());
    if !set.is_empty() {
        let unchanged = |l: &&Entry| l.set == set && object == *live;
        let time = match last.as_ref().filter(unchanged) {
            Some(last) => last.time.clone(),
            None => Some(who.now.to_string()),
        };
        entries.push(Entry {
            manager: who.manager.to_string(),
            operation: "Apply".into(),
            api_version: who.api_version.to_string(),
            time,
            subresource: who.subresource.map(str::to_string),
            set,
        });
    }
    Ok(Applied { object, entries })
}

/// Upstream's message for apply conflicts.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.manager, only.field
        );
    }
    let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
    managers.sort_unstable();
    managers.dedup();
    let mut lines = Vec::new();
    for manager in managers {
        lines.push(format!("conflicts with {manager}:"));
        for conflict in conflicts.iter().filter(|c| c.manager == manager) {
            lines.push(format!("- {}", conflict.field));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}
