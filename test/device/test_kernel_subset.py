"""The kernels stay inside the tt-lang 1.1.1 compiler's subset (ttlang_subset.py has the
rules and where they come from); each rule rejects a small kernel that breaks it."""

from __future__ import annotations

import importlib.resources
import textwrap

import pytest

from ttlang_subset import check_source

KERNELS = importlib.resources.files("tt_dw_mlir.kernels")


def kernel_files():
    return sorted(f.name for f in KERNELS.iterdir() if f.name.endswith(".py"))


def test_every_kernel_file_is_checked():
    assert {"depthwise_pool_reader.py", "depthwise_pool_compute.py", "depthwise_pool_writer.py",
            "depthwise_pool_op.py"} <= set(kernel_files())


@pytest.mark.parametrize("name", kernel_files())
def test_kernels_are_in_the_subset(name):
    assert check_source(KERNELS.joinpath(name).read_text()) == []


def thread(body: str, kind: str = "datamovement", params: str = "") -> str:
    return ("import ttl\n\n\ndef make(a, in_cb, out_cb, t, net, n):\n"
            f"    @ttl.{kind}()\n    def th({params}):\n"
            + textwrap.indent(textwrap.dedent(body), " " * 8) + "    return th\n")


GOOD = thread("""
    x, y = ttl.node(dims=2)
    core = y * n + x
    if core < n:
        for i in range(0, n, 2):
            with in_cb.reserve() as blk:
                tx = ttl.copy(t[i:i + 1, 0:n], blk)
                tx.wait()
""")

BAD = {
    "thread-params": thread("pass\n", params="core"),
    "statement": thread("""
        i = 0
        while i < n:
            i = i + 1
    """),
    "for-range": thread("""
        for i in (1, 2):
            pass
    """),
    "helper-function": thread("""
        def helper(p):
            pass
        helper(1)
    """),
    "callback": thread("""
        def send(pipe, blk):
            pass
        net.if_src(send)
    """),
    "call": thread("""
        last = min(n, 4)
    """),
    "ttl-function": thread("""
        with in_cb.wait() as a, out_cb.reserve() as o:
            o.store(ttl.math.relu_max(a, 6))
    """, kind="compute"),
    "node-dims": thread("""
        core = ttl.node(dims=1)
    """),
    "call-form": thread("""
        with in_cb.wait() as a, out_cb.reserve() as o:
            o.store(ttl.math.reduce_sum(a, dims=[0], shape=(1, 1)))
    """, kind="compute"),
    "subscript": thread("""
        x, y = ttl.node(dims=2)
        shard = a[x]
    """),
    "attribute": thread("""
        k = a.window
    """),
    "with": thread("""
        with open_block() as blk:
            pass
    """),
    "compare": thread("""
        x, y = ttl.node(dims=2)
        if 0 < x < n:
            pass
    """),
    "literal": thread("""
        k = None
    """),
    "expression": thread("""
        k = n if n > 1 else 1
    """),
    "assign": thread("""
        i, j = n, n
    """),
    "scope": thread("""
        x, y = ttl.node(dims=2)
        if x < n:
            first = x * 2
        else:
            first = 0
        k = first + 1
    """),
    "import": "from ttl.sim import ttl\n" + GOOD[len("import ttl\n"):],
    "dfb-shape": GOOD + "\n\ndef op(x):\n    return ttl.make_dataflow_buffer_like(x, shape=(1, 2, 3))\n",
}


def test_a_kernel_inside_the_subset_passes():
    assert check_source(GOOD) == []


@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_rule_rejects_a_kernel_that_breaks_it(rule):
    problems = check_source(BAD[rule])
    assert rule in {p[0] for p in problems}, problems
    # the message names the rule and a line inside the source
    lines = BAD[rule].count("\n") + 1
    assert all(1 <= line <= lines and message for _, line, message in problems)


def test_the_seed_kernels_break_the_rules_issue_14_lists():
    # the pre-1.1.1 forms: a captured record read field by field, a helper call,
    # ttl.node(dims=1), a tuple indexed by core id, 3-D blocks
    seed = thread("""
        core = ttl.node(dims=1)
        shard = args.core_shard[core]
        first, last = pixel_range(args, shard)
    """)
    rules = {p[0] for p in check_source(seed)}
    assert {"node-dims", "attribute", "subscript", "call", "assign"} <= rules
