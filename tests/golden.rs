//! Golden values from `scipy.signal` and PyTorch.
//!
//! The fixtures in `tests/golden/*.json` were written by
//! `tests/golden/generate.py`, which records in each case the Python call
//! that produced its expected output (`source`) and, per file, the package
//! versions. These tests need no Python.
//!
//! Tolerance: element-wise `|got − expected| ≤ tol · max(1, max|expected|)`,
//! the maximum over the whole expected output (the modulus for complex
//! values), with `tol` = 1e-12 for `f64` and `Complex<f64>`, 1e-5 for `f32`
//! and `Complex<f32>`, and 0 (exact) for `i32` and `i64`. Scaling by the
//! largest expected value rather than by each element keeps outputs that
//! cancel to nearly zero from demanding more digits than the inputs carry.

mod common;

use common::golden::{self, Golden, Precision};
use convolve::{conv2d, convolve2d, correlate2d, Algorithm};
use ndarray::{Array2, Array4, ArrayD, Ix1, Ix2, Ix4, IxDyn};
use num_complex::Complex;
use serde_json::Value;

/// Allowed error relative to `max(1, max|expected|)`.
fn tolerance<T: Golden>() -> f64 {
    match T::PRECISION {
        Precision::Double => 1e-12,
        Precision::Single => 1e-5,
        Precision::Exact => 0.0,
    }
}

/// The crate's result for `case` with `algorithm`.
fn compute<T: Golden>(case: &Value, algorithm: Algorithm) -> convolve::Result<ArrayD<T>> {
    let opts = golden::options::<T>(&case["options"]).algorithm(algorithm);
    let (x, k) = (&case["input"], &case["kernel"]);
    let two_d = |a: &Value| golden::array::<T, Ix2>(a);
    let four_d = |a: &Value| golden::array::<T, Ix4>(a);
    match case["op"].as_str() {
        Some("correlate2d") => correlate2d(&two_d(x), &two_d(k), &opts).map(Array2::into_dyn),
        Some("convolve2d") => convolve2d(&two_d(x), &two_d(k), &opts).map(Array2::into_dyn),
        Some("conv2d") => {
            let bias = match &case["bias"] {
                Value::Null => None,
                b => Some(golden::array::<T, Ix1>(b)),
            };
            conv2d(&four_d(x), &four_d(k), bias.as_deref(), &opts).map(Array4::into_dyn)
        }
        other => panic!("unknown op {other:?}"),
    }
}

/// Runs one case with element type `T`, under the automatic choice of
/// algorithm and under the reference loop; `Err` says what went wrong.
fn check<T: Golden>(case: &Value) -> Result<(), String> {
    let expected = golden::array::<T, IxDyn>(&case["expected"]);
    for algorithm in [Algorithm::Auto, Algorithm::Direct] {
        let got = compute::<T>(case, algorithm).map_err(|e| format!("{algorithm:?} returned an error: {e}"))?;
        golden::check_close(&got, &expected, tolerance::<T>()).map_err(|why| format!("{algorithm:?}: {why}"))?;
    }
    Ok(())
}

fn check_case(case: &Value) -> Result<(), String> {
    let dtype = case["dtype"].as_str().expect("a dtype");
    match dtype {
        f64::NAME => check::<f64>(case),
        f32::NAME => check::<f32>(case),
        i64::NAME => check::<i64>(case),
        i32::NAME => check::<i32>(case),
        <Complex<f64>>::NAME => check::<Complex<f64>>(case),
        <Complex<f32>>::NAME => check::<Complex<f32>>(case),
        other => panic!("unknown dtype {other}"),
    }
}

/// Runs every case of a fixture file, which must hold exactly
/// `expected_cases` of them, and fails listing every mismatch with the
/// Python call that produced the expected value.
fn run_fixture(file: &str, expected_cases: usize) {
    let doc = golden::load(file);
    let cases = golden::cases(file, &doc, expected_cases);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check_case(case).err().map(|why| golden::failure(case, "", &[why])))
        .collect();
    assert!(
        failures.is_empty(),
        "{file}: {} of {} cases differ from the reference ({}):\n{}",
        failures.len(),
        cases.len(),
        doc["versions"],
        failures.join("\n")
    );
}

/// `correlate2d` and `convolve2d` in f64 for every scipy mode and boundary
/// (fill with zero and with a nonzero value, wrap, symm) and odd, even and
/// rectangular kernels, plus kernels larger than the input: in `'valid'`
/// mode, where scipy swaps the two, and in `'same'` and `'full'`, where the
/// padding is wider than the input.
#[test]
fn modes_and_boundaries_match_scipy() {
    run_fixture("modes_boundaries.json", 182);
}

/// Per-axis stride and dilation, asymmetric explicit padding (also wider
/// than the input), `Same` at stride > 1, `Full` with dilation, and the
/// Reflect and Replicate boundaries, against `numpy.pad` + torch.
#[test]
fn stride_dilation_and_padding_match_numpy_pad_and_torch() {
    run_fixture("geometry.json", 64);
}

/// f32, i64, i32, Complex<f64> and Complex<f32>: every scipy mode and
/// boundary, the swapped `'valid'` mode (conjugated for complex
/// correlation), some stride/dilation/padding cases, and integer
/// wrap-around.
#[test]
fn every_element_type_matches() {
    run_fixture("dtypes.json", 204);
}

/// Batched NCHW `conv2d` against `torch.nn.functional.conv2d`: groups
/// (1, 2, depthwise), bias or none, stride, dilation, explicit and `'same'`
/// padding, and every padding mode.
#[test]
fn batched_conv2d_matches_torch() {
    run_fixture("conv2d.json", 38);
}

/// The tutorial's Question 1a: a horizontal-edge detector over a 5×5 image.
#[test]
fn tutorial_question_1a() {
    run_fixture("tutorial.json", 2);
    // The numbers the tutorial prints, independent of the fixture.
    let doc = golden::load("tutorial.json");
    let expected = ndarray::array![[-2.6, -2.6, -2.8], [-0.2, 0.1, 0.1], [2.8, 2.6, 2.7]];
    for case in golden::cases("tutorial.json", &doc, 2) {
        let sign = if case["op"] == "convolve2d" { -1.0 } else { 1.0 };
        let recorded = golden::array::<f64, Ix2>(&case["expected"]);
        assert!(
            recorded
                .iter()
                .zip(expected.iter())
                .all(|(g, e)| (g - sign * e).abs() < 1e-12),
            "{}: fixture disagrees with the tutorial",
            case["name"]
        );
    }
}
