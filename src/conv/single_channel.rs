//! Single-channel correlation and convolution with scipy's semantics:
//! [`correlate2d`], [`convolve2d`], their `_into` forms, and
//! [`correlate2d_algorithm`] and [`convolve2d_algorithm`].
//!
//! A single-channel call is a batched problem of one image, one channel
//! and one kernel; what it adds is scipy's reading of the arguments
//! ([`resolve`]): `groups` must be 1, and in `valid` mode a kernel larger
//! than the input swaps roles with it.

use ndarray::{Array2, ArrayRef2, ArrayView2, Axis};

use super::element::Element;
use super::kernels::{choose, execute};
use super::problem::{check_bytes, check_shape, zeros, Problem};
use crate::error::{Error, Result};
use crate::options::{Algorithm, ConvOptions, Padding};
use crate::shape::{spatial_geometry, AxisGeometry, Operation};

/// A single-channel problem, and whether its output is read backwards
/// (scipy's `valid` mode with the inputs' roles swapped).
struct SingleChannel<'a, A: Element> {
    problem: Problem<'a, A>,
    reversed: bool,
}

/// scipy's reading of a single-channel problem of spatial rank `R`, from
/// shapes alone: the resolved geometry, and whether input and kernel swap
/// roles (`valid` mode with a kernel at least as large as the input along
/// every axis).
#[derive(Debug, PartialEq)]
pub(crate) struct Resolved<const R: usize> {
    pub(crate) geometry: [AxisGeometry; R],
    pub(crate) swap: bool,
}

/// Whether `options` are scipy's plain 'valid' mode (no padding, stride
/// and dilation 1), in which a kernel larger than the input swaps roles
/// with it. Options for calls of every rank (`PerAxis::All(1)` equals
/// `[1, 1]` and `[1, 1, 1]`).
pub(crate) fn scipy_valid(options: &ConvOptions) -> bool {
    options.padding == Padding::Valid && options.stride.all_equal(1) && options.dilation.all_equal(1)
}

/// scipy's reading of a single-channel call of rank `R`: `groups` must be
/// 1, and in its 'valid' mode a kernel at least as large as the input
/// along every axis swaps roles with it.
pub(crate) fn resolve<A, const R: usize>(
    in_shape: [usize; R],
    k_shape: [usize; R],
    options: &ConvOptions,
    operation: Operation,
) -> Result<Resolved<R>> {
    match options.groups {
        0 => return Err(Error::ZeroGroups),
        1 => {}
        groups => return Err(Error::GroupsSingleChannel { groups }),
    }
    // Rejects empty kernels and inputs, zero strides and dilations.
    spatial_geometry(in_shape, k_shape, options, operation)?;

    let scipy_valid = scipy_valid(options);
    let kernel_fits = in_shape.iter().zip(&k_shape).all(|(i, k)| i >= k);
    let input_fits = in_shape.iter().zip(&k_shape).all(|(i, k)| k >= i);
    if scipy_valid && !kernel_fits && !input_fits {
        return Err(Error::ValidShapeMismatch {
            input: in_shape.to_vec(),
            kernel: k_shape.to_vec(),
        });
    }
    let swap = scipy_valid && !kernel_fits;
    let (in_shape, k_shape) = if swap { (k_shape, in_shape) } else { (in_shape, k_shape) };
    let geometry = spatial_geometry(in_shape, k_shape, options, operation)?;
    let mut lens = [0; R];
    for (len, g) in lens.iter_mut().zip(&geometry) {
        *len = g.output_len()?;
    }
    check_bytes::<A>(&lens)?;
    Ok(Resolved { geometry, swap })
}

impl<'a, A: Element> SingleChannel<'a, A> {
    fn new(
        input: ArrayView2<'a, A>,
        kernel: ArrayView2<'a, A>,
        options: &ConvOptions,
        operation: Operation,
    ) -> Result<Self> {
        let resolved = resolve::<A, 2>(
            [input.nrows(), input.ncols()],
            [kernel.nrows(), kernel.ncols()],
            options,
            operation,
        )?;
        let (input, kernel) = if resolved.swap {
            (kernel, input)
        } else {
            (input, kernel)
        };
        let (kernel, conjugate_kernel) = match operation {
            Operation::CrossCorrelation => (kernel, true),
            Operation::Convolution => {
                let mut rotated = kernel;
                rotated.invert_axis(Axis(0));
                rotated.invert_axis(Axis(1));
                (rotated, false)
            }
        };
        let problem = Problem {
            input: input.insert_axis(Axis(0)).insert_axis(Axis(0)),
            weight: kernel.insert_axis(Axis(0)).insert_axis(Axis(0)),
            bias: None,
            conjugate_kernel,
            geometry: resolved.geometry,
            groups: 1,
            boundary: options.boundary,
            fill: options.boundary.fill()?,
            prepared: None,
            workspace: None,
        };
        Ok(SingleChannel {
            problem,
            // Convolution is commutative; only correlation reads the
            // swapped result backwards.
            reversed: resolved.swap && operation == Operation::CrossCorrelation,
        })
    }

