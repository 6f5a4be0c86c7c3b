"""KernelProgram: attribute round trip, CB sizes, L1 refusals, multicast sets, cache keys."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
import torch

from tt_dw_mlir.blockfloat import quantize
from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.program import (DST_FULL_SYNC_EN, FP32_DEST_ACC_EN, KernelProgram, ProgramCache,
                                build_program, dst_tiles, plan_program)
from tt_dw_mlir.runtime._tensors import quantized
from tt_dw_mlir.sharding import Refusal, candidates, get_device

SMALL = {"base": "n150", "name": "n150_2x4", "grid": [2, 4]}


def dw(c=64, hw=14, k=3, s=1, bias=True, act="relu6", dtype="bf16", wdtype="bf16", n=1):
    p = k // 2
    return DepthwiseConv(n, hw, hw, c, (k, k), (s, s), (p, p, p, p), (1, 1), bias, act, dtype, wdtype)


PROGRAMS = [
    ("height", dw(), "n150", "height_sharded"),
    ("width", dw(c=256, hw=7, bias=False, act="none"), "n150", "width_sharded"),
    ("block", dw(c=192, hw=28, k=5, s=2, act="silu", dtype="bfp8_b", wdtype="bfp4_b"), "p150",
     "block_sharded"),
    ("k7-partial-row", dw(c=32, hw=7, k=7, act="gelu"), SMALL, "height_sharded"),
    ("wide", dw(c=512, hw=6), SMALL, "height_sharded"),
]
ATTRIBUTE_TYPES = (int, str, bool)


def plan(conv, device, scheme):
    program = plan_program(conv, device, scheme)
    assert isinstance(program, KernelProgram), program
    return program


@pytest.mark.parametrize("name,conv,device,scheme", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_attributes_round_trip_exactly(name, conv, device, scheme):
    program = plan(conv, device, scheme)
    attrs = program.to_attributes()

    def check_kinds(value, key):  # what an MLIR attribute can hold: scalars, lists, dicts
        if isinstance(value, dict):
            for k, v in value.items():
                check_kinds(v, f"{key}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                check_kinds(v, f"{key}[{i}]")
        else:
            assert isinstance(value, ATTRIBUTE_TYPES), key

    check_kinds(attrs, "program")
    again = KernelProgram.from_attributes(json.loads(json.dumps(attrs)), program.conv,
                                          program.sharding, program.layout)
    assert again == program
    assert again.to_attributes() == attrs
    assert again.verify() == []


def test_from_attributes_rejects_edited_compile_args():
    program = plan(*PROGRAMS[0][1:])
    attrs = program.to_attributes()
    compute = next(k for k in attrs["kernels"] if k["name"] == "compute")
    compute["compile_args"]["window"] = 25
    with pytest.raises(ValueError, match="compute.window"):
        KernelProgram.from_attributes(attrs, program.conv, program.sharding, program.layout)


def test_compile_args_are_what_each_kernel_factory_binds():
    program = plan(dw(c=96, bias=True, act="silu"), "n150", "height_sharded")
    args = program.compile_args()
    ids = {c.name: c.id for c in program.circular_buffers}
    captured = {role: {k[:-len("_cb_id")] for k in a if k.endswith("_cb_id")}
                for role, a in args.items()}
    # the DFBs each thread of kernels/ captures, with the plan's ids
    assert captured == {"reader": {"in", "selector", "weight_stage", "weight", "bias_stage", "bias"},
                        "compute": {"in", "selector", "weight", "bias", "acc", "out"},
                        "writer": {"out"}}
    assert all(args[role][f"{n}_cb_id"] == ids[n] for role in args for n in captured[role])
    assert args["compute"]["window"] == 9 and args["compute"]["has_bias"] == 1
    assert args["compute"]["activation"] == 3  # silu
    assert args["reader"]["row_chunks"] == 1 and args["reader"]["channel_tiles"] == 3
    assert "activation" not in args["reader"] and "window" not in args["writer"]


def test_a_factory_parameter_the_plan_cannot_bind_is_refused(monkeypatch):
    import tt_dw_mlir.program as program_module

    program = plan(*PROGRAMS[0][1:])
    real = program_module.factory_parameters
    monkeypatch.setattr(program_module, "factory_parameters",
                        lambda path, factory: real(path, factory) + ("halo_rows",))
    with pytest.raises(ValueError, match="parameter 'halo_rows'"):
        program.compile_args()


def test_circular_buffers_are_the_kernels_dataflow_buffers():
    # 96 channels = 3 tiles in one block; a bias: every buffer one tile per block column
    program = plan(dw(c=96, bias=True), "n150", "height_sharded")
    assert [(c.id, c.name, c.num_pages, c.page_size) for c in program.circular_buffers] == [
        (0, "in", 3 * 2, 2048),            # 1 x 3 tiles, double buffered
        (1, "selector", 1 * 2, 4096),      # 1 x RC (3x3: one 16-row chunk), float32
        (2, "weight_stage", 3, 2048),      # RC x 3
        (3, "weight", 3, 2048),            # one channel block: one weight block
        (4, "bias_stage", 3, 2048),
        (5, "bias", 3, 2048),
        (6, "acc", 3 * 2, 4096),           # like the selectors: float32
        (7, "out", 3 * 2, 2048)]
    # L1: the buffers, plus the core's shards of the window planes and the output
    # (196 pixels / 64 cores -> 4 per core = 1 tile of 32; 3 channel tiles; 9 positions)
    assert program.l1_operand_bytes() == {"windows": 1 * 9 * 3 * 2048, "out": 1 * 3 * 2048}
    assert program.l1_bytes_per_core() == (6 + 3 + 3 + 3 + 3 + 6 + 27 + 3) * 2048 \
        + (2 + 6) * 4096
    # without a bias there are no bias buffers: acc and out close up to ids 4 and 5, and
    # no thread names a bias buffer
    no_bias = plan(dw(c=96, bias=False), "n150", "height_sharded")
    assert [(c.id, c.name) for c in no_bias.circular_buffers] == [
        (0, "in"), (1, "selector"), (2, "weight_stage"), (3, "weight"), (4, "acc"), (5, "out")]
    assert no_bias.compile_args()["compute"]["acc_cb_id"] == 4
    assert not any(k.startswith("bias") for a in no_bias.compile_args().values() for k in a)
    # bfp8 activations, bfp4 weights: page = one tile of the operand's format; the
    # selectors, and the acc buffer made like them, stay float32: the window sum is never
    # rounded to the activations' format
    mixed = plan(dw(c=64, dtype="bfp8_b", wdtype="bfp4_b"), "n150", "height_sharded")
    assert {c.name: (c.dtype, c.page_size) for c in mixed.circular_buffers} == {
        "in": ("bfp8_b", 1088), "selector": ("f32", 4096), "weight_stage": ("bfp4_b", 576),
        "weight": ("bfp4_b", 576), "bias_stage": ("bfp4_b", 576), "bias": ("bfp4_b", 576),
        "acc": ("f32", 4096), "out": ("bfp8_b", 1088)}


def test_weight_and_selector_buffers_grow_with_the_kernel():
    # one channel tile: the selector row and the weight block are RC tiles, RC = row
    # chunks of the weight tiles (16 rows up to 16 positions, 32 beyond)
    pages = {}
    for k in (3, 5, 7):
        conv = dw(c=32, hw=9, k=k)
        sharding = candidates(conv, "n150", "width_sharded")[0]
        program = build_program(conv, sharding, "n150")
        pages[k] = (program.cb("selector").num_pages, program.cb("weight").num_pages)
    # 3x3: 9 rows, one 16-row chunk; 5x5: 25 rows, one 32-row chunk; 7x7: 49, two
    assert pages == {3: (2, 1), 5: (2, 1), 7: (4, 2)}


def test_dst_holds_half_as_many_tiles_with_float32_accumulation():
    # tt-metal dest_helpers.hpp get_dest_limit: SyncHalf 8 / 4, SyncFull 16 / 8 tiles
    assert [dst_tiles(fp32, full) for fp32 in (False, True) for full in (False, True)] == [
        8, 16, 4, 8]
    # the kernels accumulate in float32 in half sync: 4 tiles per pass
    assert (FP32_DEST_ACC_EN, DST_FULL_SYNC_EN) == (True, False)


def test_wide_reduction_runs_in_channel_blocks_that_fit_dst():
    # 512 channels per core = 16 tiles: blocks of 4 float32 tiles (one DST pass), not 8
    program = plan(dw(c=512, hw=6), SMALL, "height_sharded")
    assert program.layout.channels_per_shard == 512
    assert program.block_channel_tiles == 4 and program.channel_blocks == 16 // 4
    assert program.compile_args()["compute"]["channel_blocks"] == 4
    # the next block's weights and bias arrive while this one is computed
    assert program.cb("weight").num_pages == program.cb("bias").num_pages == 2 * 4
    # a plan asking DST for more is refused, as a plan read back from IR would be
    eight = dataclasses.replace(program, block_channel_tiles=8)
    assert any("8 channel tiles per pass exceed the 4 float32 tiles DST holds" in p
               for p in eight.verify())


@pytest.mark.parametrize("channels", [32 * t for t in range(1, 33)])
def test_no_plan_asks_dst_for_more_than_it_holds(channels):
    # every channel count up to 32 tiles, on every scheme the planner picks: the window
    # sum of a block (block_channel_tiles float32 tiles) fits DST; 5 tiles per core (e.g.
    # MobileNetV2's 960 channels in 6 shards) have no divisor from 2 to 4: blocks of 1
    for scheme in ("height_sharded", "width_sharded", "block_sharded"):
        program = plan_program(dw(c=channels, hw=7), "n150", scheme)
        if not isinstance(program, KernelProgram):
            continue
        tiles = program.layout.channel_tiles
        assert program.block_channel_tiles <= 4
        assert program.block_channel_tiles == max(d for d in (1, 2, 3, 4) if tiles % d == 0)
        assert program.verify() == []


def test_oversized_config_refused_with_numbers():
    tiny = {"base": "n150", "name": "tiny", "l1_bytes": 110_000, "l1_unreserved_base": 100_000}
    conv = dw(c=640, hw=20, k=7, act="silu")
    refusal = plan_program(conv, tiny)
    assert isinstance(refusal, Refusal)
    assert refusal.limit == "l1"
    assert "10000 B usable" in refusal.message
    needed = int(re.search(r"needs (\d+) B of L1", refusal.message).group(1))
    assert needed > 10_000
    # the same plan on the real device fits
    assert isinstance(plan_program(conv, "n150"), KernelProgram)


def test_verify_reports_l1_and_mismatches():
    conv = dw(c=640, hw=20, k=7)
    sharding = candidates(conv, "n150", "width_sharded")[0]
    tiny = get_device({"base": "n150", "name": "tiny", "l1_bytes": 110_000,
                       "l1_unreserved_base": 100_000})
    program = build_program(conv, sharding, tiny)
    problems = program.verify()
    assert any("of L1 per core" in p and "10000 B usable" in p for p in problems)
    ok = build_program(conv, sharding, "n150")
    assert ok.verify() == []
    wrong = dataclasses.replace(ok, layout=dataclasses.replace(ok.layout, dtype="bfp4_b"))
    assert any("does not match conv" in p for p in wrong.verify())
    lost = dataclasses.replace(ok, multicast=ok.multicast[1:])
    assert any("multicast reaches" in p for p in lost.verify())


@pytest.mark.parametrize("name,conv,device,scheme", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_multicast_covers_each_shard_once(name, conv, device, scheme):
    program = plan(conv, device, scheme)
    for shard in range(program.layout.num_shards):
        cores = sorted(program.shard_cores(shard))
        reached = []
        for m in program.multicast:
            if m.shard == shard:
                assert m.sender == cores[0]
                (r0, c0), (r1, c1) = m.receivers
                reached += [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
        assert sorted(reached) == cores


def test_partial_last_row_needs_two_multicast_rectangles():
    program = plan(*PROGRAMS[3][1:])  # 7x7 output pixels on a 2x4 grid: 7 cores
    assert program.sharding.num_cores == 7
    assert [m.receivers for m in program.multicast] == [((0, 0), (0, 3)), ((1, 0), (1, 2))]


def test_cache_key_separates_every_change():
    base = dw()
    variants = [base, base.with_(activation="relu"), base.with_(has_bias=False),
                base.with_(dtype="bfp8_b"), base.with_(weight_dtype="bfp4_b"),
                base.with_(stride=(2, 2)), base.with_(padding=(1, 1, 0, 2)),
                base.with_(dilation=(2, 2), padding=(2, 2, 2, 2)), base.with_(kernel=(5, 5)),
                base.with_(batch=2), base.with_(in_w=15), base.with_(channels=96)]
    keys = [plan(v, "n150", None).cache_key() for v in variants]
    keys.append(plan(base, "p150", None).cache_key())
    keys.append(plan(base, "n150", "width_sharded").cache_key())
    assert len(set(keys)) == len(keys)
    assert plan(base, "n150", None).cache_key() == keys[0]  # same conv, same key


def test_program_cache_builds_once_per_key():
    cache = ProgramCache()
    a, b = plan(dw(), "n150", None), plan(dw(act="relu"), "n150", None)
    built = []
    for program in (a, b, a, a, b):
        cache.get_or_build(program, lambda p: built.append(p) or len(built))
    assert built == [a, b]
    assert (cache.misses, cache.hits, len(cache)) == (2, 3, 2)


def test_bf16_fast_path_matches_blockfloat():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(4096).astype(np.float32) * 10.0 ** rng.integers(-30, 30, 4096),
                        np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 3.4e38, -3.4e38,
                                  1e-40, -1e-40, 0.0, -0.0, np.inf, -np.inf], dtype=np.float32)])
    fast = quantized(torch.from_numpy(x), "bf16").numpy()
    assert np.array_equal(fast.view(np.uint32), quantize(x, "bf16").view(np.uint32))


def test_the_lowering_rebuilds_the_plan_from_its_sharding():
    # the op records the plan's sharding (weight_layout) and nothing else about it: the
    # program built from that sharding is the plan, buffers and blocks included
    conv = DepthwiseConv(1, 56, 56, 144, (3, 3), (1, 1), (1, 1, 1, 1))
    program = plan_program(conv, "n150")
    assert isinstance(program, KernelProgram)
    rebuilt = build_program(conv, program.sharding, "n150")
    assert rebuilt == program and rebuilt.verify() == []
    assert "pixels_per_pass" not in program.to_attributes()


def test_from_attributes_rejects_edited_circular_buffers():
    program = plan(*PROGRAMS[0][1:])
    attrs = json.loads(json.dumps(program.to_attributes()))
    attrs["circular_buffers"][0]["num_pages"] = 8
    with pytest.raises(ValueError, match="circular buffers do not match .* in"):
        KernelProgram.from_attributes(attrs, program.conv, program.sharding, program.layout)


def test_program_op_reads_its_program_by_symbol_or_inline():
    """The lowering defines each distinct program once and names it; IR written before that
    (the dictionary inline on the op) reads and verifies the same; a tampered one does not."""
    from tt_dw_mlir.api import compile_text
    from tt_dw_mlir.dialect import ttnn, verify_module
    from tt_dw_mlir.ir import ir, ops_named

    text = """func.func @f(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
      %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
      return %0 : tensor<1x16x16x32xbf16>
    }"""
    module = compile_text(text, "builtin.module(tt-depthwise-to-pool{path=pool}, tt-depthwise-pool-to-kernels)").module
    (op,) = ops_named(module.operation, "ttnn.depthwise_pool_program")
    (definition,) = ops_named(module.operation, ttnn.PROGRAM_DEFINITION)
    by_symbol = ttnn.program_of(op)
    assert isinstance(op.attributes["program"], ir.FlatSymbolRefAttr)
    with module.context:
        op.attributes["program"] = definition.attributes["program"]
        definition.erase()
        assert verify_module(module) == []
        assert ttnn.program_of(op) == by_symbol
        edited = ttnn.from_attribute(op.attributes["program"])
        edited["block_channel_tiles"] += 1
        op.attributes["program"] = ttnn.to_attribute(edited)
        assert any("program" in d.message for d in verify_module(module))
