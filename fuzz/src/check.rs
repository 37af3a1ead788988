//! Comparing a fast algorithm's result with `Algorithm::Direct`'s.

use std::fmt::Debug;

use convolve::{Algorithm, Boundary, ConvOptions, Error};
use ndarray::{Array, ArrayBase, ArrayView, Data, Dimension, Zip};

/// The largest finite magnitude for which results are compared to a
/// tolerance: no sum of products of such values overflows.
pub const MODERATE: f64 = 1e6;

/// The largest output, in elements, that the targets compute.
pub const OUTPUT_CAP: usize = 4096;

/// The most multiply-adds one `Algorithm::Direct` run may cost.
pub const WORK_CAP: u128 = 1 << 19;

/// The most padded-input elements the fast kernels of one run may copy
/// before the targets leave the problem to `Direct` alone: filling tiles
/// through the boundary rule costs about a microsecond per element under
/// the sanitizer, and larger fills reach no code that small ones miss.
pub const FILL_CAP: u128 = 1 << 21;

/// The planner's tile limit, in elements: a fast kernel's blocks shrink
/// (down to one output row) to keep each padded-input tile within it.
const TILE_LIMIT: u128 = 1 << 24;

/// The tile of `rows` output rows of width `wo`.
fn tile(rows: u128, stride: [usize; 2], extent: [usize; 2], wo: u128, channels_per_group: usize) -> u128 {
    let height = (rows - 1) * stride[0] as u128 + extent[0] as u128;
    let width = (wo - 1) * stride[1] as u128 + extent[1] as u128;
    height
        .saturating_mul(width)
        .saturating_mul(channels_per_group.max(1) as u128)
}

/// Whether the fast kernels would copy more than [`FILL_CAP`] elements in
/// all, if blocks shrink (down to one row) to keep each tile within the
/// planner's limit: `ceil(Ho / rows)` tiles of `rows` output rows.
pub fn too_costly(out: [usize; 2], stride: [usize; 2], extent: [usize; 2], channels_per_group: usize) -> bool {
    let [ho, wo] = out.map(|len| len.max(1) as u128);
    let row = tile(1, [0, stride[1]], [1, extent[1]], wo, channels_per_group).max(1);
    let fitting = (TILE_LIMIT / row).saturating_sub(extent[0] as u128) / stride[0].max(1) as u128 + 1;
    let rows = (4096 / wo).min(fitting).clamp(1, ho);
    ho.div_ceil(rows)
        .saturating_mul(tile(rows, stride, extent, wo, channels_per_group))
        > FILL_CAP
}

/// Relative tolerance against the sum of `|x|·|k|` that made an output:
/// every algorithm's rounding error is far below it, a wrong tap far above.
pub const LOCAL_TOL: f64 = 1e-10;

/// Relative tolerance of the FFT path against the largest input times the
/// kernel's 1-norm (its error is spread over a tile, not local).
pub const GLOBAL_TOL: f64 = 1e-8;

/// What the data allow to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Finite and moderate: every algorithm, to a tolerance.
    Moderate,
    /// Some NaN or infinity, the finite values moderate: NaN and infinity
    /// patterns are exact for every algorithm but the FFT.
    NonFinite,
    /// Some finite value beyond [`MODERATE`]: sums may overflow in an order
    /// that depends on the algorithm, so only shapes are compared.
    Wild,
}

/// The class of all these values together.
pub fn classify<'a>(values: impl IntoIterator<Item = &'a f64>) -> Class {
    let mut class = Class::Moderate;
    for &v in values {
        if v.is_finite() {
            if v.abs() > MODERATE {
                return Class::Wild;
            }
        } else {
            class = Class::NonFinite;
        }
    }
    class
}

/// The fill value, if the boundary rule has one (the `f64` options of
/// `OptionsSpec::get(Value::f64)`).
pub fn fill_value(options: &ConvOptions) -> Option<f64> {
    match options.boundary {
        Boundary::Constant(_) => Some(options.boundary.fill::<f64>().expect("an f64 fill")),
        _ => None,
    }
}

/// The options of the magnitude run: `Direct`, and `|v|` as fill value.
pub fn abs_options(options: &ConvOptions) -> ConvOptions {
    ConvOptions {
        boundary: match fill_value(options) {
            Some(v) => Boundary::Fill(v.abs()),
            None => options.boundary,
        },
        algorithm: Algorithm::Direct,
        ..*options
    }
}

