//! The `rank3` target: every 3-D entry point (`correlate3d`, `convolve3d`,
//! `conv3d`, `conv3d_backward`, `conv_transpose3d`, their `_into` forms,
//! `conv3d_algorithm` and the 3-D shape functions).
//!
//! Besides the model's validity and shape and the agreement of every
//! algorithm with `Direct`, a flat call (one input plane, one kernel plane,
//! no padding before the plane, one output plane) is checked bit for bit
//! against the 2-D call on its plane, with the options of the rows and
//! columns: equal as numbers (the input gradient, accumulated over the
//! depth onto zeros, has `+0` where the 2-D one may have `−0`).

use arbitrary::Arbitrary;
use convolve::shape::{conv3d_output_shape, conv_transpose3d_output_shape};
use convolve::{
    conv2d, conv2d_algorithm, conv2d_backward, conv3d, conv3d_algorithm, conv3d_backward, conv3d_backward_into,
    conv3d_into, conv_transpose2d, conv_transpose3d, conv_transpose3d_into, convolve2d, convolve3d, convolve3d_into,
    correlate2d, correlate3d, correlate3d_into, Algorithm, Complex, Conv3dGrads, Conv3dGradsMut, ConvOptions, Element,
    Error, Padding, PerAxis,
};
use ndarray::{Array1, Array2, Array3, Array5, ArrayView3, ArrayView5, Axis, Ix3, Ix5};

use crate::batched::{folds, rotated, BiasSpec, ChannelSpec};
use crate::check::{self, Class, Scale};
use crate::gen::{Layout, Len, OptionsNdSpec, Value, EVERY_FAST_ALGORITHM};
use crate::model::{self, AxisModel};
use crate::operand::{relayout, Operand, ALLOC_CAP};

/// Which entry point a case calls.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call3d {
    /// `correlate3d`.
    Correlate,
    /// `convolve3d`.
    Convolve,
    /// `conv3d`.
    Conv,
    /// `conv3d_backward`.
    Backward,
    /// `conv_transpose3d`.
    Transpose,
}

/// The depth of input and kernel.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum DepthSpec {
    /// One input plane and one kernel plane, no explicit padding and no
    /// output padding along the depth: the call the 2-D oracle applies to
    /// (when its output has one plane).
    Flat,
    /// Any depths.
    Free {
        /// `D`.
        input: Len,
        /// `kd`.
        kernel: Len,
    },
}

/// The upstream gradient of `conv3d_backward`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Grad3dSpec {
    /// The forward output's shape, when the forward call is valid.
    Matching,
    /// Any shape.
    Raw([Len; 5]),
}

/// One fuzz case of a 3-D entry point.
#[derive(Arbitrary, Debug)]
pub struct Input3d {
    /// The entry point.
    pub call: Call3d,
    /// `N` (batched calls).
    pub batch: Len,
    /// `C`, `O`, `C / groups` (batched calls).
    pub channels: ChannelSpec,
    /// `D`, `kd`.
    pub depth: DepthSpec,
    /// `[H, W]`.
    pub spatial: [Len; 2],
    /// `[kh, kw]`.
    pub kernel: [Len; 2],
    /// Every option, per-axis values and paddings of every rank included.
    pub options: OptionsNdSpec,
    /// Bias (`conv3d`, `conv_transpose3d`).
    pub bias: BiasSpec,
    /// Upstream gradient (`conv3d_backward`).
    pub grad: Grad3dSpec,
    /// Layouts of input, kernel or weight, upstream gradient and `_into`
    /// output.
    pub layouts: [Layout; 4],
    /// Elements, cycled; each operand starts at a different offset.
    pub values: Vec<Value>,
}

impl Input3d {
    fn flat(&self) -> bool {
        matches!(self.depth, DepthSpec::Flat)
    }

