//! Winograd's minimal filtering for 3×3 kernels at stride 1, real floating
//! point: `F(m×m, 3×3)` computes an `m × m` tile of outputs from an
//! `α × α` tile of input (`α = m + 2`) with `α²` multiplies per input
//! channel instead of `9m²`:
//!
//! ```text
//!   Y = Aᵀ [ Σ_c U_c ⊙ V_c ] A,   U_c = G g_c Gᵀ (α×α),   V_c = Bᵀ d_c B (α×α)
//! ```
//!
//! with `g_c` the 3×3 kernel and `d_c` the input tile of channel `c`. The
//! sum over channels of the element-wise products is, for each of the `α²`
//! frequencies `ξ`, a matrix product
//!
//! ```text
//!   M[ξ] (O/G × tiles) = U[ξ] (O/G × C/G) · V[ξ] (C/G × tiles)
//! ```
//!
//! run on the crate's micro-kernel (`exec::microkernel`), with `U` packed
//! once per call or per plan. The tile is `F(4×4, 3×3)` (`m = 4`, `α = 6`):
//! 4× fewer multiplies than the definition. Its `f32` error on adversarial
//! data stays within the crate's promise of 1e-4 of the largest output
//! (`docs/algorithms.md` has the measurements), so the smaller and more
//! accurate `F(2×2, 3×3)` (2.25× fewer) is not needed; the transforms are
//! written generically over the tile ([`Points`]) so that another set of
//! points is one more implementation.
//!
//! The output is cut into blocks of output rows ([`for_each_block`]) of
//! about [`BLOCK_TILES`] tiles; for each block and group, every input
//! channel's padded rows are copied through the boundary rule (as every
//! kernel reads its input) and cut into interleaved streams ([`Streams`])
//! in which the same input of neighbouring tiles is a contiguous run; the
//! input transform loads those runs as vectors, one tile per lane, and
//! writes `V`; the `α²` products give `M`; and the output transform writes
//! each tile straight into the output, bias added and partial edge tiles
//! cut. Only one block's `V` and `M` exist at a time, in pooled scratch.
//! Both transforms run on `pulp`'s vectors of the CPU's instruction set,
//! written with loops rather than closures so that they compile for it.
//!
//! A dilated kernel at stride 1 reads interleaved inputs: output row
//! `y = ph + d·s` reads padded rows `ph + d·(s + a)` only. So with dilation
//! `(dh, dw)` the block splits into `dh · dw` undilated stride-1
//! sub-problems (phases), each reading every `d`-th row and column of the
//! block's tile: row phases one after another, column phases side by side
//! in the lanes ([`Chunk`]), all sharing one `V` and one matrix product per
//! frequency.
//!
//! A NaN or an infinity in an input tile turns that tile's outputs (all
//! `m × m` of them) into NaN, as the transforms mix every input of the
//! tile, and values near the type's largest can overflow in the transforms
//! where the definition's sums would not: `Auto` takes this path only on
//! tame data (`Problem::tame`), for the shapes on which it measured faster
//! (`planner`).

use std::marker::PhantomData;
use std::ops::{Add, Sub};

use ndarray::{ArrayView4, ArrayViewMut2, ArrayViewMut4, Axis};
use pulp::bytemuck;
use pulp::Simd;

use crate::conv::element::Float;
use crate::conv::exec::blocks::{block_count, for_each_block, for_each_chunk};
use crate::conv::exec::microkernel::{lanes, Microkernel, Operands, PackedWeights, Patches, Real};
use crate::conv::exec::scratch::{prefix, workspace, ScratchLens, Workspace};
use crate::conv::exec::tile::{fill_tile, rows_per_block, TileShape};
use crate::conv::problem::{dims4, Problem};

/// The most tiles transformed together: the lanes of the widest vector (16
/// `f32` on AVX-512), one vector per value of a tile, so that each stage
/// of a transform is one vector operation.
const LANES: usize = 16;

/// `α`, the input tile's side, of the points the kernel runs
/// ([`F4`]): `α²` frequencies.
const ALPHA: usize = 6;

/// The number of tiles a block aims at: the width of its matrix products.
/// Wider products run closer to the micro-kernel's peak (64 tiles are one
/// patch panel of `f32` on AVX-512), but `V` and `M` (`α² · channels ·
/// tiles` each) should stay in the L2 cache.
const BLOCK_TILES: usize = 64;

/// The transformed weights `U`, packed for the micro-kernel: for each
/// frequency `ξ` and group `g`, the matrix `U[ξ]` of the group's `O/G`
/// output channels by its `C/G` input channels is group `ξ·G + g` of
/// [`PackedWeights`]. (`pub` only because the sealed element
/// `Capabilities` name it; the module is private.)
pub struct Weights<A> {
    packed: PackedWeights<A>,
    /// `[O, C/G, α²]` before packing, kept so that new weights allocate
    /// nothing.
    taps: Vec<A>,
}

impl<A: Float> Weights<A> {
    /// The transform of `problem`'s weights (which must be 3×3), computed
    /// in `f64` and rounded once to `A`, output channels and then groups of
    /// the packing in parallel; `reuse` gives its buffers, if any, so that
    /// new weights of a plan allocate nothing.
    pub(crate) fn new(problem: &Problem<'_, A>, reuse: Option<Weights<A>>) -> Weights<A> {
        let (mut packed, mut taps) = reuse.map(|w| (w.packed, w.taps)).unwrap_or_default();
        transform_weights::<A, F4, ALPHA, 4>(problem.weight, &mut taps);
        let [outs, channels, _, _] = dims4(problem.weight.shape());
        let groups = problem.groups.max(1);
        let outputs = outs / groups;
        // Group `ξ·G + g` of the packing is `U[ξ]` of group `g`.
        let frequencies = ALPHA * ALPHA;
        packed.fill(frequencies * groups, outputs, channels, |group, row, c| {
            let (xi, g) = (group / groups, group % groups);
            taps[((g * outputs + row) * channels + c) * frequencies + xi]
        });
        Weights { packed, taps }
    }
}

