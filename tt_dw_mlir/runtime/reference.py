"""Vectorised torch reference of the pool2d program: same layout, tiles and quantisation.

Both methods read the weights out of the prepared tiles the way the compute
kernel sees them (the window matrix: rows = kernel positions, cols = channels,
`window_weight_matrix`), the bias out of row 0 of the bias tiles, and quantise
at the kernels' tensor boundaries (input and output to `conv.dtype`, weights and
bias to `conv.weight_dtype`). The core split of the sharding does not change the
arithmetic, so both run the whole tensor at once.

* `run_reference` (backend "reference", for full-size layers): the window
  gather, the multiply by the unlaid tiles and the row reduction are done by
  torch's depthwise conv2d (channels-last), whose CPU kernel fuses them.
* `run_reference_windows`: the same steps written out - zero (clear-value)
  padding, one strided, dilated slab of sticks per kernel position multiplied by
  that position's weight row and accumulated in position order, as the compute
  kernel reduces the rows. Slower; tests use it as a second, literal oracle.
"""

from __future__ import annotations

from typing import Any

import torch

from ..program import KernelProgram
from ._tensors import (apply_activation, bias_tiles, bias_vector, input_nhwc, output_nhwc,
                       weight_tiles, window_weight_matrix)


def _weights_and_bias(program: KernelProgram, prepared_weights: Any, prepared_bias: Any
                      ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(window, C) weight rows and (C,) bias, from the quantised prepared tiles."""
    c = program.conv.channels
    w = window_weight_matrix(program, weight_tiles(program, prepared_weights))[:, :c]
    b = bias_tiles(program, prepared_bias)
    return w, (bias_vector(program, b)[:c] if b is not None else None)


def run_reference(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
                  prepared_bias: Any = None) -> torch.Tensor:
    conv = program.conv
    x = input_nhwc(program, x_nhwc)
    w, b = _weights_and_bias(program, prepared_weights, prepared_bias)
    weight = w.t().reshape(conv.channels, 1, *conv.kernel).contiguous()
    xc = x.permute(0, 3, 1, 2)  # NCHW view of NHWC memory = channels_last
    pt, pb, pl, pr = conv.padding
    if pt == pb and pl == pr:
        padding = (pt, pl)
    else:
        xc = torch.nn.functional.pad(xc, (pl, pr, pt, pb))
        padding = (0, 0)
    y = torch.nn.functional.conv2d(xc, weight, b, conv.stride, padding, conv.dilation,
                                   groups=conv.channels)
    y = apply_activation(y, conv.activation)
    return output_nhwc(program, y.permute(0, 2, 3, 1).reshape(-1, conv.channels))


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
            acc.addcmul_(slab, w[kh * kw_n + kw])
    if b is not None:
        acc += b
    acc = apply_activation(acc, conv.activation)
    return output_nhwc(program, acc.reshape(-1, conv.channels))
