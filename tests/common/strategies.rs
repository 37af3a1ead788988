//! Proptest strategies and the named ranges they draw from.

use std::ops::RangeInclusive;

use convolve::{Algorithm, Boundary, ConvOptions, Padding};
use ndarray::{Array, Array1, Array2, Array4, Dimension, Ix1, Ix2, Ix4};
use proptest::prelude::*;

use super::layouts::Layout;
use super::op::Op;
use super::scalar::Scalar;

/// Largest side of a small random input.
pub const MAX_SIDE: usize = 7;
/// Largest width of a wide random input: wider than the vectorized
/// kernel's 16 lanes, so that rows have full chunks and a remainder.
pub const MAX_WIDE: usize = 40;
/// Height range of a large random input: with `LARGE_WIDTH`, more output
/// rows than one block of work holds, so that block boundaries are crossed.
pub const LARGE_HEIGHT: RangeInclusive<usize> = 20..=48;
/// Width range of a large random input.
pub const LARGE_WIDTH: RangeInclusive<usize> = 100..=160;
/// Largest side of a random kernel.
pub const MAX_KERNEL: usize = 4;
/// Largest random stride.
pub const MAX_STRIDE: usize = 3;
/// Largest random dilation.
pub const MAX_DILATION: usize = 3;
/// Largest random explicit padding on one side; larger than the smallest
/// inputs, so that the boundary rules fold more than once.
pub const MAX_PAD: usize = 4;
/// Largest padding on the long side of a lopsided padding.
pub const MAX_LOPSIDED_PAD: usize = 12;
/// Largest random number of channel groups.
pub const MAX_GROUPS: usize = 3;
/// Largest random number of input (or output) channels per group.
pub const MAX_GROUP_CHANNELS: usize = 2;
/// Output channels per group of the wide batched problems: enough for
/// `Algorithm::Auto` to choose the matrix product.
pub const MANY_OUTPUTS_PER_GROUP: usize = 8;
/// Largest random batch; 0 is included.
pub const MAX_BATCH: usize = 2;
/// Integer elements lie in `-MAX_INT..=MAX_INT`, small enough that no sum
/// comes near wrapping and results are exact.
pub const MAX_INT: i64 = 9;

/// A random array of exactly `shape`.
pub fn tensor<T: Scalar, D: Dimension + 'static>(shape: D) -> impl Strategy<Value = Array<T, D>> {
    prop::collection::vec(T::element(), shape.size())
        .prop_map(move |v| Array::from_shape_vec(shape.clone(), v).expect("the vector has shape.size() elements"))
}

/// A random matrix with both sides in `sides`.
pub fn matrix<T: Scalar>(sides: RangeInclusive<usize>) -> impl Strategy<Value = Array2<T>> {
    (sides.clone(), sides).prop_flat_map(|(rows, cols)| tensor(Ix2(rows, cols)))
}

/// The `(rows, cols)` of a random input: mostly small, so that kernels
/// often overhang it; sometimes wide; now and then large.
pub fn input_shape() -> impl Strategy<Value = (usize, usize)> {
    prop_oneof![
        6 => (1..=MAX_SIDE, 1..=MAX_SIDE),
        3 => (1..=MAX_SIDE, 1..=MAX_WIDE),
        1 => (LARGE_HEIGHT, LARGE_WIDTH),
    ]
}

/// A random input matrix of `input_shape`.
pub fn input<T: Scalar>() -> impl Strategy<Value = Array2<T>> {
    input_shape().prop_flat_map(|(rows, cols)| tensor(Ix2(rows, cols)))
}

/// Two random input matrices of the same `input_shape`.
pub fn input_pair<T: Scalar>() -> impl Strategy<Value = (Array2<T>, Array2<T>)> {
    input_shape().prop_flat_map(|(rows, cols)| (tensor(Ix2(rows, cols)), tensor(Ix2(rows, cols))))
}

/// A random kernel, both sides in `1..=MAX_KERNEL`.
pub fn kernel<T: Scalar>() -> impl Strategy<Value = Array2<T>> {
    matrix(1..=MAX_KERNEL)
}

/// Two random kernels of the same shape.
pub fn kernel_pair<T: Scalar>() -> impl Strategy<Value = (Array2<T>, Array2<T>)> {
    (1..=MAX_KERNEL, 1..=MAX_KERNEL).prop_flat_map(|(rows, cols)| (tensor(Ix2(rows, cols)), tensor(Ix2(rows, cols))))
}

/// Any boundary rule, with a random fill value of type `T`.
pub fn boundary<T: Scalar>() -> impl Strategy<Value = Boundary> {
    prop_oneof![
        T::element().prop_map(Boundary::Fill::<T>),
        Just(Boundary::Wrap),
        Just(Boundary::Symmetric),
        Just(Boundary::Reflect),
        Just(Boundary::Replicate),
    ]
}

