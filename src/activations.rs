//! ReLU and Leaky ReLU, their derivatives and their backward passes, for
//! arrays of any dimension and storage.
//!
//! The conventions are PyTorch's, so that gradients computed with this crate
//! match `torch.autograd`:
//!
//! | `x` | `relu(x)` | `relu'(x)` | `leaky_relu(x, a)` | `leaky_relu'(x, a)` |
//! |---|---|---|---|---|
//! | `x > 0` | `x` | 1 | `x` | 1 |
//! | `x = 0` | 0 | **0** | 0 | **`a`** |
//! | `x < 0` | 0 | 0 | `a·x` | `a` |
//! | `+inf` | `+inf` | 1 | `+inf` | 1 |
//! | `−inf` | 0 | 0 | `a·(−inf)` (NaN if `a = 0`) | `a` |
//! | NaN | NaN | 1 | NaN | `a` |
//!
//! NaN passes through the forward pass unchanged (unlike `f64::max(NaN,
//! 0.0)`, which returns 0 and would hide it).
//!
//! A slope of 1 makes Leaky ReLU the identity: the layer becomes linear and
//! a stack of such layers collapses into a single linear map, losing what
//! the nonlinearity was there for. A slope of 0 makes it ReLU.
//!
//! # Examples
//!
//! ```
//! use convolve::activations::{leaky_relu, relu, relu_derivative};
//! use ndarray::array;
//!
//! let x = array![-2.0, 0.0, 3.0];
//! assert_eq!(relu(&x), array![0.0, 0.0, 3.0]);
//! assert_eq!(relu_derivative(&x), array![0.0, 0.0, 1.0]);
//! assert_eq!(leaky_relu(&x, 0.1), array![-0.2, 0.0, 3.0]);
//! ```

use ndarray::{Array, ArrayRef, Dimension, Zip};
use num_traits::Float;

use crate::error::{Error, Result};

#[inline]
fn relu_scalar<A: Float>(x: A) -> A {
    // `x <= 0` is false for NaN, so NaN is kept.
    if x <= A::zero() {
        A::zero()
    } else {
        x
    }
}

#[inline]
fn relu_grad_scalar<A: Float>(x: A) -> A {
    if x <= A::zero() {
        A::zero()
    } else {
        A::one()
    }
}

#[inline]
fn leaky_scalar<A: Float>(x: A, slope: A) -> A {
    if x > A::zero() {
        x
    } else {
        x * slope
    }
}

#[inline]
fn leaky_grad_scalar<A: Float>(x: A, slope: A) -> A {
    if x > A::zero() {
        A::one()
    } else {
        slope
    }
}

/// `max(x, 0)` elementwise, keeping NaN.
///
/// # Examples
///
/// ```
/// use convolve::activations::relu;
/// use ndarray::array;
/// let y = relu(&array![[-1.0f32, f32::NAN], [0.5, f32::NEG_INFINITY]]);
/// assert_eq!(y[[0, 0]], 0.0);
/// assert!(y[[0, 1]].is_nan());
/// assert_eq!(y[[1, 0]], 0.5);
/// assert_eq!(y[[1, 1]], 0.0);
/// ```
#[must_use]
pub fn relu<A: Float, D: Dimension>(x: &ArrayRef<A, D>) -> Array<A, D> {
    x.mapv(relu_scalar)
}

/// [`relu`] in place.
///
/// # Examples
///
/// ```
/// use convolve::activations::relu_inplace;
/// use ndarray::array;
/// let mut x = array![-1.0, 2.0];
/// relu_inplace(&mut x);
/// assert_eq!(x, array![0.0, 2.0]);
/// ```
pub fn relu_inplace<A: Float, D: Dimension>(x: &mut ArrayRef<A, D>) {
    x.mapv_inplace(relu_scalar);
}

