"""H501 plaintext-password and H502 weak-password-hash beyond their examples:
store and check sites change together or not at all, composition with the
SQL rule's parameterized queries, column widths, and that logins still work."""

from __future__ import annotations

import subprocess
import sys

from hardener.models import Safety

from rewrite_helpers import findings, fix, fix_twice, project

SQLITE_APP = """\
import sqlite3
from flask import Flask, request, session
app = Flask(__name__)
app.secret_key = "test"


def get_db():
    db = sqlite3.connect("users.db")
    db.row_factory = sqlite3.Row
    return db


def init_db():
    db = get_db()
    db.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password TEXT)")
    db.execute("INSERT INTO users (username, password) VALUES ('alice', 'alice-pw')")
    db.commit()


@app.post("/register")
def register():
    db = get_db()
    db.execute("INSERT INTO users (username, password) VALUES (?, ?)", (request.form["u"], request.form["p"]))
    db.commit()
    return "ok"


@app.post("/login")
def login():
    username = request.form["u"]
    password = request.form["p"]
    user = get_db().execute(
        LOGIN_QUERY
    ).fetchone()
    if user is None:
        return "no", 401
    return "hi " + user["username"]
"""
FORMATTED = """f"SELECT id, username FROM users WHERE username = '{username}' AND password = '{password}'\""""
PARAMETERIZED = '"SELECT id, username FROM users WHERE username = ? AND password = ?", (username, password)'


def test_login_query_built_by_formatting_blocks_every_site(tmp_path):
    root = project(tmp_path, SQLITE_APP.replace("LOGIN_QUERY", FORMATTED))
    found = findings(root, "H501")
    assert len(found) == 3 and all(f.fix is None for f in found)
    assert any("parameterize it first (H301)" in f.message for f in found)
    assert any("cannot be rewritten" in f.message for f in found)


