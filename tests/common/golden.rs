//! The golden fixtures, `tests/golden/*.json`, written by
//! `tests/golden/generate.py` from scipy, numpy and PyTorch: loading a file,
//! reading the arrays and options of its cases, and comparing results with
//! its expected values. Each case records the Python call that produced it
//! (`source`) and each file the package versions, so these tests need no
//! Python.

use std::path::Path;

use convolve::{Boundary, ConvOptions, Element, Padding};
use ndarray::{Array, ArrayBase, ArrayD, Data, Dimension, IxDyn};
use num_complex::Complex;
use serde_json::Value;

/// How an element type's expected values were computed, which sets how
/// close a result must come to them (each test file sets the tolerances).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// Integers: results must be equal.
    Exact,
    /// `f32` and `Complex<f32>`.
    Single,
    /// `f64` and `Complex<f64>`.
    Double,
}

/// An element type the fixtures hold.
pub trait Golden: Element {
    /// The name the fixtures give the type.
    const NAME: &'static str;
    /// How its expected values were computed.
    const PRECISION: Precision;
    /// The element a JSON value holds.
    fn from_json(value: &Value) -> Self;
    /// `|self − other|`, computed without overflow.
    fn distance(self, other: Self) -> f64;
    /// `|self|`, the modulus for complex values.
    fn magnitude(self) -> f64;
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"))
}

fn integer(value: &Value) -> i64 {
    value.as_i64().unwrap_or_else(|| panic!("not an integer: {value}"))
}

/// A nonnegative integer: a length, a count or a padding width.
pub fn length(value: &Value) -> usize {
    value
        .as_u64()
        .and_then(|v| usize::try_from(v).ok())
        .unwrap_or_else(|| panic!("not a length: {value}"))
}

fn complex_parts(value: &Value) -> (f64, f64) {
    match value.as_array().map(Vec::as_slice) {
        Some([re, im]) => (number(re), number(im)),
        _ => panic!("not a complex [re, im]: {value}"),
    }
}

