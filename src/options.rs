//! The options every convolution entry point takes: how much padding, how
//! it is filled, stride, dilation, groups and the algorithm.
//!
//! This module is a leaf: the shape arithmetic and the kernels read these
//! values, nothing here reads them.

use std::fmt;

use num_complex::Complex;

use crate::conv::Element;
use crate::error::{Error, Result};

/// How much padding surrounds the input, before the boundary rule fills it.
///
/// Resolved per axis to `(lo, hi)` by [`Padding::resolve`]:
///
/// | variant | `(lo, hi)` | output length (stride 1) |
/// |---|---|---|
/// | `Valid` | `(0, 0)` | `n - d(k-1)` |
/// | `Same` | total `max((ceil(n/s)-1)s + d(k-1) + 1 - n, 0)`, split below | `ceil(n / s)` |
/// | `Full` | `(d(k-1), d(k-1))` | `n + d(k-1)` |
/// | `Explicit` (2-D) | `(top, bottom)` rows, `(left, right)` columns | formula |
/// | `Explicit1d` | `(left, right)` | formula |
/// | `Explicit3d` | `(front, back)` planes, then as `Explicit` | formula |
///
/// `Valid`, `Same` and `Full` serve calls of every spatial rank; an
/// explicit padding serves the rank it names, and a call of another rank
/// returns [`Error::OptionRank`].
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
    /// Padding given explicitly for each end of a 1-D input.
    Explicit1d {
        /// Elements before the first.
        left: usize,
        /// Elements after the last.
        right: usize,
    },
    /// Padding given explicitly for each side of a 3-D input `[D, H, W]`.
    Explicit3d {
        /// Planes before the first plane.
        front: usize,
        /// Planes after the last plane.
        back: usize,
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
    /// The spatial rank an explicit padding is for (`None` for `Valid`,
    /// `Same` and `Full`, which serve every rank).
    pub(crate) fn explicit_rank(&self) -> Option<usize> {
        match self {
            Padding::Valid | Padding::Same | Padding::Full => None,
            Padding::Explicit1d { .. } => Some(1),
            Padding::Explicit { .. } => Some(2),
            Padding::Explicit3d { .. } => Some(3),
        }
    }

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

    /// The same explicit padding on all six sides of a volume.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::Padding;
    /// assert_eq!(
    ///     Padding::uniform3d(1),
    ///     Padding::Explicit3d { front: 1, back: 1, top: 1, bottom: 1, left: 1, right: 1 }
    /// );
    /// ```
    #[must_use]
    pub const fn uniform3d(pad: usize) -> Self {
        Padding::Explicit3d {
            front: pad,
            back: pad,
            top: pad,
            bottom: pad,
            left: pad,
            right: pad,
        }
    }
}

/// How the input is extended into its padding.
///
/// Each rule extends the input the way `numpy.pad` does, for any amount of
/// padding, even more than the input's length. For the row `a b c d`:
///
/// ```text
///                      padding   input     padding
/// Fill(0)              0 0 0  |  a b c d  |  0 0 0
/// Wrap                 b c d  |  a b c d  |  a b c
/// Symmetric            c b a  |  a b c d  |  d c b
/// Reflect              d c b  |  a b c d  |  c b a
/// Replicate            a a a  |  a b c d  |  d d d
/// ```
///
/// | this crate | `scipy.signal` `boundary=` | PyTorch `padding_mode=` | `numpy.pad` `mode=` |
/// |---|---|---|---|
/// | `Fill(v)` | `'fill'`, `fillvalue=v` | `'zeros'` (v = 0) | `'constant'` |
/// | `Wrap` | `'wrap'` | `'circular'` | `'wrap'` |
/// | `Symmetric` | `'symm'` | – | `'symmetric'` |
/// | `Reflect` | – | `'reflect'` | `'reflect'` |
/// | `Replicate` | – | `'replicate'` | `'edge'` |
///
/// # Examples
///
/// ```
/// use convolve::{correlate2d, Boundary, ConvOptions, Padding};
/// use ndarray::array;
///
/// // Summing each element with its left and right neighbours, wrapping around.
/// let x = array![[1.0, 2.0, 3.0, 4.0]];
/// let k = array![[1.0, 1.0, 1.0]];
/// let opts = ConvOptions::new().padding(Padding::Same).boundary(Boundary::Wrap);
/// assert_eq!(correlate2d(&x, &k, &opts)?, array![[7.0, 6.0, 9.0, 8.0]]);
/// # Ok::<(), convolve::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Boundary {
    /// Padding holds this value; [`Boundary::Fill`] makes one from a
    /// number, and the default is zero padding.
    Constant(FillValue),
    /// The input repeats periodically.
    Wrap,
    /// Mirrored with the edge element repeated.
    Symmetric,
    /// Mirrored about the edge element, which is not repeated.
    Reflect,
    /// The edge element repeated.
    Replicate,
}

