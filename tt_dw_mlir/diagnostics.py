"""Diagnostics as plain records: `file:line:col: severity: message`.

The bindings' diagnostics cannot be emitted from inside a Python pass (the pass
manager aborts on them), so diagnostics are records collected by us and printed
by the driver. This module depends on nothing but the standard library; the
MLIR-facing helpers that build records from locations live in `tt_dw_mlir.ir`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


__all__ = ["Diagnostic", "DiagnosticError"]


@dataclass
class Diagnostic:
    """One MLIR-style diagnostic: `file:line:col: severity: message`."""

    severity: str  # "error" | "warning" | "remark" | "note"
    message: str
    file: str = "-"
    line: int = 0
    col: int = 0
    notes: list["Diagnostic"] = field(default_factory=list)
    name: str = ""  # the op's name location (a frontend's layer path), if it has one

    def format(self) -> str:
        where = f'loc("{self.name}")' if self.name and not self.line else \
            f"{self.file}:{self.line}:{self.col}"
        head = f"{where}: {self.severity}: {self.message}"
        return "\n".join([head] + [n.format() for n in self.notes])

    def to_dict(self) -> dict:
        return {"severity": self.severity, "message": self.message, "file": self.file,
                "line": self.line, "col": self.col, "name": self.name}


class DiagnosticError(Exception):
    """Raised with the diagnostics that made an input or a pipeline fail."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(d.format() for d in diagnostics))
        self.diagnostics = diagnostics


def at_offset(text: str, offset: int, message: str, source_name: str = "-",
              severity: str = "error") -> Diagnostic:
    """A diagnostic at character `offset` of `text` (1-based line and column)."""
    line = text.count("\n", 0, offset) + 1
    col = offset - text.rfind("\n", 0, offset)
    return Diagnostic(severity, message, source_name, line, col)
