//! How an algorithm is chosen: [`choose`] turns the requested
//! [`Algorithm`], the shapes and the element type into a [`Recipe`] (the
//! algorithm that will run, and the rule that picked it). Every rule and
//! every threshold is stated here, once; the docs refer to this file.
//!
//! The rules, in the order they are tried:
//!
//! 1. **Bounded memory** ([`Rule::TileTooLarge`]): any fast algorithm,
//!    chosen or forced, gives way to [`Algorithm::Direct`] when the padded
//!    input tile of one output row (all input channels of a group) would
//!    exceed [`TILE_LIMIT`] elements: a stride far larger than the kernel
//!    over an enormous padding, say.
//! 2. **Forced algorithms** ([`Rule::Forced`], [`Rule::Unsupported`]):
//!    a forced algorithm runs, unless the element type or the shapes rule
//!    it out; then [`Algorithm::Vectorized`] runs. [`Algorithm::Gemm`]
//!    needs a type with a matrix-product kernel (not integers);
//!    [`Algorithm::Fft`] real floating point, stride 1, a block tile
//!    within [`TILE_LIMIT`] and kernel spectra of at most
//!    [`FFT_SPECTRA_LIMIT`] values; [`Algorithm::Separable`] real floating
//!    point (its ring of row-filtered lines, `dh·(kh − 1) + 1` lines of
//!    `Wo` values, is never larger than the tile of rule 1), and kernels
//!    that all have rank 1 (`kernels::choose` checks that);
//!    [`Algorithm::Winograd`] real floating point, a 3×3 kernel and
//!    stride 1.
//! 3. **Separable** ([`Rule::RankOne`]): with `Auto`, a real
//!    floating-point problem at stride 1 with one input and one output
//!    channel per group whose kernels are all rank 1, at least 2×2, of at
//!    least [`SEPARABLE_MIN_TAPS`] taps and at most [`SEPARABLE_MAX_SPAN`]
//!    taps along both axes together, runs [`Algorithm::Separable`]:
//!    `kh + kw` multiply-adds per output instead of `kh · kw`. Those are
//!    the kernels on which it measured faster than the direct kernel and
//!    the FFT.
//! 4. **FFT** ([`Rule::LargeKernel`]): one input channel per group, a
//!    kernel of at least [`fft_min_taps`] taps ([`fft_min_taps_one_row`]
//!    for a kernel one row tall, as in every 1-D call), the FFT's conditions above,
//!    and tame data (finite, and far from overflow: a NaN or an infinity
//!    would spread over its whole FFT tile; `Problem::tame` has the
//!    bound): [`Algorithm::Fft`].
//! 5. **Fewer multiplies** ([`Rule::FewerMultiplies`]): real floating
//!    point, a 3×3 kernel at stride 1 and dilation at most
//!    [`WINOGRAD_MAX_DILATION`], at least
//!    [`WINOGRAD_MIN_CHANNELS`] input and output channels per group, at
//!    least [`WINOGRAD_MIN_IMAGE_OUTPUTS`] outputs per image and
//!    [`WINOGRAD_MIN_OUTPUTS`] per channel over the batch (a plan, which
//!    transforms its weights once, needs no batch), and tame data:
//!    [`Algorithm::Winograd`], a quarter of the multiplies of the
//!    definition. Where it measured slower (few channels, small images
//!    whose blocks fill a fraction of a panel, a weight transform that a
//!    small batch does not repay, larger dilations) the next rule decides.
//! 6. **Matrix product** ([`Rule::Reuse`]): at least [`GEMM_MIN_OUTPUTS`]
//!    output channels per group and at least [`GEMM_MIN_DEPTH`]
//!    multiply-adds per output (`C/G · kh · kw`), on a type with a
//!    matrix-product kernel: [`Algorithm::Gemm`], which reuses each loaded
//!    patch across many output channels.
//! 7. **Otherwise** ([`Rule::Thin`]): single-channel filtering, depthwise
//!    and other thin groups, tiny kernels, and every integer problem run
//!    [`Algorithm::Vectorized`], which does no packing at all and is exact
//!    for integers.

