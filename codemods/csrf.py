"""H201 csrf-protection-missing, H202 csrf-disabled, H203 csrf-exempt-session-view."""

from __future__ import annotations

import posixpath
import re

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_import_from, add_imports, insert_after_app, insert_after_imports, replace_nodes
from hardener.models import Confidence, Fix, FixError, Safety, Severity
from hardener.project import AppObject, dotted_name, is_test_path, literal_value, module_name_for, string_value
from hardener.rules import Example, Rule, register
from hardener.source import ParseError, parse_unvalidated

from ._flaskapi import all_views, import_spec, is_true, keyword
from ._flow import target_names
from ._webapp import (
    CSRF_CLASSES, SEASURF_CLASSES, add_csrf_meta, add_form_tokens, app_home, app_scopes, app_uses_extension,
    in_home, inline_blocks, js_posts, templates_under,
    patch_js_posts, post_forms, production_apps, state_changing, unique_name, uses_session, view_kind, insert_in_scope,
    SCRIPT_TAG, STATIC_URL, attributes, static_dir_for,
)

IMPORT = ("flask_wtf.csrf", "CSRFProtect")
HAND_ROLLED = re.compile(
    rb"""session\s*\[\s*['"]_?csrf|session\.get\(\s*['"]_?csrf|jinja_env\.globals\s*\[\s*['"]csrf_token['"]\s*\]\s*=|"""
    rb"""def\s+\w*(?:generate|make|check|validate|verify)_?csrf""")


def _has_secret_helper():
    try:
        from .secrets import ensure_secret_key
    except ImportError:  # the secrets rule is not installed: nothing to add
        return None
    return ensure_secret_key


def app_views(project, app: AppObject):
    """The views that belong to ``app``: its own routes and its blueprints' (in a
    repository of services, those in its own part: see ``app_home``). Routes of
    another app object (in this module or imported) are that app's. A blueprint
    that another app's code registers, and ``app``'s (registering only blueprints
    it names) does not, is not its own; one that no app visibly registers could
    be anyone's."""
    home = app_home(project, app.file.path)
    mine, complete = _registered_blueprints(project, app)
    anyone = set().union(*(_registered_blueprints(project, a)[0] for a in production_apps(project)))
    for view in all_views(project):
        if not in_home(view.file.path, home):
            continue
        owners = {r.owner for r in view.routes}
        facts = project.facts_for(view.file.path)
        apps = {_object_key(project, facts, owner, "flask") for owner in owners}
        if all(path for path, _ in apps) and (app.file.path, app.name) not in apps:
            continue  # routes of other apps (webui_app in another module, a second app here)
        if complete:
            keys = {_object_key(project, facts, owner, "blueprint") for owner in owners}
            if keys & anyone and not keys & mine and all(path for path, _ in keys):
                continue  # another app's blueprint
        yield view


def _object_key(project, facts, name: str, kind: str) -> tuple[str, str]:
    """Which app or blueprint (``kind``) ``name`` is in the module of ``facts``: (the
    path of the module that builds it, its name there); ("", the name) when it is
    not one of the model's."""
    for obj in facts.apps:
        if obj.kind == kind and (obj.name == name or name in obj.aliases):
            return facts.file.path, obj.name
    module, _, attr = facts.qualify_name(name).rpartition(".")
    path = project.find_module(module) if module and facts.imported(name) else None
    if path is not None:
        other = project.facts_for(path)
        for obj in other.apps if other is not None else ():
            if obj.kind == kind and (obj.name == attr or attr in obj.aliases):
                return path, obj.name
    return "", attr or name


def _registered_blueprints(project, app: AppObject) -> tuple[set[str], bool]:
    """The blueprints ``app``'s code registers (``app.register_blueprint(endpoints.api)``),
    also in the functions it hands the app to, as ``_object_key``s, and whether that
    is all of them: not when one is not a name (``register_blueprint(plugin["bp"])``,
    a loop variable)."""
    cache = project.__dict__.setdefault("_registered_blueprints", {})
    if id(app) not in cache:
        names, complete = set(), True
        for scope in app_scopes(project, app):
            for call in scope.calls:
                func = call.func
                if not (isinstance(func, cst.Attribute) and func.attr.value == "register_blueprint"
                        and scope.holds(func.value) and call.args):
                    continue
                name = dotted_name(call.args[0].value)
                if name is None or "." not in name and _bound_by_loop(scope.node, name):
                    complete = False
                else:
                    names.add(_object_key(project, scope.facts, name, "blueprint"))
        cache[id(app)] = names, complete
    return cache[id(app)]


def _bound_by_loop(node: cst.CSTNode, name: str) -> bool:
    """Whether a ``for`` in ``node`` binds ``name`` (``for bp in BLUEPRINTS:``)."""
    class Visitor(cst.CSTVisitor):
        def __init__(self):
            super().__init__()
            self.found = False

        def visit_For(self, loop: cst.For) -> None:
            if name in target_names(loop.target):
                self.found = True

    visitor = Visitor()
    node.visit(visitor)
    return visitor.found


