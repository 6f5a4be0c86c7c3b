"""Run one depthwise layer's kernels on tt-lang-sim (a helper of bench_sim_stats.py).

    tt-lang-sim benchmarks/_sim_layer.py --trace t.jsonl -- H W C K STRIDE {batched|unbatched}

`batched` = the program plan_program makes (channel blocks of up to 4 tiles, the
float32 tiles DST holds); `unbatched` = the same sharding with blocks of one
channel tile. A pass is always one tile of 32 output pixels. Prints the max abs
error vs torch as a sanity check.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from tt_dw_mlir import program as program_mod  # noqa: E402
from tt_dw_mlir.conv_config import DepthwiseConv  # noqa: E402
from tt_dw_mlir.layout import prepare_bias, prepare_weights  # noqa: E402
from tt_dw_mlir.runtime import execute  # noqa: E402


def unbatched(program):
    """One channel tile per block, same sharding and layout."""
    # the circular buffers follow block_channel_tiles (program.dataflow_buffers)
    return dataclasses.replace(program, block_channel_tiles=1)


def main() -> None:
    argv = [a for a in sys.argv[1:] if a != "--"]
    h, w, c, k, s = (int(v) for v in argv[:5])
    mode = argv[5]
    pad = k // 2
    conv = DepthwiseConv(1, h, w, c, (k, k), (s, s), (pad, pad, pad, pad), has_bias=True,
                         activation="relu6")
    program = program_mod.plan_program(conv, "n150")
    if not hasattr(program, "layout"):
        raise SystemExit(f"refused: {program}")
    if mode == "unbatched":
        program = unbatched(program)
    rng = np.random.default_rng(0)
    wt = rng.standard_normal((c, 1, k, k), dtype=np.float32) * 0.2
    bias = rng.standard_normal(c, dtype=np.float32) * 0.1
    x = torch.from_numpy(rng.standard_normal((1, h, w, c), dtype=np.float32))
    got = execute(program, x, prepare_weights(wt, program.layout),
                  prepare_bias(bias, program.layout), backend="sim")
    want = execute(program, x, prepare_weights(wt, program.layout),
                   prepare_bias(bias, program.layout), backend="reference")
    print(f"SIM_RESULT grid={program.grid} block_channel_tiles={program.block_channel_tiles} "
          f"channel_blocks={program.channel_blocks} tiles_per_group={program.tiles_per_group} "
          f"max_abs_err={float((got - want).abs().max()):.3g}")


if __name__ == "__main__":
    main()
