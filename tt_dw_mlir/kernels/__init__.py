"""The TT-Lang kernels of the depthwise pool2d program (README.md in this folder).

The kernel files are plain TT-Lang: they `import ttl` and are compiled by the
tt-lang compiler (`import tt_dw_mlir.kernels.depthwise_pool_op` where tt-lang
is installed) or run by tt-lang-sim. `load(ttl)` loads them afresh with
`import ttl` bound to a given DSL namespace, as private modules, so the
simulator backend (which passes tt-lang-sim's namespace) and a compiler
backend can live in one process without rebinding each other's `ttl`. Files
are found with `importlib.resources`; program attributes name them by their
path inside the `tt_dw_mlir` package (`kernel_file`).
"""

from __future__ import annotations

import importlib
import importlib.resources
import sys
import threading
from types import ModuleType
from typing import Any

PACKAGE_ROOT = "tt_dw_mlir"
KERNEL_MODULES = ("depthwise_pool_reader", "depthwise_pool_compute", "depthwise_pool_writer",
                  "depthwise_pool_op")
_loaded: dict[str, ModuleType] = {}
_lock = threading.Lock()


def kernel_file(path: str):
    """The file a program attribute names (a path inside the tt_dw_mlir package)."""
    return importlib.resources.files(PACKAGE_ROOT).joinpath(path)


def load(ttl: Any, tag: str) -> ModuleType:
    """`depthwise_pool_op`, loaded with every kernel module's `import ttl` bound to `ttl`.

    The modules are `tt_dw_mlir.kernels._<tag>.<name>`, loaded once per tag from this
    folder; `sys.modules["ttl"]` is shadowed only while they execute (tt-lang-sim's
    launcher shadows it for the whole process instead).
    """
    with _lock:
        if tag in _loaded:
            return _loaded[tag]
        name = f"{__name__}._{tag}"
        package = ModuleType(name)
        package.__path__ = [str(importlib.resources.files(__name__))]
        package.__package__ = name
        saved = sys.modules.get("ttl")
        sys.modules[name] = package
        sys.modules["ttl"] = ttl
        try:
            module = importlib.import_module(f"{name}.depthwise_pool_op")
        finally:
            if saved is None:
                sys.modules.pop("ttl", None)
            else:
                sys.modules["ttl"] = saved
        _loaded[tag] = module
        return module


__all__ = ["KERNEL_MODULES", "kernel_file", "load"]
