"""Analytical cost model: depthwise conv on the pool2d kernels vs the grouped-conv matmul.

Per layer and device this estimates, for both paths, the cycles of the busiest
core, a roofline lower bound with its binding resource, and the ratio
matmul / pool. `prefer_pool` is what `--tt-depthwise-to-pool="path=auto"` asks.

Both paths are modelled on the same sharding (same cores, same pixels and
channels per core), with input and output activations sharded in L1 (as tt-metal
keeps them between sharded conv layers). Host dispatch is not modelled.

A core runs overlapping threads: the weight load (DRAM read + multicast, in
parallel with the compute as tt-metal's weight readers do), the window gather
on the two data-movement RISC-Vs (tt-metal's "split reader", one per NOC), and
the unpack / math / pack threads of the Tensix coprocessor. The estimate of a
path is the slowest of them (the busiest core):

    cycles = max(weights, reader, unpack, math, pack)

with math = FPU tile ops + SFPU activation + a fixed overhead per compute pass
(CB wait/pop, DST acquire/release). The roofline of a path is the largest of
FPU cycles, L1 bytes / L1 bandwidth, NOC bytes / NOC bandwidth and DRAM bytes /
DRAM bandwidth, i.e. every resource at its peak and no per-pass overhead; the
thread that uses a resource is never faster than that resource's term, so
roofline <= estimate. `binding` names the largest roofline term.

Pool path (the kernels of this project; layout in tt_dw_mlir/layout.py):
  per output pixel and 32-channel tile the reader gathers kH*kW sticks
  (kW contiguous sticks per window row: one NOC read per row), the unpacker
  loads the window (K = kH*kW rows, tt-metal pool2d unpacks only the rows it
  uses) and the weight tile, the FPU multiplies element-wise, packs to the mul
  CB, unpacks it again and reduces the rows to one (REDUCE_COL), adds the bias
  row, runs the activation on the SFPU and packs one output row. Passes are
  batched `tiles_per_pass` at a time.

Matmul path (grouped conv, as tt-metal's conv2d runs depthwise today):
  tt-metal's `convert_conv_weight_tensor_to_grouped_layout`
  (ttnn/cpp/ttnn/operations/conv/conv2d/prepare_conv2d_weights.cpp) turns the
  weights [C, C/groups=1, kH, kW] into [C, C, kH, kW] with zeros off the block
  diagonal; conv2d then runs im2col + tilize of the activations and a matmul
  (pixels x C*kH*kW) x (C*kH*kW x C). Two variants:
    matmul_k="full"  (default, used by `ratio` and `prefer_pool`): what that
                     layout makes the matmul do: K = C*kH*kW for every output
                     channel tile, a fraction kH*kW / (C*kH*kW) = 1/C of the
                     MACs useful. Under block sharding the im2col blocks are
                     multicast along the core row so every core sees all of K.
    matmul_k="tile": each 32-channel group as a (pixels x 32*kH*kW) x
                     (32*kH*kW x 32) matmul per channel tile (1/32 useful):
                     the best a block-diagonal matmul can do if it skips the
                     all-zero weight tiles, which tt-metal does not; reported
                     as `matmul_tile_diagonal` / `ratio_tile_diagonal`.
  Both pay the same window gather as the pool path, the tilize of the im2col
  matrix (unpack-tilize, FPU datacopy, pack), the matmul tiles, bias add and
  SFPU activation on whole output tiles. Weights beyond the L1 budget are
  streamed from DRAM (once per `MATMUL_ACT_BLOCK_H_TILES` output tile rows) and
  multicast to the cores that share them.

Math fidelity follows the weight dtype with the pairing tt-metal's GEMM FLOPS
report uses (tech_reports/GEMM_FLOPS/GEMM_FLOPS.md): bf16 -> HiFi4,
bfp8_b -> HiFi2, bfp4_b -> LoFi.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from . import sharding as _sharding
from .conv_config import FACE, TILE, DepthwiseConv, round_up
from .program import TILE_BYTES, KernelProgram, plan_program

TILE_ELEMS = TILE * TILE

# Bytes per element when tiled: bfp8_b / bfp4_b add one shared 8-bit exponent
# per 16-value face row (DESIGN.md section 6): 2, 1 + 1/16 and 0.5 + 1/16
# (program.TILE_BYTES, the tt-metal tile sizes, over 1024 values).
BYTES_PER_ELEM = {dtype: size / TILE_ELEMS for dtype, size in TILE_BYTES.items()}
# Row-major sticks (the gathered window, the im2col input) are bf16:
# block-float formats exist only in TILE layout in tt-metal.
STICK_BYTES_PER_ELEM = 2.0
# Intermediates (mul CB, tilized im2col) stay bf16.
INTERMEDIATE_BYTES_PER_ELEM = 2.0

# Fidelity phases by weight dtype (GEMM_FLOPS.md pairing; see module doc).
FIDELITY_PHASES = {"bf16": 4, "bfp8_b": 2, "bfp4_b": 1}

# Engineering estimate: DST half-sync holds 8 bf16 tiles
# (tech_reports/matrix_engine/matrix_engine.md, "Fp32 Dest Acc"), so a compute
# pass batches at most 8 tiles when program.py gives no figure.
DEFAULT_TILES_PER_PASS = 8
# Engineering estimate: tt-metal conv2d act_block_h; weights that spill out of
# L1 are re-streamed once per this many output tile rows.
MATMUL_ACT_BLOCK_H_TILES = 8
# Engineering estimate: share of L1 that weights may take (the rest holds the
# activation shards and the circular buffers).
WEIGHT_L1_BUDGET_FRACTION = 0.5


@dataclass(frozen=True)
class TileOpCycles:
    """FPU cycles for one 32x32 tile op, at the fidelity each dtype uses."""

    bf16: float
    bfp8_b: float
    bfp4_b: float

    def __getitem__(self, dtype: str) -> float:
        return getattr(self, dtype)


def _fidelity_table(lofi_cycles: float) -> TileOpCycles:
    return TileOpCycles(bf16=lofi_cycles * FIDELITY_PHASES["bf16"],
                        bfp8_b=lofi_cycles * FIDELITY_PHASES["bfp8_b"],
                        bfp4_b=lofi_cycles * FIDELITY_PHASES["bfp4_b"])


@dataclass(frozen=True)
class SfpuCycles:
    """SFPU cycles for one 32x32 tile per activation."""

    none: float
    relu: float
    relu6: float
    silu: float
    gelu: float

    def __getitem__(self, activation: str) -> float:
        return getattr(self, activation)


# The SFPU is 32 lanes at one instruction per cycle (tt-isa-documentation
# WormholeB0/BlackholeA0 VectorUnit.md), so a 1024-element tile is 32 rounds;
# cycles per tile = 32 x instructions per round. Instruction counts per round
# are ENGINEERING ESTIMATES (load + op + store; silu = exp + reciprocal
# approximations, gelu = LUT approximation in math_approx_mode).
_SFPU = SfpuCycles(none=0.0, relu=32 * 4, relu6=32 * 6, silu=32 * 24, gelu=32 * 12)


@dataclass(frozen=True)
class DeviceParams:
    """Per-device parameters of the cost model. Every figure is cited below."""

    name: str
    arch: str
    clock_hz: float
    grid: tuple[int, int]  # compute grid (rows, cols)
    l1_bytes: int
    matmul_tile: TileOpCycles       # 32x32x32 MACs
    eltwise_mul_tile: TileOpCycles  # 32x32 element-wise multiply
    reduce_tile: TileOpCycles       # 32x32 -> reduce-sum over rows
    eltwise_add_tile: float         # no fidelity phases for add
    datacopy_tile: float            # A->D move used by tilize
    sfpu_tile: SfpuCycles
    noc_bytes_per_cycle: float      # one NOC's read path into / out of a core
    noc_count: int                  # NOC0 + NOC1, one per data-movement RISC-V
    dram_bytes_per_s: float         # whole chip
    l1_bytes_per_cycle: float       # all banks of one core
    unpack_bytes_per_cycle: float   # both unpackers together
    pack_bytes_per_cycle: float     # four packers together
    noc_issue_cycles: float         # RISC-V cycles to issue one NOC read
    pass_overhead_cycles: float     # fixed cost of one compute pass

    @property
    def cores(self) -> int:
        return self.grid[0] * self.grid[1]


# Matrix engine rates, identical on Wormhole and Blackhole per cycle
# (tt-metal tech_reports/matrix_engine/matrix_engine.md: matmul 8x16x16 per
# cycle -> 16 cycles per 32x32x32 tile at LoFi; eltwise 8x16 per cycle -> 8 per
# tile; reduce 16x16 per cycle -> 4 per tile; multiply and reduce-sum scale with
# fidelity phases, add does not). GEMM_FLOPS.md confirms 16/32/48/64 cycles
# per matmul tile for LoFi/HiFi2/HiFi3/HiFi4.
_MATMUL = _fidelity_table(16)
_ELTWISE_MUL = _fidelity_table(8)
_REDUCE = _fidelity_table(4)

N150 = DeviceParams(
    name="n150",
    arch="wormhole_b0",
    # 1 GHz AI clock, 72 Tensix (docs.tenstorrent.com Wormhole specs), of which
    # ttnn ops use an 8x8 compute grid (tt-metal tech_reports/Blackhole/
    # BlackholeBringUpProgrammingGuide.md, "Available for Compute" 8x8).
    clock_hz=1.0e9,
    grid=_sharding.N150.grid,          # 8x8, as sharding.py plans
    l1_bytes=_sharding.N150.l1_bytes,  # 1464 KiB (tt-isa-documentation WormholeB0/TensixTile/L1.md)
    matmul_tile=_MATMUL,
    eltwise_mul_tile=_ELTWISE_MUL,
    reduce_tile=_REDUCE,
    eltwise_add_tile=8.0,
    datacopy_tile=8.0,  # engineering estimate: one 8x16 row group per cycle, like add
    sfpu_tile=_SFPU,
    # 256-bit NOC read/write paths into L1 and 256-bit router links (L1.md, NoC).
    noc_bytes_per_cycle=32.0,
    noc_count=2,
    # n150: 12 GB GDDR6, 288 GB/s (Tenstorrent n150 spec table).
    dram_bytes_per_s=288e9,
    # 16 banks x one 128-bit access per cycle (L1.md).
    l1_bytes_per_cycle=256.0,
    # Both unpackers jointly five 128-bit reads/cycle; four packers one 128-bit
    # write each per cycle (L1.md, "Maximum theoretical bandwidth").
    unpack_bytes_per_cycle=80.0,
    pack_bytes_per_cycle=64.0,
    noc_issue_cycles=8.0,       # engineering estimate (a few register writes + barrier share)
    pass_overhead_cycles=40.0,  # engineering estimate (cb_wait/pop, tile_regs_* handshakes)
)

P150 = DeviceParams(
    name="p150",
    arch="blackhole",
    # 1.35 GHz AI clock (docs.tenstorrent.com Blackhole specifications).
    # Compute grid 10 rows x 11 cols: since firmware v19.5.0 a p150 presents
    # 120 Tensix (see tt_dw_mlir/sharding.py, whose grid this is);
    # "p150_13x10" below is the older 13x10 grid of BlackholeBringUpProgrammingGuide.md.
    clock_hz=1.35e9,
    grid=_sharding.P150.grid,          # 10x11
    l1_bytes=_sharding.P150.l1_bytes,  # L1.md: 1536 KiB on Blackhole
    matmul_tile=_MATMUL,
    eltwise_mul_tile=_ELTWISE_MUL,
    reduce_tile=_REDUCE,
    eltwise_add_tile=8.0,
    datacopy_tile=8.0,
    sfpu_tile=_SFPU,
    # 512-bit NOC flits vs 256 on Wormhole (tt-isa-documentation Blackhole NoC).
    noc_bytes_per_cycle=64.0,
    noc_count=2,
    # p150: 32 GB GDDR6, 512 GB/s (Blackhole specifications page).
    dram_bytes_per_s=512e9,
    l1_bytes_per_cycle=256.0,     # engineering estimate: Wormhole banking assumed
    unpack_bytes_per_cycle=80.0,  # engineering estimate: Wormhole unpackers assumed
    pack_bytes_per_cycle=64.0,    # engineering estimate: Wormhole packers assumed
    noc_issue_cycles=8.0,
    pass_overhead_cycles=40.0,
)

P150_13X10 = replace(P150, name="p150_13x10", grid=_sharding.P150_13X10.grid)

DEVICE_PARAMS: dict[str, DeviceParams] = {d.name: d for d in (N150, P150, P150_13X10)}


def device_params(device: Any) -> DeviceParams:
    """Accept "n150" / "p150", a DeviceParams, or sharding.Device (by its name)."""
    if isinstance(device, DeviceParams):
        return device
    name = device if isinstance(device, str) else getattr(device, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"cannot read a device from {device!r}")
    key = name.lower()
    if key in DEVICE_PARAMS:
        return DEVICE_PARAMS[key]
    raise ValueError(f"unknown device '{name}' (known: {', '.join(DEVICE_PARAMS)})")


# --------------------------------------------------------------------------- sharding


@dataclass(frozen=True)
class ShardPlan:
    """How many cores hold how much: the subset of sharding.Sharding the model reads."""

    scheme: str  # "height_sharded" | "width_sharded" | "block_sharded"
    grid: tuple[int, int]
    num_shards: int
    channels_per_shard: int
    pixels_per_core: int
    cores: int = 0  # cores in use; 0 = rows * cols
    source: str = "cost_model"  # who chose it: "sharding" or the fallback here

    @property
    def num_cores(self) -> int:
        return self.cores or self.grid[0] * self.grid[1]

    @property
    def pixel_groups(self) -> int:
        """Cores along the pixel dimension."""
        return max(1, self.num_cores // max(1, self.num_shards))


def _scheme_name(scheme: Any) -> str:
    text = str(getattr(scheme, "value", scheme)).lower()
    for name in ("height", "width", "block"):
        if name in text:
            return f"{name}_sharded"
    raise ValueError(f"unknown sharding scheme {scheme!r}")


def default_sharding(conv: DepthwiseConv, dev: DeviceParams) -> ShardPlan:
    """Fallback for a device sharding.py does not know, or a conv it refuses: tt-metal-like rules.

    HEIGHT when the channels are few (<= 256, one weight shard for all cores);
    WIDTH when there are fewer output rows than cores; BLOCK otherwise, with the
    channel tiles split over the grid columns.
    """
    rows, cols = dev.grid
    pixels = conv.output_pixels
    channel_tiles = conv.padded_channels // TILE
    pixel_tiles = math.ceil(pixels / TILE)
    if conv.padded_channels <= 256 or channel_tiles == 1:
        cores = max(1, min(dev.cores, pixel_tiles))
        ppc = round_up(math.ceil(pixels / cores), TILE)
        cores = math.ceil(pixels / ppc)
        return ShardPlan("height_sharded", (cores, 1), 1, conv.padded_channels, ppc)
    if pixel_tiles < rows:
        shards = max(d for d in range(1, min(dev.cores, channel_tiles) + 1) if channel_tiles % d == 0)
        return ShardPlan("width_sharded", (1, shards), shards,
                         conv.padded_channels // shards, pixels)
    ncols = max(d for d in range(1, cols + 1) if channel_tiles % d == 0)
    nrows = max(1, min(rows, pixel_tiles))
    ppc = round_up(math.ceil(pixels / nrows), TILE)
    nrows = math.ceil(pixels / ppc)
    return ShardPlan("block_sharded", (nrows, ncols), ncols, conv.padded_channels // ncols, ppc)


def _plan_from(sharding: Any, conv: DepthwiseConv) -> ShardPlan:
    """Duck-type a sharding.Sharding (scheme, grid, num_shards, channels_per_shard, pixels_per_core)."""
    if isinstance(sharding, ShardPlan):
        return sharding
    grid = tuple(int(g) for g in sharding.grid)
    ppc = int(getattr(sharding, "pixels_per_core", 0) or 0)
    if ppc <= 0:
        ppc = conv.output_pixels
    cores = int(getattr(sharding, "num_cores", 0) or getattr(sharding, "cores", 0) or 0)
    return ShardPlan(_scheme_name(sharding.scheme), (grid[0], grid[1]), int(sharding.num_shards),
                     int(sharding.channels_per_shard), ppc, cores, source="sharding")


def _plan_and_batching(conv: DepthwiseConv, dev: DeviceParams) -> tuple[ShardPlan, int | None]:
    """The sharding and tiles per pass the kernels would run with.

    program.plan_program (the sharding whose CBs fit L1, and its pass batching)
    when it accepts the conv; else sharding.choose_sharding (no batching); else,
    or for a device sharding.py does not know, `default_sharding`.
    """
    target = _sharding.DEVICES.get(dev.name)
    if target is None:
        return default_sharding(conv, dev), None
    program = plan_program(conv, target)
    if isinstance(program, KernelProgram):
        return _plan_from(program.sharding, conv), program.tiles_per_pass
    chosen = _sharding.choose_sharding(conv, target)
    if isinstance(chosen, _sharding.Sharding):
        return _plan_from(chosen, conv), None
    return default_sharding(conv, dev), None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PathCost:
    """One path on one layer: the estimate, its roofline and what binds each."""

    cycles: float
    time_s: float
    roofline_cycles: float
    roofline_time_s: float
    binding: str          # the roofline's binding resource: fpu | l1 | noc | dram
    bottleneck: str       # the estimate's slowest thread: weights | reader | unpack | math | pack
    threads: dict[str, float]  # per-core cycles of each overlapped thread
    floors: dict[str, float]   # per-resource lower bounds (the roofline terms)
    macs: int             # MACs issued (padding and zeros included)
    useful_macs: int      # N * Hout * Wout * C * kH * kW
    noc_bytes: float      # per core
    dram_bytes: float     # whole chip
    l1_bytes: float       # per core
    weight_l1_bytes: float  # per core
    fits_l1: bool


@dataclass(frozen=True)
class LayerCost:
    conv: DepthwiseConv
    device: str
    sharding: ShardPlan
    tiles_per_pass: int
    pool: PathCost
    matmul: PathCost                 # the variant named by matmul_k
    matmul_k: str
    matmul_tile_diagonal: PathCost   # always the "tile" variant, for comparison
    notes: tuple[str, ...] = field(default=())

    @property
    def ratio(self) -> float:
        """matmul / pool estimated time: > 1 means the pool path is faster."""
        return self.matmul.cycles / self.pool.cycles

    @property
    def ratio_tile_diagonal(self) -> float:
        return self.matmul_tile_diagonal.cycles / self.pool.cycles

    @property
    def pool_time_s(self) -> float:
        return self.pool.time_s

    @property
    def matmul_time_s(self) -> float:
        return self.matmul.time_s

    @property
    def winner(self) -> str:
        return "pool" if self.ratio >= 1.0 else "matmul"


# --------------------------------------------------------------------------- model


def _finish(dev: DeviceParams, *, weight_load: float, reader: float, unpack_bytes: float,
            math: float, pack_bytes: float, fpu: float, noc_bytes: float, dram_bytes: float,
            **rest: Any) -> PathCost:
    """A path's cost from its per-thread work: the estimate is the slowest Tensix thread,
    the roofline the most loaded resource (FPU, L1, NOC, DRAM); both paths share this."""
    threads = {"weights": weight_load, "reader": reader,
               "unpack": unpack_bytes / dev.unpack_bytes_per_cycle,
               "math": math, "pack": pack_bytes / dev.pack_bytes_per_cycle}
    l1_bytes = unpack_bytes + pack_bytes + noc_bytes
    floors = {"fpu": fpu,
              "l1": l1_bytes / dev.l1_bytes_per_cycle,
              "noc": noc_bytes / (dev.noc_bytes_per_cycle * dev.noc_count),
              "dram": dram_bytes / dev.dram_bytes_per_s * dev.clock_hz}
    cycles = max(threads.values())
    bottleneck = max(threads, key=threads.get)
    roofline = max(floors.values())
    binding = max(floors, key=floors.get)
    return PathCost(cycles=cycles, time_s=cycles / dev.clock_hz, roofline_cycles=roofline,
                    roofline_time_s=roofline / dev.clock_hz, binding=binding,
                    bottleneck=bottleneck, threads=threads, floors=floors,
                    noc_bytes=noc_bytes, dram_bytes=dram_bytes, l1_bytes=l1_bytes, **rest)


def _gather(conv: DepthwiseConv, dev: DeviceParams, pixels: int, channels: int) -> tuple[float, float]:
    """Window gather of one core: (bytes, reader cycles). kW sticks of a window row are
    contiguous in the halo'd input when dilation_w == 1, so one NOC read per row."""
    kh, kw = conv.kernel
    reads_per_pixel = kh if conv.dilation[1] == 1 else kh * kw
    nbytes = pixels * conv.window * channels * STICK_BYTES_PER_ELEM
    reads = pixels * reads_per_pixel
    readers = dev.noc_count  # split reader: one RISC-V per NOC
    cycles = max(nbytes / (dev.noc_bytes_per_cycle * readers),
                 reads * dev.noc_issue_cycles / readers)
    return nbytes, cycles


