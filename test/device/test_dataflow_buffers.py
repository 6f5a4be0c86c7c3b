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
from tt_dw_mlir.program import (OPERANDS, PIPE_NETS, TILE_BYTES, KernelProgram, ProgramCache,
                                operand_dtypes, plan_program)
from tt_dw_mlir.runtime import sim

CASES = [
    ("k3-bias-height", dw(1, 10, 10, 64, 3, bias=True, act="relu6"), "height_sharded"),
    ("k5-nobias-width-bfp4", dw(1, 8, 8, 96, 5, act="gelu", wdtype="bfp4_b"), "width_sharded"),
    ("k7-bias-block", dw(1, 8, 8, 64, 7, bias=True, act="silu"), "block_sharded"),
    ("k3-wide-blocks", dw(1, 6, 6, 320, 3, bias=True, act="silu"), "height_sharded"),
    ("batch2-asym", DepthwiseConv(2, 7, 9, 40, (3, 3), (2, 1), (0, 2, 1, 0), (1, 1), True,
                                  "none"), None),
]


def allocated(program: KernelProgram, monkeypatch) -> tuple[list, int]:
    """(operand, shape, block_count) of every DFB the operation makes on the simulator, in
    creation order, and the number of pipe nets."""
    ttl = sim.sim_ttl()
    from ttl.sim import ttnn

    operands: dict[int, str] = {}
    made: list[tuple[str, tuple[int, ...], int]] = []
    nets: list = []
    from_torch, make_dfb, pipe_net = ttnn.from_torch, ttl.make_dataflow_buffer_like, ttl.PipeNet

    def record_tensor(*args, **kwargs):  # run_sim converts the operands in parameter order
        tensor = from_torch(*args, **kwargs)
        operands[id(tensor)] = OPERANDS[len(operands)]
        return tensor

    def record_dfb(tensor, shape, block_count=2):
        made.append((operands[id(tensor)], tuple(shape), block_count))
        return make_dfb(tensor, shape=shape, block_count=block_count)

    def record_net(pipes):
        nets.append(pipes)
        return pipe_net(pipes)

    monkeypatch.setattr(ttnn, "from_torch", record_tensor)
    monkeypatch.setattr(ttl, "make_dataflow_buffer_like", record_dfb)
    monkeypatch.setattr(ttl, "PipeNet", record_net)
    x, _, _, pw, pb = make_inputs(program.conv, program.layout, 0)
    sim.run_sim(program, x, pw, pb, cache=ProgramCache())
    return made, len(nets)


@pytest.mark.parametrize("name,conv,scheme", CASES, ids=[f"{n}-{conv_id(c)}" for n, c, _ in CASES])
def test_circular_buffers_are_what_the_kernels_allocate(name, conv, scheme, monkeypatch):
    program = plan_program(conv, SIM_DEVICE, scheme)
    assert isinstance(program, KernelProgram), program
    made, nets = allocated(program, monkeypatch)
    dtypes = operand_dtypes(conv)
    # tt-lang 1.1.1: buffer index = creation order, one page per tile of the operand's format
    want = [(like, (rows * cols * count, TILE_BYTES[dtypes[like]], dtypes[like]))
            for like, (rows, cols), count in made]
    got = [(b.like, (c.num_pages, c.page_size, c.dtype))
           for b, c in zip(program.dataflow_buffers, program.circular_buffers)]
    assert [c.id for c in program.circular_buffers] == list(range(len(made)))
    assert got == want
    assert [(b.like, b.shape, b.block_count) for b in program.dataflow_buffers] == made
    # the pipe nets the generic form gives two semaphores each
    assert nets == len(PIPE_NETS)


def test_the_check_sees_a_buffer_the_table_does_not_have(monkeypatch):
    program = plan_program(CASES[0][1], SIM_DEVICE, CASES[0][2])
    real = sim.kernel_module().build_operation

    def with_an_extra_buffer(args):
        extra = dict(args, dataflow_buffers=args["dataflow_buffers"]
                     + (("scratch", "out", 1, 1, 1),))
        return real(extra)

    monkeypatch.setattr(sim.kernel_module(), "build_operation", with_an_extra_buffer)
    made, _ = allocated(program, monkeypatch)
    assert len(made) == len(program.circular_buffers) + 1
