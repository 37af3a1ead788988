//! The 3-D entry points: scipy's `correlate`/`convolve` on 3-D arrays
//! ([`correlate3d`], [`convolve3d`]) and PyTorch's `conv3d`, its gradients
//! and `conv_transpose3d` ([`conv3d`], [`conv3d_backward`],
//! [`conv_transpose3d`]).
//!
//! A 3-D call checks its arguments once over its three axes (the same
//! per-axis geometry, scipy rules and error values as the other ranks),
//! then runs as the sum over its depth taps of 2-D problems of the one
//! engine (`depth`): every option of the rows and columns, every kernel
//! and the planner's choice are those of 2-D.

use ndarray::{Array3, Array5, ArrayRef1, ArrayRef3, ArrayRef5, ArrayView3, ArrayViewMut5, Axis};

use super::backward::{bias_gradient, Conv3dGrads, Conv3dGradsMut};
use super::depth::{input_gradient, Volume};
use super::element::{Element, Float};
use super::planner::{self, Shapes};
use super::problem::{check_bias, check_bytes, check_shape, zeros};
use super::single_channel::resolve;
use crate::error::Result;
use crate::options::{Algorithm, ConvOptions};
use crate::shape::{transposed_volume, volume_geometry, Operation};

/// The shape of a 3-D array as a fixed-size array.
fn dims3(shape: &[usize]) -> [usize; 3] {
    [shape[0], shape[1], shape[2]]
}

/// The shape of a 5-D array as a fixed-size array.
fn dims5(shape: &[usize]) -> [usize; 5] {
    [shape[0], shape[1], shape[2], shape[3], shape[4]]
}

/// A single-channel 3-D call read as scipy reads it: the volume problem,
/// whether its output is read backwards (input and kernel swapped in
/// 'valid' mode), and whether it is then conjugated.
struct SingleVolume<'a, A: Element> {
    volume: Volume<'a, A>,
    reversed: bool,
    conjugated: bool,
}

impl<'a, A: Element> SingleVolume<'a, A> {
    fn new(
        input: ArrayView3<'a, A>,
        kernel: ArrayView3<'a, A>,
        options: &ConvOptions,
        operation: Operation,
    ) -> Result<Self> {
        let resolved = resolve::<A, 3>(dims3(input.shape()), dims3(kernel.shape()), options, operation)?;
        let (input, kernel) = if resolved.swap {
            (kernel, input)
        } else {
            (input, kernel)
        };
        let (kernel, conjugate_kernel) = match operation {
            Operation::CrossCorrelation => (kernel, true),
            Operation::Convolution => {
                let mut reversed = kernel;
                for axis in 0..3 {
                    reversed.invert_axis(Axis(axis));
                }
                (reversed, false)
            }
        };
        let correlation = operation == Operation::CrossCorrelation;
        Ok(SingleVolume {
            volume: Volume {
                input: input.insert_axis(Axis(0)).insert_axis(Axis(0)),
                weight: kernel.insert_axis(Axis(0)).insert_axis(Axis(0)),
                bias: None,
                conjugate_kernel,
                geometry: resolved.geometry,
                groups: 1,
                boundary: options.boundary,
                fill: options.boundary.fill()?,
            },
            // Convolution is commutative; a swapped correlation is read
            // backwards, and `scipy.signal.correlate` gives its conjugate.
            reversed: resolved.swap && correlation,
            conjugated: resolved.swap && correlation && A::COMPLEX,
        })
    }

    fn output_shape(&self) -> [usize; 3] {
        self.volume.geometry.map(|g| g.output_len().unwrap_or(0))
    }

    fn run_into(self, algorithm: Algorithm, out: &mut ArrayRef3<A>) -> Result<()> {
        check_shape("the output", &self.output_shape(), out.shape())?;
        let mut view = out.view_mut();
        if self.reversed {
            for axis in 0..3 {
                view.invert_axis(Axis(axis));
            }
        }
        self.volume
            .run(algorithm, view.insert_axis(Axis(0)).insert_axis(Axis(0)))?;
        if self.conjugated {
            out.map_inplace(|v| *v = v.conj());
        }
        Ok(())
    }

