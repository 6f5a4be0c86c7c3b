"""Reference backend vs torch.nn.functional.conv2d(groups=C) on CPU, every MobileNetV2 layer.

    .venv/bin/python benchmarks/bench_reference.py

Reference = runtime.execute(program, x_nhwc, prepared_w, prepared_b,
backend="reference") for the planned n150 program on a float32 input (it
quantises input and output to bf16 and reads the weights out of the prepared
tiles; those are unlaid once and then reused while the prepared tensors keep
the same bits, as on every call of a model run - each call still checks them).
Torch = F.conv2d on an NCHW float32 tensor with bias, then the same ReLU6. The
two are timed interleaved (A B A B ...) in one run; medians; the same torch
thread count for both, one by default (the box is a shared 2-core machine).
Target: within 2x.
"""

from __future__ import annotations

import numpy as np

from _common import NotAvailable, bench_parser, interleaved_medians, need, table
from layers import mobilenetv2

TARGET = 2.0


def run(quick: bool = False, threads: int = 1) -> str:
    import torch

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)  # one thread: stable on a shared 2-core box, same for both
    try:
        return _run(quick, torch)
    finally:
        torch.set_num_threads(previous_threads)


def _run(quick: bool, torch) -> str:
    runtime = need("tt_dw_mlir.runtime", "execute")
    program_mod = need("tt_dw_mlir.program", "plan_program")
    layout_mod = need("tt_dw_mlir.layout", "prepare_weights", "prepare_bias")
    repeats = 3 if quick else 15
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
        x_nchw = x_nhwc.permute(0, 3, 1, 2).contiguous()
        pw = layout_mod.prepare_weights(w, program.layout)
        pb = layout_mod.prepare_bias(b, program.layout)
        tw, tb = torch.from_numpy(w), torch.from_numpy(b)
        pad = (conv.padding[0], conv.padding[2])

        def reference(program=program, x_nhwc=x_nhwc, pw=pw, pb=pb) -> torch.Tensor:
            return runtime.execute(program, x_nhwc, pw, pb, backend="reference")

        def torch_conv(conv=conv, x_nchw=x_nchw, tw=tw, tb=tb, pad=pad) -> torch.Tensor:
            y = torch.nn.functional.conv2d(x_nchw, tw, tb, conv.stride, pad, conv.dilation,
                                           groups=conv.channels)
            return torch.clamp(y, 0.0, 6.0)

        cases.append((layer, reference, torch_conv))
    # Every layer runs once before any is timed: in a fresh process glibc's malloc hands
    # the first large tensors out by mmap (page faults on every call, ~5x slower for the
    # 112x112 layers, on both sides) until larger frees have raised its mmap threshold.
    for _, reference, torch_conv in cases:
        reference(), torch_conv()
    rows, ratios = [], []
    for layer, reference, torch_conv in cases:
        conv = layer.conv
        got = reference().reshape(-1)
        want = torch_conv().permute(0, 2, 3, 1).reshape(-1)
        pcc = float(np.corrcoef(got.numpy(), want.numpy())[0, 1])
        t = interleaved_medians({"ref": reference, "torch": torch_conv}, repeats)
        ratio = t["ref"] / t["torch"]
        ratios.append(ratio)
        rows.append([layer.name, f"{conv.in_h}x{conv.in_w}x{conv.channels}/s{conv.stride[0]}",
                     t["ref"] * 1e3, t["torch"] * 1e3, f"{ratio:.2f}x", f"{pcc:.5f}"])
    out = [table(["layer", "HxWxC/s", "reference ms", "torch ms", "ref/torch", "PCC"], rows)]
    worst = max(ratios)
    med = sorted(ratios)[len(ratios) // 2]
    verdict = "meets" if worst <= TARGET else "MISSES"
    out.append(f"median ratio {med:.2f}x, worst {worst:.2f}x; target within {TARGET:.0f}x: {verdict}. "
               f"Interleaved, median of {repeats}; torch threads (both sides): "
               f"{torch.get_num_threads()}.")
    return "\n".join(out)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both sides")
    args = parser.parse_args()
    print(run(args.quick, args.threads))


if __name__ == "__main__":
    main()
