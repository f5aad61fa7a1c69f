"""XSS and server-side template injection: H311 render-template-string-injection,
H312 markup-formatted-string, H313 template-safe-filter, H314
jinja-autoescape-disabled, H315 html-built-in-view."""

from __future__ import annotations

import dataclasses
import keyword
import re

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import dotted_name, is_test_path, may_hold_facts, string_value
from hardener.rules import Example, Rule, register
from hardener.source import ParseError, parse_jinja

from ._flaskapi import ROUTE_DECORATOR, call_name, facts_or_imports, views_in
from ._webapp import _project_function
from ._flow import (REQUEST_SOURCES, Formatted, InFunction, LazyParents, assignment_of, callee_name, enclosing,
                    formatted, functions_in, request_names, returns_of, rewrite, sanitizers_for, string_literal,
                    tainted_names, target_names)

RENDER_STRING = {"flask.render_template_string", "flask.templating.render_template_string"}
MARKUP = {"markupsafe.Markup", "flask.Markup", "jinja2.Markup", "jinja2.utils.Markup", "flask.helpers.Markup"}
JINJA_ENV = {"jinja2.Environment", "jinja2.environment.Environment"}
# names a template kwarg must not take: Jinja keywords and what Flask puts in every context
RESERVED = {"true", "false", "none", "True", "False", "None", "not", "and", "or", "in", "is", "if", "else",
            "loop", "self", "super", "varargs", "kwargs", "caller", "request", "session", "g", "config",
            "url_for", "get_flashed_messages"}
APP = "from flask import Flask\napp = Flask(__name__)\n"  # examples need an app to be a Flask project
ESCAPING_REASON = ("values that do not come from the request are now HTML-escaped too; one that holds HTML on "
                   "purpose must be wrapped in Markup() by its producer")


class _Taint:
    """``id(function) -> Tainted`` for a module's functions, each worked out
    the first time a rule asks (most rules ask about a few functions). What
    the function's own code says is kept with the file (``PythonFile.memo``:
    the rounds of ``--apply-all`` ask again); that a view's parameters count
    too depends on the project's routes, and is added per scan."""

    def __init__(self, file, req, views: set[int], sanitizers: set[str]):
        self.functions = file.memo("functions by id", lambda: {id(f): f for f in functions_in(file.module)})
        self.req, self.views, self.sanitizers = req, views, sanitizers
        self.known = file.memo("request taint", dict)
        self.done: dict[int, object] = {}

    def get(self, key: int):
        if key not in self.done:
            func = self.functions.get(key)
            t = None
            if func is not None:
                t = self.known.get(key)
                if t is None:
                    t = self.known[key] = tainted_names(func, self.req, REQUEST_SOURCES, self.sanitizers)
                if key in self.views:
                    t = dataclasses.replace(t, params={p.name.value for p in func.params.params})
            self.done[key] = t
        return self.done[key]


def _scope_info(project, file):
    """(facts, request names, {function: Tainted}, parents, view ids) for a
    module, cached per scan."""
    cache = project.__dict__.setdefault("_xss_scope_cache", {})
    key = file.path
    if key not in cache or cache[key][0] is not file:
        facts = facts_or_imports(project, file)
        req = request_names(facts)
        views = {id(v.func) for v in views_in(project, file)}
        taint = _Taint(file, req, views, sanitizers_for(facts))
        cache[key] = (file, facts, req, taint, LazyParents(file.module), views)
    return cache[key][1:]


def _formatted_arg(func, arg: cst.BaseExpression):
    """(Formatted, assignment statement or None) for a formatted string given
    directly or through a local variable assigned once and read once."""
    direct = formatted(arg)
    if direct is not None:
        return direct, None
    if isinstance(arg, cst.Name) and func is not None:
        found = assignment_of(func, arg.value)
        if found is not None:
            value = formatted(found[0].value)
            if value is not None:
                return value, found[1]
    return None, None


ESCAPED = {"escape", "Markup", "url_for", "int", "len", "float", "quote", "quote_plus", "urlencode", "tojson",
           "htmlsafe_json_dumps", "xmlattr", "html_params"}


def _literal_values(fmt: Formatted) -> bool:
    return all(string_value(v) is not None or isinstance(v, (cst.Integer, cst.Float)) for v in fmt.values)


def _escaping(node: cst.BaseExpression) -> bool:
    """A call that escapes or gives no text: ``escape(x)``, ``html.escape(x)``,
    ``render_fully_escaped(x)``, ``int(x)``, ``url_for(...)``."""
    return isinstance(node, cst.Call) and (callee_name(node) in ESCAPED or "escape" in callee_name(node).lower())


def _escaped_values(fmt: Formatted, escaped_names: set[str] = frozenset()) -> bool:
    """Every value is a literal or already escaped / not text, directly or
    through a local variable that is only ever assigned such a call."""
    return all(string_value(v) is not None or isinstance(v, (cst.Integer, cst.Float)) or _escaping(v)
               or isinstance(v, cst.Name) and v.value in escaped_names for v in fmt.values)


def _escaped_names(func: cst.FunctionDef | None, call: cst.Call) -> set[str]:
    """Names that hold an escaping call's result where ``call`` runs: the last
    assignment to the name before it (in the code's order) is such a call and
    is in a block that holds ``call`` too, so it ran on the way there
    (``last_error = escape(last_error)`` and then ``Markup(f"{last_error}...")``)."""
    if func is None:
        return set()
    blocks: list[int] = []
    last: dict[str, tuple[bool, tuple[int, ...]]] = {}
    out: set[str] = set()

    def bind(target, escaped: bool) -> None:
        for name in target_names(target):
            last[name] = (escaped, tuple(blocks))

    class V(cst.CSTVisitor):
        def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
            blocks.append(id(node))

        def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
            blocks.pop()

        def leave_Assign(self, node: cst.Assign) -> None:  # the value is worked out before the name is bound
            for target in node.targets:
                bind(target.target, _escaping(node.value))

        def leave_AugAssign(self, node: cst.AugAssign) -> None:
            bind(node.target, False)

        def visit_For(self, node: cst.For) -> None:
            bind(node.target, False)

        def visit_Call(self, node: cst.Call) -> None:
            if node is call:
                here = tuple(blocks)
                out.update(name for name, (escaped, where) in last.items() if escaped and here[:len(where)] == where)

    func.visit(V())
    return out


# --------------------------------------------------------------------------- H311


