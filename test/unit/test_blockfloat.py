"""Block-float quantisation: bit-exact against the real ttnn host packer, plus properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tt_dw_mlir.blockfloat import canonical_dtype, quantize, shared_exponents

# CI clones the repository next to a copy of shared/; a developer's checkout sits
# beside /work/shared.
_GOLDEN_NAME = Path("golden/ttnn_host_quantization.npz")
GOLDEN = next((p for p in (Path(__file__).resolve().parents[3] / "shared" / _GOLDEN_NAME,
                           Path("/work/shared") / _GOLDEN_NAME) if p.exists()),
              Path("/work/shared") / _GOLDEN_NAME)
SETS = ("normal", "lognormal_wide", "unaligned", "ties", "conv_weights_like")
GOLDEN_DTYPES = ("bfloat16", "bfloat8_b", "bfloat4_b")


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).view(np.uint32)


@pytest.fixture(scope="module")
def golden():
    # The golden file is part of the project's shared/ data: missing is a failure, not a skip.
    assert GOLDEN.exists(), f"golden data not found at {GOLDEN} (expected beside the checkout)"
    with np.load(GOLDEN) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("dtype", GOLDEN_DTYPES)
@pytest.mark.parametrize("name", SETS)
def test_matches_ttnn_host_packer_bit_for_bit(golden, name: str, dtype: str) -> None:
    x = golden[f"{name}__input"]
    expected = golden[f"{name}__{dtype}"]
    got = quantize(x, dtype)
    assert got.shape == expected.shape and got.dtype == np.float32
    mismatches = np.flatnonzero(_bits(got) != _bits(expected))
    assert mismatches.size == 0, (
        f"{mismatches.size} values differ, first at {mismatches[0]}: "
        f"x={x.ravel()[mismatches[0]]!r} got={got.ravel()[mismatches[0]]!r} "
        f"expected={expected.ravel()[mismatches[0]]!r}")


def test_short_and_ttnn_names_agree(golden) -> None:
    x = golden["normal__input"]
    for short, long in (("bf16", "bfloat16"), ("bfp8_b", "bfloat8_b"), ("bfp4_b", "bfloat4_b")):
        assert canonical_dtype(long) == short
        assert np.array_equal(_bits(quantize(x, short)), _bits(quantize(x, long)))
    with pytest.raises(ValueError):
        quantize(x, "fp8")
    with pytest.raises(ValueError):
        quantize(x, "bfp8_b", rounding="stochastic")


# ---- hand-built rows (expected values worked out by hand) ----

def _row(*values: float) -> np.ndarray:
    """One face row: the given values followed by zeros."""
    r = np.zeros(16, np.float32)
    r[:len(values)] = values
    return r


def test_bfp8_tie_host_to_even_device_away() -> None:
    # shared exponent from 1.0 -> bfp8 step 2^-6; 1 + 2^-7 is halfway between 1 and 1 + 2^-6
    x = _row(1.0, 1 + 2**-7, -(1 + 2**-7), 1 + 3 * 2**-7)
    host = quantize(x, "bfp8_b")
    device = quantize(x, "bfp8_b", rounding="device")
    assert host[:4].tolist() == [1.0, 1.0, -1.0, 1 + 2**-5]
    assert device[:4].tolist() == [1.0, 1 + 2**-6, -(1 + 2**-6), 1 + 2**-5]


def test_bfp4_device_rounds_to_7_bits_then_truncates() -> None:
    # 1.1875: host rounds 4.75 steps of 0.25 -> 1.25; device keeps 1.1875 at 7 bits, truncates to 1.0
    x = _row(1.1875)
    assert quantize(x, "bfp4_b")[0] == 1.25
    assert quantize(x, "bfp4_b", rounding="device")[0] == 1.0


def test_overflow_is_clamped_not_bumped() -> None:
    x = _row(1.999, 0.5)
    assert quantize(x, "bfp8_b")[:2].tolist() == [127 / 64, 0.5]
    assert quantize(x, "bfp4_b")[:2].tolist() == [7 / 4, 0.5]


def test_bits_dropped_by_alignment_do_not_break_ties() -> None:
    # 2^-7 * (1 + 2^-23) next to 1.0: aligning drops its last bit, leaving an exact tie
    # between 0 and 2^-6, which rounds to even (0); exact rounding would give 2^-6.
    x = _row(1.0, np.float32(2**-7) * np.float32(1 + 2**-23))
    assert x[1] > 2**-7
    assert quantize(x, "bfp8_b")[1] == 0.0


def test_zero_sign_and_subnormals() -> None:
    x = _row(1.0, -0.0, -2**-9, -1e-40, 1e-40)
    q = quantize(x, "bfp8_b")
    assert _bits(q[1:5]).tolist() == [0, 0, 0, 0]  # +0.0, never -0.0
    assert q[0] == 1.0


def test_each_face_row_has_its_own_exponent() -> None:
    x = np.zeros((2, 32), np.float32)
    x[0, 0] = 256.0       # row 0, face 0
    x[0, 1] = 1.5         # same face row: swamped by 256 in bfp4 (step 64)
    x[0, 17] = 1.5        # face 1: own exponent, exact
    x[1, 0] = 1.5         # next row: own exponent
    q = quantize(x, "bfp4_b")
    assert q[0, 0] == 256.0 and q[0, 1] == 0.0 and q[0, 17] == 1.5 and q[1, 0] == 1.5
    assert shared_exponents(x).tolist() == [[127 + 8, 127], [127, 0]]


def test_bfloat16_ties_to_even() -> None:
    x = np.array([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8), 1 + 2**-8 + 2**-20], np.float32)
    assert quantize(x, "bf16").tolist() == [1.0, 1 + 2**-6, -1.0, 1 + 2**-7]
    assert np.isnan(quantize(np.array([np.nan], np.float32), "bf16")[0])


def test_shapes_and_torch_input() -> None:
    assert quantize(np.float32(0.3), "bfp8_b").shape == ()
    assert quantize(np.ones(5, np.float32), "bfp4_b").shape == (5,)
    assert quantize(np.ones((2, 1, 3, 37), np.float32), "bfp8_b").shape == (2, 1, 3, 37)
    import torch
    t = torch.randn(3, 40, dtype=torch.bfloat16)
    assert np.array_equal(quantize(t, "bf16"), t.float().numpy())


# ---- properties ----

_floats = st.floats(min_value=-(2.0**100), max_value=2.0**100, allow_nan=False, allow_infinity=False,
                    width=32)
_arrays = hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=40),
                     elements=_floats)


@settings(max_examples=150, deadline=None)
@given(x=_arrays, dtype=st.sampled_from(["bf16", "bfp8_b", "bfp4_b"]),
       rounding=st.sampled_from(["host", "device"]))
def test_quantize_is_idempotent(x, dtype, rounding) -> None:
    once = quantize(x, dtype, rounding)
    assert once.shape == x.shape
    assert np.array_equal(_bits(quantize(once, dtype, rounding)), _bits(once))


@settings(max_examples=150, deadline=None)
@given(x=_arrays, dtype=st.sampled_from(["bfp8_b", "bfp4_b"]),
       rounding=st.sampled_from(["host", "device"]))
def test_face_row_has_one_exponent(x, dtype, rounding) -> None:
    """Every value in a face row is m * 2^(E - mbits + 1) with one E per row and |m| < 2^mbits."""
    mbits = 7 if dtype == "bfp8_b" else 3
    q = quantize(x, dtype, rounding).astype(np.float64)
    width = x.shape[-1]
    padded = np.zeros((*x.shape[:-1], -(-width // 16) * 16))
    padded[..., :width] = q
    rows = padded.reshape(-1, 16)
    top = np.abs(rows).max(axis=1, keepdims=True)
    _, e = np.frexp(np.where(top > 0, top, 1.0))  # top = f * 2^e, f in [0.5, 1)
    step = np.ldexp(1.0, e - mbits)
    m = rows / step
    assert np.array_equal(m, np.round(m))
    assert np.abs(m).max() <= 2**mbits - 1


@settings(max_examples=80, deadline=None)
@given(x=_arrays)
def test_bfp_error_is_within_half_a_step(x) -> None:
    """Host rounding error per value is at most one step of its row (half + dropped bits, or clamp)."""
    width = x.shape[-1]
    q = quantize(x, "bfp8_b").astype(np.float64)
    padded = np.zeros((*x.shape[:-1], -(-width // 16) * 16))
    padded[..., :width] = x
    top = np.abs(padded.reshape(-1, 16)).max(axis=1)
    _, e = np.frexp(np.where(top > 0, top, 1.0))
    step = np.repeat(np.ldexp(1.0, e - 7), 16).reshape(padded.shape)[..., :width]
    tiny = np.abs(x) < 2.0**-120  # subnormal flush region
    err = np.abs(q - x.astype(np.float64))
    assert (err[~tiny] <= step[~tiny]).all()
