//! The check of a CustomResourceDefinition's schemas when it is written,
//! which the definition's own validation (in `keelson_api`, without the
//! schema machinery) leaves to the server: every version's
//! `openAPIV3Schema` must be structural ([`super::schema::Structural`])
//! and its `x-kubernetes-validations` rules must compile. And, for a
//! resource keelson already serves built in, the definition is refused
//! rather than served half-way behind the built-in one. Errors are one
//! 422 with every field path.

use keelson_api::field_error::FieldError;
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use keelson_api::{ApiError, registry};
use serde_json::Value;

use super::controller::{GROUP, PLURAL};
use super::schema::{Structural, cel::Rules};
use crate::meta::meta_str;
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

/// The admission step.
pub struct DefinitionSchemas;

#[async_trait::async_trait]
impl Admission for DefinitionSchemas {
    fn name(&self) -> &'static str {
        "CustomResourceDefinitionSchemas"
    }

    async fn validate(
        &self,
        _objects: &Objects,
        write: &Attributes<'_>,
        object: &Value,
    ) -> Result<(), ApiError> {
        let writes = matches!(write.operation, Operation::Create | Operation::Update);
        if !writes
            || write.subresource.is_some()
            || write.resource.group != GROUP
            || write.resource.plural != PLURAL
        {
            return Ok(());
        }
        let errors = errors_of(object);
        match errors.is_empty() {
            true => Ok(()),
            false => Err(ApiError::invalid(
                GROUP,
                "CustomResourceDefinition",
                meta_str(object, "name"),
                &errors,
            )),
        }
    }
}

/// The schema and name errors of a definition.
pub fn errors_of(definition: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let group = definition["spec"]["group"].as_str().unwrap_or_default();
    let plural = definition["spec"]["names"]["plural"]
        .as_str()
        .unwrap_or_default();
    if let Some(built_in) = registry::all()
        .iter()
        .find(|r| r.group == group && r.plural == plural)
    {
        let path = FieldPath::new("spec").child("names").child("plural");
        errors.push(FieldError::invalid(
            &path,
            plural,
            format!(
                "the resource {} is built into the server and cannot be defined again",
                built_in.group_resource()
            ),
        ));
    }
    for (path, schema) in keelson_api::validate::apiextensions::openapi_schemas(definition) {
        let props: JSONSchemaProps = match serde_json::from_value(schema.clone()) {
            Ok(props) => props,
            Err(err) => {
                errors.push(FieldError::invalid(
                    &path,
                    Value::Null,
                    format!("not a schema: {err}"),
                ));
                continue;
            }
        };
        match Structural::from_props(&props, &path) {
            Ok(structural) => {
                if let Err(found) = Rules::compile(&structural, &path) {
                    errors.extend(found);
                }
            }
            Err(found) => errors.extend(found),
        }
    }
    errors
}
