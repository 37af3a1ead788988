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
//! let opts = ConvOptions::<f32>::new().stride(4);
//! assert_eq!(conv2d_output_shape([8, 3, 224, 224], [96, 3, 11, 11], &opts)?, [8, 96, 54, 54]);
//! # Ok::<(), convolve::Error>(())
//! ```

use crate::conv::ConvOptions;
use crate::error::{Axis, Error, Result};

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

/// How much padding surrounds the input, before the boundary rule fills it.
///
/// Resolved per axis to `(lo, hi)` by [`Padding::resolve`]:
///
/// | variant | `(lo, hi)` | output length (stride 1) |
/// |---|---|---|
/// | `Valid` | `(0, 0)` | `n - d(k-1)` |
/// | `Same` | total `max((ceil(n/s)-1)s + d(k-1) + 1 - n, 0)`, split below | `ceil(n / s)` |
/// | `Full` | `(d(k-1), d(k-1))` | `n + d(k-1)` |
/// | `Explicit` | `(top, bottom)` rows, `(left, right)` columns | formula |
///
/// `Same` puts the smaller half of an odd total before the input for
/// cross-correlation (PyTorch's `padding='same'`, TensorFlow's `SAME`) and
/// after it for convolution, so that both match `scipy.signal`'s `'same'`.
///
/// # Examples
///
/// ```
/// use convolve::shape::{AxisGeometry, Operation};
/// use convolve::Padding;
///
/// let g = AxisGeometry::new(10, 3).dilation(2);
/// let full = Padding::Full.resolve(g, Operation::CrossCorrelation)?;
/// assert_eq!((full.pad_lo, full.pad_hi), (4, 4));
/// assert_eq!(full.output_len()?, 14);
/// # Ok::<(), convolve::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Padding {
    /// No padding: only positions where the whole kernel fits in the input.
    #[default]
    Valid,
    /// Enough padding for `ceil(n / stride)` outputs.
    Same,
    /// Every position where the kernel overlaps the input at least once
    /// (stride 1).
    Full,
    /// Padding given explicitly for each side.
    Explicit {
        /// Rows before the first row.
        top: usize,
        /// Rows after the last row.
        bottom: usize,
        /// Columns before the first column.
        left: usize,
        /// Columns after the last column.
        right: usize,
    },
}

