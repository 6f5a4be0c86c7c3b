"""Device descriptions and sharding candidates for the depthwise pool2d op."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.sharding import (
    DEVICES,
    Device,
    Refusal,
    Sharding,
    candidates,
    choose_sharding,
    device_from_dict,
    get_device,
    layout_for,
    load_device,
)

SCHEMES = ("height_sharded", "width_sharded", "block_sharded")


def dw(channels: int, size: int, kernel: int, stride: int, batch: int = 1) -> DepthwiseConv:
    """A 'same'-padded square depthwise conv as the model families use."""
    p = kernel // 2
    return DepthwiseConv(batch, size, size, channels, (kernel, kernel), (stride, stride), (p, p, p, p))


# (channels, input size, kernel, stride)
MOBILENET_V2 = [(32, 112, 3, 1), (96, 112, 3, 2), (144, 56, 3, 1), (144, 56, 3, 2),
                (192, 28, 3, 1), (192, 28, 3, 2), (384, 14, 3, 1), (576, 14, 3, 1),
                (576, 14, 3, 2), (960, 7, 3, 1)]
EFFICIENTNET_B0 = [(32, 112, 3, 1), (96, 112, 3, 2), (144, 56, 3, 1), (144, 56, 5, 2),
                   (240, 28, 5, 1), (240, 28, 3, 2), (480, 14, 3, 1), (480, 14, 5, 1),
                   (672, 14, 5, 1), (672, 14, 5, 2), (1152, 7, 5, 1), (1152, 7, 3, 1)]
YOLOV10X = [(320, 160, 3, 2), (640, 80, 3, 2), (640, 40, 3, 2), (640, 20, 3, 1),
            (640, 40, 3, 1), (1280, 20, 3, 1), (640, 20, 7, 1), (640, 40, 7, 1), (1280, 20, 7, 1)]
MODEL_LAYERS = sorted(set(MOBILENET_V2 + EFFICIENTNET_B0 + YOLOV10X))
REAL_DEVICES = ("n150", "p150", "p150_13x10")


# ---- devices ----

def test_builtin_devices() -> None:
    n150 = DEVICES["n150"]
    assert n150.grid == (8, 8) and n150.num_cores == 64
    assert n150.l1_bytes == 1464 * 1024
    assert 0 < n150.l1_usable_bytes < n150.l1_bytes
    p150 = DEVICES["p150"]
    assert p150.arch == "blackhole" and p150.l1_bytes == 1536 * 1024
    assert (p150.rows, p150.cols) == (10, 11)                  # firmware >= v19.5.0
    assert DEVICES["p150_13x10"].grid == (10, 13)              # older firmware
    assert get_device("n150") is n150 and get_device(n150) is n150
    with pytest.raises(ValueError):
        get_device("n300x")


def test_custom_device_from_dict_and_json(tmp_path) -> None:
    custom = device_from_dict({"base": "n150", "name": "n150_4x4", "grid": "4x4"})
    assert custom.grid == (4, 4) and custom.l1_bytes == DEVICES["n150"].l1_bytes
    spec = {"name": "tiny", "arch": "wormhole_b0", "grid": [2, 3], "l1_size": 1 << 20,
            "l1_unreserved_base": 4096}
    from_str = load_device(json.dumps(spec))
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(spec))
    assert load_device(path) == from_str == get_device(spec)
    assert from_str.grid == (2, 3) and from_str.l1_usable_bytes == (1 << 20) - 4096
    with pytest.raises(ValueError):
        device_from_dict({"name": "x", "grid": [2, 2]})                 # no L1 size
    with pytest.raises(ValueError):
        device_from_dict({"name": "x", "grid": [2, 2], "l1_bytes": 10, "l2": 1})
    choice = choose_sharding(dw(64, 16, 3, 1), from_str)
    assert isinstance(choice, Sharding) and choice.validate(dw(64, 16, 3, 1), from_str) == []
    assert choice.num_cores <= 6


# ---- hand-worked choices ----

def test_mobilenet_first_layer_is_height_sharded_on_n150() -> None:
    conv = dw(32, 112, 3, 1)
    choice = choose_sharding(conv, "n150")
    # 112*112 = 12544 pixels / 64 cores = 196 per core; 32 channels in one shard
    assert choice == Sharding("height_sharded", (8, 8), 1, 32, 196, 64)
    assert choice.core_ranges == [((0, 0), (7, 7))]


def test_large_c_small_spatial_splits_channels() -> None:
    conv = dw(960, 7, 3, 1)  # 30 channel tiles, 49 pixels
    choice = choose_sharding(conv, "n150")
    assert isinstance(choice, Sharding)
    assert choice.scheme in ("width_sharded", "block_sharded")
    assert choice.channels_per_shard <= 256 and 960 % choice.channels_per_shard == 0


def test_core_ranges_of_partial_rows() -> None:
    s = Sharding("width_sharded", (5, 8), 36, 32, 49, 36)
    assert s.num_cores == 36
    assert s.core_ranges == [((0, 0), (7, 3)), ((0, 4), (3, 4))]
    assert Sharding("width_sharded", (1, 3), 3, 32, 49, 3).core_ranges == [((0, 0), (2, 0))]
    assert Sharding("block_sharded", (7, 6), 6, 160, 7).core_ranges == [((0, 0), (5, 6))]


# ---- model layers ----

@pytest.mark.parametrize("device", REAL_DEVICES)
@pytest.mark.parametrize("layer", MODEL_LAYERS, ids=lambda l: "c{}_{}x{}_k{}_s{}".format(l[0], l[1], l[1], l[2], l[3]))
def test_model_layers_get_a_valid_choice(layer, device: str) -> None:
    conv = dw(*layer)
    dev = DEVICES[device]
    choice = choose_sharding(conv, dev)
    assert isinstance(choice, Sharding), str(choice)
    assert choice.validate(conv, dev) == []
    assert choice.channels_per_shard <= 256
    found = candidates(conv, dev)
    assert found[0] == choice
    assert len(found) >= 2  # program.py falls back on the next ones when L1 is short
    for s in found:
        assert s.validate(conv, dev) == []
    layout = layout_for(conv, choice)
    assert layout.validate(conv.channels) == []
    assert layout.num_shards == choice.num_shards


def test_batch_two_layers() -> None:
    for layer in (MOBILENET_V2[0], EFFICIENTNET_B0[-2], YOLOV10X[-1]):
        conv = dw(*layer, batch=2)
        choice = choose_sharding(conv, "n150")
        assert isinstance(choice, Sharding) and choice.validate(conv, DEVICES["n150"]) == []


# ---- forced schemes and refusals ----

@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("layer", [MOBILENET_V2[0], MOBILENET_V2[-1], YOLOV10X[-1], EFFICIENTNET_B0[-2]])
def test_forced_scheme_is_honoured_or_refused(layer, scheme: str) -> None:
    conv = dw(*layer)
    result = choose_sharding(conv, "n150", scheme)
    if isinstance(result, Sharding):
        assert result.scheme == scheme
        assert result.validate(conv, DEVICES["n150"]) == []
        assert all(s.scheme == scheme for s in candidates(conv, "n150", scheme))
    else:
        assert isinstance(result, Refusal)
        assert result.limit in ("wide_reduction", "channel_alignment", "grid")
        assert str(conv.padded_channels) in result.message
        assert candidates(conv, "n150", scheme) == []


def test_height_refuses_wide_reduction() -> None:
    result = choose_sharding(dw(960, 7, 3, 1), "n150", "height_sharded")
    assert isinstance(result, Refusal) and result.limit == "wide_reduction"
    assert "960" in result.message and "256" in result.message


def test_small_c_is_honoured_in_every_scheme() -> None:
    conv = dw(32, 112, 3, 1)
    assert choose_sharding(conv, "n150", "width_sharded") == Sharding("width_sharded", (1, 1), 1, 32, 12544, 1)
    assert choose_sharding(conv, "n150", "block_sharded") == Sharding("block_sharded", (8, 1), 1, 32, 1568)


def test_channel_alignment_refusal() -> None:
    # 11 channel tiles: no even split over <= 8 columns keeps <= 256 channels per column
    result = choose_sharding(dw(352, 14, 3, 1), "n150", "block_sharded")
    assert isinstance(result, Refusal) and result.limit == "channel_alignment"
    assert "352" in result.message and "11" in result.message
    # width can use 11 cores of 32 channels
    assert isinstance(choose_sharding(dw(352, 14, 3, 1), "n150", "width_sharded"), Sharding)


def test_bad_requests_are_refused() -> None:
    assert choose_sharding(dw(64, 8, 3, 1), "n150", "diagonal").limit == "scheme"
    empty = DepthwiseConv(1, 2, 2, 64, (5, 5))  # no output pixels without padding
    assert choose_sharding(empty, "n150").limit == "output_size"
    assert candidates(empty, "n150") == []


def test_wide_candidates_only_on_request() -> None:
    conv = dw(960, 7, 3, 1)
    wide = candidates(conv, "n150", "height_sharded", allow_wide_reduction=True)
    assert [s.channels_per_shard for s in wide] == [960]
    assert wide[0].wide_reduction and wide[0].validate(conv, DEVICES["n150"])


# ---- properties ----

_devices = st.one_of(
    st.sampled_from([DEVICES[d] for d in REAL_DEVICES]),
    st.builds(lambda r, c: Device("custom", "wormhole_b0", (r, c), 1 << 20, 0),
              st.integers(1, 12), st.integers(1, 14)))


@st.composite
def _convs(draw):
    k = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    h, w = draw(st.integers(1, 96)), draw(st.integers(1, 96))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = (k[0] // 2, k[0] // 2, k[1] // 2, k[1] // 2)
    return DepthwiseConv(draw(st.integers(1, 3)), h, w, draw(st.integers(1, 3000)), k, stride, pads)


@settings(max_examples=150, deadline=None)
@given(conv=_convs(), device=_devices, scheme=st.sampled_from([None, *SCHEMES]))
def test_candidate_properties(conv, device, scheme) -> None:
    found = candidates(conv, device, scheme)
    for s in found:
        assert s.num_shards * s.channels_per_shard >= conv.channels
        assert s.channels_per_shard % 32 == 0
        assert s.channels_per_shard <= 256
        assert s.grid[0] <= device.rows and s.grid[1] <= device.cols
        assert 1 <= s.num_cores <= device.num_cores
        assert s.pixels_per_core >= 1
        assert scheme is None or s.scheme == scheme
        assert s.validate(conv, device) == []
        cells = {(x, y) for (x0, y0), (x1, y1) in s.core_ranges
                 for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)}
        assert len(cells) == s.num_cores
        assert all(x < s.grid[1] and y < s.grid[0] for x, y in cells)
    assert len(set(found)) == len(found)
    choice = choose_sharding(conv, device, scheme)
    if found:
        assert choice == found[0]
    else:
        assert isinstance(choice, Refusal) and choice.message
