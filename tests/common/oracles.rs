//! Independent reference implementations: padding by `numpy.pad`'s rules,
//! kernel rotation and dilation, and the sums of the crate docs'
//! definitions, evaluated plainly.

use convolve::shape::{AxisGeometry, Operation};
use convolve::{Axis, Boundary, ConvOptions, Element};
use ndarray::{s, Array2, Array4, ArrayView2};

use super::op::Op;
use super::scalar::Scalar;
use super::strategies::Batched;

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
pub fn resolved_geometry(
    input: [usize; 2],
    kernel: [usize; 2],
    options: &ConvOptions,
    operation: Operation,
) -> convolve::Result<[AxisGeometry; 2]> {
    let resolve = |i: usize, axis: Axis| {
        let g = AxisGeometry::new(input[i], kernel[i])
            .along(axis)
            .stride(options.stride.of_rank::<2>().expect("2-D options")[i])
            .dilation(options.dilation.of_rank::<2>().expect("2-D options")[i]);
        options.padding.resolve(g, operation)
    };
    Ok([resolve(0, Axis::Height)?, resolve(1, Axis::Width)?])
}

/// Where position `q` (relative to the first input element) of an axis of
/// length `n` reads from, folding one edge at a time as `numpy.pad` does;
/// `None` for the fill value.
fn fold(mut q: isize, n: usize, boundary: &Boundary) -> Option<usize> {
    let n = n as isize;
    while q < 0 || q >= n {
        q = match boundary {
            Boundary::Constant(_) => return None,
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
pub fn pad<T: Element>(x: &Array2<T>, rows: &AxisGeometry, cols: &AxisGeometry, boundary: &Boundary) -> Array2<T> {
    let shape = (
        x.nrows() + rows.pad_lo + rows.pad_hi,
        x.ncols() + cols.pad_lo + cols.pad_hi,
    );
    Array2::from_shape_fn(shape, |at| padded_element(x, [rows.pad_lo, cols.pad_lo], boundary, at))
}

/// Element `(i, j)` of `x` padded with `before[0]` rows above it and
/// `before[1]` columns to its left (and any number after), filled by
/// `boundary`.
pub fn padded_element<T: Element>(x: &Array2<T>, before: [usize; 2], boundary: &Boundary, (i, j): (usize, usize)) -> T {
    let r = fold(i as isize - before[0] as isize, x.nrows(), boundary);
    let c = fold(j as isize - before[1] as isize, x.ncols(), boundary);
    match (r, c, boundary) {
        (Some(r), Some(c), _) => x[[r, c]],
        (_, _, Boundary::Constant(_)) => boundary
            .fill::<T>()
            .expect("the tests give fill values exact in the element type"),
        _ => unreachable!("only a fill value lies outside the input"),
    }
}

/// One output by the definition in the crate docs,
/// `Σ_a Σ_b x̃[i·sh + a·dh, j·sw + b·dw] · k[a, b]` over the padded input
/// `x̃`, in the element type's arithmetic (wrapping for integers).
fn window_sum<T: Scalar>(padded: &Array2<T>, k: ArrayView2<'_, T>, (i, j): (usize, usize), options: &ConvOptions) -> T {
    let [[sh, sw], [dh, dw]] = [options.stride, options.dilation].map(|v| v.of_rank::<2>().expect("2-D options"));
    k.indexed_iter().fold(T::zero(), |acc, ((a, b), &tap)| {
        acc.add_product(padded[[i * sh + a * dh, j * sw + b * dw]], tap)
    })
}

/// What `correlate2d` (kernel conjugated) or `convolve2d` (kernel rotated)
/// computes by definition, scipy's `valid` swap aside; `None` where the
/// kernel does not fit.
pub fn direct_single_channel<T: Scalar>(
    x: &Array2<T>,
    k: &Array2<T>,
    options: &ConvOptions,
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
pub fn direct_conv2d<T: Scalar>(problem: &Batched<T>, options: &ConvOptions) -> Option<Array4<T>> {
    let (input, weight, bias, groups) = (&problem.input, &problem.weight, &problem.bias, problem.groups);
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
            acc.add_term(window_sum(&padded[image][first + channel], taps, (i, j), options))
        });
        bias.as_ref().map_or(sum, |bias| sum.add_term(bias[out]))
    }))
}
