"""--format github: one workflow command per finding, escaped as the runner expects."""

from __future__ import annotations

import re

from conftest import run_hardener
from hardener.report.github import annotation, escape_data, escape_property, render_github
from reportkit import ONLY, APP, SECRET, scan_app, secret_finding

LINE = re.compile(r"^::(error|warning|notice) ((?:[A-Za-z]+=[^,:]*)(?:,[A-Za-z]+=[^,:]*)*)::(.*)$")


def test_escaping():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    # % first, so an escape is never escaped twice
    assert escape_data("%0A") == "%250A"


def test_cli_prints_only_annotations(make_project):
    root = make_project({"app.py": APP})
    proc = run_hardener(*ONLY, root, "--format", "github")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        m = LINE.match(line)
        assert m, line
        assert m.group(1) == "error"  # H101 is high
        props = dict(p.split("=", 1) for p in m.group(2).split(","))
        assert props["file"] == "app.py"
        assert props["title"] == "H101 flask-debug-enabled (high)"
    assert "line=4,endLine=4,col=1,endColumn=27" in lines[0]
    assert "line=7," in lines[1]
    assert "%0AFix available: " in lines[0]


def test_paths_and_messages_with_separators_are_escaped(make_project):
    _, result = scan_app(make_project)
    finding = result.findings[0]
    finding.path = "weird, dir/a:b.py"
    finding.message = "50% of\nit"
    line = annotation(finding)
    assert "file=weird%2C dir/a%3Ab.py," in line
    assert line.split("::", 2)[2].startswith("50%25 of%0Ait")
    assert LINE.match(line)


def test_levels_and_masking(make_project):
    _, result = scan_app(make_project)
    result.findings.append(secret_finding(result))
    out = render_github(result, str(result.root))
    assert SECRET not in out
    assert out.count("\n") == 3
    assert all(line.startswith("::error ") for line in out.splitlines())  # high, high, critical
    result.findings[0].severity = type(result.findings[0].severity).MEDIUM
    result.findings[1].severity = type(result.findings[1].severity).LOW
    levels = [line.split(" ", 1)[0] for line in render_github(result, "").splitlines()]
    assert levels == ["::warning", "::notice", "::error"]
