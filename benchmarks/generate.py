"""Generate a large, realistic Flask code base for the benchmark.

The tree is a monorepo of Flask services. Each service is a package with an
application factory, config classes, extensions, and per entity a model, a
blueprint of routes, a service module of business logic, a test module and
two templates. A share of the routes, configs and templates carry the kinds of
problems hardener and bandit look for (SQL built with f-strings, open
redirects, template injection, unsafe uploads, insecure cookies, hard-coded
secrets, debug mode, ``|safe``), so both tools have real work to do.

Everything is derived from a seeded ``random.Random``: the same arguments
always give the same bytes.
"""

from __future__ import annotations

import os
import random
import shutil
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

ENTITIES = [
    "user", "order", "product", "invoice", "payment", "shipment", "review", "coupon",
    "cart", "category", "supplier", "warehouse", "report", "notification", "audit",
    "ticket", "comment", "subscription", "address", "refund", "discount", "vendor",
    "employee", "department", "project", "task", "document", "message", "booking", "event",
]
SERVICES = [
    "billing", "catalog", "accounts", "fulfilment", "support", "analytics", "inventory",
    "marketing", "payroll", "logistics", "crm", "reporting", "search", "gateway",
    "notifications", "scheduling", "content", "compliance", "pricing", "loyalty",
]
FIELDS = [
    ("name", "db.String(120)", "str"), ("title", "db.String(200)", "str"),
    ("status", "db.String(32)", "str"), ("amount", "db.Numeric(12, 2)", "float"),
    ("quantity", "db.Integer", "int"), ("email", "db.String(255)", "str"),
    ("description", "db.Text", "str"), ("created_at", "db.DateTime", "datetime"),
    ("updated_at", "db.DateTime", "datetime"), ("priority", "db.Integer", "int"),
    ("reference", "db.String(64)", "str"), ("currency", "db.String(3)", "str"),
    ("notes", "db.Text", "str"), ("score", "db.Float", "float"), ("active", "db.Boolean", "bool"),
    ("country", "db.String(2)", "str"), ("weight", "db.Float", "float"), ("code", "db.String(16)", "str"),
]
VERBS = ["compute", "normalise", "validate", "summarise", "merge", "rank", "filter", "group",
         "schedule", "reconcile", "estimate", "allocate", "score", "export", "import", "audit"]
NOUNS = ["totals", "batch", "window", "entries", "records", "items", "rows", "events", "limits",
         "weights", "buckets", "segments", "ledger", "queue", "history", "metrics"]


@dataclass
class Stats:
    python_files: int = 0
    python_lines: int = 0
    templates: int = 0
    vulnerable: dict[str, int] = field(default_factory=dict)
    stdlib_files: int = 0
    stdlib_lines: int = 0

    def mark(self, kind: str) -> None:
        self.vulnerable[kind] = self.vulnerable.get(kind, 0) + 1


