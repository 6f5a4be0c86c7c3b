"""Long driver fuzz run (issues 7 and 11): one command, prints cases tried per source,
inputs rejected correctly, failures (each saved to a directory with its command line),
the slowest case and the largest peak resident memory of a case.

    .venv/bin/python benchmarks/fuzz_long.py [--mutants 10000] [--generated 10000] [--seed 1]
                                             [--workers 2] [--save DIR]

Sources: the fixed cases (valid seeds, lit inputs, hand-picked nasty inputs), mutated
inputs, and the generators of test/unit/test_driver_fuzz.py (affine maps/sets, alias
graphs, NaN/inf/hex/complex constants, nesting). Every case runs in a child process
whose cases must each stay under 60 s (killed and reported otherwise) and 2 GiB of peak
resident memory (the child's address space is capped at 4 GiB); a quarter of the
generated cases run twice and must print the same IR.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("test_driver_fuzz", REPO / "test/unit/test_driver_fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["test_driver_fuzz"] = module
    spec.loader.exec_module(module)
    return module


def _source(name: str) -> str:
    head = name.split(":", 1)[0]
    return head.split("-", 1)[0] if "-" in head and not head.startswith(("seed", "lit", "special")) else head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutants", type=int, default=10000, help="mutated inputs to try")
    parser.add_argument("--generated", type=int, default=10000, help="generated inputs to try")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=500, help="cases between progress lines")
    parser.add_argument("--save", default="fuzz-failures", help="directory for failing inputs")
    args = parser.parse_args(argv)
    fuzz = _fuzz_module()
    started = time.monotonic()
    cases = fuzz.fixed_cases() + fuzz.generated_cases(args.mutants, args.seed) + \
        fuzz.generator_cases(args.generated, args.seed)
    # Chunks, interleaving the sources, with a progress line after each: a run cut short
    # still says how far it got and what it found.
    import random

    random.Random(args.seed).shuffle(cases)
    outcomes = []
    for start in range(0, len(cases), args.chunk):
        found = fuzz.run_cases(cases[start:start + args.chunk], workers=args.workers,
                               timeout=fuzz.CASE_TIMEOUT_S)
        outcomes += found
        if any(o.problem for o in found):
            print(fuzz.describe([o for o in found if o.problem]), flush=True)
        print(f"progress: {len(outcomes)} of {len(cases)} cases, "
              f"{sum(1 for o in outcomes if o.problem)} failures, "
              f"{time.monotonic() - started:.0f} s", flush=True)
    failures = [o for o in outcomes if o.problem]
    rejected = sum(o.rejected for o in outcomes)
    print(f"cases tried: {len(outcomes)} (inputs up to {max(len(c.data) for c in cases) / 1e6:.2f} MB)")
    by_source = collections.Counter(_source(o.case.name) for o in outcomes)
    print("by source: " + ", ".join(f"{k} {v}" for k, v in sorted(by_source.items())))
    print(f"inputs rejected correctly (located diagnostic, exit 1): {rejected}")
    print(f"accepted (exit 0, output round-trips): {len(outcomes) - rejected - len(failures)}")
    print(f"failures: {len(failures)}")
    slowest = max(outcomes, key=lambda o: o.seconds)
    largest = max(outcomes, key=lambda o: o.peak_bytes)
    print(f"slowest case: {slowest.seconds:.1f} s ({slowest.case.name}, {len(slowest.case.data)} B)")
    print(f"largest peak resident memory of a case: {largest.peak_bytes / 2**20:.0f} MiB "
          f"({largest.case.name})")
    print(f"time: {time.monotonic() - started:.0f} s")
    if failures:
        save = Path(args.save)
        save.mkdir(parents=True, exist_ok=True)
        for i, o in enumerate(failures):
            path = save / f"failure-{i}.mlir"
            path.write_bytes(o.case.data)
            print(f"- {path} [tt-dw-opt {path} {' '.join(o.case.args)}]: {o.problem}\n    {o.detail[-300:]!r}",
                  flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
