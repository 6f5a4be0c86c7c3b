"""Our TTNN ops: builders, typed views and verification.

    %pw = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels, kernel_size, weight_layout}>
          : (tensor<Cx1xkHxkW>) -> tensor<S x T x 32 x 32 x bf16>
    %pb = "ttnn.prepare_depthwise_pool_bias"(%b) <{in_channels, weight_layout}>
          : (tensor<1x1x1xC>) -> tensor<S x CT x 32 x 32 x bf16>
    %y  = "ttnn.depthwise_pool_conv"(%x, %pw[, %pb]) <{in_channels, out_channels, batch_size,
          input_height, input_width, kernel_size, stride, padding = [pT, pB, pL, pR], dilation,
          activation, dtype, weight_layout}> : (tensor<NxHxWxC>, ...) -> tensor<NxHoxWoxC>

`weight_layout` holds the plan the legalisation made, its sharding, from which
the lowering builds the program (a pass of the kernels is always 32 output pixels
by one channel block, so nothing else about the plan needs recording).

Attribute names follow `ttnn.conv2d` (TTNNOps.td), including its padding order
[pT, pB, pL, pR]. Input and result are NHWC. `weight_layout` is a builtin
dictionary with exactly these fields (printed sorted by name):

    weight_layout = {channel_shards = S : i32, channels_per_shard = Cs : i32, cores = N : i32,
        dtype = "bf16"|"f32"|"f16"|"bfp8_b"|"bfp4_b", face_rows_per_position = ceil(Cs/16) : i32,
        grid = array<i32: R, C>, kernel_size = array<i32: kH, kW>, rows_per_tile = 16|32 : i32,
        shard_scheme = "height_sharded"|"width_sharded"|"block_sharded", tiles_per_shard = T : i32}

A dictionary and not an attribute of our own (`#ttnn.depthwise_weight_layout<...>`,
as it once was): our dialects are IRDL, and neither the MLIR C API nor the
Python bindings can build an IRDL attribute or read its parameters, so such an
attribute could only be made by parsing text and read by printing it. A
dictionary of builtin attributes is built (`LayoutRecord.to_attr`) and read
(`LayoutRecord.from_attr`, the one reader) through the bindings. IRDL checks
that it is a dictionary; `verify_op` checks every field (present, of its kind,
none unknown) and the layout against itself, the op's shapes and its conv
attributes. In tt-mlir proper it would be a C++ TTNN attribute with typed
parameters and its own verifier. Files written with the old wrapper are read at
file input (`dialect/irdl_syntax.py`).

The dictionary records the face-based tiled layout of `tt_dw_mlir.layout` (its
docstring has the exact index map) and the sharding that decided it. Prepared
tensors hold values already quantised to the layout's `dtype`; they are stored
as bf16, which represents every bfloat8_b / bfloat4_b value exactly; f32 / f16
layouts are stored as f32 / f16. The conv op's own `dtype` is the conv's element
type (bf16, f32 or f16): the op computes and returns in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tt_dw_mlir.conv_config import SCHEMES, DepthwiseConv
from tt_dw_mlir.dialect.constants import FLOAT_ELEMENT_TYPES
from tt_dw_mlir.ir import ir
from tt_dw_mlir.layout import WeightLayout
from tt_dw_mlir.program import KernelProgram
from tt_dw_mlir.sharding import Sharding, scheme_splits

# The fields of `weight_layout` and their kinds (see the module docstring).
LAYOUT_FIELDS: dict[str, str] = {
    "shard_scheme": "string", "grid": "i32_pair", "cores": "i32", "channel_shards": "i32",
    "channels_per_shard": "i32", "face_rows_per_position": "i32", "rows_per_tile": "i32",
    "tiles_per_shard": "i32", "kernel_size": "i32_pair", "dtype": "string"}
_KIND_NAMES = {"string": "a string", "i32": "an i32 integer", "i32_pair": "array<i32: a, b>"}
OURS = ("ttnn.prepare_depthwise_pool_weights", "ttnn.prepare_depthwise_pool_bias",
        "ttnn.depthwise_pool_conv", "ttnn.depthwise_pool_program")

@dataclass(frozen=True)
class LayoutRecord:
    """What an op's `weight_layout` dictionary says: the layout plus its core grid.

    The one reader and writer of that attribute (`from_attr`, `to_attr`)."""

    layout: WeightLayout
    grid: tuple[int, int]
    cores: int  # cores in use: a height/width-sharded grid may end in a partial row

    @staticmethod
    def of(sharding, layout: WeightLayout) -> "LayoutRecord":
        return LayoutRecord(layout, tuple(sharding.grid), sharding.num_cores)

    def sharding(self, conv: DepthwiseConv):
        """The `sharding.Sharding` this record describes for `conv`."""
        groups = scheme_splits(self.layout.scheme, self.grid, self.cores)[1]
        pixels = -(-conv.output_pixels // groups)
        return Sharding(self.layout.scheme, self.grid, self.layout.num_shards,
                        self.layout.channels_per_shard, pixels, self.cores)

    def to_attr(self):
        """The `weight_layout` dictionary of this record, in the current context."""
        lay = self.layout
        return ir.DictAttr.get({
            "shard_scheme": string(lay.scheme), "grid": i32_array(self.grid), "cores": i32(self.cores),
            "channel_shards": i32(lay.num_shards), "channels_per_shard": i32(lay.channels_per_shard),
            "face_rows_per_position": i32(lay.face_rows_per_position),
            "rows_per_tile": i32(lay.rows_per_tile), "tiles_per_shard": i32(lay.tiles_per_shard),
            "kernel_size": i32_array(lay.kernel), "dtype": string(lay.dtype)})

    @staticmethod
    def from_attr(attr, memo: dict | None = None) -> "LayoutRecord":
        """Read and check the attribute; raises ValueError naming what is inconsistent.

        `memo` (owned by the caller: a pass, one verification) remembers each distinct
        attribute's reading (attributes are uniqued: equal layouts are one attribute)."""
        if memo is None:
            return _read_layout(attr)
        found = memo.get(attr)
        if found is None:
            try:
                found = _read_layout(attr)
            except ValueError as problem:
                found = ValueError(str(problem))  # not the raised one: its traceback holds the frames
            memo[attr] = found
        if isinstance(found, ValueError):
            raise ValueError(str(found))
        return found


