"""H301 sql-built-from-strings: SQL text built by formatting and run by a driver."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports
from hardener.models import Confidence, Fix, FixError, Safety, Severity
from hardener.project import dotted_name, is_test_path, string_value
from hardener.rules import Example, Rule, register

from ._flaskapi import facts_or_imports
from ._webapp import _project_function, top_level_function
from ._flow import (REQUEST_SOURCES, _format_pieces, _literal_parts, _percent_pieces, Piece, callee_name,
                    enclosing, formatted, function_names, module_constants, names_in, parent_map, request_names,
                    rewrite, string_literal, tainted_names)

# DB-API drivers and their placeholder style.
DRIVERS = {
    "sqlite3": "qmark",
    "psycopg2": "format",
    "psycopg": "format",
    "pymysql": "format",
    "MySQLdb": "format",
    "mysql.connector": "format",
    "pg8000": "format",
    "oracledb": "oracle",
    "cx_Oracle": "oracle",
}
STYLES = {"qmark": "sqlite3 `?`", "format": "`%s`", "named": "SQLAlchemy text() `:name`", "oracle": "`:name`"}
RUNNERS = {"execute", "executemany", "executescript", "exec_driver_sql"}
PANDAS = {"read_sql", "read_sql_query"}
# one of those called: the name, then (past spaces, line breaks, comments or a
# closing parenthesis) an opening one
RUNNER_CALL = re.compile(rb"\b(?:execute(?:many|script)?|exec_driver_sql|read_sql(?:_query)?)(?:[\s\\)]|#[^\n]*\n)*\(")
SQL_START = re.compile(r"^\s*\(?\s*(select|insert|update|delete|with|replace|upsert|merge|create|drop|alter|pragma|"
                       r"call|exec|truncate|grant|vacuum)\b", re.I)
# what may precede a value (not an identifier) in SQL
VALUE_BEFORE = re.compile(r"(=|<|>|\+|-|\*|/|\|\||\bbetween\s+\S+\s+and|\b(like|ilike|glob|regexp|limit|offset|between|is|not|then|else|"
                          r"when|values\s*\(|in\s*\(|returning)|,|\()\s*$", re.I)
OPERATOR_AFTER = re.compile(r"^\s*(=|<|>|!=|\b(like|ilike|in|is|not|between|glob|regexp)\b)", re.I)
LAST_KEYWORD = re.compile(r"\b(select|from|join|into|update|table|by|values|in|set|where|and|or|on|having|limit|"
                          r"offset|returning|like|when|then|else|case|exists)\b", re.I)
VALUE_CLAUSES = {"values", "in", "set", "where", "and", "or", "on", "having", "limit", "offset", "like", "when",
                 "then", "else", "case"}
FLASK = "from flask import Flask\napp = Flask(__name__)\n"  # examples are Flask apps
# statements that take no parameters: their values must be checked, not bound
NO_PARAMS = re.compile(r"^\s*(pragma|create|drop|alter|grant|revoke|set|vacuum|truncate|use|show|declare)\b", re.I)
SAFE_CALLS = {"int", "float", "len", "bool", "round", "abs"}
UUIDS = {"uuid.uuid4", "uuid.uuid1", "uuid4", "uuid1"}


@dataclass
class Segment:
    """One piece of the SQL text as written: the literal or formatted
    expression ``node`` (which the fix replaces) and its pieces."""

    node: cst.BaseExpression
    pieces: list[Piece]
    quote: str = '"'
    prefix: str = ""
    statement: cst.CSTNode | None = None  # for SQL built over several statements
    template: cst.Assign | None = None  # a module-level template constant used by this call
    how: str = "literal"  # literal | expression | how it was formatted


@dataclass
class Param:
    value: cst.BaseExpression
    segment: int = 0  # the segment whose text held the value
    name: str = ""


@dataclass
class Plan:
    """What the fix does to each segment, or why there is no fix."""

    texts: list[list] = field(default_factory=list)  # per segment: str | Param | kept expression
    params: list[Param] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unsafe: list[cst.BaseExpression] = field(default_factory=list)  # values that change the query


@dataclass
class Site:
    call: cst.Call  # the call that runs the SQL
    arg: cst.Arg  # the argument holding the SQL (or the text() call's argument)
    kind: str  # execute | pandas | text
    segments: list[Segment]
    how: str  # f-string, concatenation, ...
    problem: str | None = None  # why the SQL cannot be rewritten mechanically
    execute: cst.Call | None = None  # for text(): the execute() call it is passed to, if any


def _const(node: cst.BaseExpression) -> bool:
    """Values that cannot carry user input: literals, UPPER_CASE constants, int()/len() and uuid4()
    calls, a choice between two such values."""
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)):
        return True
    name = dotted_name(node)
    if name is not None:
        last = name.split(".")[-1]
        return last.isupper() and len(last) > 1
    if isinstance(node, cst.Call) and callee_name(node) in SAFE_CALLS and dotted_name(node.func) in SAFE_CALLS:
        return True
    if isinstance(node, cst.Call) and dotted_name(node.func) in UUIDS:
        return True  # hex digits and dashes
    if isinstance(node, cst.IfExp):
        return _const(node.body) and _const(node.orelse)  # 'json' if native else 'text'
    return False


def _constants(node: cst.BaseExpression, known: frozenset[str] | set[str] = frozenset()) -> bool:
    """An UPPER_CASE constant, one of the ``known`` constant names (or the
    ``.items()``, ``.keys()`` or ``.values()`` of one), or a literal list, tuple
    or set of constants (and of such tuples)."""
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(_constants(e.value, known) for e in node.elements if isinstance(e, cst.Element))
    if isinstance(node, cst.Name) and node.value in known:
        return True
    if isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute) \
            and node.func.attr.value in ("items", "keys", "values"):
        return isinstance(node.func.value, cst.Name) and node.func.value.value in known
    return _const(node)


def _pieces(node: cst.BaseExpression) -> tuple[list[Piece], str, str, str] | None:
    """(pieces, quote, prefix, how) of a string built by formatting, or of a plain literal."""
    text = string_value(node)
    if text is not None:
        parts = _literal_parts(node)
        if parts is None:
            return None
        return [Piece(text=text)], parts[1], parts[0], "literal"
    if isinstance(node, cst.ConcatenatedString):
        out: list[Piece] = []
        quote = prefix = None
        stack = [node]
        flat = []
        while stack:
            n = stack.pop()
            if isinstance(n, cst.ConcatenatedString):
                stack += [n.right, n.left]
            else:
                flat.append(n)
        for part in flat:
            sub = _pieces(part)
            if sub is None:
                return None
            out += sub[0]
            if quote is None:
                quote, prefix = sub[1], sub[2]
        return out, quote or '"', prefix or "", "f-string"
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        template, parts = string_value(node.left), _literal_parts(node.left)
        pieces = _percent_pieces(template, node.right, numeric=True) if template is not None else None
        if pieces is None or parts is None:
            return None
        return pieces, parts[1], parts[0], "`%` formatting"
    fmt = formatted(node)
    if fmt is None:
        return None
    how = {"fstring": "an f-string", "percent": "`%` formatting", "format": "`.format()`", "concat": "`+`"}[fmt.kind]
    return fmt.pieces, fmt.quote, fmt.prefix, how


def _template_pieces(node: cst.BaseExpression, module_consts: dict[str, cst.Assign]):
    """``QUERY.format(x)`` / ``QUERY % x`` on a module-level string constant."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format" \
            and isinstance(node.func.value, cst.Name) and node.func.value.value in module_consts:
        assign = module_consts[node.func.value.value]
        template = string_value(assign.value)
        pieces = _format_pieces(template, list(node.args)) if template is not None else None
        how = "`.format()` on a module-level template"
    elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo) \
            and isinstance(node.left, cst.Name) and node.left.value in module_consts:
        assign = module_consts[node.left.value]
        template = string_value(assign.value)
        pieces = _percent_pieces(template, node.right, numeric=True) if template is not None else None
        how = "`%` on a module-level template"
    else:
        return None
    parts = _literal_parts(assign.value)
    if pieces is None or parts is None:
        return None
    return pieces, parts[1], parts[0], how, assign


