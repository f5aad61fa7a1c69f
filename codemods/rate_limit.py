"""H521 auth-endpoint-without-rate-limit: login, registration, password-reset
and token endpoints that anyone can call as fast as they like."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_import_from, add_imports, insert_after_app, insert_after_imports, replace_nodes
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import dotted_name, is_test_path, module_name_for
from hardener.rules import Example, Rule, register

from ._flaskapi import View, all_views, calls_in, call_name, flask_apps, import_spec, keyword, module_level_instances
from ._webapp import app_scopes

LIMIT = "5 per minute"
LIMITER_CLASSES = {"flask_limiter.Limiter", "flask_limiter.extension.Limiter", "flask_limiter._extension.Limiter"}
STORAGE = 'storage_uri=os.environ.get("RATELIMIT_STORAGE_URI", "memory://")'

# Path segments of authentication endpoints.
AUTH_PATH = re.compile(
    r"(?:^|[/_\-.])(log-?in|log_in|sign-?in|sign_in|sign-?up|sign_up|register|registration|token|"
    r"forgot|password|passwd|otp|2fa|mfa)(?=$|[/_\-.<])",
    re.I,
)
# "reset" is a password reset where it is the path's first segment or the path names what
# is reset ("/reset/<token>", "/account/reset"); "/stats/reset" or "/reset-api-key" is not one.
RESET_PATH = re.compile(r"(?:^|[/_\-.])reset(?=$|[/_\-.<])", re.I)
RESET_OF = re.compile(r"^/?reset(?:$|/)|pass|pw|account|auth|user|login|credential|mail", re.I)
# "refresh" likewise refreshes a token at "/refresh" or "/auth/refresh", not at "/models/openai/refresh".
REFRESH_PATH = re.compile(r"(?:^|[/_\-.])refresh(?=$|[/_\-.<])", re.I)
REFRESH_OF = re.compile(r"^/?refresh(?:$|/)|token|jwt|auth|session|login|account|user", re.I)
# Calls that make a view an authentication endpoint whatever its path.
AUTH_CALLS = {"check_password_hash", "check_password", "verify_password", "checkpw", "create_access_token",
              "create_refresh_token", "login_user", "authenticate"}
LIMITED = re.compile(r"(\.limit|\.shared_limit|\.exempt|ratelimit|rate_limit|throttle)$", re.I)
LIMITED_BYTES = re.compile(rb"(?i)(?:limit|exempt|throttle)(?:[\s\\)]|#[^\n]*\n)*\(")  # such a name called: a necessary condition
WRITE_METHODS = {"POST", "PUT", "PATCH"}


def _decorator_name(decorator: cst.Decorator) -> str:
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    return dotted_name(node) or ""


def _auth_reason(project, view: View) -> str | None:
    """Why ``view`` is an authentication endpoint, or None."""
    methods = view.methods
    if methods is not None and not methods & WRITE_METHODS:
        return None  # pages that only show a form: the attempts go to the POST
    for path in view.paths:
        if AUTH_PATH.search(path) or RESET_PATH.search(path) and RESET_OF.search(path) \
                or REFRESH_PATH.search(path) and REFRESH_OF.search(path):
            return f"route {path!r}"
    facts = project.facts_for(view.file.path)
    for call in calls_in(view.func.body):
        name = call_name(facts, call.func)
        last = name.rsplit(".", 1)[-1] if name else (call.func.attr.value if isinstance(call.func, cst.Attribute) else "")
        if last in AUTH_CALLS or name in ("jwt.encode",):
            return f"calls {last}()"
    return None


@dataclass
class _Limiter:
    name: str
    path: str


@dataclass
class _Plan:
    """Where a new limiter goes: ``host`` module, and the app it is bound to."""

    host: str
    app: object  # AppObject
    bind_in_constructor: bool  # Limiter(..., app=app) right after the app is created


def _existing_limiters(project) -> list[_Limiter]:
    out = []
    for path, facts in sorted(project.facts.items()):
        if is_test_path(path):
            continue
        for name, _call, _stmt in module_level_instances(facts, LIMITER_CLASSES):
            out.append(_Limiter(name, path))
    return out


def _has_default_limits(project) -> bool:
    for path, facts in project.facts.items():
        if is_test_path(path):
            continue
        for _name, call, _stmt in module_level_instances(facts, LIMITER_CLASSES):
            for key in ("default_limits", "application_limits"):
                arg = keyword(call, key)
                if arg is not None and not (isinstance(arg.value, (cst.List, cst.Tuple)) and not arg.value.elements):
                    return True
    return any(s.key in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION") and not is_test_path(s.file.path)
               for s in project.config_settings())


def _limited_blueprints(project) -> set[str]:
    """Qualified names of blueprints given a limit as a whole: ``limiter.limit("...")(bp)``."""
    out = set()
    for path in project.model_paths:
        file = project.python[path]
        if not LIMITED_BYTES.search(file.data) or project.facts_for(path) is None:
            continue
        for name in file.memo("H521 limited", lambda file=file: [
                dotted_name(call.args[0].value) for call in calls_in(file.module)
                if isinstance(call.func, cst.Call) and LIMITED.search(dotted_name(call.func.func) or "") and call.args]):
            if name:
                out.add(_qualified(project, path, name))
    return out


def _qualified(project, path: str, name: str) -> str:
    facts = project.facts_for(path)
    head = name.split(".")[0]
    if facts is not None and head in facts.imports:
        return facts.qualify(cst.parse_expression(name)) or name
    return f"{module_name_for(path)}.{name}"


def _plan(project, view: View) -> _Plan | str:
    """Where to create a limiter for ``view`` when the project has none (or why not)."""
    apps = flask_apps(project)
    owner_apps = [a for a in apps if a.file is view.file and a.name in {r.owner for r in view.routes}]
    if owner_apps:
        app = owner_apps[0]
    else:
        distinct = {(a.file.path, a.factory.name.value if a.factory else None, a.name): a for a in apps}
        if len(distinct) != 1:
            return ("the project builds several Flask apps" if distinct else "no Flask app was found") + \
                ": create a Limiter for the right one and decorate the view by hand"
        app = next(iter(distinct.values()))
    if app.factory is None and app.file is view.file:
        return _Plan(app.file.path, app, True)
    host = _extensions_module(project, app)
    if host is None:
        if app.file is view.file:
            host = app.file.path
        else:
            return ("the views live outside the module that builds the app and the project has no extensions "
                    "module to hold a Limiter: create one (limiter = Limiter(get_remote_address)), call "
                    "limiter.init_app(app) and decorate the view")
    return _Plan(host, app, False)


def _extensions_module(project, app) -> str | None:
    """The module the app's extensions come from: ``from x.extensions import db`` + ``db.init_app(app)``
    (where the app is built or in a function it is handed to)."""
    for scope in app_scopes(project, app):
        for call in scope.calls:
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "init_app" and call.args \
                    and dotted_name(call.args[0].value) in scope.names:
                obj = dotted_name(call.func.value) or ""
                qualified = scope.facts.imports.get(obj.split(".")[0])
                if not qualified:
                    continue
                module = qualified.rpartition(".")[0]
                path = project.find_module(module) if module else None
                if path is not None and path != app.file.path and not is_test_path(path):
                    return path
    return None


def _limit_decorator(limiter: str, view: View) -> cst.Decorator:
    methods = view.methods
    args = [f'"{LIMIT}"']
    if methods is None or methods - WRITE_METHODS:
        writes = sorted((methods or {"POST"}) & WRITE_METHODS) or ["POST"]
        args.append("methods=[" + ", ".join(f'"{m}"' for m in writes) + "]")
    args.append("exempt_when=lambda: current_app.testing")
    return cst.Decorator(cst.parse_expression(f"{limiter}.limit({', '.join(args)})"))


def _insert_init(module: cst.Module, app, statement: cst.BaseStatement) -> cst.Module:
    """Put ``limiter.init_app(app)`` after the app's other ``init_app`` calls, else
    before ``return app`` in a factory, else right after the app is created."""

    def is_init(stmt) -> bool:
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or not isinstance(stmt.body[0], cst.Expr):
            return False
        call = stmt.body[0].value
        return isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "init_app" \
            and bool(call.args) and dotted_name(call.args[0].value) == app.name

    def insert(body: list) -> list | None:
        inits = [i for i, s in enumerate(body) if is_init(s)]
        if inits:
            return body[: inits[-1] + 1] + [statement] + body[inits[-1] + 1:]
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Return) \
                    and dotted_name(stmt.body[0].value) == app.name:
                return body[:i] + [statement] + body[i:]
        return None

    factory = app.factory.name.value if app.factory is not None else None
    if factory is None:
        body = insert(list(module.body))
        if body is not None:
            return module.with_changes(body=body)
        return insert_after_app(module, app.name, None, [statement])
    done = False

    class InFactory(cst.CSTTransformer):
        def leave_FunctionDef(self, original, updated):
            nonlocal done
            if done or original.name.value != factory or not isinstance(updated.body, cst.IndentedBlock):
                return updated
            body = insert(list(updated.body.body))
            if body is None:
                return updated
            done = True
            return updated.with_changes(body=updated.body.with_changes(body=body))

    new = module.visit(InFactory())
    return new if done else insert_after_app(module, app.name, factory, [statement])


@register
class AuthEndpointWithoutRateLimit(Rule):
    """Authentication endpoint without a rate limit.

    ## What it does
    Finds views that take credentials or hand out tokens (login,
    registration, password reset, token and refresh endpoints, found by
    their route path and by what they call: `check_password_hash`,
    `check_password`, `login_user`, `create_access_token`...) and that no
    Flask-Limiter limit covers: no `@limiter.limit(...)` on the view, no
    limit on its blueprint, no `default_limits`. A `reset` in the path is a
    password reset when it is the first segment (`/reset/<token>`) or the
    path names an account or password (`/account/reset`); `/stats/reset`
    is not one.

    ## Why is this bad?
    Without a limit an attacker can try thousands of passwords a minute
    against one account (brute force) or one password against every account
    (credential stuffing), create accounts in bulk and flood password-reset
    mail. A rate limit per client address makes these attacks slow enough to
    notice and block.

    ## Example
    ```python
    @app.route("/login", methods=["POST"])
    def login():
        user = User.query.filter_by(name=request.form["name"]).first()
        if user and check_password_hash(user.pw_hash, request.form["password"]):
            ...
    ```

    ## Use instead
    ```python
    limiter = Limiter(get_remote_address, app=app,
                      storage_uri=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"))

    @app.route("/login", methods=["POST"])
    @limiter.limit("5 per minute", exempt_when=lambda: current_app.testing)
    def login():
        ...
    ```
    In an app factory the limiter is created next to the other extensions
    (`limiter = Limiter(get_remote_address, storage_uri=...)`) and bound with
    `limiter.init_app(app)`. Views that also answer GET (the login page) are
    limited on POST only, so showing the form is not counted.

    ## Fix safety
    Review. The limit is counted per client address: behind a reverse proxy
    every client has the proxy's address until the app trusts
    `X-Forwarded-For` (Werkzeug's `ProxyFix`), and all users then share one
    budget. The in-memory storage is per process: with several workers set
    `RATELIMIT_STORAGE_URI` (for example `redis://...`). The limit does not
    apply while `app.testing` is true, so test suites that log in many times
    keep passing; a test of the limit itself turns TESTING off.

    ## References
    - https://flask-limiter.readthedocs.io/en/stable/
    - https://owasp.org/www-community/controls/Blocking_Brute_Force_Attacks
    - CWE-307: Improper Restriction of Excessive Authentication Attempts
    """

    code = "H521"
    name = "auth-endpoint-without-rate-limit"
    category = "password"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    cwe = 307

    VALID = [
        # already limited
        "import os\nfrom flask import Flask, current_app\nfrom flask_limiter import Limiter\n"
        "from flask_limiter.util import get_remote_address\n\napp = Flask(__name__)\n"
        "limiter = Limiter(get_remote_address, app=app)\n\n"
        "@app.route('/login', methods=['POST'])\n@limiter.limit('5 per minute')\ndef login():\n    return 'ok'\n",
        # a default limit covers every view
        "from flask import Flask\nfrom flask_limiter import Limiter\nfrom flask_limiter.util import get_remote_address\n"
        "app = Flask(__name__)\nlimiter = Limiter(get_remote_address, app=app, default_limits=['100 per hour'])\n"
        "@app.post('/token')\ndef token():\n    return 'ok'\n",
        # a login page that only answers GET, and an unrelated POST view
        "from flask import Flask\napp = Flask(__name__)\n@app.route('/login')\ndef login_page():\n    return 'form'\n"
        "@app.route('/notes', methods=['POST'])\ndef add_note():\n    return 'ok'\n",
        # tests are not the app
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                 "tests/test_login.py": "from app import app\n@app.post('/login')\ndef fake():\n    return ''\n"}, findings=0),
    ]
    INVALID = [
        Example(
            "from flask import Flask, request\nfrom werkzeug.security import check_password_hash\n\napp = Flask(__name__)\n\n\n"
            "@app.route('/login', methods=['GET', 'POST'])\ndef login():\n    return 'ok'\n\n\n"
            "@app.post('/session')\ndef session_create():\n"
            "    return str(check_password_hash('x', request.form['password']))\n",
            "from flask import current_app, Flask, request\nfrom werkzeug.security import check_password_hash\n"
            "import os\nfrom flask_limiter import Limiter\nfrom flask_limiter.util import get_remote_address\n\n"
            "app = Flask(__name__)\n"
            'limiter = Limiter(get_remote_address, app=app, storage_uri=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"))\n\n\n'
            "@app.route('/login', methods=['GET', 'POST'])\n"
            '@limiter.limit("5 per minute", methods=["POST"], exempt_when=lambda: current_app.testing)\n'
            "def login():\n    return 'ok'\n\n\n"
            "@app.post('/session')\n"
            '@limiter.limit("5 per minute", exempt_when=lambda: current_app.testing)\n'
            "def session_create():\n"
            "    return str(check_password_hash('x', request.form['password']))\n",
            findings=2, unsafe=True,
        ),
        Example(
            {
                "shop/__init__.py": "from flask import Flask\n\nfrom shop.extensions import db\n\n\n"
                                    "def create_app():\n    app = Flask(__name__)\n    db.init_app(app)\n\n"
                                    "    from shop.auth import bp\n    app.register_blueprint(bp)\n    return app\n",
                "shop/extensions.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
                "shop/auth.py": "from flask import Blueprint\nfrom flask_jwt_extended import create_access_token\n\n"
                                "from .extensions import db\n\nbp = Blueprint('auth', __name__)\n\n\n"
                                "@bp.route('/api/session', methods=['POST'])\ndef new_session():\n"
                                "    return {'token': create_access_token('me')}\n",
            },
            {
                "shop/__init__.py": "from flask import Flask\n\nfrom shop.extensions import limiter, db\n\n\n"
                                    "def create_app():\n    app = Flask(__name__)\n    db.init_app(app)\n"
                                    "    limiter.init_app(app)\n\n"
                                    "    from shop.auth import bp\n    app.register_blueprint(bp)\n    return app\n",
                "shop/extensions.py": "from flask_sqlalchemy import SQLAlchemy\nimport os\nfrom flask_limiter import Limiter\n"
                                      "from flask_limiter.util import get_remote_address\n\ndb = SQLAlchemy()\n"
                                      'limiter = Limiter(get_remote_address, storage_uri=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"))\n',
                "shop/auth.py": "from flask import current_app, Blueprint\nfrom flask_jwt_extended import create_access_token\n\n"
                                "from .extensions import db\nfrom .extensions import limiter\n\nbp = Blueprint('auth', __name__)\n\n\n"
                                "@bp.route('/api/session', methods=['POST'])\n"
                                '@limiter.limit("5 per minute", exempt_when=lambda: current_app.testing)\n'
                                "def new_session():\n"
                                "    return {'token': create_access_token('me')}\n",
            },
            unsafe=True,
        ),
        # blueprint views far from the app, and no extensions module: reported only
        Example(
            {"app.py": "from flask import Flask\nfrom views import bp\napp = Flask(__name__)\napp.register_blueprint(bp)\n",
             "views.py": "from flask import Blueprint\nbp = Blueprint('v', __name__)\n"
                         "@bp.route('/password/reset', methods=['POST'])\ndef reset():\n    return ''\n"},
            None,
        ),
    ]

    def check_project(self, project):
        if _has_default_limits(project):
            return
        limited_bps = _limited_blueprints(project)
        limiters = _existing_limiters(project)
        for view in all_views(project):
            if any(LIMITED.search(_decorator_name(d)) for d in view.func.decorators):
                continue
            if limited_bps and any(_qualified(project, view.file.path, r.owner) in limited_bps for r in view.routes):
                continue
            reason = _auth_reason(project, view)
            if reason is None:
                continue
            fix, why_not = None, ""
            if limiters:
                fix = self._fix(project, view, limiters[0], None)
            else:
                plan = _plan(project, view)
                if isinstance(plan, str):
                    why_not = f"; no automatic fix: {plan}"
                else:
                    fix = self._fix(project, view, _Limiter("limiter", plan.host), plan)
            yield self.finding(
                view.file, view.func.name,
                f"Authentication endpoint `{view.name}` ({reason}) has no rate limit: passwords and tokens "
                f"can be guessed at full speed{why_not}",
                fix,
            )

    def _fix(self, project, view: View, limiter: _Limiter, plan: _Plan | None) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            vf = view.file
            decorators = list(view.func.decorators)
            index = view.last_route_index + 1
            decorators.insert(index, _limit_decorator(limiter.name, view))
            new_func = view.func.with_changes(decorators=decorators)
            builder.edit_python(vf.path, lambda m: replace_nodes(m, {view.func: new_func}), file=vf)
            builder.edit_python(vf.path, lambda m: add_imports(m, ("flask", "current_app")))
            if limiter.path != vf.path:
                spec = import_spec(project, vf.path, limiter.path)
                builder.edit_python(vf.path, lambda m: add_import_from(m, spec[0], limiter.name, spec[1]))
            if plan is not None:
                self._create(builder, project, plan, limiter)
                builder.dependency("flask-limiter")
                builder.note("Flask-Limiter now limits this endpoint per client address; the storage comes from "
                             "RATELIMIT_STORAGE_URI (in-memory by default, which is per process: use Redis or "
                             "Memcached with several workers)")
            builder.note(f"`{view.name}` allows {LIMIT} per client address (not counted while app.testing is on). "
                         "Behind a reverse proxy, apply werkzeug's ProxyFix first or every client shares the "
                         "proxy's address")
            return builder.build()

        return Fix(f"Limit `{view.name}` to {LIMIT} per client with Flask-Limiter", Safety.REVIEW, compute,
                   reason="clients behind one address (a proxy, an office NAT) share the limit; scripts and test "
                          "suites that log in more often get 429")

    @staticmethod
    def _create(builder: ChangeBuilder, project, plan: _Plan, limiter: _Limiter) -> None:
        app = plan.app
        imports = (("flask_limiter", "Limiter"), ("flask_limiter.util", "get_remote_address"), ("os", None))
        if plan.bind_in_constructor:
            stmt = cst.parse_statement(f"{limiter.name} = Limiter(get_remote_address, app={app.name}, {STORAGE})\n")
            builder.edit_python(plan.host, lambda m: add_imports(insert_after_app(m, app.name, None, [stmt]), *imports))
            return
        stmt = cst.parse_statement(f"{limiter.name} = Limiter(get_remote_address, {STORAGE})\n")

        def create(module: cst.Module) -> cst.Module:
            if plan.host == app.file.path:
                module = insert_after_imports(module, [stmt])
            else:
                module = module.with_changes(body=list(module.body) + [stmt])
            return add_imports(module, *imports)

        builder.edit_python(plan.host, create)
        init = cst.parse_statement(f"{limiter.name}.init_app({app.name})\n")
        builder.edit_python(app.file.path, lambda m: _insert_init(m, app, init))
        if plan.host != app.file.path:
            spec = import_spec(project, app.file.path, plan.host)
            builder.edit_python(app.file.path, lambda m: add_import_from(m, spec[0], limiter.name, spec[1]))
