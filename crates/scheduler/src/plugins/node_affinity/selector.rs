//! Node selectors parsed once per cycle (upstream's `nodeaffinity`
//! helpers of `component-helpers`): a pod's `nodeSelector` with its
//! required node affinity, preferred terms with their weights, and the
//! scheduler-enforced affinity of the plugin's arguments. Parsing checks
//! each requirement as upstream does (operators, value counts, integers
//! for `Gt`/`Lt`, label keys and values) and matching a node then reads
//! its labels in place, without copying them.

use std::collections::BTreeMap;

use keelson_api::field_error::{FieldError, aggregate};
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::api::core::v1::{
    Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm,
};
use keelson_api::validation::{is_qualified_name, is_valid_label_value};

/// The field a node selector term's `matchFields` may name.
pub const OBJECT_NAME_FIELD: &str = "metadata.name";

const LABEL_OPERATORS: [&str; 6] = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const FIELD_OPERATORS: [&str; 2] = ["In", "NotIn"];

/// One parsed requirement on a node's labels.
#[derive(Debug, Clone)]
enum LabelRequirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    Gt(String, i64),
    Lt(String, i64),
}

impl LabelRequirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let number = |key: &str| labels.get(key).and_then(|v| v.parse::<i64>().ok());
        match self {
            LabelRequirement::In(key, values) => {
                labels.get(key).is_some_and(|v| values.contains(v))
            }
            LabelRequirement::NotIn(key, values) => {
                !labels.get(key).is_some_and(|v| values.contains(v))
            }
            LabelRequirement::Exists(key) => labels.contains_key(key),
            LabelRequirement::DoesNotExist(key) => !labels.contains_key(key),
            LabelRequirement::Gt(key, bound) => number(key).is_some_and(|n| n > *bound),
            LabelRequirement::Lt(key, bound) => number(key).is_some_and(|n| n < *bound),
        }
    }
}

/// One parsed requirement on a node's fields (`metadata.name`).
#[derive(Debug, Clone)]
struct FieldRequirement {
    key: String,
    value: String,
    equal: bool,
}

/// A node selector term: its requirements, ANDed.
#[derive(Debug, Clone, Default)]
pub struct Term {
    labels: Vec<LabelRequirement>,
    fields: Vec<FieldRequirement>,
}

impl Term {
    /// Parses `term` (found at `path`, for the messages); every invalid
    /// requirement is reported.
    pub fn parse(term: &NodeSelectorTerm, path: &FieldPath) -> Result<Term, Vec<FieldError>> {
        let mut errors = Vec::new();
        let expressions = term.match_expressions.as_deref().unwrap_or_default();
        let labels = parse_all(
            expressions,
            &path.child("matchExpressions"),
            &mut errors,
            label,
        );
        let fields = term.match_fields.as_deref().unwrap_or_default();
        let fields = parse_all(fields, &path.child("matchFields"), &mut errors, field);
        if errors.is_empty() {
            Ok(Term { labels, fields })
        } else {
            Err(errors)
        }
    }

    /// Whether `node` meets every requirement.
    pub fn matches(&self, node: &Node) -> bool {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        let labels = node.metadata.labels.as_ref().unwrap_or(&NONE);
        if !self.labels.iter().all(|r| r.matches(labels)) {
            return false;
        }
        // Upstream checks fields only of a node that has a name.
        let name = node.metadata.name.as_deref().unwrap_or_default();
        name.is_empty()
            || self.fields.iter().all(|r| {
                let value = if r.key == OBJECT_NAME_FIELD { name } else { "" };
                (value == r.value) == r.equal
            })
    }
}

fn is_empty_term(term: &NodeSelectorTerm) -> bool {
    term.match_expressions
        .as_deref()
        .unwrap_or_default()
        .is_empty()
        && term.match_fields.as_deref().unwrap_or_default().is_empty()
}

fn parse_all<T>(
    requirements: &[NodeSelectorRequirement],
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
    parse: fn(&NodeSelectorRequirement, &FieldPath) -> Result<T, Vec<FieldError>>,
) -> Vec<T> {
    let mut parsed = Vec::with_capacity(requirements.len());
    for (i, requirement) in requirements.iter().enumerate() {
        match parse(requirement, &path.index(i)) {
            Ok(one) => parsed.push(one),
            Err(mut more) => errors.append(&mut more),
        }
    }
    parsed
}