    /// `[D, H, W]` and `[kd, kh, kw]`.
    fn volumes(&self) -> ([usize; 3], [usize; 3]) {
        let (d, kd) = match self.depth {
            DepthSpec::Flat => (1, 1),
            DepthSpec::Free { input, kernel } => (input.get(), kernel.get()),
        };
        let [h, w] = self.spatial.map(Len::get);
        let [kh, kw] = self.kernel.map(Len::get);
        ([d, h, w], [kd, kh, kw])
    }

    /// The options, the fill value converted by `convert`; a flat case
    /// has no explicit padding and no output padding given for the depth.
    fn options<A: Element>(&self, convert: impl Fn(Value) -> A) -> ConvOptions {
        let mut options = self.options.get(3, convert);
        if self.flat() {
            if let Padding::Explicit3d { front, back, .. } = &mut options.padding {
                (*front, *back) = (0, 0);
            }
            if let PerAxis::Three(values) = &mut options.output_padding {
                values[0] = 0;
            }
        }
        options
    }

    /// Input and weight shapes; `transposed` uses the transposed weight
    /// layout `[C_in, C_out / G, kd, kh, kw]`.
    fn shapes(&self, transposed: bool) -> ([usize; 5], [usize; 5]) {
        let (c, w0, w1) = self.channels.get(self.options.groups.get(), transposed);
        let ([d, h, w], [kd, kh, kw]) = self.volumes();
        ([self.batch.get(), c, d, h, w], [w0, w1, kd, kh, kw])
    }

    fn operand<A: Copy>(
        &self,
        shape: [usize; 5],
        which: usize,
        convert: impl Fn(Value) -> A,
    ) -> Option<Operand<A, Ix5>> {
        Operand::new(
            Ix5(shape[0], shape[1], shape[2], shape[3], shape[4]),
            &rotated(&self.values, which * 7),
            convert,
            self.layouts[which],
        )
    }

    fn bias<A>(&self, out_channels: usize, convert: impl Fn(Value) -> A) -> Option<Array1<A>> {
        self.bias.get(out_channels, &rotated(&self.values, 3), convert)
    }
}

/// Runs one case.
pub fn run(case: &Input3d) {
    match case.call {
        Call3d::Correlate => run_single(case, false),
        Call3d::Convolve => run_single(case, true),
        Call3d::Conv => run_conv(case),
        Call3d::Backward => run_backward(case),
        Call3d::Transpose => run_transpose(case),
    }
}

/// The 2-D options that mean `options` (of a flat 3-D call) on its plane:
/// those of the rows and the columns.
fn plane(options: &ConvOptions) -> ConvOptions {
    let rows_cols = |values: PerAxis| match values {
        PerAxis::Three([_, rows, cols]) => PerAxis::Two([rows, cols]),
        other => other,
    };
    let padding = match options.padding {
        Padding::Explicit3d {
            top,
            bottom,
            left,
            right,
            ..
        } => Padding::Explicit {
            top,
            bottom,
            left,
            right,
        },
        other => other,
    };
    ConvOptions {
        stride: rows_cols(options.stride),
        dilation: rows_cols(options.dilation),
        output_padding: rows_cols(options.output_padding),
        padding,
        ..*options
    }
}

fn with(options: &ConvOptions, algorithm: Algorithm) -> ConvOptions {
    ConvOptions { algorithm, ..*options }
}

/// Whether the 2-D oracle applies: a flat case whose depth reads plane 0
/// alone, unpadded, into one output plane. `transposed` resolves the depth
/// as the transposed convolution does (as the forward geometry of its
/// output).
fn oracle_applies(case: &Input3d, options: &ConvOptions, out_depth: usize, transposed: bool) -> bool {
    if !case.flat() || out_depth != 1 {
        return false;
    }
    let (Some(stride), Some(dilation)) = (model::per_axis(options.stride, 3), model::per_axis(options.dilation, 3))
    else {
        return false;
    };
    let depth = AxisModel::new(if transposed { out_depth } else { 1 }, 1, stride[0], dilation[0]);
    depth
        .resolve(options.padding, 3, 0, false)
        .is_some_and(|axis| axis.lo == 0)
}

