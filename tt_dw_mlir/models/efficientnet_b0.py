"""EfficientNet-B0 (Tan & Le, 2019), 224x224, 1000 classes.

16 MBConv blocks with squeeze-and-excitation and SiLU, each with one depthwise
conv (3x3 or 5x5). torchvision's module names: the depthwise convs are
`features.1.0.block.0.0` and `features.<s>.<i>.block.1.0` for the expanded blocks.
Batch norm uses eps 1e-3 as the reference implementation does.
"""

from __future__ import annotations

import torch
from torch import nn

from .common import ConvBNAct

BN_EPS = 1e-3
# (expansion, kernel, first stride, in, out, repeats): the paper's Table 1
STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
          (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
          (6, 3, 1, 192, 320, 1)]


class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.SiLU()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return s * x


class StochasticDepth(nn.Module):
    """Drops the residual branch per sample while training; identity at inference."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand(x.shape[0], 1, 1, 1, device=x.device) >= self.p
        return x * keep / (1.0 - self.p)


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int,
                 drop: float):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNAct(cin, hidden, 1, activation=nn.SiLU, bn_eps=BN_EPS))
        layers += [
            ConvBNAct(hidden, hidden, kernel, stride, groups=hidden, activation=nn.SiLU,
                      bn_eps=BN_EPS),
            SqueezeExcitation(hidden, max(1, cin // 4)),
            ConvBNAct(hidden, cout, 1, activation=None, bn_eps=BN_EPS),
        ]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + self.stochastic_depth(y) if self.use_residual else y


class EfficientNetB0(nn.Module):
    def __init__(self, num_classes: int = 1000, drop_path: float = 0.2):
        super().__init__()
        total = sum(s[-1] for s in STAGES)
        layers: list[nn.Module] = [ConvBNAct(3, 32, 3, 2, activation=nn.SiLU, bn_eps=BN_EPS)]
        index = 0
        for expand, kernel, stride, cin, cout, repeats in STAGES:
            blocks = []
            for i in range(repeats):
                blocks.append(MBConv(cin if i == 0 else cout, cout, kernel,
                                     stride if i == 0 else 1, expand,
                                     drop_path * index / total))
                index += 1
            layers.append(nn.Sequential(*blocks))
        layers.append(ConvBNAct(320, 1280, 1, activation=nn.SiLU, bn_eps=BN_EPS))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))
