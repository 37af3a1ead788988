//! The convolution entry points.
//!
//! All of them resolve their options once, through [`crate::shape`], into a
//! validated [`Problem`], and hand it to an algorithm; the algorithms only
//! ever see consistent, checked numbers.

mod backward;
mod element;
mod fft;
mod gemm;
mod im2col;
mod options;
mod plan;
mod planner;
pub(crate) mod reference;
pub(crate) mod separable;
pub(crate) mod sliding;
mod tile;

use ndarray::{
    Array, Array1, Array2, Array4, ArrayBase, ArrayView1, ArrayView2, ArrayView4, ArrayViewMut1, ArrayViewMut4, Data,
    DataMut, Ix2, Ix4,
};
use num_traits::Float;

pub use element::Element;
pub use options::{Algorithm, Boundary, ConvOptions};
pub use plan::Conv2dPlan;

use crate::error::{Error, Result};
use crate::shape::{
    checked_len, conv2d_output_shape, spatial_geometry, transposed_geometry, AxisGeometry, Operation, Padding,
};

/// A convolution with every option resolved and checked: the only thing an
/// algorithm is given.
pub(crate) struct Problem<'a, A> {
    /// `[N, C, H, W]`.
    pub(crate) input: ArrayView4<'a, A>,
    /// `[O, C / groups, kh, kw]`, already oriented: a convolution's kernel
    /// arrives here rotated by 180°.
    pub(crate) weight: ArrayView4<'a, A>,
    /// One value per output channel.
    pub(crate) bias: Option<ArrayView1<'a, A>>,
    /// Whether each tap is conjugated (scipy's complex correlation).
    pub(crate) conjugate_kernel: bool,
    /// Rows, then columns.
    pub(crate) geometry: [AxisGeometry; 2],
    /// Channel groups; divides both `C` and `O`.
    pub(crate) groups: usize,
    /// How the padding is filled.
    pub(crate) boundary: Boundary<A>,
    /// Weight-dependent data a [`Conv2dPlan`] computed ahead.
    pub(crate) prepared: Option<&'a Prepared>,
    /// Scratch buffers kept between calls (a [`Conv2dPlan`]'s); without
    /// one, each kernel makes its own for the call.
    pub(crate) workspace: Option<&'a tile::Workspace<A>>,
}

/// What a [`Conv2dPlan`] computes once from the weights.
pub(crate) struct Prepared {
    /// The FFT kernel spectra (`fft::FftKernels` of the element type) when
    /// the plan runs the FFT.
    pub(crate) fft: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl<A> Problem<'_, A> {
    /// `[N, O, Ho, Wo]`; the geometry was checked when the problem was made.
    fn output_shape(&self) -> Result<[usize; 4]> {
        Ok([
            self.input.shape()[0],
            self.weight.shape()[0],
            self.geometry[0].output_len()?,
            self.geometry[1].output_len()?,
        ])
    }
}

impl<A: Element> Problem<'_, A> {
    fn shapes(&self) -> planner::Shapes {
        planner::Shapes {
            geometry: self.geometry,
            groups: self.groups,
            channels_per_group: self.weight.shape()[1],
            out_channels: self.weight.shape()[0],
        }
    }
}

/// Runs `problem` with the algorithm the planner settles on for `requested`.
fn execute<A: Element>(problem: &Problem<'_, A>, requested: Algorithm, out: ArrayViewMut4<'_, A>) {
    let finite = || fill_finite(&problem.boundary) && all_finite(problem.input) && all_finite(problem.weight);
    let mut factors = None;
    let algorithm = planner::choose::<A>(requested, &problem.shapes(), finite, || {
        factors = <A as element::private::Sealed>::separable_factors(problem);
        factors.is_some()
    });
    if algorithm == Algorithm::Separable && factors.is_none() {
        factors = <A as element::private::Sealed>::separable_factors(problem);
    }
    run(problem, algorithm, factors.as_ref(), out);
}