/// The derivative of [`relu`] at each element: 1 where `x > 0`, 0 where
/// `x <= 0` (so `relu'(0) = 0`), 1 at NaN, as in PyTorch.
///
/// # Examples
///
/// ```
/// use convolve::activations::relu_derivative;
/// use ndarray::array;
/// assert_eq!(relu_derivative(&array![-1.0, 0.0, 1.0]), array![0.0, 0.0, 1.0]);
/// ```
#[must_use]
pub fn relu_derivative<A: Float, D: Dimension>(x: &ArrayRef<A, D>) -> Array<A, D> {
    x.mapv(relu_grad_scalar)
}

/// `max(x, slope·x)` elementwise for `slope` in `[0, 1)`; in general `x`
/// where `x > 0` and `slope·x` elsewhere. NaN is kept.
///
/// # Examples
///
/// ```
/// use convolve::activations::leaky_relu;
/// use ndarray::array;
/// assert_eq!(leaky_relu(&array![-10.0, 4.0], 0.01), array![-0.1, 4.0]);
/// // Slope 1 is the identity: the layer is linear.
/// assert_eq!(leaky_relu(&array![-10.0, 4.0], 1.0), array![-10.0, 4.0]);
/// ```
#[must_use]
pub fn leaky_relu<A: Float, D: Dimension>(x: &ArrayRef<A, D>, slope: A) -> Array<A, D> {
    x.mapv(|v| leaky_scalar(v, slope))
}

/// [`leaky_relu`] in place.
///
/// # Examples
///
/// ```
/// use convolve::activations::leaky_relu_inplace;
/// use ndarray::array;
/// let mut x = array![-2.0, 2.0];
/// leaky_relu_inplace(&mut x, 0.5);
/// assert_eq!(x, array![-1.0, 2.0]);
/// ```
pub fn leaky_relu_inplace<A: Float, D: Dimension>(x: &mut ArrayRef<A, D>, slope: A) {
    x.mapv_inplace(|v| leaky_scalar(v, slope));
}

/// The derivative of [`leaky_relu`]: 1 where `x > 0`, `slope` elsewhere
/// (so `leaky_relu'(0) = slope`, and `slope` at NaN), as in PyTorch.
///
/// # Examples
///
/// ```
/// use convolve::activations::leaky_relu_derivative;
/// use ndarray::array;
/// assert_eq!(leaky_relu_derivative(&array![-1.0, 0.0, 1.0], 0.1), array![0.1, 0.1, 1.0]);
/// ```
#[must_use]
pub fn leaky_relu_derivative<A: Float, D: Dimension>(x: &ArrayRef<A, D>, slope: A) -> Array<A, D> {
    x.mapv(|v| leaky_grad_scalar(v, slope))
}

fn check_same_shape(x: &[usize], grad: &[usize]) -> Result<()> {
    if x == grad {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what: "the upstream gradient",
            expected: x.to_vec(),
            got: grad.to_vec(),
        })
    }
}

/// The gradient with respect to the ReLU's input: `grad_out ⊙ relu'(x)`,
/// where `x` is the input of the forward pass.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if `grad_out` does not have `x`'s shape.
///
/// # Examples
///
/// ```
/// use convolve::activations::relu_backward;
/// use ndarray::array;
/// let g = relu_backward(&array![-1.0, 2.0], &array![5.0, 7.0])?;
/// assert_eq!(g, array![0.0, 7.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn relu_backward<A: Float, D: Dimension>(x: &ArrayRef<A, D>, grad_out: &ArrayRef<A, D>) -> Result<Array<A, D>> {
    let mut grad = grad_out.to_owned();
    relu_backward_inplace(x, &mut grad)?;
    Ok(grad)
}

