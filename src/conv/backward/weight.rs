//! `∂L/∂w`: the correlation of the padded input with the output gradient.

use ndarray::{s, ArrayView4, ArrayViewMut2, ArrayViewMut4, Axis};
use num_traits::Float;

use super::BackwardWorkspace;
use crate::conv::boundary::source_index;
use crate::conv::element::Element;
use crate::conv::exec::blocks::for_each_chunk;
use crate::conv::exec::matmul::{matmul, matmul_add};
use crate::conv::exec::scratch::{prefix, ScratchLens};
use crate::conv::exec::tile::{fill_tile, rows_per_block, TileShape};
use crate::conv::kernels::gemm::{
    fill_patches, pointwise, pointwise_patches, segment_width, OutputRows, COLUMN_MULTIPLE,
};
use crate::conv::planner;
use crate::conv::problem::{dims4, Problem};
use crate::options::Algorithm;

/// Output rows per block of the weight gradient.
pub(crate) const WEIGHT_BLOCK_OUTPUTS: usize = 512;

/// The most partial sums of the weight gradient: each task sums a fixed run
/// of consecutive blocks. One partial per block took `O · C/G · kh · kw`
/// values for each of many blocks (8 MiB on a ResNet 3×3 layer, whose pages
/// a one-shot call faults in anew), where a few tasks per thread keep the
/// threads busy.
const WEIGHT_TASKS: usize = 16;

/// `∂L/∂w` of `problem` (its `weight` gives only the shape) into `out`.
pub(crate) fn weight_gradient<A: Element + Float>(
    problem: &Problem<'_, A>,
    grad_output: ArrayView4<'_, A>,
    algorithm: Algorithm,
    workspace: &BackwardWorkspace<A>,
    mut out: ArrayViewMut4<'_, A>,
) {
    // The planner bounds the tile every fast path needs; where it would
    // not (strides far larger than the kernel), the plain sum runs.
    let fast = planner::choose::<A>(algorithm, &problem.shapes(), || true, || false).algorithm;
    if fast == Algorithm::Direct {
        return weight_gradient_reference(problem, grad_output, out);
    }
    let rows = problem.geometry[0];
    let [batch, out_channels, grad_h, grad_w] = dims4(grad_output.shape());
    let [_, channels_per_group, kh, kw] = dims4(problem.weight.shape());
    let outputs_per_group = out_channels / problem.groups;
    let depth = channels_per_group * kh * kw;
    if grad_output.is_empty() || out.is_empty() {
        out.fill(A::zero());
        return;
    }
    let rows_per_block = rows_per_block(problem, WEIGHT_BLOCK_OUTPUTS / grad_w, grad_h, grad_w);
    let blocks_per_image = grad_h.div_ceil(rows_per_block);
    // Matrix products where the forward pass would run them (many outputs
    // per group: `Gemm`, or `Winograd`, which has no weight-gradient form
    // of its own), dot products of gradient rows with input rows otherwise
    // (depthwise and other thin groups, whose products would be one row
    // tall).
    let products = matches!(fast, Algorithm::Gemm | Algorithm::Winograd);
    let arch = pulp::Arch::new();

    // The products take long rows a segment at a time, adding each
    // segment's product to the block's partial sum, so that the patches stay
    // in cache; a pointwise layer's patches are the input, read in place.
    let segment = if products && !pointwise(problem) {
        segment_width(grad_w, COLUMN_MULTIPLE, WEIGHT_BLOCK_OUTPUTS)
    } else {
        grad_w
    };

    let blocks = batch * blocks_per_image;
    let tasks = blocks.min(WEIGHT_TASKS);
    let partial_len = out_channels * depth;
    let full = TileShape::of(problem, rows_per_block, segment);
    let full_pixels = rows_per_block * segment;
    workspace.tasks.prepare_buffers(
        tasks,
        ScratchLens {
            tile: if products {
                full.len()
            } else {
                channels_per_group * full.len()
            },
            patches: if products { depth * full_pixels } else { 0 },
            product: if products { full_pixels * outputs_per_group } else { 0 },
        },
    );

    // The gradient of block `block` (image `block / blocks_per_image`),
    // written into `partial` when `first`, added to it otherwise.
    let block_gradient = |block: usize, first: bool, partial: &mut [A]| {
        let (n, row0) = (block / blocks_per_image, block % blocks_per_image * rows_per_block);
        let block_rows = rows_per_block.min(grad_h - row0);
        let image = problem.input.index_axis(Axis(0), n);
        let block_grads = |g: usize, col0: usize, width: usize| {
            grad_output.slice(s![
                n,
                g * outputs_per_group..(g + 1) * outputs_per_group,
                row0..row0 + block_rows,
                col0..col0 + width
            ])
        };
        workspace.tasks.with(|scratch| {
            if !products {
                let shape = TileShape::of(problem, block_rows, grad_w);
                let len = channels_per_group * shape.len();
                let tiles = prefix(&mut scratch.tile, len, channels_per_group * full.len());
                for g in 0..problem.groups {
                    for (c, tile) in tiles.chunks_exact_mut(shape.len()).enumerate() {
                        let plane = image.index_axis(Axis(0), g * channels_per_group + c);
                        fill_tile(problem, plane, row0 * rows.stride, shape, tile);
                    }
                    for (o, grads) in block_grads(g, 0, grad_w).outer_iter().enumerate() {
                        let channel = g * outputs_per_group + o;
                        arch.dispatch(WeightDots {
                            grads,
                            tiles,
                            shape,
                            taps: &mut partial[channel * depth..(channel + 1) * depth],
                            add: !first,
                            problem,
                        });
                    }
                }
                return;
            }
            let mut partial_t =
                ArrayViewMut2::from_shape((depth, out_channels), &mut *partial).expect("depth × O elements");
            for col0 in (0..grad_w).step_by(segment) {
                let width = segment.min(grad_w - col0);
                let pixels = block_rows * width;
                let shape = TileShape::of(problem, block_rows, width);
                let tile = prefix(&mut scratch.tile, shape.len(), full.len());
                let patches = prefix(&mut scratch.patches, depth * pixels, depth * full_pixels);
                let mut patches = ArrayViewMut2::from_shape((depth, pixels), patches).expect("depth × pixels elements");
                // The product is taken transposed, `partialᵀ = patches ·
                // gradsᵀ`, with the gradient's output channels
                // contiguous: the `gemm` crate then reads both operands
                // in place instead of repacking the whole patch matrix.
                let grads_t = prefix(
                    &mut scratch.product,
                    pixels * outputs_per_group,
                    full_pixels * outputs_per_group,
                );
                let mut grads_t =
                    ArrayViewMut2::from_shape((pixels, outputs_per_group), grads_t).expect("pixels × outputs elements");
                for g in 0..problem.groups {
                    // A pointwise layer takes whole rows (`col0` is 0).
                    let patches = match pointwise_patches(problem, n, g, row0, pixels) {
                        Some(input) => input,
                        None => {
                            let channels =
                                image.slice(s![g * channels_per_group..(g + 1) * channels_per_group, .., ..]);
                            let rows = OutputRows {
                                first: row0,
                                count: block_rows,
                                first_col: col0,
                                width,
                            };
                            fill_patches(problem, channels, rows, tile, patches.view_mut());
                            patches.view()
                        }
                    };
                    for (o, grads) in block_grads(g, col0, width).outer_iter().enumerate() {
                        for (dst, &v) in grads_t.column_mut(o).iter_mut().zip(grads.iter()) {
                            *dst = v;
                        }
                    }
                    let dst = partial_t.slice_mut(s![.., g * outputs_per_group..(g + 1) * outputs_per_group]);
                    if first && col0 == 0 {
                        matmul(grads_t.t(), patches.t(), dst.reversed_axes());
                    } else {
                        matmul_add(grads_t.t(), patches.t(), dst.reversed_axes());
                    }
                }
            }
        });
    };

    // One partial sum per task, a fixed run of consecutive blocks summed in
    // order; the partials are added in task order afterwards, so that the
    // result does not depend on the number of threads. A partial is laid
    // out `[depth, O]` for the products (see below) and `[O, depth]` for
    // the dot products.
    workspace.whole.with(|whole| {
        let partials = prefix(&mut whole.partials, tasks * partial_len, tasks * partial_len);
        for_each_chunk(partials, partial_len, |task, partial| {
            for block in blocks * task / tasks..blocks * (task + 1) / tasks {
                // The task's first block writes its partial, the others add.
                let first = block == blocks * task / tasks;
                block_gradient(block, first, partial);
            }
        });
        // Summed into the first partial, one whole partial after another
        // (streaming through memory), in task order.
        let (total, rest) = partials.split_at_mut(partial_len);
        for partial in rest.chunks_exact(partial_len) {
            total.iter_mut().zip(partial).for_each(|(t, &p)| *t = *t + p);
        }
        for (o, mut taps) in out.outer_iter_mut().enumerate() {
            for (d, tap) in taps.iter_mut().enumerate() {
                *tap = total[if products { d * out_channels + o } else { o * depth + d }];
            }
        }
    });
}