impl Default for Boundary {
    /// Zero padding.
    fn default() -> Self {
        Boundary::Constant(FillValue::default())
    }
}

impl Default for FillValue {
    /// Zero, of every element type.
    fn default() -> Self {
        FillValue(Scalar::I32(0))
    }
}

impl Boundary {
    /// Padding filled with `value` (zero padding for `Fill(0)`), a number
    /// of any element type: `Boundary::Fill(0.5)`, `Boundary::Fill(7)`,
    /// `Boundary::Fill(Complex::new(1.0, 2.0))`.
    ///
    /// The value is kept as given and converted to the element type of
    /// each call that uses it: exactly, or an [`Error::FillValue`] if it
    /// has no exact equivalent there (`2.5` for integers, a complex number
    /// with an imaginary part for real arrays, `2^24 + 1` for `f32`).
    /// One exception makes literals work as written: a floating-point
    /// value used with `f32` arrays is rounded to the nearest `f32`, as
    /// the literal `0.1f32` is.
    ///
    /// This is a function named like the variant it stood for when the
    /// options were tied to one element type, so that `Boundary::Fill(v)`
    /// reads as before; match on [`Boundary::Constant`].
    ///
    /// [`Error::FillValue`]: crate::Error::FillValue
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{correlate2d, Boundary, ConvOptions, Padding};
    /// use ndarray::array;
    ///
    /// let opts = ConvOptions::new().padding(Padding::Same).boundary(Boundary::Fill(10));
    /// // The same options serve integers and floating point.
    /// assert_eq!(correlate2d(&array![[1, 2]], &array![[1, 1, 1]], &opts)?, array![[13, 13]]);
    /// assert_eq!(correlate2d(&array![[1.5]], &array![[1.0, 1.0]], &opts)?, array![[11.5]]);
    /// // 0.5 has no integer equivalent.
    /// let half = ConvOptions::new().padding(Padding::Full).boundary(Boundary::Fill(0.5));
    /// assert!(correlate2d(&array![[1]], &array![[1, 1]], &half).is_err());
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[allow(non_snake_case)]
    #[must_use]
    pub fn Fill<T: Element>(value: T) -> Boundary {
        Boundary::Constant(FillValue(value.to_scalar()))
    }

    /// The fill value as an `A`: the [`Boundary::Constant`] value converted
    /// as [`Boundary::Fill`] describes, zero for the other rules (which
    /// never read it).
    ///
    /// # Errors
    ///
    /// [`Error::FillValue`](crate::Error::FillValue) if the value has no
    /// exact equivalent in `A`.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::Boundary;
    /// assert_eq!(Boundary::Fill(3).fill::<f64>()?, 3.0);
    /// assert_eq!(Boundary::Wrap.fill::<i64>()?, 0);
    /// assert!(Boundary::Fill(3.5).fill::<i32>().is_err());
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn fill<A: Element>(&self) -> Result<A> {
        match self {
            Boundary::Constant(FillValue(scalar)) => A::from_scalar(*scalar).ok_or_else(|| Error::FillValue {
                value: scalar.to_string(),
                element: A::NAME,
            }),
            _ => Ok(A::zero()),
        }
    }
}

