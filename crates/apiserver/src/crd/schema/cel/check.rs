//! What the crate does not check when it parses a rule, checked on its
//! AST: every name must be declared (`self`, `oldSelf`, the variables of
//! comprehensions, type names) and every function known to the
//! environment, as cel-go's checker would refuse them; and the bound on
//! the cost of one evaluation.
//!
//! The bound counts one unit per node of the expression, and per
//! iteration of a comprehension the units of its body; a comprehension
//! over a literal list runs as many times as it has elements, one over
//! anything else as many times as the largest list or map in the data
//! (known at evaluation, when the bound is taken). Functions that read a
//! whole string or list (`matches`, `contains`, `split`, `+`, `==` on
//! lists, ...) cost a tenth of the longest string or the largest list,
//! which is upstream's traversal factor.

use std::collections::HashSet;

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr};

/// Why a rule does not compile: a message and the offset of the node.
pub(super) struct Undeclared {
    pub(super) name: String,
    pub(super) id: u64,
}

/// Names a rule may use without declaring them.
const TYPE_NAMES: [&str; 14] = [
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "optional_type",
];

/// The first undeclared name or unknown function of `expr`, given the
/// functions the environment knows and the variables in scope.
pub(super) fn undeclared(
    expr: &IdedExpr,
    functions: &HashSet<&str>,
    variables: &[&str],
) -> Option<Undeclared> {
    let mut scope: Vec<String> = variables.iter().map(|v| v.to_string()).collect();
    walk(expr, functions, &mut scope)
}

fn walk(expr: &IdedExpr, functions: &HashSet<&str>, scope: &mut Vec<String>) -> Option<Undeclared> {
    let undeclared = |name: &str| {
        Some(Undeclared {
            name: name.to_string(),
            id: expr.id,
        })
    };
    match &expr.expr {
        Expr::Ident(name) => {
            if scope.iter().any(|v| v == name) || TYPE_NAMES.contains(&name.as_str()) {
                None
            } else {
                undeclared(name)
            }
        }
        Expr::Select(select) => {
            // `math.abs` and the like are functions of a namespace, not
            // fields of a variable.
            if let Expr::Ident(namespace) = &select.operand.expr
                && functions.contains(format!("{namespace}.{}", select.field).as_str())
            {
                return None;
            }
            walk(&select.operand, functions, scope)
        }
        Expr::Call(call) => {
            let qualified = call.target.as_deref().and_then(|t| match &t.expr {
                Expr::Ident(namespace) => Some(format!("{namespace}.{}", call.func_name)),
                _ => None,
            });
            let namespaced = qualified.as_deref().is_some_and(|q| functions.contains(q));
            // `cel.bind(...)` calls the function `cel.bind`, unless `cel`
            // is a variable.
            let namespace = match call.target.as_deref().map(|t| &t.expr) {
                Some(Expr::Ident(ns)) => !scope.iter().any(|v| v == ns),
                _ => false,
            };
            // In the order of the source: a method's target, then the
            // function, then its arguments.
            let method = functions.contains(call.func_name.as_str());
            if (!namespace || (method && !namespaced))
                && let Some(target) = &call.target
                && let Some(found) = walk(target, functions, scope)
            {
                return Some(found);
            }
            if !namespaced
                && !is_operator(&call.func_name)
                && !functions.contains(call.func_name.as_str())
            {
                let name = match &qualified {
                    Some(q) if namespace => q.as_str(),
                    _ => call.func_name.as_str(),
                };
                return undeclared(name);
            }
            call.args.iter().find_map(|arg| walk(arg, functions, scope))
        }
        Expr::Comprehension(c) => {
            if let Some(found) = walk(&c.iter_range, functions, scope) {
                return Some(found);
            }
            if let Some(found) = walk(&c.accu_init, functions, scope) {
                return Some(found);
            }
            let bound = 2 + usize::from(c.iter_var2.is_some());
            scope.push(c.iter_var.clone());
            scope.push(c.accu_var.clone());
            scope.extend(c.iter_var2.clone());
            let found = [&c.loop_cond, &c.loop_step, &c.result]
                .into_iter()
                .find_map(|e| walk(e, functions, scope));
            scope.truncate(scope.len() - bound);
            found
        }
        Expr::List(list) => list.elements.iter().find_map(|e| walk(e, functions, scope)),
        Expr::Map(map) => map.entries.iter().find_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => {
                walk(&e.key, functions, scope).or_else(|| walk(&e.value, functions, scope))
            }
            EntryExpr::StructField(f) => walk(&f.value, functions, scope),
        }),
        Expr::Struct(s) => s.entries.iter().find_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => walk(&e.value, functions, scope),
            EntryExpr::StructField(f) => walk(&f.value, functions, scope),
        }),
        Expr::Literal(_) | Expr::Unspecified => None,
    }
}

