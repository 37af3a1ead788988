//! Gradients of [`conv2d`](super::conv2d) and the transposed convolution.
//!
//! With `y = conv2d(x, w) + b` and an upstream gradient `g = ∂L/∂y`:
//!
//! - `∂L/∂b[o] = Σ_{n,i,j} g[n, o, i, j]`;
//! - `∂L/∂w[o, c, a, b] = Σ_{n,i,j} g[n, o, i, j] · x̃[n, c', i·sh + a·dh, j·sw + b·dw]`,
//!   a correlation of the padded input with the gradient (the fill value
//!   of [`Boundary::Fill`] counts, as it is part of `x̃`);
//! - `∂L/∂x` scatters each `g[n, o, i, j] · w[o, c, a, b]` back to the
//!   padded position it came from, then folds the padding onto the input
//!   pixels it copied (for `Wrap`, `Symmetric`, `Reflect`, `Replicate`; a
//!   fill value is a constant and receives nothing). This is the transposed
//!   convolution.
//!
//! The fast path computes the padded-input gradient as a forward
//! convolution of the stride-upsampled gradient with the transposed,
//! rotated weights, using the same kernels as the forward pass, and the
//! weight gradient as blocked matrix products of the gradient with the
//! input patches.

use ndarray::{s, Array2, Array4, ArrayView4, ArrayViewMut1, ArrayViewMut4, Axis, CowArray};
use num_traits::Float;

use super::reference::source_index;
use super::tile::{fill_tile, TileShape};
use super::{dims4, Algorithm, Boundary, ConvOptions, Element, Padding, Problem};
use crate::shape::AxisGeometry;

/// Runs `work` for every index `0..count`, in parallel with the `rayon`
/// feature, and returns the results in index order.
fn map_indexed<T: Send>(count: usize, work: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..count).into_par_iter().map(work).collect()
    }
    #[cfg(not(feature = "rayon"))]
    (0..count).map(work).collect()
}

/// Output rows per block of the weight gradient.
const WEIGHT_BLOCK_OUTPUTS: usize = 512;

/// The padded-input gradient folded back onto the input by the boundary
/// rule, added into `out` (`[N, C, H, W]`, zeroed by the caller).
fn fold_padding<A: Element>(
    padded: ArrayView4<'_, A>,
    geometry: &[AxisGeometry; 2],
    boundary: &Boundary<A>,
    mut out: ArrayViewMut4<'_, A>,
) {
    let [rows, cols] = geometry;
    let row_src: Vec<Option<usize>> = (0..padded.shape()[2])
        .map(|p| source_index(p, rows, boundary))
        .collect();
    let col_src: Vec<Option<usize>> = (0..padded.shape()[3])
        .map(|q| source_index(q, cols, boundary))
        .collect();
    for (src_image, mut dst_image) in padded.outer_iter().zip(out.outer_iter_mut()) {
        for (src, mut dst) in src_image.outer_iter().zip(dst_image.outer_iter_mut()) {
            for ((p, q), &v) in src.indexed_iter() {
                if let (Some(r), Some(c)) = (row_src[p], col_src[q]) {
                    dst[[r, c]] = dst[[r, c]].plus(v);
                }
            }
        }
    }
}

