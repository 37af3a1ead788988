//! The vectorized direct kernel: each output row is accumulated in
//! registers, `LANES` outputs at a time, over every tap of the kernel,
//! reading the block's padded input tile.
//!
//! It does exactly the multiply-adds of the definition (no transform, no
//! copy of the input beyond the tile), so it wins for small kernels, for
//! depthwise and other grouped convolutions with few channels per group,
//! and for integer types, which it computes exactly.

use ndarray::{ArrayViewMut2, ArrayViewMut4, Axis};

use crate::conv::element::Element;
use crate::conv::exec::blocks::{block_count, for_each_block};
use crate::conv::exec::scratch::{prefix, workspace, ScratchLens, Workspace};
use crate::conv::exec::tile::{fill_tile, packed_weights, rows_per_block, unpadded_input, InputRows, TileShape};
use crate::conv::problem::Problem;

/// Outputs accumulated together in registers: 256 bytes of them, four
/// AVX-512 (or eight AVX2) registers of independent sums, so that the
/// adders never wait for the previous addition into the same register.
pub(crate) const fn widest_lanes<A>() -> usize {
    let lanes = 256 / std::mem::size_of::<A>();
    if lanes >= 64 {
        64
    } else if lanes >= 32 {
        32
    } else {
        16
    }
}

/// The register block for rows of `out_cols` outputs: the widest one, or
/// for narrow rows a narrower one rather than the scalar loop (at least 8
/// lanes); every width sums each output's taps in the same order.
pub(crate) fn lanes_for<A>(out_cols: usize) -> usize {
    widest_lanes::<A>().min(out_cols.next_power_of_two() / 2).max(8)
}

/// Output elements per block of work (a block is a whole number of rows).
const BLOCK_OUTPUTS: usize = 4096;

/// Computes `problem` into `out` with the vectorized direct kernel.
pub(crate) fn run<A: Element>(problem: &Problem<'_, A>, out: ArrayViewMut4<'_, A>) {
    let [_, _, out_rows, out_cols] = [out.shape()[0], out.shape()[1], out.shape()[2], out.shape()[3]];
    if out.is_empty() {
        return;
    }
    let rows_per_block = rows_per_block(problem, BLOCK_OUTPUTS / out_cols, out_rows, out_cols);
    let weights = packed_weights(problem);
    let [rows, cols] = problem.geometry;
    let channels_per_group = problem.weight.shape()[1];
    let outputs_per_group = problem.weight.shape()[0] / problem.groups;
    let taps = rows.kernel * cols.kernel;
    let arch = pulp::Arch::new();
    let local = Workspace::default();
    let workspace = workspace(problem, &local);

    let full = TileShape::of(problem, rows_per_block, out_cols);
    let blocks = block_count(out.shape()[0], out_rows, rows_per_block);
    workspace.prepare_buffers(
        blocks,
        ScratchLens {
            tile: channels_per_group * full.len(),
            patches: 0,
            product: out_cols,
        },
    );
    for_each_block(out, rows_per_block, |mut block| {
        let block_rows = block.out.shape()[1];
        let shape = TileShape::of(problem, block_rows, out_cols);
        workspace.with(|scratch| {
            let tiles = prefix(
                &mut scratch.tile,
                channels_per_group * shape.len(),
                channels_per_group * full.len(),
            );
            let line = prefix(&mut scratch.product, out_cols, 0);
            let image = problem.input.index_axis(Axis(0), block.n);
            for g in 0..problem.groups {
                let first_row = block.row0 * rows.stride;
                let tiles = match unpadded_input(problem, block.n, g, first_row, shape) {
                    Some(input) => input,
                    None => {
                        for (c, tile) in tiles.chunks_exact_mut(shape.len()).enumerate() {
                            let plane = image.index_axis(Axis(0), g * channels_per_group + c);
                            fill_tile(problem, plane, first_row, shape, tile);
                        }
                        InputRows {
                            data: tiles,
                            row: shape.width,
                            channel: shape.len(),
                        }
                    }
                };
                for o in g * outputs_per_group..(g + 1) * outputs_per_group {
                    let w = &weights[o * channels_per_group * taps..][..channels_per_group * taps];
                    let bias = problem.bias.as_ref().map(|b| b[o]);
                    arch.dispatch(ChannelTask {
                        out: block.out.index_axis_mut(Axis(0), o),
                        line,
                        tiles,
                        w,
                        bias,
                        problem,
                    });
                }
            }
        });
    });
}

