"""The reference backend: the pool2d program's arithmetic on the host, same tiles and quantisation.

Both functions read the weights out of the prepared tiles the way the compute
kernel sees them (the window matrix: rows = kernel positions, cols = channels,
`window_weight_matrix`), the bias out of row 0 of the bias tiles, and quantise
at the kernels' tensor boundaries (input and output to `conv.dtype`, weights and
bias to `conv.weight_dtype`). The core split of the sharding does not change the
arithmetic, so both run the whole tensor at once. The arithmetic is the compute
kernel's: zero (clear-value) padding; per output value a sum that starts from +0
and adds, in kernel-position order, each input times its weight rounded to
float32 (the kernel's `acc += x_k * w_k`, no fused multiply-add); then the bias,
then the activation.

* `run_reference` (backend "reference", for full-size layers): one pass of the
  compiled kernel `_dwconv` (runtime/_dwconv.c) - bf16 rounding of the input as
  it is read, the window sums, bias, relu / relu6 and the bf16 rounding of the
  output, on torch's threads (`torch.get_num_threads()`). silu and gelu are torch's,
  applied after it, like run_reference_windows does; f16 and block-float
  activations are quantised by `quantized` before and after it. The weights are
  unlaid once per (program, prepared tensors) and kept on the program
  (`KernelProgram.reference_cache`). Bit-identical to run_reference_windows, NaN
  signs and payloads included (test_reference pins it, test_sim against the
  simulator).
* `run_reference_windows`: the same arithmetic written out in torch - one strided,
  dilated slab of sticks per kernel position (the kernel's window plane) times that
  position's weight row. Slower; tests use it as the literal oracle.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch  # before _dwconv: the loader binds its libgomp.so.1 to the one torch loaded

from ..program import KernelProgram
from ._tensors import (apply_activation, as_float_tensor, as_tensor_nhwc, bias_tiles,
                       bias_vector, input_nhwc, output_nhwc, quantized, raw_bias_tiles,
                       raw_weight_tiles, weight_tiles, window_weight_matrix)

_DWCONV_MISSING: ImportError | None = None
try:
    from . import _dwconv
except ImportError as error:  # reported by run_reference: no second, slower route
    _dwconv, _DWCONV_MISSING = None, error


def _weights_and_bias(program: KernelProgram, prepared_weights: Any, prepared_bias: Any
                      ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(window, C) weight rows and (C,) bias, from the quantised prepared tiles."""
    c = program.conv.channels
    w = window_weight_matrix(program, weight_tiles(program, prepared_weights))[:, :c]
    b = bias_tiles(program, prepared_bias)
    return w, (bias_vector(program, b)[:c] if b is not None else None)


