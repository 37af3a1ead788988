//! Which calls are valid and what shape they return, recomputed from the
//! crate's documented rules in `u128`, where no usize product or sum of
//! two or three terms can wrap.
//!
//! A length is representable when it is at most `usize::MAX`; an output is
//! allocatable when ndarray can hold it (the product of its nonzero
//! lengths at most `isize::MAX`) and its size in bytes is at most
//! `isize::MAX` (Rust's limit).

use convolve::{ConvOptions, Padding, PerAxis};

/// `usize::MAX` as `u128`.
pub const MAX: u128 = usize::MAX as u128;

/// `isize::MAX` as `u128`.
pub const ISIZE_MAX: u128 = isize::MAX as u128;

fn fits(v: u128) -> Option<usize> {
    usize::try_from(v).ok()
}

/// The `(before, after)` padding of each axis of a call of spatial rank
/// `rank` given by an explicit padding, `None` if it names another rank.
pub fn explicit_sides(padding: Padding, rank: usize) -> Option<Vec<(usize, usize)>> {
    match padding {
        Padding::Explicit1d { left, right } if rank == 1 => Some(vec![(left, right)]),
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } if rank == 2 => Some(vec![(top, bottom), (left, right)]),
        Padding::Explicit3d {
            front,
            back,
            top,
            bottom,
            left,
            right,
        } if rank == 3 => Some(vec![(front, back), (top, bottom), (left, right)]),
        _ => None,
    }
}

/// The values a per-axis option gives the axes of a call of spatial rank
/// `rank`, `None` if they were given for another rank.
pub fn per_axis(values: PerAxis, rank: usize) -> Option<Vec<usize>> {
    match values {
        PerAxis::All(v) => Some(vec![v; rank]),
        PerAxis::Two(v) if rank == 2 => Some(v.to_vec()),
        PerAxis::Three(v) if rank == 3 => Some(v.to_vec()),
        PerAxis::Two(_) | PerAxis::Three(_) => None,
    }
}

