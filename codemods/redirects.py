"""H411 open-redirect: redirect() to a URL taken from the request."""

from __future__ import annotations

import posixpath
import re

import libcst as cst

from hardener.fixkit import ChangeBuilder, StaleFixError, add_imports
from hardener.models import Confidence, Fix, FixError, Safety, Severity
from hardener.project import is_test_path, module_name_for, string_value
from hardener.rules import Example, Rule, register
from hardener.source import ParseError

from ._flaskapi import call_name, calls_in, facts_or_imports
from ._flow import (REDIRECT_SOURCES, InFunction, callee_name, formatted, request_names, returns_of, rewrite,
                    sanitizers_for, tainted_names)
from ._webapp import _project_class, _project_function, top_level_function

HELPER = "safe_redirect_target"
HELPER_MODULE = "safe_redirect"
REDIRECTS = {"flask.redirect", "werkzeug.utils.redirect", "flask.helpers.redirect"}
# a view that already checks the target is left alone
VALIDATION = re.compile(r"netloc|is_safe_url|url_has_allowed_host|is_safe_redirect|safe_redirect|url_is_safe|"
                        r"is_relative_url|same_origin", re.I)

HELPER_SOURCE = '''def {name}(target, default):
    """``target`` if it is a relative URL on this site, else ``default``.

    Redirect targets taken from the request (``?next=``) must not send users to
    another site (open redirect): absolute URLs, scheme-relative ``//host``
    URLs and anything with a backslash or control character are refused.
    """
    if not target or target != target.strip() or any(c in target for c in "\\\\\\r\\n\\t"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
'''


def helper_source(name: str = HELPER) -> str:
    return HELPER_SOURCE.format(name=name)


def _portable(node: cst.BaseExpression) -> bool:
    """Literals and url_for() calls with literal arguments: valid anywhere in the view."""
    if string_value(node) is not None:
        return True
    if isinstance(node, cst.Call) and callee_name(node) == "url_for":
        return all(string_value(a.value) is not None or isinstance(a.value, cst.Integer) for a in node.args)
    return False


def _site_path_prefix(node: cst.BaseExpression) -> bool:
    """``f"/items/{id}"``, ``"/items/" + id``, ``"/items/{}".format(id)``, ``"/items/%s" % id``:
    the text before the first value is a path on this site (``/`` and then a
    character that is neither ``/`` nor ``\\``), so no value can change the host."""
    if _own_url_then_query(node):
        return True
    text = None
    if isinstance(node, cst.FormattedString) and node.parts and isinstance(node.parts[0], cst.FormattedStringText):
        text = node.parts[0].value
    elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Modulo)):
        while isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            node = node.left
        text = string_value(node.left if isinstance(node, cst.BinaryOperation) else node)
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
        text = string_value(node.func.value)
    if text is None:
        return False
    text = text.split("{", 1)[0].split("%", 1)[0] if not isinstance(node, cst.FormattedString) else text
    return len(text) >= 2 and text[0] == "/" and text[1] not in "/\\"


def _own_url_then_query(node: cst.BaseExpression) -> bool:
    """``url_for(...) + "?" + query`` or ``f"{url_for(...)}#{anchor}"``: a URL of this
    app that the values only extend after ``?`` or ``#``."""
    fmt = formatted(node)
    if fmt is None or fmt.kind not in ("fstring", "concat") or len(fmt.pieces) < 2:
        return False
    first, rest = fmt.pieces[0].expr, fmt.pieces[1].text or ""
    return isinstance(first, cst.Call) and callee_name(first) == "url_for" and rest[:1] in ("?", "#")


class RedirectSite:
    def __init__(self, func, call, target, default, replace_node):
        self.func = func
        self.call = call
        self.target = target  # what the user sent
        self.default = default  # the view's own fallback, or None
        self.replace_node = replace_node  # the argument expression to replace


