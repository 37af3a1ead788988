//! The benchmark suite of `docs/benchmarks.md`: every algorithm on every
//! case where it applies, beside `Auto` and the peers `ndarray-conv` and
//! candle, so that a path that got slower shows up by name.
//!
//! | group | cases | what is timed |
//! |---|---|---|
//! | `correlate2d_f32`, `correlate2d_f64` | s1–s4 | `correlate2d`, random kernels |
//! | `correlate2d_f32_rank1` | r1–r4 | `correlate2d_into` (and `correlate2d`) with a Sobel 3×3 and Gaussian 5×5, 9×9, 13×13 kernel on 1024², `Same` |
//! | `correlate2d_f32_symmetric` | s2 | s2 with `Boundary::Symmetric` |
//! | `conv2d_f32` | b1–b5 | `conv2d` |
//! | `conv2d_f32_fwd_bwd` | b1–b5 | `conv2d` then `conv2d_backward_into` of the input and the weight |
//! | `conv2d_f32_plan` | b1, b2, b3, b5 | `Conv2dPlan::run_into` beside the one-shot `conv2d_into` |
//! | `correlate1d_f32`, `correlate1d_f64` | l1 | `correlate1d` of a 10⁶-sample signal with 255 taps, `Same` |
//! | `conv1d_f32` | a1, a2 | `conv1d` |
//! | `conv1d_f32_fwd_bwd` | a1, a2 | `conv1d` then `conv1d_backward_into` of the input and the weight |
//! | `correlate3d_f32` | v2 | `correlate3d` of a 128³ volume with a 5×5×5 kernel, `Same` |
//! | `conv3d_f32` | v1 | `conv3d` |
//! | `conv3d_f32_fwd_bwd` | v1 | `conv3d` then `conv3d_backward_into` of the input and the weight |
//!
//! A benchmark is named `group/library/algorithm/threads/case`:
//!
//! - `convolve/{Auto, Direct, …}/{1,2}t`: the allocating call with that
//!   algorithm; a forced algorithm appears only on the cases where it runs
//!   itself rather than giving way (`tests/common/forced.rs` decides, from
//!   the planner and, for `Separable`, a plan that reads the kernel), and
//!   the slow direct loop only on cases of at most [`DIRECT_MAX_FLOPS`];
//! - `convolve_into/…`: the `_into` form, writing into one output array;
//!   `convolve_plan/Auto/…`: `Conv2dPlan::run_into`;
//! - `ndarray-conv/{direct, fft}/1t` and `candle/conv2d/{1,2}t`: the peers.
//!   candle runs the same problem as a 1×1×H×W `conv2d` for single-channel
//!   cases (zero padding only), and its result is checked against this
//!   crate's before it is timed.
//!
//! Each thread count runs inside its own rayon pool (`ThreadPool::install`).
//! candle's CPU `conv2d` runs its loops with rayon's parallel iterators and
//! its matrix products through the `gemm` crate's rayon mode, both of which
//! use the pool they are called from, so the same `install` sets candle's
//! threads. `gemm` splits its work into as many tasks as candle's own count
//! (`RAYON_NUM_THREADS`, else the physical cores), which inside a smaller
//! pool run one after another. candle's private pool
//! (`Device::with_context`) is not entered by `Tensor::conv2d`.
//!
//! Throughput is in FLOPs of the direct definition (2 per multiply-add, for
//! the FFT and separable paths too, and 3× the forward pass for forward +
//! backward), so criterion's "elem/s" reads as FLOP/s. Inputs come from the
//! tests' seeded generator. Filter with a regular expression on the whole
//! name, ending a group name with `/` so that `correlate2d_f32/` does not
//! also select `correlate2d_f32_rank1`:
//!
//! ```text
//! cargo bench --bench conv -- 'conv2d_f32/'            # one group
//! cargo bench --bench conv -- 'conv2d_f32/.*/b2 '      # one case of a group
//! cargo bench --bench conv -- '/Gemm/'                 # one algorithm everywhere
//! cargo bench --bench conv -- '^candle|/candle/'       # the candle rows
//! cargo bench --bench conv -- --test                   # run each once, untimed
//! ```
//!
//! The whole suite should take about 14 minutes on the 2-core machine of
//! `docs/benchmarks.md` (an estimate from its rows and sampling settings:
//! about 250 rows of 2–4 s each, at least 10 samples per row).

