"""Shared by the unit tests of the rewrite rules (H311-H315, H401/H402, H411, H501/H502)."""

from __future__ import annotations

import textwrap

from hardener.apply import apply_fixes
from hardener.config import Config
from hardener.scanner import scan

from conftest import write_tree

APP = "from flask import Flask, request\napp = Flask(__name__)\n"


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def project(tmp_path, files):
    if isinstance(files, str):
        files = {"app.py": files}
    def clean(text):
        # APP + an indented block: dedent the block alone
        return APP + dedent(text[len(APP):]) if text.startswith(APP) else dedent(text)

    return write_tree(tmp_path / "p", {k: clean(v) for k, v in files.items()})


def findings(root, code):
    result = scan(root, Config(select=[code], cache=False))
    assert result.errors == [], result.errors
    return [f for f in result.findings if f.code == code]


def fix(root, code, *, unsafe=True):
    """Apply every fix of ``code``; return ({path: new text}, findings left of ``code``)."""
    report, ws, after = apply_fixes(root, Config(select=[code], cache=False), unsafe=unsafe)
    assert not report.failed, report.failed
    texts = {p: (ws.read(p) or b"").decode() for p in ws.pending}
    for text in texts.values():
        compile(text, "<fixed>", "exec")
    return texts, [f for f in after.findings if f.code == code]


def fix_twice(root, code, *, unsafe=True):
    """Apply, write, and check that a second run proposes nothing."""
    from hardener.apply import commit

    report, ws, after = apply_fixes(root, Config(select=[code], cache=False), unsafe=unsafe)
    assert not report.failed, report.failed
    commit(ws)
    again = findings(root, code)
    assert all(f.fix is None for f in again), [f.message for f in again]
    return {p: (root / p).read_text() for p in ws.changed}
