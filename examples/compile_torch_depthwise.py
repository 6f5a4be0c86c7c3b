"""Compile a PyTorch module's depthwise convs onto the pool2d kernels through the Python API.

    .venv/bin/python examples/compile_torch_depthwise.py

Steps a frontend takes: import the module to TTIR, run a pipeline that mixes our
passes with upstream ones, read the remarks (why each conv was or was not
converted), then run one lowered layer and compare it with torch.
"""

import torch
from torch import nn

from tt_dw_mlir.api import compile_text, lowered_layers, run
from tt_dw_mlir.frontends import torch_to_ttir


class Block(nn.Module):
    """Pointwise expand -> 3x3 depthwise + BN + ReLU6 -> a conv with 2 groups (not depthwise)."""

    def __init__(self) -> None:
        super().__init__()
        self.expand = nn.Conv2d(16, 64, 1)
        self.depthwise = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False),
                                       nn.BatchNorm2d(64), nn.ReLU6())
        self.grouped = nn.Conv2d(64, 64, 3, padding=1, groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.grouped(self.depthwise(self.expand(x)))


def main() -> None:
    torch.manual_seed(0)
    model, x = Block().eval(), torch.randn(1, 16, 28, 28)

    ttir = torch_to_ttir(model, (x,))  # bf16 TTIR; locations are the torch module paths
    pipeline = ("builtin.module(tt-depthwise-to-pool{device=n150 weight-dtype=bf16 remarks=all}, "
                "tt-depthwise-pool-to-kernels{device=n150}, canonicalize)")
    result = compile_text(ttir.text, pipeline, source_name="block.ttir.mlir")  # names the remarks

    for remark in result.remarks:
        print(remark.format())

    for layer in lowered_layers(result.module):
        sharding = layer.program.sharding
        print(f"{layer.name}: {sharding.scheme} on {sharding.grid[0]}x{sharding.grid[1]} cores")
        conv = ttir.conv(layer.name)  # the frontend's record: BN-folded fp32 weights, input shape
        x_nhwc = torch.randn(conv.input_shape)
        ours = run(layer, x_nhwc, backend="reference")  # "sim" runs the TT-Lang kernels
        expected = nn.functional.relu6(nn.functional.conv2d(
            x_nhwc.permute(0, 3, 1, 2), torch.from_numpy(conv.weight.copy()),
            torch.from_numpy(conv.bias.copy()), conv.stride, conv.padding[:2], groups=conv.groups))
        print(f"  max abs error vs torch: {(ours - expected.permute(0, 2, 3, 1)).abs().max():.4f}")


if __name__ == "__main__":
    main()
