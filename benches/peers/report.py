#!/usr/bin/env python3
"""Turn a criterion run of `benches/conv.rs` and a run of `compare.py` into
the tables and the chart of `docs/benchmarks.md`.

    cargo bench --bench conv                     # writes target/criterion/
    python3 benches/peers/compare.py --json benches/peers/results.json
    python3 benches/peers/report.py benches/peers/results.json \\
        --chart docs/benchmarks.png > /tmp/tables.md

The Python peers (scipy, OpenCV, PyTorch) come from compare.py's JSON; the
Rust peers (`ndarray-conv`, candle) are rows of the criterion run itself,
named `ndarray-conv/{direct,fft}/1t` and `candle/conv2d/{1,2}t` in the same
groups as `convolve/...`. The 2-D tables come first, then those of the
1-D and 3-D cases (l1, v2 single-channel; a1, a2, v1 batched) beside
scipy, numpy and PyTorch; after the summary tables comes every row of the
criterion run, group by group, with each forced algorithm beside `Auto`.

Both runs should be made back to back on a quiet machine: the report
compares medians taken minutes apart, not an absolute speed. The chart
needs matplotlib (`pip install matplotlib`); the tables do not.
"""

import argparse
import json
import pathlib
import sys

SINGLE = ["s1", "s2", "s3", "s4"]
BATCHED = ["b1", "b2", "b3", "b4", "b5"]
# The 1-D and 3-D cases: (case, criterion group stem, rank).
SINGLE_ND = [("l1", "correlate1d", 1), ("v2", "correlate3d", 3)]
BATCHED_ND = [("a1", "conv1d", 1), ("a2", "conv1d", 1), ("v1", "conv3d", 3)]
# The order of the libraries in the table of every row.
LIBRARIES = ["convolve", "convolve_into", "convolve_plan", "ndarray-conv", "candle"]


def criterion_results(root):
    """{(group, function, case): GFLOP/s} from criterion's estimates."""
    out = {}
    for bench in pathlib.Path(root).glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        throughput = meta.get("throughput") or {}
        flops = throughput.get("Elements")
        if not flops:
            continue
        median_ns = est["median"]["point_estimate"]
        case = (meta.get("value_str") or "").split(" ")[0]
        out[(meta["group_id"], meta["function_id"], case)] = flops / median_ns
    return out


def peer_results(path):
    """{(peer, dtype, case, threads, kind): GFLOP/s or status} from compare.py's JSON."""
    data = json.loads(pathlib.Path(path).read_text())
    out = {}
    for r in data["results"]:
        key = (r["peer"], r.get("dtype", "f32"), r["case"], r.get("threads", 1), r.get("pass", r.get("kind", "fwd")))
        if r.get("status") == "ok" and r.get("median_s"):
            out[key] = r["flops"] / r["median_s"] / 1e9
        else:
            out[key] = r.get("status", "–")
    return out, data


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, (str, int)):
        return str(v)
    return f"{v:.1f}"


def ratio(a, b):
    if isinstance(a, float) and isinstance(b, float) and b > 0:
        return f"{a / b:.2f}×"
    return "–"


def best(values):
    return max((v for v in values if isinstance(v, float)), default=None)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return lines


def single_table(ours, peers):
    """Single-channel, 1 thread: this crate's Auto beside every peer."""
    python_peers = sorted({k[0] for k in peers if k[2] in SINGLE})
    header = ["case", "dtype", "convolve (Auto)"] + python_peers + ["ndarray-conv", "candle", "vs best peer"]
    rows, chart = [], []
    for dtype in ["f32", "f64"]:
        group = f"correlate2d_{dtype}"
        for case in SINGLE:
            mine = ours.get((group, "convolve/Auto/1t", case))
            theirs = [peers.get((p, dtype, case, 1, "fwd")) for p in python_peers]
            # ndarray-conv's better method, direct or FFT.
            theirs.append(best(ours.get((group, f"ndarray-conv/{m}/1t", case)) for m in ("direct", "fft")))
            theirs.append(ours.get((group, "candle/conv2d/1t", case)))
            top = best(theirs)
            rows.append([case, dtype, mine] + theirs + [ratio(mine, top)])
            chart.append((f"{case} {dtype}", [mine, top]))
    return ["### Single-channel `correlate2d`, 1 thread (GFLOP/s)", ""] + table(header, rows), chart


def batched_table(ours, peers):
    """Batched f32: Auto beside PyTorch (forward and forward + backward) and candle (forward)."""
    header = ["case", "pass", "threads", "convolve (Auto)", "PyTorch", "candle", "vs PyTorch", "vs candle"]
    rows, chart = [], []
    for case in BATCHED:
        for kind, group in [("fwd", "conv2d_f32"), ("fwd+bwd", "conv2d_f32_fwd_bwd")]:
            for threads in [1, 2]:
                mine = ours.get((group, f"convolve/Auto/{threads}t", case))
                torch = peers.get(("torch-conv2d", "f32", case, threads, kind))
                candle = ours.get((group, f"candle/conv2d/{threads}t", case))
                rows.append([case, kind, threads, mine, torch, candle, ratio(mine, torch), ratio(mine, candle)])
                chart.append((f"{case} {kind} {threads}t", [mine, torch, candle]))
    return ["### Batched NCHW `conv2d`, f32 (GFLOP/s)", ""] + table(header, rows), chart


