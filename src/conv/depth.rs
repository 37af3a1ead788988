//! Volumes: a 3-D convolution as the sum over its depth taps of 2-D
//! problems of the one engine.
//!
//! Output plane `z` reads, through depth tap `t`, the padded input plane
//! `z·sd + t·dd`, which the boundary rule maps to an input plane or to the
//! fill value ([`source_index`], the same rule as the rows and columns).
//! For one tap, a run of consecutive output planes whose sources are
//! consecutive strided input planes ([`runs`]) is one batched 2-D problem:
//! a strided view of the input (no copy) through the tap's `[O, C/g, kh, kw]`
//! slice of the weights, with every option of the rows and columns
//! (padding, boundary, stride, dilation, groups) handled by the 2-D
//! validation, planner and kernels. The first tap that reaches a plane
//! writes it (with the bias); later taps add their problem's output,
//! computed into a buffer of a few planes ([`CHUNK_ELEMENTS`]). A plane of
//! the fill value adds the fill times the tap's weights.
//!
//! The gradients follow the same runs: the input gradient of each run's 2-D
//! problem is added onto its source planes (which folds the depth padding
//! back onto the planes it copied, as the 2-D input gradient does for rows
//! and columns), and the weight gradient of each run onto its tap's slice.
//! The transposed convolution is the input gradient, as in 2-D.

use std::ops::Range;

use ndarray::{s, Array4, ArrayView1, ArrayView4, ArrayView5, ArrayViewMut4, ArrayViewMut5, Axis, ShapeBuilder, Zip};

use super::backward::{input_gradient as input_gradient_2d, weight_gradient, BackwardWorkspace};
use super::boundary::source_index;
use super::element::{Element, Float};
use super::exec::scratch::Workspace;
use super::kernels::{choose, execute};
use super::problem::{reserve, zeros, Problem};
use crate::error::Result;
use crate::options::{Algorithm, Boundary, ConvOptions};
use crate::shape::AxisGeometry;

/// Output elements per buffer of partial sums: the planes a tap's problem
/// adds to the output at once (at least one plane).
const CHUNK_ELEMENTS: usize = 1 << 18;

/// A 3-D convolution with every option resolved and checked.
pub(crate) struct Volume<'a, A: Element> {
    /// `[N, C, D, H, W]`.
    pub(crate) input: ArrayView5<'a, A>,
    /// `[O, C / groups, kd, kh, kw]`, already oriented (a convolution's
    /// kernel arrives reversed along its three axes).
    pub(crate) weight: ArrayView5<'a, A>,
    /// One value per output channel.
    pub(crate) bias: Option<ArrayView1<'a, A>>,
    /// Whether each tap is conjugated (scipy's complex correlation).
    pub(crate) conjugate_kernel: bool,
    /// Planes, rows, columns.
    pub(crate) geometry: [AxisGeometry; 3],
    /// Channel groups; divides both `C` and `O`.
    pub(crate) groups: usize,
    /// How the padding is filled.
    pub(crate) boundary: Boundary,
    /// The fill value of [`Boundary::Constant`] as an `A`.
    pub(crate) fill: A,
}

/// Output planes that read, through one depth tap, the input planes
/// `first, first + stride, …` (`Some(first)`), or the fill value (`None`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Run {
    pub(crate) outputs: Range<usize>,
    pub(crate) first: Option<usize>,
}

/// The runs of depth tap `tap` over the output planes `outputs`, longest
/// first-come: a run ends where the next plane's source does not continue
/// its stride (a boundary fold) or switches between input and fill.
pub(crate) fn runs(depth: &AxisGeometry, boundary: &Boundary, tap: usize, outputs: Range<usize>) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for z in outputs {
        let source = source_index(z * depth.stride + tap * depth.dilation, depth, boundary);
        let continues = runs.last().is_some_and(|run| match (run.first, source) {
            (None, None) => true,
            (Some(first), Some(s)) => s == first + (z - run.outputs.start) * depth.stride,
            _ => false,
        });
        match runs.last_mut() {
            Some(run) if continues => run.outputs.end = z + 1,
            _ => runs.push(Run {
                outputs: z..z + 1,
                first: source,
            }),
        }
    }
    runs
}

/// The planes `first, first + stride, …` (`len` of them) of one image
/// `[C, D, H, W]` as a batch `[len, C, H, W]`.
fn planes<'a, A>(image: ArrayView4<'a, A>, first: usize, stride: usize, len: usize) -> ArrayView4<'a, A> {
    let stride = stride as isize;
    let end = first as isize + (len as isize - 1) * stride + 1;
    image
        .slice_move(s![.., first as isize..end;stride, .., ..])
        .permuted_axes([1, 0, 2, 3])
}

