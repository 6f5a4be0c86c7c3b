"""Driver fuzzing (issue 7): `tt-dw-opt` on malformed, mutated and valid inputs.

Every case must either succeed (exit 0, output that parses back to itself) or
fail with a located diagnostic (`file:line:col: error:`, line >= 1); it must
never print "Traceback" or "internal error", never hang, never abort the
process, and a valid input must never be rejected.

The MLIR bindings can abort the whole process (a C++ assertion), so every case
runs in a child process of its own: fuzzing.py's fork server, whose judge (one
for `tt-dw-opt` and `tt-dw`) also checks the time and memory limits of issue 11.

CI runs a small bounded sample; `TT_DW_FUZZ_EXAMPLES=N` runs N mutated cases
(benchmarks/fuzz_long.py drives the long run).
"""

from __future__ import annotations

import os
import random
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import fuzzing
from fuzzing import CASE_TIMEOUT_S, FORBIDDEN, LOCATED_ERROR, Outcome, roundtrip_problem  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
LIT_DIR = REPO / "test" / "lit"
OPT_BIN = Path(sys.executable).with_name("tt-dw-opt")

ARG_SETS = (
    ("--tt-depthwise-to-pool",),
    ("--tt-depthwise-pool-pipeline",),
    ("--tt-depthwise-to-pool", "--tt-dw-remarks=all", "--canonicalize"),
    ("--split-input-file", "--tt-depthwise-to-pool"),
    ("--mlir-print-op-generic", "--tt-depthwise-to-pool=weight-dtype=bfp8_b"),
    (),
)


# --------------------------------------------------------------------------- #
# Valid inputs
# --------------------------------------------------------------------------- #
def out_size(size: int, lo: int, hi: int, k: int, s: int, d: int) -> int:
    # PyTorch's conv2d output size formula (torch.nn.Conv2d docs).
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def _bf16_hex(values) -> str:
    import numpy as np

    bits = (np.asarray(values, dtype=np.float32).view(np.uint32) >> 16).astype("<u2")
    return "0x" + bits.tobytes().hex().upper()


def depthwise_module(n: int = 1, h: int = 16, w: int = 16, c: int = 64, kernel=(3, 3),
                     stride=(1, 1), padding=(1, 1, 1, 1), dilation=(1, 1), *, bias: str = "none",
                     activation: str = "none", form: str = "array", weights=None, bias_values=None,
                     element: str = "bf16") -> str:
    """A TTIR module with one depthwise conv. padding is TTIR's [pT, pL, pB, pR].

    bias: none | operand | add (a separate ttir.add); form: array | scalar | nchw | dps;
    weights / bias_values: arrays to embed as ttir.constant (else function arguments).
    """
    kh, kw = kernel
    pt, pl, pb, pr = padding
    ho = out_size(h, pt, pb, kh, stride[0], dilation[0])
    wo = out_size(w, pl, pr, kw, stride[1], dilation[1])
    t = lambda *dims: f"tensor<{'x'.join(map(str, dims))}x{element}>"  # noqa: E731
    x_t = t(n, c, h, w) if form == "nchw" else t(n, h, w, c)
    y_t = t(n, c, ho, wo) if form == "nchw" else t(n, ho, wo, c)
    w_t, b_t = t(c, 1, kh, kw), t(1, 1, 1, c) if form != "nchw" else t(1, c, 1, 1)
    args, body = [f"%x: {x_t}"], []
    if weights is None:
        args.append(f"%w: {w_t}")
    else:
        body.append(f'%w = "ttir.constant"() <{{value = dense<"{_bf16_hex(weights)}"> : {w_t}}}> '
                    f": () -> {w_t}")
    if bias != "none":
        if bias_values is None:
            args.append(f"%b: {b_t}")
        else:
            body.append(f'%b = "ttir.constant"() <{{value = dense<"{_bf16_hex(bias_values)}"> : '
                        f"{b_t}}}> : () -> {b_t}")
    if form == "scalar":
        assert stride[0] == stride[1] and dilation[0] == dilation[1] and len(set(padding)) == 1
        attrs = f"stride = {stride[0]} : i32, padding = {pt} : i32, dilation = {dilation[0]} : i32"
    else:
        attrs = (f"stride = array<i32: {stride[0]}, {stride[1]}>, padding = array<i32: {pt}, {pl}, "
                 f"{pb}, {pr}>, dilation = array<i32: {dilation[0]}, {dilation[1]}>")
    attrs += f", groups = {c} : i32"
    if form == "nchw":
        attrs += ", batch_dim = 0 : i64, channel_dim = 1 : i64, height_dim = 2 : i64, width_dim = 3 : i64"
    operands, types = ["%x", "%w"], [x_t, w_t]
    if bias == "operand":
        operands.append("%b")
        types.append(b_t)
    if form == "dps":
        body.append(f'%e = "ttir.empty"() : () -> {y_t}')
        operands.append("%e")
        types.append(y_t)
    body.append(f'%y = "ttir.conv2d"({", ".join(operands)}) <{{{attrs}}}> : '
                f"({', '.join(types)}) -> {y_t}")
    last = "%y"
    if bias == "add":
        body.append(f'%ya = "ttir.add"(%y, %b) : ({y_t}, {b_t}) -> {y_t}')
        last = "%ya"
    if activation == "silu":
        body.append(f'%sg = "ttir.sigmoid"({last}) : ({y_t}) -> {y_t}')
        body.append(f'%act = "ttir.multiply"({last}, %sg) : ({y_t}, {y_t}) -> {y_t}')
        last = "%act"
    elif activation != "none":
        body.append(f'%act = "ttir.{activation}"({last}) : ({y_t}) -> {y_t}')
        last = "%act"
    body.append(f"return {last} : {y_t}")
    inner = "\n".join("    " + line for line in body)
    return (f"module {{\n  func.func @dw({', '.join(args)}) -> {y_t} {{\n{inner}\n  }}\n}}\n")


