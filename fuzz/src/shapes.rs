//! The `shape` target: every shape function on any usize inputs, checked
//! against the `u128` model so that no Ok value can have wrapped.

use arbitrary::Arbitrary;
use convolve::shape::{
    conv2d_output_shape, conv_transpose2d_output_shape, receptive_fields, AxisGeometry, Layer, Operation,
};
use convolve::{conv2d_algorithm, correlate2d_algorithm, Axis, Padding};
use ndarray::{ArrayView2, ShapeBuilder};

use crate::gen::{OptionsSpec, PaddingSpec, Param, Value};
use crate::model::{self, AxisModel, ISIZE_MAX, MAX};

/// One fuzz case of the shape functions.
#[derive(Arbitrary, Debug)]
pub struct ShapeInput {
    /// Input, kernel, stride, dilation, padding before, padding after.
    pub axis: [Param; 6],
    /// Output padding of the transposed length.
    pub output_padding: Param,
    /// Output length asked of `input_len_for_output`.
    pub wanted: Param,
    /// Padding resolved by `Padding::resolve`.
    pub padding: PaddingSpec,
    /// Convolution rather than cross-correlation.
    pub convolution: bool,
    /// Along the width rather than the height.
    pub width: bool,
    /// `[N, C, H, W]`.
    pub input: [Param; 4],
    /// `[O, C / G, kh, kw]`, or `[C_in, C_out / G, kh, kw]`.
    pub weight: [Param; 4],
    /// Options of the batched shape functions.
    pub options: OptionsSpec,
    /// Kernel, stride, dilation, padding of each layer.
    pub layers: Vec<[Param; 4]>,
    /// Which output's receptive field centre to ask for.
    pub center: Param,
}

/// The smallest input length giving `wanted` outputs, from the formula.
fn input_len_model(g: &AxisModel, wanted: usize) -> Option<usize> {
    let e = g.extent()?;
    if wanted == 0 {
        return None;
    }
    let padding = g.lo + g.hi;
    let needed = (wanted as u128 - 1) * g.stride as u128 + e;
    if padding > MAX || needed > MAX {
        return None;
    }
    if needed >= padding {
        return usize::try_from(needed - padding).ok();
    }
    // An empty input already has `(padding − e) / s + 1` outputs.
    ((padding - e) / g.stride as u128 + 1 == wanted as u128).then_some(0)
}

/// Size, jump and start of each layer's receptive field, exactly, `None`
/// when one of them does not fit (a start of exactly `isize::MIN` counts as
/// not fitting when `padding · jump` alone exceeds `isize::MAX`, as the
/// crate computes that product first).
fn receptive_model(layers: &[Layer]) -> Option<Vec<(usize, usize, isize)>> {
    let (mut size, mut jump, mut start) = (1u128, 1u128, 0i128);
    let mut fields = Vec::new();
    for layer in layers {
        if layer.stride == 0 {
            return None;
        }
        let e = model::extent(layer.kernel, layer.dilation)?;
        size = size.checked_add((e - 1) * jump).filter(|&s| s <= MAX)?;
        let shift = layer.padding as u128 * jump;
        if shift > ISIZE_MAX {
            return None;
        }
        jump = Some(jump * layer.stride as u128).filter(|&j| j <= MAX)?;
        start -= shift as i128;
        let start = isize::try_from(start).ok()?;
        fields.push((size as usize, jump as usize, start));
    }
    Some(fields)
}

