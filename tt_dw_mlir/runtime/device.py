"""The "ttnn" backend: the TT-Lang operation on a Tenstorrent device, through ttnn.

`run_device` does what the "sim" backend does, on hardware:

1. host tensors: the operation's operands (`operation_operands`), the same tensors
   the simulator gets, each with a role;
2. to the device (`to_device`): `ttnn.from_torch(..., layout=ttnn.TILE_LAYOUT)`
   (tt-lang 1.1.1 accepts only tilized L1 / DRAM tensors: ttl_api.py
   `_validate_ttnn_tensors`), the output, and the activation's window planes when
   they fit (`KernelProgram.l1_sharded_operands`), in L1 with the
   sharded memory config the plan chose (`shard_plan` -> `ttnn.MemoryConfig(
   TensorMemoryLayout.*_SHARDED, BufferType.L1, ttnn.ShardSpec(CoreRangeSet,
   [shard height, shard width], ShardOrientation.ROW_MAJOR))`), the rest in
   DRAM, interleaved (the weight sender reads them from DRAM and
   multicasts them);
3. compile and launch (`compile_operation`): the kernels' `@ttl.operation`, built
   by the TT-Lang compiler (the `tt-lang` wheel, Python 3.12, `ttnn==0.69.0`) and
   called with the device tensors, as tt-lang's tutorials do;
4. read back (`ttnn.to_torch`) and undo the kernels' output layout (`read_output`).

Everything but step 3 is exercised by test/device/test_ttnn.py against a stand-in
`ttnn` module; step 3 has not run anywhere (no device here: README, "Running on a
Tenstorrent device"). Without ttnn or a device every call raises DeviceUnavailable
with the reason, and the device tests skip with it. ttnn has no Python 3.11 wheel
and none of its ops run without a device (DESIGN.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..conv_config import TILE
from ..program import OPERANDS, KernelProgram, operand_dtypes
from ..sharding import scheme_splits
from ._tensors import operation_tensors, output_from_rows


class DeviceUnavailable(RuntimeError):
    """No Tenstorrent device (or no ttnn / tt-lang compiler) on this machine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _import_ttnn():
    try:
        import ttnn
    except ImportError as err:
        raise DeviceUnavailable(f"ttnn is not installed ({err}); it has no Python 3.11 wheel "
                                f"and needs a Tenstorrent device") from None
    # tt-lang-sim's launcher can shadow `ttnn` with its simulator module
    if getattr(ttnn, "__name__", "").startswith("ttl.sim") or hasattr(ttnn, "TTNN_AVAILABLE"):
        raise DeviceUnavailable("`ttnn` is tt-lang-sim's simulated ttnn, not a device runtime")
    return ttnn


def device_available() -> tuple[bool, str]:
    """(True, "") when a Tenstorrent device can be opened, else (False, reason)."""
    try:
        ttnn = _import_ttnn()
        count = ttnn.GetNumAvailableDevices() if hasattr(ttnn, "GetNumAvailableDevices") else 0
        if count < 1:
            return False, "ttnn found no Tenstorrent device"
    except DeviceUnavailable as err:
        return False, err.reason
    except Exception as err:  # driver / firmware errors: report them, do not crash
        return False, f"ttnn could not enumerate devices: {err}"
    return True, ""


def open_device(device_id: int = 0) -> Any:
    ok, reason = device_available()
    if not ok:
        raise DeviceUnavailable(reason)
    ttnn = _import_ttnn()
    try:
        return ttnn.open_device(device_id=device_id)
    except Exception as err:
        raise DeviceUnavailable(f"ttnn.open_device({device_id}) failed: {err}") from None


# --------------------------------------------------------------------------- #
# The plan's memory configs
# --------------------------------------------------------------------------- #
MEMORY_LAYOUTS = {"height_sharded": "HEIGHT_SHARDED", "width_sharded": "WIDTH_SHARDED",
                  "block_sharded": "BLOCK_SHARDED"}
TTNN_DTYPES = {"bf16": "bfloat16", "bfp8_b": "bfloat8_b", "bfp4_b": "bfloat4_b", "f32": "float32"}


