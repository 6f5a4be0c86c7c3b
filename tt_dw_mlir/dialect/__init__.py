"""TTIR/TTNN as the pass sees them: the IRDL subset (`irdl`), typed views and
semantic verification of the TTIR ops we read (`ttir`) and of our TTNN ops
(`ttnn`). `verify_module` is the one entry the driver and the passes call."""

from __future__ import annotations

from tt_dw_mlir.diagnostics import Diagnostic

# The ops with semantic checks beyond IRDL's structural ones (dialect/ttir.py, dialect/ttnn.py).
TTIR_CHECKED = ("ttir.conv2d", "ttir.constant", "ttir.permute")


def verify_module(module, source_name: str | None = None, *,
                  structural: bool = True, convs: bool = True) -> list[Diagnostic]:
    """Structural verification (bindings) plus the semantic checks IRDL cannot express.

    `structural=False` skips the bindings' verifier, for a module a pass manager
    has just verified; `convs=False` skips `ttir.conv2d`, for a module whose convs
    were verified at parse time (no pass creates or edits one; a converted conv is
    replaced, a refused one left as it was).

    One walk collects the ops these checks are about (IRDL verified every op's structure
    in C++); each is then checked once per distinct signature (attributes and types are
    uniqued, so equal ops give equal keys): a model repeats a few layer shapes many times.
    """
    from tt_dw_mlir.dialect import ttir, ttnn
    from tt_dw_mlir.ir import at, ir, verify

    found = verify(module, source_name) if structural else []
    if found:
        return found
    checked = set(ttnn.OURS) | set(TTIR_CHECKED)
    if not convs:
        checked.discard("ttir.conv2d")
    ops = []

    def collect(op):
        if op.name in checked:
            ops.append(op)
        return ir.WalkResult.ADVANCE

    with module.context:
        module.operation.walk(collect)
        conv_facts: dict = {}
        ours = ttnn.Verifier()
        for op in ops:
            name = op.name
            problem = ttir.verify_op(op, conv_facts) if name.startswith("ttir.") else ours.verify(op)
            if problem:
                found.append(at(op, "error", f"'{name}' op {problem}", source_name))
    return found
