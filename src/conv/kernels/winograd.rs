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
//! run by `exec::matmul`, so the multiplies land where the crate's matrix
//! product is fastest. The tile is `F(4×4, 3×3)` (`m = 4`, `α = 6`): 4×
//! fewer multiplies than the definition. Its `f32` error on adversarial
//! data stays within the crate's promise of 1e-4 of the largest output
//! (`docs/algorithms.md` has the measurements), so the smaller and more
//! accurate `F(2×2, 3×3)` (2.25× fewer) is not needed; the transforms are
//! written generically over the tile ([`Points`]) so that another set of
//! points is one more implementation.
//!
//! The output is cut into blocks of output rows ([`for_each_block`]); for
//! each block and group, every input channel's padded rows are copied into
//! a tile (through the boundary rule, as every kernel reads its input) and
//! transformed into `V`, the `α²` products give `M`, and the output
//! transform writes each tile straight into the output, bias added and
//! partial edge tiles cut. Only one block's `V` and `M` exist at a time, in
//! pooled scratch. Both transforms run on `LANES` tiles at a time, each
//! stage a plain loop over the lanes that the compiler vectorizes for the
//! instruction set `pulp` picks at run time.
//!
//! A dilated kernel at stride 1 reads interleaved inputs: output row
//! `y = ph + d·s` reads padded rows `ph + d·(s + a)` only. So with dilation
//! `(dh, dw)` the block splits into `dh · dw` undilated stride-1
//! sub-problems (phases), each reading every `d`-th row and column of the
//! block's tile; their tiles share one `V` and one matrix product per
//! frequency.
//!
//! A NaN or an infinity in an input tile turns that tile's outputs (all
//! `m × m` of them) into NaN, as the transforms mix every input of the
//! tile. The planner runs this path only when it is asked for
//! (`docs/algorithms.md` says why).

use std::marker::PhantomData;
use std::ops::{Add, Sub};

use ndarray::{ArrayView2, ArrayView4, ArrayViewMut2, ArrayViewMut4, Axis};

use crate::conv::element::Float;
use crate::conv::exec::blocks::{block_count, for_each_block};
use crate::conv::exec::matmul::matmul;
use crate::conv::exec::scratch::{prefix, workspace, ScratchLens, Workspace};
use crate::conv::exec::tile::{fill_tile, rows_per_block, TileShape};
use crate::conv::problem::{dims4, Problem};

/// Tiles transformed together: one AVX-512 register of `f32` per value of
/// a tile, so each stage of a transform is one vector operation. The
/// matrices' columns come in whole chunks of `LANES`, so that every chunk
/// is read and written whole, and (a multiple of 16) the `gemm` crate
/// reads them in place, as in the GEMM kernel.
const LANES: usize = 16;

/// The number of tiles a block aims at: the width of its matrix products.
/// Wider products run closer to the matrix kernel's peak, but `V` and `M`
/// (`α² · channels · tiles` each) must stay in the L2 cache.
const BLOCK_TILES: usize = 32;

/// The transformed weights `U`: `[α², O, C/G]`, each frequency's matrix
/// `U[ξ]` for group `g` its rows `g·O/G .. (g+1)·O/G`. (`pub` only because
/// the sealed element `Capabilities` name it; the module is private.)
pub struct Weights<A> {
    taps: Vec<A>,
}

impl<A: Float> Weights<A> {
    /// The transform of `problem`'s weights (which must be 3×3), computed
    /// in `f64` and rounded once to `A`; `reuse` gives its buffer, if any,
    /// so that new weights of a plan allocate nothing.
    pub(crate) fn new(problem: &Problem<'_, A>, reuse: Option<Weights<A>>) -> Weights<A> {
        let mut taps = reuse.map(|w| w.taps).unwrap_or_default();
        transform_weights::<A, F4, 6, 4>(problem.weight, &mut taps);
        Weights { taps }
    }
}

