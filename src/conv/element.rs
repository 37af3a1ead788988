//! The element types a convolution accepts, and what each of them can do.
//!
//! [`Element`] is the public, sealed trait. Its supertrait
//! [`Capabilities`] is crate-private: the arithmetic the kernels use, and
//! one hook per algorithm that not every type supports (the FFT and the
//! separable passes for real floating point, the matrix-product kernels
//! for floating point and complex numbers). A new algorithm with such a
//! restriction adds one item here.

use std::convert::Infallible;
use std::fmt::Debug;

use ndarray::{ArrayViewMut4, LinalgScalar};
use num_complex::Complex;

use super::kernels::{fft, separable, vectorized};
use super::problem::Problem;

pub(crate) use sealed::Capabilities;

mod sealed {
    use super::*;

    /// What the kernels need of an element type beyond ndarray's
    /// arithmetic. Sealed: public only so that [`Element`] can name it.
    pub trait Capabilities: Sized + Copy + Send + Sync + 'static {
        /// Whether the matrix-product kernels (`exec::matmul`) have a
        /// kernel for this type: floating point and complex numbers, not
        /// integers, whose products there would not wrap.
        const MATMUL: bool;

        /// Whether this is a complex type, whose conjugate differs from
        /// the value.
        const COMPLEX: bool = false;

        /// Whether the FFT and separable algorithms handle this type (real
        /// floating point only).
        const REAL_FLOAT: bool = false;

        /// The kernel spectra the FFT algorithm keeps for a plan;
        /// uninhabited for the types it does not handle.
        type Spectra: Send + Sync;

        /// `self + a · b`, wrapping for integers, rounded twice for
        /// floating point (no fused multiply-add, so results do not depend
        /// on the CPU).
        fn plus_product(self, a: Self, b: Self) -> Self;

        /// `self + other`, wrapping for integers.
        fn plus(self, other: Self) -> Self;

        /// Whether the value is finite (always true for integers).
        fn finite(self) -> bool {
            true
        }

        /// The kernel spectra of `problem` for an output of `outputs` rows
        /// and columns, for a plan to keep; `None` where the FFT does not
        /// apply to this type.
        fn fft_spectra(_problem: &Problem<'_, Self>, _outputs: [usize; 2]) -> Option<Self::Spectra> {
            None
        }

        /// Runs the FFT algorithm, with the spectra a plan kept if any;
        /// only called when `REAL_FLOAT` is true.
        fn run_fft(problem: &Problem<'_, Self>, _spectra: Option<&Self::Spectra>, out: ArrayViewMut4<'_, Self>)
        where
            Self: Element,
        {
            vectorized::run(problem, out);
        }

        /// The factors of a problem whose kernels all have rank 1 (real
        /// floating point only).
        fn separable_factors(_problem: &Problem<'_, Self>) -> Option<separable::Factors<Self>> {
            None
        }

        /// Runs the separable algorithm with factors from
        /// [`Capabilities::separable_factors`].
        fn run_separable(problem: &Problem<'_, Self>, _factors: &separable::Factors<Self>, out: ArrayViewMut4<'_, Self>)
        where
            Self: Element,
        {
            vectorized::run(problem, out);
        }
    }
}

/// An element type of a convolution: `f32`, `f64`, `i32`, `i64`,
/// `Complex<f32>` or `Complex<f64>`.
///
/// Integer arithmetic wraps on overflow, as numpy's does, so an integer
/// result equals scipy's bit for bit and no input makes the crate panic.
/// The trait is sealed: the crate's fast kernels rely on knowing every
/// implementation.
///
/// # Examples
///
/// A function generic over the element type:
///
/// ```
/// use convolve::{correlate2d, ConvOptions, Element};
/// use ndarray::{array, Array2};
///
/// fn box3<A: Element>(x: &Array2<A>) -> convolve::Result<Array2<A>> {
///     let ones = Array2::from_elem((3, 3), A::one());
///     correlate2d(x, &ones, &ConvOptions::new())
/// }
///
/// assert_eq!(box3(&Array2::<i32>::ones((4, 4)))?, array![[9, 9], [9, 9]]);
/// assert_eq!(box3(&Array2::<f32>::ones((3, 3)))?, array![[9.0]]);
/// assert_eq!(2.5f64.conj(), 2.5);
/// # Ok::<(), convolve::Error>(())
/// ```
pub trait Element: LinalgScalar + Debug + PartialEq + Send + Sync + Capabilities {
    /// The complex conjugate; the value itself for real types.
    #[must_use]
    fn conj(self) -> Self;
}

