"""Vectorised torch reference of the pool2d program: same layout, tiles and quantisation.

Both methods read the weights out of the prepared tiles the way the compute
kernel sees them (the window matrix: rows = kernel positions, cols = channels,
`window_weight_matrix`), the bias out of row 0 of the bias tiles, and quantise
at the kernels' tensor boundaries (input and output to `conv.dtype`, weights and
bias to `conv.weight_dtype`). The core split of the sharding does not change the
arithmetic, so both run the whole tensor at once.

* `run_reference` (backend "reference", for full-size layers): the window
  gather, the multiply by the unlaid tiles and the row reduction are done by
  torch's depthwise conv2d (oneDNN, channels-last), which adds the products in
  the kernel's order; test_reference pins every bit against the literal oracle.
  The weights are unlaid once per (program, prepared tensors) and kept on the
  program (`KernelProgram.reference_cache`). Two routes, the same bits:
  - bf16 activations with no activation, relu or relu6 (MobileNetV2): the conv
    runs on the bf16 input itself and rounds its fp32 sums to bf16 as it writes
    them; the activation follows (it commutes with that rounding). Taken when
    `_Bf16Conv.accepts` the input (nothing subnormal anywhere, which oneDNN's bf16
    kernel would flush) and, once per program, a probe on this machine showed the
    bf16 kernel adding in the fp32 kernel's order; a NaN in the output falls back
    to the fp32 route. Its bf16 weights are packed once into oneDNN's layout
    (`_packed`), which F.conv2d would redo, with the call's setup, on every run.
  - everything else: the fp32 conv on the quantised input, the activation, the
    output quantised; the bf16 NaN scan runs once, on the output.
  Dilated convs and non-finite weights, where torch's conv adds in another order or
  skips the padding taps the kernels multiply, run `run_reference_windows`.
* `run_reference_windows`: the compute kernel's arithmetic written out - zero
  (clear-value) padding, one strided, dilated slab of sticks per kernel position
  (the kernel's window plane) times that position's weight row, rounded to
  float32, added to a sum that starts from +0 in position order (the kernel's
  `acc += x_k * w_k`, with +0 in the first term), then the bias, then the
  activation. Bit-identical to the
  simulator (test_sim pins it); slower; tests use it as the literal oracle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..program import KernelProgram
from ._tensors import (apply_activation, as_float_tensor, as_tensor_nhwc, bias_tiles,
                       bias_vector, has_nan, input_nhwc, native_bf16, output_nhwc, quantized,
                       raw_bias_tiles, raw_weight_tiles, weight_tiles, window_weight_matrix)


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


# Activations that commute with a monotone rounding to bf16 when nothing is subnormal
# (clamping to 0 or 6 first or after rounding gives the same bf16 value).
_ROUNDING_COMMUTES = ("none", "relu", "relu6")
_TINY_MAP = torch.tensor(32766, dtype=torch.int16)  # see _Bf16Conv.accepts


@dataclass(frozen=True)
class _Bf16Conv:
    """The bf16 route for one set of weights, and the inputs it is exact for.

    torch's conv2d on bf16 tensors (oneDNN) widens to fp32, sums there in the fp32
    kernel's order and rounds once to bf16 (RNE); every product of two bf16 values is
    exact in fp32, so it computes the fp32 route's sums - except that it treats
    subnormal inputs, products and sums as zero. Every nonzero product of bf16 values
    x, w is a multiple of 2^(e(x) + e(w) - 14) and every nonzero bias value of
    2^(e(b) - 7) (e = floor log2 |v|), so every partial sum is a multiple of the
    smallest of those: if that is >= 2^-126 nothing is ever subnormal.
    `min_input_exponent` makes it so for the input.
    """

    weight: torch.Tensor         # (C, 1, kh, kw) bf16
    bias: torch.Tensor | None    # (C,) bf16
    min_input_exponent: int      # nonzero |x| must be >= 2^this
    packed: torch.Tensor | None  # `weight` in oneDNN's layout for this program (_packed)

    def accepts(self, xb: torch.Tensor) -> bool:
        """No nonzero |xb| (bf16) is below 2^min_input_exponent.

        Read from the bit patterns in one pass: 2 * bits + 32766 (int16, wrapping)
        drops the sign and sends +-0 to the top (32766) and magnitude bits m >= 1 to
        2m - 32770, in order, so one amin gives the smallest nonzero magnitude."""
        mapped = torch.add(_TINY_MAP, xb.view(torch.int16), alpha=2)
        return int(mapped.amin()) >= self.min_mapped

    @property
    def min_mapped(self) -> int:
        """2^min_input_exponent's bits (exponent field, zero mantissa), mapped as in `accepts`."""
        return 2 * ((self.min_input_exponent + 127) << 7) - 32770

    def conv(self, program: KernelProgram, xb: torch.Tensor) -> torch.Tensor:
        return _bf16_conv(program, xb, self.weight, self.bias, self.packed)


