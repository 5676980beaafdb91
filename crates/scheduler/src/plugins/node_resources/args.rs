//! The two plugins' arguments as a profile's `pluginConfig` gives them
//! (upstream's `NodeResourcesFitArgs` and
//! `NodeResourcesBalancedAllocationArgs`, camelCase JSON), with
//! upstream's v1 defaults applied and its validation run: a bad field is
//! an error naming the field, as `kube-scheduler` refuses to start with
//! it.

use keelson_api::validation::is_qualified_name;
use keelson_api::{FieldError, FieldPath};
use serde::Deserialize;

use crate::framework::MAX_NODE_SCORE;

/// The highest score a `requestedToCapacityRatio` shape point may give
/// (upstream's `MaxCustomPriorityScore`); it is scaled to
/// [`MAX_NODE_SCORE`].
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

const LEAST_ALLOCATED: &str = "LeastAllocated";
const MOST_ALLOCATED: &str = "MostAllocated";
const REQUESTED_TO_CAPACITY_RATIO: &str = "RequestedToCapacityRatio";
const STRATEGIES: [&str; 3] = [LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO];

/// A resource a score weighs, and how much.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResourceSpec {
    pub name: String,
    #[serde(default)]
    pub weight: i64,
}

/// One point of a `requestedToCapacityRatio` shape: at `utilization`
/// percent, the node scores `score` (0..=10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct UtilizationShapePoint {
    #[serde(default)]
    pub utilization: i32,
    #[serde(default)]
    pub score: i32,
}

