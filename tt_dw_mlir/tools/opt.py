"""`tt-dw-opt`: the plugin's passes in the style of `ttmlir-opt` / `mlir-opt`.

    tt-dw-opt in.mlir --tt-depthwise-to-pool [-o out.mlir]
    tt-dw-opt in.mlir --pass-pipeline='builtin.module(tt-depthwise-to-pool{weight-dtype=bfp8_b}, cse)'
    tt-dw-opt in.mlir --split-input-file --verify-diagnostics --tt-depthwise-to-pool
    tt-dw-opt in.mlir --tt-depthwise-pool-pipeline --mlir-timing --mlir-pass-statistics
    tt-dw-opt in.mlir --mlir-elide-elementsattrs-if-larger=16

Pass flags (ours, or any upstream pass such as --canonicalize) run in the
order given. Diagnostics are printed as `file:line:col: severity: message`;
any error exits 1. No input, however malformed, ends in a Python traceback.
"""

from __future__ import annotations

import argparse
import io
import mmap
import os
import re
import sys
import time
from dataclasses import dataclass

SPLIT_MARKER = re.compile(r"^// -----[ \t]*$", re.M)  # keeps the newline: lines keep their numbers
EXPECTATION = re.compile(
    r"expected-(error|warning|remark|note)(?:@(above|below|[+-]\d+))?\s*\{\{(.*?)\}\}")


@dataclass
class Expectation:
    severity: str
    line: int
    text: str
    written_at: int
    met: bool = False


class _Parser(argparse.ArgumentParser):
    """The driver's parser; its epilog (every pass and option, read from the pass modules)
    is made when help is printed: a run without a pass, or `--version`, imports no pass."""

    def format_help(self) -> str:
        if self.epilog is None:
            self.epilog = _pass_help()
        return super().format_help()


def _pass_help() -> str:
    from tt_dw_mlir.api import available_passes

    text = "Passes (flags, in order of appearance, or inside --pass-pipeline):\n"
    text += "".join(f"  --{name:<32} {summary}\n" for name, summary in available_passes().items())
    text += "\nPass options (--tt-depthwise-to-pool=\"key=value ...\", or {key=value ...} in a pipeline):\n"
    text += "".join(f"  {name:<34} {value} (default {default})\n" for name, value, default in _option_help())
    return text + "\nAny upstream MLIR pass is also accepted as a flag, e.g. --canonicalize, --cse."


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tt-dw-opt", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="MLIR modular optimizer driver for the tt-dw-mlir passes.")
    parser.add_argument("input", nargs="?", default="-", help="input file, or - for stdin (default)")
    parser.add_argument("-o", dest="output", default="-", help="output file (default stdout)")
    parser.add_argument("--pass-pipeline", help="a textual pipeline: builtin.module(...)")
    parser.add_argument("--split-input-file", action="store_true",
                        help="split the input on '// -----' and process each chunk on its own")
    parser.add_argument("--verify-diagnostics", action="store_true",
                        help="check diagnostics against expected-* annotations in the input")
    parser.add_argument("--mlir-print-ir-after-all", action="store_true")
    parser.add_argument("--mlir-print-op-generic", action="store_true")
    parser.add_argument("--mlir-print-debuginfo", action="store_true")
    parser.add_argument("--mlir-elide-elementsattrs-if-larger", type=int, metavar="N",
                        help="print elements attributes with more than N elements as "
                             "dense_resource<__elided__> (output for reading, not re-parsing)")
    parser.add_argument("--mlir-timing", action="store_true",
                        help="print MLIR's pass timing report and the driver's own phases on stderr")
    parser.add_argument("--mlir-pass-statistics", action="store_true",
                        help="print MLIR's pass statistics report on stderr (upstream passes "
                             "register statistics; the Python passes are listed without any)")
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--allow-unregistered-dialect", action="store_true",
                        help="accepted for ttmlir-opt compatibility: ops and attributes of dialects "
                             "this tool does not model always pass through untouched")
    parser.add_argument("--tt-dw-remarks", choices=("rejected", "all", "none"), default=None,
                        help="which conversion remarks our passes emit (default: rejected convs)")
    return parser


class VersionAction(argparse.Action):
    """--version of both tools (named by the parser's `prog`), its text made only when asked
    for (importlib.metadata, which reads the installed packages' versions, would cost every
    start-up ~0.15 s)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser._print_message(version_text(parser.prog) + "\n", sys.stdout)
        parser.exit()


def _pass_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split pass flags (kept in order, as pipeline elements) from the driver's own arguments."""
    own = {"-o", "--pass-pipeline", "--split-input-file", "--verify-diagnostics",
           "--mlir-print-ir-after-all", "--mlir-print-op-generic", "--mlir-print-debuginfo",
           "--mlir-elide-elementsattrs-if-larger", "--mlir-timing", "--mlir-pass-statistics",
           "--allow-unregistered-dialect", "--tt-dw-remarks", "--version", "-h", "--help"}
    rest, elements = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if "{" in name:  # --pass{key=value ...}, MLIR's pipeline spelling
            name, eq, value = arg.partition("{")
            value = value.rstrip("}")
        if arg.startswith("--") and name not in own:
            flag = name[2:]
            if eq:
                value = value.strip("'\"")
            elements.append(f"{flag}{{{value}}}" if eq and value else flag)
        else:
            rest.append(arg)
            if arg in ("-o", "--pass-pipeline", "--tt-dw-remarks",
                       "--mlir-elide-elementsattrs-if-larger") and i + 1 < len(argv):
                rest.append(argv[i + 1])
                i += 1
        i += 1
    return rest, elements


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="replace")
    with open(path, "rb") as handle:
        try:  # decoded from the page cache: no copy of the file in fresh memory (~7 ms at 14 MB)
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                return str(mapped, "utf-8", errors="replace")
        except (OSError, ValueError):  # an empty file, a pipe or device: read as a stream
            return handle.read().decode("utf-8", errors="replace")


