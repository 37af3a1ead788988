//! Non-finite values, zero-stride layouts, thread safety and concurrency.

use std::thread;

mod common;

use common::seeded;
use convolve::{
    conv2d, conv2d_backward, conv_transpose2d, correlate2d, Algorithm, Boundary, Conv2dGrads, Conv2dGradsMut,
    Conv2dPlan, ConvOptions, Error, Padding,
};
use ndarray::{Array2, Array4};

/// NaN and infinities reach exactly the outputs whose window covers them,
/// in every algorithm that `Auto` may pick for non-finite data and in the
/// direct, vectorized and GEMM paths forced.
#[test]
fn non_finite_values_stay_in_their_windows() {
    let mut x = seeded((1, 2, 20, 20), 1);
    let w = seeded((16, 2, 3, 3), 2);
    x[[0, 0, 5, 6]] = f64::NAN;
    x[[0, 1, 15, 2]] = f64::INFINITY;
    x[[0, 1, 0, 19]] = f64::NEG_INFINITY;
    let opts = ConvOptions::new().padding(Padding::Same);
    for alg in [
        Algorithm::Direct,
        Algorithm::Vectorized,
        Algorithm::Gemm,
        Algorithm::Auto,
    ] {
        let y = conv2d(&x, &w, None, &opts.algorithm(alg)).unwrap();
        for ((_, o, i, j), &v) in y.indexed_iter() {
            // A 3×3 'same' window reaches one row and column either side.
            let sees = |r: usize, c: usize| i.abs_diff(r) <= 1 && j.abs_diff(c) <= 1;
            let touched = sees(5, 6) || sees(15, 2) || sees(0, 19);
            assert_eq!(v.is_finite(), !touched, "{alg:?} at [{o}, {i}, {j}]");
            if sees(5, 6) {
                assert!(v.is_nan(), "{alg:?}: NaN must win at [{o}, {i}, {j}]");
            }
        }
    }
    // A NaN fill value is non-finite data too: `Auto` keeps it in the border.
    let plane = seeded((30, 30), 3);
    let k = seeded((15, 15), 4);
    let y = correlate2d(
        &plane,
        &k,
        &ConvOptions::new()
            .padding(Padding::Same)
            .boundary(Boundary::Fill(f64::NAN)),
    )
    .unwrap();
    // Outputs at least 7 away from every border see no padding.
    for ((i, j), &v) in y.indexed_iter() {
        let interior = (7..23).contains(&i) && (7..23).contains(&j);
        assert_eq!(v.is_nan(), !interior, "at [{i}, {j}]");
    }
}

/// Broadcast (zero-stride) inputs and kernels give the same result as
/// their standard-layout copies.
#[test]
fn broadcast_inputs_and_kernels() {
    let row = seeded(9, 5);
    let x = row.broadcast((7, 9)).unwrap();
    let k = ndarray::arr1(&[0.5, -1.0, 2.0]).broadcast((2, 3)).unwrap().to_owned();
    let k_view = ndarray::arr1(&[0.5, -1.0, 2.0]);
    let k_broadcast = k_view.broadcast((2, 3)).unwrap();
    for alg in [
        Algorithm::Direct,
        Algorithm::Vectorized,
        Algorithm::Fft,
        Algorithm::Auto,
    ] {
        let opts = ConvOptions::new()
            .padding(Padding::Full)
            .boundary(Boundary::Reflect)
            .algorithm(alg);
        let want = correlate2d(&x.to_owned(), &k, &opts).unwrap();
        let got = correlate2d(&x, &k_broadcast, &opts).unwrap();
        assert!(want.iter().zip(&got).all(|(a, b)| (a - b).abs() < 1e-12), "{alg:?}");
    }
    let plane = seeded((1, 1, 6, 8), 6);
    let x4 = plane.broadcast((3, 4, 6, 8)).unwrap();
    let w = seeded((8, 4, 2, 2), 7);
    for alg in [Algorithm::Direct, Algorithm::Gemm, Algorithm::Vectorized] {
        let opts = ConvOptions::new().stride(2).algorithm(alg);
        assert_eq!(
            conv2d(&x4, &w, None, &opts).unwrap(),
            conv2d(&x4.to_owned(), &w, None, &opts).unwrap(),
            "{alg:?}"
        );
    }
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<ConvOptions>();
    assert_send_sync::<Boundary>();
    assert_send_sync::<convolve::FillValue>();
    assert_send_sync::<Algorithm>();
    assert_send_sync::<Padding>();
    assert_send_sync::<Error>();
    assert_send_sync::<Conv2dGrads<f32>>();
    assert_send_sync::<Conv2dGradsMut<'static, f32>>();
    assert_send_sync::<Conv2dPlan<f32>>();
    assert_send_sync::<Conv2dPlan<f64>>();
    assert_send_sync::<convolve::shape::AxisGeometry>();
    assert_send_sync::<convolve::shape::ReceptiveField>();
}

