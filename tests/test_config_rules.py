"""The H2xx rules (CSRF, security headers, cookie flags) on the shapes real
projects have: two apps in one module, an app built in a function, a config
class named by a dotted string, settings in a separate config.py, apps that
already use Talisman or CSRFProtect, forms rendered with Flask-WTF macros,
token-authenticated JSON views, JavaScript that posts. Where behaviour
matters, the patched project is run with Flask's test client in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from hardener.apply import apply_fixes, commit
from hardener.config import Config
from hardener.models import Safety
from hardener.scanner import scan

from conftest import write_tree

H2 = ["H201", "H202", "H203", "H211", "H221", "H222"]


def findings(root, *codes, **config):
    result = scan(root, Config(select=list(codes) or H2, cache=False, **config))
    assert result.errors == [], result.errors
    return [f for f in result.findings if f.code.startswith("H2")]


def apply(root, *codes, unsafe=False, **config):
    """Apply the fixes and write them to disk; return the project's files as text."""
    cfg = Config(select=list(codes) or H2, cache=False, **config)
    report, ws, after = apply_fixes(root, cfg, unsafe=unsafe)
    assert not report.failed, report.failed
    commit(ws)
    again = [f for f in scan(root, cfg).findings if f.code.startswith("H2") and f.fix is not None
             and (unsafe or f.fix.safety is Safety.SAFE)]
    assert again == [], [(f.code, f.message) for f in again]  # a second run proposes nothing
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*")
            if p.is_file() and ".hardener" not in p.parts and "__pycache__" not in p.parts}


def run(root, script: str, **env) -> dict:
    full = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **env)
    full.pop("FORCE_HTTPS", None) if "FORCE_HTTPS" not in env else None
    proc = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, '.')\n" + textwrap.dedent(script)],
                          cwd=root, env=full, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


FORM = "<form method=\"post\">\n  <input name=\"x\">\n</form>\n"


# --------------------------------------------------------------------------- two apps in one module


TWO_APPS = {
    "site.py": textwrap.dedent("""\
        import os
        from flask import Flask, render_template, request, session

        app = Flask(__name__)
        app.secret_key = os.environ.get("SECRET_KEY", "dev")
        admin = Flask("admin")
        admin.secret_key = os.environ.get("ADMIN_SECRET_KEY", "dev-admin")


        @app.route("/", methods=["GET", "POST"])
        def index():
            if request.method == "POST":
                session["x"] = request.form["x"]
                return "saved"
            return render_template("form.html")


        @admin.route("/ban", methods=["POST"])
        def ban():
            session["banned"] = request.form["who"]
            return "banned"
        """),
    "templates/form.html": FORM,
}


def test_two_apps_in_one_module_each_get_protection(tmp_path):
    root = write_tree(tmp_path / "p", TWO_APPS)
    found = findings(root)
    assert sorted((f.code, f.line) for f in found if f.code in ("H201", "H211")) == [
        ("H201", 4), ("H201", 6), ("H211", 4), ("H211", 6)]
    files = apply(root)
    site = files["site.py"]
    assert "csrf = CSRFProtect(app)" in site and "admin_csrf = CSRFProtect(admin)" in site
    assert "talisman = Talisman(" in site and "admin_talisman = Talisman(" in site
    assert site.count("from flask_wtf.csrf import CSRFProtect") == 1
    out = run(root, """
        import json, re, importlib.util
        spec = importlib.util.spec_from_file_location("siteapp", "site.py")
        m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
        c = m.app.test_client()
        page = c.get("/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        print(json.dumps({
            "app_no_token": c.post("/", data={"x": "1"}).status_code,
            "app_token": c.post("/", data={"x": "1", "csrf_token": token}).get_data(as_text=True),
            "admin_no_token": m.admin.test_client().post("/ban", data={"who": "x"}).status_code,
            "csp": [page.headers.get("Content-Security-Policy") is not None,
                    m.admin.test_client().get("/nothing").headers.get("X-Frame-Options")],
        }))
        """)
    assert out == {"app_no_token": 400, "app_token": "saved", "admin_no_token": 400, "csp": [True, "DENY"]}


# --------------------------------------------------------------------------- an app built in a function


FACTORY = {
    "myapp/__init__.py": textwrap.dedent("""\
        import os

        from flask import Flask, request, session


        def create_app(test_config=None):
            app = Flask(__name__)
            app.config.from_mapping(SECRET_KEY=os.environ.get("SECRET_KEY", "dev"))
            if test_config:
                app.config.update(test_config)

            @app.route("/login", methods=["POST"])
            def login():
                session["user"] = request.form["user"]
                return "ok"

            return app
        """),
}


def test_app_in_a_function_gets_module_level_instances_and_init_app(tmp_path):
    root = write_tree(tmp_path / "p", FACTORY)
    files = apply(root, "H201", "H211")
    code = files["myapp/__init__.py"]
    assert "\ncsrf = CSRFProtect()\n" in code and "\ntalisman = Talisman()\n" in code
    body = code.split("def create_app", 1)[1]
    # init_app after the configuration, before the views and the return
    assert body.index("app.config.update(test_config)") < body.index("csrf.init_app(app)") < body.index("@app.route")
    assert body.index("talisman.init_app(") < body.index("return app")
    out = run(root, """
        import json
        from myapp import create_app
        app = create_app({"TESTING": True})
        c = app.test_client()
        r = c.post("/login", data={"user": "ann"})
        print(json.dumps([r.status_code, sorted(k for k in r.headers.keys() if k.startswith(("Content-Security", "X-")))]))
        """)
    assert out == [400, ["Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"]]


# --------------------------------------------------------------------------- where the cookie settings go


def test_cookie_settings_go_into_the_dotted_config_class_base_not_testing(tmp_path):
    root = write_tree(tmp_path / "p", {
        "web/__init__.py": "from flask import Flask, session\n\ndef create_app(cfg='web.settings.ProductionConfig'):\n"
                           "    app = Flask(__name__)\n    app.config.from_object(cfg)\n    return app\n",
        "web/settings.py": "class BaseConfig:\n    SECRET_KEY_FILE = '/run/key'\n\n"
                           "class ProductionConfig(BaseConfig):\n    SESSION_COOKIE_SAMESITE = 'Strict'\n\n"
                           "class TestingConfig(BaseConfig):\n    TESTING = True\n",
    })
    found = findings(root, "H221")
    assert len(found) == 1 and "BaseConfig" in found[0].message
    assert "SESSION_COOKIE_SAMESITE" not in found[0].message  # the stricter 'Strict' counts
    files = apply(root, "H221")
    settings = files["web/settings.py"]
    base, rest = settings.split("class ProductionConfig", 1)
    assert "SESSION_COOKIE_SECURE = True" in base and "PERMANENT_SESSION_LIFETIME = timedelta(hours=12)" in base
    assert "SESSION_COOKIE_SAMESITE = 'Strict'" in rest and settings.count("SESSION_COOKIE_SAMESITE") == 1
    assert "SESSION_COOKIE" not in rest.split("class TestingConfig", 1)[1]


@pytest.mark.parametrize("off", ["False", "None"])
def test_cookie_settings_go_into_a_separate_config_module(tmp_path, off):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, session\napp = Flask(__name__)\napp.config.from_object('config')\n",
        "config.py": f"import os\nSECRET_KEY = os.environ.get('SECRET_KEY')\nSESSION_COOKIE_SECURE = {off}\n",
    })
    found = findings(root, "H221")
    assert {f.path for f in found} == {"config.py"}
    files = apply(root, "H221")
    assert files["app.py"] == "from flask import Flask, session\napp = Flask(__name__)\napp.config.from_object('config')\n"
    config = files["config.py"]
    assert config.count("SESSION_COOKIE_SECURE") == 1 and "SESSION_COOKIE_SECURE = True" in config
    assert 'SESSION_COOKIE_SAMESITE = "Lax"' in config


def test_the_jwt_cookie_flags_stay_with_h533(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, session\napp = Flask(__name__)\n"
                  "app.config['JWT_TOKEN_LOCATION'] = ['cookies']\n",
    })
    h221 = [f for f in findings(root, "H221")]
    assert h221 and not any("JWT" in f.message for f in h221)