use super::element::Element;
use super::kernels::fft;
use crate::options::Algorithm;
use crate::shape::AxisGeometry;

/// Output channels per group from which a matrix product pays.
pub(crate) const GEMM_MIN_OUTPUTS: usize = 8;

/// Multiply-adds per output (`C/G · kh · kw`) from which a matrix product
/// pays.
pub(crate) const GEMM_MIN_DEPTH: usize = 16;

/// The largest padded input tile, in elements, that a fast algorithm may
/// use for one row of output.
pub(crate) const TILE_LIMIT: usize = 1 << 24;

/// Kernel taps (`kh · kw`) from which the separable path beats the direct
/// kernel, `f32` and `f64` alike: on 1024² images with `Same` padding, one
/// thread, AVX-512, two runs of `examples/separable_timing.rs` gave a 3×3
/// Sobel 0.85× and 1.08× the direct kernel's speed in two passes (`f32`;
/// 1.03× and 1.10× in `f64`), no reliable gain, and a 4×4 Gaussian 1.25×
/// and 1.42× (`f32`; 1.13× and 1.39× in `f64`).
pub(crate) const SEPARABLE_MIN_TAPS: usize = 16;

/// The largest `kh + kw` for which the separable path was measured against
/// the FFT: at 63×63 on 1024² images it was 1.6–1.8× (`f32`) and 2.0–2.1×
/// (`f64`) faster. Its work grows with `kh + kw`, the FFT's with a logarithm, so
/// longer kernels are left to the FFT rule.
pub(crate) const SEPARABLE_MAX_SPAN: usize = 126;

/// The most complex values the kernel spectra of the FFT path may take.
pub(crate) const FFT_SPECTRA_LIMIT: usize = 1 << 22;

/// Kernel taps (`kh · kw`) from which the FFT beats the direct kernel on a
/// single channel: about 14×14 for `f32` and 12×12 for `f64` (whose direct
/// kernel does half as many operations per instruction), timed on 1024²
/// images with AVX-512.
pub(crate) const fn fft_min_taps<A>() -> usize {
    if std::mem::size_of::<A>() <= 4 {
        196
    } else {
        144
    }
}

/// Taps from which the FFT beats the direct kernel when the kernel is one
/// tap tall (every 1-D call): on a signal of 10⁶ samples, `Same`, one
/// thread, AVX-512, the direct kernel was 1.1–1.15× faster at 255 taps in
/// `f32` and the FFT 1.1× faster at 319 (forced `Vectorized` against
/// forced `Fft` through `correlate1d_into`, medians of 9 calls, on a
/// shared machine); in `f64` the FFT already won at 191, so the 2-D
/// threshold stands.
pub(crate) const fn fft_min_taps_one_row<A>() -> usize {
    if std::mem::size_of::<A>() <= 4 {
        288
    } else {
        fft_min_taps::<A>()
    }
}

/// Input and output channels per group from which `Winograd` pays: on 56²
/// images, one thread, `f32`, AVX-512, forced `Winograd` against forced
/// `Gemm` (medians of 7 `conv2d_into` calls each), `C = O` = 8, 16, 32
/// ran 0.61×, 0.66×, 0.91× `Gemm`'s speed, 64 and 128 1.10× and 1.47×.
pub(crate) const WINOGRAD_MIN_CHANNELS: usize = 64;

/// The largest dilation at which `Winograd` pays: on 4×64×64² (b5's
/// layer) and 4×128×64², one thread, `f32`, it ran 1.13–1.22× and 1.6×
/// `Gemm`'s speed at dilation 2, 0.87× at 3 and 1.0× at 4 (128² images).
pub(crate) const WINOGRAD_MAX_DILATION: usize = 2;