/// The largest `|v|`.
pub fn max_abs<'a>(values: impl IntoIterator<Item = &'a f64>) -> f64 {
    values.into_iter().fold(0.0, |m: f64, &v| m.max(v.abs()))
}

/// `Σ|v|` over a view, or `max|v| · len` when the view is too long to sum.
pub fn sum_abs<D: Dimension>(view: ArrayView<'_, f64, D>) -> f64 {
    if view.len() <= 1 << 20 {
        view.iter().map(|v| v.abs()).sum()
    } else {
        max_abs(view.iter().take(1 << 20)) * view.len() as f64
    }
}

/// The scale of the tolerance of a floating-point comparison.
#[derive(Debug)]
pub struct Scale<'a, D: Dimension> {
    /// `Σ|x|·|k|` of each output: its rounding errors are relative to this.
    pub magnitude: &'a Array<f64, D>,
    /// Largest input times the kernel's 1-norm, for algorithms whose error
    /// is spread over a tile (the FFT); 0 for the others.
    pub global: f64,
}

/// Asserts that `got` (from `algorithm`) matches `direct` element by
/// element: the same NaN positions, the same infinities, and finite
/// values within `LOCAL_TOL · magnitude + GLOBAL_TOL · global`.
pub fn assert_close<D: Dimension + Copy>(
    what: &str,
    algorithm: Algorithm,
    direct: &Array<f64, D>,
    got: &Array<f64, D>,
    scale: &Scale<'_, D>,
) {
    let global = scale.global;
    assert_eq!(direct.shape(), got.shape(), "{what}: {algorithm:?} shape");
    Zip::indexed(direct)
        .and(got)
        .and(scale.magnitude)
        .for_each(|index, &want, &have, &m| {
            let ok = if want.is_nan() || have.is_nan() {
                want.is_nan() && have.is_nan()
            } else if want.is_infinite() || have.is_infinite() {
                want == have
            } else {
                let tol = if m.is_finite() {
                    LOCAL_TOL * m + GLOBAL_TOL * global + 1e-300
                } else {
                    f64::INFINITY
                };
                (want - have).abs() <= tol
            };
            assert!(
                ok,
                "{what}: {algorithm:?} gives {have:e} at {index:?}, Direct {want:e} \
                 (magnitude {m:e}, global scale {global:e})"
            );
        });
}

/// Whether `algorithm`'s rounding may spread beyond the products that
/// make one output: the FFT's and Winograd's over a tile, `Separable`'s
/// through a factorization exact only to rounding, and `Auto`'s, which
/// may pick any of them. On moderate data these are held to the global
/// tolerance as well.
pub fn spreads_error(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::Fft | Algorithm::Winograd | Algorithm::Separable | Algorithm::Auto
    )
}

/// Whether `algorithm` is documented to spread a NaN or an infinity over
/// the tile it falls in: such an algorithm is not held to `Direct`'s
/// non-finite values.
pub fn spreads_nan(algorithm: Algorithm) -> bool {
    matches!(algorithm, Algorithm::Fft | Algorithm::Winograd)
}

/// Every algorithm of `algorithms` against `direct`, within the rounding
/// `magnitude` allows (plus the spread `global` for those whose error
/// [`spreads_error`], on moderate values); those that [`spreads_nan`] are
/// not held to non-finite values.
pub fn check_algorithms<D: Dimension + Copy>(
    name: &str,
    algorithms: &[Algorithm],
    run: &impl Fn(Algorithm) -> Array<f64, D>,
    direct: &Array<f64, D>,
    class: Class,
    magnitude: &Array<f64, D>,
    global: f64,
) {
    for &algorithm in algorithms {
        let y = run(algorithm);
        if class == Class::NonFinite && spreads_nan(algorithm) {
            continue;
        }
        let spread = spreads_error(algorithm) && class == Class::Moderate;
        let scale = Scale {
            magnitude,
            global: if spread { global } else { 0.0 },
        };
        assert_close(name, algorithm, direct, &y, &scale);
    }
}

