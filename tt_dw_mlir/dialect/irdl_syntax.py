"""What the IRDL fallback cannot parse as tt-mlir writes it, adapted in text at file input.

`to_irdl` runs once on the input text, before parsing (the file boundary). Every
rewrite keeps line numbers, and all but the ones noted keep columns, so a
diagnostic still points at what the user wrote:

  * properties `<{...}>`: IRDL ("extensible") ops have none; they become an
    attribute dictionary character for character (`<{` -> ` {`, `}>` -> `} `), or,
    before an op's regions, blanks and a dictionary after the regions (the line
    the regions close on shifts);
  * TTIR/TTNN attributes and types the subset does not declare: an IRDL dialect
    cannot parse them, so the outermost ones are parsed under a same-length
    unregistered namespace the text never spells (`#TTNN.ttnn_layout<...>`), as
    opaque attributes and types that `tt_dw_mlir.ir` rebuilds in their own dialect
    right after parsing;
  * `ttcore.device_module` / `cpu_module` wrappers: custom assembly of a dialect
    not loaded here, parsed in generic form;
  * `ttir.empty() : T`, the one custom form common in tt-mlir IR;
  * `ttir.conv2d`'s optional bias and destination operands: C++ ODS infers which
    is which, IRDL needs operandSegmentSizes (only the rest of that line shifts);
  * `weight_layout = #ttnn.depthwise_weight_layout<{...}>`, written by tt-dw-mlir
    before the layout became a builtin dictionary: the wrapper around the
    dictionary becomes blanks (`old_weight_layouts_to_dictionaries`).

TTIR/TTNN ops the subset does not declare keep their names: `tt_dw_mlir.ir` declares
them in the context, with the shape they are used with, before parsing
(`tt_dw_mlir.dialect.irdl.declare_ops`).

Printed IR is not rewritten (`tt_dw_mlir.ir.write_module`): our ops print their
attributes as a dictionary, which MLIR reads as properties (an op's inherent
attributes given in its dictionary are moved into its properties), ttcore
wrappers in generic form. Aliases are never rewritten (see `tt_dw_mlir.ir`:
definitions that opaque bodies refer to are printed with the module as written).

Not used when tt-mlir's own bindings (`ttmlir`) are importable.
"""

from __future__ import annotations

import re

from tt_dw_mlir.diagnostics import Diagnostic

# Dialects whose ops are ours to model: their properties get the shims below.
_MODELLED = ("ttir", "ttnn")


def to_irdl(text: str, *, shadow: dict[str, str] | None = None) -> str:
    """Input side: tt-mlir's textual IR -> what the IRDL subset parses.

    `shadow`: the namespaces (`shadow_namespaces`) to parse undeclared attributes and
    types under; None leaves them as written (for a module known, or hoped, to use only
    the declared ones)."""
    text = old_weight_layouts_to_dictionaries(text)
    if shadow:
        text = shadow_unmodelled(text, shadow)
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
    # One pass over every `) <{`: at 10k blocks, 30,000 convs; the helpers' common cases
    # are inlined (`_in_comment`, `_dict_end`, `_conv2d_segments` without a third operand).
    size, rfind, find, flat_dict = len(text), text.rfind, text.find, _FLAT_DICT.match
    for match in _PROPERTIES_START.finditer(text):
        close_operands = match.start()
        if close_operands < last:
            continue
        open_operands = rfind("(", 0, close_operands)
        if open_operands < 1 or text[open_operands - 1] != '"':
            continue
        quote = rfind('"', 0, open_operands - 1)
        name = text[quote + 1:open_operands - 1]
        if quote < 0 or not _MODELLED_OP_NAME.fullmatch(name) or \
                find("//", rfind("\n", 0, quote) + 1, quote) >= 0 or \
                find('"', open_operands, close_operands) >= 0:
            continue
        j = match.end() - 2
        flat = flat_dict(text, j + 1)
        close = flat.end() - 1 if flat else _matching_brace(text, j + 1)
        if close < 0 or close + 1 >= size or text[close + 1] != ">":
            continue
        k = close + 2
        while k < size and text[k] in _BLANK:
            k += 1
        body = text[j + 2:close]
        segments = ""
        if name == "ttir.conv2d" and "operandSegmentSizes" not in body:
            operands = [o for o in text[open_operands + 1:close_operands].split(",") if o.strip()]
            if len(operands) in (2, 4):  # input, weight (, bias, destination): no types to read
                segments = _SEGMENTS_2 if len(operands) == 2 else _SEGMENTS_4
                segmented += 1
            else:
                types_at = k
                if k < size and text[k] == "{":  # the types follow the next dictionary
                    types_at = _dict_end(text, k) + 1
                if types_at > 0:
                    segments = _conv2d_segments(text, operands, types_at)
                    segmented += 1
        if not body.strip() and not segments:  # `<{}>` disappears
            pieces += [text[last:j], " " * (close + 2 - j)]
            last = close + 2
        elif not segments and (regions_end := _region_list_end(text, k)) > 0:
            # `<{a}> ({...}) {b}`: the attribute dictionary follows the regions. The
            # properties become blanks (lines stay), their body goes after the regions (on
            # one line: a string never spans lines), whose ops are adapted in turn.
            inner, inner_segmented = _properties_to_attributes(text[close + 2:regions_end])
            segmented += inner_segmented
            after = regions_end
            while after < len(text) and text[after] in _BLANK:
                after += 1
            flat = body.replace("\n", " ").strip()
            blanks = "".join("\n" if c == "\n" else " " for c in text[j:close + 2])
            if after < len(text) and text[after] == "{":
                pieces += [text[last:j], blanks, inner, text[regions_end:after], "{", flat,
                           ", " if flat else "", " "]
                last = after + 1
            else:
                pieces += [text[last:j], blanks, inner, " {", flat, "}"]
                last = regions_end
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


