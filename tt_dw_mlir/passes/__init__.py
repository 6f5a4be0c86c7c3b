"""The plugin's passes, by flag, and pipelines that mix them with upstream passes.

    tt-depthwise-to-pool          match + legalise (+ fold constant weights)
    tt-depthwise-pool-to-kernels  lower ttnn.depthwise_pool_conv to a pool2d kernel program
    tt-depthwise-pool-to-generic  lower that program to tt-mlir's ttnn.generic (#ttnn.program)
    tt-depthwise-pool-pipeline    both, then canonicalize

A pipeline string is MLIR's textual form, e.g.
`builtin.module(tt-depthwise-to-pool{weight-dtype=bfp8_b device=p150}, canonicalize, func.func(cse))`:
our elements become Python passes, every other element goes to MLIR's parser.
"""

from __future__ import annotations

import dataclasses

from tt_dw_mlir.ir import Diagnostic, passmanager, verify
from tt_dw_mlir.passes.depthwise_pool_to_generic import DepthwisePoolToGeneric
from tt_dw_mlir.passes.depthwise_pool_to_kernels import DepthwisePoolToKernels
from tt_dw_mlir.passes.depthwise_to_pool import DepthwiseToPool, Options

PASSES = {cls.argument: cls for cls in (DepthwiseToPool, DepthwisePoolToKernels, DepthwisePoolToGeneric)}
PIPELINES = {
    "tt-depthwise-pool-pipeline": (
        "Match, legalise, fold and lower depthwise convs, then canonicalize",
        ["tt-depthwise-to-pool", "tt-depthwise-pool-to-kernels", "canonicalize"]),
}


