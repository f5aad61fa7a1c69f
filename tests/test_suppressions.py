"""`hardener: ignore` comments: per line (codes or all), per file, Jinja
comments in templates; honoured by every mode; --show-suppressed; unused
suppressions reported as H000 with a fix."""

from __future__ import annotations

import json

import pytest

from conftest import run_hardener
from hardener.apply import apply_fixes
from hardener.config import Config
from hardener.scanner import scan
from hardener.source import Suppressions
from reportkit import ONLY, APP

RUN = "    app.run(debug=True)"
CFG = "app.config[\"DEBUG\"] = True"


def lines_of(result):
    return [f.line for f in result.findings if f.code == "H101"]


@pytest.mark.parametrize("comment,left", [
    ("  # hardener: ignore[H101]", [4]),
    ("  # hardener: ignore[h101]", [4]),            # codes are case-insensitive
    ("  # hardener: ignore[H999, H101]", [4]),
    ("  #hardener:ignore", [4]),                      # every rule
    ("  # hardener: ignore[H102]", [4, 7]),          # another rule only
    ("  # noqa  # hardener: ignore[H101]", [4]),     # after another comment
])
def test_line_suppressions(make_project, comment, left):
    root = make_project({"app.py": APP.replace(RUN, RUN + comment)})
    result = scan(root, Config(cache=False, select=["H101"]))
    assert lines_of(result) == left
    assert len(result.suppressed) == 2 - len(left)


def test_file_level_and_strings(make_project):
    root = make_project({"app.py": "# hardener: ignore-file[H101]\n" + APP}, "a")
    result = scan(root, Config(cache=False, select=["H101"]))
    assert lines_of(result) == [] and len(result.suppressed) == 2
    # words in a string are not a comment
    root = make_project({"app.py": APP.replace(RUN, RUN + "; note = '# hardener: ignore'")}, "b")
    assert lines_of(scan(root, Config(cache=False, select=["H101"]))) == [4, 7]


def test_multiline_finding_suppressed_on_its_last_line(make_project):
    app = APP.replace(RUN, "    app.run(\n        debug=True,\n    )  # hardener: ignore[H101]")
    root = make_project({"app.py": app})
    # the finding is the `debug=True` argument on line 8: the comment on line 9 is not on it
    assert lines_of(scan(root, Config(cache=False, select=["H101"]))) == [4, 8]
    app = APP.replace(CFG, 'app.config.update(\n    DEBUG=True,  # hardener: ignore\n)')
    root = make_project({"app.py": app}, "b")
    result = scan(root, Config(cache=False, select=["H101"]))
    assert len(result.suppressed) == 1


def test_template_comment_form():
    text = "<p>{{ bio|safe }}</p> {# hardener: ignore[H301] #}\n<p># hardener: ignore[H302]</p>\n{#\n hardener: ignore-file[H303]\n#}\n"
    sup = Suppressions.parse(text, "template")
    assert sup.suppresses("H301", 1)
    assert not sup.suppresses("H302", 2)  # not inside a Jinja comment
    assert sup.suppresses("H303", 40)
    assert [c.line for c in sup.comments] == [1, 4]


def test_template_suppression_in_a_scan(make_project, monkeypatch):
    from hardener.models import Confidence, Severity
    from hardener.rules import Rule

    class SafeFilter(Rule):
        """Test rule."""

        code, name, category = "H101", "flask-debug-enabled", "debug"
        severity, confidence = Severity.HIGH, Confidence.HIGH

        def check_template(self, template, project):
            start = 0
            while (at := template.text.find("|safe", start)) >= 0:
                yield self.template_finding(template, at, at + 5, "safe filter")
                start = at + 1

    from hardener.scanner import Scanner

    root = make_project({
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "templates/a.html": "<p>{{ a|safe }}</p>{# hardener: ignore[H101] #}\n<p>{{ b|safe }}</p>\n",
    })
    result = Scanner(root, Config(cache=False, select=["H101"]), rules=[SafeFilter]).run()
    assert [(f.path, f.line) for f in result.findings] == [("templates/a.html", 2)]
    assert [(f.path, f.line) for f in result.suppressed] == [("templates/a.html", 1)]


def test_every_mode_honours_suppressions(make_project):
    app = APP.replace(RUN, RUN + "  # hardener: ignore[H101]")
    root = make_project({"app.py": app})
    report, ws, _ = apply_fixes(root, Config(cache=False, select=["H101"]))
    assert [a.finding.line for a in report.applied] == [4]
    assert "debug=True)  # hardener: ignore[H101]" in ws.read("app.py").decode()
    diff = run_hardener(*ONLY, root, "--diff")
    assert diff.stdout.count("# H101 ") == 1
    proc = run_hardener(*ONLY, root, "--apply-all")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "app.run(debug=True)  # hardener: ignore[H101]" in (root / "app.py").read_text()


