#!/usr/bin/env python3
"""Time the peers of `convolve` on the crate's benchmark suite.

What it measures
----------------
The same cases as `benches/conv.rs` and `docs/benchmarks.md`, run by the
Python peers that the crate is compared with, and printed as the same tables:

* Single-channel 2-D correlation, cases s1-s4, f32 and f64, 1 thread:
    - s1  512x512,   3x3,   'valid'
    - s2  1024x1024, 5x5,   'same'
    - s3  1024x1024, 11x11, 'same'
    - s4  2048x2048, 31x31, 'same'
  Peers: `scipy.signal.correlate2d` (its s4 takes minutes, so it is skipped
  unless --include-slow), `scipy.signal.correlate(..., method='auto')` (which
  may pick FFT), OpenCV `cv2.filter2D` with `borderType=cv2.BORDER_CONSTANT`
  (no 'valid' mode, so s1 is reported as '-'; every suite kernel is odd, so
  filter2D's anchor convention for even kernels does not matter), and PyTorch
  `F.conv2d` on a [1, 1, H, W] tensor with padding k//2 ('same') or 0
  ('valid'). PyTorch's f64 path builds an im2col buffer of
  out_h*out_w*kh*kw elements (32 GB for f64 s4); when that buffer would not
  fit in the memory available, the case is reported as 'fails' without being
  tried (--try-huge tries it anyway, catching the allocation error).
* Batched NCHW f32 convolution, cases b1-b5 (AlexNet conv1, ResNet 3x3,
  pointwise, depthwise, dilated), PyTorch `F.conv2d` forward, and forward +
  backward through `torch.autograd.grad` with respect to input and weight
  (counted as 3x the forward FLOPs), at each thread count of --threads
  (default 1 and 2; `torch.set_num_threads`).
* The same for batched 1-D and 3-D layers, with `F.conv1d` and `F.conv3d`:
    - a1  audio,     16x64x16000, 64 filters of 9 taps, padding 4 ('same')
    - a2  depthwise, 16x256x4000, groups 256, 9 taps, padding 4
    - v1  video,     2x32x16x56x56, 32 filters of 3x3x3, padding 1
  Before it is timed, PyTorch's forward output is checked against the
  definition computed in float64 by numpy (the first image, its first 16
  positions along the first spatial axis), for b1-b5 as well.
* Single-channel 1-D and 3-D correlation, 'same':
    - l1  1,000,000 samples, 255 taps, f32 and f64: `scipy.signal.correlate`
      (method='auto'), `scipy.signal.oaconvolve` with the kernel reversed,
      `numpy.correlate` (direct) and PyTorch `F.conv1d`
    - v2  128x128x128, 5x5x5, f32: `scipy.signal.correlate` (method='auto')
      and PyTorch `F.conv3d`
  scipy and numpy run one thread; PyTorch runs at each --threads count.

The Rust peers, `ndarray-conv` and candle, are rows of the criterion suite
itself (benches/conv.rs, in the same groups as `convolve`); report.py puts
them in the same tables as the peers timed here.

FLOPs are those of the direct definition, 2 per multiply-add:
output elements x (C/groups)*kh*kw x 2 (for FFT paths this is an "effective"
rate). The figure reported is GFLOP/s = FLOPs / median time. Each measurement
makes one untimed warm-up call, then times calls with `time.perf_counter` until
at least --repeat calls (default 5) and at least --min-time seconds (default 1)
are done; a case whose calls are slow stops after --max-time seconds once it
has 3 timed calls. Inputs are seeded (`numpy.random.default_rng(seed)`), uniform
in [-1, 1), with the seeds of benches/conv.rs (input 1, kernel 2; batched
input 3, weight 4; gradient 5). The process CPU time over the timed calls,
divided by wall time x threads, is kept as "cpu share": a figure taken while
its share was under 0.8 (other work on the machine) is marked with '*'.
Every peer's output is checked against an FFT reference before it is timed,
so a wrong padding or a flipped kernel shows up as an error rather than as a
fast figure.

How to run it
-------------
    pip install numpy scipy torch opencv-python-headless   # threadpoolctl optional
    python3 benches/peers/compare.py --markdown
    python3 benches/peers/compare.py --cases s2,b4 --repeat 7 --json out.json
    python3 benches/peers/compare.py --cases l1,v2,a1,a2,v1     # the 1-D and 3-D cases
    python3 benches/peers/compare.py --include-slow         # adds scipy correlate2d s4

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this project's machines,
and they slow numpy's OpenBLAS down. For numpy/scipy timing, unset both in
that one command only, e.g.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benches/peers/compare.py

The script prints (on stderr) the BLAS and threading configuration it sees:
those variables, the library versions, PyTorch's and OpenCV's thread counts,
and, when `threadpoolctl` is installed, its view of the native thread pools.
Progress also goes to stderr; the table goes to stdout.

The machines are shared and noisy: quote medians, compare ratios measured in
the same run, and treat absolute figures as drifting by up to 2x between runs.
This script is not run in CI.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import re
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

# --------------------------------------------------------------------------
# The suite (mirrors benches/conv.rs)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Single:
    id: str
    name: str  # the criterion case name in benches/conv.rs
    shape: tuple  # the signal, image or volume
    kernel: tuple
    mode: str  # 'valid' or 'same'
    dtypes: tuple = ("f32", "f64")
    # Whether the peers that can use threads (PyTorch) run at each --threads
    # count rather than at 1 thread only.
    threaded: bool = False


@dataclass(frozen=True)
class Batched:
    id: str
    name: str
    input: tuple  # N, C, spatial...
    weight: tuple  # O, C/groups, kernel...
    stride: int
    pad: int
    dilation: int
    groups: int


SINGLE = [
    Single("s1", "s1 512² k3 valid", (512, 512), (3, 3), "valid"),
    Single("s2", "s2 1024² k5 same", (1024, 1024), (5, 5), "same"),
    Single("s3", "s3 1024² k11 same", (1024, 1024), (11, 11), "same"),
    Single("s4", "s4 2048² k31 same", (2048, 2048), (31, 31), "same"),
    Single("l1", "l1 1M k255 same", (1_000_000,), (255,), "same", threaded=True),
    Single("v2", "v2 128³ k5 same", (128, 128, 128), (5, 5, 5), "same", ("f32",), threaded=True),
]

BATCHED = [
    Batched("b1", "b1 alexnet", (8, 3, 224, 224), (96, 3, 11, 11), 4, 0, 1, 1),
    Batched("b2", "b2 resnet3x3", (8, 64, 56, 56), (64, 64, 3, 3), 1, 1, 1, 1),
    Batched("b3", "b3 pointwise", (8, 256, 28, 28), (128, 256, 1, 1), 1, 0, 1, 1),
    Batched("b4", "b4 depthwise", (8, 128, 56, 56), (128, 1, 3, 3), 1, 1, 1, 128),
    Batched("b5", "b5 dilated", (4, 64, 64, 64), (64, 64, 3, 3), 1, 2, 2, 1),
    Batched("a1", "a1 audio", (16, 64, 16000), (64, 64, 9), 1, 4, 1, 1),
    Batched("a2", "a2 depthwise", (16, 256, 4000), (256, 1, 9), 1, 4, 1, 256),
    Batched("v1", "v1 video", (2, 32, 16, 56, 56), (32, 32, 3, 3, 3), 1, 1, 1, 1),
]

ALL_IDS = [c.id for c in SINGLE] + [c.id for c in BATCHED]

# The peers of the single-channel cases, by rank.
SINGLE_PEERS = {
    1: [
        ("scipy-correlate-auto", "scipy correlate (auto, may use FFT)"),
        ("scipy-oaconvolve", "scipy oaconvolve (kernel reversed)"),
        ("numpy-correlate", "numpy correlate"),
        ("torch-conv1d", "PyTorch conv1d"),
    ],
    2: [
        ("scipy-correlate2d", "scipy correlate2d"),
        ("scipy-correlate-auto", "scipy correlate (auto, may use FFT)"),
        ("opencv-filter2d", "OpenCV filter2D (BORDER_CONSTANT)"),
        ("torch-conv2d", "PyTorch conv2d"),
    ],
    3: [
        ("scipy-correlate-auto", "scipy correlate (auto, may use FFT)"),
        ("torch-conv3d", "PyTorch conv3d"),
    ],
}

# The peers that run on more than one thread when asked to.
THREADED_PEERS = {"torch-conv1d", "torch-conv2d", "torch-conv3d"}


def single_out_shape(case: Single) -> tuple:
    if case.mode == "valid":
        return tuple(n - k + 1 for n, k in zip(case.shape, case.kernel))
    return case.shape


def single_flops(case: Single) -> int:
    return 2 * int(np.prod(single_out_shape(case))) * int(np.prod(case.kernel))


def batched_out_shape(case: Batched) -> tuple:
    def side(x: int, k: int) -> int:
        return (x + 2 * case.pad - case.dilation * (k - 1) - 1) // case.stride + 1

    spatial = tuple(side(x, k) for x, k in zip(case.input[2:], case.weight[2:]))
    return (case.input[0], case.weight[0]) + spatial


def batched_flops(case: Batched) -> int:
    per_output = int(np.prod(case.weight[1:]))
    return 2 * int(np.prod(batched_out_shape(case))) * per_output


def seeded(shape, seed: int, dtype) -> np.ndarray:
    """Uniform in [-1, 1): 2*[0, 1) - 1 is exact in both f32 and f64."""
    rng = np.random.default_rng(seed)
    return rng.random(shape, dtype=dtype) * dtype(2) - dtype(1)


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


class Failed(Exception):
    """A peer that cannot run a case; its message goes into the table."""


@dataclass
class Timing:
    median_s: float
    runs: int
    total_s: float
    times_s: list
    cpu_share: float  # process CPU time / (wall time x threads) over the timed calls


def measure(fn: Callable[[], object], repeat: int, min_time: float, max_time: float, threads: int) -> Timing:
    fn()  # warm-up, untimed
    gc.collect()
    times = []
    cpu0 = time.process_time()
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        if len(times) >= repeat and elapsed >= min_time:
            break
        if elapsed >= max_time and len(times) >= min(3, repeat):
            break
    wall = time.perf_counter() - start
    cpu_share = (time.process_time() - cpu0) / (wall * threads)
    return Timing(statistics.median(times), len(times), wall, times, cpu_share)


def mem_available_bytes() -> Optional[int]:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------
# Environment report
# --------------------------------------------------------------------------


def environment(args) -> dict:
    env = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in [sys.executable.split("/")[-1]] + sys.argv),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "numpy": np.__version__,
        "env": {
            k: os.environ.get(k)
            for k in (
                "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE",
                "OPENBLAS_NUM_THREADS",
                "OMP_NUM_THREADS",
                "MKL_NUM_THREADS",
            )
        },
    }
    try:
        info = {}
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # first processor only
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
        flags = set(info.get("flags", "").split())
        env["cpu"] = info.get("model name")
        env["cpu_family_model"] = f"{info.get('cpu family')}/{info.get('model')}"
        env["cpu_isa"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    except OSError:
        pass
    try:
        import scipy

        env["scipy"] = scipy.__version__
    except ImportError:
        env["scipy"] = None
    try:
        import cv2

        env["opencv"] = cv2.__version__
        env["opencv_threads_default"] = cv2.getNumThreads()
    except ImportError:
        env["opencv"] = None
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_threads_default"] = torch.get_num_threads()
        env["torch_mkldnn"] = bool(torch.backends.mkldnn.is_available())
    except ImportError:
        env["torch"] = None
    try:
        from threadpoolctl import threadpool_info

        env["threadpools"] = [
            {k: v for k, v in p.items() if k in ("user_api", "internal_api", "version", "num_threads", "architecture", "filepath")}
            for p in threadpool_info()
        ]
    except ImportError:
        env["threadpools"] = None
    return env


def print_environment(env: dict) -> None:
    def say(s: str) -> None:
        print(s, file=sys.stderr)

    say(
        f"# {env['date']}  {env.get('cpu')} (family/model {env.get('cpu_family_model')}, "
        f"{' '.join(env.get('cpu_isa', []))}), {env['cpu_count']} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in env['loadavg_start'] or [])}"
    )
    say(
        f"# python {env['python']}, numpy {env['numpy']}, scipy {env['scipy']}, "
        f"opencv {env['opencv']}, torch {env['torch']}"
    )
    for k, v in env["env"].items():
        say(f"#   {k}={v if v is not None else '(unset)'}")
    if env["env"]["OPENBLAS_CORETYPE"] or env["env"]["OPENBLAS_L2_SIZE"]:
        say(
            "# note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set and may slow numpy down; for numpy/scipy "
            "timing run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benches/peers/compare.py"
        )
    if env["torch"]:
        say(f"# torch default threads {env['torch_threads_default']}, mkldnn {env['torch_mkldnn']}")
    if env["opencv"]:
        say(f"# opencv default threads {env['opencv_threads_default']}")
    if env["threadpools"] is None:
        say("# threadpoolctl not installed: native thread pools not listed")
    else:
        for p in env["threadpools"]:
            say(
                f"#   threadpool {p.get('internal_api')} {p.get('version')} ({p.get('architecture')}), "
                f"{p.get('num_threads')} threads: {p.get('filepath')}"
            )


def limit_blas(threads: int):
    """Context limiting native BLAS/OpenMP pools, if threadpoolctl is present."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=threads)
    except ImportError:
        import contextlib

        return contextlib.nullcontext()


