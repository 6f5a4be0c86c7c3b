"""Constants are read bit for bit from the attribute's storage (dialect/constants.py).

Oracles: numpy's own bytes for the round trips; for folding, the block-float packer
`blockfloat.quantize`, which test_blockfloat.py checks bit for bit against the real
ttnn host packer's outputs in the golden file.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from tt_dw_mlir.api import compile_text
from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.dialect.constants import ResourceBlobs, elements_to_numpy
from tt_dw_mlir.ir import ir, new_context, ops_named, parse_module, print_module
from tt_dw_mlir.layout import make_layout, prepare_bias, prepare_weights

DTYPES = {"bf16": np.dtype(ml_dtypes.bfloat16), "f16": np.dtype(np.float16),
          "f32": np.dtype(np.float32)}
BITS = {"bf16": np.uint16, "f16": np.uint16, "f32": np.uint32}


def _special_values(name: str) -> np.ndarray:
    """Random values plus the ones printing gets wrong: NaNs with payloads, +-inf, -0, subnormals."""
    bits = np.random.default_rng(7).integers(0, 2 ** (8 * DTYPES[name].itemsize), 64,
                                             dtype=np.uint64).astype(BITS[name])
    special = {"bf16": [0x7F80, 0xFF80, 0x7FC1, 0xFFA5, 0x8000, 0x0001, 0x7F7F],
               "f16": [0x7C00, 0xFC00, 0x7E01, 0x8000, 0x0001, 0x7BFF, 0xFD13],
               "f32": [0x7F800000, 0xFF800000, 0x7FC00001, 0x80000000, 0x00000001, 0x7F7FFFFF]}[name]
    bits[:len(special)] = special
    return bits


@pytest.mark.parametrize("name", sorted(DTYPES))
def test_dense_bits_round_trip(name):
    bits = _special_values(name)
    with new_context(), ir.Location.unknown():
        mlir_type = {"bf16": ir.BF16Type, "f16": ir.F16Type, "f32": ir.F32Type}[name].get()
        attr = ir.DenseElementsAttr.get(bits.reshape(4, 16), type=ir.RankedTensorType.get([4, 16], mlir_type))
        values = elements_to_numpy(attr)
        # and the same attribute after a trip through MLIR's own printer and parser
        reparsed = elements_to_numpy(ir.Attribute.parse(str(attr)))
    assert values.dtype == DTYPES[name] and values.shape == (4, 16)
    assert np.array_equal(values.view(BITS[name]).ravel(), bits)
    assert np.array_equal(reparsed.view(BITS[name]).ravel(), bits)


@pytest.mark.parametrize("name,literal,expected_bits", [
    ("bf16", "0x7FC1", 0x7FC1), ("bf16", "-0.0", 0x8000), ("bf16", "1.00390625", 0x3F80),
    ("f16", "0x7C00", 0x7C00), ("f32", "0x7FC00001", 0x7FC00001), ("f32", "3.0", 0x40400000)])
def test_splats(name, literal, expected_bits):
    with new_context():
        values = elements_to_numpy(ir.Attribute.parse(f"dense<{literal}> : tensor<2x3x{name}>"))
    assert values.shape == (2, 3)
    assert set(values.view(BITS[name]).ravel().tolist()) == {expected_bits}


@pytest.mark.parametrize("name", sorted(DTYPES))
def test_dense_resource_bits(name):
    bits = _special_values(name)
    blob = (4).to_bytes(4, "little") + bits.tobytes()  # MLIR's blob text: alignment, then bytes
    text = (f'func.func @f() -> tensor<64x{name}> {{\n'
            f'  %0 = "ttir.constant"() <{{value = dense_resource<w_1> : tensor<64x{name}>}}> : () -> tensor<64x{name}>\n'
            f'  return %0 : tensor<64x{name}>\n}}\n'
            f'{{-#\n  dialect_resources: {{\n    builtin: {{\n      w_1: "0x{blob.hex().upper()}"\n'
            f'    }}\n  }}\n#-}}\n')
    context = new_context()
    module = parse_module(text, context)
    with context:
        attr = ops_named(module.operation, "ttir.constant")[0].attributes["value"]
        values = elements_to_numpy(attr, ResourceBlobs(module.operation))
    assert np.array_equal(values.view(BITS[name]), bits)


def test_view_reads_the_attribute_storage_in_place_and_keeps_it_alive():
    """`copy=False` is the attribute's own memory (no copy of a network's weights), read-only,
    and it stays valid after everything else referring to the context is gone."""
    import gc

    from tt_dw_mlir.dialect.constants import dense_to_numpy, raw_dense_bytes

    bits = _special_values("bf16")
    context = new_context()
    with context, ir.Location.unknown():
        attr = ir.DenseElementsAttr.get(bits.reshape(4, 16),
                                        type=ir.RankedTensorType.get([4, 16], ir.BF16Type.get()))
        view = elements_to_numpy(attr, copy=False)
        again = elements_to_numpy(attr, copy=False)
        copied = elements_to_numpy(attr)
        f32 = ir.DenseElementsAttr.get(np.arange(6, dtype=np.float32).reshape(2, 3))
        f32_view = dense_to_numpy(f32, copy=False)
        widened = dense_to_numpy(attr, copy=False)  # bf16 -> float32 cannot be a view
        raw = raw_dense_bytes(attr)
    assert view.ctypes.data == again.ctypes.data != copied.ctypes.data  # the same storage
    assert not view.flags.writeable and copied.flags.writeable and widened.flags.writeable
    with pytest.raises(ValueError):
        view[0, 0] = 0
    assert not f32_view.flags.writeable and np.array_equal(f32_view, np.arange(6).reshape(2, 3))
    assert raw == bits.tobytes()
    del attr, f32, context
    gc.collect()
    np.random.default_rng(0).random(1 << 20)  # reuse freed memory, if any was freed
    assert np.array_equal(view.view(np.uint16).ravel(), bits)
    assert np.array_equal(widened.view(np.uint32).ravel() >> 16, bits.astype(np.uint32))
    assert np.array_equal(f32_view, np.arange(6).reshape(2, 3))


# --------------------------------------------------------------------------- ties
def _tie_weights() -> np.ndarray:
    """[32, 1, 1, 2] bf16 weights whose bfp8_b rounding is a tie in most face rows.

    Each face row (16 channels of one kernel position) holds 2^-3 (shared exponent
    -3, so bfp8_b steps are 2^-9) and values (2k+1) * 2^-10, exactly half a step off
    the grid: exact in bf16, and rounded to even by the host packer. Their 7+ digit
    decimals round to 6 digits in either direction (with steps of 2^-6, (2k+1) * 2^-7
    has 7 digits whose 6-digit rounding always agrees with ties-to-even).
    """
    k = np.arange(32, 64)
    ties = ((2 * k + 1) * 2.0 ** -7).astype(np.float32)
    w = np.empty((32, 2), dtype=np.float32)
    w[:, 0] = ties
    w[:, 1] = ties[::-1]
    w[::16, :] = 1.0
    return (w / 8).reshape(32, 1, 1, 2)


def _six_digits(values: np.ndarray) -> np.ndarray:
    """What a reader of MLIR's decimal print (6 significant digits) would get back."""
    return np.array([float(f"{v:.6g}") for v in values.ravel()], dtype=np.float32).reshape(values.shape)