/// [`relu_backward`] in place: multiplies `grad` (the upstream gradient)
/// by `relu'(x)`.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if `grad` does not have `x`'s shape (then
/// `grad` is left untouched).
///
/// # Examples
///
/// ```
/// use convolve::activations::relu_backward_inplace;
/// use ndarray::array;
/// let mut g = array![5.0, 7.0];
/// relu_backward_inplace(&array![0.0, 2.0], &mut g)?;
/// assert_eq!(g, array![0.0, 7.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn relu_backward_inplace<A: Float, D: Dimension>(x: &ArrayRef<A, D>, grad: &mut ArrayRef<A, D>) -> Result<()> {
    check_same_shape(x.shape(), grad.shape())?;
    Zip::from(grad).and(x).for_each(|g, &v| *g = *g * relu_grad_scalar(v));
    Ok(())
}

/// The gradient with respect to the Leaky ReLU's input:
/// `grad_out ⊙ leaky_relu'(x, slope)`.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if `grad_out` does not have `x`'s shape.
///
/// # Examples
///
/// ```
/// use convolve::activations::leaky_relu_backward;
/// use ndarray::array;
/// let g = leaky_relu_backward(&array![-1.0, 2.0], &array![5.0, 7.0], 0.5)?;
/// assert_eq!(g, array![2.5, 7.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn leaky_relu_backward<A: Float, D: Dimension>(
    x: &ArrayRef<A, D>,
    grad_out: &ArrayRef<A, D>,
    slope: A,
) -> Result<Array<A, D>> {
    let mut grad = grad_out.to_owned();
    leaky_relu_backward_inplace(x, &mut grad, slope)?;
    Ok(grad)
}

/// [`leaky_relu_backward`] in place: multiplies `grad` by
/// `leaky_relu'(x, slope)`.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if `grad` does not have `x`'s shape (then
/// `grad` is left untouched).
///
/// # Examples
///
/// ```
/// use convolve::activations::leaky_relu_backward_inplace;
/// use ndarray::array;
/// let mut g = array![5.0, 7.0];
/// leaky_relu_backward_inplace(&array![-1.0, 2.0], &mut g, 0.1)?;
/// assert_eq!(g, array![0.5, 7.0]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn leaky_relu_backward_inplace<A: Float, D: Dimension>(
    x: &ArrayRef<A, D>,
    grad: &mut ArrayRef<A, D>,
    slope: A,
) -> Result<()> {
    check_same_shape(x.shape(), grad.shape())?;
    Zip::from(grad)
        .and(x)
        .for_each(|g, &v| *g = *g * leaky_grad_scalar(v, slope));
    Ok(())
}

