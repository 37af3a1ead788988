//! The `rank1` target: every 1-D entry point (`correlate1d`, `convolve1d`,
//! `conv1d`, `conv1d_backward`, `conv_transpose1d`, their `_into` forms,
//! `conv1d_algorithm` and the 1-D shape functions).
//!
//! A 1-D call is documented as the 2-D call on one-row arrays, with the
//! options given per axis as rows of stride 1, dilation 1 and no padding:
//! besides the model's validity and shape and the agreement of every
//! algorithm with `Direct`, each 1-D result is checked bit for bit against
//! that 2-D call.

use arbitrary::Arbitrary;
use convolve::shape::{conv1d_output_shape, conv_transpose1d_output_shape, AxisGeometry, Operation};
use convolve::{
    conv1d, conv1d_algorithm, conv1d_backward, conv1d_backward_into, conv1d_into, conv2d, conv2d_algorithm,
    conv2d_backward, conv2d_backward_into, conv2d_into, conv_transpose1d, conv_transpose1d_into, conv_transpose2d,
    conv_transpose2d_into, convolve1d, convolve1d_into, convolve2d, convolve2d_into, correlate1d, correlate1d_into,
    correlate2d, correlate2d_into, Algorithm, Complex, Conv1dGrads, Conv1dGradsMut, Conv2dGradsMut, ConvOptions,
    Element, Error, Padding, PerAxis,
};
use ndarray::{Array1, Array2, Array3, Array4, ArrayView1, ArrayView3, ArrayView4, Axis, Ix1, Ix3};

use crate::batched::{folds, rotated, BiasSpec, ChannelSpec};
use crate::check::{self, Class, Scale};
use crate::gen::{Layout, Len, OptionsNdSpec, Value, EVERY_FAST_ALGORITHM};
use crate::model;
use crate::operand::{relayout, Operand, ALLOC_CAP};

/// Which entry point a case calls.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call1d {
    /// `correlate1d`.
    Correlate,
    /// `convolve1d`.
    Convolve,
    /// `conv1d`.
    Conv,
    /// `conv1d_backward`.
    Backward,
    /// `conv_transpose1d`.
    Transpose,
}

/// The upstream gradient of `conv1d_backward`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Grad1dSpec {
    /// The forward output's shape, when the forward call is valid.
    Matching,
    /// Any shape.
    Raw([Len; 3]),
}

/// One fuzz case of a 1-D entry point.
#[derive(Arbitrary, Debug)]
pub struct Input1d {
    /// The entry point.
    pub call: Call1d,
    /// `N` (batched calls).
    pub batch: Len,
    /// `C`, `O`, `C / groups` (batched calls).
    pub channels: ChannelSpec,
    /// `L`.
    pub length: Len,
    /// `k`.
    pub kernel: Len,
    /// Every option, per-axis values and paddings of every rank included.
    pub options: OptionsNdSpec,
    /// Bias (`conv1d`, `conv_transpose1d`).
    pub bias: BiasSpec,
    /// Upstream gradient (`conv1d_backward`).
    pub grad: Grad1dSpec,
    /// Layouts of input, kernel or weight, upstream gradient and `_into`
    /// output.
    pub layouts: [Layout; 4],
    /// Elements, cycled; each operand starts at a different offset.
    pub values: Vec<Value>,
}

/// Runs one case.
pub fn run(case: &Input1d) {
    match case.call {
        Call1d::Correlate => run_single(case, false),
        Call1d::Convolve => run_single(case, true),
        Call1d::Conv => run_conv(case),
        Call1d::Backward => run_backward(case),
        Call1d::Transpose => run_transpose(case),
    }
}

/// The 2-D options that mean `options` (of a 1-D call) on one-row arrays:
/// rows of stride 1 and dilation 1, with no padding and no output padding.
fn one_row(options: &ConvOptions) -> ConvOptions {
    let [stride] = options.stride.of_rank::<1>().expect("options of rank 1");
    let [dilation] = options.dilation.of_rank::<1>().expect("options of rank 1");
    let [output_padding] = options.output_padding.of_rank::<1>().expect("options of rank 1");
    let padding = match options.padding {
        Padding::Explicit1d { left, right } => Padding::Explicit {
            top: 0,
            bottom: 0,
            left,
            right,
        },
        other => other,
    };
    ConvOptions {
        stride: PerAxis::Two([1, stride]),
        dilation: PerAxis::Two([1, dilation]),
        output_padding: PerAxis::Two([0, output_padding]),
        padding,
        ..*options
    }
}