def test_show_suppressed_in_text_and_json(make_project):
    root = make_project({"app.py": APP.replace(RUN, RUN + "  # hardener: ignore")})
    plain = run_hardener(*ONLY, root)
    assert "[suppressed]" not in plain.stdout and plain.stdout.rstrip().endswith("1 suppressed.")
    shown = run_hardener(*ONLY, root, "--show-suppressed")
    assert "7:" in shown.stdout and "[suppressed]" in shown.stdout
    assert shown.returncode == 1  # for the line-4 finding only
    data = json.loads(run_hardener(*ONLY, root, "--format", "json", "--show-suppressed").stdout)
    assert [(f["line"], f["status"]) for f in data["suppressed"]] == [(7, "suppressed")]


def test_suppressed_findings_do_not_fail_the_run(make_project):
    root = make_project({"app.py": "# hardener: ignore-file\n" + APP})
    proc = run_hardener(*ONLY, root, "--show-suppressed")
    assert proc.returncode == 0
    assert proc.stdout.count("[suppressed]") == 2


def test_unused_suppressions_reported_and_fixed(make_project):
    app = (APP.replace(RUN, RUN + "  # hardener: ignore[H101]")
           + "x = 1  # hardener: ignore[H101]  # why: legacy\n"
           + "y = 2  # hardener: ignore[H101, H9Z9]\n"
           + "# hardener: ignore-file[H101]\n")
    files = {"app.py": app, "templates/t.html": "<p>{{ x }}</p>\n{# hardener: ignore #}\n"}
    root = make_project(files)
    assert not [f for f in scan(root, Config(cache=False, select=["H101"])).findings if f.code == "H000"]  # off by default
    result = scan(root, Config(cache=False, select=["H101"], report_unused_suppressions=True))
    h000 = sorted((f.path, f.line, f.message) for f in result.findings if f.code == "H000")
    # line 7's comment hides the run() finding, the file-level one (line 10) the config one
    assert [(p, ln) for p, ln, _ in h000] == [("app.py", 8), ("app.py", 9), ("templates/t.html", 2)]
    assert "H9Z9 is not a rule code" in h000[1][2] and "H101 hides no finding" in h000[1][2]
    proc = run_hardener(*ONLY, root, "--report-unused-suppressions", "--format", "github")
    assert proc.stdout.count("title=H000 unused-suppression (low)") == 3
    # the fix removes what hides nothing and keeps the rest of the comment
    report, ws, after = apply_fixes(root, Config(cache=False, select=["H101"], report_unused_suppressions=True))
    text = ws.read("app.py").decode()
    assert "x = 1  # why: legacy\n" in text
    assert "y = 2\n" in text
    assert "# hardener: ignore-file[H101]\n" in text
    assert RUN + "  # hardener: ignore[H101]" in text
    assert ws.read("templates/t.html").decode() == "<p>{{ x }}</p>\n"
    assert [f for f in after.findings if f.code == "H000"] == []


def test_unused_codes_of_rules_that_did_not_run_are_not_judged(make_project):
    root = make_project({"app.py": "from flask import Flask\napp = Flask(__name__)  # hardener: ignore[H101]\n"})
    assert [f.code for f in scan(root, Config(cache=False, select=["H000"])).findings] == []
    flagged = scan(root, Config(cache=False, select=["H101"], report_unused_suppressions=True)).findings
    assert [f.code for f in flagged] == ["H000"]


@pytest.mark.parametrize("comment,left", [
    ("  # nosec B201", [4]),                  # bandit's flask_debug_true
    ("  # nosec: B201", [4]),
    ("  # noqa: S201", [4]),                  # ruff's
    ("  # noqa: E501, S201  # reviewed", [4]),
    ("  # nosec B105", [4, 7]),              # another check of theirs: another rule of ours
    ("  # nosec", [4, 7]),                   # names nothing: not a review of this finding
    ("  # noqa", [4, 7]),
])
def test_bandit_and_ruff_comments_hide_the_findings_they_name(make_project, comment, left):
    root = make_project({"app.py": APP.replace(RUN, RUN + comment)})
    result = scan(root, Config(cache=False, select=["H101"]))
    assert lines_of(result) == left
    # tool-suppressions = false: hardener's own comments only
    assert lines_of(scan(root, Config(cache=False, select=["H101"], tool_suppressions=False))) == [4, 7]


def test_a_bandit_comment_on_any_line_of_a_multiline_finding(make_project):
    # faraday's migrations: op.execute(\n f"UPDATE ... {group_id}"  # nosec B608\n)
    sql = ("import sqlite3\n\n\ndef bump(db, group_id):\n    db.execute(\n"
           "        f\"UPDATE groups SET n = n + 1 WHERE id = {group_id}\"  # nosec B608\n    )\n\n\n"
           "def drop(db, name):\n    db.execute(\n        f\"DROP TABLE {name}\"  # nosec B105\n    )\n")
    root = make_project({"app.py": APP, "db.py": sql})
    result = scan(root, Config(cache=False, select=["H301"], report_unused_suppressions=True))
    assert [(f.code, f.path, f.line) for f in result.findings] == [("H301", "db.py", 11)]
    assert [(f.code, f.line) for f in result.suppressed] == [("H301", 5)]
