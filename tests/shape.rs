//! Properties of the output-size arithmetic in `convolve::shape`: checked
//! against brute-force counts for small numbers, and against exact `u128`
//! arithmetic for any `usize` (where the functions must never panic and
//! must return an error rather than a wrapped value).

use convolve::shape::{
    conv2d_output_shape, conv_transpose2d_output_shape, receptive_fields, AxisGeometry, Layer, Operation,
    ReceptiveField,
};
use convolve::{Axis, ConvOptions, Error, Padding};
use proptest::prelude::*;

/// Largest input length in the brute-force properties.
const MAX_LEN: usize = 24;
/// Largest kernel length in the brute-force properties.
const MAX_TAPS: usize = 6;
/// Largest stride or dilation in the brute-force properties.
const MAX_STEP: usize = 4;
/// Largest padding on one side in the brute-force properties; larger than
/// a kernel span, so that padding alone can hold windows.
const MAX_PAD: usize = 10;
/// Largest output length asked of `input_len_for_output`.
const MAX_WANTED: usize = 12;
/// Longest random layer stack for the receptive-field properties.
const MAX_LAYERS: usize = 4;
/// Outputs whose receptive field is checked by brute force.
const FIELD_OUTPUTS: usize = 3;
/// Cases per property; each case is a handful of integer operations.
const CASES: u32 = 2048;

/// `usize::MAX` as `u128`, the bound every exact result is held to.
const MAX: u128 = usize::MAX as u128;

fn axis() -> impl Strategy<Value = Axis> {
    prop_oneof![Just(Axis::Height), Just(Axis::Width)]
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![Just(Operation::CrossCorrelation), Just(Operation::Convolution)]
}

/// Geometries with `(input, kernel)`, `(stride, dilation)` and
/// `(pad_lo, pad_hi)` drawn from the given strategies, along either axis.
fn geometry(
    lengths: impl Strategy<Value = (usize, usize)>,
    steps: impl Strategy<Value = (usize, usize)>,
    padding: impl Strategy<Value = (usize, usize)>,
) -> impl Strategy<Value = AxisGeometry> {
    (lengths, steps, padding, axis()).prop_map(|((n, k), (s, d), (lo, hi), axis)| {
        AxisGeometry::new(n, k)
            .stride(s)
            .dilation(d)
            .padding(lo, hi)
            .along(axis)
    })
}

/// Small geometries, zero stride, dilation, kernel and input included.
fn small_geometry() -> impl Strategy<Value = AxisGeometry> {
    geometry(
        (0..=MAX_LEN, 0..=MAX_TAPS),
        (0..=MAX_STEP, 0..=MAX_STEP),
        (0..=MAX_PAD, 0..=MAX_PAD),
    )
}

/// Small geometries with every parameter valid and a non-empty input.
fn valid_small_geometry() -> impl Strategy<Value = AxisGeometry> {
    geometry(
        (1..=MAX_LEN, 1..=MAX_TAPS),
        (1..=MAX_STEP, 1..=MAX_STEP),
        (0..=MAX_PAD, 0..=MAX_PAD),
    )
}

/// Any `usize`, weighted towards the values where arithmetic breaks:
/// small numbers, values next to `usize::MAX`, and powers of two (whose
/// products overflow exactly at the word size).
fn edgy() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0..=8usize,
        1 => any::<usize>(),
        1 => (usize::MAX - 8)..=usize::MAX,
        1 => (0..usize::BITS).prop_map(|bit| 1usize << bit),
        1 => (0..usize::BITS).prop_map(|bit| (1usize << bit) + 1),
    ]
}

/// Mostly small positive values, sometimes an `edgy` one: for functions
/// with many arguments, where all-`edgy` draws would almost never succeed.
fn mostly_small() -> impl Strategy<Value = usize> {
    prop_oneof![9 => 1..=8usize, 1 => edgy()]
}

/// Mostly a small group count, sometimes an `edgy` one.
fn groups() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1..=4usize, 1 => edgy()]
}

/// `(C, O, C/groups as the weight says, groups)` of a convolution: usually
/// consistent (the products may wrap, which is just another input),
/// sometimes anything.
fn channels() -> impl Strategy<Value = (usize, usize, usize, usize)> {
    prop_oneof![
        4 => (groups(), mostly_small(), mostly_small())
            .prop_map(|(groups, cg, og)| (groups.wrapping_mul(cg), groups.wrapping_mul(og), cg, groups)),
        1 => (edgy(), edgy(), edgy(), edgy()),
    ]
}

