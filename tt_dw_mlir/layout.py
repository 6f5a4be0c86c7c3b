"""Face-based tiled layout of depthwise conv weights for the pool2d kernels.

The pool2d compute kernel multiplies an input-window tile (rows = window
sticks, i.e. kernel positions; columns = channels) element-wise with a weight
tile and reduces over rows. The weights are therefore laid out with kernel
positions on tile rows and channels on tile columns.

Weights ``[C, 1, kH, kW]`` become a prepared tensor of shape
``(num_shards, tiles_per_shard, 32, 32)``. A 32x32 tile holds four 16x16
faces in tt-metal's order: face 0 = rows 0-15 / cols 0-15, face 1 = rows 0-15
/ cols 16-31, face 2 = rows 16-31 / cols 0-15, face 3 = rows 16-31 / cols
16-31.

Index map (this is the documentation of ``ttnn.prepare_depthwise_pool_weights``)::

    K              = kH * kW                       window size
    p              = kh * kW + kw                  kernel position
    R              = 16 if K <= 16 else 32         rows per tile (pool2d uses only
                                                   the top two faces when the
                                                   window fits in 16 rows)
    Cs             = channels_per_shard            multiple of 32
    row_chunks     = ceil(K / R)
    channel_tiles  = Cs // 32
    tiles_per_shard = row_chunks * channel_tiles

    channel c, position (kh, kw)  ->
      shard     s         = c // Cs
      local ch  cl        = c %  Cs
      tile      t         = (p // R) * channel_tiles + cl // 32
      row                 = p % R
      col                 = cl % 32
      face                = 2 * (row // 16) + col // 16
      face_row            = row % 16
      face_col            = col % 16

    prepared[s, t, row, col] = w[c, 0, kh, kw]

Channels ``>= C`` (padding up to ``num_shards * Cs``) and unused rows are zero.
Each kernel position occupies ``ceil(Cs / 16)`` face rows; each face row (16
channels of one position) is one block-float exponent block, so a shared
exponent only ever spans weights of one tap across neighbouring channels.

Channel shards: HEIGHT_SHARDED -> 1 shard (all cores share the weights);
WIDTH_SHARDED -> one per core; BLOCK_SHARDED -> one per core column.

Bias ``[C]`` goes to ``(num_shards, channel_tiles, 32, 32)``: channel c at
row 0, column ``cl % 32`` of tile ``cl // 32`` of shard ``c // Cs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .conv_config import DTYPES, FACE, SCHEMES, TILE, DepthwiseConv, round_up


def _to_numpy(x: Any) -> np.ndarray:
    """Accept numpy arrays, torch tensors (any dtype/device) or sequences."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor without importing torch
        x = x.detach().cpu()
        if str(x.dtype) in ("torch.bfloat16", "torch.float16"):
            x = x.float()
        x = x.numpy()
    return np.asarray(x)


