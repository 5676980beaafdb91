//! The RBAC policy of a cluster at one moment: its Roles, ClusterRoles and
//! bindings, read into rules by role and bindings by namespace, each
//! namespace's indexed by the subjects they name, so that deciding a
//! request is a walk over the bindings that name its user (its name, or
//! one of its groups), not over all of them.
//!
//! Aggregation: a ClusterRole with an `aggregationRule` holds, besides the
//! rules stored in it, the rules of every ClusterRole its selectors match
//! (and of those, transitively). Upstream's aggregation controller writes
//! those rules into the role; here they are also computed when the policy
//! is read, so that a new aggregated role takes effect at once, with or
//! without a controller.

use std::collections::{BTreeMap, HashMap, HashSet};

use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use keelson_api::label_selector::Selector;
use serde::Deserialize;
use serde_json::Value;

use super::rules::Rule;
use crate::auth::request_info::Attributes;
use crate::auth::user::{User, service_account_name, split_service_account};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Meta {
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct AggregationRule {
    cluster_role_selectors: Vec<LabelSelector>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RoleObject {
    metadata: Meta,
    rules: Vec<Rule>,
    aggregation_rule: Option<AggregationRule>,
}

/// What a binding grants: a Role of its namespace or a ClusterRole.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RoleRef {
    pub kind: String,
    pub name: String,
}

/// Whom a binding grants it to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Subject {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Binding {
    metadata: Meta,
    role_ref: RoleRef,
    subjects: Vec<Subject>,
}

/// The policy, ready to decide requests.
#[derive(Debug, Default)]
pub struct Policy {
    /// Each ClusterRole's rules, aggregated ones included.
    cluster_roles: HashMap<String, Vec<Rule>>,
    /// Each Role's rules, by namespace and name.
    roles: HashMap<(String, String), Vec<Rule>>,
    cluster_bindings: Bindings,
    /// RoleBindings by namespace.
    bindings: HashMap<String, Bindings>,
}

/// The bindings of one namespace (or the ClusterRoleBindings), in the
/// order they were read, with an index of them by the subjects they name.
#[derive(Debug, Default)]
struct Bindings {
    list: Vec<Binding>,
    /// The positions of the bindings with a `User` subject, or a
    /// `ServiceAccount` one, by the user name it names.
    by_name: HashMap<String, Vec<usize>>,
    /// The positions of the bindings with a `Group` subject, by group.
    by_group: HashMap<String, Vec<usize>>,
}

impl Bindings {
    /// `list`, indexed; `namespace` is theirs (empty for
    /// ClusterRoleBindings), which a ServiceAccount subject without one
    /// is in.
    fn new(list: Vec<Binding>, namespace: &str) -> Self {
        let mut bindings = Bindings {
            list,
            ..Bindings::default()
        };
        for (at, binding) in bindings.list.iter().enumerate() {
            for subject in &binding.subjects {
                let (index, key) = match subject.kind.as_str() {
                    "User" => (&mut bindings.by_name, subject.name.clone()),
                    "Group" => (&mut bindings.by_group, subject.name.clone()),
                    "ServiceAccount" => {
                        let sa_namespace = match subject.namespace.is_empty() {
                            true => namespace,
                            false => subject.namespace.as_str(),
                        };
                        if sa_namespace.is_empty() {
                            continue;
                        }
                        let name = service_account_name(sa_namespace, &subject.name);
                        (&mut bindings.by_name, name)
                    }
                    _ => continue,
                };
                let positions = index.entry(key).or_default();
                if positions.last() != Some(&at) {
                    positions.push(at);
                }
            }
        }
        bindings
    }

    /// The bindings that may name `user`, in their order: every binding
    /// with a subject that names the user is among them.
    fn of<'a>(&'a self, user: &User) -> impl Iterator<Item = &'a Binding> + 'a {
        let named = self.by_name.get(&user.name).into_iter();
        let grouped = user.groups.iter().filter_map(|g| self.by_group.get(g));
        let mut positions: Vec<usize> = named.chain(grouped).flatten().copied().collect();
        positions.sort_unstable();
        positions.dedup();
        positions.into_iter().map(|at| &self.list[at])
    }
}

/// The outcome of walking the rules for a request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Bindings of the user whose role could not be found, as upstream
    /// tells them in the reason of a denial.
    pub errors: Vec<String>,
    /// The reasons of the authorizers asked before RBAC (the Node
    /// authorizer's), which had no opinion.
    pub before: Vec<String>,
}

impl Decision {
    /// The reason of a denial: the earlier authorizers' reasons, then
    /// `RBAC: clusterrole... "x" not found`, one a line as upstream's
    /// union of authorizers joins them; or empty.
    pub fn reason(&self) -> String {
        let rbac = match self.errors.as_slice() {
            [] => String::new(),
            [one] => format!("RBAC: {one}"),
            many => format!("RBAC: [{}]", many.join(", ")),
        };
        let mut reasons: Vec<&str> = self.before.iter().map(String::as_str).collect();
        reasons.push(&rbac);
        reasons.retain(|reason| !reason.is_empty());
        reasons.join("\n")
    }
}

fn parse<T: for<'de> Deserialize<'de> + Default>(objects: &[Value]) -> Vec<T> {
    // An object that does not read as its kind grants nothing.
    objects
        .iter()
        .filter_map(|o| T::deserialize(o).ok())
        .collect()
}

