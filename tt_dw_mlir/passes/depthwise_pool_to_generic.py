"""`--tt-depthwise-pool-to-generic`: `ttnn.depthwise_pool_program` -> tt-mlir's `ttnn.generic`.

tt-mlir runs custom kernels as a `ttnn.generic` op whose `#ttnn.program`
lists the kernels, the circular buffers and the semaphores
(tenstorrent/tt-mlir 19c86fca45: TTNNOps.td `TTNN_GenericOp`, TTNNOpsAttrs.td
`TTNN_ProgramAttr` and the kernel / CB / semaphore / argument attributes;
test/ttmlir/Silicon/TTNN/n150/generic_op/generic_op.mlir). Before:

    %y = "ttnn.depthwise_pool_program"(%x, %pw, %pb) <{..., program = {kernels = ..., ...}}>
         : (tensor<1x14x14x64xbf16>, ...) -> tensor<1x14x14x64xbf16>

After (one `ttnn.get_device` per function, one declaration per kernel per module):

    %device = "ttnn.get_device"() <{mesh_offset = #ttnn<mesh_offset 0x0>, mesh_shape = #ttnn<mesh_shape 1x1>}>
    %out = "ttnn.empty"(%device) <{shape = #ttnn.shape<1x14x14x64>}> : (!ttnn.device) -> tensor<1x14x14x64xbf16>
    "ttnn.generic"(%x, %pw, %pb, %out) <{operandSegmentSizes = array<i32: 4, 0>, program = #ttnn.program<
        kernels = [#ttnn.read_kernel<symbol_ref = @depthwise_pool_reader, core_ranges = <[...]>,
                     ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, ..., #ttnn.kernel_arg_semaphore_at<0>,
                                #ttnn.kernel_arg_tensor_accessor_args<0>, ...],
                     common_rt_args = [#ttnn.kernel_arg_address_of_tensor<0>, ...,
                                       #ttnn.kernel_named_arg<name = "in_h", value = 14>, ...],
                     rt_args = [#ttnn.core_runtime_args<core_coord = #ttnn.core_coord<0, 0>, args = [...]>, ...]>,
                   #ttnn.compute_kernel<...>, #ttnn.write_kernel<...>],
        cbs = [<total_size = 4096, core_ranges = <[...]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 2048>]>, ...],
        semaphores = [<id = 0, core_type = worker, core_ranges = <[...]>, initial_value = 0>, ...]>}> : (...) -> ()
    func.func private @depthwise_pool_reader() attributes {tt.function_type = "kernel",
        tt_dw.tt_lang_kernel = "kernels/depthwise_pool_reader.py", ttkernel.thread = #ttkernel.thread<noc>}

How the plan maps onto the generic form:

* io tensors are `[input, prepared weights, (prepared bias,) output]`; the output
  is a `ttnn.empty` the generic writes in place (it has no results), and the
  program op's result is replaced by it, as `--ttnn-lower-tt-lang-to-generic`
  (TTNNLowerTTLangToGeneric.cpp) does with its "out" operand.
* every circular buffer of the plan is one `#ttnn.kernel_cb` on all cores in use
  (ids, page sizes, page counts and dtypes unchanged); each kernel's `ct_args`
  start with the CB indices its compile-time arguments name (`*_cb_id`).
* tensors are reached the way tt-lang's generated kernels reach them: a
  `kernel_arg_tensor_accessor_args<i>` compile-time marker plus a
  `kernel_arg_address_of_tensor<i>` common runtime argument for each io tensor a
  data-movement kernel touches (reader: input, weights, bias; writer: output).
* the plan's integer compile-time arguments (`KernelProgram.compile_args`) cannot
  be literal `ct_args`: tt-mlir accepts only CB indices, scalars, semaphores and
  tensor-accessor markers there (`verifyCompileTimeArgs`, TTNNOpsAttrs.cpp). They
  travel as `kernel_named_arg` common runtime arguments, which tt-mlir documents
  for exactly this ("dynamic loop bounds"), sorted by name.
* the per-core split (channel shard, pixel group, the weight multicast sender and
  receiver rectangle) is `rt_args`, one `core_runtime_args` per core in use.
* the weight multicast gets tt-metal's two multicast semaphores (sender /
  receiver, initial value 0) on all cores, passed to the reader as
  `kernel_arg_semaphore_at<0>` / `<1>`, when some shard spans more than one core.
* kernel bodies: the kernels are TT-Lang (kernels/*.py). tt-mlir needs C++ or a
  TTKernel function for each one, which only the TT-Lang compiler produces (the
  tt-lang 1.1.1 wheel: Python 3.12 and ttnn). The kernel symbols are therefore
  body-less `func.func private` declarations carrying `tt_dw.tt_lang_kernel`
  (the source to compile), and each lowered op gets a remark saying so: a
  flatbuffer translation stops at the missing bodies rather than launching empty
  kernels.

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
from tt_dw_mlir.program import KernelProgram

PROGRAM_OP = "ttnn.depthwise_pool_program"
KERNEL_SOURCE_ATTR = "tt_dw.tt_lang_kernel"
UINT32_MAX = 2**32 - 1
# `#ttnn.kernel_cb_format` dtype: ttcore::DataType mnemonics (TTCoreOpsEnums.td).
CB_DTYPES = {"bf16": "bf16", "bfp8_b": "bfp_bf8", "bfp4_b": "bfp_bf4", "f32": "f32"}
# tt-metal's multicast handshake: the sender waits on one, receivers on the other.
MULTICAST_SEMAPHORES = ("weight_mcast_sender", "weight_mcast_receiver")
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


def core_coord(x: int, y: int) -> str:
    return f"#ttnn.core_coord<{x}, {y}>"


def named_arg(name: str, value: int) -> str:
    if not 0 <= value <= UINT32_MAX:
        raise CannotExpress(f"argument '{name}' = {value} is not a uint32 "
                            f"(#ttnn.kernel_named_arg holds uint32 values)")
    return f'#ttnn.kernel_named_arg<name = "{name}", value = {value}>'


def cb_arg(index: int) -> str:
    return f"#ttnn.kernel_arg_cb_buffer_index<{index}>"


def semaphore_arg(index: int) -> str:
    return f"#ttnn.kernel_arg_semaphore_at<{index}>"


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


def needs_multicast_semaphores(program: KernelProgram) -> bool:
    """A shard on one core multicasts to itself: no handshake needed."""
    return any((r1 - r0 + 1) * (c1 - c0 + 1) > 1
               for m in program.multicast for (r0, c0), (r1, c1) in [m.receivers])


def _core_args(program: KernelProgram, role: str) -> tuple[str, ...]:
    """Per-core runtime arguments: the channel shard and pixel group a core computes; for
    the reader also its shard's weight sender, and for a sender every receiver rectangle
    of its multicast ((x, y) = (column, row), inclusive corners)."""
    rects: dict[int, list] = {}
    for m in program.multicast:
        rects.setdefault(m.shard, []).append(m)
    out = []
    for row, col in program.cores():
        shard, group = program.core_shard(row, col), program.core_pixel_group(row, col)
        args = [named_arg("channel_shard", shard), named_arg("pixel_group", group)]
        if role == "reader":
            sender = rects[shard][0].sender
            is_sender = (row, col) == sender
            args += [named_arg("is_weight_sender", int(is_sender)),
                     named_arg("weight_sender_x", sender[1]), named_arg("weight_sender_y", sender[0])]
            if is_sender:
                reached = 0
                args.append(named_arg("weight_mcast_rects", len(rects[shard])))
                for i, m in enumerate(rects[shard]):
                    (r0, c0), (r1, c1) = m.receivers
                    reached += (r1 - r0 + 1) * (c1 - c0 + 1)
                    args += [named_arg(f"weight_mcast{i}_x0", c0), named_arg(f"weight_mcast{i}_y0", r0),
                             named_arg(f"weight_mcast{i}_x1", c1), named_arg(f"weight_mcast{i}_y1", r1)]
                args.append(named_arg("weight_mcast_cores", reached))
        out.append(f"#ttnn.core_runtime_args<core_coord = {core_coord(col, row)}, args = {arg_list(args)}>")
    return tuple(out)


def generic_program(program: KernelProgram) -> tuple[str, list[tuple[str, str]]]:
    """(`#ttnn.program<...>` text, [(kernel symbol, source path, thread)]) for a verified plan.

    Raises CannotExpress for a plan the generic form cannot carry."""
    ranges = [tuple(r) for r in program.core_ranges()]
    has_bias = program.conv.has_bias
    io = {"input": 0, "weights": 1, "bias": 2 if has_bias else None, "output": 3 if has_bias else 2}
    touches = {"reader": ["input", "weights"] + (["bias"] if has_bias else []),
               "compute": [], "writer": ["output"]}
    present = {cb.id for cb in program.circular_buffers}
    semaphores = list(range(len(MULTICAST_SEMAPHORES))) if needs_multicast_semaphores(program) else []
    compile_args = program.compile_args()
    kernels, symbols = [], []
    for role, path in program.kernels:
        if role not in KERNEL_ATTRS:
            raise CannotExpress(f"kernel role '{role}' is not a reader, compute or writer kernel")
        values = compile_args[role]
        cb_ids = sorted({v for k, v in values.items() if k.endswith("_cb_id") and v in present})
        tensors = [io[t] for t in touches[role]]
        ct = [cb_arg(i) for i in cb_ids]
        if role == "reader":
            ct += [semaphore_arg(i) for i in semaphores]
        ct += [accessor_arg(t) for t in tensors]
        common = [address_arg(t) for t in tensors]
        common += [named_arg(k, int(values[k])) for k in sorted(values) if not k.endswith("_cb_id")]
        symbol = kernel_symbol(path)
        kernels.append(Kernel(role, symbol, tuple(ranges), tuple(ct), tuple(common),
                              _core_args(program, role)))
        symbols.append((symbol, path, THREADS[role]))
    bad = sorted({cb.dtype for cb in program.circular_buffers} - set(CB_DTYPES))
    if bad:
        raise CannotExpress(f"circular buffer dtype {', '.join(bad)} has no ttcore data type")
    cbs = [cb_syntax(cb, ranges) for cb in program.circular_buffers]
    sems = [semaphore_syntax(i, ranges) for i in semaphores]
    return program_syntax(kernels, cbs, sems), symbols


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
        devices: dict = {}      # function -> its ttnn.get_device value
        declared: dict = {}     # (module, symbol) -> True once declared
        programs: dict = {}     # KernelProgram -> (program attribute, symbols)
        for op in ops_named(module_op, PROGRAM_OP):
            program = ttnn.program_of(op)
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
                         + " are declarations without bodies")
            self._lower(op, attribute, devices)

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
                declared[key] = True
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
            declared[key] = True
        return True

    def _device(self, op, devices):
        func = _enclosing(op, "func.func")
        key = id(func) if func is not None else None
        if key in devices:
            return devices[key]
        entry = func.regions[0].blocks[0] if func is not None else op.parent.regions[0].blocks[0]
        name = foreign_op_name("ttnn.get_device")
        found = next((o for o in entry.operations if o.name == name), None)
        if found is None:
            first = next(iter(entry.operations))
            with ir.InsertionPoint(first), op.location:
                found = ir.Operation.create(name, results=[foreign_type("!ttnn.device")], attributes={
                    "mesh_offset": foreign_attribute("#ttnn<mesh_offset 0x0>"),
                    "mesh_shape": foreign_attribute("#ttnn<mesh_shape 1x1>")})
        devices[key] = found.results[0]
        return devices[key]

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

