"""The "ttnn" backend.

On a machine with a Tenstorrent device (ttnn importable, a device opened) the first
test runs the kernels there; here it skips with the reason. Everything up to the
compile-and-launch call is tested against `StandInTTNN`, a small stand-in for the
`ttnn` module that records what the backend asks of it and checks each request the
way ttnn would reject it (tile-aligned shards, shard grids that cover the tensor),
with expected memory configs derived by hand from the plan below each test.
"""

from __future__ import annotations

import ast
import math
from types import SimpleNamespace

import pytest
import torch

from dw_cases import dw, make_inputs, pcc, pcc_target, torch_oracle
from tt_dw_mlir.program import plan_program
from tt_dw_mlir.runtime import DeviceUnavailable, available_backends, execute
from tt_dw_mlir.runtime.device import (compile_operation, device_available, operation_operands,
                                       run_device)

CONV = dw(1, 14, 14, 64, 3, bias=True, act="relu6")


def test_ttnn_backend_on_device():
    ok, reason = device_available()
    if not ok:
        pytest.skip(f"no Tenstorrent device: {reason}")
    program = plan_program(CONV, "n150")
    x, w, b, pw, pb = make_inputs(CONV, program.layout)
    y = execute(program, x, pw, pb, backend="ttnn")
    assert pcc(y, torch_oracle(CONV, x, w, b)) >= pcc_target(CONV)


def test_without_device_ttnn_raises_device_unavailable_with_reason():
    ok, reason = device_available()
    if ok:
        pytest.skip("a Tenstorrent device is present")
    assert "ttnn" not in available_backends()
    assert {"reference", "sim"} <= set(available_backends())
    program = plan_program(CONV, "n150")
    _, _, _, pw, pb = make_inputs(CONV, program.layout)
    with pytest.raises(DeviceUnavailable) as err:
        execute(program, torch.zeros(1, 14, 14, 64), pw, pb, backend="ttnn")
    assert err.value.reason == reason and reason


def test_compile_without_the_tt_lang_compiler_says_so():
    try:
        import ttl
        has_compiler = hasattr(ttl, "operation")
    except ImportError:
        has_compiler = False
    if has_compiler:
        pytest.skip("the tt-lang compiler is installed")
    with pytest.raises(DeviceUnavailable, match="tt-lang compiler"):
        compile_operation(plan_program(CONV, "n150"))


# --------------------------------------------------------------------------- #
# The stand-in ttnn
# --------------------------------------------------------------------------- #
class StandInTensor:
    def __init__(self, host, dtype, layout, device, memory_config):
        self.host, self.dtype, self.layout = host.clone(), dtype, layout
        self.device, self.memory_config = device, memory_config


class StandInTTNN(SimpleNamespace):
    """The parts of ttnn 0.69 the backend uses (names as in ttnn's Python API)."""

    def __init__(self):
        enum = lambda *names: SimpleNamespace(**{n: n for n in names})  # noqa: E731
        super().__init__(
            TILE_LAYOUT="TILE", ROW_MAJOR_LAYOUT="ROW_MAJOR",
            bfloat16="bfloat16", bfloat8_b="bfloat8_b", bfloat4_b="bfloat4_b", float32="float32",
            DRAM_MEMORY_CONFIG=SimpleNamespace(buffer_type="DRAM", memory_layout="INTERLEAVED",
                                               shard_spec=None),
            TensorMemoryLayout=enum("INTERLEAVED", "HEIGHT_SHARDED", "WIDTH_SHARDED", "BLOCK_SHARDED"),
            BufferType=enum("DRAM", "L1"), ShardOrientation=enum("ROW_MAJOR", "COL_MAJOR"),
            calls=[], opened=[], closed=[])

    @staticmethod
    def CoreCoord(x, y):
        return (x, y)

    @staticmethod
    def CoreRange(start, end):
        assert start[0] <= end[0] and start[1] <= end[1], (start, end)
        return (start, end)

    @staticmethod
    def CoreRangeSet(ranges):
        assert isinstance(ranges, set) and ranges
        return frozenset(ranges)

    @staticmethod
    def ShardSpec(grid, shard_shape, orientation):
        assert isinstance(grid, frozenset) and len(shard_shape) == 2
        return SimpleNamespace(grid=grid, shape=tuple(shard_shape), orientation=orientation)

    @staticmethod
    def MemoryConfig(memory_layout, buffer_type, shard_spec):
        return SimpleNamespace(memory_layout=memory_layout, buffer_type=buffer_type,
                               shard_spec=shard_spec)

    def from_torch(self, tensor, *, dtype, layout, device, memory_config):
        assert tensor.dim() == 2 and tensor.dtype == torch.float32
        if memory_config.shard_spec is not None:
            _check_shards(tensor.shape, layout, memory_config)
        out = StandInTensor(tensor, dtype, layout, device, memory_config)
        self.calls.append(out)
        return out

    def to_torch(self, tensor):
        return tensor.host.clone()

    def open_device(self, device_id):
        self.opened.append(device_id)
        return f"device{device_id}"

    def close_device(self, device):
        self.closed.append(device)


