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
//! never the whole im2col matrix. For `f32` and `f64` the patches are
//! gathered straight into the panels of the crate's micro-kernel
//! (`exec::microkernel`), whose packed weights a plan keeps; where a block
//! is one output row (or a segment of a long one) at unit column stride,
//! or several rows at unit strides computed over the padded rows' full
//! width, every patch row is a run of the input, or of the block's padded
//! copy of it, and the micro-kernel reads the runs in place instead. Complex
//! numbers go through the `gemm` crate (`exec::matmul`), which packs a
//! patch matrix again itself. Integer types have no fast product; the
//! planner sends them to `Algorithm::Vectorized` instead.

use ndarray::{s, ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut3, ArrayViewMut4, Axis, ShapeBuilder};

use crate::conv::element::Element;
use crate::conv::exec::blocks::{block_count, for_each_block, for_each_segment, segment_count};
use crate::conv::exec::matmul::matmul;
use crate::conv::exec::microkernel::{panel_index, Microkernel, Operands, PackedWeights, Patches};
use crate::conv::exec::scratch::{prefix, workspace, ScratchLens, Workspace};
use crate::conv::exec::tile::{
    fill_segment, input_in_place, packed_weights, rows_per_block, unpadded_segment, TileShape,
};
use crate::conv::problem::Problem;

/// Output pixels per block: the width of the patch matrix.
const BLOCK_OUTPUTS: usize = 512;

/// Output pixels per block on the micro-kernel: a block's patch panels
/// (`C/G · kh · kw` values per pixel) and its product stay in L2 (512
/// timed ahead of 256 and 1024 on the benchmark layers). Rows longer than
/// this are cut into segments of about as many pixels.
const PANEL_BLOCK_OUTPUTS: usize = 512;

/// Output pixels per block where the micro-kernel reads the patch rows in
/// place: with no panels to hold, larger blocks pay (1024 timed 5–10%
/// ahead of 512 on b2, b5, v1 and a1, and 256 5–10% behind).
const IN_PLACE_BLOCK_OUTPUTS: usize = 1024;

/// The patch matrix's columns come in multiples of this many (one cache
/// line of `f32`): the `gemm` crate then reads it in place, without
/// copying it into a buffer it would allocate.
pub(crate) const COLUMN_MULTIPLE: usize = 16;

/// Computes `problem` into `out` with blocked matrix products: on the
/// type's micro-kernel where it has one, else on the `gemm` crate.
pub(crate) fn run<A: Element>(problem: &Problem<'_, A>, out: ArrayViewMut4<'_, A>) {
    if out.is_empty() {
        return;
    }
    match microkernel(problem) {
        Some(kernel) => run_packed(problem, kernel, out),
        _ => run_matmul(problem, out),
    }
}

/// The micro-kernel `problem` runs on: its type's, except for pointwise
/// layers, whose patch matrix is the input itself: the `gemm` crate reads
/// that in place and wins (by 1.15–1.4× on a 1×1 layer of 256 channels;
/// `docs/algorithms.md`), where the micro-kernel would copy it into panels
/// or read it in place at a large stride, uncached.
fn microkernel<A: Element>(problem: &Problem<'_, A>) -> Option<Microkernel<A>> {
    A::MICROKERNEL.filter(|_| !pointwise(problem))
}

/// The weights of `problem` packed for the micro-kernel, if it runs on
/// one, in `kept`'s buffer if given (a plan's, which then allocates
/// nothing for weights of the same shape).
pub(crate) fn pack_weights<A: Element>(
    problem: &Problem<'_, A>,
    kept: Option<PackedWeights<A>>,
) -> Option<PackedWeights<A>> {
    microkernel(problem)?;
    Some(packed_for_microkernel(problem, kept))
}