def hand_rolled_csrf(project) -> str | None:
    """A file of the project's own CSRF token mechanism, if any."""
    for path, file in sorted(project.python.items()):
        if is_test_path(path) or b"csrf" not in file.data.lower():
            continue
        if b"flask_wtf" in file.data or b"flask_seasurf" in file.data:
            continue
        if HAND_ROLLED.search(file.data):
            return path
    return None


def _post_templates(project, home: str = ""):
    """The templates (under ``home``: see ``app_home``) with a POST form."""
    return {path: t for path, t in templates_under(project, home).items()
            if not is_test_path(path) and post_forms(t.text)}


def _app_post_templates(project, app: AppObject):
    """The templates with a POST form ``app`` may render: those in its home, less those
    in another app's own ``templates`` folder (next to the module that builds that app:
    Flask looks there for it), unless ``app`` registers a blueprint from that folder."""
    forms = _post_templates(project, app_home(project, app.file.path))
    mine, complete = _registered_blueprints(project, app)
    own = posixpath.dirname(app.file.path)
    others = {posixpath.dirname(a.file.path) for a in production_apps(project)} - {own}
    if not complete or not others or keyword(app.call, "template_folder") is not None:
        return forms
    borrowed = {posixpath.dirname(b.file.path) for b in project.blueprints if (b.file.path, b.name) in mine}

    def elsewhere(path: str) -> bool:
        for folder in others:
            if path.startswith(f"{folder}/templates/" if folder else "templates/") \
                    and not any(b == folder or b.startswith(folder + "/") for b in borrowed):
                return True
        return False

    return {path: t for path, t in forms.items() if not elsewhere(path)}


def _js_sources(project, home: str = "") -> dict[str, str]:
    """Scripts that may post: inline scripts in templates and the static .js files templates load."""
    out: dict[str, str] = {}
    for path, template in sorted(templates_under(project, home).items()):
        text = template.text
        if any(b.kind == "script" for b in inline_blocks(text)) and js_posts(text):
            out[path] = text
        for m in SCRIPT_TAG.finditer(text):
            src = attributes(m.group(1)).get("src") or ""
            static = STATIC_URL.search(src)
            name = static.group(1) if static else (src[len("/static/"):] if src.startswith("/static/") else None)
            if name and name.endswith(".js") and not name.endswith(".min.js"):
                js_path = f"{static_dir_for(path)}/{name}"
                data = project.workspace.read(js_path)
                if data is not None and js_posts(data.decode("utf-8", "replace")):
                    out[js_path] = data.decode("utf-8", "replace")
    return out


def _add_decorator(module: cst.Module, func_name: str, decorator: str) -> cst.Module:
    new = cst.Decorator(cst.parse_expression(decorator))
    done = []

    class T(cst.CSTTransformer):
        def leave_FunctionDef(self, original, updated):
            if original.name.value != func_name or done:
                return updated
            if any(dotted_name(d.decorator) == decorator for d in updated.decorators):
                done.append(True)
                return updated
            decorators = list(updated.decorators)
            last_route = max((i for i, d in enumerate(decorators) if isinstance(d.decorator, cst.Call)
                              and isinstance(d.decorator.func, cst.Attribute)
                              and d.decorator.func.attr.value in ("route", "post", "put", "patch", "delete", "get")),
                             default=len(decorators) - 1)
            decorators.insert(last_route + 1, new)
            done.append(True)
            return updated.with_changes(decorators=decorators)

    out = module.visit(T())
    if not done:
        raise FixError(f"could not find the view {func_name}()")
    return out


def _extension_module(project, app: AppObject) -> tuple[str, str, int] | None:
    """Where the factory's other extensions live: (path, module text, relative level)
    of a project module whose module-level instances the factory (or a function
    it hands the app to) calls ``init_app`` on."""
    if app.factory is None:
        return None
    for scope in app_scopes(project, app):
        for call in scope.calls:
            if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "init_app"):
                continue
            qualified = scope.facts.qualify(call.func.value) or ""
            module, _, name = qualified.rpartition(".")
            path = project.find_module(module) if module and scope.facts.imported(dotted_name(call.func.value) or "") else None
            if path is None or path == app.file.path:
                continue
            other = project.facts_for(path)
            if other is None:
                continue
            if name in {n for n, _c, _s in _all_instances(other)}:
                text, level = import_spec(project, app.file.path, path)
                return path, text, level
    return None


def _all_instances(facts):
    out = []
    for stmt in facts.file.module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name) \
                        and isinstance(small.value, cst.Call) and not small.value.args:
                    out.append((small.targets[0].target.value, small.value, stmt))
    return out


def _after_last_instance(module: cst.Module, statement: cst.BaseStatement) -> cst.Module:
    body = list(module.body)
    index = None
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and any(
                isinstance(s, cst.Assign) and isinstance(s.value, cst.Call) and not s.value.args for s in stmt.body):
            index = i
    if index is None:
        return insert_after_imports(module, [statement])
    return module.with_changes(body=body[: index + 1] + [statement] + body[index + 1:])


# --------------------------------------------------------------------------- the project's tests

