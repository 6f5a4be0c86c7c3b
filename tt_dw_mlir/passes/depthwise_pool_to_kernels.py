"""`--tt-depthwise-pool-to-kernels`: `ttnn.depthwise_pool_conv` -> a pool2d kernel program.

Before:

    %y = "ttnn.depthwise_pool_conv"(%x, %pw) <{..., weight_layout = #ttnn.depthwise_weight_layout<{...}>}>

After: the same operands and conv attributes, plus the program the device runs
(`tt_dw_mlir.program.KernelProgram`): the reader / compute / writer kernels in
`kernels/`, their compile-time arguments, the circular buffers, the core ranges
per channel shard and the weight-multicast sender/receiver sets.

    %y = "ttnn.depthwise_pool_program"(%x, %pw) <{..., program = {kernels = ..., cbs = ...}}>

The program is planned for the op's own weight layout; if the planner would
choose another layout the op's layout wins, and a program that does not fit
L1 is an error (the legalisation pass refuses such convs before this point).
"""

from __future__ import annotations

from tt_dw_mlir.dialect import ttnn
from tt_dw_mlir.ir import Diagnostic, at, ir, ops_named


def to_attribute(value):
    """A JSON-like Python value as an MLIR attribute (ints are i64, lists of ints dense arrays)."""
    if isinstance(value, bool):
        return ir.BoolAttr.get(value)
    if isinstance(value, int):
        return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), value)
    if isinstance(value, float):
        return ir.FloatAttr.get(ir.F64Type.get(), value)
    if isinstance(value, str):
        return ir.StringAttr.get(value)
    if isinstance(value, dict):
        return ir.DictAttr.get({k: to_attribute(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return ir.DenseI64ArrayAttr.get(list(value))
        return ir.ArrayAttr.get([to_attribute(v) for v in value])
    raise TypeError(f"cannot store {type(value).__name__} in a program attribute")


def from_attribute(attr):
    """Inverse of `to_attribute`."""
    if isinstance(attr, ir.BoolAttr):
        return attr.value
    if isinstance(attr, ir.IntegerAttr):
        return attr.value
    if isinstance(attr, ir.FloatAttr):
        return attr.value
    if isinstance(attr, ir.StringAttr):
        return attr.value
    if isinstance(attr, (ir.DenseI64ArrayAttr, ir.DenseI32ArrayAttr)):
        return list(attr)
    if isinstance(attr, ir.DictAttr):
        return {attr[i].name: from_attribute(attr[i].attr) for i in range(len(attr))}
    if isinstance(attr, ir.ArrayAttr):
        return [from_attribute(a) for a in attr]
    raise TypeError(f"unexpected attribute {attr} in a program")


def program_of(op):
    """The KernelProgram a `ttnn.depthwise_pool_program` op carries."""
    from tt_dw_mlir.program import KernelProgram

    return KernelProgram.from_attributes(from_attribute(op.attributes["program"]))


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
        from tt_dw_mlir.program import build_program

        convs = ops_named(module_op, "ttnn.depthwise_pool_conv")
        for op in convs:
            conv, record = ttnn.conv_from_attributes(op)
            program = build_program(conv, record.sharding(conv), self.options.device)
            problems = program.verify()
            if program.layout != record.layout:
                problems.append(f"the program's layout {program.layout} differs from the op's {record.layout}")
            if problems:
                self.diagnostics.append(at(op, "error", "'ttnn.depthwise_pool_conv' op cannot be "
                                           "lowered: " + "; ".join(problems), self.source_name))
                continue
            attributes = {name: op.attributes[name] for name in op.attributes}
            attributes["program"] = to_attribute(program.to_attributes())
            with ir.InsertionPoint(op), op.location:
                new = ir.Operation.create("ttnn.depthwise_pool_program", results=[op.results[0].type],
                                          operands=list(op.operands), attributes=attributes)
            op.results[0].replace_all_uses_with(new.results[0])
            op.erase()
