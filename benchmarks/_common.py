"""Shared helpers for the benchmark scripts: tables, timing, availability."""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
VENV_BIN = ROOT / ".venv" / "bin"
for path in (str(ROOT), str(BENCH)):
    if path not in sys.path:
        sys.path.insert(0, path)


class NotAvailable(Exception):
    """A part of the project a benchmark needs is missing: report, don't crash."""


def need(module: str, *attrs: str):
    """Import `module` and check it has `attrs`, or raise NotAvailable naming what is missing."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise NotAvailable(f"{module} cannot be imported ({exc})") from None
    missing = [a for a in attrs if not hasattr(mod, a)]
    if missing:
        raise NotAvailable(f"{module} has no {', '.join(missing)}")
    return mod


def need_tool(name: str) -> Path:
    tool = VENV_BIN / name
    if not tool.exists():
        raise NotAvailable(f"{tool} is not installed")
    return tool


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if n and _numeric(c) else c.ljust(w)
                               for c, w in zip(row, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def _numeric(text: str) -> bool:
    try:
        float(text.rstrip("x%"))
        return True
    except ValueError:
        return False


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved_times(fns: dict[str, Callable[[], object]], repeats: int,
                      warmup: int = 1) -> dict[str, tuple[float, float]]:
    """(min, median) wall time of each callable, the calls interleaved (A B A B ...) in one run."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (min(ts), statistics.median(ts)) for name, ts in times.items()}


def interleaved_medians(fns: dict[str, Callable[[], object]], repeats: int,
                        warmup: int = 1) -> dict[str, float]:
    """Median wall time of each callable, the calls interleaved (A B A B ...) in one run."""
    return {name: med for name, (_, med) in interleaved_times(fns, repeats, warmup).items()}


def bench_parser(doc: str) -> argparse.ArgumentParser:
    """Command line of a benchmark script: its docstring's first line and --quick."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short version (as run_all.py --quick)")
    return parser


def script_main(doc: str, run: Callable[..., str]) -> None:
    """main() of a script whose only option is --quick: print run(quick)."""
    print(run(quick=bench_parser(doc).parse_args().quick))


def machine_note() -> str:
    return (f"machine: {os.cpu_count()} CPU cores (shared), Python {sys.version.split()[0]}; "
            f"figures from one run")