    fn run(self, algorithm: Algorithm) -> Result<Array3<A>> {
        let mut out = zeros("the output", self.output_shape())?;
        self.run_into(algorithm, &mut out)?;
        Ok(out)
    }
}

/// The 3-D cross-correlation of `input` with `kernel`:
/// `scipy.signal.correlate` on 3-D arrays, with every option of
/// [`correlate2d`](crate::correlate2d) along the three axes (planes, rows,
/// columns).
///
/// ```text
/// y[p, i, j] = Σ_a Σ_b Σ_c  x̃[p·sd + a·dd − front, i·sh + b·dh − top, j·sw + c·dw − left] · conj(k[a, b, c])
/// ```
///
/// `Padding::Same` keeps the crate's one rule (the smaller half of an odd
/// total padding before the input); `docs/conventions.md` shows where
/// scipy differs for even kernels. In `Valid` mode (stride and dilation 1)
/// a kernel at least as large as the input along every axis swaps roles
/// with it, as in scipy (for complex elements the result is conjugated, as
/// `scipy.signal.correlate` gives it); larger along some axes only is
/// [`Error::ValidShapeMismatch`](crate::Error::ValidShapeMismatch).
///
/// # Errors
///
/// Those of [`correlate2d`](crate::correlate2d), about the three axes
/// ([`Axis::Depth`](crate::Axis::Depth) for the planes), and
/// [`Error::OptionRank`](crate::Error::OptionRank) for options given per
/// axis or per side for calls of another rank.
///
/// # Examples
///
/// ```
/// use convolve::{correlate3d, ConvOptions, Padding};
/// use ndarray::{Array3, array};
///
/// // The sum over each 2×2×2 cube of a 3×3×3 volume of ones.
/// let x = Array3::<f64>::ones((3, 3, 3));
/// let y = correlate3d(&x, &Array3::ones((2, 2, 2)), &ConvOptions::new())?;
/// assert_eq!(y, Array3::from_elem((2, 2, 2), 8.0));
/// // A difference between consecutive planes, zero beyond the last.
/// let x = Array3::from_shape_fn((3, 1, 1), |(p, _, _)| (p * p) as f64);
/// let k = array![[[-1.0]], [[1.0]]];
/// let y = correlate3d(&x, &k, &ConvOptions::new().padding(Padding::Same))?;
/// assert_eq!(y.into_raw_vec_and_offset().0, [1.0, 3.0, -4.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn correlate3d<A: Element>(
    input: &ArrayRef3<A>,
    kernel: &ArrayRef3<A>,
    options: &ConvOptions,
) -> Result<Array3<A>> {
    SingleVolume::new(input.view(), kernel.view(), options, Operation::CrossCorrelation)?.run(options.algorithm)
}

/// [`correlate3d`] into `out`, which must have the output's shape (any
/// layout).
///
/// # Errors
///
/// Those of [`correlate3d`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out` has
/// another shape.
///
/// # Examples
///
/// ```
/// use convolve::{correlate3d_into, ConvOptions};
/// use ndarray::Array3;
///
/// let mut y = Array3::zeros((1, 1, 2));
/// correlate3d_into(&Array3::<i32>::ones((2, 2, 3)), &Array3::ones((2, 2, 2)), &ConvOptions::new(), &mut y)?;
/// assert_eq!(y, Array3::from_elem((1, 1, 2), 8));
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn correlate3d_into<A: Element>(
    input: &ArrayRef3<A>,
    kernel: &ArrayRef3<A>,
    options: &ConvOptions,
    out: &mut ArrayRef3<A>,
) -> Result<()> {
    SingleVolume::new(input.view(), kernel.view(), options, Operation::CrossCorrelation)?
        .run_into(options.algorithm, out)
}

