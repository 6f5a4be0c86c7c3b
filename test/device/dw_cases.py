"""Shared helpers for the numerical tests: the torch oracle, PCC, layer configs."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.layout import prepare_bias, prepare_weights

# DESIGN.md §6: per-layer PCC vs torch fp32
PCC_TARGET = {"bf16": 0.9999, "bfp8_b": 0.999, "bfp4_b": 0.98}
# A small device for the simulator: up to 2x4 cores keeps runs short while
# still giving several cores, channel shards and multicast receivers.
SIM_DEVICE = {"base": "n150", "name": "n150_2x4", "grid": [2, 4]}


def pcc_target(conv: DepthwiseConv) -> float:
    return min(PCC_TARGET[conv.dtype], PCC_TARGET[conv.weight_dtype])


def torch_oracle(conv: DepthwiseConv, x_nhwc: torch.Tensor, w: torch.Tensor,
                 b: torch.Tensor | None) -> torch.Tensor:
    """fp32 torch: conv2d(groups=C) with per-side zero padding, then the activation. NHWC."""
    pt, pb, pl, pr = conv.padding
    x = F.pad(x_nhwc.permute(0, 3, 1, 2).float().contiguous(), (pl, pr, pt, pb))
    y = F.conv2d(x, w.float(), None if b is None else b.float(), conv.stride, 0,
                 conv.dilation, groups=conv.channels)
    act = {"none": lambda t: t, "relu": F.relu, "relu6": lambda t: t.clamp(0, 6),
           "silu": F.silu, "gelu": F.gelu}[conv.activation]
    return act(y).permute(0, 2, 3, 1).float()


def pcc(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten().double(), b.flatten().double()
    a, b = a - a.mean(), b - b.mean()
    denom = a.norm() * b.norm()
    if denom == 0:
        return 1.0 if torch.equal(a, b) else 0.0
    return float((a @ b) / denom)


def make_inputs(conv: DepthwiseConv, layout, seed: int = 0):
    """Random input / weights / bias and their prepared forms (layout + quantisation)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(conv.batch, conv.in_h, conv.in_w, conv.channels, generator=gen)
    w = torch.randn(conv.channels, 1, *conv.kernel, generator=gen) / conv.window ** 0.5
    b = torch.randn(conv.channels, generator=gen) if conv.has_bias else None
    pw = prepare_weights(w, layout)
    pb = prepare_bias(b, layout) if b is not None else None
    return x, w, b, pw, pb


def conv_id(conv: DepthwiseConv) -> str:
    pt, pb, pl, pr = conv.padding
    parts = [f"n{conv.batch}", f"{conv.in_h}x{conv.in_w}x{conv.channels}",
             f"k{conv.kernel[0]}x{conv.kernel[1]}", f"s{conv.stride[0]}x{conv.stride[1]}"]
    if conv.dilation != (1, 1):
        parts.append(f"d{conv.dilation[0]}x{conv.dilation[1]}")
    parts.append(f"p{pt}{pb}{pl}{pr}")
    if conv.has_bias:
        parts.append("bias")
    if conv.activation != "none":
        parts.append(conv.activation)
    parts.append(conv.dtype if conv.dtype == conv.weight_dtype else f"{conv.dtype}-w{conv.weight_dtype}")
    return "-".join(parts)


def dw(n, h, w, c, k, s=1, p=None, d=1, bias=False, act="none", dtype="bf16", wdtype=None):
    """DepthwiseConv shorthand: square kernel/stride/dilation, `same` padding by default."""
    if p is None:
        p = d * (k - 1) // 2
    if isinstance(p, int):
        p = (p, p, p, p)
    return DepthwiseConv(n, h, w, c, (k, k), (s, s), tuple(p), (d, d), bias, act, dtype,
                         wdtype or dtype)
