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
use crate::options::{ConvOptions, PerAxis};

/// The output shape `[N, O, Lo]` of a batched 1-D convolution of an input
/// `[N, C, L]` with weights `[O, C / groups, k]`, as
/// [`conv1d`](crate::conv1d) computes it.
///
/// # Errors
///
/// Those of [`conv2d_output_shape`], about the [`Axis::Length`], and
/// [`Error::OptionRank`] for options given per axis or per side for 2-D
/// calls.
///
/// # Examples
///
/// ```
/// use convolve::shape::conv1d_output_shape;
/// use convolve::{ConvOptions, Padding};
///
/// // 16 000 samples, 9 taps, 'same': the length is kept.
/// let opts = ConvOptions::new().padding(Padding::Same);
/// assert_eq!(conv1d_output_shape([16, 64, 16000], [64, 64, 9], &opts)?, [16, 64, 16000]);
/// // Stride 2: ceil(16000 / 2) outputs.
/// assert_eq!(conv1d_output_shape([16, 64, 16000], [64, 64, 9], &opts.stride(2))?, [16, 64, 8000]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv1d_output_shape(input: [usize; 3], weight: [usize; 3], options: &ConvOptions) -> Result<[usize; 3]> {
    let [n, o, _, lo] = conv2d_output_shape(with_unit_rows(input), with_unit_rows(weight), &unit_rows(options)?)
        .map_err(along_length)?;
    Ok([n, o, lo])
}

/// The output shape `[N, C_out, Lo]` of a 1-D transposed convolution of an
/// input `[N, C_in, L]` with weights `[C_in, C_out / groups, k]`, as
/// [`conv_transpose1d`](crate::conv_transpose1d) computes it:
/// `Lo = (L − 1)·s − left − right + d·(k − 1) + output_padding + 1`.
///
/// # Errors
///
/// Those of [`conv_transpose2d_output_shape`], about the [`Axis::Length`],
/// and [`Error::OptionRank`] for options given for 2-D calls.
///
/// # Examples
///
/// ```
/// use convolve::shape::conv_transpose1d_output_shape;
/// use convolve::ConvOptions;
///
/// // Upsampling 100 samples by 2 with 4 taps: (100 − 1)·2 + 3 + 1 = 202.
/// let opts = ConvOptions::new().stride(2);
/// assert_eq!(conv_transpose1d_output_shape([1, 8, 100], [8, 4, 4], &opts)?, [1, 4, 202]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose1d_output_shape(
    input: [usize; 3],
    weight: [usize; 3],
    options: &ConvOptions,
) -> Result<[usize; 3]> {
    let [n, c, _, lo] =
        conv_transpose2d_output_shape(with_unit_rows(input), with_unit_rows(weight), &unit_rows(options)?)
            .map_err(along_length)?;
    Ok([n, c, lo])
}

/// The output shape `[N, O, Do, Ho, Wo]` of a batched 3-D convolution of
/// an input `[N, C, D, H, W]` with weights `[O, C / groups, kd, kh, kw]`,
/// as [`conv3d`](crate::conv3d) computes it.
///
/// # Errors
///
/// Those of [`conv2d_output_shape`], for the three axes
/// ([`Axis::Depth`], [`Axis::Height`], [`Axis::Width`]), and
/// [`Error::OptionRank`] for options given per axis or per side for calls
/// of another rank.
///
/// # Examples
///
/// ```
/// use convolve::shape::conv3d_output_shape;
/// use convolve::{ConvOptions, Padding};
///
/// // 16 frames of 56×56 through 3×3×3 kernels, padding 1: the size is kept.
/// let opts = ConvOptions::new().padding(Padding::uniform3d(1));
/// assert_eq!(conv3d_output_shape([2, 32, 16, 56, 56], [64, 32, 3, 3, 3], &opts)?, [2, 64, 16, 56, 56]);
/// // Stride 2 in time only.
/// assert_eq!(
///     conv3d_output_shape([2, 32, 16, 56, 56], [64, 32, 3, 3, 3], &opts.strides3d(2, 1, 1))?,
///     [2, 64, 8, 56, 56]
/// );
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv3d_output_shape(input: [usize; 5], weight: [usize; 5], options: &ConvOptions) -> Result<[usize; 5]> {
    volume_geometry(input, weight, options).map(|(_, shape)| shape)
}

