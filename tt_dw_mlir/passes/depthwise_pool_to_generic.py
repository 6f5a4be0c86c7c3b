"""`--tt-depthwise-pool-to-generic`: `ttnn.depthwise_pool_program` -> tt-mlir's `ttnn.generic`.

tt-mlir runs custom kernels as a `ttnn.generic` op whose `#ttnn.program`
lists the kernels, the circular buffers and the semaphores
(tenstorrent/tt-mlir 19c86fca45: TTNNOps.td `TTNN_GenericOp`, TTNNOpsAttrs.td
`TTNN_ProgramAttr` and the kernel / CB / semaphore / argument attributes;
test/ttmlir/Silicon/TTNN/n150/generic_op/generic_op.mlir). Before:

    "ttnn.depthwise_pool_kernel_program"() {program = {kernels = ..., ...}, sym_name = "depthwise_pool_program_0"}
    %y = "ttnn.depthwise_pool_program"(%x, %pw, %pb) <{..., program = @depthwise_pool_program_0}>
         : (tensor<1x14x14x64xbf16>, ...) -> tensor<1x14x14x64xbf16>

After (one `ttnn.get_device` per function, one declaration per kernel per module; the
program definitions no op names any more are erased):

    %device = "ttnn.get_device"() <{mesh_offset = #ttnn<mesh_offset 0x0>, mesh_shape = #ttnn<mesh_shape 1x1>}>
    %out = "ttnn.empty"(%device) <{shape = #ttnn.shape<1x14x14x64>}> : (!ttnn.device) -> tensor<1x14x14x64xbf16>
    "ttnn.generic"(%x, %pw, %pb, %out) <{operandSegmentSizes = array<i32: 4, 0>, program = #ttnn.program<
        kernels = [#ttnn.read_kernel<symbol_ref = @depthwise_pool_reader, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>,
                     ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, ..., <7>,
                                #ttnn.kernel_arg_tensor_accessor_args<0>, ..., <3>],
                     common_rt_args = [#ttnn.kernel_arg_address_of_tensor<0>, ...,
                                       #ttnn.kernel_named_arg<name = "window", value = 9>, ...],
                     rt_args = []>,
                   #ttnn.compute_kernel<...>, #ttnn.write_kernel<...>],
        cbs = [<total_size = 8192, core_ranges = <[...]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 2048>]>, ...],
        semaphores = [<id = 0, core_type = worker, core_ranges = <[...]>, initial_value = 0>, ... <id = 3 ...>]>}> : (...) -> ()
    func.func private @depthwise_pool_reader() attributes {tt.function_type = "kernel",
        tt_dw.tt_lang_kernel = "kernels/depthwise_pool_reader.py", ttkernel.thread = #ttkernel.thread<noc>}

The kernels are TT-Lang (kernels/*.py), so the program is the one the TT-Lang
compiler builds for them, in the form tt-mlir's own TT-Lang lowering
(`--ttnn-lower-tt-lang-to-generic`, TTNNLowerTTLangToGeneric.cpp) gives it, from
tt-lang 1.1.1's launcher (ttl/kernel_runner.py, ttl/ttl_api.py):

* one core range, the operation's grid, for every kernel, CB and semaphore;
* `cbs`: the plan's circular buffers (`KernelProgram.circular_buffers`: the
  kernels' dataflow buffers, buffer index = creation order, one page per tile);
* `ct_args`: every kernel gets the CB index of every buffer, in index order (a
  compiled kernel finds buffer i at compile-time argument i); data-movement
  kernels then get a `kernel_arg_tensor_accessor_args` marker per io tensor;
* `common_rt_args`: the address of each io tensor the kernel touches (reader:
  input, weights, bias; writer: output). The ints the kernel's factory binds
  (`KernelProgram.compile_args`) follow as `kernel_named_arg`s, sorted by name:
  the compiler folds them into the kernel, so a compiled kernel reads nothing
  past the addresses; they record what the kernels must be compiled with.
  tt-mlir accepts only CB indices, scalars, semaphores and tensor-accessor
  markers as `ct_args` (`verifyCompileTimeArgs`, TTNNOpsAttrs.cpp);
* no per-core `rt_args`: a core finds its channel shard, pixel group and
  weight pipe from its node coordinates;
* `semaphores`: two per pipe net (the weight multicast and the bias
  multicast), ids 0..3, initial value 0;
* io tensors are `[input, prepared weights, (prepared bias,) output]`; the output
  is a `ttnn.empty` the generic writes in place (it has no results), and the
  program op's result is replaced by it, as `--ttnn-lower-tt-lang-to-generic`
  does with its "out" operand. The TT-Lang operation itself takes the window
  planes and selector tiles the host builds from these (kernels/README.md,
  "Fallbacks"), which this form does not build: the remark says so.
* kernel bodies: tt-mlir needs C++ or a TTKernel function for each kernel, which
  only the TT-Lang compiler produces (the tt-lang 1.1.1 wheel: Python 3.12 and
  ttnn). The kernel symbols are therefore body-less `func.func private`
  declarations carrying `tt_dw.tt_lang_kernel` (the source to compile), and each
  lowered op gets a remark saying so: a flatbuffer translation stops at the
  missing bodies rather than launching empty kernels.

Attributes are built from this module's records in tt-mlir's assembly form (each
helper mirrors the attribute's `assemblyFormat`, as tt-mlir prints it) and parsed
by the bindings: with tt-mlir's own bindings (`ttmlir`) they are the real,
verified attributes (its Python API has builders for none of them but
`CoreRangeSetAttr`); in the IRDL fallback they are attributes of the unregistered
shadow namespace `TTNN` (`tt_dw_mlir.dialect.irdl_syntax`) and print back as
`#ttnn...` exactly as written. In the fallback, ops created here carry their
attributes as a dictionary (`{...}`) rather than properties (`<{...}>`): the
bindings cannot set properties of an unregistered op; tt-mlir's parser accepts
both for inherent attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tt_dw_mlir.dialect import ttnn
from tt_dw_mlir.ir import USING_TTMLIR, Diagnostic, at, ir, ops_named
from tt_dw_mlir.program import PIPE_NETS, KernelProgram

PROGRAM_OP = "ttnn.depthwise_pool_program"
KERNEL_SOURCE_ATTR = "tt_dw.tt_lang_kernel"
UINT32_MAX = 2**32 - 1
# `#ttnn.kernel_cb_format` dtype: ttcore::DataType mnemonics (TTCoreOpsEnums.td).
CB_DTYPES = {"bf16": "bf16", "bfp8_b": "bfp_bf8", "bfp4_b": "bfp_bf4", "f32": "f32", "f16": "f16"}
# tt-lang 1.1.1 (ttl/kernel_runner.py run_kernel_on_device): "Each PipeNet uses 2
# semaphores: sender_sem and receiver_sem", ids 2 * net and 2 * net + 1.
SEMAPHORES_PER_PIPE_NET = 2
THREADS = {"reader": "noc", "writer": "noc", "compute": "compute"}
KERNEL_ATTRS = {"reader": "read_kernel", "writer": "write_kernel", "compute": "compute_kernel"}


class CannotExpress(ValueError):
    """A program the generic form cannot carry (the message says which part)."""


# --------------------------------------------------------------------------- #
# tt-mlir's attribute syntax (TTNNOpsAttrs.td assemblyFormat, as printed)
# --------------------------------------------------------------------------- #
def core_range(x0: int, y0: int, x1: int, y1: int) -> str:
    # `custom<CoordBracketStyle>`: "(x,y)" without a space (TTNNOpsAttrs.h)
    return f"#ttnn.core_range<({x0},{y0}), ({x1},{y1})>"


def core_range_set_body(ranges) -> str:
    """The stripped form a typed `CoreRangeSetAttr` parameter prints: `<[#ttnn.core_range<...>]>`."""
    return "<[" + ", ".join(core_range(*r) for r in ranges) + "]>"


def named_arg(name: str, value: int) -> str:
    if not 0 <= value <= UINT32_MAX:
        raise CannotExpress(f"argument '{name}' = {value} is not a uint32 "
                            f"(#ttnn.kernel_named_arg holds uint32 values)")
    return f'#ttnn.kernel_named_arg<name = "{name}", value = {value}>'


def cb_arg(index: int) -> str:
    return f"#ttnn.kernel_arg_cb_buffer_index<{index}>"


def address_arg(tensor: int) -> str:
    return f"#ttnn.kernel_arg_address_of_tensor<{tensor}>"


def accessor_arg(tensor: int) -> str:
    return f"#ttnn.kernel_arg_tensor_accessor_args<{tensor}>"


def arg_list(args) -> str:
    return "[" + ", ".join(args) + "]"


@dataclass(frozen=True)
class Kernel:
    role: str                     # reader | compute | writer
    symbol: str
    ranges: tuple
    ct_args: tuple[str, ...]
    common_rt_args: tuple[str, ...]
    rt_args: tuple[str, ...]      # `#ttnn.core_runtime_args<...>` per core

    def syntax(self) -> str:
        args = (f"ct_args = {arg_list(self.ct_args)}, common_rt_args = {arg_list(self.common_rt_args)}, "
                f"rt_args = {arg_list(self.rt_args)}")
        head = f"symbol_ref = @{self.symbol}, core_ranges = {core_range_set_body(self.ranges)}"
        if self.role == "compute":  # TTNN_ComputeKernelAttr's struct order
            head += (", math_fidelity = hifi4, fp32_dest_acc_en = false, dst_full_sync_en = false, "
                     "unpack_to_dest_modes = [default], bfp8_pack_precise = false, "
                     "math_approx_mode = false")
        return f"#ttnn.{KERNEL_ATTRS[self.role]}<{head}, {args}>"


def cb_syntax(cb, ranges) -> str:
    fmt = f"<buffer_index = {cb.id}, dtype = {CB_DTYPES[cb.dtype]}, page_size = {cb.page_size}>"
    return (f"<total_size = {cb.total_bytes}, core_ranges = {core_range_set_body(ranges)}, "
            f"formats = [{fmt}]>")


def semaphore_syntax(index: int, ranges) -> str:
    return (f"<id = {index}, core_type = worker, core_ranges = {core_range_set_body(ranges)}, "
            f"initial_value = 0>")


def program_syntax(kernels, cbs, semaphores) -> str:
    return (f"#ttnn.program<kernels = [{', '.join(k.syntax() for k in kernels)}], "
            f"cbs = [{', '.join(cbs)}], semaphores = [{', '.join(semaphores)}]>")


# --------------------------------------------------------------------------- #
# The plan -> the generic form
# --------------------------------------------------------------------------- #
def kernel_symbol(path: str) -> str:
    return Path(path).stem


def operation_range(program: KernelProgram) -> tuple[int, int, int, int]:
    """The operation's grid as one inclusive (x0, y0, x1, y1) rectangle: tt-lang launches
    every kernel and allocates every CB and semaphore on `grid` (cores past the plan's
    `num_cores` skip the work)."""
    rows, cols = program.grid
    return (0, 0, cols - 1, rows - 1)


def generic_program(program: KernelProgram) -> tuple[str, list[tuple[str, str]]]:
    """(`#ttnn.program<...>` text, [(kernel symbol, source path, thread)]) for a verified plan.

    Raises CannotExpress for a plan the generic form cannot carry."""
    for role, _ in program.kernels:
        if role not in KERNEL_ATTRS:
            raise CannotExpress(f"kernel role '{role}' is not a reader, compute or writer kernel")
    ranges = [operation_range(program)]
    has_bias = program.conv.has_bias
    io = {"input": 0, "weights": 1, "bias": 2 if has_bias else None, "output": 3 if has_bias else 2}
    touches = {"reader": ["input", "weights"] + (["bias"] if has_bias else []),
               "compute": [], "writer": ["output"]}
    io_count = len([t for t in io.values() if t is not None])
    cbs = program.circular_buffers
    if [cb.id for cb in cbs] != list(range(len(cbs))):
        raise CannotExpress(f"circular buffer ids {[cb.id for cb in cbs]} are not the buffer "
                            f"indices 0..{len(cbs) - 1} tt-lang gives its dataflow buffers")
    semaphores = range(SEMAPHORES_PER_PIPE_NET * len(PIPE_NETS))
    compile_args = program.compile_args()
    kernels, symbols = [], []
    for role, path in program.kernels:
        values = compile_args[role]
        ct = [cb_arg(cb.id) for cb in cbs]
        if THREADS[role] == "noc":
            ct += [accessor_arg(t) for t in range(io_count)]
        tensors = [io[t] for t in touches[role]]
        common = [address_arg(t) for t in tensors]
        common += [named_arg(k, int(values[k])) for k in sorted(values) if not k.endswith("_cb_id")]
        symbol = kernel_symbol(path)
        kernels.append(Kernel(role, symbol, tuple(ranges), tuple(ct), tuple(common), ()))
        symbols.append((symbol, path, THREADS[role]))
    bad = sorted({cb.dtype for cb in cbs} - set(CB_DTYPES))
    if bad:
        raise CannotExpress(f"circular buffer dtype {', '.join(bad)} has no ttcore data type")
    return (program_syntax(kernels, [cb_syntax(cb, ranges) for cb in cbs],
                           [semaphore_syntax(i, ranges) for i in semaphores]), symbols)


# --------------------------------------------------------------------------- #
# Bindings: tt-mlir's attributes and ops, real or (IRDL fallback) shadowed
# --------------------------------------------------------------------------- #
def foreign(text: str) -> str:
    """tt-mlir syntax as the context in use parses it (unchanged with `ttmlir`)."""
    if USING_TTMLIR:
        return text
    from tt_dw_mlir.dialect.irdl_syntax import shadow_unmodelled

    return shadow_unmodelled(text)


def foreign_attribute(text: str):
    return ir.Attribute.parse(foreign(text))


def foreign_type(text: str):
    return ir.Type.parse(foreign(text))


def foreign_op_name(name: str) -> str:
    return foreign(f'"{name}"(')[1:-2]


def _enclosing(op, name: str):
    parent = op.parent
    while parent is not None and parent.name != name:
        parent = parent.parent
    return parent


class DepthwisePoolToGeneric:
    argument = "tt-depthwise-pool-to-generic"
    summary = "Lower ttnn.depthwise_pool_program to tt-mlir's ttnn.generic (#ttnn.program)"
    checks_what_it_builds = True  # it builds none of our ops (passes.builds_checked_ir)

    def __init__(self, options, diagnostics: list[Diagnostic], source_name: str | None = None):
        self.options = options
        self.diagnostics = diagnostics
        self.source_name = source_name

    def run(self, module_op) -> None:
        with module_op.context:
            self._run(module_op)

    def _report(self, op, severity: str, message: str) -> None:
        if severity != "remark" or self.options.remarks != "none":
            self.diagnostics.append(at(op, severity, message, self.source_name))

    def _run(self, module_op) -> None:
        for op in ops_named(module_op, "ttnn.depthwise_pool_conv"):
            self._report(op, "remark", "depthwise-pool-to-generic: 'ttnn.depthwise_pool_conv' has no "
                         "kernel program yet; run --tt-depthwise-pool-to-kernels first")
        # Keyed by id() of the binding objects, which the values keep alive: an id is
        # only unique while its object lives (a collected wrapper's id is reused).
        devices: dict = {}      # function -> (function, its ttnn.get_device value)
        declared: dict = {}     # (module, symbol) -> True once declared
        programs: dict = {}     # KernelProgram -> (program attribute, symbols)
        definitions = ttnn.ProgramSymbols()  # the kernel programs the ops name
        for op in ops_named(module_op, PROGRAM_OP):
            try:
                program = ttnn.program_of(op, symbols=definitions)
            except ValueError as problem:
                self._report(op, "error", f"'{PROGRAM_OP}' op cannot be lowered to ttnn.generic: {problem}")
                continue
            try:
                if program not in programs:
                    text, symbols = generic_program(program)
                    programs[program] = (foreign_attribute(text), symbols)
            except CannotExpress as problem:
                self._report(op, "error", f"'{PROGRAM_OP}' op cannot be lowered to ttnn.generic: {problem}")
                continue
            attribute, symbols = programs[program]
            module = _enclosing(op, "builtin.module") or module_op
            if not self._declare_kernels(op, module, symbols, declared):
                continue
            self._report(op, "remark", "depthwise-pool-to-generic: kernel bodies need the TT-Lang "
                         "compiler: " + ", ".join(f"@{s} <- {p}" for s, p, _ in symbols)
                         + " are declarations without bodies; the compiled operation takes the "
                         "window planes and selector tiles the host builds from the input "
                         "(kernels/README.md, Fallbacks), which this form does not build")
            self._lower(op, attribute, devices)
        _erase_unused_program_definitions(module_op)

    def _declare_kernels(self, op, module, symbols, declared) -> bool:
        """Body-less kernel declarations, one per symbol and module; False on a name clash."""
        block = module.regions[0].blocks[0]
        existing = {}
        for other in block.operations:
            if "sym_name" in other.attributes:
                existing[ir.StringAttr(other.attributes["sym_name"]).value] = other
        for symbol, path, thread in symbols:
            key = (id(module), symbol)
            if key in declared:
                continue
            found = existing.get(symbol)
            if found is not None:
                source = found.attributes[KERNEL_SOURCE_ATTR] if KERNEL_SOURCE_ATTR in found.attributes else None
                if source is None or ir.StringAttr(source).value != path:
                    self._report(op, "error", f"'{PROGRAM_OP}' op cannot be lowered to ttnn.generic: "
                                 f"symbol @{symbol} already names something other than the "
                                 f"declaration of kernel {path}")
                    return False
                declared[key] = module
                continue
            with ir.InsertionPoint(block), ir.Location.unknown():
                ir.Operation.create("func.func", regions=1, attributes={
                    "sym_name": ir.StringAttr.get(symbol),
                    "sym_visibility": ir.StringAttr.get("private"),
                    "function_type": ir.TypeAttr.get(ir.FunctionType.get([], [])),
                    "tt.function_type": ir.StringAttr.get("kernel"),
                    "ttkernel.thread": ir.Attribute.parse(f"#ttkernel.thread<{thread}>"),
                    KERNEL_SOURCE_ATTR: ir.StringAttr.get(path),
                })
            declared[key] = module
        return True

    def _device(self, op, devices):
        func = _enclosing(op, "func.func")
        key = id(func) if func is not None else None
        if key in devices:
            return devices[key][1]
        entry = func.regions[0].blocks[0] if func is not None else op.parent.regions[0].blocks[0]
        name = foreign_op_name("ttnn.get_device")
        found = next((o for o in entry.operations if o.name == name), None)
        if found is None:
            first = next(iter(entry.operations))
            with ir.InsertionPoint(first), op.location:
                found = ir.Operation.create(name, results=[foreign_type("!ttnn.device")], attributes={
                    "mesh_offset": foreign_attribute("#ttnn<mesh_offset 0x0>"),
                    "mesh_shape": foreign_attribute("#ttnn<mesh_shape 1x1>")})
        devices[key] = (func, found.results[0])
        return devices[key][1]

    def _lower(self, op, program_attribute, devices) -> None:
        device = self._device(op, devices)
        result_type = op.results[0].type
        shape = "x".join(str(d) for d in ir.RankedTensorType(result_type).shape)
        with ir.InsertionPoint(op), op.location:
            out = ir.Operation.create(foreign_op_name("ttnn.empty"), results=[result_type],
                                      operands=[device],
                                      attributes={"shape": foreign_attribute(f"#ttnn.shape<{shape}>")})
            io = list(op.operands) + [out.results[0]]
            ir.Operation.create(foreign_op_name("ttnn.generic"), operands=io, attributes={
                "operandSegmentSizes": ir.DenseI32ArrayAttr.get([len(io), 0]),
                "program": program_attribute})
        op.results[0].replace_all_uses_with(out.results[0])
        op.erase()


def _erase_unused_program_definitions(module_op) -> None:
    """Erase the kernel-program definitions no op names any more (all lowered): the
    program lives on in #ttnn.program."""
    used = set()
    for op in ops_named(module_op, PROGRAM_OP):
        attr = op.attributes["program"] if "program" in op.attributes else None
        if isinstance(attr, ir.FlatSymbolRefAttr):
            used.add((ttnn.enclosing_module(op), attr.value))
    for definition in ops_named(module_op, ttnn.PROGRAM_DEFINITION):
        name = ir.StringAttr(definition.attributes["sym_name"]).value
        if (ttnn.enclosing_module(definition), name) not in used:
            definition.erase()
