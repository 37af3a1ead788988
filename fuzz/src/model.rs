//! Which calls are valid and what shape they return, recomputed from the
//! crate's documented rules in `u128`, where no usize product or sum of
//! two or three terms can wrap.
//!
//! A length is representable when it is at most `usize::MAX`; an output is
//! allocatable when ndarray can hold it (the product of its nonzero
//! lengths at most `isize::MAX`) and its size in bytes is at most
//! `isize::MAX` (Rust's limit).

use convolve::{ConvOptions, Padding};

/// `usize::MAX` as `u128`.
pub const MAX: u128 = usize::MAX as u128;

/// `isize::MAX` as `u128`.
pub const ISIZE_MAX: u128 = isize::MAX as u128;

fn fits(v: u128) -> Option<usize> {
    usize::try_from(v).ok()
}

/// `d·(k − 1) + 1`, if `k` and `d` are valid and it fits in usize.
pub fn extent(kernel: usize, dilation: usize) -> Option<u128> {
    if kernel == 0 || dilation == 0 {
        return None;
    }
    let e = dilation as u128 * (kernel as u128 - 1) + 1;
    (e <= MAX).then_some(e)
}

/// The six numbers along one axis, as `u128`.
#[derive(Debug, Clone, Copy)]
pub struct AxisModel {
    /// Input length.
    pub input: u128,
    /// Kernel taps.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation.
    pub dilation: usize,
    /// Padding before.
    pub lo: u128,
    /// Padding after.
    pub hi: u128,
}

impl AxisModel {
    /// The axis with no padding.
    pub fn new(input: usize, kernel: usize, stride: usize, dilation: usize) -> Self {
        AxisModel {
            input: input as u128,
            kernel,
            stride,
            dilation,
            lo: 0,
            hi: 0,
        }
    }

    /// The kernel extent, if stride, dilation and kernel are valid.
    pub fn extent(&self) -> Option<u128> {
        if self.stride == 0 {
            return None;
        }
        extent(self.kernel, self.dilation)
    }

    /// The padding `padding` gives along axis `axis` (0 rows, 1 columns);
    /// `convolution` puts the larger half of an odd `Same` total first.
    pub fn resolve(self, padding: Padding, axis: usize, convolution: bool) -> Option<AxisModel> {
        let e = self.extent()?;
        let (lo, hi) = match padding {
            Padding::Valid => (0, 0),
            Padding::Full => (e - 1, e - 1),
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => {
                if axis == 0 {
                    (top as u128, bottom as u128)
                } else {
                    (left as u128, right as u128)
                }
            }
            Padding::Explicit1d { .. } => return None,
            Padding::Same => {
                let s = self.stride as u128;
                let out = self.input.div_ceil(s);
                let total = if out == 0 {
                    0
                } else {
                    let reach = (out - 1) * s + e;
                    if reach > MAX {
                        return None;
                    }
                    reach.saturating_sub(self.input)
                };
                let small = total / 2;
                if convolution {
                    (total - small, small)
                } else {
                    (small, total - small)
                }
            }
        };
        Some(AxisModel { lo, hi, ..self })
    }

    /// `floor((n + lo + hi − e) / s) + 1`, if valid and representable.
    pub fn output_len(&self) -> Option<usize> {
        let e = self.extent()?;
        let padded = self.input + self.lo + self.hi;
        if padded > MAX || padded < e {
            return None;
        }
        fits((padded - e) / self.stride as u128 + 1)
    }

    /// `(n − 1)·s + e + output_padding − lo − hi`, if valid and positive.
    pub fn transposed_len(&self, output_padding: usize) -> Option<usize> {
        let e = self.extent()?;
        if self.input == 0 || (output_padding >= self.stride && output_padding >= self.dilation) {
            return None;
        }
        let full = (self.input - 1) * self.stride as u128 + e + output_padding as u128;
        let padding = self.lo + self.hi;
        if full > MAX || padding > MAX || full <= padding {
            return None;
        }
        fits(full - padding)
    }
}

/// Whether ndarray can hold an array of `shape`: the product of the
/// nonzero lengths at most `isize::MAX`, whatever other axis is 0. The
/// shape functions refuse any other shape with `Error::Overflow`.
pub fn countable(shape: &[usize]) -> bool {
    matches!(
        shape
            .iter()
            .filter(|&&len| len != 0)
            .try_fold(1u128, |acc, &len| acc.checked_mul(len as u128)),
        Some(c) if c <= ISIZE_MAX
    )
}

/// Whether the byte count of `shape` is at most `isize::MAX`.
pub fn bytes_fit(shape: &[usize], elem_size: usize) -> bool {
    shape.contains(&0)
        || matches!(
            shape.iter().try_fold(elem_size as u128, |acc, &len| acc.checked_mul(len as u128)),
            Some(c) if c <= ISIZE_MAX
        )
}

/// Whether an array of `shape` with elements of `elem_size` bytes can be
/// allocated: [`countable`] and [`bytes_fit`].
pub fn allocatable(shape: &[usize], elem_size: usize) -> bool {
    countable(shape) && bytes_fit(shape, elem_size)
}

