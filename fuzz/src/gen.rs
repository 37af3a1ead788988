//! Inputs the fuzzer builds from raw bytes with `arbitrary`.
//!
//! Each type maps its bytes onto the values that matter: lengths are
//! mostly small (so that computations run) but also 0 and the numbers
//! where usize arithmetic breaks; elements are mostly small integers and
//! fractions (so that results can be compared to a tolerance) but also
//! NaN, infinities, subnormals and huge magnitudes.

use arbitrary::Arbitrary;
use convolve::{Algorithm, Boundary, ConvOptions, Element, Padding, PerAxis};

/// A usize among those where overflow checks matter.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Big {
    /// `2^(b % 64)`.
    Pow2(u8),
    /// `2^(b % 64) - 1`.
    Pow2Minus1(u8),
    /// `2^(b % 64) + 1`.
    Pow2Plus1(u8),
    /// `2^32` offset by a little: its square is just around `2^64`.
    Sqrt(i8),
    /// `usize::MAX - b`.
    MaxMinus(u8),
    /// `isize::MAX + b`, around the limit of ndarray's element count.
    IsizeMax(i8),
    /// Anything.
    Raw(usize),
}

impl Big {
    /// The value.
    pub fn get(self) -> usize {
        match self {
            Big::Pow2(b) => 1 << (b % 64),
            Big::Pow2Minus1(b) => (1usize << (b % 64)) - 1,
            Big::Pow2Plus1(b) => (1usize << (b % 64)) + 1,
            Big::Sqrt(b) => (1usize << 32).wrapping_add_signed(b as isize),
            Big::MaxMinus(b) => usize::MAX - b as usize,
            Big::IsizeMax(b) => (isize::MAX as usize).wrapping_add_signed(b as isize),
            Big::Raw(v) => v,
        }
    }
}

/// An array length: mostly small, sometimes 0, sometimes huge.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Len {
    /// `0..=4`.
    Tiny(u8),
    /// `0..=40`.
    Small(u8),
    /// `0..=299`.
    Medium(u16),
    /// Anything, biased to the edges of usize.
    Big(Big),
}

impl Len {
    /// The value.
    pub fn get(self) -> usize {
        match self {
            Len::Tiny(b) => (b % 5) as usize,
            Len::Small(b) => (b % 41) as usize,
            Len::Medium(b) => (b % 300) as usize,
            Len::Big(b) => b.get(),
        }
    }
}

/// A stride, dilation, padding, output padding or group count: mostly
/// `0..=5`, sometimes huge.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Param {
    /// `0..=5`.
    Small(u8),
    /// Anything, biased to the edges of usize.
    Big(Big),
}

impl Param {
    /// The value.
    pub fn get(self) -> usize {
        match self {
            Param::Small(b) => (b % 6) as usize,
            Param::Big(b) => b.get(),
        }
    }
}

/// A group count: 1 half the time, so that single-channel problems get
/// past the group check.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum GroupsSpec {
    /// 1.
    One,
    /// Anything.
    Other(Param),
}

impl GroupsSpec {
    /// The value.
    pub fn get(self) -> usize {
        match self {
            GroupsSpec::One => 1,
            GroupsSpec::Other(p) => p.get(),
        }
    }
}

/// Every kind of [`Padding`].
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum PaddingSpec {
    /// [`Padding::Valid`].
    Valid,
    /// [`Padding::Same`].
    Same,
    /// [`Padding::Full`].
    Full,
    /// [`Padding::uniform`].
    Uniform(Param),
    /// [`Padding::Explicit`]: top, bottom, left, right.
    Explicit([Param; 4]),
}

impl PaddingSpec {
    /// The padding.
    pub fn get(self) -> Padding {
        match self {
            PaddingSpec::Valid => Padding::Valid,
            PaddingSpec::Same => Padding::Same,
            PaddingSpec::Full => Padding::Full,
            PaddingSpec::Uniform(p) => Padding::uniform(p.get()),
            PaddingSpec::Explicit([top, bottom, left, right]) => Padding::Explicit {
                top: top.get(),
                bottom: bottom.get(),
                left: left.get(),
                right: right.get(),
            },
        }
    }
}

/// Every kind of [`Boundary`].
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum BoundarySpec {
    /// [`Boundary::Fill`] with this value.
    Fill(Value),
    /// [`Boundary::Wrap`].
    Wrap,
    /// [`Boundary::Symmetric`].
    Symmetric,
    /// [`Boundary::Reflect`].
    Reflect,
    /// [`Boundary::Replicate`].
    Replicate,
}

