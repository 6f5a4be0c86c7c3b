"""Compile-time arguments and per-core work split shared by the three kernels.

`KernelArgs` is what `tt_dw_mlir.program.KernelProgram.kernel_args()` produces:
plain ints / strings / tuples, so the simulator can deep-copy it per core.
Cores are addressed (row, col) on a `(grid_rows, grid_cols)` grid; the linear
node id is `row * grid_cols + col` (tt-lang-sim's `flatten_node_index`).
"""

from __future__ import annotations

from dataclasses import dataclass

TILE = 32


@dataclass(frozen=True)
class KernelArgs:
    # conv (NHWC input sticks of `stick_channels` = num_shards * channels_per_shard values)
    batch: int
    in_h: int
    in_w: int
    out_h: int
    out_w: int
    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_top: int
    pad_left: int
    stick_channels: int
    # grid and channel shards
    grid_rows: int
    grid_cols: int
    num_shards: int
    channels_per_shard: int
    channel_tiles: int          # Cs // 32
    block_channel_tiles: int    # channel tiles per compute pass (<= 8: 256 channels)
    channel_blocks: int         # channel_tiles // block_channel_tiles
    # window tiles (the prepared weight layout)
    window: int                 # kH * kW
    rows_per_tile: int          # 16 or 32
    row_chunks: int
    # pixels
    pixels_per_core: int
    pixels_per_pass: int        # output pixels batched in one compute pass
    passes_per_core: int
    has_bias: bool
    activation: str
    core_shard: tuple[int, ...]         # per linear core: its channel shard
    core_pixel_group: tuple[int, ...]   # per linear core: which pixels_per_core slice
    # weight multicast pipes: (sender row, sender col, row0, row1, col0, col1), half-open
    # receiver rectangle that includes the sender (loopback)
    weight_pipes: tuple[tuple[int, int, int, int, int, int], ...]
    cb_blocks: tuple[tuple[str, int], ...] = ()  # CB name -> blocks (pages of one wait/reserve)

    def blocks(self, cb_name: str, default: int = 2) -> int:
        return dict(self.cb_blocks).get(cb_name, default)

    @property
    def num_cores(self) -> int:
        return self.grid_rows * self.grid_cols

    @property
    def output_pixels(self) -> int:
        return self.batch * self.out_h * self.out_w

    @property
    def block_channels(self) -> int:
        return self.block_channel_tiles * TILE

    @property
    def pixel_groups(self) -> int:
        return max(self.core_pixel_group) + 1

    @property
    def output_rows(self) -> int:
        """Rows of the sim output: every pixel group padded to whole passes."""
        return self.pixel_groups * self.passes_per_core * self.pixels_per_pass


def pixel_range(a: KernelArgs, group: int) -> tuple[int, int]:
    start = group * a.pixels_per_core
    return start, min(start + a.pixels_per_core, a.output_pixels)


def window_stick(a: KernelArgs, pixel: int, position: int) -> int:
    """Input stick (row of the flattened NHWC input) under window `position` of
    output `pixel`, or -1 where the window hangs over the padding."""
    n, rest = divmod(pixel, a.out_h * a.out_w)
    oh, ow = divmod(rest, a.out_w)
    kh, kw = divmod(position, a.kernel_w)
    ih = oh * a.stride_h - a.pad_top + kh * a.dilation_h
    iw = ow * a.stride_w - a.pad_left + kw * a.dilation_w
    if ih < 0 or ih >= a.in_h or iw < 0 or iw >= a.in_w:
        return -1
    return (n * a.in_h + ih) * a.in_w + iw


def output_row(a: KernelArgs, group: int, local_pixel: int) -> int:
    return group * a.passes_per_core * a.pixels_per_pass + local_pixel
