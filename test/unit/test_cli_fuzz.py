"""Argument and model fuzzing of `tt-dw` (issue 11, items 11-14).

A case is an argv for `tt-dw` and the files it names. Models are small ONNX networks
built here with onnx.helper (no checker, no shape inference: written as generated) from
random layers (depthwise, dense, grouped and pointwise convs with every padding form,
batch norm, activations, residual adds, pools, concat, a Gemm head), then given 0-3
hostile changes out of MODEL_MUTATIONS (zero, negative, huge or wrongly sized strides,
pads, dilations, kernels and groups; bogus auto_pad; weights of other dtypes, shapes
or values; empty, missing and cyclic tensor names; huge, symbolic, zero or mistyped
declared inputs; old, future or unknown opsets and ops; nodes out of order). Argument
vectors draw each flag valid or hostile (huge, negative, non-numeric, unicode, long),
repeated, glued with `=`, unknown, or missing, over generated models, a tiny fixed
model, missing, empty, truncated or junk files, folders and the built-in networks.

Cases run in fuzzing.py's fork server and are judged by its judge, the one the driver
fuzzer uses: exit 0, or exit 1 with one `tt-dw: error:` message that names a node,
tensor or input of the model, a flag or file of the argv (or a file:line:col); never
a signal, a traceback or "internal error", more than 2 GB or 60 s. An unmutated model
with valid arguments must run; some compile twice and must write the same IR.

CI runs a small sample; benchmarks/fuzz_long.py runs the long one
(`TT_DW_CLI_FUZZ_CASES=N` here).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import fuzzing

TT_DW_BIN = Path(sys.executable).with_name("tt-dw")


@dataclass
class CliCase:
    name: str
    argv: list[str]  # "@NAME" names one of `files` (or a path inside the case's folder)
    files: dict[str, bytes | None] = field(default_factory=dict)
    anchors: list[str] = field(default_factory=list)  # what a refusal may name
    valid: bool = False  # must exit 0
    repeat: bool = False  # run twice: the same IR files
    only_anchors: bool = False  # a refusal must name one of `anchors` (not just a file)

    def request(self) -> dict:
        used = {f: d for f, d in self.files.items() if any(a[1:].split("/")[0] == f for a in self.argv
                                                           if a.startswith("@"))}
        return fuzzing.request(self.name, "tt-dw", self.argv, used, anchors=self.all_anchors(),
                               valid=self.valid, repeat=self.repeat)

    def all_anchors(self) -> list[str]:
        """The model's names (given by the generator) and the argv's flags, quoted tokens and
        files (as given and by base name)."""
        found = list(self.anchors)
        if self.only_anchors:
            return found
        for arg in self.argv:
            if arg.startswith("-") and len(arg) > 1:
                flag, glued, value = arg.partition("=")
                found.append(flag)
                if glued and value:
                    found += [f"'{value}'", value]
            if arg.startswith("@"):
                found += [arg, os.path.basename(arg[1:].rstrip("/")) or arg]
            elif arg:
                found.append(f"'{arg}'")
                found.append(f"unrecognized arguments: {arg}")  # argparse lists them bare
                if len(arg) >= 2:
                    found.append(arg)
        return found


# --------------------------------------------------------------------------- #
# Models
# --------------------------------------------------------------------------- #
def _out(size: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    return (size + lo + hi - d * (k - 1) - 1) // s + 1  # ONNX Conv's output size


class Net:
    """A small NCHW float network under construction (onnx.helper protos)."""

    def __init__(self, rng: random.Random, shape: list, input_name: str = "x"):
        self.rng = rng
        self.nodes: list = []
        self.inits: dict[str, object] = {}  # name -> numpy array
        self.input_name, self.shape = input_name, list(shape)
        self.cur = input_name
        self.history = [(input_name, list(shape))]
        self.count = 0
        self.opset = 17

    def fresh(self, op: str) -> str:
        self.count += 1
        return f"{op.lower()}{self.count}"

    def weight(self, name: str, shape, scale: float = 1.0) -> str:
        import numpy as np

        self.inits[name] = (np.random.default_rng(self.count).standard_normal(shape) * scale).astype(np.float32)
        return name

    def add(self, op: str, inputs: list[str], shape: list, **attrs) -> str:
        from onnx import helper

        name = self.fresh(op)
        out = f"{name}_y"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        self.cur, self.shape = out, list(shape)
        self.history.append((out, list(shape)))
        return name

    # -- layers --
    def conv(self, kind: str) -> None:
        rng, (n, c, h, w) = self.rng, self.shape
        k = rng.choice([1, 3, 3, 5, 7])
        kh, kw = (k, k) if rng.random() < 0.8 else (k, rng.choice([1, 3]))
        s, d = rng.choice([1, 1, 2]), rng.choice([1, 1, 1, 2])
        if kind == "depthwise":
            group, cout = c, c * rng.choice([1, 1, 1, 2])
        elif kind == "grouped" and c % 2 == 0 and c > 2:
            group, cout = c // 2, c
        else:
            group, cout = 1, rng.choice([c, 4, 8, 16]) if kind != "pointwise" else rng.choice([8, 16, 24])
            if kind == "pointwise":
                kh = kw = 1
        attrs = {"group": group, "kernel_shape": [kh, kw], "strides": [s, s], "dilations": [d, d]}
        mode = rng.choice(["pads", "pads", "asym", "SAME_UPPER", "SAME_LOWER", "VALID", "none"])
        lo = [d * (kh - 1) // 2, d * (kw - 1) // 2]
        if mode == "pads":
            pads = lo + lo
        elif mode == "asym":
            pads = [rng.randrange(kh), rng.randrange(kw), rng.randrange(kh), rng.randrange(kw)]
        else:
            pads = [0, 0, 0, 0]
        if mode in ("pads", "asym"):
            attrs["pads"] = pads
        elif mode != "none":
            attrs["auto_pad"] = mode
            if mode.startswith("SAME"):  # onnxruntime (the oracle) runs SAME_* undilated only
                attrs["dilations"] = [1, 1]
        if mode.startswith("SAME"):
            ho, wo = -(-h // s), -(-w // s)
        else:
            ho, wo = _out(h, kh, s, d, pads[0], pads[2]), _out(w, kw, s, d, pads[1], pads[3])
        if ho < 1 or wo < 1:  # does not fit: a 1x1 conv instead (still a valid layer)
            attrs.update(kernel_shape=[1, 1], dilations=[1, 1], strides=[1, 1])
            attrs.pop("auto_pad", None)
            attrs["pads"] = [0, 0, 0, 0]
            kh = kw = 1
            ho, wo = h, w
        name = self.fresh("conv")
        inputs = [self.cur, self.weight(f"{name}_w", (cout, c // group, kh, kw), 0.5)]
        if rng.random() < 0.6:
            inputs.append(self.weight(f"{name}_b", (cout,), 0.1))
        self.count -= 1
        self.add("Conv", inputs, [n, cout, ho, wo], **attrs)

    def batchnorm(self) -> None:
        import numpy as np

        name, c = self.fresh("bn"), self.shape[1]
        self.count -= 1
        ins = [self.cur, self.weight(f"{name}_scale", (c,)), self.weight(f"{name}_bias", (c,))]
        ins.append(self.weight(f"{name}_mean", (c,)))
        self.inits[f"{name}_var"] = np.abs(np.random.default_rng(c).standard_normal(c)).astype(np.float32) + 0.1
        self.add("BatchNormalization", ins + [f"{name}_var"], self.shape, epsilon=1e-5)

    def activation(self) -> None:
        import numpy as np

        op = self.rng.choice(["Relu", "Clip", "Sigmoid", "HardSwish", "HardSigmoid", "Tanh", "silu", "Elu"])
        if op == "Clip":
            lo, hi = self.fresh("lo"), self.fresh("hi")
            self.inits[lo], self.inits[hi] = np.array(0.0, np.float32), np.array(6.0, np.float32)
            self.add("Clip", [self.cur, lo, hi], self.shape)
        elif op == "silu":
            x = self.cur
            self.add("Sigmoid", [x], self.shape)
            self.add("Mul", [x, self.cur], self.shape)
        else:
            self.add(op, [self.cur], self.shape)

    def residual(self) -> None:
        same = [t for t, s in self.history[:-1] if s == self.shape]
        if same:
            self.add(self.rng.choice(["Add", "Add", "Mul", "Sub"]), [self.cur, self.rng.choice(same)], self.shape)

    def pool(self) -> None:
        n, c, h, w = self.shape
        if h >= 2 and w >= 2 and self.rng.random() < 0.7:
            self.add(self.rng.choice(["MaxPool", "AveragePool"]), [self.cur], [n, c, h // 2, w // 2],
                     kernel_shape=[2, 2], strides=[2, 2])
        else:
            self.add("GlobalAveragePool", [self.cur], [n, c, 1, 1])

    def concat(self) -> None:
        n, c, h, w = self.shape
        self.add("Concat", [self.cur, self.cur], [n, 2 * c, h, w], axis=1)

    def head(self) -> None:
        n, c, _, _ = self.shape
        self.add("GlobalAveragePool", [self.cur], [n, c, 1, 1])
        self.add("Flatten", [self.cur], [n, c], axis=1)
        name = self.fresh("fc")
        self.count -= 1
        self.add("Gemm", [self.cur, self.weight(f"{name}_w", (10, c)), self.weight(f"{name}_b", (10,))],
                 [n, 10], transB=1)

    def proto(self, declared=None, elem_type=None):
        from onnx import TensorProto, helper, numpy_helper

        graph = helper.make_graph(
            self.nodes, "fuzz",
            [helper.make_tensor_value_info(self.input_name, elem_type or TensorProto.FLOAT,
                                           self.history[0][1] if declared is None else declared)],
            [helper.make_tensor_value_info(self.cur, TensorProto.FLOAT, None)],
            [numpy_helper.from_array(a, k) for k, a in self.inits.items()])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])


def random_net(rng: random.Random) -> Net:
    """A valid random network: a depthwise conv always, 0-5 more layers around it."""
    c = rng.choice([1, 3, 4, 8, 16, 32])
    hw = [rng.choice([1, 2, 3, 5, 8, 12, 16, 23, 32]) for _ in range(2)]
    if rng.random() < 0.7:
        hw[1] = hw[0]
    net = Net(rng, [rng.choice([1, 1, 1, 2]), c, *hw], rng.choice(["x", "input", "images", "in.0"]))
    layers = [rng.choice(["conv", "pointwise", "batchnorm", "activation", "residual", "pool", "concat",
                          "grouped"]) for _ in range(rng.randrange(0, 5))]
    layers.insert(rng.randrange(len(layers) + 1), "depthwise")
    for layer in layers:
        if layer in ("conv", "pointwise", "grouped", "depthwise"):
            net.conv("dense" if layer == "conv" else layer)
        else:
            getattr(net, layer)()
    if rng.random() < 0.15:
        net.head()
    return net


def _nodes(model, op: str | None = None) -> list:
    return [n for n in model.graph.node if op is None or n.op_type == op]


def _set_attr(node, name: str, value) -> None:
    from onnx import helper

    for i, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[i]
            break
    if value is not None:
        node.attribute.append(helper.make_attribute(name, value))


def _init(model, name: str):
    for t in model.graph.initializer:
        if t.name == name:
            return t
    return None


def _replace_init(model, name: str, array) -> None:
    from onnx import numpy_helper

    old = _init(model, name)
    if old is not None:
        old.CopyFrom(numpy_helper.from_array(array, name))


def _conv_attr(values):
    def mutate(rng, model, net):
        if not _nodes(model, "Conv"):
            return
        node = rng.choice(_nodes(model, "Conv"))
        what, choices = values
        _set_attr(node, what, rng.choice(choices))
        if what == "auto_pad":
            _set_attr(node, "pads", None) if rng.random() < 0.5 else None
    return mutate


def _weight(rng, model, net):
    import numpy as np

    convs = [n for n in _nodes(model, "Conv") if len(n.input) > 1 and _init(model, n.input[1]) is not None]
    if not convs:
        return
    node = rng.choice(convs)
    w = _init(model, node.input[1])
    from onnx import numpy_helper

    array = numpy_helper.to_array(w)
    change = rng.choice(["dtype", "shape", "zero", "values", "rank"])
    if change == "dtype":
        array = array.astype(rng.choice([np.int8, np.uint8, np.float16, np.float64, np.int32, np.int64]))
    elif change == "shape":
        shape = list(array.shape)
        shape[rng.randrange(4)] = rng.choice([0, 2, 7, 17, 64])
        array = np.ones(shape, np.float32)
    elif change == "zero":
        array = np.zeros((0,), np.float32)
    elif change == "values":
        array = array.copy()
        array.flat[rng.randrange(array.size)] = rng.choice([np.nan, np.inf, -np.inf, 3e38, 1e-45])
    else:
        array = array.reshape(array.shape + (1,)) if rng.random() < 0.5 else array.reshape(array.shape[:2] + (-1,))
    _replace_init(model, node.input[1], array)


def _bias(rng, model, net):
    import numpy as np

    with_bias = [n for n in _nodes(model, "Conv") if len(n.input) > 2 and _init(model, n.input[2]) is not None]
    if not with_bias:
        return
    node = rng.choice(with_bias)
    _replace_init(model, node.input[2], rng.choice([
        np.ones(rng.choice([0, 1, 3, 1000]), np.float32), np.ones((2, 2), np.float32),
        np.ones(4, np.int64)]))


def _input_name(rng, model, net):
    node = rng.choice(_nodes(model))
    slot = rng.randrange(len(node.input))
    node.input[slot] = rng.choice(["", "ghost", node.output[0], " "])


def _node_name(rng, model, net):
    nodes = _nodes(model)
    node = rng.choice(nodes)
    node.name = rng.choice(["", rng.choice(nodes).name, "n" * 300, "conv1/../x"])


def _declared(rng, model, net):
    from onnx import TensorProto

    value = model.graph.input[0]
    dims = value.type.tensor_type.shape.dim
    change = rng.choice(["dim", "huge", "rank", "type", "symbolic", "none"])
    if change == "dim":
        d = dims[rng.randrange(len(dims))]
        d.Clear()
        choice = rng.choice([0, -1, 20000, 2 ** 31, 2 ** 62, "h", ""])
        if isinstance(choice, int):
            d.dim_value = choice
        elif choice:
            d.dim_param = choice
    elif change == "huge":
        for d in list(dims)[2:]:
            d.Clear()
            d.dim_value = rng.choice([20000, 100000, 2 ** 31])
    elif change == "rank":
        if rng.random() < 0.5:
            del dims[-1]
        else:
            dims.add().dim_value = 1
    elif change == "type":
        value.type.tensor_type.elem_type = rng.choice([TensorProto.INT32, TensorProto.FLOAT16,
                                                       TensorProto.DOUBLE, TensorProto.INT8, TensorProto.BOOL])
    elif change == "symbolic":
        for d in dims:
            d.Clear()
            d.dim_param = rng.choice(["N", "h", "w"])
    else:
        value.type.tensor_type.ClearField("shape")


def _graph(rng, model, net):
    from onnx import helper

    change = rng.choice(["output", "no_output", "reverse", "opset", "unknown_op", "domain", "dangling",
                         "dup_input", "extra_input", "weight_input"])
    graph = model.graph
    if change == "output":
        graph.output[0].name = rng.choice(["ghost", "", graph.input[0].name])
    elif change == "no_output":
        del graph.output[:]
    elif change == "reverse" and len(graph.node) > 1:
        nodes = list(graph.node)
        del graph.node[:]
        graph.node.extend(reversed(nodes))
    elif change == "opset":
        model.opset_import[0].version = rng.choice([1, 6, 9, 11, 13, 22, 99, 0])
    elif change == "unknown_op":
        rng.choice(list(graph.node)).op_type = rng.choice(["FancyConv", "conv", "", "Conv3D"])
    elif change == "domain":
        rng.choice(list(graph.node)).domain = rng.choice(["com.example", "ai.onnx.ml", "com.microsoft"])
    elif change == "dangling":
        if len(graph.initializer):
            del graph.initializer[rng.randrange(len(graph.initializer))]
    elif change == "dup_input":
        graph.input.append(graph.input[0])
    elif change == "extra_input":
        graph.input.append(helper.make_tensor_value_info("extra", 1, [1, 3, 100000, 100000]))
    elif change == "weight_input":
        convs = [n for n in _nodes(model, "Conv") if len(n.input) > 1 and _init(model, n.input[1]) is not None]
        if not convs:
            return
        t = _init(model, rng.choice(convs).input[1])
        graph.input.append(helper.make_tensor_value_info(t.name, 1, list(t.dims)))
        graph.initializer.remove(t)


def _other_attr(rng, model, net):
    node = rng.choice(_nodes(model))
    name = rng.choice(["kernel_shape", "strides", "pads", "group", "axis", "epsilon", "alpha", "transB"])
    _set_attr(node, name, rng.choice([[0, 0], [-1], [1, 1, 1], 0, -3, 2 ** 40, 1.5, "x", [1.5, 2.0]]))


MODEL_MUTATIONS = {
    "strides": _conv_attr(("strides", [[0, 1], [-1, 1], [1], [1, 1, 1], [2 ** 31, 1], [0, 0], [5, 5]])),
    "pads": _conv_attr(("pads", [[-1, 0, 0, 0], [9, 9, 9, 9], [1, 1], [1, 1, 1], [2 ** 40, 0, 0, 0],
                                 [5000, 5000, 5000, 5000]])),
    "dilations": _conv_attr(("dilations", [[0, 1], [-2, 1], [9, 9], [1], [2 ** 31, 1]])),
    "kernel_shape": _conv_attr(("kernel_shape", [[4, 4], [3], [0, 0], [1, 1], [99, 99], [3, 3, 3]])),
    "group": _conv_attr(("group", [0, -1, 2, 3, 1000, 2 ** 40])),
    "auto_pad": _conv_attr(("auto_pad", ["BOGUS", "", "same_upper", "VALID", "SAME_LOWER", "NOTSET"])),
    "weight": _weight, "bias": _bias, "input_name": _input_name, "node_name": _node_name,
    "declared": _declared, "graph": _graph, "attribute": _other_attr,
}


def model_bytes(rng: random.Random, mutations: int | None = None):
    """(ONNX bytes, anchors, mutation names, dynamic dims?) of a random network."""
    net = random_net(rng)
    model = net.proto()
    if mutations is None:
        mutations = rng.choice([0, 0, 1, 1, 1, 2, 3])
    names = rng.sample(sorted(MODEL_MUTATIONS), mutations)
    for name in names:
        MODEL_MUTATIONS[name](rng, model, net)
    anchors = [f"'{n.name}'" for n in model.graph.node if n.name] + [f"'{model.graph.name}'"]
    anchors += [n.op_type for n in model.graph.node if not n.name]  # named by op type and index
    tensors = {t for n in model.graph.node for t in (*n.input, *n.output)}
    tensors |= {i.name for i in model.graph.input} | {o.name for o in model.graph.output}
    anchors += [f"'{t}'" for t in sorted(tensors)]
    dynamic = any(not d.HasField("dim_value") for d in model.graph.input[0].type.tensor_type.shape.dim)
    return model.SerializeToString(), anchors, names, dynamic


def tiny_model() -> bytes:
    """A fixed network with dynamic height and width (--resolution picks them): a padded
    3x3 stride-2 conv, ReLU6, an unpadded 3x3 depthwise conv ('dw'), batch norm, ReLU.
    Resolutions of 5 and more run; below, 'dw' has no room for its kernel."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in (
        ("stem_w", rng.standard_normal((8, 3, 3, 3)) * 0.3), ("stem_b", rng.standard_normal(8) * 0.1),
        ("lo", np.array(0.0)), ("hi", np.array(6.0)), ("dw_w", rng.standard_normal((8, 1, 3, 3)) * 0.3),
        ("bn_scale", rng.standard_normal(8)), ("bn_bias", rng.standard_normal(8)),
        ("bn_mean", rng.standard_normal(8) * 0.1), ("bn_var", np.abs(rng.standard_normal(8)) + 0.5))]
    nodes = [
        helper.make_node("Conv", ["x", "stem_w", "stem_b"], ["s"], name="stem", kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["s", "lo", "hi"], ["r"], name="relu6"),
        helper.make_node("Conv", ["r", "dw_w"], ["d"], name="dw", group=8, kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["d", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["b"],
                         name="bn"),
        helper.make_node("Relu", ["b"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


TINY_ANCHORS = ["'stem'", "'relu6'", "'dw'", "'bn'", "'relu'", "'x'", "'y'"]


# --------------------------------------------------------------------------- #
# Arguments
# --------------------------------------------------------------------------- #
NUMBERS_HOSTILE = ["0", "-1", "-3", "abc", "", "1e3", "3.5", " 8", "0x10", "８", "99999999999999999999",
                   str(2 ** 63), str(2 ** 64), str(2 ** 31), "10000", "20000", "4096", "1" * 400, "nan",
                   "+5", "1_000", "٣"]


def _flag_values(rng: random.Random) -> dict:
    return {
        "--resolution": (lambda: rng.choice(["1", "2", "3", "5", "8", "17", "24"]),
                         lambda: rng.choice(NUMBERS_HOSTILE + ["1"])),
        "--seed": (lambda: rng.choice(["0", "3", "7", str(2 ** 63 - 2)]),
                   lambda: rng.choice(NUMBERS_HOSTILE + [str(2 ** 63 - 1), "99999999999999999999999"])),
        "--dtype": (lambda: rng.choice(["bf16", "bfp8_b", "bfp4_b", "bfloat8_b", "BF16"]),
                    lambda: rng.choice(["fp8", "", "int8", "bfp2_b", "bf16 ", "f32"])),
        "--weight-dtype": (lambda: rng.choice(["bf16", "bfp8_b"]), lambda: rng.choice(["x", "bfp16_b"])),
        "--device": (lambda: rng.choice(["n150", "p150"]), lambda: rng.choice(["x", "", "N150", "n300"])),
        "--path": (lambda: rng.choice(["pool", "auto", "matmul"]), lambda: rng.choice(["none", "POOL"])),
        "--backend": (lambda: "reference", lambda: rng.choice(["sim", "ttnn", "gpu", ""])),
        "--sim-layers": (lambda: rng.choice(["1", "2"]), lambda: rng.choice(NUMBERS_HOSTILE)),
        "--out": (lambda: rng.choice(["@out", "@out/deeper/still"]),
                  lambda: rng.choice(["@file", "/proc/tt-dw-denied", "@file/x", "", "@dir"])),
        "--report": (lambda: "@out/r.html",
                     lambda: rng.choice(["/proc/tt-dw-denied/r.html", "@file/r.html", "@dir", ""])),
        "--input-shape": (None, lambda: _shape_text(rng)),
        "--model": (None, lambda: rng.choice(["@tiny", "resnet50", "@missing.onnx", ""])),
        "--no-debug-info": (lambda: None, None), "--progress": (lambda: None, None),
        "--no-progress": (lambda: None, None), "--json": (lambda: None, None),
        "--kernel-profile": (None, lambda: rng.choice(["ours", "x"])),
        "--batch": (None, lambda: rng.choice(NUMBERS_HOSTILE)),
        "--nope": (None, lambda: None), "--version": (None, lambda: None), "-h": (None, lambda: None),
    }


def _shape_text(rng: random.Random) -> str:
    dims = [rng.choice(["0", "1", "2", "3", "8", "16", "48", "320", "100000", "99999999999", "-2", "a"])
            for _ in range(rng.choice([0, 1, 3, 4, 4, 4, 5]))]
    text = rng.choice(["x", "X", ",", "x", "×"]).join(dims)
    if rng.random() < 0.4:
        text = rng.choice(["x=", "input=", "=", "nope=", "a=b=", "x =", "", "in.0="]) + text
    return text


def _extra_files(rng: random.Random) -> dict[str, bytes | None]:
    tiny = tiny_model()
    return {"tiny.onnx": tiny, "empty.onnx": b"", "file": b"not a folder", "dir": None,
            "junk.onnx": bytes(rng.randrange(256) for _ in range(64)),
            "truncated.onnx": tiny[:rng.randrange(1, len(tiny))], "text.onnx": b"ir_version: 7\ngraph {}\n"}


def cli_case(rng: random.Random, index: int, *, builtin_share: float = 0.01) -> CliCase:
    """One case: a model (generated, mutated, fixed or not a model) and an argv over it."""
    files = _extra_files(rng)
    anchors: list[str] = []
    valid = True
    source = rng.random()
    dynamic = False
    if source < 0.6:
        data, anchors, mutations, dynamic = model_bytes(rng)
        files["model.onnx"] = data
        model, valid = "@model.onnx", not mutations
        tag = "model:" + ("+".join(mutations) or "valid")
    elif source < 0.6 + builtin_share:
        model, tag = rng.choice(["mobilenetv2", "efficientnet_b0", "MobileNetV2"]), "builtin"
    elif source < 0.85:
        model, tag, anchors = "@tiny.onnx", "tiny", list(TINY_ANCHORS)
        dynamic = True
    else:
        model = rng.choice(["@missing.onnx", "@empty.onnx", "@junk.onnx", "@truncated.onnx", "@text.onnx",
                            "@dir", "resnet50", "../..", "-", "@file", "mobilenetv2.onnx", "@"])
        tag, valid = "not-a-model", False
    command = rng.choice(["run"] * 5 + ["compile"] * 4 + ["cost", "", "cost-nope", "--json"])
    valid &= command in ("run", "compile")
    argv = [command, model] if command else [model]
    if rng.random() < 0.1:  # the model given by flag instead
        argv = [command, "--model", model] if command else ["--model", model]
    options = _flag_values(rng)
    hostile_share = rng.choice([0.0, 0.0, 0.3, 0.7])
    for flag in rng.sample(sorted(options), rng.randrange(0, 5)):
        good, bad = options[flag]
        hostile = good is None or (bad is not None and rng.random() < hostile_share)
        if flag in ("--backend", "--sim-layers") and not hostile and command != "run":
            continue
        maker = bad if hostile else good
        value = maker()
        # a chosen size may not fit the model: either outcome is right, both are judged
        valid &= not hostile and flag not in ("--resolution", "--input-shape")
        if value is None:
            argv.append(flag)
        elif rng.random() < 0.15:
            argv.append(f"{flag}={value}")
        else:
            argv += [flag, value]
    if rng.random() < 0.05 and len(argv) > 3:  # the end again: a flag twice, or a stray value
        argv += argv[-2:]
        valid = False
    if tag == "builtin" and not any(a.startswith(("--resolution", "--input-shape")) for a in argv):
        argv += ["--resolution", rng.choice(["8", "16", "32"])]  # keeps a built-in case quick
    if dynamic and not any(a.startswith(("--resolution", "--input-shape")) for a in argv):
        if rng.random() < 0.9:
            size = rng.choice(["3", "8", "16", "24"])
            argv += ["--resolution", size]
            valid &= tag == "tiny" and int(size) >= 5
        else:
            valid = False  # dynamic dims left unresolved: refused
    if not any(a.startswith("--out") for a in argv):
        argv += ["--out", "@out"]
    if not any(a in ("--no-progress", "--progress") for a in argv) and rng.random() < 0.5:
        argv.append("--no-progress")
    if rng.random() < 0.4 and "--json" not in argv:
        argv.append("--json")
    if "--backend" in argv and argv[argv.index("--backend") + 1] == "sim":
        valid = False  # the simulator may be absent: either outcome is fine, both judged
    repeat = valid and command == "compile" and rng.random() < 0.3
    return CliCase(f"cli-{index}:{tag}", argv, files, anchors, valid=valid, repeat=repeat)


def generated_cases(count: int, seed: int, *, builtin_share: float = 0.01) -> list[CliCase]:
    rng = random.Random(seed)
    return [cli_case(rng, i, builtin_share=builtin_share) for i in range(count)]


# --------------------------------------------------------------------------- #
# The reported kinds (issue 11, items 11-14), each refused with its location
# --------------------------------------------------------------------------- #
def _model_of(change) -> bytes:
    net = Net(random.Random(1), [1, 3, 8, 8])
    net.conv("depthwise")
    model = net.proto()
    change(model)
    return model.SerializeToString()


def _conv(model):
    return model.graph.node[0]


def fixed_cases() -> list[CliCase]:
    import numpy as np

    def attr(name, value):
        return lambda m: _set_attr(_conv(m), name, value)

    def weight_int8(m):
        _replace_init(m, _conv(m).input[1], np.ones((3, 1, 3, 3), np.int8))

    def empty_input(m):
        _conv(m).input[0] = ""

    def conv_3d(m):
        _replace_init(m, _conv(m).input[1], np.ones((3, 1, 3, 3, 1), np.float32))
        _set_attr(_conv(m), "kernel_shape", [3, 3, 1])
        _set_attr(_conv(m), "pads", None)

    def same_dilated(m):  # valid ONNX that onnxruntime, the reference, does not run
        _set_attr(_conv(m), "pads", None)
        _set_attr(_conv(m), "auto_pad", "SAME_UPPER")
        _set_attr(_conv(m), "dilations", [2, 2])

    def declared(*dims):
        def change(m):
            d = m.graph.input[0].type.tensor_type.shape.dim
            for i, v in enumerate(dims):
                d[i].dim_value = v
        return change

    node = ["'conv1'"]
    cases = [
        ("empty input name", empty_input, node), ("strides 0", attr("strides", [0, 1]), node),
        ("negative stride", attr("strides", [-1, 1]), node), ("0-size kernel", attr("kernel_shape", [0, 0]), node),
        ("kernel larger than input", attr("kernel_shape", [9, 9]), node),
        ("auto_pad BOGUS", attr("auto_pad", "BOGUS"), node), ("kernel_shape vs weight", attr("kernel_shape", [5, 5]), node),
        ("int8 weights", weight_int8, node),
        ("declared 100000x100000", declared(1, 3, 100000, 100000), ["'x'"]),
        ("declared 20000x20000", declared(1, 3, 20000, 20000), ["'x'"]),
        # found by the fuzzer (internal errors before)
        ("input without a shape", lambda m: m.graph.input[0].type.tensor_type.ClearField("shape"), ["'x'"]),
        ("3-D conv on a 2-D input, run on the host", conv_3d, node),
        ("pads beyond i32", attr("pads", [2 ** 40, 0, 0, 0]), node),
        ("dilated SAME conv", same_dilated, ["model.onnx"]),  # the reference's refusal: the file
    ]
    out = [CliCase(f"fixed:{name}", ["run", "@model.onnx", "--out", "@out", "--json"],
                   {"model.onnx": _model_of(change)}, anchors, only_anchors=True)
           for name, change, anchors in cases]
    tiny = {"tiny.onnx": tiny_model(), "empty.onnx": b""}
    for argv, anchors in ((["run", "--resolution", "99999999999999999999", "--out", "@out"], ["--resolution"]),
                          (["run", "--seed", "99999999999999999999999", "--out", "@out"], ["--seed"]),
                          (["run", "--resolution", "10000", "--out", "@out", "--json"], ["--resolution"]),
                          (["compile", "@empty.onnx", "--out", "@out"], ["empty.onnx"]),
                          (["run", "@tiny.onnx", "--resolution", "1", "--out", "@out"], ["'dw'", "'stem'"]),
                          # found by the fuzzer: f32 was taken, then had no PCC target; the
                          # size in MiB of a 400-digit resolution overflowed a float
                          (["run", "@tiny.onnx", "--resolution", "8", "--dtype", "f32"], ["--weight-dtype"]),
                          (["run", "@tiny.onnx", "--resolution", "1" * 400], ["'x'"])):
        out.append(CliCase(f"fixed:{' '.join(argv[:3])}", argv, tiny, anchors, only_anchors=True))
    return out


# --------------------------------------------------------------------------- #
# Tests
# --------------------------------------------------------------------------- #
def describe(outcomes) -> str:
    return "\n".join(f"- {o.case.name}: {o.problem}\n    tt-dw {' '.join(o.case.argv)}\n    {o.detail[-600:]!r}"
                     for o in outcomes if o.problem)


def test_reported_kinds_are_refused_with_their_location():
    outcomes = fuzzing.run_cases(fixed_cases(), workers=1)
    assert not [o for o in outcomes if o.problem], describe(outcomes)
    not_refused = [o.case.name for o in outcomes if o.rc != 1]
    assert not not_refused, f"accepted: {not_refused}"


def test_fuzz_arguments_and_models():
    count = int(os.environ.get("TT_DW_CLI_FUZZ_CASES", "40"))
    cases = generated_cases(count, seed=int(os.environ.get("TT_DW_FUZZ_SEED", "0")), builtin_share=0)
    outcomes = fuzzing.run_cases(cases, workers=2)
    failures = [o for o in outcomes if o.problem]
    assert not failures, describe(failures)
    # the generator reaches both sides: valid runs, and refusals
    assert sum(o.rc == 0 for o in outcomes) >= count // 10
    assert sum(o.rejected for o in outcomes) >= count // 4


def test_judge_catches_what_it_must():
    """The shared judge on made-up runs: each kind of misbehaviour is named."""
    req = fuzzing.request("j", "tt-dw", ["run", "@m.onnx", "--json"], {}, anchors=["'conv1'"])

    def verdict(rc=1, stderr="tt-dw: error: node 'conv1': bad", stdout='{"error": {"message": "x"}}', **kw):
        base = dict(rc=rc, signal_number=None, stdout=stdout, stderr=stderr, seconds=0.1, peak_bytes=1 << 20)
        return fuzzing.judge(req, **{**base, **kw})

    assert verdict() is None
    assert "signal" in verdict(rc=None, signal_number=11)
    assert "Traceback" in verdict(stderr="Traceback (most recent call last):\n  x\ntt-dw: error: node 'conv1'")
    assert "internal error" in verdict(stderr="tt-dw: error: internal error: KeyError")
    assert "names nothing" in verdict(stderr="tt-dw: error: out of memory")
    assert verdict(stderr="tt-dw: error: compiling failed:\nm.ttir.mlir:3:7: error: bad") is None
    assert "exit status" in verdict(rc=2)
    assert "memory" in verdict(peak_bytes=3 << 30)
    assert "took" in verdict(seconds=61)
    assert "error object" in verdict(stdout="")
    assert "refused" in fuzzing.judge({**req, "valid": True}, rc=1, signal_number=None, stdout="{}",
                                      stderr="tt-dw: error: node 'conv1': x", seconds=0, peak_bytes=0)


# Real console-script runs: the entry point as installed, judged by the same judge (the
# memory limit is the fork server's to check: a child of pytest inherits its peak).
SUBPROCESS_CASES = [
    (["run", "@tiny.onnx", "--resolution", "8", "--out", "@out", "--json"], 0),
    (["compile", "@empty.onnx", "--out", "@out"], 1),
    (["run", "--resolution", "99999999999999999999", "--json"], 1),
    (["run", "@bogus.onnx", "--out", "@out"], 1),
    (["cost-nope"], 1),
]


def test_real_subprocess_runs(tmp_path):
    files = {"tiny.onnx": tiny_model(), "empty.onnx": b"",
             "bogus.onnx": _model_of(lambda m: _set_attr(_conv(m), "auto_pad", "BOGUS"))}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    for argv, expected in SUBPROCESS_CASES:
        case = CliCase("subprocess", argv, files, ["'conv1'"])
        real = fuzzing._expand(argv, tmp_path)
        started = time.monotonic()
        done = subprocess.run([str(TT_DW_BIN), *real], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path, env={**os.environ, "TT_DW_DEBUG": ""})
        req = case.request()
        req["anchors"] = fuzzing._expand(req["anchors"], tmp_path)
        problem = fuzzing.judge(req, rc=done.returncode if done.returncode >= 0 else None,
                                signal_number=-done.returncode if done.returncode < 0 else None,
                                stdout=done.stdout, stderr=done.stderr,
                                seconds=time.monotonic() - started, peak_bytes=0)
        assert problem is None, f"tt-dw {' '.join(real)}: {problem}\n{done.stderr[-2000:]}"
        assert done.returncode == expected, f"tt-dw {' '.join(real)}: exit {done.returncode}\n{done.stderr[-2000:]}"