def _chunks(text: str, split: bool) -> list[str]:
    """Chunks padded with newlines so that every line keeps its number in the file."""
    if not split:
        return [text]
    chunks, line = [], 0
    for piece in SPLIT_MARKER.split(text):
        chunks.append("\n" * line + piece)
        line += piece.count("\n")
    return chunks


def _expectations(chunk: str) -> list[Expectation]:
    found = []
    for number, line in enumerate(chunk.splitlines(), start=1):
        for match in EXPECTATION.finditer(line):
            severity, where, text = match.groups()
            target = number
            if where == "above":
                target = number - 1
            elif where == "below":
                target = number + 1
            elif where:
                target = number + int(where)
            found.append(Expectation(severity, target, text, number))
    return found


def _check_expectations(expectations, diagnostics, source_name) -> list[str]:
    """Messages for unmet expectations and unexpected diagnostics (empty when all agree)."""
    failures = []
    for diag in diagnostics:
        for note in [diag] + diag.notes:
            if note is not diag and note.severity == "note" and not any(
                    e.severity == "note" for e in expectations):
                continue  # notes need no annotation unless the test expects some
            match = next((e for e in expectations if not e.met and e.severity == note.severity
                          and e.line == note.line and e.text in note.message), None)
            if match:
                match.met = True
            elif note is diag:
                failures.append(f"{note.file}:{note.line}:{note.col}: error: unexpected "
                                f"{note.severity}: {note.message}")
    for e in expectations:
        if not e.met:
            failures.append(f"{source_name}:{e.written_at}:1: error: expected {e.severity} "
                            f"\"{e.text}\" was not produced")
    return failures


