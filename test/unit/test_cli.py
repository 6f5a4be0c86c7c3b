"""`tt-dw run` / `tt-dw compile`: table and JSON content, IR files, error paths.

Most tests use a tiny ONNX model (two depthwise convs) exported here; one runs the
built-in MobileNetV2 at 32x32. Thresholds are the accuracy targets of DESIGN.md §6.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from tt_dw_mlir.api import compile_text, lowered_layers
from tt_dw_mlir.frontends import run_ttir, torch_to_ttir
from tt_dw_mlir.runtime import available_backends
from tt_dw_mlir.tools import cli

TT_DW = Path(sys.executable).parent / "tt-dw"


class Tiny(nn.Module):
    """Stem, 3x3 depthwise + BN + ReLU6, pointwise, 5x5 stride-2 depthwise + SiLU, a grouped conv."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.dw1 = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False),
                                 nn.BatchNorm2d(16), nn.ReLU6())
        self.pw = nn.Conv2d(16, 48, 1)
        self.dw2 = nn.Sequential(nn.Conv2d(48, 48, 5, 2, 2, groups=48), nn.SiLU())
        self.grouped = nn.Conv2d(48, 48, 3, 1, 1, groups=2)  # not depthwise: not in the table
        self.head = nn.Linear(48, 10)

    def forward(self, x):
        x = self.grouped(self.dw2(self.pw(self.dw1(self.stem(x)))))
        return self.head(x.mean((2, 3)))


def _export(module: nn.Module, x: torch.Tensor, path: Path) -> Path:
    torch.onnx.export(module.eval(), (x,), str(path), dynamo=False, input_names=["x"])
    return path


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory) -> Path:
    torch.manual_seed(3)
    model = Tiny()
    with torch.no_grad():  # non-trivial batch-norm statistics
        for bn in (model.stem[1], model.dw1[1]):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
    return _export(model, torch.randn(1, 3, 32, 32), tmp_path_factory.mktemp("tiny") / "tiny.onnx")


