//! Label selectors: the query-string grammar of `?labelSelector=` and
//! `kubectl -l` (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
//! `a>1`, `a<1`, comma for AND), the `LabelSelector` of workload specs, and
//! matching against an object's labels.
//!
//! Parsing and its error messages follow Kubernetes' label selector parser;
//! a selector prints back in canonical form (requirements sorted by key,
//! set values sorted).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::field_error::{FieldError, aggregate};
use crate::field_path::FieldPath;
use crate::validation::{is_qualified_name, is_valid_label_value};

/// The ways a requirement can compare a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `key=value`.
    Equals,
    /// `key==value` (same meaning as `=`).
    DoubleEquals,
    /// `key!=value`: also true when the label is absent.
    NotEquals,
    /// `key in (a,b)`.
    In,
    /// `key notin (a,b)`: also true when the label is absent.
    NotIn,
    /// `key`: the label is present.
    Exists,
    /// `!key`: the label is absent.
    DoesNotExist,
    /// `key>N`: the label is an integer greater than N.
    GreaterThan,
    /// `key<N`: the label is an integer less than N.
    LessThan,
}

/// Why a selector could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The text does not follow the grammar; the message says what was found
    /// and what was expected.
    #[error("{0}")]
    Syntax(String),
    /// A requirement is malformed (bad key or value, wrong number of values).
    #[error("{}", aggregate(.0))]
    Invalid(Vec<FieldError>),
    /// A `LabelSelector` expression has an operator other than `In`, `NotIn`,
    /// `Exists` or `DoesNotExist`.
    #[error("{0:?} is not a valid label selector operator")]
    UnknownOperator(String),
}

/// One condition on one label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// A checked requirement: the key must be a qualified name, the values
    /// valid label values, and their number must suit the operator.
    pub fn new(key: &str, operator: Operator, values: Vec<String>) -> Result<Self, Error> {
        let mut errors = Vec::new();
        if let Some(error) = check_key(key, &FieldPath::new("key")) {
            errors.push(error);
        }
        let values_path = FieldPath::new("values");
        check_value_count(operator, &values, &values_path, &mut errors);
        for (i, value) in values.iter().enumerate() {
            let messages = is_valid_label_value(value);
            if !messages.is_empty() {
                let path = values_path.index(i).key(key);
                errors.push(FieldError::invalid(
                    &path,
                    value.as_str(),
                    messages.join("; "),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(dedup(errors)));
        }
        Ok(Self {
            key: key.to_string(),
            operator,
            values,
        })
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, in the order given.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether `labels` satisfy this requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let label = labels.get(&self.key);
        let listed = |v: &String| self.values.contains(v);
        match self.operator {
            Operator::Equals | Operator::DoubleEquals | Operator::In => label.is_some_and(listed),
            Operator::NotEquals | Operator::NotIn => !label.is_some_and(listed),
            Operator::Exists => label.is_some(),
            Operator::DoesNotExist => label.is_none(),
            Operator::GreaterThan | Operator::LessThan => self.compares(label),
        }
    }

    fn compares(&self, label: Option<&String>) -> bool {
        let Some(actual) = label.and_then(|v| v.parse::<i64>().ok()) else {
            return false;
        };
        let [bound] = self.values.as_slice() else {
            return false;
        };
        let Ok(bound) = bound.parse::<i64>() else {
            return false;
        };
        match self.operator {
            Operator::GreaterThan => actual > bound,
            _ => actual < bound,
        }
    }
}

fn check_key(key: &str, path: &FieldPath) -> Option<FieldError> {
    let messages = is_qualified_name(key);
    (!messages.is_empty()).then(|| FieldError::invalid(path, key, messages.join("; ")))
}

fn check_value_count(
    operator: Operator,
    values: &[String],
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let invalid = |detail: &str| FieldError::invalid(path, values.to_vec(), detail);
    match operator {
        Operator::In | Operator::NotIn if values.is_empty() => errors.push(invalid(
            "for 'in', 'notin' operators, values set can't be empty",
        )),
        Operator::Equals | Operator::DoubleEquals | Operator::NotEquals if values.len() != 1 => {
            errors.push(invalid(
                "exact-match compatibility requires one single value",
            ))
        }
        Operator::Exists | Operator::DoesNotExist if !values.is_empty() => errors.push(invalid(
            "values set must be empty for exists and does not exist",
        )),
        Operator::GreaterThan | Operator::LessThan => {
            if values.len() != 1 {
                errors.push(invalid(
                    "for 'Gt', 'Lt' operators, exactly one value is required",
                ));
            }
            for (i, value) in values.iter().enumerate() {
                if value.parse::<i64>().is_err() {
                    errors.push(FieldError::invalid(
                        &path.index(i),
                        value.as_str(),
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    ));
                }
            }
        }
        _ => {}
    }
}

fn dedup(errors: Vec<FieldError>) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = Vec::new();
    for error in errors {
        if !out.iter().any(|e| e.to_string() == error.to_string()) {
            out.push(error);
        }
    }
    out
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
        };
        let mut values = self.values.clone();
        values.sort();
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            write!(f, "{op}({})", values.join(","))
        } else {
            write!(f, "{op}{}", values.join(","))
        }
    }
}

