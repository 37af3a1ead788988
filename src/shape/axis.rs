//! One axis of a convolution: the six numbers that place a kernel along it,
//! and how a [`Padding`] resolves into them.

use crate::error::{Axis, Error, Result};
use crate::options::Padding;

/// The six numbers that place a kernel along one axis, named.
///
/// Build one with [`AxisGeometry::new`] (stride 1, dilation 1, no padding)
/// and the builder methods; every method that derives a length from it
/// checks for overflow and invalid values and returns [`Error`] instead of
/// panicking or wrapping.
///
/// # Examples
///
/// ```
/// use convolve::shape::AxisGeometry;
///
/// // 7 inputs, a 3-tap kernel with dilation 2 (spanning 5), stride 2, 1 pad each side.
/// let g = AxisGeometry::new(7, 3).stride(2).dilation(2).padding(1, 1);
/// assert_eq!(g.kernel_extent()?, 5);
/// assert_eq!(g.output_len()?, 3);
/// # Ok::<(), convolve::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AxisGeometry {
    /// Input length `n`.
    pub input: usize,
    /// Kernel length `k` (number of taps).
    pub kernel: usize,
    /// Step between consecutive output positions.
    pub stride: usize,
    /// Step between consecutive kernel taps.
    pub dilation: usize,
    /// Padding before the first input element.
    pub pad_lo: usize,
    /// Padding after the last input element.
    pub pad_hi: usize,
    /// The axis this geometry describes; errors name it.
    pub axis: Axis,
}

