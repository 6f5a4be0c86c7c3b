"""KernelProgram: the pool2d kernel program that runs one `ttnn.depthwise_pool_conv`.

A plan in the shape of tt-metal's pool2d program factory
(ttnn/cpp/ttnn/operations/pool/generic/device/pool_multi_core_program_factory.cpp):
three kernels (reader / compute / writer), their compile-time arguments, the
circular buffers with page sizes and counts, the cores per channel shard and
the weight-multicast sender / receivers of every shard. `plan_program` picks
the first sharding candidate whose circular buffers and L1 shards fit L1;
`to_attributes` /
`from_attributes` is the nested record the MLIR op stores.

Circular buffers are the dataflow buffers of the kernels in kernels/, declared
once here (`dataflow_buffers`, in the order the operation creates them) and
read by both sides: `kernels/depthwise_pool_op.py` makes one
`ttl.make_dataflow_buffer_like(operand, shape=(rows, cols), block_count=n)`
per entry, and `circular_buffers` turns each into the circular buffer the
TT-Lang compiler allocates for it (tt-lang 1.1.1 `ttl/kernel_runner.py`,
`build_cb_descriptors`): buffer index = creation order, one page per tile of
the operand's data format, rows * cols * block_count pages. Per core
(`CTb` channel tiles per block, `RC` row chunks of the weight tiles):

=====  ============  ==========  ==============  ======  =====================================
 id    name          like        block (tiles)   blocks  holds
=====  ============  ==========  ==============  ======  =====================================
  0    in            windows     1 x CTb         2       window plane of one kernel position
  1    selector      selectors   1 x RC          2       the position's selector tile row (f32)
  2    weight_stage  weights     RC x CTb        1       sender's DRAM read of a weight block
  3    weight        weights     RC x CTb        1 / 2   the multicast weight block
  4    bias_stage    bias        1 x CTb         1       sender's DRAM read of the bias
  5    bias          bias        1 x CTb         1 / 2   the multicast bias
  6    acc           selectors   1 x CTb         2       window sum of 32 pixels (f32)
  7    out           out         1 x CTb         2       + bias, activation: 32 output sticks
=====  ============  ==========  ==============  ======  =====================================

The selectors are float32 (their 0s and 1s are exact in any format) so that `acc`,
made like them, holds float32: tt-lang gives a dataflow buffer the data format of
the tensor it is made like (1.1.1 `kernel_runner.build_cb_descriptors`: the
tensor's dtype, page = `dtype_utils.tile_bytes_from_dtype`, 4096 B for FLOAT32),
and `acc += ...` is packer L1 accumulation into that buffer, so the window
positions are added in float32, as tt-lang-sim and the reference add them. Made
like `out` it would hold the activations' format (bf16, even bfp8_b) and round
every partial sum. No other tensor is float32, so `acc` names the selectors, and
the selectors are at least CTb tiles wide (`selector_width`; columns past RC are
zeros, never read): tt-lang-sim 1.1.6 refuses a DFB whose block is larger than
the tensor it is made like (ttl/sim/dfb.py); the TT-Lang specification and the
1.1.1 compiler take only the data format from it.

`weight` and `bias` take a second block when there are several channel
blocks (the next block's weights arrive while this one is computed). Without
a bias there are no `bias_stage` / `bias` buffers (the ids close up: `acc` 4,
`out` 5) and no bias pipe net: the reader and compute factories then build
threads that name neither (tt-lang allocates every buffer a thread captures and
gives every captured pipe net two semaphores). A block holds at most the tiles DST
holds with float32 accumulation (4, `MAX_TILES_PER_PASS`): more channel tiles per core
run as several channel blocks, never as one pass larger than DST.

The window planes and the output are tensors, not circular buffers. The
output lives in L1, sharded as the plan splits pixels and channels; the window
planes too when they fit beside it, else in DRAM (`l1_sharded_operands`, which
runtime/device.py follows); the rest in DRAM. `l1_bytes_per_core` counts the
circular buffers and the L1 shards: tt-lang checks the circular buffers
against the L1 its device has left after the tensors (`build_cb_descriptors`,
`get_min_remaining_l1_for_device`).
"""

from __future__ import annotations

import ast
import functools
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
# The factory each kernel file builds its thread with; its parameters are what the thread
# captures (compile_args reads them from the source).
KERNEL_FACTORIES = {"reader": "make_reader", "compute": "make_compute", "writer": "make_writer"}
# The compute kernel's DST configuration, decided here once: the operation asks for it
# (kernels/depthwise_pool_op.py, from kernel_args), the generic pass writes it into the
# compute kernel's config and the cost model prices it. Float32 accumulation because the
# `acc` DFB accumulates in float32 (module docstring); half sync (double-buffered DST),
# tt-metal's and tt-lang's default.
FP32_DEST_ACC_EN = True
DST_FULL_SYNC_EN = False


