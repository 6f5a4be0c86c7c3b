"""Every depthwise conv of MobileNetV2, EfficientNet-B0 and YOLOv10x, as DepthwiseConv.

Written from the architectures' definitions (nothing imported from the models
package, so the tables stay an independent check of it):

* MobileNetV2 (Sandler et al. 2018, Table 2), 224x224: 17 3x3 convs, BN folded
  into a bias, ReLU6.
* EfficientNet-B0 (Tan & Le 2019, Table 1), 224x224: 16 3x3/5x5 convs, SiLU.
* YOLOv10x (ultralytics cfg/models/v10/yolov10x.yaml, scale x = depth 1.00,
  width 1.25, max_channels 512), 640x640: SCDown (3x3 stride-2 depthwise),
  C2fCIB blocks (each CIB has three 3x3 depthwise convs; lk=False in the x
  model, so no 7x7 RepVGGDW), PSA's positional-encoding 3x3 depthwise, and the
  v10Detect one-to-one head (two 3x3 depthwise per level). No activation after
  SCDown / PSA pe (act=False); SiLU elsewhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tt_dw_mlir.conv_config import DepthwiseConv


@dataclass(frozen=True)
class Layer:
    model: str
    name: str
    conv: DepthwiseConv


def _dw(size: int, channels: int, kernel: int, stride: int, activation: str,
        has_bias: bool = True) -> DepthwiseConv:
    pad = kernel // 2
    return DepthwiseConv(batch=1, in_h=size, in_w=size, channels=channels, kernel=(kernel, kernel),
                         stride=(stride, stride), padding=(pad, pad, pad, pad),
                         has_bias=has_bias, activation=activation)


def mobilenetv2() -> list[Layer]:
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]  # t, c, n, s
    layers, cin, size, index = [], 32, 112, 1
    for t, c, n, s in settings:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            sub = 0 if t == 1 else 1
            layers.append(Layer("mobilenetv2", f"features.{index}.conv.{sub}.0",
                                _dw(size, hidden, 3, stride, "relu6")))
            size = (size - 1) // stride + 1
            cin, index = c, index + 1
    return layers


def efficientnet_b0() -> list[Layer]:
    stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
              (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]  # e, k, s, c, n
    layers, cin, size = [], 32, 112
    for stage, (e, k, s, c, n) in enumerate(stages, start=1):
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * e
            sub = 0 if e == 1 else 1
            layers.append(Layer("efficientnet_b0", f"features.{stage}.{i}.block.{sub}.0",
                                _dw(size, hidden, k, stride, "silu")))
            size = (size - 1) // stride + 1
            cin = c
    return layers


def yolov10x() -> list[Layer]:
    layers: list[Layer] = []

    def cib_blocks(index: int, repeats: int, c: int, size: int) -> None:
        half = c // 2  # C2fCIB: self.c = c2 * 0.5; CIB(e=1.0): c_ = half
        for r in range(repeats):
            base = f"model.{index}.m.{r}.cv1"
            layers.append(Layer("yolov10x", f"{base}.0", _dw(size, half, 3, 1, "silu")))
            layers.append(Layer("yolov10x", f"{base}.2", _dw(size, 2 * half, 3, 1, "silu")))
            layers.append(Layer("yolov10x", f"{base}.4", _dw(size, half, 3, 1, "silu")))

    def scdown(index: int, c: int, size: int) -> None:
        layers.append(Layer("yolov10x", f"model.{index}.cv2", _dw(size, c, 3, 2, "none")))

    # width 1.25 with max_channels 512: 512 -> 640, 1024 -> 640; 256 -> 320
    scdown(5, 640, 80)              # P3 80x80 -> P4 40x40
    cib_blocks(6, 6, 640, 40)
    scdown(7, 640, 40)              # -> P5 20x20
    cib_blocks(8, 3, 640, 20)
    layers.append(Layer("yolov10x", "model.10.attn.pe", _dw(20, 320, 3, 1, "none")))
    cib_blocks(13, 3, 640, 40)
    cib_blocks(19, 3, 640, 40)
    scdown(20, 640, 40)
    cib_blocks(22, 3, 640, 20)
    # v10Detect one2one_cv3: per level Conv(x, x, 3, g=x) and Conv(c3, c3, 3, g=c3),
    # c3 = max(ch[0], min(nc, 100)) = 320
    for level, (ch, size) in enumerate([(320, 80), (640, 40), (640, 20)]):
        layers.append(Layer("yolov10x", f"model.23.one2one_cv3.{level}.0.0",
                            _dw(size, ch, 3, 1, "silu")))
        layers.append(Layer("yolov10x", f"model.23.one2one_cv3.{level}.1.0",
                            _dw(size, 320, 3, 1, "silu")))
    return layers


MODELS = {"mobilenetv2": mobilenetv2, "efficientnet_b0": efficientnet_b0, "yolov10x": yolov10x}


def all_layers() -> list[Layer]:
    return [layer for build in MODELS.values() for layer in build()]


def unique_convs(layers: list[Layer]) -> list[tuple[DepthwiseConv, int, str]]:
    """Distinct convs in first-seen order, with how often each occurs and its first name."""
    counts = Counter(layer.conv for layer in layers)
    seen: dict[DepthwiseConv, str] = {}
    for layer in layers:
        seen.setdefault(layer.conv, layer.name)
    return [(conv, counts[conv], name) for conv, name in seen.items()]