fn packed_for_microkernel<A: Element>(problem: &Problem<'_, A>, kept: Option<PackedWeights<A>>) -> PackedWeights<A> {
    let [out_channels, channels_per_group, kh, kw] = crate::conv::problem::dims4(problem.weight.shape());
    let conjugate = problem.conjugate_kernel;
    let outputs = out_channels / problem.groups;
    let weight = problem.weight;
    let mut packed = kept.unwrap_or_default();
    packed.fill(problem.groups, outputs, channels_per_group * kh * kw, |g, r, k| {
        let w = weight[[g * outputs + r, k / (kh * kw), k / kw % kh, k % kw]];
        if conjugate {
            w.conj()
        } else {
            w
        }
    });
    packed
}

/// [`run`] on the micro-kernel: per block and group, the patches are
/// gathered into its panels, or named as runs of the input read in place,
/// and multiplied by the packed weights.
fn run_packed<A: Element>(problem: &Problem<'_, A>, kernel: Microkernel<A>, out: ArrayViewMut4<'_, A>) {
    let [out_rows, out_cols] = [out.shape()[2], out.shape()[3]];
    let nr = (kernel.panel_width)();
    let [rows, cols] = problem.geometry;
    let channels_per_group = problem.weight.shape()[1];
    let outputs_per_group = problem.weight.shape()[0] / problem.groups;
    let depth = channels_per_group * rows.kernel * cols.kernel;
    let local;
    let packed = match problem.prepared.and_then(|p| p.packed.as_ref()) {
        Some(kept) if kept.has_shape(problem.groups, outputs_per_group, depth) => kept,
        _ => {
            local = packed_for_microkernel(problem, None);
            &local
        }
    };
    // At unit column stride each patch row is a run of the block's padded
    // input rows read from one tap on (see `patch_rows`), so the
    // micro-kernel reads the runs in place rather than gathered panels:
    // always for blocks of one output row; for blocks of several rows (at
    // unit row stride) too, computing every column of the padded rows and
    // keeping the first `Wo` of each, where that wastes at most a
    // sixteenth (a 3×3 layer on 16² images, wasting a ninth, ran 3–10%
    // slower so than with gathered panels; on 56² and 64² as fast or
    // faster).
    let spare = cols.extent().saturating_sub(1);
    let narrow = rows.stride == 1 && spare.saturating_mul(16) <= out_cols;
    let panel_rows = rows_per_block(problem, PANEL_BLOCK_OUTPUTS / out_cols, out_rows, out_cols);
    let in_rows = cols.stride == 1 && (narrow || panel_rows == 1);
    let (rows_per_block, block_outputs) = match (in_rows, narrow) {
        (false, _) => (panel_rows, PANEL_BLOCK_OUTPUTS),
        (true, true) => (
            rows_per_block(problem, IN_PLACE_BLOCK_OUTPUTS / out_cols, out_rows, out_cols),
            IN_PLACE_BLOCK_OUTPUTS,
        ),
        (true, false) => (1, IN_PLACE_BLOCK_OUTPUTS),
    };
    let cols_per_block = segment_width(out_cols, nr, block_outputs);
    // The product's columns for a block: a padded row (`pitch` apart, the
    // width of the block's tile) for every output row but the last, then
    // the last row's own.
    let pitch = |block_cols: usize| TileShape::of(problem, 1, block_cols).width;
    let columns = |block_rows: usize, block_cols: usize| {
        if in_rows {
            (block_rows - 1) * pitch(block_cols) + block_cols
        } else {
            block_rows * block_cols
        }
    };
    let panel_len = |pixels: usize| {
        if in_rows {
            0
        } else {
            depth * pixels.next_multiple_of(nr)
        }
    };
    let tile_len = |shape: TileShape| {
        if in_rows {
            channels_per_group * shape.len() + nr
        } else {
            shape.len() + phased_len(shape, cols.stride)
        }
    };

    let local = Workspace::default();
    let workspace = workspace(problem, &local);
    let full = TileShape::of(problem, rows_per_block, cols_per_block);
    let full_pixels = columns(rows_per_block, cols_per_block);
    let blocks = segment_count(out.shape()[0], [out_rows, out_cols], [rows_per_block, cols_per_block]);
    workspace.prepare_buffers(
        blocks,
        ScratchLens {
            tile: tile_len(full),
            patches: panel_len(full_pixels),
            product: outputs_per_group * full_pixels,
        },
    );
    for_each_segment(out, rows_per_block, cols_per_block, |mut block| {
        let [block_rows, block_cols] = [block.out.shape()[1], block.out.shape()[2]];
        let pixels = columns(block_rows, block_cols);
        let shape = TileShape::of(problem, block_rows, block_cols);
        workspace.with(|scratch| {
            let tile = prefix(&mut scratch.tile, tile_len(shape), tile_len(full));
            let panels = prefix(&mut scratch.patches, panel_len(pixels), panel_len(full_pixels));
            let offsets = prefix(&mut scratch.offsets, if in_rows { depth } else { 0 }, 0);
            let product = prefix(
                &mut scratch.product,
                outputs_per_group * pixels,
                outputs_per_group * full_pixels,
            );
            let rows_out = OutputRows {
                first: block.row0,
                count: block_rows,
                first_col: block.col0,
                width: block_cols,
            };
            for g in 0..problem.groups {
                let patches = if in_rows {
                    let source = patch_rows(problem, [block.n, g], rows_out, pixels, &mut *tile, offsets, nr);
                    Patches::Rows { source, offsets }
                } else {
                    gather_panels(problem, [block.n, g], rows_out, tile, panels, nr);
                    Patches::Panels(panels)
                };
                let operands = Operands {
                    weights: packed.group(g),
                    patches,
                    rows: outputs_per_group,
                    depth,
                    columns: pixels,
                };
                (kernel.multiply)(operands, product, pixels);
                let product =
                    ArrayView2::from_shape((outputs_per_group, pixels), &*product).expect("outputs × pixels elements");
                let pitch = if in_rows { pitch(block_cols) } else { block_cols };
                write_back(problem, g, product, pitch, &mut block.out);
            }
        });
    });
}

