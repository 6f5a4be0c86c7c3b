"""Typed views of the TTIR ops the pass reads, and their semantic verification.

`Conv2d(op)` reads a `ttir.conv2d` in every form met in tt-mlir IR: array or
scalar stride/padding/dilation, 2- or 4-element padding ([pT, pL, pB, pR],
TTIROps.td), optional bias, optional destination operand (older DPS form),
optional batch/height/width/channel dimension attributes (NCHW-described input).
"""

from __future__ import annotations

from tt_dw_mlir.conv_config import conv_out_size, ttir_padding_to_sides
from tt_dw_mlir.dialect.constants import is_dense_resource
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


def is_destination(value) -> bool:
    owner = value.owner
    return isinstance(owner, (ir.Operation, ir.OpView)) and owner.name in DESTINATION_MAKERS


def source_operands(op) -> list:
    """Operands without a trailing destination (`ttir.empty`) of the older DPS form."""
    operands = list(op.operands)
    if len(operands) > 1 and is_destination(operands[-1]):
        operands.pop()
    return operands


def _flattened_sizes(attr) -> dict[str, int]:
    """batch_size / input_height / input_width of a `#ttir<flattened_compat ...>` attribute.

    With ttmlir it is TTIR's FlattenedCompatInfoAttr, read through its accessors; in the IRDL
    fallback TTIR attributes are not modelled, so MLIR keeps it as an opaque attribute whose
    data is the dialect's own body, `flattened_compat batch_size = 1, input_height = 8, ...`
    (TTIROpsAttrs.td), which is the only form MLIR holds: its `key = value` fields are read."""
    names = ("batch_size", "input_height", "input_width")
    if all(hasattr(attr, name) for name in names):  # tt-mlir's own attribute class
        return {name: int(getattr(attr, name)) for name in names}
    if not isinstance(attr, ir.OpaqueAttr):
        return {}
    data = attr.data
    body = (data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else str(data)).strip()
    mnemonic, _, fields = body.partition(" ")
    if mnemonic != "flattened_compat":
        return {}
    found = {}
    for field in fields.split(","):
        key, eq, value = field.partition("=")
        key, value = key.strip(), value.strip()
        if eq and key in names and value.isdigit():
            found[key] = int(value)
    return found


_NHWC = (0, 1, 2, 3)
_DIM_ATTRIBUTES = (("batch_dim", 0), ("height_dim", 1), ("width_dim", 2), ("channel_dim", 3))


