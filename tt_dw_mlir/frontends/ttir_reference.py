"""A small reference interpreter for the TTIR text the frontends emit.

It runs the emitted module with torch (float32 compute) so a test can compare
it with the original framework model, and so the runtime side can take the
real input activation of every conv layer (`capture`). It understands only the
ops in `ttir_emitter.EMITTED_OPS`, in the exact form the emitter writes them.
"""

from __future__ import annotations

import re
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .ttir_emitter import TTIRModule

_TYPE = re.compile(r"tensor<([0-9x]*?)x?(bf16|f32)>")


def _shape_dtype(ty: str) -> tuple[tuple[int, ...], str]:
    m = _TYPE.fullmatch(ty.strip())
    if not m:
        raise ValueError(f"unexpected type '{ty}'")
    dims = tuple(int(d) for d in m.group(1).split("x") if d)
    return dims, m.group(2)


def _decode_hex(payload: str, shape: tuple[int, ...], dtype: str) -> torch.Tensor:
    raw = bytes.fromhex(payload[2:])
    if dtype == "bf16":
        bits = np.frombuffer(raw, dtype="<i2").copy()
        t = torch.from_numpy(bits).view(torch.bfloat16).float()
    else:
        t = torch.from_numpy(np.frombuffer(raw, dtype="<f4").copy())
    count = int(np.prod(shape)) if shape else 1
    if t.numel() == 1 and count != 1:  # MLIR splat hex form
        t = t.expand(count).clone()
    return t.reshape(shape)


def _ints(text: str) -> list[int]:
    text = re.sub(r":\s*i\d+", "", text)  # drop the `: i32` of each list element
    return [int(v) for v in re.findall(r"-?\d+", text)]


def _prop(props: str, key: str) -> str:
    m = re.search(rf"\b{key} = (array<[^>]*>|\[[^\]]*\]|[^,}}]+)", props)
    if not m:
        raise ValueError(f"missing property '{key}' in <{{{props}}}>")
    value = m.group(1)
    if value.startswith("array<"):
        value = value.split(":", 1)[1].rstrip(">")
    return value


def _float(text: str) -> float:
    text = text.split(":")[0].strip()
    if text.startswith("0x"):
        return float(np.frombuffer(int(text, 16).to_bytes(4, "little"), "<f4")[0])
    return float(text)


def _split_line(line: str) -> tuple[str, str, list[str], str, str, str]:
    """`%r = "op"(ops) <{props}> : (types) -> type loc("x")` -> its pieces."""
    result, rest = line.split(' = "', 1)
    op, rest = rest.split('"', 1)
    loc_at = rest.rfind(" loc(")
    loc = rest[loc_at + 6:-2] if loc_at >= 0 else ""
    rest = rest[:loc_at] if loc_at >= 0 else rest
    arrow = rest.rfind(" -> ")
    out_type = rest[arrow + 4:]
    close = rest.index(")")
    operands = [o.strip() for o in rest[1:close].split(",") if o.strip()]
    props = ""
    if rest[close + 1:].startswith(" <{"):
        end = rest.rindex("}> : (")
        props = rest[close + 4:end]
    return result.strip(), op, operands, props, out_type, loc.replace('\\"', '"')


