"""Building blocks and random initialisation shared by the built-in models.

Module names follow torchvision's layout (`features.<i>...`) so layer locations
look like the ones tt-forge users know; the code is written here from the
architectures' papers, and nothing is downloaded.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias) -> BatchNorm2d -> optional activation, as `.0`, `.1`, `.2`."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1,
                 activation: type[nn.Module] | None = nn.ReLU6, bn_eps: float = 1e-5):
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout, eps=bn_eps),
        ]
        if activation is not None:
            layers.append(activation())
        super().__init__(*layers)


@torch.no_grad()
def randomise(model: nn.Module, seed: int, calibration_size: int = 224,
              calibration_batch: int = 4, statistics: dict | None = None) -> nn.Module:
    """Seeded random weights and non-trivial, plausible batch-norm statistics.

    BN affine parameters are random; running mean/var are first measured on a
    random batch (so activations stay in a sane range through the depth of the
    net) and then perturbed, so folding them is a real test. `statistics` (from
    `batch_norm_statistics` of an earlier build with the same seed) skips that
    measurement, the slow part: the weights are drawn again, the same values.
    """
    gen = torch.Generator().manual_seed(seed)

    def normal(t: torch.Tensor, std: float, mean: float = 0.0) -> None:
        t.copy_(torch.randn(t.shape, generator=gen) * std + mean)

    def uniform(t: torch.Tensor, lo: float, hi: float) -> None:
        t.copy_(torch.rand(t.shape, generator=gen) * (hi - lo) + lo)

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups
            normal(m.weight, (2.0 / fan_out) ** 0.5)
            if m.bias is not None:
                normal(m.bias, 0.05)
        elif isinstance(m, nn.BatchNorm2d):
            uniform(m.weight, 0.5, 1.5)
            normal(m.bias, 0.1)
        elif isinstance(m, nn.Linear):
            normal(m.weight, 0.01)
            normal(m.bias, 0.01)

    model.eval()
    if statistics is not None:
        model.load_state_dict(statistics, strict=False)
        return model
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:  # only batch norm measures; dropout etc. stay in inference mode
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batch
        bn.train()
    model(torch.randn(calibration_batch, 3, calibration_size, calibration_size, generator=gen))
    for bn in bns:
        bn.eval()
        bn.momentum = 0.1
        bn.running_var.mul_(torch.rand(bn.running_var.shape, generator=gen) * 0.2 + 0.9)
        bn.running_mean.add_(torch.randn(bn.running_mean.shape, generator=gen)
                             * 0.05 * bn.running_var.sqrt())
    return model.eval()


def batch_norm_statistics(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the model's batch-norm running statistics (what `randomise` measured)."""
    return {k: v.clone() for k, v in model.state_dict().items()
            if k.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked")}