# --------------------------------------------------------------------------- already protected


def test_an_app_with_talisman_and_csrfprotect_has_no_findings(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app/__init__.py": "from flask import Flask\nfrom flask_talisman import Talisman\nfrom .ext import csrf\n\n"
                           "talisman = Talisman()\n\ndef create_app():\n    app = Flask(__name__)\n"
                           "    csrf.init_app(app)\n    talisman.init_app(app)\n"
                           "    from .views import bp\n    app.register_blueprint(bp)\n    return app\n",
        "app/ext.py": "from flask_wtf.csrf import CSRFProtect\ncsrf = CSRFProtect()\n",
        "app/views.py": "from flask import Blueprint, request\nbp = Blueprint('v', __name__)\n\n"
                        "@bp.route('/x', methods=['POST'])\ndef x():\n    return request.form['a']\n",
        "app/templates/x.html": "<form method=\"post\">\n  <input type=\"hidden\" name=\"csrf_token\" "
                                "value=\"{{ csrf_token() }}\">\n</form>\n",
    })
    assert [f for f in findings(root, "H201", "H211")] == []


def test_extensions_set_up_in_functions_the_factory_hands_the_app_to_count(tmp_path):
    # the cookiecutter-flask shape: create_app() calls register_extensions(app), which calls init_app
    root = write_tree(tmp_path / "p", {
        "app/__init__.py": "",
        "app/extensions.py": "from flask_wtf.csrf import CSRFProtect\nfrom flask_talisman import Talisman\n\n"
                             "csrf_protect = CSRFProtect()\ntalisman = Talisman()\n",
        "app/security.py": "from app.extensions import talisman\n\n\n"
                           "def init_security(flask_app, strict=True):\n    talisman.init_app(flask_app)\n",
        "app/app.py": "import os\nfrom flask import Flask\nfrom app import views\nfrom app.extensions import csrf_protect\n"
                      "from app.security import init_security\n\n\n"
                      "def create_app():\n    app = Flask(__name__)\n    app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n"
                      "    register_extensions(app)\n    app.register_blueprint(views.bp)\n    return app\n\n\n"
                      "def register_extensions(app):\n    csrf_protect.init_app(app)\n    init_security(strict=False, flask_app=app)\n",
        "app/views.py": "from flask import Blueprint, request, session\nbp = Blueprint('v', __name__)\n\n"
                        "@bp.route('/x', methods=['POST'])\ndef x():\n    session['a'] = request.form['a']\n    return 'ok'\n",
    })
    assert findings(root, "H201", "H211") == []
    # handed over under another name, or not at all: the app is unprotected again
    (root / "app/app.py").write_text((root / "app/app.py").read_text().replace(
        "csrf_protect.init_app(app)", "csrf_protect.init_app(other)").replace("flask_app=app", "flask_app=None"))
    assert sorted(f.code for f in findings(root, "H201", "H211")) == ["H201", "H211"]


FLASKR = {
    # the shape of Flask's own tutorial: tests post forms and know nothing about CSRF tokens
    "flaskr/__init__.py": "import os\nfrom flask import Flask, request, session\n\n\n"
                          "def create_app(test_config=None):\n    app = Flask(__name__)\n"
                          "    app.config.from_object('config.Config')\n"
                          "    app.config.from_mapping(SECRET_KEY=os.environ.get('SECRET_KEY', 'x' * 40))\n"
                          "    if test_config is not None:\n        app.config.from_mapping(test_config)\n\n"
                          "    @app.route('/post', methods=['POST'])\n    def post():\n"
                          "        session['x'] = request.form['x']\n        return 'saved'\n\n    return app\n",
    "flaskr/templates/form.html": FORM,
    "tests/conftest.py": "import pytest\nfrom flaskr import create_app\n\n\n@pytest.fixture\ndef app():\n"
                         "    return create_app({\n        'TESTING': True,\n        'DATABASE': 'x',\n    })\n",
    "tests/test_more.py": "from flaskr import create_app\n\n\ndef test_other_shapes():\n"
                          "    app = create_app()\n    app.config['TESTING'] = True\n    other = create_app()\n"
                          "    other.testing = True\n    third = create_app(dict(TESTING=True))\n",
    "config.py": "class Config:\n    TESTING = False\n\n\nclass TestingConfig(Config):\n    TESTING = True\n",
}


def test_the_csrf_fix_switches_csrf_off_where_the_tests_turn_testing_on(tmp_path):
    root = write_tree(tmp_path / "p", FLASKR)
    files = apply(root, "H201")
    assert "    return create_app({\n        'TESTING': True,\n        'WTF_CSRF_ENABLED': False,\n" \
           "        'DATABASE': 'x',\n    })\n" in files["tests/conftest.py"]
    more = files["tests/test_more.py"]
    assert "    app.config['TESTING'] = True\n    app.config['WTF_CSRF_ENABLED'] = False\n" in more
    assert "    other.testing = True\n    other.config[\"WTF_CSRF_ENABLED\"] = False\n" in more
    assert "create_app(dict(TESTING=True, WTF_CSRF_ENABLED=False))" in more
    assert "class TestingConfig(Config):\n    TESTING = True\n    WTF_CSRF_ENABLED = False\n" in files["config.py"]
    assert "class Config:\n    TESTING = False\n\n" in files["config.py"]
    out = run(root, """
        import json
        from flaskr import create_app
        codes = []
        for config in ({"TESTING": True, "WTF_CSRF_ENABLED": False}, None):
            client = create_app(config).test_client()
            codes.append(client.post("/post", data={"x": "1"}).status_code)
        print(json.dumps(codes))
        """, SECRET_KEY="k" * 40)
    assert out == [200, 400]  # the tests' posts work; everywhere else the token is required


def test_in_a_repository_of_services_the_fix_switches_only_its_own_tests(tmp_path):
    files = {f"services/{name}/{path.replace('flaskr', 'svc_' + name)}":
             text.replace("flaskr", "svc_" + name).replace("/post", f"/{name}-post")
             for name in ("a", "b") for path, text in FLASKR.items() if path != "config.py"}
    root = write_tree(tmp_path / "p", files)
    found = {f.path: f.message for f in findings(root, "H201")}
    assert "routes (/a-post)" in found["services/a/svc_a/__init__.py"]
    assert "routes (/b-post)" in found["services/b/svc_b/__init__.py"]
    report, ws, _ = apply_fixes(root, Config(select=["H201"], cache=False))
    assert not report.failed
    changed = {path for path in ws.pending if path.endswith(".py")}
    assert changed == {"services/a/svc_a/__init__.py", "services/a/tests/conftest.py", "services/a/tests/test_more.py",
                       "services/b/svc_b/__init__.py", "services/b/tests/conftest.py", "services/b/tests/test_more.py"}
    # each app's fix edited its own code, templates and tests only
    for applied in report.applied:
        service = applied.finding.path.split("/")[1]
        assert {p.split("/")[1] for p in applied.changeset.paths if p.startswith("services/")} == {service}
        assert f"services/{service}/svc_{service}/templates/form.html" in applied.changeset.paths
    # a protected service's forms without a token are reported, though another service has no CSRFProtect yet
    (root / "services/b/svc_b/__init__.py").write_text(
        "from flask_wtf.csrf import CSRFProtect\n" + FLASKR["flaskr/__init__.py"].replace("svc_b", "x").replace(
            "    return app\n", "    CSRFProtect(app)\n    return app\n"))
    found = sorted((f.path, f.message) for f in findings(root, "H201"))
    assert [p for p, _ in found] == ["services/a/svc_a/__init__.py", "services/b/svc_b/templates/form.html"]
    notes = [n for change in report.applied for n in change.changeset.notes if "TESTING" in n]
    assert sorted(notes) == [f"Where the tests turn TESTING on, WTF_CSRF_ENABLED is now False too (their form posts "
                             f"carry no token): services/{name}/tests/conftest.py, services/{name}/tests/test_more.py"
                             for name in ("a", "b")]