/// Fills `taps` with `U = G g Gᵀ` of every kernel of `weight`,
/// `[O, C/G, α²]`, output channels in parallel.
fn transform_weights<A: Float, P: Points<AL, M>, const AL: usize, const M: usize>(
    weight: ArrayView4<'_, A>,
    taps: &mut Vec<A>,
) {
    let [outs, channels, kh, kw] = dims4(weight.shape());
    assert!(kh == 3 && kw == 3, "Winograd weights of a {kh}×{kw} kernel");
    taps.clear();
    taps.resize(AL * AL * outs * channels, A::zero());
    for_each_chunk(taps, AL * AL * channels.max(1), |o, taps| {
        for (c, u_c) in taps.chunks_exact_mut(AL * AL).enumerate() {
            let g = |a: usize, b: usize| weight[[o, c, a, b]].to_f64().unwrap_or(f64::NAN);
            // G along the kernel's columns, then along its rows.
            let columns: [[f64; AL]; 3] = std::array::from_fn(|a| P::weight([g(a, 0), g(a, 1), g(a, 2)]));
            for j in 0..AL {
                let u = P::weight([columns[0][j], columns[1][j], columns[2][j]]);
                for (i, &v) in u.iter().enumerate() {
                    u_c[i * AL + j] = A::from(v).unwrap_or(A::nan());
                }
            }
        }
    });
}

/// One set of interpolation points: the three 1-D transforms, each written
/// out with its zeros and ones left away. `AL = M + 2`.
trait Points<const AL: usize, const M: usize> {
    /// `Bᵀ d`: an input tile's column (or row) to frequencies.
    fn input<V: Linear>(d: [V; AL]) -> [V; AL];
    /// `Aᵀ m`: frequencies to `M` outputs.
    fn output<V: Linear>(m: [V; AL]) -> [V; M];
    /// `G g`: a kernel's column (or row) to frequencies.
    fn weight(g: [f64; 3]) -> [f64; AL];
}

/// The arithmetic the transforms need: sums, differences and multiples by
/// small powers of two (exact, so the transforms round only in the sums).
trait Linear: Copy + Add<Output = Self> + Sub<Output = Self> {
    fn times(self, k: f64) -> Self;
}

/// `F(4×4, 3×3)` on the points `0, 1, −1, 2, −2, ∞`:
///
/// ```text
///        | 4  0 -5  0  1  0 |          | 1/4    0     0   |
///        | 0 -4 -4  1  1  0 |          | -1/6 -1/6  -1/6  |
///   Bᵀ = | 0  4 -4 -1  1  0 |      G = | -1/6  1/6  -1/6  |
///        | 0 -2 -1  2  1  0 |          | 1/24  1/12  1/6  |
///        | 0  2 -1 -2  1  0 |          | 1/24 -1/12  1/6  |
///        | 0  4  0 -5  0  1 |          | 0      0     1   |
///
///        | 1  1  1  1  1  0 |
///   Aᵀ = | 0  1 -1  2 -2  0 |
///        | 0  1  1  4  4  0 |
///        | 0  1 -1  8 -8  1 |
/// ```
///
/// (Five finite points and `∞` make `F(4×4, 3×3)`; `±1/2` and `±2`
/// together with `0, ±1` are the seven points of `F(6×6, 3×3)`, whose
/// error in `f32` is far larger.)
struct F4;

impl Points<6, 4> for F4 {
    #[inline(always)]
    fn input<V: Linear>([d0, d1, d2, d3, d4, d5]: [V; 6]) -> [V; 6] {
        // Shared partial sums: rows 1 and 2 are (d4 − 4d2) ± (d3 − 4d1),
        // rows 3 and 4 are (d4 − d2) ± 2(d3 − d1).
        let a = d4 - d2.times(4.0);
        let b = d3 - d1.times(4.0);
        let c = d4 - d2;
        let e = (d3 - d1).times(2.0);
        [
            d0.times(4.0) - d2.times(5.0) + d4,
            a + b,
            a - b,
            c + e,
            c - e,
            d1.times(4.0) - d3.times(5.0) + d5,
        ]
    }

    #[inline(always)]
    fn output<V: Linear>([m0, m1, m2, m3, m4, m5]: [V; 6]) -> [V; 4] {
        let sum12 = m1 + m2;
        let diff12 = m1 - m2;
        let sum34 = m3 + m4;
        let diff34 = m3 - m4;
        [
            m0 + sum12 + sum34,
            diff12 + diff34.times(2.0),
            sum12 + sum34.times(4.0),
            diff12 + diff34.times(8.0) + m5,
        ]
    }

    fn weight([g0, g1, g2]: [f64; 3]) -> [f64; 6] {
        [
            g0 / 4.0,
            -(g0 + g1 + g2) / 6.0,
            -(g0 - g1 + g2) / 6.0,
            g0 / 24.0 + g1 / 12.0 + g2 / 6.0,
            g0 / 24.0 - g1 / 12.0 + g2 / 6.0,
            g2,
        ]
    }
}

/// One vector of `A` on `S`: one value of as many tiles, transformed
/// together.
#[derive(Clone, Copy)]
struct Lanes<S: Simd, A: Real> {
    simd: S,
    values: A::Vector<S>,
}

