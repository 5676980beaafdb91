//! RBAC's escalation prevention, as upstream's RBAC storage does it: a
//! user may write a Role or ClusterRole only with every permission it
//! grants (or the `escalate` verb on it), and a binding only with every
//! permission of the role it binds (or the `bind` verb on that role); the
//! `system:masters` group may do both. An aggregation rule can gather
//! anything, so it needs every permission there is.
//!
//! An admission step, so that it sees the object as it will be stored
//! whether it came as a create, an update or any kind of patch. Writes
//! made by the server itself (no requester) are not checked.

use keelson_api::ApiError;
use serde::Deserialize;
use serde_json::Value;

use super::Attributes;
use super::rbac::rules::{Rule, covers, describe};
use super::rbac::{GROUP, Rbac, RoleRef};
use super::user::{MASTERS, User};
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes as Write, Operation};

/// The escalation check of RBAC writes.
pub struct Escalation {
    rbac: Rbac,
}

impl Escalation {
    pub fn new(rbac: Rbac) -> Self {
        Escalation { rbac }
    }
}

#[async_trait::async_trait]
impl Admission for Escalation {
    fn name(&self) -> &'static str {
        "RBACEscalation"
    }

    async fn validate(
        &self,
        _objects: &Objects,
        write: &Write<'_>,
        object: &Value,
    ) -> Result<(), ApiError> {
        if write.resource.group != GROUP
            || write.subresource.is_some()
            || write.operation == Operation::Delete
        {
            return Ok(());
        }
        let Some(user) = super::requester().filter(|u| !u.in_group(MASTERS)) else {
            return Ok(());
        };
        match write.resource.plural {
            "roles" | "clusterroles" => self.check_role(&user, write, object).await,
            "rolebindings" | "clusterrolebindings" => {
                self.check_binding(&user, write, object).await
            }
            _ => Ok(()),
        }
    }
}

fn rules_of(object: &Value) -> Vec<Rule> {
    object
        .get("rules")
        .and_then(|r| Vec::<Rule>::deserialize(r).ok())
        .unwrap_or_default()
}

/// Every permission there is.
pub fn full_authority() -> Vec<Rule> {
    let all = || vec!["*".to_string()];
    vec![
        Rule {
            verbs: all(),
            api_groups: all(),
            resources: all(),
            ..Rule::default()
        },
        Rule {
            verbs: all(),
            non_resource_urls: all(),
            ..Rule::default()
        },
    ]
}

impl Escalation {
    async fn check_role(
        &self,
        user: &User,
        write: &Write<'_>,
        object: &Value,
    ) -> Result<(), ApiError> {
        let rules = rules_of(object);
        let aggregation = object.get("aggregationRule").filter(|a| !a.is_null());
        if let Some(old) = write.old
            && rules_of(old) == rules
            && old.get("aggregationRule").filter(|a| !a.is_null()) == aggregation
        {
            return Ok(());
        }
        let namespace = write.namespace.unwrap_or("");
        let escalate = Attributes::resource(
            "escalate",
            GROUP,
            write.resource.plural,
            namespace,
            write.name,
        );
        let authorizer = super::Authorizer::Rbac(self.rbac.clone());
        if authorizer.authorize(user, &escalate).await?.allowed {
            return Ok(());
        }
        let policy = self.rbac.policy().await?;
        let (owned, errors) = policy.rules_for(user, namespace);
        let forbidden =
            |why: String| ApiError::forbidden(GROUP, write.resource.plural, write.name, &why);
        covers(&owned, &rules).map_err(|missing| forbidden(not_held(user, &missing, &errors)))?;
        if aggregation.is_some() && covers(&owned, &full_authority()).is_err() {
            return Err(forbidden(
                "must have cluster-admin privileges to use the aggregationRule".to_string(),
            ));
        }
        Ok(())
    }

    async fn check_binding(
        &self,
        user: &User,
        write: &Write<'_>,
        object: &Value,
    ) -> Result<(), ApiError> {
        let role_ref = object
            .get("roleRef")
            .and_then(|r| RoleRef::deserialize(r).ok())
            .unwrap_or_default();
        if let Some(old) = write.old
            && old.get("roleRef") == object.get("roleRef")
            && old.get("subjects") == object.get("subjects")
        {
            return Ok(());
        }
        let namespace = write.namespace.unwrap_or("");
        let role_resource = match role_ref.kind.as_str() {
            "Role" => "roles",
            _ => "clusterroles",
        };
        let bind = Attributes::resource("bind", GROUP, role_resource, namespace, &role_ref.name);
        let authorizer = super::Authorizer::Rbac(self.rbac.clone());
        if authorizer.authorize(user, &bind).await?.allowed {
            return Ok(());
        }
        let forbidden =
            |why: String| ApiError::forbidden(GROUP, write.resource.plural, write.name, &why);
        let policy = self.rbac.policy().await?;
        let rules = policy
            .role_ref_rules(&role_ref, namespace)
            .map_err(forbidden)?;
        let (owned, errors) = policy.rules_for(user, namespace);
        covers(&owned, rules).map_err(|missing| forbidden(not_held(user, &missing, &errors)))
    }
}

/// Upstream's message for permissions a user does not hold.
fn not_held(user: &User, missing: &[Rule], errors: &[String]) -> String {
    let groups: Vec<String> = user.groups.iter().map(|g| format!("{g:?}")).collect();
    let lines: Vec<String> = compact(missing).iter().map(describe).collect();
    let mut message = format!(
        "user {:?} (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{}",
        user.name,
        groups.join(" "),
        lines.join("\n")
    );
    if !errors.is_empty() {
        message.push_str(&format!("; resolution errors: [{}]", errors.join(", ")));
    }
    message
}

/// Rules that differ only in their verb, as one rule with all the verbs.
fn compact(rules: &[Rule]) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    for rule in rules {
        let same = out.iter_mut().find(|r| {
            r.api_groups == rule.api_groups
                && r.resources == rule.resources
                && r.resource_names == rule.resource_names
                && r.non_resource_urls == rule.non_resource_urls
        });
        match same {
            Some(r) => {
                for verb in &rule.verbs {
                    if !r.verbs.contains(verb) {
                        r.verbs.push(verb.clone());
                    }
                }
            }
            None => out.push(rule.clone()),
        }
    }
    out
}
