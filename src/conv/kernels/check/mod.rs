//! The one checker every kernel family is tested with, called from each
//! kernel's own file (as RustFFT's `test_utils::check_fft_algorithm` is):
//! [`check_kernel`] runs a kernel over the cases of a [`sweep`] and
//! compares it with the reference, [`direct::run`].
//!
//! Three kinds of mistake are caught besides wrong sums:
//!
//! - an output the kernel forgets to write: outputs are pre-filled with
//!   poison (NaN, or an unlikely integer), and an output view that is part
//!   of a larger array must leave the rest of that array alone;
//! - a read of stale scratch: each case runs once with the kernel's own
//!   fresh buffers and once with a [`Workspace`] that a larger problem with
//!   a poisoned input has just used (and every earlier case before it), and
//!   both runs must give the same values;
//! - a read outside the views: sliced inputs are cut out of poisoned
//!   arrays.
//!
//! Integers must match exactly (their arithmetic wraps, so any order of
//! summation gives the same bits); floating point to a relative tolerance
//! per type.

use ndarray::{s, Array1, Array4, ArrayView1, ArrayView4, ArrayViewMut4, Ix1, Ix4, SliceInfo, SliceInfoElem};
use num_complex::Complex;

use super::direct;
use crate::conv::element::Element;
use crate::conv::exec::scratch::Workspace;
use crate::conv::problem::{dims4, Problem};
use crate::options::{Boundary, ConvOptions, Padding};
use crate::shape::AxisGeometry;

mod cases;

pub(crate) use cases::{sweep, Case, Edge, Layout, EDGES, LAYOUTS};

/// Rows and columns added to a case's input for the poisoned run before
/// it, so that the scratch it leaves is larger than the case needs.
const GROW: usize = 5;

