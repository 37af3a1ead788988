//! Plans: a batched convolution prepared once for many calls.

use ndarray::{Array1, Array4, ArrayBase, ArrayView4, Data, DataMut, Ix4};

use super::boundary::fill_finite;
use super::element::Element;
use super::exec::scratch::Workspace;
use super::kernels::{run, separable};
use super::planner::{self, Recipe};
use super::problem::{all_finite, check_batched, check_shape, dims4, zeros, Prepared, Problem};
use crate::error::Result;
use crate::options::{Algorithm, ConvOptions};
use crate::shape::AxisGeometry;

/// A [`conv2d`](crate::conv2d) of fixed weights, bias, options and input
/// shape, prepared for repeated calls: shapes checked, the algorithm
/// chosen, the weights laid out contiguously for the direct and GEMM
/// kernels, the factors of rank-1 kernels found and, where the FFT runs,
/// the kernel spectra and FFT plans computed, all once.
///
/// The plan also keeps the scratch buffers its blocks work in (a few
/// hundred KiB per thread, made by the first call for every thread of the
/// rayon pool it runs on), so that later calls of
/// [`Conv2dPlan::run_into`] allocate nothing, except for a few bytes of
/// bookkeeping inside each of the `gemm` crate's matrix products when the
/// plan runs [`Algorithm::Gemm`]. A plan may be shared between threads;
/// calls made at the same time each take their own buffers (the first time
/// they overlap, that takes new ones).
///
/// # Examples
///
/// ```
/// use convolve::{Conv2dPlan, ConvOptions, Padding};
/// use ndarray::{Array1, Array4};
///
/// let w = Array4::<f32>::ones((16, 3, 3, 3));
/// let plan = Conv2dPlan::new([4, 3, 32, 32], &w, Some(&Array1::zeros(16)), &ConvOptions::new().padding(Padding::Same))?;
/// assert_eq!(plan.output_shape(), [4, 16, 32, 32]);
/// let mut out = Array4::zeros(plan.output_shape());
/// for _ in 0..3 {
///     let x = Array4::<f32>::ones((4, 3, 32, 32));
///     plan.run_into(&x, &mut out)?;
/// }
/// assert_eq!(out[[0, 0, 5, 5]], 27.0);
/// # Ok::<(), convolve::Error>(())
/// ```
pub struct Conv2dPlan<A: Element> {
    input_shape: [usize; 4],
    output_shape: [usize; 4],
    weight: Array4<A>,
    bias: Option<Array1<A>>,
    options: ConvOptions<A>,
    geometry: [AxisGeometry; 2],
    recipe: Recipe,
    factors: Option<separable::Factors<A>>,
    prepared: Prepared<A>,
    workspace: Workspace<A>,
}

impl<A: Element> std::fmt::Debug for Conv2dPlan<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conv2dPlan")
            .field("input_shape", &self.input_shape)
            .field("output_shape", &self.output_shape)
            .field("weight_shape", &self.weight.shape())
            .field("options", &self.options)
            .field("algorithm", &self.recipe.algorithm)
            .finish_non_exhaustive()
    }
}