/// The 3-D convolution of `input` with `kernel` (the kernel reversed along
/// its three axes): `scipy.signal.convolve` on 3-D arrays, with every
/// option of [`correlate3d`].
///
/// # Errors
///
/// Those of [`correlate3d`].
///
/// # Examples
///
/// ```
/// use convolve::{convolve3d, ConvOptions, Padding};
/// use ndarray::Array3;
///
/// // A delta at the kernel's last plane delays the volume by one plane.
/// let x = Array3::from_shape_fn((3, 2, 2), |(p, i, j)| (p * 4 + i * 2 + j) as f64);
/// let mut k = Array3::zeros((2, 1, 1));
/// k[[1, 0, 0]] = 1.0;
/// let y = convolve3d(&x, &k, &ConvOptions::new().padding(Padding::Full))?;
/// assert_eq!(y.shape(), [4, 2, 2]);
/// assert_eq!(y[[1, 1, 1]], x[[0, 1, 1]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn convolve3d<A: Element>(input: &ArrayRef3<A>, kernel: &ArrayRef3<A>, options: &ConvOptions) -> Result<Array3<A>> {
    SingleVolume::new(input.view(), kernel.view(), options, Operation::Convolution)?.run(options.algorithm)
}

/// [`convolve3d`] into `out`, which must have the output's shape (any
/// layout).
///
/// # Errors
///
/// Those of [`correlate3d_into`].
///
/// # Examples
///
/// ```
/// use convolve::{convolve3d_into, ConvOptions};
/// use ndarray::{array, Array3};
///
/// let mut y = Array3::zeros((1, 1, 1));
/// convolve3d_into(&array![[[1, 2]], [[3, 4]]], &array![[[1, 0]], [[0, 0]]], &ConvOptions::new(), &mut y)?;
/// assert_eq!(y[[0, 0, 0]], 4);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn convolve3d_into<A: Element>(
    input: &ArrayRef3<A>,
    kernel: &ArrayRef3<A>,
    options: &ConvOptions,
    out: &mut ArrayRef3<A>,
) -> Result<()> {
    SingleVolume::new(input.view(), kernel.view(), options, Operation::Convolution)?.run_into(options.algorithm, out)
}

/// A batched 3-D problem (PyTorch's `conv3d`), checked, and its output
/// shape.
fn batched<'a, A: Element>(
    input: &'a ArrayRef5<A>,
    weight: &'a ArrayRef5<A>,
    bias: Option<&'a ArrayRef1<A>>,
    options: &ConvOptions,
) -> Result<(Volume<'a, A>, [usize; 5])> {
    let (geometry, shape) = volume_geometry(dims5(input.shape()), dims5(weight.shape()), options)?;
    check_bias(bias.map(|b| b.len()), shape[1])?;
    check_bytes::<A>(&shape)?;
    let volume = Volume {
        input: input.view(),
        weight: weight.view(),
        bias: bias.map(|b| b.view()),
        conjugate_kernel: false,
        geometry,
        groups: options.groups,
        boundary: options.boundary,
        fill: options.boundary.fill()?,
    };
    Ok((volume, shape))
}

/// Batched multi-channel 3-D convolution as in PyTorch's `conv3d`
/// (cross-correlation): `input` `[N, C, D, H, W]`, `weight`
/// `[O, C / groups, kd, kh, kw]`, an optional `bias` of `O` values, output
/// `[N, O, Do, Ho, Wo]`
/// ([`conv3d_output_shape`](crate::shape::conv3d_output_shape)). Every
/// option of [`conv2d`](crate::conv2d) applies along the three axes: one
/// value for all of them ([`ConvOptions::stride`]) or one per axis
/// ([`ConvOptions::strides3d`], [`Padding::Explicit3d`](crate::Padding::Explicit3d)).
///
/// # Errors
///
/// Those of [`conv2d`](crate::conv2d), about the three axes, and
/// [`Error::OptionRank`](crate::Error::OptionRank) for options given per
/// axis or per side for calls of another rank.
///
/// # Examples
///
/// ```
/// use convolve::{conv3d, ConvOptions, Padding};
/// use ndarray::{array, Array5};
///
/// // Two frames of 4×4 ones, one channel, through two 2×3×3 filters
/// // (a box, and a box with bias 1), padding 1 in space only.
/// let x = Array5::<f32>::ones((1, 1, 2, 4, 4));
/// let w = Array5::<f32>::ones((2, 1, 2, 3, 3));
/// let opts = ConvOptions::new().padding(Padding::Explicit3d { front: 0, back: 0, top: 1, bottom: 1, left: 1, right: 1 });
/// let y = conv3d(&x, &w, Some(&array![0.0, 1.0]), &opts)?;
/// assert_eq!(y.shape(), [1, 2, 1, 4, 4]);
/// assert_eq!(y[[0, 0, 0, 0, 0]], 8.0); // a corner sees 2×2 of each frame
/// assert_eq!(y[[0, 1, 0, 1, 1]], 19.0); // inside: 2·9 + 1
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv3d<A: Element>(
    input: &ArrayRef5<A>,
    weight: &ArrayRef5<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
) -> Result<Array5<A>> {
    let (volume, shape) = batched(input, weight, bias, options)?;
    let mut out = zeros("the output", shape)?;
    volume.run(options.algorithm, out.view_mut())?;
    Ok(out)
}

