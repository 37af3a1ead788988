//! The element types the property tests run on.

use convolve::Element;
use ndarray::{LinalgScalar, ScalarOperand};
use num_complex::Complex64;
use proptest::prelude::*;

use super::strategies::MAX_INT;

/// Relative and absolute tolerance for `f64` results whose elements lie in
/// `-1..=1`; a wrong tap or a misplaced window is off by far more.
pub const FLOAT_TOL: f64 = 1e-9;

/// An element type the properties run on: exact for integers, to a
/// tolerance for floating point.
pub trait Scalar: Element + LinalgScalar + ScalarOperand {
    /// Random elements.
    fn element() -> BoxedStrategy<Self>;
    /// Whether two results agree.
    fn close(a: Self, b: Self) -> bool;
    /// `self + term`, wrapping for integers as numpy's arithmetic does.
    fn add_term(self, term: Self) -> Self;
    /// `self + a·b`, wrapping for integers, rounded after the product and
    /// after the sum for floating point (not fused, unlike `f64::mul_add`).
    fn add_product(self, a: Self, b: Self) -> Self;
}

impl Scalar for i64 {
    fn element() -> BoxedStrategy<Self> {
        (-MAX_INT..=MAX_INT).boxed()
    }

    fn close(a: Self, b: Self) -> bool {
        a == b
    }

    fn add_term(self, term: Self) -> Self {
        self.wrapping_add(term)
    }

    fn add_product(self, a: Self, b: Self) -> Self {
        self.wrapping_add(a.wrapping_mul(b))
    }
}

impl Scalar for f64 {
    fn element() -> BoxedStrategy<Self> {
        (-1.0f64..=1.0).boxed()
    }

    fn close(a: Self, b: Self) -> bool {
        approx::relative_eq!(a, b, epsilon = FLOAT_TOL, max_relative = FLOAT_TOL)
    }

    fn add_term(self, term: Self) -> Self {
        self + term
    }

    fn add_product(self, a: Self, b: Self) -> Self {
        self + a * b
    }
}

impl Scalar for Complex64 {
    fn element() -> BoxedStrategy<Self> {
        (f64::element(), f64::element())
            .prop_map(|(re, im)| Complex64::new(re, im))
            .boxed()
    }

    fn close(a: Self, b: Self) -> bool {
        f64::close(a.re, b.re) && f64::close(a.im, b.im)
    }

    fn add_term(self, term: Self) -> Self {
        self + term
    }

    fn add_product(self, a: Self, b: Self) -> Self {
        self + a * b
    }
}
