"""Generate a TTIR module of N chained depthwise convs with realistic shapes.

    .venv/bin/python benchmarks/gen_module.py 10000 -o /tmp/dw10k.mlir

The convs cycle through the stride-1 depthwise shapes of MobileNetV2,
EfficientNet-B0 and YOLOv10x (so each output feeds the next conv of its
segment unchanged in shape). Every conv has a bias operand; every other one is
followed by its activation op (relu6 / silu) so the pass also fuses. Weights
and biases are function arguments, one per distinct shape (`#ttcore`-free
current TTIR form, DESIGN.md section 3).
"""

from __future__ import annotations

import argparse
import sys

from _common import BENCH  # noqa: F401  (puts the repo on sys.path)
from layers import all_layers

ACT_OPS = {"relu6": "ttir.relu6", "silu": "ttir.silu", "relu": "ttir.relu", "gelu": "ttir.gelu"}


def segment_shapes() -> list[tuple[int, int, int, int, str]]:
    """(H, W, C, k, activation) of every distinct stride-1 depthwise layer."""
    seen = []
    for layer in all_layers():
        c = layer.conv
        if c.stride != (1, 1):
            continue
        key = (c.in_h, c.in_w, c.channels, c.kernel[0], c.activation)
        if key not in seen:
            seen.append(key)
    return seen


def generate(n: int, segment: int = 16) -> str:
    shapes = segment_shapes()
    lines = []
    args = []
    for i, (h, w, c, k, _) in enumerate(shapes):
        args += [f"%x{i}: tensor<1x{h}x{w}x{c}xbf16>", f"%w{i}: tensor<{c}x1x{k}x{k}xbf16>",
                 f"%b{i}: tensor<1x1x1x{c}xbf16>"]
    results = []
    body = []
    count = 0
    value = 0
    seg = 0
    while count < n:
        i = seg % len(shapes)
        h, w, c, k, act = shapes[i]
        t = f"tensor<1x{h}x{w}x{c}xbf16>"
        p = k // 2
        prev = f"%x{i}"
        for _ in range(min(segment, n - count)):
            body.append(
                f'    %{value} = "ttir.conv2d"({prev}, %w{i}, %b{i}) <{{stride = array<i32: 1, 1>, '
                f'padding = array<i32: {p}, {p}, {p}, {p}>, dilation = array<i32: 1, 1>, '
                f'groups = {c} : i32}}> : ({t}, tensor<{c}x1x{k}x{k}xbf16>, '
                f'tensor<1x1x1x{c}xbf16>) -> {t}')
            prev = f"%{value}"
            value += 1
            count += 1
            if act in ACT_OPS and count % 2 == 0:
                body.append(f'    %{value} = "{ACT_OPS[act]}"({prev}) : ({t}) -> {t}')
                prev = f"%{value}"
                value += 1
        results.append((prev, t))
        seg += 1
    lines.append("module {")
    lines.append(f"  func.func @dw_chain({', '.join(args)}) -> ({', '.join(t for _, t in results)}) {{")
    lines += body
    lines.append(f"    return {', '.join(v for v, _ in results)} : {', '.join(t for _, t in results)}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("-o", dest="output", default="-")
    args = parser.parse_args()
    text = generate(args.n)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