fn with(options: &ConvOptions, algorithm: Algorithm) -> ConvOptions {
    ConvOptions { algorithm, ..*options }
}

/// Asserts what a refused 1-D call may say: `OptionRank` only for options
/// of another rank, and only the length axis.
fn assert_refusal(what: &str, options: &ConvOptions, error: &Error) {
    check::assert_refusal(what, 1, &model::rank_mismatches(options, 1, true), error);
}

/// Whether a single-channel problem is small enough to compute with every
/// algorithm.
fn affordable(out: &[usize], stride: usize, extent: usize, taps: usize, channels_per_group: usize) -> bool {
    let len = *out.last().expect("a spatial axis");
    let out_len: usize = out.iter().product();
    out_len <= check::OUTPUT_CAP
        && check::work(&[out_len, taps, channels_per_group]) <= check::WORK_CAP
        && !check::too_costly([1, len], [1, stride], [1, extent], channels_per_group)
}

/// `d·(k − 1) + 1` of a valid call.
fn extent(options: &ConvOptions, taps: usize) -> usize {
    let [dilation] = options.dilation.of_rank::<1>().expect("a valid call");
    dilation * (taps - 1) + 1
}

fn stride(options: &ConvOptions) -> usize {
    options.stride.of_rank::<1>().expect("a valid call")[0]
}

// ---------------------------------------------------------------------------
// correlate1d, convolve1d

/// The output length as the `shape` module computes it: `Padding::resolve`
/// and `AxisGeometry::output_len` along the length axis, with scipy's
/// `valid` swap.
fn shape_fn_single(input: usize, kernel: usize, options: &ConvOptions, convolution: bool) -> Option<Vec<usize>> {
    options.output_padding.of_rank::<1>()?;
    let [stride] = options.stride.of_rank::<1>()?;
    let [dilation] = options.dilation.of_rank::<1>()?;
    if options.groups != 1 {
        return None;
    }
    let operation = if convolution {
        Operation::Convolution
    } else {
        Operation::CrossCorrelation
    };
    let geometry = |input: usize, kernel: usize| {
        let g = AxisGeometry::new(input, kernel)
            .along(convolve::Axis::Length)
            .stride(stride)
            .dilation(dilation);
        g.kernel_extent().ok()?;
        if input == 0 {
            return None;
        }
        options.padding.resolve(g, operation).ok()
    };
    geometry(input, kernel)?;
    let scipy_valid = options.padding == Padding::Valid && stride == 1 && dilation == 1;
    let g = if scipy_valid && kernel > input {
        geometry(kernel, input)?
    } else {
        geometry(input, kernel)?
    };
    let shape = vec![g.output_len().ok()?];
    model::allocatable(&shape, 8).then_some(shape)
}

fn call_single<A: Element>(
    x: ArrayView1<'_, A>,
    k: ArrayView1<'_, A>,
    options: &ConvOptions,
    convolution: bool,
) -> convolve::Result<Array1<A>> {
    if convolution {
        convolve1d(&x, &k, options)
    } else {
        correlate1d(&x, &k, options)
    }
}

fn call_single_2d<A: Element>(
    x: ArrayView1<'_, A>,
    k: ArrayView1<'_, A>,
    options: &ConvOptions,
    convolution: bool,
) -> convolve::Result<Array2<A>> {
    let (x, k, options) = (x.insert_axis(Axis(0)), k.insert_axis(Axis(0)), one_row(options));
    if convolution {
        convolve2d(&x, &k, &options)
    } else {
        correlate2d(&x, &k, &options)
    }
}

/// The shortest output `correlate1d` and `convolve1d` cut into parts (two
/// parts of `2^16`), where they stop being the one-row 2-D call.
const LONG_SIGNAL: usize = 1 << 17;

/// The longest signal, in elements, stored whole (longer ones are
/// broadcast), and the most multiply-adds of one run on a long signal:
/// enough for a few parts, little enough for the sanitizer build.
const LONG_CAP: usize = 1 << 19;

