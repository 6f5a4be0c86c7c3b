"""Cost model: monotonicity, roofline <= estimate, hand-computed floors, MobileNetV2 margins."""

from __future__ import annotations

import math

import pytest

from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.cost_model import (
    DEVICE_PARAMS,
    ShardPlan,
    device_params,
    estimate,
    prefer_pool,
)

DEVICES = ("n150", "p150")

# MobileNetV2 (224x224) depthwise layers: (input size, channels, stride), from the
# paper's Table 2 (t, c, n, s) with the 32-channel stem: written out by hand here.
MOBILENETV2 = [(112, 32, 1), (112, 96, 2), (56, 144, 1), (56, 144, 2), (28, 192, 1),
               (28, 192, 2), (14, 384, 1), (14, 384, 1), (14, 576, 1), (14, 576, 2),
               (7, 960, 1)]


def _dw(size: int, channels: int, stride: int = 1, kernel: int = 3, **kw) -> DepthwiseConv:
    pad = kernel // 2
    return DepthwiseConv(batch=1, in_h=size, in_w=size, channels=channels, kernel=(kernel, kernel),
                         stride=(stride, stride), padding=(pad, pad, pad, pad), **kw)


def _height_plan(conv: DepthwiseConv, cores: int) -> ShardPlan:
    ppc = math.ceil(conv.output_pixels / cores)
    return ShardPlan("height_sharded", (cores, 1), 1, conv.padded_channels, ppc)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("path", ["pool", "matmul", "matmul_tile_diagonal"])
def test_monotonic_in_channels(device: str, path: str) -> None:
    previous = 0.0
    for channels in (32, 64, 96, 128, 192, 256):
        conv = _dw(28, channels, has_bias=True, activation="relu6")
        cost = estimate(conv, device, _height_plan(conv, 16))
        cycles = getattr(cost, path).cycles
        assert cycles > previous, f"{path} on {device}: C={channels} not slower than fewer channels"
        previous = cycles


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("path", ["pool", "matmul"])
def test_monotonic_in_spatial_size(device: str, path: str) -> None:
    # Non-decreasing (the matmul works on 32-pixel tile rows, so 49 and 196 pixels
    # over 8 cores both fill one), and strictly slower from end to end.
    sizes = (7, 14, 28, 56, 112)
    cycles = []
    for size in sizes:
        conv = _dw(size, 96)
        cycles.append(getattr(estimate(conv, device, _height_plan(conv, 8)), path).cycles)
    assert cycles == sorted(cycles), f"{path} on {device}: {cycles}"
    assert cycles[-1] > 10 * cycles[0]


@pytest.mark.parametrize("device", DEVICES)
def test_more_spatial_size_costs_more_with_chosen_sharding(device: str) -> None:
    small = estimate(_dw(14, 144), device)
    large = estimate(_dw(112, 144), device)
    assert large.pool.cycles > small.pool.cycles
    assert large.matmul.cycles > small.matmul.cycles


def test_pool_fpu_floor_matches_hand_count() -> None:
    # 3x3 on 32 pixels x 32 channels, one core, bf16 -> HiFi4 (4 phases).
    # Matrix engine (tt-metal matrix_engine.md): eltwise mul 8x16 per cycle per phase,
    # reduce 16x16 per cycle per phase. 9 window rows -> 16 rows multiplied
    # (two 8-row groups) and one 16-row face reduced, over 32 columns:
    # mul 16*32/128*4 = 16, reduce 16*32/256*4 = 8 cycles per pixel -> 32 px = 768.
    conv = _dw(8, 32, kernel=3)  # 8x8 output = 64 px; plan 32 px per core
    plan = ShardPlan("height_sharded", (2, 1), 1, 32, 32)
    cost = estimate(conv, "n150", plan, tiles_per_pass=8)
    assert cost.pool.floors["fpu"] == pytest.approx(768)