impl<S: Simd, A: Real> Lanes<S, A> {
    /// The vector at the start of `values`.
    #[inline(always)]
    fn load(simd: S, values: &[A]) -> Self {
        let values = &values[..lanes::<S, A>()];
        Lanes {
            simd,
            values: bytemuck::pod_read_unaligned(bytemuck::cast_slice(values)),
        }
    }

    /// The vector's values.
    #[inline(always)]
    fn as_slice(&self) -> &[A] {
        bytemuck::cast_slice(std::slice::from_ref(&self.values))
    }
}

impl<S: Simd, A: Real> Add for Lanes<S, A> {
    type Output = Self;
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Lanes {
            values: A::add_vectors(self.simd, self.values, other.values),
            ..self
        }
    }
}

impl<S: Simd, A: Real> Sub for Lanes<S, A> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        Lanes {
            values: A::sub_vectors(self.simd, self.values, other.values),
            ..self
        }
    }
}

impl<S: Simd, A: Real + Float> Linear for Lanes<S, A> {
    #[inline(always)]
    fn times(self, k: f64) -> Self {
        let k = A::splat(self.simd, A::from(k).unwrap_or(A::nan()));
        Lanes {
            values: A::mul_vectors(self.simd, self.values, k),
            ..self
        }
    }
}

/// Single values: one tile at a time, for the tests.
#[cfg(test)]
impl Linear for f64 {
    fn times(self, k: f64) -> Self {
        self * k
    }
}

/// `Bᵀ d B` of a vector of tiles: `d[k][l]` holds input row `k`, column `l`.
///
/// The transforms are written with loops rather than `std::array::from_fn`,
/// whose closures are not inlined into the caller compiled for the vector
/// instruction set.
#[inline(always)]
fn input_2d<V: Linear, P: Points<AL, M>, const AL: usize, const M: usize>(d: [[V; AL]; AL]) -> [[V; AL]; AL] {
    // `columns[l][i]` is row `i` of `Bᵀ d`, column `l`.
    let mut columns = d;
    for (l, column) in columns.iter_mut().enumerate() {
        let mut x = d[0];
        for (x_k, d_k) in x.iter_mut().zip(&d) {
            *x_k = d_k[l];
        }
        *column = P::input(x);
    }
    let mut v = d;
    for (i, v_i) in v.iter_mut().enumerate() {
        let mut x = d[0];
        for (x_l, column) in x.iter_mut().zip(&columns) {
            *x_l = column[i];
        }
        *v_i = P::input(x);
    }
    v
}

/// `Aᵀ m A` of a vector of tiles: `m[i][j]` is frequency `(i, j)`; the
/// result holds output row `r`, column `c` at `[r][c]`.
#[inline(always)]
fn output_2d<V: Linear, P: Points<AL, M>, const AL: usize, const M: usize>(m: [[V; AL]; AL]) -> [[V; M]; M] {
    // `columns[j][r]` is row `r` of `Aᵀ m`, column `j`.
    let mut columns = [[m[0][0]; M]; AL];
    for (j, column) in columns.iter_mut().enumerate() {
        let mut x = m[0];
        for (x_i, m_i) in x.iter_mut().zip(&m) {
            *x_i = m_i[j];
        }
        *column = P::output(x);
    }
    let mut y = [[m[0][0]; M]; M];
    for (r, y_r) in y.iter_mut().enumerate() {
        let mut x = m[0];
        for (x_j, column) in x.iter_mut().zip(&columns) {
            *x_j = column[r];
        }
        *y_r = P::output(x);
    }
    y
}

/// Neighbouring tiles of one tile row of a row phase, as many as a vector
/// has lanes (fewer at the row's end), which are transformed together.
///
/// With column dilation `dw`, the column phases interleave in the lanes:
/// the tiles of a tile row are numbered `f = dw · tc + pw` (tile `tc` of
/// column phase `pw`), and a chunk holds tiles `f0 .. f0 + lanes`. Tile `f`
/// reads columns `pw + dw · (m · tc + l)` and writes outputs
/// `pw + dw · (m · tc + c)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chunk {
    /// The row phase (its first output row in the block) and the tile row
    /// in it.
    ph: usize,
    tr: usize,
    /// The number of the chunk's first tile in its tile row.
    f0: usize,
    /// The column of `V` and `M` that holds the first tile: tiles are
    /// numbered row phase by row phase, tile row by tile row.
    col: usize,
    /// The row phase's outputs the chunk has down (at most `m`).
    rows: usize,
}

/// The tiles of a block of `block_rows × out_cols` outputs with dilation
/// `[dh, dw]` and tiles of `m` outputs a side: `dh` row phases (rows `ph,
/// ph + dh, …`), each a grid of tile rows by `dw · across` tiles.
#[derive(Clone, Copy, Debug)]
struct Phases {
    block_rows: usize,
    out_cols: usize,
    dilation: [usize; 2],
    m: usize,
}

impl Phases {
    /// The outputs of row phase `ph`.
    fn rows(self, ph: usize) -> usize {
        self.block_rows.saturating_sub(ph).div_ceil(self.dilation[0])
    }

    /// Tiles per column phase across the block: those of column phase 0,
    /// which has the most outputs.
    fn across(self) -> usize {
        self.out_cols.div_ceil(self.dilation[1]).div_ceil(self.m)
    }

    /// Tiles per tile row, every column phase's (some of column phases
    /// past the first may have no outputs).
    fn per_row(self) -> usize {
        self.dilation[1] * self.across()
    }

    /// The block's tiles.
    fn count(self) -> usize {
        (0..self.dilation[0])
            .map(|ph| self.rows(ph).div_ceil(self.m))
            .sum::<usize>()
            * self.per_row()
    }

