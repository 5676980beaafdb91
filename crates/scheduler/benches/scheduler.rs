//! The scheduler benchmark (see docs/benchmarks.md).

fn main() {}
