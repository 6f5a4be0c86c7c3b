"""The "ttnn" backend: a Tenstorrent device through ttnn, when one is present.

ttnn has no Python 3.11 wheel on PyPI and none of its ops run without a
device (DESIGN.md §2), so on a machine without one every call raises
DeviceUnavailable with the reason, and tests skip with it.
"""

from __future__ import annotations

from typing import Any

import torch

from ..program import KernelProgram


class DeviceUnavailable(RuntimeError):
    """No Tenstorrent device (or no ttnn / tt-lang compiler) on this machine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _import_ttnn():
    try:
        import ttnn
    except ImportError as err:
        raise DeviceUnavailable(f"ttnn is not installed ({err}); it has no Python 3.11 wheel "
                                f"and needs a Tenstorrent device") from None
    # tt-lang-sim's launcher can shadow `ttnn` with its simulator module
    if getattr(ttnn, "__name__", "").startswith("ttl.sim") or hasattr(ttnn, "TTNN_AVAILABLE"):
        raise DeviceUnavailable("`ttnn` is tt-lang-sim's simulated ttnn, not a device runtime")
    return ttnn


def device_available() -> tuple[bool, str]:
    """(True, "") when a Tenstorrent device can be opened, else (False, reason)."""
    try:
        ttnn = _import_ttnn()
        count = ttnn.GetNumAvailableDevices() if hasattr(ttnn, "GetNumAvailableDevices") else 0
        if count < 1:
            return False, "ttnn found no Tenstorrent device"
    except DeviceUnavailable as err:
        return False, err.reason
    except Exception as err:  # driver / firmware errors: report them, do not crash
        return False, f"ttnn could not enumerate devices: {err}"
    return True, ""


def open_device(device_id: int = 0) -> Any:
    ok, reason = device_available()
    if not ok:
        raise DeviceUnavailable(reason)
    ttnn = _import_ttnn()
    try:
        return ttnn.open_device(device_id=device_id)
    except Exception as err:
        raise DeviceUnavailable(f"ttnn.open_device({device_id}) failed: {err}") from None


def run_device(program: KernelProgram, x_nhwc: Any, prepared_weights: Any,
               prepared_bias: Any = None) -> torch.Tensor:
    """Run the kernels on a device. Needs ttnn, a device and the tt-lang compiler."""
    device = open_device()
    ttnn = _import_ttnn()
    try:
        try:
            import ttl
            ttl.operation  # the compiler build exports the DSL; the sim-only wheel does not
        except (ImportError, AttributeError):
            raise DeviceUnavailable("a Tenstorrent device is present but the tt-lang compiler "
                                    "(`ttl`) is not installed") from None
        raise DeviceUnavailable("running the TT-Lang kernels on hardware is not wired up yet: "
                                "this build was only validated on tt-lang-sim")
    finally:
        ttnn.close_device(device)
