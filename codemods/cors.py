"""H511 cors-wildcard-with-credentials: every origin may make credentialed
cross-origin requests (Flask-CORS defaults, hand-written headers)."""

from __future__ import annotations

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports, ensure_load_dotenv, replace_nodes
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import dotted_name, is_test_path, string_value
from hardener.rules import Example, Rule, register

from ._flaskapi import call_name, calls_in, is_true, keyword, string_list

CORS_CALLS = {"flask_cors.CORS", "flask_cors.cross_origin", "flask_cors.extension.CORS", "flask_cors.decorator.cross_origin"}
ORIGINS_ENV = "CORS_ORIGINS"
ORIGINS_EXPR = f'[origin.strip() for origin in os.environ.get("{ORIGINS_ENV}", "").split(",") if origin.strip()]'
DEV_ORIGIN = "http://localhost:3000"
ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"
WILDCARDS = {"*", ".*", r".*"}


def _is_wildcard(node: cst.BaseExpression | None) -> bool:
    values = string_list(node)
    return values is not None and any(v.strip() in WILDCARDS for v in values)


def _configured_origins(project) -> bool | None:
    """True when the app config sets CORS_ORIGINS to something else than ``*``,
    False when it sets ``*``, None when it does not set it."""
    result = None
    for setting in project.config_settings():
        if setting.key == "CORS_ORIGINS" and not is_test_path(setting.file.path):
            if _is_wildcard(setting.value):
                return False
            result = True
    return result


def _config_credentials(project) -> bool:
    return any(s.key == "CORS_SUPPORTS_CREDENTIALS" and is_true(s.value) and not is_test_path(s.file.path)
               for s in project.config_settings())


def uses_cookies(project) -> str | None:
    """What makes the app authenticate with cookies, if anything."""
    for facts in project.facts.values():
        if is_test_path(facts.file.path):
            continue
        if "flask.session" in facts.imports.values():
            return "the Flask session"
        if any(m == "flask_login" or m.startswith("flask_login.") for m in facts.imported_modules):
            return "Flask-Login"
    for setting in project.config_settings():
        if setting.key == "JWT_TOKEN_LOCATION" and "cookies" in (string_list(setting.value) or []):
            return "JWT cookies"
    return None


def _origin_nodes(call: cst.Call) -> tuple[list[cst.BaseExpression], bool]:
    """Wildcard origin values in the call (top level and per resource), and
    whether the default origins (``*``) apply somewhere."""
    wild: list[cst.BaseExpression] = []
    top = keyword(call, "origins")
    default_applies = top is None
    if top is not None and _is_wildcard(top.value):
        wild.append(top.value)
    resources = keyword(call, "resources")
    if resources is not None and isinstance(resources.value, cst.Dict):
        every_resource_sets_origins = True
        for element in resources.value.elements:
            options = element.value if isinstance(element, cst.DictElement) else None
            inner = None
            if isinstance(options, cst.Dict):
                for item in options.elements:
                    if isinstance(item, cst.DictElement) and string_value(item.key) == "origins":
                        inner = item.value
            if inner is None:
                every_resource_sets_origins = False
            elif _is_wildcard(inner):
                wild.append(inner)
        if every_resource_sets_origins and resources.value.elements:
            default_applies = False
    return wild, default_applies


def _call_credentials(call: cst.Call) -> bool:
    arg = keyword(call, "supports_credentials")
    if arg is not None and is_true(arg.value):
        return True
    resources = keyword(call, "resources")
    if resources is not None and isinstance(resources.value, cst.Dict):
        for element in resources.value.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.value, cst.Dict):
                for item in element.value.elements:
                    if isinstance(item, cst.DictElement) and string_value(item.key) == "supports_credentials" \
                            and is_true(item.value):
                        return True
    return False


