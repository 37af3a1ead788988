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
//! product there; the planner sends them to `Algorithm::Vectorized` instead.

use ndarray::{s, ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut4, Axis, ShapeBuilder};

use crate::conv::element::Element;
use crate::conv::exec::blocks::{block_count, for_each_block};
use crate::conv::exec::matmul::matmul;
use crate::conv::exec::scratch::{prefix, workspace, ScratchLens, Workspace};
use crate::conv::exec::tile::{fill_tile, input_in_place, packed_weights, rows_per_block, TileShape};
use crate::conv::problem::Problem;

/// Output pixels per block: the width of the patch matrix.
const BLOCK_OUTPUTS: usize = 512;

/// The patch matrix's columns come in multiples of this many (one cache
/// line of `f32`): the `gemm` crate then reads it in place, without
/// copying it into a buffer it would allocate.
pub(crate) const COLUMN_MULTIPLE: usize = 16;

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
        ScratchLens {
            tile: full.len(),
            patches: depth * full_columns,
            product: outputs_per_group * full_columns,
        },
    );
    for_each_block(out, rows_per_block, |mut block| {
        let block_rows = block.out.shape()[1];
        let pixels = block_rows * out_cols;
        // Columns past `pixels` hold whatever the buffer held: their
        // products are never read.
        let columns = pixels.next_multiple_of(COLUMN_MULTIPLE);
        let shape = TileShape::of(problem, block_rows, out_cols);
        workspace.with(|scratch| {
            let tile = prefix(&mut scratch.tile, shape.len(), full.len());
            let patches = prefix(&mut scratch.patches, depth * columns, depth * full_columns);
            let mut patches = ArrayViewMut2::from_shape((depth, columns), patches).expect("depth × columns elements");
            let product = prefix(
                &mut scratch.product,
                outputs_per_group * columns,
                outputs_per_group * full_columns,
            );
            let mut product =
                ArrayViewMut2::from_shape((outputs_per_group, columns), product).expect("outputs × columns elements");
            let image = problem.input.index_axis(Axis(0), block.n);
            for g in 0..problem.groups {
                let w: ArrayView2<'_, A> = weights.slice(s![g * outputs_per_group..(g + 1) * outputs_per_group, ..]);
                if let Some(input) = pointwise_patches(problem, block.n, g, block.row0, pixels) {
                    matmul(w, input, product.slice_mut(s![.., ..pixels]));
                } else {
                    let channels = image.slice(s![g * channels_per_group..(g + 1) * channels_per_group, .., ..]);
                    let rows = OutputRows {
                        first: block.row0,
                        count: block_rows,
                        width: out_cols,
                    };
                    fill_patches(problem, channels, rows, tile, patches.view_mut());
                    matmul(w, patches.view(), product.view_mut());
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
pub(crate) fn pointwise_patches<'a, A: Element>(
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

/// Output rows `first .. first + count` of an image, `width` pixels each.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutputRows {
    pub(crate) first: usize,
    pub(crate) count: usize,
    pub(crate) width: usize,
}

/// Lays out the patches that `out` rows read from `channels` (one group's
/// input channels of an image, `[C/G, H, W]`) as the first
/// `out.count · out.width` columns of `patches`
/// (`[C/G · kh · kw, ≥ out.count · out.width]`): row `(c·kh + a)·kw + b`
/// holds what tap `(a, b)` of channel `c` reads for each output pixel.
/// `tile` (at least the block's [`TileShape`]) holds one channel's padded
/// input at a time.
pub(crate) fn fill_patches<A: Element>(
    problem: &Problem<'_, A>,
    channels: ArrayView3<'_, A>,
    out: OutputRows,
    tile: &mut [A],
    mut patches: ArrayViewMut2<'_, A>,
) {
    let [rows, cols] = &problem.geometry;
    let (kh, kw) = (rows.kernel, cols.kernel);
    let (block_rows, out_cols) = (out.count, out.width);
    let pixels = block_rows * out_cols;
    let shape = TileShape::of(problem, block_rows, out_cols);
    let tile = &mut tile[..shape.len()];
    for (c, plane) in channels.outer_iter().enumerate() {
        fill_tile(problem, plane, out.first * rows.stride, shape, tile);
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

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Array4};
    use num_complex::Complex;

    use super::*;
    use crate::conv::kernels::check::{check_kernel, problem, sweep};
    use crate::options::{ConvOptions, Padding};

    #[test]
    fn f32_matches_the_reference() {
        check_kernel::<f32>("gemm", sweep(), run);
    }

    #[test]
    fn f64_matches_the_reference() {
        check_kernel::<f64>("gemm", sweep(), run);
    }

    #[test]
    fn complex_f32_matches_the_reference() {
        check_kernel::<Complex<f32>>("gemm", sweep(), run);
    }

    #[test]
    fn gcd_by_hand() {
        assert_eq!(gcd(12, 16), 4);
        assert_eq!(gcd(16, 12), 4);
        assert_eq!(gcd(33, 16), 1);
        assert_eq!(gcd(48, 16), 16);
        assert_eq!(gcd(7, 0), 7);
        assert_eq!(gcd(0, 16), 16);
    }

    #[test]
    fn row_multiples_make_whole_column_multiples() {
        // `run` takes rows in multiples of 16 / gcd(Wo, 16): the fewest
        // whose pixels are a multiple of 16.
        for out_cols in 1..100 {
            let rows = COLUMN_MULTIPLE / gcd(out_cols, COLUMN_MULTIPLE);
            assert_eq!(rows * out_cols % COLUMN_MULTIPLE, 0, "{out_cols}");
            assert!(
                (1..rows).all(|fewer| fewer * out_cols % COLUMN_MULTIPLE != 0),
                "{out_cols}"
            );
        }
    }

    /// `x[n, c, h, w] = 1000n + 100c + 10h + w`: every value says where it is.
    fn labelled(shape: [usize; 4]) -> Array4<f64> {
        Array4::from_shape_fn(shape, |(n, c, h, w)| (1000 * n + 100 * c + 10 * h + w) as f64)
    }

    #[test]
    fn pointwise_patches_are_the_input_rows_as_they_lie() {
        // Two images of 4 channels of 4 × 8, two groups of 2 channels.
        let x = labelled([2, 4, 4, 8]);
        let w = Array4::<f64>::ones((2, 2, 1, 1));
        let p = problem(x.view(), w.view(), None, &ConvOptions::new().groups(2));
        // Image 1, group 1 (channels 2 and 3), from row 2: rows 2 and 3,
        // 16 pixels, each channel a row of the patch matrix.
        let got = pointwise_patches(&p, 1, 1, 2, 16).expect("a pointwise layer");
        let want = Array2::from_shape_fn((2, 16), |(c, q)| {
            (1000 + 100 * (2 + c) + 10 * (2 + q / 8) + q % 8) as f64
        });
        assert_eq!(got, want);
    }

    #[test]
    fn only_unpadded_unit_stride_1x1_standard_layout_whole_blocks_are_pointwise() {
        let x = labelled([1, 2, 4, 8]);
        let pointwise = |weight: [usize; 4], options: ConvOptions, pixels| {
            let w = Array4::<f64>::ones(weight);
            let p = problem(x.view(), w.view(), None, &options);
            pointwise_patches(&p, 0, 0, 0, pixels).is_some()
        };
        let plain = ConvOptions::new();
        assert!(pointwise([3, 2, 1, 1], plain, 32));
        // 24 pixels are not a whole number of 16-column blocks.
        assert!(!pointwise([3, 2, 1, 1], plain, 24));
        assert!(!pointwise([3, 2, 1, 3], plain, 16));
        assert!(!pointwise([3, 2, 1, 1], plain.strides(1, 2), 16));
        assert!(!pointwise([3, 2, 1, 1], plain.padding(Padding::uniform(1)), 16));
        // Dilation means nothing to a single tap.
        assert!(pointwise([3, 2, 1, 1], plain.dilation(3), 16));
        // A transposed input is not read in place.
        let xt = x.view().reversed_axes().as_standard_layout().into_owned();
        let w = Array4::<f64>::ones((3, 2, 1, 1));
        let p = problem(xt.view().reversed_axes(), w.view(), None, &plain);
        assert!(pointwise_patches(&p, 0, 0, 0, 16).is_none());
    }

    #[test]
    fn patches_by_hand_at_stride_2_with_padding() {
        // x = 1 2 3 / 4 5 6 / 7 8 9, padded with one zero all round (5 × 5),
        // a 2 × 2 kernel at stride 2: (5 - 2) / 2 + 1 = 2 outputs a side.
        // Output (i, j) reads padded (2i + a, 2j + b), which is
        // x[2i + a - 1, 2j + b - 1] or 0.
        let x = Array4::from_shape_fn((1, 1, 3, 3), |(_, _, h, w)| (3 * h + w + 1) as f64);
        let w = Array4::<f64>::ones((1, 1, 2, 2));
        let p = problem(
            x.view(),
            w.view(),
            None,
            &ConvOptions::new().stride(2).padding(Padding::uniform(1)),
        );
        let mut tile = vec![f64::NAN; 25];
        let mut patches = Array2::from_elem((4, 16), f64::NAN);
        let rows = OutputRows {
            first: 0,
            count: 2,
            width: 2,
        };
        fill_patches(&p, x.slice(s![0, .., .., ..]), rows, &mut tile, patches.view_mut());
        // Rows are taps (a, b); columns the pixels (0,0) (0,1) (1,0) (1,1).
        let want = [
            [0.0, 0.0, 0.0, 5.0], // (0, 0): padded (0,0) (0,2) (2,0) (2,2)
            [0.0, 0.0, 4.0, 6.0], // (0, 1): padded (0,1) (0,3) (2,1) (2,3)
            [0.0, 2.0, 0.0, 8.0], // (1, 0): padded (1,0) (1,2) (3,0) (3,2)
            [1.0, 3.0, 7.0, 9.0], // (1, 1): padded (1,1) (1,3) (3,1) (3,3)
        ];
        for (tap, want) in want.iter().enumerate() {
            assert_eq!(patches.slice(s![tap, ..4]).to_vec(), want, "tap {tap}");
        }
        // The columns past the block's pixels are not written.
        assert!(patches.slice(s![.., 4..]).iter().all(|v| v.is_nan()));
        // The second output row alone: the last two columns above.
        let second = OutputRows {
            first: 1,
            count: 1,
            width: 2,
        };
        fill_patches(&p, x.slice(s![0, .., .., ..]), second, &mut tile, patches.view_mut());
        assert_eq!(
            patches.slice(s![.., ..2]),
            Array2::from(want.map(|t| [t[2], t[3]]).to_vec())
        );
    }
}
