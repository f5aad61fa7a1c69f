"""Text output: grouped by file, code line with a caret, a summary line,
colour only on a terminal without NO_COLOR, progress only on a terminal."""

from __future__ import annotations

import io

from conftest import run_hardener
from hardener.cli import Progress
from hardener.report.text import render_text, use_color
from reportkit import ONLY, APP, SECRET, scan_app, secret_finding


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_grouped_with_caret_and_summary(make_project):
    root = make_project({"app.py": APP, "views.py": "from flask import Flask\nother = Flask(__name__)\nother.debug = True\n"})
    proc = run_hardener(*ONLY, root)  # piped: a report, not the review
    assert proc.returncode == 1
    out = proc.stdout
    assert "\033[" not in out
    lines = out.splitlines()
    assert lines[0] == "app.py"
    assert lines[1].startswith("  4:1 H101 high ")
    assert lines[2] == '      app.config["DEBUG"] = True'
    assert lines[3] == "      " + "^" * len('app.config["DEBUG"] = True')
    assert lines[4] == "      = fix: Read debug mode from FLASK_DEBUG (off by default) [safe]"
    assert lines[6] == "          app.run(debug=True)"
    assert lines[7] == "          " + " " * len("app.run(") + "^" * len("debug=True")
    assert "views.py" in lines
    assert lines[-1] == ("Found 3 findings (3 high) in 2 files; 3 fixable (3 safe, run `hardener --apply-all`).")
    assert proc.stderr == ""


def test_tabs_keep_the_caret_aligned(make_project):
    _, result = scan_app(make_project, {"app.py": APP.replace("    app.run", "\tapp.run")})
    out = render_text(result, str(result.root))
    assert "      \tapp.run(debug=True)\n      \t        ^^^^^^^^^^\n" in out


def test_colour_rules(monkeypatch, make_project):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(Tty()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False
    _, result = scan_app(make_project)
    coloured = render_text(result, str(result.root), color=True)
    assert "\033[31mH101\033[0m" in coloured
    assert "\033[" not in render_text(result, str(result.root), color=False)


def test_summary_without_findings_and_masking(make_project):
    _, clean = scan_app(make_project, {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}, name="clean")
    assert render_text(clean, "").endswith("No findings in 1 files.\n")
    _, result = scan_app(make_project)
    result.findings.append(secret_finding(result))
    out = render_text(result, "")
    assert SECRET not in out
    assert "(1 critical, 2 high)" in out


def test_progress_only_after_a_moment_and_erased():
    stream = Tty()
    now = [0.0]
    bar = Progress(stream, delay=0.4)
    bar.clock = lambda: now[0]
    bar.start = 0.0
    bar(0, 10, "a.py")
    assert stream.getvalue() == ""  # short scans show nothing
    now[0] = 1.0
    bar(3, 10, "pkg/b.py")
    assert "scanning 4/10 pkg/b.py" in stream.getvalue()
    bar.finish()
    assert stream.getvalue().endswith("\r\033[K")


def test_machine_formats_print_nothing_else(make_project):
    root = make_project({"app.py": APP})
    for fmt in ("json", "sarif", "github"):
        proc = run_hardener(*ONLY, root, "--format", fmt)
        assert proc.stderr == "", (fmt, proc.stderr)
        assert "Found" not in proc.stdout
