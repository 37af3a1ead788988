//! The crate's error type.

use std::fmt;

/// One spatial axis of a convolution.
///
/// Errors name the axis they are about, so that a message such as
/// "stride along the width axis is 0" points at the value to fix.
///
/// # Examples
///
/// ```
/// use convolve::Axis;
/// assert_eq!(Axis::Height.to_string(), "height");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Axis {
    /// Rows: the `H` of `[N, C, H, W]`, the first axis of a 2-D array.
    Height,
    /// Columns: the `W` of `[N, C, H, W]`, the second axis of a 2-D array.
    Width,
    /// The `L` of `[N, C, L]`, a 1-D array's only axis.
    Length,
    /// Planes: the `D` of `[N, C, D, H, W]`, the first axis of a 3-D array.
    Depth,
}

impl fmt::Display for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Axis::Height => "height",
            Axis::Width => "width",
            Axis::Length => "length",
            Axis::Depth => "depth",
        })
    }
}

/// Everything that can be wrong with a caller's arguments.
///
/// Every variant carries the offending values, so the message alone says
/// what to change. No function of this crate panics on a caller's data; it
/// returns one of these instead.
///
/// # Examples
///
/// ```
/// use convolve::shape::AxisGeometry;
/// use convolve::{Axis, Error};
///
/// let err = AxisGeometry::new(5, 3).along(Axis::Width).stride(0).output_len().unwrap_err();
/// assert_eq!(err, Error::ZeroStride { axis: Axis::Width });
/// assert_eq!(err.to_string(), "stride along the width axis must be at least 1, got 0");
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A stride of 0 was given.
    #[error("stride along the {axis} axis must be at least 1, got 0")]
    ZeroStride {
        /// The axis whose stride is 0.
        axis: Axis,
    },
    /// A dilation of 0 was given.
    #[error("dilation along the {axis} axis must be at least 1, got 0")]
    ZeroDilation {
        /// The axis whose dilation is 0.
        axis: Axis,
    },
    /// A kernel with no elements along an axis.
    #[error("the kernel is empty along the {axis} axis")]
    EmptyKernel {
        /// The axis along which the kernel has length 0.
        axis: Axis,
    },
    /// An input with no elements along a spatial axis.
    #[error("the input is empty along the {axis} axis")]
    EmptyInput {
        /// The axis along which the input has length 0.
        axis: Axis,
    },
    /// The (dilated) kernel is longer than the padded input, so no output
    /// position exists.
    #[error(
        "the kernel spans {kernel_extent} elements along the {axis} axis \
         but the padded input has only {padded_input}"
    )]
    KernelTooLarge {
        /// The axis along which the kernel does not fit.
        axis: Axis,
        /// `dilation * (kernel - 1) + 1`.
        kernel_extent: usize,
        /// `input + pad_lo + pad_hi`.
        padded_input: usize,
    },
    /// In scipy's `valid` mode the kernel must be no larger than the input
    /// in every axis, or at least as large in every axis (then the two swap
    /// roles); this kernel is larger along one axis only.
    #[error(
        "'valid' mode needs the kernel ({kernel:?}) to be no larger than the \
         input ({input:?}) along every axis, or at least as large along every axis"
    )]
    ValidShapeMismatch {
        /// The input's shape (`[height, width]` for 2-D calls).
        input: Vec<usize>,
        /// The kernel's shape.
        kernel: Vec<usize>,
    },
    /// A size computation does not fit in `usize` (or an allocation would
    /// exceed `isize::MAX` bytes).
    #[error("arithmetic overflow while computing {what}")]
    Overflow {
        /// What was being computed.
        what: &'static str,
    },
    /// An array the call needs (its output, or a gradient) is larger than
    /// the allocator can provide.
    #[error("{what} needs {bytes} bytes, more than can be allocated")]
    OutOfMemory {
        /// Which array.
        what: &'static str,
        /// Its size in bytes.
        bytes: usize,
    },
    /// `groups` is 0.
    #[error("groups must be at least 1, got 0")]
    ZeroGroups,
    /// `groups` does not divide the number of input or output channels.
    #[error("groups = {groups} does not divide the {channels} {what} channels")]
    GroupsMismatch {
        /// The requested number of groups.
        groups: usize,
        /// The channel count it should divide.
        channels: usize,
        /// `"input"` or `"output"`.
        what: &'static str,
    },
    /// `groups` other than 1 in a single-channel call.
    #[error(
        "groups = {groups} applies to batched calls (conv2d); correlate2d and convolve2d filter one channel and take groups = 1"
    )]
    GroupsSingleChannel {
        /// The requested number of groups.
        groups: usize,
    },
    /// A [`Boundary::Fill`](crate::Boundary::Fill) value with no exact
    /// equivalent in the call's element type.
    #[error("the fill value {value} has no exact {element} equivalent")]
    FillValue {
        /// The fill value as given.
        value: String,
        /// The element type of the call.
        element: &'static str,
    },
    /// The weight's channel axis is not `C / groups`.
    #[error("the weight has {got} input channels per group, expected C / groups = {expected}")]
    WeightChannels {
        /// `C / groups`.
        expected: usize,
        /// `weight.shape()[1]`.
        got: usize,
    },
    /// The bias does not have one entry per output channel.
    #[error("the bias has {got} elements, expected one per output channel ({expected})")]
    BiasLength {
        /// The number of output channels.
        expected: usize,
        /// The bias length.
        got: usize,
    },
    /// An array passed to fill in (an `_into` output, or a gradient) has the
    /// wrong shape.
    #[error("{what} has shape {got:?}, expected {expected:?}")]
    ShapeMismatch {
        /// Which argument.
        what: &'static str,
        /// The shape it should have.
        expected: Vec<usize>,
        /// The shape it has.
        got: Vec<usize>,
    },
    /// A transposed convolution's `output_padding` must be smaller than its
    /// stride or its dilation along the same axis.
    #[error(
        "output padding {output_padding} along the {axis} axis must be smaller \
         than the stride ({stride}) or the dilation ({dilation})"
    )]
    OutputPaddingTooLarge {
        /// The axis concerned.
        axis: Axis,
        /// The requested output padding.
        output_padding: usize,
        /// The stride along that axis.
        stride: usize,
        /// The dilation along that axis.
        dilation: usize,
    },
    /// A transposed convolution's padding removes more than its full output.
    #[error(
        "padding {padding} along the {axis} axis removes more than the \
         {available} elements of the transposed convolution's full output"
    )]
    PaddingTooLarge {
        /// The axis concerned.
        axis: Axis,
        /// `pad_lo + pad_hi`.
        padding: usize,
        /// The length before padding is removed.
        available: usize,
    },
    /// A transposed convolution's weight must have one slice per input
    /// channel: `[C_in, C_out / groups, kh, kw]`.
    #[error("the transposed convolution's weight has {got} input channels, expected {expected}")]
    TransposedWeight {
        /// The input's channel count.
        expected: usize,
        /// `weight.shape()[0]`.
        got: usize,
    },
    /// An option this operation does not support.
    #[error("{what} is not supported")]
    Unsupported {
        /// What was asked for.
        what: &'static str,
    },
    /// An option was given per axis, or a padding per side, for calls of
    /// another spatial rank (e.g. `strides(rows, cols)` on a 1-D call).
    #[error("the {option} was given for {given}-D calls, but this call is {call}-D")]
    OptionRank {
        /// The option: "stride", "dilation", "output padding" or "padding".
        option: &'static str,
        /// The rank it was given for.
        given: usize,
        /// The call's spatial rank.
        call: usize,
    },
    /// No input length produces the requested output length.
    #[error("no input length gives {wanted} outputs along the {axis} axis with these settings")]
    UnreachableOutput {
        /// The axis concerned.
        axis: Axis,
        /// The output length that was asked for.
        wanted: usize,
    },
}