impl<A: Element> Conv2dPlan<A> {
    /// Prepares `conv2d(x, weight, bias, options)` for inputs of shape
    /// `input_shape`.
    ///
    /// # Errors
    ///
    /// Every error [`conv2d`](crate::conv2d) would return for these shapes.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Algorithm, Conv2dPlan, ConvOptions};
    /// use ndarray::Array4;
    ///
    /// let plan = Conv2dPlan::new([8, 64, 56, 56], &Array4::<f32>::zeros((64, 64, 3, 3)), None, &ConvOptions::new())?;
    /// assert_eq!(plan.algorithm(), Algorithm::Gemm);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn new<S>(
        input_shape: [usize; 4],
        weight: &ArrayBase<S, Ix4>,
        bias: Option<&Array1<A>>,
        options: &ConvOptions<A>,
    ) -> Result<Self>
    where
        S: Data<Elem = A>,
    {
        let checked = check_batched(input_shape, dims4(weight.shape()), bias.map(|b| b.len()), options)?;
        let weight = weight.as_standard_layout().into_owned();
        let bias = bias.cloned();
        let finite = all_finite(weight.view()) && fill_finite(&options.boundary);
        // The choice for finite inputs; `run_into` revisits it when an
        // input is not.
        let empty = Array4::zeros((0, input_shape[1], input_shape[2], input_shape[3]));
        let problem = Problem::batched(
            empty.view(),
            weight.view(),
            bias.as_ref().map(|b| b.view()),
            checked.geometry,
            options,
        );
        let factors = A::separable_factors(&problem);
        let recipe = planner::choose::<A>(options.algorithm, &problem.shapes(), || finite, || factors.is_some());
        let spectra = match recipe.algorithm {
            Algorithm::Fft => A::fft_spectra(&problem, [checked.output_shape[2], checked.output_shape[3]]),
            _ => None,
        };
        Ok(Conv2dPlan {
            input_shape,
            output_shape: checked.output_shape,
            weight,
            bias,
            options: *options,
            geometry: checked.geometry,
            recipe,
            factors,
            prepared: Prepared { spectra },
            workspace: Workspace::default(),
        })
    }

    fn problem<'a>(&'a self, input: ArrayView4<'a, A>) -> Problem<'a, A> {
        let bias = self.bias.as_ref().map(|b| b.view());
        Problem {
            prepared: Some(&self.prepared),
            workspace: Some(&self.workspace),
            ..Problem::batched(input, self.weight.view(), bias, self.geometry, &self.options)
        }
    }

    /// The input shape the plan was made for.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dPlan, ConvOptions};
    /// use ndarray::Array4;
    /// let plan = Conv2dPlan::new([1, 1, 5, 5], &Array4::<f64>::ones((1, 1, 3, 3)), None, &ConvOptions::new())?;
    /// assert_eq!(plan.input_shape(), [1, 1, 5, 5]);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub fn input_shape(&self) -> [usize; 4] {
        self.input_shape
    }

    /// The output shape of every call.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dPlan, ConvOptions};
    /// use ndarray::Array4;
    /// let plan = Conv2dPlan::new([1, 1, 5, 5], &Array4::<f64>::ones((2, 1, 3, 3)), None, &ConvOptions::new())?;
    /// assert_eq!(plan.output_shape(), [1, 2, 3, 3]);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub fn output_shape(&self) -> [usize; 4] {
        self.output_shape
    }

    /// The algorithm the plan runs on finite inputs (with `Auto`, an input
    /// holding NaN or an infinity runs a direct algorithm instead of the
    /// FFT, as [`conv2d`](crate::conv2d) does).
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Algorithm, Conv2dPlan, ConvOptions, Padding};
    /// use ndarray::Array4;
    /// let opts = ConvOptions::new().padding(Padding::Same);
    /// // A large kernel that is not an outer product runs through the FFT...
    /// let k = Array4::from_shape_fn((1, 1, 21, 21), |(_, _, a, b)| ((a * b) % 7) as f64);
    /// assert_eq!(Conv2dPlan::new([1, 1, 512, 512], &k, None, &opts)?.algorithm(), Algorithm::Fft);
    /// // ... and one that is (a box filter) as two one-dimensional passes.
    /// let boxed = Array4::<f64>::ones((1, 1, 21, 21));
    /// assert_eq!(Conv2dPlan::new([1, 1, 512, 512], &boxed, None, &opts)?.algorithm(), Algorithm::Separable);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.recipe.algorithm
    }

    /// Runs the convolution on `input`.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `input` does not have the plan's input
    /// shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dPlan, ConvOptions};
    /// use ndarray::Array4;
    /// let plan = Conv2dPlan::new([1, 1, 4, 4], &Array4::<f64>::ones((1, 1, 2, 2)), None, &ConvOptions::new())?;
    /// let y = plan.run(&Array4::ones((1, 1, 4, 4)))?;
    /// assert!(y.iter().all(|&v| v == 4.0));
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn run<S>(&self, input: &ArrayBase<S, Ix4>) -> Result<Array4<A>>
    where
        S: Data<Elem = A>,
    {
        let mut out = zeros("the output", self.output_shape)?;
        self.run_into(input, &mut out)?;
        Ok(out)
    }

    /// Runs the convolution on `input` into `out` (any layout).
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `input` or `out` does not have the
    /// plan's shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dPlan, ConvOptions, Error};
    /// use ndarray::Array4;
    /// let plan = Conv2dPlan::new([1, 1, 4, 4], &Array4::<f64>::ones((1, 1, 2, 2)), None, &ConvOptions::new())?;
    /// let mut out = Array4::zeros((1, 1, 3, 3));
    /// assert!(matches!(plan.run_into(&Array4::ones((1, 1, 5, 5)), &mut out), Err(Error::ShapeMismatch { .. })));
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn run_into<S, S2>(&self, input: &ArrayBase<S, Ix4>, out: &mut ArrayBase<S2, Ix4>) -> Result<()>
    where
        S: Data<Elem = A>,
        S2: DataMut<Elem = A>,
    {
        check_shape("the input", &self.input_shape, input.shape())?;
        check_shape("the output", &self.output_shape, out.shape())?;
        let problem = self.problem(input.view());
        let recipe = match self.recipe.algorithm {
            // The FFT spreads a non-finite input value over its whole tile.
            Algorithm::Fft if self.options.algorithm == Algorithm::Auto && !all_finite(problem.input) => {
                planner::choose::<A>(Algorithm::Auto, &problem.shapes(), || false, || self.factors.is_some())
            }
            _ => self.recipe,
        };
        run(&problem, recipe, self.factors.as_ref(), out.view_mut());
        Ok(())
    }
}
