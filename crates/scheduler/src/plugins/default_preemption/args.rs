//! `DefaultPreemptionArgs`: how many nodes the dry run must find as
//! candidates before it stops, defaulted and validated as upstream's
//! `v1.DefaultPreemptionArgs` and `ValidateDefaultPreemptionArgs`.

use serde::Deserialize;

/// The plugin's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultPreemptionArgs {
    /// The share of the nodes (0..=100) to find as candidates.
    pub min_candidate_nodes_percentage: i32,
    /// The number of candidates to find at least (when there are as many
    /// nodes).
    pub min_candidate_nodes_absolute: i32,
}

impl Default for DefaultPreemptionArgs {
    fn default() -> DefaultPreemptionArgs {
        DefaultPreemptionArgs {
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 100,
        }
    }
}

/// The arguments as configurations spell them (`kind` and `apiVersion`
/// may come along with them).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Wire {
    #[serde(default)]
    min_candidate_nodes_percentage: Option<i32>,
    #[serde(default)]
    min_candidate_nodes_absolute: Option<i32>,
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    api_version: Option<serde::de::IgnoredAny>,
}

const PERCENTAGE: &str = "DefaultPreemptionArgs.minCandidateNodesPercentage";
const ABSOLUTE: &str = "DefaultPreemptionArgs.minCandidateNodesAbsolute";

impl DefaultPreemptionArgs {
    /// The arguments of a profile's `pluginConfig` entry (defaults for
    /// what it leaves out), or why they are invalid.
    pub fn from_json(args: Option<&serde_json::Value>) -> Result<DefaultPreemptionArgs, String> {
        let defaults = DefaultPreemptionArgs::default();
        let Some(value) = args.filter(|v| !v.is_null()) else {
            return Ok(defaults);
        };
        let wire = Wire::deserialize(value)
            .map_err(|err| format!("decoding DefaultPreemptionArgs: {err}"))?;
        let args = DefaultPreemptionArgs {
            min_candidate_nodes_percentage: wire
                .min_candidate_nodes_percentage
                .unwrap_or(defaults.min_candidate_nodes_percentage),
            min_candidate_nodes_absolute: wire
                .min_candidate_nodes_absolute
                .unwrap_or(defaults.min_candidate_nodes_absolute),
        };
        args.validate()?;
        Ok(args)
    }

    /// Every rule upstream checks, all errors reported together.
    pub fn validate(&self) -> Result<(), String> {
        let percentage = self.min_candidate_nodes_percentage;
        let absolute = self.min_candidate_nodes_absolute;
        let mut errors = Vec::new();
        if !(0..=100).contains(&percentage) {
            errors.push(format!(
                "{PERCENTAGE}: Invalid value: {percentage}: not in valid range [0, 100]"
            ));
        }
        if absolute < 0 {
            errors.push(format!(
                "{ABSOLUTE}: Invalid value: {absolute}: not in valid range [0, inf)"
            ));
        }
        if percentage == 0 && absolute == 0 {
            errors.push(format!(
                "{PERCENTAGE}: Invalid value: 0: cannot be zero at the same time as minCandidateNodesAbsolute"
            ));
            errors.push(format!(
                "{ABSOLUTE}: Invalid value: 0: cannot be zero at the same time as minCandidateNodesPercentage"
            ));
        }
        match errors.as_slice() {
            [] => Ok(()),
            [one] => Err(one.clone()),
            many => Err(format!("[{}]", many.join(", "))),
        }
    }

    /// How many candidates a dry run over `nodes` nodes looks for
    /// (upstream's `calculateNumCandidates`): the percentage of them, at
    /// least the absolute number, at most all of them.
    pub fn num_candidates(&self, nodes: usize) -> usize {
        let percentage = usize::try_from(self.min_candidate_nodes_percentage).unwrap_or(0);
        let absolute = usize::try_from(self.min_candidate_nodes_absolute).unwrap_or(0);
        (nodes * percentage / 100).max(absolute).min(nodes)
    }
}