/// Operators are spelled `_+_`, `!_`, `@in`, `_[_]`, `_?_:_`...
fn is_operator(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('@') || name.starts_with('!') || name.starts_with('-')
}

/// Whether `expr` reads the variable `name`.
pub(super) fn reads(expr: &IdedExpr, name: &str) -> bool {
    let mut found = false;
    visit(expr, &mut |e| {
        if matches!(&e.expr, Expr::Ident(n) if n == name) {
            found = true;
        }
    });
    found
}

fn visit(expr: &IdedExpr, f: &mut impl FnMut(&IdedExpr)) {
    f(expr);
    match &expr.expr {
        Expr::Select(s) => visit(&s.operand, f),
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                visit(t, f);
            }
            c.args.iter().for_each(|a| visit(a, f));
        }
        Expr::Comprehension(c) => {
            for e in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                visit(e, f);
            }
        }
        Expr::List(l) => l.elements.iter().for_each(|e| visit(e, f)),
        Expr::Map(m) => m
            .entries
            .iter()
            .for_each(|entry| entry_visit(&entry.expr, f)),
        Expr::Struct(s) => s
            .entries
            .iter()
            .for_each(|entry| entry_visit(&entry.expr, f)),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn entry_visit(entry: &EntryExpr, f: &mut impl FnMut(&IdedExpr)) {
    match entry {
        EntryExpr::MapEntry(e) => {
            visit(&e.key, f);
            visit(&e.value, f);
        }
        EntryExpr::StructField(s) => visit(&s.value, f),
    }
}

/// The sizes the bound of one evaluation depends on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sizes {
    /// The largest list or map: how often a comprehension may iterate.
    pub(super) collection: u64,
    /// The longest string.
    pub(super) string: u64,
}

/// Functions whose cost grows with the size of what they read.
const TRAVERSING: [&str; 17] = [
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    "split",
    "replace",
    "lowerAscii",
    "upperAscii",
    "trim",
    "indexOf",
    "lastIndexOf",
    "join",
    "find",
    "findAll",
    "_+_",
    "_==_",
    "@in",
];

/// The bound on the cost of evaluating `expr` on data of `sizes`.
pub(super) fn cost(expr: &IdedExpr, sizes: Sizes) -> u64 {
    let traverse = 1 + sizes.collection.max(sizes.string) / 10;
    let sum = |exprs: &mut dyn Iterator<Item = &IdedExpr>| {
        exprs.fold(0u64, |acc, e| acc.saturating_add(cost(e, sizes)))
    };
    match &expr.expr {
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 1,
        Expr::Select(s) => 1 + cost(&s.operand, sizes),
        Expr::Call(c) => {
            let own = if TRAVERSING.contains(&c.func_name.as_str()) {
                traverse
            } else {
                1
            };
            let target = c.target.as_deref().map_or(0, |t| cost(t, sizes));
            own.saturating_add(target)
                .saturating_add(sum(&mut c.args.iter()))
        }
        Expr::Comprehension(c) => {
            let iterations = match &c.iter_range.expr {
                Expr::List(list) => list.elements.len() as u64,
                _ => sizes.collection,
            };
            let body = cost(&c.loop_cond, sizes).saturating_add(cost(&c.loop_step, sizes));
            let fixed = sum(&mut [&c.iter_range, &c.accu_init, &c.result].into_iter());
            fixed.saturating_add(iterations.saturating_mul(body))
        }
        Expr::List(l) => 1 + sum(&mut l.elements.iter()),
        Expr::Map(m) => {
            1 + m.entries.iter().fold(0u64, |acc, entry| {
                acc.saturating_add(entry_cost(&entry.expr, sizes))
            })
        }
        Expr::Struct(s) => {
            1 + s.entries.iter().fold(0u64, |acc, entry| {
                acc.saturating_add(entry_cost(&entry.expr, sizes))
            })
        }
    }
}

fn entry_cost(entry: &EntryExpr, sizes: Sizes) -> u64 {
    match entry {
        EntryExpr::MapEntry(e) => cost(&e.key, sizes).saturating_add(cost(&e.value, sizes)),
        EntryExpr::StructField(f) => cost(&f.value, sizes),
    }
}
