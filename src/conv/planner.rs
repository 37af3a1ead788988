//! How [`Algorithm::Auto`] chooses, from shapes, element type and options
//! alone.
//!
//! The cost model, per call:
//!
//! 1. Integer elements run [`Algorithm::Vectorized`]: exact, wrapping
//!    arithmetic, which the matrix-product kernels do not offer.
//! 2. With at least 8 output channels per group and at least 16
//!    multiply-adds per output (`C/G · kh · kw`),
//!    [`Algorithm::Gemm`]: a matrix product then reuses each loaded patch
//!    across many output channels, which the direct kernel cannot.
//! 3. Otherwise (single-channel filtering, depthwise and other thin
//!    groups, tiny kernels) [`Algorithm::Vectorized`], which does no
//!    packing at all.
//!
//! [`Algorithm::Separable`], chosen or forced, gives way to
//! [`Algorithm::Vectorized`] when its intermediate (each input row filtered
//! along the columns, one plane at a time) would exceed 2^22 elements.
//!
//! Any fast algorithm, chosen or forced, gives way to
//! [`Algorithm::Direct`] when one block's padded input tile would exceed
//! 2^24 elements (a stride far larger than the kernel over an
//! enormous padding, say), so that working memory stays bounded.

use super::{Algorithm, Element};
use crate::shape::AxisGeometry;

/// Output channels per group from which a matrix product pays.
pub(crate) const GEMM_MIN_OUTPUTS: usize = 8;

/// Multiply-adds per output (`C/G · kh · kw`) from which a matrix product pays.
pub(crate) const GEMM_MIN_DEPTH: usize = 16;

/// The largest padded input tile, in elements, that a fast algorithm may
/// use for one row of output.
pub(crate) const TILE_LIMIT: usize = 1 << 24;

/// The shape facts the choice depends on.
pub(crate) struct Shapes {
    pub(crate) geometry: [AxisGeometry; 2],
    pub(crate) groups: usize,
    /// `C / groups`.
    pub(crate) channels_per_group: usize,
    /// `O`.
    pub(crate) out_channels: usize,
}

/// Kernel taps (`kh · kw`) from which the FFT beats the direct kernel on a
/// single channel: about 14×14 for `f32` and 12×12 for `f64` (whose direct
/// kernel does half as many operations per instruction), timed on 1024²
/// images with AVX-512.
const fn fft_min_taps<A>() -> usize {
    if std::mem::size_of::<A>() <= 4 {
        196
    } else {
        144
    }
}

/// The most elements the separable path's intermediate (every input row
/// filtered along the columns, `H · Wo` for one plane at a time) may take.
pub(crate) const SEPARABLE_LIMIT: usize = 1 << 22;

/// The most complex values the kernel spectra of the FFT path may take.
pub(crate) const FFT_SPECTRA_LIMIT: usize = 1 << 22;

/// The algorithm that will run for `requested` on these shapes; `finite`
/// says whether the data are all finite, and is asked only when the answer
/// depends on it.
pub(crate) fn choose<A: Element>(
    requested: Algorithm,
    shapes: &Shapes,
    finite: impl FnOnce() -> bool,
    separable: impl FnOnce() -> bool,
) -> Algorithm {
    let [rows, cols] = &shapes.geometry;
    let row_tile = cols
        .output_len()
        .ok()
        .and_then(|wo| (wo - 1).checked_mul(cols.stride))
        .and_then(|w| w.checked_add(cols.extent()))
        .and_then(|w| w.checked_mul(rows.extent()))
        .and_then(|t| t.checked_mul(shapes.channels_per_group.max(1)));
    if !matches!(row_tile, Some(t) if t <= TILE_LIMIT) {
        return Algorithm::Direct;
    }
    let fft_fits = || {
        let outputs = [rows.output_len().unwrap_or(0), cols.output_len().unwrap_or(0)];
        let Some(kernels) = shapes.out_channels.checked_mul(shapes.channels_per_group) else {
            return false;
        };
        // One FFT block reads `fft_len` padded rows of every channel.
        let block_tile = row_tile
            .map(|t| t / rows.extent())
            .and_then(|t| t.checked_mul(super::fft::fft_len(rows.extent(), outputs[0])));
        A::FFT
            && rows.stride == 1
            && cols.stride == 1
            && matches!(block_tile, Some(t) if t <= TILE_LIMIT)
            && matches!(
                super::fft::spectra_len([rows.extent(), cols.extent()], outputs, kernels),
                Some(len) if len <= FFT_SPECTRA_LIMIT
            )
    };
    let separable_fits = || {
        cols.output_len()
            .ok()
            .and_then(|wo| wo.checked_mul(rows.input))
            .is_some_and(|len| len <= SEPARABLE_LIMIT)
    };
    match requested {
        Algorithm::Auto => {
            let taps = rows.kernel * cols.kernel;
            let depth = shapes.channels_per_group * taps;
            let outputs_per_group = shapes.out_channels / shapes.groups.max(1);
            let one_to_one = shapes.channels_per_group == 1 && outputs_per_group == 1;
            if A::FFT && one_to_one && rows.kernel > 1 && cols.kernel > 1 && separable_fits() && separable() {
                Algorithm::Separable
            } else if shapes.channels_per_group == 1 && taps >= fft_min_taps::<A>() && fft_fits() && finite() {
                Algorithm::Fft
            } else if A::FAST_GEMM && outputs_per_group >= GEMM_MIN_OUTPUTS && depth >= GEMM_MIN_DEPTH {
                Algorithm::Gemm
            } else {
                Algorithm::Vectorized
            }
        }
        Algorithm::Gemm if !A::FAST_GEMM => Algorithm::Vectorized,
        Algorithm::Fft if !fft_fits() => Algorithm::Vectorized,
        Algorithm::Separable if !A::FFT || !separable_fits() => Algorithm::Vectorized,
        forced => forced,
    }
}