    /// Runs `work` on every chunk of `lanes` tiles (fewer at the end of a
    /// tile row) of the block, in the order of the columns of `V` and `M`.
    /// (Plain loops: an iterator of chunks cost a tenth of the whole
    /// convolution.)
    #[inline(always)]
    fn for_each_chunk(self, lanes: usize, mut work: impl FnMut(Chunk)) {
        let (m, per_row) = (self.m, self.per_row());
        let mut first = 0;
        for ph in 0..self.dilation[0] {
            let out_rows = self.rows(ph);
            for tr in 0..out_rows.div_ceil(m) {
                let mut f0 = 0;
                while f0 < per_row {
                    work(Chunk {
                        ph,
                        tr,
                        f0,
                        col: first + f0,
                        rows: m.min(out_rows - m * tr),
                    });
                    f0 += lanes;
                }
                first += per_row;
            }
        }
    }
}

/// The block tile's shape with its zero margins: `[rows, width]` such that
/// every tile of every phase reads inside it.
fn tile_extent(block_rows: usize, out_cols: usize, [dh, dw]: [usize; 2], m: usize) -> [usize; 2] {
    // Phase 0 has the most tiles along each axis.
    let down = block_rows.div_ceil(dh).div_ceil(m);
    let across = out_cols.div_ceil(dw).div_ceil(m);
    [dh * (m * down + 2), dw * (m * across + 2)]
}

/// How a block tile's rows are kept for the input transform: each row cut
/// into `m` streams of runs of `dw` columns, stream `s` holding the row's
/// runs `s, s + m, s + 2m, …` (run `u` is columns `dw · u .. dw · (u + 1)`).
/// Tile `f = dw · tc + pw` of a tile row (see [`Chunk`]) reads at its
/// input column `l` the padded column `pw + dw · (m · tc + l)`, which is
/// element `f + dw · (l / m)` of stream `l mod m`: the same input of
/// neighbouring tiles is a contiguous run, loaded as one vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Streams {
    count: usize,
    /// Columns per run.
    run: usize,
    /// Elements per stream: the row's, and room for a chunk's last lanes,
    /// rounded up to whole vectors.
    len: usize,
}

impl Streams {
    fn of(tile_width: usize, m: usize, dw: usize) -> Streams {
        Streams {
            count: m,
            run: dw,
            len: (dw * tile_width.div_ceil(m * dw) + dw + LANES).next_multiple_of(LANES),
        }
    }

    /// The elements of one row's streams.
    fn row_len(self) -> usize {
        self.count * self.len
    }

    /// Where element `i` of stream `s` of row `row` lies.
    fn at(self, row: usize, s: usize, i: usize) -> usize {
        (row * self.count + s) * self.len + i
    }

    /// Cuts `row` (`row_len` elements, zeros past the tile's width) into
    /// its streams, `dst`.
    fn split<A: Copy>(self, row: &[A], dst: &mut [A]) {
        match (self.count, self.run) {
            (4, 1) => split_columns(row, self.len, dst),
            (4, 2) => split_by::<A, 2>(row, self.len, dst),
            (4, 3) => split_by::<A, 3>(row, self.len, dst),
            (count, run) => {
                for (i, group) in row.chunks_exact(count * run).take(self.len / run).enumerate() {
                    for (s, values) in group.chunks_exact(run).enumerate() {
                        for (d, &x) in dst[s * self.len + i * run..][..run].iter_mut().zip(values) {
                            *d = x;
                        }
                    }
                }
            }
        }
    }
}

/// [`Streams::split`] for 4 streams of single columns (this form measured
/// faster than [`split_by`]'s for them).
fn split_columns<A: Copy>(row: &[A], len: usize, dst: &mut [A]) {
    let dst = &mut dst[..4 * len];
    for (i, group) in row.chunks_exact(4).take(len).enumerate() {
        for s in 0..4 {
            dst[s * len + i] = group[s];
        }
    }
}

/// [`Streams::split`] for 4 streams of runs of `R` columns, written for
/// constants so that the compiler unrolls it (a copy of a run of variable
/// length is a call to `memmove`).
fn split_by<A: Copy, const R: usize>(row: &[A], len: usize, dst: &mut [A]) {
    let (s0, rest) = dst.split_at_mut(len);
    let (s1, rest) = rest.split_at_mut(len);
    let (s2, rest) = rest.split_at_mut(len);
    let s3 = &mut rest[..len];
    let streams = s0
        .chunks_exact_mut(R)
        .zip(s1.chunks_exact_mut(R))
        .zip(s2.chunks_exact_mut(R))
        .zip(s3.chunks_exact_mut(R));
    for (group, (((a, b), c), d)) in row.chunks_exact(4 * R).zip(streams) {
        a.copy_from_slice(&group[..R]);
        b.copy_from_slice(&group[R..2 * R]);
        c.copy_from_slice(&group[2 * R..3 * R]);
        d.copy_from_slice(&group[3 * R..]);
    }
}

/// Computes `problem` (3×3 kernels, stride 1, real floating point) into
/// `out`, with the transformed weights a plan keeps, or its own.
pub(crate) fn run<A: Float + Real>(problem: &Problem<'_, A>, weights: Option<&Weights<A>>, out: ArrayViewMut4<'_, A>) {
    if out.is_empty() {
        return;
    }
    let kernel = A::MICROKERNEL.expect("f32 and f64 have a micro-kernel");
    let local;
    let weights = match weights {
        Some(w) => w,
        None => {
            local = Weights::new(problem, None);
            &local
        }
    };
    run_tiles::<A, F4, ALPHA, 4>(problem, kernel, &weights.packed, out);
}