_OFF = "WTF_CSRF_ENABLED"
# a superset of what _CsrfOffWhereTesting edits: TESTING = / : / ] = True, .testing = True
_TURNS_TESTING_ON = re.compile(rb"""(?:\bTESTING['"]?\s*\]?\s*[=:]|\.testing\s*=)\s*True\b""")


class _CsrfOffWhereTesting(cst.CSTVisitor):
    """Where the tests turn ``TESTING`` on, turn CSRF checks off next to it
    (Flask-WTF's advice for test suites: their form posts carry no token):
    ``{"TESTING": True}``, ``f(TESTING=True)``, ``app.config["TESTING"] = True``,
    ``app.testing = True`` and ``TESTING = True`` in a test configuration class.
    Outside test modules only that last one counts. Collects the replacements
    (``replace_nodes``) in a read-only walk."""

    def __init__(self, test_module: bool):
        self.test_module = test_module
        self.classes: list[str] = []
        self.replacements: dict = {}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node.name.value)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.pop()

    @staticmethod
    def _with_off(items: list, i: int, off) -> list:
        """``items`` with ``off`` right after item ``i`` (TESTING), taking over its comma."""
        testing = items[i]
        comma = testing.comma if isinstance(testing.comma, cst.Comma) else cst.Comma(
            whitespace_after=cst.SimpleWhitespace(" "))
        return items[:i] + [testing.with_changes(comma=comma), off.with_changes(comma=testing.comma)] + items[i + 1:]

    def visit_Dict(self, node: cst.Dict) -> bool:
        if not self.test_module:
            return False
        elements = list(node.elements)
        keys = [string_value(e.key) if isinstance(e, cst.DictElement) else None for e in elements]
        if _OFF in keys or "TESTING" not in keys or not is_true(elements[keys.index("TESTING")].value):
            return True
        i = keys.index("TESTING")
        key = elements[i].key
        quote = key.value[-1] if isinstance(key, cst.SimpleString) else '"'
        off = elements[i].with_changes(key=cst.SimpleString(f"{quote}{_OFF}{quote}"), value=cst.Name("False"))
        self.replacements[node] = node.with_changes(elements=self._with_off(elements, i, off))
        return False  # what it holds stays as it is

    def visit_Call(self, node: cst.Call) -> bool:
        if not self.test_module:
            return False
        args = list(node.args)
        keywords = [a.keyword.value if a.keyword is not None else None for a in args]
        if _OFF in keywords or "TESTING" not in keywords or not is_true(args[keywords.index("TESTING")].value):
            return True
        i = keywords.index("TESTING")
        off = args[i].with_changes(keyword=cst.Name(_OFF), value=cst.Name("False"))
        self.replacements[node] = node.with_changes(args=self._with_off(args, i, off))
        return False

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        extra = self._after(node)
        if extra is not None:
            self.replacements[node] = cst.FlattenSentinel([node, extra])
            return False
        return True

    def _after(self, stmt: cst.SimpleStatementLine) -> cst.BaseStatement | None:
        """The statement that turns CSRF off after ``stmt``, if it turns TESTING on."""
        if not (len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)
                and len(stmt.body[0].targets) == 1 and is_true(stmt.body[0].value)):
            return None
        target = stmt.body[0].targets[0].target
        if isinstance(target, cst.Name) and target.value == "TESTING" and self.classes \
                and "test" in self.classes[-1].lower():
            return cst.parse_statement(f"{_OFF} = False\n")
        if not self.test_module:
            return None
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Attribute) \
                and target.value.attr.value == "config" and len(target.slice) == 1 \
                and isinstance(target.slice[0].slice, cst.Index) and string_value(target.slice[0].slice.value) == "TESTING":
            owner = cst.Module([]).code_for_node(target.value.value)
            key = target.slice[0].slice.value
            quote = key.value[-1] if isinstance(key, cst.SimpleString) else '"'
            return cst.parse_statement(f"{owner}.config[{quote}{_OFF}{quote}] = False\n")
        if isinstance(target, cst.Attribute) and target.attr.value == "testing":
            owner = cst.Module([]).code_for_node(target.value)
            return cst.parse_statement(f'{owner}.config["{_OFF}"] = False\n')
        return None


def _testing_switch_candidates(project, home: str) -> list[str]:
    """The modules under ``home`` where tests may turn TESTING on: none when
    ``WTF_CSRF_ENABLED`` is set there already, or the tests there know about
    CSRF tokens (they send them, or test that they are checked)."""
    cache = project.__dict__.setdefault("_h201_testing_switches", {})
    if home not in cache:
        files = {p: f for p, f in project.python.items() if in_home(p, home)}
        if any(_OFF.encode() in f.data or is_test_path(p) and b"csrf" in f.data.lower() for p, f in files.items()):
            cache[home] = []
        else:
            cache[home] = sorted(p for p, f in files.items() if _TURNS_TESTING_ON.search(f.data))
    return cache[home]


def _switch_csrf_off_in_tests(builder: ChangeBuilder, project, app: AppObject) -> list[str]:
    """Edit the modules where the app's tests turn TESTING on; the paths changed."""
    changed = []
    for path in _testing_switch_candidates(project, app_home(project, app.file.path)):
        before, file = builder.current(path), project.python[path]
        try:
            after = file.memo("H201 csrf off where testing", lambda: _csrf_off_where_testing(file.module, path)) \
                if before == file.data else _csrf_off_where_testing(parse_unvalidated(before), path)
        except (ParseError, cst.ParserSyntaxError):
            continue
        if after is not None:
            builder.set(path, after)
            changed.append(path)
    return changed


