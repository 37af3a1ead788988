//! Gradients of [`conv2d`](crate::conv2d): [`conv2d_backward`] and
//! [`conv2d_backward_into`]; the transposed convolution shares the input
//! gradient ([`input::input_gradient`]).
//!
//! With `y = conv2d(x, w) + b` and an upstream gradient `g = ∂L/∂y`:
//!
//! - `∂L/∂b[o] = Σ_{n,i,j} g[n, o, i, j]`;
//! - `∂L/∂w[o, c, a, b] = Σ_{n,i,j} g[n, o, i, j] · x̃[n, c', i·sh + a·dh, j·sw + b·dw]`,
//!   a correlation of the padded input with the gradient (the fill value
//!   of [`Boundary::Fill`](crate::Boundary::Fill) counts, as it is part of `x̃`);
//! - `∂L/∂x` scatters each `g[n, o, i, j] · w[o, c, a, b]` back to the
//!   padded position it came from, then folds the padding onto the input
//!   pixels it copied (for `Wrap`, `Symmetric`, `Reflect`, `Replicate`; a
//!   fill value is a constant and receives nothing). This is the transposed
//!   convolution.
//!
//! The fast path computes the padded-input gradient as a forward
//! convolution of the stride-upsampled gradient with the transposed,
//! rotated weights, using the same kernels as the forward pass, and the
//! weight gradient as blocked matrix products of the gradient with the
//! input patches.

mod input;
mod weight;

pub(crate) use input::input_gradient;
pub(crate) use weight::weight_gradient;

/// Buffers the gradients reuse between calls. A
/// [`Conv2dPlan`](crate::Conv2dPlan) keeps one, so that its backward
/// passes allocate nothing once warm; the free functions make a new one
/// per call.
pub(crate) struct BackwardWorkspace<A> {
    /// The forward kernels' buffers, for the transposed problem of the
    /// input gradient.
    forward: Workspace<A>,
    /// Buffers as large as a whole call's arrays, one set per call.
    whole: Pool<Whole<A>>,
    /// One set per parallel task of col2im and of the weight gradient.
    tasks: Workspace<A>,
}

impl<A> Default for BackwardWorkspace<A> {
    fn default() -> Self {
        BackwardWorkspace {
            forward: Workspace::default(),
            whole: Pool::default(),
            tasks: Workspace::default(),
        }
    }
}

/// The whole-call buffers of a [`BackwardWorkspace`].
struct Whole<A> {
    /// The weights of the transposed problem.
    weights: Vec<A>,
    /// The input gradient with its padding, before the padding is folded
    /// back or cropped.
    padded: Vec<A>,
    /// The weight gradient's partial sums, one per block.
    partials: Vec<A>,
    /// The transposed weights packed for the micro-kernel.
    packed: Option<PackedWeights<A>>,
}

impl<A> Default for Whole<A> {
    fn default() -> Self {
        Whole {
            weights: Vec::new(),
            padded: Vec::new(),
            partials: Vec::new(),
            packed: None,
        }
    }
}

use ndarray::{
    Array, Array1, ArrayRef4, ArrayView, ArrayView4, ArrayViewMut, ArrayViewMut1, Axis, Dimension, Ix3, Ix4, Ix5,
    RemoveAxis,
};

use super::element::{Element, Float};
use super::exec::microkernel::PackedWeights;
use super::exec::scratch::{Pool, Workspace};
use super::problem::{check_shape, zeros, Problem};
use crate::error::Result;
use crate::options::ConvOptions;

/// The three gradients of a batched convolution, as [`conv2d_backward`]
/// ([`Conv2dGrads`]) and [`conv1d_backward`](crate::conv1d_backward)
/// ([`Conv1dGrads`]) return them; `D` is the arrays' dimension.
///
/// # Examples
///
/// ```
/// use convolve::{conv2d_backward, ConvOptions};
/// use ndarray::Array4;
///
/// let x = Array4::<f64>::ones((1, 1, 3, 3));
/// let w = Array4::<f64>::ones((2, 1, 2, 2));
/// let grads = conv2d_backward(&x, &w, &Array4::ones((1, 2, 2, 2)), &ConvOptions::new())?;
/// assert_eq!(grads.bias.to_vec(), [4.0, 4.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConvGrads<A, D: Dimension> {
    /// `∂L/∂x`, shaped like the input (`[N, C, H, W]` in 2-D).
    pub input: Array<A, D>,
    /// `∂L/∂w`, shaped like the weight (`[O, C/groups, kh, kw]` in 2-D).
    pub weight: Array<A, D>,
    /// `∂L/∂b`, one per output channel.
    pub bias: Array1<A>,
}

