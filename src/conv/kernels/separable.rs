//! Separable (rank-1) kernels: a `kh × kw` kernel that is the outer product
//! `u vᵀ` of a column and a row runs as two one-dimensional passes, `kw`
//! then `kh` multiply-adds per output instead of `kh · kw`.
//!
//! ```text
//!   1 2 1       1
//!   2 4 2   =   2  ×  1 2 1      rows with v, then columns with u
//!   1 2 1       1
//! ```
//!
//! Each block of output rows filters, with `v`, only the padded input rows
//! its outputs read, into a ring of row-filtered lines, and sums each
//! output row from `kh` of them with `u`:
//!
//! ```text
//!   padded input            ring of dh·(kh−1)+1 lines      output block
//!   row p ──v──>  line p    slot p mod (dh·(kh−1)+1)   ──u──>  row i
//!                           (Wo values each)                 (kh lines:
//!                                                             i·sh + a·dh)
//! ```
//!
//! A line stays in its slot until a row `dh·(kh−1)+1` further down takes
//! the slot, by which time no later output row of the block reads it, so
//! every padded row is filtered once per block and the ring, a few lines
//! wide, stays in cache however large the image. Lines depend only on the
//! input, so neither the block size nor the thread count changes a bit of
//! the result. The boundary rule extends each axis on its own, so reading
//! padded rows through the block's tile rules (`fill_tile`) is all the
//! padding needs.

use ndarray::{ArrayView2, ArrayViewMut2, ArrayViewMut4, Axis};
use num_traits::Float;

use super::vectorized::{chunk_starts, lanes_for};
use crate::conv::element::Element;
use crate::conv::exec::blocks::{block_count, for_each_block};
use crate::conv::exec::scratch::{prefix, Pool};
use crate::conv::exec::tile::{fill_tile, TileShape};
use crate::conv::problem::Problem;

/// Output rows per block at least: `BLOCK_OUTPUTS / Wo`. Each block filters
/// again the `dh·(kh−1)` lines its first rows share with the block above,
/// so blocks are far larger than the direct kernel's; the ring does not
/// grow with them.
const BLOCK_OUTPUTS: usize = 1 << 16;

/// Blocks span at least this many kernel spans of rows, so that the lines
/// filtered twice stay a small part of a block's work on wide images.
const SPANS_PER_BLOCK: usize = 4;

/// The factors of a problem's kernels, with the buffers the passes work in
/// (kept from call to call by a [`Conv2dPlan`](crate::Conv2dPlan)).
/// `pub` only because the sealed element `Capabilities` name it; the
/// module is private.
pub struct Factors<A> {
    /// `(u, v)` for each output channel.
    pairs: Vec<(Vec<A>, Vec<A>)>,
    /// One set of buffers per block running at once.
    lines: Pool<Lines<A>>,
}

/// One block's buffers. None is cleared between uses: `held` is reset for
/// every block and channel, and every other value is written before it is
/// read.
struct Lines<A> {
    /// `slots` row-filtered lines of `Wo` values; padded row `p` lives in
    /// slot `p % slots`.
    ring: Vec<A>,
    /// The padded row each slot holds, [`EMPTY`] for none.
    held: Vec<usize>,
    /// The padded input row being filtered.
    padded: Vec<A>,
    /// An output row, for outputs whose rows are not contiguous.
    out_row: Vec<A>,
    /// Where the taps of the row pass (`kw`), then of the column pass
    /// (`kh`), read.
    offsets: Vec<usize>,
}

/// A slot that holds no line.
const EMPTY: usize = usize::MAX;

impl<A> Default for Lines<A> {
    fn default() -> Self {
        Lines {
            ring: Vec::new(),
            held: Vec::new(),
            padded: Vec::new(),
            out_row: Vec::new(),
            offsets: Vec::new(),
        }
    }
}

/// The sizes of a problem's ring and lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sizes {
    /// Lines in the ring: the padded rows one output row spans.
    slots: usize,
    /// Outputs per row.
    out_cols: usize,
    /// Padded input columns one output row reads.
    width: usize,
    /// `kw + kh`.
    taps: usize,
}

impl Sizes {
    fn of<A: Element>(problem: &Problem<'_, A>, out_cols: usize) -> Self {
        let [rows, cols] = &problem.geometry;
        Sizes {
            slots: rows.extent(),
            out_cols,
            width: TileShape::of(problem, 1, out_cols).width,
            taps: rows.kernel + cols.kernel,
        }
    }

