"""Compute: fused multiply + accumulate over the window, + bias, activation.

Per channel block the prepared weight tiles W (rows = kernel positions, cols =
channels, layout.py's map) stay in the weight DFB. For every tile of 32
output pixels the accumulator block (rows = pixels, cols = channels) takes,
kernel position by kernel position,

    acc += x_k * (s_k @ W)

x_k: the window plane of position k (row j = pixel j's input stick under k);
s_k: the selector tile row of k; s_k @ W repeats W's row k on all 32 rows
(one 1.0 per row: exact), which is the row broadcast of position k's weights.
The product never goes through a DFB: `+=` stores with accumulation into the
reserved block (tt-lang 1.1.1 lowers it to packer L1 accumulation; the first
`+=` writes). The first position's term is 0 + x_0 * w_0, so the sum starts
from +0 like the reference's (an all -0 window sums to +0, not -0). The sum
then takes the bias (row 0 of the bias tiles, broadcast over the rows) and the
activation on its way to the output DFB. relu6 is min(relu(v), 6): 1.1.1 has
no relu_max / clamp.

Summation order, the one the reference follows: +0, then positions
0..window-1 (each product rounded to float32 first), then the bias, then the
activation.
"""

from __future__ import annotations

import ttl

# ACTIVATIONS in tt_dw_mlir/conv_config.py: the codes KernelProgram.kernel_args() passes
RELU = 1
RELU6 = 2
SILU = 3
GELU = 4


def make_compute(in_cb, selector_cb, weight_cb, bias_cb, acc_cb, out_cb, grid_cols: int,
                 num_cores: int, channel_blocks: int, tiles_per_group: int, window: int,
                 has_bias: int, activation: int):
    # One thread per has_bias (as in the reader): the bias-free one captures no bias buffer.
    if has_bias == 1:
        @ttl.compute()
        def depthwise_pool_compute():
            x, y = ttl.node(dims=2)
            core = y * grid_cols + x
            if core < num_cores:
                for blk in range(channel_blocks):
                    with weight_cb.wait() as w, bias_cb.wait() as b:
                        for t in range(tiles_per_group):
                            with acc_cb.reserve() as acc:
                                for k in range(window):
                                    with in_cb.wait() as xk, selector_cb.wait() as s:
                                        if k == 0:
                                            acc += ttl.math.fill(acc, 0.0) + xk * (s @ w)
                                        else:
                                            acc += xk * (s @ w)
                            with acc_cb.wait() as a, out_cb.reserve() as o:
                                v = a + ttl.math.broadcast(b, o, dims=[0])
                                if activation == RELU:
                                    o.store(ttl.math.relu(v))
                                elif activation == RELU6:
                                    o.store(ttl.math.min(ttl.math.relu(v), ttl.math.fill(o, 6.0)))
                                elif activation == SILU:
                                    o.store(ttl.math.silu(v))
                                elif activation == GELU:
                                    o.store(ttl.math.gelu(v))
                                else:
                                    o.store(v)
        return depthwise_pool_compute

    @ttl.compute()
    def depthwise_pool_compute():
        x, y = ttl.node(dims=2)
        core = y * grid_cols + x
        if core < num_cores:
            for blk in range(channel_blocks):
                with weight_cb.wait() as w:
                    for t in range(tiles_per_group):
                        with acc_cb.reserve() as acc:
                            for k in range(window):
                                with in_cb.wait() as xk, selector_cb.wait() as s:
                                    if k == 0:
                                        acc += ttl.math.fill(acc, 0.0) + xk * (s @ w)
                                    else:
                                        acc += xk * (s @ w)
                        with acc_cb.wait() as a, out_cb.reserve() as o:
                            if activation == RELU:
                                o.store(ttl.math.relu(a))
                            elif activation == RELU6:
                                o.store(ttl.math.min(ttl.math.relu(a), ttl.math.fill(o, 6.0)))
                            elif activation == SILU:
                                o.store(ttl.math.silu(a))
                            elif activation == GELU:
                                o.store(ttl.math.gelu(a))
                            else:
                                o.store(a)
    return depthwise_pool_compute