impl Error {
    /// This error with `from` named `to`: a call of one rank that runs on
    /// the engine of another names its own axes.
    pub(crate) fn renamed(self, from: Axis, to: Axis) -> Self {
        let rename = |axis: Axis| if axis == from { to } else { axis };
        match self {
            Error::ZeroStride { axis } => Error::ZeroStride { axis: rename(axis) },
            Error::ZeroDilation { axis } => Error::ZeroDilation { axis: rename(axis) },
            Error::EmptyKernel { axis } => Error::EmptyKernel { axis: rename(axis) },
            Error::EmptyInput { axis } => Error::EmptyInput { axis: rename(axis) },
            Error::KernelTooLarge {
                axis,
                kernel_extent,
                padded_input,
            } => Error::KernelTooLarge {
                axis: rename(axis),
                kernel_extent,
                padded_input,
            },
            Error::OutputPaddingTooLarge {
                axis,
                output_padding,
                stride,
                dilation,
            } => Error::OutputPaddingTooLarge {
                axis: rename(axis),
                output_padding,
                stride,
                dilation,
            },
            Error::PaddingTooLarge {
                axis,
                padding,
                available,
            } => Error::PaddingTooLarge {
                axis: rename(axis),
                padding,
                available,
            },
            Error::UnreachableOutput { axis, wanted } => Error::UnreachableOutput {
                axis: rename(axis),
                wanted,
            },
            other => other,
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