/// The value of a [`Boundary::Constant`] padding: a number of any element
/// type, kept exactly as given (see [`Boundary::Fill`]).
///
/// # Examples
///
/// ```
/// use convolve::{Boundary, FillValue};
/// let Boundary::Constant(v) = Boundary::Fill(-1) else { unreachable!() };
/// assert_eq!(v, FillValue::new(-1));
/// assert_eq!(v.to_string(), "-1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FillValue(Scalar);

impl FillValue {
    /// The fill value `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Boundary, FillValue};
    /// assert_eq!(Boundary::Constant(FillValue::new(2.5)), Boundary::Fill(2.5));
    /// ```
    #[must_use]
    pub fn new<T: Element>(value: T) -> FillValue {
        FillValue(value.to_scalar())
    }
}

impl fmt::Display for FillValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A number of one of the element types, as given. (`pub` only because
/// the sealed element `Capabilities` name it; the module is private.)
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// A `Complex<f32>`.
    C32(Complex<f32>),
    /// A `Complex<f64>`.
    C64(Complex<f64>),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::F32(v) => write!(f, "{v}"),
            Scalar::F64(v) => write!(f, "{v}"),
            Scalar::I32(v) => write!(f, "{v}"),
            Scalar::I64(v) => write!(f, "{v}"),
            Scalar::C32(v) => write!(f, "{v}"),
            Scalar::C64(v) => write!(f, "{v}"),
        }
    }
}

/// Which kernel family computes a convolution.
///
/// [`Algorithm::Auto`] lets the crate choose; the other variants force one,
/// for benchmarking or for comparing results. Every algorithm returns the
/// same numbers as [`Algorithm::Direct`] (exactly for integers, to rounding
/// for floating point), and the same bits whatever the number of threads.
///
/// `Auto` picks from the shapes, the element type and the options alone
/// (and, for the two paths that depend on them, whether every kernel is
/// rank 1 and whether the data are finite): integers run
/// [`Algorithm::Vectorized`]; single-channel and depthwise filters with
/// rank-1 kernels run [`Algorithm::Separable`], large ones at stride 1
/// [`Algorithm::Fft`]; layers with many output channels per group and
/// enough multiply-adds per output run [`Algorithm::Gemm`]; everything
/// else runs [`Algorithm::Vectorized`]. A fast algorithm, chosen or
/// forced, gives way to [`Algorithm::Direct`] when the padded input one
/// output row reads would be huge, which keeps working memory bounded, and
/// a forced algorithm that does not apply (the variants below say when)
/// runs [`Algorithm::Vectorized`]. The thresholds are in
/// `docs/algorithms.md`; [`conv2d_algorithm`](crate::conv2d_algorithm) and
/// [`correlate2d_algorithm`](crate::correlate2d_algorithm) say what will
/// run without running it (for a kernel that is not separable: they do
/// not see the kernel's values).
///
/// # Examples
///
/// ```
/// use convolve::{Algorithm, ConvOptions};
/// let opts = ConvOptions::new().algorithm(Algorithm::Direct);
/// assert_eq!(opts.algorithm, Algorithm::Direct);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Chosen by the crate from the shapes, element type and options.
    #[default]
    Auto,
    /// The plain direct loop: one multiply-add per kernel tap and output
    /// element, each input read through the boundary rule. The reference
    /// every other algorithm is tested against; slow.
    Direct,
    /// The direct definition, vectorized: the padded input rows of a block
    /// of output rows are copied once into a small tile, and a register
    /// block of outputs (up to 256 bytes of them: 64 `f32`, 32 `f64`)
    /// accumulates every kernel tap at a time. Best for small
    /// kernels, single-channel filtering and depthwise convolution; exact
    /// for integers.
    Vectorized,
    /// Blocked implicit GEMM: each block of output rows gathers its input
    /// patches into a small matrix and multiplies it by the weights, so
    /// every patch serves all output channels of its group. Best for
    /// multi-channel layers. Integer elements, which have no fast matrix
    /// product, run [`Algorithm::Vectorized`] instead.
    Gemm,
    /// Tiled FFT correlation (overlap-save with real 2-D FFTs): work per
    /// output grows with `log(kh·kw)` instead of `kh·kw`, so it wins for
    /// large kernels. Real floating point at stride 1 only, with kernel
    /// spectra of bounded size; anything else runs
    /// [`Algorithm::Vectorized`]. A NaN or infinity spreads over the whole
    /// tile it falls in, which is why `Auto` never picks this path for
    /// non-finite data (nor for values near the type's largest).
    Fft,
    /// Two one-dimensional passes for rank-1 kernels (`k = u vᵀ`, such as
    /// box and Gaussian filters): `kh + kw` multiply-adds per output instead
    /// of `kh · kw`. Real floating point, one input and one output channel
    /// per group, and every kernel rank 1 to within a few rounding errors
    /// of its largest tap; anything else runs [`Algorithm::Vectorized`].
    /// Each block of output rows filters only the input rows it reads, into
    /// a ring of as many lines as the kernel spans, so working memory stays
    /// a few lines per thread however large the image.
    Separable,
    /// Winograd's minimal filtering `F(4×4, 3×3)`: each 4×4 tile of
    /// outputs comes from a 6×6 tile of input through fixed transforms,
    /// with 36 multiplies per input channel instead of 144, done as 36
    /// matrix products over all tiles of a block. Real floating point, 3×3
    /// kernels, stride 1 (a dilated kernel is split into interleaved
    /// undilated problems); anything else runs [`Algorithm::Vectorized`].
    /// The transforms amplify rounding errors (still within `f32`'s 1e-4
    /// of the largest output on the data measured in
    /// `docs/algorithms.md`), a NaN or infinity spreads over the whole
    /// 4×4 tile it falls in, and values near the type's largest can
    /// overflow in the transforms. `Auto` picks it for 3×3 layers at
    /// stride 1 and dilation up to 2 with at least 64 input and output
    /// channels per group on images of at least 32×32 outputs, where it
    /// measured faster than [`Algorithm::Gemm`], and only for finite data
    /// far from overflow.
    Winograd,
}

