//! The batched NCHW targets: `conv2d`, `conv2d_backward` and
//! `conv_transpose2d`.

use arbitrary::Arbitrary;
use convolve::shape::{conv2d_output_shape, conv_transpose2d_output_shape, AxisGeometry, Operation};
use convolve::{
    conv2d, conv2d_algorithm, conv2d_backward, conv2d_backward_into, conv2d_into, conv_transpose2d,
    conv_transpose2d_into, Algorithm, Conv2dGrads, Conv2dGradsMut, ConvOptions, Error,
};
use ndarray::{Array1, Array4, Ix4};

use crate::check::{self, Class, Scale};
use crate::gen::{Layout, Len, OptionsSpec, Value, FAST_ALGORITHMS};
use crate::model;
use crate::operand::{relayout, Operand, ALLOC_CAP};

/// The channel counts: mostly consistent with the groups, so that the
/// call gets past the channel checks, sometimes anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ChannelSpec {
    /// `conv2d`: `C = G·inputs`, `O = G·outputs`, weight `[O, inputs, ..]`;
    /// `conv_transpose2d`: `C_in = G·inputs`, weight `[C_in, outputs, ..]`.
    Grouped {
        /// Input channels per group.
        inputs: Len,
        /// Output channels per group.
        outputs: Len,
    },
    /// Input `[N, c, ..]`, weight `[w0, w1, ..]`.
    Raw {
        /// Input channels.
        c: Len,
        /// The weight's first axis.
        w0: Len,
        /// The weight's second axis.
        w1: Len,
    },
}

/// The bias, if any.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum BiasSpec {
    /// No bias.
    None,
    /// One per output channel (when that few).
    Matching,
    /// Any length up to the allocation cap.
    Len(Len),
}

/// The upstream gradient of `conv2d_backward`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum GradSpec {
    /// The forward output's shape, when the forward call is valid.
    Matching,
    /// Any shape.
    Raw([Len; 4]),
}

/// One fuzz case of a batched entry point.
#[derive(Arbitrary, Debug)]
pub struct InputBatched {
    /// `N`.
    pub batch: Len,
    /// `C`, `O`, `C / groups`.
    pub channels: ChannelSpec,
    /// `[H, W]`.
    pub spatial: [Len; 2],
    /// `[kh, kw]`.
    pub kernel: [Len; 2],
    /// Every option.
    pub options: OptionsSpec,
    /// Bias (forward and transposed).
    pub bias: BiasSpec,
    /// Upstream gradient (backward).
    pub grad: GradSpec,
    /// Layouts of input, weight, upstream gradient and `_into` output.
    pub layouts: [Layout; 4],
    /// Elements, cycled; each operand starts at a different offset.
    pub values: Vec<Value>,
}

impl ChannelSpec {
    /// The input channels and the weight's first two axes for `groups`
    /// groups; `transposed` uses the transposed weight layout
    /// `[C_in, C_out / G, ..]`.
    pub fn get(self, groups: usize, transposed: bool) -> (usize, usize, usize) {
        match self {
            ChannelSpec::Grouped { inputs, outputs } => {
                let (i, o) = (inputs.get(), outputs.get());
                if transposed {
                    (groups.saturating_mul(i), groups.saturating_mul(i), o)
                } else {
                    (groups.saturating_mul(i), groups.saturating_mul(o), i)
                }
            }
            ChannelSpec::Raw { c, w0, w1 } => (c.get(), w0.get(), w1.get()),
        }
    }
}

impl BiasSpec {
    /// The bias for `out_channels` outputs, its values read from `values`
    /// (cycled).
    pub fn get<A>(self, out_channels: usize, values: &[Value], convert: impl Fn(Value) -> A) -> Option<Array1<A>> {
        let len = match self {
            BiasSpec::None => return None,
            BiasSpec::Matching if out_channels <= ALLOC_CAP => out_channels,
            BiasSpec::Matching => return None,
            BiasSpec::Len(len) => len.get() % (ALLOC_CAP + 1),
        };
        Some(if values.is_empty() {
            Array1::from_shape_fn(len, |i| convert(Value::Int(i as i8)))
        } else {
            values.iter().cycle().take(len).map(|&v| convert(v)).collect()
        })
    }
}

