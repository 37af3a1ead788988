//! Strategies, oracles, storage layouts and checks for the property tests.
//!
//! The oracles (`pad`, `rot180`, `zero_insert`) are written from the
//! definitions in the crate docs and `numpy.pad`, not from the crate's
//! code, so that a failing property points at the crate rather than at a
//! mistake the two share.

use std::fmt::Debug;
use std::ops::RangeInclusive;

use convolve::shape::{AxisGeometry, Operation};
use convolve::{
    convolve2d, convolve2d_into, correlate2d, correlate2d_into, Algorithm, Axis, Boundary, ConvOptions, Element,
    Padding,
};
use ndarray::{
    s, Array, Array1, Array2, Array4, ArrayBase, ArrayView, ArrayView2, ArrayView4, ArrayViewMut, Data, DataMut,
    Dimension, Ix1, Ix2, Ix4, LinalgScalar, ScalarOperand, ShapeBuilder, Slice,
};
use num_complex::Complex64;
use proptest::prelude::*;

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
/// Relative and absolute tolerance for `f64` results whose elements lie in
/// `-1..=1`; a wrong tap or a misplaced window is off by far more.
pub const FLOAT_TOL: f64 = 1e-9;

/// An element type the properties run on: exact for integers, to a
/// tolerance for floating point.
pub trait Scalar: Element + LinalgScalar + ScalarOperand {
    /// Random elements.
    fn element() -> BoxedStrategy<Self>;
    /// Whether two results agree.
    fn close(a: Self, b: Self) -> bool;
}

impl Scalar for i64 {
    fn element() -> BoxedStrategy<Self> {
        (-MAX_INT..=MAX_INT).boxed()
    }

    fn close(a: Self, b: Self) -> bool {
        a == b
    }
}

impl Scalar for f64 {
    fn element() -> BoxedStrategy<Self> {
        (-1.0f64..=1.0).boxed()
    }

    fn close(a: Self, b: Self) -> bool {
        approx::relative_eq!(a, b, epsilon = FLOAT_TOL, max_relative = FLOAT_TOL)
    }
}

impl Scalar for Complex64 {
    fn element() -> BoxedStrategy<Self> {
        (f64::element(), f64::element())
            .prop_map(|(re, im)| Complex64::new(re, im))
            .boxed()
    }

    fn close(a: Self, b: Self) -> bool {
        f64::close(a.re, b.re) && f64::close(a.im, b.im)
    }
}

// ---------------------------------------------------------------------------
// Arrays and options.

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

/// Any boundary rule, with a random fill value.
pub fn boundary<T: Scalar>() -> impl Strategy<Value = Boundary<T>> {
    prop_oneof![
        T::element().prop_map(Boundary::Fill),
        Just(Boundary::Wrap),
        Just(Boundary::Symmetric),
        Just(Boundary::Reflect),
        Just(Boundary::Replicate),
    ]
}

/// `Padding::Explicit`: every side in `0..=MAX_PAD`, or lopsided.
pub fn explicit_padding() -> impl Strategy<Value = Padding> {
    let even =
        (0..=MAX_PAD, 0..=MAX_PAD, 0..=MAX_PAD, 0..=MAX_PAD).prop_map(|(top, bottom, left, right)| Padding::Explicit {
            top,
            bottom,
            left,
            right,
        });
    prop_oneof![3 => even, 1 => lopsided_padding()]
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

/// Random strides, dilations, boundary rule and algorithm, with a padding
/// drawn from `padding`; one group.
pub fn options<T: Scalar>(padding: impl Strategy<Value = Padding>) -> impl Strategy<Value = ConvOptions<T>> {
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

// ---------------------------------------------------------------------------
// The single-channel operations.

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
    pub fn apply<T, S1, S2>(
        self,
        x: &ArrayBase<S1, Ix2>,
        k: &ArrayBase<S2, Ix2>,
        options: &ConvOptions<T>,
    ) -> convolve::Result<Array2<T>>
    where
        T: Element,
        S1: Data<Elem = T>,
        S2: Data<Elem = T>,
    {
        match self {
            Op::Correlate => correlate2d(x, k, options),
            Op::Convolve => convolve2d(x, k, options),
        }
    }

    /// `correlate2d_into` or `convolve2d_into`.
    pub fn apply_into<T, S1, S2, S3>(
        self,
        x: &ArrayBase<S1, Ix2>,
        k: &ArrayBase<S2, Ix2>,
        options: &ConvOptions<T>,
        out: &mut ArrayBase<S3, Ix2>,
    ) -> convolve::Result<()>
    where
        T: Element,
        S1: Data<Elem = T>,
        S2: Data<Elem = T>,
        S3: DataMut<Elem = T>,
    {
        match self {
            Op::Correlate => correlate2d_into(x, k, options, out),
            Op::Convolve => convolve2d_into(x, k, options, out),
        }
    }
}

/// Either operation.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![Just(Op::Correlate), Just(Op::Convolve)]
}