/// Fills `taps` with `U = G g Gᵀ` of every kernel of `weight`, `[α², O, C/G]`.
fn transform_weights<A: Float, P: Points<AL, M>, const AL: usize, const M: usize>(
    weight: ArrayView4<'_, A>,
    taps: &mut Vec<A>,
) {
    let [outs, channels, kh, kw] = dims4(weight.shape());
    assert!(kh == 3 && kw == 3, "Winograd weights of a {kh}×{kw} kernel");
    taps.clear();
    taps.resize(AL * AL * outs * channels, A::zero());
    let plane = outs * channels;
    for o in 0..outs {
        for c in 0..channels {
            let g = |a: usize, b: usize| weight[[o, c, a, b]].to_f64().unwrap_or(f64::NAN);
            // G along the kernel's columns, then along its rows.
            let columns: [[f64; AL]; 3] = std::array::from_fn(|a| P::weight([g(a, 0), g(a, 1), g(a, 2)]));
            for j in 0..AL {
                let u = P::weight([columns[0][j], columns[1][j], columns[2][j]]);
                for (i, &v) in u.iter().enumerate() {
                    taps[(i * AL + j) * plane + o * channels + c] = A::from(v).unwrap_or(A::nan());
                }
            }
        }
    }
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

/// `LANES` values of as many tiles, transformed together.
#[derive(Clone, Copy)]
struct Lanes<A>([A; LANES]);

impl<A: Float> Add for Lanes<A> {
    type Output = Self;
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Lanes(std::array::from_fn(|l| self.0[l] + other.0[l]))
    }
}

impl<A: Float> Sub for Lanes<A> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        Lanes(std::array::from_fn(|l| self.0[l] - other.0[l]))
    }
}

impl<A: Float> Linear for Lanes<A> {
    #[inline(always)]
    fn times(self, k: f64) -> Self {
        let k = A::from(k).unwrap_or(A::nan());
        Lanes(self.0.map(|v| v * k))
    }
}

/// `Bᵀ d B` of `LANES` tiles: `d[k][l]` holds input row `k`, column `l`.
#[inline(always)]
fn input_2d<V: Linear, P: Points<AL, M>, const AL: usize, const M: usize>(d: [[V; AL]; AL]) -> [[V; AL]; AL] {
    let columns: [[V; AL]; AL] = std::array::from_fn(|l| P::input(std::array::from_fn(|k| d[k][l])));
    // `columns[l][i]` is row `i` of `Bᵀ d`, column `l`.
    std::array::from_fn(|i| P::input(std::array::from_fn(|l| columns[l][i])))
}

/// `Aᵀ m A` of `LANES` tiles: `m[i][j]` is frequency `(i, j)`; the result
/// holds output row `r`, column `c` at `[r][c]`.
#[inline(always)]
fn output_2d<V: Linear, P: Points<AL, M>, const AL: usize, const M: usize>(m: [[V; AL]; AL]) -> [[V; M]; M] {
    let columns: [[V; M]; AL] = std::array::from_fn(|j| P::output(std::array::from_fn(|i| m[i][j])));
    std::array::from_fn(|r| P::output(std::array::from_fn(|j| columns[j][r])))
}

/// Phase `(ph, pw)` of a block (see the module docs): its outputs and
/// tiles down and across.
#[derive(Clone, Copy, Debug)]
struct Phase {
    ph: usize,
    pw: usize,
    out: [usize; 2],
    tiles: [usize; 2],
}

/// One tile of a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct TileAt {
    /// Where its first input lies in the block tile.
    input: usize,
    /// Its first output's row and column in the block.
    row: usize,
    col: usize,
    /// The outputs it has down and across: fewer than `m` at the edges.
    rows: usize,
    cols: usize,
}

/// The phases of a block of `block_rows × out_cols` outputs with dilation
/// `[dh, dw]` and tiles of `m` outputs a side.
#[derive(Clone, Copy, Debug)]
struct Phases {
    block_rows: usize,
    out_cols: usize,
    dilation: [usize; 2],
    m: usize,
}

impl Phases {
    /// Every phase, rows first.
    fn iter(self) -> impl Iterator<Item = Phase> {
        let [dh, dw] = self.dilation;
        // Outputs `p, p + d, …` below `len`.
        let count = |len: usize, p: usize, d: usize| len.saturating_sub(p).div_ceil(d);
        (0..dh).flat_map(move |ph| {
            (0..dw).map(move |pw| {
                let out = [count(self.block_rows, ph, dh), count(self.out_cols, pw, dw)];
                Phase {
                    ph,
                    pw,
                    out,
                    tiles: [out[0].div_ceil(self.m), out[1].div_ceil(self.m)],
                }
            })
        })
    }

