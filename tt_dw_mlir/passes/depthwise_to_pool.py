"""`--tt-depthwise-to-pool`: depthwise `ttir.conv2d` -> `ttnn.depthwise_pool_conv`.

Before:

    %y = "ttir.conv2d"(%x, %w, %b) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32,
            groups = 64 : i32}> : (tensor<1x56x56x64xbf16>, tensor<64x1x3x3xbf16>,
            tensor<1x1x1x64xbf16>) -> tensor<1x56x56x64xbf16>
    %r = "ttir.relu"(%y) : (tensor<1x56x56x64xbf16>) -> tensor<1x56x56x64xbf16>

After (bias and activation fused, the layout chosen for the device):

    %pw = "ttnn.prepare_depthwise_pool_weights"(%w) <{..., weight_layout = {channel_shards = 1 : i32, ...}}>
          : (tensor<64x1x3x3xbf16>) -> tensor<1x2x32x32xbf16>
    %pb = "ttnn.prepare_depthwise_pool_bias"(%b) <{...}> : (tensor<1x1x1x64xbf16>) -> tensor<1x2x32x32xbf16>
    %r  = "ttnn.depthwise_pool_conv"(%x, %pw, %pb) <{activation = "relu", padding = array<i32: 1, 1, 1, 1>,
          ...}> : (...) -> tensor<1x56x56x64xbf16>

A constant weight or bias (`ttir.constant` / `arith.constant` holding `dense<>` or
`dense_resource<>`) is folded: the prepare op is replaced by a `ttir.constant`
already in the prepared layout, quantised to the weight dtype. An NCHW-described
conv gets `ttir.permute` ops around it. A bias add is fused as tt-mlir's
`ConvAddBias` (lib/Dialect/TTIR/Transforms/TTIRFusing.cpp) fuses it: through a
`ttir.broadcast` of a per-channel value (and the `ttir.reshape` that made it), and
into a conv that already has a bias (the two are added).

The device is decided once per module: the `device` option, or the device the
module already records (`tt_dw.device`, a module attribute in the way tt-mlir
records its `ttcore.system_desc`), else n150; a converted module records it for
the passes after this one. An option that disagrees with the recorded device is
an error at the module.

A conv left alone keeps its IR byte for byte (everything is read and checked
before anything is built) and gets a remark when it is grouped (groups > 1);
or depthwise; dense convs get one only with `remarks=all`. A second run changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tt_dw_mlir.conv_config import DTYPES, FLOAT_DTYPES, SCHEMES, DepthwiseConv
from tt_dw_mlir.cost_model import prefer_pool
from tt_dw_mlir.dialect import ttnn
from tt_dw_mlir.dialect.constants import ConstantError, ResourceBlobs, dense_to_numpy, \
    element_name, numpy_dtype, numpy_to_dense
from tt_dw_mlir.dialect.ttir import ELEMENTWISE_ACTIVATIONS, Conv2d, InvalidOp, is_destination, \
    source_operands
from tt_dw_mlir.ir import Diagnostic, at, ir, ops_named, verify
from tt_dw_mlir.layout import prepare_bias, prepare_weights
from tt_dw_mlir.program import KernelProgram, plan_program
from tt_dw_mlir.sharding import DEVICES, Refusal

FLOAT_TYPES = FLOAT_DTYPES
CONSTANT_OPS = ("ttir.constant", "arith.constant")


class NotConverted(Exception):
    """A valid conv this pass leaves alone; the message is the remark."""


@dataclass
class Options:
    device: str = ""            # "" = the device the module records, else n150
    weight_dtype: str = "auto"  # auto = the conv's own element type (bf16, f32, f16)
    shard_scheme: str = "auto"  # auto | height_sharded | width_sharded | block_sharded
    path: str = "auto"          # auto (cost model) | pool | matmul
    fold: bool = True
    remarks: str = "rejected"   # rejected (grouped convs) | all | none

    CHOICES = {"device": tuple(DEVICES), "weight_dtype": ("auto", *DTYPES), "shard_scheme": ("auto", *SCHEMES),
               "path": ("auto", "pool", "matmul"), "remarks": ("rejected", "all", "none")}


@dataclass
class _Fusion:
    biases: list = field(default_factory=list)  # per-channel values added to the conv (0, 1 or 2)
    activation: str = "none"
    last: object = None             # the op whose result the fused op replaces
    fused_ops: tuple = ()           # ops to erase, users first


@dataclass(frozen=True)
class _Built:
    """The attributes and result types of the ops one decision builds (each a binding call to
    make; a model repeats a few decisions thousands of times)."""
    conv: dict
    weight_type: object
    bias_type: object
    weight: dict
    bias: dict


class DepthwiseToPool:
    argument = "tt-depthwise-to-pool"
    summary = "Match depthwise ttir.conv2d and legalise it to ttnn.depthwise_pool_conv"
    verifies_convs = True  # checks every ttir.conv2d (as dialect.verify_module) before rewriting
    checks_what_it_builds = True  # see passes.builds_checked_ir
    verifies_what_it_builds = True  # see passes.build_pass_manager

    def __init__(self, options: Options, diagnostics: list[Diagnostic], source_name: str | None = None):
        self.options = options
        self.diagnostics = diagnostics
        self.source_name = source_name
        # Owned by this pass instance (not module globals): plans depend only on the conv,
        # the device and the scheme, and a model repeats a few shapes many times.
        self._plans: dict = {}
        self._layout_attrs: dict = {}
        self._conv_facts: dict = {}  # ttir.Conv2d's memo: signature -> ConvFacts
        # The decisions a conv's facts determine (match, cost-model path, plan), made once per
        # distinct conv: ConvFacts -> DepthwiseConv | NotConverted, and (facts, bias?,
        # activation) -> (DepthwiseConv, LayoutRecord) | NotConverted.
        self._described: dict = {}
        self._decided: dict = {}
        self._built: dict = {}  # decision -> _Built
        self._checked: set = set()  # (decision, result type) whose ops were checked when built
        self._layouts: dict = {}  # LayoutRecord.from_attr's memo

    # ------------------------------------------------------------------ run
    def run(self, module_op) -> None:
        with module_op.context:
            self._run(module_op)

    def _run(self, module_op) -> None:
        try:
            self.device, recorded = ttnn.module_device(module_op, self.options.device)
        except ValueError as problem:
            self._report(module_op, "error", f"depthwise-to-pool: {problem}")
            return
        self._resources = ResourceBlobs(module_op)
        # Every conv is read and checked before any is rewritten: a module with an invalid
        # one is refused as it is (the driver leaves the convs' checks to this pass when it
        # runs first, `verifies_convs` below: each conv is then read once).
        convs, invalid = [], False
        for op in ops_named(module_op, "ttir.conv2d"):
            try:
                convs.append((op, Conv2d(op, self._conv_facts).facts))
            except InvalidOp as problem:
                self._report(op, "error", f"'ttir.conv2d' op {problem}")
                invalid = True
        if invalid:
            return
        converted = 0
        for op, facts in convs:
            conv = Conv2d.of(op, facts)  # its operands read now: earlier rewrites replaced some
            try:
                self._convert(conv)
                converted += 1
            except NotConverted as reason:
                if self.options.remarks == "all" or (self.options.remarks == "rejected" and
                                                     _is_grouped(conv)):
                    self._report(op, "remark", f"depthwise-to-pool: conv not converted: {reason}")
        if converted and not recorded:
            ttnn.record_device(module_op, self.device)

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
        element = element_name(conv.element_type)
        if element not in FLOAT_TYPES:
            raise NotConverted(f"element type {conv.element_type} is not a float type the pool kernels take")
        if conv.groups == 1 and not c == o == 1:
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
        weight_dtype = element if self.options.weight_dtype == "auto" else self.options.weight_dtype
        # The op's dtype is the tensor type's: an f32 / f16 conv computes and returns f32 / f16.
        return DepthwiseConv(batch=n, in_h=h, in_w=w, channels=c, kernel=(kh, kw), stride=conv.stride,
                             padding=conv.padding, dilation=conv.dilation, dtype=element,
                             weight_dtype=weight_dtype)

    def _fusion(self, conv: Conv2d, channels: int) -> _Fusion:
        """The bias add and activation after `conv` that can be fused (ConvAddBias's rules)."""
        fusion = _Fusion(biases=[conv.bias] if conv.bias is not None else [], last=conv.op)
        fused = []
        value = conv.op.results[0]
        users = _users(value)
        if len(users) == 1 and users[0].name == "ttir.add":
            add = users[0]
            others = [v for v in source_operands(add) if v != value]
            bias, feeders = _look_through_broadcast(others[0], add) if len(others) == 1 else (None, [])
            if bias is not None and _per_channel(bias, channels, conv.dims[3], conv.op.results[0]) and \
                    _can_add_biases(fusion.biases + [bias]):
                fusion.biases.append(bias)
                fusion.last = add
                fused += [add] + feeders
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
            fused = chain[::-1] + fused
        fusion.fused_ops = tuple(_users_first(fused) if len(fused) > 1 else fused)
        return fusion

    # ------------------------------------------------------------ rewriting
    def _convert(self, conv: Conv2d) -> None:
        """Read and check everything, then build: a refused conv leaves the IR as it was."""
        described = self._described.get(conv.facts)
        if described is None:
            try:
                described = self._describe(conv)
            except NotConverted as reason:
                # a new exception, never raised: the caught one's traceback holds every
                # calling frame, and this memo lives as long as the pass (a PassManager
                # holds it from C++, where the garbage collector cannot break the cycle)
                described = NotConverted(str(reason))
            self._described[conv.facts] = described
        if isinstance(described, NotConverted):
            raise NotConverted(str(described))
        fusion = self._fusion(conv, described.channels)
        key = (conv.facts, bool(fusion.biases), fusion.activation)
        decided = self._decided.get(key)
        if decided is None:
            try:
                description = described.with_(has_bias=key[1], activation=key[2])
                if self.options.path == "matmul":
                    raise NotConverted("path=matmul forces the grouped-conv matmul path")
                plan = self._plan(description)
                self._check_path(description, plan)
                decided = (description, ttnn.LayoutRecord.of(plan.sharding, plan.layout))
            except NotConverted as reason:
                decided = NotConverted(str(reason))  # not the raised one (see above)
            self._decided[key] = decided
        if isinstance(decided, NotConverted):
            raise NotConverted(str(decided))
        description, record = decided
        built = self._built.get(decided)
        if built is None:  # attributes and types of the ops built, made once per decision
            with conv.op.location:
                built = self._build(description, record)
                self._built[decided] = built
        weight_values = self._constant_values(conv.weight, "weight")
        bias_values = [self._constant_values(b, "bias") for b in fusion.biases]
        op = conv.op
        # Before the last fused op: a fused bias may be defined after the conv.
        with ir.InsertionPoint(fusion.last), op.location:
            x = conv.input
            if not conv.is_nhwc:
                x = _permute(x, list(conv.dims))
            operands = [x, self._prepared_weight(conv.weight, weight_values, record, built)]
            if fusion.biases:
                operands.append(self._prepared_bias(fusion.biases, bias_values, record, built))
            # NHWC: the op replaces the last fused op's result, so it takes that type
            # exactly, with its encoding (#ttnn.ttnn_layout, #ttcore...) if it has one.
            result_type = fusion.last.results[0].type if conv.is_nhwc else ttnn.tensor_type(
                [description.batch, description.out_h, description.out_w, description.channels],
                conv.element_type)
            new = ir.Operation.create("ttnn.depthwise_pool_conv", results=[result_type], operands=operands,
                                      attributes=built.conv)
            result = new.results[0]
            if not conv.is_nhwc:
                back = [0] * 4
                for i, d in enumerate(conv.dims):
                    back[d] = i
                result = _permute(result, back, fusion.last.results[0].type)
            # What it builds is checked on the first conv of each kind: the others get the
            # same ops with the same attributes and types.
            kind = (decided, result_type, conv.dims, len(fusion.biases), weight_values is None,
                    tuple(v is None for v in bias_values))
            if kind not in self._checked:
                self._checked.add(kind)
                self._check_built(_built_ops(new, result, len(fusion.biases), not conv.is_nhwc))
        if self.options.remarks == "all":
            self._report(op, "remark", f"depthwise-to-pool: converted ({self._summary(description, record)})")
        fusion.last.results[0].replace_all_uses_with(result)
        for dead in fusion.fused_ops + (op,):
            operands = dead.operands  # an older DPS op's destination is its last operand
            destination = operands[len(operands) - 1] if len(operands) else None
            dead.erase()
            if destination is not None and is_destination(destination):
                _erase_if_unused(destination.owner)
        for value in [conv.weight] + fusion.biases:
            _erase_dead_constant_chain(value)

    def _check_built(self, ops) -> None:
        """MLIR's op verifier and our semantic checks on the ops built for a conv, the first
        of its kind: the others are built alike (run_pipeline does not check them again,
        and the pass manager does not verify the module after this pass, see
        `passes.builds_checked_ir` and `passes.build_pass_manager`)."""
        for op in ops:
            found = verify(op)
            if found:
                self._report(op, "error", f"internal error: depthwise-to-pool built an invalid "
                             f"'{op.name}': {'; '.join(d.message for d in found)}")
                continue
            if op.name in ttnn.OURS:
                problem = ttnn.verify_op(op, self._layouts)
                if problem:
                    self._report(op, "error", f"internal error: depthwise-to-pool built an invalid "
                                 f"'{op.name}': {problem}")

    def _build(self, description: DepthwiseConv, record: ttnn.LayoutRecord) -> "_Built":
        layout_attr = self._layout_attr(record)
        return _Built(ttnn.conv_attributes(description, layout_attr),
                      ttnn.prepared_weight_type(record.layout), ttnn.prepared_bias_type(record.layout),
                      {"in_channels": ttnn.i32(description.channels),
                       "kernel_size": ttnn.i32_array(description.kernel), "weight_layout": layout_attr},
                      {"in_channels": ttnn.i32(description.channels), "weight_layout": layout_attr})

    def _check_path(self, conv: DepthwiseConv, plan: KernelProgram) -> None:
        """path=auto: keep the conv only if the cost model estimates the plan made for it
        (its sharding, channel blocks and operand placement) cheaper than the matmul."""
        if self.options.path == "pool":
            return
        # The cost model prices bf16 and block-float tiles only: an f32 / f16 conv is priced
        # as its bf16 equivalent (same work; f32 moves twice the bytes on both paths).
        priced = conv.with_(dtype="bf16" if conv.dtype in ("f32", "f16") else conv.dtype,
                            weight_dtype="bf16" if conv.weight_dtype in ("f32", "f16")
                            else conv.weight_dtype)
        pool_wins, ratio = prefer_pool(priced, self.device.name, plan)
        if not pool_wins:
            raise NotConverted(f"the cost model estimates the grouped-matmul path cheaper on "
                               f"{self.device.name} (matmul/pool time ratio {ratio:.2f})")

    def _plan(self, conv: DepthwiseConv) -> KernelProgram:
        """The plan of `conv` (made here, once): its layout record goes into the IR."""
        scheme = None if self.options.shard_scheme == "auto" else self.options.shard_scheme
        key = (conv, scheme)
        if key not in self._plans:
            self._plans[key] = plan_program(conv, self.device, scheme)
        plan = self._plans[key]
        if isinstance(plan, Refusal):
            raise NotConverted(str(plan))
        return plan

    def _layout_attr(self, record: ttnn.LayoutRecord):
        if record not in self._layout_attrs:
            self._layout_attrs[record] = record.to_attr()
        return self._layout_attrs[record]

    @staticmethod
    def _summary(conv: DepthwiseConv, record: ttnn.LayoutRecord) -> str:
        lay = record.layout
        return (f"{conv.kernel[0]}x{conv.kernel[1]} C={conv.channels}, {lay.scheme} on "
                f"{record.grid[0]}x{record.grid[1]} cores, {lay.num_shards} channel shard(s) of "
                f"{lay.channels_per_shard}, {lay.dtype} weights")

    # ------------------------------------------------------ weight and bias
    def _constant_values(self, value, what: str):
        """The values of a constant operand (through reshapes) as float32, or None.

        Read from the attribute's raw data; NotConverted, naming `what`, if unreadable."""
        if not self.options.fold:
            return None
        source = _constant_source(value)
        if source is None:
            return None
        try:
            values = dense_to_numpy(source.attributes["value"], self._resources)
        except ConstantError as problem:
            raise NotConverted(f"constant {what} could not be read: {problem}") from None
        return values.reshape(value.type.shape)

    def _prepared_weight(self, weight, values, record: ttnn.LayoutRecord, built: "_Built"):
        if values is not None:
            return _constant(prepare_weights(values, record.layout), record.layout)
        return ir.Operation.create("ttnn.prepare_depthwise_pool_weights", results=[built.weight_type],
                                   operands=[weight], attributes=built.weight).results[0]

    def _prepared_bias(self, biases, values, record: ttnn.LayoutRecord, built: "_Built"):
        if all(v is not None for v in values):
            total = values[0].reshape(-1)
            for more, bias in zip(values[1:], biases[1:]):
                # the sum a `ttir.add` in the bias's element type gives (ConvAddBias adds them)
                dtype = numpy_dtype(bias.type.element_type)
                total = (total.astype(dtype) + more.reshape(-1).astype(dtype)).astype(np.float32)
            return _constant(prepare_bias(total, record.layout), record.layout)
        bias = biases[0]
        for more in biases[1:]:  # same type (checked by _can_add_biases)
            bias = ir.Operation.create("ttir.add", results=[bias.type], operands=[bias, more]).results[0]
        return ir.Operation.create("ttnn.prepare_depthwise_pool_bias", results=[built.bias_type],
                                   operands=[bias], attributes=built.bias).results[0]


# ---------------------------------------------------------------- helpers
def _built_ops(conv, result, biases: int, permuted: bool) -> list:
    """The ops `_convert` built around the new `conv` op: the prepared weight and bias (a
    constant, or a prepare op and the adds summing several biases), the permutes of an
    NCHW conv (`result` is the value replacing the old one)."""
    ops = [conv]
    operands = list(conv.operands)
    if permuted:
        ops.append(operands[0].owner)
    for value in operands[1:]:
        ops.append(value.owner)
    if len(operands) > 2 and ops[-1].name == "ttnn.prepare_depthwise_pool_bias":
        add = ops[-1].operands[0].owner
        for _ in range(biases - 1):  # each sums the previous and one more bias
            ops.append(add)
            add = add.operands[0].owner
    if permuted:
        ops.append(result.owner)
    return ops


def _is_grouped(conv: Conv2d) -> bool:
    """Grouped or depthwise (groups > 1, or a single-channel 1 -> 1 conv): the convs whose
    rejection a user wants to hear about by default; dense convs are the common case."""
    return conv.groups > 1 or conv.input_nhwc[3] == conv.weight_shape[0] == 1


def _users(value) -> list:
    seen, users = set(), []
    for use in value.uses:
        owner = use.owner
        if owner not in seen:  # an op using the value twice is one user
            seen.add(owner)
            users.append(owner)
    return users


def _users_first(ops: list) -> list:
    """`ops` ordered so that every op comes before the ops it uses (safe erase order)."""
    ordered = []
    remaining = list(ops)
    while remaining:
        for op in remaining:
            if not any(u in remaining and u != op for r in op.results for u in _users(r)):
                ordered.append(op)
                remaining.remove(op)
                break
        else:  # a cycle cannot happen in SSA; keep the order given
            return ordered + remaining
    return ordered


def _look_through_broadcast(value, consumer):
    """`value`, or the per-channel value a chain of `ttir.broadcast` / `ttir.reshape` ops
    expands for `consumer` alone (tt-xla emits reshape -> broadcast -> add), and those ops."""
    chain = []
    while True:
        owner = value.owner
        if not isinstance(owner, (ir.Operation, ir.OpView)) or \
                owner.name not in ("ttir.broadcast", "ttir.reshape"):
            return value, chain
        if len(_users(value)) != 1 or not source_operands(owner):
            return value, chain
        chain.append(owner)
        value = source_operands(owner)[0]
        if _is_per_channel_shape(value):
            return value, chain


def _is_per_channel_shape(value) -> bool:
    t = value.type
    return isinstance(t, ir.RankedTensorType) and t.has_static_shape and \
        sum(1 for d in t.shape if d != 1) <= 1


def _per_channel(value, channels: int, channel_dim: int, result) -> bool:
    """A bias-like operand: one value per channel on `channel_dim`, ones elsewhere (1-D: C)."""
    t = value.type
    if not isinstance(t, ir.RankedTensorType) or not t.has_static_shape:
        return False
    shape = list(t.shape)
    if len(shape) == 1:
        return shape[0] == channels
    return len(shape) == 4 and shape[channel_dim] == channels and \
        all(d == 1 for i, d in enumerate(shape) if i != channel_dim)


def _can_add_biases(biases: list) -> bool:
    """Two biases are summed: as constants (any shapes), or by a `ttir.add` of equal types."""
    if len(biases) < 2:
        return True
    if all(_constant_source(b) is not None for b in biases):
        return True
    return all(b.type == biases[0].type for b in biases)


def _constant_source(value):
    """The constant op `value` comes from, directly or through reshapes, or None."""
    while True:
        owner = value.owner
        if not isinstance(owner, (ir.Operation, ir.OpView)):
            return None
        if owner.name in CONSTANT_OPS and "value" in owner.attributes:
            return owner
        if owner.name != "ttir.reshape" or not source_operands(owner):
            return None
        value = source_operands(owner)[0]


def _erase_dead_constant_chain(value) -> None:
    """Erase a constant (and the reshapes after it) that nothing uses any more."""
    while isinstance(value.owner, (ir.Operation, ir.OpView)) and not list(value.uses):
        owner = value.owner
        if owner.name not in CONSTANT_OPS and owner.name != "ttir.reshape":
            return
        sources = source_operands(owner) if owner.name not in CONSTANT_OPS else []
        destinations = [v for v in owner.operands if is_destination(v)]
        owner.erase()
        for dest in destinations:
            _erase_if_unused(dest.owner)
        if not sources:
            return
        value = sources[0]


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


def _erase_if_unused(op) -> None:
    if isinstance(op, (ir.Operation, ir.OpView)) and all(not list(r.uses) for r in op.results):
        op.erase()


def _constant(values, layout):
    attr = numpy_to_dense(values, ttnn.storage_type(layout))
    return ir.Operation.create("ttir.constant", results=[attr.type], attributes={"value": attr}).results[0]


def _encoding(value):
    t = value.type
    return ir.RankedTensorType(t).encoding if isinstance(t, ir.RankedTensorType) else None


def _permute(value, permutation: list[int], result_type=None):
    shape = list(value.type.shape)
    result_type = result_type or ttnn.tensor_type([shape[p] for p in permutation],
                                                  value.type.element_type)
    return ir.Operation.create("ttir.permute", results=[result_type], operands=[value],
                               attributes={"permutation": ir.DenseI64ArrayAttr.get(permutation)}).results[0]
