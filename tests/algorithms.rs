//! Every fast algorithm against the reference (`Algorithm::Direct`), over
//! the whole option space and over odd layouts.

mod common;

use common::{case_options, seeded, seeded_case, SeededCase, ALGORITHM_RANGES};
use convolve::{
    conv2d, conv2d_into, convolve2d, correlate2d, correlate2d_into, Algorithm, Boundary, ConvOptions, Element, Padding,
};
use ndarray::{s, Array, Array2, Array4, ArrayBase, ArrayRef1, ArrayRef2, Data, Dimension, ShapeBuilder};
use num_complex::Complex;
use proptest::prelude::*;

/// Algorithms compared against the reference.
const FAST: [Algorithm; 6] = [
    Algorithm::Auto,
    Algorithm::Vectorized,
    Algorithm::Gemm,
    Algorithm::Fft,
    Algorithm::Separable,
    Algorithm::Winograd,
];

fn max_abs<S: Data<Elem = f64>, D: Dimension>(a: &ArrayBase<S, D>) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

fn assert_close<D: Dimension>(got: &Array<f64, D>, want: &Array<f64, D>, tol: f64, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let scale = max_abs(want).max(1.0);
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol * scale, "{what}: {g} vs {w}");
    }
}

/// `options` with a constant fill `v` replaced by `f(v)`, the fill that
/// arrays of another element type are compared with; other boundary rules
/// unchanged.
fn map_fill<T: Element>(options: ConvOptions, f: impl Fn(f64) -> T) -> ConvOptions {
    match options.boundary {
        Boundary::Constant(_) => {
            let v = options.boundary.fill::<f64>().expect("the cases fill with an f64");
            options.boundary(Boundary::Fill(f(v)))
        }
        _ => options,
    }
}

