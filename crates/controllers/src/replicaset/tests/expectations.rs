//! Expectations of creates and deletes.

use super::*;

#[test]
fn expectations_hold_until_observed_or_expired() {
    enum Step {
        Creates(usize),
        Deletes(&'static [&'static str]),
        Created,
        Deleted(&'static str),
        Forget,
    }
    use Step::*;
    let cases: &[(&str, &[Step], i64, bool)] = &[
        ("nothing recorded", &[], 0, true),
        ("creates pending", &[Creates(2), Created], 0, false),
        ("creates all seen", &[Creates(2), Created, Created], 0, true),
        (
            "more seen than expected",
            &[Creates(1), Created, Created],
            0,
            true,
        ),
        ("zero creates", &[Creates(0)], 0, true),
        (
            "deletes pending",
            &[Deletes(&["ns/a", "ns/b"]), Deleted("ns/a")],
            0,
            false,
        ),
        (
            "a deletion counts once",
            &[Deletes(&["ns/a", "ns/b"]), Deleted("ns/a"), Deleted("ns/a")],
            0,
            false,
        ),
        (
            "an unexpected pod does not count",
            &[Deletes(&["ns/a"]), Deleted("ns/z")],
            0,
            false,
        ),
        (
            "deletes all seen",
            &[Deletes(&["ns/a", "ns/b"]), Deleted("ns/b"), Deleted("ns/a")],
            0,
            true,
        ),
        ("not yet expired at 5 minutes", &[Creates(1)], 300, false),
        ("expired after 5 minutes", &[Creates(1)], 301, true),
        ("forgotten", &[Creates(1), Forget], 0, true),
        (
            "creates replace deletes",
            &[Deletes(&["ns/a"]), Creates(1), Created],
            0,
            true,
        ),
    ];
    for (what, steps, later, want) in cases {
        let mut expectations = Expectations::new();
        for step in *steps {
            match step {
                Creates(n) => expectations.expect_creations("ns/web", *n, now()),
                Deletes(pods) => {
                    expectations.expect_deletions("ns/web", pods.iter().copied(), now())
                }
                Created => expectations.creation_observed("ns/web"),
                Deleted(pod) => expectations.deletion_observed("ns/web", pod),
                Forget => expectations.forget("ns/web"),
            }
        }
        let at = now() + SignedDuration::from_secs(*later);
        assert_eq!(expectations.satisfied("ns/web", at), *want, "{what}");
        assert!(expectations.satisfied("ns/other", at), "{what}: other keys");
    }
}

#[test]
fn pod_keys_are_namespace_slash_name() {
    assert_eq!(pod_key(&pod("a").build()), "default/a");
    let mut expectations = Expectations::new();
    expectations.expect_deletions("default/web", [pod_key(&pod("a").build())], now());
    assert_eq!(expectations.pending("default/web"), Some((0, 1)));
    expectations.deletion_observed("default/web", "default/a");
    assert_eq!(expectations.pending("default/web"), Some((0, 0)));
}