# --------------------------------------------------------------------------- finding the SQL


class _Assigns(cst.CSTVisitor):
    def __init__(self, name: str):
        self.name = name
        self.found = False

    def _check(self, target) -> None:
        if isinstance(target, cst.Name) and target.value == self.name:
            self.found = True
        elif isinstance(target, (cst.Tuple, cst.List)):
            for e in target.elements:
                self._check(e.value)

    def visit_Assign(self, node):
        for t in node.targets:
            self._check(t.target)

    def visit_AugAssign(self, node):
        self._check(node.target)

    def visit_AnnAssign(self, node):
        self._check(node.target)

    def visit_For(self, node):
        self._check(node.target)

    def visit_AsName(self, node):
        self._check(node.name)

    def visit_NamedExpr(self, node):
        self._check(node.target)

    def visit_FunctionDef(self, node):
        return False


def assigns(node: cst.CSTNode, name: str) -> bool:
    v = _Assigns(name)
    node.visit(v)
    return v.found


def _before(stmt: cst.CSTNode, parents: dict[int, cst.CSTNode]):
    """Statements that run before ``stmt``, nearest first, up to the enclosing function."""
    node = stmt
    while True:
        parent = parents.get(id(node))
        if parent is None:
            return
        if isinstance(parent, (cst.IndentedBlock, cst.Module)):
            body = list(parent.body)
            index = next(i for i, s in enumerate(body) if s is node)
            for s in reversed(body[:index]):
                yield s
            if isinstance(parent, cst.Module) or isinstance(parents.get(id(parent)), (cst.FunctionDef, cst.ClassDef)):
                return
        node = parent


class Finder:
    """The SQL-running calls of one module and where their SQL text comes from."""

    def __init__(self, file, facts):
        self.file = file
        self.facts = facts
        self.module = file.module
        self.consts: dict[str, cst.Assign] = {}
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                            and isinstance(small.targets[0].target, cst.Name) and string_value(small.value) is not None:
                        self.consts[small.targets[0].target.value] = small

    @cached_property
    def parents(self) -> dict[int, cst.CSTNode]:
        """The module's parent map (built on first use: a module without SQL built in variables needs none)."""
        return parent_map(self.module)

    def qualify(self, node) -> str:
        return self.facts.qualify(node) or "" if self.facts is not None else dotted_name(node) or ""

    def sites(self) -> list[Site]:
        out: list[Site] = []
        calls: list[cst.Call] = []

        class V(cst.CSTVisitor):
            def visit_Call(self, node):
                calls.append(node)

        self.module.visit(V())
        inside_execute: set[int] = set()
        for call in calls:
            name = callee_name(call)
            if name in RUNNERS and isinstance(call.func, cst.Attribute) and call.args:
                first = call.args[0]
                if first.keyword is not None and first.keyword.value not in ("sql", "statement", "operation", "query"):
                    continue
                value = first.value
                if isinstance(value, cst.Call) and self._is_text(value):
                    inside_execute.add(id(value))
                    site = self._site(value, value.args[0], "text", call) if value.args else None
                else:
                    site = self._site(call, first, "execute")
                if site is not None:
                    out.append(site)
            elif name in PANDAS and call.args and (self.qualify(call.func).startswith("pandas.")
                                                   or dotted_name(call.func) in (f"pd.{name}", name)):
                site = self._site(call, call.args[0], "pandas")
                if site is not None:
                    out.append(site)
        for call in calls:
            if self._is_text(call) and id(call) not in inside_execute and call.args:
                site = self._site(call, call.args[0], "text")
                if site is not None:
                    out.append(site)
        return out

    def _is_text(self, call: cst.Call) -> bool:
        q = self.qualify(call.func)
        return q in ("sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text") or (
            q.endswith(".text") and dotted_name(call.func) in ("sa.text", "db.text", "sqlalchemy.text"))

    def _site(self, call, arg, kind, execute=None) -> Site | None:
        value = arg.value
        got = _pieces(value)
        if got is not None:
            pieces, quote, prefix, how = got
            if not any(p.expr is not None for p in pieces):
                return None  # a literal: parameterized or constant
            return Site(call, arg, kind, [Segment(value, pieces, quote, prefix)], how, execute=execute)
        tpl = _template_pieces(value, self.consts)
        if tpl is not None:
            pieces, quote, prefix, how, assign = tpl
            seg = Segment(value, pieces, quote, prefix, template=assign)
            site = Site(call, arg, kind, [seg], how, execute=execute)
            uses = sum(1 for n in names_in_module(self.module) if n == assign.targets[0].target.value)
            if uses != 2:
                site.problem = (f"the template `{assign.targets[0].target.value}` is used in several places: "
                                "parameterize each query by hand")
            return site
        if isinstance(value, cst.Name):
            return self._built_in_variable(call, arg, kind, value.value, execute)
        return None

    def _built_in_variable(self, call, arg, kind, name, execute) -> Site | None:
        stmt = enclosing(call, self.parents, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        if stmt is None:
            return None
        segments: list[Segment] = []
        problem = None
        base = False
        for s in _before(stmt, self.parents):
            small = s.body[0] if isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1 else None
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name) \
                    and small.targets[0].target.value == name:
                segments.insert(0, self._segment(small.value, s))
                base = True
                break
            if isinstance(small, cst.AugAssign) and isinstance(small.operator, cst.AddAssign) \
                    and isinstance(small.target, cst.Name) and small.target.value == name:
                segments.insert(0, self._segment(small.value, s))
                continue
            if assigns(s, name):
                problem = f"`{name}` is built in a branch or loop: parameterize it by hand"
                # what is formatted in there counts for the finding
                for sub in _assignments_in(s, name):
                    segments.insert(0, self._segment(sub, None))
        if not segments or not base and problem is None:
            return None
        if not any(p.expr is not None for seg in segments for p in seg.pieces):
            return None
        kinds = sorted({seg.how for seg in segments if seg.how not in ("literal", "expression")})
        how = "several statements" if len(segments) > 1 else (kinds[0] if kinds else "an expression")
        site = Site(call, arg, kind, segments, how, problem=problem, execute=execute)
        text = "".join(p.text or "" for seg in segments for p in seg.pieces)
        if not SQL_START.match(text):
            return None
        return site

    def _segment(self, value, stmt) -> Segment:
        got = _pieces(value)
        if got is None:
            return Segment(value, [Piece(expr=value)], statement=stmt, how="expression")
        pieces, quote, prefix, how = got
        return Segment(value, pieces, quote, prefix, statement=stmt, how=how)