impl Policy {
    /// The policy of these objects (as the API serves them).
    pub fn build(
        cluster_roles: &[Value],
        roles: &[Value],
        cluster_bindings: &[Value],
        bindings: &[Value],
    ) -> Self {
        let cluster_roles: Vec<RoleObject> = parse(cluster_roles);
        let mut policy = Policy {
            cluster_roles: aggregate(&cluster_roles),
            ..Policy::default()
        };
        for role in parse::<RoleObject>(roles) {
            let key = (role.metadata.namespace, role.metadata.name);
            policy.roles.insert(key, role.rules);
        }
        policy.cluster_bindings = Bindings::new(parse(cluster_bindings), "");
        let mut by_namespace: HashMap<String, Vec<Binding>> = HashMap::new();
        for binding in parse::<Binding>(bindings) {
            let namespace = binding.metadata.namespace.clone();
            by_namespace.entry(namespace).or_default().push(binding);
        }
        policy.bindings = by_namespace
            .into_iter()
            .map(|(namespace, list)| {
                let bindings = Bindings::new(list, &namespace);
                (namespace, bindings)
            })
            .collect();
        policy
    }

    /// The rules a binding in `namespace` (empty for a ClusterRoleBinding)
    /// refers to, or the error upstream gives when the role is missing.
    pub fn role_ref_rules(&self, role_ref: &RoleRef, namespace: &str) -> Result<&[Rule], String> {
        let rbac = "rbac.authorization.k8s.io";
        match role_ref.kind.as_str() {
            "Role" => self
                .roles
                .get(&(namespace.to_string(), role_ref.name.clone()))
                .map(Vec::as_slice)
                .ok_or_else(|| format!("role.{rbac} {:?} not found", role_ref.name)),
            "ClusterRole" => self
                .cluster_roles
                .get(&role_ref.name)
                .map(Vec::as_slice)
                .ok_or_else(|| format!("clusterrole.{rbac} {:?} not found", role_ref.name)),
            other => Err(format!("unsupported role reference kind: {other:?}")),
        }
    }

    /// Calls `visit` with each rule that applies to `user` in `namespace`
    /// (the cluster's bindings, then the namespace's), until it returns
    /// true; gathers the errors of bindings whose role is missing.
    fn visit(
        &self,
        user: &User,
        namespace: &str,
        mut visit: impl FnMut(&Rule) -> bool,
    ) -> Decision {
        let mut errors = Vec::new();
        let cluster = self.cluster_bindings.of(user).map(|b| (b, ""));
        let local = self
            .bindings
            .get(namespace)
            .filter(|_| !namespace.is_empty())
            .into_iter()
            .flat_map(|bindings| bindings.of(user))
            .map(|b| (b, namespace));
        for (binding, namespace) in cluster.chain(local) {
            if !binding.subjects.iter().any(|s| applies(s, user, namespace)) {
                continue;
            }
            match self.role_ref_rules(&binding.role_ref, namespace) {
                Ok(rules) => {
                    if rules.iter().any(&mut visit) {
                        return Decision {
                            allowed: true,
                            errors,
                            ..Decision::default()
                        };
                    }
                }
                Err(err) => errors.push(err),
            }
        }
        Decision {
            allowed: false,
            errors,
            ..Decision::default()
        }
    }

    /// Whether the policy allows `user` to do `request`.
    pub fn authorize(&self, user: &User, request: &Attributes) -> Decision {
        self.visit(user, &request.namespace, |rule| rule.allows(request))
    }

    /// Every rule that applies to `user` in `namespace`, and the errors of
    /// bindings whose role is missing.
    pub fn rules_for(&self, user: &User, namespace: &str) -> (Vec<Rule>, Vec<String>) {
        let mut rules = Vec::new();
        let decision = self.visit(user, namespace, |rule| {
            rules.push(rule.clone());
            false
        });
        (rules, decision.errors)
    }
}

/// Whether `subject` of a binding in `namespace` names `user`.
fn applies(subject: &Subject, user: &User, namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => subject.name == user.name,
        "Group" => user.in_group(&subject.name),
        "ServiceAccount" => {
            let sa_namespace = match subject.namespace.is_empty() {
                true => namespace,
                false => subject.namespace.as_str(),
            };
            !sa_namespace.is_empty()
                && split_service_account(&user.name) == Some((sa_namespace, subject.name.as_str()))
        }
        _ => false,
    }
}

/// Each ClusterRole's rules, with those its aggregation rule gathers.
fn aggregate(roles: &[RoleObject]) -> HashMap<String, Vec<Rule>> {
    let mut out = HashMap::new();
    for role in roles {
        let mut rules = Vec::new();
        let mut seen = HashSet::new();
        gather(role, roles, &mut seen, &mut rules);
        out.insert(role.metadata.name.clone(), rules);
    }
    out
}

fn gather<'a>(
    role: &'a RoleObject,
    roles: &'a [RoleObject],
    seen: &mut HashSet<&'a str>,
    rules: &mut Vec<Rule>,
) {
    if !seen.insert(role.metadata.name.as_str()) {
        return;
    }
    for rule in &role.rules {
        if !rules.contains(rule) {
            rules.push(rule.clone());
        }
    }
    let Some(aggregation) = &role.aggregation_rule else {
        return;
    };
    let selectors: Vec<Selector> = aggregation
        .cluster_role_selectors
        .iter()
        .filter_map(|s| Selector::from_label_selector(s).ok())
        .collect();
    let mut matched: Vec<&RoleObject> = roles
        .iter()
        .filter(|r| selectors.iter().any(|s| s.matches(&r.metadata.labels)))
        .collect();
    matched.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    for source in matched {
        gather(source, roles, seen, rules);
    }
}
