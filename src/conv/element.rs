//! The element types a convolution accepts, and what each of them can do.
//!
//! [`Element`] is the public, sealed trait. Its supertrait
//! [`Capabilities`] is crate-private: the arithmetic the kernels use, and
//! one hook per algorithm that not every type supports (the FFT and the
//! separable passes and Winograd's algorithm for real floating point, the
//! matrix-product kernels for floating point and complex numbers). A new algorithm with such a
//! restriction adds one item here.

use std::convert::Infallible;
use std::fmt::Debug;

use ndarray::{ArrayViewMut4, LinalgScalar};
use num_complex::Complex;

use super::exec::microkernel::Microkernel;
use super::kernels::{fft, separable, vectorized, winograd};
use super::problem::Problem;
use crate::options::Scalar;

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

        /// The crate's own register-blocked matrix product for this type
        /// (`exec::microkernel`: `f32` and `f64`), which `Algorithm::Gemm`
        /// runs on; `None` leaves it the `gemm` crate's (complex numbers).
        const MICROKERNEL: Option<Microkernel<Self>> = None;

        /// Whether this is a complex type, whose conjugate differs from
        /// the value.
        const COMPLEX: bool = false;

        /// Whether the FFT and separable algorithms handle this type (real
        /// floating point only).
        const REAL_FLOAT: bool = false;

        /// The kernel spectra the FFT algorithm keeps for a plan;
        /// uninhabited for the types it does not handle.
        type Spectra: Send + Sync;

        /// The type's name, for error messages.
        const NAME: &'static str;

        /// The value as a fill value of any type.
        fn to_scalar(self) -> Scalar;

        /// A fill value as this type, where it has an exact equivalent
        /// (floating-point values narrow to `f32` by rounding); see
        /// `Boundary::Fill`.
        fn from_scalar(value: Scalar) -> Option<Self>;

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

        /// `|self|` for real floating point, where the planner bounds what
        /// a transform's sums can reach ([`Capabilities::LARGEST`]); zero
        /// for the types no transform runs on.
        fn transform_magnitude(self) -> f64 {
            0.0
        }

        /// The largest finite magnitude of the type, for real floating
        /// point; unbounded for the others.
        const LARGEST: f64 = f64::INFINITY;

        /// [`Capabilities::transform_magnitude`] of a finite value,
        /// infinite for any other.
        fn checked_magnitude(self) -> f64 {
            if self.finite() {
                self.transform_magnitude()
            } else {
                f64::INFINITY
            }
        }

        /// The largest [`Capabilities::checked_magnitude`] of `values`:
        /// infinite if one of them is not finite.
        fn largest_magnitude(values: &[Self]) -> f64 {
            values.iter().fold(0.0, |m: f64, &v| m.max(v.checked_magnitude()))
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

        /// The transformed weights of Winograd's algorithm for a plan to
        /// keep (in `reuse`'s buffer, if any); `None` where it does not
        /// apply to this type (real floating point only).
        fn winograd_weights(
            _problem: &Problem<'_, Self>,
            _reuse: Option<winograd::Weights<Self>>,
        ) -> Option<winograd::Weights<Self>> {
            None
        }

        /// Runs Winograd's algorithm, with the transformed weights a plan
        /// kept if any; only called when `REAL_FLOAT` is true.
        fn run_winograd(
            problem: &Problem<'_, Self>,
            _weights: Option<&winograd::Weights<Self>>,
            out: ArrayViewMut4<'_, Self>,
        ) where
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

/// A real floating-point element type, `f32` or `f64`: the one bound the
/// gradients ([`conv2d_backward`](crate::conv2d_backward),
/// [`conv_transpose2d`](crate::conv_transpose2d)) ask for, and under which
/// the activations work too. It brings `num_traits::Float`'s methods along
/// (`x.mul_add(a, b)` is std's fused `x·a + b`), so generic code needs no
/// other crate.
///
/// # Examples
///
/// ```
/// use convolve::{conv2d, conv2d_backward, ConvOptions, Float};
/// use ndarray::Array4;
///
/// /// One layer's output and its weight gradient for a loss `Σ y`.
/// fn layer<A: Float>(x: &Array4<A>, w: &Array4<A>) -> convolve::Result<(Array4<A>, Array4<A>)> {
///     let opts = ConvOptions::new();
///     let y = conv2d(x, w, None, &opts)?;
///     let grads = conv2d_backward(x, w, &Array4::ones(y.raw_dim()), &opts)?;
///     Ok((y, grads.weight))
/// }
///
/// let (y, dw) = layer(&Array4::<f32>::ones((1, 1, 3, 3)), &Array4::ones((1, 1, 2, 2)))?;
/// assert_eq!((y[[0, 0, 0, 0]], dw[[0, 0, 0, 0]]), (4.0, 4.0));
/// assert_eq!(2.0f64.mul_add(3.0, 1.0), 7.0);
/// # Ok::<(), convolve::Error>(())
/// ```
pub trait Float: Element + num_traits::Float {}

impl Float for f32 {}
impl Float for f64 {}

/// The conversions and the arithmetic of floating-point and complex types:
/// plain `+` and `*`, each rounded (no fused multiply-add).
macro_rules! rounded_arithmetic {
    ($scalar:ident, $from:ident) => {
        fn to_scalar(self) -> Scalar {
            Scalar::$scalar(self)
        }

        fn from_scalar(value: Scalar) -> Option<Self> {
            $from(value)
        }

        #[inline]
        fn plus_product(self, a: Self, b: Self) -> Self {
            self + a * b
        }

        #[inline]
        fn plus(self, other: Self) -> Self {
            self + other
        }
    };
}

macro_rules! impl_float {
    ($($t:ty: $scalar:ident, $from:ident),*) => {$(
        impl Capabilities for $t {
            const MATMUL: bool = true;
            const MICROKERNEL: Option<Microkernel<Self>> = Some(Microkernel::NEW);
            const REAL_FLOAT: bool = true;
            const NAME: &'static str = stringify!($t);
            type Spectra = fft::FftKernels<$t>;

            rounded_arithmetic!($scalar, $from);

            const LARGEST: f64 = <$t>::MAX as f64;

            fn finite(self) -> bool {
                <$t>::is_finite(self)
            }

            fn transform_magnitude(self) -> f64 {
                f64::from(self.abs())
            }

            fn largest_magnitude(values: &[Self]) -> f64 {
                largest_magnitude(values)
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

            fn winograd_weights(
                problem: &Problem<'_, Self>,
                reuse: Option<winograd::Weights<Self>>,
            ) -> Option<winograd::Weights<Self>> {
                Some(winograd::Weights::new(problem, reuse))
            }

            fn run_winograd(
                problem: &Problem<'_, Self>,
                weights: Option<&winograd::Weights<Self>>,
                out: ArrayViewMut4<'_, Self>,
            ) {
                winograd::run(problem, weights, out);
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
    ($($t:ty: $scalar:ident),*) => {$(
        impl Capabilities for $t {
            const MATMUL: bool = false;
            const NAME: &'static str = stringify!($t);
            type Spectra = Infallible;

            fn to_scalar(self) -> Scalar {
                Scalar::$scalar(self)
            }

            fn from_scalar(value: Scalar) -> Option<Self> {
                integer(value).and_then(|v| <$t>::try_from(v).ok())
            }

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
    ($($t:ty: $scalar:ident, $from:ident),*) => {$(
        impl Capabilities for Complex<$t> {
            const MATMUL: bool = true;
            const COMPLEX: bool = true;
            const NAME: &'static str = concat!("Complex<", stringify!($t), ">");
            type Spectra = Infallible;

            rounded_arithmetic!($scalar, $from);

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

impl_float!(f32: F32, f32_from, f64: F64, f64_from);
impl_int!(i32: I32, i64: I64);
impl_complex!(f32: C32, complex32_from, f64: C64, complex64_from);

/// A real value (a complex one with a zero imaginary part counts) as an
/// `f64`, where that is exact.
fn f64_from(value: Scalar) -> Option<f64> {
    match value {
        Scalar::F32(v) => Some(f64::from(v)),
        Scalar::F64(v) => Some(v),
        Scalar::I32(v) => Some(f64::from(v)),
        Scalar::I64(v) => Some(v as f64).filter(|&r| r as i128 == i128::from(v)),
        Scalar::C32(c) if c.im == 0.0 => Some(f64::from(c.re)),
        Scalar::C64(c) if c.im == 0.0 => Some(c.re),
        Scalar::C32(_) | Scalar::C64(_) => None,
    }
}

/// A real value as an `f32`: integers where exact, floating point rounded
/// to nearest (but not overflowing to an infinity).
fn f32_from(value: Scalar) -> Option<f32> {
    match value {
        Scalar::F32(v) => Some(v),
        Scalar::C32(c) if c.im == 0.0 => Some(c.re),
        Scalar::I32(_) | Scalar::I64(_) => {
            let v = integer(value)?;
            Some(v as f32).filter(|&r| r as i128 == v)
        }
        _ => f64_from(value).and_then(narrow),
    }
}

/// `v` rounded to the nearest `f32`, unless it is finite and the `f32` is
/// not.
fn narrow(v: f64) -> Option<f32> {
    let r = v as f32;
    (r.is_finite() == v.is_finite()).then_some(r)
}

/// An integral real value, exactly.
fn integer(value: Scalar) -> Option<i128> {
    let integral = |v: f64| (v.is_finite() && v.fract() == 0.0 && v.abs() < 1e30).then_some(v as i128);
    match value {
        Scalar::I32(v) => Some(i128::from(v)),
        Scalar::I64(v) => Some(i128::from(v)),
        _ => f64_from(value).and_then(integral),
    }
}

fn complex32_from(value: Scalar) -> Option<Complex<f32>> {
    match value {
        Scalar::C32(c) => Some(c),
        Scalar::C64(c) => Some(Complex::new(narrow(c.re)?, narrow(c.im)?)),
        _ => f32_from(value).map(Complex::from),
    }
}

fn complex64_from(value: Scalar) -> Option<Complex<f64>> {
    match value {
        Scalar::C32(c) => Some(Complex::new(f64::from(c.re), f64::from(c.im))),
        Scalar::C64(c) => Some(c),
        _ => f64_from(value).map(Complex::from),
    }
}

/// [`Capabilities::largest_magnitude`] of real floating point, on the
/// best instruction set of the CPU: lanes of running maxima and of "not
/// finite" flags, which the compiler keeps in vector registers (a plain
/// fold was latency-bound, about 2 ns a value).
fn largest_magnitude<A: num_traits::Float + Into<f64> + Copy>(values: &[A]) -> f64 {
    struct Scan<'a, A>(&'a [A]);
    impl<A: num_traits::Float + Into<f64> + Copy> pulp::WithSimd for Scan<'_, A> {
        type Output = f64;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _simd: S) -> f64 {
            const LANES: usize = 32;
            let mut largest = [A::zero(); LANES];
            let mut wild = [false; LANES];
            let chunks = self.0.chunks_exact(LANES);
            let tail = chunks.remainder();
            // NaN compares false: it never becomes the maximum, and it is
            // flagged with the infinities.
            #[inline(always)]
            fn step<A: num_traits::Float>(m: &mut A, bad: &mut bool, v: A) {
                let a = v.abs();
                *m = if a > *m { a } else { *m };
                *bad |= !a.is_finite();
            }
            for chunk in chunks {
                for ((m, bad), &v) in largest.iter_mut().zip(&mut wild).zip(chunk) {
                    step(m, bad, v);
                }
            }
            for (&v, (m, bad)) in tail.iter().zip(largest.iter_mut().zip(&mut wild)) {
                step(m, bad, v);
            }
            if wild.iter().any(|&b| b) {
                f64::INFINITY
            } else {
                largest.iter().fold(0.0, |m: f64, &a| m.max(a.into()))
            }
        }
    }
    pulp::Arch::new().dispatch(Scan(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_magnitudes_flag_what_is_not_finite() {
        // 100 values: three chunks of 32 and a tail of 4.
        let mut v: Vec<f32> = (0..100).map(|i| i as f32 - 60.0).collect();
        assert_eq!(f32::largest_magnitude(&v), 60.0);
        assert_eq!(f32::largest_magnitude(&[]), 0.0);
        for (at, bad) in [(97, f32::NAN), (5, f32::NEG_INFINITY), (40, f32::INFINITY)] {
            let kept = v[at];
            v[at] = bad;
            assert_eq!(f32::largest_magnitude(&v), f64::INFINITY, "{bad} at {at}");
            v[at] = kept;
        }
        v[98] = -f32::MAX;
        assert_eq!(f32::largest_magnitude(&v), f64::from(f32::MAX));
        assert_eq!(f64::largest_magnitude(&[1.0, -f64::MAX, 3.0]), f64::MAX);
        // Integers have no transform to overflow.
        assert_eq!(i32::largest_magnitude(&[i32::MIN, 5]), 0.0);
    }

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
        let microkernel = [
            f32::MICROKERNEL.is_some(),
            f64::MICROKERNEL.is_some(),
            i32::MICROKERNEL.is_some(),
            i64::MICROKERNEL.is_some(),
            Complex::<f32>::MICROKERNEL.is_some(),
            Complex::<f64>::MICROKERNEL.is_some(),
        ];
        assert_eq!(microkernel, [true, true, false, false, false, false]);
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

    #[test]
    fn fill_values_convert_exactly_or_not_at_all() {
        // Integers and floating point, both ways.
        assert_eq!(f64::from_scalar(Scalar::I64(1 << 53)), Some(9007199254740992.0));
        assert_eq!(f64::from_scalar(Scalar::I64((1 << 53) + 1)), None);
        assert_eq!(f32::from_scalar(Scalar::I32((1 << 24) + 1)), None);
        assert_eq!(f32::from_scalar(Scalar::I64(i64::MAX)), None);
        assert_eq!(i32::from_scalar(Scalar::F64(-7.0)), Some(-7));
        assert_eq!(i32::from_scalar(Scalar::F64(2.5)), None);
        assert_eq!(i32::from_scalar(Scalar::F64(f64::NAN)), None);
        assert_eq!(i32::from_scalar(Scalar::I64(1 << 31)), None);
        assert_eq!(i64::from_scalar(Scalar::F64(2f64.powi(63))), None);
        assert_eq!(i64::from_scalar(Scalar::I64(i64::MIN)), Some(i64::MIN));
        // f64 narrows to f32 by rounding, as a literal does, but never to
        // an infinity.
        assert_eq!(f32::from_scalar(Scalar::F64(0.1)), Some(0.1f32));
        assert_eq!(f32::from_scalar(Scalar::F64(1e300)), None);
        assert!(f32::from_scalar(Scalar::F64(f64::NAN)).unwrap().is_nan());
        assert_eq!(
            f32::from_scalar(Scalar::F64(f64::NEG_INFINITY)),
            Some(f32::NEG_INFINITY)
        );
        // Complex numbers: real ones serve real types.
        assert_eq!(f64::from_scalar(Scalar::C64(Complex::new(3.0, 0.0))), Some(3.0));
        assert_eq!(i64::from_scalar(Scalar::C32(Complex::new(3.0, 1.0))), None);
        assert_eq!(
            Complex::<f64>::from_scalar(Scalar::I32(2)),
            Some(Complex::new(2.0, 0.0))
        );
        assert_eq!(
            Complex::<f32>::from_scalar(Scalar::C64(Complex::new(0.5, -0.25))),
            Some(Complex::new(0.5, -0.25))
        );
        // Every type round-trips.
        assert_eq!(i64::from_scalar(i64::MAX.to_scalar()), Some(i64::MAX));
        assert_eq!(f32::from_scalar(f32::MIN_POSITIVE.to_scalar()), Some(f32::MIN_POSITIVE));
        assert_eq!(<Complex<f64>>::NAME, "Complex<f64>");
    }
}