/// The gradients of [`conv2d`](crate::conv2d).
pub type Conv2dGrads<A> = ConvGrads<A, Ix4>;

/// The gradients of [`conv1d`](crate::conv1d).
pub type Conv1dGrads<A> = ConvGrads<A, Ix3>;

/// The gradients of [`conv3d`](crate::conv3d).
pub type Conv3dGrads<A> = ConvGrads<A, Ix5>;

/// Where [`conv2d_backward_into`] ([`Conv2dGradsMut`]) and
/// [`conv1d_backward_into`](crate::conv1d_backward_into)
/// ([`Conv1dGradsMut`]) write each gradient; a `None` gradient is not
/// computed at all (no weight gradient when only the input is being
/// optimized, no input gradient for a network's first layer).
///
/// # Examples
///
/// ```
/// use convolve::Conv2dGradsMut;
/// use ndarray::Array4;
///
/// let mut weight_grad = Array4::<f32>::zeros((8, 3, 3, 3));
/// let only_weight = Conv2dGradsMut { weight: Some(weight_grad.view_mut()), ..Conv2dGradsMut::none() };
/// assert!(only_weight.input.is_none() && only_weight.bias.is_none());
/// ```
#[derive(Debug)]
pub struct ConvGradsMut<'a, A, D: Dimension> {
    /// Receives `∂L/∂x` (`[N, C, H, W]` in 2-D), any layout.
    pub input: Option<ArrayViewMut<'a, A, D>>,
    /// Receives `∂L/∂w` (`[O, C/groups, kh, kw]` in 2-D), any layout.
    pub weight: Option<ArrayViewMut<'a, A, D>>,
    /// Receives `∂L/∂b` (`[O]`).
    pub bias: Option<ArrayViewMut1<'a, A>>,
}

/// Where [`conv2d_backward_into`] writes each gradient.
pub type Conv2dGradsMut<'a, A> = ConvGradsMut<'a, A, Ix4>;

/// Where [`conv1d_backward_into`](crate::conv1d_backward_into) writes each
/// gradient.
pub type Conv1dGradsMut<'a, A> = ConvGradsMut<'a, A, Ix3>;

/// Where [`conv3d_backward_into`](crate::conv3d_backward_into) writes each
/// gradient.
pub type Conv3dGradsMut<'a, A> = ConvGradsMut<'a, A, Ix5>;

impl<A, D: Dimension> ConvGradsMut<'_, A, D> {
    /// No gradient requested; fill in the ones wanted.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::Conv2dGradsMut;
    /// assert!(Conv2dGradsMut::<f64>::none().input.is_none());
    /// ```
    #[must_use]
    pub fn none() -> Self {
        ConvGradsMut {
            input: None,
            weight: None,
            bias: None,
        }
    }
}

/// The gradients of [`conv2d`](crate::conv2d) (without its bias term's value, which does
/// not matter) with respect to its input, weight and bias, given the
/// gradient of a loss with respect to its output, as `torch.autograd.grad`
/// computes them for `F.conv2d(F.pad(x, …, mode), w, b, …)`.
///
/// Every option is differentiated: stride, dilation, padding, groups, and
/// the boundary rule: the gradient reaching a padded position copied by
/// `Wrap`, `Symmetric`, `Reflect` or `Replicate` folds back onto the input
/// pixel it copied, and the fill value of `Fill(v)` enters the weight
/// gradient. Real floating point only.
///
/// ```text
///   forward:   x ──conv2d(w)──▶ y        backward:  ∂L/∂x = conv_transpose2d(∂L/∂y, w)
///                                                   ∂L/∂w = Σ ∂L/∂y ⋆ x̃   (per patch)
///                                                   ∂L/∂b = Σ ∂L/∂y
/// ```
///
/// # Errors
///
/// Every error of [`conv2d`](crate::conv2d) for `input` and `weight`, and
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `grad_output` does not have the output's
/// shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv2d_backward, ConvOptions};
/// use ndarray::array;
///
/// // y = x ⋆ w on a 1×3 row with a 1×2 kernel: y = [x0·w0 + x1·w1, x1·w0 + x2·w1].
/// let x = array![[[[1.0, 2.0, 3.0]]]];
/// let w = array![[[[10.0, 20.0]]]];
/// let g = conv2d_backward(&x, &w, &array![[[[1.0, 1.0]]]], &ConvOptions::new())?;
/// assert_eq!(g.input, array![[[[10.0, 30.0, 20.0]]]]);
/// assert_eq!(g.weight, array![[[[3.0, 5.0]]]]);
/// assert_eq!(g.bias, array![2.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d_backward<A: Float>(
    input: &ArrayRef4<A>,
    weight: &ArrayRef4<A>,
    grad_output: &ArrayRef4<A>,
    options: &ConvOptions,
) -> Result<Conv2dGrads<A>> {
    let mut grads = Conv2dGrads {
        input: zeros("the input gradient", input.raw_dim())?,
        weight: zeros("the weight gradient", weight.raw_dim())?,
        bias: Array1::zeros(weight.shape()[0]),
    };
    conv2d_backward_into(
        input,
        weight,
        grad_output,
        options,
        Conv2dGradsMut {
            input: Some(grads.input.view_mut()),
            weight: Some(grads.weight.view_mut()),
            bias: Some(grads.bias.view_mut()),
        },
    )?;
    Ok(grads)
}