def _jinja_template(fmt: Formatted, existing: set[str]) -> tuple[cst.SimpleString, list[tuple[str, cst.BaseExpression]]] | None:
    """A constant Jinja template with ``{{ name }}`` placeholders and the
    keyword arguments that feed them; None when a value cannot be expressed."""
    kwargs: dict[str, cst.BaseExpression] = {}
    codes: dict[str, str] = {}
    module = cst.Module(body=[])
    out: list[str] = []
    raw_parts = None
    if fmt.kind == "fstring":
        raw_parts = [p for p in fmt.node.parts]
    pieces = fmt.pieces
    for i, piece in enumerate(pieces):
        if piece.expr is None:
            continue
        if piece.conversion not in (None, "s") or piece.spec:
            return None
        before = pieces[i - 1].text if i > 0 and pieces[i - 1].text is not None else ""
        after = pieces[i + 1].text if i + 1 < len(pieces) and pieces[i + 1].text is not None else ""
        if before.endswith("{") or after.startswith("}"):
            return None
    for piece in pieces:
        if piece.expr is None:
            out.append(piece.text)
            continue
        expr = piece.expr
        code = module.code_for_node(expr)
        dotted = dotted_name(expr)
        if dotted is not None:
            head = dotted.split(".")[0]
            head_expr = cst.Name(head)
            var, shown = head, dotted
            if var in RESERVED or keyword.iskeyword(var) or var.startswith("_"):
                var = shown = None
        else:
            var = shown = None
        if var is None:
            base, n = "value", 1
            var = base
            while var in kwargs and codes[var] != code or var in existing:
                n += 1
                var = f"{base}{n}"
            head_expr, shown = expr, var
            head_code = code
        else:
            head_code = head
            if var in existing or (var in kwargs and codes[var] != head_code):
                return None
        kwargs[var] = head_expr
        codes[var] = head_code
        out.append("{{ " + shown + " }}")
    text = "".join(out)
    if raw_parts is not None:
        # keep the f-string's own spelling of the literal text (escapes, quotes)
        raw = []
        k = 0
        placeholders = [o for o, p in zip(out, pieces) if p.expr is not None]
        for part in raw_parts:
            if isinstance(part, cst.FormattedStringText):
                raw.append(part.value.replace("{{", "{").replace("}}", "}"))
            else:
                raw.append(placeholders[k])
                k += 1
        prefix = fmt.node.prefix.replace("f", "").replace("F", "")
        literal = cst.SimpleString(f"{prefix}{fmt.node.start[len(fmt.node.prefix):]}{''.join(raw)}{fmt.node.end}")
    else:
        literal = string_literal(text, fmt.quote, fmt.prefix)
    return literal, list(kwargs.items())


def _add_kwargs(call: cst.Call, kwargs: list[tuple[str, cst.BaseExpression]], replaced_first=None) -> cst.Call:
    args = list(call.args)
    if replaced_first is not None:
        args[0] = args[0].with_changes(value=replaced_first)
    if not kwargs:
        return call.with_changes(args=args)
    last_comma = args[-1].comma if args else cst.MaybeSentinel.DEFAULT
    sep = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    eq = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    if len(args) > 1 and isinstance(args[0].comma, cst.Comma):
        sep = args[0].comma  # one argument per line stays so
    args = [a.with_changes(comma=sep) for a in args]
    added = [cst.Arg(value, keyword=cst.Name(name), equal=eq, comma=sep) for name, value in kwargs]
    added[-1] = added[-1].with_changes(comma=last_comma)
    return call.with_changes(args=args + added)


def _is_call_to(facts, call: cst.Call, qualified: set[str], bare: str) -> bool:
    name = call_name(facts, call.func)
    return name in qualified or name == bare


