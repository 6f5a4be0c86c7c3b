"""The one module that knows which MLIR bindings are in use.

Where tt-mlir's own Python package (`ttmlir`) is importable, its bindings and
its real TTIR/TTNN dialects are used. Otherwise the upstream MLIR bindings from
PyPI are used and our IRDL subset of TTIR/TTNN is loaded at run time
(`tt_dw_mlir.dialect.irdl`). Everything else in the package imports MLIR from
here: `from tt_dw_mlir.ir import ir, passmanager`.

In the IRDL fallback, input text goes once through `tt_dw_mlir.dialect.irdl_syntax`:
it adapts what IRDL cannot parse (properties, custom forms, undeclared TTIR/TTNN
attributes and types, ...) keeping every line and column, so diagnostics point at the
user's text. TTIR/TTNN ops the subset does not declare are declared in the context on
demand, and undeclared attributes and types are rebuilt under their own dialect right
after parsing (`_parse_text`): the module holds every name as written, and printed IR
is written as MLIR's C++ printer writes it (`write_module`), never rewritten.

Diagnostics are plain records (`tt_dw_mlir.diagnostics.Diagnostic`, re-exported
here) collected by us and printed by the driver: the bindings' own cannot be
emitted from inside a Python pass (the pass manager aborts on them).

Parsing, printing and verifying run on a thread with a large stack, behind limits
checked on the text (the parser's recursion) and on the parsed IR (nesting after
alias substitution, printed size): see "What the C++ parser and printer can take"
below. Input that passes them is printed as IR that passes them again.
"""

from __future__ import annotations

import os
import re
import threading

from tt_dw_mlir.diagnostics import Diagnostic, DiagnosticError, at_offset

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

    from tt_dw_mlir.dialect import irdl_syntax

# What the plugin builds ops of through the bindings (an op of a dialect not loaded would be
# built unregistered) and runs besides its own passes. Every context loads these dialects
# up front; a process that registers only what it uses (`tt_dw_mlir.register_only_what_we_use`)
# registers these and nothing else.
BUILT_DIALECTS = ("func", "irdl")
UPSTREAM_PASSES = ("canonicalize",)


def c_api_library():
    """The bindings' C API library (the one their extension module links), through ctypes:
    for the C API functions the Python bindings do not expose."""
    if not hasattr(c_api_library, "lib"):
        import ctypes
        from pathlib import Path

        libs = Path(ir.__file__).resolve().parent / "_mlir_libs"  # mlir/ or ttmlir/
        found = sorted(libs.glob("lib*PythonCAPI*.so*")) + sorted(libs.glob("lib*PythonCAPI*.dylib"))
        if not found:
            raise ImportError(f"the MLIR C API library is not in {libs}")
        c_api_library.lib = ctypes.CDLL(str(found[0]))
    return c_api_library.lib


def c_api_pointer(capsule) -> int:
    """The C API handle inside a bindings object's `_CAPIPtr` capsule."""
    import ctypes

    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.argtypes, get_name.restype = [ctypes.py_object], ctypes.c_char_p
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.argtypes, get_pointer.restype = [ctypes.py_object, ctypes.c_char_p], ctypes.c_void_p
    return get_pointer(capsule, get_name(capsule))


def _register_what_we_use() -> None:
    """BUILT_DIALECTS and UPSTREAM_PASSES into bindings initialised without
    `_mlirRegisterEverything` (through the C API: the bindings register only in bulk)."""
    import ctypes
    import sys

    if USING_TTMLIR or sys.modules.get("mlir._mlir_libs._mlirRegisterEverything") is not None:
        return
    from mlir._mlir_libs import get_dialect_registry

    lib = c_api_library()
    registry = ctypes.c_void_p(c_api_pointer(get_dialect_registry()._CAPIPtr))
    lib.mlirDialectHandleInsertDialect.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    for dialect in BUILT_DIALECTS:
        handle = getattr(lib, f"mlirGetDialectHandle__{dialect}__")
        handle.restype = ctypes.c_void_p
        lib.mlirDialectHandleInsertDialect(handle(), registry)
    lib.mlirRegisterTransformsCanonicalizer()  # UPSTREAM_PASSES


_register_what_we_use()

__all__ = [
    "ir", "passmanager", "USING_TTMLIR", "Diagnostic", "DiagnosticError", "BUILT_DIALECTS",
    "c_api_library", "c_api_pointer",
    "new_context", "parse_module", "print_module", "write_module", "verify", "diagnostics_of", "at",
    "location_of", "name_of", "ops_named", "on_large_stack",
]

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
    append, advance = found.append, ir.WalkResult.ADVANCE

    def visit(op):
        if op.name == name:
            append(op)
        return advance

    root.walk(visit)
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
    """A context with the TTIR/TTNN dialects available (real ones, or our IRDL subset).

    Every upstream dialect stays registered and the parser loads the ones an input uses,
    as mlir-opt does; only those the plugin builds ops of (`func`; `irdl` for the subset)
    are loaded up front. The bindings' default, loading all ~40 at once, costs every
    process ~10-15 ms and ~19 MiB (and canonicalize then collects every dialect's patterns)."""
    context = ir.Context() if USING_TTMLIR else ir.Context(load_on_create_dialects=list(BUILT_DIALECTS))
    # Dialects we do not model (ttcore attributes, other ops) pass through untouched.
    context.allow_unregistered_dialects = allow_unregistered
    # One thread: with MLIR's thread pool, verifying a module of several functions runs on
    # worker threads, and a diagnostic there reaches the bindings' Python error capture
    # without the GIL (nanobind aborts the process: "incref_check(): ... while the GIL
    # was not held"; llvm/llvm-project issue 215781, fix proposed in PR 215848). The
    # passes here are Python, run on the caller's thread either way.
    context.enable_multithreading(False)
    if not USING_TTMLIR:
        from tt_dw_mlir.dialect.irdl import load_subset

        load_subset(context)
    return context