def _cores(grid) -> list[tuple[int, int]]:
    return [(x, y) for (x0, y0), (x1, y1) in grid for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]


def _check_shards(shape, layout, config):
    """What ttnn refuses: untiled shards in TILE layout, a shard grid that does not
    cover the tensor, height/width sharding that splits the other dimension."""
    h, w = shape
    sh, sw = config.shard_spec.shape
    assert config.buffer_type == "L1"
    if layout == "TILE":
        assert sh % 32 == 0 and sw % 32 == 0, (sh, sw)
    cores = len(_cores(config.shard_spec.grid))
    kind = config.memory_layout
    if kind == "HEIGHT_SHARDED":
        assert sw == w and math.ceil(h / sh) <= cores
    elif kind == "WIDTH_SHARDED":
        assert sh == h and math.ceil(w / sw) <= cores
    else:
        assert kind == "BLOCK_SHARDED" and len(config.shard_spec.grid) == 1
        (x0, y0), (x1, y1) = next(iter(config.shard_spec.grid))
        assert math.ceil(h / sh) <= y1 - y0 + 1 and math.ceil(w / sw) <= x1 - x0 + 1


def _run_with_stand_in(conv, device="n150", scheme=None, operation=None):
    program = plan_program(conv, device, scheme)
    x, w, b, pw, pb = make_inputs(conv, program.layout)
    ttnn = StandInTTNN()
    seen = []
    y = run_device(program, x, pw, pb, ttnn=ttnn, device="dev",
                   operation=operation or (lambda *tensors: seen.append(tensors)))
    return program, ttnn, y, (x, w, b)


def _by_name(program, ttnn):
    names = [o.name for o in operation_operands(program, *_zero_inputs(program))]
    return dict(zip(names, ttnn.calls))


def _zero_inputs(program):
    lay, conv = program.layout, program.conv
    x = torch.zeros(conv.batch, conv.in_h, conv.in_w, conv.channels)
    return x, torch.zeros(lay.prepared_shape), torch.zeros(lay.bias_shape) if conv.has_bias else None


# --------------------------------------------------------------------------- #
# Memory configs against the plan
# --------------------------------------------------------------------------- #
def test_height_sharded_plan_gives_l1_height_shards_on_the_plans_cores():
    # 14x14 output = 196 pixels; n150 (8x8): ceil(196/64) = 4 pixels per core on 49 cores,
    # row-major: x 0..7 on rows 0..5 and x 0 on row 6.
    program, ttnn, _, _ = _run_with_stand_in(CONV)
    assert program.sharding.scheme == "height_sharded" and program.sharding.num_cores == 49
    t = _by_name(program, ttnn)
    assert all(c.layout == "TILE" and c.device == "dev" for c in ttnn.calls)
    cores = frozenset({((0, 0), (7, 5)), ((0, 6), (0, 6))})
    # window planes: 4 pixels per core -> one tile of 32 pixel rows, 9 kernel positions
    # -> 9 * 32 rows of 64 channels per core
    x = t["windows"]
    assert (x.memory_config.memory_layout, x.memory_config.buffer_type) == ("HEIGHT_SHARDED", "L1")
    assert x.memory_config.shard_spec.grid == cores
    assert x.memory_config.shard_spec.shape == (9 * 32, 64)
    assert x.memory_config.shard_spec.orientation == "ROW_MAJOR"
    assert tuple(x.host.shape) == (49 * 9 * 32, 64) and x.dtype == "bfloat16"
    # output: one row per pixel, 4 pixels padded to a 32-row tile per core
    out = t["out"]
    assert out.memory_config.shard_spec.shape == (32, 64) and out.memory_config.shard_spec.grid == cores
    assert tuple(out.host.shape) == (49 * 32, 64)
    # weights, bias and the selector constants stay in DRAM, interleaved
    for name in ("weights", "bias", "selectors"):
        assert t[name].memory_config is ttnn.DRAM_MEMORY_CONFIG, name


