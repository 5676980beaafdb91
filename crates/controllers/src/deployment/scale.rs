//! Proportional scaling: when a Deployment's replicas change while more
//! than one of its ReplicaSets has pods, the difference is shared among
//! them in proportion to their sizes, as upstream's `scale` does, so that
//! the rollout's progress is kept rather than restarted.
//!
//! Each ReplicaSet remembers, in its max-replicas annotation, the
//! Deployment's replicas + maxSurge when it was last scaled; its share is
//! its size times the new maximum over that one, rounded half away from
//! zero. Scaling up, the largest ReplicaSets go first and the newer of two
//! equal ones; scaling down, the largest go first and the older of two;
//! what the rounding leaves over goes to the first.

use keelson_api::k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::fenceposts::max_surge;
use super::rolling::{Action, Direction, scale_action, scale_to};
use super::{
    DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, available, by_creation, desired,
    int_annotation, is_rolling_update, spec_replicas,
};

/// Whether `rs` runs the whole Deployment: it has the Deployment's
/// replicas, was last scaled for them, and all are available.
pub fn is_saturated(d: &Deployment, rs: Option<&ReplicaSet>) -> bool {
    let Some(rs) = rs else { return false };
    let replicas = desired(d);
    int_annotation(rs, DESIRED_REPLICAS_ANNOTATION) == Some(replicas)
        && spec_replicas(rs) == replicas
        && available(rs) == replicas
}

/// Whether the Deployment's replicas changed since its active ReplicaSets
/// were last scaled (their desired-replicas annotation says otherwise):
/// then this sync only scales, it does not roll.
pub fn is_scaling_event(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old_rses: &[ReplicaSet],
) -> bool {
    if new_rs.is_none() {
        return false;
    }
    old_rses
        .iter()
        .chain(new_rs)
        .filter(|rs| spec_replicas(rs) > 0)
        .filter_map(|rs| int_annotation(rs, DESIRED_REPLICAS_ANNOTATION))
        .any(|annotated| annotated != desired(d))
}

/// The only active ReplicaSet, or the newest when none is active; `None`
/// when several are active (then they scale proportionally).
fn active_or_latest<'a>(
    new_rs: Option<&'a ReplicaSet>,
    old_rses: &'a [ReplicaSet],
) -> Option<&'a ReplicaSet> {
    let mut newest_first: Vec<&ReplicaSet> = old_rses.iter().collect();
    newest_first.sort_by(|a, b| by_creation(b, a));
    let mut active = newest_first
        .iter()
        .copied()
        .chain(new_rs)
        .filter(|rs| spec_replicas(rs) > 0);
    match (active.next(), active.next()) {
        (None, _) => new_rs.or(newest_first.first().copied()),
        (Some(only), None) => Some(only),
        (Some(_), Some(_)) => None,
    }
}

/// The scaling for a Deployment whose replicas changed (or that is
/// paused): the one active ReplicaSet takes the full count; a saturated
/// new ReplicaSet leaves the old ones at zero; otherwise, in a
/// RollingUpdate, every active ReplicaSet takes its share of the change.
pub fn scale(d: &Deployment, new_rs: Option<&ReplicaSet>, old_rses: &[ReplicaSet]) -> Vec<Action> {
    if let Some(rs) = active_or_latest(new_rs, old_rses) {
        return scale_to(d, rs, desired(d)).into_iter().collect();
    }
    if is_saturated(d, new_rs) {
        let active = old_rses.iter().filter(|rs| spec_replicas(rs) > 0);
        return active.filter_map(|rs| scale_to(d, rs, 0)).collect();
    }
    if !is_rolling_update(d) {
        return Vec::new();
    }
    proportional(d, new_rs, old_rses)
}

fn proportional(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old_rses: &[ReplicaSet],
) -> Vec<Action> {
    let mut active: Vec<&ReplicaSet> = old_rses
        .iter()
        .chain(new_rs)
        .filter(|rs| spec_replicas(rs) > 0)
        .collect();
    let replicas = desired(d);
    let allowed = if replicas > 0 {
        replicas + max_surge(d)
    } else {
        0
    };
    let to_add = allowed - active.iter().copied().map(spec_replicas).sum::<i32>();
    let by_size = |a: &&ReplicaSet, b: &&ReplicaSet| spec_replicas(b).cmp(&spec_replicas(a));
    let direction = if to_add < 0 {
        Direction::Down
    } else {
        Direction::Up
    };
    match to_add.signum() {
        1 => active.sort_by(|a, b| by_size(a, b).then_with(|| by_creation(b, a))),
        -1 => active.sort_by(|a, b| by_size(a, b).then_with(|| by_creation(a, b))),
        _ => {}
    }
    let mut added = 0;
    let mut sizes: Vec<i32> = active
        .iter()
        .map(|rs| {
            let share = proportion(d, rs, to_add, added);
            added += share;
            spec_replicas(rs) + share
        })
        .collect();
    if let Some(first) = sizes.first_mut().filter(|_| to_add != 0) {
        *first = (*first + to_add - added).max(0);
    }
    let max_replicas = replicas + max_surge(d);
    active
        .iter()
        .zip(sizes)
        .filter(|(rs, size)| {
            spec_replicas(rs) != *size
                || int_annotation(rs, DESIRED_REPLICAS_ANNOTATION) != Some(replicas)
                || int_annotation(rs, MAX_REPLICAS_ANNOTATION) != Some(max_replicas)
        })
        .map(|(rs, size)| scale_action(d, rs, size, direction))
        .collect()
}

