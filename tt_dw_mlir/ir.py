"""The one module that knows which MLIR bindings are in use.

Where tt-mlir's own Python package (`ttmlir`) is importable, its bindings and
its real TTIR/TTNN dialects are used. Otherwise the upstream MLIR bindings from
PyPI are used and our IRDL subset of TTIR/TTNN is loaded at run time
(`tt_dw_mlir.dialect.irdl`). Everything else in the package imports MLIR from
here: `from tt_dw_mlir.ir import ir, passmanager`.

The differences of the IRDL fallback are absorbed here and nowhere else:
  * IRDL ("extensible") ops have no properties, so the `<{...}>` properties of
    `ttir.*` / `ttnn.*` ops are rewritten to an attribute dictionary before
    parsing, character for character (`<{` -> ` {`, `}>` -> `} `), so that every
    diagnostic keeps its line and column; printing turns them back.
  * IRDL dialects reject what they do not declare: other TTIR/TTNN ops, attributes and
    types are parsed under a same-length unregistered namespace (`shadow_unmodelled`),
    the `ttcore.device_module` wrapper in generic form, and printed back as written.
  * The bindings' diagnostics cannot be emitted from inside a Python pass
    (the pass manager aborts on them), so diagnostics are plain records
    (`Diagnostic`) collected by us and printed by the driver.
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
    "new_context", "parse_module", "print_module", "location_of", "dense_to_numpy",
]

# Dialects whose ops are ours to model: their properties get the shim below.
_MODELLED = ("ttir", "ttnn")


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
        self.message = unshadow(self.message)  # users wrote `ttir.quantize`, not `TTIR.quantize`

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
# Properties shim (IRDL fallback only)
# --------------------------------------------------------------------------- #
_OP_START = re.compile(r'"(?:%s)\.[A-Za-z0-9_.]+"\(' % "|".join(_MODELLED))


_BLANK = " \t\r\n"
_BRACE_OR_QUOTE = re.compile(r'[{}"]|//')


def _matching_brace(text: str, i: int) -> int:
    """Index of the '}' closing the '{' at text[i], or -1 (strings and comments are skipped)."""
    depth, quoted, pos = 0, False, i
    while True:
        match = _BRACE_OR_QUOTE.search(text, pos)
        if not match:
            return -1
        ch, at = match.group(), match.start()
        pos = match.end()
        if quoted:
            if ch == '"' and not _escaped(text, at):
                quoted = False
        elif ch == "//":  # `// CHECK: {{.*}}` lines must not count
            newline = text.find("\n", at)
            if newline < 0:
                return -1
            pos = newline
        elif ch == '"':
            quoted = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return at


def _in_comment(text: str, at: int) -> bool:
    """Whether text[at] lies after `//` on its line (tests put op names in CHECK lines)."""
    return "//" in text[text.rfind("\n", 0, at) + 1:at]


def _escaped(text: str, at: int) -> bool:
    """Whether text[at] is preceded by an odd number of backslashes."""
    count = 0
    while at - count - 1 >= 0 and text[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _after_operands(text: str, i: int) -> int:
    """Given text[i] == '(' opening a generic op's operand list, index after it."""
    close = text.find(")", i)
    return -1 if close < 0 else close + 1


def properties_to_attributes(text: str) -> str:
    """`"ttir.x"(...) <{a}> {b}` -> `"ttir.x"(...)  {a,    b}`, same length, same lines."""
    out = list(text)
    for match in _OP_START.finditer(text):
        if _in_comment(text, match.start()):
            continue
        j = _after_operands(text, match.end() - 1)
        if j < 0:
            continue
        # tt-mlir's tests often put `<{` and each property on lines of their own.
        while j < len(text) and text[j] in _BLANK:
            j += 1
        if not text.startswith("<{", j):
            continue
        close = _matching_brace(text, j + 1)
        if close < 0 or close + 1 >= len(text) or text[close + 1] != ">":
            continue
        empty = text[j + 2:close].strip() == ""
        k = close + 2
        while k < len(text) and text[k] in _BLANK:
            k += 1
        has_dict = k < len(text) and text[k] == "{"
        if empty:  # `<{}>` disappears
            out[j:close + 2] = [" "] * (close + 2 - j)
        elif has_dict:  # merge into the following attribute dictionary
            out[j:j + 2] = [" ", "{"]
            out[close] = ","
            out[close + 1] = " "
            out[k] = " "
        else:
            out[j:j + 2] = [" ", "{"]
            out[close + 1] = " "
    return "".join(out)


