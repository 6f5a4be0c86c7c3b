"""Face-based weight layout: hand-worked slots, exact inverse, injective index map."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.layout import (
    WeightLayout,
    index_map,
    layout_bias,
    layout_weights,
    make_layout,
    prepare_weights,
    unlayout_bias,
    unlayout_weights,
)


def _conv(channels: int, kernel: tuple[int, int], weight_dtype: str = "bf16") -> DepthwiseConv:
    return DepthwiseConv(batch=1, in_h=16, in_w=16, channels=channels, kernel=kernel,
                         weight_dtype=weight_dtype)


def _slot(m: dict[str, np.ndarray], c: int, kh: int, kw: int) -> tuple[int, ...]:
    return tuple(int(m[k][c, kh, kw]) for k in
                 ("shard", "tile", "row", "col", "face", "face_row", "face_col"))


# ---- hand-worked examples (numbers worked out by hand from the spec) ----

def test_c48_3x3_height_by_hand() -> None:
    layout = make_layout(_conv(48, (3, 3)), "height_sharded", 1)
    # Cs = 64, K = 9 -> R = 16, one row chunk, two channel tiles.
    assert layout.channels_per_shard == 64
    assert layout.rows_per_tile == 16
    assert layout.row_chunks == 1
    assert layout.channel_tiles == 2
    assert layout.tiles_per_shard == 2
    assert layout.face_rows_per_position == 4
    assert layout.prepared_shape == (1, 2, 32, 32)
    m = index_map(layout, 48)
    #                      shard tile row col face frow fcol
    assert _slot(m, 0, 0, 0) == (0, 0, 0, 0, 0, 0, 0)
    assert _slot(m, 17, 1, 2) == (0, 0, 5, 17, 1, 5, 1)     # p = 5
    assert _slot(m, 40, 2, 0) == (0, 1, 6, 8, 0, 6, 8)      # p = 6, cl 40 -> tile 1
    assert _slot(m, 47, 2, 2) == (0, 1, 8, 15, 0, 8, 15)    # p = 8

    w = np.arange(1, 48 * 9 + 1, dtype=np.float32).reshape(48, 1, 3, 3)
    prepared = layout_weights(w, layout)
    assert prepared[0, 0, 5, 17] == w[17, 0, 1, 2]
    assert prepared[0, 1, 8, 15] == w[47, 0, 2, 2]
    # padded channels 48..63 and rows 9..31 are zero
    assert not prepared[0, 1, :, 16:].any()
    assert not prepared[0, :, 9:, :].any()
    assert np.count_nonzero(prepared) == w.size


def test_5x5_uses_bottom_faces_by_hand() -> None:
    layout = make_layout(_conv(48, (5, 5)), "height_sharded", 1)
    assert layout.rows_per_tile == 32 and layout.row_chunks == 1
    m = index_map(layout, 48)
    # c = 20, (4, 4): p = 24 -> row 24 -> face 3 (rows 16-31, cols 16-31), face row 8, face col 4
    assert _slot(m, 20, 4, 4) == (0, 0, 24, 20, 3, 8, 4)
    # c = 3, (3, 2): p = 17 -> row 17 -> face 2
    assert _slot(m, 3, 3, 2) == (0, 0, 17, 3, 2, 1, 3)


def test_7x7_width_sharded_by_hand() -> None:
    layout = make_layout(_conv(100, (7, 7)), "width_sharded", 3)
    # ceil(100/3) = 34 -> Cs = 64; K = 49 -> R = 32, 2 row chunks, 2 channel tiles.
    assert layout.channels_per_shard == 64
    assert layout.prepared_shape == (3, 4, 32, 32)
    m = index_map(layout, 100)
    # c = 70 -> shard 1, cl 6; (5, 1): p = 36 -> chunk 1, row 4 -> tile 1*2 + 0
    assert _slot(m, 70, 5, 1) == (1, 2, 4, 6, 0, 4, 6)
    # c = 99 -> shard 1, cl 35 -> tile 1 within chunk 0; (6, 6): p = 48 -> chunk 1, row 16
    assert _slot(m, 99, 6, 6) == (1, 3, 16, 3, 2, 0, 3)


def test_non_square_kernel_by_hand() -> None:
    layout = make_layout(_conv(32, (1, 5)), "block_sharded", 1)
    m = index_map(layout, 32)
    assert _slot(m, 31, 0, 4) == (0, 0, 4, 31, 1, 4, 15)
    layout = make_layout(_conv(32, (5, 1)), "block_sharded", 1)
    m = index_map(layout, 32)
    assert _slot(m, 31, 4, 0) == (0, 0, 4, 31, 1, 4, 15)


def test_bias_by_hand() -> None:
    layout = make_layout(_conv(80, (3, 3)), "width_sharded", 2)  # Cs = 64
    b = np.arange(1, 81, dtype=np.float32)
    prepared = layout_bias(b, layout)
    assert prepared.shape == (2, 2, 32, 32)
    assert prepared[0, 1, 0, 3] == 36.0   # c = 35 -> shard 0, tile 1, col 3
    assert prepared[1, 0, 0, 15] == 80.0  # c = 79 -> shard 1, cl 15
    assert not prepared[:, :, 1:, :].any()
    assert np.count_nonzero(prepared) == 80
    assert np.array_equal(unlayout_bias(prepared, layout, 80), b)


# ---- validation ----

def test_dict_round_trip() -> None:
    layout = make_layout(_conv(100, (5, 3), "bfp4_b"), "width_sharded", 3)
    assert layout.to_dict() == {"scheme": "width_sharded", "num_shards": 3,
                                "channels_per_shard": 64, "kernel": [5, 3], "dtype": "bfp4_b"}
    assert WeightLayout.from_dict(layout.to_dict()) == layout


def test_validate_reports_problems() -> None:
    assert WeightLayout("height_sharded", 1, 64, (3, 3)).validate() == []
    assert WeightLayout("height_sharded", 1, 64, (3, 3)).validate(channels=65)
    assert WeightLayout("height_sharded", 2, 64, (3, 3)).validate()
    assert WeightLayout("width_sharded", 2, 48, (3, 3)).validate()
    assert WeightLayout("diagonal_sharded", 1, 64, (3, 3)).validate()
    assert WeightLayout("width_sharded", 1, 64, (3, 3), dtype="fp8").validate()
    with pytest.raises(ValueError):
        make_layout(_conv(64, (3, 3)), "height_sharded", 2)


def test_wrong_weight_shape_is_rejected() -> None:
    layout = make_layout(_conv(64, (3, 3)), "height_sharded", 1)
    with pytest.raises(ValueError, match="3, 3"):
        layout_weights(np.zeros((64, 1, 5, 5), np.float32), layout)
    with pytest.raises(ValueError):
        unlayout_weights(np.zeros((1, 3, 32, 32), np.float32), layout, 64)


def test_torch_input_and_quantised_prepare() -> None:
    import torch
    layout = make_layout(_conv(64, (3, 3), "bfp8_b"), "height_sharded", 1)
    w = torch.randn(64, 1, 3, 3)
    prepared = layout_weights(w, layout)
    assert np.array_equal(unlayout_weights(prepared, layout, 64), w.numpy())
    q = prepare_weights(w, layout)
    assert q.shape == layout.prepared_shape and q.dtype == np.float32
    assert not q[0, :, 9:, :].any()
    # bfp8_b keeps ~2 significant digits per face row
    assert np.allclose(unlayout_weights(q, layout, 64), w.numpy(), atol=0.1)


# ---- properties ----

_kernels = st.tuples(st.integers(1, 7), st.integers(1, 7))


@st.composite
def _layout_cases(draw):
    channels = draw(st.one_of(st.integers(1, 2048), st.sampled_from([1, 31, 32, 33, 2047, 2048])))
    kernel = draw(_kernels)
    scheme = draw(st.sampled_from(["height_sharded", "width_sharded", "block_sharded"]))
    shards = 1 if scheme == "height_sharded" else draw(st.integers(1, min(channels, 64)))
    return channels, kernel, make_layout(_conv(channels, kernel), scheme, shards)


@settings(max_examples=120, deadline=None)
@given(case=_layout_cases(), seed=st.integers(0, 2**32 - 1))
def test_unlayout_inverts_layout_exactly(case, seed) -> None:
    channels, kernel, layout = case
    w = np.random.default_rng(seed).standard_normal((channels, 1, *kernel)).astype(np.float32)
    prepared = layout_weights(w, layout)
    assert prepared.shape == layout.prepared_shape
    assert prepared.dtype == np.float32
    back = unlayout_weights(prepared, layout, channels)
    assert back.view(np.uint32).tobytes() == w.view(np.uint32).tobytes()
    # nothing else is written: every weight is nonzero, everything else zero
    w_nz = np.where(w == 0, np.float32(1), w)
    assert np.count_nonzero(layout_weights(w_nz, layout)) == w.size


@settings(max_examples=120, deadline=None)
@given(case=_layout_cases())
def test_index_map_injective_in_bounds_and_used_by_layout(case) -> None:
    channels, kernel, layout = case
    m = index_map(layout, channels)
    s, t, r, c = m["shard"], m["tile"], m["row"], m["col"]
    shape = layout.prepared_shape
    for arr, bound in zip((s, t, r, c), shape):
        assert arr.shape == (channels, *kernel)
        assert arr.min() >= 0 and arr.max() < bound
    flat = np.ravel_multi_index((s.ravel(), t.ravel(), r.ravel(), c.ravel()), shape)
    assert np.unique(flat).size == flat.size
    # face coordinates agree with (row, col)
    assert np.array_equal(m["face"] // 2, r // 16) and np.array_equal(m["face"] % 2, c // 16)
    assert np.array_equal(m["face_row"], r % 16) and np.array_equal(m["face_col"], c % 16)
    # rows stay in the top faces when the window fits in 16
    if layout.window <= 16:
        assert r.max() < 16
    # layout_weights places each weight at its index-map slot
    w = np.arange(1, channels * layout.window + 1, dtype=np.float32).reshape(channels, 1, *kernel)
    prepared = layout_weights(w, layout)
    assert np.array_equal(prepared[s, t, r, c], w[:, 0])


@settings(max_examples=60, deadline=None)
@given(case=_layout_cases())
def test_face_row_holds_one_position(case) -> None:
    """Each 16-value exponent block only mixes channels of a single kernel position."""
    channels, kernel, layout = case
    m = index_map(layout, channels)
    block = (m["shard"] * layout.tiles_per_shard + m["tile"]) * 64 + m["face"] * 16 + m["face_row"]
    pos = np.broadcast_to(np.arange(layout.window).reshape(1, *kernel), block.shape)
    pairs = np.unique(np.stack([block.ravel(), pos.ravel()]), axis=1)
    assert np.unique(pairs[0]).size == pairs.shape[1]
    per_pos = np.array([np.unique(block[:, kh, kw]).size
                        for kh in range(kernel[0]) for kw in range(kernel[1])])
    assert per_pos.max() <= layout.num_shards * layout.face_rows_per_position


# ---- the ops' `weight_layout` dictionary (dialect/ttnn.py LayoutRecord) ----

# (scheme, grid, cores, shards, Cs, kernel, dtype, tiles_per_shard, face_rows, rows_per_tile) by hand:
# 96 ch 3x3: K = 9 -> R = 16, 1 row chunk x 3 channel tiles; 5x5: K = 25 -> R = 32, 1 chunk;
# 7x7: K = 49 -> R = 32, 2 chunks x 3 channel tiles. Face rows per position = Cs / 16.
LAYOUT_RECORDS = [
    ("height_sharded", (8, 8), 61, 1, 96, (3, 3), "bf16", 3, 6, 16),
    ("width_sharded", (3, 8), 18, 18, 32, (5, 5), "bfp8_b", 1, 2, 32),
    ("block_sharded", (8, 6), 48, 6, 96, (7, 7), "bfp4_b", 6, 6, 32),
]


@pytest.mark.parametrize("case", LAYOUT_RECORDS, ids=lambda c: c[0])
def test_weight_layout_attribute_round_trips(case) -> None:
    from tt_dw_mlir.dialect.ttnn import LayoutRecord
    from tt_dw_mlir.ir import ir

    scheme, grid, cores, shards, cs, kernel, dtype, tiles, face_rows, rows = case
    record = LayoutRecord(WeightLayout(scheme, shards, cs, kernel, dtype), grid, cores)
    with ir.Context():
        attr = record.to_attr()
        assert isinstance(attr, ir.DictAttr)
        i32 = ir.IntegerType.get_signless(32)
        for name, value in (("cores", cores), ("channel_shards", shards), ("channels_per_shard", cs),
                            ("tiles_per_shard", tiles), ("face_rows_per_position", face_rows),
                            ("rows_per_tile", rows)):
            assert attr[name] == ir.IntegerAttr.get(i32, value), name
        assert attr["grid"] == ir.DenseI32ArrayAttr.get(list(grid))
        assert attr["kernel_size"] == ir.DenseI32ArrayAttr.get(list(kernel))
        assert attr["shard_scheme"] == ir.StringAttr.get(scheme)
        assert attr["dtype"] == ir.StringAttr.get(dtype)
        assert len(attr) == 10
        assert LayoutRecord.from_attr(attr) == record


def test_weight_layout_attribute_rejects_each_wrong_field() -> None:
    from tt_dw_mlir.dialect.ttnn import LayoutRecord
    from tt_dw_mlir.ir import ir

    record = LayoutRecord(WeightLayout("height_sharded", 1, 32, (3, 3)), (8, 8), 64)
    with ir.Context():
        good = record.to_attr()
        fields = {good[i].name: good[i].attr for i in range(len(good))}
        i64 = ir.IntegerType.get_signless(64)
        for name, wrong in fields.items():
            replacement = ir.StringAttr.get("x") if not isinstance(wrong, ir.StringAttr) else \
                ir.IntegerAttr.get(i64, 1)
            with pytest.raises(ValueError, match=f"field '{name}' must be"):
                LayoutRecord.from_attr(ir.DictAttr.get({**fields, name: replacement}))
            without = {k: v for k, v in fields.items() if k != name}
            with pytest.raises(ValueError, match=f"missing {name}$"):
                LayoutRecord.from_attr(ir.DictAttr.get(without))
        with pytest.raises(ValueError, match="i32 integer"):
            LayoutRecord.from_attr(ir.DictAttr.get({**fields, "cores": ir.IntegerAttr.get(i64, 64)}))
        with pytest.raises(ValueError, match="unknown field"):
            LayoutRecord.from_attr(ir.DictAttr.get({**fields, "tiles": ir.IntegerAttr.get(i64, 1)}))
        with pytest.raises(ValueError, match="disagrees with the layout"):
            LayoutRecord.from_attr(ir.DictAttr.get(
                {**fields, "tiles_per_shard": ir.IntegerAttr.get(ir.IntegerType.get_signless(32), 2)}))
        with pytest.raises(ValueError, match="must be a dictionary"):
            LayoutRecord.from_attr(ir.StringAttr.get("height_sharded"))
