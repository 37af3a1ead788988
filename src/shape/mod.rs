//! Output-size arithmetic: every length a convolution produces, computed
//! once, overflow-checked, and never panicking.
//!
//! Along one axis, an input of length `n` padded with `lo` elements before
//! and `hi` after, scanned by a kernel of length `k` whose taps are
//! `dilation` apart, moved `stride` elements at a time, gives
//!
//! ```text
//! out = floor((n + lo + hi - dilation*(k-1) - 1) / stride) + 1
//! ```
//!
//! outputs. [`AxisGeometry`] holds those six numbers by name, so they
//! cannot be swapped by accident, and [`AxisGeometry::output_len`] applies
//! the formula.
//!
//! ```text
//!   padding lo      input (n = 7)     padding hi
//!   [ 0  0 ][ x0 x1 x2 x3 x4 x5 x6 ][ 0  0 ]
//!    k0 .  k1 .  k2                          first window (dilation 2)
//!          k0 .  k1 .  k2                    second window (stride 2)
//! ```
//!
//! # Examples
//!
//! The question from the tutorial this crate grew out of: a 224×224×3 image
//! through 96 kernels of 11×11 at stride 4 with no padding.
//!
//! ```
//! use convolve::shape::{conv2d_output_shape, AxisGeometry};
//! use convolve::ConvOptions;
//!
//! // One axis: (224 - 11) / 4 + 1 = 54.
//! assert_eq!(AxisGeometry::new(224, 11).stride(4).output_len()?, 54);
//!
//! // A batch of 8 images in NCHW layout: [8, 3, 224, 224] through [96, 3, 11, 11].
//! let opts = ConvOptions::new().stride(4);
//! assert_eq!(conv2d_output_shape([8, 3, 224, 224], [96, 3, 11, 11], &opts)?, [8, 96, 54, 54]);
//! # Ok::<(), convolve::Error>(())
//! ```

mod axis;
mod receptive;

/// Re-exported here too, where the padding arithmetic lives.
pub use crate::options::Padding;
pub use axis::{AxisGeometry, Operation};
pub use receptive::{receptive_fields, Layer, ReceptiveField};

use crate::error::{Axis, Error, Result};
use crate::options::ConvOptions;

/// The output shape `[N, O, Ho, Wo]` of a batched convolution of an input
/// `[N, C, H, W]` with weights `[O, C / groups, kh, kw]`, as
/// [`conv2d`](crate::conv2d) computes it.
///
/// # Errors
///
/// Every error of [`AxisGeometry::output_len`] (with the axis named),
/// [`Error::EmptyInput`] for `H == 0` or `W == 0`, [`Error::ZeroGroups`],
/// [`Error::GroupsMismatch`] if `groups` does not divide `C` or `O`,
/// [`Error::WeightChannels`] if the weight's second axis is not `C / groups`,
/// and [`Error::Overflow`] if the output's element count does not fit.
///
/// # Examples
///
/// ```
/// use convolve::shape::conv2d_output_shape;
/// use convolve::{ConvOptions, Padding};
///
/// // ResNet's 3×3 layer keeps 56×56 with padding 1.
/// let opts = ConvOptions::new().padding(Padding::uniform(1));
/// assert_eq!(conv2d_output_shape([8, 64, 56, 56], [64, 64, 3, 3], &opts)?, [8, 64, 56, 56]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d_output_shape(input: [usize; 4], weight: [usize; 4], options: &ConvOptions) -> Result<[usize; 4]> {
    let geometry = batched_geometry(input, weight, options)?;
    batched_output_shape(input[0], weight[0], &geometry)
}

/// `Err` unless `groups` is at least 1 and divides `channels`, the
/// `what` ("input" or "output") channels.
pub(crate) fn check_groups(groups: usize, channels: usize, what: &'static str) -> Result<()> {
    if groups == 0 {
        return Err(Error::ZeroGroups);
    }
    if channels % groups != 0 {
        return Err(Error::GroupsMismatch { groups, channels, what });
    }
    Ok(())
}

/// The spatial geometry of a batched convolution of an input
/// `[N, C, H, W]` with weights `[O, C / groups, kh, kw]`, after checking
/// the groups and the weight's channels: the one validation of a batched
/// problem's shapes.
pub(crate) fn batched_geometry(
    input: [usize; 4],
    weight: [usize; 4],
    options: &ConvOptions,
) -> Result<[AxisGeometry; 2]> {
    let [_, c, h, w] = input;
    let [o, cg, kh, kw] = weight;
    let groups = options.groups;
    check_groups(groups, c, "input")?;
    check_groups(groups, o, "output")?;
    if cg != c / groups {
        return Err(Error::WeightChannels {
            expected: c / groups,
            got: cg,
        });
    }
    spatial_geometry([h, w], [kh, kw], options, Operation::CrossCorrelation)
}

/// `[N, O, Ho, Wo]` for `images` images, `out_channels` channels and the
/// output lengths of `geometry`, its element count checked.
pub(crate) fn batched_output_shape(
    images: usize,
    out_channels: usize,
    geometry: &[AxisGeometry; 2],
) -> Result<[usize; 4]> {
    let shape = [
        images,
        out_channels,
        geometry[0].output_len()?,
        geometry[1].output_len()?,
    ];
    checked_len(&shape)?;
    Ok(shape)
}