/// Runs `problem` with `algorithm`; `factors` are the separable factors of
/// its kernels, if they have them.
#[allow(clippy::type_complexity)]
fn run<A: Element>(
    problem: &Problem<'_, A>,
    algorithm: Algorithm,
    factors: Option<&separable::Factors<A>>,
    out: ArrayViewMut4<'_, A>,
) {
    match algorithm {
        Algorithm::Separable => match factors {
            Some(f) => <A as element::private::Sealed>::run_separable(problem, f, out),
            None => sliding::run(problem, out),
        },
        Algorithm::Vectorized => sliding::run(problem, out),
        Algorithm::Gemm => im2col::run(problem, out),
        Algorithm::Fft => <A as element::private::Sealed>::run_fft(problem, out),
        Algorithm::Auto | Algorithm::Direct => reference::run(problem, out),
    }
}

/// Whether every element of `values` is finite.
fn all_finite<A: Element, D: ndarray::Dimension>(values: ndarray::ArrayView<'_, A, D>) -> bool {
    values.iter().all(|&v| element::private::Sealed::finite(v))
}

/// Whether the padding `boundary` adds is finite.
fn fill_finite<A: Element>(boundary: &Boundary<A>) -> bool {
    match boundary {
        Boundary::Fill(v) => element::private::Sealed::finite(*v),
        _ => true,
    }
}

/// The shape of a 4-D array as a fixed-size array.
pub(crate) fn dims4(shape: &[usize]) -> [usize; 4] {
    [shape[0], shape[1], shape[2], shape[3]]
}

/// Checks that an output of `len` elements of `A` can be allocated at all.
fn check_allocation<A>(shape: &[usize]) -> Result<()> {
    let len = checked_len(shape)?;
    len.checked_mul(std::mem::size_of::<A>().max(1))
        .filter(|&bytes| bytes <= isize::MAX as usize)
        .map(|_| ())
        .ok_or(Error::Overflow {
            what: "the output size in bytes",
        })
}

fn check_output_shape(expected: &[usize], got: &[usize]) -> Result<()> {
    check_shape("the output", expected, got)
}

/// `Err(ShapeMismatch)` naming `what` unless `got` is `expected`.
fn check_shape(what: &'static str, expected: &[usize], got: &[usize]) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what,
            expected: expected.to_vec(),
            got: got.to_vec(),
        })
    }
}

/// `Err(BiasLength)` unless the bias, if any, has one value per output
/// channel.
fn check_bias(bias: Option<usize>, out_channels: usize) -> Result<()> {
    match bias {
        Some(len) if len != out_channels => Err(Error::BiasLength {
            expected: out_channels,
            got: len,
        }),
        _ => Ok(()),
    }
}

/// A single-channel problem, and whether its output is read backwards
/// (scipy's `valid` mode with the inputs' roles swapped).
struct Plan2d<'a, A> {
    problem: Problem<'a, A>,
    reversed: bool,
}

/// scipy's reading of a single-channel problem, from shapes alone: the
/// resolved geometry, and whether input and kernel swap roles (`valid`
/// mode with a kernel at least as large as the input along both axes).
struct Resolved2d {
    geometry: [AxisGeometry; 2],
    swap: bool,
}

