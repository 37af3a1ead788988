//! The 1-D entry points: scipy's `correlate`/`convolve` on 1-D arrays
//! ([`correlate1d`], [`convolve1d`]) and PyTorch's `conv1d`, its gradients
//! and `conv_transpose1d` ([`conv1d`], [`conv1d_backward`],
//! [`conv_transpose1d`]).
//!
//! A 1-D call is the rank-1 case of the one engine: its arrays get a row
//! axis of length 1 before their last axis (`[N, C, L]` is viewed as
//! `[N, C, 1, L]`, a signal `[L]` as `[1, L]`, no copy), its options
//! become the 2-D options of a one-row kernel on a one-row input
//! ([`unit_rows`]), and the 2-D validation, planner, kernels and boundary
//! rules do the rest. Errors are given back in the call's terms: the
//! length axis, and 1-D shapes.

use std::sync::Mutex;

use ndarray::{s, Array1, Array3, ArrayRef, ArrayRef1, ArrayRef3, ArrayView, ArrayViewMut, Axis, Dimension};

use super::backward::{conv2d_backward, conv2d_backward_into, Conv1dGrads, Conv1dGradsMut, ConvGrads, ConvGradsMut};
use super::batched::{conv2d, conv2d_algorithm, conv2d_into};
use super::boundary::source_index;
use super::element::{Element, Float};
use super::exec::blocks::for_each_item;
use super::problem::{check_shape, reserve, zeros};
use super::single_channel::{convolve2d_into, correlate2d_into, resolve, scipy_valid};
use super::transpose::{conv_transpose2d, conv_transpose2d_into};
use crate::error::{Error, Result};
use crate::options::{Algorithm, ConvOptions, Padding};
use crate::shape::{along_length, unit_rows, with_unit_rows, AxisGeometry, Operation};

/// Where batched arrays get their unit row axis: `[N, C, 1, L]`.
const BATCHED_ROWS: Axis = Axis(2);

/// Where a signal gets its unit row axis: `[1, L]`.
const SIGNAL_ROWS: Axis = Axis(0);

/// `array` with a row axis of length 1 inserted at `axis`.
fn rows<'a, A, D: Dimension>(array: &'a ArrayRef<A, D>, axis: Axis) -> ArrayView<'a, A, D::Larger> {
    array.view().insert_axis(axis)
}

/// `array`, writable, with a row axis of length 1 inserted at `axis`.
fn rows_mut<'a, A, D: Dimension>(array: &'a mut ArrayRef<A, D>, axis: Axis) -> ArrayViewMut<'a, A, D::Larger> {
    array.view_mut().insert_axis(axis)
}

/// An error of the 2-D engine in the 1-D call's terms: the columns are the
/// length axis, and shapes lose the unit row axis at `unit`.
fn in_1d(error: Error, unit: Axis) -> Error {
    match along_length(error) {
        Error::ShapeMismatch {
            what,
            mut expected,
            mut got,
        } => {
            for shape in [&mut expected, &mut got] {
                if shape.len() > unit.index() && shape[unit.index()] == 1 {
                    shape.remove(unit.index());
                }
            }
            Error::ShapeMismatch { what, expected, got }
        }
        other => other,
    }
}