use std::hint::black_box;
use std::time::Duration;

// The tests' seeded generator, so that inputs are the same on every run.
#[path = "../tests/common/rng.rs"]
mod rng;

// Which algorithms each case can time.
#[path = "../tests/common/forced.rs"]
mod forced;

use candle_core::{Device, Tensor, WithDType};
use convolve::shape::{conv1d_output_shape, conv3d_output_shape, AxisGeometry, Operation};
use convolve::{
    conv1d, conv1d_backward_into, conv2d, conv2d_backward_into, conv2d_into, conv3d, conv3d_algorithm,
    conv3d_backward_into, correlate1d, correlate2d, correlate2d_into, correlate3d, Algorithm, Boundary, Conv1dGradsMut,
    Conv2dGradsMut, Conv2dPlan, Conv3dGradsMut, ConvOptions, Element, Float, Padding,
};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use ndarray::{
    Array, Array1, Array2, Array3, Array4, Array5, ArrayRef, ArrayRef4, ArrayView4, Axis, Dimension, ShapeBuilder,
};
use ndarray_conv::{ConvExt, ConvFFTExt, ConvMode, PaddingMode, ReverseKernel};
use rayon::ThreadPool;

use forced::{applies, ALGORITHMS};

/// The thread counts every row is timed at.
const THREADS: [usize; 2] = [1, 2];

/// The direct loop, the slow reference (under 1 GFLOP/s), is timed only on
/// cases of at most this many FLOPs (s1, s2, r1, r2, b4), so that its 10
/// calls take seconds rather than minutes.
const DIRECT_MAX_FLOPS: u64 = 100_000_000;

/// The algorithms timed on a problem of `flops` FLOPs: those of
/// `ALGORITHMS` that run on it, but the direct loop only on small ones.
fn timed<A: Element>(input: [usize; 4], weight: &ArrayRef4<A>, options: &ConvOptions, flops: u64) -> Vec<Algorithm> {
    let affordable = |a: &Algorithm| *a != Algorithm::Direct || flops <= DIRECT_MAX_FLOPS;
    ALGORITHMS
        .into_iter()
        .filter(|a| affordable(a) && applies(*a, input, weight, options))
        .collect()
}

/// One rayon pool per thread count of [`THREADS`].
fn pools() -> Vec<(usize, ThreadPool)> {
    THREADS
        .iter()
        .map(|&n| (n, rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()))
        .collect()
}

/// A group of at least 10 samples, warmed up for `warm_up` and measured
/// for `measure` per benchmark (longer when 10 calls take longer).
fn group<'a>(c: &'a mut Criterion, name: &str, warm_up: Duration, measure: Duration) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(10).warm_up_time(warm_up).measurement_time(measure);
    group
}

/// A single-channel group: many rows of milliseconds each.
fn single_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    group(c, name, Duration::from_millis(500), Duration::from_millis(1500))
}

/// Times `routine` inside each pool, as `{function}/{threads}t` of `case`.
fn on_each_pool<O>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    pools: &[(usize, ThreadPool)],
    function: &str,
    case: &str,
    mut routine: impl FnMut() -> O + Send,
) {
    for (threads, pool) in pools {
        let id = BenchmarkId::new(format!("{function}/{threads}t"), case);
        group.bench_function(id, |b| pool.install(|| b.iter(&mut routine)));
    }
}

/// The element types of the suite, with the calls of `ndarray-conv`
/// (whose traits need the concrete type).
trait Real: Float + WithDType {
    /// `ndarray-conv`'s correlation with zero padding, direct or by FFT.
    fn ndarray_conv(x: &Array2<Self>, k: &Array2<Self>, mode: ConvMode<2>, fft: bool) -> Array2<Self>;
}

macro_rules! real {
    ($($t:ty),*) => {$(
        impl Real for $t {
            fn ndarray_conv(x: &Array2<$t>, k: &Array2<$t>, mode: ConvMode<2>, fft: bool) -> Array2<$t> {
                if fft {
                    x.conv_fft(k.no_reverse(), mode, PaddingMode::Zeros).unwrap()
                } else {
                    x.conv(k.no_reverse(), mode, PaddingMode::Zeros).unwrap()
                }
            }
        }
    )*};
}

real!(f32, f64);