fn check_batched(case: &SeededCase, has_bias: bool) -> Result<(), TestCaseError> {
    let x = seeded(case.input, case.seed);
    let w = seeded(case.weight, case.seed ^ 1);
    let b = seeded(case.weight[0], case.seed ^ 2);
    let bias: Option<&ArrayRef1<f64>> = has_bias.then_some(&b);
    let reference = conv2d(&x, &w, bias, &case.options.algorithm(Algorithm::Direct));
    let Ok(reference) = reference else {
        // Invalid combination: every algorithm must agree that it is.
        for alg in FAST {
            prop_assert_eq!(&conv2d(&x, &w, bias, &case.options.algorithm(alg)), &reference);
        }
        return Ok(());
    };
    for alg in FAST {
        let opts = case.options.algorithm(alg);
        let got = conv2d(&x, &w, bias, &opts).unwrap();
        assert_close(&got, &reference, 1e-12, &format!("{alg:?} f64"));

        // f32 against the f64 reference, relative to the output's norm.
        let xf = x.mapv(|v| v as f32);
        let wf = w.mapv(|v| v as f32);
        let bf = b.mapv(|v| v as f32);
        // The same options: the f64 fill rounds to the nearest f32, as `v as f32` does.
        let got32 = conv2d(&xf, &wf, has_bias.then_some(&bf), &opts).unwrap();
        assert_close(&got32.mapv(f64::from), &reference, 1e-4, &format!("{alg:?} f32"));

        // Complex: real and imaginary parts carry two independent problems.
        let xc = x.mapv(|v| Complex::new(v, -0.5 * v));
        let wc = w.mapv(|v| Complex::new(0.25 * v, v));
        // The same options: the f64 fill is the complex fill (v, 0).
        let want_c = conv2d(&xc, &wc, None, &opts.algorithm(Algorithm::Direct)).unwrap();
        let got_c = conv2d(&xc, &wc, None, &opts).unwrap();
        assert_close(&got_c.mapv(|c| c.re), &want_c.mapv(|c| c.re), 1e-12, "complex re");
        assert_close(&got_c.mapv(|c| c.im), &want_c.mapv(|c| c.im), 1e-12, "complex im");

        // Integers are exact, overflow included (wrapping).
        let xi = x.mapv(|v| (v * 1e9) as i64);
        let wi = w.mapv(|v| (v * 1e9) as i64);
        let optsi = map_fill(opts, |v| (v * 1e9) as i64);
        let want_i = conv2d(&xi, &wi, None, &optsi.algorithm(Algorithm::Direct)).unwrap();
        prop_assert_eq!(conv2d(&xi, &wi, None, &optsi).unwrap(), want_i);

        // Odd layouts: column-major input, negative-stride weight, and a
        // NaN-filled, transposed output view.
        let x_f = {
            let mut a = Array4::zeros(x.raw_dim().f());
            a.assign(&x);
            a
        };
        let mut w_rev = w.slice(s![.., .., ..;-1, ..]).to_owned();
        w_rev.invert_axis(ndarray::Axis(2));
        let shape = reference.shape().to_vec();
        let mut backing = Array4::from_elem((shape[3], shape[2], shape[1], shape[0]), f64::NAN);
        let mut out = backing.view_mut().reversed_axes();
        conv2d_into(&x_f, &w_rev, bias, &opts, &mut out).unwrap();
        assert_close(&out.to_owned(), &reference, 1e-12, &format!("{alg:?} odd layouts"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn batched_algorithms_match_the_reference(case in seeded_case(ALGORITHM_RANGES), bias in any::<bool>()) {
        check_batched(&case, bias)?;
    }

    #[test]
    fn single_channel_algorithms_match_the_reference(
        (h, w) in (1..=ALGORITHM_RANGES.side, 1..=ALGORITHM_RANGES.side),
        (kh, kw) in (1..=ALGORITHM_RANGES.side / 2, 1..=ALGORITHM_RANGES.side / 2),
        options in case_options(ALGORITHM_RANGES),
        seed in any::<u64>(),
    ) {
        let x = seeded((h, w), seed);
        let k = seeded((kh, kw), seed ^ 7);
        for op in [correlate2d::<f64>, convolve2d::<f64>] {
            let reference = op(&x, &k, &options.algorithm(Algorithm::Direct));
            for alg in FAST {
                let got = op(&x, &k, &options.algorithm(alg));
                match (&got, &reference) {
                    (Ok(got), Ok(want)) => assert_close(got, want, 1e-12, &format!("{alg:?}")),
                    _ => prop_assert_eq!(&got, &reference),
                }
            }
        }
        // Complex correlation conjugates the kernel in every algorithm.
        let xc = x.mapv(|v| Complex::new(v, 0.3 - v));
        let kc = k.mapv(|v| Complex::new(-v, 2.0 * v));
        let optsc = map_fill(options, |v| Complex::new(v, v));
        if let Ok(want) = correlate2d(&xc, &kc, &optsc.algorithm(Algorithm::Direct)) {
            for alg in FAST {
                let got = correlate2d(&xc, &kc, &optsc.algorithm(alg)).unwrap();
                assert_close(&got.mapv(|c| c.re), &want.mapv(|c| c.re), 1e-12, "re");
                assert_close(&got.mapv(|c| c.im), &want.mapv(|c| c.im), 1e-12, "im");
            }
        }
    }
}

/// Larger problems, so that outputs span several blocks of work and rows
/// longer than one register block.
#[test]
fn multi_block_problems_match_the_reference() {
    let cases = [
        ([1, 1, 150, 97], [1, 1, 5, 4], ConvOptions::new().padding(Padding::Same)),
        (
            [2, 6, 41, 45],
            [12, 3, 3, 3],
            ConvOptions::new().groups(2).padding(Padding::uniform(1)),
        ),
        (
            [1, 4, 70, 70],
            [4, 1, 3, 3],
            ConvOptions::new().groups(4).strides(2, 1).boundary(Boundary::Reflect),
        ),
        (
            [1, 3, 64, 64],
            [16, 3, 7, 7],
            ConvOptions::new().stride(2).dilation(2).padding(Padding::Full),
        ),
        // Pointwise layers, whose GEMM reads standard-layout inputs in
        // place: blocks of 16 rows of 24 and of 12 and 8 rows of 40 pixels.
        ([2, 32, 16, 24], [16, 32, 1, 1], ConvOptions::new()),
        ([1, 8, 20, 40], [16, 4, 1, 1], ConvOptions::new().groups(2)),
        // ... and the copied patches when a block's pixels are not a
        // multiple of 16 (7 rows of 9) or the layer pads.
        ([1, 16, 7, 9], [8, 16, 1, 1], ConvOptions::new()),
        (
            [1, 16, 16, 16],
            [8, 16, 1, 1],
            ConvOptions::new().padding(Padding::uniform(1)),
        ),
        // Rows long enough to be taken in segments of columns: one row of
        // 3000 (a 1-D signal), and strided, dilated rows of 1300 with
        // groups and a boundary rule.
        ([2, 5, 1, 3000], [7, 5, 1, 9], ConvOptions::new().padding(Padding::Same)),
        (
            [1, 4, 3, 2605],
            [6, 2, 2, 5],
            ConvOptions::new()
                .groups(2)
                .strides(1, 2)
                .dilations(1, 2)
                .padding(Padding::uniform(3))
                .boundary(Boundary::Wrap),
        ),
    ];
    for (seed, (input, weight, options)) in cases.into_iter().enumerate() {
        let case = SeededCase {
            input,
            weight,
            options,
            seed: seed as u64,
        };
        check_batched(&case, seed % 2 == 0).unwrap();
    }
}

/// The thread count changes nothing, not even the last bit.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let x = seeded((2, 8, 40, 40), 3);
    let w = seeded((16, 8, 3, 3), 4);
    let k = seeded((9, 9), 5);
    let plane = x.slice(s![0, 0, .., ..]);
    let run = |threads: usize, alg: Algorithm| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let opts = ConvOptions::new().padding(Padding::Same).algorithm(alg);
            (
                conv2d(&x, &w, None, &opts).unwrap(),
                correlate2d(&plane, &k, &opts).unwrap(),
            )
        })
    };
    for alg in FAST {
        let (one_a, one_b) = run(1, alg);
        let (two_a, two_b) = run(2, alg);
        let (three_a, three_b) = run(3, alg);
        let bits = |a: &Array4<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one_a), bits(&two_a));
        assert_eq!(bits(&one_a), bits(&three_a));
        assert_eq!(one_b, two_b);
        assert_eq!(one_b, three_b);
    }
    // Long rows, taken in segments of columns, forward and backward.
    let x = seeded((2, 6, 1, 2500), 6);
    let w = seeded((8, 6, 1, 7), 7);
    let g = seeded((2, 8, 1, 2500), 8);
    let opts = ConvOptions::new().padding(Padding::Same).algorithm(Algorithm::Gemm);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            (
                conv2d(&x, &w, None, &opts).unwrap(),
                convolve::conv2d_backward(&x, &w, &g, &opts).unwrap(),
            )
        })
    };
    let (one, one_grads) = run(1);
    for threads in [2, 3] {
        let (out, grads) = run(threads);
        assert_eq!(out, one);
        assert_eq!(
            (grads.input, grads.weight),
            (one_grads.input.clone(), one_grads.weight.clone())
        );
    }
}

