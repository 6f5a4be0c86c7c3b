"""TTIR builder for the PyTorch and ONNX frontends, through the MLIR Python bindings.

The frontends describe a model in framework terms (NCHW activations, OIHW conv
weights, [out, in] linear weights); this module builds real tt-mlir TTIR op by
op with `ir.Operation.create` and typed attributes, the way tt-mlir's own
`ttir_builder` does, keeping 4-D activations NHWC as `ttir.conv2d` expects.
Constants are `DenseElementsAttr`s made from the numpy buffer (bf16 bits exact,
rounded to nearest even once, here). Every op carries a name location: the
torch module path or the ONNX node (`loc("features.1.conv.0.0")`).

A value remembers how its data is stored: `nhwc` (a logical NCHW tensor kept
as NHWC) or `plain` (stored as the logical shape). Layout changes are explicit
`ttir.permute` ops, emitted only where an op needs them.

Op and attribute spellings follow tt-mlir's include/ttmlir/Dialect/TTIR/IR/TTIROps.td
(tenstorrent/tt-mlir 19c86fca45); `EMITTED_OPS` lists every op and attribute built here.
A model may become several functions (`start_function`): the regions a
frontend could map, with host ops between them (see `HostStep`).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, Union

import numpy as np

from ..conv_config import ACTIVATIONS, DepthwiseConv, ttir_padding_to_sides
from ..dialect.constants import numpy_to_dense
from ..ir import USING_TTMLIR, ir, new_context, print_module

DTYPES = ("bf16", "f32")
WEIGHT_MODES = ("constants", "arguments")

# Every op this builder creates, with its attributes (TTIROps.td names and kinds).
EMITTED_OPS: dict[str, dict[str, str]] = {
    "ttir.constant": {"value": "DenseElementsAttr"},
    "ttir.permute": {"permutation": "DenseI64ArrayAttr"},
    "ttir.conv2d": {"stride": "DenseI32ArrayAttr[2]", "padding": "DenseI32ArrayAttr[4] [pT, pL, pB, pR]",
                    "dilation": "DenseI32ArrayAttr[2]", "groups": "I32Attr"},
    "ttir.conv_transpose2d": {"stride": "DenseI32ArrayAttr[2]", "padding": "DenseI32ArrayAttr[4]",
                              "output_padding": "DenseI32ArrayAttr[2]",
                              "dilation": "DenseI32ArrayAttr[2]", "groups": "I32Attr"},
    "ttir.max_pool2d": {"kernel": "DenseI32ArrayAttr[2]", "stride": "DenseI32ArrayAttr[2]",
                        "dilation": "DenseI32ArrayAttr[2]", "padding": "DenseI32ArrayAttr[4]",
                        "ceil_mode": "BoolAttr"},
    "ttir.avg_pool2d": {"kernel": "DenseI32ArrayAttr[2]", "stride": "DenseI32ArrayAttr[2]",
                        "dilation": "DenseI32ArrayAttr[2]", "padding": "DenseI32ArrayAttr[4]",
                        "ceil_mode": "BoolAttr", "count_include_pad": "BoolAttr"},
    "ttir.upsample2d": {"scale_factor": "DenseI32ArrayAttr[2]", "mode": "StrAttr"},
    "ttir.clamp_scalar": {"min": "F32Attr", "max": "F32Attr"},
    "ttir.mean": {"dim_arg": "I32ArrayAttr", "keep_dim": "BoolAttr"},
    "ttir.sum": {"dim_arg": "I32ArrayAttr", "keep_dim": "BoolAttr"},
    "ttir.reshape": {"shape": "I32ArrayAttr"},
    "ttir.concat": {"dim": "SI32Attr"},
    "ttir.slice_static": {"begins": "I32ArrayAttr", "ends": "I32ArrayAttr", "step": "I32ArrayAttr"},
    "ttir.softmax": {"dimension": "SI32Attr"},
    "ttir.layer_norm": {"normalized_shape": "DenseI64ArrayAttr", "epsilon": "F32Attr"},
    "ttir.linear": {"transpose_a": "BoolAttr", "transpose_b": "BoolAttr"},
    "ttir.matmul": {"transpose_a": "BoolAttr", "transpose_b": "BoolAttr"},
}
UNARY_OPS = ("relu", "relu6", "sigmoid", "silu", "gelu", "hardsigmoid", "tanh", "exp", "neg",
             "abs", "sqrt", "rsqrt", "erf")
BINARY_OPS = ("add", "subtract", "multiply", "div", "pow", "maximum", "minimum")
EMITTED_OPS.update({f"ttir.{op}": {} for op in UNARY_OPS + BINARY_OPS})

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)
STORED_DIM = (0, 3, 1, 2)  # logical NCHW dim -> its index in NHWC storage
F32_MAX = float(np.finfo(np.float32).max)
# Not in the IRDL subset (see dialect/irdl.py: its inputs may differ in type, which one
# IRDL variadic cannot hold): without ttmlir it is declared in the emitter's context as
# it is built here, with two inputs (`concat`).
CONCAT = "ttir.concat"


# Resource limit (issue 11): no tensor a model declares may hold more elements than this
# (256 MiB as float32), checked before anything of that size is allocated or built.
MAX_TENSOR_ELEMENTS = 1 << 26


class TooLargeError(ValueError):
    """A declared shape beyond MAX_TENSOR_ELEMENTS."""


def check_size(shape: Sequence[int], what: str) -> None:
    count = math.prod(int(d) for d in shape)
    if count > MAX_TENSOR_ELEMENTS:
        raise TooLargeError(
            f"{what} of shape {'x'.join(str(int(d)) for d in shape)} has {count:,} elements, "
            f"over the limit of {MAX_TENSOR_ELEMENTS:,} ({MAX_TENSOR_ELEMENTS * 4 >> 20} MiB as "
            f"float32); use a smaller input shape")


class UnsupportedOpError(Exception):
    """Raised with every op a frontend cannot map, not only the first."""

    def __init__(self, problems: Sequence[tuple[str, str, str]]):
        # problems: (op, node name, reason)
        self.problems = list(problems)
        self.ops = sorted({op for op, _, _ in self.problems})
        self.nodes = [node for _, node, _ in self.problems]
        lines = [f"  {op} at node '{node}'" + (f": {why}" if why else "")
                 for op, node, why in self.problems]
        super().__init__(f"unsupported op(s) {', '.join(self.ops)}:\n" + "\n".join(lines))


class ModelError(ValueError):
    """An invalid model (bad attribute, disagreeing shapes, too large), named by its node."""

    def __init__(self, node: str, message: str):
        super().__init__(f"node '{node}': {message}")
        self.node = node
        self.reason = message


@dataclass(eq=False)
class Value:
    """An SSA value being built: the MLIR value, its stored shape and how the data is stored."""

    value: Any  # ir.Value
    shape: tuple[int, ...]  # as stored (NHWC for `nhwc`)
    layout: str = "plain"  # "plain" | "nhwc"

    @property
    def logical_shape(self) -> tuple[int, ...]:
        if self.layout == "nhwc":
            n, h, w, c = self.shape
            return (n, c, h, w)
        return self.shape

    @property
    def rank(self) -> int:
        return len(self.shape)


Operand = Union[Value, np.ndarray, float, int]


@dataclass(frozen=True)
class ConvLayer:
    """One built `ttir.conv2d` and where it came from."""

    loc: str  # the op's location name
    source: str  # torch module path or ONNX node name
    module_path: str  # torch module path ("" when an ONNX model does not tell)
    input_shape: tuple[int, int, int, int]  # NHWC
    output_shape: tuple[int, int, int, int]  # NHWC
    weight_shape: tuple[int, int, int, int]  # OIHW
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # TTIR order [pT, pL, pB, pR]
    dilation: tuple[int, int]
    groups: int
    has_bias: bool
    bn_folded: bool
    activation: str  # the conv's only user when it is one of conv_config.ACTIVATIONS
    # OIHW float32, BN folded: kept for grouped and depthwise convs (reported and checked
    # per layer); None for a dense conv (groups = 1), whose weights are in the IR only
    weight: np.ndarray | None = field(repr=False, compare=False)
    bias: np.ndarray | None = field(repr=False, compare=False)
    function: str = "main"  # the function the conv is in

    @property
    def in_channels(self) -> int:
        return self.input_shape[3]

    @property
    def out_channels(self) -> int:
        return self.output_shape[3]

    @property
    def kernel(self) -> tuple[int, int]:
        return (self.weight_shape[2], self.weight_shape[3])

    @property
    def is_depthwise(self) -> bool:
        return (self.groups == self.in_channels == self.out_channels
                and self.weight_shape[1] == 1)

    @property
    def config(self) -> DepthwiseConv | None:
        """The DepthwiseConv record for a depthwise conv, None for any other conv."""
        if not self.is_depthwise:
            return None
        n, h, w, c = self.input_shape
        return DepthwiseConv(
            batch=n, in_h=h, in_w=w, channels=c, kernel=self.kernel, stride=self.stride,
            padding=ttir_padding_to_sides(list(self.padding)), dilation=self.dilation,
            has_bias=self.has_bias, activation=self.activation)


# --------------------------------------------------------------------------- #
# The network as run: TTIR functions and host ops, in order
# --------------------------------------------------------------------------- #
@dataclass
class TTIRCall:
    """Run TTIR function `function` on the values named `inputs`; name its results `outputs`."""

    function: str
    inputs: list[str]
    outputs: list[str]


@dataclass
class HostStep:
    """One op the frontend could not map, run on the host (torch / onnxruntime).

    `run(values)` takes the tensors named `inputs` (torch, float32 or as produced)
    and returns one value per name in `outputs`.
    """

    op: str  # the op type (`aten.lstm.input`, ONNX `Einsum`)
    name: str  # the node (module path / ONNX node name)
    reason: str  # why it is not TTIR
    inputs: list[str]
    outputs: list[str]
    run: Callable[[list], list] = field(repr=False)


@dataclass
class TTIRModule:
    """A built module plus what the rest of the pipeline needs to know about it."""

    module: Any  # the in-memory builtin.module (tt_dw_mlir.ir)
    convs: list[ConvLayer]
    input_shapes: list[tuple[int, ...]]  # as the framework gives them (NCHW)
    output_shapes: list[tuple[int, ...]]  # as the framework returns them
    dtype: str
    weights: str
    # weights == "arguments": function-argument order name -> stored array (float32)
    parameters: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    op_counts: Counter = field(default_factory=Counter)
    # How the network runs: TTIR calls and host ops in order, over named values
    # (inputs are "input0", ...). One TTIRCall of "main" when the whole model is TTIR.
    steps: list = field(default_factory=list)
    input_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # host-side values
    output_is_sequence: bool = False  # the model returns a tuple/list (even of one tensor)
    output_spec: Any = None  # torch: the pytree spec of the model's outputs

    @property
    def text(self) -> str:
        """The module as tt-mlir TTIR text (printed on demand; the module is the truth)."""
        return print_module(self.module, debug_info=True)

    @property
    def context(self):
        return self.module.context

    @property
    def depthwise_convs(self) -> list[ConvLayer]:
        return [c for c in self.convs if c.is_depthwise]

    @property
    def host_steps(self) -> list[HostStep]:
        return [s for s in self.steps if isinstance(s, HostStep)]

    @property
    def host_ops(self) -> Counter:
        return Counter(s.op for s in self.host_steps)

    def conv(self, loc: str) -> ConvLayer:
        for c in self.convs:
            if c.loc == loc:
                return c
        raise KeyError(loc)

    def write(self, path: str) -> None:
        with open(path, "w") as f:
            f.write(self.text)

    def __str__(self) -> str:
        return self.text


def _broadcast(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(tuple(a), tuple(b)))


# --------------------------------------------------------------------------- #
# Attributes (typed, built once per call; no text)
# --------------------------------------------------------------------------- #
def _i32_array(values: Sequence[int]):
    return ir.DenseI32ArrayAttr.get([int(v) for v in values])


def _i64_array(values: Sequence[int]):
    return ir.DenseI64ArrayAttr.get([int(v) for v in values])


def _i32(value: int):
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(32), int(value))


def _si32(value: int):
    return ir.IntegerAttr.get(ir.IntegerType.get_signed(32), int(value))


def _i32_list(values: Sequence[int]):
    i32 = ir.IntegerType.get_signless(32)
    return ir.ArrayAttr.get([ir.IntegerAttr.get(i32, int(v)) for v in values])


def _f32(value: float):
    return ir.FloatAttr.get_f32(float(np.float32(value)))


def _bool(value: bool):
    return ir.BoolAttr.get(bool(value))


# --------------------------------------------------------------------------- #
class TTIRBuilder:
    """Builds TTIR functions op by op, in framework terms."""

    def __init__(self, dtype: str = "bf16", weights: str = "constants", func_name: str = "main",
                 context=None):
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got '{dtype}'")
        if weights not in WEIGHT_MODES:
            raise ValueError(f"weights must be one of {WEIGHT_MODES}, got '{weights}'")
        self.dtype = dtype
        self.weights = weights
        self.context = context or new_context()
        if not USING_TTMLIR:
            from ..dialect.irdl import OpShape, declare_ops

            declare_ops(self.context, {CONCAT: OpShape(operands=2, results=1)})
        with self.context:
            self._unknown = ir.Location.unknown()
            self.module = ir.Module.create(loc=self._unknown)
            self._element = ir.BF16Type.get() if dtype == "bf16" else ir.F32Type.get()
        # conv result -> its record; the users are read from the IR when the function ends
        self._conv_results: list[tuple[Any, dict]] = []
        self._input_shapes: list[tuple[int, ...]] = []
        self.parameters: dict[str, np.ndarray] = {}
        self.op_counts: Counter = Counter()
        self.convs: list[ConvLayer] = []
        self._func = None
        self.start_function(func_name)

    # -- functions -------------------------------------------------------------

    def start_function(self, name: str) -> None:
        """Open a new function; its inputs come from `add_input`, it ends with `end_function`."""
        from mlir.dialects import func as func_dialect  # noqa: F401  (registers the dialect)

        with self.context, self._unknown:
            self._func = ir.Operation.create(
                "func.func", regions=1,
                attributes={"sym_name": ir.StringAttr.get(name),
                            "function_type": ir.TypeAttr.get(ir.FunctionType.get([], []))},
                ip=ir.InsertionPoint(self.module.body))
            self._block = self._func.regions[0].blocks.append()
        self._func_name = name
        self._arg_types: list = []
        self._arg_attrs: list = []

    def discard_function(self) -> None:
        """Drop the open function (a region that ended up with nothing to compute)."""
        self._func.erase()
        self._conv_results = []
        self._func = None

    def end_function(self, outputs: Sequence[Value], loc: str = "output") -> list[tuple[int, ...]]:
        """Return `outputs` (4-D ones permuted back to NCHW); returns their logical shapes."""
        results = [self.to_plain(v, loc) for v in outputs]
        with self.context, self._location(loc):
            ir.Operation.create("func.return", operands=[v.value for v in results],
                                ip=ir.InsertionPoint(self._block))
            ftype = ir.FunctionType.get(self._arg_types, [v.value.type for v in results])
            self._func.attributes["function_type"] = ir.TypeAttr.get(ftype)
            if any(self._arg_attrs):
                self._func.attributes["arg_attrs"] = ir.ArrayAttr.get(
                    [a or ir.DictAttr.get({}) for a in self._arg_attrs])
        for value, info in self._conv_results:
            users = [use.owner.name for use in value.uses]
            act = users[0][len("ttir."):] if len(users) == 1 and users[0].startswith("ttir.") else "none"
            self.convs.append(ConvLayer(activation=act if act in ACTIVATIONS else "none",
                                        function=self._func_name, **info))
        self._conv_results = []
        return [v.shape for v in results]

    # -- low level --------------------------------------------------------------

    def _location(self, name: str):
        return ir.Location.name(name, context=self.context) if name else self._unknown

    def _type(self, shape: Sequence[int]):
        return ir.RankedTensorType.get([int(d) for d in shape], self._element, loc=self._unknown)

    def _op(self, op: str, operands: Sequence[Value], attributes: dict, shape: Sequence[int],
            loc: str, layout: str = "plain") -> Value:
        shape = tuple(int(d) for d in shape)
        if any(d < 1 for d in shape):
            raise ValueError(f"{loc}: {op} would have an empty or negative size {shape}")
        check_size(shape, f"the result of {op} at '{loc}'")
        with self.context, self._location(loc):
            created = ir.Operation.create(
                op, results=[self._type(shape)], operands=[v.value for v in operands],
                attributes=attributes, ip=ir.InsertionPoint(self._block))
        self.op_counts[op] += 1
        return Value(created.results[0], shape, layout)

    def _argument(self, shape: Sequence[int], attrs: dict | None, loc: str) -> Any:
        with self.context:
            ty = self._type(shape)
            arg = self._block.add_argument(ty, self._location(loc))
            self._arg_types.append(ty)
            self._arg_attrs.append(ir.DictAttr.get(attrs) if attrs else None)
        return arg

    # -- inputs and weights ------------------------------------------------------

    def add_input(self, shape: Sequence[int], name: str = "input") -> Value:
        """A function input (NCHW when 4-D); returns it NHWC when 4-D."""
        shape = tuple(int(d) for d in shape)
        check_size(shape, f"input '{name}'")
        attrs = None
        if self.weights == "arguments":
            with self.context:
                attrs = {"ttcore.argument_type": ir.Attribute.parse("#ttcore.argument_type<input>"),
                         "ttir.name": ir.StringAttr.get(name)}
        arg = self._argument(shape, attrs, name)
        self._input_shapes.append(shape)
        value = Value(arg, shape, "plain")
        return self.to_nhwc(value, name) if len(shape) == 4 else value

    def tensor(self, array: np.ndarray, name: str) -> Value:
        """A weight stored exactly as `array` is laid out: a constant or a parameter argument."""
        array = np.asarray(array, dtype=np.float32)
        shape = tuple(int(d) for d in array.shape)
        if self.weights == "arguments":
            unique = name
            while unique in self.parameters:
                unique += "_"
            self.parameters[unique] = array
            with self.context:
                attrs = {"ttcore.argument_type": ir.Attribute.parse("#ttcore.argument_type<parameter>"),
                         "ttir.name": ir.StringAttr.get(unique)}
            return Value(self._argument(shape, attrs, unique), shape, "plain")
        with self.context, self._location(name):
            value = numpy_to_dense(array, self.dtype)
            created = ir.Operation.create("ttir.constant", results=[value.type],
                                          attributes={"value": value},
                                          ip=ir.InsertionPoint(self._block))
        self.op_counts["ttir.constant"] += 1
        return Value(created.results[0], shape, "plain")

    # -- layout ----------------------------------------------------------------

    def permute(self, x: Value, perm: Sequence[int], loc: str, layout: str = "plain") -> Value:
        shape = tuple(x.shape[p] for p in perm)
        return self._op("ttir.permute", [x], {"permutation": _i64_array(perm)}, shape, loc, layout)

    def to_nhwc(self, x: Value, loc: str) -> Value:
        if x.layout == "nhwc":
            return x
        if x.rank < 4:  # a lower-rank operand broadcast against NCHW: right-align first
            x = self._reshape_stored(x, (1,) * (4 - x.rank) + x.shape, loc)
        if x.rank != 4:
            raise ValueError(f"cannot use a rank-{x.rank} value as NHWC")
        return self.permute(x, NCHW_TO_NHWC, loc, layout="nhwc")

    def to_plain(self, x: Value, loc: str) -> Value:
        if x.layout == "plain":
            return x
        return self.permute(x, NHWC_TO_NCHW, loc, layout="plain")

    def _reshape_stored(self, x: Value, shape: Sequence[int], loc: str) -> Value:
        shape = tuple(int(d) for d in shape)
        if int(np.prod(shape)) != int(np.prod(x.shape)):
            raise ValueError(f"cannot reshape {x.shape} to {shape}")
        return self._op("ttir.reshape", [x], {"shape": _i32_list(shape)}, shape, loc)

    def _same_order(self, x: Value) -> bool:
        """True if the stored data of x is already in logical (row-major) order."""
        if x.layout == "plain":
            return True
        logical_dims = [d for d in (0, 3, 1, 2) if x.shape[d] != 1]  # logical order N, C, H, W
        stored_dims = [d for d in (0, 1, 2, 3) if x.shape[d] != 1]
        return logical_dims == stored_dims

    def logical_permute(self, x: Value, perm: Sequence[int], loc: str) -> Value:
        """torch `permute` / ONNX `Transpose` in logical terms (NCHW<->NHWC round trips vanish)."""
        perm = [int(p) % x.rank for p in perm]
        if x.layout == "nhwc":
            stored = [STORED_DIM[p] for p in perm]
        else:
            stored = perm
            if x.rank == 4 and tuple(perm) == NHWC_TO_NCHW:  # plain NHWC data -> NCHW: keep it NHWC
                return Value(x.value, x.shape, "nhwc")
        if stored == sorted(stored):
            return Value(x.value, x.shape, "plain")
        return self.permute(x, stored, loc)

    def _axis(self, x: Value, dim: int) -> int:
        """Stored index of logical dim `dim`."""
        dim = int(dim) % x.rank
        return STORED_DIM[dim] if x.layout == "nhwc" else dim

    # -- ops in framework (logical) terms -------------------------------------------

    def conv2d(self, x: Value, weight: np.ndarray, bias: np.ndarray | None, *,
               stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
               groups: int, loc: str, source: str | None = None,
               module_path: str | None = None, bn_folded: bool = False) -> Value:
        """NCHW conv in framework terms; `padding` is TTIR's [pT, pL, pB, pR]."""
        weight = np.asarray(weight, dtype=np.float32)
        x = self.to_nhwc(x, loc)
        n, h, w, c = x.shape
        o, cg, kh, kw = weight.shape
        if groups < 1 or c != cg * groups or o % groups:
            raise ValueError(f"{loc}: weight {weight.shape} does not fit {c} channels, groups {groups}")
        pt, pl, pb, pr = (int(p) for p in padding)
        sh, sw = (int(s) for s in stride)
        dh, dw = (int(d) for d in dilation)
        oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
        ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
        operands = [x, self.tensor(weight, f"{loc}.weight")]
        if bias is not None:
            bias = np.asarray(bias, dtype=np.float32).reshape(-1)
            operands.append(self.tensor(bias.reshape(1, 1, 1, o), f"{loc}.bias"))
        attributes = {"stride": _i32_array((sh, sw)), "padding": _i32_array((pt, pl, pb, pr)),
                      "dilation": _i32_array((dh, dw)), "groups": _i32(groups),
                      # IRDL (the fallback dialect) needs the optional operands' segment sizes
                      "operandSegmentSizes": _i32_array((1, 1, int(bias is not None), 0))}
        if USING_TTMLIR:
            del attributes["operandSegmentSizes"]
        out = self._op("ttir.conv2d", operands, attributes, (n, oh, ow, o), loc, layout="nhwc")
        self._conv_results.append((out.value, dict(
            loc=loc, source=source if source is not None else loc,
            module_path=module_path if module_path is not None else loc, input_shape=(n, h, w, c),
            output_shape=(n, oh, ow, o), weight_shape=tuple(weight.shape), stride=(sh, sw),
            padding=(pt, pl, pb, pr), dilation=(dh, dw), groups=int(groups),
            has_bias=bias is not None, bn_folded=bn_folded,
            # a dense conv's weights live in the IR only (they are most of a network's)
            weight=weight if groups > 1 else None, bias=bias if groups > 1 else None)))
        return out

    def conv_transpose2d(self, x: Value, weight: np.ndarray, bias: np.ndarray | None, *,
                         stride: Sequence[int], padding: Sequence[int],
                         output_padding: Sequence[int], dilation: Sequence[int], groups: int,
                         loc: str) -> Value:
        """`weight` is [C_in, C_out/groups, kH, kW] (torch and TTIR); padding [pT, pL, pB, pR]."""
        weight = np.asarray(weight, dtype=np.float32)
        x = self.to_nhwc(x, loc)
        n, h, w, c = x.shape
        ci, og, kh, kw = weight.shape
        if ci != c or groups < 1 or c % groups:
            raise ValueError(f"{loc}: weight {weight.shape} does not fit {c} channels, groups {groups}")
        pt, pl, pb, pr = (int(p) for p in padding)
        (sh, sw), (dh, dw) = stride, dilation
        oph, opw = output_padding
        oh = (h - 1) * sh - pt - pb + dh * (kh - 1) + oph + 1
        ow = (w - 1) * sw - pl - pr + dw * (kw - 1) + opw + 1
        o = og * groups
        operands = [x, self.tensor(weight, f"{loc}.weight")]
        if bias is not None:
            operands.append(self.tensor(np.asarray(bias, np.float32).reshape(1, 1, 1, o), f"{loc}.bias"))
        attributes = {"stride": _i32_array((sh, sw)), "padding": _i32_array((pt, pl, pb, pr)),
                      "output_padding": _i32_array((oph, opw)), "dilation": _i32_array((dh, dw)),
                      "groups": _i32(groups)}
        return self._op("ttir.conv_transpose2d", operands, attributes, (n, oh, ow, o), loc, "nhwc")

    def pool2d(self, kind: str, x: Value, *, kernel: Sequence[int], stride: Sequence[int],
               padding: Sequence[int], dilation: Sequence[int] = (1, 1), ceil_mode: bool = False,
               count_include_pad: bool = True, loc: str) -> Value:
        """`kind` "max" | "avg"; padding [pT, pL, pB, pR] (TTIROps.td, AvgPool2dOp)."""
        x = self.to_nhwc(x, loc)
        n, h, w, c = x.shape
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        pt, pl, pb, pr = padding
        rounding = math.ceil if ceil_mode else math.floor

        def out_size(size, k, s, d, lo, hi):
            out = rounding((size + lo + hi - d * (k - 1) - 1) / s) + 1
            if ceil_mode and (out - 1) * s >= size + lo:  # torch: the last window starts inside
                out -= 1
            return out

        oh, ow = out_size(h, kh, sh, dh, pt, pb), out_size(w, kw, sw, dw, pl, pr)
        attributes = {"kernel": _i32_array((kh, kw)), "stride": _i32_array((sh, sw)),
                      "dilation": _i32_array((dh, dw)), "padding": _i32_array((pt, pl, pb, pr)),
                      "ceil_mode": _bool(ceil_mode)}
        if kind == "avg":
            attributes["count_include_pad"] = _bool(count_include_pad)
        return self._op(f"ttir.{kind}_pool2d", [x], attributes, (n, oh, ow, c), loc, "nhwc")

    def upsample2d(self, x: Value, scale: Sequence[int], mode: str, loc: str) -> Value:
        x = self.to_nhwc(x, loc)
        n, h, w, c = x.shape
        sh, sw = (int(s) for s in scale)
        return self._op("ttir.upsample2d", [x], {"scale_factor": _i32_array((sh, sw)),
                                                 "mode": ir.StringAttr.get(mode)},
                        (n, h * sh, w * sw, c), loc, "nhwc")

    def unary(self, op: str, x: Value, loc: str) -> Value:
        if op not in UNARY_OPS:
            raise ValueError(f"unknown unary op '{op}'")
        return self._op(f"ttir.{op}", [x], {}, x.shape, loc, x.layout)

    def clamp(self, x: Value, lo: float | None, hi: float | None, loc: str) -> Value:
        lo = -math.inf if lo is None else float(lo)
        hi = math.inf if hi is None else float(hi)
        if lo == -math.inf and hi == math.inf:
            return x
        if lo == 0.0 and hi == 6.0:
            return self.unary("relu6", x, loc)
        if lo == 0.0 and hi == math.inf:
            return self.unary("relu", x, loc)
        lo, hi = max(lo, -F32_MAX), min(hi, F32_MAX)
        return self._op("ttir.clamp_scalar", [x], {"min": _f32(lo), "max": _f32(hi)},
                        x.shape, loc, x.layout)

    def hardswish(self, x: Value, loc: str) -> Value:
        # TTIR has no hardswish: x * hardsigmoid(x)
        return self.binary("multiply", x, self.unary("hardsigmoid", x, loc), loc)

    def _as_operand(self, v: Operand, like: Value, loc: str) -> Value:
        """A constant operand (logical layout) stored to broadcast against `like`."""
        if isinstance(v, Value):
            return v
        array = np.asarray(v, dtype=np.float32)
        if array.ndim == 0:
            array = array.reshape((1,) * like.rank)
        if like.layout == "nhwc":
            if array.ndim > 4:
                raise ValueError(f"{loc}: rank-{array.ndim} constant against a 4-D activation")
            array = array.reshape((1,) * (4 - array.ndim) + array.shape).transpose(NCHW_TO_NHWC)
            return self.tensor(np.ascontiguousarray(array), f"{loc}.const")
        return self.tensor(array, f"{loc}.const")

    def binary(self, op: str, a: Operand, b: Operand, loc: str) -> Value:
        if op not in BINARY_OPS:
            raise ValueError(f"unknown binary op '{op}'")
        if not isinstance(a, Value) and not isinstance(b, Value):
            raise ValueError(f"{loc}: binary op on two constants")
        if isinstance(a, Value) and isinstance(b, Value) and a.layout != b.layout:
            if a.layout == "nhwc":
                b = self.to_nhwc(b, loc)
            else:
                a = self.to_nhwc(a, loc)
        a = self._as_operand(a, b, loc) if isinstance(b, Value) else a
        b = self._as_operand(b, a, loc)
        shape = _broadcast(a.shape, b.shape)
        layout = "nhwc" if "nhwc" in (a.layout, b.layout) else "plain"
        return self._op(f"ttir.{op}", [a, b], {}, shape, loc, layout)

    def affine(self, x: Value, scale: np.ndarray, shift: np.ndarray, loc: str) -> Value:
        """Per-channel x * scale + shift (a batch norm that has no conv to fold into)."""
        c = x.logical_shape[1]
        y = self.binary("multiply", x, np.asarray(scale, np.float32).reshape(1, c, 1, 1), loc)
        return self.binary("add", y, np.asarray(shift, np.float32).reshape(1, c, 1, 1), loc)

    def reduce(self, op: str, x: Value, dims: Sequence[int], keepdim: bool, loc: str) -> Value:
        """`ttir.mean` / `ttir.sum` over logical dims (NCHW numbering for a 4-D activation)."""
        rank = x.rank
        dims = sorted({d % rank for d in dims})
        if x.layout == "nhwc":
            stored = sorted({STORED_DIM[d] for d in dims})
            kept_logical = [d for d in (0, 3, 1, 2) if d not in stored]  # stored index, logical order
            if not keepdim and kept_logical != sorted(kept_logical):
                x = self.to_plain(x, loc)
                stored = dims
        else:
            stored = dims
        if keepdim:
            shape = tuple(1 if i in stored else d for i, d in enumerate(x.shape))
            layout = x.layout
        else:
            shape = tuple(d for i, d in enumerate(x.shape) if i not in stored)
            layout = "plain"
        return self._op(f"ttir.{op}", [x], {"dim_arg": _i32_list(stored), "keep_dim": _bool(keepdim)},
                        shape, loc, layout)

    def mean(self, x: Value, dims: Sequence[int], keepdim: bool, loc: str) -> Value:
        return self.reduce("mean", x, dims, keepdim, loc)

    def reshape(self, x: Value, shape: Sequence[int], loc: str) -> Value:
        """Reshape in logical (row-major NCHW) order."""
        shape = [int(d) for d in shape]
        if shape.count(-1) == 1:
            known = int(np.prod([d for d in shape if d != -1]))
            if known == 0:
                raise ValueError(f"{loc}: cannot infer -1 in {shape}")
            shape[shape.index(-1)] = int(np.prod(x.shape)) // known
        if int(np.prod(shape)) != int(np.prod(x.shape)) or any(d < 0 for d in shape):
            raise ValueError(f"{loc}: cannot reshape {x.logical_shape} to {shape}")
        if not self._same_order(x):
            x = self.to_plain(x, loc)
        if tuple(shape) == x.logical_shape and x.layout == "plain":
            return x
        return self._reshape_stored(x, shape, loc)

    def flatten(self, x: Value, start: int, end: int, loc: str) -> Value:
        shape = list(x.logical_shape)
        start, end = start % len(shape), end % len(shape)
        merged = int(np.prod(shape[start:end + 1]))
        return self.reshape(x, shape[:start] + [merged] + shape[end + 1:], loc)

    def concat(self, values: Sequence[Operand], dim: int, loc: str) -> Value:
        """Concatenate along logical `dim`, two operands per `ttir.concat`.

        Pairwise because the IRDL fallback cannot declare a variadic of differing
        types (one constraint = one type); a chain of concats is the same TTIR.
        """
        tensors = [v for v in values if isinstance(v, Value)]
        if not tensors:
            raise ValueError(f"{loc}: concat of constants only")
        nhwc = all(v.layout == "nhwc" for v in tensors) and tensors[0].rank == 4
        parts = []
        for v in values:
            if not isinstance(v, Value):
                array = np.asarray(v, np.float32)
                v = Value(self.tensor(array if not nhwc else np.ascontiguousarray(
                    array.transpose(NCHW_TO_NHWC)), f"{loc}.const").value,
                    array.shape if not nhwc else tuple(array.transpose(NCHW_TO_NHWC).shape),
                    "nhwc" if nhwc else "plain")
            parts.append(v if nhwc else self.to_plain(v, loc))
        axis = self._axis(parts[0], dim)
        out = parts[0]
        for part in parts[1:]:
            if part.rank != out.rank or any(a != b for i, (a, b) in enumerate(zip(out.shape, part.shape))
                                            if i != axis):
                raise ValueError(f"{loc}: concat of {out.logical_shape} and {part.logical_shape} "
                                 f"along {dim}")
            shape = tuple(d + part.shape[i] if i == axis else d for i, d in enumerate(out.shape))
            out = self._op(CONCAT, [out, part], {"dim": _si32(axis)}, shape, loc, out.layout)
        return out

    def slice(self, x: Value, dim: int, start: int, end: int, step: int, loc: str) -> Value:
        """x[..., start:end:step, ...] along logical `dim` (Python slice semantics)."""
        axis = self._axis(x, dim)
        size = x.shape[axis]
        start, end, step = slice(start, end, step).indices(size)
        if step <= 0:
            raise ValueError(f"{loc}: slice step must be positive")
        count = max(0, -(-(end - start) // step))
        if count == size:
            return x
        begins = [0] * x.rank
        ends = list(x.shape)
        steps = [1] * x.rank
        begins[axis], ends[axis], steps[axis] = start, end, step
        shape = tuple(count if i == axis else d for i, d in enumerate(x.shape))
        return self._op("ttir.slice_static", [x], {"begins": _i32_list(begins), "ends": _i32_list(ends),
                                                   "step": _i32_list(steps)}, shape, loc, x.layout)

    def softmax(self, x: Value, dim: int, loc: str) -> Value:
        return self._op("ttir.softmax", [x], {"dimension": _si32(self._axis(x, dim))}, x.shape,
                        loc, x.layout)

    def layer_norm(self, x: Value, normalized: Sequence[int], weight: np.ndarray | None,
                   bias: np.ndarray | None, eps: float, loc: str) -> Value:
        """Over the last len(normalized) logical dims."""
        k = len(normalized)
        x = self.to_plain(x, loc)
        if tuple(x.shape[-k:]) != tuple(int(d) for d in normalized):
            raise ValueError(f"{loc}: layer norm over {list(normalized)} of {x.shape}")
        operands = [x]
        if weight is not None:
            operands.append(self.tensor(np.asarray(weight, np.float32).reshape(normalized), f"{loc}.weight"))
        if bias is not None:
            operands.append(self.tensor(np.asarray(bias, np.float32).reshape(normalized), f"{loc}.bias"))
        attributes = {"normalized_shape": _i64_array(normalized), "epsilon": _f32(eps)}
        if USING_TTMLIR:  # AttrSizedOperandSegments in TTIROps.td; a variadic tail in IRDL
            attributes["operandSegmentSizes"] = _i32_array(
                (1, int(weight is not None), int(bias is not None)))
        return self._op("ttir.layer_norm", operands, attributes, x.shape, loc, "plain")

    def linear(self, x: Value, weight: np.ndarray, bias: np.ndarray | None, loc: str) -> Value:
        """y = x @ weight.T + bias with a torch-style [out, in] weight."""
        weight = np.asarray(weight, dtype=np.float32)
        if not self._same_order(x):
            x = self.to_plain(x, loc)
        elif x.layout == "nhwc":
            x = self._reshape_stored(x, x.logical_shape, loc)
        out_features, in_features = weight.shape
        if x.shape[-1] != in_features:
            raise ValueError(f"{loc}: linear expects {in_features} features, got {x.shape}")
        operands = [x, self.tensor(np.ascontiguousarray(weight.T), f"{loc}.weight")]
        if bias is not None:
            operands.append(self.tensor(np.asarray(bias, np.float32).reshape(out_features), f"{loc}.bias"))
        attributes = {"transpose_a": _bool(False), "transpose_b": _bool(False)}
        return self._op("ttir.linear", operands, attributes, x.shape[:-1] + (out_features,), loc)

    def matmul(self, a: Operand, b: Operand, loc: str) -> Value:
        values = []
        for v in (a, b):
            if isinstance(v, Value):
                values.append(self.to_plain(v, loc))
            else:
                values.append(self.tensor(np.asarray(v, np.float32), f"{loc}.const"))
        a, b = values
        if a.rank == 1 or b.rank == 1:
            raise ValueError(f"{loc}: matmul of a 1-D operand is not supported")
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"{loc}: matmul of {a.shape} and {b.shape}")
        batch = _broadcast(a.shape[:-2], b.shape[:-2])
        shape = batch + (a.shape[-2], b.shape[-1])
        return self._op("ttir.matmul", [a, b], {"transpose_a": _bool(False), "transpose_b": _bool(False)},
                        shape, loc)

    # -- finish ----------------------------------------------------------------

    def finish(self, outputs: Sequence[Value], loc: str = "output") -> TTIRModule:
        """End the one function and return the module (the whole model is TTIR)."""
        shapes = self.end_function(outputs, loc)
        inputs = [f"input{i}" for i in range(len(self._input_shapes))]
        outputs_named = [f"output{i}" for i in range(len(shapes))]
        return self.module_record([TTIRCall(self._func_name, inputs, outputs_named)], inputs,
                                  outputs_named, shapes, list(self._input_shapes))

    def module_record(self, steps, input_names, output_names, output_shapes, input_shapes,
                      constants=None) -> TTIRModule:
        return TTIRModule(
            module=self.module, convs=list(self.convs), input_shapes=input_shapes,
            output_shapes=output_shapes, dtype=self.dtype, weights=self.weights,
            parameters=dict(self.parameters), op_counts=Counter(self.op_counts), steps=steps,
            input_names=input_names, output_names=output_names, constants=dict(constants or {}))


def _in_context(method):
    def wrapped(self, *args, **kwargs):
        with self.context:
            return method(self, *args, **kwargs)
    wrapped.__name__, wrapped.__doc__ = method.__name__, method.__doc__
    return wrapped


# Attributes are made inside the builder's context: every op-building method enters it.
for _name, _method in list(vars(TTIRBuilder).items()):
    if callable(_method) and not _name.startswith("__") and _name not in ("module_record",):
        setattr(TTIRBuilder, _name, _in_context(_method))


def fold_batch_norm(weight: np.ndarray, bias: np.ndarray | None, gamma: np.ndarray,
                    beta: np.ndarray, mean: np.ndarray, var: np.ndarray,
                    eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Conv (OIHW weight) followed by inference batch norm -> one conv with bias."""
    scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    w = weight.astype(np.float64) * scale.reshape(-1, 1, 1, 1)
    b = (0.0 if bias is None else bias.astype(np.float64)) - mean
    b = b * scale + beta
    return w.astype(np.float32), b.astype(np.float32)


def batch_norm_affine(gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray,
                      eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Inference batch norm as per-channel scale and shift."""
    scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    return scale.astype(np.float32), (beta - mean * scale).astype(np.float32)