impl Padding {
    /// The same explicit padding on all four sides.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::Padding;
    /// assert_eq!(Padding::uniform(1), Padding::Explicit { top: 1, bottom: 1, left: 1, right: 1 });
    /// ```
    #[must_use]
    pub const fn uniform(pad: usize) -> Self {
        Padding::Explicit {
            top: pad,
            bottom: pad,
            left: pad,
            right: pad,
        }
    }

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
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => match geometry.axis {
                Axis::Height => (top, bottom),
                Axis::Width => (left, right),
            },
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
/// let opts = ConvOptions::<f32>::new().padding(Padding::uniform(1));
/// assert_eq!(conv2d_output_shape([8, 64, 56, 56], [64, 64, 3, 3], &opts)?, [8, 64, 56, 56]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d_output_shape<A>(input: [usize; 4], weight: [usize; 4], options: &ConvOptions<A>) -> Result<[usize; 4]> {
    let [n, c, h, w] = input;
    let [o, cg, kh, kw] = weight;
    let groups = options.groups;
    if groups == 0 {
        return Err(Error::ZeroGroups);
    }
    if c % groups != 0 {
        return Err(Error::GroupsMismatch {
            groups,
            channels: c,
            what: "input",
        });
    }
    if o % groups != 0 {
        return Err(Error::GroupsMismatch {
            groups,
            channels: o,
            what: "output",
        });
    }
    if cg != c / groups {
        return Err(Error::WeightChannels {
            expected: c / groups,
            got: cg,
        });
    }
    let [rows, cols] = spatial_geometry([h, w], [kh, kw], options, Operation::CrossCorrelation)?;
    let shape = [n, o, rows.output_len()?, cols.output_len()?];
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
/// let opts = ConvOptions::<f32>::new().stride(2).padding(Padding::uniform(1));
/// assert_eq!(conv_transpose2d_output_shape([1, 64, 28, 28], [64, 32, 4, 4], &opts)?, [1, 32, 56, 56]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose2d_output_shape<A>(
    input: [usize; 4],
    weight: [usize; 4],
    options: &ConvOptions<A>,
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
pub(crate) fn transposed_geometry<A>(
    input: [usize; 4],
    weight: [usize; 4],
    options: &ConvOptions<A>,
) -> Result<[AxisGeometry; 2]> {
    let [_, c_in, h, w] = input;
    let groups = options.groups;
    if groups == 0 {
        return Err(Error::ZeroGroups);
    }
    if c_in % groups != 0 {
        return Err(Error::GroupsMismatch {
            groups,
            channels: c_in,
            what: "input",
        });
    }
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
    let axis_geometry = |i: usize, axis: Axis| -> Result<AxisGeometry> {
        let g = AxisGeometry::new([h, w][i], weight[2 + i])
            .along(axis)
            .stride(options.stride[i])
            .dilation(options.dilation[i]);
        let g = options.padding.resolve(g, Operation::CrossCorrelation)?;
        let len = g.transposed_output_len(options.output_padding[i])?;
        Ok(AxisGeometry { input: len, ..g })
    };
    Ok([axis_geometry(0, Axis::Height)?, axis_geometry(1, Axis::Width)?])
}

/// Resolves stride, dilation and padding of `options` for both spatial
/// axes, rejecting empty inputs and kernels.
pub(crate) fn spatial_geometry<A>(
    input: [usize; 2],
    kernel: [usize; 2],
    options: &ConvOptions<A>,
    operation: Operation,
) -> Result<[AxisGeometry; 2]> {
    let axis_geometry = |i: usize, axis: Axis| -> Result<AxisGeometry> {
        let g = AxisGeometry::new(input[i], kernel[i])
            .along(axis)
            .stride(options.stride[i])
            .dilation(options.dilation[i]);
        g.kernel_extent()?;
        if input[i] == 0 {
            return Err(Error::EmptyInput { axis });
        }
        options.padding.resolve(g, operation)
    };
    Ok([axis_geometry(0, Axis::Height)?, axis_geometry(1, Axis::Width)?])
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

/// One layer of a stack whose receptive field [`receptive_fields`]
/// computes: kernel taps, stride, dilation and the padding before the input.
///
/// # Examples
///
/// ```
/// use convolve::shape::Layer;
/// let layer = Layer::new(3).stride(2).padding(1);
/// assert_eq!((layer.kernel, layer.stride, layer.dilation, layer.padding), (3, 2, 1, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layer {
    /// Kernel taps.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation.
    pub dilation: usize,
    /// Padding before the input (the padding after it does not move the
    /// first output's field).
    pub padding: usize,
}

impl Layer {
    /// A layer with `kernel` taps, stride 1, dilation 1 and no padding.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::Layer;
    /// assert_eq!(Layer::new(5).kernel, 5);
    /// ```
    #[must_use]
    pub const fn new(kernel: usize) -> Self {
        Layer {
            kernel,
            stride: 1,
            dilation: 1,
            padding: 0,
        }
    }

    /// Sets the stride.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::Layer;
    /// assert_eq!(Layer::new(3).stride(2).stride, 2);
    /// ```
    #[must_use]
    pub const fn stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the dilation.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::Layer;
    /// assert_eq!(Layer::new(3).dilation(2).dilation, 2);
    /// ```
    #[must_use]
    pub const fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = dilation;
        self
    }

    /// Sets the padding before the input.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::Layer;
    /// assert_eq!(Layer::new(3).padding(1).padding, 1);
    /// ```
    #[must_use]
    pub const fn padding(mut self, padding: usize) -> Self {
        self.padding = padding;
        self
    }
}

