"""H531 jwt-token-never-expires: Flask-JWT-Extended tokens without an expiry,
or with a very long one."""

from __future__ import annotations

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports, replace_nodes
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import dotted_name, is_test_path, literal_value
from hardener.rules import Example, Rule, register

from ._flaskapi import facts_or_imports, call_name, calls_in, keyword

# key -> (environment variable, unit, default, longest lifetime we accept, in seconds)
LIFETIMES = {
    "JWT_ACCESS_TOKEN_EXPIRES": ("JWT_ACCESS_TOKEN_EXPIRES_MINUTES", "minutes", "15", 24 * 3600),
    "JWT_REFRESH_TOKEN_EXPIRES": ("JWT_REFRESH_TOKEN_EXPIRES_DAYS", "days", "30", 90 * 24 * 3600),
}
UNIT_SECONDS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "milliseconds": 0.001,
                "microseconds": 0.000001}
TOKEN_FACTORIES = {"create_access_token": "JWT_ACCESS_TOKEN_EXPIRES", "create_refresh_token": "JWT_REFRESH_TOKEN_EXPIRES"}


def lifetime_expr(key: str) -> str:
    env, unit, default, _ = LIFETIMES[key]
    return f'timedelta({unit}=int(os.environ.get("{env}", "{default}")))'


def seconds_of(node: cst.BaseExpression | None) -> float | None:
    """Seconds of ``timedelta(days=365)`` / ``datetime.timedelta(hours=2)`` / an int literal."""
    value = literal_value(node)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(node, cst.Call) and (dotted_name(node.func) or "").split(".")[-1] == "timedelta":
        total = 0.0
        names = ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"]
        for i, arg in enumerate(node.args):
            unit = arg.keyword.value if arg.keyword is not None else (names[i] if i < len(names) else None)
            number = literal_value(arg.value)
            if isinstance(arg.value, cst.Float):
                number = float(arg.value.value)
            if unit not in UNIT_SECONDS or not isinstance(number, (int, float)) or isinstance(number, bool):
                return None
            total += number * UNIT_SECONDS[unit]
        return total
    return None


def _human(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:g} days"
    return f"{seconds / 3600:g} hours"


