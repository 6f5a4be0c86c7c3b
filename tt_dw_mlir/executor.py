"""Run a TTIR / lowered TTNN module with torch: one executor for the whole network.

The executor walks the in-memory module once per function and turns every op
into a closure over its attributes (read from the typed attributes, never from
text); a call then runs the closures in order. TTIR ops compute with torch in
float32 and store their result in the element type the IR gives it: a bf16
result is rounded to bf16 (nearest even), as the device computes in its fp32
destination registers and packs the tile to bf16; bf16 function arguments are
rounded on entry. Ops that only move or select values (permute, reshape, slice,
concat, pad, max pool) need no rounding. The TTNN data-movement and creation ops
`--tt-depthwise-pool-to-generic` emits run too; its `ttnn.generic` runs only
through `override` (which writes the output operand in place: the op has no
result), its kernel bodies being the TT-Lang compiler's. A lowered `ttnn.depthwise_pool_program` runs
on a `tt_dw_mlir.runtime` backend ("reference", "sim", "ttnn") from the plan the
op carries (`dialect.ttnn.program_of`), with its prepared weights and bias.

    executor = Executor(module, backend="reference")
    (y,) = executor.call("main", [x_nchw])

`trace` collects the operands and result of chosen ops by their name location
(e.g. every depthwise layer, for a per-layer comparison with torch); with an
`observer` they are handed to it as each op runs and not kept, so a traced run holds
no more activations than an untraced one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .dialect.constants import ResourceBlobs, dense_to_numpy, elements_to_numpy
from .ir import ir, location_of, name_of

DEPTHWISE_OPS = ("ttnn.depthwise_pool_program", "ttir.conv2d")


def constant_array(attr, resources=None) -> np.ndarray:
    """A `dense<...>` / `dense_resource<...>` elements attribute as float32, from its raw
    storage, bit exact (`dialect.constants`; `resources` holds the module's blobs)."""
    return dense_to_numpy(attr, resources)


class ExecutionError(RuntimeError):
    """An op the executor cannot run (unknown op, malformed attribute), at its location."""


def _where(op) -> str:
    name = name_of(op.location)
    if name:
        return name
    file, line, col = location_of(op.location)
    return f"{file}:{line}:{col}"


def _ints(attr) -> list[int]:
    if isinstance(attr, ir.IntegerAttr):
        return [attr.value]
    if isinstance(attr, (ir.DenseI32ArrayAttr, ir.DenseI64ArrayAttr)):
        return list(attr)
    if isinstance(attr, ir.ArrayAttr):
        return [ir.IntegerAttr(a).value for a in attr]
    raise ExecutionError(f"expected integers, got {attr}")


def _pair(attr) -> tuple[int, int]:
    v = _ints(attr)
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def _sides(attr) -> tuple[int, int, int, int]:
    """[pT, pL, pB, pR] from 1, 2 ([pH, pW]) or 4 values (TTIROps.td)."""
    v = _ints(attr)
    if len(v) == 1:
        return (v[0],) * 4
    if len(v) == 2:
        return (v[0], v[1], v[0], v[1])
    return tuple(v)


def _attr(op, name: str, default=None):
    attrs = op.attributes
    return attrs[name] if name in attrs else default


def _bool(op, name: str, default: bool) -> bool:
    a = _attr(op, name)
    return default if a is None else bool(ir.BoolAttr(a).value)


def _float(op, name: str, default: float) -> float:
    a = _attr(op, name)
    return default if a is None else float(ir.FloatAttr(a).value)


def _activation(name: str) -> Callable:
    return {"relu": torch.relu, "relu6": lambda t: torch.clamp(t, 0.0, 6.0), "sigmoid": torch.sigmoid,
            "silu": F.silu, "gelu": F.gelu, "hardsigmoid": F.hardsigmoid, "tanh": torch.tanh,
            "exp": torch.exp, "neg": torch.neg, "abs": torch.abs, "sqrt": torch.sqrt,
            "rsqrt": torch.rsqrt, "erf": torch.erf}[name]


# Ops that widen a bf16 weight or bias operand (operands 1 and 2) as they run: such constants
# are kept in bf16 (`Executor._constant`).
_WIDENS_WEIGHTS = ("ttir.conv2d", "ttir.linear", "ttir.matmul")

_BINARY = {"ttir.add": torch.add, "ttir.subtract": torch.sub, "ttir.multiply": torch.mul,
           "ttir.div": torch.div, "ttir.pow": torch.pow, "ttir.maximum": torch.maximum,
           "ttir.minimum": torch.minimum}
_UNARY = ("relu", "relu6", "sigmoid", "silu", "gelu", "hardsigmoid", "tanh", "exp", "neg", "abs",
          "sqrt", "rsqrt", "erf")


# Elementwise ops computed into their own operand: the same kernels as the functional
# forms above (bit for bit). gelu has no in-place form in torch.
_IN_PLACE = {"relu": torch.relu_, "relu6": lambda t: t.clamp_(0.0, 6.0), "sigmoid": torch.sigmoid_,
             "silu": lambda t: F.silu(t, inplace=True),
             "hardsigmoid": lambda t: F.hardsigmoid(t, inplace=True), "tanh": torch.tanh_,
             "exp": torch.exp_, "neg": torch.neg_, "abs": torch.abs_, "sqrt": torch.sqrt_,
             "rsqrt": torch.rsqrt_, "erf": torch.erf_}
# Ops whose result is memory of its own, new at each call (never an operand, a view of one,
# a constant or a backend's buffer): an elementwise op reading it last may overwrite it.
_ALLOCATES = frozenset({"ttir.conv2d", "ttir.conv_transpose2d", "ttir.linear", "ttir.matmul",
                        "ttir.mean", "ttir.sum", "ttir.concat", "ttnn.concat", "ttir.softmax",
                        "ttir.layer_norm", "ttir.max_pool2d", "ttir.avg_pool2d",
                        "ttir.global_avg_pool2d", "ttir.upsample2d", "ttir.clamp_scalar",
                        *_BINARY, *(f"ttir.{op}" for op in _UNARY)})
# Ops whose result may be their first operand's memory (a view, or the operand itself).
_ALIASES = frozenset({"ttir.reshape", "ttnn.reshape", "ttir.permute", "ttnn.permute",
                      "ttir.transpose", "ttir.slice_static", "ttnn.slice_static"})


# Results that are operand values moved or selected (or produced already rounded): no
# rounding to the result's element type can change them.
_VALUE_PRESERVING = ("ttir.constant", "arith.constant", "ttir.empty", "ttir.permute", "ttir.reshape",
                     "ttir.transpose", "ttir.concat", "ttir.slice_static", "ttir.max_pool2d",
                     "ttnn.depthwise_pool_program", "ttnn.prepare_depthwise_pool_weights",
                     "ttnn.prepare_depthwise_pool_bias", *(f"ttnn.{op}" for op in (
                         "constant", "empty", "zeros", "pad", "slice_static", "concat",
                         "reshape", "permute")))


def _is_bf16(type_) -> bool:
    try:
        return ir.ShapedType(type_).element_type.typeid == ir.BF16Type.static_typeid
    except (ValueError, TypeError):  # not a shaped type
        return False


def _to_bf16(x):
    """`x` rounded to bf16 (nearest even), kept as float32."""
    return x.to(torch.bfloat16).float() if isinstance(x, torch.Tensor) and x.dtype == torch.float32 else x


# Rounding in place converts this many elements at a time: the bf16 copy it goes through
# is 128 KiB, not half the activation (2.3 MiB at MobileNetV2's largest). The conversion is
# per element, so the bits are those of converting the whole tensor at once.
_ROUNDING_CHUNK = 1 << 16


def _round_in_place(y: torch.Tensor) -> torch.Tensor:
    """The float32 tensor `y` rounded to bf16 (nearest even) in its own memory."""
    if not y.is_contiguous():
        return y.copy_(y.to(torch.bfloat16))
    for piece in y.view(-1).split(_ROUNDING_CHUNK):
        piece.copy_(piece.to(torch.bfloat16))
    return y


def _rounded(run: Callable) -> Callable:
    """`run` with its float32 result rounded to bf16, in place when the result's memory is
    its own (no second float32 copy of the activation): a new tensor, or a view of one such
    as a conv's NHWC view of the channels-last NCHW tensor torch returns. Only the ops that
    compute new values are rounded (not `_VALUE_PRESERVING` ones, whose results may be
    constants or views of them); a result sharing an operand's memory is rounded into a
    new tensor."""
    def rounded(xs):
        y = run(xs)
        if not (isinstance(y, torch.Tensor) and y.dtype == torch.float32):
            return y
        if any(isinstance(x, torch.Tensor) and x.untyped_storage().data_ptr()
               == y.untyped_storage().data_ptr() for x in xs):
            return _to_bf16(y)
        return _round_in_place(y)
    return rounded


def _read_only_tensor(array: np.ndarray) -> torch.Tensor:
    """`array` as a tensor sharing its memory, read-only or not (torch has no read-only
    tensors and warns about a read-only array: the caller promises not to write it)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(np.ascontiguousarray(array))


def _drop_destination(op, operands: list) -> list:
    """Without the trailing `ttir.empty` destination operand of older TTIR."""
    if len(operands) > 1:
        owner = operands[-1].owner
        if isinstance(owner, (ir.Operation, ir.OpView)) and owner.operation.name in ("ttir.empty", "tensor.empty"):
            return operands[:-1]
    return operands


@dataclass
class _Step:
    name: str  # op name (ttir.*, ttnn.*)
    where: str  # its name location, else file:line:col
    run: Callable[[list], Any]
    operands: list[int]
    result: int  # slot of the (single) result, -1 for none
    # slots read for the last time here (or a result nobody reads): dropped after the
    # step, so a run holds only the live activations, not every one of the network
    release: tuple[int, ...] = ()
    # the step computed into its operand, when that is safe (`_mark_in_place`), and the
    # slot holding the memory it writes (an override's tensor there is not ours to write)
    in_place: Optional[Callable[[list], Any]] = None
    in_place_root: int = -1


@dataclass
class _Plan:
    args: list[int]
    bf16_args: list[bool]  # arguments the function types bf16: rounded on entry
    steps: list[_Step]
    returns: list[int]
    slots: int


def _mark_releases(steps: list[_Step], returns: list[int]) -> None:
    """Set each step's `release`: the slots it reads last, and its result if unread."""
    last_read: dict[int, int] = {}
    for i, step in enumerate(steps):
        for slot in step.operands:
            last_read[slot] = i
        if step.result >= 0:  # until a later step reads it: unread results go at once
            last_read.setdefault(step.result, i)
    kept = set(returns)
    release: dict[int, list[int]] = {}
    for slot, i in last_read.items():
        if slot not in kept:
            release.setdefault(i, []).append(slot)
    for i, slots in release.items():
        steps[i].release = tuple(slots)


def _mark_in_place(steps: list[_Step], args: list[int], returns: list[int]) -> None:
    """Keep a step's `in_place` form only where overwriting its operand cannot be seen: the
    operand's memory was made by an `_ALLOCATES` op of this function (not an argument, a
    constant or a backend's buffer), and no slot that may share it (the operand, views of
    it, what it is a view of) is read after the step or returned. An activation after a
    conv then needs no second activation-sized tensor (4.6 MiB at MobileNetV2's largest)."""
    root: dict[int, int] = {slot: slot for slot in args}   # slot -> slot whose memory it may be
    owned: set[int] = set()                                 # roots made by an allocating op
    last_read: dict[int, int] = {}
    for i, step in enumerate(steps):
        for slot in step.operands:
            last_read[slot] = i
        if step.result < 0:
            continue
        if step.name in _ALIASES and step.operands:
            root[step.result] = root[step.operands[0]]
        else:
            root[step.result] = step.result
            if step.name in _ALLOCATES:
                owned.add(step.result)
    sharing: dict[int, list[int]] = {}
    for slot, r in root.items():
        sharing.setdefault(r, []).append(slot)
    kept = set(returns)
    for i, step in enumerate(steps):
        if step.in_place is None:
            continue
        r = root[step.operands[0]]
        if r not in owned or any(last_read.get(s, -1) > i or s in kept for s in sharing[r]):
            step.in_place = None
        else:
            step.in_place_root = r


def _in_place_form(op, name: str, rounds: bool) -> Optional[Callable[[list], Any]]:
    """The elementwise op `name` computed into its float32 operand (rounded to bf16 there
    when its result is bf16), or None when it has no such form."""
    if name == "ttir.clamp_scalar":
        lo, hi = _float(op, "min", -np.inf), _float(op, "max", np.inf)

        def fn(t):
            return t.clamp_(lo, hi)
    elif name.startswith("ttir.") and name[5:] in _IN_PLACE:
        fn = _IN_PLACE[name[5:]]
    else:
        return None

    def run(xs):
        x = xs[0]
        fn(x)
        return _round_in_place(x) if rounds else x
    return run


@dataclass
class Executor:
    """Runs the functions of a module (see the module docstring)."""

    module: Any
    backend: str = "reference"
    sim_layers: Optional[int] = None  # with backend "sim": layers on the simulator, the rest reference
    override: Optional[Callable[[str, str, list], Optional[torch.Tensor]]] = None
    trace: Sequence[str] = ()  # op names whose operands and result to keep, by location name
    traced: dict = field(default_factory=dict)  # location name -> (operands, result)
    # observer(op name, location name, operands, result) for each traced op, instead of
    # storing it in `traced`
    observer: Optional[Callable[[str, str, list, Any], None]] = None
    layer_backends: dict = field(default_factory=dict)  # location name -> backend it ran on
    # False: every op keeps its float32 result whatever the IR's element type (an
    # idealised device, to separate the storage rounding from other error sources)
    round_to_element_type: bool = True
    # True: an elementwise op that reads an activation last may compute into it
    # (`_mark_in_place`). False while anything outside the run keeps the tensors it is
    # handed (a trace that stores them): they must stay as they were.
    overwrite_dead_values: bool = True
    _plans: dict = field(default_factory=dict)
    _constants: dict = field(default_factory=dict)
    _resources: Any = None  # the module's dense_resource blobs, read on first use

    # -- planning ------------------------------------------------------------
    def _function(self, name: str):
        for op in self.module.body.operations:
            op = op.operation
            if op.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == name:
                return op
        raise ExecutionError(f"module has no function @{name}")

    def _plan(self, name: str) -> _Plan:
        if name in self._plans:
            return self._plans[name]
        func = self._function(name)
        block = func.regions[0].blocks[0]
        slots: dict = {}

        def slot(value) -> int:
            if value not in slots:
                raise ExecutionError(f"value {value.get_name()} is used before it is defined")
            return slots[value]

        args = []
        for arg in block.arguments:
            slots[arg] = len(slots)
            args.append(slots[arg])
        steps: list[_Step] = []
        returns: list[int] = []
        with self.module.context:
            for op in block.operations:
                op = op.operation
                op_name = op.operation.name
                if op_name in ("func.return", "return"):
                    returns = [slot(v) for v in op.operands]
                    continue
                if len(op.results) > 1:
                    raise ExecutionError(f"{_where(op)}: '{op_name}' has {len(op.results)} results")
                operands = list(op.operands)
                run, used = self._compile_op(op, op_name, operands)
                rounds = bool(self.round_to_element_type and len(op.results)
                              and op_name not in _VALUE_PRESERVING and _is_bf16(op.results[0].type))
                if rounds:
                    run = _rounded(run)
                result = -1
                if len(op.results):
                    slots[op.results[0]] = len(slots)
                    result = slots[op.results[0]]
                in_place = _in_place_form(op, op_name, rounds) if len(used) == 1 else None
                steps.append(_Step(op_name, _where(op), run, [slot(v) for v in used], result,
                                   in_place=in_place))
        _mark_releases(steps, returns)
        _mark_in_place(steps, args, returns)
        bf16_args = [self.round_to_element_type and _is_bf16(a.type) for a in block.arguments]
        plan = _Plan(args, bf16_args, steps, returns, len(slots))
        self._plans[name] = plan
        return plan

    def _constant(self, op) -> torch.Tensor:
        """The constant as float32, or as bf16 (its exact IR values, half the memory) when
        every use is a weight or bias operand of an op that widens them as it runs: the
        dense conv and linear weights, most of a network's constants.

        Values already in the tensor's dtype are not copied: the tensor reads them where
        the module stores them (`elements_to_numpy(copy=False)`), so a network's weights
        are in memory once, not once in the IR and once here. Like every constant of a
        plan (reused by every run), such a tensor is never written."""
        if self._resources is None:
            self._resources = ResourceBlobs(self.module.operation)
        attr = op.attributes["value"]
        if _is_bf16(op.results[0].type) and all(
                use.owner.operation.name in _WIDENS_WEIGHTS and use.operand_number in (1, 2)
                for use in op.results[0].uses):
            bits = elements_to_numpy(attr, self._resources, copy=False).view(np.uint16)
            return _read_only_tensor(bits).view(torch.bfloat16)
        return _read_only_tensor(dense_to_numpy(attr, self._resources, copy=False))

    def _compile_op(self, op, name: str, operands: list) -> tuple[Callable, list]:
        """A closure computing the op's result from its operand tensors, and the operands it reads."""
        if name in ("ttir.constant", "arith.constant", "ttnn.constant"):
            value = self._constant(op)
            return (lambda xs, v=value: v), []
        if name in ("ttir.empty", "ttnn.get_device"):
            return (lambda xs: None), []
        if name in ("ttnn.empty", "ttnn.zeros"):
            # a fresh tensor per call: `ttnn.generic` writes its output operand in place
            shape = list(ir.RankedTensorType(op.results[0].type).shape)
            return (lambda xs: torch.zeros(shape)), []
        if name == "ttnn.generic":
            return self._generic(op), operands
        operands = _drop_destination(op, operands)
        short = name[5:]
        if name in _BINARY:
            fn = _BINARY[name]
            return (lambda xs: fn(xs[0], xs[1])), operands
        if name.startswith("ttir.") and short in _UNARY:
            fn = _activation(short)
            return (lambda xs: fn(xs[0])), operands
        if name == "ttir.clamp_scalar":
            lo, hi = _float(op, "min", -np.inf), _float(op, "max", np.inf)
            return (lambda xs: torch.clamp(xs[0], lo, hi)), operands
        if name in ("ttir.permute", "ttnn.permute"):
            perm = _ints(op.attributes["permutation"])
            return (lambda xs: xs[0].permute(perm).contiguous()), operands
        if name == "ttnn.pad":  # (low, high) per dimension (TTNNOps.td TTNN_PadOp)
            pairs = _ints(op.attributes["padding"])
            value = _float(op, "value", 0.0)
            flat = [p for d in reversed(range(len(pairs) // 2)) for p in pairs[2 * d:2 * d + 2]]
            return (lambda xs: F.pad(xs[0], flat, value=value)), operands
        if name in ("ttir.reshape", "ttnn.reshape"):
            shape = _ints(op.attributes["shape"])
            return (lambda xs: xs[0].reshape(shape)), operands
        if name == "ttir.transpose":
            d0, d1 = _ints(op.attributes["dim0"])[0], _ints(op.attributes["dim1"])[0]
            return (lambda xs: xs[0].transpose(d0, d1).contiguous()), operands
        if name in ("ttir.mean", "ttir.sum"):
            dims = _ints(op.attributes["dim_arg"]) if "dim_arg" in op.attributes else None
            keep = _bool(op, "keep_dim", False)
            fn = torch.mean if name == "ttir.mean" else torch.sum

            def reduce(xs, dims=dims):
                d = dims if dims is not None else list(range(xs[0].dim()))
                return fn(xs[0], dim=d, keepdim=keep)
            return reduce, operands
        if name in ("ttir.linear", "ttir.matmul"):
            ta, tb = _bool(op, "transpose_a", False), _bool(op, "transpose_b", False)

            def matmul(xs):
                a = xs[0].transpose(-1, -2) if ta else xs[0]
                b = xs[1].float()  # a bf16 constant widened (exactly) for this call only
                b = b.transpose(-1, -2) if tb else b
                y = a @ b
                return y + xs[2].float() if len(xs) > 2 else y
            return matmul, operands
        if name in ("ttir.concat", "ttnn.concat"):
            dim = _ints(op.attributes["dim"])[0]
            return (lambda xs: torch.cat(xs, dim)), operands
        if name in ("ttir.slice_static", "ttnn.slice_static"):
            begins, ends = _ints(op.attributes["begins"]), _ints(op.attributes["ends"])
            steps = _ints(op.attributes["step"])
            index = tuple(slice(b, e, s) for b, e, s in zip(begins, ends, steps))
            return (lambda xs: xs[0][index]), operands
        if name == "ttir.softmax":
            dim = _ints(op.attributes["dimension"])[0]
            return (lambda xs: torch.softmax(xs[0], dim)), operands
        if name == "ttir.layer_norm":
            shape = _ints(op.attributes["normalized_shape"])
            eps = _float(op, "epsilon", 1e-5)
            return (lambda xs: F.layer_norm(xs[0], shape, xs[1] if len(xs) > 1 else None,
                                            xs[2] if len(xs) > 2 else None, eps)), operands
        if name == "ttir.conv2d":
            return self._conv2d(op), operands
        if name == "ttir.conv_transpose2d":
            return self._conv_transpose2d(op), operands
        if name in ("ttir.max_pool2d", "ttir.avg_pool2d"):
            return self._pool(op, name), operands
        if name == "ttir.global_avg_pool2d":
            return (lambda xs: xs[0].mean(dim=(1, 2), keepdim=True)), operands
        if name == "ttir.upsample2d":
            sh, sw = _pair(op.attributes["scale_factor"])
            mode = ir.StringAttr(op.attributes["mode"]).value if "mode" in op.attributes else "nearest"

            def upsample(xs):
                x = xs[0].permute(0, 3, 1, 2)
                y = F.interpolate(x, scale_factor=(sh, sw), mode=mode,
                                  **({"align_corners": False} if mode == "bilinear" else {}))
                return y.permute(0, 2, 3, 1).contiguous()
            return upsample, operands
        if name == "ttnn.depthwise_pool_program":
            return self._program(op), operands
        if name in ("ttnn.prepare_depthwise_pool_weights", "ttnn.prepare_depthwise_pool_bias"):
            from .dialect.ttnn import LayoutRecord
            from .layout import prepare_bias, prepare_weights

            layout = LayoutRecord.from_attr(op.attributes["weight_layout"]).layout
            prepare = prepare_weights if name.endswith("weights") else prepare_bias
            return (lambda xs: torch.as_tensor(np.asarray(prepare(xs[0].numpy(), layout)))), operands
        raise ExecutionError(f"{_where(op)}: the executor cannot run '{name}'")

    def _conv2d(self, op) -> Callable:
        from .dialect.ttir import Conv2d

        conv = Conv2d(op)
        (sh, sw), (dh, dw), groups = conv.stride, conv.dilation, conv.groups
        pt, pb, pl, pr = conv.padding  # the view's order
        dims = list(conv.dims)  # (batch, height, width, channel) dims of the input
        back = [dims.index(d) for d in range(4)]

        symmetric = pt == pb and pl == pr
        prepared: dict = {}  # id(weight) -> (weight tensor, its channels-last copy)

        def run(xs):
            # an NHWC tensor seen as NCHW is channels-last in memory: torch's channels-last
            # kernels run on it without a copy, and the result permuted back is NHWC again
            x = xs[0].permute(dims).permute(0, 3, 1, 2)
            w = xs[1]
            if w.dtype == torch.bfloat16:  # a bf16 constant, widened (exactly) for this call only
                w = w.to(torch.float32, memory_format=torch.channels_last)
            else:
                found = prepared.get(id(w))
                if found is None or found[0] is not w:
                    found = prepared[id(w)] = (w, w.contiguous(memory_format=torch.channels_last))
                w = found[1]
            bias = xs[2].reshape(-1).float() if len(xs) > 2 else None
            if symmetric:
                y = F.conv2d(x, w, bias, (sh, sw), (pt, pl), (dh, dw), groups)
            else:
                y = F.conv2d(F.pad(x, (pl, pr, pt, pb)), w, bias, (sh, sw), 0, (dh, dw), groups)
            return y.permute(0, 2, 3, 1).permute(back).contiguous()
        return run

    def _conv_transpose2d(self, op) -> Callable:
        stride, dilation = _pair(op.attributes["stride"]), _pair(op.attributes["dilation"])
        pt, pl, pb, pr = _sides(op.attributes["padding"])
        out_pad = _pair(op.attributes["output_padding"])
        groups = _ints(op.attributes["groups"])[0]

        def run(xs):
            x = xs[0].permute(0, 3, 1, 2)
            y = F.conv_transpose2d(x, xs[1], None, stride, 0, out_pad, groups, dilation)
            # asymmetric padding: compute unpadded, then crop each side
            y = y[:, :, pt:y.shape[2] - pb, pl:y.shape[3] - pr]
            y = y.permute(0, 2, 3, 1)
            if len(xs) > 2:
                y = y + xs[2].reshape(-1)
            return y.contiguous()
        return run

    def _pool(self, op, name: str) -> Callable:
        kernel = _pair(op.attributes["kernel"])
        stride = _pair(op.attributes["stride"]) if "stride" in op.attributes else kernel
        dilation = _pair(op.attributes["dilation"]) if "dilation" in op.attributes else (1, 1)
        pt, pl, pb, pr = _sides(op.attributes["padding"]) if "padding" in op.attributes else (0,) * 4
        ceil = _bool(op, "ceil_mode", False)
        include_pad = _bool(op, "count_include_pad", True)
        is_max = name == "ttir.max_pool2d"

        def run(xs):
            x = xs[0].permute(0, 3, 1, 2)
            if is_max:
                if pt == pb and pl == pr and pt * 2 <= kernel[0] and pl * 2 <= kernel[1]:
                    y = F.max_pool2d(x, kernel, stride, (pt, pl), dilation, ceil)
                else:
                    y = F.max_pool2d(F.pad(x, (pl, pr, pt, pb), value=-float("inf")), kernel,
                                     stride, 0, dilation, ceil)
            else:
                if dilation != (1, 1):
                    raise ExecutionError(f"{_where(op)}: dilated average pooling")
                if pt == pb and pl == pr and pt * 2 <= kernel[0] and pl * 2 <= kernel[1]:
                    y = F.avg_pool2d(x, kernel, stride, (pt, pl), ceil, include_pad)
                elif include_pad:
                    y = F.avg_pool2d(F.pad(x, (pl, pr, pt, pb)), kernel, stride, 0, ceil, True)
                else:
                    ones = F.pad(torch.ones_like(x[:1, :1]), (pl, pr, pt, pb))
                    total = F.avg_pool2d(F.pad(x, (pl, pr, pt, pb)), kernel, stride, 0, ceil, True)
                    y = total / F.avg_pool2d(ones, kernel, stride, 0, ceil, True)
            return y.permute(0, 2, 3, 1).contiguous()
        return run

    def _generic(self, op) -> Callable:
        where = _where(op)

        def run(xs):
            raise ExecutionError(
                f"{where}: 'ttnn.generic' runs kernels this executor does not have (their "
                f"bodies need the TT-Lang compiler); give an `override` that runs them and "
                f"writes the output operand in place")
        return run

    def _program(self, op) -> Callable:
        from .dialect.ttnn import program_of
        from .runtime import execute

        program = program_of(op)
        where = _where(op)

        def run(xs):
            backend = self.backend
            if backend == "sim" and self.sim_layers is not None:
                ran = sum(1 for b in self.layer_backends.values() if b == "sim")
                if ran >= self.sim_layers and where not in self.layer_backends:
                    backend = "reference"
            self.layer_backends[where] = backend
            # the same tensor objects every call: the reference backend keeps the weights it
            # unlays from them (keyed by the prepared tensors)
            bias = xs[2] if len(xs) > 2 else None
            return execute(program, xs[0], xs[1], bias, backend=backend)
        return run

    # -- running --------------------------------------------------------------
    def call(self, name: str, inputs: Sequence[Any]) -> list[torch.Tensor]:
        plan = self._plan(name)
        if len(inputs) != len(plan.args):
            raise ExecutionError(f"@{name} takes {len(plan.args)} arguments, got {len(inputs)}")
        env: list[Any] = [None] * plan.slots
        for index, bf16, value in zip(plan.args, plan.bf16_args, inputs):
            value = torch.as_tensor(np.asarray(value, np.float32)) if not isinstance(
                value, torch.Tensor) else value.float()
            env[index] = _to_bf16(value) if bf16 else value
        trace, override, observer = self.trace, self.override, self.observer
        overwrite = self.overwrite_dead_values and not (trace and observer is None)
        foreign: set[int] = set()  # slots holding an override's tensor: not ours to overwrite
        for step in plan.steps:
            xs = [env[i] for i in step.operands]
            y = None
            if override is not None and step.operands:
                y = override(step.name, step.where, xs)
                if y is not None:
                    foreign.add(step.result)
            if y is None:
                run = step.run
                if (overwrite and step.in_place is not None and step.in_place_root not in foreign
                        and isinstance(xs[0], torch.Tensor) and xs[0].dtype == torch.float32):
                    run = step.in_place
                try:
                    y = run(xs)
                except ExecutionError:
                    raise
                except (RuntimeError, ValueError, IndexError) as problem:
                    raise ExecutionError(f"{step.where}: '{step.name}' failed: {problem}") from None
            if step.result >= 0:
                env[step.result] = y
            if trace and step.name in trace:
                if observer is not None:
                    observer(step.name, step.where, xs, y)
                else:
                    self.traced[step.where] = (xs, y)
            for i in step.release:
                env[i] = None
        return [env[i] for i in plan.returns]


def run_ttir(module, inputs: Sequence[Any], *, parameters: dict | None = None,
             capture: Sequence[str] = (),
             override: Optional[Callable[[str, str, list], Optional[torch.Tensor]]] = None,
             ) -> tuple[list[torch.Tensor], dict]:
    """Run a frontend's TTIRModule (or an in-memory module with a @main) on `inputs`.

    Returns (outputs, captured): `captured[loc] = (operands, result)` for ops named in
    `capture`. `override(op, loc, operands)` may return a tensor to use instead of
    running the op. A TTIRModule with host steps runs them too (see `run_network`).
    """
    from .frontends.ttir_emitter import TTIRModule

    if isinstance(module, TTIRModule):
        parameters = module.parameters if parameters is None else parameters
        executor = Executor(module.module, override=override, trace=tuple(capture))
        outputs = run_network(module, inputs, executor, parameters=parameters)
        return outputs, executor.traced
    executor = Executor(module, override=override, trace=tuple(capture))
    feeds = list(inputs) + [np.asarray(p, np.float32) for p in (parameters or {}).values()]
    return executor.call("main", feeds), executor.traced


def run_network(network, inputs: Sequence[Any], executor: Executor, *,
                parameters: dict | None = None) -> list:
    """Run a TTIRModule's steps: TTIR calls on `executor`, host steps on the host."""
    from .frontends.ttir_emitter import HostStep

    env: dict[str, Any] = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
                           for k, v in network.constants.items()}
    for name, value in zip(network.input_names, inputs):
        env[name] = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    extra = [np.asarray(p, np.float32) for p in (parameters or {}).values()]
    for step in network.steps:
        args = [env[n] for n in step.inputs]
        if isinstance(step, HostStep):
            results = step.run(args)
        else:
            results = executor.call(step.function, args + (extra if step.function == "main" else []))
        for name, value in zip(step.outputs, results):
            env[name] = value
    return [env[n] for n in network.output_names]
