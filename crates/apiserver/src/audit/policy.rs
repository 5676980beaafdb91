//! Upstream's audit `Policy` (audit.k8s.io/v1): rules in order, the first
//! that matches a request gives its level and the stages left out; a
//! request no rule matches is not logged.

use serde::Deserialize;

use super::request::RequestInfo;
use super::{AuditError, AuditUser};

/// How much of a request an event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum Level {
    None,
    Metadata,
    Request,
    RequestResponse,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

/// The stages at which events are emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Stage {
    RequestReceived,
    ResponseStarted,
    ResponseComplete,
    Panic,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::RequestReceived => "RequestReceived",
            Stage::ResponseStarted => "ResponseStarted",
            Stage::ResponseComplete => "ResponseComplete",
            Stage::Panic => "Panic",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    rules: Vec<Rule>,
    #[serde(default)]
    omit_stages: Vec<Stage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    level: Level,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    user_groups: Vec<String>,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    resources: Vec<GroupResources>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default, rename = "nonResourceURLs")]
    non_resource_urls: Vec<String>,
    #[serde(default)]
    omit_stages: Vec<Stage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupResources {
    #[serde(default)]
    group: String,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    resource_names: Vec<String>,
}

/// What the policy says of one request.
pub struct Decision {
    pub level: Level,
    omit: Vec<Stage>,
}

impl Decision {
    pub fn logs(&self, stage: Stage) -> bool {
        self.level > Level::None && !self.omit.contains(&stage)
    }
}

impl Policy {
    /// Parses a Policy (YAML or JSON).
    pub fn parse(text: &str) -> Result<Policy, AuditError> {
        let policy: Policy = serde_saphyr::from_str(text)
            .map_err(|err| AuditError::Policy(format!("not an audit Policy: {err}")))?;
        if policy.kind.as_deref() != Some("Policy") {
            return Err(AuditError::Policy("kind must be Policy".into()));
        }
        if policy.api_version.as_deref() != Some("audit.k8s.io/v1") {
            return Err(AuditError::Policy(
                "apiVersion must be audit.k8s.io/v1".into(),
            ));
        }
        Ok(policy)
    }

    /// The level and stages for a request by `user`.
    pub fn decide(&self, user: &AuditUser, request: &RequestInfo) -> Decision {
        match self.rules.iter().find(|rule| rule.matches(user, request)) {
            Some(rule) => Decision {
                level: rule.level,
                omit: self
                    .omit_stages
                    .iter()
                    .chain(&rule.omit_stages)
                    .copied()
                    .collect(),
            },
            None => Decision {
                level: Level::None,
                omit: Vec::new(),
            },
        }
    }
}

impl Rule {
    fn matches(&self, user: &AuditUser, request: &RequestInfo) -> bool {
        let listed =
            |list: &[String], item: &str| list.is_empty() || list.iter().any(|i| i == item);
        if !listed(&self.users, &user.name) || !listed(&self.verbs, &request.verb) {
            return false;
        }
        if !self.user_groups.is_empty() && !user.groups.iter().any(|g| self.user_groups.contains(g))
        {
            return false;
        }
        match &request.object {
            Some(object) => {
                if !self.non_resource_urls.is_empty() {
                    return false;
                }
                if !self.namespaces.is_empty() && !self.namespaces.contains(&object.namespace) {
                    return false;
                }
                self.resources.is_empty() || self.resources.iter().any(|gr| gr.matches(object))
            }
            None => {
                if !self.resources.is_empty() || !self.namespaces.is_empty() {
                    return false;
                }
                self.non_resource_urls.is_empty()
                    || self
                        .non_resource_urls
                        .iter()
                        .any(|url| url_matches(url, &request.path))
            }
        }
    }
}

impl GroupResources {
    fn matches(&self, object: &super::request::ObjectRef) -> bool {
        if self.group != object.api_group {
            return false;
        }
        let combined = match &object.subresource {
            Some(sub) => format!("{}/{sub}", object.resource),
            None => object.resource.clone(),
        };
        let resource_matches = self.resources.is_empty()
            || self.resources.iter().any(|r| {
                r == &combined
                    || r == "*"
                    || r.strip_prefix("*/")
                        .is_some_and(|sub| object.subresource.as_deref() == Some(sub))
                    || r.strip_suffix("/*")
                        .is_some_and(|res| res == object.resource)
            });
        resource_matches
            && (self.resource_names.is_empty()
                || object
                    .name
                    .as_ref()
                    .is_some_and(|name| self.resource_names.contains(name)))
    }
}

/// `/healthz*` matches what starts with `/healthz`; otherwise exactly.
fn url_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::request;

    const POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: RequestResponse
  users: [alice]
  resources:
  - group: ''
    resources: [pods/log]
- level: Request
  userGroups: [admins]
  verbs: [patch]
- level: None
  resources:
  - group: apps
    resources: ['*/scale']
- level: Metadata
  resources:
  - group: ''
    resources: [configmaps]
    resourceNames: [controller-leader]
  omitStages: [ResponseStarted]
- level: None
  resources:
  - group: ''
    resources: [configmaps]
- level: Request
  nonResourceURLs: ['/apis*']
- level: Metadata
  namespaces: [kube-system]
";

    fn user(name: &str, groups: &[&str]) -> AuditUser {
        AuditUser {
            name: name.into(),
            uid: String::new(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let policy = Policy::parse(POLICY).expect("valid");
        let cases = [
            (
                "alice",
                &[][..],
                "GET",
                "/api/v1/namespaces/a/pods/p/log",
                Level::RequestResponse,
            ),
            (
                "bob",
                &[][..],
                "GET",
                "/api/v1/namespaces/a/pods/p/log",
                Level::None,
            ),
            (
                "bob",
                &["admins"][..],
                "PATCH",
                "/api/v1/namespaces/a/pods/p",
                Level::Request,
            ),
            (
                "bob",
                &["admins"][..],
                "PUT",
                "/apis/apps/v1/namespaces/a/deployments/d/scale",
                Level::None,
            ),
            (
                "bob",
                &[][..],
                "GET",
                "/api/v1/namespaces/a/configmaps/controller-leader",
                Level::Metadata,
            ),
            (
                "bob",
                &[][..],
                "GET",
                "/api/v1/namespaces/a/configmaps/other",
                Level::None,
            ),
            ("bob", &[][..], "GET", "/apis/apps/v1", Level::Request),
            (
                "bob",
                &[][..],
                "GET",
                "/api/v1/namespaces/kube-system/pods",
                Level::Metadata,
            ),
            (
                "bob",
                &[][..],
                "GET",
                "/api/v1/namespaces/default/pods",
                Level::None,
            ),
            ("bob", &[][..], "GET", "/healthz", Level::None),
        ];
        for (name, groups, method, path, level) in cases {
            let decision = policy.decide(&user(name, groups), &request::parse(method, path, None));
            assert_eq!(decision.level, level, "{name} {method} {path}");
        }
        let leader = request::parse(
            "GET",
            "/api/v1/namespaces/a/configmaps/controller-leader",
            None,
        );
        let decision = policy.decide(&user("bob", &[]), &leader);
        assert!(!decision.logs(Stage::RequestReceived) && !decision.logs(Stage::ResponseStarted));
        assert!(decision.logs(Stage::ResponseComplete));
    }
}
