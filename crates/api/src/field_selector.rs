//! Field selectors (`?fieldSelector=`, `kubectl --field-selector`):
//! `field=value`, `field==value`, `field!=value`, joined by commas, with
//! `\,` `\=` `\\` escapes in values; the fields each kind lets clients
//! select on; and matching against an object in its JSON form.
//!
//! The supported fields, the values they read (a missing string is `""`, a
//! missing boolean `false`, a missing count `0`) and the rejection messages
//! are those of a Kubernetes v1.33 API server.

use std::fmt;

use serde_json::Value;

pub use crate::selectable_fields::{
    Field, METADATA_ONLY, NAME, NAMESPACE, Reader, SelectableFields, text,
};

/// Why a field selector was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A term has no operator.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    Syntax {
        /// The whole selector.
        selector: String,
        /// The term that has no `=`, `==` or `!=`.
        term: String,
    },
    /// A backslash followed by something other than `\`, `,` or `=`.
    #[error("invalid field selector: invalid escape sequence: {0}")]
    InvalidEscape(String),
    /// A `,` or `=` inside a value without a backslash (reported with the
    /// character's code, as Kubernetes does).
    #[error("invalid field selector: unescaped character in value: {}", u32::from(*.0))]
    UnescapedCharacter(char),
    /// The kind does not support selecting on the field.
    #[error("{0}")]
    UnsupportedField(String),
}

/// The comparison of one term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `=` or `==`.
    Equals,
    /// `!=`.
    NotEquals,
}

/// One term: a field, an operator and a value (unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The field path (`spec.nodeName`).
    pub field: String,
    /// The comparison.
    pub operator: Operator,
    /// The value to compare with.
    pub value: String,
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::NotEquals => "!=",
        };
        write!(f, "{}{op}{}", self.field, escape_value(&self.value))
    }
}

/// A field selector: all terms must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// `value` with `\`, `,` and `=` escaped by a backslash.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The value of an escaped selector value.
pub fn unescape_value(value: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next @ ('\\' | ',' | '=')) => out.push(next),
                Some(next) => return Err(Error::InvalidEscape(format!("\\{next}"))),
                None => return Err(Error::InvalidEscape("\\".to_string())),
            },
            ',' | '=' => return Err(Error::UnescapedCharacter(c)),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Splits at commas that are not escaped.
fn split_terms(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in selector.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// The first operator in `term`, trying `!=`, `==`, `=` at each position.
fn split_term(term: &str) -> Option<(&str, Operator, &str)> {
    let operators = [
        ("!=", Operator::NotEquals),
        ("==", Operator::Equals),
        ("=", Operator::Equals),
    ];
    term.char_indices().find_map(|(i, _)| {
        let rest = &term[i..];
        operators.iter().find_map(|(text, op)| {
            rest.starts_with(text)
                .then(|| (&term[..i], *op, &rest[text.len()..]))
        })
    })
}

impl Selector {
    /// The selector without terms: it matches every object.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses `field=value,field!=value`; the empty string selects everything.
    pub fn parse(selector: &str) -> Result<Self, Error> {
        let mut terms = if selector.is_empty() {
            Vec::new()
        } else {
            split_terms(selector)
        };
        terms.sort_unstable();
        let mut requirements = Vec::new();
        for term in terms.into_iter().filter(|t| !t.is_empty()) {
            let (field, operator, value) = split_term(term).ok_or_else(|| Error::Syntax {
                selector: selector.to_string(),
                term: term.to_string(),
            })?;
            requirements.push(Requirement {
                field: field.to_string(),
                operator,
                value: unescape_value(value)?,
            });
        }
        Ok(Self { requirements })
    }

    /// The terms, in canonical order.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether the selector has no term.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The value a field must equal, when a term pins it with `=`.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.operator == Operator::Equals)
            .map(|r| r.value.as_str())
    }

    /// Checks that every field is selectable on objects of `kind` in `group`
    /// and returns the selector with legacy field names replaced
    /// (`spec.host` becomes `spec.nodeName` for pods).
    pub fn for_kind(&self, group: &str, kind: &str) -> Result<Self, Error> {
        self.for_fields(fields_of(group, kind))
    }

    /// [`Selector::for_kind`] for a kind's selectable `fields`.
    pub fn for_fields(&self, fields: &SelectableFields) -> Result<Self, Error> {
        let mut requirements = Vec::with_capacity(self.requirements.len());
        for requirement in &self.requirements {
            let field = fields.accept(&requirement.field)?;
            requirements.push(Requirement {
                field: field.to_string(),
                ..requirement.clone()
            });
        }
        Ok(Self { requirements })
    }

    /// Whether `object` (a `kind` in `group`, as JSON) satisfies every term.
    /// Fields the kind does not support never match.
    pub fn matches(&self, group: &str, kind: &str, object: &Value) -> bool {
        self.matches_fields(fields_of(group, kind), object)
    }

    /// [`Selector::matches`] for a kind's selectable `fields`.
    pub fn matches_fields(&self, fields: &SelectableFields, object: &Value) -> bool {
        self.requirements.iter().all(|requirement| {
            match value_of(fields, &requirement.field, object) {
                Some(actual) => match requirement.operator {
                    Operator::Equals => actual == requirement.value,
                    Operator::NotEquals => actual != requirement.value,
                },
                None => false,
            }
        })
    }
}

/// The selectable fields of `kind` in `group`, from its strategy; name and
/// namespace for kinds the registry does not know.
fn fields_of(group: &str, kind: &str) -> &'static SelectableFields {
    crate::registry::all()
        .iter()
        .find(|r| r.group == group && r.kind == kind)
        .map_or(&METADATA_ONLY, |r| r.strategy.selectable_fields())
}

/// The value a field selector compares for `field` of `object` (a `kind` in
/// `group`, as JSON), or `None` when the kind does not support the field.
pub fn field_value(group: &str, kind: &str, field: &str, object: &Value) -> Option<String> {
    value_of(fields_of(group, kind), field, object)
}

fn value_of(fields: &SelectableFields, field: &str, object: &Value) -> Option<String> {
    let field = fields.accept(field).ok()?;
    Some(fields.read(field, object))
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