# --------------------------------------------------------------------------- #
# What the C++ parser and printer can take
# --------------------------------------------------------------------------- #
# The MLIR parser, printer and verifier recurse once (or more) per nesting level of
# regions, attributes, types and affine expressions. On the 8 MiB main-thread stack the
# parser overflows (SIGSEGV) near 2,500 nested regions, 30,000 nested brackets or unary
# minus signs, and the printer on 100,000-term affine expressions (MLIR 22 bindings;
# reproduced by test/unit/test_driver_fuzz.py). All MLIR work is therefore done on a
# thread with a 256 MiB stack, which took 60,000 levels of every kind in those
# experiments, and two limits keep far below it:
#
#   * PARSER_NESTING_LIMIT, checked on the text before parsing: an upper bound of the
#     parser's recursion, counted on MLIR's own tokens (strings and `//` comments skipped,
#     `->` and `>=` are not brackets, a run of unary minus signs recurses once per sign).
#     It may over-count (an opaque dialect body), never under-count.
#   * MAX_NESTING, checked on the parsed IR: regions, and attributes, types and affine
#     expressions as the printer writes them out, i.e. after alias substitution (an alias
#     chain is shallow in the text and deep in the IR). Only IR of depth <= MAX_NESTING is
#     accepted, so printed output (at most a few brackets per IR level) is always far
#     below PARSER_NESTING_LIMIT and parses again to the same IR.
#
# Aliases are resolved by the parser to shared (uniqued) attributes, and the printer
# writes a shared attribute out at every use: `#a1 = [#a0, #a0]`, `#a2 = [#a1, #a1]`, ...
# doubles at every step. The printed size is measured on the IR (each distinct attribute
# once) and refused above MAX_PRINTED_ELEMENTS before anything is printed.
PARSER_NESTING_LIMIT = 20_000
MAX_NESTING = 1000
MAX_PRINTED_ELEMENTS = 2_000_000  # plus 8 per input byte: ~10x the input when printed
LARGE_STACK_BYTES = 256 << 20

_on_large_stack = threading.local()
_worker_lock = threading.Lock()
_worker_requests: list = []  # [queue] once the worker runs


def _forget_worker_after_fork() -> None:
    """A forked child has no worker thread (fork copies only the calling thread): it starts
    its own on first use instead of queueing requests nobody serves."""
    global _worker_lock
    _worker_lock = threading.Lock()
    _worker_requests.clear()


os.register_at_fork(after_in_child=_forget_worker_after_fork)


def _large_stack_worker(requests) -> None:
    _on_large_stack.active = True
    while True:
        fn, args, kwargs, outcome, done = requests.get()
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - handed to the calling thread
            outcome["error"] = error
        finally:
            del fn, args, kwargs  # the IR they hold belongs to the caller now
            done.set()


def on_large_stack(fn, *args, **kwargs):
    """`fn(*args, **kwargs)` on the one worker thread with a LARGE_STACK_BYTES stack.

    Inline when already on it; calls from other threads take turns (an MLIR context is
    not used from two threads at once anyway). One long-lived thread, not one per call:
    a thread costs its stack's address space and, in glibc, a malloc arena of its own.
    """
    if getattr(_on_large_stack, "active", False):
        return fn(*args, **kwargs)
    import queue

    with _worker_lock:
        if not _worker_requests:
            requests = queue.SimpleQueue()
            previous = threading.stack_size(LARGE_STACK_BYTES)  # process-wide: for this thread only
            try:
                threading.Thread(target=_large_stack_worker, args=(requests,), daemon=True,
                                 name="tt-dw-mlir-large-stack").start()
            finally:
                threading.stack_size(previous)
            _worker_requests.append(requests)
        outcome: dict = {}
        done = threading.Event()
        _worker_requests[0].put((fn, args, kwargs, outcome, done))
        done.wait()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# Strings (which cannot span lines) and comments: brackets inside them are not tokens.
_SKIPPED = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?|//[^\n]*')
_STRING = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?')
# Letters, digits and blanks go; other punctuation stays as a separator, so that `>`
# and an `=` of a later token never meet (`array<i32: 1>, padding = ...`).
_LETTERS_AND_BLANKS = bytes(c for c in range(128) if chr(c).isalnum() or chr(c) in " \t\r\n_") \
    + bytes(range(128, 256))
_CLOSER_OF_GE = re.compile(r">(?=\s*=)")  # the lexer reads `>` `=` as `>=` across blanks
_MINUS_RUN = re.compile(r"-(?:[\s(\[{<]*-(?!>))+")


def _depth_table(dtype="int32"):
    import numpy as np

    table = np.zeros(256, dtype)
    table[list(b"([{<")] = 1
    table[list(b")]}>")] = -1
    return table


_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"([{<)]}>")


def nesting_bound(text: str) -> int:
    """An upper bound of the parser's recursion depth on `text` (fast; see above)."""
    if len(text) < 1 << 20:  # a small text holding few brackets needs no more than counting them
        openers = sum(text.count(ch) for ch in "([{<-")
        if openers <= MAX_NESTING:
            return openers
    import numpy as np

    if "//" in text:
        text = _SKIPPED.sub("", text)
    elif '"' in text:  # a literal first character: the regex engine skips ahead fast
        text = _STRING.sub("", text)
    # Punctuation only; then `->` and `>=` are not brackets. Deleting the blanks between
    # them may join `- >` into `->`: one closer fewer, an over-count.
    kept = text.encode("utf-8", "replace").translate(None, _LETTERS_AND_BLANKS)
    kept = kept.replace(b"->", b"").replace(b">=", b"").translate(None, _NOT_BRACKETS)
    depth = np.cumsum(_depth_table("int8")[np.frombuffer(kept, np.uint8)], dtype=np.int64)
    minus_run = max((run.count("-") for run in _MINUS_RUN.findall(text)), default=1)
    return int(depth.max(initial=0)) + minus_run


