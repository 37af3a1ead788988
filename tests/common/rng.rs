//! The one seeded generator of the tests and benchmarks, so that the data
//! of a case follow from its seed, the same on every run and machine.
//!
//! `benches/conv.rs` and `examples/bench_shape.rs` include this file on
//! their own (`#[path]`): it uses nothing from the other `common` modules,
//! nor proptest.

use ndarray::{Array, ShapeBuilder};

/// Mixed into every seed, so that seed 0 does not start xorshift at its
/// fixed point, 0.
const SEED_MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// An array of `shape` whose elements, in standard order, are uniform in
/// `[-1, 1)`: the xorshift64 sequence started by `seed`.
pub fn seeded<Sh: ShapeBuilder>(shape: Sh, seed: u64) -> Array<f64, Sh::Dim> {
    let mut state = seed ^ SEED_MIX;
    Array::from_shape_simple_fn(shape, || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // The top 53 bits, in units of 2^-52: [0, 2).
        (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
}
