//! The requester of a new CertificateSigningRequest: upstream's strategy
//! fills `spec.username`, `uid`, `groups` and `extra` from the user who
//! creates it, whatever the client sent. The kind's strategy cannot see the
//! user, so this step of the create path does it; without authentication
//! the fields stay empty.

use async_trait::async_trait;
use keelson_api::ApiError;
use serde_json::{Map, Value};

use crate::auth::User;
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

const GROUP: &str = "certificates.k8s.io";
const PLURAL: &str = "certificatesigningrequests";

/// Records who asks for a certificate.
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
        let creates_csr = write.operation == Operation::Create
            && write.subresource.is_none()
            && write.resource.group == GROUP
            && write.resource.plural == PLURAL;
        if creates_csr && let Some(spec) = csr.get_mut("spec").and_then(Value::as_object_mut) {
            set_requester(spec, crate::auth::requester().as_ref());
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