def _literal(values: np.ndarray) -> str:
    return str(values.astype(np.float64).tolist())  # nested lists of exact decimals


def test_bfp8_ties_fold_bit_exactly():
    w = _tie_weights()
    b = _tie_weights()[:, 0, 0, 0] / 4  # bias ties one exponent lower
    conv = DepthwiseConv(1, 8, 8, 32, (1, 2), weight_dtype="bfp8_b", has_bias=True)
    layout = make_layout(conv, "height_sharded", 1)
    expected_w, expected_b = prepare_weights(w, layout), prepare_bias(b, layout)
    # The test can fail: a 6-significant-digit read-back folds other weights and biases.
    assert not np.array_equal(prepare_weights(_six_digits(w), layout), expected_w)
    assert not np.array_equal(prepare_bias(_six_digits(b), layout), expected_b)
    text = f"""
func.func @ties(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x7x32xbf16> {{
  %w = "ttir.constant"() <{{value = dense<{_literal(w.reshape(32, 1, 1, 2))}> : tensor<32x1x1x2xbf16>}}> : () -> tensor<32x1x1x2xbf16>
  %b = "ttir.constant"() <{{value = dense<{_literal(b)}> : tensor<32xbf16>}}> : () -> tensor<32xbf16>
  %0 = "ttir.conv2d"(%x, %w) <{{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 32 : i32}}> : (tensor<1x8x8x32xbf16>, tensor<32x1x1x2xbf16>) -> tensor<1x8x7x32xbf16>
  %1 = "ttir.add"(%0, %b) : (tensor<1x8x7x32xbf16>, tensor<32xbf16>) -> tensor<1x8x7x32xbf16>
  return %1 : tensor<1x8x7x32xbf16>
}}"""
    result = compile_text(text, "builtin.module(tt-depthwise-to-pool{path=pool weight-dtype=bfp8_b "
                                "shard-scheme=height_sharded})")
    with result.module.context:
        conv_op = ops_named(result.module.operation, "ttnn.depthwise_pool_conv")[0]
        folded = [elements_to_numpy(v.owner.attributes["value"]).astype(np.float32)
                  for v in list(conv_op.operands)[1:]]
    assert np.array_equal(folded[0].view(np.uint32), expected_w.view(np.uint32))
    assert np.array_equal(folded[1].view(np.uint32), expected_b.view(np.uint32))


# ------------------------------------------------------------- refused = untouched
UNREADABLE_BIAS = """
func.func @unreadable_bias(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16> {
  %w = "ttir.constant"() <{value = dense<1.0> : tensor<32x1x3x3xbf16>}> : () -> tensor<32x1x3x3xbf16>
  %b = "ttir.constant"() <{value = dense_resource<never_defined> : tensor<1x1x1x32xbf16>}> : () -> tensor<1x1x1x32xbf16>
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
"""


def test_unreadable_bias_leaves_the_ir_byte_identical():
    before = print_module(compile_text(UNREADABLE_BIAS, "builtin.module()").module)
    first = compile_text(UNREADABLE_BIAS, "builtin.module(tt-depthwise-to-pool{path=pool})")
    second = compile_text(first.text, "builtin.module(tt-depthwise-to-pool{path=pool})")
    assert first.text == before and second.text == before
    assert "prepare_depthwise_pool" not in first.text
    [remark] = first.remarks
    assert "constant bias could not be read" in remark.message, remark.message
    assert "never_defined" in remark.message and "weight" not in remark.message