macro_rules! golden_float {
    ($t:ty, $name:literal, $precision:expr) => {
        impl Golden for $t {
            const NAME: &'static str = $name;
            const PRECISION: Precision = $precision;
            fn from_json(value: &Value) -> Self {
                number(value) as $t
            }
            fn distance(self, other: Self) -> f64 {
                (f64::from(self) - f64::from(other)).abs()
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
            const PRECISION: Precision = Precision::Exact;
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
    ($t:ty, $name:literal, $precision:expr) => {
        impl Golden for Complex<$t> {
            const NAME: &'static str = $name;
            const PRECISION: Precision = $precision;
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

golden_float!(f64, "f64", Precision::Double);
golden_float!(f32, "f32", Precision::Single);
golden_int!(i64, "i64");
golden_int!(i32, "i32");
golden_complex!(f64, "Complex<f64>", Precision::Double);
golden_complex!(f32, "Complex<f32>", Precision::Single);

/// `tests/golden/{file}`, parsed.
pub fn load(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(file);
    let json = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The cases of a fixture, which must number `expected`, so that a loader
/// that drops cases cannot pass.
pub fn cases<'a>(file: &str, doc: &'a Value, expected: usize) -> &'a [Value] {
    let cases = doc["cases"].as_array().unwrap_or_else(|| panic!("{file}: no cases"));
    assert_eq!(cases.len(), expected, "{file}: number of cases");
    cases
}

/// A failing case: its name and `label`, what went wrong, and the Python
/// call that produced its expected values.
pub fn failure(case: &Value, label: &str, problems: &[String]) -> String {
    format!(
        "  {}{label}:\n    {}\n    source: {}",
        case["name"].as_str().unwrap_or("<unnamed>"),
        problems.join("\n    "),
        case["source"].as_str().unwrap_or("<no source>"),
    )
}

/// An array, `{"shape": [...], "data": [...]}` with the data in standard
/// order.
pub fn array<T: Golden, D: Dimension>(value: &Value) -> Array<T, D> {
    let shape: Vec<usize> = value["shape"]
        .as_array()
        .expect("an array's shape")
        .iter()
        .map(length)
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

/// A `[height, width]` pair.
pub fn pair(value: &Value) -> [usize; 2] {
    match value.as_array().map(Vec::as_slice) {
        Some([a, b]) => [length(a), length(b)],
        _ => panic!("not a pair: {value}"),
    }
}

fn padding(value: &Value) -> Padding {
    match value.as_str() {
        Some("Valid") => Padding::Valid,
        Some("Same") => Padding::Same,
        Some("Full") => Padding::Full,
        Some(other) => panic!("unknown padding {other}"),
        None if value.get("Explicit1d").is_some() => Padding::Explicit1d {
            left: length(&value["Explicit1d"]["left"]),
            right: length(&value["Explicit1d"]["right"]),
        },
        None if value.get("Explicit3d").is_some() => {
            let side = |name: &str| length(&value["Explicit3d"][name]);
            Padding::Explicit3d {
                front: side("front"),
                back: side("back"),
                top: side("top"),
                bottom: side("bottom"),
                left: side("left"),
                right: side("right"),
            }
        }
        None => {
            let side = |name: &str| length(&value["Explicit"][name]);
            Padding::Explicit {
                top: side("top"),
                bottom: side("bottom"),
                left: side("left"),
                right: side("right"),
            }
        }
    }
}

fn boundary<T: Golden>(value: &Value) -> Boundary {
    match value.as_str() {
        Some("Wrap") => Boundary::Wrap,
        Some("Symmetric") => Boundary::Symmetric,
        Some("Reflect") => Boundary::Reflect,
        Some("Replicate") => Boundary::Replicate,
        Some(other) => panic!("unknown boundary {other}"),
        None => Boundary::Fill(T::from_json(&value["Fill"])),
    }
}

/// The stride, dilation, padding, groups and boundary rule of a case's
/// `options`, a fill value read as a `T`; the algorithm (and any output
/// padding) is the caller's.
pub fn options<T: Golden>(value: &Value) -> ConvOptions {
    let [sh, sw] = pair(&value["stride"]);
    let [dh, dw] = pair(&value["dilation"]);
    ConvOptions::new()
        .strides(sh, sw)
        .dilations(dh, dw)
        .padding(padding(&value["padding"]))
        .groups(length(&value["groups"]))
        .boundary(boundary::<T>(&value["boundary"]))
}

/// The options of a 1-D case: one stride, dilation and output padding,
/// the padding, groups and boundary rule; the algorithm is the caller's.
pub fn options_1d<T: Golden>(value: &Value) -> ConvOptions {
    let one = |name: &str| match value[name].as_array().map(Vec::as_slice) {
        Some([v]) => length(v),
        _ => panic!("not a one-element list: {}", value[name]),
    };
    ConvOptions::new()
        .stride(one("stride"))
        .dilation(one("dilation"))
        .output_padding(one("output_padding"))
        .padding(padding(&value["padding"]))
        .groups(length(&value["groups"]))
        .boundary(boundary::<T>(&value["boundary"]))
}

/// A `[depth, height, width]` triple.
pub fn triple(value: &Value) -> [usize; 3] {
    match value.as_array().map(Vec::as_slice) {
        Some([a, b, c]) => [length(a), length(b), length(c)],
        _ => panic!("not a triple: {value}"),
    }
}

/// The options of a 3-D case: strides, dilations and output paddings per
/// axis (depth, rows, columns), the padding, groups and boundary rule; the
/// algorithm is the caller's. Values equal along the three axes are given
/// once (`ConvOptions::stride`, which serves every rank), others per axis
/// (`ConvOptions::strides3d`), so that both forms are read.
pub fn options_3d<T: Golden>(value: &Value) -> ConvOptions {
    let [sd, sh, sw] = triple(&value["stride"]);
    let [dd, dh, dw] = triple(&value["dilation"]);
    let [od, oh, ow] = triple(&value["output_padding"]);
    let mut options = ConvOptions::new()
        .padding(padding(&value["padding"]))
        .groups(length(&value["groups"]))
        .boundary(boundary::<T>(&value["boundary"]));
    options = if sd == sh && sh == sw {
        options.stride(sd)
    } else {
        options.strides3d(sd, sh, sw)
    };
    options = if dd == dh && dh == dw {
        options.dilation(dd)
    } else {
        options.dilations3d(dd, dh, dw)
    };
    if od == oh && oh == ow {
        options.output_padding(od)
    } else {
        options.output_paddings3d(od, oh, ow)
    }
}

/// Checks `got` against `expected` element-wise:
/// `|got − expected| ≤ tolerance · max(1, max|expected|)`, the maximum
/// taken over the whole expected array, so that outputs which cancel to
/// nearly zero do not demand more digits than the inputs carry. `Err`
/// gives the shapes, or the number of elements that differ and the first.
pub fn check_close<T, S, D>(got: &ArrayBase<S, D>, expected: &ArrayD<T>, tolerance: f64) -> Result<(), String>
where
    T: Golden,
    S: Data<Elem = T>,
    D: Dimension,
{
    if got.shape() != expected.shape() {
        return Err(format!("shape {:?}, expected {:?}", got.shape(), expected.shape()));
    }
    let scale = expected.iter().map(|v| v.magnitude()).fold(1.0, f64::max);
    let bound = tolerance * scale;
    let got = got.view().into_dyn();
    let mut mismatches = got
        .indexed_iter()
        .zip(expected.iter())
        .map(|((index, &g), &e)| (index, g, e, g.distance(e)))
        .filter(|&(_, _, _, err)| err.is_nan() || err > bound);
    match mismatches.next() {
        None => Ok(()),
        Some((index, g, e, err)) => Err(format!(
            "{} element(s) differ; first at {:?}: got {g:?}, expected {e:?}, error {err:e} > {bound:e} \
             (tolerance {tolerance:e} x scale {scale:e})",
            1 + mismatches.count(),
            index.slice(),
        )),
    }
}