@register
class RenderTemplateStringInjection(Rule):
    """Template source built from data passed to render_template_string.

    ## What it does
    Finds `render_template_string()` calls whose template is built by
    formatting (f-string, `%`, `.format()`, `+`), in the call or in a local
    variable, or comes from the request itself.

    ## Why is this bad?
    The string is compiled as a Jinja template. A value formatted into it
    becomes template code: `?name={{7*7}}` renders `49`, and payloads like
    `{{ cycler.__init__.__globals__.os.popen('id').read() }}` run commands on
    the server (server-side template injection). The value is also not
    HTML-escaped, so `<script>` gets through (XSS).

    ## Example
    ```python
    name = request.args.get("name", "stranger")
    return render_template_string(f"<h1>Hello {name}!</h1>")
    ```

    ## Use instead
    ```python
    name = request.args.get("name", "stranger")
    return render_template_string("<h1>Hello {{ name }}!</h1>", name=name)
    ```
    The template is a constant; values are passed as context, where Jinja
    treats them as data and escapes them.

    ## Fix safety
    Safe when every value comes from the request: the page reads the same
    for ordinary input, while markup and template syntax in the input are
    shown as text. Review when other values are formatted in: they are
    escaped now too. Format specs and `!r` conversions are not rewritten.
    A template taken from the request itself has no automatic fix.

    ## References
    - https://flask.palletsprojects.com/en/latest/api/#flask.render_template_string
    - https://portswigger.net/web-security/server-side-template-injection
    - CWE-1336: Improper Neutralization of Special Elements Used in a Template Engine
    """

    code = "H311"
    name = "render-template-string-injection"
    category = "ssti"
    severity = Severity.CRITICAL
    confidence = Confidence.HIGH
    cwe = 1336
    triggers = (b"render_template_string",)

    VALID = [
        "from flask import Flask, render_template_string, request\napp = Flask(__name__)\n@app.get('/h')\ndef h():\n"
        "    return render_template_string('<h1>Hi {{ n }}</h1>', n=request.args.get('n'))\n",
        # a constant built once
        "from flask import Flask, render_template_string\napp = Flask(__name__)\nPAGE = '<p>{{ x }}</p>'\n"
        "@app.get('/p')\ndef p():\n    return render_template_string(PAGE, x=1)\n",
    ]
    INVALID = [
        Example(
            "from flask import Flask, render_template_string, request\napp = Flask(__name__)\n\n@app.get('/hello')\n"
            "def hello():\n    name = request.args.get('name', 'stranger')\n"
            "    return render_template_string(f\"<h1>Hello {name}!</h1>\")  # greet\n",
            "from flask import Flask, render_template_string, request\napp = Flask(__name__)\n\n@app.get('/hello')\n"
            "def hello():\n    name = request.args.get('name', 'stranger')\n"
            "    return render_template_string(\"<h1>Hello {{ name }}!</h1>\", name=name)  # greet\n",
        ),
        # through a variable, with % formatting and an attribute
        Example(
            "import flask\napp = flask.Flask(__name__)\n@app.get('/u/<uid>')\ndef u(uid):\n"
            "    user = load(uid)\n    page = '<b>%s</b> (%s)' % (user.name, uid)\n"
            "    return flask.render_template_string(page, title='User')\n",
            "import flask\napp = flask.Flask(__name__)\n@app.get('/u/<uid>')\ndef u(uid):\n"
            "    user = load(uid)\n    page = '<b>{{ user.name }}</b> ({{ uid }})'\n"
            "    return flask.render_template_string(page, title='User', user=user, uid=uid)\n",
            unsafe=True,
        ),
        # the template itself comes from the request: no automatic fix
        Example(
            "from flask import Flask, render_template_string, request\napp = Flask(__name__)\n@app.post('/preview')\n"
            "def preview():\n    return render_template_string(request.form['template'])\n",
            None,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts, req, taint, parents, views = _scope_info(project, file)

        class V(cst.CSTVisitor):
            def __init__(self):
                self.calls = []

            def visit_Call(self, node):
                if _is_call_to(facts, node, RENDER_STRING, "render_template_string") and node.args \
                        and node.args[0].keyword is None:
                    self.calls.append(node)

        v = V()
        file.module.visit(v)
        for call in v.calls:
            func = enclosing(call, parents, (cst.FunctionDef,))
            t = taint.get(id(func)) if func is not None else None
            arg = call.args[0].value
            fmt, assignment = _formatted_arg(func, arg)
            if fmt is not None and not _literal_values(fmt):
                tainted = t is not None and all(t.expr(v_) for v_ in fmt.values)
                yield self.finding(
                    file, call,
                    "render_template_string() compiles a template built by formatting: values become template code "
                    "(`{{7*7}}` is evaluated) and are not HTML-escaped",
                    self._fix(project, file, call, fmt, assignment, tainted),
                )
            elif t is not None and t.expr(arg):
                yield self.finding(
                    file, call,
                    "render_template_string() compiles a template that comes from the request: anyone can run "
                    "template code on the server; use a fixed template and pass the data as variables",
                )

    def _fix(self, project, file, call, fmt: Formatted, assignment, tainted: bool) -> Fix:
        existing = {a.keyword.value for a in call.args if a.keyword is not None}
        built = _jinja_template(fmt, existing)
        if built is None:
            return None
        literal, kwargs = built

        def compute():
            if assignment is None:
                new_call = _add_kwargs(call, kwargs, replaced_first=literal)
                edit = lambda m: rewrite(m, replace={call: new_call})  # noqa: E731
            else:
                edit = lambda m: rewrite(m, replace={call: _add_kwargs(call, kwargs), fmt.node: literal})  # noqa: E731
            builder = ChangeBuilder(project)
            builder.edit_python(file.path, edit, file=file)
            builder.note("The template is now constant; the values are passed as variables and HTML-escaped")
            return builder.build()

        title = "Use a constant template with {{ }} placeholders and keyword arguments"
        if tainted:
            return Fix(title, Safety.SAFE, compute)
        return Fix(title, Safety.REVIEW, compute, reason=ESCAPING_REASON)


# --------------------------------------------------------------------------- H312


def _format_template(fmt: Formatted) -> tuple[cst.SimpleString, list[cst.BaseExpression]]:
    text = []
    for piece in fmt.pieces:
        if piece.expr is None:
            text.append(piece.text.replace("{", "{{").replace("}", "}}"))
        else:
            text.append("{" + (f"!{piece.conversion}" if piece.conversion else "")
                        + (f":{piece.spec}" if piece.spec else "") + "}")
    return string_literal("".join(text), fmt.quote, fmt.prefix), fmt.values


@register
class MarkupFormattedString(Rule):
    """Markup() around a string built by formatting.

    ## What it does
    Finds `Markup(...)` (from markupsafe, or the old flask/jinja2 aliases)
    applied to an f-string, a `%` or `.format()` result, or a `+`
    concatenation with values, or to request data directly. Values escaped
    on the way there are fine: `escape(x)`, `url_for(...)`, `int(x)`, or a
    variable whose last assignment before the call, in a block that holds
    it, is such a call (`error = escape(error)`).

    ## Why is this bad?
    `Markup` tells Jinja "this is safe HTML, do not escape it". Formatting
    values into the string first means they are never escaped: a value with
    `<script>` becomes part of the page (XSS).

    ## Example
    ```python
    return Markup(f"<b>{user.name}</b>")
    ```

    ## Use instead
    ```python
    return Markup("<b>{}</b>").format(user.name)
    ```
    `Markup.format` (and `Markup % values`) escape each value that is not
    Markup itself, while the literal HTML stays as it is.

    ## Fix safety
    Safe when every value comes from the request. Review otherwise: a value
    that holds HTML on purpose (a string, not Markup) is escaped after the
    fix and must be wrapped in Markup where it is produced. Markup of
    request data alone is reported without a fix (use `escape()`).

    ## References
    - https://markupsafe.palletsprojects.com/en/latest/formatting/
    - CWE-79: Improper Neutralization of Input During Web Page Generation
    """

    code = "H312"
    name = "markup-formatted-string"
    category = "xss"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    cwe = 79
    triggers = (b"Markup",)

    VALID = [
        APP + "from markupsafe import Markup\ndef bold(x):\n    return Markup('<b>{}</b>').format(x)\n",
        APP + "from markupsafe import Markup\nICON = Markup('<i class=\"icon\"></i>')\n",
        APP + "from markupsafe import Markup, escape\ndef bold(x):\n    return Markup('<b>%s</b>') % x\n",
        # values escaped already
        APP + "from markupsafe import Markup, escape\ndef meta(n, v):\n"
              "    return Markup(f'<meta name=\"{escape(n)}\" content=\"{escape(v)}\">')\n",
    ]
    INVALID = [
        Example(
            "from markupsafe import Markup\n\ndef badge(user):\n    # shown in the header\n"
            "    return Markup(f\"<span class='badge'>{user.name}: {user.score:>4}</span>\")\n",
            "from markupsafe import Markup\n\ndef badge(user):\n    # shown in the header\n"
            "    return Markup(\"<span class='badge'>{}: {:>4}</span>\").format(user.name, user.score)\n",
            unsafe=True,
        ),
        Example(
            "import markupsafe\nfrom flask import Flask, request\napp = Flask(__name__)\n@app.get('/q')\ndef q():\n"
            "    term = request.args.get('q', '')\n    return markupsafe.Markup('<em>%s</em>' % term)\n",
            "import markupsafe\nfrom flask import Flask, request\napp = Flask(__name__)\n@app.get('/q')\ndef q():\n"
            "    term = request.args.get('q', '')\n    return markupsafe.Markup('<em>%s</em>') % term\n",
        ),
        Example(
            "from markupsafe import Markup\ndef link(url, text):\n    return Markup('<a href=\"{}\">{}</a>'.format(url, text))\n",
            "from markupsafe import Markup\ndef link(url, text):\n    return Markup('<a href=\"{}\">{}</a>').format(url, text)\n",
            unsafe=True,
        ),
        Example(
            "from flask import Flask, request\nfrom markupsafe import Markup\napp = Flask(__name__)\n@app.get('/n')\n"
            "def n():\n    return Markup(request.args['note'])\n",
            None,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts, req, taint, parents, views = _scope_info(project, file)
        calls = []

        class V(cst.CSTVisitor):
            def visit_Call(self, node):
                if _is_call_to(facts, node, MARKUP, "Markup") and len(node.args) == 1 and node.args[0].keyword is None:
                    calls.append(node)

        file.module.visit(V())
        for call in calls:
            func = enclosing(call, parents, (cst.FunctionDef,))
            t = taint.get(id(func)) if func is not None else None
            arg = call.args[0].value
            fmt = formatted(arg)
            if fmt is not None and not _escaped_values(fmt) and not _escaped_values(fmt, _escaped_names(func, call)):
                tainted = t is not None and all(t.expr(v_) for v_ in fmt.values)
                yield self.finding(file, call,
                                   "Markup() of a formatted string: the values are marked safe without being escaped",
                                   self._fix(project, file, call, fmt, tainted))
            elif t is not None and t.expr(arg):
                yield self.finding(file, call,
                                   "Markup() of request data marks it as safe HTML: use escape(value), or pass it "
                                   "to the template as is")

    def _fix(self, project, file, call: cst.Call, fmt: Formatted, tainted: bool) -> Fix:
        def new_node():
            if fmt.kind == "format":
                # Markup("...".format(a)) -> Markup("...").format(a)
                inner = fmt.node
                wrapped = call.with_changes(args=[cst.Arg(inner.func.value)])
                return inner.with_changes(func=inner.func.with_changes(value=wrapped))
            if fmt.kind == "percent":
                wrapped = call.with_changes(args=[cst.Arg(fmt.node.left)])
                return fmt.node.with_changes(left=wrapped)
            literal, values = _format_template(fmt)
            wrapped = call.with_changes(args=[cst.Arg(literal)])
            return cst.Call(cst.Attribute(wrapped, cst.Name("format")), [
                cst.Arg(v, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if i < len(values) - 1
                        else cst.MaybeSentinel.DEFAULT) for i, v in enumerate(values)])

        def compute():
            builder = ChangeBuilder(project)
            builder.edit_python(file.path, lambda m: rewrite(m, replace={call: new_node()}), file=file)
            return builder.build()

        title = "Format with Markup(...).format(...), which escapes the values"
        if fmt.kind == "percent":
            title = "Format with Markup(...) % values, which escapes the values"
        if tainted:
            return Fix(title, Safety.SAFE, compute)
        return Fix(title, Safety.REVIEW, compute, reason=ESCAPING_REASON)


# --------------------------------------------------------------------------- H313

EXPRESSION = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
SAFE_FILTER = re.compile(r"\|\s*safe\b")
AUTOESCAPE_OFF = re.compile(r"\{%-?\s*autoescape\s+false\s*-?%\}(.*?)(?:\{%-?\s*endautoescape\s*-?%\}|\Z)", re.S | re.I)
# Filters that escape, strip or sanitize what they are given (by name: `clean_html`, `sanitize`, `bleach`...).
HARMLESS_FILTERS = re.compile(r"\|\s*(?:(?:tojson|escape|e|forceescape|urlize|striptags|int|float|length|count)\b"
                              r"|\w*(?:clean|saniti[sz]|bleach|nh3|purif)\w*)")
TRANSLATIONS = {"_", "gettext", "lazy_gettext", "pgettext"}


# `text|replace("&", "&amp;")|replace("<", "&lt;")|replace(">", "&gt;")`: escaped by hand (scrapydweb)
_REPLACED = [re.compile(r"\|\s*replace\(\s*(['\"])" + re.escape(c) + r"\1\s*,\s*(['\"])" + re.escape(e) + r"\2\s*\)")
             for c, e in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))]


def _risky(expr: str, consts: frozenset[str] = frozenset()) -> bool:
    if HARMLESS_FILTERS.search(expr) or all(r.search(expr) for r in _REPLACED):
        return False
    return not _constant(expr, consts)


def _expression(expr: str):
    """The Jinja node of one ``{{ expr }}``, None if it does not parse."""
    from jinja2 import TemplateSyntaxError, nodes

    try:
        body = parse_jinja("{{ " + expr + " }}").body
    except TemplateSyntaxError:
        return None
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return None
    return body[0].nodes[0]


def _constant(expr: str, consts: frozenset[str] = frozenset()) -> bool:
    """Whether a Jinja expression can print nothing but what the developers
    wrote (``_constant_node``)."""
    node = _expression(expr)
    return node is not None and _constant_node(node, consts)


def _constant_node(node, consts: frozenset[str] = frozenset()) -> bool:
    """A string or number, ``csrf_token()``, ``url_for(...)``, the translation
    of a string (``_('<b>Note</b>')``, with arguments that are such constants
    too, or a filter applied to such constants), a WTForms field rendering itself (``field(**kwargs)``,
    ``form.name(...)``: WTForms escapes what it puts in) or its label or
    description (``field.description``: written in the form class), a
    widget rendering itself (``_widget``), or a name in ``consts`` (which
    the template sets to such constants only: ``_template_constants``)."""
    from jinja2 import nodes

    if isinstance(node, nodes.Name):
        return node.name in consts
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name == "g" \
            and f"g.{node.attr}" in consts:
        return True  # flask.g's attribute the project sets only to constants (_g_constants)

    if isinstance(node, nodes.Const):
        return isinstance(node.value, (str, int, float)) and not isinstance(node.value, bool)
    if isinstance(node, nodes.Concat):
        return all(_constant_node(n, consts) for n in node.nodes)
    if isinstance(node, nodes.Add):
        return _constant_node(node.left, consts) and _constant_node(node.right, consts)
    if isinstance(node, nodes.Filter):  # _('<code>x</code>')|escape_quotes: what a filter makes of constants
        return node.node is not None and node.dyn_args is None and node.dyn_kwargs is None \
            and _constant_node(node.node, consts) and all(_constant_node(a, consts) for a in node.args) \
            and all(_constant_node(k.value, consts) for k in node.kwargs)
    if isinstance(node, nodes.Getattr) and node.attr in ("label", "description") and isinstance(node.node, nodes.Name) \
            and node.node.name.endswith("field"):
        return True  # a WTForms field's label and description: written in the form class
    if not isinstance(node, nodes.Call) or node.dyn_args is not None:
        return False
    callee = node.node
    name = callee.name if isinstance(callee, nodes.Name) else None
    if name in ("url_for", "csrf_token"):
        return True
    if name in TRANSLATIONS:
        return node.dyn_kwargs is None and all(_constant_node(a, consts) for a in node.args) \
            and all(_constant_node(k.value, consts) for k in node.kwargs)
    return bool(name and name.endswith("field")) or isinstance(callee, nodes.Getattr) and \
        isinstance(callee.node, nodes.Name) and callee.node.name == "form" or _widget(callee)


def _widget(callee) -> bool:
    """A widget rendering itself: ``list_widget()``, ``widgets.get('list')()``,
    ``widgets['edit'][0](pk=pk)`` (Flask-AppBuilder's views hand their widgets
    to the template; a widget renders its own template, escaped)."""
    from jinja2 import nodes

    if isinstance(callee, nodes.Name):
        return callee.name.lower().endswith("widget")
    if isinstance(callee, nodes.Getattr):
        return callee.attr.lower().endswith("widget")
    if isinstance(callee, nodes.Call):  # widgets.get('list')
        func = callee.node
        return isinstance(func, nodes.Getattr) and func.attr == "get" and isinstance(func.node, nodes.Name) \
            and func.node.name == "widgets"
    if isinstance(callee, nodes.Getitem):  # widgets['list'], widgets.get('related')[i]
        return isinstance(callee.node, nodes.Name) and callee.node.name == "widgets" or _widget(callee.node)
    return False


def _safe_only_on_constants(expr: str, consts: frozenset[str] = frozenset()) -> bool:
    """Whether every ``|safe`` in the expression marks a constant:
    ``text|replace('\\n', '<br>'|safe)`` marks the ``<br>`` (Jinja then escapes
    ``text`` before it replaces: the usual way to keep line breaks)."""
    from jinja2 import nodes

    node = _expression(expr)
    if node is None:
        return False
    operands = [f.node for f in node.find_all(nodes.Filter) if f.name == "safe"]
    if isinstance(node, nodes.Filter) and node.name == "safe":
        operands.append(node.node)
    return bool(operands) and all(_constant_node(o, consts) for o in operands)


SET_BLOCK = re.compile(r"\{%-?\s*set\s+(\w+)\s*-?%\}(.*?)\{%-?\s*endset\s*-?%\}", re.S)
SET_INLINE = re.compile(r"\{%-?\s*set\s+(\w+)\s*=(.*?)-?%\}", re.S)
OTHER_BINDING = re.compile(r"\{%-?\s*(?:for|macro|call|with|import|from|set\s+\w+\s*,)\b(.*?)-?%\}", re.S)


def _template_constants(text: str) -> frozenset[str]:
    """Names the template sets only to constants: ``{% set icon %}<i class="x"></i>{% endset %}``
    (text and constant expressions, no tags), ``{% set label = _('Install') %}``, and bound in
    no other way (a loop, a macro's parameter, ``with``, an import)."""
    if "set" not in text:
        return frozenset()
    constant: dict[str, bool] = {}
    for m in SET_BLOCK.finditer(text):
        body = m.group(2)
        ok = "{%" not in body and all(_constant(e.group(1)) for e in EXPRESSION.finditer(body))
        constant[m.group(1)] = constant.get(m.group(1), True) and ok
    for m in SET_INLINE.finditer(text):
        constant[m.group(1)] = constant.get(m.group(1), True) and _constant(m.group(2))
    if not constant:
        return frozenset()
    other = {name for m in OTHER_BINDING.finditer(text) for name in re.findall(r"\w+", m.group(1))}
    return frozenset(name for name, ok in constant.items() if ok and name not in other)


def _context_constants(project) -> frozenset[str]:
    """Names the project's context processors give every template as string
    constants only (anitya's ``bulb_on='<svg ...>'``), named in no other module
    (a view passing its own value to ``render_template`` would win). Worked out
    once per project."""
    cached = project.__dict__.get("_h313_context_constants")
    if cached is not None:
        return cached
    constant: dict[str, bool] = {}
    homes: dict[str, str] = {}
    for path in project.model_paths:
        file = project.python[path]
        if b"context_processor" not in file.data:
            continue
        try:
            module = file.module
        except ParseError:
            continue
        for function in _context_processors(module):
            given = _returned_constants(function)
            if given is None:  # a processor that may give any name: none is known to be constant
                project.__dict__["_h313_context_constants"] = frozenset()
                return frozenset()
            for name, ok in given.items():
                constant[name] = constant.get(name, True) and ok
                homes.setdefault(name, path)
    names = {name for name, ok in constant.items() if ok}
    if names:
        for path, file in project.python.items():
            if is_test_path(path):
                continue
            for name in [n for n in names if homes[n] != path and n.encode() in file.data]:
                names.discard(name)
    project.__dict__["_h313_context_constants"] = result = frozenset(names)
    return result


_G_ASSIGN = re.compile(rb"\bg\s*\.\s*\w+\s*=[^=]")


def _g_constants(project) -> frozenset[str]:
    """``g.<name>`` for the attributes of ``flask.g`` the project's modules set only
    to string constants (scrapydweb's ``g.multinode = ('<label ...>' ...)``), and
    in no other way. Worked out once per project."""
    cached = project.__dict__.get("_h313_g_constants")
    if cached is not None:
        return cached
    constant: dict[str, bool] = {}
    for path in project.model_paths:
        file = project.python[path]
        if b"setattr(g" in file.data:
            project.__dict__["_h313_g_constants"] = frozenset()
            return frozenset()  # a name set we cannot read
        if _G_ASSIGN.search(file.data) is None:
            continue
        facts = project.facts_for(path)
        if facts is None or facts.imports.get("g") not in ("flask.g", "flask.globals.g"):
            continue

        class Visitor(cst.CSTVisitor):
            def _set(self, target, value) -> None:
                if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "g":
                    name = target.attr.value
                    constant[name] = constant.get(name, True) and value is not None and string_value(value) is not None

            def visit_Assign(self, node: cst.Assign) -> None:
                for target in node.targets:
                    self._set(target.target, node.value)

            def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
                self._set(node.target, node.value)

            def visit_AugAssign(self, node: cst.AugAssign) -> None:
                self._set(node.target, None)

        file.module.visit(Visitor())
    project.__dict__["_h313_g_constants"] = result = frozenset(f"g.{n}" for n, ok in constant.items() if ok)
    return result


def _context_processors(module: cst.Module) -> list[cst.FunctionDef]:
    """Functions decorated ``@app.context_processor`` / ``@bp.app_context_processor``,
    or registered with ``app.context_processor(function)``, anywhere in the module."""
    found: list[cst.FunctionDef] = []
    by_name: dict[str, cst.FunctionDef] = {}
    registered: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            by_name.setdefault(node.name.value, node)
            if any((dotted_name(d.decorator) or "").endswith(_PROCESSORS) for d in node.decorators):
                found.append(node)

        def visit_Call(self, node: cst.Call) -> None:
            if (dotted_name(node.func) or "").endswith(_PROCESSORS) and len(node.args) == 1:
                registered.add(dotted_name(node.args[0].value) or "")

    module.visit(Visitor())
    return found + [by_name[name] for name in sorted(registered) if name in by_name and by_name[name] not in found]


_PROCESSORS = (".context_processor", ".app_context_processor")


def _returned_constants(function: cst.FunctionDef) -> dict[str, bool] | None:
    """name -> whether it is a string constant, for the dicts the function returns
    (``dict(name=...)``, ``{"name": ...}``); None if a return gives something else."""
    out: dict[str, bool] = {}
    for ret in returns_of(function):
        value = ret.value
        if isinstance(value, cst.Call) and dotted_name(value.func) == "dict" \
                and all(a.keyword is not None for a in value.args):
            pairs = [(a.keyword.value, a.value) for a in value.args]
        elif isinstance(value, cst.Dict) and all(isinstance(e, cst.DictElement) and string_value(e.key)
                                                 for e in value.elements):
            pairs = [(string_value(e.key), e.value) for e in value.elements]
        else:
            return None
        for name, given in pairs:
            out[name] = out.get(name, True) and string_value(given) is not None
    return out


@register
class TemplateSafeFilter(Rule):
    """`|safe` or `{% autoescape false %}` on data in a template.

    ## What it does
    Finds `{{ value|safe }}` and `{% autoescape false %}` blocks that print
    variables in Jinja templates. The finding points at the template and
    line. Constants (also translated ones: `_('<b>Note</b>')`), `csrf_token()`,
    `url_for(...)`, WTForms fields rendering themselves (`field(**kwargs)`),
    their labels and descriptions, widgets rendering themselves
    (`list_widget()`, `widgets.get('list')()`), a Jinja global of the
    project's that includes a file of the app given only constants
    (`static_include("icons/x.svg")`), names the template sets to such
    constants only (`{% set icon %}<i class="x"></i>{% endset %}`, then
    `_('Menu%(icon)s', icon=icon)|safe`), names the project's context
    processors give only as string constants (`dict(icon='<svg ...>')`) and
    no other module names, attributes of `g` the project sets only to string
    constants, and values that pass through `tojson`/`escape`, a filter named
    as a sanitizer (`clean_html`, `sanitize`, `bleach`) or replacements of
    `&`, `<` and `>` with their entities first are not reported.

    ## Why is this bad?
    Both switch off Jinja's HTML escaping. When the value comes from a user
    (a note, a profile field, a query parameter), its `<script>` runs in
    every visitor's browser (stored or reflected XSS).

    ## Example
    ```jinja
    <div class="note-body">{{ note.body|safe }}</div>
    ```

    ## Use instead
    ```jinja
    <div class="note-body">{{ note.body }}</div>
    ```
    If the value must carry some HTML (rich text), clean it when it is
    stored or rendered with an allowlist sanitizer (e.g. nh3 or bleach) and
    mark only the cleaned result as Markup.

    ## Fix safety
    No automatic fix: removing `|safe` changes what the page shows when the
    value holds HTML on purpose; decide per value.

    ## References
    - https://flask.palletsprojects.com/en/latest/templating/#controlling-autoescaping
    - https://jinja.palletsprojects.com/en/latest/templates/#html-escaping
    - CWE-79: Improper Neutralization of Input During Web Page Generation
    """

    code = "H313"
    name = "template-safe-filter"
    category = "xss"
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    cwe = 79
    template_triggers = ("safe", "autoescape")

    VALID = [
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                 "templates/a.html": "<p>{{ note.body }}</p>\n<script>var d = {{ data|tojson|safe }};</script>\n"
                                     "{{ '<br>'|safe }}\n"}, findings=0),
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                 "templates/b.html": "{% autoescape false %}<p>static text</p>{% endautoescape %}\n"}, findings=0),
    ]
    INVALID = [
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                 "templates/notes.html": "<ul>\n{% for n in notes %}\n  <li>{{ n.body|safe }}</li>\n{% endfor %}\n</ul>\n"},
                None),
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                 "templates/q.html": "{% autoescape false %}\n<p>You searched {{ request.args.q }}</p>\n"
                                     "{% endautoescape %}\n<p>{{ request.args.q | safe }}</p>\n"},
                None, findings=2),
    ]

    def check_template(self, template, project):
        if is_test_path(template.path):
            return
        text = template.text
        fed = _request_fed_variables(project, template.path)
        consts = _template_constants(text)
        context = _context_constants(project) | (_g_constants(project) if "g." in text else frozenset())
        if context:  # unless the template binds the name itself
            bound = {m.group(1) for m in (*SET_BLOCK.finditer(text), *SET_INLINE.finditer(text))}
            bound |= {name for m in OTHER_BINDING.finditer(text) for name in re.findall(r"\w+", m.group(1))}
            consts |= {name for name in context if name.partition(".")[0] not in bound}
        for m in EXPRESSION.finditer(text):
            expr = m.group(1)
            safe = SAFE_FILTER.search(expr)
            if safe is None:
                continue
            value = expr[: safe.start()]
            if not _risky(value, consts) or _safe_only_on_constants(expr, consts) \
                    or _includes_app_file(value, project):
                continue
            source = _request_source(value, fed)
            where = f" ({source})" if source else ""
            yield self.template_finding(
                template, m.start(), m.end(),
                f"`|safe` prints `{value.strip()}`{where} without HTML escaping: if it holds user data, its markup "
                f"and scripts run in visitors' browsers; drop `|safe`, or sanitize the HTML with an allowlist first",
                confidence=Confidence.HIGH if source else None,
            )
        for m in AUTOESCAPE_OFF.finditer(text):
            risky = [e.group(1).strip() for e in EXPRESSION.finditer(m.group(1)) if _risky(e.group(1), consts)]
            if not risky:
                continue
            sources = [s_ for s_ in (_request_source(r, fed) for r in risky) if s_]
            tag_end = text.index("}", m.start()) + 1
            yield self.template_finding(
                template, m.start(), tag_end,
                f"`{{% autoescape false %}}` prints {', '.join(f'`{r}`' for r in risky[:3])} without HTML "
                f"escaping{' (' + sources[0] + ')' if sources else ''}: remove the block, or mark only trusted, "
                f"sanitized values as safe",
                confidence=Confidence.HIGH if sources else None,
            )