impl BoundarySpec {
    /// The boundary rule, with the fill value converted by `convert` (see
    /// [`OptionsSpec::get`]).
    pub fn get<A: Element>(self, convert: impl Fn(Value) -> A) -> Boundary {
        match self {
            BoundarySpec::Fill(v) => Boundary::Fill(convert(v)),
            BoundarySpec::Wrap => Boundary::Wrap,
            BoundarySpec::Symmetric => Boundary::Symmetric,
            BoundarySpec::Reflect => Boundary::Reflect,
            BoundarySpec::Replicate => Boundary::Replicate,
        }
    }
}

/// The algorithms of the 2-D targets, which predate `Separable` and
/// `Winograd` (a type of its own keeps their kept inputs decoding as they
/// did).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum AlgorithmSpec {
    /// [`Algorithm::Auto`].
    Auto,
    /// [`Algorithm::Direct`].
    Direct,
    /// [`Algorithm::Vectorized`].
    Vectorized,
    /// [`Algorithm::Gemm`].
    Gemm,
    /// [`Algorithm::Fft`].
    Fft,
}

impl AlgorithmSpec {
    /// The algorithm.
    pub fn get(self) -> Algorithm {
        match self {
            AlgorithmSpec::Auto => Algorithm::Auto,
            AlgorithmSpec::Direct => Algorithm::Direct,
            AlgorithmSpec::Vectorized => Algorithm::Vectorized,
            AlgorithmSpec::Gemm => Algorithm::Gemm,
            AlgorithmSpec::Fft => Algorithm::Fft,
        }
    }
}

/// Every [`Algorithm`].
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum AnyAlgorithmSpec {
    /// One of the 2-D targets' algorithms.
    Listed(AlgorithmSpec),
    /// [`Algorithm::Separable`].
    Separable,
    /// [`Algorithm::Winograd`].
    Winograd,
}

impl AnyAlgorithmSpec {
    /// The algorithm.
    pub fn get(self) -> Algorithm {
        match self {
            AnyAlgorithmSpec::Listed(a) => a.get(),
            AnyAlgorithmSpec::Separable => Algorithm::Separable,
            AnyAlgorithmSpec::Winograd => Algorithm::Winograd,
        }
    }
}

/// The algorithms the 2-D targets compare with `Direct`, the oracle.
pub const FAST_ALGORITHMS: [Algorithm; 4] = [Algorithm::Vectorized, Algorithm::Gemm, Algorithm::Fft, Algorithm::Auto];

/// Every algorithm but `Direct`: what the 1-D and 3-D targets compare
/// with it.
pub const EVERY_FAST_ALGORITHM: [Algorithm; 6] = [
    Algorithm::Vectorized,
    Algorithm::Gemm,
    Algorithm::Fft,
    Algorithm::Separable,
    Algorithm::Winograd,
    Algorithm::Auto,
];

/// Every field of [`ConvOptions`].
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct OptionsSpec {
    /// Rows, columns.
    pub stride: [Param; 2],
    /// Rows, columns.
    pub dilation: [Param; 2],
    /// Padding.
    pub padding: PaddingSpec,
    /// Channel groups.
    pub groups: GroupsSpec,
    /// Boundary rule.
    pub boundary: BoundarySpec,
    /// Algorithm of the first, shape-checking call.
    pub algorithm: AlgorithmSpec,
    /// Rows, columns (transposed convolution only).
    pub output_padding: [Param; 2],
}

impl OptionsSpec {
    /// The options, with the fill value converted by `convert`: a fill of
    /// the element type `A` the options are used with, which converts to
    /// it exactly (so that no call fails with `Error::FillValue`).
    pub fn get<A: Element>(&self, convert: impl Fn(Value) -> A) -> ConvOptions {
        ConvOptions {
            stride: PerAxis::Two(self.stride.map(Param::get)),
            dilation: PerAxis::Two(self.dilation.map(Param::get)),
            padding: self.padding.get(),
            groups: self.groups.get(),
            boundary: self.boundary.get(convert),
            algorithm: self.algorithm.get(),
            output_padding: PerAxis::Two(self.output_padding.map(Param::get)),
        }
    }
}

/// A [`PerAxis`] value for calls of any rank: mostly what the call accepts
/// (`All`, or the per-axis form of its own rank), otherwise the per-axis
/// form of another rank (one time in four for rank 1, in eight for ranks
/// 2 and 3), so that `Error::OptionRank` is reached.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct PerAxisSpec {
    /// Which form (see [`PerAxisSpec::get`]).
    pub form: u8,
    /// The values, first axis first.
    pub values: [Param; 3],
}

impl PerAxisSpec {
    /// The value for a call of spatial rank `rank`: by `form % 8`, 0 gives
    /// `Two`, 1 `Three`, 2 to 4 the per-axis form of `rank` (`All` for
    /// rank 1, which has none), 5 to 7 `All`.
    pub fn get(self, rank: usize) -> PerAxis {
        let [a, b, c] = self.values.map(Param::get);
        match (self.form % 8, rank) {
            (0, _) | (2..=4, 2) => PerAxis::Two([a, b]),
            (1, _) | (2..=4, 3) => PerAxis::Three([a, b, c]),
            _ => PerAxis::All(a),
        }
    }
}

