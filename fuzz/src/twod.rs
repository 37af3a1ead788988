//! The single-channel targets, `correlate2d` and `convolve2d`.

use arbitrary::Arbitrary;
use convolve::shape::{AxisGeometry, Operation};
use convolve::{
    convolve2d, convolve2d_algorithm, convolve2d_into, correlate2d, correlate2d_algorithm, correlate2d_into, Algorithm,
    Axis, ConvOptions, Padding, Result,
};
use ndarray::{Array2, ArrayView2, Ix2};

use crate::check::{self, Class};
use crate::gen::{Layout, Len, OptionsSpec, Value, FAST_ALGORITHMS};
use crate::model;
use crate::operand::{relayout, Operand};

/// One fuzz case of `correlate2d` or `convolve2d`.
#[derive(Arbitrary, Debug)]
pub struct Input2d {
    /// `[H, W]`.
    pub input: [Len; 2],
    /// `[kh, kw]`.
    pub kernel: [Len; 2],
    /// Every option.
    pub options: OptionsSpec,
    /// Layout of the input.
    pub input_layout: Layout,
    /// Layout of the kernel.
    pub kernel_layout: Layout,
    /// Layout of the `_into` output.
    pub out_layout: Layout,
    /// Elements of input, then kernel, cycled.
    pub values: Vec<Value>,
}

fn operation(convolution: bool) -> Operation {
    if convolution {
        Operation::Convolution
    } else {
        Operation::CrossCorrelation
    }
}

fn call<A: convolve::Element>(
    x: ArrayView2<'_, A>,
    k: ArrayView2<'_, A>,
    options: &ConvOptions,
    convolution: bool,
) -> Result<Array2<A>> {
    if convolution {
        convolve2d(&x, &k, options)
    } else {
        correlate2d(&x, &k, options)
    }
}

fn call_into<A: convolve::Element>(
    x: ArrayView2<'_, A>,
    k: ArrayView2<'_, A>,
    options: &ConvOptions,
    convolution: bool,
    out: &mut Array2<A>,
) -> Result<()> {
    if convolution {
        convolve2d_into(&x, &k, options, out)
    } else {
        correlate2d_into(&x, &k, options, out)
    }
}

/// The output shape as the `shape` module computes it: `Padding::resolve`
/// and `AxisGeometry::output_len` per axis, with scipy's `valid` swap.
fn shape_fn_2d<A>(
    input: [usize; 2],
    kernel: [usize; 2],
    options: &ConvOptions,
    convolution: bool,
) -> Option<[usize; 2]> {
    if options.groups != 1 {
        return None;
    }
    let geometry = |input: [usize; 2], kernel: [usize; 2]| -> Option<[AxisGeometry; 2]> {
        let axis = |i: usize, axis: Axis| {
            let g = AxisGeometry::new(input[i], kernel[i])
                .along(axis)
                .stride(options.stride.of_rank::<2>().unwrap()[i])
                .dilation(options.dilation.of_rank::<2>().unwrap()[i]);
            g.kernel_extent().ok()?;
            if input[i] == 0 {
                return None;
            }
            options.padding.resolve(g, operation(convolution)).ok()
        };
        Some([axis(0, Axis::Height)?, axis(1, Axis::Width)?])
    };
    geometry(input, kernel)?;
    let scipy_valid = options.padding == Padding::Valid && options.stride == [1, 1] && options.dilation == [1, 1];
    let kernel_fits = input[0] >= kernel[0] && input[1] >= kernel[1];
    let input_fits = kernel[0] >= input[0] && kernel[1] >= input[1];
    if scipy_valid && !kernel_fits && !input_fits {
        return None;
    }
    let [rows, cols] = if scipy_valid && !kernel_fits {
        geometry(kernel, input)?
    } else {
        geometry(input, kernel)?
    };
    let shape = [rows.output_len().ok()?, cols.output_len().ok()?];
    model::allocatable(&shape, std::mem::size_of::<A>()).then_some(shape)
}

/// The input and the kernel of `case`, with elements converted by
/// `convert`; the kernel reads the values backwards.
fn operands<A: Copy>(
    case: &Input2d,
    convert: impl Fn(Value) -> A + Copy,
) -> Option<(Operand<A, Ix2>, Operand<A, Ix2>)> {
    let [h, w] = case.input.map(Len::get);
    let [kh, kw] = case.kernel.map(Len::get);
    let k_values: Vec<Value> = case.values.iter().rev().copied().collect();
    Some((
        Operand::new(Ix2(h, w), &case.values, convert, case.input_layout)?,
        Operand::new(Ix2(kh, kw), &k_values, convert, case.kernel_layout)?,
    ))
}

/// A case whose call is valid: what the differential runs need.
struct Valid2d<'a> {
    case: &'a Input2d,
    convolution: bool,
    what: &'static str,
    out_shape: [usize; 2],
    /// Whether scipy's `valid` mode swapped input and kernel.
    swapped: bool,
}