_CUSTOM_EMPTY = re.compile(r"\bttir\.empty\(\)\s*:\s*(tensor<[^>]*>)")
_CUSTOM_FORM = re.compile(r'^([^"/]*?(?:=\s*|^\s*))((?:%s)\.[A-Za-z0-9_]+)\b' % "|".join(_MODELLED), re.M)


def custom_form_to_generic(text: str) -> str:
    """`ttir.empty() : T` (its custom form) -> `"ttir.empty"() : () -> T`; lines keep their numbers."""
    return _CUSTOM_EMPTY.sub(lambda m: f'"ttir.empty"() : () -> {m.group(1)}', text)


def custom_form_diagnostics(text: str, source_name: str) -> list[Diagnostic]:
    """IRDL ops have no custom assembly and their parse failures carry no diagnostic: find them."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _CUSTOM_FORM.match(line)
        if match:
            found.append(Diagnostic(
                "error", f"custom assembly of '{match.group(2)}' is not supported without ttmlir; "
                f"write the op in generic form (\"{match.group(2)}\"(...) : (...) -> ...)",
                source_name, number, len(match.group(1)) + 1))
    return found or [Diagnostic("error", "unable to parse the input", source_name, 0, 0)]


# IRDL dialects reject every op and attribute they do not declare ("unregistered
# operation 'ttir.quantize' found in dialect ('ttir') that does not allow unknown
# operations"); `allow_unregistered_dialects` does not reach into a loaded dialect.
# TTIR/TTNN ops, attributes and types we do not declare are therefore parsed under a
# same-length unregistered namespace (so columns stay) and printed back under their own.
_SHADOW = {"ttir": "TTIR", "ttnn": "TTNN"}
_GENERIC_NAME = re.compile(r'"(ttir|ttnn)\.([A-Za-z0-9_.$]+)"(?=\s*\()')
_DIALECT_SYMBOL = re.compile(r"[#!](ttir|ttnn)(?=[.<])")
_SHADOWED = re.compile(r'(?<=")(TTIR|TTNN)(?=\.[A-Za-z_])|(?<=[#!])(TTIR|TTNN)(?=[.<])')


_ALIAS_DEFINITION = re.compile(r"^([#!][A-Za-z_][\w$.-]*)[ \t]*=[ \t]*(.+)$", re.M)


def resolve_alias_definitions(text: str) -> str:
    """Inline aliases used inside other alias definitions, on the definition lines only.

    The body of an attribute of a dialect that is not loaded (`#ttcore...`, shadowed
    `#ttnn.ttnn_layout<..., #dram>`) is kept as raw text, so an alias inside it is never
    resolved and would be printed as a dangling `#dram`. Location aliases are left alone.
    """
    if "=" not in text or not _ALIAS_DEFINITION.search(text):
        return text
    values: dict[str, str] = {}

    def resolve(m):
        name, value = m.group(1), m.group(2)
        if value.startswith("loc("):
            return m.group(0)
        for alias, body in values.items():
            if alias in value:
                value = re.sub(re.escape(alias) + r"(?![\w$.-])", lambda _: body, value)
        values[name] = value.rstrip()
        return f"{name} = {value}"

    return _ALIAS_DEFINITION.sub(resolve, text)


def shadow_unmodelled(text: str) -> str:
    """`"ttir.quantize"(`, `#ttnn.ttnn_layout<`, `#ttir<flattened_compat ...>` -> TTIR/TTNN namespace."""
    from tt_dw_mlir.dialect.irdl import modelled_names

    ops, symbols = modelled_names()

    def op_name(m):
        if f"{m.group(1)}.{m.group(2)}" in ops:
            return m.group(0)
        return f'"{_SHADOW[m.group(1)]}.{m.group(2)}"'

    def symbol(m):
        end = m.end()
        while end < len(text) and (text[end].isalnum() or text[end] in "._"):
            end += 1
        if text[m.start():end] in symbols:
            return m.group(0)
        return m.group(0)[0] + _SHADOW[m.group(1)]

    if "ttir" not in text and "ttnn" not in text:
        return text
    return _DIALECT_SYMBOL.sub(symbol, _GENERIC_NAME.sub(op_name, text))


def unshadow(text: str) -> str:
    """Printing (and diagnostics) side of `shadow_unmodelled`."""
    if "TTIR" not in text and "TTNN" not in text:
        return text
    return _SHADOWED.sub(lambda m: (m.group(1) or m.group(2)).lower(), text)


# tt-mlir wraps device code in `ttcore.device_module { builtin.module {...} }` (and CPU code
# in `ttcore.cpu_module`), custom assembly `attr-dict-with-keyword $bodyRegion`
# (TTCoreOps.td). ttcore is not loaded here: parse them in generic form, print them back.
_MODULE_WRAPPER = re.compile(r"^([ \t]*)ttcore\.(device_module|cpu_module)\b[ \t]*(attributes\b[ \t]*)?", re.M)
_GENERIC_WRAPPER = re.compile(r'"ttcore\.(device_module|cpu_module)"\(\) \(\{')
_WRAPPER_TAIL = re.compile(r"\)( \{.*?\})? : \(\) -> \(\)")


def module_wrappers_to_generic(text: str) -> str:
    """`ttcore.device_module [attributes {A}] {R}` -> `"ttcore.device_module"() ({R}) {A} : () -> ()`.

    Line numbers stay (a multi-line {A} leaves its newlines behind).
    """
    if "ttcore." not in text:
        return text
    out, last = [], 0
    for match in _MODULE_WRAPPER.finditer(text):
        if match.start() < last:
            continue
        at_ = match.end()
        attributes = ""
        if match.group(3):
            if not text.startswith("{", at_):
                continue
            close = _matching_brace(text, at_)
            if close < 0:
                continue
            attributes = text[at_:close + 1]
            at_ = close + 1
            while at_ < len(text) and text[at_] in _BLANK:
                at_ += 1
        if not text.startswith("{", at_):
            continue
        region_end = _matching_brace(text, at_)
        if region_end < 0:
            continue
        header = f'{match.group(1)}"ttcore.{match.group(2)}"() ({{' + "\n" * attributes.count("\n")
        tail = "})" + (" " + " ".join(attributes.split()) if attributes else "") + " : () -> ()"
        out += [text[last:match.start()], header, text[at_ + 1:region_end], tail]
        last = region_end + 1
    out.append(text[last:])
    return "".join(out)


def module_wrappers_to_custom(text: str) -> str:
    """Printing side of `module_wrappers_to_generic`."""
    out, last = [], 0
    for match in _GENERIC_WRAPPER.finditer(text):
        open_at = match.end() - 1
        close = _matching_brace(text, open_at)
        tail = _WRAPPER_TAIL.match(text, close + 1) if close >= 0 else None
        if match.start() < last or not tail:
            continue
        keyword = f" attributes{tail.group(1)}" if tail.group(1) else ""
        out += [text[last:match.start()], f"ttcore.{match.group(1)}{keyword} {{", text[open_at + 1:close], "}"]
        last = tail.end()
    out.append(text[last:])
    return "".join(out)


_CONV2D = re.compile(r'"ttir\.conv2d"\(([^)\n]*)\)')  # not across lines: from a CHECK line into the op
# `(?:,\s*)?`, not `,?\s*`: the latter rescans every run of indentation (cubic on deep nesting).
# As printed: attribute dictionaries are sorted, and conv2d's required `dilation`
# and `groups` always come before it, so it is never first.
_SEGMENTS = re.compile(r", operandSegmentSizes = array<i32: [0-9, ]*>")


def _top_level_split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _is_bias_like(operand_type: str, result_type: str) -> bool:
    """A third conv operand is the bias unless it has the result's type and is not 1x1x1xC-like."""
    if operand_type != result_type:
        return True
    dims = re.findall(r"(\d+)x", operand_type)
    return sum(1 for d in dims if d != "1") <= 1


