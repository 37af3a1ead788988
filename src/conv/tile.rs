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

use std::sync::{Mutex, PoisonError};

use ndarray::{ArrayView2, ArrayViewMut3, ArrayViewMut4, Axis};

use super::element::private::Sealed;
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

/// Runs `work` on every block of `rows_per_block` output rows of `out`
/// (`[N, O, Ho, Wo]`), in parallel when the `rayon` feature is on.
///
/// The blocks are found by halving the batch, then each image's rows, so
/// nothing is allocated; block `i` of an image always starts at row
/// `i · rows_per_block`, whatever the thread count.
pub(crate) fn for_each_block<A: Element>(
    out: ArrayViewMut4<'_, A>,
    rows_per_block: usize,
    work: impl Fn(Block<'_, A>) + Sync + Send,
) {
    fn images<A: Element>(
        out: ArrayViewMut4<'_, A>,
        n0: usize,
        rows_per_block: usize,
        work: &(impl Fn(Block<'_, A>) + Sync + Send),
    ) {
        match out.len_of(Axis(0)) {
            0 => {}
            1 => rows(out.index_axis_move(Axis(0), 0), n0, 0, rows_per_block, work),
            len => {
                let (first, second) = out.split_at(Axis(0), len / 2);
                join(
                    || images(first, n0, rows_per_block, work),
                    || images(second, n0 + len / 2, rows_per_block, work),
                );
            }
        }
    }
    fn rows<A: Element>(
        out: ArrayViewMut3<'_, A>,
        n: usize,
        row0: usize,
        rows_per_block: usize,
        work: &(impl Fn(Block<'_, A>) + Sync + Send),
    ) {
        let blocks = out.len_of(Axis(1)).div_ceil(rows_per_block);
        if blocks <= 1 {
            if !out.is_empty() {
                work(Block { n, row0, out });
            }
            return;
        }
        let mid = blocks / 2 * rows_per_block;
        let (first, second) = out.split_at(Axis(1), mid);
        join(
            || rows(first, n, row0, rows_per_block, work),
            || rows(second, n, row0 + mid, rows_per_block, work),
        );
    }
    images(out, 0, rows_per_block.max(1), &work);
}

/// `rayon::join` when the `rayon` feature is on, else one call after the
/// other.
fn join(first: impl FnOnce() + Send, second: impl FnOnce() + Send) {
    #[cfg(feature = "rayon")]
    rayon::join(first, second);
    #[cfg(not(feature = "rayon"))]
    {
        first();
        second();
    }
}

/// Buffers kept for reuse: each block takes a set, works in it and gives
/// it back, so a call allocates at most one set per thread, and a
/// [`Conv2dPlan`](crate::Conv2dPlan), which keeps its pool, none after its
/// first call (see [`Pool::prepare`]).
pub(crate) struct Pool<S> {
    free: Mutex<Vec<S>>,
}

impl<S> Default for Pool<S> {
    fn default() -> Self {
        Pool {
            free: Mutex::new(Vec::new()),
        }
    }
}

impl<S: Default> Pool<S> {
    /// Makes sure the pool holds a set for every thread that can run one of
    /// `blocks` blocks at once, each set passed to `size` first, so that
    /// the blocks themselves allocate nothing.
    pub(crate) fn prepare(&self, blocks: usize, size: impl Fn(&mut S)) {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        let wanted = blocks.min(threads());
        if free.len() < wanted {
            free.resize_with(wanted, S::default);
        }
        free.iter_mut().for_each(size);
    }

    /// Runs `work` with a set of buffers from the pool (a new, empty set
    /// when none is free), then returns the set.
    pub(crate) fn with<R>(&self, work: impl FnOnce(&mut S) -> R) -> R {
        let taken = self.free.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut set = taken.unwrap_or_default();
        let result = work(&mut set);
        self.free.lock().unwrap_or_else(PoisonError::into_inner).push(set);
        result
    }
}

/// The scratch buffers of the direct and GEMM kernels.
pub(crate) type Workspace<A> = Pool<[Vec<A>; 3]>;

impl<A: Clone + num_traits::Zero> Workspace<A> {
    /// [`Pool::prepare`] with sets of three buffers of `lens` elements.
    pub(crate) fn prepare_buffers(&self, blocks: usize, lens: [usize; 3]) {
        self.prepare(blocks, |set| {
            for (buffer, len) in set.iter_mut().zip(lens) {
                prefix(buffer, len, len);
            }
        });
    }
}

/// The threads that may run blocks at once.
fn threads() -> usize {
    #[cfg(feature = "rayon")]
    return rayon::current_num_threads();
    #[cfg(not(feature = "rayon"))]
    1
}

/// The number of blocks [`for_each_block`] makes of `images` images of
/// `rows` output rows.
pub(crate) fn block_count(images: usize, rows: usize, rows_per_block: usize) -> usize {
    images.saturating_mul(rows.div_ceil(rows_per_block.max(1)))
}

/// The problem's workspace, or `local` (a new one) when it has none.
pub(crate) fn workspace<'w, A>(problem: &'w Problem<'_, A>, local: &'w Workspace<A>) -> &'w Workspace<A> {
    problem.workspace.unwrap_or(local)
}

/// The first `len` elements of `buffer`, which is grown with zeros to
/// `full` elements (the size of the largest block, so that a buffer grows
/// only the first time it is used) if it is shorter. Elements left from
/// earlier use are not cleared: callers overwrite every element they read.
pub(crate) fn prefix<T: Clone + num_traits::Zero>(buffer: &mut Vec<T>, len: usize, full: usize) -> &mut [T] {
    let full = full.max(len);
    if buffer.len() < full {
        buffer.resize(full, T::zero());
    }
    &mut buffer[..len]
}

/// The input of group `g` of image `n` from input row `row` on, where it
/// lies: `[C/G, rows, W]` with channels `H · W` and rows `W` apart, for a
/// standard-layout input (`None` for any other layout, which must be
/// copied).
pub(crate) fn input_in_place<'a, A>(
    problem: &Problem<'a, A>,
    n: usize,
    g: usize,
    row: usize,
) -> Option<InputRows<'a, A>> {
    let data = problem.input.to_slice()?;
    let [_, channels, height, width] = super::dims4(problem.input.shape());
    let first_channel = g * problem.weight.shape()[1];
    let start = ((n * channels + first_channel) * height + row) * width;
    Some(InputRows {
        data: &data[start..],
        row: width,
        channel: height * width,
    })
}

/// A run of a standard-layout input (see [`input_in_place`]): element `q`
/// of row `t` of channel `c` is `data[c · channel + t · row + q]`.
#[derive(Clone, Copy)]
pub(crate) struct InputRows<'a, A> {
    pub(crate) data: &'a [A],
    pub(crate) row: usize,
    pub(crate) channel: usize,
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
        TileShape {
            rows: (block_rows - 1) * rows.stride + rows.extent(),
            width: (out_cols - 1) * cols.stride + cols.extent(),
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
/// weights themselves when they are already laid out so, else a copy.
pub(crate) fn packed_weights<'p, A: Element>(problem: &'p Problem<'_, A>) -> std::borrow::Cow<'p, [A]> {
    match problem.weight.as_slice() {
        Some(taps) if !problem.conjugate_kernel || !<A as Sealed>::COMPLEX => std::borrow::Cow::Borrowed(taps),
        _ => std::borrow::Cow::Owned(
            problem
                .weight
                .iter()
                .map(|&w| if problem.conjugate_kernel { w.conj() } else { w })
                .collect(),
        ),
    }
}
