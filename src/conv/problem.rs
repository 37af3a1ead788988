//! A convolution with every option resolved and checked ([`Problem`]), and
//! the one validation every entry point and every plan goes through.
//!
//! An entry point checks its arguments here once ([`check_batched`] for the
//! batched forms; the single-channel forms add scipy's rules in
//! `single_channel`), allocates its output here ([`zeros`], fallibly), and
//! hands the [`Problem`] to the kernels, which only ever see consistent,
//! checked numbers.

use ndarray::{Array, ArrayView, ArrayView1, ArrayView4, Dimension, ShapeBuilder};

use super::element::{Capabilities, Element};
use super::exec::blocks::max_over_chunks;
use super::exec::microkernel::PackedWeights;
use super::exec::scratch::Workspace;
use super::kernels::winograd;
use super::planner::Shapes;
use crate::error::{Error, Result};
use crate::options::{Boundary, ConvOptions};
use crate::shape::{batched_geometry, batched_output_shape, checked_len, AxisGeometry};

/// A convolution with every option resolved and checked: the only thing an
/// algorithm is given.
///
/// Public only so that the sealed `Capabilities` trait can name it; the
/// module is private.
pub struct Problem<'a, A: Capabilities> {
    /// `[N, C, H, W]`.
    pub(crate) input: ArrayView4<'a, A>,
    /// `[O, C / groups, kh, kw]`, already oriented: a convolution's kernel
    /// arrives here rotated by 180°.
    pub(crate) weight: ArrayView4<'a, A>,
    /// One value per output channel.
    pub(crate) bias: Option<ArrayView1<'a, A>>,
    /// Whether each tap is conjugated (scipy's complex correlation).
    pub(crate) conjugate_kernel: bool,
    /// Rows, then columns.
    pub(crate) geometry: [AxisGeometry; 2],
    /// Channel groups; divides both `C` and `O`.
    pub(crate) groups: usize,
    /// How the padding is filled.
    pub(crate) boundary: Boundary,
    /// The fill value of [`Boundary::Constant`] as an `A` (zero for the
    /// other rules, which never read it).
    pub(crate) fill: A,
    /// Weight-dependent data a [`Conv2dPlan`](crate::Conv2dPlan) computed
    /// ahead.
    pub(crate) prepared: Option<&'a Prepared<A>>,
    /// Scratch buffers kept between calls (a plan's); without one, each
    /// kernel makes its own for the call.
    pub(crate) workspace: Option<&'a Workspace<A>>,
}

/// What a [`Conv2dPlan`](crate::Conv2dPlan) computes once from the weights.
pub(crate) struct Prepared<A: Capabilities> {
    /// The FFT kernel spectra, when the plan runs the FFT.
    pub(crate) spectra: Option<A::Spectra>,
    /// The transformed weights, when the plan runs Winograd's algorithm.
    pub(crate) winograd: Option<winograd::Weights<A>>,
    /// The weights packed for the micro-kernel, when the plan runs `Gemm`
    /// on it.
    pub(crate) packed: Option<PackedWeights<A>>,
}

impl<'a, A: Element> Problem<'a, A> {
    /// A batched problem (PyTorch's `conv2d`: no conjugation), checked by
    /// [`check_batched`], with nothing prepared ahead; and its output shape.
    pub(crate) fn batched(
        input: ArrayView4<'a, A>,
        weight: ArrayView4<'a, A>,
        bias: Option<ArrayView1<'a, A>>,
        options: &ConvOptions,
    ) -> Result<(Self, [usize; 4])> {
        let checked = check_batched::<A>(
            dims4(input.shape()),
            dims4(weight.shape()),
            bias.as_ref().map(|b| b.len()),
            options,
        )?;
        let problem = Problem {
            input,
            weight,
            bias,
            conjugate_kernel: false,
            geometry: checked.geometry,
            groups: options.groups,
            boundary: options.boundary,
            fill: checked.fill,
            prepared: None,
            workspace: None,
        };
        Ok((problem, checked.output_shape))
    }

    /// `[N, O, Ho, Wo]`; the geometry was checked when the problem was made.
    pub(crate) fn output_shape(&self) -> [usize; 4] {
        let [rows, cols] = &self.geometry;
        [
            self.input.shape()[0],
            self.weight.shape()[0],
            rows.output_len().unwrap_or(0),
            cols.output_len().unwrap_or(0),
        ]
    }

    /// The shape facts the planner chooses by.
    pub(crate) fn shapes(&self) -> Shapes {
        Shapes {
            images: self.input.shape()[0],
            geometry: self.geometry,
            groups: self.groups,
            channels_per_group: self.weight.shape()[1],
            out_channels: self.weight.shape()[0],
        }
    }