# --------------------------------------------------------------------------
# Single-channel peers
# --------------------------------------------------------------------------


def single_peer_fn(peer: str, case: Single, x: np.ndarray, k: np.ndarray, args) -> Callable[[], np.ndarray]:
    """A zero-argument callable returning the correlation as a numpy array, or raise Failed."""
    if peer == "scipy-correlate2d":
        from scipy.signal import correlate2d

        if case.id == "s4" and not args.include_slow:
            raise Failed("–", "scipy correlate2d on s4 takes minutes and is not run by default (--include-slow runs it).")
        return lambda: correlate2d(x, k, mode=case.mode, boundary="fill", fillvalue=0)
    if peer == "scipy-correlate-auto":
        from scipy.signal import correlate

        return lambda: correlate(x, k, mode=case.mode, method="auto")
    if peer == "scipy-oaconvolve":
        from scipy.signal import oaconvolve

        # Correlation is convolution with the reversed kernel; for odd kernels
        # the two 'same' windows are centred alike.
        flipped = np.ascontiguousarray(k[(slice(None, None, -1),) * k.ndim])
        return lambda: oaconvolve(x, flipped, mode=case.mode)
    if peer == "numpy-correlate":
        return lambda: np.correlate(x, k, mode=case.mode)
    if peer == "opencv-filter2d":
        import cv2

        if case.mode == "valid":
            raise Failed("– (valid not offered)", "OpenCV filter2D offers no 'valid' mode.")
        # filter2D correlates (no kernel flip); anchor (-1, -1) is the centre, exact for odd kernels.
        return lambda: cv2.filter2D(x, -1, k, borderType=cv2.BORDER_CONSTANT)
    if peer in ("torch-conv1d", "torch-conv2d", "torch-conv3d"):
        import torch
        import torch.nn.functional as F

        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[x.ndim]
        pad = [n // 2 for n in case.kernel] if case.mode == "same" else 0
        xt = torch.from_numpy(x).reshape(1, 1, *x.shape)
        kt = torch.from_numpy(k).reshape(1, 1, *k.shape)
        # PyTorch's native (non-oneDNN) CPU path lowers to im2col: one column per output
        # element per kernel tap. f32 usually goes to oneDNN instead, but guard every dtype.
        im2col = int(np.prod(single_out_shape(case))) * int(np.prod(case.kernel)) * x.itemsize
        avail = mem_available_bytes()
        if x.dtype != np.float32 and avail is not None and im2col > 0.8 * avail and not args.try_huge:
            raise Failed(
                f"fails: needs {im2col / 1e9:.0f} GB",
                f"PyTorch {case.id} {x.dtype}: its im2col buffer would take "
                f"{im2col / 1e9:.1f} GB and {avail / 1e9:.1f} GB are available, so it was not run "
                "(--try-huge runs it; the allocation then fails).",
            )

        def run():
            with torch.no_grad():
                return conv(xt, kt, padding=pad)[0, 0].numpy()

        return run
    raise ValueError(peer)


def check(got: np.ndarray, ref: np.ndarray, k: np.ndarray) -> float:
    """Max abs error of got against ref, relative to the worst-case output magnitude."""
    if got.shape != ref.shape:
        raise Failed(f"wrong output shape {got.shape}, expected {ref.shape}")
    scale = float(np.abs(k).sum())  # |inputs| < 1
    return float(np.max(np.abs(got.astype(np.float64) - ref))) / scale


def run_single(cases, args, results, log) -> None:
    import scipy.signal

    cv2 = torch = None
    try:
        import cv2  # noqa: F811

        cv2.setNumThreads(1)
    except ImportError:
        pass
    try:
        import torch  # noqa: F811

        torch.set_num_threads(1)
    except ImportError:
        pass
    installed = {"opencv-filter2d": cv2 is not None}
    installed.update((p, torch is not None) for p in THREADED_PEERS)
    for case in cases:
        flops = single_flops(case)
        for dname in case.dtypes:
            dtype = np.float32 if dname == "f32" else np.float64
            x = seeded(case.shape, 1, dtype)
            k = seeded(case.kernel, 2, dtype)
            ref = scipy.signal.correlate(x.astype(np.float64), k.astype(np.float64), mode=case.mode, method="fft")
            tol = 1e-4 if dtype == np.float32 else 1e-10
            for peer, _label in SINGLE_PEERS[len(case.shape)]:
                counts = args.threads if case.threaded and peer in THREADED_PEERS else [1]
                for threads in counts:
                    rec = {
                        "group": "single",
                        "case": case.id,
                        "name": case.name,
                        "dtype": dname,
                        "peer": peer,
                        "threads": threads,
                        "flops": flops,
                    }
                    if peer == "scipy-correlate-auto":
                        rec["auto_method"] = scipy.signal.choose_conv_method(x, k, mode=case.mode)
                    if not installed.get(peer, True):
                        rec.update(status="missing", cell="– (not installed)")
                        results.append(rec)
                        continue
                    if torch is not None:
                        torch.set_num_threads(threads)
                    try:
                        fn = single_peer_fn(peer, case, x, k, args)
                        out = fn()
                        err = check(out, ref, k)
                        rec["max_rel_error"] = err
                        if not err <= tol:
                            raise Failed(f"wrong result (error {err:.2e})")
                        del out
                        with limit_blas(threads):
                            t = measure(fn, args.repeat, args.min_time, args.max_time, threads)
                        gflops = flops / t.median_s / 1e9
                        rec.update(
                            status="ok",
                            median_s=t.median_s,
                            runs=t.runs,
                            total_s=t.total_s,
                            times_s=t.times_s,
                            cpu_share=t.cpu_share,
                            gflops=gflops,
                        )
                        log(
                            f"{case.id} {dname} {peer:22s} {threads}t {gflops:8.2f} GFLOP/s  "
                            f"median {t.median_s * 1e3:10.2f} ms  n={t.runs:<4d} cpu share {t.cpu_share:.2f}"
                        )
                    except Failed as e:
                        cell = e.args[0]
                        rec.update(status="skipped" if cell.startswith("–") else "failed", cell=cell)
                        if len(e.args) > 1:
                            rec["detail"] = e.args[1]
                        log(f"{case.id} {dname} {peer:22s} {cell}" + (f" ({e.args[1]})" if len(e.args) > 1 else ""))
                    except (RuntimeError, MemoryError) as e:
                        msg = str(e).splitlines()[0][:200]
                        alloc = re.search(r"allocate (\d+) bytes", msg)
                        cell = f"fails: tries to allocate {int(alloc.group(1)) / 1e9:.0f} GB" if alloc else "fails"
                        rec.update(status="failed", cell=cell, detail=f"{case.id} {dname} {peer}: {msg}")
                        log(f"{case.id} {dname} {peer:22s} fails: {msg}")
                    results.append(rec)
                    gc.collect()
    if torch is not None:
        torch.set_num_threads(1)


# --------------------------------------------------------------------------
# Batched PyTorch
# --------------------------------------------------------------------------


# How many outputs along the first spatial axis the reference computes: the
# definition in numpy is slow, and a wrong padding, layout or group shows up
# in the first rows as well as anywhere.
REFERENCE_ROWS = 16


def reference_rows(case: Batched, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The first image's output, its first REFERENCE_ROWS positions along the
    first spatial axis, from the definition in float64 (one product per
    kernel tap), independent of every peer."""
    rank = len(case.input) - 2
    groups, o = case.groups, case.weight[0]
    out = batched_out_shape(case)[2:]
    rows = min(out[0], REFERENCE_ROWS)
    padded = np.pad(x[0].astype(np.float64), [(0, 0)] + [(case.pad, case.pad)] * rank)
    padded = padded.reshape(groups, -1, *padded.shape[1:])  # [G, C/G, spatial...]
    wg = w.astype(np.float64).reshape(groups, o // groups, *w.shape[1:])  # [G, O/G, C/G, taps...]
    acc = np.zeros((groups, o // groups, rows) + tuple(out[1:]))
    for tap in np.ndindex(*case.weight[2:]):
        # The inputs that tap multiplies, for every output position kept.
        window = tuple(
            slice(t * case.dilation, t * case.dilation + (n - 1) * case.stride + 1, case.stride)
            for t, n in zip(tap, (rows,) + tuple(out[1:]))
        )
        acc += np.einsum("goc,gc...->go...", wg[(Ellipsis,) + tap], padded[(slice(None), slice(None)) + window])
    return acc.reshape(o, rows, *out[1:])


def run_batched(cases, args, results, log) -> None:
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        log("torch not installed: batched cases skipped")
        return
    for case in cases:
        conv = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[len(case.input)]
        fwd_flops = batched_flops(case)
        xn, wn = seeded(case.input, 3, np.float32), seeded(case.weight, 4, np.float32)
        x, w = torch.from_numpy(xn), torch.from_numpy(wn)
        g = torch.from_numpy(seeded(batched_out_shape(case), 5, np.float32))
        kw = dict(stride=case.stride, padding=case.pad, dilation=case.dilation, groups=case.groups)

        def forward():
            with torch.no_grad():
                return conv(x, w, **kw)

        xg = x.clone().requires_grad_(True)
        wg = w.clone().requires_grad_(True)

        def forward_backward():
            y = conv(xg, wg, **kw)
            return torch.autograd.grad(y, (xg, wg), grad_outputs=g)

        # Check the forward shape, and the first image's first rows against the definition.
        y = forward()
        if tuple(y.shape) != batched_out_shape(case):
            raise SystemExit(f"{case.id}: torch output {tuple(y.shape)} != {batched_out_shape(case)}")
        ref = reference_rows(case, xn, wn)
        scale = float(np.abs(wn).reshape(wn.shape[0], -1).sum(axis=1).max())  # |inputs| < 1
        err = float(np.max(np.abs(y[0, :, : ref.shape[1]].double().numpy() - ref))) / scale
        if not err <= 1e-4:
            raise SystemExit(f"{case.id}: torch differs from the definition by {err:.2e} (relative)")
        del y, ref

        for threads in args.threads:
            torch.set_num_threads(threads)
            for kind, fn, mult in (("fwd", forward, 1), ("fwd+bwd", forward_backward, 3)):
                flops = fwd_flops * mult
                t = measure(fn, args.repeat, args.min_time, args.max_time, threads)
                gflops = flops / t.median_s / 1e9
                results.append(
                    {
                        "group": "batched",
                        "case": case.id,
                        "name": case.name,
                        "dtype": "f32",
                        "peer": f"torch-conv{len(case.input) - 2}d",
                        "pass": kind,
                        "threads": threads,
                        "flops": flops,
                        "status": "ok",
                        "median_s": t.median_s,
                        "runs": t.runs,
                        "total_s": t.total_s,
                        "times_s": t.times_s,
                        "cpu_share": t.cpu_share,
                        "gflops": gflops,
                        "max_rel_error": err,
                    }
                )
                log(
                    f"{case.id} torch {kind:7s} {threads}t {gflops:8.2f} GFLOP/s  "
                    f"median {t.median_s * 1e3:9.2f} ms  n={t.runs:<4d} cpu share {t.cpu_share:.2f}"
                )
                gc.collect()
    torch.set_num_threads(os.cpu_count() or 1)


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def fmt_cell(rec: Optional[dict]) -> str:
    if rec is None:
        return ""
    if rec["status"] != "ok":
        return rec["cell"]
    s = f"{rec['gflops']:.1f}" if rec["gflops"] >= 0.1 else f"{rec['gflops']:.2f}"
    if rec["median_s"] >= 5:
        s += f" ({rec['median_s']:.0f} s)"
    if rec.get("cpu_share", 1.0) < BUSY_SHARE:
        s += "*"
    return s


BUSY_SHARE = 0.8
BUSY_NOTE = (
    f"\\* the process got less than {BUSY_SHARE:.0%} of the CPU time its threads asked for while it was "
    "timed (machine busy): probably low."
)


def tables(results: list) -> list:
    """[(title, header, rows)] in the layout of docs/benchmarks.md: one
    single-channel table per rank, then the batched table."""
    out = []
    single = [r for r in results if r["group"] == "single"]
    for rank, peers in SINGLE_PEERS.items():
        cases = [c for c in SINGLE if len(c.shape) == rank]
        found = [r for r in single if r["case"] in {c.id for c in cases}]
        if not found:
            continue
        cols = sorted({(r["peer"], r["threads"]) for r in found}, key=lambda pt: ([p for p, _ in peers].index(pt[0]), pt[1]))
        labels = dict(peers)
        multi = len({t for _, t in cols}) > 1
        header = ["case", "dtype"] + [labels[p] + (f", {t}t" if multi and p in THREADED_PEERS else "") for p, t in cols]
        rows = []
        for case in cases:
            for dname in case.dtypes:
                recs = {(r["peer"], r["threads"]): r for r in found if r["case"] == case.id and r["dtype"] == dname}
                if recs:
                    rows.append([case.id, dname] + [fmt_cell(recs.get(c)) for c in cols])
        threads = "threads as marked" if multi else "1 thread"
        out.append((f"Single-channel {rank}-D, {threads} (GFLOP/s):", header, rows))
    batched = [r for r in results if r["group"] == "batched"]
    if batched:
        threads = sorted({r["threads"] for r in batched})
        cols = [(p, t) for p in ("fwd", "fwd+bwd") for t in threads]
        header = ["case"] + [f"{p} {t} thread{'s' if t != 1 else ''}" for p, t in cols]
        rows = []
        for case in BATCHED:
            recs = {(r["pass"], r["threads"]): r for r in batched if r["case"] == case.id}
            if recs:
                rows.append([case.id] + [fmt_cell(recs.get(c)) for c in cols])
        out.append(
            (
                "Batched f32, PyTorch CPU `F.conv1d`/`F.conv2d`/`F.conv3d` (forward) and `autograd.grad` of "
                "input and weight (forward + backward, counted as 3x forward FLOPs), GFLOP/s:",
                header,
                rows,
            )
        )
    return out


def notes(results: list) -> list:
    out = []
    for r in results:
        if r["status"] != "ok":
            note = r.get("detail") or f"{r['case']} {r['dtype']} {r['peer']}: {r['cell']}"
            if note not in out:
                out.append(note)
    if any(r.get("cpu_share", 1.0) < BUSY_SHARE for r in results):
        out.append(BUSY_NOTE)
    return out


def print_markdown(results: list) -> None:
    for title, header, rows in tables(results):
        print(title)
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()
    for note in notes(results):
        print(f"- {note}")


def print_text(results: list) -> None:
    for title, header, rows in tables(results):
        print(title)
        widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        print("  ".join("-" * w for w in widths))
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        print()
    for note in notes(results):
        print(f"- {note}".replace("\\*", "*"))


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Time scipy, OpenCV and PyTorch on convolve's benchmark suite (see module docstring).",
    )
    p.add_argument(
        "--cases",
        default=",".join(ALL_IDS),
        help="comma-separated case ids, e.g. s2,b4 (default: all, %(default)s)",
    )
    p.add_argument("--repeat", type=int, default=5, help="minimum number of timed calls per measurement (default 5)")
    p.add_argument(
        "--min-time", type=float, default=1.0, help="minimum total timed seconds per measurement (default 1)"
    )
    p.add_argument(
        "--max-time",
        type=float,
        default=30.0,
        help="stop a slow measurement after this many seconds once it has 3 timed calls (default 30)",
    )
    p.add_argument(
        "--threads",
        default="1,2",
        help="thread counts for the batched PyTorch cases and PyTorch on l1 and v2 (default 1,2); "
        "the other single-channel figures are 1 thread",
    )
    p.add_argument("--include-slow", action="store_true", help="also run scipy correlate2d on s4 (minutes)")
    p.add_argument(
        "--try-huge",
        action="store_true",
        help="attempt PyTorch cases whose im2col buffer exceeds available memory (normally reported as 'fails')",
    )
    p.add_argument("--json", metavar="PATH", help="also write the results and environment as JSON to PATH")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables in the layout of docs/benchmarks.md")
    args = p.parse_args(argv)
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in ALL_IDS]
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(ALL_IDS)}")
    args.cases = wanted
    try:
        args.threads = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        p.error("--threads takes comma-separated integers, e.g. 1,2")
    if not args.threads or min(args.threads) < 1:
        p.error("--threads needs positive integers")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    env = environment(args)
    print_environment(env)
    started = time.perf_counter()
    results: list = []
    run_single([c for c in SINGLE if c.id in args.cases], args, results, log)
    run_batched([c for c in BATCHED if c.id in args.cases], args, results, log)
    env["wall_s"] = time.perf_counter() - started
    env["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    log(f"# done in {env['wall_s']:.0f} s, load average {env['loadavg_end']}")

    if args.markdown:
        print_markdown(results)
    else:
        print_text(results)
    if args.json:
        doc = {
            "schema": 1,
            "units": {"flops": "direct-definition FLOPs (2 per multiply-add)", "gflops": "FLOPs / median_s / 1e9"},
            "settings": {
                "repeat": args.repeat,
                "min_time_s": args.min_time,
                "max_time_s": args.max_time,
                "threads": args.threads,
                "include_slow": args.include_slow,
                "try_huge": args.try_huge,
                "cases": args.cases,
            },
            "environment": env,
            "results": results,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")
        log(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
