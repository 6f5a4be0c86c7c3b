"""`tt-dw`: compile a model's depthwise convs to pool2d kernel programs, run them, report.

    tt-dw run                         # built-in MobileNetV2, reference backend
    tt-dw run --model efficientnet_b0 --weight-dtype bfp8_b --device p150
    tt-dw run model.onnx --json
    tt-dw compile model.onnx --out build/model

Both commands write to --out (default out/<model>):
    <model>.ttir.mlir     the frontend's TTIR
    <model>.pool.mlir     after tt-depthwise-to-pool
    <model>.program.mlir  after the whole tt-depthwise-pool-pipeline
`run` then executes the network: every converted depthwise conv on our runtime
(its lowered program, folded prepared weights), everything else with the TTIR
reference interpreter (torch, float32), and prints one row per depthwise conv.
Errors are one `tt-dw: error: ...` line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

DEFAULT_MODEL = "mobilenetv2"
DEFAULT_SIM_LAYERS = 2
NOT_CONVERTED = "depthwise-to-pool: conv not converted: "


class CliError(Exception):
    """A user-facing failure: printed as one message, exit status 1."""


# --------------------------------------------------------------------------- #
# Progress (tqdm is not a dependency; this is enough for a few dozen steps)
# --------------------------------------------------------------------------- #
class Progress:
    """A one-line progress bar on stderr, drawn only when enabled."""

    def __init__(self, enabled: bool, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.total = 0
        self.done = 0
        self.label = ""
        self.started = time.monotonic()
        self.drawn = False

    def stage(self, message: str) -> None:
        if self.enabled:
            self._clear()
            print(f"tt-dw: {message}", file=self.stream, flush=True)

    def start(self, total: int, label: str) -> None:
        self.total, self.done, self.label = total, 0, label
        self.started = time.monotonic()
        self._draw("")

    def step(self, item: str) -> None:
        self.done += 1
        self._draw(item)

    def finish(self) -> None:
        self._clear()
        self.total = 0

    def _draw(self, item: str) -> None:
        if not self.enabled or not self.total:
            return
        width = 24
        filled = width * min(self.done, self.total) // self.total
        elapsed = time.monotonic() - self.started
        line = (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{elapsed:5.1f}s {item}")
        self.stream.write("\r" + line[:110].ljust(110))
        self.stream.flush()
        self.drawn = True

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()
            self.drawn = False


# --------------------------------------------------------------------------- #
# Model loading
# --------------------------------------------------------------------------- #
@dataclass
class LoadedModel:
    name: str                    # used for the output folder and file names
    kind: str                    # "builtin" | "onnx"
    source: str                  # built-in name or the .onnx path
    ttir: Any                    # frontends.TTIRModule (bf16)
    inputs: list                 # numpy NCHW inputs
    reference: Callable[[], list]  # fp32 outputs of the original model on `inputs`


def _seeded_input(shape: Sequence[int], seed: int):
    import torch

    gen = torch.Generator().manual_seed(seed + 1)
    return torch.randn(*shape, generator=gen).numpy()


def resolve_model(spec: str) -> tuple[str, str]:
    """('builtin', canonical name) or ('onnx', path); CliError for anything else."""
    from tt_dw_mlir import models

    looks_like_path = spec.lower().endswith(".onnx") or os.sep in spec or "/" in spec
    if looks_like_path or os.path.exists(spec):
        if not os.path.exists(spec):
            raise CliError(f"no such file: '{spec}'")
        if os.path.isdir(spec):
            raise CliError(f"'{spec}' is a directory, not an ONNX model file")
        return "onnx", spec
    key = models._ALIASES.get(spec.lower(), spec.lower())
    if key not in models.MODELS:
        raise CliError(f"unknown model '{spec}'; built-in models: {', '.join(models.names())}, "
                       f"or give the path of an .onnx file")
    return "builtin", key


def _unsupported(model: str, problem) -> CliError:
    details = "; ".join(f"{op} at node '{node}'" + (f" ({why})" if why else "")
                        for op, node, why in problem.problems[:10])
    more = f" (and {len(problem.problems) - 10} more)" if len(problem.problems) > 10 else ""
    return CliError(f"model '{model}' contains unsupported op(s) {', '.join(problem.ops)}: "
                    f"{details}{more}")


def load_model(spec: str, resolution: int | None, seed: int) -> LoadedModel:
    from tt_dw_mlir.frontends import UnsupportedOpError, onnx_to_ttir, run_ttir, torch_to_ttir

    kind, source = resolve_model(spec)
    if kind == "builtin":
        import torch

        from tt_dw_mlir import models

        model, example = models.build(source, seed=seed, resolution=resolution or models.INPUT_SIZE)
        try:
            ttir = torch_to_ttir(model, (example,))
        except UnsupportedOpError as problem:
            raise _unsupported(source, problem) from None

        def reference() -> list:
            with torch.no_grad():
                out = model(example)
            return list(out) if isinstance(out, (tuple, list)) else [out]

        return LoadedModel(source, kind, source, ttir, [example.numpy()], reference)

    import onnx

    try:
        proto = onnx.load(source)
    except Exception as problem:  # a truncated or non-ONNX file
        raise CliError(f"cannot read '{source}' as an ONNX model: {_first_line(problem)}") from None
    initializers = {t.name for t in proto.graph.initializer}
    graph_inputs = [i for i in proto.graph.input if i.name not in initializers]
    shapes: dict[str, tuple[int, ...]] = {}
    for inp in graph_inputs:
        dims = inp.type.tensor_type.shape.dim
        shape = [d.dim_value if d.HasField("dim_value") else 0 for d in dims]
        if len(shape) == 4:
            shape[0] = shape[0] or 1
            if resolution or not all(shape[2:]):
                shape[2] = shape[3] = resolution or 224
        if not all(shape):
            raise CliError(f"input '{inp.name}' of '{source}' has a symbolic shape {shape} "
                           f"that --resolution does not fix")
        shapes[inp.name] = tuple(shape)
    try:
        ttir = onnx_to_ttir(proto, input_shapes=shapes)
    except UnsupportedOpError as problem:
        raise _unsupported(source, problem) from None
    except (ValueError, KeyError, IndexError) as problem:
        raise CliError(f"cannot import '{source}': {_first_line(problem)}") from None
    inputs = [_seeded_input(shapes[i.name], seed) for i in graph_inputs]

    def reference() -> list:
        # No onnxruntime here: the same graph imported with float32 weights, run in torch.
        outs, _ = run_ttir(onnx_to_ttir(proto, dtype="f32", input_shapes=shapes), inputs)
        return outs

    return LoadedModel(Path(source).stem, kind, source, ttir, inputs, reference)


def _first_line(problem: BaseException) -> str:
    text = str(problem).strip()
    return text.splitlines()[0] if text else type(problem).__name__


# --------------------------------------------------------------------------- #
# Compilation
# --------------------------------------------------------------------------- #
@dataclass
class Compiled:
    ttir_path: Path
    pool_path: Path
    program_path: Path
    remarks: list                 # ir.Diagnostic
    remark_by_layer: dict[str, str]
    lowered: dict[str, Any]       # layer name -> api.LoweredLayer
    seconds: dict[str, float] = field(default_factory=dict)


def _options(args) -> str:
    return f"device={args.device} weight-dtype={args.weight_dtype} path={args.path} remarks=all"


def compile_model(loaded: LoadedModel, out_dir: Path, args, progress: Progress) -> Compiled:
    from tt_dw_mlir import api
    from tt_dw_mlir.ir import DiagnosticError, print_module
    from tt_dw_mlir.passes import PIPELINES

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as problem:
        raise CliError(f"cannot create output folder '{out_dir}': {problem.strerror}") from None
    paths = [out_dir / f"{loaded.name}.{kind}.mlir" for kind in ("ttir", "pool", "program")]
    seconds: dict[str, float] = {}

    _write(paths[0], loaded.ttir.text)
    # Parsed under the written file's name: remarks and the .pool/.program files point
    # at the op's line there (parse_module gives name-located ops their position).
    source = str(paths[0])
    options = _options(args)
    # The full pipeline, run in two steps on one module so the IR between them is kept.
    first, *rest = PIPELINES["tt-depthwise-pool-pipeline"][1]
    rest = [f"{p}{{{options}}}" if p.startswith("tt-") else p for p in rest]
    try:
        progress.stage(f"compiling {loaded.name}: {first}")
        t = time.monotonic()
        module = api.parse_module(loaded.ttir.text, source_name=source)
        diagnostics = api.run_pipeline(module, f"builtin.module({first}{{{options}}})", source)
        seconds["depthwise_to_pool"] = time.monotonic() - t
        _write(paths[1], print_module(module, debug_info=args.debug_info))
        progress.stage(f"compiling {loaded.name}: {', '.join(p.split('{')[0] for p in rest)}")
        t = time.monotonic()
        diagnostics += api.run_pipeline(module, f"builtin.module({', '.join(rest)})", source)
        seconds["lower_to_program"] = time.monotonic() - t
        _write(paths[2], print_module(module, debug_info=args.debug_info))
    except DiagnosticError as error:
        shown = "\n".join(d.format() for d in error.diagnostics[:20])
        raise CliError(f"compiling '{loaded.source}' failed:\n{shown}") from None
    remarks = [d for d in diagnostics if d.severity == "remark"]
    by_layer: dict[str, str] = {}
    for d in remarks:
        if d.name:
            by_layer.setdefault(d.name, d.message)
    lowered = {layer.name: layer for layer in api.lowered_layers(module, source)}
    return Compiled(paths[0], paths[1], paths[2], remarks, by_layer, lowered, seconds)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as problem:
        raise CliError(f"cannot write '{path}': {problem.strerror}") from None


# --------------------------------------------------------------------------- #
# Per-layer report
# --------------------------------------------------------------------------- #
@dataclass
class LayerRow:
    name: str
    input_shape: tuple
    output_shape: tuple
    kernel: tuple
    stride: tuple
    converted: bool
    reason: str                   # empty when converted
    activation: str = "none"
    has_bias: bool = False
    layout: dict | None = None
    backend: str | None = None
    pcc: float | None = None
    max_abs_error: float | None = None
    cost: dict | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "input_shape": list(self.input_shape),
                "output_shape": list(self.output_shape), "kernel": list(self.kernel),
                "stride": list(self.stride), "converted": self.converted,
                "reason": self.reason or None, "activation": self.activation,
                "has_bias": self.has_bias, "layout": self.layout, "backend": self.backend,
                "pcc": self.pcc, "max_abs_error": self.max_abs_error, "cost": self.cost}


def layer_rows(loaded: LoadedModel, compiled: Compiled, args) -> list[LayerRow]:
    rows = []
    for conv in loaded.ttir.depthwise_convs:
        lowered = compiled.lowered.get(conv.loc)
        remark = compiled.remark_by_layer.get(conv.loc, "")
        if lowered is not None:
            program = lowered.program
            sharding = program.sharding
            layout = {"scheme": sharding.scheme, "grid": list(program.grid),
                      "cores": sharding.num_cores, "channel_shards": sharding.num_shards,
                      "channels_per_shard": sharding.channels_per_shard}
            rows.append(LayerRow(conv.loc, conv.input_shape, conv.output_shape, conv.kernel,
                                 conv.stride, True, "", program.conv.activation,
                                 program.conv.has_bias, layout,
                                 cost=_cost(program.conv, args.device)))
        else:
            reason = remark[len(NOT_CONVERTED):] if remark.startswith(NOT_CONVERTED) else (
                remark or "no remark from the pass")
            config = conv.config.with_(weight_dtype=args.weight_dtype)
            rows.append(LayerRow(conv.loc, conv.input_shape, conv.output_shape, conv.kernel,
                                 conv.stride, False, reason, conv.activation, conv.has_bias,
                                 cost=_cost(config, args.device)))
    return rows


def _cost(conv, device: str) -> dict | None:
    from tt_dw_mlir.cost_model import estimate

    try:
        cost = estimate(conv, device)
    except Exception:  # a cost model gap must not stop the report
        return None
    return {"pool_us": cost.pool_time_s * 1e6, "matmul_us": cost.matmul_time_s * 1e6,
            "ratio": cost.ratio}


# --------------------------------------------------------------------------- #
# Running the network
# --------------------------------------------------------------------------- #
def _torch_activation(y, activation: str):
    import torch
    import torch.nn.functional as F

    return {"none": lambda t: t, "relu": torch.relu, "relu6": lambda t: torch.clamp(t, 0.0, 6.0),
            "silu": F.silu, "gelu": F.gelu}[activation](y)


def torch_depthwise(conv, x_nhwc, activation: str):
    """fp32 torch reference of one depthwise layer (BN-folded fp32 weights) on an NHWC input."""
    import torch
    import torch.nn.functional as F

    pt, pl, pb, pr = conv.padding
    x = F.pad(x_nhwc.permute(0, 3, 1, 2).float(), (pl, pr, pt, pb))
    bias = None if conv.bias is None else torch.tensor(conv.bias.reshape(-1))
    y = F.conv2d(x, torch.tensor(conv.weight), bias, conv.stride, 0, conv.dilation, conv.groups)
    return _torch_activation(y, activation).permute(0, 2, 3, 1)


def pcc(a, b) -> float:
    import torch

    a = a.detach().double().flatten()
    b = b.detach().double().flatten()
    a, b = a - a.mean(), b - b.mean()
    denom = a.norm() * b.norm()
    if denom == 0:
        return 1.0 if torch.equal(a, b) else 0.0
    return float((a @ b) / denom)


class DepthwiseOverride:
    """run_ttir hook: converted depthwise convs run on our runtime, ops they fused are skipped."""

    def __init__(self, loaded: LoadedModel, compiled: Compiled, rows: list[LayerRow], backend: str,
                 sim_layers: int, progress: Progress):
        self.convs = {c.loc: c for c in loaded.ttir.depthwise_convs}
        self.compiled = compiled
        self.rows = {r.name: r for r in rows}
        self.backend = backend
        self.sim_layers = sim_layers
        self.progress = progress
        self.ran = 0
        self.pending: dict[int, tuple[Any, list[str]]] = {}  # id(our output) -> (it, fused op names)

    def __call__(self, op: str, loc: str, xs: list):
        from tt_dw_mlir.runtime import execute

        if op == "ttir.conv2d" and loc in self.compiled.lowered:
            layer = self.compiled.lowered[loc]
            conv = layer.program.conv
            backend = self.backend
            if backend == "sim" and self.ran >= self.sim_layers:
                backend = "reference"
            y = execute(layer.program, xs[0], layer.weights, layer.bias, backend=backend)
            expected = torch_depthwise(self.convs[loc], xs[0], conv.activation)
            row = self.rows[loc]
            row.backend = backend
            row.pcc = pcc(y, expected)
            row.max_abs_error = float((y - expected).abs().max())
            fused = []
            if conv.has_bias and len(xs) < 3:
                fused.append("bias")
            if conv.activation != "none":
                fused.append(conv.activation)
            if fused:
                self.pending[id(y)] = (y, fused)
            self.ran += 1
            self.progress.step(loc)
            return y
        for x in xs:
            if id(x) in self.pending and self.pending[id(x)][0] is x:
                return self._fused_step(op, x)
        return None

    def _fused_step(self, op: str, y):
        """`y` already includes this op (the pass fused it into the layer): pass it through."""
        _, fused = self.pending.pop(id(y))
        step = fused[0]
        takes = {"bias": ("ttir.add",), "relu": ("ttir.relu",), "gelu": ("ttir.gelu",),
                 "relu6": ("ttir.relu6", "ttir.clamp_scalar"),
                 "silu": ("ttir.silu", "ttir.sigmoid", "ttir.multiply")}[step]
        if op not in takes:
            raise RuntimeError(f"layer output consumed by {op}, expected the fused {step}")
        rest = fused[1:] if not (step == "silu" and op == "ttir.sigmoid") else fused
        if rest:
            self.pending[id(y)] = (y, rest)
        return y


def run_network(loaded: LoadedModel, compiled: Compiled, rows: list[LayerRow], args,
                progress: Progress) -> dict:
    from tt_dw_mlir.frontends import run_ttir

    hook = DepthwiseOverride(loaded, compiled, rows, args.backend, args.sim_layers, progress)
    timings = {}
    progress.start(len(compiled.lowered), f"run ({args.backend})")
    t = time.monotonic()
    try:
        ours, _ = run_ttir(loaded.ttir, loaded.inputs, override=hook)
    finally:
        progress.finish()
    timings["network"] = time.monotonic() - t
    progress.stage("running the reference model")
    t = time.monotonic()
    reference = loaded.reference()
    timings["reference"] = time.monotonic() - t
    import torch

    ours_flat = torch.cat([o.flatten() for o in ours])
    ref_flat = torch.cat([r.detach().float().flatten() for r in reference])
    if ours_flat.shape != ref_flat.shape:
        raise CliError(f"output sizes differ from the reference model: {tuple(ours_flat.shape)} "
                       f"vs {tuple(ref_flat.shape)}")
    return {"pcc": pcc(ours_flat, ref_flat),
            "max_abs_error": float((ours_flat - ref_flat).abs().max()),
            "layers_on_our_path": hook.ran, "seconds": timings}


# --------------------------------------------------------------------------- #
# Output
# --------------------------------------------------------------------------- #
def _shape(s: Sequence[int]) -> str:
    return "x".join(str(d) for d in s)


def _layout_text(layout: dict | None) -> str:
    if not layout:
        return "-"
    scheme = layout["scheme"].replace("_sharded", "")
    return (f"{scheme} {layout['grid'][0]}x{layout['grid'][1]}, "
            f"{layout['channel_shards']}x{layout['channels_per_shard']}ch")


def _cost_text(cost: dict | None) -> str:
    if not cost:
        return "n/a"
    return f"{cost['pool_us']:.1f}/{cost['matmul_us']:.1f}us x{cost['ratio']:.2f}"


def format_table(rows: list[LayerRow], with_numerics: bool) -> str:
    headers = ["layer", "NHWC in -> out", "k", "s", "converted", "layout (scheme grid, shards x ch)"]
    if with_numerics:
        headers += ["PCC", "max|err|"]
    headers.append("pool/matmul est. (matmul/pool)")
    table = []
    for r in rows:
        cells = [r.name, f"{_shape(r.input_shape)} -> {_shape(r.output_shape)}",
                 f"{r.kernel[0]}x{r.kernel[1]}", f"{r.stride[0]}x{r.stride[1]}",
                 ("yes" + (f" +{r.activation}" if r.activation != "none" else "")
                  + (" [sim]" if r.backend == "sim" else "")) if r.converted else "no",
                 _layout_text(r.layout)]
        if with_numerics:
            cells += ["-" if r.pcc is None else f"{r.pcc:.6f}",
                      "-" if r.max_abs_error is None else f"{r.max_abs_error:.3g}"]
        cells.append(_cost_text(r.cost))
        table.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in table)) if table else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in table]
    reasons = [r for r in rows if not r.converted]
    if reasons:
        lines.append("")
        lines.append("not converted:")
        lines += [f"  {r.name}: {r.reason}" for r in reasons]
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #
def _weight_dtype(value: str) -> str:
    from tt_dw_mlir.blockfloat import canonical_dtype  # takes the ttnn names (bfloat8_b) too
    from tt_dw_mlir.conv_config import DTYPES

    try:
        return canonical_dtype(value.lower())
    except ValueError:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(DTYPES)}") from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not an integer") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's usage errors exit 2; ours are all 1
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(1)


def build_parser() -> argparse.ArgumentParser:
    from tt_dw_mlir.sharding import DEVICES

    parser = _Parser(prog="tt-dw", formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Compile a model's depthwise convs to pool2d kernel programs, "
                                 "run them against torch, and report per layer.",
                     epilog=__doc__.split("\n\n", 2)[1])
    commands = parser.add_subparsers(dest="command", metavar="{run,compile,cost}",
                                     parser_class=_Parser)
    for name, text in (("run", "compile, then run the network (depthwise layers on our runtime, "
                                "the rest in torch) and print the per-layer table"),
                       ("compile", "compile only: write the three IR files and the conversion table")):
        sub = commands.add_parser(name, help=text, description=text,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("model_path", nargs="?", metavar="MODEL",
                         help="a built-in model name or an .onnx file")
        sub.add_argument("--model", dest="model_flag", metavar="MODEL",
                         help="same as MODEL; built-in: mobilenetv2 (default), efficientnet_b0")
        sub.add_argument("--out", help="output folder (default out/<model>)")
        sub.add_argument("--weight-dtype", "--dtype", dest="weight_dtype", type=_weight_dtype,
                         default="bf16", metavar="{bf16,bfp8_b,bfp4_b}",
                         help="dtype of the prepared weights and bias (default bf16; "
                              "activations are bf16)")
        sub.add_argument("--device", choices=sorted(DEVICES), default="n150",
                         help="device the layout and cost are planned for (default n150)")
        sub.add_argument("--resolution", type=_positive, default=None,
                         help="input height and width (default 224; for an .onnx file, "
                              "default its declared size)")
        sub.add_argument("--path", choices=("pool", "auto", "matmul"), default="pool",
                         help="tt-depthwise-to-pool path option: pool (default: convert every "
                              "depthwise conv the kernels can run), auto (the cost model decides), "
                              "matmul (convert nothing)")
        sub.add_argument("--seed", type=int, default=0, help="weights and input seed (default 0)")
        sub.add_argument("--json", action="store_true",
                         help="print one JSON document on stdout instead of the table")
        sub.add_argument("--no-debug-info", dest="debug_info", action="store_false",
                         help="leave op locations (layer names, TTIR file lines) out of the "
                              ".pool/.program files")
        sub.add_argument("--progress", dest="progress", action="store_true", default=None,
                         help="show progress on stderr (default: when stderr is a terminal)")
        sub.add_argument("--no-progress", dest="progress", action="store_false")
        if name == "run":
            sub.add_argument("--backend", choices=("reference", "sim", "ttnn"), default="reference",
                             help="runtime for the depthwise layers (default reference). The "
                                  "TT-Lang simulator is slow: with sim only the first "
                                  "--sim-layers converted layers run on it and the rest on the "
                                  "reference backend (the table marks them); lower --resolution "
                                  "to simulate more of the network")
            sub.add_argument("--sim-layers", type=_positive, default=DEFAULT_SIM_LAYERS,
                             help=f"with --backend sim: layers run on the simulator "
                                  f"(default {DEFAULT_SIM_LAYERS})")
    from tt_dw_mlir.tools import cost_command

    cost_command.add_parser(commands)
    return parser


def _check_backend(backend: str) -> None:
    from tt_dw_mlir.runtime import available_backends

    if backend in available_backends():
        return
    if backend == "ttnn":
        from tt_dw_mlir.runtime.device import device_available

        raise CliError(f"backend 'ttnn' is not available here: {device_available()[1]}")
    raise CliError(f"backend '{backend}' is not available here (available: "
                   f"{', '.join(available_backends())})")


def execute_command(args, out=None) -> int:
    out = out or sys.stdout
    spec = args.model_flag or args.model_path or DEFAULT_MODEL
    if args.model_flag and args.model_path and args.model_flag != args.model_path:
        raise CliError(f"two models given: '{args.model_path}' and --model '{args.model_flag}'")
    progress = Progress(args.progress if args.progress is not None else sys.stderr.isatty())
    running = args.command == "run"
    if running:
        _check_backend(args.backend)
    started = time.monotonic()
    progress.stage(f"importing {spec}")
    t = time.monotonic()
    loaded = load_model(spec, args.resolution, args.seed)
    import_s = time.monotonic() - t
    out_dir = Path(args.out) if args.out else Path("out") / loaded.name
    compiled = compile_model(loaded, out_dir, args, progress)
    rows = layer_rows(loaded, compiled, args)
    result = {"command": args.command, "model": loaded.name, "source": loaded.source,
              "kind": loaded.kind, "device": args.device, "weight_dtype": args.weight_dtype,
              "activation_dtype": "bf16", "path": args.path,
              "input_shapes": [list(s) for s in loaded.ttir.input_shapes],
              "files": {"ttir": str(compiled.ttir_path), "pool": str(compiled.pool_path),
                        "program": str(compiled.program_path)},
              "depthwise_layers": len(rows), "converted": sum(r.converted for r in rows)}
    if running:
        result["backend"] = args.backend
        end_to_end = run_network(loaded, compiled, rows, args, progress)
    result["layers"] = [r.to_json() for r in rows]
    if running:
        result["end_to_end"] = {k: v for k, v in end_to_end.items() if k != "seconds"}
    result["seconds"] = {"import": import_s, **compiled.seconds,
                         **(end_to_end["seconds"] if running else {}),
                         "total": time.monotonic() - started}
    if args.json:
        json.dump(result, out, indent=2)
        out.write("\n")
        return 0
    print(f"model {loaded.name} ({loaded.source}), input {', '.join(_shape(s) for s in loaded.ttir.input_shapes)}, "
          f"device {args.device}, weights {args.weight_dtype}"
          + (f", backend {args.backend}" if running else ""), file=out)
    print(f"wrote {compiled.ttir_path}, {compiled.pool_path}, {compiled.program_path}", file=out)
    print("", file=out)
    print(format_table(rows, running), file=out)
    print("", file=out)
    print(f"converted {result['converted']} of {len(rows)} depthwise convs "
          f"({len(loaded.ttir.convs) - len(rows)} other convs left to the TTIR path); "
          f"{result['seconds']['total']:.1f} s", file=out)
    if running:
        e2e = result["end_to_end"]
        print(f"end-to-end PCC vs torch: {e2e['pcc']:.6f} (max abs error {e2e['max_abs_error']:.4g}; "
              f"{e2e['layers_on_our_path']} depthwise layers on the {args.backend} path, "
              f"the rest in torch)", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a usage error (1)
        return int(done.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 1
    try:
        if args.command == "cost":
            from tt_dw_mlir.tools import cost_command

            return cost_command.run(args)
        return execute_command(args)
    except CliError as problem:
        print(f"tt-dw: error: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tt-dw: interrupted", file=sys.stderr)
        return 1
    except Exception as problem:  # never a traceback; TT_DW_DEBUG=1 shows it
        if os.environ.get("TT_DW_DEBUG"):
            raise
        print(f"tt-dw: internal error: {type(problem).__name__}: {_first_line(problem)} "
              f"(set TT_DW_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
