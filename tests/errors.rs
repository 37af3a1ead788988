//! Every error a caller can provoke: the exact variant, its fields, and
//! for a few the message. Each call here must return an error, never
//! panic, and leave an `_into` output untouched.

use convolve::shape::{receptive_fields, AxisGeometry, Layer};
use convolve::{
    conv2d, conv2d_into, convolve2d, convolve2d_into, correlate2d, correlate2d_into, Axis, ConvOptions, Error, Padding,
};
use ndarray::{array, Array1, Array2, Array4};

fn opts() -> ConvOptions {
    ConvOptions::new()
}

fn ones2(rows: usize, cols: usize) -> Array2<f64> {
    Array2::ones((rows, cols))
}

fn ones4(shape: [usize; 4]) -> Array4<f64> {
    Array4::ones(shape)
}

/// `correlate2d` and `convolve2d` both give `expected`.
fn assert_single_channel_error(x: &Array2<f64>, k: &Array2<f64>, options: &ConvOptions, expected: Error) {
    assert_eq!(correlate2d(x, k, options), Err(expected.clone()), "correlate2d");
    assert_eq!(convolve2d(x, k, options), Err(expected), "convolve2d");
}

#[test]
fn zero_stride_names_the_axis() {
    let (x, k) = (ones2(5, 5), ones2(3, 3));
    for (rows, cols, axis) in [(0, 1, Axis::Height), (1, 0, Axis::Width), (0, 0, Axis::Height)] {
        let options = opts().strides(rows, cols);
        assert_single_channel_error(&x, &k, &options, Error::ZeroStride { axis });
        let y = conv2d(&ones4([1, 1, 5, 5]), &ones4([1, 1, 3, 3]), None, &options);
        assert_eq!(y, Err(Error::ZeroStride { axis }));
    }
    let err = correlate2d(&x, &k, &opts().strides(1, 0)).unwrap_err();
    assert_eq!(err.to_string(), "stride along the width axis must be at least 1, got 0");
}

