"""Reader (dm0): weight / bias multicast, then the window planes of every pixel tile.

Per core, for every channel block (at most 4 channel tiles, the float32 tiles DST
holds: program.MAX_TILES_PER_PASS) and every tile of 32 output pixels of its pixel
group:

* the channel shard's sender core reads the block's prepared weight tiles (and
  bias tiles) and sends them down the shard's pipe, a multicast with loopback
  to every core of the shard; every core receives them into the weight / bias
  DFB;
* for every kernel position k, one (1, block_channel_tiles) block of the
  window planes (row j of the tile = the input stick under position k of
  pixel j, zeros over the padding) goes into the input DFB, with the
  selector tile row of k that picks weight row k out of the prepared tiles.

The window planes are gathered on the host: tt-lang 1.1.1 copies whole tiles
only, so a reader cannot move single sticks (see README.md, "Fallbacks").

Written in the tt-lang 1.1.1 compiler's subset (test/device/test_kernel_subset.py
checks it): every value the thread reads is an int, a ttnn tensor, a dataflow
buffer or a pipe net bound by `make_reader`; the core's shard and pixel group
come from its (x = column, y = row) node coordinates.
"""

from __future__ import annotations

import ttl


def make_reader(windows, weights, bias, selectors, in_cb, selector_cb, weight_stage_cb,
                weight_cb, bias_stage_cb, bias_cb, weight_net, bias_net, grid_cols: int,
                num_cores: int, shard_per_col: int, shard_per_core: int, group_per_row: int,
                group_per_core: int, channel_tiles: int, block_channel_tiles: int,
                channel_blocks: int, window: int, row_chunks: int, tiles_per_group: int,
                has_bias: int):
    # Two threads, one per has_bias: a thread captures every name its body reads, and
    # tt-lang allocates every captured buffer and gives every captured pipe net its
    # semaphores, so the bias-free one names no bias buffer, tensor or net (the
    # operation makes none then). The subset has no helper calls: the bodies repeat.
    if has_bias == 1:
        @ttl.datamovement()
        def depthwise_pool_reader():
            x, y = ttl.node(dims=2)
            core = y * grid_cols + x
            if core < num_cores:
                shard = shard_per_col * x + shard_per_core * core
                group = group_per_row * y + group_per_core * core
                for blk in range(channel_blocks):
                    wt0 = blk * block_channel_tiles              # tile column in the shard
                    ct0 = shard * channel_tiles + wt0             # tile column in the tensor
                    wr0 = shard * row_chunks                      # the shard's weight tile rows

                    def send_weights(pipe):
                        with weight_stage_cb.reserve() as stage:
                            tx = ttl.copy(weights[wr0:wr0 + row_chunks, wt0:wt0 + block_channel_tiles],
                                          stage)
                            tx.wait()
                        with weight_stage_cb.wait() as stage:
                            tx = ttl.copy(stage, pipe)
                            tx.wait()

                    def receive_weights(pipe):
                        with weight_cb.reserve() as w_blk:
                            tx = ttl.copy(pipe, w_blk)
                            tx.wait()

                    weight_net.if_src(send_weights)
                    weight_net.if_dst(receive_weights)
                    def send_bias(pipe):
                        with bias_stage_cb.reserve() as stage:
                            tx = ttl.copy(bias[shard:shard + 1, wt0:wt0 + block_channel_tiles],
                                          stage)
                            tx.wait()
                        with bias_stage_cb.wait() as stage:
                            tx = ttl.copy(stage, pipe)
                            tx.wait()

                    def receive_bias(pipe):
                        with bias_cb.reserve() as b_blk:
                            tx = ttl.copy(pipe, b_blk)
                            tx.wait()

                    bias_net.if_src(send_bias)
                    bias_net.if_dst(receive_bias)

                    for t in range(tiles_per_group):
                        plane0 = (group * tiles_per_group + t) * window
                        for k in range(window):
                            with in_cb.reserve() as x_blk:
                                tx = ttl.copy(windows[plane0 + k:plane0 + k + 1,
                                                      ct0:ct0 + block_channel_tiles], x_blk)
                                tx.wait()
                            with selector_cb.reserve() as s_blk:
                                tx = ttl.copy(selectors[k:k + 1, 0:row_chunks], s_blk)
                                tx.wait()
        return depthwise_pool_reader

    @ttl.datamovement()
    def depthwise_pool_reader():
        x, y = ttl.node(dims=2)
        core = y * grid_cols + x
        if core < num_cores:
            shard = shard_per_col * x + shard_per_core * core
            group = group_per_row * y + group_per_core * core
            for blk in range(channel_blocks):
                wt0 = blk * block_channel_tiles              # tile column in the shard
                ct0 = shard * channel_tiles + wt0             # tile column in the tensor
                wr0 = shard * row_chunks                      # the shard's weight tile rows

                def send_weights(pipe):
                    with weight_stage_cb.reserve() as stage:
                        tx = ttl.copy(weights[wr0:wr0 + row_chunks, wt0:wt0 + block_channel_tiles],
                                      stage)
                        tx.wait()
                    with weight_stage_cb.wait() as stage:
                        tx = ttl.copy(stage, pipe)
                        tx.wait()

                def receive_weights(pipe):
                    with weight_cb.reserve() as w_blk:
                        tx = ttl.copy(pipe, w_blk)
                        tx.wait()

                weight_net.if_src(send_weights)
                weight_net.if_dst(receive_weights)

                for t in range(tiles_per_group):
                    plane0 = (group * tiles_per_group + t) * window
                    for k in range(window):
                        with in_cb.reserve() as x_blk:
                            tx = ttl.copy(windows[plane0 + k:plane0 + k + 1,
                                                  ct0:ct0 + block_channel_tiles], x_blk)
                            tx.wait()
                        with selector_cb.reserve() as s_blk:
                            tx = ttl.copy(selectors[k:k + 1, 0:row_chunks], s_blk)
                            tx.wait()

    return depthwise_pool_reader
