"""H542 exception-details-in-response: exception messages and tracebacks
sent to API clients."""

from __future__ import annotations

import libcst as cst

from hardener.models import Confidence, Severity
from hardener.project import dotted_name, is_test_path, literal_value, string_value
from hardener.rules import Example, Rule, register

from ._flaskapi import call_name, calls_in, facts_or_imports, views_in
from ._flow import InFunction

# Exceptions whose message is not meant for clients: everything unexpected and database errors.
BROAD = {"Exception", "BaseException", "InternalServerError", "SQLAlchemyError", "DatabaseError", "OperationalError",
         "IntegrityError", "ProgrammingError", "DBAPIError", "Error", "PyMongoError", "RedisError"}
SAFE_ATTRS = {"code", "description", "name", "status_code", "status"}
RESPONSE_CALLS = {"jsonify", "make_response", "Response", "abort", "dumps", "render_template"}
TRACEBACK_CALLS = {"traceback.format_exc", "traceback.format_exception", "traceback.format_tb", "traceback.print_exc"}
GUIDANCE = ("log it (`current_app.logger.exception(...)`) and answer with a generic message such as "
            "`jsonify(error=\"internal server error\"), 500`")


def _is_broad(node: cst.BaseExpression | None) -> bool:
    if node is None:
        return True  # bare except / handler for everything
    if isinstance(node, cst.Tuple):
        return any(_is_broad(e.value) for e in node.elements)
    value = literal_value(node)
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 500
    name = (dotted_name(node) or "").rsplit(".", 1)[-1]
    return name in BROAD


def _leaking_uses(scope: cst.CSTNode, var: str | None, facts, *, returns: bool = True) -> list[cst.CSTNode]:
    """Response arguments (and, with ``returns``, returned values: the scope is
    a view or an error handler) inside ``scope`` that contain the exception
    ``var`` (other than its HTTP status attributes) or a traceback: the first
    such use in each outermost response call or return."""
    out = []

    class V(cst.CSTVisitor):
        def __init__(self):
            self.depth = 0
            self.skipped: list[cst.Call] = []
            self.outer: cst.CSTNode | None = None  # the outermost response call or return we are in
            self.reported: set[int] = set()

        def enter(self, node) -> None:
            if not self.depth:
                self.outer = node
            self.depth += 1

        def use(self, node) -> None:
            if id(self.outer) not in self.reported:
                self.reported.add(id(self.outer))
                out.append(node)

        def visit_Return(self, node):
            if not returns:
                return True
            self.enter(node)
            value = node.value
            if isinstance(value, cst.Tuple) and len(value.elements) >= 2:
                # (body, status[, headers]): a status is a number, whatever it was computed from
                for i, element in enumerate(value.elements):
                    if i != 1 or isinstance(element.value, (cst.Dict, cst.List)):  # (body, headers)
                        element.value.visit(self)
                return False
            return True

        def leave_Return(self, node):
            if returns:
                self.depth -= 1

        def visit_Call(self, node):
            name = call_name(facts, node.func)
            if name in ("getattr", "hasattr") and len(node.args) >= 2 and \
                    (string_value(node.args[1].value) or "") in SAFE_ATTRS:
                self.skipped.append(node)
                return False
            if name in ("isinstance", "type"):
                self.skipped.append(node)
                return False
            if name.rsplit(".", 1)[-1] in RESPONSE_CALLS:
                self.enter(node)
            if name in TRACEBACK_CALLS and self.depth:
                self.use(node)

        def leave_Call(self, node):
            if self.skipped and self.skipped[-1] is node:
                self.skipped.pop()
                return
            if call_name(facts, node.func).rsplit(".", 1)[-1] in RESPONSE_CALLS:
                self.depth -= 1

        def visit_Attribute(self, node):
            if isinstance(node.value, cst.Name) and node.value.value == var and node.attr.value in SAFE_ATTRS:
                return False  # exc.code / exc.description are fine
            return True

        def visit_Name(self, node):
            if self.depth and var is not None and node.value == var:
                self.use(node)

        def visit_FunctionDef(self, node):
            return node is scope  # nested functions have their own scope

    scope.visit(V())
    return out


