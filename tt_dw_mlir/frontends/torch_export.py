"""PyTorch -> TTIR through `torch.export` (ATen graph, inference mode).

Batch norm that directly follows a conv (its only user) is folded into that
conv; any other batch norm becomes a per-channel multiply + add. Every op is
located at the torch module it came from (`loc("features.1.conv.0.0")`); an op
written inline in a container's `forward` gets `<module path>/<node name>`.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np
import torch

from .ttir_emitter import (TTIRBuilder, TTIRModule, UnsupportedOpError, Value,
                           batch_norm_affine, fold_batch_norm)

aten = torch.ops.aten

_IDENTITY = {aten.dropout.default, aten.alias.default, aten.clone.default,
             aten.contiguous.default, aten.detach.default, aten.feature_dropout.default}
_BATCH_NORM = {aten.batch_norm.default, aten._native_batch_norm_legit_no_training.default}
_UNARY = {aten.relu.default: "relu", aten.relu_.default: "relu",
          aten.sigmoid.default: "sigmoid", aten.sigmoid_.default: "sigmoid",
          aten.silu.default: "silu", aten.silu_.default: "silu",
          aten.hardsigmoid.default: "hardsigmoid", aten.hardsigmoid_.default: "hardsigmoid"}


def _name(target: Any) -> str:
    return str(target)


def _unsupported_reason(node: torch.fx.Node) -> str | None:
    """None if `node` can be lowered, else why not (checked before emitting anything)."""
    t, args, kw = node.target, node.args, node.kwargs
    if t in (aten.conv2d.default,):
        return None
    if t is aten.convolution.default:
        transposed = args[6] if len(args) > 6 else kw.get("transposed", False)
        w = args[1].meta.get("val") if isinstance(args[1], torch.fx.Node) else None
        if transposed:
            return "transposed convolution"
        if w is not None and w.dim() != 4:
            return f"{w.dim() - 2}-D convolution"
        return None
    if t is aten.gelu.default:
        approx = kw.get("approximate", args[1] if len(args) > 1 else "none")
        return None if approx == "none" else f"gelu approximate='{approx}'"
    if t in (aten.adaptive_avg_pool2d.default, aten._adaptive_avg_pool2d.default):
        return None if list(args[1]) == [1, 1] else f"output size {list(args[1])} (only 1x1)"
    if t in (aten.add.Tensor, aten.add_.Tensor, aten.sub.Tensor):
        alpha = kw.get("alpha", 1)
        return None if t is not aten.sub.Tensor and alpha == 1 else "alpha != 1 / subtract"
    known = (_IDENTITY | _BATCH_NORM | set(_UNARY) |
             {aten.hardtanh.default, aten.hardtanh_.default, aten.relu6.default,
              aten.clamp.default, aten.hardswish.default, aten.hardswish_.default,
              aten.mul.Tensor, aten.mul_.Tensor, aten.mul.Scalar, aten.add.Scalar,
              aten.mean.dim, aten.linear.default, aten.flatten.using_ints,
              aten.view.default, aten.reshape.default, aten._unsafe_view.default,
              aten.matmul.default, aten.mm.default, operator.getitem})
    return None if t in known else ""


def _module_path(node: torch.fx.Node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    return list(stack.values())[-1][0] if stack else ""


def _loc_namer(graph: torch.fx.Graph) -> Callable[[torch.fx.Node], tuple[str, str]]:
    # a leaf is a module path no other op's path lies under
    paths = {_module_path(n) for n in graph.nodes if n.op == "call_function"}
    parents = {p.rsplit(".", i)[0] for p in paths for i in range(1, p.count(".") + 1)}
    leaves = {p for p in paths if p and p not in parents}

    def name(node: torch.fx.Node) -> tuple[str, str]:
        path = _module_path(node)
        if path in leaves:
            return path, path
        return (f"{path}/{node.name}" if path else node.name), path

    return name


def torch_to_ttir(module: torch.nn.Module | torch.export.ExportedProgram, example_inputs: tuple,
                  *, dtype: str = "bf16", weights: str = "constants") -> TTIRModule:
    """Export `module` (in eval mode) with torch.export and emit TTIR text.

    An already exported program (of a module in eval mode) is used as it is.

    `weights="constants"` writes every weight as a `ttir.constant`;
    `"arguments"` makes them `#ttcore.argument_type<parameter>` function arguments.
    Raises UnsupportedOpError naming every op that cannot be mapped.
    """
    if isinstance(module, torch.export.ExportedProgram):
        program = module
    else:
        module = module.eval()
        with torch.no_grad():
            program = torch.export.export(module, tuple(example_inputs))
    graph = program.graph
    sig = program.graph_signature
    state = {**program.state_dict, **program.constants}
    lifted = {**sig.inputs_to_parameters, **sig.inputs_to_buffers,
              **sig.inputs_to_lifted_tensor_constants}
    user_inputs = list(sig.user_inputs)

    problems = []
    for node in graph.nodes:
        if node.op == "call_function":
            reason = _unsupported_reason(node)
            if reason is not None:
                problems.append((_name(node.target), node.name, reason))
    if problems:
        raise UnsupportedOpError(problems)

    namer = _loc_namer(graph)
    b = TTIRBuilder(dtype=dtype, weights=weights)
    env: dict[str, Any] = {}  # node name -> Value | np.ndarray | python scalar

    def const(node_or_value: Any) -> Any:
        if isinstance(node_or_value, torch.fx.Node):
            return env[node_or_value.name]
        return node_or_value

    def array(node: Any) -> np.ndarray | None:
        if node is None:
            return None
        v = const(node)
        if isinstance(v, Value):
            raise UnsupportedOpError([("weight", str(node), "a computed (non-constant) weight")])
        return np.asarray(v, dtype=np.float32)

    inputs = iter(example_inputs)
    users = {n.name: list(n.users) for n in graph.nodes}
    folded: dict[str, str] = {}  # batch-norm node -> conv node it was folded into

    for node in graph.nodes:
        if node.op == "placeholder":
            if node.name in lifted:
                env[node.name] = state[lifted[node.name]].detach().float().numpy()
            elif node.name in user_inputs:
                example = next(inputs)
                env[node.name] = b.add_input(tuple(example.shape), node.name)
            continue
        if node.op == "output":
            outs = node.args[0]
            outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
            values = [env[o.name] for o in outs]
            return b.finish(values, "output")
        if node.op != "call_function":
            continue
        t, args, kw = node.target, node.args, node.kwargs
        loc, path = namer(node)

        if t is operator.getitem:
            src = env[args[0].name]
            env[node.name] = src[args[1]] if isinstance(src, (tuple, list)) else src
        elif t in _IDENTITY:
            env[node.name] = const(args[0])
        elif t in (aten.conv2d.default, aten.convolution.default):
            x = const(args[0])
            w, bias = array(args[1]), array(args[2] if len(args) > 2 else kw.get("bias"))

            def arg(i: int, key: str, default: Any) -> Any:
                return args[i] if len(args) > i else kw.get(key, default)

            stride = _pair(arg(3, "stride", 1))
            if isinstance(arg(4, "padding", 0), str):
                raise UnsupportedOpError([(_name(t), node.name, "string padding")])
            pad = _pair(arg(4, "padding", 0))
            dilation = _pair(arg(5, "dilation", 1))
            groups = int(arg(8 if t is aten.convolution.default else 6, "groups", 1))
            bn_folded = False
            conv_users = users[node.name]
            if len(conv_users) == 1 and conv_users[0].target in _BATCH_NORM:
                bn = conv_users[0]
                gamma, beta, mean, var = (array(a) for a in bn.args[1:5])
                eps = float(bn.args[7] if bn.target is aten.batch_norm.default else bn.args[6])
                c = w.shape[0]
                gamma = np.ones(c, np.float32) if gamma is None else gamma
                beta = np.zeros(c, np.float32) if beta is None else beta
                w, bias = fold_batch_norm(w, bias, gamma, beta, mean, var, eps)
                bn_folded = True
                folded[bn.name] = node.name
            env[node.name] = b.conv2d(
                x, w, bias, stride=stride, padding=(pad[0], pad[1], pad[0], pad[1]),
                dilation=dilation, groups=groups, loc=loc, source=path or loc, module_path=path,
                bn_folded=bn_folded)
        elif t in _BATCH_NORM:
            if node.name in folded:
                out = env[folded[node.name]]
            else:
                x = const(args[0])
                gamma, beta, mean, var = (array(a) for a in args[1:5])
                eps = float(args[7] if t is aten.batch_norm.default else args[6])
                c = mean.shape[0]
                gamma = np.ones(c, np.float32) if gamma is None else gamma
                beta = np.zeros(c, np.float32) if beta is None else beta
                scale, shift = batch_norm_affine(gamma, beta, mean, var, eps)
                out = b.affine(x, scale, shift, loc)
            # the legit_no_training variant returns (out, mean, invstd)
            env[node.name] = (out, None, None) if t is not aten.batch_norm.default else out
        elif t in _UNARY:
            env[node.name] = b.unary(_UNARY[t], const(args[0]), loc)
        elif t in (aten.hardtanh.default, aten.hardtanh_.default, aten.clamp.default):
            lo_default, hi_default = (-1.0, 1.0) if t is not aten.clamp.default else (None, None)
            lo = args[1] if len(args) > 1 else kw.get("min_val", kw.get("min", lo_default))
            hi = args[2] if len(args) > 2 else kw.get("max_val", kw.get("max", hi_default))
            env[node.name] = b.clamp(const(args[0]), lo, hi, loc)
        elif t is aten.relu6.default:
            env[node.name] = b.unary("relu6", const(args[0]), loc)
        elif t in (aten.hardswish.default, aten.hardswish_.default):
            env[node.name] = b.hardswish(const(args[0]), loc)
        elif t is aten.gelu.default:
            env[node.name] = b.unary("gelu", const(args[0]), loc)
        elif t in (aten.add.Tensor, aten.add_.Tensor, aten.add.Scalar):
            env[node.name] = b.binary("add", const(args[0]), const(args[1]), loc)
        elif t in (aten.mul.Tensor, aten.mul_.Tensor, aten.mul.Scalar):
            env[node.name] = b.binary("multiply", const(args[0]), const(args[1]), loc)
        elif t is aten.mean.dim:
            dims = args[1] if len(args) > 1 else kw.get("dim")
            keepdim = args[2] if len(args) > 2 else kw.get("keepdim", False)
            x = const(args[0])
            dims = list(range(x.rank)) if dims is None else list(dims)
            env[node.name] = b.mean(x, dims, bool(keepdim), loc)
        elif t in (aten.adaptive_avg_pool2d.default, aten._adaptive_avg_pool2d.default):
            env[node.name] = b.mean(const(args[0]), [2, 3], True, loc)
        elif t is aten.linear.default:
            bias = args[2] if len(args) > 2 else kw.get("bias")
            env[node.name] = b.linear(const(args[0]), array(args[1]), array(bias), loc)
        elif t is aten.flatten.using_ints:
            start = args[1] if len(args) > 1 else kw.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kw.get("end_dim", -1)
            env[node.name] = b.flatten(const(args[0]), start, end, loc)
        elif t in (aten.view.default, aten.reshape.default, aten._unsafe_view.default):
            env[node.name] = b.reshape(const(args[0]), list(args[1]), loc)
        elif t in (aten.matmul.default, aten.mm.default):
            env[node.name] = b.matmul(const(args[0]), const(args[1]), loc)
        else:  # _unsupported_reason let it through but nothing handles it
            raise UnsupportedOpError([(_name(t), node.name, "no lowering")])
    raise RuntimeError("exported graph has no output")


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (list, tuple)):
        if len(v) not in (1, 2):
            raise ValueError(f"expected 1 or 2 values, got {v}")
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))


__all__ = ["torch_to_ttir", "UnsupportedOpError", "TTIRModule"]