class _HeaderWrites(cst.CSTVisitor):
    """``resp.headers["Access-Control-Allow-Origin"] = v`` and ``headers.add/set(...)``, per function."""

    def __init__(self):
        self.stack: list[dict] = []
        self.functions: list[dict] = []

    def visit_FunctionDef(self, node) -> None:
        self.stack.append({"origin": [], "credentials": False})

    def leave_FunctionDef(self, node) -> None:
        self.functions.append(self.stack.pop())

    def _record(self, header: str | None, value: cst.BaseExpression, node: cst.CSTNode) -> None:
        if header is None or not self.stack:
            return
        header = header.lower()
        if header == ACAO:
            self.stack[-1]["origin"].append((value, node))
        elif header == ACAC and (string_value(value) or "").lower() == "true" or header == ACAC and is_true(value):
            self.stack[-1]["credentials"] = True

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Subscript) and (dotted_name(t.value) or "").endswith("headers") and len(t.slice) == 1 \
                    and isinstance(t.slice[0].slice, cst.Index):
                self._record(string_value(t.slice[0].slice.value), node.value, node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("add", "set", "setdefault", "add_header") \
                and (dotted_name(func.value) or "").endswith("headers") and len(node.args) >= 2:
            self._record(string_value(node.args[0].value), node.args[1].value, node)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self._record(string_value(node.key), node.value, node)


def _reflects_origin(value: cst.BaseExpression) -> bool:
    for sub in [value, *calls_in(value)]:
        text = dotted_name(sub.func if isinstance(sub, cst.Call) else sub) or ""
        if text in ("request.origin",):
            return True
        if isinstance(sub, cst.Call) and text.endswith(("headers.get", "environ.get")) and sub.args \
                and (string_value(sub.args[0].value) or "").lower() in ("origin", "http_origin"):
            return True
    if isinstance(value, cst.Subscript) and (dotted_name(value.value) or "").endswith(("headers", "environ")):
        key = value.slice[0].slice.value if isinstance(value.slice[0].slice, cst.Index) else None
        return (string_value(key) or "").lower() in ("origin", "http_origin")
    return dotted_name(value) == "request.origin"


@register
class CorsWildcardWithCredentials(Rule):
    """Any origin may make credentialed cross-origin requests.

    ## What it does
    Finds Flask-CORS set up with every origin allowed, explicitly
    (`origins="*"`) or by default (`CORS(app)`, `@cross_origin()`, a
    `resources` entry without `origins`), on an app that sends credentials:
    `supports_credentials=True` (or `CORS_SUPPORTS_CREDENTIALS`), or that
    authenticates with cookies (the Flask session, Flask-Login, JWT cookies).
    It also reports hand-written `Access-Control-Allow-Origin` headers that
    echo the request's `Origin`, or send `*` next to
    `Access-Control-Allow-Credentials: true`.

    ## Why is this bad?
    With `supports_credentials=True` and the default origins, Flask-CORS
    answers every origin with its own name plus
    `Access-Control-Allow-Credentials: true`: any web site a logged-in user
    visits can call the API with the user's cookies and read the answers
    (account data, CSRF tokens). Echoing `Origin` by hand does the same.

    ## Example
    ```python
    CORS(app, supports_credentials=True)
    ```

    ## Use instead
    ```python
    CORS(app, supports_credentials=True,
         origins=[origin.strip() for origin in os.environ.get("CORS_ORIGINS", "").split(",") if origin.strip()])
    ```
    with `CORS_ORIGINS=https://app.example.com,https://admin.example.com` in
    `.env` or the deployment's environment. An unset variable allows no
    cross-origin caller at all.

    ## Fix safety
    Review: browsers on origins that are not listed lose access, which is
    the point, but also breaks front ends and third-party sites that relied
    on `*` (a single-page app on another host or port, mobile web views,
    partner dashboards). The fix writes `CORS_ORIGINS=http://localhost:3000`
    (a typical development front end) to `.env`: list the real front ends
    there before deploying. Hand-written headers are reported without a fix.

    ## References
    - https://flask-cors.readthedocs.io/en/latest/configuration.html
    - https://portswigger.net/web-security/cors
    - CWE-942: Permissive Cross-domain Policy with Untrusted Domains
    """

    code = "H511"
    name = "cors-wildcard-with-credentials"
    category = "cors"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    cwe = 942
    triggers = (b"flask_cors", b"Access-Control-Allow-Origin", b"access-control-allow-origin")

    VALID = [
        # an explicit allowlist
        "from flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\n"
        "CORS(app, origins=['https://app.example.com'], supports_credentials=True)\n",
        # a public API without credentials or cookies
        "from flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\nCORS(app)\n",
        # origins from the config
        "from flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\n"
        "app.config['CORS_ORIGINS'] = ['https://app.example.com']\nCORS(app, supports_credentials=True)\n",
        # an allowlist checked by hand
        "from flask import Flask, request\napp = Flask(__name__)\nALLOWED = {'https://a.example'}\n"
        "@app.after_request\ndef cors(resp):\n    if request.origin in ALLOWED:\n"
        "        resp.headers['Access-Control-Allow-Origin'] = 'https://a.example'\n    return resp\n",
    ]
    INVALID = [
        Example(
            "from flask import Flask\nfrom flask_cors import CORS\n\napp = Flask(__name__)\n"
            "CORS(app, supports_credentials=True)  # the SPA sends cookies\n",
            {
                "app.py": "from flask import Flask\nfrom flask_cors import CORS\nimport os\nfrom dotenv import load_dotenv\n\n"
                          "load_dotenv()\n\napp = Flask(__name__)\n"
                          f"CORS(app, supports_credentials=True, origins={ORIGINS_EXPR})  # the SPA sends cookies\n",
                ".env": f"{ORIGINS_ENV}={DEV_ORIGIN}\n",
                ".env.example": f"{ORIGINS_ENV}=https://app.example.com\n",
            },
            unsafe=True,
        ),
        Example(
            "from flask import Flask, session\nfrom flask_cors import cross_origin\napp = Flask(__name__)\n"
            "@app.route('/me')\n@cross_origin(origins='*')\ndef me():\n    return session.get('user', '')\n",
            "from flask import Flask, session\nfrom flask_cors import cross_origin\nimport os\nfrom dotenv import load_dotenv\n\n"
            "load_dotenv()\n\napp = Flask(__name__)\n"
            f"@app.route('/me')\n@cross_origin(origins={ORIGINS_EXPR})\ndef me():\n    return session.get('user', '')\n",
            unsafe=True,
        ),
        Example(
            "from flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\n"
            "CORS(app, resources={r'/api/*': {'origins': '*', 'supports_credentials': True}})\n",
            "from flask import Flask\nfrom flask_cors import CORS\nimport os\nfrom dotenv import load_dotenv\n\n"
            "load_dotenv()\n\napp = Flask(__name__)\n"
            f"CORS(app, resources={{r'/api/*': {{'origins': {ORIGINS_EXPR}, 'supports_credentials': True}}}})\n",
            unsafe=True,
        ),
        Example(
            "from flask import Flask, request\napp = Flask(__name__)\n@app.after_request\ndef cors(resp):\n"
            "    resp.headers['Access-Control-Allow-Origin'] = request.headers.get('Origin', '*')\n"
            "    resp.headers['Access-Control-Allow-Credentials'] = 'true'\n    return resp\n",
            None,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts = project.facts_for(file.path)
        if facts is None:
            return
        yield from self._flask_cors(file, project, facts)
        yield from self._hand_written(file)

    def _flask_cors(self, file, project, facts):
        cors_calls = [c for c in calls_in(file.module) if call_name(facts, c.func) in CORS_CALLS]
        if not cors_calls:
            return
        configured = _configured_origins(project)
        for call in cors_calls:
            wild, default_applies = _origin_nodes(call)
            if default_applies and configured:
                default_applies = False
            if not wild and not default_applies:
                continue
            credentials = _call_credentials(call) or _config_credentials(project)
            cookies = None if credentials else uses_cookies(project)
            if not credentials and not cookies:
                continue
            how = "`origins='*'`" if wild else "Flask-CORS's default"
            if credentials:
                message = (f"CORS allows every origin ({how}) with credentials: any web site can send requests "
                           f"with the user's cookies and read the responses")
                severity = Severity.HIGH
            else:
                message = (f"CORS allows every origin ({how}) on an app that authenticates with {cookies}: "
                           f"list the origins that may call it")
                severity = Severity.MEDIUM
            yield self.finding(file, call, message, self._fix(project, file, call, wild, default_applies),
                               severity=severity)

    def _hand_written(self, file):
        if b"ccess-" not in file.data:
            return
        visitor = _HeaderWrites()
        file.module.visit(visitor)
        for function in visitor.functions:
            for value, node in function["origin"]:
                reflected = _reflects_origin(value)
                if reflected:
                    message = "Access-Control-Allow-Origin echoes the request's Origin"
                    message += (" with credentials allowed: any web site can read authenticated responses"
                                if function["credentials"] else ": every web site is allowed")
                    message += "; compare the Origin to an allowlist (e.g. CORS_ORIGINS) before sending it back"
                    yield self.finding(file, node, message,
                                       severity=Severity.HIGH if function["credentials"] else Severity.MEDIUM)
                elif _is_wildcard(value) and function["credentials"]:
                    yield self.finding(
                        file, node,
                        "Access-Control-Allow-Origin `*` next to Access-Control-Allow-Credentials: browsers refuse "
                        "the pair, and 'fixing' it by echoing the Origin opens the API to every site; send an "
                        "allowlisted origin instead", severity=Severity.MEDIUM)

    def _fix(self, project, file, call: cst.Call, wild: list, default_applies: bool) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            expr = cst.parse_expression(ORIGINS_EXPR)
            replacements = {node: expr for node in wild}
            if default_applies:
                new_args = list(call.args)
                if new_args and new_args[-1].comma is cst.MaybeSentinel.DEFAULT:
                    new_args[-1] = new_args[-1].with_changes(
                        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                new_args.append(cst.Arg(expr, keyword=cst.Name("origins"),
                                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
                new_call = call.with_changes(args=new_args)
                if wild:
                    # replace the inner wildcards inside the new call too
                    new_call = new_call.visit(_Swap({id(n): expr for n in wild}))
                replacements = {call: new_call}
            builder.edit_python(file.path, lambda m: replace_nodes(m, replacements), file=file)
            builder.edit_python(file.path, lambda m: ensure_load_dotenv(add_imports(m, ("os", None))))
            builder.env_var(ORIGINS_ENV, DEV_ORIGIN, placeholder="https://app.example.com", secret=False)
            builder.dependency("python-dotenv")
            builder.note(f"Cross-origin callers are now limited to the comma-separated origins in {ORIGINS_ENV} "
                         f"(.env has {DEV_ORIGIN}, a typical development front end). Front ends, partner sites "
                         "and web views on other origins that relied on `*` stop getting CORS grants: list them")
            builder.followup(f"Set {ORIGINS_ENV} to your real front-end origins (scheme://host[:port], comma-separated) "
                             "in every environment")
            return builder.build()

        return Fix(f"Allow only the origins listed in {ORIGINS_ENV}", Safety.REVIEW, compute,
                   reason="browser clients on origins not listed in CORS_ORIGINS lose access")


class _Swap(cst.CSTTransformer):
    def __init__(self, by_id: dict[int, cst.BaseExpression]):
        super().__init__()
        self.by_id = by_id

    def on_leave(self, original_node, updated_node):
        return self.by_id.get(id(original_node), updated_node)