/// The "dying ReLU" diagnostic: the fraction of units whose ReLU gradient
/// is zero for these pre-activations (`x <= 0`), or `None` for an empty
/// array.
///
/// A unit whose pre-activation is non-positive for every input passes no
/// gradient and stops learning; a fraction near 1 over a batch is the
/// symptom. Leaky ReLU with a positive slope has no such units.
///
/// # Examples
///
/// ```
/// use convolve::activations::dead_relu_fraction;
/// use ndarray::array;
/// assert_eq!(dead_relu_fraction(&array![-1.0, 0.0, 2.0, 3.0]), Some(0.5));
/// assert_eq!(dead_relu_fraction(&ndarray::Array1::<f32>::zeros(0)), None);
/// ```
#[must_use]
pub fn dead_relu_fraction<A: Float, D: Dimension>(x: &ArrayRef<A, D>) -> Option<f64> {
    if x.is_empty() {
        return None;
    }
    let dead = x.iter().filter(|&&v| relu_grad_scalar(v) == A::zero()).count();
    Some(dead as f64 / x.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Central difference `(f(x + h) - f(x - h)) / 2h`.
    fn central_difference(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let h = 1e-6;
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    #[test]
    fn derivatives_match_finite_differences_away_from_zero() {
        let points = [-3.7, -1.0, -1e-3, 2e-3, 0.5, 42.0];
        for &slope in &[0.0, 0.01, 0.3, 1.0] {
            for &x in &points {
                let fd_relu = central_difference(relu_scalar, x);
                assert!((fd_relu - relu_grad_scalar(x)).abs() < 1e-6, "relu' at {x}");
                let fd_leaky = central_difference(|v| leaky_scalar(v, slope), x);
                assert!(
                    (fd_leaky - leaky_grad_scalar(x, slope)).abs() < 1e-6,
                    "leaky' at {x}, slope {slope}"
                );
            }
        }
    }

    #[test]
    fn pytorch_conventions_at_special_values() {
        // >>> x = torch.tensor([nan, 0., inf, -inf, -1., 2.], dtype=torch.float64, requires_grad=True)
        // >>> F.relu(x)                  -> [nan, 0., inf, 0., 0., 2.];  grad [1, 0, 1, 0, 0, 1]
        // >>> F.leaky_relu(x, 0.1)       -> [nan, 0., inf, -inf, -0.1, 2.]; grad [.1, .1, 1, .1, .1, 1]
        // >>> F.leaky_relu(x, 0.0)       -> [nan, 0., inf, nan, -0., 2.]; grad [0, 0, 1, 0, 0, 1]
        let x = array![f64::NAN, 0.0, f64::INFINITY, f64::NEG_INFINITY, -1.0, 2.0];
        let y = relu(&x);
        assert!(y[0].is_nan());
        assert_eq!(y.slice(ndarray::s![1..]), array![0.0, f64::INFINITY, 0.0, 0.0, 2.0]);
        assert_eq!(relu_derivative(&x), array![1.0, 0.0, 1.0, 0.0, 0.0, 1.0]);

        let y = leaky_relu(&x, 0.1);
        assert!(y[0].is_nan());
        assert_eq!(
            y.slice(ndarray::s![1..]),
            array![0.0, f64::INFINITY, f64::NEG_INFINITY, -0.1, 2.0]
        );
        assert_eq!(leaky_relu_derivative(&x, 0.1), array![0.1, 0.1, 1.0, 0.1, 0.1, 1.0]);

        let y = leaky_relu(&x, 0.0);
        assert!(y[0].is_nan() && y[3].is_nan());
        assert_eq!(leaky_relu_derivative(&x, 0.0), array![0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn in_place_equals_allocating() {
        let x = array![[-1.5f32, 0.0, 2.5], [f32::NAN, -0.0, 7.0]];
        let grad = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let mut y = x.clone();
        relu_inplace(&mut y);
        assert_eq!(format!("{y:?}"), format!("{:?}", relu(&x)));
        let mut y = x.clone();
        leaky_relu_inplace(&mut y, 0.2);
        assert_eq!(format!("{y:?}"), format!("{:?}", leaky_relu(&x, 0.2)));
        let mut g = grad.clone();
        relu_backward_inplace(&x, &mut g).unwrap();
        assert_eq!(g, relu_backward(&x, &grad).unwrap());
        assert_eq!(g, &grad * &relu_derivative(&x));
        let mut g = grad.clone();
        leaky_relu_backward_inplace(&x, &mut g, 0.2).unwrap();
        assert_eq!(g, leaky_relu_backward(&x, &grad, 0.2).unwrap());
        assert_eq!(g, &grad * &leaky_relu_derivative(&x, 0.2));
    }

    #[test]
    fn views_and_transposes_are_accepted() {
        let x = array![[-1.0, 2.0], [3.0, -4.0]];
        assert_eq!(relu(&x.t()), array![[0.0, 3.0], [2.0, 0.0]]);
        assert_eq!(relu(&x.slice(ndarray::s![.., ..;-1])), array![[2.0, 0.0], [0.0, 3.0]]);
    }

    #[test]
    fn backward_rejects_a_mismatched_gradient() {
        let err = relu_backward(&array![1.0, 2.0], &array![1.0]).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                what: "the upstream gradient",
                expected: vec![2],
                got: vec![1]
            }
        );
        let mut g = array![9.0];
        assert!(leaky_relu_backward_inplace(&array![1.0, 2.0], &mut g, 0.1).is_err());
        assert_eq!(g, array![9.0]);
    }
}
