"""Run a KernelProgram: "reference" (a compiled host kernel, same layout, tiles and arithmetic), "sim"
(the TT-Lang kernels on tt-lang-sim) or "ttnn" (a Tenstorrent device, when present).

Every backend quantises at the same tensor boundaries: the input to `conv.dtype`,
the prepared weights and bias to `conv.weight_dtype`, the output to `conv.dtype`
(the simulator computes in fp32 and does not quantise block float itself).
"""

from __future__ import annotations

from typing import Any

import torch

from ..program import KernelProgram
from .device import DeviceUnavailable, device_available
from .reference import run_reference

BACKENDS = ("reference", "sim", "ttnn")


def available_backends() -> list[str]:
    """Backends that can run here ("ttnn" only with a Tenstorrent device)."""
    import importlib.util

    found = ["reference"]
    try:
        if importlib.util.find_spec("ttl.sim") is not None:  # tt-lang-sim, not imported here
            found.append("sim")
    except ImportError:
        pass
    if device_available()[0]:
        found.append("ttnn")
    return found


def execute(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
            prepared_bias: Any = None, backend: str = "reference") -> torch.Tensor:
    """Run `program` on NHWC input `x_nhwc` with prepared (laid-out) weights / bias.

    Returns the NHWC float32 output [N, H_out, W_out, C], activation applied.
    """
    if backend == "reference":  # imported above: a per-call import costs ~1 us
        return run_reference(program, x_nhwc, prepared_weights, prepared_bias)
    if backend == "sim":
        from .sim import run_sim
        return run_sim(program, x_nhwc, prepared_weights, prepared_bias)
    if backend == "ttnn":
        from .device import run_device
        return run_device(program, x_nhwc, prepared_weights, prepared_bias)
    raise ValueError(f"unknown backend '{backend}' (expected one of {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "DeviceUnavailable", "available_backends", "execute"]
