//! The convolution engine. The public entry points live in
//! [`single_channel`] (scipy's `correlate2d`/`convolve2d`), [`batched`]
//! (PyTorch's `conv2d`), [`backward`] (its gradients), [`transpose`]
//! (`conv_transpose2d`) and [`plan`] (`Conv2dPlan`); all of them check
//! their arguments once in [`problem`] and run through the [`planner`]'s
//! choice among the [`kernels`], which share [`exec`] and [`boundary`].
//! `docs/architecture.md` draws the map.

mod backward;
mod batched;
mod boundary;
mod element;
mod exec;
mod kernels;
mod plan;
mod planner;
mod problem;
mod single_channel;
mod transpose;

pub use backward::{conv2d_backward, conv2d_backward_into, Conv2dGrads, Conv2dGradsMut};
pub use batched::{conv2d, conv2d_algorithm, conv2d_into};
pub use element::{Element, Float};
pub use plan::Conv2dPlan;
pub use single_channel::{
    convolve2d, convolve2d_algorithm, convolve2d_into, correlate2d, correlate2d_algorithm, correlate2d_into,
};
pub use transpose::{conv_transpose2d, conv_transpose2d_into};