def own_seeds() -> dict[str, str]:
    """Valid inputs in every form DESIGN.md section 3 lists, plus some the pass leaves alone."""
    import numpy as np

    rng = np.random.default_rng(7)
    seeds = {
        "array_bias_relu": depthwise_module(bias="operand", activation="relu"),
        "scalar_form": depthwise_module(form="scalar", padding=(1, 1, 1, 1)),
        "nchw": depthwise_module(form="nchw", c=32, h=9, w=11),
        "dps": depthwise_module(form="dps", c=40, kernel=(5, 5), padding=(2, 2, 2, 2), stride=(2, 2)),
        "bias_add_silu": depthwise_module(bias="add", activation="silu", c=96, h=7, w=7),
        "gelu_relu6": depthwise_module(activation="gelu", c=33, kernel=(3, 5), padding=(1, 2, 0, 1)),
        "relu6_dilated": depthwise_module(activation="relu6", dilation=(2, 3), h=13, w=15),
        "const_weights": depthwise_module(c=24, weights=rng.standard_normal((24, 1, 3, 3)),
                                          bias="operand", bias_values=rng.standard_normal(24)),
        "one_d": depthwise_module(h=1, kernel=(1, 3), padding=(0, 1, 0, 1)),
        "wide_c": depthwise_module(c=1152, h=7, w=7, kernel=(5, 5), padding=(2, 2, 2, 2)),
        "f32": depthwise_module(element="f32", c=16),
        "dense_conv": (
            'func.func @f(%x: tensor<1x8x8x4xbf16>, %w: tensor<8x4x3x3xbf16>) -> tensor<1x6x6x8xbf16> {\n'
            '  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, '
            'groups = 1 : i32}> : (tensor<1x8x8x4xbf16>, tensor<8x4x3x3xbf16>) -> tensor<1x6x6x8xbf16>\n'
            '  return %0 : tensor<1x6x6x8xbf16>\n}\n'),
        "passthrough": (
            '#loc = loc("model.py":3:1)\n'
            'module attributes {ttcore.system_desc = #ttcore.system_desc<[{arch = <wormhole_b0>}]>} {\n'
            '  func.func @g(%a: tensor<4x4xf32> {ttcore.argument_type = #ttcore.argument_type<input>}) '
            '-> tensor<4x4xf32> {\n'
            '    %0 = "other.op"(%a) {weird = #other.thing<1, [2]>} : (tensor<4x4xf32>) -> tensor<4x4xf32> loc(#loc)\n'
            '    %1 = "ttir.relu"(%0) : (tensor<4x4xf32>) -> tensor<4x4xf32>\n'
            '    return %1 : tensor<4x4xf32>\n  }\n}\n'),
        "empty_module": "module {\n}\n",
    }
    seeds["split"] = seeds["array_bias_relu"] + "// -----\n" + seeds["nchw"]
    return seeds


def lit_inputs() -> dict[str, tuple[str, tuple[tuple[str, ...], ...]]]:
    """test/lit/**/*.mlir -> (text, argument lists of its positive RUN lines)."""
    found = {}
    for path in sorted(LIT_DIR.rglob("*.mlir")):
        if "Output" in path.parts or "Inputs" in path.parts:
            continue
        text = path.read_text(errors="replace")
        positive = []
        for run in re.findall(r"//\s*RUN:\s*(.*)", text):
            command = run.split("|")[0].strip()
            if not command.startswith("tt-dw-opt") or "%s" not in command or \
                    "%" in command.replace("%s", ""):
                continue  # `not tt-dw-opt ...`, %python scripts, other substitutions
            try:
                argv = shlex.split(command)[1:]
            except ValueError:
                continue
            if "--verify-diagnostics" in argv or any(a in ("<", ">", "2>&1", "-") for a in argv):
                continue
            positive.append(tuple(a for a in argv if a != "%s"))
        found[str(path.relative_to(REPO))] = (text, tuple(positive))
    return found


# --------------------------------------------------------------------------- #
# Malformed inputs
# --------------------------------------------------------------------------- #
HUGE = ("0", "-1", "-7", "2147483647", "2147483648", "4294967297", "9223372036854775807",
        "99999999999999999999999", "65536", "1e9", "?")
TOKENS = (
    "tensor<?x?x?x?xbf16>", "tensor<*xbf16>", "tensor<bf16>", "i32", "f32", "bf16", "i1", "index",
    '"str"', "unit", "[1, 2]", "array<i64: 1>", "array<i32>", "dense<1.0> : tensor<2xf32>",
    "#ttnn.depthwise_weight_layout<{}>", "#ttcore.argument_type<constant>", "{", "}", "(", ")", "<",
    ">", "<{", "}>", ":", ",", "->", "%x", "%w", "%0", "^bb0:", '"ttir.conv2d"', '"ttnn.depthwise_pool_conv"',
    '"ttnn.prepare_depthwise_pool_weights"', '"ttir.bogus"', '"ttnn.nope"', "ttir.conv2d", "loc(unknown)",
    "func.func", "module", "return", "//", "/*", "\"", "\\", "\x00", "\ufffd", "0x", "dense_resource<blob>",
    "groups = 0 : i32", "stride = array<i32: 0, 0>", "padding = array<i32: -1, 1>", "dilation = \"1\"",
    "groups = \"64\"", "stride = 1.5 : f32", "padding = array<i32: 1, 1, 1, 1, 1>",
)


def _numbers(text: str) -> list[re.Match]:
    return list(re.finditer(r"(?<![A-Za-z_%#@])\d+", text))