class _RedirectCalls(InFunction):
    """Redirect calls with a positional target, by the innermost function
    around them (one walk of the module)."""

    def __init__(self, facts):
        super().__init__()
        self.facts = facts
        self.calls: dict[cst.FunctionDef, list[cst.Call]] = {}  # in the order the functions start
        # the local names a redirect can be called by (`x.redirect` aside)
        self.names = {"redirect"} | {local for local, qualified in facts.imports.items()
                                     if qualified in REDIRECTS or qualified == "redirect"}

    def visit_FunctionDef(self, node):
        super().visit_FunctionDef(node)
        self.calls[node] = []

    def visit_Call(self, node):
        if self.function is None or not node.args or node.args[0].keyword is not None:
            return
        func = node.func
        if not (func.attr.value == "redirect" if isinstance(func, cst.Attribute)
                else isinstance(func, cst.Name) and func.value in self.names):
            return  # cannot name a redirect: no need to qualify it
        name = call_name(self.facts, func)
        if name in REDIRECTS or name == "redirect":
            self.calls[self.function].append(node)


def _checks_host(function: cst.FunctionDef, code_for) -> bool:
    """Whether a function with parameters checks a URL's host (``def get_safe_url(url)``
    comparing ``urlsplit(...).netloc`` with the app's): what it returns is safe."""
    return bool(function.params.params or function.params.posonly_params) and VALIDATION.search(
        code_for(function.body)) is not None


def _validators(module: cst.Module, code_for) -> set[str]:
    """The module's own functions that check a URL's host (``_checks_host``)."""
    return {stmt.name.value for stmt in module.body
            if isinstance(stmt, cst.FunctionDef) and _checks_host(stmt, code_for)}


def _url_builders(project, file, facts, functions) -> frozenset[str]:
    """The names called in ``functions`` whose every call there is of a function or
    method of the project returning this site's URLs: every ``return`` gives
    ``url_for(...)``, a constant, another such function's value or what a
    function checking the host returns (Flask-Admin's ``self.get_url(...)``,
    inherited from ``BaseView``, returns ``url_for(endpoint, **kwargs)``;
    ``self.get_save_return_url(...)`` returns ``get_redirect_target() or
    self.get_url(".index_view")``). What they return is safe."""
    verdict: dict[str, bool] = {}
    for function in functions:
        cls = _class_around(file.module, function)
        for call in calls_in(function):
            name = callee_name(call)
            if name and verdict.get(name, True):
                verdict[name] = _builds_site_url(project, facts, cls, call, 0)
    return frozenset(name for name, ok in verdict.items() if ok)


def _class_around(module: cst.Module, function: cst.FunctionDef) -> cst.ClassDef | None:
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef) and any(s is function for s in stmt.body.body):
            return stmt
    return None


def _builds_site_url(project, facts, cls, call: cst.Call, depth: int) -> bool:
    """Whether ``call`` (in the module of ``facts``, in a method of ``cls``) returns
    this site's URL."""
    if callee_name(call) == "url_for":
        return True
    if depth > 4:
        return False
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
        found = _method(project, facts, cls, func.attr.value, 0) if cls is not None else None
    else:
        located = _project_function(project, facts, func)
        found = (located[0], located[1], None) if located is not None else None
    if found is None:
        return False
    function, where, owner = found
    return _returns_site_urls(project, function, where, owner, depth)


def _method(project, facts, cls: cst.ClassDef, name: str, depth: int):
    """(the ``def name`` a call on an instance of ``cls`` runs, the facts of its module,
    its class), following the project's base classes; None if not found."""
    for stmt in cls.body.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
            return stmt, facts, cls
    if depth > 8:
        return None
    for base in cls.bases:
        located = _project_class(project, facts, base.value)
        if located is not None:
            found = _method(project, located[1], located[0], name, depth + 1)
            if found is not None:
                return found
    return None


