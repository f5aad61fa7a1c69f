"""Helpers shared by the upload, XSS/SSTI, redirect and password rules (H3xx-H5xx):
which values in a function come from the request, how a formatted string
splits into literal text and interpolated values, statements around a node.

Not a rule module: nothing here is registered. The analysis is deliberately
local (one function, statements in source order): it is what a reviewer can
check by reading the view, and it keeps the rules fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from hardener import cstwalk
from hardener.fixkit import Pruned, only_towards
from hardener.project import dotted_name, string_value
from hardener.source import TRIVIA

# request attributes that carry what the client sent
REQUEST_SOURCES = {"args", "form", "values", "files", "json", "data", "cookies", "headers",
                   "get_json", "get_data", "view_args", "stream", "query_string"}
REDIRECT_SOURCES = {"args", "form", "values"}
# calls that make a value safe for the purpose of the rule using them
SANITIZERS = {"secure_filename", "escape", "quote", "safe_join", "int", "float", "len", "bool",
              "generate_password_hash", "check_password_hash", "url_for", "safe_redirect_target"}


def sanitizers_for(facts) -> set[str]:
    """SANITIZERS with the local names a module imports them by
    (``from flask import url_for as _url_for``)."""
    imports = facts.imports.items() if facts else ()
    return SANITIZERS | {local for local, qualified in imports if qualified.rsplit(".", 1)[-1] in SANITIZERS}


def request_names(facts) -> set[str]:
    """Local names bound to ``flask.request`` in a module (``request`` by default)."""
    names = {local for local, qualified in (facts.imports.items() if facts else ())
             if qualified in ("flask.request", "flask.globals.request")}
    return names or {"request"}


def request_attr(node: cst.BaseExpression, req: set[str], sources: set[str]) -> bool:
    """``request.args`` (and anything built on it: ``request.args.get("x")``,
    ``request.form["x"]``) for one of ``sources``."""
    while True:
        if isinstance(node, cst.Attribute):
            if isinstance(node.value, cst.Name) and node.value.value in req:
                return node.attr.value in sources
            node = node.value
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            return False


def callee_name(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


class _Uses(cst.CSTVisitor):
    """Names and request sources an expression reads, skipping sanitized parts."""

    def __init__(self, req: set[str], sources: set[str], sanitizers: set[str]):
        self.req, self.sources, self.sanitizers = req, sources, sanitizers
        self.names: set[str] = set()
        self.request = False

    def visit_Call(self, node: cst.Call) -> bool:
        return callee_name(node) not in self.sanitizers

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if request_attr(node, self.req, self.sources):
            self.request = True
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Lambda(self, node) -> bool:
        return False

    def visit_IfExp(self, node: cst.IfExp) -> bool:
        # the value is one of the branches: what the test reads only picks one
        # ("DESC" if request.args["desc"] else "ASC" holds no request data)
        node.body.visit(self)
        node.orelse.visit(self)
        return False


def uses(node: cst.CSTNode, req: set[str], sources: set[str], sanitizers: set[str] = SANITIZERS) -> _Uses:
    visitor = _Uses(req, sources, sanitizers)
    node.visit(visitor)
    return visitor


@dataclass
class Tainted:
    """Names in one function that hold request data (after the assignments
    seen so far in source order; a re-assignment from clean data clears it)."""

    req: set[str]
    sources: set[str]
    sanitizers: set[str] = field(default_factory=lambda: set(SANITIZERS))
    names: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)  # route parameters count when asked

    def expr(self, node: cst.CSTNode | None) -> bool:
        if node is None:
            return False
        u = uses(node, self.req, self.sources, self.sanitizers)
        return u.request or bool(u.names & (self.names | self.params))


def target_names(node: cst.CSTNode) -> list[str]:
    """The names an assignment target binds (through tuples and lists)."""
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [n for e in node.elements for n in target_names(e.value)]
    return []


class _Assignments(cst.CSTVisitor):
    def __init__(self, tainted: Tainted):
        self.t = tainted

    def visit_FunctionDef(self, node) -> bool:
        return False  # nested functions have their own scope

    def visit_ClassDef(self, node) -> bool:
        return False

    def leave_Assign(self, node: cst.Assign) -> None:
        bad = self.t.expr(node.value)
        for target in node.targets:
            for name in target_names(target.target):
                (self.t.names.add if bad else self.t.names.discard)(name)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            for name in target_names(node.target):
                (self.t.names.add if self.t.expr(node.value) else self.t.names.discard)(name)

    def leave_AugAssign(self, node: cst.AugAssign) -> None:
        if self.t.expr(node.value):
            self.t.names.update(target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        if self.t.expr(node.iter):
            self.t.names.update(target_names(node.target))

    def leave_NamedExpr(self, node: cst.NamedExpr) -> None:
        if self.t.expr(node.value):
            self.t.names.update(target_names(node.target))


def tainted_names(func: cst.FunctionDef, req: set[str], sources: set[str],
                  sanitizers: set[str] | None = None) -> Tainted:
    """Which local names of ``func`` may hold request data from ``sources``.

    Flow-insensitive over branches: a name tainted on any path stays tainted
    unless a later straight-line assignment replaces it with clean data. Two
    passes so that loops feeding earlier statements are seen."""
    tainted = Tainted(req, sources, set(sanitizers) if sanitizers is not None else set(SANITIZERS))
    for _ in range(2):
        func.body.visit(_Assignments(tainted))
    return tainted


def assignment_of(func: cst.FunctionDef, name: str) -> tuple[cst.Assign, cst.SimpleStatementLine] | None:
    """The only assignment to ``name`` in ``func``, when ``name`` is read exactly once."""
    assigns = []
    reads = 0

    class V(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, node):
            for small in node.body:
                if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                    if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                        assigns.append((small, node))

        def visit_Name(self, node):
            nonlocal reads
            if node.value == name:
                reads += 1

    func.body.visit(V())
    if len(assigns) != 1 or not isinstance(assigns[0][0], cst.Assign) or len(assigns[0][0].targets) != 1:
        return None
    if reads != 2:  # the target itself and the one read
        return None
    return assigns[0]



# --------------------------------------------------------------------------- formatted strings


@dataclass
class Piece:
    """Literal text (``text``) or an interpolated value (``expr`` with optional
    conversion ``!r`` and format spec ``:>10``)."""

    text: str | None = None
    expr: cst.BaseExpression | None = None
    conversion: str | None = None
    spec: str | None = None


@dataclass
class Formatted:
    node: cst.BaseExpression
    kind: str  # fstring | percent | format | concat
    pieces: list[Piece]
    quote: str  # the quote characters of the (first) literal
    prefix: str  # string prefix without f (e.g. "", "r", "b")

    @property
    def values(self) -> list[cst.BaseExpression]:
        return [p.expr for p in self.pieces if p.expr is not None]


def _literal_parts(node: cst.BaseExpression) -> tuple[str, str] | None:
    """(prefix, quote) of a simple string literal."""
    if isinstance(node, cst.SimpleString):
        return node.prefix.lower(), node.quote
    if isinstance(node, cst.FormattedString):
        return node.prefix.lower().replace("f", ""), node.end
    if isinstance(node, cst.ConcatenatedString):
        return _literal_parts(node.left)
    return None


def _fstring_pieces(node: cst.FormattedString) -> list[Piece] | None:
    pieces: list[Piece] = []
    raw = "r" in node.prefix.lower()
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            text = part.value.replace("{{", "{").replace("}}", "}")
            try:
                text = text if raw else _unescape(text, node.end)
            except ValueError:
                return None
            pieces.append(Piece(text=text))
        elif isinstance(part, cst.FormattedStringExpression):
            if part.equal is not None:
                return None  # {x=} prints the expression's text too
            spec = None
            if part.format_spec:
                if not all(isinstance(s, cst.FormattedStringText) for s in part.format_spec):
                    return None
                spec = "".join(s.value for s in part.format_spec)
            pieces.append(Piece(expr=part.expression, conversion=part.conversion, spec=spec))
        else:
            return None
    return pieces


def _unescape(text: str, quote: str) -> str:
    """The value of a string body written with escapes."""
    import ast

    return ast.literal_eval(quote + text + quote) if "\\" in text else text


def _format_pieces(template: str, args: list[cst.Arg]) -> list[Piece] | None:
    """Pieces of ``template.format(*args)`` for automatic/positional/keyword fields."""
    import string

    positional = [a.value for a in args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in args if a.keyword is not None}
    if any(a.star for a in args):
        return None
    pieces: list[Piece] = []
    auto = 0
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    for literal, field_name, spec, conversion in parsed:
        if literal:
            pieces.append(Piece(text=literal))
        if field_name is None:
            continue
        if field_name == "":
            if auto >= len(positional):
                return None
            expr = positional[auto]
            auto += 1
        elif field_name.isdigit():
            if int(field_name) >= len(positional):
                return None
            expr = positional[int(field_name)]
        elif field_name in keywords:
            expr = keywords[field_name]
        else:
            return None  # attribute / index lookups inside the field
        if spec and "{" in spec:
            return None
        pieces.append(Piece(expr=expr, conversion=conversion, spec=spec or None))
    return pieces


def _percent_pieces(template: str, right: cst.BaseExpression, numeric: bool = False) -> list[Piece] | None:
    """Pieces of ``template % right``; numeric conversions (``%d``) give a piece
    with conversion "d" when ``numeric`` is set, else no pieces at all."""
    import re

    values = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else [right]
    if isinstance(right, cst.Dict):
        return None
    pieces: list[Piece] = []
    pos = 0
    i = 0
    for m in re.finditer(r"%(%|[-#0 +]*\d*(?:\.\d+)?[sdifr])", template):
        if m.group(1) == "%":
            pieces.append(Piece(text=template[pos:m.start()] + "%"))
            pos = m.end()
            continue
        if i >= len(values):
            return None
        conv = m.group(1)
        if template[pos:m.start()]:
            pieces.append(Piece(text=template[pos:m.start()]))
        if conv == "s":
            pieces.append(Piece(expr=values[i]))
        elif conv == "r":
            pieces.append(Piece(expr=values[i], conversion="r"))
        elif numeric and conv in ("d", "i"):
            pieces.append(Piece(expr=values[i], conversion="d"))
        else:
            return None  # numeric conversions: leave to a human
        i += 1
        pos = m.end()
    if i != len(values):
        return None
    if template[pos:]:
        pieces.append(Piece(text=template[pos:]))
    return _merge(pieces)


def _merge(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for p in pieces:
        if p.text is not None and out and out[-1].text is not None:
            out[-1] = Piece(text=out[-1].text + p.text)
        elif p.text != "":
            out.append(p)
    return out


def formatted(node: cst.BaseExpression | None) -> Formatted | None:
    """A string built by formatting: f-string, ``"..." % x``, ``"...".format()``
    or ``+`` concatenation of literals and values; None for anything else
    (including a plain literal)."""
    if node is None:
        return None
    if isinstance(node, cst.FormattedString):
        pieces = _fstring_pieces(node)
        if pieces is None or not any(p.expr is not None for p in pieces):
            return None
        return Formatted(node, "fstring", _merge(pieces), node.end, node.prefix.lower().replace("f", ""))
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        template = string_value(node.left)
        if template is None:
            return None
        pieces = _percent_pieces(template, node.right)
        parts = _literal_parts(node.left)
        if pieces is None or parts is None:
            return None
        return Formatted(node, "percent", pieces, parts[1], parts[0])
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
        template = string_value(node.func.value)
        parts = _literal_parts(node.func.value)
        if template is None or parts is None:
            return None
        pieces = _format_pieces(template, list(node.args))
        if pieces is None or not any(p.expr is not None for p in pieces):
            return None
        return Formatted(node, "format", _merge(pieces), parts[1], parts[0])
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        operands: list[cst.BaseExpression] = []

        def flatten(n, outer=False):
            # the outer expression's own parentheses do not group anything
            if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Add) and (outer or not n.lpar):
                flatten(n.left)
                flatten(n.right)
            else:
                operands.append(n)

        flatten(node, outer=True)
        pieces = []
        quote = prefix = None
        for operand in operands:
            text = string_value(operand)
            if text is not None:
                pieces.append(Piece(text=text))
                if quote is None:
                    prefix, quote = _literal_parts(operand)
                continue
            inner = formatted(operand)
            if inner is not None and inner.kind == "fstring":
                pieces += inner.pieces
                if quote is None:
                    quote, prefix = inner.quote, inner.prefix
                continue
            pieces.append(Piece(expr=operand))
        if quote is None or not any(p.expr is not None for p in pieces):
            return None
        return Formatted(node, "concat", _merge(pieces), quote, prefix)
    return None


def string_literal(text: str, quote: str = '"', prefix: str = "") -> cst.SimpleString:
    """A string literal for ``text`` in the given quote style."""
    prefix = prefix.replace("r", "").replace("R", "")
    single = quote[0]
    body = text.replace("\\", "\\\\")
    if len(quote) == 3:
        body = body.replace(single * 3, "\\" + single * 3)
        if body.endswith(single):
            body = body[:-1] + "\\" + single
    else:
        body = body.replace(single, "\\" + single).replace("\n", "\\n").replace("\r", "\\r")
    body = "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in body)
    if len(quote) == 1:
        body = body.replace("\t", "\\t")
    return cst.SimpleString(f"{prefix}{quote}{body}{quote}")


# --------------------------------------------------------------------------- statements


def parent_map(root: cst.CSTNode) -> dict[int, cst.CSTNode]:
    """``id(node) -> parent`` below ``root`` (whitespace and punctuation left
    out: nothing asks for their parents)."""
    return cstwalk.parent_map(root, TRIVIA)


class LazyParents:
    """``parent_map(root)``, built on the first lookup (``get``, all that
    ``enclosing`` needs): most modules and functions a rule looks at never ask."""

    def __init__(self, root: cst.CSTNode):
        self.root = root
        self.map: dict[int, cst.CSTNode] | None = None

    def get(self, key: int) -> cst.CSTNode | None:
        if self.map is None:
            self.map = parent_map(self.root)
        return self.map.get(key)


class InFunction(cst.CSTVisitor):
    """A visitor that knows the innermost function around the node it is at
    (``self.function``; None at module level), without a parent map."""

    def __init__(self):
        super().__init__()
        self.functions: list[cst.FunctionDef] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.pop()

    @property
    def function(self) -> cst.FunctionDef | None:
        return self.functions[-1] if self.functions else None


def enclosing(node: cst.CSTNode, parents: dict[int, cst.CSTNode], kinds) -> cst.CSTNode | None:
    current = parents.get(id(node))
    while current is not None and not isinstance(current, kinds):
        current = parents.get(id(current))
    return current


def functions_in(module: cst.Module) -> list[cst.FunctionDef]:
    out = []

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, node):
            out.append(node)

    module.visit(V())
    return out


def returns_of(function: cst.FunctionDef) -> list[cst.Return]:
    """The function's own ``return`` statements (not those of functions or lambdas in it)."""
    out = []

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, n):
            return n is function

        def visit_Lambda(self, n):
            return False

        def visit_Return(self, n):
            out.append(n)

    function.visit(V())
    return out


