//! The fields a rule reads that its schema does not declare: cel-go's
//! checker refuses `self.foo` with `undefined field 'foo'` when the schema
//! of `self` has no `foo`, and so does this, along the paths it can follow
//! without a type checker (selections from `self` and `oldSelf`, their
//! indexes, and the variables of comprehensions over their lists). What it
//! cannot follow it lets through, to fail when it runs if it must.

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr};

use crate::crd::schema::Node;

/// A field read where the schema declares none of that name.
pub(super) struct Undefined {
    pub(super) field: String,
    pub(super) id: u64,
}

/// What is known of the value of an expression.
#[derive(Clone, Copy)]
enum Known<'a> {
    /// A level of the schema, and whether it is a resource (the root, an
    /// embedded resource), whose `apiVersion`, `kind` and `metadata` are
    /// the server's.
    Schema(&'a Node, bool),
    /// The metadata of a resource, of which rules see `name` and
    /// `generateName`.
    Metadata,
    Unknown,
}

/// The first field `expr` reads that the schema of `self` (`node`) does
/// not declare. `oldSelf` is typed as `self` unless it is an optional.
pub(super) fn undefined(
    expr: &IdedExpr,
    node: &Node,
    resource: bool,
    optional_old_self: bool,
) -> Option<Undefined> {
    let mut scope = vec![("self".to_string(), Known::Schema(node, resource))];
    if !optional_old_self {
        scope.push(("oldSelf".to_string(), Known::Schema(node, resource)));
    }
    let mut found = None;
    known(expr, &mut scope, &mut found);
    found
}

fn known<'a>(
    expr: &IdedExpr,
    scope: &mut Vec<(String, Known<'a>)>,
    found: &mut Option<Undefined>,
) -> Known<'a> {
    if found.is_some() {
        return Known::Unknown;
    }
    match &expr.expr {
        Expr::Ident(name) => scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or(Known::Unknown, |(_, k)| *k),
        Expr::Select(select) => {
            let operand = known(&select.operand, scope, found);
            field(operand, &select.field, expr.id, found)
        }
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                known(target, scope, found);
            }
            let args: Vec<Known<'a>> = call.args.iter().map(|a| known(a, scope, found)).collect();
            match (call.func_name.as_str(), args.first()) {
                ("_[_]", Some(container)) => index(*container),
                _ => Known::Unknown,
            }
        }
        Expr::Comprehension(c) => {
            let range = known(&c.iter_range, scope, found);
            known(&c.accu_init, scope, found);
            let bound = scope.len();
            scope.push((c.iter_var.clone(), element(range)));
            scope.push((c.accu_var.clone(), Known::Unknown));
            if let Some(second) = &c.iter_var2 {
                scope.push((second.clone(), Known::Unknown));
            }
            for e in [&c.loop_cond, &c.loop_step, &c.result] {
                known(e, scope, found);
            }
            scope.truncate(bound);
            Known::Unknown
        }
        Expr::List(list) => {
            for e in &list.elements {
                known(e, scope, found);
            }
            Known::Unknown
        }
        Expr::Map(map) => entries(map.entries.iter().map(|e| &e.expr), scope, found),
        Expr::Struct(s) => entries(s.entries.iter().map(|e| &e.expr), scope, found),
        Expr::Literal(_) | Expr::Unspecified => Known::Unknown,
    }
}

fn entries<'a, 'e>(
    entries: impl Iterator<Item = &'e EntryExpr>,
    scope: &mut Vec<(String, Known<'a>)>,
    found: &mut Option<Undefined>,
) -> Known<'a> {
    for entry in entries {
        match entry {
            EntryExpr::MapEntry(e) => {
                known(&e.key, scope, found);
                known(&e.value, scope, found);
            }
            EntryExpr::StructField(f) => {
                known(&f.value, scope, found);
            }
        }
    }
    Known::Unknown
}

/// The field `name` of a value.
fn field<'a>(of: Known<'a>, name: &str, id: u64, found: &mut Option<Undefined>) -> Known<'a> {
    let undefined = |found: &mut Option<Undefined>| {
        *found = Some(Undefined {
            field: name.to_string(),
            id,
        });
        Known::Unknown
    };
    match of {
        Known::Schema(_, true) if name == "apiVersion" || name == "kind" => Known::Unknown,
        Known::Schema(_, true) if name == "metadata" => Known::Metadata,
        Known::Schema(node, _) => {
            if let Some(prop) = node.properties.get(name) {
                Known::Schema(prop, prop.embedded_resource)
            } else if node.additional_properties.is_some() {
                node.additional_schema()
                    .map_or(Known::Unknown, |s| Known::Schema(s, s.embedded_resource))
            } else if node.type_ != "object" || node.preserve_unknown_fields {
                Known::Unknown
            } else {
                undefined(found)
            }
        }
        Known::Metadata if name == "name" || name == "generateName" => Known::Unknown,
        Known::Metadata => undefined(found),
        Known::Unknown => Known::Unknown,
    }
}

/// An item of a list, or a value of a map.
fn index(container: Known<'_>) -> Known<'_> {
    match container {
        Known::Schema(node, _) => match (node.items.as_deref(), node.additional_schema()) {
            (Some(items), _) => Known::Schema(items, items.embedded_resource),
            (None, Some(values)) => Known::Schema(values, values.embedded_resource),
            _ => Known::Unknown,
        },
        _ => Known::Unknown,
    }
}

/// What a comprehension over a value binds: the items of a list (the keys
/// of a map are strings, not levels of the schema).
fn element(range: Known<'_>) -> Known<'_> {
    match range {
        Known::Schema(node, _) => node.items.as_deref().map_or(Known::Unknown, |items| {
            Known::Schema(items, items.embedded_resource)
        }),
        _ => Known::Unknown,
    }
}
