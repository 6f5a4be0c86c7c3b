"""Full-size layers on the "reference" backend vs torch conv2d(groups=C) in fp32.

Layer shapes from the model families the original tt-metal work was tested on
(DESIGN.md §7): MobileNetV2 and EfficientNet-B0 at 224x224, YOLOv10x at 640x640.
"""

from __future__ import annotations

import pytest
import torch

from dw_cases import conv_id, dw, make_inputs, pcc, pcc_target, torch_oracle
from tt_dw_mlir.program import KernelProgram, plan_program
from tt_dw_mlir.runtime import execute
from tt_dw_mlir.runtime.reference import run_reference_windows

MOBILENET_V2 = [  # BN folded into a bias, ReLU6
    dw(1, 112, 112, 32, 3, bias=True, act="relu6"),
    dw(1, 112, 112, 96, 3, s=2, bias=True, act="relu6"),
    dw(1, 56, 56, 144, 3, bias=True, act="relu6"),
    dw(1, 56, 56, 144, 3, s=2, bias=True, act="relu6"),
    dw(1, 28, 28, 192, 3, bias=True, act="relu6"),
    dw(1, 14, 14, 384, 3, bias=True, act="relu6"),
    dw(1, 14, 14, 576, 3, s=2, bias=True, act="relu6"),
    dw(1, 7, 7, 960, 3, bias=True, act="relu6"),
]
EFFICIENTNET_B0 = [  # SiLU
    dw(1, 112, 112, 32, 3, bias=True, act="silu"),
    dw(1, 112, 112, 96, 3, s=2, bias=True, act="silu"),
    dw(1, 56, 56, 144, 5, s=2, bias=True, act="silu"),
    dw(1, 28, 28, 240, 5, bias=True, act="silu"),
    dw(1, 28, 28, 240, 3, s=2, bias=True, act="silu"),
    dw(1, 14, 14, 480, 5, bias=True, act="silu"),
    dw(1, 14, 14, 672, 5, s=2, bias=True, act="silu"),
    dw(1, 7, 7, 1152, 5, bias=True, act="silu"),
    dw(1, 7, 7, 1152, 3, bias=True, act="silu"),
]
YOLOV10X = [  # SCDown 3x3 stride 2 (no activation), CIB 3x3 / 7x7 large-kernel (SiLU)
    dw(1, 160, 160, 320, 3, s=2, bias=True),
    dw(1, 80, 80, 640, 3, s=2, bias=True),
    dw(1, 40, 40, 640, 3, s=2, bias=True),
    dw(1, 20, 20, 640, 7, bias=True, act="silu"),
    dw(1, 20, 20, 640, 3, bias=True, act="silu"),
]
MODEL_LAYERS = ([("mobilenetv2", c) for c in MOBILENET_V2]
                + [("efficientnet_b0", c) for c in EFFICIENTNET_B0]
                + [("yolov10x", c) for c in YOLOV10X])


def check(conv, device="n150", scheme=None, windows=False):
    program = plan_program(conv, device, scheme)
    assert isinstance(program, KernelProgram), program
    assert program.verify() == []
    x, w, b, pw, pb = make_inputs(conv, program.layout)
    y = execute(program, x, pw, pb, backend="reference")
    want = torch_oracle(conv, x, w, b)
    assert y.shape == want.shape and y.dtype == torch.float32
    score = pcc(y, want)
    assert score >= pcc_target(conv), f"PCC {score:.6f} < {pcc_target(conv)}"
    if windows:  # the literal window-gather reference agrees with the fast one
        y2 = run_reference_windows(program, x, pw, pb)
        torch.testing.assert_close(y2, y, rtol=2 ** -7, atol=1e-5)
    return program, score


@pytest.mark.parametrize("model,conv", MODEL_LAYERS,
                         ids=[f"{m}-{conv_id(c)}" for m, c in MODEL_LAYERS])
def test_model_layer_n150(model, conv):
    check(conv)


@pytest.mark.parametrize("scheme", ["height_sharded", "width_sharded", "block_sharded"])
@pytest.mark.parametrize("conv", [MOBILENET_V2[2], EFFICIENTNET_B0[6], YOLOV10X[3]],
                         ids=["mbv2-56x144", "effb0-14x672-k5s2", "yolo-20x640-k7"])
def test_every_scheme(conv, scheme):
    program, _ = check(conv, scheme=scheme, windows=True)
    assert program.sharding.scheme == scheme


ALL_BFP4 = pytest.param("bfp4_b", "bfp4_b", id="bfp4_b-bfp4_b", marks=pytest.mark.xfail(
    reason="input, weights and output all in bfp4_b: three 3-bit quantisations give PCC "
           "0.969-0.984 over the 22 model layers (0.975 on MobileNetV2 112x96 s2), around "
           "the 0.98 bfp4_b target", strict=False))


@pytest.mark.parametrize("dtype,wdtype", [("bf16", "bf16"), ("bfp8_b", "bfp8_b"),
                                          ("bf16", "bfp4_b"), ("bfp8_b", "bfp4_b"), ALL_BFP4])
@pytest.mark.parametrize("conv", [MOBILENET_V2[1], EFFICIENTNET_B0[3], YOLOV10X[3]],
                         ids=["mbv2-112x96-s2", "effb0-28x240-k5", "yolo-20x640-k7"])
def test_dtypes(conv, dtype, wdtype):
    check(conv.with_(dtype=dtype, weight_dtype=wdtype))


@pytest.mark.parametrize("conv", [
    dw(4, 28, 28, 192, 3, bias=True, act="gelu"),                       # batch > 1, gelu
    dw(2, 27, 33, 72, 3, s=2, bias=True, act="relu"),                    # odd sizes
    dw(1, 56, 56, 144, 3, d=2, bias=True, act="relu6"),                  # dilation 2
    dw(1, 57, 57, 96, 3, s=2, p=(0, 1, 0, 1), bias=True, act="silu"),    # TF "same", asymmetric
    dw(1, 25, 25, 40, 5, p=(1, 3, 2, 2)),                                # 40 ch: padded to 64
], ids=conv_id)
def test_edge_shapes(conv):
    check(conv, windows=True)


@pytest.mark.parametrize("conv", [MOBILENET_V2[0], EFFICIENTNET_B0[7], YOLOV10X[1]],
                         ids=["mbv2-112x32", "effb0-7x1152-k5", "yolo-80x640-s2"])
def test_p150(conv):
    program, _ = check(conv, device="p150")
    assert program.device.name == "p150"
