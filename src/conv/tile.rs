//! What the fast kernels share: cutting the output into blocks of rows that
//! run in parallel, and copying the padded input rows a block reads into a
//! small contiguous tile, with the boundary rule applied once.
//!
//! ```text
//!   output image n                 padded input plane of channel c
//!   +---------------+              +-----------------------+
//!   | block 0       |  reads rows  |                       |
//!   |---------------| -----------> |  tile: (rows-1)·sh +  |
//!   | block 1       |              |  dh·(kh-1) + 1 rows,  |
//!   |---------------|              |  (Wo-1)·sw +          |
//!   | ...           |              |  dw·(kw-1) + 1 columns|
//!   +---------------+              +-----------------------+
//! ```
//!
//! The block size depends only on the problem's shape, never on the number
//! of threads, so every thread count gives bitwise the same result.

use ndarray::{ArrayView2, ArrayViewMut3, ArrayViewMut4, Axis};

use super::reference::source_index;
use super::{Boundary, Element, Problem};

/// Output rows `row0 .. row0 + rows` of image `n`, all output channels:
/// the unit of parallel work.
pub(crate) struct Block<'a, A> {
    pub(crate) n: usize,
    pub(crate) row0: usize,
    /// `[O, rows, Wo]`.
    pub(crate) out: ArrayViewMut3<'a, A>,
}

/// Splits `out` (`[N, O, Ho, Wo]`) into blocks of `rows_per_block` output
/// rows.
pub(crate) fn blocks<A>(out: ArrayViewMut4<'_, A>, rows_per_block: usize) -> Vec<Block<'_, A>> {
    let rows_per_block = rows_per_block.max(1);
    let mut blocks = Vec::new();
    let mut images = out;
    for n in 0..images.len_of(Axis(0)) {
        let (image, rest) = images.split_at(Axis(0), 1);
        images = rest;
        let mut remaining = image.index_axis_move(Axis(0), 0);
        let mut row0 = 0;
        while remaining.len_of(Axis(1)) > 0 {
            let rows = rows_per_block.min(remaining.len_of(Axis(1)));
            let (chunk, rest) = remaining.split_at(Axis(1), rows);
            remaining = rest;
            blocks.push(Block { n, row0, out: chunk });
            row0 += rows;
        }
    }
    blocks
}

/// Runs `work` on every block, in parallel when the `rayon` feature is on.
pub(crate) fn for_each_block<'a, A: Element>(blocks: Vec<Block<'a, A>>, work: impl Fn(Block<'a, A>) + Sync + Send) {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        blocks.into_par_iter().for_each(work);
    }
    #[cfg(not(feature = "rayon"))]
    blocks.into_iter().for_each(work);
}

/// The shape of the padded input a block of output rows reads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TileShape {
    /// Padded input rows per tile.
    pub(crate) rows: usize,
    /// Padded input columns per tile row.
    pub(crate) width: usize,
}

impl TileShape {
    /// The tile of a block of `block_rows` output rows.
    pub(crate) fn of<A>(problem: &Problem<'_, A>, block_rows: usize, out_cols: usize) -> TileShape {
        let [rows, cols] = &problem.geometry;
        let extent = |g: &crate::shape::AxisGeometry| g.dilation * (g.kernel - 1) + 1;
        TileShape {
            rows: (block_rows - 1) * rows.stride + extent(rows),
            width: (out_cols - 1) * cols.stride + extent(cols),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.rows * self.width
    }
}

/// `wanted` output rows per block, fewer if a block's tile (of every input
/// channel of a group) would exceed the planner's tile limit; never less
/// than one row, whose tile the planner has bounded.
pub(crate) fn rows_per_block<A>(problem: &Problem<'_, A>, wanted: usize, out_rows: usize, out_cols: usize) -> usize {
    let one_row = TileShape::of(problem, 1, out_cols);
    let [rows, _] = &problem.geometry;
    let channels = problem.weight.shape()[1].max(1);
    let row_elements = one_row.width.saturating_mul(channels).max(1);
    let max_tile_rows = super::planner::TILE_LIMIT / row_elements;
    let fitting = max_tile_rows.saturating_sub(one_row.rows) / rows.stride + 1;
    wanted.min(fitting).clamp(1, out_rows.max(1))
}

/// The fill value of the boundary rule (unused by the other rules).
pub(crate) fn fill_value<A: Element>(boundary: &Boundary<A>) -> A {
    match boundary {
        Boundary::Fill(v) => *v,
        _ => A::zero(),
    }
}

/// Copies the padded rows `first_row ..` of `plane`, columns
/// `0 .. shape.width` of the padded plane, into `tile` (row-major).
pub(crate) fn fill_tile<A: Element>(
    problem: &Problem<'_, A>,
    plane: ArrayView2<'_, A>,
    first_row: usize,
    shape: TileShape,
    tile: &mut [A],
) {
    let [rows, cols] = &problem.geometry;
    let boundary = &problem.boundary;
    let fill = fill_value(boundary);
    let left = cols.pad_lo;
    let interior_start = left.min(shape.width);
    let interior_end = left.saturating_add(cols.input).min(shape.width);
    for (t, dst) in tile.chunks_exact_mut(shape.width).take(shape.rows).enumerate() {
        let Some(r) = source_index(first_row + t, rows, boundary) else {
            dst.fill(fill);
            continue;
        };
        let src = plane.row(r);
        let outside = |q: usize| match source_index(q, cols, boundary) {
            Some(c) => src[c],
            None => fill,
        };
        for (q, d) in dst.iter_mut().enumerate().take(interior_start) {
            *d = outside(q);
        }
        let interior = &mut dst[interior_start..interior_end];
        // Padded column `left` is input column 0.
        match src.as_slice() {
            Some(s) => interior.copy_from_slice(&s[..interior.len()]),
            None => interior.iter_mut().zip(src.iter()).for_each(|(d, &s)| *d = s),
        }
        for (q, d) in dst.iter_mut().enumerate().skip(interior_end) {
            *d = outside(q);
        }
    }
}

/// The taps of each output channel as one contiguous run of
/// `C/groups · kh · kw`, conjugated where the problem asks for it: the
/// plan's copy when there is one, else a new one.
pub(crate) fn packed_weights<'p, A: Element>(problem: &'p Problem<'_, A>) -> std::borrow::Cow<'p, [A]> {
    match problem.prepared {
        Some(prepared) => std::borrow::Cow::Borrowed(&prepared.taps),
        None => std::borrow::Cow::Owned(pack_weights(problem)),
    }
}

/// The taps of each output channel, packed anew (see [`packed_weights`]).
pub(crate) fn pack_weights<A: Element>(problem: &Problem<'_, A>) -> Vec<A> {
    let conj = problem.conjugate_kernel;
    problem
        .weight
        .iter()
        .map(|&w| if conj { w.conj() } else { w })
        .collect()
}
