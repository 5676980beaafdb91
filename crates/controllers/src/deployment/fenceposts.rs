//! maxSurge and maxUnavailable: an int-or-percent resolved against the
//! desired replicas, as upstream's `ResolveFenceposts` and intstr's
//! `GetScaledValueFromIntOrPercent` do it.

use keelson_api::k8s_openapi::api::apps::v1::Deployment;
use keelson_api::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{desired, is_rolling_update};

/// An int-or-string that is neither an integer nor an integer percentage.
///
/// Its text is upstream's, so that a user reads the same message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntOrPercentError {
    /// A string without a trailing `%`.
    NotAPercentage,
    /// A percentage whose number does not parse (`"abc%"`).
    InvalidNumber {
        /// The whole value as given.
        value: String,
        /// The part before the `%`.
        number: String,
        /// Whether the number was well-formed but too large.
        out_of_range: bool,
    },
}

impl std::fmt::Display for IntOrPercentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid value for IntOrString: ")?;
        match self {
            Self::NotAPercentage => write!(f, "invalid type: string is not a percentage"),
            Self::InvalidNumber {
                value,
                number,
                out_of_range,
            } => {
                let why = if *out_of_range {
                    "value out of range"
                } else {
                    "invalid syntax"
                };
                write!(
                    f,
                    "invalid value {value:?}: strconv.Atoi: parsing {number:?}: {why}"
                )
            }
        }
    }
}

impl std::error::Error for IntOrPercentError {}

/// The value of `value` against `total`: an integer as is, a percentage
/// of `total` rounded up or down.
pub fn scaled_value(
    value: &IntOrString,
    total: i32,
    round_up: bool,
) -> Result<i32, IntOrPercentError> {
    let text = match value {
        IntOrString::Int(i) => return Ok(*i),
        IntOrString::String(s) => s,
    };
    let number = text
        .strip_suffix('%')
        .ok_or(IntOrPercentError::NotAPercentage)?;
    let percent: i64 = number.parse().map_err(|e: std::num::ParseIntError| {
        let out_of_range = matches!(
            e.kind(),
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
        );
        IntOrPercentError::InvalidNumber {
            value: text.clone(),
            number: number.to_owned(),
            out_of_range,
        }
    })?;
    // Upstream computes in float64: value * total / 100, then ceil or floor.
    let exact = percent as f64 * f64::from(total) / 100.0;
    let rounded = if round_up {
        exact.ceil()
    } else {
        exact.floor()
    };
    // `as` saturates; validation keeps real values far inside i32.
    Ok(rounded as i32)
}

/// `(surge, unavailable)` for `desired` replicas: the surge is rounded up,
/// the unavailable rounded down, a missing value is 0, and when both come
/// to 0 the unavailable is 1 so that a rollout can always proceed.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), IntOrPercentError> {
    let zero = IntOrString::Int(0);
    let surge = scaled_value(max_surge.unwrap_or(&zero), desired, true)?;
    let unavailable = scaled_value(max_unavailable.unwrap_or(&zero), desired, false)?;
    if surge == 0 && unavailable == 0 {
        return Ok((0, 1));
    }
    Ok((surge, unavailable))
}

/// The Deployment's fenceposts; invalid values (rejected by validation)
/// count as 0, as upstream ignores the error there.
fn deployment_fenceposts(d: &Deployment) -> (i32, i32) {
    let rolling = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let default = IntOrString::String("25%".to_owned());
    // A missing rollingUpdate is defaulted by the API to 25% / 25%.
    let (surge, unavailable) = match rolling {
        Some(r) => (r.max_surge.as_ref(), r.max_unavailable.as_ref()),
        None => (Some(&default), Some(&default)),
    };
    resolve_fenceposts(surge, unavailable, desired(d)).unwrap_or((0, 0))
}

/// How many pods above the desired replicas a rollout may run (0 unless
/// RollingUpdate).
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    deployment_fenceposts(d).0
}

/// How many of the desired pods may be unavailable during a rollout (0
/// unless RollingUpdate, never more than the desired replicas).
pub fn max_unavailable(d: &Deployment) -> i32 {
    let replicas = desired(d);
    if !is_rolling_update(d) || replicas == 0 {
        return 0;
    }
    deployment_fenceposts(d).1.min(replicas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> IntOrString {
        IntOrString::String(s.to_owned())
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let i = IntOrString::Int;
        type Case = (Option<IntOrString>, Option<IntOrString>, i32, (i32, i32));
        let cases: &[Case] = &[
            (Some(p("25%")), Some(p("25%")), 10, (3, 2)),
            (Some(p("25%")), Some(p("25%")), 4, (1, 1)),
            (Some(p("25%")), Some(p("25%")), 1, (1, 0)),
            (Some(p("50%")), Some(p("50%")), 3, (2, 1)),
            (Some(p("10%")), Some(p("10%")), 5, (1, 0)),
            (Some(i(0)), Some(i(0)), 10, (0, 1)),
            (Some(p("0%")), Some(p("0%")), 10, (0, 1)),
            (None, None, 10, (0, 1)),
            (Some(p("10%")), Some(p("10%")), 0, (0, 1)),
            (Some(i(2)), Some(i(3)), 10, (2, 3)),
            (Some(i(0)), Some(p("100%")), 7, (0, 7)),
            (Some(p("200%")), None, 3, (6, 0)),
        ];
        for (surge, unavailable, desired, want) in cases {
            let got = resolve_fenceposts(surge.as_ref(), unavailable.as_ref(), *desired);
            assert_eq!(got, Ok(*want), "{surge:?} {unavailable:?} of {desired}");
        }
    }

    #[test]
    fn fenceposts_reject_bad_values_with_upstream_messages() {
        let cases = [
            (
                "25",
                "invalid value for IntOrString: invalid type: string is not a percentage",
            ),
            (
                "abc%",
                "invalid value for IntOrString: invalid value \"abc%\": strconv.Atoi: parsing \"abc\": invalid syntax",
            ),
            (
                "%",
                "invalid value for IntOrString: invalid value \"%\": strconv.Atoi: parsing \"\": invalid syntax",
            ),
            (
                "99999999999999999999%",
                "invalid value for IntOrString: invalid value \"99999999999999999999%\": strconv.Atoi: parsing \"99999999999999999999\": value out of range",
            ),
        ];
        for (value, message) in cases {
            let err = resolve_fenceposts(Some(&p(value)), None, 10).expect_err(value);
            assert_eq!(err.to_string(), message);
            let err = resolve_fenceposts(None, Some(&p(value)), 10).expect_err(value);
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn deployment_limits_follow_the_strategy() {
        use super::super::testing::deployment;
        let mut d = deployment(10, "25%", "25%");
        assert_eq!((max_surge(&d), max_unavailable(&d)), (3, 2));
        d.spec
            .as_mut()
            .and_then(|s| s.strategy.as_mut())
            .expect("strategy")
            .type_ = Some("Recreate".into());
        assert_eq!((max_surge(&d), max_unavailable(&d)), (0, 0));
        let d = deployment(2, "0", "300%");
        assert_eq!(max_unavailable(&d), 2, "never more than the replicas");
        let d = deployment(0, "1", "1");
        assert_eq!(max_unavailable(&d), 0);
    }
}