/// `(C_in, C_in as the weight says, C_out/groups, groups)` of a transposed
/// convolution, as `channels`.
fn transposed_channels() -> impl Strategy<Value = (usize, usize, usize, usize)> {
    prop_oneof![
        4 => (groups(), mostly_small(), mostly_small()).prop_map(|(groups, cg, og)| {
            let c = groups.wrapping_mul(cg);
            (c, c, og, groups)
        }),
        1 => (edgy(), edgy(), edgy(), edgy()),
    ]
}

/// Geometries of `edgy` values.
fn edgy_geometry() -> impl Strategy<Value = AxisGeometry> {
    geometry((edgy(), edgy()), (edgy(), edgy()), (edgy(), edgy()))
}

/// A transposed convolution's output padding: mostly below the (small)
/// strides, sometimes `edgy`.
fn output_padding() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0..=2usize, 1 => edgy()]
}

fn edgy_padding() -> impl Strategy<Value = Padding> {
    prop_oneof![
        Just(Padding::Valid),
        Just(Padding::Same),
        Just(Padding::Full),
        (edgy(), edgy(), edgy(), edgy()).prop_map(|(top, bottom, left, right)| Padding::Explicit {
            top,
            bottom,
            left,
            right,
        }),
    ]
}

/// The errors a geometry's own parameters call for.
fn parameter_errors(g: &AxisGeometry) -> Vec<Error> {
    let mut errors = Vec::new();
    if g.stride == 0 {
        errors.push(Error::ZeroStride { axis: g.axis });
    }
    if g.dilation == 0 {
        errors.push(Error::ZeroDilation { axis: g.axis });
    }
    if g.kernel == 0 {
        errors.push(Error::EmptyKernel { axis: g.axis });
    }
    errors
}

/// `d·(k − 1) + 1`, exactly; only meaningful when `k ≥ 1`. At most
/// about `2^128 − 3·2^64`, so sums with it saturate rather than overflow.
fn exact_extent(g: &AxisGeometry) -> u128 {
    g.dilation as u128 * (g.kernel as u128 - 1) + 1
}

/// `n + lo + hi`, exactly.
fn exact_padded(g: &AxisGeometry) -> u128 {
    g.input as u128 + g.pad_lo as u128 + g.pad_hi as u128
}

fn overflow() -> Error {
    Error::Overflow { what: "" }
}

/// Checks that `got` is an error from `allowed` (not empty), where any
/// `Error::Overflow` stands for all of them: their texts differ.
fn check_error<T: std::fmt::Debug>(got: Result<T, Error>, allowed: &[Error]) -> Result<(), TestCaseError> {
    let Err(e) = got else {
        return Err(TestCaseError::fail(format!("{got:?}, expected one of {allowed:?}")));
    };
    let is_allowed = allowed.iter().any(|a| match (a, &e) {
        (Error::Overflow { .. }, Error::Overflow { .. }) => true,
        (a, e) => a == e,
    });
    prop_assert!(is_allowed, "{e:?}, expected one of {allowed:?}");
    Ok(())
}

/// Checks `got` against an exact oracle: `Ok(exact)` when no error
/// applies, otherwise one of the `allowed` errors.
fn check_exact<T: PartialEq + std::fmt::Debug>(
    got: Result<T, Error>,
    allowed: &[Error],
    exact: impl FnOnce() -> T,
) -> Result<(), TestCaseError> {
    if allowed.is_empty() {
        prop_assert_eq!(got, Ok(exact()));
        Ok(())
    } else {
        check_error(got, allowed)
    }
}

/// Whether ndarray would refuse an array of this shape: it requires the
/// product of the nonzero lengths to stay within `isize::MAX`, even when a
/// zero length leaves the array empty.
fn too_many_elements(shape: [u128; 4]) -> bool {
    shape
        .into_iter()
        .filter(|&len| len != 0)
        .try_fold(1u128, |acc, len| acc.checked_mul(len))
        .is_none_or(|count| count > isize::MAX as u128)
}

