"""tt-dw-mlir: depthwise convs of TTIR onto Tenstorrent's pool2d kernels.

    import tt_dw_mlir
    compiled = tt_dw_mlir.compile(model, torch.randn(1, 3, 224, 224))   # see api.compile
    y = compiled(x)

`torch.compile(model, backend="tt_dw")` uses the same compiler (a dynamo backend
registered through the `torch_dynamo_backends` entry point). Heavy imports
(torch, MLIR) happen on first use.
"""

__all__ = ["compile", "CompiledModel", "CompileReport", "LayerRecord"]


def __getattr__(name: str):
    if name in __all__:
        from tt_dw_mlir import api

        return getattr(api, name)
    raise AttributeError(f"module 'tt_dw_mlir' has no attribute '{name}'")
