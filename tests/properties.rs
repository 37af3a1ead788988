//! Algebraic properties of `correlate2d`, `convolve2d` and `conv2d`,
//! searched for counter-examples with proptest.
//!
//! Each property relates two calls of the crate, or a call and an oracle
//! from `common`, that must agree by the definitions in the crate docs.
//! Every property runs over every algorithm, padding and boundary rule.
//! Integer runs are exact; `f64` and complex runs compare to `FLOAT_TOL`.

mod common;

use common::*;
use convolve::shape::conv2d_output_shape;
use convolve::{conv2d, conv2d_into, convolve2d, correlate2d, Boundary, ConvOptions, Error, Padding};
use ndarray::{concatenate, s, Array2, Array4, Ix2, Ix4};
use num_complex::Complex64;
use proptest::prelude::*;

/// Cases per property: enough to reach every padding, boundary, layout and
/// algorithm many times, while each property takes well under a second in
/// a debug build.
const CASES: u32 = 256;

/// Cases of the property on tiny inputs, each one very cheap.
const TINY_CASES: u32 = 4096;

/// Largest side of the inputs whose windows may lie wholly in the padding.
const MAX_TINY_SIDE: usize = 2;

/// Largest stride over those inputs: larger than the input, so that the
/// strides can step over it.
const MAX_TINY_STRIDE: usize = 5;

/// Largest side of the inputs in the scipy `valid` swap property, where
/// the kernel is the larger operand.
const MAX_SWAP_SIDE: usize = 3;

/// Largest number of extra rows or columns of the kernel over the input in
/// the scipy `valid` swap property.
const MAX_SWAP_EXCESS: usize = 3;

/// Largest number of channels (or output channels) in the shape property.
const MAX_SHAPE_CHANNELS: usize = 4;

/// The `[rows, cols]` the docs predict for `correlate2d`/`convolve2d`, or
/// `None` for an error.
fn predicted_2d_shape(input: [usize; 2], kernel: [usize; 2], options: &ConvOptions, op: Op) -> Option<[usize; 2]> {
    if input.contains(&0) {
        return None;
    }
    if is_scipy_valid_swap(input, kernel, options) {
        let input_fits = kernel[0] >= input[0] && kernel[1] >= input[1];
        // scipy correlates the kernel with the input instead.
        return if input_fits {
            predicted_2d_shape(kernel, input, options, op)
        } else {
            None
        };
    }
    let [rows, cols] = resolved_geometry(input, kernel, options, op.operation()).ok()?;
    Some([rows.output_len().ok()?, cols.output_len().ok()?])
}

/// `ca·y1 + cb·y2 == y12`, or the same error (the shapes are the same).
fn check_linear_combination<T: Scalar>(
    y1: convolve::Result<Array2<T>>,
    y2: convolve::Result<Array2<T>>,
    y12: convolve::Result<Array2<T>>,
    (ca, cb): (T, T),
) -> Result<(), TestCaseError> {
    let want = y1.and_then(|y1| Ok(y1 * ca + y2? * cb));
    check_same_outcome(y12, want)
}

/// Linearity in the input. A fill value pads like the input it pads, so
/// with `Fill(c1)` for `x1` and `Fill(c2)` for `x2` the combination is
/// padded with `Fill(ca·c1 + cb·c2)`; the other rules are linear maps.
fn check_linear_in_input<T: Scalar>(
    (x1, x2): (Array2<T>, Array2<T>),
    k: Array2<T>,
    (ca, cb, c2): (T, T, T),
    op: Op,
    options: ConvOptions,
) -> Result<(), TestCaseError> {
    let (b2, b12) = match options.boundary {
        Boundary::Constant(_) => {
            let c1 = options.boundary.fill::<T>().expect("options::<T> fills with a T");
            (Boundary::Fill(c2), Boundary::Fill(ca * c1 + cb * c2))
        }
        other => (other, other),
    };
    let y1 = op.apply(&x1, &k, &options);
    let y2 = op.apply(&x2, &k, &options.boundary(b2));
    let y12 = op.apply(&(&x1 * ca + &x2 * cb), &k, &options.boundary(b12));
    check_linear_combination(y1, y2, y12, (ca, cb))
}

fn check_linear_in_kernel<T: Scalar>(
    x: Array2<T>,
    (k1, k2): (Array2<T>, Array2<T>),
    (ca, cb): (T, T),
    op: Op,
    options: ConvOptions,
) -> Result<(), TestCaseError> {
    let y1 = op.apply(&x, &k1, &options);
    let y2 = op.apply(&x, &k2, &options);
    let y12 = op.apply(&x, &(&k1 * ca + &k2 * cb), &options);
    check_linear_combination(y1, y2, y12, (ca, cb))
}

fn check_single_channel_conv2d<T: Scalar>(
    x: Array2<T>,
    k: Array2<T>,
    options: ConvOptions,
) -> Result<(), TestCaseError> {
    let batched = conv2d(&as_batch(&x), &as_batch(&k), None, &options);
    let single = correlate2d(&x, &k, &options);
    if is_scipy_valid_swap([x.nrows(), x.ncols()], [k.nrows(), k.ncols()], &options) {
        // PyTorch has no role swap: the kernel does not fit.
        prop_assert!(matches!(batched, Err(Error::KernelTooLarge { .. })), "{batched:?}");
        prop_assert!(
            matches!(single, Ok(_) | Err(Error::ValidShapeMismatch { .. })),
            "{single:?}"
        );
        return Ok(());
    }
    check_same_outcome(batched.map(only_image), single)
}

fn check_groups<T: Scalar>(problem: Batched<T>, options: ConvOptions) -> Result<(), TestCaseError> {
    let (input, weight, bias, groups) = problem.into_parts();
    let c = input.shape()[1] / groups;
    let o = weight.shape()[0] / groups;
    let whole = conv2d(&input, &weight, bias.as_deref(), &options.groups(groups));
    let parts: Result<Vec<Array4<T>>, Error> = (0..groups)
        .map(|g| {
            let bias = bias.as_ref().map(|b| b.slice(s![g * o..(g + 1) * o]).to_owned());
            conv2d(
                &input.slice(s![.., g * c..(g + 1) * c, .., ..]),
                &weight.slice(s![g * o..(g + 1) * o, .., .., ..]),
                bias.as_deref(),
                &options.groups(1),
            )
        })
        .collect();
    let concatenated = parts.map(|parts| {
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        concatenate(ndarray::Axis(1), &views).expect("the groups' outputs differ only in channels")
    });
    check_same_outcome(whole, concatenated)
}

fn check_bias<T: Scalar>(problem: Batched<T>, options: ConvOptions) -> Result<(), TestCaseError> {
    let (input, weight, bias, groups) = problem.into_parts();
    let Some(bias) = bias else { return Ok(()) };
    let options = options.groups(groups);
    let with = conv2d(&input, &weight, Some(&bias), &options);
    let per_channel = bias.clone().into_shape_with_order((1, bias.len(), 1, 1))?;
    let without_plus_bias = conv2d(&input, &weight, None, &options).map(|y| y + &per_channel);
    check_same_outcome(with, without_plus_bias)
}

/// `(kh, kw, a, b)`: a kernel shape and the position of its single 1.
fn delta() -> impl Strategy<Value = (usize, usize, usize, usize)> {
    (1..=MAX_KERNEL, 1..=MAX_KERNEL).prop_flat_map(|(kh, kw)| (Just(kh), Just(kw), 0..kh, 0..kw))
}

/// A single 1 at `(a, b)` picks one element of the padded input per
/// output (convolution reads the kernel rotated, with its own `Same`
/// split); `common::direct_single_channel` says which.
fn check_delta(
    x: Array2<i64>,
    (kh, kw, a, b): (usize, usize, usize, usize),
    op: Op,
    options: ConvOptions,
) -> Result<(), TestCaseError> {
    let mut k = Array2::zeros((kh, kw));
    k[[a, b]] = 1;
    check_definition(x, k, op, options)
}