def _region_list_end(text: str, i: int) -> int:
    """Given an op's region list `({...}, {...})` at text[i], the index after its ')'; else -1."""
    if i >= len(text) or text[i] != "(":
        return -1
    pos = i + 1
    while True:
        while pos < len(text) and text[pos] in _BLANK:
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            return -1
        close = _matching_brace(text, pos)
        if close < 0:
            return -1
        pos = close + 1
        while pos < len(text) and text[pos] in _BLANK:
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] == ")":
            return pos + 1
        else:
            return -1


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


# IRDL dialects reject every attribute and type they do not declare, and cannot parse a
# custom syntax (`#ttnn.ttnn_layout<(d0) -> (d0), ...>`); `allow_unregistered_dialects`
# does not reach into a loaded dialect. The outermost TTIR/TTNN attributes and types the
# subset does not declare are therefore parsed under a same-length unregistered namespace
# (columns stay), as opaque attributes and types; `tt_dw_mlir.ir` rebuilds them under
# their own dialect right after parsing (an opaque attribute of a loaded dialect is
# valid IR and prints as written). A body of an attribute of a dialect not loaded is
# kept as text by the parser: what is nested in one is left as written.
MODELLED_DIALECTS = ("ttir", "ttnn")
_GENERIC_NAME = re.compile(r'"((?:ttir|ttnn)\.[A-Za-z0-9_.$]+)"(?=\s*\()')
# What the scan for outermost dialect attributes and types steps over: strings, comments,
# and attributes/types of a dialect, `#d.name<`, `#d<`, `!d.name` (pretty or bare).
_SYMBOL_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"?|//[^\n]*|[#!][A-Za-z_][\w$]*(?:\.[\w$.]+|(?=<))')
_OPENERS, _CLOSERS = "<[({", ">])}"


def undeclared_op_names(text: str) -> set[str]:
    """The TTIR/TTNN op names (generic form) in `text` the IRDL subset does not declare."""
    from tt_dw_mlir.dialect.irdl import modelled_names

    if '"ttir.' not in text and '"ttnn.' not in text:
        return set()
    ops = modelled_names()[0]
    return {name for name in set(_GENERIC_NAME.findall(text)) if name not in ops}


def _body_end(text: str, i: int) -> int:
    """Given text[i] == '<' opening a dialect symbol's body, the index after its '>'
    (the lexer's rule: brackets nest, `->` is one token, strings are skipped); -1 if none."""
    depth, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _OPENERS:
            depth += 1
        elif ch == "-" and text.startswith("->", i):
            i += 1
        elif ch in _CLOSERS:
            depth -= 1
            if depth == 0:
                return i + 1
        elif ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        i += 1
    return -1


def shadow_namespaces(text: str) -> dict[str, str]:
    """dialect -> a same-length namespace `text` never spells (`TTNN`, else another spelling
    of the name: `TtNN`, ...), so that what is rebuilt after parsing is only what was shadowed."""
    found = {}
    for dialect in MODELLED_DIALECTS:
        spellings = ("".join(c.upper() if bit == "1" else c for c, bit in zip(dialect, f"{n:04b}"))
                     for n in range(15, 0, -1))
        found[dialect] = next((name for name in spellings if name not in text), dialect.upper())
    return found


def shadow_unmodelled(text: str, namespaces: dict[str, str] | None = None) -> str:
    """`#ttnn.ttnn_layout<...>`, `!ttnn.device`, `#ttir<...>` -> the shadow namespace
    (`namespaces`, default `shadow_namespaces(text)`), for the outermost ones the subset
    does not declare (not inside another dialect's body)."""
    from tt_dw_mlir.dialect.irdl import modelled_names

    if not any(p in text for p in ("#ttir", "#ttnn", "!ttir", "!ttnn")):
        return text
    namespaces = namespaces or shadow_namespaces(text)
    symbols = modelled_names()[1]
    pieces, last, pos = [], 0, 0
    while True:
        match = _SYMBOL_TOKENS.search(text, pos)
        if not match:
            break
        token, pos = match.group(), match.end()
        if token[0] not in "#!":
            continue
        dialect = token[1:].split(".", 1)[0]
        if dialect in namespaces and token not in symbols:
            pieces += [text[last:match.start() + 1], namespaces[dialect]]
            last = match.start() + 1 + len(dialect)
        elif dialect in namespaces:
            continue  # declared (IRDL's own syntax, builtin parameters): look inside
        if pos < len(text) and text[pos] == "<":  # its body is the dialect's text
            end = _body_end(text, pos)
            pos = end if end > 0 else len(text)
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


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


_SEGMENTS_2 = "operandSegmentSizes = array<i32: 1, 1, 0, 0>"
_SEGMENTS_4 = "operandSegmentSizes = array<i32: 1, 1, 1, 1>"


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