/// `∂L/∂x` for a forward problem with this geometry (whose `input` lengths
/// are those of `out`), into `out` (any contents; overwritten). The
/// gradient may be shorter than the forward output along an axis (a
/// transposed convolution's `output_padding` past its stride): the
/// missing outputs have zero gradient.
pub(crate) fn input_gradient<A: Element + Float>(
    grad_output: ArrayView4<'_, A>,
    weight: ArrayView4<'_, A>,
    geometry: [AxisGeometry; 2],
    options: &ConvOptions<A>,
    mut out: ArrayViewMut4<'_, A>,
) {
    let [rows, cols] = geometry;
    let groups = options.groups;
    let [batch, out_channels, grad_h, grad_w] = dims4(grad_output.shape());
    let [_, channels_per_group, kh, kw] = dims4(weight.shape());
    let outputs_per_group = out_channels / groups;
    if grad_output.is_empty() || out.is_empty() {
        out.fill(A::zero());
        return;
    }
    // The gradient spread out by the stride (row i lands on row i·sh), and
    // the padded input it is correlated into, in elements.
    let up_h = (grad_h - 1) * rows.stride + 1;
    let up_w = (grad_w - 1) * cols.stride + 1;
    let padded_h = rows.input + rows.pad_lo + rows.pad_hi;
    let padded_w = cols.input + cols.pad_lo + cols.pad_hi;
    let spread = [batch, out_channels, up_h, up_w]
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    let padded = [batch, groups * channels_per_group, padded_h, padded_w]
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    // Strides or paddings far larger than the kernel make those arrays
    // mostly empty and possibly huge: the scatter loop needs no memory.
    let budget = 4usize
        .saturating_mul(out.len().saturating_add(grad_output.len()))
        .saturating_add(1 << 20);
    let fits = matches!((spread, padded), (Some(a), Some(b)) if a <= budget && b <= budget);
    // The fast path multiplies every weight by the zeros it spreads the
    // gradient with; an infinite or NaN weight would turn those into NaN
    // where the definition has no term at all.
    let weights_finite = super::all_finite(weight);
    let padded_fits = matches!(padded, Some(b) if b <= budget);
    if options.algorithm != Algorithm::Direct && weights_finite && padded_fits && (rows.stride > 1 || cols.stride > 1) {
        out.fill(A::zero());
        return input_gradient_col2im(grad_output, weight, geometry, options, out);
    }
    if options.algorithm == Algorithm::Direct || !fits || !weights_finite {
        out.fill(A::zero());
        return input_gradient_reference(grad_output, weight, geometry, options, out);
    }
    // At stride 1 the gradient needs no spreading out.
    let upsampled = if rows.stride == 1 && cols.stride == 1 {
        CowArray::from(grad_output)
    } else {
        let mut upsampled = Array4::zeros((batch, out_channels, up_h, up_w));
        upsampled
            .slice_mut(s![.., .., ..;rows.stride, ..;cols.stride])
            .assign(&grad_output);
        CowArray::from(upsampled)
    };

    // Weights of the transposed problem: [C, O/G, kh, kw], rotated 180°.
    let mut transposed = Array4::zeros((groups * channels_per_group, outputs_per_group, kh, kw));
    for g in 0..groups {
        let block = weight.slice(s![g * outputs_per_group..(g + 1) * outputs_per_group, .., ..;-1, ..;-1]);
        transposed
            .slice_mut(s![g * channels_per_group..(g + 1) * channels_per_group, .., .., ..])
            .assign(&block.permuted_axes([1, 0, 2, 3]));
    }

    let (ext_h, ext_w) = (rows.extent(), cols.extent());
    let inner = |padding| ConvOptions {
        stride: [1, 1],
        dilation: [rows.dilation, cols.dilation],
        padding,
        groups,
        boundary: Boundary::Fill(A::zero()),
        algorithm: options.algorithm,
        output_padding: [0, 0],
    };
    // With a fill value, only the gradient of the input proper is wanted:
    // where the padding allows, the transposed problem computes just that,
    // straight into `out`.
    if let Boundary::Fill(_) = options.boundary {
        let cropped = (
            (ext_h - 1).checked_sub(rows.pad_lo),
            (padded_h - up_h).checked_sub(rows.pad_hi),
            (ext_w - 1).checked_sub(cols.pad_lo),
            (padded_w - up_w).checked_sub(cols.pad_hi),
        );
        if let (Some(top), Some(bottom), Some(left), Some(right)) = cropped {
            let padding = Padding::Explicit {
                top,
                bottom,
                left,
                right,
            };
            super::conv2d_into(&upsampled, &transposed, None, &inner(padding), &mut out)
                .expect("the transposed problem is consistent");
            return;
        }
    }
    let inner = inner(Padding::Explicit {
        top: ext_h - 1,
        bottom: padded_h - up_h,
        left: ext_w - 1,
        right: padded_w - up_w,
    });
    let padded = super::conv2d(&upsampled, &transposed, None, &inner).expect("the transposed problem is consistent");
    debug_assert_eq!(padded.shape()[2..], [padded_h, padded_w]);
    match options.boundary {
        Boundary::Fill(_) => {
            let interior = padded.slice(s![
                ..,
                ..,
                rows.pad_lo..rows.pad_lo + rows.input,
                cols.pad_lo..cols.pad_lo + cols.input
            ]);
            out.assign(&interior);
        }
        _ => {
            out.fill(A::zero());
            fold_padding(padded.view(), &geometry, &options.boundary, out);
        }
    }
}

