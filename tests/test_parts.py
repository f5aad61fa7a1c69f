"""The independent parts of a project (hardener/parts.py): how a project is
split, how a lookup into another part merges the two, what each part's rules
see, and what the cache reuses when one part changes."""

from __future__ import annotations

import json
import re
import sys

import pytest

from hardener import cache as cachemod
from hardener.config import Config, load_config
from hardener.parts import file_links, imported_names, module_index, split
from hardener.rules import all_rules
from hardener.scanner import Scanner
from conftest import run_hardener


pytestmark = pytest.mark.usefixtures("cli_recursion_limit")


def _service(name: str, *, upload: bool = False, extra: str = "") -> dict[str, str]:
    """A small Flask service as a package of its own, with a template and a config module."""
    views = (
        "from flask import Blueprint, render_template, request\n\n"
        "bp = Blueprint('main', __name__)\n\n\n"
        "@bp.route('/')\ndef index():\n    return render_template('index.html')\n"
    )
    if upload:
        views += (
            "\n\n@bp.route('/upload', methods=['POST'])\ndef upload():\n"
            "    request.files['file'].save('/tmp/upload.bin')\n    return 'ok'\n"
        )
    return {
        f"services/{name}/{name}/__init__.py": (
            "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
            f"    app.config.from_object('{name}.config.Config')\n"
            f"    from {name}.views import bp\n    app.register_blueprint(bp)\n    return app\n" + extra
        ),
        f"services/{name}/{name}/config.py": "class Config:\n    SECRET_KEY = 'a-hard-coded-key-1234'\n",
        f"services/{name}/{name}/views.py": views,
        f"services/{name}/{name}/templates/index.html": "<form method='post'><input name='q'></form>\n",
    }


def _split(root):
    python = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}
    templates = [p.relative_to(root).as_posix() for p in sorted(root.rglob("*.html"))]
    return split(python, templates, module_index(python), {})


def _parts(root) -> list[set[str]]:
    return [set(part.python) | set(part.templates) for part in _split(root)]


def _codes():
    return [r.code for r in all_rules()]


# --------------------------------------------------------------------------- the static split


def test_independent_services_are_parts_of_their_own(make_project):
    root = make_project({**_service("billing"), **_service("shipping")})
    parts = _parts(root)
    assert len(parts) == 2
    billing = next(p for p in parts if "services/billing/billing/__init__.py" in p)
    assert billing == {
        "services/billing/billing/__init__.py", "services/billing/billing/config.py",
        "services/billing/billing/views.py", "services/billing/billing/templates/index.html",
    }


def test_an_import_links_two_packages(make_project):
    root = make_project({**_service("billing"), **_service("shipping"),
                         "services/shipping/shipping/money.py": "from billing.config import Config\n"})
    assert len(_parts(root)) == 1


def test_a_module_with_a_template_folder_of_its_own_sees_every_template(make_project):
    root = make_project({**_service("billing"), **_service("shipping"),
                         "tools/render.py": "from flask import Flask\napp = Flask(__name__, template_folder='../x')\n"})
    assert len(_parts(root)) == 1


def test_a_template_belongs_to_the_modules_next_to_its_folder(make_project):
    root = make_project({
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "templates/index.html": "<p>hi</p>\n",
        "scripts/seed.py": "print('seed')\n",
    })
    parts = _parts(root)
    assert {"app.py", "templates/index.html"} in parts and {"scripts/seed.py"} in parts


def test_imported_names_cover_relative_plain_and_parenthesized_imports():
    data = (b"import os, pkg.sub as s\nfrom . import views\nfrom ..core import (models,\n  db)\n"
            b"from flask import Flask\n")
    assert imported_names("pkg/app/main.py", data) == {
        "os", "pkg.sub", "pkg.app", "pkg.app.views", "pkg.core", "pkg.core.models", "flask", "flask.Flask"}
    assert file_links("pkg/app/__init__.py", b"from . import views\n") == (["pkg.app", "pkg.app.views"], False)


def test_a_name_of_the_standard_library_is_not_a_vendored_copy():
    index = module_index(["third_party/cpython/os.py", "third_party/cpython/email/utils.py", "app/upload.py"])
    assert "os" not in index and "email.utils" not in index
    assert index["third_party.cpython.os"] == "third_party/cpython/os.py"
    assert index["cpython.email.utils"] == "third_party/cpython/email/utils.py"
    assert index["upload"] == "app/upload.py"  # not a module of the standard library
    assert "os" in sys.stdlib_module_names