    fn output_shape(&self) -> [usize; 2] {
        let [_, _, rows, cols] = self.problem.output_shape();
        [rows, cols]
    }

    fn run_into(self, algorithm: Algorithm, out: &mut ArrayRef2<A>) -> Result<()> {
        check_shape("the output", &self.output_shape(), out.shape())?;
        let mut view = out.view_mut();
        if self.reversed {
            view.invert_axis(Axis(0));
            view.invert_axis(Axis(1));
        }
        execute(&self.problem, algorithm, view.insert_axis(Axis(0)).insert_axis(Axis(0)));
        Ok(())
    }

    /// What [`run_into`](Self::run_into) will run: the very choice it makes.
    fn algorithm(&self, options: &ConvOptions) -> Algorithm {
        choose(&self.problem, options.algorithm).0.algorithm
    }

    fn run(self, algorithm: Algorithm) -> Result<Array2<A>> {
        let mut out = zeros("the output", self.output_shape())?;
        self.run_into(algorithm, &mut out)?;
        Ok(out)
    }
}

/// Cross-correlation of a 2-D array with a 2-D kernel, as
/// `scipy.signal.correlate2d` computes it: "convolution" as CNNs mean it.
///
/// ```text
/// y[i, j] = Σ_a Σ_b  x̃[i·sh + a·dh − top, j·sw + b·dw − left] · conj(k[a, b])
/// ```
///
/// where `x̃` is `x` extended by the [`Boundary`](crate::Boundary) rule and `top`/`left` come
/// from the [`Padding`]. With stride 1 and dilation 1, `Padding::Valid`,
/// `Same` and `Full` give scipy's `mode='valid'`, `'same'` and `'full'`.
///
/// ```text
///   Padding::Same, 3×3 kernel, stride 1        stride 2, dilation 2 (Valid)
///
///   . . . . . . .                              k . k . k . .
///   . k k k . . .   the kernel's top-left      . . . . . . .
///   . k x x x x .   tap sits on row i − 1,     k . k . k . .   y[0, 0]
///   . k x x x x .   column j − 1 for y[i, j]   . . . . . . .
///   . . x x x x .                              k . k . k . .
///   . . x x x x .                              one output per second row
///   . . . . . . .                              and column
/// ```
///
/// In `'valid'` mode (stride 1, dilation 1), a kernel at least as large as
/// the input along both axes swaps roles with it, as in scipy: the result
/// is `correlate2d(kernel, input)` read backwards, which for complex
/// numbers is the conjugate of the formula above (scipy 1.17 returns the
/// same).
///
/// # Errors
///
/// - [`Error::ZeroStride`](crate::Error::ZeroStride), [`Error::ZeroDilation`](crate::Error::ZeroDilation), [`Error::EmptyKernel`](crate::Error::EmptyKernel),
///   [`Error::EmptyInput`](crate::Error::EmptyInput) (whatever the padding), [`Error::Overflow`](crate::Error::Overflow).
/// - [`Error::KernelTooLarge`](crate::Error::KernelTooLarge) if no output position exists;
///   [`Error::ValidShapeMismatch`](crate::Error::ValidShapeMismatch) for scipy's `valid` mode when the
///   kernel is larger than the input along one axis only.
/// - [`Error::ZeroGroups`](crate::Error::ZeroGroups) or [`Error::GroupsSingleChannel`](crate::Error::GroupsSingleChannel) unless
///   `groups == 1`.
///
/// # Examples
///
/// The tutorial's horizontal-edge detector:
///
/// ```
/// use convolve::{correlate2d, ConvOptions};
/// use ndarray::array;
///
/// let x = array![
///     [0.1, 0.2, 0.1, 0.1, 0.0],
///     [0.8, 0.9, 1.0, 1.0, 0.9],
///     [1.0, 1.0, 1.0, 1.0, 1.0],
///     [0.9, 1.0, 1.0, 0.8, 1.0],
///     [0.0, 0.1, 0.1, 0.2, 0.0],
/// ];
/// let w = array![[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]];
/// let y = correlate2d(&x, &w, &ConvOptions::new())?;
/// let expected = array![[-2.6, -2.6, -2.8], [-0.2, 0.1, 0.1], [2.8, 2.6, 2.7]];
/// assert!((&y - &expected).iter().all(|d: &f64| d.abs() < 1e-12));
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn correlate2d<A: Element>(
    input: &ArrayRef2<A>,
    kernel: &ArrayRef2<A>,
    options: &ConvOptions,
) -> Result<Array2<A>> {
    SingleChannel::new(input.view(), kernel.view(), options, Operation::CrossCorrelation)?.run(options.algorithm)
}