class _TemplateGlobals(cst.CSTVisitor):
    """Functions a module makes Jinja globals: ``app.jinja_env.globals["name"] = f``,
    ``...globals.update(name=f)``, ``app.add_template_global(f)``, ``@app.template_global()``."""

    def __init__(self):
        self.found: list[tuple[str, cst.BaseExpression | cst.FunctionDef]] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Subscript) and (dotted_name(t.value) or "").endswith("jinja_env.globals") \
                    and len(t.slice) == 1 and isinstance(t.slice[0].slice, cst.Index):
                key = string_value(t.slice[0].slice.value)
                if key is not None:
                    self.found.append((key, node.value))

    def visit_Call(self, node: cst.Call) -> None:
        func = dotted_name(node.func) or ""
        if func.endswith("jinja_env.globals.update"):
            self.found += [(a.keyword.value, a.value) for a in node.args if a.keyword is not None]
        elif func.endswith(".add_template_global") and node.args and node.args[0].keyword is None:
            named = [string_value(a.value) for a in node.args[1:] if a.keyword is None or a.keyword.value == "name"]
            key = named[0] if named else (dotted_name(node.args[0].value) or "").rpartition(".")[2]
            if key:
                self.found.append((key, node.args[0].value))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for d in node.decorators:
            expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
            if (dotted_name(expr) or "").endswith(("template_global", "app_template_global")):
                args = d.decorator.args if isinstance(d.decorator, cst.Call) else ()
                named = [string_value(a.value) for a in args if a.keyword is None or a.keyword.value == "name"]
                self.found.append((named[0] if named and named[0] else node.name.value, node))