/// `op` gives what `common::direct_single_channel` computes from the
/// definition, or `KernelTooLarge` where that finds no output.
fn check_definition<T: Scalar>(x: Array2<T>, k: Array2<T>, op: Op, options: ConvOptions) -> Result<(), TestCaseError> {
    prop_assume!(!is_scipy_valid_swap(
        [x.nrows(), x.ncols()],
        [k.nrows(), k.ncols()],
        &options
    ));
    let y = op.apply(&x, &k, &options);
    match direct_single_channel(&x, &k, &options, op) {
        Some(want) => check_same_outcome(y, Ok(want))?,
        None => prop_assert!(matches!(y, Err(Error::KernelTooLarge { .. })), "{y:?}"),
    }
    Ok(())
}

/// `conv2d` gives what `common::direct_conv2d` computes from the
/// definition, or `KernelTooLarge` where that finds no output.
fn check_conv2d_definition<T: Scalar>(problem: Batched<T>, options: ConvOptions) -> Result<(), TestCaseError> {
    let options = options.groups(problem.groups);
    let y = conv2d(&problem.input, &problem.weight, problem.bias.as_deref(), &options);
    match direct_conv2d(&problem, &options) {
        Some(want) => check_same_outcome(y, Ok(want))?,
        None => prop_assert!(matches!(y, Err(Error::KernelTooLarge { .. })), "{y:?}"),
    }
    Ok(())
}

/// A matrix of any `i64` values, overflow guaranteed.
fn any_i64_matrix(rows: usize, cols: usize) -> impl Strategy<Value = Array2<i64>> {
    prop::collection::vec(any::<i64>(), rows * cols)
        .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).expect("rows · cols values"))
}