/// [`correlate2d`] into a caller's array of the output's shape (any
/// layout); allocates nothing.
///
/// # Errors
///
/// Those of [`correlate2d`], and [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out` does not
/// have the output's shape (then `out` is left untouched).
///
/// # Examples
///
/// ```
/// use convolve::{correlate2d_into, ConvOptions, Padding};
/// use ndarray::{array, Array2};
///
/// let x = array![[1.0, 2.0], [3.0, 4.0]];
/// let mut out = Array2::from_elem((3, 3), f64::NAN);
/// correlate2d_into(&x, &array![[1.0, 1.0], [1.0, 1.0]], &ConvOptions::new().padding(Padding::Full), &mut out)?;
/// assert_eq!(out, array![[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn correlate2d_into<A: Element>(
    input: &ArrayRef2<A>,
    kernel: &ArrayRef2<A>,
    options: &ConvOptions,
    out: &mut ArrayRef2<A>,
) -> Result<()> {
    SingleChannel::new(input.view(), kernel.view(), options, Operation::CrossCorrelation)?
        .run_into(options.algorithm, out)
}

/// True 2-D convolution, as `scipy.signal.convolve2d` computes it: the
/// kernel rotated by 180°, then [`correlate2d`] without conjugation.
///
/// ```text
/// y[i, j] = Σ_a Σ_b  x̃[i·sh − a·dh + (kh−1)·dh − top, …] · k[a, b]
///
///   k = 1 2      rotated:  4 3     then slid over x̃ like correlate2d
///       3 4                2 1
/// ```
///
/// [`Padding::Same`] splits an odd total padding with the larger half
/// before the input, so that even-sized kernels give exactly scipy's
/// `'same'` output.
///
/// # Errors
///
/// As for [`correlate2d`].
///
/// # Examples
///
/// ```
/// use convolve::{convolve2d, ConvOptions, Padding};
/// use ndarray::array;
///
/// // A delta at the kernel's last tap delays the signal by one.
/// let x = array![[1, 2, 3, 4]];
/// let k = array![[0, 1]];
/// let y = convolve2d(&x, &k, &ConvOptions::new().padding(Padding::Same))?;
/// assert_eq!(y, array![[0, 1, 2, 3]]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn convolve2d<A: Element>(input: &ArrayRef2<A>, kernel: &ArrayRef2<A>, options: &ConvOptions) -> Result<Array2<A>> {
    SingleChannel::new(input.view(), kernel.view(), options, Operation::Convolution)?.run(options.algorithm)
}

/// [`convolve2d`] into a caller's array of the output's shape (any
/// layout); allocates nothing.
///
/// # Errors
///
/// Those of [`convolve2d`], and [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `out` does not
/// have the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{convolve2d_into, ConvOptions};
/// use ndarray::{array, Array2};
///
/// let mut out = Array2::zeros((1, 1));
/// convolve2d_into(&array![[1, 2], [3, 4]], &array![[1, 0], [0, 0]], &ConvOptions::new(), &mut out)?;
/// assert_eq!(out[[0, 0]], 4);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn convolve2d_into<A: Element>(
    input: &ArrayRef2<A>,
    kernel: &ArrayRef2<A>,
    options: &ConvOptions,
    out: &mut ArrayRef2<A>,
) -> Result<()> {
    SingleChannel::new(input.view(), kernel.view(), options, Operation::Convolution)?.run_into(options.algorithm, out)
}

