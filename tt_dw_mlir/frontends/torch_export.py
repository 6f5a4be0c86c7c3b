"""PyTorch -> TTIR through `torch.export` (ATen graph, inference mode).

Batch norm that directly follows a conv (its only user) is folded into that
conv; any other batch norm becomes a per-channel multiply + add. Dropout and
identity ops vanish. Every op is located at the torch module it came from
(`loc("features.1.conv.0.0")`); an op written inline in a container's
`forward` gets `<module path>/<node name>`.

An op with no TTIR mapping does not reject the model: the graph is cut there.
The runs of mappable nodes become TTIR functions (`region0`, `region1`, ...,
or `main` when nothing is cut) that go through the passes; the node in between
runs on the host as the FX node itself (`HostStep`), on the values the regions
return. `host_fallback=False` raises UnsupportedOpError naming every such op.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np
import torch

from .ttir_emitter import (HostStep, TooLargeError, TTIRBuilder, TTIRCall, TTIRModule,
                           UnsupportedOpError, Value, batch_norm_affine, fold_batch_norm)

aten = torch.ops.aten

_IDENTITY = {aten.dropout.default, aten.dropout_.default, aten.alias.default, aten.clone.default,
             aten.contiguous.default, aten.detach.default, aten.feature_dropout.default,
             aten.feature_dropout_.default, aten.alpha_dropout.default, aten.lift_fresh_copy.default}
_BATCH_NORM = {aten.batch_norm.default, aten._native_batch_norm_legit_no_training.default}
_UNARY = {aten.relu.default: "relu", aten.relu_.default: "relu",
          aten.sigmoid.default: "sigmoid", aten.sigmoid_.default: "sigmoid",
          aten.silu.default: "silu", aten.silu_.default: "silu",
          aten.hardsigmoid.default: "hardsigmoid", aten.hardsigmoid_.default: "hardsigmoid",
          aten.tanh.default: "tanh", aten.exp.default: "exp", aten.neg.default: "neg",
          aten.abs.default: "abs", aten.sqrt.default: "sqrt", aten.rsqrt.default: "rsqrt",
          aten.erf.default: "erf", aten.relu6.default: "relu6"}
_BINARY = {aten.add.Tensor: "add", aten.add_.Tensor: "add", aten.add.Scalar: "add",
           aten.sub.Tensor: "subtract", aten.sub.Scalar: "subtract",
           aten.mul.Tensor: "multiply", aten.mul_.Tensor: "multiply", aten.mul.Scalar: "multiply",
           aten.div.Tensor: "div", aten.div.Scalar: "div",
           aten.pow.Tensor_Scalar: "pow", aten.pow.Tensor_Tensor: "pow",
           aten.maximum.default: "maximum", aten.minimum.default: "minimum"}
_RESHAPE = {aten.view.default, aten.reshape.default, aten._unsafe_view.default}
_CONV = {aten.conv2d.default, aten.convolution.default}


def _name(target: Any) -> str:
    return str(target)


def _arg(node: torch.fx.Node, i: int, key: str, default: Any = None) -> Any:
    return node.args[i] if len(node.args) > i else node.kwargs.get(key, default)


def _unsupported_reason(node: torch.fx.Node) -> str | None:
    """None if `node` can be lowered, else why not (checked before building anything)."""
    t, args = node.target, node.args
    if t is aten.convolution.default:
        w = args[1].meta.get("val") if isinstance(args[1], torch.fx.Node) else None
        if w is not None and w.dim() != 4:
            return f"{w.dim() - 2}-D convolution"
        return None
    if t is aten.conv_transpose2d.input:
        return None
    if t is aten.gelu.default:
        approx = _arg(node, 1, "approximate", "none")
        return None if approx == "none" else f"gelu approximate='{approx}'"
    if t in (aten.adaptive_avg_pool2d.default, aten._adaptive_avg_pool2d.default):
        x = args[0].meta.get("val")
        size = list(args[1])
        if list(size) == [1, 1]:
            return None
        if x is None or any(s in (None, 0) or x.shape[2 + i] % s for i, s in enumerate(size)):
            return f"output size {size} does not divide the input"
        return None
    if t in (aten.add.Tensor, aten.add_.Tensor, aten.sub.Tensor):
        return None if node.kwargs.get("alpha", 1) == 1 else "alpha != 1"
    if t in (aten.div.Tensor, aten.div.Scalar):
        return None if node.kwargs.get("rounding_mode") is None else "rounding division"
    if t in (aten.upsample_nearest2d.vec, aten.upsample_bilinear2d.vec,
             aten.upsample_nearest2d.default, aten.upsample_bilinear2d.default):
        x, y = args[0].meta.get("val"), node.meta.get("val")
        if t in (aten.upsample_bilinear2d.vec, aten.upsample_bilinear2d.default) and _arg(
                node, 2, "align_corners", False):
            return "align_corners=True"
        if x is None or y is None or y.shape[2] % x.shape[2] or y.shape[3] % x.shape[3]:
            return "non-integer scale"
        return None
    if t in (aten.max_pool2d.default, aten.max_pool2d_with_indices.default, aten.avg_pool2d.default):
        if t is aten.avg_pool2d.default and _arg(node, 6, "divisor_override") is not None:
            return "divisor_override"
        return None
    if t in (aten.softmax.int, aten._softmax.default):
        return None
    known = (_IDENTITY | _BATCH_NORM | set(_UNARY) | set(_BINARY) | _RESHAPE | _CONV |
             {aten.hardtanh.default, aten.hardtanh_.default, aten.clamp.default,
              aten.hardswish.default, aten.hardswish_.default, aten.mean.dim, aten.mean.default,
              aten.sum.dim_IntList, aten.linear.default, aten.flatten.using_ints,
              aten.matmul.default, aten.mm.default, aten.bmm.default, aten.addmm.default,
              aten.cat.default, aten.concat.default, aten.split.Tensor, aten.chunk.default,
              aten.split_with_sizes.default, aten.slice.Tensor, aten.narrow.default,
              aten.select.int, aten.squeeze.dim, aten.squeeze.dims, aten.squeeze.default,
              aten.unsqueeze.default, aten.permute.default, aten.transpose.int, aten.t.default,
              aten.layer_norm.default, aten.native_layer_norm.default, operator.getitem})
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


def _float_tensor(node: Any) -> bool:
    val = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    return isinstance(val, torch.Tensor) and val.dtype.is_floating_point


def torch_to_ttir(module: torch.nn.Module | torch.export.ExportedProgram, example_inputs: tuple,
                  *, dtype: str = "bf16", weights: str = "constants",
                  host_fallback: bool = True) -> TTIRModule:
    """Export `module` (put in eval mode: pass a copy to keep yours) and build TTIR.

    An already exported program (of a module in eval mode) is used as it is.
    `weights="constants"` makes every weight a `ttir.constant`; `"arguments"` makes
    them `#ttcore.argument_type<parameter>` function arguments (whole-TTIR models only).
    Ops with no TTIR mapping run on the host (see the module docstring), or raise
    UnsupportedOpError naming every one of them with `host_fallback=False`.
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

    problems = [(_name(n.target), n.name, reason) for n in graph.nodes if n.op == "call_function"
                for reason in [_unsupported_reason(n)] if reason is not None]
    if problems and (not host_fallback or weights == "arguments"):
        raise UnsupportedOpError(problems)
    unsupported = {name for _, name, _ in problems}
    lowering = _Lowering(program, graph, state, lifted, user_inputs, list(example_inputs), dtype,
                         weights, unsupported, problems)
    lowering.out_spec = program.call_spec.out_spec  # the model's own output structure
    return lowering.run()