def mutate(text: str, rng: random.Random) -> bytes:
    """One random, mostly structure-aware mutation of `text` (may be invalid UTF-8)."""
    kind = rng.randrange(11)
    if kind == 0:  # truncation
        return text[:rng.randrange(len(text) + 1)].encode()
    if kind == 1:  # huge / negative / zero numbers (shapes, attribute values)
        spots = _numbers(text)
        for _ in range(rng.randint(1, 3)):
            if spots:
                m = rng.choice(spots)
                text = text[:m.start()] + rng.choice(HUGE) + text[m.end():]
                spots = _numbers(text)
        return text.encode()
    if kind == 2:  # delete a span (missing operands, braces, attributes)
        a = rng.randrange(len(text) + 1)
        return (text[:a] + text[a + rng.randint(1, 40):]).encode()
    if kind == 3:  # token substitution (wrong attribute types, unknown ops)
        words = list(re.finditer(r'"[^"\n]*"|[A-Za-z_][\w.]*|%\w+|\d+|<\{|\}>|\S', text))
        if words:
            m = rng.choice(words)
            text = text[:m.start()] + rng.choice(TOKENS) + text[m.end():]
        return text.encode()
    if kind == 4:  # insert a token
        a = rng.randrange(len(text) + 1)
        return (text[:a] + rng.choice(TOKENS) + text[a:]).encode()
    if kind == 5:  # duplicate or move lines
        lines = text.splitlines(keepends=True)
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines.insert(j, lines[i]) if rng.random() < 0.5 else lines.insert(j, lines.pop(i))
        return "".join(lines).encode()
    if kind == 6:  # raw byte flips (invalid UTF-8 included)
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 4)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 7:  # drop an operand from a generic op
        spots = list(re.finditer(r"%\w+, |, %\w+", text))
        if spots:
            m = rng.choice(spots)
            text = text[:m.start()] + text[m.end():]
        return text.encode()
    if kind == 8:  # attribute value type swap
        spots = list(re.finditer(r"(\w+) = ([^,}]+)", text))
        if spots:
            m = rng.choice(spots)
            text = text[:m.start(2)] + rng.choice(
                ('"x"', "1.0 : f32", "unit", "[]", "array<f32: 1.0>", "{}", "1 : i1", "-3 : i32",
                 "array<i32: 1>", "array<i64: 1, 1, 1>", "dense<1> : tensor<2xi32>", "@sym",
                 "#ttnn.depthwise_weight_layout<{dtype = 1}>", "{dtype = 1, grid = array<i32: 0, 0>}",
                 "2147483648 : i64")) + text[m.end(2):]
        return text.encode()
    if kind == 9:  # splice two positions of the text
        a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        return (text[:a] + text[b:] + text[a:b]).encode()
    return rng.randbytes(rng.randint(0, 300))  # random bytes