/// Outputs per image (`Ho · Wo`) from which `Winograd` pays: a block of
/// few tiles fills a fraction of the micro-kernel's panel. In the runs
/// above, 7², 14² and 28² images with 128–512 channels ran 0.12–0.9×
/// `Gemm`'s speed (one batch of 8 at 28², 1.3×), 32² 1.03×, 56² and
/// 112² 1.2–1.5×.
pub(crate) const WINOGRAD_MIN_IMAGE_OUTPUTS: usize = 32 * 32;

/// Outputs per output channel over the batch (`N · Ho · Wo`) from which
/// the one-shot call repays the transform of its weights (about 80 ns per
/// 3×3 kernel, while the layer takes about 0.1 ns per kernel and output):
/// one 28² image of 256 channels ran 0.38× `Gemm`'s speed, two 56² images
/// 1.12×.
pub(crate) const WINOGRAD_MIN_OUTPUTS: usize = 4096;

/// The shape facts the choice depends on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shapes {
    /// `N`, the images of the batch; 0 for a plan, which prepares its
    /// weights once for batches of any size.
    pub(crate) images: usize,
    pub(crate) geometry: [AxisGeometry; 2],
    pub(crate) groups: usize,
    /// `C / groups`.
    pub(crate) channels_per_group: usize,
    /// `O`.
    pub(crate) out_channels: usize,
}

/// Which rule of the module docs decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// 1: the padded tile of one output row is too large.
    TileTooLarge,
    /// 2: the forced algorithm runs.
    Forced,
    /// 2: the forced algorithm does not apply; the vectorized one runs.
    Unsupported,
    /// 3: rank-1 kernels.
    RankOne,
    /// 4: a large kernel on one channel.
    LargeKernel,
    /// 5: a 3×3 layer with many channels.
    FewerMultiplies,
    /// 6: many output channels share each patch.
    Reuse,
    /// 7: everything else.
    Thin,
}

/// The planner's answer: the algorithm that will run, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Recipe {
    pub(crate) algorithm: Algorithm,
    pub(crate) rule: Rule,
}

