"""Cost model: calibration against tt-metal's measurements, then predictions for our kernels.

    .venv/bin/python benchmarks/bench_cost_model.py [--device n150 --device p150]

Every cycle figure printed here is a PREDICTION of tt_dw_mlir/cost_model.py
(busiest core), not a measurement. Three parts:

1. calibration: the model with the tt-metal-seed / tt-metal-poc profiles on
   MobileNetV2 as tt-metal's demo runs it (batch 10, bfloat8_b, LoFi, demo
   sharding) against the measurements of tt-metal issues 25523 and 26434;
2. the three issue-26434 layers with the `ours` profile (the kernels in
   kernels/ as planned today), and with what-if profiles that change one kernel
   property at a time, to show what limits them;
3. per model (MobileNetV2, EfficientNet-B0, YOLOv10x at batch 1, bf16), all
   depthwise layers summed: matmul / pool with `ours`, and how many layers
   path=auto converts.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from _common import table
from layers import MODELS, mobilenetv2

DEVICES = ("n150", "p150")
ISSUE_26434 = [(2, 188.3e3, 83.7e3, 48.2e3), (1, 118.8e3, 37.4e3, 20.0e3),
               (0, 117.6e3, 64.8e3, 40.9e3)]
DEMO_HEIGHT_SHARDED = 6


def _demo_convs():
    return [(layer.conv.with_(batch=10, dtype="bfp8_b", weight_dtype="bfp8_b",
                              activation="none"),
             "height_sharded" if i < DEMO_HEIGHT_SHARDED else "block_sharded")
            for i, layer in enumerate(mobilenetv2())]


def what_if_profiles(program):
    """`ours` and the same kernels with one property changed at a time (cumulative)."""
    from tt_dw_mlir.cost_model import ours_profile

    ours = ours_profile(program)
    fused = replace(ours, name="+fused, row writes", fused_multiply_reduce=True,
                    rows_written_per_pixel=1)
    reader = replace(fused, name="+pool2d reader", readers=2, reads_per_window_row=True,
                     blocking_reads=False, local_copies_per_stick=0)
    return [ours, fused, reader]


def calibration() -> str:
    from tt_dw_mlir import cost_model as cm

    demo = _demo_convs()

    def est(i, profile):
        conv, scheme = demo[i]
        return cm.estimate(conv, "n150", profile=profile, scheme=scheme, math_fidelity="LoFi")

    rows = []
    for index, matmul, poc, fused in ISSUE_26434:
        conv = demo[index][0]
        c, f = est(index, "tt-metal-poc"), est(index, cm.POC_FUSED)
        rows.append([f"{conv.in_h}x{conv.in_w}x{conv.channels}/s{conv.stride[0]}",
                     f"{matmul / 1e3:.1f}k", f"{c.matmul.cycles / 1e3:.1f}k",
                     f"{c.matmul.cycles / matmul:.2f}", f"{poc / 1e3:.1f}k",
                     f"{c.pool.cycles / 1e3:.1f}k", f"{c.pool.cycles / poc:.2f}",
                     f"{fused / 1e3:.1f}k", f"{f.pool.cycles / 1e3:.1f}k",
                     f"{f.pool.cycles / fused:.2f}"])
    out = ["issue 26434 (MobileNetV2 demo, n150, batch 10, bfp8_b, LoFi): "
           "measured -> predicted (ratio)",
           table(["layer", "matmul meas", "matmul pred", "ratio", "PoC meas", "PoC pred", "ratio",
                  "fused est.", "fused pred", "ratio"], rows)]
    seed = [est(i, "tt-metal-seed") for i in range(len(demo))]
    overall = sum(c.pool.cycles for c in seed) / sum(c.matmul.cycles for c in seed)
    worst = max(seed, key=lambda c: c.pool.cycles / c.matmul.cycles)
    out.append(f"issue 25523 seed kernel on the whole demo: predicted {overall:.2f}x slower than "
               f"the matmul path overall (measured ~4x), worst layer "
               f"{worst.conv.in_h}x{worst.conv.in_w}x{worst.conv.channels} "
               f"{worst.pool.cycles / worst.matmul.cycles:.2f}x (measured ~10x)")
    return "\n".join(out)


def ours_on_issue_layers() -> str:
    from tt_dw_mlir import cost_model as cm
    from tt_dw_mlir.program import plan_program

    demo = _demo_convs()
    rows = []
    for index, matmul, _poc, fused in ISSUE_26434:
        conv = demo[index][0]
        program = plan_program(conv, "n150")
        row = [f"{conv.in_h}x{conv.in_w}x{conv.channels}/s{conv.stride[0]}",
               f"{fused / 1e3:.1f}k"]
        for prof in what_if_profiles(program):
            cost = cm.estimate(conv, "n150", profile=prof, math_fidelity="LoFi")
            row.append(f"{cost.pool.cycles / 1e3:.1f}k ({cost.pool.bottleneck})")
        row.append(f"{cm.estimate(conv, 'n150', math_fidelity='LoFi').matmul.cycles / 1e3:.1f}k")
        rows.append(row)
    return "\n".join([
        "issue 26434 layers with our kernels (same demo setting, our planner's sharding), "
        "predicted cycles (binding thread):",
        table(["layer", "fused-PoC est.", "ours (kernels/ today)", "+fused, row writes",
               "+pool2d reader", "matmul pred"], rows)])


def per_model(devices: tuple[str, ...]) -> str:
    from tt_dw_mlir import cost_model as cm
    from tt_dw_mlir.program import plan_program

    rows = []
    for model, build in MODELS.items():
        convs = [layer.conv for layer in build()]
        for dev in devices:
            mm = pool = best = 0.0
            converted = 0
            for conv in convs:
                cost = cm.estimate(conv, dev)
                mm += cost.matmul.cycles
                pool += cost.pool.cycles
                converted += cm.prefer_pool(conv, dev)[0]
                program = plan_program(conv, dev)
                if hasattr(program, "layout"):
                    best += cm.estimate(conv, dev, profile=what_if_profiles(program)[-1]).pool.cycles
                else:
                    best += cost.pool.cycles
            rows.append([model, dev, len(convs), f"{mm / 1e3:,.0f}k", f"{pool / 1e3:,.0f}k",
                         f"{mm / pool:.2f}x", f"{converted}/{len(convs)}", f"{mm / best:.2f}x"])
    return "\n".join([
        "per model, batch 1, bf16, all depthwise layers summed (predicted cycles, busiest core):",
        table(["model", "device", "convs", "matmul", "pool (ours)", "matmul/pool",
               "path=auto converts", "matmul/pool with +fused,+rows,+pool2d reader"], rows)])


def mobilenetv2_layers(device: str = "n150") -> str:
    """Per MobileNetV2 layer (batch 1, bf16): what binds our kernels, step by step."""
    from tt_dw_mlir import cost_model as cm
    from tt_dw_mlir.program import plan_program

    rows = []
    for layer in mobilenetv2():
        conv = layer.conv
        program = plan_program(conv, device)
        row = [f"{conv.in_h}x{conv.in_w}x{conv.channels}/s{conv.stride[0]}"]
        costs = [cm.estimate(conv, device, profile=p) for p in what_if_profiles(program)]
        row.append(f"{costs[0].matmul.cycles / 1e3:.1f}k")
        row += [f"{c.pool.cycles / 1e3:.1f}k {c.pool.bottleneck}" for c in costs]
        row.append(f"{costs[0].ratio:.2f}x / {costs[-1].ratio:.2f}x")
        rows.append(row)
    return "\n".join([
        f"MobileNetV2 per layer on {device}, batch 1, bf16 (predicted cycles, binding thread):",
        table(["layer", "matmul", "ours", "+fused, row writes", "+pool2d reader",
               "matmul/pool ours / +all"], rows)])


def run(quick: bool = False, devices: tuple[str, ...] = DEVICES) -> str:
    parts = [calibration(), ours_on_issue_layers(), mobilenetv2_layers(devices[0]),
             per_model(devices[:1] if quick else devices),
             "All figures are predictions of tt_dw_mlir/cost_model.py; constants and their "
             "sources there, derivation in benchmarks/README.md."]
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", action="append", choices=("n150", "p150", "p150_13x10"))
    args = parser.parse_args()
    print(run(devices=tuple(args.device) if args.device else DEVICES))


if __name__ == "__main__":
    main()
