//! `x-kubernetes-validations`: the CEL rules of a schema, compiled when
//! the CRD is written ([`Rules::compile`]) and run on every write of a
//! custom resource ([`Rules::validate`]), with the crate `cel`.
//!
//! A rule sees its level of the object as `self` and, on an update, the
//! same level of the stored object as `oldSelf`; a rule that reads
//! `oldSelf` (a transition rule) runs only where the old object has a
//! value there (properties and map keys correlate, and items of
//! `x-kubernetes-list-type: map` lists by their keys; other list items do
//! not, so rules under them may not read `oldSelf`); with
//! `optionalOldSelf: true`, it runs on creates too, with `oldSelf` an
//! optional (`oldSelf.hasValue()`, `oldSelf.orValue(...)`). Rules do not
//! run on null values. A false rule gives its `messageExpression`, else its
//! `message`, else `failed rule: RULE`, at its level plus its `fieldPath`,
//! as the error its `reason` names (`FieldValueInvalid` by default).
//!
//! # Cost
//!
//! Upstream estimates every rule's cost statically when the CRD is written
//! (from `maxItems`, `maxLength`, `maxProperties`) and refuses rules above
//! 10,000,000 units, or a schema above 100,000,000 in all; then it counts
//! the actual cost while a rule runs and stops it past 1,000,000 units
//! (the per-call limit), and stops all the rules of an object once their
//! costs together pass 10,000,000 (the runtime budget). The crate has
//! neither an estimator nor a counter, and its evaluation cannot be
//! interrupted, so here:
//! - no static estimate is made when the CRD is written: a rule upstream
//!   would refuse as too expensive is accepted;
//! - before each evaluation, a bound is taken from the expression and the
//!   actual sizes of `self` and `oldSelf` (one unit per node of the
//!   expression, as cel-go charges about one unit per operation; a
//!   comprehension multiplies its body by the length of a literal list,
//!   or else by the largest list or map in the values; functions that read
//!   strings and lists cost a tenth of the longest, upstream's traversal
//!   factor). A rule whose bound passes the per-call limit is not run and
//!   fails with upstream's "call cost exceeds limit" error; the bounds
//!   (a `messageExpression`'s too) are charged against the runtime budget
//!   of the object, with upstream's "running out of cost budget" error
//!   once it is spent. The limits are upstream's numbers
//!   ([`PER_CALL_LIMIT`], [`RUNTIME_BUDGET`]).
//!
//! The bound does not know of short-circuits (`all` that stops at the
//! first false), so it is at or above the cost of what it models, and the
//! units are comparable to cel-go's, not equal: an evaluation never runs
//! far past the limit and never hangs, but a rule upstream would run on a
//! large value may be refused here, and the reverse near the limit.
//!
//! # What the environment lacks
//!
//! Kubernetes' CEL environment has libraries this crate does not:
//! `url(...)`/`getHost`/... (URL values), `ip(...)`/`cidr(...)` and their
//! methods (address values), `format.dns1123Label()`
//! and the other `format` validators, `semver`, the lists library's
//! `indexOf` and `lastIndexOf` on lists (the strings extension has them on
//! strings), two-variable comprehensions (`all(k, v, ...)`), `cel.bind`,
//! `math.*` and `authorizer`. A rule calling one of them does not
//! compile: the error names the function (`undeclared reference to
//! 'cel.bind'`), as cel-go's does for an unknown function; it never
//! panics. Kubernetes' `isSorted`, `sum`, `min`, `max` (lists), `find`,
//! `findAll` (regular expressions), `sets.contains`, `sets.equivalent`,
//! `sets.intersects`, quantities (`quantity`, `isQuantity`,
//! `isLessThan`, `isGreaterThan`, `compareTo`, `add`, `sub`,
//! `asInteger`, `isInteger`, `asApproximateFloat`, `sign`) and the checks
//! `isIP`, `isCIDR`, `isURL` are provided, beside the standard
//! library, optionals and the strings extension (`lowerAscii`,
//! `upperAscii`, `indexOf`, `split`, `replace`, `format`, ...).
//!
//! There is no type checker either: the fields a rule reads from `self`
//! and `oldSelf` (and through comprehensions over their lists) are checked
//! against the schema (`undefined field 'foo'`), but a rule comparing
//! values of different types fails when it runs (`no such overload`), not
//! when it compiles, and compilation errors carry no source excerpt.

use std::collections::BTreeMap;

use cel::Program;
use keelson_api::field_error::FieldError;
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::ValidationRule;
use serde_json::Value;

use super::{Node, Structural};