/// The columns per block of rows `out_cols` wide, for blocks of about
/// `outputs` pixels: whole rows up to twice that, else segments of about
/// that many, of equal widths in whole panels of `nr` where the row allows.
pub(crate) fn segment_width(out_cols: usize, nr: usize, outputs: usize) -> usize {
    let outputs = outputs.max(1);
    if out_cols < 2 * outputs {
        return out_cols;
    }
    let segments = out_cols.div_ceil(outputs);
    out_cols.div_ceil(segments).next_multiple_of(nr.max(1))
}

/// Whether the layer is pointwise: a 1×1 kernel at unit stride without
/// padding, whose patch matrix is the input itself.
pub(crate) fn pointwise<A: Element>(problem: &Problem<'_, A>) -> bool {
    let unit = |axis: &crate::shape::AxisGeometry| {
        axis.kernel == 1 && axis.stride == 1 && axis.pad_lo == 0 && axis.pad_hi == 0
    };
    problem.geometry.iter().all(unit)
}

/// Elements of the column-phase copy of a tile at column stride `stride`
/// (none at unit stride): see [`gather_panels`].
fn phased_len(shape: TileShape, stride: usize) -> usize {
    if stride == 1 {
        0
    } else {
        shape.rows * phases(stride, shape.width) * shape.width.div_ceil(stride)
    }
}

/// The column phases of a tile row of `width` columns at column stride
/// `stride` that hold any column: no more than the columns themselves,
/// however large the stride (every tap reads a phase below the kernel's
/// extent, which the tile holds).
fn phases(stride: usize, width: usize) -> usize {
    stride.min(width)
}

