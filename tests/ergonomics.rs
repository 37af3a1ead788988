//! The frictions of the old API, each as a test that did not compile or
//! failed before: a bias that is a view or a slice of a parameter buffer,
//! one options value for every element type with fill values converted
//! exactly, generic code under `convolve::Float` alone, the single-channel
//! groups error, and a `Conv2dPlan` that serves a training loop.

mod common;

use common::seeded;
use convolve::activations::leaky_relu;
use convolve::{
    conv2d, conv2d_backward, conv2d_into, conv_transpose2d, convolve2d, correlate2d, Algorithm, Boundary, Complex,
    Conv2dGrads, Conv2dGradsMut, Conv2dPlan, ConvOptions, Error, Float, Padding,
};
use ndarray::{array, s, Array1, Array2, Array4};

/// Small integers as `f64`, so that every element type holds them and
/// every result exactly.
fn integers<Sh: ndarray::ShapeBuilder>(shape: Sh, seed: u64) -> ndarray::Array<f64, Sh::Dim> {
    seeded(shape, seed).mapv(|v| (v * 8.0).round())
}

/// Asserts that `got` has `want`'s shape and every element within `1e-12`
/// of `want`'s, relative to `want`'s largest.
fn assert_close(got: &Array4<f64>, want: &Array4<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let worst = got.iter().zip(want).fold(0.0f64, |m, (g, w)| m.max((g - w).abs()));
    assert!(worst <= 1e-12 * scale, "{what}: off by {worst:e}");
}

// ---------------------------------------------------------------------------
// a. The bias as a view, or as a slice of one flat parameter buffer.

#[test]
fn a_bias_can_be_a_view_or_a_slice_of_a_parameter_buffer() -> convolve::Result<()> {
    let x = seeded((2, 3, 9, 8), 1);
    let w = seeded((4, 3, 3, 3), 2);
    // An optimizer's flat buffer: the weights, then the bias of 4.
    let params = seeded(w.len() + 4, 3);
    let bias = params.slice(s![w.len()..]);
    let owned: Array1<f64> = bias.to_owned();
    let opts = ConvOptions::new().padding(Padding::Same);

    let want = conv2d(&x, &w, Some(&owned), &opts)?;
    assert_eq!(conv2d(&x, &w, Some(&bias), &opts)?, want);
    assert_eq!(conv2d(&x, &w, Some(&params.slice(s![w.len()..])), &opts)?, want);
    assert_eq!(conv2d(&x, &w, Some(&owned.view()), &opts)?, want);

    let mut out = Array4::from_elem(want.raw_dim(), f64::NAN);
    conv2d_into(&x, &w, Some(&bias), &opts, &mut out)?;
    assert_eq!(out, want);

    // A bare `None` needs no type annotation.
    let unbiased = conv2d(&x, &w, None, &opts)?;
    let per_channel = owned.view().into_shape_with_order((1, 4, 1, 1)).unwrap();
    assert_close(&(&unbiased + &per_channel), &want, "None plus the bias");

    // The transposed convolution maps the 4 channels back to 3: a bias of 3.
    let t_opts = ConvOptions::new().padding(Padding::uniform(1));
    let t_owned = params.slice(s![..3]).to_owned();
    let t_want = conv_transpose2d(&want, &w, Some(&t_owned), &t_opts)?;
    assert_eq!(
        conv_transpose2d(&want, &w, Some(&params.slice(s![..3])), &t_opts)?,
        t_want
    );
    let t_unbiased = conv_transpose2d(&want, &w, None, &t_opts)?;
    let t_per_channel = t_owned.view().into_shape_with_order((1, 3, 1, 1)).unwrap();
    assert_close(
        &(&t_unbiased + &t_per_channel),
        &t_want,
        "transposed, None plus the bias",
    );

    let mut plan = Conv2dPlan::new([2, 3, 9, 8], &w, Some(&bias), &opts)?;
    assert_eq!(plan.run(&x)?, want);
    plan.set_bias(None)?;
    assert_eq!(plan.run(&x)?, unbiased);
    plan.set_bias(Some(&params.slice(s![w.len()..])))?;
    assert_eq!(plan.run(&x)?, want);
    assert_eq!(Conv2dPlan::new([2, 3, 9, 8], &w, None, &opts)?.run(&x)?, unbiased);
    Ok(())
}

// ---------------------------------------------------------------------------
// b. One options value for every element type; fill values converted
// exactly, or an error.

