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
from tt_dw_mlir.ir import Diagnostic, DiagnosticError, diagnostics_of, ir, new_context, \
    parse_module as _parse, print_module
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
    return module


def run_pipeline(module, pipeline: str, source_name: str = "-", *,
                 print_ir_after_all: bool = False) -> list[Diagnostic]:
    """Run `pipeline` on a parsed module in place; returns the remarks; raises DiagnosticError."""
    diagnostics: list[Diagnostic] = []
    try:
        manager = build_pass_manager(pipeline, module.context, diagnostics, source_name,
                                     print_ir_after_all=print_ir_after_all)
    except PipelineError as problem:
        raise DiagnosticError([Diagnostic("error", f"invalid pass pipeline: {problem}", "<pipeline>", 1, 1)])
    try:
        manager.run(module.operation)
    except ir.MLIRError as error:
        raise DiagnosticError(diagnostics + diagnostics_of(error, source_name)) from None
    errors = [d for d in diagnostics if d.severity == "error"]
    problems = errors or verify_module(module, source_name)
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
