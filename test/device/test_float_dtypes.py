"""f32 / f16 convs keep their dtype end to end: the op's dtype is the tensor type's,
the weights keep it, and the runtime computes in it.

The conv is tt-mlir's own f32 depthwise test (tenstorrent/tt-mlir at 19c86fca45,
test/ttmlir/Silicon/TTNN/n150/conv/depthwise_conv2d.mlir, @depthwise_conv2d_f32);
the oracle is torch's f32 conv2d. Before the fix the op computed in bf16: max error
0.104 on this conv.
"""

from __future__ import annotations

import pytest
import torch

from tt_dw_mlir.api import compile_text, lowered_layers, run

TT_MLIR_F32_DEPTHWISE = """
module {
  func.func @depthwise_conv2d_f32(%arg0: tensor<16x32x32x64xf32>, %arg1: tensor<64x1x3x3xf32>, %arg2: tensor<1x1x1x64xf32>) -> tensor<16x30x30x64xf32> {
    %1 = "ttir.conv2d"(%arg0, %arg1, %arg2)
            <{
              stride = 1: i32,
              padding = 0: i32,
              dilation = 1: i32,
              groups = 64: i32
            }> : (tensor<16x32x32x64xf32>, tensor<64x1x3x3xf32>, tensor<1x1x1x64xf32>) -> tensor<16x30x30x64xf32>
    return %1 : tensor<16x30x30x64xf32>
  }
}
"""
PIPELINE = "builtin.module(tt-depthwise-to-pool{path=pool}, tt-depthwise-pool-to-kernels)"


def _inputs(dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 32, 32, 64, generator=g).to(dtype)
    w = torch.randn(64, 1, 3, 3, generator=g).to(dtype)
    b = torch.randn(64, generator=g).to(dtype)
    return x, w, b


def _torch_f32(x, w, b):
    y = torch.nn.functional.conv2d(x.float().permute(0, 3, 1, 2), w.float(), b.float(), groups=64)
    return y.permute(0, 2, 3, 1)


def test_f32_conv_runs_in_f32():
    result = compile_text(TT_MLIR_F32_DEPTHWISE, PIPELINE)
    [layer] = lowered_layers(result.module)
    assert (layer.program.conv.dtype, layer.program.conv.weight_dtype) == ("f32", "f32")
    x, w, b = _inputs()
    got = run(layer, x, weights=w, bias=b)
    error = (got - _torch_f32(x, w, b)).abs().max().item()
    # nine products and a bias summed in f32: a few f32 ulps of values of size ~10
    assert error < 1e-5, error


def test_f16_conv_runs_in_f16():
    text = TT_MLIR_F32_DEPTHWISE.replace("xf32", "xf16").replace("_f32", "_f16")
    [layer] = lowered_layers(compile_text(text, PIPELINE).module)
    assert (layer.program.conv.dtype, layer.program.conv.weight_dtype) == ("f16", "f16")
    x, w, b = _inputs(torch.float16)
    got = run(layer, x, weights=w, bias=b)
    expected = _torch_f32(x, w, b)
    # exact f16 inputs; the f32 sum is rounded once to f16 (half an f16 ulp, 2^-11 relative)
    assert torch.equal(got, expected.half().float()) or \
        ((got - expected).abs() <= expected.abs() * 2.0 ** -11 + 1e-7).all()


@pytest.mark.parametrize("weight_dtype", ["bf16", "bfp8_b"])
def test_f32_conv_with_narrower_weights_keeps_f32_activations(weight_dtype):
    pipeline = PIPELINE.replace("path=pool", f"path=pool weight-dtype={weight_dtype}")
    [layer] = lowered_layers(compile_text(TT_MLIR_F32_DEPTHWISE, pipeline).module)
    assert (layer.program.conv.dtype, layer.program.conv.weight_dtype) == ("f32", weight_dtype)


def test_f32_conv_on_the_simulator():
    """The TT-Lang kernels on tt-lang-sim, an f32 conv of the same form (smaller)."""
    text = TT_MLIR_F32_DEPTHWISE.replace("16x32x32x64", "1x10x10x32").replace(
        "16x30x30x64", "1x8x8x32").replace("64x1x3x3", "32x1x3x3").replace(
        "1x1x1x64", "1x1x1x32").replace("groups = 64", "groups = 32")
    [layer] = lowered_layers(compile_text(text, PIPELINE).module)
    g = torch.Generator().manual_seed(1)
    x, w, b = torch.randn(1, 10, 10, 32, generator=g), torch.randn(32, 1, 3, 3, generator=g), \
        torch.randn(32, generator=g)
    got = run(layer, x, backend="sim", weights=w, bias=b)
    expected = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), w, b, groups=32).permute(0, 2, 3, 1)
    error = (got - expected).abs().max().item()
    assert error < 1e-5, error