impl AxisGeometry {
    /// A kernel of `kernel` taps over `input` elements, with stride 1,
    /// dilation 1, no padding, along [`Axis::Height`].
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// assert_eq!(AxisGeometry::new(5, 3).output_len()?, 3);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub const fn new(input: usize, kernel: usize) -> Self {
        AxisGeometry {
            input,
            kernel,
            stride: 1,
            dilation: 1,
            pad_lo: 0,
            pad_hi: 0,
            axis: Axis::Height,
        }
    }

    /// Sets the stride.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// assert_eq!(AxisGeometry::new(224, 11).stride(4).output_len()?, 54);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub const fn stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the dilation (the step between kernel taps).
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// // A 3-tap kernel with dilation 2 spans 5 inputs.
    /// assert_eq!(AxisGeometry::new(9, 3).dilation(2).output_len()?, 5);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub const fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = dilation;
        self
    }

    /// Sets the padding before (`lo`) and after (`hi`) the input.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// assert_eq!(AxisGeometry::new(5, 3).padding(1, 1).output_len()?, 5);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub const fn padding(mut self, lo: usize, hi: usize) -> Self {
        self.pad_lo = lo;
        self.pad_hi = hi;
        self
    }

    /// Names the axis this geometry is along, for error messages.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// use convolve::{Axis, Error};
    /// let err = AxisGeometry::new(5, 0).along(Axis::Width).output_len().unwrap_err();
    /// assert_eq!(err, Error::EmptyKernel { axis: Axis::Width });
    /// ```
    #[must_use]
    pub const fn along(mut self, axis: Axis) -> Self {
        self.axis = axis;
        self
    }

    /// Checks stride, dilation and kernel length, the parameters every
    /// derived length needs.
    fn check_parameters(&self) -> Result<()> {
        if self.stride == 0 {
            return Err(Error::ZeroStride { axis: self.axis });
        }
        if self.dilation == 0 {
            return Err(Error::ZeroDilation { axis: self.axis });
        }
        if self.kernel == 0 {
            return Err(Error::EmptyKernel { axis: self.axis });
        }
        Ok(())
    }

    /// [`AxisGeometry::kernel_extent`] of a geometry the convolution entry
    /// points have already checked, whose extent is known to fit.
    pub(crate) fn extent(&self) -> usize {
        self.dilation * (self.kernel - 1) + 1
    }

    /// The input's length with both paddings, of a geometry the
    /// convolution entry points have already checked.
    pub(crate) fn padded_len(&self) -> usize {
        self.input + self.pad_lo + self.pad_hi
    }

    /// The number of input positions the dilated kernel spans:
    /// `dilation * (kernel - 1) + 1`.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroStride`], [`Error::ZeroDilation`], [`Error::EmptyKernel`],
    /// or [`Error::Overflow`] if the span does not fit in `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// assert_eq!(AxisGeometry::new(10, 3).dilation(4).kernel_extent()?, 9);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn kernel_extent(&self) -> Result<usize> {
        self.check_parameters()?;
        (self.kernel - 1)
            .checked_mul(self.dilation)
            .and_then(|span| span.checked_add(1))
            .ok_or(Error::Overflow {
                what: "the dilated kernel extent",
            })
    }

    /// The input length with padding: `input + pad_lo + pad_hi`.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] if the sum does not fit in `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// assert_eq!(AxisGeometry::new(5, 3).padding(1, 2).padded_input()?, 8);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn padded_input(&self) -> Result<usize> {
        self.input
            .checked_add(self.pad_lo)
            .and_then(|n| n.checked_add(self.pad_hi))
            .ok_or(Error::Overflow {
                what: "the padded input length",
            })
    }

    /// The number of output positions,
    /// `floor((n + lo + hi - dilation*(k-1) - 1) / stride) + 1`.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroStride`], [`Error::ZeroDilation`], [`Error::EmptyKernel`],
    /// [`Error::Overflow`], or [`Error::KernelTooLarge`] when the dilated
    /// kernel is longer than the padded input.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// use convolve::{Axis, Error};
    ///
    /// assert_eq!(AxisGeometry::new(6, 3).stride(2).output_len()?, 2);
    /// assert_eq!(
    ///     AxisGeometry::new(2, 3).output_len(),
    ///     Err(Error::KernelTooLarge { axis: Axis::Height, kernel_extent: 3, padded_input: 2 })
    /// );
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn output_len(&self) -> Result<usize> {
        let extent = self.kernel_extent()?;
        let padded = self.padded_input()?;
        match padded.checked_sub(extent) {
            Some(room) => Ok(room / self.stride + 1),
            None => Err(Error::KernelTooLarge {
                axis: self.axis,
                kernel_extent: extent,
                padded_input: padded,
            }),
        }
    }

    /// The output length of the transposed convolution with this geometry
    /// (PyTorch's `conv_transpose2d`), where `input` is the transposed
    /// convolution's input:
    /// `(n - 1)*stride - lo - hi + dilation*(k - 1) + output_padding + 1`.
    ///
    /// `output_padding` adds outputs at the high end to pick among the input
    /// lengths that a strided forward convolution maps to the same output
    /// length; it must be smaller than the stride or the dilation.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroStride`], [`Error::ZeroDilation`], [`Error::EmptyKernel`],
    /// [`Error::EmptyInput`] for `input == 0`,
    /// [`Error::OutputPaddingTooLarge`], [`Error::PaddingTooLarge`] when the
    /// padding removes everything, or [`Error::Overflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// // Undo a stride-2 3-tap convolution with padding 1: 4 -> 7, or 8 with output_padding 1.
    /// let g = AxisGeometry::new(4, 3).stride(2).padding(1, 1);
    /// assert_eq!(g.transposed_output_len(0)?, 7);
    /// assert_eq!(g.transposed_output_len(1)?, 8);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn transposed_output_len(&self, output_padding: usize) -> Result<usize> {
        let extent = self.kernel_extent()?;
        if self.input == 0 {
            return Err(Error::EmptyInput { axis: self.axis });
        }
        if output_padding >= self.stride && output_padding >= self.dilation {
            return Err(Error::OutputPaddingTooLarge {
                axis: self.axis,
                output_padding,
                stride: self.stride,
                dilation: self.dilation,
            });
        }
        let overflow = Error::Overflow {
            what: "the transposed output length",
        };
        let full = (self.input - 1)
            .checked_mul(self.stride)
            .and_then(|n| n.checked_add(extent))
            .and_then(|n| n.checked_add(output_padding))
            .ok_or(overflow.clone())?;
        let padding = self.pad_lo.checked_add(self.pad_hi).ok_or(overflow)?;
        match full.checked_sub(padding) {
            Some(len) if len > 0 => Ok(len),
            _ => Err(Error::PaddingTooLarge {
                axis: self.axis,
                padding,
                available: full,
            }),
        }
    }

    /// The smallest input length for which this geometry gives `wanted`
    /// outputs (the `input` field is ignored).
    ///
    /// Input lengths from the returned one up to `stride - 1` more give the
    /// same output length.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroStride`], [`Error::ZeroDilation`], [`Error::EmptyKernel`],
    /// [`Error::Overflow`], or [`Error::UnreachableOutput`] if `wanted` is 0
    /// or the padding alone already gives more than `wanted` outputs.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::AxisGeometry;
    /// // How large an image gives 54 outputs through an 11-tap kernel at stride 4?
    /// let g = AxisGeometry::new(0, 11).stride(4);
    /// assert_eq!(g.input_len_for_output(54)?, 223);
    /// assert_eq!(g.input_len_for_output(54)? + 3, 226);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn input_len_for_output(&self, wanted: usize) -> Result<usize> {
        let extent = self.kernel_extent()?;
        let unreachable = Error::UnreachableOutput {
            axis: self.axis,
            wanted,
        };
        if wanted == 0 {
            return Err(unreachable);
        }
        let overflow = Error::Overflow {
            what: "the input length for an output length",
        };
        let needed = (wanted - 1)
            .checked_mul(self.stride)
            .and_then(|n| n.checked_add(extent))
            .ok_or(overflow.clone())?;
        let padding = self.pad_lo.checked_add(self.pad_hi).ok_or(overflow)?;
        match needed.checked_sub(padding) {
            Some(n) => Ok(n),
            None => {
                // The padding alone covers the first `wanted` windows: an
                // empty input still gives exactly `wanted` outputs only if
                // the next window does not fit either.
                let at_zero = AxisGeometry { input: 0, ..*self }.output_len();
                match at_zero {
                    Ok(len) if len == wanted => Ok(0),
                    _ => Err(unreachable),
                }
            }
        }
    }
}

