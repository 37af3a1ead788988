//! The two single-channel operations, and single-channel problems seen as
//! batches.

use convolve::shape::Operation;
use convolve::{convolve2d, convolve2d_into, correlate2d, correlate2d_into, ConvOptions, Element, Padding};
use ndarray::{Array2, Array4, ArrayRef2, ArrayView4};

/// The two single-channel operations, so that one property covers both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `correlate2d`.
    Correlate,
    /// `convolve2d`.
    Convolve,
}

impl Op {
    /// The matching `shape::Operation`.
    pub fn operation(self) -> Operation {
        match self {
            Op::Correlate => Operation::CrossCorrelation,
            Op::Convolve => Operation::Convolution,
        }
    }

    /// `correlate2d` or `convolve2d`.
    pub fn apply<T: Element>(
        self,
        x: &ArrayRef2<T>,
        k: &ArrayRef2<T>,
        options: &ConvOptions,
    ) -> convolve::Result<Array2<T>> {
        match self {
            Op::Correlate => correlate2d(x, k, options),
            Op::Convolve => convolve2d(x, k, options),
        }
    }

    /// `correlate2d_into` or `convolve2d_into`.
    pub fn apply_into<T: Element>(
        self,
        x: &ArrayRef2<T>,
        k: &ArrayRef2<T>,
        options: &ConvOptions,
        out: &mut ArrayRef2<T>,
    ) -> convolve::Result<()> {
        match self {
            Op::Correlate => correlate2d_into(x, k, options, out),
            Op::Convolve => convolve2d_into(x, k, options, out),
        }
    }
}

/// Whether `correlate2d`/`convolve2d` take scipy's `valid` path with a
/// kernel larger than the input, which swaps roles with it (or is
/// rejected when larger along one axis only).
pub fn is_scipy_valid_swap(input: [usize; 2], kernel: [usize; 2], options: &ConvOptions) -> bool {
    let scipy_valid = options.padding == Padding::Valid && options.stride == [1, 1] && options.dilation == [1, 1];
    scipy_valid && (kernel[0] > input[0] || kernel[1] > input[1])
}

/// `x` as a batch of one single-channel image, `[1, 1, H, W]`.
pub fn as_batch<T>(x: &Array2<T>) -> ArrayView4<'_, T> {
    x.view().insert_axis(ndarray::Axis(0)).insert_axis(ndarray::Axis(0))
}

/// The one image of a `[1, 1, H, W]` batch.
pub fn only_image<T>(y: Array4<T>) -> Array2<T> {
    y.index_axis_move(ndarray::Axis(0), 0)
        .index_axis_move(ndarray::Axis(0), 0)
}