proptest! {
    // No regression files: a failure prints its minimal case, which belongs
    // in a named test of its own.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(CASES) })]

    /// `convolve2d(x, k) == correlate2d(x, rot180(k))`. `Same` is left out:
    /// it splits odd padding differently for the two operations by design.
    #[test]
    fn convolution_is_correlation_with_rotated_kernel(
        x in input::<i64>(),
        k in kernel::<i64>(),
        options in options::<i64>(prop_oneof![Just(Padding::Valid), Just(Padding::Full), explicit_padding()]),
    ) {
        prop_assert_eq!(convolve2d(&x, &k, &options), correlate2d(&x, &rot180(&k), &options));
    }

    /// The complex conventions: `correlate2d` conjugates the kernel (as
    /// scipy does), so it is `convolve2d` with the kernel rotated and
    /// conjugated; `conv2d` does not (as PyTorch does not), so on one
    /// channel it is `correlate2d` with the kernel conjugated. scipy's
    /// `valid` swap is left out: there scipy, and the crate, conjugate the
    /// input instead.
    #[test]
    fn complex_kernels_follow_the_conjugation_conventions(
        x in input::<Complex64>(),
        k in kernel::<Complex64>(),
        options in options::<Complex64>(prop_oneof![Just(Padding::Full), explicit_padding()]),
    ) {
        let conj_k = k.mapv(|v| v.conj());
        let correlated = correlate2d(&x, &k, &options);
        check_same_outcome(correlated.clone(), convolve2d(&x, &rot180(&conj_k), &options))?;
        let batched = conv2d(&as_batch(&x), &as_batch(&conj_k), None, &options);
        check_same_outcome(correlated, batched.map(only_image))?;
    }

    /// `op(a·x1 + b·x2, k) == a·op(x1, k) + b·op(x2, k)`, exactly.
    #[test]
    fn linear_in_input_i64(
        xs in input_pair::<i64>(),
        k in kernel::<i64>(),
        coefficients in (i64::element(), i64::element(), i64::element()),
        op in op(),
        options in options::<i64>(any_padding()),
    ) {
        check_linear_in_input(xs, k, coefficients, op, options)?;
    }

    /// As `linear_in_input_i64`, for `f64`.
    #[test]
    fn linear_in_input_f64(
        xs in input_pair::<f64>(),
        k in kernel::<f64>(),
        coefficients in (f64::element(), f64::element(), f64::element()),
        op in op(),
        options in options::<f64>(any_padding()),
    ) {
        check_linear_in_input(xs, k, coefficients, op, options)?;
    }

    /// `op(x, a·k1 + b·k2) == a·op(x, k1) + b·op(x, k2)`, exactly.
    #[test]
    fn linear_in_kernel_i64(
        x in input::<i64>(),
        ks in kernel_pair::<i64>(),
        coefficients in (i64::element(), i64::element()),
        op in op(),
        options in options::<i64>(any_padding()),
    ) {
        check_linear_in_kernel(x, ks, coefficients, op, options)?;
    }

    /// As `linear_in_kernel_i64`, for `f64`.
    #[test]
    fn linear_in_kernel_f64(
        x in input::<f64>(),
        ks in kernel_pair::<f64>(),
        coefficients in (f64::element(), f64::element()),
        op in op(),
        options in options::<f64>(any_padding()),
    ) {
        check_linear_in_kernel(x, ks, coefficients, op, options)?;
    }

    /// Full convolution is commutative, at any stride (the full output's
    /// length `n + k - 1` is symmetric, so both subsample the same grid).
    /// No large inputs: as kernels they would cost a minute.
    #[test]
    fn full_convolution_commutes(
        x in (1..=MAX_SIDE, 1..=MAX_WIDE).prop_flat_map(|(h, w)| tensor::<i64, _>(Ix2(h, w))),
        k in matrix::<i64>(1..=MAX_SIDE),
        (sh, sw) in (1..=MAX_STRIDE, 1..=MAX_STRIDE),
        algorithm in algorithm(),
    ) {
        let options = ConvOptions::new().padding(Padding::Full).strides(sh, sw).algorithm(algorithm);
        prop_assert_eq!(convolve2d(&x, &k, &options)?, convolve2d(&k, &x, &options)?);
    }

    /// A kernel with a single 1 at `(a, b)` picks one element of the padded
    /// input per output: `y[i, j] = x̃[i·sh + a·dh, j·sw + b·dw]` for
    /// correlation, with `(a, b)` mirrored for convolution. The padded input
    /// `x̃` comes from `common::pad`, independent of the crate's boundary
    /// code; the padding amounts from `Padding::resolve`.
    #[test]
    fn delta_kernel_picks_one_padded_element(
        x in input::<i64>(),
        delta in delta(),
        op in op(),
        options in options::<i64>(any_padding()),
    ) {
        check_delta(x, delta, op, options)?;
    }

    /// `correlate2d`/`convolve2d` compute the definition in the crate docs,
    /// `y[i, j] = Σ_a Σ_b x̃[i·sh + a·dh, j·sw + b·dw] · k̂[a, b]` with `k̂`
    /// the conjugated or rotated kernel, evaluated plainly over the padded
    /// input `x̃` of `common::pad`: whatever algorithm runs.
    #[test]
    fn single_channel_results_match_the_definition_f64((x, k, op, options) in single_channel_case::<f64>()) {
        check_definition(x, k, op, options)?;
    }

    /// As `single_channel_results_match_the_definition_f64`, for complex
    /// numbers, where `correlate2d` conjugates the kernel.
    #[test]
    fn single_channel_results_match_the_definition_complex((x, k, op, options) in single_channel_case::<Complex64>()) {
        check_definition(x, k, op, options)?;
    }

    /// Integer arithmetic wraps, as numpy's does: with any `i64` values the
    /// result is the definition's wrapping sum of wrapping products, and
    /// nothing panics on overflow.
    #[test]
    fn integer_arithmetic_wraps(
        x in input_shape().prop_flat_map(|(h, w)| any_i64_matrix(h, w)),
        k in (1..=MAX_KERNEL, 1..=MAX_KERNEL).prop_flat_map(|(h, w)| any_i64_matrix(h, w)),
        fill in any::<i64>(),
        op in op(),
        options in options::<i64>(any_padding()),
    ) {
        let options = match options.boundary {
            Boundary::Constant(_) => options.boundary(Boundary::Fill(fill)),
            _ => options,
        };
        check_definition(x, k, op, options)?;
    }

    /// `conv2d` computes the definition in the crate docs, channel sums,
    /// groups and bias included, whatever algorithm runs.
    #[test]
    fn conv2d_matches_the_definition_i64(problem in batched::<i64>(), options in options::<i64>(any_padding())) {
        check_conv2d_definition(problem, options)?;
    }

    /// As `conv2d_matches_the_definition_i64`, for `f64`.
    #[test]
    fn conv2d_matches_the_definition_f64(problem in batched::<f64>(), options in options::<f64>(any_padding())) {
        check_conv2d_definition(problem, options)?;
    }

    /// Stride `(sh, sw)` keeps every `sh`-th row and `sw`-th column of the
    /// stride-1 result, for `Valid` and `Explicit` padding.
    #[test]
    fn stride_subsamples_the_unit_stride_result(
        x in input::<i64>(),
        k in kernel::<i64>(),
        op in op(),
        options in options::<i64>(prop_oneof![Just(Padding::Valid), explicit_padding()]),
    ) {
        let [sh, sw] = options.stride.of_rank::<2>().unwrap();
        let strided = op.apply(&x, &k, &options);
        let unit = op.apply(&x, &k, &options.strides(1, 1));
        match (strided, unit) {
            (Ok(strided), Ok(unit)) => {
                prop_assert_eq!(strided, unit.slice(s![..;sh, ..;sw]).to_owned());
            }
            (Err(strided), Err(unit)) => prop_assert!(
                strided == unit || matches!(unit, Error::ValidShapeMismatch { .. }),
                "stride {:?}: {strided:?}; stride 1: {unit:?}", options.stride
            ),
            // At stride 1 scipy's `valid` mode swaps a larger kernel with
            // the input; with a stride there is no swap.
            (Err(strided), Ok(_)) => {
                let unit_options = options.strides(1, 1);
                prop_assert!(is_scipy_valid_swap([x.nrows(), x.ncols()], [k.nrows(), k.ncols()], &unit_options));
                prop_assert!(matches!(strided, Error::KernelTooLarge { .. }), "{strided:?}");
            }
            (Ok(strided), Err(unit)) => {
                prop_assert!(false, "stride 1 fails ({unit:?}) but stride {:?} gives {strided:?}", options.stride);
            }
        }
    }

    /// Dilation `d` is the same as a kernel with `d - 1` zeros between taps,
    /// for every padding (`Same` and `Full` depend only on the span).
    #[test]
    fn dilation_is_a_zero_inserted_kernel(
        x in input::<i64>(),
        k in kernel::<i64>(),
        op in op(),
        options in options::<i64>(any_padding()),
    ) {
        let dilated = op.apply(&x, &k, &options);
        let spread = op.apply(&x, &zero_insert(&k, options.dilation.of_rank::<2>().unwrap()), &options.dilation(1));
        match dilated {
            Ok(dilated) => prop_assert_eq!(Ok(dilated), spread),
            // `Valid` at stride 1 may swap the spread kernel with the input,
            // which a dilated one cannot do.
            Err(e) => prop_assert!(
                matches!(e, Error::KernelTooLarge { .. }) || spread == Err(e.clone()),
                "dilated: {e:?}; spread: {spread:?}"
            ),
        }
    }

    /// `conv2d` with `groups = G` is `G` separate `conv2d` calls on the
    /// channel slices (with the matching bias slices), concatenated along
    /// the output-channel axis.
    #[test]
    fn groups_are_independent_convolutions_i64(
        problem in batched::<i64>(),
        options in options::<i64>(any_padding()),
    ) {
        check_groups(problem, options)?;
    }

    /// As `groups_are_independent_convolutions_i64`, for `f64`, where the
    /// matrix-product kernel runs too.
    #[test]
    fn groups_are_independent_convolutions_f64(
        problem in batched::<f64>(),
        options in options::<f64>(any_padding()),
    ) {
        check_groups(problem, options)?;
    }

    /// A bias adds `bias[o]` to every element of output channel `o`.
    #[test]
    fn bias_adds_per_output_channel_i64(
        problem in batched::<i64>(),
        options in options::<i64>(any_padding()),
    ) {
        check_bias(problem, options)?;
    }

    /// As `bias_adds_per_output_channel_i64`, for `f64`.
    #[test]
    fn bias_adds_per_output_channel_f64(
        problem in batched::<f64>(),
        options in options::<f64>(any_padding()),
    ) {
        check_bias(problem, options)?;
    }

    /// `conv2d` on one image, one channel, one kernel is `correlate2d`
    /// (real types, so conjugation does not matter), except where scipy's
    /// `valid` mode swaps a larger kernel with the input.
    #[test]
    fn single_channel_conv2d_is_correlate2d_i64(
        x in input::<i64>(),
        k in kernel::<i64>(),
        options in options::<i64>(any_padding()),
    ) {
        check_single_channel_conv2d(x, k, options)?;
    }

    /// As `single_channel_conv2d_is_correlate2d_i64`, for `f64`.
    #[test]
    fn single_channel_conv2d_is_correlate2d_f64(
        x in input::<f64>(),
        k in kernel::<f64>(),
        options in options::<f64>(any_padding()),
    ) {
        check_single_channel_conv2d(x, k, options)?;
    }

    /// `conv2d`'s output shape, or error, is exactly what
    /// `shape::conv2d_output_shape` predicts, for any shapes and options
    /// (zero lengths, strides, dilations, groups and channels included).
    #[test]
    fn conv2d_shape_is_predicted(
        (n, c, h, w) in (0..=MAX_BATCH, 0..=MAX_SHAPE_CHANNELS, 0..=MAX_SIDE, 0..=MAX_SIDE),
        (o, cg, kh, kw) in (0..=MAX_SHAPE_CHANNELS, 0..=MAX_SHAPE_CHANNELS, 0..=MAX_KERNEL, 0..=MAX_KERNEL),
        (sh, sw, dh, dw) in (0..=MAX_STRIDE, 0..=MAX_STRIDE, 0..=MAX_DILATION, 0..=MAX_DILATION),
        groups in 0..=MAX_GROUPS,
        padding in any_padding(),
        algorithm in algorithm(),
    ) {
        let options = ConvOptions::new()
            .strides(sh, sw)
            .dilations(dh, dw)
            .padding(padding)
            .groups(groups)
            .algorithm(algorithm);
        let input = Array4::<f64>::zeros((n, c, h, w));
        let weight = Array4::<f64>::zeros((o, cg, kh, kw));
        let predicted = conv2d_output_shape([n, c, h, w], [o, cg, kh, kw], &options);
        let got = conv2d(&input, &weight, None, &options);
        // Zeros in (no channels at all included), zeros out.
        if let Ok(y) = &got {
            prop_assert!(y.iter().all(|&v| v == 0.0), "{y:?}");
        }
        let got = got.map(|y| [y.shape()[0], y.shape()[1], y.shape()[2], y.shape()[3]]);
        prop_assert_eq!(got, predicted);
    }

    /// `correlate2d`/`convolve2d` give the shape that `AxisGeometry` and
    /// `Padding::resolve` predict, or the swapped operands' shape in scipy's
    /// `valid` mode with a kernel larger along both axes; an error exactly
    /// when no shape is predicted.
    #[test]
    fn single_channel_shape_is_predicted(
        (h, w, kh, kw) in (0..=MAX_SIDE, 0..=MAX_SIDE, 0..=MAX_SIDE, 0..=MAX_SIDE),
        (sh, sw, dh, dw) in (0..=MAX_STRIDE, 0..=MAX_STRIDE, 0..=MAX_DILATION, 0..=MAX_DILATION),
        padding in any_padding(),
        op in op(),
        algorithm in algorithm(),
    ) {
        let options = ConvOptions::new()
            .strides(sh, sw)
            .dilations(dh, dw)
            .padding(padding)
            .algorithm(algorithm);
        let predicted = predicted_2d_shape([h, w], [kh, kw], &options, op);
        let got = op.apply(&Array2::<f64>::zeros((h, w)), &Array2::zeros((kh, kw)), &options);
        match (got, predicted) {
            (Ok(y), Some(shape)) => prop_assert_eq!(y.shape(), shape),
            (Err(_), None) => {}
            (got, predicted) => prop_assert!(false, "got {got:?}, predicted {predicted:?}"),
        }
    }

    /// Input and kernel stored transposed, column-major, every other
    /// element of a larger array, or with negative strides, give the same
    /// result as standard layout.
    #[test]
    fn layout_does_not_change_single_channel_results(
        x in input::<f64>(),
        k in kernel::<f64>(),
        (input_layout, kernel_layout) in (layout(), layout()),
        op in op(),
        options in options::<f64>(any_padding()),
    ) {
        let xs = Stored::new(&x, input_layout, f64::NAN);
        let ks = Stored::new(&k, kernel_layout, f64::NAN);
        check_same_outcome(op.apply(&xs.view(), &ks.view(), &options), op.apply(&x, &k, &options))?;
    }

    /// As `layout_does_not_change_single_channel_results`, for `conv2d`.
    #[test]
    fn layout_does_not_change_conv2d_results(
        problem in batched::<f64>(),
        (input_layout, weight_layout) in (layout(), layout()),
        options in options::<f64>(any_padding()),
    ) {
        let options = options.groups(problem.groups);
        let bias = problem.bias.as_deref();
        let xs = Stored::new(&problem.input, input_layout, f64::NAN);
        let ws = Stored::new(&problem.weight, weight_layout, f64::NAN);
        check_same_outcome(
            conv2d(&xs.view(), &ws.view(), bias, &options),
            conv2d(&problem.input, &problem.weight, bias, &options),
        )?;
    }

    /// Broadcast views (stride 0: every row of the input the same, every
    /// column of the kernel the same) give the same result as owned copies.
    #[test]
    fn broadcast_views_match_owned_copies(
        (row, height) in (input::<f64>(), 1..=MAX_SIDE).prop_map(|(x, h)| (x.row(0).to_owned(), h)),
        (column, width) in (kernel::<f64>(), 1..=MAX_KERNEL).prop_map(|(k, w)| (k.column(0).to_owned(), w)),
        op in op(),
        options in options::<f64>(any_padding()),
    ) {
        let x = row.broadcast((height, row.len())).expect("a row broadcasts to rows");
        let column = column.insert_axis(ndarray::Axis(1));
        let k = column.broadcast((column.nrows(), width)).expect("a column broadcasts to columns");
        check_same_outcome(op.apply(&x, &k, &options), op.apply(&x.to_owned(), &k.to_owned(), &options))?;
    }

    /// `conv2d` of one image broadcast over the batch, through one filter
    /// broadcast over the output channels, is the owned copies' result.
    #[test]
    fn broadcast_batches_match_owned_copies(
        (image, filter) in (1..=MAX_GROUP_CHANNELS, input_shape(), (1..=MAX_KERNEL, 1..=MAX_KERNEL))
            .prop_flat_map(|(c, (h, w), (kh, kw))| (tensor::<f64, _>(Ix4(1, c, h, w)), tensor(Ix4(1, c, kh, kw)))),
        (n, o) in (1..=MAX_BATCH, 1..=MAX_GROUP_CHANNELS),
        options in options::<f64>(any_padding()),
    ) {
        let [_, c, h, w] = [image.shape()[0], image.shape()[1], image.shape()[2], image.shape()[3]];
        let [kh, kw] = [filter.shape()[2], filter.shape()[3]];
        let x = image.broadcast((n, c, h, w)).expect("one image broadcasts to a batch");
        let wt = filter.broadcast((o, c, kh, kw)).expect("one filter broadcasts to a bank");
        check_same_outcome(
            conv2d(&x, &wt, None, &options),
            conv2d(&x.to_owned(), &wt.to_owned(), None, &options),
        )?;
    }

    /// `correlate2d_into`/`convolve2d_into` write every element of a
    /// NaN-filled output in any layout, nothing around a strided view, and
    /// the allocating form's values (or return its error).
    #[test]
    fn single_channel_into_overwrites_the_whole_output(
        x in input::<f64>(),
        k in kernel::<f64>(),
        out_layout in layout(),
        op in op(),
        options in options::<f64>(any_padding()),
    ) {
        check_into(op.apply(&x, &k, &options), out_layout, |out| op.apply_into(&x, &k, &options, out))?;
    }

    /// As `single_channel_into_overwrites_the_whole_output`, for
    /// `conv2d_into`.
    #[test]
    fn conv2d_into_overwrites_the_whole_output(
        problem in batched::<f64>(),
        out_layout in layout(),
        options in options::<f64>(any_padding()),
    ) {
        let options = options.groups(problem.groups);
        let (input, weight, bias) = (&problem.input, &problem.weight, problem.bias.as_deref());
        check_into(conv2d(input, weight, bias, &options), out_layout, |out| {
            conv2d_into(input, weight, bias, &options, out)
        })?;
    }

    /// In scipy's `valid` mode a kernel at least as large as the input along
    /// both axes swaps roles with it: correlation reads the swapped result
    /// backwards, convolution (commutative) does not. Checked through the
    /// allocating and the `_into` forms, into any layout.
    #[test]
    fn scipy_valid_swaps_a_larger_kernel(
        x in matrix::<i64>(1..=MAX_SWAP_SIDE),
        excess in (0..=MAX_SWAP_EXCESS, 0..=MAX_SWAP_EXCESS),
        out_layout in layout(),
        op in op(),
        algorithm in algorithm(),
    ) {
        let kshape = (x.nrows() + excess.0, x.ncols() + excess.1);
        // Distinct entries, so that any misplaced tap shows.
        let k = Array2::from_shape_fn(kshape, |(i, j)| (i * 10 + j + 1) as i64);
        let options = ConvOptions::new().algorithm(algorithm);
        let y = op.apply(&x, &k, &options)?;
        let want = match op {
            Op::Correlate => rot180(&correlate2d(&k, &x, &options)?),
            Op::Convolve => convolve2d(&k, &x, &options)?,
        };
        prop_assert_eq!(&y, &want);
        let mut out = Stored::new(&Array2::from_elem(y.raw_dim(), i64::MIN), out_layout, i64::MIN);
        op.apply_into(&x, &k, &options, &mut out.view_mut())?;
        prop_assert_eq!(out.view(), want.view());
    }
}