/// The recipe for `requested` on these shapes and element type. `tame`
/// says whether the data are tame (`Problem::tame`: finite, and far from
/// overflow) and `separable` whether every kernel has rank 1; each is
/// asked only when the answer depends on it (both read the data), at most
/// once, and neither has other effects.
pub(crate) fn choose<A: Element>(
    requested: Algorithm,
    shapes: &Shapes,
    tame: impl Fn() -> bool,
    separable: impl FnOnce() -> bool,
) -> Recipe {
    let recipe = |algorithm, rule| Recipe { algorithm, rule };
    let [rows, cols] = &shapes.geometry;
    let row_tile = cols
        .output_len()
        .ok()
        .and_then(|wo| (wo - 1).checked_mul(cols.stride))
        .and_then(|w| w.checked_add(cols.extent()))
        .and_then(|w| w.checked_mul(rows.extent()))
        .and_then(|t| t.checked_mul(shapes.channels_per_group.max(1)));
    if !matches!(row_tile, Some(t) if t <= TILE_LIMIT) {
        return recipe(Algorithm::Direct, Rule::TileTooLarge);
    }
    let fft_fits = || {
        let outputs = [rows.output_len().unwrap_or(0), cols.output_len().unwrap_or(0)];
        let Some(kernels) = shapes.out_channels.checked_mul(shapes.channels_per_group) else {
            return false;
        };
        // One FFT block reads `fft_len` padded rows of every channel.
        let block_tile = row_tile
            .map(|t| t / rows.extent())
            .and_then(|t| t.checked_mul(fft::fft_len(rows.extent(), outputs[0])));
        A::REAL_FLOAT
            && rows.stride == 1
            && cols.stride == 1
            && matches!(block_tile, Some(t) if t <= TILE_LIMIT)
            && matches!(
                fft::spectra_len([rows.extent(), cols.extent()], outputs, kernels),
                Some(len) if len <= FFT_SPECTRA_LIMIT
            )
    };
    let winograd_fits = A::REAL_FLOAT && rows.kernel == 3 && cols.kernel == 3 && rows.stride == 1 && cols.stride == 1;
    let applies = match requested {
        Algorithm::Auto => None,
        Algorithm::Gemm => Some(A::MATMUL),
        Algorithm::Fft => Some(fft_fits()),
        Algorithm::Separable => Some(A::REAL_FLOAT),
        Algorithm::Winograd => Some(winograd_fits),
        Algorithm::Direct | Algorithm::Vectorized => Some(true),
    };
    match applies {
        Some(true) => return recipe(requested, Rule::Forced),
        Some(false) => return recipe(Algorithm::Vectorized, Rule::Unsupported),
        None => {}
    }
    let taps = rows.kernel * cols.kernel;
    let fft_threshold = if rows.kernel == 1 {
        fft_min_taps_one_row::<A>()
    } else {
        fft_min_taps::<A>()
    };
    let depth = shapes.channels_per_group * taps;
    let outputs_per_group = shapes.out_channels / shapes.groups.max(1);
    let one_to_one = shapes.channels_per_group == 1 && outputs_per_group == 1;
    let unit_stride = rows.stride == 1 && cols.stride == 1;
    let image_outputs = rows
        .output_len()
        .unwrap_or(0)
        .saturating_mul(cols.output_len().unwrap_or(0));
    let measured_faster = rows.kernel > 1
        && cols.kernel > 1
        && taps >= SEPARABLE_MIN_TAPS
        && rows.kernel + cols.kernel <= SEPARABLE_MAX_SPAN;
    if A::REAL_FLOAT && one_to_one && unit_stride && measured_faster && separable() {
        recipe(Algorithm::Separable, Rule::RankOne)
    } else if shapes.channels_per_group == 1 && taps >= fft_threshold && fft_fits() && tame() {
        recipe(Algorithm::Fft, Rule::LargeKernel)
    } else if winograd_fits
        && rows.dilation <= WINOGRAD_MAX_DILATION
        && cols.dilation <= WINOGRAD_MAX_DILATION
        && shapes.channels_per_group >= WINOGRAD_MIN_CHANNELS
        && outputs_per_group >= WINOGRAD_MIN_CHANNELS
        && image_outputs >= WINOGRAD_MIN_IMAGE_OUTPUTS
        && (shapes.images == 0 || image_outputs.saturating_mul(shapes.images) >= WINOGRAD_MIN_OUTPUTS)
        && tame()
    {
        recipe(Algorithm::Winograd, Rule::FewerMultiplies)
    } else if A::MATMUL && outputs_per_group >= GEMM_MIN_OUTPUTS && depth >= GEMM_MIN_DEPTH {
        recipe(Algorithm::Gemm, Rule::Reuse)
    } else {
        recipe(Algorithm::Vectorized, Rule::Thin)
    }
}

#[cfg(test)]
mod tests {
    use num_complex::Complex;

    use super::*;

    /// A problem of `c` input and `o` output channels in `g` groups, a
    /// `side`² input, a `k`² kernel, stride `s` and padding `pad`.
    fn shapes(c: usize, o: usize, g: usize, side: usize, k: usize, s: usize, pad: usize) -> Shapes {
        let axis = AxisGeometry::new(side, k).stride(s).padding(pad, pad);
        Shapes {
            images: 8,
            geometry: [axis, axis],
            groups: g,
            channels_per_group: c / g,
            out_channels: o,
        }
    }