/// The input gradient of a strided layer without spreading the gradient
/// out: per block of output rows, one matrix product of the transposed
/// weights with the block's gradient gives every patch's gradient, which is
/// added back where the patch came from in the padded input ("col2im"),
/// then the padding is folded. Images run in parallel; each image's blocks
/// run in order, so the sums do not depend on the thread count.
fn input_gradient_col2im<A: Element + Float>(
    grad_output: ArrayView4<'_, A>,
    weight: ArrayView4<'_, A>,
    geometry: [AxisGeometry; 2],
    options: &ConvOptions<A>,
    mut out: ArrayViewMut4<'_, A>,
) {
    let [rows, cols] = geometry;
    let groups = options.groups;
    let [batch, out_channels, grad_h, grad_w] = dims4(grad_output.shape());
    let [_, channels_per_group, kh, kw] = dims4(weight.shape());
    let outputs_per_group = out_channels / groups;
    let depth = channels_per_group * kh * kw;
    let padded_h = rows.input + rows.pad_lo + rows.pad_hi;
    let padded_w = cols.input + cols.pad_lo + cols.pad_hi;
    let taps = weight.as_standard_layout();
    let taps = taps
        .view()
        .into_shape_with_order((out_channels, depth))
        .expect("a standard-layout weight reshapes");
    let rows_per_block = (WEIGHT_BLOCK_OUTPUTS / grad_w).clamp(1, grad_h);
    let images = map_indexed(batch, |n| {
        let mut padded = Array4::zeros((1, groups * channels_per_group, padded_h, padded_w));
        for row0 in (0..grad_h).step_by(rows_per_block) {
            let block_rows = rows_per_block.min(grad_h - row0);
            let pixels = block_rows * grad_w;
            let mut patches = Array2::zeros((depth, pixels));
            for g in 0..groups {
                let outputs = g * outputs_per_group..(g + 1) * outputs_per_group;
                let grads = grad_output.slice(s![n, outputs.clone(), row0..row0 + block_rows, ..]);
                let grads = grads.as_standard_layout();
                let grads = grads
                    .view()
                    .into_shape_with_order((outputs_per_group, pixels))
                    .expect("a standard-layout block reshapes");
                super::gemm::matmul(taps.slice(s![outputs, ..]).reversed_axes(), grads, patches.view_mut());
                for c in 0..channels_per_group {
                    let mut plane = padded.slice_mut(s![0, g * channels_per_group + c, .., ..]);
                    for a in 0..kh {
                        for b in 0..kw {
                            let patch = patches.row((c * kh + a) * kw + b);
                            for r in 0..block_rows {
                                let p = (row0 + r) * rows.stride + a * rows.dilation;
                                for j in 0..grad_w {
                                    let dst = &mut plane[[p, j * cols.stride + b * cols.dilation]];
                                    *dst = *dst + patch[r * grad_w + j];
                                }
                            }
                        }
                    }
                }
            }
        }
        padded
    });
    for (n, padded) in images.into_iter().enumerate() {
        let dst = out.slice_mut(s![n..=n, .., .., ..]);
        match options.boundary {
            Boundary::Fill(_) => {
                let interior = padded.slice(s![
                    ..,
                    ..,
                    rows.pad_lo..rows.pad_lo + rows.input,
                    cols.pad_lo..cols.pad_lo + cols.input
                ]);
                let mut dst = dst;
                dst.assign(&interior);
            }
            _ => fold_padding(padded.view(), &geometry, &options.boundary, dst),
        }
    }
}