def _weight_load(dev: DeviceParams, dram_bytes: float, per_core_bytes: float) -> float:
    """DRAM read of all weights, then one multicast per shard (a core receives its shard once)."""
    dram_cycles = dram_bytes / dev.dram_bytes_per_s * dev.clock_hz
    return max(dram_cycles, per_core_bytes / dev.noc_bytes_per_cycle)


def _pool_cost(conv: DepthwiseConv, dev: DeviceParams, plan: ShardPlan, tiles_per_pass: int) -> PathCost:
    k = conv.window
    px = plan.pixels_per_core
    cs = round_up(plan.channels_per_shard, TILE)
    ct = cs // TILE
    wdt, odt = conv.weight_dtype, conv.dtype
    rows_per_tile = FACE if k <= FACE else TILE  # layout.py: R
    row_chunks = math.ceil(k / rows_per_tile)

    # FPU per pixel and channel tile: multiply runs on 8-row groups, reduce on
    # 16-row faces, both over the K used rows of each row chunk.
    mul = red = 0.0
    for chunk in range(row_chunks):
        rows = min(rows_per_tile, k - chunk * rows_per_tile)
        mul += dev.eltwise_mul_tile[wdt] * round_up(rows, 8) / TILE
        red += dev.reduce_tile[wdt] * round_up(rows, FACE) / TILE
    work = px * ct  # (pixel, channel tile) pairs on this core
    fpu = work * (mul + red)
    out_row = 1.0 / TILE  # one output row of a tile per pixel
    bias = work * dev.eltwise_add_tile * (8 / TILE) if conv.has_bias else 0.0  # an 8-row group
    sfpu = work * dev.sfpu_tile[conv.activation] * 2 * out_row  # SFPU rounds cover 2 rows
    tiles = work * row_chunks
    passes = math.ceil(tiles / max(1, tiles_per_pass))
    math_thread = fpu + bias + sfpu + passes * dev.pass_overhead_cycles

    window_bytes = k * TILE * STICK_BYTES_PER_ELEM             # per pixel per channel tile
    weight_bytes = k * TILE * BYTES_PER_ELEM[wdt]
    mul_bytes = k * TILE * INTERMEDIATE_BYTES_PER_ELEM
    out_bytes = TILE * BYTES_PER_ELEM[odt]
    unpack_bytes = work * (window_bytes + weight_bytes + mul_bytes)
    pack_bytes = work * (mul_bytes + out_bytes)

    gather_bytes, reader = _gather(conv, dev, px, cs)
    shard_weight_bytes = row_chunks * ct * TILE_ELEMS * BYTES_PER_ELEM[wdt]  # layout.py tiles
    bias_bytes = ct * TILE_ELEMS * BYTES_PER_ELEM["bf16"] if conv.has_bias else 0.0
    per_core_w = shard_weight_bytes + bias_bytes
    dram_bytes = per_core_w * plan.num_shards
    weight_load = _weight_load(dev, dram_bytes, per_core_w)

    useful = conv.output_pixels * conv.channels * k
    macs = plan.pixel_groups * px * plan.num_shards * cs * k
    return _finish(dev, weight_load=weight_load, reader=reader, unpack_bytes=unpack_bytes,
                   math=math_thread, pack_bytes=pack_bytes, fpu=fpu + bias,
                   noc_bytes=gather_bytes + per_core_w, dram_bytes=dram_bytes,
                   macs=macs, useful_macs=useful,
                   weight_l1_bytes=per_core_w,
                   fits_l1=per_core_w <= dev.l1_bytes * WEIGHT_L1_BUDGET_FRACTION)