mod check;
mod convert;
mod field_path;
mod fields;
mod kubernetes;
mod library;

pub(crate) use field_path::field_path;

/// Upstream's limit on the cost of one evaluation of one rule.
pub const PER_CALL_LIMIT: u64 = 1_000_000;

/// Upstream's budget for all the rules of one object.
pub const RUNTIME_BUDGET: u64 = 10_000_000;

/// Upstream's limit on the length of an evaluated `messageExpression`.
const MAX_MESSAGE_BYTES: usize = 5 * 1024;

/// The compiled `x-kubernetes-validations` of a schema, level by level.
#[derive(Debug)]
pub struct Rules {
    root: Level,
}

/// One level of the schema that has rules at or below it.
#[derive(Debug, Default)]
struct Level {
    schema: Node,
    rules: Vec<Compiled>,
    properties: BTreeMap<String, Level>,
    items: Option<Box<Level>>,
    additional: Option<Box<Level>>,
}

#[derive(Debug)]
struct Compiled {
    rule: ValidationRule,
    program: Program,
    message_expression: Option<Program>,
    uses_old_self: bool,
    /// `fieldPath`, as a field path below the rule's level.
    field_path: Option<String>,
}

impl Rules {
    /// Compiles every rule of `schema`, whose path in the CRD is `path`:
    /// the errors are at `...x-kubernetes-validations[i].rule` (or
    /// `.messageExpression`) with upstream's `compilation failed: ERROR:
    /// <input>:1:6: ...` details.
    pub fn compile(schema: &Structural, path: &FieldPath) -> Result<Rules, Vec<FieldError>> {
        let mut errors = Vec::new();
        let root = compile_level(schema.root(), path, None, true, &mut errors).unwrap_or_default();
        if errors.is_empty() {
            check_defaults(Some(&root), schema.root(), path, &mut errors);
        }
        if errors.is_empty() {
            Ok(Rules { root })
        } else {
            Err(errors)
        }
    }

    /// Whether there is no rule at all.
    pub fn is_empty(&self) -> bool {
        self.root.rules.is_empty()
            && self.root.properties.is_empty()
            && self.root.items.is_none()
            && self.root.additional.is_none()
    }

    /// Runs the rules on `object`, a whole custom resource, and, on an
    /// update, `old`, the stored one; the errors are at paths under `path`.
    pub fn validate(
        &self,
        object: &Value,
        old: Option<&Value>,
        path: &FieldPath,
    ) -> Vec<FieldError> {
        let mut run = Run::new();
        run.level(&self.root, object, old, path, true);
        run.errors
    }
}

/// Compiles the rules of `node` and below; `None` when there are none.
fn compile_level(
    node: &Node,
    path: &FieldPath,
    uncorrelated: Option<&FieldPath>,
    root: bool,
    errors: &mut Vec<FieldError>,
) -> Option<Level> {
    let resource = root || node.embedded_resource;
    let mut level = Level {
        schema: node.clone(),
        ..Default::default()
    };
    for (i, rule) in node.rules.iter().enumerate() {
        let at = path.child("x-kubernetes-validations").index(i);
        if let Some(compiled) = compile_rule(rule, node, resource, &at, uncorrelated, errors) {
            level.rules.push(compiled);
        }
    }
    // The fields of an atomic map are replaced together: no old field
    // corresponds to a new one.
    let atomic = (node.map_type.as_deref() == Some("atomic")).then(|| path.clone());
    let fields_uncorrelated = uncorrelated.cloned().or(atomic);
    for (name, prop) in &node.properties {
        let uncorrelated = fields_uncorrelated.as_ref();
        if let Some(child) = compile_level(
            prop,
            &path.child("properties").key(name),
            uncorrelated,
            false,
            errors,
        ) {
            level.properties.insert(name.clone(), child);
        }
    }
    if let Some(items) = node.items.as_deref() {
        let list_path = path.clone();
        let items_uncorrelated = match (uncorrelated, node.list_type.as_deref()) {
            (Some(outer), _) => Some(outer.clone()),
            (None, Some("map")) => None,
            (None, _) => Some(list_path),
        };
        level.items = compile_level(
            items,
            &path.child("items"),
            items_uncorrelated.as_ref(),
            false,
            errors,
        )
        .map(Box::new);
    }
    if let Some(additional) = node.additional_schema() {
        level.additional = compile_level(
            additional,
            &path.child("additionalProperties"),
            uncorrelated,
            false,
            errors,
        )
        .map(Box::new);
    }
    let empty = level.rules.is_empty()
        && level.properties.is_empty()
        && level.items.is_none()
        && level.additional.is_none();
    (!empty).then_some(level)
}