/// The scatter loop of the definition: the oracle for [`input_gradient`].
fn input_gradient_reference<A: Element>(
    grad_output: ArrayView4<'_, A>,
    weight: ArrayView4<'_, A>,
    geometry: [AxisGeometry; 2],
    options: &ConvOptions<A>,
    mut out: ArrayViewMut4<'_, A>,
) {
    let [rows, cols] = &geometry;
    let [_, channels_per_group, kh, kw] = dims4(weight.shape());
    let outputs_per_group = weight.shape()[0] / options.groups;
    for ((n, o, i, j), &g) in grad_output.indexed_iter() {
        let group = o / outputs_per_group;
        for c in 0..channels_per_group {
            for a in 0..kh {
                let Some(r) = source_index(i * rows.stride + a * rows.dilation, rows, &options.boundary) else {
                    continue;
                };
                for b in 0..kw {
                    let Some(s) = source_index(j * cols.stride + b * cols.dilation, cols, &options.boundary) else {
                        continue;
                    };
                    let dst = &mut out[[n, group * channels_per_group + c, r, s]];
                    *dst = dst.mul_add(g, weight[[o, c, a, b]]);
                }
            }
        }
    }
}

/// `∂L/∂w` of `problem` (its `weight` gives only the shape) into `out`.
pub(crate) fn weight_gradient<A: Element + Float>(
    problem: &Problem<'_, A>,
    grad_output: ArrayView4<'_, A>,
    algorithm: Algorithm,
    mut out: ArrayViewMut4<'_, A>,
) {
    // The planner bounds the tile every fast path needs; where it would
    // not (strides far larger than the kernel), the plain sum runs.
    let fast = super::planner::choose::<A>(algorithm, &problem.shapes(), || true, || false);
    if fast == Algorithm::Direct {
        return weight_gradient_reference(problem, grad_output, out);
    }
    let rows = problem.geometry[0];
    let [batch, out_channels, grad_h, grad_w] = dims4(grad_output.shape());
    let [_, channels_per_group, kh, kw] = dims4(problem.weight.shape());
    let outputs_per_group = out_channels / problem.groups;
    let depth = channels_per_group * kh * kw;
    if grad_output.is_empty() {
        out.fill(A::zero());
        return;
    }
    let rows_per_block = super::tile::rows_per_block(problem, WEIGHT_BLOCK_OUTPUTS / grad_w, grad_h, grad_w);
    let blocks_per_image = grad_h.div_ceil(rows_per_block);
    // Matrix products where the forward pass would run them (many outputs
    // per group), dot products of gradient rows with input rows otherwise
    // (depthwise and other thin groups, whose products would be one row
    // tall).
    let products = fast == Algorithm::Gemm;
    let arch = pulp::Arch::new();

    // One partial sum per block, added in block order afterwards, so that
    // the result does not depend on the number of threads.
    let partials = map_indexed(batch * blocks_per_image, |task| {
        let (n, row0) = (task / blocks_per_image, task % blocks_per_image * rows_per_block);
        let block_rows = rows_per_block.min(grad_h - row0);
        let pixels = block_rows * grad_w;
        let shape = TileShape::of(problem, block_rows, grad_w);
        let mut partial = Array2::zeros((out_channels, depth));
        let image = problem.input.index_axis(Axis(0), n);
        let block_grads = |g: usize| {
            grad_output.slice(s![
                n,
                g * outputs_per_group..(g + 1) * outputs_per_group,
                row0..row0 + block_rows,
                ..
            ])
        };
        if !products {
            let mut tiles = vec![A::zero(); channels_per_group * shape.len()];
            for g in 0..problem.groups {
                for (c, tile) in tiles.chunks_exact_mut(shape.len()).enumerate() {
                    let plane = image.index_axis(Axis(0), g * channels_per_group + c);
                    fill_tile(problem, plane, row0 * rows.stride, shape, tile);
                }
                let grads = block_grads(g);
                for (o, grads) in grads.outer_iter().enumerate() {
                    let mut taps = partial.row_mut(g * outputs_per_group + o);
                    arch.dispatch(WeightDots {
                        grads,
                        tiles: &tiles,
                        shape,
                        taps: taps.as_slice_mut().expect("partial rows are contiguous"),
                        problem,
                    });
                }
            }
            return partial;
        }
        let mut tile = vec![A::zero(); shape.len()];
        let mut patches = Array2::zeros((depth, pixels));
        // The product is taken transposed, `partialᵀ = patches · gradsᵀ`,
        // with the gradient's output channels contiguous: the `gemm` crate
        // then reads both operands in place instead of repacking the whole
        // patch matrix.
        let mut grads_t = Array2::zeros((pixels, outputs_per_group));
        let mut partial_t = Array2::zeros((depth, out_channels));
        for g in 0..problem.groups {
            let patches = match super::im2col::pointwise_patches(problem, n, g, row0, pixels) {
                Some(input) => input,
                None => {
                    super::im2col::fill_patches(
                        problem,
                        image,
                        g,
                        row0,
                        block_rows,
                        grad_w,
                        &mut tile,
                        patches.view_mut(),
                    );
                    patches.view()
                }
            };
            for (o, grads) in block_grads(g).outer_iter().enumerate() {
                for (dst, &v) in grads_t.column_mut(o).iter_mut().zip(grads.iter()) {
                    *dst = v;
                }
            }
            let dst = partial_t.slice_mut(s![.., g * outputs_per_group..(g + 1) * outputs_per_group]);
            super::gemm::matmul(grads_t.t(), patches.t(), dst.reversed_axes());
        }
        partial.assign(&partial_t.t());
        partial
    });
    let mut total = Array2::<A>::zeros((out_channels, depth));
    for partial in &partials {
        total.zip_mut_with(partial, |t, &p| *t = *t + p);
    }
    let total = total
        .into_shape_with_order((out_channels, channels_per_group, kh, kw))
        .expect("depth is C/G · kh · kw");
    out.assign(&total);
}

