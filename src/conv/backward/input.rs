//! `∂L/∂x`: the transposed convolution of the output gradient.

use ndarray::{s, ArrayView4, ArrayViewMut2, ArrayViewMut3, ArrayViewMut4, Axis};
use num_traits::Float;

use super::weight::WEIGHT_BLOCK_OUTPUTS;
use super::BackwardWorkspace;
use crate::conv::boundary::{fold_padding, source_index};
use crate::conv::element::Element;
use crate::conv::exec::blocks::for_each_block;
use crate::conv::exec::matmul::matmul;
use crate::conv::exec::scratch::{prefix, ScratchLens};
use crate::conv::kernels::gemm::pack_weights;
use crate::conv::kernels::gemm::COLUMN_MULTIPLE;
use crate::conv::kernels::{choose, run};
use crate::conv::problem::{all_finite, dims4, Prepared, Problem};
use crate::options::{Algorithm, Boundary, ConvOptions, Padding, PerAxis};
use crate::shape::AxisGeometry;

/// The arguments of an input gradient, passed on to the paths that
/// compute it.
#[derive(Clone, Copy)]
struct Task<'a, 'o, A> {
    grad_output: ArrayView4<'a, A>,
    weight: ArrayView4<'a, A>,
    geometry: [AxisGeometry; 2],
    options: &'o ConvOptions,
    workspace: &'o BackwardWorkspace<A>,
}

/// `∂L/∂x` for a forward problem with this geometry (whose `input` lengths
/// are those of `out`), into `out` (any contents; overwritten), in buffers
/// from `workspace`. The gradient may be shorter than the forward output
/// along an axis (a transposed convolution's `output_padding` past its
/// stride): the missing outputs have zero gradient.
pub(crate) fn input_gradient<A: Element + Float>(
    grad_output: ArrayView4<'_, A>,
    weight: ArrayView4<'_, A>,
    geometry: [AxisGeometry; 2],
    options: &ConvOptions,
    workspace: &BackwardWorkspace<A>,
    mut out: ArrayViewMut4<'_, A>,
) {
    let task = Task {
        grad_output,
        weight,
        geometry,
        options,
        workspace,
    };
    let [rows, cols] = geometry;
    if grad_output.is_empty() || out.is_empty() {
        out.fill(A::zero());
        return;
    }
    // The padded input the gradient is scattered into, in elements.
    let padded = [out.shape()[0], out.shape()[1], rows.padded_len(), cols.padded_len()]
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    // Strides or paddings far larger than the kernel make it mostly empty
    // and possibly huge: the scatter loop needs no memory.
    let budget = 4usize
        .saturating_mul(out.len().saturating_add(grad_output.len()))
        .saturating_add(1 << 20);
    let fits = matches!(padded, Some(b) if b <= budget);
    // The fast paths multiply every weight by the zeros of the padding; an
    // infinite or NaN weight would turn those into NaN where the
    // definition has no term at all.
    if options.algorithm == Algorithm::Direct || !fits || !all_finite(weight) {
        out.fill(A::zero());
        input_gradient_reference(task, out);
    } else if rows.stride > 1 || cols.stride > 1 {
        input_gradient_col2im(task, out);
    } else {
        input_gradient_transposed(task, out);
    }
}

