"""Full-size layers on the "reference" backend vs torch conv2d(groups=C) in fp32.

Layer shapes from the model families the original tt-metal work was tested on
(DESIGN.md §7): MobileNetV2 and EfficientNet-B0 at 224x224, YOLOv10x at 640x640.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dw_cases import conv_id, dw, make_inputs, pcc, pcc_target, torch_oracle
from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.program import KernelProgram, plan_program
from tt_dw_mlir.runtime import execute
from tt_dw_mlir.runtime import reference as reference_module
from tt_dw_mlir.runtime._tensors import (apply_activation, bias_tiles, bias_vector, input_nhwc,
                                         output_nhwc, weight_tiles, window_weight_matrix)
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


# ---- the fast path ("reference" backend) is bit-identical to the literal oracles ----
#
# run_reference caches the unlaid weights, quantises only the tile rows it reads and
# scans for NaN once (on the output); none of that may change a bit of the result.
# Oracles: run_reference_windows (gather + addcmul in position order) and the
# reference as it was before those changes, composed below from the unchanged
# boundary helpers (whole tiles quantised on every call, quantized() on the input).

def previous_run_reference(program, x_nhwc, prepared_weights, prepared_bias):
    conv = program.conv
    x = input_nhwc(program, x_nhwc)
    w = window_weight_matrix(program, weight_tiles(program, prepared_weights))[:, :conv.channels]
    b = bias_tiles(program, prepared_bias)
    b = bias_vector(program, b)[:conv.channels] if b is not None else None
    weight = w.t().reshape(conv.channels, 1, *conv.kernel).contiguous()
    xc = x.permute(0, 3, 1, 2)
    pt, pb, pl, pr = conv.padding
    if pt == pb and pl == pr:
        padding = (pt, pl)
    else:
        xc, padding = F.pad(xc, (pl, pr, pt, pb)), (0, 0)
    y = F.conv2d(xc, weight, b, conv.stride, padding, conv.dilation, groups=conv.channels)
    y = apply_activation(y, conv.activation)
    return output_nhwc(program, y.permute(0, 2, 3, 1).reshape(-1, conv.channels))


def assert_same_bits(got, want):
    assert got.shape == want.shape and got.dtype == want.dtype == torch.float32
    assert got.is_contiguous() and want.is_contiguous()
    differ = got.view(torch.int32) != want.view(torch.int32)
    assert not differ.any(), (f"{int(differ.sum())} of {got.numel()} values differ, e.g. "
                              f"{got[differ][:4].tolist()} vs {want[differ][:4].tolist()}")


SPECIALS = [float("nan"), -float("nan"), float("inf"), -float("inf"), -0.0, 3.39e38, -3.4e38,
            1e-40, -1e-44, 1.0 + 2 ** -8]  # 1 + 2^-8: a bf16 tie (to even)


def sprinkle(t, count, seed):
    """Put special values at `count` random places of a float tensor (a copy)."""
    t = torch.as_tensor(t).clone()
    gen = torch.Generator().manual_seed(seed)
    flat = t.view(-1)
    for i, at in enumerate(torch.randint(flat.numel(), (count,), generator=gen).tolist()):
        flat[at] = SPECIALS[(seed + i) % len(SPECIALS)]
    return t


BIT_CASES = [  # (id, conv, what is special)
    ("mbv2-112x32", MOBILENET_V2[0], "x"),
    ("mbv2-14x576-s2", MOBILENET_V2[6], "x"),
    ("mbv2-7x960", MOBILENET_V2[7], "none"),
    ("effb0-28x240-k5", EFFICIENTNET_B0[3], "x"),
    ("yolo-20x640-k7", YOLOV10X[3], "weights"),
    ("bfp8-io", dw(1, 28, 28, 192, 3, bias=True, act="relu6", dtype="bfp8_b"), "x"),
    ("bfp8-w", dw(1, 14, 14, 384, 3, bias=True, act="relu6", wdtype="bfp8_b"), "weights"),
    ("bfp4-w", dw(1, 14, 14, 480, 5, bias=True, act="silu", wdtype="bfp4_b"), "weights"),
    ("bfp8-bfp4", dw(2, 27, 33, 72, 3, s=2, bias=True, act="relu", dtype="bfp8_b",
                     wdtype="bfp4_b"), "x"),
    ("bfp4-io", dw(1, 12, 12, 64, 3, bias=True, act="gelu", dtype="bfp4_b"), "x"),
    ("asym-pad", dw(1, 57, 57, 96, 3, s=2, p=(0, 1, 0, 1), bias=True, act="silu"), "x"),
    ("nan-skipped", dw(1, 9, 9, 32, 3, s=2, p=0), "skipped"),
    ("overflow", dw(1, 14, 14, 64, 3, bias=True), "overflow"),
    ("bf16-tensor-in", dw(1, 14, 14, 96, 3, bias=True, act="relu6"), "bf16-input"),
    ("nan-bias", dw(1, 10, 10, 40, 5, p=(1, 3, 2, 2), bias=True), "bias"),
    ("gelu-batch2", dw(2, 14, 14, 192, 3, bias=True, act="gelu"), "none"),
    ("dilated", dw(1, 28, 28, 144, 3, d=2, bias=True, act="relu6"), "x"),
    ("bfp8-w-40ch", dw(1, 10, 10, 40, 3, bias=True, wdtype="bfp8_b"), "padded channels"),
]


@pytest.mark.parametrize("name,conv,special", BIT_CASES, ids=[c[0] for c in BIT_CASES])
def test_fast_path_bit_identical(name, conv, special):
    program = plan_program(conv, "n150")
    assert isinstance(program, KernelProgram), program
    x, _, _, pw, pb = make_inputs(conv, program.layout, seed=len(name))
    if special == "x":  # NaN (both signs), inf, -0, subnormals, bf16 overflow and ties
        x = sprinkle(x, 12, seed=3)
    elif special == "weights":  # anywhere in the tiles, read or not
        pw = sprinkle(pw, 6, seed=1)
    elif special == "bias":
        pb = torch.as_tensor(pb).clone()
        pb[0, 0, 0, 3], pb[0, 1, 0, 1], pb[0, 0, 5, 0] = float("nan"), float("-inf"), float("nan")
    elif special == "skipped":  # a NaN in the last row/column, which stride 2 never reads
        x = x.clone()
        x[0, 8, :, 0] = float("nan")
        x[0, :, 8, 1] = -float("nan")
    elif special == "padded channels":  # junk past channel C shares face rows with C-8..C-1
        pw, pb = torch.as_tensor(pw).clone(), torch.as_tensor(pb).clone()
        pw[:, :, :, conv.channels % 32:] = 1000.0
        pb[:, :, 0, conv.channels % 32:] = -1000.0
    elif special == "overflow":
        x = x * 1e38
    elif special == "bf16-input":  # NaN payloads blockfloat's rule drops
        x = sprinkle(x, 8, seed=5).to(torch.bfloat16)
        x.view(torch.int16).view(-1)[7] = 0x7FC1
    got = execute(program, x, pw, pb, backend="reference")
    assert_same_bits(got, run_reference_windows(program, x, pw, pb))
    if conv.dilation == (1, 1) and special != "weights" and conv.activation != "gelu":
        # The previous implementation is pinned where it was faithful; it was not on
        # dilated convs (torch's dilated depthwise kernel sums in another order: ~1 value
        # in 10^5 is an ulp off), inf weights (torch's conv skips the padding taps the
        # kernels multiply: inf * 0 = NaN) and gelu (torch's CPU gelu gives other values on
        # a channels_last tensor, where it applied it, than on a contiguous one, where the
        # window oracle does); run_reference takes the window order for the first two.
        assert_same_bits(got, previous_run_reference(program, x, pw, pb))
    assert_same_bits(execute(program, x, pw, pb, backend="reference"), got)  # cached weights


@pytest.mark.parametrize("kind", ["numpy", "torch", "float64"])
def test_weight_cache_sees_in_place_changes(kind):
    conv = dw(1, 14, 14, 96, 3, bias=True, act="relu6", wdtype="bfp8_b")
    program = plan_program(conv, "n150")
    x, _, _, pw, pb = make_inputs(conv, program.layout)
    if kind == "torch":
        pw, pb = torch.from_numpy(pw), torch.from_numpy(pb)
    elif kind == "float64":  # not float32: compared after conversion
        pw, pb = pw.astype(np.float64), pb.astype(np.float64)
    before = execute(program, x, pw, pb, backend="reference")
    for change in ("weight", "bias", "padding"):
        if change == "weight":
            pw[0, -1, 1, 5] = 3.0  # position 1 of channel 69, in the last tile
        elif change == "bias":
            pb[0, -1, 0, 7] = -2.0  # channel 71
        else:  # rows no kernel reads
            pw[0, -1, 20, 5], pb[0, -1, 3, 7] = 7.0, 7.0
        after = execute(program, x, pw, pb, backend="reference")
        assert_same_bits(after, previous_run_reference(program, x, pw, pb))
        changed = not torch.equal(after.view(torch.int32), before.view(torch.int32))
        assert changed == (change != "padding"), change
        before = after


def test_fast_path_without_native_bf16(monkeypatch):
    # importing tt-lang-sim rebinds torch.bfloat16 to float32: the bit rounding is used
    conv = dw(1, 14, 14, 64, 3, bias=True, act="silu")
    program = plan_program(conv, "n150")
    x, _, _, pw, pb = make_inputs(conv, program.layout)
    x = sprinkle(x, 6, seed=2)
    want = previous_run_reference(program, x, pw, pb)
    monkeypatch.setattr(torch, "bfloat16", torch.float32)
    assert_same_bits(execute(program, x, pw, pb, backend="reference"), want)



# ---- the compiled kernel (runtime/_dwconv.c) ----------------------------------------
#
# Its sums must be the literal oracle's bits. The inputs span 2^-12..2^12 with exact
# zeros, so a sum in another order, the bias added first or a fused multiply-add would
# round differently somewhere; run at 1, 2 and 3 threads (the work split must not show).

def heavy_tailed(shape, seed, zeros=0.25):
    gen = torch.Generator().manual_seed(seed)
    scale = torch.exp2(torch.randint(-12, 13, shape, generator=gen).float())
    scale *= torch.rand(shape, generator=gen) >= zeros
    return torch.randn(shape, generator=gen) * scale


@pytest.fixture
def torch_threads():
    """torch.set_num_threads for one test, restored after it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