/// The 1-D cross-correlation of `input` with `kernel`: `scipy.signal.correlate`
/// on 1-D arrays (`numpy.correlate` for `Valid`), with every option of
/// [`correlate2d`](crate::correlate2d) along the one axis.
///
/// `Padding::Same` keeps the crate's one rule (the smaller half of an odd
/// total padding before the input, as PyTorch does); `docs/conventions.md`
/// shows where numpy and scipy differ for even kernels. In `Valid` mode a
/// kernel longer than the input swaps roles with it, as in scipy (for
/// complex elements the result is conjugated, as `scipy.signal.correlate`
/// gives it).
///
/// # Errors
///
/// Those of [`correlate2d`](crate::correlate2d), about the [`Axis::Length`](crate::Axis::Length)
/// and with 1-D shapes, and [`Error::OptionRank`] for options given per
/// axis or per side for 2-D calls.
///
/// # Examples
///
/// ```
/// use convolve::{correlate1d, ConvOptions, Padding};
/// use ndarray::array;
///
/// // y[i] = x[i]·1 + x[i+1]·0 + x[i+2]·(−1), zero-padded by one on each side.
/// let x = array![1.0, 2.0, 3.0, 4.0];
/// let y = correlate1d(&x, &array![1.0, 0.0, -1.0], &ConvOptions::new().padding(Padding::Same))?;
/// assert_eq!(y, array![-2.0, -2.0, -2.0, 3.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn correlate1d<A: Element>(
    input: &ArrayRef1<A>,
    kernel: &ArrayRef1<A>,
    options: &ConvOptions,
) -> Result<Array1<A>> {
    single(input, kernel, options, Operation::CrossCorrelation, None)
}

/// In scipy's 'valid' mode a kernel longer than the input swaps roles with
/// it. `scipy.signal.correlate` (and `numpy.correlate`) then give the
/// correlation at negative lags, `conj(Σ k[n+m]·conj(x[m]))`, where
/// `correlate2d` (whose rule the 2-D engine follows) leaves it
/// unconjugated; the 1-D forms follow `scipy.signal.correlate`. Real
/// elements are their own conjugates.
fn conjugate_if_swapped<A: Element>(input: usize, kernel: usize, options: &ConvOptions, out: &mut ArrayRef1<A>) {
    if A::COMPLEX && scipy_valid(options) && kernel > input {
        out.map_inplace(|v| *v = v.conj());
    }
}

/// [`correlate1d`] into `out`, which must have the output's length.
///
/// # Errors
///
/// Those of [`correlate1d`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out` has
/// another length.
///
/// # Examples
///
/// ```
/// use convolve::{correlate1d_into, ConvOptions};
/// use ndarray::{array, Array1};
///
/// let mut y = Array1::zeros(3);
/// correlate1d_into(&array![1, 2, 3, 4], &array![1, 1], &ConvOptions::new(), &mut y)?;
/// assert_eq!(y, array![3, 5, 7]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn correlate1d_into<A: Element>(
    input: &ArrayRef1<A>,
    kernel: &ArrayRef1<A>,
    options: &ConvOptions,
    out: &mut ArrayRef1<A>,
) -> Result<()> {
    single(input, kernel, options, Operation::CrossCorrelation, Some(out)).map(drop)
}

/// The 1-D convolution of `input` with `kernel` (the kernel reversed):
/// `scipy.signal.convolve` on 1-D arrays (`numpy.convolve` for `Full` and
/// `Valid`), with every option of [`convolve2d`](crate::convolve2d) along the one axis.
///
/// # Errors
///
/// Those of [`correlate1d`].
///
/// # Examples
///
/// ```
/// use convolve::{convolve1d, ConvOptions, Padding};
/// use ndarray::array;
///
/// // numpy.convolve([1, 2, 3], [1, 1]) = [1, 3, 5, 3].
/// let y = convolve1d(&array![1.0, 2.0, 3.0], &array![1.0, 1.0], &ConvOptions::new().padding(Padding::Full))?;
/// assert_eq!(y, array![1.0, 3.0, 5.0, 3.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn convolve1d<A: Element>(input: &ArrayRef1<A>, kernel: &ArrayRef1<A>, options: &ConvOptions) -> Result<Array1<A>> {
    single(input, kernel, options, Operation::Convolution, None)
}

/// [`convolve1d`] into `out`, which must have the output's length.
///
/// # Errors
///
/// Those of [`correlate1d_into`].
///
/// # Examples
///
/// ```
/// use convolve::{convolve1d_into, ConvOptions};
/// use ndarray::{array, Array1};
///
/// let mut y = Array1::zeros(2);
/// convolve1d_into(&array![1, 2, 3], &array![1, -1], &ConvOptions::new(), &mut y)?;
/// assert_eq!(y, array![1, 1]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn convolve1d_into<A: Element>(
    input: &ArrayRef1<A>,
    kernel: &ArrayRef1<A>,
    options: &ConvOptions,
    out: &mut ArrayRef1<A>,
) -> Result<()> {
    single(input, kernel, options, Operation::Convolution, Some(out)).map(drop)
}