def names_in_module(module: cst.Module) -> list[str]:
    out: list[str] = []

    class V(cst.CSTVisitor):
        def visit_Name(self, n):
            out.append(n.value)

    module.visit(V())
    return out


def _assignments_in(node: cst.CSTNode, name: str) -> list[cst.BaseExpression]:
    out = []

    class V(cst.CSTVisitor):
        def visit_Assign(self, n):
            if any(isinstance(t.target, cst.Name) and t.target.value == name for t in n.targets):
                out.append(n.value)

        def visit_AugAssign(self, n):
            if isinstance(n.target, cst.Name) and n.target.value == name:
                out.append(n.value)

    node.visit(V())
    return out


# --------------------------------------------------------------------------- planning the rewrite


def _unwrap_str(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.Call) and dotted_name(node.func) == "str" and len(node.args) == 1 \
            and node.args[0].keyword is None and not node.args[0].star:
        return node.args[0].value
    return node


def _param_name(node: cst.BaseExpression, taken: set[str]) -> str:
    node = _unwrap_str(node)
    base = None
    if isinstance(node, cst.Name):
        base = node.value
    elif isinstance(node, cst.Attribute):
        base = node.attr.value
    elif isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        base = string_value(node.slice[0].slice.value)
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" \
            and node.args:
        base = string_value(node.args[0].value)
    elif isinstance(node, cst.FormattedString):
        names = [e.expression for e in node.parts if isinstance(e, cst.FormattedStringExpression)]
        if len(names) == 1:
            return _param_name(names[0], taken)
    if not base or not base.isidentifier() or keyword.iskeyword(base):
        base = "p"
    base = base.lower()
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


def _fstring(items: list, code_for) -> cst.BaseExpression | None:
    """An f-string for the text and values of a quoted SQL literal (``'%{term}%'``)."""
    exprs = [code_for(i) for i in items if not isinstance(i, str)]
    for quote in ('"', "'"):
        if all(quote not in e and "\\" not in e for e in exprs):
            break
    else:
        return None
    body = ""
    for item in items:
        if isinstance(item, str):
            body += item.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("{", "{{").replace("}", "}}") \
                .replace("\n", "\\n")
        else:
            body += "{" + code_for(item) + "}"
    return cst.parse_expression(f"f{quote}{body}{quote}")


def _replace_chain(node: cst.BaseExpression, param: str) -> list[tuple[str | None, str | None]] | None:
    """The (old, new) literals of ``param.replace(old, new).replace(...)``, innermost
    first, or None when ``node`` is not such a chain on the parameter."""
    pairs = []
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "replace":
        if len(node.args) != 2 or any(a.keyword or a.star for a in node.args):
            return None
        pairs.append((string_value(node.args[0].value), string_value(node.args[1].value)))
        node = node.func.value
    if not (isinstance(node, cst.Name) and node.value == param and pairs):
        return None
    return pairs[::-1]