/// Whether `correlate2d`/`convolve2d` take scipy's `valid` path with a
/// kernel larger than the input, which swaps roles with it (or is
/// rejected when larger along one axis only).
pub fn is_scipy_valid_swap<T>(input: [usize; 2], kernel: [usize; 2], options: &ConvOptions<T>) -> bool {
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

// ---------------------------------------------------------------------------
// Oracles.

/// `k` rotated by 180°.
pub fn rot180<T: Clone>(k: &Array2<T>) -> Array2<T> {
    k.slice(s![..;-1, ..;-1]).to_owned()
}

/// `k` with `dilation - 1` zeros inserted between neighbouring taps.
pub fn zero_insert<T: Scalar>(k: &Array2<T>, dilation: [usize; 2]) -> Array2<T> {
    let [dh, dw] = dilation;
    let mut out = Array2::zeros((dh * (k.nrows() - 1) + 1, dw * (k.ncols() - 1) + 1));
    out.slice_mut(s![..;dh as isize, ..;dw as isize]).assign(k);
    out
}

/// Both axes' geometry with the padding resolved, as the docs define it
/// for `operation` (scipy's `valid` swap aside).
pub fn resolved_geometry<T>(
    input: [usize; 2],
    kernel: [usize; 2],
    options: &ConvOptions<T>,
    operation: Operation,
) -> convolve::Result<[AxisGeometry; 2]> {
    let resolve = |i: usize, axis: Axis| {
        let g = AxisGeometry::new(input[i], kernel[i])
            .along(axis)
            .stride(options.stride[i])
            .dilation(options.dilation[i]);
        options.padding.resolve(g, operation)
    };
    Ok([resolve(0, Axis::Height)?, resolve(1, Axis::Width)?])
}

/// Where position `q` (relative to the first input element) of an axis of
/// length `n` reads from, folding one edge at a time as `numpy.pad` does;
/// `None` for the fill value.
fn fold<T>(mut q: isize, n: usize, boundary: &Boundary<T>) -> Option<usize> {
    let n = n as isize;
    while q < 0 || q >= n {
        q = match boundary {
            Boundary::Fill(_) => return None,
            Boundary::Replicate => q.clamp(0, n - 1),
            Boundary::Wrap if q < 0 => q + n,
            Boundary::Wrap => q - n,
            // The edge element is repeated: -1 reads 0.
            Boundary::Symmetric if q < 0 => -1 - q,
            Boundary::Symmetric => 2 * n - 1 - q,
            // The edge element is the mirror: -1 reads 1.
            Boundary::Reflect if n == 1 => 0,
            Boundary::Reflect if q < 0 => -q,
            Boundary::Reflect => 2 * n - 2 - q,
        };
    }
    Some(q as usize)
}

/// `x` padded with `rows.pad_lo`/`pad_hi` rows and `cols.pad_lo`/`pad_hi`
/// columns, filled by `boundary`.
pub fn pad<T: Scalar>(x: &Array2<T>, rows: &AxisGeometry, cols: &AxisGeometry, boundary: &Boundary<T>) -> Array2<T> {
    let fill = match boundary {
        Boundary::Fill(v) => *v,
        _ => T::zero(),
    };
    let shape = (
        x.nrows() + rows.pad_lo + rows.pad_hi,
        x.ncols() + cols.pad_lo + cols.pad_hi,
    );
    Array2::from_shape_fn(shape, |(i, j)| {
        let r = fold(i as isize - rows.pad_lo as isize, x.nrows(), boundary);
        let c = fold(j as isize - cols.pad_lo as isize, x.ncols(), boundary);
        match (r, c) {
            (Some(r), Some(c)) => x[[r, c]],
            _ => fill,
        }
    })
}

/// One output by the definition in the crate docs,
/// `Σ_a Σ_b x̃[i·sh + a·dh, j·sw + b·dw] · k[a, b]` over the padded input
/// `x̃`, in the element type's arithmetic (wrapping for integers).
fn window_sum<T: Scalar>(
    padded: &Array2<T>,
    k: ArrayView2<'_, T>,
    (i, j): (usize, usize),
    options: &ConvOptions<T>,
) -> T {
    let [[sh, sw], [dh, dw]] = [options.stride, options.dilation];
    k.indexed_iter().fold(T::zero(), |acc, ((a, b), &tap)| {
        acc.mul_add(padded[[i * sh + a * dh, j * sw + b * dw]], tap)
    })
}

/// What `correlate2d` (kernel conjugated) or `convolve2d` (kernel rotated)
/// computes by definition, scipy's `valid` swap aside; `None` where the
/// kernel does not fit.
pub fn direct_single_channel<T: Scalar>(
    x: &Array2<T>,
    k: &Array2<T>,
    options: &ConvOptions<T>,
    op: Op,
) -> Option<Array2<T>> {
    let taps = match op {
        Op::Correlate => k.mapv(|v| v.conj()),
        Op::Convolve => rot180(k),
    };
    let [rows, cols] =
        resolved_geometry([x.nrows(), x.ncols()], [k.nrows(), k.ncols()], options, op.operation()).ok()?;
    let shape = (rows.output_len().ok()?, cols.output_len().ok()?);
    let padded = pad(x, &rows, &cols, &options.boundary);
    Some(Array2::from_shape_fn(shape, |at| {
        window_sum(&padded, taps.view(), at, options)
    }))
}

/// What `conv2d` computes by definition: output channel `o` of group `g`
/// sums the correlations (no conjugation) of input channels
/// `g·C/G .. (g+1)·C/G` with its weights, plus `bias[o]`; `None` where the
/// kernel does not fit.
pub fn direct_conv2d<T: Scalar>(problem: &Batched<T>, options: &ConvOptions<T>) -> Option<Array4<T>> {
    let Batched {
        input,
        weight,
        bias,
        groups,
    } = problem;
    let [n, c, h, w] = [input.shape()[0], input.shape()[1], input.shape()[2], input.shape()[3]];
    let [o, cg, kh, kw] = [
        weight.shape()[0],
        weight.shape()[1],
        weight.shape()[2],
        weight.shape()[3],
    ];
    let [rows, cols] = resolved_geometry([h, w], [kh, kw], options, Operation::CrossCorrelation).ok()?;
    let shape = (n, o, rows.output_len().ok()?, cols.output_len().ok()?);
    let padded: Vec<Vec<Array2<T>>> = (0..n)
        .map(|image| {
            (0..c)
                .map(|channel| {
                    let plane = input.slice(s![image, channel, .., ..]).to_owned();
                    pad(&plane, &rows, &cols, &options.boundary)
                })
                .collect()
        })
        .collect();
    let outputs_per_group = o / groups;
    Some(Array4::from_shape_fn(shape, |(image, out, i, j)| {
        let first = out / outputs_per_group * cg;
        let sum = (0..cg).fold(T::zero(), |acc, channel| {
            let taps = weight.slice(s![out, channel, .., ..]);
            acc.plus(window_sum(&padded[image][first + channel], taps, (i, j), options))
        });
        bias.as_ref().map_or(sum, |bias| sum.plus(bias[out]))
    }))
}

// ---------------------------------------------------------------------------
// Layouts.

/// How an array's elements are laid out in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Row-major, contiguous.
    Standard,
    /// The last two axes swapped in memory (`.t()` of a row-major copy).
    Transposed,
    /// Column-major, built with `ShapeBuilder::f`.
    Fortran,
    /// Every other element along every axis of a larger array, with junk
    /// around and between.
    Stepped,
    /// Every axis with a negative stride.
    Reversed,
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

/// A copy of an array stored in a given layout; `view` shows the same
/// logical elements as the original.
pub struct Stored<T, D: Dimension> {
    base: Array<T, D>,
    layout: Layout,
}

impl<T: Clone, D: Dimension> Stored<T, D> {
    /// Stores `x` in `layout`; any element of the backing array that is not
    /// part of the view is `junk`.
    pub fn new<S: Data<Elem = T>>(x: &ArrayBase<S, D>, layout: Layout, junk: T) -> Self {
        let last = x.ndim() - 1;
        let base = match layout {
            Layout::Standard => x.as_standard_layout().into_owned(),
            Layout::Transposed => {
                let mut v = x.view();
                v.swap_axes(last - 1, last);
                v.as_standard_layout().into_owned()
            }
            Layout::Fortran => {
                let column_major = x.view().reversed_axes().iter().cloned().collect();
                Array::from_shape_vec(x.raw_dim().f(), column_major).expect("same number of elements")
            }
            Layout::Stepped => {
                let mut dim = x.raw_dim();
                for len in dim.slice_mut() {
                    *len = 2 * *len + 1;
                }
                let mut base = Array::from_elem(dim, junk);
                base.slice_each_axis_mut(|_| Slice::new(1, None, 2)).assign(x);
                base
            }
            Layout::Reversed => {
                let mut v = x.view();
                for axis in 0..=last {
                    v.invert_axis(ndarray::Axis(axis));
                }
                v.as_standard_layout().into_owned()
            }
        };
        Stored { base, layout }
    }

    /// The logical array.
    pub fn view(&self) -> ArrayView<'_, T, D> {
        let mut v = self.base.view();
        let last = v.ndim() - 1;
        match self.layout {
            Layout::Standard | Layout::Fortran => {}
            Layout::Transposed => v.swap_axes(last - 1, last),
            Layout::Stepped => v = self.base.slice_each_axis(|_| Slice::new(1, None, 2)),
            Layout::Reversed => (0..=last).for_each(|axis| v.invert_axis(ndarray::Axis(axis))),
        }
        v
    }

    /// The logical array, writable.
    pub fn view_mut(&mut self) -> ArrayViewMut<'_, T, D> {
        if self.layout == Layout::Stepped {
            return self.base.slice_each_axis_mut(|_| Slice::new(1, None, 2));
        }
        let mut v = self.base.view_mut();
        let last = v.ndim() - 1;
        match self.layout {
            Layout::Transposed => v.swap_axes(last - 1, last),
            Layout::Reversed => (0..=last).for_each(|axis| v.invert_axis(ndarray::Axis(axis))),
            _ => {}
        }
        v
    }

    /// The whole backing array, junk included.
    pub fn base(&self) -> &Array<T, D> {
        &self.base
    }
}