    /// Grows `lines` to these sizes (a buffer never shrinks).
    fn grow<A: Clone + num_traits::Zero>(&self, lines: &mut Lines<A>) {
        let ring = self.slots * self.out_cols;
        prefix(&mut lines.ring, ring, ring);
        if lines.held.len() < self.slots {
            lines.held.resize(self.slots, EMPTY);
        }
        prefix(&mut lines.padded, self.width, self.width);
        prefix(&mut lines.out_row, self.out_cols, self.out_cols);
        prefix(&mut lines.offsets, self.taps, self.taps);
    }
}

/// Output rows per block for `problem`: see [`BLOCK_OUTPUTS`] and
/// [`SPANS_PER_BLOCK`].
fn rows_per_block<A: Element>(problem: &Problem<'_, A>, out_rows: usize, out_cols: usize) -> usize {
    let rows = &problem.geometry[0];
    let spans = SPANS_PER_BLOCK.saturating_mul(rows.extent()) / rows.stride;
    (BLOCK_OUTPUTS / out_cols.max(1)).max(spans).clamp(1, out_rows.max(1))
}

/// The factors `(u, v)` of every kernel of `problem` (one per output
/// channel), or `None` unless each has one input channel and is rank 1 to
/// within a few rounding errors of its largest tap.
pub(crate) fn factors<A: Element + Float>(problem: &Problem<'_, A>) -> Option<Factors<A>> {
    if problem.weight.shape()[1] != 1 || problem.weight.shape()[0] != problem.groups {
        return None;
    }
    let pairs = problem
        .weight
        .outer_iter()
        .map(|w| rank_one(w.index_axis(Axis(0), 0)))
        .collect::<Option<_>>()?;
    Some(Factors {
        pairs,
        lines: Pool::default(),
    })
}

fn rank_one<A: Element + Float>(k: ArrayView2<'_, A>) -> Option<(Vec<A>, Vec<A>)> {
    // A NaN compares as equal to everything below, so it could hide the
    // largest tap; a kernel with a non-finite tap is never factored.
    if !k.iter().all(|v| v.is_finite()) {
        return None;
    }
    let ((p, q), &peak) = k
        .indexed_iter()
        .max_by(|a, b| a.1.abs().partial_cmp(&b.1.abs()).unwrap_or(std::cmp::Ordering::Equal))?;
    if peak == A::zero() {
        return Some((vec![A::zero(); k.nrows()], vec![A::zero(); k.ncols()]));
    }
    let u: Vec<A> = k.column(q).to_vec();
    let v: Vec<A> = k.row(p).iter().map(|&x| x / peak).collect();
    let tolerance = A::epsilon() * A::from(16.0)? * peak.abs();
    let exact = k
        .indexed_iter()
        .all(|((a, b), &x)| (x - u[a] * v[b]).abs() <= tolerance);
    exact.then_some((u, v))
}

/// Computes `problem` into `out` with the factors of its kernels.
pub(crate) fn run<A: Element + Float>(problem: &Problem<'_, A>, factors: &Factors<A>, out: ArrayViewMut4<'_, A>) {
    let [images, _, out_rows, out_cols] = [out.shape()[0], out.shape()[1], out.shape()[2], out.shape()[3]];
    if out.is_empty() {
        return;
    }
    let sizes = Sizes::of(problem, out_cols);
    let rows_per_block = rows_per_block(problem, out_rows, out_cols);
    factors
        .lines
        .prepare(block_count(images, out_rows, rows_per_block), |lines| sizes.grow(lines));
    let arch = pulp::Arch::new();
    for_each_block(out, rows_per_block, |mut block| {
        factors.lines.with(|lines| {
            sizes.grow(lines);
            let image = problem.input.index_axis(Axis(0), block.n);
            for (g, (u, v)) in factors.pairs.iter().enumerate() {
                arch.dispatch(ChannelTask {
                    out: block.out.index_axis_mut(Axis(0), g),
                    row0: block.row0,
                    plane: image.index_axis(Axis(0), g),
                    u,
                    v,
                    bias: problem.bias.as_ref().map(|b| b[g]),
                    sizes,
                    lines,
                    problem,
                });
            }
        });
    });
}

/// The block's rows of one channel, run by `pulp` with the best
/// instruction set the CPU has: both passes are inlined into the
/// dispatched function, so the compiler vectorizes them for that target.
struct ChannelTask<'t, 'p, A: Element> {
    /// `[rows, Wo]`, from output row `row0` on.
    out: ArrayViewMut2<'t, A>,
    row0: usize,
    /// The channel's input, `[H, W]`.
    plane: ArrayView2<'t, A>,
    u: &'t [A],
    v: &'t [A],
    bias: Option<A>,
    sizes: Sizes,
    lines: &'t mut Lines<A>,
    problem: &'t Problem<'p, A>,
}