def test_in_a_repository_of_services_the_headers_fix_reads_and_edits_its_own_templates(tmp_path):
    files = {}
    for name, host in (("a", "https://cdn.a.example"), ("b", "https://cdn.b.example")):
        files[f"services/{name}/svc_{name}/__init__.py"] = (
            "from flask import Flask, render_template\n\n\ndef create_app():\n    app = Flask(__name__)\n\n"
            "    @app.route('/')\n    def index():\n        return render_template('page.html')\n\n    return app\n")
        files[f"services/{name}/svc_{name}/templates/page.html"] = (
            f"<html><head><script src=\"{host}/x.js\"></script></head>\n<body><script>go()</script></body></html>\n")
    root = write_tree(tmp_path / "p", files)
    report, ws, _ = apply_fixes(root, Config(select=["H211"], cache=False))
    assert not report.failed and len(report.applied) == 2
    for applied in report.applied:
        service = applied.finding.path.split("/")[1]
        other = "b" if service == "a" else "a"
        assert {p.split("/")[1] for p in applied.changeset.paths if p.startswith("services/")} == {service}
        text = applied.changeset.diff(mask=False)
        assert f"cdn.{service}.example" in text and f"cdn.{other}.example" not in text


def test_tests_that_know_about_csrf_tokens_are_left_alone(tmp_path):
    root = write_tree(tmp_path / "p", dict(FLASKR, **{"tests/test_csrf.py": "# posts send csrf_token\n"}))
    files = apply(root, "H201")
    assert files["tests/conftest.py"] == FLASKR["tests/conftest.py"]
    assert files["config.py"] == FLASKR["config.py"]


def test_instances_of_the_projects_own_flask_and_blueprint_subclasses_are_apps(tmp_path):
    # indico: class IndicoFlask(PluginFlaskMixin, Flask), app = IndicoFlask('indico'), _bp = IndicoBlueprint(...)
    root = write_tree(tmp_path / "p", {
        "site/wrappers.py": "from flask import Blueprint, Flask\n\n\nclass Mixin:\n    pass\n\n\n"
                            "class SiteFlask(Mixin, Flask):\n    pass\n\n\nclass SiteBlueprint(Blueprint):\n    pass\n\n\n"
                            "class ChildBlueprint(SiteBlueprint):\n    pass\n\n\nclass NotFlask:\n    pass\n",
        "site/app.py": "from site.wrappers import SiteFlask, NotFlask\n\n\ndef make_app():\n"
                       "    app = SiteFlask('site')\n    other = NotFlask()\n    return app\n",
        "site/views.py": "from flask import request, session\nfrom site.wrappers import ChildBlueprint\n"
                         "_bp = ChildBlueprint('views', __name__)\n\n\n"
                         "@_bp.route('/x', methods=['POST'])\ndef x():\n    session['a'] = request.form['a']\n    return 'ok'\n",
    })
    result = scan(root, Config(select=["H201"], cache=False))
    assert result.errors == []
    assert [(a.name, a.kind) for a in result.project.apps + result.project.blueprints] == [
        ("app", "flask"), ("_bp", "blueprint")]
    assert [(f.code, f.path, f.line) for f in result.findings] == [("H201", "site/app.py", 5)]


def test_a_blueprint_and_templates_another_app_owns_are_not_a_small_apps(tmp_path):
    # airflow: the web server registers its blueprints in a helper; a log server and a
    # database helper build apps of their own, with no forms and no state-changing routes
    files = {
        "site/web/app.py": "from flask import Flask\nfrom site.web.setup import init_views\n\n\ndef create_app():\n"
                           "    app = Flask(__name__)\n    init_views(app)\n    return app\n",
        "site/web/setup.py": "from site.web import endpoints\n\n\ndef init_views(app):\n"
                             "    app.register_blueprint(endpoints.api, url_prefix='/api')\n",
        "site/web/endpoints.py": "from flask import Blueprint, request, session\napi = Blueprint('api', __name__)\n\n\n"
                                 "@api.route('/pools/<name>', methods=['DELETE'])\ndef delete_pool(name):\n"
                                 "    session['last'] = name\n    return 'ok'\n",
        "site/web/templates/form.html": FORM,
        "site/utils/logs.py": "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n\n"
                              "    @app.get('/log/<path:name>')\n    def log(name):\n        return name\n\n    return app\n",
        "site/__init__.py": "", "site/web/__init__.py": "", "site/utils/__init__.py": "",
    }
    root = write_tree(tmp_path / "a", files)
    assert [(f.path, f.message.split(" has ")[1]) for f in findings(root, "H201")] == [
        ("site/web/app.py", "state-changing routes (/pools/<name>) and no CSRF protection")]
    # a log server that registers the blueprint too serves its routes
    shared = dict(files, **{"site/utils/logs.py": files["site/utils/logs.py"].replace(
        "    app = Flask(__name__)\n", "    app = Flask(__name__)\n    from site.web.endpoints import api\n"
                                       "    app.register_blueprint(api)\n")})
    root = write_tree(tmp_path / "b", shared)
    assert sorted(f.path for f in findings(root, "H201")) == ["site/utils/logs.py", "site/web/app.py"]


def test_an_instance_of_an_app_subclass_of_any_name_is_an_app(tmp_path):
    # quokka: class QuokkaApp(Flask), app = QuokkaApp('quokka'); QuokkaModule(Blueprint)
    root = write_tree(tmp_path / "p", {
        "q/core/app.py": "from flask import Blueprint, Flask\n\n\nclass QuokkaApp(Flask):\n    pass\n\n\n"
                         "class QuokkaModule(Blueprint):\n    pass\n\n\nclass Widget:\n    pass\n",
        "q/__init__.py": "from q.core.app import QuokkaApp, Widget\n\n\ndef create_app():\n"
                         "    app = QuokkaApp('quokka')\n    app.config.update({})\n    other = Widget()\n"
                         "    return app\n",
        "q/views.py": "from flask import request, session\nfrom q.core.app import QuokkaModule\n"
                      "module = QuokkaModule('views', __name__)\n\n\n"
                      "@module.route('/x', methods=['POST'])\ndef x():\n    session['a'] = request.form['a']\n    return 'ok'\n",
    })
    result = scan(root, Config(select=["H201"], cache=False))
    assert result.errors == []
    assert [(a.name, a.kind) for a in result.project.apps + result.project.blueprints] == [
        ("app", "flask"), ("module", "blueprint")]
    assert [(f.code, f.path, f.line) for f in result.findings] == [("H201", "q/__init__.py", 5)]


def test_an_imported_blueprint_registered_under_another_name_and_a_command_line_app(tmp_path):
    # alerta: views in auth/login.py use the blueprint of auth/__init__.py (`from . import auth`),
    # the factory registers it as `auth_blueprint`; commands.py builds an app only for the CLI
    files = {
        "al/__init__.py": "",
        "al/app.py": "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                     "    from al.auth import auth as auth_blueprint\n    app.register_blueprint(auth_blueprint)\n"
                     "    return app\n",
        "al/auth/__init__.py": "from flask import Blueprint\nauth = Blueprint('auth', __name__)\nfrom . import login\n",
        "al/auth/login.py": "from flask import request, session\nfrom . import auth\n\n\n"
                            "@auth.route('/auth/login', methods=['POST'])\ndef login():\n"
                            "    session['user'] = request.form['user']\n    return 'ok'\n",
        "al/templates/form.html": FORM,
        "al/commands.py": "from flask import Flask\nfrom flask.cli import ScriptInfo\n\n\n"
                          "def _create_app():\n    app = Flask(__name__)\n    app.config['X'] = 1\n    return app\n\n\n"
                          "def cli():\n    return ScriptInfo(create_app=_create_app)\n",
    }
    root = write_tree(tmp_path / "a", files)
    assert [(f.code, f.path) for f in findings(root, "H201", "H211")] == [("H201", "al/app.py"), ("H211", "al/app.py")]
    # a command line app that registers a blueprint serves it
    files["al/commands.py"] = files["al/commands.py"].replace(
        "    app.config['X'] = 1\n", "    from al.auth import auth\n    app.register_blueprint(auth)\n")
    root = write_tree(tmp_path / "b", files)
    assert sorted(f.path for f in findings(root, "H201")) == ["al/app.py", "al/commands.py"]
    # without an app that registers routes, the command line's app is the one we see
    del files["al/app.py"], files["al/auth/login.py"]
    files["al/commands.py"] = files["al/commands.py"].replace("    from al.auth import auth\n    app.register_blueprint(auth)\n", "")
    root = write_tree(tmp_path / "c", files)
    assert [(f.code, f.path) for f in findings(root, "H211")] == [("H211", "al/commands.py")]