/// Many threads calling the crate at once get what one thread gets.
#[test]
fn concurrent_calls_agree_with_a_single_call() {
    let x = seeded((2, 4, 24, 24), 8);
    let w = seeded((8, 2, 3, 3), 9);
    let algorithms = [
        Algorithm::Direct,
        Algorithm::Vectorized,
        Algorithm::Gemm,
        Algorithm::Fft,
        Algorithm::Auto,
    ];
    let opts = |alg| {
        ConvOptions::new()
            .groups(2)
            .padding(Padding::Same)
            .boundary(Boundary::Wrap)
            .algorithm(alg)
    };
    let expected: Vec<_> = algorithms
        .iter()
        .map(|&alg| {
            let y = conv2d(&x, &w, None, &opts(alg)).unwrap();
            let grads = conv2d_backward(&x, &w, &y, &opts(alg)).unwrap();
            (y, grads)
        })
        .collect();
    thread::scope(|scope| {
        for t in 0..8 {
            let (x, w, expected) = (&x, &w, &expected);
            scope.spawn(move || {
                for round in 0..3 {
                    let i = (t + round) % algorithms.len();
                    let y = conv2d(x, w, None, &opts(algorithms[i])).unwrap();
                    assert_eq!(y, expected[i].0);
                    let grads = conv2d_backward(x, w, &y, &opts(algorithms[i])).unwrap();
                    assert_eq!(grads, expected[i].1);
                }
            });
        }
    });
    // The transposed convolution, too.
    let y = &expected[0].0;
    let t_opts = ConvOptions::new().groups(2).padding(Padding::uniform(1));
    let want = conv_transpose2d(y, &w, None, &t_opts).unwrap();
    thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| assert_eq!(conv_transpose2d(y, &w, None, &t_opts).unwrap(), want));
        }
    });
}

/// A plan reuses its buffers: after a call whose input held NaN, and with
/// eight threads calling one plan at once, every call gives what a fresh
/// `conv2d` gives, whatever the buffers last held.
#[test]
fn a_shared_plan_forgets_what_its_buffers_held() {
    // 30 output columns: the GEMM path pads its blocks' patch matrices.
    let clean = seeded((2, 4, 30, 30), 10);
    let mut dirty = clean.clone();
    dirty.slice_mut(ndarray::s![.., .., 3..9, ..]).fill(f64::NAN);
    // Rank 1 in every channel, or a forced `Separable` would run `Vectorized`.
    let separable = Array4::from_shape_fn((4, 1, 5, 5), |(o, _, a, b)| ((a + 1) * (5 - b) * (o + 1)) as f64);
    let cases = [
        (Algorithm::Direct, seeded((16, 4, 3, 3), 11), 1),
        (Algorithm::Vectorized, seeded((8, 2, 3, 3), 12), 2),
        (Algorithm::Gemm, seeded((16, 4, 3, 3), 13), 1),
        (Algorithm::Fft, seeded((4, 1, 13, 13), 14), 4),
        (Algorithm::Separable, separable, 4),
    ];
    for (algorithm, w, groups) in cases {
        let opts = ConvOptions::new()
            .groups(groups)
            .padding(Padding::Same)
            .algorithm(algorithm);
        let plan = Conv2dPlan::new([2, 4, 30, 30], &w, None, &opts).unwrap();
        assert_eq!(plan.algorithm(), algorithm);
        let want = conv2d(&clean, &w, None, &opts).unwrap();
        plan.run(&dirty).unwrap();
        thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..3 {
                        assert_eq!(plan.run(&clean).unwrap(), want, "{algorithm:?}");
                        plan.run(&dirty).unwrap();
                    }
                });
            }
        });
        assert_eq!(plan.run(&clean).unwrap(), want, "{algorithm:?}");
    }
}

/// Reproductions of what fuzzing found (`fuzz/`), kept as regression tests.
mod found_by_fuzzing {
    use super::*;
    use convolve::{conv2d_algorithm, correlate2d_algorithm};