#[derive(Debug, Default, Deserialize)]
struct RequestedToCapacityRatioParam {
    #[serde(default)]
    shape: Vec<UtilizationShapePoint>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScoringStrategyArgs {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    resources: Vec<ResourceSpec>,
    requested_to_capacity_ratio: Option<RequestedToCapacityRatioParam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FitArgsWire {
    #[serde(default)]
    ignored_resources: Vec<String>,
    #[serde(default)]
    ignored_resource_groups: Vec<String>,
    scoring_strategy: Option<ScoringStrategyArgs>,
}

#[derive(Debug, Default, Deserialize)]
struct BalancedAllocationArgsWire {
    #[serde(default)]
    resources: Vec<ResourceSpec>,
}

/// How `NodeResourcesFit` scores a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// The emptier the node, the better (spreading).
    LeastAllocated,
    /// The fuller the node, the better (bin packing).
    MostAllocated,
    /// A broken line through the shape's points, `(utilization, score)`
    /// with scores already scaled to 0..=[`MAX_NODE_SCORE`].
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

/// `NodeResourcesFit`'s arguments, defaulted and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitArgs {
    pub ignored_resources: Vec<String>,
    pub ignored_resource_groups: Vec<String>,
    pub strategy: Strategy,
    pub resources: Vec<ResourceSpec>,
}

/// cpu and memory, weight 1 each: what both plugins weigh by default.
pub fn default_resources() -> Vec<ResourceSpec> {
    ["cpu", "memory"]
        .map(|name| ResourceSpec {
            name: name.to_string(),
            weight: 1,
        })
        .to_vec()
}

/// Parses, defaults and validates `NodeResourcesFitArgs`.
pub fn fit_args(args: Option<&serde_json::Value>) -> Result<FitArgs, String> {
    const KIND: &str = "NodeResourcesFitArgs";
    let wire: FitArgsWire = decode(KIND, args)?;
    let root = FieldPath::new(KIND);
    let mut errors = Vec::new();
    validate_ignored(&root, &wire, &mut errors);
    let mut strategy = wire
        .scoring_strategy
        .unwrap_or_else(|| ScoringStrategyArgs {
            kind: LEAST_ALLOCATED.to_string(),
            ..Default::default()
        });
    default_weights(&mut strategy.resources);
    let strategy_path = root.child("scoringStrategy");
    if !STRATEGIES.contains(&strategy.kind.as_str()) {
        let path = strategy_path.child("type");
        errors.push(FieldError::not_supported(
            &path,
            strategy.kind.clone(),
            &STRATEGIES,
        ));
    }
    validate_weights(
        &strategy.resources,
        &strategy_path.child("resources"),
        &mut errors,
    );
    if let Some(ratio) = &strategy.requested_to_capacity_ratio {
        // Upstream names the shape `scoringStrategy.shape` in its errors.
        validate_shape(&ratio.shape, &strategy_path.child("shape"), &mut errors);
    }
    let scorer = match strategy.kind.as_str() {
        MOST_ALLOCATED => Strategy::MostAllocated,
        REQUESTED_TO_CAPACITY_RATIO => match &strategy.requested_to_capacity_ratio {
            Some(ratio) => Strategy::RequestedToCapacityRatio(scaled(&ratio.shape)),
            None => {
                let path = strategy_path.child("requestedToCapacityRatio");
                errors.push(FieldError::required(&path, ""));
                Strategy::LeastAllocated
            }
        },
        _ => Strategy::LeastAllocated,
    };
    aggregate(errors)?;
    Ok(FitArgs {
        ignored_resources: wire.ignored_resources,
        ignored_resource_groups: wire.ignored_resource_groups,
        strategy: scorer,
        resources: strategy.resources,
    })
}

/// Parses, defaults and validates `NodeResourcesBalancedAllocationArgs`:
/// the resources weighed (each of weight 1, none twice).
pub fn balanced_allocation_args(
    args: Option<&serde_json::Value>,
) -> Result<Vec<ResourceSpec>, String> {
    const KIND: &str = "NodeResourcesBalancedAllocationArgs";
    let wire: BalancedAllocationArgsWire = decode(KIND, args)?;
    let mut resources = wire.resources;
    default_weights(&mut resources);
    let path = FieldPath::new(KIND).child("resources");
    let mut errors = Vec::new();
    for (i, resource) in resources.iter().enumerate() {
        let entry = path.index(i);
        if resources[..i].iter().any(|seen| seen.name == resource.name) {
            let name = resource.name.clone();
            errors.push(FieldError::duplicate(&entry.child("name"), name));
        }
        if resource.weight != 1 {
            let weight = resource.weight;
            errors.push(FieldError::invalid(
                &entry.child("weight"),
                weight,
                "must be 1",
            ));
        }
    }
    aggregate(errors)?;
    Ok(resources)
}

fn decode<T: Default + serde::de::DeserializeOwned>(
    kind: &str,
    args: Option<&serde_json::Value>,
) -> Result<T, String> {
    match args {
        None | Some(serde_json::Value::Null) => Ok(T::default()),
        Some(value) => {
            T::deserialize(value).map_err(|err| format!("{kind}: failed to decode: {err}"))
        }
    }
}

/// Upstream's v1 defaults: no resources means cpu and memory; a weight
/// left out (or 0) means 1.
fn default_weights(resources: &mut Vec<ResourceSpec>) {
    if resources.is_empty() {
        *resources = default_resources();
    }
    for resource in resources.iter_mut().filter(|r| r.weight == 0) {
        resource.weight = 1;
    }
}

fn validate_ignored(root: &FieldPath, wire: &FitArgsWire, errors: &mut Vec<FieldError>) {
    let path = root.child("ignoredResources");
    for (i, name) in wire.ignored_resources.iter().enumerate() {
        label_name(&path.index(i), name, errors);
    }
    let path = root.child("ignoredResourceGroups");
    for (i, group) in wire.ignored_resource_groups.iter().enumerate() {
        if group.contains('/') {
            let detail = "resource group name can't contain '/'";
            errors.push(FieldError::invalid(&path.index(i), group.clone(), detail));
        }
        label_name(&path.index(i), group, errors);
    }
}

fn label_name(path: &FieldPath, name: &str, errors: &mut Vec<FieldError>) {
    for message in is_qualified_name(name) {
        errors.push(FieldError::invalid(path, name, message));
    }
}

fn validate_weights(resources: &[ResourceSpec], path: &FieldPath, errors: &mut Vec<FieldError>) {
    for (i, resource) in resources.iter().enumerate() {
        if resource.weight <= 0 || resource.weight > 100 {
            let detail = format!(
                "resource weight of {} not in valid range (0, 100]",
                resource.name
            );
            let weight = resource.weight;
            errors.push(FieldError::invalid(
                &path.index(i).child("weight"),
                weight,
                detail,
            ));
        }
    }
}

fn validate_shape(shape: &[UtilizationShapePoint], path: &FieldPath, errors: &mut Vec<FieldError>) {
    if shape.is_empty() {
        errors.push(FieldError::required(
            path,
            "at least one point must be specified",
        ));
        return;
    }
    if let Some(i) = (1..shape.len()).find(|&i| shape[i - 1].utilization >= shape[i].utilization) {
        let path = path.index(i).child("utilization");
        let detail = "values must be sorted in increasing order";
        errors.push(FieldError::invalid(&path, shape[i].utilization, detail));
    }
    for (i, point) in shape.iter().enumerate() {
        if !(0..=100).contains(&point.utilization) {
            let path = path.index(i).child("utilization");
            let detail = "not in valid range [0, 100]";
            errors.push(FieldError::invalid(&path, point.utilization, detail));
        }
        if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&i64::from(point.score)) {
            let path = path.index(i).child("score");
            let detail = format!("not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]");
            errors.push(FieldError::invalid(&path, point.score, detail));
        }
    }
}

