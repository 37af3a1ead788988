//! The crate's register-blocked matrix product for `f32` and `f64`:
//! `out[M, N] = W[M, K] · P[K, N]` from operands packed into panels, in
//! the manner of BLIS.
//!
//! ```text
//!   weights: panels of MR rows        patches: panels of NR columns
//!   (MR values per k, k-major)        (NR values per k, k-major)
//!   +--------+                        +------+------+--
//!   | MR × K |  ---- one register --> | K×NR | K×NR | ...
//!   +--------+       tile: MR × NR    +------+------+--
//!   | MR × K |       sums over K
//!   +--------+
//! ```
//!
//! Each register tile keeps its `MR × NR` sums in vector registers while it
//! walks the depth: per step, `NR / lanes` vector loads of patches, `MR`
//! broadcasts of weights and `MR · NR / lanes` fused multiply-adds. Panels
//! are padded to whole tiles (weights with zero rows, patches with zero
//! columns), so the loops never read past a buffer; tiles at the edge of the
//! output are written through a buffer of one tile.
//!
//! The patches come packed in panels, or as rows read where they lie
//! ([`Patches::Rows`]: each row of the patch matrix a contiguous run of the
//! caller's data at its own offset), which spares the copy when a block's
//! patch rows are runs of the input, as they are at unit column stride
//! for one output row, or for several computed over the padded rows' full
//! width.
//!
//! Nothing here knows about convolution or its spatial rank: the caller
//! packs the weights ([`PackedWeights`]) and lays out its patches in panels
//! of [`panel_width`] columns or names their rows; the 1-D and 3-D forms
//! reuse it as it is.

use pulp::bytemuck::{self, Pod};
use pulp::{Arch, Simd, WithSimd};

use crate::conv::element::Element;
use crate::conv::exec::blocks::for_each_chunk;

/// Rows of a register tile: output channels per weight panel, for every
/// type and instruction set, so that weights packed once serve any CPU.
/// Six rows of four AVX-512 vectors make 24 accumulators of the 32
/// registers (four AVX2 vectors would not fit its 16; two do).
pub(crate) const MR: usize = 6;

/// Depth of one pass over the panels: a patch panel's slice of this depth
/// (`KC · NR` values, 32 KiB of `f32` at 64 columns) stays in L1 while
/// every weight panel passes over it. 128, 256 and the whole depth timed
/// within a few per cent of each other on the benchmark layers.
const KC: usize = 128;

/// The element types with a micro-kernel, and pulp's vector operations on
/// them under one name each, so that the kernel is written once. Public
/// only so that [`Microkernel`] can name it; the module is private.
pub trait Real: Element + Pod {
    /// A vector of `Self` on `S`.
    type Vector<S: Simd>: Copy + Pod;

    fn splat<S: Simd>(simd: S, value: Self) -> Self::Vector<S>;

    /// `a · b + c`: fused where the CPU has FMA, two roundings otherwise.
    fn multiply_add<S: Simd>(simd: S, a: Self::Vector<S>, b: Self::Vector<S>, c: Self::Vector<S>) -> Self::Vector<S>;

    fn add_vectors<S: Simd>(simd: S, a: Self::Vector<S>, b: Self::Vector<S>) -> Self::Vector<S>;

    fn sub_vectors<S: Simd>(simd: S, a: Self::Vector<S>, b: Self::Vector<S>) -> Self::Vector<S>;

    fn mul_vectors<S: Simd>(simd: S, a: Self::Vector<S>, b: Self::Vector<S>) -> Self::Vector<S>;
}