/// Outputs per part of a long signal. The 2-D engine runs a row as one
/// block, so a single-channel call with at least twice as many outputs is
/// cut into parts of this many (the last takes the rest), run in parallel,
/// each a 'valid' call on its window of the padded signal. The parts
/// depend on the shape alone, so every thread count gives the same result.
const PART_OUTPUTS: usize = 1 << 16;

/// The single-channel forms: into `out` if given (then an empty array is
/// returned), else into a new array.
fn single<A: Element>(
    input: &ArrayRef1<A>,
    kernel: &ArrayRef1<A>,
    options: &ConvOptions,
    operation: Operation,
    out: Option<&mut ArrayRef1<A>>,
) -> Result<Array1<A>> {
    let resolved = resolve::<A, 1>([input.len()], [kernel.len()], options, operation)?;
    let rows_options = unit_rows(options)?;
    let [axis] = resolved.geometry;
    let outputs = axis.output_len()?;
    let mut owned = None;
    let out = match out {
        Some(out) => {
            check_shape("the output", &[outputs], out.shape())?;
            out
        }
        None => &mut **owned.insert(zeros::<A, _>("the output", outputs)?),
    };
    // The parts read a padded copy of the signal: only where it is not
    // much longer than the signal and the output (no stride or padding far
    // beyond the kernel).
    let span = (outputs.max(1) - 1)
        .saturating_mul(axis.stride)
        .saturating_add(axis.extent());
    let bounded = span
        <= input
            .len()
            .saturating_add(outputs)
            .saturating_mul(2)
            .saturating_add(1 << 20);
    if resolved.swap || outputs < 2 * PART_OUTPUTS || !bounded {
        let (x, k, mut y) = (
            rows(input, SIGNAL_ROWS),
            rows(kernel, SIGNAL_ROWS),
            rows_mut(out, SIGNAL_ROWS),
        );
        match operation {
            Operation::CrossCorrelation => correlate2d_into(&x, &k, &rows_options, &mut y),
            Operation::Convolution => convolve2d_into(&x, &k, &rows_options, &mut y),
        }
        .map_err(|e| in_1d(e, SIGNAL_ROWS))?;
        if operation == Operation::CrossCorrelation {
            conjugate_if_swapped(input.len(), kernel.len(), options, out);
        }
    } else {
        in_parts(input, kernel, options, operation, &axis, out)?;
    }
    Ok(owned.unwrap_or_else(|| Array1::zeros(0)))
}

/// A long signal's output in parts of [`PART_OUTPUTS`], in parallel: the
/// padded signal is made once (by the boundary rule), and each part is the
/// 'valid' call on the window its outputs read.
fn in_parts<A: Element>(
    input: &ArrayRef1<A>,
    kernel: &ArrayRef1<A>,
    options: &ConvOptions,
    operation: Operation,
    axis: &AxisGeometry,
    out: &mut ArrayRef1<A>,
) -> Result<()> {
    let extent = axis.extent();
    let span = (out.len() - 1) * axis.stride + extent;
    let fill = options.boundary.fill::<A>()?;
    reserve::<A>("the padded signal", span)?;
    let padded: Array1<A> = (0..span)
        .map(|p| source_index(p, axis, &options.boundary).map_or(fill, |i| input[i]))
        .collect();
    let part_options = unit_rows(&ConvOptions {
        padding: Padding::Valid,
        ..*options
    })?;
    let kernel = rows(kernel, SIGNAL_ROWS);
    let parts: Vec<_> = out
        .axis_chunks_iter_mut(Axis(0), PART_OUTPUTS)
        .enumerate()
        .map(|(index, part)| {
            let start = index * PART_OUTPUTS * axis.stride;
            let window = padded.slice(s![start..start + (part.len() - 1) * axis.stride + extent]);
            (window, part)
        })
        .collect();
    let failure = Mutex::new(None);
    for_each_item(parts, |(window, part)| {
        let (x, mut y) = (window.insert_axis(SIGNAL_ROWS), part.insert_axis(SIGNAL_ROWS));
        let result = match operation {
            Operation::CrossCorrelation => correlate2d_into(&x, &kernel, &part_options, &mut y),
            Operation::Convolution => convolve2d_into(&x, &kernel, &part_options, &mut y),
        };
        if let Err(error) = result {
            *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
        }
    });
    match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(error) => Err(in_1d(error, SIGNAL_ROWS)),
        None => Ok(()),
    }
}

