"""The MobileNetV2 layer of test/lit/depthwise_pool_to_kernels/mobilenetv2_layer.mlir, end to end.

The lit test checks the lowered program's IR; this test compiles the very same
file with the same pipeline and runs the program it produced, on the simulator
and on the reference backend, against torch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dw_cases import pcc
from tt_dw_mlir.api import compile_text, lowered_layers, run

LIT_FILE = Path(__file__).resolve().parents[1] / "lit/depthwise_pool_to_kernels/mobilenetv2_layer.mlir"


@pytest.fixture(scope="module")
def layer():
    result = compile_text(LIT_FILE.read_text(), "builtin.module(tt-depthwise-pool-pipeline)",
                          source_name=str(LIT_FILE))
    layers = lowered_layers(result.module)
    assert [l.name for l in layers] == ["features.15.conv.1.0"]
    return layers[0]


@pytest.fixture(scope="module")
def tensors():
    generator = torch.Generator().manual_seed(15)
    # Scaled so that a good share of outputs saturate at 6: ReLU6 is really tested.
    x = torch.randn(1, 7, 7, 960, generator=generator) * 1.5
    w = torch.randn(960, 1, 3, 3, generator=generator)
    b = torch.randn(960, generator=generator) * 0.1
    expected = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), w, b, padding=1, groups=960)
    expected = expected.clamp(0.0, 6.0).permute(0, 2, 3, 1)
    return x, w, b, expected


@pytest.mark.parametrize("backend", ["reference", "sim"])
def test_lit_layer_matches_torch(layer, tensors, backend):
    x, w, b, expected = tensors
    got = run(layer, x, backend, weights=w, bias=b)
    assert got.shape == expected.shape
    assert (expected == 6.0).float().mean() > 0.05
    assert pcc(got, expected) >= 0.9999
    # bf16 input, weights and output: a few bf16 ulps of the largest output at most
    assert (got - expected).abs().max() <= 4 * 2 ** -8 * 6.0


def test_lit_layer_backends_agree(layer, tensors):
    x, w, b, _ = tensors
    reference = run(layer, x, "reference", weights=w, bias=b)
    simulated = run(layer, x, "sim", weights=w, bias=b)
    torch.testing.assert_close(simulated, reference, rtol=2 ** -7, atol=1e-5)
