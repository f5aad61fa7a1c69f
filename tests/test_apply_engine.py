"""The apply engine composes fixes: several on one file, identical snippets each fixed once."""

from __future__ import annotations

from hardener.apply import apply_fixes
from hardener.config import Config

from conftest import write_tree

TWICE = """from flask import Flask
app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=True)

if __name__ == "__main__":
    app.run(debug=True)
"""


def test_identical_snippets_are_each_fixed_in_one_run(tmp_path):
    root = write_tree(tmp_path / "p", {"app.py": TWICE})
    report, ws, after = apply_fixes(root, Config(select=["H101"], cache=False))
    assert len(report.applied) == 2
    assert "debug=True" not in ws.read("app.py").decode()
    assert [f for f in after.findings if f.code == "H101"] == []
    again, ws2, _ = apply_fixes(root, Config(select=["H101"], cache=False), workspace=ws)
    assert again.applied == [] and ws2.changed == ws.changed


def test_declined_fix_of_an_identical_snippet_stays_declined(tmp_path):
    root = write_tree(tmp_path / "p", {"app.py": TWICE})
    asked = []

    def accept(finding):
        asked.append(finding.line)
        return len(asked) == 2  # decline the first, accept the second

    report, ws, after = apply_fixes(root, Config(select=["H101"], cache=False), accept=accept)
    assert len(asked) == 2 and len(report.applied) == 1
    text = ws.read("app.py").decode()
    assert text.count("debug=True") == 1
    assert text.index("debug=True") < text.index("FLASK_DEBUG")  # the first stays as it was
