"""Argument and model fuzzing of `tt-dw` (issue 11, items 11-14).

Every case is an argv for `tt-dw`, possibly with a small generated ONNX model whose
attributes are hostile (zero or negative strides, kernels larger than the input,
0-size or mismatching kernels, bogus auto_pad, int8 weights, empty input names,
huge or symbolic declared shapes). A case must end with exit 0, or exit 1 and a last
stderr line `tt-dw: error: ...`; never a signal, a traceback, "internal error", more
than 2 GB of memory or more than 60 s.

Cases run in a child process (this file run as a script, `--runner`) that imports
the tool once and reads one JSON case per line; a child that dies or stalls is
charged to the case it was running and replaced. CI runs a small sample;
benchmarks/fuzz_models_long.py runs the long one (`TT_DW_CLI_FUZZ_CASES=N` here).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

CASE_TIMEOUT_S = 60.0
MEMORY_LIMIT_KIB = 2 * 2 ** 20
FORBIDDEN = ("Traceback", "internal error")

# --------------------------------------------------------------------------- #
# Case generators
# --------------------------------------------------------------------------- #
HUGE = ["99999999999999999999", "10000", "20000", "4096", str(2 ** 63), str(2 ** 31)]
SMALL = ["1", "2", "3", "5", "8", "17"]
JUNK = ["0", "-1", "-3", "abc", "", "1e3", "3.5", " 8", "0x10", "８"]


def _choice(rng: random.Random, *pools: list[str]) -> str:
    return rng.choice(rng.choice(pools))


def _shape_text(rng: random.Random) -> str:
    dims = [rng.choice(["0", "1", "2", "3", "8", "16", "48", "320", "100000", "99999999999"])
            for _ in range(rng.choice([0, 1, 3, 4, 4, 4, 5]))]
    text = rng.choice(["x", "X", ",", "x"]).join(dims)
    if rng.random() < 0.4:
        text = rng.choice(["x=", "input=", "=", "nope=", "a=b=", "x =", ""]) + text
    return text


def conv_model_spec(rng: random.Random) -> dict:
    """A one- or two-node ONNX graph around a valid depthwise Conv, then 0-3 hostile changes."""
    channels = rng.choice([3, 4, 8])
    hw = [rng.choice([3, 5, 8, 16]) for _ in range(2)]
    k = rng.choice([1, 3, 5])
    spec = {"input_name": "x", "declared": [1, channels, *hw], "weight": [channels, 1, k, k],
            "weight_dtype": "float", "bias": rng.choice([None, channels]),
            "attrs": {"group": channels, "pads": [k // 2] * 4, "strides": [rng.choice([1, 2])] * 2},
            "after": rng.choice([None, "Relu", "Clip", "Sigmoid", "MaxPool", "Add"])}
    attrs = spec["attrs"]
    mutations = [
        lambda: spec.__setitem__("input_name", rng.choice(["", "in put", "0"])),
        lambda: spec["declared"].__setitem__(rng.randrange(4), rng.choice(["n", "h", "", 0])),
        lambda: spec.__setitem__("declared", [1, channels] + [rng.choice([20000, 100000, 2 ** 31])] * 2),
        lambda: spec["declared"].__setitem__(rng.choice([2, 3]), rng.choice([1, 2])),
        lambda: attrs.__setitem__("group", rng.choice([1, 2, 0, -1, channels + 1])),
        lambda: spec["weight"].__setitem__(rng.randrange(4), rng.choice([0, 2, 7, 17])),
        lambda: spec.__setitem__("weight_dtype", rng.choice(["float16", "int8"])),
        lambda: spec.__setitem__("bias", rng.choice([0, channels + 1])),
        lambda: attrs.__setitem__("strides", rng.choice([[0, 1], [-1, 1], [1], [1, 1, 1], [3, 3]])),
        lambda: attrs.__setitem__("pads", rng.choice([[-1, 0, 0, 0], [9, 9, 9, 9], [1, 1], [1, 1, 1]])),
        lambda: attrs.__setitem__("dilations", rng.choice([[0, 1], [-2, 1], [2, 2], [1]])),
        lambda: attrs.__setitem__("kernel_shape", rng.choice([[k + 1, k], [3], [0, 0], [k, k]])),
        lambda: attrs.__setitem__("auto_pad", rng.choice(["SAME_UPPER", "SAME_LOWER", "VALID",
                                                          "BOGUS", ""])),
    ]
    for mutate in rng.sample(mutations, rng.choice([0, 0, 1, 1, 2, 3])):
        mutate()
    if "auto_pad" in attrs and attrs["auto_pad"] not in ("NOTSET", ""):
        attrs.pop("pads", None)  # ONNX: pads only with NOTSET (kept when the mutation is both)
    return spec


def build_conv_model(spec: dict, path: Path) -> Path:
    """Write the ONNX file a spec describes (kept as written: no checker, no inference)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    dtype = {"float": np.float32, "float16": np.float16, "int8": np.int8}[spec["weight_dtype"]]
    rng = np.random.default_rng(0)
    weight = (rng.standard_normal(spec["weight"]) * 3).astype(dtype)
    inits = [numpy_helper.from_array(weight, "w")]
    ins = [spec["input_name"], "w"]
    if spec["bias"] is not None:
        inits.append(numpy_helper.from_array(rng.standard_normal(max(spec["bias"], 0)).astype(dtype), "b"))
        ins.append("b")
    nodes = [helper.make_node("Conv", ins, ["y"], name="conv", **spec["attrs"])]
    out = "y"
    if spec["after"] == "Clip":
        inits += [numpy_helper.from_array(np.array(v, np.float32), n) for n, v in (("lo", 0.0), ("hi", 6.0))]
        nodes.append(helper.make_node("Clip", ["y", "lo", "hi"], ["z"], name="clip"))
        out = "z"
    elif spec["after"] == "MaxPool":
        nodes.append(helper.make_node("MaxPool", ["y"], ["z"], name="pool", kernel_shape=[2, 2]))
        out = "z"
    elif spec["after"] == "Add":
        nodes.append(helper.make_node("Add", ["y", "y"], ["z"], name="add"))
        out = "z"
    elif spec["after"]:
        nodes.append(helper.make_node(spec["after"], ["y"], ["z"], name="act"))
        out = "z"
    dims = [d if isinstance(d, str) else d for d in spec["declared"]]
    graph = helper.make_graph(
        nodes, "fuzz", [helper.make_tensor_value_info(spec["input_name"], TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def argument_case(rng: random.Random, *, builtin: bool) -> dict:
    """An argv over the tiny model (or a built-in one, a missing, empty or junk file)."""
    command = rng.choice(["run", "compile", "run", "compile", "", "cost-nope"])
    model = rng.choice(["@tiny"] * 8 + ["@missing.onnx", "@empty.onnx", "@junk.onnx",
                        "@dir", "resnet50", "../..", "-"] + (["mobilenetv2", "efficientnet_b0"] if builtin else []))
    argv = [command, model] if command else [model]
    options = {
        "--resolution": lambda: _choice(rng, HUGE, SMALL, JUNK),
        "--seed": lambda: rng.choice(["0", "7", "-1", str(2 ** 63), str(2 ** 64), "99999999999999999999999", "x"]),
        "--input-shape": lambda: _shape_text(rng),
        "--dtype": lambda: rng.choice(["bf16", "bfp8_b", "bfloat4_b", "fp8", "", "BF16"]),
        "--device": lambda: rng.choice(["n150", "p150", "x", ""]),
        "--path": lambda: rng.choice(["pool", "auto", "matmul", "none"]),
        "--backend": lambda: rng.choice(["reference", "sim", "ttnn", "gpu"]),
        "--sim-layers": lambda: _choice(rng, SMALL, JUNK),
        "--out": lambda: rng.choice(["@out", "@out", "@file", "/proc/tt-dw-denied"]),
        "--report": lambda: rng.choice(["@out/r.html", "/proc/tt-dw-denied/r.html", "@file/r.html"]),
    }
    valid = {"--resolution": lambda: rng.choice(SMALL), "--seed": lambda: rng.choice(["0", "3"]),
             "--dtype": lambda: rng.choice(["bf16", "bfp8_b"]), "--device": lambda: "p150",
             "--path": lambda: rng.choice(["pool", "auto"]), "--backend": lambda: "reference"}
    for flag in rng.sample(list(options), rng.randrange(0, 4)):
        hostile = flag not in valid or rng.random() < 0.4
        argv += [flag, (options if hostile else valid)[flag]()]
    if not builtin and not any(a in ("--resolution", "--input-shape") for a in argv):
        argv += ["--resolution", rng.choice(SMALL)]  # keeps a valid built-in case fast in CI
    if "--out" not in argv:
        argv += ["--out", "@out"]
    argv += rng.choice([[], ["--json"], ["--no-progress"]])
    return {"argv": argv}


def model_case(rng: random.Random) -> dict:
    argv = [rng.choice(["run", "compile"]), "@model"]
    if rng.random() < 0.3:
        argv += ["--input-shape", _shape_text(rng)]
    if rng.random() < 0.2:
        argv += ["--resolution", _choice(rng, SMALL, HUGE)]
    return {"argv": argv + ["--out", "@out", "--json"], "model": conv_model_spec(rng)}


def generated_cases(count: int, seed: int, *, builtin: bool = False) -> list[dict]:
    rng = random.Random(seed)
    return [model_case(rng) if rng.random() < 0.5 else argument_case(rng, builtin=builtin)
            for _ in range(count)]


# --------------------------------------------------------------------------- #
# Running cases in a child
# --------------------------------------------------------------------------- #
def _materialise(case: dict, work: Path, tiny: Path) -> list[str]:
    out = work / "out"
    (work / "file").write_text("not a folder")
    (work / "empty.onnx").write_bytes(b"")
    (work / "junk.onnx").write_bytes(os.urandom(64))
    (work / "dir").mkdir(exist_ok=True)
    if "model" in case:
        build_conv_model(case["model"], work / "model.onnx")
    names = {"@tiny": str(tiny), "@model": str(work / "model.onnx"), "@out": str(out),
             "@file": str(work / "file"), "@missing.onnx": str(work / "missing.onnx"),
             "@empty.onnx": str(work / "empty.onnx"), "@junk.onnx": str(work / "junk.onnx"),
             "@dir": str(work / "dir")}
    argv = []
    for arg in case["argv"]:
        for key in sorted(names, key=len, reverse=True):
            if arg.startswith(key):
                arg = names[key] + arg[len(key):]
                break
        argv.append(arg)
    return argv


def _tiny_model(path: Path) -> Path:
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU6(), nn.Conv2d(8, 8, 3, 1, 1, groups=8),
                          nn.BatchNorm2d(8), nn.ReLU()).eval()
    torch.onnx.export(model, (torch.randn(1, 3, 16, 16),), str(path), dynamo=False, input_names=["x"],
                      dynamic_axes={"x": {2: "h", 3: "w"}})  # --resolution chooses them
    return path


def _runner() -> int:
    """Child: one JSON case per stdin line -> 'start' then one JSON outcome per line."""
    import contextlib
    import io
    import resource
    import warnings

    warnings.simplefilter("ignore")
    from tt_dw_mlir.tools import cli

    root = Path(tempfile.mkdtemp(prefix="tt-dw-fuzz-"))
    tiny = _tiny_model(root / "tiny.onnx")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"ready": True}), flush=True)
    for n, line in enumerate(sys.stdin):
        case = json.loads(line)
        work = root / f"case{n}"
        work.mkdir()
        print(json.dumps({"start": True}), flush=True)
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                argv = _materialise(case, work, tiny)
                code = cli.main(argv)
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else 1
            except BaseException as problem:  # noqa: BLE001 - any escape is the finding
                import traceback

                err.write("Traceback (escaped cli.main):\n" + traceback.format_exc())
                code = -1
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"code": code, "stderr": err.getvalue()[-2000:], "stdout": out.getvalue()[-4000:],
                          "rss_kib": rss, "base_kib": base, "argv": argv}), flush=True)
    return 0


