"""One harness and one judge for the fuzzers of `tt-dw-opt` and `tt-dw` (issues 7 and 11).

A case is a request: which tool, its argv (`@NAME` stands for the case's file or folder
NAME), the files to create, and what is expected of the run. `run_cases` runs them and
returns one `Outcome` each, judged by `judge` below.

How a case runs (a fork server). Each worker starts a server process (this file run as
a script, `--serve TOOL`) that imports the tool once (the package and MLIR; for `tt-dw`
also torch, onnx and onnxruntime) and runs nothing. For each case it forks a child, a
fresh copy of a process that has imported but run nothing, which:
  - makes the case's files in an empty folder, points fd 0 at /dev/null and fds 1 and 2
    at files (output of C++ and of onnxruntime is caught too),
  - calls the tool's `main(argv)` the way its console script does (`tt-dw`'s
    `console_main` is `main()` then os._exit, which the child does too): the exit
    status is its return value or SystemExit's code, an escaping exception prints its
    traceback and exits 1 (test_*_fuzz.py also run the installed scripts for real),
  - runs the case's oracle (the printed IR parses back to itself; a second run prints the
    same IR) and exits.
The server waits for it with os.wait4 (exit status or signal, and the child's peak
resident memory, ru_maxrss), polls its VmRSS to kill it past the memory limit and kills
it past the time limit, judges it, and answers with the outcome. The server itself only
forks, waits and judges: a case that aborts or hangs costs only its own child.

The judge (one for both tools): no death by a signal; no Python traceback or "internal
error"; exit status 0 or 1; at most CASE_TIMEOUT_S of wall time and MEMORY_LIMIT_BYTES of
peak resident memory; a valid input is never refused; a refusal is a located error
(`file:line:col: error:` for IR; for `tt-dw` one `tt-dw: error:` message that names what
it refuses: a node, tensor or input of the model, a flag or a file of the argv); with
`--json`, stdout is one JSON document (an "error" object on a refusal).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CASE_TIMEOUT_S = 60.0  # issue 11's limits, for one run of the tool on one input
MEMORY_LIMIT_BYTES = 2 << 30
LOCATED_ERROR = re.compile(r"^[^\n]*:([1-9]\d*):(\d+): error: ", re.M)
# "Traceback (" is how a Python traceback starts; an input that merely holds the word
# (echoed back in a diagnostic, e.g. "custom op 'Traceback' is unknown") is not one.
FORBIDDEN = ("Traceback (", "internal error")
TOOL_ERROR = "tt-dw: error: "
OUTPUT_KEPT = 1 << 20  # bytes of a child's stdout / stderr the judge reads


# --------------------------------------------------------------------------- #
# Outcomes and the judge
# --------------------------------------------------------------------------- #
@dataclass
class Outcome:
    case: object  # the caller's case object (it has .name and .request())
    rc: int | None  # exit status; None when killed by a signal
    problem: str | None = None
    detail: str = ""  # the end of stderr, for a failure
    seconds: float = 0.0  # wall time of the tool's run (the longer one when run twice)
    peak_bytes: int = 0  # peak resident memory of the child
    stdout: str = ""  # the end of stdout

    @property
    def rejected(self) -> bool:
        return self.rc not in (0, None) and self.problem is None


def refusal_message(stderr: str) -> str | None:
    """`tt-dw`'s error message: from its `tt-dw: error:` line to the end of stderr."""
    at = stderr.rfind("\n" + TOOL_ERROR)
    if at >= 0:
        return stderr[at + 1 + len(TOOL_ERROR):]
    return stderr[len(TOOL_ERROR):] if stderr.startswith(TOOL_ERROR) else None


def judge(request: dict, *, rc: int | None, signal_number: int | None, stdout: str, stderr: str,
          seconds: float, peak_bytes: int, oracle_problem: str | None = None,
          killed_for: str | None = None) -> str | None:
    """The problem with one run of a case, or None when the tool behaved."""
    if killed_for:
        return killed_for
    if signal_number:
        return f"killed by signal {signal_number} ({signal.Signals(signal_number).name})"
    for word in FORBIDDEN:
        if word in stdout or word in stderr:
            return f"printed '{word}'"
    if rc not in (0, 1):
        return f"exit status {rc}"
    if seconds > CASE_TIMEOUT_S:
        return f"took {seconds:.0f} s (limit {CASE_TIMEOUT_S:.0f} s)"
    if peak_bytes > MEMORY_LIMIT_BYTES:
        return f"peak resident memory {peak_bytes >> 20} MiB (limit {MEMORY_LIMIT_BYTES >> 20} MiB)"
    json_wanted = request["tool"] == "tt-dw" and "--json" in request["argv"]
    if rc == 1:
        if request.get("valid"):
            return "valid input refused"
        if request["tool"] == "tt-dw-opt":
            if not LOCATED_ERROR.search(stderr):
                return "refused without a located 'file:line:col: error:' diagnostic"
        else:
            message = refusal_message(stderr)
            if message is None:
                return f"exit 1 without a '{TOOL_ERROR.strip()}' message"
            anchors = [a for a in request.get("anchors", ()) if a]
            if not LOCATED_ERROR.search(message) and not any(a in message for a in anchors):
                return "refusal names nothing of the case (no node, input, flag, file or line:col)"
        if json_wanted:
            try:
                json.loads(stdout)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                return "--json refusal without an error object on stdout"
        return None
    asks_help = any(a in ("-h", "--help", "--version") for a in request["argv"])
    if json_wanted and request["argv"][:1] in (["run"], ["compile"]) and not asks_help:
        try:
            json.loads(stdout)
        except ValueError:
            return "--json run whose stdout is not one JSON document"
    return oracle_problem