KERNEL_CASES = [
    dw(1, 112, 112, 32, 3, bias=True, act="relu6"),                 # MobileNetV2 first layer
    dw(1, 56, 56, 144, 3, s=2, bias=True, act="relu6"),
    dw(1, 7, 7, 960, 3, bias=True, act="relu6"),
    dw(2, 27, 33, 72, 3, s=2, bias=True, act="relu"),               # batch 2, odd sizes, 72 ch
    dw(1, 25, 25, 40, 5, p=(1, 3, 2, 2)),                           # 40 ch, asymmetric pad
    dw(1, 20, 20, 88, 7, bias=True, act="relu6"),                   # 7x7, 88 ch
    dw(1, 57, 57, 96, 3, s=2, p=(0, 1, 0, 1), bias=True, act="relu"),
    dw(1, 15, 15, 200, 5, s=2, bias=True, act="none"),
    dw(1, 14, 14, 384, 3, bias=True, act="relu6", wdtype="bfp8_b"),  # block-float weights
    dw(1, 14, 14, 480, 5, bias=True, act="relu", wdtype="bfp4_b"),
    dw(1, 9, 9, 32, 3, s=2, p=0),                                   # no padding, no bias
    dw(1, 28, 28, 64, 3, d=2, bias=True, act="relu6"),              # dilation 2
    dw(1, 16, 16, 48, 5, d=3, bias=True, act="silu"),               # dilation 3, silu
    dw(1, 12, 12, 24, 9, bias=True, act="relu6"),                   # 9x9: any-window path
    DepthwiseConv(3, 9, 11, 20, (2, 3), (1, 2), (0, 1, 1, 1), (1, 1), True, "relu"),  # 2x3, 20 ch
    DepthwiseConv(1, 80, 6, 32, (70, 1), (1, 1), (3, 3, 0, 0), (1, 1), True, "relu"),  # 70 rows
    dw(1, 20, 20, 16, 11, s=2),                                     # 11x11, 16 ch, no bias
    DepthwiseConv(1, 10, 10, 40, (3, 3), (2, 1), (1, 1, 1, 1), (3, 2), True, "none"),
    dw(1, 14, 14, 96, 3, bias=True, act="gelu", dtype="f32"),       # f32 end to end
    dw(1, 14, 14, 96, 3, bias=True, act="relu", dtype="f32", wdtype="bfp8_b"),
    dw(1, 10, 10, 40, 5, bias=True, act="silu", dtype="f16"),       # f16 end to end
    dw(1, 12, 12, 64, 3, bias=True, act="relu6", dtype="bfp8_b", wdtype="bfp4_b"),
    dw(1, 12, 12, 64, 3, bias=True, act="none", dtype="bfp4_b", wdtype="bf16"),
]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("conv", KERNEL_CASES, ids=conv_id)
def test_kernel_bit_identical(conv, threads, torch_threads):
    torch_threads(threads)
    program = plan_program(conv, "n150")
    assert isinstance(program, KernelProgram), program
    _, _, _, pw, pb = make_inputs(conv, program.layout, seed=conv.channels)
    x = heavy_tailed((conv.batch, conv.in_h, conv.in_w, conv.channels), seed=threads)
    got = execute(program, x, pw, pb, backend="reference")
    assert_same_bits(got, run_reference_windows(program, x, pw, pb))
    # torch's conv sums like the kernels only up to a bf16 rounding of the output: on f32
    # outputs its (oneDNN) order shows, e.g. 2254 of 18816 values of the f32 bfp8_b case
    # (the reference before the compiled kernel used it there and was that far off)
    if conv.dilation == (1, 1) and conv.activation != "gelu" and conv.dtype == "bf16":
        assert_same_bits(got, previous_run_reference(program, x, pw, pb))


