"""A non-editable install runs a layer on the simulator and on the reference backend (whose
compiled kernel the install builds) from outside the source tree.

A copy of the project is built and installed (`pip install --no-deps
--no-build-isolation`, offline, by the new venv's own pip) into a fresh venv in a
temporary directory; its dependencies come from this test's environment through
PYTHONPATH (which, unlike a .pth file, does not activate this environment's
editable install, and which pip does not uninstall from: it lies outside the venv). The layer then runs from the
temporary directory, so only packaged files - the kernels found with
importlib.resources among them - are there to be found.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import pathlib, torch, tt_dw_mlir, tt_dw_mlir.kernels
from tt_dw_mlir.conv_config import DepthwiseConv
from tt_dw_mlir.layout import prepare_weights
from tt_dw_mlir.program import plan_program
from tt_dw_mlir.runtime import execute

package = pathlib.Path(tt_dw_mlir.__file__).resolve().parent
print("package", package)
conv = DepthwiseConv(1, 6, 6, 32, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), False, "relu")
program = plan_program(conv, {"base": "n150", "name": "n150_1x2", "grid": [1, 2]})
assert program.verify() == [], program.verify()
x = torch.randn(1, 6, 6, 32, generator=torch.Generator().manual_seed(0))
w = torch.randn(32, 1, 3, 3, generator=torch.Generator().manual_seed(1))
y = execute(program, x, prepare_weights(w, program.layout), backend="sim")
want = torch.relu(torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), w, padding=1, groups=32))
err = float((y - want.permute(0, 2, 3, 1)).abs().max()) / max(1.0, float(want.abs().max()))
print("relative_error", err)
ref = execute(program, x, prepare_weights(w, program.layout), backend="reference")
print("reference_same_bits", bool(torch.equal(ref.view(torch.int32), y.view(torch.int32))))
import tt_dw_mlir.runtime._dwconv as kernel
print("kernel", pathlib.Path(kernel.__file__).resolve())
"""


def test_non_editable_install_runs_a_layer_on_the_simulator(tmp_path):
    # build from a copy: nothing is written into the source tree (build/, *.egg-info)
    source = tmp_path / "source"
    # (not the editable install's compiled kernel: the install must build its own)
    shutil.copytree(ROOT / "tt_dw_mlir", source / "tt_dw_mlir",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)  # ensurepip: bundled, offline
    python = env_dir / "bin" / "python"
    deps = os.pathsep.join(site.getsitepackages())
    env = dict(os.environ, PYTHONPATH=deps, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    # the new venv's own pip installs into it; this environment's editable install of
    # tt-dw-mlir, visible through PYTHONPATH, lies outside that venv and is left alone
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-cache-dir", str(source)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert install.returncode == 0, install.stdout + install.stderr
    run = subprocess.run([str(python), "-c", SCRIPT], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines() if " " in line)
    package = Path(lines["package"])
    assert env_dir.resolve() in package.parents, f"imported {package}, not the installed copy"
    assert ROOT not in package.parents
    assert (package / "kernels" / "depthwise_pool_reader.py").is_file()
    # the reference backend's compiled kernel was built by this install and gives the
    # simulator's bits
    assert package in Path(lines["kernel"]).parents
    assert lines["reference_same_bits"] == "True"
    # bf16 input, weights and output: a few roundings of 2**-8 relative
    assert float(lines["relative_error"]) < 0.02
