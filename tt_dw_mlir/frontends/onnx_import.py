"""ONNX -> TTIR.

Initializers (and `Constant` nodes) become constant weights; a
BatchNormalization whose input is a Conv's only output is folded into it;
Sigmoid + Mul on the same tensor is one `ttir.silu`. Computations on constants
(Shape, Gather, Unsqueeze, Concat, Cast, ...) are folded, so
`x.view(x.size(0), -1)` style exports import. Every op is located at the torch
module the exporter recorded in the node's metadata, else at the node name.

A node with no TTIR mapping does not reject the model: the graph is cut there,
the mappable runs become TTIR functions, and the node runs on the host through
onnxruntime (a one-node model, `HostStep`). The model is validated before
anything is built: a malformed attribute or disagreeing shapes raise ModelError
naming the node, and no declared shape may exceed MAX_TENSOR_ELEMENTS.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from .ttir_emitter import (MAX_TENSOR_ELEMENTS, HostStep, ModelError, TTIRBuilder, TTIRCall,
                           TTIRModule, UnsupportedOpError, Value, batch_norm_affine,
                           check_size, fold_batch_norm)

# Ops mapped to TTIR (anything else runs on the host).
SUPPORTED = {
    "Conv", "ConvTranspose", "BatchNormalization", "Relu", "Clip", "Sigmoid", "HardSwish",
    "HardSigmoid", "Tanh", "Exp", "Neg", "Abs", "Sqrt", "Erf", "Add", "Sub", "Mul", "Div", "Pow",
    "Max", "Min", "GlobalAveragePool", "ReduceMean", "ReduceSum", "Gemm", "MatMul", "Flatten",
    "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "Slice", "MaxPool",
    "AveragePool", "Resize", "Upsample", "Softmax", "LayerNormalization", "Dropout", "Identity",
    "Constant", "Shape", "Gather", "Cast", "Gelu",
}
_UNARY = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Exp": "exp", "Neg": "neg",
          "Abs": "abs", "Sqrt": "sqrt", "Erf": "erf"}
_BINARY = {"Add": "add", "Sub": "subtract", "Mul": "multiply", "Div": "div", "Pow": "pow",
           "Max": "maximum", "Min": "minimum"}
_NUMPY_BINARY = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
                 "Pow": np.power, "Max": np.maximum, "Min": np.minimum}
_AUTO_PAD = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    found = {}
    for a in node.attribute:
        value = onnx.helper.get_attribute_value(a)
        found[a.name] = value.decode() if isinstance(value, bytes) else value
    return found


def _key(node) -> str:
    """A node's identity within its graph: its first output (unique, ONNX graphs are SSA)."""
    return node.output[0] if len(node.output) else f"<no output>:{node.name}"


def _node_name(node: onnx.NodeProto, index: int) -> str:
    return node.name or f"{node.op_type}_{index}"


def module_path_of(node: onnx.NodeProto) -> str:
    """The torch module an exported node came from, where the exporter recorded it.

    torch.onnx's dynamo exporter stores `pkg.torch.onnx.name_scopes` (module
    paths, then the FX node); the TorchScript exporter scopes node names as
    `/features/features.1/conv/conv.0/conv.0.0/Conv`. Empty when neither.
    A conv the exporter fused with its batch norm carries the norm's scope; inside a
    Sequential the conv's own path is read back as the module before the norm.
    """
    props = {prop.key: prop.value for prop in node.metadata_props}
    if "pkg.torch.onnx.name_scopes" in props:
        scopes = [s.strip(" '\"") for s in props["pkg.torch.onnx.name_scopes"].strip("[]").split(",")]
        path = scopes[-2] if len(scopes) >= 2 else ""
        # onnxscript's FuseBatchNormIntoConv leaves the norm's scope on the fused Conv; in a
        # Sequential (torchvision's Conv2dNormActivation: conv, norm, activation) the conv
        # is the module just before the norm.
        parent, _, last = path.rpartition(".")
        hierarchy = props.get("pkg.torch.onnx.class_hierarchy", "")
        if (node.op_type == "Conv" and props.get("pkg.onnxscript.rewriter.rule_name") ==
                "FuseBatchNormIntoConv" and last.isdigit() and int(last) > 0 and "BatchNorm" in hierarchy
                and "Sequential" in hierarchy):
            path = f"{parent}.{int(last) - 1}" if parent else str(int(last) - 1)
        return path
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


def _static_reason(node: onnx.NodeProto, a: dict) -> str | None:
    """Why a valid node is not mapped, from its op type and attributes alone."""
    if node.op_type not in SUPPORTED or (node.domain not in ("", "ai.onnx")):
        return "no TTIR mapping"
    if node.op_type in ("Conv", "ConvTranspose"):
        kernel = a.get("kernel_shape")
        if kernel is not None and len(kernel) != 2:
            return f"{len(kernel)}-D convolution"
    if node.op_type == "Gemm" and a.get("transA", 0):
        return "transA=1"
    if node.op_type == "BatchNormalization" and len(node.output) > 1:
        return "training-mode outputs"
    if node.op_type in ("MaxPool",) and len(node.output) > 1:
        return "MaxPool indices output"
    if node.op_type == "Gelu" and a.get("approximate", "none") != "none":
        return f"Gelu approximate='{a['approximate']}'"
    return None