def test_an_app_handed_to_a_class_is_configured_by_its_methods_and_a_config_module_from_the_environment(tmp_path):
    # superset: app_initializer = app.config.get("APP_INITIALIZER", SupersetAppInitializer)(app),
    # whose methods call talisman.init_app(self.superset_app); config_module = superset_config_module
    # or os.environ.get("SUPERSET_CONFIG", "superset.config"), then app.config.from_object(config_module)
    files = {
        "ss/__init__.py": "",
        "ss/extensions.py": "from flask_talisman import Talisman\ntalisman = Talisman()\n",
        "ss/init.py": "from ss.extensions import talisman\n\n\nclass Initializer:\n"
                      "    def __init__(self, app):\n        self.superset_app = app\n\n"
                      "    def init_app(self):\n        talisman.init_app(self.superset_app, force_https=False)\n",
        "ss/app.py": "import os\nfrom flask import Flask\nfrom ss.init import Initializer\n\n\n"
                     "def create_app(superset_config_module=None):\n    app = Flask(__name__)\n"
                     "    config_module = superset_config_module or os.environ.get('SUPERSET_CONFIG', 'ss.config')\n"
                     "    app.config.from_object(config_module)\n"
                     "    app.config.get('APP_INITIALIZER', Initializer)(app).init_app()\n\n"
                     "    @app.get('/')\n    def index():\n        return 'hi'\n\n    return app\n",
        "ss/config.py": "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nSESSION_COOKIE_SECURE = False\n"
                        "SESSION_COOKIE_SAMESITE = 'Lax'\nPERMANENT_SESSION_LIFETIME = 3600\n",
        "ss/templates/index.html": "<p>{{ session.user }}</p>\n",
    }
    root = write_tree(tmp_path / "a", files)
    assert [(f.code, f.path, f.message) for f in findings(root, "H211", "H221")] == [
        ("H221", "ss/config.py", "SESSION_COOKIE_SECURE = False: the cookie also travels over plain HTTP")]
    # the class's methods decide: without talisman.init_app, the app sends no headers
    files["ss/init.py"] = files["ss/init.py"].replace("talisman.init_app(self.superset_app, force_https=False)", "pass")
    root = write_tree(tmp_path / "b", files)
    assert [(f.code, f.path) for f in findings(root, "H211")] == [("H211", "ss/app.py")]


def test_a_subclass_of_csrfprotect_and_headers_set_by_a_helper_the_hook_calls(tmp_path):
    # pgadmin: pgCSRFProtect = _PGCSRFProtect() (a CSRFProtect), pgCSRFProtect.init_app(app); the
    # after_request hook calls SecurityHeaders.set_response_headers(response), which sets some
    # headers by name and others through a dict of config keys
    files = {
        "pg/__init__.py": "from flask import Flask, request, session\nfrom pg.csrf import pgCSRFProtect\n"
                          "from pg.headers import SecurityHeaders\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                          "    pgCSRFProtect.init_app(app)\n\n    @app.after_request\n    def after_request(response):\n"
                          "        SecurityHeaders.set_response_headers(response)\n        return response\n\n"
                          "    @app.post('/x')\n    def x():\n        session['a'] = request.form['a']\n        return 'ok'\n\n"
                          "    return app\n",
        "pg/csrf.py": "from flask_wtf.csrf import CSRFProtect\n\n\nclass _PGCSRFProtect(CSRFProtect):\n    pass\n\n\n"
                      "pgCSRFProtect = _PGCSRFProtect()\n",
        "pg/headers.py": "import config\n\n\nclass SecurityHeaders:\n    @staticmethod\n"
                         "    def set_response_headers(response):\n"
                         "        params = {'X_CONTENT_TYPE_OPTIONS': 'X-Content-Type-Options'}\n"
                         "        response.headers['X-Frame-Options'] = config.X_FRAME_OPTIONS\n"
                         "        response.headers['Content-Security-Policy'] = config.CSP\n"
                         "        for key in params:\n            response.headers[params[key]] = getattr(config, key)\n",
    }
    root = write_tree(tmp_path / "a", files)
    assert [(f.code, f.message) for f in findings(root, "H201", "H211")] == [
        ("H211", "`after_request` sets Content-Security-Policy, X-Frame-Options, X-Content-Type-Options "
                 "but not Referrer-Policy")]
    files["pg/csrf.py"] = files["pg/csrf.py"].replace("(CSRFProtect)", "")
    root = write_tree(tmp_path / "b", files)
    assert [f.code for f in findings(root, "H201")] == ["H201"]


def test_the_routes_of_an_app_in_another_module_are_that_apps(tmp_path):
    # flexget: ui/v1 and ui/v2 each build `webui_app`; only v1's has a state-changing route,
    # and views.py adds a route to the api app it imports
    post = "@{owner}.route('/api/<path:p>', methods=['POST'])\ndef {name}(p):\n    session['p'] = p\n    return p\n"
    files = {
        "fg/__init__.py": "", "fg/ui/__init__.py": "",
        "fg/ui/v1.py": "from flask import Flask, session\nwebui_app = Flask(__name__)\n\n\n"
                       + post.format(owner="webui_app", name="relay"),
        "fg/ui/v2.py": "from flask import Flask\nwebui_app = Flask(__name__)\n\n\n"
                       "@webui_app.route('/')\ndef root():\n    return 'ui'\n",
        "fg/api.py": "from flask import Flask\napi_app = Flask(__name__)\n",
        "fg/views.py": "from flask import session\nfrom fg.api import api_app as api\n\n\n"
                       + post.format(owner="api", name="call"),
    }
    root = write_tree(tmp_path / "a", files)
    assert sorted(f.path for f in findings(root, "H201")) == ["fg/api.py", "fg/ui/v1.py"]


def test_an_app_built_in_a_method_is_an_app_unless_the_classs_helpers_configure_it(tmp_path):
    # locust's web UI builds its app, routes and settings in __init__; pyload's __new__ hands
    # the app to classmethods (cls._configure_extensions(app)) that the model does not follow
    root = write_tree(tmp_path / "ui", {"web.py": textwrap.dedent("""\
        import os
        from flask import Flask, request, session


        class WebUI:
            def __init__(self):
                app = Flask(__name__)
                app.secret_key = os.environ.get("SECRET_KEY", "dev")
                self.app = app

                @app.route("/swarm", methods=["POST"])
                def swarm():
                    session["users"] = request.form["users"]
                    return "started"
        """)})
    result = scan(root, Config(select=["H201"], cache=False))
    assert [(a.name, a.factory.name.value) for a in result.project.apps] == [("app", "__init__")]
    assert [(f.code, f.line) for f in result.findings] == [("H201", 7)]
    apply(root, "H201")
    assert run(root, """\
        import json
        from web import WebUI
        client = WebUI().app.test_client()
        print(json.dumps({"post": client.post("/swarm", data={"users": "3"}).status_code}))
        """) == {"post": 400}

    other = write_tree(tmp_path / "pyload", {"webui.py": textwrap.dedent("""\
        from flask import Flask, request, session


        class App:
            @classmethod
            def _configure_extensions(cls, app):
                for extension in EXTENSIONS:
                    extension.init_app(app)

            def __new__(cls):
                app = Flask(__name__)
                cls._configure_extensions(app)

                @app.route("/swarm", methods=["POST"])
                def swarm():
                    session["users"] = request.form["users"]
                    return "started"
                return app
        """)})
    result = scan(other, Config(select=["H201"], cache=False))
    assert result.project.apps == [] and result.findings == []


