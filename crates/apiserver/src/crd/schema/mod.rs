//! The schema of one version of a CustomResourceDefinition
//! (`spec.versions[i].schema.openAPIV3Schema`) and what the API server does
//! with it, as upstream's apiextensions-apiserver does.
//!
//! When a CRD is written, each version's schema goes through
//! [`Structural::from_props`] (is it *structural*: a type at every level,
//! value validations that only restrict what the structural part declares,
//! metadata left to the server, list and map types that make sense,
//! defaults that are pruned and valid; and the rules of CRD validation:
//! no `$ref`, `uniqueItems`, `patternProperties`, ...), then through
//! [`cel::Rules::compile`] (its `x-kubernetes-validations`, and the
//! defaults against them). Both give upstream's field errors, at paths
//! under the path they are given.
//!
//! When a custom resource is written, it goes, as upstream's handler
//! takes it: [`Structural::prune`] (unknown fields dropped, and named for
//! `fieldValidation=Warn|Strict` with [`unknown_field_warning`]), then
//! [`Structural::apply_defaults`], then [`Structural::validate`] (what
//! kube-openapi reports: `spec.replicas in body should be greater than or
//! equal to 1`) and [`cel::Rules::validate`] (with the stored object on an
//! update).
//!
//! Everything here is pure: values in, values or field errors out.
//!
//! Left out of upstream:
//! - ratcheting (`CRDValidationRatcheting`): an update is checked in full,
//!   even where the old object was already invalid the same way;
//! - the ObjectMeta checks of embedded resources' `metadata` (names,
//!   labels) and of defaults inside it: only their `apiVersion` and `kind`
//!   are checked; the root's metadata is the server's to check;
//! - patterns are compiled with the `regex` crate, whose syntax is RE2's
//!   as Go's `regexp` is, but whose error texts differ from Go's;
//! - a rejected value that is an object is shown as JSON, where Go shows
//!   `map[string]interface {}{...}`, and messages that upstream puts at no
//!   field (`"spec" must validate one and only one schema (oneOf)`) are
//!   at the path given for the whole value;
//! - the formats `int32`, `int64`, `float` and `double` are not range
//!   checked, as kube-openapi does not either.

use std::collections::{BTreeMap, HashMap};

use keelson_api::field_error::FieldError;
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool, ValidationRule,
};
use serde_json::Value;

pub mod cel;
mod crd_rules;
mod defaults;
mod format;
mod metadata;
mod prune;
mod structural;
mod validate;

pub use prune::unknown_field_warning;

/// A checked, structural schema of a custom resource version, ready to
/// prune, default and validate its objects.
#[derive(Debug, Clone)]
pub struct Structural {
    /// The structural part, level by level.
    root: Node,
    /// The schema as written, for value validation (which also reads
    /// `allOf`, `anyOf`, `oneOf` and `not`).
    source: JSONSchemaProps,
    /// Every `pattern` of `source`, compiled.
    patterns: HashMap<String, regex::Regex>,
}

/// One level of the structural part of a schema: what upstream's
/// `schema.Structural` keeps of a `JSONSchemaProps`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Node {
    /// `type`, empty when unset.
    pub(crate) type_: String,
    pub(crate) format: String,
    pub(crate) properties: BTreeMap<String, Node>,
    pub(crate) items: Option<Box<Node>>,
    pub(crate) additional_properties: Option<Additional>,
    pub(crate) nullable: bool,
    pub(crate) default: Option<Value>,
    pub(crate) preserve_unknown_fields: bool,
    pub(crate) embedded_resource: bool,
    pub(crate) int_or_string: bool,
    pub(crate) list_type: Option<String>,
    pub(crate) list_map_keys: Vec<String>,
    pub(crate) map_type: Option<String>,
    pub(crate) required: Vec<String>,
    pub(crate) max_items: Option<i64>,
    pub(crate) max_length: Option<i64>,
    pub(crate) max_properties: Option<i64>,
    pub(crate) rules: Vec<ValidationRule>,
}

/// `additionalProperties`: a boolean or a schema for every other field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Additional {
    Allows(bool),
    Schema(Box<Node>),
}