def _field(fields, name: str):
    """The value of field `name` of a layout dictionary, checked against LAYOUT_FIELDS."""
    kind, value = LAYOUT_FIELDS[name], fields[name]
    if kind == "string" and isinstance(value, ir.StringAttr):
        return value.value
    if kind == "i32" and isinstance(value, ir.IntegerAttr) and _is_i32(value.type):
        return value.value
    if kind == "i32_pair" and isinstance(value, ir.DenseI32ArrayAttr) and len(value) == 2:
        return tuple(value)
    raise ValueError(f"weight layout field '{name}' must be {_KIND_NAMES[kind]}, got {value}")


def _is_i32(type_) -> bool:
    return isinstance(type_, ir.IntegerType) and type_.width == 32 and type_.is_signless


def _read_layout(attr) -> LayoutRecord:
    if not isinstance(attr, ir.DictAttr):
        raise ValueError(f"'weight_layout' must be a dictionary of {', '.join(LAYOUT_FIELDS)}, got {attr}")
    names = [attr[i].name for i in range(len(attr))]
    missing = [name for name in LAYOUT_FIELDS if name not in names]
    if missing:
        raise ValueError(f"weight layout is missing {', '.join(missing)}")
    unknown = [name for name in names if name not in LAYOUT_FIELDS]
    if unknown:
        raise ValueError(f"weight layout has unknown field(s) {', '.join(unknown)}")
    value = {name: _field(attr, name) for name in LAYOUT_FIELDS}
    layout = WeightLayout(value["shard_scheme"], value["channel_shards"], value["channels_per_shard"],
                          value["kernel_size"], value["dtype"])
    grid, cores = value["grid"], value["cores"]
    problems = layout.validate()
    if min(grid) < 1:
        problems.append(f"grid must be two positive sizes, got {list(grid)}")
    elif not (grid[0] - 1) * grid[1] < cores <= grid[0] * grid[1]:
        problems.append(f"{cores} cores do not fill the rows of a {grid[0]}x{grid[1]} grid")
    elif layout.scheme in SCHEMES:
        expected_shards = scheme_splits(layout.scheme, grid, cores)[0]
        if layout.num_shards != expected_shards:
            problems.append(f"{layout.scheme} on a {grid[0]}x{grid[1]} grid has "
                            f"{expected_shards} channel shard(s), not {layout.num_shards}")
    if not problems:
        for name, derived in (("face_rows_per_position", layout.face_rows_per_position),
                              ("rows_per_tile", layout.rows_per_tile),
                              ("tiles_per_shard", layout.tiles_per_shard)):
            if value[name] != derived:
                problems.append(f"{name} = {value[name]} disagrees with the layout ({derived})")
    if problems:
        raise ValueError("; ".join(problems))
    return LayoutRecord(layout, grid, cores)


