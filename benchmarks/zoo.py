"""The model zoo through both frontends: every architecture, whole, against independent oracles.

    .venv/bin/python benchmarks/zoo.py [--resolution 224] [--models NAME ...] [--dtype bf16]

For each zoo model (tt_dw_mlir/models/zoo.py: torchvision and timm, random calibrated
weights) it prints one row per frontend:
- onnx:  torch.onnx.export, then `tt-dw run model.onnx --json` (in process); the
         oracle is onnxruntime;
- torch: `tt_dw_mlir.compile(model, x)`, then the compiled callable; the oracle is the
         torch module itself.
Columns: depthwise convs, converted, host ops, end-to-end PCC, baseline PCC (the same
network compiled with path=matmul: nothing converted), seconds. It ends with the
issue 10 verdict: every depthwise conv converted, PCC >= 0.99 in bf16, no model
rejected, the grouped RegNet not converted. Exit status 1 when any of that fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

E2E_TARGET = 0.99


def _pcc(a, b) -> float:
    from tt_dw_mlir.tools.cli import pcc

    return pcc(a, b)


def onnx_row(name: str, model, example, work: Path, dtype: str) -> dict:
    from tt_dw_mlir.models import zoo
    from tt_dw_mlir.tools import cli

    path = zoo.export_onnx(model, example, work / f"{name}.onnx")
    shape = "x".join(map(str, example.shape))
    started = time.monotonic()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["run", str(path), "--input-shape", shape, "--weight-dtype", dtype,
                         "--out", str(work / name), "--json", "--no-progress"])
    seconds = time.monotonic() - started
    if code != 0:
        return {"model": name, "frontend": "onnx", "error": err.getvalue().strip().splitlines()[-1]}
    r = json.loads(out.getvalue())
    return {"model": name, "frontend": "onnx", "depthwise": r["depthwise_layers"],
            "converted": r["converted"], "host_ops": len(r["host_ops"]),
            "pcc": r["end_to_end"]["pcc"], "baseline_pcc": r["end_to_end"]["baseline_pcc"],
            "seconds": seconds}


def torch_row(name: str, model, example, dtype: str) -> dict:
    import torch

    import tt_dw_mlir

    started = time.monotonic()
    try:
        compiled = tt_dw_mlir.compile(model, example, weight_dtype=dtype)
        ours = compiled(example)
        baseline = tt_dw_mlir.compile(model, example, weight_dtype=dtype, path="matmul")(example)
    except Exception as problem:  # a rejection is a row of the table, not a crash of the benchmark
        return {"model": name, "frontend": "torch", "error": f"{type(problem).__name__}: {problem}"[:200]}
    seconds = time.monotonic() - started
    with torch.no_grad():
        expected = model(example)
    layers = compiled.report.layers
    return {"model": name, "frontend": "torch", "depthwise": sum(l.is_depthwise for l in layers),
            "converted": sum(l.converted for l in layers),
            "host_ops": sum(compiled.host_ops.values()), "pcc": _pcc(ours, expected),
            "baseline_pcc": _pcc(baseline, expected), "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--models", nargs="*", help="zoo names (default: all)")
    parser.add_argument("--frontends", nargs="*", default=["onnx", "torch"])
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import torch

    from tt_dw_mlir.models import zoo

    torch.set_num_threads(2)
    names = args.models or zoo.names()
    rows = []
    header = (f"{'model':38s} {'frontend':8s} {'dw convs':>8s} {'converted':>9s} {'host ops':>8s} "
              f"{'e2e PCC':>9s} {'baseline':>9s} {'time s':>7s}")
    print(f"zoo at {args.resolution}x{args.resolution}, weights {args.dtype}, "
          f"{torch.get_num_threads()} threads")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            resolution = args.resolution
            model, example = zoo.build(name, resolution=resolution)
            for frontend in args.frontends:
                row = (onnx_row(name, model, example, Path(tmp), args.dtype) if frontend == "onnx"
                       else torch_row(name, model, example, args.dtype))
                rows.append(row)
                if "error" in row:
                    print(f"{name:38s} {frontend:8s} REJECTED: {row['error']}", flush=True)
                    continue
                print(f"{name:38s} {frontend:8s} {row['depthwise']:8d} {row['converted']:9d} "
                      f"{row['host_ops']:8d} {row['pcc']:9.6f} {row['baseline_pcc']:9.6f} "
                      f"{row['seconds']:7.1f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    problems = []
    for row in rows:
        where = f"{row['model']} ({row['frontend']})"
        if "error" in row:
            problems.append(f"{where}: rejected")
            continue
        grouped = not zoo.ZOO[row["model"]].depthwise
        if grouped and row["converted"]:
            problems.append(f"{where}: {row['converted']} grouped convs converted")
        if not grouped and row["converted"] != row["depthwise"]:
            problems.append(f"{where}: {row['converted']} of {row['depthwise']} depthwise convs converted")
        if args.dtype == "bf16" and row["pcc"] < E2E_TARGET:
            problems.append(f"{where}: end-to-end PCC {row['pcc']:.6f} < {E2E_TARGET}")
    print()
    print(f"models: {len(names)}, runs: {len(rows)}, rejected: "
          f"{sum('error' in r for r in rows)}, problems: {len(problems)}")
    for line in problems:
        print(f"- {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
