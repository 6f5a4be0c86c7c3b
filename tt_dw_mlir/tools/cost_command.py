"""`tt-dw cost`: the cost model's per-layer prediction for a model's depthwise convs.

    tt-dw cost                                   # MobileNetV2, n150, the kernels in kernels/
    tt-dw cost --model efficientnet_b0 --device p150 --json
    tt-dw cost --kernel-profile tt-metal-seed --tt-metal-demo

Cycles are predictions of tt_dw_mlir/cost_model.py (busiest core), never
measurements. `path` is what `--tt-depthwise-to-pool="path=auto"` picks for the
layer (the `ours` profile, whatever --kernel-profile shows). `--tt-metal-demo`
sets what tt-metal's MobileNetV2 demo runs (models/demos/mobilenetv2: batch 10,
bfloat8_b activations and weights, LoFi, ReLU6 as a separate op, height
sharding for the first six depthwise convs and block sharding after), the
setting of the measurements the model is calibrated on.
"""

from __future__ import annotations

import json
import sys

from tt_dw_mlir.cost_model import PROFILE_NAMES, FIDELITY_PHASES, model_cost_table

DEMO_BATCH = 10          # models/demos/mobilenetv2/tests: MOBILENETV2_BATCH_SIZE = 10
DEMO_HEIGHT_SHARDED = 6  # common.py: blocks 1-5 (and conv2) height, blocks 6-16 block sharded


def add_parser(commands) -> None:
    from tt_dw_mlir.sharding import DEVICES

    text = "predict matmul and pool cycles per depthwise conv (the calibrated cost model)"
    sub = commands.add_parser("cost", help=text, description=__doc__.split("\n\n")[0],
                              epilog=__doc__.split("\n\n", 1)[1],
                              formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    sub.add_argument("model_path", nargs="?", metavar="MODEL",
                     help="a built-in model name or an .onnx file")
    sub.add_argument("--model", dest="model_flag", metavar="MODEL", help="same as MODEL")
    sub.add_argument("--device", choices=sorted(DEVICES), default="n150")
    sub.add_argument("--kernel-profile", choices=PROFILE_NAMES, default="ours",
                     help="pool kernels to predict: tt-metal-seed (tt-metal issue 25523's first "
                          "kernel), tt-metal-poc (issue 26434's PoC), ours (kernels/, default)")
    sub.add_argument("--batch", type=int, default=None, help="batch size (default 1)")
    sub.add_argument("--dtype", choices=("bf16", "bfp8_b", "bfp4_b"), default=None,
                     help="activation and weight dtype (default bf16)")
    sub.add_argument("--math-fidelity", choices=sorted(FIDELITY_PHASES), default=None,
                     help="default: by weight dtype (bf16 HiFi4, bfp8_b HiFi2, bfp4_b LoFi)")
    sub.add_argument("--tt-metal-demo", action="store_true",
                     help="MobileNetV2 as tt-metal's demo runs it (see the description)")
    sub.add_argument("--resolution", type=int, default=None)
    sub.add_argument("--json", action="store_true", help="print one JSON document")


def run(args, out=None) -> int:
    from tt_dw_mlir.tools.cli import CliError, load_model

    out = out or sys.stdout
    spec = args.model_flag or args.model_path or "mobilenetv2"
    if args.model_flag and args.model_path and args.model_flag != args.model_path:
        raise CliError(f"two models given: '{args.model_path}' and --model '{args.model_flag}'")
    if args.batch is not None and args.batch < 1:
        raise CliError(f"--batch must be at least 1, got {args.batch}")
    loaded = load_model(spec, args.resolution, 0)
    demo = args.tt_metal_demo
    if demo and loaded.name != "mobilenetv2":
        raise CliError(f"--tt-metal-demo describes tt-metal's MobileNetV2 demo, not '{loaded.name}'")
    batch = args.batch or (DEMO_BATCH if demo else 1)
    dtype = args.dtype or ("bfp8_b" if demo else "bf16")
    fidelity = args.math_fidelity or ("LoFi" if demo else None)
    convs, names = [], []
    for conv in loaded.ttir.depthwise_convs:
        config = conv.config.with_(batch=batch, dtype=dtype, weight_dtype=dtype)
        if demo:
            config = config.with_(activation="none")
        convs.append(config)
        names.append(conv.loc)
    scheme_of = ((lambda i, _: "height_sharded" if i < DEMO_HEIGHT_SHARDED else "block_sharded")
                 if demo else None)
    try:
        table = model_cost_table(convs, args.device, args.kernel_profile, names,
                                 math_fidelity=fidelity, scheme_of=scheme_of)
    except ValueError as problem:
        raise CliError(str(problem)) from None
    table = {"model": loaded.name, "batch": batch, "dtype": dtype,
             "math_fidelity": fidelity or "by dtype", "tt_metal_demo": demo, **table}
    if args.json:
        json.dump(table, out, indent=2)
        out.write("\n")
        return 0
    print(f"model {loaded.name}, device {args.device}, kernel profile {args.kernel_profile}, "
          f"batch {batch}, {dtype}, fidelity {table['math_fidelity']}"
          + (", tt-metal demo settings" if demo else "") + " -- predicted cycles, busiest core",
          file=out)
    header = ("layer", "input NHWC", "k", "s", "matmul", "pool", "matmul/pool", "path=auto")
    rows = [(lay["name"], "x".join(map(str, lay["input_shape"])), f"{lay['kernel'][0]}x{lay['kernel'][1]}",
             str(lay["stride"][0]), f"{lay['matmul_cycles']:,}", f"{lay['pool_cycles']:,}",
             f"{lay['matmul_cycles'] / lay['pool_cycles']:.2f}x", lay["path"])
            for lay in table["layers"]]
    total = table["total"]
    rows.append(("total", "", "", "", f"{total['matmul_cycles']:,}", f"{total['pool_cycles']:,}",
                 f"{total['matmul_cycles'] / total['pool_cycles']:.2f}x", ""))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))), file=out)
    return 0