/// `Padding::Explicit`: every side in `0..=MAX_PAD`, or lopsided.
pub fn explicit_padding() -> impl Strategy<Value = Padding> {
    prop_oneof![3 => explicit_sides(MAX_PAD), 1 => lopsided_padding()]
}

/// `Padding::Explicit` with every side in `0..=max_pad`.
pub fn explicit_sides(max_pad: usize) -> impl Strategy<Value = Padding> {
    (0..=max_pad, 0..=max_pad, 0..=max_pad, 0..=max_pad).prop_map(|(top, bottom, left, right)| Padding::Explicit {
        top,
        bottom,
        left,
        right,
    })
}

/// `Padding::Explicit` with up to `MAX_LOPSIDED_PAD` on one side of an
/// axis and at most 1 on the other, so that with a stride whole windows
/// (and whole tiles of the fast kernels) lie in the padding and never
/// reach the input.
pub fn lopsided_padding() -> impl Strategy<Value = Padding> {
    let axis =
        (0..=MAX_LOPSIDED_PAD, 0..=1usize, any::<bool>())
            .prop_map(|(big, small, big_first)| if big_first { (big, small) } else { (small, big) });
    (axis.clone(), axis).prop_map(|((top, bottom), (left, right))| Padding::Explicit {
        top,
        bottom,
        left,
        right,
    })
}

/// Any padding.
pub fn any_padding() -> impl Strategy<Value = Padding> {
    prop_oneof![
        Just(Padding::Valid),
        Just(Padding::Same),
        Just(Padding::Full),
        explicit_padding(),
    ]
}

/// Any algorithm, so that every property holds whichever kernel runs.
pub fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Auto),
        Just(Algorithm::Direct),
        Just(Algorithm::Vectorized),
        Just(Algorithm::Gemm),
        Just(Algorithm::Fft),
    ]
}

/// Random strides, dilations, boundary rule (a fill value of type `T`)
/// and algorithm, with a padding drawn from `padding`; one group.
pub fn options<T: Scalar>(padding: impl Strategy<Value = Padding>) -> impl Strategy<Value = ConvOptions> {
    (
        (1..=MAX_STRIDE, 1..=MAX_STRIDE),
        (1..=MAX_DILATION, 1..=MAX_DILATION),
        padding,
        boundary::<T>(),
        algorithm(),
    )
        .prop_map(|((sh, sw), (dh, dw), padding, boundary, algorithm)| {
            ConvOptions::new()
                .strides(sh, sw)
                .dilations(dh, dw)
                .padding(padding)
                .boundary(boundary)
                .algorithm(algorithm)
        })
}

/// A random batched problem: input `[N, C, H, W]`, weight `[O, C/G, kh, kw]`,
/// an optional bias, and `G`.
#[derive(Clone, Debug)]
pub struct Batched<T> {
    /// `[N, C, H, W]`.
    pub input: Array4<T>,
    /// `[O, C / groups, kh, kw]`.
    pub weight: Array4<T>,
    /// `[O]`, or none.
    pub bias: Option<Array1<T>>,
    /// Divides `C` and `O`.
    pub groups: usize,
}

impl<T> Batched<T> {
    /// `(input, weight, bias, groups)`, for taking the problem apart.
    pub fn into_parts(self) -> (Array4<T>, Array4<T>, Option<Array1<T>>, usize) {
        (self.input, self.weight, self.bias, self.groups)
    }
}

/// A consistent random batched problem: small images, or now and then
/// wide ones with enough output channels per group for the matrix-product
/// kernel to pay.
pub fn batched<T: Scalar>() -> impl Strategy<Value = Batched<T>> {
    let small = (
        (1..=MAX_GROUP_CHANNELS, 1..=MAX_GROUP_CHANNELS),
        (1..=MAX_SIDE, 1..=MAX_SIDE),
    );
    let wide = (
        (1..=MAX_GROUP_CHANNELS, Just(MANY_OUTPUTS_PER_GROUP)),
        (1..=MAX_SIDE, MAX_SIDE..=MAX_WIDE),
    );
    (
        1..=MAX_GROUPS,
        0..=MAX_BATCH,
        prop_oneof![6 => small, 1 => wide],
        (1..=MAX_KERNEL, 1..=MAX_KERNEL),
    )
        .prop_flat_map(|(groups, n, ((cg, og), (h, w)), (kh, kw))| {
            let o = groups * og;
            (
                tensor(Ix4(n, groups * cg, h, w)),
                tensor(Ix4(o, cg, kh, kw)),
                proptest::option::of(tensor(Ix1(o))),
                Just(groups),
            )
        })
        .prop_map(|(input, weight, bias, groups)| Batched {
            input,
            weight,
            bias,
            groups,
        })
}

/// Either operation.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![Just(Op::Correlate), Just(Op::Convolve)]
}

