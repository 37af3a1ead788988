//! The element types a convolution accepts.

use std::fmt::Debug;

use ndarray::LinalgScalar;
use num_complex::Complex;

pub(crate) mod private {
    use crate::conv::Problem;
    use ndarray::ArrayViewMut4;

    pub trait Sealed: Sized {
        /// Whether `ndarray::linalg::general_mat_mul` has a fast, exact
        /// enough kernel for this type (floating point and complex, not
        /// integers, whose products there would not wrap).
        const FAST_GEMM: bool;

        /// Whether this is a complex type, whose conjugate differs from
        /// the value.
        const COMPLEX: bool = false;

        /// Whether the FFT algorithm handles this type (real floating
        /// point only).
        const FFT: bool = false;

        /// Runs the FFT algorithm; only called when `FFT` is true.
        #[allow(private_interfaces)]
        fn run_fft(problem: &Problem<'_, Self>, out: ArrayViewMut4<'_, Self>)
        where
            Self: super::Element,
        {
            crate::conv::sliding::run(problem, out);
        }

        /// The FFT kernel spectra of `problem` for an output of `outputs`
        /// rows and columns, for a plan to keep; `None` where the FFT does
        /// not apply to this type.
        #[allow(private_interfaces)]
        fn prepare_fft(
            _problem: &Problem<'_, Self>,
            _outputs: [usize; 2],
        ) -> Option<Box<dyn std::any::Any + Send + Sync>> {
            None
        }

        /// The factors of a problem whose kernels are all rank 1 (real
        /// floating point only).
        #[allow(private_interfaces, clippy::type_complexity)]
        fn separable_factors(_problem: &Problem<'_, Self>) -> Option<crate::conv::separable::Factors<Self>> {
            None
        }

        /// Runs the separable algorithm with `factors` from
        /// [`Sealed::separable_factors`].
        #[allow(private_interfaces)]
        fn run_separable(
            problem: &Problem<'_, Self>,
            _factors: &crate::conv::separable::Factors<Self>,
            out: ArrayViewMut4<'_, Self>,
        ) where
            Self: super::Element,
        {
            crate::conv::sliding::run(problem, out);
        }

        /// Whether every element is finite (always true for integers).
        fn finite(self) -> bool {
            true
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
/// ```
/// use convolve::Element;
/// use num_complex::Complex;
///
/// assert_eq!(Complex::new(1.0, 2.0).conj(), Complex::new(1.0, -2.0));
/// assert_eq!(i32::MAX.mul_add(1, 1), i32::MIN);
/// ```
pub trait Element: LinalgScalar + Debug + PartialEq + Send + Sync + private::Sealed {
    /// The complex conjugate; the value itself for real types.
    #[must_use]
    fn conj(self) -> Self;

    /// `self + a * b`, wrapping for integers, rounded twice for floating
    /// point (no fused multiply-add, so results do not depend on the CPU).
    #[must_use]
    fn mul_add(self, a: Self, b: Self) -> Self;

    /// `self + other`, wrapping for integers.
    #[must_use]
    fn plus(self, other: Self) -> Self;
}

macro_rules! impl_float {
    ($($t:ty),*) => {$(
        impl private::Sealed for $t {
            const FAST_GEMM: bool = true;
            const FFT: bool = true;

            #[allow(private_interfaces)]
            fn run_fft(problem: &crate::conv::Problem<'_, Self>, out: ndarray::ArrayViewMut4<'_, Self>) {
                let kernels = problem
                    .prepared
                    .and_then(|p| p.fft.as_ref())
                    .and_then(|k| k.downcast_ref::<crate::conv::fft::FftKernels<$t>>());
                crate::conv::fft::run(problem, kernels, out);
            }

            #[allow(private_interfaces, clippy::type_complexity)]
            fn separable_factors(problem: &crate::conv::Problem<'_, Self>) -> Option<crate::conv::separable::Factors<Self>> {
                crate::conv::separable::factors(problem)
            }

            #[allow(private_interfaces)]
            fn run_separable(
                problem: &crate::conv::Problem<'_, Self>,
                factors: &crate::conv::separable::Factors<Self>,
                out: ndarray::ArrayViewMut4<'_, Self>,
            ) {
                crate::conv::separable::run(problem, factors, out);
            }

            #[allow(private_interfaces)]
            fn prepare_fft(
                problem: &crate::conv::Problem<'_, Self>,
                outputs: [usize; 2],
            ) -> Option<Box<dyn std::any::Any + Send + Sync>> {
                Some(Box::new(crate::conv::fft::FftKernels::new(problem, outputs)))
            }

            fn finite(self) -> bool {
                <$t>::is_finite(self)
            }
        }
        impl Element for $t {
            #[inline]
            fn conj(self) -> Self {
                self
            }
            #[inline]
            fn mul_add(self, a: Self, b: Self) -> Self {
                self + a * b
            }
            #[inline]
            fn plus(self, other: Self) -> Self {
                self + other
            }
        }
    )*};
}

macro_rules! impl_int {
    ($($t:ty),*) => {$(
        impl private::Sealed for $t {
            const FAST_GEMM: bool = false;
        }
        impl Element for $t {
            #[inline]
            fn conj(self) -> Self {
                self
            }
            #[inline]
            fn mul_add(self, a: Self, b: Self) -> Self {
                self.wrapping_add(a.wrapping_mul(b))
            }
            #[inline]
            fn plus(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
        }
    )*};
}

macro_rules! impl_complex {
    ($($t:ty),*) => {$(
        impl private::Sealed for Complex<$t> {
            const FAST_GEMM: bool = true;
            const COMPLEX: bool = true;

            fn finite(self) -> bool {
                Complex::is_finite(self)
            }
        }
        impl Element for Complex<$t> {
            #[inline]
            fn conj(self) -> Self {
                Complex::conj(&self)
            }
            #[inline]
            fn mul_add(self, a: Self, b: Self) -> Self {
                self + a * b
            }
            #[inline]
            fn plus(self, other: Self) -> Self {
                self + other
            }
        }
    )*};
}

impl_float!(f32, f64);
impl_int!(i32, i64);
impl_complex!(f32, f64);
