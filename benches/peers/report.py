#!/usr/bin/env python3
"""Turn a criterion run of `benches/conv.rs` and a run of `compare.py` into
the tables and the chart of `docs/benchmarks.md`.

    cargo bench --bench conv                     # writes target/criterion/
    python3 benches/peers/compare.py --json benches/peers/results.json
    python3 benches/peers/report.py benches/peers/results.json \\
        --chart docs/benchmarks.png > /tmp/tables.md

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
    if isinstance(v, str):
        return v
    return f"{v:.1f}"


def ratio(a, b):
    if isinstance(a, float) and isinstance(b, float) and b > 0:
        return f"{a / b:.2f}×"
    return "–"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("peers", help="JSON written by compare.py --json")
    ap.add_argument("--criterion", default="target/criterion", help="criterion's output folder")
    ap.add_argument("--chart", help="write a PNG chart here")
    args = ap.parse_args()

    ours = criterion_results(args.criterion)
    peers, raw = peer_results(args.peers)
    kinds = sorted({k[4] for k in peers})
    peer_names = sorted({k[0] for k in peers if k[0] != "torch-conv2d"} | {"torch-conv2d"})

    lines = []
    lines.append("### Single-channel `correlate2d`, 1 thread (GFLOP/s)\n")
    single_peers = [p for p in peer_names if any(k[0] == p and k[2] in SINGLE for k in peers)]
    lines.append("| case | dtype | convolve (Auto) | " + " | ".join(single_peers) + " | vs best peer |")
    lines.append("|---|---|---|" + "---|" * len(single_peers) + "---|")
    chart_single = []
    for dtype in ["f32", "f64"]:
        for case in SINGLE:
            mine = ours.get((f"correlate2d_{dtype}", "convolve/Auto/1t", case))
            row = [peers.get((p, dtype, case, 1, "fwd")) for p in single_peers]
            best = max((v for v in row if isinstance(v, float)), default=None)
            lines.append(f"| {case} | {dtype} | {fmt(mine)} | " + " | ".join(fmt(v) for v in row) + f" | {ratio(mine, best)} |")
            chart_single.append((f"{case} {dtype}", mine, best))

    lines.append("\n### Batched NCHW `conv2d`, f32 (GFLOP/s)\n")
    lines.append("| case | pass | threads | convolve (Auto) | PyTorch | ratio |")
    lines.append("|---|---|---|---|---|---|")
    chart_batched = []
    for case in BATCHED:
        for kind, group in [("fwd", "conv2d_f32"), ("fwd+bwd", "conv2d_f32_fwd_bwd")]:
            for threads in [1, 2]:
                mine = ours.get((group, f"convolve/Auto/{threads}t", case))
                theirs = peers.get(("torch-conv2d", "f32", case, threads, kind))
                lines.append(f"| {case} | {kind} | {threads} | {fmt(mine)} | {fmt(theirs)} | {ratio(mine, theirs)} |")
                chart_batched.append((f"{case} {kind} {threads}t", mine, theirs))
    print("\n".join(lines))
    print(f"\n(peer kinds in the JSON: {', '.join(kinds)}; environment: {json.dumps(raw.get('environment', {}))[:300]})",
          file=sys.stderr)

    if args.chart:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 1, figsize=(12, 9))
        for ax, rows, title, other in [
            (axes[0], chart_single, "Single-channel correlate2d, 1 thread", "best peer"),
            (axes[1], chart_batched, "Batched conv2d f32", "PyTorch"),
        ]:
            labels = [r[0] for r in rows]
            xs = range(len(rows))
            mine = [r[1] if isinstance(r[1], float) else 0 for r in rows]
            theirs = [r[2] if isinstance(r[2], float) else 0 for r in rows]
            ax.bar([x - 0.2 for x in xs], mine, width=0.4, label="convolve")
            ax.bar([x + 0.2 for x in xs], theirs, width=0.4, label=other)
            ax.set_xticks(list(xs))
            ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
            ax.set_ylabel("GFLOP/s")
            ax.set_title(title)
            ax.legend()
        fig.tight_layout()
        fig.savefig(args.chart, dpi=110)


if __name__ == "__main__":
    main()
