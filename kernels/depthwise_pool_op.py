"""The depthwise pool2d operation: grid, CBs, weight pipes, and the three kernels.

`run(args, x_sticks, weight_tiles, bias_tiles)` builds one `@ttl.operation`
on a `(grid_rows, grid_cols)` grid and runs it on tt-lang-sim. Tensor forms:

* x_sticks      (N*H*W, stick_channels)              row-major input sticks
* weight_tiles  (num_shards, row_chunks*32, channel_tiles*32)  tile t of a
                shard at tile (t // channel_tiles, t % channel_tiles): the
                prepared tiles, unchanged, on a 2-D tile grid
* bias_tiles    (num_shards, 32, channel_tiles*32)   bias on row 0
* returns       (output_rows, 32, stick_channels)    row 0 of each pixel's tile row
"""

from __future__ import annotations

import os
import sys

import torch

# the kernels import each other by module name (also when run by `tt-lang-sim <this file>`)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:  # tt-lang-sim wheel
    from ttl.sim import ttl, ttnn
except ImportError:  # pragma: no cover - a tt-lang compiler install
    import ttl
    import ttnn

from depthwise_pool_common import TILE, KernelArgs
from depthwise_pool_compute import make_compute
from depthwise_pool_reader import make_reader
from depthwise_pool_writer import make_writer


def weight_pipes(args: KernelArgs) -> list:
    """One multicast pipe per channel shard: sender -> every core of the shard."""
    return [ttl.Pipe((row, col), (slice(r0, r1), slice(c0, c1)))
            for row, col, r0, r1, c0, c1 in args.weight_pipes]


def build_operation(args: KernelArgs):
    grid = (args.grid_rows, args.grid_cols)

    @ttl.operation(grid=grid)
    def depthwise_pool_conv(x, clear, weights, bias, out, window_like):
        rc, ctb, pp = args.row_chunks, args.block_channel_tiles, args.pixels_per_pass
        in_cb = ttl.make_dataflow_buffer_like(window_like, shape=(pp, rc, ctb),
                                              block_count=args.blocks("in"))
        stick_cb = ttl.make_dataflow_buffer_like(x, shape=(ctb * TILE,),
                                                 block_count=args.blocks("stick"))
        clear_cb = ttl.make_dataflow_buffer_like(clear, shape=(ctb * TILE,),
                                                 block_count=args.blocks("clear_value", 1))
        weight_stage_cb = ttl.make_dataflow_buffer_like(weights, shape=(1, rc, ctb),
                                                        block_count=args.blocks("weight_stage", 1))
        weight_cb = ttl.make_dataflow_buffer_like(weights, shape=(1, rc, ctb),
                                                  block_count=args.blocks("weight"))
        bias_stage_cb = ttl.make_dataflow_buffer_like(bias, shape=(1, 1, ctb),
                                                      block_count=args.blocks("bias_stage", 1))
        bias_cb = ttl.make_dataflow_buffer_like(bias, shape=(1, 1, ctb),
                                                block_count=args.blocks("bias"))
        out_cb = ttl.make_dataflow_buffer_like(out, shape=(pp, 1, ctb),
                                               block_count=args.blocks("out"))
        mul_cb = ttl.make_dataflow_buffer_like(window_like, shape=(pp, rc, ctb),
                                               block_count=args.blocks("mul", 1))
        weight_net = ttl.PipeNet(weight_pipes(args))
        # Per-core input-window L1 area (a plain torch tensor: the simulator
        # deep-copies it into every core's context).
        l1_window = torch.zeros(pp, rc * TILE, ctb * TILE)

        make_compute(args, in_cb, weight_cb, bias_cb, mul_cb, out_cb)
        make_reader(args, x, clear, weights, bias, in_cb, stick_cb, clear_cb,
                    weight_stage_cb, weight_cb, bias_stage_cb, bias_cb, weight_net, l1_window)
        make_writer(args, out, out_cb)

    return depthwise_pool_conv


def run(args: KernelArgs, x_sticks: torch.Tensor, weight_tiles: torch.Tensor,
        bias_tiles: torch.Tensor | None, operation=None) -> torch.Tensor:
    """Run the operation (`operation` = a cached `build_operation(args)`)."""
    rm, tile = ttnn.ROW_MAJOR_LAYOUT, ttnn.TILE_LAYOUT
    bf16 = ttnn.bfloat16  # declared dtype (L1 accounting); the sim computes in fp32
    cb_width = args.block_channels
    if bias_tiles is None:
        bias_tiles = torch.zeros(args.num_shards, TILE, args.channel_tiles * TILE)
    x = ttnn.from_torch(x_sticks.float().contiguous(), dtype=bf16, layout=rm)
    clear = ttnn.from_torch(torch.zeros(cb_width), dtype=bf16, layout=rm)
    weights = ttnn.from_torch(weight_tiles.float().contiguous(), dtype=bf16, layout=tile)
    bias = ttnn.from_torch(bias_tiles.float().contiguous(), dtype=bf16, layout=tile)
    out_torch = torch.zeros(args.output_rows, TILE, args.stick_channels)
    out = ttnn.from_torch(out_torch, dtype=bf16, layout=tile)
    window_like = ttnn.from_torch(
        torch.zeros(args.pixels_per_pass, args.row_chunks * TILE, cb_width), dtype=bf16, layout=tile)
    (operation or build_operation(args))(x, clear, weights, bias, out, window_like)
    return out.to_torch()


def main() -> int:
    """`tt-lang-sim kernels/depthwise_pool_op.py`: one small conv through the planner and
    the kernels, compared with torch."""
    import torch.nn.functional as F

    from tt_dw_mlir.conv_config import DepthwiseConv
    from tt_dw_mlir.layout import prepare_bias, prepare_weights
    from tt_dw_mlir.program import plan_program
    from tt_dw_mlir.runtime import execute

    conv = DepthwiseConv(1, 10, 10, 96, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), True, "relu6")
    program = plan_program(conv, {"base": "n150", "name": "n150_2x4", "grid": [2, 4]})
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 10, 10, 96, generator=gen)
    w = torch.randn(96, 1, 3, 3, generator=gen)
    b = torch.randn(96, generator=gen)
    y = execute(program, x, prepare_weights(w, program.layout), prepare_bias(b, program.layout),
                backend="sim")
    want = F.conv2d(x.permute(0, 3, 1, 2), w, b, 1, 1, groups=96).clamp(0, 6).permute(0, 2, 3, 1)
    pcc = torch.corrcoef(torch.stack([y.flatten(), want.flatten()]))[0, 1].item()
    sh = program.sharding
    print(f"{sh.scheme} on {sh.grid[0]}x{sh.grid[1]} cores, {len(program.multicast)} weight "
          f"pipe(s): PCC vs torch {pcc:.6f}, max |err| {(y - want).abs().max().item():.4g}")
    return 0 if pcc >= 0.9999 else 1


if __name__ == "__main__":
    sys.exit(main())