/// [`conv2d_backward`] into caller's arrays, computing only the gradients
/// asked for.
///
/// # Errors
///
/// Those of [`conv2d_backward`], and [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if a
/// requested gradient's array has the wrong shape (then nothing is
/// written).
///
/// # Examples
///
/// ```
/// use convolve::{conv2d_backward_into, Conv2dGradsMut, ConvOptions};
/// use ndarray::{array, Array4};
///
/// let x = array![[[[1.0, 2.0, 3.0]]]];
/// let w = array![[[[10.0, 20.0]]]];
/// let mut dx = Array4::zeros((1, 1, 1, 3));
/// let grads = Conv2dGradsMut { input: Some(dx.view_mut()), ..Conv2dGradsMut::none() };
/// conv2d_backward_into(&x, &w, &array![[[[1.0, 0.0]]]], &ConvOptions::new(), grads)?;
/// assert_eq!(dx, array![[[[10.0, 20.0, 0.0]]]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d_backward_into<A: Float>(
    input: &ArrayRef4<A>,
    weight: &ArrayRef4<A>,
    grad_output: &ArrayRef4<A>,
    options: &ConvOptions,
    grads: Conv2dGradsMut<'_, A>,
) -> Result<()> {
    let (problem, output_shape) = Problem::batched(input.view(), weight.view(), None, options)?;
    let workspace = BackwardWorkspace::default();
    backward(&problem, output_shape, grad_output.view(), options, &workspace, grads)
}

/// The gradients of `problem` (whose output has `output_shape`) for the
/// output gradient `grad_output`, into `grads`, after checking every
/// shape: the body of [`conv2d_backward_into`] and of
/// [`Conv2dPlan::backward_into`](crate::Conv2dPlan::backward_into).
pub(crate) fn backward<A: Float>(
    problem: &Problem<'_, A>,
    output_shape: [usize; 4],
    grad_output: ArrayView4<'_, A>,
    options: &ConvOptions,
    workspace: &BackwardWorkspace<A>,
    grads: Conv2dGradsMut<'_, A>,
) -> Result<()> {
    let (input, weight) = (problem.input, problem.weight);
    check_shape("the output gradient", &output_shape, grad_output.shape())?;
    if let Some(dx) = &grads.input {
        check_shape("the input gradient", input.shape(), dx.shape())?;
    }
    if let Some(dw) = &grads.weight {
        check_shape("the weight gradient", weight.shape(), dw.shape())?;
    }
    if let Some(db) = &grads.bias {
        check_shape("the bias gradient", &weight.shape()[..1], db.shape())?;
    }
    if let Some(dx) = grads.input {
        input::input_gradient(grad_output, weight, problem.geometry, options, workspace, dx);
    }
    if let Some(dw) = grads.weight {
        weight::weight_gradient(problem, grad_output, options.algorithm, workspace, dw);
    }
    if let Some(db) = grads.bias {
        bias_gradient(grad_output, db);
    }
    Ok(())
}

/// `∂L/∂b` into `out`: the sum of the gradient over batch and space, in a
/// fixed order.
pub(crate) fn bias_gradient<A: Element, D: RemoveAxis>(
    grad_output: ArrayView<'_, A, D>,
    mut out: ArrayViewMut1<'_, A>,
) {
    for (o, b) in out.iter_mut().enumerate() {
        *b = grad_output
            .index_axis(Axis(1), o)
            .iter()
            .fold(A::zero(), |acc, &g| acc.plus(g));
    }
}
