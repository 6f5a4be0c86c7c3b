"""Host-side tensor boundaries shared by every backend: checks, quantisation, padding."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..blockfloat import quantize
from ..conv_config import TILE
from ..program import OPERANDS, KernelProgram


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
    if dtype == "f32":
        return x.to(torch.float32)
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


# ---- the operation's tensors (tt_dw_mlir/kernels/depthwise_pool_op.py), for every device run ----

def pixel_rows(program: KernelProgram) -> torch.Tensor:
    """(groups * tiles_per_group * 32,) output pixel of every operation row, -1 for padding
    (a group's last tile is padded, like a sharded output padded to its shard height)."""
    ppc, rows = program.sharding.pixels_per_core, program.tiles_per_group * TILE
    local = torch.arange(rows)
    groups = torch.arange(program.pixel_groups).unsqueeze(1)
    pixel = groups * ppc + local
    valid = (local < ppc) & (pixel < program.conv.output_pixels)
    return torch.where(valid, pixel, torch.full_like(pixel, -1)).reshape(-1)


def window_stick_index(program: KernelProgram) -> torch.Tensor:
    """(operation rows / 32, window, 32): the input stick under kernel position k of the
    pixel on row j of pixel tile t, -1 over the padding (the clear value) and for padding rows."""
    conv = program.conv
    pixel = pixel_rows(program).reshape(-1, 1, TILE)  # (tiles, 1, 32)
    n, rest = pixel // (conv.out_h * conv.out_w), pixel % (conv.out_h * conv.out_w)
    oh, ow = rest // conv.out_w, rest % conv.out_w
    pos = torch.arange(conv.window).reshape(1, -1, 1)
    kh, kw = pos // conv.kernel[1], pos % conv.kernel[1]
    pt, _, pl, _ = conv.padding
    ih = oh * conv.stride[0] - pt + kh * conv.dilation[0]
    iw = ow * conv.stride[1] - pl + kw * conv.dilation[1]
    inside = (pixel >= 0) & (ih >= 0) & (ih < conv.in_h) & (iw >= 0) & (iw < conv.in_w)
    stick = (n * conv.in_h + ih) * conv.in_w + iw
    return torch.where(inside, stick, torch.full_like(stick, -1))


def window_planes(program: KernelProgram, x_nhwc: Any) -> torch.Tensor:
    """The `windows` tensor: (tiles * window * 32, padded channels), tile row t*window + k,
    row j = the quantised input stick under position k of pixel tile t's row j (zeros
    where the window hangs over the padding: pool2d's clear value)."""
    sticks = input_sticks(program, x_nhwc)
    index = window_stick_index(program).reshape(-1)
    planes = torch.zeros(index.numel(), sticks.shape[1])
    valid = index >= 0
    planes[valid] = sticks[index[valid]]
    return planes


def weight_grid(program: KernelProgram, tiles: torch.Tensor) -> torch.Tensor:
    """(S, RC*CT, 32, 32) prepared tiles -> (S*RC*32, CT*32): shard s, tile t at tile
    (s*RC + t // CT, t % CT), bytes unchanged."""
    lay = program.layout
    s, rc, ct = lay.num_shards, lay.row_chunks, lay.channel_tiles
    grid = tiles.reshape(s, rc, ct, TILE, TILE).permute(0, 1, 3, 2, 4)
    return grid.reshape(s * rc * TILE, ct * TILE)


def bias_grid(program: KernelProgram, tiles: torch.Tensor | None) -> torch.Tensor:
    """(S, CT, 32, 32) prepared bias tiles -> (S*32, CT*32); zeros without a bias."""
    lay = program.layout
    if tiles is None:
        return torch.zeros(lay.num_shards * TILE, lay.channel_tiles * TILE)
    return tiles.permute(0, 2, 1, 3).reshape(lay.num_shards * TILE, lay.channel_tiles * TILE)


def selector_tiles(program: KernelProgram) -> torch.Tensor:
    """(window*32, SW*32), SW = `program.selector_width`: `WeightLayout.selector_matrix`,
    widened with zero columns (never read) to the `acc` block made like it."""
    return torch.from_numpy(program.layout.selector_matrix(program.selector_width))


def operation_tensors(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
                      prepared_bias: Any = None) -> list[torch.Tensor]:
    """The operation's tensors in its parameter order (`program.OPERANDS`: windows, weights,
    bias, selectors, out), as float32 host tensors; `out` is zeros. Every backend that runs
    the kernels starts from these; `--tt-depthwise-pool-to-generic` computes the same ones
    in the IR (test/device/test_generic_io.py compares them bit for bit)."""
    tensors = {"windows": window_planes(program, x_nhwc),
               "weights": weight_grid(program, weight_tiles(program, prepared_weights)),
               "bias": bias_grid(program, bias_tiles(program, prepared_bias)),
               "selectors": selector_tiles(program),
               "out": torch.zeros(pixel_rows(program).numel(), program.layout.padded_channels)}
    return [tensors[name] for name in OPERANDS]


def output_from_rows(program: KernelProgram, out: torch.Tensor) -> torch.Tensor:
    """The operation's `out` (rows = pixels, padding rows included) -> quantised NHWC."""
    rows = pixel_rows(program)
    return output_nhwc(program, out[rows >= 0])