/// The input and the kernel of a single-channel case; the kernel reads the
/// values backwards. Signals up to [`LONG_CAP`] are stored whole.
fn single_operands<A: Copy>(
    case: &Input1d,
    convert: impl Fn(Value) -> A + Copy,
) -> Option<(Operand<A, Ix1>, Operand<A, Ix1>)> {
    let k_values: Vec<Value> = case.values.iter().rev().copied().collect();
    Some((
        Operand::with_cap(Ix1(case.length.get()), &case.values, convert, case.layouts[0], LONG_CAP)?,
        Operand::new(Ix1(case.kernel.get()), &k_values, convert, case.layouts[1])?,
    ))
}

fn run_single(case: &Input1d, convolution: bool) {
    let what = if convolution { "convolve1d" } else { "correlate1d" };
    let (len, taps) = (case.length.get(), case.kernel.get());
    let options = case.options.get(1, Value::f64);
    let Some((x, k)) = single_operands(case, Value::f64) else {
        return;
    };

    let fits = model::rank_mismatches(&options, 1, true).is_empty();
    let model = fits
        .then(|| model::single_channel::<f64>(&[len], &[taps], &options, convolution))
        .flatten();
    let mut dummy = Array1::<f64>::zeros(0);
    let result = if convolution {
        convolve1d_into(&x.view(), &k.view(), &options, &mut dummy)
    } else {
        correlate1d_into(&x.view(), &k.view(), &options, &mut dummy)
    };
    let called = check::shape_from_mismatch(result, &[0]);
    if !fits {
        // The output's shape may be checked before the options' ranks: with
        // an output of the reported shape, they must be refused.
        match called {
            Ok(shape) if shape[0] <= check::OUTPUT_CAP => {
                let mut out = Array1::<f64>::zeros(shape[0]);
                let result = if convolution {
                    convolve1d_into(&x.view(), &k.view(), &options, &mut out)
                } else {
                    correlate1d_into(&x.view(), &k.view(), &options, &mut out)
                };
                let error = result.expect_err("options of another rank accepted");
                assert!(
                    matches!(error, Error::OptionRank { .. }),
                    "{what}: options of another rank, nothing else wrong, give {error:?}"
                );
                assert_refusal(what, &options, &error);
            }
            Ok(_) => {}
            Err(e) => assert_refusal(what, &options, &e),
        }
        return;
    }
    let shape_fn = shape_fn_single(len, taps, &options, convolution);
    check::assert_agree(model.clone(), shape_fn, called.clone(), what);
    if fits {
        // The one-row 2-D call agrees on validity and shape, whatever the size.
        let mut dummy = Array2::<f64>::zeros((0, 0));
        let (x2, k2) = (x.view().insert_axis(Axis(0)), k.view().insert_axis(Axis(0)));
        let result = if convolution {
            convolve2d_into(&x2, &k2, &one_row(&options), &mut dummy)
        } else {
            correlate2d_into(&x2, &k2, &one_row(&options), &mut dummy)
        };
        let two_d = check::shape_from_mismatch(result, &[0, 0]);
        assert_eq!(
            two_d.ok(),
            model.as_ref().map(|s| vec![1, s[0]]),
            "{what}: the one-row 2-D call disagrees on the shape"
        );
    }
    let out_shape = match called {
        Ok(shape) => shape,
        Err(e) => return assert_refusal(what, &options, &e),
    };

    let swapped = model::swaps(&[len], &[taps], &options);
    let reach = if swapped { len } else { taps };
    // A long signal runs in parts: only the first call's algorithm and
    // `Direct` are run, in f64. Its work is capped, not its padding: the
    // memory it takes beyond the output's is what this is to find.
    let long =
        out_shape[0] >= LONG_SIGNAL && x.is_materialized() && check::work(&[out_shape[0], reach]) <= LONG_CAP as u128;
    if !long && !affordable(&out_shape, stride(&options), extent(&options, reach), reach, 1) {
        return;
    }
    let algorithms = if long {
        vec![options.algorithm]
    } else {
        EVERY_FAST_ALGORITHM.to_vec()
    };

    // f64: every algorithm equals its one-row 2-D call (for a long signal,
    // cut into parts, only to rounding where the algorithm's rounding
    // spreads, as each part may be planned anew) and agrees with Direct.
    let fill = check::fill_value(&options);
    let class = check::classify(x.stored().chain(k.stored()).chain(fill.iter()));
    let (ax, ak) = (x.map(f64::abs), k.map(f64::abs));
    let magnitude = call_single(ax.view(), ak.view(), &check::abs_options(&options), convolution).expect("|x| ⋆ |k|");
    let largest = check::max_abs(x.stored().chain(k.stored()).chain(fill.iter()));
    let global = largest * check::sum_abs(if swapped { x.view() } else { k.view() });
    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = call_single(x.view(), k.view(), &options, convolution)
            .unwrap_or_else(|e| panic!("{what}: {algorithm:?} fails after the shape check passed: {e}"));
        let y2 = call_single_2d(x.view(), k.view(), &options, convolution)
            .unwrap_or_else(|e| panic!("{what}: the one-row 2-D call with {algorithm:?} fails: {e}"))
            .index_axis_move(Axis(0), 0);
        let what = format!("{what} {algorithm:?} vs one-row 2-D");
        if !(long && check::spreads_error(algorithm)) {
            check::assert_same_bits(&what, &y, &y2);
        } else if class == Class::Moderate {
            let scale = Scale {
                magnitude: &magnitude,
                global,
            };
            check::assert_close(&what, algorithm, &y2, &y, &scale);
        }
        y
    };
    let direct = run(Algorithm::Direct);
    let mut out = relayout(Array1::from_elem(out_shape[0], f64::NAN), case.layouts[3]);
    if convolution {
        convolve1d_into(&x.view(), &k.view(), &options, &mut out)
    } else {
        correlate1d_into(&x.view(), &k.view(), &options, &mut out)
    }
    .expect("_into with the right shape");
    check::assert_same_bits(what, &run(options.algorithm), &out);

    if class == Class::Wild {
        for &algorithm in &algorithms {
            run(algorithm);
        }
    } else {
        check::check_algorithms(what, &algorithms, &run, &direct, class, &magnitude, global);
    }
    if long {
        return;
    }

    // i64: exact, and equal to the one-row 2-D call.
    let options = case.options.get(1, Value::i64);
    let (x, k) = single_operands(case, Value::i64).expect("as for f64");
    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = call_single(x.view(), k.view(), &options, convolution)
            .unwrap_or_else(|e| panic!("{what}: i64 {algorithm:?} fails after the shape check passed: {e}"));
        let y2 = call_single_2d(x.view(), k.view(), &options, convolution).expect("the one-row 2-D call");
        assert_eq!(
            y,
            y2.row(0),
            "{what}: i64 {algorithm:?} differs from the one-row 2-D call"
        );
        y
    };
    let direct = run(Algorithm::Direct);
    for algorithm in EVERY_FAST_ALGORITHM {
        check::assert_exact(what, algorithm, &direct, &run(algorithm));
    }

    // Complex: the one-row 2-D call, conjugated where scipy's `valid` swap
    // makes `correlate1d` give the negative lags as `scipy.signal.correlate`
    // does.
    let complex = |v: Value| Complex::new(v.f64(), v.i64() as f64 / 3.0);
    let options = case.options.get(1, Value::f64);
    let (x, k) = single_operands(case, complex).expect("as for f64");
    let one_d = call_single(x.view(), k.view(), &options, convolution);
    let two_d = call_single_2d(x.view(), k.view(), &options, convolution);
    assert_eq!(
        one_d.is_ok(),
        two_d.is_ok(),
        "{what}: complex {one_d:?} but 2-D {two_d:?}"
    );
    if let (Ok(one_d), Ok(two_d)) = (one_d, two_d) {
        let conjugate = swapped && !convolution;
        for (a, b) in one_d.iter().zip(two_d.row(0)) {
            let b = if conjugate { b.conj() } else { *b };
            let same = |p: f64, q: f64| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan());
            assert!(
                same(a.re, b.re) && same(a.im, b.im),
                "{what}: complex {one_d} but the one-row 2-D call (conjugated: {conjugate}) gives {two_d}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// conv1d, conv1d_backward, conv_transpose1d

impl Input1d {
    /// Input and weight shapes; `transposed` uses the transposed weight
    /// layout `[C_in, C_out / G, k]`.
    fn shapes(&self, transposed: bool) -> ([usize; 3], [usize; 3]) {
        let (c, w0, w1) = self.channels.get(self.options.groups.get(), transposed);
        ([self.batch.get(), c, self.length.get()], [w0, w1, self.kernel.get()])
    }

    fn operand<A: Copy>(
        &self,
        shape: [usize; 3],
        which: usize,
        convert: impl Fn(Value) -> A,
    ) -> Option<Operand<A, Ix3>> {
        Operand::new(
            Ix3(shape[0], shape[1], shape[2]),
            &rotated(&self.values, which * 7),
            convert,
            self.layouts[which],
        )
    }

    fn bias<A>(&self, out_channels: usize, convert: impl Fn(Value) -> A) -> Option<Array1<A>> {
        self.bias.get(out_channels, &rotated(&self.values, 3), convert)
    }
}

/// `[N, C, L]` as `[N, C, 1, L]`.
fn unit_rows<A>(view: ArrayView3<'_, A>) -> ArrayView4<'_, A> {
    view.insert_axis(Axis(2))
}

/// `[a, b, len]` as `[a, b, 1, len]`.
fn shape_4d([a, b, len]: [usize; 3]) -> [usize; 4] {
    [a, b, 1, len]
}

const DUMMY: [usize; 3] = [0, 0, 0];

fn as3(shape: Vec<usize>) -> [usize; 3] {
    [shape[0], shape[1], shape[2]]
}

fn run_conv(case: &Input1d) {
    let options = case.options.get(1, Value::f64);
    let (xs, ws) = case.shapes(false);
    let (Some(x), Some(w)) = (case.operand(xs, 0, Value::f64), case.operand(ws, 1, Value::f64)) else {
        return;
    };
    let bias = case.bias(ws[0], Value::f64);

    let fits = model::rank_mismatches(&options, 1, true).is_empty();
    let model = fits
        .then(|| model::conv::<f64>(&xs, &ws, bias.as_ref().map(Array1::len), &options))
        .flatten()
        .map(as3);
    let shape_fn = conv1d_output_shape(xs, ws, &options)
        .ok()
        .filter(|s| bias.as_ref().is_none_or(|b| b.len() == s[1]))
        .filter(|s| model::bytes_fit(s, 8));
    let mut dummy = Array3::<f64>::zeros(DUMMY);
    let called = check::shape_from_mismatch(
        conv1d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut dummy),
        &DUMMY,
    )
    .map(as3);
    check::assert_agree(model, shape_fn, called.clone(), "conv1d");
    let algorithm = conv1d_algorithm::<f64>(xs, ws, &options);
    assert_eq!(
        algorithm.is_ok(),
        conv1d_output_shape(xs, ws, &options).is_ok(),
        "conv1d_algorithm disagrees with conv1d_output_shape"
    );
    if fits {
        assert_eq!(
            algorithm.ok(),
            conv2d_algorithm::<f64>(shape_4d(xs), shape_4d(ws), &one_row(&options)).ok(),
            "conv1d_algorithm differs from conv2d_algorithm on one row"
        );
        let mut dummy = Array4::<f64>::zeros([0; 4]);
        let two_d = check::shape_from_mismatch(
            conv2d_into(
                &unit_rows(x.view()),
                &unit_rows(w.view()),
                bias.as_deref(),
                &one_row(&options),
                &mut dummy,
            ),
            &[0; 4],
        );
        assert_eq!(
            two_d.ok(),
            model.map(|s| shape_4d(s).to_vec()),
            "conv1d: the one-row 2-D call disagrees on the shape"
        );
    }
    let out_shape = match called {
        Ok(shape) => shape,
        Err(e) => return assert_refusal("conv1d", &options, &e),
    };
    if !affordable(&out_shape, stride(&options), extent(&options, ws[2]), ws[2], ws[1]) {
        return;
    }

    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = conv1d(&x.view(), &w.view(), bias.as_deref(), &options)
            .unwrap_or_else(|e| panic!("conv1d: {algorithm:?} fails after the shape check passed: {e}"));
        let y2 = conv2d(
            &unit_rows(x.view()),
            &unit_rows(w.view()),
            bias.as_deref(),
            &one_row(&options),
        )
        .unwrap_or_else(|e| panic!("conv1d: the one-row conv2d with {algorithm:?} fails: {e}"));
        check::assert_same_bits(
            &format!("conv1d {algorithm:?} vs one-row 2-D"),
            &y,
            &y2.index_axis(Axis(2), 0),
        );
        y
    };
    let direct = run(Algorithm::Direct);
    let mut out = relayout(Array3::from_elem(out_shape, f64::NAN), case.layouts[3]);
    conv1d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut out).expect("_into with the right shape");
    check::assert_same_bits("conv1d_into", &run(options.algorithm), &out);

    let fill = check::fill_value(&options);
    let bias_values = bias.iter().flatten();
    let class = check::classify(
        x.stored()
            .chain(w.stored())
            .chain(fill.iter())
            .chain(bias_values.clone()),
    );
    if class == Class::Wild {
        for algorithm in EVERY_FAST_ALGORITHM {
            run(algorithm);
        }
    } else {
        let abs_bias = bias.as_ref().map(|b| b.mapv(f64::abs));
        let magnitude = conv1d(
            &x.map(f64::abs).view(),
            &w.map(f64::abs).view(),
            abs_bias.as_deref(),
            &check::abs_options(&options),
        )
        .expect("|x| ⋆ |w|");
        let global =
            check::max_abs(x.stored().chain(fill.iter())) * check::sum_abs(w.view()) + check::max_abs(bias_values);
        check::check_algorithms(
            "conv1d",
            &EVERY_FAST_ALGORITHM,
            &run,
            &direct,
            class,
            &magnitude,
            global,
        );
    }

    // i64: exact, and equal to the one-row 2-D call.
    let options = case.options.get(1, Value::i64);
    let (xi, wi) = (
        case.operand(xs, 0, Value::i64).expect("as for f64"),
        case.operand(ws, 1, Value::i64).expect("as for f64"),
    );
    let bias = case.bias(ws[0], Value::i64);
    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = conv1d(&xi.view(), &wi.view(), bias.as_deref(), &options)
            .unwrap_or_else(|e| panic!("conv1d: i64 {algorithm:?} fails after the shape check passed: {e}"));
        let y2 = conv2d(
            &unit_rows(xi.view()),
            &unit_rows(wi.view()),
            bias.as_deref(),
            &one_row(&options),
        )
        .expect("the one-row conv2d");
        assert_eq!(
            y,
            y2.index_axis(Axis(2), 0),
            "conv1d: i64 {algorithm:?} differs from the one-row conv2d"
        );
        y
    };
    let direct = run(Algorithm::Direct);
    for algorithm in EVERY_FAST_ALGORITHM {
        check::assert_exact("conv1d i64", algorithm, &direct, &run(algorithm));
    }
}

