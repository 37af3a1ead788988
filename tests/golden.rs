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

use convolve::{conv2d, convolve2d, correlate2d, Algorithm, Boundary, ConvOptions, Element, Padding};
use ndarray::{Array2, Array4, ArrayD, Dimension, Ix1, Ix2, Ix4, IxDyn};
use num_complex::Complex;
use serde_json::Value;

/// An element type the fixtures hold, with its tolerance.
trait Golden: Element {
    /// The name the fixtures give the type.
    const NAME: &'static str;
    /// Allowed error relative to `max(1, max|expected|)`.
    const TOLERANCE: f64;
    fn from_json(value: &Value) -> Self;
    /// `|self − other|`, computed without overflow.
    fn distance(self, other: Self) -> f64;
    fn magnitude(self) -> f64;
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"))
}

fn integer(value: &Value) -> i64 {
    value.as_i64().unwrap_or_else(|| panic!("not an integer: {value}"))
}

fn complex_parts(value: &Value) -> (f64, f64) {
    match value.as_array().map(Vec::as_slice) {
        Some([re, im]) => (number(re), number(im)),
        _ => panic!("not a complex [re, im]: {value}"),
    }
}

macro_rules! golden_float {
    ($t:ty, $name:literal, $tol:expr) => {
        impl Golden for $t {
            const NAME: &'static str = $name;
            const TOLERANCE: f64 = $tol;
            fn from_json(value: &Value) -> Self {
                number(value) as $t
            }
            fn distance(self, other: Self) -> f64 {
                f64::from((self - other).abs())
            }
            fn magnitude(self) -> f64 {
                f64::from(self.abs())
            }
        }
    };
}

macro_rules! golden_int {
    ($t:ty, $name:literal) => {
        impl Golden for $t {
            const NAME: &'static str = $name;
            const TOLERANCE: f64 = 0.0;
            fn from_json(value: &Value) -> Self {
                <$t>::try_from(integer(value)).unwrap_or_else(|_| panic!("out of range for {}: {value}", $name))
            }
            fn distance(self, other: Self) -> f64 {
                (i128::from(self) - i128::from(other)).unsigned_abs() as f64
            }
            fn magnitude(self) -> f64 {
                i128::from(self).unsigned_abs() as f64
            }
        }
    };
}

macro_rules! golden_complex {
    ($t:ty, $name:literal, $tol:expr) => {
        impl Golden for Complex<$t> {
            const NAME: &'static str = $name;
            const TOLERANCE: f64 = $tol;
            fn from_json(value: &Value) -> Self {
                let (re, im) = complex_parts(value);
                Complex::new(re as $t, im as $t)
            }
            fn distance(self, other: Self) -> f64 {
                f64::from((self - other).norm())
            }
            fn magnitude(self) -> f64 {
                f64::from(self.norm())
            }
        }
    };
}

golden_float!(f64, "f64", 1e-12);
golden_float!(f32, "f32", 1e-5);
golden_int!(i64, "i64");
golden_int!(i32, "i32");
golden_complex!(f64, "Complex<f64>", 1e-12);
golden_complex!(f32, "Complex<f32>", 1e-5);

fn array<T: Golden>(value: &Value) -> ArrayD<T> {
    let shape: Vec<usize> = value["shape"]
        .as_array()
        .expect("an array's shape")
        .iter()
        .map(|len| usize::try_from(integer(len)).expect("a length"))
        .collect();
    let data: Vec<T> = value["data"]
        .as_array()
        .expect("an array's data")
        .iter()
        .map(T::from_json)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data).expect("data matching the shape")
}

fn pair(value: &Value) -> [usize; 2] {
    match value.as_array().map(Vec::as_slice) {
        Some([a, b]) => [a, b].map(|v| usize::try_from(integer(v)).expect("a nonnegative value")),
        _ => panic!("not a pair: {value}"),
    }
}

fn padding(value: &Value) -> Padding {
    let side = |name: &str| usize::try_from(integer(&value["Explicit"][name])).expect("a padding width");
    match value.as_str() {
        Some("Valid") => Padding::Valid,
        Some("Same") => Padding::Same,
        Some("Full") => Padding::Full,
        Some(other) => panic!("unknown padding {other}"),
        None => Padding::Explicit {
            top: side("top"),
            bottom: side("bottom"),
            left: side("left"),
            right: side("right"),
        },
    }
}

fn boundary<T: Golden>(value: &Value) -> Boundary<T> {
    match value.as_str() {
        Some("Wrap") => Boundary::Wrap,
        Some("Symmetric") => Boundary::Symmetric,
        Some("Reflect") => Boundary::Reflect,
        Some("Replicate") => Boundary::Replicate,
        Some(other) => panic!("unknown boundary {other}"),
        None => Boundary::Fill(T::from_json(&value["Fill"])),
    }
}

fn options<T: Golden>(value: &Value) -> ConvOptions<T> {
    let [sh, sw] = pair(&value["stride"]);
    let [dh, dw] = pair(&value["dilation"]);
    ConvOptions::new()
        .strides(sh, sw)
        .dilations(dh, dw)
        .padding(padding(&value["padding"]))
        .groups(usize::try_from(integer(&value["groups"])).expect("a group count"))
        .boundary(boundary(&value["boundary"]))
}

