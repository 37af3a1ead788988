//! Batched NCHW convolution with PyTorch's semantics: [`conv2d`],
//! [`conv2d_into`] and [`conv2d_algorithm`].

use ndarray::{Array4, ArrayRef1, ArrayRef4};

use super::element::Element;
use super::kernels::execute;
use super::planner::{self, Shapes};
use super::problem::{check_shape, zeros, Problem};
use crate::error::Result;
use crate::options::{Algorithm, ConvOptions};
use crate::shape::{batched_geometry, batched_output_shape};

/// Batched, multi-channel convolution of NCHW images, as PyTorch's
/// `torch.nn.functional.conv2d` computes it (cross-correlation, no
/// conjugation), with the padding filled by `options.boundary` (PyTorch's
/// `padding_mode`).
///
/// With `G = options.groups`, input `[N, C, H, W]`, weight
/// `[O, C/G, kh, kw]` and output `[N, O, Ho, Wo]`, output channel `o`
/// belongs to group `g = o / (O/G)` and sees only input channels
/// `g·C/G .. (g+1)·C/G`:
///
/// ```text
/// y[n, o, i, j] = bias[o] + Σ_c Σ_a Σ_b  x̃[n, g·C/G + c, i·sh + a·dh − top, j·sw + b·dw − left] · w[o, c, a, b]
///
///   input channels   c0 c1 | c2 c3        groups = 2
///   weights          o0 o1 | o2 o3        o0, o1 read c0, c1; o2, o3 read c2, c3
/// ```
///
/// A kernel that does not fit in the padded input is an error, as in
/// PyTorch; an empty batch (`N = 0`) gives an empty output.
///
/// # Errors
///
/// Those of [`crate::shape::conv2d_output_shape`] (stride, dilation, empty
/// kernel or input, groups, weight channels, kernel too large, overflow),
/// and [`Error::BiasLength`](crate::Error::BiasLength) if the bias does not have `O` elements.
///
/// # Examples
///
/// ```
/// use convolve::{conv2d, ConvOptions, Padding};
/// use ndarray::{array, Array, Array4};
///
/// // Two 3×3 images of ones, one channel, through a 2×2 box filter with bias 0.5.
/// let x = Array4::<f32>::ones((2, 1, 3, 3));
/// let w = Array4::<f32>::ones((1, 1, 2, 2));
/// let y = conv2d(&x, &w, Some(&array![0.5]), &ConvOptions::new())?;
/// assert_eq!(y.shape(), [2, 1, 2, 2]);
/// assert!(y.iter().all(|&v| v == 4.5));
///
/// // The tutorial's layer: 224×224×3 through 96 kernels of 11×11 at stride 4.
/// let x = Array4::<f32>::zeros((1, 3, 224, 224));
/// let w = Array4::<f32>::zeros((96, 3, 11, 11));
/// assert_eq!(conv2d(&x, &w, None, &ConvOptions::new().stride(4))?.shape(), [1, 96, 54, 54]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d<A: Element>(
    input: &ArrayRef4<A>,
    weight: &ArrayRef4<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
) -> Result<Array4<A>> {
    let (problem, shape) = Problem::batched(input.view(), weight.view(), bias.map(|b| b.view()), options)?;
    let mut out = zeros("the output", shape)?;
    execute(&problem, options.algorithm, out.view_mut());
    Ok(out)
}

/// [`conv2d`] into a caller's array of the output's shape (any layout);
/// allocates nothing.
///
/// # Errors
///
/// Those of [`conv2d`], and [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out` does not have
/// the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv2d_into, ConvOptions};
/// use ndarray::Array4;
///
/// let x = Array4::<f64>::ones((1, 2, 4, 4));
/// let w = Array4::<f64>::ones((3, 2, 3, 3));
/// let mut out = Array4::zeros((1, 3, 2, 2));
/// conv2d_into(&x, &w, None, &ConvOptions::new(), &mut out)?;
/// assert!(out.iter().all(|&v| v == 18.0));
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d_into<A: Element>(
    input: &ArrayRef4<A>,
    weight: &ArrayRef4<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
    out: &mut ArrayRef4<A>,
) -> Result<()> {
    let (problem, shape) = Problem::batched(input.view(), weight.view(), bias.map(|b| b.view()), options)?;
    check_shape("the output", &shape, out.shape())?;
    execute(&problem, options.algorithm, out.view_mut());
    Ok(())
}

/// The algorithm that [`conv2d`] will run for these shapes and options,
/// without running it.
///
/// # Errors
///
/// Those of [`conv2d`] for these shapes (bias aside).
///
/// # Examples
///
/// ```
/// use convolve::{conv2d_algorithm, Algorithm, ConvOptions, Padding};
///
/// let opts = ConvOptions::new().padding(Padding::uniform(1));
/// // A ResNet 3×3 layer runs Winograd's algorithm (on finite data of
/// // ordinary magnitudes, which this function assumes), at stride 2 a
/// // matrix product; its depthwise cousin neither.
/// assert_eq!(conv2d_algorithm::<f32>([8, 64, 56, 56], [64, 64, 3, 3], &opts)?, Algorithm::Winograd);
/// assert_eq!(conv2d_algorithm::<f32>([8, 64, 56, 56], [64, 64, 3, 3], &opts.stride(2))?, Algorithm::Gemm);
/// let depthwise = opts.groups(128);
/// assert_eq!(conv2d_algorithm::<f32>([8, 128, 56, 56], [128, 1, 3, 3], &depthwise)?, Algorithm::Vectorized);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d_algorithm<A: Element>(input: [usize; 4], weight: [usize; 4], options: &ConvOptions) -> Result<Algorithm> {
    let geometry = batched_geometry(input, weight, options)?;
    batched_output_shape(input[0], weight[0], &geometry)?;
    let shapes = Shapes {
        images: input[0],
        geometry,
        groups: options.groups,
        channels_per_group: weight[1],
        out_channels: weight[0],
    };
    Ok(planner::choose::<A>(options.algorithm, &shapes, || true, || false).algorithm)
}
