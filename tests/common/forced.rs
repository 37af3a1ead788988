//! The algorithms a benchmark can time on a problem: `Auto`, and every
//! forced algorithm that runs itself there rather than giving way to
//! another (see `Algorithm`'s docs for when each applies).
//!
//! `benches/conv.rs`, `examples/bench_shape.rs` and `tests/properties.rs`
//! include this file on their own (`#[path]`), as they do `rng.rs`; the
//! tests take `ALGORITHMS` from it so that a new variant is checked
//! wherever it is timed.

use convolve::{Algorithm, Conv2dPlan, ConvOptions, Element};
use ndarray::ArrayRef4;

/// `Auto` and every algorithm that can be forced, each named once: a new
/// variant is timed wherever it applies once it is added here.
pub const ALGORITHMS: [Algorithm; 7] = [
    Algorithm::Auto,
    Algorithm::Direct,
    Algorithm::Vectorized,
    Algorithm::Gemm,
    Algorithm::Fft,
    Algorithm::Separable,
    Algorithm::Winograd,
];

/// Whether `conv2d` of an input of shape `input` with `weight` and
/// `options.algorithm(algorithm)` runs `algorithm` itself (`Auto` always
/// does), as a plan of it reports: a plan reads the weights, so it also
/// sees whether a forced `Separable` has the rank-1 kernels it needs.
///
/// # Panics
///
/// If the shapes and options are not a valid convolution.
pub fn applies<A: Element>(
    algorithm: Algorithm,
    input: [usize; 4],
    weight: &ArrayRef4<A>,
    options: &ConvOptions,
) -> bool {
    let plan = Conv2dPlan::new(input, weight, None, &options.algorithm(algorithm));
    algorithm == Algorithm::Auto || plan.expect("a valid convolution").algorithm() == algorithm
}