/// A `matchExpressions` requirement, checked as upstream's
/// `labels.NewRequirement`.
fn label(
    r: &NodeSelectorRequirement,
    path: &FieldPath,
) -> Result<LabelRequirement, Vec<FieldError>> {
    let values = r.values.clone().unwrap_or_default();
    let values_path = path.child("values");
    let mut errors = Vec::new();
    let invalid = |detail: &str| FieldError::invalid(&values_path, values.clone(), detail);
    let key = r.key.clone();
    let parsed = match r.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => {
            errors.push(invalid(
                "for 'in', 'notin' operators, values set can't be empty",
            ));
            None
        }
        "In" => Some(LabelRequirement::In(key, values.clone())),
        "NotIn" => Some(LabelRequirement::NotIn(key, values.clone())),
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            errors.push(invalid(
                "values set must be empty for exists and does not exist",
            ));
            None
        }
        "Exists" => Some(LabelRequirement::Exists(key)),
        "DoesNotExist" => Some(LabelRequirement::DoesNotExist(key)),
        "Gt" | "Lt" => compare(r, &values, &values_path, &mut errors),
        other => {
            let path = path.child("operator");
            return Err(vec![FieldError::not_supported(
                &path,
                other,
                &LABEL_OPERATORS,
            )]);
        }
    };
    let key_messages = is_qualified_name(&r.key);
    if !key_messages.is_empty() {
        let detail = key_messages.join("; ");
        errors.push(FieldError::invalid(
            &path.child("key"),
            r.key.as_str(),
            detail,
        ));
    }
    for (i, value) in values.iter().enumerate() {
        let messages = is_valid_label_value(value);
        if !messages.is_empty() {
            let path = values_path.index(i);
            errors.push(FieldError::invalid(
                &path,
                value.as_str(),
                messages.join("; "),
            ));
        }
    }
    match parsed {
        Some(parsed) if errors.is_empty() => Ok(parsed),
        _ => Err(errors),
    }
}