@register
class JwtTokenNeverExpires(Rule):
    """JWT that never expires, or lives very long.

    ## What it does
    Finds Flask-JWT-Extended configuration that turns token expiry off
    (`JWT_ACCESS_TOKEN_EXPIRES = False`, `JWT_REFRESH_TOKEN_EXPIRES = False`),
    tokens created with `expires_delta=False`, and lifetimes longer than a
    day for access tokens or 90 days for refresh tokens.

    ## Why is this bad?
    A JWT is valid for as long as its `exp` claim says; without one, forever.
    A token that leaks (a log line, a browser extension, a stolen laptop)
    keeps working until the signing key is changed, and logging out or
    disabling a user does not stop it.

    ## Example
    ```python
    class Config:
        JWT_ACCESS_TOKEN_EXPIRES = False
    ```

    ## Use instead
    ```python
    class Config:
        JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=int(os.environ.get("JWT_ACCESS_TOKEN_EXPIRES_MINUTES", "15")))
    ```
    Short-lived access tokens (Flask-JWT-Extended's default is 15 minutes),
    renewed with a refresh token; the lifetime can be set per deployment.

    ## Fix safety
    Review: clients that kept one token forever now get 401 once it expires
    and must log in again or use a refresh token. Tokens issued before the
    change carry no `exp` and stay valid until `JWT_SECRET_KEY` is rotated.
    Long but finite lifetimes are reported without a fix: the right value is
    a product decision.

    ## References
    - https://flask-jwt-extended.readthedocs.io/en/stable/options.html#JWT_ACCESS_TOKEN_EXPIRES
    - https://datatracker.ietf.org/doc/html/rfc8725#section-3.10
    - CWE-613: Insufficient Session Expiration
    """

    code = "H531"
    name = "jwt-token-never-expires"
    category = "password"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    cwe = 613
    triggers = (b"create_access_token", b"create_refresh_token")

    VALID = [
        "from datetime import timedelta\nfrom flask import Flask\napp = Flask(__name__)\n"
        "app.config['JWT_ACCESS_TOKEN_EXPIRES'] = timedelta(hours=1)\n",
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('settings.Prod')\n",
                 "settings.py": "class Prod:\n    JWT_SECRET_KEY_FILE = 'x'\n"
                                "class TestingConfig(Prod):\n    JWT_ACCESS_TOKEN_EXPIRES = False\n"}, findings=0),
        "from flask import Flask\nfrom flask_jwt_extended import create_access_token\napp = Flask(__name__)\n"
        "def token(user):\n    return create_access_token(user, fresh=True)\n",
    ]
    INVALID = [
        Example(
            {"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('config.Config')\n",
             "config.py": "class Config:\n    JWT_ACCESS_TOKEN_EXPIRES = False  # never log out\n"
                          "    JWT_REFRESH_TOKEN_EXPIRES = False\n"},
            {"config.py": "import os\nfrom datetime import timedelta\n\nclass Config:\n"
                          f"    JWT_ACCESS_TOKEN_EXPIRES = {lifetime_expr('JWT_ACCESS_TOKEN_EXPIRES')}  # never log out\n"
                          f"    JWT_REFRESH_TOKEN_EXPIRES = {lifetime_expr('JWT_REFRESH_TOKEN_EXPIRES')}\n"},
            findings=2, unsafe=True,
        ),
        Example(
            "from flask import Flask\nfrom flask_jwt_extended import create_access_token\napp = Flask(__name__)\n"
            "@app.post('/login')\ndef login():\n    return {'t': create_access_token('me', expires_delta=False)}\n",
            "from flask import Flask\nfrom flask_jwt_extended import create_access_token\napp = Flask(__name__)\n"
            "@app.post('/login')\ndef login():\n    return {'t': create_access_token('me')}\n",
            unsafe=True,
        ),
        Example(
            "import datetime\nfrom flask import Flask\napp = Flask(__name__)\n"
            "app.config.update(JWT_ACCESS_TOKEN_EXPIRES=datetime.timedelta(days=365))\n",
            None,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts = facts_or_imports(project, file)
        for call in calls_in(file.module):
            name = call_name(facts, call.func).split(".")[-1]
            if name not in TOKEN_FACTORIES:
                continue
            arg = keyword(call, "expires_delta")
            if arg is not None and literal_value(arg.value) is False:
                yield self.finding(
                    file, arg, f"`{name}(..., expires_delta=False)` creates a token that never expires",
                    self._drop_argument(project, file, call, arg),
                )

    def check_project(self, project):
        for setting in project.config_settings():
            if setting.key not in LIFETIMES or is_test_path(setting.file.path):
                continue
            if setting.kind == "class" and "test" in (setting.owner or "").lower():
                continue
            kind = "access" if "ACCESS" in setting.key else "refresh"
            if literal_value(setting.value) is False:
                yield self.finding(
                    setting.file, setting.node,
                    f"`{setting.key} = False`: {kind} tokens never expire, a leaked one works until the key changes",
                    self._from_config(project, setting),
                )
                continue
            seconds = seconds_of(setting.value)
            limit = LIFETIMES[setting.key][3]
            if seconds is not None and seconds > limit:
                yield self.finding(
                    setting.file, setting.node,
                    f"{setting.key} is {_human(seconds)}: a leaked {kind} token stays valid that long; use "
                    f"{'minutes with refresh tokens' if kind == 'access' else 'at most a few weeks'} (no automatic "
                    "fix: choose the lifetime)",
                    severity=Severity.MEDIUM,
                )

    def _from_config(self, project, setting) -> Fix:
        key = setting.key

        def compute():
            builder = ChangeBuilder(project)
            new = cst.parse_expression(lifetime_expr(key))
            builder.edit_python(setting.file.path, lambda m: replace_nodes(m, {setting.value: new}), file=setting.file)
            builder.edit_python(setting.file.path, lambda m: add_imports(m, ("datetime", "timedelta"), ("os", None)))
            env, unit, default, _ = LIFETIMES[key]
            builder.note(f"{key} is now {default} {unit} unless {env} says otherwise")
            builder.followup("Tokens issued before this change never expire: rotate JWT_SECRET_KEY to invalidate them")
            return builder.build()

        env, unit, default, _ = LIFETIMES[key]
        return Fix(f"Expire tokens after {env} ({default} {unit} by default)", Safety.REVIEW, compute,
                   reason="clients holding a token must log in again (or refresh) when it expires")

    def _drop_argument(self, project, file, call: cst.Call, arg: cst.Arg) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            args = [a for a in call.args if a is not arg]
            if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            builder.edit_python(file.path, lambda m: replace_nodes(m, {call: call.with_changes(args=args)}), file=file)
            builder.note("The token now gets the configured lifetime (JWT_ACCESS_TOKEN_EXPIRES / JWT_REFRESH_TOKEN_EXPIRES)")
            return builder.build()

        return Fix("Use the configured token lifetime", Safety.REVIEW, compute,
                   reason="clients holding a token must log in again (or refresh) when it expires")