/// Whether the kernel is applied as is (cross-correlation) or rotated by
/// 180° (true convolution).
///
/// The two differ in how [`Padding::Same`] splits an odd total padding, so
/// that each matches `scipy.signal`'s `'same'` mode for its operation.
///
/// # Examples
///
/// ```
/// use convolve::shape::{AxisGeometry, Operation};
/// use convolve::Padding;
///
/// // A 4-tap kernel needs 3 padding for 'same': 1 before and 2 after for
/// // cross-correlation, 2 before and 1 after for convolution.
/// let g = AxisGeometry::new(10, 4);
/// let c = Padding::Same.resolve(g, Operation::CrossCorrelation)?;
/// assert_eq!((c.pad_lo, c.pad_hi), (1, 2));
/// let v = Padding::Same.resolve(g, Operation::Convolution)?;
/// assert_eq!((v.pad_lo, v.pad_hi), (2, 1));
/// # Ok::<(), convolve::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `y[i] = Σ x[i + a] k[a]`: what CNN libraries call convolution.
    CrossCorrelation,
    /// `y[i] = Σ x[i - a] k[a]`: the kernel rotated by 180°.
    Convolution,
}

impl Padding {
    /// Fills in `pad_lo` and `pad_hi` of `geometry` for this padding along
    /// `geometry.axis`; its own padding fields are ignored.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroStride`], [`Error::ZeroDilation`], [`Error::EmptyKernel`],
    /// or [`Error::Overflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::{AxisGeometry, Operation};
    /// use convolve::Padding;
    ///
    /// // TensorFlow's SAME at stride 2: ceil(7 / 2) = 4 outputs.
    /// let g = Padding::Same.resolve(AxisGeometry::new(7, 3).stride(2), Operation::CrossCorrelation)?;
    /// assert_eq!((g.pad_lo, g.pad_hi, g.output_len()?), (1, 1, 4));
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn resolve(&self, geometry: AxisGeometry, operation: Operation) -> Result<AxisGeometry> {
        let extent = geometry.kernel_extent()?;
        let (lo, hi) = match *self {
            Padding::Valid => (0, 0),
            Padding::Full => (extent - 1, extent - 1),
            Padding::Explicit { top, bottom, .. } if geometry.axis == Axis::Height => (top, bottom),
            Padding::Explicit { left, right, .. } if geometry.axis == Axis::Width => (left, right),
            Padding::Explicit1d { left, right } if geometry.axis == Axis::Length => (left, right),
            Padding::Explicit3d { front, back, .. } if geometry.axis == Axis::Depth => (front, back),
            Padding::Explicit3d { top, bottom, .. } if geometry.axis == Axis::Height => (top, bottom),
            Padding::Explicit3d { left, right, .. } if geometry.axis == Axis::Width => (left, right),
            Padding::Explicit { .. } | Padding::Explicit1d { .. } | Padding::Explicit3d { .. } => {
                // An axis of another rank: the calls check the rank before
                // resolving, so this is a direct call with a mismatched axis.
                let call = match geometry.axis {
                    Axis::Length => 1,
                    Axis::Depth => 3,
                    Axis::Height | Axis::Width => 2,
                };
                return Err(Error::OptionRank {
                    option: "padding",
                    given: self.explicit_rank().unwrap_or(call),
                    call,
                });
            }
            Padding::Same => {
                let n = geometry.input;
                let out = n.div_ceil(geometry.stride);
                let total = match out.checked_sub(1) {
                    None => 0,
                    Some(last) => last
                        .checked_mul(geometry.stride)
                        .and_then(|span| span.checked_add(extent))
                        .ok_or(Error::Overflow {
                            what: "the 'same' padding",
                        })?
                        .saturating_sub(n),
                };
                match operation {
                    Operation::CrossCorrelation => (total / 2, total - total / 2),
                    Operation::Convolution => (total - total / 2, total / 2),
                }
            }
        };
        Ok(geometry.padding(lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alexnet_first_layer() {
        let g = AxisGeometry::new(224, 11).stride(4);
        assert_eq!(g.output_len(), Ok(54));
    }

    #[test]
    fn overflowing_padding_is_an_error() {
        let g = AxisGeometry::new(5, 3).padding(usize::MAX, 1);
        assert_eq!(
            g.output_len(),
            Err(Error::Overflow {
                what: "the padded input length"
            })
        );
    }

    #[test]
    fn huge_dilation_is_an_error() {
        let g = AxisGeometry::new(5, 3).dilation(usize::MAX);
        assert!(matches!(g.output_len(), Err(Error::Overflow { .. })));
    }

    #[test]
    fn same_padding_on_empty_input_is_zero() {
        let g = Padding::Same
            .resolve(AxisGeometry::new(0, 3), Operation::CrossCorrelation)
            .unwrap();
        assert_eq!((g.pad_lo, g.pad_hi), (0, 0));
    }

    #[test]
    fn transposed_length_inverts_forward_length() {
        // Hand derivation: forward 8 -> (8 + 2 - 3) / 2 + 1 = 4; transposed 4 -> 3*2 - 2 + 3 + 1 = 8.
        let fwd = AxisGeometry::new(8, 3).stride(2).padding(1, 1);
        assert_eq!(fwd.output_len(), Ok(4));
        let back = AxisGeometry { input: 4, ..fwd };
        assert_eq!(back.transposed_output_len(1), Ok(8));
        assert!(matches!(
            back.transposed_output_len(2),
            Err(Error::OutputPaddingTooLarge { .. })
        ));
    }

    #[test]
    fn padding_that_swallows_the_transposed_output_is_an_error() {
        let g = AxisGeometry::new(1, 1).padding(1, 0);
        assert_eq!(
            g.transposed_output_len(0),
            Err(Error::PaddingTooLarge {
                axis: Axis::Height,
                padding: 1,
                available: 1
            })
        );
    }

    #[test]
    fn input_len_for_output_with_large_padding() {
        // 3-tap kernel, padding 2 + 2: an empty input already gives (4 - 3) + 1 = 2 outputs.
        let g = AxisGeometry::new(0, 3).padding(2, 2);
        assert_eq!(g.input_len_for_output(2), Ok(0));
        assert_eq!(g.input_len_for_output(3), Ok(1));
        assert!(matches!(
            g.input_len_for_output(1),
            Err(Error::UnreachableOutput { .. })
        ));
    }
}
