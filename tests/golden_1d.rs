//! Golden values for the 1-D entry points, from scipy, numpy and PyTorch.
//!
//! `tests/golden/rank1.json` was written by `tests/golden/generate.py`
//! (`python3 tests/golden/generate.py rank1.json`); each case records the
//! call that produced it (`source`):
//!
//! - `correlate1d` / `convolve1d`: `scipy.signal.correlate`/`convolve` on
//!   1-D arrays in every mode (a kernel longer than the input in 'valid'
//!   mode included) for f64, f32, i64 and Complex<f64>; for every boundary
//!   rule, stride and dilation, `numpy.pad` followed by scipy's 'valid'
//!   mode or torch's `conv1d`.
//! - `conv1d`: `torch.nn.functional.conv1d` of the padded input, and the
//!   three gradients of `conv1d_backward` from `torch.autograd.grad`
//!   (padding by `F.pad`, or by gathering at `numpy.pad`'s indices).
//! - `conv_transpose1d`: `torch.nn.functional.conv_transpose1d`, the
//!   per-side padding cropped from the ends.
//!
//! Every case runs under every algorithm, through the allocating function
//! and its `_into` form writing into a NaN-filled (or, for integers,
//! garbage-filled), reversed-stride array. Tolerance:
//! `|got − expected| ≤ tol · max(1, max|expected|)` with `tol` = 1e-10
//! for double precision, 1e-4 for single, 0 for integers.

use std::fmt::Display;

mod common;

use common::golden::{self, Golden, Precision};
use convolve::{
    conv1d, conv1d_backward, conv1d_backward_into, conv1d_into, conv_transpose1d, conv_transpose1d_into, convolve1d,
    convolve1d_into, correlate1d, correlate1d_into, Algorithm, Complex, Conv1dGradsMut, ConvOptions, Float,
};
use ndarray::{s, Array, Array1, ArrayBase, Data, Dimension, Ix1, Ix3, IxDyn};
use serde_json::Value;

const FIXTURE: &str = "rank1.json";

/// Cases in the fixture by operation; checked so that a loader that drops
/// cases cannot pass.
const SIGNAL_CASES: usize = 72 + 60 + 12;
const CONV1D_CASES: usize = 20;
const TRANSPOSE_CASES: usize = 8;

const ALGORITHMS: [Algorithm; 6] = [
    Algorithm::Direct,
    Algorithm::Auto,
    Algorithm::Vectorized,
    Algorithm::Gemm,
    Algorithm::Fft,
    Algorithm::Separable,
];

fn tolerance<T: Golden>() -> f64 {
    match T::PRECISION {
        Precision::Double => 1e-10,
        Precision::Single => 1e-4,
        Precision::Exact => 0.0,
    }
}

fn compare<T: Golden, S: Data<Elem = T>, D: Dimension, E: Display>(
    problems: &mut Vec<String>,
    what: &str,
    got: Result<&ArrayBase<S, D>, E>,
    expected: &Value,
) {
    let expected = golden::array::<T, IxDyn>(expected);
    match got {
        Ok(got) => {
            if let Err(why) = golden::check_close(got, &expected, tolerance::<T>()) {
                problems.push(format!("{what}: {why}"));
            }
        }
        Err(e) => problems.push(format!("{what} returned an error: {e}")),
    }
}

/// An output of `shape` whose every element must be overwritten, stored
/// with its last axis reversed: `poison` everywhere.
fn dirty<T: Golden, D: Dimension>(shape: D, poison: T) -> Array<T, D> {
    let mut a = Array::from_elem(shape, poison);
    a.invert_axis(ndarray::Axis(a.ndim() - 1));
    a
}

/// A value a kernel that skips an element would leave behind.
trait Poison: Golden {
    const POISON: Self;
}

impl Poison for f64 {
    const POISON: Self = f64::NAN;
}

impl Poison for f32 {
    const POISON: Self = f32::NAN;
}

impl Poison for i64 {
    const POISON: Self = i64::MIN + 7;
}

impl Poison for Complex<f64> {
    const POISON: Self = Complex::new(f64::NAN, f64::NAN);
}