# --------------------------------------------------------------------------- scanning by parts


def test_a_lookup_into_another_part_merges_the_two(make_project):
    """The config module is named only by a string: no import links it, the
    model's lookup does, and the merged part loads it as the whole project would."""
    files = _service("billing")
    files["services/billing/billing/__init__.py"] = files["services/billing/billing/__init__.py"].replace(
        "billing.config.Config", "settings.prod.Config")
    files["settings/settings/__init__.py"] = ""
    files["settings/settings/prod.py"] = "class Config:\n    SECRET_KEY = 'a-hard-coded-key-1234'\n    DEBUG = True\n"
    root = make_project(files)
    assert len(_parts(root)) == 2  # the config package is a part of its own until the lookup
    result = Scanner(root, Config(select=["H102", "H101"])).run()
    assert {(f.code, f.path) for f in result.findings} >= {
        ("H102", "settings/settings/prod.py"), ("H101", "settings/settings/prod.py")}
    merged = next(r for r in result.parts if "settings/settings/prod.py" in r.part.python)
    assert "services/billing/billing/__init__.py" in merged.part.python


def test_each_app_of_a_monorepo_gets_its_own_upload_limit(make_project):
    """H402 used to report the first upload of the whole project, and its fix set
    the limit for one app; each service's app is now judged on its own."""
    root = make_project({**_service("billing", upload=True), **_service("shipping", upload=True)})
    result = Scanner(root, Config(select=["H402"])).run()
    assert sorted(f.path for f in result.findings) == [
        "services/billing/billing/views.py", "services/shipping/shipping/views.py"]
    for finding in result.findings:
        (change,) = finding.fix.changeset().changes
        assert change.path == finding.path.replace("views.py", "config.py")


def test_an_attribute_of_a_local_object_is_not_a_module(make_project):
    """``upload.save(...)`` names no module ``upload`` (here a vendored copy
    of another project's upload.py), so no part is merged for it."""
    files = _service("billing", upload=True)
    files["services/billing/billing/views.py"] += (
        "\n\n@bp.route('/other', methods=['POST'])\ndef other():\n"
        "    upload = request.files['file']\n    upload.save('/tmp/' + upload.filename)\n    return 'ok'\n"
    )
    files["vendor/tool/upload.py"] = "def save(x):\n    return x\n"
    root = make_project(files)
    result = Scanner(root, Config()).run()
    assert not any("vendor/tool/upload.py" in r.part.python and len(r.part.python) > 1 for r in result.parts)
    assert any(f.code == "H401" and f.path.endswith("views.py") for f in result.findings)


def test_no_flask_app_is_said_once_for_the_whole_project(make_project):
    root = make_project({"a/a.py": "print(1)\n", "b/b.py": "print(2)\n"})
    result = Scanner(root, Config()).run()
    assert [m for _, m in result.errors if "no Flask app" in m] == [
        f"no Flask app found under {root} (2 Python files scanned)"]


# --------------------------------------------------------------------------- the cache, by parts


def _cached_scan(root):
    config = load_config(root)
    return Scanner(root, config, cache=cachemod.ScanCache(root, config, _codes())).run()