def nesting_diagnostic(text: str, source_name: str = "-", limit: int = PARSER_NESTING_LIMIT) -> Diagnostic | None:
    """An error at the first token the parser would reach more than `limit` levels deep, or None.

    The exact, per-position form of `nesting_bound` (slow; only run when the bound exceeds).
    """
    import numpy as np

    blanked = _SKIPPED.sub(lambda m: " " * len(m.group()), text)
    blanked = _CLOSER_OF_GE.sub(" ", blanked.replace("->", "  "))
    codes = np.frombuffer(blanked.encode("utf-32-le"), np.uint32)
    small = np.minimum(codes, 255).astype(np.uint8)
    depth = np.cumsum(_depth_table()[small], dtype=np.int64)
    minus = small == ord("-")
    if minus.any():  # a run of `-` separated only by blanks and openers
        continues_run = np.zeros(256, bool)
        continues_run[list(b" \t\r\n([{<-")] = True
        counted = np.cumsum(minus, dtype=np.int64)
        reset_at = np.where(continues_run[small], -1, np.arange(len(small)))
        last_reset = np.maximum.accumulate(reset_at)
        depth = depth + counted - np.where(last_reset >= 0, counted[np.maximum(last_reset, 0)], 0)
    deepest = np.flatnonzero(depth > limit)
    if not len(deepest):
        return None
    return at_offset(text, int(deepest[0]), f"input nested more than {limit} levels deep", source_name)


# The parser simplifies an affine expression term by term, in time quadratic in its
# terms (a 60,000-term sum of `d0 mod k` took 17 s to parse, MLIR 22); real maps are a
# few dozen characters long.
MAX_AFFINE_CHARS = 1 << 16
_AFFINE_START = re.compile(r"\baffine_(?:map|set)<")
_ANGLE_TOKENS = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?|//[^\n]*|->|>=|[<>]')


def affine_length_diagnostic(text: str, source_name: str = "-") -> Diagnostic | None:
    """An error at an `affine_map<`/`affine_set<` whose body runs past MAX_AFFINE_CHARS, or None."""
    if "affine_" not in text:
        return None
    for start in _AFFINE_START.finditer(text):
        depth, window_end = 1, start.end() + MAX_AFFINE_CHARS
        for token in _ANGLE_TOKENS.finditer(text, start.end(), min(window_end, len(text))):
            lexeme = token.group()
            if lexeme == "<":
                depth += 1
            elif lexeme == ">":
                depth -= 1
                if not depth:
                    break
        else:
            if window_end < len(text):
                return at_offset(text, start.start(), f"affine map or set longer than "
                                 f"{MAX_AFFINE_CHARS} characters", source_name)
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
    opened = None
    for token in _RESOURCE_TOKENS.finditer(text):
        lexeme = token.group()
        if lexeme == "{-#":
            opened = token.start()
        elif lexeme == "#-}":
            opened = None
        elif opened is not None and lexeme.startswith('"') and not token.group(1):
            return at_offset(text, token.start(), "unterminated string in the resource section", source_name)
    if opened is not None:
        return at_offset(text, opened, "resource section is not closed with '#-}'", source_name)
    return None


# `#name = value` / `!name = value` (comments may sit between the tokens, as the lexer
# allows); a definition whose value is a location cannot be printed repeatedly.
_ALIAS_DEFINITION = re.compile(r"[#!][\w$.-]+(?:\s|//[^\n]*)*=(?!=)(?:\s|//[^\n]*)*(loc\s*\()?")
_ALIAS_LINE = re.compile(r"^([#!][\w$.-]+)[ \t]*=", re.M)
_ALIAS_REFERENCE = re.compile(rb"[#!][\w$.-]+")


def _defines_attribute_aliases(text: str) -> bool:
    """Whether `text` may define a non-location alias (false positives only cost time)."""
    if "=" not in text or ("#" not in text and "!" not in text):
        return False
    return any(m.group(1) is None for m in _ALIAS_DEFINITION.finditer(text))


def alias_definitions(text: str) -> dict[str, str]:
    """Top-level alias definitions written at the start of a line: name -> its full text."""
    found = {}
    for match in _ALIAS_LINE.finditer(text):
        end = text.find("\n", match.start())
        end = len(text) if end < 0 else end
        value = _SKIPPED.sub("", text[match.end():end])
        depth = sum(value.count(c) for c in "([{<") - sum(value.count(c) for c in ")]}>") \
            + value.count("->") + value.count(">=")
        while depth > 0 and end < len(text):  # a value spanning lines
            nxt = text.find("\n", end + 1)
            nxt = len(text) if nxt < 0 else nxt
            line = _SKIPPED.sub("", text[end + 1:nxt])
            depth += sum(line.count(c) for c in "([{<") - sum(line.count(c) for c in ")]}>") \
                + line.count("->") + line.count(">=")
            end = nxt
        found.setdefault(match.group(1), text[match.start():end])
    return found


def _dismantle(module) -> None:
    """Erase every op of a deeply nested module innermost first: freeing it whole takes
    time quadratic in its depth (2.5 s of CPU for 9,000 nested regions, MLIR 22)."""
    ops, stack = [], [module.operation]
    while stack:
        for region in stack.pop().regions:
            for block in region.blocks:
                for op in block.operations:
                    ops.append(op)
                    stack.append(op)
    for op in reversed(ops):  # pre-order reversed: every op before its parent
        op.erase()


