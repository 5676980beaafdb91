//! The CEL environment of validation rules: the crate's standard library
//! and strings extension, and a few of Kubernetes' own functions
//! (`isSorted`, `sum`, `min`, `max` on lists; `find`, `findAll` on
//! strings; `sets.contains`, `sets.equivalent`, `sets.intersects`).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use cel::extractors::This;
use cel::{Context, Env, ExecutionError, Value};

/// The environment every rule compiles and runs in.
pub(super) static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    // Kubernetes' environment has cel-go's strings extension.
    env.add_extension(cel::extensions::strings)
        .expect("the strings extension is declared once");
    // cel-go keeps the last of repeated map keys.
    env.set_error_on_duplicate_map_keys(false);
    Arc::new(env)
});

/// Every function a rule may call: the standard library's, the strings
/// extension's and [`context`]'s.
pub(super) static FUNCTIONS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    [
        // The standard library.
        "size",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "bool",
        "type",
        "dyn",
        "duration",
        "timestamp",
        "getDate",
        "getDayOfMonth",
        "getDayOfWeek",
        "getDayOfYear",
        "getFullYear",
        "getHours",
        "getMilliseconds",
        "getMinutes",
        "getMonth",
        "getSeconds",
        "optional.of",
        "optional.none",
        "optional.ofNonZeroValue",
        "hasValue",
        "value",
        "orValue",
        "or",
        // The strings extension.
        "charAt",
        "indexOf",
        "lastIndexOf",
        "join",
        "lowerAscii",
        "upperAscii",
        "trim",
        "replace",
        "split",
        "substring",
        "format",
        "strings.quote",
        "reverse",
        // Kubernetes' list and regex libraries, in part.
        "isSorted",
        "sum",
        "min",
        "max",
        "find",
        "findAll",
    ]
    .into_iter()
    .chain(super::kubernetes::FUNCTIONS)
    .collect()
});

/// A context for one evaluation, with Kubernetes' functions.
pub(super) fn context() -> Context<'static, 'static> {
    let mut context = Context::with_env(Arc::clone(&ENV));
    let added = [
        context.add_function("isSorted", is_sorted),
        context.add_function("sum", sum),
        context.add_function("min", min),
        context.add_function("max", max),
        context.add_function("find", find),
        context.add_function("findAll", find_all),
        context.add_function("sets.contains", sets_contains),
        context.add_function("sets.equivalent", sets_equivalent),
        context.add_function("sets.intersects", sets_intersects),
    ];
    let quantities = super::kubernetes::register(&mut context);
    debug_assert!(
        quantities,
        "Kubernetes' functions clash with the environment"
    );
    debug_assert!(
        added.iter().all(Result::is_ok),
        "Kubernetes' functions clash with the environment"
    );
    context
}

fn error(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

fn is_sorted(This(list): This<Arc<Vec<Value>>>) -> Result<bool, ExecutionError> {
    for pair in list.windows(2) {
        match pair[0].partial_cmp(&pair[1]) {
            Some(Ordering::Greater) => return Ok(false),
            Some(_) => {}
            None => return Err(error("isSorted", "list elements are not comparable")),
        }
    }
    Ok(true)
}

fn sum(This(list): This<Arc<Vec<Value>>>) -> Result<Value, ExecutionError> {
    let mut total = Value::Int(0);
    for (i, item) in list.iter().enumerate() {
        total = match (i, &total, item) {
            (0, _, item) => item.clone(),
            (_, Value::Int(a), Value::Int(b)) => Value::Int(
                a.checked_add(*b)
                    .ok_or_else(|| error("sum", "integer overflow"))?,
            ),
            (_, Value::UInt(a), Value::UInt(b)) => Value::UInt(
                a.checked_add(*b)
                    .ok_or_else(|| error("sum", "integer overflow"))?,
            ),
            (_, Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            _ => {
                return Err(error(
                    "sum",
                    "list elements must all be numbers of one type",
                ));
            }
        };
    }
    Ok(total)
}

fn extreme(function: &str, list: &[Value], wanted: Ordering) -> Result<Value, ExecutionError> {
    let mut best = list
        .first()
        .ok_or_else(|| error(function, format!("{function} called on empty list")))?;
    for item in &list[1..] {
        match item.partial_cmp(best) {
            Some(order) if order == wanted => best = item,
            Some(_) => {}
            None => return Err(error(function, "list elements are not comparable")),
        }
    }
    Ok(best.clone())
}

fn min(This(list): This<Arc<Vec<Value>>>) -> Result<Value, ExecutionError> {
    extreme("min", &list, Ordering::Less)
}

fn max(This(list): This<Arc<Vec<Value>>>) -> Result<Value, ExecutionError> {
    extreme("max", &list, Ordering::Greater)
}

fn regex(function: &str, pattern: &str) -> Result<regex::Regex, ExecutionError> {
    regex::Regex::new(pattern).map_err(|err| error(function, err))
}

fn find(This(s): This<Arc<String>>, pattern: Arc<String>) -> Result<Value, ExecutionError> {
    let found = regex("find", &pattern)?
        .find(&s)
        .map_or("", |m| m.as_str())
        .to_string();
    Ok(Value::String(Arc::new(found)))
}

fn find_all(This(s): This<Arc<String>>, pattern: Arc<String>) -> Result<Value, ExecutionError> {
    let found = regex("findAll", &pattern)?
        .find_iter(&s)
        .map(|m| Value::String(Arc::new(m.as_str().to_string())))
        .collect();
    Ok(Value::List(Arc::new(found)))
}

/// Whether every element of `subset` is in `list`.
fn sets_contains(list: Arc<Vec<Value>>, subset: Arc<Vec<Value>>) -> bool {
    subset.iter().all(|item| list.contains(item))
}

fn sets_equivalent(a: Arc<Vec<Value>>, b: Arc<Vec<Value>>) -> bool {
    sets_contains(Arc::clone(&a), Arc::clone(&b)) && sets_contains(b, a)
}

fn sets_intersects(a: Arc<Vec<Value>>, b: Arc<Vec<Value>>) -> bool {
    a.iter().any(|item| b.contains(item))
}