def _matmul_cost(conv: DepthwiseConv, dev: DeviceParams, plan: ShardPlan, k_mode: str) -> PathCost:
    k = conv.window
    px = plan.pixels_per_core
    cs = round_up(plan.channels_per_shard, TILE)
    ct = cs // TILE                       # output channel tiles on this core
    cp = conv.padded_channels
    wdt, odt = conv.weight_dtype, conv.dtype
    mt = math.ceil(px / TILE)             # output tile rows on this core

    own_k_tiles = math.ceil(cs * k / TILE)  # im2col columns this core builds
    if k_mode == "full":
        k_tiles = math.ceil(cp * k / TILE)  # every output tile sees all of K
        matmuls = mt * k_tiles * ct
        weight_tiles = k_tiles * ct
        # block/width sharding: the other cores' im2col blocks arrive by multicast
        act_rx_bytes = mt * (k_tiles - own_k_tiles) * TILE_ELEMS * INTERMEDIATE_BYTES_PER_ELEM
    elif k_mode == "tile":
        matmuls = mt * k * ct               # (px x 32k) x (32k x 32) per channel tile
        weight_tiles = k * ct
        act_rx_bytes = 0.0
    else:
        raise ValueError(f"matmul_k must be 'full' or 'tile', got {k_mode!r}")

    tilize_tiles = mt * own_k_tiles
    out_tiles = mt * ct
    # Output subblock in DST (<= 8 tiles): in0 is re-read per subblock column, in1 per row.
    sub_w = min(ct, 8)
    sub_h = max(1, min(mt, 8 // sub_w))
    if k_mode == "full":
        in0_tiles = mt * k_tiles * math.ceil(ct / sub_w)
    else:
        in0_tiles = matmuls  # each channel tile has its own im2col columns
    in1_tiles = weight_tiles * math.ceil(mt / sub_h)

    fpu = matmuls * dev.matmul_tile[wdt] + tilize_tiles * dev.datacopy_tile
    bias = out_tiles * dev.eltwise_add_tile if conv.has_bias else 0.0
    sfpu = out_tiles * dev.sfpu_tile[conv.activation]
    passes = tilize_tiles / min(8, max(1, own_k_tiles)) + math.ceil(mt / sub_h) * math.ceil(ct / sub_w)
    math_thread = fpu + bias + sfpu + passes * dev.pass_overhead_cycles

    tile_b = TILE_ELEMS * INTERMEDIATE_BYTES_PER_ELEM
    wtile_b = TILE_ELEMS * BYTES_PER_ELEM[wdt]
    im2col_stick_bytes = mt * TILE * cs * k * STICK_BYTES_PER_ELEM
    unpack_bytes = im2col_stick_bytes + in0_tiles * tile_b + in1_tiles * wtile_b
    pack_bytes = tilize_tiles * tile_b + out_tiles * TILE_ELEMS * BYTES_PER_ELEM[odt]

    gather_bytes, reader = _gather(conv, dev, px, cs)
    reader += act_rx_bytes / (dev.noc_bytes_per_cycle * dev.noc_count)

    bias_bytes = ct * TILE_ELEMS * BYTES_PER_ELEM["bf16"] if conv.has_bias else 0.0
    per_core_w = weight_tiles * wtile_b + bias_bytes
    fits = per_core_w <= dev.l1_bytes * WEIGHT_L1_BUDGET_FRACTION
    # Each shard's weights are read from DRAM and multicast to the cores of that
    # shard (tt-metal's in1 multicast); weights that do not fit are re-streamed
    # once per act block of tile rows.
    rereads = 1 if fits else math.ceil(mt / MATMUL_ACT_BLOCK_H_TILES)
    dram_bytes = per_core_w * rereads * plan.num_shards
    weight_rx = per_core_w * rereads
    weight_load = _weight_load(dev, dram_bytes, weight_rx)

    useful = conv.output_pixels * conv.channels * k
    macs = plan.pixel_groups * plan.num_shards * matmuls * TILE ** 3
    return _finish(dev, weight_load=weight_load, reader=reader, unpack_bytes=unpack_bytes,
                   math=math_thread, pack_bytes=pack_bytes, fpu=fpu + bias,
                   noc_bytes=gather_bytes + act_rx_bytes + weight_rx, dram_bytes=dram_bytes,
                   macs=macs, useful_macs=useful,
                   weight_l1_bytes=per_core_w, fits_l1=fits)


def estimate(conv: DepthwiseConv, device: Any, sharding: Any = None, *,
             tiles_per_pass: int | None = None, matmul_k: str = "full") -> LayerCost:
    """Cost both paths of `conv` on `device` ("n150", "p150", DeviceParams or sharding.Device).

    `sharding` (a sharding.Sharding or ShardPlan) defaults to the one
    program.plan_program picks (else sharding.choose_sharding, else
    `default_sharding`). `tiles_per_pass` defaults to the planned program's
    batching, else 8.
    """
    dev = device_params(device)
    notes: list[str] = []
    if sharding is not None:
        plan, planned_tpp = _plan_from(sharding, conv), None
    else:
        plan, planned_tpp = _plan_and_batching(conv, dev)
        if plan.source != "sharding":
            notes.append("sharding: cost-model fallback (device unknown to sharding.py, or no sharding fits)")
    if tiles_per_pass is None:
        tiles_per_pass = planned_tpp
        if tiles_per_pass is None:
            tiles_per_pass = DEFAULT_TILES_PER_PASS
            notes.append(f"tiles_per_pass: default {DEFAULT_TILES_PER_PASS} (no kernel program)")
    pool = _pool_cost(conv, dev, plan, tiles_per_pass)
    tile_diag = _matmul_cost(conv, dev, plan, "tile")
    chosen = tile_diag if matmul_k == "tile" else _matmul_cost(conv, dev, plan, matmul_k)
    if not chosen.fits_l1:
        notes.append("matmul: grouped weights exceed the L1 budget, streamed from DRAM")
    return LayerCost(conv=conv, device=dev.name, sharding=plan, tiles_per_pass=tiles_per_pass,
                     pool=pool, matmul=chosen, matmul_k=matmul_k,
                     matmul_tile_diagonal=tile_diag, notes=tuple(notes))


@lru_cache(maxsize=4096)
def _prefer_cached(conv: DepthwiseConv, device_name: str) -> tuple[bool, float]:
    cost = estimate(conv, device_name)
    return cost.ratio >= 1.0, cost.ratio


def prefer_pool(conv: DepthwiseConv, device: Any) -> tuple[bool, float]:
    """(pool path is at least as fast as the grouped matmul, matmul/pool time ratio)."""
    return _prefer_cached(conv, device_params(device).name)
