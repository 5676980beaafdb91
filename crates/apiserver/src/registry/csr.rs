//! What the server adds to CertificateSigningRequests beyond their
//! strategy, as upstream's strategies do with the request's user and
//! clock: the requester of a new request (`spec.username`, `uid`, `groups`
//! and `extra`, from the user who creates it, whatever the client sent;
//! empty without authentication), the request kept as created on every
//! update, which conditions each subresource may
//! write (`approval` only Approved and Denied, `status` all others), and
//! the times of conditions that carry none.

use async_trait::async_trait;
use keelson_api::ApiError;
use serde_json::{Map, Value};

use crate::auth::User;
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

const GROUP: &str = "certificates.k8s.io";
const PLURAL: &str = "certificatesigningrequests";

/// The condition types only the `approval` subresource writes.
const APPROVAL_TYPES: &[&str] = &["Approved", "Denied"];

/// Records who asks for a certificate, and keeps conditions to the
/// subresource that owns them.
pub struct CsrRequester;

#[async_trait]
impl Admission for CsrRequester {
    fn name(&self) -> &'static str {
        "CertificateSigningRequestRequester"
    }

    async fn admit(
        &self,
        _objects: &Objects,
        write: &Attributes<'_>,
        csr: &mut Value,
    ) -> Result<(), ApiError> {
        if write.resource.group != GROUP || write.resource.plural != PLURAL {
            return Ok(());
        }
        let creates = write.operation == Operation::Create && write.subresource.is_none();
        if creates && let Some(spec) = csr.get_mut("spec").and_then(Value::as_object_mut) {
            set_requester(spec, crate::auth::requester().as_ref());
        }
        // As upstream, a main-resource update never changes the request.
        if let (None, Some(old)) = (write.subresource, write.old)
            && let Some(spec) = old.get("spec")
        {
            csr["spec"] = spec.clone();
        }
        if let (Some(sub), Some(old)) = (write.subresource, write.old) {
            let approval = sub == "approval";
            let conditions = owned_conditions(conditions_of(csr), conditions_of(old), approval);
            let now = crate::meta::now_timestamp();
            let conditions = stamped(conditions, conditions_of(old), &now);
            if let Some(status) = csr.get_mut("status").and_then(Value::as_object_mut) {
                status.insert("conditions".into(), Value::Array(conditions));
            }
        }
        Ok(())
    }
}

/// Replaces the requester fields of `spec` with `user`'s (none without a
/// user).
fn set_requester(spec: &mut Map<String, Value>, user: Option<&User>) {
    for field in ["username", "uid", "groups", "extra"] {
        spec.remove(field);
    }
    let Some(user) = user else {
        return;
    };
    spec.insert("username".into(), Value::from(user.name.clone()));
    if !user.uid.is_empty() {
        spec.insert("uid".into(), Value::from(user.uid.clone()));
    }
    if !user.groups.is_empty() {
        spec.insert("groups".into(), Value::from(user.groups.clone()));
    }
    if !user.extra.is_empty() {
        let extra = user
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect();
        spec.insert("extra".into(), Value::Object(extra));
    }
}

fn conditions_of(csr: &Value) -> &[Value] {
    csr.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn is_approval(condition: &Value) -> bool {
    let kind = condition.get("type").and_then(Value::as_str).unwrap_or("");
    APPROVAL_TYPES.contains(&kind)
}

/// The conditions a write through `approval` (or else `status`) leaves:
/// the written ones of the types it owns, then the stored ones of the
/// others.
fn owned_conditions(written: &[Value], stored: &[Value], approval: bool) -> Vec<Value> {
    let owned = written.iter().filter(|c| is_approval(c) == approval);
    let kept = stored.iter().filter(|c| is_approval(c) != approval);
    owned.chain(kept).cloned().collect()
}

/// `conditions` with `lastUpdateTime` set where missing, and
/// `lastTransitionTime` from the stored condition of the same type and
/// status (else now).
fn stamped(conditions: Vec<Value>, stored: &[Value], now: &str) -> Vec<Value> {
    let same =
        |c: &Value, s: &Value| c.get("type") == s.get("type") && c.get("status") == s.get("status");
    conditions
        .into_iter()
        .map(|mut condition| {
            let transition = stored
                .iter()
                .find(|s| same(&condition, s))
                .and_then(|s| s.get("lastTransitionTime"))
                .filter(|t| !t.is_null())
                .cloned()
                .unwrap_or_else(|| Value::from(now));
            if let Some(fields) = condition.as_object_mut() {
                for (field, value) in [
                    ("lastUpdateTime", Value::from(now)),
                    ("lastTransitionTime", transition),
                ] {
                    if fields.get(field).is_none_or(Value::is_null) {
                        fields.insert(field.into(), value);
                    }
                }
            }
            condition
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_subresource_writes_its_own_conditions() {
        let stored = [
            json!({"type": "Approved", "status": "True"}),
            json!({"type": "Failed", "status": "True"}),
        ];
        let written = [
            json!({"type": "Denied", "status": "True"}),
            json!({"type": "Other", "status": "True"}),
        ];
        let types = |c: Vec<Value>| {
            c.iter()
                .map(|c| c["type"].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            types(owned_conditions(&written, &stored, true)),
            ["Denied", "Failed"]
        );
        assert_eq!(
            types(owned_conditions(&written, &stored, false)),
            ["Other", "Approved"]
        );
    }

    #[test]
    fn conditions_get_times() {
        let stored = [json!({"type": "Approved", "status": "True", "lastTransitionTime": "then"})];
        let written = vec![
            json!({"type": "Approved", "status": "True"}),
            json!({"type": "Failed", "status": "True"}),
        ];
        let stamped = stamped(written, &stored, "now");
        assert_eq!(
            stamped[0],
            json!({"type": "Approved", "status": "True", "lastUpdateTime": "now", "lastTransitionTime": "then"})
        );
        assert_eq!(stamped[1]["lastTransitionTime"], "now");
    }

    #[test]
    fn the_user_replaces_what_the_client_sent() {
        let mut spec = json!({"username": "mallory", "groups": ["system:masters"], "request": "x"});
        let spec_map = spec.as_object_mut().expect("an object");
        set_requester(spec_map, Some(&User::new("alice", &["dev"])));
        assert_eq!(
            spec,
            json!({"username": "alice", "groups": ["dev"], "request": "x"})
        );
        let spec_map = spec.as_object_mut().expect("an object");
        set_requester(spec_map, None);
        assert_eq!(spec, json!({"request": "x"}));
    }
}