/// One value per spatial axis of a convolution: the same on every axis
/// whatever the call's rank, or one for each axis of a call of one rank.
///
/// [`ConvOptions::stride`] and its siblings set `All`, which serves calls
/// of every rank; [`ConvOptions::strides`] sets `Two` (rows, columns) and
/// [`ConvOptions::strides3d`] sets `Three` (planes, rows, columns), which
/// a call of another rank refuses with [`Error::OptionRank`] rather than
/// guess. (A 1-D call has one axis: `All` is its per-axis form.)
///
/// It compares equal to the array of per-axis values it gives a call of
/// that array's length.
///
/// # Examples
///
/// ```
/// use convolve::{ConvOptions, PerAxis};
///
/// let opts = ConvOptions::new().stride(2);
/// assert_eq!(opts.stride, PerAxis::All(2));
/// assert_eq!(opts.stride, [2, 2]);
/// assert_eq!(opts.stride, [2]);
/// assert_eq!(ConvOptions::new().strides(1, 2).stride, [1, 2]);
/// assert_eq!(ConvOptions::new().strides3d(1, 2, 2).stride, [1, 2, 2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PerAxis {
    /// The same value on every spatial axis, for calls of every rank.
    All(usize),
    /// Rows, columns: for 2-D calls.
    Two([usize; 2]),
    /// Planes (depth), rows, columns: for 3-D calls.
    Three([usize; 3]),
}

impl PerAxis {
    /// The values a call of spatial rank `R` uses, one per axis, or `None`
    /// if they were given per axis for another rank.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::PerAxis;
    /// assert_eq!(PerAxis::All(2).of_rank::<1>(), Some([2]));
    /// assert_eq!(PerAxis::Two([1, 2]).of_rank::<2>(), Some([1, 2]));
    /// assert_eq!(PerAxis::Two([1, 2]).of_rank::<1>(), None);
    /// ```
    #[must_use]
    pub fn of_rank<const R: usize>(self) -> Option<[usize; R]> {
        match self {
            PerAxis::All(v) => Some([v; R]),
            PerAxis::Two(values) => values.as_slice().try_into().ok(),
            PerAxis::Three(values) => values.as_slice().try_into().ok(),
        }
    }