/// Runs one case: validity and shape against the model, then, for small
/// problems, every algorithm against `Algorithm::Direct` in `f64` and `i64`.
pub fn run(case: &Input2d, convolution: bool) {
    let what = if convolution { "convolve2d" } else { "correlate2d" };
    let in_shape = case.input.map(Len::get);
    let k_shape = case.kernel.map(Len::get);
    let options = case.options.get(Value::f64);
    let Some((x, k)) = operands(case, Value::f64) else {
        return;
    };

    let model = model::output_2d::<f64>(in_shape, k_shape, &options, convolution);
    let shape_fn = shape_fn_2d::<f64>(in_shape, k_shape, &options, convolution);
    let mut dummy = Array2::<f64>::zeros((0, 0));
    let called = check::shape_from_mismatch(
        call_into(x.view(), k.view(), &options, convolution, &mut dummy),
        &[0, 0],
    )
    .map(|s| [s[0], s[1]]);
    check::assert_agree(model, shape_fn, called.clone(), what);
    // The `_algorithm` functions read the values they decide by (rank 1,
    // finiteness) once the call is valid: asked of every invalid call, but
    // of valid ones only where running them is cheap enough too.
    let algorithm = || {
        if convolution {
            convolve2d_algorithm(&x.view(), &k.view(), &options)
        } else {
            correlate2d_algorithm(&x.view(), &k.view(), &options)
        }
    };
    if shape_fn.is_none() {
        assert!(
            algorithm().is_err(),
            "{what}_algorithm accepts what the shape functions refuse"
        );
    }
    let Ok(out_shape) = called else { return };

    // In scipy's `valid` swap the input plays the kernel.
    let swapped = model::swaps_2d(in_shape, k_shape, &options);
    let taps = if swapped { in_shape } else { k_shape };
    let extent = [0, 1].map(|i| options.dilation.of_rank::<2>().unwrap()[i] * (taps[i] - 1) + 1);
    if check::too_costly(out_shape, options.stride.of_rank::<2>().unwrap(), extent, 1) {
        return;
    }
    let out_len = out_shape[0] * out_shape[1];
    if out_len > check::OUTPUT_CAP || check::work(&[out_len, taps[0], taps[1]]) > check::WORK_CAP {
        return;
    }
    assert!(
        algorithm().is_ok(),
        "{what}_algorithm refuses what the shape functions accept"
    );
    let valid = Valid2d {
        case,
        convolution,
        what,
        out_shape,
        swapped,
    };
    valid.differential_f64(&x, &k, &options);
    valid.differential_i64();
}

impl Valid2d<'_> {
    fn differential_f64(&self, x: &Operand<f64, Ix2>, k: &Operand<f64, Ix2>, options: &ConvOptions) {
        let (what, convolution) = (self.what, self.convolution);
        let fill = check::fill_value(options);
        let class = check::classify(x.stored().chain(k.stored()).chain(fill.iter()));
        let run = |algorithm: Algorithm| {
            let y = call(x.view(), k.view(), &ConvOptions { algorithm, ..*options }, convolution)
                .unwrap_or_else(|e| panic!("{what}: {algorithm:?} fails after the shape check passed: {e}"));
            assert_eq!(y.shape(), self.out_shape, "{what}: {algorithm:?} output shape");
            y
        };
        let direct = run(Algorithm::Direct);

        // `_into` an output of another layout, pre-filled with NaN, gives the
        // same bits as the allocating call.
        let mut out = relayout(Array2::from_elem(self.out_shape, f64::NAN), self.case.out_layout);
        call_into(x.view(), k.view(), options, convolution, &mut out).expect("_into with the right shape");
        check::assert_same_bits(what, &run(options.algorithm), &out);

        if class == Class::Wild {
            for algorithm in FAST_ALGORITHMS {
                run(algorithm);
            }
            return;
        }
        let (ax, ak) = (x.map(f64::abs), k.map(f64::abs));
        let magnitude = call(ax.view(), ak.view(), &check::abs_options(options), convolution).expect("|x| ⋆ |k|");
        let largest = check::max_abs(x.stored().chain(k.stored()).chain(fill.iter()));
        let global = largest * check::sum_abs(if self.swapped { x.view() } else { k.view() });
        check::check_algorithms(what, &FAST_ALGORITHMS, &run, &direct, class, &magnitude, global);
    }

    fn differential_i64(&self) {
        let what = self.what;
        let options = self.case.options.get(Value::i64);
        let (x, k) = operands(self.case, Value::i64).expect("representable as f64, so as i64");
        let run = |algorithm: Algorithm| {
            let y = call(
                x.view(),
                k.view(),
                &ConvOptions { algorithm, ..options },
                self.convolution,
            )
            .unwrap_or_else(|e| panic!("{what}: i64 {algorithm:?} fails after the shape check passed: {e}"));
            assert_eq!(y.shape(), self.out_shape, "{what}: i64 {algorithm:?} output shape");
            y
        };
        let direct = run(Algorithm::Direct);
        for algorithm in FAST_ALGORITHMS {
            check::assert_exact(what, algorithm, &direct, &run(algorithm));
        }
    }
}