def _min_exponent(v: torch.Tensor) -> int | None:
    """floor(log2) of the smallest nonzero |v|, or None if all are zero."""
    nonzero = v.abs()[v != 0]
    if nonzero.numel() == 0:
        return None
    return int(torch.frexp(nonzero).exponent.min()) - 1  # |v| = m * 2^e, m in [0.5, 1)


def _bf16_route(program: KernelProgram, weight: torch.Tensor, bias: torch.Tensor | None
                ) -> _Bf16Conv | None:
    """The bf16 route for these quantised weights, or None where it cannot be exact."""
    conv = program.conv
    if (conv.dtype != "bf16" or conv.activation not in _ROUNDING_COMMUTES
            or not native_bf16() or conv.dilation != (1, 1)):
        return None
    values = weight if bias is None else torch.cat([weight.reshape(-1), bias])
    if not bool(torch.isfinite(values).all()):
        return None
    w_min = _min_exponent(weight)
    b_min = None if bias is None else _min_exponent(bias)
    if ((w_min is not None and w_min < -126)      # a subnormal weight
            or (b_min is not None and b_min < -119)):  # bias steps below 2^-126
        return None
    weight_bf16 = weight.to(torch.bfloat16)
    bias_bf16 = None if bias is None else bias.to(torch.bfloat16)
    # every weight dtype's values are bf16 values (block float keeps <= 7 mantissa bits)
    if not (torch.equal(weight_bf16.float(), weight)
            and (bias is None or torch.equal(bias_bf16.float(), bias))):
        return None
    min_exponent = -126 if w_min is None else max(-126, -112 - w_min)
    return _Bf16Conv(weight_bf16, bias_bf16, min_exponent, _packed(program, weight_bf16))


@dataclass(frozen=True)
class _UnlaidWeights:
    """One (program, prepared weights, prepared bias): unlaid and quantised, with
    snapshots of the prepared tensors they came from."""

    prepared_weights: _Snapshot
    prepared_bias: _Snapshot | None
    weight: torch.Tensor             # (C, 1, kh, kw) float32
    bias: torch.Tensor | None        # (C,) float32
    bf16: _Bf16Conv | None
    # torch's conv would not give the kernels' bits: its dilated kernel adds in another
    # order (~1 value in 10^5 an ulp off), and it skips the padding taps, which the
    # kernels multiply (inf or NaN weight * zero padding = NaN)
    windows_only: bool

    def made_from(self, prepared_weights: Any, prepared_bias: Any) -> bool:
        if self.prepared_bias is None:
            return prepared_bias is None and self.prepared_weights.same_as(prepared_weights)
        return (prepared_bias is not None and self.prepared_weights.same_as(prepared_weights)
                and self.prepared_bias.same_as(prepared_bias))


CACHED_WEIGHT_SETS = 8  # per program (layers of one shape can share a program)


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
    conv = program.conv
    weight = w.t().reshape(conv.channels, 1, *conv.kernel).contiguous()
    route = _bf16_route(program, weight, b)
    if route is not None and not _bf16_conv_sums_as_fp32(program):
        route = None
    # snapshots: the caller may change its tensors in place later
    rows = program.layout.rows_per_tile
    windows_only = (conv.dilation != (1, 1) or not bool(torch.isfinite(weight).all())
                    or (b is not None and not bool(torch.isfinite(b).all())))
    unlaid = _UnlaidWeights(_Snapshot.of(raw_w, rows),
                            None if raw_b is None else _Snapshot.of(raw_b, 1), weight, b, route,
                            windows_only)
    if key not in cache and len(cache) >= CACHED_WEIGHT_SETS:
        cache.pop(next(iter(cache)))  # the oldest
    cache[key] = unlaid
    return unlaid