/// `_into` with a forced fast algorithm writes every element of a strided
/// view and nothing outside it.
#[test]
fn into_forms_write_exactly_their_view() {
    let x = seeded((20, 33), 9);
    let k = seeded((3, 4), 10);
    for alg in FAST {
        let opts = ConvOptions::new().padding(Padding::Same).algorithm(alg);
        let want = correlate2d(&x, &k, &opts.algorithm(Algorithm::Direct)).unwrap();
        let mut backing = Array2::from_elem((40, 66), f64::NAN);
        correlate2d_into(&x, &k, &opts, &mut backing.slice_mut(s![..;2, ..;2])).unwrap();
        assert_close(&backing.slice(s![..;2, ..;2]).to_owned(), &want, 1e-12, "strided out");
        assert!(backing.slice(s![1..;2, ..]).iter().all(|v| v.is_nan()));
        assert!(backing.slice(s![.., 1..;2]).iter().all(|v| v.is_nan()));
    }
}

/// `correlate2d_algorithm` and `convolve2d_algorithm` name what runs: the
/// result is bit for bit that of the named algorithm forced, which is named
/// again when asked, for every requested algorithm, rank-1 and other
/// kernels, finite and non-finite inputs.
#[test]
fn the_reported_algorithm_is_the_one_run() {
    type AlgorithmFn = fn(&ArrayRef2<f64>, &ArrayRef2<f64>, &ConvOptions) -> convolve::Result<Algorithm>;
    type RunFn = fn(&ArrayRef2<f64>, &ArrayRef2<f64>, &ConvOptions) -> convolve::Result<Array2<f64>>;
    let forms: [(AlgorithmFn, RunFn); 2] = [
        (convolve::correlate2d_algorithm, correlate2d),
        (convolve::convolve2d_algorithm, convolve2d),
    ];
    let rank_one = |n: usize, seed: u64| {
        let (u, v) = (seeded(n, seed), seeded(n, seed ^ 1));
        Array2::from_shape_fn((n, n), |(a, b)| u[a] * v[b])
    };
    let kernels = [
        rank_one(3, 21),
        rank_one(9, 22),
        rank_one(25, 23),
        seeded((5, 5), 24),
        seeded((21, 21), 25),
    ];
    let x = seeded((60, 70), 26);
    let mut nan_x = x.clone();
    nan_x[[10, 10]] = f64::NAN;
    let same = ConvOptions::new().padding(Padding::Same);
    let mut seen = Vec::new();
    for input in [&x, &nan_x] {
        for k in &kernels {
            for requested in [Algorithm::Auto, Algorithm::Direct].into_iter().chain(FAST) {
                for (algorithm_of, run) in forms {
                    let opts = same.algorithm(requested);
                    let named = algorithm_of(input, k, &opts).unwrap();
                    let forced = opts.algorithm(named);
                    assert_eq!(algorithm_of(input, k, &forced).unwrap(), named);
                    let got = run(input, k, &opts).unwrap();
                    let want = run(input, k, &forced).unwrap();
                    let what = format!("{requested:?} named {named:?}, {}×{} kernel", k.nrows(), k.ncols());
                    for (g, w) in got.iter().zip(&want) {
                        assert!(g == w || (g.is_nan() && w.is_nan()), "{what}: {g} vs {w}");
                    }
                    if requested == Algorithm::Auto {
                        seen.push(named);
                    }
                }
            }
        }
    }
    // `Auto` took each of the single-channel paths at least once.
    for algorithm in [Algorithm::Vectorized, Algorithm::Fft, Algorithm::Separable] {
        assert!(seen.contains(&algorithm), "{algorithm:?} never chosen");
    }
}