/// Asserts bitwise equality, NaN equal to NaN (the same algorithm into a
/// different output layout).
pub fn assert_same_bits<S: Data<Elem = f64>, T: Data<Elem = f64>, D: Dimension + Copy>(
    what: &str,
    a: &ArrayBase<S, D>,
    b: &ArrayBase<T, D>,
) {
    assert_eq!(a.shape(), b.shape(), "{what}: shape");
    Zip::indexed(a).and(b).for_each(|index, &x, &y| {
        assert!(
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            "{what}: {x:e} != {y:e} at {index:?}"
        );
    });
}

/// Asserts equality as numbers: `−0` equal to `+0`, NaN equal to NaN (a
/// result and the same sums accumulated onto a zeroed buffer, which turns
/// a `−0` into `+0`).
pub fn assert_equal_values<S: Data<Elem = f64>, T: Data<Elem = f64>, D: Dimension + Copy>(
    what: &str,
    a: &ArrayBase<S, D>,
    b: &ArrayBase<T, D>,
) {
    assert_eq!(a.shape(), b.shape(), "{what}: shape");
    Zip::indexed(a).and(b).for_each(|index, &x, &y| {
        assert!(
            x == y || (x.is_nan() && y.is_nan()),
            "{what}: {x:e} != {y:e} at {index:?}"
        );
    });
}

/// Asserts exact equality of integer results.
pub fn assert_exact<D: Dimension>(what: &str, algorithm: Algorithm, direct: &Array<i64, D>, got: &Array<i64, D>) {
    assert_eq!(direct, got, "{what}: {algorithm:?} differs from Direct");
}

/// The output shape reported by an `_into` call given an output of the
/// wrong shape: `Ok(shape)` from the `ShapeMismatch` error, or the
/// call's other error. Computes and allocates nothing.
pub fn shape_from_mismatch(result: Result<(), Error>, dummy: &[usize]) -> Result<Vec<usize>, Error> {
    match result {
        Err(Error::ShapeMismatch {
            what: "the output",
            expected,
            got,
        }) => {
            assert_eq!(got, dummy, "ShapeMismatch reports the wrong `got`");
            assert_ne!(expected, dummy, "ShapeMismatch with equal shapes");
            Ok(expected)
        }
        Ok(()) => panic!("an _into call accepted an output of shape {dummy:?}"),
        Err(e) => Err(e),
    }
}

/// Asserts that the model, the shape functions and the call agree on
/// whether the call is valid and on its shape.
pub fn assert_agree<S: Debug + PartialEq>(model: Option<S>, shape_fn: Option<S>, call: Result<S, Error>, what: &str) {
    assert_eq!(
        model, shape_fn,
        "{what}: the u128 model and the shape functions disagree (call gave {call:?})"
    );
    match (&model, &call) {
        (Some(m), Ok(c)) => assert_eq!(m, c, "{what}: wrong output shape"),
        (None, Err(_)) => {}
        _ => panic!("{what}: the model predicts {model:?}, the call gives {call:?}"),
    }
}

/// `a · b` in u128, saturating.
pub fn work(factors: &[usize]) -> u128 {
    factors.iter().fold(1u128, |acc, &f| acc.saturating_mul(f as u128))
}

/// Asserts what a refused call of spatial rank `rank` may say: an
/// `OptionRank` only for options given for another rank (`mismatches`,
/// from `model::rank_mismatches`), naming one of them, and no axis but the
/// call's own. (Which error a call with several faults gives is not
/// documented; that options of another rank are refused when nothing
/// else is wrong is checked by the callers.)
pub fn assert_refusal(what: &str, rank: usize, mismatches: &[(&'static str, usize)], error: &Error) {
    if let Error::OptionRank { option, given, call } = error {
        assert!(
            *call == rank && mismatches.contains(&(*option, *given)),
            "{what}: options of another rank {mismatches:?} give {error:?}"
        );
    }
    // An axis appears in the `Debug` of an error as the value of a field.
    let text = format!("{error:?}");
    let foreign: &[&str] = match rank {
        1 => &[": Height", ": Width", ": Depth"],
        2 => &[": Length", ": Depth"],
        _ => &[": Length"],
    };
    assert!(
        foreign.iter().all(|axis| !text.contains(axis)),
        "{what}: a call of rank {rank} names an axis of another rank: {error:?}"
    );
}
