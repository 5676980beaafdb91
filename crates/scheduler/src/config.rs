//! The scheduler's configuration: the subset of upstream's
//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`) keelson
//! reads — profiles with their plugins enabled and disabled per
//! extension point or at every point (`multiPoint`), score weights,
//! plugin arguments, `percentageOfNodesToScore`, the pod backoffs and
//! leader election — and the profiles built from it, upstream's defaults
//! merged as its v1 defaulting merges them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::framework::runtime::{ExtensionPoint, Framework};
use crate::framework::{Handle, Nominator, Plugin, Registry};

/// The profile name pods get by default (`spec.schedulerName`).
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// A configuration that cannot be used, naming the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read the scheduler configuration: {0}")]
    Parse(String),
    #[error("invalid scheduler configuration: {0}")]
    Invalid(String),
}

/// `KubeSchedulerConfiguration`, the fields keelson acts on (others are
/// accepted and ignored, as an upstream field keelson has no use for).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerConfiguration {
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// 0 (the default): upstream's adaptive percentage.
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<i32>,
    #[serde(default)]
    pub pod_initial_backoff_seconds: Option<i64>,
    #[serde(default)]
    pub pod_max_backoff_seconds: Option<i64>,
    #[serde(default)]
    pub leader_election: Option<LeaderElection>,
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

/// `leaderElection`: whether to elect, and on which Lease.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderElection {
    #[serde(default)]
    pub leader_elect: Option<bool>,
    #[serde(default)]
    pub resource_name: Option<String>,
    #[serde(default)]
    pub resource_namespace: Option<String>,
}

/// One profile: a scheduler name and its plugins.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(default)]
    pub scheduler_name: Option<String>,
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<i32>,
    #[serde(default)]
    pub plugins: Option<Plugins>,
    #[serde(default)]
    pub plugin_config: Vec<PluginConfig>,
}

/// The plugin sets of a profile, per extension point.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plugins {
    #[serde(default)]
    pub multi_point: PluginSet,
    #[serde(default)]
    pub queue_sort: PluginSet,
    #[serde(default)]
    pub pre_enqueue: PluginSet,
    #[serde(default)]
    pub pre_filter: PluginSet,
    #[serde(default)]
    pub filter: PluginSet,
    #[serde(default)]
    pub post_filter: PluginSet,
    #[serde(default)]
    pub pre_score: PluginSet,
    #[serde(default)]
    pub score: PluginSet,
    #[serde(default)]
    pub reserve: PluginSet,
    #[serde(default)]
    pub permit: PluginSet,
    #[serde(default)]
    pub pre_bind: PluginSet,
    #[serde(default)]
    pub bind: PluginSet,
    #[serde(default)]
    pub post_bind: PluginSet,
}

impl Plugins {
    fn at(&self, point: ExtensionPoint) -> (&PluginSet, &'static str) {
        match point {
            ExtensionPoint::QueueSort => (&self.queue_sort, "queueSort"),
            ExtensionPoint::PreEnqueue => (&self.pre_enqueue, "preEnqueue"),
            ExtensionPoint::PreFilter => (&self.pre_filter, "preFilter"),
            ExtensionPoint::Filter => (&self.filter, "filter"),
            ExtensionPoint::PostFilter => (&self.post_filter, "postFilter"),
            ExtensionPoint::PreScore => (&self.pre_score, "preScore"),
            ExtensionPoint::Score => (&self.score, "score"),
            ExtensionPoint::Reserve => (&self.reserve, "reserve"),
            ExtensionPoint::Permit => (&self.permit, "permit"),
            ExtensionPoint::PreBind => (&self.pre_bind, "preBind"),
            ExtensionPoint::Bind => (&self.bind, "bind"),
            ExtensionPoint::PostBind => (&self.post_bind, "postBind"),
        }
    }
}

/// Plugins enabled and disabled at one point (`*` disables every default).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginSet {
    #[serde(default)]
    pub enabled: Vec<PluginRef>,
    #[serde(default)]
    pub disabled: Vec<PluginRef>,
}

/// A plugin by name, with its weight where it scores.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginRef {
    pub name: String,
    #[serde(default)]
    pub weight: Option<i64>,
}

/// A plugin's arguments.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginConfig {
    pub name: String,
    #[serde(default)]
    pub args: Option<serde_json::Value>,
}