fn resolve_2d<A>(
    in_shape: [usize; 2],
    k_shape: [usize; 2],
    options: &ConvOptions<A>,
    operation: Operation,
) -> Result<Resolved2d> {
    match options.groups {
        0 => return Err(Error::ZeroGroups),
        1 => {}
        groups => {
            return Err(Error::GroupsMismatch {
                groups,
                channels: 1,
                what: "input",
            })
        }
    }
    // Rejects empty kernels and inputs, zero strides and dilations.
    spatial_geometry(in_shape, k_shape, options, operation)?;

    let scipy_valid = options.padding == Padding::Valid && options.stride == [1, 1] && options.dilation == [1, 1];
    let kernel_fits = in_shape[0] >= k_shape[0] && in_shape[1] >= k_shape[1];
    let input_fits = k_shape[0] >= in_shape[0] && k_shape[1] >= in_shape[1];
    if scipy_valid && !kernel_fits && !input_fits {
        return Err(Error::ValidShapeMismatch {
            input: in_shape,
            kernel: k_shape,
        });
    }
    let swap = scipy_valid && !kernel_fits;
    let (in_shape, k_shape) = if swap { (k_shape, in_shape) } else { (in_shape, k_shape) };
    let geometry = spatial_geometry(in_shape, k_shape, options, operation)?;
    let out = [geometry[0].output_len()?, geometry[1].output_len()?];
    check_allocation::<A>(&out)?;
    Ok(Resolved2d { geometry, swap })
}

fn plan_2d<'a, A: Element>(
    input: ArrayView2<'a, A>,
    kernel: ArrayView2<'a, A>,
    options: &ConvOptions<A>,
    operation: Operation,
) -> Result<Plan2d<'a, A>> {
    let resolved = resolve_2d(
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
            rotated.invert_axis(ndarray::Axis(0));
            rotated.invert_axis(ndarray::Axis(1));
            (rotated, false)
        }
    };
    let problem = Problem {
        input: input.insert_axis(ndarray::Axis(0)).insert_axis(ndarray::Axis(0)),
        weight: kernel.insert_axis(ndarray::Axis(0)).insert_axis(ndarray::Axis(0)),
        bias: None,
        conjugate_kernel,
        geometry: resolved.geometry,
        groups: 1,
        boundary: options.boundary,
        prepared: None,
        workspace: None,
    };
    Ok(Plan2d {
        problem,
        // Convolution is commutative; only correlation reads the swapped
        // result backwards.
        reversed: resolved.swap && operation == Operation::CrossCorrelation,
    })
}

fn run_2d_into<A, S>(plan: Plan2d<'_, A>, algorithm: Algorithm, out: &mut ArrayBase<S, Ix2>) -> Result<()>
where
    A: Element,
    S: DataMut<Elem = A>,
{
    let shape = plan.problem.output_shape()?;
    check_output_shape(&shape[2..], out.shape())?;
    let mut view = out.view_mut();
    if plan.reversed {
        view.invert_axis(ndarray::Axis(0));
        view.invert_axis(ndarray::Axis(1));
    }
    let view = view.insert_axis(ndarray::Axis(0)).insert_axis(ndarray::Axis(0));
    execute(&plan.problem, algorithm, view);
    Ok(())
}

fn run_2d<A: Element>(plan: Plan2d<'_, A>, algorithm: Algorithm) -> Result<Array2<A>> {
    let shape = plan.problem.output_shape()?;
    let mut out = Array2::zeros((shape[2], shape[3]));
    run_2d_into(plan, algorithm, &mut out)?;
    Ok(out)
}

/// Cross-correlation of a 2-D array with a 2-D kernel, as
/// `scipy.signal.correlate2d` computes it: "convolution" as CNNs mean it.
///
/// ```text
/// y[i, j] = Σ_a Σ_b  x̃[i·sh + a·dh − top, j·sw + b·dw − left] · conj(k[a, b])
/// ```
///
/// where `x̃` is `x` extended by the [`Boundary`] rule and `top`/`left` come
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
/// - [`Error::ZeroStride`], [`Error::ZeroDilation`], [`Error::EmptyKernel`],
///   [`Error::EmptyInput`] (whatever the padding), [`Error::Overflow`].
/// - [`Error::KernelTooLarge`] if no output position exists;
///   [`Error::ValidShapeMismatch`] for scipy's `valid` mode when the
///   kernel is larger than the input along one axis only.
/// - [`Error::ZeroGroups`] or [`Error::GroupsMismatch`] unless
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
pub fn correlate2d<A, S1, S2>(
    input: &ArrayBase<S1, Ix2>,
    kernel: &ArrayBase<S2, Ix2>,
    options: &ConvOptions<A>,
) -> Result<Array2<A>>
where
    A: Element,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    let plan = plan_2d(input.view(), kernel.view(), options, Operation::CrossCorrelation)?;
    run_2d(plan, options.algorithm)
}

