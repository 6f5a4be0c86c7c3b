"""Reference backend vs torch's channels-last depthwise conv, every MobileNetV2 layer.

    .venv/bin/python benchmarks/bench_reference.py              # 1 and 2 threads
    .venv/bin/python benchmarks/bench_reference.py --threads 1  # one count only

Reference = runtime.execute(program, x_nhwc, prepared_w, prepared_b,
backend="reference") for the planned n150 program on a float32 NHWC input: the
compiled kernel runtime/_dwconv.c on torch.get_num_threads() threads, which rounds
input and output to bf16 and applies the bias and ReLU6 in the same pass. The
weights are read out of the prepared tiles on the first call and kept on the
program; each later call still checks that the prepared tensors hold the same bits.
Torch = the same layer in torch on the same memory: F.conv2d(groups=C) with bias
on the channels-last (NCHW view of NHWC) float32 tensor, then ReLU6 in place;
"conv only" is F.conv2d alone. All three are timed interleaved (A B C A B C ...)
in one run, per layer, min and median of the repeats, with the same torch thread
count; the per-layer ratio is of the medians. Every layer's output is also
compared bit for bit with run_reference_windows (the literal oracle).
Target (issue 12): median ratio over the layers <= 1.3x, at 1 and at 2 threads.
"""

from __future__ import annotations

import statistics

import numpy as np

from _common import NotAvailable, bench_parser, interleaved_times, need, table
from layers import mobilenetv2

TARGET = 1.3


def run(quick: bool = False, threads: tuple[int, ...] = (1, 2)) -> str:
    import torch

    previous_threads = torch.get_num_threads()
    try:
        cases = _cases(quick, torch)
        return "\n\n".join(_run(cases, quick, torch, n) for n in threads)
    finally:
        torch.set_num_threads(previous_threads)


def _cases(quick: bool, torch) -> list:
    runtime = need("tt_dw_mlir.runtime", "execute")
    program_mod = need("tt_dw_mlir.program", "plan_program")
    layout_mod = need("tt_dw_mlir.layout", "prepare_weights", "prepare_bias")
    reference_mod = need("tt_dw_mlir.runtime.reference", "run_reference_windows")
    F = torch.nn.functional
    layers = mobilenetv2()
    if quick:
        layers = layers[:4]
    rng = np.random.default_rng(0)
    cases = []
    for layer in layers:
        conv = layer.conv
        program = program_mod.plan_program(conv, "n150")
        if not hasattr(program, "layout"):
            raise NotAvailable(f"plan_program refused {layer.name}: {program}")
        w = rng.standard_normal((conv.channels, 1, *conv.kernel), dtype=np.float32) * 0.2
        b = rng.standard_normal(conv.channels, dtype=np.float32) * 0.1
        x_nhwc = torch.from_numpy(
            rng.standard_normal((conv.batch, conv.in_h, conv.in_w, conv.channels), dtype=np.float32))
        x_cl = x_nhwc.permute(0, 3, 1, 2)  # NCHW view of NHWC memory: channels-last
        assert x_cl.is_contiguous(memory_format=torch.channels_last)
        pw = layout_mod.prepare_weights(w, program.layout)
        pb = layout_mod.prepare_bias(b, program.layout)
        tw, tb = torch.from_numpy(w), torch.from_numpy(b)
        pad = (conv.padding[0], conv.padding[2])

        def reference(program=program, x_nhwc=x_nhwc, pw=pw, pb=pb) -> torch.Tensor:
            return runtime.execute(program, x_nhwc, pw, pb, backend="reference")

        def torch_layer(conv=conv, x_cl=x_cl, tw=tw, tb=tb, pad=pad) -> torch.Tensor:
            y = F.conv2d(x_cl, tw, tb, conv.stride, pad, conv.dilation, groups=conv.channels)
            return F.relu6(y, inplace=True)

        def torch_conv(conv=conv, x_cl=x_cl, tw=tw, tb=tb, pad=pad) -> torch.Tensor:
            return F.conv2d(x_cl, tw, tb, conv.stride, pad, conv.dilation, groups=conv.channels)

        def windows(program=program, x_nhwc=x_nhwc, pw=pw, pb=pb) -> torch.Tensor:
            return reference_mod.run_reference_windows(program, x_nhwc, pw, pb)

        cases.append((layer, reference, torch_layer, torch_conv, windows))
    return cases




def _run(cases: list, quick: bool, torch, threads: int) -> str:
    torch.set_num_threads(threads)
    repeats = 5 if quick else 41
    # Every layer runs once before any is timed: in a fresh process glibc's malloc hands
    # the first large tensors out by mmap (page faults on every call, ~5x slower for the
    # 112x112 layers, on both sides) until larger frees have raised its mmap threshold.
    for _, reference, torch_layer, torch_conv, _ in cases:
        reference(), torch_layer(), torch_conv()
    rows, ratios, min_ratios, conv_ratios = [], [], [], []
    for layer, reference, torch_layer, torch_conv, windows in cases:
        conv = layer.conv
        got = reference()
        same = torch.equal(got.view(torch.int32), windows().view(torch.int32))
        t = interleaved_times({"ref": reference, "torch": torch_layer, "conv": torch_conv}, repeats)
        ratio = t["ref"][1] / t["torch"][1]
        ratios.append(ratio)
        min_ratios.append(t["ref"][0] / t["torch"][0])
        conv_ratios.append(t["ref"][1] / t["conv"][1])
        rows.append([layer.name, f"{conv.in_h}x{conv.in_w}x{conv.channels}/s{conv.stride[0]}",
                     t["ref"][0] * 1e3, t["ref"][1] * 1e3, t["torch"][0] * 1e3,
                     t["torch"][1] * 1e3, f"{ratio:.2f}x", f"{min_ratios[-1]:.2f}x",
                     f"{conv_ratios[-1]:.2f}x", "yes" if same else "NO"])
    out = [f"torch threads (both sides): {threads}; {repeats} interleaved repeats per layer",
           table(["layer", "HxWxC/s", "ref min ms", "ref med ms", "torch min ms",
                  "torch med ms", "ref/torch", "(of mins)", "ref/conv only", "bits = windows"],
                 rows)]
    med = statistics.median(ratios)
    verdict = "meets" if med <= TARGET else "MISSES"
    out.append(f"{threads} thread(s): median ratio {med:.2f}x (of mins "
               f"{statistics.median(min_ratios):.2f}x, vs conv alone "
               f"{statistics.median(conv_ratios):.2f}x), worst {max(ratios):.2f}x; "
               f"target median <= {TARGET}x: {verdict}.")
    return "\n".join(out)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="torch thread counts, each a table (default: 1 2)")
    args = parser.parse_args()
    print(run(args.quick, tuple(args.threads)))


if __name__ == "__main__":
    main()
