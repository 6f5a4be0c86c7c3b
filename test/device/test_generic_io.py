"""The io tensors `--tt-depthwise-pool-to-generic` computes in the IR, evaluated.

The pass builds the TT-Lang operation's tensors (window planes, weight and bias
grids, selector tiles, output rows) from the conv's operands with TTNN ops before
the `ttnn.generic`. The executor runs those ops; they must give, bit for bit, the
tensors the runtime builds on the host for the simulator and the device
(`runtime._tensors.operation_tensors`). Fed to the kernels on tt-lang-sim, they
must give the reference backend's output bit for bit, read back through the ops
the pass places after the generic.
"""

from __future__ import annotations

import pytest
import torch

from tt_dw_mlir.api import lowered_layers, parse_module, run_pipeline
from tt_dw_mlir.executor import ExecutionError, Executor
from tt_dw_mlir.layout import prepare_bias, prepare_weights
from tt_dw_mlir.program import OPERANDS
from tt_dw_mlir.runtime import execute
from tt_dw_mlir.runtime._tensors import operation_tensors


def conv_function(n, h, w, c, kernel, stride, padding, dilation, bias: bool) -> str:
    """One `ttir.conv2d` (padding [pT, pL, pB, pR], TTIROps.td), weights as arguments."""
    kh, kw = kernel
    pt, pl, pb, pr = padding
    ho = (h + pt + pb - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (w + pl + pr - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    x, wt, y = f"tensor<{n}x{h}x{w}x{c}xbf16>", f"tensor<{c}x1x{kh}x{kw}xbf16>", \
        f"tensor<{n}x{ho}x{wo}x{c}xbf16>"
    b = f"tensor<1x1x1x{c}xbf16>"
    args = f"%x: {x}, %w: {wt}" + (f", %b: {b}" if bias else "")
    operands, types = ("%x, %w, %b", f"{x}, {wt}, {b}") if bias else ("%x, %w", f"{x}, {wt}")
    return (f"func.func @main({args}) -> {y} {{\n"
            f'  %0 = "ttir.conv2d"({operands}) <{{stride = array<i32: {stride[0]}, {stride[1]}>, '
            f"padding = array<i32: {pt}, {pl}, {pb}, {pr}>, dilation = array<i32: {dilation[0]}, "
            f"{dilation[1]}>, groups = {c} : i32}}> : ({types}) -> {y}\n"
            f"  return %0 : {y}\n}}\n")


# (shape n h w c, kernel, stride, padding [pT, pL, pB, pR], dilation, bias, shard scheme):
# every pad, slice step and concat the pass can emit; selectors widened to the acc block
# (height: 2 tiles, block: 5) or not (width)
CASES = {
    # the lit case: 49 groups of 4 pixels, each padded to a tile of 32
    "height_3x3_bias": ((1, 14, 14, 64), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), True,
                        "height_sharded"),
    # 40 channels padded to 64, stride 2 and a dilation: strided slices, asymmetric pads,
    # two images in the batch
    "strided_dilated": ((2, 9, 11, 40), (3, 3), (2, 2), (2, 0, 1, 1), (1, 2), False,
                        "height_sharded"),
    # six channel shards: the weight grid has six shards of tile rows
    "block_no_bias": ((1, 7, 7, 960), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), False,
                      "block_sharded"),
    # 49 positions: two row chunks of 32, the selectors two tiles wide
    "width_7x7": ((1, 8, 8, 64), (7, 7), (1, 1), (3, 3, 3, 3), (1, 1), True, "width_sharded"),
}