def tensor_type(shape, element="bf16"):
    """`tensor<shape x element>`; `element` is an MLIR type or one of bf16, f32, f16."""
    if isinstance(element, str):
        element = FLOAT_ELEMENT_TYPES[element].get()
    return ir.RankedTensorType.get(list(shape), element)

def i32(value: int):
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(32), int(value))

def i32_array(values):
    return ir.DenseI32ArrayAttr.get([int(v) for v in values])

def string(value: str):
    return ir.StringAttr.get(value)

def conv_attributes(conv: DepthwiseConv, layout_attr) -> dict:
    """The attributes of `ttnn.depthwise_pool_conv`; `layout_attr` is the record's `to_attr()`
    (the plan's sharding, from which the lowering builds the program)."""
    return {
        "in_channels": i32(conv.channels), "out_channels": i32(conv.channels),
        "batch_size": i32(conv.batch), "input_height": i32(conv.in_h), "input_width": i32(conv.in_w),
        "kernel_size": i32_array(conv.kernel), "stride": i32_array(conv.stride),
        "padding": i32_array(conv.padding), "dilation": i32_array(conv.dilation),
        "activation": string(conv.activation), "dtype": string(conv.dtype),
        "weight_layout": layout_attr,
    }

def conv_from_attributes(op, layouts: dict | None = None) -> tuple[DepthwiseConv, LayoutRecord]:
    """The DepthwiseConv and layout a `ttnn.depthwise_pool_conv`/`_program` op describes.

    `layouts`: a LayoutRecord.from_attr memo."""
    a = op.attributes
    record = LayoutRecord.from_attr(a["weight_layout"], layouts)
    conv = DepthwiseConv(
        batch=a["batch_size"].value, in_h=a["input_height"].value, in_w=a["input_width"].value,
        channels=a["in_channels"].value, kernel=tuple(a["kernel_size"]), stride=tuple(a["stride"]),
        padding=tuple(a["padding"]), dilation=tuple(a["dilation"]),
        has_bias=len(op.operands) > 2, activation=a["activation"].value, dtype=a["dtype"].value,
        weight_dtype=record.layout.dtype)
    return conv, record

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


# ------------------------------------------------------------- programs
# A model repeats a few layer shapes many times, and a kernel program is several kB of
# attributes: each distinct program is defined once, by a symbol op in the module
#
#     "ttnn.depthwise_pool_kernel_program"() {program = {kernels = ..., ...},
#                                             sym_name = "depthwise_pool_program_0"} : () -> ()
#
# and every `ttnn.depthwise_pool_program` using it names it (`program = @depthwise_pool_program_0`),
# the way tt-mlir's #ttnn.program names its kernels by symbol (`symbol_ref = @...`).
# IR written before this carried the dictionary inline; it is still read.
PROGRAM_DEFINITION = "ttnn.depthwise_pool_kernel_program"
PROGRAM_SYMBOL_PREFIX = "depthwise_pool_program_"


def enclosing_module(op):
    """The nearest `builtin.module` around `op` (the symbol table its program names live in)."""
    parent = op.parent
    while parent is not None and parent.name != "builtin.module":
        parent = parent.parent
    return parent


