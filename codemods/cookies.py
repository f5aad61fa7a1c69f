"""H221 session-cookie-insecure and H222 set-cookie-insecure: cookie flags.

JWT cookie flags (JWT_COOKIE_SECURE, JWT_COOKIE_CSRF_PROTECT) are reported by
H533 (jwt_cookies.py): H221 lists the keys it covers in ``covers_settings``,
so each setting is reported by one rule only.
"""

from __future__ import annotations

import re

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports, insert_after_statement, replace_nodes
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import AppObject, ConfigClass, ConfigLoad, ConfigSetting, ModuleFacts, is_test_path, literal_value
from hardener.rules import Example, Rule, register

from ._flaskapi import keyword
from ._webapp import app_scopes, insert_in_scope, production_apps

SECURE_VALUES = {
    "SESSION_COOKIE_SECURE": "True",
    "SESSION_COOKIE_HTTPONLY": "True",
    "SESSION_COOKIE_SAMESITE": '"Lax"',
    "PERMANENT_SESSION_LIFETIME": "timedelta(hours=12)",
}
REMEMBER_VALUES = {
    "REMEMBER_COOKIE_SECURE": "True",
    "REMEMBER_COOKIE_HTTPONLY": "True",
    "REMEMBER_COOKIE_SAMESITE": '"Lax"',
}
# Keys whose framework default is already safe: reported only when set to an insecure value.
SAFE_BY_DEFAULT = {"SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_HTTPONLY"}
RELAXED_CLASS = re.compile(r"dev|test|local", re.I)


def _insecure(key: str, value) -> bool:
    if key.endswith(("_SECURE", "_HTTPONLY")):
        return value is False or value is None  # None turns the flag off too
    if key.endswith("_SAMESITE"):
        return value is None or (isinstance(value, str) and value.lower() not in ("lax", "strict"))
    return False


def _uses_session(project) -> bool:
    """Does anything set the session cookie: flask.session, Flask-Login, Flask-WTF, or pages with forms?"""
    for facts in project.facts.values():
        if is_test_path(facts.file.path):
            continue
        if any(q == "flask.session" or q.startswith(("flask_login", "flask_wtf", "flask_session"))
               for q in facts.imports.values()):
            return True
    return any(not is_test_path(p) for p in project.templates)


def _uses_flask_login(project) -> bool:
    return any(b"flask_login" in f.data for p, f in project.python.items() if not is_test_path(p))


def _app_loads(project, app: AppObject) -> list[tuple[ModuleFacts, ConfigLoad]]:
    """The configuration loads of the app's own code (where it is built and in
    the functions it is handed to), each with the facts of its module."""
    return [(scope.facts, load) for scope in app_scopes(project, app) for load in scope.facts.loads
            if load.owner == scope.name and load.scope is scope.function]


def _app_settings(project, app: AppObject) -> dict[str, ConfigSetting]:
    """key -> the setting the app's own code makes (where it is built first,
    then in the functions it is handed to)."""
    out: dict[str, ConfigSetting] = {}
    for scope in app_scopes(project, app):
        for setting in scope.facts.settings:
            if setting.owner == scope.name and setting.scope is scope.function and setting.kind != "run":
                out.setdefault(setting.key, setting)
    return out


class Target:
    """Where an app's configuration lives and how a new key is written there."""

    def __init__(self, kind: str, file, node, settings: dict[str, ConfigSetting], owner: str | None = None):
        self.kind = kind  # class | item | update | module | new
        self.file = file
        self.node = node  # ClassDef, the anchor statement, the update Call, or None
        self.settings = settings  # key -> the setting in force there
        self.owner = owner
        self.unresolved_loads = False  # the app also loads settings we cannot read

    def describe(self) -> str:
        return {"class": f"config class {self.owner}", "module": f"config module {self.file.path}",
                "update": f"`{self.owner}.config.update(...)`", "item": f"`{self.owner}.config[...]`",
                "new": f"`{self.owner}.config`"}[self.kind]


def _root_classes(classes: list[ConfigClass]) -> list[ConfigClass]:
    roots = []
    for cls in classes:
        top = cls
        while True:
            parents = [p for p in top.parents if p.settings or p.parents]
            if len(parents) != 1:
                break
            top = parents[0]
        if top not in roots:
            roots.append(top)
    return roots