macro_rules! impl_float {
    ($($t:ty),*) => {$(
        impl Capabilities for $t {
            const MATMUL: bool = true;
            const REAL_FLOAT: bool = true;
            type Spectra = fft::FftKernels<$t>;

            #[inline]
            fn plus_product(self, a: Self, b: Self) -> Self {
                self + a * b
            }

            #[inline]
            fn plus(self, other: Self) -> Self {
                self + other
            }

            fn finite(self) -> bool {
                <$t>::is_finite(self)
            }

            fn fft_spectra(problem: &Problem<'_, Self>, outputs: [usize; 2]) -> Option<Self::Spectra> {
                Some(fft::FftKernels::new(problem, outputs))
            }

            fn run_fft(problem: &Problem<'_, Self>, spectra: Option<&Self::Spectra>, out: ArrayViewMut4<'_, Self>) {
                fft::run(problem, spectra, out);
            }

            fn separable_factors(problem: &Problem<'_, Self>) -> Option<separable::Factors<Self>> {
                separable::factors(problem)
            }

            fn run_separable(problem: &Problem<'_, Self>, factors: &separable::Factors<Self>, out: ArrayViewMut4<'_, Self>) {
                separable::run(problem, factors, out);
            }
        }

        impl Element for $t {
            #[inline]
            fn conj(self) -> Self {
                self
            }
        }
    )*};
}

macro_rules! impl_int {
    ($($t:ty),*) => {$(
        impl Capabilities for $t {
            const MATMUL: bool = false;
            type Spectra = Infallible;

            #[inline]
            fn plus_product(self, a: Self, b: Self) -> Self {
                self.wrapping_add(a.wrapping_mul(b))
            }

            #[inline]
            fn plus(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
        }

        impl Element for $t {
            #[inline]
            fn conj(self) -> Self {
                self
            }
        }
    )*};
}

macro_rules! impl_complex {
    ($($t:ty),*) => {$(
        impl Capabilities for Complex<$t> {
            const MATMUL: bool = true;
            const COMPLEX: bool = true;
            type Spectra = Infallible;

            #[inline]
            fn plus_product(self, a: Self, b: Self) -> Self {
                self + a * b
            }

            #[inline]
            fn plus(self, other: Self) -> Self {
                self + other
            }

            fn finite(self) -> bool {
                Complex::is_finite(self)
            }
        }

        impl Element for Complex<$t> {
            #[inline]
            fn conj(self) -> Self {
                Complex::conj(&self)
            }
        }
    )*};
}

impl_float!(f32, f64);
impl_int!(i32, i64);
impl_complex!(f32, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_arithmetic_wraps() {
        assert_eq!(i32::MAX.plus_product(1, 1), i32::MIN);
        assert_eq!(i64::MIN.plus(-1), i64::MAX);
    }

    #[test]
    fn float_products_are_rounded_twice() {
        // a = 1 + 2^-30: a·a = 1 + 2^-29 + 2^-60 exactly, 1 + 2^-29 once
        // rounded, so adding -(1 + 2^-29) leaves 0; std's fused
        // `mul_add(a, c)` (a·a + c, one rounding) keeps the 2^-60.
        let a = 1.0 + 2f64.powi(-30);
        let c = -(1.0 + 2f64.powi(-29));
        assert_eq!(c.plus_product(a, a), 0.0);
        assert_eq!(a.mul_add(a, c), 2f64.powi(-60));
    }

    #[test]
    fn conjugate_and_finiteness() {
        let z = Complex::new(1.0f32, -2.0);
        assert_eq!(z.conj(), Complex::new(1.0, 2.0));
        assert!(!Complex::new(f64::NAN, 0.0).finite());
        assert!(!f32::INFINITY.finite());
        assert!(i64::MAX.finite());
    }

    #[test]
    fn capabilities_per_type() {
        // f32, f64, i32, i64, Complex<f32>, Complex<f64>.
        let matmul = [
            f32::MATMUL,
            f64::MATMUL,
            i32::MATMUL,
            i64::MATMUL,
            Complex::<f32>::MATMUL,
            Complex::<f64>::MATMUL,
        ];
        assert_eq!(matmul, [true, true, false, false, true, true]);
        let real = [
            f32::REAL_FLOAT,
            f64::REAL_FLOAT,
            i32::REAL_FLOAT,
            i64::REAL_FLOAT,
            Complex::<f32>::REAL_FLOAT,
        ];
        assert_eq!(real, [true, true, false, false, false]);
        let complex = [
            f32::COMPLEX,
            i64::COMPLEX,
            Complex::<f32>::COMPLEX,
            Complex::<f64>::COMPLEX,
        ];
        assert_eq!(complex, [false, false, true, true]);
    }
}
