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
from tt_dw_mlir.dialect.constants import dense_to_numpy
from tt_dw_mlir.ir import Diagnostic, DiagnosticError, diagnostics_of, ir, \
    location_of, name_of, new_context, ops_named, parse_module as _parse, print_module
from tt_dw_mlir.passes import PASSES, PIPELINES, PipelineError, build_pass_manager

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


def parse_module(text: str, context=None, source_name: str = "-"):
    """Parse and verify (structure and semantics); raises DiagnosticError."""
    context = context or new_context()
    module = _parse(text, context, source_name)
    problems = verify_module(module, source_name)
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
        raise DiagnosticError(diagnostics + diagnostics_of(error, source_name)) from None
    errors = [d for d in diagnostics if d.severity == "error"]
    # The pass manager verified the structure after every pass; our semantic checks remain.
    problems = errors or verify_module(module, source_name, structural=False,
                                       convs=not getattr(module, "convs_verified", False))
    if problems:
        raise DiagnosticError(diagnostics if errors else diagnostics + problems)
    return diagnostics


def compile_text(text: str, pipeline: str = DEFAULT_PIPELINE, *, source_name: str = "-") -> CompileResult:
    module = parse_module(text, source_name=source_name)
    return CompileResult(module, run_pipeline(module, pipeline, source_name))


def available_passes() -> dict[str, str]:
    """Flag -> one-line summary, for `--help` and for frontends building pipelines."""
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
