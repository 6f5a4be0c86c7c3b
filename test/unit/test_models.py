"""Built-in MobileNetV2 / EfficientNet-B0 through the frontends.

The expected depthwise layers are written out from the papers' tables
(MobileNetV2 Table 2, EfficientNet-B0 Table 1) at 224x224, not read from the code.
"""

from __future__ import annotations

import importlib.util
import io
import re
import warnings

import onnx
import pytest
import torch
from torch import nn

from tt_dw_mlir.ir import name_of
from tt_dw_mlir.frontends import onnx_to_ttir, run_ttir, torch_to_ttir
from tt_dw_mlir.models import build, names

# (loc, input H=W, channels, kernel, stride)
MOBILENETV2_DW = [("features.1.conv.0.0", 112, 32, 3, 1),
                  ("features.2.conv.1.0", 112, 96, 3, 2),
                  ("features.3.conv.1.0", 56, 144, 3, 1),
                  ("features.4.conv.1.0", 56, 144, 3, 2),
                  *[(f"features.{i}.conv.1.0", 28, 192, 3, 1) for i in (5, 6)],
                  ("features.7.conv.1.0", 28, 192, 3, 2),
                  *[(f"features.{i}.conv.1.0", 14, 384, 3, 1) for i in (8, 9, 10, 11)],
                  *[(f"features.{i}.conv.1.0", 14, 576, 3, 1) for i in (12, 13)],
                  ("features.14.conv.1.0", 14, 576, 3, 2),
                  *[(f"features.{i}.conv.1.0", 7, 960, 3, 1) for i in (15, 16, 17)]]

EFFICIENTNET_B0_DW = [("features.1.0.block.0.0", 112, 32, 3, 1),
                      ("features.2.0.block.1.0", 112, 96, 3, 2),
                      ("features.2.1.block.1.0", 56, 144, 3, 1),
                      ("features.3.0.block.1.0", 56, 144, 5, 2),
                      ("features.3.1.block.1.0", 28, 240, 5, 1),
                      ("features.4.0.block.1.0", 28, 240, 3, 2),
                      ("features.4.1.block.1.0", 14, 480, 3, 1),
                      ("features.4.2.block.1.0", 14, 480, 3, 1),
                      ("features.5.0.block.1.0", 14, 480, 5, 1),
                      ("features.5.1.block.1.0", 14, 672, 5, 1),
                      ("features.5.2.block.1.0", 14, 672, 5, 1),
                      ("features.6.0.block.1.0", 14, 672, 5, 2),
                      *[(f"features.6.{i}.block.1.0", 7, 1152, 5, 1) for i in (1, 2, 3)],
                      ("features.7.0.block.1.0", 7, 1152, 3, 1)]

EXPECTED = {"mobilenetv2": (MOBILENETV2_DW, "relu6", 52),
            "efficientnet_b0": (EFFICIENTNET_B0_DW, "silu", 81)}


@pytest.fixture(scope="module")
def exported():
    """name -> (model, input, torch output, bf16 TTIRModule, f32 TTIRModule)."""
    out = {}
    for name in names():
        model, x = build(name)
        with torch.no_grad():
            ref = model(x)
        program = torch.export.export(model, (x,))  # export once, emit twice
        out[name] = (model, x, ref, torch_to_ttir(program, (x,)),
                     torch_to_ttir(program, (x,), dtype="f32"))
    return out


def test_registry():
    assert names() == ["efficientnet_b0", "mobilenetv2"]
    with pytest.raises(KeyError, match="mobilenetv2"):
        build("resnet50")
    a, xa = build("mobilenetv2")
    b, xb = build("mobilenet_v2")
    assert torch.equal(xa, xb) and xa.shape == (1, 3, 224, 224)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    c, _ = build("mobilenetv2", seed=1)
    assert not torch.equal(a.features[0][0].weight, c.features[0][0].weight)


def test_a_second_build_draws_the_same_model_without_measuring_again(monkeypatch):
    """Only the batch-norm statistics are cached (not a second copy of every weight): the
    next build of the same seed draws the weights again and runs no calibration pass."""
    from tt_dw_mlir import models

    monkeypatch.setattr(models, "_STATISTICS", {})
    first, _ = build("mobilenetv2", seed=3)
    (cached,) = models._STATISTICS.values()
    assert cached and all(k.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked")
                          for k in cached)
    forwards = []
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, i, o: forwards.append(m))
    try:
        second, _ = build("mobilenetv2", seed=3)
    finally:
        handle.remove()
    assert forwards == []
    assert not second.training and not any(m.training for m in second.modules())
    a, b = first.state_dict(), second.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert all(m1.momentum == m2.momentum for m1, m2 in zip(first.modules(), second.modules())
               if isinstance(m1, nn.BatchNorm2d))


@pytest.mark.parametrize("name", ["mobilenetv2", "efficientnet_b0"])
def test_batch_norm_statistics_are_not_trivial(name):
    model, _ = build(name)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(not bn.training for bn in bns)
    for bn in bns:
        assert bn.running_mean.abs().max() > 1e-3
        assert (bn.running_var - 1).abs().max() > 1e-2
        assert bn.weight.std() > 0.05
    assert sum(p.numel() for p in model.parameters()) > 3_000_000
    assert not model.training