class ProgramSymbols:
    """The program definitions of each module, read once (owned by one pass or verification).

    `definitions(module)`: symbol name -> the definition's `program` attribute."""

    def __init__(self) -> None:
        self._modules: dict = {}

    def definitions(self, module) -> dict:
        found = self._modules.get(module)
        if found is None:
            found = {}
            for op in module.regions[0].blocks[0].operations:
                if op.name == PROGRAM_DEFINITION and "sym_name" in op.attributes \
                        and "program" in op.attributes:
                    found.setdefault(ir.StringAttr(op.attributes["sym_name"]).value, op.attributes["program"])
            self._modules[module] = found
        return found

    def program_attribute(self, op):
        """The dictionary of `op`'s kernel program: its `program` attribute, or the definition
        that attribute names. Raises ValueError naming what is missing."""
        attr = op.attributes["program"]
        if isinstance(attr, ir.DictAttr):
            return attr
        if not isinstance(attr, ir.FlatSymbolRefAttr):
            raise ValueError(f"'program' must name a {PROGRAM_DEFINITION} (@name), got {attr}")
        module = enclosing_module(op)
        found = self.definitions(module).get(attr.value) if module is not None else None
        if found is None:
            raise ValueError(f"'program' names @{attr.value}, which is not a {PROGRAM_DEFINITION} "
                             "of the enclosing module")
        if not isinstance(found, ir.DictAttr):
            raise ValueError(f"the program of @{attr.value} must be a dictionary, got {found}")
        return found


def program_of(op, layouts: dict | None = None, symbols: ProgramSymbols | None = None) -> KernelProgram:
    """The KernelProgram of a `ttnn.depthwise_pool_program` op (the one accessor: the program
    may be defined once in the module and named by the op), checked against its attributes.

    `layouts`: a LayoutRecord.from_attr memo; `symbols`: the caller's ProgramSymbols (a
    pass or a verification reading many ops), else the module's definitions are read here."""
    conv, record = conv_from_attributes(op, layouts)
    attribute = (symbols or ProgramSymbols()).program_attribute(op)
    return KernelProgram.from_attributes(from_attribute(attribute), conv, record.sharding(conv), record.layout)


@lru_cache(maxsize=1024)
def program_problems(program: KernelProgram) -> tuple[str, ...]:
    """`program.verify()`, once per distinct program (the lowering pass and the verifier ask)."""
    return tuple(program.verify())


def _shape(value) -> list[int]:
    return list(value.type.shape) if isinstance(value.type, ir.RankedTensorType) else []

class Verifier:
    """`verify_op` for the ops of one verification, once per distinct signature.

    A verdict depends only on the op's name, attributes and operand/result types, all
    uniqued: a model repeats a few layer shapes many times (10,000 blocks: 30,000 ops,
    some 40 signatures). Owned by one verification, so it keeps no IR alive after it."""

    def __init__(self) -> None:
        self._verdicts: dict = {}
        self.layouts: dict = {}
        self.symbols = ProgramSymbols()

    def verify(self, op) -> str | None:
        key = _signature(op)
        if key is None:
            return verify_op(op, self.layouts, self.symbols)
        if key not in self._verdicts:
            self._verdicts[key] = verify_op(op, self.layouts, self.symbols)
        return self._verdicts[key]


def _signature(op):
    """(name, attributes, operand types, result types) of `op`, or None if unreadable."""
    attributes = op.attributes
    key = [op.name]
    try:
        for name in attributes:  # by name: NamedAttribute.attr aborts on what it cannot wrap
            key += (name, attributes[name])
    except TypeError:  # an attribute the bindings cannot wrap: verify_op reports it
        return None
    key.append(len(op.operands))
    key += [value.type for value in op.operands]
    key += [value.type for value in op.results]
    return tuple(key)


def verify_op(op, layouts: dict | None = None, symbols: ProgramSymbols | None = None,
              built_from: KernelProgram | None = None) -> str | None:
    """Checks IRDL cannot express for our ops; returns the problem or None.

    `layouts`: a LayoutRecord.from_attr memo; `symbols`: a ProgramSymbols; `built_from`:
    the program a pass has just written into a program op (`to_attributes`), taken as
    what the op carries instead of reading it back."""
    try:
        if op.name in ("ttnn.prepare_depthwise_pool_weights", "ttnn.prepare_depthwise_pool_bias"):
            record = LayoutRecord.from_attr(op.attributes["weight_layout"], layouts)
            channels = op.attributes["in_channels"].value
            problems = record.layout.validate(channels)
            if problems:
                return "; ".join(problems)
            is_weights = op.name.endswith("weights")
            expected = list(record.layout.prepared_shape if is_weights else record.layout.bias_shape)
            if _shape(op.results[0]) != expected:
                return (f"prepared {'weight' if is_weights else 'bias'} type {op.results[0].type} does not "
                        f"match the weight layout, expected shape {expected}")
            source = _shape(op.operands[0])
            if is_weights and source[:2] != [channels, 1] or is_weights and \
                    source[2:] != list(record.layout.kernel):
                return (f"weight shape {source} does not match [{channels}, 1, "
                        f"{record.layout.kernel[0]}, {record.layout.kernel[1]}]")
            return None
        if op.name in ("ttnn.depthwise_pool_conv", "ttnn.depthwise_pool_program"):
            problem = _verify_conv(op, layouts)
            if problem or op.name == "ttnn.depthwise_pool_conv":
                return problem
            problems = program_problems(built_from or program_of(op, layouts, symbols))
            return f"program {'; '.join(problems)}" if problems else None
    except (KeyError, ValueError, TypeError, AttributeError) as problem:
        return f"{problem}"
    return None

