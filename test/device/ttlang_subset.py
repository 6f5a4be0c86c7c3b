"""What the tt-lang 1.1.1 compiler accepts in a thread function, checked on the source with `ast`.

The rules come from the 1.1.1 wheel (tt_lang-1.1.1-cp312, the only compiler build
Linux can install): `ttl/_src/ttl_ast.py` (TTLGenericCompiler), the pykernel base
it extends (`ttl/pykernel/_src/kernel_ast.py`: the supported AST nodes, `for` over
`range()` only, single comparisons, calls resolved through a table of DSL
functions), `ttl/ttl_api.py` (`_collect_captures`: a thread may capture only ints,
floats, ttnn tensors, dataflow buffers, pipes and pipe nets), `ttl/operators.py`
(`node(dims=2)` only, `broadcast(block, out, dims=)`, `reduce_sum(block, scaler,
dims=)`, `fill(out, value)`, 2-D blocks), `ttl/dataflow_buffer.py` and the TT-Lang
specification (docs/sphinx/specs/TTLangSpecification.md). `check_source` returns
(rule, line, message) for every violation; a kernel file passes when it is empty.
"""

from __future__ import annotations

import ast

# ttl.* and ttl.math.* names of the 1.1.1 wheel (ttl/__init__.py, ttl/ttl_math.py,
# ttl/_generated_elementwise.py, ttl/operators.py)
TTL_FUNCTIONS = {"operation", "compute", "datamovement", "make_dataflow_buffer_like", "copy",
                 "node", "grid_size", "signpost", "Pipe", "PipeNet"}
TTL_MATH_FUNCTIONS = {
    "broadcast", "reduce_sum", "reduce_max", "transpose", "fill", "typecast",
    "add", "sub", "mul", "div", "max", "min", "exp", "exp2", "log", "sqrt", "rsqrt", "tanh",
    "abs", "neg", "relu", "sigmoid", "floor", "recip", "sin", "cos", "tan", "asin", "acos",
    "atan", "ceil", "sign", "gelu", "silu", "hardsigmoid", "expm1", "square", "softsign",
    "signbit", "frac", "trunc"}
# methods the compiler resolves on DSL values (dataflow buffers, blocks, transfer handles,
# pipe nets)
METHODS = {"reserve", "wait", "push", "pop", "store", "if_src", "if_dst", "is_src", "is_dst",
           "is_active"}
THREAD_DECORATORS = {"compute", "datamovement"}
STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.For, ast.If, ast.With,
              ast.Pass, ast.FunctionDef)
EXPRESSIONS = (ast.Name, ast.Constant, ast.Attribute, ast.Call, ast.BinOp, ast.UnaryOp,
               ast.BoolOp, ast.Compare, ast.Subscript, ast.Slice, ast.Tuple, ast.List,
               ast.keyword, ast.Lambda, ast.arguments, ast.arg, ast.withitem,
               ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)
DIMS_FORMS = {"broadcast": 2, "reduce_sum": 2, "reduce_max": 2}


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _is_thread(fn: ast.FunctionDef) -> bool:
    for dec in fn.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = _dotted(target) or ""
        if name.startswith("ttl.") and name.split(".", 1)[1] in THREAD_DECORATORS:
            return True
    return False