def _added(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _added(node.left) + _added(node.right)
    return [node]


def quoting_helper(func: cst.FunctionDef) -> bool:
    """A function that quotes its argument as one SQL literal or identifier:
    ``return "'" + s.replace("'", "''") + "'"`` (or with double quotes), the
    quote doubled inside. Its result, pasted outside quotes, is one token."""
    params = func.params
    if len(params.params) + len(params.posonly_params) < 1 or func.asynchronous is not None:
        return False
    param = (params.posonly_params or params.params)[0].name.value
    body = func.body.body if isinstance(func.body, cst.IndentedBlock) else []
    stmts = [st for st in body if not (isinstance(st, cst.SimpleStatementLine) and len(st.body) == 1
                                      and isinstance(st.body[0], cst.Expr)
                                      and isinstance(st.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))]
    if len(stmts) != 1 or not isinstance(stmts[0], cst.SimpleStatementLine) or len(stmts[0].body) != 1 \
            or not isinstance(stmts[0].body[0], cst.Return) or stmts[0].body[0].value is None:
        return False
    parts = _added(stmts[0].body[0].value)
    if len(parts) != 3:
        return False
    quote = string_value(parts[0])
    pairs = _replace_chain(parts[1], param)
    return quote in ("'", '"') and string_value(parts[2]) == quote and pairs is not None \
        and (quote, quote * 2) in pairs


def _library_quoting(func: cst.BaseExpression) -> bool:
    """A database library's own identifier quoting: SQLAlchemy's
    ``dialect.identifier_preparer.quote(name)`` (or ``quote_identifier``,
    ``format_table``), psycopg2's ``quote_ident(name, conn)``. Each returns
    one identifier token with the dialect's quotes doubled inside."""
    if not isinstance(func, cst.Attribute):
        return isinstance(func, cst.Name) and func.value == "quote_ident"
    if func.attr.value == "quote_ident":
        return True
    owner = func.value.attr.value if isinstance(func.value, cst.Attribute) else \
        func.value.value if isinstance(func.value, cst.Name) else ""
    return owner.endswith("preparer") and func.attr.value in ("quote", "quote_identifier", "quote_schema",
                                                              "format_table", "format_column")


def plan(site: Site, code_for, safe_names: set[str], checked: set[str], mysql: bool,
         quoted=lambda call: False) -> Plan:
    """Walk the SQL text across its segments: replace each interpolated value by
    a placeholder (a quoted one with its quotes), keep constants, and collect
    what cannot be a parameter (identifiers, fragments, IN lists). ``quoted(call)``
    tells a call of a quoting helper: outside quotes its value is kept."""
    result = Plan(texts=[[] for _ in site.segments])
    stream: list[tuple[int, object]] = []
    for i, seg in enumerate(site.segments):
        for piece in seg.pieces:
            if piece.text is not None:
                stream += [(i, c) for c in piece.text]
            else:
                stream.append((i, piece))
    quotes = ("'", '"') if mysql else ("'",)

    def emitted() -> str:
        return "".join(t if isinstance(t, str) else "?" for seg in result.texts for t in seg)

    def safe(piece: Piece) -> bool:
        if piece.conversion == "d":
            return True  # "%d" % x: only a number gets in (or a TypeError)
        expr = _unwrap_str(piece.expr)
        if _const(expr):
            return True
        names = names_in(expr)
        return _placeholders_only(expr) or bool(names) and isinstance(expr, cst.Name) and names <= safe_names

    def value_param(piece: Piece) -> bool:
        return piece.conversion in (None, "s", "d") and not piece.spec

    i = 0
    n = len(stream)
    while i < n:
        seg_index, item = stream[i]
        if isinstance(item, str) and item in quotes:
            # a quoted literal: find its end ('' is an escaped quote)
            j = i + 1
            region: list = []
            while j < n:
                s, it = stream[j]
                if isinstance(it, str) and it == item:
                    if j + 1 < n and isinstance(stream[j + 1][1], str) and stream[j + 1][1] == item:
                        region.append(item)
                        j += 2
                        continue
                    break
                region.append(it if isinstance(it, str) else it)
                j += 1
            values = [p for p in region if isinstance(p, Piece)]
            end_seg = stream[j][0] if j < n else seg_index
            if not values or all(safe(p) for p in values):
                for k in range(i, min(j + 1, n)):
                    s, it = stream[k]
                    result.texts[s].append(it if isinstance(it, str) else it.expr)
                i = j + 1
                continue
            result.unsafe += [p.expr for p in values if not safe(p)]
            if j >= n or end_seg != seg_index or any(s != seg_index for s, _ in stream[i:j]):
                result.problems.append("a quoted value spans several statements")
                i = j + 1
                continue
            if not all(value_param(p) for p in values):
                result.problems.append(f"`{code_for(values[0].expr)}` is formatted with a conversion or format spec")
                i = j + 1
                continue
            items: list = []
            for it in region:
                if isinstance(it, Piece):
                    items.append(it.expr)
                elif items and isinstance(items[-1], str):
                    items[-1] += it
                else:
                    items.append(it)
            if len(items) == 1 and not isinstance(items[0], str):
                value = items[0]
            else:
                value = _fstring(items, code_for)
                if value is None:
                    result.problems.append("the quoted value mixes quotes: parameterize it by hand")
                    i = j + 1
                    continue
            param = Param(value, seg_index)
            result.params.append(param)
            result.texts[seg_index].append(param)
            i = j + 1
            continue
        if isinstance(item, str):
            result.texts[seg_index].append(item)
            i += 1
            continue
        piece: Piece = item
        if safe(piece) and piece.conversion != "d":
            result.texts[seg_index].append(piece.expr)
            i += 1
            continue
        if not mysql and isinstance(piece.expr, cst.Call) and value_param(piece) and quoted(piece.expr):
            # MySQL is left out: a backslash escapes a quote there, which doubling does not handle
            result.texts[seg_index].append(piece.expr)
            i += 1
            continue
        before = emitted()
        after = "".join(it for _, it in stream[i + 1:] if isinstance(it, str))
        rest = stream[i + 1:]
        next_text = ""
        for _, it in rest:
            if not isinstance(it, str):
                break
            next_text += it
        kind = _unquoted_kind(before, next_text if rest else after, following_value=bool(rest) and not next_text)
        expr = piece.expr
        label = code_for(expr)
        if piece.conversion == "d":
            # a number: a parameter where a value goes, else kept as it was written
            if kind == "value":
                param = Param(expr, seg_index)
                result.params.append(param)
                result.texts[seg_index].append(param)
            else:
                result.texts[seg_index].append(cst.Call(cst.Name("int"), [cst.Arg(expr)]))
        elif kind == "value" and value_param(piece):
            result.unsafe.append(expr)
            param = Param(_unwrap_str(expr), seg_index)
            result.params.append(param)
            result.texts[seg_index].append(param)
        elif kind == "inlist":
            result.unsafe.append(expr)
            result.problems.append(f"`{label}` fills an IN list: use one placeholder per item "
                                   f"(`\",\".join(\"?\" * len(items))`) and pass the items as parameters")
        elif kind == "identifier":
            if names_in(expr) & checked:
                result.texts[seg_index].append(expr)  # checked against a list of allowed names
            else:
                result.unsafe.append(expr)
                result.problems.append(f"`{label}` is used as a table or column name or a sort direction: "
                                       "identifiers cannot be parameters; check it against an allowlist "
                                       "(`if value not in ALLOWED: abort(400)`)")
        else:
            result.unsafe.append(expr)
            result.problems.append(f"`{label}` is a piece of SQL (not a single value): build the query from "
                                   "fixed text and pass the values as parameters")
        i += 1
    return result


def _unquoted_kind(before: str, after: str, following_value: bool = False) -> str:
    b = before.rstrip()
    a = after.lstrip()
    if before[-1:].isalnum() or before.endswith(("_", "'")) or after[:1].isalnum() or after[:1] in ("_", "'") \
            or following_value:
        return "fragment"  # glued to other text: part of a name or a longer token
    if b.endswith(".") or a.startswith("."):
        return "identifier"
    if re.search(r"\bin\s*\($", b, re.I) and a.startswith(")"):
        return "inlist"
    if VALUE_BEFORE.search(b):
        if b.endswith((",", "(")):
            # inside a list: VALUES (...) and IN (...) hold values, SELECT / ORDER BY lists hold names
            keywords = LAST_KEYWORD.findall(b)
            last = keywords[-1].lower() if keywords else ""
            if last in ("values", "in") or (last in VALUE_CLAUSES and b.endswith("(") and not OPERATOR_AFTER.match(a)):
                return "value"
            if last in VALUE_CLAUSES and OPERATOR_AFTER.match(a):
                return "identifier"
            return "identifier" if last in ("select", "by", "into", "from", "update", "table", "join") else "fragment"
        return "value"
    keywords = LAST_KEYWORD.findall(b)
    last = keywords[-1].lower() if keywords else ""
    if b.lower().endswith(("select", "from", "join", "into", "update", "table", "by")) or re.search(
            r"\b(asc|desc)\s*$", a, re.I) or re.match(r"^(asc|desc)\b", a, re.I):
        return "identifier"
    if last in ("where", "and", "or", "on", "having", "when") and OPERATOR_AFTER.match(a):
        return "identifier"
    if last == "by" and re.search(r"\bby\s+\S+$", b, re.I):
        return "identifier"  # ORDER BY name {direction}
    return "fragment"


# --------------------------------------------------------------------------- which driver


def _connect_driver(value: cst.BaseExpression, finder: Finder) -> str | None:
    if isinstance(value, cst.Call):
        q = finder.qualify(value.func)
        for driver in DRIVERS:
            if q == f"{driver}.connect" or q.startswith(f"{driver}.") and q.endswith(".connect"):
                return driver
        if q.startswith("sqlalchemy.") or q.endswith(("create_engine", "sessionmaker", "scoped_session")):
            return "sqlalchemy"
    return None


def _driver_in(node: cst.CSTNode, finder: Finder) -> set[str]:
    found: set[str] = set()

    class V(cst.CSTVisitor):
        def visit_Call(self, n):
            d = _connect_driver(n, finder)
            if d:
                found.add(d)

    node.visit(V())
    return found


def driver_of(site: Site, finder: Finder, project) -> tuple[str | None, str]:
    """The driver behind the call's connection or cursor, and how it was found."""
    call = site.execute or site.call
    if site.kind == "text":
        return "sqlalchemy", "SQLAlchemy text()"
    receiver = None
    if site.kind == "pandas":
        con = call.args[1].value if len(call.args) > 1 else next(
            (a.value for a in call.args if a.keyword and a.keyword.value == "con"), None)
        receiver = con
    elif isinstance(call.func, cst.Attribute):
        receiver = call.func.value
    name = dotted_name(receiver) if receiver is not None else None
    if name is not None:
        last = name.split(".")[-1]
        if last in ("session", "engine") or name in ("db.session", "db.engine") or last.endswith("_session"):
            return "sqlalchemy", f"`{name}` is a SQLAlchemy {last}"
    # follow the receiver back: cur = conn.cursor(); conn = sqlite3.connect(...); db = get_db()
    func = enclosing(call, finder.parents, (cst.FunctionDef,))
    seen: set[str] = set()
    while name is not None and name not in seen:
        seen.add(name)
        value = _value_of(name, call, func, finder)
        if value is None:
            break
        driver = _connect_driver(value, finder)
        if driver:
            return driver, f"`{name}` comes from {finder.qualify(value.func)}()"
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in (
                "cursor", "connect", "begin", "raw_connection", "get_db"):
            inner = dotted_name(value.func.value)
            if value.func.attr.value in ("connect", "begin") and inner and inner.split(".")[-1] == "engine":
                return "sqlalchemy", f"`{name}` comes from a SQLAlchemy engine"
            name = inner
            continue
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
            helper = finder.facts.functions.get(value.func.value) if finder.facts is not None else None
            if helper is not None:
                drivers = _driver_in(helper, finder)
                if len(drivers) == 1:
                    d = drivers.pop()
                    return d, f"`{name}` comes from {value.func.value}(), which uses {d}"
        break
    imported = {d for d in DRIVERS if _imports(finder.facts, d)}
    if len(imported) == 1:
        d = imported.pop()
        return d, f"the module imports {d}"
    everywhere = {d for path in project.model_paths for d in DRIVERS  # a dormant module parsed only if it can import d
                  if (d in path or d.encode() in project.python[path].data) and _imports(project.facts_for(path), d)}
    if not imported and len(everywhere) == 1:
        d = everywhere.pop()
        return d, f"the project uses {d}"
    return None, "the database driver could not be determined"


def _imports(facts, driver: str) -> bool:
    if facts is None:
        return False
    return any(m == driver or m.startswith(driver + ".") for m in facts.imported_modules) or any(
        q == driver or q.startswith(driver + ".") for q in facts.imports.values())


def _value_of(name: str, call, func, finder: Finder) -> cst.BaseExpression | None:
    """The value last assigned to ``name`` before ``call`` (in the function, then at module level)."""
    stmt = enclosing(call, finder.parents, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    scopes = list(_before(stmt, finder.parents)) if stmt is not None else []
    if func is not None:
        scopes += list(finder.module.body)
    for s in scopes:
        if isinstance(s, cst.SimpleStatementLine):
            for small in s.body:
                if isinstance(small, cst.Assign) and any(dotted_name(t.target) == name for t in small.targets):
                    return small.value
        elif isinstance(s, cst.With):
            for item in s.items:
                if item.asname is not None and dotted_name(item.asname.name) == name:
                    return item.item
    # with ... as name: enclosing the call
    node = call
    while node is not None:
        node = finder.parents.get(id(node))
        if isinstance(node, cst.With):
            for item in node.items:
                if item.asname is not None and dotted_name(item.asname.name) == name:
                    return item.item
    if "." in name and finder.facts is not None:
        # g.db = sqlite3.connect(...) somewhere in the module
        for stmt_value in _attribute_assignments(finder.module, name):
            return stmt_value
    return None


def _attribute_assignments(module: cst.Module, name: str) -> list[cst.BaseExpression]:
    out = []

    class V(cst.CSTVisitor):
        def visit_Assign(self, n):
            if any(dotted_name(t.target) == name for t in n.targets):
                out.append(n.value)

    module.visit(V())
    return out


# --------------------------------------------------------------------------- the rule


@register
class SqlBuiltFromStrings(Rule):
    """SQL text is built from strings and values.

    ## What it does
    Finds SQL built with f-strings, `%`, `.format()`, `+` or over several
    statements (`query = "..." + term; query += "..."`), or from a
    module-level template constant, and run by a DB-API cursor or connection
    (`execute`, `executemany`, `executescript`), SQLAlchemy (`session.execute`,
    `engine.execute`, `text(...)`) or `pandas.read_sql`. Every statement kind
    counts, in any letter case, with quoted or unquoted values, LIKE patterns
    and IN lists. Queries that already pass their values as parameters, and
    text built only from constants (`UPPER_CASE` names, literals, names the
    module or the function binds only to literals and never changes,
    `int(...)`, `<int:id>` route parameters), are not reported, nor is test
    code (`tests/`, `test_*.py`, `conftest.py`). Neither is a value placed
    outside quotes through a quoting helper of the project's own that doubles
    the quote (`'"' + s.replace('"', '""') + '"'`), or a `", ".join(...)` of
    such values, except for MySQL drivers, where a backslash escapes a quote;
    nor an identifier quoted by the database library
    (`dialect.identifier_preparer.quote(name)`, psycopg2's `quote_ident`).

    ## Why is this bad?
    A value pasted into SQL text can close the quote and add its own SQL:
    `' OR '1'='1` logs in without a password, `' UNION SELECT ...` reads other
    tables, `1 OR 1=1` on a numeric id returns every row. Parameters are sent
    to the database separately from the SQL text, so they are always data,
    never code.

    ## Example
    ```python
    user = db.execute(f"SELECT id FROM users WHERE name = '{name}'").fetchone()
    query = "SELECT * FROM notes WHERE title LIKE '%" + term + "%'"
    query += " ORDER BY id"
    rows = db.execute(query).fetchall()
    ```

    ## Use instead
    ```python
    user = db.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
    query = "SELECT * FROM notes WHERE title LIKE ?"
    query += " ORDER BY id"
    rows = db.execute(query, (f"%{term}%",)).fetchall()
    ```
    The placeholder follows the driver the connection comes from: sqlite3
    `?`; psycopg2, psycopg, PyMySQL, MySQLdb `%s` (a literal `%` in the SQL
    becomes `%%`); SQLAlchemy `text()` takes `:name` and a dict. The quotes
    around a value go, and LIKE wildcards move into the parameter.

    ## Fix safety
    Safe when the driver is known: the same rows come back for every
    legitimate value. When the driver cannot be determined the fix is
    `review` (set `paramstyle` in `[tool.hardener]` to decide it). Table and
    column names and sort directions cannot be parameters: those are reported
    with no fix; check them against an allowlist. IN lists filled from one
    string, SQL fragments and queries built in branches or loops are reported
    for a manual rewrite too.

    ## References
    - https://owasp.org/www-community/attacks/SQL_Injection
    - https://docs.python.org/3/library/sqlite3.html#sqlite3-placeholders
    - https://www.psycopg.org/docs/usage.html#passing-parameters-to-sql-queries
    - https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.text
    - CWE-89: SQL Injection
    """

    code = "H301"
    name = "sql-built-from-strings"
    category = "sql"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    cwe = 89

    @classmethod
    def wants(cls, data: bytes) -> bool:
        # (instead of `triggers`) a runner or pandas function called by name
        # (not just named: "execute" is in many docstrings); SQLAlchemy's text()
        # only where sqlalchemy is imported or named (`sa.text`, `db.text`)
        return RUNNER_CALL.search(data) is not None or (
            b"text" in data and (b"sqlalchemy" in data or b"sa.text" in data or b"db.text" in data))

    VALID = [
        # parameterized
        FLASK + "import sqlite3\ndb = sqlite3.connect('x.db')\n"
        "def find(name):\n    return db.execute('SELECT * FROM users WHERE name = ?', (name,)).fetchall()\n",
        # only constants in the text
        FLASK + "import sqlite3\nTABLE = 'users'\ndb = sqlite3.connect('x.db')\n"
        "def count(limit):\n    return db.execute(f'SELECT count(*) FROM {TABLE} LIMIT {int(limit)}').fetchone()\n",
        # SQLAlchemy text() with bound parameters
        FLASK + "from sqlalchemy import text\n"
        "def find(session, q):\n    return session.execute(text('SELECT * FROM t WHERE name = :q'), {'q': q})\n",
        # an identifier checked against an allowlist
        FLASK + "import sqlite3\ndb = sqlite3.connect('x.db')\n"
        "def rows(order):\n    if order not in ('name', 'id'):\n        raise ValueError(order)\n"
        "    return db.execute(f'SELECT * FROM t ORDER BY {order}').fetchall()\n",
        # not SQL
        FLASK + "import subprocess\ndef run(job, x):\n    job.execute(f'echo {x}')\n",
        # an int route parameter
        "import sqlite3\nfrom flask import Flask\napp = Flask(__name__)\ndb = sqlite3.connect('x.db')\n"
        "@app.route('/n/<int:note_id>')\ndef note(note_id):\n"
        "    return str(db.execute(f'SELECT * FROM notes WHERE id = {note_id}').fetchone())\n",
    ]
    INVALID = [
        # sqlite3: quoted values in an f-string
        Example(
            FLASK + "import sqlite3\ndb = sqlite3.connect('x.db')\n\ndef login(name, pw):\n"
            "    return db.execute(f\"SELECT id FROM users WHERE name = '{name}' AND pw = '{pw}'\").fetchone()\n",
            FLASK + "import sqlite3\ndb = sqlite3.connect('x.db')\n\ndef login(name, pw):\n"
            "    return db.execute(\"SELECT id FROM users WHERE name = ? AND pw = ?\", (name, pw)).fetchone()\n",
        ),
        # several statements, a LIKE pattern, a literal % escaped for psycopg2
        Example(
            FLASK + "import psycopg2\nconn = psycopg2.connect('dbname=x')\n\ndef search(term, uid):\n"
            "    cur = conn.cursor()\n"
            "    query = \"SELECT * FROM notes WHERE user_id = \" + str(uid) + \" AND title LIKE '%\" + term + \"%'\"\n"
            "    query += \" AND body NOT LIKE '100%'\"\n"
            "    cur.execute(query)\n    return cur.fetchall()\n",
            FLASK + "import psycopg2\nconn = psycopg2.connect('dbname=x')\n\ndef search(term, uid):\n"
            "    cur = conn.cursor()\n"
            "    query = \"SELECT * FROM notes WHERE user_id = %s AND title LIKE %s\"\n"
            "    query += \" AND body NOT LIKE '100%%'\"\n"
            "    cur.execute(query, (uid, f\"%{term}%\"))\n    return cur.fetchall()\n",
        ),
        # SQLAlchemy text() takes :name and a dict
        Example(
            FLASK + "from sqlalchemy import text\n\ndef find(db, q):\n"
            "    return db.session.execute(text(f\"SELECT id FROM product WHERE name LIKE '%{q}%' ORDER BY name\"))\n",
            FLASK + "from sqlalchemy import text\n\ndef find(db, q):\n"
            "    return db.session.execute(text(\"SELECT id FROM product WHERE name LIKE :q ORDER BY name\"), "
            "{\"q\": f\"%{q}%\"})\n",
        ),
        # numeric value with %, .format() INSERT
        Example(
            FLASK + "import sqlite3\ndb = sqlite3.connect('x.db')\n\ndef note(note_id, uid, title):\n"
            "    db.execute(\"INSERT INTO notes (user_id, title) VALUES ({}, '{}')\".format(uid, title))\n"
            "    return db.execute(\"select * from notes where id = %s\" % note_id).fetchone()\n",
            FLASK + "import sqlite3\ndb = sqlite3.connect('x.db')\n\ndef note(note_id, uid, title):\n"
            "    db.execute(\"INSERT INTO notes (user_id, title) VALUES (?, ?)\", (uid, title))\n"
            "    return db.execute(\"select * from notes where id = ?\", (note_id,)).fetchone()\n",
            findings=2,
        ),
        # an identifier: reported, no fix
        Example(
            FLASK + "import sqlite3\ndb = sqlite3.connect('x.db')\n\ndef rows(order):\n"
            "    return db.execute(f'SELECT * FROM t ORDER BY {order}').fetchall()\n",
            None,
        ),
        # the driver is unknown: a review fix
        Example(
            FLASK + "def find(cursor, name):\n    cursor.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)\n",
            FLASK + "def find(cursor, name):\n    cursor.execute(\"SELECT * FROM users WHERE name = ?\", (name,))\n",
            unsafe=True,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return  # test code builds SQL from its own fixtures and serves no requests
        facts = facts_or_imports(project, file)
        finder = Finder(file, facts)
        req = request_names(facts)
        helpers: dict[str, bool] = {}
        for site in finder.sites():
            text = "".join(p.text or "?" for seg in site.segments for p in seg.pieces)
            if not SQL_START.match(text):
                continue
            func = enclosing(site.call, finder.parents, (cst.FunctionDef,))
            safe_names = _int_params(func, file) if func is not None else set()
            checked = _allowlisted(func) if func is not None else set()
            driver, why = driver_of(site, finder, project)
            if project.config.paramstyle:
                style = project.config.paramstyle
            elif driver == "sqlalchemy":
                style = "named"
            else:
                style = DRIVERS.get(driver or "", "qmark")
            the_plan = plan(site, file.code_for, safe_names, checked, mysql=driver in ("pymysql", "MySQLdb",
                                                                                       "mysql.connector"),
                            quoted=lambda call: self._quoting(project, facts, call, helpers))
            if not the_plan.unsafe:
                continue
            tainted = False
            if func is not None:
                t = tainted_names(func, req, REQUEST_SOURCES)
                tainted = any(t.expr(e) for e in the_plan.unsafe)
            values = ", ".join(f"`{file.code_for(e)}`" for e in the_plan.unsafe[:4])
            runner = {"execute": f"{callee_name(site.call)}()", "pandas": f"{callee_name(site.call)}()",
                      "text": "text()"}[site.kind]
            message = f"SQL built with {site.how} and run by {runner}: {values} can change the query (SQL injection)"
            problems = ([site.problem] if site.problem else []) + the_plan.problems
            if NO_PARAMS.match(text) and the_plan.params:
                problems.append(f"{text.split()[0].upper()} statements take no parameters: check the value against "
                                "an allowlist (or convert it with int())")
            if site.kind == "execute" and callee_name(site.call) == "executescript":
                problems.append("executescript() takes no parameters: run each statement with execute() and "
                                "parameters")
            if site.kind == "execute" and callee_name(site.call) == "executemany":
                problems.append("executemany() with formatted SQL: pass each row's values as parameters")
            if site.kind == "execute" and (len(site.call.args) > 1 or site.kind == "pandas"):
                problems.append("the call already passes parameters: add these values to them by hand")
            if site.kind == "pandas" and any(a.keyword and a.keyword.value == "params" for a in site.call.args):
                problems.append("the call already passes parameters: add these values to them by hand")
            if site.kind == "text" and site.execute is not None and len(site.execute.args) > 1:
                problems.append("the call already passes parameters: add these values to them by hand")
            fix = None
            if problems:
                message += "; " + problems[0]
            else:
                fix = self._fix(project, file, finder, site, the_plan, style, driver, why)
            yield self.finding(file, site.call, message, fix,
                               confidence=Confidence.HIGH if tainted else Confidence.MEDIUM)

    @staticmethod
    def _quoting(project, facts, call: cst.Call, known: dict[str, bool]) -> bool:
        """Whether ``call`` calls a quoting helper of the project's own (see ``quoting_helper``)."""
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "join" and len(call.args) == 1:
            # ", ".join([identifier(c) for c in columns]): quoted tokens, separated outside quotes
            sep, items = string_value(func.value), call.args[0].value
            return sep is not None and not any(q in sep for q in "'\"\\") and not call.args[0].star \
                and isinstance(items, (cst.ListComp, cst.GeneratorExp)) and isinstance(items.elt, cst.Call) \
                and SqlBuiltFromStrings._quoting(project, facts, items.elt, known)
        if not call.args:
            return False
        if _library_quoting(func):
            return True
        name = dotted_name(func)
        if name is None:
            return False
        if name not in known:
            local = top_level_function(facts.file.module, name)
            found = (local, facts) if local is not None else _project_function(project, facts, call.func)
            known[name] = found is not None and quoting_helper(found[0])
        return known[name]

    def _fix(self, project, file, finder, site, the_plan, style, driver, why) -> Fix | None:
        # a value moved from an earlier statement to the call must mean the same there
        call_stmt = enclosing(site.call, finder.parents, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        for param in the_plan.params:
            owner = site.segments[param.segment].statement
            if owner is None:
                continue
            for s in _before(call_stmt, finder.parents):
                if s is owner:
                    break
                if any(assigns(s, name) for name in names_in(param.value)):
                    return None
        sqlalchemy_raw = site.kind == "execute" and driver == "sqlalchemy"
        taken: set[str] = set()
        for param in the_plan.params:
            param.name = _param_name(param.value, taken)
        placeholder = {"qmark": lambda p: "?", "format": lambda p: "%s", "named": lambda p: f":{p.name}",
                       "oracle": lambda p: f":{p.name}"}[style]
        percent = style == "format"

        def new_segment(index: int) -> cst.BaseExpression:
            seg = site.segments[index]
            items = the_plan.texts[index]
            kept = [i for i in items if not isinstance(i, (str, Param))]
            text_items = []
            for item in items:
                if isinstance(item, Param):
                    text_items.append(placeholder(item))
                elif isinstance(item, str):
                    text_items.append(item.replace("%", "%%") if percent else item)
                else:
                    text_items.append(item)
            if kept:
                return _fstring(text_items, file.code_for) or _raise("a constant in the SQL has quotes in it")
            text = "".join(text_items)
            split = _split_like(seg, text)
            if split is not None:
                return split
            return string_literal(text, seg.quote if seg.quote else '"', seg.prefix.replace("f", ""))

        def compute():
            replace: dict = {}
            for index, seg in enumerate(site.segments):
                new = new_segment(index)
                if seg.template is not None:
                    replace[seg.template.value] = new
                    replace[seg.node] = cst.Name(seg.template.targets[0].target.value)
                elif string_value(seg.node) != string_value(new) or not isinstance(seg.node, type(new)):
                    replace[seg.node] = new
            values = [p.value for p in the_plan.params]
            if style in ("named", "oracle"):
                params_node: cst.BaseExpression = cst.Dict([
                    cst.DictElement(cst.SimpleString(f'"{p.name}"'), p.value,
                                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if k < len(values) - 1
                                    else cst.MaybeSentinel.DEFAULT)
                    for k, p in enumerate(the_plan.params)])
            else:
                params_node = cst.Tuple([
                    cst.Element(v, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if k < len(values) - 1
                                else (cst.Comma() if len(values) == 1 else cst.MaybeSentinel.DEFAULT))
                    for k, v in enumerate(values)])
            imports = []
            if site.kind == "text" and site.execute is None:
                target_call = site.call
                # text("... :q").bindparams(q=value)
                new_text_call = _replaced_call(site.call, replace)
                bind = cst.Call(cst.Attribute(new_text_call, cst.Name("bindparams")), [
                    cst.Arg(p.value, keyword=cst.Name(p.name), equal=cst.AssignEqual(
                        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
                        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if k < len(values) - 1
                        else cst.MaybeSentinel.DEFAULT)
                    for k, p in enumerate(the_plan.params)])
                outer = {target_call: bind}
                for node, new in replace.items():
                    if node is not site.call.args[0].value:
                        outer[node] = new
                replace = outer
            else:
                target_call = site.execute if site.kind == "text" else site.call
                if sqlalchemy_raw:
                    # a raw string on a SQLAlchemy session/engine: text() with :name
                    text_name = _text_name(finder)
                    if text_name is None:
                        imports.append(("sqlalchemy", "text"))
                        text_name = "text"
                    first = site.segments[0]
                    if first.statement is None and first.template is None:
                        replace[first.node] = cst.Call(cst.Name(text_name), [cst.Arg(replace.get(first.node, first.node))])
                    else:
                        replace[site.arg.value] = cst.Call(cst.Name(text_name), [cst.Arg(site.arg.value)])
                if site.kind == "pandas":
                    new_arg = cst.Arg(params_node, keyword=cst.Name("params"),
                                      equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                            whitespace_after=cst.SimpleWhitespace("")))
                else:
                    new_arg = cst.Arg(params_node)
                inner = {k: v for k, v in replace.items() if _within(k, target_call, finder)}
                outer = {k: v for k, v in replace.items() if k not in inner}
                new_call = _replaced_call(target_call, inner)
                outer[target_call] = _append_arg(new_call, new_arg)
                replace = outer
            builder = ChangeBuilder(project)

            def edit(m):
                m = rewrite(m, replace=replace)
                return add_imports(m, *imports) if imports else m

            builder.edit_python(file.path, edit, file=file)
            return builder.build()

        names = STYLES[style]
        title = f"Pass the values as query parameters ({names})"
        if project.config.paramstyle:
            return Fix(title, Safety.SAFE, compute)
        if driver is None:
            return Fix(title, Safety.REVIEW, compute,
                       reason=f"{why}: the placeholders assume sqlite3 `?`; set paramstyle in [tool.hardener] "
                              "(qmark, format or named) if the connection is another driver")
        return Fix(title, Safety.SAFE, compute)


def _split_like(seg: Segment, text: str) -> cst.ConcatenatedString | None:
    """``text`` as adjacent literals split where the original ones were
    (``"SELECT ..."  # comment`` / ``" WHERE ..."``), so that layout and
    comments stay; a split that fell inside a replaced value is dropped."""
    import difflib

    node = seg.node
    if seg.template is not None:
        node = seg.template.value
    elif isinstance(node, cst.BinaryOperation):
        node = node.left
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        node = node.func.value
    if not isinstance(node, cst.ConcatenatedString):
        return None
    parts: list[cst.SimpleString] = []
    gaps: list = []

    def flatten(n):
        if isinstance(n, cst.ConcatenatedString):
            flatten(n.left)
            gaps.append(n.whitespace_between)
            flatten(n.right)
        else:
            parts.append(n)

    flatten(node)
    if not all(isinstance(p, cst.SimpleString) for p in parts):
        return None
    texts = [string_value(p) or "" for p in parts]
    old = "".join(texts)
    blocks = difflib.SequenceMatcher(None, old, text, autojunk=False).get_matching_blocks()
    cuts, where = [], 0
    for index, part_text in enumerate(texts[:-1]):
        where += len(part_text)
        new = next((b + where - a for a, b, size in blocks if a <= where <= a + size and size), None)
        cuts.append(new if new is not None and (not cuts or cuts[-1] is None or new >= cuts[-1]) else None)
    chunks, kept_gaps, start = [], [], 0
    owner = [parts[0]]
    for index, cut in enumerate(cuts):
        if cut is None:
            continue
        chunks.append((text[start:cut], owner[-1]))
        kept_gaps.append(gaps[index])
        owner.append(parts[index + 1])
        start = cut
    chunks.append((text[start:], owner[-1]))
    if len(chunks) < 2:
        return None
    literals = [string_literal(chunk, part.quote, part.prefix) for chunk, part in chunks]
    result = literals[-1]
    for literal, gap in zip(reversed(literals[:-1]), reversed(kept_gaps)):
        result = cst.ConcatenatedString(literal, result, whitespace_between=gap)
    return result.with_changes(lpar=node.lpar, rpar=node.rpar)


def _raise(message: str):
    raise FixError(message)


def _text_name(finder: Finder) -> str | None:
    if finder.facts is None:
        return None
    for local, q in finder.facts.imports.items():
        if q in ("sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"):
            return local
    return None


def _within(node: cst.CSTNode, ancestor: cst.CSTNode, finder: Finder) -> bool:
    current = node
    while current is not None:
        if current is ancestor:
            return True
        current = finder.parents.get(id(current))
    return False


def _replaced_call(call: cst.Call, replace: dict) -> cst.Call:
    """``call`` with the nodes inside it replaced (by identity)."""
    if not replace:
        return call

    class T(cst.CSTTransformer):
        def on_leave(self, original, updated):
            return replace.get(original, updated)

    return call.visit(T())


def _append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    args = list(call.args)
    last = args[-1]
    comma = last.comma
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace) \
            and isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        # one argument per line with a trailing comma: the new one gets its own line
        after = comma.whitespace_after
        args[-1] = last.with_changes(comma=comma.with_changes(
            whitespace_after=after.with_changes(last_line=call.whitespace_before_args.last_line)))
        args.append(arg.with_changes(comma=cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(
            indent=after.indent, last_line=after.last_line)), whitespace_after_arg=last.whitespace_after_arg))
    elif isinstance(comma, cst.Comma):
        args[-1] = last.with_changes(comma=comma.with_changes(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(arg.with_changes(comma=comma.with_changes(whitespace_before=cst.SimpleWhitespace("")),
                                     whitespace_after_arg=last.whitespace_after_arg))
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                                     whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(arg.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


def _int_params(func: cst.FunctionDef, file) -> set[str]:
    """Names that cannot carry SQL: ``<int:id>`` route parameters, ``x = int(...)``,
    ``marks = ",".join("?" * len(ids))``, ``for table, column in COLUMNS``, and
    the module's literal constants the function does not bind itself."""
    local, literals = function_names(func)
    known = (module_constants(file) - local) | literals
    out: set[str] = set(known)
    for dec in func.decorators:
        for node in [dec.decorator] + ([a.value for a in dec.decorator.args] if isinstance(dec.decorator, cst.Call)
                                       else []):
            text = string_value(node)
            if text:
                out.update(re.findall(r"<(?:int|float):(\w+)>", text))
    numeric: dict[str, bool] = {}
    top = {small.targets[0].target.value for stmt in func.body.body if isinstance(stmt, cst.SimpleStatementLine)
           for small in stmt.body if isinstance(small, cst.Assign) and len(small.targets) == 1
           and isinstance(small.targets[0].target, cst.Name)}

    class V(cst.CSTVisitor):
        def visit_Assign(self, n):
            for t in n.targets:
                if isinstance(t.target, cst.Name):
                    ok = isinstance(n.value, (cst.Integer, cst.Float)) or _placeholders_only(n.value) or (
                        isinstance(n.value, cst.Call) and dotted_name(n.value.func) in ("int", "float"))
                    numeric[t.target.value] = numeric.get(t.target.value, True) and ok

        def visit_AugAssign(self, n):
            if isinstance(n.target, cst.Name):
                numeric[n.target.value] = False

        def visit_For(self, n):
            # for table, column in TEXT_COLUMNS: / for name in ("a", "b"):
            ok = _constants(n.iter, known)
            for target in [n.target, *(e.value for e in getattr(n.target, "elements", ()))]:
                if isinstance(target, cst.Name):
                    numeric[target.value] = numeric.get(target.value, True) and ok

    func.body.visit(V())
    params = {p.name.value for p in func.params.params}
    # a parameter counts once the function body itself converts it (`n = int(n)`)
    out |= {name for name, ok in numeric.items() if ok and (name not in params or name in top)}
    return out


PLACEHOLDER = re.compile(r"^\s*(\?|%s|:\w+|%\(\w+\)s)?\s*,?\s*$")


def _placeholders_only(node: cst.BaseExpression) -> bool:
    """``",".join("?" * len(ids))`` and the like: text made of placeholders alone."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "join"
            and string_value(node.func.value) is not None and PLACEHOLDER.match(string_value(node.func.value))):
        return False
    strings: list[str] = []

    class V(cst.CSTVisitor):
        def visit_SimpleString(self, n):
            strings.append(string_value(n) or "")

        def visit_FormattedString(self, n):
            strings.append("{}")

    for arg in node.args:
        arg.visit(V())
    return bool(strings) and all(PLACEHOLDER.match(text) for text in strings)


def _allowlisted(func: cst.FunctionDef) -> set[str]:
    """Names compared against a fixed set (``if order not in ALLOWED: ...``)."""
    out: set[str] = set()

    class V(cst.CSTVisitor):
        def visit_Comparison(self, n):
            if len(n.comparisons) == 1 and isinstance(n.comparisons[0].operator, (cst.In, cst.NotIn)) \
                    and isinstance(n.left, cst.Name):
                out.add(n.left.value)

    func.body.visit(V())
    return out