macro_rules! impl_real {
    ($t:ty, $vector:ident, $splat:ident, $multiply_add:ident, $add:ident, $sub:ident, $mul:ident) => {
        impl Real for $t {
            type Vector<S: Simd> = S::$vector;

            #[inline(always)]
            fn splat<S: Simd>(simd: S, value: Self) -> Self::Vector<S> {
                simd.$splat(value)
            }

            #[inline(always)]
            fn multiply_add<S: Simd>(
                simd: S,
                a: Self::Vector<S>,
                b: Self::Vector<S>,
                c: Self::Vector<S>,
            ) -> Self::Vector<S> {
                simd.$multiply_add(a, b, c)
            }

            #[inline(always)]
            fn add_vectors<S: Simd>(simd: S, a: Self::Vector<S>, b: Self::Vector<S>) -> Self::Vector<S> {
                simd.$add(a, b)
            }

            #[inline(always)]
            fn sub_vectors<S: Simd>(simd: S, a: Self::Vector<S>, b: Self::Vector<S>) -> Self::Vector<S> {
                simd.$sub(a, b)
            }

            #[inline(always)]
            fn mul_vectors<S: Simd>(simd: S, a: Self::Vector<S>, b: Self::Vector<S>) -> Self::Vector<S> {
                simd.$mul(a, b)
            }
        }
    };
}

impl_real!(f32, f32s, splat_f32s, mul_add_e_f32s, add_f32s, sub_f32s, mul_f32s);
impl_real!(f64, f64s, splat_f64s, mul_add_e_f64s, add_f64s, sub_f64s, mul_f64s);

/// Lanes of a vector of `A` on `S`.
pub(crate) const fn lanes<S: Simd, A: Real>() -> usize {
    std::mem::size_of::<A::Vector<S>>() / std::mem::size_of::<A>()
}

/// Vectors per register-tile row: four where there are 32 vector registers
/// (24 accumulators, 4 patch vectors, a broadcast), two where there are 16.
const fn vectors<S: Simd>() -> usize {
    if S::REGISTER_COUNT >= 32 {
        4
    } else {
        2
    }
}

/// The register-blocked product of one element type, as the element's
/// `Capabilities` names it. Public only so that the sealed trait can.
#[derive(Clone, Copy)]
pub struct Microkernel<A> {
    /// Columns per patch panel on this CPU.
    pub(crate) panel_width: fn() -> usize,
    /// `dst = weights · patches`, see [`multiply`].
    pub(crate) multiply: fn(Operands<'_, A>, &mut [A], usize),
}

impl<A: Real> Microkernel<A> {
    pub(crate) const NEW: Self = Microkernel {
        panel_width: panel_width::<A>,
        multiply: multiply::<A>,
    };
}

/// Columns per patch panel for `A` on this CPU: the register tile's width.
pub(crate) fn panel_width<A: Real>() -> usize {
    struct Width<A>(std::marker::PhantomData<A>);
    impl<A: Real> WithSimd for Width<A> {
        type Output = usize;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _simd: S) -> usize {
            width::<S, A>()
        }
    }
    Arch::new().dispatch(Width::<A>(std::marker::PhantomData))
}

const fn width<S: Simd, A: Real>() -> usize {
    vectors::<S>() * lanes::<S, A>()
}

/// The two operands of a product of `rows × depth` by `depth × columns`.
#[derive(Clone, Copy)]
pub struct Operands<'a, A> {
    /// One group's weight panels ([`PackedWeights::group`]).
    pub(crate) weights: &'a [A],
    pub(crate) patches: Patches<'a, A>,
    pub(crate) rows: usize,
    pub(crate) depth: usize,
    pub(crate) columns: usize,
}

/// The right-hand operand of a product, `depth × columns`: packed into
/// panels, or read where it lies when each of its rows is a contiguous run.
#[derive(Clone, Copy)]
pub enum Patches<'a, A> {
    /// Panels of [`panel_width`] columns ([`panel_index`]): panel `j` holds
    /// columns `j·NR ..`, with the last panel's columns past `columns`
    /// present too (their products are dropped).
    Panels(&'a [A]),
    /// Row `k` is the run `source[offsets[k] ..]`. Every row is read in whole
    /// panels, up to `columns` rounded up to [`panel_width`], so `source`
    /// must hold that many elements from each offset; the products of the
    /// columns past `columns` are dropped, whatever those elements hold.
    Rows { source: &'a [A], offsets: &'a [usize] },
}