def calls_within(node: cst.CSTNode) -> list[cst.Call]:
    out = []

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, n):
            return n is node

        def visit_Call(self, n):
            out.append(n)

    node.visit(V())
    return out


def names_in(node: cst.CSTNode) -> set[str]:
    """Variable names read or bound (not attribute names or keyword-argument names)."""
    out = set()

    class V(cst.CSTVisitor):
        def visit_Name(self, n):
            out.add(n.value)

        def visit_Attribute(self, n):
            n.value.visit(self)
            return False

        def visit_Arg(self, n):
            n.value.visit(self)
            return False

    node.visit(V())
    return out


def mentions_name(node: cst.CSTNode, name: str) -> bool:
    return name in names_in(node)


def attr_of(node: cst.BaseExpression, owner: str, attr: str) -> bool:
    """``owner.attr``"""
    return isinstance(node, cst.Attribute) and node.attr.value == attr and dotted_name(node.value) == owner


def rewrite(module: cst.Module, replace: dict | None = None, before: dict | None = None,
            after: dict | None = None) -> cst.Module:
    """One pass over ``module`` (nodes matched by identity in the scanned tree):
    ``replace`` maps nodes to new nodes; ``before`` / ``after`` map statements
    to lists of statements to insert around them, in whatever block holds them.
    Comments and blank lines above a statement stay above the code inserted
    before it."""
    from hardener.models import FixError

    replace, before, after = replace or {}, before or {}, after or {}
    done: set[int] = set()
    wanted = {id(n) for n in list(replace) + list(before) + list(after)}

    def rebuild(originals, updateds):
        out = []
        for o, u in zip(originals, updateds):
            pre, post = before.get(o, []), after.get(o, [])
            if pre or post:
                done.add(id(o))
            if pre and o.leading_lines:
                first = pre[0].with_changes(leading_lines=list(o.leading_lines) + list(pre[0].leading_lines))
                out += [first] + list(pre[1:]) + [u.with_changes(leading_lines=[])] + list(post)
            else:
                out += list(pre) + [u] + list(post)
        return out

    class T(Pruned, cst.CSTTransformer):
        def on_leave(self, original, updated):
            if original in replace:
                done.add(id(original))
                updated = replace[original]
            if isinstance(original, (cst.IndentedBlock, cst.Module)) and any(
                    s in before or s in after for s in original.body):
                updated = updated.with_changes(body=rebuild(original.body, updated.body))
            return updated

    transformer = T()
    # the blocks holding `before` / `after` statements are their parents: on the way
    transformer.keep = only_towards(module, [*replace, *before, *after])
    result = module.visit(transformer)
    if done != wanted:
        raise FixError("could not locate the code to change")
    return result


