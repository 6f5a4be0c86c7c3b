"""What `--tt-depthwise-pool-to-generic` refuses: plans tt-mlir's generic form cannot carry.

The positive forms are checked against tt-mlir's syntax in test/lit/depthwise_pool_to_generic/.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.passes.depthwise_pool_to_generic import CannotExpress, generic_program, named_arg
from tt_dw_mlir.program import plan_program

CONV = DepthwiseConv(1, 8, 8, 32, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), False, "none")


@pytest.mark.parametrize("value", [-1, 2**32])
def test_named_arguments_hold_uint32_only(value):
    # TTNN_KernelArgNamedArgAttr: (StringAttr name, uint32_t value), TTNNOpsAttrs.td
    with pytest.raises(CannotExpress, match=f"'pad_top' = {value} is not a uint32"):
        named_arg("pad_top", value)
    assert named_arg("pad_top", 2**32 - 1) == '#ttnn.kernel_named_arg<name = "pad_top", value = 4294967295>'


def test_a_cb_dtype_without_a_ttcore_data_type_is_refused_by_name(monkeypatch):
    import tt_dw_mlir.passes.depthwise_pool_to_generic as generic

    program = plan_program(replace(CONV, weight_dtype="bfp4_b"), "n150")
    monkeypatch.delitem(generic.CB_DTYPES, "bfp4_b")
    with pytest.raises(CannotExpress, match="dtype bfp4_b has no ttcore data type"):
        generic_program(program)


def test_a_kernel_role_outside_reader_compute_writer_is_refused():
    program = plan_program(CONV, "n150")
    odd = replace(program, kernels=program.kernels + (("halo", "kernels/halo.py"),))
    with pytest.raises(CannotExpress, match="kernel role 'halo'"):
        generic_program(odd)