/// `dst = weights · patches` on the best instruction set of this CPU:
/// row `i` of the product is `dst[i · dst_stride ..][.. columns]`.
///
/// # Panics
///
/// If the operands or `dst` are shorter than their shapes say: a bug in
/// the caller.
pub(crate) fn multiply<A: Real>(operands: Operands<'_, A>, dst: &mut [A], dst_stride: usize) {
    Arch::new().dispatch(Multiply {
        operands,
        dst,
        dst_stride,
    });
}

/// [`multiply`] as pulp runs it, compiled for the instruction set `S`.
struct Multiply<'a, 'd, A> {
    operands: Operands<'a, A>,
    dst: &'d mut [A],
    dst_stride: usize,
}

impl<A: Real> WithSimd for Multiply<'_, '_, A> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        if vectors::<S>() == 4 {
            multiply_on::<S, A, 4>(simd, self.operands, self.dst, self.dst_stride);
        } else {
            multiply_on::<S, A, 2>(simd, self.operands, self.dst, self.dst_stride);
        }
    }
}

/// The product in register tiles of `MR × NV` vectors: for each depth slice
/// of `KC`, each patch panel (kept in cache) meets every weight panel.
#[inline(always)]
fn multiply_on<S: Simd, A: Real, const NV: usize>(
    simd: S,
    operands: Operands<'_, A>,
    dst: &mut [A],
    dst_stride: usize,
) {
    let Operands {
        weights,
        patches,
        rows,
        depth,
        columns,
    } = operands;
    let nr = NV * lanes::<S, A>();
    assert_eq!(nr, width::<S, A>(), "patch panels of the kernel's width");
    if rows == 0 || columns == 0 {
        return;
    }
    assert!(dst.len() >= (rows - 1) * dst_stride + columns, "a product of its shape");
    if depth == 0 {
        for row in dst.chunks_mut(dst_stride).take(rows) {
            row[..columns].fill(A::zero());
        }
        return;
    }
    let panels = columns.div_ceil(nr);
    let patches_fit = match patches {
        Patches::Panels(panels_data) => panels_data.len() >= panels * nr * depth,
        Patches::Rows { source, offsets } => {
            offsets.len() >= depth
                && offsets[..depth]
                    .iter()
                    .all(|&o| o.saturating_add(panels * nr) <= source.len())
        }
    };
    assert!(
        weights.len() >= rows.div_ceil(MR) * MR * depth && patches_fit,
        "operands of their shapes"
    );
    for k0 in (0..depth).step_by(KC) {
        let kc = KC.min(depth - k0);
        for j in 0..panels {
            let cols = nr.min(columns - j * nr);
            for (i, w) in weights.chunks_exact(depth * MR).take(rows.div_ceil(MR)).enumerate() {
                let w = &w[k0 * MR..][..kc * MR];
                let sums = match patches {
                    Patches::Panels(data) => {
                        let panel = &data[j * depth * nr + k0 * nr..][..kc * nr];
                        tile::<S, A, NV>(simd, w, panel.chunks_exact(nr))
                    }
                    Patches::Rows { source, offsets } => {
                        let rows = offsets[k0..k0 + kc].iter().map(|&o| &source[o + j * nr..][..nr]);
                        tile::<S, A, NV>(simd, w, rows)
                    }
                };
                let place = Place {
                    first: i * MR * dst_stride + j * nr,
                    stride: dst_stride,
                    rows: MR.min(rows - i * MR),
                    cols,
                    accumulate: k0 > 0,
                };
                store::<S, A, NV>(simd, &sums, dst, place);
            }
        }
    }
}

/// The `MR × NV`-vector tile of `w` (`kc × MR`, k-major) times the `kc`
/// rows of `NV·lanes` patches `panel` yields, summed in registers.
#[inline(always)]
fn tile<'p, S: Simd, A: Real + 'p, const NV: usize>(
    simd: S,
    w: &[A],
    panel: impl Iterator<Item = &'p [A]>,
) -> [[A::Vector<S>; NV]; MR] {
    let lanes = lanes::<S, A>();
    let mut sums = [[A::splat(simd, A::zero()); NV]; MR];
    for (wk, pk) in w.chunks_exact(MR).zip(panel) {
        let mut p = [A::splat(simd, A::zero()); NV];
        for (v, chunk) in p.iter_mut().zip(pk.chunks_exact(lanes)) {
            *v = bytemuck::pod_read_unaligned(bytemuck::cast_slice(chunk));
        }
        for (row, &weight) in sums.iter_mut().zip(wk) {
            let weight = A::splat(simd, weight);
            for (sum, &p) in row.iter_mut().zip(&p) {
                *sum = A::multiply_add(simd, weight, p, *sum);
            }
        }
    }
    sums
}