def dst_tiles(fp32_dest_acc_en: bool, dst_full_sync_en: bool = False) -> int:
    """32x32 tiles DST holds for one compute pass: 16 16-bit tiles with full sync, half of
    that with half sync (the other half is being packed), half again with float32
    accumulation (tt-metal ttnn/cpp/ttnn/kernel_lib/dest_helpers.hpp `get_dest_limit`:
    SyncHalf 8 / 4 tiles, SyncFull 16 / 8; tt-lang `TTLAssignDST.cpp`
    `computeDSTCapacity` uses the same table)."""
    return (16 if dst_full_sync_en else 8) // (2 if fp32_dest_acc_en else 1)


# Channel tiles of one block: the window sum `acc += ...` of a block is one DST pass, so
# its CTb float32 tiles must fit DST (4 with float32 accumulation in half sync). tt-lang
# 1.1.1 otherwise splits the pass into DST-sized subblocks behind the plan's back
# (`ttl-subblock-compute-for-dst`, on by default), refuses it with
# `--ttl-strict-f32-acc` ("accumulation output exceeds f32 DST capacity") and fails
# with `--no-ttl-maximize-dst` ("total slots exceeds DST capacity"). pool2d's
# MAX_TILES_PER_REDUCTION (8, 16-bit DST) is the larger bound.
MAX_TILES_PER_REDUCTION = 8
MAX_TILES_PER_PASS = min(MAX_TILES_PER_REDUCTION, dst_tiles(FP32_DEST_ACC_EN, DST_FULL_SYNC_EN))

# Bytes of one 32x32 tile: bf16 2048; bfp8_b 1024 mantissas + 64 exponents;
# bfp4_b 512 + 64 (tt-metal tt_metal/common/tile.hpp; tt-lang 1.1.1
# ttl/dtype_utils.py tile_bytes_from_dtype gives the same sizes).
TILE_BYTES = {"bf16": 2048, "bfp8_b": 1088, "bfp4_b": 576, "f32": 4096, "f16": 2048}
# The `@ttl.operation`'s tensors, in parameter order (kernels/depthwise_pool_op.py).
OPERANDS = ("windows", "weights", "bias", "selectors", "out")
# The kernels' dataflow buffers in creation order; the id is the buffer index among
# those a program has (`buffer_names`: the bias buffers only with a bias).
BUFFER_NAMES = ("in", "selector", "weight_stage", "weight", "bias_stage", "bias", "acc", "out")
BIAS_BUFFERS = ("bias_stage", "bias")
# The operand each buffer is made like (its data format); the table in the docstring.
BUFFER_OPERANDS = {"in": "windows", "selector": "selectors", "weight_stage": "weights",
                   "weight": "weights", "bias_stage": "bias", "bias": "bias",
                   "acc": "selectors", "out": "out"}
# The selector tiles' format: float32 (0 and 1 are exact), so that the `acc` DFB made
# like them accumulates in float32 (module docstring).
SELECTOR_DTYPE = "f32"
# Operands that can live in L1, sharded as planned (l1_sharded_operands); others are DRAM.
L1_SHARDED_OPERANDS = ("windows", "out")
# The operation's pipe nets, one multicast each (`pipe_nets`: the bias one only with a
# bias); tt-lang gives every pipe net two semaphores.
PIPE_NETS = ("weight", "bias")


def buffer_names(conv: DepthwiseConv) -> tuple[str, ...]:
    """The dataflow buffers a program of `conv` has, in creation (= index) order."""
    return tuple(n for n in BUFFER_NAMES if conv.has_bias or n not in BIAS_BUFFERS)


def pipe_nets(conv: DepthwiseConv) -> tuple[str, ...]:
    """The pipe nets a program of `conv` makes (the reader captures these)."""
    return tuple(n for n in PIPE_NETS if conv.has_bias or n != "bias")
ACTIVATION_CODES = {name: i for i, name in enumerate(ACTIVATIONS)}


@dataclass(frozen=True)
class DataflowBuffer:
    """One `ttl.make_dataflow_buffer_like(<like>, shape=shape, block_count=block_count)`."""

    name: str
    like: str                 # the operand (OPERANDS) whose data format it takes
    shape: tuple[int, int]    # tiles per block: (rows, cols)
    block_count: int


