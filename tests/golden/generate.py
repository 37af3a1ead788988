"""Writes the golden fixtures that `tests/golden.rs` checks the crate against.

Run from the crate root (never in CI; the Rust test needs only the JSON):

    python3 tests/golden/generate.py

It needs numpy, scipy and torch from PyPI. The committed fixtures were
produced with Python 3.11.7, numpy 2.4.6, scipy 1.17.1 and torch
2.15.0+cu132 run on the CPU; each file records the versions that wrote it.
The random inputs are seeded, so a rerun with the same versions rewrites the
same files (float32 results may differ in the last bit on another CPU).

Every case holds its inputs, the options in the crate's vocabulary (the
Rust enums `Padding`, `Boundary` and the `ConvOptions` fields), the expected
output and `source`, the Python expression that produced it. Arrays are
`{"shape": [...], "data": [...]}` in row-major order; a complex element is
`[re, im]`. In a `source`, `x` and `k` are the case's input and kernel as
numpy arrays; for `conv2d`, `x`, `w` and `b` are the input, weight and bias
as torch tensors.

Files, one per Rust test:

- `modes_boundaries.json`: f64 `correlate2d`/`convolve2d` for every scipy
  mode x boundary x kernel shape, kernels larger than the input in 'valid'
  mode (scipy swaps the two) and in 'same'/'full' (padding wider than the
  input), against `scipy.signal`.
- `geometry.json`: f64 stride, dilation, explicit and `Same` padding at
  stride > 1, and the boundaries scipy lacks, against `numpy.pad` followed
  by `torch.nn.functional.conv2d` without padding.
- `dtypes.json`: the same comparisons for f32, i64, i32, Complex<f64> and
  Complex<f32>, including integer wrap-around.
- `conv2d.json`: batched NCHW `conv2d` against torch, with groups, bias and
  every padding mode.
- `tutorial.json`: the tutorial's Question 1a.
- `gradients.json` (checked by `tests/golden_gradients.rs`): `conv2d_backward`
  against `torch.autograd.grad` of `(conv2d(pad(x), w, b) * g).sum()` for
  every boundary rule and padding, and `conv_transpose2d` against
  `torch.nn.functional.conv_transpose2d`, in f64 and f32. Their cases hold
  `input`, `weight`, `bias`, `grad_output` (the upstream gradient `g`) and
  named `expected` arrays: `output`, and for the gradients `input`,
  `weight` and `bias`; `options` adds `output_padding`. Torch has no
  symmetric padding, nor circular or reflect padding wider than the input:
  those cases gather `x` at numpy.pad's indices instead, and autograd sums
  the gradient of every copy back onto its pixel.
- `rank1.json` (checked by `tests/golden_1d.rs`): `correlate1d` and
  `convolve1d` against `scipy.signal.correlate`/`convolve` on 1-D arrays
  (f64, f32, i64, Complex<f64>; 'valid' with a kernel longer than the
  input included), and for every boundary, stride and dilation against
  `numpy.pad` followed by scipy's 'valid' mode or torch's `conv1d`;
  `conv1d` and its gradients against `torch.nn.functional.conv1d` and
  `torch.autograd.grad` (cases as in `gradients.json`, with 1-D options);
  `conv_transpose1d` against `torch.nn.functional.conv_transpose1d`, the
  crate's per-side padding cropped from its ends. Options hold one stride,
  dilation and output padding, and `{"Explicit1d": {"left", "right"}}`.
- `rank3.json` (checked by `tests/golden_3d.rs`): `correlate3d` and
  `convolve3d` against `scipy.signal.correlate`/`convolve` on 3-D arrays
  (f64, f32, i64, Complex<f64>; every mode, and 'valid' with a kernel at
  least as large as the input along every axis, which scipy swaps), and for
  every boundary, explicit padding, stride and dilation against `numpy.pad`
  followed by scipy's 'valid' mode with the kernel spread by its dilation,
  the dense result sliced by the stride (real cases checked against torch's
  `conv3d`); `conv3d` and its gradients against
  `torch.nn.functional.conv3d` of the padded input and `torch.autograd.grad`
  (padding by `F.pad` or gathering, the forward value checked against
  `torch.nn.Conv3d` with its `padding_mode`, or `padding='same'`, where
  torch has the rule); `conv_transpose3d` against
  `torch.nn.functional.conv_transpose3d`, the crate's per-side padding
  cropped from the ends of each axis. Options hold three strides,
  dilations and output paddings (depth, rows, columns) and
  `{"Explicit3d": {"front", "back", "top", "bottom", "left", "right"}}`.

Run `python3 tests/golden/generate.py rank1.json` to write one file.
"""

import json
import platform
import warnings
from itertools import product
from pathlib import Path

import numpy as np
import scipy
import scipy.signal
import torch
import torch.nn.functional as F

OUT = Path(__file__).resolve().parent
RNG = np.random.default_rng(20240229)

VERSIONS = {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "torch": torch.__version__,
}

# The crate's element types and the numpy dtype each one is computed in.
NUMPY_DTYPE = {
    "f64": np.float64,
    "f32": np.float32,
    "i64": np.int64,
    "i32": np.int32,
    "Complex<f64>": np.complex128,
    "Complex<f32>": np.complex64,
}

# A nonzero fill value per element type, for Boundary::Fill(v).
FILL = {
    "f64": 2.5,
    "f32": -1.25,
    "i64": 3,
    "i32": -4,
    "Complex<f64>": 1.5 - 0.5j,
    "Complex<f32>": -0.75 + 2.0j,
}

# Odd, even and rectangular kernels, each paired with the input it slides over.
KERNELS = [((3, 3), (5, 6)), ((2, 2), (6, 5)), ((4, 4), (7, 8)), ((2, 3), (4, 7)), ((3, 1), (6, 6)), ((1, 4), (5, 4))]

# (crate boundary, scipy boundary keyword); "fillv" stands for FILL[dtype].
SCIPY_BOUNDARIES = [("fill0", "fill"), ("fillv", "fill"), ("Wrap", "wrap"), ("Symmetric", "symm")]
SCIPY_MODES = [("Valid", "valid"), ("Same", "same"), ("Full", "full")]

# numpy.pad mode and torch F.pad mode of each crate boundary.
NP_PAD_MODE = {"Wrap": "wrap", "Symmetric": "symmetric", "Reflect": "reflect", "Replicate": "edge"}
TORCH_PAD_MODE = {"Wrap": "circular", "Reflect": "reflect", "Replicate": "replicate"}


def random(shape, dtype, rng=RNG):
    """Seeded values with few digits, so the fixtures stay small."""
    kind = NUMPY_DTYPE[dtype]
    if np.issubdtype(kind, np.integer):
        return rng.integers(-9, 10, size=shape).astype(kind)
    values = np.round(rng.standard_normal(shape), 3)
    if np.issubdtype(kind, np.complexfloating):
        values = values + 1j * np.round(rng.standard_normal(shape), 3)
    return values.astype(kind)


def scalar(v, dtype):
    """One element as JSON: shortest round-trip text for its own precision."""
    kind = NUMPY_DTYPE[dtype]
    if np.issubdtype(kind, np.integer):
        return int(v)
    if kind == np.float32:
        return float(str(np.float32(v)))
    if kind == np.float64:
        return float(v)
    part = np.float32 if kind == np.complex64 else np.float64
    return [float(str(part(np.real(v)))), float(str(part(np.imag(v))))]


def encode(array, dtype):
    array = np.asarray(array)
    assert array.dtype == NUMPY_DTYPE[dtype], (array.dtype, dtype)
    return {"shape": list(array.shape), "data": [scalar(v, dtype) for v in array.ravel()]}


def boundary_json(boundary, dtype):
    if boundary == "fill0":
        return {"Fill": scalar(0, dtype)}
    if boundary == "fillv":
        return {"Fill": scalar(FILL[dtype], dtype)}
    return boundary


def padding_json(padding):
    if isinstance(padding, str):
        return padding
    top, bottom, left, right = padding
    return {"Explicit": {"top": top, "bottom": bottom, "left": left, "right": right}}


def case(name, op, dtype, x, k, expected, source, *, padding="Valid", boundary="fill0", stride=(1, 1),
         dilation=(1, 1), groups=1, bias=None):
    return {
        "name": name,
        "op": op,
        "dtype": dtype,
        "options": {
            "stride": list(stride),
            "dilation": list(dilation),
            "padding": padding_json(padding),
            "groups": groups,
            "boundary": boundary_json(boundary, dtype),
        },
        "input": encode(x, dtype),
        "kernel": encode(k, dtype),
        "bias": None if bias is None else encode(bias, dtype),
        "expected": encode(expected, dtype),
        "source": source,
    }


def write(filename, cases):
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    doc = {"generator": "tests/golden/generate.py", "versions": VERSIONS, "cases": cases}
    path = OUT / filename
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"{path.relative_to(OUT.parent.parent)}: {len(cases)} cases, {path.stat().st_size} bytes")


def fill_literal(value):
    return repr(complex(value)) if isinstance(value, complex) else repr(value)


# --- scipy.signal ---------------------------------------------------------


def scipy_case(op, dtype, x, k, mode, boundary, tag):
    crate_mode, scipy_mode = mode
    crate_boundary, scipy_boundary = boundary
    fill = FILL[dtype] if crate_boundary == "fillv" else 0
    fn = getattr(scipy.signal, op)
    expected = fn(x, k, mode=scipy_mode, boundary=scipy_boundary, fillvalue=fill)
    fill_arg = f", fillvalue={fill_literal(fill)}" if scipy_boundary == "fill" else ""
    source = f"scipy.signal.{op}(x, k, mode='{scipy_mode}', boundary='{scipy_boundary}'{fill_arg})"
    name = f"{op}/{dtype}/{crate_mode}/{crate_boundary}/{tag}"
    return case(name, op, dtype, x, k, expected.astype(NUMPY_DTYPE[dtype]), source, padding=crate_mode,
                boundary=crate_boundary)


def shape_tag(x, k):
    return f"x{x.shape[0]}x{x.shape[1]}_k{k.shape[0]}x{k.shape[1]}"