_APP_FILE = re.compile(r"static_folder|open_resource|root_path|send_static_file")


def _file_globals(project) -> set[str]:
    """Jinja globals whose function returns a file of the app itself (inline SVG
    icons: ``open(os.path.join(current_app.static_folder, name)).read()``)."""
    cached = project.__dict__.get("_xss_file_globals")
    if cached is not None:
        return cached
    out: set[str] = set()
    for path in sorted(project.model_paths):
        file = project.python[path]
        if b"template_global" not in file.data and b"jinja_env.globals" not in file.data:
            continue
        try:
            visitor = _TemplateGlobals()
            file.module.visit(visitor)
        except Exception:
            continue
        facts = facts_or_imports(project, file)
        for key, value in visitor.found:
            if isinstance(value, cst.FunctionDef):
                func, owner = value, file
            else:
                found = _project_function(project, facts, value)
                if found is None:
                    continue
                func, owner = found[0], found[1].file
            code = owner.code_for(func)
            if _APP_FILE.search(code) and re.search(r"\.read\(|open_resource\(", code) \
                    and not re.search(r"\brequest\b|\bsession\b|\.query\b|\bg\.", code):
                out.add(key)
    project.__dict__["_xss_file_globals"] = out
    return out


def _includes_app_file(value: str, project) -> bool:
    """``static_include("images/x.svg")``: a file-reading global given only constants."""
    from jinja2 import nodes

    node = _expression(value)
    return isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.dyn_args is None \
        and node.dyn_kwargs is None and all(isinstance(a, nodes.Const) for a in node.args) \
        and all(isinstance(k.value, nodes.Const) for k in node.kwargs) and node.node.name in _file_globals(project)


