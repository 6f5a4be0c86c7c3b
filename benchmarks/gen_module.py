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


# MobileNetV2's inverted-residual settings (t, c, n, s) from Sandler et al. 2018, Table 2,
# with the input resolution each stage sees at 224x224; written here from the paper,
# independent of tt_dw_mlir/models and of layers.py.
_MBV2_STAGES = ((1, 16, 1, 1, 112, 32), (6, 24, 2, 2, 112, 16), (6, 32, 3, 2, 56, 24),
                (6, 64, 4, 2, 28, 32), (6, 96, 3, 1, 14, 64), (6, 160, 3, 2, 14, 96),
                (6, 320, 1, 1, 7, 160))


def _block_shapes() -> list[tuple[int, int, int, int, int]]:
    """(H, c_in, expanded, c_out, stride) of every MobileNetV2 inverted-residual block."""
    blocks = []
    for t, c, n, s, h, c_in in _MBV2_STAGES:
        for i in range(n):
            stride = s if i == 0 else 1
            blocks.append((h, c_in, c_in * t, c, stride))
            h, c_in = (h + 1) // stride if stride == 2 else h, c
    return blocks


def generate_inverted_residual(n: int) -> str:
    """A TTIR module of `n` inverted-residual blocks, the tt-mlir forms of DESIGN.md section 3.

    Each block: 1x1 expand conv -> bias `ttir.add` -> relu6, 3x3 depthwise conv with a
    `ttir.empty` destination operand (older DPS form) and a bias operand -> relu6, 1x1
    project conv -> bias add, plus the residual add when shapes allow. Blocks cycle
    through MobileNetV2's, each chain restarting from its own input argument.
    """
    shapes = _block_shapes()
    args, body, results = [], [], []
    t = lambda h, c: f"tensor<1x{h}x{h}x{c}xbf16>"  # noqa: E731
    for i, (h, c_in, e, c_out, s) in enumerate(shapes):
        ho = (h + 2 - 3) // s + 1
        args += [f"%x{i}: {t(h, c_in)}", f"%we{i}: tensor<{e}x{c_in}x1x1xbf16>",
                 f"%be{i}: tensor<1x1x1x{e}xbf16>", f"%wd{i}: tensor<{e}x1x3x3xbf16>",
                 f"%bd{i}: tensor<1x1x1x{e}xbf16>", f"%wp{i}: tensor<{c_out}x{e}x1x1xbf16>",
                 f"%bp{i}: tensor<1x1x1x{c_out}xbf16>"]
    value = 0

    def op(text: str) -> str:
        nonlocal value
        name = f"%v{value}"
        value += 1
        body.append(f"    {name} = {text}")
        return name

    for b in range(n):
        i = b % len(shapes)
        h, c_in, e, c_out, s = shapes[i]
        ho = (h + 2 - 3) // s + 1
        x = f"%x{i}"
        conv1x1 = ('"ttir.conv2d"({x}, {w}) <{{stride = array<i32: 1, 1>, padding = array<i32: 0, 0, 0, 0>, '
                   'dilation = array<i32: 1, 1>, groups = 1 : i32}}> : ({xt}, {wt}) -> {yt}')
        y = op(conv1x1.format(x=x, w=f"%we{i}", xt=t(h, c_in), wt=f"tensor<{e}x{c_in}x1x1xbf16>", yt=t(h, e)))
        y = op(f'"ttir.add"({y}, %be{i}) : ({t(h, e)}, tensor<1x1x1x{e}xbf16>) -> {t(h, e)}')
        y = op(f'"ttir.relu6"({y}) : ({t(h, e)}) -> {t(h, e)}')
        dst = op(f'"ttir.empty"() : () -> {t(ho, e)}')
        y = op(f'"ttir.conv2d"({y}, %wd{i}, %bd{i}, {dst}) <{{stride = array<i32: {s}, {s}>, '
               f'padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = {e} : i32}}> : '
               f'({t(h, e)}, tensor<{e}x1x3x3xbf16>, tensor<1x1x1x{e}xbf16>, {t(ho, e)}) -> {t(ho, e)}')
        y = op(f'"ttir.relu6"({y}) : ({t(ho, e)}) -> {t(ho, e)}')
        y = op(conv1x1.format(x=y, w=f"%wp{i}", xt=t(ho, e), wt=f"tensor<{c_out}x{e}x1x1xbf16>",
                              yt=t(ho, c_out)))
        y = op(f'"ttir.add"({y}, %bp{i}) : ({t(ho, c_out)}, tensor<1x1x1x{c_out}xbf16>) -> {t(ho, c_out)}')
        if s == 1 and c_in == c_out:
            y = op(f'"ttir.add"({y}, {x}) : ({t(ho, c_out)}, {t(h, c_in)}) -> {t(ho, c_out)}')
        results.append((y, t(ho, c_out)))
    lines = ["module {",
             f"  func.func @blocks({', '.join(args)}) -> ({', '.join(ty for _, ty in results)}) {{"]
    lines += body
    lines.append(f"    return {', '.join(v for v, _ in results)} : {', '.join(ty for _, ty in results)}")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"