/// Lays out the patches that `out` rows of group `g` of image `n` read
/// (`[n, g]`) as the first `out.count · out.width` columns of the
/// micro-kernel's panels of `nr` columns ([`panel_index`]; row
/// `(c·kh + a)·kw + b` holds tap `(a, b)` of channel `c`), and zeros in
/// the rest of the last panel.
///
/// Each channel's padded rows are read in place where the block reads no
/// padding, else from `tile`, filled by the boundary rule. At a column
/// stride `s > 1`, the rows are first split into their `s` column phases
/// (phase `q` holding columns `q, q + s, …`), so that every tap reads a
/// contiguous run of one phase: output `j` of tap `b` reads padded column
/// `j·s + b·dw`, which is element `j + ⌊b·dw / s⌋` of phase `b·dw mod s`.
fn gather_panels<A: Element>(
    problem: &Problem<'_, A>,
    [n, g]: [usize; 2],
    out: OutputRows,
    tile: &mut [A],
    panels: &mut [A],
    nr: usize,
) {
    let [rows, cols] = &problem.geometry;
    let (kh, kw) = (rows.kernel, cols.kernel);
    let channels_per_group = problem.weight.shape()[1];
    let depth = channels_per_group * kh * kw;
    let pixels = out.count * out.width;
    let shape = TileShape::of(problem, out.count, out.width);
    let origin = [out.first * rows.stride, out.first_col * cols.stride];
    let in_place = unpadded_segment(problem, n, g, origin, shape);
    let image = problem.input.index_axis(Axis(0), n);
    let (tile, phased) = tile.split_at_mut(shape.len());
    let stride = cols.stride;
    let phase_width = shape.width.div_ceil(stride);
    for c in 0..channels_per_group {
        let (mut source, mut row_len): (&[A], usize) = match in_place {
            Some(input) => (&input.data[c * input.channel..], input.row),
            None => {
                let plane = image.index_axis(Axis(0), g * channels_per_group + c);
                fill_segment(problem, plane, origin, shape, tile);
                (&*tile, shape.width)
            }
        };
        let row_phases = phases(stride, shape.width);
        if stride > 1 {
            for (t, dst) in phased.chunks_exact_mut(row_phases * phase_width).enumerate() {
                let src = &source[t * row_len..][..shape.width];
                for (q, phase) in dst.chunks_exact_mut(phase_width).enumerate() {
                    for (d, &v) in phase.iter_mut().zip(src.iter().skip(q).step_by(stride)) {
                        *d = v;
                    }
                }
            }
            (source, row_len) = (&*phased, row_phases * phase_width);
        }
        for a in 0..kh {
            for b in 0..kw {
                let k = (c * kh + a) * kw + b;
                let column = b * cols.dilation;
                let column = column % stride * phase_width + column / stride;
                for r in 0..out.count {
                    let line = &source[(r * rows.stride + a * rows.dilation) * row_len + column..];
                    let mut j = 0;
                    while j < out.width {
                        let p = r * out.width + j;
                        let len = (nr - p % nr).min(out.width - j);
                        copy_run(&mut panels[panel_index(k, p, depth, nr)..][..len], &line[j..]);
                        j += len;
                    }
                }
            }
        }
    }
    let tail = pixels % nr;
    if tail != 0 {
        let last = &mut panels[pixels / nr * depth * nr..][..depth * nr];
        for k_row in last.chunks_exact_mut(nr) {
            k_row[tail..].fill(A::zero());
        }
    }
}