    /// Whether the data are tame: the input, the weights and the fill value
    /// all finite, and small enough that no transform's sums can overflow
    /// where the definition's would not. The bound: the largest input
    /// magnitude times the largest weight magnitude times the taps of one
    /// output, times 2²⁰ for the gains of the transforms (`Winograd`'s
    /// reach about 10² · 19² = 36 100 on the way), within the type's range.
    pub(crate) fn tame(&self) -> bool {
        // Contiguous data in chunks of 64 Ki values, scanned in parallel;
        // other layouts row by row, stopping at the first row that holds a
        // value that is not finite.
        let largest = |values: ArrayView4<'_, A>| {
            if let Some(values) = values.as_slice_memory_order() {
                return max_over_chunks(values, 1 << 16, A::largest_magnitude);
            }
            let mut largest = 0.0f64;
            for row in values.rows() {
                let row = match row.as_slice() {
                    Some(row) => A::largest_magnitude(row),
                    None => row.iter().fold(0.0, |m: f64, &v| m.max(v.checked_magnitude())),
                };
                if row == f64::INFINITY {
                    return row;
                }
                largest = largest.max(row);
            }
            largest
        };
        if !self.fill.finite() {
            return false;
        }
        let x = largest(self.input).max(self.fill.transform_magnitude());
        let w = largest(self.weight);
        let [_, channels, kh, kw] = dims4(self.weight.shape());
        let taps = (channels * kh * kw) as f64;
        x.is_finite() && w.is_finite() && x * w * taps * f64::from(1u32 << 20) <= A::LARGEST
    }
}

/// A batched convolution's options, checked: its geometry, output shape
/// and fill value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked<A> {
    pub(crate) geometry: [AxisGeometry; 2],
    pub(crate) output_shape: [usize; 4],
    pub(crate) fill: A,
}

/// Checks a batched convolution of an input `[N, C, H, W]` with weights
/// `[O, C / groups, kh, kw]` and a bias of `bias` elements: the one
/// validation that [`conv2d`](crate::conv2d), its gradients and
/// [`Conv2dPlan`](crate::Conv2dPlan) share.
/// [`conv2d_algorithm`](crate::conv2d_algorithm), which takes no bias and
/// allocates nothing, runs its shape part (`shape::batched_geometry`).
pub(crate) fn check_batched<A: Element>(
    input: [usize; 4],
    weight: [usize; 4],
    bias: Option<usize>,
    options: &ConvOptions,
) -> Result<Checked<A>> {
    let geometry = batched_geometry(input, weight, options)?;
    let output_shape = batched_output_shape(input[0], weight[0], &geometry)?;
    check_bias(bias, output_shape[1])?;
    check_bytes::<A>(&output_shape)?;
    let fill = options.boundary.fill()?;
    Ok(Checked {
        geometry,
        output_shape,
        fill,
    })
}

/// `Err(Overflow)` unless an array of `shape` and element `A` has a size
/// in bytes that an allocation may have at all (`isize::MAX`); whether the
/// allocator can provide it is for [`zeros`] to find out.
pub(crate) fn check_bytes<A>(shape: &[usize]) -> Result<()> {
    checked_len(shape)?
        .checked_mul(std::mem::size_of::<A>().max(1))
        .filter(|&bytes| bytes <= isize::MAX as usize)
        .map(|_| ())
        .ok_or(Error::Overflow {
            what: "the output size in bytes",
        })
}

/// The shape of a 4-D array as a fixed-size array.
pub(crate) fn dims4(shape: &[usize]) -> [usize; 4] {
    [shape[0], shape[1], shape[2], shape[3]]
}

/// An array of zeros of `shape`, or [`Error::OutOfMemory`](crate::Error::OutOfMemory) naming `what`
/// and its size when the allocator refuses it, instead of aborting.
///
/// The allocator is asked for the block first; the array is then made by
/// ndarray, whose zeroed allocation leaves the pages untouched until the
/// kernels write them.
pub(crate) fn zeros<A, Sh>(what: &'static str, shape: Sh) -> Result<Array<A, Sh::Dim>>
where
    A: Clone + num_traits::Zero,
    Sh: ShapeBuilder,
{
    let shape = shape.into_shape_with_order();
    let len = checked_len(shape.raw_dim().slice())?;
    reserve::<A>(what, len)?;
    Ok(Array::zeros(shape))
}

/// `Ok` if the allocator can provide `len` elements of `A` at once.
pub(crate) fn reserve<A>(what: &'static str, len: usize) -> Result<()> {
    let bytes = len.saturating_mul(std::mem::size_of::<A>());
    let mut probe = Vec::<A>::new();
    probe
        .try_reserve_exact(len)
        .map_err(|_| Error::OutOfMemory { what, bytes })
}

/// `Err(ShapeMismatch)` naming `what` unless `got` is `expected`.
pub(crate) fn check_shape(what: &'static str, expected: &[usize], got: &[usize]) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what,
            expected: expected.to_vec(),
            got: got.to_vec(),
        })
    }
}

