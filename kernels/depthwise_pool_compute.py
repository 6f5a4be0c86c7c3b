"""Compute: window tiles x weight tiles into the mul CB, reduce over rows, + bias, activation.

One pass takes a (pixels_per_pass, row_chunks, block_channel_tiles) block of
input-window tiles (rows = window positions, cols = channels), multiplies it
element-wise with the channel block's weight tiles (broadcast over the
pixels) into the mul CB, and `reduce_sum`s the product over the tile rows and
the row chunks: row 0 of each (pixel, channel tile) result holds that pixel's
conv output, which is where the prepared bias tile keeps the bias (row 0).
Several pixels and up to 8 channel tiles go through one pass (multi-tile
batching); wider channel shards run as several channel blocks.
"""

from __future__ import annotations

try:  # tt-lang-sim wheel
    from ttl.sim import ttl
except ImportError:  # pragma: no cover - a tt-lang compiler install
    import ttl


def apply_activation(block, activation: str):
    if activation == "relu":
        return ttl.math.relu(block)
    if activation == "relu6":
        return ttl.math.relu_max(block, 6)
    if activation == "silu":
        return ttl.math.silu(block)
    if activation == "gelu":
        return ttl.math.gelu(block)
    return block


def make_compute(args, in_cb, weight_cb, bias_cb, mul_cb, out_cb):
    @ttl.compute()
    def depthwise_pool_compute():
        pp = args.pixels_per_pass
        ctb = args.block_channel_tiles
        in_shape = (pp, args.row_chunks, ctb)
        out_shape = (pp, 1, ctb)
        for block in range(args.channel_blocks):
            with weight_cb.wait() as w_blk:
                w_all = ttl.block.broadcast(w_blk, dims=[0], shape=in_shape)
                if args.has_bias:
                    with bias_cb.wait() as b_blk:
                        b_all = ttl.block.broadcast(b_blk, dims=[0], shape=out_shape)
                        for p in range(args.passes_per_core):
                            with in_cb.wait() as x_blk, mul_cb.reserve() as m_blk:
                                m_blk.store(x_blk * w_all)
                            with mul_cb.wait() as m_blk, out_cb.reserve() as o_blk:
                                acc = ttl.math.reduce_sum(m_blk, dims=[1], shape=out_shape)
                                o_blk.store(apply_activation(acc + b_all, args.activation))
                else:
                    for p in range(args.passes_per_core):
                        with in_cb.wait() as x_blk, mul_cb.reserve() as m_blk:
                            m_blk.store(x_blk * w_all)
                        with mul_cb.wait() as m_blk, out_cb.reserve() as o_blk:
                            acc = ttl.math.reduce_sum(m_blk, dims=[1], shape=out_shape)
                            o_blk.store(apply_activation(acc, args.activation))

    return depthwise_pool_compute