/// `values` rotated left by `offset`: the elements of another operand.
pub fn rotated(values: &[Value], offset: usize) -> Vec<Value> {
    let mut v = values.to_vec();
    if !v.is_empty() {
        let len = v.len();
        v.rotate_left(offset % len);
    }
    v
}

impl InputBatched {
    /// Input and weight shapes; `transposed` uses the transposed weight
    /// layout `[C_in, C_out / G, kh, kw]`.
    fn shapes(&self, transposed: bool) -> ([usize; 4], [usize; 4]) {
        let [h, w] = self.spatial.map(Len::get);
        let [kh, kw] = self.kernel.map(Len::get);
        let (c, w0, w1) = self.channels.get(self.options.groups.get(), transposed);
        ([self.batch.get(), c, h, w], [w0, w1, kh, kw])
    }

    fn values(&self, offset: usize) -> Vec<Value> {
        rotated(&self.values, offset)
    }

    fn operand<A: Copy>(
        &self,
        shape: [usize; 4],
        which: usize,
        convert: impl Fn(Value) -> A,
    ) -> Option<Operand<A, Ix4>> {
        Operand::new(
            Ix4(shape[0], shape[1], shape[2], shape[3]),
            &self.values(which * 7),
            convert,
            self.layouts[which],
        )
    }

    /// The bias for `out_channels` outputs.
    fn bias<A>(&self, out_channels: usize, convert: impl Fn(Value) -> A) -> Option<Array1<A>> {
        self.bias.get(out_channels, &self.values(3), convert)
    }
}

/// Runs `call` with `options` under a given algorithm, which must succeed
/// (the shape check passed) with an output of `out_shape`; `name` labels
/// the failures.
fn runner<'a>(
    name: &'a str,
    options: &'a ConvOptions,
    out_shape: [usize; 4],
    call: impl Fn(&ConvOptions) -> Result<Array4<f64>, Error> + 'a,
) -> impl Fn(Algorithm) -> Array4<f64> + 'a {
    move |algorithm: Algorithm| {
        let y = call(&with(options, algorithm))
            .unwrap_or_else(|e| panic!("{name}: {algorithm:?} fails after the shape check passed: {e}"));
        assert_eq!(y.shape(), out_shape, "{name}: {algorithm:?} output shape");
        y
    }
}

fn with(options: &ConvOptions, algorithm: Algorithm) -> ConvOptions {
    ConvOptions { algorithm, ..*options }
}

/// How many padded positions can fold onto one input pixel, per axis
/// product: 1 for `Fill`, which folds nothing.
pub fn folds(input: [usize; 4], weight: [usize; 4], options: &ConvOptions) -> f64 {
    if check::fill_value(options).is_some() {
        return 1.0;
    }
    let mut product = 1.0;
    for i in 0..2 {
        let g = AxisGeometry::new(input[2 + i], weight[2 + i])
            .stride(options.stride.of_rank::<2>().unwrap()[i])
            .dilation(options.dilation.of_rank::<2>().unwrap()[i]);
        let Ok(g) = options.padding.resolve(g, Operation::CrossCorrelation) else {
            return f64::INFINITY;
        };
        product *= 1.0 + (g.pad_lo as f64 + g.pad_hi as f64) / g.input.max(1) as f64;
    }
    product
}

const DUMMY: [usize; 4] = [0, 0, 0, 0];

/// The kernel extents `d·(k − 1) + 1` of a valid call.
fn extents(weight: [usize; 4], options: &ConvOptions) -> [usize; 2] {
    [0, 1].map(|i| options.dilation.of_rank::<2>().unwrap()[i] * (weight[2 + i] - 1) + 1)
}