/// The weight gradient of one output channel over one block: for each of
/// its taps, the sum over the block's rows of the dot product of a
/// gradient row with the input row the tap reads. `pulp` runs it with the
/// best instruction set the CPU has.
struct WeightDots<'t, 'p, A> {
    /// `[rows, Wo]`: the channel's gradient over the block.
    grads: ndarray::ArrayView2<'t, A>,
    /// The padded input tile of each input channel of the group.
    tiles: &'t [A],
    shape: TileShape,
    /// `C/G · kh · kw` sums, overwritten.
    taps: &'t mut [A],
    problem: &'t Problem<'p, A>,
}

impl<A: Element> pulp::WithSimd for WeightDots<'_, '_, A> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let WeightDots {
            grads,
            tiles,
            shape,
            taps,
            problem,
        } = self;
        let [rows, cols] = &problem.geometry;
        let (kh, kw) = (rows.kernel, cols.kernel);
        let width = grads.ncols();
        let grads = grads.as_standard_layout();
        let grads = grads.as_slice().expect("a standard-layout view is contiguous");
        let per_channel = tiles.chunks_exact(shape.len()).zip(taps.chunks_exact_mut(kh * kw));
        for (tile, taps) in per_channel {
            for (a, taps) in taps.chunks_exact_mut(kw).enumerate() {
                for (b, tap) in taps.iter_mut().enumerate() {
                    // Row r of the block reads tile row r·sh + a·dh, from
                    // column b·dw on.
                    let inputs = (0..grads.len() / width.max(1)).map(|r| {
                        let start = (r * rows.stride + a * rows.dilation) * shape.width + b * cols.dilation;
                        &tile[start..start + (width - 1) * cols.stride + 1]
                    });
                    *tap = if cols.stride == 1 {
                        dot_rows(grads.chunks_exact(width), inputs)
                    } else {
                        grads.chunks_exact(width).zip(inputs).fold(A::zero(), |acc, (g, x)| {
                            g.iter()
                                .enumerate()
                                .fold(acc, |acc, (j, &g)| acc.mul_add(g, x[j * cols.stride]))
                        })
                    };
                }
            }
        }
    }
}