def config_targets(project, app: AppObject) -> list[Target]:
    app_settings = _app_settings(project, app)
    loaded_classes, loaded_modules = [], []
    for facts, load in _app_loads(project, app):
        for target in project._load_targets(facts, load):
            if isinstance(target, ConfigClass) and not target.testing:
                loaded_classes.append(target)
            elif isinstance(target, str):
                loaded_modules.append(target)
    if not loaded_classes and not loaded_modules and project.unresolved_loads:
        loaded_classes = [c for c in project.loaded_config_classes() if not c.testing]
    targets = []
    for root in _root_classes(loaded_classes):
        settings: dict[str, ConfigSetting] = {}
        for cls in [root] + [c for c in loaded_classes if c is not root]:
            for key in list(SECURE_VALUES) + list(REMEMBER_VALUES):
                found = cls.lookup(key)
                if found is not None and (cls is root or key not in settings):
                    settings.setdefault(key, found)
        settings.update(app_settings)
        targets.append(Target("class", root.file, root.node, settings, root.name))
    for path in loaded_modules:
        other = project.facts_for(path)
        if other is None:
            continue
        settings = dict(other.module_settings)
        settings.update(app_settings)
        targets.append(Target("module", other.file, None, settings))
    if targets:
        return targets
    # new keys go where the app's code already sets some: in the first of its scopes that does
    first = next(iter(app_settings.values()), None)
    updates = [s for s in app_settings.values() if s.kind == "update" and first.file is s.file and first.scope is s.scope]
    items = [s for s in app_settings.values() if s.kind == "item" and first.file is s.file and first.scope is s.scope]
    if updates and isinstance(updates[-1].node, cst.Arg):
        call = _enclosing_call(updates[-1].file.module, updates[-1].node)
        if call is not None:
            return [Target("update", updates[-1].file, call, app_settings, updates[-1].owner)]
    if items:
        last = max(items, key=lambda s: s.file.position(s.statement).start.line)
        return [Target("item", last.file, last.statement, app_settings, last.owner)]
    target = Target("new", app.file, None, app_settings, app.name)
    target.unresolved_loads = bool(_app_loads(project, app))
    return [target]


def _enclosing_call(module: cst.Module, arg: cst.Arg) -> cst.Call | None:
    found = []

    class V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if any(a is arg for a in node.args):
                found.append(node)

    module.visit(V())
    return found[0] if found else None


def _quote_of(module: cst.Module, statement) -> str:
    code = module.code_for_node(statement) if statement is not None else ""
    m = re.search(r"config\[\s*(['\"])", code)
    return m.group(1) if m else '"'


def write_settings(module: cst.Module, target: Target, app: AppObject, values: dict[str, str]) -> cst.Module:
    """Add ``values`` (key -> Python source) where ``target`` keeps its settings."""
    if target.kind == "class":
        new = [cst.parse_statement(f"{k} = {v}\n") for k, v in values.items()]

        class T(cst.CSTTransformer):
            def leave_ClassDef(self, original, updated):
                if original is not target.node:
                    return updated
                body = [s for s in updated.body.body
                        if not (isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Pass))]
                return updated.with_changes(body=updated.body.with_changes(body=body + new))

        return module.visit(T())
    if target.kind == "module":
        new = [cst.parse_statement(f"{k} = {v}\n") for k, v in values.items()]
        return module.with_changes(body=list(module.body) + new)
    if target.kind == "update":
        call = target.node

        class U(cst.CSTTransformer):
            def leave_Call(self, original, updated):
                if original is not call:
                    return updated
                args = list(updated.args)
                if args and args[-1].keyword is None and isinstance(args[-1].value, cst.Dict):
                    d = args[-1].value
                    elements = list(d.elements)
                    sep = elements[0].comma if len(elements) > 1 and elements[0].comma != cst.MaybeSentinel.DEFAULT \
                        else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                    last_comma = elements[-1].comma if elements else cst.MaybeSentinel.DEFAULT
                    elements = [e.with_changes(comma=sep) for e in elements[:-1]] + (
                        [elements[-1].with_changes(comma=sep)] if elements else [])
                    added = [cst.DictElement(cst.SimpleString(f'"{k}"'), cst.parse_expression(v), comma=sep)
                             for k, v in values.items()]
                    added[-1] = added[-1].with_changes(comma=last_comma)
                    args[-1] = args[-1].with_changes(value=d.with_changes(elements=elements + added))
                    return updated.with_changes(args=args)
                sep = args[0].comma if len(args) > 1 and args[0].comma != cst.MaybeSentinel.DEFAULT \
                    else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                last_comma = args[-1].comma if args else cst.MaybeSentinel.DEFAULT
                args = [a.with_changes(comma=sep) for a in args]
                eq = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
                added = [cst.Arg(cst.parse_expression(v), keyword=cst.Name(k), equal=eq, comma=sep) for k, v in values.items()]
                added[-1] = added[-1].with_changes(comma=last_comma)
                return updated.with_changes(args=args + added)

        return module.visit(U())
    quote = _quote_of(module, target.node)
    name = target.owner if target.kind == "item" else app.name  # the app's name where the item is set
    new = [cst.parse_statement(f"{name}.config[{quote}{k}{quote}] = {v}\n") for k, v in values.items()]
    if target.kind == "item":
        anchor = target.node

        return insert_after_statement(module, anchor, new)
    factory = app.factory.name.value if app.factory is not None else None
    # settings that come from somewhere we cannot read (environment, a file) must keep winning:
    # then ours go right after the app is created, before those loads
    after = () if target.unresolved_loads else (r"\.config\b",)
    return insert_in_scope(module, app.name, factory, new, after=after)


