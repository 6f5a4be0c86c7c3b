"""The TTIR/TTNN subset as IRDL, loaded at run time when `ttmlir` is absent.

Op names and attribute names follow tt-mlir's TTIROps.td / TTNNOps.td; the
`ttnn.depthwise_pool_*` ops are ours. IRDL checks operand/result kinds and
that required attributes are present with the right kind; what it cannot
express (shape formulas, channel counts, the fields of the `weight_layout`
dictionary) is checked by `tt_dw_mlir.dialect.verify`. The subset declares no
attributes of its own: the bindings can neither build nor read an IRDL
attribute's parameters, so our ops carry builtin ones (see dialect/ttnn.py).

Older tt-mlir IR passes a destination operand (`ttir.empty`) as the last
operand; ops therefore take a variadic tail of tensors (IRDL makes all of a
variadic's elements one type, which a destination tail satisfies), and the
verifier checks its length. `ttir.conv2d`, whose bias and destination differ
in type, declares both as optional operands; `tt_dw_mlir.dialect.irdl_syntax`
supplies the operandSegmentSizes that IRDL then needs. The dialects are built with
the `irdl` dialect's Python builders from the tables below (add a row to model
another op). Other TTIR/TTNN ops a module uses are declared when it is parsed, as
permissive as IRDL allows, with the operand, result and region counts it uses them with
(`declare_ops`, called by `tt_dw_mlir.ir`): they keep their own names. IRDL quirk:
one constraint value used twice means "these must be equal", so every operand and
attribute gets its own constraint.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

TENSOR = '"!builtin.tensor"'
# Attribute kinds (IRDL base names of builtin attributes).
INT = '"#builtin.integer"'
# `irdl.any_of` over base constraints aborts in the MLIR 22 loader: "integer or
# dense array" is therefore `any` here and checked by the verifier.
ARRAY_OR_INT = "any"
DENSE_ARRAY = '"#builtin.dense_array"'
STRING = '"#builtin.string"'
ELEMENTS = "any"  # dense<...> or dense_resource<...>: checked by the verifier
# A builtin dictionary, not an attribute of ours: dialect/ttnn.py says why and lists its fields.
WEIGHT_LAYOUT = '"#builtin.dictionary"'

# Builtin kinds of tt-mlir attributes and types the fallback holds as opaque ones
# (`#ttnn.shape<1x2>`, `!ttnn.device`): no IRDL dialect can parse their custom syntax.
OPAQUE_ATTR = '"#builtin.opaque"'
OPAQUE_TYPE = '"!builtin.opaque"'

# op name -> (fixed operand names, variadic tail?, {attribute: kind})
# Only the ops the passes read or build. Every other TTIR/TTNN op a module uses is
# declared on demand with the exact shape it is used with (`declare_ops`): a loose
# declaration in the subset would reject valid IR, e.g. a variadic `ttir.concat` of two
# different tensor types (one constraint = one type).
TTIR_OPS: dict[str, tuple[tuple[str, ...], bool, dict]] = {
    "conv2d": (("input", "weight", "?bias", "?output"), False, {
        "stride": ARRAY_OR_INT, "padding": ARRAY_OR_INT, "dilation": ARRAY_OR_INT, "groups": INT}),
    "empty": ((), False, {}),
    "constant": ((), False, {"value": ELEMENTS}),
    "permute": (("input",), True, {"permutation": DENSE_ARRAY}),
    "clamp_scalar": (("input",), True, {}),
    # Built by the frontends (tt_dw_mlir/frontends/ttir_emitter.py). Names and required
    # attributes from tt-mlir's TTIROps.td (19c86fca45); DefaultValued ones are left to the
    # verifier. Tails are variadic for older IR's destination operand (and an op's optional
    # bias / weight, which share one type with each other but not with the input).
    "reshape": (("input",), True, {"shape": '"#builtin.array"'}),
    "mean": (("input",), True, {"keep_dim": INT}),
    "sum": (("input",), True, {"keep_dim": INT}),
    "matmul": (("a", "b"), True, {}),
    "linear": (("a", "b"), True, {}),
    "slice_static": (("input",), True, {"begins": '"#builtin.array"', "ends": '"#builtin.array"',
                                         "step": '"#builtin.array"'}),
    "softmax": (("input",), True, {"dimension": INT}),
    "layer_norm": (("input",), True, {"normalized_shape": DENSE_ARRAY}),
    "max_pool2d": (("input",), True, {"kernel": ARRAY_OR_INT}),
    "avg_pool2d": (("input",), True, {"kernel": ARRAY_OR_INT}),
    "upsample2d": (("input",), True, {"scale_factor": ARRAY_OR_INT}),
    "conv_transpose2d": (("input", "weight"), True, {
        "stride": ARRAY_OR_INT, "padding": ARRAY_OR_INT, "output_padding": ARRAY_OR_INT,
        "dilation": ARRAY_OR_INT, "groups": INT}),
    # `ttir.concat` is not declared: its inputs are a variadic of differing types, which
    # IRDL cannot say (one constraint = one type); it is declared on demand (`declare_ops`).
}
# Elementwise ops get one constraint per operand plus an optional destination:
# a variadic list shares one constraint, i.e. one type, which would reject a
# broadcasting `ttir.add(tensor<1x16x16x32>, tensor<1x1x1x32>)` (the bias add).
TTIR_BINARY = ("add", "subtract", "multiply", "div", "maximum", "minimum", "pow")
TTIR_UNARY = ("relu", "relu6", "sigmoid", "silu", "gelu", "tanh", "hardsigmoid", "leaky_relu",
              "exp", "neg", "abs", "sqrt", "rsqrt", "erf")
TTIR_ELEMENTWISE = TTIR_BINARY + TTIR_UNARY

CONV_ATTRIBUTES = {
    "in_channels": INT, "out_channels": INT, "batch_size": INT, "input_height": INT,
    "input_width": INT, "kernel_size": DENSE_ARRAY, "stride": DENSE_ARRAY,
    "padding": DENSE_ARRAY, "dilation": DENSE_ARRAY, "activation": STRING,
    "dtype": STRING, "weight_layout": WEIGHT_LAYOUT}
TTNN_OPS: dict[str, tuple[tuple[str, ...], bool, dict]] = {
    "prepare_depthwise_pool_weights": (("weight",), False, {
        "in_channels": INT, "kernel_size": DENSE_ARRAY, "weight_layout": WEIGHT_LAYOUT}),
    "prepare_depthwise_pool_bias": (("bias",), False, {
        "in_channels": INT, "weight_layout": WEIGHT_LAYOUT}),
    "depthwise_pool_conv": (("input", "weight"), True, CONV_ATTRIBUTES),
    # `program`: the name of a kernel program defined once in the module (or, as IR written
    # before that did, the dictionary inline): checked by the verifier.
    "depthwise_pool_program": (("input", "weight"), True, {**CONV_ATTRIBUTES, "program": "any"}),
}
# tt-mlir's TTNN ops `--tt-depthwise-pool-to-generic` builds (OperationIo), as
# tenstorrent/tt-mlir 19c86fca45 include/ttmlir/Dialect/TTNN/IR/TTNNOps.td declares them
# (TTNN_GetDeviceOp, PadOp, SliceStaticOp, ReshapeOp, PermuteOp, ConstantOp, ZerosOp via
# TTNN_NamedFullOp, EmptyOp): op name -> ([(operand, kind, "single"/"optional")], result
# kind or None, {required attribute: kind}). Optional attributes (get_device's mesh
# shape and offset, permute's pad_value, memory configs) are not declared: IRDL has no
# optional attributes, and an undeclared attribute is accepted as it is.
# `ttnn.concat` (Variadic<AnyRankedTensor>:$inputs) and `ttnn.generic`
# (Variadic<AnyRankedTensor>:$inputs_and_outputs) are not here: IRDL makes a variadic's
# elements one type, and their operands differ in type; the pass declares them with the
# exact operands it gives them (`declare_ops`).
TTNN_GENERIC_IO_OPS: dict[str, tuple[list, str | None, dict]] = {
    "get_device": ([], OPAQUE_TYPE, {}),
    "pad": ([("input", TENSOR, "single")], TENSOR, {
        "padding": DENSE_ARRAY, "value": '"#builtin.float"', "use_multicore": INT}),
    "slice_static": ([("input", TENSOR, "single")], TENSOR, {
        "begins": '"#builtin.array"', "ends": '"#builtin.array"', "step": '"#builtin.array"'}),
    "reshape": ([("input", TENSOR, "single")], TENSOR, {"shape": '"#builtin.array"'}),
    "permute": ([("input", TENSOR, "single")], TENSOR, {"permutation": DENSE_ARRAY}),
    "constant": ([("device", OPAQUE_TYPE, "optional")], TENSOR, {"value": ELEMENTS}),
    "zeros": ([("device", OPAQUE_TYPE, "optional")], TENSOR, {"shape": OPAQUE_ATTR}),
    "empty": ([("device", OPAQUE_TYPE, "single")], TENSOR, {"shape": OPAQUE_ATTR}),
}
# Ops without operands or results: module-level symbols (dialect/ttnn.py, "programs").
TTNN_SYMBOL_OPS: dict[str, dict] = {
    "depthwise_pool_kernel_program": {"sym_name": STRING, "program": '"#builtin.dictionary"'},
}


def _constraint(kind: str):
    """The IRDL constraint op for a table `kind` (at the current insertion point)."""
    from mlir.dialects import irdl

    if kind == "any":
        return irdl.any()
    return irdl.base(base_name=kind.strip('"'))


def _symbol_operation(name: str, attributes: dict) -> None:
    """One `irdl.operation` without operands or results (at the current insertion point)."""
    from mlir import ir
    from mlir.dialects import irdl

    definition = irdl.operation_(name)
    with ir.InsertionPoint(definition.body):
        irdl.attributes_([_constraint(kind) for kind in attributes.values()], list(attributes))


def _operation(name: str, operands: tuple[str, ...], variadic_tail: bool | str, attributes: dict) -> None:
    """One `irdl.operation` (at the current insertion point).

    `variadic_tail`: True for a variadic tail, "optional" for at most one more operand;
    an operand named "?name" is optional (conv2d's bias and older destination operand).
    Every operand, result and attribute gets a constraint op of its own (IRDL quirk above).
    """
    from mlir import ir
    from mlir.dialects import irdl

    single, optional, variadic = irdl.Variadicity.single, irdl.Variadicity.optional, \
        irdl.Variadicity.variadic
    definition = irdl.operation_(name)
    with ir.InsertionPoint(definition.body):
        names = [o.lstrip("?") for o in operands]
        kinds = [optional if o.startswith("?") else single for o in operands]
        if variadic_tail:
            names.append("tail")
            kinds.append(optional if variadic_tail == "optional" else variadic)
        values = [_constraint(TENSOR) for _ in names]
        result = _constraint(TENSOR)
        attribute_values = [_constraint(kind) for kind in attributes.values()]
        irdl.operands_(values, names, kinds)
        irdl.results_([result], ["result"], [single])
        if attributes:
            irdl.attributes_(attribute_values, list(attributes))


def _io_operation(name: str, operands: list, result: str | None, attributes: dict) -> None:
    """One `irdl.operation` of `TTNN_GENERIC_IO_OPS` (at the current insertion point)."""
    from mlir import ir
    from mlir.dialects import irdl

    definition = irdl.operation_(name)
    with ir.InsertionPoint(definition.body):
        values = [_constraint(kind) for _, kind, _ in operands]
        result_value = _constraint(result) if result else None
        attribute_values = [_constraint(kind) for kind in attributes.values()]
        if operands:
            irdl.operands_(values, [n for n, _, _ in operands],
                           [getattr(irdl.Variadicity, v) for _, _, v in operands])
        if result_value is not None:
            irdl.results_([result_value], ["result"], [irdl.Variadicity.single])
        if attributes:
            irdl.attributes_(attribute_values, list(attributes))


def subset_module(context):
    """The IRDL subset, built op by op with the `irdl` dialect's Python builders."""
    from mlir import ir
    from mlir.dialects import irdl

    ttir = dict(TTIR_OPS)
    ttir.update({op: (("lhs", "rhs"), "optional", {}) for op in TTIR_BINARY})
    ttir.update({op: (("input",), "optional", {}) for op in TTIR_UNARY})
    with context, ir.Location.unknown():
        module = ir.Module.create()
        with ir.InsertionPoint(module.body):
            dialect = irdl.dialect("ttir")
            with ir.InsertionPoint(dialect.body):
                for name, spec in ttir.items():
                    _operation(name, *spec)
            dialect = irdl.dialect("ttnn")
            with ir.InsertionPoint(dialect.body):
                for name, spec in TTNN_OPS.items():
                    _operation(name, *spec)
                for name, spec in TTNN_GENERIC_IO_OPS.items():
                    _io_operation(name, *spec)
                for name, attributes in TTNN_SYMBOL_OPS.items():
                    _symbol_operation(name, attributes)
    return module


def subset_source() -> str:
    """The IRDL module as text: print it to see exactly what the fallback models."""
    from mlir import ir

    return str(subset_module(ir.Context()))


@lru_cache(maxsize=1)
def modelled_names() -> tuple[frozenset, frozenset]:
    """(op names, attribute names) the subset declares, e.g. "ttir.conv2d" (no attributes)."""
    ops = {f"ttir.{op}" for op in (*TTIR_OPS, *TTIR_ELEMENTWISE)} | \
        {f"ttnn.{op}" for op in (*TTNN_OPS, *TTNN_SYMBOL_OPS, *TTNN_GENERIC_IO_OPS)}
    return frozenset(ops), frozenset()


def load_subset(context) -> None:
    from mlir.dialects import irdl

    with context:
        irdl.load_dialects(subset_module(context))


# --------------------------------------------------------------------------- #
# Ops declared on demand
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class OpShape:
    """How a TTIR/TTNN op the subset does not declare is used: `operands` single operands,
    then a variadic tail if `variadic_operands` (its elements share one type: IRDL binds
    one constraint to one type), likewise for results; exactly `regions` regions."""

    operands: int
    results: int
    regions: int = 0
    variadic_operands: bool = False
    variadic_results: bool = False


def declare_ops(context, shapes: dict[str, OpShape]) -> None:
    """Declare each op `shapes` names (`"ttnn.pad"`) in its IRDL dialect of `context`, as
    permissive as IRDL allows: any type for each operand and result, any attributes, any
    region. `irdl.load_dialects` adds them to the dialect already loaded. A name the
    context already has is left as it is (declaring a name twice is a fatal error)."""
    from mlir import ir
    from mlir.dialects import irdl

    todo = {name: shape for name, shape in shapes.items() if not context.is_registered_operation(name)}
    if not todo:
        return
    by_dialect: dict[str, dict[str, OpShape]] = {}
    for name, shape in todo.items():
        dialect, _, op = name.partition(".")
        by_dialect.setdefault(dialect, {})[op] = shape
    single, variadic = irdl.Variadicity.single, irdl.Variadicity.variadic
    with context, ir.Location.unknown():
        module = ir.Module.create()
        with ir.InsertionPoint(module.body):
            for dialect, ops in by_dialect.items():
                definition = irdl.dialect(dialect)
                with ir.InsertionPoint(definition.body):
                    for op, shape in ops.items():
                        operation = irdl.operation_(op)
                        with ir.InsertionPoint(operation.body):
                            for count, tail, builder, prefix in (
                                    (shape.operands, shape.variadic_operands, irdl.operands_, "operand"),
                                    (shape.results, shape.variadic_results, irdl.results_, "result")):
                                kinds = [single] * count + ([variadic] if tail else [])
                                if kinds:
                                    builder([irdl.any() for _ in kinds],
                                            [f"{prefix}{i}" for i in range(len(kinds))], kinds)
                            if shape.regions:
                                irdl.regions_([irdl.region([]) for _ in range(shape.regions)],
                                              [f"region{i}" for i in range(shape.regions)])
        irdl.load_dialects(module)