def test_parameterized_login_composes_and_logins_work(tmp_path):
    root = project(tmp_path, SQLITE_APP.replace("LOGIN_QUERY", PARAMETERIZED))
    found = findings(root, "H501")
    assert len(found) == 3
    assert all(f.fix.safety is Safety.REVIEW and f.fix.reason for f in found)
    # without --unsafe-fixes nothing changes
    texts, left = fix(root, "H501", unsafe=False)
    assert texts == {} and len(left) == 3
    texts = fix_twice(root, "H501")
    app = texts["app.py"]
    assert '"SELECT id, username, password FROM users WHERE username = ?", (username,)' in app
    assert 'if user is not None and not check_password_hash(user["password"], password):\n        user = None\n' in app
    assert "VALUES ('alice', ?)\", (generate_password_hash(\"alice-pw\"),))" in app
    assert '(request.form["u"], generate_password_hash(request.form["p"])))' in app
    probe = (
        "import sys, sqlite3\nsys.path.insert(0, '.')\nimport app as m\nm.init_db()\nc = m.app.test_client()\n"
        "print(c.post('/login', data={'u': 'alice', 'p': 'alice-pw'}).status_code)\n"
        "print(c.post('/login', data={'u': 'alice', 'p': 'x'}).status_code)\n"
        "print(c.post('/login', data={'u': \"alice' --\", 'p': ''}).status_code)\n"
        "print(c.post('/register', data={'u': 'bo', 'p': 'bo-pw'}).status_code)\n"
        "print(c.post('/login', data={'u': 'bo', 'p': 'bo-pw'}).status_code)\n"
        "rows = dict(sqlite3.connect('users.db').execute('SELECT username, password FROM users'))\n"
        "print(all(v.startswith('scrypt:') for v in rows.values()))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["200", "401", "401", "200", "200", "True"], out.stderr


def test_store_without_any_check_site_is_not_fixed(tmp_path):
    root = project(tmp_path, "from flask import Flask, request\napp = Flask(__name__)\n"
                             "@app.post('/r')\ndef r():\n    user = User(email=request.form['e'], password=request.form['p'])\n"
                             "    return 'ok'\n")
    (found,) = findings(root, "H501")
    assert found.fix is None and "could not find where passwords are checked" in found.message


HASHING_MODELS = {
    "db.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
    # the property setter of Flasky and of many tutorials
    "models.py": "from werkzeug.security import generate_password_hash\nfrom .db import db\n\n\n"
                 "class User(db.Model):\n    password_hash = db.Column(db.String(256))\n\n"
                 "    @property\n    def password(self):\n        raise AttributeError('write-only')\n\n"
                 "    @password.setter\n    def password(self, password):\n"
                 "        self.password_hash = generate_password_hash(password)\n",
    # FlaskBB's: a synonym whose descriptor is property(get, set)
    "forum.py": "from werkzeug.security import generate_password_hash\nfrom .db import db\n\n\n"
                "class Member(db.Model):\n    _pwd = db.Column('pwd', db.String(256))\n\n"
                "    def _get(self):\n        return self._pwd\n\n"
                "    def _set(self, value):\n        self._pwd = generate_password_hash(value)\n\n"
                "    pwd = db.synonym('_pwd', descriptor=property(_get, _set))\n",
    "app.py": "from flask import Flask, request\nfrom .models import User\nfrom .forum import Member\n"
              "app = Flask(__name__)\n\n@app.post('/r')\ndef r():\n    user = User(password=request.form['p'])\n"
              "    member = Member(name='x')\n    member.pwd = request.form['p']\n    user.password = request.form['p']\n"
              "    return 'ok'\n",
}


def test_attributes_whose_setter_hashes_are_not_plaintext(tmp_path):
    assert findings(project(tmp_path / "a", HASHING_MODELS), "H501") == []
    # a second model with a plain password column: `user.password = ...` could be either
    plain = dict(HASHING_MODELS, **{"legacy.py": "from .db import db\n\n\nclass Legacy(db.Model):\n"
                                                  "    password = db.Column(db.String(64))\n"})
    assert [f.line for f in findings(project(tmp_path / "b", plain), "H501")] == [8, 11]
    # a setter that stores what it is given
    stored = dict(HASHING_MODELS, **{"forum.py": HASHING_MODELS["forum.py"].replace(
        "generate_password_hash(value)", "value")})
    assert [f.line for f in findings(project(tmp_path / "c", stored), "H501")] == [10]


def test_a_descriptor_that_hashes_and_what_it_is_compared_with(tmp_path):
    # indico's PasswordProperty: __set__ stores a bcrypt hash, __get__ gives an object that checks against it
    files = {
        "util.py": "import bcrypt\n\n\nclass PasswordProperty:\n    def __init__(self, attr):\n        self.attr = attr\n\n"
                   "    def __set__(self, instance, value):\n"
                   "        setattr(instance, self.attr, bcrypt.hashpw(value.encode(), bcrypt.gensalt()).decode())\n",
        "models.py": "from .util import PasswordProperty\nfrom .db import db\n\n\nclass Identity(db.Model):\n"
                     "    password_hash = db.Column(db.String)\n    password = PasswordProperty('password_hash')\n",
        "app.py": "from flask import Flask, request\nfrom .models import Identity\napp = Flask(__name__)\n\n"
                  "@app.post('/r')\ndef r():\n    Identity(password=request.form['p'])\n    return 'ok'\n\n"
                  "def check(identity, password):\n    return not identity.password != password\n",
    }
    assert findings(project(tmp_path / "a", files), "H501") == []
    setter = files["util.py"].replace("bcrypt.hashpw(value.encode(), bcrypt.gensalt()).decode()", "value")
    assert [f.line for f in findings(project(tmp_path / "b", dict(files, **{"util.py": setter})), "H501")] == [7, 11]


def test_a_sqlalchemy_listener_that_hashes_before_every_write_and_encrypted_columns(tmp_path):
    # lemur: listen(User, "before_insert"/"before_update", hash_password) calls target.hash_password();
    # a Role's password is a Vault column (encrypted); with a listener on inserts only, updates store plaintext
    models = ("from sqlalchemy import Column, String\nfrom sqlalchemy.event import listen\n"
              "from app.extensions import bcrypt, db\nfrom app.utils import Vault\n\n\n"
              "def hash_password(mapper, connect, target):\n    target.hash_password()\n\n\n"
              "class User(db.Model):\n    password = Column(String(128))\n\n    def hash_password(self):\n"
              "        if self.password and not self.password.startswith('$2'):\n"
              "            self.password = bcrypt.generate_password_hash(self.password).decode('utf-8')\n\n\n"
              "class Role(db.Model):\n    password = Column(Vault)\n\n\n"
              "listen(User, 'before_insert', hash_password)\nlisten(User, 'before_update', hash_password)\n")
    service = ("from flask import Blueprint, request\nfrom app.models import Role, User\nbp = Blueprint('u', __name__)\n\n"
               "@bp.post('/users')\ndef create():\n    user = User(password=request.form['password'])\n"
               "    role = Role(password=request.form['password'])\n    return 'ok'\n\n"
               "@bp.post('/users/<int:id>')\ndef update(id):\n    user = User.query.get(id)\n"
               "    user.password = request.form['password']\n    return 'ok'\n")
    files = {"app/__init__.py": "from flask import Flask\napp = Flask(__name__)\n", "app/models.py": models,
             "app/views.py": service}
    assert findings(project(tmp_path / "a", files), "H501") == []
    inserts_only = models.replace("listen(User, 'before_update', hash_password)\n", "")
    found = findings(project(tmp_path / "b", dict(files, **{"app/models.py": inserts_only})), "H501")
    # the Role line too: with User.password plain, a store to `password` may be to either class
    assert [(f.path, f.line) for f in found] == [("app/views.py", 7), ("app/views.py", 8), ("app/views.py", 14)]


def test_a_confirmation_check_compares_two_typed_passwords(tmp_path):
    root = project(tmp_path, "from flask import Flask\napp = Flask(__name__)\n\n\nclass Registration(BaseModel):\n    password: str\n    password_2: str\n\n"
                             "    def check(self):\n        if self.password != self.password_2:\n"
                             "            raise ValueError('no match')\n        if self.password != confirm:\n"
                             "            raise ValueError('no match')\n        return self.password == password\n")
    assert [f.line for f in findings(root, "H501")] == [14]


def test_credentials_for_other_services_and_encrypted_values_are_not_user_passwords(tmp_path):
    root = project(tmp_path, "from flask import Flask, request\napp = Flask(__name__)\n"
                             "@app.post('/r')\ndef r():\n    username, password = credentials(request.form['proxy'])\n"
                             "    proxy = {'server': request.form['proxy']}\n    proxy['password'] = password\n"
                             "    mailer = SMTPSettings(password=request.form['p'])\n"
                             "    settings['password'] = form.password.encrypted_password\n"
                             "    user = EmailUser(password=request.form['p'])\n    return 'ok'\n\n"
                             "def connect(password):\n    connect_args = {}\n    connect_args['password'] = password\n"
                             "    return BasicParametersType(password=password)\n\n"
                             "class Database:\n    def set(self, password):\n        self.password = password\n"
                             "        return self.password != PASSWORD_MASK\n\n"
                             "class User:\n    def set(self, password):\n        self.password = password\n\n"
                             # buku's passphrase of an encrypted file; errbot's IRC server password
                             "class BukuCrypt:\n    def unlock(self):\n        self.password = self._getpass()\n\n"
                             "def irc(password):\n    return IRCConnection(server='irc', password=password)\n")
    assert [f.line for f in findings(root, "H501")] == [10, 25]


def test_copies_of_stored_passwords_and_server_credentials_are_not_typed_passwords(tmp_path):
    # pgadmin's and mlflow's shapes: database server passwords moved between objects,
    # re-encoded in place, host credentials; a CLI argument is still typed
    root = project(tmp_path, "from flask import Flask, request\napp = Flask(__name__)\n\n"
                             "def share(server, sharedserver, data, res, user, args):\n"
                             "    server.password = sharedserver.password\n"
                             "    res['password'] = self_copy.password.decode('utf-8')\n"
                             "    data['password'] = data['password'].encode('utf-8')\n"
                             "    data['password'] = data['password'] if 'password' in data else None\n"
                             "    host = MlflowHostCreds(password=data['password'])\n"
                             "    user.password = args.password\n\n"
                             "class ServerManager:\n    def __init__(self, server):\n        self.password = server.pw\n\n"
                             "class HTTPResolver:\n    def load(self, password):\n        self.password = password\n\n"
                             "class ApiClient:\n    def __init__(self, password):\n        self.password = password\n\n"
                             "def sign_in(self, user, password, html):\n    url, inputs = parse_form(html)\n"
                             "    inputs['password'] = password\n    return self.load(url, post=inputs)\n\n"
                             "def add_user(db, name, password):\n    salt_pw = _salted_password(password, _gensalt())\n"
                             "    db.execute('INSERT INTO users (name, password) VALUES (?, ?)', (name, salt_pw))\n")
    assert [f.line for f in findings(root, "H501")] == [9]  # user.password = args.password


def test_the_apps_configured_password_and_basic_auth_credentials(tmp_path):
    # sqlite-web's and rq-dashboard's shapes: one password set by whoever deploys the app,
    # compared with what the client typed (a form field, HTTP Basic credentials); a user's
    # stored password compared with Basic credentials is still reported
    root = project(tmp_path, "from flask import Flask, request\napp = Flask(__name__)\n\n"
                             "@app.post('/login')\ndef login():\n"
                             "    if request.form.get('password') == app.config['PASSWORD']:\n        return 'hi'\n"
                             "    if request.form['password'] == settings.PASSWORD:\n        return 'hi'\n"
                             "    return 'no'\n\n"
                             "def add_basic_auth(bp, username, password):\n    @bp.before_request\n"
                             "    def check():\n        auth = request.authorization\n"
                             "        if auth is None or auth.password != password:\n            return 'no', 401\n\n"
                             "@app.get('/api')\ndef api():\n    auth = request.authorization\n"
                             "    user = find(auth.username)\n    if user.password != auth.password:\n        return 'no', 401\n"
                             "    return 'hi'\n\n"
                             # scrapydweb: the view keeps the configured password on itself
                             "class BaseView:\n    def __init__(self):\n"
                             "        self.PASSWORD = app.config.get('PASSWORD', '')\n"
                             "        self.password = os.environ.get('ADMIN_PASSWORD')\n"
                             "        self.pw = current_app.config['PASSWORD']\n")
    assert [f.line for f in findings(root, "H501")] == [22]


def test_compare_with_request_value(tmp_path):
    root = project(tmp_path, "from flask import Flask, request\napp = Flask(__name__)\n"
                             "@app.post('/r')\ndef r():\n    u = User(password=request.form['password'])\n    return 'ok'\n"
                             "@app.post('/l')\ndef l():\n    user = find(request.form['name'])\n"
                             "    if user.password != request.form['password']:\n        return 'no'\n    return 'hi'\n")
    texts = fix_twice(root, "H501")
    assert "if not check_password_hash(user.password, request.form['password']):" in texts["app.py"]
    assert "User(password=generate_password_hash(request.form['password']))" in texts["app.py"]


def test_md5_across_files_and_wide_column_keeps_the_default_method(tmp_path):
    root = project(tmp_path, {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "models.py": "import hashlib\nfrom sqlalchemy import Column, String\nclass User:\n"
                     "    pw_hash = Column(String(255))\n",
        "auth.py": "import hashlib, hmac\n\ndef register(user, password):\n"
                   "    user.pw_hash = hashlib.new('md5', password.encode('utf-8')).hexdigest()\n\n"
                   "def login(user, password):\n"
                   "    return hmac.compare_digest(user.pw_hash, hashlib.md5(password.encode()).hexdigest())\n",
    })
    assert len(findings(root, "H502")) == 2
    texts = fix_twice(root, "H502")
    auth = texts["auth.py"]
    assert "user.pw_hash = generate_password_hash(password)\n" in auth
    assert "return check_password_hash(user.pw_hash, password)\n" in auth
    assert "hashlib" not in auth  # its last use is gone, so is the import
    compile(auth, "auth.py", "exec")


def test_digests_a_client_of_another_service_sends_are_not_stored_passwords(tmp_path):
    # beets' Emby and Subsonic plugins: the API asks for md5(password + salt) or sha1(password)
    client = ("import hashlib\nimport requests\n\n\ndef password_data(username, password):\n"
              "    return {'username': username, 'password': hashlib.sha1(password.encode('utf-8')).hexdigest()}\n\n\n"
              "def login(url, username, password):\n"
              "    return requests.post(url, json=password_data(username, password))\n")
    root = project(tmp_path, {"app.py": "from flask import Flask\napp = Flask(__name__)\n", "emby.py": client,
                              "models.py": client.replace("import requests\n", "import requests\nimport sqlite3\n")})
    assert [(f.path, f.line) for f in findings(root, "H502")] == [("models.py", 7)]


def test_narrow_column_refuses(tmp_path):
    root = project(tmp_path, {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "models.py": "import hashlib\nfrom flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\nclass User(db.Model):\n"
                     "    password_hash = db.Column(db.String(64))\n"
                     "    def set_password(self, p):\n        self.password_hash = hashlib.sha256(p.encode()).hexdigest()\n"
                     "    def check_password(self, p):\n        return hashlib.sha256(p.encode()).hexdigest() == self.password_hash\n",
    })
    found = findings(root, "H502")
    assert len(found) == 2 and all(f.fix is None for f in found)
    assert "widen it" in found[0].message


def test_salted_sha256_and_non_password_digests_are_not_reported(tmp_path):
    root = project(tmp_path, {
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "util.py": "import hashlib\ndef h(salt, password):\n    return hashlib.sha256((salt + password).encode()).hexdigest()\n"
                   "def etag(data):\n    return hashlib.md5(data).hexdigest()\n",
    })
    assert findings(root, "H502") == []


def test_query_in_a_variable_and_a_hashed_variable(tmp_path):
    root = project(tmp_path, """\
        import sqlite3
        from flask import Flask, request
        from werkzeug.security import generate_password_hash
        app = Flask(__name__)

        @app.post("/register")
        def register():
            password = generate_password_hash(request.form["p"])
            user = User(name=request.form["u"], password=password)
            return "ok"

        @app.post("/login")
        def login():
            db = sqlite3.connect("x.db")
            query = "SELECT id FROM users WHERE password = ? AND username = ?"
            row = db.execute(query, (request.form["p"], request.form["u"])).fetchone()
            return "hi" if row else "no"
    """)
    (found,) = findings(root, "H501")  # the store site already hashes
    assert found.line == 16 and found.fix is None
    assert "could not find where passwords are stored" in found.message


def test_login_query_in_a_variable_is_rewritten(tmp_path):
    root = project(tmp_path, """\
        import sqlite3
        from flask import Flask, request
        app = Flask(__name__)

        @app.post("/register")
        def register():
            db = sqlite3.connect("x.db")
            db.execute("INSERT INTO users (username, password) VALUES (?, ?)", (request.form["u"], request.form["p"]))
            return "ok"

        @app.post("/login")
        def login():
            db = sqlite3.connect("x.db")
            query = "SELECT id FROM users WHERE password = ? AND username = ?"
            row = db.execute(query, (request.form["p"], request.form["u"])).fetchone()
            return "hi" if row else "no"
    """)
    texts = fix_twice(root, "H501")
    app = texts["app.py"]
    assert 'query = "SELECT id, password FROM users WHERE username = ?"\n' in app
    assert 'row = db.execute(query, (request.form["u"],)).fetchone()\n' \
           '    if row is not None and not check_password_hash(row[1], request.form["p"]):\n        row = None\n' in app


def test_hashed_value_formatted_into_sql_is_not_plaintext(tmp_path):
    root = project(tmp_path, """\
        from flask import Flask, request
        from sqlalchemy import text
        app = Flask(__name__)

        def update_password(db, user, data):
            new_password = bcrypt.generate_password_hash(data.get("new_password")).decode("utf-8")
            query = f"UPDATE user SET password = \\"{new_password}\\" WHERE id = {user.id}"
            db.session.execute(text(query))

        def reset(db, user):
            db.session.execute(text(f"UPDATE user SET password = '{request.form['pw']}' WHERE id = 1"))
    """)
    (found,) = findings(root, "H501")
    assert found.line == 11 and found.fix is None and "parameterize it first" in found.message


def test_composes_with_a_sql_fix_in_the_same_run(tmp_path):
    """The apply engine re-scans between rounds: once a (stand-in) SQL rule has
    parameterized the login query, the password fix applies in the same run."""
    import libcst as cst

    from hardener import rules as registry
    from hardener.apply import apply_fixes
    from hardener.config import Config
    from hardener.fixkit import ChangeBuilder
    from hardener.models import Confidence, Fix, Severity

    class StandInSql(registry.Rule):
        """Stand-in for the SQL rule (test only)."""

        code, name, category = "H399", "stand-in-sql", "sql"
        severity, confidence = Severity.HIGH, Confidence.HIGH

        def check_file(self, file, project):
            for node in _fstrings(file.module):
                def compute():
                    builder = ChangeBuilder(project)
                    builder.set(file.path, file.data.replace(FORMATTED.encode(), PARAMETERIZED.encode()))
                    return builder.build()

                yield self.finding(file, node, "formatted SQL", Fix("parameterize", Safety.SAFE, compute))

    def _fstrings(module):
        out = []

        class V(cst.CSTVisitor):
            def visit_FormattedString(self, node):
                if "SELECT" in module.code_for_node(node):
                    out.append(node)

        module.visit(V())
        return out

    root = project(tmp_path, SQLITE_APP.replace("LOGIN_QUERY", FORMATTED))
    registry._REGISTRY["H399"] = StandInSql
    try:
        report, ws, after = apply_fixes(root, Config(select=["H399", "H501"], cache=False), unsafe=True)
    finally:
        del registry._REGISTRY["H399"]
    assert not report.failed, report.failed
    assert [a.finding.code for a in report.applied] == ["H399", "H501"]
    app = ws.read("app.py").decode()
    assert 'if user is not None and not check_password_hash(user["password"], password):' in app
    assert [f for f in after.findings if f.code in ("H399", "H501")] == []


def test_login_query_over_several_literals(tmp_path):
    query = '"SELECT id, username FROM users "\n        "WHERE username = ? AND password = ?",\n        (username, password)'
    root = project(tmp_path, SQLITE_APP.replace("LOGIN_QUERY", query))
    texts = fix_twice(root, "H501")
    assert '"SELECT id, username, password FROM users WHERE username = ?",\n        (username,)' in texts["app.py"]
