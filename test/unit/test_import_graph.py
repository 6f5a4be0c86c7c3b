"""The package's module-level imports form no circle (issue 12: `ir.py` <-> `irdl_syntax.py`
and `program.py` -> `runtime/sim.py` -> `program.py` were two).

Read from the sources with `ast`, not by importing: an import at module level (also under
`try` / `if` there) is an edge; one inside a function is deferred and is not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tt_dw_mlir

PACKAGE = Path(tt_dw_mlir.__file__).parent


def _modules() -> dict[str, Path]:
    """Python modules, and compiled extensions (C sources: leaves) by the module they build."""
    found = {}
    for path in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.c")]:
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _module_level(body):
    """Statements run when the module is imported (descending into try/if/with blocks)."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody"):
                yield from _module_level(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                yield from _module_level(handler.body)


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        if path.suffix == ".c":
            continue
        for node in _module_level(ast.parse(path.read_text()).body):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # `from pkg import sub` imports the submodule `pkg.sub` when there is one
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules:  # `import a.b.c` of a non-module name
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component that has one (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_circle():
    graph = import_graph()
    assert "tt_dw_mlir.dialect.irdl_syntax" in graph["tt_dw_mlir.ir"]  # the reader sees edges
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_circle():
    graph = import_graph()
    graph["tt_dw_mlir.diagnostics"].add("tt_dw_mlir.ir")  # ir imports diagnostics at module level
    assert any({"tt_dw_mlir.ir", "tt_dw_mlir.diagnostics"} <= set(c) for c in cycles(graph))