/// [`planes`], writable.
fn planes_mut<'a, A>(image: ArrayViewMut4<'a, A>, first: usize, stride: usize, len: usize) -> ArrayViewMut4<'a, A> {
    let stride = stride as isize;
    let end = first as isize + (len as isize - 1) * stride + 1;
    image
        .slice_move(s![.., first as isize..end;stride, .., ..])
        .permuted_axes([1, 0, 2, 3])
}

/// Where [`Volume::run_stacked`] puts an image's planes: the buffer's
/// length and the steps, in elements, between consecutive windows and
/// between consecutive stacked planes of a window.
struct Layout {
    len: usize,
    window: usize,
    tap: usize,
}

/// `target += addend`, element by element.
fn add_assign<A: Element>(target: ArrayViewMut4<'_, A>, addend: ArrayView4<'_, A>) {
    Zip::from(target).and(addend).for_each(|t, &a| *t = t.plus(a));
}

/// Splits `range` (offsets into `flags` after subtracting `base`) into the
/// maximal sub-ranges of equal flag.
fn split_by(range: Range<usize>, base: usize, flags: &[bool]) -> Vec<(Range<usize>, bool)> {
    let mut parts: Vec<(Range<usize>, bool)> = Vec::new();
    for z in range {
        let flag = flags[z - base];
        match parts.last_mut() {
            Some((part, f)) if *f == flag => part.end = z + 1,
            _ => parts.push((z..z + 1, flag)),
        }
    }
    parts
}