proptest! {
    // Tiny cases, many of them: the geometries this property is after are
    // a small corner of the option space.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(TINY_CASES) })]

    /// As `delta_kernel_picks_one_padded_element`, on inputs of 1 to
    /// `MAX_TINY_SIDE` elements a side with strides up to `MAX_TINY_STRIDE`
    /// and lopsided padding: geometries where whole windows, and whole
    /// tiles of the fast kernels, read nothing but the boundary rule.
    #[test]
    fn windows_in_the_padding_follow_the_boundary_rule(
        x in matrix::<i64>(1..=MAX_TINY_SIDE),
        delta in delta(),
        op in op(),
        options in options::<i64>(lopsided_padding()),
        (sh, sw) in (1..=MAX_TINY_STRIDE, 1..=MAX_TINY_STRIDE),
    ) {
        check_delta(x, delta, op, options.strides(sh, sw))?;
    }
}

/// A 1-D padding and the 2-D padding of the same call on one row.
fn padding_1d() -> impl Strategy<Value = (Padding, Padding)> {
    prop_oneof![
        Just((Padding::Valid, Padding::Valid)),
        Just((Padding::Same, Padding::Same)),
        Just((Padding::Full, Padding::Full)),
        (0..=3usize, 0..=3usize).prop_map(|(left, right)| (
            Padding::Explicit1d { left, right },
            Padding::Explicit {
                top: 0,
                bottom: 0,
                left,
                right
            }
        )),
    ]
}

