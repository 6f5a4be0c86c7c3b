"""`--tt-depthwise-to-pool`: depthwise `ttir.conv2d` -> `ttnn.depthwise_pool_conv`.

Before:

    %y = "ttir.conv2d"(%x, %w, %b) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32,
            groups = 64 : i32}> : (tensor<1x56x56x64xbf16>, tensor<64x1x3x3xbf16>,
            tensor<1x1x1x64xbf16>) -> tensor<1x56x56x64xbf16>
    %r = "ttir.relu"(%y) : (tensor<1x56x56x64xbf16>) -> tensor<1x56x56x64xbf16>

After (bias and activation fused, the layout chosen for the device):

    %pw = "ttnn.prepare_depthwise_pool_weights"(%w) <{..., weight_layout = #ttnn.depthwise_weight_layout<{...}>}>
          : (tensor<64x1x3x3xbf16>) -> tensor<1x2x32x32xbf16>
    %pb = "ttnn.prepare_depthwise_pool_bias"(%b) <{...}> : (tensor<1x1x1x64xbf16>) -> tensor<1x2x32x32xbf16>
    %r  = "ttnn.depthwise_pool_conv"(%x, %pw, %pb) <{activation = "relu", padding = array<i32: 1, 1, 1, 1>,
          ...}> : (...) -> tensor<1x56x56x64xbf16>

A constant weight or bias (`ttir.constant` / `arith.constant` holding `dense<>` or
`dense_resource<>`) is folded: the prepare op is replaced by a `ttir.constant`
already in the prepared layout, quantised to the weight dtype. An NCHW-described
conv gets `ttir.permute` ops around it. Every conv left alone gets a remark
that says why; a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tt_dw_mlir.conv_config import DTYPES, SCHEMES, DepthwiseConv
from tt_dw_mlir.cost_model import prefer_pool
from tt_dw_mlir.dialect import ttnn
from tt_dw_mlir.dialect.ttir import ELEMENTWISE_ACTIVATIONS, Conv2d, InvalidOp, is_destination, \
    source_operands
from tt_dw_mlir.ir import Diagnostic, at, dense_to_numpy, ir, numpy_to_dense, ops_named, \
    resource_blobs
from tt_dw_mlir.layout import prepare_bias, prepare_weights
from tt_dw_mlir.program import plan_program
from tt_dw_mlir.sharding import DEVICES, Refusal

FLOAT_TYPES = ("bf16", "f32", "f16")
CONSTANT_OPS = ("ttir.constant", "arith.constant")


class NotConverted(Exception):
    """A valid conv this pass leaves alone; the message is the remark."""


@dataclass
class Options:
    device: str = "n150"
    weight_dtype: str = "bf16"
    shard_scheme: str = "auto"  # auto | height_sharded | width_sharded | block_sharded
    path: str = "auto"          # auto (cost model) | pool | matmul
    fold: bool = True
    remarks: str = "rejected"   # rejected | all | none

    CHOICES = {"device": tuple(DEVICES), "weight_dtype": DTYPES, "shard_scheme": ("auto", *SCHEMES),
               "path": ("auto", "pool", "matmul"), "remarks": ("rejected", "all", "none")}


@dataclass
class _Fusion:
    bias: object = None             # a value with C elements, or None
    activation: str = "none"
    last: object = None             # the op whose result the fused op replaces
    fused_ops: tuple = ()           # ops to erase, users first


class DepthwiseToPool:
    argument = "tt-depthwise-to-pool"
    summary = "Match depthwise ttir.conv2d and legalise it to ttnn.depthwise_pool_conv"

    def __init__(self, options: Options, diagnostics: list[Diagnostic], source_name: str | None = None):
        self.options = options
        self.diagnostics = diagnostics
        self.source_name = source_name
        self._blobs: dict[str, bytes] | None = None

    # ------------------------------------------------------------------ run
    def run(self, module_op) -> None:
        with module_op.context:
            self._run(module_op)

    def _run(self, module_op) -> None:
        convs = ops_named(module_op, "ttir.conv2d")
        self._module_op = module_op
        for op in convs:
            try:
                conv = Conv2d(op)
            except InvalidOp as problem:
                self._report(op, "error", f"'ttir.conv2d' op {problem}")
                continue
            try:
                self._convert(conv)
            except NotConverted as reason:
                if self.options.remarks != "none":
                    self._report(op, "remark", f"depthwise-to-pool: conv not converted: {reason}")

    def _report(self, op, severity: str, message: str) -> None:
        self.diagnostics.append(at(op, severity, message, self.source_name))

    # -------------------------------------------------------------- matching
    def _describe(self, conv: Conv2d) -> DepthwiseConv:
        """The DepthwiseConv of `conv`, or NotConverted with the reason."""
        n, h, w, c = conv.input_nhwc
        o, c_per_group, kh, kw = conv.weight_shape
        if any(d < 0 for d in conv.input_nhwc + conv.weight_shape + conv.output_nhwc):
            raise NotConverted("dynamic shapes are not supported")
        if conv.is_flattened:
            raise NotConverted("flattened conv (flattened_compat_info): run this pass before "
                               "ttir-flatten-sliding-window")
        if not conv.is_nhwc and any(_encoding(v) is not None for v in (conv.input, conv.op.results[0])):
            raise NotConverted("NCHW-described conv with tensor encodings: the permuted NHWC "
                               "tensors would need layouts this pass cannot derive")
        element = str(conv.element_type)
        if element not in FLOAT_TYPES:
            raise NotConverted(f"element type {element} is not a float type the pool kernels take")
        if conv.groups == 1 and c > 1:
            raise NotConverted(f"groups = 1: a dense conv ({c} -> {o} channels), not depthwise")
        if conv.groups != c:
            raise NotConverted(f"grouped conv with {conv.groups} groups of {c // conv.groups} channels, "
                               f"not depthwise (groups must equal in_channels = {c})")
        if o != c:
            raise NotConverted(f"channel multiplier {o // c} (out_channels = {o}, in_channels = {c}); "
                               "the pool kernels need out_channels == in_channels")
        if (kh == 1 and h == 1) or (kw == 1 and w == 1):
            axis = "height" if kh == 1 and h == 1 else "width"
            raise NotConverted(f"1-D conv: kernel and input are 1 in {axis} ({kh}x{kw} kernel on "
                               f"{h}x{w} input)")
        return DepthwiseConv(batch=n, in_h=h, in_w=w, channels=c, kernel=(kh, kw), stride=conv.stride,
                             padding=conv.padding, dilation=conv.dilation,
                             weight_dtype=self.options.weight_dtype)

    def _fusion(self, conv: Conv2d, channels: int) -> _Fusion:
        fusion = _Fusion(bias=conv.bias, last=conv.op)
        fused = []
        value = conv.op.results[0]
        users = _users(value)
        if conv.bias is None and len(users) == 1 and users[0].name == "ttir.add":
            add = users[0]
            others = [v for v in source_operands(add) if v != value]
            if len(others) == 1 and _per_channel(others[0], channels, conv.dims[3]):
                fusion.bias, fusion.last = others[0], add
                fused.append(add)
                value = add.results[0]
                users = _users(value)
        activation = None
        if len(users) == 1 and users[0].name in ELEMENTWISE_ACTIVATIONS:
            activation, chain = ELEMENTWISE_ACTIVATIONS[users[0].name], [users[0]]
        elif len(users) == 1 and users[0].name == "ttir.clamp_scalar" and _is_relu6_clamp(users[0]):
            activation, chain = "relu6", [users[0]]
        elif len(users) == 2:
            silu = _silu_pair(value, users)
            if silu:
                activation, chain = "silu", silu
        if activation:
            fusion.activation, fusion.last = activation, chain[-1]
            fused += chain
        fusion.fused_ops = tuple(reversed(fused))
        return fusion

    # ------------------------------------------------------------ rewriting
    def _convert(self, conv: Conv2d) -> None:
        description = self._describe(conv)
        fusion = self._fusion(conv, description.channels)
        description = description.with_(has_bias=fusion.bias is not None, activation=fusion.activation)
        self._check_path(description)
        record = self._choose_layout(description)
        op = conv.op
        # Before the last fused op: a fused bias may be defined after the conv.
        with ir.InsertionPoint(fusion.last), op.location:
            x = conv.input
            if not conv.is_nhwc:
                x = _permute(x, list(conv.dims))
            weight = self._prepared_weight(conv.weight, description, record)
            operands = [x, weight]
            if fusion.bias is not None:
                operands.append(self._prepared_bias(fusion.bias, description, record))
            # NHWC: the op replaces the last fused op's result, so it takes that type
            # exactly, with its encoding (#ttnn.ttnn_layout, #ttcore...) if it has one.
            result_type = fusion.last.results[0].type if conv.is_nhwc else ttnn.tensor_type(
                [description.batch, description.out_h, description.out_w, description.channels],
                str(conv.element_type))
            new = ir.Operation.create("ttnn.depthwise_pool_conv", results=[result_type], operands=operands,
                                      attributes=ttnn.conv_attributes(description, record))
            result = new.results[0]
            if not conv.is_nhwc:
                back = [0] * 4
                for i, d in enumerate(conv.dims):
                    back[d] = i
                result = _permute(result, back, fusion.last.results[0].type)
        if self.options.remarks == "all":
            self._report(op, "remark", f"depthwise-to-pool: converted ({self._summary(description, record)})")
        fusion.last.results[0].replace_all_uses_with(result)
        for dead in fusion.fused_ops + (op,):
            destinations = [v for v in dead.operands if is_destination(v)]
            dead.erase()
            for value in destinations:
                _erase_if_unused(value.owner)
        for value in (conv.weight, fusion.bias):
            if value is not None and _is_constant(value):
                _erase_if_unused(value.owner)

    def _check_path(self, conv: DepthwiseConv) -> None:
        if self.options.path == "pool":
            return
        if self.options.path == "matmul":
            raise NotConverted("path=matmul forces the grouped-conv matmul path")
        pool_wins, ratio = prefer_pool(conv, self.options.device)
        if not pool_wins:
            raise NotConverted(f"the cost model estimates the grouped-matmul path cheaper on "
                               f"{self.options.device} (matmul/pool time ratio {ratio:.2f})")

    def _choose_layout(self, conv: DepthwiseConv) -> ttnn.LayoutRecord:
        scheme = None if self.options.shard_scheme == "auto" else self.options.shard_scheme
        plan = _plan(conv, self.options.device, scheme)
        if isinstance(plan, Refusal):
            raise NotConverted(str(plan))
        return ttnn.LayoutRecord.of(plan.sharding, plan.layout)

    @staticmethod
    def _summary(conv: DepthwiseConv, record: ttnn.LayoutRecord) -> str:
        lay = record.layout
        return (f"{conv.kernel[0]}x{conv.kernel[1]} C={conv.channels}, {lay.scheme} on "
                f"{record.grid[0]}x{record.grid[1]} cores, {lay.num_shards} channel shard(s) of "
                f"{lay.channels_per_shard}, {lay.dtype} weights")

    # ------------------------------------------------------ weight and bias
    def _constant_values(self, value):
        """The values of a constant operand as float32 numpy, or None if not constant."""
        if not _is_constant(value):
            return None
        attr = value.owner.attributes["value"]
        if str(attr).startswith("dense_resource<") and self._blobs is None:
            self._blobs = resource_blobs(self._module_op.get_asm(large_resource_limit=None))
        try:
            return dense_to_numpy(attr, self._blobs)
        except ValueError as problem:
            raise NotConverted(f"constant weight could not be read: {problem}") from None

    def _prepared_weight(self, weight, conv: DepthwiseConv, record: ttnn.LayoutRecord):
        values = self._constant_values(weight) if self.options.fold else None
        if values is not None:
            return _constant(prepare_weights(values, record.layout))
        return ir.Operation.create(
            "ttnn.prepare_depthwise_pool_weights", results=[ttnn.prepared_weight_type(record.layout)],
            operands=[weight], attributes={"in_channels": ttnn.i32(conv.channels),
                                           "kernel_size": ttnn.i32_array(conv.kernel),
                                           "weight_layout": record.to_attr()}).results[0]

    def _prepared_bias(self, bias, conv: DepthwiseConv, record: ttnn.LayoutRecord):
        values = self._constant_values(bias) if self.options.fold else None
        if values is not None:
            return _constant(prepare_bias(values.reshape(-1), record.layout))
        return ir.Operation.create(
            "ttnn.prepare_depthwise_pool_bias", results=[ttnn.prepared_bias_type(record.layout)],
            operands=[bias], attributes={"in_channels": ttnn.i32(conv.channels),
                                         "weight_layout": record.to_attr()}).results[0]


# ---------------------------------------------------------------- helpers
@lru_cache(maxsize=1024)
def _plan(conv: DepthwiseConv, device: str, scheme: str | None):
    """Programs depend only on the conv and the device: a model repeats a few shapes many times."""
    return plan_program(conv, DEVICES[device], scheme)


def _users(value) -> list:
    seen, users = set(), []
    for use in value.uses:
        owner = use.owner
        if owner not in seen:  # an op using the value twice is one user
            seen.add(owner)
            users.append(owner)
    return users


def _per_channel(value, channels: int, channel_dim: int) -> bool:
    """A bias-like operand: one value per channel on `channel_dim`, ones elsewhere."""
    t = value.type
    if not isinstance(t, ir.RankedTensorType) or not t.has_static_shape:
        return False
    shape = list(t.shape)
    if len(shape) == 1:
        return shape[0] == channels
    return len(shape) == 4 and shape[channel_dim] == channels and \
        all(d == 1 for i, d in enumerate(shape) if i != channel_dim)


def _is_relu6_clamp(op) -> bool:
    try:
        return float(op.attributes["min"].value) == 0.0 and float(op.attributes["max"].value) == 6.0
    except (KeyError, AttributeError, ValueError):
        return False


def _silu_pair(value, users) -> list | None:
    """`sigmoid(v)` and `multiply(v, sigmoid(v))` as the only users of v -> [sigmoid, multiply]."""
    sigmoid = next((u for u in users if u.name == "ttir.sigmoid"), None)
    multiply = next((u for u in users if u.name == "ttir.multiply"), None)
    if sigmoid is None or multiply is None:
        return None
    if source_operands(sigmoid)[0] != value or len(_users(sigmoid.results[0])) != 1:
        return None
    operands = source_operands(multiply)
    gate = sigmoid.results[0]
    if len(operands) != 2 or not ((operands[0] == value and operands[1] == gate) or
                                  (operands[1] == value and operands[0] == gate)):
        return None
    return [sigmoid, multiply]


def _is_constant(value) -> bool:
    owner = value.owner
    return isinstance(owner, (ir.Operation, ir.OpView)) and owner.name in CONSTANT_OPS and \
        "value" in owner.attributes


def _erase_if_unused(op) -> None:
    if isinstance(op, (ir.Operation, ir.OpView)) and all(not list(r.uses) for r in op.results):
        op.erase()


def _constant(values):
    attr = numpy_to_dense(values, "bf16")
    return ir.Operation.create("ttir.constant", results=[attr.type], attributes={"value": attr}).results[0]


def _encoding(value):
    t = value.type
    return ir.RankedTensorType(t).encoding if isinstance(t, ir.RankedTensorType) else None


def _permute(value, permutation: list[int], result_type=None):
    shape = list(value.type.shape)
    result_type = result_type or ttnn.tensor_type([shape[p] for p in permutation],
                                                  str(value.type.element_type))
    return ir.Operation.create("ttir.permute", results=[result_type], operands=[value],
                               attributes={"permutation": ir.DenseI64ArrayAttr.get(permutation)}).results[0]
