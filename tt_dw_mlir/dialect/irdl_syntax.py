"""What the IRDL fallback cannot parse as tt-mlir writes it, adapted in text at file input.

`to_irdl` runs once on the input text, before parsing (the file boundary). Every
rewrite keeps line numbers, and all but the ones noted keep columns, so a
diagnostic still points at what the user wrote:

  * properties `<{...}>`: IRDL ("extensible") ops have none; they become an
    attribute dictionary character for character (`<{` -> ` {`, `}>` -> `} `);
  * TTIR/TTNN ops, attributes and types the subset does not declare: an IRDL
    dialect refuses unknown ones, so they are parsed under a same-length
    unregistered namespace (`TTIR`, `TTNN`);
  * `ttcore.device_module` / `cpu_module` wrappers: custom assembly of a dialect
    not loaded here, parsed in generic form;
  * `ttir.empty() : T`, the one custom form common in tt-mlir IR;
  * `ttir.conv2d`'s optional bias and destination operands: C++ ODS infers which
    is which, IRDL needs operandSegmentSizes (only the rest of that line shifts);
  * `weight_layout = #ttnn.depthwise_weight_layout<{...}>`, written by tt-dw-mlir
    before the layout became a builtin dictionary: the wrapper around the
    dictionary becomes blanks (`old_weight_layouts_to_dictionaries`).

Printed IR is not rewritten (`tt_dw_mlir.ir.write_module`): our ops print their
attributes as a dictionary, which MLIR reads as properties (an op's inherent
attributes given in its dictionary are moved into its properties), ttcore
wrappers in generic form. Only the shadow names of unmodelled ops are written
back under their own dialect (`unshadow`), when a module has any: IRDL leaves no
other name to hold them. Aliases are never rewritten (see `tt_dw_mlir.ir`:
definitions that opaque bodies refer to are printed with the module as written).

Not used when tt-mlir's own bindings (`ttmlir`) are importable.
"""

from __future__ import annotations

import re

from tt_dw_mlir.diagnostics import Diagnostic

# Dialects whose ops are ours to model: their properties get the shims below.
_MODELLED = ("ttir", "ttnn")


def to_irdl(text: str, *, shadow: bool = True) -> str:
    """Input side: tt-mlir's textual IR -> what the IRDL subset parses.

    `shadow=False` leaves out the shadow names of undeclared ops, attributes and types
    (for a module known, or hoped, to use only the declared ones)."""
    text = old_weight_layouts_to_dictionaries(text)
    if shadow:
        text = shadow_unmodelled(text)
    text = module_wrappers_to_generic(text)
    text, segmented = _properties_to_attributes(text)
    text = custom_form_to_generic(text)
    if text.count('"ttir.conv2d"(') == segmented:  # each had properties: segmented with them
        return text
    return conv2d_operand_segments(text)


_OP_START = re.compile(r'"(?:%s)\.[A-Za-z0-9_.]+"\(' % "|".join(_MODELLED))


_BLANK = " \t\r\n"
_BRACE_OR_QUOTE = re.compile(r'[{}"]|//')


def _matching_brace(text: str, i: int) -> int:
    """Index of the '}' closing the '{' at text[i], or -1 (strings and comments are skipped)."""
    depth, pos = 0, i
    while True:
        match = _BRACE_OR_QUOTE.search(text, pos)
        if not match:
            return -1
        ch, at = match.group(), match.start()
        pos = match.end()
        if ch == "//":  # `// CHECK: {{.*}}` lines must not count
            newline = text.find("\n", at)
            if newline < 0:
                return -1
            pos = newline
        elif ch == '"':  # to the closing quote (str.find: a dense hex string is megabytes long)
            while True:
                pos = text.find('"', pos)
                if pos < 0:
                    return -1
                pos += 1
                if not _escaped(text, pos - 1):
                    break
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return at


def _in_comment(text: str, at: int) -> bool:
    """Whether text[at] lies after `//` on its line (tests put op names in CHECK lines)."""
    return text.find("//", text.rfind("\n", 0, at) + 1, at) >= 0


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


# A dictionary without nested braces, strings or comments (most properties) ends at its
# first '}': found by the regex engine; others are scanned by `_matching_brace`.
_FLAT_DICT = re.compile(r'\{[^{}"/]*\}')


def _dict_end(text: str, i: int) -> int:
    """Index of the '}' closing the '{' at text[i], or -1."""
    flat = _FLAT_DICT.match(text, i)
    return flat.end() - 1 if flat else _matching_brace(text, i)