def _request_source(value: str, fed: dict[str, str]) -> str | None:
    """Why ``value`` (a Jinja expression) is request data, or None."""
    if re.search(r"\brequest\.", value):
        return "request data"
    root = re.match(r"\s*\(?\s*([A-Za-z_]\w*)", value)
    if root and root.group(1) in fed:
        return f"request data passed by {fed[root.group(1)]}()"
    return None


def _request_fed_variables(project, template_path: str) -> dict[str, str]:
    """Template variables that some view fills from request data: {variable: view name}.

    Read from ``render_template("name.html", var=value)`` calls whose value is
    request data in the calling function; computed once per scan."""
    cache = project.__dict__.get("_xss_fed_templates")
    if cache is None:
        cache = {}
        for path in sorted(project.python):
            file = project.python[path]
            if b"render_template(" not in file.data or is_test_path(path):
                continue
            try:
                module = file.module
            except Exception:
                continue
            facts, req, taint, parents, views = _scope_info(project, file)
            found = []  # (call, the innermost function around it)

            class V(InFunction):
                def visit_Call(self, node):
                    if callee_name(node) == "render_template" and node.args and node.args[0].keyword is None:
                        found.append((node, self.function))

            module.visit(V())
            for call, func in found:
                name = string_value(call.args[0].value)
                t = taint.get(id(func)) if func is not None else None
                if name is None or t is None:
                    continue
                for arg in call.args[1:]:
                    if arg.keyword is not None and t.expr(arg.value):
                        cache.setdefault(name, {}).setdefault(arg.keyword.value, func.name.value)
        project.__dict__["_xss_fed_templates"] = cache
    out: dict[str, str] = {}
    for name, variables in cache.items():
        if template_path == name or template_path.endswith("/" + name) or template_path.endswith("templates/" + name):
            out.update(variables)
    return out