@dataclass(frozen=True)
class WeightLayout:
    scheme: str              # "height_sharded" | "width_sharded" | "block_sharded"
    num_shards: int          # 1 for height; one per core for width; one per core column for block
    channels_per_shard: int  # Cs, multiple of 32
    kernel: tuple[int, int]
    dtype: str = "bf16"      # "bf16" | "bfp8_b" | "bfp4_b"

    @property
    def window(self) -> int:
        return self.kernel[0] * self.kernel[1]

    @property
    def rows_per_tile(self) -> int:
        return FACE if self.window <= FACE else TILE

    @property
    def row_chunks(self) -> int:
        return -(-self.window // self.rows_per_tile)

    @property
    def channel_tiles(self) -> int:
        return self.channels_per_shard // TILE

    @property
    def tiles_per_shard(self) -> int:
        return self.row_chunks * self.channel_tiles

    @property
    def face_rows_per_position(self) -> int:
        return -(-self.channels_per_shard // FACE)

    @property
    def padded_channels(self) -> int:
        """Channel capacity of the prepared tensor: num_shards * Cs."""
        return self.num_shards * self.channels_per_shard

    @property
    def prepared_shape(self) -> tuple[int, int, int, int]:
        return (self.num_shards, self.tiles_per_shard, TILE, TILE)

    @property
    def bias_shape(self) -> tuple[int, int, int, int]:
        return (self.num_shards, self.channel_tiles, TILE, TILE)

    def selector_matrix(self, width_tiles: int) -> np.ndarray:
        """(window*32, width_tiles*32) float32 selector tiles: tile row k has a 1.0 in
        column (k // R)*32 + k % R of every row, so that its product with a shard's weight
        tiles repeats kernel position k's weights (row k % R of row chunk k // R) on all 32
        rows; columns past the RC row-chunk tiles are zeros."""
        r = self.rows_per_tile
        values = np.zeros((self.window, TILE, width_tiles * TILE), np.float32)
        for k in range(self.window):
            values[k, :, (k // r) * TILE + k % r] = 1.0
        return values.reshape(self.window * TILE, width_tiles * TILE)

    def validate(self, channels: int | None = None) -> list[str]:
        """Problems with this layout (empty list = valid). `channels` checks capacity too."""
        problems: list[str] = []
        if self.scheme not in SCHEMES:
            problems.append(f"unknown scheme '{self.scheme}' (expected one of {', '.join(SCHEMES)})")
        if self.dtype not in DTYPES:
            problems.append(f"unknown dtype '{self.dtype}' (expected one of {', '.join(DTYPES)})")
        if self.num_shards < 1:
            problems.append(f"num_shards must be >= 1, got {self.num_shards}")
        if self.scheme == "height_sharded" and self.num_shards != 1:
            problems.append(f"height_sharded uses 1 channel shard, got {self.num_shards}")
        if self.channels_per_shard < TILE or self.channels_per_shard % TILE:
            problems.append(f"channels_per_shard must be a positive multiple of {TILE}, "
                            f"got {self.channels_per_shard}")
        if len(self.kernel) != 2 or min(self.kernel) < 1:
            problems.append(f"kernel must be two positive sizes, got {self.kernel}")
        if channels is not None:
            if channels < 1:
                problems.append(f"channels must be >= 1, got {channels}")
            elif channels > self.padded_channels:
                problems.append(f"{channels} channels do not fit {self.num_shards} shard(s) x "
                                f"{self.channels_per_shard} channels")
        return problems

    def to_dict(self) -> dict[str, Any]:
        """Plain fields, e.g. for the op's layout attribute."""
        return {"scheme": self.scheme, "num_shards": self.num_shards,
                "channels_per_shard": self.channels_per_shard, "kernel": list(self.kernel),
                "dtype": self.dtype}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WeightLayout":
        layout = cls(str(d["scheme"]), int(d["num_shards"]), int(d["channels_per_shard"]),
                     (int(d["kernel"][0]), int(d["kernel"][1])), str(d.get("dtype", "bf16")))
        layout.check()
        return layout

    def check(self, channels: int | None = None) -> None:
        problems = self.validate(channels)
        if problems:
            raise ValueError("invalid weight layout: " + "; ".join(problems))


def make_layout(conv: DepthwiseConv, scheme: str, num_shards: int) -> WeightLayout:
    """Layout for `conv` split into `num_shards` channel shards (Cs rounded up to 32)."""
    if scheme == "height_sharded" and num_shards != 1:
        raise ValueError(f"height_sharded uses 1 channel shard, got {num_shards}")
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    cs = round_up(-(-conv.channels // num_shards), TILE)
    layout = WeightLayout(scheme, num_shards, cs, tuple(conv.kernel), conv.weight_dtype)
    layout.check()
    return layout


def index_map(layout: WeightLayout, channels: int) -> dict[str, np.ndarray]:
    """Slot of every weight: int arrays shaped [C, kH, kW] (see the module docstring)."""
    layout.check(channels)
    kh_n, kw_n = layout.kernel
    cs, rpt, ct = layout.channels_per_shard, layout.rows_per_tile, layout.channel_tiles
    c = np.arange(channels, dtype=np.int64)[:, None, None]
    p = (np.arange(kh_n, dtype=np.int64)[:, None] * kw_n
         + np.arange(kw_n, dtype=np.int64)[None, :])[None, :, :]
    shape = (channels, kh_n, kw_n)
    cl = c % cs
    row = p % rpt
    col = cl % TILE
    out = {
        "shard": c // cs,
        "tile": (p // rpt) * ct + cl // TILE,
        "row": row,
        "col": col,
        "face": 2 * (row // FACE) + col // FACE,
        "face_row": row % FACE,
        "face_col": col % FACE,
    }
    return {k: np.broadcast_to(v, shape).copy() for k, v in out.items()}


def _weights_array(w: Any, layout: WeightLayout) -> np.ndarray:
    arr = _to_numpy(w).astype(np.float32, copy=False)
    if arr.ndim != 4 or arr.shape[1] != 1 or tuple(arr.shape[2:]) != tuple(layout.kernel):
        raise ValueError(f"depthwise weights must be [C, 1, {layout.kernel[0]}, {layout.kernel[1]}], "
                         f"got {list(arr.shape)}")
    return arr


def _scatter_view(layout: WeightLayout) -> tuple[int, ...]:
    """Shape of the prepared tensor split into (s, chunk, ct, rows, 32) axes."""
    return (layout.num_shards, layout.row_chunks, layout.channel_tiles, TILE, TILE)


def layout_weights(w: Any, layout: WeightLayout) -> np.ndarray:
    """[C,1,kH,kW] -> float32 (num_shards, tiles_per_shard, 32, 32), no quantisation."""
    arr = _weights_array(w, layout)
    channels = arr.shape[0]
    layout.check(channels)
    k, rpt = layout.window, layout.rows_per_tile
    # [C, K] padded to [S*Cs, chunks*R] then reshaped: the map is pure reshapes/transposes.
    flat = np.zeros((layout.padded_channels, layout.row_chunks * rpt), dtype=np.float32)
    flat[:channels, :k] = arr.reshape(channels, k)
    # channel axis -> (s, ct, col); position axis -> (chunk, row)
    v = flat.reshape(layout.num_shards, layout.channel_tiles, TILE, layout.row_chunks, rpt)
    v = v.transpose(0, 3, 1, 4, 2)  # (s, chunk, ct, row, col)
    out = np.zeros(_scatter_view(layout), dtype=np.float32)
    out[..., :rpt, :] = v
    return out.reshape(layout.prepared_shape)


def unlayout_weights(prepared: Any, layout: WeightLayout, channels: int) -> np.ndarray:
    """Exact inverse of layout_weights: prepared tensor -> [C, 1, kH, kW] float32."""
    arr = _to_numpy(prepared).astype(np.float32, copy=False)
    if tuple(arr.shape) != layout.prepared_shape:
        raise ValueError(f"prepared weights must have shape {list(layout.prepared_shape)}, "
                         f"got {list(arr.shape)}")
    layout.check(channels)
    k, rpt = layout.window, layout.rows_per_tile
    v = arr.reshape(_scatter_view(layout))[..., :rpt, :]  # (s, chunk, ct, row, col)
    flat = v.transpose(0, 2, 4, 1, 3).reshape(layout.padded_channels, layout.row_chunks * rpt)
    return np.ascontiguousarray(flat[:channels, :k]).reshape(channels, 1, *layout.kernel)


def layout_bias(b: Any, layout: WeightLayout) -> np.ndarray:
    """Bias [C] (or [1,1,1,C]) -> (num_shards, channel_tiles, 32, 32), values on row 0."""
    arr = _to_numpy(b).astype(np.float32, copy=False).reshape(-1)
    channels = arr.shape[0]
    layout.check(channels)
    padded = np.zeros(layout.padded_channels, dtype=np.float32)
    padded[:channels] = arr
    out = np.zeros(layout.bias_shape, dtype=np.float32)
    out[:, :, 0, :] = padded.reshape(layout.num_shards, layout.channel_tiles, TILE)
    return out


def unlayout_bias(prepared: Any, layout: WeightLayout, channels: int) -> np.ndarray:
    """Inverse of layout_bias: -> [C] float32."""
    arr = _to_numpy(prepared).astype(np.float32, copy=False)
    if tuple(arr.shape) != layout.bias_shape:
        raise ValueError(f"prepared bias must have shape {list(layout.bias_shape)}, got {list(arr.shape)}")
    return arr[:, :, 0, :].reshape(-1)[:channels].copy()


def prepare_weights(w: Any, layout: WeightLayout) -> np.ndarray:
    """layout_weights followed by block-float quantisation to layout.dtype (host rounding)."""
    from .blockfloat import quantize  # late import: layout is usable while blockfloat loads

    return quantize(layout_weights(w, layout), layout.dtype)


def prepare_bias(b: Any, layout: WeightLayout) -> np.ndarray:
    """layout_bias followed by quantisation to layout.dtype."""
    from .blockfloat import quantize

    return quantize(layout_bias(b, layout), layout.dtype)