/// Batched multi-channel 1-D convolution as in PyTorch's `conv1d`
/// (cross-correlation): `input` `[N, C, L]`, `weight` `[O, C / groups, k]`,
/// an optional `bias` of `O` values, output `[N, O, Lo]`
/// ([`conv1d_output_shape`](crate::shape::conv1d_output_shape)). Every
/// option of [`conv2d`] applies along the one axis.
///
/// # Errors
///
/// Those of [`conv2d`], about the [`Axis::Length`](crate::Axis::Length) and
/// with 1-D shapes, and [`Error::OptionRank`] for options given per axis
/// or per side for 2-D calls.
///
/// # Examples
///
/// ```
/// use convolve::{conv1d, ConvOptions};
/// use ndarray::array;
///
/// // One signal, two filters: a running sum and a difference (plus 10).
/// let x = array![[[1.0, 2.0, 3.0, 4.0]]];
/// let w = array![[[1.0, 1.0]], [[1.0, -1.0]]];
/// let y = conv1d(&x, &w, Some(&array![0.0, 10.0]), &ConvOptions::new())?;
/// assert_eq!(y, array![[[3.0, 5.0, 7.0], [9.0, 9.0, 9.0]]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv1d<A: Element>(
    input: &ArrayRef3<A>,
    weight: &ArrayRef3<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
) -> Result<Array3<A>> {
    let out = conv2d(
        &rows(input, BATCHED_ROWS),
        &rows(weight, BATCHED_ROWS),
        bias,
        &unit_rows(options)?,
    )
    .map_err(|e| in_1d(e, BATCHED_ROWS))?;
    Ok(out.index_axis_move(BATCHED_ROWS, 0))
}

/// [`conv1d`] into `out` (`[N, O, Lo]`, any layout).
///
/// # Errors
///
/// Those of [`conv1d`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out` does not
/// have the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv1d_into, ConvOptions, Padding};
/// use ndarray::{array, Array3};
///
/// let mut y = Array3::zeros((1, 1, 3));
/// let opts = ConvOptions::new().padding(Padding::Same);
/// conv1d_into(&array![[[1.0, 2.0, 3.0]]], &array![[[1.0, 1.0, 1.0]]], None, &opts, &mut y)?;
/// assert_eq!(y, array![[[3.0, 6.0, 5.0]]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv1d_into<A: Element>(
    input: &ArrayRef3<A>,
    weight: &ArrayRef3<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
    out: &mut ArrayRef3<A>,
) -> Result<()> {
    let mut out = rows_mut(out, BATCHED_ROWS);
    conv2d_into(
        &rows(input, BATCHED_ROWS),
        &rows(weight, BATCHED_ROWS),
        bias,
        &unit_rows(options)?,
        &mut out,
    )
    .map_err(|e| in_1d(e, BATCHED_ROWS))
}