/// [`correlate2d`] into a caller's array of the output's shape (any
/// layout); allocates nothing.
///
/// # Errors
///
/// Those of [`correlate2d`], and [`Error::ShapeMismatch`] if `out` does not
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
pub fn correlate2d_into<A, S1, S2, S3>(
    input: &ArrayBase<S1, Ix2>,
    kernel: &ArrayBase<S2, Ix2>,
    options: &ConvOptions<A>,
    out: &mut ArrayBase<S3, Ix2>,
) -> Result<()>
where
    A: Element,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: DataMut<Elem = A>,
{
    let plan = plan_2d(input.view(), kernel.view(), options, Operation::CrossCorrelation)?;
    run_2d_into(plan, options.algorithm, out)
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
pub fn convolve2d<A, S1, S2>(
    input: &ArrayBase<S1, Ix2>,
    kernel: &ArrayBase<S2, Ix2>,
    options: &ConvOptions<A>,
) -> Result<Array2<A>>
where
    A: Element,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    let plan = plan_2d(input.view(), kernel.view(), options, Operation::Convolution)?;
    run_2d(plan, options.algorithm)
}

/// [`convolve2d`] into a caller's array of the output's shape (any
/// layout); allocates nothing.
///
/// # Errors
///
/// Those of [`convolve2d`], and [`Error::ShapeMismatch`] if `out` does not
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
pub fn convolve2d_into<A, S1, S2, S3>(
    input: &ArrayBase<S1, Ix2>,
    kernel: &ArrayBase<S2, Ix2>,
    options: &ConvOptions<A>,
    out: &mut ArrayBase<S3, Ix2>,
) -> Result<()>
where
    A: Element,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: DataMut<Elem = A>,
{
    let plan = plan_2d(input.view(), kernel.view(), options, Operation::Convolution)?;
    run_2d_into(plan, options.algorithm, out)
}

fn plan_batched<'a, A: Element>(
    input: ArrayView4<'a, A>,
    weight: ArrayView4<'a, A>,
    bias: Option<ArrayView1<'a, A>>,
    options: &ConvOptions<A>,
) -> Result<Problem<'a, A>> {
    let out_shape = conv2d_output_shape(dims4(input.shape()), dims4(weight.shape()), options)?;
    check_bias(bias.as_ref().map(|b| b.len()), out_shape[1])?;
    check_allocation::<A>(&out_shape)?;
    let geometry = spatial_geometry(
        [input.shape()[2], input.shape()[3]],
        [weight.shape()[2], weight.shape()[3]],
        options,
        Operation::CrossCorrelation,
    )?;
    Ok(Problem {
        input,
        weight,
        bias,
        conjugate_kernel: false,
        geometry,
        groups: options.groups,
        boundary: options.boundary,
        prepared: None,
        workspace: None,
    })
}

