//! One RBAC rule and the two questions asked of rules: does a rule allow a
//! request (upstream's `RuleAllows`), and do a user's rules cover every
//! permission of other rules (upstream's `Covers`, for escalation checks).

use serde::Deserialize;

use crate::auth::request_info::Attributes;

/// Anything: a verb, group, resource or URL of `*`.
const ALL: &str = "*";

/// A policy rule, as a Role's `rules[]` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    #[serde(rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
}

fn has(list: &[String], item: &str) -> bool {
    list.iter().any(|x| x == ALL || x == item)
}

impl Rule {
    /// Whether this rule allows `request`.
    pub fn allows(&self, request: &Attributes) -> bool {
        if !has(&self.verbs, &request.verb) {
            return false;
        }
        if !request.resource_request {
            return self.url_matches(&request.path);
        }
        has(&self.api_groups, &request.api_group)
            && self.resource_matches(&request.resource, &request.subresource)
            && (self.resource_names.is_empty() || self.resource_names.contains(&request.name))
    }

    /// Whether the rule names `resource/subresource` (or `resource` when
    /// there is no subresource), all resources, or `*/subresource`.
    fn resource_matches(&self, resource: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            if r == ALL {
                return true;
            }
            if subresource.is_empty() {
                return r == resource;
            }
            let (head, sub) = r.split_once('/').unwrap_or((r, ""));
            sub == subresource && (head == resource || head == ALL)
        })
    }

    fn url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|url| {
            url == ALL
                || url == path
                || url
                    .strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        })
    }

    /// Whether this rule holds every permission of `other`, one rule
    /// with a single verb, group, resource (or URL) and name at most.
    fn covers_atom(&self, other: &Rule) -> bool {
        let verbs = other.verbs.iter().all(|v| has(&self.verbs, v));
        if !other.non_resource_urls.is_empty() {
            return verbs
                && other.non_resource_urls.iter().all(|u| {
                    self.non_resource_urls.iter().any(|own| {
                        own == ALL
                            || own == u
                            || own
                                .strip_suffix('*')
                                .is_some_and(|prefix| u.starts_with(prefix))
                    })
                });
        }
        let groups = other.api_groups.iter().all(|g| has(&self.api_groups, g));
        let resources = other.resources.iter().all(|r| {
            self.resources.iter().any(|own| {
                own == ALL
                    || own == r
                    || (own.starts_with("*/")
                        && r.split_once('/').is_some_and(|(_, sub)| own[2..] == *sub))
            })
        });
        let names = match other.resource_names.is_empty() {
            true => self.resource_names.is_empty(),
            false => {
                self.resource_names.is_empty()
                    || other
                        .resource_names
                        .iter()
                        .all(|n| self.resource_names.contains(n))
            }
        };
        verbs && groups && resources && names
    }

    /// The rule split into rules of one verb, group, resource (or URL) and
    /// name each.
    fn atoms(&self) -> Vec<Rule> {
        let mut atoms = Vec::new();
        for verb in &self.verbs {
            for url in &self.non_resource_urls {
                atoms.push(Rule {
                    verbs: vec![verb.clone()],
                    non_resource_urls: vec![url.clone()],
                    ..Rule::default()
                });
            }
            for group in &self.api_groups {
                for resource in &self.resources {
                    let one = |names: Vec<String>| Rule {
                        verbs: vec![verb.clone()],
                        api_groups: vec![group.clone()],
                        resources: vec![resource.clone()],
                        resource_names: names,
                        ..Rule::default()
                    };
                    match self.resource_names.is_empty() {
                        true => atoms.push(one(Vec::new())),
                        false => {
                            atoms.extend(self.resource_names.iter().map(|n| one(vec![n.clone()])))
                        }
                    }
                }
            }
        }
        atoms
    }
}

/// Whether `owner`'s rules hold every permission `wanted` grants; the
/// permissions they lack otherwise, one rule each.
pub fn covers(owner: &[Rule], wanted: &[Rule]) -> Result<(), Vec<Rule>> {
    let missing: Vec<Rule> = wanted
        .iter()
        .flat_map(Rule::atoms)
        .filter(|atom| !owner.iter().any(|own| own.covers_atom(atom)))
        .collect();
    match missing.is_empty() {
        true => Ok(()),
        false => Err(missing),
    }
}

/// A rule as upstream prints the permissions it lacks:
/// `{APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]}`.
pub fn describe(rule: &Rule) -> String {
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", quoted.join(" "))
    };
    let mut parts = Vec::new();
    if !rule.api_groups.is_empty() {
        parts.push(format!("APIGroups:{}", list(&rule.api_groups)));
    }
    if !rule.resources.is_empty() {
        parts.push(format!("Resources:{}", list(&rule.resources)));
    }
    if !rule.resource_names.is_empty() {
        parts.push(format!("ResourceNames:{}", list(&rule.resource_names)));
    }
    if !rule.non_resource_urls.is_empty() {
        parts.push(format!("NonResourceURLs:{}", list(&rule.non_resource_urls)));
    }
    parts.push(format!("Verbs:{}", list(&rule.verbs)));
    format!("{{{}}}", parts.join(", "))
}
