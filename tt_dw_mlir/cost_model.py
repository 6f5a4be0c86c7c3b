"""Calibrated cost model: a depthwise conv on pool2d-style kernels vs tt-metal's grouped matmul.

The model describes *kernels*, not a wish. A `KernelProfile` states what a
depthwise pool kernel does per output pixel and 32-channel tile: how many
tiles one compute pass batches in DST, whether the multiply and the row
reduction are fused or split by a round trip through a CB, how many tile rows
the unpacker, the bias add, the SFPU activation and the packer touch, how many
rows it writes per pixel, how many data-movement cores gather the windows and
whether they wait for every read. Three profiles:

* `tt-metal-seed`: the first pool-based depthwise of tt-metal issue 25523's
  branch (one channel tile per pass, multiply then a separate reduce, a whole
  output tile packed per pixel). Measured by Tenstorrent on the MobileNetV2 demo:
  ~4x slower overall than the matmul path, worst conv ~10x.
* `tt-metal-poc`: the improved proof of concept of tt-metal issue 26434
  ("Fused mul and reduce"): DST filled with 8 tiles per pass, split reader,
  product still through the mul CB, one output row per pixel
  (`pack_untilize_dest` of one stick, compute_pool_2d.cpp `IS_DEPTHWISE`).
* `ours`: the TT-Lang kernels in tt_dw_mlir/kernels/ (issue 14): 32 pixels on
  the rows of a tile, accumulated over the window positions with packer L1
  accumulation (fused, no reduce) in float32, channel blocks of at most the 4
  float32 tiles DST holds, window planes gathered before the operation (TTNN ops
  in the generic form, the host in runtime/) and read from the core's L1 shard or
  from DRAM, wherever the program placed them; all of it read from the
  `KernelProgram` (`ours_profile`), never planned again.
  `program_counts` gives the tile, DFB-page and NOC-byte counts of that
  program, which a test compares with the counts traced from tt-lang-sim.

Per core the estimate is the slowest of the overlapped threads (compute,
window gather) plus the weight load. Compute of a pool kernel:

    passes * PASS_OVERHEAD_CYCLES
    + items * (face rows unpacked * UNPACK_FACE_ROW_CYCLES
               + face rows packed * PACK_FACE_ROW_CYCLES + FPU + SFPU)

(an item = one pixel x one channel tile; a face row = 16 values; unpack, math
and pack of one item are serialised by the DST handshakes and, when split, by
the product's CB round trip). `ours` (pixels on tile rows) costs one pass per
32-pixel tile and window position instead (`_pixel_rows_cost`). The matmul path (tt-metal conv2d on the grouped
[C, C, kH, kW] weights, `convert_conv_weight_tensor_to_grouped_layout`) costs
the im2col tiles it builds and the matmul tiles over the full K = C*kH*kW:

    im2col tiles * IM2COL_TILE_CYCLES + matmul tiles * 16 * fidelity / MATMUL_EFFICIENCY
    + output tiles * (bias add + SFPU)

Constants are global (never per layer) and cited below; three are calibrated
(per-pass overhead, im2col tile, waited NOC read) on the two external
measurements, see benchmarks/README.md ("Cost model: calibration and
predictions"). Device grids, L1 and core counts come from `sharding.py`; the
sharding of both paths is the given program's, else the one `program.plan_program`
(else `sharding.choose_sharding`) picks. Every figure here is an estimate, none a
device measurement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from . import sharding as _sharding
from .conv_config import TILE, DepthwiseConv, round_up
from .program import (SELECTOR_DTYPE, TILE_BYTES, KernelProgram, buffer_dtype, dst_tiles,
                      operand_dtypes, plan_program)

TILE_ELEMS = TILE * TILE
FACE_ROWS_PER_TILE_ROW = 2  # a 32-wide tile row spans two 16-wide faces
STICK_BYTES = 2  # row-major sticks are bf16 (block floats exist only in TILE layout)

# --------------------------------------------------------------------------- constants

# Matrix engine (tt-metal tech_reports/GEMM_FLOPS/GEMM_FLOPS.md and
# matrix_engine/matrix_engine.md): a 32x32x32 matmul tile takes 16 cycles at
# LoFi, 32/48/64 at HiFi2/3/4; element-wise ops 8x16 per cycle (8 cycles a
# tile), reduce 16x16 per cycle (4 cycles a tile), multiply and reduce scale
# with the fidelity phases, add does not.
MATMUL_TILE_CYCLES_LOFI = 16
ELTWISE_TILE_CYCLES_LOFI = 8
REDUCE_TILE_CYCLES_LOFI = 4
FIDELITY_PHASES = {"LoFi": 1, "HiFi2": 2, "HiFi3": 3, "HiFi4": 4}
# Fidelity per weight dtype when none is given: the pairing of GEMM_FLOPS.md.
DEFAULT_FIDELITY = {"bf16": "HiFi4", "bfp8_b": "HiFi2", "bfp4_b": "LoFi"}

# Matmul efficiency, a published measurement: GEMM_FLOPS.md, N150 out-of-box
# table, BFLOAT8_B LoFi 3072x3072x3072: 69.82% device-based utilization (the
# 2048x3072x3072 row gives 69.27%). conv2d's matmul runs on L1-sharded operands
# with the weights resident, the regime of the large-matrix rows.
MATMUL_EFFICIENCY = 0.698

# SFPU: 32 lanes, one instruction per cycle (tt-isa-documentation
# WormholeB0/VectorUnit.md): a 32x32 tile is 32 rounds, cycles per tile = 32 x
# instructions per round. Instruction counts are engineering estimates
# (load + op + store; relu6 = max + min; silu = exp + reciprocal approximations).
SFPU_TILE_CYCLES = {"none": 0, "relu": 32 * 4, "relu6": 32 * 6, "silu": 32 * 24, "gelu": 32 * 12}

# Unpack / pack of one 16-value face row (32 B of bf16): both unpackers together read
# 80 B per cycle from L1 (tt-isa-documentation WormholeB0 L1.md, "Maximum theoretical
# bandwidth": five 128-bit reads per cycle), i.e. 0.4 cycles; the packer is taken equal.
UNPACK_FACE_ROW_CYCLES = 0.4
PACK_FACE_ROW_CYCLES = 0.4
# Calibrated together on a coarse grid against tt-metal issues 26434 and 25523
# (benchmarks/README.md): the fixed cost of one compute pass (CB wait/pop/reserve/push,
# DST acquire/commit/wait/release, the op re-inits between multiply and reduce); one
# im2col tile of the conv2d matmul path (activation reader + tilize of 32 rows);
# the round trip of one NOC read that is waited for before the next is issued.
PASS_OVERHEAD_CYCLES = 32.0
IM2COL_TILE_CYCLES = 160.0
NOC_READ_LATENCY_CYCLES = 55.0
# RISC-V cycles to issue one NOC read (a few register writes; engineering estimate).
NOC_READ_ISSUE_CYCLES = 8.0
# DST of pool2d's compute (16-bit accumulation, half sync): 8 tiles (program.dst_tiles,
# tt-metal dest_helpers.hpp); pool2d's MAX_TILES_PER_REDUCTION is 8 too. Our kernels
# accumulate in float32 and batch what their program's blocks say (at most 4 tiles).
POOL2D_DST_TILES = dst_tiles(fp32_dest_acc_en=False)


@dataclass(frozen=True)
class DeviceRates:
    """Clock and bandwidths of an architecture (grid and L1 are sharding.Device's)."""

    clock_hz: float
    noc_bytes_per_cycle: float   # one NOC's read path into a core
    dram_bytes_per_s: float      # whole chip


# Wormhole: 1 GHz AI clock, 256-bit NOC (tt-isa-documentation L1.md / NoC),
# n150 GDDR6 288 GB/s (Tenstorrent n150 specifications). Blackhole: 1.35 GHz,
# 512-bit NOC, p150 512 GB/s (Blackhole specifications page).
RATES = {
    "wormhole_b0": DeviceRates(1.0e9, 32.0, 288e9),
    "blackhole": DeviceRates(1.35e9, 64.0, 512e9),
}


def _device(device: Any) -> _sharding.Device:
    if isinstance(device, _sharding.Device):
        return device
    name = device if isinstance(device, str) else getattr(device, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"cannot read a device from {device!r}")
    return _sharding.get_device(name.lower())


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class KernelProfile:
    """What a depthwise pool kernel does per output pixel and 32-channel tile."""

    name: str
    source: str
    dst_tiles: int                  # output tiles one compute pass batches in DST
    pixels_per_pass: int | None     # None: as many pixels as fill dst_tiles
    channel_tiles_per_pass: int | None  # None: largest divisor of the shard's tiles <= dst_tiles
    fused_multiply_reduce: bool     # False: product packed to a CB and unpacked again
    pixel_rows: bool                # True: 32 pixels on a tile's rows, summed over positions
    unpacks_used_rows_only: bool    # pool2d's face_r_dim = window: only the window's rows
    bias_activation_rows: int       # tile rows the bias add and the SFPU run on (0: no such stage)
    rows_written_per_pixel: int     # 1 = one stick (pack_untilize), 32 = a whole tile
    readers: int                    # data-movement cores gathering windows (2 = split reader)
    reads_per_window_row: bool      # one NOC read per window row (kW contiguous sticks)
    local_copies_per_stick: int     # extra L1->L1 copies per gathered stick
    blocking_reads: bool            # waits for every read before issuing the next
    # operands read from the core's own L1 shard; the others come from DRAM, which bounds
    # the reader with all cores' bytes (pixel-row kernels only: the pool2d profiles read
    # their halo-sharded input from L1)
    l1_operands: tuple[str, ...] = ()


SEED = KernelProfile(
    "tt-metal-seed",
    "tt-metal issue 25523 branch, first pool-based depthwise: one channel tile per pass, "
    "mul_tiles -> mul CB -> reduce, bias and SFPU activation on whole tiles, a whole tile "
    "packed per pixel",
    dst_tiles=1, pixels_per_pass=1, channel_tiles_per_pass=1, fused_multiply_reduce=False,
    pixel_rows=False, unpacks_used_rows_only=True,
    bias_activation_rows=TILE, rows_written_per_pixel=TILE, readers=1,
    reads_per_window_row=False, local_copies_per_stick=0, blocking_reads=True)
POC = KernelProfile(
    "tt-metal-poc",
    "tt-metal issue 26434 improved PoC (compute_pool_2d.cpp IS_DEPTHWISE): 8 DST tiles per "
    "pass (8 / channel tiles pixels), split reader, mul CB round trip, pack_untilize_dest of "
    "one stick per pixel; as measured in the issue (Aug 2025) without a bias/activation stage "
    "(the branch added a whole-tile bias add later; the demo applies ReLU6 as a separate op)",
    dst_tiles=POOL2D_DST_TILES, pixels_per_pass=None, channel_tiles_per_pass=None,
    fused_multiply_reduce=False, pixel_rows=False, unpacks_used_rows_only=True,
    bias_activation_rows=0,
    rows_written_per_pixel=1,
    readers=2, reads_per_window_row=True, local_copies_per_stick=0, blocking_reads=False)
# The fused-PoC estimate of issue 26434 is POC with the round trip removed.
POC_FUSED = replace(POC, name="tt-metal-poc-fused", fused_multiply_reduce=True,
                    source="tt-metal issue 26434 PoC with fused multiply+reduce (Tenstorrent's "
                           "estimate): no mul CB round trip")

PROFILE_NAMES = ("tt-metal-seed", "tt-metal-poc", "ours")


def ours_profile(program: KernelProgram) -> KernelProfile:
    """The profile of the kernels in tt_dw_mlir/kernels/ as `program` runs them.

    Those kernels (issue 14) put 32 output pixels on the rows of a tile: per
    32-pixel tile and channel block, every window position k multiplies the
    position's window plane (a whole tile block read by dm0, gathered on the
    host) by weight row k broadcast over the rows (`selector_k @ W`, rc x ctb
    matmul tiles) and accumulates into the acc DFB with packer L1 accumulation
    (fused: no product round trip, no reduce); then bias and activation on
    whole tiles, whose rows are the pixels, and one row per pixel written.
    Every copy is waited for (`tx.wait()`). A block is the program's
    `block_channel_tiles` (the float32 tiles of one DST pass); the window planes
    and the selectors come from L1 or DRAM as `program.l1_sharded_operands()`
    places them (the one decision runtime/device.py and the generic pass follow).
    """
    return KernelProfile(
        "ours", "tt_dw_mlir/kernels/ (pixels on tile rows, selector-matmul weight broadcast, "
        "packer accumulation over window positions, window planes gathered before the operation)",
        dst_tiles=program.block_channel_tiles, pixels_per_pass=TILE,
        channel_tiles_per_pass=program.block_channel_tiles, fused_multiply_reduce=True,
        pixel_rows=True, unpacks_used_rows_only=False, bias_activation_rows=TILE,
        rows_written_per_pixel=1, readers=1, reads_per_window_row=False,
        local_copies_per_stick=0, blocking_reads=True,
        l1_operands=tuple(program.l1_sharded_operands()))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PathCost:
    cycles: float
    time_s: float
    bottleneck: str
    threads: dict[str, float]
    macs: int
    useful_macs: int
    tiles: int = 0      # per core: window tiles multiplied (pool) / matmul tiles (matmul)


@dataclass(frozen=True)
class LayerCost:
    conv: DepthwiseConv
    device: str
    profile: str
    sharding: _sharding.Sharding
    pixels_per_pass: int
    channel_tiles_per_pass: int
    pool: PathCost
    matmul: PathCost
    notes: tuple[str, ...] = field(default=())

    @property
    def ratio(self) -> float:
        """matmul / pool cycles: > 1 means the pool path is predicted faster."""
        return self.matmul.cycles / self.pool.cycles

    @property
    def tiles_per_pass(self) -> int:
        return self.pixels_per_pass * self.channel_tiles_per_pass

    @property
    def pool_time_s(self) -> float:
        return self.pool.time_s

    @property
    def matmul_time_s(self) -> float:
        return self.matmul.time_s

    @property
    def winner(self) -> str:
        return "pool" if self.ratio > 1.0 else "matmul"


# --------------------------------------------------------------------------- model


def _window_rows(conv: DepthwiseConv, used_rows_only: bool) -> int:
    """Tile rows the unpacker reads per window. pool2d unpacks only the used rows
    (face_r_dim = window) when the window fits a face, whole 32-row tiles beyond;
    otherwise the whole window tiles of layout.py (16-row tiles up to 16 positions)."""
    k = conv.window
    if used_rows_only and k <= 16:
        return k
    return 16 if k <= 16 else TILE * math.ceil(k / TILE)


def _valid_window_positions(conv: DepthwiseConv) -> int:
    """(output pixel, window position) pairs that land inside the input (no padding)."""
    pt, _, pl, _ = conv.padding

    def axis(out: int, size: int, k: int, s: int, d: int, pad: int) -> int:
        return sum(1 for o in range(out) for i in range(k) if 0 <= o * s - pad + i * d < size)

    return conv.batch * (axis(conv.out_h, conv.in_h, conv.kernel[0], conv.stride[0],
                              conv.dilation[0], pt)
                         * axis(conv.out_w, conv.in_w, conv.kernel[1], conv.stride[1],
                                conv.dilation[1], pl))


def _largest_divisor(n: int, cap: int) -> int:
    return max(d for d in range(1, min(n, cap) + 1) if n % d == 0)


def _weight_load_cycles(weight_bytes: float, shard: _sharding.Sharding, rates) -> float:
    """Cycles to bring `weight_bytes` to every shard: DRAM for all shards at once, or one
    core's NOC transfer, whichever is slower."""
    return max(weight_bytes * shard.num_shards / rates.dram_bytes_per_s * rates.clock_hz,
               weight_bytes / rates.noc_bytes_per_cycle)


def _pool_path_cost(conv: DepthwiseConv, rates, compute: float, reader: float, weights: float,
                    macs: int, tiles: int) -> PathCost:
    """A pool-path kernel's cost: compute and reader overlap, the weight load precedes both."""
    threads = {"compute": compute, "reader": reader, "weights": weights}
    cycles = max(compute, reader) + weights
    return PathCost(cycles, cycles / rates.clock_hz, max(threads, key=threads.get), threads,
                    macs=macs, useful_macs=conv.output_pixels * conv.channels * conv.window,
                    tiles=tiles)


def _pool_cost(conv: DepthwiseConv, dev: _sharding.Device, shard: _sharding.Sharding,
               profile: KernelProfile, fidelity: str) -> tuple[PathCost, int, int]:
    if profile.pixel_rows:
        return _pixel_rows_cost(conv, dev, shard, profile, fidelity)
    rates = RATES[dev.arch]
    phases = FIDELITY_PHASES[fidelity]
    px = shard.pixels_per_core
    ct = math.ceil(shard.channels_per_shard / TILE)
    ctb = profile.channel_tiles_per_pass or _largest_divisor(ct, profile.dst_tiles)
    pp = profile.pixels_per_pass or max(1, profile.dst_tiles // ctb)
    pp = min(pp, px)
    blocks = ct // ctb
    passes = math.ceil(px / pp) * blocks
    items = math.ceil(px / pp) * pp * ct   # pixel slots padded to whole passes

    rows = _window_rows(conv, profile.unpacks_used_rows_only)
    split = not profile.fused_multiply_reduce
    unpack_rows = rows * (2 if split else 1)            # window (+ product again)
    unpack_rows += profile.bias_activation_rows if conv.has_bias else 0
    pack_rows = (rows if split else 0) + profile.rows_written_per_pixel
    fpu = (ELTWISE_TILE_CYCLES_LOFI + REDUCE_TILE_CYCLES_LOFI) * phases * rows / TILE
    fpu += ELTWISE_TILE_CYCLES_LOFI * profile.bias_activation_rows / TILE if conv.has_bias else 0
    sfpu = SFPU_TILE_CYCLES[conv.activation] * profile.bias_activation_rows / TILE
    per_item = (FACE_ROWS_PER_TILE_ROW * (unpack_rows * UNPACK_FACE_ROW_CYCLES
                                          + pack_rows * PACK_FACE_ROW_CYCLES) + fpu + sfpu)
    compute = passes * PASS_OVERHEAD_CYCLES + items * per_item

    kh, kw = conv.kernel
    reads_per_pixel = kh if (profile.reads_per_window_row and conv.dilation[1] == 1) else kh * kw
    stick_bytes = ctb * TILE * STICK_BYTES
    reads = px * blocks * reads_per_pixel * (1 + profile.local_copies_per_stick)
    gather_bytes = px * blocks * conv.window * stick_bytes
    per_read = NOC_READ_LATENCY_CYCLES if profile.blocking_reads else NOC_READ_ISSUE_CYCLES
    reader = max(reads * per_read,
                 gather_bytes / rates.noc_bytes_per_cycle) / profile.readers

    weight_bytes = ct * TILE_BYTES[conv.weight_dtype] * math.ceil(conv.window / TILE)
    weight_bytes += ct * TILE_BYTES[conv.weight_dtype] if conv.has_bias else 0
    cost = _pool_path_cost(conv, rates, compute, reader,
                           _weight_load_cycles(weight_bytes, shard, rates),
                           macs=shard.num_cores * items * TILE * conv.window,
                           tiles=items * math.ceil(rows / TILE) if rows > 16 else items)
    return cost, pp, ctb


def _pixel_rows_cost(conv: DepthwiseConv, dev: _sharding.Device, shard: _sharding.Sharding,
                     profile: KernelProfile, fidelity: str) -> tuple[PathCost, int, int]:
    """32 pixels per tile row group, accumulated over the window positions (ours)."""
    rates = RATES[dev.arch]
    phases = FIDELITY_PHASES[fidelity]
    ct = math.ceil(shard.channels_per_shard / TILE)
    ctb = profile.channel_tiles_per_pass or _largest_divisor(ct, profile.dst_tiles)
    blocks = ct // ctb
    groups = math.ceil(shard.pixels_per_core / TILE)
    rc = math.ceil(conv.window / (16 if conv.window <= 16 else TILE))
    steps = blocks * groups * conv.window          # one pass per (pixel tile, position)
    face_rows = FACE_ROWS_PER_TILE_ROW * TILE      # a whole tile
    # per position: unpack x (ctb), selector (rc) and W (rc x ctb); selector @ W on the
    # matrix engine; x * (s @ W); pack with L1 accumulation (ctb)
    # face-row widths relative to bf16 (program.py's buffer table: the selector row and
    # the float32 `acc` move twice the bytes of a bf16 tile)
    width = {name: TILE_BYTES[buffer_dtype(conv, name)] / TILE_BYTES["bf16"]
             for name in ("selector", "acc")}
    step = (face_rows * ((ctb + rc * width["selector"] + rc * ctb) * UNPACK_FACE_ROW_CYCLES
                         + ctb * width["acc"] * PACK_FACE_ROW_CYCLES)
            + rc * ctb * MATMUL_TILE_CYCLES_LOFI * phases + ctb * ELTWISE_TILE_CYCLES_LOFI * phases)
    # per pixel tile: unpack the sum (and bias), add, activation, pack the output
    epilogue = ctb * (face_rows * ((width["acc"] + (1 if conv.has_bias else 0))
                                   * UNPACK_FACE_ROW_CYCLES
                                   + PACK_FACE_ROW_CYCLES)
                      + (ELTWISE_TILE_CYCLES_LOFI if conv.has_bias else 0)
                      + SFPU_TILE_CYCLES[conv.activation])
    compute = (steps + blocks * groups) * PASS_OVERHEAD_CYCLES + steps * step \
        + blocks * groups * epilogue
    # per step: the window plane block and the selector row, each from its operand
    step_bytes = {"windows": ctb * TILE_BYTES[buffer_dtype(conv, "in")],
                  "selectors": rc * TILE_BYTES[buffer_dtype(conv, "selector")]}
    per_read = NOC_READ_LATENCY_CYCLES if profile.blocking_reads else NOC_READ_ISSUE_CYCLES
    reader = steps * (len(step_bytes) * per_read
                      + sum(step_bytes.values()) / rates.noc_bytes_per_cycle)
    # what is not in the core's L1 (the window planes, kH*kW times the input, unless
    # the program keeps them there; the selectors) comes from DRAM for every core at once
    dram_bytes = sum(b for name, b in step_bytes.items() if name not in profile.l1_operands)
    chip_bytes = shard.num_cores * steps * dram_bytes
    reader = max(reader, chip_bytes / rates.dram_bytes_per_s * rates.clock_hz)
    weight_bytes = blocks * (rc * ctb + (ctb if conv.has_bias else 0)) \
        * TILE_BYTES[conv.weight_dtype]
    cost = _pool_path_cost(conv, rates, compute, reader,
                           _weight_load_cycles(weight_bytes, shard, rates),
                           macs=shard.num_cores * groups * TILE * ct * TILE * conv.window,
                           tiles=steps * ctb)
    return cost, TILE, ctb


def _matmul_cost(conv: DepthwiseConv, dev: _sharding.Device, shard: _sharding.Sharding,
                 fidelity: str) -> PathCost:
    rates = RATES[dev.arch]
    k = conv.window
    mt = math.ceil(shard.pixels_per_core / TILE)
    cs = round_up(shard.channels_per_shard, TILE)
    ct = cs // TILE
    own_k_tiles = math.ceil(cs * k / TILE)                   # im2col columns this core builds
    k_tiles = math.ceil(conv.padded_channels * k / TILE)     # grouped layout: all of K
    matmuls = mt * k_tiles * ct
    out_tiles = mt * ct
    im2col = mt * own_k_tiles * IM2COL_TILE_CYCLES
    fpu = matmuls * MATMUL_TILE_CYCLES_LOFI * FIDELITY_PHASES[fidelity] / MATMUL_EFFICIENCY
    epilogue = out_tiles * (SFPU_TILE_CYCLES[conv.activation]
                            + (ELTWISE_TILE_CYCLES_LOFI if conv.has_bias else 0))
    compute = im2col + fpu + epilogue
    # Grouped weights K x Cs per core; beyond half of L1 they are streamed once per
    # 8 output tile rows (conv2d act_block_h) instead of staying resident.
    weight_bytes = k_tiles * ct * TILE_BYTES[conv.weight_dtype]
    rereads = 1 if weight_bytes <= dev.l1_usable_bytes / 2 else math.ceil(mt / 8)
    weights = _weight_load_cycles(weight_bytes * rereads, shard, rates)
    threads = {"im2col": im2col, "matmul": fpu, "epilogue": epilogue, "weights": weights}
    cycles = compute + (weights if rereads > 1 else 0.0)
    return PathCost(cycles, cycles / rates.clock_hz, max(threads, key=threads.get), threads,
                    macs=shard.num_cores * matmuls * TILE ** 3,
                    useful_macs=conv.output_pixels * conv.channels * k, tiles=matmuls)


def _plan(conv: DepthwiseConv, dev: _sharding.Device, scheme: str | None
          ) -> tuple[_sharding.Sharding | None, KernelProgram | None, str]:
    program = plan_program(conv, dev, scheme)
    if isinstance(program, KernelProgram):
        return program.sharding, program, ""
    chosen = _sharding.choose_sharding(conv, dev, scheme)
    if isinstance(chosen, _sharding.Sharding):
        return chosen, None, f"no kernel program fits ({program.message})"
    wide = _sharding.candidates(conv, dev, scheme, allow_wide_reduction=True)
    if wide:
        return wide[0], None, f"no kernel program fits ({program.message})"
    return None, None, str(chosen.message)


def estimate(conv: DepthwiseConv, device: Any = "n150", sharding: Any = None, *,
             profile: str | KernelProfile = "ours", scheme: str | None = None,
             math_fidelity: str | None = None, tiles_per_pass: int | None = None,
             program: KernelProgram | None = None) -> LayerCost:
    """Both paths of `conv` on `device` with the kernels of `profile` (estimates).

    `program` is the plan to price, as the IR records it (its sharding, channel
    blocks and operand placement); without it, `sharding` (a sharding.Sharding)
    defaults to the plan's (program.plan_program, else sharding.choose_sharding,
    optionally restricted to `scheme`). `program.conv` may differ from `conv` in its
    dtypes only (the pass prices an f32 conv as its bf16 equivalent).
    `math_fidelity` defaults to the weight dtype's (DEFAULT_FIDELITY).
    `tiles_per_pass` overrides the DST batching of the profile (1 = unbatched).
    Raises ValueError when no sharding of the conv exists on the device.
    """
    dev = _device(device)
    fidelity = math_fidelity or DEFAULT_FIDELITY[conv.weight_dtype]
    if fidelity not in FIDELITY_PHASES:
        raise ValueError(f"unknown math fidelity {fidelity!r} (known: {', '.join(FIDELITY_PHASES)})")
    notes: list[str] = []
    if program is not None:
        planned, why = program.sharding, ""
    else:
        planned, program, why = _plan(conv, dev, scheme)
    if why:
        notes.append(why)
    shard = sharding if sharding is not None else planned
    if shard is None:
        raise ValueError(f"no sharding of {conv.channels} channels on {dev.name}: {why}")
    if isinstance(profile, KernelProfile):
        prof = profile
    elif profile == "ours":
        if program is not None and program.sharding == shard:
            prof = ours_profile(program)
        else:
            from .program import build_program
            prof = ours_profile(build_program(conv, shard, dev))
    else:
        prof = {p.name: p for p in (SEED, POC, POC_FUSED)}.get(profile)
        if prof is None:
            raise ValueError(f"unknown kernel profile {profile!r} (known: {', '.join(PROFILE_NAMES)})")
    if tiles_per_pass is not None:
        ctb = _largest_divisor(math.ceil(shard.channels_per_shard / TILE), tiles_per_pass)
        prof = replace(prof, dst_tiles=tiles_per_pass, channel_tiles_per_pass=ctb,
                       pixels_per_pass=max(1, tiles_per_pass // ctb))
    pool, pp, ctb = _pool_cost(conv, dev, shard, prof, fidelity)
    matmul = _matmul_cost(conv, dev, shard, fidelity)
    return LayerCost(conv, dev.name, prof.name, shard, pp, ctb, pool, matmul, tuple(notes))


@lru_cache(maxsize=4096)
def _prefer_cached(conv: DepthwiseConv, device_name: str) -> tuple[bool, float]:
    return _prefer(conv, device_name, None)


def _prefer(conv: DepthwiseConv, device_name: str,
            program: KernelProgram | None) -> tuple[bool, float]:
    try:
        cost = estimate(conv, device_name, profile="ours", program=program)
    except ValueError:  # no sharding at all: the planner's refusal is the remark to give
        return True, math.nan
    return cost.ratio > 1.0, cost.ratio


def prefer_pool(conv: DepthwiseConv, device: Any,
                program: KernelProgram | None = None) -> tuple[bool, float]:
    """(the `ours` pool kernels are estimated faster than the grouped matmul, matmul/pool).

    `program`: the plan already made for the conv (priced as it is, not planned again).
    When no sharding of the conv exists the answer is (True, nan): the pass then
    refuses the conv with the planner's reason rather than a cost."""
    name = _device(device).name
    return _prefer_cached(conv, name) if program is None else _prefer(conv, name, program)


# --------------------------------------------------------------------------- program counts


@dataclass(frozen=True)
class ProgramCounts:
    """What the kernels of one program move, summed over all cores (simulator units:
    tiles for tiled buffers, bytes for NOC traffic)."""

    tiles_multiplied: int       # window-plane tiles into the multiply
    compute_input_tiles: int    # tiles the compute waits for from the reader (planes, selectors, weights, bias)
    product_roundtrip_tiles: int  # tiles the compute packs to a CB of its own and unpacks again
    output_tiles: int           # tiles the writer takes from the out CB
    pipe_tiles: int             # weight + bias tiles received through the multicast
    gather_bytes: int           # window-plane and selector bytes the reader reads
    weight_dram_bytes: int      # weight + bias bytes the senders read from DRAM

    @property
    def noc_bytes(self) -> int:
        return self.gather_bytes + self.weight_dram_bytes


def program_counts(program: KernelProgram) -> ProgramCounts:
    """Counts of `program` as the kernels in tt_dw_mlir/kernels/ run it (their README):
    per core, channel block and tile of 32 output pixels, one window plane
    (block_channel_tiles tiles) and one selector tile row (row_chunks tiles) per kernel
    position; the product goes straight into the accumulating store and the window
    sum makes one round trip through the `acc` DFB before bias and activation."""
    conv = program.conv
    cores = program.sharding.num_cores
    blocks, pixel_tiles = program.channel_blocks, program.tiles_per_group
    # tiles per block of each dataflow buffer (program.py's table, which the kernels read)
    block = {b.name: b.shape[0] * b.shape[1] for b in program.dataflow_buffers}
    weight_block = block["weight"] + (block["bias"] if conv.has_bias else 0)
    positions = cores * blocks * pixel_tiles * conv.window
    planes, selectors = positions * block["in"], positions * block["selector"]
    weights = cores * blocks * weight_block
    sums = out = cores * blocks * pixel_tiles * block["out"]
    dtypes = operand_dtypes(conv)
    gather = planes * TILE_BYTES[dtypes["windows"]] + selectors * TILE_BYTES[dtypes["selectors"]]
    # the sender reads a block's weights (and bias) from DRAM once per multicast pipe
    wdram = len(program.multicast) * blocks * weight_block * TILE_BYTES[dtypes["weights"]]
    return ProgramCounts(planes, planes + selectors + weights, sums, out, weights, gather, wdram)


def model_cost_table(convs, device: str, profile: str, names=None,
                     math_fidelity: str | None = None, scheme_of=None) -> dict:
    """`tt-dw cost`'s JSON: per layer both paths' cycles under `profile` and the path
    `--tt-depthwise-to-pool="path=auto"` picks for it (`prefer_pool`, the `ours` kernels)."""
    layers = []
    total_mm = total_pool = 0  # sums of the printed (rounded) per-layer figures
    for i, conv in enumerate(convs):
        scheme = scheme_of(i, conv) if scheme_of else None
        cost = estimate(conv, device, profile=profile, math_fidelity=math_fidelity, scheme=scheme)
        auto = prefer_pool(conv, device)[0]  # the pass's decision: always the `ours` kernels
        layers.append({
            "name": names[i] if names else f"layer{i}",
            "input_shape": [conv.batch, conv.in_h, conv.in_w, conv.channels],
            "kernel": list(conv.kernel), "stride": list(conv.stride),
            "matmul_cycles": round(cost.matmul.cycles), "pool_cycles": round(cost.pool.cycles),
            "path": "pool" if auto else "matmul"})
        total_mm += layers[-1]["matmul_cycles"]
        total_pool += layers[-1]["pool_cycles"]
    return {"device": device, "kernel_profile": profile,
            "estimate": "predicted cycles of tt_dw_mlir/cost_model.py (busiest core), "
                        "not measurements",
            "layers": layers,
            "total": {"matmul_cycles": total_mm, "pool_cycles": total_pool}}


def simulator_counts(trace_path, weight_dtype: str = "bf16", dtype: str = "bf16") -> ProgramCounts:
    """The same counts from a tt-lang-sim JSON Lines trace (`tt-lang-sim --trace`, events
    dfb, copy, pipe). A DFB is classified by the kernel that reserved its pages and the one
    that waits on them: reader -> compute are the compute's inputs (window, and the weights
    and bias that arrived through the pipe), compute -> compute the product's round trip,
    compute -> writer the output. The window planes multiplied are the tiles copied from
    the `windows` tensor."""
    import json

    def role(kernel: str | None) -> str:
        name = (kernel or "").rsplit("-", 1)[-1]
        return next((r for r in ("reader", "compute", "writer") if r in name), "other")

    def node(e: dict) -> tuple[str, str]:  # DFB names are only unique within a node
        return (e.get("kernel") or "").split("-", 1)[0], e["dfb"]

    reserver: dict[str, str] = {}
    waits: list[tuple[str, str, int]] = []
    reads: dict[str, int] = {}
    pipe = 0
    with open(trace_path) as f:
        for line in f:
            e = json.loads(line)
            kind = e["event"]
            if kind == "dfb_reserve_end":
                reserver[node(e)] = role(e.get("kernel"))
            elif kind == "dfb_wait_end":
                waits.append((reserver.get(node(e), "other"), role(e.get("kernel")),
                              e.get("tiles", 0)))
            elif kind == "copy_end" and e.get("direction") == "read" and e.get("tensor"):
                reads[e["tensor"]] = reads.get(e["tensor"], 0) + e.get("tiles", 0)
            elif kind == "pipe_recv":
                pipe += e.get("tiles", 0)
    by = {("reader", "compute"): 0, ("compute", "compute"): 0, ("compute", "writer"): 0}
    for producer, waiter, tiles in waits:
        key = (producer, waiter)
        if key in by:
            by[key] += tiles
    planes = reads.get("windows", 0)
    wbytes = (reads.get("weights", 0) + reads.get("bias", 0)) * TILE_BYTES[weight_dtype]
    gather = planes * TILE_BYTES[dtype] + reads.get("selectors", 0) * TILE_BYTES[SELECTOR_DTYPE]
    return ProgramCounts(planes, by[("reader", "compute")], by[("compute", "compute")],
                         by[("compute", "writer")], pipe, gather, wbytes)
