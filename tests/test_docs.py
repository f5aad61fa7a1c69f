"""Rule docs (--explain, --list-rules, docs/rules.md kept in sync), the
pre-commit hooks and the documented CI job."""

from __future__ import annotations

import re
import shlex

import yaml

from conftest import REPO, run_hardener
from hardener.cli import build_parser
from hardener.docs import rules_markdown
from hardener.rules import all_rules


def test_rules_md_is_up_to_date():
    current = (REPO / "docs" / "rules.md").read_text()
    assert current == rules_markdown(), (
        "docs/rules.md is stale: regenerate it with `python -m hardener.docs > docs/rules.md`"
    )


def test_rules_md_covers_every_rule():
    text = rules_markdown()
    for rule in all_rules():
        assert f"## {rule.code} {rule.name}" in text


def test_explain_and_list_rules():
    proc = run_hardener("--explain", "h101")
    assert proc.returncode == 0
    for part in ("H101 flask-debug-enabled", "## What it does", "## Why is this bad?", "## Example",
                 "## Use instead", "## Fix safety", "## References", "CWE-489"):
        assert part in proc.stdout, part
    proc = run_hardener("--explain", "H998")
    assert proc.returncode == 2 and "unknown rule code" in proc.stderr
    proc = run_hardener("--list-rules")
    assert proc.returncode == 0
    codes = [line.split()[0] for line in proc.stdout.splitlines()]
    assert codes == [r.code for r in all_rules()]


def test_pre_commit_hooks():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"hardener", "hardener-fix"}
    parser = build_parser()
    for hook in hooks:
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        argv = shlex.split(hook["entry"])
        assert argv[0] == "hardener"
        args = parser.parse_args(argv[1:])
        pattern = re.compile(hook["files"])
        for path in ("app.py", "templates/index.html", "requirements.txt", "pyproject.toml", "Pipfile"):
            assert pattern.search(path), (hook["id"], path)
        assert not pattern.search("README.md")
    check = parser.parse_args(shlex.split(by_id["hardener"]["entry"])[1:])
    assert not check.apply_all and check.format == "text"  # never writes, never opens the review
    assert parser.parse_args(shlex.split(by_id["hardener-fix"]["entry"])[1:]).apply_all


def test_ci_doc_workflow():
    doc = (REPO / "docs" / "ci.md").read_text()
    block = re.search(r"```yaml\n(# \.github/workflows/.*?)```", doc, re.DOTALL).group(1)
    workflow = yaml.safe_load(block)
    steps = workflow["jobs"]["hardener"]["steps"]
    assert workflow["jobs"]["hardener"]["permissions"]["security-events"] == "write"
    runs = [s.get("run", "") for s in steps]
    scan = next(r for r in runs if "--format sarif" in r)
    args = build_parser().parse_args(shlex.split(scan)[1:])
    assert args.format == "sarif" and args.output == "hardener.sarif"
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "hardener.sarif"
