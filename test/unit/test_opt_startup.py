"""What a `tt-dw-opt` process loads: the Python modules per command line, the dialects
per context. Start-up is most of a run on a real model (benchmarks/bench_compile.py):
these keep what a command does not need out of it (import sets, not timings)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tt_dw_mlir.ir import DiagnosticError, new_context, parse_module

TTIR = """func.func @main(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
"""

# Never in a compiler process: the frontends' and runtimes' worlds.
NEVER = ("torch", "ttl", "ttnn", "onnx", "onnxruntime", "tt_dw_mlir.frontends", "tt_dw_mlir.runtime",
         "tt_dw_mlir.executor", "tt_dw_mlir.models")
# Only when a pass runs: the passes and what they build with.
PASS_ONLY = ("tt_dw_mlir.passes", "tt_dw_mlir.passes.depthwise_to_pool",
             "tt_dw_mlir.passes.depthwise_pool_to_kernels", "tt_dw_mlir.passes.depthwise_pool_to_generic",
             "tt_dw_mlir.cost_model", "tt_dw_mlir.kernels", "ml_dtypes")


def _modules_after(argv: list[str]) -> tuple[int, set[str], str]:
    """(exit status, modules loaded, stdout) of `tt-dw-opt argv` run by its console entry."""
    script = ("import atexit, json, sys\n"
              "atexit.register(lambda: print('\\nMODULES ' + json.dumps(sorted(sys.modules))))\n"
              "from tt_dw_mlir.tools.opt import console_main\n"
              f"sys.argv = ['tt-dw-opt', *{argv!r}]\n"
              "console_main()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    out, _, modules = done.stdout.rpartition("\nMODULES ")
    assert modules, done.stderr
    return done.returncode, set(json.loads(modules)), out


@pytest.mark.parametrize("command", ["version", "no pass", "pipeline"])
def test_each_command_line_loads_only_what_it_runs(command, tmp_path):
    source = tmp_path / "conv.mlir"
    source.write_text(TTIR)
    argv = {"version": ["--version"], "no pass": [str(source)],
            "pipeline": [str(source), "--tt-depthwise-pool-pipeline"]}[command]
    status, modules, out = _modules_after(argv)
    assert status == 0
    assert ("tt-dw-mlir" in out) if command == "version" else ("func.func @main" in out), out
    unwanted = NEVER if command == "pipeline" else NEVER + PASS_ONLY
    assert not sorted(m for m in modules if m.split(".")[0] in unwanted or m in unwanted)
    if command == "version":
        assert "tt_dw_mlir.api" not in modules
    if command == "pipeline":  # the test sees what it means to see
        assert {"tt_dw_mlir.passes.depthwise_to_pool", "tt_dw_mlir.cost_model"} <= modules


def test_context_loads_the_dialects_an_input_uses():
    """Upstream dialects stay registered but are loaded when a module uses them (as in
    mlir-opt), not all ~40 for every context: still parsed and verified as registered."""
    context = new_context()
    assert context.is_registered_operation("ttir.conv2d") and context.is_registered_operation("func.func")
    assert not context.is_registered_operation("gpu.launch")
    with pytest.raises(DiagnosticError) as refused:
        parse_module('func.func @f(%a: i32, %b: i64) -> i32 {\n'
                     '  %0 = "arith.addi"(%a, %b) : (i32, i64) -> i32\n'
                     '  return %0 : i32\n}', context, "mixed.mlir")
    first = refused.value.diagnostics[0]
    assert (first.file, first.line, first.severity) == ("mixed.mlir", 2, "error")
    assert "requires the same type" in first.message
    module = parse_module('func.func @g() {\n  "gpu.barrier"() : () -> ()\n  return\n}', context, "gpu.mlir")
    assert context.is_registered_operation("gpu.barrier")  # loaded by the parser when used
    assert "gpu.barrier" in str(module)