def conv2d_operand_segments(text: str) -> str:
    """Give each `ttir.conv2d` the operandSegmentSizes IRDL needs for its two optional operands.

    tt-mlir's conv2d has one optional bias (and, in older IR, a destination
    operand): C++ ODS infers which is which, IRDL needs the segment sizes. Only
    the rest of the op's line shifts; line numbers and the op's column stay.
    """
    out, last = [], 0
    for match in _CONV2D.finditer(text):
        if _in_comment(text, match.start()):  # `// CHECK: "ttir.conv2d"(%[[X]]` has no `)`
            continue
        operands = [o for o in match.group(1).split(",") if o.strip()]
        j = match.end()
        while j < len(text) and text[j] in _BLANK:
            j += 1
        attrs_end = _matching_brace(text, j) if j < len(text) and text[j] == "{" else -1
        start = attrs_end + 1 if attrs_end >= 0 else j
        while start < len(text) and text[start] in _BLANK:  # `}>` alone on its line, types below
            start += 1
        line_end = text.find("\n", start)
        signature = text[start:line_end if line_end >= 0 else len(text)]
        types_match = re.match(r"\s*:\s*\((.*)\)\s*->\s*(.*)$", signature)
        bias, destination = 0, 0
        if len(operands) >= 4:
            bias, destination = 1, len(operands) - 3
        elif len(operands) == 3:
            types = _top_level_split(types_match.group(1)) if types_match else []
            result = types_match.group(2).strip() if types_match else ""
            if len(types) == 3 and not _is_bias_like(types[2], result):
                destination = 1
            else:
                bias = 1
        segments = f"operandSegmentSizes = array<i32: {1 if operands else 0}, {1 if len(operands) >= 2 else 0}, {bias}, {destination}>"
        if attrs_end >= 0:
            body = text[j + 1:attrs_end].strip()
            out += [text[last:attrs_end], (", " if body else "") + segments]
            last = attrs_end
        else:
            out += [text[last:match.end()], " {" + segments + "}"]
            last = match.end()
    out.append(text[last:])
    return "".join(out)