# --------------------------------------------------------------------------- #
# Validation (issue 11): every refusal names the node
# --------------------------------------------------------------------------- #
def _ints(values, node: str, what: str, length: int | None = None) -> list[int]:
    try:
        out = [int(v) for v in values]
    except (TypeError, ValueError):
        raise ModelError(node, f"'{what}' must be integers, got {values!r}") from None
    if length is not None and len(out) != length:
        raise ModelError(node, f"'{what}' must have {length} values, got {out}")
    if any(not -2 ** 31 <= v < 2 ** 31 for v in out):  # TTIR's window attributes are i32
        raise ModelError(node, f"'{what}' {out} do not fit in 32 bits")
    return out


def _window(node: str, op: str, a: dict, in_hw: tuple[int, int], kernel: tuple[int, int]):
    """Checked (stride, dilation, pads [pT, pL, pB, pR]) of a Conv / pooling node."""
    strides = _ints(a.get("strides", (1, 1)), node, "strides", 2)
    dilations = _ints(a.get("dilations", (1, 1)), node, "dilations", 2)
    if any(s < 1 for s in strides):
        raise ModelError(node, f"{op} strides must be positive, got {strides}")
    if any(d < 1 for d in dilations):
        raise ModelError(node, f"{op} dilations must be positive, got {dilations}")
    if any(k < 1 for k in kernel):
        raise ModelError(node, f"{op} kernel must be at least 1x1, got {list(kernel)}")
    auto_pad = a.get("auto_pad", "NOTSET") or "NOTSET"
    if auto_pad not in _AUTO_PAD:
        raise ModelError(node, f"{op} auto_pad '{auto_pad}' is not one of {', '.join(_AUTO_PAD)}")
    if auto_pad != "NOTSET" and "pads" in a:  # ONNX: "can not be used simultaneously"
        raise ModelError(node, f"{op} has both auto_pad '{auto_pad}' and pads")
    if auto_pad == "NOTSET":
        pads = _ints(a.get("pads", (0, 0, 0, 0)), node, "pads", 4)
        if any(p < 0 for p in pads):
            raise ModelError(node, f"{op} pads must not be negative, got {pads}")
    elif auto_pad == "VALID":
        pads = [0, 0, 0, 0]
    else:  # SAME_*: ONNX pads [x1_begin, x2_begin, x1_end, x2_end] = [pT, pL, pB, pR]
        begins, ends = [], []
        for size, k, s, d in zip(in_hw, kernel, strides, dilations):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            lo = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
            begins.append(lo)
            ends.append(total - lo)
        pads = [begins[0], begins[1], ends[0], ends[1]]
    pt, pl, pb, pr = pads
    for size, k, d, lo, hi, axis in ((in_hw[0], kernel[0], dilations[0], pt, pb, "height"),
                                     (in_hw[1], kernel[1], dilations[1], pl, pr, "width")):
        if d * (k - 1) + 1 > size + lo + hi:
            raise ModelError(node, f"{op} kernel {list(kernel)} (dilation {dilations}) is larger than "
                                   f"its padded input {axis} {size} + {lo} + {hi}")
    return tuple(strides), tuple(dilations), tuple(pads)


def _check_ops(model: onnx.ModelProto) -> None:
    """Every node is an op of the opset the model imports (ONNX's own schemas), with as
    many inputs as the op takes: what onnxruntime would refuse later without our names."""
    versions = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    newest = onnx.defs.onnx_opset_version()
    if not 1 <= versions.get("ai.onnx", newest) <= newest:
        raise ModelError(model.graph.name or "graph", f"imports opset {versions['ai.onnx']} of ONNX; "
                                                      f"opsets 1 to {newest} exist")
    for i, node in enumerate(model.graph.node):
        name = _node_name(node, i)
        domain = node.domain or "ai.onnx"
        if not node.op_type:
            raise ModelError(name, "node has no op type")
        if domain not in ("ai.onnx", "ai.onnx.ml"):
            continue  # another runtime's ops (com.microsoft, ...): onnxruntime decides on the host
        if domain not in versions:
            raise ModelError(name, f"{node.op_type} is of domain '{domain}', which the model does "
                                   f"not import")
        try:
            schema = onnx.defs.get_schema(node.op_type, versions[domain], "" if domain == "ai.onnx" else domain)
        except onnx.defs.SchemaError:
            raise ModelError(name, f"'{node.op_type}' is not an op of {domain} opset "
                                   f"{versions[domain]}") from None
        if not schema.min_input <= len(node.input) <= schema.max_input:
            raise ModelError(name, f"{node.op_type} takes {schema.min_input} to {schema.max_input} "
                                   f"inputs, got {len(node.input)}")
        for attribute in node.attribute:  # the types ONNX's schema gives (the checker's rule)
            formal_attr = schema.attributes.get(attribute.name)
            if formal_attr is None:
                raise ModelError(name, f"{node.op_type} has no attribute '{attribute.name}'")
            if attribute.type != formal_attr.type:
                raise ModelError(name, f"{node.op_type} attribute '{attribute.name}' is "
                                       f"{onnx.AttributeProto.AttributeType.Name(attribute.type)}, "
                                       f"not {onnx.AttributeProto.AttributeType.Name(formal_attr.type)}")
        optional = onnx.defs.OpSchema.FormalParameterOption.Optional
        for i, tensor in enumerate(node.input):
            formal = schema.inputs[min(i, len(schema.inputs) - 1)]
            if not tensor and formal.option != optional:  # "" only stands for an omitted optional input
                raise ModelError(name, f"{node.op_type} has an empty input name (input {i}, "
                                       f"'{formal.name}', is required)")