class _Gen:
    def __init__(self, rng: random.Random, stats: Stats, vuln_rate: float):
        self.rng = rng
        self.stats = stats
        self.vuln_rate = vuln_rate

    def vulnerable(self, kind: str) -> bool:
        if self.rng.random() < self.vuln_rate:
            self.stats.mark(kind)
            return True
        return False

    # ------------------------------------------------------------------ helpers
    def helper(self, prefix: str = "") -> str:
        """One plain-Python function of 10-30 lines (business-logic filler)."""
        r = self.rng
        name = f"{prefix}{r.choice(VERBS)}_{r.choice(NOUNS)}_{r.randrange(1000)}"
        arg = r.choice(NOUNS)
        key = r.choice(["id", "amount", "weight", "priority", "score", "quantity"])
        threshold = r.randrange(1, 500)
        body = r.choice([
            f'''def {name}({arg}, limit={threshold}, *, strict=False):
    """{name.replace("_", " ").capitalize()} for a list of mappings."""
    result = {{}}
    seen = set()
    for index, entry in enumerate({arg}):
        key = entry.get("{key}")
        if key is None:
            if strict:
                raise ValueError(f"entry {{index}} has no {key}")
            continue
        if key in seen:
            continue
        seen.add(key)
        bucket = result.setdefault(key % {r.randrange(3, 17)}, [])
        bucket.append(entry)
        if len(result) >= limit:
            break
    return {{k: sorted(v, key=lambda e: e.get("{key}", 0)) for k, v in result.items()}}
''',
            f'''def {name}({arg}, factor={r.randrange(2, 9)}.{r.randrange(10)}):
    total = 0.0
    maximum = None
    for value in {arg}:
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        total += number * factor
        if maximum is None or number > maximum:
            maximum = number
    average = total / len({arg}) if {arg} else 0.0
    return {{"total": round(total, 2), "max": maximum, "average": average}}
''',
            f'''class {name.title().replace("_", "")}:
    """Keeps a bounded window of recent values."""

    def __init__(self, size={threshold}):
        self.size = size
        self.values = []

    def push(self, value):
        self.values.append(value)
        if len(self.values) > self.size:
            del self.values[0]
        return self

    def mean(self):
        return sum(self.values) / len(self.values) if self.values else 0

    def __len__(self):
        return len(self.values)

    def __repr__(self):
        return f"<{name.title().replace("_", "")} size={{self.size}} n={{len(self.values)}}>"
''',
            f'''def {name}(rows, columns=("{key}", "name", "status")):
    lines = [",".join(columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            if isinstance(value, str) and ("," in value or '"' in value):
                value = '"' + value.replace('"', '""') + '"'
            cells.append(str(value))
        lines.append(",".join(cells))
    return "\\n".join(lines) + "\\n"
''',
            f'''async def {name}(client, ids, retries={r.randrange(1, 5)}):
    results = {{}}
    for item_id in ids:
        for attempt in range(retries):
            try:
                results[item_id] = await client.fetch(item_id)
                break
            except TimeoutError:
                if attempt == retries - 1:
                    results[item_id] = None
    return results
''',
        ])
        return body

    def pad(self, parts: list[str], target_lines: int, prefix: str = "") -> str:
        text = "\n\n\n".join(p.rstrip("\n") for p in parts)
        while text.count("\n") < target_lines:
            text += "\n\n\n" + self.helper(prefix).rstrip("\n")
        return text if text.endswith("\n") else text + "\n"

    # ------------------------------------------------------------------ files
    def app_init(self, pkg: str, entities: list[str], csrf: bool) -> str:
        imports = "\n".join(f"    from {pkg}.routes.{e} import bp as {e}_bp" for e in entities)
        registers = "\n".join(f"    app.register_blueprint({e}_bp, url_prefix=\"/{plural(e)}\")" for e in entities)
        csrf_import = "from flask_wtf.csrf import CSRFProtect\n\ncsrf = CSRFProtect()\n" if csrf else ""
        csrf_init = "    csrf.init_app(app)\n" if csrf else ""
        return f'''"""The {pkg} service: application factory."""

import logging
import os

from flask import Flask, jsonify

from {pkg}.extensions import db, login_manager
{csrf_import}

def create_app(config_object="{pkg}.config.DevelopmentConfig", overrides=None):
    app = Flask(__name__)
    app.config.from_object(os.environ.get("{pkg.upper()}_CONFIG", config_object))
    if overrides:
        app.config.update(overrides)
    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "user.login"
{csrf_init}
{imports}

{registers}

    @app.route("/health")
    def health():
        return jsonify(status="ok", service="{pkg}")

    logging.getLogger(__name__).info("created %s", app.name)
    return app
'''

    def config(self, pkg: str) -> str:
        if self.vulnerable("hard-coded secret"):
            secret = f'SECRET_KEY = "{self.rng.choice(["dev", "changeme", "secret"])}-{pkg}-{self.rng.randrange(10**6)}"'
        else:
            secret = 'SECRET_KEY = os.environ["SECRET_KEY"]'
        return f'''import os
from datetime import timedelta


class BaseConfig:
    {secret}
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///{pkg}.db")
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    PAGE_SIZE = {self.rng.choice([20, 25, 50])}
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", "/var/lib/{pkg}/uploads")


class DevelopmentConfig(BaseConfig):
    DEBUG = True


class TestingConfig(BaseConfig):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"


class ProductionConfig(BaseConfig):
    PAGE_SIZE = 100
'''

    def extensions(self) -> str:
        return '''from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
login_manager = LoginManager()
'''

    def wsgi(self, pkg: str) -> str:
        debug = "True" if self.vulnerable("debug mode") else 'os.environ.get("FLASK_DEBUG") == "1"'
        return f'''import os

from {pkg} import create_app

app = create_app(os.environ.get("{pkg.upper()}_CONFIG", "{pkg}.config.ProductionConfig"))

if __name__ == "__main__":
    app.run(host="127.0.0.1", port={self.rng.randrange(5000, 9000)}, debug={debug})
'''

    def model(self, pkg: str, entity: str, target: int) -> str:
        r = self.rng
        fields = r.sample(FIELDS, r.randrange(4, 9))
        cls = entity.title()
        columns = "\n".join(f"    {n} = db.Column({t}, nullable={r.choice(['True', 'False'])})" for n, t, _ in fields)
        to_dict = "\n".join(f'            "{n}": self.{n},' for n, _, _ in fields)
        checks = "\n".join(
            f'        if self.{n} is None:\n            problems.append("{n} is required")' for n, _, _ in fields[:3]
        )
        head = f'''"""The {entity} table of {pkg}."""

from datetime import datetime

from {pkg}.extensions import db


class {cls}(db.Model):
    __tablename__ = "{plural(entity)}"

    id = db.Column(db.Integer, primary_key=True)
{columns}

    def to_dict(self):
        return {{
            "id": self.id,
{to_dict}
        }}

    def validate(self):
        problems = []
{checks}
        return problems

    @classmethod
    def recent(cls, limit=20):
        return cls.query.order_by(cls.id.desc()).limit(limit).all()

    def __repr__(self):
        return f"<{cls} {{self.id}}>"'''
        return self.pad([head], target)

    def routes(self, pkg: str, entity: str, target: int) -> str:
        r = self.rng
        cls = entity.title()
        imports = {"Blueprint", "abort", "jsonify", "render_template", "request", "url_for", "redirect"}
        extra_imports = []
        views = [f'''@bp.route("/")
def list_{plural(entity)}():
    page = request.args.get("page", 1, type=int)
    items = {cls}.query.order_by({cls}.id).paginate(page=page, per_page=25)
    return render_template("{entity}/list.html", items=items)''',
                 f'''@bp.route("/<int:item_id>")
def show_{entity}(item_id):
    item = db.get_or_404({cls}, item_id)
    return jsonify(item.to_dict())''',
                 f'''@bp.route("/new", methods=["GET", "POST"])
@login_required
def create_{entity}():
    if request.method == "POST":
        item = {cls}()
        for key, value in request.form.items():
            if hasattr(item, key) and key != "id":
                setattr(item, key, value)
        problems = item.validate()
        if problems:
            return render_template("{entity}/form.html", item=item, problems=problems), 400
        db.session.add(item)
        db.session.commit()
        return redirect(url_for("{entity}.show_{entity}", item_id=item.id))
    return render_template("{entity}/form.html", item=None, problems=[])''',
                 f'''@bp.route("/<int:item_id>/delete", methods=["POST"])
@login_required
def delete_{entity}(item_id):
    item = db.get_or_404({cls}, item_id)
    db.session.delete(item)
    db.session.commit()
    return redirect(url_for("{entity}.list_{plural(entity)}"))''']
        if self.vulnerable("sql built from strings"):
            extra_imports.append("from sqlalchemy import text")
            views.append(f'''@bp.route("/search")
def search_{plural(entity)}():
    term = request.args.get("q", "")
    rows = db.session.execute(text(f"SELECT id FROM {plural(entity)} WHERE reference LIKE '%{{term}}%'"))
    return jsonify([row.id for row in rows])''')
        else:
            views.append(f'''@bp.route("/search")
def search_{plural(entity)}():
    term = request.args.get("q", "")
    rows = {cls}.query.filter({cls}.id > 0).limit(50).all()
    return jsonify([row.to_dict() for row in rows if term in repr(row)])''')
        if self.vulnerable("open redirect"):
            views.append(f'''@bp.route("/done")
def done_{entity}():
    return redirect(request.args.get("next", "/"))''')
        if self.vulnerable("template injection"):
            imports.add("render_template_string")
            views.append(f'''@bp.route("/greet")
def greet_{entity}():
    name = request.args.get("name", "guest")
    return render_template_string(f"<h1>{cls} for {{name}}</h1>")''')
        if self.vulnerable("unsafe upload"):
            extra_imports.append("import os")
            views.append(f'''@bp.route("/upload", methods=["POST"])
@login_required
def upload_{entity}():
    upload = request.files["file"]
    upload.save(os.path.join("/tmp/{pkg}", upload.filename))
    return jsonify(saved=True)''')
        if self.vulnerable("insecure cookie"):
            imports.add("make_response")
            views.append(f'''@bp.route("/prefs", methods=["POST"])
@login_required
def prefs_{entity}():
    response = make_response(jsonify(ok=True))
    response.set_cookie("{entity}_view", request.form.get("view", "list"))
    return response''')
        if self.vulnerable("subprocess with shell"):
            extra_imports.append("import subprocess")
            views.append(f'''@bp.route("/export")
@login_required
def export_{plural(entity)}():
    out = subprocess.run("tar czf /tmp/{entity}.tgz /var/lib/{pkg}", shell=True, capture_output=True)
    return jsonify(code=out.returncode)''')
        std = sorted(i for i in extra_imports if i.startswith("import "))
        third = sorted(i for i in extra_imports if i.startswith("from "))
        lines = [f'"""HTTP views for {plural(entity)}."""', ""]
        if std:
            lines += std + [""]
        lines += [f"from flask import {', '.join(sorted(imports))}", "from flask_login import login_required", *third, ""]
        lines += [f"from {pkg}.extensions import db", f"from {pkg}.models.{entity} import {cls}", "", f'bp = Blueprint("{entity}", __name__)']
        return self.pad(["\n".join(lines), *views], target, "_")

    def service(self, pkg: str, entity: str, target: int) -> str:
        r = self.rng
        head = f'''"""Business rules for {plural(entity)} (no web code here)."""

import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class {entity.title()}Summary:
    count: int = 0
    total: float = 0.0
    by_status: dict = field(default_factory=dict)

    def add(self, status, amount):
        self.count += 1
        self.total += amount
        self.by_status[status] = self.by_status.get(status, 0) + 1


def summarise(items):
    summary = {entity.title()}Summary()
    for item in items:
        summary.add(item.get("status", "new"), float(item.get("amount") or 0))
    log.debug("summarised %d {plural(entity)}", summary.count)
    return summary


def pairwise_deltas(values):
    return [b - a for a, b in itertools.pairwise(values)]


def index_by(items, key="{r.choice(["id", "reference", "code"])}"):
    out = defaultdict(list)
    for item in items:
        out[item.get(key)].append(item)
    return dict(out)'''
        if self.vulnerable("weak hash"):
            head = head.replace("import itertools", "import hashlib\nimport itertools", 1) + f'''


def etag_for(payload):
    return hashlib.md5(repr(payload).encode()).hexdigest()'''
        return self.pad([head], target)

    def test_module(self, pkg: str, entity: str, target: int) -> str:
        head = f'''import pytest

from {pkg} import create_app
from {pkg}.services.{entity} import index_by, summarise


@pytest.fixture
def client():
    app = create_app("{pkg}.config.TestingConfig")
    with app.test_client() as client:
        yield client


def test_list(client):
    assert client.get("/{plural(entity)}/").status_code in (200, 302)


def test_summarise():
    summary = summarise([{{"status": "new", "amount": 2}}, {{"status": "paid", "amount": 3}}])
    assert summary.count == 2
    assert summary.total == 5


def test_index_by():
    assert index_by([{{"id": 1}}, {{"id": 1}}], "id") == {{1: [{{"id": 1}}, {{"id": 1}}]}}'''
        return self.pad([head], target)

    def template_list(self, entity: str) -> str:
        safe = "|safe" if self.vulnerable("|safe in template") else ""
        return f'''{{% extends "base.html" %}}
{{% block content %}}
<h1>{entity.title()}s</h1>
<table class="table">
  {{% for item in items %}}
  <tr><td>{{{{ item.id }}}}</td><td>{{{{ item.name }}}}</td><td>{{{{ item.description{safe} }}}}</td></tr>
  {{% endfor %}}
</table>
{{% endblock %}}
'''

    def template_form(self, entity: str) -> str:
        return f'''{{% extends "base.html" %}}
{{% block content %}}
<form method="post" action="{{{{ url_for('{entity}.create_{entity}') }}}}">
  {{% for problem in problems %}}<p class="error">{{{{ problem }}}}</p>{{% endfor %}}
  <input name="name" value="{{{{ item.name if item else '' }}}}">
  <button type="submit">Save</button>
</form>
{{% endblock %}}
'''

    def base_template(self, pkg: str) -> str:
        return f'''<!doctype html>
<html>
<head><title>{pkg}</title><link rel="stylesheet" href="{{{{ url_for('static', filename='app.css') }}}}"></head>
<body>{{% block content %}}{{% endblock %}}</body>
</html>
'''