def _csrf_off_where_testing(module: cst.Module, path: str) -> bytes | None:
    """The module's new bytes, None if it has nothing to change."""
    visitor = _CsrfOffWhereTesting(is_test_path(path))
    module.visit(visitor)
    return replace_nodes(module, visitor.replacements).bytes if visitor.replacements else None


def build_csrf_fix(project, app: AppObject, exempt: list) -> Fix:
    def compute():
        builder = ChangeBuilder(project)
        path = app.file.path
        current = parse_unvalidated(builder.current(path))
        name = "csrf" if app.name == "app" else f"{app.name}_csrf"
        name = unique_name(current, name)
        same_module = [v for v in exempt if v.file.path == path and app.factory is None]
        elsewhere = [v for v in exempt if v not in same_module]

        def exempt_lines() -> list[cst.BaseStatement]:
            out = []
            for view in elsewhere:
                text, level = import_spec(project, path, view.file.path) if view.file.path != path else (
                    module_name_for(path), 0)
                if level:
                    text = module_name_for(view.file.path)
                out.append(cst.parse_statement(f'{name}.exempt("{text}.{view.name}")\n'))
            return out

        if app.factory is None:
            statement = cst.parse_statement(f"{name} = CSRFProtect({app.name})\n")
            builder.edit_python(path, lambda m: insert_after_app(m, app.name, None, [statement] + exempt_lines()))
            for view in same_module:
                builder.edit_python(path, lambda m, v=view: _add_decorator(m, v.name, f"{name}.exempt"))
            builder.edit_python(path, lambda m: add_imports(m, IMPORT))
        else:
            factory = app.factory.name.value
            init = cst.parse_statement(f"{name}.init_app({app.name})\n")
            builder.edit_python(path, lambda m: insert_in_scope(m, app.name, factory, [init] + exempt_lines(),
                                                                after=(r"\.config\b",)))
            instance = cst.parse_statement(f"{name} = CSRFProtect()\n")
            ext = _extension_module(project, app) if name == "csrf" else None
            if ext is not None:
                ext_path, text, level = ext
                builder.edit_python(ext_path, lambda m: add_imports(_after_last_instance(m, instance), IMPORT))
                builder.edit_python(path, lambda m: add_import_from(m, text, name, level))
                builder.note(f"`{name} = CSRFProtect()` lives in {ext_path} with the other extensions; "
                             f"the factory calls `{name}.init_app({app.name})`")
            else:
                builder.edit_python(path, lambda m: add_imports(insert_after_imports(m, [instance]), IMPORT))
        # templates (the app's own, in a repository of services): a token in every POST form
        home = app_home(project, app.file.path)
        for tpath, template in sorted(_app_post_templates(project, app).items()):
            data = builder.current(tpath)
            text = template.text if data == template.data else data.decode("utf-8", "surrogateescape")
            new = add_form_tokens(text, template.newline)
            if new != text:
                builder.set(tpath, template.encode(new))
        # JavaScript that posts: the token as a meta tag, the header on clear fetch() calls
        unclear = []
        scripts = _js_sources(project, home)
        for spath in scripts:
            text = builder.current(spath).decode("utf-8", "surrogateescape").removeprefix("\ufeff")
            result = patch_js_posts(text)
            if result.patched != text:
                template = project.templates.get(spath)
                builder.set(spath, template.encode(result.patched) if template else result.patched.encode("utf-8"))
            unclear += [f"{spath}: {u}" for u in result.unclear]
        if scripts:
            for tpath, template in sorted(templates_under(project, home).items()):
                if "<head" not in template.text.lower():
                    continue
                data = builder.current(tpath)
                text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
                new = add_csrf_meta(text, template.newline)
                if new != text:
                    builder.set(tpath, template.encode(new))
            builder.note("Pages carry the token in <meta name=\"csrf-token\">; JavaScript that posts sends it "
                         "in the X-CSRFToken header")
        if unclear:
            builder.followup("Send the X-CSRFToken header (from <meta name=\"csrf-token\">) on these requests: "
                             + "; ".join(unclear))
        tests = _switch_csrf_off_in_tests(builder, project, app)
        if tests:
            builder.note(f"Where the tests turn TESTING on, {_OFF} is now False too (their form posts carry no "
                         f"token): {', '.join(tests)}")
        ensure = _has_secret_helper()
        if ensure is not None:
            ensure(builder, project, app)
        builder.dependency("flask-wtf")
        if exempt:
            builder.note("Exempted token-authenticated JSON views, which no browser sends cookies for: "
                         + ", ".join(sorted({v.name for v in exempt})))
        builder.note("POST, PUT, PATCH and DELETE requests without a valid token now get 400")
        return builder.build()

    scripts = _js_sources(project, app_home(project, app.file.path))
    unclear = [u for text in scripts.values() for u in patch_js_posts(text).unclear]
    safety, reason = Safety.SAFE, ""
    if unclear:
        safety = Safety.REVIEW
        reason = ("JavaScript posts in ways hardener cannot patch (" + ", ".join(sorted(set(unclear)))
                  + "): it must send the X-CSRFToken header or those requests get 400")
    title = "Enable Flask-WTF CSRFProtect" + (" in the app factory" if app.factory is not None else "")
    return Fix(title, safety, compute, reason)


