"""PyTorch and ONNX frontends: emitted TTIR structure, folding numerics, errors."""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from torch import nn

from tt_dw_mlir.frontends import (EMITTED_OPS, UnsupportedOpError, onnx_to_ttir, run_ttir,
                                  torch_to_ttir)
from tt_dw_mlir.executor import constant_array
from tt_dw_mlir.ir import ir, name_of



def _seeded_bn(bn: nn.BatchNorm2d, gen: torch.Generator) -> None:
    c = bn.num_features
    with torch.no_grad():
        bn.weight.copy_(torch.rand(c, generator=gen) + 0.5)
        bn.bias.copy_(torch.randn(c, generator=gen) * 0.2)
        bn.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
        bn.running_var.copy_(torch.rand(c, generator=gen) * 2 + 0.3)


class Tiny(nn.Module):
    """Stem conv+BN+ReLU6, a stride-2 depthwise conv+BN+SiLU, SE-style gate, head."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        gen = torch.Generator().manual_seed(1)
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(16, 16, 5, 2, 2, groups=16, bias=False),
                                nn.BatchNorm2d(16), nn.SiLU())
        self.project = nn.Conv2d(16, 8, 1)
        self.gate = nn.Hardswish()
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(8, 5))
        for bn in (self.stem[1], self.dw[1]):
            _seeded_bn(bn, gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw(self.stem(x))
        y = self.gate(self.project(y))
        y = y * torch.sigmoid(y.mean((2, 3), keepdim=True)) + y
        return self.head(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


@pytest.fixture(scope="module")
def tiny():
    model = Tiny().eval()
    x = torch.randn(1, 3, 20, 20, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = model(x)
    return model, x, ref


def _conv_key(c):
    return (c.input_shape, c.output_shape, c.weight_shape, c.stride, c.padding, c.dilation,
            c.groups, c.activation)


def _legacy_onnx(model: nn.Module, x: torch.Tensor) -> onnx.ModelProto:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), buf, dynamo=False, opset_version=17)
    return onnx.load_from_string(buf.getvalue())


# ----------------------------------------------------------------------------- built module


def _ops(mod, function: str = "main"):
    """The ops of a function of the built (in-memory) module."""
    for op in mod.module.body.operations:
        op = op.operation
        if op.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == function:
            return [o.operation for o in op.regions[0].blocks[0].operations]
    raise KeyError(function)


def _function_type(mod, function: str = "main"):
    for op in mod.module.body.operations:
        op = op.operation
        if op.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == function:
            return ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
    raise KeyError(function)


def test_torch_conv_built_op_by_op(tiny):
    model, x, _ = tiny
    mod = torch_to_ttir(model, (x,))
    mod.module.operation.verify()
    ops = _ops(mod)
    convs = [op for op in ops if op.name == "ttir.conv2d"]
    assert [name_of(op.location) for op in convs] == ["stem.0", "dw.0", "project"]
    dw = convs[1]
    assert list(dw.attributes["stride"]) == [2, 2] and list(dw.attributes["padding"]) == [2, 2, 2, 2]
    assert list(dw.attributes["dilation"]) == [1, 1]
    assert ir.IntegerAttr(dw.attributes["groups"]).value == 16
    assert str(ir.IntegerAttr(dw.attributes["groups"]).type) == "i32"  # TTIROps.td: I32Attr
    assert [str(v.type) for v in dw.operands] == [
        "tensor<1x20x20x16xbf16>", "tensor<16x1x5x5xbf16>", "tensor<1x1x1x16xbf16>"]
    assert str(dw.results[0].type) == "tensor<1x10x10x16xbf16>"
    weight = dw.operands[1].owner
    assert weight.name == "ttir.constant" and name_of(weight.location) == "dw.0.weight"
    ftype = _function_type(mod)
    assert [str(t) for t in ftype.inputs] == ["tensor<1x3x20x20xbf16>"]
    assert [str(t) for t in ftype.results] == ["tensor<1x5xbf16>"]
    # the NCHW input is permuted to NHWC once, first thing
    assert ops[0].name == "ttir.permute" and list(ops[0].attributes["permutation"]) == [0, 2, 3, 1]
    assert sum(op.name == "ttir.permute" for op in ops) == 1
    for op in ops[:-1]:
        assert op.name in EMITTED_OPS


def test_constants_are_bf16_bits_rounded_once():
    # Ties round to even, as torch's float32 -> bfloat16: 1 + 2^-8 is a tie between 1 and
    # 1 + 2^-7 and rounds down to 1; 1 + 3 * 2^-8 rounds up to 1 + 2^-6.
    model = nn.Conv2d(1, 1, (1, 4), bias=False).eval()
    values = torch.tensor([1.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -2.0])
    with torch.no_grad():
        model.weight.copy_(values.reshape(1, 1, 1, 4))
    mod = torch_to_ttir(model, (torch.randn(1, 1, 2, 4),))
    const = next(op for op in _ops(mod) if op.name == "ttir.constant")
    got = constant_array(const.attributes["value"]).reshape(-1)
    np.testing.assert_array_equal(got, values.to(torch.bfloat16).float().numpy())
    assert list(got) == [1.0, 1.0, 1 + 2 ** -6, -2.0]


def test_f32_and_argument_weights(tiny):
    model, x, ref = tiny
    mod = torch_to_ttir(model, (x,), dtype="f32", weights="arguments")
    assert "bf16" not in mod.text and not any(op.name == "ttir.constant" for op in _ops(mod))
    func = next(op.operation for op in mod.module.body.operations)
    arg_attrs = [ir.DictAttr(a) for a in func.attributes["arg_attrs"]]
    kinds = [str(a["ttcore.argument_type"]) for a in arg_attrs]
    assert kinds.count("#ttcore.argument_type<parameter>") == len(mod.parameters) > 0
    assert kinds[0] == "#ttcore.argument_type<input>"
    assert "dw.0.weight" in [ir.StringAttr(a["ttir.name"]).value for a in arg_attrs]
    (out,), _ = run_ttir(mod, [x])
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


class _Affine(nn.Module):
    def forward(self, x):
        return torch.sigmoid(x * 3.0 + 0.1)


def _bf16(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.bfloat16).float()


def test_results_stored_in_the_element_type_the_ir_gives():
    """bf16 TTIR stores every op's result (and the input) as bf16, computed in fp32 and
    rounded once, as the device does; f32 TTIR keeps float32. Data movement is exact."""
    x = torch.randn(2, 257, generator=torch.Generator().manual_seed(0))
    scale, shift = _bf16(torch.tensor(3.0)), _bf16(torch.tensor(0.1))
    (bf16_out,), _ = run_ttir(torch_to_ttir(_Affine(), (x,), dtype="bf16"), [x])
    expected = _bf16(torch.sigmoid(_bf16(_bf16(_bf16(x) * scale) + shift)))
    assert torch.equal(bf16_out, expected)
    (f32_out,), _ = run_ttir(torch_to_ttir(_Affine(), (x,), dtype="f32"), [x])
    assert torch.equal(f32_out, torch.sigmoid(x * 3.0 + torch.tensor(0.1)))
    assert not torch.equal(f32_out, bf16_out)


def test_output_permuted_back_when_4d():
    model = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=4), nn.ReLU()).eval()
    x = torch.randn(1, 4, 6, 6)
    mod = torch_to_ttir(model, (x,), dtype="f32")
    assert sum(op.name == "ttir.permute" for op in _ops(mod)) == 2
    assert [str(t) for t in _function_type(mod).results] == ["tensor<1x4x6x6xf32>"]
    (out,), _ = run_ttir(mod, [x])
    torch.testing.assert_close(out, model(x).detach(), rtol=1e-5, atol=1e-5)
    assert mod.convs[0].activation == "relu"


def test_executor_drops_each_value_after_its_last_use():
    """A run holds the live activations only, not every value of the network."""
    import weakref

    class Chain(nn.Module):
        def forward(self, x):
            for _ in range(12):
                x = torch.neg(torch.relu(x))
            return x

    x = torch.randn(1, 4, 6, 6)
    mod = torch_to_ttir(Chain(), (x,), dtype="f32")
    seen: list = []
    most_alive = 0

    def watch(op, where, xs):
        nonlocal most_alive
        seen.extend(weakref.ref(t) for t in xs if isinstance(t, torch.Tensor) and t is not x)
        # distinct tensors: an op computed in place hands on its operand's tensor
        most_alive = max(most_alive, len({id(r()) for r in seen if r() is not None}))
        return None  # run the op itself

    (out,), _ = run_ttir(mod, [x], override=watch)
    torch.testing.assert_close(out, Chain()(x))
    assert len(seen) >= 23  # every op after the first reads its predecessor's result
    assert most_alive <= 2, most_alive  # kept all: one more per op


# ----------------------------------------------------------------------------- numerics


def test_folded_batch_norm_matches_unfolded_torch(tiny):
    model, x, _ = tiny
    mod = torch_to_ttir(model, (x,), dtype="f32")
    layers = {c.loc: c for c in mod.convs}
    assert layers["stem.0"].bn_folded and layers["dw.0"].bn_folded
    assert not layers["project"].bn_folded
    with torch.no_grad():
        stem_in = x
        dw_in = model.stem(x)
        # the folded weights as the IR holds them (f32: exact); the record of a depthwise
        # conv keeps its own copy (per-layer reports), a dense conv's are in the IR only
        in_ir = {name_of(op.location): op for op in _ops(mod) if op.name == "ttir.conv2d"}
        assert layers["stem.0"].weight is None and layers["project"].weight is None
        for loc, conv, bn, inp in (("stem.0", model.stem[0], model.stem[1], stem_in),
                                   ("dw.0", model.dw[0], model.dw[1], dw_in)):
            operands = [constant_array(v.owner.attributes["value"]) for v in in_ir[loc].operands[1:3]]
            if layers[loc].weight is not None:
                assert np.array_equal(layers[loc].weight, operands[0])
                assert np.array_equal(layers[loc].bias.reshape(-1), operands[1].reshape(-1))
            weight, bias = torch.from_numpy(operands[0]), torch.from_numpy(operands[1]).reshape(-1)
            if not layers[loc].is_depthwise:  # IR weights of a dense conv are OIHW too
                assert tuple(weight.shape) == tuple(conv.weight.shape)
            folded = F.conv2d(inp, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
            torch.testing.assert_close(folded, bn(conv(inp)), rtol=1e-5, atol=1e-5)
            # and the fold is not a no-op
            assert not np.allclose(weight.numpy(), conv.weight.numpy())


def test_torch_module_numerics(tiny):
    model, x, ref = tiny
    (out32,), captured = run_ttir(torch_to_ttir(model, (x,), dtype="f32"), [x],
                                  capture=("ttir.conv2d",))
    torch.testing.assert_close(out32, ref, rtol=1e-4, atol=1e-5)
    assert set(captured) == {"stem.0", "dw.0", "project"}
    (out16,), _ = run_ttir(torch_to_ttir(model, (x,)), [x])
    assert torch.corrcoef(torch.stack([out16.flatten(), ref.flatten()]))[0, 1] > 0.99


def test_conv_metadata(tiny):
    model, x, _ = tiny
    mod = torch_to_ttir(model, (x,))
    assert [c.loc for c in mod.depthwise_convs] == ["dw.0"]
    dw = mod.conv("dw.0")
    assert dw.module_path == "dw.0" and dw.activation == "silu" and dw.kernel == (5, 5)
    cfg = dw.config
    assert (cfg.channels, cfg.in_h, cfg.in_w, cfg.stride, cfg.out_h, cfg.out_w) == \
        (16, 20, 20, (2, 2), 10, 10)
    assert cfg.padding == (2, 2, 2, 2) and cfg.has_bias and cfg.activation == "silu"
    assert mod.conv("stem.0").config is None and mod.conv("stem.0").activation == "relu6"


# ----------------------------------------------------------------------------- both frontends


def test_torch_and_onnx_agree(tiny):
    model, x, ref = tiny
    from_torch = torch_to_ttir(model, (x,), dtype="f32")
    from_onnx = onnx_to_ttir(_legacy_onnx(model, x), dtype="f32")
    assert [_conv_key(c) for c in from_onnx.convs] == [_conv_key(c) for c in from_torch.convs]
    assert [c.module_path for c in from_onnx.convs] == [c.module_path for c in from_torch.convs]
    (out,), _ = run_ttir(from_onnx, [x])
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    assert from_onnx.op_counts["ttir.silu"] == 1  # Sigmoid + Mul on the same tensor


def _as_onnx_array(v) -> np.ndarray:
    v = np.asarray(v)
    return v.astype(np.int64) if v.dtype.kind in "iu" else v.astype(np.float32)


def _make_onnx(nodes, inits, in_shape, out_name, out_shape, opset=17):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(_as_onnx_array(v), k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _run_both(model: onnx.ModelProto, x: np.ndarray):
    expected = ReferenceEvaluator(model).run(None, {"x": x})[0]
    mod = onnx_to_ttir(model, dtype="f32")
    (out,), _ = run_ttir(mod, [x])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    return mod


def test_onnx_handwritten_ops():
    rng = np.random.default_rng(0)
    c = 8
    inits = {
        "w0": rng.normal(size=(c, 3, 3, 3)) * 0.3, "b0": rng.normal(size=c) * 0.1,
        "g": rng.uniform(0.5, 1.5, c), "beta": rng.normal(size=c) * 0.1,
        "mean": rng.normal(size=c) * 0.3, "var": rng.uniform(0.5, 2.0, c),
        "wd": rng.normal(size=(c, 1, 3, 3)) * 0.3,
        "scale": rng.normal(size=(c, 1, 1)),
        "lo": np.array(0.0), "hi": np.array(6.0),
        "fc": rng.normal(size=(4, c)) * 0.3, "fcb": rng.normal(size=4) * 0.1,
        "shape": np.array([1, -1]),
    }
    nodes = [
        # asymmetric pads: ONNX [x1_begin, x2_begin, x1_end, x2_end] = [pT, pL, pB, pR]
        helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], name="conv0", pads=[1, 0, 2, 1]),
        helper.make_node("BatchNormalization", ["c0", "g", "beta", "mean", "var"], ["bn0"],
                         name="bn0", epsilon=1e-3),
        helper.make_node("Clip", ["bn0", "lo", "hi"], ["r0"], name="clip0"),
        helper.make_node("Conv", ["r0", "wd"], ["c1"], name="dw", group=c, strides=[2, 2],
                         auto_pad="SAME_UPPER"),
        helper.make_node("HardSigmoid", ["c1"], ["hs"], name="hsig"),  # alpha 0.2: not ttir's
        helper.make_node("HardSwish", ["hs"], ["hw"], name="hswish"),
        helper.make_node("Sigmoid", ["hw"], ["sg"], name="sig"),
        helper.make_node("Mul", ["hw", "sg"], ["silu"], name="silu"),
        helper.make_node("Mul", ["silu", "scale"], ["scaled"], name="scale_mul"),
        helper.make_node("Add", ["scaled", "silu"], ["res"], name="residual"),
        helper.make_node("Relu", ["res"], ["relu"], name="relu"),
        helper.make_node("GlobalAveragePool", ["relu"], ["gap"], name="gap"),
        helper.make_node("Reshape", ["gap", "shape"], ["flat"], name="reshape"),
        helper.make_node("Gemm", ["flat", "fc", "fcb"], ["y"], name="fc", transB=1, alpha=0.5),
    ]
    model = _make_onnx(nodes, inits, [1, 3, 9, 10], "y", [1, 4])
    x = rng.normal(size=(1, 3, 9, 10)).astype(np.float32)
    mod = _run_both(model, x)
    conv0, dw = mod.convs
    assert conv0.padding == (1, 0, 2, 1) and conv0.bn_folded and conv0.activation == "relu6"
    assert conv0.output_shape == (1, 10, 9, 8)
    # SAME_UPPER, k3 s2 on 10x9: total pad 1 (H) -> 0/1, 2 (W) -> 1/1; odd extra at the end
    assert dw.padding == (0, 1, 1, 1) and dw.is_depthwise and dw.loc == "dw"
    assert mod.op_counts["ttir.silu"] == 1 and mod.op_counts["ttir.clamp_scalar"] == 1
    assert mod.op_counts["ttir.relu6"] == 1


def test_onnx_clip_attributes_reducemean_matmul_flatten():
    rng = np.random.default_rng(1)
    inits = {"w": rng.normal(size=(6, 4, 1, 1)), "m": rng.normal(size=(6, 3))}
    # opset 10: Clip min/max and ReduceMean axes are attributes
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="pw"),
        helper.make_node("Clip", ["c"], ["r"], name="clip", min=-1.0, max=2.5),
        helper.make_node("ReduceMean", ["r"], ["mu"], name="mean", keepdims=0, axes=[2, 3]),
        helper.make_node("MatMul", ["mu", "m"], ["mm"], name="mm"),
        helper.make_node("Flatten", ["mm"], ["y"], name="flat", axis=1),
    ]
    model = _make_onnx(nodes, inits, [2, 4, 5, 5], "y", [2, 3], opset=10)
    mod = _run_both(model, rng.normal(size=(2, 4, 5, 5)).astype(np.float32) * 2)
    assert mod.op_counts["ttir.clamp_scalar"] == 1 and mod.op_counts["ttir.matmul"] == 1
    clamp = next(op for op in _ops(mod) if op.name == "ttir.clamp_scalar")
    assert ir.FloatAttr(clamp.attributes["min"]).value == -1.0
    assert ir.FloatAttr(clamp.attributes["max"]).value == 2.5
    mean = next(op for op in _ops(mod) if op.name == "ttir.mean")
    assert [ir.IntegerAttr(a).value for a in mean.attributes["dim_arg"]] == [1, 2]  # NHWC H, W
    assert not ir.BoolAttr(mean.attributes["keep_dim"]).value


# ----------------------------------------------------------------------------- errors


def test_torch_unsupported_ops_are_all_named():
    class WithLstm(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 4, batch_first=True)

        def forward(self, x):
            y, _ = self.lstm(x)
            return F.gelu(torch.tanh(y), approximate="tanh")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(UnsupportedOpError) as info:
            torch_to_ttir(WithLstm().eval(), (torch.randn(1, 3, 4),), host_fallback=False)
    err = info.value
    assert "aten.lstm.input" in err.ops and "aten.tanh.default" not in err.ops  # tanh maps
    assert "aten.gelu.default" in err.ops  # tanh approximation is not ttir.gelu
    assert "lstm" in err.nodes and "lstm" in str(err) and "approximate='tanh'" in str(err)


def test_onnx_unsupported_ops_are_all_named():
    nodes = [helper.make_node("Einsum", ["x", "x"], ["e"], name="my_einsum", equation="ij,ij->ij"),
             helper.make_node("Softmax", ["e"], ["s"], name="my_softmax"),
             helper.make_node("Atan", ["s"], ["y"], name="my_atan")]
    model = _make_onnx(nodes, {}, [2, 2], "y", [2, 2])
    with pytest.raises(UnsupportedOpError) as info:
        onnx_to_ttir(model, host_fallback=False)
    assert info.value.ops == ["Atan", "Einsum"]  # Softmax maps to ttir.softmax
    assert "my_einsum" in str(info.value) and "my_atan" in str(info.value)


# ----------------------------------------------------------------------------- MLIR


def test_text_parses_with_mlir(tiny):
    from tt_dw_mlir.ir import ir

    model, x, _ = tiny
    for weights in ("constants", "arguments"):
        text = torch_to_ttir(model, (x,), weights=weights).text
        with ir.Context() as ctx:
            ctx.allow_unregistered_dialects = True
            module = ir.Module.parse(text)
            ops = module.body.operations[0].regions[0].blocks[0].operations
            convs = [op for op in ops if op.name == "ttir.conv2d"]
            assert [str(op.location) for op in convs] == \
                ['loc("stem.0")', 'loc("dw.0")', 'loc("project")']


# ----------------------------------------------------------------------------- whole-network API


def test_compile_runs_the_whole_network_and_reports_layers(tiny):
    import tt_dw_mlir

    model, x, ref = tiny
    model.train()  # the caller's mode is theirs: compile works on a copy in eval mode
    try:
        compiled = tt_dw_mlir.compile(model, x)  # a bare tensor as sample inputs
        assert model.training
    finally:
        model.eval()
    out = compiled(x)
    assert out.shape == ref.shape
    assert torch.corrcoef(torch.stack([out.flatten(), ref.flatten()]))[0, 1] > 0.999
    (layer,) = compiled.report.layers  # only the depthwise conv is a candidate
    assert layer.name == "dw.0" and layer.converted and layer.remark == ""
    assert layer.activation == "silu" and layer.layout["scheme"].endswith("_sharded")
    assert layer.input is None
    compiled.run(x, trace=True)
    assert tuple(layer.input.shape) == (1, 20, 20, 16) and tuple(layer.output.shape) == (1, 10, 10, 16)
    assert layer.backend == "reference"
    # the traced layer output is the conv + BN + SiLU of the traced input, by torch itself
    with torch.no_grad():
        expected = model.dw(layer.input.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    assert torch.corrcoef(torch.stack([layer.output.flatten(), expected.flatten()]))[0, 1] > 0.9999
    assert not compiled.host_ops and "converted 1 of 1" in compiled.report.summary()
    assert any(op.name == "ttnn.depthwise_pool_program" for op in _ops(compiled.network))


def test_compile_exports_a_module_in_eval_mode_without_copying_or_changing_it(tiny):
    """Not copied (a copy would double the weights' memory while compiling), and untouched:
    the same parameters, values, hooks and outputs afterwards."""
    import copy

    import tt_dw_mlir

    model, x, ref = tiny
    before = copy.deepcopy(model.state_dict())
    params = {k: v.data_ptr() for k, v in model.named_parameters()}
    deepcopies = []
    real = copy.deepcopy
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(copy, "deepcopy", lambda obj, *a: deepcopies.append(type(obj)) or real(obj, *a))
        compiled = tt_dw_mlir.compile(model, x)
    assert type(model) not in deepcopies
    assert not model.training and {k: v.data_ptr() for k, v in model.named_parameters()} == params
    after = model.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[k], before[k]) for k in before)
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    with torch.no_grad():
        assert torch.equal(model(x), ref)
    assert compiled(x).shape == ref.shape


def test_compile_keeps_nothing_of_the_caller_alive():
    """Once the compiled model is dropped, the module it was compiled from can be freed: no
    frame of the compile (whose locals hold the module) may outlive it. A pass memo once
    kept each refused conv's raised exception, whose traceback held every calling frame,
    in a cycle through the C++ pass manager that the garbage collector cannot break."""
    import gc
    import weakref

    import tt_dw_mlir

    def compile_one():
        model = Tiny().eval()  # dense convs too: refused, with a remark
        compiled = tt_dw_mlir.compile(model, torch.randn(1, 3, 20, 20))
        assert any(not r.converted for r in compiled.report.layers) or compiled.report.remarks
        return weakref.ref(model), weakref.ref(compiled)

    model, compiled = compile_one()
    gc.collect()
    assert compiled() is None and model() is None


def test_compile_frees_a_handed_over_module_before_the_passes(monkeypatch):
    """A caller that hands `compile` its only reference (as `tt-dw run` does) has the
    module's weights freed once it is imported, not after the passes and the printing:
    torch.export keeps it in reference cycles that only a collection breaks."""
    import weakref

    import tt_dw_mlir
    from tt_dw_mlir import api

    alive_at_passes = []
    real = api.run_pipeline
    monkeypatch.setattr(api, "run_pipeline",
                        lambda *a, **k: alive_at_passes.append(module() is not None) or real(*a, **k))
    handed = [Tiny().eval()]
    module = weakref.ref(handed[0])
    compiled = tt_dw_mlir.compile(handed.pop(), torch.randn(1, 3, 20, 20))
    assert alive_at_passes and not any(alive_at_passes)
    assert compiled(torch.randn(1, 3, 20, 20)).shape == (1, 5)


def test_compile_path_matmul_converts_nothing_and_says_why(tiny):
    import tt_dw_mlir

    model, x, ref = tiny
    compiled = tt_dw_mlir.compile(model, (x,), path="matmul")
    (layer,) = compiled.report.layers
    assert not layer.converted and layer.remark
    assert compiled.report.summary().startswith("nothing converted")
    torch.testing.assert_close(compiled(x), ref, rtol=0.05, atol=0.05)


def test_torch_compile_backend(tiny):
    model, x, ref = tiny
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="tt_dw")
    with torch.no_grad():
        out = compiled(x)
    assert torch.corrcoef(torch.stack([out.flatten(), ref.flatten()]))[0, 1] > 0.999


# ----------------------------------------------------------------------------- TTIR coverage


class EveryOp(nn.Module):
    """One of each op the frontends map (issue 10's list), around a depthwise conv."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.c1 = nn.Conv2d(3, 16, 3, padding=1)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.ln = nn.LayerNorm(16)
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = F.hardswish(self.c1(x))
        a, b = torch.split(y, 8, dim=1)
        y = torch.cat([b, a[:, :, :, :].unsqueeze(2).squeeze(2)], 1)
        y = F.dropout(self.dw(y), 0.5, training=False)
        y = F.max_pool2d(y, 2)
        y = self.ln(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        y = F.interpolate(y, scale_factor=2, mode="nearest")
        y = F.avg_pool2d(y, 2) / 2 - y.mean() ** 2
        y = torch.sqrt(torch.erf(y).abs() + 1) * F.hardsigmoid(y)
        y = F.interpolate(self.up(y), scale_factor=2, mode="bilinear") + F.adaptive_avg_pool2d(y, 1).mean()
        y = torch.softmax(y.transpose(2, 3), 1)
        return self.fc(y.mean((2, 3)))


def _ttir_ops(mod) -> set:
    found = set()
    for func in mod.module.body.operations:
        for op in func.operation.regions[0].blocks[0].operations:
            found.add(op.operation.name)
    return found


def test_torch_every_mapped_op_against_torch():
    model, x = EveryOp().eval(), torch.randn(1, 3, 16, 12)
    mod = torch_to_ttir(model, (x,), dtype="f32")
    assert not mod.host_steps
    ops = _ttir_ops(mod)
    for op in ("ttir.concat", "ttir.slice_static", "ttir.max_pool2d", "ttir.avg_pool2d",
               "ttir.layer_norm", "ttir.upsample2d", "ttir.div", "ttir.subtract", "ttir.pow",
               "ttir.sqrt", "ttir.erf", "ttir.abs", "ttir.hardsigmoid", "ttir.conv_transpose2d",
               "ttir.softmax", "ttir.mean", "ttir.linear", "ttir.conv2d"):
        assert op in ops, op
    (out,), _ = run_ttir(mod, [x])
    torch.testing.assert_close(out, model(x).detach(), rtol=1e-4, atol=1e-5)


class WithHostOp(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU())

    def forward(self, x):
        y = torch.special.i0(self.stem(x) * 0.1)  # aten.special_i0 has no TTIR mapping
        return self.dw(y) + y


def test_torch_host_fallback_partitions_and_converts_after_the_cut():
    import tt_dw_mlir

    model, x = WithHostOp().eval(), torch.randn(1, 3, 10, 10)
    compiled = tt_dw_mlir.compile(model, x)
    assert compiled.host_ops == {"aten.special_i0.default": 1}
    kinds = [type(step).__name__ for step in compiled.network.steps]
    assert kinds == ["TTIRCall", "HostStep", "TTIRCall"]
    (layer,) = compiled.report.layers
    assert layer.name == "dw.0" and layer.converted  # the region after the cut went through the passes
    assert "1 op(s) ran on the host: aten.special_i0.default x1" in compiled.report.summary()
    ref = model(x).detach()
    out = compiled(x)
    assert torch.corrcoef(torch.stack([out.flatten(), ref.flatten()]))[0, 1] > 0.999


def test_model_without_depthwise_conv_still_runs_and_says_so():
    import tt_dw_mlir

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)).eval()
    x = torch.randn(1, 3, 8, 8)
    compiled = tt_dw_mlir.compile(model, x)
    assert compiled.report.layers == []
    assert compiled.report.summary() == "nothing converted: the model has no depthwise conv"
    assert torch.corrcoef(torch.stack([compiled(x).flatten(), model(x).detach().flatten()]))[0, 1] > 0.999


def _ort(model: onnx.ModelProto, feeds: dict) -> list:
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _graph(nodes, inits, inputs, outputs, opset=17):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(_as_onnx_array(v), k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_onnx_every_mapped_op_against_onnxruntime():
    rng = np.random.default_rng(5)
    c = 8
    inits = {"wd": rng.normal(size=(c, 1, 3, 3)) * 0.3, "two": np.array(2.0), "half": np.array(0.5),
             "split": np.array([3, 5]), "starts": np.array([1]), "ends": np.array([7]),
             "axes": np.array([3]), "ax0": np.array([0]), "scales": np.array([1.0, 1.0, 2.0, 2.0]),
             "g": rng.uniform(0.5, 1.5, c), "beta": rng.normal(size=c) * 0.1,
             "wt": rng.normal(size=(c, 4, 2, 2)) * 0.3, "mm": rng.normal(size=(4, 3)) * 0.3}
    nodes = [
        helper.make_node("Conv", ["x", "wd"], ["d"], name="dw", group=c, pads=[1, 1, 1, 1]),
        helper.make_node("Div", ["d", "two"], ["q"], name="div"),
        helper.make_node("Sub", ["q", "half"], ["s"], name="sub"),
        helper.make_node("Pow", ["s", "two"], ["p"], name="pow"),
        helper.make_node("Sqrt", ["p"], ["r"], name="sqrt"),
        helper.make_node("Erf", ["r"], ["e"], name="erf"),
        helper.make_node("Split", ["e", "split"], ["e1", "e2"], name="split", axis=1),
        helper.make_node("Concat", ["e2", "e1"], ["cat"], name="concat", axis=1),
        helper.make_node("Slice", ["cat", "starts", "ends", "axes"], ["sl"], name="slice"),
        helper.make_node("Unsqueeze", ["sl", "ax0"], ["u"], name="unsqueeze"),
        helper.make_node("Squeeze", ["u", "ax0"], ["sq"], name="squeeze"),
        helper.make_node("MaxPool", ["sq"], ["mp"], name="maxpool", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("AveragePool", ["mp"], ["ap"], name="avgpool", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Resize", ["ap", "", "scales"], ["rs"], name="resize", mode="nearest"),
        helper.make_node("HardSwish", ["rs"], ["hs"], name="hswish"),
        helper.make_node("Transpose", ["hs"], ["t"], name="to_nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("LayerNormalization", ["t", "g", "beta"], ["ln"], name="ln", axis=-1),
        helper.make_node("Transpose", ["ln"], ["nc"], name="to_nchw", perm=[0, 3, 1, 2]),
        helper.make_node("ConvTranspose", ["nc", "wt"], ["ct"], name="convT", strides=[2, 2]),
        helper.make_node("Softmax", ["ct"], ["sm"], name="softmax", axis=1),
        helper.make_node("ReduceMean", ["sm"], ["m"], name="mean", axes=[2], keepdims=0),
        helper.make_node("Transpose", ["m"], ["mt"], name="tr", perm=[0, 2, 1]),
        helper.make_node("MatMul", ["mt", "mm"], ["y"], name="matmul"),
    ]
    model = _graph(nodes, inits, [("x", [1, c, 8, 8])], ["y"])
    x = rng.normal(size=(1, c, 8, 8)).astype(np.float32)
    (expected,) = _ort(model, {"x": x})
    mod = onnx_to_ttir(model, dtype="f32")
    assert not mod.host_steps
    (out,), _ = run_ttir(mod, [x])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_onnx_host_fallback_runs_on_onnxruntime():
    import tt_dw_mlir

    rng = np.random.default_rng(6)
    inits = {"wd": rng.normal(size=(4, 1, 3, 3)) * 0.3, "w2": rng.normal(size=(4, 1, 3, 3)) * 0.3}
    nodes = [helper.make_node("Conv", ["x", "wd"], ["a"], name="dw1", group=4, pads=[1, 1, 1, 1]),
             helper.make_node("Atan", ["a"], ["b"], name="my_atan"),       # no TTIR mapping
             helper.make_node("CumSum", ["b", "axis"], ["c"], name="my_cumsum"),
             helper.make_node("Conv", ["c", "w2"], ["y"], name="dw2", group=4, pads=[1, 1, 1, 1])]
    inits["axis"] = np.array(2)
    model = _graph(nodes, inits, [("x", [1, 4, 6, 6])], ["y"])
    x = rng.normal(size=(1, 4, 6, 6)).astype(np.float32)
    (expected,) = _ort(model, {"x": x})
    compiled = tt_dw_mlir.compile(model, dtype="f32")
    assert compiled.host_ops == {"Atan": 1, "CumSum": 1}
    assert [n for _, n, _ in compiled.report.host_nodes] == ["my_atan", "my_cumsum"]
    assert [layer.converted for layer in compiled.report.layers] == [True, True]
    out = compiled(x)
    assert torch.corrcoef(torch.stack([out.flatten(), torch.from_numpy(expected).flatten()]))[0, 1] > 0.9999


# ----------------------------------------------------------------------------- invalid ONNX (issue 11)


def _conv_model(weight_shape=(4, 1, 3, 3), in_shape=(1, 4, 6, 6), weight_dtype=np.float32,
                input_name="x", **attributes):
    w = np.ones(weight_shape, weight_dtype)
    node = helper.make_node("Conv", [input_name, "w"], ["y"], name="the_conv", group=4, **attributes)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("model, message", [
    (_conv_model(input_name=""), "empty input name"),
    (_conv_model(strides=[0, 1]), "strides must be positive, got [0, 1]"),
    (_conv_model(strides=[-1, 1]), "strides must be positive, got [-1, 1]"),
    (_conv_model(weight_shape=(4, 1, 0, 3)), "kernel must be at least 1x1, got [0, 3]"),
    (_conv_model(in_shape=(1, 4, 2, 2)), "larger than its padded input height 2 + 0 + 0"),
    (_conv_model(auto_pad="BOGUS"), "auto_pad 'BOGUS' is not one of"),
    (_conv_model(auto_pad="SAME_UPPER", pads=[1, 1, 1, 1]), "has both auto_pad 'SAME_UPPER' and pads"),
    (_conv_model(kernel_shape=[5, 5]), "kernel_shape [5, 5] disagrees with the weight 'w'"),
    (_conv_model(weight_dtype=np.int8), "Conv weight 'w' is int8, the input is float"),
])
def test_invalid_onnx_conv_is_refused_naming_the_node(model, message):
    from tt_dw_mlir.frontends import ModelError

    with pytest.raises(ModelError) as info:
        onnx_to_ttir(model)
    assert message in str(info.value)
    assert "the_conv" in str(info.value) or message == "empty input name"


def _edited(change):
    model = _conv_model()
    change(model)
    return model


def _relu_after(input_name):
    def change(model):
        model.graph.node.append(helper.make_node("Relu", [input_name], ["z"], name="the_relu"))
        model.graph.output[0].name = "z"
    return change


# Found by the model fuzzer (test_cli_fuzz.py): each was an internal error or accepted.
@pytest.mark.parametrize("model, node, message", [
    (_conv_model(pads=[2 ** 40, 0, 0, 0]), "the_conv", "'pads' [1099511627776, 0, 0, 0] do not fit in 32 bits"),
    (_edited(lambda m: m.graph.node[0].attribute.__getitem__(0).CopyFrom(helper.make_attribute("group", [1.5]))),
     "the_conv", "Conv attribute 'group' is FLOATS, not INT"),
    (_edited(_relu_after("")), "the_relu", "Relu has an empty input name (input 0, 'X', is required)"),
    (_edited(lambda m: m.graph.node.append(helper.make_node("Relu", ["y"], ["z"], name="the_conv"))),
     "the_conv", "another node has the same name"),
    (_edited(lambda m: setattr(m.graph.node[0], "op_type", "FancyConv")), "the_conv",
     "'FancyConv' is not an op of ai.onnx opset 17"),
    (_edited(lambda m: setattr(m.graph.node[0], "op_type", "")), "the_conv", "node has no op type"),
    (_conv_model(kernel_shape=3), "the_conv", "Conv attribute 'kernel_shape' is INT, not INTS"),
    (_conv_model(stride=[1, 1]), "the_conv", "Conv has no attribute 'stride'"),
    (_edited(lambda m: setattr(m.opset_import[0], "version", 0)), "g", "imports opset 0 of ONNX"),
    (_edited(lambda m: setattr(m.graph.input[0].type.tensor_type, "elem_type", TensorProto.INT32)), "x",
     "input is of type INT32"),
])
def test_invalid_onnx_model_is_refused_naming_where(model, node, message):
    from tt_dw_mlir.frontends import ModelError

    with pytest.raises(ModelError) as info:
        onnx_to_ttir(model)
    assert message in str(info.value)
    assert str(info.value).startswith(f"node '{node}': ")


def test_empty_onnx_file_is_refused(tmp_path):
    from tt_dw_mlir.frontends import ModelError

    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    with pytest.raises(ModelError, match="empty.onnx.*the ONNX file is empty"):
        onnx_to_ttir(path)


def test_declared_shape_over_the_limit_is_refused_before_allocating():
    import resource

    from tt_dw_mlir.frontends.ttir_emitter import MAX_TENSOR_ELEMENTS, TooLargeError

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(TooLargeError) as info:
        onnx_to_ttir(_conv_model(in_shape=(1, 4, 100000, 100000)))
    text = str(info.value)
    assert "1x4x100000x100000" in text and "40,000,000,000 elements" in text
    assert f"{MAX_TENSOR_ELEMENTS:,}" in text
    # nothing of that size was allocated (ru_maxrss is in KiB)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024


def test_dynamo_onnx_conv_fused_with_its_norm_is_named_by_the_conv():
    # onnxscript fuses Conv + BatchNormalization and leaves the norm's scope ("0.1") on the Conv
    from tt_dw_mlir.frontends.onnx_import import module_path_of

    model = nn.Sequential(nn.Sequential(nn.Conv2d(4, 4, 3, groups=4), nn.BatchNorm2d(4), nn.ReLU())).eval()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(1, 4, 8, 8),), buf, dynamo=True)
    proto = onnx.load_from_string(buf.getvalue())
    conv = next(n for n in proto.graph.node if n.op_type == "Conv")
    assert module_path_of(conv) == "0.0"
    assert [c.loc for c in onnx_to_ttir(proto).convs] == ["0.0"]


def test_torch_chunk_maps_to_slices():
    class Chunk(nn.Module):
        def forward(self, x):
            a, b, c = x.chunk(3, dim=1)
            return torch.cat([c, a * b], 1)

    x = torch.randn(1, 7, 4, 4)
    mod = torch_to_ttir(Chunk(), (x,), dtype="f32")
    assert not mod.host_steps
    (out,), _ = run_ttir(mod, [x])
    torch.testing.assert_close(out, Chunk()(x))


def test_rounding_a_result_to_bf16_never_changes_an_operand():
    """The executor rounds a bf16-typed result in place only when it is a new tensor of
    its own; an operand passed through, or a view of one, is rounded into a new tensor."""
    from tt_dw_mlir.executor import _rounded

    x = torch.tensor([1.0 + 2 ** -10, 3.0 + 2 ** -12, -5.0])  # not all bf16 values
    kept = x.clone()
    as_bf16 = kept.to(torch.bfloat16).float()
    assert not torch.equal(as_bf16, kept)
    for run in (lambda xs: xs[0], lambda xs: xs[0].reshape(3), lambda xs: xs[0][:2]):
        y = _rounded(run)([x])
        assert torch.equal(x, kept)
        assert torch.equal(y, as_bf16[:y.numel()])
    y = _rounded(lambda xs: xs[0] * 1.0)([x])
    assert torch.equal(x, kept) and torch.equal(y, as_bf16)


def test_weights_kept_in_bf16_run_bit_identically(tiny, monkeypatch):
    """Constants the IR holds in bf16 that only conv / linear ops read are kept in bf16 by
    the executor (half the memory: they are most of a network's) and widened as each op
    runs: the same bits as float32 copies of them."""
    from tt_dw_mlir import executor

    model, x, _ = tiny
    mod = torch_to_ttir(model, (x,))  # bf16 constants
    (narrow,), captured = run_ttir(mod, [x], capture=("ttir.conv2d",))
    assert captured["project"][0][1].dtype == torch.bfloat16  # a dense conv's weight
    monkeypatch.setattr(executor, "_WIDENS_WEIGHTS", ())
    (wide,), captured = run_ttir(mod, [x], capture=("ttir.conv2d",))
    assert captured["project"][0][1].dtype == torch.float32
    assert torch.equal(narrow, wide)


def test_executor_plans_a_function_once_and_reads_constants_in_place(tiny, monkeypatch):
    """A second run reuses the first run's plan (closures, constants, the reference backend's
    unlaid weights keyed by them), and a constant kept in its IR dtype is the IR's own
    memory, not a copy (a network's weights are in memory once)."""
    import tt_dw_mlir
    from tt_dw_mlir.dialect.constants import elements_to_numpy
    from tt_dw_mlir.executor import Executor

    model, x, ref = tiny
    compiled = tt_dw_mlir.compile(model, x)
    built = []
    real = Executor._compile_op
    monkeypatch.setattr(Executor, "_compile_op",
                        lambda self, op, name, operands: built.append(name) or real(self, op, name, operands))
    first = compiled(x)
    count = len(built)
    second = compiled(x)
    assert count > 0 and len(built) == count  # nothing compiled again
    assert torch.equal(first, second)
    (plan,) = compiled._executor._plans.values()
    weights = [op for op in _ops(compiled.network) if op.name == "ttir.constant"
               and any(use.owner.name == "ttir.conv2d" and use.operand_number == 1
                       for use in op.results[0].uses)]
    assert weights
    stored = {elements_to_numpy(op.attributes["value"], copy=False).ctypes.data for op in weights}
    held = {step.run([]).data_ptr() for step in plan.steps if step.name == "ttir.constant"}
    assert stored <= held


def test_activations_overwrite_only_values_nothing_reads_again():
    """An elementwise op computes into its operand only when no later op, no output and no
    caller can see it: the caller's input, a value read again (directly or through a view)
    and traced tensors stay as they were, and the results are bit for bit those of the
    functional forms."""
    from tt_dw_mlir.executor import Executor

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.conv = nn.Conv2d(4, 8, 3, padding=1)

        def forward(self, x):
            y = self.conv(torch.relu(x))
            a = torch.relu(y)  # y is read again below
            b = torch.sigmoid(y.reshape(1, 8, -1)).reshape(y.shape)  # y's last reader, a view
            return F.relu6(a) + b, a  # a is returned: the relu6 must leave it

    x = torch.randn(1, 4, 6, 6, generator=torch.Generator().manual_seed(3))
    for dtype in ("bf16", "f32"):
        mod = torch_to_ttir(Net(), (x,), dtype=dtype)
        in_place = {s.where for s in Executor(mod.module)._plan("main").steps if s.in_place}
        assert in_place == {"sigmoid"}, in_place
        kept = x.clone()
        outputs = {}
        for overwrite in (True, False):
            executor = Executor(mod.module, overwrite_dead_values=overwrite)
            outputs[overwrite] = executor.call("main", [x])
            assert torch.equal(x, kept)
        assert all(torch.equal(a, b) for a, b in zip(outputs[True], outputs[False]))
        (total, a), _ = run_ttir(mod, [x])  # the network's own output order
        with torch.no_grad():
            expected = Net()(x)
        tolerance = {"atol": 0.05, "rtol": 0.02} if dtype == "bf16" else {}
        torch.testing.assert_close(total, expected[0], **tolerance)
        torch.testing.assert_close(a, expected[1], **tolerance)
        # a trace keeps what it is handed: the sigmoid's operand stays as it was
        executor = Executor(mod.module, trace=("ttir.sigmoid",))
        executor.call("main", [x])
        (operand,), result = executor.traced["sigmoid"]
        assert not torch.equal(operand, result)
        assert torch.equal(torch.sigmoid(operand), result) or dtype == "bf16"