/// The crate's result for `case` with `algorithm`.
fn compute<T: Golden>(case: &Value, algorithm: Algorithm) -> convolve::Result<ArrayD<T>> {
    let opts = options::<T>(&case["options"]).algorithm(algorithm);
    let x = array::<T>(&case["input"]);
    let k = array::<T>(&case["kernel"]);
    let two_d = |a: ArrayD<T>| a.into_dimensionality::<Ix2>().expect("a 2-D array");
    let four_d = |a: ArrayD<T>| a.into_dimensionality::<Ix4>().expect("a 4-D array");
    match case["op"].as_str() {
        Some("correlate2d") => correlate2d(&two_d(x), &two_d(k), &opts).map(Array2::into_dyn),
        Some("convolve2d") => convolve2d(&two_d(x), &two_d(k), &opts).map(Array2::into_dyn),
        Some("conv2d") => {
            let bias = match &case["bias"] {
                Value::Null => None,
                b => Some(array::<T>(b).into_dimensionality::<Ix1>().expect("a 1-D bias")),
            };
            conv2d(&four_d(x), &four_d(k), bias.as_ref(), &opts).map(Array4::into_dyn)
        }
        other => panic!("unknown op {other:?}"),
    }
}

/// Runs one case with element type `T`, under the automatic choice of
/// algorithm and under the reference loop; `Err` says what went wrong.
fn check<T: Golden>(case: &Value) -> Result<(), String> {
    let expected = array::<T>(&case["expected"]);
    let scale = expected.iter().map(|v| v.magnitude()).fold(1.0, f64::max);
    let bound = T::TOLERANCE * scale;
    for algorithm in [Algorithm::Auto, Algorithm::Direct] {
        let got = compute::<T>(case, algorithm).map_err(|e| format!("{algorithm:?} returned an error: {e}"))?;
        if got.shape() != expected.shape() {
            return Err(format!(
                "{algorithm:?} gave shape {:?}, expected {:?}",
                got.shape(),
                expected.shape()
            ));
        }
        let mut mismatches = got
            .indexed_iter()
            .zip(expected.iter())
            .map(|((index, &g), &e)| (index, g, e, g.distance(e)))
            .filter(|&(_, _, _, err)| err.is_nan() || err > bound);
        if let Some((index, g, e, err)) = mismatches.next() {
            return Err(format!(
                "{algorithm:?}: {} element(s) differ; first at {:?}: got {g:?}, expected {e:?}, \
                 error {err:e} > {bound:e} (tolerance {:e} x scale {scale:e})",
                1 + mismatches.count(),
                index.slice(),
                T::TOLERANCE
            ));
        }
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
fn run_fixture(file: &str, json: &str, expected_cases: usize) {
    let doc: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{file}: {e}"));
    let cases = doc["cases"].as_array().unwrap_or_else(|| panic!("{file}: no cases"));
    assert_eq!(cases.len(), expected_cases, "{file}: number of cases");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            check_case(case).err().map(|why| {
                format!(
                    "  {}: {why}\n    source: {}",
                    case["name"].as_str().unwrap_or("<unnamed>"),
                    case["source"].as_str().unwrap_or("<no source>"),
                )
            })
        })
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

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/", $name)),
        )
    };
}

/// `correlate2d` and `convolve2d` in f64 for every scipy mode and boundary
/// (fill with zero and with a nonzero value, wrap, symm) and odd, even and
/// rectangular kernels, plus kernels larger than the input: in `'valid'`
/// mode, where scipy swaps the two, and in `'same'` and `'full'`, where the
/// padding is wider than the input.
#[test]
fn modes_and_boundaries_match_scipy() {
    let (file, json) = fixture!("modes_boundaries.json");
    run_fixture(file, json, 182);
}

/// Per-axis stride and dilation, asymmetric explicit padding (also wider
/// than the input), `Same` at stride > 1, `Full` with dilation, and the
/// Reflect and Replicate boundaries, against `numpy.pad` + torch.
#[test]
fn stride_dilation_and_padding_match_numpy_pad_and_torch() {
    let (file, json) = fixture!("geometry.json");
    run_fixture(file, json, 64);
}

/// f32, i64, i32, Complex<f64> and Complex<f32>: every scipy mode and
/// boundary, the swapped `'valid'` mode (conjugated for complex
/// correlation), some stride/dilation/padding cases, and integer
/// wrap-around.
#[test]
fn every_element_type_matches() {
    let (file, json) = fixture!("dtypes.json");
    run_fixture(file, json, 204);
}

/// Batched NCHW `conv2d` against `torch.nn.functional.conv2d`: groups
/// (1, 2, depthwise), bias or none, stride, dilation, explicit and `'same'`
/// padding, and every padding mode.
#[test]
fn batched_conv2d_matches_torch() {
    let (file, json) = fixture!("conv2d.json");
    run_fixture(file, json, 38);
}

/// The tutorial's Question 1a: a horizontal-edge detector over a 5×5 image.
#[test]
fn tutorial_question_1a() {
    let (file, json) = fixture!("tutorial.json");
    run_fixture(file, json, 2);
    // The numbers the tutorial prints, independent of the fixture.
    let doc: Value = serde_json::from_str(json).expect("valid JSON");
    let expected = ndarray::array![[-2.6, -2.6, -2.8], [-0.2, 0.1, 0.1], [2.8, 2.6, 2.7]];
    for case in doc["cases"].as_array().expect("cases") {
        let sign = if case["op"] == "convolve2d" { -1.0 } else { 1.0 };
        let golden = array::<f64>(&case["expected"]);
        assert!(
            golden
                .iter()
                .zip(expected.iter())
                .all(|(g, e)| (g - sign * e).abs() < 1e-12),
            "{}: fixture disagrees with the tutorial",
            case["name"]
        );
    }
}
