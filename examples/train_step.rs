//! A training loop: one convolution layer, Leaky ReLU, a mean squared
//! error against the output of a hidden "teacher" layer, the backward pass
//! through both, and plain SGD, over batches of generated images.
//!
//! One `Conv2dPlan` serves every step: it takes the last, smaller batch as
//! it comes (60 images in batches of 16: 16, 16, 16, 12), and gets the new
//! weights after each step with `set_weight`, so nothing is planned twice.
//!
//! Run with `cargo run --release --example train_step`.

use convolve::activations::{leaky_relu_backward_inplace, leaky_relu_inplace};
use convolve::{conv2d, Conv2dGradsMut, Conv2dPlan, ConvOptions, Padding, Result};
use ndarray::{s, Array1, Array4, Axis};

// The data: 60 RGB images of 16 × 16, in batches of 16, through 8 filters.
const IMAGES: usize = 60;
const BATCH: usize = 16;
const CHANNELS: usize = 3;
const SIDE: usize = 16;
const FILTERS: usize = 8;

/// Deterministic values in [-1, 1): an image set and weights that are the
/// same on every run.
fn pseudo_random(shape: (usize, usize, usize, usize), seed: u64) -> Array4<f32> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    Array4::from_shape_simple_fn(shape, || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    })
}

// Training: the Leaky ReLU's slope, SGD's step and the passes over the data.
const SLOPE: f32 = 0.1;
const LEARNING_RATE: f32 = 0.2;
const EPOCHS: usize = 30;

fn main() -> Result<()> {
    let options = ConvOptions::new().padding(Padding::Same);
    let images = pseudo_random((IMAGES, CHANNELS, SIDE, SIDE), 1);
    // The targets: what a layer with other weights makes of the images.
    let teacher = pseudo_random((FILTERS, CHANNELS, 3, 3), 2) * 0.3;
    let mut targets = conv2d(&images, &teacher, None, &options)?;
    leaky_relu_inplace(&mut targets, SLOPE);

    let mut weight = pseudo_random((FILTERS, CHANNELS, 3, 3), 3) * 0.3;
    let mut bias = Array1::<f32>::zeros(FILTERS);
    let mut plan = Conv2dPlan::new([BATCH, CHANNELS, SIDE, SIDE], &weight, Some(&bias), &options)?;

    // Buffers for the largest batch; a smaller one uses a slice of each.
    let mut pre = Array4::<f32>::zeros(plan.output_shape());
    let mut grad = Array4::<f32>::zeros(plan.output_shape());
    let mut grad_weight = Array4::<f32>::zeros(weight.raw_dim());
    let mut grad_bias = Array1::<f32>::zeros(FILTERS);

    println!("epoch   loss");
    let mut first_loss = None;
    let mut loss = f32::NAN;
    for epoch in 0..EPOCHS {
        let mut total = 0.0;
        for start in (0..IMAGES).step_by(BATCH) {
            let end = (start + BATCH).min(IMAGES);
            let x = images.slice(s![start..end, .., .., ..]);
            let target = targets.slice(s![start..end, .., .., ..]);
            let mut pre = pre.slice_mut(s![..end - start, .., .., ..]);
            let mut grad = grad.slice_mut(s![..end - start, .., .., ..]);

            // Forward: y = leaky_relu(conv2d(x, w) + b).
            plan.run_into(&x, &mut pre)?;
            let mut y = pre.to_owned();
            leaky_relu_inplace(&mut y, SLOPE);

            // Loss: mean squared error over the whole dataset's elements.
            let scale = 1.0 / (IMAGES * FILTERS * SIDE * SIDE) as f32;
            let diff = &y - &target;
            total += diff.mapv(|d| d * d).sum() * scale;

            // Backward: ∂L/∂y = 2·(y − t)·scale, through the activation,
            // then through the convolution to the weights and bias.
            grad.assign(&(diff * (2.0 * scale)));
            leaky_relu_backward_inplace(&pre, &mut grad, SLOPE)?;
            let grads = Conv2dGradsMut {
                weight: Some(grad_weight.view_mut()),
                bias: Some(grad_bias.view_mut()),
                ..Conv2dGradsMut::none()
            };
            plan.backward_into(&x, &grad, grads)?;

            // SGD, and the plan takes the new weights in place.
            weight.scaled_add(-LEARNING_RATE * IMAGES as f32 / (end - start) as f32, &grad_weight);
            bias.scaled_add(-LEARNING_RATE * IMAGES as f32 / (end - start) as f32, &grad_bias);
            plan.set_weight(&weight)?;
            plan.set_bias(Some(&bias))?;
        }
        loss = total;
        first_loss.get_or_insert(loss);
        if epoch % 5 == 0 || epoch == EPOCHS - 1 {
            println!("{epoch:5}   {loss:.6}");
        }
    }
    let first = first_loss.unwrap_or(loss);
    println!("loss {first:.6} -> {loss:.6}");
    assert!(loss < 0.5 * first, "the loss should fall by half at least");
    let per_filter = grad_weight.sum_axis(Axis(0));
    assert!(per_filter.iter().all(|g| g.is_finite()));
    Ok(())
}
