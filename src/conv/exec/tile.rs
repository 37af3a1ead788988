//! Input tiles: the padded input rows a block of output rows reads, copied
//! into a small contiguous buffer with the boundary rule applied once, or
//! read in place where no padding is involved.
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

use std::borrow::Cow;

use ndarray::ArrayView2;

use crate::conv::boundary::source_index;
use crate::conv::element::Element;
use crate::conv::planner::TILE_LIMIT;
use crate::conv::problem::{dims4, Problem};

/// The input of group `g` of image `n` from input row `row` on, where it
/// lies: `[C/G, rows, W]` with channels `H · W` and rows `W` apart, for a
/// standard-layout input (`None` for any other layout, which must be
/// copied).
pub(crate) fn input_in_place<'a, A: Element>(
    problem: &Problem<'a, A>,
    n: usize,
    g: usize,
    row: usize,
) -> Option<InputRows<'a, A>> {
    let data = problem.input.to_slice()?;
    let [_, channels, height, width] = dims4(problem.input.shape());
    let first_channel = g * problem.weight.shape()[1];
    let start = ((n * channels + first_channel) * height + row) * width;
    // Past the end only where the group has no channels to read.
    Some(InputRows {
        data: data.get(start..)?,
        row: width,
        channel: height * width,
    })
}

/// The input itself, when the block of image `n` whose tiles start at
/// padded row `first_row` reads no padding and the input is in standard
/// layout: then nothing needs copying.
pub(crate) fn unpadded_input<'t, A: Element>(
    problem: &Problem<'t, A>,
    n: usize,
    g: usize,
    first_row: usize,
    shape: TileShape,
) -> Option<InputRows<'t, A>> {
    unpadded_segment(problem, n, g, [first_row, 0], shape)
}