/// `Auto` uses the FFT only on finite data: a NaN reaches exactly the
/// outputs whose window covers it, as in the direct definition.
#[test]
fn auto_keeps_non_finite_values_local() {
    let mut x = seeded((40, 40), 11);
    let k = seeded((13, 13), 12);
    let opts = ConvOptions::new().padding(Padding::Same);
    assert_eq!(convolve::correlate2d_algorithm(&x, &k, &opts).unwrap(), Algorithm::Fft);
    x[[20, 7]] = f64::NAN;
    x[[3, 30]] = f64::INFINITY;
    assert_eq!(
        convolve::correlate2d_algorithm(&x, &k, &opts).unwrap(),
        Algorithm::Vectorized
    );
    let got = correlate2d(&x, &k, &opts).unwrap();
    let want = correlate2d(&x, &k, &opts.algorithm(Algorithm::Direct)).unwrap();
    for (((i, j), &g), &w) in got.indexed_iter().zip(want.iter()) {
        // A 13×13 window with 'same' padding reaches 6 rows and columns
        // either side of its output.
        let near_nan = (14..=26).contains(&i) && (1..=13).contains(&j);
        let near_inf = i <= 9 && (24..=36).contains(&j);
        assert_eq!(g.is_finite(), !(near_nan || near_inf), "at {i}, {j}");
        assert_eq!(g.is_nan(), w.is_nan(), "at {i}, {j}");
        if w.is_finite() {
            assert!((g - w).abs() < 1e-12, "at {i}, {j}");
        }
    }
}

