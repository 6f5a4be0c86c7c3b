"""Run a KernelProgram's TT-Lang kernels (tt_dw_mlir/kernels/) on tt-lang-sim, in process.

The kernels are written for the tt-lang 1.1.1 compiler. tt-lang-sim 1.1.6 spells
a few things differently; the kernels get `SimTTL`, tt-lang-sim's `ttl` namespace
with the 1.1.1 call forms on top, with the 1.1.1 meaning (tt-lang
ttl/operators.py, ttl_api.py of the 1.1.1 wheel):

* `ttl.math.broadcast(block, out, dims=[0])` replicates row 0 of every tile over
  the tile's rows (the hardware row broadcast; the sim's `ttl.block.broadcast`
  expands size-1 element dimensions instead);
* `ttl.math.fill(out, value)` is a block of out's shape filled with value (the
  sim's is `ttl.block.fill(value, shape)`), in float32 like every sim block;
* `ttl.math.reduce_sum / reduce_max(block, scaler, dims=)` take the scaler
  block (1.1.6: `(block, dims, shape)`) and multiply the result by its first tile;
* `block += expr` on a block reserved in a compute thread stores with
  accumulation: the first `+=` writes, later ones add (1.1.1 lowers it to packer
  L1 accumulation); 1.1.6 allows `+=` on temporaries only.

Fixes to tt-lang-sim 1.1.6 itself, applied once without editing the package:

* a pipe receive that blocked is re-polled by the scheduler outside any kernel,
  where the simulator cannot tell which core is asking; it then sees a message
  this core already took (a multicast message stays queued until every receiver
  has it), resumes the core and fails with "transfer() called but no receivable
  message". The transaction now records its core when it is created;
* the error printer imports a `ttl/ttl/diagnostics.py` the wheel does not ship;
  kernel errors are printed plainly instead;
* importing the simulator rebinds `torch.bfloat16` / `torch.float16` to
  `torch.float32` for the whole process (its float32 promotion); the names are
  restored right after import. The simulator still computes in float32.
"""

from __future__ import annotations

import importlib
import sys
from types import SimpleNamespace
from typing import Any

import torch

from ..conv_config import TILE
from ..program import OPERANDS, KernelProgram, ProgramCache, operand_dtypes
from ._tensors import operation_tensors, output_from_rows, quantized

PROGRAM_CACHE = ProgramCache()
_patched = False
_sim_ttl: Any = None
_ACCUMULATING: dict[int, Any] = {}  # reserved blocks that took a `+=` (cleared per run)


def _plain_kernel_error(name: str, message: str, source_file: str, source_line: int,
                        source_col: int = 1) -> None:
    print(f"tt-lang-sim: error in {name}: {message} ({source_file}:{source_line})", file=sys.stderr)


def _temporary_block(tensor: torch.Tensor, shape: tuple[int, ...], *sources) -> Any:
    from ttl.sim.blockstate import BlockAcquisition, KernelType
    from ttl.sim.dfb import Block, track_source_blocks
    from ttl.sim.ttnnsim import Tensor

    block = Block(tensor=Tensor(tensor.contiguous()), shape=tuple(shape),
                  acquisition=BlockAcquisition.RESERVE, kernel_type=KernelType.COMPUTE,
                  is_temporary=True)
    if sources:
        track_source_blocks(block, *sources)
    return block


def _broadcast(block: Any, out: Any, dims: list[int]) -> Any:
    """1.1.1 `ttl.math.broadcast`: row 0 (dims [0]), column 0 ([1]) or element (0, 0)
    ([0, 1]) of every tile repeated over the tile, as many tiles as `out` has."""
    rank = 2
    norm = {d % rank for d in dims}
    t = block.to_tensor().to_torch()
    rows, cols = t.shape[-2] // TILE, t.shape[-1] // TILE
    tiles = t.reshape(rows, TILE, cols, TILE)
    if norm == {0}:
        tiles = tiles[:, :1].expand(rows, TILE, cols, TILE)
    elif norm == {1}:
        tiles = tiles[..., :1].expand(rows, TILE, cols, TILE)
    else:
        tiles = tiles[:, :1, :, :1].expand(rows, TILE, cols, TILE)
    return _temporary_block(tiles.reshape(rows * TILE, cols * TILE), out.shape, block)


def _fill(out: Any, value: float) -> Any:
    rows, cols = out.shape
    return _temporary_block(torch.full((rows * TILE, cols * TILE), float(value)), out.shape)


def _reduce(sim_reduce):
    def reduce(block: Any, scaler: Any, dims: list[int]) -> Any:
        shape = tuple(1 if i in {d % len(block.shape) for d in dims} else s
                      for i, s in enumerate(block.shape))
        result = sim_reduce(block, dims, shape)
        return result * _broadcast(scaler, result, [0, 1])  # the scaler's (0, 0) element
    return reduce


