//! Plans: a batched convolution prepared once for many calls, forward and
//! backward, as a training loop makes them.

use ndarray::{Array1, Array4, ArrayRef1, ArrayRef4, ArrayView4};

use super::backward::{backward, input_gradient, BackwardWorkspace, Conv2dGradsMut};
use super::element::{Element, Float};
use super::exec::scratch::Workspace;
use super::kernels::{choose, gemm, run, separable};
use super::planner::{self, Recipe};
use super::problem::{check_batched, check_bias, check_bytes, check_shape, dims4, zeros, Prepared, Problem};
use crate::error::Result;
use crate::options::{Algorithm, ConvOptions};
use crate::shape::AxisGeometry;

/// A [`conv2d`](crate::conv2d) of given weights, bias, options and input
/// channels and size, prepared for repeated calls: shapes checked, the
/// algorithm chosen, the weights laid out contiguously for the direct and
/// GEMM kernels, the factors of rank-1 kernels found and, where the FFT
/// runs, the kernel spectra and FFT plans computed, all once.
///
/// A plan serves a training loop: [`run`](Conv2dPlan::run) and
/// [`run_into`](Conv2dPlan::run_into) take any batch size of the planned
/// `C × H × W` (a ragged last batch included),
/// [`set_weight`](Conv2dPlan::set_weight) and
/// [`set_bias`](Conv2dPlan::set_bias) put new parameters in place after an
/// optimizer step, and [`backward_into`](Conv2dPlan::backward_into) and
/// [`transpose_into`](Conv2dPlan::transpose_into) give the gradients and
/// the transposed convolution with the plan's weights.
///
/// The plan also keeps the scratch buffers its blocks work in (a few
/// hundred KiB per thread, made by the first call for every thread of the
/// rayon pool it runs on), so that later calls of
/// [`Conv2dPlan::run_into`] allocate nothing, except for a few bytes of
/// bookkeeping inside each of the `gemm` crate's matrix products when the
/// plan runs [`Algorithm::Gemm`] on that crate (complex numbers, pointwise
/// layers). The same holds for
/// [`backward_into`](Conv2dPlan::backward_into) and
/// [`transpose_into`](Conv2dPlan::transpose_into) on the direct, vectorized
/// and GEMM paths (the FFT and separable paths prepare the transposed
/// problem's kernels on each of those calls). A plan may be shared between threads;
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
/// // A last batch of one image.
/// assert_eq!(plan.run(&Array4::ones((1, 3, 32, 32)))?.shape(), [1, 16, 32, 32]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub struct Conv2dPlan<A: Element> {
    input_shape: [usize; 4],
    output_shape: [usize; 4],
    weight: Array4<A>,
    bias: Option<Array1<A>>,
    options: ConvOptions,
    geometry: [AxisGeometry; 2],
    fill: A,
    recipe: Recipe,
    factors: Option<separable::Factors<A>>,
    prepared: Prepared<A>,
    workspace: Workspace<A>,
    /// The buffers of `backward_into` and `transpose_into`.
    backward: BackwardWorkspace<A>,
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
    /// `input_shape` (`[N, C, H, W]`; later calls may have any `N`).
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
    /// // A 3×3 layer of 64 channels, as in ResNet: Winograd's algorithm,
    /// // its weights transformed once, here.
    /// let plan = Conv2dPlan::new([8, 64, 56, 56], &Array4::<f32>::zeros((64, 64, 3, 3)), None, &ConvOptions::new())?;
    /// assert_eq!(plan.algorithm(), Algorithm::Winograd);
    /// // A 5×5 layer: a matrix product.
    /// let plan = Conv2dPlan::new([8, 64, 56, 56], &Array4::<f32>::zeros((64, 64, 5, 5)), None, &ConvOptions::new())?;
    /// assert_eq!(plan.algorithm(), Algorithm::Gemm);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn new(
        input_shape: [usize; 4],
        weight: &ArrayRef4<A>,
        bias: Option<&ArrayRef1<A>>,
        options: &ConvOptions,
    ) -> Result<Self> {
        let checked = check_batched::<A>(input_shape, dims4(weight.shape()), bias.map(|b| b.len()), options)?;
        let mut plan = Conv2dPlan {
            input_shape,
            output_shape: checked.output_shape,
            weight: weight.as_standard_layout().into_owned(),
            bias: bias.map(|b| b.to_owned()),
            options: *options,
            geometry: checked.geometry,
            fill: checked.fill,
            recipe: Recipe {
                algorithm: Algorithm::Direct,
                rule: planner::Rule::Forced,
            },
            factors: None,
            prepared: Prepared {
                spectra: None,
                winograd: None,
                packed: None,
            },
            workspace: Workspace::default(),
            backward: BackwardWorkspace::default(),
        };
        plan.prepare();
        Ok(plan)
    }

    /// Chooses the algorithm for the current weights (for tame inputs;
    /// `run_into` revisits the choice when an input is not) and computes
    /// what it keeps of them. Reads the weights' values only where the
    /// choice depends on them (single-channel kernels: rank 1, or large
    /// enough for the FFT), and transforms new weights for Winograd's
    /// algorithm in the buffer of the old ones, so that for multi-channel
    /// layers it allocates nothing.
    fn prepare(&mut self) {
        let kept = self.prepared.packed.take();
        let empty = ArrayView4::from_shape((0, self.input_shape[1], self.input_shape[2], self.input_shape[3]), &[])
            .expect("an empty view has any shape");
        let reuse = self.prepared.winograd.take();
        let problem = self.problem(empty);
        let (recipe, factors) = choose(&problem, self.options.algorithm);
        let spectra = match recipe.algorithm {
            Algorithm::Fft => A::fft_spectra(&problem, [self.output_shape[2], self.output_shape[3]]),
            _ => None,
        };
        let winograd = match recipe.algorithm {
            Algorithm::Winograd => A::winograd_weights(&problem, reuse),
            _ => None,
        };
        // Packed into the buffer of the weights before, so that new weights
        // of the same shape allocate nothing.
        let packed = match recipe.algorithm {
            Algorithm::Gemm => gemm::pack_weights(&problem, kept),
            _ => None,
        };
        self.recipe = recipe;
        self.factors = factors;
        self.prepared = Prepared {
            spectra,
            winograd,
            packed,
        };
    }

    /// The problem of `input` with the plan's weights, bias and buffers.
    fn problem<'a>(&'a self, input: ArrayView4<'a, A>) -> Problem<'a, A> {
        Problem {
            input,
            weight: self.weight.view(),
            bias: self.bias.as_ref().map(|b| b.view()),
            conjugate_kernel: false,
            geometry: self.geometry,
            groups: self.options.groups,
            boundary: self.options.boundary,
            fill: self.fill,
            prepared: Some(&self.prepared),
            workspace: Some(&self.workspace),
        }
    }

    /// The output shape for `input`, after checking that it has the
    /// planned channels, height and width (any batch size).
    fn shape_for(&self, input: &[usize]) -> Result<[usize; 4]> {
        let n = input.first().copied().unwrap_or(0);
        let [_, c, h, w] = self.input_shape;
        check_shape("the input", &[n, c, h, w], input)?;
        let [_, o, ho, wo] = self.output_shape;
        let shape = [n, o, ho, wo];
        check_bytes::<A>(&shape)?;
        Ok(shape)
    }

    /// The input shape the plan was made for; calls may have another
    /// batch size.
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

    /// The output shape for the planned batch size (a call with another
    /// batch size has that many images).
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

    /// The algorithm the plan runs on tame inputs (with `Auto`, an input
    /// holding NaN, an infinity or values near the type's overflow runs
    /// another algorithm instead of the FFT or Winograd's, as
    /// [`conv2d`](crate::conv2d) does).
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

    /// The plan's weights, `[O, C / groups, kh, kw]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dPlan, ConvOptions};
    /// use ndarray::Array4;
    /// let w = Array4::<f32>::ones((2, 1, 3, 3));
    /// let plan = Conv2dPlan::new([1, 1, 5, 5], &w, None, &ConvOptions::new())?;
    /// assert_eq!(plan.weight(), &w);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub fn weight(&self) -> &Array4<A> {
        &self.weight
    }

    /// Puts new weights (of the plan's weight shape, any layout) in place,
    /// as after an optimizer step, and prepares them as
    /// [`new`](Conv2dPlan::new) did. For multi-channel layers this copies
    /// the values into the plan's own array and allocates nothing;
    /// single-channel kernels (whose values can change the algorithm: rank
    /// 1 or not, FFT spectra) are prepared again.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `weight` does not have the plan's weight
    /// shape (then the plan is unchanged).
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dPlan, ConvOptions};
    /// use ndarray::Array4;
    ///
    /// let mut w = Array4::<f32>::ones((8, 3, 3, 3));
    /// let mut plan = Conv2dPlan::new([2, 3, 8, 8], &w, None, &ConvOptions::new())?;
    /// let x = Array4::ones((2, 3, 8, 8));
    /// assert_eq!(plan.run(&x)?[[0, 0, 0, 0]], 27.0);
    /// // One SGD step, then the next forward pass with the new weights.
    /// w -= 0.5;
    /// plan.set_weight(&w)?;
    /// assert_eq!(plan.run(&x)?[[0, 0, 0, 0]], 13.5);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn set_weight(&mut self, weight: &ArrayRef4<A>) -> Result<()> {
        check_shape("the weight", self.weight.shape(), weight.shape())?;
        self.weight.assign(weight);
        self.prepare();
        Ok(())
    }

    /// Puts a new bias (one value per output channel, or none) in place.
    ///
    /// # Errors
    ///
    /// [`Error::BiasLength`](crate::Error::BiasLength) if the bias does not have one value per
    /// output channel (then the plan is unchanged).
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dPlan, ConvOptions};
    /// use ndarray::{array, Array4};
    ///
    /// let mut plan = Conv2dPlan::new([1, 1, 2, 2], &Array4::<f32>::ones((2, 1, 1, 1)), None, &ConvOptions::new())?;
    /// plan.set_bias(Some(&array![1.0, -1.0]))?;
    /// let y = plan.run(&Array4::zeros((1, 1, 2, 2)))?;
    /// assert_eq!((y[[0, 0, 0, 0]], y[[0, 1, 0, 0]]), (1.0, -1.0));
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn set_bias(&mut self, bias: Option<&ArrayRef1<A>>) -> Result<()> {
        check_bias(bias.map(|b| b.len()), self.output_shape[1])?;
        match (&mut self.bias, bias) {
            (Some(kept), Some(new)) => kept.assign(new),
            (kept, new) => *kept = new.map(|b| b.to_owned()),
        }
        Ok(())
    }

    /// Runs the convolution on `input` (`[N, C, H, W]` for any `N`).
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `input` does not have the plan's
    /// channels, height and width; [`Error::OutOfMemory`](crate::Error::OutOfMemory) if the output is
    /// too large to allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dPlan, ConvOptions};
    /// use ndarray::Array4;
    /// let plan = Conv2dPlan::new([1, 1, 4, 4], &Array4::<f64>::ones((1, 1, 2, 2)), None, &ConvOptions::new())?;
    /// let y = plan.run(&Array4::ones((3, 1, 4, 4)))?;
    /// assert_eq!(y.shape(), [3, 1, 3, 3]);
    /// assert!(y.iter().all(|&v| v == 4.0));
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn run(&self, input: &ArrayRef4<A>) -> Result<Array4<A>> {
        let mut out = zeros("the output", self.shape_for(input.shape())?)?;
        self.run_into(input, &mut out)?;
        Ok(out)
    }

    /// Runs the convolution on `input` (`[N, C, H, W]` for any `N`) into
    /// `out` (`[N, O, Ho, Wo]`, any layout).
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `input` does not have the plan's
    /// channels, height and width, or `out` not the output's shape.
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
    pub fn run_into(&self, input: &ArrayRef4<A>, out: &mut ArrayRef4<A>) -> Result<()> {
        let shape = self.shape_for(input.shape())?;
        check_shape("the output", &shape, out.shape())?;
        let problem = self.problem(input.view());
        let recipe = match self.recipe.algorithm {
            // The FFT and Winograd's transforms spread a non-finite input
            // value over their whole tile, and may overflow on huge ones.
            Algorithm::Fft | Algorithm::Winograd if self.options.algorithm == Algorithm::Auto && !problem.tame() => {
                planner::choose::<A>(Algorithm::Auto, &problem.shapes(), || false, || self.factors.is_some())
            }
            _ => self.recipe,
        };
        run(&problem, recipe, self.factors.as_ref(), out.view_mut());
        Ok(())
    }
}

