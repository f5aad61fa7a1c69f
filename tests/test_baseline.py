"""Baselines: --write-baseline FILE records the findings; --baseline FILE (or
`baseline` in [tool.hardener]) hides them, matching by rule, file and a
fingerprint of the code, not by line number."""

from __future__ import annotations

import json

from conftest import run_hardener
from hardener.baseline import BaselineError, load_baseline
from hardener.config import Config
from hardener.scanner import scan
from reportkit import ONLY, APP

import pytest


def baseline_for(root, tmp_path):
    path = tmp_path / "baseline.json"
    proc = run_hardener(*ONLY, root, "--write-baseline", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert f"wrote 2 findings to {path}" in proc.stderr
    return path


def test_write_then_check_is_clean(make_project, tmp_path):
    root = make_project({"app.py": APP})
    path = baseline_for(root, tmp_path)
    data = json.loads(path.read_text())
    assert data["format"] == "hardener-baseline" and data["format_version"] == 1
    assert [(e["code"], e["path"], e["line"]) for e in data["findings"]] == [("H101", "app.py", 4), ("H101", "app.py", 7)]
    proc = run_hardener(*ONLY, root, "--baseline", path)
    assert proc.returncode == 0, proc.stdout
    assert "No findings" in proc.stdout and "2 in the baseline" in proc.stdout
    assert (root / "app.py").read_text() == APP  # writing a baseline writes nothing else


def test_edits_elsewhere_do_not_resurface(make_project, tmp_path):
    root = make_project({"app.py": APP})
    path = baseline_for(root, tmp_path)
    # lines added above and between, the flagged code re-indented: same findings
    edited = ('"""The app."""\nimport logging\n\nlog = logging.getLogger(__name__)\n'
              + APP.replace("app = Flask(__name__)\n", "app = Flask(__name__)\n\n\ndef helper():\n    return 1\n\n")
              .replace('    app.run(debug=True)', '    log.info("starting")\n    app.run(debug=True)'))
    (root / "app.py").write_text(edited)
    proc = run_hardener(*ONLY, root, "--baseline", path, "--format", "json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["findings"] == [] and data["summary"]["baselined"] == 2
    # a new finding is reported, the old ones stay hidden
    (root / "app.py").write_text(edited + "app.debug = True\n")
    proc = run_hardener(*ONLY, root, "--baseline", path, "--format", "json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert [f["snippet"].strip() for f in data["findings"]] == ["app.debug = True"] and data["findings"][0]["line"] == len(edited.splitlines()) + 1


def test_changing_or_copying_the_code_resurfaces(make_project, tmp_path):
    root = make_project({"app.py": APP})
    path = baseline_for(root, tmp_path)
    # a second identical finding: one entry hides one finding
    (root / "app.py").write_text(APP + 'app.config["DEBUG"] = True\n')
    result = scan(root, Config(cache=False, select=["H101"], baseline_data=load_baseline(path)))
    assert len(result.findings) == 1 and len(result.baselined) == 2
    # the same code in another file is new
    (root / "app.py").write_text(APP)
    (root / "other.py").write_text("from flask import Flask\napp = Flask(__name__)\n" + 'app.config["DEBUG"] = True\n')
    result = scan(root, Config(cache=False, select=["H101"], baseline_data=load_baseline(path)))
    assert [f.path for f in result.findings] == ["other.py"]


def test_baseline_from_settings_and_apply_all(make_project, tmp_path):
    root = make_project({"app.py": APP})
    path = baseline_for(root, tmp_path)
    (root / ".hardener-baseline.json").write_text(path.read_text())
    (root / "pyproject.toml").write_text('[tool.hardener]\nbaseline = ".hardener-baseline.json"\n')
    assert run_hardener(*ONLY, root).returncode == 0
    # baselined findings are not fixed either; a new one is
    (root / "app.py").write_text(APP + "app.debug = True\n")
    proc = run_hardener(*ONLY, root, "--apply-all")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (root / "app.py").read_text()
    assert 'app.config["DEBUG"] = True' in text and "app.run(debug=True)" in text
    assert "app.debug = os.environ" in text


def test_show_suppressed_lists_baselined(make_project, tmp_path):
    root = make_project({"app.py": APP})
    path = baseline_for(root, tmp_path)
    proc = run_hardener(*ONLY, root, "--baseline", path, "--show-suppressed")
    assert proc.stdout.count("[in baseline]") == 2 and proc.returncode == 0
    sarif = json.loads(run_hardener(*ONLY, root, "--baseline", path, "--show-suppressed", "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert [r["baselineState"] for r in results] == ["unchanged", "unchanged"]
    assert all(r["suppressions"][0]["kind"] == "external" for r in results)


@pytest.mark.parametrize("content,needle", [
    (None, "baseline file not found"),
    ("{not json", "invalid JSON"),
    ('{"findings": []}', "not a hardener baseline"),
    ('{"format": "hardener-baseline", "format_version": 99, "findings": []}', "version 99 is not supported"),
    ('{"format": "hardener-baseline", "format_version": 1, "findings": [{"code": "H101"}]}', "lacks code, path or fingerprint"),
])
def test_bad_baseline_files(tmp_path, make_project, content, needle):
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BaselineError, match=needle):
        load_baseline(path)


def test_missing_baseline_exits_2(make_project, tmp_path):
    root = make_project({"app.py": APP})
    proc = run_hardener(*ONLY, root, "--baseline", tmp_path / "nope.json")
    assert proc.returncode == 2 and "baseline file not found" in proc.stderr


def test_config_fingerprint_follows_the_baseline_contents(make_project, tmp_path):
    root = make_project({"app.py": APP})
    path = baseline_for(root, tmp_path)
    with_baseline = Config(baseline=str(path), baseline_data=load_baseline(path))
    path.write_text(json.dumps({"format": "hardener-baseline", "format_version": 1, "findings": []}))
    emptied = Config(baseline=str(path), baseline_data=load_baseline(path))
    assert with_baseline.fingerprint() != emptied.fingerprint()