/// Any layout.
pub fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Standard),
        Just(Layout::Transposed),
        Just(Layout::Fortran),
        Just(Layout::Stepped),
        Just(Layout::Reversed),
    ]
}

// ---------------------------------------------------------------------------
// Seeded batched problems: proptest draws the shapes and options, and
// `seeded` the values from the case's seed, so that a case stays small to
// print and to shrink however large its arrays.

/// The ranges a seeded batched problem is drawn from.
#[derive(Clone, Copy, Debug)]
pub struct CaseRanges {
    /// Largest batch; at least 1.
    pub batch: usize,
    /// Largest number of groups.
    pub groups: usize,
    /// Largest number of input channels per group.
    pub channels_per_group: usize,
    /// Largest number of output channels per group.
    pub outputs_per_group: usize,
    /// Largest input height and width.
    pub side: usize,
    /// Largest kernel height and width.
    pub kernel: usize,
    /// Largest stride along each axis.
    pub stride: usize,
    /// Largest dilation along each axis.
    pub dilation: usize,
    /// Largest explicit padding on one side.
    pub pad: usize,
    /// The nonzero fill value among the boundary rules (0 is the other).
    pub fill: f64,
}

/// Every fast algorithm against the reference: sides up to 37, past the
/// vectorized kernel's 16 lanes.
pub const ALGORITHM_RANGES: CaseRanges = CaseRanges {
    batch: 2,
    groups: 3,
    channels_per_group: 3,
    outputs_per_group: 10,
    side: 37,
    kernel: 5,
    stride: 3,
    dilation: 3,
    pad: 6,
    fill: 0.75,
};

/// Gradients by finite differences: small problems, since each probed
/// coordinate costs two forward passes.
pub const GRADIENT_RANGES: CaseRanges = CaseRanges {
    batch: 2,
    groups: 2,
    channels_per_group: 2,
    outputs_per_group: 3,
    side: 7,
    kernel: 3,
    stride: 3,
    dilation: 2,
    pad: 3,
    fill: -1.5,
};

/// A batched problem: its shapes and options, and the seed of its values.
#[derive(Clone, Debug)]
pub struct SeededCase {
    /// `[N, C, H, W]`.
    pub input: [usize; 4],
    /// `[O, C / groups, kh, kw]`.
    pub weight: [usize; 4],
    /// With the groups of `input` and `weight`.
    pub options: ConvOptions,
    /// Seeds the values, through `seeded`.
    pub seed: u64,
}

/// Every boundary rule, the fill value 0 or `fill`.
pub fn boundary_with_fill(fill: f64) -> impl Strategy<Value = Boundary> {
    prop_oneof![
        Just(Boundary::Fill(0.0)),
        Just(Boundary::Fill(fill)),
        Just(Boundary::Wrap),
        Just(Boundary::Symmetric),
        Just(Boundary::Reflect),
        Just(Boundary::Replicate),
    ]
}

/// Every padding, explicit sides in `0..=max_pad`.
pub fn padding_up_to(max_pad: usize) -> impl Strategy<Value = Padding> {
    prop_oneof![
        Just(Padding::Valid),
        Just(Padding::Same),
        Just(Padding::Full),
        explicit_sides(max_pad),
    ]
}

/// Strides, dilations, padding and boundary rule within `ranges`; one
/// group, the automatic choice of algorithm.
pub fn case_options(ranges: CaseRanges) -> impl Strategy<Value = ConvOptions> {
    (
        (1..=ranges.stride, 1..=ranges.stride),
        (1..=ranges.dilation, 1..=ranges.dilation),
        padding_up_to(ranges.pad),
        boundary_with_fill(ranges.fill),
    )
        .prop_map(|((sh, sw), (dh, dw), padding, boundary)| {
            ConvOptions::new()
                .strides(sh, sw)
                .dilations(dh, dw)
                .padding(padding)
                .boundary(boundary)
        })
}

/// A consistent batched problem within `ranges`.
pub fn seeded_case(ranges: CaseRanges) -> impl Strategy<Value = SeededCase> {
    (
        (
            1..=ranges.batch,
            1..=ranges.groups,
            1..=ranges.channels_per_group,
            1..=ranges.outputs_per_group,
        ),
        (1..=ranges.side, 1..=ranges.side),
        (1..=ranges.kernel, 1..=ranges.kernel),
        case_options(ranges),
        any::<u64>(),
    )
        .prop_map(|((n, g, cg, og), (h, w), (kh, kw), options, seed)| SeededCase {
            input: [n, g * cg, h, w],
            weight: [g * og, cg, kh, kw],
            options: options.groups(g),
            seed,
        })
}

/// `(x, k, op, options)`: a single-channel problem under either operation,
/// with any padding.
pub fn single_channel_case<T: Scalar>() -> impl Strategy<Value = (Array2<T>, Array2<T>, Op, ConvOptions)> {
    (input::<T>(), kernel::<T>(), op(), options::<T>(any_padding()))
}
