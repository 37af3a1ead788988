//! Convolution for [`ndarray`] in 1, 2 and 3 spatial dimensions: the
//! numbers of `scipy.signal` and of PyTorch, with every option and the
//! gradients, and a typed error instead of a panic.
//!
//! # Highlights
//!
//! - [`correlate2d`] and [`convolve2d`]: single-channel cross-correlation
//!   and true convolution with scipy's `full`/`same`/`valid` modes and
//!   boundary rules, plus per-axis stride, dilation and explicit padding.
//! - [`conv2d`]: batched NCHW convolution with stride, padding, dilation,
//!   groups and bias, as PyTorch's `conv2d`.
//! - [`correlate1d`], [`convolve1d`], [`conv1d`] and its gradients
//!   ([`conv1d_backward`], [`conv_transpose1d`]): the same on 1-D signals
//!   (`[L]`) and batched sequences (`[N, C, L]`), every option along the
//!   one axis.
//! - [`correlate3d`], [`convolve3d`], [`conv3d`] and its gradients
//!   ([`conv3d_backward`], [`conv_transpose3d`]): the same on volumes
//!   (`[D, H, W]`) and batched clips or scans (`[N, C, D, H, W]`), every
//!   option along each of the three axes.
//! - [`shape`]: the output-size arithmetic done by hand today, overflow-checked.
//! - [`activations`]: ReLU and Leaky ReLU with their gradients.
//! - Element types `f32`, `f64`, `i32`, `i64` (exact, wrapping like numpy)
//!   and `Complex<f32>`, `Complex<f64>`; any ndarray storage and layout in,
//!   owned arrays out, and an `_into` form of each entry point that writes
//!   into a caller's array.
//!
//! # Conventions
//!
//! **Cross-correlation vs convolution.** What CNN libraries call
//! "convolution" slides the kernel over the input as it is:
//! `y[i] = Σ_a x[i + a] · k[a]` ([`correlate2d`], [`conv2d`]). True
//! convolution rotates the kernel by 180° first: `y[i] = Σ_a x[i − a] · k[a]`
//! ([`convolve2d`]). For a learned kernel the difference does not matter,
//! which is why networks skip the rotation. [`correlate2d`] conjugates a
//! complex kernel, as scipy does; [`conv2d`] does not, as PyTorch does not.
//!
//! **Layout.** Batched tensors are NCHW: input `[N, C, H, W]`, weights
//! `[O, C / groups, kh, kw]`, output `[N, O, Ho, Wo]`, bias `[O]` (and
//! `[N, C, L]`, `[N, C, D, H, W]` with their weights for 1-D and 3-D).
//! Options given once ([`ConvOptions::stride`]) serve every axis of every
//! rank; per-axis forms name their rank ([`ConvOptions::strides`] for 2-D,
//! [`ConvOptions::strides3d`] for 3-D), and a call of another rank refuses
//! them with [`Error::OptionRank`].
//!
//! **Output size.** Along each axis, with input `n`, kernel `k`, stride
//! `s`, dilation `d` and padding `lo`, `hi`:
//!
//! ```text
//! out = floor((n + lo + hi − d·(k − 1) − 1) / s) + 1
//! ```
//!
//! **Padding** ([`Padding`]): `Valid` pads nothing, `Full` pads `d·(k−1)` on
//! both sides, `Same` pads so that `out = ceil(n / s)`, putting the smaller
//! half of an odd total before the input for cross-correlation (PyTorch,
//! TensorFlow) and after it for convolution (scipy), and `Explicit` takes
//! the four sides. The padding is filled by a [`Boundary`] rule: a constant,
//! wrap-around, or one of three mirrorings, for any padding width.
//!
//! **Errors.** No function panics on a caller's data: bad shapes and
//! options give an [`Error`] that names the offending values. An input that
//! is empty along a spatial axis is an error whatever the padding; an empty
//! batch gives an empty output.
//!
//! # Example
//!
//! ```
//! use convolve::{conv2d, correlate2d, ConvOptions, Padding};
//! use ndarray::{array, Array4};
//!
//! // scipy.signal.correlate2d(x, k, mode='same')
//! let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
//! let k = array![[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]];
//! let y = correlate2d(&x, &k, &ConvOptions::new().padding(Padding::Same))?;
//! assert_eq!(y, array![[2.0, 1.0, -4.0], [-3.0, 0.0, -7.0], [-16.0, -11.0, -22.0]]);
//!
//! // torch.nn.functional.conv2d(x, w, stride=4): 224×224×3 through 96 kernels of 11×11.
//! let x = Array4::<f32>::zeros((2, 3, 224, 224));
//! let w = Array4::<f32>::zeros((96, 3, 11, 11));
//! let y = conv2d(&x, &w, None, &ConvOptions::new().stride(4))?;
//! assert_eq!(y.shape(), [2, 96, 54, 54]);
//! # Ok::<(), convolve::Error>(())
//! ```
//!
//! # Threads, Cargo features and MSRV
//!
//! The default feature `rayon` runs the kernels on several threads:
//! blocks of output rows (and, in the backward pass, blocks of the weight
//! gradient) are spread over rayon's pool. The number of threads is
//! rayon's: the global pool has one per core unless the environment
//! variable `RAYON_NUM_THREADS` says otherwise, and a call made inside
//! [`ThreadPool::install`](https://docs.rs/rayon/latest/rayon/struct.ThreadPool.html#method.install)
//! runs on that pool instead. Blocks are cut by shape, never by thread
//! count, so every number of threads gives the same bits.
//!
//! ```
//! # #[cfg(feature = "rayon")] {
//! use convolve::{conv2d, ConvOptions};
//! use ndarray::Array4;
//!
//! let x = Array4::<f32>::ones((2, 3, 32, 32));
//! let w = Array4::<f32>::ones((8, 3, 3, 3));
//! let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
//! let one_thread = pool.install(|| conv2d(&x, &w, None, &ConvOptions::new()))?;
//! assert_eq!(one_thread, conv2d(&x, &w, None, &ConvOptions::new())?);
//! # }
//! # Ok::<(), convolve::Error>(())
//! ```
//!
//! With `default-features = false` the crate has no rayon dependency and
//! every call runs on the calling thread; results are the same.
//!
//! The minimum supported Rust version is the `rust-version` in
//! `Cargo.toml` (1.85).
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod activations;
mod conv;
mod error;
mod options;
pub mod shape;