# --------------------------------------------------------------------------- H314


@register
class JinjaAutoescapeDisabled(Rule):
    """jinja2.Environment created without autoescaping.

    ## What it does
    Finds `jinja2.Environment(...)` created without `autoescape`, or with
    `autoescape=False`. (Flask's own environment escapes `.html` templates;
    this is about environments the project builds itself.)

    ## Why is this bad?
    Jinja's default is not to escape. HTML rendered by such an environment
    prints every variable as raw markup: any user-controlled value is an XSS.

    ## Example
    ```python
    env = Environment(loader=FileSystemLoader("templates"))
    ```

    ## Use instead
    ```python
    env = Environment(loader=FileSystemLoader("templates"), autoescape=select_autoescape())
    ```
    `select_autoescape()` escapes `.html`, `.htm` and `.xml` templates and
    templates from strings, and leaves e.g. `.txt` templates alone.

    ## Fix safety
    Review: a template that prints trusted HTML from a variable shows it as
    text after the fix; mark such values with `Markup` or `|safe`.

    ## References
    - https://jinja.palletsprojects.com/en/latest/api/#autoescaping
    - CWE-79: Improper Neutralization of Input During Web Page Generation
    """

    code = "H314"
    name = "jinja-autoescape-disabled"
    category = "xss"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    cwe = 79
    triggers = (b"Environment",)

    VALID = [
        APP + "from jinja2 import Environment, select_autoescape\nenv = Environment(autoescape=select_autoescape())\n",
        APP + "import jinja2\nenv = jinja2.Environment(autoescape=True)\n",
        APP + "class Environment:\n    pass\nenv = Environment()\n",
    ]
    INVALID = [
        Example(
            "from jinja2 import Environment, FileSystemLoader\n\nenv = Environment(loader=FileSystemLoader('templates'))  # mails\n",
            "from jinja2 import select_autoescape, Environment, FileSystemLoader\n\n"
            "env = Environment(loader=FileSystemLoader('templates'), autoescape=select_autoescape())  # mails\n",
            unsafe=True,
        ),
        Example(
            "import jinja2\nenv = jinja2.Environment(autoescape=False)\n",
            "import jinja2\nenv = jinja2.Environment(autoescape=jinja2.select_autoescape())\n",
            unsafe=True,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts = facts_or_imports(project, file)
        calls = []

        class V(cst.CSTVisitor):
            def visit_Call(self, node):
                if call_name(facts, node.func) in JINJA_ENV:
                    calls.append(node)

        file.module.visit(V())
        for call in calls:
            kw = next((a for a in call.args if a.keyword is not None and a.keyword.value == "autoescape"), None)
            if any(a.star == "**" for a in call.args) and kw is None:
                continue  # settings come from a mapping we cannot read
            if kw is not None and not (isinstance(kw.value, cst.Name) and kw.value.value == "False"):
                continue
            yield self.finding(file, call,
                               "jinja2.Environment without autoescaping: templates print variables as raw HTML",
                               self._fix(project, file, call, kw))

    def _fix(self, project, file, call: cst.Call, kw) -> Fix:
        qualified_call = isinstance(call.func, cst.Attribute)
        prefix = (dotted_name(call.func.value) + ".") if qualified_call else ""
        value = cst.parse_expression(f"{prefix}select_autoescape()")

        def compute():
            if kw is not None:
                new = call.with_changes(args=[a.with_changes(value=value) if a is kw else a for a in call.args])
            else:
                new = _add_kwargs(call, [("autoescape", value)])
            builder = ChangeBuilder(project)
            builder.edit_python(file.path, lambda m: rewrite(m, replace={call: new}), file=file)
            if not qualified_call:
                builder.edit_python(file.path, lambda m: add_imports(m, ("jinja2", "select_autoescape")))
            return builder.build()

        return Fix("Pass autoescape=select_autoescape()", Safety.REVIEW, compute,
                   reason="templates that print trusted HTML from variables must mark it with Markup or |safe")


# --------------------------------------------------------------------------- H315

LESS_THAN = (b"<", b"\\x3c", b"\\x3C", b"\\u003c", b"\\u003C", b"\\U0000003", b"\\74", b"\\N{")
HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*[\s>/]")
RESPONSE_CALLS = {"make_response", "Response", "flask.make_response", "flask.Response"}


@register
class HtmlBuiltInView(Rule):
    """HTML built by string formatting and returned from a view.

    ## What it does
    Finds views that return (directly, through `make_response`/`Response`,
    or through a local variable) an HTML string built with an f-string, `%`,
    `.format()` or `+` from values.

    ## Why is this bad?
    Nothing escapes the values: a name, a query parameter or a database
    field that contains `<script>` runs in the visitor's browser (XSS).

    ## Example
    ```python
    @app.route("/hi")
    def hi():
        return f"<h1>Hi {request.args['name']}</h1>"
    ```

    ## Use instead
    ```python
    @app.route("/hi")
    def hi():
        return render_template("hi.html", name=request.args["name"])
    ```
    or, for a small fragment, `Markup("<h1>Hi {}</h1>").format(name)` /
    `escape(name)`.

    ## Fix safety
    No automatic fix: moving the page into a template is a design choice;
    the finding says which values are formatted in.

    ## References
    - https://flask.palletsprojects.com/en/latest/quickstart/#html-escaping
    - CWE-79: Improper Neutralization of Input During Web Page Generation
    """

    code = "H315"
    name = "html-built-in-view"
    category = "xss"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    cwe = 79

    @classmethod
    def wants(cls, data: bytes) -> bool:
        # views_in() needs the module's facts and a route decorator; the HTML
        # needs a "<" in some literal, written as itself or as an escape
        return any(t in data for t in LESS_THAN) and may_hold_facts(data) and ROUTE_DECORATOR.search(data) is not None

    VALID = [
        "from flask import Flask\nfrom markupsafe import escape\napp = Flask(__name__)\n@app.get('/h')\ndef h():\n"
        "    return '<h1>Hello</h1>'\n",
        "from flask import Flask, request\napp = Flask(__name__)\n@app.get('/t')\ndef t():\n"
        "    return f\"total: {request.args['n']}\", 200, {'Content-Type': 'text/plain'}\n",
        # not a view
        APP + "def helper(name):\n    return f'<b>{name}</b>'\n",
    ]
    INVALID = [
        Example(
            "from flask import Flask, request\napp = Flask(__name__)\n@app.get('/hi')\ndef hi():\n"
            "    return f\"<h1>Hi {request.args['name']}</h1>\"\n",
            None,
        ),
        Example(
            "from flask import Flask, make_response\napp = Flask(__name__)\n@app.route('/list')\ndef listing():\n"
            "    rows = load()\n    html = '<ul>' + ''.join(rows) + '</ul>'\n    return make_response(html)\n",
            None,
        ),
    ]

    def check_file(self, file, project):
        views = views_in(project, file)
        if not views:
            return
        facts, req, taint, parents, view_ids = _scope_info(project, file)
        for view in views:
            func = view.func
            returns = [r.value for r in returns_of(func) if r.value is not None]
            t = taint.get(id(func))
            for value in returns:
                body = value.elements[0].value if isinstance(value, cst.Tuple) and value.elements else value
                if isinstance(body, cst.Call) and call_name(facts, body.func) in RESPONSE_CALLS and body.args:
                    body = body.args[0].value
                if isinstance(value, cst.Tuple) and len(value.elements) == 3:
                    headers = file.code_for(value.elements[2].value)
                    if "text/plain" in headers or "json" in headers:
                        continue
                fmt, _ = _formatted_arg(func, body)
                if fmt is None and isinstance(body, cst.Name):
                    found = assignment_of(func, body.value)
                    fmt = formatted(found[0].value) if found else None
                if fmt is None or _escaped_values(fmt):
                    continue
                literal = "".join(p.text for p in fmt.pieces if p.text is not None)
                if not HTML_TAG.search(literal):
                    continue
                dirty = [file.code_for(v_) for v_ in fmt.values if t is not None and t.expr(v_)]
                shown = ", ".join(f"`{d}`" for d in dirty[:3]) or ", ".join(
                    f"`{file.code_for(v_)}`" for v_ in fmt.values[:3])
                yield self.finding(
                    file, value,
                    f"{view.name}() returns HTML built by string formatting: {shown} "
                    f"{'come from the request and are' if dirty else 'are'} not HTML-escaped; render a template or "
                    f"use Markup(...).format()/escape()",
                    severity=Severity.HIGH if dirty else None,
                    confidence=Confidence.HIGH if dirty else None,
                )