/// The seeded array of `shape` (uniform in `[-1, 1)`) as `A`.
fn seeded<A: Real, Sh: ShapeBuilder>(shape: Sh, seed: u64) -> Array<A, Sh::Dim> {
    rng::seeded(shape, seed).mapv(|v| A::from(v).unwrap())
}

// ---------------------------------------------------------------------
// candle
// ---------------------------------------------------------------------

/// candle's `conv2d` arguments: one padding for every side, one stride
/// and one dilation for both axes, and the groups.
struct CandleArgs {
    padding: usize,
    stride: usize,
    dilation: usize,
    groups: usize,
}

/// The arguments that make candle compute `options` for a `kernel`
/// (`[kh, kw]`) on an `input` (`[H, W]`), if it can: zero padding, the
/// same on all four sides, and the same stride and dilation on both axes.
fn candle_args(options: &ConvOptions, input: [usize; 2], kernel: [usize; 2]) -> Option<CandleArgs> {
    let [stride, dilation] = [options.stride, options.dilation]
        .map(|v| v.of_rank::<2>().and_then(|[rows, cols]| (rows == cols).then_some(rows)));
    let (stride, dilation) = (stride?, dilation?);
    let sides = [0, 1].map(|axis| {
        let geometry = AxisGeometry::new(input[axis], kernel[axis])
            .stride(stride)
            .dilation(dilation);
        let padded = options.padding.resolve(geometry, Operation::CrossCorrelation).unwrap();
        (padded.pad_lo, padded.pad_hi)
    });
    let padding = sides[0].0;
    let uniform = sides.iter().all(|&(lo, hi)| lo == padding && hi == padding);
    (uniform && options.boundary == Boundary::default()).then_some(CandleArgs {
        padding,
        stride,
        dilation,
        groups: options.groups,
    })
}

/// `a` as a candle tensor of the same shape.
fn tensor<A: Real, D: Dimension>(a: &ArrayRef<A, D>) -> Tensor {
    Tensor::from_iter(a.iter().copied(), &Device::Cpu)
        .unwrap()
        .reshape(a.shape())
        .unwrap()
}

/// candle's rows for `conv2d(x, w)` with `options`, when candle can run
/// it, after checking that its result is `expected` (this crate's) to
/// within √ε of the largest output (or of 1, if that is smaller).
fn candle_rows<A: Real>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    pools: &[(usize, ThreadPool)],
    case: &str,
    (x, w): (ArrayView4<A>, ArrayView4<A>),
    options: &ConvOptions,
    expected: ArrayView4<A>,
) {
    let Some(args) = candle_args(options, [x.dim().2, x.dim().3], [w.dim().2, w.dim().3]) else {
        return;
    };
    let (xt, wt) = (tensor(&x), tensor(&w));
    let run = || {
        xt.conv2d(&wt, args.padding, args.stride, args.dilation, args.groups)
            .unwrap()
    };
    let got = run();
    assert_eq!(got.dims(), expected.shape(), "candle's output shape on {case}");
    let got = got.flatten_all().unwrap().to_vec1::<A>().unwrap();
    let largest = expected.iter().map(|&e| WithDType::to_f64(e).abs()).fold(1.0, f64::max);
    let worst = got
        .iter()
        .zip(&expected)
        .map(|(&g, &e)| WithDType::to_f64(g - e).abs())
        .fold(0.0, f64::max);
    assert!(
        worst <= WithDType::to_f64(A::epsilon()).sqrt() * largest,
        "candle differs from conv2d by {worst:?} on {case} (largest output {largest:?})"
    );
    on_each_pool(group, pools, "candle/conv2d", case, run);
}

// ---------------------------------------------------------------------
// Single channel
// ---------------------------------------------------------------------

/// A single-channel case: its name (its id first), input, kernel and
/// options.
struct Plane<A> {
    name: String,
    x: Array2<A>,
    k: Array2<A>,
    options: ConvOptions,
}

impl<A: Real> Plane<A> {
    /// A `side`² input and a `kernel`² kernel, both seeded.
    fn random(name: &str, side: usize, kernel: usize, options: ConvOptions) -> Self {
        Plane {
            name: name.to_owned(),
            x: seeded((side, side), 1),
            k: seeded((kernel, kernel), 2),
            options,
        }
    }

