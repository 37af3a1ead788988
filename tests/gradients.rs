//! Gradients of `conv2d` by finite differences, the adjoint identity of
//! `conv_transpose2d`, and every algorithm against the reference.

mod common;

use common::{seeded, seeded_case, SeededCase, GRADIENT_RANGES};
use convolve::{
    conv2d, conv2d_backward, conv2d_backward_into, conv_transpose2d, Algorithm, Boundary, Conv2dGradsMut, ConvOptions,
    Error, Padding,
};
use ndarray::{Array1, Array4, ShapeBuilder};
use proptest::prelude::*;

/// Coordinates of each tensor checked by finite differences per case.
const PROBES: usize = 6;

/// `L = Σ conv2d(x, w, b) ⊙ g`.
fn loss(x: &Array4<f64>, w: &Array4<f64>, b: &Array1<f64>, g: &Array4<f64>, opts: &ConvOptions) -> f64 {
    let y = conv2d(x, w, Some(b), &opts.algorithm(Algorithm::Direct)).unwrap();
    (&y * g).sum()
}

/// Central difference of `L` along one coordinate of `t`. `L` is affine in
/// each of `x`, `w` and `b`, so the difference is exact up to rounding.
fn central_difference(t: &Array4<f64>, index: usize, f: impl Fn(&Array4<f64>) -> f64) -> f64 {
    let h = 1e-3;
    let mut plus = t.clone();
    plus.as_slice_mut().unwrap()[index] += h;
    let mut minus = t.clone();
    minus.as_slice_mut().unwrap()[index] -= h;
    (f(&plus) - f(&minus)) / (2.0 * h)
}