# Where properties can start: `)` closing an operand list, blanks, `<{`. The op they belong
# to is read backwards from there (a module has far fewer properties than ops).
_PROPERTIES_START = re.compile(r"\)[ \t\r\n]*<\{")
_MODELLED_OP_NAME = re.compile(r"(?:%s)\.[A-Za-z0-9_.]+" % "|".join(_MODELLED))


def properties_to_attributes(text: str) -> str:
    """`"ttir.x"(...) <{a}> {b}` -> `"ttir.x"(...)  {a,    b}`, same length, same lines.

    A `ttir.conv2d`'s dictionary gets its operandSegmentSizes here too (see
    `conv2d_operand_segments`)."""
    return _properties_to_attributes(text)[0]


def _properties_to_attributes(text: str) -> tuple[str, int]:
    """(`properties_to_attributes(text)`, how many `ttir.conv2d` got their segments)."""
    if "<{" not in text:
        return text, 0
    pieces, last, segmented = [], 0, 0
    for match in _PROPERTIES_START.finditer(text):
        close_operands = match.start()
        if close_operands < last:
            continue
        open_operands = text.rfind("(", 0, close_operands)
        if open_operands < 1 or text[open_operands - 1] != '"':
            continue
        quote = text.rfind('"', 0, open_operands - 1)
        name = text[quote + 1:open_operands - 1]
        if quote < 0 or not _MODELLED_OP_NAME.fullmatch(name) or _in_comment(text, quote) or \
                text.find('"', open_operands, close_operands) >= 0:
            continue
        j = match.end() - 2
        close = _dict_end(text, j + 1)
        if close < 0 or close + 1 >= len(text) or text[close + 1] != ">":
            continue
        k = close + 2
        while k < len(text) and text[k] in _BLANK:
            k += 1
        body = text[j + 2:close]
        segments = ""
        if name == "ttir.conv2d" and "operandSegmentSizes" not in body:
            operands = [o for o in text[open_operands + 1:close_operands].split(",") if o.strip()]
            types_at = k
            if k < len(text) and text[k] == "{":  # the types follow the next dictionary
                types_at = _dict_end(text, k) + 1
            if types_at > 0:
                segments = _conv2d_segments(text, operands, types_at)
                segmented += 1
        if not body.strip() and not segments:  # `<{}>` disappears
            pieces += [text[last:j], " " * (close + 2 - j)]
            last = close + 2
        elif k < len(text) and text[k] == "{":  # merge into the following attribute dictionary
            pieces += [text[last:j], " {", body, ", " if body.strip() else "", segments,
                       ", " if segments else "", text[close + 2:k], " "]
            last = k + 1
        else:
            pieces += [text[last:j], " {", body, (", " if body.strip() else "") + segments if segments else "",
                       "} "]
            last = close + 2
    pieces.append(text[last:])
    return "".join(pieces), segmented


# Earlier versions declared the layout as an IRDL attribute wrapping this dictionary; the
# bindings could neither build nor read it (dialect/ttnn.py), so it is a dictionary now.
_OLD_WEIGHT_LAYOUT = "#ttnn.depthwise_weight_layout<"


def old_weight_layouts_to_dictionaries(text: str) -> str:
    """`#ttnn.depthwise_weight_layout<{fields}>` -> `{fields}` padded with blanks, same length."""
    at = text.find(_OLD_WEIGHT_LAYOUT)
    if at < 0:
        return text
    pieces, last = [], 0
    while at >= 0:
        brace = at + len(_OLD_WEIGHT_LAYOUT)
        close = _matching_brace(text, brace) if text.startswith("{", brace) else -1
        if close >= 0 and text.startswith(">", close + 1) and not _in_comment(text, at):
            pieces += [text[last:at], " " * len(_OLD_WEIGHT_LAYOUT), text[brace:close + 1], " "]
            last = close + 2
        at = text.find(_OLD_WEIGHT_LAYOUT, max(at + 1, close + 2))
    pieces.append(text[last:])
    return "".join(pieces)


_CUSTOM_EMPTY = re.compile(r"\bttir\.empty\(\)\s*:\s*(tensor<[^>]*>)")
_CUSTOM_FORM = re.compile(r'^([^"/]*?(?:=\s*|^\s*))((?:%s)\.[A-Za-z0-9_]+)\b' % "|".join(_MODELLED), re.M)


def custom_form_to_generic(text: str) -> str:
    """`ttir.empty() : T` (its custom form) -> `"ttir.empty"() : () -> T`; lines keep their numbers."""
    if "ttir.empty(" not in text:  # the pattern has no literal prefix: scanning for it is slow
        return text
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
    if not found:  # a bare op name elsewhere on a line, e.g. glued after a type
        for number, line in enumerate(text.splitlines(), start=1):
            match = _BARE_OP_NAME.search(line.split("//", 1)[0])
            if match:
                return [Diagnostic("error", f"unexpected custom op '{match.group(1)}' here: without "
                                   "ttmlir, TTIR/TTNN ops are written in generic form",
                                   source_name, number, match.start(1) + 1)]
    return found or [Diagnostic("error", "unable to parse the input", source_name, 0, 0)]