/// The options given for a rank other than `rank`, as the `option` and
/// `given` of the `Error::OptionRank` each would cause: stride, dilation,
/// padding and, if `output_padding`, the output padding (which the 1-D
/// calls and the transposed convolutions check, and the other calls
/// ignore).
pub fn rank_mismatches(options: &ConvOptions, rank: usize, output_padding: bool) -> Vec<(&'static str, usize)> {
    let given = |values: PerAxis| match values {
        PerAxis::All(_) => None,
        PerAxis::Two(_) => Some(2),
        PerAxis::Three(_) => Some(3),
    };
    let padding = match options.padding {
        Padding::Valid | Padding::Same | Padding::Full => None,
        Padding::Explicit1d { .. } => Some(1),
        Padding::Explicit { .. } => Some(2),
        Padding::Explicit3d { .. } => Some(3),
    };
    let mut checked = vec![
        ("stride", given(options.stride)),
        ("dilation", given(options.dilation)),
        ("padding", padding),
    ];
    if output_padding {
        checked.push(("output padding", given(options.output_padding)));
    }
    checked
        .into_iter()
        .filter_map(|(option, given)| given.filter(|&g| g != rank).map(|g| (option, g)))
        .collect()
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

    /// The padding `padding` gives along axis `axis` of a call of spatial
    /// rank `rank` (in 2-D: 0 rows, 1 columns), `None` for an explicit
    /// padding given for another rank; `convolution` puts the larger half
    /// of an odd `Same` total first.
    pub fn resolve(self, padding: Padding, rank: usize, axis: usize, convolution: bool) -> Option<AxisModel> {
        let e = self.extent()?;
        let (lo, hi) = match padding {
            Padding::Valid => (0, 0),
            Padding::Full => (e - 1, e - 1),
            Padding::Explicit { .. } | Padding::Explicit1d { .. } | Padding::Explicit3d { .. } => {
                let (lo, hi) = explicit_sides(padding, rank)?[axis];
                (lo as u128, hi as u128)
            }
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

/// The axes of `options` over an input and kernel of spatial rank
/// `input.len()`, resolved, if the options fit that rank and the strides,
/// dilations, kernel and input lengths are valid.
fn spatial(input: &[usize], kernel: &[usize], options: &ConvOptions, convolution: bool) -> Option<Vec<AxisModel>> {
    let rank = input.len();
    let (stride, dilation) = (per_axis(options.stride, rank)?, per_axis(options.dilation, rank)?);
    (0..rank)
        .map(|i| {
            let g = AxisModel::new(input[i], kernel[i], stride[i], dilation[i]);
            g.extent()?;
            if input[i] == 0 {
                return None;
            }
            g.resolve(options.padding, rank, i, convolution)
        })
        .collect()
}

/// Whether scipy's `valid` mode applies: no padding, unit strides and
/// dilations.
fn scipy_valid(options: &ConvOptions, rank: usize) -> bool {
    let ones = Some(vec![1; rank]);
    options.padding == Padding::Valid
        && per_axis(options.stride, rank) == ones
        && per_axis(options.dilation, rank) == ones
}

/// Whether scipy's `valid` mode swaps input and kernel for these shapes
/// (of any rank).
pub fn swaps(input: &[usize], kernel: &[usize], options: &ConvOptions) -> bool {
    scipy_valid(options, input.len()) && !input.iter().zip(kernel).all(|(i, k)| i >= k)
}

/// The output shape of a single-channel cross-correlation (or convolution
/// when `convolution`) of any rank, `None` when the call must fail.
pub fn single_channel<A>(
    input: &[usize],
    kernel: &[usize],
    options: &ConvOptions,
    convolution: bool,
) -> Option<Vec<usize>> {
    if options.groups != 1 {
        return None;
    }
    spatial(input, kernel, options, convolution)?;
    let input_fits = kernel.iter().zip(input).all(|(k, i)| k >= i);
    if swaps(input, kernel, options) && !input_fits {
        return None;
    }
    let (input, kernel) = if swaps(input, kernel, options) {
        (kernel, input)
    } else {
        (input, kernel)
    };
    let shape = spatial(input, kernel, options, convolution)?
        .iter()
        .map(AxisModel::output_len)
        .collect::<Option<Vec<usize>>>()?;
    allocatable(&shape, std::mem::size_of::<A>()).then_some(shape)
}

/// The output shape of `correlate2d` (or `convolve2d` when `convolution`),
/// `None` when the call must fail.
pub fn output_2d<A>(
    input: [usize; 2],
    kernel: [usize; 2],
    options: &ConvOptions,
    convolution: bool,
) -> Option<[usize; 2]> {
    single_channel::<A>(&input, &kernel, options, convolution).map(|s| [s[0], s[1]])
}

/// Whether scipy's `valid` mode swaps input and kernel for these shapes.
pub fn swaps_2d(input: [usize; 2], kernel: [usize; 2], options: &ConvOptions) -> bool {
    swaps(&input, &kernel, options)
}

/// The output shape `[N, O, spatial…]` of a batched convolution of an
/// input `[N, C, spatial…]` with weights `[O, C / G, kernel…]` of any
/// spatial rank, without the byte-count check, as the `conv*_output_shape`
/// functions give it.
pub fn conv_shape(input: &[usize], weight: &[usize], options: &ConvOptions) -> Option<Vec<usize>> {
    let (n, c) = (input[0], input[1]);
    let (o, cg) = (weight[0], weight[1]);
    let g = options.groups;
    if g == 0 || c % g != 0 || o % g != 0 || cg != c / g {
        return None;
    }
    let mut shape = vec![n, o];
    for axis in spatial(&input[2..], &weight[2..], options, false)? {
        shape.push(axis.output_len()?);
    }
    countable(&shape).then_some(shape)
}

/// The output shape a batched convolution's `_into` form checks its
/// output against, `None` when the call must fail: [`conv_shape`], the
/// bias length and the byte count. (Whether ndarray can allocate it is
/// [`allocatable`].)
pub fn conv<A>(
    input: &[usize],
    weight: &[usize],
    bias_len: Option<usize>,
    options: &ConvOptions,
) -> Option<Vec<usize>> {
    let shape = conv_shape(input, weight, options)?;
    if bias_len.is_some_and(|len| len != shape[1]) {
        return None;
    }
    bytes_fit(&shape, std::mem::size_of::<A>()).then_some(shape)
}

/// The output shape of `conv2d` without the byte-count check, as
/// `conv2d_output_shape` gives it.
pub fn conv2d_shape(input: [usize; 4], weight: [usize; 4], options: &ConvOptions) -> Option<[usize; 4]> {
    conv_shape(&input, &weight, options).map(|s| [s[0], s[1], s[2], s[3]])
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
    conv::<A>(&input, &weight, bias_len, options).map(|s| [s[0], s[1], s[2], s[3]])
}

/// The output shape `[N, C_out, spatial…]` of a transposed convolution of
/// an input `[N, C_in, spatial…]` with weights `[C_in, C_out / G, kernel…]`
/// of any spatial rank, as the `conv_transpose*_output_shape` functions
/// give it.
pub fn transpose_shape_nd(input: &[usize], weight: &[usize], options: &ConvOptions) -> Option<Vec<usize>> {
    let (n, c_in) = (input[0], input[1]);
    let rank = input.len() - 2;
    let g = options.groups;
    if g == 0 || c_in % g != 0 || weight[0] != c_in || options.padding == Padding::Same {
        return None;
    }
    let stride = per_axis(options.stride, rank)?;
    let dilation = per_axis(options.dilation, rank)?;
    let output_padding = per_axis(options.output_padding, rank)?;
    let mut shape = vec![n, fits(g as u128 * weight[1] as u128)?];
    for i in 0..rank {
        let geometry = AxisModel::new(input[2 + i], weight[2 + i], stride[i], dilation[i]);
        shape.push(
            geometry
                .resolve(options.padding, rank, i, false)?
                .transposed_len(output_padding[i])?,
        );
    }
    countable(&shape).then_some(shape)
}

/// The output shape of `conv_transpose2d` without the byte-count check,
/// as `conv_transpose2d_output_shape` gives it.
pub fn transpose_shape(input: [usize; 4], weight: [usize; 4], options: &ConvOptions) -> Option<[usize; 4]> {
    transpose_shape_nd(&input, &weight, options).map(|s| [s[0], s[1], s[2], s[3]])
}

/// The output shape a transposed convolution's `_into` form checks its
/// output against, `None` when the call must fail: [`transpose_shape_nd`]
/// and the bias length. (Whether the allocating form can allocate it is
/// [`allocatable`].)
pub fn transpose_nd(
    input: &[usize],
    weight: &[usize],
    bias_len: Option<usize>,
    options: &ConvOptions,
) -> Option<Vec<usize>> {
    let shape = transpose_shape_nd(input, weight, options)?;
    if bias_len.is_some_and(|len| len != shape[1]) {
        return None;
    }
    Some(shape)
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
    transpose_nd(&input, &weight, bias_len, options).map(|s| [s[0], s[1], s[2], s[3]])
}