/// `conv2d`: validity and shape, then every algorithm against `Direct` in
/// `f64` and `i64`.
pub fn run_conv2d(case: &InputBatched) {
    let options = case.options.get(Value::f64);
    let (xs, ws) = case.shapes(false);
    let (Some(x), Some(w)) = (case.operand(xs, 0, Value::f64), case.operand(ws, 1, Value::f64)) else {
        return;
    };
    let bias_out = ws[0];
    let bias = case.bias(bias_out, Value::f64);

    let model = model::conv2d::<f64>(xs, ws, bias.as_ref().map(Array1::len), &options);
    let shape_fn = conv2d_output_shape(xs, ws, &options)
        .ok()
        .filter(|s| bias.as_ref().is_none_or(|b| b.len() == s[1]))
        .filter(|s| model::bytes_fit(s, 8));
    let mut dummy = Array4::<f64>::zeros(DUMMY);
    let called = check::shape_from_mismatch(
        conv2d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut dummy),
        &DUMMY,
    )
    .map(|s| [s[0], s[1], s[2], s[3]]);
    check::assert_agree(model, shape_fn, called.clone(), "conv2d");
    assert_eq!(
        conv2d_algorithm::<f64>(xs, ws, &options).is_ok(),
        conv2d_output_shape(xs, ws, &options).is_ok(),
        "conv2d_algorithm disagrees with conv2d_output_shape"
    );
    let Ok(out_shape) = called else { return };
    let (out, extent) = ([out_shape[2], out_shape[3]], extents(ws, &options));
    if check::too_costly(out, options.stride.of_rank::<2>().unwrap(), extent, ws[1]) {
        return;
    }
    let out_len: usize = out_shape.iter().product();
    if out_len > check::OUTPUT_CAP || check::work(&[out_len, ws[1], ws[2], ws[3]]) > check::WORK_CAP {
        return;
    }

    // f64: every algorithm against Direct.
    let run = runner("conv2d", &options, out_shape, |options: &ConvOptions| {
        conv2d(&x.view(), &w.view(), bias.as_deref(), options)
    });
    let direct = run(Algorithm::Direct);
    let mut out = relayout(Array4::from_elem(out_shape, f64::NAN), case.layouts[3]);
    conv2d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut out).expect("_into with the right shape");
    check::assert_same_bits("conv2d_into", &run(options.algorithm), &out);

    let fill = check::fill_value(&options);
    let bias_values = bias.iter().flatten();
    let class = check::classify(
        x.stored()
            .chain(w.stored())
            .chain(fill.iter())
            .chain(bias_values.clone()),
    );
    if class == Class::Wild {
        for algorithm in FAST_ALGORITHMS {
            run(algorithm);
        }
    } else {
        let abs_bias = bias.as_ref().map(|b| b.mapv(f64::abs));
        let magnitude = conv2d(
            &x.map(f64::abs).view(),
            &w.map(f64::abs).view(),
            abs_bias.as_deref(),
            &check::abs_options(&options),
        )
        .expect("|x| ⋆ |w|");
        let global =
            check::max_abs(x.stored().chain(fill.iter())) * check::sum_abs(w.view()) + check::max_abs(bias_values);
        check::check_algorithms("conv2d", &FAST_ALGORITHMS, &run, &direct, class, &magnitude, global);
    }

    // i64: exact.
    let options = case.options.get(Value::i64);
    let (xi, wi) = (
        case.operand(xs, 0, Value::i64).expect("as for f64"),
        case.operand(ws, 1, Value::i64).expect("as for f64"),
    );
    let bias = case.bias(bias_out, Value::i64);
    let run = |algorithm: Algorithm| {
        conv2d(
            &xi.view(),
            &wi.view(),
            bias.as_deref(),
            &ConvOptions { algorithm, ..options },
        )
        .unwrap_or_else(|e| panic!("conv2d: i64 {algorithm:?} fails after the shape check passed: {e}"))
    };
    let direct = run(Algorithm::Direct);
    for algorithm in FAST_ALGORITHMS {
        check::assert_exact("conv2d i64", algorithm, &direct, &run(algorithm));
    }
}

