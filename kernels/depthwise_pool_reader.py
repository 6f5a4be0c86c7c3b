"""Reader (dm0): weight/bias multicast, then the window sticks of every output pixel.

Per core, for every channel block (<= 8 channel tiles: wide reductions run in
blocks instead of one 1024-channel pass) and every pass of `pixels_per_pass`
output pixels:

* the channel shard's sender core reads the block's prepared weight tiles
  (and bias tile) from DRAM and sends them down the shard's pipe, a multicast
  to every core of the shard with loopback (the sender receives its own copy,
  like tt-metal's `noc_async_write_multicast_loopback_src`); every core
  receives them into the weight / bias CB;
* each window stick (input row `window_stick`, a slice of `block_channels`
  channels) is copied into the stick CB and from there into the core's
  input-window L1 area at row (pixel, position); positions over the padding
  get the clear-value stick (zeros), rows past the window were cleared once;
* the window area, read as tiles (rows = window positions, cols = channels),
  becomes one (pixels_per_pass, row_chunks, block_channel_tiles) block of the
  input CB.

The window area is the simulator's stand-in for the unpack-tilize of pool2d's
compute: tt-lang-sim has no tilize, so the bytes the reader wrote stick by
stick are handed over as tiles of the same storage (`window_views`).
"""

from __future__ import annotations

try:  # tt-lang-sim wheel
    from ttl.sim import ttl
except ImportError:  # pragma: no cover - a tt-lang compiler install
    import ttl

from depthwise_pool_common import TILE, pixel_range, window_stick


def window_views(l1_window):
    """Row-major (stick writes) and tiled (compute reads) views of one L1 area."""
    from ttl.sim.ttnnsim import ROW_MAJOR_LAYOUT, TILE_LAYOUT, Tensor

    return Tensor(l1_window, ROW_MAJOR_LAYOUT), Tensor(l1_window, TILE_LAYOUT)


def make_reader(args, x, clear, weights, bias, in_cb, stick_cb, clear_cb,
                weight_stage_cb, weight_cb, bias_stage_cb, bias_cb, weight_net, l1_window):
    @ttl.datamovement()
    def depthwise_pool_reader():
        core = ttl.node(dims=1)
        shard = args.core_shard[core]
        group = args.core_pixel_group[core]
        first, last = pixel_range(args, group)
        window_rows, window_tiles = window_views(l1_window)
        ctb = args.block_channel_tiles
        cb_width = args.block_channels
        rc = args.row_chunks
        rows_per_pixel = rc * TILE

        with clear_cb.reserve() as clear_in:
            tx = ttl.copy(clear[0:cb_width], clear_in)
            tx.wait()
        with clear_cb.wait() as clear_blk:
            # Rows past the window never change: clear them once, as pool2d
            # clears its input CB with the clear-value CB.
            for pix in range(args.pixels_per_pass):
                for row in range(args.window, rows_per_pixel):
                    tx = ttl.copy(clear_blk, window_rows[pix, row, 0:cb_width])
                    tx.wait()

            for block in range(args.channel_blocks):
                ct0 = block * ctb

                def send(pipe):
                    with weight_stage_cb.reserve() as stage:
                        tx = ttl.copy(weights[shard, 0:rc, ct0:ct0 + ctb], stage)
                        tx.wait()
                    with weight_stage_cb.wait() as stage:
                        tx = ttl.copy(stage, pipe)
                        tx.wait()
                    if args.has_bias:
                        with bias_stage_cb.reserve() as stage:
                            tx = ttl.copy(bias[shard, 0:1, ct0:ct0 + ctb], stage)
                            tx.wait()
                        with bias_stage_cb.wait() as stage:
                            tx = ttl.copy(stage, pipe)
                            tx.wait()

                def receive(pipe):
                    with weight_cb.reserve() as w_blk:
                        tx = ttl.copy(pipe, w_blk)
                        tx.wait()
                    if args.has_bias:
                        with bias_cb.reserve() as b_blk:
                            tx = ttl.copy(pipe, b_blk)
                            tx.wait()

                weight_net.if_src(send)
                weight_net.if_dst(receive)

                c0 = shard * args.channels_per_shard + ct0 * TILE
                for p in range(args.passes_per_core):
                    for pix in range(args.pixels_per_pass):
                        pixel = first + p * args.pixels_per_pass + pix
                        for pos in range(args.window):
                            stick = window_stick(args, pixel, pos) if pixel < last else -1
                            if stick < 0:
                                tx = ttl.copy(clear_blk, window_rows[pix, pos, 0:cb_width])
                                tx.wait()
                            else:
                                with stick_cb.reserve() as s_in:
                                    tx = ttl.copy(x[stick, c0:c0 + cb_width], s_in)
                                    tx.wait()
                                with stick_cb.wait() as s_out:
                                    tx = ttl.copy(s_out, window_rows[pix, pos, 0:cb_width])
                                    tx.wait()
                    with in_cb.reserve() as in_blk:
                        tx = ttl.copy(window_tiles[0:args.pixels_per_pass, 0:rc, 0:ctb], in_blk)
                        tx.wait()

    return depthwise_pool_reader
