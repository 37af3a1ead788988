//! Tiled FFT correlation (overlap-save) for large kernels, real floating
//! point only, stride 1.
//!
//! The output is cut into tiles of `th × tw` outputs. Each tile reads an
//! `fh × fw` patch of the padded input (`fh = th + ext_h − 1`, the FFT
//! length, a power of two), whose 2-D real FFT is multiplied by the
//! conjugated spectrum of the zero-padded (and dilated) kernel; the inverse
//! FFT holds the tile's correlation in its first `th × tw` entries, free of
//! wrap-around:
//!
//! ```text
//!   patch fh × fw                 spectrum              result fh × fw
//!   +-----------+---+             X · conj(K)           +--------+----+
//!   |           |   |   rFFT 2-D  ---------->  iFFT 2-D | th×tw  | ×  |
//!   |           |   |                                   +--------+    |
//!   +-----------+---+                                   |  (wrapped)  |
//! ```
//!
//! Work per output is `O(log(fh·fw))` instead of `kh·kw`, so it wins for
//! large kernels. Rounding errors spread over the whole tile, and one NaN
//! or infinity in a patch turns the whole tile into NaN, so the planner
//! only picks this path for finite data; forcing it on non-finite data
//! gives NaN wherever a tile saw a non-finite value.

use std::sync::Arc;

use ndarray::{ArrayViewMut4, Axis};
use num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};

use crate::conv::element::Element;
use crate::conv::exec::blocks::{block_count, for_each_block};
use crate::conv::exec::scratch::{prefix, Pool};
use crate::conv::exec::tile::{fill_tile, TileShape};
use crate::conv::problem::Problem;

/// The real floating-point types the FFT path handles. (`pub` here and
/// on [`FftKernels`] only because the sealed element `Capabilities` name
/// them; the module is private.)
pub trait FftFloat: Element + realfft::FftNum + num_traits::Float + Default {}

impl FftFloat for f32 {}
impl FftFloat for f64 {}

/// The shortest FFT length tried along an axis.
const MIN_LEN: usize = 16;
/// The longest FFT length tried along an axis, unless the kernel is long
/// (then up to four times its length).
const MAX_LEN: usize = 512;

/// The FFT length along one axis, for a kernel spanning `extent` inputs
/// and `outputs` outputs: the power of two with the least FFT work per
/// output, `len · log2(len) / (len − extent + 1)`.
pub(crate) fn fft_len(extent: usize, outputs: usize) -> usize {
    // A kernel one tap long along this axis (a row filter, a 1-D call)
    // needs no transform along it: tiles one output long along it cost the
    // least per output, where the shortest FFT would pad 1 value to 16.
    if extent == 1 {
        return 1;
    }
    let mut len = extent.next_power_of_two().max(MIN_LEN);
    let mut best = (f64::INFINITY, len);
    loop {
        let per_tile = (len - extent + 1).min(outputs).max(1);
        let cost = len as f64 * (len as f64).log2() / per_tile as f64;
        if cost < best.0 {
            best = (cost, len);
        }
        // Past `MAX_LEN` only for long kernels, up to four times their
        // length: a tile must keep most of its outputs (a 511-tap kernel
        // in a 512 transform would leave 2).
        if len >= MAX_LEN.max(4 * extent.next_power_of_two()) || len - extent + 1 >= outputs {
            return best.1;
        }
        len *= 2;
    }
}

/// Plans of the 2-D real FFT of an `rows × cols` patch. Spectra are stored
/// column-major: `cols / 2 + 1` columns of `rows` complex values.
struct Transform<T: FftFloat> {
    rows: usize,
    cols: usize,
    half: usize,
    r2c: Arc<dyn RealToComplex<T>>,
    c2r: Arc<dyn ComplexToReal<T>>,
    forward_cols: Arc<dyn Fft<T>>,
    inverse_cols: Arc<dyn Fft<T>>,
}