def single_nd_table(ours, peers):
    """Single-channel 1-D and 3-D, at 1 and 2 threads: this crate's Auto
    beside every peer; scipy and numpy run one thread whatever the count."""
    cases = [c for c, _, _ in SINGLE_ND]
    python_peers = sorted({k[0] for k in peers if k[2] in cases and not k[0].startswith("torch-")})
    header = ["case", "dtype", "threads", "convolve (Auto)"] + python_peers + ["PyTorch", "vs scipy (auto)", "vs PyTorch"]
    rows = []
    for case, stem, rank in SINGLE_ND:
        for dtype in ["f32", "f64"]:
            for threads in [1, 2]:
                mine = ours.get((f"{stem}_{dtype}", f"convolve/Auto/{threads}t", case))
                theirs = [peers.get((p, dtype, case, 1, "fwd")) for p in python_peers]
                torch = peers.get((f"torch-conv{rank}d", dtype, case, threads, "fwd"))
                if mine is None and torch is None:
                    continue
                scipy = peers.get(("scipy-correlate-auto", dtype, case, 1, "fwd"))
                rows.append([case, dtype, threads, mine] + theirs + [torch, ratio(mine, scipy), ratio(mine, torch)])
    return ["### Single-channel 1-D and 3-D correlation (GFLOP/s)", ""] + table(header, rows)


def batched_nd_table(ours, peers):
    """Batched 1-D and 3-D f32 layers: Auto beside PyTorch, forward and forward + backward."""
    header = ["case", "pass", "threads", "convolve (Auto)", "PyTorch", "vs PyTorch"]
    rows = []
    for case, stem, rank in BATCHED_ND:
        for kind, group in [("fwd", f"{stem}_f32"), ("fwd+bwd", f"{stem}_f32_fwd_bwd")]:
            for threads in [1, 2]:
                mine = ours.get((group, f"convolve/Auto/{threads}t", case))
                torch = peers.get((f"torch-conv{rank}d", "f32", case, threads, kind))
                if mine is not None or torch is not None:
                    rows.append([case, kind, threads, mine, torch, ratio(mine, torch)])
    return ["### Batched 1-D and 3-D layers, f32 (GFLOP/s)", ""] + table(header, rows)


def row_order(function):
    """Libraries in the order of LIBRARIES, `Auto` first within each."""
    library, algorithm = function.split("/")
    rank = LIBRARIES.index(library) if library in LIBRARIES else len(LIBRARIES)
    return (rank, library, algorithm != "Auto", algorithm)


def every_row(ours):
    """Every (group, case, library/algorithm) of the criterion run, one column per thread count."""
    lines = ["### Every row of the criterion run (GFLOP/s)"]
    for group in sorted({k[0] for k in ours}):
        keys = [k for k in ours if k[0] == group]
        threads = sorted({k[1].split("/")[2] for k in keys}, key=lambda t: int(t.rstrip("t")))
        functions = sorted({k[1].rsplit("/", 1)[0] for k in keys}, key=row_order)
        rows = []
        for case in sorted({k[2] for k in keys}):
            for function in functions:
                cells = [ours.get((group, f"{function}/{t}", case)) for t in threads]
                if any(c is not None for c in cells):
                    rows.append([case, f"`{function}`"] + cells)
        lines += ["", f"`{group}`:", ""] + table(["case", "row"] + threads, rows)
    return lines


def chart(path, panels):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 9))
    for ax, (rows, title, series) in zip(axes, panels):
        xs = range(len(rows))
        width = 0.8 / len(series)
        for i, name in enumerate(series):
            values = [r[1][i] if isinstance(r[1][i], float) else 0 for r in rows]
            ax.bar([x + (i - (len(series) - 1) / 2) * width for x in xs], values, width=width, label=name)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([r[0] for r in rows], rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("GFLOP/s")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("peers", help="JSON written by compare.py --json")
    ap.add_argument("--criterion", default="target/criterion", help="criterion's output folder")
    ap.add_argument("--chart", help="write a PNG chart here")
    args = ap.parse_args()

    ours = criterion_results(args.criterion)
    peers, raw = peer_results(args.peers)
    single, chart_single = single_table(ours, peers)
    batched, chart_batched = batched_table(ours, peers)
    nd = single_nd_table(ours, peers) + [""] + batched_nd_table(ours, peers)
    print("\n".join(single + [""] + batched + [""] + nd + [""] + every_row(ours)))
    kinds = sorted({k[4] for k in peers})
    print(f"\n(peer kinds in the JSON: {', '.join(kinds)}; environment: {json.dumps(raw.get('environment', {}))[:300]})",
          file=sys.stderr)

    if args.chart:
        chart(args.chart, [
            (chart_single, "Single-channel correlate2d, 1 thread", ["convolve", "best peer"]),
            (chart_batched, "Batched conv2d f32", ["convolve", "PyTorch", "candle"]),
        ])


if __name__ == "__main__":
    main()