/// The geometry (planes, rows, columns) and output shape of a batched 3-D
/// convolution: the one validation of its shapes.
pub(crate) fn volume_geometry(
    input: [usize; 5],
    weight: [usize; 5],
    options: &ConvOptions,
) -> Result<([AxisGeometry; 3], [usize; 5])> {
    let [n, c, d, h, w] = input;
    let [o, cg, kd, kh, kw] = weight;
    let geometry = grouped_geometry([c, o, cg], [d, h, w], [kd, kh, kw], options)?;
    let [depth, rows, cols] = geometry;
    let shape = [n, o, depth.output_len()?, rows.output_len()?, cols.output_len()?];
    checked_len(&shape)?;
    Ok((geometry, shape))
}

/// The output shape `[N, C_out, Do, Ho, Wo]` of a 3-D transposed
/// convolution of an input `[N, C_in, D, H, W]` with weights
/// `[C_in, C_out / groups, kd, kh, kw]`, as
/// [`conv_transpose3d`](crate::conv_transpose3d) computes it, each axis as
/// in [`conv_transpose2d_output_shape`].
///
/// # Errors
///
/// Those of [`conv_transpose2d_output_shape`], for the three axes, and
/// [`Error::OptionRank`] for options given for calls of another rank.
///
/// # Examples
///
/// ```
/// use convolve::shape::conv_transpose3d_output_shape;
/// use convolve::{ConvOptions, Padding};
///
/// // Doubling a 4×14×14 volume with 4×4×4 kernels, stride 2, padding 1.
/// let opts = ConvOptions::new().stride(2).padding(Padding::uniform3d(1));
/// assert_eq!(conv_transpose3d_output_shape([1, 64, 4, 14, 14], [64, 32, 4, 4, 4], &opts)?, [1, 32, 8, 28, 28]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose3d_output_shape(
    input: [usize; 5],
    weight: [usize; 5],
    options: &ConvOptions,
) -> Result<[usize; 5]> {
    transposed_volume(input, weight, options).map(|(_, shape)| shape)
}

/// The forward geometry whose input gradient a 3-D transposed convolution
/// computes (its `input` lengths are the transposed convolution's output),
/// and that output's shape.
pub(crate) fn transposed_volume(
    input: [usize; 5],
    weight: [usize; 5],
    options: &ConvOptions,
) -> Result<([AxisGeometry; 3], [usize; 5])> {
    let [n, c_in, d, h, w] = input;
    let geometry = transposed_axes([c_in, weight[0]], [d, h, w], [weight[2], weight[3], weight[4]], options)?;
    let shape = [
        n,
        options.groups.checked_mul(weight[1]).ok_or(Error::Overflow {
            what: "the output channels",
        })?,
        geometry[0].input,
        geometry[1].input,
        geometry[2].input,
    ];
    checked_len(&shape)?;
    Ok((geometry, shape))
}

/// The 2-D options that run a 1-D call on the 2-D engine, whose arrays get
/// a row axis of length 1 before their last axis (an input of one row, a
/// kernel of one row, which need no stride, dilation or padding).
///
/// # Errors
///
/// [`Error::OptionRank`] if an option was given per axis (or a padding per
/// side) for 2-D calls.
pub(crate) fn unit_rows(options: &ConvOptions) -> Result<ConvOptions> {
    let [stride] = options.stride.for_rank::<1>("stride")?;
    let [dilation] = options.dilation.for_rank::<1>("dilation")?;
    let [output_padding] = options.output_padding.for_rank::<1>("output padding")?;
    let padding = match options.padding {
        Padding::Explicit1d { left, right } => Padding::Explicit {
            top: 0,
            bottom: 0,
            left,
            right,
        },
        padding => match padding.explicit_rank() {
            None => padding,
            Some(given) => {
                return Err(Error::OptionRank {
                    option: "padding",
                    given,
                    call: 1,
                })
            }
        },
    };
    Ok(ConvOptions {
        stride: PerAxis::Two([1, stride]),
        dilation: PerAxis::Two([1, dilation]),
        output_padding: PerAxis::Two([0, output_padding]),
        padding,
        ..*options
    })
}

