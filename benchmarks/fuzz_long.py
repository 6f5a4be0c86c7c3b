"""The long fuzz run of both tools (issues 7 and 11): one command, one judge. Prints the
cases tried per generator, inputs refused correctly, failures (each saved with its
command line), the slowest case and the largest peak resident memory of a case.

    .venv/bin/python benchmarks/fuzz_long.py [--mutants 10000] [--generated 10000]
        [--cli 5000] [--seed 1] [--workers 1] [--save DIR]

Generators: for `tt-dw-opt`, the fixed cases (valid seeds, lit inputs, hand-picked nasty
inputs), mutated inputs and the generators of test/unit/test_driver_fuzz.py (affine
maps/sets, alias graphs, NaN/inf/hex/complex constants, nesting); for `tt-dw`, the
reported kinds and the model/argument generator of test/unit/test_cli_fuzz.py. Every
case runs in a child forked by test/unit/fuzzing.py's fork server and is judged by its
judge: no signal, no traceback or "internal error", exit 0 or 1, a refusal located,
at most 60 s and 2 GiB; the printed IR parses back to itself, and repeated cases must
print (tt-dw-opt) or write (tt-dw compile) the same IR twice.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "test" / "unit"))  # the fuzzers and their harness

import fuzzing  # noqa: E402
import test_cli_fuzz  # noqa: E402
import test_driver_fuzz  # noqa: E402


def generator_of(case) -> str:
    """The generator a case came from, for the per-generator counts."""
    if isinstance(case, test_cli_fuzz.CliCase):
        head = case.name.split(":", 1)
        return "tt-dw " + (head[0] if head[0] == "fixed" else head[1].split(":")[0])
    head = case.name.split(":", 1)[0]
    if head.startswith(("seed", "lit", "special")):
        return f"tt-dw-opt {head}"
    return "tt-dw-opt " + head.split("-", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutants", type=int, default=10000, help="mutated tt-dw-opt inputs")
    parser.add_argument("--generated", type=int, default=10000, help="generated tt-dw-opt inputs")
    parser.add_argument("--cli", type=int, default=5000, help="tt-dw model/argument cases")
    parser.add_argument("--builtin-share", type=float, default=0.01,
                        help="share of tt-dw cases on a built-in network (seconds each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="fork servers per tool")
    parser.add_argument("--chunk", type=int, default=500, help="cases between progress lines")
    parser.add_argument("--save", default="fuzz-failures", help="directory for failing cases")
    args = parser.parse_args(argv)
    started = time.monotonic()
    cases = test_driver_fuzz.fixed_cases() + test_driver_fuzz.generated_cases(args.mutants, args.seed) + \
        test_driver_fuzz.generator_cases(args.generated, args.seed)
    if args.cli:
        cases += test_cli_fuzz.fixed_cases() + test_cli_fuzz.generated_cases(
            args.cli, args.seed, builtin_share=args.builtin_share)
    # Chunks, interleaving the generators, with a progress line after each: a run cut
    # short still says how far it got and what it found.
    random.Random(args.seed).shuffle(cases)
    outcomes = []
    for start in range(0, len(cases), args.chunk):
        found = fuzzing.run_cases(cases[start:start + args.chunk], workers=args.workers)
        outcomes += found
        for o in found:
            if o.problem:
                print(f"FAILURE {o.case.name}: {o.problem}\n    {o.detail[-400:]!r}", flush=True)
        print(f"progress: {len(outcomes)} of {len(cases)} cases, "
              f"{sum(1 for o in outcomes if o.problem)} failures, "
              f"{time.monotonic() - started:.0f} s", flush=True)
    failures = [o for o in outcomes if o.problem]
    print(f"cases tried: {len(outcomes)}")
    for tool in ("tt-dw-opt", "tt-dw"):
        mine = [o for o in outcomes if generator_of(o.case).split()[0] == tool]
        if not mine:
            continue
        by = collections.Counter(generator_of(o.case).split(" ", 1)[1] for o in mine)
        print(f"{tool}: {len(mine)} cases ({', '.join(f'{k} {v}' for k, v in sorted(by.items()))}); "
              f"refused correctly {sum(o.rejected for o in mine)}, accepted {sum(o.rc == 0 and not o.problem for o in mine)}, "
              f"failures {sum(1 for o in mine if o.problem)}")
        slowest = max(mine, key=lambda o: o.seconds)
        largest = max(mine, key=lambda o: o.peak_bytes)
        print(f"  slowest case: {slowest.seconds:.1f} s ({slowest.case.name}); largest peak resident memory "
              f"of a case: {largest.peak_bytes / 2**20:.0f} MiB ({largest.case.name})")
    print(f"failures: {len(failures)}")
    print(f"time: {time.monotonic() - started:.0f} s")
    if failures:
        save = Path(args.save)
        save.mkdir(parents=True, exist_ok=True)
        for i, o in enumerate(failures):
            request = o.case.request()
            folder = save / f"failure-{i}"
            folder.mkdir(exist_ok=True)
            import base64

            for name, data in request["files"].items():
                if data is None:
                    (folder / name).mkdir(exist_ok=True)
                else:
                    (folder / name).write_bytes(base64.b64decode(data))
            command = f"{request['tool']} {' '.join(request['argv'])}"
            (folder / "command").write_text(command + "\n")
            print(f"- {folder} [{command}]: {o.problem}\n    {o.detail[-300:]!r}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