#[test]
fn one_options_value_serves_every_element_type() -> convolve::Result<()> {
    let o = ConvOptions::new().padding(Padding::Same).stride(2);
    let x = integers((7, 6), 4);
    let k = integers((3, 3), 5);
    let want = correlate2d(&x, &k, &o)?;
    assert_eq!(want.dim(), (4, 3));

    let single = correlate2d(&x.mapv(|v| v as f32), &k.mapv(|v| v as f32), &o)?;
    assert_eq!(single, want.mapv(|v| v as f32));
    let int = correlate2d(&x.mapv(|v| v as i32), &k.mapv(|v| v as i32), &o)?;
    assert_eq!(int, want.mapv(|v| v as i32));
    let complex = correlate2d(&x.mapv(|v| Complex::new(v, 0.0)), &k.mapv(|v| Complex::new(v, 0.0)), &o)?;
    assert_eq!(complex, want.mapv(|v| Complex::new(v, 0.0)));
    Ok(())
}

/// A 1×1 kernel of one over an input padded by one: the output is the
/// padded input, its border the fill value as the element type holds it.
fn padded<A: convolve::Element>(x: &Array2<A>, boundary: Boundary) -> convolve::Result<Array2<A>> {
    let opts = ConvOptions::new().padding(Padding::uniform(1)).boundary(boundary);
    correlate2d(x, &array![[A::one()]], &opts)
}

/// The border of an output of `padded`.
fn border<A: Copy>(y: &Array2<A>) -> Vec<A> {
    let (rows, cols) = y.dim();
    y.indexed_iter()
        .filter(|&((i, j), _)| i == 0 || j == 0 || i == rows - 1 || j == cols - 1)
        .map(|(_, &v)| v)
        .collect()
}

#[test]
fn an_integer_fill_serves_floating_point_and_integer_arrays_exactly() -> convolve::Result<()> {
    let x = integers((3, 4), 6);
    let two = Boundary::Fill(2);

    let x32 = x.mapv(|v| v as f32);
    let y32 = padded(&x32, two)?;
    assert_eq!(y32, padded(&x32, Boundary::Fill(2.0f32))?);
    assert!(border(&y32).iter().all(|&v| v == 2.0));
    assert_eq!(y32.slice(s![1..4, 1..5]), x32);

    let x64 = x.mapv(|v| v as i64);
    let y64 = padded(&x64, two)?;
    assert_eq!(y64, padded(&x64, Boundary::Fill(2i64))?);
    assert!(border(&y64).iter().all(|&v| v == 2));

    // A floating-point fill rounds to the nearest f32, as the literal does.
    let tenth = padded(&x32, Boundary::Fill(0.1))?;
    assert_eq!(tenth, padded(&x32, Boundary::Fill(0.1f32))?);
    assert!(border(&tenth).iter().all(|&v| v == 0.1f32));
    Ok(())
}

#[test]
fn a_fill_without_an_exact_equivalent_is_an_error() -> convolve::Result<()> {
    let xi = array![[1i32, 2], [3, 4]];
    let half = padded(&xi, Boundary::Fill(0.5)).unwrap_err();
    assert_eq!(
        half,
        Error::FillValue {
            value: "0.5".to_string(),
            element: "i32",
        }
    );
    assert_eq!(half.to_string(), "the fill value 0.5 has no exact i32 equivalent");
    // The batched entry points check it too.
    let opts = ConvOptions::new().padding(Padding::Full).boundary(Boundary::Fill(0.5));
    let (x4, w4) = (Array4::<i32>::ones((1, 1, 2, 2)), Array4::<i32>::ones((1, 1, 2, 2)));
    assert!(matches!(
        conv2d(&x4, &w4, None, &opts),
        Err(Error::FillValue { element: "i32", .. })
    ));
    assert!(matches!(
        Conv2dPlan::new([1, 1, 2, 2], &w4, None, &opts),
        Err(Error::FillValue { element: "i32", .. })
    ));

    // 2^63 − 1 is an i64, but no f64 (the nearest is 2^63).
    let max = Boundary::Fill(i64::MAX);
    let y = padded(&array![[0i64]], max)?;
    assert!(border(&y).iter().all(|&v| v == i64::MAX));
    assert_eq!(
        padded(&array![[0.0f64]], max),
        Err(Error::FillValue {
            value: i64::MAX.to_string(),
            element: "f64",
        })
    );

    // A complex fill with an imaginary part pads complex arrays only.
    let z = Complex::new(1.0, 2.0);
    let y = padded(&array![[Complex::new(0.0, 0.0)]], Boundary::Fill(z))?;
    assert!(border(&y).iter().all(|&v| v == z));
    for (element, result) in [
        ("f64", padded(&array![[0.0f64]], Boundary::Fill(z)).map(|_| ())),
        ("f32", padded(&array![[0.0f32]], Boundary::Fill(z)).map(|_| ())),
        ("i64", padded(&array![[0i64]], Boundary::Fill(z)).map(|_| ())),
    ] {
        assert_eq!(
            result,
            Err(Error::FillValue {
                value: z.to_string(),
                element,
            })
        );
    }
    // With a zero imaginary part it is a real number.
    let real = padded(&array![[0.0f64]], Boundary::Fill(Complex::new(3.0, 0.0)))?;
    assert_eq!(real, padded(&array![[0.0f64]], Boundary::Fill(3.0))?);
    Ok(())
}