def strip_operand_segments(text: str) -> str:
    """Printing side of `conv2d_operand_segments`."""
    return _SEGMENTS.sub("", text)


_PRINTED_ATTRS = re.compile(r'("(?:%s)\.[A-Za-z0-9_.]+"\([^)]*\)) \{' % "|".join(_MODELLED))


def attributes_to_properties(text: str) -> str:
    """Printing side of the shim: `"ttir.x"(...) {a}` -> `"ttir.x"(...) <{a}>`."""
    pieces, last = [], 0
    for match in _PRINTED_ATTRS.finditer(text):
        open_at = match.end() - 1
        close = _matching_brace(text, open_at)
        if close < 0 or match.start() < last:
            continue
        pieces += [text[last:match.start()], match.group(1), " <{", text[open_at + 1:close], "}>"]
        last = close + 1
    pieces.append(text[last:])
    return "".join(pieces)


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
    for token in _STRING_OR_END.finditer(text, start):
        if not token.group(1):
            at_ = token.start()
            line, col = text.count("\n", 0, at_) + 1, at_ - text.rfind("\n", 0, at_)
            return Diagnostic("error", "unterminated string in the resource section",
                              source_name, line, col)
    return None

def parse_module(text: str, context, source_name: str = "-"):
    """Parse `text` as a module (an implicit one is made around bare top-level ops).

    Raises DiagnosticError with located diagnostics on malformed input.
    """
    refused = nesting_diagnostic(text, source_name) or resource_section_diagnostic(text, source_name)
    if refused:
        raise DiagnosticError([refused])
    if not USING_TTMLIR:
        text = conv2d_operand_segments(custom_form_to_generic(properties_to_attributes(
            module_wrappers_to_generic(shadow_unmodelled(resolve_alias_definitions(text))))))

    def failure(error):
        found = diagnostics_of(error, source_name) if error.error_diagnostics else \
            custom_form_diagnostics(text, source_name)
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
        try:  # several (or no) top-level ops: wrap them as mlir-opt does
            return ir.Module.parse(text)
        except ir.MLIRError as error:
            raise failure(error) from None


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
    return module_wrappers_to_custom(unshadow(attributes_to_properties(strip_operand_segments(text))))


