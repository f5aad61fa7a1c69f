"""The API rules (H511-H542) on shapes their examples do not cover, and the
patched code's behaviour where it matters (rate limits really apply)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from hardener.apply import apply_fixes
from hardener.config import Config
from hardener.models import Severity
from hardener.scanner import scan

from conftest import SAMPLES, write_tree


def findings(root, *codes):
    result = scan(root, Config(select=list(codes) or ["ALL"], cache=False))
    return [f for f in result.findings if not codes or f.code in codes]


def fix_all(root, *codes):
    report, ws, after = apply_fixes(root, Config(select=list(codes), cache=False), unsafe=True)
    assert not report.failed, report.failed
    ws_text = {p: (ws.read(p) or b"").decode() for p in ws.pending}
    return ws_text, after, ws


# --------------------------------------------------------------------------- H102 covers JWT_SECRET_KEY


@pytest.mark.parametrize("files", [
    {"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config['JWT_SECRET_KEY'] = 'jwt-signing-key-123456789'\n"},
    {"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.update(JWT_SECRET_KEY='jwt-signing-key-123456789')\n"},
    {"app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('settings.Config')\n",
     "settings.py": "class Config:\n    JWT_SECRET_KEY = 'jwt-signing-key-123456789'\n"},
])
def test_hardcoded_jwt_secret_key_is_the_secrets_rule(tmp_path, files):
    root = write_tree(tmp_path / "p", files)
    found = findings(root, "H102")
    assert len(found) == 1 and "JWT_SECRET_KEY" in found[0].message
    assert "jwt-signing-key-123456789" not in found[0].snippet  # masked
    texts, after, ws = fix_all(root, "H102")
    assert "JWT_SECRET_KEY=jwt-signing-key-123456789" in texts[".env"]
    assert not [f for f in after.findings if f.code == "H102"]
    # no API rule reports the key a second time
    assert not [f for f in findings(root, "H5") if "JWT_SECRET_KEY" in f.message]


def test_the_sample_api_key_is_found_by_h102():
    found = findings(SAMPLES / "jwt_api", "H102")
    assert [(f.path, "JWT_SECRET_KEY" in f.message) for f in found] == [("jwtapi/config.py", True)]


# --------------------------------------------------------------------------- H533 and the cookie rule

JWT_COOKIES = {
    "app.py": "from flask import Flask\nfrom flask_jwt_extended import JWTManager\napp = Flask(__name__)\n"
              "app.config.from_object('config.Config')\njwt = JWTManager(app)\n",
    "config.py": "class Config:\n    SECRET_KEY_FILE = '/run/secrets/key'\n    JWT_TOKEN_LOCATION = ['cookies']\n"
                 "    JWT_COOKIE_CSRF_PROTECT = False\n",
}


def test_each_jwt_cookie_setting_is_reported_once_across_rules(tmp_path):
    root = write_tree(tmp_path / "p", JWT_COOKIES)
    every = findings(root)
    for key in ("JWT_COOKIE_SECURE", "JWT_COOKIE_CSRF_PROTECT"):
        about = [f for f in every if key in f.message]
        assert len(about) == 1, [(f.code, f.message) for f in about]
    lines_533 = {(f.path, f.line) for f in every if f.code == "H533"}
    lines_221 = {(f.path, f.line) for f in every if f.code == "H221"}
    assert not lines_533 & lines_221


def test_h533_leaves_settings_to_the_cookie_rule_when_it_covers_them(tmp_path, monkeypatch):
    import hardener_codemods.jwt_cookies as jwt_cookies

    class CookieRule:
        covers_settings = ("JWT_COOKIE_SECURE",)

    monkeypatch.setattr(jwt_cookies, "get_rule", lambda code: CookieRule if code == "H221" else None)
    root = write_tree(tmp_path / "p", JWT_COOKIES)
    messages = [f.message for f in findings(root, "H533")]
    assert len(messages) == 1 and "JWT_COOKIE_CSRF_PROTECT" in messages[0]


def test_h533_fix_keeps_the_config_class_shape(tmp_path):
    root = write_tree(tmp_path / "p", JWT_COOKIES)
    texts, after, _ = fix_all(root, "H533")
    assert "    JWT_COOKIE_SECURE = os.environ.get(\"JWT_COOKIE_SECURE\", \"true\").lower() == \"true\"\n" in texts["config.py"]
    assert "    JWT_COOKIE_CSRF_PROTECT = True\n" in texts["config.py"]
    assert not [f for f in after.findings if f.code == "H533"]


# --------------------------------------------------------------------------- H521 rate limits

MODULE_APP = textwrap.dedent('''\
    from flask import Flask, request
    from werkzeug.security import check_password_hash, generate_password_hash

    app = Flask(__name__)
    HASH = generate_password_hash("right")


    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            return "form"
        if check_password_hash(HASH, request.form.get("password", "")):
            return "welcome"
        return "no", 401
''')

DRIVE = textwrap.dedent('''\
    import json, sys
    sys.path.insert(0, ".")
    from app import app
    client = app.test_client()
    pages = [client.get("/login").status_code for _ in range(8)]
    posts = [client.post("/login", data={"password": "guess"}).status_code for _ in range(6)]
    app.config["TESTING"] = True
    testing = [client.post("/login", data={"password": "guess"}).status_code for _ in range(3)]
    print(json.dumps({"pages": pages, "posts": posts, "testing": testing}))
''')


def test_rate_limit_on_a_module_level_app_really_limits(tmp_path):
    root = write_tree(tmp_path / "p", {"app.py": MODULE_APP})
    texts, after, ws = fix_all(root, "H521")
    assert not [f for f in after.findings if f.code == "H521"]
    for path, text in texts.items():
        (root / path).write_text(text)
    proc = subprocess.run([sys.executable, "-c", DRIVE], cwd=root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["pages"] == [200] * 8  # showing the form is not counted
    assert result["posts"] == [401] * 5 + [429]
    assert result["testing"] == [401] * 3  # test suites are not limited


def test_an_existing_limiter_is_reused(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask\nfrom ext import limiter\nfrom auth import bp\napp = Flask(__name__)\n"
                  "limiter.init_app(app)\napp.register_blueprint(bp)\n",
        "ext.py": "from flask_limiter import Limiter\nfrom flask_limiter.util import get_remote_address\n"
                  "limiter = Limiter(get_remote_address)\n",
        "auth.py": "from flask import Blueprint\nbp = Blueprint('auth', __name__)\n"
                   "@bp.post('/token/refresh')\ndef refresh():\n    return {}\n",
    })
    texts, after, _ = fix_all(root, "H521")
    assert set(texts) == {"auth.py"}  # no second limiter, no new dependency
    assert "from ext import limiter\n" in texts["auth.py"]
    assert '@limiter.limit("5 per minute", exempt_when=lambda: current_app.testing)\ndef refresh' in texts["auth.py"]


def test_several_apps_get_no_automatic_limiter(tmp_path):
    root = write_tree(tmp_path / "p", {
        "a.py": "from flask import Flask\nfrom views import bp\napp = Flask(__name__)\napp.register_blueprint(bp)\n",
        "b.py": "from flask import Flask\nfrom views import bp\nadmin = Flask(__name__)\nadmin.register_blueprint(bp)\n",
        "views.py": "from flask import Blueprint\nbp = Blueprint('v', __name__)\n@bp.post('/signup')\ndef signup():\n    return ''\n",
    })
    [finding] = findings(root, "H521")
    assert finding.fix is None and "several Flask apps" in finding.message


def test_a_limited_blueprint_is_not_reported(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, Blueprint\nfrom flask_limiter import Limiter\n"
                  "from flask_limiter.util import get_remote_address\napp = Flask(__name__)\n"
                  "limiter = Limiter(get_remote_address, app=app)\nbp = Blueprint('auth', __name__)\n"
                  "@bp.post('/login')\ndef login():\n    return ''\nlimiter.limit('10 per minute')(bp)\n"
                  "app.register_blueprint(bp)\n",
    })
    assert findings(root, "H521") == []


def test_a_reset_route_is_a_password_reset_when_it_names_one(tmp_path):
    views = "".join(f"@app.post('{path}')\ndef v{i}():\n    return ''\n" for i, path in enumerate(
        ["/reset/<token>", "/account/reset", "/users/<int:id>/reset", "/stats/reset", "/cache/reset-all",
         "/reset-api-key"]))
    root = write_tree(tmp_path / "p", {"app.py": "from flask import Flask\napp = Flask(__name__)\n" + views})
    assert [f.message.split("`")[1] for f in findings(root, "H521")] == ["v0", "v1", "v2"]


def test_a_refresh_route_refreshes_a_token_when_it_names_one(tmp_path):
    # pgadmin's "/models/openai/refresh" reloads a list; flask-jwt-extended's "/refresh" is a token's
    views = "".join(f"@app.post('{path}')\ndef v{i}():\n    return ''\n" for i, path in enumerate(
        ["/refresh", "/auth/refresh", "/token/refresh", "/models/openai/refresh", "/feeds/<int:id>/refresh"]))
    root = write_tree(tmp_path / "p", {"app.py": "from flask import Flask\napp = Flask(__name__)\n" + views})
    assert [f.message.split("`")[1] for f in findings(root, "H521")] == ["v0", "v1", "v2"]


# --------------------------------------------------------------------------- H511 CORS


def test_cors_on_a_cookie_app_without_credentials_is_medium(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask\nfrom flask_login import LoginManager\nfrom flask_cors import CORS\n"
                  "app = Flask(__name__)\nLoginManager(app)\nCORS(app)\n",
    })
    [finding] = findings(root, "H511")
    assert finding.severity == Severity.MEDIUM and "Flask-Login" in finding.message


def test_cors_credentials_from_config_and_an_extension_object(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask\nfrom flask_cors import CORS\ncors = CORS(origins='*')\n"
                  "def create_app():\n    app = Flask(__name__)\n    app.config['CORS_SUPPORTS_CREDENTIALS'] = True\n"
                  "    cors.init_app(app)\n    return app\n",
    })
    [finding] = findings(root, "H511")
    assert finding.severity == Severity.HIGH
    texts, after, _ = fix_all(root, "H511")
    assert "cors = CORS(origins=[origin.strip() for origin in os.environ.get(\"CORS_ORIGINS\", \"\")" in texts["app.py"]
    assert not [f for f in after.findings if f.code == "H511"]


# --------------------------------------------------------------------------- H531 / H532


def test_long_lifetimes_in_seconds_are_reported_without_fix(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask\napp = Flask(__name__)\napp.config['JWT_ACCESS_TOKEN_EXPIRES'] = 7 * 86400\n"
                  "app.config['JWT_REFRESH_TOKEN_EXPIRES'] = 2592000\n",
    })
    # 7 * 86400 is not a literal we evaluate; 30 days of refresh is fine
    assert findings(root, "H531") == []
    root = write_tree(tmp_path / "q", {
        "app.py": "from flask import Flask\napp = Flask(__name__)\napp.config['JWT_ACCESS_TOKEN_EXPIRES'] = 604800\n",
    })
    [finding] = findings(root, "H531")
    assert finding.fix is None and "7 days" in finding.message


def test_python_jose_decode_is_checked_too(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask\nfrom jose import jwt\napp = Flask(__name__)\n"
                  "def claims(t, key):\n    return jwt.decode(t, key, algorithms=['HS256'], options={'verify_signature': False})\n",
    })
    [finding] = findings(root, "H532")
    assert finding.fix is not None


# --------------------------------------------------------------------------- H542


def test_an_exception_used_twice_in_one_response_is_one_finding(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, jsonify\napp = Flask(__name__)\n\n@app.post('/x')\ndef x():\n    try:\n"
                  "        work()\n    except Exception as e:\n"
                  "        return jsonify(msg='failed: {}'.format(e.orig if hasattr(e, 'orig') else e)), 500\n"
                  "    try:\n        work()\n    except Exception as e:\n"
                  "        return jsonify(msg=str(e)), 500\n    return 'ok'\n",
    })
    assert [(f.line, f.column) for f in findings(root, "H542")] == [(9, 48), (13, 32)]


def test_a_status_computed_from_the_exception_is_not_a_detail_but_headers_are(tmp_path):
    # privacyidea: a generic message, the status mapped from the exception
    root = write_tree(tmp_path / "p", {
        "app.py": "from flask import Flask, jsonify\napp = Flask(__name__)\n\n@app.post('/x')\ndef x():\n    try:\n"
                  "        work()\n    except Exception as e:\n"
                  "        return jsonify(error='registration failed'), map_error_to_code(e)\n"
                  "    try:\n        work()\n    except Exception as e:\n"
                  "        return jsonify(error='failed'), 500, {'X-Error': str(e)}\n"
                  "    try:\n        work()\n    except Exception as e:\n"
                  "        return jsonify(error='failed'), {'X-Error': repr(e)}\n    return 'ok'\n",
    })
    assert [f.line for f in findings(root, "H542")] == [13, 17]