/// Runs one case.
pub fn run(case: &ShapeInput) {
    let [n, k, s, d, lo, hi] = case.axis.map(Param::get);
    let axis = if case.width { Axis::Width } else { Axis::Height };
    let g = AxisGeometry::new(n, k)
        .stride(s)
        .dilation(d)
        .padding(lo, hi)
        .along(axis);
    let m = AxisModel {
        lo: lo as u128,
        hi: hi as u128,
        ..AxisModel::new(n, k, s, d)
    };

    let extent = g.kernel_extent().ok().map(|e| e as u128);
    assert_eq!(extent, m.extent(), "kernel_extent of {g:?}");
    let padded = g.padded_input().ok().map(|p| p as u128);
    let padded_model = Some(n as u128 + lo as u128 + hi as u128).filter(|&p| p <= MAX);
    assert_eq!(padded, padded_model, "padded_input of {g:?}");
    assert_eq!(g.output_len().ok(), m.output_len(), "output_len of {g:?}");

    let op = case.output_padding.get();
    assert_eq!(
        g.transposed_output_len(op).ok(),
        m.transposed_len(op),
        "transposed_output_len({op}) of {g:?}"
    );

    let wanted = case.wanted.get();
    let found = g.input_len_for_output(wanted);
    assert_eq!(
        found.clone().ok(),
        input_len_model(&m, wanted),
        "input_len_for_output({wanted}) of {g:?}"
    );
    if let Ok(len) = found {
        let at = |input: usize| AxisGeometry { input, ..g }.output_len();
        assert_eq!(at(len), Ok(wanted), "input_len_for_output({wanted}) = {len} of {g:?}");
        if len > 0 {
            assert_ne!(
                at(len - 1),
                Ok(wanted),
                "input_len_for_output({wanted}) = {len} is not the least"
            );
        }
    }

    let padding = case.padding.get();
    let operation = if case.convolution {
        Operation::Convolution
    } else {
        Operation::CrossCorrelation
    };
    let resolved = padding.resolve(g, operation);
    let resolved_model = m.resolve(padding, 2, usize::from(case.width), case.convolution);
    assert_eq!(
        resolved.as_ref().ok().map(|r| (r.pad_lo as u128, r.pad_hi as u128)),
        resolved_model.map(|r| (r.lo, r.hi)),
        "{padding:?}.resolve({g:?}, {operation:?})"
    );
    if let Ok(r) = resolved {
        assert_eq!((r.input, r.kernel, r.stride, r.dilation, r.axis), (n, k, s, d, axis));
        if padding == Padding::Same && n > 0 {
            assert_eq!(
                r.output_len(),
                Ok(n.div_ceil(s)),
                "'same' gives ceil(n / s) outputs: {r:?}"
            );
        }
    }

    let options = case.options.get(Value::f64);
    let input = case.input.map(Param::get);
    let weight = case.weight.map(Param::get);
    let forward = conv2d_output_shape(input, weight, &options);
    assert_eq!(
        forward.clone().ok(),
        model::conv2d_shape(input, weight, &options),
        "conv2d_output_shape({input:?}, {weight:?}, {options:?})"
    );
    assert_eq!(
        conv2d_algorithm::<f64>(input, weight, &options).is_ok(),
        forward.is_ok(),
        "conv2d_algorithm({input:?}, {weight:?}, {options:?})"
    );
    assert_eq!(
        conv_transpose2d_output_shape(input, weight, &options).ok(),
        model::transpose_shape(input, weight, &options),
        "conv_transpose2d_output_shape({input:?}, {weight:?}, {options:?})"
    );
    // `correlate2d_algorithm` reads the values it decides by (rank 1,
    // finiteness), so it is asked only of arrays small enough to read:
    // all-zero views that repeat one element.
    let (in2, k2) = ([input[2], input[3]], [weight[2], weight[3]]);
    let zero = [0.0f64];
    let repeated = |shape: [usize; 2]| {
        let small = shape[0].checked_mul(shape[1]).is_some_and(|len| len <= 1 << 16);
        small
            .then(|| ArrayView2::from_shape(shape.strides([0, 0]), &zero).ok())
            .flatten()
    };
    if let (Some(x), Some(k)) = (repeated(in2), repeated(k2)) {
        assert_eq!(
            correlate2d_algorithm(&x, &k, &options).is_ok(),
            model::output_2d::<f64>(in2, k2, &options, false).is_some(),
            "correlate2d_algorithm({in2:?}, {k2:?}, {options:?})"
        );
    }

    let layers: Vec<Layer> = case
        .layers
        .iter()
        .take(64)
        .map(|[k, s, d, p]| Layer::new(k.get()).stride(s.get()).dilation(d.get()).padding(p.get()))
        .collect();
    let fields = receptive_fields(&layers);
    let got = fields
        .as_ref()
        .ok()
        .map(|f| f.iter().map(|f| (f.size, f.jump, f.start)).collect::<Vec<_>>());
    assert_eq!(got, receptive_model(&layers), "receptive_fields({layers:?})");
    if let Ok(fields) = fields {
        for f in fields {
            let _ = f.center_of(case.center.get());
        }
    }
}