fn check_signal<T: Poison>(case: &Value, algorithm: Algorithm) -> Vec<String> {
    let opts = golden::options_1d::<T>(&case["options"]).algorithm(algorithm);
    let x = golden::array::<T, Ix1>(&case["input"]);
    let k = golden::array::<T, Ix1>(&case["kernel"]);
    let expected = &case["expected"];
    let correlate = match case["op"].as_str() {
        Some("correlate1d") => true,
        Some("convolve1d") => false,
        other => panic!("unknown op {other:?}"),
    };
    let mut problems = Vec::new();
    let y = if correlate {
        correlate1d(&x, &k, &opts)
    } else {
        convolve1d(&x, &k, &opts)
    };
    compare(&mut problems, "allocating", y.as_ref(), expected);
    let mut out: Array1<T> = dirty(golden::array::<T, Ix1>(expected).raw_dim(), T::POISON);
    let done = if correlate {
        correlate1d_into(&x, &k, &opts, &mut out)
    } else {
        convolve1d_into(&x, &k, &opts, &mut out)
    }
    .map(|()| &out);
    compare(&mut problems, "_into", done, expected);
    problems
}

/// A case's bias, if it has one.
fn bias<T: Golden>(case: &Value) -> Option<Array1<T>> {
    match &case["bias"] {
        Value::Null => None,
        b => Some(golden::array::<T, Ix1>(b)),
    }
}