def _bf16_conv_sums_as_fp32(program: KernelProgram) -> bool:
    """oneDNN's bf16 conv adds like its fp32 conv for this layer's shape, on this machine.

    It picks its kernel by shape and CPU (the tests pin the bits on the machine they run
    on only), so each program checks once, kept with its weights. The probe's values
    make the order of the adds show in bf16: 2^24 + 1 rounds to 2^24 in fp32 while
    1 - 2^24 is exact, so a window mixing +-2^24 with small values gives a different
    small result for almost any other order, or for a bias added first."""
    verdict = program.reference_cache.get("bf16 conv sums as fp32")
    if verdict is None:
        conv = program.conv
        gen = torch.Generator().manual_seed(0)
        values = torch.tensor([0.0, 1.0, -1.0, 3.0, -3.0, 2.0 ** 24, -(2.0 ** 24)])
        x = values[torch.randint(len(values), (conv.batch, conv.in_h, conv.in_w, conv.channels),
                                 generator=gen)]
        weight = torch.randint(2, (conv.channels, 1, *conv.kernel), generator=gen) * 2.0 - 1.0
        bias = (values[torch.randint(len(values), (conv.channels,), generator=gen)]
                if conv.has_bias else None)
        want = _fp32_conv(program, x, weight, bias, "none").to(torch.bfloat16)
        weight_bf16 = weight.to(torch.bfloat16)
        got = _bf16_conv(program, x.to(torch.bfloat16), weight_bf16,
                         None if bias is None else bias.to(torch.bfloat16),
                         _packed(program, weight_bf16))
        got = got.permute(0, 2, 3, 1).reshape(want.shape)
        verdict = bool(torch.equal(got.view(torch.int16), want.view(torch.int16)))
        program.reference_cache["bf16 conv sums as fp32"] = verdict
    return verdict


# ---- the two routes ----------------------------------------------------------------------

def _padded(program: KernelProgram, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    """NHWC x and the conv2d padding: unequal sides are padded here, with zeros."""
    pt, pb, pl, pr = program.conv.padding
    if pt == pb and pl == pr:
        return x, (pt, pl)
    return torch.nn.functional.pad(x, (0, 0, pl, pr, pt, pb)), (0, 0)


def _conv(program: KernelProgram, x: torch.Tensor, weight: torch.Tensor,
          bias: torch.Tensor | None) -> torch.Tensor:
    """torch's depthwise conv2d on NHWC `x` (float32 or bf16, as the weights): NCHW out,
    channels-last (y.permute(0, 2, 3, 1) is contiguous NHWC)."""
    conv = program.conv
    x, padding = _padded(program, x)
    return torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), weight, bias, conv.stride, padding,
                                      conv.dilation, groups=conv.channels)


# oneDNN's convolution with its weights reordered once ahead (what torch.compile's CPU
# backend calls for a frozen conv): F.conv2d reorders the weights and sets up the call
# anew each time, ~25% of a 14x14x384 layer. Absent from builds without oneDNN.
_POINTWISE_CONV = (torch.backends.mkldnn.is_available()
                   and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
                   and hasattr(torch.ops.mkldnn, "_reorder_convolution_weight"))


def _conv_args(program: KernelProgram) -> tuple[list[int], list[int], list[int], list[int]]:
    """(padding, stride, dilation, NCHW input shape) of the conv `_conv` runs (kept on
    the program: building the lists is ~1 us of a ~60 us layer)."""
    args = program.reference_cache.get("conv args")
    if args is None:
        args = program.reference_cache["conv args"] = _new_conv_args(program)
    return args


def _new_conv_args(program: KernelProgram) -> tuple[list[int], list[int], list[int], list[int]]:
    conv = program.conv
    pt, pb, pl, pr = conv.padding
    h, w = conv.in_h, conv.in_w
    if pt == pb and pl == pr:
        padding = [pt, pl]
    else:  # `_padded` pads the input itself
        padding, h, w = [0, 0], h + pt + pb, w + pl + pr
    return padding, list(conv.stride), list(conv.dilation), [conv.batch, conv.channels, h, w]


def _packed(program: KernelProgram, weight: torch.Tensor) -> torch.Tensor | None:
    """`weight` reordered for oneDNN's conv of this program's shape, or None without it."""
    if not _POINTWISE_CONV:
        return None
    padding, stride, dilation, shape = _conv_args(program)
    return torch.ops.mkldnn._reorder_convolution_weight(weight, padding, stride, dilation,
                                                        program.conv.channels, shape)