def test_signed_zeros():
    # Channels 0, 3, 6, ...: all weights negative, bias -0. Over all-zero windows every
    # product is -0; the kernel's sum starts from +0 and adds the bias last, so the
    # output is +0 (+0 + -0 = +0 in IEEE) - a sum started from the bias would give -0.
    conv = dw(1, 12, 12, 64, 3, bias=True, act="relu")
    program = plan_program(conv, "n150")
    _, w, b, _, _ = make_inputs(conv, program.layout)
    from tt_dw_mlir.layout import prepare_bias, prepare_weights
    w[0::3] = -w[0::3].abs() - 0.01
    b[0::3] = -0.0
    pw, pb = prepare_weights(w, program.layout), prepare_bias(b, program.layout)
    x = heavy_tailed((1, 12, 12, 64), seed=4)
    x[0, :6] = 0.0
    x[0, 6:8] = -0.0
    got = execute(program, x, pw, pb, backend="reference")
    assert_same_bits(got, run_reference_windows(program, x, pw, pb))
    zero_windows = got[0, :5, :, 0::3]  # rows 0-4 see only input rows 0-5
    assert (zero_windows.view(torch.int32) == 0).all()


@pytest.mark.parametrize("dtype", ["bf16", "f32"])
@pytest.mark.parametrize("exponent", [-90, -118, -127, -131])
def test_subnormals_are_kept(exponent, dtype):
    # Weights ~2^-8 times inputs ~2^-100 and one row of +-2^exponent: products and sums
    # below 2^-126 are subnormal, which the kernels keep (no flush to zero).
    conv = dw(1, 14, 14, 64, 3, bias=True, act="relu6", dtype=dtype)
    program = plan_program(conv, "n150")
    _, w, b, _, _ = make_inputs(conv, program.layout, seed=3)
    from tt_dw_mlir.layout import prepare_bias, prepare_weights
    w = w.sign() * torch.exp2(-8 + torch.randint(0, 3, w.shape).float())
    b[:16] = 0.0  # channels 0-15: the sums alone
    pw, pb = prepare_weights(w, program.layout), prepare_bias(b * 1e-30, program.layout)
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(1, 14, 14, 64, generator=gen).sign() * (1 + torch.rand(1, 14, 14, 64, generator=gen))
    x *= torch.exp2(torch.randint(-100, -90, x.shape, generator=gen).float())  # >= 2^-100
    x[0, 3, 3, :8] = torch.tensor([2.0 ** exponent, -(2.0 ** exponent)] * 4)
    x[0, 9:, :, :] *= 2.0 ** -30  # inputs ~2^-130..-120, products ~2^-138..-126
    got = execute(program, x, pw, pb, backend="reference")
    assert_same_bits(got, run_reference_windows(program, x, pw, pb))
    if dtype == "bf16":  # torch's own f32 sums are in another order (test_kernel_bit_identical)
        assert_same_bits(got, previous_run_reference(program, x, pw, pb))
    sums = got[0, 10:, :, :16]  # windows in rows 9-13 only
    assert bool(((sums != 0) & (sums.abs() < 2.0 ** -126)).any()), "no subnormal output"