def compiled(case: str):
    """(module lowered to ttnn.generic, the program the generic runs, the conv's tensors)."""
    shape, kernel, stride, padding, dilation, bias, scheme = CASES[case]
    module = parse_module(conv_function(*shape, kernel, stride, padding, dilation, bias))
    run_pipeline(module, f"builtin.module(tt-depthwise-to-pool{{path=pool shard-scheme={scheme}}}, "
                         f"tt-depthwise-pool-to-kernels)")
    (layer,) = lowered_layers(module)
    run_pipeline(module, "builtin.module(tt-depthwise-pool-to-generic)")
    generator = torch.Generator().manual_seed(sum(map(ord, case)))
    n, h, w, c = shape
    x = torch.randn(n, h, w, c, generator=generator)
    weights = torch.randn(c, 1, *kernel, generator=generator)
    b = torch.randn(1, 1, 1, c, generator=generator) if bias else None
    return module, layer.program, x, weights, b


def bf16(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.bfloat16).float()  # what the executor does to bf16 arguments


def host_tensors(program, x, weights, b):
    """The runtime's tensors for the same bf16 arguments, prepared as the executor does."""
    pw = torch.as_tensor(prepare_weights(bf16(weights).numpy(), program.layout))
    pb = None if b is None else torch.as_tensor(prepare_bias(bf16(b).numpy(), program.layout))
    return pw, pb, operation_tensors(program, bf16(x), pw, pb)


def assert_bits_equal(got: torch.Tensor, want: torch.Tensor, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {list(got.shape)} != {list(want.shape)}"
    same = got.float().contiguous().view(torch.int32) == want.float().contiguous().view(torch.int32)
    assert bool(same.all()), f"{what}: {int((~same).sum())} of {same.numel()} elements differ"


class GenericStandIn:
    """An executor override for `ttnn.generic`: records its io tensors and writes `out`."""

    def __init__(self, run=None) -> None:
        self.io = None
        self.run = run

    def __call__(self, name, where, operands):
        if name != "ttnn.generic":
            return None
        self.io = [t.clone() for t in operands]
        if self.run is not None:
            operands[-1].copy_(self.run(operands))
        return operands[-1]


@pytest.mark.parametrize("case", sorted(CASES))
def test_generic_io_tensors_equal_the_runtimes_bit_for_bit(case):
    module, program, x, weights, b = compiled(case)
    stand_in = GenericStandIn()
    Executor(module, override=stand_in).call("main", [x, weights] + ([b] if b is not None else []))
    _, _, want = host_tensors(program, x, weights, b)
    assert stand_in.io is not None, "no ttnn.generic ran"
    assert len(stand_in.io) == len(OPERANDS)
    for name, got, expected in zip(OPERANDS, stand_in.io, want):
        assert_bits_equal(got, expected, f"{case}: io tensor '{name}'")


def test_the_io_tensors_are_not_trivially_equal():
    """The comparison can fail: a window plane one pixel off is caught."""
    module, program, x, weights, b = compiled("strided_dilated")
    stand_in = GenericStandIn()
    Executor(module, override=stand_in).call("main", [x, weights])
    _, _, want = host_tensors(program, x, weights, b)
    shifted = torch.roll(want[0], 1, dims=0)
    with pytest.raises(AssertionError, match="'windows': .* elements differ"):
        assert_bits_equal(stand_in.io[0], shifted, "strided_dilated: io tensor 'windows'")


def test_generic_on_the_simulator_equals_the_reference_bit_for_bit():
    """The IR's io tensors through the kernels on tt-lang-sim, read back through the IR's
    slices, equal the reference backend's output."""
    from tt_dw_mlir.runtime.sim import run_operation

    module, program, x, weights, b = compiled("strided_dilated")
    stand_in = GenericStandIn(lambda io: run_operation(program, io))
    (got,) = Executor(module, override=stand_in).call("main", [x, weights])
    pw, pb, _ = host_tensors(program, x, weights, b)
    want = execute(program, bf16(x), pw, pb, backend="reference")
    assert got.abs().max() > 0
    assert_bits_equal(got, want, "NHWC output")


def test_the_executor_refuses_a_generic_without_an_override():
    module, _, x, weights, _ = compiled("strided_dilated")
    with pytest.raises(ExecutionError, match="'ttnn.generic' runs kernels this executor does "
                                             "not have"):
        Executor(module).call("main", [x, weights])