def test_one_app_bound_to_two_names_is_one_app(tmp_path):
    # CKAN: app = flask_app = CKANFlask(...); settings and extensions through either name count
    root = write_tree(tmp_path / "p", {
        "web.py": "import os\nfrom datetime import timedelta\nfrom flask import Flask, request, session\n"
                  "from flask_wtf.csrf import CSRFProtect\n\ncsrf = CSRFProtect()\n\n\ndef make_app():\n"
                  "    app = flask_app = Flask(__name__)\n    app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n"
                  "    flask_app.config['SESSION_COOKIE_SECURE'] = True\n"
                  "    app.config.update(SESSION_COOKIE_SAMESITE='Lax', PERMANENT_SESSION_LIFETIME=timedelta(hours=1))\n"
                  "    csrf.init_app(flask_app)\n\n    @app.route('/x', methods=['POST'])\n    def x():\n"
                  "        session['a'] = request.form['a']\n        return 'ok'\n\n    return app\n",
    })
    result = scan(root, Config(select=["H201", "H221"], cache=False))
    assert [(a.name, a.aliases) for a in result.project.apps] == [("app", ("flask_app",))]
    assert result.findings == []


def test_an_extension_created_in_a_module_level_if_or_try_counts(tmp_path):
    # calibre-web: the extension is optional, created in an `if` at module level
    root = write_tree(tmp_path / "p", {
        "web.py": "from flask import Flask, request, session\ntry:\n    from flask_wtf.csrf import CSRFProtect\n"
                  "    present = True\nexcept ImportError:\n    present = False\n\napp = Flask(__name__)\n"
                  "if present:\n    csrf = CSRFProtect()\nelse:\n    csrf = None\n\n\n"
                  "def create_app():\n    if csrf:\n        csrf.init_app(app)\n    return app\n\n\n"
                  "@app.route('/x', methods=['POST'])\ndef x():\n    session['a'] = request.form['a']\n    return 'ok'\n",
    })
    assert findings(root, "H201") == []


def test_settings_and_hooks_in_a_helper_module_are_where_fixes_go(tmp_path):
    root = write_tree(tmp_path / "p", {
        "shop/__init__.py": "from flask import Flask\nfrom .setup import configure\n\n\ndef create_app():\n"
                            "    app = Flask(__name__)\n    configure(application=app)\n    return app\n",
        "shop/setup.py": "import os\n\n\ndef configure(application):\n    application.config.update(\n"
                         "        SECRET_KEY=os.environ['SECRET_KEY'],\n        SESSION_COOKIE_HTTPONLY=True,\n    )\n"
                         "    _headers(application)\n    application.add_url_rule('/', 'home', lambda: 'home')\n\n\n"
                         "def _headers(target):\n    @target.after_request\n    def secure(response):\n"
                         "        response.headers['X-Frame-Options'] = 'DENY'\n        return response\n",
        "shop/templates/form.html": FORM,
    })
    got = {f.code: f.message for f in findings(root, "H211", "H221")}
    assert "`secure` sets X-Frame-Options" in got["H211"]
    assert "`application.config.update(...)`" in got["H221"] and "SESSION_COOKIE_HTTPONLY" not in got["H221"]
    files = apply(root, "H211", "H221")
    assert "SESSION_COOKIE_SECURE=True" in files["shop/setup.py"]
    assert 'response.headers.setdefault("X-Content-Type-Options", "nosniff")' in files["shop/setup.py"]
    assert files["shop/__init__.py"] == "from flask import Flask\nfrom .setup import configure\n\n\ndef create_app():\n" \
                                        "    app = Flask(__name__)\n    configure(application=app)\n    return app\n"
    out = run(root, """
        import json
        from shop import create_app
        app = create_app()
        response = app.test_client().get("/")
        print(json.dumps([response.status_code, app.config["SESSION_COOKIE_SECURE"],
                          response.headers["X-Content-Type-Options"], response.headers["X-Frame-Options"]]))
        """, SECRET_KEY="k")
    assert out == [200, True, "nosniff", "DENY"]


# --------------------------------------------------------------------------- Flask-WTF macros and templates


def test_forms_rendered_with_flask_wtf_macros_are_left_alone(tmp_path):
    templates = {
        "templates/hidden_tag.html": "<form method=\"post\">\n  {{ form.hidden_tag() }}\n  {{ form.name() }}\n</form>\n",
        "templates/csrf_field.html": "<form method=\"POST\">\n  {{ form.csrf_token }}\n</form>\n",
        "templates/macro.html": "{% import 'bootstrap/wtf.html' as wtf %}\n{{ wtf.quick_form(form) }}\n",
        "templates/render.html": "{% from 'bootstrap5/form.html' import render_form %}\n{{ render_form(form) }}\n",
        "templates/plain.html": "<div>\n\t<form action=\"/x\" method=post>\r\n\t\t<input name=\"q\">\r\n\t</form>\n</div>\n",
        "templates/inline.html": "<p><form method='post'><button>Go</button></form></p>\n",
    }
    root = write_tree(tmp_path / "p", {
        "app.py": "import os\nfrom flask import Flask, request\napp = Flask(__name__)\napp.secret_key = os.environ['K']\n"
                  "@app.route('/x', methods=['POST'])\ndef x():\n    return request.form['q']\n",
        **templates,
    })
    files = apply(root, "H201")
    for name in ("hidden_tag", "csrf_field", "macro", "render"):
        assert files[f"templates/{name}.html"] == templates[f"templates/{name}.html"], name
    # the template's own indentation (tabs) and line endings
    assert (root / "templates/plain.html").read_bytes() == (
        b"<div>\n\t<form action=\"/x\" method=post>\r\n\t\t<input type=\"hidden\" name=\"csrf_token\" "
        b"value=\"{{ csrf_token() }}\">\r\n\t\t<input name=\"q\">\r\n\t</form>\n</div>\n")
    assert files["templates/inline.html"] == (
        "<p><form method='post'><input type=\"hidden\" name=\"csrf_token\" value=\"{{ csrf_token() }}\">"
        "<button>Go</button></form></p>\n")


# --------------------------------------------------------------------------- JSON APIs and JavaScript


MIXED = {
    "app.py": textwrap.dedent("""\
        import os
        from flask import Flask, jsonify, render_template, request, session

        app = Flask(__name__)
        app.secret_key = os.environ.get("SECRET_KEY", "dev")


        @app.route("/", methods=["GET", "POST"])
        def index():
            if request.method == "POST":
                session["n"] = request.form["n"]
            return render_template("index.html")


        @app.route("/api/items", methods=["POST"])
        def create_item():
            if request.headers.get("Authorization") != "Bearer good":
                return jsonify(error="unauthorized"), 401
            return jsonify(created=request.get_json()["name"]), 201
        """),
    "templates/index.html": "<html>\n<head>\n  <title>x</title>\n</head>\n<body>\n" + FORM +
                            "<script>\n  fetch('/', {method: 'POST', body: new FormData()});\n</script>\n</body>\n</html>\n",
}


def test_token_api_views_are_exempt_and_javascript_sends_the_header(tmp_path):
    root = write_tree(tmp_path / "p", MIXED)
    [finding] = findings(root, "H201")
    assert finding.fix.safety is Safety.SAFE
    files = apply(root, "H201")
    assert "@csrf.exempt\ndef create_item" in files["app.py"]
    page = files["templates/index.html"]
    assert '<meta name="csrf-token" content="{{ csrf_token() }}">' in page
    assert "\"X-CSRFToken\": document.querySelector('meta[name=\"csrf-token\"]').content" in page
    out = run(root, """
        import json, re
        from app import app
        c = app.test_client()
        page = c.get("/").get_data(as_text=True)
        meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        print(json.dumps({
            "api": c.post("/api/items", json={"name": "a"}, headers={"Authorization": "Bearer good"}).status_code,
            "api_bad": c.post("/api/items", json={"name": "a"}).status_code,
            "form": c.post("/", data={"n": "1"}).status_code,
            "js": c.post("/", data={"n": "1"}, headers={"X-CSRFToken": meta}).status_code,
        }))
        """)
    assert out == {"api": 201, "api_bad": 401, "form": 400, "js": 200}


