//! The in-process API server of these tests: `keelson_apiserver::testing`
//! (behind the crate's `testing` feature, which the dev-dependencies turn
//! on), so that other crates' tests use the same fixture.

// Each test file includes this module and uses only some of it.
#![allow(unused_imports)]

pub use keelson_apiserver::testing::*;

/// [`keelson_apiserver::on_every_backend!`], at the root of the test crate
/// where the test files call it.
#[macro_export]
macro_rules! on_every_backend {
    ($($scenario:ident),+ $(,)?) => {
        keelson_apiserver::on_every_backend!($($scenario),+);
    };
}