/// The input gradient at stride 1: the forward correlation of the
/// gradient, padded by the kernel's extent less one, with the transposed,
/// rotated weights, run by the forward kernels.
fn input_gradient_transposed<A: Element + Float>(task: Task<'_, '_, A>, out: ArrayViewMut4<'_, A>) {
    let (grad_output, weight, geometry, options) = (task.grad_output, task.weight, task.geometry, task.options);
    let [rows, cols] = geometry;
    let groups = options.groups;
    let [batch, out_channels, grad_h, grad_w] = dims4(grad_output.shape());
    let [_, channels_per_group, kh, kw] = dims4(weight.shape());
    let outputs_per_group = out_channels / groups;
    let (padded_h, padded_w) = (rows.padded_len(), cols.padded_len());
    let (ext_h, ext_w) = (rows.extent(), cols.extent());
    let inner = |padding| ConvOptions {
        stride: PerAxis::All(1),
        dilation: PerAxis::Two([rows.dilation, cols.dilation]),
        padding,
        groups,
        boundary: Boundary::default(),
        algorithm: options.algorithm,
        output_padding: PerAxis::All(0),
    };
    let workspace = task.workspace;
    workspace.whole.with(|whole| {
        // Weights of the transposed problem: [C, O/G, kh, kw], rotated 180°.
        let transposed = prefix(&mut whole.weights, weight.len(), weight.len());
        let shape = (groups * channels_per_group, outputs_per_group, kh, kw);
        let mut transposed = ArrayViewMut4::from_shape(shape, transposed).expect("as many taps as the weight");
        for g in 0..groups {
            let block = weight.slice(s![g * outputs_per_group..(g + 1) * outputs_per_group, .., ..;-1, ..;-1]);
            transposed
                .slice_mut(s![g * channels_per_group..(g + 1) * channels_per_group, .., .., ..])
                .assign(&block.permuted_axes([1, 0, 2, 3]));
        }
        let kept = &mut whole.packed;
        let mut run = |padding, into: ArrayViewMut4<'_, A>| {
            let (mut problem, shape) = Problem::batched(grad_output, transposed.view(), None, &inner(padding))
                .expect("the transposed problem is consistent");
            debug_assert_eq!(shape, dims4(into.shape()));
            problem.workspace = Some(&workspace.forward);
            let (recipe, factors) = choose(&problem, options.algorithm);
            // The micro-kernel's packed weights go into the buffer of the
            // call before, as a plan's do.
            let packed = match recipe.algorithm {
                Algorithm::Gemm => pack_weights(&problem, kept.take()),
                _ => None,
            };
            let prepared = Prepared {
                spectra: None,
                winograd: None,
                packed,
            };
            problem.prepared = Some(&prepared);
            run(&problem, recipe, factors.as_ref(), into);
            *kept = prepared.packed;
        };
        // With a fill value, only the gradient of the input proper is
        // wanted: where the padding allows, the transposed problem
        // computes just that, straight into `out`.
        if let Boundary::Constant(_) = options.boundary {
            let cropped = (
                (ext_h - 1).checked_sub(rows.pad_lo),
                (padded_h - grad_h).checked_sub(rows.pad_hi),
                (ext_w - 1).checked_sub(cols.pad_lo),
                (padded_w - grad_w).checked_sub(cols.pad_hi),
            );
            if let (Some(top), Some(bottom), Some(left), Some(right)) = cropped {
                let padding = Padding::Explicit {
                    top,
                    bottom,
                    left,
                    right,
                };
                return run(padding, out);
            }
        }
        let len = batch * groups * channels_per_group * padded_h * padded_w;
        let padded = prefix(&mut whole.padded, len, len);
        let mut padded = ArrayViewMut4::from_shape((batch, groups * channels_per_group, padded_h, padded_w), padded)
            .expect("the padded gradient's elements");
        let padding = Padding::Explicit {
            top: ext_h - 1,
            bottom: padded_h - grad_h,
            left: ext_w - 1,
            right: padded_w - grad_w,
        };
        run(padding, padded.view_mut());
        unpad(padded.view(), &geometry, &options.boundary, out);
    });
}