    /// The input and kernel as `conv2d` takes them.
    fn batched(&self) -> (ArrayView4<'_, A>, ArrayView4<'_, A>) {
        fn four<A>(a: &Array2<A>) -> ArrayView4<'_, A> {
            a.view().insert_axis(Axis(0)).insert_axis(Axis(0))
        }
        (four(&self.x), four(&self.k))
    }

    /// Every row of this crate and candle's, with `correlate2d_into` as
    /// well as `correlate2d` when `into` is set.
    fn bench(&self, group: &mut BenchmarkGroup<'_, WallTime>, pools: &[(usize, ThreadPool)], into: bool) {
        let (x, k, name) = (&self.x, &self.k, self.name.as_str());
        let expected = correlate2d(x, k, &self.options).unwrap();
        let flops = 2 * (expected.len() * k.len()) as u64;
        group.throughput(Throughput::Elements(flops));
        let (x4, k4) = self.batched();
        for algorithm in timed(x4.dim().into(), &k4, &self.options, flops) {
            let options = self.options.algorithm(algorithm);
            if into {
                let mut out = expected.clone();
                on_each_pool(group, pools, &format!("convolve_into/{algorithm:?}"), name, || {
                    correlate2d_into(black_box(x), k, &options, &mut out).unwrap()
                });
            }
            if !into || algorithm == Algorithm::Auto {
                on_each_pool(group, pools, &format!("convolve/{algorithm:?}"), name, || {
                    correlate2d(black_box(x), k, &options).unwrap()
                });
            }
        }
        let expected = expected.view().insert_axis(Axis(0)).insert_axis(Axis(0));
        candle_rows(group, pools, name, (x4, k4), &self.options, expected);
    }
}

/// s1–s4 of `docs/benchmarks.md` (random kernels), with `ndarray-conv`:
/// direct up to 11×11 (larger ones take minutes) and by FFT.
fn random_planes<A: Real>(c: &mut Criterion, name: &str) {
    let mut group = single_group(c, name);
    let pools = pools();
    let cases = [
        ("s1 512² k3 valid", 512, 3, Padding::Valid),
        ("s2 1024² k5 same", 1024, 5, Padding::Same),
        ("s3 1024² k11 same", 1024, 11, Padding::Same),
        ("s4 2048² k31 same", 2048, 31, Padding::Same),
    ];
    for (name, side, kernel, padding) in cases {
        let plane = Plane::<A>::random(name, side, kernel, ConvOptions::new().padding(padding));
        plane.bench(&mut group, &pools, false);
        let mode = match padding {
            Padding::Valid => ConvMode::Valid,
            _ => ConvMode::Same,
        };
        for (method, fft) in [("direct", false), ("fft", true)] {
            if fft || kernel <= 11 {
                let id = BenchmarkId::new(format!("ndarray-conv/{method}/1t"), name);
                group.bench_function(id, |b| {
                    b.iter(|| A::ndarray_conv(black_box(&plane.x), &plane.k, mode, fft))
                });
            }
        }
    }
    group.finish();
}

fn single_f32(c: &mut Criterion) {
    random_planes::<f32>(c, "correlate2d_f32");
}

fn single_f64(c: &mut Criterion) {
    random_planes::<f64>(c, "correlate2d_f64");
}

/// The kernel `u vᵀ`.
fn outer(u: &[f32], v: &[f32]) -> Array2<f32> {
    Array2::from_shape_fn((u.len(), v.len()), |(i, j)| u[i] * v[j])
}

/// A normalized Gaussian of `taps` taps with σ = (taps − 1) / 4.
fn gaussian(taps: usize) -> Vec<f32> {
    let (centre, sigma) = ((taps - 1) as f32 / 2.0, (taps - 1) as f32 / 4.0);
    let g: Vec<f32> = (0..taps)
        .map(|i| (-((i as f32 - centre) / sigma).powi(2) / 2.0).exp())
        .collect();
    let sum: f32 = g.iter().sum();
    g.iter().map(|v| v / sum).collect()
}