/// Counts window positions `p = 0, s, 2s, …` over the padded input whose
/// last tap `p + d·(k − 1)` is inside it.
fn brute_force_output_len(g: &AxisGeometry) -> Result<usize, Vec<Error>> {
    let errors = parameter_errors(g);
    if !errors.is_empty() {
        return Err(errors);
    }
    let padded = g.input + g.pad_lo + g.pad_hi;
    let last_tap = g.dilation * (g.kernel - 1);
    let count = (0..padded).step_by(g.stride).filter(|p| p + last_tap < padded).count();
    if count == 0 {
        return Err(vec![Error::KernelTooLarge {
            axis: g.axis,
            kernel_extent: last_tap + 1,
            padded_input: padded,
        }]);
    }
    Ok(count)
}

/// A brute-force receptive field: the smallest and largest input position
/// that output `i` of the last layer depends on, found by expanding the
/// set of positions layer by layer from the top.
fn brute_force_span(layers: &[Layer], i: usize) -> (isize, isize) {
    let mut positions = vec![i as isize];
    for layer in layers.iter().rev() {
        let mut below: Vec<isize> = positions
            .iter()
            .flat_map(|&q| {
                (0..layer.kernel)
                    .map(move |a| q * layer.stride as isize - layer.padding as isize + (a * layer.dilation) as isize)
            })
            .collect();
        below.sort_unstable();
        below.dedup();
        positions = below;
    }
    (positions[0], positions[positions.len() - 1])
}

