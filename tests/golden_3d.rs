//! Golden values for the 3-D entry points, from scipy, numpy and PyTorch.
//!
//! `tests/golden/rank3.json` was written by `tests/golden/generate.py`
//! (`python3 tests/golden/generate.py rank3.json`); each case records the
//! call that produced it (`source`):
//!
//! - `correlate3d` / `convolve3d`: `scipy.signal.correlate`/`convolve` on
//!   3-D arrays in every mode (scipy's 'valid' swap of a kernel at least as
//!   large as the input included, conjugated for complex correlation) for
//!   f64, f32, i64 and Complex<f64>; for every boundary rule, explicit
//!   padding, stride and dilation, `numpy.pad` followed by scipy's 'valid'
//!   mode with the dilated kernel, the dense result sliced by the stride.
//! - `conv3d`: `torch.nn.functional.conv3d` of the padded input (the value
//!   of `torch.nn.Conv3d` with its `padding_mode` where torch has the
//!   rule), and the three gradients of `conv3d_backward` from
//!   `torch.autograd.grad`.
//! - `conv_transpose3d`: `torch.nn.functional.conv_transpose3d`, the
//!   per-side padding cropped from the ends of each axis.
//!
//! Every case runs under every algorithm, its arrays stored in the layouts
//! of `common::layouts` taken in turn (transposed, every other element of a
//! larger array, reversed, column-major, standard), through the allocating
//! function and its `_into` form writing into a NaN-filled (or, for
//! integers, garbage-filled) output in another of those layouts; nothing
//! around a strided output may be written. The shape functions must give
//! the expected output's shape. Tolerance, as for the other ranks:
//! `|got − expected| ≤ tol · max(1, max|expected|)` with `tol` = 1e-10
//! for double precision, 1e-4 for single, 0 for integers.

use std::fmt::Display;

mod common;

use common::golden::{self, Golden, Precision};
use common::layouts::{Layout, Stored};
use convolve::shape::{conv3d_output_shape, conv_transpose3d_output_shape};
use convolve::{
    conv3d, conv3d_backward, conv3d_backward_into, conv3d_into, conv_transpose3d, conv_transpose3d_into, convolve3d,
    convolve3d_into, correlate3d, correlate3d_into, Algorithm, Axis, Complex, Conv3dGradsMut, ConvOptions, Error,
    Float, Padding,
};
use ndarray::{Array, Array1, Array3, Array5, ArrayBase, Data, Dimension, Ix1, Ix3, Ix5, IxDyn};
use serde_json::Value;

const FIXTURE: &str = "rank3.json";

/// Cases in the fixture by operation; checked so that a loader that drops
/// cases cannot pass.
const SIGNAL_CASES: usize = 162;
const CONV3D_CASES: usize = 25;
const TRANSPOSE_CASES: usize = 9;

const ALGORITHMS: [Algorithm; 7] = [
    Algorithm::Direct,
    Algorithm::Auto,
    Algorithm::Vectorized,
    Algorithm::Gemm,
    Algorithm::Fft,
    Algorithm::Separable,
    Algorithm::Winograd,
];