/// The shape with its scores scaled from 0..=10 to the node score range.
fn scaled(shape: &[UtilizationShapePoint]) -> Vec<(i64, i64)> {
    let factor = MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE;
    shape
        .iter()
        .map(|p| (i64::from(p.utilization), i64::from(p.score) * factor))
        .collect()
}

/// The errors as one message, as upstream's aggregate prints them.
fn aggregate(errors: Vec<FieldError>) -> Result<(), String> {
    match errors.as_slice() {
        [] => Ok(()),
        [only] => Err(only.to_string()),
        many => {
            let messages: Vec<String> = many.iter().map(ToString::to_string).collect();
            Err(format!("[{}]", messages.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fit(args: serde_json::Value) -> Result<FitArgs, String> {
        fit_args(Some(&args))
    }

    #[test]
    fn no_arguments_mean_least_allocated_over_cpu_and_memory() {
        let args = fit_args(None).expect("defaults are valid");
        assert_eq!(args.strategy, Strategy::LeastAllocated);
        assert_eq!(args.resources, default_resources());
        let args = fit(json!({"scoringStrategy": {"type": "MostAllocated",
            "resources": [{"name": "cpu"}, {"name": "example.com/gpu", "weight": 3}]}}))
        .expect("valid");
        assert_eq!(args.strategy, Strategy::MostAllocated);
        assert_eq!(args.resources[0].weight, 1);
        assert_eq!(args.resources[1].weight, 3);
    }

    #[test]
    fn a_shape_is_scaled_to_node_scores() {
        let args = fit(
            json!({"scoringStrategy": {"type": "RequestedToCapacityRatio",
            "requestedToCapacityRatio": {"shape": [
                {"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]}}}),
        )
        .expect("valid");
        let shape = vec![(0, 0), (100, 100)];
        assert_eq!(args.strategy, Strategy::RequestedToCapacityRatio(shape));
    }

    #[test]
    fn bad_fields_are_named_in_the_error() {
        let cases = [
            (
                json!({"scoringStrategy": {"type": "Foo"}}),
                "NodeResourcesFitArgs.scoringStrategy.type: Unsupported value: \"Foo\": supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\"",
            ),
            (
                json!({"scoringStrategy": {"type": "LeastAllocated", "resources": [{"name": "cpu", "weight": 101}]}}),
                "NodeResourcesFitArgs.scoringStrategy.resources[0].weight: Invalid value: 101: resource weight of cpu not in valid range (0, 100]",
            ),
            (
                json!({"ignoredResourceGroups": ["example.com/aaa"]}),
                "NodeResourcesFitArgs.ignoredResourceGroups[0]: Invalid value: \"example.com/aaa\": resource group name can't contain '/'",
            ),
            (
                json!({"scoringStrategy": {"type": "RequestedToCapacityRatio",
                    "requestedToCapacityRatio": {"shape": []}}}),
                "NodeResourcesFitArgs.scoringStrategy.shape: Required value: at least one point must be specified",
            ),
            (
                json!({"scoringStrategy": {"type": "RequestedToCapacityRatio",
                    "requestedToCapacityRatio": {"shape": [
                        {"utilization": 50, "score": 1}, {"utilization": 10, "score": 11}]}}}),
                "[NodeResourcesFitArgs.scoringStrategy.shape[1].utilization: Invalid value: 10: values must be sorted in increasing order, NodeResourcesFitArgs.scoringStrategy.shape[1].score: Invalid value: 11: not in valid range [0, 10]]",
            ),
            (
                json!({"scoringStrategy": {"type": "RequestedToCapacityRatio"}}),
                "NodeResourcesFitArgs.scoringStrategy.requestedToCapacityRatio: Required value",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(fit(args.clone()).expect_err("invalid"), want, "{args}");
        }
        let err = fit(json!({"ignoredResources": ["a/b/c"]})).expect_err("not a label name");
        assert!(
            err.starts_with("NodeResourcesFitArgs.ignoredResources[0]: Invalid value: \"a/b/c\"")
        );
        let err = fit(json!({"ignoredResources": "cpu"})).expect_err("not a list");
        assert!(
            err.starts_with("NodeResourcesFitArgs: failed to decode"),
            "{err}"
        );
    }

    #[test]
    fn balanced_allocation_weighs_each_resource_once_with_weight_one() {
        let resources = balanced_allocation_args(None).expect("defaults are valid");
        assert_eq!(resources, default_resources());
        let args = json!({"resources": [{"name": "cpu"}, {"name": "cpu", "weight": 2}]});
        assert_eq!(
            balanced_allocation_args(Some(&args)).expect_err("invalid"),
            "[NodeResourcesBalancedAllocationArgs.resources[1].name: Duplicate value: \"cpu\", NodeResourcesBalancedAllocationArgs.resources[1].weight: Invalid value: 2: must be 1]"
        );
    }
}