def _verify_conv(op, layouts: dict | None = None) -> str | None:
    conv, record = conv_from_attributes(op, layouts)
    layout = record.layout
    problems = layout.validate(conv.channels)
    if problems:
        return "; ".join(problems)
    if tuple(layout.kernel) != tuple(conv.kernel):
        return f"weight layout kernel {list(layout.kernel)} differs from kernel_size {list(conv.kernel)}"
    if len(op.operands) > 3:
        return f"expects input, weight and optional bias, got {len(op.operands)} operands"
    x, w = _shape(op.operands[0]), _shape(op.operands[1])
    if x != [conv.batch, conv.in_h, conv.in_w, conv.channels]:
        return (f"input shape {x} does not match batch_size/input_height/input_width/in_channels "
                f"{[conv.batch, conv.in_h, conv.in_w, conv.channels]}")
    if w != list(layout.prepared_shape):
        return f"prepared weight shape {w} does not match the weight layout {list(layout.prepared_shape)}"
    if len(op.operands) == 3 and _shape(op.operands[2]) != list(layout.bias_shape):
        return (f"prepared bias shape {_shape(op.operands[2])} does not match the weight layout "
                f"{list(layout.bias_shape)}")
    expected = [conv.batch, conv.out_h, conv.out_w, conv.channels]
    if _shape(op.results[0]) != expected:
        return f"result shape {_shape(op.results[0])} does not match the conv shape {expected}"
    if conv.out_h < 1 or conv.out_w < 1:
        return "the kernel does not fit the padded input"
    return None

def storage_type(layout: WeightLayout) -> str:
    """The element type prepared tensors are stored in: the layout's own float type, or
    bf16 for block float (bf16 holds every bfloat8_b / bfloat4_b value exactly)."""
    return layout.dtype if layout.dtype in ("f32", "f16") else "bf16"

def prepared_weight_type(layout: WeightLayout):
    return tensor_type(layout.prepared_shape, storage_type(layout))

def prepared_bias_type(layout: WeightLayout):
    return tensor_type(layout.bias_shape, storage_type(layout))


# ------------------------------------------------------------------ device
DEVICE_ATTR = "tt_dw.device"


def module_device(module_op, requested: str = ""):
    """(Device, recorded?) of a module: its `tt_dw.device`, else `requested`, else n150.

    The device is decided once per module and recorded on it (as tt-mlir records its
    device in the `ttcore.system_desc` module attribute, TTCoreRegisterDevice.cpp);
    every pass reads it from there. Raises ValueError when `requested` names a
    device other than the recorded one, or the attribute is not a device."""
    from tt_dw_mlir.sharding import device_from_dict, get_device

    attributes = module_op.attributes
    if DEVICE_ATTR not in attributes:
        return get_device(requested or "n150"), False
    try:
        recorded = device_from_dict(from_attribute(attributes[DEVICE_ATTR]))
    except (TypeError, ValueError, KeyError) as problem:
        raise ValueError(f"'{DEVICE_ATTR}' is not a device description: {problem}") from None
    if requested and get_device(requested) != recorded:
        raise ValueError(f"device={requested} conflicts with the module's {DEVICE_ATTR} "
                         f"({recorded.name}): a module is compiled for one device")
    return recorded, True


def record_device(module_op, device) -> None:
    """`tt_dw.device = {name, arch, grid, l1_size, ...}` on the module (field names as
    tt-mlir's #ttcore.system_desc chip descriptions spell them)."""
    module_op.attributes[DEVICE_ATTR] = to_attribute({
        "name": device.name, "arch": device.arch, "grid": list(device.grid),
        "l1_size": device.l1_bytes, "l1_unreserved_base": device.l1_unreserved_base,
        "num_dram_channels": device.num_dram_channels})
