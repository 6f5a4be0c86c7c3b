"""Long argument/model fuzz run of `tt-dw` (issue 11, items 11-14): prints the cases
tried, refused correctly, accepted, and every failure with its argv and model spec.

    .venv/bin/python benchmarks/fuzz_models_long.py [--cases 20000] [--seed 1] [--workers 2] [--builtin]

The generators and the judge are test/unit/test_cli_fuzz.py's (CI runs a small sample).
`--builtin` adds the built-in models to the argument cases (slow: each traces a network).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("test_cli_fuzz", REPO / "test/unit/test_cli_fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["test_cli_fuzz"] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--builtin", action="store_true")
    parser.add_argument("--save", default="fuzz-cli-failures.json", help="failing cases, as JSON")
    args = parser.parse_args(argv)
    fuzz = _fuzz_module()
    started = time.monotonic()
    cases = fuzz.FIXED_CASES + fuzz.generated_cases(args.cases, args.seed, builtin=args.builtin)
    shards = [cases[i::args.workers] for i in range(args.workers)]
    with ThreadPoolExecutor(args.workers) as pool:
        outcomes = [o for part in pool.map(fuzz.run_cases, shards) for o in part]
    failures = [o for o in outcomes if o.problem]
    refused = sum(o.rejected for o in outcomes)
    print(f"cases tried: {len(outcomes)}")
    print(f"refused correctly (exit 1, one 'tt-dw: error:' line): {refused}")
    print(f"accepted (exit 0): {sum(o.code == 0 and not o.problem for o in outcomes)}")
    print(f"failures: {len(failures)}")
    print(f"time: {time.monotonic() - started:.0f} s")
    if failures:
        Path(args.save).write_text(json.dumps([{"problem": o.problem, "case": o.case, "argv": o.argv,
                                                 "stderr": o.stderr[-1000:]} for o in failures], indent=2))
        for o in failures[:20]:
            print(f"- {o.problem}: tt-dw {' '.join(map(str, o.argv))}\n    {o.stderr.strip()[-300:]!r}")
        print(f"all failing cases: {args.save}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