// ---------------------------------------------------------------------------
// Checks.

/// Same shape and every element close.
pub fn all_close<T, S1, S2, D>(a: &ArrayBase<S1, D>, b: &ArrayBase<S2, D>) -> bool
where
    T: Scalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(&x, &y)| T::close(x, y))
}

/// Both results `Ok` and close, or both the same error.
pub fn check_same_outcome<T: Scalar, D: Dimension>(
    got: convolve::Result<Array<T, D>>,
    want: convolve::Result<Array<T, D>>,
) -> Result<(), TestCaseError> {
    match (got, want) {
        (Ok(got), Ok(want)) => prop_assert!(all_close(&got, &want), "got {got:?}\nwant {want:?}"),
        (got, want) => prop_assert_eq!(got.map(|_| ()), want.map(|_| ())),
    }
    Ok(())
}

/// Calls an `_into` form on a NaN-filled output stored in `layout`, and
/// checks that it returns `want`'s error, or writes every element of the
/// view with `want`'s values and nothing around the view.
pub fn check_into<D: Dimension>(
    want: convolve::Result<Array<f64, D>>,
    layout: Layout,
    call: impl FnOnce(&mut ArrayViewMut<'_, f64, D>) -> convolve::Result<()>,
) -> Result<(), TestCaseError> {
    // When the call must fail, any output shape does.
    let shape = want
        .as_ref()
        .map_or_else(|_| D::zeros(D::NDIM.unwrap_or(2)), |y| y.raw_dim());
    let mut out = Stored::new(&Array::from_elem(shape, f64::NAN), layout, f64::NAN);
    let result = call(&mut out.view_mut());
    let want = match want {
        Ok(want) => want,
        Err(e) => {
            prop_assert_eq!(result, Err(e));
            return Ok(());
        }
    };
    result?;
    let view = out.view();
    prop_assert!(
        view.iter().all(|v| v.is_finite()),
        "an element was not written: {view:?}"
    );
    prop_assert!(all_close(&view, &want), "got {view:?}\nwant {want:?}");
    let junk = out.base().iter().filter(|v| v.is_nan()).count();
    prop_assert_eq!(junk, out.base().len() - view.len(), "written outside the view");
    Ok(())
}