def _returns_site_urls(project, function: cst.FunctionDef, facts, cls, depth: int) -> bool:
    if _checks_host(function, facts.file.code_for):
        return True  # what it returns is safe, as with _validators
    returns = returns_of(function)

    def safe(node) -> bool:
        if node is None or isinstance(node, cst.Name) and node.value == "None" or string_value(node) is not None:
            return True
        if isinstance(node, cst.BooleanOperation):
            return safe(node.left) and safe(node.right)
        if isinstance(node, cst.IfExp):
            return safe(node.body) and safe(node.orelse)
        return isinstance(node, cst.Call) and _builds_site_url(project, facts, cls, node, depth + 1)

    return bool(returns) and all(safe(r.value) for r in returns)


def _sites(file, facts, builders: frozenset[str] = frozenset()) -> list[RedirectSite]:
    """The redirects to request data in the module; ``builders`` are the names of the
    project's functions that return this site's URLs (``_url_builders``)."""
    req = request_names(facts)
    sanitizers = sanitizers_for(facts) | _validators(file.module, file.code_for) | builders
    out = []
    finder = _RedirectCalls(facts)
    file.module.visit(finder)
    for func, calls in finder.calls.items():
        if not calls:
            continue
        code = file.code_for(func)
        if "redirect" not in code or VALIDATION.search(code):
            continue
        taint = tainted_names(func, req, REDIRECT_SOURCES, sanitizers)
        fallbacks = [c.args[0].value for c in calls if not taint.expr(c.args[0].value) and _portable(c.args[0].value)]
        for call in calls:
            arg = call.args[0].value
            if not taint.expr(arg) or _site_path_prefix(arg):
                continue
            target, default = arg, None
            if isinstance(arg, cst.BooleanOperation) and isinstance(arg.operator, cst.Or) \
                    and taint.expr(arg.left) and not taint.expr(arg.right):
                target, default = arg.left, arg.right
            elif isinstance(arg, cst.Call) and isinstance(arg.func, cst.Attribute) and arg.func.attr.value == "get" \
                    and len(arg.args) >= 2 and _portable(arg.args[1].value):
                default = arg.args[1].value
            if default is None and fallbacks:
                default = fallbacks[0]
            out.append(RedirectSite(func, call, target, default, arg))
    return out


def _existing_helper(project, for_path: str) -> str | None:
    """The path of a module that defines the helper at top level and that
    ``for_path`` can import: in the same top package (another package of a
    monorepo may not be installed next to it), or, outside packages, in the
    same folder."""
    top = _top_package(project, for_path)
    for path in sorted(project.python):
        file = project.python[path]
        if HELPER.encode() not in file.data or is_test_path(path):
            continue
        if _top_package(project, path) != top or (top is None and posixpath.dirname(path) != posixpath.dirname(for_path)):
            continue
        try:
            module = file.module
        except ParseError:
            continue
        if top_level_function(module, HELPER) is not None:
            return path
    return None


def _top_package(project, path: str) -> str | None:
    """The directory of the outermost package holding ``path`` ('' parts excluded), or None."""
    parts = path.split("/")[:-1]
    top = None
    for i in range(len(parts), 0, -1):
        init = "/".join(parts[:i] + ["__init__.py"])
        if init in project.python or project.workspace.read(init) is not None:
            top = "/".join(parts[:i])
        else:
            break
    return top


def _module_of(project, path: str) -> str:
    """Dotted name of ``path`` as code imports it: relative to its top package's parent."""
    top = _top_package(project, path)
    if top is None:
        return module_name_for(path.rsplit("/", 1)[-1])
    parent = posixpath.dirname(top)
    rel = path[len(parent) + 1:] if parent else path
    return module_name_for(rel)


def _insert_helper(module: cst.Module) -> cst.Module:
    """The helper goes before the module's first function or class (after
    the imports and app setup), with the spacing the module already uses."""
    helper = cst.parse_statement(helper_source())
    body = list(module.body)
    for i, stmt in enumerate(body):
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            lines = list(stmt.leading_lines) or [cst.EmptyLine(), cst.EmptyLine()]
            # comments right above the first function stay with it
            blank = [line for line in lines if line.comment is None][:2] or [cst.EmptyLine(), cst.EmptyLine()]
            helper = helper.with_changes(leading_lines=blank)
            return module.with_changes(body=body[:i] + [helper] + body[i:])
    if isinstance(body[-1] if body else None, cst.If):
        helper = helper.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        return module.with_changes(body=body[:-1] + [helper] + body[-1:])
    helper = helper.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    return module.with_changes(body=body + [helper])