fn check_conv1d<T: Poison + Float>(case: &Value, algorithm: Algorithm) -> Vec<String> {
    let opts = golden::options_1d::<T>(&case["options"]).algorithm(algorithm);
    let x = golden::array::<T, Ix3>(&case["input"]);
    let w = golden::array::<T, Ix3>(&case["weight"]);
    let b = bias::<T>(case);
    let g = golden::array::<T, Ix3>(&case["grad_output"]);
    let expected = &case["expected"];
    let mut problems = Vec::new();
    compare(
        &mut problems,
        "conv1d",
        conv1d(&x, &w, b.as_deref(), &opts).as_ref(),
        &expected["output"],
    );
    let mut y: Array<T, Ix3> = dirty(golden::array::<T, Ix3>(&expected["output"]).raw_dim(), T::POISON);
    let done = conv1d_into(&x, &w, b.as_deref(), &opts, &mut y).map(|()| &y);
    compare(&mut problems, "conv1d_into", done, &expected["output"]);
    match conv1d_backward(&x, &w, &g, &opts) {
        Ok(grads) => {
            compare(
                &mut problems,
                "conv1d_backward input",
                Ok::<_, String>(&grads.input),
                &expected["input"],
            );
            compare(
                &mut problems,
                "conv1d_backward weight",
                Ok::<_, String>(&grads.weight),
                &expected["weight"],
            );
            compare(
                &mut problems,
                "conv1d_backward bias",
                Ok::<_, String>(&grads.bias),
                &expected["bias"],
            );
        }
        Err(e) => problems.push(format!("conv1d_backward returned an error: {e}")),
    }
    // Each gradient on its own, into a dirty array.
    let mut dx: Array<T, Ix3> = dirty(x.raw_dim(), T::POISON);
    let mut dw: Array<T, Ix3> = dirty(w.raw_dim(), T::POISON);
    let mut db: Array1<T> = dirty(Ix1(w.shape()[0]), T::POISON);
    let requests: [(&str, Conv1dGradsMut<'_, T>); 3] = [
        (
            "input",
            Conv1dGradsMut {
                input: Some(dx.view_mut()),
                ..Conv1dGradsMut::none()
            },
        ),
        (
            "weight",
            Conv1dGradsMut {
                weight: Some(dw.view_mut()),
                ..Conv1dGradsMut::none()
            },
        ),
        (
            "bias",
            Conv1dGradsMut {
                bias: Some(db.view_mut()),
                ..Conv1dGradsMut::none()
            },
        ),
    ];
    for (what, grads) in requests {
        if let Err(e) = conv1d_backward_into(&x, &w, &g, &opts, grads) {
            problems.push(format!("conv1d_backward_into, {what} alone, returned an error: {e}"));
        }
    }
    let alone = |what: &str| format!("conv1d_backward_into, {what} alone");
    compare(&mut problems, &alone("input"), Ok::<_, String>(&dx), &expected["input"]);
    compare(
        &mut problems,
        &alone("weight"),
        Ok::<_, String>(&dw),
        &expected["weight"],
    );
    compare(&mut problems, &alone("bias"), Ok::<_, String>(&db), &expected["bias"]);
    problems
}

fn check_transpose<T: Poison + Float>(case: &Value, algorithm: Algorithm) -> Vec<String> {
    let opts = golden::options_1d::<T>(&case["options"]).algorithm(algorithm);
    let x = golden::array::<T, Ix3>(&case["input"]);
    let w = golden::array::<T, Ix3>(&case["weight"]);
    let b = bias::<T>(case);
    let expected = &case["expected"];
    let mut problems = Vec::new();
    compare(
        &mut problems,
        "conv_transpose1d",
        conv_transpose1d(&x, &w, b.as_deref(), &opts).as_ref(),
        expected,
    );
    let mut y: Array<T, Ix3> = dirty(golden::array::<T, Ix3>(expected).raw_dim(), T::POISON);
    let done = conv_transpose1d_into(&x, &w, b.as_deref(), &opts, &mut y).map(|()| &y);
    compare(&mut problems, "conv_transpose1d_into", done, expected);
    problems
}

/// Checks every case of the fixture whose op is one of `ops` under every
/// algorithm, and fails listing every mismatch with the call that produced
/// the expected values.
fn run(ops: &[&str], expected_cases: usize, check: impl Fn(&Value, Algorithm) -> Vec<String>) {
    let doc = golden::load(FIXTURE);
    let all = golden::cases(FIXTURE, &doc, SIGNAL_CASES + CONV1D_CASES + TRANSPOSE_CASES);
    let cases: Vec<&Value> = all.iter().filter(|c| ops.iter().any(|op| c["op"] == *op)).collect();
    assert_eq!(cases.len(), expected_cases, "{FIXTURE}: number of {ops:?} cases");
    let mut failures = Vec::new();
    for case in &cases {
        for algorithm in ALGORITHMS {
            let problems = check(case, algorithm);
            if !problems.is_empty() {
                failures.push(golden::failure(case, &format!(" [{algorithm:?}]"), &problems));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s) over {} cases ({}):\n{}",
        failures.len(),
        cases.len(),
        doc["versions"],
        failures.join("\n")
    );
}

#[test]
fn correlate1d_and_convolve1d_match_scipy_and_numpy() {
    run(
        &["correlate1d", "convolve1d"],
        SIGNAL_CASES,
        |case, algorithm| match case["dtype"].as_str() {
            Some("f64") => check_signal::<f64>(case, algorithm),
            Some("f32") => check_signal::<f32>(case, algorithm),
            Some("i64") => check_signal::<i64>(case, algorithm),
            Some("Complex<f64>") => check_signal::<Complex<f64>>(case, algorithm),
            other => panic!("unknown dtype {other:?}"),
        },
    );
}

#[test]
fn conv1d_and_its_gradients_match_torch() {
    run(&["conv1d"], CONV1D_CASES, |case, algorithm| {
        match case["dtype"].as_str() {
            Some("f64") => check_conv1d::<f64>(case, algorithm),
            Some("f32") => check_conv1d::<f32>(case, algorithm),
            other => panic!("unknown dtype {other:?}"),
        }
    });
}

#[test]
fn conv_transpose1d_matches_torch() {
    run(&["conv_transpose1d"], TRANSPOSE_CASES, |case, algorithm| {
        match case["dtype"].as_str() {
            Some("f64") => check_transpose::<f64>(case, algorithm),
            Some("f32") => check_transpose::<f32>(case, algorithm),
            other => panic!("unknown dtype {other:?}"),
        }
    });
}

/// A slice of a longer parameter buffer serves as the bias, as in 2-D.
#[test]
fn bias_can_be_a_view() {
    let params = ndarray::array![1.0, 2.0, 3.0, 4.0];
    let x = Array::from_elem((1, 1, 4), 1.0);
    let w = Array::from_elem((2, 1, 2), 1.0);
    let y = conv1d(&x, &w, Some(&params.slice(s![1..3])), &ConvOptions::new()).unwrap();
    assert_eq!(y, ndarray::array![[[4.0, 4.0, 4.0], [5.0, 5.0, 5.0]]]);
}
