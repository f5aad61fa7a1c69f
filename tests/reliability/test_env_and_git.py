""".env only ever gains keys; uncommitted work is warned about (and protected
with --require-clean)."""

from __future__ import annotations

import os
import stat
import subprocess

from conftest import run_hardener

APP = "from flask import Flask\napp = Flask(__name__)\napp.config['SECRET_KEY'] = 'hard-coded-key-1234567890'\n"


def test_existing_env_value_is_never_replaced(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / ".env").write_text("# mine\nSECRET_KEY=the-value-production-uses\nOTHER=1\n")
    os.chmod(root / ".env", 0o640)
    result = run_hardener(root, "--apply-all")
    assert result.returncode in (0, 1), result.stderr
    env = (root / ".env").read_text()
    assert env.startswith("# mine\nSECRET_KEY=the-value-production-uses\nOTHER=1\n")
    # the hard-coded value went in under its own name, so the app keeps the key it had
    assert "hard-coded-key-1234567890" in env
    assert 'os.environ["APP_SECRET_KEY"]' in (root / "app.py").read_text()
    assert stat.S_IMODE(os.stat(root / ".env").st_mode) == 0o640  # an existing file keeps its mode


def test_created_env_is_0600(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "app.py").write_text(APP)
    run_hardener(root, "--apply-all")
    assert stat.S_IMODE(os.stat(root / ".env").st_mode) == 0o600
    assert ".env" in (root / ".gitignore").read_text().splitlines()


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                            GIT_COMMITTER_EMAIL="t@t"))


def test_uncommitted_changes_warned_and_require_clean_refuses(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n")
    _git(root, "init", "-q")
    _git(root, "add", "app.py")
    _git(root, "commit", "-qm", "init")
    with open(root / "app.py", "a") as fh:
        fh.write("# work in progress\n")
    before = (root / "app.py").read_bytes()
    refused = run_hardener(root, "--apply-all", "--require-clean")
    assert refused.returncode == 2
    assert "uncommitted changes in files the fixes touch: app.py" in refused.stderr
    assert (root / "app.py").read_bytes() == before
    warned = run_hardener(root, "--apply-all")
    assert "warning: uncommitted changes" in warned.stderr
    assert (root / "app.py").read_bytes() != before