/// Runs the rules on every default of the schema, as upstream does when
/// the CRD is written; a default is its own old value, so transition rules
/// run too.
fn check_defaults(
    level: Option<&Level>,
    node: &Node,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let Some(level) = level else { return };
    if let Some(default) = &node.default {
        let mut run = Run::new();
        run.level(level, default, Some(default), &path.child("default"), false);
        errors.extend(run.errors);
    }
    for (name, prop) in &node.properties {
        check_defaults(
            level.properties.get(name),
            prop,
            &path.child("properties").key(name),
            errors,
        );
    }
    if let Some(items) = node.items.as_deref() {
        check_defaults(level.items.as_deref(), items, &path.child("items"), errors);
    }
    if let Some(additional) = node.additional_schema() {
        check_defaults(
            level.additional.as_deref(),
            additional,
            &path.child("additionalProperties"),
            errors,
        );
    }
}

fn compile_rule(
    rule: &ValidationRule,
    node: &Node,
    resource: bool,
    at: &FieldPath,
    uncorrelated: Option<&FieldPath>,
    errors: &mut Vec<FieldError>,
) -> Option<Compiled> {
    if rule.rule.trim().is_empty() {
        return None;
    }
    let optional = rule.optional_old_self == Some(true);
    let place = Place {
        node,
        resource,
        optional_old_self: optional,
    };
    let program = match compile_expression(&rule.rule, &place) {
        Ok(program) => program,
        Err(detail) => {
            errors.push(FieldError::invalid(
                &at.child("rule"),
                rule.rule.as_str(),
                format!("compilation failed: {detail}"),
            ));
            return None;
        }
    };
    let uses_old_self = check::reads(program.expression(), "oldSelf");
    if uses_old_self && let Some(list) = uncorrelated {
        let detail = format!(
            "oldSelf cannot be used on the uncorrelatable portion of the schema within {list}"
        );
        errors.push(FieldError::invalid(
            &at.child("rule"),
            rule.rule.as_str(),
            detail,
        ));
    }
    if !uses_old_self && let Some(optional) = rule.optional_old_self {
        errors.push(FieldError::invalid(
            &at.child("optionalOldSelf"),
            optional,
            "may not be set if oldSelf is not used in rule",
        ));
    }
    let message_expression = match rule
        .message_expression
        .as_deref()
        .filter(|m| !m.trim().is_empty())
    {
        None => None,
        Some(source) => match compile_expression(source, &place) {
            Ok(program) => Some(program),
            Err(detail) => {
                let detail = format!("messageExpression compilation failed: {detail}");
                errors.push(FieldError::invalid(
                    &at.child("messageExpression"),
                    source,
                    detail,
                ));
                None
            }
        },
    };
    let field_path = rule
        .field_path
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| field_path(p, node).ok());
    Some(Compiled {
        rule: rule.clone(),
        program,
        message_expression,
        uses_old_self,
        field_path,
    })
}

/// The level of the schema a rule is on, for the fields it may read.
struct Place<'a> {
    node: &'a Node,
    resource: bool,
    optional_old_self: bool,
}