/// The block's rows of one output channel, run by `pulp` with the best
/// instruction set the CPU has (AVX2 and FMA where present): the hot loop
/// is inlined into the dispatched function, so the compiler vectorizes it
/// for that target.
struct ChannelTask<'t, 'p, A: Element> {
    /// `[rows, Wo]`.
    out: ArrayViewMut2<'t, A>,
    line: &'t mut [A],
    tiles: InputRows<'t, A>,
    w: &'t [A],
    bias: Option<A>,
    problem: &'t Problem<'p, A>,
}

impl<A: Element> pulp::WithSimd for ChannelTask<'_, '_, A> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let ChannelTask {
            mut out,
            line,
            tiles,
            w,
            bias,
            problem,
        } = self;
        let out_cols = line.len();
        let lanes = lanes_for::<A>(out_cols);
        // Contiguous rows at unit column stride go two at a time: twice the
        // independent sums in flight, and each tap loaded once for both.
        if problem.geometry[1].stride == 1 && out_cols >= lanes {
            if let Some(all) = out.as_slice_mut() {
                for (i, rows) in all.chunks_mut(2 * out_cols).enumerate() {
                    let r = 2 * i;
                    if rows.len() == 2 * out_cols {
                        let (first, second) = rows.split_at_mut(out_cols);
                        match lanes {
                            64 => accumulate_pair::<A, 64>(first, second, tiles, w, r, problem),
                            32 => accumulate_pair::<A, 32>(first, second, tiles, w, r, problem),
                            16 => accumulate_pair::<A, 16>(first, second, tiles, w, r, problem),
                            _ => accumulate_pair::<A, 8>(first, second, tiles, w, r, problem),
                        }
                    } else {
                        accumulate_row_in(lanes, rows, tiles, w, r, problem);
                    }
                    if let Some(b) = bias {
                        rows.iter_mut().for_each(|v| *v = v.plus(b));
                    }
                }
                return;
            }
        }
        for (r, mut dst) in out.outer_iter_mut().enumerate() {
            // Contiguous output rows are written in place; others go
            // through `line`.
            let target: &mut [A] = match dst.as_slice_mut() {
                Some(row) => row,
                None => line,
            };
            accumulate_row_in(lanes, target, tiles, w, r, problem);
            if let Some(b) = bias {
                target.iter_mut().for_each(|v| *v = v.plus(b));
            }
            if !dst.is_standard_layout() {
                dst.iter_mut().zip(line.iter()).for_each(|(d, &v)| *d = v);
            }
        }
    }
}

/// [`accumulate_row`] with register blocks of `lanes` outputs.
#[inline(always)]
fn accumulate_row_in<A: Element>(
    lanes: usize,
    line: &mut [A],
    tiles: InputRows<'_, A>,
    w: &[A],
    r: usize,
    problem: &Problem<'_, A>,
) {
    match lanes {
        64 => accumulate_row::<A, 64>(line, tiles, w, r, problem),
        32 => accumulate_row::<A, 32>(line, tiles, w, r, problem),
        16 => accumulate_row::<A, 16>(line, tiles, w, r, problem),
        _ => accumulate_row::<A, 8>(line, tiles, w, r, problem),
    }
}

/// Chunk starts along a row of `out_cols ≥ LANES` outputs: every multiple
/// of `LANES`, then one last chunk flush with the end of the row,
/// overlapping the previous one, so that no output is left to a scalar
/// loop (the overlapped outputs are computed twice, identically).
#[inline(always)]
pub(crate) fn chunk_starts<const LANES: usize>(out_cols: usize) -> impl Iterator<Item = usize> + Clone {
    let last = out_cols.checked_sub(LANES);
    (0..out_cols / LANES)
        .map(|c| c * LANES)
        .chain(last.filter(|&l| l % LANES != 0))
}