@register
class SessionCookieInsecure(Rule):
    """The session (and remember-me) cookie flags are missing or insecure.

    ## What it does
    Checks the configuration the production app loads for
    `SESSION_COOKIE_SECURE`, `SESSION_COOKIE_HTTPONLY`,
    `SESSION_COOKIE_SAMESITE` and `PERMANENT_SESSION_LIFETIME`, and with
    Flask-Login for `REMEMBER_COOKIE_SECURE`, `REMEMBER_COOKIE_HTTPONLY` and
    `REMEMBER_COOKIE_SAMESITE`. Missing keys are reported once per place the
    configuration lives; keys set to an insecure value are reported where they
    are set (development and test config classes are left alone). JWT cookie
    flags are reported by H533.

    ## Why is this bad?
    Without `Secure` the session cookie also travels over plain HTTP, where
    anyone on the network can read it and take over the session. Without
    `HttpOnly` an XSS bug can read it. Without `SameSite` browsers attach it
    to requests other sites make (CSRF). Flask's permanent sessions last 31
    days by default.

    ## Example
    ```python
    class Config:
        SECRET_KEY = os.environ["SECRET_KEY"]
    ```

    ## Use instead
    ```python
    class Config:
        SECRET_KEY = os.environ["SECRET_KEY"]
        SESSION_COOKIE_SECURE = True
        SESSION_COOKIE_SAMESITE = "Lax"
        PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    ```

    ## Fix safety
    Safe: browsers accept Secure cookies from http://localhost and
    http://127.0.0.1, and Flask's test client sends them over http too, so
    development and tests keep working. An explicit `"Strict"` is kept.
    Permanent sessions end after 12 hours instead of 31 days. The settings go
    into the config class the production app loads (its base class shared with
    the other configurations), or next to the app's existing `app.config`
    settings; a key that is already set is never added twice.

    ## References
    - https://flask.palletsprojects.com/en/latest/security/#set-cookie-options
    - https://flask-login.readthedocs.io/en/latest/#cookie-settings
    - CWE-614: Sensitive Cookie in HTTPS Session Without 'Secure' Attribute
    """

    code = "H221"
    name = "session-cookie-insecure"
    category = "cookie"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    cwe = 614
    covers_settings = tuple(SECURE_VALUES) + tuple(REMEMBER_VALUES)

    VALID = [
        "from datetime import timedelta\nfrom flask import Flask\napp = Flask(__name__)\n"
        "app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE='Strict', "
        "PERMANENT_SESSION_LIFETIME=timedelta(hours=1))\n",
        # development config may relax Secure; test config too
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('settings.DevConfig')\n",
                 "settings.py": "from datetime import timedelta\nclass Config:\n    SESSION_COOKIE_SECURE = True\n"
                                "    SESSION_COOKIE_SAMESITE = 'Lax'\n    PERMANENT_SESSION_LIFETIME = timedelta(hours=2)\n"
                                "class DevConfig(Config):\n    SESSION_COOKIE_SECURE = False\n"}, findings=0),
        # a JSON API that never uses the session, Flask-Login, Flask-WTF or templates
        "from flask import Flask, jsonify\napp = Flask(__name__)\n@app.route('/api')\ndef api():\n    return jsonify(ok=True)\n",
    ]
    INVALID = [
        Example(
            {"app.py": "from flask import Flask, session\napp = Flask(__name__)\napp.config.from_object('settings.DevelopmentConfig')\n",
             "settings.py": "class Config:\n    SECRET_KEY_FILE = '/run/key'\n\nclass DevelopmentConfig(Config):\n"
                            "    DEBUG = False\n\nclass TestingConfig(Config):\n    TESTING = True\n"},
            {"settings.py": "from datetime import timedelta\n\nclass Config:\n    SECRET_KEY_FILE = '/run/key'\n"
                            "    SESSION_COOKIE_SECURE = True\n    SESSION_COOKIE_SAMESITE = \"Lax\"\n"
                            "    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)\n\n"
                            "class DevelopmentConfig(Config):\n    DEBUG = False\n\nclass TestingConfig(Config):\n"
                            "    TESTING = True\n"},
        ),
        Example(
            "from flask import Flask, session\napp = Flask(__name__)\napp.config['SECRET_KEY_FILE'] = '/run/key'\n"
            "app.config['SESSION_COOKIE_SAMESITE'] = None\n\n@app.route('/')\ndef index():\n    return 'hi'\n",
            "from flask import Flask, session\nfrom datetime import timedelta\n\napp = Flask(__name__)\n"
            "app.config['SECRET_KEY_FILE'] = '/run/key'\n"
            "app.config['SESSION_COOKIE_SAMESITE'] = \"Lax\"\napp.config['SESSION_COOKIE_SECURE'] = True\n"
            "app.config['PERMANENT_SESSION_LIFETIME'] = timedelta(hours=12)\n\n@app.route('/')\ndef index():\n    return 'hi'\n",
            findings=2,
        ),
        # Flask-Login: the remember-me cookie too, added to the existing update() call
        Example(
            "from flask import Flask\nfrom flask_login import LoginManager\napp = Flask(__name__)\n"
            "app.config.update(SECRET_KEY_FILE='/run/key', SESSION_COOKIE_SECURE=True)\nLoginManager(app)\n",
            "from flask import Flask\nfrom flask_login import LoginManager\nfrom datetime import timedelta\n\n"
            "app = Flask(__name__)\n"
            "app.config.update(SECRET_KEY_FILE='/run/key', SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE=\"Lax\", "
            "PERMANENT_SESSION_LIFETIME=timedelta(hours=12), REMEMBER_COOKIE_SECURE=True, "
            "REMEMBER_COOKIE_SAMESITE=\"Lax\")\nLoginManager(app)\n",
        ),
    ]

    def check_project(self, project):
        if not _uses_session(project):
            return
        keys = dict(SECURE_VALUES)
        if _uses_flask_login(project):
            keys.update(REMEMBER_VALUES)
        seen: set[tuple[str, int]] = set()
        for app in production_apps(project):
            for target in config_targets(project, app):
                missing = {}
                for key, value in keys.items():
                    setting = target.settings.get(key)
                    if setting is None:
                        if key not in SAFE_BY_DEFAULT:
                            missing[key] = value
                        continue
                    literal = literal_value(setting.value)
                    if not _insecure(key, literal) or is_test_path(setting.file.path):
                        continue
                    if setting.kind == "class" and RELAXED_CLASS.search(setting.owner or ""):
                        continue
                    mark = (setting.file.path, id(setting.node))
                    if mark in seen:
                        continue
                    seen.add(mark)
                    yield self.finding(setting.file, setting.node, f"{key} = {literal!r}: {self._why(key)}",
                                       self._replace(project, setting, value))
                if missing:
                    # one finding per place; at the class, else at the app (a setting's own line
                    # may carry an insecure-value finding)
                    node = target.node.name if target.kind == "class" else app.statement
                    file = target.file if target.kind in ("class", "module") else app.file
                    if target.kind == "module":
                        node = target.file.module.body[0] if target.file.module.body else app.statement
                        file = target.file if target.file.module.body else app.file
                    mark = ("missing", file.path, id(node))
                    if mark in seen:
                        continue
                    seen.add(mark)
                    yield self.finding(
                        file, node,
                        f"Session cookie settings missing in {target.describe()}: {', '.join(missing)}",
                        self._add(project, app, target, missing),
                    )

    @staticmethod
    def _why(key: str) -> str:
        if key.endswith("_SECURE"):
            return "the cookie also travels over plain HTTP"
        if key.endswith("_HTTPONLY"):
            return "scripts (and XSS) can read the cookie"
        return "other sites' requests carry the cookie"

    def _replace(self, project, setting, value: str) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            builder.edit_python(setting.file.path,
                                lambda m: replace_nodes(m, {setting.value: cst.parse_expression(value)}), file=setting.file)
            return builder.build()

        return Fix(f"Set {setting.key} = {value}", Safety.SAFE, compute)

    def _add(self, project, app, target: Target, missing: dict[str, str]) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            builder.edit_python(target.file.path, lambda m: write_settings(m, target, app, missing), file=target.file)
            if "PERMANENT_SESSION_LIFETIME" in missing:
                builder.edit_python(target.file.path, lambda m: add_imports(m, ("datetime", "timedelta")))
                builder.note("Permanent sessions now last 12 hours (Flask's default is 31 days)")
            return builder.build()

        return Fix(f"Add {', '.join(missing)} to {target.describe()}", Safety.SAFE, compute)


