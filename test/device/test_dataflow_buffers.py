"""The plan's circular buffers are the dataflow buffers the kernels allocate.

`KernelProgram.circular_buffers` (what the `#ttnn.program` lists, what L1 accounting
counts) is derived from the plan's buffer table; the kernels' operation reads the same
table. These tests run the operation on tt-lang-sim and record every
`ttl.make_dataflow_buffer_like` and `ttl.PipeNet` it makes, so a buffer added, removed,
resized or re-ordered in kernels/ without the table following fails here.
"""

from __future__ import annotations

import pytest

from dw_cases import SIM_DEVICE, conv_id, dw, make_inputs
from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.program import (OPERANDS, TILE_BYTES, KernelProgram, ProgramCache,
                                operand_dtypes, pipe_nets, plan_program)
from tt_dw_mlir.runtime import sim

CASES = [
    ("k3-bias-height", dw(1, 10, 10, 64, 3, bias=True, act="relu6"), "height_sharded"),
    ("k5-nobias-width-bfp4", dw(1, 8, 8, 96, 5, act="gelu", wdtype="bfp4_b"), "width_sharded"),
    ("k7-bias-block", dw(1, 8, 8, 64, 7, bias=True, act="silu"), "block_sharded"),
    ("k3-wide-blocks", dw(1, 6, 6, 320, 3, bias=True, act="silu"), "height_sharded"),
    ("batch2-asym", DepthwiseConv(2, 7, 9, 40, (3, 3), (2, 1), (0, 2, 1, 0), (1, 1), True,
                                  "none"), None),
]


class Recorded:
    """What the operation made on the simulator: its operand tensors by name, every DFB
    as (operand, shape, block_count) in creation order, the DFB and pipe-net objects,
    and each thread's captured values (tt-lang reads them from the thread's closure)."""

    def __init__(self) -> None:
        self.operands: dict[int, str] = {}
        self.made: list[tuple[str, tuple[int, ...], int]] = []
        self.buffers: list = []
        self.nets: list = []
        self.captures: dict[str, dict] = {}


def allocated(program: KernelProgram, monkeypatch) -> Recorded:
    ttl = sim.sim_ttl()
    from ttl.sim import ttnn

    seen = Recorded()
    from_torch, make_dfb, pipe_net = ttnn.from_torch, ttl.make_dataflow_buffer_like, ttl.PipeNet

    def record_tensor(*args, **kwargs):  # run_sim converts the operands in parameter order
        tensor = from_torch(*args, **kwargs)
        seen.operands[id(tensor)] = OPERANDS[len(seen.operands)]
        return tensor

    def record_dfb(tensor, shape, block_count=2):
        seen.made.append((seen.operands[id(tensor)], tuple(shape), block_count))
        seen.buffers.append(make_dfb(tensor, shape=shape, block_count=block_count))
        return seen.buffers[-1]

    def record_net(pipes):
        seen.nets.append(pipe_net(pipes))
        return seen.nets[-1]

    def record_thread(decorator):
        def factory(*args, **kwargs):
            def decorate(fn):
                seen.captures[fn.__name__] = dict(zip(
                    fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ())))
                return decorator(*args, **kwargs)(fn)
            return decorate
        return factory

    monkeypatch.setattr(ttnn, "from_torch", record_tensor)
    monkeypatch.setattr(ttl, "make_dataflow_buffer_like", record_dfb)
    monkeypatch.setattr(ttl, "PipeNet", record_net)
    monkeypatch.setattr(ttl, "compute", record_thread(ttl.compute))
    monkeypatch.setattr(ttl, "datamovement", record_thread(ttl.datamovement))
    x, _, _, pw, pb = make_inputs(program.conv, program.layout, 0)
    sim.run_sim(program, x, pw, pb, cache=ProgramCache())
    return seen


@pytest.mark.parametrize("name,conv,scheme", CASES, ids=[f"{n}-{conv_id(c)}" for n, c, _ in CASES])
def test_circular_buffers_are_what_the_kernels_allocate(name, conv, scheme, monkeypatch):
    program = plan_program(conv, SIM_DEVICE, scheme)
    assert isinstance(program, KernelProgram), program
    seen = allocated(program, monkeypatch)
    made = seen.made
    dtypes = operand_dtypes(conv)
    # tt-lang 1.1.1: buffer index = creation order, one page per tile of the operand's format
    want = [(like, (rows * cols * count, TILE_BYTES[dtypes[like]], dtypes[like]))
            for like, (rows, cols), count in made]
    got = [(b.like, (c.num_pages, c.page_size, c.dtype))
           for b, c in zip(program.dataflow_buffers, program.circular_buffers)]
    assert [c.id for c in program.circular_buffers] == list(range(len(made)))
    assert got == want
    assert [(b.like, b.shape, b.block_count) for b in program.dataflow_buffers] == made
    # the pipe nets the generic form gives two semaphores each: no bias net without a bias
    assert len(seen.nets) == len(pipe_nets(conv)) == (2 if conv.has_bias else 1)


@pytest.mark.parametrize("name,conv,scheme", CASES[:2], ids=[n for n, _, _ in CASES[:2]])
def test_threads_capture_what_the_compiler_accepts(name, conv, scheme, monkeypatch):
    """tt-lang 1.1.1 `_collect_captures`: a thread captures ints, floats, ttnn tensors,
    dataflow buffers, pipes and pipe nets only; `_collect_cb_configs` allocates the
    buffers the threads capture and fails on an index none captures; the pipe nets it
    gives semaphores are the captured ones."""
    program = plan_program(conv, SIM_DEVICE, scheme)
    seen = allocated(program, monkeypatch)
    assert set(seen.captures) == {"depthwise_pool_reader", "depthwise_pool_compute",
                                  "depthwise_pool_writer"}
    dsl_objects = {id(v) for v in seen.buffers + seen.nets} | set(seen.operands)
    for thread, captured in seen.captures.items():
        for name_, value in captured.items():
            assert isinstance(value, (int, float)) or id(value) in dsl_objects, \
                f"{thread} captures {name_}: {type(value).__name__}"
    captured_ids = {id(v) for c in seen.captures.values() for v in c.values()}
    assert [id(b) in captured_ids for b in seen.buffers] == [True] * len(program.circular_buffers)
    assert all(id(n) in captured_ids for n in seen.nets)


def test_the_check_sees_a_buffer_the_table_does_not_have(monkeypatch):
    program = plan_program(CASES[0][1], SIM_DEVICE, CASES[0][2])
    real = sim.kernel_module().build_operation

    def with_an_extra_buffer(args):
        extra = dict(args, dataflow_buffers=args["dataflow_buffers"]
                     + (("scratch", "out", 1, 1, 1),))
        return real(extra)

    monkeypatch.setattr(sim.kernel_module(), "build_operation", with_an_extra_buffer)
    seen = allocated(program, monkeypatch)
    assert len(seen.made) == len(program.circular_buffers) + 1