def _used_weights_and_bias(program: KernelProgram, raw_weights: torch.Tensor,
                           raw_bias: torch.Tensor | None
                           ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`_weights_and_bias`, bit for bit, quantising only the tile rows the kernel reads.

    Gathering first is exact: bf16 rounds each value alone, and a block-float face
    row (16 columns of one tile row) is 16 consecutive, 16-aligned values of a row of
    the gathered (window, padded channels) matrix or bias vector, because a shard's
    channels are a multiple of 32. Unused rows are their own face rows. The padded
    channels are kept until after quantisation since they share face rows.
    """
    c, dtype = program.conv.channels, program.conv.weight_dtype
    w = quantized(window_weight_matrix(program, raw_weights), dtype)[:, :c]
    b = None
    if raw_bias is not None:
        b = quantized(bias_vector(program, raw_bias), dtype)[:c]
    return w, b


# ---- the prepared tensors, unlaid once -------------------------------------------------

@dataclass(frozen=True)
class _Snapshot:
    """The bits of the part of a prepared tensor the kernels read - the first `rows` rows
    of each 32x32 tile (the weights' window rows, the bias's row 0) - to tell whether it
    still holds them (NaN == NaN, -0.0 != +0.0). An in-place change, or another tensor at
    a reused id, is a difference; the padding rows are not compared, nothing reads them.

    Copying the read rows out (`tobytes`) and comparing bytes is about half the cost of a
    memcmp over the whole tiles, which are mostly padding (23 of 32 rows for 3x3, 31 of 32
    for the bias)."""

    shape: tuple[int, ...]
    rows: int
    data: bytes

    @classmethod
    def of(cls, raw: torch.Tensor, rows: int) -> _Snapshot:
        return cls(tuple(raw.shape), rows, raw.numpy()[:, :, :rows, :].tobytes())

    def same_as(self, prepared: Any) -> bool:
        if isinstance(prepared, np.ndarray) and prepared.dtype == np.float32:
            array = prepared
        elif (isinstance(prepared, torch.Tensor) and prepared.dtype == torch.float32
              and prepared.device.type == "cpu"):
            array = prepared.detach().numpy()
        else:
            try:
                array = as_float_tensor(prepared).numpy()
            except (TypeError, ValueError):
                return False
        return array.shape == self.shape and array[:, :, :self.rows, :].tobytes() == self.data


@dataclass(frozen=True)
class _UnlaidWeights:
    """One (program, prepared weights, prepared bias): unlaid and quantised, with
    snapshots of the prepared tensors they came from."""

    prepared_weights: _Snapshot
    prepared_bias: _Snapshot | None
    weight: torch.Tensor             # (channels / 16 rounded up, window, 16) float32, zero past C
    bias: torch.Tensor | None        # (channels rounded up to 16,) float32, zero past C

    def made_from(self, prepared_weights: Any, prepared_bias: Any) -> bool:
        if self.prepared_bias is None:
            return prepared_bias is None and self.prepared_weights.same_as(prepared_weights)
        return (prepared_bias is not None and self.prepared_weights.same_as(prepared_weights)
                and self.prepared_bias.same_as(prepared_bias))


CACHED_WEIGHT_SETS = 8  # per program (layers of one shape can share a program)
LANES = 16  # channels per vector in _dwconv.c


def _unlaid_weights(program: KernelProgram, prepared_weights: Any, prepared_bias: Any
                    ) -> _UnlaidWeights:
    """The weights unlaid from these prepared tensors: kept on the program, reused while
    the prepared tensors hold the same bits (one compare instead of the gather and the
    quantisation, ~4x the time)."""
    cache = program.reference_cache.setdefault("weight sets", {})
    key = (id(prepared_weights), id(prepared_bias))
    hit = cache.get(key)
    if hit is not None and hit.made_from(prepared_weights, prepared_bias):
        return hit
    raw_w = raw_weight_tiles(program, prepared_weights)
    raw_b = raw_bias_tiles(program, prepared_bias)
    w, b = _used_weights_and_bias(program, raw_w, raw_b)
    lanes = -(-program.conv.channels // LANES) * LANES
    weight = torch.zeros(w.shape[0], lanes)
    weight[:, :w.shape[1]] = w
    weight = weight.reshape(-1, lanes // LANES, LANES).transpose(0, 1).contiguous()
    bias = None
    if b is not None:
        bias = torch.zeros(lanes)
        bias[:b.shape[0]] = b
    # snapshots: the caller may change its tensors in place later
    unlaid = _UnlaidWeights(_Snapshot.of(raw_w, program.layout.rows_per_tile),
                            None if raw_b is None else _Snapshot.of(raw_b, 1), weight, bias)
    if key not in cache and len(cache) >= CACHED_WEIGHT_SETS:
        cache.pop(next(iter(cache)))  # the oldest
    cache[key] = unlaid
    return unlaid


# ---- the compiled kernel's arguments --------------------------------------------------

_KERNEL_DTYPES = ("bf16", "f32")  # the kernel rounds to bf16 itself; others: `quantized`
_QUANT = {"bf16": 1}
_KERNEL_ACTIVATIONS = {"none": 0, "relu": 1, "relu6": 2}  # silu, gelu: torch's, after it


def _geometry(program: KernelProgram) -> bytes:
    """The conv as _dwconv.c's `geometry` struct (kept on the program)."""
    packed = program.reference_cache.get("geometry")
    if packed is None:
        conv = program.conv
        quant = _QUANT.get(conv.dtype, 0)
        in_kernel = conv.activation in _KERNEL_ACTIVATIONS
        fields = (conv.batch, conv.in_h, conv.in_w, conv.channels,
                  -(-conv.channels // LANES) * LANES, conv.out_h, conv.out_w, *conv.kernel,
                  *conv.stride, *conv.dilation, conv.padding[0], conv.padding[2], quant,
                  quant if in_kernel else 0, _KERNEL_ACTIVATIONS.get(conv.activation, 0))
        packed = program.reference_cache["geometry"] = struct.pack(f"={len(fields)}i", *fields)
    return packed


def run_reference(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
                  prepared_bias: Any = None) -> torch.Tensor:
    if _dwconv is None:
        raise RuntimeError(
            "the reference backend's compiled kernel tt_dw_mlir.runtime._dwconv is missing "
            f"({_DWCONV_MISSING or 'not loaded'}): install the package with pip (`make venv`, or `pip install "
            "-e .` in a checkout), which compiles tt_dw_mlir/runtime/_dwconv.c")
    unlaid = _unlaid_weights(program, prepared_weights, prepared_bias)
    conv = program.conv
    x = as_tensor_nhwc(program, x_nhwc)  # float32, or bf16 as given
    if conv.dtype not in _KERNEL_DTYPES:
        x = quantized(x.to(torch.float32), conv.dtype)
    x = x.contiguous()
    y = torch.empty(conv.batch, conv.out_h, conv.out_w, conv.channels)
    b = unlaid.bias
    _dwconv.conv(_geometry(program), y.data_ptr(), x.data_ptr(), x.dtype != torch.float32,
                 unlaid.weight.data_ptr(), 0 if b is None else b.data_ptr(),
                 torch.get_num_threads())
    if conv.activation not in _KERNEL_ACTIVATIONS:  # on the contiguous NHWC sums, as
        y = apply_activation(y, conv.activation)     # run_reference_windows applies it
    elif conv.dtype in _KERNEL_DTYPES:
        return y
    return output_nhwc(program, y.reshape(-1, conv.channels))


def run_reference_windows(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
                          prepared_bias: Any = None) -> torch.Tensor:
    conv = program.conv
    x = input_nhwc(program, x_nhwc)
    w, b = _weights_and_bias(program, prepared_weights, prepared_bias)
    pt, pb, pl, pr = conv.padding
    xp = torch.nn.functional.pad(x, (0, 0, pl, pr, pt, pb))  # NHWC: pad W then H
    (kh_n, kw_n), (sh, sw), (dh, dw) = conv.kernel, conv.stride, conv.dilation
    oh, ow = conv.out_h, conv.out_w
    acc = torch.zeros(conv.batch, oh, ow, conv.channels)
    for kh in range(kh_n):
        h0 = kh * dh
        for kw in range(kw_n):
            w0 = kw * dw
            slab = xp[:, h0:h0 + sh * (oh - 1) + 1:sh, w0:w0 + sw * (ow - 1) + 1:sw, :]
            acc += slab * w[kh * kw_n + kw]  # rounded, then added: no fused multiply-add
    if b is not None:
        acc += b
    acc = apply_activation(acc, conv.activation)
    return output_nhwc(program, acc.reshape(-1, conv.channels))