/// Where the patch rows of the block `out` of group `g` of image `n`
/// (`[n, g]`) lie, at unit column stride, for the micro-kernel to read in
/// place: row `(c·kh + a)·kw + b` (tap `(a, b)` of channel `c`) is the run
/// from `offsets[…]` on of the slice returned. Over a block of one output
/// row the runs are its patches; over several rows (at unit row stride)
/// each run goes on through the padded rows, so that output row `r`'s
/// patches are the run's columns `r · W' ..`, with `W'` the padded rows'
/// width (`out.width` plus the kernel's extent less one): `columns` of
/// them in all.
///
/// The runs are in the input itself where the block reads no padding,
/// its rows are `W'` long, and the runs, read on to whole panels of `nr`,
/// stay within it; else in the block's padded rows of each channel, copied
/// into `tile` one channel after another (which holds `nr` elements more
/// than the copies, for the last runs' excess).
fn patch_rows<'r, 'p: 'r, A: Element>(
    problem: &Problem<'p, A>,
    [n, g]: [usize; 2],
    out: OutputRows,
    columns: usize,
    tile: &'r mut [A],
    offsets: &mut [usize],
    nr: usize,
) -> &'r [A] {
    let [rows, cols] = &problem.geometry;
    let (kh, kw) = (rows.kernel, cols.kernel);
    let channels_per_group = problem.weight.shape()[1];
    let shape = TileShape::of(problem, out.count, out.width);
    let origin = [out.first * rows.stride, out.first_col];
    let read = columns.next_multiple_of(nr);
    // The start of the last patch row (none for an empty patch matrix: no
    // channel or no tap).
    let last_start = |channel: usize, row: usize| {
        let c = channels_per_group.checked_sub(1)?.checked_mul(channel)?;
        let a = kh.checked_sub(1)?.checked_mul(rows.dilation)?.checked_mul(row)?;
        let b = kw.checked_sub(1)?.checked_mul(cols.dilation)?;
        c.checked_add(a)?.checked_add(b)
    };
    let in_place = unpadded_segment(problem, n, g, origin, shape).filter(|input| {
        (out.count == 1 || input.row == shape.width)
            && last_start(input.channel, input.row).is_some_and(|last| last.saturating_add(read) <= input.data.len())
    });
    let (source, channel, row): (&'r [A], usize, usize) = match in_place {
        Some(input) => (input.data, input.channel, input.row),
        None => {
            let image = problem.input.index_axis(Axis(0), n);
            for (c, dst) in tile.chunks_exact_mut(shape.len()).take(channels_per_group).enumerate() {
                let plane = image.index_axis(Axis(0), g * channels_per_group + c);
                fill_segment(problem, plane, origin, shape, dst);
            }
            (&*tile, shape.len(), shape.width)
        }
    };
    let mut k = 0;
    for c in 0..channels_per_group {
        for a in 0..kh {
            for b in 0..kw {
                offsets[k] = c * channel + a * rows.dilation * row + b * cols.dilation;
                k += 1;
            }
        }
    }
    source
}

/// Copies `src` into `dst` (as many elements as `dst` has), in fixed-size
/// pieces: the runs are a row or less (tens of elements), for which a call
/// to `memcpy` costs more than the copy.
#[inline(always)]
fn copy_run<A: Copy>(dst: &mut [A], src: &[A]) {
    let src = &src[..dst.len()];
    let mut wide = dst.chunks_exact_mut(16);
    let mut from = src.chunks_exact(16);
    for (d, s) in (&mut wide).zip(&mut from) {
        d.copy_from_slice(s);
    }
    let mut narrow = wide.into_remainder().chunks_exact_mut(4);
    let mut from = from.remainder().chunks_exact(4);
    for (d, s) in (&mut narrow).zip(&mut from) {
        d.copy_from_slice(s);
    }
    match (narrow.into_remainder(), from.remainder()) {
        ([d0, d1, d2], [s0, s1, s2]) => (*d0, *d1, *d2) = (*s0, *s1, *s2),
        ([d0, d1], [s0, s1]) => (*d0, *d1) = (*s0, *s1),
        ([d0], [s0]) => *d0 = *s0,
        _ => {}
    }
}