def _check_input_names(graph: onnx.GraphProto) -> None:
    seen: set[str] = set()
    for i, node in enumerate(graph.node):
        name = _node_name(node, i)
        if name in seen:  # ONNX IR: a name is unique within its namespace of a graph
            raise ModelError(name, "another node has the same name; node names must be unique")
        seen.add(name)
        if node.op_type in ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "BatchNormalization",
                            "Gemm", "MatMul") and (not node.input or not node.input[0]):
            raise ModelError(name, f"{node.op_type} has an empty input name")
        if node.op_type in ("Conv", "ConvTranspose") and (len(node.input) < 2 or not node.input[1]):
            raise ModelError(name, f"{node.op_type} has no weight input")


def _load(path_or_model) -> onnx.ModelProto:
    if isinstance(path_or_model, onnx.ModelProto):
        return path_or_model
    path = os.fspath(path_or_model)
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise ModelError(os.path.basename(path), "the ONNX file is empty")
    try:
        model = onnx.load(path)
    except Exception as problem:  # a truncated or non-ONNX file
        text = str(problem).strip().splitlines()
        raise ModelError(os.path.basename(path), f"not an ONNX model: {text[0] if text else problem}") \
            from None
    if not model.graph.node:
        raise ModelError(os.path.basename(path), "the ONNX graph has no nodes")
    return model


def _fix_input_shapes(model: onnx.ModelProto, input_shapes) -> tuple[onnx.ModelProto, list]:
    """Copy of `model` with every graph input's shape static; (model, [(name, shape)])."""
    model_copy = onnx.ModelProto()
    model_copy.CopyFrom(model)
    graph = model_copy.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if isinstance(input_shapes, (list, tuple)):
        if len(input_shapes) != len(inputs):
            raise ModelError(graph.name or "graph", f"{len(input_shapes)} input shapes given for "
                                                    f"{len(inputs)} inputs")
        input_shapes = {i.name: s for i, s in zip(inputs, input_shapes)}
    found = []
    for inp in inputs:
        if not inp.name:
            raise ModelError("graph", "a graph input has an empty name")
        elem = inp.type.tensor_type.elem_type
        if elem != onnx.TensorProto.FLOAT:
            kind = onnx.TensorProto.DataType.Name(elem) if elem in onnx.TensorProto.DataType.values() else elem
            raise ModelError(inp.name, f"input is of type {kind}; the network's inputs must be float "
                                       f"(FLOAT)")
        dims = inp.type.tensor_type.shape.dim
        if input_shapes and inp.name in input_shapes:
            shape = tuple(int(d) for d in input_shapes[inp.name])
        else:
            if any(not d.HasField("dim_value") for d in dims):
                raise ModelError(inp.name, "input has a symbolic shape: pass input_shapes")
            shape = tuple(int(d.dim_value) for d in dims)
        if any(d < 1 for d in shape):
            raise ModelError(inp.name, f"input shape {list(shape)} has a dimension below 1")
        check_size(shape, f"input '{inp.name}'")
        del dims[:]
        for d in shape:
            inp.type.tensor_type.shape.dim.add().dim_value = d
        found.append((inp.name, shape))
    return model_copy, found


# --------------------------------------------------------------------------- #
def onnx_to_ttir(path_or_model: str | os.PathLike | onnx.ModelProto, *, dtype: str = "bf16",
                 weights: str = "constants", input_shapes=None,
                 host_fallback: bool = True) -> TTIRModule:
    """Import an ONNX model (path or ModelProto) into TTIR (see the module docstring).

    `input_shapes` ({name: shape} or a list in input order) fixes symbolic dims.
    Raises ModelError for an invalid model; with `host_fallback=False`,
    UnsupportedOpError naming every node that has no TTIR mapping.
    """
    model = _load(path_or_model)
    _check_input_names(model.graph)
    _check_ops(model)
    model, inputs = _fix_input_shapes(model, input_shapes)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception:  # inference is a help for host ops, not a requirement
        inferred = model
    types = {vi.name: vi.type for vi in (*inferred.graph.value_info, *inferred.graph.input,
                                         *inferred.graph.output)}
    if not host_fallback:
        problems = [(n.op_type, _node_name(n, i), r) for i, n in enumerate(model.graph.node)
                    for r in [_static_reason(n, _attrs(n))] if r is not None]
        if problems:
            raise UnsupportedOpError(problems)
    return _OnnxLowering(model, inputs, types, dtype, weights, host_fallback).run()


class _Cut(Exception):
    """This node cannot join the open TTIR region: it runs on the host."""