/// Every [`Padding`], explicit ones of every rank included.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum PaddingNdSpec {
    /// `Valid`, `Same`, `Full` or a 2-D explicit padding.
    Shared(PaddingSpec),
    /// [`Padding::Explicit1d`]: left, right.
    Explicit1d([Param; 2]),
    /// [`Padding::Explicit3d`]: front, back, top, bottom, left, right.
    Explicit3d([Param; 6]),
}

impl PaddingNdSpec {
    /// The padding.
    pub fn get(self) -> Padding {
        match self {
            PaddingNdSpec::Shared(p) => p.get(),
            PaddingNdSpec::Explicit1d([left, right]) => Padding::Explicit1d {
                left: left.get(),
                right: right.get(),
            },
            PaddingNdSpec::Explicit3d(sides) => {
                let [front, back, top, bottom, left, right] = sides.map(Param::get);
                Padding::Explicit3d {
                    front,
                    back,
                    top,
                    bottom,
                    left,
                    right,
                }
            }
        }
    }
}

/// Every field of [`ConvOptions`], per-axis values and explicit paddings
/// of every rank, for the targets of calls other than 2-D.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct OptionsNdSpec {
    /// Stride.
    pub stride: PerAxisSpec,
    /// Dilation.
    pub dilation: PerAxisSpec,
    /// Padding.
    pub padding: PaddingNdSpec,
    /// Channel groups.
    pub groups: GroupsSpec,
    /// Boundary rule.
    pub boundary: BoundarySpec,
    /// Algorithm of the first, shape-checking call.
    pub algorithm: AnyAlgorithmSpec,
    /// Output padding (transposed convolution only).
    pub output_padding: PerAxisSpec,
}

impl OptionsNdSpec {
    /// The options for a call of spatial rank `rank` (see
    /// [`PerAxisSpec::get`]), the fill value converted as in
    /// [`OptionsSpec::get`].
    pub fn get<A: Element>(&self, rank: usize, convert: impl Fn(Value) -> A) -> ConvOptions {
        ConvOptions {
            stride: self.stride.get(rank),
            dilation: self.dilation.get(rank),
            padding: self.padding.get(),
            groups: self.groups.get(),
            boundary: self.boundary.get(convert),
            algorithm: self.algorithm.get(),
            output_padding: self.output_padding.get(rank),
        }
    }
}

/// One element, as `f64` or as `i64`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Value {
    /// A small integer.
    Int(i8),
    /// A fraction `v / 256`.
    Frac(i16),
    /// Any bit pattern: any magnitude, NaN, infinities, subnormals.
    Raw(u64),
    /// One of the values where floating point is awkward.
    Special(u8),
}

const SPECIAL_F64: [f64; 16] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -0.0,
    5e-324,
    -5e-324,
    f64::MIN_POSITIVE,
    2.2250738585072e-308, // just below MIN_POSITIVE: subnormal
    f64::MAX,
    f64::MIN,
    1e6,
    -1e6,
    1e300,
    1e-300,
    9007199254740993.0,
    0.1,
];

const SPECIAL_I64: [i64; 16] = [
    i64::MIN,
    i64::MAX,
    -1,
    0,
    1,
    i64::MIN + 1,
    i64::MAX - 1,
    1 << 32,
    -(1 << 32),
    (1 << 31) - 1,
    1 << 62,
    -(1 << 62),
    3037000499, // floor(sqrt(i64::MAX))
    3037000500,
    255,
    -256,
];

impl Value {
    /// As `f64`.
    pub fn f64(self) -> f64 {
        match self {
            Value::Int(v) => v as f64,
            Value::Frac(v) => v as f64 / 256.0,
            Value::Raw(bits) => f64::from_bits(bits),
            Value::Special(k) => SPECIAL_F64[k as usize % SPECIAL_F64.len()],
        }
    }

    /// As `i64`.
    pub fn i64(self) -> i64 {
        match self {
            Value::Int(v) => v as i64,
            Value::Frac(v) => v as i64,
            Value::Raw(bits) => bits as i64,
            Value::Special(k) => SPECIAL_I64[k as usize % SPECIAL_I64.len()],
        }
    }
}

/// The memory layout of an array the fuzzer hands over; the logical
/// content is the same for all of them.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Layout {
    /// Row-major, contiguous.
    Standard,
    /// Column-major, contiguous.
    Fortran,
    /// The first axis stored backwards (a negative stride).
    Reversed,
    /// Every other element of a buffer twice as long along the last axis.
    Strided,
}