/// The receptive field of one layer's outputs in the network's input.
///
/// Output `i` of the layer sees input positions
/// `start + i*jump ..= start + i*jump + size - 1`; `start` is negative when
/// padding puts the first field partly outside the input.
///
/// # Examples
///
/// ```
/// use convolve::shape::{receptive_fields, Layer};
/// let rf = receptive_fields(&[Layer::new(3).padding(1)])?[0];
/// assert_eq!((rf.size, rf.jump, rf.start), (3, 1, -1));
/// assert_eq!(rf.center_of(0), 0.0);
/// # Ok::<(), convolve::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReceptiveField {
    /// How many input positions one output sees.
    pub size: usize,
    /// How far apart, in input positions, two neighbouring outputs' fields
    /// start (the product of the strides so far).
    pub jump: usize,
    /// The first input position seen by output 0.
    pub start: isize,
}

impl ReceptiveField {
    /// The centre of output `i`'s field, in input coordinates.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::{receptive_fields, Layer};
    /// let rf = receptive_fields(&[Layer::new(11).stride(4)])?[0];
    /// assert_eq!(rf.center_of(1), 9.0);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub fn center_of(&self, i: usize) -> f64 {
        self.start as f64 + (i as f64) * (self.jump as f64) + (self.size as f64 - 1.0) / 2.0
    }
}

/// The receptive field after each layer of a stack, first layer first.
///
/// With `r`, `j`, `s` the previous layer's size, jump and start (1, 1 and 0
/// for the input itself), a layer with kernel `k`, stride `t`, dilation `d`
/// and padding `p` gives size `r + d(k-1)j`, jump `j t` and start
/// `s - p j` (the recurrences of Araujo, Norris & Sim, "Computing Receptive
/// Fields of Convolutional Neural Networks", Distill 2019).
///
/// # Errors
///
/// [`Error::ZeroStride`], [`Error::ZeroDilation`], [`Error::EmptyKernel`]
/// for a bad layer, or [`Error::Overflow`].
///
/// # Examples
///
/// ```
/// use convolve::shape::{receptive_fields, Layer};
///
/// // Two 3×3 convolutions see as far as one 5×5; a stride-2 pool doubles the jump.
/// let fields = receptive_fields(&[Layer::new(3), Layer::new(3), Layer::new(2).stride(2)])?;
/// let sizes: Vec<_> = fields.iter().map(|f| (f.size, f.jump)).collect();
/// assert_eq!(sizes, [(3, 1), (5, 1), (6, 2)]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn receptive_fields(layers: &[Layer]) -> Result<Vec<ReceptiveField>> {
    let overflow = || Error::Overflow {
        what: "the receptive field",
    };
    let mut field = ReceptiveField {
        size: 1,
        jump: 1,
        start: 0,
    };
    let mut fields = Vec::with_capacity(layers.len());
    for layer in layers {
        let extent = AxisGeometry::new(0, layer.kernel)
            .stride(layer.stride)
            .dilation(layer.dilation)
            .kernel_extent()?;
        let size = (extent - 1)
            .checked_mul(field.jump)
            .and_then(|grow| grow.checked_add(field.size))
            .ok_or_else(overflow)?;
        let shift = layer
            .padding
            .checked_mul(field.jump)
            .and_then(|shift| isize::try_from(shift).ok())
            .ok_or_else(overflow)?;
        field = ReceptiveField {
            size,
            jump: field.jump.checked_mul(layer.stride).ok_or_else(overflow)?,
            start: field.start.checked_sub(shift).ok_or_else(overflow)?,
        };
        fields.push(field);
    }
    Ok(fields)
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

    #[test]
    fn receptive_field_of_alexnet_conv1_and_pool() {
        // conv 11/4, then max-pool 3/2: size 11 + 2*4 = 19, jump 8.
        let f = receptive_fields(&[Layer::new(11).stride(4), Layer::new(3).stride(2)]).unwrap();
        assert_eq!(f[1].size, 19);
        assert_eq!(f[1].jump, 8);
        assert_eq!(f[1].start, 0);
    }
}