/// Buffers one thread needs to run a [`Transform`].
#[derive(Default)]
struct Scratch<T> {
    /// The half spectra of a patch's rows, row-major.
    rows: Vec<Complex<T>>,
    fft: Vec<Complex<T>>,
}

impl<T: FftFloat> Transform<T> {
    fn new(rows: usize, cols: usize) -> Self {
        let mut real = RealFftPlanner::<T>::new();
        let mut complex = FftPlanner::<T>::new();
        Transform {
            rows,
            cols,
            half: cols / 2 + 1,
            r2c: real.plan_fft_forward(cols),
            c2r: real.plan_fft_inverse(cols),
            forward_cols: complex.plan_fft_forward(rows),
            inverse_cols: complex.plan_fft_inverse(rows),
        }
    }

    fn spectrum_len(&self) -> usize {
        self.half * self.rows
    }

    /// Sizes `scratch` for this transform (its contents are scratch).
    fn size(&self, scratch: &mut Scratch<T>) {
        let len = [
            self.r2c.get_scratch_len(),
            self.c2r.get_scratch_len(),
            self.forward_cols.get_inplace_scratch_len(),
            self.inverse_cols.get_inplace_scratch_len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        scratch
            .rows
            .resize(self.half * self.rows, Complex::new(T::zero(), T::zero()));
        scratch.fft.resize(len, Complex::new(T::zero(), T::zero()));
    }

    /// The spectrum of `patch` (row-major `rows × cols`, destroyed), whose
    /// rows from `used_rows` on are zero.
    fn forward(&self, patch: &mut [T], used_rows: usize, spectrum: &mut [Complex<T>], scratch: &mut Scratch<T>) {
        let Scratch { rows, fft } = scratch;
        for (row, half) in patch
            .chunks_exact_mut(self.cols)
            .zip(rows.chunks_exact_mut(self.half))
            .take(used_rows)
        {
            self.r2c
                .process_with_scratch(row, half, fft)
                .expect("buffer lengths follow the plan");
        }
        for column in spectrum.chunks_exact_mut(self.rows) {
            column[used_rows..].fill(Complex::new(T::zero(), T::zero()));
        }
        transpose(rows, self.half, used_rows, self.half, spectrum, self.rows);
        self.forward_cols.process_with_scratch(spectrum, fft);
    }

    /// The first `rows_needed` rows of the inverse transform of `spectrum`
    /// (destroyed), unnormalized, into `out` (row-major, `cols` wide).
    fn inverse(&self, spectrum: &mut [Complex<T>], rows_needed: usize, out: &mut [T], scratch: &mut Scratch<T>) {
        let Scratch { rows, fft } = scratch;
        self.inverse_cols.process_with_scratch(spectrum, fft);
        transpose(spectrum, self.rows, self.half, rows_needed, rows, self.half);
        for (half, row) in rows
            .chunks_exact_mut(self.half)
            .zip(out.chunks_exact_mut(self.cols))
            .take(rows_needed)
        {
            // The spectrum of a real row has real first (and, for even
            // lengths, last) entries; clear the rounding noise there.
            half[0].im = T::zero();
            if self.cols % 2 == 0 {
                half[self.half - 1].im = T::zero();
            }
            self.c2r
                .process_with_scratch(half, row, fft)
                .expect("buffer lengths follow the plan");
        }
    }
}

/// `dst[k · dst_stride + r] = src[r · src_stride + k]` for `r < height`,
/// `k < width`, in square tiles, so that both sides are read and written a
/// few cache lines at a time rather than one element per line.
fn transpose<C: Copy>(src: &[C], src_stride: usize, height: usize, width: usize, dst: &mut [C], dst_stride: usize) {
    const TILE: usize = 16;
    for r0 in (0..height).step_by(TILE) {
        let r1 = (r0 + TILE).min(height);
        for k0 in (0..width).step_by(TILE) {
            for k in k0..(k0 + TILE).min(width) {
                let column = &mut dst[k * dst_stride + r0..k * dst_stride + r1];
                for (r, d) in (r0..r1).zip(column) {
                    *d = src[r * src_stride + k];
                }
            }
        }
    }
}

/// The number of complex values the kernel spectra of a problem take, with
/// the FFT lengths it would use; the planner bounds it.
pub(crate) fn spectra_len(extent: [usize; 2], outputs: [usize; 2], kernels: usize) -> Option<usize> {
    let rows = fft_len(extent[0], outputs[0]);
    let cols = fft_len(extent[1], outputs[1]);
    (cols / 2 + 1).checked_mul(rows)?.checked_mul(kernels)
}

/// The FFT plans and the conjugated spectra of every (output channel, input
/// channel) kernel of a problem: everything that depends on the weights and
/// shapes but not on the input, computed once per call, or once per
/// [`Conv2dPlan`](crate::Conv2dPlan).
pub struct FftKernels<T: FftFloat> {
    rows: usize,
    cols: usize,
    transform: Transform<T>,
    spectra: Vec<Complex<T>>,
    /// The buffers of the blocks, kept from call to call.
    pool: Pool<Buffers<T>>,
}

/// The buffers one block works in.
#[derive(Default)]
struct Buffers<T> {
    /// The padded input tile of each channel of a group.
    tiles: Vec<T>,
    /// One zero-padded FFT patch.
    patch: Vec<T>,
    /// The inverse transform of one output channel.
    result: Vec<T>,
    /// The spectrum of each channel's patch.
    spectra: Vec<Complex<T>>,
    /// The spectrum of one output channel.
    product: Vec<Complex<T>>,
    transform: Scratch<T>,
}

impl<T: FftFloat> FftKernels<T> {
    /// The kernels of `problem` for an output of `outputs` rows and columns.
    pub(crate) fn new(problem: &Problem<'_, T>, outputs: [usize; 2]) -> Self {
        let [rows, cols] = problem.geometry;
        let (ext_h, ext_w) = (rows.extent(), cols.extent());
        let (fh, fw) = (fft_len(ext_h, outputs[0]), fft_len(ext_w, outputs[1]));
        let transform = Transform::<T>::new(fh, fw);
        let spectrum_len = transform.spectrum_len();
        let channels_per_group = problem.weight.shape()[1];
        let mut spectra =
            vec![Complex::new(T::zero(), T::zero()); problem.weight.shape()[0] * channels_per_group * spectrum_len];
        let mut scratch = Scratch::default();
        transform.size(&mut scratch);
        let mut patch = vec![T::zero(); fh * fw];
        let pairs = (0..problem.weight.shape()[0]).flat_map(|o| (0..channels_per_group).map(move |c| (o, c)));
        for ((o, c), spectrum) in pairs.zip(spectra.chunks_exact_mut(spectrum_len)) {
            let w = problem.weight.slice(ndarray::s![o, c, .., ..]);
            patch.fill(T::zero());
            for ((a, b), &tap) in w.indexed_iter() {
                patch[a * rows.dilation * fw + b * cols.dilation] = tap;
            }
            transform.forward(&mut patch, ext_h, spectrum, &mut scratch);
            spectrum.iter_mut().for_each(|v| *v = v.conj());
        }
        FftKernels {
            rows: outputs[0],
            cols: outputs[1],
            transform,
            spectra,
            pool: Pool::default(),
        }
    }
}

/// Computes `problem` (stride 1, real floating point) into `out`, with the
/// kernel spectra of `prepared` when they were made for this output shape.
pub(crate) fn run<T: FftFloat>(problem: &Problem<'_, T>, prepared: Option<&FftKernels<T>>, out: ArrayViewMut4<'_, T>) {
    if out.is_empty() {
        return;
    }
    let [rows, cols] = problem.geometry;
    debug_assert!(
        rows.stride == 1 && cols.stride == 1,
        "the planner sends only stride 1 here"
    );
    let (ext_h, ext_w) = (rows.extent(), cols.extent());
    let [out_rows, out_cols] = [out.shape()[2], out.shape()[3]];
    let computed;
    let kernels = match prepared {
        Some(k) if k.rows == out_rows && k.cols == out_cols => k,
        _ => {
            computed = FftKernels::new(problem, [out_rows, out_cols]);
            &computed
        }
    };
    let transform = &kernels.transform;
    let (fh, fw) = (transform.rows, transform.cols);
    let (tile_rows, tile_cols) = (fh - ext_h + 1, fw - ext_w + 1);
    let spectrum_len = transform.spectrum_len();
    let channels_per_group = problem.weight.shape()[1];
    let outputs_per_group = problem.weight.shape()[0] / problem.groups;
    let pool = &kernels.pool;
    let kernels = &kernels.spectra;
    let scale = T::one() / T::from(fh * fw).expect("FFT sizes are representable");

    let full = TileShape::of(problem, tile_rows.min(out_rows), out_cols);
    pool.prepare(block_count(out.shape()[0], out_rows, tile_rows), |buffers| {
        prefix(&mut buffers.tiles, 0, channels_per_group * full.len());
        prefix(&mut buffers.spectra, 0, channels_per_group * spectrum_len);
        prefix(&mut buffers.product, 0, spectrum_len);
        prefix(&mut buffers.patch, 0, fh * fw);
        prefix(&mut buffers.result, 0, tile_rows * fw);
        transform.size(&mut buffers.transform);
    });
    for_each_block(out, tile_rows, |mut block| {
        let block_rows = block.out.shape()[1];
        let shape = TileShape::of(problem, block_rows, out_cols);
        pool.with(|buffers| {
            let tiles = prefix(
                &mut buffers.tiles,
                channels_per_group * shape.len(),
                channels_per_group * full.len(),
            );
            let spectra = prefix(&mut buffers.spectra, channels_per_group * spectrum_len, 0);
            let product = prefix(&mut buffers.product, spectrum_len, 0);
            let patch = prefix(&mut buffers.patch, fh * fw, 0);
            let result = prefix(&mut buffers.result, block_rows * fw, tile_rows * fw);
            let scratch = &mut buffers.transform;
            transform.size(scratch);
            let image = problem.input.index_axis(Axis(0), block.n);
            for g in 0..problem.groups {
                for (c, tile) in tiles.chunks_exact_mut(shape.len()).enumerate() {
                    let plane = image.index_axis(Axis(0), g * channels_per_group + c);
                    fill_tile(problem, plane, block.row0, shape, tile);
                }
                for j0 in (0..out_cols).step_by(tile_cols) {
                    let width = fw.min(shape.width - j0);
                    for (tile, spectrum) in tiles
                        .chunks_exact(shape.len())
                        .zip(spectra.chunks_exact_mut(spectrum_len))
                    {
                        patch.fill(T::zero());
                        for (src, dst) in tile.chunks_exact(shape.width).zip(patch.chunks_exact_mut(fw)) {
                            dst[..width].copy_from_slice(&src[j0..j0 + width]);
                        }
                        transform.forward(patch, shape.rows, spectrum, scratch);
                    }
                    let n_cols = tile_cols.min(out_cols - j0);
                    for o in g * outputs_per_group..(g + 1) * outputs_per_group {
                        let kernel =
                            &kernels[o * channels_per_group * spectrum_len..][..channels_per_group * spectrum_len];
                        product.fill(Complex::new(T::zero(), T::zero()));
                        for (x, k) in spectra
                            .chunks_exact(spectrum_len)
                            .zip(kernel.chunks_exact(spectrum_len))
                        {
                            for ((p, &x), &k) in product.iter_mut().zip(x).zip(k) {
                                *p = *p + x * k;
                            }
                        }
                        transform.inverse(product, block_rows, result, scratch);
                        let bias = problem.bias.as_ref().map_or(T::zero(), |b| b[o]);
                        let mut channel = block.out.index_axis_mut(Axis(0), o);
                        for (mut dst, src) in channel.outer_iter_mut().zip(result.chunks_exact(fw)) {
                            for (d, &v) in dst.iter_mut().skip(j0).take(n_cols).zip(src) {
                                *d = v * scale + bias;
                            }
                        }
                    }
                }
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use ndarray::{Array4, ArrayViewMut4};

    use super::*;
    use crate::conv::kernels::check::{check_kernel, problem, run_poisoned, sweep, Case, Rng, Sample};
    use crate::conv::kernels::direct;
    use crate::options::ConvOptions;

    /// The sweep's problems the FFT path takes: stride 1.
    fn unit_stride() -> impl Iterator<Item = Case> {
        sweep().into_iter().filter(|case| case.unit_stride())
    }

    /// `run` with kernel spectra prepared ahead, as a plan keeps them, whose
    /// buffers a run over a poisoned input has just used.
    fn run_prepared<T: FftFloat + Sample>(problem: &Problem<'_, T>, out: ArrayViewMut4<'_, T>) {
        let [_, _, rows, cols] = problem.output_shape();
        let kernels = FftKernels::new(problem, [rows, cols]);
        run_poisoned(problem, 0, |p, o| run(p, Some(&kernels), o));
        run(problem, Some(&kernels), out);
    }

    #[test]
    fn f32_matches_the_reference() {
        check_kernel::<f32>("fft", unit_stride(), |p, out| run(p, None, out));
    }

    #[test]
    fn f64_matches_the_reference() {
        check_kernel::<f64>("fft", unit_stride(), |p, out| run(p, None, out));
    }

    #[test]
    fn prepared_spectra_match_the_reference_after_a_poisoned_run() {
        check_kernel::<f32>("fft, prepared", unit_stride(), run_prepared);
        check_kernel::<f64>("fft, prepared", unit_stride(), run_prepared);
    }

    #[test]
    fn a_nan_spoils_only_the_tile_that_reads_it() {
        // 20 × 95 through 3 × 3: 18 × 93 outputs, in FFTs of 16 × 16
        // (see `fft_lengths_by_hand`), so tiles of 14 × 14 outputs, whose
        // columns start at 0, 14, ..., 84, the last tile 9 outputs wide.
        // Input column 81 is read by the tile of columns 70..84 (input
        // columns 70..86) and by no other: the last one reads 84..95.
        assert_eq!((fft_len(3, 18), fft_len(3, 93)), (16, 16));
        let mut rng = Rng::new(1);
        let mut x = Array4::from_shape_simple_fn((1, 1, 20, 95), || rng.unit());
        x[[0, 0, 0, 81]] = f64::NAN;
        let k = Array4::from_shape_simple_fn((1, 1, 3, 3), || rng.unit());
        let p = problem(x.view(), k.view(), None, &ConvOptions::new());
        let mut got = Array4::from_elem((1, 1, 18, 93), f64::NAN);
        run(&p, None, got.view_mut());
        let mut want = Array4::zeros((1, 1, 18, 93));
        direct::run(&p, want.view_mut());
        for ((_, _, i, j), &v) in got.indexed_iter() {
            if i < 14 && (70..84).contains(&j) {
                assert!(v.is_nan(), "output ({i}, {j}) is {v}");
            } else {
                assert!(v.close(want[[0, 0, i, j]], 1.0), "output ({i}, {j}) is {v}");
            }
        }
    }

    #[test]
    fn fft_lengths_by_hand() {
        // 3 taps over 100 outputs: 16 gives 14 a tile (cost 16·4/14 ≈ 4.6),
        // 32 gives 30 (≈ 5.3), 64 gives 62 (≈ 6.2), 128 all 100 (≈ 9.0),
        // where the search stops.
        assert_eq!(fft_len(3, 100), 16);
        // 17 taps: from 32, which already gives the 16 outputs wanted.
        assert_eq!(fft_len(17, 16), 32);
        // 100 taps and one output: 128, the first length that fits.
        assert_eq!(fft_len(100, 1), 128);
        // 15 taps over 26 outputs: 16 gives 2 (cost 32), 32 gives 18
        // (≈ 8.9), 64 all 26 (≈ 14.8).
        assert_eq!(fft_len(15, 26), 32);
    }

    #[test]
    fn fft_lengths_are_powers_of_two_that_hold_the_kernel() {
        for extent in [1, 2, 3, 7, 16, 17, 100, 511, 512, 513, 1500] {
            for outputs in [1, 2, 15, 16, 100, 1000, 100_000] {
                let len = fft_len(extent, outputs);
                assert!(len.is_power_of_two(), "{extent}, {outputs}: {len}");
                // One tap along an axis needs no transform along it.
                let least = if extent == 1 { 1 } else { extent.max(MIN_LEN) };
                assert!(len >= least, "{extent}, {outputs}: {len}");
                assert!(
                    len <= MAX_LEN.max(4 * extent.next_power_of_two()),
                    "{extent}, {outputs}: {len}"
                );
            }
        }
    }

    #[test]
    fn spectra_lengths_by_hand() {
        // 16 × 16 FFTs (see `fft_lengths_by_hand`): 16 / 2 + 1 = 9 columns
        // of 16 values per kernel.
        assert_eq!(spectra_len([3, 3], [100, 100], 2), Some(9 * 16 * 2));
        // 32 rows (17 taps over 16 outputs) by 16 columns.
        assert_eq!(spectra_len([17, 3], [16, 100], 1), Some(9 * 32));
        assert_eq!(spectra_len([3, 3], [1, 1], 0), Some(0));
        assert_eq!(spectra_len([3, 3], [1, 1], usize::MAX), None);
    }

    #[test]
    fn transpose_across_several_tiles() {
        // A 20 × 18 block of a source with rows 21 apart (the block's
        // tiles of 16 end part-way along both sides), into rows 23 apart.
        let src: Vec<usize> = (0..20 * 21).map(|i| 100 * (i / 21) + i % 21).collect();
        let mut dst = vec![usize::MAX; 18 * 23];
        transpose(&src, 21, 20, 18, &mut dst, 23);
        for k in 0..18 {
            for r in 0..23 {
                let want = if r < 20 { 100 * r + k } else { usize::MAX };
                assert_eq!(dst[k * 23 + r], want, "row {k}, column {r}");
            }
        }
    }

    #[test]
    fn fft_length_grows_with_the_kernel_and_stops_at_the_output() {
        // A 31-tap kernel over 2048 outputs: 128 gives 98 outputs a tile
        // (cost 128·7/98 ≈ 9.1), 256 gives 226 (≈ 9.06), 512 gives 482 (≈ 9.56).
        assert_eq!(fft_len(31, 2048), 256);
        // Three outputs need no more than the smallest length.
        assert_eq!(fft_len(3, 3), MIN_LEN);
        // A kernel longer than the largest length gets up to four times
        // its length: 1024 keeps 325 outputs a tile (cost 1024·10/325 ≈
        // 31.5), 2048 keeps 1349 (≈ 16.7), 4096 keeps 3397 (≈ 14.5).
        assert_eq!(fft_len(700, 5000), 4096);
        // 511 taps: 2048 (1538 outputs, ≈ 14.6), not 512 (2 outputs).
        assert_eq!(fft_len(511, 1_000_000), 2048);
        // One tap along an axis: no transform along it, one output a tile.
        assert_eq!(fft_len(1, 5000), 1);
    }
}