impl<A: Float> Conv2dPlan<A> {
    /// The gradients of the plan's convolution at `input`, given the
    /// gradient of a loss with respect to its output, into `grads` (any
    /// subset), as [`conv2d_backward_into`](crate::conv2d_backward_into)
    /// computes them with the plan's weights and options.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `input` does not have the plan's
    /// channels, height and width, `grad_output` not the output's shape
    /// for that batch, or a requested gradient not its array's shape (then
    /// nothing is written).
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dGradsMut, Conv2dPlan, ConvOptions};
    /// use ndarray::{Array1, Array4};
    ///
    /// let w = Array4::<f64>::ones((2, 1, 2, 2));
    /// let plan = Conv2dPlan::new([1, 1, 3, 3], &w, None, &ConvOptions::new())?;
    /// let x = Array4::ones((1, 1, 3, 3));
    /// let (mut dw, mut db) = (Array4::zeros((2, 1, 2, 2)), Array1::zeros(2));
    /// let grads = Conv2dGradsMut { weight: Some(dw.view_mut()), bias: Some(db.view_mut()), ..Conv2dGradsMut::none() };
    /// plan.backward_into(&x, &Array4::ones((1, 2, 2, 2)), grads)?;
    /// // Each tap saw four ones; each output channel has four outputs.
    /// assert!(dw.iter().all(|&g| g == 4.0));
    /// assert_eq!(db.to_vec(), [4.0, 4.0]);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn backward_into(
        &self,
        input: &ArrayRef4<A>,
        grad_output: &ArrayRef4<A>,
        grads: Conv2dGradsMut<'_, A>,
    ) -> Result<()> {
        let shape = self.shape_for(input.shape())?;
        let problem = self.problem(input.view());
        backward(
            &problem,
            shape,
            grad_output.view(),
            &self.options,
            &self.backward,
            grads,
        )
    }

    /// The transposed convolution with the plan's weights: the adjoint of
    /// [`run`](Conv2dPlan::run), mapping `[N, O, Ho, Wo]` back to the
    /// input's `[N, C, H, W]` (no bias). It is the input gradient of
    /// [`backward_into`](Conv2dPlan::backward_into), and
    /// [`conv_transpose2d`](crate::conv_transpose2d) of `input` with the
    /// plan's weight and options, with the output padding that gives
    /// `H × W`.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `input` is not `[N, O, Ho, Wo]` for the
    /// plan's output, or `out` not `[N, C, H, W]` for the plan's input.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::{Conv2dPlan, ConvOptions};
    /// use ndarray::Array4;
    ///
    /// // ⟨run(x), y⟩ = ⟨x, transpose(y)⟩.
    /// let w = Array4::from_shape_fn((2, 1, 2, 2), |(o, _, a, b)| (o + 2 * a + b) as f64);
    /// let plan = Conv2dPlan::new([1, 1, 3, 3], &w, None, &ConvOptions::new())?;
    /// let x = Array4::from_shape_fn((1, 1, 3, 3), |(_, _, i, j)| (i * 3 + j) as f64);
    /// let y = Array4::from_shape_fn((1, 2, 2, 2), |(_, o, i, j)| (o + i + j) as f64);
    /// let mut xt = Array4::zeros((1, 1, 3, 3));
    /// plan.transpose_into(&y, &mut xt)?;
    /// assert_eq!((&plan.run(&x)? * &y).sum(), (&x * &xt).sum());
    /// # Ok::<(), convolve::Error>(())
    /// ```
    pub fn transpose_into(&self, input: &ArrayRef4<A>, out: &mut ArrayRef4<A>) -> Result<()> {
        let n = input.shape().first().copied().unwrap_or(0);
        let [_, o, ho, wo] = self.output_shape;
        check_shape("the input", &[n, o, ho, wo], input.shape())?;
        let [_, c, h, w] = self.input_shape;
        check_shape("the output", &[n, c, h, w], out.shape())?;
        input_gradient(
            input.view(),
            self.weight.view(),
            self.geometry,
            &self.options,
            &self.backward,
            out.view_mut(),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, Padding};

    #[test]
    fn a_weight_of_another_shape_leaves_the_plan_unchanged() {
        let w = Array4::<f32>::ones((4, 2, 3, 3));
        let mut plan = Conv2dPlan::new([1, 2, 6, 6], &w, None, &ConvOptions::new()).unwrap();
        let err = plan.set_weight(&Array4::zeros((4, 2, 2, 2))).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { what: "the weight", .. }));
        assert_eq!(plan.weight(), &w);
    }

    #[test]
    fn new_weights_can_change_the_algorithm() {
        // A box filter is rank 1; a checkerboard of the same size is not.
        let opts = ConvOptions::new().padding(Padding::Same);
        let boxed = Array4::<f64>::ones((1, 1, 5, 5));
        let mut plan = Conv2dPlan::new([1, 1, 64, 64], &boxed, None, &opts).unwrap();
        assert_eq!(plan.algorithm(), Algorithm::Separable);
        let checker = Array4::from_shape_fn((1, 1, 5, 5), |(_, _, a, b)| ((a + b) % 2) as f64 + (a * b) as f64);
        plan.set_weight(&checker).unwrap();
        assert_eq!(plan.algorithm(), Algorithm::Vectorized);
        let x = Array4::from_shape_fn((1, 1, 64, 64), |(_, _, i, j)| ((i * 7 + j * 3) % 11) as f64);
        let want = crate::conv2d(&x, &checker, None, &opts).unwrap();
        assert_eq!(plan.run(&x).unwrap(), want);
    }

    #[test]
    fn the_batch_size_is_free_but_not_the_rest() {
        let w = Array4::<f64>::ones((3, 2, 2, 2));
        let plan = Conv2dPlan::new([4, 2, 5, 5], &w, None, &ConvOptions::new()).unwrap();
        assert_eq!(plan.run(&Array4::ones((0, 2, 5, 5))).unwrap().shape(), [0, 3, 4, 4]);
        assert_eq!(plan.run(&Array4::ones((7, 2, 5, 5))).unwrap().shape(), [7, 3, 4, 4]);
        let err = plan.run(&Array4::ones((4, 2, 5, 6))).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                what: "the input",
                expected: vec![4, 2, 5, 5],
                got: vec![4, 2, 5, 6]
            }
        );
    }
}