proptest! {
    // No regression files: a failure prints its minimal case, which belongs
    // in a named test of its own.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(CASES) })]

    /// `output_len` equals the number of window positions counted one by
    /// one, and its error (zero stride/dilation, empty kernel, kernel too
    /// large, with exact fields) is one that applies.
    #[test]
    fn output_len_counts_window_positions(g in small_geometry()) {
        match brute_force_output_len(&g) {
            Ok(count) => prop_assert_eq!(g.output_len(), Ok(count)),
            Err(allowed) => check_error(g.output_len(), &allowed)?,
        }
    }

    /// `Same` gives `ceil(n / s)` outputs with the least total padding that
    /// does, split `total/2` before the input for cross-correlation and
    /// `total - total/2` before it for convolution.
    #[test]
    fn same_padding_gives_ceil_n_over_s(g in valid_small_geometry(), operation in operation()) {
        let r = Padding::Same.resolve(g, operation)?;
        prop_assert_eq!(r.output_len(), Ok(g.input.div_ceil(g.stride)));
        let total = r.pad_lo + r.pad_hi;
        let lo = match operation {
            Operation::CrossCorrelation => total / 2,
            Operation::Convolution => total - total / 2,
        };
        prop_assert_eq!((r.pad_lo, r.pad_hi), (lo, total - lo));
        if total > 0 {
            let less = g.padding(total - 1, 0);
            let len = less.output_len();
            prop_assert!(!matches!(len, Ok(len) if len >= g.input.div_ceil(g.stride)), "{len:?}");
        }
        prop_assert_eq!(AxisGeometry { pad_lo: g.pad_lo, pad_hi: g.pad_hi, ..r }, g);
    }

    /// `input_len_for_output(w)` is the smallest input length that gives
    /// `w` outputs; when it says no length does, none up to a generous
    /// bound does.
    #[test]
    fn input_len_for_output_inverts_output_len(g in valid_small_geometry(), wanted in 0..=MAX_WANTED) {
        match g.input_len_for_output(wanted) {
            Ok(n) => {
                prop_assert_eq!(AxisGeometry { input: n, ..g }.output_len(), Ok(wanted));
                if n > 0 {
                    let shorter = AxisGeometry { input: n - 1, ..g }.output_len();
                    prop_assert!(!matches!(shorter, Ok(len) if len >= wanted), "{shorter:?}");
                }
            }
            Err(e) => {
                prop_assert_eq!(e, Error::UnreachableOutput { axis: g.axis, wanted });
                let bound = (wanted + 1) * g.stride + exact_extent(&g) as usize;
                for n in 0..=bound {
                    prop_assert_ne!(AxisGeometry { input: n, ..g }.output_len(), Ok(wanted), "n = {}", n);
                }
            }
        }
    }

    /// The transposed convolution of the forward output length, with
    /// `output_padding` = the forward remainder `(n + lo + hi − extent) mod s`,
    /// gives back the forward input length (PyTorch's relationship); any
    /// other `output_padding < s` gives a length with the same forward
    /// output length.
    #[test]
    fn transposed_output_len_recovers_the_input(g in valid_small_geometry()) {
        let Ok(forward) = g.output_len() else { return Ok(()) };
        let room = g.padded_input()? - g.kernel_extent()?;
        let remainder = room % g.stride;
        let back = AxisGeometry { input: forward, ..g };
        prop_assert_eq!(back.transposed_output_len(remainder), Ok(g.input));
        for output_padding in 0..g.stride {
            // The padding may remove more than the input had: no length is left.
            match (g.input + output_padding).checked_sub(remainder).filter(|&len| len > 0) {
                None => {
                    let len = back.transposed_output_len(output_padding);
                    prop_assert!(matches!(len, Err(Error::PaddingTooLarge { .. })), "{len:?}");
                }
                Some(len) => {
                    prop_assert_eq!(back.transposed_output_len(output_padding), Ok(len));
                    prop_assert_eq!(AxisGeometry { input: len, ..g }.output_len(), Ok(forward));
                }
            }
        }
    }

    /// Output `i`'s field `start + i·jump ..= start + i·jump + size − 1`
    /// spans exactly the input positions it depends on.
    #[test]
    fn receptive_field_spans_the_dependencies(
        layers in prop::collection::vec(
            (1..=MAX_TAPS, 1..=MAX_STEP, 1..=MAX_STEP, 0..=MAX_PAD)
                .prop_map(|(k, s, d, p)| Layer::new(k).stride(s).dilation(d).padding(p)),
            1..=MAX_LAYERS,
        ),
    ) {
        let fields = receptive_fields(&layers)?;
        prop_assert_eq!(fields.len(), layers.len());
        for (depth, field) in fields.iter().enumerate() {
            for i in 0..FIELD_OUTPUTS {
                let first = field.start + (i * field.jump) as isize;
                let last = first + field.size as isize - 1;
                prop_assert_eq!((first, last), brute_force_span(&layers[..=depth], i));
            }
        }
    }

    /// `kernel_extent` and `padded_input` equal the exact values, or report
    /// an overflow exactly when those do not fit.
    #[test]
    fn extent_and_padded_input_are_exact(g in edgy_geometry()) {
        let mut allowed = parameter_errors(&g);
        if allowed.is_empty() && exact_extent(&g) > MAX {
            allowed.push(overflow());
        }
        check_exact(g.kernel_extent().map(|e| e as u128), &allowed, || exact_extent(&g))?;
        let allowed = if exact_padded(&g) > MAX { vec![overflow()] } else { vec![] };
        check_exact(g.padded_input().map(|p| p as u128), &allowed, || exact_padded(&g))?;
    }

    /// `output_len` on any `usize` values: the exact formula, or an error
    /// that applies (an overflow only when the extent or the padded input
    /// does not fit; `KernelTooLarge` with the exact fields).
    #[test]
    fn output_len_is_exact_or_an_error(g in edgy_geometry()) {
        let mut allowed = parameter_errors(&g);
        if allowed.is_empty() {
            let (extent, padded) = (exact_extent(&g), exact_padded(&g));
            if extent > MAX || padded > MAX {
                allowed.push(overflow());
            } else if extent > padded {
                allowed.push(Error::KernelTooLarge {
                    axis: g.axis,
                    kernel_extent: extent as usize,
                    padded_input: padded as usize,
                });
            }
        }
        check_exact(g.output_len().map(|len| len as u128), &allowed, || {
            (exact_padded(&g) - exact_extent(&g)) / g.stride as u128 + 1
        })?;
    }

    /// `transposed_output_len` on any `usize` values:
    /// `(n − 1)·s + extent + output_padding − lo − hi` exactly, or an error
    /// that applies. An overflow may also be reported when the length
    /// before the padding is removed does not fit.
    #[test]
    fn transposed_output_len_is_exact_or_an_error(g in edgy_geometry(), output_padding in edgy()) {
        let mut allowed = parameter_errors(&g);
        // Saturates far above `MAX`, where only the comparison with it matters.
        let full = || {
            ((g.input as u128 - 1) * g.stride as u128)
                .saturating_add(exact_extent(&g))
                .saturating_add(output_padding as u128)
        };
        let padding = g.pad_lo as u128 + g.pad_hi as u128;
        if allowed.is_empty() {
            if exact_extent(&g) > MAX {
                allowed.push(overflow());
            }
            if g.input == 0 {
                allowed.push(Error::EmptyInput { axis: g.axis });
            }
            if output_padding >= g.stride && output_padding >= g.dilation {
                allowed.push(Error::OutputPaddingTooLarge {
                    axis: g.axis,
                    output_padding,
                    stride: g.stride,
                    dilation: g.dilation,
                });
            }
            if g.input > 0 && (full() > MAX || padding > MAX) {
                allowed.push(overflow());
            }
            if g.input > 0 && full() <= padding && padding <= MAX {
                allowed.push(Error::PaddingTooLarge {
                    axis: g.axis,
                    padding: padding as usize,
                    available: full() as usize,
                });
            }
        }
        check_exact(g.transposed_output_len(output_padding).map(|len| len as u128), &allowed, || full() - padding)?;
    }

    /// `input_len_for_output` on any `usize` values: the smallest input
    /// length, computed exactly, or an error that applies.
    #[test]
    fn input_len_for_output_is_exact_or_an_error(g in edgy_geometry(), wanted in edgy()) {
        let mut allowed = parameter_errors(&g);
        let padding = g.pad_lo as u128 + g.pad_hi as u128;
        let needed = || ((wanted as u128 - 1) * g.stride as u128).saturating_add(exact_extent(&g));
        // The exact smallest input, or None when no input length gives `wanted`.
        let smallest = || {
            let needed = needed();
            if needed >= padding {
                Some(needed - padding)
            } else {
                // The padding alone holds more than `wanted - 1` windows.
                let at_zero = (padding - exact_extent(&g)) / g.stride as u128 + 1;
                (at_zero == wanted as u128).then_some(0)
            }
        };
        if allowed.is_empty() {
            let unreachable = Error::UnreachableOutput { axis: g.axis, wanted };
            if exact_extent(&g) > MAX {
                allowed.push(overflow());
            } else if wanted == 0 {
                allowed.push(unreachable);
            } else {
                if needed() > MAX || padding > MAX {
                    allowed.push(overflow());
                }
                if smallest().is_none() {
                    allowed.push(unreachable);
                }
            }
        }
        check_exact(g.input_len_for_output(wanted).map(|n| n as u128), &allowed, || {
            smallest().expect("no error applies")
        })?;
    }

    /// `Padding::resolve` on any `usize` values: the documented `(lo, hi)`,
    /// everything else unchanged, or an error that applies.
    #[test]
    fn resolve_is_exact_or_an_error(g in edgy_geometry(), padding in edgy_padding(), operation in operation()) {
        let mut allowed = parameter_errors(&g);
        let extent = || exact_extent(&g);
        let (n, s) = (g.input as u128, g.stride as u128);
        // Same: the padding that makes the last of ceil(n/s) windows end at the input's end.
        let same_span = || (n.div_ceil(s).saturating_sub(1) * s).saturating_add(extent());
        if allowed.is_empty() && (extent() > MAX || (padding == Padding::Same && n > 0 && same_span() > MAX)) {
            allowed.push(overflow());
        }
        let expected = || {
            let (lo, hi) = match padding {
                Padding::Valid => (0, 0),
                Padding::Full => (extent() - 1, extent() - 1),
                Padding::Explicit { top, bottom, left, right } => match g.axis {
                    Axis::Height => (top as u128, bottom as u128),
                    Axis::Width => (left as u128, right as u128),
                    other => unreachable!("a 2-D call has no {other} axis"),
                },
                Padding::Same => {
                    let total = if n == 0 { 0 } else { same_span().saturating_sub(n) };
                    match operation {
                        Operation::CrossCorrelation => (total / 2, total - total / 2),
                        Operation::Convolution => (total - total / 2, total / 2),
                    }
                }
                other => unreachable!("the strategies make 2-D paddings only, not {other:?}"),
            };
            g.padding(lo as usize, hi as usize)
        };
        check_exact(padding.resolve(g, operation), &allowed, expected)?;
    }

    /// `conv2d_output_shape` on any `usize` values: `[N, O, Ho, Wo]`
    /// computed exactly, or an error that applies (groups, weight channels,
    /// either axis's errors, or an element count above `isize::MAX`).
    #[test]
    fn conv2d_output_shape_is_exact_or_an_error(
        (n, h, w) in (mostly_small(), mostly_small(), mostly_small()),
        (kh, kw) in (mostly_small(), mostly_small()),
        (c, o, cg, groups) in channels(),
        (sh, sw, dh, dw) in (mostly_small(), mostly_small(), mostly_small(), mostly_small()),
        padding in edgy_padding(),
    ) {
        let options = ConvOptions::new().strides(sh, sw).dilations(dh, dw).padding(padding).groups(groups);
        let (input, weight) = ([n, c, h, w], [o, cg, kh, kw]);
        let mut allowed = Vec::new();
        if groups == 0 {
            allowed.push(Error::ZeroGroups);
        } else {
            if c % groups != 0 {
                allowed.push(Error::GroupsMismatch { groups, channels: c, what: "input" });
            }
            if o % groups != 0 {
                allowed.push(Error::GroupsMismatch { groups, channels: o, what: "output" });
            }
            if cg != c / groups {
                allowed.push(Error::WeightChannels { expected: c / groups, got: cg });
            }
        }
        let mut lengths = Vec::new();
        for (i, axis, len, taps) in [(0, Axis::Height, h, kh), (1, Axis::Width, w, kw)] {
            let g = AxisGeometry::new(len, taps).along(axis).stride(options.stride.of_rank::<2>().unwrap()[i]).dilation(options.dilation.of_rank::<2>().unwrap()[i]);
            let axis_errors = parameter_errors(&g);
            if !axis_errors.is_empty() {
                allowed.extend(axis_errors);
                continue;
            }
            if len == 0 {
                allowed.push(Error::EmptyInput { axis });
            }
            // The per-axis arithmetic is checked exactly above; here it
            // only has to be the same.
            match padding.resolve(g, Operation::CrossCorrelation).and_then(|g| g.output_len()) {
                Ok(len) => lengths.push(len as u128),
                Err(e) => allowed.push(e),
            }
        }
        if lengths.len() == 2 && too_many_elements([n as u128, o as u128, lengths[0], lengths[1]]) {
            allowed.push(overflow());
        }
        let got = conv2d_output_shape(input, weight, &options);
        check_exact(got, &allowed, || [n, o, lengths[0] as usize, lengths[1] as usize])?;
    }

    /// `conv_transpose2d_output_shape` on any `usize` values:
    /// `[N, groups · C_out/groups, Ho, Wo]` computed exactly, or an error
    /// that applies (groups, the weight's first axis, `Same`, either axis's
    /// errors, or a channel or element count that does not fit).
    #[test]
    fn conv_transpose2d_output_shape_is_exact_or_an_error(
        (n, h, w) in (mostly_small(), mostly_small(), mostly_small()),
        (kh, kw) in (mostly_small(), mostly_small()),
        (c, cw, out_per_group, groups) in transposed_channels(),
        (sh, sw, dh, dw) in (mostly_small(), mostly_small(), mostly_small(), mostly_small()),
        output_padding in (output_padding(), output_padding()),
        padding in edgy_padding(),
    ) {
        let options = ConvOptions::new()
            .strides(sh, sw)
            .dilations(dh, dw)
            .padding(padding)
            .groups(groups)
            .output_paddings(output_padding.0, output_padding.1);
        // The transposed weight is [C_in, C_out / groups, kh, kw].
        let (input, weight) = ([n, c, h, w], [cw, out_per_group, kh, kw]);
        let mut allowed = Vec::new();
        if groups == 0 {
            allowed.push(Error::ZeroGroups);
        } else if c % groups != 0 {
            allowed.push(Error::GroupsMismatch { groups, channels: c, what: "input" });
        }
        if cw != c {
            allowed.push(Error::TransposedWeight { expected: c, got: cw });
        }
        if padding == Padding::Same {
            allowed.push(Error::Unsupported { what: "Padding::Same in a transposed convolution" });
        }
        let mut lengths = Vec::new();
        for (i, axis, len, taps) in [(0, Axis::Height, h, kh), (1, Axis::Width, w, kw)] {
            let g = AxisGeometry::new(len, taps).along(axis).stride(options.stride.of_rank::<2>().unwrap()[i]).dilation(options.dilation.of_rank::<2>().unwrap()[i]);
            // The per-axis arithmetic is checked exactly above; here it
            // only has to be the same.
            match padding
                .resolve(g, Operation::CrossCorrelation)
                .and_then(|g| g.transposed_output_len(options.output_padding.of_rank::<2>().unwrap()[i]))
            {
                Ok(len) => lengths.push(len as u128),
                Err(e) => allowed.push(e),
            }
        }
        let out_channels = groups as u128 * out_per_group as u128;
        if out_channels > MAX {
            allowed.push(overflow());
        }
        if lengths.len() == 2 && too_many_elements([n as u128, out_channels, lengths[0], lengths[1]]) {
            allowed.push(overflow());
        }
        let got = conv_transpose2d_output_shape(input, weight, &options);
        check_exact(got, &allowed, || [n, out_channels as usize, lengths[0] as usize, lengths[1] as usize])?;
    }

    /// `receptive_fields` on any `usize` values: the recurrences computed
    /// exactly, or an error that applies at the first layer where a
    /// parameter is invalid or a field does not fit.
    #[test]
    fn receptive_fields_are_exact_or_an_error(
        layers in prop::collection::vec(
            (edgy(), edgy(), edgy(), edgy()).prop_map(|(k, s, d, p)| Layer::new(k).stride(s).dilation(d).padding(p)),
            0..=MAX_LAYERS,
        ),
    ) {
        let (mut size, mut jump, mut start) = (1u128, 1u128, 0i128);
        let mut exact = Vec::new();
        let mut allowed = Vec::new();
        for layer in &layers {
            let g = AxisGeometry::new(0, layer.kernel).stride(layer.stride).dilation(layer.dilation);
            allowed = parameter_errors(&g);
            if !allowed.is_empty() {
                break;
            }
            let extent = exact_extent(&g);
            // `start` only decreases, so a shift beyond `isize::MAX` already
            // puts it below `isize::MIN`.
            let shift = layer.padding as u128 * jump;
            if extent > MAX || shift > isize::MAX as u128 {
                allowed.push(overflow());
                break;
            }
            size += (extent - 1) * jump;
            start -= shift as i128;
            jump *= layer.stride as u128;
            if size > MAX || jump > MAX || start < isize::MIN as i128 {
                allowed.push(overflow());
                break;
            }
            exact.push(ReceptiveField { size: size as usize, jump: jump as usize, start: start as isize });
        }
        check_exact(receptive_fields(&layers), &allowed, || exact)?;
    }
}