fn assert_refusal(what: &str, options: &ConvOptions, transposed: bool, error: &Error) {
    check::assert_refusal(what, 3, &model::rank_mismatches(options, 3, transposed), error);
}

/// Stride and kernel extent of the rows and columns of a valid call.
fn rows_cols(options: &ConvOptions, kernel: [usize; 3]) -> ([usize; 2], [usize; 2]) {
    let stride = model::per_axis(options.stride, 3).expect("a valid call");
    let dilation = model::per_axis(options.dilation, 3).expect("a valid call");
    let extent = |i: usize| dilation[i] * (kernel[i] - 1) + 1;
    ([stride[1], stride[2]], [extent(1), extent(2)])
}

/// Whether a valid call with output planes `out` (`[Do, Ho, Wo]`) is small
/// enough to compute with every algorithm: each output plane runs a 2-D
/// problem per depth tap.
fn affordable(out_len: usize, out: [usize; 3], options: &ConvOptions, kernel: [usize; 3], channels: usize) -> bool {
    let (stride, extent) = rows_cols(options, kernel);
    out_len <= check::OUTPUT_CAP
        && check::work(&[out_len, channels, kernel[0], kernel[1], kernel[2]]) <= check::WORK_CAP
        && !check::too_costly(
            [out[0].saturating_mul(out[1]), out[2]],
            stride,
            extent,
            channels.saturating_mul(kernel[0]),
        )
}

fn as5(shape: Vec<usize>) -> [usize; 5] {
    [shape[0], shape[1], shape[2], shape[3], shape[4]]
}