/// `Auto` takes Winograd's algorithm for a 3×3 layer of 64 channels only
/// on tame data: a NaN or an infinity reaches exactly the outputs whose
/// window covers it, and values whose transforms could overflow `f32`
/// give the direct definition's finite results, one-shot and through a
/// plan.
#[test]
fn auto_keeps_winograd_to_tame_data() {
    let opts = ConvOptions::new().padding(Padding::uniform(1));
    let w = seeded([64, 64, 3, 3], 21).mapv(|v| v as f32);
    let tame = seeded([4, 64, 32, 32], 22).mapv(|v| v as f32);
    assert_eq!(
        convolve::conv2d_algorithm::<f32>([4, 64, 32, 32], [64, 64, 3, 3], &opts).unwrap(),
        Algorithm::Winograd
    );
    let plan = convolve::Conv2dPlan::new([4, 64, 32, 32], &w, None, &opts).unwrap();
    assert_eq!(plan.algorithm(), Algorithm::Winograd);
    let direct = |x: &Array4<f32>| conv2d(x, &w, None, &opts.algorithm(Algorithm::Direct)).unwrap();
    // On tame data, Auto is Winograd's result, within the f32 promise.
    let want = direct(&tame);
    let largest = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for got in [conv2d(&tame, &w, None, &opts).unwrap(), plan.run(&tame).unwrap()] {
        assert_eq!(
            got,
            conv2d(&tame, &w, None, &opts.algorithm(Algorithm::Winograd)).unwrap()
        );
        assert!(got.iter().zip(&want).all(|(g, d)| (g - d).abs() <= 1e-4 * largest));
    }
    // A NaN in image 1, channel 5 at (10, 20); an infinity in image 3,
    // channel 60 at (0, 31): each reaches the 3×3 outputs around it, in
    // every output channel, and nothing else.
    let mut x = tame.clone();
    x[[1, 5, 10, 20]] = f32::NAN;
    x[[3, 60, 0, 31]] = f32::INFINITY;
    let want = direct(&x);
    for got in [conv2d(&x, &w, None, &opts).unwrap(), plan.run(&x).unwrap()] {
        for (((n, _, i, j), &g), &d) in got.indexed_iter().zip(want.iter()) {
            let near_nan = n == 1 && (9..=11).contains(&i) && (19..=21).contains(&j);
            let near_inf = n == 3 && i <= 1 && j >= 30;
            assert_eq!(g.is_finite(), !(near_nan || near_inf), "at {n}, {i}, {j}");
            assert_eq!(g.is_nan(), d.is_nan(), "at {n}, {i}, {j}");
        }
    }
    // Inputs of up to 1e36 under weights of up to 1: the direct sums
    // stay within f32's 3.4e38, but Winograd's transforms overflow (forced,
    // it runs as asked and some outputs are infinite or NaN), so Auto keeps
    // away from it.
    let huge = tame.mapv(|v| v * 1e36);
    let want = direct(&huge);
    assert!(want.iter().all(|v| v.is_finite()));
    let forced = conv2d(&huge, &w, None, &opts.algorithm(Algorithm::Winograd)).unwrap();
    assert!(forced.iter().any(|v| !v.is_finite()));
    let largest = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for got in [conv2d(&huge, &w, None, &opts).unwrap(), plan.run(&huge).unwrap()] {
        assert!(got.iter().zip(&want).all(|(g, d)| (g - d).abs() <= 1e-4 * largest));
    }
}

