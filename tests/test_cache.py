"""The scan cache (hardener/cache.py): a cached rescan gives exactly what a scan
without the cache gives; any change to what the scan read invalidates it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from hardener import cache as cachemod
from hardener.config import Config, load_config
from hardener.scanner import Scanner
from conftest import copy_sample, run_hardener

MASKED = re.compile(r"[A-Za-z0-9_\-+/=]{0,2}\*{4,}")


def _report(root: Path, *args: str) -> dict:
    result = run_hardener(root, "--format", "json", "--exit-zero", *args)
    assert result.returncode in (0, 2), result.stderr
    return json.loads(result.stdout)


def _comparable(report: dict) -> list[str]:
    """Findings as text; generated secrets (fresh random values on every scan
    without the cache) are masked in diffs already, their two visible letters
    are dropped here."""
    out = []
    for finding in report["findings"]:
        finding = dict(finding)
        if finding.get("fix") and "diff" in finding["fix"]:
            finding["fix"] = dict(finding["fix"], diff=MASKED.sub("<secret>", finding["fix"]["diff"]))
        out.append(json.dumps(finding, sort_keys=True))
    return out


def _entries(root: Path) -> list[Path]:
    return sorted((root / cachemod.CACHE_DIR).glob("scan-*.json"))


@pytest.fixture
def shop(tmp_path):
    return copy_sample("shop_factory", tmp_path)


pytestmark = pytest.mark.usefixtures("cli_recursion_limit")


def test_cached_rescan_equals_a_scan_without_the_cache(shop):
    first = _report(shop)
    assert len(_entries(shop)) == 1
    cached = _report(shop)
    fresh = _report(shop, "--no-cache")
    assert cached["findings"] == first["findings"]  # the very same bytes, fixes included
    assert _comparable(cached) == _comparable(fresh)
    assert cached["errors"] == fresh["errors"] and cached["summary"] == fresh["summary"]
    assert len(cached["findings"]) >= 10


def test_cached_fixes_still_apply(shop):
    _report(shop)
    config = load_config(shop)
    result = Scanner(shop, config, cache=cachemod.ScanCache(shop, config, _codes(config))).run()
    assert result.cached
    fixes = [f.fix for f in result.findings if f.fix is not None]
    assert fixes
    for fix in fixes:
        for change in fix.changeset().changes:  # computed from exactly what is on disk now
            on_disk = (shop / change.path).read_bytes() if (shop / change.path).exists() else None
            assert change.old == on_disk, change.path
    applied = run_hardener(shop, "--apply-all")
    assert applied.returncode in (0, 1), applied.stderr
    assert "Applied" in applied.stdout
    assert _comparable(_report(shop)) == _comparable(_report(shop, "--no-cache"))  # the new content, not the old


def _codes(config: Config) -> list[str]:
    from hardener.rules import select_rules

    return [r.code for r in select_rules(config.select, config.ignore)]


def test_the_cache_is_really_used_and_no_cache_bypasses_it(shop):
    real = _report(shop)
    entry_path = _entries(shop)[0]
    entry = json.loads(entry_path.read_text())
    first = min((f for part in entry["parts"] for f in part["findings"]), key=lambda f: (f["path"], f["line"]))
    first["message"] = "planted in the cache"
    entry_path.write_text(json.dumps(entry))
    assert _report(shop)["findings"][0]["message"] == "planted in the cache"
    assert _report(shop, "--no-cache")["findings"][0]["message"] == real["findings"][0]["message"]


def test_changing_a_file_invalidates(shop):
    before = _report(shop)
    factory = shop / "shop" / "__init__.py"
    text = factory.read_text()
    factory.write_text(text.replace("    app.config.from_object(config_object)\n",
                                    "    app.config.from_object(config_object)\n    app.run(debug=True)\n"))
    after = _report(shop)
    assert _comparable(after) == _comparable(_report(shop, "--no-cache"))
    assert len(after["findings"]) == len(before["findings"]) + 1
    assert any(f["code"] == "H101" and f["path"] == "shop/__init__.py" for f in after["findings"])
    factory.write_text(text)  # and back: the scan says what it said first
    assert _comparable(_report(shop)) == _comparable(before)


def test_a_change_in_another_module_changes_an_unchanged_modules_findings(make_project):
    """Why results are not reused file by file: views.py does not change, but
    whether its view is a route depends on what `bp` is in blueprint.py."""
    root = make_project({
        "blueprint.py": "from flask import Blueprint\nbp = Blueprint('main', __name__)\n",
        "views.py": (
            "from flask import request\nfrom blueprint import bp\n\n@bp.route('/hi')\ndef hi():\n"
            "    return f\"<h1>Hi {request.args['name']}</h1>\"\n"
        ),
        "app.py": "from flask import Flask\nfrom blueprint import bp\napp = Flask(__name__)\napp.register_blueprint(bp)\n",
    })
    before = _report(root)
    assert any(f["path"] == "views.py" for f in before["findings"])
    (root / "blueprint.py").write_text("bp = object()\n")
    after = _report(root)
    assert not any(f["path"] == "views.py" for f in after["findings"])
    assert _comparable(after) == _comparable(_report(root, "--no-cache"))


def test_a_file_read_outside_the_scanned_set_invalidates(make_project):
    """static/*.js is read by the cookie rule (and listed on disk): a script that
    starts reading document.cookie makes the HttpOnly fix a 'review' one."""
    root = make_project({
        "app.py": (
            "from flask import Flask, make_response\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n"
            "    response = make_response('hi')\n    response.set_cookie('theme', 'dark')\n    return response\n"
        ),
        "templates/index.html": "<p>hi</p>\n",
        "static/app.js": "console.log('hi');\n",
    })

    def cookie_fix(report):
        return next(f["fix"]["safety"] for f in report["findings"] if f["code"] == "H222")

    assert cookie_fix(_report(root)) == "safe"
    (root / "static" / "theme.js").write_text("const theme = document.cookie;\n")  # a new file, not scanned
    assert cookie_fix(_report(root)) == "review"
    assert cookie_fix(_report(root, "--no-cache")) == "review"


def test_changing_the_configuration_invalidates(shop):
    everything = _report(shop)
    assert any(f["code"] == "H102" for f in everything["findings"])
    pyproject = shop / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.hardener]\nignore = ["H102"]\n')
    ignored = _report(shop)
    assert not any(f["code"] == "H102" for f in ignored["findings"])
    assert _comparable(ignored) == _comparable(_report(shop, "--no-cache"))
    high = _report(shop, "--min-severity", "high")
    assert all(f["severity"] in ("high", "critical") for f in high["findings"])
    assert len(_entries(shop)) >= 2  # one entry per configuration


def test_cache_false_in_the_configuration_turns_it_off(shop):
    pyproject = shop / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.hardener]\ncache = false\n")
    _report(shop)
    _report(shop)
    assert _entries(shop) == []


def test_no_cache_flag_writes_nothing(shop):
    _report(shop, "--no-cache")
    assert not (shop / ".hardener").exists()


def test_the_cache_folder_is_ignored_by_git(shop):
    subprocess.run(["git", "init", "-q"], cwd=shop, check=True)
    _report(shop)
    assert _entries(shop)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=shop,
                            capture_output=True, text=True, check=True).stdout
    assert ".hardener" not in status
    ignored = subprocess.run(["git", "check-ignore", str(_entries(shop)[0])], cwd=shop, capture_output=True)
    assert ignored.returncode == 0


def test_a_broken_cache_file_is_a_miss(shop):
    first = _report(shop)
    _entries(shop)[0].write_text("{not json")
    assert _comparable(_report(shop)) == _comparable(first)
    assert json.loads(_entries(shop)[0].read_text())["schema"] == cachemod.SCHEMA  # written again


def test_fixes_not_computed_before_are_computed_on_demand(shop):
    text = run_hardener(shop, "--exit-zero")  # a text report: no change set is computed or stored
    assert text.returncode in (0, 2)
    entry = json.loads(_entries(shop)[0].read_text())
    assert not any("changeset" in (f["fix"] or {}) for part in entry["parts"] for f in part["findings"])
    diff = run_hardener(shop, "--diff")
    fresh = run_hardener(shop, "--diff", "--no-cache")
    assert MASKED.sub("<secret>", diff.stdout) == MASKED.sub("<secret>", fresh.stdout)
    assert diff.stdout.count("\n+++ ") or diff.stdout.count("+++ b/")
    entry = json.loads(_entries(shop)[0].read_text())
    assert any("changeset" in (f["fix"] or {}) for part in entry["parts"] for f in part["findings"])  # kept


def test_a_hit_streams_progress_and_findings(shop):
    config = load_config(shop)
    cache = cachemod.ScanCache(shop, config, _codes(config))
    live = Scanner(shop, config, cache=cache).run()
    assert not live.cached and cachemod.save(live)
    seen, progress = [], []
    hit = Scanner(shop, config, cache=cachemod.ScanCache(shop, config, _codes(config))).run(
        on_progress=lambda done, total, path: progress.append((done, total, path)),
        on_finding=seen.append,
    )
    assert hit.cached
    assert [f.fingerprint for f in seen] == [f.fingerprint for f in hit.findings] == [f.fingerprint for f in live.findings]
    assert progress[-1][0] == progress[-1][1] and progress[-1][2] == ""
    assert hit.errors == live.errors and hit.files_scanned == live.files_scanned


def test_the_key_covers_code_configuration_and_rules(shop, monkeypatch):
    config = Config()
    base = cachemod.ScanCache(shop, config, ["H101"]).key
    assert cachemod.ScanCache(shop, config, ["H101", "H102"]).key != base
    assert cachemod.ScanCache(shop, Config(min_severity="high"), ["H101"]).key != base
    monkeypatch.setattr(cachemod, "_CODE_FINGERPRINT", "another version of the rules")
    assert cachemod.ScanCache(shop, config, ["H101"]).key != base


def test_cache_files_are_private(shop):
    _report(shop)
    assert _entries(shop)[0].stat().st_mode & 0o077 == 0


def test_write_baseline_and_report_do_not_share_an_entry(shop, tmp_path):
    baseline = tmp_path / "base.json"
    assert run_hardener(shop, "--write-baseline", baseline).returncode in (0, 2)
    shown = _report(shop, "--baseline", str(baseline))
    assert shown["findings"] == []
    assert _comparable(_report(shop)) == _comparable(_report(shop, "--no-cache"))


def test_results_do_not_depend_on_the_cache_for_sample_projects(tmp_path):
    for name in ("notes_app", "jwt_api"):
        root = copy_sample(name, tmp_path)
        _report(root)
        assert _comparable(_report(root)) == _comparable(_report(root, "--no-cache")), name

