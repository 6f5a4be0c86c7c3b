"""Simulator statistics per layer, kernels with and without multi-tile batching.

    .venv/bin/python benchmarks/bench_sim_stats.py

Each MobileNetV2 depthwise shape (input capped at 14x14 so the simulator
finishes quickly; channels, kernel and stride as in the model) runs on
tt-lang-sim twice: as plan_program blocks it (up to 4 channel tiles, the
float32 tiles DST holds, per pass of 32 pixels) and unbatched (one channel tile
per block, same sharding). `tt-lang-sim --trace` records the events; the counts
below are the TOTAL rows `tt-lang-sim-stats` prints (copy_end tiles read /
written, pipe tiles, dataflow-buffer waits), plus how often a kernel blocked
on a CB wait (kernel_block op=wait). The full per-tensor / per-DFB tables:
`tt-lang-sim-stats <trace.jsonl>`.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from _common import BENCH, NotAvailable, need, need_tool, script_main, table
from layers import mobilenetv2, unique_convs

CAP = 14


def summarise(trace: Path) -> Counter:
    """Totals over a tt-lang-sim JSON Lines trace, with tt-lang-sim-stats' event semantics."""
    c: Counter = Counter()
    with trace.open() as f:
        for line in f:
            e = json.loads(line)
            kind = e["event"]
            if kind == "copy_end" and e.get("tensor"):
                if e.get("direction") == "read":
                    c["reads"] += 1
                    c["tiles_read"] += e.get("tiles", 0)
                elif e.get("direction") == "write":
                    c["writes"] += 1
                    c["tiles_written"] += e.get("tiles", 0)
            elif kind == "pipe_send":
                c["pipe_tiles"] += e.get("tiles", 0)
            elif kind == "dfb_wait_end":
                role = "compute" if "compute" in (e.get("kernel") or "") else "dm"
                c["cb_waits"] += 1
                c[f"cb_waits_{role}"] += 1
                c["cb_tiles_waited"] += e.get("tiles", 0)
            elif kind == "kernel_block" and e.get("op") == "wait":
                c["blocked_waits"] += 1
            elif kind == "kernel_end":
                c["kernels"] += 1
    return c


def _run_layer(sim: Path, conv, mode: str, tmp: Path) -> tuple[Counter, str]:
    trace = tmp / f"{conv.in_h}_{conv.channels}_{conv.stride[0]}_{mode}.jsonl"
    cmd = [str(sim), str(BENCH / "_sim_layer.py"), "--trace", str(trace),
           "--trace-events", "dfb,copy,pipe,kernel", "--",
           str(conv.in_h), str(conv.in_w), str(conv.channels), str(conv.kernel[0]),
           str(conv.stride[0]), mode]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = re.search(r"SIM_RESULT (.*)", proc.stdout)
    if proc.returncode or not found:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        raise NotAvailable(f"tt-lang-sim failed on {conv.in_h}x{conv.in_w}x{conv.channels} "
                           f"({mode}): {tail}")
    stats = summarise(trace)
    trace.unlink()
    return stats, found.group(1)


def run(quick: bool = False) -> str:
    sim = need_tool("tt-lang-sim")
    need_tool("tt-lang-sim-stats")
    need("tt_dw_mlir.runtime", "execute")
    need("tt_dw_mlir.program", "plan_program", "build_program")
    shapes = []
    for conv, _, name in unique_convs(mobilenetv2()):
        size = min(conv.in_h, CAP)
        small = conv.with_(in_h=size, in_w=size)
        if small not in [s for s, _ in shapes]:
            shapes.append((small, name))
    if quick:
        shapes = shapes[2:4]
    rows, info = [], []
    with tempfile.TemporaryDirectory() as tmpdir:
        for conv, name in shapes:
            per_mode = {}
            for mode in ("batched", "unbatched"):
                per_mode[mode], detail = _run_layer(sim, conv, mode, Path(tmpdir))
                info.append(f"  {conv.in_h}x{conv.in_w}x{conv.channels}/s{conv.stride[0]} {mode}: "
                            f"{detail}")
            b, u = per_mode["batched"], per_mode["unbatched"]
            rows.append([f"{conv.in_h}x{conv.in_w}x{conv.channels}/s{conv.stride[0]}",
                         f"{b['tiles_read']}/{u['tiles_read']}",
                         f"{b['tiles_written']}/{u['tiles_written']}",
                         f"{b['pipe_tiles']}/{u['pipe_tiles']}",
                         f"{b['cb_waits_compute']}/{u['cb_waits_compute']}",
                         f"{b['cb_waits_dm']}/{u['cb_waits_dm']}",
                         f"{b['blocked_waits']}/{u['blocked_waits']}",
                         f"{u['cb_waits_compute'] / max(1, b['cb_waits_compute']):.1f}x"])
    out = [table(["layer (MobileNetV2 shape)", "tiles R", "tiles W", "pipe tiles",
                  "compute CB waits", "reader+writer CB waits", "blocked waits",
                  "compute waits saved"], rows)]
    out.append("each cell: batched/unbatched. tiles = copy_end tiles of tt-lang-sim-stats "
               "(x is read stick by stick); blocked = a kernel suspended on a CB wait. "
               "Programs run:")
    out += info
    return "\n".join(out)


def main() -> None:
    script_main(__doc__, run)


if __name__ == "__main__":
    main()
