"""Weight preparation / folding throughput for every EfficientNet-B0 depthwise layer.

    .venv/bin/python benchmarks/bench_weights.py

Per dtype: layout.prepare_weights + prepare_bias (face-based tiled layout, then
block-float quantisation with the ttnn host rounding) for all 16 depthwise
layers of EfficientNet-B0, each in the layout its planned sharding on n150
needs. MB/s counts the float32 [C,1,kH,kW] weights + [C] bias read; the
layout-only column times layout_weights + layout_bias alone. Median of repeats.

Folding in the compiler: the same 16 convs with constant bf16 weights and bias
(`ttir.constant` dense hex) through `tt-dw-opt --tt-depthwise-to-pool="path=pool
weight-dtype=D"`, minus the same run with `fold=false`: the time the pass
spends folding the constants into prepared-layout constants.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import NotAvailable, median_time, need, need_tool, script_main, table
from layers import efficientnet_b0

DTYPES = ("bf16", "bfp8_b", "bfp4_b")


def _sharding(conv, device: str = "n150"):
    program = need("tt_dw_mlir.program", "plan_program")
    sharding = need("tt_dw_mlir.sharding", "choose_sharding")
    planned = program.plan_program(conv, device)
    if hasattr(planned, "sharding"):
        return planned.sharding
    chosen = sharding.choose_sharding(conv, device)
    if not hasattr(chosen, "scheme"):
        raise NotAvailable(f"no sharding for {conv}: {chosen}")
    return chosen


def _hex_bf16(values: np.ndarray) -> str:
    bits = (values.astype(np.float32).view(np.uint32) >> 16).astype("<u2")
    return "0x" + bits.tobytes().hex().upper()


def constant_module(rng: np.random.Generator) -> tuple[str, float]:
    """EfficientNet-B0's depthwise convs with constant weights + bias; (text, fp32 MB)."""
    args, body, results, nbytes = [], [], [], 0
    for i, layer in enumerate(efficientnet_b0()):
        c = layer.conv
        k, s, p = c.kernel[0], c.stride[0], c.padding[0]
        tin = f"tensor<1x{c.in_h}x{c.in_w}x{c.channels}xbf16>"
        tout = f"tensor<1x{c.out_h}x{c.out_w}x{c.channels}xbf16>"
        tw, tb = f"tensor<{c.channels}x1x{k}x{k}xbf16>", f"tensor<1x1x1x{c.channels}xbf16>"
        w = rng.standard_normal((c.channels, 1, k, k)).astype(np.float32) * 0.2
        b = rng.standard_normal(c.channels).astype(np.float32) * 0.1
        nbytes += 4 * (w.size + b.size)
        args.append(f"%x{i}: {tin}")
        body.append(f'    %w{i} = "ttir.constant"() <{{value = dense<"{_hex_bf16(w)}"> : {tw}}}> : () -> {tw}')
        body.append(f'    %b{i} = "ttir.constant"() <{{value = dense<"{_hex_bf16(b)}"> : {tb}}}> : () -> {tb}')
        body.append(f'    %y{i} = "ttir.conv2d"(%x{i}, %w{i}, %b{i}) <{{stride = array<i32: {s}, {s}>, '
                    f'padding = array<i32: {p}, {p}, {p}, {p}>, dilation = array<i32: 1, 1>, '
                    f'groups = {c.channels} : i32}}> : ({tin}, {tw}, {tb}) -> {tout}')
        results.append((f"%y{i}", tout))
    text = ("module {\n  func.func @efficientnet_b0_dw(" + ", ".join(args) + ") -> ("
            + ", ".join(t for _, t in results) + ") {\n" + "\n".join(body) + "\n    return "
            + ", ".join(v for v, _ in results) + " : " + ", ".join(t for _, t in results)
            + "\n  }\n}\n")
    return text, nbytes / 1e6


def _fold_rows(quick: bool, rng: np.random.Generator) -> list[list[object]]:
    tool = need_tool("tt-dw-opt")
    text, mbytes = constant_module(rng)
    repeats = 1 if quick else 3
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "effnet_dw_const.mlir"
        path.write_text(text)
        for dtype in DTYPES:
            times = {}
            for fold in ("true", "false"):
                flag = f'--tt-depthwise-to-pool=path=pool weight-dtype={dtype} fold={fold}'
                runs = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    proc = subprocess.run([str(tool), str(path), flag], capture_output=True, text=True)
                    runs.append(time.perf_counter() - t0)
                    if proc.returncode:
                        raise NotAvailable(f"tt-dw-opt failed folding ({dtype}): "
                                           f"{proc.stderr.strip().splitlines()[:1]}")
                    if fold == "true" and "prepare_depthwise_pool_weights" in proc.stdout:
                        raise NotAvailable("tt-dw-opt did not fold the constant weights")
                times[fold] = sorted(runs)[len(runs) // 2]
            fold_s = max(times["true"] - times["false"], 1e-9)
            rows.append([dtype, times["false"], times["true"], fold_s * 1e3, mbytes / fold_s,
                         16 / fold_s])
    return rows


def run(quick: bool = False) -> str:
    layout_mod = need("tt_dw_mlir.layout", "make_layout", "prepare_weights", "prepare_bias",
                      "layout_weights", "layout_bias")
    repeats = 5 if quick else 30
    rng = np.random.default_rng(0)
    rows = []
    for dtype in DTYPES:
        jobs = []
        in_bytes = 0
        for layer in efficientnet_b0():
            conv = layer.conv.with_(weight_dtype=dtype)
            sh = _sharding(conv)
            layout = layout_mod.make_layout(conv, sh.scheme, sh.num_shards)
            w = rng.standard_normal((conv.channels, 1, *conv.kernel), dtype=np.float32)
            b = rng.standard_normal(conv.channels, dtype=np.float32)
            jobs.append((layout, w, b))
            in_bytes += w.nbytes + b.nbytes

        def prepare_all() -> None:
            for layout, w, b in jobs:
                layout_mod.prepare_weights(w, layout)
                layout_mod.prepare_bias(b, layout)

        def layout_all() -> None:
            for layout, w, b in jobs:
                layout_mod.layout_weights(w, layout)
                layout_mod.layout_bias(b, layout)

        full = median_time(prepare_all, repeats)
        only_layout = median_time(layout_all, repeats)
        rows.append([dtype, len(jobs), f"{in_bytes / 1e6:.3f}", full * 1e3,
                     in_bytes / full / 1e6, len(jobs) / full, in_bytes / only_layout / 1e6])
    out = [table(["dtype", "layers", "MB in", "ms / net", "MB/s", "layers/s",
                  "layout-only MB/s"], rows)]
    out.append(f"EfficientNet-B0, 16 depthwise layers, layouts of the planned n150 sharding; "
               f"median of {repeats}.")
    out.append("")
    out.append("compile-time folding in tt-dw-opt (same layers as constants, whole process):")
    try:
        fold = _fold_rows(quick, rng)
        out.append(table(["dtype", "fold=false s", "fold=true s", "folding ms", "MB/s",
                          "layers/s"], fold))
        out.append("folding = fold=true minus fold=false, median of runs; MB = fp32 weights+bias.")
    except NotAvailable as exc:
        out.append(f"not available: {exc}")
    return "\n".join(out)


def main() -> None:
    script_main(__doc__, run)


if __name__ == "__main__":
    main()