/// 1-D options and the 2-D options of the same call on one row (a one-row
/// kernel needs no stride, dilation or padding along the rows).
fn options_1d() -> impl Strategy<Value = (ConvOptions, ConvOptions)> {
    (
        1..=MAX_STRIDE,
        1..=MAX_DILATION,
        padding_1d(),
        boundary::<f64>(),
        algorithm(),
    )
        .prop_map(|(stride, dilation, (p1, p2), boundary, algorithm)| {
            let one = ConvOptions::new()
                .stride(stride)
                .dilation(dilation)
                .padding(p1)
                .boundary(boundary)
                .algorithm(algorithm);
            let two = ConvOptions::new()
                .strides(1, stride)
                .dilations(1, dilation)
                .padding(p2)
                .boundary(boundary)
                .algorithm(algorithm);
            (one, two)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// `conv1d`, its gradients and `correlate1d`/`convolve1d` equal the
    /// 2-D calls on a one-row input with a one-row kernel: the same values,
    /// or both an error.
    #[test]
    fn one_d_calls_are_2d_calls_on_one_row(problem in batched::<f64>(), (o1, o2) in options_1d(), op in op()) {
        let (x, w, b, groups) = problem.into_parts();
        let (o1, o2) = (o1.groups(groups), o2.groups(groups));
        let (x1, w1) = (x.slice(s![.., .., 0, ..]), w.slice(s![.., .., 0, ..]));
        let (x2, w2) = (x1.insert_axis(ndarray::Axis(2)), w1.insert_axis(ndarray::Axis(2)));
        let two = conv2d(&x2, &w2, b.as_deref(), &o2);
        match convolve::conv1d(&x1, &w1, b.as_deref(), &o1) {
            Ok(y) => prop_assert_eq!(y, two.unwrap().index_axis_move(ndarray::Axis(2), 0)),
            Err(_) => prop_assert!(two.is_err()),
        }
        if let Ok(y) = conv2d(&x2, &w2, None, &o2) {
            let g = y.mapv(|v| v.sin());
            let g1 = g.index_axis(ndarray::Axis(2), 0);
            let want = convolve::conv2d_backward(&x2, &w2, &g, &o2).unwrap();
            let got = convolve::conv1d_backward(&x1, &w1, &g1, &o1).unwrap();
            prop_assert_eq!(got.input, want.input.index_axis_move(ndarray::Axis(2), 0));
            prop_assert_eq!(got.weight, want.weight.index_axis_move(ndarray::Axis(2), 0));
            prop_assert_eq!(got.bias, want.bias);
        }
        // One signal and one kernel, single channel.
        let (signal, taps) = (x1.slice(s![0.., 0, ..]), w1.slice(s![0, 0, ..]));
        if signal.nrows() > 0 {
            let signal = signal.row(0);
            let o1 = o1.groups(1);
            let o2 = o2.groups(1);
            let (one, two) = match op {
                Op::Correlate => (
                    convolve::correlate1d(&signal, &taps, &o1),
                    correlate2d(&signal.insert_axis(ndarray::Axis(0)), &taps.insert_axis(ndarray::Axis(0)), &o2),
                ),
                Op::Convolve => (
                    convolve::convolve1d(&signal, &taps, &o1),
                    convolve2d(&signal.insert_axis(ndarray::Axis(0)), &taps.insert_axis(ndarray::Axis(0)), &o2),
                ),
            };
            match one {
                Ok(y) => prop_assert_eq!(y, two.unwrap().index_axis_move(ndarray::Axis(0), 0)),
                Err(_) => prop_assert!(two.is_err()),
            }
        }
    }

    /// `conv_transpose1d` is the adjoint of `conv1d`:
    /// `⟨conv1d(x), y⟩ = ⟨x, conv_transpose1d(y)⟩`, with the output padding
    /// that gives back `x`'s length.
    #[test]
    fn conv_transpose1d_is_the_adjoint_of_conv1d(problem in batched::<f64>(), (o1, _) in options_1d()) {
        let (x, w, _, groups) = problem.into_parts();
        let (x, w) = (x.slice(s![.., .., 0, ..]).to_owned(), w.slice(s![.., .., 0, ..]).to_owned());
        let o1 = o1.groups(groups).boundary(Boundary::Fill(0.0)).padding(match o1.padding {
            Padding::Same => Padding::Valid,
            p => p,
        });
        if let Ok(y) = convolve::conv1d(&x, &w, None, &o1) {
            let y = y.mapv(|v| v.cos());
            let [stride] = o1.stride.of_rank::<1>().unwrap();
            let [dilation] = o1.dilation.of_rank::<1>().unwrap();
            let (left, right) = match o1.padding {
                Padding::Explicit1d { left, right } => (left, right),
                Padding::Full => {
                    let e = dilation * (w.shape()[2] - 1);
                    (e, e)
                }
                _ => (0, 0),
            };
            let spare = (x.shape()[2] + left + right - dilation * (w.shape()[2] - 1) - 1) % stride;
            let xt = convolve::conv_transpose1d(&y, &w, None, &o1.output_padding(spare)).unwrap();
            prop_assert_eq!(xt.shape(), x.shape());
            let (lhs, rhs) = ((&convolve::conv1d(&x, &w, None, &o1).unwrap() * &y).sum(), (&x * &xt).sum());
            prop_assert!((lhs - rhs).abs() <= common::scalar::FLOAT_TOL * (1.0 + lhs.abs().max(rhs.abs())), "{lhs} vs {rhs}");
        }
    }
}

// The algorithms a caller can force, as the benchmarks name them (their
// `applies` is not used here).
#[allow(dead_code)]
#[path = "common/forced.rs"]
mod forced;

/// The 3-D entry points: a volume of one plane through kernels of one
/// plane is the 2-D call, bit for bit; `conv_transpose3d` is the adjoint
/// of `conv3d`; the calls are linear; every forced algorithm gives the
/// reference's values; a large volume is the sum over its depth taps of
/// `conv2d` of the planes they read.
mod rank3 {
    use super::forced;
    use super::*;
    use convolve::{
        conv2d_backward, conv3d, conv3d_backward, conv_transpose2d, conv_transpose3d, convolve3d, correlate3d,
        Algorithm, Element,
    };
    use ndarray::{Array, Array1, Array3, Array5, ArrayBase, Axis, Data, Dimension};
    use num_complex::Complex32;

    /// Cases per 3-D property: each case is a few volumes of a few hundred
    /// elements, so that every property stays within seconds in a debug
    /// build.
    const CASES_3D: u32 = 256;
    /// Largest number of planes of a random volume.
    const MAX_DEPTH: usize = 5;
    /// Largest side (rows, columns) of a random volume.
    const MAX_VOLUME_SIDE: usize = 6;
    /// Largest width of a wide random volume: past the vectorized
    /// kernel's 16 lanes.
    const MAX_VOLUME_WIDE: usize = 20;
    /// Largest side of a random 3-D kernel.
    const MAX_KERNEL_3D: usize = 3;
    /// Largest dilation along each axis of a 3-D case.
    const MAX_DILATION_3D: usize = 2;
    /// Largest explicit padding on one side of a 3-D case.
    const MAX_PAD_3D: usize = 3;
    /// The nonzero fill value among the boundary rules of a 3-D case.
    const FILL_3D: f64 = 0.75;
    /// `f64` results of two algorithms, relative to `max(1, max|reference|)`.
    const ALGORITHM_TOL: f64 = 1e-12;
    /// `f32` results against the `f64` reference, relatively as above.
    const SINGLE_TOL: f64 = 1e-4;

    /// A batched 3-D problem: shapes, options and the seed of its values.
    #[derive(Clone, Debug)]
    struct VolumeCase {
        /// `[N, C, D, H, W]`.
        input: [usize; 5],
        /// `[O, C / groups, kd, kh, kw]`.
        weight: [usize; 5],
        /// With the groups of `input` and `weight`.
        options: ConvOptions,
        seed: u64,
    }

    impl VolumeCase {
        fn arrays(&self) -> (Array5<f64>, Array5<f64>, Array1<f64>) {
            let x = seeded(self.input, self.seed);
            let w = seeded(self.weight, self.seed ^ 1);
            let b = seeded(self.weight[0], self.seed ^ 2);
            (x, w, b)
        }
    }

    /// `Padding::Explicit3d` with every side in `0..=MAX_PAD_3D`.
    fn explicit_3d() -> impl Strategy<Value = Padding> {
        prop::array::uniform(0..=MAX_PAD_3D).prop_map(|[front, back, top, bottom, left, right]| Padding::Explicit3d {
            front,
            back,
            top,
            bottom,
            left,
            right,
        })
    }

    /// Per-axis strides and dilations, any padding and boundary rule.
    fn options_3d(padding: impl Strategy<Value = Padding>) -> impl Strategy<Value = ConvOptions> {
        (
            prop::array::uniform(1..=MAX_STRIDE),
            prop::array::uniform(1..=MAX_DILATION_3D),
            padding,
            boundary_with_fill(FILL_3D),
        )
            .prop_map(|([sd, sh, sw], [dd, dh, dw], padding, boundary)| {
                ConvOptions::new()
                    .strides3d(sd, sh, sw)
                    .dilations3d(dd, dh, dw)
                    .padding(padding)
                    .boundary(boundary)
            })
    }

    fn any_padding_3d() -> impl Strategy<Value = Padding> {
        prop_oneof![
            Just(Padding::Valid),
            Just(Padding::Same),
            Just(Padding::Full),
            explicit_3d()
        ]
    }

    /// A consistent batched 3-D problem: small volumes, now and then wide
    /// ones with enough output channels per group for the matrix product.
    fn volume_case(options: impl Strategy<Value = ConvOptions>) -> impl Strategy<Value = VolumeCase> {
        let small = (1..=MAX_GROUP_CHANNELS, 1..=MAX_VOLUME_SIDE);
        let wide = (Just(MANY_OUTPUTS_PER_GROUP), MAX_VOLUME_SIDE..=MAX_VOLUME_WIDE);
        (
            (1..=MAX_BATCH, 1..=MAX_GROUPS, 1..=MAX_GROUP_CHANNELS),
            prop_oneof![4 => small, 1 => wide],
            (1..=MAX_DEPTH, 1..=MAX_VOLUME_SIDE),
            prop::array::uniform(1..=MAX_KERNEL_3D),
            options,
            any::<u64>(),
        )
            .prop_map(
                |((n, g, cg), (og, w), (d, h), [kd, kh, kw], options, seed)| VolumeCase {
                    input: [n, g * cg, d, h, w],
                    weight: [g * og, cg, kd, kh, kw],
                    options: options.groups(g),
                    seed,
                },
            )
    }

    fn max_abs<S: Data<Elem = f64>, D: Dimension>(a: &ArrayBase<S, D>) -> f64 {
        a.iter().fold(1.0, |m, v| m.max(v.abs()))
    }

    /// Every element within `tol · max(1, max|want|)`.
    fn close_to<D: Dimension>(got: &Array<f64, D>, want: &Array<f64, D>, tol: f64) -> bool {
        let bound = tol * max_abs(want);
        got.shape() == want.shape() && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= bound)
    }

    /// 2-D options as 3-D options of a call whose volume and kernels have
    /// one plane: the given depth stride and dilation (which one plane
    /// cannot feel), no padding along the depth. scipy's plain `valid`
    /// mode (stride and dilation 1 along every axis, where a larger kernel
    /// swaps with the input) stays plain.
    fn lifted(options: ConvOptions, depth_stride: usize, depth_dilation: usize) -> ConvOptions {
        let [sh, sw] = options.stride.of_rank::<2>().expect("2-D strides");
        let [dh, dw] = options.dilation.of_rank::<2>().expect("2-D dilations");
        let plain_valid = options.padding == Padding::Valid && [sh, sw, dh, dw] == [1; 4];
        let (depth_stride, depth_dilation) = if plain_valid {
            (1, 1)
        } else {
            (depth_stride, depth_dilation)
        };
        let padding = match options.padding {
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => Padding::Explicit3d {
                front: 0,
                back: 0,
                top,
                bottom,
                left,
                right,
            },
            other => other,
        };
        options
            .strides3d(depth_stride, sh, sw)
            .dilations3d(depth_dilation, dh, dw)
            .padding(padding)
    }

    /// Both `Ok` and equal, or both errors of the same kind (their values
    /// name two or three axes).
    fn check_same_bits<T: Element, D: Dimension>(
        three: convolve::Result<Array<T, D>>,
        two: convolve::Result<Array<T, D>>,
    ) -> Result<(), TestCaseError> {
        match (three, two) {
            (Ok(three), Ok(two)) => prop_assert_eq!(three, two),
            (Err(three), Err(two)) => prop_assert_eq!(
                std::mem::discriminant(&three),
                std::mem::discriminant(&two),
                "{:?} vs {:?}",
                three,
                two
            ),
            (three, two) => prop_assert!(false, "3-D {:?}, 2-D {:?}", three.map(|_| ()), two.map(|_| ())),
        }
        Ok(())
    }

    /// `correlate3d`/`convolve3d` on one plane against `correlate2d`/
    /// `convolve2d`. In scipy's `valid` swap `scipy.signal.correlate` (and
    /// `correlate3d`) conjugates a complex result, `correlate2d` does not.
    fn check_one_plane_signal<T: Scalar>(
        x: Array2<T>,
        k: Array2<T>,
        op: Op,
        options: ConvOptions,
        (sd, dd): (usize, usize),
    ) -> Result<(), TestCaseError> {
        let options3 = lifted(options, sd, dd);
        let (x3, k3) = (x.view().insert_axis(Axis(0)), k.view().insert_axis(Axis(0)));
        let three = match op {
            Op::Correlate => correlate3d(&x3, &k3, &options3),
            Op::Convolve => convolve3d(&x3, &k3, &options3),
        };
        let mut two = op.apply(&x, &k, &options);
        if op == Op::Correlate && is_scipy_valid_swap([x.nrows(), x.ncols()], [k.nrows(), k.ncols()], &options) {
            two = two.map(|y| y.mapv(|v| v.conj()));
        }
        check_same_bits(three.map(|y| y.index_axis_move(Axis(0), 0)), two)
    }

    /// `conv3d`, its gradients and `conv_transpose3d` on volumes of one
    /// plane with kernels of one plane against the 2-D calls: bit for bit,
    /// but for the weight gradient's order of summation over the images.
    fn check_one_plane_batched(
        problem: Batched<f64>,
        options: ConvOptions,
        (sd, dd): (usize, usize),
    ) -> Result<(), TestCaseError> {
        let (x, w, b, groups) = problem.into_parts();
        let options = options.groups(groups);
        let options3 = lifted(options, sd, dd);
        let (x3, w3) = (x.view().insert_axis(Axis(2)), w.view().insert_axis(Axis(2)));
        let planar = |y: Array5<f64>| y.index_axis_move(Axis(2), 0);
        check_same_bits(
            conv3d(&x3, &w3, b.as_deref(), &options3).map(planar),
            conv2d(&x, &w, b.as_deref(), &options),
        )?;
        let Ok(y) = conv2d(&x, &w, None, &options) else {
            return Ok(());
        };
        let g = y.mapv(|v| v.sin());
        let g3 = g.view().insert_axis(Axis(2));
        let want = conv2d_backward(&x, &w, &g, &options).expect("the forward pass is valid");
        let got = conv3d_backward(&x3, &w3, &g3, &options3).expect("the forward pass is valid");
        prop_assert_eq!(planar(got.input), want.input);
        // The 3-D weight gradient adds the images' partial sums one by one,
        // which rounds differently from the 2-D sum over the batch.
        let weight = planar(got.weight);
        prop_assert!(
            close_to(&weight, &want.weight, ALGORITHM_TOL),
            "{:?}\nvs {:?}",
            weight,
            want.weight
        );
        prop_assert_eq!(got.bias, want.bias);
        // The transposed convolution from the forward output back: `w`
        // read as `[C_in, C_out / groups, kh, kw]`.
        check_same_bits(
            conv_transpose3d(&g3, &w3, b.as_deref(), &options3).map(planar),
            conv_transpose2d(&g, &w, b.as_deref(), &options),
        )
    }

    /// `a·op(x1) + b·op(x2)` and `op(a·x1 + b·x2)`: the same values, or
    /// the same error.
    fn check_linear<D: Dimension>(
        y1: convolve::Result<Array<f64, D>>,
        y2: convolve::Result<Array<f64, D>>,
        y12: convolve::Result<Array<f64, D>>,
        (a, b): (f64, f64),
    ) -> Result<(), TestCaseError> {
        let want = y1.and_then(|y1| Ok(y1 * a + y2? * b));
        check_same_outcome(y12, want)
    }

    /// The input plane (or `None`, the fill value) each padded plane along
    /// the depth reads: a row of plane indices padded by `common::pad`.
    fn depth_sources(planes: usize, (front, back): (usize, usize), boundary: &Boundary) -> Vec<Option<usize>> {
        let indices = Array2::from_shape_fn((1, planes), |(_, j)| j as f64);
        let rule = match boundary {
            Boundary::Constant(_) => Boundary::Fill(-1.0),
            other => *other,
        };
        let unpadded = convolve::shape::AxisGeometry::new(1, 1);
        let depth = convolve::shape::AxisGeometry::new(planes, 1).padding(front, back);
        let padded = pad(&indices, &unpadded, &depth, &rule);
        padded.iter().map(|&v| (v >= 0.0).then_some(v as usize)).collect()
    }

    /// `conv3d` by its definition over the depth: output plane `z` is the
    /// bias plus, over the depth taps `t`, `conv2d` of the padded plane
    /// `z·sd + t·dd` (an input plane, or a plane of the fill value) with
    /// the tap's `[O, C / groups, kh, kw]` weights.
    fn by_planes(
        x: &Array5<f64>,
        w: &Array5<f64>,
        bias: &Array1<f64>,
        pads: [(usize, usize); 3],
        options: &ConvOptions,
    ) -> Array5<f64> {
        let [sd, sh, sw] = options.stride.of_rank::<3>().expect("3-D strides");
        let [dd, dh, dw] = options.dilation.of_rank::<3>().expect("3-D dilations");
        let [(front, back), (top, bottom), (left, right)] = pads;
        let planar = ConvOptions::new()
            .strides(sh, sw)
            .dilations(dh, dw)
            .padding(Padding::Explicit {
                top,
                bottom,
                left,
                right,
            })
            .groups(options.groups)
            .boundary(options.boundary);
        let [n, c, d, h, width] = [0, 1, 2, 3, 4].map(|i| x.shape()[i]);
        let taps = w.shape()[2];
        let sources = depth_sources(d, (front, back), &options.boundary);
        let out_depth = (sources.len() - dd * (taps - 1) - 1) / sd + 1;
        let fill = options.boundary.fill::<f64>().unwrap_or(0.0);
        let mut planes = Vec::new();
        for z in 0..out_depth {
            let mut sum: Option<Array4<f64>> = None;
            for t in 0..taps {
                let plane = match sources[z * sd + t * dd] {
                    Some(p) => x.index_axis(Axis(2), p).to_owned(),
                    None => Array4::from_elem((n, c, h, width), fill),
                };
                let y = conv2d(&plane, &w.index_axis(Axis(2), t), None, &planar).expect("a valid 2-D problem");
                sum = Some(sum.map_or_else(|| y.clone(), |s| s + &y));
            }
            let bias = bias
                .view()
                .into_shape_with_order((1, bias.len(), 1, 1))
                .expect("one value per channel");
            planes.push(sum.expect("at least one tap") + bias);
        }
        let views: Vec<_> = planes.iter().map(|p| p.view().insert_axis(Axis(2))).collect();
        concatenate(Axis(2), &views).expect("planes of one shape")
    }

    /// Volumes large enough that the tap-by-tap path adds its partial sums
    /// over several buffers of planes, and that the stacked path copies
    /// large planes: `conv3d` gives `by_planes`'s values.
    #[test]
    fn large_volumes_are_sums_of_2d_convolutions_over_the_depth_taps() {
        let cases = [
            // Two groups (tap by tap), 4 · 96 · 96 outputs a plane: the
            // 8 output planes take two buffers.
            (
                [1, 2, 8, 96, 96],
                [4, 1, 3, 3, 3],
                ConvOptions::new()
                    .groups(2)
                    .padding(Padding::uniform3d(1))
                    .boundary(Boundary::Reflect),
                [(1, 1); 3],
            ),
            // Dilated along the depth with two channels (tap by tap), planes
            // of the fill value in front.
            (
                [1, 2, 14, 64, 64],
                [8, 2, 2, 3, 3],
                ConvOptions::new()
                    .dilations3d(2, 1, 1)
                    .padding(Padding::Explicit3d {
                        front: 1,
                        back: 0,
                        top: 1,
                        bottom: 1,
                        left: 1,
                        right: 1,
                    })
                    .boundary(Boundary::Fill(0.5)),
                [(1, 0), (1, 1), (1, 1)],
            ),
            // One group (the taps stacked as channels), strided.
            (
                [2, 3, 6, 80, 70],
                [4, 3, 3, 3, 3],
                ConvOptions::new()
                    .strides3d(2, 2, 1)
                    .padding(Padding::Explicit3d {
                        front: 2,
                        back: 1,
                        top: 0,
                        bottom: 2,
                        left: 1,
                        right: 1,
                    })
                    .boundary(Boundary::Replicate),
                [(2, 1), (0, 2), (1, 1)],
            ),
        ];
        for (seed, (input, weight, options, pads)) in cases.into_iter().enumerate() {
            let seed = seed as u64;
            let (x, w, b) = (
                seeded(input, seed),
                seeded(weight, seed ^ 1),
                seeded(weight[0], seed ^ 2),
            );
            let want = by_planes(&x, &w, &b, pads, &options);
            for alg in [Algorithm::Auto, Algorithm::Direct] {
                let got = conv3d(&x, &w, Some(&b), &options.algorithm(alg)).unwrap();
                assert!(close_to(&got, &want, ALGORITHM_TOL), "case {seed}, {alg:?}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(CASES_3D) })]

        /// `correlate3d`/`convolve3d` of a volume of one plane with a
        /// kernel of one plane are `correlate2d`/`convolve2d`, bit for bit,
        /// whatever the options (and the depth's stride and dilation), or
        /// both an error; for `f64`, complex and integer elements.
        #[test]
        fn one_plane_signal_calls_are_2d_calls(
            (x, k, op, options) in single_channel_case::<f64>(),
            (xc, kc) in (input::<Complex64>(), kernel::<Complex64>()),
            (xi, ki, options_i) in (input::<i64>(), kernel::<i64>(), options::<i64>(any_padding())),
            depth in (1..=MAX_STRIDE, 1..=MAX_DILATION_3D),
        ) {
            check_one_plane_signal(x, k, op, options, depth)?;
            check_one_plane_signal(xc, kc, op, options, depth)?;
            check_one_plane_signal(xi, ki, op, options_i, depth)?;
        }

        /// `conv3d`, `conv3d_backward` and `conv_transpose3d` of volumes of
        /// one plane with kernels of one plane are the 2-D calls, bit for
        /// bit (the weight gradient to rounding), or both an error.
        #[test]
        fn one_plane_batched_calls_are_2d_calls(
            problem in batched::<f64>(),
            options in options::<f64>(any_padding()),
            depth in (1..=MAX_STRIDE, 1..=MAX_DILATION_3D),
        ) {
            check_one_plane_batched(problem, options, depth)?;
        }

        /// `⟨conv3d(x, w), y⟩ = ⟨x, conv_transpose3d(y, w)⟩` for every
        /// linear boundary rule, with the output padding that gives back
        /// `x`'s shape.
        #[test]
        fn conv_transpose3d_is_the_adjoint_of_conv3d(
            case in volume_case(options_3d(prop_oneof![Just(Padding::Valid), Just(Padding::Full), explicit_3d()])),
            algorithm in algorithm(),
        ) {
            let mut opts = case.options.algorithm(algorithm);
            if let Boundary::Constant(_) = opts.boundary {
                opts.boundary = Boundary::Fill(0.0);
            }
            let (x, w, _) = case.arrays();
            let Ok(forward) = conv3d(&x, &w, None, &opts) else { return Ok(()) };
            let y = seeded(forward.raw_dim(), case.seed ^ 4);
            let strides = opts.stride.of_rank::<3>().expect("3-D strides");
            let dilations = opts.dilation.of_rank::<3>().expect("3-D dilations");
            let sides = match opts.padding {
                Padding::Valid => [(0, 0); 3],
                Padding::Full => [0, 1, 2].map(|a| {
                    let e = dilations[a] * (case.weight[2 + a] - 1);
                    (e, e)
                }),
                Padding::Explicit3d { front, back, top, bottom, left, right } => {
                    [(front, back), (top, bottom), (left, right)]
                }
                other => unreachable!("not drawn: {other:?}"),
            };
            let spare = [0, 1, 2].map(|a| {
                let extent = dilations[a] * (case.weight[2 + a] - 1) + 1;
                (case.input[2 + a] + sides[a].0 + sides[a].1 - extent) % strides[a]
            });
            let xt = conv_transpose3d(&y, &w, None, &opts.output_paddings3d(spare[0], spare[1], spare[2]))?;
            prop_assert_eq!(xt.shape(), x.shape());
            let (lhs, rhs) = ((&forward * &y).sum(), (&x * &xt).sum());
            prop_assert!((lhs - rhs).abs() <= common::scalar::FLOAT_TOL * (1.0 + lhs.abs().max(rhs.abs())), "{} vs {}", lhs, rhs);
        }

        /// `conv3d` is linear in the input (the fill of a constant boundary
        /// scaling with it) and in the weights.
        #[test]
        fn conv3d_is_linear(
            case in volume_case(options_3d(any_padding_3d())),
            (a, b) in (f64::element(), f64::element()),
            algorithm in algorithm(),
        ) {
            let opts = case.options.algorithm(algorithm);
            let (x1, w1, bias) = case.arrays();
            let x2 = seeded(case.input, case.seed ^ 5);
            let w2 = seeded(case.weight, case.seed ^ 6);
            // A fill value pads like the input it pads.
            let (b2, b12) = match opts.boundary {
                Boundary::Constant(_) => {
                    let c1 = opts.boundary.fill::<f64>().expect("an f64 fill");
                    (Boundary::Fill(-0.5), Boundary::Fill(a * c1 - 0.5 * b))
                }
                other => (other, other),
            };
            check_linear(
                conv3d(&x1, &w1, None, &opts),
                conv3d(&x2, &w1, None, &opts.boundary(b2)),
                conv3d(&(&x1 * a + &x2 * b), &w1, None, &opts.boundary(b12)),
                (a, b),
            )?;
            // The bias is added once: linear in (w, bias) together.
            check_linear(
                conv3d(&x1, &w1, Some(&bias), &opts),
                conv3d(&x1, &w2, Some(&bias), &opts),
                conv3d(&x1, &(&w1 * a + &w2 * b), Some(&(&bias * (a + b))), &opts),
                (a, b),
            )?;
        }

        /// `correlate3d`/`convolve3d` are linear in the input, exactly for
        /// integers (the fill of a constant boundary scaling with it).
        #[test]
        fn correlate3d_and_convolve3d_are_linear_in_the_input(
            shapes in ([1..=MAX_DEPTH, 1..=MAX_VOLUME_SIDE, 1..=MAX_VOLUME_WIDE], prop::array::uniform(1..=MAX_KERNEL_3D)),
            (a, b, c2) in (i64::element(), i64::element(), i64::element()),
            op in op(),
            options in options_3d(any_padding_3d()),
            seed in any::<u64>(),
        ) {
            let ([d, h, w], kernel) = shapes;
            let integers = |shape: [usize; 3], salt: u64| -> Array3<i64> {
                seeded(shape, seed ^ salt).mapv(|v| (v * MAX_INT as f64).round() as i64)
            };
            let (x1, x2, k) = (integers([d, h, w], 0), integers([d, h, w], 1), integers(kernel, 2));
            let options = match options.boundary {
                Boundary::Constant(_) => options.boundary(Boundary::Fill(3i64)),
                _ => options,
            };
            let (b2, b12) = match options.boundary {
                Boundary::Constant(_) => (Boundary::Fill(c2), Boundary::Fill(a * 3 + b * c2)),
                other => (other, other),
            };
            let apply = |x: &Array3<i64>, options: &ConvOptions| match op {
                Op::Correlate => correlate3d(x, &k, options),
                Op::Convolve => convolve3d(x, &k, options),
            };
            let want = apply(&x1, &options).and_then(|y1| Ok(y1 * a + apply(&x2, &options.boundary(b2))? * b));
            prop_assert_eq!(apply(&(&x1 * a + &x2 * b), &options.boundary(b12)), want);
        }

        /// Every algorithm a caller can force gives `conv3d` (and its
        /// gradients) the values of `Algorithm::Direct`, in `f64` within
        /// `ALGORITHM_TOL` and in `f32` within `SINGLE_TOL`, or the same
        /// error.
        #[test]
        fn every_forced_algorithm_matches_direct_for_conv3d(
            case in volume_case(options_3d(any_padding_3d())),
            has_bias in any::<bool>(),
        ) {
            let (x, w, b) = case.arrays();
            let bias = has_bias.then_some(&*b);
            let direct = case.options.algorithm(Algorithm::Direct);
            let reference = conv3d(&x, &w, bias, &direct);
            let Ok(reference) = reference else {
                for alg in forced::ALGORITHMS {
                    prop_assert_eq!(&conv3d(&x, &w, bias, &case.options.algorithm(alg)), &reference);
                }
                return Ok(());
            };
            let g = seeded(reference.raw_dim(), case.seed ^ 3);
            let grads = conv3d_backward(&x, &w, &g, &direct)?;
            let single = |a: &Array5<f64>| a.mapv(|v| v as f32);
            let (xf, wf, bf) = (single(&x), single(&w), b.mapv(|v| v as f32));
            let widened = |a: Array5<f32>| a.mapv(f64::from);
            for alg in forced::ALGORITHMS {
                let opts = case.options.algorithm(alg);
                let got = conv3d(&x, &w, bias, &opts)?;
                prop_assert!(close_to(&got, &reference, ALGORITHM_TOL), "{:?}: {:?}\nvs {:?}", alg, got, reference);
                let got = conv3d_backward(&x, &w, &g, &opts)?;
                prop_assert!(close_to(&got.input, &grads.input, ALGORITHM_TOL), "{:?} input gradient", alg);
                prop_assert!(close_to(&got.weight, &grads.weight, ALGORITHM_TOL), "{:?} weight gradient", alg);
                prop_assert_eq!(&got.bias, &grads.bias);
                // The f64 fill rounds to the nearest f32, as `v as f32` does.
                let got32 = conv3d(&xf, &wf, has_bias.then_some(&*bf), &opts)?;
                prop_assert!(close_to(&widened(got32), &reference, SINGLE_TOL), "{:?} f32", alg);
            }
            // Complex elements: real and imaginary parts carry two problems.
            let complex = |a: &Array5<f64>| a.mapv(|v| Complex32::new(v as f32, -0.5 * v as f32));
            let want = conv3d(&complex(&x), &complex(&w), None, &direct)?;
            for alg in forced::ALGORITHMS {
                let got = conv3d(&complex(&x), &complex(&w), None, &case.options.algorithm(alg))?;
                let parts = |a: &Array5<Complex32>| (a.mapv(|v| f64::from(v.re)), a.mapv(|v| f64::from(v.im)));
                let ((got_re, got_im), (want_re, want_im)) = (parts(&got), parts(&want));
                prop_assert!(close_to(&got_re, &want_re, SINGLE_TOL), "{:?} complex, real part", alg);
                prop_assert!(close_to(&got_im, &want_im, SINGLE_TOL), "{:?} complex, imaginary part", alg);
            }
        }
    }
}
