"""`--tt-depthwise-pool-to-kernels`: `ttnn.depthwise_pool_conv` -> a pool2d kernel program.

Before:

    %y = "ttnn.depthwise_pool_conv"(%x, %pw) <{..., weight_layout = {channel_shards = 1 : i32, ...}}>

After: the same operands and conv attributes, plus the program the device runs
(`tt_dw_mlir.program.KernelProgram`): the reader / compute / writer kernels in
`tt_dw_mlir/kernels/`, their compile-time arguments, the circular buffers, the core ranges
per channel shard and the weight-multicast sender/receiver sets. Each distinct program
is defined once in the module, by a symbol op, and named by the ops that run it (a
model repeats a few layer shapes many times; see `ttnn.ProgramSymbols`):

    "ttnn.depthwise_pool_kernel_program"() {program = {kernels = ..., cbs = ...},
                                            sym_name = "depthwise_pool_program_0"} : () -> ()
    func.func ... {
      %y = "ttnn.depthwise_pool_program"(%x, %pw) <{..., program = @depthwise_pool_program_0}>

The program is planned for the op's own weight layout, on the device the module
records (`tt_dw.device`, see `ttnn.module_device`); a `device` option that
disagrees with it is an error. A program that does not fit L1 is an error (the
legalisation pass refuses such convs before this point).
"""

from __future__ import annotations

from tt_dw_mlir.dialect import ttnn
from tt_dw_mlir.dialect.ttnn import to_attribute
from tt_dw_mlir.ir import Diagnostic, at, ir, ops_named, verify
from tt_dw_mlir.program import build_program


class _Lowering:
    """What lowering one distinct `ttnn.depthwise_pool_conv` gives (see `_lower`), and what is
    done once for it: the attributes naming its program in each module, the check of the op built."""

    __slots__ = ("attributes", "problems", "program", "named", "checked")

    def __init__(self, attributes: dict, problems: list[str], program) -> None:
        self.attributes, self.problems, self.program = attributes, problems, program
        self.named: dict = {}  # module -> the program op's attributes
        self.checked = False