    /// Whether every axis has the value `value`.
    pub(crate) fn all_equal(self, value: usize) -> bool {
        match self {
            PerAxis::All(v) => v == value,
            PerAxis::Two(values) => values.iter().all(|&v| v == value),
            PerAxis::Three(values) => values.iter().all(|&v| v == value),
        }
    }

    /// How many axes the values were given for (`None` for `All`).
    fn rank(self) -> Option<usize> {
        match self {
            PerAxis::All(_) => None,
            PerAxis::Two(_) => Some(2),
            PerAxis::Three(_) => Some(3),
        }
    }

    /// [`PerAxis::of_rank`], or [`Error::OptionRank`] naming `option`.
    pub(crate) fn for_rank<const R: usize>(self, option: &'static str) -> Result<[usize; R]> {
        self.of_rank::<R>().ok_or(Error::OptionRank {
            option,
            given: self.rank().unwrap_or(R),
            call: R,
        })
    }
}

impl<const R: usize> PartialEq<[usize; R]> for PerAxis {
    fn eq(&self, other: &[usize; R]) -> bool {
        self.of_rank::<R>() == Some(*other)
    }
}

impl From<[usize; 2]> for PerAxis {
    fn from(values: [usize; 2]) -> Self {
        PerAxis::Two(values)
    }
}

impl From<[usize; 3]> for PerAxis {
    fn from(values: [usize; 3]) -> Self {
        PerAxis::Three(values)
    }
}

/// Stride, padding, dilation, groups, boundary rule and algorithm of a
/// convolution, built from [`ConvOptions::new`] with chained setters.
///
/// The defaults are those of `scipy.signal.correlate2d` in `'valid'` mode
/// and of PyTorch's `conv2d`: stride 1, [`Padding::Valid`], dilation 1,
/// 1 group, [`Boundary::Fill`] with zero, [`Algorithm::Auto`].
///
/// The options are checked when a convolution runs, against the shapes it
/// is given; the setters accept anything.
///
/// ```text
/// stride 2, dilation 2, padding 1 (row view; k = kernel tap, . = skipped)
///
///   pad  x0 x1 x2 x3 x4 x5 x6  pad
///   k0   .  k1 .  k2                 -> y0
///        .  k0 .  k1 .  k2           -> y1
///               k0 .  k1 .  k2       -> y2
/// ```
///
/// # Examples
///
/// ```
/// use convolve::{Boundary, ConvOptions, Padding};
///
/// let opts = ConvOptions::new()
///     .strides(2, 1)
///     .padding(Padding::Same)
///     .dilation(1)
///     .boundary(Boundary::Reflect);
/// assert_eq!(opts.stride, [2, 1]);
/// assert_eq!(opts.boundary, Boundary::Reflect);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvOptions {
    /// Step between output positions, per spatial axis.
    pub stride: PerAxis,
    /// Step between kernel taps, per spatial axis.
    pub dilation: PerAxis,
    /// Padding around the input.
    pub padding: Padding,
    /// Number of channel groups (batched convolution only).
    pub groups: usize,
    /// How the padding is filled.
    pub boundary: Boundary,
    /// Which kernel family computes the result.
    pub algorithm: Algorithm,
    /// Extra outputs at the high end of each axis of a transposed
    /// convolution (PyTorch's `output_padding`); used only by
    /// [`conv_transpose2d`](crate::conv_transpose2d) and
    /// [`conv_transpose1d`](crate::conv_transpose1d).
    pub output_padding: PerAxis,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions {
            stride: PerAxis::All(1),
            dilation: PerAxis::All(1),
            padding: Padding::Valid,
            groups: 1,
            boundary: Boundary::default(),
            algorithm: Algorithm::Auto,
            output_padding: PerAxis::All(0),
        }
    }
}

