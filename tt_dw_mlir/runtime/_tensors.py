"""Host-side tensor boundaries shared by every backend: checks, quantisation, padding."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..blockfloat import quantize
from ..conv_config import TILE
from ..program import KernelProgram


def as_float_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to(torch.float32).cpu()
    return torch.from_numpy(np.asarray(x, dtype=np.float32))


def quantized(x: torch.Tensor, dtype: str) -> torch.Tensor:
    """blockfloat.quantize on a torch tensor (block-float groups along the last dim).

    bf16 is done in torch (round to nearest, ties to even, NaN kept quiet with its
    sign: blockfloat.to_bfloat16's rule, checked equal in test_program), ~10x faster
    than the numpy bit arithmetic on full-size layers. When `torch.bfloat16` has been
    rebound to float32 (importing tt-lang-sim does that process-wide) or NaNs are
    present, the rounding is done on the float32 bits instead.
    """
    if dtype == "bf16":
        x = x.to(torch.float32)
        # the native cast is RNE too, but writes every NaN as one fixed pattern (0xFFFF
        # with torch 2.13); blockfloat keeps the sign.
        if native_bf16() and not has_nan(x):
            return x.to(torch.bfloat16).to(torch.float32)
        return _bf16_round(x)
    return torch.from_numpy(quantize(x.contiguous().numpy(), dtype))


def native_bf16() -> bool:
    """False once tt-lang-sim has rebound `torch.bfloat16` to float32 (process-wide)."""
    return torch.bfloat16 is not torch.float32


def has_nan(x: torch.Tensor) -> bool:
    # A finite sum rules NaN out in one fast reduction (isnan().any() is ~10x slower);
    # math.isfinite on the Python float saves a tensor op per call.
    return not math.isfinite(float(x.sum())) and bool(torch.isnan(x).any())


def _bf16_round(x: torch.Tensor) -> torch.Tensor:
    u = x.contiguous().view(torch.int32)
    rounded = ((u + (0x7FFF + ((u >> 16) & 1))) & -65536).view(torch.float32)
    quiet_nan = ((u & -0x80000000) | 0x7FC00000).view(torch.float32)
    return torch.where(torch.isnan(x), quiet_nan, rounded)


def input_nhwc(program: KernelProgram, x_nhwc: Any) -> torch.Tensor:
    """NHWC input, shape-checked and quantised to the activation dtype (face rows of 16
    channels start at channel 0, so the zero channel padding changes nothing)."""
    return quantized(raw_input_nhwc(program, x_nhwc), program.conv.dtype)


def raw_input_nhwc(program: KernelProgram, x_nhwc: Any) -> torch.Tensor:
    """NHWC input as float32, shape-checked, not yet quantised."""
    return as_tensor_nhwc(program, x_nhwc).to(torch.float32)


def as_tensor_nhwc(program: KernelProgram, x_nhwc: Any) -> torch.Tensor:
    """NHWC input as a CPU tensor, shape-checked, not yet quantised: a bf16 tensor as it
    is (every bf16 value is exact in float32), anything else as float32."""
    conv = program.conv
    x = x_nhwc
    if not (isinstance(x, torch.Tensor) and x.dtype in (torch.float32, torch.bfloat16)
            and x.device.type == "cpu" and not x.requires_grad):
        x = as_float_tensor(x)
    want = (conv.batch, conv.in_h, conv.in_w, conv.channels)
    if tuple(x.shape) != want:
        raise ValueError(f"input must be NHWC {list(want)}, got {list(x.shape)}")
    return x


def input_sticks(program: KernelProgram, x_nhwc: Any) -> torch.Tensor:
    """NHWC input -> quantised (N*H*W, padded channels) sticks."""
    conv, lay = program.conv, program.layout
    x = input_nhwc(program, x_nhwc)
    sticks = torch.zeros(conv.batch * conv.in_h * conv.in_w, lay.padded_channels)
    sticks[:, :conv.channels] = x.reshape(-1, conv.channels)
    return sticks


def weight_tiles(program: KernelProgram, prepared_weights: Any) -> torch.Tensor:
    """Prepared weights (num_shards, tiles_per_shard, 32, 32), quantised to the weight dtype."""
    return quantized(raw_weight_tiles(program, prepared_weights), program.conv.weight_dtype)


def raw_weight_tiles(program: KernelProgram, prepared_weights: Any) -> torch.Tensor:
    """Prepared weights as float32, shape-checked, not yet quantised."""
    lay = program.layout
    w = as_float_tensor(prepared_weights)
    if tuple(w.shape) != lay.prepared_shape:
        raise ValueError(f"prepared weights must have shape {list(lay.prepared_shape)}, "
                         f"got {list(w.shape)}")
    return w


def bias_tiles(program: KernelProgram, prepared_bias: Any) -> torch.Tensor | None:
    b = raw_bias_tiles(program, prepared_bias)
    return quantized(b, program.conv.weight_dtype) if b is not None else None


def raw_bias_tiles(program: KernelProgram, prepared_bias: Any) -> torch.Tensor | None:
    """Prepared bias as float32, checked against the program, not yet quantised."""
    lay, conv = program.layout, program.conv
    if not conv.has_bias:
        if prepared_bias is not None:
            raise ValueError("the program has no bias but a prepared bias was given")
        return None
    if prepared_bias is None:
        raise ValueError("the program has a bias: pass the prepared bias")
    b = as_float_tensor(prepared_bias)
    if tuple(b.shape) != lay.bias_shape:
        raise ValueError(f"prepared bias must have shape {list(lay.bias_shape)}, got {list(b.shape)}")
    return b


def window_weight_matrix(program: KernelProgram, tiles: torch.Tensor) -> torch.Tensor:
    """(S, T, 32, 32) tiles -> (window, padded channels): row p = kernel position p.

    Tile t = chunk * channel_tiles + ct holds rows chunk*R .. chunk*R+R-1 (rows past R
    are zero) and channels ct*32 .. ct*32+31 of its shard; see layout.py for the map.
    """
    lay = program.layout
    s, rc, ct, r = lay.num_shards, lay.row_chunks, lay.channel_tiles, lay.rows_per_tile
    v = tiles.reshape(s, rc, ct, TILE, TILE)[:, :, :, :r, :]   # (s, chunk, ct, row, col)
    v = v.permute(1, 3, 0, 2, 4).reshape(rc * r, s * ct * TILE)  # (chunk*R+row, channel)
    return v[: program.conv.window]


def bias_vector(program: KernelProgram, tiles: torch.Tensor) -> torch.Tensor:
    """(S, CT, 32, 32) bias tiles -> (padded channels,): row 0 of each tile."""
    return tiles[:, :, 0, :].reshape(-1)


def apply_activation(y: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "relu":
        return torch.relu(y)
    if activation == "relu6":
        return torch.clamp(y, 0.0, 6.0)
    if activation == "silu":
        return torch.nn.functional.silu(y)
    if activation == "gelu":
        return torch.nn.functional.gelu(y)
    return y


def output_nhwc(program: KernelProgram, rows: torch.Tensor) -> torch.Tensor:
    """(N*H_out*W_out, >= C channels) -> quantised NHWC [N, H_out, W_out, C] float32."""
    conv = program.conv
    rows = rows[:, :conv.channels] if rows.shape[1] != conv.channels else rows
    q = quantized(rows.to(torch.float32), conv.dtype)
    return q.reshape(conv.batch, conv.out_h, conv.out_w, conv.channels).contiguous()