/// Filters whose kernels are outer products, the separable path's cases:
/// each algorithm through `correlate2d_into`, and `Auto` through
/// `correlate2d` too, on a seeded 1024² image with `Same` padding.
fn rank_one(c: &mut Criterion) {
    let mut group = single_group(c, "correlate2d_f32_rank1");
    let pools = pools();
    let kernels = [
        ("r1 1024² sobel3 same", outer(&[1.0, 2.0, 1.0], &[-1.0, 0.0, 1.0])),
        ("r2 1024² gauss5 same", outer(&gaussian(5), &gaussian(5))),
        ("r3 1024² gauss9 same", outer(&gaussian(9), &gaussian(9))),
        ("r4 1024² gauss13 same", outer(&gaussian(13), &gaussian(13))),
    ];
    for (name, k) in kernels {
        let plane = Plane {
            name: name.to_owned(),
            x: seeded((1024, 1024), 1),
            k,
            options: ConvOptions::new().padding(Padding::Same),
        };
        let (x4, k4) = plane.batched();
        let separable = applies(Algorithm::Separable, x4.dim().into(), &k4, &plane.options);
        assert!(separable, "{name} runs the separable path");
        plane.bench(&mut group, &pools, true);
    }
    group.finish();
}

/// s2 with a mirrored boundary, which every path reads through its own
/// padding code (no peer here: candle and `ndarray-conv` pad with zeros).
fn symmetric(c: &mut Criterion) {
    let mut group = single_group(c, "correlate2d_f32_symmetric");
    let options = ConvOptions::new().padding(Padding::Same).boundary(Boundary::Symmetric);
    Plane::<f32>::random("s2 1024² k5 same symmetric", 1024, 5, options).bench(&mut group, &pools(), false);
    group.finish();
}

// ---------------------------------------------------------------------
// Batched
// ---------------------------------------------------------------------

struct Batched {
    name: &'static str,
    input: [usize; 4],
    weight: [usize; 4],
    stride: usize,
    pad: usize,
    dilation: usize,
    groups: usize,
}

/// One batched case, in the field order of `Batched`.
const fn case(
    name: &'static str,
    input: [usize; 4],
    weight: [usize; 4],
    [stride, pad, dilation, groups]: [usize; 4],
) -> Batched {
    Batched {
        name,
        input,
        weight,
        stride,
        pad,
        dilation,
        groups,
    }
}

/// `[stride, pad, dilation, groups]` after the input and weight shapes.
const BATCHED: [Batched; 5] = [
    case("b1 alexnet", [8, 3, 224, 224], [96, 3, 11, 11], [4, 0, 1, 1]),
    case("b2 resnet3x3", [8, 64, 56, 56], [64, 64, 3, 3], [1, 1, 1, 1]),
    case("b3 pointwise", [8, 256, 28, 28], [128, 256, 1, 1], [1, 0, 1, 1]),
    case("b4 depthwise", [8, 128, 56, 56], [128, 1, 3, 3], [1, 1, 1, 128]),
    case("b5 dilated", [4, 64, 64, 64], [64, 64, 3, 3], [1, 2, 2, 1]),
];

impl Batched {
    fn options(&self) -> ConvOptions {
        ConvOptions::new()
            .stride(self.stride)
            .padding(Padding::uniform(self.pad))
            .dilation(self.dilation)
            .groups(self.groups)
    }

    fn flops(&self) -> u64 {
        let shape = convolve::shape::conv2d_output_shape(self.input, self.weight, &self.options()).unwrap();
        let per_output = self.weight[1] * self.weight[2] * self.weight[3];
        2 * (shape.iter().product::<usize>() * per_output) as u64
    }

    /// The seeded `f32` input and weight.
    fn operands(&self) -> (Array4<f32>, Array4<f32>) {
        (seeded(self.input, 3), seeded(self.weight, 4))
    }
}

/// A batched group: fewer, longer calls than the single-channel ones.
fn batched_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    group(c, name, Duration::from_secs(1), Duration::from_secs(3))
}

fn batched(c: &mut Criterion) {
    let mut group = batched_group(c, "conv2d_f32");
    let pools = pools();
    for case in &BATCHED {
        let (x, w) = case.operands();
        let options = case.options();
        group.throughput(Throughput::Elements(case.flops()));
        for algorithm in timed(case.input, &w, &options, case.flops()) {
            let options = options.algorithm(algorithm);
            on_each_pool(
                &mut group,
                &pools,
                &format!("convolve/{algorithm:?}"),
                case.name,
                || conv2d(black_box(&x), &w, None, &options).unwrap(),
            );
        }
        let expected = conv2d(&x, &w, None, &options).unwrap();
        candle_rows(
            &mut group,
            &pools,
            case.name,
            (x.view(), w.view()),
            &options,
            expected.view(),
        );
    }
    group.finish();
}

