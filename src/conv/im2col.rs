//! The blocked implicit-GEMM kernel for multi-channel convolution.
//!
//! For each block of output rows and each group, the block's patches are
//! laid out as the columns of a small matrix (`C/G · kh · kw` rows, one
//! column per output pixel of the block), and one matrix product with the
//! group's weights (`O/G × C/G · kh · kw`) gives all the group's output
//! channels at once:
//!
//! ```text
//!   weights [O/G, C/G·kh·kw]  ×  patches [C/G·kh·kw, rows·Wo]  =  out [O/G, rows·Wo]
//! ```
//!
//! Only one block's patches exist at a time (a few hundred KiB per thread),
//! never the whole im2col matrix. The product runs on the `gemm` crate's
//! kernels for `f32`, `f64` and complex numbers (AVX-512 or AVX2+FMA where
//! the CPU has them, chosen at run time). Integer types have no fast
//! product there; the planner sends them to the direct kernel instead.

use ndarray::{s, ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut4, Axis, ShapeBuilder};

use super::tile::{
    block_count, fill_tile, for_each_block, input_in_place, packed_weights, prefix, rows_per_block, workspace,
    TileShape, Workspace,
};
use super::{Element, Problem};

/// Output pixels per block: the width of the patch matrix.
const BLOCK_OUTPUTS: usize = 512;

/// The patch matrix's columns come in multiples of this many (one cache
/// line of `f32`): the `gemm` crate then reads it in place, without
/// copying it into a buffer it would allocate.
const COLUMN_MULTIPLE: usize = 16;

/// Computes `problem` into `out` with blocked matrix products.
pub(crate) fn run<A: Element>(problem: &Problem<'_, A>, out: ArrayViewMut4<'_, A>) {
    let [out_rows, out_cols] = [out.shape()[2], out.shape()[3]];
    if out.is_empty() {
        return;
    }
    // Whole rows per block, in a number that makes the block's pixels a
    // multiple of `COLUMN_MULTIPLE` where that costs little; the columns of
    // any other block are padded up to one.
    let row_multiple = COLUMN_MULTIPLE / gcd(out_cols, COLUMN_MULTIPLE);
    let wanted = BLOCK_OUTPUTS / out_cols;
    let wanted = if wanted >= 2 * row_multiple {
        wanted / row_multiple * row_multiple
    } else {
        wanted
    };
    let rows_per_block = rows_per_block(problem, wanted, out_rows, out_cols);
    let [rows, cols] = problem.geometry;
    let (kh, kw) = (rows.kernel, cols.kernel);
    let channels_per_group = problem.weight.shape()[1];
    let outputs_per_group = problem.weight.shape()[0] / problem.groups;
    let depth = channels_per_group * kh * kw;
    let taps = packed_weights(problem);
    let weights = ArrayView2::from_shape((problem.weight.shape()[0], depth), &taps)
        .expect("packed weights hold O · C/G · kh · kw taps");

    let local = Workspace::default();
    let workspace = workspace(problem, &local);

    let full = TileShape::of(problem, rows_per_block, out_cols);
    let full_columns = (rows_per_block * out_cols).next_multiple_of(COLUMN_MULTIPLE);
    let blocks = block_count(out.shape()[0], out_rows, rows_per_block);
    workspace.prepare_buffers(
        blocks,
        [full.len(), depth * full_columns, outputs_per_group * full_columns],
    );
    for_each_block(out, rows_per_block, |mut block| {
        let block_rows = block.out.shape()[1];
        let pixels = block_rows * out_cols;
        // Columns past `pixels` hold whatever the buffer held: their
        // products are never read.
        let columns = pixels.next_multiple_of(COLUMN_MULTIPLE);
        let shape = TileShape::of(problem, block_rows, out_cols);
        workspace.with(|[tile, patches, product]| {
            let tile = prefix(tile, shape.len(), full.len());
            let patches = prefix(patches, depth * columns, depth * full_columns);
            let mut patches = ArrayViewMut2::from_shape((depth, columns), patches).expect("depth × columns elements");
            let product = prefix(product, outputs_per_group * columns, outputs_per_group * full_columns);
            let mut product =
                ArrayViewMut2::from_shape((outputs_per_group, columns), product).expect("outputs × columns elements");
            let image = problem.input.index_axis(Axis(0), block.n);
            for g in 0..problem.groups {
                let w: ArrayView2<'_, A> = weights.slice(s![g * outputs_per_group..(g + 1) * outputs_per_group, ..]);
                if let Some(input) = pointwise_patches(problem, block.n, g, block.row0, pixels) {
                    super::gemm::matmul(w, input, product.slice_mut(s![.., ..pixels]));
                } else {
                    fill_patches(
                        problem,
                        image,
                        g,
                        block.row0,
                        block_rows,
                        out_cols,
                        tile,
                        patches.view_mut(),
                    );
                    super::gemm::matmul(w, patches.view(), product.view_mut());
                }
                for (o, result) in product.outer_iter().enumerate() {
                    let channel = g * outputs_per_group + o;
                    let bias = problem.bias.as_ref().map(|b| b[channel]);
                    let mut dst = block.out.index_axis_mut(Axis(0), channel);
                    for (mut dst_row, src_row) in dst.outer_iter_mut().zip(result.exact_chunks(out_cols)) {
                        match bias {
                            Some(bias) => dst_row.zip_mut_with(&src_row, |d, &v| *d = v.plus(bias)),
                            None => dst_row.assign(&src_row),
                        }
                    }
                }
            }
        });
    });
}

