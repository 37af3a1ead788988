//! The convolution engine. The public entry points live in
//! [`single_channel`] (scipy's `correlate2d`/`convolve2d`), [`batched`]
//! (PyTorch's `conv2d`), [`backward`] (its gradients), [`transpose`]
//! (`conv_transpose2d`), [`plan`] (`Conv2dPlan`), [`rank1`] (the 1-D
//! forms of all of those, the rank-1 case of the same engine) and [`rank3`]
//! (the 3-D forms, sums over their depth taps of 2-D problems, [`depth`]);
//! all of them check
//! their arguments once in [`problem`] and run through the [`planner`]'s
//! choice among the [`kernels`], which share [`exec`] and [`boundary`].
//! `docs/architecture.md` draws the map.

mod backward;
mod batched;
mod boundary;
mod depth;
mod element;
mod exec;
mod kernels;
mod plan;
mod planner;
mod problem;
mod rank1;
mod rank3;
mod single_channel;
mod transpose;

pub use backward::{
    conv2d_backward, conv2d_backward_into, Conv1dGrads, Conv1dGradsMut, Conv2dGrads, Conv2dGradsMut, Conv3dGrads,
    Conv3dGradsMut, ConvGrads, ConvGradsMut,
};
pub use batched::{conv2d, conv2d_algorithm, conv2d_into};
pub use element::{Element, Float};
pub use plan::Conv2dPlan;
pub use rank1::{
    conv1d, conv1d_algorithm, conv1d_backward, conv1d_backward_into, conv1d_into, conv_transpose1d,
    conv_transpose1d_into, convolve1d, convolve1d_into, correlate1d, correlate1d_into,
};
pub use rank3::{
    conv3d, conv3d_algorithm, conv3d_backward, conv3d_backward_into, conv3d_into, conv_transpose3d,
    conv_transpose3d_into, convolve3d, convolve3d_into, correlate3d, correlate3d_into,
};
pub use single_channel::{
    convolve2d, convolve2d_algorithm, convolve2d_into, correlate2d, correlate2d_algorithm, correlate2d_into,
};
pub use transpose::{conv_transpose2d, conv_transpose2d_into};