/// A xorshift64* generator: a few lines, seeded per case, so that every
/// failure can be reproduced on its own.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        // Multiplying scatters neighbouring seeds over the state; the state
        // must never be zero.
        Rng((seed ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[-1, 1)`: the top 53 bits as a fraction of 2^52, less one.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * 2f64.powi(-52) - 1.0
    }
}

/// An element type the checker can generate, poison and compare.
pub(crate) trait Sample: Element {
    /// What outputs are pre-filled with and poisoned inputs hold.
    const POISON: Self;
    /// The value of [`Edge::Fill`]: nonzero, so that padding with zero
    /// instead is caught.
    const FILL: Self;
    /// The largest difference from the reference allowed, relative to the
    /// largest output of the case (or to one, if that is smaller).
    const TOLERANCE: f64;

    fn sample(rng: &mut Rng) -> Self;
    fn is_poison(self) -> bool;
    fn magnitude(self) -> f64;
    /// Whether `self` differs from `want` by at most `TOLERANCE · scale`.
    fn close(self, want: Self, scale: f64) -> bool;
}

macro_rules! sample_float {
    ($t:ty, $tolerance:expr) => {
        impl Sample for $t {
            const POISON: Self = <$t>::NAN;
            const FILL: Self = 0.75;
            const TOLERANCE: f64 = $tolerance;

            fn sample(rng: &mut Rng) -> Self {
                rng.unit() as $t
            }

            fn is_poison(self) -> bool {
                self.is_nan()
            }

            fn magnitude(self) -> f64 {
                f64::from(self.abs())
            }

            fn close(self, want: Self, scale: f64) -> bool {
                f64::from((self - want).abs()) <= Self::TOLERANCE * scale
            }
        }

        impl Sample for Complex<$t> {
            const POISON: Self = Complex::new(<$t>::NAN, <$t>::NAN);
            const FILL: Self = Complex::new(0.75, -0.5);
            const TOLERANCE: f64 = $tolerance;

            fn sample(rng: &mut Rng) -> Self {
                Complex::new(rng.unit() as $t, rng.unit() as $t)
            }

            fn is_poison(self) -> bool {
                self.re.is_nan() && self.im.is_nan()
            }

            fn magnitude(self) -> f64 {
                f64::from(self.norm())
            }

            fn close(self, want: Self, scale: f64) -> bool {
                f64::from((self - want).norm()) <= Self::TOLERANCE * scale
            }
        }
    };
}

// About 1000 units in the last place: far above the rounding of a few
// hundred products summed in any order (or through an FFT), far below
// what a wrong tap or a wrong pixel gives.
sample_float!(f32, 1e-4);
sample_float!(f64, 2e-13);

macro_rules! sample_int {
    ($t:ty) => {
        impl Sample for $t {
            const POISON: Self = 0x5EED_BAD0 as $t;
            const FILL: Self = -3;
            const TOLERANCE: f64 = 0.0;

            /// Any value at all: products and sums wrap, in every kernel
            /// alike.
            fn sample(rng: &mut Rng) -> Self {
                rng.next_u64() as $t
            }

            fn is_poison(self) -> bool {
                self == Self::POISON
            }

            fn magnitude(self) -> f64 {
                0.0
            }

            fn close(self, want: Self, _scale: f64) -> bool {
                self == want
            }
        }
    };
}

sample_int!(i32);
sample_int!(i64);

/// A checked problem of `input` and `weight` (and `bias`) with `options`,
/// as the batched entry points make it.
///
/// # Panics
///
/// If the shapes do not make a valid problem.
pub(crate) fn problem<'a, A: Element>(
    input: ArrayView4<'a, A>,
    weight: ArrayView4<'a, A>,
    bias: Option<ArrayView1<'a, A>>,
    options: &ConvOptions,
) -> Problem<'a, A> {
    Problem::batched(input, weight, bias, options)
        .unwrap_or_else(|e| panic!("not a valid problem: {e}"))
        .0
}

/// Runs `run` on `problem` grown by `grow` rows and columns (and to one
/// image at least), with an input that is all poison, and throws the
/// output away: whatever scratch the run keeps is then poisoned and
/// larger than `problem` needs.
pub(crate) fn run_poisoned<A: Sample>(
    problem: &Problem<'_, A>,
    grow: usize,
    run: impl Fn(&Problem<'_, A>, ArrayViewMut4<'_, A>),
) {
    let [n, c, h, w] = dims4(problem.input.shape());
    let input = Array4::from_elem([n.max(1), c, h + grow, w + grow], A::POISON);
    let [rows, cols] = problem.geometry;
    let geometry = [
        AxisGeometry {
            input: h + grow,
            ..rows
        },
        AxisGeometry {
            input: w + grow,
            ..cols
        },
    ];
    let grown = Problem {
        input: input.view(),
        geometry,
        ..*problem
    };
    let mut out = Array4::from_elem(grown.output_shape(), A::POISON);
    run(&grown, out.view_mut());
}

/// Runs `run`, the kernel called `name`, on every case, and panics at the
/// first output that differs from the reference, naming the case.
pub(crate) fn check_kernel<A: Sample>(
    name: &str,
    cases: impl IntoIterator<Item = Case>,
    run: impl Fn(&Problem<'_, A>, ArrayViewMut4<'_, A>),
) {
    let shared = Workspace::default();
    let mut checked = 0;
    for (index, case) in cases.into_iter().enumerate() {
        let data = Data::<A>::new(case, &mut Rng::new(index as u64));
        let reference = data.problem(None);
        let mut want = Array4::zeros(reference.output_shape());
        direct::run(&reference, want.view_mut());
        let scale = want.iter().fold(1.0, |m: f64, v| m.max(v.magnitude()));
        let mut first: Option<Array4<A>> = None;
        for (attempt, workspace) in [None, Some(&shared)].into_iter().enumerate() {
            let problem = data.problem(workspace);
            if workspace.is_some() {
                run_poisoned(&problem, GROW, &run);
            }
            let mut out = Output::new(dims4(want.shape()), case.layout);
            run(&problem, out.view_mut());
            let at = |what: &str| format!("{name}, case {index}, run {attempt}: {what}\n{case:?}");
            for ((i, &got), &w) in out.view().indexed_iter().zip(&want) {
                assert!(
                    got.close(w, scale),
                    "{}",
                    at(&format!("output {i:?} is {got:?}, the reference's {w:?}"))
                );
            }
            if let Some(first) = &first {
                assert!(out.view() == first.view(), "{}", at("differs from the run before"));
            }
            first = Some(out.view().to_owned());
            assert!(out.only_view_written(), "{}", at("wrote outside the output view"));
        }
        checked += 1;
    }
    assert!(checked > 0, "{name}: no case to check");
}

/// The arrays of one case, stored as its layout says; [`Data::problem`]
/// views them with their logical shapes.
struct Data<A> {
    case: Case,
    input: Array4<A>,
    weight: Array4<A>,
    bias: Option<Array1<A>>,
}

type Slice4 = SliceInfo<[SliceInfoElem; 4], Ix4, Ix4>;

/// Where a [`Layout::SlicedInput`] input of `height` rows lies in its
/// store of `[N, C + 1, height + 2, 2W + 1]`.
fn input_slice(height: usize) -> Slice4 {
    s![.., 1.., 1..height + 1, 1..;2]
}

fn reversed_kernel() -> Slice4 {
    s![.., .., ..;-1, ..;-1]
}

fn every_other() -> SliceInfo<[SliceInfoElem; 1], Ix1, Ix1> {
    s![..;2]
}

impl<A: Sample> Data<A> {
    fn new(case: Case, rng: &mut Rng) -> Self {
        let [n, c, h, w] = case.input;
        let [kh, kw] = case.kernel;
        let o = case.out_channels;
        let x = Array4::from_shape_simple_fn([n, c, h, w], || A::sample(rng));
        let weight_shape = [o, c / case.groups, kh, kw];
        let k = if case.rank_one {
            let mut k = Array4::zeros(weight_shape);
            for mut kernel in k.exact_chunks_mut([1, 1, kh, kw]) {
                let u: Vec<A> = (0..kh).map(|_| A::sample(rng)).collect();
                let v: Vec<A> = (0..kw).map(|_| A::sample(rng)).collect();
                // `plus_product` wraps for integers where `*` would panic.
                kernel
                    .indexed_iter_mut()
                    .for_each(|((_, _, a, b), t)| *t = A::zero().plus_product(u[a], v[b]));
            }
            k
        } else {
            Array4::from_shape_simple_fn(weight_shape, || A::sample(rng))
        };
        let bias = case.bias.then(|| Array1::from_shape_simple_fn(o, || A::sample(rng)));
        let input = match case.layout {
            Layout::TransposedInput => x.view().permuted_axes([0, 1, 3, 2]).as_standard_layout().into_owned(),
            Layout::SlicedInput => {
                let mut store = Array4::from_elem([n, c + 1, h + 2, 2 * w + 1], A::POISON);
                store.slice_mut(input_slice(h)).assign(&x);
                store
            }
            _ => x,
        };
        let weight = match case.layout {
            Layout::ReversedWeight => k.slice(reversed_kernel()).as_standard_layout().into_owned(),
            _ => k,
        };
        let bias = match case.layout {
            Layout::SlicedInput => bias.map(|b| {
                let mut store = Array1::from_elem(2 * o, A::POISON);
                store.slice_mut(every_other()).assign(&b);
                store
            }),
            _ => bias,
        };
        Data {
            case,
            input,
            weight,
            bias,
        }
    }

    /// The case as a problem, with `workspace` as its scratch.
    fn problem<'a>(&'a self, workspace: Option<&'a Workspace<A>>) -> Problem<'a, A> {
        let case = &self.case;
        let input = match case.layout {
            Layout::TransposedInput => self.input.view().permuted_axes([0, 1, 3, 2]),
            Layout::SlicedInput => self.input.slice(input_slice(case.input[2])),
            _ => self.input.view(),
        };
        let weight = match case.layout {
            Layout::ReversedWeight => self.weight.slice(reversed_kernel()),
            _ => self.weight.view(),
        };
        let bias = self.bias.as_ref().map(|b| match case.layout {
            Layout::SlicedInput => b.slice(every_other()),
            _ => b.view(),
        });
        let mut problem = problem(input, weight, bias, &case.options::<A>());
        problem.conjugate_kernel = case.conjugate;
        problem.workspace = workspace;
        problem
    }
}

/// An output pre-filled with poison, in the layout of a case: the view a
/// kernel writes is part of `backing`.
struct Output<A> {
    backing: Array4<A>,
    layout: Layout,
    cols: usize,
}

impl<A: Sample> Output<A> {
    fn new(shape: [usize; 4], layout: Layout) -> Self {
        let [n, o, h, w] = shape;
        let backing = match layout {
            Layout::StridedOutput => [n, o, h, 2 * w],
            Layout::PaddedOutputRows => [n, o, h, w + 3],
            _ => shape,
        };
        Output {
            backing: Array4::from_elem(backing, A::POISON),
            layout,
            cols: w,
        }
    }

    fn view_mut(&mut self) -> ArrayViewMut4<'_, A> {
        match self.layout {
            Layout::StridedOutput => self.backing.slice_mut(s![.., .., ..;-1, ..;2]),
            Layout::PaddedOutputRows => self.backing.slice_mut(s![.., .., .., ..self.cols]),
            _ => self.backing.view_mut(),
        }
    }

    fn view(&self) -> ArrayView4<'_, A> {
        match self.layout {
            Layout::StridedOutput => self.backing.slice(s![.., .., ..;-1, ..;2]),
            Layout::PaddedOutputRows => self.backing.slice(s![.., .., .., ..self.cols]),
            _ => self.backing.view(),
        }
    }

    /// Whether everything in `backing` outside the view is still poison
    /// (the view is poisoned again to find out).
    fn only_view_written(mut self) -> bool {
        self.view_mut().fill(A::POISON);
        self.backing.iter().all(|v| v.is_poison())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_spread() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..4).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        let mut rng = Rng::new(0);
        let units: Vec<f64> = (0..1000).map(|_| rng.unit()).collect();
        assert!(units.iter().all(|u| (-1.0..1.0).contains(u)));
        // 1000 uniform draws: both halves get a fair share.
        let negative = units.iter().filter(|&&u| u < 0.0).count();
        assert!((400..600).contains(&negative), "{negative} of 1000 negative");
    }

    #[test]
    fn the_sweep_covers_every_option() {
        let cases = sweep();
        let any = |what: &str, pred: &dyn Fn(&Case) -> bool| assert!(cases.iter().any(pred), "no case with {what}");
        let outputs = |c: &Case| {
            let p = total_padding(c);
            let len = |i: usize| {
                let ext = c.dilation[i] * (c.kernel[i] - 1) + 1;
                (c.input[2 + i] + p[i] - ext) / c.stride[i] + 1
            };
            [len(0), len(1)]
        };
        for s in 1..=3 {
            any(&format!("row stride {s}"), &|c| c.stride[0] == s);
            any(&format!("column stride {s}"), &|c| c.stride[1] == s);
        }
        for d in 1..=2 {
            any(&format!("dilation {d}"), &|c| c.dilation == [d, d]);
        }
        for n in 0..=2 {
            any(&format!("batch {n}"), &|c| c.input[0] == n);
        }
        for edge in EDGES {
            any(&format!("{edge:?}"), &|c| c.edge == edge && c.padding != Padding::Valid);
        }
        for layout in LAYOUTS {
            any(&format!("{layout:?}"), &|c| c.layout == layout);
        }
        any("one group of several channels", &|c| c.groups == 1 && c.input[1] > 1);
        any("two groups", &|c| c.groups == 2 && c.input[1] > 2);
        any("depthwise", &|c| c.groups > 1 && c.groups == c.input[1]);
        any("bias", &|c| c.bias);
        any("no bias", &|c| !c.bias);
        any("conjugation", &|c| c.conjugate);
        any("padding wider than the input", &|c| {
            let p = total_padding(c);
            p[0] > 2 * c.input[2] && p[1] > 2 * c.input[3]
        });
        any("one output", &|c| outputs(c) == [1, 1]);
        any("17 outputs a row", &|c| outputs(c)[1] == 17);
        any("several GEMM blocks", &|c| outputs(c)[0] * outputs(c)[1] > 2 * 512);
        any("several vectorized blocks", &|c| {
            outputs(c)[0] * outputs(c)[1] > 2 * 4096
        });
        // The restricted kernels still see a good part of it.
        assert!(cases.iter().filter(|c| c.unit_stride()).count() >= 40);
        assert!(cases.iter().filter(|c| c.one_to_one()).count() >= 30);
    }

    /// The padding of `case` along rows and columns, both sides together.
    fn total_padding(case: &Case) -> [usize; 2] {
        let along = |i: usize| {
            let axis = AxisGeometry::new(case.input[2 + i], case.kernel[i])
                .stride(case.stride[i])
                .dilation(case.dilation[i])
                .along([crate::Axis::Height, crate::Axis::Width][i]);
            let resolved = case
                .padding
                .resolve(axis, crate::shape::Operation::CrossCorrelation)
                .expect("sweep cases are valid");
            resolved.pad_lo + resolved.pad_hi
        };
        [along(0), along(1)]
    }

    #[test]
    fn layouts_keep_the_logical_values() {
        let case = Case::new([2, 2, 3, 4], 2, [2, 3]).bias();
        let standard = Data::<i64>::new(case, &mut Rng::new(7));
        let want = standard.problem(None);
        for layout in LAYOUTS {
            let data = Data::<i64>::new(case.layout(layout), &mut Rng::new(7));
            let got = data.problem(None);
            assert_eq!(got.input, want.input, "{layout:?}");
            assert_eq!(got.weight, want.weight, "{layout:?}");
            assert_eq!(got.bias, want.bias, "{layout:?}");
        }
        // ... and each is the layout it says.
        let view = |layout| Data::<i64>::new(case.layout(layout), &mut Rng::new(7));
        assert!(want.input.is_standard_layout() && want.weight.is_standard_layout());
        assert!(!view(Layout::TransposedInput).problem(None).input.is_standard_layout());
        assert!(!view(Layout::SlicedInput).problem(None).input.is_standard_layout());
        assert!(view(Layout::SlicedInput)
            .problem(None)
            .bias
            .is_some_and(|b| b.strides() == [2]));
        assert!(view(Layout::ReversedWeight).problem(None).weight.strides()[3] < 0);
    }

    #[test]
    fn rank_one_kernels_are_outer_products() {
        let data = Data::<f64>::new(
            Case::new([1, 2, 5, 5], 2, [3, 4]).groups(2).rank_one(),
            &mut Rng::new(1),
        );
        assert_eq!(data.weight.shape(), [2, 1, 3, 4]);
        for kernel in data.weight.exact_chunks([1, 1, 3, 4]) {
            // Every 2×2 minor of a rank-1 matrix vanishes.
            for (a, b) in [(0, 0), (1, 0), (0, 1), (1, 2)] {
                let k = |i, j| kernel[[0, 0, i, j]];
                let minor = k(a, b) * k(a + 1, b + 1) - k(a, b + 1) * k(a + 1, b);
                assert!(minor.abs() < 1e-15, "{kernel}");
            }
        }
    }

    #[test]
    fn an_output_written_outside_its_view_is_caught() {
        for layout in [Layout::StridedOutput, Layout::PaddedOutputRows] {
            let mut out = Output::<f32>::new([1, 1, 2, 3], layout);
            out.view_mut().fill(1.0);
            assert!(out.view().iter().all(|&v| v == 1.0));
            let mut spilled = Output::<f32>::new([1, 1, 2, 3], layout);
            spilled.backing.fill(1.0);
            assert!(!spilled.only_view_written(), "{layout:?}");
            assert!(out.only_view_written(), "{layout:?}");
        }
    }

    /// The checker must fail a kernel that is wrong in each of the ways it
    /// looks for, or its silence proves nothing.
    #[test]
    fn the_checker_catches_broken_kernels() {
        let fails = |run: fn(&Problem<'_, f64>, ArrayViewMut4<'_, f64>)| {
            std::panic::catch_unwind(|| check_kernel::<f64>("broken", sweep(), run)).is_err()
        };
        // The reference passes.
        assert!(!fails(direct::run));
        // Forgetting the last output.
        assert!(fails(|p, mut out| {
            let mut all = Array4::zeros(p.output_shape());
            direct::run(p, all.view_mut());
            let written = out.len().saturating_sub(1);
            out.iter_mut().zip(&all).take(written).for_each(|(o, &v)| *o = v);
        }));
        // Ignoring the bias.
        assert!(fails(|p, out| direct::run(&Problem { bias: None, ..*p }, out)));
        // Padding with zero whatever the rule.
        assert!(fails(|p, out| {
            direct::run(
                &Problem {
                    boundary: Boundary::default(),
                    fill: 0.0,
                    ..*p
                },
                out,
            )
        }));
        // Reading scratch before writing it: a kernel that keeps its first
        // input value in the tile buffer, but uses what the buffer held
        // (right only when that is the same problem's, or nothing).
        assert!(fails(|p, mut out| {
            direct::run(p, out.view_mut());
            let local = Workspace::default();
            let first = p.input.iter().next().copied().unwrap_or(0.0);
            let held = p.workspace.unwrap_or(&local).with(|scratch| {
                let held = scratch.tile.first().copied().unwrap_or(first);
                scratch.tile = vec![first];
                held
            });
            out.mapv_inplace(|v| v + (held - first));
        }));
    }
}