def test_javascript_posting_in_ways_we_cannot_patch_makes_the_fix_review(tmp_path):
    files = dict(MIXED)
    files["templates/index.html"] = ("<html><head></head><body>\n" + FORM + "<script>\n  var x = new XMLHttpRequest();\n"
                                     "  x.open('POST', '/');\n</script>\n</body></html>\n")
    root = write_tree(tmp_path / "p", files)
    [finding] = findings(root, "H201")
    assert finding.fix.safety is Safety.REVIEW and "XMLHttpRequest" in finding.fix.reason
    assert findings(root, "H201")  # not applied without --unsafe-fixes
    report, _, _ = apply_fixes(root, Config(select=["H201"], cache=False))
    assert report.applied == []


def test_a_pure_json_api_gets_no_csrf_finding(tmp_path):
    root = write_tree(tmp_path / "p", {
        "api.py": "from flask import Flask, jsonify, request\napp = Flask(__name__)\n"
                  "@app.post('/login')\ndef login():\n    data = request.get_json()\n    return jsonify(user=data['u'])\n",
    })
    assert findings(root, "H201") == []


def test_a_session_view_exempt_from_csrf_is_reported_but_not_an_api_view(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, request, session\nfrom flask_login import login_required\n"
                  "from flask_wtf.csrf import CSRFProtect\napp = Flask(__name__)\ncsrf = CSRFProtect(app)\n\n"
                  "@app.route('/settings', methods=['POST'])\n@csrf.exempt\n@login_required\ndef settings():\n"
                  "    return 'ok'\n\n@app.route('/hook', methods=['POST'])\n@csrf.exempt\ndef hook():\n"
                  "    return {'sig': request.headers['Authorization']}\n",
    })
    found = findings(root, "H203")
    assert [f.message.split("`")[1] for f in found] == ["settings"]


@pytest.mark.parametrize("hook,reported", [
    ("@app.before_request\ndef gate():\n    if 'user' not in session:\n        abort(401)\n", True),
    ("@bp.before_app_request\ndef gate():\n    if not current_user.is_authenticated:\n        abort(401)\n", True),
    ("@app.before_request\ndef stamp():\n    g.started = 1\n", False),
    # calibre-web: the session check is commented out
    ("@app.before_request\ndef stamp():\n    # if not current_user.is_authenticated: abort(401)\n    g.started = 1\n",
     False),
])
def test_an_exempt_view_behind_a_hook_that_reads_the_session_is_a_session_view(tmp_path, hook, reported):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Blueprint, Flask, abort, g, session\nfrom flask_login import current_user\n"
                  "from flask_wtf.csrf import CSRFProtect\napp = Flask(__name__)\ncsrf = CSRFProtect(app)\n"
                  "bp = Blueprint('b', __name__)\n\n" + hook + "\n"
                  "@app.route('/items/<int:item_id>/delete', methods=['POST'])\n@csrf.exempt\ndef delete(item_id):\n"
                  "    Item.query.get(item_id).delete()\n    db.session.commit()\n    return 'ok'\n",
    })
    assert bool(findings(root, "H203")) is reported


@pytest.mark.parametrize("loaded", [False, True])
def test_a_class_naming_the_settings_is_not_configuration_unless_an_app_loads_it(tmp_path, loaded):
    # privacyidea's ConfigKey: each attribute holds the name of a setting
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n"
                  + ("app.config.from_object('keys.ConfigKey')\n" if loaded else "")
                  + "app.config['DB_PASSWORD'] = 'Sup3r-s3cret-db'\n",
        "keys.py": "class ConfigKey:\n    SECRET_KEY = 'SECRET_KEY'\n    DB_PASSWORD = 'PI_DB_PASSWORD'\n"
                   "    AUDIT_NO_PRIVATE_KEY_CHECK = 'PI_AUDIT_NO_PRIVATE_KEY_CHECK'\n",
    })
    found = sorted((f.code, f.path) for f in scan(root, Config(select=["H102", "H103"], cache=False)).findings)
    expected = [("H103", "app.py")] + ([("H102", "keys.py"), ("H103", "keys.py"), ("H103", "keys.py")] if loaded else [])
    assert found == sorted(expected)


def test_exempt_views_behind_a_token_decorator_a_header_secret_or_no_cookie_state_are_not_reported(tmp_path):
    # calibre-web's shapes: the device's token in the URL, checked by a decorator of the
    # project's own (which logs the user in); a webhook with a secret header; a proxy view
    root = write_tree(tmp_path / "p", {
        "auth.py": "from flask import abort, g\nfrom flask_login import login_user\nfrom .models import db, Token\n\n"
                   "def requires_device_auth(f):\n    def inner(*args, **kwargs):\n"
                   "        auth_token = g.get('auth_token')\n"
                   "        user = db.session.query(Token).filter(Token.auth_token == auth_token).first()\n"
                   "        if user is not None:\n            login_user(user)\n            return f(*args, **kwargs)\n"
                   "        return abort(401)\n    return inner\n\n"
                   "def admin_required(f):\n    def inner(*args, **kwargs):\n"
                   "        if g.user is None or not g.user.api_token:\n            abort(403)\n"
                   "        return f(*args, **kwargs)\n    return inner\n",
        "views.py": "from flask import Blueprint, request, session\nfrom flask_login import current_user\n"
                    "from flask_wtf.csrf import CSRFProtect\nfrom .auth import admin_required, requires_device_auth\n"
                    "csrf = CSRFProtect()\nbp = Blueprint('dev', __name__)\n\n"
                    "@csrf.exempt\n@bp.route('/tags', methods=['POST'])\n@requires_device_auth\ndef tags():\n"
                    "    return {'user': current_user.id}\n\n"
                    "@csrf.exempt\n@bp.route('/watch', methods=['POST'])\ndef watch():\n"
                    "    if request.headers.get('X-Goog-Channel-Token') != 'x':\n        return ''\n    return 'ok'\n\n"
                    "@csrf.exempt\n@bp.route('/proxy', methods=['POST'])\ndef proxy():\n"
                    "    return forward(request.data)\n\n"
                    "@csrf.exempt\n@bp.route('/theme', methods=['POST'])\ndef theme():\n"
                    "    session['theme'] = request.data\n    return 'ok'\n\n"
                    "@csrf.exempt\n@bp.route('/ban', methods=['POST'])\n@admin_required\ndef ban():\n"
                    "    return {'by': current_user.id}\n",
    })
    assert [f.message.split("`")[1] for f in findings(root, "H203")] == ["theme", "ban"]


# --------------------------------------------------------------------------- headers: CSP and the alternative


def test_csp_lists_the_hosts_and_static_assets_the_templates_use(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, render_template\napp = Flask(__name__)\n"
                  "@app.route('/')\ndef index():\n    return render_template('index.html')\n",
        "templates/index.html": textwrap.dedent("""\
            <head>
              <link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">
              <link rel="stylesheet" href="{{ url_for('static', filename='site.css') }}">
              <link rel="icon" href="https://static.example.net/favicon.ico">
              <script src="//code.jquery.com/jquery.min.js"></script>
            </head>
            <body>
              <img src="https://images.example.org/a.png">
              <iframe src="https://www.youtube.com/embed/x"></iframe>
              <form action="https://pay.example.com/checkout" method="post"></form>
            </body>
            """),
        "static/site.css": "@font-face { font-family: X; src: url(https://fonts.example.com/x.woff2); }\n"
                           "body { background: url('https://img.example.com/bg.png'); }\n",
    })
    files = apply(root, "H211")
    code = files["app.py"]
    expect = {
        "script-src": ["https://code.jquery.com"],
        "style-src": ["https://fonts.googleapis.com"],
        "img-src": ["https://images.example.org", "https://img.example.com", "https://static.example.net", "data:"],
        "font-src": ["https://fonts.example.com", "https://fonts.googleapis.com", "https://fonts.gstatic.com"],
        "frame-src": ["https://www.youtube.com"],
        "form-action": ["https://pay.example.com"],
    }
    for directive, hosts in expect.items():
        line = next(line for line in code.splitlines() if line.strip().startswith(f'"{directive}"'))
        for host in hosts:
            assert host in line, (directive, host, line)
    assert "unsafe-inline" not in code


