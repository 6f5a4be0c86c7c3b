"""The one module that knows which MLIR bindings are in use.

Where tt-mlir's own Python package (`ttmlir`) is importable, its bindings and
its real TTIR/TTNN dialects are used. Otherwise the upstream MLIR bindings from
PyPI are used and our IRDL subset of TTIR/TTNN is loaded at run time
(`tt_dw_mlir.dialect.irdl`). Everything else in the package imports MLIR from
here: `from tt_dw_mlir.ir import ir, passmanager`.

In the IRDL fallback, text goes through `tt_dw_mlir.dialect.irdl_syntax` on its
way in and out: it adapts what IRDL cannot parse (properties, undeclared TTIR
ops, ...) keeping every line and column, so diagnostics point at the user's text.

The bindings' diagnostics cannot be emitted from inside a Python pass (the pass
manager aborts on them), so diagnostics are plain records (`Diagnostic`)
collected by us and printed by the driver. Two guards run before any parse,
in both modes, because the C++ parser crashes instead of failing on them:
nesting deeper than MAX_NESTING and a truncated resource section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

try:  # tt-mlir's bindings, with the real dialects registered.
    from ttmlir import ir, passmanager  # type: ignore[import-not-found]

    USING_TTMLIR = True
except ImportError:
    import sys
    import types

    from mlir import ir, passmanager

    USING_TTMLIR = False
    # The bindings look for a Python module of each op's dialect every time an op
    # is wrapped, and do not remember a miss: give our IRDL dialects empty ones.
    for _dialect in ("ttir", "ttnn"):
        sys.modules.setdefault(f"mlir.dialects.{_dialect}", types.ModuleType(f"mlir.dialects.{_dialect}"))

__all__ = [
    "ir", "passmanager", "USING_TTMLIR", "Diagnostic", "DiagnosticError",
    "new_context", "parse_module", "print_module", "verify", "diagnostics_of", "at",
    "location_of", "name_of", "ops_named",
]


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

    def __post_init__(self) -> None:
        if not USING_TTMLIR:  # users wrote `ttir.quantize`, not its shadow `TTIR.quantize`
            from tt_dw_mlir.dialect.irdl_syntax import unshadow

            self.message = unshadow(self.message)

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


def location_of(loc, source_name: str | None = None) -> tuple[str, int, int]:
    """(file, line, col) of a location, looking through name/callsite/fused locations."""
    try:
        if loc.is_a_file():
            name = loc.filename
            if name == "-" and source_name:
                name = source_name
            return name, loc.start_line, loc.start_col
        if loc.is_a_name():
            return location_of(loc.child_loc, source_name)
        if loc.is_a_callsite():
            return location_of(loc.callee, source_name)
        if loc.is_a_fused():
            for inner in loc.locations:
                found = location_of(inner, source_name)
                if found[1]:
                    return found
    except Exception:  # unknown or opaque locations have no position
        pass
    return (source_name or "-", 0, 0)


def name_of(loc) -> str:
    """The name of a name location (`loc("features.1.conv.0")`), looking through call sites/fusions."""
    try:
        if loc.is_a_name():
            return loc.name_str
        if loc.is_a_callsite():
            return name_of(loc.callee)
        if loc.is_a_fused():
            return next((n for n in map(name_of, loc.locations) if n), "")
    except Exception:
        pass
    return ""


def ops_named(root, name: str) -> list:
    """Every op called `name` under `root`, in walk order (collected first: callers rewrite them)."""
    found = []
    root.walk(lambda op: (found.append(op) if op.name == name else None, ir.WalkResult.ADVANCE)[1])
    return found


def at(op_or_loc, severity: str, message: str, source_name: str | None = None) -> Diagnostic:
    loc = getattr(op_or_loc, "location", op_or_loc)
    file, line, col = location_of(loc, source_name)
    return Diagnostic(severity, message, file, line, col, name=name_of(loc))


def _from_mlir_diagnostic(diag, source_name: str | None) -> Diagnostic:
    severity = str(diag.severity).rsplit(".", 1)[-1].lower()
    file, line, col = location_of(diag.location, source_name)
    notes = [_from_mlir_diagnostic(n, source_name) for n in diag.notes]
    return Diagnostic(severity, str(diag.message), file, line, col, notes)


def diagnostics_of(error: Exception, source_name: str | None = None) -> list[Diagnostic]:
    """The diagnostics carried by an MLIRError (or a generic one for other errors)."""
    found = getattr(error, "error_diagnostics", None)
    if found:
        return [_from_mlir_diagnostic(d, source_name) for d in found]
    message = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    return [Diagnostic("error", message, source_name or "-", 0, 0)]


def new_context(*, allow_unregistered: bool = True):
    """A context with the TTIR/TTNN dialects available (real ones, or our IRDL subset)."""
    context = ir.Context()
    # Dialects we do not model (ttcore attributes, other ops) pass through untouched.
    context.allow_unregistered_dialects = allow_unregistered
    if not USING_TTMLIR:
        from tt_dw_mlir.dialect.irdl import load_subset

        load_subset(context)
    return context


# --------------------------------------------------------------------------- #
# Parse / print
# --------------------------------------------------------------------------- #
_TOP_LEVEL_COUNT = re.compile(r"single top-level operation, found: (\d+)")

# The MLIR parser recurses per nesting level and overflows the C stack (SIGSEGV, the
# whole process dies) near 2,500 nested regions on an 8 MiB stack (MLIR 22 bindings,
# seen by test/unit/test_driver_fuzz.py); refuse input nested far deeper than real IR.
MAX_NESTING = 1000
_NESTING_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|->|[({\[<)}\]>]')


def nesting_diagnostic(text: str, source_name: str = "-") -> Diagnostic | None:
    """An error at the first bracket nested deeper than MAX_NESTING, or None."""
    if sum(text.count(ch) for ch in "({[<") <= MAX_NESTING:
        return None
    depth = 0
    for token in _NESTING_TOKENS.finditer(text):
        ch = token.group()
        if len(ch) != 1:
            continue
        if ch in "({[<":
            depth += 1
            if depth > MAX_NESTING:
                at_ = token.start()
                line, col = text.count("\n", 0, at_) + 1, at_ - text.rfind("\n", 0, at_)
                return Diagnostic("error", f"input nested more than {MAX_NESTING} levels deep",
                                  source_name, line, col)
        else:
            depth = max(0, depth - 1)
    return None



# A `{-# ... #-}` resource section that reaches the end of the input, or holds an
# unterminated string, trips an assertion in the MLIR 22 parser (Parser::consumeToken,
# "shouldn't advance past EOF or errors") and aborts the process. Minimal inputs:
# `{-#dialect_resources:{builtin:{t:` and `{-# dialect_resources: { builtin: { t: "ab`.
_RESOURCE_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*("?)|//[^\n]*|\{-#|#-\}')


def resource_section_diagnostic(text: str, source_name: str = "-") -> Diagnostic | None:
    """An error for an unclosed resource section or an unterminated string in one, or None."""
    if "{-#" not in text:
        return None

    def error(offset: int, message: str) -> Diagnostic:
        line, col = text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
        return Diagnostic("error", message, source_name, line, col)

    opened = None
    for token in _RESOURCE_TOKENS.finditer(text):
        lexeme = token.group()
        if lexeme == "{-#":
            opened = token.start()
        elif lexeme == "#-}":
            opened = None
        elif opened is not None and lexeme.startswith('"') and not token.group(1):
            return error(token.start(), "unterminated string in the resource section")
    if opened is not None:
        return error(opened, "resource section is not closed with '#-}'")
    return None


_NAMED_OP_LOC = re.compile(r'^([ \t]*(?:%[^=\n"]*=[ \t]*)?)(\S.*[ \t]loc\("((?:[^"\\\n]|\\.)*)")\)[ \t]*$',
                           re.M)


def locate_named_ops(text: str, source_name: str) -> str:
    """`op ... loc("name")` -> `op ... loc("name"("file":line:col))`, at the end of op lines.

    An op written with a name location (frontends name ops after their layers)
    would lose its place in the file, and every diagnostic on it its
    `file:line:col`; the name stays, with the op's position as its child.
    """
    if 'loc("' not in text:
        return text
    quoted = source_name.replace("\\", "\\\\").replace('"', '\\"')
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        match = _NAMED_OP_LOC.match(line) if 'loc("' in line and not line.lstrip().startswith(
            ("#", "//")) else None
        if match:
            col = len(match.group(1)) + 1
            lines[number - 1] = f'{match.group(1)}{match.group(2)}("{quoted}":{number}:{col}))'
    return "\n".join(lines)


def parse_module(text: str, context, source_name: str = "-"):
    """Parse `text` as a module (an implicit one is made around bare top-level ops).

    Raises DiagnosticError with located diagnostics on malformed input.
    """
    refused = nesting_diagnostic(text, source_name) or resource_section_diagnostic(text, source_name)
    if refused:
        raise DiagnosticError([refused])
    text = locate_named_ops(text, source_name)
    if not USING_TTMLIR:
        from tt_dw_mlir.dialect import irdl_syntax

        text = irdl_syntax.to_irdl(text)

    def failure(error, shifted_line: int = 0):
        if not error.error_diagnostics:
            from tt_dw_mlir.dialect.irdl_syntax import custom_form_diagnostics

            return DiagnosticError(custom_form_diagnostics(text, source_name))
        found = diagnostics_of(error, source_name)
        for diag in found:  # undo the implicit module's shift of that one line
            if diag.line == shifted_line and diag.col > len(_IMPLICIT_MODULE):
                diag.col -= len(_IMPLICIT_MODULE)
        return DiagnosticError(found)

    with context:
        try:
            op = ir.Operation.parse(text, source_name=source_name)
            if op.operation.name == "builtin.module":
                return _ParsedModule(op)
        except ir.MLIRError as error:
            found = _TOP_LEVEL_COUNT.search(str(error))
            if not found or found.group(1) == "1":
                raise failure(error) from None
        # Bare top-level ops: wrap them in a module, as mlir-opt does, keeping the file's
        # name and lines; only the columns of the line the module opens on shift.
        wrapped, line = _wrap_in_module(text)
        try:
            return _ParsedModule(ir.Operation.parse(wrapped, source_name=source_name))
        except ir.MLIRError as error:
            if not _TOP_LEVEL_COUNT.search(str(error)):
                raise failure(error, line) from None
        try:  # the wrapping did not fit (e.g. several resource sections): the bindings' own
            return ir.Module.parse(text)
        except ir.MLIRError as error:
            raise failure(error) from None


_IMPLICIT_MODULE = "module {"
_PREAMBLE_LINE = re.compile(r"[ \t]*(?:$|//|[#!][\w$.-]+[ \t]*=)")


def _wrap_in_module(text: str) -> tuple[str, int]:
    """`text` inside `module { ... }`, after its alias definitions and before its resources."""
    lines = text.split("\n")
    first = next((i for i, l in enumerate(lines) if not _PREAMBLE_LINE.match(l)), len(lines) - 1)
    lines[first] = _IMPLICIT_MODULE + lines[first]
    body = "\n".join(lines)
    resources = body.rfind("{-#")
    if resources >= 0:
        return body[:resources] + "}" + body[resources:], first + 1
    return body + "\n}", first + 1


class _ParsedModule:
    """A parsed `builtin.module` operation, with the Module-like API we use."""

    def __init__(self, op):
        self._owner = op  # keeps the parsed operation alive
        self.operation = op.operation

    @property
    def body(self):
        return self.operation.regions[0].blocks[0]

    @property
    def context(self):
        return self.operation.context

    def __str__(self) -> str:
        return str(self.operation)


def print_module(module, *, generic: bool = False, debug_info: bool = False) -> str:
    text = module.operation.get_asm(print_generic_op_form=generic, enable_debug_info=debug_info,
                                    assume_verified=False)
    if USING_TTMLIR:
        return text
    from tt_dw_mlir.dialect import irdl_syntax

    return irdl_syntax.from_irdl(text)


def verify(module, source_name: str | None = None) -> list[Diagnostic]:
    """The bindings' verifier, as diagnostics (empty when the module verifies)."""
    try:
        module.operation.verify()
        return []
    except ir.MLIRError as error:
        return diagnostics_of(error, source_name)
