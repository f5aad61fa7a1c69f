"""H541 password-in-json-response: a password or password hash serialised
into an API response."""

from __future__ import annotations

import libcst as cst

from hardener.models import Confidence, Severity
from hardener.project import NOT_LITERAL, dotted_name, is_test_path, literal_value, string_value
from hardener.rules import Example, Rule, register

from ._flaskapi import PASSWORD_KEY, call_name, facts_or_imports, views_in

JSON_CALLS = {"jsonify", "dumps", "make_response", "Response", "json_response"}
SERIALIZERS = {"to_dict", "as_dict", "to_json", "as_json", "serialize", "serialise", "dict", "__json__", "json",
               "to_api", "public", "dump"}
GUIDANCE = ("leave it out of the response (list the public fields, or mark it `load_only`/`exclude` in the schema); "
            "a hash is still a password to crack offline")


def _password_attr(node: cst.BaseExpression) -> bool:
    name = dotted_name(node) or ""
    return "." in name and bool(PASSWORD_KEY.match(name.rsplit(".", 1)[-1]))


def _leaks(value: cst.BaseExpression) -> bool:
    """A value that may hold the secret: not a literal placeholder like "***" or None."""
    return literal_value(value) is NOT_LITERAL


class _Finder(cst.CSTVisitor):
    def __init__(self, facts, views: set[int]):
        self.facts = facts
        self.views = views
        self.functions: list[tuple[str, bool]] = []
        self.json_depth = 0
        self.return_depth = 0
        self.found: list[tuple[cst.CSTNode, str]] = []
        self._json_calls: list[cst.Call] = []

    def visit_FunctionDef(self, node):
        self.functions.append((node.name.value, id(node) in self.views))

    def leave_FunctionDef(self, node):
        self.functions.pop()

    def visit_Return(self, node):
        self.return_depth += 1

    def leave_Return(self, node):
        self.return_depth -= 1

    def _in_response(self) -> bool:
        if self.json_depth:
            return True
        if self.return_depth and self.functions:
            name, is_view = self.functions[-1]
            return is_view or name in SERIALIZERS
        return False

    def visit_Call(self, node: cst.Call):
        name = (call_name(self.facts, node.func) or "").rsplit(".", 1)[-1]
        if name in JSON_CALLS:
            self.json_depth += 1
            self._json_calls.append(node)
            for arg in node.args:
                if arg.keyword is not None and PASSWORD_KEY.match(arg.keyword.value) and _leaks(arg.value):
                    self.found.append((arg, arg.keyword.value))
                elif _password_attr(arg.value):
                    self.found.append((arg, dotted_name(arg.value)))

    def leave_Call(self, node: cst.Call):
        if self._json_calls and self._json_calls[-1] is node:
            self._json_calls.pop()
            self.json_depth -= 1

    def visit_Dict(self, node: cst.Dict):
        if not self._in_response():
            return
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                continue
            key = string_value(element.key)
            if key is not None and PASSWORD_KEY.match(key) and _leaks(element.value):
                self.found.append((element, key))
            elif _password_attr(element.value):
                self.found.append((element, dotted_name(element.value)))


WHOLE_OBJECT = ("__table__", "__dict__", "__mapper__")
WHOLE_OBJECT_CALLS = {"vars", "asdict", "dataclasses.asdict", "model_to_dict"}


def _class_password_fields(node: cst.ClassDef) -> list[str]:
    out = []
    for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else []:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                target = small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 else \
                    small.target if isinstance(small, cst.AnnAssign) else None
                if isinstance(target, cst.Name) and PASSWORD_KEY.match(target.value):
                    out.append(target.value)
    return out


def _whole_object_serializers(module: cst.Module, facts) -> list[tuple[cst.FunctionDef, str]]:
    """``to_dict()``-like methods that dump every column / attribute of a class
    that has a password field, without naming that field to leave it out."""
    found = []

    class V(cst.CSTVisitor):
        def visit_ClassDef(self, node: cst.ClassDef):
            fields = _class_password_fields(node)
            if not fields or not isinstance(node.body, cst.IndentedBlock):
                return
            for stmt in node.body.body:
                if not isinstance(stmt, cst.FunctionDef) or stmt.name.value not in SERIALIZERS:
                    continue
                code = cst.Module(body=[stmt]).code
                if any(f'"{f}"' in code or f"'{f}'" in code for f in fields):
                    continue  # the method names the field: probably to leave it out
                dumps_all = any(marker in code for marker in WHOLE_OBJECT) or any(
                    call_name(facts, c.func) in WHOLE_OBJECT_CALLS for c in _calls(stmt))
                if dumps_all:
                    found.append((stmt, fields[0]))

    module.visit(V())
    return found


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    out = []

    class V(cst.CSTVisitor):
        def visit_Call(self, call):
            out.append(call)

    node.visit(V())
    return out


