"""The compiled part of the package; everything else is declared in pyproject.toml.

`_dwconv` is the reference backend's fused depthwise conv (tt_dw_mlir/runtime/_dwconv.c).
-ffp-contract=off: the kernels multiply, round, then add (no fused multiply-add), and the
reference must give their bits. -fopenmp: its threads come from the libgomp torch loads.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "tt_dw_mlir.runtime._dwconv",
    sources=["tt_dw_mlir/runtime/_dwconv.c"],
    extra_compile_args=["-O3", "-std=gnu11", "-ffp-contract=off", "-fopenmp", "-Wall", "-Wextra",
                        "-Wno-psabi"],  # 64-byte vectors never cross a call: all inlined,
    extra_link_args=["-fopenmp"],
)])