struct WeightDots<'t, 'p, A: Element> {
    /// `[rows, Wo]`: the channel's gradient over the block.
    grads: ndarray::ArrayView2<'t, A>,
    /// The padded input tile of each input channel of the group.
    tiles: &'t [A],
    shape: TileShape,
    /// `C/G · kh · kw` sums, overwritten, or added to when `add`.
    taps: &'t mut [A],
    add: bool,
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
            add,
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
                    let sum = if cols.stride == 1 {
                        dot_rows(grads.chunks_exact(width), inputs)
                    } else {
                        grads.chunks_exact(width).zip(inputs).fold(A::zero(), |acc, (g, x)| {
                            g.iter()
                                .enumerate()
                                .fold(acc, |acc, (j, &g)| acc.plus_product(g, x[j * cols.stride]))
                        })
                    };
                    *tap = if add { tap.plus(sum) } else { sum };
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
                wide[l] = wide[l].plus_product(g[l], x[l]);
            }
        }
        let done = g.len() / 16 * 16;
        let (g, x) = (&g[done..], &x[done..]);
        if g.len() >= 8 {
            for l in 0..8 {
                narrow[l] = narrow[l].plus_product(g[l], x[l]);
            }
        }
        for (&g, &x) in g.iter().zip(x).skip(g.len() / 8 * 8) {
            rest = rest.plus_product(g, x);
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
    let fill = problem.fill;
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
            acc = acc.plus_product(g, x);
        }
        *w = acc;
    }
}