/// `[N, C, L]` as `[N, C, 1, L]` (and a weight `[O, C/g, k]` as
/// `[O, C/g, 1, k]`).
pub(crate) fn with_unit_rows([a, b, len]: [usize; 3]) -> [usize; 4] {
    [a, b, 1, len]
}

/// An error of the 2-D engine running a 1-D call, in the call's terms: its
/// columns are the call's [`Axis::Length`].
pub(crate) fn along_length(error: Error) -> Error {
    error.renamed(Axis::Width, Axis::Length)
}

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
    grouped_geometry([c, o, cg], [h, w], [kh, kw], options)
}

/// The spatial geometry of a batched convolution of any rank, from its
/// `[input channels, output channels, weight channels]` and spatial
/// lengths, after checking the groups and the weight's channels.
pub(crate) fn grouped_geometry<const R: usize>(
    [c, o, cg]: [usize; 3],
    input: [usize; R],
    kernel: [usize; R],
    options: &ConvOptions,
) -> Result<[AxisGeometry; R]> {
    let groups = options.groups;
    check_groups(groups, c, "input")?;
    check_groups(groups, o, "output")?;
    if cg != c / groups {
        return Err(Error::WeightChannels {
            expected: c / groups,
            got: cg,
        });
    }
    spatial_geometry(input, kernel, options, Operation::CrossCorrelation)
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
    transposed_axes([c_in, weight[0]], [h, w], [weight[2], weight[3]], options)
}

/// [`transposed_geometry`] for any rank, from the input's channels, the
/// weight's first axis and the spatial lengths.
pub(crate) fn transposed_axes<const R: usize>(
    [c_in, weight_in]: [usize; 2],
    input: [usize; R],
    kernel: [usize; R],
    options: &ConvOptions,
) -> Result<[AxisGeometry; R]> {
    check_groups(options.groups, c_in, "input")?;
    if weight_in != c_in {
        return Err(Error::TransposedWeight {
            expected: c_in,
            got: weight_in,
        });
    }
    if options.padding == Padding::Same {
        return Err(Error::Unsupported {
            what: "Padding::Same in a transposed convolution",
        });
    }
    let output_padding = options.output_padding.for_rank::<R>("output padding")?;
    let unpadded = unpadded_axes(input, kernel, options)?;
    let mut geometry = [AxisGeometry::new(0, 0); R];
    for ((axis, g), extra) in geometry.iter_mut().zip(unpadded).zip(output_padding) {
        let g = options.padding.resolve(g, Operation::CrossCorrelation)?;
        *axis = AxisGeometry {
            input: g.transposed_output_len(extra)?,
            ..g
        };
    }
    Ok(geometry)
}

/// Resolves stride, dilation and padding of `options` for the `R` spatial
/// axes of a call, rejecting options given for another rank, empty inputs
/// and empty kernels.
pub(crate) fn spatial_geometry<const R: usize>(
    input: [usize; R],
    kernel: [usize; R],
    options: &ConvOptions,
    operation: Operation,
) -> Result<[AxisGeometry; R]> {
    let mut geometry = unpadded_axes(input, kernel, options)?;
    for g in &mut geometry {
        g.kernel_extent()?;
        if g.input == 0 {
            return Err(Error::EmptyInput { axis: g.axis });
        }
        *g = options.padding.resolve(*g, operation)?;
    }
    Ok(geometry)
}

/// The `R` spatial axes of `input` lengths and `kernel` taps with the
/// stride and dilation of `options`, before any padding, after checking
/// that every option fits the rank.
fn unpadded_axes<const R: usize>(
    input: [usize; R],
    kernel: [usize; R],
    options: &ConvOptions,
) -> Result<[AxisGeometry; R]> {
    let names: &[Axis] = match R {
        1 => &[Axis::Length],
        2 => &[Axis::Height, Axis::Width],
        _ => &[Axis::Depth, Axis::Height, Axis::Width],
    };
    let stride = options.stride.for_rank::<R>("stride")?;
    let dilation = options.dilation.for_rank::<R>("dilation")?;
    if let Some(given) = options.padding.explicit_rank().filter(|&given| given != R) {
        return Err(Error::OptionRank {
            option: "padding",
            given,
            call: R,
        });
    }
    Ok(std::array::from_fn(|i| {
        AxisGeometry::new(input[i], kernel[i])
            .along(names[i])
            .stride(stride[i])
            .dilation(dilation[i])
    }))
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
