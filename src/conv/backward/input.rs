//! `∂L/∂x`: the transposed convolution of the output gradient.

use ndarray::{s, Array2, Array4, ArrayView4, ArrayViewMut4, CowArray};
use num_traits::Float;

use super::weight::WEIGHT_BLOCK_OUTPUTS;
use crate::conv::batched::{conv2d, conv2d_into};
use crate::conv::boundary::{fold_padding, source_index};
use crate::conv::element::Element;
use crate::conv::exec::blocks::map_indexed;
use crate::conv::exec::matmul::matmul;
use crate::conv::problem::{all_finite, dims4};
use crate::options::{Algorithm, Boundary, ConvOptions, Padding};
use crate::shape::AxisGeometry;

/// The arguments of an input gradient, passed on to the paths that
/// compute it.
#[derive(Clone, Copy)]
struct Task<'a, 'o, A> {
    grad_output: ArrayView4<'a, A>,
    weight: ArrayView4<'a, A>,
    geometry: [AxisGeometry; 2],
    options: &'o ConvOptions,
}

/// `∂L/∂x` for a forward problem with this geometry (whose `input` lengths
/// are those of `out`), into `out` (any contents; overwritten). The
/// gradient may be shorter than the forward output along an axis (a
/// transposed convolution's `output_padding` past its stride): the
/// missing outputs have zero gradient.
pub(crate) fn input_gradient<A: Element + Float>(
    grad_output: ArrayView4<'_, A>,
    weight: ArrayView4<'_, A>,
    geometry: [AxisGeometry; 2],
    options: &ConvOptions,
    mut out: ArrayViewMut4<'_, A>,
) {
    let task = Task {
        grad_output,
        weight,
        geometry,
        options,
    };
    let [rows, cols] = geometry;
    let groups = options.groups;
    let [batch, out_channels, grad_h, grad_w] = dims4(grad_output.shape());
    let [_, channels_per_group, kh, kw] = dims4(weight.shape());
    let outputs_per_group = out_channels / groups;
    if grad_output.is_empty() || out.is_empty() {
        out.fill(A::zero());
        return;
    }
    // The gradient spread out by the stride (row i lands on row i·sh), and
    // the padded input it is correlated into, in elements.
    let up_h = (grad_h - 1) * rows.stride + 1;
    let up_w = (grad_w - 1) * cols.stride + 1;
    let padded_h = rows.input + rows.pad_lo + rows.pad_hi;
    let padded_w = cols.input + cols.pad_lo + cols.pad_hi;
    let spread = [batch, out_channels, up_h, up_w]
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    let padded = [batch, groups * channels_per_group, padded_h, padded_w]
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    // Strides or paddings far larger than the kernel make those arrays
    // mostly empty and possibly huge: the scatter loop needs no memory.
    let budget = 4usize
        .saturating_mul(out.len().saturating_add(grad_output.len()))
        .saturating_add(1 << 20);
    let fits = matches!((spread, padded), (Some(a), Some(b)) if a <= budget && b <= budget);
    // The fast path multiplies every weight by the zeros it spreads the
    // gradient with; an infinite or NaN weight would turn those into NaN
    // where the definition has no term at all.
    let weights_finite = all_finite(weight);
    let padded_fits = matches!(padded, Some(b) if b <= budget);
    if options.algorithm != Algorithm::Direct && weights_finite && padded_fits && (rows.stride > 1 || cols.stride > 1) {
        out.fill(A::zero());
        return input_gradient_col2im(task, out);
    }
    if options.algorithm == Algorithm::Direct || !fits || !weights_finite {
        out.fill(A::zero());
        return input_gradient_reference(task, out);
    }
    // At stride 1 the gradient needs no spreading out.
    let upsampled = if rows.stride == 1 && cols.stride == 1 {
        CowArray::from(grad_output)
    } else {
        let mut upsampled = Array4::zeros((batch, out_channels, up_h, up_w));
        upsampled
            .slice_mut(s![.., .., ..;rows.stride, ..;cols.stride])
            .assign(&grad_output);
        CowArray::from(upsampled)
    };

    // Weights of the transposed problem: [C, O/G, kh, kw], rotated 180°.
    let mut transposed = Array4::zeros((groups * channels_per_group, outputs_per_group, kh, kw));
    for g in 0..groups {
        let block = weight.slice(s![g * outputs_per_group..(g + 1) * outputs_per_group, .., ..;-1, ..;-1]);
        transposed
            .slice_mut(s![g * channels_per_group..(g + 1) * channels_per_group, .., .., ..])
            .assign(&block.permuted_axes([1, 0, 2, 3]));
    }

    let (ext_h, ext_w) = (rows.extent(), cols.extent());
    let inner = |padding| ConvOptions {
        stride: [1, 1],
        dilation: [rows.dilation, cols.dilation],
        padding,
        groups,
        boundary: Boundary::default(),
        algorithm: options.algorithm,
        output_padding: [0, 0],
    };
    // With a fill value, only the gradient of the input proper is wanted:
    // where the padding allows, the transposed problem computes just that,
    // straight into `out`.
    if let Boundary::Constant(_) = options.boundary {
        let cropped = (
            (ext_h - 1).checked_sub(rows.pad_lo),
            (padded_h - up_h).checked_sub(rows.pad_hi),
            (ext_w - 1).checked_sub(cols.pad_lo),
            (padded_w - up_w).checked_sub(cols.pad_hi),
        );
        if let (Some(top), Some(bottom), Some(left), Some(right)) = cropped {
            let padding = Padding::Explicit {
                top,
                bottom,
                left,
                right,
            };
            conv2d_into(&upsampled, &transposed, None, &inner(padding), &mut out)
                .expect("the transposed problem is consistent");
            return;
        }
    }
    let inner = inner(Padding::Explicit {
        top: ext_h - 1,
        bottom: padded_h - up_h,
        left: ext_w - 1,
        right: padded_w - up_w,
    });
    let padded = conv2d(&upsampled, &transposed, None, &inner).expect("the transposed problem is consistent");
    debug_assert_eq!(padded.shape()[2..], [padded_h, padded_w]);
    match options.boundary {
        Boundary::Constant(_) => {
            let interior = padded.slice(s![
                ..,
                ..,
                rows.pad_lo..rows.pad_lo + rows.input,
                cols.pad_lo..cols.pad_lo + cols.input
            ]);
            out.assign(&interior);
        }
        _ => {
            out.fill(A::zero());
            fold_padding(padded.view(), &geometry, &options.boundary, out);
        }
    }
}