def run_ttir(module: TTIRModule | str, inputs: Sequence[torch.Tensor | np.ndarray], *,
             parameters: dict[str, np.ndarray] | None = None,
             capture: Sequence[str] = (),
             override: Optional[Callable[[str, str, list[torch.Tensor]], Optional[torch.Tensor]]] = None,
             ) -> tuple[list[torch.Tensor], dict[str, tuple]]:
    """Run the emitted TTIR on `inputs`; returns (outputs, captured).

    `captured[loc] = (operand tensors, result tensor)` for every op whose name
    is in `capture` (e.g. `("ttir.conv2d",)`).

    `override(op, loc, operands)` is asked before each op (not constants): a
    tensor it returns is that op's result (shape-checked), None runs the op here.
    It lets a caller run chosen layers elsewhere, e.g. on a compiled program.
    """
    if isinstance(module, TTIRModule):
        parameters = module.parameters if parameters is None else parameters
        text = module.text
    else:
        text = module
    parameters = parameters or {}
    env: dict[str, torch.Tensor] = {}
    captured: dict[str, tuple] = {}
    lines = text.splitlines()
    header = next(l for l in lines if l.strip().startswith("func.func"))
    args = re.findall(r"(%arg\d+): (tensor<[^>]*>)", header)
    feeds = [torch.as_tensor(np.asarray(x, dtype=np.float32)) for x in inputs]
    feeds += [torch.from_numpy(np.asarray(p, dtype=np.float32)) for p in parameters.values()]
    if len(feeds) != len(args):
        raise ValueError(f"module takes {len(args)} arguments, got {len(feeds)}")
    for (name, ty), value in zip(args, feeds):
        shape, _ = _shape_dtype(ty)
        if tuple(value.shape) != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {tuple(value.shape)}")
        env[name] = value.float()

    for raw in lines:
        line = raw.strip()
        if line.startswith("return "):
            names = line[len("return "):].split(" : ")[0].split(",")
            return [env[n.strip()] for n in names], captured
        if not line.startswith("%") or ' = "' not in line:
            continue
        result, op, operands, props, out_type, loc = _split_line(line)
        shape, dtype = _shape_dtype(out_type)
        xs = [env[o] for o in operands]
        replaced = None if override is None or op == "ttir.constant" else override(op, loc, xs)
        if replaced is not None:
            y = replaced
        elif op == "ttir.constant":
            m = re.match(r'value = dense<"(0x[0-9A-Fa-f]*)">', props)
            y = _decode_hex(m.group(1), shape, dtype)
        elif op == "ttir.permute":
            y = xs[0].permute(_ints(_prop(props, "permutation"))).contiguous()
        elif op == "ttir.conv2d":
            sh, sw = _ints(_prop(props, "stride"))
            pt, pl, pb, pr = _ints(_prop(props, "padding"))
            dh, dw = _ints(_prop(props, "dilation"))
            groups = _ints(_prop(props, "groups"))[0]
            x = F.pad(xs[0].permute(0, 3, 1, 2), (pl, pr, pt, pb))
            y = F.conv2d(x, xs[1], None, (sh, sw), 0, (dh, dw), groups).permute(0, 2, 3, 1)
            if len(xs) > 2:
                y = y + xs[2]
        elif op == "ttir.add":
            y = xs[0] + xs[1]
        elif op == "ttir.multiply":
            y = xs[0] * xs[1]
        elif op == "ttir.relu":
            y = torch.relu(xs[0])
        elif op == "ttir.relu6":
            y = torch.clamp(xs[0], 0.0, 6.0)
        elif op == "ttir.sigmoid":
            y = torch.sigmoid(xs[0])
        elif op == "ttir.silu":
            y = F.silu(xs[0])
        elif op == "ttir.gelu":
            y = F.gelu(xs[0])
        elif op == "ttir.hardsigmoid":
            y = F.hardsigmoid(xs[0])
        elif op == "ttir.clamp_scalar":
            y = torch.clamp(xs[0], _float(_prop(props, "min")), _float(_prop(props, "max")))
        elif op == "ttir.mean":
            dims = _ints(_prop(props, "dim_arg"))
            y = xs[0].mean(dim=dims, keepdim=_prop(props, "keep_dim").strip() == "true")
        elif op == "ttir.reshape":
            y = xs[0].reshape(_ints(_prop(props, "shape")))
        elif op in ("ttir.linear", "ttir.matmul"):
            a, b = xs[0], xs[1]
            if _prop(props, "transpose_a").strip() == "true":
                a = a.transpose(-1, -2)
            if _prop(props, "transpose_b").strip() == "true":
                b = b.transpose(-1, -2)
            y = a @ b
            if op == "ttir.linear" and len(xs) > 2:
                y = y + xs[2]
        else:
            raise NotImplementedError(f"reference interpreter has no '{op}'")
        if tuple(y.shape) != shape:
            raise ValueError(f"{op} at {loc}: computed shape {tuple(y.shape)}, declared {shape}")
        env[result] = y
        if op in capture:
            captured[loc] = (xs, y)
    raise ValueError("module has no return")
