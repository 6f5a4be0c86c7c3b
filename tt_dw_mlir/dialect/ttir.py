"""Typed views of the TTIR ops the pass reads, and their semantic verification.

`Conv2d(op)` reads a `ttir.conv2d` in every form met in tt-mlir IR: array or
scalar stride/padding/dilation, 2- or 4-element padding ([pT, pL, pB, pR],
TTIROps.td), optional bias, optional destination operand (older DPS form),
optional batch/height/width/channel dimension attributes (NCHW-described input).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from tt_dw_mlir.conv_config import conv_out_size, ttir_padding_to_sides
from tt_dw_mlir.ir import ir

ELEMENTWISE_ACTIVATIONS = {"ttir.relu": "relu", "ttir.relu6": "relu6", "ttir.gelu": "gelu",
                           "ttir.silu": "silu"}
DESTINATION_MAKERS = ("ttir.empty", "tensor.empty")


class InvalidOp(Exception):
    """The op is malformed: the message becomes an error at its location."""


def _is_int(attr, width: int) -> bool:
    t = attr.type if isinstance(attr, ir.IntegerAttr) else None
    return isinstance(t, ir.IntegerType) and t.width == width and t.is_signless


def i32_or_array(attr, name: str, sizes: tuple[int, ...]) -> list[int]:
    """tt-mlir's `AnyAttrOf<[I32Attr, DenseI32ArrayAttr]>` read as getPairOfInteger /
    getQuadrupleOfInteger do (include/ttmlir/Utils.h): an i32 scalar, or an
    `array<i32>` of one of `sizes` values. i64 arrays, other integer types and other
    lengths are refused, as tt-mlir's verifier refuses them."""
    if isinstance(attr, ir.IntegerAttr) and _is_int(attr, 32):
        return [attr.value]
    if isinstance(attr, ir.DenseI32ArrayAttr):
        values = list(attr)
        if len(values) in sizes:
            return values
        raise InvalidOp(f"'{name}' must be an i32 or an array<i32> of {' or '.join(map(str, sizes))} "
                        f"values, got {len(values)} value(s)")
    raise InvalidOp(f"'{name}' must be an i32 or an array<i32> of {' or '.join(map(str, sizes))} "
                    f"values, got {attr}")


def attribute(op, name: str):
    """`op.attributes[name]`; the bindings' downcast of a dense array whose element type
    they do not know (e.g. `array<i365536: ...>`) becomes a verification error."""
    try:
        return op.attributes[name]
    except TypeError as problem:
        raise InvalidOp(f"'{name}' cannot be read: {problem}") from None


def integer(attr, name: str, width: int) -> int:
    """An `I32Attr` / `I64Attr`: a signless integer of exactly that width."""
    if isinstance(attr, ir.IntegerAttr) and _is_int(attr, width):
        return attr.value
    raise InvalidOp(f"'{name}' must be an i{width} integer attribute, got {attr}")


def pair(attr, name: str) -> tuple[int, int]:
    values = i32_or_array(attr, name, (2,))
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])


def ranked_shape(value, what: str) -> list[int]:
    t = value.type
    if not isinstance(t, ir.RankedTensorType):
        raise InvalidOp(f"{what} must be a ranked tensor, got {t}")
    return list(t.shape)


def ttir_name(op) -> str:
    """The op's name, `ttir.` also for TTIR ops the IRDL subset does not model (which it
    parses under the shadow namespace `TTIR.`, see dialect/irdl_syntax.py)."""
    name = op.name
    return "ttir." + name[5:] if name.startswith("TTIR.") else name


def is_destination(value) -> bool:
    owner = value.owner
    return isinstance(owner, (ir.Operation, ir.OpView)) and owner.name in DESTINATION_MAKERS


def source_operands(op) -> list:
    """Operands without a trailing destination (`ttir.empty`) of the older DPS form."""
    operands = list(op.operands)
    if len(operands) > 1 and is_destination(operands[-1]):
        operands.pop()
    return operands


