//! The small text formats the printers share, as upstream's printers write
//! them: ages (`duration.HumanDuration`), label maps, label selectors,
//! container names and images, access modes.

use std::collections::BTreeMap;

use crate::label_selector::Selector;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, MicroTime, Time};

/// Upstream's `duration.HumanDuration`: about two significant figures,
/// `45s`, `119s`, `2m30s`, `15m`, `3h20m`, `20h`, `3d4h`, `40d`, `3y20d`.
pub fn human_duration(duration: SignedDuration) -> String {
    let seconds = duration.as_secs();
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return with_remainder(minutes, "m", seconds % 60, "s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return with_remainder(days, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    if hours < 24 * 365 * 8 {
        return with_remainder(days / 365, "y", days % 365, "d");
    }
    format!("{}y", days / 365)
}

/// `3m` when the remainder is zero, `3m20s` otherwise.
fn with_remainder(major: i64, major_unit: &str, minor: i64, minor_unit: &str) -> String {
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
}

/// Upstream's `translateTimestampSince`: the age of `timestamp` at `now`,
/// `<unknown>` when it is unset.
pub fn since(timestamp: Option<Timestamp>, now: Timestamp) -> String {
    match timestamp {
        Some(timestamp) => human_duration(now.duration_since(timestamp)),
        None => "<unknown>".to_string(),
    }
}

/// The age of an optional `Time`.
pub fn age(time: Option<&Time>, now: Timestamp) -> String {
    since(time.map(|t| t.0), now)
}

/// The age of an optional `MicroTime`.
pub fn micro_age(time: Option<&MicroTime>, now: Timestamp) -> String {
    since(time.map(|t| t.0), now)
}

/// Upstream's `labels.FormatLabels`: `a=1,b=2` sorted by key, `<none>` when
/// empty.
pub fn labels(map: Option<&BTreeMap<String, String>>) -> String {
    let text = map
        .into_iter()
        .flatten()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",");
    if text.is_empty() {
        "<none>".to_string()
    } else {
        text
    }
}

/// Upstream's `metav1.FormatLabelSelector`: the selector's string form,
/// `<none>` when it selects nothing or everything, `<error>` when invalid.
pub fn label_selector(selector: Option<&LabelSelector>) -> String {
    match Selector::from_optional_label_selector(selector) {
        Ok(selector) => {
            let text = selector.to_string();
            if text.is_empty() {
                "<none>".to_string()
            } else {
                text
            }
        }
        Err(_) => "<error>".to_string(),
    }
}

/// The selector column of deployments: the selector's string form (empty
/// when absent), `<invalid>` when invalid.
pub fn selector_string(selector: Option<&LabelSelector>) -> String {
    Selector::from_optional_label_selector(selector)
        .map_or_else(|_| "<invalid>".to_string(), |s| s.to_string())
}

/// Upstream's `layoutContainerCells`: container names and images, each
/// joined with commas.
pub fn containers(containers: &[Container]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or_default())
        .collect();
    (names.join(","), images.join(","))
}

/// Upstream's `GetAccessModesAsString`: `RWO,ROX,RWX,RWOP`, in that fixed
/// order, each once.
pub fn access_modes(modes: Option<&Vec<String>>) -> String {
    let modes = modes.map(Vec::as_slice).unwrap_or_default();
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| modes.iter().any(|m| m == mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// A quantity as upstream's `Quantity.String()` prints it: canonical form.
pub fn quantity(text: Option<&str>) -> String {
    let text = text.unwrap_or("0");
    crate::Quantity::parse(text).map_or_else(|_| text.to_string(), |q| q.canonical())
}

/// Upstream's `printBoolPtr`: `True`, `False` or `<unset>`.
pub fn bool_ptr(value: Option<bool>) -> String {
    match value {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
    .to_string()
}

/// Upstream's `listWithMoreString`: at most `max` items, then
/// `+ N more...`; `<unset>` when empty.
pub fn list_with_more(items: &[String], max: usize) -> String {
    let shown = items[..items.len().min(max)].join(",");
    if items.len() > max {
        format!("{shown} + {} more...", items.len() - max)
    } else if shown.is_empty() {
        "<unset>".to_string()
    } else {
        shown
    }
}

/// `<none>` for an empty string.
pub fn or_none(text: &str) -> String {
    if text.is_empty() {
        "<none>".to_string()
    } else {
        text.to_string()
    }
}
