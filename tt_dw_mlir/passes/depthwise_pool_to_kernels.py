"""`--tt-depthwise-pool-to-kernels`: `ttnn.depthwise_pool_conv` -> a pool2d kernel program.

Before:

    %y = "ttnn.depthwise_pool_conv"(%x, %pw) <{..., weight_layout = #ttnn.depthwise_weight_layout<{...}>}>

After: the same operands and conv attributes, plus the program the device runs
(`tt_dw_mlir.program.KernelProgram`): the reader / compute / writer kernels in
`tt_dw_mlir/kernels/`, their compile-time arguments, the circular buffers, the core ranges
per channel shard and the weight-multicast sender/receiver sets.

    %y = "ttnn.depthwise_pool_program"(%x, %pw) <{..., program = {kernels = ..., cbs = ...}}>

The program is planned for the op's own weight layout; if the planner would
choose another layout the op's layout wins, and a program that does not fit
L1 is an error (the legalisation pass refuses such convs before this point).
"""

from __future__ import annotations

from functools import lru_cache

from tt_dw_mlir.dialect import ttnn
from tt_dw_mlir.dialect.ttnn import to_attribute
from tt_dw_mlir.ir import Diagnostic, at, ir, ops_named
from tt_dw_mlir.program import KernelProgram, build_program


class DepthwisePoolToKernels:
    argument = "tt-depthwise-pool-to-kernels"
    summary = "Lower ttnn.depthwise_pool_conv to a pool2d kernel program (reader/compute/writer)"

    def __init__(self, options, diagnostics: list[Diagnostic], source_name: str | None = None):
        self.options = options
        self.diagnostics = diagnostics
        self.source_name = source_name

    def run(self, module_op) -> None:
        with module_op.context:
            self._run(module_op)

    def _run(self, module_op) -> None:
        convs = ops_named(module_op, "ttnn.depthwise_pool_conv")
        program_attributes = {}  # a model repeats a few layer shapes many times
        for op in convs:
            conv, record = ttnn.conv_from_attributes(op)
            program = _build(conv, record.sharding(conv), self.options.device)
            problems = list(ttnn.program_problems(program))
            if program.layout != record.layout:
                problems.append(f"the program's layout {program.layout} differs from the op's {record.layout}")
            if problems:
                self.diagnostics.append(at(op, "error", "'ttnn.depthwise_pool_conv' op cannot be "
                                           "lowered: " + "; ".join(problems), self.source_name))
                continue
            attributes = {name: op.attributes[name] for name in op.attributes}
            if program not in program_attributes:
                program_attributes[program] = to_attribute(program.to_attributes())
            attributes["program"] = program_attributes[program]
            with ir.InsertionPoint(op), op.location:
                new = ir.Operation.create("ttnn.depthwise_pool_program", results=[op.results[0].type],
                                          operands=list(op.operands), attributes=attributes)
            op.results[0].replace_all_uses_with(new.results[0])
            op.erase()


@lru_cache(maxsize=1024)
def _build(conv, sharding, device: str) -> KernelProgram:
    """The program depends only on the conv, the sharding and the device."""
    return build_program(conv, sharding, device)
