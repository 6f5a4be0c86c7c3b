"""Built-in models, random-initialised with a fixed seed (no downloads).

    module, example_input = build("mobilenetv2")
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .common import batch_norm_statistics, randomise
from .efficientnet_b0 import EfficientNetB0
from .mobilenetv2 import MobileNetV2

MODELS: dict[str, Callable[[], nn.Module]] = {
    "mobilenetv2": MobileNetV2,
    "efficientnet_b0": EfficientNetB0,
}
_ALIASES = {"mobilenet_v2": "mobilenetv2", "efficientnet-b0": "efficientnet_b0",
            "efficientnetb0": "efficientnet_b0"}
INPUT_SIZE = 224
# Batch-norm statistics per (model, seed): measuring them is the slow part of a build; the
# weights are drawn again from the seed (a copy of them would double a model's memory).
_STATISTICS: dict[tuple[str, int], dict[str, torch.Tensor]] = {}


def names() -> list[str]:
    return sorted(MODELS)


def build(name: str, *, seed: int = 0, batch: int = 1,
          resolution: int = INPUT_SIZE) -> tuple[nn.Module, torch.Tensor]:
    """(model in eval mode, seeded random NCHW input) for a built-in model name."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in MODELS:
        raise KeyError(f"unknown model '{name}'; built-in models: {', '.join(names())}")
    torch.manual_seed(seed)  # module constructors draw from the global generator
    model = randomise(MODELS[key](), seed, statistics=_STATISTICS.get((key, seed)))
    _STATISTICS.setdefault((key, seed), batch_norm_statistics(model))
    gen = torch.Generator().manual_seed(seed + 1)
    example = torch.randn(batch, 3, resolution, resolution, generator=gen)
    return model, example


__all__ = ["MODELS", "build", "names", "MobileNetV2", "EfficientNetB0"]