def plural(word: str) -> str:
    if word.endswith(("s", "sh", "ch")):
        return word + "es"
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def generate(root: Path, files: int = 1500, lines: int = 250_000, seed: int = 7, vuln_rate: float = 0.12) -> Stats:
    """Write ``files`` Python files (about ``lines`` lines in all) under ``root``."""
    rng = random.Random(seed)
    stats = Stats()
    gen = _Gen(rng, stats, vuln_rate)
    root.mkdir(parents=True, exist_ok=True)

    def write(rel: str, text: str) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if rel.endswith(".py"):
            stats.python_files += 1
            stats.python_lines += text.count("\n")
        else:
            stats.templates += 1

    def size() -> int:
        # aim at what is left of the line budget, so the total comes out close to ``lines``
        left = max(files - stats.python_files, 1)
        per = max(lines - stats.python_lines, 0) / left
        return max(20, int(per * rng.uniform(0.6, 1.4)))

    service_index = 0
    while stats.python_files < files:
        name = f"{SERVICES[service_index % len(SERVICES)]}{service_index // len(SERVICES) or ''}"
        pkg = f"svc_{name}"
        service_index += 1
        entities = rng.sample(ENTITIES, 10)
        base = f"services/{name}"
        plan: list[tuple[str, callable]] = [
            (f"{base}/{pkg}/__init__.py", lambda: gen.app_init(pkg, entities, csrf=not gen.vulnerable("no CSRF"))),
            (f"{base}/{pkg}/config.py", lambda: gen.config(pkg)),
            (f"{base}/{pkg}/extensions.py", gen.extensions),
            (f"{base}/wsgi.py", lambda: gen.wsgi(pkg)),
            (f"{base}/{pkg}/models/__init__.py", lambda: ""),
            (f"{base}/{pkg}/routes/__init__.py", lambda: ""),
            (f"{base}/{pkg}/services/__init__.py", lambda: ""),
        ]
        for entity in entities:
            plan += [
                (f"{base}/{pkg}/models/{entity}.py", lambda e=entity: gen.model(pkg, e, size())),
                (f"{base}/{pkg}/routes/{entity}.py", lambda e=entity: gen.routes(pkg, e, size())),
                (f"{base}/{pkg}/services/{entity}.py", lambda e=entity: gen.service(pkg, e, size())),
                (f"{base}/tests/test_{entity}.py", lambda e=entity: gen.test_module(pkg, e, size())),
            ]
        write(f"{base}/{pkg}/templates/base.html", gen.base_template(pkg))
        for rel, make in plan:
            if stats.python_files >= files:
                break
            write(rel, make())
            if "/routes/" in rel and not rel.endswith("__init__.py"):
                entity = rel.rsplit("/", 1)[1][:-3]
                write(f"{base}/{pkg}/templates/{entity}/list.html", gen.template_list(entity))
                write(f"{base}/{pkg}/templates/{entity}/form.html", gen.template_form(entity))
    return stats


def copy_stdlib(dest: Path, stats: Stats) -> None:
    """The standard library's own .py sources (without its test suites) as background code."""
    src = Path(sysconfig.get_paths()["stdlib"])
    skip_dirs = {"site-packages", "__pycache__", "test", "tests", "idle_test", "dist-packages"}
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs and not d.startswith("config-"))
        rel = Path(dirpath).relative_to(src)
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            target = dest / rel / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(dirpath) / name, target)
            stats.stdlib_files += 1
            with open(target, "rb") as fh:
                stats.stdlib_lines += fh.read().count(b"\n")
