"""Frontends: PyTorch (torch.export) and ONNX models -> an in-memory TTIR module.

    from tt_dw_mlir.frontends import torch_to_ttir, onnx_to_ttir
    network = torch_to_ttir(model, (x,))   # TTIRModule: .module, .text, .convs, .steps, ...
"""

from .torch_export import torch_to_ttir
from .ttir_emitter import (EMITTED_OPS, ConvLayer, HostStep, ModelError, TTIRCall, TTIRModule,
                           UnsupportedOpError)


def __getattr__(name: str):
    # `onnx_to_ttir` imports onnx (~60 ms, ~17 MB) on first use, not for torch models
    if name == "onnx_to_ttir":
        from .onnx_import import onnx_to_ttir

        return onnx_to_ttir
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run_ttir(*args, **kwargs):
    """`tt_dw_mlir.executor.run_ttir` (kept here for existing callers)."""
    from ..executor import run_ttir as run

    return run(*args, **kwargs)


__all__ = ["torch_to_ttir", "onnx_to_ttir", "TTIRModule", "ConvLayer", "HostStep", "TTIRCall",
           "ModelError", "UnsupportedOpError", "EMITTED_OPS", "run_ttir"]
