"""Writer (dm1): every pass's reduced rows back to the core's output shard.

The output is kept as one tile row per pixel (row 0 holds the result, as the
row reduction leaves it); the host reads row 0. Pixel groups are padded to
whole passes, like a sharded output padded to its shard height.
"""

from __future__ import annotations

try:  # tt-lang-sim wheel
    from ttl.sim import ttl
except ImportError:  # pragma: no cover - a tt-lang compiler install
    import ttl

from depthwise_pool_common import output_row


def make_writer(args, out, out_cb):
    @ttl.datamovement()
    def depthwise_pool_writer():
        core = ttl.node(dims=1)
        shard = args.core_shard[core]
        group = args.core_pixel_group[core]
        ctb = args.block_channel_tiles
        pp = args.pixels_per_pass
        for block in range(args.channel_blocks):
            ct0 = shard * args.channel_tiles + block * ctb
            for p in range(args.passes_per_core):
                row0 = output_row(args, group, p * pp)
                with out_cb.wait() as o_blk:
                    tx = ttl.copy(o_blk, out[row0:row0 + pp, 0:1, ct0:ct0 + ctb])
                    tx.wait()

    return depthwise_pool_writer