@register
class CsrfProtectionMissing(Rule):
    """A Flask app that changes state takes requests without a CSRF token.

    ## What it does
    Finds Flask apps with state-changing routes (POST, PUT, PATCH, DELETE) or
    templates with `<form method="post">` and no CSRF protection: neither
    `CSRFProtect(app)` nor `csrf.init_app(app)` in the factory (Flask-SeaSurf
    counts too). An app with its own hand-rolled CSRF token is reported
    without a fix. In a project with several apps, a blueprint that another
    app's code registers (`app.register_blueprint(...)`, also in the helpers
    its factory hands the app to), and the forms in another app's own
    `templates` folder, are that app's, not every app's.

    ## Why is this bad?
    A browser attaches the session cookie to every request to the site, also
    to one a malicious page makes it send. Without a token that only the
    site's own pages know, another site can post forms as the logged-in user:
    change their password, delete their data, buy things.

    ## Example
    ```python
    app = Flask(__name__)

    @app.route("/notes", methods=["POST"])
    def create(): ...
    ```

    ## Use instead
    ```python
    from flask_wtf.csrf import CSRFProtect

    app = Flask(__name__)
    csrf = CSRFProtect(app)
    ```
    and `<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">`
    in every POST form. With an app factory: `csrf = CSRFProtect()` at module
    level (next to the other extensions) and `csrf.init_app(app)` in the
    factory.

    ## Fix safety
    Safe when hardener can make every client send the token: it adds the
    hidden input to every POST form in the templates that lacks one, puts the
    token in a `<meta name="csrf-token">` tag and adds the `X-CSRFToken`
    header to `fetch(url, {method: "POST"})` calls. Views authenticated by a
    header token (Authorization, JWT) or reading only JSON are exempted, since
    browsers send no credentials for them. Review when JavaScript posts in a
    way hardener cannot patch (XMLHttpRequest, jQuery, options built
    elsewhere). The app gets a SECRET_KEY from .env if it has none.
    flask-wtf is added to the dependencies. Where the project's tests turn
    `TESTING` on (`create_app({"TESTING": True})`, `app.config["TESTING"] =
    True`, a `TestingConfig` class) and know nothing of CSRF tokens, the fix
    sets `WTF_CSRF_ENABLED` to False next to it, as Flask-WTF advises, so the
    test suite's form posts keep working.

    ## References
    - https://flask-wtf.readthedocs.io/en/1.2.x/csrf/
    - https://owasp.org/www-community/attacks/csrf
    - CWE-352: Cross-Site Request Forgery (CSRF)
    """

    code = "H201"
    name = "csrf-protection-missing"
    category = "csrf"
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    cwe = 352

    VALID = [
        # protected
        "import os\nfrom flask import Flask\nfrom flask_wtf.csrf import CSRFProtect\napp = Flask(__name__)\n"
        "csrf = CSRFProtect(app)\n@app.route('/x', methods=['POST'])\ndef x():\n    return 'ok'\n",
        # protected in the factory, the instance in extensions.py
        Example({"app/__init__.py": "from flask import Flask\nfrom app.extensions import csrf\n\ndef create_app():\n"
                                    "    app = Flask(__name__)\n    csrf.init_app(app)\n    return app\n",
                 "app/extensions.py": "from flask_wtf import CSRFProtect\ncsrf = CSRFProtect()\n",
                 "app/views.py": "from flask import Blueprint\nbp = Blueprint('v', __name__)\n"
                                 "@bp.route('/x', methods=['POST'])\ndef x():\n    return 'ok'\n"}, findings=0),
        # read-only app
        "from flask import Flask\napp = Flask(__name__)\n@app.route('/')\ndef index():\n    return 'hi'\n",
        # a JSON API authenticated by a header token
        "from flask import Flask, request\napp = Flask(__name__)\n@app.route('/api/items', methods=['POST'])\n"
        "def create():\n    token = request.headers.get('Authorization')\n    return {'ok': bool(token)}\n",
    ]
    INVALID = [
        Example(
            {
                "app.py": "import os\nfrom flask import Flask, request, session\n\napp = Flask(__name__)\n"
                          "app.secret_key = os.environ['SECRET_KEY']\n\n\n@app.route('/login', methods=['GET', 'POST'])\n"
                          "def login():\n    session['user'] = request.form['user']\n    return 'ok'\n",
                "templates/login.html": "{% block body %}\n<FORM METHOD='POST'>\n    <input name=\"user\">\n</FORM>\n{% endblock %}\n",
                "requirements.txt": "flask\n",
            },
            {
                "app.py": "import os\nfrom flask import Flask, request, session\nfrom flask_wtf.csrf import CSRFProtect\n\n"
                          "app = Flask(__name__)\ncsrf = CSRFProtect(app)\n"
                          "app.secret_key = os.environ['SECRET_KEY']\n\n\n@app.route('/login', methods=['GET', 'POST'])\n"
                          "def login():\n    session['user'] = request.form['user']\n    return 'ok'\n",
                "templates/login.html": "{% block body %}\n<FORM METHOD='POST'>\n"
                                        "    <input type=\"hidden\" name=\"csrf_token\" value=\"{{ csrf_token() }}\">\n"
                                        "    <input name=\"user\">\n</FORM>\n{% endblock %}\n",
                "requirements.txt": "flask\nflask-wtf>=1.2\n",
            },
        ),
        # a factory: the instance goes next to the other extensions
        Example(
            {
                "shop/__init__.py": "from flask import Flask\n\nfrom shop.extensions import db\n\n\n"
                                    "def create_app(config='shop.config.Config'):\n    app = Flask(__name__)\n"
                                    "    app.config.from_object(config)\n    db.init_app(app)\n"
                                    "    from shop.views import bp\n    app.register_blueprint(bp)\n    return app\n",
                "shop/extensions.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
                "shop/config.py": "import os\n\nclass Config:\n    SECRET_KEY = os.environ.get('SECRET_KEY')\n",
                "shop/views.py": "from flask import Blueprint, request\nbp = Blueprint('v', __name__)\n\n\n"
                                 "@bp.route('/cart', methods=['POST'])\ndef cart():\n    return request.form['id']\n\n\n"
                                 "@bp.route('/api/items', methods=['POST'])\ndef api_items():\n"
                                 "    return {'token': request.headers['Authorization']}\n",
                "pyproject.toml": "[project]\nname = \"shop\"\ndependencies = [\"flask\"]\n",
            },
            {
                "shop/__init__.py": "from flask import Flask\n\nfrom shop.extensions import csrf, db\n\n\n"
                                    "def create_app(config='shop.config.Config'):\n    app = Flask(__name__)\n"
                                    "    app.config.from_object(config)\n    db.init_app(app)\n"
                                    "    csrf.init_app(app)\n    csrf.exempt(\"shop.views.api_items\")\n"
                                    "    from shop.views import bp\n    app.register_blueprint(bp)\n    return app\n",
                "shop/extensions.py": "from flask_sqlalchemy import SQLAlchemy\nfrom flask_wtf.csrf import CSRFProtect\n\n"
                                      "db = SQLAlchemy()\ncsrf = CSRFProtect()\n",
                "pyproject.toml": "[project]\nname = \"shop\"\ndependencies = [\"flask\", \"flask-wtf>=1.2\"]\n",
            },
        ),
        # CSRFProtect is on but a form lacks the token: the template gets it
        Example(
            {"app.py": "from flask import Flask\nfrom flask_wtf.csrf import CSRFProtect\napp = Flask(__name__)\n"
                       "csrf = CSRFProtect(app)\n",
             "templates/new.html": "<form method=\"post\">\r\n\t<button>Add</button>\r\n</form>\r\n"},
            {"templates/new.html": "<form method=\"post\">\r\n\t<input type=\"hidden\" name=\"csrf_token\" "
                                   "value=\"{{ csrf_token() }}\">\r\n\t<button>Add</button>\r\n</form>\r\n"},
        ),
        # a hand-rolled token: reported, no second mechanism
        Example(
            "import secrets\nfrom flask import Flask, session, request, abort\napp = Flask(__name__)\n\n"
            "@app.before_request\ndef check_csrf():\n    if request.method == 'POST' and request.form.get('t') != session.get('_csrf'):\n"
            "        abort(400)\n\n@app.route('/x', methods=['POST'])\ndef x():\n    return 'ok'\n",
            None,
        ),
    ]

    template_triggers = ("form", "FORM", "Form")

    def check_template(self, template, project):
        """With CSRFProtect on, a POST form without the token is refused: give it one."""
        if is_test_path(template.path):
            return
        forms = [f for f in post_forms(template.text) if not f.has_token]
        if not forms or not _apps_protected(project, template.path):
            return
        for form in forms:
            yield self.template_finding(
                template, form.start, form.end,
                "POST form without a CSRF token: CSRFProtect refuses it with 400",
                self._token_fix(project, template),
            )

    @staticmethod
    def _token_fix(project, template) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            text = builder.current(template.path).decode("utf-8", "surrogateescape").removeprefix("\ufeff")
            builder.set(template.path, template.encode(add_form_tokens(text, template.newline)))
            return builder.build()

        return Fix("Add the CSRF token to the form", Safety.SAFE, compute)

    def check_project(self, project):
        hand_rolled = None
        searched = False
        for app in production_apps(project):
            if app_uses_extension(project, app, CSRF_CLASSES | SEASURF_CLASSES):
                continue
            views = list(app_views(project, app))
            changing = [v for v in views if state_changing(v)]
            session_views = [v for v in changing if view_kind(v, project) == "session"]
            forms = _app_post_templates(project, app)
            if not session_views and not forms:
                continue
            if not searched:
                hand_rolled, searched = hand_rolled_csrf(project), True
            routes = sorted({p for v in session_views for p in v.paths})
            what = (f"state-changing routes ({', '.join(routes[:4])}{', ...' if len(routes) > 4 else ''})"
                    if routes else f"POST forms in {len(forms)} template(s)")
            if hand_rolled is not None:
                yield self.finding(
                    app.file, app.statement,
                    f"Flask app `{app.name}` has {what} and a hand-rolled CSRF check ({hand_rolled}); "
                    "hardener adds no second mechanism: consider Flask-WTF's CSRFProtect",
                    None, confidence=Confidence.LOW,
                )
                continue
            exempt = [v for v in changing if view_kind(v, project) in ("token", "json")]
            yield self.finding(
                app.file, app.statement,
                f"Flask app `{app.name}` has {what} and no CSRF protection",
                build_csrf_fix(project, app, exempt),
            )


