//! Kubernetes' CEL libraries for quantities (`quantity`, `isQuantity` and
//! the methods of a quantity) and, in part, for addresses and URLs
//! (`isIP`, `isCIDR`, `isURL`: the checks, not the `ip`, `cidr` and `url`
//! values).

use std::cmp::Ordering;
use std::sync::Arc;

use cel::extractors::This;
use cel::objects::Opaque;
use cel::{Context, ExecutionError, Value};
use keelson_api::Quantity;

/// The functions this module adds to a rule's context.
pub(super) const FUNCTIONS: [&str; 14] = [
    "quantity",
    "isQuantity",
    "isLessThan",
    "isGreaterThan",
    "compareTo",
    "add",
    "sub",
    "asInteger",
    "isInteger",
    "asApproximateFloat",
    "sign",
    "isIP",
    "isCIDR",
    "isURL",
];

/// Adds the functions to `context`; false if one clashes with the
/// environment.
pub(super) fn register(context: &mut Context<'static, 'static>) -> bool {
    [
        context.add_function("quantity", quantity),
        context.add_function("isQuantity", is_quantity),
        context.add_function("isLessThan", is_less_than),
        context.add_function("isGreaterThan", is_greater_than),
        context.add_function("compareTo", compare_to),
        context.add_function("add", add),
        context.add_function("sub", sub),
        context.add_function("asInteger", as_integer),
        context.add_function("isInteger", is_integer),
        context.add_function("asApproximateFloat", as_approximate_float),
        context.add_function("sign", sign),
        context.add_function("isIP", is_ip),
        context.add_function("isCIDR", is_cidr),
        context.add_function("isURL", is_url),
    ]
    .iter()
    .all(Result::is_ok)
}

/// A quantity as a CEL value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CelQuantity(Quantity);

impl Opaque for CelQuantity {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Quantity"
    }
}

fn error(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

fn wrap(quantity: Quantity) -> Value {
    Value::Opaque(Arc::new(CelQuantity(quantity)))
}

fn unwrap<'a>(function: &str, value: &'a Value) -> Result<&'a Quantity, ExecutionError> {
    match value {
        Value::Opaque(opaque) => opaque
            .downcast_ref::<CelQuantity>()
            .map(|q| &q.0)
            .ok_or_else(|| error(function, "not a quantity")),
        _ => Err(error(function, "not a quantity")),
    }
}

fn quantity(text: Arc<String>) -> Result<Value, ExecutionError> {
    Quantity::parse(&text)
        .map(wrap)
        .map_err(|err| error("quantity", err))
}

fn is_quantity(text: Arc<String>) -> bool {
    Quantity::parse(&text).is_ok()
}

fn order(function: &str, this: &Value, other: &Value) -> Result<Ordering, ExecutionError> {
    Ok(unwrap(function, this)?.cmp(unwrap(function, other)?))
}

fn is_less_than(This(this): This<Value>, other: Value) -> Result<bool, ExecutionError> {
    Ok(order("isLessThan", &this, &other)? == Ordering::Less)
}

fn is_greater_than(This(this): This<Value>, other: Value) -> Result<bool, ExecutionError> {
    Ok(order("isGreaterThan", &this, &other)? == Ordering::Greater)
}

fn compare_to(This(this): This<Value>, other: Value) -> Result<i64, ExecutionError> {
    Ok(match order("compareTo", &this, &other)? {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    })
}

/// The operand of `add` and `sub`: a quantity, or an integer in the
/// format of `this`.
fn operand(function: &str, this: &Quantity, other: &Value) -> Result<Quantity, ExecutionError> {
    match other {
        Value::Int(i) => Ok(Quantity::new(*i, this.format())),
        other => unwrap(function, other).cloned(),
    }
}

fn add(This(this): This<Value>, other: Value) -> Result<Value, ExecutionError> {
    let this = unwrap("add", &this)?;
    Ok(wrap(this.add(&operand("add", this, &other)?)))
}

fn sub(This(this): This<Value>, other: Value) -> Result<Value, ExecutionError> {
    let this = unwrap("sub", &this)?;
    Ok(wrap(this.sub(&operand("sub", this, &other)?)))
}

/// The value in thousandths, when it has no finer part.
fn millis(quantity: &Quantity) -> Option<i64> {
    quantity
        .milli_value()
        .filter(|m| quantity.scaled_value(-3) == Some(*m))
}

fn as_integer(This(this): This<Value>) -> Result<i64, ExecutionError> {
    let quantity = unwrap("asInteger", &this)?;
    match millis(quantity) {
        Some(m) if m % 1000 == 0 => Ok(m / 1000),
        _ => quantity
            .value()
            .filter(|v| quantity.scaled_value(0) == Some(*v) && millis(quantity).is_none())
            .ok_or_else(|| error("asInteger", "cannot convert value to integer")),
    }
}

fn is_integer(This(this): This<Value>) -> Result<bool, ExecutionError> {
    Ok(as_integer(This(this)).is_ok())
}

fn as_approximate_float(This(this): This<Value>) -> Result<f64, ExecutionError> {
    let quantity = unwrap("asApproximateFloat", &this)?;
    quantity
        .canonical()
        .parse::<f64>()
        .or_else(|_| Ok(quantity.milli_value().unwrap_or(i64::MAX) as f64 / 1000.0))
}

fn sign(This(this): This<Value>) -> Result<i64, ExecutionError> {
    Ok(i64::from(unwrap("sign", &this)?.signum()))
}

/// An IP address without a zone, and an IPv6 one not mapping an IPv4 one,
/// as Kubernetes' `isIP` wants.
fn is_ip(text: Arc<String>) -> bool {
    match text.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().is_none(),
        Ok(_) => true,
        Err(_) => false,
    }
}

fn is_cidr(text: Arc<String>) -> bool {
    text.parse::<ipnet::IpNet>().is_ok()
}

fn is_url(text: Arc<String>) -> bool {
    super::super::format::check("uri", &text) == Some(true)
}
