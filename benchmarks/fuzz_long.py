"""Long driver fuzz run (issue 7): one command, prints cases tried, inputs rejected
correctly and failures (each with the input that caused it, saved to a directory).

    .venv/bin/python benchmarks/fuzz_long.py [--cases 20000] [--seed 1] [--workers 2] [--save DIR]
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20000, help="mutated inputs to try")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--save", default="fuzz-failures", help="directory for failing inputs")
    args = parser.parse_args(argv)
    fuzz = _fuzz_module()
    started = time.monotonic()
    cases = fuzz.fixed_cases() + fuzz.generated_cases(args.cases, args.seed)
    outcomes = fuzz.run_cases(cases, workers=args.workers)
    failures = [o for o in outcomes if o.problem]
    rejected = sum(o.rejected for o in outcomes)
    print(f"cases tried: {len(outcomes)}")
    print(f"inputs rejected correctly (located diagnostic, exit 1): {rejected}")
    print(f"accepted (exit 0, output round-trips): {len(outcomes) - rejected - len(failures)}")
    print(f"failures: {len(failures)}")
    print(f"time: {time.monotonic() - started:.0f} s")
    if failures:
        save = Path(args.save)
        save.mkdir(parents=True, exist_ok=True)
        for i, o in enumerate(failures):
            path = save / f"failure-{i}.mlir"
            path.write_bytes(o.case.data)
            print(f"- {path} [tt-dw-opt {path} {' '.join(o.case.args)}]: {o.problem}\n    {o.detail[-300:]!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