/// `conv2d_backward`: validity (including the upstream gradient's and the
/// gradient buffers' shapes), then every algorithm against `Direct`.
pub fn run_backward(case: &InputBatched) {
    let options = case.options.get(Value::f64);
    let (xs, ws) = case.shapes(false);
    let forward = model::conv2d::<f64>(xs, ws, None, &options);
    let gs = match (case.grad, forward) {
        (GradSpec::Matching, Some(shape)) => shape,
        (GradSpec::Matching, None) => [0, ws[0], 1, 1],
        (GradSpec::Raw(shape), _) => shape.map(Len::get),
    };
    let (Some(x), Some(w), Some(g)) = (
        case.operand(xs, 0, Value::f64),
        case.operand(ws, 1, Value::f64),
        case.operand(gs, 2, Value::f64),
    ) else {
        return;
    };
    let valid = forward == Some(gs);
    let result = conv2d_backward_into(&x.view(), &w.view(), &g.view(), &options, Conv2dGradsMut::none());
    assert_eq!(
        result.is_ok(),
        valid,
        "conv2d_backward: model says forward {forward:?} with gradient {gs:?}, call gives {result:?}"
    );
    if !valid {
        return;
    }
    // Wrong-shaped gradient buffers are errors, whatever else is valid.
    let mut bad = Array4::<f64>::zeros(DUMMY);
    let wrong_input = Conv2dGradsMut {
        input: Some(bad.view_mut()),
        ..Conv2dGradsMut::none()
    };
    assert!(matches!(
        conv2d_backward_into(&x.view(), &w.view(), &g.view(), &options, wrong_input),
        Err(Error::ShapeMismatch { .. })
    ));
    let wrong_weight = Conv2dGradsMut {
        weight: Some(bad.view_mut()),
        ..Conv2dGradsMut::none()
    };
    assert!(matches!(
        conv2d_backward_into(&x.view(), &w.view(), &g.view(), &options, wrong_weight),
        Err(Error::ShapeMismatch { .. })
    ));
    if ws[0] < ALLOC_CAP {
        let mut bad_bias = Array1::<f64>::zeros(ws[0] + 1);
        let wrong_bias = Conv2dGradsMut {
            bias: Some(bad_bias.view_mut()),
            ..Conv2dGradsMut::none()
        };
        assert!(matches!(
            conv2d_backward_into(&x.view(), &w.view(), &g.view(), &options, wrong_bias),
            Err(Error::ShapeMismatch { .. })
        ));
    }

    if !(x.is_materialized() && w.is_materialized() && g.is_materialized()) {
        return;
    }
    let (out, extent) = ([gs[2], gs[3]], extents(ws, &options));
    if check::too_costly(out, options.stride.of_rank::<2>().unwrap(), extent, ws[1]) {
        return;
    }
    let input_work = check::work(&[g.view().len(), ws[1], ws[2], ws[3]]);
    let weight_work = check::work(&[w.view().len(), gs[0], gs[2], gs[3]]);
    if input_work > check::WORK_CAP || weight_work > check::WORK_CAP {
        return;
    }
    let run = |algorithm: Algorithm| -> Conv2dGrads<f64> {
        let grads = conv2d_backward(&x.view(), &w.view(), &g.view(), &with(&options, algorithm))
            .unwrap_or_else(|e| panic!("conv2d_backward: {algorithm:?} fails after the shape check passed: {e}"));
        assert_eq!(
            grads.input.shape(),
            xs,
            "conv2d_backward: {algorithm:?} input gradient shape"
        );
        assert_eq!(
            grads.weight.shape(),
            ws,
            "conv2d_backward: {algorithm:?} weight gradient shape"
        );
        assert_eq!(
            grads.bias.len(),
            ws[0],
            "conv2d_backward: {algorithm:?} bias gradient length"
        );
        grads
    };
    let direct = run(Algorithm::Direct);

    let fill = check::fill_value(&options);
    let class = check::classify(x.stored().chain(w.stored()).chain(g.stored()).chain(fill.iter()));
    if class == Class::Wild {
        for algorithm in FAST_ALGORITHMS {
            run(algorithm);
        }
        return;
    }
    let magnitude = conv2d_backward(
        &x.map(f64::abs).view(),
        &w.map(f64::abs).view(),
        &g.map(f64::abs).view(),
        &check::abs_options(&options),
    )
    .expect("|x|, |w|, |g|");
    let input_global = check::max_abs(g.stored()) * check::sum_abs(w.view()) * folds(xs, ws, &options);
    for algorithm in FAST_ALGORITHMS {
        let grads = run(algorithm);
        if class == Class::NonFinite && check::spreads_nan(algorithm) {
            continue;
        }
        let fft_like = check::spreads_error(algorithm) && class == Class::Moderate;
        check::assert_close(
            "conv2d_backward input gradient",
            algorithm,
            &direct.input,
            &grads.input,
            &Scale {
                magnitude: &magnitude.input,
                global: if fft_like { input_global } else { 0.0 },
            },
        );
        check::assert_close(
            "conv2d_backward weight gradient",
            algorithm,
            &direct.weight,
            &grads.weight,
            &Scale {
                magnitude: &magnitude.weight,
                global: 0.0,
            },
        );
        check::assert_same_bits("conv2d_backward bias gradient", &direct.bias, &grads.bias);
    }
}