/// `[N, C, 1, H, W]` as `[N, C, H, W]`.
fn flat<A>(view: ArrayView5<'_, A>) -> ndarray::ArrayView4<'_, A> {
    view.index_axis_move(Axis(2), 0)
}

/// `[N, C, D, H, W]` as `[N, C, H, W]` with `D` and `kd` 1.
fn shape_4d([a, b, _, h, w]: [usize; 5]) -> [usize; 4] {
    [a, b, h, w]
}

const DUMMY: [usize; 5] = [0; 5];

// ---------------------------------------------------------------------------
// correlate3d, convolve3d

fn call_single<A: Element>(
    x: ArrayView3<'_, A>,
    k: ArrayView3<'_, A>,
    options: &ConvOptions,
    convolution: bool,
) -> convolve::Result<Array3<A>> {
    if convolution {
        convolve3d(&x, &k, options)
    } else {
        correlate3d(&x, &k, options)
    }
}

fn call_single_into(
    x: ArrayView3<'_, f64>,
    k: ArrayView3<'_, f64>,
    options: &ConvOptions,
    convolution: bool,
    out: &mut Array3<f64>,
) -> convolve::Result<()> {
    if convolution {
        convolve3d_into(&x, &k, options, out)
    } else {
        correlate3d_into(&x, &k, options, out)
    }
}

/// The 2-D call on the plane of a flat case.
fn call_plane<A: Element>(
    x: ArrayView3<'_, A>,
    k: ArrayView3<'_, A>,
    options: &ConvOptions,
    convolution: bool,
) -> convolve::Result<Array2<A>> {
    let (x, k, options) = (
        x.index_axis_move(Axis(0), 0),
        k.index_axis_move(Axis(0), 0),
        plane(options),
    );
    if convolution {
        convolve2d(&x, &k, &options)
    } else {
        correlate2d(&x, &k, &options)
    }
}

/// The input and the kernel of a single-channel case; the kernel reads the
/// values backwards.
fn single_operands<A: Copy>(
    case: &Input3d,
    convert: impl Fn(Value) -> A + Copy,
) -> Option<(Operand<A, Ix3>, Operand<A, Ix3>)> {
    let (x_shape, k_shape) = case.volumes();
    let k_values: Vec<Value> = case.values.iter().rev().copied().collect();
    Some((
        Operand::new(
            Ix3(x_shape[0], x_shape[1], x_shape[2]),
            &case.values,
            convert,
            case.layouts[0],
        )?,
        Operand::new(
            Ix3(k_shape[0], k_shape[1], k_shape[2]),
            &k_values,
            convert,
            case.layouts[1],
        )?,
    ))
}

fn run_single(case: &Input3d, convolution: bool) {
    let what = if convolution { "convolve3d" } else { "correlate3d" };
    let (x_shape, k_shape) = case.volumes();
    let options = case.options(Value::f64);
    let Some((x, k)) = single_operands(case, Value::f64) else {
        return;
    };

    let model = model::single_channel::<f64>(&x_shape, &k_shape, &options, convolution);
    let mut dummy = Array3::<f64>::zeros((0, 0, 0));
    let called = check::shape_from_mismatch(
        call_single_into(x.view(), k.view(), &options, convolution, &mut dummy),
        &[0, 0, 0],
    );
    match (&model, &called) {
        (Some(m), Ok(c)) => assert_eq!(m, c, "{what}: wrong output shape"),
        (None, Err(e)) => return assert_refusal(what, &options, false, e),
        _ => panic!("{what}: the model predicts {model:?}, the call gives {called:?}"),
    }
    let out_shape = [
        model.as_ref().unwrap()[0],
        model.as_ref().unwrap()[1],
        model.as_ref().unwrap()[2],
    ];
    let swapped = model::swaps(&x_shape, &k_shape, &options);
    let taps = if swapped { x_shape } else { k_shape };
    if !affordable(out_shape.iter().product(), out_shape, &options, taps, 1) {
        return;
    }
    let oracle = oracle_applies(case, &options, out_shape[0], false);

    // f64: every algorithm agrees with Direct and, when flat, equals the 2-D call.
    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = call_single(x.view(), k.view(), &options, convolution)
            .unwrap_or_else(|e| panic!("{what}: {algorithm:?} fails after the shape check passed: {e}"));
        if oracle {
            let y2 = call_plane(x.view(), k.view(), &options, convolution)
                .unwrap_or_else(|e| panic!("{what}: the 2-D call on the plane with {algorithm:?} fails: {e}"));
            check::assert_equal_values(&format!("{what} {algorithm:?} vs 2-D"), &y.index_axis(Axis(0), 0), &y2);
        }
        y
    };
    let direct = run(Algorithm::Direct);
    let mut out = relayout(Array3::from_elem(out_shape, f64::NAN), case.layouts[3]);
    call_single_into(x.view(), k.view(), &options, convolution, &mut out).expect("_into with the right shape");
    check::assert_same_bits(what, &run(options.algorithm), &out);

    let fill = check::fill_value(&options);
    let class = check::classify(x.stored().chain(k.stored()).chain(fill.iter()));
    if class == Class::Wild {
        for algorithm in EVERY_FAST_ALGORITHM {
            run(algorithm);
        }
    } else {
        let (ax, ak) = (x.map(f64::abs), k.map(f64::abs));
        let magnitude =
            call_single(ax.view(), ak.view(), &check::abs_options(&options), convolution).expect("|x| ⋆ |k|");
        let largest = check::max_abs(x.stored().chain(k.stored()).chain(fill.iter()));
        let global = largest * check::sum_abs(if swapped { x.view() } else { k.view() });
        check::check_algorithms(what, &EVERY_FAST_ALGORITHM, &run, &direct, class, &magnitude, global);
    }

    // i64: exact.
    let options = case.options(Value::i64);
    let (x, k) = single_operands(case, Value::i64).expect("as for f64");
    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = call_single(x.view(), k.view(), &options, convolution)
            .unwrap_or_else(|e| panic!("{what}: i64 {algorithm:?} fails after the shape check passed: {e}"));
        if oracle {
            let y2 = call_plane(x.view(), k.view(), &options, convolution).expect("the 2-D call on the plane");
            assert_eq!(
                y.index_axis(Axis(0), 0),
                y2,
                "{what}: i64 {algorithm:?} differs from the 2-D call"
            );
        }
        y
    };
    let direct = run(Algorithm::Direct);
    for algorithm in EVERY_FAST_ALGORITHM {
        check::assert_exact(what, algorithm, &direct, &run(algorithm));
    }

    // Complex, flat: the 2-D call, conjugated where scipy's `valid` swap
    // makes `correlate3d` give the negative lags as `scipy.signal.correlate`
    // does.
    if !oracle {
        return;
    }
    let complex = |v: Value| Complex::new(v.f64(), v.i64() as f64 / 3.0);
    let options = case.options(Value::f64);
    let (x, k) = single_operands(case, complex).expect("as for f64");
    let volume = call_single(x.view(), k.view(), &options, convolution);
    let two_d = call_plane(x.view(), k.view(), &options, convolution);
    assert_eq!(
        volume.is_ok(),
        two_d.is_ok(),
        "{what}: complex {volume:?} but 2-D {two_d:?}"
    );
    if let (Ok(volume), Ok(two_d)) = (volume, two_d) {
        let conjugate = swapped && !convolution;
        let same = |p: f64, q: f64| p == q || (p.is_nan() && q.is_nan());
        for (a, b) in volume.iter().zip(&two_d) {
            let b = if conjugate { b.conj() } else { *b };
            assert!(
                same(a.re, b.re) && same(a.im, b.im),
                "{what}: complex {volume} but the 2-D call (conjugated: {conjugate}) gives {two_d}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// conv3d, conv3d_backward, conv_transpose3d

fn run_conv(case: &Input3d) {
    let options = case.options(Value::f64);
    let (xs, ws) = case.shapes(false);
    let (Some(x), Some(w)) = (case.operand(xs, 0, Value::f64), case.operand(ws, 1, Value::f64)) else {
        return;
    };
    let bias = case.bias(ws[0], Value::f64);

    let model = model::conv::<f64>(&xs, &ws, bias.as_ref().map(Array1::len), &options).map(as5);
    let shape_fn = conv3d_output_shape(xs, ws, &options)
        .ok()
        .filter(|s| bias.as_ref().is_none_or(|b| b.len() == s[1]))
        .filter(|s| model::bytes_fit(s, 8));
    let mut dummy = Array5::<f64>::zeros(DUMMY);
    let called = check::shape_from_mismatch(
        conv3d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut dummy),
        &DUMMY,
    )
    .map(as5);
    check::assert_agree(model, shape_fn, called.clone(), "conv3d");
    let algorithm = conv3d_algorithm::<f64>(xs, ws, &options);
    assert_eq!(
        algorithm.is_ok(),
        conv3d_output_shape(xs, ws, &options).is_ok(),
        "conv3d_algorithm disagrees with conv3d_output_shape"
    );
    let out_shape = match called {
        Ok(shape) => shape,
        Err(e) => return assert_refusal("conv3d", &options, false, &e),
    };
    let oracle = oracle_applies(case, &options, out_shape[2], false);
    if oracle {
        assert_eq!(
            algorithm.ok(),
            conv2d_algorithm::<f64>(shape_4d(xs), shape_4d(ws), &plane(&options)).ok(),
            "conv3d_algorithm differs from conv2d_algorithm on the plane"
        );
    }
    let out_len: usize = out_shape.iter().product();
    let kernel = [ws[2], ws[3], ws[4]];
    if !affordable(
        out_len,
        [out_shape[2], out_shape[3], out_shape[4]],
        &options,
        kernel,
        ws[1],
    ) {
        return;
    }

    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = conv3d(&x.view(), &w.view(), bias.as_deref(), &options)
            .unwrap_or_else(|e| panic!("conv3d: {algorithm:?} fails after the shape check passed: {e}"));
        if oracle {
            let y2 = conv2d(&flat(x.view()), &flat(w.view()), bias.as_deref(), &plane(&options))
                .unwrap_or_else(|e| panic!("conv3d: conv2d on the plane with {algorithm:?} fails: {e}"));
            check::assert_equal_values(&format!("conv3d {algorithm:?} vs 2-D"), &y.index_axis(Axis(2), 0), &y2);
        }
        y
    };
    let direct = run(Algorithm::Direct);
    let mut out = relayout(Array5::from_elem(out_shape, f64::NAN), case.layouts[3]);
    conv3d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut out).expect("_into with the right shape");
    check::assert_same_bits("conv3d_into", &run(options.algorithm), &out);

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
        let magnitude = conv3d(
            &x.map(f64::abs).view(),
            &w.map(f64::abs).view(),
            abs_bias.as_deref(),
            &check::abs_options(&options),
        )
        .expect("|x| ⋆ |w|");
        let global =
            check::max_abs(x.stored().chain(fill.iter())) * check::sum_abs(w.view()) + check::max_abs(bias_values);
        check::check_algorithms(
            "conv3d",
            &EVERY_FAST_ALGORITHM,
            &run,
            &direct,
            class,
            &magnitude,
            global,
        );
    }

    // i64: exact.
    let options = case.options(Value::i64);
    let (xi, wi) = (
        case.operand(xs, 0, Value::i64).expect("as for f64"),
        case.operand(ws, 1, Value::i64).expect("as for f64"),
    );
    let bias = case.bias(ws[0], Value::i64);
    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = conv3d(&xi.view(), &wi.view(), bias.as_deref(), &options)
            .unwrap_or_else(|e| panic!("conv3d: i64 {algorithm:?} fails after the shape check passed: {e}"));
        if oracle {
            let y2 = conv2d(&flat(xi.view()), &flat(wi.view()), bias.as_deref(), &plane(&options))
                .expect("conv2d on the plane");
            assert_eq!(
                y.index_axis(Axis(2), 0),
                y2,
                "conv3d: i64 {algorithm:?} differs from conv2d"
            );
        }
        y
    };
    let direct = run(Algorithm::Direct);
    for algorithm in EVERY_FAST_ALGORITHM {
        check::assert_exact("conv3d i64", algorithm, &direct, &run(algorithm));
    }
}