impl<A: Element> pulp::WithSimd for ChannelTask<'_, '_, A> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let ChannelTask {
            mut out,
            row0,
            plane,
            u,
            v,
            bias,
            sizes,
            lines,
            problem,
        } = self;
        let [rows, cols] = &problem.geometry;
        let Sizes {
            slots, out_cols, width, ..
        } = sizes;
        let lanes = lanes_for::<A>(out_cols);
        let Lines {
            ring,
            held,
            padded,
            out_row,
            offsets,
        } = lines;
        let held = &mut held[..slots];
        held.fill(EMPTY);
        let (row_taps, column_taps) = offsets[..v.len() + u.len()].split_at_mut(v.len());
        for (b, offset) in row_taps.iter_mut().enumerate() {
            *offset = b * cols.dilation;
        }
        let line_shape = TileShape { rows: 1, width };
        for (i, mut dst) in out.outer_iter_mut().enumerate() {
            let first = (row0 + i) * rows.stride;
            for (a, offset) in column_taps.iter_mut().enumerate() {
                let p = first + a * rows.dilation;
                let slot = p % slots;
                if held[slot] != p {
                    fill_tile(problem, plane, p, line_shape, &mut padded[..width]);
                    let line = &mut ring[slot * out_cols..][..out_cols];
                    weighted_sum_in(lanes, &padded[..width], row_taps, v, cols.stride, line);
                    held[slot] = p;
                }
                *offset = slot * out_cols;
            }
            let target: &mut [A] = match dst.as_slice_mut() {
                Some(row) => row,
                None => &mut out_row[..out_cols],
            };
            weighted_sum_in(lanes, ring, column_taps, u, 1, target);
            if let Some(b) = bias {
                target.iter_mut().for_each(|y| *y = y.plus(b));
            }
            if !dst.is_standard_layout() {
                dst.iter_mut().zip(out_row.iter()).for_each(|(d, &y)| *d = y);
            }
        }
    }
}

/// [`weighted_sum`] with register blocks of `lanes` outputs.
#[inline(always)]
fn weighted_sum_in<A: Element>(
    lanes: usize,
    data: &[A],
    offsets: &[usize],
    weights: &[A],
    stride: usize,
    out: &mut [A],
) {
    match lanes {
        64 => weighted_sum::<A, 64>(data, offsets, weights, stride, out),
        32 => weighted_sum::<A, 32>(data, offsets, weights, stride, out),
        16 => weighted_sum::<A, 16>(data, offsets, weights, stride, out),
        _ => weighted_sum::<A, 8>(data, offsets, weights, stride, out),
    }
}