fn run_backward(case: &Input1d) {
    let options = case.options.get(1, Value::f64);
    let (xs, ws) = case.shapes(false);
    let fits = model::rank_mismatches(&options, 1, true).is_empty();
    let forward = fits
        .then(|| model::conv::<f64>(&xs, &ws, None, &options))
        .flatten()
        .map(as3);
    let gs = match (case.grad, forward) {
        (Grad1dSpec::Matching, Some(shape)) => shape,
        (Grad1dSpec::Matching, None) => [0, ws[0], 1],
        (Grad1dSpec::Raw(shape), _) => shape.map(Len::get),
    };
    let (Some(x), Some(w), Some(g)) = (
        case.operand(xs, 0, Value::f64),
        case.operand(ws, 1, Value::f64),
        case.operand(gs, 2, Value::f64),
    ) else {
        return;
    };
    let valid = forward == Some(gs);
    let result = conv1d_backward_into(&x.view(), &w.view(), &g.view(), &options, Conv1dGradsMut::none());
    assert_eq!(
        result.is_ok(),
        valid,
        "conv1d_backward: model says forward {forward:?} with gradient {gs:?}, call gives {result:?}"
    );
    if fits {
        let two_d = conv2d_backward_into(
            &unit_rows(x.view()),
            &unit_rows(w.view()),
            &unit_rows(g.view()),
            &one_row(&options),
            Conv2dGradsMut::none(),
        );
        assert_eq!(
            two_d.is_ok(),
            valid,
            "conv1d_backward: the one-row conv2d_backward gives {two_d:?}"
        );
    }
    if let Err(e) = result {
        return assert_refusal("conv1d_backward", &options, &e);
    }

    // Wrong-shaped gradient buffers are errors, whatever else is valid.
    for input in [true, false] {
        let mut bad = Array3::<f64>::zeros(DUMMY);
        let grads = if input {
            Conv1dGradsMut {
                input: Some(bad.view_mut()),
                ..Conv1dGradsMut::none()
            }
        } else {
            Conv1dGradsMut {
                weight: Some(bad.view_mut()),
                ..Conv1dGradsMut::none()
            }
        };
        let result = conv1d_backward_into(&x.view(), &w.view(), &g.view(), &options, grads);
        assert!(
            matches!(&result, Err(Error::ShapeMismatch { got, .. }) if got == &DUMMY),
            "conv1d_backward_into with a gradient buffer of shape {DUMMY:?} gives {result:?}"
        );
    }
    if ws[0] < ALLOC_CAP {
        let mut bad_bias = Array1::<f64>::zeros(ws[0] + 1);
        let grads = Conv1dGradsMut {
            bias: Some(bad_bias.view_mut()),
            ..Conv1dGradsMut::none()
        };
        assert!(matches!(
            conv1d_backward_into(&x.view(), &w.view(), &g.view(), &options, grads),
            Err(Error::ShapeMismatch { .. })
        ));
    }

    if !(x.is_materialized() && w.is_materialized() && g.is_materialized()) {
        return;
    }
    if check::too_costly([1, gs[2]], [1, stride(&options)], [1, extent(&options, ws[2])], ws[1]) {
        return;
    }
    let input_work = check::work(&[g.view().len(), ws[1], ws[2]]);
    let weight_work = check::work(&[w.view().len(), gs[0], gs[2]]);
    if input_work > check::WORK_CAP || weight_work > check::WORK_CAP {
        return;
    }
    let run = |algorithm: Algorithm| -> Conv1dGrads<f64> {
        let options = with(&options, algorithm);
        let grads = conv1d_backward(&x.view(), &w.view(), &g.view(), &options)
            .unwrap_or_else(|e| panic!("conv1d_backward: {algorithm:?} fails after the shape check passed: {e}"));
        assert_eq!(
            grads.input.shape(),
            xs,
            "conv1d_backward: {algorithm:?} input gradient shape"
        );
        assert_eq!(
            grads.weight.shape(),
            ws,
            "conv1d_backward: {algorithm:?} weight gradient shape"
        );
        assert_eq!(
            grads.bias.len(),
            ws[0],
            "conv1d_backward: {algorithm:?} bias gradient length"
        );
        let two_d = conv2d_backward(
            &unit_rows(x.view()),
            &unit_rows(w.view()),
            &unit_rows(g.view()),
            &one_row(&options),
        )
        .unwrap_or_else(|e| panic!("conv1d_backward: the one-row conv2d_backward with {algorithm:?} fails: {e}"));
        let what = "conv1d_backward";
        check::assert_same_bits(
            &format!("{what} {algorithm:?} vs one-row 2-D"),
            &grads.input,
            &two_d.input.index_axis(Axis(2), 0),
        );
        check::assert_same_bits(
            &format!("{what} {algorithm:?} vs one-row 2-D"),
            &grads.weight,
            &two_d.weight.index_axis(Axis(2), 0),
        );
        check::assert_same_bits("conv1d_backward bias gradient vs 2-D", &grads.bias, &two_d.bias);
        grads
    };
    let direct = run(Algorithm::Direct);

    let fill = check::fill_value(&options);
    let class = check::classify(x.stored().chain(w.stored()).chain(g.stored()).chain(fill.iter()));
    if class == Class::Wild {
        for algorithm in EVERY_FAST_ALGORITHM {
            run(algorithm);
        }
        return;
    }
    let magnitude = conv1d_backward(
        &x.map(f64::abs).view(),
        &w.map(f64::abs).view(),
        &g.map(f64::abs).view(),
        &check::abs_options(&options),
    )
    .expect("|x|, |w|, |g|");
    let input_global =
        check::max_abs(g.stored()) * check::sum_abs(w.view()) * folds(shape_4d(xs), shape_4d(ws), &one_row(&options));
    for algorithm in EVERY_FAST_ALGORITHM {
        let grads = run(algorithm);
        if class == Class::NonFinite && check::spreads_nan(algorithm) {
            continue;
        }
        let spread = check::spreads_error(algorithm) && class == Class::Moderate;
        check::assert_close(
            "conv1d_backward input gradient",
            algorithm,
            &direct.input,
            &grads.input,
            &Scale {
                magnitude: &magnitude.input,
                global: if spread { input_global } else { 0.0 },
            },
        );
        check::assert_close(
            "conv1d_backward weight gradient",
            algorithm,
            &direct.weight,
            &grads.weight,
            &Scale {
                magnitude: &magnitude.weight,
                global: 0.0,
            },
        );
        check::assert_same_bits("conv1d_backward bias gradient", &direct.bias, &grads.bias);
    }
}