def test_the_csp_fix_asks_for_review_when_the_apps_templates_were_not_read(tmp_path):
    # locust's shape: the app's templates are a front-end build in another folder, with an inline script
    view = "@app.route('/')\ndef index():\n    return render_template('index.html')\n"
    head = "from flask import Flask, render_template\n"
    cases = {
        "templates": head + "app = Flask(__name__, template_folder='templates')\n" + view,
        "ui/dist": head + "app = Flask(__name__, template_folder='ui/dist')\n" + view,
        "computed": head + "import os\nBUILD = os.path.join('ui', 'dist')\napp = Flask(__name__, template_folder=BUILD)\n" + view,
        "set later": head + "app = Flask(__name__)\napp.template_folder = 'ui/dist'\n" + view,
    }
    safety = {}
    for name, code in cases.items():
        root = write_tree(tmp_path / name.replace(" ", "_").replace("/", "_"), {
            "app.py": code, "ui/dist/index.html": "<script>window.args = {{ args|tojson }}</script>\n"})
        [finding] = [f for f in scan(root, Config()).findings if f.code == "H211"]
        safety[name] = (finding.fix.safety, finding.fix.reason)
    assert safety["templates"] == (Safety.SAFE, "")
    assert safety["ui/dist"] == (Safety.REVIEW, "the app's templates are in template_folder='ui/dist', which hardener "
                                                "does not read: check that the CSP allows what they load")
    assert safety["computed"][0] == Safety.REVIEW and "template_folder=BUILD" in safety["computed"][1]
    assert safety["set later"] == (Safety.REVIEW, "app.py sets the app's template folder or Jinja loader in code: "
                                                  "check that the CSP allows what those templates load")


def test_after_request_alternative_sets_the_same_headers_without_a_dependency(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, render_template\napp = Flask(__name__)\n"
                  "@app.route('/')\ndef index():\n    return render_template('index.html')\n",
        "templates/index.html": "<html><head><style>p { color: red }</style></head>"
                                "<body><script>console.log(1)</script></body></html>\n",
        "requirements.txt": "flask\n",
    })
    files = apply(root, "H211", headers_fix="after_request")
    assert "Talisman" not in files["app.py"] and files["requirements.txt"] == "flask\n"
    assert "@app.after_request" in files["app.py"]
    script = """
        import json, re
        from app import app
        c = app.test_client()
        r = c.get("/", base_url=sys.argv[1] if len(sys.argv) > 1 else "http://localhost")
        html = r.get_data(as_text=True)
        nonces = re.findall(r'nonce="([^"]+)"', html)
        print(json.dumps({"status": r.status_code, "csp": r.headers.get("Content-Security-Policy"),
                          "nonces": nonces, "xfo": r.headers.get("X-Frame-Options"),
                          "nosniff": r.headers.get("X-Content-Type-Options"),
                          "referrer": r.headers.get("Referrer-Policy"), "hsts": r.headers.get("Strict-Transport-Security"),
                          "location": r.headers.get("Location")}))
        """
    dev = run(root, script)
    assert dev["status"] == 200 and dev["xfo"] == "DENY" and dev["nosniff"] == "nosniff" and dev["referrer"]
    assert len(dev["nonces"]) == 2 and len(set(dev["nonces"])) == 1
    assert f"script-src 'self' 'nonce-{dev['nonces'][0]}'" in dev["csp"]
    assert dev["hsts"] is None
    prod = run(root, script, FORCE_HTTPS="1")
    assert prod["status"] == 301 and prod["location"].startswith("https://")


def test_an_app_without_routes_or_templates_is_not_reported(tmp_path):
    root = write_tree(tmp_path / "p", {"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
    assert findings(root, "H211", "H201") == []


# --------------------------------------------------------------------------- secret key, set_cookie


def test_an_app_without_a_secret_key_gets_one_from_env(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, request, session\napp = Flask(__name__)\n\n"
                  "@app.route('/', methods=['POST'])\ndef index():\n    session['n'] = request.form['n']\n    return 'ok'\n",
    })
    files = apply(root, "H201")
    assert 'app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]' in files["app.py"]
    assert "load_dotenv()" in files["app.py"]
    assert re.search(r"^SECRET_KEY=\w{32,}$", files[".env"], re.M)
    env = dict(os.environ)
    env.pop("SECRET_KEY", None)
    out = run(root, """
        import json, re
        from app import app
        c = app.test_client()
        print(json.dumps([c.post("/", data={"n": "1"}).status_code, bool(app.secret_key)]))
        """)
    assert out == [400, True]


def test_set_cookie_fix_is_review_when_javascript_reads_cookies(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, make_response\napp = Flask(__name__)\n@app.route('/')\ndef i():\n"
                  "    r = make_response('x')\n    r.set_cookie('theme', 'dark', samesite='Strict')\n    return r\n",
        "templates/base.html": "<script>var theme = document.cookie;</script>\n",
    })
    [finding] = findings(root, "H222")
    assert finding.fix.safety is Safety.REVIEW and "document.cookie" in finding.fix.reason
    files = apply(root, "H222", unsafe=True)
    assert "r.set_cookie('theme', 'dark', samesite='Strict', secure=True, httponly=True)" in files["app.py"]


def test_settings_loaded_from_the_environment_keep_winning(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, session\napp = Flask(__name__)\napp.config.from_prefixed_env()\n"
                  "app.config.from_envvar('APP_SETTINGS', silent=True)\n",
    })
    code = apply(root, "H221")["app.py"]
    assert code.index('app.config["SESSION_COOKIE_SECURE"] = True') < code.index("from_prefixed_env")
    out = run(root, """
        import json
        from app import app
        print(json.dumps([app.config["SESSION_COOKIE_SAMESITE"], app.config["SESSION_COOKIE_SECURE"]]))
        """, FLASK_SESSION_COOKIE_SAMESITE='"Strict"')
    assert out == ["Strict", True]


def test_csp_connect_src_lists_the_hosts_scripts_call(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n@app.route('/')\ndef i():\n    return 'x'\n",
        "templates/a.html": "<script src=\"{{ url_for('static', filename='a.js') }}\"></script>\n",
        "static/a.js": "fetch('https://api.example.com/v1/items');\nnew WebSocket('wss://live.example.com/feed');\n",
    })
    code = apply(root, "H211")["app.py"]
    line = next(line for line in code.splitlines() if line.strip().startswith('"connect-src"'))
    assert "https://api.example.com" in line and "wss://live.example.com" in line


def test_the_review_prompt_can_choose_the_after_request_alternative(tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace

    from hardener.interactive import prompt_review

    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n@app.route('/')\ndef i():\n    return 'x'\n",
        "requirements.txt": "flask\n",
    })
    [finding] = findings(root, "H211")
    assert finding.fix.alternative is not None and "after_request" in finding.fix.alternative.title
    answers, prompts = iter(["o", "y"]), []
    monkeypatch.setattr("builtins.input", lambda prompt="": prompts.append(prompt) or next(answers))
    code = prompt_review(root, Config(select=["H211"], cache=False), SimpleNamespace(exit_zero=True))
    assert code == 0
    assert "[o]ther fix (Set the security headers in an after_request hook" in prompts[0]
    assert "@app.after_request" in capsys.readouterr().out  # the alternative's diff was shown
    app = (root / "app.py").read_text()
    assert "@app.after_request" in app and "Talisman" not in app
    assert (root / "requirements.txt").read_text() == "flask\n"
    assert findings(root, "H211") == []


