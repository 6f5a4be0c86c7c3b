"""The depthwise pool2d operation: grid, dataflow buffers, weight pipes, three kernels.

`build_operation(args)` builds one `@ttl.operation` from
`KernelProgram.kernel_args()` (ints, the weight pipes as int tuples and the
dataflow buffers as (name, operand, rows, cols, block_count), the table
`tt_dw_mlir/program.py` declares for both sides). The
operation takes five tiled 2-D tensors (shapes in elements; `T` = pixel tiles
of all pixel groups, `Cp` = padded channels, `S` shards, `RC` row chunks, `CT`
channel tiles per shard, `W` = kH*kW); `tt_dw_mlir.runtime._tensors` builds
them from the NHWC input and the prepared tensors:

* windows    (T*W*32, Cp)      window planes: tile row t*W + k, row j = the
                               input stick under position k of pixel 32*t + j
* weights    (S*RC*32, CT*32)  the prepared weight tiles, shard s chunk c at
                               tile row s*RC + c (bytes unchanged)
* bias       (S*32, CT*32)     the prepared bias tiles (bias on row 0)
* selectors  (W*32, SW*32)     tile row k: ones in column k % R of tile k // R;
                               float32, so that the `acc` DFB made like it
                               accumulates in float32, SW = max(RC, CTb) tiles
                               wide to hold an `acc` block (program.py)
* out        (T*32, Cp)        row 32*t + j = output stick of that pixel

Grid and pipe coordinates are (x = column, y = row), as tt-lang 1.1.1 wants.
Run one small conv through the planner and these kernels on the simulator:
`tt-lang-sim tt_dw_mlir/kernels/depthwise_pool_op.py` (or `python -m
tt_dw_mlir.kernels.depthwise_pool_op`).
"""

from __future__ import annotations

import sys

import ttl

if __package__:
    from .depthwise_pool_compute import make_compute
    from .depthwise_pool_reader import make_reader
    from .depthwise_pool_writer import make_writer
else:  # run as a file by the tt-lang-sim launcher
    from tt_dw_mlir.kernels.depthwise_pool_compute import make_compute
    from tt_dw_mlir.kernels.depthwise_pool_reader import make_reader
    from tt_dw_mlir.kernels.depthwise_pool_writer import make_writer


def weight_pipes(args) -> list:
    """One multicast pipe per receiver rectangle: sender -> every core of its shard."""
    return [ttl.Pipe(src=(sx, sy), dst=(slice(x0, x1), slice(y0, y1)))
            for sx, sy, x0, x1, y0, y1 in args["weight_pipes"]]


def build_operation(args):
    """The `@ttl.operation` for one program; `args` = `KernelProgram.kernel_args()`."""
    grid_cols, grid_rows = args["grid_cols"], args["grid_rows"]
    num_cores = args["num_cores"]
    rc, ctb = args["row_chunks"], args["block_channel_tiles"]
    cores = dict(grid_cols=grid_cols, num_cores=num_cores)
    split = dict(shard_per_col=args["shard_per_col"], shard_per_core=args["shard_per_core"],
                 group_per_row=args["group_per_row"], group_per_core=args["group_per_core"])
    blocks = dict(channel_blocks=args["channel_blocks"], tiles_per_group=args["tiles_per_group"])

    # fp32_dest_acc_en: products and sums in float32 in DST (the plan's choice, which also
    # sizes its channel blocks to the 4 float32 tiles DST then holds). tt-lang 1.1.1 sets
    # it anyway for a compute thread with a matmul (`--ttl-matmul-full-fp32`, on by
    # default); said here because the float32 `acc` accumulation relies on it.
    @ttl.operation(grid=(grid_cols, grid_rows), fp32_dest_acc_en=bool(args["fp32_dest_acc_en"]),
                   dst_full_sync_en=bool(args["dst_full_sync_en"]))
    def depthwise_pool_conv(windows, weights, bias, selectors, out):
        # The plan's buffer table (KernelProgram.dataflow_buffers), in its order: tt-lang
        # numbers dataflow buffers in creation order, and that order is the plan's CB ids.
        operands = {"windows": windows, "weights": weights, "bias": bias,
                    "selectors": selectors, "out": out}
        dfb = {}
        for name, like, rows, cols, count in args["dataflow_buffers"]:
            dfb[name] = ttl.make_dataflow_buffer_like(operands[like], shape=(rows, cols),
                                                      block_count=count)
        in_cb, selector_cb, acc_cb, out_cb = dfb["in"], dfb["selector"], dfb["acc"], dfb["out"]
        weight_stage_cb, weight_cb = dfb["weight_stage"], dfb["weight"]
        weight_net = ttl.PipeNet(weight_pipes(args))
        # without a bias: no bias buffers, no bias pipe net (the threads then name none)
        bias_stage_cb, bias_cb, bias_net = None, None, None
        if args["has_bias"] == 1:
            bias_stage_cb, bias_cb = dfb["bias_stage"], dfb["bias"]
            bias_net = ttl.PipeNet(weight_pipes(args))

        make_reader(windows, weights, bias, selectors, in_cb, selector_cb, weight_stage_cb,
                    weight_cb, bias_stage_cb, bias_cb, weight_net, bias_net, **cores, **split,
                    channel_tiles=args["channel_tiles"], block_channel_tiles=ctb,
                    window=args["window"], row_chunks=rc, has_bias=args["has_bias"], **blocks)
        make_compute(in_cb, selector_cb, weight_cb, bias_cb, acc_cb, out_cb, **cores,
                     window=args["window"], has_bias=args["has_bias"],
                     activation=args["activation"], **blocks)
        make_writer(out, out_cb, **cores, **split, channel_tiles=args["channel_tiles"],
                    block_channel_tiles=ctb, **blocks)

    return depthwise_pool_conv


def main() -> int:
    """One small conv through the planner and the kernels on tt-lang-sim, vs torch."""
    import torch
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