class _Lowering:
    """Walks the exported graph once, building regions of TTIR and host steps between them."""

    def __init__(self, program, graph, state, lifted, user_inputs, example_inputs, dtype, weights,
                 unsupported, problems):
        self.graph = graph
        self.state, self.lifted = state, lifted
        self.user_inputs, self.example_inputs = user_inputs, example_inputs
        self.unsupported = unsupported
        self.reasons = {name: reason for _, name, reason in problems}
        self.b = TTIRBuilder(dtype=dtype, weights=weights)
        self.namer = _loc_namer(graph)
        self.users = {n.name: list(n.users) for n in graph.nodes}
        self.consts: dict[str, Any] = {}   # node -> np.ndarray | python value (known when building)
        self.region: dict[str, Any] = {}   # node -> Value (or a tuple of them) in the open region
        self.region_nodes: list[torch.fx.Node] = []
        self.region_inputs: list[str] = []
        self.on_host: set[str] = set()     # nodes whose value is a named run-time value
        self.host_constants: dict[str, Any] = {}
        self.steps: list = []
        self.regions = 0
        self.open = True  # the builder starts with an open function ("main" until a cut)
        self.folded: dict[str, str] = {}  # batch-norm node -> conv node it was folded into

    # -- values -----------------------------------------------------------------
    def value(self, arg: Any) -> Any:
        """What an op argument is while building: a Value of this region, a constant, a literal."""
        if not isinstance(arg, torch.fx.Node):
            if isinstance(arg, (list, tuple)):
                return type(arg)(self.value(a) for a in arg)
            return arg
        name = arg.name
        if name in self.region:
            return self.region[name]
        if name in self.consts:
            return self.consts[name]
        if name in self.on_host and _float_tensor(arg):
            self._ensure_open()
            shape = tuple(int(d) for d in arg.meta["val"].shape)
            value = self.b.add_input(shape, name)
            self.region[name] = value
            self.region_inputs.append(name)
            return value
        raise _Cut(f"'{name}' is not a float tensor this region can take")

    def array(self, arg: Any) -> np.ndarray | None:
        if arg is None:
            return None
        v = self.value(arg)
        if isinstance(v, Value):
            raise _Cut("a computed (non-constant) weight")
        return np.asarray(v, dtype=np.float32)

    # -- regions ----------------------------------------------------------------
    def _ensure_open(self) -> None:
        if not self.open:
            self.b.start_function(f"region{self.regions}")
            self.open = True

    def _close(self, extra_outputs: list[str] = ()) -> None:
        """End the open region: its values used later (or named in `extra_outputs`) are returned."""
        if not self.open:
            return
        inside = {n.name for n in self.region_nodes}
        outputs = []
        for node in self.region_nodes:
            v = self.region.get(node.name)
            if not isinstance(v, Value):
                continue
            if node.name in extra_outputs or any(u.name not in inside for u in self.users[node.name]):
                outputs.append(node.name)
        name = self.b._func_name
        if not outputs:  # nothing the rest of the network needs (e.g. cut before any op)
            self.b.discard_function()
            self.region, self.region_nodes, self.region_inputs = {}, [], []
            self.open = False
            return
        self.b.end_function([self.region[n] for n in outputs], "output")
        self.steps.append(TTIRCall(name, list(self.region_inputs), outputs))
        self.on_host.update(outputs)
        self.region, self.region_nodes, self.region_inputs = {}, [], []
        self.open = False
        self.regions += 1

    def _host(self, node: torch.fx.Node, reason: str) -> None:
        """Run `node` itself on the host, on named values."""
        self._close()
        names: list[str] = []

        def name_of(n: torch.fx.Node) -> torch.fx.Node:
            if n.name not in self.on_host:
                if n.name in self.consts:
                    self.host_constants[n.name] = self._host_constant(n)
                    self.on_host.add(n.name)
                else:
                    raise UnsupportedOpError([(_name(node.target), node.name,
                                               f"its input '{n.name}' is not available on the host")])
            names.append(n.name)
            return n

        torch.fx.node.map_arg((node.args, node.kwargs), name_of)
        target, args, kwargs = node.target, node.args, node.kwargs
        inputs = list(dict.fromkeys(names))

        def run(values: list, inputs=inputs, target=target, args=args, kwargs=kwargs):
            lookup = dict(zip(inputs, values))
            a, k = torch.fx.node.map_arg((args, kwargs), lambda n: lookup[n.name])
            return [target(*a, **k)]

        op = _name(target) if target is not operator.getitem else "getitem"
        self.steps.append(HostStep(op, self.namer(node)[0], reason, inputs, [node.name], run))
        self.on_host.add(node.name)

    def _host_constant(self, node: torch.fx.Node) -> Any:
        if node.name in self.lifted:
            return self.state[self.lifted[node.name]].detach()
        value = self.consts[node.name]
        return torch.as_tensor(value) if isinstance(value, np.ndarray) else value

    # -- the walk -----------------------------------------------------------------
    def run(self) -> TTIRModule:
        inputs = iter(self.example_inputs)
        input_names: list[str] = []
        input_shapes: list[tuple[int, ...]] = []
        for node in self.graph.nodes:
            if node.op == "placeholder":
                if node.name in self.lifted:
                    self.consts[node.name] = self.state[self.lifted[node.name]].detach().float().numpy()
                elif node.name in self.user_inputs:
                    example = next(inputs)
                    self.on_host.add(node.name)
                    input_names.append(node.name)
                    input_shapes.append(tuple(example.shape))
                continue
            if node.op == "output":
                outs = node.args[0]
                is_sequence = isinstance(outs, (tuple, list))
                outs = list(outs) if is_sequence else [outs]
                return self._finish(outs, input_names, input_shapes, is_sequence)
            if node.op != "call_function":
                continue
            if node.name in self.unsupported:
                self._host(node, self.reasons.get(node.name, "") or "no TTIR mapping")
                continue
            if node.target is operator.getitem and node.args[0].name in self.on_host:
                self._host(node, "an element of a host op's result")
                continue
            try:
                self._ensure_open()
                result = self.lower(node)
            except TooLargeError:
                raise
            except (_Cut, UnsupportedOpError, ValueError) as why:
                self._host(node, str(why).splitlines()[0])
                continue
            if isinstance(result, (Value, tuple, list)) and _holds_value(result):
                self.region[node.name] = result
                self.region_nodes.append(node)
            else:
                self.consts[node.name] = result
        raise RuntimeError("exported graph has no output")

    def _finish(self, outs, input_names, input_shapes, is_sequence) -> TTIRModule:
        names = [o.name for o in outs]
        self._close(extra_outputs=names)
        for o in outs:
            if o.name not in self.on_host:
                self.host_constants[o.name] = self._host_constant(o)
        network = self.b.module_record(self.steps, input_names, names,
                                       [tuple(o.meta["val"].shape) for o in outs], input_shapes,
                                       constants=self.host_constants)
        network.output_is_sequence = is_sequence
        network.output_spec = self.out_spec
        return network

    # -- one node ---------------------------------------------------------------
    def lower(self, node: torch.fx.Node) -> Any:
        b, t, args = self.b, node.target, node.args
        loc, path = self.namer(node)
        v = self.value

        if t is operator.getitem:
            src = v(args[0])
            return src[args[1]] if isinstance(src, (tuple, list)) else src
        if t in _IDENTITY:
            return v(args[0])
        if t in _CONV:
            return self._conv(node, loc, path)
        if t is aten.conv_transpose2d.input:
            w = self.array(args[1])
            bias = self.array(_arg(node, 2, "bias"))
            stride, pad = _pair(_arg(node, 3, "stride", 1)), _pair(_arg(node, 4, "padding", 0))
            out_pad, groups = _pair(_arg(node, 5, "output_padding", 0)), int(_arg(node, 6, "groups", 1))
            dilation = _pair(_arg(node, 7, "dilation", 1))
            return b.conv_transpose2d(v(args[0]), w, bias, stride=stride,
                                      padding=(pad[0], pad[1], pad[0], pad[1]),
                                      output_padding=out_pad, dilation=dilation, groups=groups, loc=loc)
        if t in _BATCH_NORM:
            if node.name in self.folded:
                out = self.region[self.folded[node.name]]
            else:
                x = v(args[0])
                gamma, beta, mean, var = (self.array(a) for a in args[1:5])
                eps = float(args[7] if t is aten.batch_norm.default else args[6])
                c = mean.shape[0]
                gamma = np.ones(c, np.float32) if gamma is None else gamma
                beta = np.zeros(c, np.float32) if beta is None else beta
                scale, shift = batch_norm_affine(gamma, beta, mean, var, eps)
                out = b.affine(x, scale, shift, loc)
            # the legit_no_training variant returns (out, mean, invstd)
            return (out, None, None) if t is not aten.batch_norm.default else out
        if t in _UNARY:
            return b.unary(_UNARY[t], v(args[0]), loc)
        if t in (aten.hardtanh.default, aten.hardtanh_.default, aten.clamp.default):
            lo_default, hi_default = (-1.0, 1.0) if t is not aten.clamp.default else (None, None)
            lo = _arg(node, 1, "min_val" if t is not aten.clamp.default else "min", lo_default)
            hi = _arg(node, 2, "max_val" if t is not aten.clamp.default else "max", hi_default)
            return b.clamp(v(args[0]), lo, hi, loc)
        if t in (aten.hardswish.default, aten.hardswish_.default):
            return b.hardswish(v(args[0]), loc)
        if t is aten.gelu.default:
            return b.unary("gelu", v(args[0]), loc)
        if t in _BINARY:
            lhs, rhs = v(args[0]), v(args[1])
            if not isinstance(lhs, Value) and not isinstance(rhs, Value):
                raise _Cut("an op on constants only")
            return b.binary(_BINARY[t], lhs, rhs, loc)
        if t in (aten.mean.dim, aten.mean.default, aten.sum.dim_IntList):
            x = v(args[0])
            dims = _arg(node, 1, "dim") if t is not aten.mean.default else None
            keepdim = _arg(node, 2, "keepdim", False) if t is not aten.mean.default else False
            dims = list(range(x.rank)) if not dims else list(dims)
            return b.reduce("sum" if t is aten.sum.dim_IntList else "mean", x, dims, bool(keepdim), loc)
        if t in (aten.adaptive_avg_pool2d.default, aten._adaptive_avg_pool2d.default):
            x = v(args[0])
            size = list(args[1])
            if size == [1, 1]:
                return b.mean(x, [2, 3], True, loc)
            h, w = x.logical_shape[2:]
            k = (h // size[0], w // size[1])
            return b.pool2d("avg", x, kernel=k, stride=k, padding=(0, 0, 0, 0), loc=loc)
        if t in (aten.max_pool2d.default, aten.max_pool2d_with_indices.default):
            kernel = _pair(args[1])
            stride = _pair(_arg(node, 2, "stride") or kernel)
            pad = _pair(_arg(node, 3, "padding", 0))
            dilation = _pair(_arg(node, 4, "dilation", 1))
            ceil = bool(_arg(node, 5, "ceil_mode", False))
            y = b.pool2d("max", v(args[0]), kernel=kernel, stride=stride,
                         padding=(pad[0], pad[1], pad[0], pad[1]), dilation=dilation,
                         ceil_mode=ceil, loc=loc)
            return (y, None) if t is aten.max_pool2d_with_indices.default else y
        if t is aten.avg_pool2d.default:
            kernel = _pair(args[1])
            stride = _pair(_arg(node, 2, "stride") or kernel)
            pad = _pair(_arg(node, 3, "padding", 0))
            return b.pool2d("avg", v(args[0]), kernel=kernel, stride=stride,
                            padding=(pad[0], pad[1], pad[0], pad[1]),
                            ceil_mode=bool(_arg(node, 4, "ceil_mode", False)),
                            count_include_pad=bool(_arg(node, 5, "count_include_pad", True)), loc=loc)
        if t in (aten.upsample_nearest2d.vec, aten.upsample_bilinear2d.vec,
                 aten.upsample_nearest2d.default, aten.upsample_bilinear2d.default):
            x = v(args[0])
            (_, _, h, w), (_, _, oh, ow) = x.logical_shape, node.meta["val"].shape
            mode = "nearest" if "nearest" in str(t) else "bilinear"
            return b.upsample2d(x, (oh // h, ow // w), mode, loc)
        if t is aten.linear.default:
            return b.linear(v(args[0]), self.array(args[1]), self.array(_arg(node, 2, "bias")), loc)
        if t is aten.addmm.default:  # bias + mat1 @ mat2
            if _arg(node, 3, "beta", 1) != 1 or _arg(node, 4, "alpha", 1) != 1:
                raise _Cut("addmm with alpha/beta")
            mat2 = v(args[2])
            if isinstance(mat2, Value):
                return b.binary("add", b.matmul(v(args[1]), mat2, loc), v(args[0]), loc)
            return b.linear(v(args[1]), np.ascontiguousarray(np.asarray(mat2, np.float32).T),
                            self.array(args[0]), loc)
        if t in (aten.matmul.default, aten.mm.default, aten.bmm.default):
            return b.matmul(v(args[0]), v(args[1]), loc)
        if t is aten.flatten.using_ints:
            return b.flatten(v(args[0]), _arg(node, 1, "start_dim", 0), _arg(node, 2, "end_dim", -1), loc)
        if t in _RESHAPE:
            return b.reshape(v(args[0]), list(args[1]), loc)
        if t in (aten.squeeze.dim, aten.squeeze.dims, aten.squeeze.default, aten.unsqueeze.default):
            return b.reshape(v(args[0]), list(node.meta["val"].shape), loc)
        if t is aten.permute.default:
            return b.logical_permute(v(args[0]), list(args[1]), loc)
        if t in (aten.transpose.int, aten.t.default):
            x = v(args[0])
            d0, d1 = (args[1], args[2]) if t is aten.transpose.int else (0, 1)
            perm = list(range(x.rank))
            perm[d0 % x.rank], perm[d1 % x.rank] = perm[d1 % x.rank], perm[d0 % x.rank]
            return b.logical_permute(x, perm, loc)
        if t in (aten.cat.default, aten.concat.default):
            return b.concat([v(a) for a in args[0]], _arg(node, 1, "dim", 0), loc)
        if t in (aten.split.Tensor, aten.split_with_sizes.default, aten.chunk.default):
            x = v(args[0])
            dim = _arg(node, 2, "dim", 0) % x.rank
            size = x.logical_shape[dim]
            sizes = args[1]
            if t is aten.chunk.default:  # torch.chunk: pieces of ceil(size / chunks)
                sizes = -(-size // int(sizes))
            if isinstance(sizes, int):
                sizes = [min(sizes, size - i) for i in range(0, size, sizes)]
            starts = np.cumsum([0] + list(sizes))
            return tuple(b.slice(x, dim, int(s), int(s + n), 1, loc) for s, n in zip(starts, sizes))
        if t is aten.slice.Tensor:
            x = v(args[0])
            dim = _arg(node, 1, "dim", 0)
            start, end = _arg(node, 2, "start", None), _arg(node, 3, "end", None)
            return b.slice(x, dim, start if start is not None else 0,
                           min(end, 2 ** 62) if end is not None else 2 ** 62,
                           _arg(node, 4, "step", 1), loc)
        if t is aten.narrow.default:
            x, dim, start, length = v(args[0]), args[1], args[2], args[3]
            return b.slice(x, dim, start, start + length, 1, loc)
        if t is aten.select.int:
            x, dim, index = v(args[0]), args[1], args[2]
            index %= x.logical_shape[dim % x.rank]
            y = b.slice(x, dim, index, index + 1, 1, loc)
            return b.reshape(y, list(node.meta["val"].shape), loc)
        if t in (aten.softmax.int, aten._softmax.default):
            return b.softmax(v(args[0]), args[1], loc)
        if t in (aten.layer_norm.default, aten.native_layer_norm.default):
            shape = list(args[1])
            weight, bias = self.array(_arg(node, 2, "weight")), self.array(_arg(node, 3, "bias"))
            eps = float(_arg(node, 4, "eps", 1e-5))
            y = b.layer_norm(v(args[0]), shape, weight, bias, eps, loc)
            return (y, None, None) if t is aten.native_layer_norm.default else y
        raise _Cut("no lowering")

    def _conv(self, node, loc, path):
        t, args = node.target, node.args
        x = self.value(args[0])
        w, bias = self.array(args[1]), self.array(_arg(node, 2, "bias"))
        if t is aten.convolution.default and _arg(node, 6, "transposed", False):
            pad, out_pad = _pair(_arg(node, 4, "padding", 0)), _pair(_arg(node, 7, "output_padding", 0))
            return self.b.conv_transpose2d(
                x, w, bias, stride=_pair(_arg(node, 3, "stride", 1)),
                padding=(pad[0], pad[1], pad[0], pad[1]), output_padding=out_pad,
                dilation=_pair(_arg(node, 5, "dilation", 1)), groups=int(_arg(node, 8, "groups", 1)),
                loc=loc)
        stride = _pair(_arg(node, 3, "stride", 1))
        if isinstance(_arg(node, 4, "padding", 0), str):
            raise _Cut("string padding")
        pad = _pair(_arg(node, 4, "padding", 0))
        dilation = _pair(_arg(node, 5, "dilation", 1))
        groups = int(_arg(node, 8 if t is aten.convolution.default else 6, "groups", 1))
        bn_folded = False
        conv_users = self.users[node.name]
        if len(conv_users) == 1 and conv_users[0].target in _BATCH_NORM and \
                conv_users[0].name not in self.unsupported:
            bn = conv_users[0]
            gamma, beta, mean, var = (self.array(a) for a in bn.args[1:5])
            eps = float(bn.args[7] if bn.target is aten.batch_norm.default else bn.args[6])
            c = w.shape[0]
            gamma = np.ones(c, np.float32) if gamma is None else gamma
            beta = np.zeros(c, np.float32) if beta is None else beta
            w, bias = fold_batch_norm(w, bias, gamma, beta, mean, var, eps)
            bn_folded = True
            self.folded[bn.name] = node.name
        return self.b.conv2d(x, w, bias, stride=stride, padding=(pad[0], pad[1], pad[0], pad[1]),
                             dilation=dilation, groups=groups, loc=loc, source=path or loc,
                             module_path=path, bn_folded=bn_folded)


class _Cut(Exception):
    """This node cannot join the open TTIR region: it runs on the host."""


def _holds_value(result: Any) -> bool:
    if isinstance(result, Value):
        return True
    return isinstance(result, (tuple, list)) and any(isinstance(r, Value) for r in result)


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (list, tuple)):
        if len(v) not in (1, 2):
            raise ValueError(f"expected 1 or 2 values, got {v}")
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))


__all__ = ["torch_to_ttir", "UnsupportedOpError", "TTIRModule"]