COOKIE_FLAGS = {"secure": "True", "httponly": "True", "samesite": '"Lax"'}


class _SetCookies(cst.CSTVisitor):
    def __init__(self):
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "set_cookie" and _is_response_call(node):
            self.calls.append(node)


def _is_response_call(call: cst.Call) -> bool:
    """Werkzeug's ``Response.set_cookie(key, value, ...)``, not an unrelated API of the
    same name (``http.cookiejar.CookieJar.set_cookie(cookie)``, a class's own method)."""
    receiver = call.func.value
    if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls", "jar", "cookiejar"):
        return False
    if any(a.keyword is not None and a.keyword.value in ("key", "value") for a in call.args):
        return True
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if not positional:
        return False
    return len(positional) >= 2 or isinstance(positional[0].value, (cst.SimpleString, cst.FormattedString))


def _cookie_problems(call: cst.Call) -> dict[str, str]:
    """flag -> the value to set, for flags missing or insecure (an explicit 'Strict' stays)."""
    if any(a.star for a in call.args):
        return {}
    positional = [a for a in call.args if a.keyword is None]
    out = {}
    for flag, value in COOKIE_FLAGS.items():
        arg = keyword(call, flag)
        index = {"secure": 6, "httponly": 7, "samesite": 8}[flag]  # Response.set_cookie's positional order
        if arg is None and len(positional) > index:
            arg = positional[index]
        if arg is None:
            out[flag] = value
            continue
        literal = literal_value(arg.value)
        if flag == "samesite":
            if literal is None or (isinstance(literal, str) and literal.lower() not in ("lax", "strict")):
                out[flag] = value
        elif literal is False:
            out[flag] = value
    return out