class _OnnxLowering:
    def __init__(self, model, inputs, types, dtype, weights, host_fallback):
        self.model, self.graph = model, model.graph
        self.inputs, self.types = inputs, types
        self.host_fallback = host_fallback
        self.b = TTIRBuilder(dtype=dtype, weights=weights)
        self.opsets = list(model.opset_import)
        self.consts: dict[str, Any] = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.region: dict[str, Value] = {}
        self.region_outputs_order: list[str] = []
        self.region_inputs: list[str] = []
        self.on_host: set[str] = set()
        self.host_constants: dict[str, Any] = {}
        self.steps: list = []
        self.regions = 0
        self.open = True
        self.consumers: dict[str, list] = {}
        for node in self.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.graph_outputs = [o.name for o in self.graph.output]
        # nodes keyed by `_key` (their first output), never by id(): protobuf may hand out
        # a fresh wrapper object per access, and ids are reused after garbage collection
        self.skipped: set[str] = set()  # batch norms folded into their conv
        self.silu_of: dict[str, str] = {}  # the Mul of x * sigmoid(x) -> x
        self.later_uses: dict[str, int] = {}

    # -- values ---------------------------------------------------------------
    def shape_of(self, name: str) -> tuple[int, ...] | None:
        ty = self.types.get(name)
        if ty is None or not ty.HasField("tensor_type") or not ty.tensor_type.HasField("shape"):
            return None
        dims = ty.tensor_type.shape.dim
        if any(not d.HasField("dim_value") for d in dims):
            return None
        return tuple(int(d.dim_value) for d in dims)

    def elem_type(self, name: str) -> int:
        ty = self.types.get(name)
        if ty is not None and ty.HasField("tensor_type") and ty.tensor_type.elem_type:
            return ty.tensor_type.elem_type
        return onnx.TensorProto.FLOAT

    def get(self, name: str) -> Any:
        if not name:
            return None
        if name in self.region:
            return self.region[name]
        if name in self.consts:
            return self.consts[name]
        if name in self.on_host:
            shape = self.shape_of(name)
            if shape is None or self.elem_type(name) != onnx.TensorProto.FLOAT:
                raise _Cut(f"'{name}' has no static float shape")
            self._ensure_open()
            value = self.b.add_input(shape, name)
            self.region[name] = value
            self.region_inputs.append(name)
            return value
        raise ModelError(name, "tensor is used before any node produces it")

    def constant(self, name: str, node: str) -> np.ndarray | None:
        if not name:
            return None
        v = self.get(name)
        if isinstance(v, Value):
            raise _Cut(f"'{name}' must be an initializer or a constant")
        return np.asarray(v)

    # -- regions --------------------------------------------------------------
    def _ensure_open(self) -> None:
        if not self.open:
            self.b.start_function(f"region{self.regions}")
            self.open = True

    def _close(self, needed: set[str]) -> None:
        if not self.open:
            return
        outputs = [n for n in self.region_outputs_order if n in needed and isinstance(self.region.get(n), Value)]
        name = self.b._func_name
        if not outputs:
            self.b.discard_function()
        else:
            self.b.end_function([self.region[n] for n in outputs], "output")
            self.steps.append(TTIRCall(name, list(self.region_inputs), outputs))
            self.on_host.update(outputs)
            self.regions += 1
        self.region, self.region_outputs_order, self.region_inputs = {}, [], []
        self.open = False

    def _needed_after(self, index: int) -> set[str]:
        later = set(self.graph_outputs)
        for node in self.graph.node[index:]:
            later.update(node.input)
        return later

    def _host(self, index: int, node: onnx.NodeProto, name: str, reason: str) -> None:
        self._close(self._needed_after(index))
        inputs = []
        initializers = []
        for tensor in node.input:
            if not tensor:
                continue
            if tensor in self.on_host:
                inputs.append(tensor)
            elif tensor in self.consts:
                initializers.append(numpy_helper.from_array(np.asarray(self.consts[tensor]), tensor))
            else:
                raise ModelError(name, f"input '{tensor}' is not available")
        inputs = list(dict.fromkeys(inputs))
        step_model = onnx.helper.make_model(
            onnx.helper.make_graph(
                [node], f"host_{name}",
                [onnx.helper.make_tensor_value_info(t, self.elem_type(t), None) for t in inputs],
                [onnx.helper.make_tensor_value_info(t, self.elem_type(t), None) for t in node.output if t],
                initializers),
            opset_imports=self.opsets, ir_version=self.model.ir_version)
        outputs = [t for t in node.output if t]
        session: list = []

        def run(values: list, inputs=inputs, step_model=step_model, outputs=outputs):
            import onnxruntime
            import torch

            feeds = {n: (v.detach().numpy() if isinstance(v, torch.Tensor) else np.asarray(v))
                     for n, v in zip(inputs, values)}
            try:
                if not session:
                    options = onnxruntime.SessionOptions()
                    options.log_severity_level = 4  # its errors come back to us, named below
                    session.append(onnxruntime.InferenceSession(step_model.SerializeToString(), options,
                                                                providers=["CPUExecutionProvider"]))
                results = session[0].run(outputs, feeds)
            except Exception as problem:  # onnxruntime's own errors: this node is not valid for it
                text = str(problem).strip().splitlines()
                raise ModelError(name, f"{node.op_type} runs on the host, and onnxruntime cannot "
                                       f"run it: {text[0] if text else type(problem).__name__}") from None
            return [torch.from_numpy(np.asarray(r)) for r in results]

        self.steps.append(HostStep(node.op_type, name, reason, inputs, outputs, run))
        self.on_host.update(outputs)

    # -- walk -----------------------------------------------------------------
    def run(self) -> TTIRModule:
        input_names = [n for n, _ in self.inputs]
        self.on_host.update(input_names)
        for index, node in enumerate(self.graph.node):
            if _key(node) in self.skipped:
                continue
            name = _node_name(node, index)
            a = _attrs(node)
            reason = _static_reason(node, a)
            if reason is not None:
                if not self.host_fallback:
                    raise UnsupportedOpError([(node.op_type, name, reason)])
                self._host(index, node, name, reason)
                continue
            try:
                self._ensure_open()
                results = self.lower(node, a, name)
            except _Cut as why:
                if not self.host_fallback:
                    raise UnsupportedOpError([(node.op_type, name, str(why))]) from None
                self._host(index, node, name, str(why))
                continue
            for tensor, value in zip(node.output, results):
                if not tensor:
                    continue
                if isinstance(value, Value):
                    self.region[tensor] = value
                    self.region_outputs_order.append(tensor)
                elif value is not None:
                    self.consts[tensor] = value
        self._close(set(self.graph_outputs))
        for out in self.graph_outputs:
            if out not in self.on_host:
                if out not in self.consts:
                    raise ModelError(out, "graph output is produced by no node")
                import torch

                self.host_constants[out] = torch.as_tensor(np.asarray(self.consts[out]))
        output_shapes = [self.shape_of(o) or () for o in self.graph_outputs]
        return self.b.module_record(self.steps, input_names, list(self.graph_outputs), output_shapes,
                                    [s for _, s in self.inputs], constants=self.host_constants)

    def _single_consumer(self, tensor: str):
        users = self.consumers.get(tensor, [])
        return users[0] if len(users) == 1 and tensor not in self.graph_outputs else None

    # -- one node -------------------------------------------------------------
    def lower(self, node: onnx.NodeProto, a: dict, name: str) -> list:
        b = self.b
        op, ins = node.op_type, list(node.input)
        loc = module_path_of(node) or name
        if module_path_of(node):
            loc = module_path_of(node) if op == "Conv" else f"{module_path_of(node)}/{name}"
        get = self.get

        if _key(node) in self.silu_of:  # the Mul of x * sigmoid(x)
            return [b.unary("silu", get(self.silu_of[_key(node)]), loc)]
        if op in ("Identity", "Dropout"):
            return [get(ins[0]), None]
        if op == "Constant":
            if "value" in a:
                return [numpy_helper.to_array(a["value"])]
            key = next((k for k in ("value_float", "value_floats", "value_int", "value_ints")
                        if k in a), None)
            if key is None:
                raise _Cut("Constant of an unsupported kind")
            return [np.asarray(a[key])]
        if op == "Shape":
            x = get(ins[0])
            shape = np.asarray(x.logical_shape if isinstance(x, Value) else np.shape(x), np.int64)
            start, end = a.get("start", 0), a.get("end", None)
            return [shape[start:end]]
        values = [get(n) for n in ins]
        if all(not isinstance(v, Value) for v in values if v is not None) and op in (
                "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Reshape", "Flatten", "Transpose",
                "Slice", *_NUMPY_BINARY):
            return [_fold_constant(op, a, values, name)]
        x = values[0] if values else None
        if op == "Conv":
            return [self._conv(node, a, name, loc, x)]
        if op == "ConvTranspose":
            w = self.constant(ins[1], name).astype(np.float32)
            bias = self.constant(ins[2], name) if len(ins) > 2 and ins[2] else None
            kernel = tuple(int(k) for k in w.shape[2:])
            groups = _ints([a.get("group", 1)], name, "group", 1)[0]
            if x.logical_shape[1] != w.shape[0]:
                raise ModelError(name, f"ConvTranspose weight {list(w.shape)} does not fit "
                                       f"{x.logical_shape[1]} input channels")
            if "output_shape" in a or a.get("auto_pad", "NOTSET") not in ("NOTSET", ""):
                raise _Cut("ConvTranspose with output_shape / auto_pad")
            strides = tuple(_ints(a.get("strides", (1, 1)), name, "strides", 2))
            dilations = tuple(_ints(a.get("dilations", (1, 1)), name, "dilations", 2))
            pads = tuple(_ints(a.get("pads", (0, 0, 0, 0)), name, "pads", 4))
            out_pad = tuple(_ints(a.get("output_padding", (0, 0)), name, "output_padding", 2))
            if any(s < 1 for s in strides) or any(p < 0 for p in pads) or min(kernel) < 1:
                raise ModelError(name, f"ConvTranspose strides {list(strides)}, pads {list(pads)} "
                                       f"or kernel {list(kernel)} out of range")
            return [b.conv_transpose2d(x, w, bias, stride=strides, padding=pads,
                                       output_padding=out_pad, dilation=dilations, groups=groups,
                                       loc=loc)]
        if op == "BatchNormalization":
            gamma, beta, mean, var = (self.constant(n, name).astype(np.float32) for n in ins[1:5])
            scale, shift = batch_norm_affine(gamma, beta, mean, var, float(a.get("epsilon", 1e-5)))
            return [b.affine(x, scale, shift, loc)]
        if op in _UNARY:
            if op == "Sigmoid":
                mul = self._single_consumer(node.output[0])
                if mul is not None and mul.op_type == "Mul" and sorted(mul.input) == sorted(
                        [ins[0], node.output[0]]):
                    self.silu_of[_key(mul)] = ins[0]  # x * sigmoid(x)
                    return [None]
            return [b.unary(_UNARY[op], x, loc)]
        if op == "Gelu":
            return [b.unary("gelu", x, loc)]
        if op == "Clip":
            if len(ins) > 1:  # opset >= 11: min / max are optional inputs
                lo = self.constant(ins[1], name) if ins[1] else None
                hi = self.constant(ins[2], name) if len(ins) > 2 and ins[2] else None
            else:
                lo, hi = a.get("min"), a.get("max")
            return [b.clamp(x, None if lo is None else float(lo), None if hi is None else float(hi), loc)]
        if op == "HardSwish":
            return [b.hardswish(x, loc)]
        if op == "HardSigmoid":
            alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
            if abs(alpha - 1 / 6) < 1e-6 and abs(beta - 0.5) < 1e-6:
                return [b.unary("hardsigmoid", x, loc)]
            y = b.binary("add", b.binary("multiply", x, np.float32(alpha), loc), np.float32(beta), loc)
            return [b.clamp(y, 0.0, 1.0, loc)]
        if op in _BINARY:
            lhs, rhs = values[0], values[1]
            for v in (lhs, rhs):
                if not isinstance(v, Value) and np.asarray(v).dtype.kind not in "fiu":
                    raise _Cut("non-numeric constant operand")
            return [b.binary(_BINARY[op], lhs, rhs, loc)]
        if op == "GlobalAveragePool":
            return [b.mean(x, list(range(2, x.rank)), True, loc)]
        if op in ("ReduceMean", "ReduceSum"):
            axes = a.get("axes")
            if axes is None and len(ins) > 1 and ins[1]:  # opset >= 18 (ReduceSum >= 13): input
                axes = self.constant(ins[1], name).tolist()
            keep = bool(a.get("keepdims", 1))
            if axes is None or len(axes) == 0:
                if a.get("noop_with_empty_axes", 0):
                    return [x]
                axes = list(range(x.rank))
            return [b.reduce("mean" if op == "ReduceMean" else "sum", x, [int(d) for d in axes], keep, loc)]
        if op == "Gemm":
            alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
            rhs = values[1]
            bias = self.constant(ins[2], name) if len(ins) > 2 and ins[2] else None
            if isinstance(rhs, Value):
                if a.get("transB", 0) or alpha != 1.0:
                    raise _Cut("non-constant B with transB/alpha")
                y = b.matmul(x, rhs, loc)
                return [y if bias is None else b.binary("add", y, beta * bias, loc)]
            weight = np.asarray(rhs, np.float32)
            weight = weight if a.get("transB", 0) else weight.T  # -> [out, in]
            if bias is not None:
                bias = np.broadcast_to(beta * bias.astype(np.float32), (weight.shape[0],))
            return [b.linear(x, alpha * weight, bias, loc)]
        if op == "MatMul":
            return [b.matmul(x, values[1], loc)]
        if op == "Flatten":
            axis = int(a.get("axis", 1)) % max(x.rank, 1)
            shape = x.logical_shape
            return [b.reshape(x, (int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))), loc)]
        if op == "Reshape":
            target = [int(d) for d in self.constant(ins[1], name).tolist()]
            if not a.get("allowzero", 0):
                target = [x.logical_shape[j] if d == 0 else d for j, d in enumerate(target)]
            return [b.reshape(x, target, loc)]
        if op in ("Squeeze", "Unsqueeze"):
            axes = a.get("axes")
            if axes is None and len(ins) > 1 and ins[1]:
                axes = self.constant(ins[1], name).tolist()
            shape = list(x.logical_shape)
            if op == "Squeeze":
                axes = [d % len(shape) for d in axes] if axes else [i for i, d in enumerate(shape) if d == 1]
                shape = [d for i, d in enumerate(shape) if i not in axes]
            else:
                for ax in sorted(d % (len(shape) + len(axes)) for d in axes):
                    shape.insert(ax, 1)
            return [b.reshape(x, shape, loc)]
        if op == "Transpose":
            perm = a.get("perm", list(reversed(range(x.rank))))
            return [b.logical_permute(x, perm, loc)]
        if op == "Concat":
            return [b.concat(values, int(a["axis"]), loc)]
        if op == "Split":
            axis = int(a.get("axis", 0)) % x.rank
            size = x.logical_shape[axis]
            split = a.get("split")
            if split is None and len(ins) > 1 and ins[1]:
                split = self.constant(ins[1], name).tolist()
            outputs = [o for o in node.output]
            if split is None:
                parts = int(a.get("num_outputs", len(outputs)))
                chunk = -(-size // parts)
                split = [min(chunk, size - i * chunk) for i in range(parts)]
            if sum(split) != size or any(s < 0 for s in split):
                raise ModelError(name, f"Split sizes {list(split)} do not add up to {size}")
            starts = np.cumsum([0] + list(split))
            return [b.slice(x, axis, int(s), int(s + n), 1, loc) for s, n in zip(starts, split)]
        if op == "Slice":
            if len(ins) < 3:
                raise _Cut("Slice with attributes (opset < 10)")
            starts = self.constant(ins[1], name).tolist()
            ends = self.constant(ins[2], name).tolist()
            axes = self.constant(ins[3], name).tolist() if len(ins) > 3 and ins[3] else list(range(len(starts)))
            steps = self.constant(ins[4], name).tolist() if len(ins) > 4 and ins[4] else [1] * len(starts)
            y = x
            for start, end, axis, step in zip(starts, ends, axes, steps):
                if step <= 0:
                    raise _Cut("Slice with a negative step")
                size = y.logical_shape[axis % y.rank]
                y = b.slice(y, axis, int(max(min(start, size), -size)), int(max(min(end, size), -size - 1)),
                            int(step), loc)
            return [y]
        if op in ("MaxPool", "AveragePool"):
            kernel = tuple(_ints(a.get("kernel_shape", ()), name, "kernel_shape"))
            if len(kernel) != 2:
                raise _Cut(f"{len(kernel)}-D pooling")
            if a.get("storage_order", 0):
                raise _Cut("storage_order=1")
            stride, dilation, pads = _window(name, op, a, tuple(x.logical_shape[2:]), kernel)
            if op == "AveragePool" and dilation != (1, 1):
                raise _Cut("dilated AveragePool")
            return [b.pool2d("max" if op == "MaxPool" else "avg", x, kernel=kernel, stride=stride,
                             padding=pads, dilation=dilation, ceil_mode=bool(a.get("ceil_mode", 0)),
                             count_include_pad=bool(a.get("count_include_pad", 0)), loc=loc)]
        if op in ("Resize", "Upsample"):
            return [self._resize(node, a, name, loc, x, ins)]
        if op == "Softmax":
            axis = int(a.get("axis", -1 if self._opset() >= 13 else 1))
            if self._opset() < 13 and axis % x.rank != x.rank - 1:
                raise _Cut("Softmax (opset < 13) over flattened trailing dims")
            return [b.softmax(x, axis, loc)]
        if op == "LayerNormalization":
            axis = int(a.get("axis", -1)) % x.rank
            shape = list(x.logical_shape[axis:])
            weight = self.constant(ins[1], name) if len(ins) > 1 and ins[1] else None
            bias = self.constant(ins[2], name) if len(ins) > 2 and ins[2] else None
            outs = [o for o in node.output if o]
            if len(outs) > 1:
                raise _Cut("LayerNormalization mean/inv_std outputs")
            return [b.layer_norm(x, shape, weight, bias, float(a.get("epsilon", 1e-5)), loc)]
        raise _Cut("no lowering")

    def _opset(self) -> int:
        return next((o.version for o in self.opsets if o.domain in ("", "ai.onnx")), 13)

    def _conv(self, node, a, name, loc, x) -> Value:
        ins = list(node.input)
        w = self.constant(ins[1], name)
        if w.dtype.kind != "f":
            raise ModelError(name, f"Conv weight '{ins[1]}' is {w.dtype}, the input is float: "
                                   "quantized convs need QLinearConv / DequantizeLinear")
        w = w.astype(np.float32)
        bias = self.constant(ins[2], name) if len(ins) > 2 and ins[2] else None
        if w.ndim != 4:
            raise _Cut(f"{w.ndim - 2}-D convolution")
        kernel = tuple(int(k) for k in w.shape[2:])
        declared = a.get("kernel_shape")
        if declared is not None and tuple(_ints(declared, name, "kernel_shape")) != kernel:
            raise ModelError(name, f"Conv kernel_shape {list(declared)} disagrees with the weight "
                                   f"'{ins[1]}' of shape {list(w.shape)}")
        groups = _ints([a.get("group", 1)], name, "group", 1)[0]
        channels = x.logical_shape[1]
        if groups < 1 or channels % groups or w.shape[1] * groups != channels or w.shape[0] % groups:
            raise ModelError(name, f"Conv weight {list(w.shape)} with group {groups} does not fit "
                                   f"{channels} input channels")
        if bias is not None and bias.size != w.shape[0]:
            raise ModelError(name, f"Conv bias has {bias.size} values for {w.shape[0]} output channels")
        stride, dilation, pads = _window(name, "Conv", a, tuple(x.logical_shape[2:]), kernel)
        bn_folded = False
        out = node.output[0]
        bn = self._single_consumer(out)
        if bn is not None and bn.op_type == "BatchNormalization" and len(bn.output) == 1 and all(
                n in self.consts for n in bn.input[1:5]):
            gamma, beta, mean, var = (np.asarray(self.consts[n], np.float32) for n in bn.input[1:5])
            eps = float(_attrs(bn).get("epsilon", 1e-5))
            w, bias = fold_batch_norm(w, bias, gamma, beta, mean, var, eps)
            bn_folded = True
            self.skipped.add(_key(bn))
            # the conv's value is the batch norm's output tensor
            self.region_outputs_order.append(bn.output[0])
        y = self.b.conv2d(x, w, bias, stride=stride, padding=pads, dilation=dilation, groups=groups,
                          loc=loc, source=name, module_path=module_path_of(node), bn_folded=bn_folded)
        if bn_folded:
            self.region[bn.output[0]] = y
        return y

    def _resize(self, node, a, name, loc, x, ins) -> Value:
        mode = a.get("mode", "nearest")
        h, w = x.logical_shape[2:]
        scales = None
        if node.op_type == "Upsample":
            scales = self.constant(ins[1], name).tolist() if len(ins) > 1 else a.get("scales")
        else:
            if len(ins) > 3 and ins[3]:
                sizes = self.constant(ins[3], name).tolist()
                if sizes:
                    scales = [s / d for s, d in zip(sizes, x.logical_shape)]
            if scales is None and len(ins) > 2 and ins[2]:
                scales = self.constant(ins[2], name).tolist()
        if not scales or len(scales) != 4 or scales[0] != 1 or scales[1] != 1:
            raise _Cut("Resize of other than the spatial dims")
        sh, sw = scales[2], scales[3]
        if sh != int(sh) or sw != int(sw) or sh < 1 or sw < 1:
            raise _Cut(f"non-integer Resize scale {scales[2:]}")
        transform = a.get("coordinate_transformation_mode", "half_pixel")
        if mode == "nearest":
            nearest = a.get("nearest_mode", "round_prefer_floor") if node.op_type == "Resize" else "floor"
            transform = transform if node.op_type == "Resize" else "asymmetric"
            # an integer upscale by s picks source index floor(out / s) (torch's nearest) under:
            same = ((transform == "asymmetric" and nearest == "floor")
                    or (transform in ("half_pixel", "pytorch_half_pixel")
                        and nearest in ("round_prefer_floor", "round_prefer_ceil"))
                    or (transform == "tf_half_pixel_for_nn" and nearest == "floor"))
            if not same:
                raise _Cut(f"nearest Resize with {transform}/{nearest}")
            return self.b.upsample2d(x, (int(sh), int(sw)), "nearest", loc)
        if mode == "linear" and transform in ("half_pixel", "pytorch_half_pixel"):
            return self.b.upsample2d(x, (int(sh), int(sw)), "bilinear", loc)
        raise _Cut(f"Resize mode '{mode}' with {transform}")


def _fold_constant(op: str, attrs: dict[str, Any], ins: list[Any], name: str) -> np.ndarray:
    data = np.asarray(ins[0]) if ins and ins[0] is not None else None
    if op in _NUMPY_BINARY:
        return _NUMPY_BINARY[op](np.asarray(ins[0]), np.asarray(ins[1]))
    if op == "Gather":
        return np.take(data, np.asarray(ins[1]), axis=int(attrs.get("axis", 0)))
    if op in ("Unsqueeze", "Squeeze"):
        axes = attrs.get("axes")
        axes = list(np.asarray(ins[1]).tolist()) if axes is None and len(ins) > 1 and ins[1] is not None \
            else list(axes or [])
        if op == "Squeeze":
            return np.squeeze(data, axis=tuple(a % data.ndim for a in axes) if axes else None)
        for ax in sorted(d % (data.ndim + len(axes)) for d in axes):
            data = np.expand_dims(data, ax)
        return data
    if op == "Concat":
        return np.concatenate([np.atleast_1d(np.asarray(v)) for v in ins], axis=int(attrs.get("axis", 0)))
    if op == "Cast":
        return data.astype(onnx.helper.tensor_dtype_to_np_dtype(int(attrs["to"])))
    if op == "Reshape":
        target = [int(d) for d in np.asarray(ins[1]).tolist()]
        target = [data.shape[j] if d == 0 and not attrs.get("allowzero", 0) else d
                  for j, d in enumerate(target)]
        return data.reshape(target)
    if op == "Flatten":
        axis = int(attrs.get("axis", 1)) % max(data.ndim, 1)
        return data.reshape(int(np.prod(data.shape[:axis])), -1)
    if op == "Transpose":
        return np.transpose(data, attrs.get("perm"))
    if op == "Slice":
        starts, ends = np.asarray(ins[1]).tolist(), np.asarray(ins[2]).tolist()
        axes = np.asarray(ins[3]).tolist() if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
        steps = np.asarray(ins[4]).tolist() if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
        index = [slice(None)] * data.ndim
        for s, e, ax, st in zip(starts, ends, axes, steps):
            index[ax] = slice(s, e, st)
        return data[tuple(index)]
    raise ModelError(name, f"cannot fold {op}")


__all__ = ["onnx_to_ttir", "UnsupportedOpError", "TTIRModule", "SUPPORTED", "MAX_TENSOR_ELEMENTS"]