/// Batched, multi-channel convolution of NCHW images, as PyTorch's
/// `torch.nn.functional.conv2d` computes it (cross-correlation, no
/// conjugation), with the padding filled by `options.boundary` (PyTorch's
/// `padding_mode`).
///
/// With `G = options.groups`, input `[N, C, H, W]`, weight
/// `[O, C/G, kh, kw]` and output `[N, O, Ho, Wo]`, output channel `o`
/// belongs to group `g = o / (O/G)` and sees only input channels
/// `g·C/G .. (g+1)·C/G`:
///
/// ```text
/// y[n, o, i, j] = bias[o] + Σ_c Σ_a Σ_b  x̃[n, g·C/G + c, i·sh + a·dh − top, j·sw + b·dw − left] · w[o, c, a, b]
///
///   input channels   c0 c1 | c2 c3        groups = 2
///   weights          o0 o1 | o2 o3        o0, o1 read c0, c1; o2, o3 read c2, c3
/// ```
///
/// A kernel that does not fit in the padded input is an error, as in
/// PyTorch; an empty batch (`N = 0`) gives an empty output.
///
/// # Errors
///
/// Those of [`crate::shape::conv2d_output_shape`] (stride, dilation, empty
/// kernel or input, groups, weight channels, kernel too large, overflow),
/// and [`Error::BiasLength`] if the bias does not have `O` elements.
///
/// # Examples
///
/// ```
/// use convolve::{conv2d, ConvOptions, Padding};
/// use ndarray::{array, Array, Array4};
///
/// // Two 3×3 images of ones, one channel, through a 2×2 box filter with bias 0.5.
/// let x = Array4::<f32>::ones((2, 1, 3, 3));
/// let w = Array4::<f32>::ones((1, 1, 2, 2));
/// let y = conv2d(&x, &w, Some(&array![0.5]), &ConvOptions::new())?;
/// assert_eq!(y.shape(), [2, 1, 2, 2]);
/// assert!(y.iter().all(|&v| v == 4.5));
///
/// // The tutorial's layer: 224×224×3 through 96 kernels of 11×11 at stride 4.
/// let x = Array4::<f32>::zeros((1, 3, 224, 224));
/// let w = Array4::<f32>::zeros((96, 3, 11, 11));
/// assert_eq!(conv2d(&x, &w, None, &ConvOptions::new().stride(4))?.shape(), [1, 96, 54, 54]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d<A, S1, S2>(
    input: &ArrayBase<S1, Ix4>,
    weight: &ArrayBase<S2, Ix4>,
    bias: Option<&Array1<A>>,
    options: &ConvOptions<A>,
) -> Result<Array4<A>>
where
    A: Element,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    let problem = plan_batched(input.view(), weight.view(), bias.map(|b| b.view()), options)?;
    let mut out = Array::zeros(problem.output_shape()?);
    execute(&problem, options.algorithm, out.view_mut());
    Ok(out)
}

/// [`conv2d`] into a caller's array of the output's shape (any layout);
/// allocates nothing.
///
/// # Errors
///
/// Those of [`conv2d`], and [`Error::ShapeMismatch`] if `out` does not have
/// the output's shape.
///
/// # Examples
///
/// ```
/// use convolve::{conv2d_into, ConvOptions};
/// use ndarray::Array4;
///
/// let x = Array4::<f64>::ones((1, 2, 4, 4));
/// let w = Array4::<f64>::ones((3, 2, 3, 3));
/// let mut out = Array4::zeros((1, 3, 2, 2));
/// conv2d_into(&x, &w, None, &ConvOptions::new(), &mut out)?;
/// assert!(out.iter().all(|&v| v == 18.0));
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d_into<A, S1, S2, S3>(
    input: &ArrayBase<S1, Ix4>,
    weight: &ArrayBase<S2, Ix4>,
    bias: Option<&Array1<A>>,
    options: &ConvOptions<A>,
    out: &mut ArrayBase<S3, Ix4>,
) -> Result<()>
where
    A: Element,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: DataMut<Elem = A>,
{
    let problem = plan_batched(input.view(), weight.view(), bias.map(|b| b.view()), options)?;
    check_output_shape(&problem.output_shape()?, out.shape())?;
    execute(&problem, options.algorithm, out.view_mut());
    Ok(())
}