/// The algorithm [`conv1d`] would run for these shapes and options with
/// finite data, without running it.
///
/// # Errors
///
/// Those of [`conv1d_output_shape`](crate::shape::conv1d_output_shape).
///
/// # Examples
///
/// ```
/// use convolve::{conv1d_algorithm, Algorithm, ConvOptions, Padding};
///
/// let opts = ConvOptions::new().padding(Padding::Same);
/// assert_eq!(conv1d_algorithm::<f32>([16, 64, 16000], [64, 64, 9], &opts)?, Algorithm::Gemm);
/// // Depthwise: one channel per group.
/// assert_eq!(conv1d_algorithm::<f32>([16, 64, 16000], [64, 1, 9], &opts.groups(64))?, Algorithm::Vectorized);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv1d_algorithm<A: Element>(input: [usize; 3], weight: [usize; 3], options: &ConvOptions) -> Result<Algorithm> {
    conv2d_algorithm::<A>(with_unit_rows(input), with_unit_rows(weight), &unit_rows(options)?).map_err(along_length)
}

/// The gradients of [`conv1d`] (without bias) at `input` and `weight`,
/// given `grad_output = ∂L/∂y` (`[N, O, Lo]`): `∂L/∂x`, `∂L/∂w` and
/// `∂L/∂b`, as PyTorch's autograd computes them, with every option and
/// boundary rule (the padding's gradient folded back onto the samples it
/// copied) as in [`conv2d_backward`].
///
/// # Errors
///
/// Those of [`conv1d`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `grad_output`
/// does not have the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv1d_backward, ConvOptions};
/// use ndarray::array;
///
/// // y = [x0·w0 + x1·w1, x1·w0 + x2·w1] with ∂L/∂y = [1, 1].
/// let g = conv1d_backward(&array![[[1.0, 2.0, 3.0]]], &array![[[10.0, 20.0]]], &array![[[1.0, 1.0]]], &ConvOptions::new())?;
/// assert_eq!(g.input, array![[[10.0, 30.0, 20.0]]]);
/// assert_eq!(g.weight, array![[[3.0, 5.0]]]);
/// assert_eq!(g.bias, array![2.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv1d_backward<A: Float>(
    input: &ArrayRef3<A>,
    weight: &ArrayRef3<A>,
    grad_output: &ArrayRef3<A>,
    options: &ConvOptions,
) -> Result<Conv1dGrads<A>> {
    let grads = conv2d_backward(
        &rows(input, BATCHED_ROWS),
        &rows(weight, BATCHED_ROWS),
        &rows(grad_output, BATCHED_ROWS),
        &unit_rows(options)?,
    )
    .map_err(|e| in_1d(e, BATCHED_ROWS))?;
    Ok(ConvGrads {
        input: grads.input.index_axis_move(BATCHED_ROWS, 0),
        weight: grads.weight.index_axis_move(BATCHED_ROWS, 0),
        bias: grads.bias,
    })
}

/// [`conv1d_backward`] into `grads` (any subset, any layout); gradients
/// left `None` are not computed.
///
/// # Errors
///
/// Those of [`conv1d_backward`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if a requested
/// gradient does not have its array's shape (then nothing is written).
///
/// # Examples
///
/// ```
/// use convolve::{conv1d_backward_into, Conv1dGradsMut, ConvOptions};
/// use ndarray::{array, Array3};
///
/// let mut dw = Array3::zeros((1, 1, 2));
/// let grads = Conv1dGradsMut { weight: Some(dw.view_mut()), ..Conv1dGradsMut::none() };
/// conv1d_backward_into(&array![[[1.0, 2.0, 3.0]]], &array![[[10.0, 20.0]]], &array![[[1.0, 1.0]]], &ConvOptions::new(), grads)?;
/// assert_eq!(dw, array![[[3.0, 5.0]]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv1d_backward_into<A: Float>(
    input: &ArrayRef3<A>,
    weight: &ArrayRef3<A>,
    grad_output: &ArrayRef3<A>,
    options: &ConvOptions,
    grads: Conv1dGradsMut<'_, A>,
) -> Result<()> {
    let grads = ConvGradsMut {
        input: grads.input.map(|view| view.insert_axis(BATCHED_ROWS)),
        weight: grads.weight.map(|view| view.insert_axis(BATCHED_ROWS)),
        bias: grads.bias,
    };
    conv2d_backward_into(
        &rows(input, BATCHED_ROWS),
        &rows(weight, BATCHED_ROWS),
        &rows(grad_output, BATCHED_ROWS),
        &unit_rows(options)?,
        grads,
    )
    .map_err(|e| in_1d(e, BATCHED_ROWS))
}