/// `conv_transpose2d`: validity and shape, then every algorithm against
/// `Direct`.
pub fn run_transpose(case: &InputBatched) {
    let options = case.options.get(Value::f64);
    let (xs, ws) = case.shapes(true);
    let (Some(x), Some(w)) = (case.operand(xs, 0, Value::f64), case.operand(ws, 1, Value::f64)) else {
        return;
    };
    let out_channels = options.groups.saturating_mul(ws[1]);
    let bias = case.bias(out_channels, Value::f64);

    let model = model::transpose(xs, ws, bias.as_ref().map(Array1::len), &options);
    let shape_fn = conv_transpose2d_output_shape(xs, ws, &options)
        .ok()
        .filter(|s| bias.as_ref().is_none_or(|b| b.len() == s[1]));
    let mut dummy = Array4::<f64>::zeros(DUMMY);
    let called = check::shape_from_mismatch(
        conv_transpose2d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut dummy),
        &DUMMY,
    )
    .map(|s| [s[0], s[1], s[2], s[3]]);
    check::assert_agree(model, shape_fn, called.clone(), "conv_transpose2d");
    let Ok(out_shape) = called else { return };
    if !model::allocatable(&out_shape, 8) {
        // More than `isize::MAX` bytes: no array can receive it, and the
        // allocating form must refuse it rather than try.
        let result = conv_transpose2d(&x.view(), &w.view(), bias.as_deref(), &options);
        assert!(
            result.is_err(),
            "conv_transpose2d of an unallocatable {out_shape:?} gives {result:?}"
        );
        return;
    }
    let out_len: usize = out_shape.iter().product();
    if out_len > check::OUTPUT_CAP || check::work(&[x.view().len(), ws[1], ws[2], ws[3]]) > check::WORK_CAP {
        return;
    }

    let run = runner("conv_transpose2d", &options, out_shape, |options: &ConvOptions| {
        conv_transpose2d(&x.view(), &w.view(), bias.as_deref(), options)
    });
    let direct = run(Algorithm::Direct);
    let mut out = relayout(Array4::from_elem(out_shape, f64::NAN), case.layouts[3]);
    conv_transpose2d_into(&x.view(), &w.view(), bias.as_deref(), &options, &mut out)
        .expect("_into with the right shape");
    check::assert_same_bits("conv_transpose2d_into", &run(options.algorithm), &out);

    let bias_values = bias.iter().flatten();
    let class = check::classify(x.stored().chain(w.stored()).chain(bias_values.clone()));
    if class == Class::Wild {
        for algorithm in FAST_ALGORITHMS {
            run(algorithm);
        }
        return;
    }
    let abs_bias = bias.as_ref().map(|b| b.mapv(f64::abs));
    let magnitude = conv_transpose2d(
        &x.map(f64::abs).view(),
        &w.map(f64::abs).view(),
        abs_bias.as_deref(),
        &check::abs_options(&options),
    )
    .expect("|x|, |w|");
    // The transposed problem's padding folds onto its output, whose
    // forward geometry has the output as input.
    let forward_input = [out_shape[0], out_shape[1], out_shape[2], out_shape[3]];
    let global = check::max_abs(x.stored()) * check::sum_abs(w.view()) * folds(forward_input, ws, &options)
        + check::max_abs(bias_values);
    check::check_algorithms(
        "conv_transpose2d",
        &FAST_ALGORITHMS,
        &run,
        &direct,
        class,
        &magnitude,
        global,
    );
}
