//! The algorithms a benchmark can time on a problem: `Auto`, and every
//! forced algorithm that runs itself there rather than giving way to
//! another (see `Algorithm`'s docs for when each applies).
//!
//! `benches/conv.rs` and `examples/bench_shape.rs` include this file on
//! their own (`#[path]`), as they do `rng.rs`; the tests do not use it.

use convolve::{conv2d_algorithm, Algorithm, Conv2dPlan, ConvOptions, Element};
use ndarray::ArrayRef4;

/// `Auto` and every algorithm that can be forced, each named once: a new
/// variant is timed wherever it applies once it is added here.
pub const ALGORITHMS: [Algorithm; 6] = [
    Algorithm::Auto,
    Algorithm::Direct,
    Algorithm::Vectorized,
    Algorithm::Gemm,
    Algorithm::Fft,
    Algorithm::Separable,
];

/// Whether `conv2d` of an input of shape `input` with `weight` and
/// `options.algorithm(algorithm)` runs `algorithm` itself (`Auto` always
/// does). The planner answers from the shapes; a forced `Separable` also
/// needs rank-1 kernels, a property of the weights' values that only a
/// plan, which reads them, sees: it runs where `Auto`'s plan picks it.
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
    if algorithm == Algorithm::Auto {
        return true;
    }
    let shape = weight.dim().into();
    let forced = options.algorithm(algorithm);
    let runs = conv2d_algorithm::<A>(input, shape, &forced).expect("a valid convolution") == algorithm;
    let chosen_by_auto = || {
        let plan = Conv2dPlan::new(input, weight, None, &options.algorithm(Algorithm::Auto));
        plan.expect("a valid convolution").algorithm() == algorithm
    };
    runs && (algorithm != Algorithm::Separable || chosen_by_auto())
}