/// The input gradient of a strided layer without spreading the gradient
/// out: per block of output rows, one matrix product of the transposed
/// weights with the block's gradient gives every patch's gradient, which is
/// added back where the patch came from in the padded input ("col2im"),
/// then the padding is folded. Images run in parallel; each image's blocks
/// run in order, so the sums do not depend on the thread count.
fn input_gradient_col2im<A: Element + Float>(task: Task<'_, '_, A>, out: ArrayViewMut4<'_, A>) {
    let (grad_output, weight, geometry, options) = (task.grad_output, task.weight, task.geometry, task.options);
    let [rows, cols] = geometry;
    let groups = options.groups;
    let [batch, out_channels, grad_h, grad_w] = dims4(grad_output.shape());
    let [_, channels_per_group, kh, kw] = dims4(weight.shape());
    let outputs_per_group = out_channels / groups;
    let depth = channels_per_group * kh * kw;
    let channels = groups * channels_per_group;
    let (padded_h, padded_w) = (rows.padded_len(), cols.padded_len());
    let taps = weight.as_standard_layout();
    let taps = taps
        .view()
        .into_shape_with_order((out_channels, depth))
        .expect("a standard-layout weight reshapes");
    let rows_per_block = (WEIGHT_BLOCK_OUTPUTS / grad_w).clamp(1, grad_h);
    let padded_len = channels * padded_h * padded_w;
    // The products' columns come in multiples of `COLUMN_MULTIPLE`, which
    // the `gemm` crate reads in place; columns past the block's pixels hold
    // whatever the buffers held, and their products are never read.
    let full_columns = (rows_per_block * grad_w).next_multiple_of(COLUMN_MULTIPLE);
    let workspace = &task.workspace.tasks;
    workspace.prepare_buffers(
        batch,
        ScratchLens {
            tile: padded_len,
            patches: depth * full_columns,
            product: outputs_per_group * full_columns,
        },
    );
    // One block per image: all of its rows.
    for_each_block(out, rows.input, |block| {
        let n = block.n;
        workspace.with(|scratch| {
            let padded = prefix(&mut scratch.tile, padded_len, padded_len);
            padded.fill(A::zero());
            let mut padded =
                ArrayViewMut3::from_shape((channels, padded_h, padded_w), padded).expect("the padded image's elements");
            for row0 in (0..grad_h).step_by(rows_per_block) {
                let block_rows = rows_per_block.min(grad_h - row0);
                let columns = (block_rows * grad_w).next_multiple_of(COLUMN_MULTIPLE);
                let patches = prefix(&mut scratch.patches, depth * columns, depth * full_columns);
                let mut patches =
                    ArrayViewMut2::from_shape((depth, columns), patches).expect("depth × columns elements");
                let grads = prefix(
                    &mut scratch.product,
                    outputs_per_group * columns,
                    outputs_per_group * full_columns,
                );
                let mut grads =
                    ArrayViewMut2::from_shape((outputs_per_group, columns), grads).expect("outputs × columns elements");
                for g in 0..groups {
                    let outputs = g * outputs_per_group..(g + 1) * outputs_per_group;
                    let block_grads = grad_output.slice(s![n, outputs.clone(), row0..row0 + block_rows, ..]);
                    for (mut dst, src) in grads.outer_iter_mut().zip(block_grads.outer_iter()) {
                        for (mut dst, src) in dst.exact_chunks_mut(grad_w).into_iter().zip(src.outer_iter()) {
                            dst.assign(&src);
                        }
                    }
                    matmul(
                        taps.slice(s![outputs, ..]).reversed_axes(),
                        grads.view(),
                        patches.view_mut(),
                    );
                    for c in 0..channels_per_group {
                        let mut plane = padded.index_axis_mut(Axis(0), g * channels_per_group + c);
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
            let out = block.out.insert_axis(Axis(0));
            unpad(padded.view().insert_axis(Axis(0)), &geometry, &options.boundary, out);
        });
    });
}

/// The gradient of the input proper from that of the padded input
/// (`padded`): cropped for a fill value (a constant, which receives
/// nothing), folded back onto the pixels the padding copied otherwise.
fn unpad<A: Element>(
    padded: ArrayView4<'_, A>,
    geometry: &[AxisGeometry; 2],
    boundary: &Boundary,
    mut out: ArrayViewMut4<'_, A>,
) {
    let [rows, cols] = geometry;
    match boundary {
        Boundary::Constant(_) => out.assign(&padded.slice(s![
            ..,
            ..,
            rows.pad_lo..rows.pad_lo + rows.input,
            cols.pad_lo..cols.pad_lo + cols.input
        ])),
        _ => {
            out.fill(A::zero());
            fold_padding(padded, geometry, boundary, out);
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
