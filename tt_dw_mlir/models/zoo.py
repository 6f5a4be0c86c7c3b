"""A zoo of real vision architectures nobody on this project wrote (torchvision, timm).

    from tt_dw_mlir.models import zoo
    model, example = zoo.build("torchvision.mobilenet_v2", resolution=96)
    zoo.export_onnx(model, example, "mnv2.onnx")

Weights are random (`weights=None`, nothing is downloaded): each library's own
initialisation, then batch-norm affine parameters drawn at random and batch-norm
running statistics measured on a batch of random images at the architecture's own
input size (as training would measure them), so activations keep a realistic scale
through the depth of the network at any input size and folding the norms is a real
test. Seeded and deterministic: the same name and seed give the same model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn


def _import_torchvision():
    """torchvision, importable beside the CPU torch this project pins.

    PyPI's torchvision 0.28.0 is built against CUDA torch; beside the CPU build of
    torch 2.13.0 its C extension does not load, and its Python side then fails at
    import while registering fake (meta) kernels for `torchvision::nms` and
    `torchvision::qnms` ("operator torchvision::nms does not exist"). Defining the
    two schemas first is enough: the models use neither op.
    """
    try:
        torch.ops.torchvision.nms  # noqa: B018 - the C extension (or an earlier call) defined it
    except (AttributeError, RuntimeError):
        global _TORCHVISION_LIBRARY
        _TORCHVISION_LIBRARY = torch.library.Library("torchvision", "DEF")  # kept alive: owns the defs
        _TORCHVISION_LIBRARY.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _TORCHVISION_LIBRARY.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import torchvision

    return torchvision


_TORCHVISION_LIBRARY = None


@dataclass(frozen=True)
class ZooModel:
    name: str                     # "<library>.<architecture>"
    build: Callable[[], nn.Module]
    resolution: int               # the architecture's usual input size
    depthwise: bool = True        # False: no conv the pass should take (grouped, not depthwise)
    note: str = ""


def _tv(arch: str, **kwargs) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        return getattr(_import_torchvision().models, arch)(weights=None, **kwargs)

    return build


def _lraspp() -> nn.Module:
    _import_torchvision()  # before any torchvision import, in a process that has none yet
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large
    from torchvision.models.segmentation.lraspp import LRASPP

    class LRASPPLogits(LRASPP):
        """The segmentation logits alone (torchvision returns {"out": ...}); module paths unchanged."""

        def forward(self, x):
            return super().forward(x)["out"]

    model = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=21)
    model.__class__ = LRASPPLogits
    return model


def _timm(arch: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        _import_torchvision()  # timm imports torchvision
        import timm

        return timm.create_model(arch, pretrained=False)

    return build


ZOO: dict[str, ZooModel] = {m.name: m for m in (
    ZooModel("torchvision.mobilenet_v2", _tv("mobilenet_v2"), 224),
    ZooModel("torchvision.mobilenet_v3_small", _tv("mobilenet_v3_small"), 224,
             note="hardswish, squeeze-excitation"),
    ZooModel("torchvision.mobilenet_v3_large", _tv("mobilenet_v3_large"), 224),
    ZooModel("torchvision.efficientnet_b0", _tv("efficientnet_b0"), 224, note="SiLU, 5x5"),
    ZooModel("torchvision.efficientnet_b3", _tv("efficientnet_b3"), 300),
    ZooModel("torchvision.mnasnet0_5", _tv("mnasnet0_5"), 224),
    ZooModel("torchvision.shufflenet_v2_x0_5", _tv("shufflenet_v2_x0_5"), 224,
             note="channel shuffle: reshape/transpose, split"),
    ZooModel("torchvision.convnext_tiny", _tv("convnext_tiny"), 224,
             note="7x7 depthwise, LayerNorm, permutes"),
    ZooModel("torchvision.regnet_y_400mf", _tv("regnet_y_400mf"), 224, depthwise=False,
             note="grouped 3x3 convs (8 channels per group): must not convert"),
    ZooModel("torchvision.lraspp_mobilenet_v3_large", _lraspp, 224,
             note="segmentation: dilated depthwise, bilinear resize"),
    ZooModel("timm.lcnet_050", _timm("lcnet_050"), 224),
    ZooModel("timm.efficientnetv2_rw_t", _timm("efficientnetv2_rw_t"), 224,
             note="fused-MBConv stages then depthwise"),
    ZooModel("timm.mobilevit_xxs", _timm("mobilevit_xxs"), 256,
             note="depthwise + transformer blocks (unfold, attention)"),
)}


def names() -> list[str]:
    return list(ZOO)


def lookup(name: str) -> ZooModel | None:
    """The zoo entry for `name` ("torchvision.mobilenet_v2", or the bare architecture if unique)."""
    if name in ZOO:
        return ZOO[name]
    matches = [m for m in ZOO.values() if m.name.split(".", 1)[1] == name]
    return matches[0] if len(matches) == 1 else None


# Trained ConvNeXt/timm layer scales are O(0.1-1); their initial 1e-6 would make every
# residual branch (and so every depthwise conv in it) invisible in the network output.
_LAYER_SCALE_RANGE = (0.2, 0.6)


# Batch-norm statistics need enough samples per channel in the deepest (7x7) stage:
# 4 images at 96x96 (3x3 there, 36 samples) gave statistics that did not fit a fresh
# image, and the eval-mode network blew up through the last stage (EfficientNet-B3's
# last batch norm at rms 100-500 instead of ~1, logits at std 30-190), amplifying even
# the 0.2 % of bf16 weight rounding to PCC 0.91 against itself (benchmarks/README.md).
CALIBRATION_BATCH = 16


@torch.no_grad()
def calibrate(model: nn.Module, seed: int, resolution: int, batch: int = CALIBRATION_BATCH) -> nn.Module:
    """Random batch-norm affine parameters and running statistics measured on one random
    batch of `batch` images of `resolution` (the architecture's own input size)."""
    gen = torch.Generator().manual_seed(seed)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in norms:
        if bn.affine:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=gen) + 0.5)
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=gen) * 0.1)
    for name, param in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("layer_scale", "gamma") and param.numel() > 1 and float(param.abs().max()) <= 1e-5:
            lo, hi = _LAYER_SCALE_RANGE
            param.copy_(torch.rand(param.shape, generator=gen) * (hi - lo) + lo)
    model.eval()  # dropout and stochastic depth off; only the norms measure
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # a cumulative average over every calibration batch
        bn.train()
    model(torch.randn(batch, 3, resolution, resolution, generator=gen))
    for bn in norms:
        bn.momentum = 0.1
    return model.eval()