    /// Each row: what is asked, the shapes, whether the kernels are rank 1,
    /// and the recipe expected by the rules of the module docs.
    #[test]
    fn f32_rules_table() {
        use Algorithm::*;
        let cases: [(Algorithm, Shapes, bool, Algorithm, Rule); 29] = [
            // Rule 6: a 5×5 filter on one channel, not separable.
            (Auto, shapes(1, 1, 1, 1024, 5, 1, 2), false, Vectorized, Rule::Thin),
            // Rule 3: the same filter, rank 1.
            (Auto, shapes(1, 1, 1, 1024, 5, 1, 2), true, Separable, Rule::RankOne),
            // Rule 3 needs at least 2×2 and from 16 taps: not 3×3 (the
            // direct kernel measured faster), 4×4 on...
            (Auto, shapes(1, 1, 1, 64, 1, 1, 0), true, Vectorized, Rule::Thin),
            (Auto, shapes(1, 1, 1, 1024, 3, 1, 1), true, Vectorized, Rule::Thin),
            (Auto, shapes(1, 1, 1, 1024, 4, 1, 2), true, Separable, Rule::RankOne),
            // ... to 63×63, where it still beat the FFT; 64×64 is left to
            // the FFT.
            (Auto, shapes(1, 1, 1, 1024, 63, 1, 31), true, Separable, Rule::RankOne),
            (Auto, shapes(1, 1, 1, 1024, 64, 1, 32), true, Fft, Rule::LargeKernel),
            // Rule 3 needs stride 1 (strided, fewer lines are shared).
            (Auto, shapes(1, 1, 1, 1024, 5, 2, 2), true, Vectorized, Rule::Thin),
            // Rule 4 from 196 taps (14×14) on f32, not below (13×13).
            (Auto, shapes(1, 1, 1, 1024, 14, 1, 7), false, Fft, Rule::LargeKernel),
            (Auto, shapes(1, 1, 1, 1024, 13, 1, 6), false, Vectorized, Rule::Thin),
            // Rule 4 needs stride 1.
            (Auto, shapes(1, 1, 1, 1024, 15, 2, 7), false, Vectorized, Rule::Thin),
            // Rule 5: a ResNet 3×3 layer of 64 channels takes Winograd...
            (
                Auto,
                shapes(64, 64, 1, 56, 3, 1, 1),
                false,
                Winograd,
                Rule::FewerMultiplies,
            ),
            (
                Auto,
                shapes(64, 128, 1, 32, 3, 1, 1),
                false,
                Winograd,
                Rule::FewerMultiplies,
            ),
            // ... not with 32 channels in or out, on images under 32², at
            // stride 2, or with another kernel: the matrix product (rule
            // 6); depthwise is thin (rule 7).
            (Auto, shapes(32, 64, 1, 56, 3, 1, 1), false, Gemm, Rule::Reuse),
            (Auto, shapes(64, 32, 1, 56, 3, 1, 1), false, Gemm, Rule::Reuse),
            (Auto, shapes(64, 64, 1, 31, 3, 1, 1), false, Gemm, Rule::Reuse),
            (Auto, shapes(64, 64, 1, 56, 3, 2, 1), false, Gemm, Rule::Reuse),
            (Auto, shapes(64, 64, 1, 56, 5, 1, 2), false, Gemm, Rule::Reuse),
            (Auto, shapes(128, 128, 128, 56, 3, 1, 1), false, Vectorized, Rule::Thin),
            // Rule 6 from 8 outputs per group and a depth of 16.
            (Auto, shapes(16, 8, 1, 20, 1, 1, 0), false, Gemm, Rule::Reuse),
            (Auto, shapes(16, 7, 1, 20, 1, 1, 0), false, Vectorized, Rule::Thin),
            (Auto, shapes(1, 8, 1, 20, 4, 1, 0), false, Gemm, Rule::Reuse),
            (Auto, shapes(1, 8, 1, 20, 3, 1, 0), false, Vectorized, Rule::Thin),
            // Rule 2: forced algorithms run where they apply...
            (Gemm, shapes(1, 1, 1, 64, 3, 1, 1), false, Gemm, Rule::Forced),
            // ... and give way where they do not.
            (Fft, shapes(1, 1, 1, 64, 3, 2, 1), false, Vectorized, Rule::Unsupported),
            // Winograd: 3×3 at stride 1 only, grouped or not.
            (Winograd, shapes(64, 64, 1, 56, 3, 1, 1), false, Winograd, Rule::Forced),
            (Winograd, shapes(4, 4, 2, 9, 3, 1, 0), false, Winograd, Rule::Forced),
            (
                Winograd,
                shapes(64, 64, 1, 56, 3, 2, 1),
                false,
                Vectorized,
                Rule::Unsupported,
            ),
            (
                Winograd,
                shapes(64, 64, 1, 56, 5, 1, 2),
                false,
                Vectorized,
                Rule::Unsupported,
            ),
        ];
        for (requested, shapes, rank_one, algorithm, rule) in cases {
            let got = choose::<f32>(requested, &shapes, || true, || rank_one);
            assert_eq!(got, Recipe { algorithm, rule }, "{requested:?} on {shapes:?}");
        }
    }