@dataclass
class Outcome:
    case: dict
    code: int | None = None
    stderr: str = ""
    problem: str = ""
    argv: list = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.code == 1 and not self.problem


def judge(case: dict, result: dict) -> Outcome:
    outcome = Outcome(case, result.get("code"), result.get("stderr", ""), argv=result.get("argv", []))
    err = outcome.stderr
    if any(word in err for word in FORBIDDEN):
        outcome.problem = "traceback or internal error"
    elif outcome.code not in (0, 1):
        outcome.problem = f"exit status {outcome.code}"
    elif outcome.code == 1 and not (err.strip().splitlines() or [""])[-1].startswith("tt-dw: error: "):
        outcome.problem = "exit 1 without a final 'tt-dw: error:' line"
    elif result.get("rss_kib", 0) > MEMORY_LIMIT_KIB:
        outcome.problem = f"peak memory {result['rss_kib'] / 2 ** 20:.2f} GB"
    if outcome.code == 1 and "--json" in outcome.argv and not outcome.problem:
        try:  # an error object on stdout when --json was asked (usage errors included)
            json.loads(result.get("stdout", "") or "{}")["error"]
        except (ValueError, KeyError):
            outcome.problem = "--json failure without an error object on stdout"
    return outcome


def run_cases(cases: list[dict]) -> list[Outcome]:
    """Run `cases` in children (a fresh one after a crash or a stall); one Outcome each."""
    outcomes: list[Outcome] = []
    pending = list(cases)
    while pending:
        child = subprocess.Popen([sys.executable, __file__, "--runner"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        assert json.loads(child.stdout.readline()).get("ready")
        while pending:
            case = pending[0]
            child.stdin.write(json.dumps(case) + "\n")
            child.stdin.flush()
            lines: list[str] = []
            reader = threading.Thread(target=lambda: lines.extend([child.stdout.readline(),
                                                                     child.stdout.readline()]))
            reader.start()
            reader.join(CASE_TIMEOUT_S)
            pending.pop(0)
            if reader.is_alive() or not lines or not lines[-1]:
                stalled = reader.is_alive()
                child.kill()
                child.wait()
                outcomes.append(Outcome(case, child.returncode, problem=(
                    f"no answer within {CASE_TIMEOUT_S:.0f} s" if stalled
                    else f"child died (status {child.returncode})")))
                break
            outcomes.append(judge(case, json.loads(lines[-1])))
        else:
            child.stdin.close()
            child.wait(timeout=30)
    return outcomes


# --------------------------------------------------------------------------- #
# The CI sample
# --------------------------------------------------------------------------- #
FIXED_CASES = [  # the reported kinds, each once
    {"argv": ["run", "--resolution", "99999999999999999999", "--out", "@out"]},
    {"argv": ["run", "--seed", "99999999999999999999999", "--out", "@out"]},
    {"argv": ["run", "--resolution", "10000", "--out", "@out", "--json"]},
    {"argv": ["compile", "@empty.onnx", "--out", "@out"]},
    {"argv": ["run", "@model", "--out", "@out"], "model": {
        "input_name": "x", "declared": [1, 3, 20000, 20000], "weight": [3, 1, 3, 3],
        "weight_dtype": "float", "bias": None, "attrs": {"group": 3, "pads": [1, 1, 1, 1]},
        "after": None}},
]


def test_fuzz_arguments_and_models():
    count = int(os.environ.get("TT_DW_CLI_FUZZ_CASES", "24"))
    outcomes = run_cases(FIXED_CASES + generated_cases(count, seed=int(os.environ.get("TT_DW_FUZZ_SEED", "0"))))
    failures = [o for o in outcomes if o.problem]
    assert not failures, "\n".join(f"{o.problem}: tt-dw {' '.join(o.argv)}\n{o.stderr[-600:]}"
                                   for o in failures[:10])
    assert all(o.rejected for o in outcomes[:len(FIXED_CASES)])  # each reported kind is refused
    assert sum(o.code == 0 for o in outcomes) >= 2  # and the generator still reaches valid runs


if __name__ == "__main__":
    if sys.argv[1:] == ["--runner"]:
        sys.exit(_runner())
