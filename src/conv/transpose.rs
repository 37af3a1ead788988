//! Transposed convolution ([`conv_transpose2d`]): the adjoint of
//! [`conv2d`](crate::conv2d) in its input, computed as its input gradient.

use super::backward::{input_gradient, BackwardWorkspace};
use super::element::Float;
use super::problem::{check_bias, check_bytes, check_shape, dims4, zeros};
use crate::error::Result;
use crate::options::ConvOptions;
use crate::shape::{conv_transpose2d_output_shape, transposed_geometry};
use ndarray::{Array4, ArrayRef1, ArrayRef4, Axis};

/// Transposed convolution ("deconvolution"), as PyTorch's
/// `conv_transpose2d`: the adjoint of [`conv2d`](crate::conv2d) with respect to its input,
/// so that `⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose2d(y, w)⟩`, plus bias.
///
/// Input `[N, C_in, H, W]`, weight `[C_in, C_out/groups, kh, kw]` (the
/// layout of the forward convolution's weight that maps `C_out` channels to
/// `C_in`), output `[N, C_out, Ho, Wo]` with
/// `Ho = (H − 1)·sh − top − bottom + dh·(kh − 1) + output_padding + 1`.
/// Each input pixel stamps the kernel, scaled, onto the output:
///
/// ```text
///   stride 2, 2×2 kernel:   x0 x1   ──▶   x0·k x0·k x1·k x1·k
///                                         x0·k x0·k x1·k x1·k
/// ```
///
/// The padding (`Valid`, `Full` or `Explicit`) removes rows and columns
/// from the border of the result; [`ConvOptions::output_padding`] adds them
/// at the high end. A boundary rule other than `Fill` makes this the
/// adjoint of the forward convolution with that rule: contributions that
/// land in the padding fold back onto the pixels it copies.
///
/// # Errors
///
/// Those of [`crate::shape::conv_transpose2d_output_shape`], and
/// [`Error::BiasLength`](crate::Error::BiasLength) if the bias does not have `C_out` elements.
///
/// # Examples
///
/// ```
/// use convolve::{conv_transpose2d, ConvOptions};
/// use ndarray::array;
///
/// let x = array![[[[1.0, 2.0]]]];
/// let w = array![[[[1.0, 1.0]]]];
/// let y = conv_transpose2d(&x, &w, None, &ConvOptions::new().stride(2))?;
/// assert_eq!(y, array![[[[1.0, 1.0, 2.0, 2.0]]]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose2d<A: Float>(
    input: &ArrayRef4<A>,
    weight: &ArrayRef4<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
) -> Result<Array4<A>> {
    let shape = conv_transpose2d_output_shape(dims4(input.shape()), dims4(weight.shape()), options)?;
    check_bytes::<A>(&shape)?;
    let mut out = zeros("the output", shape)?;
    conv_transpose2d_into(input, weight, bias, options, &mut out)?;
    Ok(out)
}

/// [`conv_transpose2d`] into a caller's array of the output's shape (any
/// layout).
///
/// # Errors
///
/// Those of [`conv_transpose2d`], and [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out`
/// does not have the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv_transpose2d_into, ConvOptions};
/// use ndarray::{array, Array4};
///
/// let mut out = Array4::zeros((1, 1, 1, 3));
/// conv_transpose2d_into(&array![[[[1.0, 2.0]]]], &array![[[[1.0, 1.0]]]], None, &ConvOptions::new(), &mut out)?;
/// assert_eq!(out, array![[[[1.0, 3.0, 2.0]]]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv_transpose2d_into<A: Float>(
    input: &ArrayRef4<A>,
    weight: &ArrayRef4<A>,
    bias: Option<&ArrayRef1<A>>,
    options: &ConvOptions,
    out: &mut ArrayRef4<A>,
) -> Result<()> {
    let shape = conv_transpose2d_output_shape(dims4(input.shape()), dims4(weight.shape()), options)?;
    check_bias(bias.map(|b| b.len()), shape[1])?;
    check_shape("the output", &shape, out.shape())?;
    let geometry = transposed_geometry(dims4(input.shape()), dims4(weight.shape()), options)?;
    let workspace = BackwardWorkspace::default();
    input_gradient(
        input.view(),
        weight.view(),
        geometry,
        options,
        &workspace,
        out.view_mut(),
    );
    if let Some(bias) = bias {
        for (mut channel, &b) in out.axis_iter_mut(Axis(1)).zip(bias) {
            channel.mapv_inplace(|v| v + b);
        }
    }
    Ok(())
}