def _bf16_conv(program: KernelProgram, xb: torch.Tensor, weight: torch.Tensor,
               bias: torch.Tensor | None, packed: torch.Tensor | None) -> torch.Tensor:
    """The conv on bf16 NHWC `xb`, its fp32 sums rounded to bf16 by the conv itself
    (NCHW, channels-last); with `packed` (`_packed(program, weight)`), the same oneDNN
    kernel without the per-call weight reorder (the per-program probe checks its sums)."""
    if packed is None:
        return _conv(program, xb, weight, bias)
    x, _ = _padded(program, xb)
    padding, stride, dilation, _ = _conv_args(program)
    return _packed_conv(x.permute(0, 3, 1, 2), packed, bias, stride, padding, dilation,
                        program.conv.channels)


def _packed_conv(x: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None,
                 stride: list[int], padding: list[int], dilation: list[int],
                 groups: int) -> torch.Tensor:
    """F.conv2d(x, weight, bias, stride, padding, dilation, groups) on `_packed` weights."""
    return torch.ops.mkldnn._convolution_pointwise(x, packed, bias, padding, stride, dilation,
                                                   groups, "none", [], "")


def _activate_in_place(y: torch.Tensor, activation: str) -> torch.Tensor:
    """apply_activation on a tensor we own (same results, no new tensor where torch allows)."""
    if activation == "relu":
        return y.relu_()
    if activation == "relu6":
        return y.clamp_(0.0, 6.0)
    if activation == "silu":
        return torch.nn.functional.silu(y, inplace=True)
    return apply_activation(y, activation)


def _fp32_conv(program: KernelProgram, x: torch.Tensor, weight: torch.Tensor,
               bias: torch.Tensor | None, activation: str) -> torch.Tensor:
    """The conv on quantised float32 NHWC `x`, activation applied: (pixels, C) rows.

    The activation runs on the contiguous NHWC form, as run_reference_windows applies
    it: torch's CPU gelu gives other values on a channels-last NCHW tensor."""
    y = _activate_in_place(_conv(program, x, weight, bias).permute(0, 2, 3, 1), activation)
    return y.reshape(-1, program.conv.channels)


def _fp32_route(program: KernelProgram, x: torch.Tensor, weight: torch.Tensor,
                bias: torch.Tensor | None) -> torch.Tensor:
    """NHWC `x` (float32 or bf16), quantised here; NHWC float32 out."""
    conv = program.conv
    act = conv.activation
    if conv.dtype != "bf16" or not native_bf16():
        xq = quantized(x.to(torch.float32), conv.dtype)
        return output_nhwc(program, _fp32_conv(program, xq, weight, bias, act))
    # The native cast rounds like quantized() but rewrites NaNs; those only matter if
    # one reaches the output (every activation keeps NaN), so the NaN scan is done
    # once, on the output, and a NaN there redoes the conv with quantized().
    xq = x if x.dtype == torch.bfloat16 else x.to(torch.bfloat16)
    rows = _fp32_conv(program, xq.to(torch.float32), weight, bias, act)  # bf16->f32: exact
    if has_nan(rows):
        xq = quantized(x, conv.dtype)
        return output_nhwc(program, _fp32_conv(program, xq, weight, bias, act))
    out = rows.to(torch.bfloat16).to(torch.float32)  # = quantized(rows, "bf16"): no NaN
    return out.reshape(conv.batch, conv.out_h, conv.out_w, conv.channels).contiguous()


def run_reference(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
                  prepared_bias: Any = None) -> torch.Tensor:
    unlaid = _unlaid_weights(program, prepared_weights, prepared_bias)
    if unlaid.windows_only:  # rare (dilated, non-finite weights): slower, same bits
        return run_reference_windows(program, x_nhwc, prepared_weights, prepared_bias)
    x = as_tensor_nhwc(program, x_nhwc)  # float32, or bf16 as given
    route = unlaid.bf16
    if route is not None and native_bf16():  # (tt-lang-sim may have rebound bf16 since)
        xb = x.to(torch.bfloat16, memory_format=torch.contiguous_format)
        if route.accepts(xb):
            y = route.conv(program, xb).to(torch.float32)
            # the activation commutes with the rounding; a NaN output takes the fp32
            # route (oneDNN writes its own NaN pattern, quantized() keeps the sign)
            out = _activate_in_place(y.permute(0, 2, 3, 1), program.conv.activation)
            if not has_nan(out):
                return out
    return _fp32_route(program, x, unlaid.weight, unlaid.bias)


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