def nan_with_sign(negative: bool) -> float:
    return -float("nan") if negative else float("nan")


@pytest.mark.parametrize("dtype", ["bf16", "f32", "bfp8_b"])
@pytest.mark.parametrize("act", ["none", "relu", "relu6", "silu", "gelu"])
def test_non_finite_values(act, dtype):
    # Which NaN comes out when two meet is fixed by torch's operand order (the second
    # operand's), not by IEEE: the kernel recomputes its NaN outputs by that rule.
    conv = dw(1, 10, 10, 40, 3, bias=True, act=act, dtype=dtype)
    program = plan_program(conv, "n150")
    x, w, b, _, _ = make_inputs(conv, program.layout, seed=7)
    x[0, 1, 1, 0], x[0, 2, 2, 0] = float("nan"), -float("nan")   # output (1, 1): taps 0, 8
    x[0, 5, 5, 1], x[0, 5, 6, 1] = -float("nan"), float("nan")   # output (5, 5): taps 4, 5
    x[0, 7, 7, 2], x[0, 7, 8, 2] = float("inf"), -float("inf")   # inf - inf
    x[0, 3, 3, 4], x[0, 3, 4, 4] = 1e-40, -3e-42                 # subnormal inputs
    w[5] = float("inf")                # channel 5: inf weights x zero padding = NaN
    w[6, 0, 1, 1] = float("nan")       # channel 6: a NaN weight
    b[7], b[8] = float("nan"), -float("inf")
    from tt_dw_mlir.layout import prepare_bias, prepare_weights
    pw, pb = prepare_weights(w, program.layout), prepare_bias(b, program.layout)
    got = execute(program, x, pw, pb, backend="reference")
    assert_same_bits(got, run_reference_windows(program, x, pw, pb))
    # the second NaN wins: +NaN at tap 0, -NaN at tap 8 -> -NaN; -NaN at tap 4, +NaN at 5 -> +NaN
    assert torch.isnan(got[0, 1, 1, 0]) and got[0, 1, 1, 0].view(torch.int32) < 0
    assert torch.isnan(got[0, 5, 5, 1]) and got[0, 5, 5, 1].view(torch.int32) > 0
    assert bool(torch.isnan(got[..., 5]).all()) and bool(torch.isnan(got[..., 7]).all())