# Kernels at least as large as the input along both axes (scipy swaps the two
# in 'valid' mode), and an equal-shape pair that is not swapped.
LARGE_KERNEL_VALID = [((2, 3), (3, 4)), ((2, 3), (2, 5)), ((3, 2), (3, 2))]


def scipy_valid_large_kernel(op, dtype):
    cases = []
    for x_shape, k_shape in LARGE_KERNEL_VALID:
        x, k = random(x_shape, dtype), random(k_shape, dtype)
        expected = getattr(scipy.signal, op)(x, k, mode="valid")
        cases.append(case(f"{op}/{dtype}/Valid/kernel_not_smaller/{shape_tag(x, k)}", op, dtype, x, k, expected,
                          f"scipy.signal.{op}(x, k, mode='valid')"))
    return cases


# Kernels larger than the input, so that 'same' and 'full' pad more than the
# input's length and the boundary rule has to repeat.
WIDE_PADDING = [((4, 4), (2, 3)), ((3, 5), (3, 2))]


def modes_boundaries():
    cases = []
    for op in ("correlate2d", "convolve2d"):
        for (k_shape, x_shape), mode, boundary in product(KERNELS, SCIPY_MODES, SCIPY_BOUNDARIES):
            x, k = random(x_shape, "f64"), random(k_shape, "f64")
            cases.append(scipy_case(op, "f64", x, k, mode, boundary, shape_tag(x, k)))
        cases += scipy_valid_large_kernel(op, "f64")
        for (k_shape, x_shape), mode, boundary in product(WIDE_PADDING, SCIPY_MODES[1:], SCIPY_BOUNDARIES):
            x, k = random(x_shape, "f64"), random(k_shape, "f64")
            cases.append(scipy_case(op, "f64", x, k, mode, boundary, shape_tag(x, k)))
    return cases


# --- numpy.pad + torch ----------------------------------------------------