def dataflow_buffers(conv: DepthwiseConv, layout: WeightLayout,
                     block_tiles: int) -> tuple[DataflowBuffer, ...]:
    """The kernels' dataflow buffers, in the order the operation creates them (module
    docstring's table)."""
    rc, ctb = layout.row_chunks, block_tiles
    weight_blocks = 2 if layout.channel_tiles // ctb > 1 else 1
    buffers = (
        ("in", (1, ctb), 2),
        ("selector", (1, rc), 2),
        ("weight_stage", (rc, ctb), 1),
        ("weight", (rc, ctb), weight_blocks),
        ("bias_stage", (1, ctb), 1),
        ("bias", (1, ctb), weight_blocks),
        ("acc", (1, ctb), 2),           # like the selectors: float32
        ("out", (1, ctb), 2),
    )
    names = buffer_names(conv)
    buffers = tuple(DataflowBuffer(name, BUFFER_OPERANDS[name], shape, count)
                    for name, shape, count in buffers if name in names)
    assert tuple(b.name for b in buffers) == names
    return buffers


def operand_dtypes(conv: DepthwiseConv) -> dict[str, str]:
    """Data format of each operand: activations and output in the conv's dtype, weights
    and bias in the weight dtype, the 0/1 selectors in float32 (exact; the `acc` DFB
    takes their format)."""
    return {"windows": conv.dtype, "weights": conv.weight_dtype, "bias": conv.weight_dtype,
            "selectors": SELECTOR_DTYPE, "out": conv.dtype}


def buffer_dtype(conv: DepthwiseConv, name: str) -> str:
    """The data format of dataflow buffer `name`: its operand's (BUFFER_OPERANDS)."""
    return operand_dtypes(conv)[BUFFER_OPERANDS[name]]