@register
class ExceptionDetailsInResponse(Rule):
    """Exception details sent to the client.

    ## What it does
    Finds error handlers for unexpected errors (`@app.errorhandler(Exception)`,
    `500`, `InternalServerError`, database errors) and broad `except` blocks
    in the app that put the exception into the response: `jsonify(error=str(exc))`,
    `f"failed: {exc}"`, `traceback.format_exc()` (a status computed from the
    exception, `return body, code_for(exc)`, is not a detail). Also reports
    `PROPAGATE_EXCEPTIONS = True` outside test configuration.

    ## Why is this bad?
    Exception messages describe the inside of the app: SQL statements and
    table names, file paths, host names, library versions, sometimes data of
    other users. They help an attacker map the app and tune an injection.
    `PROPAGATE_EXCEPTIONS` hands errors to the server instead of the app's
    error handlers.

    ## Example
    ```python
    @app.errorhandler(Exception)
    def handle_error(exc):
        return jsonify(error=str(exc)), 500
    ```

    ## Use instead
    ```python
    @app.errorhandler(Exception)
    def handle_error(exc):
        current_app.logger.exception("unhandled error")
        return jsonify(error="internal server error"), 500
    ```
    Handlers for `HTTPException` can keep sending `exc.description`: those
    messages are written for clients.

    ## Fix safety
    No automatic fix: clients and tests may read the message, and what to
    say instead is the API's decision.

    ## References
    - https://flask.palletsprojects.com/en/latest/errorhandling/
    - https://owasp.org/www-community/Improper_Error_Handling
    - CWE-209: Generation of Error Message Containing Sensitive Information
    """

    code = "H542"
    name = "exception-details-in-response"
    category = "other"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    cwe = 209
    triggers = (b"errorhandler", b"register_error_handler", b"jsonify", b"make_response", b"route(", b"Blueprint",
                b"Flask(")

    VALID = [
        "from flask import Flask, jsonify\napp = Flask(__name__)\n@app.errorhandler(404)\ndef nf(e):\n"
        "    return jsonify(error=str(e)), 404\n",
        "from flask import Flask, jsonify\napp = Flask(__name__)\n@app.errorhandler(Exception)\ndef err(e):\n"
        "    app.logger.exception('boom')\n    return jsonify(error='internal server error', code=getattr(e, 'code', 500)), 500\n",
        "from flask import Flask, jsonify\napp = Flask(__name__)\nclass ValidationError(Exception):\n    pass\n"
        "@app.errorhandler(ValidationError)\ndef bad(e):\n    return jsonify(error=str(e)), 400\n",
        # a helper that is not a view: its return value is not a response
        "from flask import Flask\napp = Flask(__name__)\ndef load(path):\n    try:\n        return open(path).read()\n"
        "    except Exception as e:\n        return str(e)\n",
    ]
    INVALID = [
        Example(
            "from flask import Flask, jsonify\nfrom werkzeug.exceptions import HTTPException\napp = Flask(__name__)\n"
            "@app.errorhandler(Exception)\ndef err(exc):\n    if isinstance(exc, HTTPException):\n"
            "        return jsonify(error=exc.description), exc.code\n    return jsonify(error=str(exc)), 500\n",
            None,
        ),
        Example(
            "import traceback\nfrom flask import Flask, jsonify\napp = Flask(__name__)\n@app.post('/pay')\ndef pay():\n"
            "    try:\n        charge()\n    except Exception as e:\n"
            "        return jsonify(error=f'payment failed: {e}', trace=traceback.format_exc()), 500\n",
            None,  # one response: one finding, though it sends the message and the traceback
        ),
        Example(
            "from flask import Flask\napp = Flask(__name__)\napp.config['PROPAGATE_EXCEPTIONS'] = True\n"
            "def oops(e):\n    return {'error': repr(e)}, 500\napp.register_error_handler(500, oops)\n",
            None, findings=2,
        ),
    ]

    def check_file(self, file, project):
        if is_test_path(file.path):
            return
        facts = facts_or_imports(project, file)
        handlers: list[tuple[cst.FunctionDef, cst.BaseExpression | None]] = []
        functions = {}

        class Collect(cst.CSTVisitor):
            def visit_FunctionDef(self, node):
                functions[node.name.value] = node
                for d in node.decorators:
                    call = d.decorator
                    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) \
                            and call.func.attr.value in ("errorhandler", "app_errorhandler") and call.args:
                        handlers.append((node, call.args[0].value))

        data = file.data
        if b"errorhandler" in data or b"register_error_handler" in data:
            file.module.visit(Collect())
        for call in calls_in(file.module) if b"register_error_handler" in data else ():
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "register_error_handler" \
                    and len(call.args) >= 2:
                target = functions.get(dotted_name(call.args[1].value) or "")
                if target is not None:
                    handlers.append((target, call.args[0].value))
        reported: set[int] = set()
        for func, registered in handlers:
            if not _is_broad(registered) or id(func) in reported:
                continue
            params = func.params.params
            var = params[0].name.value if params else None
            for node in _leaking_uses(func, var, facts):
                reported.add(id(func))
                yield self.finding(file, node, f"The error handler `{func.name.value}` sends the exception's details "
                                               f"to the client: {GUIDANCE}")
        if b"except" not in data:
            return
        views = {id(v.func) for v in views_in(project, file)}
        for handler, function in file.memo("except handlers", lambda: _except_handlers(file.module)):
            if not _is_broad(handler.type):
                continue
            var = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None
            in_view = function is not None and id(function) in views
            for node in _leaking_uses(handler.body, var, facts, returns=in_view):
                yield self.finding(file, node, f"An `except` block sends the exception's details to the client: {GUIDANCE}")

    def check_project(self, project):
        for setting in project.config_settings():
            if setting.key != "PROPAGATE_EXCEPTIONS" or literal_value(setting.value) is not True:
                continue
            if is_test_path(setting.file.path) or (setting.kind == "class" and "test" in (setting.owner or "").lower()):
                continue
            yield self.finding(setting.file, setting.node,
                               "PROPAGATE_EXCEPTIONS = True hands unhandled errors to the server instead of the app's "
                               "error handlers; leave it unset outside tests", severity=Severity.LOW)


def _except_handlers(module: cst.Module) -> list[tuple[cst.ExceptHandler, cst.FunctionDef | None]]:
    """Every except clause with the function it is in."""
    out = []

    class V(InFunction):
        def visit_ExceptHandler(self, node):
            out.append((node, self.function))

    module.visit(V())
    return out
