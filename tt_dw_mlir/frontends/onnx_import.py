"""ONNX -> TTIR.

Initializers (and `Constant` nodes) become constant weights; a
BatchNormalization whose input is a Conv's only output is folded into it;
Sigmoid + Mul on the same tensor is emitted as one `ttir.silu`. Small shape
computations on constants (Shape, Gather, Unsqueeze, Concat, Cast) are folded
so `x.view(x.size(0), -1)` style exports import. Every op is located at the
ONNX node it came from (`loc("<node name>")`).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from .ttir_emitter import (TTIRBuilder, TTIRModule, UnsupportedOpError, Value,
                           batch_norm_affine, fold_batch_norm)

SUPPORTED = {
    "Conv", "BatchNormalization", "Relu", "Clip", "Sigmoid", "HardSwish", "HardSigmoid",
    "Add", "Mul", "GlobalAveragePool", "ReduceMean", "Gemm", "MatMul", "Flatten",
    "Reshape", "Dropout", "Identity", "Constant", "Shape", "Gather", "Unsqueeze",
    "Concat", "Cast",
}


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _node_name(node: onnx.NodeProto, index: int) -> str:
    return node.name or f"{node.op_type}_{index}"


def module_path_of(node: onnx.NodeProto) -> str:
    """The torch module an exported node came from, where the exporter recorded it.

    torch.onnx's dynamo exporter stores `pkg.torch.onnx.name_scopes` (module
    paths, then the FX node); the TorchScript exporter scopes node names as
    `/features/features.1/conv/conv.0/conv.0.0/Conv`. Empty when neither.
    A conv the exporter fused with its batch norm carries the norm's scope.
    """
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            scopes = [s.strip(" '\"") for s in prop.value.strip("[]").split(",")]
            return scopes[-2] if len(scopes) >= 2 else ""
    parts = node.name.strip("/").split("/")[:-1]
    if not node.name.startswith("/") or not parts:
        return ""
    path: list[str] = []
    for part in parts:  # each part refines the previous one ("conv" -> "conv.0") or adds a child
        if path and part.startswith(path[-1] + "."):
            path[-1] = part
        else:
            path.append(part)
    return ".".join(path)


def _static_reason(node: onnx.NodeProto) -> str | None:
    """Why a node cannot be imported, from its op type and attributes alone."""
    if node.op_type not in SUPPORTED:
        return ""
    a = _attrs(node)
    if node.op_type == "Conv":
        kernel = a.get("kernel_shape")
        if kernel is not None and len(kernel) != 2:
            return f"{len(kernel)}-D convolution"
    if node.op_type == "Gemm" and a.get("transA", 0):
        return "transA=1"
    if node.op_type == "BatchNormalization" and len(node.output) > 1:
        return "training-mode outputs"
    return None


def _conv_padding(attrs: dict[str, Any], in_hw: tuple[int, int], kernel: tuple[int, int],
                  stride: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, ...]:
    """ONNX pads [x1_begin, x2_begin, x1_end, x2_end] = [pT, pL, pB, pR], TTIR's order."""
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    if auto_pad in ("NOTSET", ""):
        pads = list(attrs.get("pads", [0, 0, 0, 0]))
        return tuple(int(p) for p in pads)
    if auto_pad == "VALID":
        return (0, 0, 0, 0)
    begins, ends = [], []
    for size, k, s, d in zip(in_hw, kernel, stride, dilation):
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        lo = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        begins.append(lo)
        ends.append(total - lo)
    return (begins[0], begins[1], ends[0], ends[1])