def _report(root, *args):
    result = run_hardener(root, "--format", "json", "--exit-zero", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _comparable(report: dict) -> list[str]:
    """Findings as text, the two visible letters of generated secrets left out
    (a scan without the cache draws new ones)."""
    masked = re.compile(r"[A-Za-z0-9_\-+/=]{0,2}\*{4,}")
    out = []
    for finding in report["findings"]:
        if finding.get("fix") and "diff" in finding["fix"]:
            finding = dict(finding, fix=dict(finding["fix"], diff=masked.sub("<secret>", finding["fix"]["diff"])))
        out.append(json.dumps(finding, sort_keys=True))
    return out


def test_a_change_in_one_part_rescans_only_that_part(make_project):
    root = make_project({**_service("billing"), **_service("shipping"), **_service("catalog")})
    first = _cached_scan(root)
    cachemod.save(first)
    assert len(first.parts) == 3 and not any(r.restored for r in first.parts)
    views = root / "services/shipping/shipping/views.py"
    views.write_text(views.read_text() + "\n\n@bp.route('/go')\ndef go():\n    return request.args['next']\n")
    second = _cached_scan(root)
    restored = {r.part.python[0].split("/")[1] for r in second.parts if r.restored}
    assert restored == {"billing", "catalog"}
    assert not second.cached  # one part was scanned
    fresh = Scanner(root, load_config(root)).run()
    assert [(f.code, f.path, f.line, f.message) for f in second.findings] == \
        [(f.code, f.path, f.line, f.message) for f in fresh.findings]


def test_a_new_file_that_joins_a_part_invalidates_it(make_project):
    root = make_project({**_service("billing"), **_service("shipping")})
    cachemod.save(_cached_scan(root))
    (root / "services/shipping/shipping/extra.py").write_text("from billing.config import Config\n")
    second = _cached_scan(root)
    assert len(second.parts) == 1 and not second.parts[0].restored


def test_a_changed_answer_to_a_lookup_invalidates_a_part(make_project):
    """The part looked up `settings.prod`; a shallower file now answers to that
    name, so the stored part is not reused."""
    files = _service("billing")
    files["services/billing/billing/__init__.py"] = files["services/billing/billing/__init__.py"].replace(
        "billing.config.Config", "prod.Config")
    files["settings/prod.py"] = "class Config:\n    DEBUG = True\n"
    root = make_project(files)
    before = _report(root)
    assert any(f["code"] == "H101" and f["path"] == "settings/prod.py" for f in before["findings"])
    (root / "prod.py").write_text("class Config:\n    DEBUG = False\n")
    after = _report(root)
    assert not any(f["code"] == "H101" for f in after["findings"])
    assert _comparable(after) == _comparable(_report(root, "--no-cache"))


def test_rescans_by_parts_equal_scans_without_the_cache(make_project):
    root = make_project({**_service("billing", upload=True), **_service("shipping"), **_service("catalog")})
    _report(root)
    config = root / "services/catalog/catalog/config.py"
    config.write_text(config.read_text() + "    SESSION_COOKIE_SECURE = False\n")
    cached = _report(root)
    fresh = _report(root, "--no-cache")
    assert _comparable(cached) == _comparable(fresh) and cached["errors"] == fresh["errors"]
    assert any(f["code"] == "H221" and f["path"] == "services/catalog/catalog/config.py" for f in cached["findings"])


def test_a_merge_takes_back_what_the_first_scan_of_a_part_emitted(make_project, tmp_path):
    """The billing part is scanned, escapes into the settings part and is scanned
    again merged: its first scan's baseline matches are given back, so the
    baseline still hides every finding it lists."""
    from hardener.baseline import load_baseline, write_baseline

    files = _service("billing")
    files["services/billing/billing/__init__.py"] = files["services/billing/billing/__init__.py"].replace(
        "billing.config.Config", "settings.prod.Config") + "\n\napp = create_app()\napp.run(debug=True)\n"
    files["settings/settings/__init__.py"] = ""
    files["settings/settings/prod.py"] = "class Config:\n    DEBUG = True\n"
    root = make_project(files)
    first = Scanner(root, Config()).run()
    assert any(f.path == "services/billing/billing/__init__.py" for f in first.findings)
    write_baseline(tmp_path / "baseline.json", first.findings)
    again = Scanner(root, Config(baseline_data=load_baseline(tmp_path / "baseline.json"))).run()
    assert again.findings == [] and len(again.baselined) == len(first.findings)


def test_parts_that_reach_one_part_are_merged_in_one_round(make_project, monkeypatch):
    """Ten services name one shared config module by a string only: all ten
    escape into it in the first round and the merged part is scanned once
    (merging them one at a time scanned the growing part again ten times)."""
    files = {"shared/__init__.py": "", "shared/settings.py": "class Config:\n    DEBUG = True\n"}
    for i in range(10):
        files[f"svc{i}/pkg{i}/__init__.py"] = (
            "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
            "    app.config.from_object('shared.settings.Config')\n    return app\n")
    root = make_project(files)
    scanned = []
    scan_part = Scanner._scan_part

    def counting(self, record, *args):
        scanned.append(len(record.part.python))
        return scan_part(self, record, *args)

    monkeypatch.setattr(Scanner, "_scan_part", counting)
    result = Scanner(root, Config(select=["H101"])).run()
    assert sorted(scanned) == [1] * 10 + [2] + [12]  # ten services, the shared package, then all merged
    assert len(result.parts) == 1
    assert [(f.code, f.path) for f in result.findings] == [("H101", "shared/settings.py")]