/// [`conv3d`] into `out` (`[N, O, Do, Ho, Wo]`, any layout).
///
/// # Errors
///
/// Those of [`conv3d`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out` does not
/// have the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv3d_into, ConvOptions};
/// use ndarray::Array5;
///
/// let mut y = Array5::zeros((1, 3, 1, 2, 2));
/// conv3d_into(&Array5::<f64>::ones((1, 2, 2, 3, 3)), &Array5::ones((3, 2, 2, 2, 2)), None, &ConvOptions::new(), &mut y)?;
/// assert!(y.iter().all(|&v| v == 16.0));
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv3d_into<A: Element>(
    input: &ArrayRef5<A>,
    weight: &ArrayRef5<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
    out: &mut ArrayRef5<A>,
) -> Result<()> {
    let (volume, shape) = batched(input, weight, bias, options)?;
    check_shape("the output", &shape, out.shape())?;
    volume.run(options.algorithm, out.view_mut())
}

/// The algorithm each depth tap of [`conv3d`] runs for these shapes and
/// options with finite data (a 3-D convolution is a sum of 2-D problems
/// over its depth taps), without running it.
///
/// # Errors
///
/// Those of [`conv3d_output_shape`](crate::shape::conv3d_output_shape).
///
/// # Examples
///
/// ```
/// use convolve::{conv3d_algorithm, Algorithm, ConvOptions, Padding};
///
/// let opts = ConvOptions::new().padding(Padding::uniform3d(1));
/// assert_eq!(conv3d_algorithm::<f32>([2, 32, 16, 56, 56], [32, 32, 3, 3, 3], &opts)?, Algorithm::Gemm);
/// let depthwise = opts.groups(32);
/// assert_eq!(conv3d_algorithm::<f32>([2, 32, 16, 56, 56], [32, 1, 3, 3, 3], &depthwise)?, Algorithm::Vectorized);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv3d_algorithm<A: Element>(input: [usize; 5], weight: [usize; 5], options: &ConvOptions) -> Result<Algorithm> {
    let ([_, rows, cols], _) = volume_geometry(input, weight, options)?;
    let shapes = Shapes {
        images: input[0],
        geometry: [rows, cols],
        groups: options.groups,
        channels_per_group: weight[1],
        out_channels: weight[0],
    };
    Ok(planner::choose::<A>(options.algorithm, &shapes, || true, || false).algorithm)
}