# --------------------------------------------------------------------------- module constants

_MUTATORS = frozenset({"append", "extend", "insert", "update", "add", "setdefault", "pop", "popitem",
                       "clear", "remove", "discard", "sort", "reverse"})


def is_literal(node: cst.BaseExpression) -> bool:
    """Strings and numbers written out, and tuples, lists, sets and dicts of them."""
    if isinstance(node, (cst.Integer, cst.Float)) or string_value(node) is not None:
        return True
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        return all(isinstance(e, cst.Element) and is_literal(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and is_literal(e.key) and is_literal(e.value)
                   for e in node.elements)
    return False


class _Bindings(cst.CSTVisitor):
    """The names bound at the top level of a module (or function body), which
    of them only ever by assigning a literal, and the names any function
    declares ``global`` or changes in place (``NAME[k] = v``, ``NAME.append(v)``)."""

    def __init__(self):
        self.depth = 0  # functions, classes, lambdas and comprehensions around the node
        self.literal: set[str] = set()  # bound by `NAME = <literal>`
        self.other: set[str] = set()  # bound by anything else
        self.changed: set[str] = set()

    def bound(self) -> set[str]:
        return self.literal | self.other

    def constants(self) -> frozenset[str]:
        return frozenset(self.literal - self.other - self.changed)

    def _bind(self, names, literal: bool = False) -> None:
        if self.depth == 0:
            (self.literal if literal else self.other).update(names)

    def _scope(self, node) -> None:
        self.depth += 1

    def _unscope(self, node) -> None:
        self.depth -= 1

    visit_Lambda = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _scope
    leave_Lambda = leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _unscope

    def visit_FunctionDef(self, node) -> None:
        self._bind([node.name.value])
        self.depth += 1

    leave_FunctionDef = _unscope

    def visit_ClassDef(self, node) -> None:
        self._bind([node.name.value])
        self.depth += 1

    leave_ClassDef = _unscope

    def visit_Assign(self, node) -> None:
        for target in node.targets:
            self._bind(target_names(target.target), literal=isinstance(target.target, cst.Name)
                       and len(node.targets) == 1 and is_literal(node.value))
            self._changes(target.target)

    def visit_AnnAssign(self, node) -> None:
        self._bind(target_names(node.target))
        self._changes(node.target)

    def visit_AugAssign(self, node) -> None:
        self._bind(target_names(node.target))
        self._changes(node.target)

    def visit_Del(self, node) -> None:
        self._changes(node.target)

    def _changes(self, target) -> None:
        if isinstance(target, (cst.Subscript, cst.Attribute)) and isinstance(target.value, cst.Name):
            self.changed.add(target.value.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._changes(element.value)

    def visit_For(self, node) -> None:
        self._bind(target_names(node.target))
        self._changes(node.target)

    def visit_WithItem(self, node) -> None:
        if node.asname is not None:
            self._bind(target_names(node.asname.name))

    def visit_NamedExpr(self, node) -> None:
        self._bind(target_names(node.target))

    def visit_ExceptHandler(self, node) -> None:
        if node.name is not None:
            self._bind(target_names(node.name.name))

    def visit_ImportAlias(self, node) -> None:
        if node.asname is not None:
            self._bind(target_names(node.asname.name))
        else:
            self._bind([(dotted_name(node.name) or "").split(".")[0]])

    def visit_Global(self, node) -> None:
        self.changed.update(item.name.value for item in node.names)

    visit_Nonlocal = visit_Global

    def visit_Call(self, node) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS and isinstance(func.value, cst.Name):
            self.changed.add(func.value.value)


def module_constants(file) -> frozenset[str]:
    """Names a module binds, at module level, only by assigning literals
    (``TABLES = ("users", "orders")``, ``mapping = {0: "first"}``), and that no
    function declares ``global`` or changes in place: whatever the case of the
    name, its value is the module's own text."""

    def compute() -> frozenset[str]:
        seen = _Bindings()
        file.module.visit(seen)
        return seen.constants()

    return file.memo("module-constants", compute)


def function_names(func: cst.FunctionDef) -> tuple[set[str], frozenset[str]]:
    """The names ``func`` binds itself (parameters, assignments, loops, ``with
    ... as``, imports, nested definitions: they hide the module's), and those of
    them only ever bound to literals and never changed in place."""
    seen = _Bindings()
    params = func.params
    seen._bind([p.name.value for p in (*params.params, *params.kwonly_params, *params.posonly_params,
                                       params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)])
    func.body.visit(seen)
    return seen.bound(), seen.constants()
