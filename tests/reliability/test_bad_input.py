"""Bad input gets one clear line naming the file, no traceback, the rest of the
project is still scanned and fixed, and the exit code says something went wrong."""

from __future__ import annotations

import os
import sys

import pytest

from conftest import run_hardener, write_tree

APP = "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n"
FIXED_LINE = 'app.run(debug=os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true"))'


def _project(tmp_path, files: dict[str, str | bytes]):
    root = tmp_path / "p"
    root.mkdir()
    (root / "app.py").write_text(APP)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def _check(root, bad: str, reason: str):
    """Report mode names the file; --apply-all still fixes app.py; exit 2."""
    report = run_hardener(root, "--format", "json")
    assert report.returncode == 2, report.stderr
    assert "Traceback" not in report.stderr + report.stdout
    import json

    data = json.loads(report.stdout)
    messages = {e["path"]: e["message"] for e in data["errors"]}
    assert bad in messages, messages
    assert [e["path"] for e in data["errors"]].count(bad) == 1, data["errors"]  # no rule's error besides
    assert reason in messages[bad].lower(), messages[bad]
    assert len(messages[bad].splitlines()) == 1
    assert any(f["code"] == "H101" and f["path"] == "app.py" for f in data["findings"])
    text = run_hardener(root)
    assert f"{bad}: " in text.stdout and text.returncode == 2
    applied = run_hardener(root, "--apply-all")
    assert "Traceback" not in applied.stderr
    assert applied.returncode == 2
    assert FIXED_LINE in (root / "app.py").read_text()


FLASK_HINT = "from flask import Flask\n"


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("broken.py", FLASK_HINT + "def broken(:\n    pass\n", "syntax error"),
        ("py2.py", FLASK_HINT + 'print "hello"\n', "syntax error"),
        # realms-wiki: Python 2 in a module a file rule is triggered by (a password)
        ("oauth.py", FLASK_HINT + "MAP = {'password': lambda(data): data['pw']}\n", "syntax error"),
        ("nul.py", FLASK_HINT.encode() + b"x = 1\0\n", "nul byte"),
        ("mixed.py", FLASK_HINT + "if True:\n\tx = 1\n        y = 2\n", ""),
    ],
)
def test_unparsable_python_is_an_error_line(tmp_path, name, content, reason):
    root = _project(tmp_path, {name: content})
    if name == "mixed.py":
        # CPython rejects this one too, but either way it is one line for this file
        reason = ""
    _check(root, name, reason)


def test_mixed_tabs_and_spaces_that_cpython_accepts(tmp_path):
    # Blocks indented with a tab and with eight spaces: CPython compiles it. Either
    # libcst parses it too (then it is scanned) or it is one error line; never a crash.
    source = FLASK_HINT + "if a:\n\tx = 1\nif b:\n        y = 2\n"
    compile(source, "t.py", "exec")
    root = _project(tmp_path, {"tabs.py": source})
    result = run_hardener(root, "--format", "json")
    assert "Traceback" not in result.stderr
    import json

    data = json.loads(result.stdout)
    assert [e for e in data["errors"] if e["path"] == "tabs.py"] == [] or result.returncode == 2
    assert any(f["path"] == "app.py" for f in data["findings"])


def test_invalid_jinja_template(tmp_path):
    root = _project(tmp_path, {"templates/bad.html": "{% if x %}<p>never closed</p>\n"})
    _check(root, "templates/bad.html", "not valid jinja")


def test_tags_of_the_projects_own_jinja_extensions_are_read(tmp_path):
    # CKAN's templates: {% ckan_extends %}, {% snippet ... %}, a block tag with its end tag
    from hardener.config import Config
    from hardener.scanner import scan

    root = _project(tmp_path, {"templates/page.html": "{% ckan_extends %}\n{% block main %}\n"
                                                      "{% snippet 'x.html', user=user %}\n{% panel 'a' %}\n"
                                                      "<p>{{ user.bio|safe }}</p>\n{% endpanel %}\n{% endblock %}\n",
                               "templates/bad.html": "{% for x in y %}{% snippet 'x' %}{% endif %}\n"})
    result = scan(root, Config(select=["H313"], cache=False))
    assert [(f.path, f.line) for f in result.findings] == [("templates/page.html", 5)]
    assert [(path, message.split(": ", 1)[1]) for path, message in result.errors] == [
        ("templates/bad.html", "Encountered unknown tag 'endif'. Jinja was looking for the following tags: "
                               "'endfor' or 'else'. The innermost block that needs to be closed is 'for'.")]


def test_broken_pyproject(tmp_path):
    root = _project(tmp_path, {"pyproject.toml": "[project\nname = 'x'\n"})
    _check(root, "pyproject.toml", "not valid toml")


def test_huge_generated_module_is_skipped(tmp_path):
    big = "from flask import Flask\n" + "X = 1\n" * 1_800_000  # about 10 MB
    root = _project(tmp_path, {"generated.py": big})
    _check(root, "generated.py", "larger than")


def test_symlink_loop(tmp_path):
    root = _project(tmp_path, {})
    os.symlink("loop.py", root / "loop.py")
    (root / "pkg").mkdir()
    os.symlink("..", root / "pkg" / "up")
    result = run_hardener(root, "--format", "json")
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert "loop.py" in result.stdout


def test_symlink_outside_root_is_never_written(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "other.py").write_text(APP)
    root = _project(tmp_path, {})
    os.symlink(outside / "other.py", root / "linked.py")
    os.symlink(outside, root / "linkeddir")
    before = (outside / "other.py").read_bytes()
    run_hardener(root, "--apply-all")
    assert (outside / "other.py").read_bytes() == before
    assert FIXED_LINE in (root / "app.py").read_text()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unreadable_file(tmp_path, monkeypatch):
    from hardener.scanner import scan
    from hardener.workspace import Workspace

    root = _project(tmp_path, {"secret.py": FLASK_HINT})
    real_read = Workspace.read

    def read(self, rel):
        if rel == "secret.py":
            raise PermissionError(13, "Permission denied")
        return real_read(self, rel)

    monkeypatch.setattr(Workspace, "read", read)
    result = scan(root)
    assert ("secret.py", "permission denied: cannot read the file") in result.errors
    assert any(f.code == "H101" for f in result.findings)


def test_read_only_target_is_refused_and_others_fixed(tmp_path):
    root = _project(tmp_path, {"other.py": APP})
    os.chmod(root / "other.py", 0o444)
    before = (root / "other.py").read_bytes()
    result = run_hardener(root, "--apply-all")
    assert "other.py is read-only" in result.stderr
    assert (root / "other.py").read_bytes() == before
    assert FIXED_LINE in (root / "app.py").read_text()


def test_path_missing_or_a_file(tmp_path):
    missing = run_hardener(tmp_path / "nope")
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
    (tmp_path / "f.py").write_text("x = 1\n")
    afile = run_hardener(tmp_path / "f.py")
    assert afile.returncode == 2 and "is not a directory" in afile.stderr


def test_project_without_flask(tmp_path):
    write_tree(tmp_path / "p", {"lib.py": "def f():\n    return 1\n"})
    result = run_hardener(tmp_path / "p")
    assert result.returncode == 2
    assert "no Flask app found" in result.stdout


def test_empty_file_is_fine(tmp_path):
    root = _project(tmp_path, {"empty.py": ""})
    result = run_hardener(root, "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