def _run_json(capsys, *argv) -> dict:
    assert cli.main([*argv, "--json", "--no-progress"]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_json_converts_both_depthwise_layers(tiny_onnx, tmp_path, capsys):
    out = tmp_path / "o"
    r = _run_json(capsys, "run", str(tiny_onnx), "--out", str(out))
    assert (r["model"], r["kind"], r["backend"], r["weight_dtype"]) == ("tiny", "onnx", "reference", "bf16")
    assert r["depthwise_layers"] == 2 and r["converted"] == 2
    first, second = r["layers"]
    assert (first["input_shape"], first["output_shape"], first["kernel"], first["stride"]) == \
        ([1, 16, 16, 16], [1, 16, 16, 16], [3, 3], [1, 1])
    assert (second["input_shape"], second["output_shape"], second["kernel"], second["stride"]) == \
        ([1, 16, 16, 48], [1, 8, 8, 48], [5, 5], [2, 2])
    assert (first["activation"], second["activation"]) == ("relu6", "silu")
    for layer in r["layers"]:
        assert layer["converted"] and layer["reason"] is None and layer["backend"] == "reference"
        assert layer["pcc"] >= 0.9999
        assert 0 < layer["max_abs_error"] < 0.05
        assert layer["layout"]["scheme"] in ("height_sharded", "width_sharded", "block_sharded")
        assert layer["layout"]["cores"] >= 1 and layer["layout"]["channel_shards"] >= 1
        assert layer["cost"]["pool_us"] > 0 and layer["cost"]["matmul_us"] > 0
        assert "not a measurement" in layer["cost"]["estimate"]
        assert layer["cost"]["ratio"] == pytest.approx(layer["cost"]["matmul_us"] / layer["cost"]["pool_us"])
    assert r["end_to_end"]["pcc"] >= 0.999 and r["end_to_end"]["layers_on_our_path"] == 2
    files = {k: Path(v) for k, v in r["files"].items()}
    assert files == {"ttir": out / "tiny.ttir.mlir", "pool": out / "tiny.pool.mlir",
                     "program": out / "tiny.program.mlir"}
    assert files["ttir"].read_text().count('"ttir.conv2d"') == 5
    pool = files["pool"].read_text()
    assert pool.count("ttnn.depthwise_pool_conv") == 2 and "ttnn.depthwise_pool_program" not in pool
    program = files["program"].read_text()
    assert program.count("ttnn.depthwise_pool_program") == 2 and "ttnn.depthwise_pool_conv\"" not in program


def test_program_file_matches_one_shot_pipeline(tiny_onnx, tmp_path, capsys):
    r = _run_json(capsys, "compile", str(tiny_onnx), "--out", str(tmp_path), "--device", "p150")
    ttir = Path(r["files"]["ttir"]).read_text()
    one_shot = compile_text(ttir, "builtin.module(tt-depthwise-pool-pipeline{device=p150 path=pool})")
    from tt_dw_mlir.api import parse_module

    staged = parse_module(Path(r["files"]["program"]).read_text())
    # the written file keeps the layer names (debug info) and the one-shot pipeline's programs
    assert [(l.name, l.program) for l in lowered_layers(staged)] == \
        [(l.name, l.program) for l in lowered_layers(one_shot.module)]
    assert len(lowered_layers(staged)) == 2
    for a, b in zip(lowered_layers(staged), lowered_layers(one_shot.module)):
        np.testing.assert_array_equal(a.weights, b.weights)


def test_table_text(tiny_onnx, tmp_path, capsys):
    assert cli.main(["run", str(tiny_onnx), "--out", str(tmp_path), "--no-progress"]) == 0
    text = capsys.readouterr().out.strip().splitlines()
    header = next(i for i, line in enumerate(text) if line.startswith("layer "))
    assert "PCC" in text[header] and "max|err|" in text[header]
    rows = text[header + 2:header + 4]
    assert all(" yes " in row for row in rows)
    pcc_column = text[header].index("PCC")
    assert all(float(row[pcc_column:].split()[0]) >= 0.9999 for row in rows)
    assert text[-1].startswith("end-to-end PCC vs onnxruntime: ")
    assert float(text[-1].split(": ")[1].split()[0]) >= 0.999


def test_rejections_carry_the_pass_remark(tiny_onnx, tmp_path, capsys):
    r = _run_json(capsys, "run", str(tiny_onnx), "--out", str(tmp_path), "--path", "matmul")
    assert r["converted"] == 0 and len(r["layers"]) == 2
    for layer in r["layers"]:
        assert not layer["converted"] and "path=matmul" in layer["reason"]
        assert layer["pcc"] is None and layer["layout"] is None
    assert r["end_to_end"]["layers_on_our_path"] == 0
    assert r["end_to_end"]["pcc"] >= 0.999  # all torch, bf16 weights


def test_compile_only(tiny_onnx, tmp_path, capsys):
    assert cli.main(["compile", "--model", str(tiny_onnx), "--out", str(tmp_path), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "PCC" not in text and "end-to-end" not in text
    assert "converted 2 of 2 depthwise convs" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.pool.mlir", "tiny.program.mlir",
                                                         "tiny.ttir.mlir"]


def test_block_float_weights(tiny_onnx, tmp_path, capsys):
    r = _run_json(capsys, "run", str(tiny_onnx), "--out", str(tmp_path), "--dtype", "bfp8_b")
    assert r["weight_dtype"] == "bfp8_b" and r["converted"] == 2
    assert all(layer["pcc"] >= 0.999 for layer in r["layers"])


@pytest.mark.skipif("sim" not in available_backends(), reason="tt-lang-sim is not installed")
def test_sim_backend_runs_the_first_layers(tiny_onnx, tmp_path, capsys):
    r = _run_json(capsys, "run", str(tiny_onnx), "--out", str(tmp_path), "--backend", "sim",
                  "--sim-layers", "1")
    assert [layer["backend"] for layer in r["layers"]] == ["sim", "reference"]
    assert all(layer["pcc"] >= 0.9999 for layer in r["layers"])


def test_builtin_default_model_at_low_resolution(tmp_path, capsys):
    r = _run_json(capsys, "run", "--resolution", "32", "--out", str(tmp_path))
    assert r["model"] == "mobilenetv2" and r["input_shapes"] == [[1, 3, 32, 32]]
    assert r["depthwise_layers"] == 17 and r["converted"] == 17
    assert [l["name"] for l in r["layers"]][:2] == ["features.1.conv.0.0", "features.2.conv.1.0"]
    assert min(l["pcc"] for l in r["layers"]) >= 0.9999
    assert r["end_to_end"]["pcc"] >= 0.99


def test_run_frees_the_model_after_its_oracle_before_the_passes(tmp_path, capsys, monkeypatch):
    """The oracle runs once the network is imported (and checked), before the passes; then
    the model (its float32 weights) is gone before the passes run and the IR is printed."""
    import weakref

    from tt_dw_mlir import api

    built, events = [], []
    real_model, real_oracle, real_pipeline = cli._torch_model, cli.run_oracle, api.run_pipeline

    def torch_model(*a):
        model = real_model(*a)
        built.append(weakref.ref(model))
        return model

    monkeypatch.setattr(cli, "_torch_model", torch_model)
    monkeypatch.setattr(cli, "run_oracle", lambda *a: events.append("oracle") or real_oracle(*a))
    monkeypatch.setattr(api, "run_pipeline", lambda *a, **k: events.append(
        "passes, model " + ("alive" if built[0]() is not None else "freed")) or real_pipeline(*a, **k))
    r = _run_json(capsys, "run", "--resolution", "32", "--out", str(tmp_path))
    assert events == ["oracle", "passes, model freed", "passes, model freed"]
    assert r["end_to_end"]["pcc"] >= 0.99


def test_tt_dw_registers_only_the_mlir_it_uses(tmp_path, capsys):
    """The `tt-dw` process registers func, irdl and canonicalize, not every upstream dialect
    and pass, and writes the same IR (and report) as a process with all of them."""
    import tt_dw_mlir

    assert not tt_dw_mlir.register_only_what_we_use()  # too late here: MLIR is imported
    probe = ("import tt_dw_mlir; assert tt_dw_mlir.register_only_what_we_use(); "
             "from tt_dw_mlir.ir import new_context; c = new_context(); "
             "print([c.is_registered_operation(op) for op in "
             "('func.func', 'irdl.dialect', 'linalg.generic', 'arith.constant')])")
    probed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert probed.returncode == 0, probed.stderr
    assert probed.stdout.strip() == "[True, True, False, False]"
    argv = ["run", "--resolution", "32", "--json", "--no-progress", "--out"]
    lean = subprocess.run([sys.executable, "-m", "tt_dw_mlir.tools.cli", *argv, str(tmp_path / "lean")],
                          capture_output=True, text=True)
    assert lean.returncode == 0, lean.stderr
    full = _run_json(capsys, *argv[:3], "--out", str(tmp_path / "full"))
    report = json.loads(lean.stdout)
    assert report["layers"] == full["layers"] and report["end_to_end"] == full["end_to_end"]
    for stage in ("ttir", "pool", "program"):
        name = f"mobilenetv2.{stage}.mlir"
        assert (tmp_path / "lean" / name).read_bytes() == (tmp_path / "full" / name).read_bytes()


# ----------------------------------------------------------------------------- errors
def _fails(capsys, *argv) -> str:
    assert cli.main(list(argv)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_missing_file(capsys, tmp_path):
    err = _fails(capsys, "run", str(tmp_path / "absent.onnx"))
    assert "no such file" in err and "absent.onnx" in err


def test_unknown_model(capsys):
    err = _fails(capsys, "run", "--model", "resnet50")
    assert "unknown model 'resnet50'" in err and "mobilenetv2" in err


def test_corrupt_onnx(capsys, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a protobuf \x00\xff")
    assert "cannot read" in _fails(capsys, "compile", str(bad), "--out", str(tmp_path / "o"))


def test_bad_option(capsys):
    assert "--weight-dtype" in _fails(capsys, "run", "--dtype", "fp8")


@pytest.mark.skipif("ttnn" in available_backends(), reason="a device is present")
def test_unavailable_backend(capsys):
    assert "backend 'ttnn' is not available" in _fails(capsys, "run", "--backend", "ttnn")


class WithMaxPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)

    def forward(self, x):
        return nn.functional.max_pool2d(self.dw(x), 2)


def test_model_with_maxpool_runs_whole(tmp_path):
    # MaxPool has a TTIR mapping now (ttir.max_pool2d); the model is no longer refused
    path = _export(WithMaxPool(), torch.randn(1, 8, 16, 16), tmp_path / "maxpool.onnx")
    done = subprocess.run([str(TT_DW), "run", str(path), "--out", str(tmp_path / "o"), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["end_to_end"]["pcc"] > 0.999


# ----------------------------------------------------------------------------- pieces
def test_run_ttir_override_replaces_one_op():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU()).eval()
    x = torch.randn(1, 3, 4, 4)
    module = torch_to_ttir(model, (x,), dtype="f32")
    seen = []

    def override(op, loc, xs):
        seen.append(op)
        return torch.full_like(xs[0], 2.0) if op == "ttir.relu" else None

    (out,), _ = run_ttir(module, [x], override=override)
    assert torch.equal(out, torch.full((1, 4, 4, 4), 2.0))
    assert "ttir.conv2d" in seen and "ttir.constant" not in seen


def test_progress_bar():
    import io

    stream = io.StringIO()
    bar = cli.Progress(True, stream)
    bar.start(3, "run")
    for name in "abc":
        bar.step(name)
    bar.finish()
    assert "3/3" in stream.getvalue() and "#" * 24 in stream.getvalue()
    quiet = io.StringIO()
    cli.Progress(False, quiet).start(3, "run")
    assert quiet.getvalue() == ""


# ----------------------------------------------------------------------------- oracle, report
def test_onnx_run_is_checked_against_onnxruntime(tiny_onnx, tmp_path, capsys):
    r = _run_json(capsys, "run", str(tiny_onnx), "--out", str(tmp_path))
    e2e = r["end_to_end"]
    assert e2e["reference"] == "onnxruntime" and r["host_ops"] == []
    assert e2e["pcc"] >= 0.999 and e2e["baseline_pcc"] >= 0.999
    assert e2e["target_pcc"] == 0.99 and r["accuracy_warnings"] == []
    for layer in r["layers"]:  # max|err| / max|ref| of the layer's own output
        assert 0 < layer["relative_error"] < 0.02
        assert layer["relative_error"] <= layer["max_abs_error"] / 0.1


def test_builtin_run_is_checked_against_the_torch_module(tmp_path, capsys):
    r = _run_json(capsys, "run", "--input-shape", "1x3x24x40", "--out", str(tmp_path))
    assert r["end_to_end"]["reference"] == "torch"
    assert r["input_shapes"] == [[1, 3, 24, 40]]  # non-square
    assert r["layers"][0]["input_shape"] == [1, 12, 20, 32]
    assert r["converted"] == r["depthwise_layers"] == 17


def test_accuracy_warnings_name_every_layer_under_target():
    layers = [{"name": "a", "pcc": 0.97}, {"name": "b", "pcc": 0.99}, {"name": "c", "pcc": None}]
    result = {"weight_dtype": "bfp4_b", "layers": layers,
              "end_to_end": {"pcc": 0.87, "target_pcc": 0.98, "baseline_pcc": 0.995}}
    warnings = cli.accuracy_warnings(result)
    assert len(warnings) == 2
    assert warnings[0].startswith("layer a: PCC 0.970000 is under the bfp4_b target 0.98")
    assert "end-to-end PCC 0.870000" in warnings[1] and "0.995000" in warnings[1]
    result["weight_dtype"] = "bf16"  # the same numbers fail bf16's 0.9999 on both layers
    assert len(cli.accuracy_warnings(result)) == 3


def test_block_float4_warnings_match_the_layers_under_target(tiny_onnx, tmp_path, capsys):
    r = _run_json(capsys, "run", str(tiny_onnx), "--out", str(tmp_path), "--dtype", "bfp4_b")
    under = [l["name"] for l in r["layers"] if l["pcc"] < 0.98]
    assert [w.split(":")[0] for w in r["accuracy_warnings"] if w.startswith("layer ")] == \
        [f"layer {name}" for name in under]


def test_html_report(tiny_onnx, tmp_path, capsys):
    page = tmp_path / "sub" / "report.html"
    r = _run_json(capsys, "run", str(tiny_onnx), "--out", str(tmp_path), "--report", str(page))
    assert r["files"]["report"] == str(page)
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text and "http" not in text
    assert text.count("<svg") == 3 + r["converted"]  # PCC, error, cost charts; one grid per layer
    for layer in r["layers"]:
        assert layer["name"] in text and f"{layer['pcc']:.6f}" in text
        rows, cols = layer["layout"]["device_grid"]
        grid = text.split(f'title="{layer["name"]}"')[1].split("</svg>")[0]
        assert grid.count("<rect") == rows * cols  # every core drawn
        assert grid.count('fill="#edf2f7"') == rows * cols - layer["layout"]["cores"]  # idle ones


# ----------------------------------------------------------------------------- input shapes
def test_parse_input_shape():
    assert cli.parse_input_shape("1x3x48x320") == (None, (1, 3, 48, 320))
    assert cli.parse_input_shape("images=1X3X48X320") == ("images", (1, 3, 48, 320))
    for bad in ("", "1x", "x3", "1x3x-4x4", "1,3,4,4", "a=b", "1x0x4x4", "1x3x4.5x4"):
        with pytest.raises(Exception):
            cli.parse_input_shape(bad)


@pytest.fixture(scope="module")
def dynamic_onnx(tmp_path_factory) -> Path:
    """Tiny with a dynamic batch, height and width (the exporter's dynamic_axes)."""
    torch.manual_seed(4)
    path = tmp_path_factory.mktemp("dyn") / "dyn.onnx"
    torch.onnx.export(Tiny().eval(), (torch.randn(1, 3, 32, 32),), str(path), dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}})
    return path


def test_static_dims_are_the_models_contract(tiny_onnx, capsys, tmp_path):
    err = _fails(capsys, "run", str(tiny_onnx), "--resolution", "16", "--out", str(tmp_path))
    assert "--resolution 16: input 'x'" in err and "static height and width (1x3x32x32)" in err
    err = _fails(capsys, "run", str(tiny_onnx), "--input-shape", "1x3x32x16", "--out", str(tmp_path))
    assert "disagrees with its static dims (1x3x32x32) at dim(s) 3" in err


def test_dynamic_dims_need_a_shape(dynamic_onnx, capsys, tmp_path):
    err = _fails(capsys, "compile", str(dynamic_onnx), "--out", str(tmp_path))
    assert "input 'x'" in err and "dynamic dims (nx3xhxw)" in err and "--input-shape x=1x3xNxN" in err


def test_dynamic_dims_given_by_name_or_position(dynamic_onnx, capsys, tmp_path):
    for given in ("x=1x3x24x40", "1x3x24x40"):
        r = _run_json(capsys, "run", str(dynamic_onnx), "--input-shape", given, "--out", str(tmp_path))
        assert r["input_shapes"] == [[1, 3, 24, 40]] and r["converted"] == 2
        assert r["end_to_end"]["pcc"] >= 0.999


@pytest.mark.parametrize("argv, expected", [
    (["--input-shape", "y=1x3x8x8"], "--input-shape names 'y', but"),
    (["--input-shape", "1x3x8x8", "--input-shape", "1x3x8x8"], "2 --input-shape values for the 1 input"),
    (["--input-shape", "1x3x8"], "has 3 dims; "),
    (["--input-shape", "1x3x8x8", "--resolution", "8"], "either --resolution or --input-shape"),
    (["--input-shape", "1x4x8x8"], "disagrees with its static dims (nx3xhxw) at dim(s) 1"),
])
def test_input_shape_mistakes(dynamic_onnx, capsys, tmp_path, argv, expected):
    assert expected in _fails(capsys, "compile", str(dynamic_onnx), "--out", str(tmp_path), *argv)


# ----------------------------------------------------------------------------- absurd arguments
def _fails_small(capsys, argv: list[str]) -> str:
    """tt-dw must refuse with exit 1 and one `tt-dw: error:` line, allocating nothing large."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    err = _fails(capsys, *argv)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert "internal error" not in err
    assert err.splitlines()[-1].startswith("tt-dw: error: "), err
    assert grown_kib < 256 * 1024  # the refused tensors are all >= 1 GiB
    return err


def test_absurd_resolution_in_a_child_process_stays_small(tmp_path):
    import threading

    # The peak of this child alone (os.wait4), not RUSAGE_CHILDREN: that is the largest of
    # every child pytest has waited for, forked copies of a 2 GB pytest process included.
    with open(tmp_path / "stderr", "w+") as err:
        child = subprocess.Popen([str(TT_DW), "run", "--resolution", "10000", "--out", str(tmp_path)],
                                 stdout=subprocess.DEVNULL, stderr=err)
        timer = threading.Timer(300, child.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    assert child.returncode == 1 and "Traceback" not in stderr
    assert stderr.startswith("tt-dw: error: the input of shape 1x3x10000x10000 would hold")
    assert usage.ru_maxrss < 2 * 2 ** 20  # KiB: < 2 GB


@pytest.mark.parametrize("argv, numbers", [
    (["run", "--resolution", "99999999999999999999"], "29,999,999,999,999,999,999,400,000,000,000,000,000,003 elements"),
    (["run", "--resolution", "10000"], "300,000,000 elements (1,144 MiB in float32)"),
    (["compile", "--resolution", "10000"], "300,000,000 elements"),
    (["run", "--input-shape", "1x3x100000x100000"], "30,000,000,000 elements"),
    (["run", "--seed", "99999999999999999999999"], "99999999999999999999999 is outside 0..9223372036854775806"),
    (["run", "--seed", "-1"], "-1 is outside"),
    (["run", "--resolution", "0"], "must be at least 1"),
])
def test_absurd_arguments_are_refused_early(capsys, tmp_path, argv, numbers):
    err = _fails_small(capsys, [*argv, "--out", str(tmp_path / "o"), "--no-progress"])
    assert numbers in err
    assert not (tmp_path / "o").exists()


def test_largest_activation_is_checked_before_running(dynamic_onnx, tmp_path, capsys):
    # a 2000x2000 input is allowed (12M elements); the 48-channel activation at 1000x1000 is not
    err = _fails_small(capsys, ["run", str(dynamic_onnx), "--resolution", "2000", "--out", str(tmp_path)])
    assert "the network's largest tensor" in err and "48,000,000 elements" in err


def _declared_onnx(path: Path, shape: list[int]) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((3, 1, 3, 3), np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=3, pads=[1, 1, 1, 1], name="dw")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight])
    onnx.save(helper.make_model(graph), str(path))
    return path


def test_model_declaring_a_huge_input_is_refused(capsys, tmp_path):
    path = _declared_onnx(tmp_path / "huge.onnx", [1, 3, 20000, 20000])
    for command in ("run", "compile"):
        err = _fails_small(capsys, [command, str(path), "--out", str(tmp_path / "o")])
        assert "input 'x' of shape 1x3x20000x20000 would hold 1,200,000,000 elements" in err


def test_compile_allocates_no_input(tiny_onnx, tmp_path, capsys, monkeypatch):
    def no_input(*_):
        raise AssertionError("compile made an input")

    monkeypatch.setattr(cli, "_seeded_input", no_input)
    r = _run_json(capsys, "compile", str(tiny_onnx), "--out", str(tmp_path / "a"))
    assert r["converted"] == 2
    r = _run_json(capsys, "compile", "--resolution", "16", "--out", str(tmp_path / "b"))
    assert r["converted"] == 17


def test_json_error_object(capsys, tmp_path):
    assert cli.main(["run", "--model", "resnet50", "--json"]) == 1
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error["kind"] == "input" and "unknown model 'resnet50'" in error["message"]
    assert "tt-dw: error: unknown model" in captured.err
    assert cli.main(["run", "--seed", "x", "--json"]) == 1
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["kind"] == "usage" and "--seed" in error["message"]


def test_version_names_the_tool_and_the_project_version(capsys):
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert cli.main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"tt-dw (tt-dw-mlir {pyproject['project']['version']})"), out
    assert "MLIR bindings:" in out


_MAPPED_AFTER_A_LARGE_FREE = """
import ctypes, sys
from tt_dw_mlir.tools import cli
if sys.argv[1] == "policy":
    cli.return_large_buffers_when_freed()
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.mallinfo2.restype = Info
libc.free(ctypes.c_void_p(libc.malloc(16 << 20)))  # glibc raises its threshold to 16 MiB here
kept = libc.malloc(2 << 20)
print(libc.mallinfo2().hblkhd >= 2 << 20)  # the 2 MiB buffer has a mapping of its own
"""


@pytest.mark.skipif(cli._glibc("mallinfo2") is None, reason="glibc's malloc only (mallinfo2)")
def test_tt_dw_returns_large_buffers_to_the_system_when_freed():
    """A run's activations (MBs each) are mapped and unmapped, not left as holes in the heap
    after glibc has raised its threshold (what grew a MobileNetV2 run by 25 MiB)."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    mapped = {mode: subprocess.run([sys.executable, "-c", _MAPPED_AFTER_A_LARGE_FREE, mode], env=env,
                                   capture_output=True, text=True, check=True).stdout.strip()
              for mode in ("default", "policy")}
    assert mapped == {"default": "False", "policy": "True"}