class _ThreadChecker:
    def __init__(self, thread: ast.FunctionDef) -> None:
        self.thread = thread
        self.problems: list[tuple[str, int, str]] = []

    def fail(self, rule: str, node: ast.AST, message: str) -> None:
        self.problems.append((rule, getattr(node, "lineno", self.thread.lineno), message))

    def run(self) -> list[tuple[str, int, str]]:
        t = self.thread
        if t.args.args or t.args.posonlyargs or t.args.kwonlyargs or t.args.vararg or t.args.kwarg:
            self.fail("thread-params", t, f"thread function '{t.name}' takes parameters")
        callbacks = self._callbacks(t)
        self.block(t.body, callbacks)
        assigned = {n.id for n in ast.walk(t) if isinstance(n, ast.Name)
                    and isinstance(n.ctx, ast.Store)}
        assigned |= {n.name for n in ast.walk(t) if isinstance(n, ast.FunctionDef) and n is not t}
        self.scopes(t.body, set(), assigned)
        return self.problems

    def scopes(self, body: list[ast.stmt], bound: set[str], assigned: set[str]) -> None:
        """kernel_ast.py: `if` and `for` bodies (and callbacks) get a symbol table of their
        own, popped at their end; `with` bodies do not. A name bound inside one is gone
        after it."""
        for stmt in body:
            reads = []
            if isinstance(stmt, (ast.If, ast.For)):
                reads = [stmt.test] if isinstance(stmt, ast.If) else [stmt.iter]
            elif isinstance(stmt, ast.With):
                reads = [item.context_expr for item in stmt.items]
            elif not isinstance(stmt, ast.FunctionDef):
                reads = [stmt]
            for expr in reads:
                for n in ast.walk(expr):
                    if (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                            and n.id in assigned and n.id not in bound):
                        self.fail("scope", n, f"'{n.id}' is read where it is not bound: a name "
                                  f"bound inside an if / for body ends with that body")
            if isinstance(stmt, ast.If):
                self.scopes(stmt.body, set(bound), assigned)
                self.scopes(stmt.orelse, set(bound), assigned)
            elif isinstance(stmt, ast.For):
                inner = set(bound)
                if isinstance(stmt.target, ast.Name):
                    inner.add(stmt.target.id)
                self.scopes(stmt.body, inner, assigned)
            elif isinstance(stmt, ast.With):
                for item in stmt.items:
                    if isinstance(item.optional_vars, ast.Name):
                        bound.add(item.optional_vars.id)
                self.scopes(stmt.body, bound, assigned)
            elif isinstance(stmt, ast.FunctionDef):
                bound.add(stmt.name)
                self.scopes(stmt.body, set(bound) | {a.arg for a in stmt.args.args}, assigned)
            else:
                for n in ast.walk(stmt):
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                        bound.add(n.id)

    @staticmethod
    def _callbacks(thread: ast.FunctionDef) -> set[str]:
        """Names passed to PipeNet.if_src / if_dst (the only nested functions allowed)."""
        names = set()
        for node in ast.walk(thread):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("if_src", "if_dst")):
                names |= {a.id for a in node.args if isinstance(a, ast.Name)}
        return names

    def block(self, body: list[ast.stmt], callbacks: set[str]) -> None:
        for stmt in body:
            self.statement(stmt, callbacks)

    def statement(self, stmt: ast.stmt, callbacks: set[str]) -> None:
        if not isinstance(stmt, STATEMENTS):
            self.fail("statement", stmt, f"'{type(stmt).__name__}' statements are not compiled")
            return
        if isinstance(stmt, ast.FunctionDef):
            if stmt.name not in callbacks:
                self.fail("helper-function", stmt, f"nested function '{stmt.name}' is not a "
                          f"PipeNet.if_src/if_dst callback (helpers cannot be called)")
            elif len(stmt.args.args) != 1 or stmt.decorator_list:
                self.fail("callback", stmt, f"callback '{stmt.name}' must take exactly one "
                          f"parameter (the pipe) and have no decorators")
            self.block(stmt.body, callbacks)
            return
        if isinstance(stmt, ast.For):
            it = stmt.iter
            if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                    and it.func.id == "range" and 1 <= len(it.args) <= 3 and not it.keywords):
                self.fail("for-range", stmt, "for loops iterate over range(stop), "
                          "range(start, stop) or range(start, stop, step) only")
            if not isinstance(stmt.target, ast.Name) or stmt.orelse:
                self.fail("for-range", stmt, "a for loop binds one name and has no else")
            for arg in (it.args if isinstance(it, ast.Call) else [it]):
                self.expression(arg)
            self.block(stmt.body, callbacks)
            return
        if isinstance(stmt, ast.With):
            for item in stmt.items:
                self.with_item(item)
            self.block(stmt.body, callbacks)
            return
        if isinstance(stmt, ast.If):
            self.expression(stmt.test)
            self.block(stmt.body, callbacks)
            self.block(stmt.orelse, callbacks)
            return
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1:
                self.fail("assign", stmt, "one assignment target only (a = b = c is not compiled)")
            target = stmt.targets[0]
            if isinstance(target, ast.Tuple):
                if not self._is_node_call(stmt.value):
                    self.fail("assign", stmt, "tuple unpacking only of ttl.node(dims=2) / "
                              "ttl.grid_size(dims=2)")
                elif len(target.elts) != 2 or not all(isinstance(e, ast.Name) for e in target.elts):
                    self.fail("node-dims", stmt, "ttl.node(dims=2) unpacks into two names (x, y)")
            elif not isinstance(target, ast.Name):
                self.fail("assign", stmt, "assignments bind a plain name")
            self.expression(stmt.value)
            return
        if isinstance(stmt, ast.AugAssign):
            self.expression(stmt.target)
            self.expression(stmt.value)
            return
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.expression(stmt.value)
            return
        if isinstance(stmt, ast.Expr):
            self.expression(stmt.value)

    @staticmethod
    def _is_node_call(node: ast.AST) -> bool:
        return (isinstance(node, ast.Call)
                and _dotted(node.func) in ("ttl.node", "ttl.grid_size"))

    def with_item(self, item: ast.withitem) -> None:
        expr = item.context_expr
        ok = (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
              and isinstance(expr.func.value, ast.Name) and not expr.args and not expr.keywords
              and expr.func.attr in ("reserve", "wait"))
        if not ok and not (isinstance(expr, ast.Call) and _dotted(expr.func) == "ttl.signpost"):
            self.fail("with", expr, "'with' takes only dfb.reserve() / dfb.wait() on a plain "
                      "name (or ttl.signpost)")
        if item.optional_vars is not None and not isinstance(item.optional_vars, ast.Name):
            self.fail("with", expr, "'with ... as' binds a plain name")

    def expression(self, node: ast.AST) -> None:
        for sub in ast.walk(node):
            if not isinstance(sub, EXPRESSIONS):
                self.fail("expression", sub, f"'{type(sub).__name__}' expressions are not compiled")
            elif isinstance(sub, ast.Call):
                self.call(sub)
            elif isinstance(sub, ast.Compare):
                if len(sub.ops) != 1:
                    self.fail("compare", sub, "one comparison per expression (no chains)")
                elif isinstance(sub.ops[0], (ast.In, ast.NotIn, ast.Is, ast.IsNot)):
                    self.fail("compare", sub, "'in' / 'is' comparisons are not compiled")
            elif isinstance(sub, ast.Subscript):
                self.subscript(sub)
            elif isinstance(sub, ast.Attribute):
                self.attribute(sub)
            elif isinstance(sub, ast.Constant):
                if not isinstance(sub.value, (bool, int, float, str)):
                    self.fail("literal", sub, f"{type(sub.value).__name__} literals are not "
                              f"compiled")
            elif isinstance(sub, ast.Lambda):
                self.fail("expression", sub, "lambdas only as PipeNet callbacks; use a nested "
                          "def passed to if_src / if_dst")

    def attribute(self, node: ast.Attribute) -> None:
        name = _dotted(node)
        if name and name.startswith("ttl."):
            return
        if node.attr in METHODS:
            return
        self.fail("attribute", node, f"'.{node.attr}': a thread reads no attributes of captured "
                  f"objects (bind the value as an int in the factory)")

    def subscript(self, node: ast.Subscript) -> None:
        if not isinstance(node.value, ast.Name):
            self.fail("subscript", node, "only a captured tensor can be subscripted")
            return
        for part in (node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]):
            if isinstance(part, ast.Slice):
                if part.lower is None or part.upper is None or part.step is not None:
                    self.fail("subscript", node, "tensor slices need explicit start and stop "
                              "and no step")
        if len(node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]) != 2:
            self.fail("subscript", node, f"'{node.value.id}[...]' is not a 2-D tensor slice "
                      f"(tuples and lists cannot be indexed in a thread)")

    def call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        if name is not None and name.startswith("ttl.math."):
            fn = name[len("ttl.math."):]
            if fn not in TTL_MATH_FUNCTIONS:
                self.fail("ttl-function", node, f"{name} is not in tt-lang 1.1.1")
            elif fn in DIMS_FORMS:
                self.dims_form(node, fn)
            elif fn == "fill" and len(node.args) != 2:
                self.fail("call-form", node, "ttl.math.fill(out_block, value)")
            return
        if name is not None and name.startswith("ttl."):
            fn = name[len("ttl."):]
            if fn not in TTL_FUNCTIONS:
                self.fail("ttl-function", node, f"{name} is not in tt-lang 1.1.1")
            elif fn in ("node", "grid_size"):
                dims = [k.value for k in node.keywords if k.arg == "dims"]
                if node.args or len(dims) != 1 or not (isinstance(dims[0], ast.Constant)
                                                       and dims[0].value == 2):
                    self.fail("node-dims", node, f"{name} takes dims=2 only (x = column, y = row)")
            return
        if isinstance(node.func, ast.Attribute) and node.func.attr in METHODS:
            return
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            return
        label = name or type(node.func).__name__
        self.fail("call", node, f"call to '{label}': threads call only ttl.* / ttl.math.* "
                  f"functions and DSL methods (no helpers, no Python builtins)")

    def dims_form(self, node: ast.Call, fn: str) -> None:
        dims = [k.value for k in node.keywords if k.arg == "dims"]
        if len(node.args) != DIMS_FORMS[fn] or len(dims) != 1:
            second = "out_block" if fn == "broadcast" else "scaler_block"
            self.fail("call-form", node, f"ttl.math.{fn}(block, {second}, dims=[...]) in 1.1.1")
            return
        if not (isinstance(dims[0], ast.List) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, int) for e in dims[0].elts)):
            self.fail("call-form", node, f"ttl.math.{fn}: dims is a list of int literals")


def _module_rules(tree: ast.Module) -> list[tuple[str, int, str]]:
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ttl"):
            problems.append(("import", node.lineno, f"'from {node.module} import ...': kernels "
                             f"`import ttl` (the compiler, or the simulator bound in its place)"))
        if isinstance(node, ast.Call) and _dotted(node.func) == "ttl.make_dataflow_buffer_like":
            shape = [k.value for k in node.keywords if k.arg == "shape"]
            shape = shape or node.args[1:2]
            if not shape or not (isinstance(shape[0], ast.Tuple) and len(shape[0].elts) == 2):
                problems.append(("dfb-shape", node.lineno, "dataflow buffers are 2-D blocks of "
                                 "tiles: shape=(rows, cols)"))
    return problems


def check_source(source: str) -> list[tuple[str, int, str]]:
    """(rule, line, message) for everything outside the 1.1.1 subset."""
    tree = ast.parse(source)
    problems = _module_rules(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and _is_thread(node):
            problems += _ThreadChecker(node).run()
    return problems