/// The 1-D transposed convolution of PyTorch's `conv_transpose1d`:
/// `input` `[N, C_in, L]`, `weight` `[C_in, C_out / groups, k]`, an
/// optional `bias` of `C_out` values, output `[N, C_out, Lo]`
/// ([`conv_transpose1d_output_shape`](crate::shape::conv_transpose1d_output_shape)),
/// with stride, padding, dilation, groups and output padding as in
/// [`conv_transpose2d`].
///
/// # Errors
///
/// Those of [`conv_transpose2d`], about the
/// [`Axis::Length`](crate::Axis::Length) and with 1-D shapes, and
/// [`Error::OptionRank`] for options given for 2-D calls.
///
/// # Examples
///
/// ```
/// use convolve::{conv_transpose1d, ConvOptions};
/// use ndarray::array;
///
/// // Each input sample adds its value times [1, 1, 1] at 2·i: [1, 1, 1+2, 2, 2].
/// let y = conv_transpose1d(&array![[[1.0, 2.0]]], &array![[[1.0, 1.0, 1.0]]], None, &ConvOptions::new().stride(2))?;
/// assert_eq!(y, array![[[1.0, 1.0, 3.0, 2.0, 2.0]]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose1d<A: Float>(
    input: &ArrayRef3<A>,
    weight: &ArrayRef3<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
) -> Result<Array3<A>> {
    let out = conv_transpose2d(
        &rows(input, BATCHED_ROWS),
        &rows(weight, BATCHED_ROWS),
        bias,
        &unit_rows(options)?,
    )
    .map_err(|e| in_1d(e, BATCHED_ROWS))?;
    Ok(out.index_axis_move(BATCHED_ROWS, 0))
}