@register
class PasswordInJsonResponse(Rule):
    """Password or password hash in a JSON response.

    ## What it does
    Finds API responses that carry a password or a password hash: a
    `password` / `password_hash` / `pw_hash` key (or a `user.password_hash`
    value) in a dict or `jsonify(...)` call that a view returns, that is
    serialised with `jsonify` / `json.dumps`, or that a `to_dict()` /
    `serialize()` method builds; and `to_dict()`-like methods that dump
    every column (`self.__table__.columns`, `self.__dict__`, `vars(self)`,
    `asdict(self)`) of a class that has a password field.

    ## Why is this bad?
    Anyone who can call the endpoint (often any logged-in user, sometimes
    anyone) collects hashes to crack offline; weak or unsalted hashes fall in
    minutes. Responses also end up in browser caches, proxies and logs.

    ## Example
    ```python
    def to_dict(self):
        return {"id": self.id, "email": self.email, "password_hash": self.password_hash}
    ```

    ## Use instead
    ```python
    def to_dict(self):
        return {"id": self.id, "email": self.email}
    ```

    ## Fix safety
    No automatic fix: removing a field changes the API, and a client may
    read it (it should not). Remove it by hand and check the clients.

    ## References
    - https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/
    - CWE-200: Exposure of Sensitive Information to an Unauthorized Actor
    """

    code = "H541"
    name = "password-in-json-response"
    category = "password"
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    cwe = 200
    triggers = (b"assw", b"pw_hash", b"pwhash", b"pwd")

    VALID = [
        # a whole-object dump that leaves the hash out
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                 "models.py": "class User:\n    password_hash: str = ''\n    def to_dict(self):\n"
                              "        return {k: v for k, v in vars(self).items() if k != 'password_hash'}\n"}, findings=0),
        "from flask import Flask, jsonify\napp = Flask(__name__)\n@app.get('/me')\ndef me():\n"
        "    return jsonify(id=1, name='ann', password_changed_at='2024-01-01')\n",
        # a placeholder, and a password that is read, not returned
        "from flask import Flask, jsonify, request\napp = Flask(__name__)\n@app.post('/login')\ndef login():\n"
        "    data = {'password': request.form['password']}\n    return jsonify(ok=True, password='***')\n",
    ]
    INVALID = [
        Example(
            "from flask import Flask, jsonify\napp = Flask(__name__)\nclass User:\n    def to_dict(self):\n"
            "        return {'id': self.id, 'password_hash': self.password_hash}\n"
            "@app.get('/users/<int:i>')\ndef user(i):\n    u = User()\n    return jsonify(u.to_dict())\n",
            None,
        ),
        Example(
            "from flask import Flask, jsonify\napp = Flask(__name__)\n@app.get('/u')\ndef user():\n"
            "    u = load()\n    return jsonify(name=u.name, secret=u.pw_hash)\n",
            None,
        ),
        Example(
            "from flask import Flask\napp = Flask(__name__)\n@app.get('/u')\ndef user():\n"
            "    row = load()\n    return {'name': row['name'], 'password': row['password']}\n",
            None,
        ),
        Example(
            {"app.py": "from flask import Flask\napp = Flask(__name__)\n",
             "models.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\nclass User(db.Model):\n"
                          "    id = db.Column(db.Integer, primary_key=True)\n    password_hash = db.Column(db.String(128))\n"
                          "    def to_dict(self):\n        return {c.name: getattr(self, c.name) for c in self.__table__.columns}\n"},
            None,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts = facts_or_imports(project, file)
        views = {id(v.func) for v in views_in(project, file)}
        finder = _Finder(facts, views)
        file.module.visit(finder)
        seen = set()
        for node, key in finder.found:
            if id(node) in seen:
                continue
            seen.add(id(node))
            yield self.finding(file, node, f"`{key}` is sent in an API response: {GUIDANCE}")
        for method, field_name in _whole_object_serializers(file.module, facts):
            yield self.finding(file, method.name,
                               f"`{method.name.value}()` dumps every field, `{field_name}` included, into API "
                               f"responses: {GUIDANCE}")