fn run_backward(case: &Input3d) {
    let options = case.options(Value::f64);
    let (xs, ws) = case.shapes(false);
    let forward = model::conv::<f64>(&xs, &ws, None, &options).map(as5);
    let gs = match (case.grad, forward) {
        (Grad3dSpec::Matching, Some(shape)) => shape,
        (Grad3dSpec::Matching, None) => [0, ws[0], 1, 1, 1],
        (Grad3dSpec::Raw(shape), _) => shape.map(Len::get),
    };
    let (Some(x), Some(w), Some(g)) = (
        case.operand(xs, 0, Value::f64),
        case.operand(ws, 1, Value::f64),
        case.operand(gs, 2, Value::f64),
    ) else {
        return;
    };
    let valid = forward == Some(gs);
    let result = conv3d_backward_into(&x.view(), &w.view(), &g.view(), &options, Conv3dGradsMut::none());
    assert_eq!(
        result.is_ok(),
        valid,
        "conv3d_backward: model says forward {forward:?} with gradient {gs:?}, call gives {result:?}"
    );
    if let Err(e) = result {
        // A wrong upstream gradient is refused whatever the options' ranks.
        if forward.is_none() {
            assert_refusal("conv3d_backward", &options, false, &e);
        }
        return;
    }

    // Wrong-shaped gradient buffers are errors, whatever else is valid.
    for input in [true, false] {
        let mut bad = Array5::<f64>::zeros(DUMMY);
        let grads = if input {
            Conv3dGradsMut {
                input: Some(bad.view_mut()),
                ..Conv3dGradsMut::none()
            }
        } else {
            Conv3dGradsMut {
                weight: Some(bad.view_mut()),
                ..Conv3dGradsMut::none()
            }
        };
        let result = conv3d_backward_into(&x.view(), &w.view(), &g.view(), &options, grads);
        assert!(
            matches!(&result, Err(Error::ShapeMismatch { got, .. }) if got == &DUMMY),
            "conv3d_backward_into with a gradient buffer of shape {DUMMY:?} gives {result:?}"
        );
    }
    if ws[0] < ALLOC_CAP {
        let mut bad_bias = Array1::<f64>::zeros(ws[0] + 1);
        let grads = Conv3dGradsMut {
            bias: Some(bad_bias.view_mut()),
            ..Conv3dGradsMut::none()
        };
        assert!(matches!(
            conv3d_backward_into(&x.view(), &w.view(), &g.view(), &options, grads),
            Err(Error::ShapeMismatch { .. })
        ));
    }

    if !(x.is_materialized() && w.is_materialized() && g.is_materialized()) {
        return;
    }
    let kernel = [ws[2], ws[3], ws[4]];
    if !affordable(g.view().len(), [gs[2], gs[3], gs[4]], &options, kernel, ws[1])
        || check::work(&[w.view().len(), gs[0], gs[2], gs[3], gs[4]]) > check::WORK_CAP
    {
        return;
    }
    let oracle = oracle_applies(case, &options, gs[2], false);
    let run = |algorithm: Algorithm| -> Conv3dGrads<f64> {
        let options = with(&options, algorithm);
        let grads = conv3d_backward(&x.view(), &w.view(), &g.view(), &options)
            .unwrap_or_else(|e| panic!("conv3d_backward: {algorithm:?} fails after the shape check passed: {e}"));
        assert_eq!(
            grads.input.shape(),
            xs,
            "conv3d_backward: {algorithm:?} input gradient shape"
        );
        assert_eq!(
            grads.weight.shape(),
            ws,
            "conv3d_backward: {algorithm:?} weight gradient shape"
        );
        assert_eq!(
            grads.bias.len(),
            ws[0],
            "conv3d_backward: {algorithm:?} bias gradient length"
        );
        if oracle {
            let two_d = conv2d_backward(&flat(x.view()), &flat(w.view()), &flat(g.view()), &plane(&options))
                .unwrap_or_else(|e| panic!("conv3d_backward: conv2d_backward with {algorithm:?} fails: {e}"));
            let what = format!("conv3d_backward {algorithm:?} vs 2-D");
            check::assert_equal_values(&what, &grads.input.index_axis(Axis(2), 0), &two_d.input);
            check::assert_equal_values(&what, &grads.weight.index_axis(Axis(2), 0), &two_d.weight);
            check::assert_equal_values(&what, &grads.bias, &two_d.bias);
        }
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
    let magnitude = conv3d_backward(
        &x.map(f64::abs).view(),
        &w.map(f64::abs).view(),
        &g.map(f64::abs).view(),
        &check::abs_options(&options),
    )
    .expect("|x|, |w|, |g|");
    // The depth folds padding as the rows and columns do.
    let input_global = check::max_abs(g.stored())
        * check::sum_abs(w.view())
        * folds(shape_4d(xs), shape_4d(ws), &plane(&options))
        * depth_folds(xs[2], ws[2], &options);
    for algorithm in EVERY_FAST_ALGORITHM {
        let grads = run(algorithm);
        if class == Class::NonFinite && check::spreads_nan(algorithm) {
            continue;
        }
        let spread = check::spreads_error(algorithm) && class == Class::Moderate;
        check::assert_close(
            "conv3d_backward input gradient",
            algorithm,
            &direct.input,
            &grads.input,
            &Scale {
                magnitude: &magnitude.input,
                global: if spread { input_global } else { 0.0 },
            },
        );
        check::assert_close(
            "conv3d_backward weight gradient",
            algorithm,
            &direct.weight,
            &grads.weight,
            &Scale {
                magnitude: &magnitude.weight,
                global: 0.0,
            },
        );
        check::assert_same_bits("conv3d_backward bias gradient", &direct.bias, &grads.bias);
    }
}

/// How many padded planes can fold onto one input plane: 1 for `Fill`,
/// which folds nothing.
fn depth_folds(depth: usize, taps: usize, options: &ConvOptions) -> f64 {
    if check::fill_value(options).is_some() {
        return 1.0;
    }
    let (Some(stride), Some(dilation)) = (model::per_axis(options.stride, 3), model::per_axis(options.dilation, 3))
    else {
        return f64::INFINITY;
    };
    match AxisModel::new(depth, taps, stride[0], dilation[0]).resolve(options.padding, 3, 0, false) {
        Some(axis) => 1.0 + (axis.lo + axis.hi) as f64 / depth.max(1) as f64,
        None => f64::INFINITY,
    }
}

fn run_transpose(case: &Input3d) {
    let options = case.options(Value::f64);
    let (xs, ws) = case.shapes(true);
    let (Some(x), Some(w)) = (case.operand(xs, 0, Value::f64), case.operand(ws, 1, Value::f64)) else {
        return;
    };
    let bias = case.bias(options.groups.saturating_mul(ws[1]), Value::f64);

    let model = model::transpose_nd(&xs, &ws, bias.as_ref().map(Array1::len), &options).map(as5);
    let shape_fn = conv_transpose3d_output_shape(xs, ws, &options)
        .ok()
        .filter(|s| bias.as_ref().is_none_or(|b| b.len() == s[1]));
    let mut dummy = Array5::<f64>::zeros(DUMMY);
    let called = check::shape_from_mismatch(
        conv_transpose3d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut dummy),
        &DUMMY,
    )
    .map(as5);
    check::assert_agree(model, shape_fn, called.clone(), "conv_transpose3d");
    let out_shape = match called {
        Ok(shape) => shape,
        Err(e) => return assert_refusal("conv_transpose3d", &options, true, &e),
    };
    if !model::allocatable(&out_shape, 8) {
        let result = conv_transpose3d(&x.view(), &w.view(), bias.as_deref(), &options);
        assert!(
            result.is_err(),
            "conv_transpose3d of an unallocatable {out_shape:?} gives {result:?}"
        );
        return;
    }
    let out_len: usize = out_shape.iter().product();
    if out_len > check::OUTPUT_CAP || check::work(&[x.view().len(), ws[1], ws[2], ws[3], ws[4]]) > check::WORK_CAP {
        return;
    }
    let oracle = oracle_applies(case, &options, out_shape[2], true);

    let run = |algorithm: Algorithm| {
        let options = with(&options, algorithm);
        let y = conv_transpose3d(&x.view(), &w.view(), bias.as_deref(), &options)
            .unwrap_or_else(|e| panic!("conv_transpose3d: {algorithm:?} fails after the shape check passed: {e}"));
        assert_eq!(y.shape(), out_shape, "conv_transpose3d: {algorithm:?} output shape");
        if oracle {
            let y2 = conv_transpose2d(&flat(x.view()), &flat(w.view()), bias.as_deref(), &plane(&options))
                .unwrap_or_else(|e| panic!("conv_transpose3d: conv_transpose2d with {algorithm:?} fails: {e}"));
            check::assert_equal_values(
                &format!("conv_transpose3d {algorithm:?} vs 2-D"),
                &y.index_axis(Axis(2), 0),
                &y2,
            );
        }
        y
    };
    let direct = run(Algorithm::Direct);
    let mut out = relayout(Array5::from_elem(out_shape, f64::NAN), case.layouts[3]);
    conv_transpose3d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut out)
        .expect("_into with the right shape");
    check::assert_same_bits("conv_transpose3d_into", &run(options.algorithm), &out);

    let bias_values = bias.iter().flatten();
    let class = check::classify(x.stored().chain(w.stored()).chain(bias_values.clone()));
    if class == Class::Wild {
        for algorithm in EVERY_FAST_ALGORITHM {
            run(algorithm);
        }
        return;
    }
    let abs_bias = bias.as_ref().map(|b| b.mapv(f64::abs));
    let magnitude = conv_transpose3d(
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
        * folds(shape_4d(out_shape), shape_4d(ws), &plane(&options))
        * depth_folds(out_shape[2], ws[2], &options)
        + check::max_abs(bias_values);
    check::check_algorithms(
        "conv_transpose3d",
        &EVERY_FAST_ALGORITHM,
        &run,
        &direct,
        class,
        &magnitude,
        global,
    );
}