@dataclass
class Conv2d:
    """A `ttir.conv2d`, read and checked. Construction raises InvalidOp on malformed IR."""

    op: object

    def __post_init__(self) -> None:
        self._check()

    # ----- operands -------------------------------------------------------
    @cached_property
    def _operands(self) -> tuple:
        operands = list(self.op.operands)
        if len(operands) < 2:
            raise InvalidOp(f"expects input and weight operands, got {len(operands)} operand(s)")
        extra = operands[2:]
        destination = None
        if extra and (len(extra) == 2 or is_destination(extra[-1])):
            destination = extra.pop()
        if len(extra) > 1:
            raise InvalidOp(f"expects at most input, weight, bias and destination operands, "
                            f"got {len(operands)} operands")
        return operands[0], operands[1], (extra[0] if extra else None), destination

    @property
    def input(self):
        return self._operands[0]

    @property
    def weight(self):
        return self._operands[1]

    @property
    def bias(self):
        return self._operands[2]

    @property
    def destination(self):
        return self._operands[3]

    # ----- attributes -----------------------------------------------------
    def _attr(self, name: str):
        if name not in self.op.attributes:
            raise InvalidOp(f"requires attribute '{name}'")
        return attribute(self.op, name)

    @cached_property
    def dims(self) -> tuple[int, int, int, int]:
        """(batch, height, width, channel) dimension indices; NHWC by default."""
        defaults = {"batch_dim": 0, "height_dim": 1, "width_dim": 2, "channel_dim": 3}
        found = []
        for name, default in defaults.items():
            attr = attribute(self.op, name) if name in self.op.attributes else None
            found.append(default if attr is None else integer(attr, name, 64))
        if sorted(found) != [0, 1, 2, 3]:
            raise InvalidOp(f"batch/height/width/channel dims {found} must be a permutation of 0..3")
        return tuple(found)

    @property
    def is_flattened(self) -> bool:
        """After tt-mlir's ttir-flatten-sliding-window: input [1, 1, N*H*W, C] and the true
        N, H, W in a `flattened_compat_info = #ttir<flattened_compat ...>` attribute."""
        return "flattened_compat_info" in self.op.attributes

    @property
    def is_nhwc(self) -> bool:
        return self.dims == (0, 1, 2, 3)

    @cached_property
    def stride(self) -> tuple[int, int]:
        return pair(self._attr("stride"), "stride")

    @cached_property
    def dilation(self) -> tuple[int, int]:
        return pair(self._attr("dilation"), "dilation")

    @cached_property
    def padding(self) -> tuple[int, int, int, int]:
        """[pT, pB, pL, pR] (converted from TTIR's [pT, pL, pB, pR])."""
        return ttir_padding_to_sides(i32_or_array(self._attr("padding"), "padding", (2, 4)))

    @cached_property
    def groups(self) -> int:
        return integer(self._attr("groups"), "groups", 32)

    # ----- shapes ---------------------------------------------------------
    def nhwc(self, shape: list[int]) -> list[int]:
        return [shape[d] for d in self.dims]

    @cached_property
    def input_nhwc(self) -> list[int]:
        return self.nhwc(ranked_shape(self.input, "input"))

    @cached_property
    def output_nhwc(self) -> list[int]:
        return self.nhwc(ranked_shape(self.op.results[0], "result"))

    @cached_property
    def weight_shape(self) -> list[int]:
        return ranked_shape(self.weight, "weight")

    @property
    def element_type(self):
        return self.input.type.element_type

    def _check_flattened(self) -> None:
        """tt-mlir's check (TTIROps.cpp, Conv2dOp::verify): dim 2 holds batch * height * width."""
        info = str(self.op.attributes["flattened_compat_info"])
        found = {k: int(v) for k, v in re.findall(r"(batch_size|input_height|input_width)\s*=\s*(\d+)", info)}
        if len(found) != 3:
            raise InvalidOp(f"'flattened_compat_info' must give batch_size, input_height and "
                            f"input_width, got {info}")
        flat = ranked_shape(self.input, "input")[2]
        expected = found["batch_size"] * found["input_height"] * found["input_width"]
        if flat >= 0 and flat != expected:
            raise InvalidOp(f"flattened input dim 2 is {flat}, but flattened_compat_info gives "
                            f"batch_size * input_height * input_width = {expected}")

    def _check(self) -> None:
        if len(self.op.results) != 1:
            raise InvalidOp("expects one result")
        for what, value in (("input", self.input), ("result", self.op.results[0])):
            if len(ranked_shape(value, what)) != 4:
                raise InvalidOp(f"{what} must be a 4-D tensor, got {value.type}")
        if len(self.weight_shape) != 4:
            raise InvalidOp(f"weight must be a 4-D tensor [O, C/G, kH, kW], got {self.weight.type}")
        _ = self.dims, self.padding, self.groups
        if min(self.stride) < 1 or min(self.dilation) < 1:
            raise InvalidOp(f"stride {list(self.stride)} and dilation {list(self.dilation)} must be >= 1")
        if min(self.padding) < 0:
            raise InvalidOp(f"padding {list(self.padding)} must be >= 0")
        if self.is_flattened:  # [1, 1, N*H*W, C]: the shape formulas below do not apply
            self._check_flattened()
            return
        dims = self.input_nhwc + self.weight_shape + self.output_nhwc
        if any(d < 0 for d in dims):  # dynamic sizes: nothing more can be checked
            return
        n, h, w, c = self.input_nhwc
        o, c_per_group, kh, kw = self.weight_shape
        for what, shape in (("input", self.input_nhwc), ("weight", self.weight_shape),
                            ("result", self.output_nhwc)):
            if 0 in shape:
                raise InvalidOp(f"{what} has a zero-sized dimension: {list(shape)}")
        if self.groups < 1 or c % self.groups or o % self.groups:
            raise InvalidOp(f"groups = {self.groups} must divide input channels ({c}) "
                            f"and output channels ({o})")
        if c_per_group != c // self.groups:
            raise InvalidOp(f"weight dim 1 is {c_per_group}, expected in_channels / groups = "
                            f"{c // self.groups}")
        pt, pb, pl, pr = self.padding
        expected = [n, conv_out_size(h, pt, pb, kh, self.stride[0], self.dilation[0]),
                    conv_out_size(w, pl, pr, kw, self.stride[1], self.dilation[1]), o]
        if expected[1] < 1 or expected[2] < 1:
            raise InvalidOp(f"the kernel ({kh}x{kw}, dilation {list(self.dilation)}) does not fit "
                            f"the padded {h}x{w} input")
        if self.output_nhwc != expected:
            raise InvalidOp(f"result shape (NHWC) {self.output_nhwc} does not match the conv "
                            f"shape {expected}")
        if self.bias is not None:
            bias_shape = ranked_shape(self.bias, "bias")
            if len(bias_shape) != 4:  # tt-mlir's Conv2dOp::verify checks every operand's rank
                raise InvalidOp(f"bias must be a 4-D tensor, got {self.bias.type}")
            count = 1
            for d in bias_shape:
                count *= d
            if count != o or (bias_shape and max(bias_shape) != o):
                raise InvalidOp(f"bias shape {bias_shape} must hold one value per output channel ({o})")


def verify_op(op) -> str | None:
    """Semantic checks IRDL cannot express; returns the problem or None."""
    try:
        if op.name == "ttir.conv2d":
            Conv2d(op)
        elif op.name == "ttir.constant":
            result_type = op.results[0].type if len(op.results) == 1 else None
            element = getattr(result_type, "element_type", None)
            if isinstance(element, ir.ComplexType):  # the bindings cannot even wrap its value
                return f"complex element type {element} is not supported"
            # A value whose type differs from the result (found by fuzzing: a splat of
            # tensor<4294967297x1x3x3> behind a 32x1x3x3 result) must not reach the folder.
            value = op.attributes["value"]
            if not (isinstance(value, ir.DenseElementsAttr) or str(value).startswith("dense_resource<")):
                return f"'value' must be a dense or dense_resource elements attribute, got {value}"
            if value.type != op.results[0].type:
                return f"value type {value.type} does not match the result type {op.results[0].type}"
        elif op.name == "ttir.permute":
            perm = list(op.attributes["permutation"])
            if sorted(perm) != list(range(len(perm))):
                return f"permutation {perm} is not a permutation of 0..{len(perm) - 1}"
    except InvalidOp as problem:
        return str(problem)
    return None