impl Node {
    /// The structural part of `props`; `items` given as a list (which the
    /// checks forbid) is dropped.
    pub(crate) fn of(props: &JSONSchemaProps) -> Node {
        let items = match &props.items {
            Some(JSONSchemaPropsOrArray::Schema(items)) => Some(Box::new(Node::of(items))),
            _ => None,
        };
        let additional_properties = match &props.additional_properties {
            Some(JSONSchemaPropsOrBool::Bool(allows)) => Some(Additional::Allows(*allows)),
            Some(JSONSchemaPropsOrBool::Schema(schema)) => {
                Some(Additional::Schema(Box::new(Node::of(schema))))
            }
            None => None,
        };
        Node {
            type_: props.type_.clone().unwrap_or_default(),
            format: props.format.clone().unwrap_or_default(),
            properties: props
                .properties
                .iter()
                .flatten()
                .map(|(name, prop)| (name.clone(), Node::of(prop)))
                .collect(),
            items,
            additional_properties,
            nullable: props.nullable.unwrap_or(false),
            default: props.default.as_ref().map(|json| json.0.clone()),
            preserve_unknown_fields: props.x_kubernetes_preserve_unknown_fields.unwrap_or(false),
            embedded_resource: props.x_kubernetes_embedded_resource.unwrap_or(false),
            int_or_string: props.x_kubernetes_int_or_string.unwrap_or(false),
            list_type: props.x_kubernetes_list_type.clone(),
            list_map_keys: props.x_kubernetes_list_map_keys.clone().unwrap_or_default(),
            map_type: props.x_kubernetes_map_type.clone(),
            required: props.required.clone().unwrap_or_default(),
            max_items: props.max_items,
            max_length: props.max_length,
            max_properties: props.max_properties,
            rules: props.x_kubernetes_validations.clone().unwrap_or_default(),
        }
    }

    /// The schema of the values of a map without `properties`, if any:
    /// `additionalProperties` as a schema.
    pub(crate) fn additional_schema(&self) -> Option<&Node> {
        match &self.additional_properties {
            Some(Additional::Schema(schema)) => Some(schema),
            _ => None,
        }
    }

    /// The schema of the field `name` of an object: its property, or the
    /// schema of additional properties.
    pub(crate) fn field(&self, name: &str) -> Option<&Node> {
        self.properties
            .get(name)
            .or_else(|| self.additional_schema())
    }
}

impl Structural {
    /// Checks `props`, the `openAPIV3Schema` of a CRD version found at
    /// `path`, and keeps it: the errors are upstream's, at paths under
    /// `path` (`spec.versions[0].schema.openAPIV3Schema.properties[spec].type:
    /// Required value: must not be empty for specified object fields`).
    pub fn from_props(props: &JSONSchemaProps, path: &FieldPath) -> Result<Self, Vec<FieldError>> {
        structural::check(props, path)?;
        let mut patterns = HashMap::new();
        structural::collect_patterns(props, &mut patterns);
        Ok(Self {
            root: Node::of(props),
            source: props.clone(),
            patterns,
        })
    }

    /// The schema as written.
    pub fn props(&self) -> &JSONSchemaProps {
        &self.source
    }

    pub(crate) fn root(&self) -> &Node {
        &self.root
    }

    /// Removes from `object`, a whole custom resource, every field the
    /// schema does not specify, except where
    /// `x-kubernetes-preserve-unknown-fields` keeps them; `apiVersion`,
    /// `kind` and `metadata` are kept at the root and in embedded resources,
    /// and `metadata` is cut down to the fields of an ObjectMeta. Returns
    /// the paths of the removed fields (`spec.foo`, `spec.list[0].bar`), in
    /// the order met; [`unknown_field_warning`] words them as upstream.
    pub fn prune(&self, object: &mut Value) -> Vec<String> {
        prune::prune_root(object, &self.root)
    }

    /// Fills in the defaults of `object`, a whole custom resource, top-down
    /// as upstream: a property that is absent, or null where the schema is
    /// not nullable, gets its default, and so do null items and null
    /// additional properties; then the nulls that are neither nullable nor
    /// defaulted are dropped.
    pub fn apply_defaults(&self, object: &mut Value) {
        defaults::apply(object, &self.root);
        defaults::drop_non_nullable_nulls(object, &self.root);
    }

    /// Checks `value` against the schema: the field errors of upstream's
    /// validation of custom resources, at paths under `path` (the root of
    /// an object when `path` is empty). The `x-kubernetes-validations`
    /// rules are [`cel::Rules`]'.
    pub fn validate(&self, value: &Value, path: &FieldPath) -> Vec<FieldError> {
        let mut errors =
            validate::Validator::new(&self.patterns).validate(&self.source, value, path);
        errors.extend(validate::list_types(&self.root, value, path));
        errors.extend(metadata::embedded_type_meta(&self.root, value, path, true));
        errors
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A schema from its JSON form, as a CRD manifest writes it.
    pub(crate) fn props(json: Value) -> JSONSchemaProps {
        serde_json::from_value(json).expect("a valid JSONSchemaProps")
    }

    /// A checked schema from its JSON form.
    pub(crate) fn structural(json: Value) -> Structural {
        Structural::from_props(&props(json), &FieldPath::root())
            .unwrap_or_else(|errors| panic!("not structural: {errors:?}"))
    }

    /// The rendered messages of `errors`.
    pub(crate) fn messages(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }
}