def test_kernel_missing_fails_loudly(monkeypatch):
    conv = dw(1, 6, 6, 32, 3)
    program = plan_program(conv, "n150")
    x, _, _, pw, _ = make_inputs(conv, program.layout)
    monkeypatch.setattr(reference_module, "_dwconv", None)
    with pytest.raises(RuntimeError, match="make venv"):
        execute(program, x, pw, backend="reference")


def test_kernel_rejects_bad_geometry():
    from tt_dw_mlir.runtime import _dwconv
    y, x, w = torch.zeros(64), torch.zeros(64), torch.zeros(64)
    good = [1, 2, 2, 16, 16, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0]
    ptrs = (y.data_ptr(), x.data_ptr(), False, w.data_ptr(), 0, 1)
    import struct
    _dwconv.conv(struct.pack("=18i", *good), *ptrs)  # 1x1 kernel: y = bf16(x * w) = 0
    with pytest.raises(ValueError, match="geometry must be"):
        _dwconv.conv(b"short", *ptrs)
    for field, value in ((3, 0), (4, 24), (7, 0), (15, 2), (17, 3)):  # c, cp, kh, quant, act
        bad = list(good)
        bad[field] = value
        with pytest.raises(ValueError, match="invalid conv geometry"):
            _dwconv.conv(struct.pack("=18i", *bad), *ptrs)