@register
class SetCookieInsecure(Rule):
    """`set_cookie()` without Secure, HttpOnly or SameSite.

    ## What it does
    Finds `response.set_cookie(...)` calls that leave out `secure=True`,
    `httponly=True` or `samesite="Lax"` (or set them to insecure values).

    ## Why is this bad?
    Werkzeug's defaults are the insecure ones: the cookie travels over plain
    HTTP, scripts can read it and other sites' requests carry it.

    ## Example
    ```python
    resp.set_cookie("theme", theme)
    ```

    ## Use instead
    ```python
    resp.set_cookie("theme", theme, secure=True, httponly=True, samesite="Lax")
    ```

    ## Fix safety
    Safe unless the project's JavaScript reads cookies (`document.cookie`):
    then it is review, since `httponly=True` hides the cookie from scripts. An
    explicit `samesite="Strict"` is kept.

    ## References
    - https://werkzeug.palletsprojects.com/en/latest/wrappers/#werkzeug.wrappers.Response.set_cookie
    - https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#security
    - CWE-614: Sensitive Cookie in HTTPS Session Without 'Secure' Attribute
    """

    code = "H222"
    name = "set-cookie-insecure"
    category = "cookie"
    severity = Severity.LOW
    confidence = Confidence.HIGH
    cwe = 614
    triggers = (b"set_cookie",)

    VALID = [
        # http.cookiejar's set_cookie(cookie) is another API
        "from flask import Flask\nimport http.cookiejar\napp = Flask(__name__)\njar = http.cookiejar.CookieJar()\n"
        "class Jar(http.cookiejar.CookieJar):\n    def add(self, cookie):\n        self.set_cookie(cookie)\n"
        "def load(store, cookie):\n    store.set_cookie(cookie)\n",
        "from flask import Flask, make_response\napp = Flask(__name__)\n@app.route('/')\ndef i():\n"
        "    r = make_response('x')\n    r.set_cookie('a', 'b', secure=True, httponly=True, samesite='Strict')\n    return r\n",
    ]
    INVALID = [
        Example(
            "from flask import Flask, make_response\napp = Flask(__name__)\n@app.route('/')\ndef i():\n"
            "    r = make_response('x')\n    r.set_cookie('a', 'b', max_age=60, samesite='Strict')\n    return r\n",
            "from flask import Flask, make_response\napp = Flask(__name__)\n@app.route('/')\ndef i():\n"
            "    r = make_response('x')\n    r.set_cookie('a', 'b', max_age=60, samesite='Strict', secure=True, httponly=True)\n"
            "    return r\n",
        ),
        Example(
            "from flask import Flask, make_response\napp = Flask(__name__)\n@app.route('/')\ndef i():\n"
            "    r = make_response('x')\n    r.set_cookie('a', 'b', secure=False)\n    return r\n",
            "from flask import Flask, make_response\napp = Flask(__name__)\n@app.route('/')\ndef i():\n"
            "    r = make_response('x')\n    r.set_cookie('a', 'b', secure=True, httponly=True, samesite=\"Lax\")\n    return r\n",
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path) or not (b"flask" in file.data or b"werkzeug" in file.data):
            return
        visitor = _SetCookies()
        file.module.visit(visitor)
        for call in visitor.calls:
            problems = _cookie_problems(call)
            if problems:
                yield self.finding(file, call, f"set_cookie() without {', '.join(f'{k}={v}' for k, v in problems.items())}",
                                   self._fix(project, file, call, problems))

    def _fix(self, project, file, call: cst.Call, problems: dict[str, str]) -> Fix:
        reads_cookies = "httponly" in problems and any(
            "document.cookie" in t.text for t in project.templates.values()) or any(
            b"document.cookie" in (project.workspace.read(p) or b"") for p in _static_js(project))

        def compute():
            builder = ChangeBuilder(project)
            args = list(call.args)
            eq = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
            comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            for flag, value in problems.items():
                existing = [i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == flag]
                if existing:
                    i = existing[0]
                    args[i] = args[i].with_changes(value=cst.parse_expression(value))
                else:
                    last = args[-1].comma
                    args[-1] = args[-1].with_changes(comma=comma)
                    args.append(cst.Arg(cst.parse_expression(value), keyword=cst.Name(flag), equal=eq, comma=last))
            builder.edit_python(file.path, lambda m: replace_nodes(m, {call: call.with_changes(args=args)}), file=file)
            return builder.build()

        if reads_cookies:
            return Fix("Add the missing cookie flags", Safety.REVIEW, compute,
                       "the project's JavaScript reads document.cookie: httponly hides cookies from it")
        return Fix("Add the missing cookie flags", Safety.SAFE, compute)


def _static_js(project) -> list[str]:
    dirs = {t.rsplit("/templates/", 1)[0] + "/static" if "/templates/" in t else "static" for t in project.templates}
    out = []
    for d in dirs:
        root = project.workspace.abspath(d)
        if root.is_dir():
            out += [f"{d}/{p.relative_to(root).as_posix()}" for p in root.rglob("*.js")][:200]
    return out