/// The gradients of [`conv3d`] (without bias) at `input` and `weight`,
/// given `grad_output = ∂L/∂y` (`[N, O, Do, Ho, Wo]`): `∂L/∂x`, `∂L/∂w`
/// and `∂L/∂b`, as PyTorch's autograd computes them, with every option and
/// boundary rule (the padding's gradient folded back onto the values it
/// copied, along the planes as along rows and columns) as in
/// [`conv2d_backward`](crate::conv2d_backward).
///
/// # Errors
///
/// Those of [`conv3d`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `grad_output`
/// does not have the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv3d_backward, ConvOptions};
/// use ndarray::Array5;
///
/// // y = the sum of a 2×2×2 volume; ∂L/∂y = 1.
/// let x = Array5::from_shape_fn((1, 1, 2, 2, 2), |(_, _, p, i, j)| (p * 4 + i * 2 + j) as f64);
/// let w = Array5::from_elem((1, 1, 2, 2, 2), 3.0);
/// let g = conv3d_backward(&x, &w, &Array5::ones((1, 1, 1, 1, 1)), &ConvOptions::new())?;
/// assert_eq!(g.input, w); // ∂y/∂x = w
/// assert_eq!(g.weight, x); // ∂y/∂w = x
/// assert_eq!(g.bias[0], 1.0);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv3d_backward<A: Float>(
    input: &ArrayRef5<A>,
    weight: &ArrayRef5<A>,
    grad_output: &ArrayRef5<A>,
    options: &ConvOptions,
) -> Result<Conv3dGrads<A>> {
    let mut grads = Conv3dGrads::zeros(input.raw_dim(), weight.raw_dim())?;
    conv3d_backward_into(input, weight, grad_output, options, grads.views_mut())?;
    Ok(grads)
}

/// [`conv3d_backward`] into `grads` (any subset, any layout); gradients
/// left `None` are not computed.
///
/// # Errors
///
/// Those of [`conv3d_backward`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if a requested
/// gradient does not have its array's shape (then nothing is written).
///
/// # Examples
///
/// ```
/// use convolve::{conv3d_backward_into, Conv3dGradsMut, ConvOptions};
/// use ndarray::{array, Array1, Array5};
///
/// let x = Array5::<f32>::ones((2, 1, 3, 2, 2));
/// let w = Array5::<f32>::ones((4, 1, 3, 2, 2));
/// let mut db = Array1::<f32>::zeros(4);
/// let grads = Conv3dGradsMut { bias: Some(db.view_mut()), ..Conv3dGradsMut::none() };
/// conv3d_backward_into(&x, &w, &Array5::ones((2, 4, 1, 1, 1)), &ConvOptions::new(), grads)?;
/// assert_eq!(db, array![2.0, 2.0, 2.0, 2.0]); // one output per image
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv3d_backward_into<A: Float>(
    input: &ArrayRef5<A>,
    weight: &ArrayRef5<A>,
    grad_output: &ArrayRef5<A>,
    options: &ConvOptions,
    grads: Conv3dGradsMut<'_, A>,
) -> Result<()> {
    let (volume, shape) = batched(input, weight, None, options)?;
    check_shape("the output gradient", &shape, grad_output.shape())?;
    grads.check(input.shape(), weight.shape())?;
    let grad_output = grad_output.view();
    if let Some(dx) = grads.input {
        input_gradient(volume.weight, volume.geometry, grad_output, options, dx)?;
    }
    if let Some(dw) = grads.weight {
        volume.weight_gradient(grad_output, options.algorithm, dw)?;
    }
    if let Some(db) = grads.bias {
        bias_gradient(grad_output, db);
    }
    Ok(())
}

/// The 3-D transposed convolution of PyTorch's `conv_transpose3d`:
/// `input` `[N, C_in, D, H, W]`, `weight` `[C_in, C_out / groups, kd, kh, kw]`,
/// an optional `bias` of `C_out` values, output `[N, C_out, Do, Ho, Wo]`
/// ([`conv_transpose3d_output_shape`](crate::shape::conv_transpose3d_output_shape)),
/// with stride, padding, dilation, groups and output padding along the
/// three axes as [`conv_transpose2d`](crate::conv_transpose2d) has them
/// along two. It is the input gradient of [`conv3d`].
///
/// # Errors
///
/// Those of [`conv_transpose2d`](crate::conv_transpose2d), about the three
/// axes, and [`Error::OptionRank`](crate::Error::OptionRank) for options
/// given for calls of another rank.
///
/// # Examples
///
/// ```
/// use convolve::{conv_transpose3d, ConvOptions};
/// use ndarray::Array5;
///
/// // Each input value stamps a 2×2×2 cube of itself at stride 2: a
/// // nearest-neighbour upsampling of the volume.
/// let x = Array5::from_shape_fn((1, 1, 2, 2, 2), |(_, _, p, i, j)| (p * 4 + i * 2 + j) as f64);
/// let y = conv_transpose3d(&x, &Array5::ones((1, 1, 2, 2, 2)), None, &ConvOptions::new().stride(2))?;
/// assert_eq!(y.shape(), [1, 1, 4, 4, 4]);
/// assert_eq!(y[[0, 0, 3, 2, 1]], x[[0, 0, 1, 1, 0]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose3d<A: Float>(
    input: &ArrayRef5<A>,
    weight: &ArrayRef5<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
) -> Result<Array5<A>> {
    let (_, shape) = transposed_volume(dims5(input.shape()), dims5(weight.shape()), options)?;
    check_bytes::<A>(&shape)?;
    let mut out = zeros("the output", shape)?;
    conv_transpose3d_into(input, weight, bias, options, &mut out)?;
    Ok(out)
}