fn compare(
    r: &NodeSelectorRequirement,
    values: &[String],
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> Option<LabelRequirement> {
    let [bound] = values else {
        let detail = "for 'Gt', 'Lt' operators, exactly one value is required";
        errors.push(FieldError::invalid(path, values.to_vec(), detail));
        return None;
    };
    let Ok(bound) = bound.parse::<i64>() else {
        let detail = "for 'Gt', 'Lt' operators, the value must be an integer";
        errors.push(FieldError::invalid(&path.index(0), bound.as_str(), detail));
        return None;
    };
    let key = r.key.clone();
    Some(match r.operator.as_str() {
        "Gt" => LabelRequirement::Gt(key, bound),
        _ => LabelRequirement::Lt(key, bound),
    })
}

/// A `matchFields` requirement: `In` or `NotIn` with exactly one value.
fn field(
    r: &NodeSelectorRequirement,
    path: &FieldPath,
) -> Result<FieldRequirement, Vec<FieldError>> {
    let equal = match r.operator.as_str() {
        "In" => true,
        "NotIn" => false,
        other => {
            let path = path.child("operator");
            return Err(vec![FieldError::not_supported(
                &path,
                other,
                &FIELD_OPERATORS,
            )]);
        }
    };
    match r.values.as_deref().unwrap_or_default() {
        [value] => Ok(FieldRequirement {
            key: r.key.clone(),
            value: value.clone(),
            equal,
        }),
        values => {
            let path = path.child("values");
            Err(vec![FieldError::invalid(
                &path,
                values.to_vec(),
                "must have one element",
            )])
        }
    }
}

/// A node selector whose terms are ORed. An invalid term matches nothing,
/// and its error is told only when no term matches (upstream's
/// `LazyErrorNodeSelector`, kept for pods admitted before validation
/// caught such terms).
#[derive(Debug, Clone, Default)]
pub struct Selector {
    terms: Vec<Term>,
    errors: Vec<FieldError>,
}

impl Selector {
    /// Parses `selector`, keeping the errors of invalid terms. Empty
    /// terms are dropped: they match nothing.
    pub fn lazy(selector: &NodeSelector, path: &FieldPath) -> Selector {
        let mut parsed = Selector::default();
        let path = path.child("nodeSelectorTerms");
        for (i, term) in selector.node_selector_terms.iter().enumerate() {
            if is_empty_term(term) {
                continue;
            }
            match Term::parse(term, &path.index(i)) {
                Ok(term) => parsed.terms.push(term),
                Err(mut errors) => parsed.errors.append(&mut errors),
            }
        }
        parsed
    }

    /// Parses `selector`, failing on any invalid term (for configuration).
    pub fn strict(selector: &NodeSelector, path: &FieldPath) -> Result<Selector, Vec<FieldError>> {
        let parsed = Selector::lazy(selector, path);
        match parsed.errors.is_empty() {
            true => Ok(parsed),
            false => Err(parsed.errors),
        }
    }

    /// Whether a term matches `node`; when none does, the parse errors (if
    /// any) as the error.
    pub fn matches(&self, node: &Node) -> Result<bool, String> {
        if self.terms.iter().any(|t| t.matches(node)) {
            return Ok(true);
        }
        match self.errors.is_empty() {
            true => Ok(false),
            false => Err(aggregate(&self.errors)),
        }
    }
}

/// Preferred terms with their weights (upstream's
/// `PreferredSchedulingTerms`); terms of weight 0 and empty terms are
/// left out.
#[derive(Debug, Clone, Default)]
pub struct PreferredTerms {
    terms: Vec<(i64, Term)>,
}

impl PreferredTerms {
    /// Parses `terms`; any invalid term is an error.
    pub fn parse(
        terms: &[PreferredSchedulingTerm],
        path: &FieldPath,
    ) -> Result<Self, Vec<FieldError>> {
        let mut parsed = PreferredTerms::default();
        let mut errors = Vec::new();
        for (i, term) in terms.iter().enumerate() {
            if term.weight == 0 || is_empty_term(&term.preference) {
                continue;
            }
            match Term::parse(&term.preference, &path.index(i)) {
                Ok(one) => parsed.terms.push((i64::from(term.weight), one)),
                Err(mut more) => errors.append(&mut more),
            }
        }
        match errors.is_empty() {
            true => Ok(parsed),
            false => Err(errors),
        }
    }

    /// The sum of the weights of the terms `node` matches.
    pub fn score(&self, node: &Node) -> i64 {
        let matched = self.terms.iter().filter(|(_, term)| term.matches(node));
        matched.map(|(weight, _)| weight).sum()
    }
}

/// What a pod requires of its node: its `nodeSelector` and its required
/// node affinity (upstream's `RequiredNodeAffinity`).
#[derive(Debug, Clone, Default)]
pub struct RequiredNodeAffinity {
    node_selector: Vec<(String, String)>,
    affinity: Option<Selector>,
}

impl RequiredNodeAffinity {
    /// Parses what `pod` requires.
    pub fn of(pod: &Pod) -> RequiredNodeAffinity {
        let spec = pod.spec.as_ref();
        let node_selector = spec
            .and_then(|s| s.node_selector.as_ref())
            .map(|labels| labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let affinity = required_terms(pod).map(|s| Selector::lazy(s, &FieldPath::root()));
        RequiredNodeAffinity {
            node_selector,
            affinity,
        }
    }

    /// Whether `node` has every label of the `nodeSelector` and matches
    /// the required affinity; an error when only invalid terms could have.
    pub fn matches(&self, node: &Node) -> Result<bool, String> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        let labels = node.metadata.labels.as_ref().unwrap_or(&NONE);
        let selected = self
            .node_selector
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value));
        if !selected {
            return Ok(false);
        }
        self.affinity.as_ref().map_or(Ok(true), |a| a.matches(node))
    }
}

/// The pod's `requiredDuringSchedulingIgnoredDuringExecution` node
/// affinity, if it has one.
pub fn required_terms(pod: &Pod) -> Option<&NodeSelector> {
    let affinity = pod
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?;
    affinity
        .required_during_scheduling_ignored_during_execution
        .as_ref()
}

/// The pod's preferred node affinity terms, if the field is set.
pub fn preferred_terms(pod: &Pod) -> Option<&[PreferredSchedulingTerm]> {
    let affinity = pod
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?;
    affinity
        .preferred_during_scheduling_ignored_during_execution
        .as_deref()
}