/// `Σ_r Σ_j g_r[j] · x_r[j]` over row pairs of equal length, in independent
/// partial sums (16 and 8 wide, then one for the last few elements of each
/// row) added at the end, in a fixed order.
#[inline(always)]
fn dot_rows<'a, A: Element>(grads: impl Iterator<Item = &'a [A]>, inputs: impl Iterator<Item = &'a [A]>) -> A {
    let mut wide = [A::zero(); 16];
    let mut narrow = [A::zero(); 8];
    let mut rest = A::zero();
    for (g, x) in grads.zip(inputs) {
        let mut chunks = g.chunks_exact(16).zip(x.chunks_exact(16));
        for (g, x) in &mut chunks {
            for l in 0..16 {
                wide[l] = wide[l].mul_add(g[l], x[l]);
            }
        }
        let done = g.len() / 16 * 16;
        let (g, x) = (&g[done..], &x[done..]);
        if g.len() >= 8 {
            for l in 0..8 {
                narrow[l] = narrow[l].mul_add(g[l], x[l]);
            }
        }
        for (&g, &x) in g.iter().zip(x).skip(g.len() / 8 * 8) {
            rest = rest.mul_add(g, x);
        }
    }
    let wide = wide.iter().fold(A::zero(), |s, &v| s.plus(v));
    let narrow = narrow.iter().fold(A::zero(), |s, &v| s.plus(v));
    wide.plus(narrow).plus(rest)
}

/// The sum of the definition: the oracle for [`weight_gradient`].
fn weight_gradient_reference<A: Element>(
    problem: &Problem<'_, A>,
    grad_output: ArrayView4<'_, A>,
    mut out: ArrayViewMut4<'_, A>,
) {
    let [rows, cols] = &problem.geometry;
    let channels_per_group = problem.weight.shape()[1];
    let outputs_per_group = problem.weight.shape()[0] / problem.groups;
    let fill = super::tile::fill_value(&problem.boundary);
    for ((o, c, a, b), w) in out.indexed_iter_mut() {
        let channel = o / outputs_per_group * channels_per_group + c;
        let mut acc = A::zero();
        for ((n, _, i, j), &g) in grad_output.slice(s![.., o..=o, .., ..]).indexed_iter() {
            let r = source_index(i * rows.stride + a * rows.dilation, rows, &problem.boundary);
            let s = source_index(j * cols.stride + b * cols.dilation, cols, &problem.boundary);
            let x = match (r, s) {
                (Some(r), Some(s)) => problem.input[[n, channel, r, s]],
                _ => fill,
            };
            acc = acc.mul_add(g, x);
        }
        *w = acc;
    }
}

/// `∂L/∂b` into `out`: the sum of the gradient over batch and space, in a
/// fixed order.
pub(crate) fn bias_gradient<A: Element>(grad_output: ArrayView4<'_, A>, mut out: ArrayViewMut1<'_, A>) {
    for (o, b) in out.iter_mut().enumerate() {
        *b = grad_output
            .index_axis(Axis(1), o)
            .iter()
            .fold(A::zero(), |acc, &g| acc.plus(g));
    }
}