@functools.lru_cache(maxsize=None)
def factory_parameters(path: str, factory: str) -> tuple[str, ...]:
    """Parameter names of a kernel file's factory, read from its source (the file imports
    `ttl`, so it cannot be imported without a TT-Lang namespace)."""
    from .kernels import kernel_file

    tree = ast.parse(kernel_file(path).read_text())
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == factory), None)
    if fn is None:
        raise ValueError(f"{path} has no factory '{factory}'")
    return tuple(a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs)


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
    block_channel_tiles: int
    kernels: tuple[tuple[str, str], ...] = tuple(KERNELS.items())
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
    def tiles_per_group(self) -> int:
        """Tiles of 32 output pixels per core (its pixel group, padded to whole tiles)."""
        return -(-self.sharding.pixels_per_core // TILE)

    @property
    def pixel_groups(self) -> int:
        """Pixel groups of the operation's tensors: one per distinct core pixel group."""
        return max(self.core_pixel_group(r, c) for r, c in self.cores()) + 1

    @property
    def selector_width(self) -> int:
        """Tiles across the selectors tensor: its RC selector tiles, widened to the `acc`
        block (CTb tiles) that is made like it (module docstring)."""
        return max(self.layout.row_chunks, self.block_channel_tiles)

    @property
    def grid(self) -> tuple[int, int]:
        return tuple(self.sharding.grid)

    @property
    def dataflow_buffers(self) -> tuple[DataflowBuffer, ...]:
        return dataflow_buffers(self.conv, self.layout, self.block_channel_tiles)

    @property
    def circular_buffers(self) -> tuple[CircularBuffer, ...]:
        """The circular buffer of each dataflow buffer, as tt-lang 1.1.1 allocates it."""
        return _circular_buffers(self.conv, self.layout, self.block_channel_tiles)

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
        """Per kernel, the ints its factory in kernels/ binds (the compiler folds them into
        the kernel) and, as `<name>_cb_id`, the index of each dataflow buffer it captures.

        Read from the factories' parameters: a DFB parameter is `<buffer name>_cb`, a
        tensor one of OPERANDS, a pipe net `*_net`, every other one a `kernel_args` int."""
        values = self.kernel_args()
        ids = {b.name: i for i, b in enumerate(self.dataflow_buffers)}
        out: dict[str, dict[str, int]] = {}
        for role, path in self.kernels:
            args: dict[str, int] = {}
            for name in factory_parameters(path, KERNEL_FACTORIES[role]):
                if name.endswith("_cb") and name[:-3] in BUFFER_NAMES:
                    if name[:-3] in ids:  # a bias buffer without a bias: not made
                        args[f"{name}_id"] = ids[name[:-3]]
                elif name in OPERANDS or name.endswith("_net"):
                    continue
                elif isinstance(values.get(name), int):
                    args[name] = values[name]
                else:
                    raise ValueError(f"{role} kernel {path}: factory parameter '{name}' is "
                                     f"neither a dataflow buffer, an operand, a pipe net nor "
                                     f"an int of KernelProgram.kernel_args()")
            out[role] = args
        return out

    def kernel_args(self) -> dict[str, Any]:
        """What `tt_dw_mlir/kernels/depthwise_pool_op.py:build_operation` builds the TT-Lang
        operation from: ints (tt-lang 1.1.1 threads capture nothing else), the weight
        pipes as (sender x, sender y, x0, x1, y0, y1) with x = column, y = row and
        half-open receiver ranges that include the sender (multicast with loopback), and
        the dataflow buffers as (name, operand, rows, cols, block_count), in creation order.

        A core at (x, y) is linear core y * grid_cols + x; its channel shard is
        shard_per_col * x + shard_per_core * core and its pixel group
        group_per_row * y + group_per_core * core (the `core_shard` /
        `core_pixel_group` maps of the sharding scheme)."""
        conv, lay, sh = self.conv, self.layout, self.sharding
        rows, cols = self.grid
        block, width, height = (sh.scheme == s for s in ("block_sharded", "width_sharded",
                                                         "height_sharded"))
        return {
            "grid_cols": cols, "grid_rows": rows, "num_cores": sh.num_cores,
            "shard_per_col": int(block), "shard_per_core": int(width),
            "group_per_row": int(block), "group_per_core": int(height),
            "num_shards": lay.num_shards, "channel_tiles": lay.channel_tiles,
            "block_channel_tiles": self.block_channel_tiles, "channel_blocks": self.channel_blocks,
            "window": conv.window, "rows_per_tile": lay.rows_per_tile, "row_chunks": lay.row_chunks,
            "tiles_per_group": self.tiles_per_group,
            "has_bias": int(conv.has_bias), "activation": ACTIVATION_CODES[conv.activation],
            "fp32_dest_acc_en": int(FP32_DEST_ACC_EN), "dst_full_sync_en": int(DST_FULL_SYNC_EN),
            "dataflow_buffers": tuple((b.name, b.like, *b.shape, b.block_count)
                                      for b in self.dataflow_buffers),
            "weight_pipes": tuple((m.sender[1], m.sender[0], m.receivers[0][1],
                                   m.receivers[1][1] + 1, m.receivers[0][0], m.receivers[1][0] + 1)
                                  for m in self.multicast),
        }

    # ---- L1 and checks ----
    def _shard_bytes(self) -> dict[str, int]:
        """Per core, the bytes of the output's and the window planes' shards: the core's
        pixel tiles (x window positions for the planes) x its shard's channel tiles."""
        tiles = {"windows": self.tiles_per_group * self.conv.window * self.layout.channel_tiles,
                 "out": self.tiles_per_group * self.layout.channel_tiles}
        dtypes = operand_dtypes(self.conv)
        return {name: tiles[name] * TILE_BYTES[dtypes[name]] for name in L1_SHARDED_OPERANDS}

    def l1_sharded_operands(self) -> tuple[str, ...]:
        """The operands in L1, sharded as planned (runtime/device.py places them so): the
        output always; the window planes too when they fit next to it and the circular
        buffers, else they stay in DRAM, interleaved, and each reader fetches its planes
        from there (they are the window size times the input: they bound the layer size
        when in L1)."""
        shards = self._shard_bytes()
        cbs = sum(c.total_bytes for c in self.circular_buffers)
        if cbs + sum(shards.values()) <= self.device.l1_usable_bytes:
            return L1_SHARDED_OPERANDS
        return ("out",)

    def l1_operand_bytes(self) -> dict[str, int]:
        """Per core, the bytes of each L1-sharded operand's shard."""
        shards = self._shard_bytes()
        return {name: shards[name] for name in self.l1_sharded_operands()}

    def l1_bytes_per_core(self) -> int:
        return sum(c.total_bytes for c in self.circular_buffers) + \
            sum(self.l1_operand_bytes().values())

    def l1_budget(self) -> int:
        return self.device.l1_usable_bytes

    def verify(self) -> list[str]:
        """Problems with the plan (empty = consistent): CB sizes vs L1, args vs the op."""
        problems: list[str] = []
        conv, lay, sh = self.conv, self.layout, self.sharding
        budget = self.l1_budget()
        used = self.l1_bytes_per_core()
        if used > budget:
            problems.append(f"circular buffers and L1 shards need {used} B of L1 per core, "
                            f"{self.device.name} has {budget} B usable")
        if sh.grid[0] > self.device.rows or sh.grid[1] > self.device.cols:
            problems.append(f"grid {sh.grid[0]}x{sh.grid[1]} exceeds {self.device.name}'s "
                            f"{self.device.rows}x{self.device.cols}")
        for c in self.circular_buffers:
            if c.page_size <= 0 or c.num_pages <= 0:
                problems.append(f"CB {c.id} '{c.name}' has {c.num_pages} pages of {c.page_size} B")
        ids = [c.id for c in self.circular_buffers]
        if len(set(ids)) != len(ids):
            problems.append(f"duplicate CB ids {sorted(ids)}")
        if tuple(c.name for c in self.circular_buffers) != buffer_names(conv):
            problems.append(f"circular buffers {[c.name for c in self.circular_buffers]} are not "
                            f"the kernels' dataflow buffers {list(buffer_names(conv))}")
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
        if self.block_channel_tiles > MAX_TILES_PER_PASS:
            problems.append(f"{self.block_channel_tiles} channel tiles per pass exceed the "
                            f"{MAX_TILES_PER_PASS} float32 tiles DST holds")
        groups = scheme_splits(sh.scheme, sh.grid, sh.num_cores)[1]
        if sh.pixels_per_core * groups < conv.output_pixels:
            problems.append(f"{groups} x {sh.pixels_per_core} pixels do not cover "
                            f"{conv.output_pixels} output pixels")
        args = self.compile_args()
        if args["compute"]["window"] != conv.window:
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
        dev, compile_args = self.device, self.compile_args()
        return {
            "device": {"name": dev.name, "arch": dev.arch, "grid": list(dev.grid),
                       "l1_bytes": dev.l1_bytes, "l1_unreserved_base": dev.l1_unreserved_base,
                       "num_dram_channels": dev.num_dram_channels},
            "pixels_per_core": self.sharding.pixels_per_core,
            "block_channel_tiles": self.block_channel_tiles,
            "kernels": [{"name": role, "path": path, "compile_args": compile_args[role]}
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
        program = KernelProgram(conv, sharding, layout, device, d["block_channel_tiles"], kernels,
                                mcast)
        if cbs != program.circular_buffers:
            diff = sorted({c.name for c in set(cbs) ^ set(program.circular_buffers)})
            raise ValueError(f"circular buffers do not match the kernels' dataflow buffers: "
                             f"{', '.join(diff)}")
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

def _block_channel_tiles(channel_tiles: int) -> int:
    return max(d for d in range(1, min(channel_tiles, MAX_TILES_PER_PASS) + 1)
               if channel_tiles % d == 0)


def _circular_buffers(conv: DepthwiseConv, layout: WeightLayout,
                      block_tiles: int) -> tuple[CircularBuffer, ...]:
    """tt-lang 1.1.1 `build_cb_descriptors`: buffer index = creation order, page = one tile
    of the operand's data format, rows * cols * block_count pages."""
    dtypes = operand_dtypes(conv)
    return tuple(CircularBuffer(i, b.name, TILE_BYTES[dtypes[b.like]],
                                b.shape[0] * b.shape[1] * b.block_count, dtypes[b.like])
                 for i, b in enumerate(dataflow_buffers(conv, layout, block_tiles)))


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


def build_program(conv: DepthwiseConv, sharding: Sharding, device: str | Device) -> KernelProgram:
    """The program for one sharding; a plan that does not fit L1 is returned as it is and
    `verify()` names the overflow. `plan_program` and the lowering pass both come here, so
    they agree on the plan. A pass of the kernels is always one tile of 32 output pixels
    (on the tile's rows) by one channel block: nothing about the pixels is chosen."""
    device = get_device(device)
    layout = make_layout(conv, sharding.scheme, sharding.num_shards)
    program = KernelProgram(conv, sharding, layout, device,
                            _block_channel_tiles(layout.channel_tiles))
    return replace(program, multicast=_multicast(program))


def plan_program(conv: DepthwiseConv, device: str | Device,
                 scheme: str | None = None) -> KernelProgram | Refusal:
    """First sharding candidate whose circular buffers fit L1.
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
    parts = {f"circular buffer '{c.name}'": c.total_bytes for c in best.circular_buffers}
    parts.update({f"'{name}' shard": size for name, size in best.l1_operand_bytes().items()})
    biggest = max(parts, key=parts.get)
    return Refusal(
        "l1",
        f"no sharding fits L1: the smallest plan ({best.sharding.scheme}, grid "
        f"{best.sharding.grid[0]}x{best.sharding.grid[1]}, {best.layout.channels_per_shard} channels "
        f"and {best.sharding.pixels_per_core} pixels per core) needs "
        f"{best.l1_bytes_per_core()} B of L1 per core, {device.name} has "
        f"{device.l1_usable_bytes} B usable; largest: {biggest}, {parts[biggest]} B")


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