class _TooLarge(Exception):
    def __init__(self, message: str):
        self.message = message


def _ir_shape_problem(module, source_name: str, *, regions: bool, attributes: bool,
                      size_limit: int) -> tuple[Diagnostic | None, set[str]]:
    """(the refusal for IR deeper than MAX_NESTING or printing too large, alias names used in
    opaque attribute and type bodies). Iterative: the IR may be deep."""
    if regions:
        stack = [(module.operation, 0)]
        while stack:
            op, depth = stack.pop()
            for region in op.regions:
                for block in region.blocks:
                    for inner in block.operations:
                        if depth + 1 > MAX_NESTING:
                            refusal = at(inner, "error", f"operation nested more than {MAX_NESTING} "
                                         "regions deep", source_name)
                            _dismantle(module)
                            return refusal, set()
                        stack.append((inner, depth + 1))
    if not attributes:
        return None, set()
    memo: dict = {}
    opaque_refs: set[str] = set()
    total = [0]

    def key(node):
        kind = "a" if isinstance(node, ir.Attribute) else "t" if isinstance(node, ir.Type) else "e"
        return kind, node

    def children(node) -> list:
        if isinstance(node, ir.Attribute):
            if isinstance(node, ir.ArrayAttr):
                return list(node)
            if isinstance(node, ir.DictAttr):
                return [node[i].attr for i in range(len(node))]
            if isinstance(node, ir.TypeAttr):
                return [node.value]
            if isinstance(node, ir.AffineMapAttr):
                return list(node.value.results)
            if isinstance(node, ir.OpaqueAttr):
                opaque_refs.update(r.decode() for r in _ALIAS_REFERENCE.findall(bytes(node.data, "utf-8")
                                                                                  if isinstance(node.data, str) else node.data))
                return []
            if isinstance(node, (ir.DenseElementsAttr, ir.IntegerAttr, ir.FloatAttr)):
                return [node.type]
            return []
        if isinstance(node, ir.Type):
            if isinstance(node, ir.RankedTensorType):
                return [node.element_type] + ([node.encoding] if node.encoding is not None else [])
            if isinstance(node, ir.MemRefType):
                found = [node.element_type, node.layout]
                return found + ([node.memory_space] if node.memory_space is not None else [])
            if isinstance(node, (ir.UnrankedTensorType, ir.VectorType, ir.ComplexType,
                                 ir.UnrankedMemRefType)):
                return [node.element_type]
            if isinstance(node, ir.TupleType):
                return [node.get_type(i) for i in range(node.num_types)]
            if isinstance(node, ir.FunctionType):
                return list(node.inputs) + list(node.results)
            if isinstance(node, ir.OpaqueType):
                data = node.data
                opaque_refs.update(r.decode() for r in _ALIAS_REFERENCE.findall(
                    data.encode() if isinstance(data, str) else data))
            return []
        if isinstance(node, ir.AffineBinaryExpr):
            return [node.lhs, node.rhs]
        return []

    def measure(root) -> tuple[int, int]:
        root_key = key(root)
        if root_key in memo:
            return memo[root_key]
        stack = [(root, False)]
        pending: dict = {}
        while stack:
            node, expanded = stack.pop()
            k = key(node)
            if k in memo:
                continue
            if not expanded:
                kids = children(node)
                pending[k] = kids
                stack.append((node, True))
                stack.extend((kid, False) for kid in kids if key(kid) not in memo)
                if len(stack) > 4 * MAX_NESTING + 16 and len(pending) > MAX_NESTING:
                    pass  # wide, not deep: sizes are checked below
                continue
            kids = pending.pop(k, None)
            if kids is None:
                kids = children(node)
            depth = 1 + max((memo[key(kid)][0] for kid in kids), default=0)
            size = 1 + sum(memo[key(kid)][1] for kid in kids)
            if depth > MAX_NESTING:
                raise _TooLarge(f"attribute or type nested more than {MAX_NESTING} levels deep "
                                "(after alias substitution)")
            memo[k] = (depth, min(size, size_limit + 1))
        return memo[root_key]

    problem: list = []

    def visit(op):
        try:
            roots = [op.attributes[i].attr for i in range(len(op.attributes))]
            roots += [result.type for result in op.results]
            for region in op.regions:
                for block in region.blocks:
                    roots += [argument.type for argument in block.arguments]
            for root in roots:
                total[0] += measure(root)[1]
                if total[0] > size_limit:
                    raise _TooLarge(f"attributes and types expand to more than {size_limit} "
                                    "elements when printed (aliases that use other aliases "
                                    "several times)")
        except _TooLarge as too_large:
            problem.append(at(op, "error", too_large.message, source_name))
            return ir.WalkResult.INTERRUPT
        except TypeError:  # an attribute the bindings cannot wrap (complex dense): a leaf
            pass
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return (problem[0] if problem else None), opaque_refs