class PipelineError(ValueError):
    """A pipeline string or pass option that cannot be used."""


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split on `separator` outside (), {} and quotes."""
    parts, depth, current, quoted = [], 0, [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "({":
            depth += 1
        elif not quoted and ch in ")}":
            depth -= 1
        if ch == separator and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def parse_options(text: str) -> Options:
    """`weight-dtype=bfp8_b device=p150` -> Options (MLIR's `{key=value ...}` syntax)."""
    options = Options()
    fields = {f.name: f for f in dataclasses.fields(Options)}
    for item in text.split():
        key, _, value = item.partition("=")
        name = key.replace("-", "_")
        if name not in fields or not value:
            raise PipelineError(f"unknown pass option '{item}' (options: "
                                f"{', '.join(n.replace('_', '-') for n in fields)})")
        if fields[name].type in (bool, "bool"):
            if value not in ("true", "false", "1", "0"):
                raise PipelineError(f"option '{key}' takes true or false, got '{value}'")
            setattr(options, name, value in ("true", "1"))
            continue
        allowed = Options.CHOICES.get(name)
        if allowed and value not in allowed:
            raise PipelineError(f"option '{key}' takes one of {', '.join(allowed)}, got '{value}'")
        setattr(options, name, value)
    return options


def expand(element: str) -> list[str]:
    name = element.split("{", 1)[0].strip()
    if name in PIPELINES:
        options = element[len(name):]
        return [e + options if e in PASSES else e for e in PIPELINES[name][1]]
    return [element]


def verifies_convs_first(pipeline: str | None) -> bool:
    """Whether the first pass of `pipeline` reads and checks every `ttir.conv2d` before
    anything else reads or changes the module (then the parser need not check them too)."""
    if not pipeline:
        return False
    text = pipeline.strip()
    if text.startswith("builtin.module(") and text.endswith(")"):
        text = text[len("builtin.module("):-1]
    parts = split_top_level(text)
    first = expand(parts[0])[0] if parts else ""
    name = first.split("{", 1)[0].strip()
    return getattr(PASSES.get(name), "verifies_convs", False)


# Upstream passes that leave our ops, and the types of their operands, as they are: IRDL
# ops have no canonicalization patterns or folders, and a folded value keeps its type.
KEEPS_OUR_OPS = ("canonicalize",)


def builds_checked_ir(pipeline: str | None) -> bool:
    """Whether every op of ours that `pipeline` leaves was checked when parsed or when built:
    each pass is ours (they check the ops they build, once per distinct op) or leaves our
    ops alone (KEEPS_OUR_OPS). Then run_pipeline need not run the semantic checks again
    over the whole module (at 10k blocks, 26,000 ops)."""
    if not pipeline:
        return True
    text = pipeline.strip()
    if text.startswith("builtin.module(") and text.endswith(")"):
        text = text[len("builtin.module("):-1]
    for element in (e for part in split_top_level(text) for e in expand(part)):
        name = element.split("{", 1)[0].strip()
        if not (getattr(PASSES.get(name), "checks_what_it_builds", False) or name in KEEPS_OUR_OPS):
            return False
    return True


def build_pass_manager(pipeline: str, context, diagnostics: list[Diagnostic],
                       source_name: str | None = None, *, print_ir_after_all: bool = False):
    """A PassManager for `pipeline` (with or without the `builtin.module(...)` anchor).

    MLIR's verifier checks the whole module after every pass that is not ours and at the
    end of the pipeline, but not between passes of ours that verify what they build
    (`verifies_what_it_builds`: each runs the op verifier and our semantic checks on the
    first op of every kind it builds, and builds the others alike; the ops they leave
    were verified when parsed). At 10k blocks each whole-module verification costs
    0.06-0.08 s. With `print_ir_after_all` (debugging) it runs after every pass, as
    upstream's pass manager does by default."""
    text = pipeline.strip()
    if text.startswith("builtin.module(") and text.endswith(")"):
        text = text[len("builtin.module("):-1]
    elif text.startswith("builtin.module"):
        raise PipelineError(f"malformed pipeline '{pipeline}'")
    with context:
        manager = passmanager.PassManager("builtin.module")
        if print_ir_after_all:
            manager.enable_ir_printing(print_after_all=True)
        else:
            manager.enable_verifier(False)
        unverified = False  # a pass ran since the last whole-module verification
        for element in (e for part in split_top_level(text) for e in expand(part)):
            name, _, rest = element.partition("{")
            name = name.strip()
            if name in PASSES:
                if rest and not rest.rstrip().endswith("}"):
                    raise PipelineError(f"malformed options in '{element}'")
                options = parse_options(rest.rstrip()[:-1] if rest else "")
                instance = PASSES[name](options, diagnostics, source_name)
                prepare = getattr(instance, "prepare_context", None)
                if prepare is not None:  # ops it builds: registering one while passes run aborts
                    prepare(context)
                manager.add(_stopping_on_error(instance.run, diagnostics),
                            name=type(instance).__name__, argument=name)
                trusted = getattr(instance, "verifies_what_it_builds", False)
            else:
                try:
                    manager.add(element)
                except ValueError as problem:
                    raise PipelineError(str(problem).strip().splitlines()[0]) from None
                trusted = False
            if print_ir_after_all:
                continue  # the pass manager's verifier runs after every pass
            unverified = trusted
            if not trusted:
                _add_verifier(manager, diagnostics, source_name)
        if unverified:
            _add_verifier(manager, diagnostics, source_name)
    return manager


def _stopping_on_error(run, diagnostics: list[Diagnostic]):
    """A pass of ours reports errors as diagnostics; one that did fails, and the pipeline
    stops there (as MLIR's does): no later pass reads what it refused or left half-done."""
    def run_pass(op, pass_) -> None:
        before = len(diagnostics)
        run(op)
        if any(d.severity == "error" for d in diagnostics[before:]):
            pass_.signal_pass_failure()

    return run_pass


def _add_verifier(manager, diagnostics: list[Diagnostic], source_name: str | None) -> None:
    """MLIR's verifier on the whole module, as a pass: its errors go to `diagnostics`."""
    def verify_module(op, pass_) -> None:
        found = verify(op, source_name)
        if found:
            diagnostics.extend(found)
            pass_.signal_pass_failure()

    manager.add(verify_module, name="Verifier", argument="tt-dw-verify")