/// [`conv_transpose1d`] into `out` (`[N, C_out, Lo]`, any layout).
///
/// # Errors
///
/// Those of [`conv_transpose1d`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out` does not
/// have the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv_transpose1d_into, ConvOptions};
/// use ndarray::{array, Array3};
///
/// let mut y = Array3::zeros((1, 1, 3));
/// conv_transpose1d_into(&array![[[1.0, 2.0]]], &array![[[1.0, 1.0]]], None, &ConvOptions::new(), &mut y)?;
/// assert_eq!(y, array![[[1.0, 3.0, 2.0]]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose1d_into<A: Float>(
    input: &ArrayRef3<A>,
    weight: &ArrayRef3<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
    out: &mut ArrayRef3<A>,
) -> Result<()> {
    let mut out = rows_mut(out, BATCHED_ROWS);
    conv_transpose2d_into(
        &rows(input, BATCHED_ROWS),
        &rows(weight, BATCHED_ROWS),
        bias,
        &unit_rows(options)?,
        &mut out,
    )
    .map_err(|e| in_1d(e, BATCHED_ROWS))
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::error::Axis as Named;
    use crate::options::{Padding, PerAxis};

    #[test]
    fn errors_name_the_length_axis_and_1d_shapes() {
        let x = array![[[1.0f32, 2.0, 3.0]]];
        let w = array![[[1.0f32, 1.0]]];
        assert_eq!(
            conv1d(&x, &w, None, &ConvOptions::new().stride(0)),
            Err(Error::ZeroStride { axis: Named::Length })
        );
        assert_eq!(
            correlate1d(&Array1::<f64>::zeros(0), &array![1.0], &ConvOptions::new()),
            Err(Error::EmptyInput { axis: Named::Length })
        );
        let mut out = Array3::zeros((1, 1, 5));
        assert_eq!(
            conv1d_into(&x, &w, None, &ConvOptions::new(), &mut out),
            Err(Error::ShapeMismatch {
                what: "the output",
                expected: vec![1, 1, 2],
                got: vec![1, 1, 5],
            })
        );
    }

    #[test]
    fn long_signals_in_parts_equal_the_one_row_call() {
        use crate::conv::single_channel::{convolve2d, correlate2d};
        use crate::options::Boundary;
        use num_complex::Complex;

        let len = 2 * PART_OUTPUTS + 1234;
        let x = Array1::from_shape_fn(len, |i| ((i * 7919) % 31) as f64 - 15.0);
        let k = array![1.0, -2.0, 0.5, 3.0, 1.0, -1.0];
        for boundary in [
            Boundary::Fill(0.5),
            Boundary::Wrap,
            Boundary::Symmetric,
            Boundary::Reflect,
            Boundary::Replicate,
        ] {
            for options in [
                ConvOptions::new().padding(Padding::Same),
                ConvOptions::new().padding(Padding::Full).stride(3).dilation(2),
                ConvOptions::new()
                    .padding(Padding::Explicit1d { left: 7, right: 2 })
                    .stride(2),
                ConvOptions::new(),
            ] {
                let options = options.boundary(boundary).algorithm(Algorithm::Vectorized);
                let one_row = unit_rows(&options).unwrap();
                let (x2, k2) = (x.view().insert_axis(Axis(0)), k.view().insert_axis(Axis(0)));
                let want = correlate2d(&x2, &k2, &one_row).unwrap().index_axis_move(Axis(0), 0);
                let got = correlate1d(&x, &k, &options).unwrap();
                if got.len() >= 2 * PART_OUTPUTS {
                    assert_eq!(got, want, "{options:?}");
                }
                let want = convolve2d(&x2, &k2, &one_row).unwrap().index_axis_move(Axis(0), 0);
                assert_eq!(convolve1d(&x, &k, &options).unwrap(), want, "{options:?}");
                // Into a strided output.
                let mut strided = Array1::zeros(2 * want.len());
                let mut view = strided.slice_mut(s![..;2]);
                convolve1d_into(&x, &k, &options, &mut view).unwrap();
                assert_eq!(view, want);
            }
        }
        // Complex correlation conjugates the kernel in every part.
        let c = x.mapv(|v| Complex::new(v, 1.0 - v));
        let kc = k.mapv(|v| Complex::new(v, v / 2.0));
        let options = ConvOptions::new().padding(Padding::Same);
        let want = correlate2d(
            &c.view().insert_axis(Axis(0)),
            &kc.view().insert_axis(Axis(0)),
            &options,
        )
        .unwrap()
        .index_axis_move(Axis(0), 0);
        assert_eq!(correlate1d(&c, &kc, &options).unwrap(), want);
    }

    #[test]
    fn options_of_another_rank_are_refused() {
        let x = array![[[1.0f32, 2.0, 3.0]]];
        let w = array![[[1.0f32, 1.0]]];
        for (options, option, given) in [
            (ConvOptions::new().strides(1, 2), "stride", 2),
            (ConvOptions::new().dilations(1, 2), "dilation", 2),
            (ConvOptions::new().padding(Padding::uniform(1)), "padding", 2),
        ] {
            let want = Error::OptionRank { option, given, call: 1 };
            assert_eq!(conv1d(&x, &w, None, &options).unwrap_err(), want);
            assert_eq!(
                correlate1d(&array![1.0, 2.0], &array![1.0], &options).unwrap_err(),
                want
            );
        }
        let transposed = ConvOptions::new().stride(2).output_paddings(0, 1);
        assert_eq!(
            conv_transpose1d(&x, &w, None, &transposed),
            Err(Error::OptionRank {
                option: "output padding",
                given: 2,
                call: 1
            })
        );
        // Per-axis values given for every axis serve 1-D calls.
        assert_eq!(ConvOptions::new().stride(3).stride, PerAxis::All(3));
    }
}
