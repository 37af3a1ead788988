//! Golden values for the gradients of `conv2d` and for `conv_transpose2d`,
//! from PyTorch.
//!
//! `tests/golden/gradients.json` was written by `tests/golden/generate.py`;
//! each case records the torch call that produced it (`source`). For
//! `conv2d_backward` that is `torch.autograd.grad` of
//! `(conv2d(pad(x), w, b) * g).sum()` with respect to `(x, w, b)`, the
//! padding done by `F.pad` (or, for the rules torch lacks, by gathering `x`
//! at `numpy.pad`'s indices); the case also holds the forward value, which
//! checks that the options were read as torch ran them. For
//! `conv_transpose2d` it is `F.conv_transpose2d`. These tests need no
//! Python.
//!
//! Every case runs under every algorithm, through the allocating function
//! and through its `_into` form writing into NaN-filled, column-major
//! arrays (each gradient requested on its own), so that an algorithm that
//! skips an element or depends on another gradient being requested fails.
//!
//! Tolerance: element-wise `|got − expected| ≤ tol · max(1, max|expected|)`,
//! the maximum over the whole expected array, with `tol` = 1e-10 for `f64`
//! and 1e-4 for `f32` (torch computed the `f32` cases in single precision,
//! and sums its terms in another order).

use std::fmt::Display;

mod common;

use common::golden::{self, Golden, Precision};
use convolve::Float;
use convolve::{
    conv2d, conv2d_backward, conv2d_backward_into, conv_transpose2d, conv_transpose2d_into, Algorithm, Conv2dGradsMut,
    ConvOptions,
};
use ndarray::{Array, ArrayBase, Data, Dimension, Ix1, Ix4, IxDyn, ShapeBuilder};
use serde_json::Value;

const FIXTURE: &str = "gradients.json";

/// Cases in the fixture, of `conv2d_backward` and of `conv_transpose2d`;
/// checked so that a loader that drops cases cannot pass.
const BACKWARD_CASES: usize = 37;
const TRANSPOSE_CASES: usize = 14;

const ALGORITHMS: [Algorithm; 5] = [
    Algorithm::Direct,
    Algorithm::Auto,
    Algorithm::Vectorized,
    Algorithm::Gemm,
    Algorithm::Fft,
];

/// Allowed error relative to `max(1, max|expected|)`.
fn tolerance<T: Golden>() -> f64 {
    match T::PRECISION {
        Precision::Double => 1e-10,
        Precision::Single => 1e-4,
        Precision::Exact => 0.0,
    }
}

/// A case's options, run with `algorithm`.
fn options<T: Golden>(value: &Value, algorithm: Algorithm) -> ConvOptions {
    let [oh, ow] = golden::pair(&value["output_padding"]);
    golden::options::<T>(value).output_paddings(oh, ow).algorithm(algorithm)
}

/// Compares `got` with the fixture's `expected` array, noting in
/// `problems` where they differ.
fn compare<T: Golden, S: Data<Elem = T>, D: Dimension>(
    problems: &mut Vec<String>,
    what: &str,
    got: &ArrayBase<S, D>,
    expected: &Value,
) {
    let expected = golden::array::<T, IxDyn>(expected);
    if let Err(why) = golden::check_close(got, &expected, tolerance::<T>()) {
        problems.push(format!("{what}: {why}"));
    }
}

/// A column-major array of `shape` full of NaN: an output an algorithm
/// must overwrite everywhere, in a layout other than the default.
fn dirty<T: Golden + Float, D: Dimension>(shape: D) -> Array<T, D> {
    Array::from_elem(shape.f(), T::nan())
}

/// Compares a result with `expected`, or notes the error that `call`
/// returned instead.
fn compare_result<T: Golden, S: Data<Elem = T>, D: Dimension, E: Display>(
    problems: &mut Vec<String>,
    call: &str,
    got: Result<&ArrayBase<S, D>, E>,
    expected: &Value,
) {
    match got {
        Ok(got) => compare(problems, call, got, expected),
        Err(e) => problems.push(format!("{call} returned an error: {e}")),
    }
}