def _apps_protected(project, template_path: str) -> bool:
    """Whether the apps that may render the template all have CSRFProtect:
    those whose part of the repository (``app_home``) holds it."""
    protected = project.__dict__.get("_h201_protected")
    if protected is None:
        protected = project.__dict__["_h201_protected"] = [
            (app_home(project, a.file.path), app_uses_extension(project, a, CSRF_CLASSES))
            for a in production_apps(project)]
    serving = [ok for home, ok in protected if in_home(template_path, home)]
    return bool(serving) and all(serving)


def _in_test_class(setting) -> bool:
    return setting.kind == "class" and "test" in (setting.owner or "").lower()


class _MetaCsrf(cst.CSTVisitor):
    """``class Meta: csrf = False`` inside form classes."""

    def __init__(self):
        self.found: list[tuple[cst.ClassDef, cst.SimpleStatementLine, cst.ClassDef]] = []
        self.stack: list[cst.ClassDef] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if node.name.value == "Meta" and self.stack and isinstance(node.body, cst.IndentedBlock):
            for stmt in node.body.body:
                if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
                    assign = stmt.body[0]
                    if any(isinstance(t.target, cst.Name) and t.target.value == "csrf" for t in assign.targets) \
                            and literal_value(assign.value) is False:
                        self.found.append((self.stack[-1], stmt, node))
        self.stack.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.stack.pop()


