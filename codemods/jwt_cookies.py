"""H533 jwt-cookie-insecure: Flask-JWT-Extended tokens kept in cookies that
travel over plain HTTP or without CSRF protection.

One finding per setting across rules: the cookie-flags rule (H221) may cover
these settings too. A rule that does sets ``covers_settings`` (a collection of
config keys) on its class; H533 then leaves those keys to it. Other rules can
import ``JWT_COOKIE_KEYS`` to skip them instead.
"""

from __future__ import annotations

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports, insert_after_statement, replace_nodes
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import is_test_path, literal_value
from hardener.rules import Example, Rule, get_rule, register

from ._flaskapi import string_list

JWT_COOKIE_KEYS = ("JWT_COOKIE_SECURE", "JWT_COOKIE_CSRF_PROTECT")
COOKIE_RULE = "H221"
SECURE_EXPR = 'os.environ.get("JWT_COOKIE_SECURE", "true").lower() == "true"'


def left_to_cookie_rule(key: str) -> bool:
    """Whether the cookie-flags rule reports ``key`` itself."""
    rule = get_rule(COOKIE_RULE)
    return rule is not None and key in getattr(rule, "covers_settings", ())


def _cookie_locations(project):
    for setting in project.config_settings():
        if setting.key != "JWT_TOKEN_LOCATION" or is_test_path(setting.file.path):
            continue
        if setting.kind == "class" and "test" in (setting.owner or "").lower():
            continue
        if "cookies" in (string_list(setting.value) or []):
            yield setting


def _lookup(project, location, key: str):
    """The setting of ``key`` that applies where ``location`` is set."""
    if location.kind == "class":
        for cls in project.config_classes:
            if cls.name == location.owner and cls.file is location.file:
                found = cls.lookup(key)
                if found is not None:
                    return found
    for setting in project.config_settings():
        if setting.key != key or is_test_path(setting.file.path):
            continue
        if setting.kind == "class" and "test" in (setting.owner or "").lower():
            continue
        return setting
    return None


def _add_setting_after(module: cst.Module, location, key: str, expr: str) -> cst.Module:
    """Add ``key = expr`` next to ``location`` in the same style (class attribute,
    ``app.config[...]``, ``config.update(...)`` keyword or dict entry)."""
    value = cst.parse_expression(expr)
    if location.kind in ("class", "module", "item"):
        if location.kind == "item":
            new = cst.parse_statement(f'{location.owner}.config["{key}"] = {expr}\n')
        else:
            new = cst.parse_statement(f"{key} = {expr}\n")
        anchor = location.statement
        return insert_after_statement(module, anchor, [new])
    anchor = location.node

    class InCall(cst.CSTTransformer):
        def on_leave(self, original, updated):
            if isinstance(original, cst.Call) and any(a is anchor for a in original.args):
                args = list(updated.args)
                i = [j for j, a in enumerate(original.args) if a is anchor][0]
                comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                new_arg = cst.Arg(value, keyword=cst.Name(key),
                                  equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                                  comma=args[i].comma)
                args[i] = args[i].with_changes(comma=comma)
                return updated.with_changes(args=args[: i + 1] + [new_arg] + args[i + 1:])
            if isinstance(original, cst.Dict) and any(e is anchor for e in original.elements):
                elements = list(updated.elements)
                i = [j for j, e in enumerate(original.elements) if e is anchor][0]
                comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                new_element = cst.DictElement(cst.SimpleString(f'"{key}"'), value, comma=elements[i].comma)
                elements[i] = elements[i].with_changes(comma=comma)
                return updated.with_changes(elements=elements[: i + 1] + [new_element] + elements[i + 1:])
            return updated

    return module.visit(InCall())