/// A plan gives what `conv2d` gives, for every algorithm (with its
/// transformed weights, for Winograd's), call after call, and falls back
/// from the FFT on non-finite input as `conv2d` does.
#[test]
fn plans_match_one_off_calls() {
    let cases = [
        (
            [2, 4, 20, 23],
            [6, 2, 3, 3],
            ConvOptions::new().groups(2).padding(Padding::Same),
        ),
        (
            [1, 1, 40, 40],
            [1, 1, 12, 12],
            ConvOptions::new().padding(Padding::Same).boundary(Boundary::Reflect),
        ),
        (
            [1, 3, 30, 30],
            [16, 3, 5, 5],
            ConvOptions::new().stride(2).boundary(Boundary::Fill(0.25)),
        ),
    ];
    for (seed, (input, weight, options)) in cases.into_iter().enumerate() {
        let w = seeded(weight, seed as u64);
        let b = seeded(weight[0], 99);
        for alg in [
            Algorithm::Direct,
            Algorithm::Vectorized,
            Algorithm::Gemm,
            Algorithm::Fft,
            Algorithm::Winograd,
            Algorithm::Auto,
        ] {
            let opts = options.algorithm(alg);
            let plan = convolve::Conv2dPlan::new(input, &w, Some(&b), &opts).unwrap();
            for call in 0..3u64 {
                let mut x = seeded(input, call + 10);
                if call == 2 {
                    x[[0, 0, 3, 3]] = f64::NAN;
                }
                let want = conv2d(&x, &w, Some(&b), &opts).unwrap();
                let got = plan.run(&x).unwrap();
                assert_eq!(got.shape(), want.shape());
                for (g, v) in got.iter().zip(&want) {
                    assert!(
                        g.is_nan() == v.is_nan() && (g.is_nan() || (g - v).abs() < 1e-12),
                        "{alg:?}, call {call}"
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    /// Rank-1 kernels (outer products) run as two passes under `Auto` and
    /// `Separable`, for every option, single-channel and depthwise.
    #[test]
    fn separable_kernels_match_the_reference(
        (h, w) in (1..=ALGORITHM_RANGES.side, 1..=ALGORITHM_RANGES.side),
        (kh, kw) in (2..=7usize, 2..=7usize),
        groups in 1..=3usize,
        options in case_options(ALGORITHM_RANGES),
        bias in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let x = seeded((2, groups, h, w), seed);
        let mut weight = Array4::zeros((groups, 1, kh, kw));
        for g in 0..groups {
            let u = seeded(kh, seed ^ (10 + g as u64));
            let v = seeded(kw, seed ^ (20 + g as u64));
            for a in 0..kh {
                for b in 0..kw {
                    weight[[g, 0, a, b]] = u[a] * v[b];
                }
            }
        }
        let b = seeded(groups, seed ^ 3);
        let bias: Option<&ArrayRef1<f64>> = bias.then_some(&b);
        let opts = options.groups(groups);
        let Ok(want) = conv2d(&x, &weight, bias, &opts.algorithm(Algorithm::Direct)) else { return Ok(()) };
        // Sum of |x|·|k| bounds the rounding of any summation order.
        let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs())) * weight.iter().map(|v| v.abs()).sum::<f64>() + 1.0;
        for alg in [Algorithm::Auto, Algorithm::Separable] {
            let got = conv2d(&x, &weight, bias, &opts.algorithm(alg)).unwrap();
            for (g, v) in got.iter().zip(&want) {
                prop_assert!((g - v).abs() <= 1e-12 * scale, "{:?}: {} vs {}", alg, g, v);
            }
        }
        let plane = x.slice(s![0, 0, .., ..]);
        let k = weight.slice(s![0, 0, .., ..]);
        let single = options.groups(1);
        if let Ok(want) = convolve2d(&plane, &k, &single.algorithm(Algorithm::Direct)) {
            let got = convolve2d(&plane, &k, &single).unwrap();
            for (g, v) in got.iter().zip(&want) {
                prop_assert!((g - v).abs() <= 1e-12 * scale, "convolve2d: {} vs {}", g, v);
            }
        }
    }
}