def onnx_to_ttir(path_or_model: str | os.PathLike | onnx.ModelProto, *, dtype: str = "bf16",
                 weights: str = "constants",
                 input_shapes: dict[str, tuple[int, ...]] | None = None) -> TTIRModule:
    """Import an ONNX model (path or ModelProto) and emit TTIR text.

    Raises UnsupportedOpError naming every op type (and node) it cannot map.
    Inputs with symbolic dimensions need `input_shapes`.
    """
    model = (path_or_model if isinstance(path_or_model, onnx.ModelProto)
             else onnx.load(os.fspath(path_or_model)))
    graph = model.graph
    nodes = list(graph.node)

    problems = []
    for i, node in enumerate(nodes):
        reason = _static_reason(node)
        if reason is not None:
            problems.append((node.op_type, _node_name(node, i), reason))
    if problems:
        raise UnsupportedOpError(problems)

    b = TTIRBuilder(dtype=dtype, weights=weights)
    env: dict[str, Any] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for inp in graph.input:
        if inp.name in env:
            continue
        if input_shapes and inp.name in input_shapes:
            shape = tuple(input_shapes[inp.name])
        else:
            dims = inp.type.tensor_type.shape.dim
            if any(not d.HasField("dim_value") for d in dims):
                raise ValueError(f"input '{inp.name}' has a symbolic shape: pass input_shapes")
            shape = tuple(d.dim_value for d in dims)
        env[inp.name] = b.add_input(shape, inp.name)

    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in nodes:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = {o.name for o in graph.output}

    def single_consumer(tensor: str) -> onnx.NodeProto | None:
        users = consumers.get(tensor, [])
        return users[0] if len(users) == 1 and tensor not in graph_outputs else None

    skipped: set[int] = set()  # id() of nodes folded into another
    silu_of: dict[int, str] = {}  # id(Mul) -> the tensor it applies silu to

    def get(name: str) -> Any:
        return env[name] if name else None

    def constant(name: str, node_name: str) -> np.ndarray | None:
        if not name:
            return None
        v = env[name]
        if isinstance(v, Value):
            raise UnsupportedOpError([("non-constant operand", node_name,
                                       f"'{name}' must be an initializer or a constant")])
        return np.asarray(v)

    for i, node in enumerate(nodes):
        if id(node) in skipped:
            continue
        op, a, loc = node.op_type, _attrs(node), _node_name(node, i)
        ins, out = list(node.input), node.output[0]
        x = get(ins[0]) if ins else None

        if op in ("Identity", "Dropout"):
            env[out] = x
        elif op == "Constant":
            if "value" in a:
                env[out] = numpy_helper.to_array(a["value"])
            else:
                key = next(k for k in ("value_float", "value_floats", "value_int", "value_ints")
                           if k in a)
                env[out] = np.asarray(a[key])
        elif op == "Shape":
            env[out] = np.asarray(x.logical_shape if isinstance(x, Value) else np.shape(x), np.int64)
        elif op in ("Gather", "Unsqueeze", "Concat", "Cast") and all(
                not isinstance(get(n), Value) for n in ins if n):
            env[out] = _fold_constant(op, a, [get(n) for n in ins])
        elif op in ("Gather", "Unsqueeze", "Concat", "Cast"):
            raise UnsupportedOpError([(op, loc, "only on constants (shape computations)")])
        elif op == "Conv":
            w = constant(ins[1], loc).astype(np.float32)
            bias = constant(ins[2], loc) if len(ins) > 2 else None
            kernel = tuple(int(k) for k in w.shape[2:])
            if len(kernel) != 2:
                raise UnsupportedOpError([(op, loc, f"{len(kernel)}-D convolution")])
            stride = tuple(a.get("strides", (1, 1)))
            dilation = tuple(a.get("dilations", (1, 1)))
            in_hw = tuple(x.logical_shape[2:])
            pads = _conv_padding(a, in_hw, kernel, stride, dilation)
            bn_folded = False
            bn = single_consumer(out)
            if bn is not None and bn.op_type == "BatchNormalization" and len(bn.output) == 1:
                bn_loc = bn.name or "BatchNormalization"
                gamma, beta, mean, var = (constant(n, bn_loc).astype(np.float32)
                                          for n in bn.input[1:5])
                eps = float(_attrs(bn).get("epsilon", 1e-5))
                w, bias = fold_batch_norm(w, bias, gamma, beta, mean, var, eps)
                bn_folded = True
                skipped.add(id(bn))
                out = bn.output[0]
            env[out] = b.conv2d(x, w, bias, stride=stride, padding=pads, dilation=dilation,
                                groups=int(a.get("group", 1)), loc=loc, source=loc,
                                module_path=module_path_of(node),
                                bn_folded=bn_folded)
        elif op == "BatchNormalization":
            gamma, beta, mean, var = (constant(n, loc).astype(np.float32) for n in ins[1:5])
            scale, shift = batch_norm_affine(gamma, beta, mean, var,
                                             float(a.get("epsilon", 1e-5)))
            env[out] = b.affine(x, scale, shift, loc)
        elif op == "Relu":
            env[out] = b.unary("relu", x, loc)
        elif op == "Clip":
            if len(ins) > 1:  # opset >= 11: min / max are optional inputs
                lo = constant(ins[1], loc) if len(ins) > 1 and ins[1] else None
                hi = constant(ins[2], loc) if len(ins) > 2 and ins[2] else None
            else:
                lo, hi = a.get("min"), a.get("max")
            env[out] = b.clamp(x, None if lo is None else float(lo),
                               None if hi is None else float(hi), loc)
        elif op == "Sigmoid":
            mul = single_consumer(out)
            if mul is not None and mul.op_type == "Mul" and sorted(mul.input) == sorted([ins[0], out]):
                silu_of[id(mul)] = ins[0]  # x * sigmoid(x)
            else:
                env[out] = b.unary("sigmoid", x, loc)
        elif op == "HardSwish":
            env[out] = b.hardswish(x, loc)
        elif op == "HardSigmoid":
            alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
            if abs(alpha - 1 / 6) < 1e-6 and abs(beta - 0.5) < 1e-6:
                env[out] = b.unary("hardsigmoid", x, loc)
            else:  # max(0, min(1, alpha * x + beta))
                y = b.binary("add", b.binary("multiply", x, np.float32(alpha), loc),
                             np.float32(beta), loc)
                env[out] = b.clamp(y, 0.0, 1.0, loc)
        elif op in ("Add", "Mul"):
            if id(node) in silu_of:
                env[out] = b.unary("silu", get(silu_of[id(node)]), loc)
                continue
            lhs, rhs = get(ins[0]), get(ins[1])
            if not isinstance(lhs, Value) and not isinstance(rhs, Value):
                env[out] = lhs + rhs if op == "Add" else lhs * rhs
            else:
                env[out] = b.binary("add" if op == "Add" else "multiply", lhs, rhs, loc)
        elif op == "GlobalAveragePool":
            env[out] = b.mean(x, [2, 3], True, loc)
        elif op == "ReduceMean":
            axes = a.get("axes")
            if axes is None and len(ins) > 1 and ins[1]:  # opset >= 18: axes input
                axes = constant(ins[1], loc).tolist()
            keep = bool(a.get("keepdims", 1))
            if axes is None or len(axes) == 0:
                if a.get("noop_with_empty_axes", 0):
                    env[out] = x
                    continue
                axes = list(range(x.rank))
            env[out] = b.mean(x, [int(d) for d in axes], keep, loc)
        elif op == "Gemm":
            alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
            rhs = get(ins[1])
            bias = constant(ins[2], loc) if len(ins) > 2 and ins[2] else None
            if isinstance(rhs, Value):
                if a.get("transB", 0) or alpha != 1.0:
                    raise UnsupportedOpError([(op, loc, "non-constant B with transB/alpha")])
                y = b.matmul(x, rhs, loc)
                env[out] = y if bias is None else b.binary("add", y, beta * bias, loc)
            else:
                weight = np.asarray(rhs, np.float32)
                weight = weight if a.get("transB", 0) else weight.T  # -> [out, in]
                if bias is not None:
                    bias = np.broadcast_to(beta * bias.astype(np.float32), (weight.shape[0],))
                env[out] = b.linear(x, alpha * weight, bias, loc)
        elif op == "MatMul":
            env[out] = b.matmul(x, get(ins[1]), loc)
        elif op == "Flatten":
            axis = int(a.get("axis", 1))
            shape = x.logical_shape if isinstance(x, Value) else np.shape(x)
            axis %= max(len(shape), 1)
            new = (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
            env[out] = b.reshape(x, new, loc) if isinstance(x, Value) else np.reshape(x, new)
        elif op == "Reshape":
            target = [int(d) for d in constant(ins[1], loc).tolist()]
            shape = x.logical_shape if isinstance(x, Value) else np.shape(x)
            if not a.get("allowzero", 0):
                target = [shape[j] if d == 0 else d for j, d in enumerate(target)]
            env[out] = b.reshape(x, target, loc) if isinstance(x, Value) else np.reshape(x, target)
        else:  # listed in SUPPORTED but not handled above
            raise UnsupportedOpError([(op, loc, "no lowering")])

    outputs = []
    for o in graph.output:
        v = env[o.name]
        if not isinstance(v, Value):
            raise UnsupportedOpError([("constant output", o.name, "graph output is a constant")])
        outputs.append(v)
    return b.finish(outputs, "output")


def _fold_constant(op: str, attrs: dict[str, Any], ins: list[Any]) -> np.ndarray:
    if op == "Gather":
        return np.take(np.asarray(ins[0]), np.asarray(ins[1]), axis=int(attrs.get("axis", 0)))
    if op == "Unsqueeze":
        axes = attrs.get("axes")
        axes = list(np.asarray(ins[1]).tolist()) if axes is None else list(axes)
        data = np.asarray(ins[0])
        for ax in sorted(d % (data.ndim + len(axes)) for d in axes):
            data = np.expand_dims(data, ax)
        return data
    if op == "Concat":
        return np.concatenate([np.atleast_1d(np.asarray(v)) for v in ins],
                              axis=int(attrs.get("axis", 0)))
    if op == "Cast":
        to = onnx.helper.tensor_dtype_to_np_dtype(int(attrs["to"]))
        return np.asarray(ins[0]).astype(to)
    raise ValueError(op)


__all__ = ["onnx_to_ttir", "UnsupportedOpError", "TTIRModule", "SUPPORTED"]
