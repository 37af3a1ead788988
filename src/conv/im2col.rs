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

use ndarray::{s, Array2, ArrayView2, ArrayViewMut4, Axis};

use super::tile::{blocks, fill_tile, for_each_block, packed_weights, rows_per_block, TileShape};
use super::{Element, Problem};

/// Output pixels per block: the width of the patch matrix.
const BLOCK_OUTPUTS: usize = 512;

/// Computes `problem` into `out` with blocked matrix products.
pub(crate) fn run<A: Element>(problem: &Problem<'_, A>, out: ArrayViewMut4<'_, A>) {
    let [out_rows, out_cols] = [out.shape()[2], out.shape()[3]];
    if out.is_empty() {
        return;
    }
    let rows_per_block = rows_per_block(problem, BLOCK_OUTPUTS / out_cols, out_rows, out_cols);
    let [rows, cols] = problem.geometry;
    let (kh, kw) = (rows.kernel, cols.kernel);
    let channels_per_group = problem.weight.shape()[1];
    let outputs_per_group = problem.weight.shape()[0] / problem.groups;
    let depth = channels_per_group * kh * kw;
    let taps = packed_weights(problem);
    let weights = ArrayView2::from_shape((problem.weight.shape()[0], depth), &taps)
        .expect("packed weights hold O · C/G · kh · kw taps");

    for_each_block(blocks(out, rows_per_block), |mut block| {
        let block_rows = block.out.shape()[1];
        let pixels = block_rows * out_cols;
        let shape = TileShape::of(problem, block_rows, out_cols);
        let mut tile = vec![A::zero(); shape.len()];
        let mut patches = Array2::zeros((depth, pixels));
        let mut product = Array2::zeros((outputs_per_group, pixels));
        let image = problem.input.index_axis(Axis(0), block.n);
        for g in 0..problem.groups {
            for c in 0..channels_per_group {
                let plane = image.index_axis(Axis(0), g * channels_per_group + c);
                fill_tile(problem, plane, block.row0 * rows.stride, shape, &mut tile);
                for a in 0..kh {
                    for b in 0..kw {
                        let mut dst = patches.row_mut((c * kh + a) * kw + b);
                        let dst = dst.as_slice_mut().expect("patch rows are contiguous");
                        for (r, dst_row) in dst.chunks_exact_mut(out_cols).enumerate() {
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
            let w: ArrayView2<'_, A> = weights.slice(s![g * outputs_per_group..(g + 1) * outputs_per_group, ..]);
            super::gemm::matmul(w, patches.view(), product.view_mut());
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
}