def verify(module, source_name: str | None = None) -> list[Diagnostic]:
    """The bindings' verifier, as diagnostics (empty when the module verifies)."""
    try:
        module.operation.verify()
        return []
    except ir.MLIRError as error:
        return diagnostics_of(error, source_name)


# --------------------------------------------------------------------------- #
# Dense constants <-> numpy (bf16 has no buffer protocol, so it goes via hex)
# --------------------------------------------------------------------------- #
_HEX = re.compile(r'dense<"0x([0-9A-Fa-f]*)">')
_NUMBER = re.compile(r"[-+]?(?:inf|nan|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)")


def _numpy_dtype(element_type):
    import numpy as np

    text = str(element_type)
    if text == "bf16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    table = {"f32": np.float32, "f16": np.float16, "f64": np.float64, "i32": np.int32,
             "i64": np.int64, "i8": np.int8, "i16": np.int16, "i1": np.bool_}
    if text not in table:
        raise ValueError(f"unsupported element type {text}")
    return np.dtype(table[text])


def dense_to_numpy(attr, resources: dict[str, bytes] | None = None):
    """A dense (or dense_resource) elements attribute as a float32 numpy array."""
    import numpy as np

    shaped = ir.ShapedType(attr.type)
    shape = tuple(shaped.shape)
    dtype = _numpy_dtype(shaped.element_type)
    text = str(attr)
    if text.startswith("dense_resource<"):
        name = text[len("dense_resource<"):text.index(">")]
        if not resources or name not in resources:
            raise ValueError(f"dense_resource blob '{name}' is not in the module's resources")
        data = resources[name]
        return np.frombuffer(data, dtype=dtype, count=int(np.prod(shape))).reshape(shape).astype(np.float32)
    found = _HEX.match(text)
    if found:
        data = bytes.fromhex(found.group(1))
        count = int(np.prod(shape))
        values = np.frombuffer(data, dtype=dtype)
        if values.size == 1 and count != 1:  # splat in hex form
            values = np.full(count, values[0], dtype=dtype)
        return values.reshape(shape).astype(np.float32)
    dense = ir.DenseElementsAttr(attr)
    if dense.is_splat:
        body = text[text.index("<") + 1:text.rindex(">")]
        return np.full(shape, float(_NUMBER.findall(body)[0]), dtype=np.float32)
    if str(shaped.element_type) != "bf16":
        return np.asarray(dense).astype(np.float32).reshape(shape)
    literal = text.rsplit(" : ", 1)[0]  # without the `: tensor<AxBx...>` type, whose sizes are numbers too
    body = literal[literal.index("<") + 1:literal.rindex(">")]
    return np.array([float(v) for v in _NUMBER.findall(body)], dtype=np.float32).reshape(shape)


def numpy_to_dense(values, element_type: str = "bf16"):
    """A float array as a dense elements attribute of `tensor<shape x element_type>` (needs a context)."""
    import numpy as np

    dtype = _numpy_dtype(element_type)
    array = np.ascontiguousarray(np.asarray(values, dtype=np.float32).astype(dtype))
    mlir_type = {"bf16": ir.BF16Type, "f32": ir.F32Type, "f16": ir.F16Type}[element_type].get()
    tensor_type = ir.RankedTensorType.get(list(array.shape), mlir_type)
    raw = array.view(np.uint16) if element_type == "bf16" else array
    return ir.DenseElementsAttr.get(raw, type=tensor_type)


_RESOURCE_SECTION = re.compile(r"\{-#(.*?)#-\}", re.S)
_BLOB = re.compile(r'([A-Za-z_][\w.$-]*)\s*:\s*"0x([0-9A-Fa-f]*)"')


def resource_blobs(text: str) -> dict[str, bytes]:
    """`dense_resource` blobs of a module's text (the bindings do not expose them).

    A blob's first 4 bytes are its alignment, as MLIR writes it; they are dropped.
    """
    blobs: dict[str, bytes] = {}
    for section in _RESOURCE_SECTION.findall(text):
        for name, hexdata in _BLOB.findall(section):
            blobs[name] = bytes.fromhex(hexdata)[4:]
    return blobs