def test_new_names_avoid_what_the_module_binds_but_not_module_paths(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "import os\nfrom flask import Flask, request\nfrom flask_wtf.csrf import CSRFError\n\n"
                  "app = Flask(__name__)\napp.secret_key = os.environ['K']\ntalisman = 'a name already taken'\n\n"
                  "@app.route('/x', methods=['POST'])\ndef x():\n    return request.form['a']\n",
    })
    code = apply(root, "H201", "H211")["app.py"]
    assert "\ncsrf = CSRFProtect(app)\n" in code  # `flask_wtf.csrf` binds no name `csrf`
    assert "\ntalisman2 = Talisman(\n" in code and "talisman = 'a name already taken'" in code


def test_test_modules_are_not_part_of_the_project_model(tmp_path):
    # what a test switches off or loads says nothing about production, and a
    # test module no rule checks is not even parsed
    write_tree(tmp_path, {
        "app.py": "from flask import Flask\napp = Flask(__name__)\napp.config['SECRET_KEY'] = 'x' * 3\n",
        "tests/test_app.py": "from app import app\napp.config['WTF_CSRF_ENABLED'] = False\n"
                             "app.config.from_object('tests.settings.TestConfig')\n",
        "tests/conftest.py": "import config\nconfig = config\n",
    })
    result = scan(tmp_path, Config(select=["H2", "H1"], cache=False))
    project = result.project
    assert sorted(project.facts) == ["app.py"]
    assert [s.key for s in project.config_settings(loaded_only=False)] == ["SECRET_KEY"]
    assert not project.python["tests/conftest.py"].parsed
    # a rule checking a test module still gets its facts (imports qualify names)
    facts = project.facts_for("tests/test_app.py")
    assert facts is not None and facts.imports["app"] == "app.app"


def _model_view(project):
    """What the rules read of the model: settings (where, which key), loaded classes and modules."""
    return (
        sorted((s.file.path, s.key, s.kind) for s in project.config_settings(loaded_only=False)),
        sorted((s.file.path, s.key) for s in project.config_settings()),
        sorted((c.file.path, c.name) for c in project.loaded_config_classes()),
        project.loaded_config_modules(),
        project.unresolved_loads,
    )


DORMANT_TREE = {
    "app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('settings.Production')\n"
              "app.config.from_object('consts')\n",
    "base.py": "class Base:\n    SECRET_KEY = 'hard-coded'\n",
    # a load leads here; so does Production's base
    "settings.py": "from base import Base\n\n\nclass Production(Base):  # Config\n    pass\n",
    "consts.py": "SECRET_KEY = 'abc'\n",  # a module loaded as configuration
    "helpers.py": "# Config helpers\nDEFAULT = 1\n",  # nothing leads here
}


def test_dormant_modules_join_the_model_when_a_link_leads_to_them(tmp_path, monkeypatch):
    import hardener.project

    write_tree(tmp_path, DORMANT_TREE)
    project = scan(tmp_path, Config(cache=False)).project
    assert sorted(project.facts) == ["app.py", "base.py", "consts.py", "settings.py"]
    assert not project.python["helpers.py"].parsed
    assert project.facts_for("helpers.py").module_settings["DEFAULT"].literal == 1  # a rule asking gets its facts
    view = _model_view(project)
    assert ("consts.py", "SECRET_KEY") in view[1] and ("base.py", "SECRET_KEY") in view[1]
    assert view[2] == [("base.py", "Base")]  # loaded through Production, which sets nothing itself
    # the same model as when every module is parsed
    monkeypatch.setattr(hardener.project, "dormancy", lambda path, data: None)
    assert _model_view(scan(tmp_path, Config(cache=False)).project) == view


def test_an_unresolved_load_wakes_dormant_config_classes_with_bases(tmp_path, monkeypatch):
    import hardener.project

    write_tree(tmp_path, {
        "app.py": "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config.from_object(os.environ['CFG'])\n",
        "base.py": "class Base:\n    SECRET_KEY = 'k'\n",
        "prod.py": "from base import Base\n\n\nclass ProdConfig(Base):\n    pass\n",
    })
    project = scan(tmp_path, Config(cache=False)).project
    view = _model_view(project)
    assert view[4] is True and ("base.py", "Base") in view[2]  # marked through ProdConfig
    monkeypatch.setattr(hardener.project, "dormancy", lambda path, data: None)
    assert _model_view(scan(tmp_path, Config(cache=False)).project) == view


def test_an_unresolved_load_assumes_only_the_apps_kind_of_config_classes(tmp_path):
    # timesketch's SimilarityScorerConfig, privacyIDEA's FirebaseConfig: *Config, but not an app's
    write_tree(tmp_path, {
        "app.py": "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config.from_object(os.environ['CFG'])\n",
        "prod.py": "class ProdConfig:\n    SQLALCHEMY_DATABASE_URI = 'sqlite://'\n",
        "lib/scorer.py": "class ScorerConfig:\n    DEFAULT_THRESHOLD = 0.5\n",
        "lib/firebase.py": "class FirebaseConfig:\n    JSON_CONFIG = 'JSON config file'\n",
    })
    project = scan(tmp_path, Config(cache=False)).project
    assert [(c.file.path, c.name) for c in project.loaded_config_classes()] == [("prod.py", "ProdConfig")]


def test_dormancy_reads_a_superset_of_what_gives_facts():
    from hardener.project import dormancy

    assert dormancy("m.py", b"X = 1\nclass A:\n    x = 1\n") == ()
    assert dormancy("m.py", b"class A(B):\n    pass\nclass C :\n    pass\n") == ("A",)
    for active in (
        b"class A:\n    X = 1\n", b"class A: X = 1\n", b"class A:\n    (X) = 1\n", b"class A:\n    X: int = 1\n",
        b"class A:\n    if y:\n        X = 1\n", "class A:\n    \u00c4 = 1\n".encode(),
        b"app.config['X'] = 1\n", b"app . config ['X'] = 1\n", b"(app.\n  # c\n  config)['X'] = 1\n",
        b"app.secret_key = k\n", b"app.run(debug  # c\n= True)\n", b"bp = Blueprint('x', __name__)\n",
        b"load_dotenv()\n", b"# -*- coding: latin-1 -*-\nX = '\xe9'\n",
    ):
        assert dormancy("m.py", active) is None, active
    assert dormancy("vendor/flask/m.py", b"X = 1\n") is None  # relative imports there name flask


def test_a_counted_class_wakes_the_dormant_module_of_its_base(tmp_path, monkeypatch):
    import hardener.project

    write_tree(tmp_path, {
        "app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('config.Production')\n",
        "config.py": "from mid import Mid\n\n\nclass Production(Mid):\n    DEBUG = False\n",
        "mid.py": "from base import Base\n\n\nclass Mid(Base):  # Config\n    pass\n",  # dormant: sets nothing
        "base.py": "class Base:\n    SECRET_KEY = 'k'\n",
    })
    project = scan(tmp_path, Config(cache=False)).project
    view = _model_view(project)
    assert ("base.py", "Base") in view[2] and "mid.py" in project.facts
    monkeypatch.setattr(hardener.project, "dormancy", lambda path, data: None)
    assert _model_view(scan(tmp_path, Config(cache=False)).project) == view


def test_config_calls_split_over_lines_still_give_facts(tmp_path):
    # the facts walk visits calls only where the bytes hold such a call
    write_tree(tmp_path, {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n(app.config  # settings\n"
                  "    .update(SESSION_COOKIE_SECURE=False))\nif __name__ == '__main__':\n"
                  "    app . run (host='0.0.0.0', debug  # for now\n    = True)\n",
    })
    project = scan(tmp_path, Config(cache=False)).project
    assert sorted((s.key, s.kind) for s in project.config_settings()) == [
        ("RUN_DEBUG", "run"), ("SESSION_COOKIE_SECURE", "update")]


def test_debug_run_on_an_app_a_call_returns_names_no_receiver(tmp_path):
    # realms-wiki's dev command: create_app().run(host=host, port=port, debug=True)
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n\n\n"
                  "def dev():\n    create_app().run(port=5000, debug=True)\n",
    })
    result = scan(root, Config(select=["H101"], cache=False))
    assert [f.message.split(";")[0] for f in result.findings] == ["Debug mode is on: `run(debug=True)`"]