    #[test]
    fn f64_takes_the_separable_path_from_the_same_sizes() {
        let at = |k, pad| choose::<f64>(Algorithm::Auto, &shapes(1, 1, 1, 1024, k, 1, pad), || true, || true);
        assert_eq!(at(3, 1).algorithm, Algorithm::Vectorized);
        for (k, pad) in [(4, 2), (5, 2), (13, 6), (63, 31)] {
            assert_eq!(at(k, pad).algorithm, Algorithm::Separable, "{k}×{k}");
        }
        assert_eq!(at(64, 32).algorithm, Algorithm::Fft);
        // Unequal sides count their taps: 2×8 has 16, 3×5 only 15.
        let tall = |kh, kw| {
            let rows = AxisGeometry::new(1024, kh);
            let cols = AxisGeometry::new(1024, kw);
            let shapes = Shapes {
                images: 1,
                geometry: [rows, cols],
                groups: 1,
                channels_per_group: 1,
                out_channels: 1,
            };
            choose::<f64>(Algorithm::Auto, &shapes, || true, || true).algorithm
        };
        assert_eq!(tall(2, 8), Algorithm::Separable);
        assert_eq!(tall(3, 5), Algorithm::Vectorized);
    }

    #[test]
    fn f64_switches_to_the_fft_earlier() {
        let at = |k, pad| choose::<f64>(Algorithm::Auto, &shapes(1, 1, 1, 1024, k, 1, pad), || true, || false);
        assert_eq!(at(12, 6).algorithm, Algorithm::Fft);
        assert_eq!(at(11, 5).algorithm, Algorithm::Vectorized);
        assert_eq!((fft_min_taps::<f32>(), fft_min_taps::<f64>()), (196, 144));
        assert_eq!(
            (fft_min_taps_one_row::<f32>(), fft_min_taps_one_row::<f64>()),
            (288, 144)
        );
    }

    #[test]
    fn non_finite_data_never_take_the_fft() {
        let big = shapes(1, 1, 1, 1024, 21, 1, 10);
        let got = choose::<f32>(Algorithm::Auto, &big, || false, || false);
        assert_eq!(
            got,
            Recipe {
                algorithm: Algorithm::Vectorized,
                rule: Rule::Thin
            }
        );
        // Forced, it runs all the same: the caller asked for it.
        let forced = choose::<f32>(Algorithm::Fft, &big, || false, || false);
        assert_eq!(forced.algorithm, Algorithm::Fft);
    }

    #[test]
    fn winograd_needs_tame_data_a_batch_and_little_dilation() {
        let layer = shapes(64, 64, 1, 56, 3, 1, 1);
        let auto = |shapes: &Shapes, tame| choose::<f32>(Algorithm::Auto, shapes, || tame, || false);
        assert_eq!(
            auto(&layer, false),
            Recipe {
                algorithm: Algorithm::Gemm,
                rule: Rule::Reuse
            }
        );
        // One 56² image makes 3 136 outputs a channel, under the 4 096 that
        // repay the weights' transform; two make enough. A plan (no batch)
        // transforms them once.
        let batch = |images| Shapes { images, ..layer };
        assert_eq!(auto(&batch(1), true).algorithm, Algorithm::Gemm);
        assert_eq!(auto(&batch(2), true).algorithm, Algorithm::Winograd);
        assert_eq!(auto(&batch(0), true).algorithm, Algorithm::Winograd);
        // Dilation 2 (b5) takes it, dilation 3 measured slower.
        let dilated = |d| {
            let axis = AxisGeometry::new(64, 3).dilation(d).padding(d, d);
            Shapes {
                geometry: [axis, axis],
                ..layer
            }
        };
        assert_eq!(auto(&dilated(2), true).algorithm, Algorithm::Winograd);
        assert_eq!(auto(&dilated(3), true).algorithm, Algorithm::Gemm);
        // Integers never take it.
        assert_eq!(
            choose::<i32>(Algorithm::Auto, &layer, || true, || false).algorithm,
            Algorithm::Vectorized
        );
    }