def test_block_sharded_plan_with_bfp8_weights():
    # 7x7x960 on n150, block sharded: 6 columns x 160 channels, 7 rows x 7 pixels.
    conv = dw(1, 7, 7, 960, 3, wdtype="bfp8_b")
    program, ttnn, _, _ = _run_with_stand_in(conv, scheme="block_sharded")
    assert program.grid == (7, 6)
    t = _by_name(program, ttnn)
    x = t["windows"].memory_config
    assert x.memory_layout == "BLOCK_SHARDED"
    assert x.shard_spec.grid == frozenset({((0, 0), (5, 6))})
    assert x.shard_spec.shape == (9 * 32, 160)   # 7 pixels -> one pixel tile, 9 positions
    assert t["out"].memory_config.shard_spec.shape == (32, 160)  # 7 pixel rows in one tile
    assert t["weights"].dtype == "bfloat8_b" and t["bias"].dtype == "bfloat8_b"
    assert t["windows"].dtype == "bfloat16"


def test_width_sharded_plan_splits_channels_over_every_core():
    # 960 channels = 30 tiles over 30 cores (x 0..7 on rows 0..2, x 0..5 on row 3).
    conv = dw(1, 7, 7, 960, 3)
    program, ttnn, _, _ = _run_with_stand_in(conv, scheme="width_sharded")
    t = _by_name(program, ttnn)
    x = t["windows"].memory_config
    assert x.memory_layout == "WIDTH_SHARDED"
    assert x.shard_spec.grid == frozenset({((0, 0), (7, 2)), ((0, 3), (5, 3))})
    assert x.shard_spec.shape == (2 * 9 * 32, 32)  # 49 pixels -> 2 pixel tiles x 9 positions
    assert len(_cores(x.shard_spec.grid)) == 30


def test_window_planes_that_do_not_fit_l1_stay_in_dram():
    # 56x56x32 width sharded: one channel shard on one core with all 3136 pixels = 98
    # tiles; the planes (98 x 9 tiles x 2048 B = 1.8 MB) do not fit n150's L1 beside the
    # output shard, so the plan keeps them in DRAM and only the output is sharded.
    conv = dw(1, 56, 56, 32, 3)
    program, ttnn, _, _ = _run_with_stand_in(conv, scheme="width_sharded")
    assert program.l1_sharded_operands() == ("out",)
    assert set(program.l1_operand_bytes()) == {"out"}
    t = _by_name(program, ttnn)
    assert t["windows"].memory_config is ttnn.DRAM_MEMORY_CONFIG
    out = t["out"].memory_config
    assert (out.memory_layout, out.buffer_type) == ("WIDTH_SHARDED", "L1")
    assert out.shard_spec.shape == (98 * 32, 32)


# --------------------------------------------------------------------------- #
# Launch and read-back
# --------------------------------------------------------------------------- #
def test_operands_reach_the_operation_in_its_parameter_order_and_the_device_is_left_alone():
    calls = []
    program, ttnn, _, _ = _run_with_stand_in(CONV, operation=lambda *t: calls.append(t))
    assert len(calls) == 1 and list(calls[0]) == ttnn.calls
    assert ttnn.opened == [] and ttnn.closed == []  # the caller's device: not opened, not closed


def test_read_back_undoes_the_kernels_output_layout():
    """The stand-in operation writes torch's answer where the kernels' writer puts each
    pixel (one row per pixel, pixel group g from row g * 32 * ceil(pixels_per_core / 32));
    the backend must return exactly that answer, as NHWC, quantised to bf16."""
    conv = dw(1, 9, 9, 64, 3, bias=True, act="relu")
    program = plan_program(conv, "n150")
    x, w, b, pw, pb = make_inputs(conv, program.layout)
    want = torch_oracle(conv, x, w, b)
    rows = want.reshape(-1, conv.channels)
    ppc = program.sharding.pixels_per_core
    per_group = -(-ppc // 32) * 32
    names = [o.name for o in operation_operands(program, x, pw, pb)]

    def operation(*tensors):
        out = tensors[names.index("out")].host
        for pixel in range(conv.output_pixels):
            group, local = divmod(pixel, ppc)
            out[group * per_group + local, :conv.channels] = rows[pixel]

    y = run_device(program, x, pw, pb, ttnn=StandInTTNN(), device="dev", operation=operation)
    assert torch.equal(y, want.to(torch.bfloat16).to(torch.float32))


def test_operand_names_follow_the_kernels_operation_parameters():
    """The backend's operand table and the kernels' `@ttl.operation` must agree: read the
    decorated function's parameters from the kernel source (no import, no simulator)."""
    import importlib.resources

    sources = [p for p in importlib.resources.files("tt_dw_mlir.kernels").iterdir()
               if p.name.endswith(".py") and "ttl.operation" in p.read_text()]
    assert sources, "no kernel source defines a @ttl.operation"
    params = None
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                    "operation" in ast.unparse(d) for d in node.decorator_list):
                params = [a.arg for a in node.args.args]
    program = plan_program(CONV, "n150")
    assert [o.name for o in operation_operands(program, *_zero_inputs(program))] == params