// ---------------------------------------------------------------------------
// c. Generic code under one bound, `convolve::Float`, with no other crate.

/// What `layer` computes.
struct Layer<A> {
    /// `conv2d(x, w, b)`.
    output: Array4<A>,
    /// `leaky_relu` of the output.
    activation: Array4<A>,
    /// `conv2d_backward` with the activation as the upstream gradient.
    grads: Conv2dGrads<A>,
    /// `conv_transpose2d` of the activation: the same input gradient.
    transposed: Array4<A>,
}

fn layer<A: Float>(x: &Array4<A>, w: &Array4<A>, b: &Array1<A>) -> convolve::Result<Layer<A>> {
    let one = A::one();
    let two = one + one;
    let three = two + one;
    // `mul_add` is std's `self·a + b` (7), not `self + a·b` (5) ...
    assert!(two.mul_add(three, one) == three + three + one);
    // ... and fused: with h² lost against 1, `(1 + h)·(1 + h) − (1 + 2h)`
    // rounded twice is 0, once is h².
    let mut h = one;
    while one + h * h != one {
        h = h / two;
    }
    assert!((one + h).mul_add(one + h, -(one + two * h)) == h * h);

    let opts = ConvOptions::new().padding(Padding::Same);
    let output = conv2d(x, w, Some(b), &opts)?;
    let activation = leaky_relu(&output, one / (two * two * two));
    let grads = conv2d_backward(x, w, &activation, &opts)?;
    // `Same` for a 3×3 kernel at stride 1 pads one on every side.
    let transposed = conv_transpose2d(&activation, w, None, &ConvOptions::new().padding(Padding::uniform(1)))?;
    Ok(Layer {
        output,
        activation,
        grads,
        transposed,
    })
}

#[test]
fn generic_code_needs_only_convolve_float() -> convolve::Result<()> {
    let x = seeded((2, 3, 8, 7), 7);
    let w = seeded((4, 3, 3, 3), 8);
    let b = seeded(4, 9);
    let double = layer(&x, &w, &b)?;
    assert_eq!(
        double.output,
        conv2d(&x, &w, Some(&b), &ConvOptions::new().padding(Padding::Same))?
    );
    assert!(double
        .activation
        .iter()
        .zip(&double.output)
        .all(|(&a, &y)| a == if y > 0.0 { y } else { y / 8.0 }));
    assert_close(&double.transposed, &double.grads.input, "f64 transposed");

    let single = layer(&x.mapv(|v| v as f32), &w.mapv(|v| v as f32), &b.mapv(|v| v as f32))?;
    let widened = |a: &Array4<f32>| a.mapv(f64::from);
    let scale = double.grads.weight.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let off = widened(&single.grads.weight) - &double.grads.weight;
    assert!(off.iter().all(|d| d.abs() <= 1e-4 * scale), "f32 weight gradient");
    assert_eq!(single.transposed.shape(), x.shape());
    Ok(())
}

// ---------------------------------------------------------------------------
// d. Groups in a single-channel call.

#[test]
fn groups_in_a_single_channel_call_point_to_the_batched_calls() {
    let (x, k) = (Array2::<f64>::ones((5, 5)), Array2::<f64>::ones((3, 3)));
    let opts = ConvOptions::new().groups(2);
    let err = correlate2d(&x, &k, &opts).unwrap_err();
    assert_eq!(err, Error::GroupsSingleChannel { groups: 2 });
    let message = err.to_string();
    assert!(message.contains("batched"), "{message}");
    assert!(message.contains("groups = 2"), "{message}");
    assert_eq!(convolve2d(&x, &k, &opts), Err(Error::GroupsSingleChannel { groups: 2 }));
}

// ---------------------------------------------------------------------------
// e. A plan in a training loop.

