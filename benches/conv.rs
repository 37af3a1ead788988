//! The benchmark suite of `docs/benchmarks.md`: single-channel
//! `correlate2d` (s1–s4) and batched NCHW `conv2d` (b1–b5), each algorithm
//! at 1 and 2 threads, beside `ndarray-conv` on the shapes it supports.
//!
//! Throughput is in FLOPs of the direct definition (2 per multiply-add), so
//! criterion's "elem/s" reads as FLOP/s. Run one group or case with a
//! filter, e.g. `cargo bench --bench conv -- "correlate2d_f32/.*s2"`.

use std::hint::black_box;
use std::time::Duration;

// The tests' seeded generator, so that inputs are the same on every run.
#[path = "../tests/common/rng.rs"]
mod rng;

use convolve::{conv2d, conv2d_backward_into, correlate2d, Algorithm, Conv2dGradsMut, ConvOptions, Padding};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use ndarray::Array4;
use ndarray_conv::{ConvExt, ConvFFTExt, ConvMode, PaddingMode, ReverseKernel};

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

struct Single {
    name: &'static str,
    side: usize,
    kernel: usize,
    padding: Padding,
}

const SINGLE: [Single; 4] = [
    Single {
        name: "s1 512² k3 valid",
        side: 512,
        kernel: 3,
        padding: Padding::Valid,
    },
    Single {
        name: "s2 1024² k5 same",
        side: 1024,
        kernel: 5,
        padding: Padding::Same,
    },
    Single {
        name: "s3 1024² k11 same",
        side: 1024,
        kernel: 11,
        padding: Padding::Same,
    },
    Single {
        name: "s4 2048² k31 same",
        side: 2048,
        kernel: 31,
        padding: Padding::Same,
    },
];

fn single_flops(case: &Single) -> u64 {
    let out = match case.padding {
        Padding::Valid => case.side - case.kernel + 1,
        _ => case.side,
    };
    2 * (out * out * case.kernel * case.kernel) as u64
}

macro_rules! single_channel_group {
    ($fn_name:ident, $t:ty, $group:literal) => {
        fn $fn_name(c: &mut Criterion) {
            let mut group = c.benchmark_group($group);
            group
                .sample_size(10)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(4));
            let (one, two) = (pool(1), pool(2));
            for case in &SINGLE {
                let x = rng::seeded((case.side, case.side), 1).mapv(|v| v as $t);
                let k = rng::seeded((case.kernel, case.kernel), 2).mapv(|v| v as $t);
                group.throughput(Throughput::Elements(single_flops(case)));
                for alg in [Algorithm::Auto, Algorithm::Vectorized] {
                    let opts = ConvOptions::new().padding(case.padding).algorithm(alg);
                    for (threads, p) in [(1, &one), (2, &two)] {
                        let id = BenchmarkId::new(format!("convolve/{alg:?}/{threads}t"), case.name);
                        group.bench_function(id, |b| {
                            p.install(|| b.iter(|| correlate2d(black_box(&x), &k, &opts).unwrap()))
                        });
                    }
                }
                let mode = match case.padding {
                    Padding::Valid => ConvMode::Valid,
                    _ => ConvMode::Same,
                };
                if case.kernel <= 11 {
                    let id = BenchmarkId::new("ndarray-conv/direct/1t", case.name);
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            black_box(&x)
                                .conv(k.no_reverse(), mode, PaddingMode::Zeros)
                                .unwrap()
                        })
                    });
                }
                let id = BenchmarkId::new("ndarray-conv/fft/1t", case.name);
                group.bench_function(id, |b| {
                    b.iter(|| {
                        black_box(&x)
                            .conv_fft(k.no_reverse(), mode, PaddingMode::Zeros)
                            .unwrap()
                    })
                });
            }
            group.finish();
        }
    };
}

single_channel_group!(single_f32, f32, "correlate2d_f32");
single_channel_group!(single_f64, f64, "correlate2d_f64");

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

fn batched_options(case: &Batched) -> ConvOptions {
    ConvOptions::new()
        .stride(case.stride)
        .padding(Padding::uniform(case.pad))
        .dilation(case.dilation)
        .groups(case.groups)
}

fn batched_flops(case: &Batched) -> u64 {
    let shape = convolve::shape::conv2d_output_shape(case.input, case.weight, &batched_options(case)).unwrap();
    let per_output = case.weight[1] * case.weight[2] * case.weight[3];
    2 * (shape.iter().product::<usize>() * per_output) as u64
}

/// A batched group with its sampling settings.
fn batched_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group
}

/// The seeded `f32` input and weight of a batched case.
fn batched_operands(case: &Batched) -> (Array4<f32>, Array4<f32>) {
    let x = rng::seeded(case.input, 3).mapv(|v| v as f32);
    let w = rng::seeded(case.weight, 4).mapv(|v| v as f32);
    (x, w)
}

fn batched(c: &mut Criterion) {
    let mut group = batched_group(c, "conv2d_f32");
    let (one, two) = (pool(1), pool(2));
    for case in &BATCHED {
        let (x, w) = batched_operands(case);
        group.throughput(Throughput::Elements(batched_flops(case)));
        for alg in [Algorithm::Auto, Algorithm::Gemm, Algorithm::Vectorized] {
            let opts = batched_options(case).algorithm(alg);
            for (threads, p) in [(1, &one), (2, &two)] {
                let id = BenchmarkId::new(format!("convolve/{alg:?}/{threads}t"), case.name);
                group.bench_function(id, |b| {
                    p.install(|| b.iter(|| conv2d(black_box(&x), &w, None, &opts).unwrap()))
                });
            }
        }
    }
    group.finish();
}

/// Forward pass plus the input and weight gradients (what
/// `torch.autograd.grad(y, (x, w), g)` computes), counted as three times
/// the forward FLOPs.
fn forward_backward(c: &mut Criterion) {
    let mut group = batched_group(c, "conv2d_f32_fwd_bwd");
    let (one, two) = (pool(1), pool(2));
    for case in &BATCHED {
        let (x, w) = batched_operands(case);
        let opts = batched_options(case);
        let y = conv2d(&x, &w, None, &opts).unwrap();
        let g = rng::seeded(y.raw_dim(), 5).mapv(|v| v as f32);
        let mut dx = Array4::zeros(x.raw_dim());
        let mut dw = Array4::zeros(w.raw_dim());
        group.throughput(Throughput::Elements(3 * batched_flops(case)));
        for (threads, p) in [(1, &one), (2, &two)] {
            let id = BenchmarkId::new(format!("convolve/Auto/{threads}t"), case.name);
            group.bench_function(id, |b| {
                p.install(|| {
                    b.iter(|| {
                        let y = conv2d(black_box(&x), &w, None, &opts).unwrap();
                        let grads = Conv2dGradsMut {
                            input: Some(dx.view_mut()),
                            weight: Some(dw.view_mut()),
                            bias: None,
                        };
                        conv2d_backward_into(&x, &w, &g, &opts, grads).unwrap();
                        y
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, single_f32, single_f64, batched, forward_backward);
criterion_main!(benches);