/// Writes group `g`'s product (`[O/G, pixels]`, each output row of the
/// block `pitch` columns after the one before) into its output channels of
/// a block (`[O, rows, cols]`), adding the bias.
fn write_back<A: Element>(
    problem: &Problem<'_, A>,
    g: usize,
    product: ArrayView2<'_, A>,
    pitch: usize,
    out: &mut ArrayViewMut3<'_, A>,
) {
    let out_cols = out.shape()[2];
    let outputs_per_group = product.nrows();
    for (o, result) in product.outer_iter().enumerate() {
        let channel = g * outputs_per_group + o;
        let bias = problem.bias.as_ref().map(|b| b[channel]);
        let mut dst = out.index_axis_mut(Axis(0), channel);
        let result = result.to_slice().expect("a product row is contiguous");
        for (r, mut dst_row) in dst.outer_iter_mut().enumerate() {
            let src_row = &result[r * pitch..][..out_cols];
            match (bias, dst_row.as_slice_mut()) {
                (None, Some(dst_row)) => dst_row.copy_from_slice(src_row),
                (None, None) => dst_row.iter_mut().zip(src_row).for_each(|(d, &v)| *d = v),
                (Some(bias), _) => dst_row.iter_mut().zip(src_row).for_each(|(d, &v)| *d = v.plus(bias)),
            }
        }
    }
}

/// [`run`] on the `gemm` crate's products.
fn run_matmul<A: Element>(problem: &Problem<'_, A>, out: ArrayViewMut4<'_, A>) {
    let [out_rows, out_cols] = [out.shape()[2], out.shape()[3]];
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
                        first_col: 0,
                        width: out_cols,
                    };
                    fill_patches(problem, channels, rows, tile, patches.view_mut());
                    matmul(w, patches.view(), product.view_mut());
                }
                write_back(problem, g, product.slice(s![.., ..pixels]), out_cols, &mut block.out);
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
    if !pointwise(problem) || pixels % COLUMN_MULTIPLE != 0 {
        return None;
    }
    let input = input_in_place(problem, n, g, row0)?;
    ArrayView2::from_shape(
        (problem.weight.shape()[1], pixels).strides((input.channel, 1)),
        input.data,
    )
    .ok()
}

