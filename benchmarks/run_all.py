"""Every benchmark of tt-dw-mlir, one command, tables on stdout.

    .venv/bin/python benchmarks/run_all.py            # full (about 2.5 minutes on 2 cores)
    .venv/bin/python benchmarks/run_all.py --quick    # short version (about 25 seconds)
    .venv/bin/python benchmarks/run_all.py --only cost compile

Sections: compile (tt-dw-opt pipeline vs C++ mlir-opt), weights (weight
preparation throughput, EfficientNet-B0), reference (reference backend vs torch,
MobileNetV2), sim (tt-lang-sim statistics with/without batching), cost (cost
model: pool vs matmul per layer on n150 and p150), run (the main job, `tt-dw run`
on MobileNetV2: wall time and peak memory). A section whose modules or
tools are missing prints "not available: <reason>" and the others still run.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

from _common import NotAvailable, machine_note

SECTIONS = {
    "compile": ("Compiler speed and memory: tt-dw-opt --tt-depthwise-pool-pipeline vs C++ mlir-opt",
                "bench_compile"),
    "weights": ("Weight preparation throughput: EfficientNet-B0 depthwise layers", "bench_weights"),
    "reference": ("Reference backend vs torch conv2d(groups=C), MobileNetV2 layers",
                  "bench_reference"),
    "sim": ("tt-lang-sim statistics, with and without multi-tile batching", "bench_sim_stats"),
    "cost": ("Cost model: pool path vs grouped-conv matmul, n150 and p150", "bench_cost_model"),
    "run": ("tt-dw run --model mobilenetv2 (make run): wall time, peak RSS, RssAnon/RssFile",
            "bench_run"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short version of every section")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), help="run only these sections")
    args = parser.parse_args()
    print(f"tt-dw-mlir benchmarks{' (quick)' if args.quick else ''}; {machine_note()}\n")
    failed = False
    for key in args.only or list(SECTIONS):
        title, module_name = SECTIONS[key]
        print(f"== {key}: {title}")
        t0 = time.perf_counter()
        try:
            module = __import__(module_name)
            print(module.run(quick=args.quick))
        except NotAvailable as exc:
            print(f"not available: {exc}")
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
            failed = True
            print(f"FAILED: {type(exc).__name__}: {exc}")
            traceback.print_exc(file=sys.stderr)
        print(f"({key}: {time.perf_counter() - t0:.1f} s)\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