def special_inputs() -> dict[str, bytes]:
    """Hand-picked nasty inputs."""
    conv_line = ('"ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, '
                 'groups = {g}}> : ({x}, {w}) -> {y}')

    def conv(x, w, y, g="4 : i32", attrs=None):
        line = conv_line.replace("{x}", x).replace("{w}", w).replace("{y}", y).replace("{g}", g)
        if attrs is not None:
            line = line.split("<{")[0] + "<{" + attrs + "}>" + " :" + line.split("}> :")[1]
        return (f"func.func @f(%x: {x}, %w: {w}) -> {y} {{\n  %0 = {line}\n"
                f"  return %0 : {y}\n}}\n").encode()

    def nested(depth, opener='"t.op"() ({\n', closer="}) : () -> ()\n"):
        return (opener * depth + closer * depth).encode()

    big = "tensor<1x2147483647x2147483647x4xbf16>"
    return {
        "empty": b"",
        "whitespace": b" \n\t\n",
        "only_comment": b"// nothing here\n",
        "nul_bytes": b"\x00\x00\x00",
        "invalid_utf8": b"module {\n \xff\xfe\xc3\x28 \n}\n",
        "invalid_utf8_in_string": b'module {\n  "t.op"() {s = "\xc3\x28\xa0\xa1"} : () -> ()\n}\n',
        "bom": b"\xef\xbb\xbfmodule {\n}\n",
        "random_bytes": bytes(random.Random(1).randrange(256) for _ in range(2000)),
        "unknown_op": b'"ttir.frobnicate"() : () -> ()\n',
        "unknown_ttnn_op": b'"ttnn.depthwise_pool_frob"() : () -> ()\n',
        "unknown_custom_op": b"module {\n  %0 = ttir.frob : tensor<1xf32>\n}\n",
        "custom_form_conv": b"func.func @f(%x: tensor<1x4x4x4xbf16>) {\n  %0 = ttir.conv2d %x : tensor<1x4x4x4xbf16>\n  return\n}\n",
        "deep_nesting_50": nested(50),
        "deep_nesting_2000": nested(2000),
        "deep_nesting_unclosed": (b'"t.op"() ({\n' * 500),
        "deep_brackets": b"module attributes {a = " + b"[" * 5000 + b"]" * 5000 + b"} {\n}\n",
        "deep_types": b"func.func private @f(" + b"tuple<" * 3000 + b"i1" + b">" * 3000 + b")\n",
        "long_line_no_quote": b"x" * 200000 + b"\n",
        "long_line_ttir": b"= " * 50000 + b"ttir.conv2d\n",
        "long_shim_line": b'"ttir.relu"(' + b"%x, " * 20000 + b") <{" + b"a" * 1000 + b"\n",
        "many_unclosed_props": b'"ttir.relu"(%a) <{\n' * 2000,
        "huge_shape": conv(big, "tensor<4x1x3x3xbf16>", "tensor<1x2147483645x2147483645x4xbf16>"),
        "overflow_shape": conv("tensor<1x99999999999999999999x8x4xbf16>", "tensor<4x1x3x3xbf16>",
                               "tensor<1x6x6x4xbf16>"),
        "negative_shape": conv("tensor<1x-8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>"),
        "zero_shape": conv("tensor<1x0x0x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x0x0x4xbf16>"),
        "zero_channels": conv("tensor<1x8x8x0xbf16>", "tensor<0x1x3x3xbf16>", "tensor<1x6x6x0xbf16>",
                              g="0 : i32"),
        "dynamic_shape": conv("tensor<1x?x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x?x6x4xbf16>"),
        "unranked": conv("tensor<*xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>"),
        "rank3": conv("tensor<8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<6x6x4xbf16>"),
        "groups_string": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                              g='"four"'),
        "groups_float": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                             g="4.0 : f32"),
        "groups_huge": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                            g="9223372036854775807 : i64"),
        "groups_i1": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                          g="true"),
        "stride_array_f32": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                                 attrs="stride = array<f32: 1.0, 1.0>, padding = 0 : i32, "
                                       "dilation = 1 : i32, groups = 4 : i32"),
        "stride_empty_array": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                                   attrs="stride = array<i32>, padding = 0 : i32, dilation = 1 : i32, "
                                         "groups = 4 : i32"),
        "stride_huge": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x1x1x4xbf16>",
                            attrs="stride = 2147483647 : i32, padding = 0 : i32, dilation = 1 : i32, "
                                  "groups = 4 : i32"),
        "dilation_negative": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                                  attrs="stride = 1 : i32, padding = 0 : i32, dilation = -2 : i32, "
                                        "groups = 4 : i32"),
        "padding_huge": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                             attrs="stride = 1 : i32, padding = array<i64: 9223372036854775807, 0, 0, 0>, "
                                   "dilation = 1 : i32, groups = 4 : i32"),
        "missing_groups": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                               attrs="stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32"),
        "attrs_string": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                             attrs='stride = "1", padding = "0", dilation = [1], groups = 4 : i32'),
        "dims_attrs_bad": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                               attrs="stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, "
                                     "groups = 4 : i32, batch_dim = 7 : i64, channel_dim = \"c\""),
        "dims_attrs_huge": conv("tensor<1x8x8x4xbf16>", "tensor<4x1x3x3xbf16>", "tensor<1x6x6x4xbf16>",
                                attrs="stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, "
                                      "groups = 4 : i32, batch_dim = 9223372036854775807 : i64"),
        "missing_operands": (b'func.func @f(%x: tensor<1x8x8x4xbf16>) -> tensor<1x6x6x4xbf16> {\n'
                             b'  %0 = "ttir.conv2d"(%x) <{stride = 1 : i32, padding = 0 : i32, '
                             b'dilation = 1 : i32, groups = 4 : i32}> : (tensor<1x8x8x4xbf16>) -> '
                             b'tensor<1x6x6x4xbf16>\n  return %0 : tensor<1x6x6x4xbf16>\n}\n'),
        "no_operands_no_results": b'module {\n  "ttir.conv2d"() <{groups = 1 : i32}> : () -> ()\n}\n',
        "undefined_value": (b'func.func @f() {\n  %0 = "ttir.relu"(%nope) : (tensor<2xf32>) -> '
                            b'tensor<2xf32>\n  return\n}\n'),
        "conv_non_tensor": (b'func.func @f(%x: i32, %w: i32) -> i32 {\n  %0 = "ttir.conv2d"(%x, %w) '
                            b'<{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 1 : i32}> '
                            b': (i32, i32) -> i32\n  return %0 : i32\n}\n'),
        "ttnn_op_garbage_layout": (
            b'func.func @f(%x: tensor<1x4x4x32xbf16>, %w: tensor<1x1x32x32xbf16>) -> tensor<1x4x4x32xbf16> {\n'
            b'  %0 = "ttnn.depthwise_pool_conv"(%x, %w) <{in_channels = 32 : i32, out_channels = 32 : i32, '
            b'batch_size = 1 : i32, input_height = 4 : i32, input_width = 4 : i32, kernel_size = array<i32: 1, 1>, '
            b'stride = array<i32: 1, 1>, padding = array<i32: 0, 0, 0, 0>, dilation = array<i32: 1, 1>, '
            b'activation = "none", dtype = "bf16", weight_layout = #ttnn.depthwise_weight_layout<{grid = 3}>}> '
            b': (tensor<1x4x4x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x4x4x32xbf16>\n'
            b'  return %0 : tensor<1x4x4x32xbf16>\n}\n'),
        "ttnn_op_garbage_layout_dict": (
            b'func.func @f(%x: tensor<1x4x4x32xbf16>, %w: tensor<1x1x32x32xbf16>) -> tensor<1x4x4x32xbf16> {\n'
            b'  %0 = "ttnn.depthwise_pool_conv"(%x, %w) <{in_channels = 32 : i32, out_channels = 32 : i32, '
            b'batch_size = 1 : i32, input_height = 4 : i32, input_width = 4 : i32, kernel_size = array<i32: 1, 1>, '
            b'stride = array<i32: 1, 1>, padding = array<i32: 0, 0, 0, 0>, dilation = array<i32: 1, 1>, '
            b'activation = "none", dtype = "bf16", weight_layout = {grid = array<i32: 2147483647, 2147483647>, '
            b'cores = -1 : i32, kernel_size = array<i32: 1, 1, 1>, dtype = 1 : i1}}> '
            b': (tensor<1x4x4x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x4x4x32xbf16>\n'
            b'  return %0 : tensor<1x4x4x32xbf16>\n}\n'),
        "ttnn_op_missing_attrs": (
            b'func.func @f(%x: tensor<1x4x4x32xbf16>, %w: tensor<1x1x32x32xbf16>) -> tensor<1x4x4x32xbf16> {\n'
            b'  %0 = "ttnn.depthwise_pool_program"(%x, %w) : (tensor<1x4x4x32xbf16>, tensor<1x1x32x32xbf16>) '
            b'-> tensor<1x4x4x32xbf16>\n  return %0 : tensor<1x4x4x32xbf16>\n}\n'),
        "layout_attr_alone": b'module attributes {x = #ttnn.depthwise_weight_layout<{}>} {\n}\n',
        "layout_attr_no_params": b'module attributes {x = #ttnn.depthwise_weight_layout} {\n}\n',
        "bad_dense_resource": (
            b'func.func @f(%x: tensor<1x8x8x4xbf16>) -> tensor<1x6x6x4xbf16> {\n'
            b'  %w = "ttir.constant"() <{value = dense_resource<blob> : tensor<4x1x3x3xbf16>}> : () -> '
            b'tensor<4x1x3x3xbf16>\n'
            b'  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, '
            b'groups = 4 : i32}> : (tensor<1x8x8x4xbf16>, tensor<4x1x3x3xbf16>) -> tensor<1x6x6x4xbf16>\n'
            b'  return %0 : tensor<1x6x6x4xbf16>\n}\n'
            b'{-#\n  dialect_resources: {\n    builtin: {\n      blob: "0x0400000001"\n    }\n  }\n#-}\n'),
        "constant_wrong_value": (
            b'func.func @f(%x: tensor<1x8x8x4xbf16>) -> tensor<1x6x6x4xbf16> {\n'
            b'  %w = "ttir.constant"() <{value = "weights"}> : () -> tensor<4x1x3x3xbf16>\n'
            b'  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, '
            b'groups = 4 : i32}> : (tensor<1x8x8x4xbf16>, tensor<4x1x3x3xbf16>) -> tensor<1x6x6x4xbf16>\n'
            b'  return %0 : tensor<1x6x6x4xbf16>\n}\n'),
        "constant_int_weights": (
            b'func.func @f(%x: tensor<1x8x8x4xbf16>) -> tensor<1x6x6x4xbf16> {\n'
            b'  %w = "ttir.constant"() <{value = dense<3> : tensor<4x1x3x3xi32>}> : () -> tensor<4x1x3x3xbf16>\n'
            b'  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, '
            b'groups = 4 : i32}> : (tensor<1x8x8x4xbf16>, tensor<4x1x3x3xbf16>) -> tensor<1x6x6x4xbf16>\n'
            b'  return %0 : tensor<1x6x6x4xbf16>\n}\n'),
        "props_unbalanced": b'"ttir.relu"(%a) <{a = "}>", b = {c = 1}}> {d = 2} : () -> ()\n',
        "props_brace_in_string": b'"ttir.relu"() <{s = "{{{"}> : () -> tensor<1xf32>\n',
        "expected_no_braces": b"// expected-error {{\nmodule {}\n",
        "split_markers_only": b"// -----\n// -----\n// -----\n",
    }