# An unquoted op name of a modelled dialect: not a generic "ttir.x", #attr or !type.
_BARE_OP_NAME = re.compile(r'(?<![\w."#!$%%@^/-])((?:%s)\.[A-Za-z0-9_]+)(?!["\w.])' % "|".join(_MODELLED))


# IRDL dialects reject every op and attribute they do not declare ("unregistered
# operation 'ttir.quantize' found in dialect ('ttir') that does not allow unknown
# operations"); `allow_unregistered_dialects` does not reach into a loaded dialect.
# TTIR/TTNN ops, attributes and types we do not declare are therefore parsed under a
# same-length unregistered namespace (so columns stay) and printed back under their own.
_SHADOW = {"ttir": "TTIR", "ttnn": "TTNN"}
_GENERIC_NAME = re.compile(r'"(ttir|ttnn)\.([A-Za-z0-9_.$]+)"(?=\s*\()')
_DIALECT_SYMBOL = re.compile(r"[#!](ttir|ttnn)(?=[.<])")
_SHADOWED = re.compile(r'(?<=")(TTIR|TTNN)(?=\.[A-Za-z_])|(?<=[#!])(TTIR|TTNN)(?=[.<])')


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
    # Most modules use only modelled ops: find the names first, rewrite only if needed.
    if any(f"{d}.{n}" not in ops for d, n in set(_GENERIC_NAME.findall(text))):
        text = _GENERIC_NAME.sub(op_name, text)
    if "#ttir" in text or "#ttnn" in text or "!ttir" in text or "!ttnn" in text:
        text = _DIALECT_SYMBOL.sub(symbol, text)
    return text


def unshadow(text: str) -> str:
    """Printing (and diagnostics) side of `shadow_unmodelled`."""
    if "TTIR" not in text and "TTNN" not in text:
        return text
    return _SHADOWED.sub(lambda m: (m.group(1) or m.group(2)).lower(), text)


# tt-mlir wraps device code in `ttcore.device_module { builtin.module {...} }` (and CPU code
# in `ttcore.cpu_module`), custom assembly `attr-dict-with-keyword $bodyRegion`
# (TTCoreOps.td). ttcore is not loaded here: parse them in generic form, print them back.
_MODULE_WRAPPER = re.compile(r"^([ \t]*)ttcore\.(device_module|cpu_module)\b[ \t]*(attributes\b[ \t]*)?", re.M)


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


_CONV2D = re.compile(r'"ttir\.conv2d"\(([^)\n]*)\)')  # not across lines: from a CHECK line into the op
_SIGNATURE = re.compile(r"\s*:\s*\((.*)\)\s*->\s*(.*)$")


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


def _conv2d_segments(text: str, operands: list[str], start: int) -> str:
    """The operandSegmentSizes of a conv2d with `operands`, its types written at `start`
    (after its attribute dictionary; read only to tell a bias from a destination)."""
    while start < len(text) and text[start] in _BLANK:  # `}>` alone on its line, types below
        start += 1
    bias, destination = 0, 0
    if len(operands) >= 4:
        bias, destination = 1, len(operands) - 3
    elif len(operands) == 3:
        line_end = text.find("\n", start)
        types_match = _SIGNATURE.match(text[start:line_end if line_end >= 0 else len(text)])
        types = _top_level_split(types_match.group(1)) if types_match else []
        result = types_match.group(2).strip() if types_match else ""
        if len(types) == 3 and not _is_bias_like(types[2], result):
            destination = 1
        else:
            bias = 1
    return (f"operandSegmentSizes = array<i32: {1 if operands else 0}, {1 if len(operands) >= 2 else 0}, "
            f"{bias}, {destination}>")


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
        attrs_end = _dict_end(text, j) if j < len(text) and text[j] == "{" else -1
        if attrs_end >= 0 and "operandSegmentSizes" in text[j:attrs_end]:
            continue  # printed by us (IRDL's form) and read back: the segments are given
        segments = _conv2d_segments(text, operands, attrs_end + 1 if attrs_end >= 0 else j)
        if attrs_end >= 0:
            body = text[j + 1:attrs_end].strip()
            out += [text[last:attrs_end], (", " if body else "") + segments]
            last = attrs_end
        else:
            out += [text[last:match.end()], " {" + segments + "}"]
            last = match.end()
    out.append(text[last:])
    return "".join(out)