/// Output rows `first .. first + count` of an image, columns
/// `first_col .. first_col + width` of each.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutputRows {
    pub(crate) first: usize,
    pub(crate) count: usize,
    pub(crate) first_col: usize,
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
    let origin = [out.first * rows.stride, out.first_col * cols.stride];
    for (c, plane) in channels.outer_iter().enumerate() {
        fill_segment(problem, plane, origin, shape, tile);
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
    use crate::conv::kernels::check::{check_kernel, problem, sweep, Case, EDGES};
    use crate::options::{ConvOptions, Padding};

    #[test]
    fn f32_matches_the_reference() {
        check_kernel::<f32>("gemm", sweep(), run);
    }

    #[test]
    fn f64_matches_the_reference() {
        check_kernel::<f64>("gemm", sweep(), run);
    }

    /// Problems sized against the micro-kernel's blocking: depths that cross
    /// its depth slices, output channels that leave a partial weight panel,
    /// blocks whose pixels end inside a patch panel, several blocks per
    /// image; and strides, dilations, paddings, boundary rules and groups
    /// together, the column stride taking the phase-split gather.
    fn panel_cases() -> Vec<Case> {
        let pad = |top, bottom, left, right| Padding::Explicit {
            top,
            bottom,
            left,
            right,
        };
        let mut cases = vec![
            // Depth 144 (two slices), 13 outputs (panels of 6, 6 and 1),
            // blocks of 22 rows of 23 (506 pixels), two per image.
            Case::new([2, 16, 30, 23], 13, [3, 3]).padding(pad(1, 1, 1, 1)).bias(),
            // AlexNet's first layer in small: 11 × 11 at stride 4 over 3
            // channels, depth 363.
            Case::new([1, 3, 47, 50], 7, [11, 11]).stride(4, 4).bias(),
            // A strided 1×1 layer is not read in place.
            Case::new([1, 8, 20, 21], 6, [1, 1]).stride(2, 3),
        ];
        for edge in EDGES {
            cases.push(
                Case::new([2, 4, 13, 17], 8, [3, 3])
                    .groups(2)
                    .stride(2, 3)
                    .dilation(2, 1)
                    .padding(pad(2, 1, 3, 2))
                    .edge(edge)
                    .bias(),
            );
            cases.push(
                Case::new([1, 3, 9, 40], 5, [2, 5])
                    .stride(1, 2)
                    .dilation(1, 3)
                    .padding(pad(0, 3, 6, 1))
                    .edge(edge),
            );
            // Rows long enough to be cut into segments: 1-D-like rows of
            // 4500 outputs read in place (three segments, the padding in
            // the first and the last), and strided, dilated rows of 1301
            // over two rows with groups, gathered into panels.
            cases.push(
                Case::new([2, 3, 1, 4500], 4, [1, 9])
                    .padding(pad(0, 0, 4, 4))
                    .edge(edge)
                    .bias(),
            );
            cases.push(
                Case::new([1, 4, 3, 2610], 6, [2, 7])
                    .groups(2)
                    .stride(1, 2)
                    .dilation(1, 3)
                    .padding(pad(1, 0, 5, 6))
                    .edge(edge),
            );
        }
        // Rows of 257–1023 outputs, one per block, whose patch rows the
        // micro-kernel reads as runs: padded (copied) under every rule,
        // and unpadded (the input itself, but near its end, where the runs
        // read on to whole panels would pass it), with groups and dilation.
        for edge in EDGES {
            cases.push(
                Case::new([1, 3, 5, 400], 7, [3, 3])
                    .padding(pad(1, 2, 1, 3))
                    .dilation(2, 1)
                    .edge(edge)
                    .bias(),
            );
        }
        cases.push(Case::new([2, 4, 4, 300], 6, [2, 3]).groups(2).dilation(1, 2));
        // Blocks of several rows read in place through the padded rows'
        // full width: padded (copied) under every rule, several blocks per
        // image; unpadded (the input itself, its rows as wide as the
        // padded ones), with groups and row dilation.
        for edge in EDGES {
            cases.push(
                Case::new([2, 6, 30, 40], 7, [3, 3])
                    .padding(pad(1, 1, 1, 1))
                    .edge(edge)
                    .bias(),
            );
        }
        cases.push(Case::new([1, 4, 20, 48], 6, [3, 3]).groups(2).dilation(2, 1));
        cases.push(Case::new([2, 5, 13, 64], 7, [2, 2]).bias());
        // Unpadded long rows, read in place segment by segment.
        cases.push(Case::new([2, 5, 2, 4700], 7, [2, 3]).bias());
        cases.push(Case::new([1, 3, 1, 4200], 5, [1, 5]).stride(1, 3));
        cases
    }

    #[test]
    fn segments_are_whole_rows_or_about_a_block_in_whole_panels() {
        let p = PANEL_BLOCK_OUTPUTS;
        assert_eq!(p, 512);
        assert_eq!(segment_width(1, 16, p), 1);
        assert_eq!(segment_width(2 * p - 1, 16, p), 2 * p - 1);
        // 1024 = 2 segments of 512; 16000 = 32 of 500, rounded up to 512.
        assert_eq!(segment_width(1024, 16, p), 512);
        assert_eq!(segment_width(16000, 16, p), 512);
        assert_eq!(segment_width(1100, 8, p), 368);
        // 16000 in blocks of 1024: 16 segments of 1000, rounded up to 1008.
        assert_eq!(segment_width(16000, 16, 1024), 1008);
        for outputs in [p, IN_PLACE_BLOCK_OUTPUTS] {
            for out_cols in [1024, 1100, 1500, 2048, 4200, 16000, 100_000] {
                for nr in [4, 8, 16] {
                    let width = segment_width(out_cols, nr, outputs);
                    if out_cols < 2 * outputs {
                        assert_eq!(width, out_cols);
                    } else {
                        assert_eq!(width % nr, 0, "{out_cols}, {nr}, {outputs}");
                        assert!(width <= outputs + nr && width < out_cols, "{out_cols}, {nr}, {outputs}");
                    }
                }
            }
        }
    }

    #[test]
    fn f32_matches_the_reference_across_panels() {
        check_kernel::<f32>("gemm, panels", panel_cases(), run);
    }

    #[test]
    fn f64_matches_the_reference_across_panels() {
        check_kernel::<f64>("gemm, panels", panel_cases(), run);
    }

    #[test]
    fn gathered_panels_hold_the_patch_matrix() {
        // The panels, read back through `panel_index`, against
        // `fill_patches`' matrix; a short last panel ends in zeros.
        let pad = Padding::Explicit {
            top: 1,
            bottom: 2,
            left: 3,
            right: 1,
        };
        let x = Array4::from_shape_fn((1, 4, 9, 14), |(_, c, h, w)| (100 * c + 10 * h + w) as f64);
        for (kernel, options) in [
            ([3, 3], ConvOptions::new().padding(pad)),
            (
                [2, 3],
                ConvOptions::new().strides(2, 3).dilations(1, 2).padding(pad).groups(2),
            ),
            ([1, 1], ConvOptions::new().strides(1, 4)),
        ] {
            let w = Array4::<f64>::ones((2, 4 / options.groups, kernel[0], kernel[1]));
            let p = problem(x.view(), w.view(), None, &options);
            let [_, _, out_rows, out_cols] = p.output_shape();
            let rows = OutputRows {
                first: 1,
                count: out_rows - 1,
                first_col: 0,
                width: out_cols,
            };
            let pixels = rows.count * rows.width;
            let depth = w.shape()[1] * kernel[0] * kernel[1];
            let shape = TileShape::of(&p, rows.count, rows.width);
            let nr = 8;
            let mut tile = vec![f64::NAN; shape.len() + phased_len(shape, p.geometry[1].stride)];
            let mut panels = vec![f64::NAN; depth * pixels.next_multiple_of(nr)];
            let mut want = Array2::from_elem((depth, pixels), f64::NAN);
            let g = options.groups - 1;
            let channels = x.slice(s![0, g * w.shape()[1]..(g + 1) * w.shape()[1], .., ..]);
            fill_patches(&p, channels, rows, &mut tile, want.view_mut());
            gather_panels(&p, [0, g], rows, &mut tile, &mut panels, nr);
            for ((k, c), &v) in want.indexed_iter() {
                assert_eq!(panels[panel_index(k, c, depth, nr)], v, "{options:?}: ({k}, {c})");
            }
            for c in pixels..pixels.next_multiple_of(nr) {
                assert!((0..depth).all(|k| panels[panel_index(k, c, depth, nr)] == 0.0));
            }
        }
    }

    #[test]
    fn pointwise_layers_keep_the_gemm_crate() {
        let x = Array4::<f32>::zeros((1, 8, 4, 4));
        let w = Array4::<f32>::zeros((4, 8, 1, 1));
        let plain = problem(x.view(), w.view(), None, &ConvOptions::new());
        assert!(microkernel(&plain).is_none() && pack_weights(&plain, None).is_none());
        let strided = problem(x.view(), w.view(), None, &ConvOptions::new().stride(2));
        assert!(microkernel(&strided).is_some() && pack_weights(&strided, None).is_some());
        let xc = Array4::<Complex<f32>>::zeros((1, 8, 4, 4));
        let wc = Array4::<Complex<f32>>::zeros((4, 8, 3, 3));
        assert!(microkernel(&problem(xc.view(), wc.view(), None, &ConvOptions::new())).is_none());
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
            first_col: 0,
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
            first_col: 0,
            width: 2,
        };
        fill_patches(&p, x.slice(s![0, .., .., ..]), second, &mut tile, patches.view_mut());
        assert_eq!(
            patches.slice(s![.., ..2]),
            Array2::from(want.map(|t| [t[2], t[3]]).to_vec())
        );
    }
}