@register
class JwtCookieInsecure(Rule):
    """JWT cookies without Secure or CSRF protection.

    ## What it does
    When Flask-JWT-Extended keeps tokens in cookies (`JWT_TOKEN_LOCATION`
    includes `"cookies"`), finds `JWT_COOKIE_SECURE` missing or `False` and
    `JWT_COOKIE_CSRF_PROTECT = False`. Settings the cookie-flags rule (H221)
    reports itself are left to it, so each setting is reported once.

    ## Why is this bad?
    Without `Secure` the browser sends the token over plain HTTP too, where
    anyone on the network can read it. Without the double-submit CSRF check,
    any web site can make the browser send state-changing requests with the
    user's token cookie attached.

    ## Example
    ```python
    app.config["JWT_TOKEN_LOCATION"] = ["cookies"]
    app.config["JWT_COOKIE_CSRF_PROTECT"] = False
    ```

    ## Use instead
    ```python
    app.config["JWT_TOKEN_LOCATION"] = ["cookies"]
    app.config["JWT_COOKIE_SECURE"] = os.environ.get("JWT_COOKIE_SECURE", "true").lower() == "true"
    app.config["JWT_COOKIE_CSRF_PROTECT"] = True
    ```
    Plain-HTTP development on another host than localhost sets
    `JWT_COOKIE_SECURE=false`; browsers accept Secure cookies from
    http://localhost.

    ## Fix safety
    `Secure` is safe for sites served over HTTPS (and localhost). Turning the
    CSRF check back on is review: the front end must send the
    `X-CSRF-TOKEN` header (from the `csrf_access_token` cookie) on POST, PUT,
    PATCH and DELETE, or those requests get 401.

    ## References
    - https://flask-jwt-extended.readthedocs.io/en/stable/token_locations.html#cookies
    - https://owasp.org/www-community/attacks/csrf
    - CWE-614: Sensitive Cookie in HTTPS Session Without 'Secure' Attribute
    """

    code = "H533"
    name = "jwt-cookie-insecure"
    category = "cookie"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    cwe = 614

    VALID = [
        # tokens in headers: no cookies at all
        "from flask import Flask\napp = Flask(__name__)\napp.config['JWT_TOKEN_LOCATION'] = ['headers']\n",
        "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config['JWT_TOKEN_LOCATION'] = ['cookies']\n"
        "app.config['JWT_COOKIE_SECURE'] = True\n",
        # the location in app.config, the flag in the config class the app loads
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('config.ProdConfig')\n"
                           "app.config['JWT_TOKEN_LOCATION'] = ['cookies']\n",
                 "config.py": "class ProdConfig:\n    JWT_COOKIE_SECURE = True\n"}, findings=0),
    ]
    INVALID = [
        Example(
            "from flask import Flask\napp = Flask(__name__)\napp.config['JWT_TOKEN_LOCATION'] = ['cookies', 'headers']\n"
            "app.config['JWT_COOKIE_CSRF_PROTECT'] = False\n",
            "from flask import Flask\nimport os\n\napp = Flask(__name__)\n"
            "app.config['JWT_TOKEN_LOCATION'] = ['cookies', 'headers']\n"
            f'app.config["JWT_COOKIE_SECURE"] = {SECURE_EXPR}\n'
            "app.config['JWT_COOKIE_CSRF_PROTECT'] = True\n",
            findings=2, unsafe=True,
        ),
        Example(
            {"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('config.Config')\n",
             "config.py": "class Config:\n    JWT_TOKEN_LOCATION = 'cookies'\n    JWT_COOKIE_SECURE = False\n"},
            {"config.py": "import os\n\nclass Config:\n    JWT_TOKEN_LOCATION = 'cookies'\n"
                          f"    JWT_COOKIE_SECURE = {SECURE_EXPR}\n"},
        ),
        Example(
            "from flask import Flask\napp = Flask(__name__)\napp.config.update(JWT_TOKEN_LOCATION=['cookies'], DEBUG=False)\n",
            "from flask import Flask\nimport os\n\napp = Flask(__name__)\n"
            f"app.config.update(JWT_TOKEN_LOCATION=['cookies'], JWT_COOKIE_SECURE={SECURE_EXPR}, DEBUG=False)\n",
        ),
    ]

    def check_project(self, project):
        for location in _cookie_locations(project):
            if not left_to_cookie_rule("JWT_COOKIE_SECURE"):
                secure = _lookup(project, location, "JWT_COOKIE_SECURE")
                if secure is None:
                    yield self.finding(
                        location.file, location.node,
                        "JWT cookies without JWT_COOKIE_SECURE: the token also travels over plain HTTP",
                        self._secure(project, location, None),
                    )
                elif literal_value(secure.value) is False:
                    yield self.finding(
                        secure.file, secure.node,
                        "JWT_COOKIE_SECURE = False: the token cookie also travels over plain HTTP",
                        self._secure(project, location, secure),
                    )
            if not left_to_cookie_rule("JWT_COOKIE_CSRF_PROTECT"):
                csrf = _lookup(project, location, "JWT_COOKIE_CSRF_PROTECT")
                if csrf is not None and literal_value(csrf.value) is False:
                    yield self.finding(
                        csrf.file, csrf.node,
                        "JWT_COOKIE_CSRF_PROTECT = False with tokens in cookies: other sites can make the browser "
                        "send authenticated requests",
                        self._csrf(project, csrf),
                    )

    def _secure(self, project, location, existing) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            if existing is not None:
                new = cst.parse_expression(SECURE_EXPR)
                builder.edit_python(existing.file.path, lambda m: replace_nodes(m, {existing.value: new}),
                                    file=existing.file)
                path = existing.file.path
            else:
                builder.edit_python(location.file.path,
                                    lambda m: _add_setting_after(m, location, "JWT_COOKIE_SECURE", SECURE_EXPR),
                                    file=location.file)
                path = location.file.path
            builder.edit_python(path, lambda m: add_imports(m, ("os", None)))
            builder.note("JWT cookies are Secure unless JWT_COOKIE_SECURE=false (for plain-HTTP development "
                         "on a host other than localhost)")
            return builder.build()

        return Fix("Send JWT cookies over HTTPS only", Safety.SAFE, compute)

    def _csrf(self, project, setting) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            builder.edit_python(setting.file.path,
                                lambda m: replace_nodes(m, {setting.value: cst.Name("True")}), file=setting.file)
            builder.note("State-changing requests authenticated by a JWT cookie must now send the X-CSRF-TOKEN "
                         "header (its value is in the csrf_access_token cookie)")
            return builder.build()

        return Fix("Turn Flask-JWT-Extended's CSRF check back on", Safety.REVIEW, compute,
                   reason="front ends must send the X-CSRF-TOKEN header with state-changing requests")