impl ConvOptions {
    /// The default options: stride 1, no padding, dilation 1, one group,
    /// zero fill, automatic algorithm.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{ConvOptions, Padding, PerAxis};
    /// let opts = ConvOptions::new();
    /// assert_eq!((opts.stride, opts.padding, opts.groups), (PerAxis::All(1), Padding::Valid, 1));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The same stride along every spatial axis (of calls of every rank).
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().stride(4).stride, [4, 4]);
    /// ```
    #[must_use]
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = PerAxis::All(stride);
        self
    }

    /// The stride along the rows and along the columns.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().strides(2, 3).stride, [2, 3]);
    /// ```
    #[must_use]
    pub fn strides(mut self, rows: usize, cols: usize) -> Self {
        self.stride = PerAxis::Two([rows, cols]);
        self
    }

    /// The stride along the planes, the rows and the columns of a 3-D call.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().strides3d(1, 2, 2).stride, [1, 2, 2]);
    /// ```
    #[must_use]
    pub fn strides3d(mut self, depth: usize, rows: usize, cols: usize) -> Self {
        self.stride = PerAxis::Three([depth, rows, cols]);
        self
    }

    /// The same dilation along every spatial axis (of calls of every rank).
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().dilation(2).dilation, [2, 2]);
    /// ```
    #[must_use]
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = PerAxis::All(dilation);
        self
    }

    /// The dilation along the rows and along the columns.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().dilations(1, 2).dilation, [1, 2]);
    /// ```
    #[must_use]
    pub fn dilations(mut self, rows: usize, cols: usize) -> Self {
        self.dilation = PerAxis::Two([rows, cols]);
        self
    }

    /// The dilation along the planes, the rows and the columns of a 3-D
    /// call.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().dilations3d(2, 1, 1).dilation, [2, 1, 1]);
    /// ```
    #[must_use]
    pub fn dilations3d(mut self, depth: usize, rows: usize, cols: usize) -> Self {
        self.dilation = PerAxis::Three([depth, rows, cols]);
        self
    }

    /// The padding around the input.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{ConvOptions, Padding};
    /// let opts = ConvOptions::new().padding(Padding::uniform(1));
    /// assert_eq!(opts.padding, Padding::Explicit { top: 1, bottom: 1, left: 1, right: 1 });
    /// ```
    #[must_use]
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// The number of channel groups of a batched convolution: the input and
    /// output channels are split into `groups` equal parts, and output
    /// group `g` sees only input group `g`. `groups = C` is a depthwise
    /// convolution.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().groups(128).groups, 128);
    /// ```
    #[must_use]
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// How the padding is filled.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Boundary, ConvOptions};
    /// let opts = ConvOptions::new().boundary(Boundary::Fill(1.5));
    /// assert_eq!(opts.boundary, Boundary::Fill(1.5));
    /// ```
    #[must_use]
    pub fn boundary(mut self, boundary: Boundary) -> Self {
        self.boundary = boundary;
        self
    }

    /// The same output padding along every axis of a transposed
    /// convolution (see [`conv_transpose2d`](crate::conv_transpose2d)).
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().output_padding(1).output_padding, [1, 1]);
    /// ```
    #[must_use]
    pub fn output_padding(mut self, pad: usize) -> Self {
        self.output_padding = PerAxis::All(pad);
        self
    }

    /// The output padding along the rows and along the columns of a
    /// transposed convolution.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().output_paddings(0, 1).output_padding, [0, 1]);
    /// ```
    #[must_use]
    pub fn output_paddings(mut self, rows: usize, cols: usize) -> Self {
        self.output_padding = PerAxis::Two([rows, cols]);
        self
    }

    /// The output padding along the planes, the rows and the columns of a
    /// 3-D transposed convolution.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::ConvOptions;
    /// assert_eq!(ConvOptions::new().output_paddings3d(1, 0, 0).output_padding, [1, 0, 0]);
    /// ```
    #[must_use]
    pub fn output_paddings3d(mut self, depth: usize, rows: usize, cols: usize) -> Self {
        self.output_padding = PerAxis::Three([depth, rows, cols]);
        self
    }

    /// Which algorithm computes the result.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Algorithm, ConvOptions};
    /// assert_eq!(ConvOptions::new().algorithm(Algorithm::Direct).algorithm, Algorithm::Direct);
    /// ```
    #[must_use]
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }
}
