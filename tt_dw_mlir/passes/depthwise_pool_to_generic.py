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
    %xp = "ttnn.pad"(%x) <{padding = array<i32: 0, 0, 1, 1, 1, 1, 0, 0>, ...}>      (the io tensors:
    %k0 = "ttnn.slice_static"(%xp) <{begins = [...], ends = [...], step = [...]}>    OperationIo)
    ... ttnn.concat, ttnn.reshape, ttnn.pad, ttnn.permute -> %windows : tensor<14112x64xbf16>
    ... ttnn.reshape, ttnn.permute -> %weights, %bias : tensor<32x64xbf16>
    %selectors = "ttnn.constant"(%device) <{value = dense<"0x803F...">}> : ... -> tensor<288x32xbf16>
    %out = "ttnn.empty"(%device) <{shape = #ttnn.shape<1568x64>}> : (!ttnn.device) -> tensor<1568x64xbf16>
    "ttnn.generic"(%windows, %weights, %bias, %selectors, %out) <{operandSegmentSizes = array<i32: 5, 0>, program = #ttnn.program<
        kernels = [#ttnn.read_kernel<symbol_ref = @depthwise_pool_reader, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>,
                     ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, ..., <7>,
                                #ttnn.kernel_arg_tensor_accessor_args<0>, ..., <4>],
                     common_rt_args = [#ttnn.kernel_arg_address_of_tensor<0>, ..., <3>,
                                       #ttnn.kernel_named_arg<name = "window", value = 9>, ...],
                     rt_args = []>,
                   #ttnn.compute_kernel<...>, #ttnn.write_kernel<...>],
        cbs = [<total_size = 8192, core_ranges = <[...]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 2048>]>, ...],
        semaphores = [<id = 0, core_type = worker, core_ranges = <[...]>, initial_value = 0>, ... <id = 3 ...>]>}> : (...) -> ()
    %rows = "ttnn.reshape"(%out) ... "ttnn.slice_static" ... %y = "ttnn.reshape"(...) -> tensor<1x14x14x64xbf16>
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
* `common_rt_args`: the address of each io tensor the kernel's factory takes
  (reader: windows, weights, bias, selectors; writer: out). The ints it binds
  (`KernelProgram.compile_args`) follow as `kernel_named_arg`s, sorted by name:
  the compiler folds them into the kernel, so a compiled kernel reads nothing
  past the addresses; they record what the kernels must be compiled with.
  tt-mlir accepts only CB indices, scalars, semaphores and tensor-accessor
  markers as `ct_args` (`verifyCompileTimeArgs`, TTNNOpsAttrs.cpp);
* no per-core `rt_args`: a core finds its channel shard, pixel group and
  weight pipe from its node coordinates;
* `semaphores`: two per pipe net (the weight multicast and, with a bias, the
  bias multicast), ids 0..3 (0..1 without a bias), initial value 0;
* io tensors are exactly the TT-Lang operation's parameters, in its order
  (`program.OPERANDS`: windows, weights, bias, selectors, out), computed from
  the conv's input and prepared tensors by tt-mlir TTNN ops placed before the
  generic (`OperationIo`: the window gather is pad + one strided
  `ttnn.slice_static` per kernel position, the grids are reshapes and permutes
  of the prepared tiles, the selectors a `ttnn.constant`, zeros stand in for
  a missing bias). The output is a `ttnn.empty` the generic writes in place
  (it has no results), as `--ttnn-lower-tt-lang-to-generic` does with its
  "out" operand; reshapes and slices after it give the conv's NHWC result,
  which replaces the program op's. runtime/ builds the same tensors on the
  host (test/device/test_generic_io.py compares them bit for bit).
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
`CoreRangeSetAttr`); in the IRDL fallback, where no dialect parses tt-mlir's
attribute syntax, they are opaque attributes of the loaded `ttnn` dialect holding
that text, printed exactly as written. The ops are tt-mlir's own names: in the
fallback the IRDL subset declares them (`TTNN_GENERIC_IO_OPS` in
`tt_dw_mlir.dialect.irdl`), `ttnn.concat` and `ttnn.generic` are declared here with
the operands they get. They carry their attributes as a dictionary (`{...}`) rather
than properties (`<{...}>`): IRDL ops have none; tt-mlir's parser accepts both for
inherent attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


from tt_dw_mlir.conv_config import TILE
from tt_dw_mlir.dialect import ttnn
from tt_dw_mlir.dialect.constants import numpy_to_dense
from tt_dw_mlir.ir import USING_TTMLIR, Diagnostic, at, ir, ops_named
from tt_dw_mlir.program import (DST_FULL_SYNC_EN, FP32_DEST_ACC_EN, KERNEL_FACTORIES, OPERANDS,
                                KernelProgram, factory_parameters, operand_dtypes, pipe_nets)

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
            # the plan's DST configuration, which the operation asks for
            # (kernels/depthwise_pool_op.py) and tt-lang 1.1.1 puts in the kernel's
            # ComputeConfigDescriptor (ttl_api._compile_ttnn_kernel)
            flag = {True: "true", False: "false"}
            head += (f", math_fidelity = hifi4, fp32_dest_acc_en = {flag[FP32_DEST_ACC_EN]}, "
                     f"dst_full_sync_en = {flag[DST_FULL_SYNC_EN]}, "
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
    io_count = len(OPERANDS)
    cbs = program.circular_buffers
    if [cb.id for cb in cbs] != list(range(len(cbs))):
        raise CannotExpress(f"circular buffer ids {[cb.id for cb in cbs]} are not the buffer "
                            f"indices 0..{len(cbs) - 1} tt-lang gives its dataflow buffers")
    semaphores = range(SEMAPHORES_PER_PIPE_NET * len(pipe_nets(program.conv)))
    compile_args = program.compile_args()
    kernels, symbols = [], []
    for role, path in program.kernels:
        values = compile_args[role]
        ct = [cb_arg(cb.id) for cb in cbs]
        if THREADS[role] == "noc":
            ct += [accessor_arg(t) for t in range(io_count)]
        # the io tensors the kernel's factory takes (its thread reaches no other)
        parameters = factory_parameters(path, KERNEL_FACTORIES[role])
        common = [address_arg(i) for i, name in enumerate(OPERANDS) if name in parameters]
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
# Bindings: tt-mlir's attributes and types, real or (IRDL fallback) opaque
# --------------------------------------------------------------------------- #
def foreign_attribute(text: str):
    """A tt-mlir attribute from its assembly form (`#ttnn.name<...>`, `#ttnn<...>`)."""
    if USING_TTMLIR:
        return ir.Attribute.parse(text)
    dialect, body = _dialect_symbol(text)
    return ir.OpaqueAttr.get(dialect, body.encode(), ir.NoneType.get())


def foreign_type(text: str):
    """A tt-mlir type from its assembly form (`!ttnn.device`)."""
    if USING_TTMLIR:
        return ir.Type.parse(text)
    return ir.OpaqueType.get(*_dialect_symbol(text))


def _dialect_symbol(text: str) -> tuple[str, str]:
    """`#ttnn.shape<1x2>` -> ("ttnn", "shape<1x2>"), `#ttnn<mesh_shape 1x1>` -> ("ttnn",
    "mesh_shape 1x1"): an opaque attribute's (type's) dialect and data, as MLIR prints it."""
    name = text[1:]
    dot, angle = name.find("."), name.find("<")
    if angle >= 0 and (dot < 0 or angle < dot):
        return name[:angle], name[angle + 1:-1]
    return name[:dot], name[dot + 1:]


def declare_variadic_ops(context) -> None:
    """In the IRDL fallback, declare the variadic tt-mlir ops this pass builds, with the
    operands it gives them: `ttnn.concat` of one type (its planes), `ttnn.generic` of the
    operation's tensors. IRDL makes a variadic one type; tt-mlir's ops take differing ones."""
    if USING_TTMLIR:
        return
    from tt_dw_mlir.dialect.irdl import OpShape, declare_ops

    declare_ops(context, {"ttnn.concat": OpShape(operands=0, results=1, variadic_operands=True),
                          "ttnn.generic": OpShape(operands=len(OPERANDS), results=0)})


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

    @staticmethod
    def prepare_context(context) -> None:
        """Before the pass manager runs (an op cannot be registered while it does)."""
        declare_variadic_ops(context)

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
        # Keyed by operations, which hash and compare by the op they wrap (`.parent` makes a
        # new Python object each time, so id() would not find them again); they outlive the pass.
        devices: dict = {}      # function -> its ttnn.get_device value
        declared: set = set()   # (module, symbol) once declared
        programs: dict = {}     # KernelProgram -> (program attribute, symbols)
        selectors: dict = {}    # (parent op, selector shape) -> its ttnn.constant
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
                         + " are declarations without bodies (its io tensors, the window "
                         "planes, weight and bias grids, selector tiles and output rows, are "
                         "computed by the TTNN ops before it)")
            self._lower(op, program, attribute, devices, selectors)
        _erase_unused_program_definitions(module_op)

    def _declare_kernels(self, op, module, symbols, declared) -> bool:
        """Body-less kernel declarations, one per symbol and module; False on a name clash."""
        block = module.regions[0].blocks[0]
        existing = {}
        for other in block.operations:
            if "sym_name" in other.attributes:
                existing[ir.StringAttr(other.attributes["sym_name"]).value] = other
        for symbol, path, thread in symbols:
            key = (module, symbol)
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
                declared.add(key)
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
            declared.add(key)
        return True

    def _device(self, op, devices):
        func = _enclosing(op, "func.func")
        if func in devices:
            return devices[func]
        entry = func.regions[0].blocks[0] if func is not None else op.parent.regions[0].blocks[0]
        name = "ttnn.get_device"
        found = next((o for o in entry.operations if o.name == name), None)
        if found is None:
            first = next(iter(entry.operations))
            with ir.InsertionPoint(first), op.location:
                found = ir.Operation.create(name, results=[foreign_type("!ttnn.device")], attributes={
                    "mesh_offset": foreign_attribute("#ttnn<mesh_offset 0x0>"),
                    "mesh_shape": foreign_attribute("#ttnn<mesh_shape 1x1>")})
        devices[func] = found.results[0]
        return devices[func]

    def _lower(self, op, program, program_attribute, devices, selectors) -> None:
        """The io tensors (OperationIo), the output, `ttnn.generic`, the result as NHWC."""
        device = self._device(op, devices)
        with ir.InsertionPoint(op), op.location:
            io = OperationIo(program, device)
            operands = list(op.operands)
            tensors = {"windows": io.window_planes(operands[0]),
                       "weights": io.weight_grid(operands[1]),
                       "bias": io.bias_grid(operands[2] if len(operands) > 2 else None,
                                            ir.RankedTensorType(operands[1].type).element_type),
                       "selectors": self._selectors(op, io, selectors),
                       "out": io.output_rows(ir.RankedTensorType(op.results[0].type).element_type)}
            ordered = [tensors[name] for name in OPERANDS]
            ir.Operation.create("ttnn.generic", operands=ordered, attributes={
                "operandSegmentSizes": ir.DenseI32ArrayAttr.get([len(ordered), 0]),
                "program": program_attribute})
            result = io.output_nhwc(tensors["out"], op.results[0].type)
        op.results[0].replace_all_uses_with(result)
        op.erase()

    def _selectors(self, op, io: "OperationIo", selectors: dict):
        """The selector tiles: one `ttnn.constant` per block and (window, R, RC, dtype),
        before the first program op that needs it (they depend on nothing else)."""
        # Operations hash and compare by the underlying op (each `.parent` is a new Python
        # object, so id() would not do); the parent outlives the pass.
        key = (op.parent, io.selector_key)
        found = selectors.get(key)
        if found is None:
            found = selectors[key] = io.selector_constant()
        return found


# --------------------------------------------------------------------------- #
# The operation's io tensors, computed in the IR from the conv's operands
# --------------------------------------------------------------------------- #
def _i32_list(values):
    """An `I32ArrayAttr` (`[1 : i32, 2 : i32]`): ttnn.reshape `shape`, ttnn.slice_static."""
    i32 = ir.IntegerType.get_signless(32)
    return ir.ArrayAttr.get([ir.IntegerAttr.get(i32, int(v)) for v in values])


def _shape_attr(shape) -> ir.Attribute:
    return foreign_attribute(f"#ttnn.shape<{'x'.join(str(d) for d in shape)}>")


class OperationIo:
    """Builds, at the current insertion point, the tensors `kernels/depthwise_pool_op.py`'s
    operation takes, from the conv's input and prepared tensors, with tt-mlir's TTNN ops
    (tenstorrent/tt-mlir 19c86fca45, include/ttmlir/Dialect/TTNN/IR/TTNNOps.td; printed
    forms as in its test/ttmlir lit tests). The arithmetic is runtime/_tensors.py's
    (`window_planes`, `weight_grid`, `bias_grid`, `selector_tiles`, `output_from_rows`),
    which builds the same tensors on the host for the simulator and ttnn backends;
    test/device/test_generic_io.py checks the two bit for bit.

    Ops that would change nothing (a zero pad, a one-input concat) are not emitted.
    Types carry no `#ttnn.ttnn_layout` encoding, like every tensor of this plugin's IR:
    the tile layout, the block-float weight format and the L1 sharding of the window
    planes and output (runtime/device.py's `to_device`) are the encoding's, which
    tt-mlir's layout passes assign.
    """

    def __init__(self, program: KernelProgram, device) -> None:
        self.program = program
        self.device = device
        conv, lay = program.conv, program.layout
        self.pixels = conv.output_pixels
        self.pixels_per_group = program.sharding.pixels_per_core
        self.groups = program.pixel_groups
        self.tiles = self.groups * program.tiles_per_group       # pixel tiles, all groups
        self.channels = lay.padded_channels
        self.selector_key = (conv.window, lay.rows_per_tile, lay.row_chunks,
                             operand_dtypes(conv)["selectors"], program.selector_width)

    # ---- one op each (tt-mlir's operand and attribute names and kinds) ----
    def _op(self, name: str, operands, shape, element, attributes):
        result = ir.RankedTensorType.get(list(shape), element)
        return ir.Operation.create(name, results=[result], operands=operands,
                                   attributes=attributes).results[0]

    @staticmethod
    def _shape(value) -> list[int]:
        return list(ir.RankedTensorType(value.type).shape)

    @staticmethod
    def _element(value):
        return ir.RankedTensorType(value.type).element_type

    def pad(self, value, padding):
        """`ttnn.pad`: (low, high) per dimension, zeros; `use_multicore = true` as
        TTIRToTTNN.cpp's pad conversion sets it; `value` itself if it pads nothing."""
        if not any(padding):
            return value
        shape = [d + padding[2 * i] + padding[2 * i + 1] for i, d in enumerate(self._shape(value))]
        return self._op("ttnn.pad", [value], shape, self._element(value), {
            "padding": ir.DenseI32ArrayAttr.get([int(p) for p in padding]),
            "value": ir.FloatAttr.get(ir.F32Type.get(), 0.0),
            "use_multicore": ir.BoolAttr.get(True)})

    def slice(self, value, begins, ends, step):
        shape = [-(-(e - b) // s) for b, e, s in zip(begins, ends, step)]
        return self._op("ttnn.slice_static", [value], shape, self._element(value), {
            "begins": _i32_list(begins), "ends": _i32_list(ends), "step": _i32_list(step)})

    def concat(self, values, dim: int):
        if len(values) == 1:
            return values[0]
        shape = self._shape(values[0])
        shape[dim] = sum(self._shape(v)[dim] for v in values)
        return self._op("ttnn.concat", values, shape, self._element(values[0]),
                        {"dim": ir.IntegerAttr.get(ir.IntegerType.get_signed(32), dim)})

    def reshape(self, value, shape):
        if self._shape(value) == list(shape):
            return value
        return self._op("ttnn.reshape", [value], shape, self._element(value),
                        {"shape": _i32_list(shape)})

    def permute(self, value, permutation):
        shape = [self._shape(value)[p] for p in permutation]
        return self._op("ttnn.permute", [value], shape, self._element(value),
                        {"permutation": ir.DenseI64ArrayAttr.get(list(permutation))})

    # ---- the operation's tensors ----
    def window_planes(self, x):
        """`windows` (T*W*32, Cp): tile row t*W + k holds, on row j, the input stick under
        kernel position k of the pixel on row j of pixel tile t (zeros over the padding,
        pool2d's clear value, and on the rows past a group's pixels).

        pad (spatial padding, channels to Cp) -> per position k=(kh, kw) the strided
        slice [kh*dh :: sh, kw*dw :: sw] (its output pixels, NHWC) -> concat over k
        (W*N, Ho, Wo, Cp) -> pad the P pixels to G groups of Pg (W, G*Pg, Cp) -> pad
        each group to whole tiles (W, G, tpg*32, Cp) -> (W, T, 32, Cp) -> permute to
        (T, W, 32, Cp) -> (T*W*32, Cp)."""
        conv = self.program.conv
        (sh, sw), (dh, dw), (kh_, kw_) = conv.stride, conv.dilation, conv.kernel
        pt, pb, pl, pr = conv.padding
        n, ho, wo, cp = conv.batch, conv.out_h, conv.out_w, self.channels
        padded = self.pad(x, [0, 0, pt, pb, pl, pr, 0, cp - conv.channels])
        planes = []
        for kh in range(kh_):
            for kw in range(kw_):
                h0, w0 = kh * dh, kw * dw
                planes.append(self.slice(padded, [0, h0, w0, 0],
                                         [n, h0 + (ho - 1) * sh + 1, w0 + (wo - 1) * sw + 1, cp],
                                         [1, sh, sw, 1]))
        window = len(planes)
        v = self.concat(planes, 0)
        pg, g, rows = self.pixels_per_group, self.groups, self.program.tiles_per_group * TILE
        if g * pg != self.pixels:  # the last groups' pixels past the output: zeros
            v = self.pad(self.reshape(v, [window, self.pixels, cp]),
                         [0, 0, 0, g * pg - self.pixels, 0, 0])
        if rows != pg:  # each group's last tile: padded, like a shard to its shard height
            v = self.pad(self.reshape(v, [window, g, pg, cp]), [0, 0, 0, 0, 0, rows - pg, 0, 0])
        v = self.reshape(v, [window, self.tiles, TILE, cp])
        if window > 1:
            v = self.permute(v, [1, 0, 2, 3])
        return self.reshape(v, [self.tiles * window * TILE, cp])

    def weight_grid(self, prepared):
        """`weights` (S*RC*32, CT*32): the prepared (S, RC*CT, 32, 32) tiles, shard s row
        chunk c at tile row s*RC + c (values unchanged)."""
        lay = self.program.layout
        s, rc, ct = lay.num_shards, lay.row_chunks, lay.channel_tiles
        v = self.reshape(prepared, [s, rc, ct, TILE, TILE])
        return self.reshape(self.permute(v, [0, 1, 3, 2, 4]), [s * rc * TILE, ct * TILE])

    def bias_grid(self, prepared, element):
        """`bias` (S*32, CT*32): the prepared (S, CT, 32, 32) bias tiles side by side; zeros
        (`ttnn.zeros`, never read: has_bias = 0) without a bias."""
        lay = self.program.layout
        shape = [lay.num_shards * TILE, lay.channel_tiles * TILE]
        if prepared is None:
            return self._op("ttnn.zeros", [self.device], shape, element,
                            {"shape": _shape_attr(shape)})
        return self.reshape(self.permute(prepared, [0, 2, 1, 3]), shape)

    def selector_constant(self):
        """`selectors` (W*32, SW*32): a `ttnn.constant` of the RC selector tiles, tile row k
        with a 1.0 in column (k // R)*32 + k % R of every row, padded with zero columns to
        the SW tiles of an `acc` block (`WeightLayout.selector_matrix`)."""
        _, _, rc, dtype, width = self.selector_key
        value = numpy_to_dense(self.program.layout.selector_matrix(rc), dtype)
        constant = ir.Operation.create("ttnn.constant", results=[value.type],
                                       operands=[self.device], attributes={"value": value})
        return self.pad(constant.results[0], [0, 0, 0, (width - rc) * TILE])

    def output_rows(self, element):
        """`out` (T*32, Cp): a `ttnn.empty` the generic writes in place (row 32*t + j = the
        output stick of pixel j of pixel tile t)."""
        shape = [self.tiles * TILE, self.channels]
        return self._op("ttnn.empty", [self.device], shape, element, {"shape": _shape_attr(shape)})

    def output_nhwc(self, rows, result_type):
        """`out` -> the conv's NHWC result: (G, tpg*32, Cp) -> each group's Pg pixels and
        the conv's C channels -> (G*Pg, C) -> the first P pixels -> (N, Ho, Wo, C)."""
        conv = self.program.conv
        g, pg, c, cp = self.groups, self.pixels_per_group, conv.channels, self.channels
        rows_per_group = self.program.tiles_per_group * TILE
        v = self.reshape(rows, [g, rows_per_group, cp])
        if (rows_per_group, cp) != (pg, c):
            v = self.slice(v, [0, 0, 0], [g, pg, c], [1, 1, 1])
        if g * pg != self.pixels:
            v = self.slice(self.reshape(v, [g * pg, c]), [0, 0], [self.pixels, c], [1, 1])
        return self.reshape(v, list(ir.RankedTensorType(result_type).shape))


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