AFFINE_ROUNDS = 8


def roundtrip_problem(printed: str, generic: bool = False) -> str | None:
    """print -> parse -> print must give the same text back."""
    from tt_dw_mlir.api import parse_module
    from tt_dw_mlir.ir import DiagnosticError, print_module

    try:
        again = print_module(parse_module(printed), generic=generic)
    except DiagnosticError as error:
        return f"output does not parse back: {error}"
    rounds = 0
    while again != printed and "affine_" in printed and rounds < AFFINE_ROUNDS:
        # MLIR's affine printer does not always print a parse fixpoint (`+ e * -3` reads
        # back as `- e * 3`, `+ -(e)` as `- e`, one nesting level per round; C++ mlir-opt
        # alike): each round must parse, and the text must settle.
        printed, again = again, print_module(parse_module(again), generic=generic)
        rounds += 1
    if again != printed:
        return "print -> parse -> print changed the text"
    return None


# --------------------------------------------------------------------------- #
# Client side: workers, each talking to one fork server
# --------------------------------------------------------------------------- #
def _server_command(tool: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--serve", tool]


class _Server:
    def __init__(self, tool: str):
        self.tool = tool
        self.process = subprocess.Popen(_server_command(tool), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        cwd=str(REPO), bufsize=1)
        self.errors: list[str] = []
        threading.Thread(target=lambda: self.errors.append(self.process.stderr.read()),
                         daemon=True).start()
        ready = self.process.stdout.readline()
        if not ready.startswith("{"):
            self.process.wait()
            time.sleep(0.2)
            raise RuntimeError(f"fuzz server for {tool} did not start: {''.join(self.errors)[-3000:]}")

    def run(self, request: dict) -> dict | None:
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except (BrokenPipeError, OSError):
            return None
        return json.loads(line) if line else None

    def close(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        self.process.wait(timeout=60)


def _run_shard(cases: list, tool: str, timeout: float | None) -> list[Outcome]:
    outcomes = []
    server = _Server(tool)
    try:
        for case in cases:
            request = case.request()
            if timeout is not None:
                request["timeout"] = timeout
            answer = server.run(request)
            if answer is None:  # the server itself died: a harness bug, never a finding
                server.process.kill()
                raise RuntimeError(f"fuzz server died on {case.name}: {''.join(server.errors)[-3000:]}")
            outcomes.append(Outcome(case, answer["rc"], answer["problem"], answer["detail"],
                                    answer["seconds"], answer["peak_bytes"], answer["stdout"]))
    finally:
        server.close()
    return outcomes


def run_cases(cases: list, workers: int = 2, timeout: float | None = None) -> list[Outcome]:
    """Run `cases` (objects with .name and .request()) on `workers` fork servers per tool;
    `timeout` (default CASE_TIMEOUT_S) is when a run is killed, for the harness's own test."""
    outcomes: list[Outcome] = []
    for tool in sorted({c.request()["tool"] for c in cases}):
        mine = [c for c in cases if c.request()["tool"] == tool]
        shards = [mine[i::workers] for i in range(workers) if mine[i::workers]]
        with ThreadPoolExecutor(len(shards)) as pool:
            outcomes += [o for found in pool.map(lambda s: _run_shard(s, tool, timeout), shards)
                         for o in found]
    order = {id(c): i for i, c in enumerate(cases)}
    return sorted(outcomes, key=lambda o: order[id(o.case)])


def request(name: str, tool: str, argv, files: dict[str, bytes | None], **expect) -> dict:
    """A case as the server reads it; files: NAME -> bytes (a file) or None (a folder)."""
    return {"name": name, "tool": tool, "argv": list(argv),
            "files": {k: None if v is None else base64.b64encode(v).decode() for k, v in files.items()},
            **expect}


# --------------------------------------------------------------------------- #
# Server side
# --------------------------------------------------------------------------- #
def _tool_main(tool: str):
    """Import the tool and what it imports on first use; its console entry point."""
    import importlib.metadata  # noqa: F401
    import warnings

    import mlir.dialects.builtin  # noqa: F401
    import mlir.dialects.func  # noqa: F401
    import mlir.dialects.irdl  # noqa: F401

    import tt_dw_mlir.dialect.irdl
    import tt_dw_mlir.kernels  # noqa: F401
    from tt_dw_mlir.tools import opt

    tt_dw_mlir.dialect.irdl.modelled_names()

    warnings.simplefilter("ignore")
    if tool == "tt-dw-opt":
        import tt_dw_mlir.api  # noqa: F401
        import tt_dw_mlir.ir  # noqa: F401
        from test_driver_fuzz import own_seeds

        # One warm-up run (MLIR only: no thread pool of torch's, which a fork would break;
        # the large-stack worker thread is restarted in each child by tt_dw_mlir.ir), so a
        # child does not pay the first run's one-time costs for every case.
        with tempfile.TemporaryDirectory() as folder:
            sample = Path(folder) / "warm.mlir"
            sample.write_text(own_seeds()["bias_add_silu"])
            _redirect(Path(folder) / "out", Path(folder) / "err")
            _call_main(opt.main, [str(sample), "--tt-depthwise-pool-pipeline"])
            roundtrip_problem((Path(folder) / "out").read_text())
            os.dup2(_SERVER_STDERR, 1)
            os.dup2(_SERVER_STDERR, 2)
        return opt.main
    import numpy  # noqa: F401
    import onnx  # noqa: F401
    import onnxruntime  # noqa: F401
    import torch  # noqa: F401
    try:
        import ttl  # noqa: F401 - the TT-Lang simulator, where installed
    except ImportError:
        pass

    import tt_dw_mlir  # noqa: F401
    import tt_dw_mlir.api  # noqa: F401
    import tt_dw_mlir.executor  # noqa: F401
    import tt_dw_mlir.frontends.onnx_import  # noqa: F401
    import tt_dw_mlir.frontends.torch_export  # noqa: F401
    import tt_dw_mlir.models  # noqa: F401
    import tt_dw_mlir.runtime  # noqa: F401
    from tt_dw_mlir.tools import cli, cost_command, html_report  # noqa: F401
    return cli.main


def _expand(argv: list[str], work: Path, renames: dict[str, str] | None = None) -> list[str]:
    out = []
    for arg in argv:
        if arg.startswith("@") and len(arg) > 1:
            head, sep, tail = arg[1:].partition("/")
            head = (renames or {}).get(head, head)
            arg = str(work / head) + sep + tail
        out.append(arg)
    return out


def _call_main(main, argv: list[str]) -> int:
    """`main(argv)` as the console script calls it: sys.exit(main())."""
    import traceback

    try:
        code = main(argv)
    except SystemExit as leave:
        code = leave.code
    except BaseException:  # noqa: BLE001 - what Python does with an escaping exception
        traceback.print_exc()
        code = 1
    if code is None:
        return 0
    if not isinstance(code, int):
        print(code, file=sys.stderr)
        return 1
    return code & 0xFF


def _redirect(out_path: Path, err_path: Path) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, path in ((1, out_path), (2, err_path)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(handle, fd)
        os.close(handle)


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - OUTPUT_KEPT))
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def _ir_files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.mlir"))}


def _child(main, req: dict, work: Path) -> None:
    """The forked child: run the case, write its oracle verdict, _exit with the status."""
    import resource

    try:
        # A backstop, not the measure (the server polls VmRSS): a runaway allocation fails
        # here instead of taking the machine. RLIMIT_AS would count torch's reservations.
        cap = 2 * MEMORY_LIMIT_BYTES
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
        os.chdir(work)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        _redirect(work / ".stdout", work / ".stderr")
        argv = _expand(req["argv"], work)
        if os.environ.get("TT_DW_FUZZ_SELFTEST") and req["name"].startswith("selftest:"):
            exec(os.environ["TT_DW_FUZZ_SELFTEST"])  # the harness test's misbehaving case
        started = time.monotonic()
        rc = _call_main(main, argv)
        seconds = time.monotonic() - started
        sys.stdout.flush()
        sys.stderr.flush()
        problem = None
        if rc == 0 and (req.get("oracle") or req.get("repeat")):
            problem, again_seconds = _oracle(main, req, work, argv)
            seconds = max(seconds, again_seconds)
        with open(work / ".oracle.json", "w") as handle:
            json.dump({"problem": problem, "seconds": seconds, "rc": rc}, handle)
    except BaseException as error:  # noqa: BLE001 - a harness failure inside the child
        try:
            with open(work / ".oracle.json", "w") as handle:
                json.dump({"problem": f"fuzz child failed: {type(error).__name__}: {error}",
                           "seconds": 0.0, "rc": 1}, handle)
        finally:
            os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


def _oracle(main, req: dict, work: Path, argv: list[str]) -> tuple[str | None, float]:
    """Checks of a successful run; (problem, seconds of a second run)."""
    first_out = (work / ".stdout").read_text(errors="replace")
    problem, seconds = None, 0.0
    if req.get("oracle") == "roundtrip":
        try:
            problem = roundtrip_problem(first_out, generic=req.get("generic", False))
        except Exception as error:  # noqa: BLE001 - a crash in the round trip is a finding too
            problem = f"round trip raised {type(error).__name__}: {error}"
    if problem is None and req.get("repeat"):
        # the second run, same argv: its own stdout; the first run's --out folder moved
        # aside (the IR names the files it came from, so the folder's path stays the same)
        if (work / "out").exists():
            os.rename(work / "out", work / "out-first")
        _redirect(work / ".stdout2", work / ".stderr2")
        started = time.monotonic()
        rc = _call_main(main, argv)
        seconds = time.monotonic() - started
        sys.stdout.flush()
        sys.stderr.flush()
        if req["tool"] == "tt-dw-opt":
            if rc != 0 or (work / ".stdout2").read_text(errors="replace") != first_out:
                problem = "a second run printed different IR"
        elif rc != 0:
            problem = f"a second run exited {rc}"
        elif _ir_files(work / "out-first") != _ir_files(work / "out"):
            problem = "a second run wrote different IR files"
    return problem, seconds


def _peak_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


_SERVER_STDERR = 2


def _serve(tool: str) -> int:
    global _SERVER_STDERR
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # nothing else may write into the protocol
    _SERVER_STDERR = os.dup(2)
    main = _tool_main(tool)
    root = Path(tempfile.mkdtemp(prefix=f"{tool}-fuzz-"))
    channel.write(json.dumps({"ready": tool}) + "\n")
    try:
        for n, line in enumerate(sys.stdin):
            req = json.loads(line)
            work = root / f"case{n}"
            work.mkdir()
            for name, data in req["files"].items():
                if data is None:
                    (work / name).mkdir(parents=True, exist_ok=True)
                else:
                    (work / name).write_bytes(base64.b64decode(data))
            runs = 1 + bool(req.get("repeat")) + bool(req.get("oracle"))
            started = time.monotonic()
            pid = os.fork()
            if pid == 0:
                _child(main, req, work)
            killed_for, status, usage, pause = None, 0, None, 0.002
            while True:
                done, status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    break
                elapsed = time.monotonic() - started
                if killed_for is None:
                    if elapsed > req.get("timeout", CASE_TIMEOUT_S) * runs:
                        killed_for = f"hang: killed after {elapsed:.0f} s (limit {CASE_TIMEOUT_S:.0f} s)"
                    elif _peak_rss(pid) > MEMORY_LIMIT_BYTES:
                        killed_for = f"killed past {MEMORY_LIMIT_BYTES >> 20} MiB of resident memory"
                    if killed_for:
                        os.kill(pid, signal.SIGKILL)
                time.sleep(pause)
                pause = min(pause * 1.5, 0.02)
            wall = time.monotonic() - started
            stdout, stderr = _read(work / ".stdout"), _read(work / ".stderr")
            try:
                verdict = json.loads((work / ".oracle.json").read_text())
            except (OSError, ValueError):
                verdict = {"problem": None, "seconds": wall}
            rc = os.waitstatus_to_exitcode(status)
            signal_number = -rc if rc < 0 else None
            rc = None if rc < 0 else rc
            peak = usage.ru_maxrss * 1024
            req["anchors"] = _expand(req.get("anchors", []), work)
            problem = judge(req, rc=rc, signal_number=signal_number, stdout=stdout, stderr=stderr,
                            seconds=verdict["seconds"], peak_bytes=peak,
                            oracle_problem=verdict["problem"], killed_for=killed_for)
            if problem is None and rc == 1 and verdict["problem"]:
                problem = verdict["problem"]  # the child's own harness failed
            channel.write(json.dumps({
                "name": req["name"], "rc": rc, "problem": problem,
                "detail": stderr[-1500:] if problem else "", "seconds": round(verdict["seconds"], 3),
                "peak_bytes": peak, "stdout": stdout[-2000:]}) + "\n")
            shutil.rmtree(work, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    sys.exit(_serve(sys.argv[2]))
