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
another op). IRDL quirk: one constraint value used twice means "these
must be equal", so every operand and attribute gets its own constraint.
"""

from __future__ import annotations

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

# op name -> (fixed operand names, variadic tail?, {attribute: kind})
# Only the ops the passes read or build. Every other TTIR/TTNN op (and attribute, and
# type) passes through as an unregistered op (`tt_dw_mlir.dialect.irdl_syntax.shadow_unmodelled`): a
# loose IRDL declaration would reject valid IR, e.g. a variadic `ttir.concat` of two
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
    # IRDL cannot say (one constraint = one type); it stays an unmodelled (shadowed) op.
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
    ops = {f"ttir.{op}" for op in (*TTIR_OPS, *TTIR_ELEMENTWISE)} | {f"ttnn.{op}" for op in (*TTNN_OPS, *TTNN_SYMBOL_OPS)}
    return frozenset(ops), frozenset()


def load_subset(context) -> None:
    from mlir.dialects import irdl

    with context:
        irdl.load_dialects(subset_module(context))