/// Where a tile goes in the product: its first element, the row stride,
/// the rows and columns that exist, and whether it adds to what is there.
#[derive(Clone, Copy)]
struct Place {
    first: usize,
    stride: usize,
    rows: usize,
    cols: usize,
    accumulate: bool,
}

/// Writes (or adds) the existing part of a tile into `dst`: whole tiles by
/// vector, edge tiles element by element from the tile itself.
#[inline(always)]
fn store<S: Simd, A: Real, const NV: usize>(simd: S, sums: &[[A::Vector<S>; NV]; MR], dst: &mut [A], place: Place) {
    let lanes = lanes::<S, A>();
    let nr = NV * lanes;
    if place.rows == MR && place.cols == nr {
        for (i, row) in sums.iter().enumerate() {
            let out = &mut dst[place.first + i * place.stride..][..nr];
            for (chunk, &sum) in out.chunks_exact_mut(lanes).zip(row) {
                let value = if place.accumulate {
                    A::add_vectors(simd, bytemuck::pod_read_unaligned(bytemuck::cast_slice(chunk)), sum)
                } else {
                    sum
                };
                chunk.copy_from_slice(bytemuck::cast_slice(&[value]));
            }
        }
    } else {
        for (i, row) in sums.iter().enumerate().take(place.rows) {
            let values: &[A] = bytemuck::cast_slice(row);
            let out = &mut dst[place.first + i * place.stride..][..place.cols];
            if place.accumulate {
                out.iter_mut().zip(values).for_each(|(d, &v)| *d = *d + v);
            } else {
                out.copy_from_slice(&values[..place.cols]);
            }
        }
    }
}

/// Weights packed for [`multiply`]: for each group, panels of [`MR`] rows
/// (the last padded with zero rows), each `depth × MR`, k-major.
#[derive(Clone, Debug)]
pub(crate) struct PackedWeights<A> {
    data: Vec<A>,
    groups: usize,
    rows: usize,
    depth: usize,
}

impl<A> Default for PackedWeights<A> {
    fn default() -> Self {
        PackedWeights {
            data: Vec::new(),
            groups: 0,
            rows: 0,
            depth: 0,
        }
    }
}

impl<A: Element> PackedWeights<A> {
    /// Packs `groups · rows` rows of `depth` values, `tap(group, row, k)`
    /// each, into the buffer `self` already holds, which grows only if it
    /// is too short; the groups in parallel with the `rayon` feature.
    pub(crate) fn fill(
        &mut self,
        groups: usize,
        rows: usize,
        depth: usize,
        tap: impl Fn(usize, usize, usize) -> A + Sync + Send,
    ) {
        let group_len = rows.div_ceil(MR) * MR * depth;
        self.data.clear();
        self.data.resize(groups * group_len, A::zero());
        (self.groups, self.rows, self.depth) = (groups, rows, depth);
        for_each_chunk(&mut self.data, group_len, |g, panels| {
            for (p, panel) in panels.chunks_exact_mut(MR * depth).enumerate() {
                for (k, column) in panel.chunks_exact_mut(MR).enumerate() {
                    for (i, value) in column.iter_mut().enumerate().take(rows - p * MR) {
                        *value = tap(g, p * MR + i, k);
                    }
                }
            }
        });
    }

    /// The packed weights of group `g`.
    pub(crate) fn group(&self, g: usize) -> &[A] {
        let len = self.rows.div_ceil(MR) * MR * self.depth;
        &self.data[g * len..][..len]
    }