def test_matmul_fpu_floor_matches_hand_count() -> None:
    # Same layer as matmul: one 32-row M tile, K = 32 ch * 9 = 9 tiles, N = 1 tile:
    # 9 tile matmuls at 64 cycles (HiFi4, GEMM_FLOPS.md) + tilize of 9 im2col tiles
    # through an 8-cycle datacopy each = 576 + 72 = 648.
    conv = _dw(8, 32, kernel=3)
    plan = ShardPlan("height_sharded", (2, 1), 1, 32, 32)
    cost = estimate(conv, "n150", plan)
    assert cost.matmul.floors["fpu"] == pytest.approx(648)
    assert cost.matmul_tile_diagonal.floors["fpu"] == pytest.approx(648)  # C = 32: the same


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("weight_dtype", ["bf16", "bfp8_b", "bfp4_b"])
def test_pool_beats_zero_padded_matmul_on_mobilenetv2(device: str, weight_dtype: str) -> None:
    ratios = []
    for size, channels, stride in MOBILENETV2:
        if channels < 96:  # one channel tile: the block diagonal wastes no more than 32x
            continue
        conv = _dw(size, channels, stride, has_bias=True, activation="relu6",
                   weight_dtype=weight_dtype)
        cost = estimate(conv, device)
        where = f"{size}x{size}x{channels}/s{stride} {weight_dtype} on {device}"
        # Never a win by more than the MACs the zero padding wastes (K = C*kH*kW of
        # which kH*kW is used); a clear win from 144 channels (4.5 tiles) up.
        assert cost.ratio <= conv.padded_channels, f"{where}: ratio {cost.ratio:.2f}"
        assert cost.ratio > (1.0 if channels >= 144 else 0.8), f"{where}: ratio {cost.ratio:.2f}"
        assert prefer_pool(conv, device) == (cost.ratio >= 1.0, pytest.approx(cost.ratio))
        ratios.append(cost.ratio)
    ratios.sort()
    assert ratios[len(ratios) // 2] >= 2.0, f"median margin {ratios[len(ratios) // 2]:.2f}"


def test_zero_padding_waste_is_counted() -> None:
    conv = _dw(28, 192)
    cost = estimate(conv, "n150")
    # full grouped layout: every output channel multiplies C*9 inputs, 9 of them useful
    assert cost.matmul.macs / cost.matmul.useful_macs >= 192
    # tile-diagonal: 32 channels per K block, one useful
    assert cost.matmul_tile_diagonal.macs / cost.matmul_tile_diagonal.useful_macs >= 32
    assert cost.pool.macs / cost.pool.useful_macs < 1.5


SWEEP = [
    _dw(112, 32, 1, has_bias=True, activation="relu6"),
    _dw(56, 144, 2, kernel=5, activation="silu", weight_dtype="bfp8_b"),
    _dw(14, 1152, 1, kernel=5, has_bias=True, activation="silu", weight_dtype="bfp4_b"),
    _dw(20, 640, 1, activation="gelu", dtype="bfp8_b"),
    _dw(40, 320, 2, kernel=7, has_bias=True, activation="relu"),
    _dw(7, 960, 1, kernel=1),
    _dw(3, 32, 1, kernel=3),
    DepthwiseConv(batch=2, in_h=33, in_w=17, channels=40, kernel=(3, 5), stride=(2, 1),
                  padding=(1, 0, 2, 2), dilation=(2, 1)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("conv", SWEEP, ids=lambda c: f"{c.in_h}x{c.in_w}x{c.channels}k{c.kernel[0]}")
def test_roofline_never_above_estimate(device: str, conv: DepthwiseConv) -> None:
    for tiles_per_pass in (1, 8):
        cost = estimate(conv, device, tiles_per_pass=tiles_per_pass)
        for name in ("pool", "matmul", "matmul_tile_diagonal"):
            path = getattr(cost, name)
            assert 0 < path.roofline_cycles <= path.cycles, name
            assert path.roofline_time_s <= path.time_s
            assert path.binding in ("fpu", "l1", "noc", "dram")
            assert path.bottleneck in path.threads


def test_one_by_one_kernel_is_sane() -> None:
    one = _dw(28, 192, kernel=1)
    three = _dw(28, 192, kernel=3)
    plan = _height_plan(one, 8)
    c1 = estimate(one, "n150", plan)
    c3 = estimate(three, "n150", plan)
    for path in ("pool", "matmul"):
        p1, p3 = getattr(c1, path), getattr(c3, path)
        assert math.isfinite(p1.cycles) and p1.cycles > 0
        assert p1.cycles < p3.cycles, f"{path}: a 1x1 window must be cheaper than 3x3"
        assert p1.useful_macs * 9 == p3.useful_macs
    # one stick per output pixel: the gather moves the activation once
    gathered = c1.pool.noc_bytes - c1.pool.weight_l1_bytes
    assert gathered == plan.pixels_per_core * 192 * 2
    assert 0 < c1.ratio < math.inf


def test_batching_passes_is_faster() -> None:
    conv = _dw(56, 144, has_bias=True, activation="relu6")
    unbatched = estimate(conv, "n150", tiles_per_pass=1)
    batched = estimate(conv, "n150", tiles_per_pass=8)
    assert batched.pool.cycles < unbatched.pool.cycles
    assert batched.matmul.cycles == unbatched.matmul.cycles  # the matmul path is not ours


def test_activation_costs_sfpu_time() -> None:
    base = _dw(56, 144)
    plain = estimate(base, "n150").pool.threads["math"]
    relu = estimate(base.with_(activation="relu"), "n150").pool.threads["math"]
    silu = estimate(base.with_(activation="silu"), "n150").pool.threads["math"]
    assert plain < relu < silu


def test_blackhole_is_faster_than_wormhole_on_a_large_layer() -> None:
    conv = _dw(56, 144, has_bias=True, activation="relu6")
    n150, p150 = estimate(conv, "n150"), estimate(conv, "p150")
    assert p150.pool.time_s < n150.pool.time_s
    assert p150.matmul.time_s < n150.matmul.time_s


def test_device_lookup() -> None:
    assert device_params("n150") is DEVICE_PARAMS["n150"]
    assert device_params(DEVICE_PARAMS["p150"]).clock_hz == 1.35e9
    with pytest.raises(ValueError):
        device_params("grayskull")
    from tt_dw_mlir import sharding
    for name, dev in sharding.DEVICES.items():
        params = device_params(dev)
        assert params.name == name
        assert params.grid == dev.grid, f"cost model and sharding disagree on {name}'s grid"


def test_prefer_pool_accepts_device_objects() -> None:
    conv = _dw(28, 192)
    by_name = prefer_pool(conv, "p150")
    assert prefer_pool(conv, DEVICE_PARAMS["p150"]) == by_name
    assert isinstance(by_name[0], bool) and by_name[1] > 0
