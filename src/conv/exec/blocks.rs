//! Parallel work: every use of rayon in the crate is here.
//!
//! The output is cut into blocks of rows ([`for_each_block`]), and long rows
//! into segments of columns ([`for_each_segment`]), by halving, so that
//! nothing is allocated and block `i` of an image always starts at row
//! `i · rows_per_block` (and segment `j` of a row at column
//! `j · cols_per_block`). The block size depends only on the problem's
//! shape, never on the number of threads, so every thread count gives
//! bitwise the same result.

use ndarray::{ArrayViewMut3, ArrayViewMut4, Axis};

use crate::conv::element::Element;

/// Output rows `row0 .. row0 + rows` of image `n`, columns
/// `col0 .. col0 + cols`, all output channels: the unit of parallel work.
pub(crate) struct Block<'a, A> {
    pub(crate) n: usize,
    pub(crate) row0: usize,
    /// The block's first column: 0 but in [`for_each_segment`].
    pub(crate) col0: usize,
    /// `[O, rows, cols]`: whole rows (`cols = Wo`) but in
    /// [`for_each_segment`].
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
    for_each_segment(out, rows_per_block, usize::MAX, work);
}

/// [`for_each_block`], with each block's rows further cut into segments of
/// `cols_per_block` columns (the last of a row may be shorter): segment `j`
/// of a block starts at column `j · cols_per_block`, whatever the thread
/// count.
pub(crate) fn for_each_segment<A: Element>(
    out: ArrayViewMut4<'_, A>,
    rows_per_block: usize,
    cols_per_block: usize,
    work: impl Fn(Block<'_, A>) + Sync + Send,
) {
    /// The block size, rows by columns.
    #[derive(Clone, Copy)]
    struct Size {
        rows: usize,
        cols: usize,
    }
    fn images<A: Element>(
        out: ArrayViewMut4<'_, A>,
        n0: usize,
        size: Size,
        work: &(impl Fn(Block<'_, A>) + Sync + Send),
    ) {
        match out.len_of(Axis(0)) {
            0 => {}
            1 => rows(out.index_axis_move(Axis(0), 0), n0, 0, size, work),
            len => {
                let (first, second) = out.split_at(Axis(0), len / 2);
                join(
                    || images(first, n0, size, work),
                    || images(second, n0 + len / 2, size, work),
                );
            }
        }
    }
    fn rows<A: Element>(
        out: ArrayViewMut3<'_, A>,
        n: usize,
        row0: usize,
        size: Size,
        work: &(impl Fn(Block<'_, A>) + Sync + Send),
    ) {
        let blocks = out.len_of(Axis(1)).div_ceil(size.rows);
        if blocks <= 1 {
            columns(out, [n, row0, 0], size, work);
            return;
        }
        let mid = blocks / 2 * size.rows;
        let (first, second) = out.split_at(Axis(1), mid);
        join(
            || rows(first, n, row0, size, work),
            || rows(second, n, row0 + mid, size, work),
        );
    }
    fn columns<A: Element>(
        out: ArrayViewMut3<'_, A>,
        [n, row0, col0]: [usize; 3],
        size: Size,
        work: &(impl Fn(Block<'_, A>) + Sync + Send),
    ) {
        let segments = out.len_of(Axis(2)).div_ceil(size.cols);
        if segments <= 1 {
            if !out.is_empty() {
                work(Block { n, row0, col0, out });
            }
            return;
        }
        let mid = segments / 2 * size.cols;
        let (first, second) = out.split_at(Axis(2), mid);
        join(
            || columns(first, [n, row0, col0], size, work),
            || columns(second, [n, row0, col0 + mid], size, work),
        );
    }
    let size = Size {
        rows: rows_per_block.max(1),
        cols: cols_per_block.max(1),
    };
    images(out, 0, size, &work);
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

/// The threads that may run blocks at once.
pub(crate) fn threads() -> usize {
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

/// The number of blocks [`for_each_segment`] makes of `images` images of
/// `rows` output rows of `cols` columns.
pub(crate) fn segment_count(
    images: usize,
    [rows, cols]: [usize; 2],
    [rows_per_block, cols_per_block]: [usize; 2],
) -> usize {
    block_count(images, rows, rows_per_block).saturating_mul(cols.div_ceil(cols_per_block.max(1)))
}

/// Runs `work` on every chunk of `len` elements of `buffer` (the last may
/// be shorter) with the chunk's index, in parallel with the `rayon`
/// feature. Nothing is allocated.
pub(crate) fn for_each_chunk<T: Send>(buffer: &mut [T], len: usize, work: impl Fn(usize, &mut [T]) + Sync + Send) {
    if len == 0 {
        return;
    }
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        buffer
            .par_chunks_mut(len)
            .enumerate()
            .for_each(|(index, chunk)| work(index, chunk));
    }
    #[cfg(not(feature = "rayon"))]
    buffer
        .chunks_mut(len)
        .enumerate()
        .for_each(|(index, chunk)| work(index, chunk));
}

/// The largest of `measure` over the chunks of `len` elements of `values`
/// (0 for none), measured in parallel with the `rayon` feature; the
/// maximum does not depend on the order, so neither does the answer.
pub(crate) fn max_over_chunks<T: Sync>(values: &[T], len: usize, measure: impl Fn(&[T]) -> f64 + Sync + Send) -> f64 {
    let len = len.max(1);
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        values.par_chunks(len).map(measure).reduce(|| 0.0, f64::max)
    }
    #[cfg(not(feature = "rayon"))]
    values.chunks(len).map(measure).fold(0.0, f64::max)
}

/// Runs `work` on each of `items`, in parallel with the `rayon` feature.
pub(crate) fn for_each_item<T: Send>(items: Vec<T>, work: impl Fn(T) + Sync + Send) {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        items.into_par_iter().for_each(work);
    }
    #[cfg(not(feature = "rayon"))]
    items.into_iter().for_each(work);
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// The (image, first row, rows) of every block `for_each_block` makes.
    fn blocks_of(shape: [usize; 4], rows_per_block: usize) -> Vec<(usize, usize, usize)> {
        let mut out = ndarray::Array4::<f32>::zeros(shape);
        let seen = Mutex::new(Vec::new());
        for_each_block(out.view_mut(), rows_per_block, |block| {
            assert_eq!(block.out.shape()[0], shape[1]);
            seen.lock().unwrap().push((block.n, block.row0, block.out.shape()[1]));
        });
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        seen
    }

    #[test]
    fn blocks_start_at_multiples_of_the_block_size() {
        assert_eq!(
            blocks_of([2, 3, 7, 5], 3),
            [(0, 0, 3), (0, 3, 3), (0, 6, 1), (1, 0, 3), (1, 3, 3), (1, 6, 1)]
        );
        assert_eq!(blocks_of([1, 1, 4, 2], 8), [(0, 0, 4)]);
        // A block size of 0 is taken as 1.
        assert_eq!(blocks_of([1, 1, 2, 2], 0), [(0, 0, 1), (0, 1, 1)]);
    }

    /// The (image, first row, first column, rows, columns) of every block
    /// `for_each_segment` makes.
    fn segments_of(shape: [usize; 4], rows_per_block: usize, cols_per_block: usize) -> Vec<[usize; 5]> {
        let mut out = ndarray::Array4::<f32>::zeros(shape);
        let seen = Mutex::new(Vec::new());
        for_each_segment(out.view_mut(), rows_per_block, cols_per_block, |block| {
            assert_eq!(block.out.shape()[0], shape[1]);
            let [_, rows, cols] = [block.out.shape()[0], block.out.shape()[1], block.out.shape()[2]];
            seen.lock().unwrap().push([block.n, block.row0, block.col0, rows, cols]);
        });
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        seen
    }

    #[test]
    fn segments_start_at_multiples_of_the_segment_width() {
        assert_eq!(
            segments_of([2, 3, 1, 7], 4, 3),
            [
                [0, 0, 0, 1, 3],
                [0, 0, 3, 1, 3],
                [0, 0, 6, 1, 1],
                [1, 0, 0, 1, 3],
                [1, 0, 3, 1, 3],
                [1, 0, 6, 1, 1]
            ]
        );
        assert_eq!(
            segments_of([1, 2, 3, 4], 2, 2),
            [[0, 0, 0, 2, 2], [0, 0, 2, 2, 2], [0, 2, 0, 1, 2], [0, 2, 2, 1, 2]]
        );
        // Whole rows when a segment is at least as wide as a row.
        assert_eq!(segments_of([1, 1, 2, 5], 1, 5), [[0, 0, 0, 1, 5], [0, 1, 0, 1, 5]]);
        assert_eq!(segments_of([1, 1, 1, 5], 1, 0).len(), 5);
        for (shape, per) in [([2, 3, 1, 7], [4, 3]), ([1, 2, 3, 4], [2, 2]), ([3, 1, 5, 9], [2, 4])] {
            assert_eq!(
                segment_count(shape[0], [shape[2], shape[3]], per),
                segments_of(shape, per[0], per[1]).len()
            );
        }
    }

    #[test]
    fn empty_outputs_make_no_block() {
        assert!(blocks_of([0, 3, 7, 5], 2).is_empty());
        assert!(blocks_of([2, 0, 7, 5], 2).is_empty());
        assert!(blocks_of([2, 3, 0, 5], 2).is_empty());
    }

    #[test]
    fn block_count_matches_the_blocks_made() {
        for (shape, per) in [
            ([2, 3, 7, 5], 3),
            ([1, 1, 4, 2], 8),
            ([3, 2, 9, 1], 2),
            ([0, 1, 5, 5], 2),
        ] {
            assert_eq!(block_count(shape[0], shape[2], per), blocks_of(shape, per).len());
        }
        assert_eq!(block_count(usize::MAX, 4, 1), usize::MAX);
    }

    #[test]
    fn for_each_chunk_visits_every_chunk_once_with_its_index() {
        let mut buffer = vec![0usize; 7];
        for_each_chunk(&mut buffer, 3, |index, chunk| {
            for (k, v) in chunk.iter_mut().enumerate() {
                *v += 10 * index + k;
            }
        });
        assert_eq!(buffer, [0, 1, 2, 10, 11, 12, 20]);
        // A chunk length of 0 visits nothing, and an empty buffer no chunk.
        for_each_chunk(&mut buffer, 0, |_, _| panic!("no chunk of length 0"));
        for_each_chunk(&mut [0u8; 0], 4, |_, _| panic!("no chunk in an empty buffer"));
        assert!(threads() >= 1);
    }

    #[test]
    fn for_each_item_visits_every_item_once() {
        let seen = Mutex::new(Vec::new());
        for_each_item(vec![3, 1, 2], |item| seen.lock().unwrap().push(item));
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, [1, 2, 3]);
    }
}
