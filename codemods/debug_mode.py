"""H101 flask-debug-enabled: the Werkzeug debugger switched on in code."""

from __future__ import annotations

import libcst as cst

from hardener.fixkit import ChangeBuilder, add_imports, replace_nodes
from hardener.models import Confidence, Fix, Safety, Severity
from hardener.project import is_test_path
from hardener.rules import Example, Rule, register

# Debug comes from the environment and is off unless FLASK_DEBUG says so.
DEBUG_FROM_ENV = 'os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true")'

DEBUG_KEYS = {"DEBUG", "RUN_DEBUG", "RUN_USE_DEBUGGER"}


@register
class FlaskDebugEnabled(Rule):
    """Debug mode is switched on in code.

    ## What it does
    Finds the places a Flask app turns debug mode on unconditionally:
    `app.run(debug=True)`, `app.run(use_debugger=True)`, `app.debug = True`,
    `app.config["DEBUG"] = True`, `app.config.update(DEBUG=True)` and
    `DEBUG = True` in a configuration class or module that the app loads
    with `from_object`. A config class nothing loads, and test configuration,
    are not reported.

    ## Why is this bad?
    With debug on, an exception page offers the Werkzeug debugger: an
    interactive Python console in the browser. Anyone who can trigger an
    error (or guess the PIN, which is derived from machine facts) can run
    code on the server. Debug mode also leaks source code and settings in
    tracebacks. Code that hard-codes it ships it to production sooner or later.

    ## Example
    ```python
    if __name__ == "__main__":
        app.run(debug=True)
    ```

    ## Use instead
    ```python
    if __name__ == "__main__":
        app.run(debug=os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true"))
    ```
    Developers turn it on for themselves with `FLASK_DEBUG=1` (or
    `flask run --debug`); it is off everywhere else by default.

    ## Fix safety
    Safe: the app behaves the same, minus the debugger, unless FLASK_DEBUG=1
    is set. Developers who relied on the auto-reloader set FLASK_DEBUG=1.

    ## References
    - https://flask.palletsprojects.com/en/latest/debugging/
    - https://werkzeug.palletsprojects.com/en/latest/debug/#debugger-pin
    - CWE-489: Active Debug Code
    """

    code = "H101"
    name = "flask-debug-enabled"
    category = "debug"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    cwe = 489

    VALID = [
        # debug from the environment
        'import os\nfrom flask import Flask\napp = Flask(__name__)\napp.run(debug=os.environ.get("FLASK_DEBUG") == "1")\n',
        # only in a comment
        "from flask import Flask\napp = Flask(__name__)\n# app.run(debug=True)\napp.run()\n",
        # a config class nothing loads
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('settings.Prod')\n",
                 "settings.py": "class Prod:\n    DEBUG = False\nclass Unused:\n    DEBUG = True\n"}, findings=0),
        # test configuration
        Example({"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('settings.Prod')\n",
                 "settings.py": "class Prod:\n    SECRET_KEY_FILE = 'x'\nclass TestingConfig(Prod):\n    DEBUG = True\n"}, findings=0),
    ]
    INVALID = [
        Example(
            "from flask import Flask\n\napp = Flask(__name__)\n\nif __name__ == '__main__':\n    app.run(host='0.0.0.0', debug=True)\n",
            "from flask import Flask\nimport os\n\napp = Flask(__name__)\n\nif __name__ == '__main__':\n"
            "    app.run(host='0.0.0.0', debug=os.environ.get(\"FLASK_DEBUG\", \"\").lower() in (\"1\", \"true\"))\n",
        ),
        Example(
            "from flask import Flask\napp = Flask(__name__)\napp.config['DEBUG'] = True  # handy\n",
            "from flask import Flask\nimport os\n\napp = Flask(__name__)\n"
            "app.config['DEBUG'] = os.environ.get(\"FLASK_DEBUG\", \"\").lower() in (\"1\", \"true\")  # handy\n",
        ),
        Example(
            "from flask import Flask\napp = Flask(__name__)\napp.debug = True\napp.config.update(DEBUG=True, TESTING=False)\n",
            "from flask import Flask\nimport os\n\napp = Flask(__name__)\n"
            "app.debug = os.environ.get(\"FLASK_DEBUG\", \"\").lower() in (\"1\", \"true\")\n"
            "app.config.update(DEBUG=os.environ.get(\"FLASK_DEBUG\", \"\").lower() in (\"1\", \"true\"), TESTING=False)\n",
            findings=2,
        ),
        Example(
            {
                "app/__init__.py": "from flask import Flask\n\ndef create_app(config='app.config.DevConfig'):\n"
                "    app = Flask(__name__)\n    app.config.from_object(config)\n    return app\n",
                "app/config.py": "class Config:\n    SECRET = 1\n\nclass DevConfig(Config):\n    DEBUG = True\n",
            },
            {
                "app/config.py": "import os\n\nclass Config:\n    SECRET = 1\n\nclass DevConfig(Config):\n"
                "    DEBUG = os.environ.get(\"FLASK_DEBUG\", \"\").lower() in (\"1\", \"true\")\n",
            },
        ),
    ]

    def check_project(self, project):
        for setting in project.config_settings():
            if setting.key not in DEBUG_KEYS or setting.literal is not True:
                continue
            if is_test_path(setting.file.path):
                continue
            node = setting.value
            where = {
                # create_app().run(...): no name to show for what runs
                "run": f"`{setting.owner + '.' if setting.owner else ''}run({setting.key[4:].lower()}=True)`",
                "class": f"`DEBUG = True` in {setting.owner}, which the app loads",
                "module": "`DEBUG = True` in a config module the app loads",
            }.get(setting.kind, "`DEBUG = True` in the app's configuration")
            yield self.finding(
                setting.file, setting.node,
                f"Debug mode is on: {where}; the Werkzeug debugger lets anyone who sees an error page run code",
                self._fix(project, setting.file, node),
            )

    def _fix(self, project, file, node: cst.BaseExpression) -> Fix:
        def compute():
            builder = ChangeBuilder(project)
            replacement = cst.parse_expression(DEBUG_FROM_ENV)
            builder.edit_python(file.path, lambda m: replace_nodes(m, {node: replacement}), file=file)
            builder.edit_python(file.path, lambda m: add_imports(m, ("os", None)))
            builder.note("Debug is now off unless FLASK_DEBUG=1 is set (use `flask run --debug` in development)")
            return builder.build()

        return Fix("Read debug mode from FLASK_DEBUG (off by default)", Safety.SAFE, compute)
