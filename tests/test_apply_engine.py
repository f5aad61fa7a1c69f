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


def test_merge_lines_applies_changes_that_are_a_line_apart():
    from hardener.apply import merge_lines

    base = b"a\nb\nc\nd\ne\n"
    ours = b"a\nB\nc\nd\ne\n"  # line 2 changed
    assert merge_lines(base, ours, b"a\nb\nc\nD\ne\n") == b"a\nB\nc\nD\ne\n"
    assert merge_lines(base, ours, b"a\nb\nc\nd\ne\nf\n") == b"a\nB\nc\nd\ne\nf\n"  # appended
    # the same line, or the line next to it, or an insertion right there: not merged
    assert merge_lines(base, ours, b"a\nX\nc\nd\ne\n") is None
    assert merge_lines(base, ours, b"a\nb\nC\nd\ne\n") is None
    assert merge_lines(base, ours, b"a\nb\nnew\nc\nd\ne\n") is None
    # both add at the end of the file: which goes first is not theirs to say
    assert merge_lines(base, base + b"x\n", base + b"y\n") is None


def _scans(monkeypatch) -> list[int]:
    from hardener import apply as apply_module

    runs = []
    real = apply_module.Scanner.run

    def counted(self, *args, **kwargs):
        runs.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(apply_module.Scanner, "run", counted)
    return runs


SEVERAL = """import os
from flask import Flask, redirect, request
app = Flask(__name__)


@app.get("/go")
def go():
    return redirect(request.args["next"])


@app.get("/file")
def file():
    return open(os.path.join("/srv", request.args["name"])).read()


if __name__ == "__main__":
    app.run(debug=True)
"""


def test_apply_all_composes_the_fixes_of_one_module_in_one_round(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {"app.py": SEVERAL})
    runs = _scans(monkeypatch)
    report, ws, after = apply_fixes(root, Config(select=["H101", "H411"], cache=False))
    assert len(report.applied) == 2 and not report.failed
    assert len(runs) == 2  # the scan, and the one that checks both are gone
    text = ws.read("app.py").decode()
    assert "debug=True" not in text and "safe_redirect_target(request.args" in text
    compile(text, "app.py", "exec")
    assert [f for f in after.findings if f.code in ("H101", "H411")] == []


def test_a_reviewer_still_sees_one_fix_per_module_and_round(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {"app.py": SEVERAL})
    runs = _scans(monkeypatch)
    report, ws, after = apply_fixes(root, Config(select=["H101", "H411"], cache=False), accept=lambda f: True)
    assert len(report.applied) == 2 and len(runs) == 3
    assert ws.read("app.py") == apply_fixes(write_tree(tmp_path / "q", {"app.py": SEVERAL}),
                                            Config(select=["H101", "H411"], cache=False))[1].read("app.py")


def test_checking_a_fix_compiles_says_nothing_of_the_projects_own_warnings(tmp_path):
    # `x is not 1` makes CPython warn; that is the project's code, not the fix
    import warnings

    write_tree(tmp_path, {"app.py": "from flask import Flask\napp = Flask(__name__)\n\n\ndef check(x):\n"
                                    "    return x is not 1\n\n\nif __name__ == '__main__':\n    app.run(debug=True)\n"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report, ws, after = apply_fixes(tmp_path, Config(select=["H101"], cache=False))
    assert "debug=True" not in ws.read("app.py").decode()
    assert not [w for w in caught if issubclass(w.category, SyntaxWarning)]