/// [`conv_transpose3d`] into `out` (`[N, C_out, Do, Ho, Wo]`, any layout).
///
/// # Errors
///
/// Those of [`conv_transpose3d`], and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out` does not
/// have the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv_transpose3d_into, ConvOptions};
/// use ndarray::{array, Array5};
///
/// let mut y = Array5::zeros((1, 1, 3, 1, 1));
/// conv_transpose3d_into(&array![[[[[1.0]], [[2.0]]]]], &Array5::ones((1, 1, 2, 1, 1)), None, &ConvOptions::new(), &mut y)?;
/// assert_eq!(y.into_raw_vec_and_offset().0, [1.0, 3.0, 2.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose3d_into<A: Float>(
    input: &ArrayRef5<A>,
    weight: &ArrayRef5<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
    out: &mut ArrayRef5<A>,
) -> Result<()> {
    let (geometry, shape) = transposed_volume(dims5(input.shape()), dims5(weight.shape()), options)?;
    check_bias(bias.map(|b| b.len()), shape[1])?;
    check_shape("the output", &shape, out.shape())?;
    input_gradient(weight.view(), geometry, input.view(), options, out.view_mut())?;
    if let Some(bias) = bias {
        add_bias(out.view_mut(), bias);
    }
    Ok(())
}