#[test]
fn a_plan_takes_a_ragged_last_batch() -> convolve::Result<()> {
    let data = seeded((16, 3, 10, 12), 10);
    let w = seeded((8, 3, 3, 3), 11);
    let b = seeded(8, 12);
    let opts = ConvOptions::new().padding(Padding::Same).stride(2);
    for algorithm in [
        Algorithm::Auto,
        Algorithm::Direct,
        Algorithm::Vectorized,
        Algorithm::Gemm,
    ] {
        let opts = opts.algorithm(algorithm);
        let plan = Conv2dPlan::new([16, 3, 10, 12], &w, Some(&b), &opts)?;
        assert_eq!(plan.run(&data)?, conv2d(&data, &w, Some(&b), &opts)?, "{algorithm:?}");
        let last = data.slice(s![12.., .., .., ..]);
        let want = conv2d(&last, &w, Some(&b), &opts)?;
        assert_eq!(want.shape(), [4, 8, 5, 6]);
        assert_eq!(plan.run(&last)?, want, "{algorithm:?}");
        let mut out = Array4::from_elem((4, 8, 5, 6), f64::NAN);
        plan.run_into(&last, &mut out)?;
        assert_eq!(out, want, "{algorithm:?} into");
    }
    Ok(())
}

#[test]
fn set_weight_gives_what_a_fresh_plan_gives() -> convolve::Result<()> {
    // A multi-channel layer on the matrix product.
    let x = seeded((2, 16, 12, 12), 13);
    let opts = ConvOptions::new().padding(Padding::Same).algorithm(Algorithm::Gemm);
    let mut plan = Conv2dPlan::new([2, 16, 12, 12], &seeded((32, 16, 3, 3), 14), None, &opts)?;
    assert_eq!(plan.algorithm(), Algorithm::Gemm);
    plan.run(&x)?;
    let stepped = seeded((32, 16, 3, 3), 15);
    plan.set_weight(&stepped)?;
    assert_eq!(plan.weight(), &stepped);
    let fresh = Conv2dPlan::new([2, 16, 12, 12], &stepped, None, &opts)?;
    assert_eq!(plan.run(&x)?, fresh.run(&x)?);
    assert_eq!(plan.run(&x)?, conv2d(&x, &stepped, None, &opts)?);

    // A single-channel filter whose rank-1 kernel runs as two passes.
    let rank1 = |seed: u64| {
        let (u, v) = (seeded(5, seed), seeded(5, seed ^ 1));
        Array4::from_shape_fn((1, 1, 5, 5), |(_, _, a, b)| u[a] * v[b])
    };
    let image = seeded((1, 1, 64, 64), 16);
    let opts = ConvOptions::new().padding(Padding::Same).boundary(Boundary::Reflect);
    let mut plan = Conv2dPlan::new([1, 1, 64, 64], &rank1(17), None, &opts)?;
    assert_eq!(plan.algorithm(), Algorithm::Separable);
    plan.run(&image)?;
    let stepped = rank1(18);
    plan.set_weight(&stepped.view())?;
    assert_eq!(plan.algorithm(), Algorithm::Separable);
    let fresh = Conv2dPlan::new([1, 1, 64, 64], &stepped, None, &opts)?;
    assert_eq!(plan.run(&image)?, fresh.run(&image)?);
    let direct = conv2d(&image, &stepped, None, &opts.algorithm(Algorithm::Direct))?;
    assert_close(&plan.run(&image)?, &direct, "separable after set_weight");
    Ok(())
}

#[test]
fn backward_into_gives_conv2d_backward() -> convolve::Result<()> {
    let x = seeded((3, 4, 11, 9), 19);
    let w = seeded((6, 2, 3, 3), 20);
    let b = seeded(6, 21);
    let opts = ConvOptions::new()
        .groups(2)
        .stride(2)
        .padding(Padding::Same)
        .boundary(Boundary::Fill(0.5));
    let plan = Conv2dPlan::new([3, 4, 11, 9], &w, Some(&b), &opts)?;
    let g = seeded(plan.output_shape(), 22);
    let want = conv2d_backward(&x, &w, &g, &opts)?;

    let mut dx = Array4::from_elem(x.raw_dim(), f64::NAN);
    let mut dw = Array4::from_elem(w.raw_dim(), f64::NAN);
    let mut db = Array1::from_elem(6, f64::NAN);
    let all = Conv2dGradsMut {
        input: Some(dx.view_mut()),
        weight: Some(dw.view_mut()),
        bias: Some(db.view_mut()),
    };
    plan.backward_into(&x, &g, all)?;
    assert_eq!(dx, want.input);
    assert_eq!(dw, want.weight);
    assert_eq!(db, want.bias);

    // Only the weight gradient, of a last batch of one image.
    let (x1, g1) = (x.slice(s![2..3, .., .., ..]), g.slice(s![2..3, .., .., ..]));
    let want = conv2d_backward(&x1, &w, &g1, &opts)?;
    let mut dw = Array4::from_elem(w.raw_dim(), f64::NAN);
    let only_weight = Conv2dGradsMut {
        weight: Some(dw.view_mut()),
        ..Conv2dGradsMut::none()
    };
    plan.backward_into(&x1, &g1, only_weight)?;
    assert_eq!(dw, want.weight);
    Ok(())
}