/// Forward pass plus the input and weight gradients (what
/// `torch.autograd.grad(y, (x, w), g)` computes), counted as three times
/// the forward FLOPs.
fn forward_backward(c: &mut Criterion) {
    let mut group = batched_group(c, "conv2d_f32_fwd_bwd");
    let pools = pools();
    for case in &BATCHED {
        let (x, w) = case.operands();
        let options = case.options();
        let y = conv2d(&x, &w, None, &options).unwrap();
        let g = seeded::<f32, _>(y.raw_dim(), 5);
        let mut dx = Array4::zeros(x.raw_dim());
        let mut dw = Array4::zeros(w.raw_dim());
        group.throughput(Throughput::Elements(3 * case.flops()));
        on_each_pool(&mut group, &pools, "convolve/Auto", case.name, || {
            let y = conv2d(black_box(&x), &w, None, &options).unwrap();
            let grads = Conv2dGradsMut {
                input: Some(dx.view_mut()),
                weight: Some(dw.view_mut()),
                bias: None,
            };
            conv2d_backward_into(&x, &w, &g, &options, grads).unwrap();
            y
        });
    }
    group.finish();
}

/// A plan's `run_into` beside the one-shot `conv2d_into`, both into one
/// output array, on the layers `Auto` runs as a matrix product (the
/// depthwise b4 is left out to keep the run short).
fn plan(c: &mut Criterion) {
    let mut group = batched_group(c, "conv2d_f32_plan");
    let pools = pools();
    for case in BATCHED.iter().filter(|case| !case.name.starts_with("b4")) {
        let (x, w) = case.operands();
        let options = case.options();
        let plan = Conv2dPlan::new(case.input, &w, None, &options).unwrap();
        let mut out = Array4::zeros(plan.output_shape());
        group.throughput(Throughput::Elements(case.flops()));
        on_each_pool(&mut group, &pools, "convolve_plan/Auto", case.name, || {
            plan.run_into(black_box(&x), &mut out).unwrap()
        });
        on_each_pool(&mut group, &pools, "convolve_into/Auto", case.name, || {
            conv2d_into(black_box(&x), &w, None, &options, &mut out).unwrap()
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------
// 1-D
// ---------------------------------------------------------------------
//
// A 1-D call is `conv2d` on arrays given a unit row axis (`[N, C, L]` as
// `[N, C, 1, L]`), so the 2-D `timed` list of algorithms holds for it.

/// The 1-D and 3-D layers time forced algorithms only on cases of at most
/// this many FLOPs: on a1 (19 GFLOP) the slower ones took 2–12 s a call,
/// minutes per group, where every other new group takes about one.
const FORCED_MAX_FLOPS: u64 = 8_000_000_000;

/// Whether `algorithm` is timed on a layer of `flops` FLOPs.
fn forced_affordable(algorithm: Algorithm, flops: u64) -> bool {
    algorithm == Algorithm::Auto || flops <= FORCED_MAX_FLOPS
}

/// l1: one signal of 10⁶ samples and a 255-tap kernel, `Same` padding,
/// with `ndarray-conv` beside it (on the signal as a 1 × 10⁶ image).
fn long_signal<A: Real>(c: &mut Criterion, name: &str) {
    const CASE: &str = "l1 1M k255 same";
    let mut group = single_group(c, name);
    let pools = pools();
    let x: Array1<A> = seeded(1_000_000, 1);
    let k: Array1<A> = seeded(255, 2);
    let options = ConvOptions::new().padding(Padding::Same);
    let flops = 2 * (x.len() * k.len()) as u64;
    group.throughput(Throughput::Elements(flops));
    let k4 = k.view().into_shape_with_order((1, 1, 1, k.len())).unwrap();
    // A forced `Gemm` has one output channel to share each patch with and
    // took 3 s a call here (0.17 GFLOP/s): timing it would take minutes.
    let affordable = |a: &Algorithm| *a != Algorithm::Gemm;
    for algorithm in timed([1, 1, 1, x.len()], &k4, &options, flops)
        .into_iter()
        .filter(affordable)
    {
        let options = options.algorithm(algorithm);
        on_each_pool(&mut group, &pools, &format!("convolve/{algorithm:?}"), CASE, || {
            correlate1d(black_box(&x), &k, &options).unwrap()
        });
    }
    let (x2, k2) = (x.clone().insert_axis(Axis(0)), k.clone().insert_axis(Axis(0)));
    for (method, fft) in [("direct", false), ("fft", true)] {
        let id = BenchmarkId::new(format!("ndarray-conv/{method}/1t"), CASE);
        group.bench_function(id, |b| {
            b.iter(|| A::ndarray_conv(black_box(&x2), &k2, ConvMode::Same, fft))
        });
    }
    group.finish();
}

fn long_signal_f32(c: &mut Criterion) {
    long_signal::<f32>(c, "correlate1d_f32");
}

fn long_signal_f64(c: &mut Criterion) {
    long_signal::<f64>(c, "correlate1d_f64");
}

/// A batched 1-D layer, `Same` padding at stride 1: input `[N, C, L]`,
/// weight `[O, C / groups, k]`.
struct Layer1d {
    name: &'static str,
    input: [usize; 3],
    weight: [usize; 3],
    groups: usize,
}

/// a1: an audio layer (16 clips of 16 000 samples, 64 channels in and
/// out, 9 taps); a2: a depthwise layer (256 channels of 4 000 samples).
const LAYERS_1D: [Layer1d; 2] = [
    Layer1d {
        name: "a1 audio",
        input: [16, 64, 16000],
        weight: [64, 64, 9],
        groups: 1,
    },
    Layer1d {
        name: "a2 depthwise",
        input: [16, 256, 4000],
        weight: [256, 1, 9],
        groups: 256,
    },
];

impl Layer1d {
    fn options(&self) -> ConvOptions {
        ConvOptions::new().padding(Padding::Same).groups(self.groups)
    }

    fn flops(&self) -> u64 {
        let shape = conv1d_output_shape(self.input, self.weight, &self.options()).unwrap();
        2 * (shape.iter().product::<usize>() * self.weight[1] * self.weight[2]) as u64
    }

    /// The seeded `f32` input and weight.
    fn operands(&self) -> (Array3<f32>, Array3<f32>) {
        (seeded(self.input, 3), seeded(self.weight, 4))
    }
}

fn layers_1d(c: &mut Criterion) {
    let mut group = batched_group(c, "conv1d_f32");
    let pools = pools();
    for layer in &LAYERS_1D {
        let (x, w) = layer.operands();
        let options = layer.options();
        let [n, channels, len] = layer.input;
        group.throughput(Throughput::Elements(layer.flops()));
        let weight = w.view().insert_axis(Axis(2));
        let algorithms = timed([n, channels, 1, len], &weight, &options, layer.flops());
        for algorithm in algorithms.into_iter().filter(|&a| forced_affordable(a, layer.flops())) {
            let options = options.algorithm(algorithm);
            on_each_pool(
                &mut group,
                &pools,
                &format!("convolve/{algorithm:?}"),
                layer.name,
                || conv1d(black_box(&x), &w, None, &options).unwrap(),
            );
        }
    }
    group.finish();
}

/// As `forward_backward`, for the 1-D layers.
fn layers_1d_fwd_bwd(c: &mut Criterion) {
    let mut group = batched_group(c, "conv1d_f32_fwd_bwd");
    let pools = pools();
    for layer in &LAYERS_1D {
        let (x, w) = layer.operands();
        let options = layer.options();
        let y = conv1d(&x, &w, None, &options).unwrap();
        let g = seeded::<f32, _>(y.raw_dim(), 5);
        let mut dx = Array3::zeros(x.raw_dim());
        let mut dw = Array3::zeros(w.raw_dim());
        group.throughput(Throughput::Elements(3 * layer.flops()));
        on_each_pool(&mut group, &pools, "convolve/Auto", layer.name, || {
            let y = conv1d(black_box(&x), &w, None, &options).unwrap();
            let grads = Conv1dGradsMut {
                input: Some(dx.view_mut()),
                weight: Some(dw.view_mut()),
                bias: None,
            };
            conv1d_backward_into(&x, &w, &g, &options, grads).unwrap();
            y
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------
// 3-D
// ---------------------------------------------------------------------
//
// A 3-D call runs as 2-D problems over its depth taps; `conv3d_algorithm`
// names the algorithm they run, so a forced algorithm is timed where it
// names that algorithm (and the direct loop only on small problems).
// `Separable` is left out: whether it runs depends on the kernel's values,
// which `conv3d_algorithm` does not read.

/// The algorithms timed on a 3-D problem of `flops` FLOPs.
fn timed_3d(input: [usize; 5], weight: [usize; 5], options: &ConvOptions, flops: u64) -> Vec<Algorithm> {
    let runs = |a: Algorithm| {
        a == Algorithm::Auto || conv3d_algorithm::<f32>(input, weight, &options.algorithm(a)).unwrap() == a
    };
    ALGORITHMS
        .into_iter()
        .filter(|&a| a != Algorithm::Separable)
        .filter(|&a| (a != Algorithm::Direct || flops <= DIRECT_MAX_FLOPS) && forced_affordable(a, flops) && runs(a))
        .collect()
}

/// v2: a 128³ volume and a 5×5×5 kernel, `Same` padding.
fn volume(c: &mut Criterion) {
    const CASE: &str = "v2 128³ k5 same";
    let mut group = single_group(c, "correlate3d_f32");
    let pools = pools();
    let x: Array3<f32> = seeded((128, 128, 128), 1);
    let k: Array3<f32> = seeded((5, 5, 5), 2);
    let options = ConvOptions::new().padding(Padding::Same);
    let flops = 2 * (x.len() * k.len()) as u64;
    group.throughput(Throughput::Elements(flops));
    for algorithm in timed_3d([1, 1, 128, 128, 128], [1, 1, 5, 5, 5], &options, flops) {
        let options = options.algorithm(algorithm);
        on_each_pool(&mut group, &pools, &format!("convolve/{algorithm:?}"), CASE, || {
            correlate3d(black_box(&x), &k, &options).unwrap()
        });
    }
    group.finish();
}

/// v1: a video layer, 2 clips of 16 frames of 56², 32 channels in and
/// out, 3×3×3 kernels, padding 1.
const VIDEO: ([usize; 5], [usize; 5]) = ([2, 32, 16, 56, 56], [32, 32, 3, 3, 3]);

/// The video layer's options, seeded operands and forward FLOPs.
fn video() -> (ConvOptions, Array5<f32>, Array5<f32>, u64) {
    let (input, weight) = VIDEO;
    let options = ConvOptions::new().padding(Padding::uniform3d(1));
    let shape = conv3d_output_shape(input, weight, &options).unwrap();
    let per_output: usize = weight[1..].iter().product();
    let flops = 2 * (shape.iter().product::<usize>() * per_output) as u64;
    (options, seeded(input, 3), seeded(weight, 4), flops)
}

fn video_layer(c: &mut Criterion) {
    const CASE: &str = "v1 video";
    let mut group = batched_group(c, "conv3d_f32");
    let pools = pools();
    let (options, x, w, flops) = video();
    group.throughput(Throughput::Elements(flops));
    for algorithm in timed_3d(VIDEO.0, VIDEO.1, &options, flops) {
        let options = options.algorithm(algorithm);
        on_each_pool(&mut group, &pools, &format!("convolve/{algorithm:?}"), CASE, || {
            conv3d(black_box(&x), &w, None, &options).unwrap()
        });
    }
    group.finish();
}

/// As `forward_backward`, for the video layer.
fn video_layer_fwd_bwd(c: &mut Criterion) {
    const CASE: &str = "v1 video";
    let mut group = batched_group(c, "conv3d_f32_fwd_bwd");
    let pools = pools();
    let (options, x, w, flops) = video();
    let y = conv3d(&x, &w, None, &options).unwrap();
    let g = seeded::<f32, _>(y.raw_dim(), 5);
    let mut dx = Array5::zeros(x.raw_dim());
    let mut dw = Array5::zeros(w.raw_dim());
    group.throughput(Throughput::Elements(3 * flops));
    on_each_pool(&mut group, &pools, "convolve/Auto", CASE, || {
        let y = conv3d(black_box(&x), &w, None, &options).unwrap();
        let grads = Conv3dGradsMut {
            input: Some(dx.view_mut()),
            weight: Some(dw.view_mut()),
            bias: None,
        };
        conv3d_backward_into(&x, &w, &g, &options, grads).unwrap();
        y
    });
    group.finish();
}

criterion_group!(
    benches,
    single_f32,
    single_f64,
    rank_one,
    symmetric,
    batched,
    forward_backward,
    plan,
    long_signal_f32,
    long_signal_f64,
    layers_1d,
    layers_1d_fwd_bwd,
    volume,
    video_layer,
    video_layer_fwd_bwd
);
criterion_main!(benches);