/// The algorithm that [`correlate2d`] and [`convolve2d`] will run for these
/// shapes and options, without running it: `options.algorithm` itself when
/// forced (unless it must give way, see [`Algorithm`]), the planner's choice
/// for [`Algorithm::Auto`].
///
/// # Errors
///
/// Those of [`correlate2d`] for these shapes.
///
/// # Examples
///
/// ```
/// use convolve::{correlate2d_algorithm, Algorithm, ConvOptions, Padding};
///
/// let opts = ConvOptions::<f32>::new().padding(Padding::Same);
/// assert_eq!(correlate2d_algorithm([1024, 1024], [5, 5], &opts)?, Algorithm::Vectorized);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn correlate2d_algorithm<A: Element>(
    input: [usize; 2],
    kernel: [usize; 2],
    options: &ConvOptions<A>,
) -> Result<Algorithm> {
    let resolved = resolve_2d(input, kernel, options, Operation::CrossCorrelation)?;
    let shapes = planner::Shapes {
        geometry: resolved.geometry,
        groups: 1,
        channels_per_group: 1,
        out_channels: 1,
    };
    Ok(planner::choose::<A>(options.algorithm, &shapes, || true, || false))
}

/// The algorithm that [`conv2d`] will run for these shapes and options,
/// without running it.
///
/// # Errors
///
/// Those of [`conv2d`] for these shapes (bias aside).
///
/// # Examples
///
/// ```
/// use convolve::{conv2d_algorithm, Algorithm, ConvOptions, Padding};
///
/// let opts = ConvOptions::<f32>::new().padding(Padding::uniform(1));
/// // A ResNet layer is a matrix product; its depthwise cousin is not.
/// assert_eq!(conv2d_algorithm([8, 64, 56, 56], [64, 64, 3, 3], &opts)?, Algorithm::Gemm);
/// let depthwise = opts.groups(128);
/// assert_eq!(conv2d_algorithm([8, 128, 56, 56], [128, 1, 3, 3], &depthwise)?, Algorithm::Vectorized);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn conv2d_algorithm<A: Element>(
    input: [usize; 4],
    weight: [usize; 4],
    options: &ConvOptions<A>,
) -> Result<Algorithm> {
    conv2d_output_shape(input, weight, options)?;
    let geometry = spatial_geometry(
        [input[2], input[3]],
        [weight[2], weight[3]],
        options,
        Operation::CrossCorrelation,
    )?;
    let shapes = planner::Shapes {
        geometry,
        groups: options.groups,
        channels_per_group: weight[1],
        out_channels: weight[0],
    };
    Ok(planner::choose::<A>(options.algorithm, &shapes, || true, || false))
}

/// The three gradients of [`conv2d`], as [`conv2d_backward`] returns them.
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
pub struct Conv2dGrads<A> {
    /// `∂L/∂x`, shaped like the input `[N, C, H, W]`.
    pub input: Array4<A>,
    /// `∂L/∂w`, shaped like the weight `[O, C/groups, kh, kw]`.
    pub weight: Array4<A>,
    /// `∂L/∂b`, one per output channel.
    pub bias: Array1<A>,
}

/// Where [`conv2d_backward_into`] writes each gradient; a `None` gradient is
/// not computed at all (no weight gradient when only the input is being
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
pub struct Conv2dGradsMut<'a, A> {
    /// Receives `∂L/∂x` (`[N, C, H, W]`), any layout.
    pub input: Option<ArrayViewMut4<'a, A>>,
    /// Receives `∂L/∂w` (`[O, C/groups, kh, kw]`), any layout.
    pub weight: Option<ArrayViewMut4<'a, A>>,
    /// Receives `∂L/∂b` (`[O]`).
    pub bias: Option<ArrayViewMut1<'a, A>>,
}

impl<A> Conv2dGradsMut<'_, A> {
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
        Conv2dGradsMut {
            input: None,
            weight: None,
            bias: None,
        }
    }
}