@pytest.mark.parametrize("name", ["mobilenetv2", "efficientnet_b0"])
def test_every_depthwise_conv_is_emitted(exported, name):
    expected, activation, conv_count = EXPECTED[name]
    mod = exported[name][3]
    assert len(mod.convs) == conv_count
    got = mod.depthwise_convs
    assert [c.loc for c in got] == [e[0] for e in expected]
    for c, (loc, size, ch, k, s) in zip(got, expected):
        pad = (k - 1) // 2
        out = (size + 2 * pad - k) // s + 1
        assert c.input_shape == (1, size, size, ch), loc
        assert c.output_shape == (1, out, out, ch), loc
        assert c.weight_shape == (ch, 1, k, k) and c.groups == ch, loc
        assert c.stride == (s, s) and c.padding == (pad,) * 4 and c.dilation == (1, 1), loc
        assert c.bn_folded and c.has_bias and c.activation == activation, loc
        assert c.module_path == loc
        cfg = c.config
        assert (cfg.channels, cfg.in_h, cfg.kernel, cfg.out_h) == (ch, size, (k, k), out)
    # the built module holds each of them, named by its module path, with these types
    func = next(op.operation for op in mod.module.body.operations)
    built = {name_of(op.location): op for op in func.regions[0].blocks[0].operations
             if op.operation.name == "ttir.conv2d"}
    for c, (loc, size, ch, k, s) in zip(got, expected):
        op = built[loc]
        pad = (k - 1) // 2
        out = (size + 2 * pad - k) // s + 1
        assert list(op.attributes["stride"]) == [s, s] and list(op.attributes["padding"]) == [pad] * 4
        assert [str(v.type) for v in op.operands] == [
            f"tensor<1x{size}x{size}x{ch}xbf16>", f"tensor<{ch}x1x{k}x{k}xbf16>",
            f"tensor<1x1x1x{ch}xbf16>"], loc
        assert str(op.results[0].type) == f"tensor<1x{out}x{out}x{ch}xbf16>", loc


@pytest.mark.parametrize("name", ["mobilenetv2", "efficientnet_b0"])
def test_model_numerics(exported, name):
    _, x, ref, mod16, mod32 = exported[name]
    (out32,), _ = run_ttir(mod32, [x])
    torch.testing.assert_close(out32, ref, rtol=1e-3, atol=1e-4 * ref.abs().max().item())
    (out16,), _ = run_ttir(mod16, [x])
    pcc = torch.corrcoef(torch.stack([out16.flatten(), ref.flatten()]))[0, 1]
    assert pcc > 0.99


def test_efficientnet_onnx_export_and_import(exported):
    model, x, ref, _, mod32 = exported["efficientnet_b0"]
    buf = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter is deprecated, not gone
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), buf, dynamo=False, opset_version=17)
    from_onnx = onnx_to_ttir(onnx.load_from_string(buf.getvalue()), dtype="f32")
    key = lambda c: (c.input_shape, c.output_shape, c.weight_shape, c.stride, c.padding,
                     c.groups, c.activation, c.module_path)
    assert [key(c) for c in from_onnx.convs] == [key(c) for c in mod32.convs]
    assert len(from_onnx.depthwise_convs) == 16
    (out,), _ = run_ttir(from_onnx, [x])
    torch.testing.assert_close(out, ref, rtol=1e-3, atol=1e-4 * ref.abs().max().item())


@pytest.mark.skipif(importlib.util.find_spec("onnxscript") is None,
                    reason="torch 2.13's default (dynamo) ONNX exporter needs onnxscript; "
                           "pin onnxscript==0.7.2 (pulls onnx-ir, ml-dtypes)")
def test_efficientnet_dynamo_onnx_export(exported, tmp_path):
    model, x, ref, _, mod32 = exported["efficientnet_b0"]
    path = tmp_path / "efficientnet_b0.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=True)
    from_onnx = onnx_to_ttir(path, dtype="f32")
    key = lambda c: (c.input_shape, c.weight_shape, c.stride, c.padding, c.groups, c.activation)
    assert [key(c) for c in from_onnx.convs] == [key(c) for c in mod32.convs]
    (out,), _ = run_ttir(from_onnx, [x])
    torch.testing.assert_close(out, ref, rtol=1e-3, atol=1e-4 * ref.abs().max().item())


def test_mobilenetv2_parses_with_tt_dw_mlir(exported):
    from tt_dw_mlir.api import parse_module
    from tt_dw_mlir.ir import name_of

    module = parse_module(exported["mobilenetv2"][3].text)
    ops = list(module.body.operations[0].regions[0].blocks[0].operations)
    convs = [op for op in ops if op.name == "ttir.conv2d"]
    assert len(convs) == 52
    names = [name_of(op.location) for op in convs]
    assert "features.1.conv.0.0" in names and "features.17.conv.1.0" in names