# --------------------------------------------------------------------------- #
# Parse / print
# --------------------------------------------------------------------------- #
_TOP_LEVEL_COUNT = re.compile(r"single top-level operation, found: (\d+)")


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

    Raises DiagnosticError with located diagnostics on malformed input and on input
    nested or expanding beyond what is printed and parsed again safely (see above).
    """
    return on_large_stack(_parse_module, text, context, source_name)


def _parse_module(text: str, context, source_name: str):
    # The limits and the adaptation read the text without its long hex strings (where a
    # real model's text is: MobileNetV2's 14 MB hold 56 kB of anything else); a check
    # that finds a problem there is made again on the whole text, for its position.
    code, spans = elide_hex_strings(text)
    bound = nesting_bound(code)
    refused = (nesting_diagnostic(text, source_name) if bound > PARSER_NESTING_LIMIT else None) \
        or (affine_length_diagnostic(code) and affine_length_diagnostic(text, source_name)) \
        or (resource_section_diagnostic(code) and resource_section_diagnostic(text, source_name))
    if refused:
        raise DiagnosticError([refused])
    module = _parse_text(code, spans, text, context, source_name)
    aliases = _defines_attribute_aliases(code)
    with context:
        refused, opaque_refs = _ir_shape_problem(
            module, source_name, regions=bound > MAX_NESTING,
            attributes=bound > MAX_NESTING or aliases or "affine_" in text,
            size_limit=MAX_PRINTED_ELEMENTS + 8 * len(text))
    if refused:
        raise DiagnosticError([refused])
    if opaque_refs:
        module.foreign_aliases = _needed_definitions(alias_definitions(text), opaque_refs)
    return module


def _needed_definitions(definitions: dict[str, str], used: set[str]) -> dict[str, str]:
    """The definitions of `used` aliases and of those their definitions use, in input order.

    The body of an opaque attribute (of a dialect that is not loaded, `#ttcore...`, or one
    the IRDL subset does not declare, `#ttnn.ttnn_layout<..., #dram>`) is kept as text by
    the parser, so an alias inside it
    is never resolved: its definition is printed with the module, as written.
    """
    needed, todo = set(), [name for name in used if name in definitions]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        value = definitions[name].split("=", 1)[1]
        todo += [r.decode() for r in _ALIAS_REFERENCE.findall(value.encode()) if r.decode() in definitions]
    return {name: text for name, text in definitions.items() if name in needed}


# Hex strings this long are cut out of the text the checks and the adaptation read.
SHORTEST_ELIDED_HEX = 1024
_ELIDED = "\x00"  # marks where the digits were: never in a string the elision keeps


def elide_hex_strings(text: str) -> tuple[str, list[tuple[int, int]]]:
    """(`text` with the digits of each long `"0x..."` string replaced by one NUL, the spans
    of `text` cut out, in order); `text` and [] when there is none, or when `text` holds a
    NUL itself.

    Dense constants are written as hex strings (`dense<"0x...">`, resource blobs); the
    digits carry no structure, so reading the rest is enough to check and adapt the text,
    and `restore_hex_strings` puts them back where they were (lines and columns of every
    other character are as in `text` once restored). The digits are not copied (14 MB on
    MobileNetV2): they stay in `text`, found by their spans."""
    start = text.find('"0x')
    if start < 0:
        return text, []
    pieces, digits, last = [], [], 0
    while start >= 0:
        begin = start + 3
        end = text.find('"', begin)
        if end < 0:
            break
        # Without a backslash or a line break, what lies between the quotes is one string
        # (or, if the first quote closed one, code: checked below on what is left).
        if end - begin >= SHORTEST_ELIDED_HEX and text.find("\\", begin, end) < 0 and \
                text.find("\n", begin, end) < 0:
            pieces += (text[last:begin], _ELIDED)
            digits.append((begin, end))
            last = end
        start = text.find('"0x', end + 1)
    if not digits:
        return text, []
    pieces.append(text[last:])
    code = "".join(pieces)
    if code.count(_ELIDED) != len(digits):  # a NUL of the text's own: nothing is cut
        return text, []
    if _ELIDED in _SKIPPED.sub("", code):  # some digits were not in a string (or a comment)
        return text, []
    return code, digits


def restore_hex_strings(code: str, spans: list[tuple[int, int]], text: str) -> str | None:
    """`code` from `elide_hex_strings(text)` (rewritten or not) with the digits of `text`'s
    `spans` back; `text` itself when `code` is still its elided form (nothing to copy); None
    if the places for them are not exactly where `code` has them."""
    if not spans:
        return code
    parts = code.split(_ELIDED)
    if len(parts) != len(spans) + 1:
        return None
    bounds = [0, *(i for span in spans for i in span), len(text)]  # kept: [0, b0), [e0, b1) ...
    if all(part == text[start:end] for part, start, end in zip(parts, bounds[::2], bounds[1::2])):
        return text
    restored = [parts[0]]
    for (begin, end), part in zip(spans, parts[1:]):
        restored += (text[begin:end], part)
    return "".join(restored)


def _parse_text(code: str, spans: list[tuple[int, int]], original: str, context, source_name: str):
    """Parse the input `original` (`code` and `spans`: its elided form): named locations
    located, and, in the IRDL fallback, adapted once at this file boundary."""
    located = locate_named_ops(code, source_name)
    if USING_TTMLIR:
        return _parse_adapted(restore_hex_strings(located, spans, original) or
                              locate_named_ops(original, source_name), context, source_name)
    # Most modules hold only the TTIR/TTNN ops, attributes and types the IRDL subset
    # declares: they are parsed as they are. A module that does not parse so is read again
    # with the other ops declared in the context and the other attributes and types under
    # shadow names, rebuilt in their own dialect once parsed (`tt_dw_mlir.dialect.irdl_syntax`).
    try:
        return _parse_adapted(_adapted(located, spans, original, source_name, shadow=None),
                              context, source_name)
    except DiagnosticError:
        undeclared = {name for name in irdl_syntax.undeclared_op_names(located)
                      if not context.is_registered_operation(name)}
        namespaces = irdl_syntax.shadow_namespaces(located)
        shadowed = irdl_syntax.shadow_unmodelled(located, namespaces) != located
        if not undeclared and not shadowed:
            raise
    text = _adapted(located, spans, original, source_name, shadow=namespaces if shadowed else None)
    if undeclared:
        _declare_used_ops(text, context, source_name)
    module = _parse_adapted(text, context, source_name)
    if shadowed:
        with context, ir.Location.unknown():  # the builders want one; nothing is created at it
            refused = _rebuild_shadowed(module, {v: k for k, v in namespaces.items()}, source_name)
        if refused:
            raise DiagnosticError([refused])
    return module


def _declare_used_ops(text: str, context, source_name: str) -> None:
    """Declare in `context` each TTIR/TTNN op of `text` it does not have, with the operand,
    result and region counts it is used with (`tt_dw_mlir.dialect.irdl.declare_ops`).

    What is used is read from the IR: `text` parsed in a scratch context with no dialect
    loaded, where every op is unregistered (text that does not parse there is left to the
    real parse to report). One op name used with different region counts, or with
    different operand (result) counts and a tail of differing types, cannot be one IRDL
    op: a located error."""
    from tt_dw_mlir.dialect.irdl import declare_ops

    scratch = ir.Context()
    scratch.allow_unregistered_dialects = True
    try:
        parsed = _parse_adapted(text, scratch, source_name)
    except DiagnosticError:
        return
    uses: dict[str, list] = {}
    registered = context.is_registered_operation

    def visit(op):
        name = op.name
        if name.startswith(("ttir.", "ttnn.")) and not registered(name):
            uses.setdefault(name, []).append(op)
        return ir.WalkResult.ADVANCE

    with scratch:
        parsed.operation.walk(visit)
        shapes, problems = {}, []
        for name, ops in uses.items():
            shape, problem = _op_shape(name, ops, source_name)
            if problem:
                problems.append(problem)
            else:
                shapes[name] = shape
    del uses, parsed
    if problems:
        raise DiagnosticError(problems)
    declare_ops(context, shapes)


def _op_shape(name: str, ops: list, source_name: str):
    """(the `OpShape` every op of `ops` fits, None) or (None, the error at one that does not)."""
    from tt_dw_mlir.dialect.irdl import OpShape

    first = ops[0]
    for op in ops:
        if len(op.regions) != len(first.regions):
            file, line, col = location_of(first.location, source_name)
            return None, at(op, "error", f"'{name}' op has {len(op.regions)} regions here and "
                            f"{len(first.regions)} at {file}:{line}:{col}: without ttmlir an op "
                            "is declared in IRDL with one region count", source_name)
        if len(op.successors):
            return None, at(op, "error", f"'{name}' op has successors: without ttmlir, ops are "
                            "declared in IRDL without successors", source_name)
    counts = {}
    for what in ("operands", "results"):
        fewest = min(len(getattr(op, what)) for op in ops)
        varies = any(len(getattr(op, what)) != fewest for op in ops)
        if varies:
            for op in ops:
                tail = {value.type for value in list(getattr(op, what))[fewest:]}
                if len(tail) > 1:
                    return None, at(op, "error", f"'{name}' op is used with different numbers of "
                                    f"{what}, and its {what} past the first {fewest} differ in type "
                                    "here: without ttmlir, IRDL declares such a variadic with one "
                                    "type", source_name)
        counts[what] = (fewest, varies)
    return OpShape(operands=counts["operands"][0], results=counts["results"][0],
                      regions=len(first.regions), variadic_operands=counts["operands"][1],
                      variadic_results=counts["results"][1]), None


def _rebuild_shadowed(module, dialect_of: dict[str, str], source_name: str) -> Diagnostic | None:
    """Rebuild every attribute and type parsed under a shadow namespace (`#TTNN.x<...>`,
    see `tt_dw_mlir.dialect.irdl_syntax`) as the opaque attribute or type of its own,
    loaded dialect (`#ttnn.x<...>`), wherever an op holds it: its attributes, result types
    and block argument types, through the builtin attributes and types that hold others.
    `dialect_of`: shadow namespace -> dialect. The refusal for one held where it cannot
    be rebuilt, or None."""
    rebuilt: dict = {}  # attribute or type -> its rebuilt form, None if it holds no shadow name

    class Unbuildable(Exception):
        pass

    def new(node):
        """`node` rebuilt, or None when it holds no shadow name."""
        key = (isinstance(node, ir.Type), node)
        if key not in rebuilt:
            rebuilt[key] = rebuilt_type(node) if key[0] else rebuilt_attribute(node)
        return rebuilt[key]

    def same(node):
        found = new(node)
        return node if found is None else found

    def rebuilt_attribute(a):
        if isinstance(a, ir.OpaqueAttr):
            if a.dialect_namespace not in dialect_of:
                return None
            data = a.data
            return ir.OpaqueAttr.get(dialect_of[a.dialect_namespace],
                                     data.encode() if isinstance(data, str) else bytes(data), a.type)
        if isinstance(a, ir.ArrayAttr):
            items = list(a)
            if not any(new(x) is not None for x in items):
                return None
            return ir.ArrayAttr.get([same(x) for x in items])
        if isinstance(a, ir.DictAttr):
            entries = [(a[i].name, a[i].attr) for i in range(len(a))]
            if not any(new(v) is not None for _, v in entries):
                return None
            return ir.DictAttr.get({n: same(v) for n, v in entries})
        if isinstance(a, ir.TypeAttr):
            value = new(a.value)
            return None if value is None else ir.TypeAttr.get(value)
        if isinstance(a, (ir.StringAttr, ir.UnitAttr, ir.BoolAttr, ir.FlatSymbolRefAttr,
                          ir.SymbolRefAttr, ir.DenseI8ArrayAttr, ir.DenseI16ArrayAttr,
                          ir.DenseI32ArrayAttr, ir.DenseI64ArrayAttr, ir.DenseF32ArrayAttr,
                          ir.DenseF64ArrayAttr, ir.DenseBoolArrayAttr, ir.AffineMapAttr,
                          ir.IntegerSetAttr, ir.StridedLayoutAttr)):
            return None
        if isinstance(a, (ir.IntegerAttr, ir.FloatAttr, ir.DenseElementsAttr, ir.DenseResourceElementsAttr)):
            if new(a.type) is not None:
                raise Unbuildable
            return None
        return leaf(a)

    def rebuilt_type(t):
        if isinstance(t, ir.OpaqueType):
            if t.dialect_namespace not in dialect_of:
                return None
            return ir.OpaqueType.get(dialect_of[t.dialect_namespace], t.data)
        if isinstance(t, ir.RankedTensorType):
            encoding = t.encoding
            if new(t.element_type) is None and (encoding is None or new(encoding) is None):
                return None
            return ir.RankedTensorType.get(list(t.shape), same(t.element_type),
                                           same(encoding) if encoding is not None else None)
        if isinstance(t, ir.UnrankedTensorType):
            element = new(t.element_type)
            return None if element is None else ir.UnrankedTensorType.get(element)
        if isinstance(t, ir.MemRefType):
            space = t.memory_space
            if new(t.element_type) is None and new(t.layout) is None and \
                    (space is None or new(space) is None):
                return None
            return ir.MemRefType.get(list(t.shape), same(t.element_type), same(t.layout),
                                     same(space) if space is not None else None)
        if isinstance(t, ir.FunctionType):
            inputs, results = list(t.inputs), list(t.results)
            if not any(new(x) is not None for x in inputs + results):
                return None
            return ir.FunctionType.get([same(x) for x in inputs], [same(x) for x in results])
        if isinstance(t, ir.TupleType):
            items = [t.get_type(i) for i in range(t.num_types)]
            if not any(new(x) is not None for x in items):
                return None
            return ir.TupleType.get_tuple([same(x) for x in items])
        if isinstance(t, (ir.IntegerType, ir.IndexType, ir.NoneType, ir.FloatType, ir.VectorType,
                          ir.ComplexType)):
            return None  # their elements are builtin numbers
        return leaf(t)

    def leaf(node):
        # An attribute or type the bindings cannot look into (a `distinct[0]<...>`, another
        # loaded dialect's): one that holds a shadow name could not be rebuilt. The bindings
        # offer no walk of its parameters, so its printed form is what tells.
        printed = str(node)
        if any(f"{sigil}{shadow}" in printed for shadow in dialect_of for sigil in "#!"):
            raise Unbuildable
        return None

    problem: list = []

    def visit(op):
        try:
            attributes = op.attributes
            for named in [attributes[i] for i in range(len(attributes))]:
                value = new(named.attr)
                if value is not None:
                    op.attributes[named.name] = value
            for result in op.results:
                value = new(result.type)
                if value is not None:
                    result.set_type(value)
            for region in op.regions:
                for block in region.blocks:
                    for argument in block.arguments:
                        value = new(argument.type)
                        if value is not None:
                            argument.set_type(value)
        except Unbuildable:
            problem.append(at(op, "error", "a ttir/ttnn attribute or type this op holds sits where "
                              "it cannot be rebuilt without ttmlir (inside an attribute or type "
                              "the bindings cannot rebuild)", source_name))
            return ir.WalkResult.INTERRUPT
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return problem[0] if problem else None


def _adapted(located: str, spans: list[tuple[int, int]], original: str, source_name: str, *,
             shadow: dict[str, str] | None) -> str:
    """The IRDL fallback's form of the input (`located`: its elided form with named
    locations located)."""
    text = restore_hex_strings(irdl_syntax.to_irdl(located, shadow=shadow), spans, original)
    if text is None:  # a rewrite moved a place (cannot happen): adapt the whole text instead
        text = irdl_syntax.to_irdl(locate_named_ops(original, source_name), shadow=shadow)
    return text


def _parse_adapted(text: str, context, source_name: str):
    """Parse `text`, adapted for the bindings in use, as a module."""

    def failure(error, shifted_line: int = 0):
        if not error.error_diagnostics:
            return DiagnosticError(irdl_syntax.custom_form_diagnostics(text, source_name)
                                   if not USING_TTMLIR else
                                   [Diagnostic("error", "unable to parse the input", source_name, 0, 0)])
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
            # One bare top-level op: move it into a module, as mlir-opt does (parsing it
            # again wrapped would also free this one, quadratic in its nesting depth).
            module = ir.Module.create(op.location)  # where the implicit module opens
            module.body.append(op.operation)
            return _ParsedModule(module)
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
            return _ParsedModule(ir.Module.parse(text))
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
    """A parsed `builtin.module` operation, with the Module-like API we use.

    `foreign_aliases`: alias definitions (name -> text as written) that bodies of
    attributes of dialects not loaded refer to; printed with the module.
    """

    def __init__(self, op):
        self._owner = op  # keeps the parsed operation alive
        self.operation = op.operation
        self.foreign_aliases: dict[str, str] = {}

    @property
    def body(self):
        return self.operation.regions[0].blocks[0]

    @property
    def context(self):
        return self.operation.context

    def __str__(self) -> str:
        return print_module(self)


def print_module(module, *, generic: bool = False, debug_info: bool = False,
                 elide_elements_larger_than: int | None = None) -> str:
    """The module as text (see `write_module`)."""
    import io

    buffer = io.BytesIO()
    write_module(module, buffer, generic=generic, debug_info=debug_info,
                 elide_elements_larger_than=elide_elements_larger_than)
    return buffer.getvalue().decode("utf-8", errors="replace")


def write_module(module, out, *, generic: bool = False, debug_info: bool = False,
                 elide_elements_larger_than: int | None = None) -> None:
    """Print the module to the binary stream `out`, as MLIR's C++ printer writes it, plus the
    alias definitions that attributes of dialects not loaded refer to.

    The printed IR is not rewritten: in the IRDL fallback our TTIR/TTNN ops print their
    attributes as an attribute dictionary (`"ttir.conv2d"(...) {groups = 32 : i32, ...}`,
    with the operandSegmentSizes IRDL needed), which C++ MLIR and tt-mlir read as they read
    `<{...}>` (an op's inherent attributes given in its dictionary are moved into its
    properties), and ttcore module wrappers print in generic form. TTIR/TTNN ops, attributes
    and types the subset does not declare are held under their own names (declared on demand,
    opaque attributes and types of the loaded dialects: see `_parse_text`).
    """
    on_large_stack(_write_module, module, out, generic, debug_info, elide_elements_larger_than)


def _write_module(module, out, generic: bool, debug_info: bool, elide: int | None) -> None:
    import os
    import tempfile

    aliases = getattr(module, "foreign_aliases", None)
    with tempfile.TemporaryDirectory(prefix="tt-dw-print-") as tree:
        path = _print_to_file(module, tree, generic, debug_info, elide)
        size = os.path.getsize(path) if path else 0
        with open(path or os.devnull, "rb") as printed:
            header = printed.readline()
            printed.seek(size - 2 if size >= 2 else 0)
            if not header.startswith(b"// -----// IR Dump") or printed.read(2) != b"\n\n":
                # not the instrumentation's layout: the bindings' own (slower) printer
                text = module.operation.get_asm(print_generic_op_form=generic, enable_debug_info=debug_info,
                                                assume_verified=False, large_elements_limit=elide)
                out.write(_with_foreign_aliases(text, aliases, module).encode("utf-8"))
                return
            body = size - len(header) - 2
            printed.seek(len(header))
            if aliases:
                text = printed.read(body).decode("utf-8", errors="replace")
                out.write(_with_foreign_aliases(text, aliases, module).encode("utf-8"))
                return
            _copy(printed, len(header), body, out)


# Printed IR is copied to a stream that is not a file of its own (stdout, an in-memory
# stream) in pieces this size: a 4 MiB piece was 4 MiB more resident while a module was
# written (three such copies, when the copy also looked for shadow names, were the
# compile's peak in `tt-dw run`).
COPY_CHUNK_BYTES = 1 << 18


def _copy(printed, start: int, length: int, out) -> None:
    """Copy `length` bytes of `printed` from `start` to `out` (in the kernel when `out` is a
    file other than stdout/stderr, which keep their buffering: diagnostics and IR interleave
    as they always did)."""
    try:
        target = out.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream
        target = None
    if target is not None and target > 2:
        out.flush()
        while length > 0:
            sent = os.sendfile(target, printed.fileno(), start, length)
            if not sent:
                break
            start, length = start + sent, length - sent
        return
    printed.seek(start)
    while length > 0:
        chunk = printed.read(min(length, COPY_CHUNK_BYTES))
        if not chunk:
            break
        out.write(chunk)
        length -= len(chunk)


def _print_to_file(module, directory: str, generic: bool, debug_info: bool, elide: int | None) -> str | None:
    """Print the module with MLIR's C++ printer into a file under `directory`; its path.

    The bindings' printer (`get_asm`, `print`) hands every token to a Python callback
    through an unbuffered stream: 7 million calls and 0.6 s for a 15 MB module, against
    0.09 s for `mlir-opt`. The pass manager's IR printing to a file tree
    (`--mlir-print-ir-tree-dir`) writes through a buffered C++ file stream instead; a
    pass manager with one empty pass prints the module after it: the instrumentation's
    one header line, the module exactly as `get_asm` prints it, and two newlines.
    """
    import os

    with module.context:
        manager = passmanager.PassManager("builtin.module")
        manager.add(lambda op, _pass: None, name="Print", argument="tt-dw-print")
        manager.enable_verifier(False)  # the printer verifies (and falls back to generic form)
        manager.enable_ir_printing(print_before_all=False, print_after_all=True, print_module_scope=False,
                                   large_elements_limit=elide, enable_debug_info=debug_info,
                                   print_generic_op_form=generic, tree_printing_dir_path=directory)
        manager.run(module.operation)
    found = [os.path.join(root, name) for root, _, names in os.walk(directory) for name in names]
    return found[0] if len(found) == 1 else None


def _with_foreign_aliases(text: str, aliases: dict[str, str] | None, module) -> str:
    """`text` with the definitions of the input's aliases that opaque bodies refer to
    before it; refused if the printer chose one of their names for an alias of its own
    (`#map`, `#loc3`): the body would then refer to the printer's definition."""
    if not aliases:
        return text
    # The printer writes its alias definitions before the module, one per line; only
    # their names are read, to find a clash (nothing printed is rewritten).
    preamble = text[:text.find("\nmodule") + 1] if not text.startswith("module") else ""
    clashes = sorted(set(aliases) & {m.group(1) for m in _ALIAS_LINE.finditer(preamble)})
    if clashes:
        names = ", ".join(clashes)
        raise DiagnosticError([at(module.operation, "error",
                                  f"cannot print the module: the input's alias {names}, used inside "
                                  "an attribute of a dialect not loaded here, is also the name the "
                                  "printer gives an alias of its own, so that attribute would refer "
                                  "to the printer's definition; rename the input's alias")])
    return "".join(definition + "\n" for definition in aliases.values()) + text


def verify(op, source_name: str | None = None) -> list[Diagnostic]:
    """MLIR's verifier on `op` (a module, or any op) and what it holds, as diagnostics
    (empty when it verifies)."""
    def run():
        try:
            op.operation.verify()
            return []
        except ir.MLIRError as error:
            return diagnostics_of(error, source_name)

    return on_large_stack(run)