class ConvFacts:
    """What a `ttir.conv2d`'s attributes and operand/result types say, checked.

    A pure function of the op's signature (attributes, types, and whether a third operand
    is a destination), so it is read once per distinct signature: a model repeats a few
    layer shapes many times. Holds no IR objects but uniqued attributes and types.
    Construction raises InvalidOp on malformed IR."""

    __slots__ = ("roles", "dims", "stride", "dilation", "padding", "groups", "input_nhwc",
                 "output_nhwc", "weight_shape", "is_flattened")

    def __init__(self, op, operands: list) -> None:
        results = op.results
        if len(results) != 1:
            raise InvalidOp("expects one result")
        self.roles = _operand_roles(operands)
        attributes = op.attributes
        input_shape = ranked_shape(operands[0], "input")
        if len(input_shape) != 4:
            raise InvalidOp(f"input must be a 4-D tensor, got {operands[0].type}")
        output_shape = ranked_shape(results[0], "result")
        if len(output_shape) != 4:
            raise InvalidOp(f"result must be a 4-D tensor, got {results[0].type}")
        self.weight_shape = ranked_shape(operands[1], "weight")
        if len(self.weight_shape) != 4:
            raise InvalidOp(f"weight must be a 4-D tensor [O, C/G, kH, kW], got {operands[1].type}")
        dims = []
        for name, default in _DIM_ATTRIBUTES:
            dims.append(integer(attribute(op, name), name, 64) if name in attributes else default)
        if sorted(dims) != [0, 1, 2, 3]:
            raise InvalidOp(f"batch/height/width/channel dims {dims} must be a permutation of 0..3")
        self.dims = tuple(dims)
        self.padding = ttir_padding_to_sides(i32_or_array(_required(op, attributes, "padding"),
                                                          "padding", (2, 4)))
        self.groups = integer(_required(op, attributes, "groups"), "groups", 32)
        self.stride = pair(_required(op, attributes, "stride"), "stride")
        self.dilation = pair(_required(op, attributes, "dilation"), "dilation")
        self.input_nhwc = [input_shape[d] for d in self.dims]
        self.output_nhwc = [output_shape[d] for d in self.dims]
        self.is_flattened = "flattened_compat_info" in attributes
        self._check(op, operands, input_shape)

    def _check(self, op, operands: list, input_shape: list[int]) -> None:
        if min(self.stride) < 1 or min(self.dilation) < 1:
            raise InvalidOp(f"stride {list(self.stride)} and dilation {list(self.dilation)} must be >= 1")
        if min(self.padding) < 0:
            raise InvalidOp(f"padding {list(self.padding)} must be >= 0")
        if self.is_flattened:  # [1, 1, N*H*W, C]: the shape formulas below do not apply
            # tt-mlir's check (TTIROps.cpp, Conv2dOp::verify): dim 2 holds batch * height * width.
            info = attribute(op, "flattened_compat_info")
            sizes = _flattened_sizes(info)
            if len(sizes) != 3:
                raise InvalidOp(f"'flattened_compat_info' must give batch_size, input_height and "
                                f"input_width, got {info}")
            expected = sizes["batch_size"] * sizes["input_height"] * sizes["input_width"]
            if input_shape[2] >= 0 and input_shape[2] != expected:
                raise InvalidOp(f"flattened input dim 2 is {input_shape[2]}, but flattened_compat_info "
                                f"gives batch_size * input_height * input_width = {expected}")
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
        bias_index = self.roles[0]
        if bias_index is not None:
            bias = operands[bias_index]
            bias_shape = ranked_shape(bias, "bias")
            if len(bias_shape) != 4:  # tt-mlir's Conv2dOp::verify checks every operand's rank
                raise InvalidOp(f"bias must be a 4-D tensor, got {bias.type}")
            count = 1
            for d in bias_shape:
                count *= d
            if count != o or (bias_shape and max(bias_shape) != o):
                raise InvalidOp(f"bias shape {bias_shape} must hold one value per output channel ({o})")


def _required(op, attributes, name: str):
    if name not in attributes:
        raise InvalidOp(f"requires attribute '{name}'")
    return attribute(op, name)


def _operand_roles(operands: list) -> tuple:
    """(index of the bias or None, index of the destination or None): input and weight come
    first, then an optional bias and, in older IR, a destination (`ttir.empty`) operand."""
    if len(operands) < 2:
        raise InvalidOp(f"expects input and weight operands, got {len(operands)} operand(s)")
    extra = len(operands) - 2
    if extra > 2:
        raise InvalidOp(f"expects at most input, weight, bias and destination operands, "
                        f"got {len(operands)} operands")
    if extra == 2:
        return 2, 3
    if extra == 1:
        return (None, 2) if is_destination(operands[2]) else (2, None)
    return None, None


def conv_signature(op, operands: list):
    """The key ConvFacts depend on: the op's attributes, operand and result types, and whether
    a third operand is a destination. None when an attribute cannot be read (checked then)."""
    attributes = op.attributes
    key = [len(operands)]
    try:
        for name in attributes:  # by name: NamedAttribute.attr aborts on what it cannot wrap
            key += (name, attributes[name])
    except TypeError:  # an attribute the bindings cannot wrap: no key, the check reports it
        return None
    key += [value.type for value in operands]
    key += [value.type for value in op.results]
    if len(operands) == 3:
        key.append(is_destination(operands[2]))
    return tuple(key)