    #[test]
    fn the_data_are_read_only_when_the_answer_depends_on_them() {
        let never = || -> bool { panic!("the data should not be read") };
        // A 3×3 layer of 32 channels: neither separable, FFT nor Winograd
        // applies.
        choose::<f32>(Algorithm::Auto, &shapes(32, 32, 1, 56, 3, 1, 1), never, never);
        // Forced algorithms read nothing.
        choose::<f32>(Algorithm::Separable, &shapes(1, 1, 1, 64, 3, 1, 1), never, never);
    }

    #[test]
    fn integers_and_complex_numbers() {
        let resnet = shapes(64, 64, 1, 56, 3, 1, 1);
        let small = shapes(1, 1, 1, 1024, 21, 1, 10);
        let int = |requested, shapes| choose::<i32>(requested, shapes, || true, || true).algorithm;
        assert_eq!(int(Algorithm::Auto, &resnet), Algorithm::Vectorized);
        assert_eq!(int(Algorithm::Gemm, &resnet), Algorithm::Vectorized);
        assert_eq!(int(Algorithm::Fft, &small), Algorithm::Vectorized);
        assert_eq!(int(Algorithm::Separable, &small), Algorithm::Vectorized);
        let complex = |requested, shapes| choose::<Complex<f64>>(requested, shapes, || true, || true).algorithm;
        assert_eq!(complex(Algorithm::Auto, &resnet), Algorithm::Gemm);
        assert_eq!(complex(Algorithm::Auto, &small), Algorithm::Vectorized);
        assert_eq!(complex(Algorithm::Fft, &small), Algorithm::Vectorized);
        // Winograd is for real floating point only.
        assert_eq!(int(Algorithm::Winograd, &resnet), Algorithm::Vectorized);
        assert_eq!(complex(Algorithm::Winograd, &resnet), Algorithm::Vectorized);
        assert_eq!(
            choose::<f64>(Algorithm::Winograd, &resnet, || true, || true).algorithm,
            Algorithm::Winograd
        );
    }

    #[test]
    fn memory_limits() {
        // One row's tile: a 1-tap kernel, stride 2^20 over 2^20 padding
        // gives (Wo - 1)·s + 1 ≈ 2^21 columns by 1 row: fine; with 16
        // channels per group, 2^25 elements: too large.
        let wide = |c| {
            let rows = AxisGeometry::new(1, 1);
            let cols = AxisGeometry::new(1, 1).stride(1 << 20).padding(1 << 20, 1 << 20);
            Shapes {
                images: 1,
                geometry: [rows, cols],
                groups: 1,
                channels_per_group: c,
                out_channels: 1,
            }
        };
        let direct = Recipe {
            algorithm: Algorithm::Direct,
            rule: Rule::TileTooLarge,
        };
        assert_eq!(choose::<f32>(Algorithm::Gemm, &wide(16), || true, || true), direct);
        assert_ne!(choose::<f32>(Algorithm::Gemm, &wide(1), || true, || true), direct);
        // The separable path keeps a few lines, whatever the image's height.
        let tall = |h| {
            let rows = AxisGeometry::new(h, 3).padding(1, 1);
            let cols = AxisGeometry::new(1024, 3).padding(1, 1);
            Shapes {
                images: 1,
                geometry: [rows, cols],
                groups: 1,
                channels_per_group: 1,
                out_channels: 1,
            }
        };
        let separable = |h| choose::<f32>(Algorithm::Separable, &tall(h), || true, || true).algorithm;
        assert_eq!(separable(1 << 20), Algorithm::Separable);
    }
}
