"""The "ttnn" backend: runs on a Tenstorrent device, skips with the reason elsewhere."""

from __future__ import annotations

import pytest
import torch

from dw_cases import dw, make_inputs, pcc, pcc_target, torch_oracle
from tt_dw_mlir.program import plan_program
from tt_dw_mlir.runtime import DeviceUnavailable, available_backends, execute
from tt_dw_mlir.runtime.device import device_available

CONV = dw(1, 14, 14, 64, 3, bias=True, act="relu6")


def test_ttnn_backend_on_device():
    ok, reason = device_available()
    if not ok:
        pytest.skip(f"no Tenstorrent device: {reason}")
    program = plan_program(CONV, "n150")
    x, w, b, pw, pb = make_inputs(CONV, program.layout)
    y = execute(program, x, pw, pb, backend="ttnn")
    assert pcc(y, torch_oracle(CONV, x, w, b)) >= pcc_target(CONV)


def test_without_device_ttnn_raises_device_unavailable_with_reason():
    ok, reason = device_available()
    if ok:
        pytest.skip("a Tenstorrent device is present")
    assert "ttnn" not in available_backends()
    assert {"reference", "sim"} <= set(available_backends())
    program = plan_program(CONV, "n150")
    _, _, _, pw, pb = make_inputs(CONV, program.layout)
    with pytest.raises(DeviceUnavailable) as err:
        execute(program, torch.zeros(1, 14, 14, 64), pw, pb, backend="ttnn")
    assert err.value.reason == reason and reason