/// `Err(BiasLength)` unless the bias, if any, has one value per output
/// channel.
pub(crate) fn check_bias(bias: Option<usize>, out_channels: usize) -> Result<()> {
    match bias {
        Some(len) if len != out_channels => Err(Error::BiasLength {
            expected: out_channels,
            got: len,
        }),
        _ => Ok(()),
    }
}

/// Whether every element of `values` is finite.
pub(crate) fn all_finite<A: Element, D: Dimension>(values: ArrayView<'_, A, D>) -> bool {
    values.iter().all(|&v| v.finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Padding;

    /// Tame data, in every layout: a NaN or an infinity anywhere, or
    /// magnitudes whose product with the taps and the transforms' margin
    /// leaves the type's range, are not.
    #[test]
    fn tame_data_in_any_layout() {
        let opts = ConvOptions::new().padding(Padding::uniform(1));
        let x = ndarray::Array4::from_shape_fn((2, 3, 5, 7), |(n, c, i, j)| (n + c + i + j) as f32 - 4.0);
        let w = ndarray::Array4::from_elem((2, 3, 3, 3), 0.5f32);
        // Standard, reversed along the rows, and every other column.
        let wide = ndarray::Array4::from_shape_fn((2, 3, 5, 14), |(n, c, i, j)| x[[n, c, i, j / 2]]);
        assert_eq!(wide.slice(ndarray::s![.., .., .., ..;2]), x);
        let layouts = [
            x.view(),
            x.slice(ndarray::s![.., .., ..;-1, ..]),
            wide.slice(ndarray::s![.., .., .., ..;2]),
        ];
        for view in layouts {
            let (problem, _) = Problem::batched(view, w.view(), None, &opts).unwrap();
            assert!(problem.tame());
        }
        for bad in [f32::NAN, f32::INFINITY, 1e36] {
            let mut y = x.clone();
            y[[1, 2, 4, 6]] = bad;
            let mut wide_bad = wide.clone();
            wide_bad[[1, 2, 4, 12]] = bad;
            for view in [
                y.view(),
                y.slice(ndarray::s![.., .., ..;-1, ..]),
                wide_bad.slice(ndarray::s![.., .., .., ..;2]),
            ] {
                let (problem, _) = Problem::batched(view, w.view(), None, &opts).unwrap();
                assert!(!problem.tame(), "{bad}");
            }
        }
        // 1e36 under weights of 1e-10 is tame: the sums stay small.
        let mut y = x.clone();
        y[[0, 0, 0, 0]] = 1e36;
        let tiny = w.mapv(|_| 1e-10f32);
        let (problem, _) = Problem::batched(y.view(), tiny.view(), None, &opts).unwrap();
        assert!(problem.tame());
    }

    #[test]
    fn checked_shapes_of_a_resnet_layer() {
        let opts = ConvOptions::new().padding(Padding::uniform(1));
        let checked = check_batched::<f32>([8, 64, 56, 56], [64, 64, 3, 3], Some(64), &opts).unwrap();
        assert_eq!(checked.output_shape, [8, 64, 56, 56]);
        assert_eq!((checked.geometry[0].pad_lo, checked.geometry[1].pad_hi), (1, 1));
    }

    #[test]
    fn bias_and_groups_are_checked() {
        let opts = ConvOptions::new();
        assert_eq!(
            check_batched::<f32>([1, 4, 5, 5], [6, 4, 3, 3], Some(5), &opts).unwrap_err(),
            Error::BiasLength { expected: 6, got: 5 }
        );
        assert_eq!(
            check_batched::<f32>([1, 4, 5, 5], [6, 2, 3, 3], None, &opts.groups(3)).unwrap_err(),
            Error::GroupsMismatch {
                groups: 3,
                channels: 4,
                what: "input"
            }
        );
    }

    #[test]
    fn an_allocation_too_large_for_memory_is_an_error() {
        // 2^61 bytes of f32 is beyond any address space in use today.
        let err = zeros::<f32, _>("the output", (1usize << 59, 1)).unwrap_err();
        assert_eq!(
            err,
            Error::OutOfMemory {
                what: "the output",
                bytes: 1 << 61
            }
        );
        assert_eq!(
            zeros::<f64, _>("the output", (2, 3)).unwrap(),
            Array::<f64, _>::zeros((2, 3))
        );
    }

    #[test]
    fn shape_and_bias_checks_name_the_values() {
        assert_eq!(check_shape("the output", &[1, 2], &[1, 2]), Ok(()));
        assert_eq!(
            check_shape("the output", &[1, 2], &[2, 1]),
            Err(Error::ShapeMismatch {
                what: "the output",
                expected: vec![1, 2],
                got: vec![2, 1]
            })
        );
        assert_eq!(check_bias(None, 3), Ok(()));
    }
}
