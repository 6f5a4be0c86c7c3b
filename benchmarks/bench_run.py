"""`tt-dw run` on MobileNetV2 (the README's main job, `make run`): wall time and peak memory.

    .venv/bin/python benchmarks/bench_run.py                  # 3 runs of the default tt-dw
    .venv/bin/python benchmarks/bench_run.py --repeats 5 --tt-dw /tmp/fresh/bin/tt-dw

Each run is the real command, `tt-dw run --model mobilenetv2 --no-progress` plus `--progress`
(stage lines on stderr, timestamped here; nothing else changes), in a child process. The
peak is the child's `ru_maxrss` (what `/usr/bin/time %M` prints). `/proc/PID/status` is
polled every ~2 ms for `RssAnon` (the process's own memory: heap, Python objects, tensors)
and `RssFile` (mapped pages of shared libraries, which depends on the page cache: a venv
whose libraries were just written maps more of them per fault), so the table gives the
split at the largest sample and the stage running then. Target (issue 12): <= 4 s wall,
<= 700 MB peak on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import VENV_BIN, NotAvailable, machine_note, table

WALL_TARGET_S = 4.0
PEAK_TARGET_BYTES = 700 * 10 ** 6
STATUS_FIELDS = ("VmRSS", "RssAnon", "RssFile")


def _status(pid: int) -> dict[str, int] | None:
    """VmRSS / RssAnon / RssFile of `pid` in KiB, None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except OSError:
        return None
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in STATUS_FIELDS:
            found[key] = int(value.split()[0])
    return found if len(found) == len(STATUS_FIELDS) else None


def measure(tt_dw: Path, model: str, out_dir: Path, poll_s: float = 0.002) -> dict:
    """One `tt-dw run`: wall, peak, the RssAnon/RssFile split at the largest sample, stages."""
    argv = [str(tt_dw), "run", "--model", model, "--no-progress", "--progress", "--out", str(out_dir)]
    started = time.monotonic()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stages: list[tuple[float, str]] = []  # (seconds since start, stage line)

    def read_stages() -> None:
        for line in child.stderr:
            for part in re.split(r"[\r\n]", line):
                if part.startswith("tt-dw: ") and not part.startswith("tt-dw: error"):
                    stages.append((time.monotonic() - started, part[len("tt-dw: "):].strip()))

    reader = threading.Thread(target=read_stages, daemon=True)
    reader.start()
    stdout_chunks: list[str] = []
    drain = threading.Thread(target=lambda: stdout_chunks.append(child.stdout.read()), daemon=True)
    drain.start()
    largest: dict | None = None
    largest_at = 0.0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)  # the child's own rusage
        if pid:
            break
        sample = _status(child.pid)
        if sample and (largest is None or sample["VmRSS"] > largest["VmRSS"]):
            largest, largest_at = sample, time.monotonic() - started
        time.sleep(poll_s)
    wall = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    drain.join(5)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {child.returncode}")
    stage = next((s for t, s in reversed(stages) if t <= largest_at), "start-up") if largest else "?"
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "sys": usage.ru_stime,
            "peak_kib": usage.ru_maxrss, "largest": largest, "largest_at": largest_at,
            "stage": stage, "stages": stages, "stdout": "".join(stdout_chunks)}


def run(quick: bool = False, repeats: int | None = None, tt_dw: Path | None = None,
        model: str = "mobilenetv2", out_dir: Path | None = None) -> str:
    tt_dw = tt_dw or VENV_BIN / "tt-dw"
    if not tt_dw.exists():
        raise NotAvailable(f"{tt_dw} is not installed")
    if not Path("/proc/self/status").exists():
        raise NotAvailable("no /proc/PID/status to sample RssAnon / RssFile")
    repeats = repeats or (1 if quick else 3)
    out_dir = out_dir or Path(os.environ.get("TMPDIR", "/tmp")) / "tt-dw-bench-run"
    load_before = os.getloadavg()
    results = [measure(tt_dw, model, out_dir) for _ in range(repeats)]
    load_after = os.getloadavg()
    mib = 1024.0
    rows = []
    for i, r in enumerate(results, 1):
        largest = r["largest"] or {}
        rows.append([i, f"{r['wall']:.2f}", f"{r['cpu']:.2f} ({r['sys']:.2f})", f"{r['peak_kib'] / mib:.0f}",
                     f"{r['peak_kib'] * 1024 / 1e6:.0f}",
                     f"{largest.get('RssAnon', 0) / mib:.0f}", f"{largest.get('RssFile', 0) / mib:.0f}",
                     f"{r['largest_at']:.2f}", r["stage"][:48]])
    walls = [r["wall"] for r in results]
    peaks = [r["peak_kib"] * 1024 for r in results]
    lines = [f"tt-dw run --model {model} ({tt_dw}); {machine_note()}",
             f"load average before {load_before[0]:.2f} / after {load_after[0]:.2f} (1 min)", "",
             table(["run", "wall s", "cpu s (sys)", "peak MiB", "peak MB", "RssAnon MiB", "RssFile MiB",
                    "at s", "stage at the largest sample"], rows), ""]
    timeline = results[-1]["stages"]
    lines.append("stages of the last run (s): " + "; ".join(f"{t:.2f} {s}" for t, s in timeline))
    wall_ok = max(walls) <= WALL_TARGET_S
    peak_ok = max(peaks) <= PEAK_TARGET_BYTES
    lines.append(f"wall min / median / max {min(walls):.2f} / {statistics.median(walls):.2f} / "
                 f"{max(walls):.2f} s (target <= {WALL_TARGET_S:.0f} s: {'met' if wall_ok else 'MISSED'}); "
                 f"peak max {max(peaks) / 2 ** 20:.0f} MiB = {max(peaks) / 1e6:.0f} MB "
                 f"(target <= 700 MB: {'met' if peak_ok else 'MISSED'})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tt-dw", type=Path, default=VENV_BIN / "tt-dw", help="the tt-dw to run")
    parser.add_argument("--model", default="mobilenetv2")
    parser.add_argument("--out", type=Path, default=None, help="IR output folder of the runs")
    args = parser.parse_args()
    print(run(repeats=args.repeats, tt_dw=args.tt_dw, model=args.model, out_dir=args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
