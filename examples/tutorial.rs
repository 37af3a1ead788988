//! The tutorial on convolutional networks this crate grew out of, worked
//! with the crate: output sizes, batching, cross-correlation versus
//! convolution, and ReLU versus Leaky ReLU.
//!
//! Run with `cargo run --release --example tutorial`.

use convolve::activations::{dead_relu_fraction, leaky_relu, leaky_relu_derivative, relu, relu_derivative};
use convolve::shape::{conv2d_output_shape, AxisGeometry};
use convolve::{convolve2d, correlate2d, ConvOptions, Result};
use ndarray::{array, Array2};

fn print_matrix(name: &str, m: &Array2<f64>) {
    println!("{name}:");
    for row in m.rows() {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:6.2}")).collect();
        println!("    [{}]", cells.join(", "));
    }
}

fn main() -> Result<()> {
    println!("== Output size ==");
    // An image of 224x224x3 through 96 kernels of 11x11 at stride 4, no padding.
    let side = AxisGeometry::new(224, 11).stride(4).output_len()?;
    println!("224x224x3 through 96 kernels 11x11, stride 4: (224 - 11) / 4 + 1 = {side}");
    println!("output volume: {side}x{side}x96");

    let batch = 8;
    let opts = ConvOptions::new().stride(4);
    let [n, o, h, w] = conv2d_output_shape([batch, 3, 224, 224], [96, 3, 11, 11], &opts)?;
    println!(
        "a batch of {batch} images (NCHW [{batch}, 3, 224, 224]) gives [{n}, {o}, {h}, {w}], i.e. {n}x{h}x{w}x{o}"
    );

    println!();
    println!("== Question 1a: cross-correlation versus convolution ==");
    let x = array![
        [0.1, 0.2, 0.1, 0.1, 0.0],
        [0.8, 0.9, 1.0, 1.0, 0.9],
        [1.0, 1.0, 1.0, 1.0, 1.0],
        [0.9, 1.0, 1.0, 0.8, 1.0],
        [0.0, 0.1, 0.1, 0.2, 0.0],
    ];
    let kernel = array![[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]];
    let valid = ConvOptions::new();
    print_matrix("x", &x);
    print_matrix("W", &kernel);
    print_matrix("cross-correlation (valid)", &correlate2d(&x, &kernel, &valid)?);
    print_matrix("convolution (valid)", &convolve2d(&x, &kernel, &valid)?);
    println!(
        "Convolution rotates W by 180 degrees first. This W is antisymmetric under that\n\
         rotation (rot180(W) = -W), so the two results are negatives of each other;\n\
         for a general kernel they are unrelated. CNNs compute cross-correlation and\n\
         call it convolution: the kernel is learned, so learning the rotated kernel\n\
         is just as easy, and skipping the rotation saves work and confusion."
    );

    println!();
    println!("== ReLU versus Leaky ReLU ==");
    let z = array![-2.0, -0.5, 0.0, 0.5, 2.0];
    let slope = 0.1;
    println!("z                    = {z}");
    println!("relu(z)              = {}", relu(&z));
    println!("relu'(z)             = {}", relu_derivative(&z));
    println!("leaky_relu(z, {slope})   = {}", leaky_relu(&z, slope));
    println!("leaky_relu'(z, {slope})  = {}", leaky_relu_derivative(&z, slope));
    if let Some(dead) = dead_relu_fraction(&z) {
        println!("units passing no gradient through ReLU: {:.0}%", 100.0 * dead);
    }
    println!(
        "ReLU passes no gradient for z <= 0, so a unit stuck there stops learning\n\
         (a \"dying ReLU\"); Leaky ReLU keeps a small slope there. With slope 1,\n\
         leaky_relu(z, 1) = {} is the identity: the layer is linear, and a stack\n\
         of linear layers is one linear map, so the network loses its nonlinearity.",
        leaky_relu(&z, 1.0)
    );
    Ok(())
}
