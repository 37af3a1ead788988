//! Outputs too large for memory are an `Error::OutOfMemory` naming their
//! size, from every entry point that allocates one, instead of an abort.
//!
//! A 1×1 input padded by 2^22 on every side gives (2^23 + 1)² outputs:
//! 2^48 bytes and more, beyond the address space of today's 64-bit
//! processors, so the allocator refuses it whatever the operating system's
//! overcommit policy. (A padding of 2^20, a 17.6 TB output, is refused the
//! same way wherever the allocator does not overcommit that much.)

use convolve::{
    conv2d, conv2d_backward, conv_transpose2d, convolve2d, correlate2d, Conv2dPlan, ConvOptions, Error, Padding,
};
use ndarray::{Array2, Array4};

const PAD: usize = 1 << 22;
const SIDE: usize = 2 * PAD + 1;

fn huge_padding() -> ConvOptions {
    ConvOptions::new().padding(Padding::uniform(PAD))
}

fn assert_out_of_memory<T: std::fmt::Debug>(result: convolve::Result<T>, bytes: usize) {
    match result {
        Err(Error::OutOfMemory { what, bytes: got }) => {
            assert_eq!(got, bytes, "{what}");
            let message = Error::OutOfMemory { what, bytes }.to_string();
            assert!(message.contains(&bytes.to_string()), "{message}");
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
}

#[test]
fn conv2d_output() {
    let x = Array4::<f32>::ones((1, 1, 1, 1));
    let w = Array4::<f32>::ones((1, 1, 1, 1));
    assert_out_of_memory(conv2d(&x, &w, None, &huge_padding()), SIDE * SIDE * 4);
}

#[test]
fn correlate2d_and_convolve2d_outputs() {
    let x = Array2::<f64>::ones((1, 1));
    let k = Array2::<f64>::ones((1, 1));
    assert_out_of_memory(correlate2d(&x, &k, &huge_padding()), SIDE * SIDE * 8);
    assert_out_of_memory(convolve2d(&x, &k, &huge_padding()), SIDE * SIDE * 8);
    // Integers allocate the same way.
    let xi = Array2::<i32>::ones((1, 1));
    assert_out_of_memory(correlate2d(&xi, &xi, &huge_padding()), SIDE * SIDE * 4);
}

#[test]
fn plan_output() {
    let w = Array4::<f64>::ones((2, 1, 1, 1));
    let plan = Conv2dPlan::new([1, 1, 1, 1], &w, None, &huge_padding()).unwrap();
    assert_eq!(plan.output_shape(), [1, 2, SIDE, SIDE]);
    assert_out_of_memory(plan.run(&Array4::ones((1, 1, 1, 1))), 2 * SIDE * SIDE * 8);
}

#[test]
fn conv_transpose2d_output() {
    // Stride 2^23 spreads a 2×2 input over (2^23 + 1)² outputs.
    let x = Array4::<f32>::ones((1, 1, 2, 2));
    let w = Array4::<f32>::ones((1, 1, 1, 1));
    let opts = ConvOptions::new().stride(1 << 23);
    let side = (1 << 23) + 1;
    assert_out_of_memory(conv_transpose2d(&x, &w, None, &opts), side * side * 4);
}

#[test]
fn conv2d_backward_gradients() {
    // A broadcast input of 2^46 elements takes no memory; its gradient
    // would take 2^48 bytes.
    let one = Array4::<f32>::ones((1, 1, 1, 1));
    let side = 1 << 23;
    let x = one.broadcast((1, 1, side, side)).unwrap();
    let w = Array4::<f32>::ones((1, 1, 1, 1));
    let g = one.broadcast((1, 1, side, side)).unwrap();
    let result = conv2d_backward(&x, &w, &g, &ConvOptions::new());
    assert_out_of_memory(result, side * side * 4);
}
