"""The Python API a frontend calls.

    from tt_dw_mlir.api import compile_text
    result = compile_text(ttir_text, "builtin.module(tt-depthwise-to-pool{device=p150}, canonicalize)")
    result.text          # the rewritten module
    result.remarks       # why each conv was or was not converted, as Diagnostic records

Errors (malformed IR, a bad pipeline, a failing pass) raise DiagnosticError,
whose `.diagnostics` are located `file:line:col` records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tt_dw_mlir.dialect import verify_module
from tt_dw_mlir.ir import Diagnostic, DiagnosticError, diagnostics_of, ir, \
    location_of, name_of, new_context, ops_named, parse_module as _parse, print_module, write_module

# The passes (and what they import: the cost model, the kernel programs, constant folding)
# are imported by the functions that run or list them: parsing and printing alone, as
# `tt-dw-opt` without a pass does, need none of it.

DEFAULT_PIPELINE = "builtin.module(tt-depthwise-pool-pipeline)"


@dataclass
class CompileResult:
    module: object
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def text(self) -> str:
        return print_module(self.module)

    @property
    def remarks(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "remark"]


def parse_module(text: str, context=None, source_name: str = "-", *, pipeline: str | None = None):
    """Parse and verify (structure and semantics); raises DiagnosticError.

    `pipeline`: the pipeline about to run on the module; when its first pass checks every
    `ttir.conv2d` itself before anything else reads the module (`passes.verifies_convs_first`),
    the convs are left to it: each is read once (30,000 convs at 10k blocks)."""
    context = context or new_context()
    module = _parse(text, context, source_name)
    convs = True
    if pipeline:
        from tt_dw_mlir.passes import verifies_convs_first

        convs = not verifies_convs_first(pipeline)
    # MLIR's parser verified the structure (it verifies after parsing): the semantic checks remain.
    problems = verify_module(module, source_name, structural=False, convs=convs)
    if problems:
        raise DiagnosticError(problems)
    module.convs_verified = True  # no pass edits a ttir.conv2d: run_pipeline need not re-check them
    return module


def run_pipeline(module, pipeline: str, source_name: str = "-", *,
                 print_ir_after_all: bool = False, timing: bool = False,
                 statistics: bool = False) -> list[Diagnostic]:
    """Run `pipeline` on a parsed module in place; returns the remarks; raises DiagnosticError.

    `timing` / `statistics`: MLIR's pass timing and pass statistics reports, printed on
    stderr by the pass manager (`--mlir-timing`, `--mlir-pass-statistics`).
    """
    from tt_dw_mlir.passes import PipelineError, build_pass_manager, builds_checked_ir

    diagnostics: list[Diagnostic] = []
    try:
        manager = build_pass_manager(pipeline, module.context, diagnostics, source_name,
                                     print_ir_after_all=print_ir_after_all)
    except PipelineError as problem:
        raise DiagnosticError([Diagnostic("error", f"invalid pass pipeline: {problem}", "<pipeline>", 1, 1)])
    if timing:
        manager.enable_timing()
    if statistics:
        manager.enable_statistics()
    try:
        manager.run(module.operation)
    except ir.MLIRError as error:
        # a failed verification (passes.build_pass_manager) put its errors in `diagnostics`
        # already; the pass manager's own message then only says that a pass failed
        reported = any(d.severity == "error" for d in diagnostics) and \
            not getattr(error, "error_diagnostics", None)
        raise DiagnosticError(diagnostics + ([] if reported else diagnostics_of(error, source_name))) from None
    errors = [d for d in diagnostics if d.severity == "error"]
    # The pass manager verified the structure after every pass; our semantic checks remain,
    # unless the module was checked when parsed and every pass checked what it built.
    checked = getattr(module, "convs_verified", False) and builds_checked_ir(pipeline)
    problems = errors or ([] if checked else verify_module(
        module, source_name, structural=False, convs=not getattr(module, "convs_verified", False)))
    if problems:
        raise DiagnosticError(diagnostics if errors else diagnostics + problems)
    return diagnostics


def compile_text(text: str, pipeline: str = DEFAULT_PIPELINE, *, source_name: str = "-") -> CompileResult:
    module = parse_module(text, source_name=source_name, pipeline=pipeline)
    return CompileResult(module, run_pipeline(module, pipeline, source_name))


def available_passes() -> dict[str, str]:
    """Flag -> one-line summary, for `--help` and for frontends building pipelines."""
    from tt_dw_mlir.passes import PASSES, PIPELINES

    found = {name: cls.summary for name, cls in PASSES.items()}
    found.update({name: summary for name, (summary, _) in PIPELINES.items()})
    return found


# --------------------------------------------------------------------------- #
# Lowered layers: what a runtime (or the `tt-dw` report) needs from a module
# --------------------------------------------------------------------------- #
@dataclass
class LoweredLayer:
    """One `ttnn.depthwise_pool_program` of a compiled module."""

    name: str          # the op's name location (a frontend's layer path), else file:line:col
    program: object    # tt_dw_mlir.program.KernelProgram
    weights: object    # prepared weights (numpy), or None when they are a run-time input
    bias: object       # prepared bias (numpy), or None (no bias, or a run-time input)


def _layer_name(loc, source_name: str) -> str:
    if name_of(loc):
        return name_of(loc)
    file, line, col = location_of(loc, source_name)
    return f"{file}:{line}:{col}"


def lowered_layers(module, source_name: str = "-") -> list[LoweredLayer]:
    """Every lowered depthwise layer of `module`, in program order, with folded operands read out."""
    from tt_dw_mlir.dialect.ttnn import program_of

    programs = ops_named(module.operation, "ttnn.depthwise_pool_program")
    layers = []
    with module.context:
        for op in programs:
            operands = list(op.operands)
            values = [_constant_of(v) for v in operands[1:3]]
            layers.append(LoweredLayer(_layer_name(op.location, source_name), program_of(op),
                                       values[0], values[1] if len(values) > 1 else None))
    return layers


def _constant_of(value):
    from tt_dw_mlir.dialect.constants import dense_to_numpy

    owner = value.owner
    if isinstance(owner, (ir.Operation, ir.OpView)) and owner.name in ("ttir.constant", "arith.constant"):
        return dense_to_numpy(owner.attributes["value"])
    return None


def run(target, x_nhwc, backend: str = "reference", *, weights=None, bias=None):
    """Run a lowered layer (a LoweredLayer, or a module with exactly one) on an NHWC input.

    `weights` / `bias` are the raw [C,1,kH,kW] / [C] tensors, needed only when
    the module did not fold them (they were function arguments).
    """
    from tt_dw_mlir.layout import prepare_bias, prepare_weights
    from tt_dw_mlir.runtime import execute

    layer = target
    if not isinstance(target, LoweredLayer):
        module = parse_module(target) if isinstance(target, str) else target
        layers = lowered_layers(module)
        if len(layers) != 1:
            raise ValueError(f"expected a module with one lowered depthwise layer, found {len(layers)}")
        layer = layers[0]
    program = layer.program
    prepared_w = layer.weights if layer.weights is not None else (
        None if weights is None else prepare_weights(weights, program.layout))
    if prepared_w is None:
        raise ValueError(f"layer {layer.name}: weights are a run-time input; pass weights=")
    prepared_b = layer.bias if layer.bias is not None else (
        None if bias is None else prepare_bias(bias, program.layout))
    if program.conv.has_bias and prepared_b is None:
        raise ValueError(f"layer {layer.name}: bias is a run-time input; pass bias=")
    return execute(program, x_nhwc, prepared_w, prepared_b, backend=backend)


# --------------------------------------------------------------------------- #
# Whole networks: compile a torch / ONNX model, run it, report per depthwise layer
# --------------------------------------------------------------------------- #
NOT_CONVERTED = "depthwise-to-pool: conv not converted: "
CONVERTED = "depthwise-to-pool: converted"


@dataclass
class LayerRecord:
    """One depthwise (or grouped) conv of the model and what became of it."""

    name: str                 # module path (torch), or ONNX node metadata / name
    input_shape: tuple        # NHWC
    output_shape: tuple       # NHWC
    kernel: tuple
    stride: tuple
    padding: tuple            # TTIR order [pT, pL, pB, pR]
    dilation: tuple
    groups: int
    has_bias: bool
    converted: bool
    remark: str               # why not converted ("" when converted)
    activation: str = "none"  # fused into the lowered op (from its program), else the frontend's view
    layout: dict | None = None  # scheme, grid, cores, channel shards, channels per shard
    program: object = None    # tt_dw_mlir.program.KernelProgram when converted
    weight: object = field(default=None, repr=False)  # OIHW float32, batch norm folded
    bias: object = field(default=None, repr=False)    # [C] float32 or None
    # Filled by a traced run (`CompiledModel.run(..., trace=True)`): NHWC float32 tensors
    input: object = field(default=None, repr=False)
    output: object = field(default=None, repr=False)
    backend: str | None = None  # backend the layer ran on in the last traced run

    @property
    def channels(self) -> int:
        return self.input_shape[3]

    @property
    def is_depthwise(self) -> bool:
        return self.groups == self.input_shape[3] == self.output_shape[3]

    def config(self, weight_dtype: str = "bf16"):
        """The layer as a conv_config.DepthwiseConv (for cost estimates); None if not depthwise."""
        if self.program is not None:
            return self.program.conv
        if not self.is_depthwise:
            return None
        from tt_dw_mlir.conv_config import DepthwiseConv, ttir_padding_to_sides

        n, h, w, c = self.input_shape
        return DepthwiseConv(batch=n, in_h=h, in_w=w, channels=c, kernel=tuple(self.kernel),
                             stride=tuple(self.stride), padding=ttir_padding_to_sides(list(self.padding)),
                             dilation=tuple(self.dilation), has_bias=self.has_bias,
                             activation=self.activation, weight_dtype=weight_dtype)


@dataclass
class CompileReport:
    """What `compile` did: per depthwise layer, host ops, remarks, timings."""

    layers: list[LayerRecord]
    host_ops: "Counter"                      # op type -> how many run on the host
    host_nodes: list[tuple[str, str, str]]   # (op type, node, why not TTIR)
    remarks: list[Diagnostic]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def converted(self) -> list[LayerRecord]:
        return [layer for layer in self.layers if layer.converted]

    def summary(self) -> str:
        """One plain paragraph: how many depthwise convs converted, why not, host ops."""
        depthwise = [layer for layer in self.layers if layer.is_depthwise]
        lines = [f"converted {len(self.converted)} of {len(depthwise)} depthwise convs"]
        if not depthwise:
            grouped = len(self.layers)
            lines = ["nothing converted: the model has no depthwise conv" + (
                f" ({grouped} grouped conv(s), none with one input channel per group)" if grouped else "")]
        elif not self.converted:
            reasons = sorted({layer.remark for layer in depthwise})
            lines = [f"nothing converted: none of the {len(depthwise)} depthwise convs could take "
                     f"the pool path ({'; '.join(reasons)[:300]})"]
        if self.host_ops:
            ops = ", ".join(f"{op} x{count}" for op, count in sorted(self.host_ops.items()))
            lines.append(f"{sum(self.host_ops.values())} op(s) ran on the host: {ops}")
        return "; ".join(lines)


class CompiledModel:
    """A compiled network: call it like the model. See `compile`."""

    def __init__(self, network, report: CompileReport, *, backend: str, sim_layers=None,
                 ir_text: dict[str, str] | None = None):
        from tt_dw_mlir.executor import Executor

        self.network = network            # frontends.TTIRModule: module, steps, convs
        self.report = report
        self.backend = backend
        self.ir = ir_text or {}           # stage -> printed IR, when compiled with keep_ir
        self._executor = Executor(network.module, backend=backend, sim_layers=sim_layers)

    @property
    def module(self):
        """The compiled in-memory MLIR module (TTIR + lowered TTNN programs)."""
        return self.network.module

    @property
    def text(self) -> str:
        return print_module(self.network.module, debug_info=True)

    @property
    def host_ops(self):
        """Counter of the op types run on the host (empty when the whole model is TTIR)."""
        return self.report.host_ops

    def run(self, *inputs, trace: bool = False, on_layer=None, override=None) -> list:
        """Run the whole network; returns every output (torch tensors, float32).

        `trace=True` also stores each depthwise layer's NHWC input and output in
        `report.layers[i].input` / `.output` (and the backend it ran on).
        `on_layer(record, input, output)` is called for each layer of `report.layers` as
        soon as it has run (its `backend` set), with its NHWC input and output, which
        are not kept afterwards: a per-layer check that holds no activations.
        `override(op, location name, operands)` may return a tensor to use instead of
        running the op (e.g. the network with a layer computed another way); the plan,
        its constants and the prepared weights are the ones this model runs with.
        """
        from tt_dw_mlir.executor import DEPTHWISE_OPS, run_network

        feeds = [_as_tensor(x) for x in _flatten_inputs(inputs)]
        if len(feeds) != len(self.network.input_names):
            raise ValueError(f"the model takes {len(self.network.input_names)} input(s), got {len(feeds)}")
        for feed, shape in zip(feeds, self.network.input_shapes):
            if tuple(feed.shape) != tuple(shape):
                raise ValueError(f"input shape {tuple(feed.shape)} differs from the compiled "
                                 f"{tuple(shape)}; compile again for a new shape")
        executor = self._executor
        records = {layer.name: layer for layer in self.report.layers} if trace or on_layer else {}

        def observe(op: str, where: str, operands: list, result) -> None:
            record = records.get(where)
            if record is None:
                return
            record.backend = executor.layer_backends.get(where, "torch")
            if trace:
                record.input, record.output = operands[0], result
            if on_layer is not None:
                on_layer(record, operands[0], result)

        executor.trace = DEPTHWISE_OPS if records else ()
        executor.observer, executor.override = observe, override
        executor.overwrite_dead_values = not trace  # a trace keeps the tensors it is handed
        executor.layer_backends = {}
        try:
            return run_network(self.network, feeds, executor)
        finally:
            executor.trace, executor.observer, executor.override = (), None, None
            executor.overwrite_dead_values = True

    def __call__(self, *inputs):
        outputs = self.run(*inputs)
        if self.network.output_spec is not None:  # the torch model's own structure
            from torch.utils import _pytree

            return _pytree.tree_unflatten(outputs, self.network.output_spec)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _flatten_inputs(inputs) -> list:
    if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)):
        return list(inputs[0])
    return list(inputs)


def _as_tensor(x):
    import numpy as np
    import torch

    if isinstance(x, torch.Tensor):
        return x.detach()
    return torch.as_tensor(np.asarray(x))


def compile(model, sample_inputs=None, *, device: str = "n150", weight_dtype: str = "bf16",
            path: str = "pool", backend: str = "reference", dtype: str = "bf16",
            input_shapes=None, sim_layers: int | None = None, keep_ir: bool = False,
            ir_files: dict | None = None, source_name: str | None = None) -> CompiledModel:
    """Compile a whole network; returns a callable that runs it (like `forge.compile`).

        compiled = tt_dw_mlir.compile(model, torch.randn(1, 3, 224, 224))
        y = compiled(x)                     # the whole network
        compiled.report.layers              # per depthwise layer: converted / why not, layout
        compiled.host_ops                   # Counter of ops that ran on the host

    `model`: a torch `nn.Module` (exported with torch.export; one in training mode is
    deep-copied and the copy put in eval mode, so the caller's module is not touched), an `ExportedProgram`,
    an FX `GraphModule`, an ONNX model (path or `ModelProto`), or a network already
    imported by `import_model` (compiled in place; `sample_inputs`, `dtype` and
    `input_shapes` are then its own).
    `sample_inputs`: a tensor or a tuple of tensors (torch); for ONNX, optional: a
    tensor/tuple fixes the input shapes, as does `input_shapes` ({name: shape} or a
    list), needed for symbolic dimensions.
    `device` ("n150", "p150", ...), `weight_dtype` ("bf16", "bfp8_b", "bfp4_b") and
    `path` ("pool": every depthwise conv the kernels can run; "auto": the cost model
    decides; "matmul": none) are the `tt-depthwise-to-pool` options. `dtype` is the
    activation dtype of the TTIR ("bf16" or "f32"). `backend` runs the lowered
    depthwise layers ("reference", "sim", "ttnn"; with "sim", `sim_layers` limits
    how many run on the simulator); every other TTIR op runs in torch, and ops with
    no TTIR mapping run on the host (torch for a torch model, onnxruntime for ONNX).
    `keep_ir=True` keeps the printed IR of each stage in `.ir` ("ttir", "pool", "program").
    `ir_files` ({stage: path}) writes a stage's IR to its file as soon as the stage is
    reached, printed by MLIR straight into the file (never held as one string); an
    OSError names the file.

    Raises `ModelError` (invalid model, named node), `DiagnosticError` (a pass failed).
    """
    import gc
    import time
    from collections import Counter

    from tt_dw_mlir.passes import PIPELINES

    from tt_dw_mlir.frontends import TTIRModule

    seconds: dict[str, float] = {}
    started = time.monotonic()
    if isinstance(model, TTIRModule):
        network = model
    else:
        network = import_model(model, sample_inputs, dtype=dtype, input_shapes=input_shapes)
        seconds["import"] = time.monotonic() - started
        # Imported: the module is not needed again. torch.export leaves it (in a wrapper
        # module of its own) and its traced graphs in reference cycles, through frames that
        # outlive the export; they would go at the interpreter's next full collection,
        # which may come only after the passes and the printing of the IR (the largest
        # constant printed takes 4x its size for a moment: MLIR's hex). Collected now,
        # a caller that handed over its only reference has its weights freed first.
        del model
        gc.collect()
    source = source_name or "model"
    ir_text: dict[str, str] = {}

    def stage_reached(stage: str) -> None:
        if keep_ir:
            ir_text[stage] = print_module(network.module, debug_info=True)
        if ir_files and stage in ir_files:
            with open(ir_files[stage], "wb") as out:
                write_module(network.module, out, debug_info=True)

    stage_reached("ttir")
    options = f"device={device} weight-dtype={weight_dtype} path={path} remarks=all"
    first, *rest = PIPELINES["tt-depthwise-pool-pipeline"][1]
    rest = [f"{p}{{{options}}}" if p.startswith("tt-") else p for p in rest]
    t = time.monotonic()
    diagnostics = run_pipeline(network.module, f"builtin.module({first}{{{options}}})", source)
    seconds["depthwise_to_pool"] = time.monotonic() - t
    stage_reached("pool")
    t = time.monotonic()
    diagnostics += run_pipeline(network.module, f"builtin.module({', '.join(rest)})", source)
    seconds["lower_to_program"] = time.monotonic() - t
    stage_reached("program")
    remarks = [d for d in diagnostics if d.severity == "remark"]
    report = CompileReport(_layer_records(network, remarks, source), Counter(network.host_ops),
                           [(s.op, s.name, s.reason) for s in network.host_steps], remarks, seconds)
    return CompiledModel(network, report, backend=backend, sim_layers=sim_layers, ir_text=ir_text)


def import_model(model, sample_inputs=None, *, dtype: str = "bf16", input_shapes=None):
    """The frontend's TTIR network of `model` (a `frontends.TTIRModule`; no pass run): what
    `compile` starts from, with the same arguments. Given to `compile`, it is compiled in
    place. A caller that needs the model between the two (an oracle run on it, a check of
    the network's sizes before running anything) imports first, then compiles."""
    import os

    if isinstance(model, (str, os.PathLike)) or type(model).__name__ == "ModelProto":
        from tt_dw_mlir.frontends import onnx_to_ttir

        shapes = input_shapes
        if sample_inputs is not None and shapes is None:
            shapes = [tuple(x.shape) for x in _flatten_inputs(
                (sample_inputs,) if not isinstance(sample_inputs, (tuple, list)) else sample_inputs)]
        return onnx_to_ttir(model, dtype=dtype, input_shapes=shapes)
    import copy

    import torch

    from tt_dw_mlir.frontends import torch_to_ttir

    if sample_inputs is None:
        raise ValueError("a torch model needs sample_inputs (a tensor or a tuple of tensors)")
    if isinstance(sample_inputs, torch.Tensor):
        sample_inputs = (sample_inputs,)
    if (isinstance(model, torch.nn.Module) and not isinstance(model, torch.fx.GraphModule)
            and any(m.training for m in model.modules())):
        # the caller's module keeps its mode; one already in eval mode is exported as it is
        # (export does not change it), not copied: a copy would double the weights' memory
        model = copy.deepcopy(model).eval()
    return torch_to_ttir(model, tuple(sample_inputs), dtype=dtype)


def _layer_records(network, remarks: list[Diagnostic], source: str) -> list[LayerRecord]:
    from tt_dw_mlir.dialect.ttnn import program_of

    with network.module.context:
        lowered = {_layer_name(op.location, source): program_of(op) for op in
                   ops_named(network.module.operation, "ttnn.depthwise_pool_program")}
    by_name: dict[str, str] = {}
    for d in remarks:
        if d.name:
            by_name.setdefault(d.name, d.message)
    records = []
    for conv in network.convs:
        if conv.groups == 1:
            continue  # dense convs are not candidates (remarks=all still has them)
        program = lowered.get(conv.loc)
        layout = None
        activation = conv.activation
        if program is not None:
            s = program.sharding
            layout = {"scheme": s.scheme, "grid": list(program.grid), "cores": s.num_cores,
                      "channel_shards": s.num_shards, "channels_per_shard": s.channels_per_shard}
            activation = program.conv.activation
        remark = by_name.get(conv.loc, "")
        reason = "" if program is not None else (
            remark[len(NOT_CONVERTED):] if remark.startswith(NOT_CONVERTED) else remark or
            "no remark from the pass")
        records.append(LayerRecord(
            conv.loc, conv.input_shape, conv.output_shape, conv.kernel, conv.stride, conv.padding,
            conv.dilation, conv.groups, conv.has_bias, program is not None, reason, activation,
            layout, program, conv.weight, conv.bias))
    return records


def torch_compile_backend(graph_module, example_inputs, **options):
    """`torch.compile(model, backend="tt_dw")`: compile the FX graph dynamo hands over.

    Registered as the `tt_dw` dynamo backend (entry point `torch_dynamo_backends`);
    `options` are `compile`'s keyword arguments (`torch.compile(..., options={...})`).
    Dynamo passes the module's parameters and buffers as graph inputs; they are bound
    back as constants (so batch norms fold and weights are constants for the pass).
    """
    import torch

    placeholders = [n for n in graph_module.graph.nodes if n.op == "placeholder"]
    constant_at = {}
    for index, (node, value) in enumerate(zip(placeholders, example_inputs)):
        grapharg = node.meta.get("grapharg")
        source = getattr(grapharg, "source", None)
        source = node.name if source is None else (
            source.name() if callable(source.name) else str(source.name))
        if isinstance(value, torch.nn.Parameter) or "_parameters" in source or "_buffers" in source:
            constant_at[index] = value.detach()
    user_at = [i for i in range(len(example_inputs)) if i not in constant_at]

    class Bound(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.graph_module = graph_module
            for i, value in constant_at.items():
                self.register_buffer(f"constant{i}", value)

        def forward(self, *user):
            args, it = [], iter(user)
            for i in range(len(example_inputs)):
                args.append(getattr(self, f"constant{i}") if i in constant_at else next(it))
            return self.graph_module(*args)

    compiled = compile(Bound(), tuple(example_inputs[i] for i in user_at), **options)

    def run(*inputs):
        return tuple(compiled.run(*(inputs[i] for i in user_at)))
    return run