impl SchedulerConfiguration {
    /// Reads a configuration from YAML (or JSON).
    pub fn from_yaml(text: &str) -> Result<SchedulerConfiguration, ConfigError> {
        let config: SchedulerConfiguration =
            serde_yaml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        let kind_ok = config
            .kind
            .as_deref()
            .is_none_or(|k| k == "KubeSchedulerConfiguration");
        let version_ok = config
            .api_version
            .as_deref()
            .is_none_or(|v| v == "kubescheduler.config.k8s.io/v1");
        if !kind_ok || !version_ok {
            return Err(ConfigError::Parse(format!(
                "expected kubescheduler.config.k8s.io/v1 KubeSchedulerConfiguration, found {} {}",
                config.api_version.as_deref().unwrap_or_default(),
                config.kind.as_deref().unwrap_or_default()
            )));
        }
        Ok(config)
    }

    /// The initial and the longest backoff of a pod that failed
    /// (upstream's defaults 1 s and 10 s).
    pub fn backoffs(&self) -> Result<(Duration, Duration), ConfigError> {
        let initial = self.pod_initial_backoff_seconds.unwrap_or(1);
        let max = self.pod_max_backoff_seconds.unwrap_or(10);
        if initial <= 0 {
            return Err(invalid(
                "podInitialBackoffSeconds",
                initial,
                "must be greater than 0",
            ));
        }
        if max < initial {
            return Err(invalid(
                "podMaxBackoffSeconds",
                max,
                "must be greater than or equal to PodInitialBackoffSeconds",
            ));
        }
        let seconds = |s: i64| Duration::from_secs(s.unsigned_abs());
        Ok((seconds(initial), seconds(max)))
    }

    /// The profiles, built with `registry`'s plugins; the default profile
    /// when none is configured.
    pub fn frameworks(
        &self,
        registry: &Registry,
        handle: &Handle,
        nominator: &Arc<Nominator>,
    ) -> Result<Vec<Framework>, ConfigError> {
        check_percentage(
            "percentageOfNodesToScore",
            self.percentage_of_nodes_to_score,
        )?;
        let default = [Profile::default()];
        let profiles = if self.profiles.is_empty() {
            &default[..]
        } else {
            &self.profiles
        };
        let mut names = BTreeSet::new();
        let mut frameworks = Vec::new();
        for (index, profile) in profiles.iter().enumerate() {
            let field = format!("profiles[{index}]");
            let framework = build(profile, &field, registry, handle, nominator)?;
            if !names.insert(framework.name().to_string()) {
                return Err(invalid(
                    &format!("{field}.schedulerName"),
                    framework.name(),
                    "duplicate profile with scheduler name",
                ));
            }
            frameworks.push(framework);
        }
        let sorts: BTreeSet<_> = frameworks
            .iter()
            .map(|f| f.plugins_at(ExtensionPoint::QueueSort))
            .collect();
        if sorts.len() > 1 {
            return Err(ConfigError::Invalid(
                "profiles: Invalid value: queueSort must be the same for all profiles".to_string(),
            ));
        }
        Ok(frameworks)
    }
}

fn invalid(field: &str, value: impl std::fmt::Debug, why: &str) -> ConfigError {
    ConfigError::Invalid(format!("{field}: Invalid value: {value:?}: {why}"))
}

fn check_percentage(field: &str, value: Option<i32>) -> Result<(), ConfigError> {
    match value {
        Some(p) if !(0..=100).contains(&p) => Err(invalid(field, p, "not in valid range [0-100]")),
        _ => Ok(()),
    }
}

