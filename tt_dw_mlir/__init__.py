"""tt-dw-mlir: depthwise convs of TTIR onto Tenstorrent's pool2d kernels.

    import tt_dw_mlir
    compiled = tt_dw_mlir.compile(model, torch.randn(1, 3, 224, 224))   # see api.compile
    y = compiled(x)

`torch.compile(model, backend="tt_dw")` uses the same compiler (a dynamo backend
registered through the `torch_dynamo_backends` entry point). Heavy imports
(torch, MLIR) happen on first use.
"""

_FROM_API = ("compile", "CompiledModel", "CompileReport", "LayerRecord")
__all__ = [*_FROM_API, "register_only_what_we_use"]


def register_only_what_we_use() -> bool:
    """Have this process's MLIR bindings register only the dialects and passes the plugin
    builds and runs (`tt_dw_mlir.ir.BUILT_DIALECTS`, `UPSTREAM_PASSES`), not every upstream
    dialect (~50) and pass (~400). Effective only before MLIR's bindings are first imported
    (returns whether it was). For a process that builds its IR through the bindings and
    runs the plugin's pipeline, like `tt-dw`; never for one that reads IR of any dialect or
    runs any pipeline (`tt-dw-opt`, most library users).

    The PyPI bindings' site initialisation imports `_mlirRegisterEverything` when `mlir` is
    first imported, and goes on without it (a build may lack it); `tt_dw_mlir.ir` then
    registers what it needs. Registering every pass constructs each one to read its name;
    with every dialect, that runs code all over libMLIRPythonCAPI and libLLVM: measured in
    a just-created venv (whose page cache maps freshly written libraries in large folios),
    38 MiB of the peak of `tt-dw run --model mobilenetv2`. None in sys.modules is Python's
    way to make an import fail (ModuleNotFoundError), which the initialisation skips."""
    import sys

    name = "mlir._mlir_libs._mlirRegisterEverything"
    if "mlir._mlir_libs" in sys.modules or "ttmlir" in sys.modules:
        return False
    sys.modules.setdefault(name, None)
    return sys.modules[name] is None


def __getattr__(name: str):
    if name in _FROM_API:
        from tt_dw_mlir import api

        return getattr(api, name)
    raise AttributeError(f"module 'tt_dw_mlir' has no attribute '{name}'")
