//! `NodeAffinityArgs`: the profile's `addedAffinity`, a node affinity
//! applied to every pod the profile schedules, checked as upstream's
//! `ValidateNodeAffinityArgs`.

use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::api::core::v1::NodeAffinity;
use serde::Deserialize;

use super::selector::{PreferredTerms, Selector};

/// The arguments as configured. Unknown fields are rejected, as
/// upstream's strict decoding of the configuration does; `apiVersion` and
/// `kind` are accepted (and ignored) so that the args may name their type.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Raw {
    #[serde(default, rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(default, rename = "kind")]
    _kind: Option<String>,
    #[serde(default)]
    added_affinity: Option<NodeAffinity>,
}

/// The arguments parsed.
#[derive(Debug, Default)]
pub struct NodeAffinityArgs {
    /// The added required terms, if any.
    pub required: Option<Selector>,
    /// The added preferred terms, if there are any.
    pub preferred: Option<PreferredTerms>,
}

impl NodeAffinityArgs {
    /// Parses and checks `args` (none: no added affinity).
    pub fn parse(args: Option<&serde_json::Value>) -> Result<NodeAffinityArgs, String> {
        let raw: Raw = match args {
            None | Some(serde_json::Value::Null) => Raw::default(),
            Some(value) => Raw::deserialize(value).map_err(|e| format!("NodeAffinityArgs: {e}"))?,
        };
        let Some(added) = raw.added_affinity else {
            return Ok(NodeAffinityArgs::default());
        };
        let path = FieldPath::new("addedAffinity");
        let mut errors = Vec::new();
        let required = added
            .required_during_scheduling_ignored_during_execution
            .as_ref()
            .and_then(|selector| {
                let path = path.child("requiredDuringSchedulingIgnoredDuringExecution");
                Selector::strict(selector, &path)
                    .map_err(|mut e| errors.append(&mut e))
                    .ok()
            });
        let preferred = added
            .preferred_during_scheduling_ignored_during_execution
            .as_deref()
            .filter(|terms| !terms.is_empty())
            .and_then(|terms| {
                let path = path.child("preferredDuringSchedulingIgnoredDuringExecution");
                PreferredTerms::parse(terms, &path)
                    .map_err(|mut e| errors.append(&mut e))
                    .ok()
            });
        if !errors.is_empty() {
            let messages: Vec<String> = errors
                .iter()
                .map(|error| format!("NodeAffinityArgs.{error}"))
                .collect();
            return Err(messages.join("; "));
        }
        Ok(NodeAffinityArgs {
            required,
            preferred,
        })
    }
}