/// Everything that differs from the fixture in a `conv2d_backward` case:
/// the forward value, the three gradients together, and each gradient
/// requested on its own.
fn check_backward<T: Golden + Float>(case: &Value, algorithm: Algorithm) -> Vec<String> {
    let opts = options::<T>(&case["options"], algorithm);
    let x = golden::array::<T, Ix4>(&case["input"]);
    let w = golden::array::<T, Ix4>(&case["weight"]);
    let b = golden::array::<T, Ix1>(&case["bias"]);
    let g = golden::array::<T, Ix4>(&case["grad_output"]);
    let expected = &case["expected"];
    let mut problems = Vec::new();

    let y = conv2d(&x, &w, Some(&b), &opts);
    compare_result(&mut problems, "conv2d", y.as_ref(), &expected["output"]);

    match conv2d_backward(&x, &w, &g, &opts) {
        Ok(grads) => {
            compare(&mut problems, "conv2d_backward input", &grads.input, &expected["input"]);
            compare(
                &mut problems,
                "conv2d_backward weight",
                &grads.weight,
                &expected["weight"],
            );
            compare(&mut problems, "conv2d_backward bias", &grads.bias, &expected["bias"]);
        }
        Err(e) => problems.push(format!("conv2d_backward returned an error: {e}")),
    }

    let mut dx = dirty::<T, _>(x.raw_dim());
    let only_input = Conv2dGradsMut {
        input: Some(dx.view_mut()),
        ..Conv2dGradsMut::none()
    };
    let done = conv2d_backward_into(&x, &w, &g, &opts, only_input).map(|()| &dx);
    compare_result(
        &mut problems,
        "conv2d_backward_into, input alone",
        done,
        &expected["input"],
    );

    let mut dw = dirty::<T, _>(w.raw_dim());
    let only_weight = Conv2dGradsMut {
        weight: Some(dw.view_mut()),
        ..Conv2dGradsMut::none()
    };
    let done = conv2d_backward_into(&x, &w, &g, &opts, only_weight).map(|()| &dw);
    compare_result(
        &mut problems,
        "conv2d_backward_into, weight alone",
        done,
        &expected["weight"],
    );

    let mut db = dirty::<T, _>(b.raw_dim());
    let only_bias = Conv2dGradsMut {
        bias: Some(db.view_mut()),
        ..Conv2dGradsMut::none()
    };
    let done = conv2d_backward_into(&x, &w, &g, &opts, only_bias).map(|()| &db);
    compare_result(
        &mut problems,
        "conv2d_backward_into, bias alone",
        done,
        &expected["bias"],
    );
    problems
}

/// Everything that differs from the fixture in a `conv_transpose2d` case,
/// through the allocating and the `_into` form.
fn check_transpose<T: Golden + Float>(case: &Value, algorithm: Algorithm) -> Vec<String> {
    let opts = options::<T>(&case["options"], algorithm);
    let x = golden::array::<T, Ix4>(&case["input"]);
    let w = golden::array::<T, Ix4>(&case["weight"]);
    let b = match &case["bias"] {
        Value::Null => None,
        b => Some(golden::array::<T, Ix1>(b)),
    };
    let expected = &case["expected"]["output"];
    let mut problems = Vec::new();

    let y = conv_transpose2d(&x, &w, b.as_deref(), &opts);
    compare_result(&mut problems, "conv_transpose2d", y.as_ref(), expected);

    let shape = golden::array::<T, Ix4>(expected).raw_dim();
    let mut out = dirty::<T, _>(shape);
    let done = conv_transpose2d_into(&x, &w, b.as_deref(), &opts, &mut out).map(|()| &out);
    compare_result(&mut problems, "conv_transpose2d_into", done, expected);
    problems
}

/// Checks every case of `op` under every algorithm, after checking how many
/// cases the fixture holds, and fails listing every mismatch with the torch
/// call that produced the expected values.
fn run(op: &str, expected_cases: usize) {
    let doc = golden::load(FIXTURE);
    let all = golden::cases(FIXTURE, &doc, BACKWARD_CASES + TRANSPOSE_CASES);
    let cases: Vec<&Value> = all.iter().filter(|case| case["op"] == op).collect();
    assert_eq!(cases.len(), expected_cases, "gradients.json: number of {op} cases");

    let mut failures = Vec::new();
    for case in &cases {
        for algorithm in ALGORITHMS {
            let problems = match case["dtype"].as_str() {
                Some(f64::NAME) => check::<f64>(case, algorithm),
                Some(f32::NAME) => check::<f32>(case, algorithm),
                other => panic!("unknown dtype {other:?}"),
            };
            if !problems.is_empty() {
                failures.push(golden::failure(case, &format!(" [{algorithm:?}]"), &problems));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{op}: {} failure(s) over {} cases x {} algorithms ({}):\n{}",
        failures.len(),
        cases.len(),
        ALGORITHMS.len(),
        doc["versions"],
        failures.join("\n")
    );
}

fn check<T: Golden + Float>(case: &Value, algorithm: Algorithm) -> Vec<String> {
    match case["op"].as_str() {
        Some("conv2d_backward") => check_backward::<T>(case, algorithm),
        Some("conv_transpose2d") => check_transpose::<T>(case, algorithm),
        other => panic!("unknown op {other:?}"),
    }
}

/// The three gradients of `conv2d` against `torch.autograd.grad`, for every
/// boundary rule (zero and nonzero fill, circular, reflect, replicate, and
/// symmetric by gathering, also with padding wider than the input), every
/// padding (`Valid`, asymmetric `Explicit`, `Full`, `Same` at stride 1 and
/// 2), per-axis stride and dilation, groups 1, 2 and depthwise, even and
/// rectangular kernels, and shapes for which `Auto` picks the matrix
/// product and the FFT.
#[test]
fn conv2d_backward_matches_torch_autograd() {
    run("conv2d_backward", BACKWARD_CASES);
}

/// `conv_transpose2d` against `F.conv_transpose2d`: stride 1 to 3,
/// symmetric padding and `Full`, output padding (also past the stride,
/// below the dilation), groups, dilation, bias or none, rectangular
/// kernels.
#[test]
fn conv_transpose2d_matches_torch() {
    run("conv_transpose2d", TRANSPOSE_CASES);
}
