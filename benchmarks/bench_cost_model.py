"""Cost-model table: which path wins for every depthwise layer of the three models.

    .venv/bin/python benchmarks/bench_cost_model.py [--device n150 --device p150]

Per distinct layer (x count in the model): pool and matmul times from
tt_dw_mlir.cost_model, ratio = matmul / pool with tt-metal's full grouped
weight layout, and the ratio against a block-diagonal matmul that skipped the
all-zero weight tiles ("tile-diag"), plus what binds each path's roofline.
"""

from __future__ import annotations

import argparse

from _common import table
from layers import MODELS, unique_convs

DEVICES = ("n150", "p150")


def run(quick: bool = False, devices: tuple[str, ...] = DEVICES) -> str:
    from tt_dw_mlir.cost_model import estimate

    out = []
    summary = []
    for model, build in MODELS.items():
        convs = unique_convs(build())
        rows = []
        totals = {d: [0.0, 0.0, 0.0] for d in devices}
        for conv, count, name in convs:
            row = [name, f"{conv.in_h}x{conv.in_w}x{conv.channels}",
                   f"{conv.kernel[0]}x{conv.kernel[1]}/s{conv.stride[0]}", count]
            for dev in devices:
                cost = estimate(conv, dev)
                row += [cost.pool.time_s * 1e6, cost.matmul.time_s * 1e6,
                        f"{cost.ratio:.2f}x", f"{cost.ratio_tile_diagonal:.2f}x",
                        f"{cost.winner}", f"{cost.pool.binding}/{cost.matmul.binding}"]
                totals[dev][0] += count * cost.pool.time_s
                totals[dev][1] += count * cost.matmul.time_s
                totals[dev][2] += count * cost.matmul_tile_diagonal.time_s
            rows.append(row)
        headers = ["layer (first of its shape)", "HxWxC", "k/s", "n"]
        for dev in devices:
            headers += [f"{dev} pool us", f"{dev} mm us", f"{dev} ratio", f"{dev} tile-diag",
                        f"{dev} wins", f"{dev} roofline"]
        out.append(f"{model} ({sum(c for _, c, _ in convs)} depthwise convs, bf16, "
                   f"{len(convs)} distinct shapes):")
        out.append(table(headers, rows))
        out.append("")
        for dev in devices:
            pool, mm, tile = totals[dev]
            summary.append([model, dev, pool * 1e6, mm * 1e6, f"{mm / pool:.2f}x",
                            f"{tile / pool:.2f}x"])
    out.append("per model, all depthwise layers summed:")
    out.append(table(["model", "device", "pool us", "matmul us", "matmul/pool",
                      "tile-diag/pool"], summary))
    out.append("ratio > 1: the pool path is faster. roofline = binding resource pool/matmul. "
               "Model assumptions: tt_dw_mlir/cost_model.py docstring.")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", action="append", choices=("n150", "p150", "p150_13x10"))
    args = parser.parse_args()
    print(run(devices=tuple(args.device) if args.device else DEVICES))


if __name__ == "__main__":
    main()
