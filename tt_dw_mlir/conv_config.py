"""The depthwise conv2d every stage of the pipeline talks about.

One frozen record, built by the matcher from `ttir.conv2d` (or by a frontend,
a test, a benchmark) and read by the layout, the sharding choice, the cost
model, the kernel program and the runtimes. Keeping it here, free of MLIR,
lets those modules run and be tested without the bindings.

Padding is stored per side. The two orders met in tt-mlir are documented and
converted here and nowhere else:
  * `ttir.conv2d` 4-element padding is [pT, pL, pB, pR]
    (tt-mlir include/ttmlir/Dialect/TTIR/IR/TTIROps.td, TTIR_Conv2dOp);
  * `ttnn.conv2d`, and our `ttnn.depthwise_pool_conv`, use [pT, pB, pL, pR]
    (tt-mlir include/ttmlir/Dialect/TTNN/IR/TTNNOps.td, TTNN_Conv2dOp).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

TILE = 32  # TILE_WIDTH / TILE_HEIGHT
FACE = 16  # a tile is 2x2 faces of 16x16

ACTIVATIONS = ("none", "relu", "relu6", "silu", "gelu")
DTYPES = ("bf16", "bfp8_b", "bfp4_b", "f32", "f16")  # weight and activation formats
FLOAT_DTYPES = ("bf16", "f32", "f16")  # a ttir.conv2d's element types the pass takes
SCHEMES = ("height_sharded", "width_sharded", "block_sharded")


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def conv_out_size(size: int, pad_lo: int, pad_hi: int, kernel: int, stride: int,
                  dilation: int) -> int:
    """tt-mlir's output formula (TTIROps.td): (in + pLo + pHi - d*(k-1) - 1) / s + 1."""
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True)
class DepthwiseConv:
    """A depthwise conv2d, NHWC, `groups == in_channels == out_channels`."""

    batch: int
    in_h: int
    in_w: int
    channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)  # [pT, pB, pL, pR]
    dilation: tuple[int, int] = (1, 1)
    has_bias: bool = False
    activation: str = "none"
    dtype: str = "bf16"  # activations/output dtype: the conv's element type
    weight_dtype: str = "bf16"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{self.activation}'")
        for name in ("dtype", "weight_dtype"):
            if getattr(self, name) not in DTYPES:
                raise ValueError(f"unknown {name} '{getattr(self, name)}'")

    @property
    def out_h(self) -> int:
        pt, pb, _, _ = self.padding
        return conv_out_size(self.in_h, pt, pb, self.kernel[0], self.stride[0], self.dilation[0])

    @property
    def out_w(self) -> int:
        _, _, pl, pr = self.padding
        return conv_out_size(self.in_w, pl, pr, self.kernel[1], self.stride[1], self.dilation[1])

    @property
    def window(self) -> int:
        """Kernel positions reduced per output pixel (kH * kW)."""
        return self.kernel[0] * self.kernel[1]

    @property
    def padded_channels(self) -> int:
        """Channels rounded up to TILE_WIDTH, as the kernels see them."""
        return round_up(self.channels, TILE)

    @property
    def output_pixels(self) -> int:
        """N * H_out * W_out: the rows of the flattened output."""
        return self.batch * self.out_h * self.out_w

    def with_(self, **changes) -> "DepthwiseConv":
        return replace(self, **changes)


def ttir_padding_to_sides(padding: list[int]) -> tuple[int, int, int, int]:
    """`ttir.conv2d` padding (scalar, [pH, pW] or [pT, pL, pB, pR]) -> [pT, pB, pL, pR]."""
    if len(padding) == 1:
        return (padding[0],) * 4
    if len(padding) == 2:
        ph, pw = padding
        return (ph, ph, pw, pw)
    if len(padding) == 4:
        pt, pl, pb, pr = padding
        return (pt, pb, pl, pr)
    raise ValueError(f"padding must have 1, 2 or 4 values, got {len(padding)}")