/// Output rows `r` and `r + 1` of the block at unit column stride, as
/// [`accumulate_row`] computes each (the same sums in the same order), with
/// every tap applied to both rows at once.
#[inline(always)]
fn accumulate_pair<A: Element, const LANES: usize>(
    first: &mut [A],
    second: &mut [A],
    tiles: InputRows<'_, A>,
    w: &[A],
    r: usize,
    problem: &Problem<'_, A>,
) {
    let [rows, cols] = &problem.geometry;
    let (kh, kw) = (rows.kernel, cols.kernel);
    let row_offset = |a: usize| (r * rows.stride + a * rows.dilation) * tiles.row;
    let next = rows.stride * tiles.row;
    let per_channel = tiles.with_taps(w, kh * kw);
    let dw = cols.dilation;
    for j0 in chunk_starts::<LANES>(first.len()) {
        let mut acc = [[A::zero(); LANES]; 2];
        for (tile, w_c) in per_channel.clone() {
            for (a, w_a) in w_c.chunks_exact(kw).enumerate() {
                let upper = &tile[row_offset(a) + j0..];
                let lower = &tile[row_offset(a) + next + j0..];
                for (b, &tap) in w_a.iter().enumerate() {
                    let up: &[A; LANES] = upper[b * dw..][..LANES].try_into().expect("LANES elements");
                    let down: &[A; LANES] = lower[b * dw..][..LANES].try_into().expect("LANES elements");
                    for l in 0..LANES {
                        acc[0][l] = acc[0][l].plus_product(up[l], tap);
                        acc[1][l] = acc[1][l].plus_product(down[l], tap);
                    }
                }
            }
        }
        first[j0..j0 + LANES].copy_from_slice(&acc[0]);
        second[j0..j0 + LANES].copy_from_slice(&acc[1]);
    }
}