_BUILT: dict[tuple[str, int, int], nn.Module] = {}  # (name, seed, calibration size); the slow part


def build(name: str, *, seed: int = 0, resolution: int | None = None,
          calibration_resolution: int | None = None) -> tuple[nn.Module, torch.Tensor]:
    """(calibrated model in eval mode, seeded random NCHW input of `resolution`).

    The norms are calibrated at `calibration_resolution` (default: the architecture's
    own input size, whatever `resolution` the example has: statistics measured on a
    tiny input, where the deepest stage is a few pixels of zero-padding border, do not
    fit larger ones). Each call returns a fresh copy: callers may change it without
    touching the next one.
    """
    entry = lookup(name)
    if entry is None:
        raise KeyError(f"unknown zoo model '{name}'; zoo: {', '.join(names())}")
    calibration = calibration_resolution or entry.resolution
    key = (entry.name, seed, calibration)
    if key not in _BUILT:
        torch.manual_seed(seed)  # the libraries' initialisers draw from the global generator
        _BUILT[key] = calibrate(entry.build(), seed, calibration)
    model = copy.deepcopy(_BUILT[key])
    size = resolution or entry.resolution
    example = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(seed + 1))
    return model, example


def export_onnx(model: nn.Module, example: torch.Tensor, path: str | Path) -> Path:
    """The model as an ONNX file written by torch's own (dynamo) exporter, input named `input`."""
    path = Path(path)
    with torch.no_grad():
        torch.onnx.export(model, (example,), str(path), input_names=["input"], dynamo=True,
                          verbose=False, external_data=False)
    return path


__all__ = ["ZOO", "ZooModel", "build", "calibrate", "export_onnx", "lookup", "names"]