#[test]
fn zero_dilation_names_the_axis() {
    let (x, k) = (ones2(5, 5), ones2(3, 3));
    for (rows, cols, axis) in [(0, 1, Axis::Height), (1, 0, Axis::Width)] {
        let options = opts().dilations(rows, cols);
        assert_single_channel_error(&x, &k, &options, Error::ZeroDilation { axis });
        let y = conv2d(&ones4([1, 1, 5, 5]), &ones4([1, 1, 3, 3]), None, &options);
        assert_eq!(y, Err(Error::ZeroDilation { axis }));
    }
    let err = correlate2d(&x, &k, &opts().dilations(0, 1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dilation along the height axis must be at least 1, got 0"
    );
}

#[test]
fn zero_groups() {
    let y = conv2d(&ones4([1, 2, 4, 4]), &ones4([2, 1, 3, 3]), None, &opts().groups(0));
    assert_eq!(y, Err(Error::ZeroGroups));
    assert_single_channel_error(&ones2(4, 4), &ones2(3, 3), &opts().groups(0), Error::ZeroGroups);
}

#[test]
fn groups_must_divide_the_input_channels() {
    // C = 3 is not a multiple of 2 groups.
    let y = conv2d(&ones4([1, 3, 4, 4]), &ones4([2, 1, 3, 3]), None, &opts().groups(2));
    let expected = Error::GroupsMismatch {
        groups: 2,
        channels: 3,
        what: "input",
    };
    assert_eq!(y, Err(expected.clone()));
    assert_eq!(expected.to_string(), "groups = 2 does not divide the 3 input channels");
}

#[test]
fn groups_must_divide_the_output_channels() {
    // C = 4 splits into 2 groups of 2, but O = 3 does not.
    let y = conv2d(&ones4([1, 4, 4, 4]), &ones4([3, 2, 3, 3]), None, &opts().groups(2));
    assert_eq!(
        y,
        Err(Error::GroupsMismatch {
            groups: 2,
            channels: 3,
            what: "output",
        })
    );
}

#[test]
fn weight_channels_must_be_c_over_groups() {
    // C = 4, groups = 2: each weight should see 2 channels, not 3.
    let y = conv2d(&ones4([1, 4, 4, 4]), &ones4([2, 3, 3, 3]), None, &opts().groups(2));
    assert_eq!(y, Err(Error::WeightChannels { expected: 2, got: 3 }));
    // With one group, every input channel.
    let y = conv2d(&ones4([1, 4, 4, 4]), &ones4([2, 1, 3, 3]), None, &opts());
    let err = y.unwrap_err();
    assert_eq!(err, Error::WeightChannels { expected: 4, got: 1 });
    assert_eq!(
        err.to_string(),
        "the weight has 1 input channels per group, expected C / groups = 4"
    );
}

#[test]
fn bias_needs_one_element_per_output_channel() {
    let (x, w) = (ones4([1, 1, 4, 4]), ones4([2, 1, 3, 3]));
    let bias = Array1::ones(3);
    let expected = Error::BiasLength { expected: 2, got: 3 };
    assert_eq!(conv2d(&x, &w, Some(&bias), &opts()), Err(expected.clone()));
    let mut out = Array4::from_elem((1, 2, 2, 2), f64::NAN);
    assert_eq!(
        conv2d_into(&x, &w, Some(&bias), &opts(), &mut out),
        Err(expected.clone())
    );
    assert!(out.iter().all(|v| v.is_nan()), "the output was written: {out:?}");
    assert_eq!(
        expected.to_string(),
        "the bias has 3 elements, expected one per output channel (2)"
    );
}

#[test]
fn empty_kernel_names_the_axis() {
    let x = ones2(4, 4);
    for (shape, axis) in [((0, 3), Axis::Height), ((3, 0), Axis::Width), ((0, 0), Axis::Height)] {
        let k = Array2::zeros(shape);
        for padding in [Padding::Valid, Padding::Same, Padding::Full, Padding::uniform(1)] {
            assert_single_channel_error(&x, &k, &opts().padding(padding), Error::EmptyKernel { axis });
        }
    }
    let y = conv2d(&ones4([1, 1, 4, 4]), &ones4([1, 1, 3, 0]), None, &opts());
    assert_eq!(y, Err(Error::EmptyKernel { axis: Axis::Width }));
}

#[test]
fn empty_input_is_an_error_whatever_the_padding() {
    let k = ones2(3, 3);
    for (shape, axis) in [((0, 4), Axis::Height), ((4, 0), Axis::Width)] {
        let x = Array2::zeros(shape);
        for padding in [Padding::Valid, Padding::Same, Padding::Full, Padding::uniform(2)] {
            assert_single_channel_error(&x, &k, &opts().padding(padding), Error::EmptyInput { axis });
        }
    }
    for padding in [Padding::Same, Padding::Full] {
        let y = conv2d(
            &ones4([1, 1, 0, 4]),
            &ones4([1, 1, 3, 3]),
            None,
            &opts().padding(padding),
        );
        assert_eq!(y, Err(Error::EmptyInput { axis: Axis::Height }));
        let y = conv2d(
            &ones4([1, 1, 4, 0]),
            &ones4([1, 1, 3, 3]),
            None,
            &opts().padding(padding),
        );
        assert_eq!(y, Err(Error::EmptyInput { axis: Axis::Width }));
    }
    assert_eq!(
        Error::EmptyInput { axis: Axis::Width }.to_string(),
        "the input is empty along the width axis"
    );
}

#[test]
fn empty_batch_is_not_an_error() {
    let y = conv2d(&ones4([0, 2, 5, 5]), &ones4([3, 2, 3, 3]), None, &opts()).unwrap();
    assert_eq!(y.shape(), [0, 3, 3, 3]);
}

#[test]
fn kernel_too_large_reports_extent_and_padded_input() {
    // Explicit zero padding is not scipy's `valid` mode: no role swap.
    let options = opts().padding(Padding::uniform(0));
    let expected = Error::KernelTooLarge {
        axis: Axis::Height,
        kernel_extent: 5,
        padded_input: 3,
    };
    assert_single_channel_error(&ones2(3, 3), &ones2(5, 5), &options, expected.clone());
    assert_eq!(
        expected.to_string(),
        "the kernel spans 5 elements along the height axis but the padded input has only 3"
    );

    // A stride also rules out the swap.
    let expected = Error::KernelTooLarge {
        axis: Axis::Width,
        kernel_extent: 4,
        padded_input: 3,
    };
    assert_single_channel_error(&ones2(5, 3), &ones2(3, 4), &opts().stride(2), expected.clone());

    // Dilation 3 stretches 2 taps over 4 inputs; padding 1 + 1 makes 6 rows,
    // but only 2 + 0 columns.
    let options = opts().dilation(3).padding(Padding::Explicit {
        top: 1,
        bottom: 1,
        left: 0,
        right: 0,
    });
    let expected = Error::KernelTooLarge {
        axis: Axis::Width,
        kernel_extent: 4,
        padded_input: 2,
    };
    assert_single_channel_error(&ones2(4, 2), &ones2(2, 2), &options, expected.clone());

    // conv2d never swaps.
    let y = conv2d(&ones4([1, 1, 3, 3]), &ones4([1, 1, 4, 4]), None, &opts());
    assert_eq!(
        y,
        Err(Error::KernelTooLarge {
            axis: Axis::Height,
            kernel_extent: 4,
            padded_input: 3,
        })
    );
}

#[test]
fn scipy_valid_rejects_a_kernel_larger_along_one_axis_only() {
    let expected = Error::ValidShapeMismatch {
        input: vec![3, 5],
        kernel: vec![4, 2],
    };
    assert_single_channel_error(&ones2(3, 5), &ones2(4, 2), &opts(), expected.clone());
    let message = expected.to_string();
    assert!(message.contains("[4, 2]") && message.contains("[3, 5]"), "{message}");

    // Larger along both axes is scipy's swap, not an error.
    assert_eq!(correlate2d(&ones2(3, 5), &ones2(4, 6), &opts()).unwrap().dim(), (2, 2));
}

#[test]
fn padding_that_overflows() {
    let options = opts().padding(Padding::Explicit {
        top: usize::MAX,
        bottom: 1,
        left: 0,
        right: 0,
    });
    let expected = Error::Overflow {
        what: "the padded input length",
    };
    assert_single_channel_error(&ones2(3, 3), &ones2(2, 2), &options, expected.clone());
    let y = conv2d(&ones4([1, 1, 3, 3]), &ones4([1, 1, 2, 2]), None, &options);
    assert_eq!(y, Err(expected.clone()));
    assert_eq!(
        expected.to_string(),
        "arithmetic overflow while computing the padded input length"
    );
}

#[test]
fn dilation_that_overflows() {
    let expected = Error::Overflow {
        what: "the dilated kernel extent",
    };
    let options = opts().dilations(1, usize::MAX);
    assert_single_channel_error(&ones2(3, 3), &ones2(2, 2), &options, expected.clone());
    let y = conv2d(&ones4([1, 1, 3, 3]), &ones4([1, 1, 2, 2]), None, &options);
    assert_eq!(y, Err(expected));
}

#[test]
fn output_too_large_to_count_or_allocate() {
    // Each side padded by a quarter of the address space: about 2^63 rows
    // and as many columns, whose product does not fit.
    let quarter = usize::MAX / 4;
    let options = opts().padding(Padding::uniform(quarter));
    let elements = Error::Overflow {
        what: "the number of output elements",
    };
    assert_single_channel_error(&ones2(3, 3), &ones2(1, 1), &options, elements.clone());
    let y = conv2d(&ones4([1, 1, 3, 3]), &ones4([1, 1, 1, 1]), None, &options);
    assert_eq!(y, Err(elements));

    // 2^31 × 2^31 = 2^62 elements fit in isize, but not 2^62 f64s in bytes.
    let side = 1usize << 31;
    let options = opts().padding(Padding::Explicit {
        top: side - 1,
        bottom: 0,
        left: side - 1,
        right: 0,
    });
    let bytes = Error::Overflow {
        what: "the output size in bytes",
    };
    assert_single_channel_error(&ones2(1, 1), &ones2(1, 1), &options, bytes.clone());
    let y = conv2d(&ones4([1, 1, 1, 1]), &ones4([1, 1, 1, 1]), None, &options);
    assert_eq!(y, Err(bytes));
}

#[test]
fn into_with_the_wrong_shape_leaves_the_output_untouched() {
    let (x, k) = (ones2(4, 5), ones2(2, 2));
    let expected = Error::ShapeMismatch {
        what: "the output",
        expected: vec![3, 4],
        got: vec![4, 3],
    };
    let mut out = Array2::from_elem((4, 3), f64::NAN);
    assert_eq!(correlate2d_into(&x, &k, &opts(), &mut out), Err(expected.clone()));
    assert!(out.iter().all(|v| v.is_nan()), "correlate2d_into wrote {out:?}");
    assert_eq!(convolve2d_into(&x, &k, &opts(), &mut out), Err(expected.clone()));
    assert!(out.iter().all(|v| v.is_nan()), "convolve2d_into wrote {out:?}");
    assert_eq!(expected.to_string(), "the output has shape [4, 3], expected [3, 4]");

    // The right shape, transposed, is still the wrong shape.
    let mut base = Array2::from_elem((3, 4), f64::NAN);
    let mut transposed = base.view_mut().reversed_axes();
    assert!(correlate2d_into(&x, &k, &opts(), &mut transposed).is_err());
    assert!(base.iter().all(|v| v.is_nan()));

    let mut out = Array4::from_elem((1, 2, 3, 3), f64::NAN);
    let y = conv2d_into(&ones4([1, 1, 4, 5]), &ones4([2, 1, 2, 2]), None, &opts(), &mut out);
    assert_eq!(
        y,
        Err(Error::ShapeMismatch {
            what: "the output",
            expected: vec![1, 2, 3, 4],
            got: vec![1, 2, 3, 3],
        })
    );
    assert!(out.iter().all(|v| v.is_nan()), "conv2d_into wrote {out:?}");
}

#[test]
fn single_channel_operations_take_one_group_only() {
    let expected = Error::GroupsSingleChannel { groups: 2 };
    assert_single_channel_error(&ones2(4, 4), &ones2(2, 2), &opts().groups(2), expected.clone());
    let mut out = Array2::from_elem((3, 3), f64::NAN);
    assert_eq!(
        correlate2d_into(&ones2(4, 4), &ones2(2, 2), &opts().groups(2), &mut out),
        Err(expected)
    );
    assert!(out.iter().all(|v| v.is_nan()));
}

#[test]
fn integer_arrays_report_errors_too() {
    // The error path does not depend on the element type.
    let y = correlate2d(&array![[1i64, 2], [3, 4]], &array![[1i64, 2, 3]], &ConvOptions::new());
    assert_eq!(
        y,
        Err(Error::ValidShapeMismatch {
            input: vec![2, 2],
            kernel: vec![1, 3],
        })
    );
}

#[test]
fn transposed_output_padding_must_be_below_stride_or_dilation() {
    let g = AxisGeometry::new(4, 3).along(Axis::Width).stride(2).dilation(1);
    let expected = Error::OutputPaddingTooLarge {
        axis: Axis::Width,
        output_padding: 2,
        stride: 2,
        dilation: 1,
    };
    assert_eq!(g.transposed_output_len(2), Err(expected.clone()));
    assert_eq!(
        expected.to_string(),
        "output padding 2 along the width axis must be smaller than the stride (2) or the dilation (1)"
    );
    // Below the dilation is enough.
    assert!(g.dilation(3).transposed_output_len(2).is_ok());
}

#[test]
fn transposed_padding_must_leave_something() {
    // One input, one tap: the full output has 1 element; padding 1 + 1 removes 2.
    let g = AxisGeometry::new(1, 1).padding(1, 1);
    assert_eq!(
        g.transposed_output_len(0),
        Err(Error::PaddingTooLarge {
            axis: Axis::Height,
            padding: 2,
            available: 1,
        })
    );
    assert_eq!(
        AxisGeometry::new(0, 3).transposed_output_len(0),
        Err(Error::EmptyInput { axis: Axis::Height })
    );
}

#[test]
fn unreachable_output_lengths() {
    let g = AxisGeometry::new(0, 3).along(Axis::Width);
    assert_eq!(
        g.input_len_for_output(0),
        Err(Error::UnreachableOutput {
            axis: Axis::Width,
            wanted: 0,
        })
    );
    // Padding 4 + 4 around nothing already holds 8 - 3 + 1 = 6 windows of 3,
    // and every longer input holds more.
    let padded = g.padding(4, 4);
    let expected = Error::UnreachableOutput {
        axis: Axis::Width,
        wanted: 5,
    };
    assert_eq!(padded.input_len_for_output(5), Err(expected.clone()));
    assert_eq!(
        expected.to_string(),
        "no input length gives 5 outputs along the width axis with these settings"
    );
}

#[test]
fn receptive_fields_reject_bad_layers() {
    let layers = [Layer::new(3), Layer::new(3).stride(0)];
    assert_eq!(receptive_fields(&layers), Err(Error::ZeroStride { axis: Axis::Height }));
    assert_eq!(
        receptive_fields(&[Layer::new(0)]),
        Err(Error::EmptyKernel { axis: Axis::Height })
    );
    assert_eq!(
        receptive_fields(&[Layer::new(3).dilation(0)]),
        Err(Error::ZeroDilation { axis: Axis::Height })
    );
    // Strides of 2^32 twice: the jump 2^64 does not fit.
    let huge = Layer::new(1).stride(1 << 32);
    assert_eq!(
        receptive_fields(&[huge, huge]),
        Err(Error::Overflow {
            what: "the receptive field",
        })
    );
}

#[test]
fn shape_arithmetic_overflows_name_what_they_computed() {
    use convolve::shape::Operation;

    // The last of ceil(n / 1) = n windows of 2 taps ends one past usize::MAX.
    let g = AxisGeometry::new(usize::MAX, 2);
    assert_eq!(
        Padding::Same.resolve(g, Operation::CrossCorrelation),
        Err(Error::Overflow {
            what: "the 'same' padding",
        })
    );
    // (2^63 - 1)·2 + 3 > usize::MAX.
    let g = AxisGeometry::new(1 << 63, 3).stride(2);
    assert_eq!(
        g.transposed_output_len(0),
        Err(Error::Overflow {
            what: "the transposed output length",
        })
    );
    assert_eq!(
        g.input_len_for_output(1 << 63),
        Err(Error::Overflow {
            what: "the input length for an output length",
        })
    );
}

#[test]
fn activation_gradients_need_the_input_shape() {
    use convolve::activations::{
        leaky_relu_backward, leaky_relu_backward_inplace, relu_backward, relu_backward_inplace,
    };

    let x = Array2::<f64>::ones((2, 3));
    let expected = Error::ShapeMismatch {
        what: "the upstream gradient",
        expected: vec![2, 3],
        got: vec![3, 2],
    };
    let grad = Array2::<f64>::ones((3, 2));
    assert_eq!(relu_backward(&x, &grad), Err(expected.clone()));
    assert_eq!(leaky_relu_backward(&x, &grad, 0.1), Err(expected.clone()));

    let mut grad = Array2::from_elem((3, 2), f64::NAN);
    assert_eq!(relu_backward_inplace(&x, &mut grad), Err(expected.clone()));
    assert_eq!(leaky_relu_backward_inplace(&x, &mut grad, 0.1), Err(expected.clone()));
    assert!(grad.iter().all(|v| v.is_nan()), "the gradient was written: {grad:?}");
    assert_eq!(
        expected.to_string(),
        "the upstream gradient has shape [3, 2], expected [2, 3]"
    );
}

#[test]
fn transposed_convolution_errors() {
    use convolve::shape::conv_transpose2d_output_shape;
    use convolve::{conv_transpose2d, conv_transpose2d_into};

    // The weight is [C_in, C_out / groups, kh, kw]: its first axis must be 3.
    let x = ones4([1, 3, 4, 4]);
    let expected = Error::TransposedWeight { expected: 3, got: 2 };
    assert_eq!(
        conv_transpose2d(&x, &ones4([2, 1, 3, 3]), None, &opts()),
        Err(expected.clone())
    );
    assert_eq!(
        expected.to_string(),
        "the transposed convolution's weight has 2 input channels, expected 3"
    );

    let w = ones4([3, 2, 3, 3]);
    let expected = Error::Unsupported {
        what: "Padding::Same in a transposed convolution",
    };
    assert_eq!(
        conv_transpose2d(&x, &w, None, &opts().padding(Padding::Same)),
        Err(expected.clone())
    );
    assert_eq!(
        expected.to_string(),
        "Padding::Same in a transposed convolution is not supported"
    );

    assert_eq!(
        conv_transpose2d(&x, &w, None, &opts().groups(2)),
        Err(Error::GroupsMismatch {
            groups: 2,
            channels: 3,
            what: "input",
        })
    );
    // Output padding 1 is neither below stride 1 nor below dilation 1.
    assert_eq!(
        conv_transpose2d(&x, &w, None, &opts().output_paddings(0, 1)),
        Err(Error::OutputPaddingTooLarge {
            axis: Axis::Width,
            output_padding: 1,
            stride: 1,
            dilation: 1,
        })
    );
    // One pixel through a 1×1 kernel makes 1 row; padding 1 + 1 removes 2.
    let y = conv_transpose2d(
        &ones4([1, 1, 1, 1]),
        &ones4([1, 1, 1, 1]),
        None,
        &opts().padding(Padding::uniform(1)),
    );
    assert_eq!(
        y,
        Err(Error::PaddingTooLarge {
            axis: Axis::Height,
            padding: 2,
            available: 1,
        })
    );
    assert_eq!(
        conv_transpose2d(&x, &w, Some(&Array1::ones(3)), &opts()),
        Err(Error::BiasLength { expected: 2, got: 3 })
    );

    // (4 − 1) + 3 = 6 rows and columns, 2 output channels.
    let mut out = Array4::from_elem((1, 2, 6, 5), f64::NAN);
    assert_eq!(
        conv_transpose2d_into(&x, &w, None, &opts(), &mut out),
        Err(Error::ShapeMismatch {
            what: "the output",
            expected: vec![1, 2, 6, 6],
            got: vec![1, 2, 6, 5],
        })
    );
    assert!(out.iter().all(|v| v.is_nan()), "conv_transpose2d_into wrote {out:?}");

    // groups · C_out/groups output channels overflow, with no channels in.
    let options = opts().groups(usize::MAX);
    assert_eq!(
        conv_transpose2d_output_shape([1, 0, 4, 4], [0, 2, 1, 1], &options),
        Err(Error::Overflow {
            what: "the output channels",
        })
    );
}

#[test]
fn plans_check_the_input_and_output_shapes() {
    use convolve::Conv2dPlan;

    let w = ones4([2, 1, 3, 3]);
    assert_eq!(
        Conv2dPlan::new([1, 1, 5, 5], &w, Some(&Array1::ones(3)), &opts()).unwrap_err(),
        Error::BiasLength { expected: 2, got: 3 }
    );
    let plan = Conv2dPlan::new([1, 1, 5, 5], &w, None, &opts()).unwrap();
    assert_eq!(
        plan.run(&ones4([1, 1, 5, 6])),
        Err(Error::ShapeMismatch {
            what: "the input",
            expected: vec![1, 1, 5, 5],
            got: vec![1, 1, 5, 6],
        })
    );
    let mut out = Array4::from_elem((1, 2, 3, 4), f64::NAN);
    assert_eq!(
        plan.run_into(&ones4([1, 1, 5, 5]), &mut out),
        Err(Error::ShapeMismatch {
            what: "the output",
            expected: vec![1, 2, 3, 3],
            got: vec![1, 2, 3, 4],
        })
    );
    assert!(out.iter().all(|v| v.is_nan()), "run_into wrote {out:?}");
}

#[test]
fn backward_checks_the_gradient_shapes() {
    use convolve::{conv2d_backward, conv2d_backward_into, Conv2dGradsMut};

    let (x, w) = (ones4([1, 1, 4, 4]), ones4([2, 1, 3, 3]));
    assert_eq!(
        conv2d_backward(&x, &w, &ones4([1, 2, 2, 3]), &opts()),
        Err(Error::ShapeMismatch {
            what: "the output gradient",
            expected: vec![1, 2, 2, 2],
            got: vec![1, 2, 2, 3],
        })
    );
    let mut dx = Array4::from_elem((1, 1, 4, 5), f64::NAN);
    let mut dw = Array4::from_elem((2, 1, 3, 3), f64::NAN);
    let grads = Conv2dGradsMut {
        input: Some(dx.view_mut()),
        weight: Some(dw.view_mut()),
        ..Conv2dGradsMut::none()
    };
    assert_eq!(
        conv2d_backward_into(&x, &w, &ones4([1, 2, 2, 2]), &opts(), grads),
        Err(Error::ShapeMismatch {
            what: "the input gradient",
            expected: vec![1, 1, 4, 4],
            got: vec![1, 1, 4, 5],
        })
    );
    // Nothing is written, not even the gradients of the right shape.
    assert!(dx.iter().chain(&dw).all(|v| v.is_nan()));
}