def version_text(tool: str = "tt-dw-opt") -> str:
    """What `--version` prints for both tools: the package and the MLIR bindings in use."""
    from importlib import metadata

    def installed(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    from tt_dw_mlir.ir import USING_TTMLIR

    bindings = "ttmlir (tt-mlir's own)" if USING_TTMLIR else \
        f"xtc-mlir-python-bindings {installed('xtc-mlir-python-bindings')} (IRDL TTIR/TTNN subset)"
    return f"{tool} (tt-dw-mlir {installed('tt-dw-mlir')})\n  MLIR bindings: {bindings}"


def _process(chunk: str, source_name: str, pipeline: str | None, args,
             phases: dict[str, float], out, separator: bytes) -> tuple[bool, list]:
    """Parse, verify, run, and print the module to the binary stream `out` (after
    `separator`); returns (printed?, diagnostics).

    `phases` accumulates the wall time of each driver phase (for --mlir-timing).
    """
    from tt_dw_mlir.api import parse_module, run_pipeline
    from tt_dw_mlir.ir import DiagnosticError, write_module

    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - started
        started = now

    try:
        try:
            module = parse_module(chunk, source_name=source_name, pipeline=pipeline)
        finally:
            lap("Parser (limits, adaptation, parse, verification)")
        diagnostics = run_pipeline(module, pipeline, source_name,
                                   print_ir_after_all=args.mlir_print_ir_after_all,
                                   timing=args.mlir_timing,
                                   statistics=args.mlir_pass_statistics) if pipeline else []
        lap("Pipeline (pass manager, semantic verification)")
    except DiagnosticError as failure:
        return False, failure.diagnostics
    out.write(separator)
    try:
        write_module(module, out, generic=args.mlir_print_op_generic, debug_info=args.mlir_print_debuginfo,
                     elide_elements_larger_than=args.mlir_elide_elementsattrs_if_larger)
    except DiagnosticError as failure:  # refused before a byte of the module is written
        return False, diagnostics + failure.diagnostics
    finally:
        lap("Output (printing)")
    return True, diagnostics


def _timing_report(phases: dict[str, float]) -> str:
    """The driver's phases in the layout of MLIR's execution time report."""
    total = sum(phases.values()) or 1e-9
    rule = "===" + "-" * 73 + "==="
    lines = [rule, "... tt-dw-opt execution time report ...".center(len(rule)).rstrip(), rule,
             f"  Total Execution Time: {total:.4f} seconds", "", "  ----Wall Time----  ----Name----"]
    lines += [f"  {seconds:8.4f} ({100 * seconds / total:5.1f}%)  {name}" for name, seconds in phases.items()]
    lines.append(f"  {total:8.4f} (100.0%)  Total")
    return "\n".join(lines)


def console_main() -> None:
    """The `tt-dw-opt` command: `main()` in a process of its own, started and ended lean.

    * numpy, which the MLIR bindings import, starts an OpenBLAS thread per core and its
      buffers when imported (~20 ms of CPU, more on a loaded machine); the compiler does
      no linear algebra that would gain from them, so they stay off unless the
      environment says otherwise.
    * The process then ends without tearing the interpreter down (`exit_without_teardown`).
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    exit_without_teardown(main())


def exit_without_teardown(code: int) -> None:
    """Flush both streams, run the exit handlers and end the process with `code`, without
    finalising the interpreter: freeing the MLIR context and every module's objects one by
    one is work for nothing when the process ends anyway (~20-30 ms of a `tt-dw-opt` run on
    MobileNetV2, ~0.5 s of a `tt-dw run`). Files written are closed by then."""
    import atexit

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said there
            pass
    atexit._run_exitfuncs()  # what a normal exit runs first (CPython's own entry point)
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from tt_dw_mlir.ir import on_large_stack

    try:  # the MLIR parser, printer and verifier recurse per nesting level (see tt_dw_mlir.ir)
        return on_large_stack(_main, argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as error:  # a bug of ours: still a diagnostic, never a traceback
        print(f"tt-dw-opt: error: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


def _main(argv: list[str]) -> int:
    rest, elements = _pass_flags(argv)
    args = _parser().parse_args(rest)
    if args.pass_pipeline and elements:
        print("tt-dw-opt: error: give either --pass-pipeline or pass flags, not both", file=sys.stderr)
        return 1
    if args.tt_dw_remarks:
        elements = [_with_option(e, f"remarks={args.tt_dw_remarks}") for e in elements]
    pipeline = args.pass_pipeline or (f"builtin.module({', '.join(elements)})" if elements else None)

    source_name = "<stdin>" if args.input == "-" else args.input
    try:
        text = _read(args.input)
    except OSError as error:
        print(f"tt-dw-opt: error: could not open input file '{args.input}': {error.strerror}",
              file=sys.stderr)
        return 1

    if args.mlir_elide_elementsattrs_if_larger is not None and args.mlir_elide_elementsattrs_if_larger < 0:
        print("tt-dw-opt: error: --mlir-elide-elementsattrs-if-larger needs N >= 0", file=sys.stderr)
        return 1
    stdout = getattr(sys.stdout, "buffer", None)  # a text-only stdout (tests): written at the end
    try:
        out = (stdout or io.BytesIO()) if args.output == "-" else open(args.output, "wb")
    except OSError as error:
        print(f"tt-dw-opt: error: could not write '{args.output}': {error.strerror}", file=sys.stderr)
        return 1
    try:
        return _run_chunks(text, source_name, pipeline, args, out)
    finally:
        if args.output != "-":
            out.close()
        elif stdout is None:
            sys.stdout.write(out.getvalue().decode("utf-8", errors="replace"))
        else:
            out.flush()


def _run_chunks(text: str, source_name: str, pipeline: str | None, args, out) -> int:
    """Each chunk parsed, run and printed in turn (printed straight to `out`: a module is
    never held as text); diagnostics on stderr, or checked with --verify-diagnostics."""
    failed, phases, separator = False, {}, b""
    for chunk in _chunks(text, args.split_input_file):
        printed, diagnostics = _process(chunk, source_name, pipeline, args, phases, out, separator)
        if args.verify_diagnostics:
            failures = _check_expectations(_expectations(chunk), diagnostics, source_name)
            for message in failures:
                print(message, file=sys.stderr)
            failed |= bool(failures)
        else:
            for diag in diagnostics:
                print(diag.format(), file=sys.stderr)
            failed |= not printed
        if printed:
            separator = b"// -----\n"
    if args.mlir_timing:
        import gc

        gc.collect()  # the pass manager prints its own report when it is destroyed
        print(_timing_report(phases), file=sys.stderr)
    return 1 if failed else 0


def _option_help() -> list[tuple[str, str, str]]:
    import dataclasses

    from tt_dw_mlir.passes import Options

    defaults = Options()
    rows = []
    for option in dataclasses.fields(Options):
        choices = Options.CHOICES.get(option.name, ("true", "false"))
        default = getattr(defaults, option.name)
        rows.append((option.name.replace("_", "-"), " | ".join(choices),
                     str(default).lower() if isinstance(default, bool) else default))
    return rows


def _with_option(element: str, option: str) -> str:
    """`element` with `option` added when it is one of our passes or pipelines (all of
    them share the options; upstream passes are left alone)."""
    from tt_dw_mlir.passes import PASSES, PIPELINES

    name = element.split("{", 1)[0]
    if name not in PASSES and name not in PIPELINES:
        return element
    if "{" in element:
        return element[:-1] + " " + option + "}"
    return element + "{" + option + "}"


if __name__ == "__main__":
    console_main()