/// The algorithm that [`correlate2d`] (and [`correlate2d_into`]) will run
/// on these arguments, without running it: `options.algorithm` itself when
/// forced (unless it must give way, see [`Algorithm`]), the planner's choice
/// for [`Algorithm::Auto`].
///
/// It takes the arrays themselves because the choice can depend on their
/// values: whether the kernel has rank 1 ([`Algorithm::Separable`]), and
/// whether input and kernel are finite ([`Algorithm::Fft`]). It reads them
/// only where the choice depends on them, and allocates no output.
///
/// # Errors
///
/// Those of [`correlate2d`] for these arguments.
///
/// # Examples
///
/// ```
/// use convolve::{correlate2d_algorithm, Algorithm, ConvOptions, Padding};
/// use ndarray::{array, Array2};
///
/// let x = Array2::<f32>::zeros((1024, 1024));
/// let opts = ConvOptions::new().padding(Padding::Same);
/// // A 5×5 kernel of rank 2 runs the direct kernel in registers...
/// let k = Array2::from_shape_fn((5, 5), |(a, b)| (a * b + a + b % 2) as f32);
/// assert_eq!(correlate2d_algorithm(&x, &k, &opts)?, Algorithm::Vectorized);
/// // ... and a 9×9 box filter, of rank 1, two one-dimensional passes.
/// assert_eq!(correlate2d_algorithm(&x, &Array2::ones((9, 9)), &opts)?, Algorithm::Separable);
/// // Forced, the separable path gives way on a kernel of rank 2.
/// let forced = opts.algorithm(Algorithm::Separable);
/// assert_eq!(correlate2d_algorithm(&x, &k, &forced)?, Algorithm::Vectorized);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn correlate2d_algorithm<A: Element>(
    input: &ArrayRef2<A>,
    kernel: &ArrayRef2<A>,
    options: &ConvOptions,
) -> Result<Algorithm> {
    SingleChannel::new(input.view(), kernel.view(), options, Operation::CrossCorrelation).map(|s| s.algorithm(options))
}

/// The algorithm that [`convolve2d`] (and [`convolve2d_into`]) will run on
/// these arguments, without running it; as [`correlate2d_algorithm`].
///
/// # Errors
///
/// Those of [`convolve2d`] for these arguments.
///
/// # Examples
///
/// ```
/// use convolve::{convolve2d_algorithm, Algorithm, ConvOptions, Padding};
/// use ndarray::Array2;
///
/// let x = Array2::<f64>::zeros((512, 512));
/// let opts = ConvOptions::new().padding(Padding::Same);
/// assert_eq!(convolve2d_algorithm(&x, &Array2::ones((9, 9)), &opts)?, Algorithm::Separable);
/// let direct = opts.algorithm(Algorithm::Direct);
/// assert_eq!(convolve2d_algorithm(&x, &Array2::ones((9, 9)), &direct)?, Algorithm::Direct);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn convolve2d_algorithm<A: Element>(
    input: &ArrayRef2<A>,
    kernel: &ArrayRef2<A>,
    options: &ConvOptions,
) -> Result<Algorithm> {
    SingleChannel::new(input.view(), kernel.view(), options, Operation::Convolution).map(|s| s.algorithm(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_mode_swaps_a_larger_kernel_with_the_input() {
        let opts = ConvOptions::new();
        let r = resolve::<f64, 2>([3, 4], [5, 6], &opts, Operation::CrossCorrelation).unwrap();
        assert!(r.swap);
        // The 3×4 "kernel" over the 5×6 "input": 3×3 outputs.
        assert_eq!(r.geometry.map(|g| g.output_len().unwrap()), [3, 3]);
        assert!(
            !resolve::<f64, 2>([5, 6], [3, 4], &opts, Operation::CrossCorrelation)
                .unwrap()
                .swap
        );
    }

    #[test]
    fn no_swap_outside_scipys_valid_mode() {
        // Padding, stride or dilation turn scipy's rule off: a kernel larger
        // than the input is then an error or a padded problem.
        let padded = ConvOptions::new().padding(Padding::Full);
        assert!(
            !resolve::<f64, 2>([3, 4], [5, 6], &padded, Operation::CrossCorrelation)
                .unwrap()
                .swap
        );
        let strided = ConvOptions::new().stride(2);
        assert!(matches!(
            resolve::<f64, 2>([3, 4], [5, 6], &strided, Operation::CrossCorrelation),
            Err(Error::KernelTooLarge { .. })
        ));
    }

    #[test]
    fn a_kernel_larger_along_one_axis_only_is_an_error() {
        let opts = ConvOptions::new();
        assert_eq!(
            resolve::<f64, 2>([3, 8], [5, 6], &opts, Operation::Convolution),
            Err(Error::ValidShapeMismatch {
                input: vec![3, 8],
                kernel: vec![5, 6]
            })
        );
    }

    #[test]
    fn only_one_group() {
        let opts = ConvOptions::new();
        assert_eq!(
            resolve::<f64, 2>([3, 3], [2, 2], &opts.groups(0), Operation::Convolution),
            Err(Error::ZeroGroups)
        );
        assert_eq!(
            resolve::<f64, 2>([3, 3], [2, 2], &opts.groups(2), Operation::Convolution),
            Err(Error::GroupsSingleChannel { groups: 2 })
        );
    }
}