    /// The block's tiles, every phase's.
    fn count(self) -> usize {
        self.iter().map(|p| p.tiles[0] * p.tiles[1]).sum()
    }

    /// Every tile of the block, phase by phase and row by row (the order
    /// of the columns of `V` and `M`), in a block tile of rows `width`
    /// long.
    fn tiles(self, width: usize) -> Tiles {
        Tiles {
            phases: self,
            width,
            phase: self.iter().next(),
            index: 0,
            tr: 0,
            tc: 0,
        }
    }

    /// Phase `index` of [`Phases::iter`].
    fn phase(self, index: usize) -> Option<Phase> {
        let [dh, dw] = self.dilation;
        (index < dh * dw).then(|| self.iter().nth(index)).flatten()
    }
}

/// The iterator of [`Phases::tiles`]: counters rather than nested
/// adaptors, as it runs once per tile and channel.
struct Tiles {
    phases: Phases,
    width: usize,
    phase: Option<Phase>,
    index: usize,
    tr: usize,
    tc: usize,
}

impl Iterator for Tiles {
    type Item = TileAt;

    #[inline]
    fn next(&mut self) -> Option<TileAt> {
        loop {
            let p = self.phase?;
            if self.tr < p.tiles[0] && self.tc < p.tiles[1] {
                let [dh, dw] = self.phases.dilation;
                let m = self.phases.m;
                let (row, col) = (p.ph + dh * m * self.tr, p.pw + dw * m * self.tc);
                let tile = TileAt {
                    input: row * self.width + col,
                    row,
                    col,
                    rows: m.min(p.out[0] - m * self.tr),
                    cols: m.min(p.out[1] - m * self.tc),
                };
                self.tc += 1;
                if self.tc == p.tiles[1] {
                    self.tc = 0;
                    self.tr += 1;
                }
                return Some(tile);
            }
            self.index += 1;
            self.phase = self.phases.phase(self.index);
            (self.tr, self.tc) = (0, 0);
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

/// Computes `problem` (3×3 kernels, stride 1, real floating point) into
/// `out`, with the transformed weights a plan keeps, or its own.
pub(crate) fn run<A: Float>(problem: &Problem<'_, A>, weights: Option<&Weights<A>>, out: ArrayViewMut4<'_, A>) {
    if out.is_empty() {
        return;
    }
    let local;
    let weights = match weights {
        Some(w) => w,
        None => {
            local = Weights::new(problem, None);
            &local
        }
    };
    run_tiles::<A, F4, 6, 4>(problem, &weights.taps, out);
}

fn run_tiles<A: Float, P: Points<AL, M>, const AL: usize, const M: usize>(
    problem: &Problem<'_, A>,
    taps: &[A],
    out: ArrayViewMut4<'_, A>,
) {
    let [_, out_channels, out_rows, out_cols] = dims4(out.shape());
    let [rows, cols] = problem.geometry;
    let dilation = [rows.dilation, cols.dilation];
    let channels = problem.weight.shape()[1];
    let outputs = out_channels / problem.groups;
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
    let full_columns = phases(rows_per_block).count().next_multiple_of(LANES);
    let [full_h, full_w] = tile_extent(rows_per_block, out_cols, dilation, M);

    let local = Workspace::default();
    let workspace = workspace(problem, &local);
    workspace.prepare_buffers(
        block_count(out.shape()[0], out_rows, rows_per_block),
        ScratchLens {
            tile: full_h * full_w,
            patches: AL * AL * channels * full_columns,
            product: AL * AL * outputs * full_columns,
        },
    );
    let arch = pulp::Arch::new();
    for_each_block(out, rows_per_block, |mut block| {
        let block_rows = block.out.shape()[1];
        let phases = phases(block_rows);
        let columns = phases.count().next_multiple_of(LANES);
        let [tile_h, tile_w] = tile_extent(block_rows, out_cols, dilation, M);
        let real = TileShape::of(problem, block_rows, out_cols);
        let image = problem.input.index_axis(Axis(0), block.n);
        workspace.with(|scratch| {
            let tile = prefix(&mut scratch.tile, tile_h * tile_w, full_h * full_w);
            let v = prefix(
                &mut scratch.patches,
                AL * AL * channels * columns,
                AL * AL * channels * full_columns,
            );
            let m = prefix(
                &mut scratch.product,
                AL * AL * outputs * columns,
                AL * AL * outputs * full_columns,
            );
            for g in 0..problem.groups {
                for c in 0..channels {
                    let plane = image.index_axis(Axis(0), g * channels + c);
                    // The block's padded rows, then zeros to the margins.
                    for (t, row) in tile.chunks_exact_mut(tile_w).enumerate() {
                        let (data, margin) = row.split_at_mut(real.width.min(tile_w));
                        if t < real.rows {
                            let one = TileShape {
                                rows: 1,
                                width: data.len(),
                            };
                            fill_tile(problem, plane, block.row0 + t, one, data);
                            margin.fill(A::zero());
                        } else {
                            row.fill(A::zero());
                        }
                    }
                    arch.dispatch(InputTask::<A, P, AL, M> {
                        tile,
                        width: tile_w,
                        phases,
                        v,
                        plane: channels * columns,
                        first: c * columns,
                        _points: PhantomData,
                    });
                }
                let u_plane = out_channels * channels;
                for xi in 0..AL * AL {
                    let u = &taps[xi * u_plane + g * outputs * channels..][..outputs * channels];
                    let u = ArrayView2::from_shape((outputs, channels), u).expect("O/G × C/G weights");
                    let v = &v[xi * channels * columns..][..channels * columns];
                    let v = ArrayView2::from_shape((channels, columns), v).expect("C/G × tiles inputs");
                    let m = &mut m[xi * outputs * columns..][..outputs * columns];
                    let m = ArrayViewMut2::from_shape((outputs, columns), m).expect("O/G × tiles products");
                    matmul(u, v, m);
                }
                for o in 0..outputs {
                    let channel = g * outputs + o;
                    arch.dispatch(OutputTask::<A, P, AL, M> {
                        m,
                        plane: outputs * columns,
                        first: o * columns,
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
    /// The block tile with its zero margins, rows `width` long.
    tile: &'a [A],
    width: usize,
    phases: Phases,
    /// `V`: frequency `ξ`'s values of this channel at
    /// `v[ξ · plane + first + tile]`, room for a whole number of chunks.
    v: &'a mut [A],
    plane: usize,
    first: usize,
    _points: PhantomData<P>,
}

impl<A: Float, P: Points<AL, M>, const AL: usize, const M: usize> pulp::WithSimd for InputTask<'_, A, P, AL, M> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let [dh, dw] = self.phases.dilation;
        let row_step = dh * self.width;
        let mut tiles = self.phases.tiles(self.width);
        let mut d = [[Lanes([A::zero(); LANES]); AL]; AL];
        for f0 in (0..self.phases.count()).step_by(LANES) {
            // Lanes past the last tile read the first tile's inputs; their
            // results land in columns nothing reads.
            for lane in 0..LANES {
                let input = tiles.next().map_or(0, |t| t.input);
                for (k, d_k) in d.iter_mut().enumerate() {
                    let src = &self.tile[input + k * row_step..];
                    if dw == 1 {
                        let src: &[A; AL] = src[..AL].try_into().expect("a tile row");
                        for (d_kl, &x) in d_k.iter_mut().zip(src) {
                            d_kl.0[lane] = x;
                        }
                    } else {
                        for (l, d_kl) in d_k.iter_mut().enumerate() {
                            d_kl.0[lane] = src[l * dw];
                        }
                    }
                }
            }
            let v = input_2d::<_, P, AL, M>(d);
            for (xi, value) in v.iter().flatten().enumerate() {
                let at = xi * self.plane + self.first + f0;
                let dst: &mut [A; LANES] = (&mut self.v[at..at + LANES]).try_into().expect("a chunk");
                *dst = value.0;
            }
        }
    }
}

/// The output transform of one output channel's products into the block's
/// output plane, bias added, run by `pulp` with the best instruction set
/// the CPU has.
struct OutputTask<'a, 'o, A, P, const AL: usize, const M: usize> {
    /// `M`: frequency `ξ`'s products of this channel at
    /// `m[ξ · plane + first + tile]`, room for a whole number of chunks.
    m: &'a [A],
    plane: usize,
    first: usize,
    phases: Phases,
    bias: A,
    /// `[rows, Wo]` of the block.
    out: ArrayViewMut2<'o, A>,
    _points: PhantomData<P>,
}

impl<A: Float, P: Points<AL, M>, const AL: usize, const M: usize> pulp::WithSimd for OutputTask<'_, '_, A, P, AL, M> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let OutputTask {
            m,
            plane,
            first,
            phases,
            bias,
            mut out,
            ..
        } = self;
        let cols = out.ncols();
        // Contiguous planes are written by offset, others by index.
        let dw = phases.dilation[1];
        match out.as_slice_mut() {
            Some(dst) if dw == 1 => write_outputs::<A, P, AL, M>(m, plane, first, phases, |row, col, values| {
                let at = row * cols + col;
                // Whole tile rows as one plain store: a masked store of a
                // variable length is several times slower.
                match <&[A; M]>::try_from(values) {
                    Ok(whole) => {
                        let dst: &mut [A; M] = (&mut dst[at..at + M]).try_into().expect("a tile row");
                        *dst = whole.map(|v| v + bias);
                    }
                    Err(_) => {
                        for (d, &v) in dst[at..at + values.len()].iter_mut().zip(values) {
                            *d = v + bias;
                        }
                    }
                }
            }),
            _ => write_outputs::<A, P, AL, M>(m, plane, first, phases, |row, col, values| {
                for (c, &v) in values.iter().enumerate() {
                    out[[row, col + dw * c]] = v + bias;
                }
            }),
        }
    }
}

/// Transforms the products of every tile of the block back, and hands
/// each row of each tile's outputs to `write`, with the block row and
/// column of its first output (the others follow `dw` columns apart).
#[inline(always)]
fn write_outputs<A: Float, P: Points<AL, M>, const AL: usize, const M: usize>(
    m: &[A],
    plane: usize,
    first: usize,
    phases: Phases,
    mut write: impl FnMut(usize, usize, &[A]),
) {
    let dh = phases.dilation[0];
    let mut tiles = phases.tiles(0);
    let mut freq = [[Lanes([A::zero(); LANES]); AL]; AL];
    for f0 in (0..phases.count()).step_by(LANES) {
        for (xi, f) in freq.iter_mut().flatten().enumerate() {
            let at = xi * plane + first + f0;
            f.0 = m[at..at + LANES].try_into().expect("a chunk");
        }
        let y = output_2d::<_, P, AL, M>(freq);
        for lane in 0..LANES {
            let Some(tile) = tiles.next() else { break };
            for (r, y_r) in y.iter().enumerate().take(tile.rows) {
                let values: [A; M] = std::array::from_fn(|c| y_r[c].0[lane]);
                write(tile.row + dh * r, tile.col, &values[..tile.cols]);
            }
        }
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
    fn run_prepared<A: Float + Sample>(problem: &Problem<'_, A>, out: ArrayViewMut4<'_, A>) {
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

    /// One lane of `LANES`, the others zero.
    fn lane(x: f64) -> Lanes<f64> {
        let mut l = Lanes([0.0; LANES]);
        l.0[0] = x;
        l
    }

    /// `Aᵀ [(G g) ⊙ (Bᵀ d)]` in one dimension.
    fn one_d<P: Points<AL, M>, const AL: usize, const M: usize>(d: [f64; AL], g: [f64; 3]) -> Vec<f64> {
        let v = P::input(d.map(lane));
        let u = P::weight(g);
        let m: [Lanes<f64>; AL] = std::array::from_fn(|i| lane(v[i].0[0] * u[i]));
        P::output(m).iter().map(|y| y.0[0]).collect()
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
        let t = F4::input([1.0, 2.0, 3.0, 4.0, 5.0, 6.0].map(lane));
        assert_eq!(t.map(|v| v.0[0]), [-6.0, -11.0, -3.0, 6.0, -2.0, -6.0]);
    }

    #[test]
    fn output_and_weight_transforms_by_hand() {
        // Aᵀ m for m = (1, 2, 3, 4, 5, 6): 1+2+3+4+5 = 15;
        // 2 − 3 + 2(4 − 5) = −3; 2 + 3 + 4(4 + 5) = 41;
        // 2 − 3 + 8(4 − 5) + 6 = −3.
        let y = F4::output([1.0, 2.0, 3.0, 4.0, 5.0, 6.0].map(lane));
        assert_eq!(y.map(|v| v.0[0]), [15.0, -3.0, 41.0, -3.0]);
        // G g for g = (24, 12, 6): 6; −42/6 = −7; −18/6 = −3;
        // 1 + 1 + 1 = 3; 1 − 1 + 1 = 1; 6.
        assert_eq!(F4::weight([24.0, 12.0, 6.0]), [6.0, -7.0, -3.0, 3.0, 1.0, 6.0]);
    }

    #[test]
    fn two_dimensional_tile_against_the_definition() {
        // One 6×6 tile through a 3×3 kernel: the 4×4 correlation.
        let d = Array2::from_shape_fn((6, 6), |(k, l)| ((k * 7 + l * 3) % 11) as f64 - 5.0);
        let g = array![[1.0, -2.0, 0.5], [3.0, 0.25, -1.0], [-0.5, 2.0, 1.5]];
        let lanes: [[Lanes<f64>; 6]; 6] = std::array::from_fn(|k| std::array::from_fn(|l| lane(d[[k, l]])));
        let v = input_2d::<_, F4, 6, 4>(lanes);
        let w = Array4::from_shape_fn((1, 1, 3, 3), |(_, _, a, b)| g[[a, b]]);
        let mut taps = Vec::new();
        transform_weights::<f64, F4, 6, 4>(w.view(), &mut taps);
        let m: [[Lanes<f64>; 6]; 6] =
            std::array::from_fn(|i| std::array::from_fn(|j| lane(v[i][j].0[0] * taps[i * 6 + j])));
        let y = output_2d::<_, F4, 6, 4>(m);
        for r in 0..4 {
            for c in 0..4 {
                let want: f64 = (0..3)
                    .flat_map(|a| (0..3).map(move |b| (a, b)))
                    .map(|(a, b)| d[[r + a, c + b]] * g[[a, b]])
                    .sum();
                assert!(
                    (y[r][c].0[0] - want).abs() < 1e-12,
                    "({r}, {c}): {} vs {want}",
                    y[r][c].0[0]
                );
            }
        }
    }

    #[test]
    fn phases_and_tiles_cover_the_block_once() {
        // 7 rows × 10 columns at dilation (2, 3), tiles of 4: phase rows
        // 0,2,4,6 (4) and 1,3,5 (3); columns 0,3,6,9 (4), 1,4,7 (3),
        // 2,5,8 (3); one tile each way, six phases.
        let phases = Phases {
            block_rows: 7,
            out_cols: 10,
            dilation: [2, 3],
            m: 4,
        };
        let list: Vec<Phase> = phases.iter().collect();
        assert_eq!((list.len(), phases.count()), (6, 6));
        assert_eq!((list[0].out, list[4].out), ([4, 4], [3, 3]));
        // Phase (1, 1) starts at row 1, column 1: input 1·20 + 1 in a block
        // tile 20 wide; its 3 × 3 outputs are rows 1, 3, 5, columns 1, 4, 7.
        let tiles: Vec<TileAt> = phases.tiles(20).collect();
        let want = TileAt {
            input: 21,
            row: 1,
            col: 1,
            rows: 3,
            cols: 3,
        };
        assert_eq!(tiles[4], want);
        // Every output exactly once.
        let mut seen = [[0; 10]; 7];
        for t in &tiles {
            for r in 0..t.rows {
                for c in 0..t.cols {
                    seen[t.row + 2 * r][t.col + 3 * c] += 1;
                }
            }
        }
        assert!(seen.iter().flatten().all(|&n| n == 1));
        // Tiles of 2 over 5 × 5, undilated: 3 × 3 tiles, the last row and
        // column cut to one output.
        let plain = Phases {
            block_rows: 5,
            out_cols: 5,
            dilation: [1, 1],
            m: 2,
        };
        let tiles: Vec<TileAt> = plain.tiles(9).collect();
        assert_eq!(tiles.len(), 9);
        assert_eq!(
            tiles[5],
            TileAt {
                input: 2 * 9 + 4,
                row: 2,
                col: 4,
                rows: 2,
                cols: 1
            }
        );
        // More phases than outputs: a phase can be empty.
        let tiny = Phases {
            block_rows: 1,
            out_cols: 1,
            dilation: [2, 2],
            m: 2,
        };
        assert_eq!(tiny.count(), 1);
        assert_eq!(tiny.iter().filter(|p| p.tiles[0] * p.tiles[1] > 0).count(), 1);
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
