"""TTIR/TTNN as the pass sees them: the IRDL subset (`irdl`), typed views and
semantic verification of the TTIR ops we read (`ttir`) and of our TTNN ops
(`ttnn`). `verify_module` is the one entry the driver and the passes call."""

from __future__ import annotations

from tt_dw_mlir.diagnostics import Diagnostic


def verify_module(module, source_name: str | None = None, *,
                  structural: bool = True, convs: bool = True) -> list[Diagnostic]:
    """Structural verification (bindings) plus the semantic checks IRDL cannot express.

    `structural=False` skips the bindings' verifier, for a module a pass manager
    has just verified; `convs=False` skips `ttir.conv2d`, for a module whose convs
    were verified at parse time (no pass creates or edits one; a converted conv is
    replaced, a refused one left as it was) - the costliest check of the walk.
    """
    from tt_dw_mlir.dialect import ttir, ttnn
    from tt_dw_mlir.ir import at, ir, verify

    found = verify(module, source_name) if structural else []
    if found:
        return found

    def visit(op):
        name = op.name
        problem = None
        if name.startswith("ttir."):
            problem = ttir.verify_op(op) if convs or name != "ttir.conv2d" else None
        elif name in ttnn.OURS:
            problem = ttnn.verify_op(op)
        if problem:
            found.append(at(op, "error", f"'{name}' op {problem}", source_name))
        return ir.WalkResult.ADVANCE

    with module.context:
        module.operation.walk(visit)
    return found