/// The gradients of [`conv2d`] (without its bias term's value, which does
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
/// Every error of [`conv2d`] for `input` and `weight`, and
/// [`Error::ShapeMismatch`] if `grad_output` does not have the output's
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
pub fn conv2d_backward<A, S1, S2, S3>(
    input: &ArrayBase<S1, Ix4>,
    weight: &ArrayBase<S2, Ix4>,
    grad_output: &ArrayBase<S3, Ix4>,
    options: &ConvOptions<A>,
) -> Result<Conv2dGrads<A>>
where
    A: Element + Float,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: Data<Elem = A>,
{
    let mut grads = Conv2dGrads {
        input: Array4::zeros(input.raw_dim()),
        weight: Array4::zeros(weight.raw_dim()),
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
/// Those of [`conv2d_backward`], and [`Error::ShapeMismatch`] if a
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
pub fn conv2d_backward_into<A, S1, S2, S3>(
    input: &ArrayBase<S1, Ix4>,
    weight: &ArrayBase<S2, Ix4>,
    grad_output: &ArrayBase<S3, Ix4>,
    options: &ConvOptions<A>,
    grads: Conv2dGradsMut<'_, A>,
) -> Result<()>
where
    A: Element + Float,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: Data<Elem = A>,
{
    let problem = plan_batched(input.view(), weight.view(), None, options)?;
    check_shape("the output gradient", &problem.output_shape()?, grad_output.shape())?;
    if let Some(dx) = &grads.input {
        check_shape("the input gradient", input.shape(), dx.shape())?;
    }
    if let Some(dw) = &grads.weight {
        check_shape("the weight gradient", weight.shape(), dw.shape())?;
    }
    if let Some(db) = &grads.bias {
        check_shape("the bias gradient", &weight.shape()[..1], db.shape())?;
    }
    let grad_output = grad_output.view();
    if let Some(dx) = grads.input {
        backward::input_gradient(grad_output, weight.view(), problem.geometry, options, dx);
    }
    if let Some(dw) = grads.weight {
        backward::weight_gradient(&problem, grad_output, options.algorithm, dw);
    }
    if let Some(db) = grads.bias {
        backward::bias_gradient(grad_output, db);
    }
    Ok(())
}

/// Transposed convolution ("deconvolution"), as PyTorch's
/// `conv_transpose2d`: the adjoint of [`conv2d`] with respect to its input,
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
/// [`Error::BiasLength`] if the bias does not have `C_out` elements.
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
pub fn conv_transpose2d<A, S1, S2>(
    input: &ArrayBase<S1, Ix4>,
    weight: &ArrayBase<S2, Ix4>,
    bias: Option<&Array1<A>>,
    options: &ConvOptions<A>,
) -> Result<Array4<A>>
where
    A: Element + Float,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    let shape = crate::shape::conv_transpose2d_output_shape(dims4(input.shape()), dims4(weight.shape()), options)?;
    check_allocation::<A>(&shape)?;
    let mut out = Array4::zeros(shape);
    conv_transpose2d_into(input, weight, bias, options, &mut out)?;
    Ok(out)
}

/// [`conv_transpose2d`] into a caller's array of the output's shape (any
/// layout).
///
/// # Errors
///
/// Those of [`conv_transpose2d`], and [`Error::ShapeMismatch`] if `out`
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
pub fn conv_transpose2d_into<A, S1, S2, S3>(
    input: &ArrayBase<S1, Ix4>,
    weight: &ArrayBase<S2, Ix4>,
    bias: Option<&Array1<A>>,
    options: &ConvOptions<A>,
    out: &mut ArrayBase<S3, Ix4>,
) -> Result<()>
where
    A: Element + Float,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: DataMut<Elem = A>,
{
    let shape = crate::shape::conv_transpose2d_output_shape(dims4(input.shape()), dims4(weight.shape()), options)?;
    check_bias(bias.map(|b| b.len()), shape[1])?;
    check_output_shape(&shape, out.shape())?;
    let geometry = transposed_geometry(dims4(input.shape()), dims4(weight.shape()), options)?;
    backward::input_gradient(input.view(), weight.view(), geometry, options, out.view_mut());
    if let Some(bias) = bias {
        for (mut channel, &b) in out.axis_iter_mut(ndarray::Axis(1)).zip(bias) {
            channel.mapv_inplace(|v| v + b);
        }
    }
    Ok(())
}