/// One profile: upstream's default plugins with the configuration's
/// changes, each plugin made once and enrolled at its points.
fn build(
    profile: &Profile,
    field: &str,
    registry: &Registry,
    handle: &Handle,
    nominator: &Arc<Nominator>,
) -> Result<Framework, ConfigError> {
    let name = profile
        .scheduler_name
        .clone()
        .unwrap_or_else(|| DEFAULT_SCHEDULER_NAME.to_string());
    check_percentage(
        &format!("{field}.percentageOfNodesToScore"),
        profile.percentage_of_nodes_to_score,
    )?;
    let plugins = profile.plugins.clone().unwrap_or_default();
    let multi = multi_point(&plugins, field)?;
    let mut args = BTreeMap::new();
    for (i, config) in profile.plugin_config.iter().enumerate() {
        if args
            .insert(config.name.clone(), config.args.clone())
            .is_some()
        {
            let at = format!("{field}.pluginConfig[{i}]");
            return Err(invalid(&at, &config.name, "duplicated"));
        }
    }
    let mut made: BTreeMap<String, Arc<dyn Plugin>> = BTreeMap::new();
    let mut make = |name: &str, at: &str| -> Result<Arc<dyn Plugin>, ConfigError> {
        if let Some(plugin) = made.get(name) {
            return Ok(plugin.clone());
        }
        let Some(factory) = registry.get(name) else {
            return Err(ConfigError::Invalid(format!(
                "{at}: plugin {name:?} does not exist"
            )));
        };
        let plugin_args = args.get(name).and_then(Option::as_ref);
        let plugin = factory(plugin_args, handle)
            .map_err(|e| ConfigError::Invalid(format!("{field}.pluginConfig[{name}]: {e}")))?;
        made.insert(name.to_string(), plugin.clone());
        Ok(plugin)
    };
    let mut framework = Framework::new(&name, nominator.clone());
    framework.percentage_of_nodes_to_score =
        profile.percentage_of_nodes_to_score.filter(|p| *p > 0);
    for point in ExtensionPoint::ALL {
        let (set, point_name) = plugins.at(point);
        let at = format!("{field}.plugins.{point_name}");
        for entry in enabled_at(point, set, &multi, &at, &mut make)? {
            framework
                .enrol(point, entry.0, entry.1)
                .map_err(|e| ConfigError::Invalid(format!("{at}: {e}")))?;
        }
    }
    for name in args.keys() {
        if !made.contains_key(name) {
            return Err(ConfigError::Invalid(format!(
                "{field}.pluginConfig: plugin {name:?} has arguments but is not enabled"
            )));
        }
    }
    if framework.plugins_at(ExtensionPoint::Bind).is_empty() {
        return Err(ConfigError::Invalid(format!(
            "{field}.plugins.bind: at least one bind plugin is needed"
        )));
    }
    if framework.plugins_at(ExtensionPoint::QueueSort).len() != 1 {
        return Err(ConfigError::Invalid(format!(
            "{field}.plugins.queueSort: exactly one queue sort plugin is needed"
        )));
    }
    Ok(framework)
}

/// The `multiPoint` plugins: the defaults less those disabled, then those
/// enabled (a default enabled again takes the new weight).
fn multi_point(plugins: &Plugins, field: &str) -> Result<Vec<(String, i64)>, ConfigError> {
    let set = &plugins.multi_point;
    let all_disabled = set.disabled.iter().any(|p| p.name == "*");
    let disabled: BTreeSet<_> = set.disabled.iter().map(|p| p.name.as_str()).collect();
    let mut list: Vec<(String, i64)> = crate::plugins::default_plugins()
        .filter(|(name, _)| !all_disabled && !disabled.contains(name))
        .map(|(name, weight)| (name.to_string(), weight))
        .collect();
    for (i, entry) in set.enabled.iter().enumerate() {
        let weight = weight_of(entry, &format!("{field}.plugins.multiPoint.enabled[{i}]"))?;
        match list.iter_mut().find(|(name, _)| *name == entry.name) {
            Some(existing) => existing.1 = weight.unwrap_or(existing.1),
            None => list.push((entry.name.clone(), weight.unwrap_or(0))),
        }
    }
    Ok(list)
}

fn weight_of(entry: &PluginRef, at: &str) -> Result<Option<i64>, ConfigError> {
    match entry.weight {
        Some(w) if !(0..=100).contains(&w) => Err(ConfigError::Invalid(format!(
            "{at}.weight: Invalid value: {w}: must be in the range [0, 100] (plugin {:?})",
            entry.name
        ))),
        other => Ok(other),
    }
}

type Enrolment = (Arc<dyn Plugin>, i64);

