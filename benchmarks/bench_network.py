"""Whole networks through `tt_dw_mlir.compile`: where the time of a `tt-dw run` goes.

    python benchmarks/bench_network.py                       # MobileNetV2, phases + peak RSS
    python benchmarks/bench_network.py --model efficientnet_b0
    python benchmarks/bench_network.py --floor               # the torch floor: import, build, one
                                                             # channels-last forward, nothing else
    farm-bench -- .venv/bin/python benchmarks/bench_network.py \
        --vs '.venv/bin/python benchmarks/bench_network.py --floor'

Phases: import (torch, MLIR), model build, frontend (torch.export + the TTIR builder),
the two passes, the first run (plans every function, unlays the weights), a second run,
and the same network in torch (channels-last, fp32) for comparison. Each line is
`phase seconds`; the last line the process's peak RSS. Figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenetv2")
    parser.add_argument("--floor", action="store_true", help="torch only: the floor to compare with")
    parser.add_argument("--backend", default="reference")
    args = parser.parse_args()
    started = time.monotonic()
    import torch

    from tt_dw_mlir import models

    print(f"import {time.monotonic() - started:.3f}")
    t = time.monotonic()
    model, x = models.build(args.model)
    print(f"build_model {time.monotonic() - t:.3f}")
    if args.floor:
        t = time.monotonic()
        with torch.no_grad():
            model = model.to(memory_format=torch.channels_last)
            model(x.to(memory_format=torch.channels_last))
        print(f"torch_forward {time.monotonic() - t:.3f}")
    else:
        import tt_dw_mlir

        t = time.monotonic()
        compiled = tt_dw_mlir.compile(model, x, backend=args.backend)
        print(f"compile {time.monotonic() - t:.3f}")
        for phase, seconds in compiled.report.seconds.items():
            print(f"  {phase} {seconds:.3f}")
        print(f"  {compiled.report.summary()}")
        for run in ("run_first", "run_again"):
            t = time.monotonic()
            y = compiled.run(x, trace=True)[0]
            print(f"{run} {time.monotonic() - t:.3f}")
        t = time.monotonic()
        with torch.no_grad():
            ref = model(x)
        print(f"torch_forward {time.monotonic() - t:.3f}")
        a, b = y.double().flatten(), ref.double().flatten()
        a, b = a - a.mean(), b - b.mean()
        print(f"pcc {float(a @ b / (a.norm() * b.norm())):.6f}")
    print(f"total {time.monotonic() - started:.3f}")
    print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