fn run_tiles<A: Float + Real, P: Points<AL, M>, const AL: usize, const M: usize>(
    problem: &Problem<'_, A>,
    kernel: Microkernel<A>,
    packed: &PackedWeights<A>,
    out: ArrayViewMut4<'_, A>,
) {
    let [_, out_channels, out_rows, out_cols] = dims4(out.shape());
    let [rows, cols] = problem.geometry;
    let dilation = [rows.dilation, cols.dilation];
    let channels = problem.weight.shape()[1];
    let groups = problem.groups.max(1);
    let outputs = out_channels / groups;
    let nr = (kernel.panel_width)();
    // Whole tile rows of every phase per block, enough for `BLOCK_TILES`.
    let unit = M * dilation[0];
    let phases = |block_rows| Phases {
        block_rows,
        out_cols,
        dilation,
        m: M,
    };
    let unit_tiles = phases(unit).count();
    let wanted = unit * (BLOCK_TILES / unit_tiles.max(1)).max(1);
    let rows_per_block = rows_per_block(problem, wanted, out_rows, out_cols);
    // The row stride of `V` and `M`: the products' columns (whole panels),
    // and room for the lanes of the last chunk past the last tile.
    let stride = |tiles: usize| tiles.next_multiple_of(nr) + LANES;
    let full_stride = stride(phases(rows_per_block).count());
    let [full_h, full_w] = tile_extent(rows_per_block, out_cols, dilation, M);
    let full_streams = Streams::of(full_w, M, dilation[1]).row_len();

    let local = Workspace::default();
    let workspace = workspace(problem, &local);
    workspace.prepare_buffers(
        block_count(out.shape()[0], out_rows, rows_per_block),
        ScratchLens {
            tile: (full_h + 1) * full_streams,
            patches: AL * AL * channels * full_stride,
            product: AL * AL * outputs * full_stride,
        },
    );
    let arch = pulp::Arch::new();
    for_each_block(out, rows_per_block, |mut block| {
        let block_rows = block.out.shape()[1];
        let phases = phases(block_rows);
        let tiles = phases.count();
        let stride = stride(tiles);
        let [tile_h, tile_w] = tile_extent(block_rows, out_cols, dilation, M);
        let streams = Streams::of(tile_w, M, dilation[1]);
        let real = TileShape::of(problem, block_rows, out_cols);
        let width = real.width.min(tile_w);
        let image = problem.input.index_axis(Axis(0), block.n);
        workspace.with(|scratch| {
            let split_len = tile_h * streams.row_len();
            let tile = prefix(
                &mut scratch.tile,
                split_len + streams.row_len(),
                (full_h + 1) * full_streams,
            );
            let (split, row) = tile.split_at_mut(split_len);
            // Past the block's real columns the padded row stays zero.
            row[width..].fill(A::zero());
            let v = prefix(
                &mut scratch.patches,
                AL * AL * channels * stride,
                AL * AL * channels * full_stride,
            );
            let m = prefix(
                &mut scratch.product,
                AL * AL * outputs * stride,
                AL * AL * outputs * full_stride,
            );
            let offsets = &mut scratch.offsets;
            offsets.clear();
            offsets.extend((0..channels).map(|c| c * stride));
            for g in 0..groups {
                for c in 0..channels {
                    let plane = image.index_axis(Axis(0), g * channels + c);
                    for (t, dst) in split.chunks_exact_mut(streams.row_len()).enumerate() {
                        let data = &mut row[..width];
                        if t < real.rows {
                            fill_tile(problem, plane, block.row0 + t, TileShape { rows: 1, width }, data);
                        } else {
                            data.fill(A::zero());
                        }
                        streams.split(row, dst);
                    }
                    arch.dispatch(InputTask::<A, P, AL, M> {
                        split,
                        streams,
                        phases,
                        v,
                        plane: channels * stride,
                        first: c * stride,
                        _points: PhantomData,
                    });
                }
                for xi in 0..AL * AL {
                    let operands = Operands {
                        weights: packed.group(xi * groups + g),
                        patches: Patches::Rows {
                            source: &v[xi * channels * stride..][..channels * stride],
                            offsets: offsets.as_slice(),
                        },
                        rows: outputs,
                        depth: channels,
                        columns: tiles.next_multiple_of(nr),
                    };
                    (kernel.multiply)(operands, &mut m[xi * outputs * stride..][..outputs * stride], stride);
                }
                for o in 0..outputs {
                    let channel = g * outputs + o;
                    arch.dispatch(OutputTask::<A, P, AL, M> {
                        m,
                        plane: outputs * stride,
                        first: o * stride,
                        phases,
                        bias: problem.bias.as_ref().map_or(A::zero(), |b| b[channel]),
                        out: block.out.index_axis_mut(Axis(0), channel),
                        _points: PhantomData,
                    });
                }
            }
        });
    });
}

/// The input transform of one channel's block tile into `V`, run by
/// `pulp` with the best instruction set the CPU has.
struct InputTask<'a, A, P, const AL: usize, const M: usize> {
    /// The block tile's rows in streams.
    split: &'a [A],
    streams: Streams,
    phases: Phases,
    /// `V`: frequency `ξ`'s values of this channel at
    /// `v[ξ · plane + first + tile]`, with room for `LANES` values from
    /// the last tile on.
    v: &'a mut [A],
    plane: usize,
    first: usize,
    _points: PhantomData<P>,
}

