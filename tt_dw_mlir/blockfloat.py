"""bfloat16 / bfloat8_b / bfloat4_b quantisation, bit-exact with ttnn's host packer.

`quantize(x, dtype)` returns what packing `x` (float32) into `dtype` and
unpacking it again gives, as float32. With the default ``rounding="host"`` it
matches ttnn 0.81.1 host packing bit for bit on every set of
/work/shared/golden/ttnn_host_quantization.npz.

Block-float format (the ``_b`` formats share an 8-bit exponent, bias 127):
tiling is over the last two dims, padded with zeros to multiples of 32; a
32x32 tile is four 16x16 faces and each face row of 16 values shares one
exponent. Since faces split a tile at column 16, a face row is simply 16
consecutive values of the last dim starting at a multiple of 16, so
quantisation only needs the last dim padded to a multiple of 16.

Host packer, as found by matching the golden data (and consistent with
tt-metal's ``convert_u32_to_bfp`` in tt_metal/impl/data_format/blockfloat_common.cpp):

* No bfloat16 pre-rounding: the mantissa comes from the **float32** bits
  (24 bits with the hidden one). Pre-rounding to bf16 (RNE or truncating)
  misses thousands of golden values.
* Shared exponent = the largest float32 exponent field in the face row.
* Each mantissa is shifted right by (shared_exp - exp), **dropping** those
  bits (truncation), then rounded to M bits (M = 7 for bfp8_b, 3 for bfp4_b,
  explicit leading one) round-to-nearest, ties to even, looking only at the
  bits that remain after the first shift (dropped bits are not sticky bits).
* Rounding overflow at the top (e.g. 1.1111111x -> 2^M) is **clamped** to
  2^M - 1; the shared exponent is never bumped (the golden data holds hundreds
  of such cases and the clamp matches them all).
* A value whose mantissa ends up 0 gets sign 0: results are +0.0, never -0.0
  (inputs +/-0.0 give +0.0).
* Subnormal inputs are flushed to zero here. (The C++ packer adds a hidden one
  to them as if their exponent were 0, which gives 0 anyway unless every
  value in the row is below ~2^-100; the golden data has none.)
* Exponent 255 is an ordinary exponent to the packer: a row holding inf/NaN
  keeps ``inf``/``NaN`` there and its finite values are aligned to exponent
  255, so ordinary magnitudes become 0.

bfloat16 is round-to-nearest-even from float32 (NaN stays NaN, sign kept).

``rounding="device"`` models the Tensix packer instead, which differs from
the host in two documented ways: ties round away from zero, and for bfp4_b it
first rounds to 7 bits (as for bfp8_b) and then truncates to 3 bits (double
rounding). It is a model for error studies, not checked against hardware.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_ALIASES = {
    "bf16": "bf16", "bfloat16": "bf16",
    "bfp8_b": "bfp8_b", "bfloat8_b": "bfp8_b",
    "bfp4_b": "bfp4_b", "bfloat4_b": "bfp4_b",
    "f32": "f32", "float32": "f32", "f16": "f16", "float16": "f16",
}
_MANTISSA_BITS = {"bfp8_b": 7, "bfp4_b": 3}
ROUNDINGS = ("host", "device")
FACE_ROW = 16  # values sharing one exponent


def canonical_dtype(dtype: str) -> str:
    """'bfloat8_b' -> 'bfp8_b' etc.; raises on unknown names."""
    try:
        return _ALIASES[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype '{dtype}' (expected one of {', '.join(_ALIASES)})") from None


def _to_float32(x: Any) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor
        x = x.detach().cpu().float().numpy()
    return np.array(x, dtype=np.float32, order="C")  # a copy; keeps 0-d shape


def to_bfloat16(x: Any) -> np.ndarray:
    """float32 -> bfloat16 (round to nearest, ties to even) -> float32."""
    a = _to_float32(x)
    u = a.view(np.uint32).astype(np.uint64)
    rounded = (((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16).astype(np.uint32)
    # NaN: keep sign, make it quiet (the add above could carry into the sign)
    nan = np.isnan(a)
    rounded = np.where(nan, (a.view(np.uint32) & 0x80000000) | 0x7FC00000, rounded)
    return rounded.astype(np.uint32).view(np.float32).reshape(a.shape)


def _face_rows(a: np.ndarray) -> tuple[np.ndarray, tuple[int, ...], int]:
    """View x as [rows, 16] face rows (last dim zero-padded to a multiple of 16)."""
    shape = a.shape if a.ndim >= 1 else (1,)
    a = a.reshape(shape)
    width = shape[-1]
    padded_w = -(-width // FACE_ROW) * FACE_ROW
    if padded_w != width:
        p = np.zeros((*shape[:-1], padded_w), dtype=np.float32)
        p[..., :width] = a
        a = p
    return a.reshape(-1, FACE_ROW), shape, width


def _quantize_rows(rows: np.ndarray, mbits: int, rounding: str) -> np.ndarray:
    """Quantise [n, 16] float32 face rows to block float with `mbits` magnitude bits."""
    u = rows.view(np.uint32).astype(np.int64)
    sign = (u >> 31) & 1
    exp = (u >> 23) & 0xFF
    frac = u & 0x7FFFFF
    normal = exp != 0  # zeros and subnormals flush to zero
    mant = np.where(normal, frac | (1 << 23), 0)
    shared = np.where(normal, exp, 0).max(axis=1, keepdims=True)

    # Step 1: align to the shared exponent, dropping bits (truncation).
    diff = np.minimum(shared - exp, 40)
    mant = mant >> diff

    # Step 2: round the 24-bit aligned mantissa to `work` bits.
    work = 7 if rounding == "device" else mbits
    shift = 24 - work
    q = mant >> shift
    rem = mant & ((1 << shift) - 1)
    tie = 1 << (shift - 1)
    if rounding == "device":  # ties away from zero (on the magnitude)
        up = rem >= tie
    else:  # ties to even
        up = (rem > tie) | ((rem == tie) & ((q & 1) == 1))
    q = np.minimum(q + up, (1 << work) - 1)  # clamp, never bump the exponent
    if work != mbits:  # device bfp4: round to 7 bits, then truncate to 3
        q = q >> (work - mbits)

    # Unpack: leading one of q sets the exponent, the rest are fraction bits.
    nonzero = q > 0
    lead = np.zeros_like(q)
    for bit in range(1, mbits):  # mbits <= 7 passes over the array, not per element
        lead = np.where(q >= (1 << bit), bit, lead)
    out_exp = shared - (mbits - 1 - lead)
    out_frac = (q - (1 << lead)) << (23 - lead)
    representable = nonzero & (out_exp > 0)  # results below float32 normals flush to 0
    bits = np.where(representable, (sign << 31) | (out_exp << 23) | out_frac, 0)
    return bits.astype(np.uint32).view(np.float32)


def quantize(x: Any, dtype: str, rounding: str = "host") -> np.ndarray:
    """Round-trip `x` through `dtype` ("bf16", "bfp8_b", "bfp4_b" or the ttnn names).

    Returns float32 of the same shape. Block-float exponents are shared along
    the last dim in groups of 16 (face rows of 32x32 tiles over the last two
    dims). `rounding` is "host" (ttnn host packer, default) or "device" (see
    the module docstring).
    """
    kind = canonical_dtype(dtype)
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding '{rounding}' (expected one of {', '.join(ROUNDINGS)})")
    a = _to_float32(x)
    if kind == "bf16":
        return to_bfloat16(a)  # host and device agree on bf16
    if kind == "f32":
        return a
    if kind == "f16":  # IEEE round to nearest even, as numpy casts
        return a.astype(np.float16).astype(np.float32)
    rows, shape, width = _face_rows(a)
    q = _quantize_rows(rows, _MANTISSA_BITS[kind], rounding)
    q = q.reshape(*shape[:-1], -1)[..., :width]
    return np.ascontiguousarray(q).reshape(a.shape)


def shared_exponents(x: Any) -> np.ndarray:
    """The shared exponent field of every face row of `x`: shape [..., ceil(W/16)]."""
    rows, shape, _ = _face_rows(_to_float32(x))
    u = rows.view(np.uint32)
    exp = ((u >> 23) & 0xFF).astype(np.int64)
    return exp.max(axis=1).reshape(*shape[:-1], -1)