/// The layouts arrays are stored in, taken in turn by case and algorithm.
const LAYOUTS: [Layout; 5] = [
    Layout::Transposed,
    Layout::Stepped,
    Layout::Reversed,
    Layout::Fortran,
    Layout::Standard,
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

/// A value a kernel that skips an element would leave behind.
trait Poison: Golden {
    const POISON: Self;
    fn is_poison(self) -> bool;
}

impl Poison for f64 {
    const POISON: Self = f64::NAN;
    fn is_poison(self) -> bool {
        self.is_nan()
    }
}

impl Poison for f32 {
    const POISON: Self = f32::NAN;
    fn is_poison(self) -> bool {
        self.is_nan()
    }
}

impl Poison for i64 {
    const POISON: Self = i64::MIN + 7;
    fn is_poison(self) -> bool {
        self == Self::POISON
    }
}

impl Poison for Complex<f64> {
    const POISON: Self = Complex::new(f64::NAN, f64::NAN);
    fn is_poison(self) -> bool {
        self.re.is_nan() && self.im.is_nan()
    }
}

/// An output of `shape` stored in `layout`, poison everywhere, in and
/// around the view.
fn dirty<T: Poison, D: Dimension>(shape: D, layout: Layout) -> Stored<T, D> {
    Stored::new(&Array::from_elem(shape, T::POISON), layout, T::POISON)
}

/// A case's array stored in `layout`, with poison around it.
fn stored<T: Poison, D: Dimension>(value: &Value, layout: Layout) -> Stored<T, D> {
    Stored::new(&golden::array::<T, D>(value), layout, T::POISON)
}

/// Checks what an `_into` call wrote into `out`: the expected values in
/// the view, and poison still everywhere around it.
fn check_written<T: Poison, D: Dimension, E: Display>(
    problems: &mut Vec<String>,
    what: &str,
    done: Result<(), E>,
    out: &Stored<T, D>,
    expected: &Value,
) {
    let view = out.view();
    compare(problems, what, done.map(|()| &view), expected);
    let untouched = out.base().iter().filter(|v| v.is_poison()).count();
    let around = out.base().len() - view.len();
    if untouched != around {
        problems.push(format!(
            "{what}: {untouched} poisoned elements left in the backing array, expected the {around} around the view"
        ));
    }
}

fn check_signal<T: Poison>(case: &Value, algorithm: Algorithm, turn: usize) -> Vec<String> {
    let opts = golden::options_3d::<T>(&case["options"]).algorithm(algorithm);
    let x: Stored<T, Ix3> = stored(&case["input"], LAYOUTS[turn % LAYOUTS.len()]);
    let k: Stored<T, Ix3> = stored(&case["kernel"], LAYOUTS[(turn + 1) % LAYOUTS.len()]);
    let (x, k) = (x.view(), k.view());
    let expected = &case["expected"];
    let correlate = match case["op"].as_str() {
        Some("correlate3d") => true,
        Some("convolve3d") => false,
        other => panic!("unknown op {other:?}"),
    };
    let mut problems = Vec::new();
    let y = if correlate {
        correlate3d(&x, &k, &opts)
    } else {
        convolve3d(&x, &k, &opts)
    };
    compare(&mut problems, "allocating", y.as_ref(), expected);
    let shape = golden::array::<T, Ix3>(expected).raw_dim();
    let mut out: Stored<T, Ix3> = dirty(shape, LAYOUTS[(turn + 2) % LAYOUTS.len()]);
    let done = if correlate {
        correlate3d_into(&x, &k, &opts, &mut out.view_mut())
    } else {
        convolve3d_into(&x, &k, &opts, &mut out.view_mut())
    };
    check_written(&mut problems, "_into", done, &out, expected);
    problems
}

/// A case's bias, if it has one.
fn bias<T: Golden>(case: &Value) -> Option<Array1<T>> {
    match &case["bias"] {
        Value::Null => None,
        b => Some(golden::array::<T, Ix1>(b)),
    }
}

fn dims5(shape: &[usize]) -> [usize; 5] {
    [shape[0], shape[1], shape[2], shape[3], shape[4]]
}

/// The shape a shape function predicts, against the expected array's.
fn check_shape<E: Display>(problems: &mut Vec<String>, what: &str, predicted: Result<[usize; 5], E>, expected: &Value) {
    let want: Vec<usize> = expected["shape"]
        .as_array()
        .expect("an array's shape")
        .iter()
        .map(golden::length)
        .collect();
    match predicted {
        Ok(shape) if shape[..] == want[..] => {}
        Ok(shape) => problems.push(format!("{what}: {shape:?}, expected {want:?}")),
        Err(e) => problems.push(format!("{what} returned an error: {e}")),
    }
}

fn check_conv3d<T: Poison + Float>(case: &Value, algorithm: Algorithm, turn: usize) -> Vec<String> {
    let layout = |i: usize| LAYOUTS[(turn + i) % LAYOUTS.len()];
    let opts = golden::options_3d::<T>(&case["options"]).algorithm(algorithm);
    let (x, w, g): (Stored<T, Ix5>, Stored<T, Ix5>, Stored<T, Ix5>) = (
        stored(&case["input"], layout(0)),
        stored(&case["weight"], layout(1)),
        stored(&case["grad_output"], layout(2)),
    );
    let (x, w, g) = (x.view(), w.view(), g.view());
    let b = bias::<T>(case);
    let expected = &case["expected"];
    let mut problems = Vec::new();
    check_shape(
        &mut problems,
        "conv3d_output_shape",
        conv3d_output_shape(dims5(x.shape()), dims5(w.shape()), &opts),
        &expected["output"],
    );
    compare(
        &mut problems,
        "conv3d",
        conv3d(&x, &w, b.as_deref(), &opts).as_ref(),
        &expected["output"],
    );
    let mut y: Stored<T, Ix5> = dirty(g.raw_dim(), layout(3));
    let done = conv3d_into(&x, &w, b.as_deref(), &opts, &mut y.view_mut());
    check_written(&mut problems, "conv3d_into", done, &y, &expected["output"]);
    match conv3d_backward(&x, &w, &g, &opts) {
        Ok(grads) => {
            for (what, got) in [("input", &grads.input), ("weight", &grads.weight)] {
                let label = format!("conv3d_backward {what}");
                compare(&mut problems, &label, Ok::<_, String>(got), &expected[what]);
            }
            compare(
                &mut problems,
                "conv3d_backward bias",
                Ok::<_, String>(&grads.bias),
                &expected["bias"],
            );
        }
        Err(e) => problems.push(format!("conv3d_backward returned an error: {e}")),
    }
    // Each gradient on its own, into a poisoned array of another layout.
    let mut dx: Stored<T, Ix5> = dirty(x.raw_dim(), layout(4));
    let mut dw: Stored<T, Ix5> = dirty(w.raw_dim(), layout(3));
    // A vector has no two axes to transpose.
    let vector_layout = [Layout::Stepped, Layout::Reversed][turn % 2];
    let mut db: Stored<T, Ix1> = dirty(Ix1(w.shape()[0]), vector_layout);
    let alone = |what: &str| format!("conv3d_backward_into, {what} alone");
    let done = conv3d_backward_into(
        &x,
        &w,
        &g,
        &opts,
        Conv3dGradsMut {
            input: Some(dx.view_mut()),
            ..Conv3dGradsMut::none()
        },
    );
    check_written(&mut problems, &alone("input"), done, &dx, &expected["input"]);
    let done = conv3d_backward_into(
        &x,
        &w,
        &g,
        &opts,
        Conv3dGradsMut {
            weight: Some(dw.view_mut()),
            ..Conv3dGradsMut::none()
        },
    );
    check_written(&mut problems, &alone("weight"), done, &dw, &expected["weight"]);
    let done = conv3d_backward_into(
        &x,
        &w,
        &g,
        &opts,
        Conv3dGradsMut {
            bias: Some(db.view_mut()),
            ..Conv3dGradsMut::none()
        },
    );
    check_written(&mut problems, &alone("bias"), done, &db, &expected["bias"]);
    problems
}

fn check_transpose<T: Poison + Float>(case: &Value, algorithm: Algorithm, turn: usize) -> Vec<String> {
    let layout = |i: usize| LAYOUTS[(turn + i) % LAYOUTS.len()];
    let opts = golden::options_3d::<T>(&case["options"]).algorithm(algorithm);
    let (x, w): (Stored<T, Ix5>, Stored<T, Ix5>) =
        (stored(&case["input"], layout(0)), stored(&case["weight"], layout(1)));
    let (x, w) = (x.view(), w.view());
    let b = bias::<T>(case);
    let expected = &case["expected"];
    let mut problems = Vec::new();
    check_shape(
        &mut problems,
        "conv_transpose3d_output_shape",
        conv_transpose3d_output_shape(dims5(x.shape()), dims5(w.shape()), &opts),
        expected,
    );
    compare(
        &mut problems,
        "conv_transpose3d",
        conv_transpose3d(&x, &w, b.as_deref(), &opts).as_ref(),
        expected,
    );
    let mut y: Stored<T, Ix5> = dirty(golden::array::<T, Ix5>(expected).raw_dim(), layout(2));
    let done = conv_transpose3d_into(&x, &w, b.as_deref(), &opts, &mut y.view_mut());
    check_written(&mut problems, "conv_transpose3d_into", done, &y, expected);
    problems
}

/// Checks every case of the fixture whose op is one of `ops` under every
/// algorithm, and fails listing every mismatch with the call that produced
/// the expected values.
fn run(ops: &[&str], expected_cases: usize, check: impl Fn(&Value, Algorithm, usize) -> Vec<String>) {
    let doc = golden::load(FIXTURE);
    let all = golden::cases(FIXTURE, &doc, SIGNAL_CASES + CONV3D_CASES + TRANSPOSE_CASES);
    let cases: Vec<&Value> = all.iter().filter(|c| ops.iter().any(|op| c["op"] == *op)).collect();
    assert_eq!(cases.len(), expected_cases, "{FIXTURE}: number of {ops:?} cases");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        for (a, algorithm) in ALGORITHMS.into_iter().enumerate() {
            let problems = check(case, algorithm, i + a);
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
fn correlate3d_and_convolve3d_match_scipy_and_numpy() {
    run(
        &["correlate3d", "convolve3d"],
        SIGNAL_CASES,
        |case, algorithm, turn| match case["dtype"].as_str() {
            Some("f64") => check_signal::<f64>(case, algorithm, turn),
            Some("f32") => check_signal::<f32>(case, algorithm, turn),
            Some("i64") => check_signal::<i64>(case, algorithm, turn),
            Some("Complex<f64>") => check_signal::<Complex<f64>>(case, algorithm, turn),
            other => panic!("unknown dtype {other:?}"),
        },
    );
}

#[test]
fn conv3d_and_its_gradients_match_torch() {
    run(&["conv3d"], CONV3D_CASES, |case, algorithm, turn| {
        match case["dtype"].as_str() {
            Some("f64") => check_conv3d::<f64>(case, algorithm, turn),
            Some("f32") => check_conv3d::<f32>(case, algorithm, turn),
            other => panic!("unknown dtype {other:?}"),
        }
    });
}

#[test]
fn conv_transpose3d_matches_torch() {
    run(
        &["conv_transpose3d"],
        TRANSPOSE_CASES,
        |case, algorithm, turn| match case["dtype"].as_str() {
            Some("f64") => check_transpose::<f64>(case, algorithm, turn),
            Some("f32") => check_transpose::<f32>(case, algorithm, turn),
            other => panic!("unknown dtype {other:?}"),
        },
    );
}

/// Where scipy raises instead ("For 'valid' mode, one must be at least as
/// large as the other in every dimension"), the crate returns an error
/// naming both shapes; the fixture leaves these pairs out of 'valid'.
#[test]
fn valid_mode_refuses_a_kernel_larger_along_some_axes_only() {
    let x = Array3::<f64>::ones((3, 6, 5));
    let k = Array3::<f64>::ones((4, 2, 3));
    let want = Error::ValidShapeMismatch {
        input: vec![3, 6, 5],
        kernel: vec![4, 2, 3],
    };
    assert_eq!(correlate3d(&x, &k, &ConvOptions::new()), Err(want.clone()));
    assert_eq!(convolve3d(&x, &k, &ConvOptions::new()), Err(want));
}

/// Where PyTorch raises ("Kernel size can't be greater than actual input
/// size"), the crate names the depth axis.
#[test]
fn a_kernel_deeper_than_the_padded_input_is_an_error_about_depth() {
    let x = Array5::<f64>::ones((1, 1, 2, 4, 4));
    let w = Array5::<f64>::ones((1, 1, 3, 2, 2));
    let opts = ConvOptions::new().padding(Padding::Explicit3d {
        front: 0,
        back: 0,
        top: 1,
        bottom: 1,
        left: 0,
        right: 0,
    });
    assert_eq!(
        conv3d(&x, &w, None, &opts),
        Err(Error::KernelTooLarge {
            axis: Axis::Depth,
            kernel_extent: 3,
            padded_input: 2,
        })
    );
    // One plane of padding makes it fit.
    assert_eq!(
        conv3d(&x, &w, None, &ConvOptions::new().padding(Padding::uniform3d(1)))
            .unwrap()
            .shape(),
        [1, 1, 2, 5, 5]
    );
}