@pytest.mark.parametrize("target", ['__attribute__((target("avx2")))', ""],
                         ids=["avx2", "baseline"])
def test_kernel_on_other_instruction_sets(target, tmp_path, monkeypatch):
    # The installed module runs its AVX-512 copy on this machine; the AVX2 and baseline
    # x86-64 copies (what other machines run) are built here alone and must give the
    # same bits.
    import importlib.machinery
    import importlib.util
    import platform
    import shutil
    import subprocess
    import sysconfig
    from pathlib import Path

    if platform.machine() != "x86_64" or shutil.which("gcc") is None:
        pytest.skip("needs gcc on x86-64")
    source = Path(reference_module.__file__).with_name("_dwconv.c")
    built = tmp_path / "_dwconv.so"
    done = subprocess.run(
        ["gcc", "-O3", "-std=gnu11", "-ffp-contract=off", "-fopenmp", "-fPIC", "-shared",
         "-Wno-psabi", f"-DPER_TARGET={target}", f"-I{sysconfig.get_paths()['include']}",
         str(source), "-o", str(built)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    loader = importlib.machinery.ExtensionFileLoader("_dwconv", str(built))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("_dwconv", loader))
    loader.exec_module(module)
    monkeypatch.setattr(reference_module, "_dwconv", module)
    for conv in [dw(2, 27, 33, 72, 3, s=2, bias=True, act="relu"),          # 3x3, 72 ch
                 dw(1, 20, 20, 88, 7, bias=True, act="relu6"),              # 7x7
                 DepthwiseConv(3, 9, 11, 20, (2, 3), (1, 2), (0, 1, 1, 1), (1, 1), True, "relu"),
                 dw(1, 14, 14, 96, 3, bias=True, act="gelu", dtype="f32")]:  # f32, no rounding
        program = plan_program(conv, "n150")
        _, _, _, pw, pb = make_inputs(conv, program.layout, seed=conv.channels)
        x = sprinkle(heavy_tailed((conv.batch, conv.in_h, conv.in_w, conv.channels), seed=1),
                     20, seed=4)
        got = reference_module.run_reference(program, x, pw, pb)
        assert_same_bits(got, run_reference_windows(program, x, pw, pb))


def test_kernel_shares_torch_openmp_runtime():
    # one libgomp in the process: the kernel's threads are torch's (a second OpenMP
    # runtime would keep its own threads spinning beside torch's)
    from pathlib import Path
    maps = Path("/proc/self/maps")
    if not maps.exists():
        pytest.skip("no /proc/self/maps (not Linux)")
    from tt_dw_mlir.runtime import _dwconv  # noqa: F401  (loaded)
    runtimes = {line.split()[-1] for line in maps.read_text().splitlines()
                if "libgomp" in line or "libomp" in line or "libiomp" in line}
    assert len(runtimes) == 1, runtimes


def test_weight_cache_lives_on_the_program():
    conv = dw(1, 14, 14, 96, 3, bias=True, act="relu6")
    program = plan_program(conv, "n150")
    x, _, _, pw, pb = make_inputs(conv, program.layout)
    execute(program, x, pw, pb, backend="reference")
    assert (id(pw), id(pb)) in program.reference_cache["weight sets"]
    assert not hasattr(reference_module, "_CONV_WEIGHTS")
    again = plan_program(conv, "n150")
    assert again == program and hash(again) == hash(program)  # the cache is not compared
