"""Run a KernelProgram's TT-Lang kernels (kernels/) on tt-lang-sim, in process.

Three fixes to tt-lang-sim 1.1.6 are applied once, on first use, without editing the
installed package:

* a pipe receive that blocked is re-polled by the scheduler outside any kernel,
  where the simulator cannot tell which core is asking; it then sees a message
  this core already took (a multicast message stays queued until every receiver
  has it), resumes the core and fails with "transfer() called but no receivable
  message". The transaction now records its core when it is created;
* the error printer imports a `ttl/ttl/diagnostics.py` the wheel does not ship;
  kernel errors are printed plainly instead;
* importing the simulator rebinds `torch.bfloat16` / `torch.float16` to
  `torch.float32` for the whole process (its float32 promotion); the names are
  restored right after import. The simulator still computes in float32: its own
  dtype promotion does not go through those names.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import torch

from ..conv_config import TILE
from ..program import REPO_ROOT, KernelProgram, ProgramCache
from ._tensors import bias_tiles, input_sticks, output_nhwc, weight_tiles

KERNEL_DIR = REPO_ROOT / "kernels"
KERNEL_MODULES = ("depthwise_pool_common", "depthwise_pool_reader", "depthwise_pool_compute",
                  "depthwise_pool_writer", "depthwise_pool_op")
PROGRAM_CACHE = ProgramCache()
_patched = False


def kernel_modules() -> dict[str, Any]:
    """The kernel modules, imported from kernels/ (they import each other by name)."""
    patch_simulator()
    if str(KERNEL_DIR) not in sys.path:
        sys.path.insert(0, str(KERNEL_DIR))
    return {name: importlib.import_module(name) for name in KERNEL_MODULES}


def _plain_kernel_error(name: str, message: str, source_file: str, source_line: int,
                        source_col: int = 1) -> None:
    print(f"tt-lang-sim: error in {name}: {message} ({source_file}:{source_line})", file=sys.stderr)


def patch_simulator() -> None:
    global _patched
    if _patched:
        return
    from ttl.sim import ttnnsim

    for name, dtype in ttnnsim._PROMOTABLE_FLOAT_DTYPES.items():
        setattr(torch, name, dtype)
    sim_copy = importlib.import_module("ttl.sim.copy")
    from ttl.sim.context import get_context
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
    _patched = True


def _compile(program: KernelProgram) -> tuple[Any, Any]:
    mods = kernel_modules()
    args = program.kernel_args()
    return args, mods["depthwise_pool_op"].build_operation(args)


def sim_weight_tiles(program: KernelProgram, tiles: torch.Tensor) -> torch.Tensor:
    """(S, T, 32, 32) -> (S, RC*32, CT*32): tile t at tile (t // CT, t % CT), bytes unchanged."""
    lay = program.layout
    s, rc, ct = lay.num_shards, lay.row_chunks, lay.channel_tiles
    return tiles.reshape(s, rc, ct, TILE, TILE).permute(0, 1, 3, 2, 4).reshape(s, rc * TILE, ct * TILE)


def sim_bias_tiles(program: KernelProgram, tiles: torch.Tensor) -> torch.Tensor:
    lay = program.layout
    return tiles.permute(0, 2, 1, 3).reshape(lay.num_shards, TILE, lay.channel_tiles * TILE)


def run_sim(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
            prepared_bias: Any = None, cache: ProgramCache | None = None) -> torch.Tensor:
    patch_simulator()
    cache = PROGRAM_CACHE if cache is None else cache
    args, operation = cache.get_or_build(program, _compile)
    x = input_sticks(program, x_nhwc)
    w = sim_weight_tiles(program, weight_tiles(program, prepared_weights))
    b = bias_tiles(program, prepared_bias)
    b = sim_bias_tiles(program, b) if b is not None else None
    op_module = kernel_modules()["depthwise_pool_op"]
    raw = op_module.run(args, x, w, b, operation=operation)[:, 0, :]  # row 0 of each tile row
    conv, ppc = program.conv, program.sharding.pixels_per_core
    pieces = []
    rows_per_group = args.passes_per_core * args.pixels_per_pass
    for group in range(args.pixel_groups):
        count = max(0, min(ppc, conv.output_pixels - group * ppc))
        start = group * rows_per_group
        pieces.append(raw[start:start + count])
    return output_nhwc(program, torch.cat(pieces))