class Conv2d:
    """A `ttir.conv2d`, read and checked. Construction raises InvalidOp on malformed IR.

    `facts`: a dict (owned by the caller: a pass, one verification) remembering the ConvFacts
    (or the InvalidOp) of each signature already seen."""

    __slots__ = ("op", "_operands", "facts")

    def __init__(self, op, facts: dict | None = None) -> None:
        self.op = op
        self._operands = list(op.operands)
        if facts is None:
            self.facts = ConvFacts(op, self._operands)
            return
        key = conv_signature(op, self._operands)
        found = facts.get(key) if key is not None else None
        if found is None:
            try:
                found = ConvFacts(op, self.operands)
            except InvalidOp as problem:
                found = InvalidOp(str(problem))  # not the raised one: its traceback holds the frames
            if key is not None:
                facts[key] = found
        if isinstance(found, InvalidOp):
            raise InvalidOp(str(found))
        self.facts = found

    @classmethod
    def of(cls, op, facts: "ConvFacts") -> "Conv2d":
        """The view of `op` whose facts were read (and checked) before; its operands are
        read when first asked for (a pass may have replaced some since)."""
        conv = cls.__new__(cls)
        conv.op, conv._operands, conv.facts = op, None, facts
        return conv

    # ----- operands -------------------------------------------------------
    @property
    def operands(self) -> list:
        if self._operands is None:
            self._operands = list(self.op.operands)
        return self._operands

    @property
    def input(self):
        return self.operands[0]

    @property
    def weight(self):
        return self.operands[1]

    @property
    def bias(self):
        index = self.facts.roles[0]
        return None if index is None else self.operands[index]

    @property
    def destination(self):
        index = self.facts.roles[1]
        return None if index is None else self.operands[index]

    # ----- attributes and shapes -------------------------------------------
    @property
    def dims(self) -> tuple[int, int, int, int]:
        """(batch, height, width, channel) dimension indices; NHWC by default."""
        return self.facts.dims

    @property
    def is_flattened(self) -> bool:
        """After tt-mlir's ttir-flatten-sliding-window: input [1, 1, N*H*W, C] and the true
        N, H, W in a `flattened_compat_info = #ttir<flattened_compat ...>` attribute."""
        return self.facts.is_flattened

    @property
    def is_nhwc(self) -> bool:
        return self.facts.dims == _NHWC

    @property
    def stride(self) -> tuple[int, int]:
        return self.facts.stride

    @property
    def dilation(self) -> tuple[int, int]:
        return self.facts.dilation

    @property
    def padding(self) -> tuple[int, int, int, int]:
        """[pT, pB, pL, pR] (converted from TTIR's [pT, pL, pB, pR])."""
        return self.facts.padding

    @property
    def groups(self) -> int:
        return self.facts.groups

    def nhwc(self, shape: list[int]) -> list[int]:
        return [shape[d] for d in self.facts.dims]

    @property
    def input_nhwc(self) -> list[int]:
        return list(self.facts.input_nhwc)

    @property
    def output_nhwc(self) -> list[int]:
        return list(self.facts.output_nhwc)

    @property
    def weight_shape(self) -> list[int]:
        return list(self.facts.weight_shape)

    @property
    def element_type(self):
        return self.input.type.element_type


def verify_op(op, facts: dict | None = None) -> str | None:
    """Semantic checks IRDL cannot express; returns the problem or None.

    `facts`: the ConvFacts memo of the caller (see Conv2d)."""
    try:
        if op.name == "ttir.conv2d":
            Conv2d(op, facts)
        elif op.name == "ttir.constant":
            result_type = op.results[0].type if len(op.results) == 1 else None
            element = getattr(result_type, "element_type", None)
            if isinstance(element, ir.ComplexType):  # the bindings cannot even wrap its value
                return f"complex element type {element} is not supported"
            # A value whose type differs from the result (found by fuzzing: a splat of
            # tensor<4294967297x1x3x3> behind a 32x1x3x3 result) must not reach the folder.
            value = op.attributes["value"]
            if not (isinstance(value, ir.DenseElementsAttr) or is_dense_resource(value)):
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