def sim_ttl() -> Any:
    """tt-lang-sim's `ttl` namespace with tt-lang 1.1.1's call forms (module docstring)."""
    global _sim_ttl
    if _sim_ttl is None:
        patch_simulator()
        from ttl.sim import ttl as base

        math = SimpleNamespace(**vars(base.math))
        math.broadcast = _broadcast
        math.fill = _fill
        math.reduce_sum = _reduce(base.math.reduce_sum)
        math.reduce_max = _reduce(base.math.reduce_max)
        names = {k: v for k, v in vars(base).items() if k not in ("math", "block")}
        _sim_ttl = SimpleNamespace(**names, math=math, signpost=base.signpost)
    return _sim_ttl


def kernel_module() -> Any:
    """`depthwise_pool_op` with its kernels bound to `sim_ttl()`."""
    from ..kernels import load

    return load(sim_ttl(), "sim")


def patch_simulator() -> None:
    global _patched
    if _patched:
        return
    from ttl.sim import ttnnsim

    for name, dtype in ttnnsim._PROMOTABLE_FLOAT_DTYPES.items():
        setattr(torch, name, dtype)
    sim_copy = importlib.import_module("ttl.sim.copy")
    from ttl.sim.blockstate import ExpectedOp
    from ttl.sim.context import get_context
    from ttl.sim.dfb import Block
    from ttl.sim.nodecontext import node as current_node_id
    from ttl.sim.pipe import DstPipeIdentity, Pipe

    for module in ("ttl.sim.diagnostics", "ttl.sim.greenlet_scheduler", "ttl.sim.program"):
        importlib.import_module(module).print_diagnostic_error = _plain_kernel_error

    transaction = sim_copy.CopyTransaction
    original_init, original_can_wait = transaction.__init__, transaction.can_wait

    def init(self, src, dst, user_location=None):
        original_init(self, src, dst, user_location)
        self._receiving_core = None
        if isinstance(src, (Pipe, DstPipeIdentity)):
            try:
                self._receiving_core = current_node_id(dims=1)
            except RuntimeError:
                pass

    def can_wait(self):  # pipe receive: is there a message this core has not taken?
        core = getattr(self, "_receiving_core", None)
        if core is None:
            return original_can_wait(self)
        pipe = self._src.pipe if isinstance(self._src, DstPipeIdentity) else self._src
        entry = get_context().copy_state.pipe_buffer.get(pipe)
        return entry is not None and any(core not in got for _, _, _, got in entry["queue"])

    transaction.__init__ = init
    transaction.can_wait = can_wait

    original_iadd = Block.__iadd__

    def iadd(self, other):  # 1.1.1: `+=` on a reserved compute block stores with accumulation
        if self._is_temporary:
            return original_iadd(self, other)
        if id(self) not in _ACCUMULATING:  # the first one writes
            self.store(other)
            _ACCUMULATING[id(self)] = self  # kept alive, so the id is not reused in the run
            return self
        # later ones add in place (the sim's state machine allows one store per reserve);
        # the operands' wait() blocks are marked read as store() would
        sources = [other] if not other._is_temporary else list(other._source_blocks or ())
        for source in sources:
            if ExpectedOp.STORE_SRC in source.expected_ops or source._store_confirmation_pending:
                source.mark_store_read_complete()
        acc = self._buf.to_torch()
        acc.copy_(acc + other._buf.to_torch())
        return self

    Block.__iadd__ = iadd
    _patched = True


def _compile(program: KernelProgram) -> tuple[dict, Any]:
    args = program.kernel_args()
    return args, kernel_module().build_operation(args)


def run_sim(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
            prepared_bias: Any = None, cache: ProgramCache | None = None) -> torch.Tensor:
    """The program's operation on tt-lang-sim; NHWC float32 output, quantised like every backend."""
    tensors = operation_tensors(program, x_nhwc, prepared_weights, prepared_bias)
    return output_from_rows(program, run_operation(program, tensors, cache))


def run_operation(program: KernelProgram, tensors: list, cache: ProgramCache | None = None
                  ) -> torch.Tensor:
    """The operation on tt-lang-sim, given its tensors (`_tensors.operation_tensors`, or the
    io tensors of a `ttnn.generic`); returns its `out` tensor (rows = pixels) as read back
    from a tensor of the conv's dtype (the simulator itself stores float32)."""
    cache = PROGRAM_CACHE if cache is None else cache
    args, operation = cache.get_or_build(program, _compile)
    from ttl.sim import ttnn

    # declared dtypes (the simulator sizes DFB pages from them; it computes in float32)
    formats = {"f32": ttnn.float32}
    dtypes = operand_dtypes(program.conv)
    device = [ttnn.from_torch(t.float().contiguous(), layout=ttnn.TILE_LAYOUT,
                              dtype=formats.get(dtypes[name], ttnn.bfloat16))
              for name, t in zip(OPERANDS, tensors)]
    try:
        operation(*device)
    finally:
        _ACCUMULATING.clear()
    return quantized(device[-1].to_torch(), program.conv.dtype)