/// The plugins of one point: the multi-point ones that implement it and
/// are not disabled there, then the point's own enabled ones (a plugin in
/// both keeps its place and takes the point's weight).
fn enabled_at(
    point: ExtensionPoint,
    set: &PluginSet,
    multi: &[(String, i64)],
    at: &str,
    make: &mut impl FnMut(&str, &str) -> Result<Arc<dyn Plugin>, ConfigError>,
) -> Result<Vec<Enrolment>, ConfigError> {
    let all_disabled = set.disabled.iter().any(|p| p.name == "*");
    let disabled: BTreeSet<_> = set.disabled.iter().map(|p| p.name.as_str()).collect();
    let mut list: Vec<(String, Enrolment)> = Vec::new();
    for (name, weight) in multi {
        if all_disabled || disabled.contains(name.as_str()) {
            continue;
        }
        let plugin = make(name, &format!("{at} (multiPoint)"))?;
        if point.implemented_by(plugin.as_ref()) {
            list.push((name.clone(), (plugin, (*weight).max(1))));
        }
    }
    for (i, entry) in set.enabled.iter().enumerate() {
        let entry_at = format!("{at}.enabled[{i}]");
        let weight = weight_of(entry, &entry_at)?.filter(|w| *w > 0);
        let plugin = make(&entry.name, &entry_at)?;
        if !point.implemented_by(plugin.as_ref()) {
            return Err(ConfigError::Invalid(format!(
                "{entry_at}: plugin {:?} does not extend {point:?}",
                entry.name
            )));
        }
        match list.iter_mut().find(|(name, _)| *name == entry.name) {
            Some((_, existing)) => existing.1 = weight.unwrap_or(existing.1),
            None => list.push((entry.name.clone(), (plugin, weight.unwrap_or(1)))),
        }
    }
    Ok(list.into_iter().map(|(_, enrolment)| enrolment).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frameworks(yaml: &str) -> Result<Vec<Framework>, ConfigError> {
        let config = SchedulerConfiguration::from_yaml(yaml)?;
        let handle = Handle::offline(Default::default());
        config.frameworks(&crate::plugins::in_tree(), &handle, &Arc::default())
    }

    #[test]
    fn no_profile_is_the_default_profile_with_upstreams_weights() {
        let frameworks = frameworks("{}").expect("valid");
        let [framework] = frameworks.as_slice() else {
            panic!("one profile");
        };
        assert_eq!(framework.name(), "default-scheduler");
        let scores = framework.plugins_at(ExtensionPoint::Score);
        assert!(
            scores.contains(&("TaintToleration".to_string(), 3)),
            "{scores:?}"
        );
        assert_eq!(
            framework.plugins_at(ExtensionPoint::Bind),
            vec![("DefaultBinder".to_string(), 1)]
        );
    }

    #[test]
    fn plugins_are_disabled_and_weighted_per_point() {
        let yaml = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: packer
  plugins:
    multiPoint:
      disabled: [{name: NodeResourcesBalancedAllocation}]
    score:
      enabled: [{name: NodeResourcesFit, weight: 5}]
"#;
        let frameworks = frameworks(yaml).expect("valid");
        let packer = &frameworks[1];
        assert_eq!(packer.name(), "packer");
        let scores = packer.plugins_at(ExtensionPoint::Score);
        assert!(
            scores.contains(&("NodeResourcesFit".to_string(), 5)),
            "{scores:?}"
        );
        assert!(
            !scores
                .iter()
                .any(|(n, _)| n == "NodeResourcesBalancedAllocation")
        );
    }

    #[test]
    fn unknown_plugins_bad_weights_and_duplicate_names_are_refused_by_name() {
        let cases = [
            (
                "profiles: [{plugins: {filter: {enabled: [{name: Nope}]}}}]",
                "plugin \"Nope\" does not exist",
            ),
            (
                "profiles: [{plugins: {score: {enabled: [{name: NodeAffinity, weight: -1}]}}}]",
                "weight: Invalid value: -1",
            ),
            (
                "profiles: [{schedulerName: a}, {schedulerName: a}]",
                "duplicate profile",
            ),
            ("percentageOfNodesToScore: 101", "percentageOfNodesToScore"),
            (
                "profiles: [{plugins: {bind: {disabled: [{name: '*'}]}}}]",
                "at least one bind plugin",
            ),
            (
                "profiles: [{plugins: {filter: {enabled: [{name: PrioritySort}]}}}]",
                "does not extend Filter",
            ),
        ];
        for (yaml, expected) in cases {
            let err = frameworks(yaml)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(expected), "{yaml}: {err}");
        }
    }

    #[test]
    fn backoffs_default_to_one_and_ten_seconds() {
        let config = SchedulerConfiguration::from_yaml("{}").expect("valid");
        assert_eq!(
            config.backoffs().expect("valid"),
            (Duration::from_secs(1), Duration::from_secs(10))
        );
        let bad = SchedulerConfiguration::from_yaml("podMaxBackoffSeconds: 0").expect("parsed");
        assert!(bad.backoffs().is_err());
    }
}