/// Parses `source` and checks its names and the fields it reads, with
/// cel-go's error format.
fn compile_expression(source: &str, place: &Place<'_>) -> Result<Program, String> {
    let program = library::ENV.compile(source).map_err(|errors| {
        errors
            .errors
            .iter()
            .map(|e| format!("ERROR: <input>:{}:{}: {}", e.pos.0, e.pos.1, e.msg))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let at = |id: u64| {
        let offset = program.source_info().offset_for(id).map_or(0, |o| o.0);
        position(source, offset)
    };
    let variables = ["self", "oldSelf"];
    if let Some(found) = check::undeclared(program.expression(), &library::FUNCTIONS, &variables) {
        let (line, column) = at(found.id);
        return Err(format!(
            "ERROR: <input>:{line}:{column}: undeclared reference to '{}' (in container '')",
            found.name
        ));
    }
    let expr = program.expression();
    if let Some(found) =
        fields::undefined(expr, place.node, place.resource, place.optional_old_self)
    {
        let (line, column) = at(found.id);
        return Err(format!(
            "ERROR: <input>:{line}:{column}: undefined field '{}'",
            found.field
        ));
    }
    Ok(program)
}

/// The line and column (both from 1) of the character at `offset`.
fn position(source: &str, offset: u32) -> (usize, usize) {
    let before: String = source.chars().take(offset as usize).collect();
    let line = before.matches('\n').count() + 1;
    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
    (line, column)
}

/// One run of the rules over an object: what is left of the budget, and
/// the errors so far.
struct Run {
    budget: u64,
    stopped: bool,
    errors: Vec<FieldError>,
}

impl Run {
    fn new() -> Self {
        Self {
            budget: RUNTIME_BUDGET,
            stopped: false,
            errors: Vec::new(),
        }
    }

    fn level(
        &mut self,
        level: &Level,
        value: &Value,
        old: Option<&Value>,
        path: &FieldPath,
        resource: bool,
    ) {
        if self.stopped || value.is_null() {
            return;
        }
        let resource = resource || level.schema.embedded_resource;
        if !level.rules.is_empty() {
            self.rules(level, value, old.filter(|o| !o.is_null()), path, resource);
        }
        match value {
            Value::Object(map) => {
                for (key, child_value) in map {
                    let child = level.properties.get(key).or(level.additional.as_deref());
                    if let Some(child) = child {
                        let child_old = old.and_then(|o| o.get(key));
                        self.level(child, child_value, child_old, &path.child(key), false);
                    }
                }
            }
            Value::Array(items) => {
                let Some(child) = level.items.as_deref() else {
                    return;
                };
                for (i, item) in items.iter().enumerate() {
                    let item_old = old.and_then(|o| correlated_item(&level.schema, item, o));
                    self.level(child, item, item_old, &path.index(i), false);
                }
            }
            _ => {}
        }
    }

    fn rules(
        &mut self,
        level: &Level,
        value: &Value,
        old: Option<&Value>,
        path: &FieldPath,
        resource: bool,
    ) {
        let this = convert::to_cel(value, Some(&level.schema), resource);
        let previous = old.map(|o| convert::to_cel(o, Some(&level.schema), resource));
        let (collection, string) = convert::sizes(value);
        let (old_collection, old_string) = old.map_or((0, 0), convert::sizes);
        let sizes = check::Sizes {
            collection: collection.max(old_collection),
            string: string.max(old_string),
        };
        for compiled in &level.rules {
            let optional = compiled.rule.optional_old_self == Some(true);
            if compiled.uses_old_self && previous.is_none() && !optional {
                continue;
            }
            let context = context_for(compiled, &this, previous.as_ref());
            let cost = check::cost(compiled.program.expression(), sizes);
            if !self.charge(cost, compiled, &level.schema, path) {
                return;
            }
            let error = match compiled.program.execute(&context) {
                Ok(cel::Value::Bool(true)) => continue,
                Ok(cel::Value::Bool(false)) => {
                    let Some(detail) = self.message(compiled, &context, sizes, &level.schema, path)
                    else {
                        return;
                    };
                    failure(compiled, value, &level.schema, path, detail)
                }
                Ok(_) => {
                    let rule = rule_text(&compiled.rule);
                    let detail = format!("rule did not evaluate to a bool: {rule}");
                    invalid(&level.schema, path, detail)
                }
                Err(err) => evaluation_error(&err, compiled, &level.schema, path),
            };
            self.errors.push(error);
        }
    }

    /// Takes `cost` from the budget; false (with the error recorded) when
    /// the rule may not run, which stops every rule after it.
    fn charge(&mut self, cost: u64, compiled: &Compiled, schema: &Node, path: &FieldPath) -> bool {
        let detail = if cost > PER_CALL_LIMIT {
            format!(
                "'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: {}",
                rule_text(&compiled.rule)
            )
        } else if cost > self.budget {
            "validation failed due to running out of cost budget, no further validation rules will be run".to_string()
        } else {
            self.budget -= cost;
            return true;
        };
        self.errors.push(invalid(schema, path, detail));
        self.stopped = true;
        false
    }

    /// The detail of a failed rule: its `messageExpression` when that
    /// gives a usable string, else its message. `None` when the budget ran
    /// out on the way.
    fn message(
        &mut self,
        compiled: &Compiled,
        context: &cel::Context,
        sizes: check::Sizes,
        schema: &Node,
        path: &FieldPath,
    ) -> Option<String> {
        let fallback = || match compiled
            .rule
            .message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            Some(message) => message.to_string(),
            None => format!("failed rule: {}", rule_text(&compiled.rule)),
        };
        let Some(expression) = &compiled.message_expression else {
            return Some(fallback());
        };
        let cost = check::cost(expression.expression(), sizes);
        if cost > self.budget || cost > PER_CALL_LIMIT {
            let source = compiled
                .rule
                .message_expression
                .as_deref()
                .unwrap_or_default();
            let detail = if cost > PER_CALL_LIMIT {
                format!(
                    "no further validation rules will be run due to call cost exceeds limit for messageExpression: {source:?}"
                )
            } else {
                "messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run".to_string()
            };
            self.errors.push(invalid(schema, path, detail));
            self.stopped = true;
            return None;
        }
        self.budget -= cost;
        let message = match expression.execute(context) {
            Ok(cel::Value::String(s)) => s.trim().to_string(),
            _ => return Some(fallback()),
        };
        let usable = !message.is_empty()
            && message.len() <= MAX_MESSAGE_BYTES
            && !message.contains(['\n', '\r']);
        Some(if usable { message } else { fallback() })
    }
}

/// The variables of one evaluation: `self`, and `oldSelf` when there is an
/// old value, or always, as an optional, with `optionalOldSelf`.
fn context_for(
    compiled: &Compiled,
    this: &cel::Value,
    previous: Option<&cel::Value>,
) -> cel::Context<'static, 'static> {
    let mut context = library::context();
    context.add_variable_from_value("self", this.clone());
    if compiled.rule.optional_old_self == Some(true) {
        let old = match previous {
            Some(previous) => cel::objects::OptionalValue::of(previous.clone()),
            None => cel::objects::OptionalValue::none(),
        };
        let old = cel::Value::Opaque(std::sync::Arc::new(old));
        context.add_variable_from_value("oldSelf", old);
    } else if let Some(previous) = previous {
        context.add_variable_from_value("oldSelf", previous.clone());
    }
    context
}

/// The item of the old list that an item of a new list-map list is, by
/// its keys.
fn correlated_item<'a>(schema: &Node, item: &Value, old: &'a Value) -> Option<&'a Value> {
    if schema.list_type.as_deref() != Some("map") || schema.list_map_keys.is_empty() {
        return None;
    }
    let keys = &schema.list_map_keys;
    old.as_array()?
        .iter()
        .find(|candidate| keys.iter().all(|k| candidate.get(k) == item.get(k)))
}