/// `rs`'s share of `to_add` (upstream's `GetProportion`), bounded by what
/// is left of it after `added`.
fn proportion(d: &Deployment, rs: &ReplicaSet, to_add: i32, added: i32) -> i32 {
    if spec_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = fraction(d, rs);
    let left = to_add - added;
    if to_add > 0 {
        fraction.min(left)
    } else {
        fraction.max(left)
    }
}

/// How many replicas `rs` gains (or loses) when the Deployment's maximum
/// moves from the one it was last scaled for to the current one.
fn fraction(d: &Deployment, rs: &ReplicaSet) -> i32 {
    let replicas = desired(d);
    if replicas == 0 {
        return -spec_replicas(rs);
    }
    let max_now = i64::from(replicas + max_surge(d));
    let status_replicas = d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    // Without the annotation (someone edited the ReplicaSet) the
    // Deployment's current size stands in, as upstream does.
    let before = match int_annotation(rs, MAX_REPLICAS_ANNOTATION) {
        Some(n) if n != 0 => n,
        _ if status_replicas != 0 => status_replicas,
        _ => replicas,
    };
    let size = i64::from(spec_replicas(rs));
    let scaled = (size * max_now) as f64 / f64::from(before);
    // f64::round rounds half away from zero, as upstream's RoundToInt32.
    scaled.round() as i32 - spec_replicas(rs)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{annotated, deployment, rs};
    use super::*;

    fn sized(name: &str, created: i64, size: i32, desired: &str, max: &str) -> ReplicaSet {
        let rs = annotated(
            rs(name, created, size, size),
            DESIRED_REPLICAS_ANNOTATION,
            desired,
        );
        annotated(rs, MAX_REPLICAS_ANNOTATION, max)
    }

    fn sizes(actions: &[Action]) -> Vec<(String, i32, i32)> {
        actions
            .iter()
            .map(|a| match a {
                Action::ScaleReplicaSet { name, from, to, .. } => (name.clone(), *from, *to),
                other => panic!("not a scale: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn proportional_scaling_shares_the_change() {
        // (replicas, [(name, created, size, max annotation)], want sizes)
        type Case = (
            i32,
            &'static [(&'static str, i64, i32, &'static str)],
            &'static [(&'static str, i32, i32)],
        );
        let cases: &[Case] = &[
            // 10 -> 15 mid-rollout of 25%/25%: max 13 -> 19, +6 shared 4 / 2.
            (
                15,
                &[("old", 1, 8, "13"), ("new", 2, 5, "13")],
                &[("old", 8, 12), ("new", 5, 7)],
            ),
            // 10 -> 5: max 13 -> 7 (surge 2), -6: old 8 -> 4, new 5 -> 3.
            (
                5,
                &[("old", 1, 8, "13"), ("new", 2, 5, "13")],
                &[("old", 8, 4), ("new", 5, 3)],
            ),
            // Equal sizes scaling up: the newer first takes the leftover.
            (
                11,
                &[("old", 1, 5, "10"), ("new", 2, 5, "10")],
                &[("new", 5, 7), ("old", 5, 7)],
            ),
            // To zero: everything goes.
            (
                0,
                &[("old", 1, 8, "13"), ("new", 2, 5, "13")],
                &[("old", 8, 0), ("new", 5, 0)],
            ),
            // Three ReplicaSets, rounding leftover to the largest.
            (
                20,
                &[("a", 1, 3, "10"), ("b", 2, 3, "10"), ("c", 3, 4, "10")],
                &[("c", 4, 10), ("b", 3, 8), ("a", 3, 7)],
            ),
        ];
        for (replicas, rses, want) in cases {
            let d = deployment(*replicas, "25%", "25%");
            let all: Vec<ReplicaSet> = rses
                .iter()
                .map(|(n, c, s, m)| sized(n, *c, *s, "10", m))
                .collect();
            let (new, old) = all.split_last().expect("cases have ReplicaSets");
            let got = sizes(&scale(&d, Some(new), old));
            let want: Vec<_> = want
                .iter()
                .map(|(n, f, t)| (n.to_string(), *f, *t))
                .collect();
            assert_eq!(got, want, "to {replicas}");
            let total: i32 = got.iter().map(|(_, _, t)| t).sum();
            assert!(total <= *replicas + super::super::max_surge(&d), "{total}");
        }
    }

    #[test]
    fn one_active_replica_set_takes_the_full_count() {
        let d = deployment(15, "25%", "25%");
        let old = [sized("old", 1, 0, "10", "13")];
        let new = sized("new", 2, 10, "10", "13");
        let actions = scale(&d, Some(&new), &old);
        assert_eq!(sizes(&actions), [("new".to_string(), 10, 15)]);
        assert_eq!(
            actions[0].event().expect("a scale").message,
            "Scaled up replica set new from 10 to 15"
        );
    }

    #[test]
    fn a_saturated_new_replica_set_zeroes_the_old_ones() {
        let d = deployment(10, "25%", "25%");
        let new = sized("new", 2, 10, "10", "13");
        let old = [sized("old", 1, 2, "10", "13")];
        assert!(is_saturated(&d, Some(&new)));
        assert_eq!(
            sizes(&scale(&d, Some(&new), &old)),
            [("old".to_string(), 2, 0)]
        );
    }

    #[test]
    fn scaling_event_is_a_changed_desired_annotation() {
        let old = [sized("old", 1, 8, "10", "13")];
        let new = sized("new", 2, 5, "10", "13");
        assert!(!is_scaling_event(
            &deployment(10, "25%", "25%"),
            Some(&new),
            &old
        ));
        assert!(is_scaling_event(
            &deployment(15, "25%", "25%"),
            Some(&new),
            &old
        ));
        assert!(!is_scaling_event(&deployment(15, "25%", "25%"), None, &old));
    }
}