/// Adds `bias[o]` to every value of output channel `o`.
fn add_bias<A: Element>(mut out: ArrayViewMut5<'_, A>, bias: &ArrayRef1<A>) {
    for (mut channel, &b) in out.axis_iter_mut(Axis(1)).zip(bias) {
        channel.mapv_inplace(|v| v.plus(b));
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Array4};

    use super::*;
    use crate::conv::{conv1d, conv2d, correlate2d};
    use crate::error::{Axis as Named, Error};
    use crate::options::{Padding, PerAxis};

    #[test]
    fn errors_name_the_depth_axis() {
        let x = Array5::<f32>::zeros((1, 1, 2, 4, 4));
        let w = Array5::<f32>::zeros((1, 1, 3, 2, 2));
        assert_eq!(
            conv3d(&x, &w, None, &ConvOptions::new()),
            Err(Error::KernelTooLarge {
                axis: Named::Depth,
                kernel_extent: 3,
                padded_input: 2
            })
        );
        assert_eq!(
            conv3d(&x, &w, None, &ConvOptions::new().strides3d(0, 1, 1)),
            Err(Error::ZeroStride { axis: Named::Depth })
        );
        assert_eq!(
            correlate3d(
                &Array3::<f64>::zeros((0, 2, 2)),
                &Array3::ones((1, 1, 1)),
                &ConvOptions::new()
            ),
            Err(Error::EmptyInput { axis: Named::Depth })
        );
        assert_eq!(
            correlate3d(
                &Array3::<f64>::zeros((2, 3, 4)),
                &Array3::ones((3, 2, 5)),
                &ConvOptions::new()
            ),
            Err(Error::ValidShapeMismatch {
                input: vec![2, 3, 4],
                kernel: vec![3, 2, 5]
            })
        );
    }

    #[test]
    fn options_of_another_rank_are_refused() {
        let x = Array5::<f32>::zeros((1, 1, 4, 4, 4));
        let w = Array5::<f32>::zeros((1, 1, 2, 2, 2));
        for (options, option, given) in [
            (ConvOptions::new().strides(1, 2), "stride", 2),
            (ConvOptions::new().dilations(1, 2), "dilation", 2),
            (ConvOptions::new().padding(Padding::uniform(1)), "padding", 2),
            (
                ConvOptions::new().padding(Padding::Explicit1d { left: 1, right: 0 }),
                "padding",
                1,
            ),
        ] {
            let want = Error::OptionRank { option, given, call: 3 };
            assert_eq!(conv3d(&x, &w, None, &options).unwrap_err(), want);
            let single = correlate3d(&Array3::<f32>::zeros((3, 3, 3)), &Array3::ones((2, 2, 2)), &options);
            assert_eq!(single.unwrap_err(), want);
        }
        let transposed = ConvOptions::new().stride(2).output_paddings(0, 1);
        assert_eq!(
            conv_transpose3d(&x, &w, None, &transposed),
            Err(Error::OptionRank {
                option: "output padding",
                given: 2,
                call: 3
            })
        );
        // 3-D options in calls of the other ranks.
        let three = ConvOptions::new().strides3d(1, 1, 1);
        assert_eq!(
            conv2d(
                &Array4::<f32>::zeros((1, 1, 3, 3)),
                &Array4::zeros((1, 1, 2, 2)),
                None,
                &three
            ),
            Err(Error::OptionRank {
                option: "stride",
                given: 3,
                call: 2
            })
        );
        assert_eq!(
            conv1d(
                &Array3::<f32>::zeros((1, 1, 3)),
                &Array3::zeros((1, 1, 2)),
                None,
                &three
            ),
            Err(Error::OptionRank {
                option: "stride",
                given: 3,
                call: 1
            })
        );
        let padded = ConvOptions::new().padding(Padding::uniform3d(1));
        assert_eq!(
            correlate2d(&Array2::<f64>::zeros((3, 3)), &Array2::ones((2, 2)), &padded),
            Err(Error::OptionRank {
                option: "padding",
                given: 3,
                call: 2
            })
        );
        assert_eq!(ConvOptions::new().strides3d(1, 2, 3).stride, PerAxis::Three([1, 2, 3]));
    }

    #[test]
    fn shapes_and_output_are_checked_before_anything_is_written() {
        let x = Array5::<f64>::ones((1, 2, 3, 3, 3));
        let w = Array5::<f64>::ones((4, 2, 2, 2, 2));
        let mut out = Array5::from_elem((1, 4, 2, 2, 3), f64::NAN);
        assert_eq!(
            conv3d_into(&x, &w, None, &ConvOptions::new(), &mut out),
            Err(Error::ShapeMismatch {
                what: "the output",
                expected: vec![1, 4, 2, 2, 2],
                got: vec![1, 4, 2, 2, 3]
            })
        );
        assert!(out.iter().all(|v| v.is_nan()));
        assert_eq!(
            conv3d(&x, &w, Some(&ndarray::array![1.0, 2.0]), &ConvOptions::new()),
            Err(Error::BiasLength { expected: 4, got: 2 })
        );
        assert_eq!(
            conv3d(&x, &Array5::ones((4, 1, 2, 2, 2)), None, &ConvOptions::new()),
            Err(Error::WeightChannels { expected: 2, got: 1 })
        );
    }

    #[test]
    fn an_output_too_large_for_memory_is_an_error() {
        // 2^21 planes of 2^21 × 2^21 outputs: more elements than fit in
        // an address space.
        let x = Array5::<f32>::zeros((1, 1, 1, 1, 1));
        let w = Array5::<f32>::zeros((1, 1, 1, 1, 1));
        let huge = ConvOptions::new().padding(Padding::uniform3d(1 << 21));
        assert!(matches!(
            conv3d(&x, &w, None, &huge),
            Err(Error::Overflow { .. } | Error::OutOfMemory { .. })
        ));
    }
}
