//! The zero values Go always writes: upstream's types serialize a field
//! that is not optional even when it holds its zero value, so a new
//! ReplicaSet reads back with `status: {replicas: 0}` and a new DaemonSet
//! with its four counts at 0, and typed clients (the official Python
//! client's models among them) expect those fields.
//!
//! The set is derived from the types, not listed by hand: the fields
//! k8s-openapi's schemas mark `required` (its non-optional fields). Only
//! the objects a value already has are filled, each missing required
//! field with the zero of its type: 0, `""`, `false`, or an object (filled
//! in turn). Lists, maps and timestamps are left out, since Go writes their
//! zero as `null`, which reads as absent. What the derivation cannot see
//! (optional fields Go still writes, such as a Service's
//! `status.loadBalancer`) is each kind's defaulting.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::registry::ResourceInfo;
use crate::schemas::reference;

/// What a definition's fields hold.
#[derive(Debug, Default)]
struct Fields {
    /// Each property's shape.
    shapes: HashMap<String, Shape>,
    /// The required properties whose zero value Go writes.
    zeros: Vec<(String, Zero)>,
}

/// The shape of a value, as far as filling zeros cares.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    /// An object of a definition.
    Struct(String),
    /// A list of values of one shape.
    List(Box<Shape>),
    /// A map to values of one shape.
    Map(Box<Shape>),
    /// Anything else.
    Scalar,
}

/// The zero value of a required field.
#[derive(Debug, Clone, PartialEq)]
enum Zero {
    Value(Value),
    Struct(String),
}

/// Fills the zero values of `object`, a `resource`'s object as JSON.
pub fn fill(resource: &ResourceInfo, object: &mut Value) {
    fill_struct(resource.definition, object);
}

fn fill_struct(definition: &str, object: &mut Value) {
    let (Some(fields), Some(map)) = (table().get(definition), object.as_object_mut()) else {
        return;
    };
    for (field, zero) in &fields.zeros {
        if map.get(field).is_none_or(Value::is_null) {
            let value = match zero {
                Zero::Value(value) => value.clone(),
                Zero::Struct(_) => Value::Object(Map::new()),
            };
            map.insert(field.clone(), value);
        }
    }
    for (field, value) in map.iter_mut() {
        if let Some(shape) = fields.shapes.get(field) {
            fill_shape(shape, value);
        }
    }
}

fn fill_shape(shape: &Shape, value: &mut Value) {
    match (shape, value) {
        (Shape::Struct(definition), value @ Value::Object(_)) => fill_struct(definition, value),
        (Shape::List(item), Value::Array(items)) => {
            items.iter_mut().for_each(|v| fill_shape(item, v));
        }
        (Shape::Map(item), Value::Object(map)) => {
            map.values_mut().for_each(|v| fill_shape(item, v));
        }
        _ => {}
    }
}

fn table() -> &'static HashMap<String, Fields> {
    static TABLE: OnceLock<HashMap<String, Fields>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let definitions = crate::schemas::definitions();
        definitions
            .iter()
            .map(|(name, schema)| (name.clone(), fields_of(schema, &definitions)))
            .collect()
    })
}

fn fields_of(schema: &Value, definitions: &Map<String, Value>) -> Fields {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Fields::default();
    };
    let shapes = properties
        .iter()
        .map(|(field, property)| (field.clone(), shape_of(property)))
        .collect();
    let zeros = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|field| {
            let zero = zero_of(properties.get(field)?, definitions)?;
            Some((field.to_string(), zero))
        })
        .collect();
    Fields { shapes, zeros }
}

fn shape_of(schema: &Value) -> Shape {
    if let Some(definition) = reference(schema) {
        return Shape::Struct(definition);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => Shape::List(Box::new(
            schema.get("items").map_or(Shape::Scalar, shape_of),
        )),
        Some("object") => match schema.get("additionalProperties") {
            Some(value @ Value::Object(_)) => Shape::Map(Box::new(shape_of(value))),
            _ => Shape::Scalar,
        },
        _ => Shape::Scalar,
    }
}

/// The zero Go writes for a property, if it writes one that reads as
/// other than absent.
fn zero_of(property: &Value, definitions: &Map<String, Value>) -> Option<Zero> {
    if let Some(definition) = reference(property) {
        let target = definitions.get(&definition)?;
        // A definition with properties is a struct; one without (Time,
        // Quantity, IntOrString) marshals its zero as null or a string
        // that the type alone does not give.
        return target
            .get("properties")
            .is_some()
            .then_some(Zero::Struct(definition));
    }
    let zero = match property.get("type").and_then(Value::as_str)? {
        "integer" | "number" => Value::from(0),
        "boolean" => Value::Bool(false),
        "string" if property.get("format").is_none() => Value::String(String::new()),
        _ => return None,
    };
    Some(Zero::Value(zero))
}