/// The rule as upstream names it in errors: its message, or its text.
fn rule_text(rule: &ValidationRule) -> &str {
    match rule
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(message) => message,
        None => rule.rule.trim(),
    }
}

/// An `Invalid` error about the level itself, whose value upstream gives
/// as the level's type.
fn invalid(schema: &Node, path: &FieldPath, detail: String) -> FieldError {
    FieldError::invalid(path, schema.type_.as_str(), detail)
}

fn evaluation_error(
    err: &cel::ExecutionError,
    compiled: &Compiled,
    schema: &Node,
    path: &FieldPath,
) -> FieldError {
    use cel::ExecutionError as E;
    let rule = rule_text(&compiled.rule);
    let detail = match err {
        E::NoSuchOverload(_) | E::UnsupportedBinaryOperator(..) | E::ValuesNotComparable(..) => {
            format!(
                "'no such overload': call arguments did not match a supported operator, function or macro signature for rule: {rule}"
            )
        }
        E::NoSuchKey(key) => format!("no such key: {key} evaluating rule: {rule}"),
        E::IndexOutOfBounds(index) => {
            format!("index out of bounds: {index:?} evaluating rule: {rule}")
        }
        E::DivisionByZero(_) => format!("division by zero evaluating rule: {rule}"),
        E::RemainderByZero(_) => format!("modulus by zero evaluating rule: {rule}"),
        E::Overflow(..) => format!("integer overflow evaluating rule: {rule}"),
        other => format!("{other} evaluating rule: {rule}"),
    };
    invalid(schema, path, detail)
}

/// The error of a rule that evaluated to false, of the kind its reason
/// names.
fn failure(
    compiled: &Compiled,
    value: &Value,
    schema: &Node,
    path: &FieldPath,
    detail: String,
) -> FieldError {
    let path = match &compiled.field_path {
        Some(field_path) => path.child(field_path),
        None => path.clone(),
    };
    let whole = matches!(value, Value::Object(_) | Value::Array(_))
        || matches!(schema.type_.as_str(), "object" | "array");
    match compiled.rule.reason.as_deref() {
        Some("FieldValueForbidden") => FieldError::forbidden(&path, detail),
        Some("FieldValueRequired") => FieldError::required(&path, detail),
        Some("FieldValueDuplicate") if whole => FieldError::duplicate(&path, schema.type_.as_str()),
        Some("FieldValueDuplicate") => FieldError::duplicate(&path, value.clone()),
        _ if whole => FieldError::invalid_omitting_value(&path, detail),
        _ => FieldError::invalid(&path, value.clone(), detail),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