@register
class CsrfDisabled(Rule):
    """CSRF protection is switched off.

    ## What it does
    Finds `WTF_CSRF_ENABLED = False` in configuration the app loads (test
    configuration is left alone) and `class Meta: csrf = False` in Flask-WTF
    form classes.

    ## Why is this bad?
    CSRFProtect and FlaskForm check nothing when the setting is off, so other
    sites can post forms as the logged-in user. It is often switched off to
    make tests or a JavaScript client easier and then shipped.

    ## Example
    ```python
    class Config:
        WTF_CSRF_ENABLED = False
    ```

    ## Use instead
    ```python
    class Config:
        WTF_CSRF_ENABLED = True

    class TestingConfig(Config):
        WTF_CSRF_ENABLED = False  # tests only
    ```

    ## Fix safety
    Review: clients that relied on the check being off (JavaScript posting
    without the X-CSRFToken header, forms without `form.hidden_tag()`) get
    400 until they send the token.

    ## References
    - https://flask-wtf.readthedocs.io/en/1.2.x/config/
    - CWE-352: Cross-Site Request Forgery (CSRF)
    """

    code = "H202"
    name = "csrf-disabled"
    category = "csrf"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    cwe = 352
    triggers = (b"csrf",)

    VALID = [
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('settings.Config')\n",
                 "settings.py": "class Config:\n    WTF_CSRF_ENABLED = True\n\nclass TestingConfig(Config):\n"
                                "    WTF_CSRF_ENABLED = False\n"}, findings=0),
        "from flask import Flask\nfrom flask_wtf import FlaskForm\napp = Flask(__name__)\nclass F(FlaskForm):\n"
        "    class Meta:\n        csrf = True\n",
    ]
    INVALID = [
        Example(
            "from flask import Flask\napp = Flask(__name__)\napp.config['WTF_CSRF_ENABLED'] = False  # for the SPA\n",
            "from flask import Flask\napp = Flask(__name__)\napp.config['WTF_CSRF_ENABLED'] = True  # for the SPA\n",
            unsafe=True,
        ),
        Example(
            "from flask_wtf import FlaskForm\nfrom flask import Blueprint\nbp = Blueprint('f', __name__)\n\n"
            "class Search(FlaskForm):\n    class Meta:\n        csrf = False\n\n"
            "class Other(FlaskForm):\n    class Meta:\n        csrf = False\n        locales = ['de']\n",
            "from flask_wtf import FlaskForm\nfrom flask import Blueprint\nbp = Blueprint('f', __name__)\n\n"
            "class Search(FlaskForm):\n    pass\n\n"
            "class Other(FlaskForm):\n    class Meta:\n        locales = ['de']\n",
            findings=2, unsafe=True,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path) or b"Meta" not in file.data:
            return
        visitor = _MetaCsrf()
        file.module.visit(visitor)
        for form, stmt, meta in visitor.found:
            if "test" in form.name.value.lower():
                continue
            yield self.finding(file, form, f"Form `{form.name.value}` switches off its CSRF token (class Meta: csrf = False)",
                               self._remove_meta(project, file, stmt, meta))

    def check_project(self, project):
        for setting in project.config_settings():
            if setting.key != "WTF_CSRF_ENABLED" or literal_value(setting.value) is not False:
                continue
            if is_test_path(setting.file.path) or _in_test_class(setting):
                continue
            yield self.finding(setting.file, setting.node, "WTF_CSRF_ENABLED = False: no request is checked for a CSRF token",
                               self._enable(project, setting))

    def _enable(self, project, setting) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            builder.edit_python(setting.file.path, lambda m: replace_nodes(m, {setting.value: cst.Name("True")}),
                                file=setting.file)
            builder.note("Forms must render form.hidden_tag() and JavaScript must send X-CSRFToken")
            return builder.build()

        return Fix("Turn CSRF protection back on", Safety.REVIEW, compute,
                   "clients that relied on the check being off get 400 until they send the token")

    def _remove_meta(self, project, file, stmt, meta) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            rest = [s for s in meta.body.body if s is not stmt]
            if rest:
                repl = {stmt: None}
            else:
                repl = {meta: cst.SimpleStatementLine([cst.Pass()], leading_lines=meta.leading_lines)}
            builder.edit_python(file.path, lambda m: replace_nodes(m, repl), file=file)
            return builder.build()

        return Fix("Remove `csrf = False` from the form's Meta", Safety.REVIEW, compute,
                   "clients posting this form must send the CSRF token (render form.hidden_tag())")


@register
class CsrfExemptSessionView(Rule):
    """A view that uses the session cookie is exempt from CSRF protection.

    ## What it does
    Finds `@csrf.exempt` on views that rely on the browser's cookies: they
    read the session or `current_user`, are `@login_required`, read
    `request.form`, or run after a `before_request` hook that reads the
    session. Views authenticated by a token are not reported: read
    from a header (`Authorization`, a webhook's secret header) or checked by a
    decorator of the project's own that answers 401/403 without it.

    ## Why is this bad?
    The exemption switches the token check off for exactly the kind of view
    CSRF attacks target: another site can make the logged-in user's browser
    send the request, cookies attached.

    ## Example
    ```python
    @app.route("/settings", methods=["POST"])
    @csrf.exempt
    @login_required
    def settings(): ...
    ```

    ## Use instead
    ```python
    @app.route("/settings", methods=["POST"])
    @login_required
    def settings(): ...
    ```
    and send the token from the form (`csrf_token()`) or the `X-CSRFToken`
    header.

    ## Fix safety
    Review: clients of the view must send the token once the exemption is gone.

    ## References
    - https://flask-wtf.readthedocs.io/en/1.2.x/csrf/#exclude-views-from-protection
    - CWE-352: Cross-Site Request Forgery (CSRF)
    """

    code = "H203"
    name = "csrf-exempt-session-view"
    category = "csrf"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    cwe = 352

    VALID = [
        "from flask import Flask, request\nfrom flask_wtf.csrf import CSRFProtect\napp = Flask(__name__)\n"
        "csrf = CSRFProtect(app)\n@app.route('/hook', methods=['POST'])\n@csrf.exempt\ndef hook():\n"
        "    return {'sig': request.headers.get('Authorization')}\n",
    ]
    INVALID = [
        Example(
            "from flask import Flask, session\nfrom flask_wtf.csrf import CSRFProtect\napp = Flask(__name__)\n"
            "csrf = CSRFProtect(app)\n@app.route('/settings', methods=['POST'])\n@csrf.exempt\ndef settings():\n"
            "    session['theme'] = 'dark'\n    return 'ok'\n",
            "from flask import Flask, session\nfrom flask_wtf.csrf import CSRFProtect\napp = Flask(__name__)\n"
            "csrf = CSRFProtect(app)\n@app.route('/settings', methods=['POST'])\ndef settings():\n"
            "    session['theme'] = 'dark'\n    return 'ok'\n",
            unsafe=True,
        ),
    ]

    def check_project(self, project):
        from ._webapp import _resolves_to_instance

        for view in all_views(project):
            facts = project.facts_for(view.file.path)
            for decorator in view.func.decorators:
                expr = decorator.decorator
                if not (isinstance(expr, cst.Attribute) and expr.attr.value == "exempt"):
                    continue
                if not _resolves_to_instance(project, facts, expr.value, CSRF_CLASSES):
                    continue
                if not state_changing(view) or not uses_session(view, project) or view_kind(view, project) != "session":
                    continue
                yield self.finding(view.file, decorator,
                                   f"View `{view.name}` uses the session cookie but is exempt from CSRF protection",
                                   self._fix(project, view, decorator))

    def _fix(self, project, view, decorator) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            decorators = [d for d in view.func.decorators if d is not decorator]
            builder.edit_python(view.file.path,
                                lambda m: replace_nodes(m, {view.func: view.func.with_changes(decorators=decorators)}),
                                file=view.file)
            return builder.build()

        return Fix("Remove the CSRF exemption", Safety.REVIEW, compute,
                   "the view's clients must send the CSRF token")