fn check_gradients(case: &SeededCase) -> Result<(), TestCaseError> {
    let x = seeded(case.input, case.seed);
    let w = seeded(case.weight, case.seed ^ 1);
    let b = seeded(case.weight[0], case.seed ^ 2);
    let Ok(y) = conv2d(&x, &w, Some(&b), &case.options) else {
        // Not a valid forward problem: the backward pass must say so too.
        let shape = [1, 1, 1, 1];
        prop_assert!(conv2d_backward(&x, &w, &Array4::zeros(shape), &case.options).is_err());
        return Ok(());
    };
    let g = seeded(y.raw_dim(), case.seed ^ 3);
    let reference = conv2d_backward(&x, &w, &g, &case.options.algorithm(Algorithm::Direct)).unwrap();

    let probes = |len: usize, salt: u64| -> Vec<usize> {
        seeded(PROBES, case.seed ^ salt)
            .iter()
            .map(|v| ((v + 1.0) / 2.0 * len as f64) as usize % len)
            .collect()
    };
    for i in probes(x.len(), 5) {
        let fd = central_difference(&x, i, |x| loss(x, &w, &b, &g, &case.options));
        let got = reference.input.as_slice().unwrap()[i];
        prop_assert!((fd - got).abs() < 1e-8, "dL/dx[{}]: fd {} vs {}", i, fd, got);
    }
    for i in probes(w.len(), 6) {
        let fd = central_difference(&w, i, |w| loss(&x, w, &b, &g, &case.options));
        let got = reference.weight.as_slice().unwrap()[i];
        prop_assert!((fd - got).abs() < 1e-8, "dL/dw[{}]: fd {} vs {}", i, fd, got);
    }
    for o in 0..b.len() {
        let mut bp = b.clone();
        bp[o] += 1.0;
        let fd = loss(&x, &w, &bp, &g, &case.options) - loss(&x, &w, &b, &g, &case.options);
        prop_assert!((fd - reference.bias[o]).abs() < 1e-8, "dL/db[{}]", o);
    }

    // Every algorithm computes the same gradients.
    for alg in [Algorithm::Auto, Algorithm::Vectorized, Algorithm::Gemm, Algorithm::Fft] {
        let got = conv2d_backward(&x, &w, &g, &case.options.algorithm(alg)).unwrap();
        let close = |a: &Array4<f64>, r: &Array4<f64>| a.iter().zip(r).all(|(p, q)| (p - q).abs() < 1e-10);
        prop_assert!(close(&got.input, &reference.input), "{:?} input gradient", alg);
        prop_assert!(close(&got.weight, &reference.weight), "{:?} weight gradient", alg);
        prop_assert_eq!(&got.bias, &reference.bias);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn gradients_match_finite_differences_and_the_reference(case in seeded_case(GRADIENT_RANGES)) {
        check_gradients(&case)?;
    }

    /// ⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose2d(y, w)⟩, for every linear
    /// boundary rule (a nonzero fill would make the convolution affine).
    #[test]
    fn conv_transpose2d_is_the_adjoint(case in seeded_case(GRADIENT_RANGES)) {
        let mut opts = case.options;
        if let Boundary::Constant(_) = opts.boundary {
            opts.boundary = Boundary::Fill(0.0);
        }
        if opts.padding == Padding::Same {
            // Same is resolved against the forward input; spell it out.
            opts.padding = Padding::Explicit { top: 1, bottom: 1, left: 0, right: 2 };
        }
        let x = seeded(case.input, case.seed);
        let w = seeded(case.weight, case.seed ^ 1);
        let Ok(y_shape) = conv2d(&x, &w, None, &opts).map(|y| y.raw_dim()) else { return Ok(()) };
        let y = seeded(y_shape, case.seed ^ 4);
        // The output padding that makes the transposed output x's size.
        let extent = |k: usize, d: usize| d * (k - 1) + 1;
        let [dilation, stride] = [opts.dilation, opts.stride].map(|v| v.of_rank::<2>().expect("2-D options"));
        let (top, bottom, left, right) = match opts.padding {
            Padding::Valid => (0, 0, 0, 0),
            Padding::Full => {
                let (eh, ew) = (extent(case.weight[2], dilation[0]), extent(case.weight[3], dilation[1]));
                (eh - 1, eh - 1, ew - 1, ew - 1)
            }
            Padding::Explicit { top, bottom, left, right } => (top, bottom, left, right),
            Padding::Same => unreachable!("replaced above"),
            other => unreachable!("the cases are 2-D, not {other:?}"),
        };
        let op_h = (case.input[2] + top + bottom - extent(case.weight[2], dilation[0])) % stride[0];
        let op_w = (case.input[3] + left + right - extent(case.weight[3], dilation[1])) % stride[1];
        for alg in [Algorithm::Direct, Algorithm::Auto] {
            let t_opts = opts.output_paddings(op_h, op_w).algorithm(alg);
            let xt = conv_transpose2d(&y, &w, None, &t_opts).unwrap();
            prop_assert_eq!(xt.shape(), x.shape());
            let lhs = (&conv2d(&x, &w, None, &opts).unwrap() * &y).sum();
            let rhs = (&x * &xt).sum();
            prop_assert!((lhs - rhs).abs() < 1e-10 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
        }
    }
}

#[test]
fn backward_checks_every_shape() {
    let x = Array4::<f64>::zeros((1, 2, 5, 5));
    let w = Array4::<f64>::zeros((4, 2, 3, 3));
    let opts = ConvOptions::new();
    assert_eq!(
        conv2d_backward(&x, &w, &Array4::zeros((1, 4, 3, 4)), &opts).unwrap_err(),
        Error::ShapeMismatch {
            what: "the output gradient",
            expected: vec![1, 4, 3, 3],
            got: vec![1, 4, 3, 4]
        }
    );
    let mut dw = Array4::from_elem((4, 2, 3, 2), 7.0);
    let grads = Conv2dGradsMut {
        weight: Some(dw.view_mut()),
        ..Conv2dGradsMut::none()
    };
    assert!(matches!(
        conv2d_backward_into(&x, &w, &Array4::zeros((1, 4, 3, 3)), &opts, grads),
        Err(Error::ShapeMismatch {
            what: "the weight gradient",
            ..
        })
    ));
    assert!(dw.iter().all(|&v| v == 7.0));
    // Forward errors come first.
    assert_eq!(
        conv2d_backward(&x, &w, &Array4::zeros((1, 4, 3, 3)), &opts.stride(0)).unwrap_err(),
        Error::ZeroStride {
            axis: convolve::Axis::Height
        }
    );
}

#[test]
fn a_subset_of_gradients_leaves_the_rest_alone() {
    let x = seeded([2, 3, 6, 6], 1);
    let w = seeded([4, 3, 3, 3], 2);
    let g = seeded([2, 4, 4, 4], 3);
    let opts = ConvOptions::new();
    let all = conv2d_backward(&x, &w, &g, &opts).unwrap();
    let mut dx = Array4::from_elem((2, 3, 6, 6), f64::NAN);
    conv2d_backward_into(
        &x,
        &w,
        &g,
        &opts,
        Conv2dGradsMut {
            input: Some(dx.view_mut()),
            ..Conv2dGradsMut::none()
        },
    )
    .unwrap();
    assert_eq!(dx, all.input);
}

#[test]
fn transposed_convolution_rejects_bad_arguments() {
    let x = Array4::<f64>::zeros((1, 4, 5, 5));
    let opts = ConvOptions::new();
    assert_eq!(
        conv_transpose2d(&x, &Array4::zeros((3, 2, 3, 3)), None, &opts).unwrap_err(),
        Error::TransposedWeight { expected: 4, got: 3 }
    );
    assert!(matches!(
        conv_transpose2d(&x, &Array4::zeros((4, 2, 3, 3)), None, &opts.padding(Padding::Same)),
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        conv_transpose2d(
            &x,
            &Array4::zeros((4, 2, 3, 3)),
            None,
            &opts.stride(2).output_padding(2)
        ),
        Err(Error::OutputPaddingTooLarge { .. })
    ));
    assert_eq!(
        conv_transpose2d(
            &x,
            &Array4::zeros((4, 2, 3, 3)),
            Some(&Array1::zeros(3)),
            &opts.groups(2)
        )
        .unwrap_err(),
        Error::BiasLength { expected: 4, got: 3 }
    );
}

/// Layers large enough to span many blocks, with thin groups (the weight
/// gradient's dot-product path, the depthwise case among them) and wide
/// ones (its matrix-product path), strided and dilated, with a
/// non-standard upstream gradient: every algorithm gives the reference
/// loops' gradients, in `f64` and in `f32`.
#[test]
fn multi_block_gradients_match_the_reference() {
    let cases = [
        // Depthwise 3×3, padding 1.
        (
            [2, 6, 40, 37],
            [6, 1, 3, 3],
            ConvOptions::new().groups(6).padding(Padding::uniform(1)),
        ),
        // Depthwise 5×5, stride 2, reflect.
        (
            [1, 4, 33, 41],
            [4, 1, 5, 5],
            ConvOptions::new()
                .groups(4)
                .stride(2)
                .padding(Padding::Same)
                .boundary(Boundary::Reflect),
        ),
        // Two outputs per group, dilated, a nonzero fill, padding wider than the kernel.
        (
            [2, 4, 30, 29],
            [4, 2, 3, 3],
            ConvOptions::new()
                .groups(2)
                .dilation(2)
                .padding(Padding::uniform(5))
                .boundary(Boundary::Fill(0.5)),
        ),
        // A pointwise layer, whose weight gradient reads the input in place.
        ([2, 32, 16, 24], [16, 32, 1, 1], ConvOptions::new()),
        // Wide groups: 16 outputs of 8 channels.
        (
            [1, 8, 35, 26],
            [16, 8, 3, 3],
            ConvOptions::new().padding(Padding::Same).boundary(Boundary::Wrap),
        ),
        // Rows of 1500 and 1300 outputs, taken in segments of columns (one
        // row per block, as in a long 1-D signal), padded by reflection and
        // strided with groups.
        (
            [2, 6, 1, 1500],
            [8, 6, 1, 9],
            ConvOptions::new().padding(Padding::Same).boundary(Boundary::Reflect),
        ),
        (
            [1, 4, 3, 2605],
            [6, 2, 2, 5],
            ConvOptions::new()
                .groups(2)
                .strides(1, 2)
                .dilations(1, 2)
                .padding(Padding::uniform(3)),
        ),
    ];
    for (seed, (input, weight, opts)) in cases.into_iter().enumerate() {
        let x = seeded(input, seed as u64);
        let w = seeded(weight, seed as u64 ^ 1);
        let y = conv2d(&x, &w, None, &opts).unwrap();
        // The upstream gradient in column-major layout.
        let mut g = Array4::zeros(y.raw_dim().f());
        g.assign(&seeded(y.raw_dim(), seed as u64 ^ 2));
        let reference = conv2d_backward(&x, &w, &g, &opts.algorithm(Algorithm::Direct)).unwrap();
        let scale = |a: &Array4<f64>| a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for alg in [Algorithm::Auto, Algorithm::Vectorized, Algorithm::Gemm] {
            let got = conv2d_backward(&x, &w, &g, &opts.algorithm(alg)).unwrap();
            for (name, a, r) in [
                ("input", &got.input, &reference.input),
                ("weight", &got.weight, &reference.weight),
            ] {
                let tolerance = 1e-12 * scale(r);
                assert!(
                    a.iter().zip(r).all(|(p, q)| (p - q).abs() <= tolerance),
                    "case {seed}, {alg:?}, {name}"
                );
            }
            // f32, within 1e-4 of the f64 reference.
            let single = |a: &Array4<f64>| a.mapv(|v| v as f32);
            let got = conv2d_backward(&single(&x), &single(&w), &single(&g), &opts.algorithm(alg)).unwrap();
            for (name, a, r) in [
                ("input", &got.input, &reference.input),
                ("weight", &got.weight, &reference.weight),
            ] {
                let tolerance = 1e-4 * scale(r);
                let close = a.iter().zip(r).all(|(&p, q)| (p as f64 - q).abs() <= tolerance);
                assert!(close, "case {seed}, {alg:?}, f32 {name}");
            }
        }
    }
}

/// The gradients of `conv3d` by finite differences, for every boundary
/// rule (the padding's gradient folded back along the planes as along rows
/// and columns) under strides and dilations along the depth, on volumes
/// small enough to probe every coordinate.
mod rank3 {
    use convolve::{conv3d, conv3d_backward, Algorithm, Boundary, ConvOptions, Padding};
    use ndarray::{Array, Array1, Array5, Dimension};

    use super::common::seeded;

    /// Each geometry of `GEOMETRIES` runs under each of these.
    fn boundaries() -> [Boundary; 6] {
        [
            Boundary::Fill(0.0),
            Boundary::Fill(-1.5),
            Boundary::Wrap,
            Boundary::Symmetric,
            Boundary::Reflect,
            Boundary::Replicate,
        ]
    }

    /// `(input, weight, options)` without the boundary rule: strided and
    /// dilated along the depth, padding wider than the depth, `Same` and
    /// `Full`, groups.
    fn geometries() -> [([usize; 5], [usize; 5], ConvOptions); 4] {
        [
            (
                [1, 2, 5, 4, 3],
                [2, 2, 3, 2, 2],
                ConvOptions::new()
                    .strides3d(2, 1, 1)
                    .dilations3d(2, 1, 1)
                    .padding(Padding::Explicit3d {
                        front: 2,
                        back: 1,
                        top: 1,
                        bottom: 0,
                        left: 0,
                        right: 1,
                    }),
            ),
            (
                [2, 2, 3, 3, 4],
                [4, 1, 2, 2, 3],
                ConvOptions::new()
                    .groups(2)
                    .strides3d(3, 1, 2)
                    .padding(Padding::Explicit3d {
                        front: 4,
                        back: 3,
                        top: 0,
                        bottom: 2,
                        left: 1,
                        right: 1,
                    }),
            ),
            (
                [1, 1, 4, 5, 4],
                [2, 1, 2, 3, 2],
                ConvOptions::new()
                    .strides3d(2, 2, 1)
                    .dilations3d(1, 1, 2)
                    .padding(Padding::Same),
            ),
            (
                [1, 2, 3, 3, 3],
                [1, 2, 2, 2, 2],
                ConvOptions::new()
                    .strides3d(1, 2, 1)
                    .dilations3d(2, 1, 1)
                    .padding(Padding::Full),
            ),
        ]
    }

    /// `L = Σ conv3d(x, w, b) ⊙ g`.
    fn loss(x: &Array5<f64>, w: &Array5<f64>, b: &Array1<f64>, g: &Array5<f64>, opts: &ConvOptions) -> f64 {
        let y = conv3d(x, w, Some(b), &opts.algorithm(Algorithm::Direct)).unwrap();
        (&y * g).sum()
    }

    /// Central difference of `f` along coordinate `index` (in standard
    /// order) of `t`; `L` is affine in each argument, so it is exact up to
    /// rounding.
    fn central_difference<D: Dimension>(t: &Array<f64, D>, index: usize, f: impl Fn(&Array<f64, D>) -> f64) -> f64 {
        let h = 1e-3;
        let mut plus = t.clone();
        plus.as_slice_mut().unwrap()[index] += h;
        let mut minus = t.clone();
        minus.as_slice_mut().unwrap()[index] -= h;
        (f(&plus) - f(&minus)) / (2.0 * h)
    }

    #[test]
    fn conv3d_gradients_match_finite_differences() {
        for (seed, (input, weight, options)) in geometries().into_iter().enumerate() {
            for boundary in boundaries() {
                let opts = options.boundary(boundary);
                let what = format!("{input:?} * {weight:?}, {opts:?}");
                let seed = seed as u64;
                let x = seeded(input, seed);
                let w = seeded(weight, seed ^ 1);
                let b = seeded(weight[0], seed ^ 2);
                let y = conv3d(&x, &w, Some(&b), &opts).unwrap();
                let g = seeded(y.raw_dim(), seed ^ 3);
                let reference = conv3d_backward(&x, &w, &g, &opts.algorithm(Algorithm::Direct)).unwrap();
                for i in 0..x.len() {
                    let fd = central_difference(&x, i, |x| loss(x, &w, &b, &g, &opts));
                    let got = reference.input.as_slice().unwrap()[i];
                    assert!((fd - got).abs() < 1e-8, "{what}: dL/dx[{i}]: fd {fd} vs {got}");
                }
                for i in 0..w.len() {
                    let fd = central_difference(&w, i, |w| loss(&x, w, &b, &g, &opts));
                    let got = reference.weight.as_slice().unwrap()[i];
                    assert!((fd - got).abs() < 1e-8, "{what}: dL/dw[{i}]: fd {fd} vs {got}");
                }
                for o in 0..b.len() {
                    let fd = central_difference(&b, o, |b| loss(&x, &w, b, &g, &opts));
                    assert!((fd - reference.bias[o]).abs() < 1e-8, "{what}: dL/db[{o}]");
                }
                // Every algorithm computes the same gradients.
                for alg in [Algorithm::Auto, Algorithm::Vectorized, Algorithm::Gemm, Algorithm::Fft] {
                    let got = conv3d_backward(&x, &w, &g, &opts.algorithm(alg)).unwrap();
                    let close = |a: &Array5<f64>, r: &Array5<f64>| a.iter().zip(r).all(|(p, q)| (p - q).abs() < 1e-10);
                    assert!(close(&got.input, &reference.input), "{what}: {alg:?} input gradient");
                    assert!(close(&got.weight, &reference.weight), "{what}: {alg:?} weight gradient");
                    assert_eq!(got.bias, reference.bias, "{what}: {alg:?} bias gradient");
                }
            }
        }
    }
}