impl<A: Element> Volume<'_, A> {
    /// The 2-D problem of depth tap `tap` over the input planes `batch`.
    fn tap_problem<'p>(
        &'p self,
        batch: ArrayView4<'p, A>,
        tap: usize,
        with_bias: bool,
        workspace: Option<&'p Workspace<A>>,
    ) -> Problem<'p, A> {
        Problem {
            input: batch,
            weight: self.weight.index_axis(Axis(2), tap),
            bias: if with_bias { self.bias } else { None },
            conjugate_kernel: self.conjugate_kernel,
            geometry: [self.geometry[1], self.geometry[2]],
            groups: self.groups,
            boundary: self.boundary,
            fill: self.fill,
            prepared: None,
            workspace,
        }
    }

    /// The output of one tap over a plane of the fill value, per output
    /// channel: the fill times each of the tap's weights, summed as the
    /// definition sums them.
    fn fill_plane(&self, tap: usize) -> Vec<A> {
        let weight = self.weight.index_axis(Axis(2), tap);
        weight
            .outer_iter()
            .map(|filter| {
                filter.iter().fold(A::zero(), |acc, &w| {
                    let w = if self.conjugate_kernel { w.conj() } else { w };
                    acc.plus_product(self.fill, w)
                })
            })
            .collect()
    }

    /// The convolution into `out` (`[N, O, Do, Ho, Wo]`, any contents):
    /// [`run_stacked`](Self::run_stacked) where the depth taps can be
    /// stacked as channels, [`run_by_tap`](Self::run_by_tap) otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfMemory`](crate::Error::OutOfMemory) if a buffer cannot
    /// be allocated.
    pub(crate) fn run(&self, algorithm: Algorithm, out: ArrayViewMut5<'_, A>) -> Result<()> {
        match self.stacked(out.shape()[2]) {
            Some(layout) if !self.separable_planes(algorithm) => self.run_stacked(algorithm, layout, out),
            _ => self.run_by_tap(algorithm, out),
        }
    }

    /// Whether every depth tap of a single-channel volume runs
    /// [`Algorithm::Separable`] on its own (a 3-D kernel that is an outer
    /// product of three 1-D kernels has rank-1 planes): then the taps run
    /// one by one, `kd · (kh + kw)` multiply-adds per output where stacked
    /// as channels they would take `kd · kh · kw`.
    fn separable_planes(&self, requested: Algorithm) -> bool {
        let single = self.input.shape()[1] == 1 && self.weight.shape()[0] == 1;
        if !single || !matches!(requested, Algorithm::Auto | Algorithm::Separable) || self.input.is_empty() {
            return false;
        }
        let plane = planes(self.input.index_axis(Axis(0), 0), 0, 1, 1);
        (0..self.weight.shape()[2]).all(|tap| {
            choose(&self.tap_problem(plane, tap, false, None), requested)
                .0
                .algorithm
                == Algorithm::Separable
        })
    }

    /// The layout of the stacked path, or `None`: the depth taps of one
    /// output plane can be read as channels of one 2-D problem with one
    /// group, where the planes `z·sd + t·dd` of
    /// every channel `c` sit at evenly spaced offsets `(t·C + c)·H·W` of a
    /// buffer laid out `[D, C, H, W]` when the taps are adjacent (`dd = 1`),
    /// or, with one channel, at `t·dd·H·W` whatever the dilation.
    ///
    /// The buffer holds the padded planes of one image; where padding or a
    /// stride far beyond the kernel would make it much larger than the
    /// image itself, the taps run one by one instead.
    fn stacked(&self, out_depth: usize) -> Option<Layout> {
        let adjacent = self.geometry[0].dilation == 1 || self.input.shape()[1] == 1;
        if self.groups == 1 && adjacent {
            self.stacked_layout(out_depth)
        } else {
            None
        }
    }

    /// The buffer of planes [`run_stacked`](Self::run_stacked) fills (up to
    /// the last tap of the last window) and how its windows step through
    /// it, or `None` where the taps run one by one instead: an empty plane
    /// or channel axis, a product that overflows, or a buffer larger than
    /// twice the image plus a mebi-element, or than 2²⁷ elements (padding
    /// or a stride far beyond the kernel, an image broadcast from a few
    /// values).
    fn stacked_layout(&self, out_depth: usize) -> Option<Layout> {
        let depth = &self.geometry[0];
        let taps = self.weight.shape()[2];
        let [_, channels, planes, height, width] = [0, 1, 2, 3, 4].map(|i| self.input.shape()[i]);
        let plane = height.checked_mul(width).filter(|&p| p > 0 && channels > 0)?;
        let image = plane.checked_mul(channels)?;
        let depth_len = out_depth
            .checked_sub(1)?
            .checked_mul(depth.stride)?
            .checked_add((taps - 1).checked_mul(depth.dilation)?)?
            .checked_add(1)?;
        let len = depth_len.checked_mul(image)?;
        let budget = planes
            .saturating_mul(image)
            .saturating_mul(2)
            .saturating_add(1 << 20)
            .min(1 << 27);
        // An axis of length 1 is never stepped along.
        let step = |len: usize, stride: Option<usize>| if len > 1 { stride } else { Some(0) };
        Some(Layout {
            len: Some(len).filter(|&len| len <= budget)?,
            window: step(out_depth, depth.stride.checked_mul(image))?,
            tap: step(
                taps * channels,
                if depth.dilation == 1 {
                    Some(plane)
                } else {
                    depth.dilation.checked_mul(plane)
                },
            )?,
        })
    }

    /// The convolution as one 2-D problem per image whose channels are the
    /// depth taps times the input channels: the input's planes copied once
    /// into a `[Dp, C, H, W]` buffer with the depth padding filled by the
    /// boundary rule, viewed as a batch of `Do` overlapping windows of
    /// `kd · C` planes (`sd · C` planes apart), and the weights reordered to
    /// `[O, kd · C, kh, kw]`. No partial sums, and one product of depth
    /// `kd · C · kh · kw` per output where the taps run one by one.
    fn run_stacked(&self, algorithm: Algorithm, layout: Layout, mut out: ArrayViewMut5<'_, A>) -> Result<()> {
        let [images, channels, _, height, width] = [0, 1, 2, 3, 4].map(|i| self.input.shape()[i]);
        let out_depth = out.shape()[2];
        if out.is_empty() {
            return Ok(());
        }
        let [depth, rows, cols] = self.geometry;
        let [out_channels, _, taps, kh, kw] = [0, 1, 2, 3, 4].map(|i| self.weight.shape()[i]);
        let plane = height * width;
        reserve::<A>("the planes of a 3-D convolution", layout.len)?;
        let mut buffer = vec![A::zero(); layout.len];
        let mut weight: Array4<A> = zeros(
            "the stacked weights of a 3-D convolution",
            [out_channels, taps * channels, kh, kw],
        )?;
        for t in 0..taps {
            for c in 0..channels {
                weight
                    .index_axis_mut(Axis(1), t * channels + c)
                    .assign(&self.weight.index_axis(Axis(2), t).index_axis(Axis(1), c));
            }
        }
        let shape = (out_depth, taps * channels, height, width).strides((layout.window, layout.tap, width, 1));
        for n in 0..images {
            for (p, planes) in buffer.chunks_exact_mut(channels * plane).enumerate() {
                match source_index(p, &depth, &self.boundary) {
                    Some(d) => {
                        let source = self.input.slice(s![n, .., d, .., ..]);
                        for (target, value) in planes.iter_mut().zip(source.iter()) {
                            *target = *value;
                        }
                    }
                    None => planes.fill(self.fill),
                }
            }
            let windows =
                ndarray::ArrayView4::from_shape(shape, &buffer).expect("the windows lie inside the buffer of planes");
            let problem = Problem {
                input: windows,
                weight: weight.view(),
                bias: self.bias,
                conjugate_kernel: self.conjugate_kernel,
                geometry: [rows, cols],
                groups: 1,
                boundary: self.boundary,
                fill: self.fill,
                prepared: None,
                workspace: None,
            };
            execute(
                &problem,
                algorithm,
                out.index_axis_mut(Axis(0), n).permuted_axes([1, 0, 2, 3]),
            );
        }
        Ok(())
    }

    /// The convolution tap by tap: each depth tap a batched 2-D problem
    /// over runs of output planes, added into the output.
    fn run_by_tap(&self, algorithm: Algorithm, mut out: ArrayViewMut5<'_, A>) -> Result<()> {
        let [images, channels, out_depth, height, width] = [0, 1, 2, 3, 4].map(|i| out.shape()[i]);
        if out.is_empty() {
            return Ok(());
        }
        let depth = self.geometry[0];
        let taps = self.weight.shape()[2];
        let chunk = (CHUNK_ELEMENTS / (channels * height * width).max(1)).clamp(1, out_depth);
        let mut partial: Array4<A> = zeros(
            "the partial sums of a 3-D convolution",
            [chunk, channels, height, width],
        )?;
        let fill_planes: Vec<Vec<A>> = (0..taps).map(|tap| self.fill_plane(tap)).collect();
        let workspace = Workspace::default();
        let mut written = vec![false; chunk];
        for n in 0..images {
            let image = self.input.index_axis(Axis(0), n);
            for start in (0..out_depth).step_by(chunk) {
                let outputs = start..(start + chunk).min(out_depth);
                let mut block = out
                    .slice_mut(s![n, .., outputs.clone(), .., ..])
                    .permuted_axes([1, 0, 2, 3]);
                written.fill(false);
                for tap in 0..taps {
                    for run in runs(&depth, &self.boundary, tap, outputs.clone()) {
                        let Some(first) = run.first else { continue };
                        for (part, was_written) in split_by(run.outputs.clone(), start, &written) {
                            let source = first + (part.start - run.outputs.start) * depth.stride;
                            let batch = planes(image, source, depth.stride, part.len());
                            let local = part.start - start..part.end - start;
                            let problem = self.tap_problem(batch, tap, !was_written, Some(&workspace));
                            if was_written {
                                let mut sums = partial.slice_mut(s![..part.len(), .., .., ..]);
                                execute(&problem, algorithm, sums.view_mut());
                                add_assign(block.slice_mut(s![local, .., .., ..]), sums.view());
                            } else {
                                execute(&problem, algorithm, block.slice_mut(s![local.clone(), .., .., ..]));
                                written[local].fill(true);
                            }
                        }
                    }
                }
                // Planes no input plane reached hold the bias alone, before
                // the fill planes add their share.
                for (z, mut plane) in block.outer_iter_mut().enumerate() {
                    if !written[z] {
                        for (o, mut channel) in plane.outer_iter_mut().enumerate() {
                            channel.fill(self.bias.map_or(A::zero(), |b| b[o]));
                        }
                    }
                    for (tap, fill_plane) in fill_planes.iter().enumerate() {
                        let p = (start + z) * depth.stride + tap * depth.dilation;
                        if source_index(p, &depth, &self.boundary).is_some() {
                            continue;
                        }
                        for (mut channel, &value) in plane.outer_iter_mut().zip(fill_plane) {
                            channel.mapv_inplace(|v| v.plus(value));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// `∂L/∂x` of a 3-D convolution with weights `weight` and this geometry,
/// for the output gradient `grad_output` (`[N, O, Do, Ho, Wo]`), into
/// `out` (the input's shape, any contents): the sum over the depth taps of
/// the 2-D input gradients, each added onto its source planes.
pub(crate) fn input_gradient<A: Element + Float>(
    weight: ArrayView5<'_, A>,
    geometry: [AxisGeometry; 3],
    grad_output: ArrayView5<'_, A>,
    options: &ConvOptions,
    mut out: ArrayViewMut5<'_, A>,
) -> Result<()> {
    out.fill(A::zero());
    let [images, _, out_depth, _, _] = [0, 1, 2, 3, 4].map(|i| grad_output.shape()[i]);
    let [_, channels, _, height, width] = [0, 1, 2, 3, 4].map(|i| out.shape()[i]);
    if grad_output.is_empty() || out.is_empty() {
        return Ok(());
    }
    let depth = geometry[0];
    let taps = weight.shape()[2];
    let chunk = (CHUNK_ELEMENTS / (channels * height * width).max(1)).clamp(1, out_depth);
    let mut partial: Array4<A> = zeros(
        "the partial sums of a 3-D input gradient",
        [chunk, channels, height, width],
    )?;
    let workspace = BackwardWorkspace::default();
    for n in 0..images {
        let gradient = grad_output.index_axis(Axis(0), n);
        for tap in 0..taps {
            let tap_weight = weight.index_axis(Axis(2), tap);
            for run in runs(&depth, &options.boundary, tap, 0..out_depth) {
                // A fill plane is a constant: it receives no gradient.
                let Some(first) = run.first else { continue };
                for start in run.outputs.clone().step_by(chunk) {
                    let part = start..(start + chunk).min(run.outputs.end);
                    let source = first + (start - run.outputs.start) * depth.stride;
                    let mut sums = partial.slice_mut(s![..part.len(), .., .., ..]);
                    input_gradient_2d(
                        planes(gradient, part.start, 1, part.len()),
                        tap_weight,
                        [geometry[1], geometry[2]],
                        options,
                        &workspace,
                        sums.view_mut(),
                    );
                    let image = out.index_axis_mut(Axis(0), n);
                    add_assign(planes_mut(image, source, depth.stride, part.len()), sums.view());
                }
            }
        }
    }
    Ok(())
}

impl<A: Element + Float> Volume<'_, A> {
    /// `∂L/∂w` for the output gradient `grad_output` into `out` (the
    /// weight's shape, any contents).
    pub(crate) fn weight_gradient(
        &self,
        grad_output: ArrayView5<'_, A>,
        algorithm: Algorithm,
        mut out: ArrayViewMut5<'_, A>,
    ) -> Result<()> {
        out.fill(A::zero());
        let [images, _, out_depth, _, _] = [0, 1, 2, 3, 4].map(|i| grad_output.shape()[i]);
        if grad_output.is_empty() || out.is_empty() {
            return Ok(());
        }
        let depth = self.geometry[0];
        let taps = self.weight.shape()[2];
        let tap_shape = self.weight.index_axis(Axis(2), 0).raw_dim();
        let mut partial: Array4<A> = zeros("the partial sums of a 3-D weight gradient", tap_shape)?;
        let workspace = BackwardWorkspace::default();
        for n in 0..images {
            let image = self.input.index_axis(Axis(0), n);
            let gradient = grad_output.index_axis(Axis(0), n);
            for tap in 0..taps {
                for run in runs(&depth, &self.boundary, tap, 0..out_depth) {
                    let g = planes(gradient, run.outputs.start, 1, run.outputs.len());
                    let mut slice = out.index_axis_mut(Axis(2), tap);
                    match run.first {
                        Some(first) => {
                            let batch = planes(image, first, depth.stride, run.outputs.len());
                            let problem = self.tap_problem(batch, tap, false, None);
                            weight_gradient(&problem, g, algorithm, &workspace, partial.view_mut());
                            add_assign(slice, partial.view());
                        }
                        None => {
                            // Every value of a fill plane is the fill: each
                            // weight of the tap sees the fill times the
                            // gradient's sum over the run.
                            for (o, mut filter) in slice.outer_iter_mut().enumerate() {
                                let total = g
                                    .index_axis(Axis(1), o)
                                    .iter()
                                    .fold(A::zero(), |acc, &v| acc.plus_product(self.fill, v));
                                filter.mapv_inplace(|w| w.plus(total));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array5};

    use super::*;
    use crate::conv::rank3::{conv3d, conv3d_backward, conv_transpose3d, correlate3d};
    use crate::options::Padding;
    use crate::shape::volume_geometry;

    /// A small deterministic generator of integer-valued data, so that
    /// every sum is exact in `f64`.
    fn values(len: usize, seed: u64) -> Vec<f64> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 9) as f64 - 4.0
            })
            .collect()
    }

    fn volume(shape: [usize; 5], seed: u64) -> Array5<f64> {
        Array5::from_shape_vec(shape, values(shape.iter().product(), seed)).unwrap()
    }

    /// The definition, one output at a time: `y[n, o, z, i, j] = b[o] +
    /// Σ x̃[n, c', z·sd + a·dd, i·sh + b·dh, j·sw + e·dw] · w[o, c, a, b, e]`.
    fn reference(x: &Array5<f64>, w: &Array5<f64>, bias: Option<&Array1<f64>>, options: &ConvOptions) -> Array5<f64> {
        let (geometry, shape) = volume_geometry(dims(x), dims(w), options).unwrap();
        let fill: f64 = options.boundary.fill().unwrap();
        let [_, cg, kd, kh, kw] = dims(w);
        let per_group = shape[1] / options.groups;
        Array5::from_shape_fn(shape, |(n, o, z, i, j)| {
            let mut acc = bias.map_or(0.0, |b| b[o]);
            for c in 0..cg {
                for (a, b, e) in itertools(kd, kh, kw) {
                    let at = [z, i, j];
                    let taps = [a, b, e];
                    let src: Vec<Option<usize>> = (0..3)
                        .map(|k| {
                            let g = &geometry[k];
                            source_index(at[k] * g.stride + taps[k] * g.dilation, g, &options.boundary)
                        })
                        .collect();
                    let v = match (src[0], src[1], src[2]) {
                        (Some(p), Some(r), Some(q)) => x[[n, o / per_group * cg + c, p, r, q]],
                        _ => fill,
                    };
                    acc += v * w[[o, c, a, b, e]];
                }
            }
            acc
        })
    }

    fn itertools(kd: usize, kh: usize, kw: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        (0..kd).flat_map(move |a| (0..kh).flat_map(move |b| (0..kw).map(move |e| (a, b, e))))
    }

    fn dims(a: &Array5<f64>) -> [usize; 5] {
        [0, 1, 2, 3, 4].map(|i| a.shape()[i])
    }

    fn dot(a: &Array5<f64>, b: &Array5<f64>) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// Option sets covering strides, dilations, asymmetric padding along
    /// every axis, groups and every boundary rule.
    fn option_sets() -> Vec<ConvOptions> {
        let explicit = Padding::Explicit3d {
            front: 2,
            back: 1,
            top: 1,
            bottom: 0,
            left: 0,
            right: 2,
        };
        let mut sets = vec![
            ConvOptions::new(),
            ConvOptions::new().padding(Padding::Same),
            ConvOptions::new().padding(Padding::Full).boundary(Boundary::Fill(2.0)),
            ConvOptions::new()
                .strides3d(2, 1, 2)
                .dilations3d(1, 2, 1)
                .padding(explicit),
            ConvOptions::new().groups(2).padding(Padding::uniform3d(1)),
        ];
        for boundary in [
            Boundary::Wrap,
            Boundary::Symmetric,
            Boundary::Reflect,
            Boundary::Replicate,
        ] {
            sets.push(ConvOptions::new().padding(explicit).boundary(boundary));
            sets.push(
                ConvOptions::new()
                    .strides3d(2, 2, 1)
                    .dilations3d(2, 1, 1)
                    .padding(Padding::uniform3d(2))
                    .boundary(boundary),
            );
        }
        sets
    }

    #[test]
    fn every_algorithm_follows_the_definition() {
        // Two groups run tap by tap, one group with the taps stacked as
        // channels (with one channel, whatever the dilation).
        let bias = Array1::from(vec![1.0, -2.0, 3.0, 0.5]);
        let cases = [
            (volume([2, 4, 5, 6, 5], 1), volume([4, 2, 3, 2, 3], 2), 2),
            (volume([2, 4, 5, 6, 5], 1), volume([4, 4, 3, 2, 3], 2), 1),
            (volume([2, 1, 7, 6, 5], 1), volume([4, 1, 3, 2, 3], 2), 1),
        ];
        let mut paths = [false; 2];
        for (x, w, groups) in &cases {
            for options in option_sets() {
                let options = options.groups(*groups);
                let want = reference(x, w, Some(&bias), &options);
                let (geometry, shape) = volume_geometry(dims(x), dims(w), &options).unwrap();
                let problem = Volume {
                    input: x.view(),
                    weight: w.view(),
                    bias: None,
                    conjugate_kernel: false,
                    geometry,
                    groups: *groups,
                    boundary: options.boundary,
                    fill: options.boundary.fill().unwrap(),
                };
                paths[usize::from(problem.stacked(shape[2]).is_some())] = true;
                for algorithm in [
                    Algorithm::Auto,
                    Algorithm::Direct,
                    Algorithm::Vectorized,
                    Algorithm::Gemm,
                    Algorithm::Fft,
                    Algorithm::Winograd,
                ] {
                    let got = conv3d(x, w, Some(&bias), &options.algorithm(algorithm)).unwrap();
                    let err = (&got - &want).iter().fold(0.0f64, |m, d| m.max(d.abs()));
                    assert!(err < 1e-9, "{algorithm:?} {options:?}: {err}");
                }
            }
        }
        assert_eq!(paths, [true, true], "both paths ran");
    }

    #[test]
    fn degenerate_volumes_run_without_stacking_or_overflow() {
        // No input channel: an output of zeros (fuzzing found the stacked
        // path splitting its buffer into chunks of zero planes).
        let y = conv3d(
            &Array5::<f64>::zeros((1, 0, 1, 9, 4)),
            &Array5::zeros((19, 0, 1, 7, 1)),
            None,
            &ConvOptions::new(),
        )
        .unwrap();
        assert_eq!(y, Array5::zeros((1, 19, 1, 3, 4)));
        // A depth dilation or stride that only a one-plane kernel or a
        // one-plane output makes valid: the same as without it.
        let x = volume([1, 1, 1, 16, 40], 14)
            .into_shape_with_order((1, 16, 40))
            .unwrap();
        let k = volume([1, 1, 1, 3, 3], 15).into_shape_with_order((1, 3, 3)).unwrap();
        let plain = correlate3d(&x, &k, &ConvOptions::new()).unwrap();
        assert_eq!(
            correlate3d(&x, &k, &ConvOptions::new().dilations3d(1 << 60, 1, 1)).unwrap(),
            plain
        );
        let strided = ConvOptions::new().strides3d(1, 4, 4);
        assert_eq!(
            correlate3d(&x, &k, &ConvOptions::new().strides3d(1 << 56, 4, 4)).unwrap(),
            correlate3d(&x, &k, &strided).unwrap()
        );
    }

    #[test]
    fn separable_volumes_run_their_planes_separably() {
        // An outer product of three 1-D kernels: every plane has rank 1.
        let u = [1.0, 4.0, 6.0, 4.0, 1.0];
        let w = Array5::from_shape_fn((1, 1, 5, 5, 5), |(_, _, a, b, c)| u[a] * u[b] * u[c] / 4096.0);
        let x = volume([1, 1, 9, 12, 11], 13);
        for boundary in [Boundary::Fill(0.5), Boundary::Reflect] {
            let options = ConvOptions::new().padding(Padding::Same).boundary(boundary);
            let (geometry, _) = volume_geometry(dims(&x), dims(&w), &options).unwrap();
            let problem = Volume {
                input: x.view(),
                weight: w.view(),
                bias: None,
                conjugate_kernel: false,
                geometry,
                groups: 1,
                boundary,
                fill: options.boundary.fill().unwrap(),
            };
            assert!(problem.separable_planes(Algorithm::Auto));
            assert!(!problem.separable_planes(Algorithm::Vectorized));
            let got = conv3d(&x, &w, None, &options).unwrap();
            let err = (&got - &reference(&x, &w, None, &options))
                .iter()
                .fold(0.0f64, |m, d| m.max(d.abs()));
            assert!(err < 1e-12, "{err}");
            // A kernel of rank 2 in its planes stacks its taps.
            let mut bumped = w.clone();
            bumped[[0, 0, 2, 0, 4]] += 1.0;
            let problem = Volume {
                weight: bumped.view(),
                ..problem
            };
            assert!(!problem.separable_planes(Algorithm::Auto));
        }
    }

    #[test]
    fn planes_of_the_fill_value_add_the_fill_times_the_weights() {
        // Padding of 3 planes before a one-plane input, kernel of 2: the
        // first two outputs read only fill planes.
        let x = volume([1, 1, 1, 2, 2], 3);
        let w = volume([2, 1, 2, 1, 1], 4);
        let options = ConvOptions::new()
            .padding(Padding::Explicit3d {
                front: 3,
                back: 0,
                top: 0,
                bottom: 0,
                left: 0,
                right: 0,
            })
            .boundary(Boundary::Fill(1.5));
        let bias = Array1::from(vec![10.0, 20.0]);
        assert_eq!(
            conv3d(&x, &w, Some(&bias), &options).unwrap(),
            reference(&x, &w, Some(&bias), &options)
        );
    }

    #[test]
    fn the_gradients_are_the_adjoints_of_the_convolution() {
        // <conv3d(x), g> = <x, ∂/∂x> = <w, ∂/∂w> (for x, only where the
        // padding holds no constant besides zero).
        let x = volume([2, 4, 5, 6, 5], 5);
        let w = volume([4, 2, 3, 2, 3], 6);
        for options in option_sets() {
            let options = options.groups(2);
            let nonzero_fill =
                matches!(options.boundary, Boundary::Constant(_)) && options.boundary.fill::<f64>() != Ok(0.0);
            let y = conv3d(&x, &w, None, &options).unwrap();
            let g = volume(dims(&y), 7);
            let grads = conv3d_backward(&x, &w, &g, &options).unwrap();
            let energy = dot(&y, &g);
            // y is linear in w, fill included; in x only without a fill.
            assert!((dot(&w, &grads.weight) - energy).abs() < 1e-9, "{options:?}");
            if !nonzero_fill {
                assert!((dot(&x, &grads.input) - energy).abs() < 1e-9, "{options:?}");
            }
            let sums: Vec<f64> = (0..4).map(|o| g.index_axis(Axis(1), o).sum()).collect();
            assert_eq!(grads.bias.to_vec(), sums);
        }
    }

    #[test]
    fn the_transposed_convolution_is_the_adjoint() {
        let options = ConvOptions::new()
            .strides3d(2, 1, 2)
            .dilations3d(1, 2, 1)
            .padding(Padding::uniform3d(1))
            .output_paddings3d(1, 0, 1)
            .groups(2);
        let x = volume([2, 4, 6, 7, 6], 8);
        let w = volume([4, 2, 3, 2, 3], 9);
        let y = conv3d(&x, &w, None, &options).unwrap();
        let g = volume(dims(&y), 10);
        // conv_transpose3d's weight is [C_in, C_out / groups, …]: the
        // forward weight [O, C / groups, …] read with O as its input.
        let t = conv_transpose3d(&g, &w, None, &options).unwrap();
        assert_eq!(t.shape(), x.shape());
        assert!((dot(&y, &g) - dot(&x, &t)).abs() < 1e-9);
    }

    #[test]
    fn scipy_valid_swaps_a_volume_larger_kernel() {
        let x = volume([1, 1, 2, 2, 3], 11).into_shape_with_order((2, 2, 3)).unwrap();
        let k = volume([1, 1, 3, 4, 4], 12).into_shape_with_order((3, 4, 4)).unwrap();
        let swapped = correlate3d(&x, &k, &ConvOptions::new()).unwrap();
        let mut direct = correlate3d(&k, &x, &ConvOptions::new()).unwrap();
        for axis in 0..3 {
            direct.invert_axis(Axis(axis));
        }
        assert_eq!(swapped, direct);
    }

    #[test]
    fn runs_follow_the_stride_and_break_at_folds() {
        // 5 planes, 3 taps, padding 1 on each side, stride 1.
        let depth = AxisGeometry::new(5, 3).padding(1, 1);
        let fill = Boundary::Fill(0.0);
        assert_eq!(
            runs(&depth, &fill, 0, 0..5),
            [
                Run {
                    outputs: 0..1,
                    first: None
                },
                Run {
                    outputs: 1..5,
                    first: Some(0)
                },
            ]
        );
        assert_eq!(
            runs(&depth, &fill, 1, 0..5),
            [Run {
                outputs: 0..5,
                first: Some(0)
            }]
        );
        // Reflect: plane −1 reads plane 1, then 0, 1, 2, 3 follow on.
        assert_eq!(
            runs(&depth, &Boundary::Reflect, 0, 0..5),
            [
                Run {
                    outputs: 0..1,
                    first: Some(1)
                },
                Run {
                    outputs: 1..5,
                    first: Some(0)
                },
            ]
        );
        // Stride 2 over 7 planes, no padding: taps start at 0, 1, 2.
        let strided = AxisGeometry::new(7, 3).stride(2);
        assert_eq!(
            runs(&strided, &fill, 2, 0..3),
            [Run {
                outputs: 0..3,
                first: Some(2)
            }]
        );
    }

    #[test]
    fn split_by_groups_equal_flags() {
        assert_eq!(
            split_by(2..6, 2, &[true, true, false, true]),
            [(2..4, true), (4..5, false), (5..6, true)]
        );
    }
}
