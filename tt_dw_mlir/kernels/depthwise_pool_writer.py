"""Writer (dm1): every output tile back to the output tensor, one row (stick) per pixel.

An output tile holds 32 pixels of the core's pixel group on its rows and
block_channel_tiles x 32 channels: row j is pixel j's output stick. Pixel
groups are padded to whole tiles, like a sharded output padded to its shard
height; the host drops the padding rows.
"""

from __future__ import annotations

import ttl


def make_writer(out, out_cb, grid_cols: int, num_cores: int, shard_per_col: int,
                shard_per_core: int, group_per_row: int, group_per_core: int,
                channel_tiles: int, block_channel_tiles: int, channel_blocks: int,
                tiles_per_group: int):
    @ttl.datamovement()
    def depthwise_pool_writer():
        x, y = ttl.node(dims=2)
        core = y * grid_cols + x
        if core < num_cores:
            shard = shard_per_col * x + shard_per_core * core
            group = group_per_row * y + group_per_core * core
            for blk in range(channel_blocks):
                ct0 = shard * channel_tiles + blk * block_channel_tiles
                for t in range(tiles_per_group):
                    row = group * tiles_per_group + t
                    with out_cb.wait() as o:
                        tx = ttl.copy(o, out[row:row + 1, ct0:ct0 + block_channel_tiles])
                        tx.wait()

    return depthwise_pool_writer