impl<A: Float + Real, P: Points<AL, M>, const AL: usize, const M: usize> pulp::WithSimd for InputTask<'_, A, P, AL, M> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let InputTask {
            split,
            streams,
            phases,
            v,
            plane,
            first,
            ..
        } = self;
        let [dh, dw] = phases.dilation;
        // The lanes past a chunk's last tile belong to the next chunk (or to
        // no tile): they are written first here and rewritten by it.
        let lanes = lanes::<S, A>();
        let zero = Lanes {
            simd,
            values: A::splat(simd, A::zero()),
        };
        phases.for_each_chunk(lanes, |chunk| {
            let row = chunk.ph + dh * M * chunk.tr;
            let mut d = [[zero; AL]; AL];
            for (k, d_k) in d.iter_mut().enumerate() {
                for (l, d_kl) in d_k.iter_mut().enumerate() {
                    let at = streams.at(row + dh * k, l % M, chunk.f0 + dw * (l / M));
                    *d_kl = Lanes::load(simd, &split[at..]);
                }
            }
            let transformed = input_2d::<_, P, AL, M>(d);
            for (i, row) in transformed.iter().enumerate() {
                for (j, value) in row.iter().enumerate() {
                    let at = (i * AL + j) * plane + first + chunk.col;
                    v[at..at + lanes].copy_from_slice(value.as_slice());
                }
            }
        });
    }
}

/// The output transform of one output channel's products into the block's
/// output plane, bias added, run by `pulp` with the best instruction set
/// the CPU has.
struct OutputTask<'a, 'o, A, P, const AL: usize, const M: usize> {
    /// `M`: frequency `ξ`'s products of this channel at
    /// `m[ξ · plane + first + tile]`, with room for `LANES` values from
    /// the last tile on.
    m: &'a [A],
    plane: usize,
    first: usize,
    phases: Phases,
    bias: A,
    /// `[rows, Wo]` of the block.
    out: ArrayViewMut2<'o, A>,
    _points: PhantomData<P>,
}