# --------------------------------------------------------------------------- #
# Generators for the kinds of input issue 11 found killing or fooling the driver
# --------------------------------------------------------------------------- #
def _affine_expr(rng: random.Random, depth: int, dims: int = 2) -> str:
    """A random affine expression nested up to `depth` (parentheses, unary minus, mod chains)."""
    if depth <= 0 or rng.random() < 0.2:
        return rng.choice([f"d{rng.randrange(dims)}", f"s0", str(rng.randint(-9, 9))])
    kind = rng.randrange(6)
    inner = _affine_expr(rng, depth - 1, dims)
    if kind == 0:
        return f"({inner})"
    if kind == 1:
        return f"-{inner}" if not inner.startswith("-") else f"-({inner})"
    if kind == 2:
        return f"{inner} + {_affine_expr(rng, depth // 2, dims)}"
    if kind == 3:
        return f"({inner}) * {rng.randint(-4, 4)}"
    if kind == 4:
        return f"({inner}) {rng.choice(['floordiv', 'ceildiv', 'mod'])} {rng.randint(1, 7)}"
    return f"{inner} - {_affine_expr(rng, depth // 2, dims)}"


def affine_inputs(rng: random.Random) -> tuple[str, bytes]:
    """Affine maps and integer sets: deep, long, with `>=` next to nested regions."""
    kind = rng.randrange(7)
    use = '"t.use"() {m = #m} : () -> ()\n'
    if kind == 0:  # a random, valid, moderately nested expression
        expr = _affine_expr(rng, rng.randint(1, 40))
        return "affine_random", f"#m = affine_map<(d0, d1)[s0] -> ({expr}, d1)>\n{use}".encode()
    if kind == 1:  # a long run of unary minus signs (30,000 segfaulted the parser)
        n = rng.choice([rng.randint(1, 2000), rng.randint(15000, 40000), rng.randint(100000, 300000)])
        sep = rng.choice(["", " ", "(", "- (" ])
        body = "-" * n if sep == "" else (sep + "-") * (n // 2)
        closing = ")" * body.count("(")
        return "affine_minus", f"#m = affine_map<(d0) -> ({body}d0{closing})>\n{use}".encode()
    if kind == 2:  # parentheses
        n = rng.choice([rng.randint(1, 1200), rng.randint(19000, 22000), rng.randint(50000, 200000)])
        return "affine_parens", f"#m = affine_map<(d0) -> ({'(' * n}d0{')' * n})>\n{use}".encode()
    if kind == 3:  # an unbracketed chain of terms that do not simplify
        n = rng.choice([rng.randint(1, 2000), rng.randint(4000, 6000), rng.randint(20000, 60000)])
        terms = "".join(f" + d0 mod {i + 2}" for i in range(n))
        return "affine_chain", f"#m = affine_map<(d0) -> (d0{terms})>\n{use}".encode()
    if kind == 4:  # `>=` in a set must not close a bracket, with regions nested below it
        n = rng.choice([rng.randint(500, 1100), rng.randint(2000, 3500)])
        constraints = ", ".join(f"d0 - {i} >= 0" for i in range(rng.randint(1, 4000)))
        region = '"t.op"() ({\n' * n + "}) : () -> ()\n" * n
        return "affine_set_regions", (f"#s = affine_set<(d0) : ({constraints})>\n"
                                      f'"t.use"() {{s = #s}} : () -> ()\n{region}').encode()
    if kind == 5:  # a set whose constraints are deep
        n = rng.choice([rng.randint(1, 1000), rng.randint(20000, 40000)])
        return "affine_set_deep", (f"#s = affine_set<(d0) : ({'(' * n}d0{')' * n} >= 0, d0 == 0)>\n"
                                   f'"t.use"() {{s = #s}} : () -> ()\n').encode()
    exprs = ", ".join(_affine_expr(rng, rng.randint(1, 12)) for _ in range(rng.randint(1, 6)))
    return "affine_memref", (f'"t.use"() : () -> memref<4x4xf32, affine_map<(d0, d1)[s0] -> '
                             f'({exprs})>>\n').encode()


def alias_inputs(rng: random.Random) -> tuple[str, bytes]:
    """Alias graphs: chains (deep after substitution), doubling DAGs (exponential when printed),
    opaque bodies that refer to aliases, and aliases of types."""
    kind = rng.randrange(6)
    n = rng.choice([rng.randint(1, 900), rng.randint(900, 2600), rng.randint(5000, 30000)])
    if kind == 0:  # #a<i> = [#a<i-1>]: one bracket per line, n deep once substituted
        lines = ["#a0 = [1]"] + [f"#a{i} = [#a{i - 1}]" for i in range(1, n)]
        return "alias_chain", ("\n".join(lines) + f'\n"t.use"() {{x = #a{n - 1}}} : () -> ()\n').encode()
    if kind == 1:  # each alias uses the previous one twice (538 bytes passed 8 GB)
        k = rng.randint(2, 64)
        lines = ["#a0 = [0, 1]"] + [f"#a{i} = [#a{i - 1}, #a{i - 1}]" for i in range(1, k)]
        used = rng.random() < 0.8
        return "alias_doubling", ("\n".join(lines) + (f'\n"t.use"() {{x = #a{k - 1}}} : () -> ()\n'
                                                        if used else "\nmodule {\n}\n")).encode()
    if kind == 2:  # type aliases doubling through tuples
        k = rng.randint(2, 64)
        lines = ["!t0 = i32"] + [f"!t{i} = tuple<!t{i - 1}, !t{i - 1}>" for i in range(1, k)]
        return "alias_type_doubling", ("\n".join(lines) + f'\n"t.use"() : () -> !t{k - 1}\n').encode()
    if kind == 3:  # opaque dialect bodies referring to aliases (kept with their definitions)
        k = rng.randint(1, 40)
        lines = ["#dram = #ttnn.buffer_type<dram>"] + [
            f"#l{i} = #ttcore.thing<{i}, {'#dram' if i == 0 else f'#l{i - 1}, #l{i - 1}'}>" for i in range(k)]
        return "alias_opaque", ("\n".join(lines) + f"\nfunc.func @f(%x: tensor<2xf32, #l{k - 1}>) -> "
                                f"tensor<2xf32, #l{k - 1}> {{\n  return %x : tensor<2xf32, #l{k - 1}>\n}}\n").encode()
    if kind == 4:  # a chain through dictionaries, with comments between the tokens
        lines = ["#d0 = {v = 1}"] + [f"#d{i} // c\n = {{v = #d{i - 1}}}" for i in range(1, min(n, 20000))]
        last = min(n, 20000) - 1
        return "alias_dict_chain", ("\n".join(lines) + f'\nmodule attributes {{t.x = #d{last}}} {{\n}}\n').encode()
    # a random DAG of array aliases, each using earlier ones several times
    k = rng.randint(2, 60)
    lines = ["#g0 = [7]"]
    for i in range(1, k):
        refs = ", ".join(f"#g{rng.randrange(i)}" for _ in range(rng.randint(1, 3)))
        lines.append(f"#g{i} = [{refs}]")
    return "alias_dag", ("\n".join(lines) + f'\n"t.use"() {{x = #g{k - 1}}} : () -> ()\n').encode()


def constant_inputs(rng: random.Random) -> tuple[str, bytes]:
    """Constants of every element type, NaN/inf bf16 as hex, complex, splats, hex blobs."""
    import numpy as np

    c = rng.choice([1, 4, 32])
    element = rng.choice(["bf16", "bf16", "f32", "f16", "complex<f32>", "i32"])
    w_t = f"tensor<{c}x1x3x3x{element}>"
    count = c * 9
    kind = rng.randrange(4)
    if element == "complex<f32>":
        values = ", ".join(f"({rng.uniform(-2, 2):.3f}, {rng.uniform(-2, 2):.3f})" for _ in range(count))
        literal = f"dense<[{values}]>" if kind else "dense<(1.0, -1.0)>"
    elif element == "i32":
        literal = f"dense<{rng.randint(-5, 5)}>"
    else:
        specials = ["0x7F80", "0xFF80", "0x7FC0", "0xFFC0", "0x0001", "0x8000"] if element == "bf16" else \
            ["0x7F800000", "0xFF800000", "0x7FC00000"] if element == "f32" else ["0x7C00", "0xFC00", "0x7E00"]
        if kind == 0:  # a list mixing decimals and hex specials (the printer writes NaN/inf as hex)
            parts = [rng.choice(specials) if rng.random() < 0.3 else f"{rng.uniform(-3, 3):.4f}"
                     for _ in range(count)]
            literal = f"dense<[{', '.join(parts)}]>"
        elif kind == 1:  # the whole tensor as one hex blob
            dtype = {"bf16": np.uint16, "f16": np.uint16, "f32": np.uint32}[element]
            bits = np.array([rng.getrandbits(16 if dtype is np.uint16 else 32) for _ in range(count)], dtype)
            literal = f'dense<"0x{bits.astype(bits.dtype.newbyteorder("<")).tobytes().hex().upper()}">'
        elif kind == 2:  # a splat of a special value
            literal = f"dense<{rng.choice(specials)}>"
        else:
            literal = f"dense<{rng.choice(['0.0', '-0.0', '1.0e+38', '-3.5'])}>"
    x_t, y_t = f"tensor<1x8x8x{c}x{element}>", f"tensor<1x6x6x{c}x{element}>"
    text = (f"func.func @f(%x: {x_t}) -> {y_t} {{\n"
            f'  %w = "ttir.constant"() <{{value = {literal} : {w_t}}}> : () -> {w_t}\n'
            f'  %0 = "ttir.conv2d"(%x, %w) <{{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, '
            f"groups = {c} : i32}}> : ({x_t}, {w_t}) -> {y_t}\n  return %0 : {y_t}\n}}\n")
    return f"constant_{element}", text.encode()


def nesting_inputs(rng: random.Random) -> tuple[str, bytes]:
    """Nesting of every kind around the limits, with strings and comments that hold brackets."""
    n = rng.choice([rng.randint(1, 1000), rng.randint(1000, 2500), rng.randint(2500, 25000),
                    rng.randint(50000, 200000)])
    kind = rng.randrange(7)
    noise = rng.choice(["", ' {s = ")]}>"}', ' {s = "([{<"}', ""])
    if kind == 0:
        n = min(n, 30000)
        return "nest_regions", ('"t.op"() ({\n' * n + f'"t.leaf"(){noise} : () -> ()\n'
                                + "}) : () -> ()\n" * n).encode()
    if kind == 1:
        return "nest_arrays", (f"module attributes {{t.a = {'[' * n}{']' * n}}} {{\n}}\n").encode()
    if kind == 2:
        return "nest_types", (f'"t.use"() : () -> {"tuple<" * n}i1{">" * n}\n').encode()
    if kind == 3:
        return "nest_dicts", (f"module attributes {{t.a = {'{a = ' * n}1{'}' * n}}} {{\n}}\n").encode()
    if kind == 4:
        return "nest_locations", (f'"t.op"() : () -> () loc({"callsite(" * n}unknown'
                                  f'{" at unknown)" * n})\n').encode()
    if kind == 5:  # closers hidden in strings and comments must not count
        hidden = '"t.op"() {s = ")))]]]>>>}}}"} : () -> () // ]]]]>>>>\n'
        return "nest_hidden_closers", (hidden * 50 + f"module attributes {{t.a = {'[' * n}{']' * n}}} {{\n}}\n").encode()
    return "nest_functions", (f"module attributes {{t.a = {'(' * n}i1{') -> i1' * n}}} {{\n}}\n").encode()


GENERATORS = {"affine": affine_inputs, "alias": alias_inputs, "constant": constant_inputs,
              "nesting": nesting_inputs}


def generator_cases(count: int, seed: int = 0, kinds=tuple(GENERATORS)) -> list[Case]:
    """`count` generated inputs, spread over the generators, under random argument sets.

    Refusal is allowed for all of them (located, exit 1): a valid input too deep or
    expanding too far is refused up front; every accepted one must round-trip.
    """
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        name, data = GENERATORS[kind](rng)
        while len(data) >= 1 << 20:  # issue 11's inputs are under 1 MB
            name, data = GENERATORS[kind](rng)
        cases.append(Case(f"{kind}-{seed}-{i}:{name}", data, rng.choice(ARG_SETS), repeat=rng.random() < 0.25))
    return cases


# --------------------------------------------------------------------------- #
# Running cases: fuzzing.py's fork server and judge (shared with test_cli_fuzz)
# --------------------------------------------------------------------------- #
@dataclass
class Case:
    name: str
    data: bytes
    args: tuple[str, ...] = ("--tt-depthwise-to-pool",)
    valid: bool = False  # a valid input must never be rejected
    repeat: bool = False  # run twice: both runs must print the same IR

    def request(self) -> dict:
        """`tt-dw-opt input.mlir args...`; the output must parse back to itself."""
        checked = "--split-input-file" not in self.args and "--mlir-print-ir-after-all" not in self.args
        return fuzzing.request(self.name, "tt-dw-opt", ["@input.mlir", *self.args],
                               {"input.mlir": self.data}, valid=self.valid, repeat=self.repeat,
                               oracle="roundtrip" if checked else None,
                               generic="--mlir-print-op-generic" in self.args)


def run_cases(cases: list[Case], workers: int = 2) -> list[Outcome]:
    return fuzzing.run_cases(cases, workers)


def generated_cases(count: int, seed: int = 0) -> list[Case]:
    """`count` mutated inputs (of our seeds and the lit inputs), under random argument sets."""
    rng = random.Random(seed)
    bases = list(own_seeds().values()) + [text for text, _ in lit_inputs().values()]
    return [Case(f"mutant-{seed}-{i}", mutate(rng.choice(bases), rng), rng.choice(ARG_SETS))
            for i in range(count)]


def fixed_cases() -> list[Case]:
    """Valid seeds and lit positives (must succeed), and the hand-picked nasty inputs."""
    cases = []
    for name, text in own_seeds().items():
        for args in ARG_SETS:
            split = "split" in name
            if split and "--split-input-file" not in args:
                continue
            cases.append(Case(f"seed:{name}:{' '.join(args)}", text.encode(), args, valid=True))
    for name, (text, runs) in lit_inputs().items():
        for args in runs:
            cases.append(Case(f"lit:{name}:{' '.join(args)}", text.encode(), args, valid=True))
    for name, data in special_inputs().items():
        for args in (("--tt-depthwise-to-pool",), ("--tt-depthwise-pool-pipeline",)):
            cases.append(Case(f"special:{name}:{' '.join(args)}", data, args))
    return cases


def describe(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        if o.problem:
            shown = o.case.data[:300]
            lines.append(f"- {o.case.name} [{' '.join(o.case.args)}]: {o.problem}\n"
                         f"    input ({len(o.case.data)} B): {shown!r}\n    stderr: {o.detail[-400:]!r}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Tests
# --------------------------------------------------------------------------- #
CI_MUTANTS = 240


def test_fixed_cases_behave() -> None:
    outcomes = run_cases(fixed_cases())
    bad = [o for o in outcomes if o.problem]
    assert not bad, "driver misbehaved:\n" + describe(bad)
    # the nasty inputs are not all accepted: the checks above did see real rejections
    assert sum(o.rejected for o in outcomes) >= 40


def test_mutated_inputs_behave() -> None:
    count = int(os.environ.get("TT_DW_FUZZ_EXAMPLES", CI_MUTANTS))
    outcomes = run_cases(generated_cases(count, seed=int(os.environ.get("TT_DW_FUZZ_SEED", 0))))
    assert len(outcomes) == count
    bad = [o for o in outcomes if o.problem]
    assert not bad, f"{len(bad)} of {count} mutated inputs misbehaved:\n" + describe(bad)


CI_GENERATED = 48


def test_generated_inputs_behave() -> None:
    """Affine maps/sets, alias graphs, constants and nesting (issue 11): each accepted and
    printed as IR that parses back to itself, or refused with a located error."""
    count = int(os.environ.get("TT_DW_FUZZ_GENERATED", CI_GENERATED))
    cases = generator_cases(count, seed=int(os.environ.get("TT_DW_FUZZ_SEED", 0)))
    assert max(len(c.data) for c in cases) < 1 << 20
    outcomes = run_cases(cases)
    bad = [o for o in outcomes if o.problem]
    assert not bad, f"{len(bad)} of {count} generated inputs misbehaved:\n" + describe(bad)
    # both outcomes occur: the generators reach past the limits and stay below them
    assert 0 < sum(o.rejected for o in outcomes) < count


def test_limits_are_consistent_on_printed_output() -> None:
    """Input accepted at the nesting limit prints as text that is accepted again; one level
    more (hidden behind an alias chain) is refused up front, at the op that uses it."""
    from tt_dw_mlir.api import parse_module
    from tt_dw_mlir.ir import MAX_NESTING, DiagnosticError, print_module

    def chain(depth):
        lines = ["#a0 = [1]"] + [f"#a{i} = [#a{i - 1}]" for i in range(1, depth)]
        return "\n".join(lines) + f'\n"t.use"() {{x = #a{depth - 1}}} : () -> ()\n'

    deepest = chain(MAX_NESTING - 2)  # the op's attribute dictionary is one level more
    printed = print_module(parse_module(deepest))
    assert print_module(parse_module(printed)) == printed
    try:
        parse_module(chain(MAX_NESTING + 1), source_name="chain.mlir")
    except DiagnosticError as error:
        (diag,) = error.diagnostics
        assert (diag.file, diag.line) == ("chain.mlir", MAX_NESTING + 2)  # the op using it
        assert "nested more than" in diag.message
    else:
        raise AssertionError("an alias chain deeper than MAX_NESTING was accepted")


def test_runner_reports_abort_and_hang() -> None:
    """The harness itself: an aborting or stalling case is caught and named, the rest still run."""
    abort = Case("selftest:abort", b"", ("--tt-depthwise-to-pool",))
    ok = Case("ok", b"module {\n}\n", ("--tt-depthwise-to-pool",), valid=True)
    os.environ["TT_DW_FUZZ_SELFTEST"] = "import os; os.abort()"
    try:
        found = {o.case.name: o for o in run_cases([ok, abort, Case("ok2", b"module {\n}\n", valid=True)], 1)}
        assert found["selftest:abort"].problem == "killed by signal 6 (SIGABRT)"
        assert found["ok"].problem is None and found["ok2"].problem is None
        os.environ["TT_DW_FUZZ_SELFTEST"] = "import time; time.sleep(600)"
        # long enough for the healthy case on a loaded machine (2 s was not, at load 20);
        # a case with the round-trip oracle gets twice the time
        found = {o.case.name: o for o in fuzzing.run_cases([abort, ok], 1, timeout=6)}
        assert found["selftest:abort"].problem.startswith("hang")
        assert found["ok"].problem is None
        os.environ["TT_DW_FUZZ_SELFTEST"] = "x = bytearray(3 << 30); x[::4096] = b'1' * len(x[::4096])"
        found = {o.case.name: o for o in run_cases([abort], 1)}
        assert "resident memory" in found["selftest:abort"].problem
    finally:
        del os.environ["TT_DW_FUZZ_SELFTEST"]


SUBPROCESS_CASES = (
    ("valid file", "file", None, ("--tt-depthwise-to-pool",), 0),
    ("valid stdin", "stdin", None, ("--tt-depthwise-pool-pipeline",), 0),
    ("invalid utf-8 stdin", "stdin", b"\xff\xfe\xfd module {", ("--tt-depthwise-to-pool",), 1),
    ("empty stdin", "stdin", b"", ("--tt-depthwise-to-pool",), 0),
    ("random bytes", "file", bytes(random.Random(3).randrange(256) for _ in range(500)), (), 1),
    ("deep nesting", "file", b'"t.op"() ({\n' * 3000 + b"}) : () -> ()\n" * 3000, (), None),
    ("missing file", "missing", None, ("--tt-depthwise-to-pool",), 1),
    ("bad pipeline", "file", None, ("--pass-pipeline=builtin.module(no-such-pass)",), 1),
    ("bad option", "file", None, ("--tt-depthwise-to-pool{weight-dtype=int3}",), 1),
)


def test_real_subprocess_runs(tmp_path) -> None:
    valid = own_seeds()["array_bias_relu"].encode()
    for name, how, data, args, expected_rc in SUBPROCESS_CASES:
        data = valid if data is None else data
        path = tmp_path / "in.mlir"
        path.write_bytes(data)
        target = str(tmp_path / "absent.mlir") if how == "missing" else ("-" if how == "stdin" else str(path))
        done = subprocess.run([str(OPT_BIN), target, *args], input=data if how == "stdin" else b"",
                              capture_output=True, timeout=60)
        out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
        for word in FORBIDDEN:
            assert word not in out + err, f"{name}: printed {word}:\n{err[-2000:]}"
        assert done.returncode in (0, 1), f"{name}: exit {done.returncode}: {err[-2000:]}"
        if expected_rc is not None:
            assert done.returncode == expected_rc, f"{name}: exit {done.returncode}: {err[-2000:]}"
        if done.returncode and how != "missing" and "pipeline" not in name and "option" not in name:
            assert LOCATED_ERROR.search(err), f"{name}: no located diagnostic: {err[-2000:]}"
        elif done.returncode:
            assert "error:" in err, f"{name}: no diagnostic"



def test_mlir_work_survives_fork() -> None:
    """A forked child (the fork server's, multiprocessing's) has no large-stack worker thread:
    it must start its own, not queue work for the parent's thread that is not there."""
    from tt_dw_mlir.api import parse_module
    from tt_dw_mlir.ir import print_module

    text = own_seeds()["array_bias_relu"]
    print_module(parse_module(text))  # the worker thread now runs in this process
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            ok = print_module(parse_module(text)) == print_module(parse_module(text))
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError("the forked child hung on MLIR work")


def test_errors_verified_on_several_modules_are_reported_not_aborted() -> None:
    """Two top-level modules whose functions hold an op with a wrongly typed attribute
    (found by test_mutated_inputs_behave on a mutant of carried_plan.mlir). With MLIR's
    thread pool the modules are verified on worker threads, where the bindings capture
    the diagnostics without the GIL and nanobind aborts the process (SIGABRT in 5 of 6
    runs before the context went single-threaded; llvm/llvm-project issue 215781). Six
    runs, each must end with located errors and exit code 1."""
    width = 'input_height = 16 : i32, input_width = 16.0 : f32'  # the wrongly typed one
    layout = ('{channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, '
              'dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, '
              'kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, '
              'shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}')
    x, w, pw = "tensor<1x16x16x32xbf16>", "tensor<32x1x3x3xbf16>", "tensor<1x1x32x32xbf16>"
    funcs = "".join(
        f'  func.func @f{i}(%x: {x}, %w: {w}) -> {x} {{\n'
        f'    %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{{in_channels = 32 : i32, '
        f'kernel_size = array<i32: 3, 3>, weight_layout = {layout}}}> : ({w}) -> {pw}\n'
        f'    %1 = "ttnn.depthwise_pool_conv"(%x, %0) <{{activation = "none", batch_size = 1 : i32, '
        f'dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, {width}, '
        f'kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, '
        f'stride = array<i32: 1, 1>, weight_layout = {layout}}}> : ({x}, {pw}) -> {x}\n'
        f'    return %1 : {x}\n  }}\n' for i in range(8))
    text = f"module {{\n{funcs}}}\nmodule {{\n{funcs}}}\n".encode()
    for _ in range(6):
        done = subprocess.run([str(OPT_BIN), "-"], input=text, capture_output=True,
                              timeout=CASE_TIMEOUT_S)
        stderr = done.stderr.decode(errors="replace")
        assert done.returncode == 1, stderr[-400:]
        assert "<stdin>:4:10: error: expected base attribute 'builtin.integer'" in stderr, \
            stderr[-400:]
