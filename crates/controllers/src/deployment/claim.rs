//! Which ReplicaSets a Deployment owns, as upstream's
//! `ReplicaSetControllerRefManager` claims them: one it controls stays
//! while its labels match the Deployment's selector and is released when
//! they stop matching; an orphan whose labels match is adopted (unless it
//! or the Deployment is being deleted). ReplicaSets controlled by anyone
//! else are left alone.

use std::collections::BTreeMap;

use keelson_api::k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use keelson_api::label_selector::Selector;
use serde_json::json;

use crate::pods::controller_of;

/// What the claim decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claim {
    /// The ReplicaSets the Deployment owns from now on (adopted ones with
    /// their new controller reference).
    pub owned: Vec<ReplicaSet>,
    /// Strategic-merge patches adopting orphans, by ReplicaSet name.
    pub adopt: Vec<(String, serde_json::Value)>,
    /// Strategic-merge patches releasing ReplicaSets, by name.
    pub release: Vec<(String, serde_json::Value)>,
}

/// The controller reference a Deployment puts on its ReplicaSets.
pub fn controller_ref(d: &Deployment) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".to_string(),
        kind: "Deployment".to_string(),
        name: d.metadata.name.clone().unwrap_or_default(),
        uid: d.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Claims, among `replica_sets` (those of the Deployment's namespace),
/// the Deployment's.
pub fn claim(d: &Deployment, selector: &Selector, replica_sets: &[&ReplicaSet]) -> Claim {
    let uid = d.metadata.uid.as_deref().unwrap_or("");
    let deleting = d.metadata.deletion_timestamp.is_some();
    let no_labels = BTreeMap::new();
    let mut out = Claim::default();
    for rs in replica_sets {
        let name = rs.metadata.name.clone().unwrap_or_default();
        let matches = selector.matches(rs.metadata.labels.as_ref().unwrap_or(&no_labels));
        match controller_of(rs.metadata.owner_references.as_ref()) {
            Some(owner) if owner.uid != uid => {}
            Some(_) if matches => out.owned.push((*rs).clone()),
            Some(_) if !deleting => out.release.push((name, release_patch(uid, rs))),
            Some(_) => {}
            None if !matches || deleting || rs.metadata.deletion_timestamp.is_some() => {}
            None => {
                let owner = controller_ref(d);
                out.adopt.push((name, adopt_patch(&owner, rs)));
                let mut adopted = (*rs).clone();
                adopted
                    .metadata
                    .owner_references
                    .get_or_insert_with(Vec::new)
                    .push(owner);
                out.owned.push(adopted);
            }
        }
    }
    out
}

fn adopt_patch(owner: &OwnerReference, rs: &ReplicaSet) -> serde_json::Value {
    json!({
        "metadata": {
            "ownerReferences": [{
                "apiVersion": owner.api_version, "kind": owner.kind,
                "name": owner.name, "uid": owner.uid,
                "controller": true, "blockOwnerDeletion": true,
            }],
            "uid": rs.metadata.uid,
        }
    })
}

fn release_patch(uid: &str, rs: &ReplicaSet) -> serde_json::Value {
    json!({
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": uid}],
            "uid": rs.metadata.uid,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "d-1"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}}}
        }))
        .expect("a Deployment")
    }

    fn replica_set(name: &str, app: &str, owner: Option<&str>) -> ReplicaSet {
        let mut rs = json!({"metadata": {"name": name, "namespace": "default",
            "uid": format!("{name}-uid"), "labels": {"app": app}}});
        if let Some(uid) = owner {
            rs["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1",
                "kind": "Deployment", "name": "x", "uid": uid, "controller": true}]);
        }
        serde_json::from_value(rs).expect("a ReplicaSet")
    }

    fn names(sets: &[ReplicaSet]) -> Vec<&str> {
        sets.iter()
            .filter_map(|rs| rs.metadata.name.as_deref())
            .collect()
    }

    #[test]
    fn owned_stay_orphans_are_adopted_strays_released_others_left() {
        let d = deployment();
        let selector = Selector::from_optional_label_selector(d.spec.as_ref().map(|s| &s.selector))
            .expect("a selector");
        let sets = [
            replica_set("mine", "web", Some("d-1")),
            replica_set("orphan", "web", None),
            replica_set("stray", "db", Some("d-1")),
            replica_set("theirs", "web", Some("other")),
            replica_set("unrelated", "db", None),
        ];
        let refs: Vec<&ReplicaSet> = sets.iter().collect();
        let claimed = claim(&d, &selector, &refs);
        assert_eq!(names(&claimed.owned), ["mine", "orphan"]);
        assert_eq!(claimed.adopt.len(), 1);
        assert_eq!(claimed.adopt[0].0, "orphan");
        assert_eq!(
            claimed.adopt[0].1["metadata"]["ownerReferences"][0]["uid"],
            "d-1"
        );
        assert_eq!(claimed.release.len(), 1);
        assert_eq!(claimed.release[0].0, "stray");
        let adopted = &claimed.owned[1];
        assert_eq!(
            controller_of(adopted.metadata.owner_references.as_ref()).map(|o| o.uid.as_str()),
            Some("d-1")
        );
    }

    #[test]
    fn a_deployment_being_deleted_neither_adopts_nor_releases() {
        let mut d = deployment();
        d.metadata.deletion_timestamp = Some(
            keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-01-01T00:00:00Z".parse().expect("a time"),
            ),
        );
        let selector = Selector::from_optional_label_selector(d.spec.as_ref().map(|s| &s.selector))
            .expect("a selector");
        let sets = [
            replica_set("orphan", "web", None),
            replica_set("stray", "db", Some("d-1")),
        ];
        let refs: Vec<&ReplicaSet> = sets.iter().collect();
        let claimed = claim(&d, &selector, &refs);
        assert!(claimed.owned.is_empty() && claimed.adopt.is_empty() && claimed.release.is_empty());
    }
}