pub use conv::{
    conv1d, conv1d_algorithm, conv1d_backward, conv1d_backward_into, conv1d_into, conv2d, conv2d_algorithm,
    conv2d_backward, conv2d_backward_into, conv2d_into, conv3d, conv3d_algorithm, conv3d_backward,
    conv3d_backward_into, conv3d_into, conv_transpose1d, conv_transpose1d_into, conv_transpose2d,
    conv_transpose2d_into, conv_transpose3d, conv_transpose3d_into, convolve1d, convolve1d_into, convolve2d,
    convolve2d_algorithm, convolve2d_into, convolve3d, convolve3d_into, correlate1d, correlate1d_into, correlate2d,
    correlate2d_algorithm, correlate2d_into, correlate3d, correlate3d_into, Conv1dGrads, Conv1dGradsMut, Conv2dGrads,
    Conv2dGradsMut, Conv2dPlan, Conv3dGrads, Conv3dGradsMut, ConvGrads, ConvGradsMut, Element, Float,
};
pub use error::{Axis, Error, Result};
/// The complex numbers the crate accepts as elements (`Complex<f32>`,
/// `Complex<f64>`), re-exported so that using them needs no other crate.
pub use num_complex::Complex;
pub use options::{Algorithm, Boundary, ConvOptions, FillValue, Padding, PerAxis};