/// The input gradient of a strided layer without spreading the gradient
/// out: per block of output rows, one matrix product of the transposed
/// weights with the block's gradient gives every patch's gradient, which is
/// added back where the patch came from in the padded input ("col2im"),
/// then the padding is folded. Images run in parallel; each image's blocks
/// run in order, so the sums do not depend on the thread count.
fn input_gradient_col2im<A: Element + Float>(task: Task<'_, '_, A>, mut out: ArrayViewMut4<'_, A>) {
    let (grad_output, weight, geometry, options) = (task.grad_output, task.weight, task.geometry, task.options);
    let [rows, cols] = geometry;
    let groups = options.groups;
    let [batch, out_channels, grad_h, grad_w] = dims4(grad_output.shape());
    let [_, channels_per_group, kh, kw] = dims4(weight.shape());
    let outputs_per_group = out_channels / groups;
    let depth = channels_per_group * kh * kw;
    let padded_h = rows.input + rows.pad_lo + rows.pad_hi;
    let padded_w = cols.input + cols.pad_lo + cols.pad_hi;
    let taps = weight.as_standard_layout();
    let taps = taps
        .view()
        .into_shape_with_order((out_channels, depth))
        .expect("a standard-layout weight reshapes");
    let rows_per_block = (WEIGHT_BLOCK_OUTPUTS / grad_w).clamp(1, grad_h);
    let images = map_indexed(batch, |n| {
        let mut padded = Array4::zeros((1, groups * channels_per_group, padded_h, padded_w));
        for row0 in (0..grad_h).step_by(rows_per_block) {
            let block_rows = rows_per_block.min(grad_h - row0);
            let pixels = block_rows * grad_w;
            let mut patches = Array2::zeros((depth, pixels));
            for g in 0..groups {
                let outputs = g * outputs_per_group..(g + 1) * outputs_per_group;
                let grads = grad_output.slice(s![n, outputs.clone(), row0..row0 + block_rows, ..]);
                let grads = grads.as_standard_layout();
                let grads = grads
                    .view()
                    .into_shape_with_order((outputs_per_group, pixels))
                    .expect("a standard-layout block reshapes");
                matmul(taps.slice(s![outputs, ..]).reversed_axes(), grads, patches.view_mut());
                for c in 0..channels_per_group {
                    let mut plane = padded.slice_mut(s![0, g * channels_per_group + c, .., ..]);
                    for a in 0..kh {
                        for b in 0..kw {
                            let patch = patches.row((c * kh + a) * kw + b);
                            for r in 0..block_rows {
                                let p = (row0 + r) * rows.stride + a * rows.dilation;
                                for j in 0..grad_w {
                                    let dst = &mut plane[[p, j * cols.stride + b * cols.dilation]];
                                    *dst = *dst + patch[r * grad_w + j];
                                }
                            }
                        }
                    }
                }
            }
        }
        padded
    });
    for (n, padded) in images.into_iter().enumerate() {
        let dst = out.slice_mut(s![n..=n, .., .., ..]);
        match options.boundary {
            Boundary::Constant(_) => {
                let interior = padded.slice(s![
                    ..,
                    ..,
                    rows.pad_lo..rows.pad_lo + rows.input,
                    cols.pad_lo..cols.pad_lo + cols.input
                ]);
                let mut dst = dst;
                dst.assign(&interior);
            }
            _ => fold_padding(padded.view(), &geometry, &options.boundary, dst),
        }
    }
}

/// The scatter loop of the definition: the oracle for [`input_gradient`].
fn input_gradient_reference<A: Element>(task: Task<'_, '_, A>, mut out: ArrayViewMut4<'_, A>) {
    let (grad_output, weight, geometry, options) = (task.grad_output, task.weight, task.geometry, task.options);
    let [rows, cols] = &geometry;
    let [_, channels_per_group, kh, kw] = dims4(weight.shape());
    let outputs_per_group = weight.shape()[0] / options.groups;
    for ((n, o, i, j), &g) in grad_output.indexed_iter() {
        let group = o / outputs_per_group;
        for c in 0..channels_per_group {
            for a in 0..kh {
                let Some(r) = source_index(i * rows.stride + a * rows.dilation, rows, &options.boundary) else {
                    continue;
                };
                for b in 0..kw {
                    let Some(s) = source_index(j * cols.stride + b * cols.dilation, cols, &options.boundary) else {
                        continue;
                    };
                    let dst = &mut out[[n, group * channels_per_group + c, r, s]];
                    *dst = dst.plus_product(g, weight[[o, c, a, b]]);
                }
            }
        }
    }
}