    /// A weight with `O · C/G` past `usize::MAX` and an empty batch once
    /// made the FFT planner overflow; an empty output whose other lengths
    /// multiply past `isize::MAX` once reached ndarray, which panics.
    #[test]
    fn empty_outputs_with_huge_other_lengths() {
        let opts = ConvOptions::new().algorithm(Algorithm::Fft);
        assert!(matches!(
            conv2d_algorithm::<f64>([0, 3, 8, 8], [usize::MAX, 3, 3, 3], &opts),
            Err(Error::Overflow { .. })
        ));
        let x = Array4::<f64>::zeros((0, 1, 1, 1));
        let w = Array4::<f64>::ones((1, 1, 1, 1));
        let huge = 1usize << 62;
        let padding = Padding::Explicit {
            top: huge,
            bottom: 0,
            left: huge,
            right: 0,
        };
        assert!(matches!(
            conv2d(&x, &w, None, &ConvOptions::new().padding(padding)),
            Err(Error::Overflow { .. })
        ));
    }

    /// A row stride far larger than the kernel, over a huge padding, once
    /// made a block's tile (several output rows of padded input) overflow or
    /// exhaust memory although one row's tile was small.
    #[test]
    fn huge_row_strides_keep_blocks_small() {
        let x = ndarray::arr2(&[[2.0]]);
        let k = ndarray::arr2(&[[3.0]]);
        let opts = ConvOptions::new().strides(1 << 39, 1).padding(Padding::Explicit {
            top: 0,
            bottom: 1 << 40,
            left: 0,
            right: 0,
        });
        for alg in [Algorithm::Auto, Algorithm::Vectorized, Algorithm::Gemm, Algorithm::Fft] {
            let opts = opts.algorithm(alg);
            assert!(correlate2d_algorithm(&x, &k, &opts).is_ok());
            // Three output rows: the input, then two rows of padding.
            assert_eq!(
                correlate2d(&x, &k, &opts).unwrap(),
                ndarray::arr2(&[[6.0], [0.0], [0.0]]),
                "{alg:?}"
            );
        }
    }

    /// A dilation so large that the kernel spans 2^62 padded rows once made
    /// the fast input gradient build its padded gradient and panic.
    #[test]
    fn huge_dilations_in_the_backward_pass() {
        let x = seeded((1, 1, 3, 3), 12);
        let w = seeded((1, 1, 2, 2), 13);
        let opts = ConvOptions::new().dilations(1 << 62, 1).padding(Padding::Same);
        let y = conv2d(&x, &w, None, &opts).unwrap();
        let want = conv2d_backward(&x, &w, &y, &opts.algorithm(Algorithm::Direct)).unwrap();
        for alg in [Algorithm::Auto, Algorithm::Vectorized, Algorithm::Gemm, Algorithm::Fft] {
            assert_eq!(
                conv2d_backward(&x, &w, &y, &opts.algorithm(alg)).unwrap(),
                want,
                "{alg:?}"
            );
        }
    }

    /// An infinite weight once met the zeros the fast input gradient
    /// spreads a strided gradient with, giving NaN where the definition has
    /// no term.
    #[test]
    fn infinite_weights_in_strided_input_gradients() {
        let x = Array4::<f64>::ones((1, 1, 3, 1));
        let w = Array4::from_elem((1, 1, 1, 1), f64::INFINITY);
        let g = Array4::<f64>::ones((1, 1, 2, 1));
        let opts = ConvOptions::new().strides(2, 1);
        let want = conv2d_backward(&x, &w, &g, &opts.algorithm(Algorithm::Direct)).unwrap();
        assert_eq!(
            want.input.iter().copied().collect::<Vec<_>>(),
            [f64::INFINITY, 0.0, f64::INFINITY]
        );
        for alg in [Algorithm::Auto, Algorithm::Vectorized, Algorithm::Gemm] {
            let got = conv2d_backward(&x, &w, &g, &opts.algorithm(alg)).unwrap();
            assert_eq!(got.input, want.input, "{alg:?}");
            let t = conv_transpose2d(&g, &w, None, &opts.algorithm(alg).output_paddings(1, 0)).unwrap();
            assert_eq!(
                t.iter().copied().collect::<Vec<_>>(),
                [f64::INFINITY, 0.0, f64::INFINITY, 0.0],
                "{alg:?}"
            );
        }
    }