@register
class OpenRedirect(Rule):
    """redirect() to a URL taken from the request.

    ## What it does
    Finds `redirect(...)` calls whose target comes from `request.args`,
    `request.form` or `request.values` (the classic `?next=`), directly or
    through a local variable. Views that already check the target (a
    `netloc` test, an `is_safe_url`-like helper, or a value passed through a
    function of the module that tests the host: `get_safe_url(...)`) are
    left alone, and so are targets that start with a fixed path on the site
    (`f"/notes/{id}"`: no value after it can change the host) or with a URL
    of the app that the values only extend after `?` or `#`
    (`url_for("search") + "?" + query`), and values of the project's
    functions and inherited methods that return only `url_for(...)` or such
    values (Flask-Admin's `self.get_url(".edit_view", url=return_url)`).

    ## Why is this bad?
    A link to `https://your.site/login?next=https://evil.example` logs the
    user in on your site and then sends them to the attacker's look-alike
    page, which asks for the password again or for payment details. The
    link looks trustworthy because it starts with your domain (CWE-601).

    ## Example
    ```python
    next_url = request.args.get("next")
    return redirect(next_url or url_for("notes"))
    ```

    ## Use instead
    ```python
    next_url = request.args.get("next")
    return redirect(safe_redirect_target(next_url, url_for("notes")))
    ```
    `safe_redirect_target(target, default)` returns the target only if it is
    a relative URL on the same site (`/profile`, `/cart?x=1`) and the
    default otherwise. The default is the view's own fallback (`X or
    url_for(...)`, the `get("next", default)` value, or another redirect in
    the view), else `/`.

    The helper is added once per project: in a single-module app, to that
    module (before its first function); in a package, as a small module
    `<package>/safe_redirect.py` that every blueprint imports (a module of
    its own avoids import cycles with the package's `__init__`, which
    imports the blueprints). A project that already has it reuses it.

    ## Fix safety
    Safe: relative targets work as before. Absolute URLs, even to the same
    host, now go to the default target.

    ## References
    - https://cheatsheetseries.owasp.org/cheatsheets/Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html
    - CWE-601: URL Redirection to Untrusted Site ('Open Redirect')
    """

    code = "H411"
    name = "open-redirect"
    category = "redirect"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    cwe = 601
    triggers = (b"redirect",)

    VALID = [
        "from flask import Flask, redirect, request, url_for\napp = Flask(__name__)\n@app.get('/go')\ndef go():\n"
        "    return redirect(url_for('index', page=request.args.get('page')))\n",
        # already checked by the view
        "from urllib.parse import urlsplit\nfrom flask import Flask, redirect, request\napp = Flask(__name__)\n"
        "@app.get('/go')\ndef go():\n    target = request.args.get('next', '/')\n"
        "    if urlsplit(target).netloc:\n        target = '/'\n    return redirect(target)\n",
        # not from the request
        "from flask import Flask, redirect, session\napp = Flask(__name__)\n@app.get('/back')\ndef back():\n"
        "    return redirect(session.get('last', '/'))\n",
    ]
    INVALID = [
        Example(
            "from flask import Flask, redirect, request, url_for\n\napp = Flask(__name__)\n\n\n"
            "# pages\n@app.route('/login', methods=['POST'])\ndef login():\n"
            "    next_url = request.args.get('next')\n    return redirect(next_url or url_for('home'))\n",
            "from flask import Flask, redirect, request, url_for\nfrom urllib.parse import urlsplit\n\napp = Flask(__name__)\n\n\n"
            + helper_source() +
            "\n\n# pages\n@app.route('/login', methods=['POST'])\ndef login():\n"
            "    next_url = request.args.get('next')\n    return redirect(safe_redirect_target(next_url, url_for('home')))\n",
        ),
        # a package: one helper module shared by the blueprints
        Example(
            {
                "shop/__init__.py": "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n"
                                    "    from shop.auth import bp\n    app.register_blueprint(bp)\n    return app\n",
                "shop/auth.py": "from flask import Blueprint, redirect, request, url_for\nbp = Blueprint('auth', __name__)\n"
                                "@bp.post('/login')\ndef login():\n    nxt = request.form.get('next')\n    if nxt:\n"
                                "        return redirect(nxt)\n    return redirect(url_for('main.index'))\n"
                                "@bp.get('/out')\ndef out():\n    return redirect(request.values['to'])\n",
            },
            {
                "shop/auth.py": "from flask import Blueprint, redirect, request, url_for\n"
                                "from shop.safe_redirect import safe_redirect_target\n\n"
                                "bp = Blueprint('auth', __name__)\n"
                                "@bp.post('/login')\ndef login():\n    nxt = request.form.get('next')\n    if nxt:\n"
                                "        return redirect(safe_redirect_target(nxt, url_for('main.index')))\n"
                                "    return redirect(url_for('main.index'))\n"
                                "@bp.get('/out')\ndef out():\n    return redirect(safe_redirect_target(request.values['to'], \"/\"))\n",
                "shop/safe_redirect.py": '"""Redirect targets from the request: same-site relative URLs only."""\n\n'
                                         "from urllib.parse import urlsplit\n\n\n" + helper_source(),
            },
            findings=2,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts = facts_or_imports(project, file)
        sites = file.memo("H411 sites", lambda: _sites(file, facts))  # its own tree and imports alone
        if sites:  # then with the project's functions that build this site's URLs, if any is called
            builders = _url_builders(project, file, facts, {id(s.func): s.func for s in sites}.values())
            if builders:
                sites = file.memo(("H411 sites", builders), lambda: _sites(file, facts, builders))
        for site in sites:
            where = "the view's fallback" if site.default is not None else '"/"'
            yield self.finding(
                file, site.call,
                f"redirect() to `{file.code_for(site.target)}`, which comes from the request: a link can send users "
                f"to another site (open redirect); only same-site relative URLs should be followed, else {where}",
                self._fix(project, file, site),
            )

    def _fix(self, project, file, site: RedirectSite) -> Fix:
        def compute():
            default = site.default if site.default is not None else cst.SimpleString('"/"')
            new_arg = cst.Call(cst.Name(HELPER), [
                cst.Arg(site.target, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(default)])
            builder = ChangeBuilder(project)
            builder.edit_python(file.path, lambda m: rewrite(m, replace={site.replace_node: new_arg}), file=file)
            existing = _existing_helper(project, file.path)
            if existing == file.path:
                pass
            elif existing is not None:
                builder.edit_python(file.path, lambda m: add_imports(m, (_module_of(project, existing), HELPER)))
            elif _top_package(project, file.path) is None:
                builder.edit_python(file.path, lambda m: add_imports(_insert_helper(m), ("urllib.parse", "urlsplit")))
                builder.note(f"Added {HELPER}() to {file.path}")
            else:
                top = _top_package(project, file.path)
                path = f"{top}/{HELPER_MODULE}.py"
                if builder.current(path) is not None:
                    if path not in project.python:
                        # another fix of this run created it: compute again on the next scan
                        raise StaleFixError(f"{path} was created since the scan")
                    raise FixError(f"{path} exists and does not define {HELPER}()")
                text = ('"""Redirect targets from the request: same-site relative URLs only."""\n\n'
                        "from urllib.parse import urlsplit\n\n\n" + helper_source())
                builder.set(path, text.encode())
                builder.edit_python(file.path, lambda m: add_imports(m, (_module_of(project, path), HELPER)))
                builder.note(f"Created {path} with {HELPER}(), shared by every view that redirects")
            return builder.build()

        return Fix(f"Redirect only to same-site relative URLs ({HELPER})", Safety.SAFE, compute)