class DepthwisePoolToKernels:
    argument = "tt-depthwise-pool-to-kernels"
    summary = "Lower ttnn.depthwise_pool_conv to a pool2d kernel program (reader/compute/writer)"
    checks_what_it_builds = True  # see passes.builds_checked_ir
    verifies_what_it_builds = True  # see passes.build_pass_manager

    def __init__(self, options, diagnostics: list[Diagnostic], source_name: str | None = None):
        self.options = options
        self.diagnostics = diagnostics
        self.source_name = source_name
        self._programs: dict = {}  # a model repeats a few layer shapes many times
        self._layouts: dict = {}  # LayoutRecord.from_attr's memo
        # The op's operand count and attributes -> its _Lowering: one lookup per op, as the
        # key holds ~11 attributes whose hashes are binding calls (a tuple's is not cached)
        self._lowered: dict = {}
        self._definitions: dict = {}  # module -> ({program dictionary: symbol name}, names taken)
        self._modules: dict = {}  # an op's parent -> its enclosing module

    def run(self, module_op) -> None:
        with module_op.context:
            self._run(module_op)

    def _run(self, module_op) -> None:
        convs = ops_named(module_op, "ttnn.depthwise_pool_conv")
        try:
            device, recorded = ttnn.module_device(module_op, self.options.device)
        except ValueError as problem:
            self.diagnostics.append(at(module_op, "error", f"depthwise-pool-to-kernels: {problem}",
                                       self.source_name))
            return
        for op in convs:
            attributes = op.attributes
            operands = list(op.operands)
            key = (len(operands), *((name, attributes[name]) for name in attributes))
            lowering = self._lowered.get(key)
            if lowering is None:
                lowering = self._lowered[key] = _Lowering(*self._lower(op, device))
            if lowering.problems:
                self.diagnostics.append(at(op, "error", "'ttnn.depthwise_pool_conv' op cannot be "
                                           "lowered: " + "; ".join(lowering.problems), self.source_name))
                continue
            module = self._modules.get(op.parent)  # the function's module
            if module is None:
                module = self._modules[op.parent] = ttnn.enclosing_module(op)
            attributes = lowering.named.get(module)
            if attributes is None:  # the attributes with the program's name, once per module
                attributes = lowering.named[module] = {
                    **lowering.attributes, "program": self._symbol(module, lowering.attributes["program"])}
            result = op.results[0]
            with ir.InsertionPoint(op), op.location:
                new = ir.Operation.create("ttnn.depthwise_pool_program", results=[result.type],
                                          operands=operands, attributes=attributes)
            if not lowering.checked:  # what it builds is checked once per distinct op
                lowering.checked = True
                problem = _verifier_problem(new) or ttnn.verify_op(new, self._layouts,
                                                                   built_from=lowering.program)
                if problem:
                    self.diagnostics.append(at(new, "error", "internal error: depthwise-pool-to-kernels "
                                               f"built an invalid program op: {problem}", self.source_name))
            result.replace_all_uses_with(new.results[0])
            op.erase()
        if convs and not recorded:
            ttnn.record_device(module_op, device)

    def _symbol(self, module, program):
        """The name of `program`'s definition in `module`, defined on first use (after the
        definitions already there: a module lowered twice shares them)."""
        if module is None:  # not inside a module: nowhere to define it
            return program
        block = module.regions[0].blocks[0]
        if module not in self._definitions:
            self._definitions[module] = (
                {attr: name for name, attr in ttnn.ProgramSymbols().definitions(module).items()},
                {ir.StringAttr(o.attributes["sym_name"]).value for o in block.operations
                 if "sym_name" in o.attributes})
        names, taken = self._definitions[module]
        if program not in names:
            number = len(names)
            while f"{ttnn.PROGRAM_SYMBOL_PREFIX}{number}" in taken:
                number += 1
            name = f"{ttnn.PROGRAM_SYMBOL_PREFIX}{number}"
            taken.add(name)
            definitions = [o for o in block.operations if o.name == ttnn.PROGRAM_DEFINITION]
            with ir.InsertionPoint.at_block_begin(block), ir.Location.unknown():
                definition = ir.Operation.create(ttnn.PROGRAM_DEFINITION, attributes={
                    "sym_name": ir.StringAttr.get(name), "program": program})
            if definitions:  # in the order of first use, before everything else
                definition.move_after(definitions[-1])
            problem = _verifier_problem(definition)
            if problem:
                self.diagnostics.append(at(definition, "error", "internal error: depthwise-pool-to-kernels "
                                           f"built an invalid program definition: {problem}",
                                           self.source_name))
            names[program] = name
        return ir.FlatSymbolRefAttr.get(names[program])

    def _lower(self, op, device) -> tuple[dict, list[str], object]:
        """(the attributes of the program op replacing `op`, its program inline; problems
        refusing it; the KernelProgram): a pure function of `op`'s attributes and operand count, made once for
        each distinct one."""
        conv, record = ttnn.conv_from_attributes(op, self._layouts)
        # The plan the legalisation made, carried by the op: its sharding (weight_layout).
        key = (conv, record)
        if key not in self._programs:
            self._programs[key] = build_program(conv, record.sharding(conv), device)
        program = self._programs[key]
        problems = list(ttnn.program_problems(program))
        if program.layout != record.layout:
            problems.append(f"the program's layout {program.layout} differs from the op's {record.layout}")
        if problems:
            return {}, problems, program
        attributes = {name: op.attributes[name] for name in op.attributes}
        attributes["program"] = to_attribute(program.to_attributes())
        return attributes, [], program


def _verifier_problem(op) -> str | None:
    """MLIR's op verifier on one op this pass built (the pass manager does not verify the
    module after this pass, see `passes.build_pass_manager`)."""
    found = verify(op)
    return "; ".join(d.message for d in found) if found else None