/// Hand-derived receptive fields; `(size, jump, start)` after each layer.
#[test]
fn receptive_fields_of_known_stacks() {
    let fields = |layers: &[Layer]| -> Vec<(usize, usize, isize)> {
        receptive_fields(layers)
            .unwrap()
            .iter()
            .map(|f| (f.size, f.jump, f.start))
            .collect()
    };

    // VGG: three 3×3 convolutions with padding 1. Each adds 2 to the size
    // at jump 1, and each padding moves the start one further left:
    // 3, 5, 7 wide, starting at -1, -2, -3.
    let vgg = [Layer::new(3).padding(1); 3];
    assert_eq!(fields(&vgg), [(3, 1, -1), (5, 1, -2), (7, 1, -3)]);

    // ResNet's stem: conv 7×7 stride 2 padding 3 sees inputs -3..=3 for
    // output 0, and output m starts at 2m - 3: (7, 2, -3). The 3×3 max-pool
    // stride 2 padding 1 reads conv outputs -1..=1, i.e. inputs
    // 2·(-1) - 3 = -5 up to 2·1 - 3 + 6 = 5: 11 wide, from -5, jump 4.
    let stem = [Layer::new(7).stride(2).padding(3), Layer::new(3).stride(2).padding(1)];
    assert_eq!(fields(&stem), [(7, 2, -3), (11, 4, -5)]);
    let pool = receptive_fields(&stem).unwrap()[1];
    // Centres: -5 + (11 - 1)/2 = 0 for output 0; 4 further for output 1.
    assert_eq!((pool.center_of(0), pool.center_of(1)), (0.0, 4.0));

    // A 2×2 stride-2 pool, then a 3-tap kernel with dilation 2: output 0
    // reads pool outputs 0, 2 and 4, which cover inputs 0..=1, 4..=5 and
    // 8..=9, so the field spans 0..=9 (10 wide) with holes, jump 2.
    let dilated = [Layer::new(2).stride(2), Layer::new(3).dilation(2)];
    assert_eq!(fields(&dilated), [(2, 2, 0), (10, 2, 0)]);

    // A 1×1 layer with padding 2 sees one input, two to the left of its
    // own index: output 0 reads input -2.
    assert_eq!(fields(&[Layer::new(1).padding(2)]), [(1, 1, -2)]);

    // No layers: no fields.
    assert_eq!(fields(&[]), []);
}