/// [`unpadded_input`] for a tile whose rows start at padded column
/// `first_col`: the input from that column on, when the tile reads no
/// padding.
pub(crate) fn unpadded_segment<'t, A: Element>(
    problem: &Problem<'t, A>,
    n: usize,
    g: usize,
    [first_row, first_col]: [usize; 2],
    shape: TileShape,
) -> Option<InputRows<'t, A>> {
    let [rows, cols] = &problem.geometry;
    let [_, _, height, width] = dims4(problem.input.shape());
    let first = first_row.checked_sub(rows.pad_lo)?;
    let column = first_col.checked_sub(cols.pad_lo)?;
    if column.saturating_add(shape.width) > width || first.saturating_add(shape.rows) > height {
        return None;
    }
    let rows = input_in_place(problem, n, g, first)?;
    Some(InputRows {
        data: rows.data.get(column..)?,
        ..rows
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

impl<'a, A> InputRows<'a, A> {
    /// Each input channel's rows, paired with its `taps` weights from `w`
    /// (`C/G · taps` of them).
    #[inline(always)]
    pub(crate) fn with_taps<'w>(self, w: &'w [A], taps: usize) -> impl Iterator<Item = (&'a [A], &'w [A])> + Clone {
        let data = self.data;
        let channel = self.channel;
        (0..w.len() / taps)
            .map(move |c| &data[c * channel..])
            .zip(w.chunks_exact(taps))
    }
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
    pub(crate) fn of<A: Element>(problem: &Problem<'_, A>, block_rows: usize, out_cols: usize) -> TileShape {
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
pub(crate) fn rows_per_block<A: Element>(
    problem: &Problem<'_, A>,
    wanted: usize,
    out_rows: usize,
    out_cols: usize,
) -> usize {
    let one_row = TileShape::of(problem, 1, out_cols);
    let [rows, _] = &problem.geometry;
    let channels = problem.weight.shape()[1].max(1);
    let row_elements = one_row.width.saturating_mul(channels).max(1);
    let max_tile_rows = TILE_LIMIT / row_elements;
    let fitting = max_tile_rows.saturating_sub(one_row.rows) / rows.stride + 1;
    wanted.min(fitting).clamp(1, out_rows.max(1))
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
    fill_segment(problem, plane, [first_row, 0], shape, tile);
}

/// Copies the padded rows `first_row ..` of `plane`, columns
/// `first_col .. first_col + shape.width` of the padded plane, into `tile`
/// (row-major).
pub(crate) fn fill_segment<A: Element>(
    problem: &Problem<'_, A>,
    plane: ArrayView2<'_, A>,
    [first_row, first_col]: [usize; 2],
    shape: TileShape,
    tile: &mut [A],
) {
    let [rows, cols] = &problem.geometry;
    let boundary = &problem.boundary;
    let fill = problem.fill;
    // Tile column `q` is padded column `first_col + q`; padded column
    // `pad_lo` is input column 0.
    let left = cols.pad_lo;
    let interior_start = left.saturating_sub(first_col).min(shape.width);
    let interior_end = left
        .saturating_add(cols.input)
        .saturating_sub(first_col)
        .clamp(interior_start, shape.width);
    // The interior's first input column (past the input when the tile lies
    // wholly in the right padding, where the interior is empty).
    let source_start = first_col.saturating_sub(left).min(cols.input);
    for (t, dst) in tile.chunks_exact_mut(shape.width).take(shape.rows).enumerate() {
        let Some(r) = source_index(first_row + t, rows, boundary) else {
            dst.fill(fill);
            continue;
        };
        let src = plane.row(r);
        let outside = |q: usize| match source_index(first_col + q, cols, boundary) {
            Some(c) => src[c],
            None => fill,
        };
        for (q, d) in dst.iter_mut().enumerate().take(interior_start) {
            *d = outside(q);
        }
        let interior = &mut dst[interior_start..interior_end];
        match src.as_slice() {
            Some(s) => interior.copy_from_slice(&s[source_start..][..interior.len()]),
            None => interior
                .iter_mut()
                .zip(src.iter().skip(source_start))
                .for_each(|(d, &s)| *d = s),
        }
        for (q, d) in dst.iter_mut().enumerate().skip(interior_end) {
            *d = outside(q);
        }
    }
}

/// The taps of each output channel as one contiguous run of
/// `C/groups · kh · kw`, conjugated where the problem asks for it: the
/// weights themselves when they are already laid out so, else a copy.
pub(crate) fn packed_weights<'p, A: Element>(problem: &'p Problem<'_, A>) -> Cow<'p, [A]> {
    match problem.weight.as_slice() {
        Some(taps) if !problem.conjugate_kernel || !A::COMPLEX => Cow::Borrowed(taps),
        _ => Cow::Owned(
            problem
                .weight
                .iter()
                .map(|&w| if problem.conjugate_kernel { w.conj() } else { w })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{array, s, Array2, Array4};
    use num_complex::Complex;

    use super::*;
    use crate::conv::kernels::check::problem;
    use crate::options::{Boundary, ConvOptions, Padding};
    use crate::shape::AxisGeometry;

    /// A problem of `geometry` and `weight` (whose shape gives the channels
    /// per group), for the functions that read nothing else; `input` need
    /// not match.
    fn shaped<'a>(geometry: [AxisGeometry; 2], input: &'a Array4<f32>, weight: &'a Array4<f32>) -> Problem<'a, f32> {
        Problem {
            input: input.view(),
            weight: weight.view(),
            bias: None,
            conjugate_kernel: false,
            geometry,
            groups: 1,
            boundary: Boundary::default(),
            fill: 0.0,
            prepared: None,
            workspace: None,
        }
    }

    #[test]
    fn tile_shape_by_hand() {
        // Rows: 3 taps dilated by 2 span 5, at stride 2: 4 output rows read
        // 3·2 + 5 = 11 padded rows. Columns: 2 taps span 2, at stride 3:
        // 5 outputs read 4·3 + 2 = 14 padded columns.
        let rows = AxisGeometry::new(20, 3).stride(2).dilation(2);
        let cols = AxisGeometry::new(20, 2).stride(3);
        let (x, w) = (Array4::zeros((1, 1, 1, 1)), Array4::zeros((1, 1, 3, 2)));
        let shape = TileShape::of(&shaped([rows, cols], &x, &w), 4, 5);
        assert_eq!((shape.rows, shape.width, shape.len()), (11, 14, 154));
        // One output reads exactly the kernel's span.
        let one = TileShape::of(&shaped([rows, cols], &x, &w), 1, 1);
        assert_eq!((one.rows, one.width), (5, 2));
    }

    #[test]
    fn rows_per_block_is_what_is_wanted_within_the_output() {
        let axis = AxisGeometry::new(30, 3).padding(1, 1);
        let (x, w) = (Array4::zeros((1, 1, 1, 1)), Array4::zeros((1, 4, 3, 3)));
        let p = shaped([axis, axis], &x, &w);
        assert_eq!(rows_per_block(&p, 7, 30, 30), 7);
        assert_eq!(rows_per_block(&p, 50, 30, 30), 30);
        // Never below one row, even when none is wanted or there is none.
        assert_eq!(rows_per_block(&p, 0, 30, 30), 1);
        assert_eq!(rows_per_block(&p, 5, 0, 30), 1);
        for wanted in 0..40 {
            for out_rows in 0..35 {
                let got = rows_per_block(&p, wanted, out_rows, 30);
                assert!(got >= 1 && got <= out_rows.max(1), "{wanted}, {out_rows}: {got}");
            }
        }
    }

    #[test]
    fn rows_per_block_keeps_the_tile_within_the_limit() {
        // 256 channels of rows 2^14 wide: each padded row of the tile holds
        // 2^22 elements, so the limit of 2^24 allows 4 rows. With 3 taps at
        // stride 1 a block of b rows reads b + 2 rows: b = 2.
        assert_eq!(TILE_LIMIT, 1 << 24);
        let rows = AxisGeometry::new(100, 3);
        let cols = AxisGeometry::new(1 << 14, 1);
        let x = Array4::zeros((1, 1, 1, 1));
        let w = Array4::zeros((1, 256, 3, 1));
        let p = shaped([rows, cols], &x, &w);
        assert_eq!(rows_per_block(&p, 50, 98, 1 << 14), 2);
        let tile = TileShape::of(&p, 2, 1 << 14).len() * 256;
        assert!(tile <= TILE_LIMIT && TileShape::of(&p, 3, 1 << 14).len() * 256 > TILE_LIMIT);
        // At stride 2 a block reads 2(b - 1) + 3 rows: still b = 1 only
        // ((4 - 3) / 2 + 1).
        let p = shaped([rows.stride(2), cols], &x, &w);
        assert_eq!(rows_per_block(&p, 50, 49, 1 << 14), 1);
        // 2048 channels: one row alone is over the limit, and still one
        // row it is (the planner has bounded it).
        let w = Array4::zeros((1, 2048, 1, 1));
        let p = shaped([AxisGeometry::new(10, 1), cols], &x, &w);
        assert_eq!(rows_per_block(&p, 50, 10, 1 << 14), 1);
    }

    /// What `fill_segment` makes of `x` under `boundary`, padded by one row
    /// above and below and two columns left and right: `shape` of the
    /// padded plane from padded row `first_row` and column `first_col` on.
    fn tile_of(
        x: ndarray::ArrayView2<'_, i32>,
        boundary: Boundary,
        [first_row, first_col]: [usize; 2],
        shape: TileShape,
    ) -> Array2<i32> {
        let TileShape { rows, width } = shape;
        let input = Array4::zeros((1, 1, x.nrows(), x.ncols()));
        let weight = Array4::zeros((1, 1, 1, 1));
        let options = ConvOptions::new()
            .padding(Padding::Explicit {
                top: 1,
                bottom: 1,
                left: 2,
                right: 2,
            })
            .boundary(boundary);
        let p = problem(input.view(), weight.view(), None, &options);
        let mut tile = vec![i32::MIN; rows * width + 3];
        fill_segment(&p, x, [first_row, first_col], shape, &mut tile);
        // Nothing past the tile is written.
        assert!(tile[rows * width..].iter().all(|&v| v == i32::MIN));
        Array2::from_shape_vec((rows, width), tile[..rows * width].to_vec()).unwrap()
    }

    #[test]
    fn tiles_follow_numpy_pad() {
        // The rows 1 2 3 / 4 5 6 padded by 2 columns each side, per the
        // `Boundary` table for a b c: Fill(9) 9 9 | a b c | 9 9, Wrap
        // b c | a b c | a b, Symmetric b a | a b c | c b, Reflect
        // c b | a b c | b a, Replicate a a | a b c | c c; and by one row
        // above and below, the rows r0 r1 the same way: Wrap and Reflect
        // r1 | r0 r1 | r0, Symmetric and Replicate r0 | r0 r1 | r1.
        let x = array![[1, 2, 3], [4, 5, 6]];
        let cases = [
            (
                Boundary::Fill(9),
                array![
                    [9, 9, 9, 9, 9, 9, 9],
                    [9, 9, 1, 2, 3, 9, 9],
                    [9, 9, 4, 5, 6, 9, 9],
                    [9, 9, 9, 9, 9, 9, 9]
                ],
            ),
            (
                Boundary::Wrap,
                array![
                    [5, 6, 4, 5, 6, 4, 5],
                    [2, 3, 1, 2, 3, 1, 2],
                    [5, 6, 4, 5, 6, 4, 5],
                    [2, 3, 1, 2, 3, 1, 2]
                ],
            ),
            (
                Boundary::Symmetric,
                array![
                    [2, 1, 1, 2, 3, 3, 2],
                    [2, 1, 1, 2, 3, 3, 2],
                    [5, 4, 4, 5, 6, 6, 5],
                    [5, 4, 4, 5, 6, 6, 5]
                ],
            ),
            (
                Boundary::Reflect,
                array![
                    [6, 5, 4, 5, 6, 5, 4],
                    [3, 2, 1, 2, 3, 2, 1],
                    [6, 5, 4, 5, 6, 5, 4],
                    [3, 2, 1, 2, 3, 2, 1]
                ],
            ),
            (
                Boundary::Replicate,
                array![
                    [1, 1, 1, 2, 3, 3, 3],
                    [1, 1, 1, 2, 3, 3, 3],
                    [4, 4, 4, 5, 6, 6, 6],
                    [4, 4, 4, 5, 6, 6, 6]
                ],
            ),
        ];
        let transposed = x.t().as_standard_layout().into_owned();
        for (boundary, want) in cases {
            let tile =
                |plane, first_row, rows, width| tile_of(plane, boundary, [first_row, 0], TileShape { rows, width });
            assert_eq!(tile(x.view(), 0, 4, 7), want, "{boundary:?}");
            // Every window of columns, as a segment of the rows.
            for first_col in 0..7 {
                for width in 1..=7 - first_col {
                    let shape = TileShape { rows: 4, width };
                    let got = tile_of(x.view(), boundary, [0, first_col], shape);
                    let got_t = tile_of(transposed.t(), boundary, [0, first_col], shape);
                    let window = want.slice(s![.., first_col..first_col + width]);
                    assert_eq!(got, window, "{boundary:?} columns {first_col} + {width}");
                    assert_eq!(got_t, window, "{boundary:?} columns {first_col} + {width}");
                }
            }
            // A plane whose rows are not contiguous gives the same tile.
            assert_eq!(tile(transposed.t(), 0, 4, 7), want, "{boundary:?}");
            // Part of the plane: rows 2 and 3, the first 5 columns; row 1,
            // the left padding only.
            assert_eq!(tile(x.view(), 2, 2, 5), want.slice(s![2.., ..5]), "{boundary:?}");
            assert_eq!(tile(x.view(), 1, 1, 2), want.slice(s![1..2, ..2]), "{boundary:?}");
        }
    }

    /// `x[n, c, h, w] = 1000n + 100c + 10h + w`.
    fn labelled(shape: [usize; 4]) -> Array4<f64> {
        Array4::from_shape_fn(shape, |(n, c, h, w)| (1000 * n + 100 * c + 10 * h + w) as f64)
    }

    #[test]
    fn input_in_place_starts_at_the_group_and_row() {
        // Two images of 4 channels of 3 × 5, two groups of 2 channels.
        let x = labelled([2, 4, 3, 5]);
        let w = Array4::<f64>::zeros((2, 2, 1, 1));
        let p = problem(x.view(), w.view(), None, &ConvOptions::new().groups(2));
        // Image 1, group 1 (channel 2 on), row 2: element q of row t of
        // channel c is x[1, 2 + c, 2 + t, q].
        let rows = input_in_place(&p, 1, 1, 2).expect("a standard-layout input");
        assert_eq!((rows.row, rows.channel), (5, 15));
        assert_eq!(rows.data[0], 1220.0);
        assert_eq!(rows.data[4], 1224.0);
        assert_eq!(rows.data[rows.channel + 3], 1323.0);
        // A standard-layout view into a larger array counts from the view.
        let later = x.slice(s![1.., .., .., ..]);
        let w1 = Array4::<f64>::zeros((1, 4, 1, 1));
        let p = problem(later, w1.view(), None, &ConvOptions::new());
        assert_eq!(input_in_place(&p, 0, 0, 1).map(|rows| rows.data[0]), Some(1010.0));
    }

    #[test]
    fn input_in_place_needs_a_standard_layout() {
        let x = labelled([1, 2, 3, 5]);
        let w = Array4::<f64>::zeros((1, 2, 1, 1));
        let transposed = x.view().permuted_axes([0, 1, 3, 2]).as_standard_layout().into_owned();
        let p = problem(
            transposed.view().permuted_axes([0, 1, 3, 2]),
            w.view(),
            None,
            &ConvOptions::new(),
        );
        assert!(input_in_place(&p, 0, 0, 0).is_none());
        let every_other = labelled([1, 2, 3, 10]);
        let p = problem(
            every_other.slice(s![.., .., .., ..;2]),
            w.view(),
            None,
            &ConvOptions::new(),
        );
        assert!(input_in_place(&p, 0, 0, 0).is_none());
    }

    #[test]
    fn with_taps_pairs_each_channel_with_its_taps() {
        // Three channels of 4 elements, two taps each.
        let data: Vec<i32> = (0..12).collect();
        let rows = InputRows {
            data: &data,
            row: 2,
            channel: 4,
        };
        let w = [10, 11, 20, 21, 30, 31];
        let pairs: Vec<(i32, &[i32])> = rows.with_taps(&w, 2).map(|(d, t)| (d[0], t)).collect();
        assert_eq!(pairs, [(0, &w[0..2]), (4, &w[2..4]), (8, &w[4..6])]);
        assert_eq!(rows.with_taps(&[], 2).count(), 0);
    }

    #[test]
    fn packed_weights_borrow_unless_they_must_copy() {
        let x = Array4::<f64>::zeros((1, 2, 3, 3));
        let w = Array4::from_shape_fn((2, 2, 2, 2), |(o, c, a, b)| (1000 * o + 100 * c + 10 * a + b) as f64);
        let mut p = problem(x.view(), w.view(), None, &ConvOptions::new());
        let taps = packed_weights(&p);
        assert!(matches!(taps, Cow::Borrowed(_)) && taps.as_ptr() == w.as_ptr());
        // A real tap is its own conjugate: still borrowed.
        p.conjugate_kernel = true;
        assert!(matches!(packed_weights(&p), Cow::Borrowed(_)));
        // Reversed kernel axes: copied in logical order.
        let stored = w.slice(s![.., .., ..;-1, ..;-1]).as_standard_layout().into_owned();
        let reversed = stored.slice(s![.., .., ..;-1, ..;-1]);
        let p = problem(x.view(), reversed, None, &ConvOptions::new());
        let taps = packed_weights(&p);
        assert!(matches!(taps, Cow::Owned(_)));
        assert_eq!(*taps, *w.as_slice().unwrap());
    }

    #[test]
    fn complex_taps_are_conjugated_in_a_copy() {
        let c = Complex::new;
        let x = Array4::from_elem((1, 1, 2, 2), c(0.0f32, 0.0));
        let w = array![[[[c(1.0, 2.0), c(3.0, -4.0)]]]];
        let mut p = problem(x.view(), w.view(), None, &ConvOptions::new());
        assert!(matches!(packed_weights(&p), Cow::Borrowed(_)));
        p.conjugate_kernel = true;
        let taps = packed_weights(&p);
        assert!(matches!(taps, Cow::Owned(_)));
        assert_eq!(*taps, [c(1.0, -2.0), c(3.0, 4.0)]);
    }
}