def same_pads(n, k, stride, dilation, op):
    """TensorFlow's SAME: ceil(n / s) outputs; the odd pad goes after the
    input for correlation and before it for convolution."""
    out = -(-n // stride)
    total = max((out - 1) * stride + dilation * (k - 1) + 1 - n, 0)
    lo = total // 2 if op == "correlate2d" else total - total // 2
    return lo, total - lo


def resolve_padding(padding, x_shape, k_shape, stride, dilation, op):
    """(top, bottom, left, right) of a crate padding, computed here from the
    definitions rather than taken from the crate."""
    if padding == "Valid":
        return 0, 0, 0, 0
    if padding == "Full":
        return tuple(p for a in (0, 1) for p in [dilation[a] * (k_shape[a] - 1)] * 2)
    if padding == "Same":
        return tuple(p for a in (0, 1) for p in same_pads(x_shape[a], k_shape[a], stride[a], dilation[a], op))
    return padding


def np_pad(x, pads, boundary, dtype):
    """x extended by the boundary rule, and the numpy call that does it."""
    top, bottom, left, right = pads
    widths = ((top, bottom), (left, right))
    if boundary in ("fill0", "fillv"):
        value = 0 if boundary == "fill0" else FILL[dtype]
        text = f"np.pad(x, {widths}, 'constant', constant_values={fill_literal(value)})"
        return np.pad(x, widths, "constant", constant_values=value), text
    mode = NP_PAD_MODE[boundary]
    return np.pad(x, widths, mode), f"np.pad(x, {widths}, '{mode}')"


def torch_dtype_name(dtype):
    name = str(torch.from_numpy(np.zeros(1, computed_in(dtype))).dtype)
    return name if computed_in(dtype) == NUMPY_DTYPE[dtype] else f"{name}, cast to {NUMPY_DTYPE[dtype].__name__}"


def computed_in(dtype):
    """The numpy dtype torch computes a case in: the element type itself,
    except integers, which go through float64 (torch has no integer dilated
    convolution); with inputs below 10 in magnitude every sum is exact."""
    kind = NUMPY_DTYPE[dtype]
    return np.float64 if np.issubdtype(kind, np.integer) else kind


def to_dtype(result, dtype):
    """A torch result back in the case's element type, checked to be exact."""
    result = np.asarray(result)
    converted = result.astype(NUMPY_DTYPE[dtype])
    assert np.array_equal(converted, result), "an integer case was not computed exactly"
    return converted


def torch_correlate(xp, k, stride, dilation, dtype):
    """Cross-correlation without padding or conjugation."""
    t = torch.from_numpy(np.ascontiguousarray(xp, dtype=computed_in(dtype)))[None, None]
    w = torch.from_numpy(np.ascontiguousarray(k, dtype=computed_in(dtype)))[None, None]
    return to_dtype(F.conv2d(t, w, stride=stride, dilation=dilation)[0, 0].numpy(), dtype)


def padded_case(op, dtype, x, k, padding, boundary, stride=(1, 1), dilation=(1, 1), tag=""):
    pads = resolve_padding(padding, x.shape, k.shape, stride, dilation, op)
    xp, pad_text = np_pad(x, pads, boundary, dtype)
    is_complex = np.iscomplexobj(k)
    if op == "convolve2d":
        oriented, k_text = k[::-1, ::-1], "k[::-1, ::-1].copy()"
    elif is_complex:
        oriented, k_text = k.conj(), "k.conj()"
    else:
        oriented, k_text = k, "k"
    expected = torch_correlate(xp, oriented, stride, dilation, dtype)
    torch_dtype = torch_dtype_name(dtype)
    source = (f"torch.nn.functional.conv2d(torch.from_numpy({pad_text})[None, None], "
              f"torch.from_numpy({k_text})[None, None], stride={tuple(stride)}, "
              f"dilation={tuple(dilation)})[0, 0] in {torch_dtype}; padding {padding} resolved to "
              f"(top, bottom, left, right) = {pads}")
    padding_tag = padding if isinstance(padding, str) else "Explicit" + "_".join(map(str, padding))
    name = (f"{op}/{dtype}/{padding_tag}/{boundary}/s{stride[0]}x{stride[1]}/d{dilation[0]}x{dilation[1]}/"
            f"{shape_tag(x, k)}{tag}")
    return case(name, op, dtype, x, k, expected, source, padding=padding, boundary=boundary, stride=stride,
                dilation=dilation)


# (x shape, k shape, padding, boundary, stride, dilation)
GEOMETRY = [
    ((7, 8), (3, 3), "Valid", "fill0", (2, 1), (1, 1)),
    ((6, 8), (2, 3), "Valid", "fill0", (1, 3), (1, 1)),
    ((7, 8), (3, 3), "Valid", "fill0", (1, 1), (1, 2)),
    ((6, 7), (2, 2), "Valid", "fill0", (1, 1), (2, 1)),
    ((7, 8), (2, 3), "Valid", "fill0", (2, 2), (2, 2)),
    ((7, 8), (3, 3), "Same", "fill0", (2, 2), (1, 1)),
    ((6, 7), (2, 2), "Same", "fill0", (2, 2), (1, 1)),
    ((7, 8), (4, 4), "Same", "fillv", (2, 3), (1, 1)),
    ((7, 6), (2, 4), "Same", "fill0", (1, 1), (2, 1)),
    ((7, 8), (3, 1), "Same", "Wrap", (2, 2), (2, 2)),
    ((6, 7), (1, 4), "Same", "Symmetric", (2, 1), (1, 1)),
    ((5, 6), (4, 4), "Same", "Reflect", (1, 1), (1, 1)),
    ((5, 6), (2, 3), "Same", "Replicate", (1, 1), (1, 1)),
    ((7, 7), (3, 2), "Same", "Reflect", (2, 2), (1, 2)),
    ((6, 5), (2, 3), "Full", "fill0", (2, 2), (1, 1)),
    ((5, 6), (3, 3), "Full", "fill0", (1, 1), (2, 1)),
    ((5, 6), (3, 3), "Full", "Reflect", (1, 1), (1, 1)),
    ((4, 5), (2, 4), "Full", "Replicate", (2, 1), (1, 1)),
    # Asymmetric explicit padding under every boundary rule.
    *[((5, 6), (3, 2), (2, 0, 1, 3), b, (1, 1), (1, 1)) for b in ("fill0", "fillv", "Wrap", "Symmetric", "Reflect",
                                                                   "Replicate")],
    # Padding wider than the input: numpy.pad repeats the rule.
    *[((3, 4), (2, 3), (5, 1, 0, 9), b, (2, 1), (1, 2)) for b in ("fillv", "Wrap", "Symmetric", "Reflect",
                                                                   "Replicate")],
    # One row and one column: Reflect has nothing to mirror.
    ((1, 5), (2, 2), (3, 2, 4, 1), "Reflect", (1, 2), (1, 1)),
    ((4, 1), (3, 2), (0, 2, 3, 3), "Symmetric", (1, 1), (1, 2)),
    ((1, 1), (2, 3), (1, 1, 2, 2), "Wrap", (1, 1), (1, 1)),
]


def geometry():
    cases = []
    for op in ("correlate2d", "convolve2d"):
        for x_shape, k_shape, padding, boundary, stride, dilation in GEOMETRY:
            x, k = random(x_shape, "f64"), random(k_shape, "f64")
            cases.append(padded_case(op, "f64", x, k, padding, boundary, stride, dilation))
    return cases


# Per element type and operation, a few of the GEOMETRY rows.
DTYPE_GEOMETRY = [
    ((7, 8), (2, 3), (5, 1, 0, 9), "Reflect", (2, 1), (1, 2)),
    ((7, 8), (3, 3), "Same", "Replicate", (2, 2), (1, 1)),
    ((6, 7), (2, 2), "Same", "fill0", (2, 2), (1, 1)),
    ((5, 6), (3, 2), "Full", "Wrap", (1, 2), (2, 1)),
    ((3, 4), (2, 3), (4, 0, 1, 6), "Symmetric", (1, 1), (1, 1)),
]


def integer_wraparound(op, dtype):
    """Values whose products and sums overflow; numpy (and the crate) wrap."""
    big = 2**30 + 7 if dtype == "i32" else 2**62 + 11
    x = np.array([[big, -big, big], [3, big, -5]], dtype=NUMPY_DTYPE[dtype])
    k = np.array([[5, 3], [-big, 7]], dtype=NUMPY_DTYPE[dtype])
    expected = getattr(scipy.signal, op)(x, k, mode="full")
    return case(f"{op}/{dtype}/Full/wraparound", op, dtype, x, k, expected, f"scipy.signal.{op}(x, k, mode='full')",
                padding="Full")


def dtypes():
    cases = []
    for dtype in ("f32", "i64", "i32", "Complex<f64>", "Complex<f32>"):
        for op in ("correlate2d", "convolve2d"):
            # Every mode x boundary pair, the kernel shapes taken in turn.
            for i, (mode, boundary) in enumerate(product(SCIPY_MODES, SCIPY_BOUNDARIES)):
                k_shape, x_shape = KERNELS[i % len(KERNELS)]
                x, k = random(x_shape, dtype), random(k_shape, dtype)
                cases.append(scipy_case(op, dtype, x, k, mode, boundary, shape_tag(x, k)))
            cases += scipy_valid_large_kernel(op, dtype)
            for x_shape, k_shape, padding, boundary, stride, dilation in DTYPE_GEOMETRY:
                x, k = random(x_shape, dtype), random(k_shape, dtype)
                cases.append(padded_case(op, dtype, x, k, padding, boundary, stride, dilation))
            if dtype in ("i32", "i64"):
                cases.append(integer_wraparound(op, dtype))
    return cases


# --- batched conv2d -------------------------------------------------------


def conv2d_case(dtype, n, c, h, w, o, kh, kw, *, groups=1, stride=(1, 1), dilation=(1, 1), padding=(0, 0, 0, 0),
                boundary="fill0", bias=True, torch_same=False):
    x = random((n, c, h, w), dtype)
    weight = random((o, c // groups, kh, kw), dtype)
    b = random((o,), dtype) if bias else None
    wide = computed_in(dtype)
    tx, tw = torch.from_numpy(x.astype(wide)), torch.from_numpy(weight.astype(wide))
    tb = None if b is None else torch.from_numpy(b.astype(wide))
    b_text = "b" if bias else "None"
    top, bottom, left, right = padding
    geometry_args = f"stride={stride}, dilation={dilation}, groups={groups}"
    if torch_same:
        crate_padding = "Same"
        with warnings.catch_warnings():
            # torch notes that an even kernel makes it copy the input; harmless here.
            warnings.simplefilter("ignore", UserWarning)
            y = F.conv2d(tx, tw, tb, stride=stride, padding="same", dilation=dilation, groups=groups)
        source = f"torch.nn.functional.conv2d(x, w, {b_text}, {geometry_args}, padding='same')"
    elif boundary == "fill0" and top == bottom and left == right:
        crate_padding = padding
        y = F.conv2d(tx, tw, tb, stride=stride, padding=(top, left), dilation=dilation, groups=groups)
        source = f"torch.nn.functional.conv2d(x, w, {b_text}, {geometry_args}, padding={(top, left)})"
    else:
        crate_padding = padding
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if boundary in ("Wrap", "Reflect", "Replicate", "fill0"):
            mode = TORCH_PAD_MODE.get(boundary, "constant")
            xp = F.pad(tx, (left, right, top, bottom), mode=mode)
            pad_text = f"torch.nn.functional.pad(x, {(left, right, top, bottom)}, mode='{mode}')"
        elif boundary == "Symmetric":
            xp = torch.from_numpy(np.pad(x, widths, "symmetric").astype(wide))
            pad_text = f"torch.from_numpy(np.pad(x, {widths}, 'symmetric'))"
        else:
            value = FILL[dtype]
            xp = torch.from_numpy(np.pad(x, widths, "constant", constant_values=value).astype(wide))
            pad_text = f"torch.from_numpy(np.pad(x, {widths}, 'constant', constant_values={fill_literal(value)}))"
        y = F.conv2d(xp, tw, tb, stride=stride, dilation=dilation, groups=groups)
        source = f"torch.nn.functional.conv2d({pad_text}, w, {b_text}, {geometry_args})"
    source += f" in {torch_dtype_name(dtype)}"
    pad_tag = "same" if torch_same else "p" + "_".join(map(str, padding))
    name = (f"conv2d/{dtype}/n{n}c{c}h{h}w{w}o{o}/k{kh}x{kw}/g{groups}/s{stride[0]}x{stride[1]}/"
            f"d{dilation[0]}x{dilation[1]}/{pad_tag}/{boundary}/{'bias' if bias else 'nobias'}")
    return case(name, "conv2d", dtype, x, weight, to_dtype(y.numpy(), dtype), source, padding=crate_padding,
                boundary=boundary, stride=stride, dilation=dilation, groups=groups, bias=b)


# keyword arguments of conv2d_case after (n, c, h, w, o, kh, kw)
CONV2D = [
    ((2, 3, 6, 7, 4, 3, 3), dict(padding=(1, 1, 1, 1))),
    ((1, 4, 7, 6, 4, 2, 2), dict(groups=2, stride=(2, 1), bias=False)),
    ((2, 4, 6, 6, 4, 3, 3), dict(groups=4, padding=(1, 1, 1, 1), boundary="Symmetric")),
    ((2, 2, 5, 7, 4, 1, 4), dict(groups=2, padding=(0, 0, 2, 1), boundary="fillv", bias=False)),
    ((2, 2, 7, 8, 4, 2, 3), dict(stride=(2, 2), dilation=(2, 1), padding=(0, 1, 2, 1))),
    ((1, 3, 6, 7, 2, 3, 3), dict(padding=(1, 1, 2, 2), boundary="Wrap", stride=(1, 2))),
    ((2, 2, 6, 6, 4, 4, 4), dict(padding=(2, 1, 1, 2), boundary="Reflect", groups=2)),
    ((1, 4, 5, 6, 4, 2, 3), dict(padding=(3, 0, 1, 4), boundary="Replicate", dilation=(1, 2), bias=False)),
    ((2, 4, 6, 5, 2, 3, 1), dict(groups=2, padding=(2, 2, 0, 0), boundary="Wrap", stride=(1, 2))),
    ((1, 2, 6, 7, 2, 2, 4), dict(torch_same=True, dilation=(1, 2))),
    ((2, 3, 5, 6, 4, 4, 2), dict(torch_same=True)),
    ((1, 2, 6, 6, 4, 3, 3), dict(torch_same=True, groups=2, bias=False)),
    ((2, 1, 7, 7, 3, 3, 2), dict(stride=(3, 2), dilation=(2, 2), bias=False)),
]


def conv2d():
    cases = []
    for dtype in ("f64", "f32"):
        for dims, kwargs in CONV2D:
            cases.append(conv2d_case(dtype, *dims, **kwargs))
    for dtype in ("Complex<f64>", "Complex<f32>", "i64", "i32"):
        for dims, kwargs in (CONV2D[1], CONV2D[4], CONV2D[6]):
            cases.append(conv2d_case(dtype, *dims, **kwargs))
    return cases


# --- gradients and the transposed convolution -----------------------------

# Its own generator, so that adding or changing a gradient case leaves the
# other fixtures' random inputs alone.
GRAD_RNG = np.random.default_rng(20240301)

TORCH_DTYPE = {"f64": torch.float64, "f32": torch.float32}


def tensor(array, dtype, requires_grad=False):
    return torch.tensor(array, dtype=TORCH_DTYPE[dtype], requires_grad=requires_grad)


def backward_pads(padding, x_shape, k_shape, stride, dilation):
    """(top, bottom, left, right) of a crate padding for conv2d; `Same` by
    the crate's documented rule, total = max((ceil(n/s)-1)s + d(k-1) + 1 - n,
    0) with the smaller half (total // 2) before the input."""
    return resolve_padding(padding, x_shape, k_shape, stride, dilation, "correlate2d")


def gather_indices(n, lo, hi, mode):
    """The source index of every padded position along one axis: numpy.pad
    applied to 0..n, for any width of padding."""
    return np.pad(np.arange(n), (lo, hi), mode)


def pad_for_autograd(x, pads, boundary, dtype, gather):
    """The padded input as a differentiable function of `x`, its text, and
    the definitions the text refers to (empty for F.pad).

    `F.pad` where torch has the mode and the widths are within its limits;
    otherwise (Symmetric, which torch lacks, and `gather=True` for padding
    wider than the input) index gathering with numpy.pad's indices, through
    which autograd sums the gradient of every copy back onto its pixel."""
    top, bottom, left, right = pads
    if pads == (0, 0, 0, 0):
        return x, "x", ""
    if boundary == "Symmetric" or gather:
        mode = NP_PAD_MODE[boundary]
        rows = gather_indices(x.shape[2], top, bottom, mode)
        cols = gather_indices(x.shape[3], left, right, mode)
        xp = x[:, :, torch.from_numpy(rows)][:, :, :, torch.from_numpy(cols)]
        note = (f", with rows = torch.from_numpy(np.pad(np.arange({x.shape[2]}), {(top, bottom)}, '{mode}')) and "
                f"cols = torch.from_numpy(np.pad(np.arange({x.shape[3]}), {(left, right)}, '{mode}')): "
                f"the input gathered at numpy.pad's indices, so that autograd sums the gradient of every copy "
                f"back onto its pixel")
        return xp, "x[:, :, rows][:, :, :, cols]", note
    torch_pads = (left, right, top, bottom)
    if boundary in ("fill0", "fillv"):
        value = 0.0 if boundary == "fill0" else FILL[dtype]
        xp = F.pad(x, torch_pads, mode="constant", value=value)
        return xp, f"torch.nn.functional.pad(x, {torch_pads}, mode='constant', value={value!r})", ""
    mode = TORCH_PAD_MODE[boundary]
    return F.pad(x, torch_pads, mode=mode), f"torch.nn.functional.pad(x, {torch_pads}, mode='{mode}')", ""


def gradient_options(padding, boundary, dtype, stride, dilation, groups, output_padding=(0, 0)):
    return {
        "stride": list(stride),
        "dilation": list(dilation),
        "padding": padding_json(padding),
        "groups": groups,
        "boundary": boundary_json(boundary, dtype),
        "output_padding": list(output_padding),
    }


def backward_case(dtype, n, c, h, w, o, kh, kw, *, padding="Valid", boundary="fill0", stride=(1, 1),
                  dilation=(1, 1), groups=1, gather=False):
    x = random((n, c, h, w), dtype, GRAD_RNG)
    weight = random((o, c // groups, kh, kw), dtype, GRAD_RNG)
    bias = random((o,), dtype, GRAD_RNG)
    pads = backward_pads(padding, (h, w), (kh, kw), stride, dilation)
    tx, tw, tb = (tensor(a, dtype, requires_grad=True) for a in (x, weight, bias))
    xp, pad_text, pad_note = pad_for_autograd(tx, pads, boundary, dtype, gather)
    if boundary in TORCH_PAD_MODE and not gather and pads != (0, 0, 0, 0):
        # numpy.pad's rule, which the gathered cases use, is torch's.
        gathered, _, _ = pad_for_autograd(tx, pads, boundary, dtype, gather=True)
        assert torch.equal(gathered, xp)
    y = F.conv2d(xp, tw, tb, stride=stride, padding=0, dilation=dilation, groups=groups)
    if padding == "Same" and stride == (1, 1) and boundary == "fill0":
        # The crate's rule for Same is torch's padding='same'.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            native = F.conv2d(tx, tw, tb, padding="same", dilation=dilation, groups=groups)
        assert torch.equal(native, y)
    g = random(tuple(y.shape), dtype, GRAD_RNG)
    loss = (y * tensor(g, dtype)).sum()
    dx, dw, db = torch.autograd.grad(loss, (tx, tw, tb))
    source = (f"dx, dw, db = torch.autograd.grad((torch.nn.functional.conv2d({pad_text}, w, b, stride={stride}, "
              f"padding=0, dilation={dilation}, groups={groups}) * g).sum(), (x, w, b)) in "
              f"{TORCH_DTYPE[dtype]}{pad_note}; output is the conv2d value")
    if not isinstance(padding, tuple):
        source += f"; padding {padding} resolved to (top, bottom, left, right) = {pads}"
    pad_tag = padding if isinstance(padding, str) else "p" + "_".join(map(str, padding))
    name = (f"conv2d_backward/{dtype}/n{n}c{c}h{h}w{w}o{o}/k{kh}x{kw}/g{groups}/s{stride[0]}x{stride[1]}/"
            f"d{dilation[0]}x{dilation[1]}/{pad_tag}/{boundary}{'/gather' if gather else ''}")
    as_numpy = lambda t: t.detach().numpy()
    return {
        "name": name,
        "op": "conv2d_backward",
        "dtype": dtype,
        "options": gradient_options(padding, boundary, dtype, stride, dilation, groups),
        "input": encode(x, dtype),
        "weight": encode(weight, dtype),
        "bias": encode(bias, dtype),
        "grad_output": encode(g, dtype),
        "expected": {
            "output": encode(as_numpy(y), dtype),
            "input": encode(as_numpy(dx), dtype),
            "weight": encode(as_numpy(dw), dtype),
            "bias": encode(as_numpy(db), dtype),
        },
        "source": source,
    }


def transpose_case(dtype, n, c_in, h, w, c_out, kh, kw, *, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                   dilation=(1, 1), groups=1, bias=True, full=False):
    """`full=True` asks for the crate's Padding::Full, which for the
    transposed convolution removes d(k-1) on each side: torch's padding
    d(k-1)."""
    x = random((n, c_in, h, w), dtype, GRAD_RNG)
    weight = random((c_in, c_out // groups, kh, kw), dtype, GRAD_RNG)
    b = random((c_out,), dtype, GRAD_RNG) if bias else None
    if full:
        padding = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
        crate_padding = "Full"
    else:
        crate_padding = (padding[0], padding[0], padding[1], padding[1])
    tb = None if b is None else tensor(b, dtype)
    y = F.conv_transpose2d(tensor(x, dtype), tensor(weight, dtype), tb, stride=stride, padding=padding,
                           output_padding=output_padding, groups=groups, dilation=dilation)
    b_text = "b" if bias else "None"
    source = (f"torch.nn.functional.conv_transpose2d(x, w, {b_text}, stride={stride}, padding={padding}, "
              f"output_padding={output_padding}, groups={groups}, dilation={dilation}) in {TORCH_DTYPE[dtype]}")
    pad_tag = "Full" if full else f"p{padding[0]}x{padding[1]}"
    name = (f"conv_transpose2d/{dtype}/n{n}c{c_in}h{h}w{w}o{c_out}/k{kh}x{kw}/g{groups}/s{stride[0]}x{stride[1]}/"
            f"d{dilation[0]}x{dilation[1]}/{pad_tag}/op{output_padding[0]}x{output_padding[1]}/"
            f"{'bias' if bias else 'nobias'}")
    return {
        "name": name,
        "op": "conv_transpose2d",
        "dtype": dtype,
        "options": gradient_options(crate_padding, "fill0", dtype, stride, dilation, groups, output_padding),
        "input": encode(x, dtype),
        "weight": encode(weight, dtype),
        "bias": None if b is None else encode(b, dtype),
        "expected": {"output": encode(y.numpy(), dtype)},
        "source": source,
    }


# (n, c, h, w, o, kh, kw) and the keyword arguments of backward_case; the
# rows marked f32 are also written in single precision.
BACKWARD = [
    # Every boundary rule through F.pad (Symmetric through gathering).
    ((2, 3, 6, 7, 4, 3, 3), dict(padding=(1, 1, 1, 1))),
    ((2, 2, 5, 7, 3, 3, 2), dict(padding=(2, 0, 1, 3), boundary="fillv", stride=(1, 2))),
    ((2, 4, 7, 6, 4, 2, 3), dict(padding=(1, 2, 2, 1), boundary="Wrap", stride=(2, 1), groups=2)),
    ((2, 2, 6, 7, 4, 4, 4), dict(padding=(2, 1, 1, 2), boundary="Reflect", groups=2, dilation=(1, 2))),
    ((2, 3, 5, 6, 2, 2, 3), dict(padding=(3, 0, 1, 4), boundary="Replicate", dilation=(2, 1))),
    ((2, 4, 6, 6, 4, 3, 3), dict(padding=(1, 1, 1, 1), boundary="Symmetric", groups=4)),
    ((2, 2, 5, 6, 3, 2, 2), dict(padding=(0, 2, 3, 1), boundary="Symmetric", stride=(2, 2))),
    # Padding wider than the input: gathered, since F.pad refuses it for
    # circular and reflect; Replicate and constant through F.pad.
    ((2, 2, 3, 4, 2, 2, 3), dict(padding=(5, 1, 0, 4), boundary="Symmetric", stride=(2, 1), dilation=(1, 2))),
    ((2, 2, 3, 4, 2, 2, 3), dict(padding=(4, 2, 5, 0), boundary="Wrap", gather=True)),
    ((2, 2, 3, 4, 2, 3, 2), dict(padding=(1, 6, 3, 5), boundary="Reflect", gather=True, stride=(1, 2))),
    ((2, 2, 3, 4, 2, 2, 2), dict(padding=(4, 4, 0, 6), boundary="Replicate", dilation=(2, 2))),
    ((2, 2, 3, 4, 2, 3, 3), dict(padding=(5, 0, 2, 6), boundary="fillv", stride=(2, 2))),
    # Valid, with per-axis stride and dilation; strides past the kernel leave
    # pixels no output reads.
    ((2, 3, 8, 9, 4, 2, 2), dict(stride=(2, 3))),
    ((2, 2, 8, 7, 2, 2, 3), dict(stride=(2, 2), dilation=(2, 2))),
    ((2, 1, 8, 7, 3, 2, 2), dict(stride=(3, 4))),
    # Full.
    ((2, 2, 5, 6, 3, 2, 3), dict(padding="Full", dilation=(1, 2))),
    ((2, 2, 5, 6, 2, 3, 3), dict(padding="Full", boundary="Reflect")),
    ((2, 2, 4, 5, 2, 2, 4), dict(padding="Full", boundary="Wrap", stride=(2, 1))),
    # Same at stride 1 (odd totals split unevenly) and stride 2.
    ((2, 2, 6, 7, 3, 4, 2), dict(padding="Same")),
    ((2, 2, 6, 7, 2, 3, 4), dict(padding="Same", boundary="Symmetric", dilation=(2, 1))),
    ((2, 3, 7, 8, 4, 3, 3), dict(padding="Same", boundary="Replicate", stride=(2, 2))),
    ((2, 2, 6, 7, 2, 2, 2), dict(padding="Same", boundary="fillv", stride=(2, 2))),
    ((2, 4, 7, 6, 4, 3, 2), dict(padding="Same", boundary="Wrap", stride=(2, 1), dilation=(1, 2), groups=2)),
    ((2, 2, 8, 7, 2, 4, 3), dict(padding="Same", boundary="Reflect", stride=(2, 2))),
    # Depthwise with a channel multiplier.
    ((2, 3, 7, 7, 6, 3, 3), dict(padding=(1, 1, 1, 1), boundary="Reflect", stride=(2, 2), groups=3)),
    # At least 8 input and 8 output channels per group: Algorithm::Auto
    # chooses the matrix product for the forward pass and for the input
    # gradient (a convolution with C/G outputs per group).
    ((2, 8, 5, 6, 8, 3, 3), dict(padding=(1, 1, 1, 1))),
    ((2, 16, 5, 5, 16, 3, 2), dict(padding="Same", boundary="Symmetric", groups=2)),
    # A depthwise kernel of 64 taps at stride 1: Algorithm::Auto computes the
    # input gradient with the FFT.
    ((2, 2, 11, 12, 2, 8, 8), dict(padding="Same", boundary="Wrap", groups=2)),
    ((2, 1, 10, 10, 1, 8, 9), dict(padding="Full")),
]

BACKWARD_F32 = [0, 1, 2, 5, 10, 20, 25, 27]

# (n, c_in, h, w, c_out, kh, kw) and the keyword arguments of transpose_case.
TRANSPOSE = [
    ((2, 2, 4, 5, 3, 3, 3), dict()),
    ((2, 4, 4, 4, 2, 3, 3), dict(stride=(2, 2), padding=(1, 1), output_padding=(1, 1))),
    ((2, 2, 3, 4, 3, 4, 3), dict(stride=(3, 2), padding=(1, 0), output_padding=(2, 1))),
    ((2, 4, 3, 4, 6, 3, 2), dict(stride=(2, 2), padding=(2, 1), output_padding=(1, 0), dilation=(2, 1), groups=2)),
    ((2, 3, 4, 3, 3, 2, 2), dict(stride=(2, 3), output_padding=(1, 2), groups=3)),
    # output_padding at least the stride, allowed because it is below the dilation.
    ((2, 2, 4, 5, 2, 3, 3), dict(padding=(1, 1), output_padding=(1, 1), dilation=(2, 2))),
    ((2, 2, 3, 4, 2, 2, 3), dict(stride=(2, 1), padding=(0, 2), output_padding=(1, 2), dilation=(1, 3))),
    ((2, 2, 5, 4, 3, 3, 3), dict(stride=(2, 2), full=True)),
    ((2, 3, 3, 3, 2, 2, 4), dict(stride=(3, 3), padding=(1, 2), output_padding=(2, 0), bias=False)),
    # Enough output channels per group for the matrix product.
    ((2, 2, 4, 5, 8, 3, 3), dict(stride=(2, 2), padding=(1, 1), output_padding=(1, 0))),
    # Depthwise, 64 taps at stride 1: the FFT under Algorithm::Auto.
    ((2, 2, 5, 6, 2, 8, 8), dict(groups=2, padding=(2, 3))),
]

TRANSPOSE_F32 = [1, 3, 9]


def gradients():
    cases = [backward_case("f64", *dims, **kwargs) for dims, kwargs in BACKWARD]
    cases += [backward_case("f32", *BACKWARD[i][0], **BACKWARD[i][1]) for i in BACKWARD_F32]
    cases += [transpose_case("f64", *dims, **kwargs) for dims, kwargs in TRANSPOSE]
    cases += [transpose_case("f32", *TRANSPOSE[i][0], **TRANSPOSE[i][1]) for i in TRANSPOSE_F32]
    return cases


# --- 1-D ------------------------------------------------------------------

# The 1-D fixture draws from its own seed, so that it is the same whether
# it is written alone or after the others.
RANK1_RNG = np.random.default_rng(20261203)


def padding_json_1d(padding):
    if isinstance(padding, str):
        return padding
    left, right = padding
    return {"Explicit1d": {"left": left, "right": right}}


def pads_1d(padding, n, k, stride, dilation, convolution=False):
    """(left, right) of a crate padding along one axis; `Same` by the crate's
    rule: total = max((ceil(n/s)-1)s + d(k-1) + 1 - n, 0), the smaller half
    (total // 2) before the input for correlation, after it for convolution."""
    extent = dilation * (k - 1) + 1
    if padding == "Valid":
        return 0, 0
    if padding == "Full":
        return extent - 1, extent - 1
    if padding == "Same":
        total = max((-(-n // stride) - 1) * stride + extent - n, 0)
        small = total // 2
        return (total - small, small) if convolution else (small, total - small)
    return padding


def np_pad_1d(x, pads, boundary, dtype):
    if boundary in ("fill0", "fillv"):
        value = 0 if boundary == "fill0" else FILL[dtype]
        return np.pad(x, pads, mode="constant", constant_values=value)
    return np.pad(x, pads, mode=NP_PAD_MODE[boundary])


def options_1d(padding, boundary, dtype, stride, dilation, groups=1, output_padding=0):
    return {
        "stride": [stride],
        "dilation": [dilation],
        "padding": padding_json_1d(padding),
        "groups": groups,
        "boundary": boundary_json(boundary, dtype),
        "output_padding": [output_padding],
    }


def signal_case(op, dtype, n, k, *, padding="Valid", boundary="fill0", stride=1, dilation=1):
    """`correlate1d` / `convolve1d`: scipy.signal on 1-D arrays where it
    has the mode (stride 1, zero fill, odd kernels for 'same'), otherwise
    numpy.pad followed by the strided, dilated sum of the definition taken
    by torch's conv1d (real types) or by scipy.signal's 'valid' mode."""
    x, kern = random((n,), dtype, RANK1_RNG), random((k,), dtype, RANK1_RNG)
    convolution = op == "convolve1d"
    scipy_fn = "convolve" if convolution else "correlate"
    plain = boundary == "fill0" and stride == 1 and dilation == 1 and isinstance(padding, str)
    if plain and (padding != "Same" or k % 2 == 1):
        mode = padding.lower()
        expected = getattr(scipy.signal, scipy_fn)(x, kern, mode=mode)
        source = f"scipy.signal.{scipy_fn}(x, k, mode='{mode}')"
    else:
        pads = pads_1d(padding, n, k, stride, dilation, convolution)
        xp = np_pad_1d(x, pads, boundary, dtype)
        pad_text = (f"np.pad(x, {pads}, mode='constant', constant_values={fill_literal(FILL[dtype] if boundary == 'fillv' else 0)})"
                    if boundary in ("fill0", "fillv") else f"np.pad(x, {pads}, mode='{NP_PAD_MODE[boundary]}')")
        taps = kern[::-1] if convolution else kern
        flip = "k[::-1]" if convolution else "k"
        if stride == 1 and dilation == 1 and xp.size >= k:
            expected = scipy.signal.correlate(xp, taps, mode="valid") if not convolution else \
                scipy.signal.convolve(xp, kern, mode="valid")
            source = (f"scipy.signal.{scipy_fn}({pad_text}, k, mode='valid')")
        else:
            assert not np.issubdtype(NUMPY_DTYPE[dtype], np.complexfloating)
            kind = computed_in(dtype)
            t = torch.from_numpy(xp.astype(kind))[None, None]
            w = torch.from_numpy(np.ascontiguousarray(taps).astype(kind))[None, None]
            expected = F.conv1d(t, w, stride=stride, dilation=dilation)[0, 0].numpy()
            source = (f"torch.nn.functional.conv1d(torch.from_numpy({pad_text})[None, None], "
                      f"torch.from_numpy({flip})[None, None], stride={stride}, dilation={dilation})[0, 0]")
    name = f"{op}/{dtype}/{padding_json_1d(padding)}/{boundary}/n{n}_k{k}_s{stride}_d{dilation}"
    return {
        "name": name,
        "op": op,
        "dtype": dtype,
        "options": options_1d(padding, boundary, dtype, stride, dilation),
        "input": encode(x, dtype),
        "kernel": encode(kern, dtype),
        "expected": encode(to_dtype(expected, dtype), dtype),
        "source": source,
    }


def pad_1d_for_autograd(x, pads, boundary, dtype):
    """The padded input as a differentiable function of `x`, and its text:
    F.pad for a fill value, otherwise `x` gathered at numpy.pad's indices
    (through which autograd sums the gradient of every copy back)."""
    left, right = pads
    if boundary in ("fill0", "fillv"):
        value = 0.0 if boundary == "fill0" else FILL[dtype]
        return F.pad(x, (left, right), value=value), f"torch.nn.functional.pad(x, {(left, right)}, value={value!r})"
    mode = NP_PAD_MODE[boundary]
    index = torch.from_numpy(np.pad(np.arange(x.shape[2]), (left, right), mode))
    return x[:, :, index], f"x[:, :, torch.from_numpy(np.pad(np.arange({x.shape[2]}), {(left, right)}, '{mode}'))]"


def conv1d_case(dtype, n, c, length, o, k, *, groups=1, padding="Valid", boundary="fill0", stride=1, dilation=1,
                bias=True):
    """`conv1d` and `conv1d_backward`: torch's conv1d of the padded input,
    and torch.autograd.grad of (y * g).sum() with respect to (x, w, b)."""
    x = random((n, c, length), dtype, RANK1_RNG)
    w = random((o, c // groups, k), dtype, RANK1_RNG)
    b = random((o,), dtype, RANK1_RNG) if bias else None
    pads = pads_1d(padding, length, k, stride, dilation)
    xt, wt = tensor(x, dtype, True), tensor(w, dtype, True)
    bt = tensor(b, dtype, True) if bias else None
    xp, pad_text = pad_1d_for_autograd(xt, pads, boundary, dtype)
    y = F.conv1d(xp, wt, bt, stride=stride, dilation=dilation, groups=groups)
    g = random(tuple(y.shape), dtype, RANK1_RNG)
    inputs = (xt, wt, bt) if bias else (xt, wt)
    grads = torch.autograd.grad((y * tensor(g, dtype)).sum(), inputs)
    call = (f"torch.nn.functional.conv1d({pad_text}, w, {'b' if bias else 'None'}, stride={stride}, "
            f"dilation={dilation}, groups={groups})")
    expected = {"output": encode(y.detach().numpy(), dtype), "input": encode(grads[0].numpy(), dtype),
                "weight": encode(grads[1].numpy(), dtype)}
    expected["bias"] = encode(grads[2].numpy() if bias else g.sum(axis=(0, 2)).astype(NUMPY_DTYPE[dtype]), dtype)
    name = f"conv1d/{dtype}/{padding_json_1d(padding)}/{boundary}/n{n}c{c}l{length}o{o}k{k}s{stride}d{dilation}g{groups}"
    return {
        "name": name,
        "op": "conv1d",
        "dtype": dtype,
        "options": options_1d(padding, boundary, dtype, stride, dilation, groups),
        "input": encode(x, dtype),
        "weight": encode(w, dtype),
        "bias": encode(b, dtype) if bias else None,
        "grad_output": encode(g, dtype),
        "expected": expected,
        "source": f"y = {call}; torch.autograd.grad((y * g).sum(), (x, w{', b' if bias else ''}))"
                  + ("" if bias else "; the bias gradient is g.sum(axis=(0, 2))"),
    }


def transpose1d_case(dtype, n, c_in, length, c_out, k, *, stride=1, padding=(0, 0), output_padding=0, groups=1,
                     dilation=1, bias=True):
    """`conv_transpose1d`: torch's conv_transpose1d with no padding, then the
    crate's (left, right) padding cropped from its two ends."""
    x = random((n, c_in, length), dtype, RANK1_RNG)
    w = random((c_in, c_out // groups, k), dtype, RANK1_RNG)
    b = random((c_out,), dtype, RANK1_RNG) if bias else None
    left, right = padding
    full = F.conv_transpose1d(tensor(x, dtype), tensor(w, dtype), tensor(b, dtype) if bias else None, stride=stride,
                              output_padding=output_padding, groups=groups, dilation=dilation)
    y = full[:, :, left:full.shape[2] - right]
    source = (f"torch.nn.functional.conv_transpose1d(x, w, {'b' if bias else 'None'}, stride={stride}, "
              f"output_padding={output_padding}, groups={groups}, dilation={dilation})[:, :, {left}:L - {right}]")
    return {
        "name": f"conv_transpose1d/{dtype}/n{n}c{c_in}l{length}o{c_out}k{k}s{stride}p{left},{right}"
                f"op{output_padding}g{groups}d{dilation}",
        "op": "conv_transpose1d",
        "dtype": dtype,
        "options": options_1d(padding, "fill0", dtype, stride, dilation, groups, output_padding),
        "input": encode(x, dtype),
        "weight": encode(w, dtype),
        "bias": encode(b, dtype) if bias else None,
        "expected": encode(y.numpy(), dtype),
        "source": source,
    }


def rank1():
    cases = []
    for op, dtype in product(("correlate1d", "convolve1d"), ("f64", "f32", "i64", "Complex<f64>")):
        for (n, k), mode in product(((9, 3), (10, 4), (4, 7)), ("Valid", "Same", "Full")):
            cases.append(signal_case(op, dtype, n, k, padding=mode))
    for op, boundary in product(("correlate1d", "convolve1d"), ("fillv", "Wrap", "Symmetric", "Reflect", "Replicate")):
        for (n, k), mode in product(((9, 3), (8, 4)), ("Same", "Full", (2, 5))):
            cases.append(signal_case(op, "f64", n, k, padding=mode, boundary=boundary))
    for op, (stride, dilation, mode, boundary) in product(
            ("correlate1d", "convolve1d"),
            ((2, 1, "Valid", "fill0"), (3, 1, "Same", "fill0"), (1, 2, "Same", "Reflect"), (2, 3, "Full", "Wrap"),
             (3, 2, (1, 4), "Symmetric"), (2, 2, "Same", "fillv"))):
        cases.append(signal_case(op, "f64", 17, 4, padding=mode, boundary=boundary, stride=stride, dilation=dilation))
    conv = [
        ((2, 4, 20, 6, 3), {}),
        ((2, 4, 20, 6, 3), {"padding": "Same"}),
        ((2, 4, 21, 6, 4), {"padding": "Same", "stride": 2}),
        ((1, 6, 30, 9, 5), {"groups": 3, "padding": (3, 1), "dilation": 2}),
        ((2, 4, 16, 4, 3), {"groups": 4, "padding": "Same", "boundary": "Reflect", "bias": False}),
        ((1, 3, 19, 5, 3), {"padding": "Full", "stride": 3, "boundary": "Wrap"}),
        ((2, 2, 12, 3, 5), {"padding": "Same", "dilation": 2, "boundary": "Symmetric"}),
        ((1, 2, 10, 4, 3), {"padding": (2, 2), "boundary": "Replicate", "stride": 2}),
        ((1, 2, 10, 4, 3), {"padding": "Same", "boundary": "fillv"}),
        ((2, 16, 40, 16, 9), {"padding": "Same"}),
    ]
    cases += [conv1d_case(dtype, *dims, **kw) for dtype in ("f64", "f32") for dims, kw in conv]
    transposed = [
        ((2, 4, 9, 6, 3), {}),
        ((1, 4, 7, 4, 4), {"stride": 2, "padding": (1, 1), "output_padding": 1}),
        ((2, 6, 5, 3, 3), {"stride": 3, "groups": 3, "padding": (0, 2), "dilation": 2, "output_padding": 1}),
        ((1, 3, 8, 2, 5), {"stride": 2, "padding": (2, 1), "bias": False}),
    ]
    cases += [transpose1d_case(dtype, *dims, **kw) for dtype in ("f64", "f32") for dims, kw in transposed]
    return cases


# --- 3-D ------------------------------------------------------------------

# The 3-D fixture draws from its own seed, so that it is the same whether
# it is written alone or after the others.
RANK3_RNG = np.random.default_rng(20261205)

UNIT3 = (1, 1, 1)


def padding_json_3d(padding):
    if isinstance(padding, str):
        return padding
    front, back, top, bottom, left, right = padding
    return {"Explicit3d": {"front": front, "back": back, "top": top, "bottom": bottom, "left": left, "right": right}}


def padding_tag_3d(padding):
    return padding if isinstance(padding, str) else "p" + "_".join(map(str, padding))


def options_3d(padding, boundary, dtype, stride, dilation, groups=1, output_padding=(0, 0, 0)):
    return {
        "stride": list(stride),
        "dilation": list(dilation),
        "padding": padding_json_3d(padding),
        "groups": groups,
        "boundary": boundary_json(boundary, dtype),
        "output_padding": list(output_padding),
    }


def pads_3d(padding, x_shape, k_shape, stride, dilation, convolution=False):
    """((front, back), (top, bottom), (left, right)) of a crate padding, each
    axis by `pads_1d`'s rule."""
    if isinstance(padding, tuple):
        return tuple(padding[2 * a:2 * a + 2] for a in range(3))
    return tuple(pads_1d(padding, x_shape[a], k_shape[a], stride[a], dilation[a], convolution) for a in range(3))


def np_pad_3d(x, pairs, boundary, dtype):
    """x extended by the boundary rule, and the numpy call that does it."""
    if boundary in ("fill0", "fillv"):
        value = 0 if boundary == "fill0" else FILL[dtype]
        text = f"np.pad(x, {pairs}, 'constant', constant_values={fill_literal(value)})"
        return np.pad(x, pairs, "constant", constant_values=value), text
    mode = NP_PAD_MODE[boundary]
    return np.pad(x, pairs, mode), f"np.pad(x, {pairs}, '{mode}')"


def dilate_3d(k, dilation):
    """k with d - 1 zeros between neighbouring taps along each axis."""
    spread = np.zeros(tuple(d * (n - 1) + 1 for n, d in zip(k.shape, dilation)), dtype=k.dtype)
    spread[::dilation[0], ::dilation[1], ::dilation[2]] = k
    return spread


def signal3d_case(op, dtype, x_shape, k_shape, *, padding="Valid", boundary="fill0", stride=UNIT3, dilation=UNIT3):
    """`correlate3d` / `convolve3d`: scipy.signal.correlate/convolve on 3-D
    arrays where scipy has the mode (zero fill, unit stride and dilation,
    odd kernels for 'same', whose centring is the crate's), otherwise
    numpy.pad by the crate's padding and boundary, scipy's 'valid' mode with
    the kernel spread by its dilation, and the dense result sliced by the
    stride. Real cases are checked against torch's conv3d, which strides and
    dilates by itself."""
    x, k = random(x_shape, dtype, RANK3_RNG), random(k_shape, dtype, RANK3_RNG)
    convolution = op == "convolve3d"
    fn = "convolve" if convolution else "correlate"
    plain = boundary == "fill0" and stride == UNIT3 and dilation == UNIT3 and isinstance(padding, str)
    if plain and (padding != "Same" or all(n % 2 == 1 for n in k_shape)):
        mode = padding.lower()
        expected = getattr(scipy.signal, fn)(x, k, mode=mode, method="direct")
        source = f"scipy.signal.{fn}(x, k, mode='{mode}', method='direct')"
    else:
        pairs = pads_3d(padding, x_shape, k_shape, stride, dilation, convolution)
        xp, pad_text = np_pad_3d(x, pairs, boundary, dtype)
        spread = dilate_3d(k, dilation)
        dense = getattr(scipy.signal, fn)(xp, spread, mode="valid", method="direct")
        expected = dense[::stride[0], ::stride[1], ::stride[2]]
        kernel_text = "k" if dilation == UNIT3 else "kd"
        source = f"scipy.signal.{fn}({pad_text}, {kernel_text}, mode='valid', method='direct')"
        if stride != UNIT3:
            source += f"[::{stride[0]}, ::{stride[1]}, ::{stride[2]}]"
        if dilation != UNIT3:
            source += f", kd = k with d - 1 zeros between taps for dilation {dilation}"
        if not isinstance(padding, tuple):
            source += f"; padding {padding} resolved to ((front, back), (top, bottom), (left, right)) = {pairs}"
        if not np.iscomplexobj(x):
            kind = computed_in(dtype)
            taps = k[::-1, ::-1, ::-1] if convolution else k
            t = torch.from_numpy(xp.astype(kind))[None, None]
            w = torch.from_numpy(np.ascontiguousarray(taps).astype(kind))[None, None]
            direct = F.conv3d(t, w, stride=stride, dilation=dilation)[0, 0].numpy()
            assert np.allclose(direct, expected, rtol=1e-4, atol=1e-4), (op, dtype, x_shape, k_shape)
    name = (f"{op}/{dtype}/{padding_tag_3d(padding)}/{boundary}/x{'x'.join(map(str, x_shape))}_"
            f"k{'x'.join(map(str, k_shape))}_s{'x'.join(map(str, stride))}_d{'x'.join(map(str, dilation))}")
    return {
        "name": name,
        "op": op,
        "dtype": dtype,
        "options": options_3d(padding, boundary, dtype, stride, dilation),
        "input": encode(x, dtype),
        "kernel": encode(k, dtype),
        "expected": encode(to_dtype(expected, dtype), dtype),
        "source": source,
    }


def pad_3d_for_autograd(x, pairs, boundary, dtype, gather):
    """The padded input `[N, C, D, H, W]` as a differentiable function of
    `x`, and its text: F.pad where torch has the mode (and, with
    `gather=False`, the widths are within its limits), otherwise `x`
    gathered at numpy.pad's indices along each axis, through which autograd
    sums the gradient of every copy back onto its element."""
    torch_pads = tuple(p for pair in reversed(pairs) for p in pair)
    if all(p == 0 for p in torch_pads):
        return x, "x"
    if boundary in ("fill0", "fillv"):
        value = 0.0 if boundary == "fill0" else FILL[dtype]
        return (F.pad(x, torch_pads, mode="constant", value=value),
                f"torch.nn.functional.pad(x, {torch_pads}, mode='constant', value={value!r})")
    mode = NP_PAD_MODE[boundary]
    indices = [torch.from_numpy(np.pad(np.arange(x.shape[2 + a]), pairs[a], mode)) for a in range(3)]
    gathered = x[:, :, indices[0]][:, :, :, indices[1]][:, :, :, :, indices[2]]
    text = (f"x[:, :, i][:, :, :, j][:, :, :, :, l] with i, j, l = np.pad(np.arange(n), (lo, hi), '{mode}') "
            f"along depth, rows and columns for {pairs}")
    if boundary == "Symmetric" or gather:
        return gathered, text
    padded = F.pad(x, torch_pads, mode=TORCH_PAD_MODE[boundary])
    # numpy.pad's rule, which the gathered cases use, is torch's.
    assert torch.equal(padded, gathered)
    return padded, f"torch.nn.functional.pad(x, {torch_pads}, mode='{TORCH_PAD_MODE[boundary]}')"


def native_conv3d(xt, wt, bt, pairs, boundary, stride, dilation, groups, padding):
    """The same forward pass by torch's own padding, where torch has it
    (its `padding='same'`, or the same padding at both ends of each axis
    with a padding_mode), and its text; `None` otherwise."""
    ends = [pair[0] == pair[1] for pair in pairs]
    if padding == "Same" and stride == UNIT3 and boundary == "fill0":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            y = F.conv3d(xt, wt, bt, padding="same", dilation=dilation, groups=groups)
        return y, "torch.nn.functional.conv3d(x, w, b, padding='same', ...)"
    if not all(ends) or boundary not in ("fill0", "Wrap", "Reflect", "Replicate"):
        return None
    per_axis = tuple(pair[0] for pair in pairs)
    if boundary != "fill0" and any(p > n - (boundary == "Reflect") for p, n in zip(per_axis, xt.shape[2:])):
        return None
    mode = {"fill0": "zeros", **TORCH_PAD_MODE}[boundary]
    o, cg = wt.shape[0], wt.shape[1]
    layer = torch.nn.Conv3d(cg * groups, o, tuple(wt.shape[2:]), stride=stride, padding=per_axis, dilation=dilation,
                            groups=groups, bias=bt is not None, padding_mode=mode, dtype=wt.dtype)
    with torch.no_grad():
        layer.weight.copy_(wt)
        if bt is not None:
            layer.bias.copy_(bt)
        y = layer(xt)
    return y, (f"torch.nn.Conv3d(C, O, {tuple(wt.shape[2:])}, stride={stride}, padding={per_axis}, "
               f"dilation={dilation}, groups={groups}, padding_mode='{mode}') holding w and b")


def conv3d_case(dtype, n, c, d, h, w, o, kd, kh, kw, *, groups=1, padding="Valid", boundary="fill0", stride=UNIT3,
                dilation=UNIT3, bias=True, gather=False):
    """`conv3d` and `conv3d_backward`: torch's conv3d of the padded input,
    and torch.autograd.grad of (y * g).sum() with respect to (x, w, b); the
    forward value is also checked against torch's own padding where it has
    the rule."""
    x = random((n, c, d, h, w), dtype, RANK3_RNG)
    wt_ = random((o, c // groups, kd, kh, kw), dtype, RANK3_RNG)
    b = random((o,), dtype, RANK3_RNG) if bias else None
    pairs = pads_3d(padding, (d, h, w), (kd, kh, kw), stride, dilation)
    xt, wt = tensor(x, dtype, True), tensor(wt_, dtype, True)
    bt = tensor(b, dtype, True) if bias else None
    xp, pad_text = pad_3d_for_autograd(xt, pairs, boundary, dtype, gather)
    y = F.conv3d(xp, wt, bt, stride=stride, dilation=dilation, groups=groups)
    g = random(tuple(y.shape), dtype, RANK3_RNG)
    inputs = (xt, wt, bt) if bias else (xt, wt)
    grads = torch.autograd.grad((y * tensor(g, dtype)).sum(), inputs)
    call = (f"torch.nn.functional.conv3d({pad_text}, w, {'b' if bias else 'None'}, stride={stride}, "
            f"dilation={dilation}, groups={groups})")
    source = (f"y = {call} in {TORCH_DTYPE[dtype]}; torch.autograd.grad((y * g).sum(), (x, w{', b' if bias else ''}))"
              + ("" if bias else "; the bias gradient is g.sum(axis=(0, 2, 3, 4))"))
    if not isinstance(padding, tuple):
        source += f"; padding {padding} resolved to ((front, back), (top, bottom), (left, right)) = {pairs}"
    native = native_conv3d(xt.detach(), wt.detach(), None if b is None else bt.detach(), pairs, boundary, stride,
                           dilation, groups, padding)
    if native is not None:
        tol = 1e-12 if dtype == "f64" else 1e-5
        assert torch.allclose(native[0], y.detach(), rtol=tol, atol=tol), (dtype, n, c, d, h, w, padding, boundary)
        source += f"; y equals {native[1]}"
    expected = {"output": encode(y.detach().numpy(), dtype), "input": encode(grads[0].numpy(), dtype),
                "weight": encode(grads[1].numpy(), dtype)}
    expected["bias"] = encode(grads[2].numpy() if bias else g.sum(axis=(0, 2, 3, 4)).astype(NUMPY_DTYPE[dtype]),
                              dtype)
    name = (f"conv3d/{dtype}/{padding_tag_3d(padding)}/{boundary}{'/gather' if gather else ''}/"
            f"n{n}c{c}d{d}h{h}w{w}o{o}/k{kd}x{kh}x{kw}/s{'x'.join(map(str, stride))}/"
            f"d{'x'.join(map(str, dilation))}/g{groups}/{'bias' if bias else 'nobias'}")
    return {
        "name": name,
        "op": "conv3d",
        "dtype": dtype,
        "options": options_3d(padding, boundary, dtype, stride, dilation, groups),
        "input": encode(x, dtype),
        "weight": encode(wt_, dtype),
        "bias": encode(b, dtype) if bias else None,
        "grad_output": encode(g, dtype),
        "expected": expected,
        "source": source,
    }


def transpose3d_case(dtype, n, c_in, d, h, w, c_out, kd, kh, kw, *, stride=UNIT3, padding=(0, 0, 0, 0, 0, 0),
                     output_padding=(0, 0, 0), groups=1, dilation=UNIT3, bias=True):
    """`conv_transpose3d`: torch's conv_transpose3d with no padding, then the
    crate's per-side padding cropped from the ends of each axis (`Full`
    crops d(k - 1) from both ends, torch's padding d(k - 1))."""
    x = random((n, c_in, d, h, w), dtype, RANK3_RNG)
    wt = random((c_in, c_out // groups, kd, kh, kw), dtype, RANK3_RNG)
    b = random((c_out,), dtype, RANK3_RNG) if bias else None
    crops = padding
    if padding == "Full":
        crops = tuple(p for e in (dilation[a] * (k - 1) for a, k in enumerate((kd, kh, kw))) for p in (e, e))
    full = F.conv_transpose3d(tensor(x, dtype), tensor(wt, dtype), tensor(b, dtype) if bias else None, stride=stride,
                              output_padding=output_padding, groups=groups, dilation=dilation)
    front, back, top, bottom, left, right = crops
    y = full[:, :, front:full.shape[2] - back, top:full.shape[3] - bottom, left:full.shape[4] - right]
    source = (f"torch.nn.functional.conv_transpose3d(x, w, {'b' if bias else 'None'}, stride={stride}, "
              f"output_padding={output_padding}, groups={groups}, dilation={dilation})"
              f"[:, :, {front}:D - {back}, {top}:H - {bottom}, {left}:W - {right}] in {TORCH_DTYPE[dtype]}")
    if front == back and top == bottom and left == right:
        native = F.conv_transpose3d(tensor(x, dtype), tensor(wt, dtype), tensor(b, dtype) if bias else None,
                                    stride=stride, padding=(front, top, left), output_padding=output_padding,
                                    groups=groups, dilation=dilation)
        tol = 1e-12 if dtype == "f64" else 1e-5
        assert torch.allclose(native, y, rtol=tol, atol=tol)
        source += f"; equal to padding={(front, top, left)}"
    return {
        "name": (f"conv_transpose3d/{dtype}/n{n}c{c_in}d{d}h{h}w{w}o{c_out}/k{kd}x{kh}x{kw}/"
                 f"s{'x'.join(map(str, stride))}/{padding_tag_3d(padding)}/op{'x'.join(map(str, output_padding))}/"
                 f"g{groups}/d{'x'.join(map(str, dilation))}/{'bias' if bias else 'nobias'}"),
        "op": "conv_transpose3d",
        "dtype": dtype,
        "options": options_3d(padding, "fill0", dtype, stride, dilation, groups, output_padding),
        "input": encode(x, dtype),
        "weight": encode(wt, dtype),
        "bias": encode(b, dtype) if bias else None,
        "expected": encode(y.numpy(), dtype),
        "source": source,
    }


# (x shape, k shape) pairs for scipy's modes: odd, even and mixed kernels,
# and a kernel longer than the input along one axis ('same' and 'full' then
# pad more than the input's length; 'valid' refuses it and is left out).
SIGNAL3D_SHAPES = [((4, 5, 6), (3, 3, 3)), ((5, 4, 6), (2, 3, 4)), ((3, 6, 5), (4, 2, 3))]

# Kernels at least as large as the input along every axis: scipy swaps the
# two in 'valid' mode (and conjugates a complex correlation); an
# equal-shape pair is not swapped.
SIGNAL3D_SWAP = [((2, 3, 2), (3, 4, 2)), ((2, 2, 3), (2, 3, 5)), ((3, 2, 2), (3, 2, 2))]

# (x shape, k shape, padding, boundary, stride, dilation) for every boundary
# rule, explicit and asymmetric padding (wider than the input included),
# stride and dilation per axis.
SIGNAL3D_GEOMETRY = [
    *[((4, 5, 5), (3, 2, 3), pad, b, UNIT3, UNIT3)
      for pad in ("Same", "Full", (2, 0, 1, 3, 0, 2)) for b in ("fillv", "Wrap", "Symmetric", "Reflect", "Replicate")],
    ((3, 4, 3), (2, 2, 2), (5, 1, 0, 4, 3, 3), "Wrap", UNIT3, UNIT3),
    ((3, 4, 3), (2, 3, 2), (4, 3, 2, 5, 0, 1), "Symmetric", UNIT3, UNIT3),
    ((3, 4, 3), (2, 2, 2), (4, 2, 1, 5, 3, 0), "Reflect", UNIT3, UNIT3),
    ((3, 4, 3), (2, 2, 2), (3, 4, 0, 2, 5, 1), "Replicate", UNIT3, UNIT3),
    ((7, 6, 6), (3, 2, 2), "Valid", "fill0", (2, 1, 1), UNIT3),
    ((6, 7, 6), (2, 3, 2), "Valid", "fill0", (1, 3, 2), (2, 1, 1)),
    ((7, 5, 6), (2, 2, 3), "Same", "fill0", (2, 2, 1), (1, 1, 2)),
    ((7, 6, 5), (3, 2, 2), "Same", "Reflect", (3, 1, 2), (2, 1, 1)),
    ((6, 5, 6), (2, 3, 2), "Full", "Wrap", (2, 1, 1), (2, 2, 1)),
    ((5, 6, 5), (2, 2, 3), (1, 4, 2, 0, 1, 1), "Symmetric", (2, 2, 1), (3, 1, 1)),
    ((6, 5, 5), (3, 2, 2), (2, 2, 1, 1, 0, 0), "Replicate", (1, 2, 2), (2, 1, 2)),
    ((6, 5, 5), (2, 2, 2), "Same", "fillv", (2, 2, 2), (2, 2, 2)),
]

# (n, c, d, h, w, o, kd, kh, kw) and the keyword arguments of conv3d_case.
CONV3D = [
    ((2, 2, 4, 5, 5, 3, 2, 3, 3), {}),
    ((1, 2, 4, 5, 5, 3, 3, 3, 3), {"padding": (1, 1, 1, 1, 1, 1)}),
    ((2, 2, 5, 5, 6, 2, 3, 2, 3), {"padding": (1, 1, 0, 0, 2, 2), "stride": (2, 1, 2)}),
    ((1, 3, 5, 5, 4, 3, 3, 3, 2), {"padding": (2, 0, 1, 2, 0, 1), "stride": (1, 2, 1)}),
    ((1, 2, 5, 4, 5, 2, 2, 2, 3), {"padding": (1, 2, 0, 1, 2, 0), "boundary": "fillv", "bias": False}),
    ((1, 2, 6, 5, 6, 2, 2, 3, 2), {"dilation": (2, 1, 2)}),
    ((2, 4, 4, 5, 4, 4, 2, 3, 3), {"padding": (1, 1, 1, 1, 1, 1), "boundary": "Reflect", "groups": 2}),
    ((1, 3, 5, 5, 5, 6, 3, 3, 3), {"padding": (1, 1, 1, 1, 1, 1), "boundary": "Replicate", "groups": 3,
                                   "stride": (2, 2, 2)}),
    ((1, 2, 4, 5, 5, 2, 3, 3, 2), {"padding": (1, 1, 2, 2, 1, 1), "boundary": "Wrap", "stride": (1, 1, 2)}),
    ((1, 2, 4, 4, 5, 3, 2, 2, 3), {"padding": (2, 1, 1, 0, 1, 2), "boundary": "Symmetric", "dilation": (1, 1, 2)}),
    ((1, 2, 4, 5, 6, 2, 2, 4, 3), {"padding": "Same", "dilation": (1, 1, 2)}),
    ((1, 2, 4, 4, 4, 2, 2, 2, 2), {"padding": "Full", "boundary": "Replicate", "stride": (2, 1, 1)}),
    ((1, 4, 5, 5, 4, 4, 3, 2, 3), {"padding": "Same", "boundary": "Wrap", "stride": (2, 2, 1), "groups": 2}),
    # Along depth only: Reflect with stride and dilation over the planes.
    ((1, 2, 7, 4, 4, 2, 3, 2, 2), {"padding": (2, 2, 0, 0, 0, 0), "boundary": "Reflect", "stride": (2, 1, 1),
                                   "dilation": (2, 1, 1)}),
    ((1, 2, 6, 3, 4, 2, 2, 2, 2), {"padding": (3, 1, 0, 0, 0, 0), "boundary": "Wrap", "stride": (3, 1, 1)}),
    # Padding wider than the input: gathered, as F.pad refuses it.
    ((1, 2, 2, 3, 3, 2, 2, 2, 2), {"padding": (3, 2, 1, 4, 0, 2), "boundary": "Reflect", "gather": True}),
    ((1, 2, 2, 3, 3, 2, 2, 2, 2), {"padding": (4, 1, 3, 3, 1, 0), "boundary": "Wrap", "gather": True,
                                   "stride": (2, 1, 1)}),
    ((1, 1, 2, 3, 2, 2, 2, 2, 2), {"padding": (3, 3, 0, 2, 2, 1), "boundary": "Replicate", "dilation": (2, 1, 1)}),
    # Enough channels per group for the matrix product under Algorithm::Auto.
    ((1, 8, 3, 4, 4, 8, 2, 3, 3), {"padding": (1, 0, 1, 1, 1, 1)}),
]

CONV3D_F32 = [0, 2, 6, 7, 10, 13]

# (n, c_in, d, h, w, c_out, kd, kh, kw) and the keyword arguments of
# transpose3d_case.
TRANSPOSE3D = [
    ((2, 2, 3, 3, 4, 3, 2, 3, 2), {}),
    ((1, 2, 3, 3, 3, 2, 3, 3, 3), {"stride": (2, 2, 2), "padding": (1, 1, 1, 1, 1, 1), "output_padding": (1, 1, 1)}),
    ((1, 2, 3, 2, 3, 2, 2, 3, 3), {"stride": (2, 1, 3), "padding": (1, 0, 0, 1, 2, 1), "output_padding": (1, 0, 2)}),
    ((1, 4, 2, 3, 3, 4, 2, 2, 3), {"stride": (2, 2, 1), "dilation": (2, 1, 2), "groups": 2,
                                   "output_padding": (1, 1, 0), "padding": (1, 1, 0, 0, 1, 1)}),
    ((1, 2, 3, 3, 3, 2, 2, 2, 2), {"dilation": (2, 2, 2), "output_padding": (1, 1, 1), "padding": (1, 1, 1, 1, 1, 1)}),
    ((1, 2, 3, 3, 2, 2, 2, 3, 2), {"stride": (2, 2, 2), "padding": "Full"}),
    ((1, 3, 2, 3, 3, 3, 3, 2, 2), {"groups": 3, "stride": (1, 2, 2), "bias": False}),
]

TRANSPOSE3D_F32 = [1, 3]


def rank3():
    cases = []
    for op, dtype in product(("correlate3d", "convolve3d"), ("f64", "f32", "i64", "Complex<f64>")):
        for (x_shape, k_shape), mode in product(SIGNAL3D_SHAPES, ("Valid", "Same", "Full")):
            if mode != "Valid" or all(n >= k for n, k in zip(x_shape, k_shape)):
                cases.append(signal3d_case(op, dtype, x_shape, k_shape, padding=mode))
        for x_shape, k_shape in SIGNAL3D_SWAP:
            cases.append(signal3d_case(op, dtype, x_shape, k_shape))
    for op in ("correlate3d", "convolve3d"):
        for x_shape, k_shape, padding, boundary, stride, dilation in SIGNAL3D_GEOMETRY:
            cases.append(signal3d_case(op, "f64", x_shape, k_shape, padding=padding, boundary=boundary, stride=stride,
                                       dilation=dilation))
        # Complex and integer elements through a few of the padded rows.
        for dtype, row in product(("Complex<f64>", "i64"), (0, 7, 17, 21, 24)):
            x_shape, k_shape, padding, boundary, stride, dilation = SIGNAL3D_GEOMETRY[row]
            cases.append(signal3d_case(op, dtype, x_shape, k_shape, padding=padding, boundary=boundary, stride=stride,
                                       dilation=dilation))
    cases += [conv3d_case("f64", *dims, **kw) for dims, kw in CONV3D]
    cases += [conv3d_case("f32", *CONV3D[i][0], **CONV3D[i][1]) for i in CONV3D_F32]
    cases += [transpose3d_case("f64", *dims, **kw) for dims, kw in TRANSPOSE3D]
    cases += [transpose3d_case("f32", *TRANSPOSE3D[i][0], **TRANSPOSE3D[i][1]) for i in TRANSPOSE3D_F32]
    return cases


# --- the tutorial ---------------------------------------------------------


def tutorial():
    x = np.array([[0.1, 0.2, 0.1, 0.1, 0.0], [0.8, 0.9, 1.0, 1.0, 0.9], [1, 1, 1, 1, 1], [0.9, 1, 1, 0.8, 1],
                  [0, 0.1, 0.1, 0.2, 0]])
    w = np.array([[1.0, 1, 1], [0, 0, 0], [-1, -1, -1]])
    answer = np.array([[-2.6, -2.6, -2.8], [-0.2, 0.1, 0.1], [2.8, 2.6, 2.7]])
    correlated = scipy.signal.correlate2d(x, w, mode="valid")
    convolved = scipy.signal.convolve2d(x, w, mode="valid")
    assert np.allclose(correlated, answer, rtol=0, atol=1e-12)
    assert np.allclose(convolved, -answer, rtol=0, atol=1e-12)
    return [
        case("tutorial/1a/correlate2d", "correlate2d", "f64", x, w, correlated,
             "scipy.signal.correlate2d(x, W, mode='valid')"),
        case("tutorial/1a/convolve2d", "convolve2d", "f64", x, w, convolved,
             "scipy.signal.convolve2d(x, W, mode='valid')"),
    ]


FILES = {
    "modes_boundaries.json": lambda: modes_boundaries(),
    "geometry.json": lambda: geometry(),
    "dtypes.json": lambda: dtypes(),
    "conv2d.json": lambda: conv2d(),
    "tutorial.json": lambda: tutorial(),
    "gradients.json": lambda: gradients(),
    "rank1.json": lambda: rank1(),
    "rank3.json": lambda: rank3(),
}


def main():
    """Writes every fixture, or those named on the command line
    (`python3 tests/golden/generate.py rank1.json`)."""
    import sys
    names = sys.argv[1:] or list(FILES)
    for name in names:
        write(name, FILES[name]())
    print("versions:", VERSIONS)


if __name__ == "__main__":
    main()