/// The output shape `[N, groups · C_out/groups, Ho, Wo]` of a transposed
/// convolution of an input `[N, C_in, H, W]` with weights
/// `[C_in, C_out / groups, kh, kw]`, as
/// [`conv_transpose2d`](crate::conv_transpose2d) computes it (PyTorch's
/// `conv_transpose2d`):
/// `Ho = (H − 1)·sh − top − bottom + dh·(kh − 1) + output_padding + 1`.
///
/// # Errors
///
/// Those of [`AxisGeometry::transposed_output_len`] (with the axis named),
/// [`Error::ZeroGroups`], [`Error::GroupsMismatch`] if `groups` does not
/// divide `C_in`, [`Error::TransposedWeight`] if the weight's first axis is
/// not `C_in`, [`Error::Unsupported`] for [`Padding::Same`], and
/// [`Error::Overflow`].
///
/// # Examples
///
/// ```
/// use convolve::shape::conv_transpose2d_output_shape;
/// use convolve::{ConvOptions, Padding};
///
/// // Upsampling 28×28 by 2 with a 4×4 kernel and padding 1: 56×56.
/// let opts = ConvOptions::new().stride(2).padding(Padding::uniform(1));
/// assert_eq!(conv_transpose2d_output_shape([1, 64, 28, 28], [64, 32, 4, 4], &opts)?, [1, 32, 56, 56]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose2d_output_shape(
    input: [usize; 4],
    weight: [usize; 4],
    options: &ConvOptions,
) -> Result<[usize; 4]> {
    let [out_h, out_w] = transposed_geometry(input, weight, options)?.map(|g| g.input);
    let shape = [
        input[0],
        options.groups.checked_mul(weight[1]).ok_or(Error::Overflow {
            what: "the output channels",
        })?,
        out_h,
        out_w,
    ];
    checked_len(&shape)?;
    Ok(shape)
}

/// The forward geometry whose input gradient a transposed convolution
/// computes: its `input` lengths are the transposed convolution's output.
pub(crate) fn transposed_geometry(
    input: [usize; 4],
    weight: [usize; 4],
    options: &ConvOptions,
) -> Result<[AxisGeometry; 2]> {
    let [_, c_in, h, w] = input;
    check_groups(options.groups, c_in, "input")?;
    if weight[0] != c_in {
        return Err(Error::TransposedWeight {
            expected: c_in,
            got: weight[0],
        });
    }
    if options.padding == Padding::Same {
        return Err(Error::Unsupported {
            what: "Padding::Same in a transposed convolution",
        });
    }
    let axis_geometry = |i: usize| -> Result<AxisGeometry> {
        let g = unpadded_axis(i, [h, w][i], weight[2 + i], options);
        let g = options.padding.resolve(g, Operation::CrossCorrelation)?;
        let len = g.transposed_output_len(options.output_padding[i])?;
        Ok(AxisGeometry { input: len, ..g })
    };
    Ok([axis_geometry(0)?, axis_geometry(1)?])
}

/// Resolves stride, dilation and padding of `options` for both spatial
/// axes, rejecting empty inputs and kernels.
pub(crate) fn spatial_geometry(
    input: [usize; 2],
    kernel: [usize; 2],
    options: &ConvOptions,
    operation: Operation,
) -> Result<[AxisGeometry; 2]> {
    let axis_geometry = |i: usize| -> Result<AxisGeometry> {
        let g = unpadded_axis(i, input[i], kernel[i], options);
        g.kernel_extent()?;
        if input[i] == 0 {
            return Err(Error::EmptyInput { axis: g.axis });
        }
        options.padding.resolve(g, operation)
    };
    Ok([axis_geometry(0)?, axis_geometry(1)?])
}

/// Spatial axis `i` (0 for rows, 1 for columns) of `input` elements and a
/// `kernel`-tap kernel with the stride and dilation of `options`, before
/// any padding.
fn unpadded_axis(i: usize, input: usize, kernel: usize, options: &ConvOptions) -> AxisGeometry {
    AxisGeometry::new(input, kernel)
        .along([Axis::Height, Axis::Width][i])
        .stride(options.stride[i])
        .dilation(options.dilation[i])
}

/// The element count of `shape`, checked against `usize` and against
/// ndarray's limit of `isize::MAX` elements.
///
/// ndarray also requires the product of the nonzero lengths to stay within
/// `isize::MAX` (an array `[0, huge, huge]` is refused though it holds no
/// element), so that product is checked too.
pub(crate) fn checked_len(shape: &[usize]) -> Result<usize> {
    let overflow = Error::Overflow {
        what: "the number of output elements",
    };
    let nonzero = shape
        .iter()
        .filter(|&&len| len != 0)
        .try_fold(1usize, |acc, &len| acc.checked_mul(len))
        .filter(|&len| len <= isize::MAX as usize);
    if nonzero.is_none() {
        return Err(overflow);
    }
    Ok(if shape.contains(&0) { 0 } else { nonzero.unwrap_or(0) })
}
