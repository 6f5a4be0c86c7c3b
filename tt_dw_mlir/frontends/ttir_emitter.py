"""Shared TTIR text emitter for the PyTorch and ONNX frontends.

Both frontends describe the model in PyTorch/ONNX terms (NCHW activations,
OIHW weights, [out, in] linear weights); this module writes real tt-mlir TTIR
in generic form, keeping 4-D activations NHWC as `ttir.conv2d` expects.

A value remembers how its data is stored: `nhwc` (a logical NCHW tensor kept
as NHWC) or `plain` (stored as the logical shape). Layout changes are explicit
`ttir.permute` ops, emitted only where an op needs them.

Op and attribute spellings follow tt-mlir include/ttmlir/Dialect/TTIR/IR/TTIROps.td
(see `EMITTED_OPS`); the printed forms follow tt-mlir's lit tests.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Sequence, Union

import numpy as np

from ..conv_config import ACTIVATIONS, DepthwiseConv, ttir_padding_to_sides

DTYPES = ("bf16", "f32")
WEIGHT_MODES = ("constants", "arguments")

# Every op this emitter can write, with its properties exactly as written
# (names and types from TTIROps.td). Ops listed with no properties carry none.
EMITTED_OPS: dict[str, dict[str, str]] = {
    "ttir.constant": {"value": "DenseElementsAttr (hex form)"},
    "ttir.permute": {"permutation": "DenseI64ArrayAttr"},
    "ttir.conv2d": {
        "stride": "DenseI32ArrayAttr[2]",
        "padding": "DenseI32ArrayAttr[4] [pT, pL, pB, pR]",
        "dilation": "DenseI32ArrayAttr[2]",
        "groups": "I32Attr",
    },
    "ttir.add": {},
    "ttir.multiply": {},
    "ttir.relu": {},
    "ttir.relu6": {},
    "ttir.sigmoid": {},
    "ttir.silu": {},
    "ttir.gelu": {},
    "ttir.hardsigmoid": {},
    "ttir.clamp_scalar": {"min": "F32Attr", "max": "F32Attr"},
    "ttir.mean": {"dim_arg": "I32ArrayAttr", "keep_dim": "BoolAttr"},
    "ttir.reshape": {"shape": "I32ArrayAttr"},
    "ttir.linear": {"transpose_a": "BoolAttr", "transpose_b": "BoolAttr"},
    "ttir.matmul": {"transpose_a": "BoolAttr", "transpose_b": "BoolAttr"},
}
UNARY_OPS = ("relu", "relu6", "sigmoid", "silu", "gelu", "hardsigmoid")
BINARY_OPS = ("add", "multiply")

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)
F32_MAX = float(np.finfo(np.float32).max)


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


@dataclass
class Value:
    """An SSA value: its name, stored shape and how the data is stored."""

    name: str
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
    """One emitted `ttir.conv2d` and where it came from."""

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
    weight: np.ndarray = field(repr=False, compare=False)  # OIHW, float32, BN folded
    bias: np.ndarray | None = field(repr=False, compare=False)

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


@dataclass
class TTIRModule:
    """Emitted TTIR text plus what the rest of the pipeline needs to know about it."""

    text: str
    convs: list[ConvLayer]
    input_shapes: list[tuple[int, ...]]  # as the framework gives them (NCHW)
    output_shapes: list[tuple[int, ...]]  # as the framework returns them
    dtype: str
    weights: str
    # weights == "arguments": function-argument order name -> stored array (float32)
    parameters: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    op_counts: Counter = field(default_factory=Counter)

    @property
    def depthwise_convs(self) -> list[ConvLayer]:
        return [c for c in self.convs if c.is_depthwise]

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


# ----------------------------------------------------------------------------
# Text helpers


def tensor_type(shape: Sequence[int], dtype: str) -> str:
    dims = "x".join(str(int(d)) for d in shape)
    return f"tensor<{dims}x{dtype}>" if dims else f"tensor<{dtype}>"


def _loc(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'loc("{escaped}")'


def _i32_array(values: Sequence[int]) -> str:
    return "array<i32: " + ", ".join(str(int(v)) for v in values) + ">"


def _i64_array(values: Sequence[int]) -> str:
    return "array<i64: " + ", ".join(str(int(v)) for v in values) + ">"


def _i32_list(values: Sequence[int]) -> str:
    return "[" + ", ".join(f"{int(v)} : i32" for v in values) + "]"


def _f32_attr(value: float) -> str:
    value = float(np.float32(value))
    if math.isinf(value):  # no decimal literal for infinity: use the bit pattern
        return ("0x7F800000" if value > 0 else "0xFF800000") + " : f32"
    return f"{value!r} : f32"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def encode_hex(array: np.ndarray, dtype: str) -> str:
    """`dense<"0x...">` payload: the raw little-endian element bytes."""
    data = np.ascontiguousarray(array, dtype=np.float32)
    if dtype == "bf16":
        import torch  # round to nearest even, as torch.Tensor.to(bfloat16)

        bits = torch.from_numpy(data.copy()).to(torch.bfloat16).view(torch.int16).numpy()
        raw = bits.astype("<i2").tobytes()
    else:
        raw = data.astype("<f4").tobytes()
    return "0x" + raw.hex().upper()


def _broadcast(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(tuple(a), tuple(b)))


# ----------------------------------------------------------------------------


class TTIRBuilder:
    """Builds one `func.func @main` in TTIR, op by op, in framework terms."""

    def __init__(self, dtype: str = "bf16", weights: str = "constants", func_name: str = "main"):
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got '{dtype}'")
        if weights not in WEIGHT_MODES:
            raise ValueError(f"weights must be one of {WEIGHT_MODES}, got '{weights}'")
        self.dtype = dtype
        self.weights = weights
        self.func_name = func_name
        self._args: list[tuple[str, str, str]] = []  # (ssa, type, attrs)
        self._body: list[str] = []
        self._next = 0
        self._users: dict[str, list[str]] = defaultdict(list)
        self._conv_results: dict[str, dict] = {}
        self._input_shapes: list[tuple[int, ...]] = []
        self.parameters: dict[str, np.ndarray] = {}
        self.op_counts: Counter = Counter()

    # -- low level --------------------------------------------------------------

    def _fresh(self) -> str:
        name = f"%{self._next}"
        self._next += 1
        return name

    def _ty(self, shape: Sequence[int]) -> str:
        return tensor_type(shape, self.dtype)

    def _op(self, op: str, operands: Sequence[Value], props: str, shape: Sequence[int],
            loc: str, layout: str = "plain") -> Value:
        result = self._fresh()
        ops = ", ".join(v.name for v in operands)
        in_types = ", ".join(self._ty(v.shape) for v in operands)
        props_text = f" <{{{props}}}>" if props else ""
        self._body.append(f'{result} = "{op}"({ops}){props_text} : ({in_types}) -> '
                          f"{self._ty(shape)} {_loc(loc)}")
        for v in operands:
            self._users[v.name].append(op)
        self.op_counts[op] += 1
        return Value(result, tuple(int(d) for d in shape), layout)

    # -- inputs and weights ------------------------------------------------------

    def add_input(self, shape: Sequence[int], name: str = "input") -> Value:
        """A framework input (NCHW when 4-D); returns it NHWC when 4-D."""
        shape = tuple(int(d) for d in shape)
        ssa = f"%arg{len(self._args)}"
        attrs = ""
        if self.weights == "arguments":
            attrs = (' {ttcore.argument_type = #ttcore.argument_type<input>, '
                     f'ttir.name = "{name}"}}')
        self._args.append((ssa, self._ty(shape), attrs))
        self._input_shapes.append(shape)
        value = Value(ssa, shape, "plain")
        return self.to_nhwc(value, name) if len(shape) == 4 else value

    def tensor(self, array: np.ndarray, name: str) -> Value:
        """A weight stored exactly as `array` is laid out: a constant or a parameter argument."""
        array = np.asarray(array, dtype=np.float32)
        shape = tuple(int(d) for d in array.shape)
        if self.weights == "arguments":
            ssa = f"%arg{len(self._args)}"
            unique = name
            while unique in self.parameters:
                unique += "_"
            self.parameters[unique] = array
            attrs = (' {ttcore.argument_type = #ttcore.argument_type<parameter>, '
                     f'ttir.name = "{unique}"}}')
            self._args.append((ssa, self._ty(shape), attrs))
            return Value(ssa, shape, "plain")
        result = self._fresh()
        ty = self._ty(shape)
        self._body.append(f'{result} = "ttir.constant"() <{{value = dense<"{encode_hex(array, self.dtype)}"> '
                          f": {ty}}}> : () -> {ty} {_loc(name)}")
        self.op_counts["ttir.constant"] += 1
        return Value(result, shape, "plain")

    # -- layout ----------------------------------------------------------------

    def permute(self, x: Value, perm: Sequence[int], loc: str, layout: str = "plain") -> Value:
        shape = tuple(x.shape[p] for p in perm)
        return self._op("ttir.permute", [x], f"permutation = {_i64_array(perm)}", shape, loc, layout)

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
        return self._op("ttir.reshape", [x], f"shape = {_i32_list(shape)}", shape, loc)

    def _same_order(self, x: Value) -> bool:
        """True if the stored data of x is already in logical (row-major) order."""
        if x.layout == "plain":
            return True
        logical_dims = [d for d in (0, 3, 1, 2) if x.shape[d] != 1]  # logical order N, C, H, W
        stored_dims = [d for d in (0, 1, 2, 3) if x.shape[d] != 1]
        return logical_dims == stored_dims

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
        if c != cg * groups or o % groups:
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
        props = (f"stride = {_i32_array((sh, sw))}, padding = {_i32_array((pt, pl, pb, pr))}, "
                 f"dilation = {_i32_array((dh, dw))}, groups = {int(groups)} : i32")
        out = self._op("ttir.conv2d", operands, props, (n, oh, ow, o), loc, layout="nhwc")
        self._conv_results[out.name] = dict(
            loc=loc, source=source if source is not None else loc,
            module_path=module_path if module_path is not None else loc, input_shape=(n, h, w, c),
            output_shape=(n, oh, ow, o), weight_shape=tuple(weight.shape), stride=(sh, sw),
            padding=(pt, pl, pb, pr), dilation=(dh, dw), groups=int(groups),
            has_bias=bias is not None, bn_folded=bn_folded, weight=weight, bias=bias)
        return out

    def unary(self, op: str, x: Value, loc: str) -> Value:
        if op not in UNARY_OPS:
            raise ValueError(f"unknown unary op '{op}'")
        return self._op(f"ttir.{op}", [x], "", x.shape, loc, x.layout)

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
        return self._op("ttir.clamp_scalar", [x], f"min = {_f32_attr(lo)}, max = {_f32_attr(hi)}",
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
        return self._op(f"ttir.{op}", [a, b], "", shape, loc, layout)

    def affine(self, x: Value, scale: np.ndarray, shift: np.ndarray, loc: str) -> Value:
        """Per-channel x * scale + shift (a batch norm that has no conv to fold into)."""
        c = x.logical_shape[1]
        y = self.binary("multiply", x, np.asarray(scale, np.float32).reshape(1, c, 1, 1), loc)
        return self.binary("add", y, np.asarray(shift, np.float32).reshape(1, c, 1, 1), loc)

    def mean(self, x: Value, dims: Sequence[int], keepdim: bool, loc: str) -> Value:
        """Mean over logical dims (NCHW numbering for a 4-D activation)."""
        rank = x.rank
        dims = sorted({d % rank for d in dims})
        if x.layout == "nhwc":
            stored = sorted({(0, 3, 1, 2)[d] for d in dims})
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
        props = f"dim_arg = {_i32_list(stored)}, keep_dim = {_bool(keepdim)}"
        return self._op("ttir.mean", [x], props, shape, loc, layout)

    def reshape(self, x: Value, shape: Sequence[int], loc: str) -> Value:
        """Reshape in logical (row-major NCHW) order."""
        shape = [int(d) for d in shape]
        if shape.count(-1) == 1:
            known = int(np.prod([d for d in shape if d != -1]))
            shape[shape.index(-1)] = int(np.prod(x.shape)) // known
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
        props = "transpose_a = false, transpose_b = false"
        return self._op("ttir.linear", operands, props, x.shape[:-1] + (out_features,), loc)

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
        batch = _broadcast(a.shape[:-2], b.shape[:-2])
        shape = batch + (a.shape[-2], b.shape[-1])
        return self._op("ttir.matmul", [a, b], "transpose_a = false, transpose_b = false", shape, loc)

    # -- finish ----------------------------------------------------------------

    def finish(self, outputs: Sequence[Value], loc: str = "output") -> TTIRModule:
        results = [self.to_plain(v, loc) for v in outputs]
        for v in results:
            self._users[v.name].append("func.return")
        convs = []
        for name, info in self._conv_results.items():
            users = self._users.get(name, [])
            act = users[0][len("ttir."):] if len(users) == 1 and users[0].startswith("ttir.") else "none"
            convs.append(ConvLayer(activation=act if act in ACTIVATIONS else "none", **info))
        args = ", ".join(f"{ssa}: {ty}{attrs}" for ssa, ty, attrs in self._args)
        out_types = [self._ty(v.shape) for v in results]
        ret_type = out_types[0] if len(out_types) == 1 else "(" + ", ".join(out_types) + ")"
        lines = ["module {", f"  func.func @{self.func_name}({args}) -> {ret_type} {{"]
        lines += ["    " + line for line in self._body]
        lines.append("    return " + ", ".join(v.name for v in results) + " : "
                     + ", ".join(out_types) + " " + _loc(loc))
        lines += ["  }", "}", ""]
        return TTIRModule(
            text="\n".join(lines), convs=convs, input_shapes=list(self._input_shapes),
            output_shapes=[v.shape for v in results], dtype=self.dtype, weights=self.weights,
            parameters=dict(self.parameters), op_counts=Counter(self.op_counts))


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
