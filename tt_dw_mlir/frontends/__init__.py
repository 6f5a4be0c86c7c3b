"""Frontends: PyTorch (torch.export) and ONNX models -> tt-mlir TTIR text.

    from tt_dw_mlir.frontends import torch_to_ttir, onnx_to_ttir
    module = torch_to_ttir(model, (x,))      # TTIRModule: .text, .convs, ...
"""

from .onnx_import import onnx_to_ttir
from .torch_export import torch_to_ttir
from .ttir_emitter import EMITTED_OPS, ConvLayer, TTIRModule, UnsupportedOpError
from .ttir_reference import run_ttir

__all__ = ["torch_to_ttir", "onnx_to_ttir", "TTIRModule", "ConvLayer",
           "UnsupportedOpError", "EMITTED_OPS", "run_ttir"]