fn run_transpose(case: &Input1d) {
    let options = case.options.get(1, Value::f64);
    let (xs, ws) = case.shapes(true);
    let (Some(x), Some(w)) = (case.operand(xs, 0, Value::f64), case.operand(ws, 1, Value::f64)) else {
        return;
    };
    let bias = case.bias(options.groups.saturating_mul(ws[1]), Value::f64);

    let fits = model::rank_mismatches(&options, 1, true).is_empty();
    let model = fits
        .then(|| model::transpose_nd(&xs, &ws, bias.as_ref().map(Array1::len), &options))
        .flatten()
        .map(as3);
    let shape_fn = conv_transpose1d_output_shape(xs, ws, &options)
        .ok()
        .filter(|s| bias.as_ref().is_none_or(|b| b.len() == s[1]));
    let mut dummy = Array3::<f64>::zeros(DUMMY);
    let called = check::shape_from_mismatch(
        conv_transpose1d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut dummy),
        &DUMMY,
    )
    .map(as3);
    check::assert_agree(model, shape_fn, called.clone(), "conv_transpose1d");
    if fits {
        let mut dummy = Array4::<f64>::zeros([0; 4]);
        let two_d = check::shape_from_mismatch(
            conv_transpose2d_into(
                &unit_rows(x.view()),
                &unit_rows(w.view()),
                bias.as_deref(),
                &one_row(&options),
                &mut dummy,
            ),
            &[0; 4],
        );
        assert_eq!(
            two_d.ok(),
            model.map(|s| shape_4d(s).to_vec()),
            "conv_transpose1d: the one-row 2-D call disagrees on the shape"
        );
    }
    let out_shape = match called {
        Ok(shape) => shape,
        Err(e) => return assert_refusal("conv_transpose1d", &options, &e),
    };
    if !model::allocatable(&out_shape, 8) {
        let result = conv_transpose1d(&x.view(), &w.view(), bias.as_deref(), &options);
        assert!(
            result.is_err(),
            "conv_transpose1d of an unallocatable {out_shape:?} gives {result:?}"
        );
        return;
    }
    let out_len: usize = out_shape.iter().product();
    if out_len > check::OUTPUT_CAP || check::work(&[x.view().len(), ws[1], ws[2]]) > check::WORK_CAP {
        return;
    }

    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = conv_transpose1d(&x.view(), &w.view(), bias.as_deref(), &options)
            .unwrap_or_else(|e| panic!("conv_transpose1d: {algorithm:?} fails after the shape check passed: {e}"));
        assert_eq!(y.shape(), out_shape, "conv_transpose1d: {algorithm:?} output shape");
        let y2 = conv_transpose2d(
            &unit_rows(x.view()),
            &unit_rows(w.view()),
            bias.as_deref(),
            &one_row(&options),
        )
        .unwrap_or_else(|e| panic!("conv_transpose1d: the one-row conv_transpose2d with {algorithm:?} fails: {e}"));
        check::assert_same_bits(
            &format!("conv_transpose1d {algorithm:?} vs one-row 2-D"),
            &y,
            &y2.index_axis(Axis(2), 0),
        );
        y
    };
    let direct = run(Algorithm::Direct);
    let mut out = relayout(Array3::from_elem(out_shape, f64::NAN), case.layouts[3]);
    conv_transpose1d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut out)
        .expect("_into with the right shape");
    check::assert_same_bits("conv_transpose1d_into", &run(options.algorithm), &out);

    let bias_values = bias.iter().flatten();
    let class = check::classify(x.stored().chain(w.stored()).chain(bias_values.clone()));
    if class == Class::Wild {
        for algorithm in EVERY_FAST_ALGORITHM {
            run(algorithm);
        }
        return;
    }
    let abs_bias = bias.as_ref().map(|b| b.mapv(f64::abs));
    let magnitude = conv_transpose1d(
        &x.map(f64::abs).view(),
        &w.map(f64::abs).view(),
        abs_bias.as_deref(),
        &check::abs_options(&options),
    )
    .expect("|x|, |w|");
    // The transposed problem's padding folds onto its output, whose
    // forward geometry has the output as input.
    let global = check::max_abs(x.stored())
        * check::sum_abs(w.view())
        * folds(shape_4d(out_shape), shape_4d(ws), &one_row(&options))
        + check::max_abs(bias_values);
    check::check_algorithms(
        "conv_transpose1d",
        &EVERY_FAST_ALGORITHM,
        &run,
        &direct,
        class,
        &magnitude,
        global,
    );
}