/// `out[j] = Σ_t weights[t] · data[offsets[t] + j · stride]`, summed in tap
/// order: the row pass (one padded row, taps `dw` apart, the column
/// stride) and the column pass (`kh` lines of the ring, stride 1) alike.
/// `LANES` outputs at a time stay in registers while every tap is applied.
#[inline(always)]
fn weighted_sum<A: Element, const LANES: usize>(
    data: &[A],
    offsets: &[usize],
    weights: &[A],
    stride: usize,
    out: &mut [A],
) {
    let taps = || offsets.iter().zip(weights);
    // Two copies of the loop, so that the unit-stride one has contiguous
    // loads the compiler vectorizes.
    if stride == 1 {
        for j0 in chunk_starts::<LANES>(out.len()) {
            let mut acc = [A::zero(); LANES];
            for (&offset, &w) in taps() {
                let src: &[A; LANES] = data[offset + j0..][..LANES].try_into().expect("LANES elements");
                for l in 0..LANES {
                    acc[l] = acc[l].plus_product(src[l], w);
                }
            }
            out[j0..j0 + LANES].copy_from_slice(&acc);
        }
    } else {
        for j0 in chunk_starts::<LANES>(out.len()) {
            let mut acc = [A::zero(); LANES];
            for (&offset, &w) in taps() {
                let src = &data[offset + j0 * stride..][..(LANES - 1) * stride + 1];
                for l in 0..LANES {
                    acc[l] = acc[l].plus_product(src[l * stride], w);
                }
            }
            out[j0..j0 + LANES].copy_from_slice(&acc);
        }
    }
    // Rows narrower than one register block.
    if out.len() < LANES {
        for (j, y) in out.iter_mut().enumerate() {
            *y = taps().fold(A::zero(), |acc, (&offset, &w)| {
                acc.plus_product(data[offset + j * stride], w)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{array, Array2, Array4};

    use super::*;
    use crate::conv::kernels::check::{check_kernel, problem, run_poisoned, sweep, Case, Edge, Layout, Sample};
    use crate::options::{ConvOptions, Padding};

    /// The sweep's problems the separable path takes (one input and one
    /// output channel per group), with rank-1 kernels.
    fn rank_one_cases() -> impl Iterator<Item = Case> {
        sweep().into_iter().filter(|case| case.one_to_one()).map(Case::rank_one)
    }

    /// `run` with the factors of `problem`'s kernels, whose buffers a run
    /// over a larger, poisoned input has just used.
    fn run_factored<A: Element + Float + Sample>(problem: &Problem<'_, A>, out: ArrayViewMut4<'_, A>) {
        let factors = factors(problem).expect("rank-1 kernels factor");
        run_poisoned(problem, 6, |p, o| run(p, &factors, o));
        run(problem, &factors, out);
    }

    /// Images tall enough for several blocks, whose first rows the block
    /// above reads too: padded, strided, dilated, in odd layouts.
    fn multi_block_cases() -> impl Iterator<Item = Case> {
        let tall = Case::new([1, 1, 9000, 10], 1, [3, 3])
            .padding(Padding::Same)
            .edge(Edge::Reflect)
            .bias();
        [
            tall,
            tall.layout(Layout::StridedOutput).edge(Edge::Fill),
            tall.layout(Layout::TransposedInput).edge(Edge::Wrap),
            Case::new([2, 2, 20000, 9], 2, [5, 4])
                .groups(2)
                .stride(2, 1)
                .dilation(2, 1)
                .padding(Padding::Explicit {
                    top: 3,
                    bottom: 2,
                    left: 1,
                    right: 2,
                })
                .edge(Edge::Symmetric),
        ]
        .into_iter()
        .map(Case::rank_one)
    }

    #[test]
    fn f32_matches_the_reference() {
        check_kernel::<f32>("separable", rank_one_cases().chain(multi_block_cases()), run_factored);
    }

    #[test]
    fn f64_matches_the_reference() {
        check_kernel::<f64>("separable", rank_one_cases().chain(multi_block_cases()), run_factored);
    }

    #[test]
    fn the_multi_block_cases_have_several_blocks() {
        for case in multi_block_cases() {
            let x = Array4::<f32>::zeros(case.input);
            let w = Array4::<f32>::zeros([case.out_channels, 1, case.kernel[0], case.kernel[1]]);
            let p = problem(x.view(), w.view(), None, &case.options::<f32>());
            let [_, _, out_rows, out_cols] = p.output_shape();
            assert!(rows_per_block(&p, out_rows, out_cols) < out_rows, "{case:?}");
        }
    }

    #[test]
    fn blocks_are_tall_and_never_empty() {
        let x = Array4::<f64>::zeros((1, 1, 2000, 1024));
        let k = Array4::<f64>::zeros((1, 1, 13, 13));
        let p = problem(x.view(), k.view(), None, &ConvOptions::new().padding(Padding::Same));
        // 2^16 outputs of 1024 a row: 64 rows, above 4 spans of 13.
        assert_eq!(rows_per_block(&p, 2000, 1024), 64);
        // Wide rows: 4 spans of 13 rows all the same.
        assert_eq!(rows_per_block(&p, 2000, 1 << 16), 52);
        // Never more than the output's rows, never fewer than one.
        assert_eq!(rows_per_block(&p, 30, 1024), 30);
        assert_eq!(rows_per_block(&p, 0, 1024), 1);
    }

    /// The ring holds the padded rows one output row spans; the lines it
    /// keeps depend only on the input, so the result is the same bits for
    /// every thread count.
    #[test]
    fn every_thread_count_gives_the_same_bits() {
        let case = multi_block_cases().next().expect("a case");
        let x = Array4::from_shape_fn(case.input, |(_, _, i, j)| ((i * 31 + j * 17) % 97) as f32 / 97.0 - 0.5);
        let (u, v) = ([0.25f32, 0.5, 0.25], [1.0f32, 0.1, -1.0]);
        let w = Array4::from_shape_fn((1, 1, 3, 3), |(_, _, a, b)| u[a] * v[b]);
        let p = problem(x.view(), w.view(), None, &case.options::<f32>());
        let factors = factors(&p).expect("rank 1");
        let on = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut out = Array4::from_elem(p.output_shape(), f32::NAN);
            pool.install(|| run(&p, &factors, out.view_mut()));
            out
        };
        let one = on(1);
        assert!(one.iter().all(|y| y.is_finite()));
        for threads in [2, 3] {
            assert!(
                on(threads).iter().zip(&one).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn the_ring_spans_one_output_row() {
        let x = Array4::<f64>::zeros((1, 1, 50, 40));
        let k = Array4::<f64>::zeros((1, 1, 4, 3));
        let opts = ConvOptions::new()
            .dilations(3, 2)
            .strides(2, 3)
            .padding(Padding::uniform(1));
        let p = problem(x.view(), k.view(), None, &opts);
        // Rows: 4 taps 3 apart span 10 padded rows. Columns: 40 + 2 padded,
        // 3 taps 2 apart span 5, at stride 3: (42 - 5) / 3 + 1 = 13 outputs
        // read 12·3 + 5 = 41 padded columns.
        let sizes = Sizes::of(&p, 13);
        assert_eq!(
            sizes,
            Sizes {
                slots: 10,
                out_cols: 13,
                width: 41,
                taps: 7
            }
        );
        let mut lines = Lines::<f64>::default();
        sizes.grow(&mut lines);
        assert_eq!((lines.ring.len(), lines.held.len(), lines.padded.len()), (130, 10, 41));
    }

    #[test]
    fn rank_one_factors_by_hand() {
        // The module docs' kernel: the largest tap is the centre 4, so
        // u is the centre column and v the centre row divided by 4.
        let (u, v) = rank_one(array![[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]].view()).unwrap();
        assert_eq!((u, v), (vec![2.0, 4.0, 2.0], vec![0.5, 1.0, 0.5]));
        // A negative largest tap: -4 at (0, 1), so u = (-4, 2) and
        // v = (2, -4) / -4 = (-0.5, 1); u vᵀ = (2, -4; -1, 2) is the kernel.
        let (u, v) = rank_one(array![[2.0f32, -4.0], [-1.0, 2.0]].view()).unwrap();
        assert_eq!((u, v), (vec![-4.0, 2.0], vec![-0.5, 1.0]));
        // One tap.
        assert_eq!(rank_one(array![[3.0]].view()), Some((vec![3.0], vec![1.0])));
        // All zero: zero factors.
        let zero = Array2::<f64>::zeros((2, 3));
        assert_eq!(rank_one(zero.view()), Some((vec![0.0; 2], vec![0.0; 3])));
    }

    #[test]
    fn rank_two_and_non_finite_kernels_do_not_factor() {
        assert_eq!(rank_one(array![[1.0, 0.0], [0.0, 1.0]].view()), None);
        assert_eq!(rank_one(array![[1.0, f64::NAN], [1.0, 1.0]].view()), None);
        assert_eq!(
            rank_one(array![[f64::NAN, f64::NAN], [f64::NAN, f64::NAN]].view()),
            None
        );
        assert_eq!(rank_one(array![[1.0, f64::INFINITY]].view()), None);
    }

    #[test]
    fn rank_one_to_within_a_few_rounding_errors() {
        // (1, 1; 1, 1 + δ): the largest tap is 1 + δ, u = (1, 1 + δ),
        // v = (1 / (1 + δ), 1), and u vᵀ misses the first tap by about δ.
        // The allowance is 16 ε times the largest tap.
        let nearly = |delta: f64| rank_one(array![[1.0, 1.0], [1.0, 1.0 + delta]].view()).is_some();
        assert!(nearly(4.0 * f64::EPSILON));
        assert!(!nearly(32.0 * f64::EPSILON));
        assert!(!nearly(1e-12));
    }

    #[test]
    fn factors_need_one_channel_in_and_out_per_group() {
        let x = Array4::<f64>::ones((1, 2, 5, 5));
        let box3 = |shape| Array4::<f64>::ones(shape);
        let depthwise = box3((2, 1, 3, 3));
        let p = problem(x.view(), depthwise.view(), None, &ConvOptions::new().groups(2));
        assert_eq!(factors(&p).map(|f| f.pairs.len()), Some(2));
        // Two outputs per group.
        let doubled = box3((4, 1, 3, 3));
        let p = problem(x.view(), doubled.view(), None, &ConvOptions::new().groups(2));
        assert!(factors(&p).is_none());
        // Two inputs per group.
        let summed = box3((1, 2, 3, 3));
        let p = problem(x.view(), summed.view(), None, &ConvOptions::new());
        assert!(factors(&p).is_none());
        // One kernel of rank 2 is enough to refuse.
        let mut mixed = box3((2, 1, 3, 3));
        mixed[[1, 0, 0, 0]] = 5.0;
        let p = problem(x.view(), mixed.view(), None, &ConvOptions::new().groups(2));
        assert!(factors(&p).is_none());
    }
}