@dataclass(frozen=True)
class ShardPlan:
    """What `ttnn.ShardSpec` + `ttnn.MemoryConfig` need, decided from the plan."""

    memory_layout: str                            # TensorMemoryLayout member name
    core_ranges: tuple[tuple[int, int, int, int], ...]  # inclusive (x0, y0, x1, y1), x = column
    shard_shape: tuple[int, int]                  # [height, width] in elements
    splits: tuple[int, int]                       # (row splits = pixel groups, column splits = channel shards)
    orientation: str = "ROW_MAJOR"


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def shard_plan(program: KernelProgram, rows: int, cols: int) -> ShardPlan:
    """The sharding of a 2-D (rows x cols) tensor the plan's scheme and cores give.

    Rows split over the pixel groups (height: every core; block: every grid row),
    columns over the channel shards (width: every core; block: every grid column),
    shard heights rounded up to whole tiles (TILE layout). ROW_MAJOR orientation
    walks the cores in the order the plan numbers pixel groups and shards
    (`KernelProgram.core_pixel_group` / `core_shard`: row-major, x = column).
    """
    sh = program.sharding
    shards, groups = scheme_splits(sh.scheme, sh.grid, sh.num_cores)
    if cols % shards:
        raise ValueError(f"{cols} columns do not split into {shards} channel shards")
    height = _round_up(-(-rows // groups), TILE)
    if sh.scheme == "block_sharded":
        rows_g, cols_g = sh.grid
        ranges = ((0, 0, cols_g - 1, rows_g - 1),)
    else:
        ranges = tuple(tuple(r) for r in program.core_ranges())
    return ShardPlan(MEMORY_LAYOUTS[sh.scheme], ranges, (height, cols // shards), (groups, shards))


@dataclass(frozen=True)
class DeviceOperand:
    """One operand of the operation: its host tensor, dtype and where it lives on device."""

    name: str
    role: str                  # activation | weights | constant | output | scratch
    host: torch.Tensor
    dtype: str                 # bf16 | bfp8_b | bfp4_b
    shard: ShardPlan | None    # None: DRAM, interleaved

    @property
    def padded_host(self) -> torch.Tensor:
        """The host tensor as 2-D rows, zero-padded so every shard is whole."""
        rows = self.host.reshape(-1, self.host.shape[-1])
        if self.shard is None:
            return rows
        want = self.shard.shard_shape[0] * self.shard.splits[0]
        if want > rows.shape[0]:
            rows = torch.cat([rows, rows.new_zeros(want - rows.shape[0], rows.shape[1])])
        return rows


def memory_config(ttnn: Any, operand: DeviceOperand) -> Any:
    if operand.shard is None:
        return ttnn.DRAM_MEMORY_CONFIG
    plan = operand.shard
    cores = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(x0, y0), ttnn.CoreCoord(x1, y1))
                               for x0, y0, x1, y1 in plan.core_ranges})
    spec = ttnn.ShardSpec(cores, list(plan.shard_shape), getattr(ttnn.ShardOrientation, plan.orientation))
    return ttnn.MemoryConfig(getattr(ttnn.TensorMemoryLayout, plan.memory_layout),
                             ttnn.BufferType.L1, spec)


def to_device(ttnn: Any, device: Any, operand: DeviceOperand) -> Any:
    return ttnn.from_torch(operand.padded_host.to(torch.float32).contiguous(),
                           dtype=getattr(ttnn, TTNN_DTYPES[operand.dtype]),
                           layout=ttnn.TILE_LAYOUT, device=device,
                           memory_config=memory_config(ttnn, operand))


# --------------------------------------------------------------------------- #
# The kernels' operands and output (follow the `@ttl.operation`'s parameters)
# --------------------------------------------------------------------------- #
def operation_operands(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
                       prepared_bias: Any = None) -> list[DeviceOperand]:
    """The operands of the kernels' operation, in parameter order, as the simulator gets
    them (`runtime.sim.run_sim`; tensor forms in tt_dw_mlir/kernels/depthwise_pool_op.py)."""
    conv = program.conv
    in_l1 = program.l1_sharded_operands()

    def operand(name, role, host, dtype):
        shard = shard_plan(program, host.shape[0], host.shape[1]) if name in in_l1 else None
        return DeviceOperand(name, role, host, dtype, shard)

    roles = {"windows": "activation", "weights": "weights", "bias": "weights",
             "selectors": "constant", "out": "output"}
    dtypes = operand_dtypes(conv)
    tensors = operation_tensors(program, x_nhwc, prepared_weights, prepared_bias)
    return [operand(name, roles[name], host, dtypes[name])
            for name, host in zip(OPERANDS, tensors)]


def read_output(program: KernelProgram, out: torch.Tensor) -> torch.Tensor:
    """The `out` operand as read back (rows = pixels, each pixel group padded to whole
    tiles) -> NHWC."""
    return output_from_rows(program, out.reshape(-1, program.layout.padded_channels))


def compile_operation(program: KernelProgram) -> Any:
    """The kernels' `@ttl.operation` for `program`, bound to the TT-Lang compiler."""
    try:
        import ttl
        ttl.operation  # the compiler wheel exports the DSL at top level
    except (ImportError, AttributeError):
        raise DeviceUnavailable("a Tenstorrent device is present but the tt-lang compiler "
                                "(`ttl`, the tt-lang 1.1.1 wheel) is not installed") from None
    from ..kernels import load

    return load(ttl, "compiler").build_operation(program.kernel_args())


def run_device(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
               prepared_bias: Any = None, *, ttnn: Any = None, device: Any = None,
               operation: Any = None) -> torch.Tensor:
    """Run the kernels on a device; returns NHWC float32 like the other backends.

    `ttnn`, `device` and `operation` default to the real module, device 0 and the
    compiled kernels; the tests pass stand-ins for all three."""
    operands = operation_operands(program, x_nhwc, prepared_weights, prepared_bias)
    ttnn = _import_ttnn() if ttnn is None else ttnn
    own_device = device is None
    device = open_device() if own_device else device
    try:
        operation = compile_operation(program) if operation is None else operation
        tensors = [to_device(ttnn, device, operand) for operand in operands]
        operation(*tensors)
        out_index = next(i for i, o in enumerate(operands) if o.role == "output")
        return read_output(program, ttnn.to_torch(tensors[out_index]).to(torch.float32))
    finally:
        if own_device:
            ttnn.close_device(device)