#[test]
fn transpose_into_gives_conv_transpose2d() -> convolve::Result<()> {
    let w = seeded((6, 2, 3, 3), 23);
    let opts = ConvOptions::new()
        .groups(2)
        .stride(2)
        .padding(Padding::uniform(1))
        .boundary(Boundary::Reflect);
    let plan = Conv2dPlan::new([2, 4, 11, 10], &w, None, &opts)?;
    assert_eq!(plan.output_shape(), [2, 6, 6, 5]);
    // (H + 2 − 3) mod 2 rows and (W + 2 − 3) mod 2 columns are lost to the
    // stride; the output padding puts them back.
    let t_opts = opts.output_paddings(0, 1);
    for batch in [2, 1] {
        let y = seeded((batch, 6, 6, 5), 24);
        let want = conv_transpose2d(&y, &w, None, &t_opts)?;
        assert_eq!(want.shape(), [batch, 4, 11, 10]);
        let mut out = Array4::from_elem((batch, 4, 11, 10), f64::NAN);
        plan.transpose_into(&y, &mut out)?;
        assert_eq!(out, want, "batch of {batch}");
    }
    Ok(())
}

#[test]
fn a_plan_names_the_shape_it_expected() -> convolve::Result<()> {
    let w = seeded((4, 3, 3, 3), 25);
    let mut plan = Conv2dPlan::new([16, 3, 10, 12], &w, None, &ConvOptions::new())?;
    let zeros = |shape: [usize; 4]| Array4::<f64>::zeros(shape);
    let mismatch = |what, expected: [usize; 4], got: [usize; 4]| Error::ShapeMismatch {
        what,
        expected: expected.to_vec(),
        got: got.to_vec(),
    };
    // Any batch size, here 4, but the planned channels, height and width.
    let mut out = zeros([4, 4, 8, 10]);
    let mut dw = zeros([4, 3, 3, 3]);
    for wrong in [[4, 2, 10, 12], [4, 3, 11, 12], [4, 3, 10, 13]] {
        let x = zeros(wrong);
        let expected = mismatch("the input", [4, 3, 10, 12], wrong);
        assert_eq!(plan.run(&x), Err(expected.clone()));
        assert_eq!(plan.run_into(&x, &mut out), Err(expected.clone()));
        let grads = Conv2dGradsMut {
            weight: Some(dw.view_mut()),
            ..Conv2dGradsMut::none()
        };
        assert_eq!(plan.backward_into(&x, &out, grads), Err(expected));
    }
    let x = zeros([4, 3, 10, 12]);
    assert_eq!(
        plan.run_into(&x, &mut zeros([4, 4, 8, 11])),
        Err(mismatch("the output", [4, 4, 8, 10], [4, 4, 8, 11]))
    );
    assert_eq!(
        plan.backward_into(&x, &zeros([4, 5, 8, 10]), Conv2dGradsMut::none()),
        Err(mismatch("the output gradient", [4, 4, 8, 10], [4, 5, 8, 10]))
    );
    assert_eq!(
        plan.transpose_into(&zeros([4, 4, 8, 9]), &mut zeros([4, 3, 10, 12])),
        Err(mismatch("the input", [4, 4, 8, 10], [4, 4, 8, 9]))
    );
    assert_eq!(
        plan.transpose_into(&out, &mut zeros([4, 2, 10, 12])),
        Err(mismatch("the output", [4, 3, 10, 12], [4, 2, 10, 12]))
    );
    assert_eq!(
        plan.set_weight(&zeros([4, 3, 3, 2])),
        Err(mismatch("the weight", [4, 3, 3, 3], [4, 3, 3, 2]))
    );
    assert_eq!(
        plan.set_bias(Some(&Array1::zeros(3))),
        Err(Error::BiasLength { expected: 4, got: 3 })
    );
    Ok(())
}