    /// A separable kernel over a tall input with a huge row stride and huge
    /// column padding once made the separable path filter every input row
    /// into an `H · Wo` intermediate of 2.5 GB for an output of 2.5 MB
    /// (`fuzz/artifacts/correlate2d/repro-bug6-separable-intermediate-oom`).
    /// The separable path now filters only the rows each output row reads,
    /// into a ring of `kh` lines of `Wo` values.
    #[test]
    fn separable_intermediates_stay_bounded() {
        let x = seeded((1000, 3), 15);
        let k = Array2::<f64>::ones((3, 3));
        let opts = ConvOptions::new().strides(1000, 1).padding(Padding::Explicit {
            top: 0,
            bottom: 0,
            left: 160_000,
            right: 160_000,
        });
        let forced = opts.algorithm(Algorithm::Separable);
        assert_eq!(correlate2d_algorithm(&x, &k, &forced).unwrap(), Algorithm::Separable);
        let want = correlate2d(&x, &k, &opts.algorithm(Algorithm::Direct)).unwrap();
        assert_eq!(want.dim(), (1, 320_001));
        let got = correlate2d(&x, &k, &forced).unwrap();
        assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= 1e-12));
    }

    /// A NaN tap compares as equal to every other, so the search for the
    /// largest tap could end on a zero and take the whole kernel for the
    /// zero kernel, which the separable path then ran: zeros where the
    /// definition gives NaN
    /// (`fuzz/artifacts/correlate2d/repro-bug7-nan-kernel-taken-as-zero`).
    #[test]
    fn a_nan_tap_is_never_factored_away() {
        let x = seeded((9, 7), 16);
        let k = ndarray::array![[0.0, 0.5, 85.0], [85.0, f64::NAN, 0.0]];
        let opts = ConvOptions::new().padding(Padding::Same).boundary(Boundary::Symmetric);
        let want = correlate2d(&x, &k, &opts.algorithm(Algorithm::Direct)).unwrap();
        assert!(want.iter().all(|v| v.is_nan()));
        for alg in [Algorithm::Auto, Algorithm::Separable] {
            let got = correlate2d(&x, &k, &opts.algorithm(alg)).unwrap();
            assert!(got.iter().all(|v| v.is_nan()), "{alg:?}");
        }
    }
}

/// Fuzzing (`rank1`, `fuzz/artifacts/rank1/repro-bug8-*`): the matrix
/// product's column-phase copy was sized by the stride, not by the tile,
/// so a stride far beyond the input asked for gigabytes (32 GiB at 2³²)
/// or overflowed. One output either way.
#[test]
fn a_huge_column_stride_needs_no_more_memory_than_the_tile() {
    let one = convolve::correlate1d(
        &ndarray::array![1.5f64],
        &ndarray::array![2.0],
        &ConvOptions::new().stride(1 << 32).algorithm(Algorithm::Gemm),
    );
    assert_eq!(one, Ok(ndarray::array![3.0]));
    let x = seeded([1, 64, 8, 8], 1);
    let w = seeded([64, 64, 3, 3], 2);
    let strided = ConvOptions::new().stride(1 << 32);
    let got = conv2d(&x, &w, None, &strided).unwrap();
    let want = conv2d(&x, &w, None, &strided.algorithm(Algorithm::Direct)).unwrap();
    assert_eq!(got.shape(), [1, 64, 1, 1]);
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-9));
}

/// Fuzzing (`conv2d`, `fuzz/artifacts/conv2d/repro-bug11-gemm-zero-channels`):
/// `Gemm` forced on an input of zero channels read its rows in place past
/// the end of the (empty) input for every output row but the first, and
/// the in-place patch rows computed the start of their last row as
/// `(channels − 1) · …`. The output is the bias alone, as `Direct` gives.
#[test]
fn zero_channels_give_the_bias_on_every_path() {
    let bias = ndarray::arr1(&[1.0f64, -2.0, 0.5, 3.0, 0.0]);
    // Rows of 298 outputs (one per block, read in place) and of 1 996
    // (in segments), unpadded and padded.
    for (width, kernel) in [(300, [1, 3]), (2000, [2, 5])] {
        let x = Array4::<f64>::zeros((2, 0, 3, width));
        let w = Array4::<f64>::zeros((5, 0, kernel[0], kernel[1]));
        for padding in [Padding::Valid, Padding::Same] {
            for algorithm in [
                Algorithm::Auto,
                Algorithm::Gemm,
                Algorithm::Vectorized,
                Algorithm::Direct,
            ] {
                let opts = ConvOptions::new().padding(padding).algorithm(algorithm);
                let y = conv2d(&x, &w, Some(&bias), &opts).unwrap();
                assert!(
                    y.indexed_iter().all(|((_, o, _, _), &v)| v == bias[o]),
                    "{width}, {padding:?}, {algorithm:?}"
                );
            }
        }
    }
}