/// A label selector: all requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// The selector that matches every object.
    pub fn everything() -> Self {
        Self::default()
    }

    /// The selector that matches no object (what an absent `LabelSelector`
    /// means in a workload spec).
    pub fn nothing() -> Self {
        Self {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// A selector of the given requirements, kept sorted by key.
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Self {
            requirements,
            nothing: false,
        }
    }

    /// Parses the query-string form (`app=web,tier in (a,b),!canary`).
    /// The empty string selects everything.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let tokens = crate::label_selector_parse::lex(text);
        let requirements = crate::label_selector_parse::Parser::new(tokens).parse()?;
        Ok(Self::from_requirements(requirements))
    }

    /// Converts a `LabelSelector` of a workload spec: `matchLabels` become
    /// equality requirements, `matchExpressions` keep their operator. An
    /// empty selector matches everything.
    pub fn from_label_selector(selector: &LabelSelector) -> Result<Self, Error> {
        let labels = selector.match_labels.iter().flatten();
        let expressions = selector.match_expressions.iter().flatten();
        let mut requirements = Vec::new();
        for (key, value) in labels {
            requirements.push(Requirement::new(
                key,
                Operator::Equals,
                vec![value.clone()],
            )?);
        }
        for expression in expressions {
            let operator = match expression.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => return Err(Error::UnknownOperator(other.to_string())),
            };
            let values = expression.values.clone().unwrap_or_default();
            requirements.push(Requirement::new(&expression.key, operator, values)?);
        }
        Ok(Self::from_requirements(requirements))
    }

    /// Like [`Selector::from_label_selector`], with `None` matching nothing.
    pub fn from_optional_label_selector(selector: Option<&LabelSelector>) -> Result<Self, Error> {
        selector.map_or_else(|| Ok(Self::nothing()), Self::from_label_selector)
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether the selector puts no condition (matches everything).
    pub fn is_everything(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// Whether an object with `labels` is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// The value a label must have when the selector pins it with `=`,
    /// `==` or a one-value `in` (useful for indexes).
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find_map(|r| match (r.operator, r.values.as_slice()) {
                (Operator::Equals | Operator::DoubleEquals | Operator::In, [value])
                    if r.key == key =>
                {
                    Some(value.as_str())
                }
                _ => None,
            })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.requirements.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl std::str::FromStr for Selector {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The key check used while parsing: reported without a field path, as
/// Kubernetes does (`<nil>: Invalid value: ...`).
pub(crate) fn check_parsed_key(key: &str) -> Result<(), Error> {
    let messages = is_qualified_name(key);
    if messages.is_empty() {
        return Ok(());
    }
    let mut error = FieldError::invalid(&FieldPath::root(), key, messages.join("; "));
    error.path = "<nil>".to_string();
    Err(Error::Invalid(vec![error]))
}

/// Sorted, deduplicated values of a set (`in (b,a,a)` keeps `a`, `b`).
pub(crate) fn sorted_set(values: BTreeSet<String>) -> Vec<String> {
    values.into_iter().collect()
}
