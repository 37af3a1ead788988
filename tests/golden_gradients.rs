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

use std::fmt::{Debug, Display};

use convolve::{
    conv2d, conv2d_backward, conv2d_backward_into, conv_transpose2d, conv_transpose2d_into, Algorithm, Boundary,
    Conv2dGradsMut, ConvOptions, Element, Padding,
};
use ndarray::{Array, ArrayBase, ArrayD, Data, Dimension, Ix1, Ix4, IxDyn, ShapeBuilder};
use num_traits::Float;
use serde_json::Value;

const FIXTURE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/gradients.json"));

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

/// A floating-point type the fixture holds, with its tolerance.
trait Golden: Element + Float + Debug {
    /// The name the fixture gives the type.
    const NAME: &'static str;
    /// Allowed error relative to `max(1, max|expected|)`.
    const TOLERANCE: f64;
    fn from_json(value: &Value) -> Self;
    fn widen(self) -> f64;
}

macro_rules! golden {
    ($t:ty, $name:literal, $tol:expr) => {
        impl Golden for $t {
            const NAME: &'static str = $name;
            const TOLERANCE: f64 = $tol;
            fn from_json(value: &Value) -> Self {
                value.as_f64().unwrap_or_else(|| panic!("not a number: {value}")) as $t
            }
            fn widen(self) -> f64 {
                f64::from(self)
            }
        }
    };
}

golden!(f64, "f64", 1e-10);
golden!(f32, "f32", 1e-4);

fn usize_of(value: &Value) -> usize {
    value
        .as_u64()
        .and_then(|v| usize::try_from(v).ok())
        .unwrap_or_else(|| panic!("not a length: {value}"))
}

fn array<T: Golden, D: Dimension>(value: &Value) -> Array<T, D> {
    let shape: Vec<usize> = value["shape"]
        .as_array()
        .expect("an array's shape")
        .iter()
        .map(usize_of)
        .collect();
    let data: Vec<T> = value["data"]
        .as_array()
        .expect("an array's data")
        .iter()
        .map(T::from_json)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data)
        .expect("data matching the shape")
        .into_dimensionality()
        .expect("the array's number of axes")
}

fn pair(value: &Value) -> [usize; 2] {
    match value.as_array().map(Vec::as_slice) {
        Some([a, b]) => [usize_of(a), usize_of(b)],
        _ => panic!("not a pair: {value}"),
    }
}

fn padding(value: &Value) -> Padding {
    match value.as_str() {
        Some("Valid") => Padding::Valid,
        Some("Same") => Padding::Same,
        Some("Full") => Padding::Full,
        Some(other) => panic!("unknown padding {other}"),
        None => {
            let side = |name: &str| usize_of(&value["Explicit"][name]);
            Padding::Explicit {
                top: side("top"),
                bottom: side("bottom"),
                left: side("left"),
                right: side("right"),
            }
        }
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

fn options<T: Golden>(value: &Value, algorithm: Algorithm) -> ConvOptions<T> {
    let [sh, sw] = pair(&value["stride"]);
    let [dh, dw] = pair(&value["dilation"]);
    let [oh, ow] = pair(&value["output_padding"]);
    ConvOptions::new()
        .strides(sh, sw)
        .dilations(dh, dw)
        .padding(padding(&value["padding"]))
        .groups(usize_of(&value["groups"]))
        .boundary(boundary(&value["boundary"]))
        .output_paddings(oh, ow)
        .algorithm(algorithm)
}

/// Compares `got` with the fixture's `expected` array, noting in
/// `problems` where they differ.
fn compare<T: Golden, S: Data<Elem = T>, D: Dimension>(
    problems: &mut Vec<String>,
    what: &str,
    got: &ArrayBase<S, D>,
    expected: &Value,
) {
    let expected = array::<T, IxDyn>(expected);
    if got.shape() != expected.shape() {
        problems.push(format!(
            "{what}: shape {:?}, expected {:?}",
            got.shape(),
            expected.shape()
        ));
        return;
    }
    let scale = expected.iter().map(|v| v.widen().abs()).fold(1.0, f64::max);
    let bound = T::TOLERANCE * scale;
    let got = got.view().into_dyn();
    let mut mismatches = got
        .indexed_iter()
        .zip(expected.iter())
        .map(|((index, &g), &e)| (index, g, e, (g.widen() - e.widen()).abs()))
        .filter(|&(_, _, _, err)| err.is_nan() || err > bound);
    if let Some((index, g, e, err)) = mismatches.next() {
        problems.push(format!(
            "{what}: {} element(s) differ; first at {:?}: got {g:?}, expected {e:?}, error {err:e} > {bound:e}",
            1 + mismatches.count(),
            index.slice(),
        ));
    }
}

/// A column-major array of `shape` full of NaN: an output an algorithm
/// must overwrite everywhere, in a layout other than the default.
fn dirty<T: Golden, D: Dimension>(shape: D) -> Array<T, D> {
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
fn check_backward<T: Golden>(case: &Value, algorithm: Algorithm) -> Vec<String> {
    let opts = options::<T>(&case["options"], algorithm);
    let x = array::<T, Ix4>(&case["input"]);
    let w = array::<T, Ix4>(&case["weight"]);
    let b = array::<T, Ix1>(&case["bias"]);
    let g = array::<T, Ix4>(&case["grad_output"]);
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
fn check_transpose<T: Golden>(case: &Value, algorithm: Algorithm) -> Vec<String> {
    let opts = options::<T>(&case["options"], algorithm);
    let x = array::<T, Ix4>(&case["input"]);
    let w = array::<T, Ix4>(&case["weight"]);
    let b = match &case["bias"] {
        Value::Null => None,
        b => Some(array::<T, Ix1>(b)),
    };
    let expected = &case["expected"]["output"];
    let mut problems = Vec::new();

    let y = conv_transpose2d(&x, &w, b.as_ref(), &opts);
    compare_result(&mut problems, "conv_transpose2d", y.as_ref(), expected);

    let shape = array::<T, Ix4>(expected).raw_dim();
    let mut out = dirty::<T, _>(shape);
    let done = conv_transpose2d_into(&x, &w, b.as_ref(), &opts, &mut out).map(|()| &out);
    compare_result(&mut problems, "conv_transpose2d_into", done, expected);
    problems
}

/// Checks every case of `op` under every algorithm, after checking how many
/// cases the fixture holds, and fails listing every mismatch with the torch
/// call that produced the expected values.
fn run(op: &str, expected_cases: usize) {
    let doc: Value = serde_json::from_str(FIXTURE).expect("gradients.json is valid JSON");
    let all = doc["cases"].as_array().expect("gradients.json has cases");
    assert_eq!(
        all.len(),
        BACKWARD_CASES + TRANSPOSE_CASES,
        "gradients.json: number of cases"
    );
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
                failures.push(format!(
                    "  {} [{algorithm:?}]:\n    {}\n    source: {}",
                    case["name"].as_str().unwrap_or("<unnamed>"),
                    problems.join("\n    "),
                    case["source"].as_str().unwrap_or("<no source>"),
                ));
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

fn check<T: Golden>(case: &Value, algorithm: Algorithm) -> Vec<String> {
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