/// The two axes of `options` over an input and kernel, resolved, if the
/// strides, dilations, kernel and input lengths are valid.
fn spatial(input: [usize; 2], kernel: [usize; 2], options: &ConvOptions, convolution: bool) -> Option<[AxisModel; 2]> {
    let axis = |i: usize| {
        let g = AxisModel::new(
            input[i],
            kernel[i],
            options.stride.of_rank::<2>().unwrap()[i],
            options.dilation.of_rank::<2>().unwrap()[i],
        );
        g.extent()?;
        if input[i] == 0 {
            return None;
        }
        g.resolve(options.padding, i, convolution)
    };
    Some([axis(0)?, axis(1)?])
}

/// The output shape of `correlate2d` (or `convolve2d` when `convolution`),
/// `None` when the call must fail.
pub fn output_2d<A>(
    input: [usize; 2],
    kernel: [usize; 2],
    options: &ConvOptions,
    convolution: bool,
) -> Option<[usize; 2]> {
    if options.groups != 1 {
        return None;
    }
    spatial(input, kernel, options, convolution)?;
    let scipy_valid = options.padding == Padding::Valid && options.stride == [1, 1] && options.dilation == [1, 1];
    let kernel_fits = input[0] >= kernel[0] && input[1] >= kernel[1];
    let input_fits = kernel[0] >= input[0] && kernel[1] >= input[1];
    if scipy_valid && !kernel_fits && !input_fits {
        return None;
    }
    let (input, kernel) = if scipy_valid && !kernel_fits {
        (kernel, input)
    } else {
        (input, kernel)
    };
    let [rows, cols] = spatial(input, kernel, options, convolution)?;
    let shape = [rows.output_len()?, cols.output_len()?];
    allocatable(&shape, std::mem::size_of::<A>()).then_some(shape)
}

/// Whether scipy's `valid` mode swaps input and kernel for these shapes.
pub fn swaps_2d(input: [usize; 2], kernel: [usize; 2], options: &ConvOptions) -> bool {
    let scipy_valid = options.padding == Padding::Valid && options.stride == [1, 1] && options.dilation == [1, 1];
    scipy_valid && !(input[0] >= kernel[0] && input[1] >= kernel[1])
}

/// The output shape of `conv2d` without the byte-count check, as
/// `conv2d_output_shape` gives it.
pub fn conv2d_shape(input: [usize; 4], weight: [usize; 4], options: &ConvOptions) -> Option<[usize; 4]> {
    let [n, c, h, w] = input;
    let [o, cg, kh, kw] = weight;
    let g = options.groups;
    if g == 0 || c % g != 0 || o % g != 0 || cg != c / g {
        return None;
    }
    let [rows, cols] = spatial([h, w], [kh, kw], options, false)?;
    let shape = [n, o, rows.output_len()?, cols.output_len()?];
    countable(&shape).then_some(shape)
}

/// The output shape `conv2d_into` checks its output against, `None` when
/// the call must fail: `conv2d_output_shape`, the bias length and the
/// byte count. (Whether ndarray can allocate it is [`allocatable`].)
pub fn conv2d<A>(
    input: [usize; 4],
    weight: [usize; 4],
    bias_len: Option<usize>,
    options: &ConvOptions,
) -> Option<[usize; 4]> {
    let shape = conv2d_shape(input, weight, options)?;
    if bias_len.is_some_and(|len| len != shape[1]) {
        return None;
    }
    bytes_fit(&shape, std::mem::size_of::<A>()).then_some(shape)
}

/// The output shape of `conv_transpose2d` without the byte-count check,
/// as `conv_transpose2d_output_shape` gives it.
pub fn transpose_shape(input: [usize; 4], weight: [usize; 4], options: &ConvOptions) -> Option<[usize; 4]> {
    let [n, c_in, h, w] = input;
    let g = options.groups;
    if g == 0 || c_in % g != 0 || weight[0] != c_in || options.padding == Padding::Same {
        return None;
    }
    let axis = |i: usize| {
        let geometry = AxisModel::new(
            [h, w][i],
            weight[2 + i],
            options.stride.of_rank::<2>().unwrap()[i],
            options.dilation.of_rank::<2>().unwrap()[i],
        );
        geometry
            .resolve(options.padding, i, false)?
            .transposed_len(options.output_padding.of_rank::<2>().unwrap()[i])
    };
    let c_out = fits(g as u128 * weight[1] as u128)?;
    let shape = [n, c_out, axis(0)?, axis(1)?];
    countable(&shape).then_some(shape)
}

/// The output shape `conv_transpose2d_into` checks its output against,
/// `None` when the call must fail: `conv_transpose2d_output_shape` and the
/// bias length. (Whether the allocating form can allocate it is
/// [`allocatable`].)
pub fn transpose(
    input: [usize; 4],
    weight: [usize; 4],
    bias_len: Option<usize>,
    options: &ConvOptions,
) -> Option<[usize; 4]> {
    let shape = transpose_shape(input, weight, options)?;
    if bias_len.is_some_and(|len| len != shape[1]) {
        return None;
    }
    Some(shape)
}