/// One output row `r` of the block: `line[j] = Σ_c Σ_a Σ_b w[c, a, b] ·
/// tile_c[r·sh + a·dh, j·sw + b·dw]`.
#[inline(always)]
fn accumulate_row<A: Element, const LANES: usize>(
    line: &mut [A],
    tiles: InputRows<'_, A>,
    w: &[A],
    r: usize,
    problem: &Problem<'_, A>,
) {
    let [rows, cols] = &problem.geometry;
    let (kh, kw) = (rows.kernel, cols.kernel);
    let row_offset = |a: usize| (r * rows.stride + a * rows.dilation) * tiles.row;
    let per_channel = tiles.with_taps(w, kh * kw);
    let (dw, sw) = (cols.dilation, cols.stride);
    let out_cols = line.len();
    let last = out_cols.checked_sub(LANES);
    let starts = chunk_starts::<LANES>(out_cols);
    // Two copies of the loop nest, so that the unit-stride one (by far the
    // most common) has constant, contiguous loads the compiler vectorizes.
    if sw == 1 {
        for j0 in starts {
            let mut acc = [A::zero(); LANES];
            for (tile, w_c) in per_channel.clone() {
                for (a, w_a) in w_c.chunks_exact(kw).enumerate() {
                    let t_row = &tile[row_offset(a) + j0..];
                    for (b, &tap) in w_a.iter().enumerate() {
                        let src: &[A; LANES] = t_row[b * dw..][..LANES].try_into().expect("LANES elements");
                        for l in 0..LANES {
                            acc[l] = acc[l].plus_product(src[l], tap);
                        }
                    }
                }
            }
            line[j0..j0 + LANES].copy_from_slice(&acc);
        }
    } else {
        for j0 in starts {
            let mut acc = [A::zero(); LANES];
            for (tile, w_c) in per_channel.clone() {
                for (a, w_a) in w_c.chunks_exact(kw).enumerate() {
                    let t_row = &tile[row_offset(a) + j0 * sw..];
                    for (b, &tap) in w_a.iter().enumerate() {
                        let src = &t_row[b * dw..][..(LANES - 1) * sw + 1];
                        for l in 0..LANES {
                            acc[l] = acc[l].plus_product(src[l * sw], tap);
                        }
                    }
                }
            }
            line[j0..j0 + LANES].copy_from_slice(&acc);
        }
    }
    // Rows narrower than one chunk.
    let scalar_from = if last.is_some() { out_cols } else { 0 };
    for (j, y) in line.iter_mut().enumerate().skip(scalar_from) {
        let mut acc = A::zero();
        for (tile, w_c) in per_channel.clone() {
            for (a, w_a) in w_c.chunks_exact(kw).enumerate() {
                let t_row = &tile[row_offset(a)..];
                for (b, &tap) in w_a.iter().enumerate() {
                    acc = acc.plus_product(t_row[j * sw + b * dw], tap);
                }
            }
        }
        *y = acc;
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array4;
    use num_complex::Complex;

    use super::*;
    use crate::conv::kernels::check::{check_kernel, problem, sweep};
    use crate::options::{ConvOptions, Padding};

    /// Floating point to rounding, integers exactly (their arithmetic
    /// wraps), complex numbers with conjugated taps.
    #[test]
    fn every_element_type_matches_the_reference() {
        check_kernel::<f32>("vectorized", sweep(), run);
        check_kernel::<f64>("vectorized", sweep(), run);
        check_kernel::<i32>("vectorized", sweep(), run);
        check_kernel::<i64>("vectorized", sweep(), run);
        check_kernel::<Complex<f64>>("vectorized", sweep(), run);
    }

    #[test]
    fn register_blocks_are_256_bytes_of_at_least_16_lanes() {
        // 256 / 4 = 64 and 256 / 8 = 32 lanes; a 16-byte complex number
        // would give 16.
        assert_eq!(widest_lanes::<f32>(), 64);
        assert_eq!(widest_lanes::<i32>(), 64);
        assert_eq!(widest_lanes::<f64>(), 32);
        assert_eq!(widest_lanes::<i64>(), 32);
        assert_eq!(widest_lanes::<Complex<f32>>(), 32);
        assert_eq!(widest_lanes::<Complex<f64>>(), 16);
    }

    #[test]
    fn chunks_are_lane_multiples_then_one_flush_with_the_end() {
        let starts = |cols| chunk_starts::<8>(cols).collect::<Vec<_>>();
        // Narrower than one chunk: none (the scalar loop takes the row).
        assert_eq!(starts(0), []);
        assert_eq!(starts(7), []);
        // A whole number of chunks: no extra one.
        assert_eq!(starts(8), [0]);
        assert_eq!(starts(24), [0, 8, 16]);
        // 17 = 2·8 + 1: the last output needs a chunk ending at 17, from 9.
        assert_eq!(starts(17), [0, 8, 9]);
        // 23 = 2·8 + 7: from 15, overlapping 15 of the previous chunk.
        assert_eq!(starts(23), [0, 8, 15]);
        assert_eq!(chunk_starts::<64>(138).collect::<Vec<_>>(), [0, 64, 74]);
    }

    #[test]
    fn chunks_cover_every_output_once_or_twice_and_stay_in_the_row() {
        for cols in 16..300 {
            let mut covered = vec![0; cols];
            let starts: Vec<usize> = chunk_starts::<16>(cols).collect();
            assert!(starts.windows(2).all(|w| w[0] < w[1]), "{cols}: {starts:?}");
            for &s in &starts {
                assert!(s + 16 <= cols, "{cols}: {starts:?}");
                covered[s..s + 16].iter_mut().for_each(|c| *c += 1);
            }
            assert!(covered.iter().all(|&c| c == 1 || c == 2), "{cols}: {covered:?}");
        }
    }

    #[test]
    fn the_input_is_read_in_place_only_where_a_block_reads_no_padding() {
        // 6 rows of 5 with one padding row above and below, none at the
        // sides: a block of 2 output rows reads (2 - 1) + 3 = 4 padded
        // rows, padded row p being input row p - 1.
        let x = Array4::from_shape_fn((1, 1, 6, 5), |(_, _, h, w)| (10 * h + w) as f64);
        let k = Array4::<f64>::ones((1, 1, 3, 3));
        let rows_only = ConvOptions::new().padding(Padding::Explicit {
            top: 1,
            bottom: 1,
            left: 0,
            right: 0,
        });
        let p = problem(x.view(), k.view(), None, &rows_only);
        let shape = TileShape::of(&p, 2, 3);
        assert_eq!((shape.rows, shape.width), (4, 5));
        let first_value = |first_row| unpadded_input(&p, 0, 0, first_row, shape).map(|rows| rows.data[0]);
        // Padded rows 0..4 include the padding row above.
        assert_eq!(first_value(0), None);
        // Padded rows 1..5 are input rows 0..4; 3..7, input rows 2..6.
        assert_eq!(first_value(1), Some(0.0));
        assert_eq!(first_value(3), Some(20.0));
        // Padded rows 4..8 include the padding row below.
        assert_eq!(first_value(4), None);
        // Padding at the sides is never read in place.
        let sides = ConvOptions::new().padding(Padding::uniform(1));
        let p = problem(x.view(), k.view(), None, &sides);
        assert!(unpadded_input(&p, 0, 0, 1, TileShape::of(&p, 2, 5)).is_none());
    }
}
