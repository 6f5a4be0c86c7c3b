"""KernelProgram: the pool2d kernel program that runs one `ttnn.depthwise_pool_conv`.

A plan in the shape of tt-metal's pool2d program factory
(ttnn/cpp/ttnn/operations/pool/generic/device/pool_multi_core_program_factory.cpp):
three kernels (reader / compute / writer), their compile-time arguments, the
circular buffers with page sizes and counts, the cores per channel shard and
the weight-multicast sender / receivers of every shard. `plan_program` picks
the first sharding candidate whose CBs fit L1; `to_attributes` /
`from_attributes` is the nested record the MLIR op stores.

Circular buffers (per core; `Pp` pixels per pass, `RC` row chunks,
`CTb` channel tiles per pass):

=====  ============  =========================================  ==========
 id    name          page                                       pages
=====  ============  =========================================  ==========
  0    in            Pp*RC*CTb input tiles (window rows x ch)   2 (double buffer)
  1    stick         one input stick of CTb*32 bf16             2
  2    clear_value   one stick of the clear value (zeros)       1
  3    weight_stage  RC*CTb weight tiles (sender's DRAM read)   1
  4    weight        RC*CTb weight tiles (multicast target)     1, 2 if channel blocks > 1
  5    bias_stage    CTb bias tiles                             1 (bias only)
  6    bias          CTb bias tiles                             1 / 2 (bias only)
  7    in_window     Pp*RC*R sticks: the window rows            1
 16    out           Pp*CTb output tiles                        2
 24    mul           Pp*RC*CTb product tiles                    1
 30    in_shard      the core's input sticks incl. halo (L1)    1
 31    out_shard     the core's output sticks (L1)              1
=====  ============  =========================================  ==========

The input CB grows with the kernel: RC = ceil(kH*kW / R) with R = 16 rows
for windows up to 16 positions and 32 beyond. A 16-row window tile is a
partial tile of two faces (half a tile's bytes, as pool2d sizes its input CB
for kernels up to 16 positions), so 3x3 takes half tiles, 5x5 (25) a full
32-row tile, i.e. twice the input / mul CB, and 7x7 (49) two full tiles.
More than 256 channels per core (a wide reduction) is run as several channel
blocks of at most 8 tiles (tt-metal's MAX_TILES_PER_REDUCTION), never as one
oversized pass. CB page counts are the `block_count`s the kernels in kernels/
give their dataflow buffers (see kernels/README.md for the simulator mapping).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .conv_config import ACTIVATIONS, TILE, DepthwiseConv
from .layout import WeightLayout, make_layout
from .sharding import (Device, Refusal, Sharding, candidates, choose_sharding, get_device,
                       scheme_splits)

# Paths inside the tt_dw_mlir package (tt_dw_mlir.kernels.kernel_file finds them)
KERNELS = {
    "reader": "kernels/depthwise_pool_reader.py",
    "compute": "kernels/depthwise_pool_compute.py",
    "writer": "kernels/depthwise_pool_writer.py",
}
MAX_TILES_PER_PASS = 8  # pool2d MAX_TILES_PER_REDUCTION; also the DST tiles of one pass
MAX_PIXELS_PER_PASS = 8
STICK_BYTES_PER_VALUE = 2  # row-major sticks are bf16 (block float needs tiles) or f16 ...
STICK_BYTES = {"f32": 4}     # ... or f32: an f32 conv keeps f32 activations end to end

# Bytes of one 32x32 tile: bf16 2048; bfp8_b 1024 mantissas + 64 exponents;
# bfp4_b 512 + 64 (tt-metal tt_metal/common/tile.hpp / tt_backend_api_types).
TILE_BYTES = {"bf16": 2048, "bfp8_b": 1088, "bfp4_b": 576, "f32": 4096, "f16": 2048}
CB_IDS = {"in": 0, "stick": 1, "clear_value": 2, "weight_stage": 3, "weight": 4,
          "bias_stage": 5, "bias": 6, "in_window": 7, "out": 16, "mul": 24,
          "in_shard": 30, "out_shard": 31}
ACTIVATION_CODES = {name: i for i, name in enumerate(ACTIVATIONS)}


@dataclass(frozen=True)
class CircularBuffer:
    id: int
    name: str
    page_size: int   # bytes
    num_pages: int
    dtype: str

    @property
    def total_bytes(self) -> int:
        return self.page_size * self.num_pages


@dataclass(frozen=True)
class WeightMulticast:
    """One pipe: sender core -> rectangle of receiver cores (inclusive (row, col) corners)."""

    shard: int
    sender: tuple[int, int]                       # (row, col)
    receivers: tuple[tuple[int, int], tuple[int, int]]  # ((row0, col0), (row1, col1)) inclusive


@dataclass(frozen=True)
class KernelProgram:
    conv: DepthwiseConv
    sharding: Sharding
    layout: WeightLayout
    device: Device
    pixels_per_pass: int
    block_channel_tiles: int
    kernels: tuple[tuple[str, str], ...] = tuple(KERNELS.items())
    circular_buffers: tuple[CircularBuffer, ...] = field(default=())
    multicast: tuple[WeightMulticast, ...] = field(default=())
    # The reference backend's weights unlaid from the prepared tensors run with this
    # program (runtime/reference.py): owned here so they live as long as the program.
    reference_cache: dict = field(default_factory=dict, init=False, repr=False,
                                  compare=False)

    # ---- derived plan ----
    @property
    def channel_blocks(self) -> int:
        return self.layout.channel_tiles // self.block_channel_tiles

    @property
    def passes_per_core(self) -> int:
        return -(-self.sharding.pixels_per_core // self.pixels_per_pass)

    @property
    def tiles_per_pass(self) -> int:
        return self.pixels_per_pass * self.layout.row_chunks * self.block_channel_tiles

    @property
    def grid(self) -> tuple[int, int]:
        return tuple(self.sharding.grid)

    def cb(self, name: str) -> CircularBuffer | None:
        return next((c for c in self.circular_buffers if c.name == name), None)

    def cores(self) -> list[tuple[int, int]]:
        """(row, col) of every core in use, row-major."""
        rows, cols = self.grid
        return [divmod(i, cols) for i in range(self.sharding.num_cores)][: rows * cols]

    def core_ranges(self) -> list[list[int]]:
        """Inclusive [x0, y0, x1, y1] rectangles of the cores in use (x = column)."""
        return [[x0, y0, x1, y1] for (x0, y0), (x1, y1) in self.sharding.core_ranges]

    def core_shard(self, row: int, col: int) -> int:
        scheme, cols = self.sharding.scheme, self.grid[1]
        if scheme == "width_sharded":
            return row * cols + col
        if scheme == "block_sharded":
            return col
        return 0

    def core_pixel_group(self, row: int, col: int) -> int:
        scheme, cols = self.sharding.scheme, self.grid[1]
        if scheme == "height_sharded":
            return row * cols + col
        if scheme == "block_sharded":
            return row
        return 0

    def shard_cores(self, shard: int) -> list[tuple[int, int]]:
        return [rc for rc in self.cores() if self.core_shard(*rc) == shard]

    def compile_args(self) -> dict[str, dict[str, int]]:
        """Compile-time arguments per kernel (ints, as tt-metal passes them)."""
        conv, lay = self.conv, self.layout
        pt, _, pl, _ = conv.padding
        cb = CB_IDS
        bias_tiles = self.block_channel_tiles if conv.has_bias else 0
        common = {
            "num_shards": lay.num_shards, "channels_per_shard": lay.channels_per_shard,
            "window_size": conv.window, "rows_per_tile": lay.rows_per_tile,
            "row_chunks": lay.row_chunks, "block_channel_tiles": self.block_channel_tiles,
            "channel_blocks": self.channel_blocks, "pixels_per_pass": self.pixels_per_pass,
            "passes_per_core": self.passes_per_core, "has_bias": int(conv.has_bias),
            "bias_ntiles": bias_tiles,
        }
        reader = dict(common, in_cb_id=cb["in"], stick_cb_id=cb["stick"],
                      clear_value_cb_id=cb["clear_value"], weight_stage_cb_id=cb["weight_stage"],
                      weight_cb_id=cb["weight"], bias_stage_cb_id=cb["bias_stage"],
                      bias_cb_id=cb["bias"], in_window_cb_id=cb["in_window"],
                      in_h=conv.in_h, in_w=conv.in_w, kernel_h=conv.kernel[0],
                      kernel_w=conv.kernel[1], stride_h=conv.stride[0], stride_w=conv.stride[1],
                      dilation_h=conv.dilation[0], dilation_w=conv.dilation[1],
                      pad_top=pt, pad_left=pl, out_h=conv.out_h, out_w=conv.out_w,
                      pixels_per_core=self.sharding.pixels_per_core)
        compute = dict(common, in_cb_id=cb["in"], weight_cb_id=cb["weight"], mul_cb_id=cb["mul"],
                       bias_cb_id=cb["bias"], out_cb_id=cb["out"],
                       tiles_per_pass=self.tiles_per_pass,
                       activation=ACTIVATION_CODES[conv.activation])
        writer = dict(common, out_cb_id=cb["out"], out_w=conv.out_w,
                      pixels_per_core=self.sharding.pixels_per_core)
        return {"reader": reader, "compute": compute, "writer": writer}

    def kernel_args(self) -> dict[str, Any]:
        """What `tt_dw_mlir/kernels/depthwise_pool_op.py:build_operation` builds the TT-Lang
        operation from: ints (tt-lang 1.1.1 threads capture nothing else), plus the weight
        pipes as (sender x, sender y, x0, x1, y0, y1) with x = column, y = row and
        half-open receiver ranges that include the sender (multicast with loopback).

        A core at (x, y) is linear core y * grid_cols + x; its channel shard is
        shard_per_col * x + shard_per_core * core and its pixel group
        group_per_row * y + group_per_core * core (the `core_shard` /
        `core_pixel_group` maps of the sharding scheme)."""
        conv, lay, sh = self.conv, self.layout, self.sharding
        rows, cols = self.grid
        block, width, height = (sh.scheme == s for s in ("block_sharded", "width_sharded",
                                                         "height_sharded"))
        weight_pages = self.cb("weight").num_pages if self.cb("weight") else 1
        in_pages = self.cb("in").num_pages if self.cb("in") else 2
        return {
            "grid_cols": cols, "grid_rows": rows, "num_cores": sh.num_cores,
            "shard_per_col": int(block), "shard_per_core": int(width),
            "group_per_row": int(block), "group_per_core": int(height),
            "num_shards": lay.num_shards, "channel_tiles": lay.channel_tiles,
            "block_channel_tiles": self.block_channel_tiles, "channel_blocks": self.channel_blocks,
            "window": conv.window, "rows_per_tile": lay.rows_per_tile, "row_chunks": lay.row_chunks,
            "tiles_per_group": -(-sh.pixels_per_core // TILE),
            "has_bias": int(conv.has_bias), "activation": ACTIVATION_CODES[conv.activation],
            "in_blocks": in_pages, "weight_blocks": weight_pages,
            "weight_pipes": tuple((m.sender[1], m.sender[0], m.receivers[0][1],
                                   m.receivers[1][1] + 1, m.receivers[0][0], m.receivers[1][0] + 1)
                                  for m in self.multicast),
        }

    # ---- L1 and checks ----
    def l1_bytes_per_core(self) -> int:
        return sum(c.total_bytes for c in self.circular_buffers)

    def l1_budget(self) -> int:
        return self.device.l1_usable_bytes

    def verify(self) -> list[str]:
        """Problems with the plan (empty = consistent): CB sizes vs L1, args vs the op."""
        problems: list[str] = []
        conv, lay, sh = self.conv, self.layout, self.sharding
        budget = self.l1_budget()
        used = self.l1_bytes_per_core()
        if used > budget:
            problems.append(f"circular buffers need {used} B of L1 per core, {self.device.name} has "
                            f"{budget} B usable")
        if sh.grid[0] > self.device.rows or sh.grid[1] > self.device.cols:
            problems.append(f"grid {sh.grid[0]}x{sh.grid[1]} exceeds {self.device.name}'s "
                            f"{self.device.rows}x{self.device.cols}")
        for c in self.circular_buffers:
            if c.page_size <= 0 or c.num_pages <= 0:
                problems.append(f"CB {c.id} '{c.name}' has {c.num_pages} pages of {c.page_size} B")
        ids = [c.id for c in self.circular_buffers]
        if len(set(ids)) != len(ids):
            problems.append(f"duplicate CB ids {sorted(ids)}")
        needed = {"in", "stick", "clear_value", "weight_stage", "weight", "in_window", "out", "mul"}
        if conv.has_bias:
            needed |= {"bias_stage", "bias"}
        missing = needed - {c.name for c in self.circular_buffers}
        if missing:
            problems.append(f"missing CBs: {', '.join(sorted(missing))}")
        if (lay.num_shards, lay.channels_per_shard, lay.scheme) != (
                sh.num_shards, sh.channels_per_shard, sh.scheme):
            problems.append(f"layout {lay.scheme} {lay.num_shards}x{lay.channels_per_shard} does not "
                            f"match sharding {sh.scheme} {sh.num_shards}x{sh.channels_per_shard}")
        if tuple(lay.kernel) != tuple(conv.kernel) or lay.dtype != conv.weight_dtype:
            problems.append(f"layout kernel {lay.kernel}/{lay.dtype} does not match conv "
                            f"{conv.kernel}/{conv.weight_dtype}")
        if lay.padded_channels < conv.channels:
            problems.append(f"{lay.padded_channels} laid-out channels < {conv.channels}")
        if self.block_channel_tiles < 1 or lay.channel_tiles % self.block_channel_tiles:
            problems.append(f"{self.block_channel_tiles} channel tiles per pass do not divide "
                            f"{lay.channel_tiles}")
        if self.pixels_per_pass * self.block_channel_tiles > MAX_TILES_PER_PASS:
            problems.append(f"{self.pixels_per_pass} pixels x {self.block_channel_tiles} channel tiles "
                            f"per pass exceed the {MAX_TILES_PER_PASS} output tiles of one pass (DST)")
        if self.block_channel_tiles > MAX_TILES_PER_PASS:
            problems.append(f"{self.block_channel_tiles} channel tiles per pass exceed "
                            f"{MAX_TILES_PER_PASS}")
        if self.pixels_per_pass < 1 or self.pixels_per_pass > max(1, sh.pixels_per_core):
            problems.append(f"{self.pixels_per_pass} pixels per pass for {sh.pixels_per_core} per core")
        groups = scheme_splits(sh.scheme, sh.grid, sh.num_cores)[1]
        if sh.pixels_per_core * groups < conv.output_pixels:
            problems.append(f"{groups} x {sh.pixels_per_core} pixels do not cover "
                            f"{conv.output_pixels} output pixels")
        args = self.compile_args()
        if args["compute"]["window_size"] != conv.window:
            problems.append("compute window size does not match the kernel")
        if bool(args["compute"]["has_bias"]) != conv.has_bias:
            problems.append("has_bias does not match the op")
        for shard in range(lay.num_shards):
            want = set(self.shard_cores(shard))
            got: list[tuple[int, int]] = []
            for m in self.multicast:
                if m.shard != shard:
                    continue
                if m.sender not in want:
                    problems.append(f"shard {shard} sender {m.sender} is not one of its cores")
                (r0, c0), (r1, c1) = m.receivers
                got += [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
            if sorted(got) != sorted(want):
                problems.append(f"shard {shard} multicast reaches {sorted(got)}, its cores are "
                                f"{sorted(want)}")
        from .kernels import kernel_file

        for role, path in self.kernels:
            if not kernel_file(path).is_file():
                problems.append(f"{role} kernel {path} not found")
        return problems

    # ---- attribute form ----
    def to_attributes(self) -> dict[str, Any]:
        """The program as the `program` attribute of `ttnn.depthwise_pool_program` stores it.

        The conv, the weight layout and the core grid are the op's own attributes
        and are not repeated here; `from_attributes` takes them back from the op.
        """
        dev = self.device
        return {
            "device": {"name": dev.name, "arch": dev.arch, "grid": list(dev.grid),
                       "l1_bytes": dev.l1_bytes, "l1_unreserved_base": dev.l1_unreserved_base,
                       "num_dram_channels": dev.num_dram_channels},
            "pixels_per_core": self.sharding.pixels_per_core,
            "pixels_per_pass": self.pixels_per_pass,
            "block_channel_tiles": self.block_channel_tiles,
            "kernels": [{"name": role, "path": path, "compile_args": self.compile_args()[role]}
                        for role, path in self.kernels],
            "circular_buffers": [{"id": c.id, "name": c.name, "page_size": c.page_size,
                                  "num_pages": c.num_pages, "dtype": c.dtype}
                                 for c in self.circular_buffers],
            "core_ranges": self.core_ranges(),
            "weight_multicast": [{"shard": m.shard, "sender": list(m.sender),
                                  "receivers": [*m.receivers[0], *m.receivers[1]]}
                                 for m in self.multicast],
            "l1_bytes_per_core": self.l1_bytes_per_core(),
        }

    @staticmethod
    def from_attributes(d: dict[str, Any], conv: DepthwiseConv, sharding: Sharding,
                        layout: WeightLayout) -> "KernelProgram":
        """Inverse of `to_attributes`, given the op's conv, sharding and layout.

        Raises ValueError when the stored plan disagrees with what they imply
        (pixels per core, compile-time arguments, L1 total).
        """
        dv = d["device"]
        device = Device(dv["name"], dv["arch"], tuple(dv["grid"]), dv["l1_bytes"],
                        dv["l1_unreserved_base"], dv["num_dram_channels"])
        if d["pixels_per_core"] != sharding.pixels_per_core:
            raise ValueError(f"pixels_per_core {d['pixels_per_core']} does not match the sharding's "
                             f"{sharding.pixels_per_core}")
        cbs = tuple(CircularBuffer(c["id"], c["name"], c["page_size"], c["num_pages"], c["dtype"])
                    for c in d["circular_buffers"])
        mcast = tuple(WeightMulticast(m["shard"], tuple(m["sender"]),
                                      (tuple(m["receivers"][:2]), tuple(m["receivers"][2:])))
                      for m in d["weight_multicast"])
        kernels = tuple((k["name"], k["path"]) for k in d["kernels"])
        program = KernelProgram(conv, sharding, layout, device, d["pixels_per_pass"],
                                d["block_channel_tiles"], kernels, cbs, mcast)
        stored = {k["name"]: k["compile_args"] for k in d["kernels"]}
        rebuilt = program.compile_args()
        if stored != rebuilt:
            diff = sorted(f"{role}.{key}" for role in set(stored) | set(rebuilt)
                          for key in set(stored.get(role, {})) | set(rebuilt.get(role, {}))
                          if stored.get(role, {}).get(key) != rebuilt.get(role, {}).get(key))
            raise ValueError(f"compile-time arguments do not match the plan: {', '.join(diff)}")
        if d["l1_bytes_per_core"] != program.l1_bytes_per_core():
            raise ValueError(f"l1_bytes_per_core {d['l1_bytes_per_core']} does not match the circular "
                             f"buffers ({program.l1_bytes_per_core()} B)")
        return program

    def cache_key(self) -> str:
        """Everything that changes the program, as one string (see ProgramCache)."""
        whole = {"conv": asdict(self.conv), "layout": asdict(self.layout),
                 "sharding": {f.name: getattr(self.sharding, f.name) for f in fields(self.sharding)
                              if f.compare},
                 "program": self.to_attributes()}
        return json.dumps(whole, sort_keys=True, default=list)


# ---- planning ----

def _input_sticks_per_core(conv: DepthwiseConv, sharding: Sharding) -> int:
    """Input sticks (with halo) behind one core's output pixels, for the L1 input shard."""
    total = conv.batch * conv.in_h * conv.in_w
    if sharding.scheme == "width_sharded":
        return total
    out_rows = min(-(-sharding.pixels_per_core // conv.out_w) + 1, conv.batch * conv.out_h)
    rows = (out_rows - 1) * conv.stride[0] + conv.dilation[0] * (conv.kernel[0] - 1) + 1
    return min(total, rows * conv.in_w)


def _block_channel_tiles(channel_tiles: int) -> int:
    return max(d for d in range(1, min(channel_tiles, MAX_TILES_PER_PASS) + 1)
               if channel_tiles % d == 0)


def _circular_buffers(conv: DepthwiseConv, sharding: Sharding, layout: WeightLayout,
                      pixels_per_pass: int, block_tiles: int) -> tuple[CircularBuffer, ...]:
    act_tile, w_tile = TILE_BYTES[conv.dtype], TILE_BYTES[conv.weight_dtype]
    rc, rows = layout.row_chunks, layout.rows_per_tile
    window_tile = act_tile * rows // TILE  # a 16-row window tile is 2 of 4 faces
    channel_blocks = layout.channel_tiles // block_tiles
    # Row-major sticks hold activations in the conv's dtype (bf16 for block-float activations).
    stick_dtype = conv.dtype if conv.dtype in ("f32", "f16") else "bf16"
    stick_value = STICK_BYTES.get(stick_dtype, STICK_BYTES_PER_VALUE)
    stick = block_tiles * TILE * stick_value
    weight_pages = 2 if channel_blocks > 1 else 1
    cbs = [
        CircularBuffer(CB_IDS["in"], "in", pixels_per_pass * rc * block_tiles * window_tile, 2,
                       conv.dtype),
        CircularBuffer(CB_IDS["stick"], "stick", stick, 2, stick_dtype),
        CircularBuffer(CB_IDS["clear_value"], "clear_value", stick, 1, stick_dtype),
        CircularBuffer(CB_IDS["weight_stage"], "weight_stage", rc * block_tiles * w_tile, 1,
                       conv.weight_dtype),
        CircularBuffer(CB_IDS["weight"], "weight", rc * block_tiles * w_tile, weight_pages,
                       conv.weight_dtype),
    ]
    if conv.has_bias:
        cbs += [
            CircularBuffer(CB_IDS["bias_stage"], "bias_stage", block_tiles * w_tile, 1,
                           conv.weight_dtype),
            CircularBuffer(CB_IDS["bias"], "bias", block_tiles * w_tile, weight_pages,
                           conv.weight_dtype),
        ]
    cbs += [
        CircularBuffer(CB_IDS["in_window"], "in_window",
                       pixels_per_pass * rc * rows * stick, 1, stick_dtype),
        CircularBuffer(CB_IDS["out"], "out", pixels_per_pass * block_tiles * act_tile, 2, conv.dtype),
        CircularBuffer(CB_IDS["mul"], "mul", pixels_per_pass * rc * block_tiles * window_tile, 1,
                       conv.dtype),
        CircularBuffer(CB_IDS["in_shard"], "in_shard",
                       layout.channels_per_shard * stick_value,
                       _input_sticks_per_core(conv, sharding), stick_dtype),
        CircularBuffer(CB_IDS["out_shard"], "out_shard",
                       layout.channels_per_shard * stick_value,
                       sharding.pixels_per_core, stick_dtype),
    ]
    return tuple(cbs)


def _multicast(program: KernelProgram) -> tuple[WeightMulticast, ...]:
    """Per shard: first core sends; receivers are rectangles covering the shard's cores
    (a shard that fills rows then a partial row needs two)."""
    out = []
    for shard in range(program.layout.num_shards):
        cores = program.shard_cores(shard)
        if not cores:
            continue
        by_row: dict[int, list[int]] = {}
        for r, c in cores:
            by_row.setdefault(r, []).append(c)
        rects: list[list[int]] = []  # [r0, r1, c0, c1]
        for r in sorted(by_row):
            c0, c1 = min(by_row[r]), max(by_row[r])
            if rects and rects[-1][1] == r - 1 and rects[-1][2:] == [c0, c1]:
                rects[-1][1] = r
            else:
                rects.append([r, r, c0, c1])
        for r0, r1, c0, c1 in rects:
            out.append(WeightMulticast(shard, cores[0], ((r0, c0), (r1, c1))))
    return tuple(out)


def _program(conv: DepthwiseConv, sharding: Sharding, device: Device, layout: WeightLayout,
             pixels_per_pass: int) -> KernelProgram:
    block_tiles = _block_channel_tiles(layout.channel_tiles)
    cbs = _circular_buffers(conv, sharding, layout, pixels_per_pass, block_tiles)
    program = KernelProgram(conv, sharding, layout, device, pixels_per_pass, block_tiles,
                            circular_buffers=cbs)
    return replace(program, multicast=_multicast(program))


def build_program(conv: DepthwiseConv, sharding: Sharding, device: str | Device,
                  pixels_per_pass: int | None = None) -> KernelProgram:
    """The program for one sharding. Without `pixels_per_pass`, the most pixels per pass
    (at most 8, and at most 8 output tiles) whose CBs fit L1, down to 1; a plan that does
    not fit even then is returned as it is and `verify()` names the L1 overflow.
    `plan_program` and the lowering pass both come here, so they agree on the plan."""
    device = get_device(device)
    layout = make_layout(conv, sharding.scheme, sharding.num_shards)
    if pixels_per_pass is not None:
        return _program(conv, sharding, device, layout, pixels_per_pass)
    block_tiles = _block_channel_tiles(layout.channel_tiles)
    pp = max(1, min(MAX_PIXELS_PER_PASS, MAX_TILES_PER_PASS // block_tiles,
                    sharding.pixels_per_core))
    while True:
        program = _program(conv, sharding, device, layout, pp)
        if pp == 1 or program.l1_bytes_per_core() <= device.l1_usable_bytes:
            return program
        pp -= 1


def plan_program(conv: DepthwiseConv, device: str | Device,
                 scheme: str | None = None) -> KernelProgram | Refusal:
    """First sharding candidate whose CBs fit L1 (with the most pixels per pass that fit).
    Splits of at most 256 channels per core come first; wider ones run as channel blocks.
    Otherwise a Refusal naming the limit and the numbers."""
    device = get_device(device)
    narrow = candidates(conv, device, scheme)
    wide = [s for s in candidates(conv, device, scheme, allow_wide_reduction=True)
            if s.wide_reduction]
    if not narrow and not wide:
        refusal = choose_sharding(conv, device, scheme)
        return refusal if isinstance(refusal, Refusal) else Refusal(
            "grid", f"no sharding of {conv.channels} channels fits {device.name}")
    best: KernelProgram | None = None
    for sharding in narrow + wide:
        program = build_program(conv, sharding, device)
        if program.l1_bytes_per_core() <= device.l1_usable_bytes:
            return program
        if best is None or program.l1_bytes_per_core() < best.l1_bytes_per_core():
            best = program
    assert best is not None
    biggest = max(best.circular_buffers, key=lambda c: c.total_bytes)
    return Refusal(
        "l1",
        f"no sharding fits L1: the smallest plan ({best.sharding.scheme}, grid "
        f"{best.sharding.grid[0]}x{best.sharding.grid[1]}, {best.layout.channels_per_shard} channels "
        f"and {best.sharding.pixels_per_core} pixels per core, 1 pixel per pass) needs "
        f"{best.l1_bytes_per_core()} B of L1 per core, {device.name} has "
        f"{device.l1_usable_bytes} B usable; largest CB '{biggest.name}' "
        f"{biggest.num_pages} x {biggest.page_size} B")


class ProgramCache:
    """Compiled programs keyed on `KernelProgram.cache_key()` (every attribute that
    changes the program: conv shape, dtypes, bias, activation, sharding, layout, CBs,
    device). Weights and inputs are run-time arguments and never part of an entry."""

    def __init__(self) -> None:
        self._entries: dict[str, Any] = {}
        self.hits = 0
        self.misses = 0

    def get_or_build(self, program: KernelProgram, build) -> Any:
        key = program.cache_key()
        if key in self._entries:
            self.hits += 1
            return self._entries[key]
        self.misses += 1
        value = self._entries[key] = build(program)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self.hits = self.misses = 0