impl<A: Float + Real, P: Points<AL, M>, const AL: usize, const M: usize> pulp::WithSimd
    for OutputTask<'_, '_, A, P, AL, M>
{
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let OutputTask {
            m,
            plane,
            first,
            phases,
            bias,
            mut out,
            ..
        } = self;
        let [dh, dw] = phases.dilation;
        let out_cols = out.ncols();
        let lanes = lanes::<S, A>();
        let bias = Lanes {
            simd,
            values: A::splat(simd, bias),
        };
        phases.for_each_chunk(lanes, |chunk| {
            let mut freq = [[bias; AL]; AL];
            for (i, freq_i) in freq.iter_mut().enumerate() {
                for (j, freq_ij) in freq_i.iter_mut().enumerate() {
                    *freq_ij = Lanes::load(simd, &m[(i * AL + j) * plane + first + chunk.col..]);
                }
            }
            let y = output_2d::<_, P, AL, M>(freq);
            for (r, y_r) in y.iter().enumerate().take(chunk.rows) {
                let mut dst = out.row_mut(chunk.ph + dh * (M * chunk.tr + r));
                if dw == 1 {
                    // The chunk's outputs in this row, tile after tile.
                    let mut values = [[A::zero(); M]; LANES];
                    for (c, &y_rc) in y_r.iter().enumerate() {
                        for (tile, &value) in values.iter_mut().zip((y_rc + bias).as_slice()) {
                            tile[c] = value;
                        }
                    }
                    // Tiles side by side: one run of outputs.
                    let col = M * chunk.f0;
                    let whole = values.as_flattened();
                    let count = (M * lanes).min(out_cols - col);
                    match dst.as_slice_mut() {
                        // A whole chunk as a copy of constant length: a
                        // variable one is a call to `memmove`.
                        Some(dst) if count == whole.len() => dst[col..col + count].copy_from_slice(whole),
                        Some(dst) => dst[col..col + count].copy_from_slice(&whole[..count]),
                        None => {
                            for (q, &value) in whole[..count].iter().enumerate() {
                                dst[col + q] = value;
                            }
                        }
                    }
                } else {
                    // Tile `f` writes columns `pw + dw · (m · tc + c)`.
                    for (c, &y_rc) in y_r.iter().enumerate() {
                        let (mut tc, mut pw) = (chunk.f0 / dw, chunk.f0 % dw);
                        for &value in (y_rc + bias).as_slice() {
                            let col = pw + dw * (M * tc + c);
                            if col < out_cols {
                                dst[col] = value;
                            }
                            pw += 1;
                            if pw == dw {
                                (tc, pw) = (tc + 1, 0);
                            }
                        }
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{array, Array2, Array4};

    use super::*;
    use crate::conv::kernels::check::{check_kernel, problem, run_poisoned, sweep, Case, Sample, EDGES};
    use crate::conv::kernels::direct;
    use crate::options::ConvOptions;

    /// The sweep's problems Winograd takes: 3×3 kernels at stride 1.
    fn three_by_three() -> impl Iterator<Item = Case> {
        sweep()
            .into_iter()
            .filter(|case| case.unit_stride() && case.kernel == [3, 3])
    }

    /// `run` with the weights transformed ahead, as a plan keeps them,
    /// after a run over a larger poisoned input has used the buffers.
    fn run_prepared<A: Float + Real + Sample>(problem: &Problem<'_, A>, out: ArrayViewMut4<'_, A>) {
        let weights = Weights::new(problem, None);
        run_poisoned(problem, 7, |p, o| run(p, Some(&weights), o));
        run(problem, Some(&weights), out);
    }

    #[test]
    fn f32_matches_the_reference() {
        check_kernel::<f32>("winograd", three_by_three(), |p, out| run(p, None, out));
    }

    #[test]
    fn f64_matches_the_reference() {
        check_kernel::<f64>("winograd", three_by_three(), |p, out| run(p, None, out));
    }

    #[test]
    fn prepared_weights_match_the_reference_after_a_poisoned_run() {
        check_kernel::<f32>("winograd, prepared", three_by_three(), run_prepared);
        check_kernel::<f64>("winograd, prepared", three_by_three(), run_prepared);
    }

    /// Wide, tall, dilated and grouped problems: several blocks, partial
    /// tiles and chunks of tiles along both axes, every phase.
    #[test]
    fn blocks_phases_and_partial_tiles() {
        let cases = [
            Case::new([2, 3, 37, 45], 5, [3, 3])
                .padding(crate::Padding::uniform(1))
                .bias(),
            Case::new([1, 4, 29, 70], 6, [3, 3])
                .groups(2)
                .dilation(2, 3)
                .padding(crate::Padding::Same),
            Case::new([1, 2, 23, 9], 3, [3, 3]).dilation(3, 1).edge(EDGES[2]),
            Case::new([1, 1, 3, 3], 1, [3, 3]),
            Case::new([1, 2, 5, 4], 2, [3, 3])
                .dilation(2, 2)
                .padding(crate::Padding::Full),
        ];
        check_kernel::<f32>("winograd", cases, |p, out| run(p, None, out));
        check_kernel::<f64>("winograd", cases, |p, out| run(p, None, out));
    }

    /// `y[r] = Σ_k d[r + k] g[k]`, the 1-D correlation each transform pair
    /// computes.
    fn correlate(d: &[f64], g: [f64; 3], outputs: usize) -> Vec<f64> {
        (0..outputs).map(|r| (0..3).map(|k| d[r + k] * g[k]).sum()).collect()
    }

    /// `Aᵀ [(G g) ⊙ (Bᵀ d)]` in one dimension.
    fn one_d<P: Points<AL, M>, const AL: usize, const M: usize>(d: [f64; AL], g: [f64; 3]) -> Vec<f64> {
        let v = P::input(d);
        let u = P::weight(g);
        P::output(std::array::from_fn(|i| v[i] * u[i])).to_vec()
    }

    #[test]
    fn one_dimensional_transforms_correlate() {
        let d = [0.5, -1.25, 2.0, 3.5, -0.75, 1.5];
        let g = [0.25, -2.0, 1.5];
        let close = |got: Vec<f64>, want: Vec<f64>| {
            assert_eq!(got.len(), want.len());
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "{got:?} vs {want:?}");
            }
        };
        close(one_d::<F4, 6, 4>(d, g), correlate(&d, g, 4));
    }

    #[test]
    fn input_transform_by_hand() {
        // Bᵀ d for d = (1, 2, 3, 4, 5, 6), the rows of Bᵀ in the docs:
        // 4 − 15 + 5 = −6; −8 − 12 + 4 + 5 = −11; 8 − 12 − 4 + 5 = −3;
        // −4 − 3 + 8 + 5 = 6; 4 − 3 − 8 + 5 = −2; 8 − 20 + 6 = −6.
        let t = F4::input([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(t, [-6.0, -11.0, -3.0, 6.0, -2.0, -6.0]);
    }

    #[test]
    fn output_and_weight_transforms_by_hand() {
        // Aᵀ m for m = (1, 2, 3, 4, 5, 6): 1+2+3+4+5 = 15;
        // 2 − 3 + 2(4 − 5) = −3; 2 + 3 + 4(4 + 5) = 41;
        // 2 − 3 + 8(4 − 5) + 6 = −3.
        let y = F4::output([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(y, [15.0, -3.0, 41.0, -3.0]);
        // G g for g = (24, 12, 6): 6; −42/6 = −7; −18/6 = −3;
        // 1 + 1 + 1 = 3; 1 − 1 + 1 = 1; 6.
        assert_eq!(F4::weight([24.0, 12.0, 6.0]), [6.0, -7.0, -3.0, 3.0, 1.0, 6.0]);
    }

    #[test]
    fn two_dimensional_tile_against_the_definition() {
        // One 6×6 tile through a 3×3 kernel: the 4×4 correlation.
        let d = Array2::from_shape_fn((6, 6), |(k, l)| ((k * 7 + l * 3) % 11) as f64 - 5.0);
        let g = array![[1.0, -2.0, 0.5], [3.0, 0.25, -1.0], [-0.5, 2.0, 1.5]];
        let v = input_2d::<_, F4, 6, 4>(std::array::from_fn(|k| std::array::from_fn(|l| d[[k, l]])));
        let w = Array4::from_shape_fn((1, 1, 3, 3), |(_, _, a, b)| g[[a, b]]);
        let mut taps = Vec::new();
        transform_weights::<f64, F4, 6, 4>(w.view(), &mut taps);
        let m: [[f64; 6]; 6] = std::array::from_fn(|i| std::array::from_fn(|j| v[i][j] * taps[i * 6 + j]));
        let y = output_2d::<_, F4, 6, 4>(m);
        for r in 0..4 {
            for c in 0..4 {
                let want: f64 = (0..3)
                    .flat_map(|a| (0..3).map(move |b| (a, b)))
                    .map(|(a, b)| d[[r + a, c + b]] * g[[a, b]])
                    .sum();
                assert!((y[r][c] - want).abs() < 1e-12, "({r}, {c}): {} vs {want}", y[r][c]);
            }
        }
    }

    /// The chunks of `phases`, `LANES` tiles wide.
    fn chunks(phases: Phases) -> Vec<Chunk> {
        let mut list = Vec::new();
        phases.for_each_chunk(LANES, |c| list.push(c));
        list
    }

    /// Every output of `phases`, counted once per tile that covers it.
    fn coverage(phases: Phases) -> Vec<Vec<usize>> {
        let [dh, dw] = phases.dilation;
        let m = phases.m;
        let mut seen = vec![vec![0; phases.out_cols]; phases.block_rows];
        phases.for_each_chunk(LANES, |chunk| {
            for f in (chunk.f0..chunk.f0 + LANES).take_while(|&f| f < phases.per_row()) {
                let (tc, pw) = (f / dw, f % dw);
                for r in 0..chunk.rows {
                    for c in 0..m {
                        let col = pw + dw * (m * tc + c);
                        if col < phases.out_cols {
                            seen[chunk.ph + dh * (m * chunk.tr + r)][col] += 1;
                        }
                    }
                }
            }
        });
        seen
    }

    #[test]
    fn phases_and_chunks_cover_the_block_once() {
        // 7 rows × 10 columns at dilation (2, 3), tiles of 4: row phases of
        // rows 0,2,4,6 (4) and 1,3,5 (3), one tile row each; column phases
        // 0,3,6,9 (4), 1,4,7 (3) and 2,5,8 (3), one tile each, three tiles a
        // tile row in one chunk.
        let phases = Phases {
            block_rows: 7,
            out_cols: 10,
            dilation: [2, 3],
            m: 4,
        };
        assert_eq!(
            (phases.rows(0), phases.rows(1), phases.per_row(), phases.count()),
            (4, 3, 3, 6)
        );
        let want = [
            Chunk {
                ph: 0,
                tr: 0,
                f0: 0,
                col: 0,
                rows: 4,
            },
            Chunk {
                ph: 1,
                tr: 0,
                f0: 0,
                col: 3,
                rows: 3,
            },
        ];
        assert_eq!(chunks(phases), want);
        assert!(coverage(phases).iter().flatten().all(|&n| n == 1));
        // Tiles of 2 over 5 × 5, undilated: 3 × 3 tiles, one chunk per tile
        // row, the last row cut to one output.
        let plain = Phases {
            block_rows: 5,
            out_cols: 5,
            dilation: [1, 1],
            m: 2,
        };
        let list = chunks(plain);
        let want = Chunk {
            ph: 0,
            tr: 2,
            f0: 0,
            col: 6,
            rows: 1,
        };
        assert_eq!((list.len(), list[2]), (3, want));
        assert!(coverage(plain).iter().flatten().all(|&n| n == 1));
        // 150 columns in tiles of 4: 38 tiles a row, in chunks of 16, 16
        // and 6 tiles, numbered on across rows.
        let wide = Phases {
            block_rows: 8,
            out_cols: 150,
            dilation: [1, 1],
            m: 4,
        };
        let list: Vec<(usize, usize)> = chunks(wide).iter().map(|c| (c.f0, c.col)).collect();
        assert_eq!(list, [(0, 0), (16, 16), (32, 32), (0, 38), (16, 54), (32, 70)]);
        assert!(coverage(wide).iter().flatten().all(|&n| n == 1));
        // Dilation (3, 2) over 9 × 70: 35 columns a column phase, 9 tiles,
        // 18 a tile row, in chunks of 16 and 2.
        let dilated = Phases {
            block_rows: 9,
            out_cols: 70,
            dilation: [3, 2],
            m: 4,
        };
        assert_eq!((dilated.per_row(), dilated.count(), chunks(dilated).len()), (18, 54, 6));
        assert!(coverage(dilated).iter().flatten().all(|&n| n == 1));
        // More phases than outputs: a phase can be empty, and the second
        // column phase's tile has no output.
        let tiny = Phases {
            block_rows: 1,
            out_cols: 1,
            dilation: [2, 2],
            m: 2,
        };
        assert_eq!((tiny.rows(1), tiny.count(), chunks(tiny).len()), (0, 2, 1));
        assert!(coverage(tiny).iter().flatten().all(|&n| n == 1));
    }

    /// Splits rows into streams: tiles of 4 at column dilation 1, 2 and 3
    /// make 4 streams of runs of 1 (by the unrolled loop), 2 and 3 columns.
    /// Element `i` of stream `s` is column `dw · (s + 4 · (i / dw)) + i mod
    /// dw`.
    fn check_split<A: Float + Sample>() {
        for dw in 1..=3 {
            let streams = Streams::of(30, 4, dw);
            assert_eq!((streams.count, streams.run), (4, dw));
            assert!(streams.len % LANES == 0 && streams.len >= dw * 30usize.div_ceil(4 * dw) + dw + LANES);
            let row: Vec<A> = (0..streams.row_len()).map(|x| A::from(x).unwrap()).collect();
            let mut dst = vec![A::POISON; 2 * streams.row_len()];
            streams.split(&row, &mut dst[streams.row_len()..]);
            for s in 0..streams.count {
                for i in 0..streams.len / dw * dw {
                    let want = A::from(dw * (s + 4 * (i / dw)) + i % dw).unwrap();
                    assert_eq!(dst[streams.at(1, s, i)], want, "{dw}: {s}, {i}");
                }
            }
            assert!(dst[..streams.row_len()].iter().all(|x| x.is_poison()));
        }
    }

    #[test]
    fn rows_split_into_streams() {
        check_split::<f32>();
        check_split::<f64>();
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let x = Array4::from_shape_fn((2, 8, 30, 41), |(n, c, h, w)| {
            ((n * 31 + c * 17 + h * 7 + w * 3) % 23) as f32 - 11.0
        });
        let w = Array4::from_shape_fn((8, 8, 3, 3), |(o, c, a, b)| {
            ((o * 5 + c * 3 + a * 2 + b) % 7) as f32 * 0.125 - 0.4
        });
        let p = problem(
            x.view(),
            w.view(),
            None,
            &ConvOptions::new().padding(crate::Padding::Same),
        );
        let at = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut out = Array4::from_elem(p.output_shape(), f32::NAN);
            pool.install(|| run(&p, None, out.view_mut()));
            out
        };
        let one = at(1);
        assert_eq!(one, at(2));
        assert_eq!(one, at(3));
        let mut want = Array4::zeros(p.output_shape());
        direct::run(&p, want.view_mut());
        assert!(one.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-3));
    }
}