/// The patch matrix of group `g` for the block of image `n` from output row
/// `row0` on, when it is the input itself: a 1×1 kernel at unit stride
/// without padding over a standard-layout input reads each channel's rows
/// as they lie, `[C/G, pixels]` with rows `H · W` apart. Only blocks whose
/// pixel count is a multiple of `COLUMN_MULTIPLE` qualify, so that the
/// `gemm` crate reads the matrix in place.
pub(crate) fn pointwise_patches<'a, A>(
    problem: &Problem<'a, A>,
    n: usize,
    g: usize,
    row0: usize,
    pixels: usize,
) -> Option<ArrayView2<'a, A>> {
    let [rows, cols] = &problem.geometry;
    let unit = |axis: &crate::shape::AxisGeometry| {
        axis.kernel == 1 && axis.stride == 1 && axis.pad_lo == 0 && axis.pad_hi == 0
    };
    if !unit(rows) || !unit(cols) || pixels % COLUMN_MULTIPLE != 0 {
        return None;
    }
    let input = input_in_place(problem, n, g, row0)?;
    ArrayView2::from_shape(
        (problem.weight.shape()[1], pixels).strides((input.channel, 1)),
        input.data,
    )
    .ok()
}

/// Lays out the patches of group `g` of `image` (`[C, H, W]`) read by
/// `block_rows` output rows of `out_cols` pixels from row `row0` on, as the
/// first `block_rows · out_cols` columns of `patches`
/// (`[C/G · kh · kw, ≥ block_rows · out_cols]`): row `(c·kh + a)·kw + b`
/// holds what tap `(a, b)` of channel `c` reads for each output pixel.
/// `tile` (at least the block's [`TileShape`]) holds one channel's padded
/// input at a time.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_patches<A: Element>(
    problem: &Problem<'_, A>,
    image: ArrayView3<'_, A>,
    g: usize,
    row0: usize,
    block_rows: usize,
    out_cols: usize,
    tile: &mut [A],
    mut patches: ArrayViewMut2<'_, A>,
) {
    let [rows, cols] = &problem.geometry;
    let (kh, kw) = (rows.kernel, cols.kernel);
    let channels_per_group = problem.weight.shape()[1];
    let pixels = block_rows * out_cols;
    let shape = TileShape::of(problem, block_rows, out_cols);
    let tile = &mut tile[..shape.len()];
    for c in 0..channels_per_group {
        let plane = image.index_axis(Axis(0), g * channels_per_group + c);
        fill_tile(problem, plane, row0 * rows.stride, shape, tile);
        for a in 0..kh {
            for b in 0..kw {
                let mut dst = patches.row_mut((c * kh + a) * kw + b);
                let dst = dst.as_slice_mut().expect("patch rows are contiguous");
                for (r, dst_row) in dst[..pixels].chunks_exact_mut(out_cols).enumerate() {
                    let start = (r * rows.stride + a * rows.dilation) * shape.width + b * cols.dilation;
                    let src = &tile[start..];
                    if cols.stride == 1 {
                        dst_row.copy_from_slice(&src[..out_cols]);
                    } else {
                        for (j, d) in dst_row.iter_mut().enumerate() {
                            *d = src[j * cols.stride];
                        }
                    }
                }
            }
        }
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