    /// Whether these are `groups` groups of `rows × depth` weights.
    pub(crate) fn has_shape(&self, groups: usize, rows: usize, depth: usize) -> bool {
        (self.groups, self.rows, self.depth) == (groups, rows, depth)
    }
}

/// Lays out column `c` of a `depth × columns` patch matrix: the index of
/// `(k, c)` in panels of `nr` columns.
#[inline(always)]
pub(crate) fn panel_index(k: usize, c: usize, depth: usize, nr: usize) -> usize {
    c / nr * depth * nr + k * nr + c % nr
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::kernels::check::{Rng, Sample};

    /// The sizes every variant is tried on: empty, one, fewer than a tile,
    /// across tile and depth-slice boundaries.
    const SIZES: [usize; 6] = [0, 1, 5, 17, 63, 257];

    /// `W · P` by the definition, in `f64`.
    fn triple_loop<A: Sample + Into<f64>>(w: &[A], p: &[A], [m, k, n]: [usize; 3]) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|l| w[i * k + l].into() * p[l * n + j].into()).sum();
            }
        }
        out
    }

    /// Runs the product on `simd` for every size triple and compares it
    /// with the triple loop (tolerance relative to the depth, which bounds
    /// the sum of the products' magnitudes).
    fn check_variant<S: Simd, A: Real + Sample + Into<f64>>(simd: S, name: &str) {
        let nr = width::<S, A>();
        let mut rng = Rng::new(11);
        for m in SIZES {
            for k in SIZES {
                for n in SIZES.into_iter().chain([nr - 1, nr, nr + 1, 2 * nr]) {
                    let w: Vec<A> = (0..m * k).map(|_| A::sample(&mut rng)).collect();
                    let p: Vec<A> = (0..k * n).map(|_| A::sample(&mut rng)).collect();
                    let mut packed = PackedWeights::default();
                    packed.fill(1, m, k, |_, r, l| w[r * k + l]);
                    // Panel columns past `n` hold poison: they must not reach
                    // the product.
                    let mut patches = vec![A::POISON; n.div_ceil(nr) * nr * k];
                    for l in 0..k {
                        for c in 0..n {
                            patches[panel_index(l, c, k, nr)] = p[l * n + c];
                        }
                    }
                    // Rows `n + 3` apart, and one row more than needed.
                    let stride = n + 3;
                    let mut dst = vec![A::POISON; (m + 1) * stride];
                    let operands = Operands {
                        weights: packed.group(0),
                        patches: Patches::Panels(&patches),
                        rows: m,
                        depth: k,
                        columns: n,
                    };
                    simd.vectorize(Multiply {
                        operands,
                        dst: &mut dst,
                        dst_stride: stride,
                    });
                    let want = triple_loop(&w, &p, [m, k, n]);
                    check_product(&dst, &want, [m, k, n], stride, name);
                    // The same patches read in place: rows in reverse order,
                    // `row_len` apart from element 2 on, poison past `n`.
                    let row_len = n.div_ceil(nr) * nr + 5;
                    let mut source = vec![A::POISON; k * row_len];
                    let offsets: Vec<usize> = (0..k).map(|l| (k - 1 - l) * row_len + 2).collect();
                    for (l, &offset) in offsets.iter().enumerate() {
                        source[offset..][..n].copy_from_slice(&p[l * n..][..n]);
                    }
                    let mut dst = vec![A::POISON; (m + 1) * stride];
                    let operands = Operands {
                        patches: Patches::Rows {
                            source: &source,
                            offsets: &offsets,
                        },
                        ..operands
                    };
                    simd.vectorize(Multiply {
                        operands,
                        dst: &mut dst,
                        dst_stride: stride,
                    });
                    check_product(&dst, &want, [m, k, n], stride, &format!("{name}, rows in place"));
                }
            }
        }
    }

    /// Checks a product `dst` (rows `stride` apart) against `want`: within
    /// the type's tolerance, every output written, nothing past them.
    fn check_product<A: Sample + Into<f64>>(dst: &[A], want: &[f64], [m, k, n]: [usize; 3], stride: usize, name: &str) {
        for (index, &got) in dst.iter().enumerate() {
            let (i, j) = (index / stride, index % stride);
            if i < m && j < n {
                let scale = (k as f64).max(1.0);
                assert!(
                    (got.into() - want[i * n + j]).abs() <= A::TOLERANCE * scale,
                    "{name}: {m}×{k}×{n}, ({i}, {j}): {got:?} vs {}",
                    want[i * n + j]
                );
            } else {
                assert!(got.is_poison(), "{name}: {m}×{k}×{n} wrote ({i}, {j})");
            }
        }
    }

    fn check_every_variant<A: Real + Sample + Into<f64>>() {
        check_variant::<_, A>(pulp::Scalar::new(), "portable");
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(simd) = pulp::x86::V3::try_new() {
                check_variant::<_, A>(simd, "AVX2");
            }
            if let Some(simd) = pulp::x86::V4::try_new() {
                check_variant::<_, A>(simd, "AVX-512");
            }
        }
    }

    #[test]
    fn f32_products_match_the_triple_loop_on_every_variant() {
        check_every_variant::<f32>();
    }

    #[test]
    fn f64_products_match_the_triple_loop_on_every_variant() {
        check_every_variant::<f64>();
    }

    #[test]
    fn the_dispatched_product_is_one_of_the_variants() {
        // 13 × 300 · 300 × 70 crosses depth slices, row and column edges.
        let [m, k, n] = [13, 300, 70];
        let nr = panel_width::<f64>();
        let mut rng = Rng::new(5);
        let w: Vec<f64> = (0..m * k).map(|_| f64::sample(&mut rng)).collect();
        let p: Vec<f64> = (0..k * n).map(|_| f64::sample(&mut rng)).collect();
        let mut packed = PackedWeights::default();
        packed.fill(1, m, k, |_, r, l| w[r * k + l]);
        let mut patches = vec![0.0; n.div_ceil(nr) * nr * k];
        for l in 0..k {
            for c in 0..n {
                patches[panel_index(l, c, k, nr)] = p[l * n + c];
            }
        }
        let mut dst = vec![f64::NAN; m * n];
        let operands = Operands {
            weights: packed.group(0),
            patches: Patches::Panels(&patches),
            rows: m,
            depth: k,
            columns: n,
        };
        (Microkernel::<f64>::NEW.multiply)(operands, &mut dst, n);
        let want = triple_loop(&w, &p, [m, k, n]);
        for (got, want) in dst.iter().zip(&want) {
            assert!((got - want).abs() <= 1e-12 * k as f64, "{got} vs {want}");
        }
    }

    #[test]
    fn weights_pack_into_zero_padded_panels_of_six_rows() {
        // Two groups of 7 rows of 2 taps, row r of group g holding
        // 100g + 10r + k: each group is two panels, the second of one row.
        let mut packed = PackedWeights::default();
        packed.fill(2, 7, 2, |g, r, k| (100 * g + 10 * r + k) as f64);
        assert!(packed.has_shape(2, 7, 2) && !packed.has_shape(2, 7, 3));
        let group = packed.group(1);
        assert_eq!(group.len(), 2 * MR * 2);
        // Panel 0, k = 1: rows 0..6 of group 1.
        assert_eq!(&group[MR..2 * MR], [101.0, 111.0, 121.0, 131.0, 141.0, 151.0]);
        // Panel 1, k = 0: row 6, then zeros.
        assert_eq!(&group[2 * MR..3 * MR], [160.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        // Refilling with fewer rows reuses the buffer.
        let before = packed.data.as_ptr();
        packed.fill(1, 2, 1, |_, r, _| [1.0, 2.0][r]);
        assert_eq!(packed.group(0), [1.0, 2.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(packed.data.as_ptr(), before);
    }

    #[test]
    fn panel_indices_by_hand() {
        // Depth 3, panels of 4 columns: column 5 is column 1 of panel 1,
        // which starts at 3 · 4 = 12.
        assert_eq!(panel_index(0, 5, 3, 4), 13);
        assert_eq!(panel_index(2, 5, 3, 4), 21);
        assert_eq!(panel_index(2, 3, 3, 4), 11);
    }
}
