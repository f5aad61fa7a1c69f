"""Bytes outside the changed regions stay identical: encoding, BOM, line
endings, trailing newline, permissions; .env is 0600; --undo restores all."""

from __future__ import annotations

import os
import stat

from conftest import run_hardener, snapshot_tree

OLD = b"app.run(debug=True)"
NEW = b'app.run(debug=os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true"))'


def _write(tmp_path, data: bytes, mode=0o640):
    root = tmp_path / "p"
    root.mkdir()
    (root / "app.py").write_bytes(data)
    os.chmod(root / "app.py", mode)
    return root


def _apply(root):
    result = run_hardener(root, "--apply-all")
    assert result.returncode in (0, 1), result.stderr
    return (root / "app.py").read_bytes()


def test_crlf_and_no_trailing_newline(tmp_path):
    src = b"import os\r\nfrom flask import Flask\r\napp = Flask(__name__)\r\n\r\n# keep me\r\n" + OLD
    root = _write(tmp_path, src)
    out = _apply(root)
    assert out == src.replace(OLD, NEW)
    assert stat.S_IMODE(os.stat(root / "app.py").st_mode) == 0o640


def test_utf8_bom(tmp_path):
    src = b"\xef\xbb\xbfimport os\nfrom flask import Flask\n# caf\xc3\xa9\napp = Flask(__name__)\n" + OLD + b"\n"
    root = _write(tmp_path, src)
    assert _apply(root) == src.replace(OLD, NEW)


def test_latin1_with_coding_cookie(tmp_path):
    src = b"# -*- coding: latin-1 -*-\nimport os\nfrom flask import Flask\nNAME = 'caf\xe9'\napp = Flask(__name__)\n" + OLD + b"\n"
    root = _write(tmp_path, src)
    assert _apply(root) == src.replace(OLD, NEW)


def test_undo_restores_byte_for_byte(tmp_path):
    src = b"from flask import Flask\r\napp = Flask(__name__)\r\n" + OLD + b"\r\n"
    root = _write(tmp_path, src, 0o600)
    before = snapshot_tree(root)
    _apply(root)
    assert snapshot_tree(root) != before
    undo = run_hardener(root, "--undo")
    assert undo.returncode == 0, undo.stderr
    assert "restored app.py" in undo.stdout
    assert snapshot_tree(root) == before
    assert stat.S_IMODE(os.stat(root / "app.py").st_mode) == 0o600
    again = run_hardener(root, "--undo")
    assert again.returncode == 2 and "nothing to undo" in again.stderr


def test_stale_file_is_never_overwritten(tmp_path):
    from hardener.apply import StaleFileError, apply_fixes, commit

    src = b"from flask import Flask\napp = Flask(__name__)\n" + OLD + b"\n"
    root = _write(tmp_path, src)
    report, ws, _ = apply_fixes(root)
    assert report.applied
    edited = src + b"# edited by the user meanwhile\n"
    (root / "app.py").write_bytes(edited)
    try:
        commit(ws)
    except StaleFileError as exc:
        assert "changed on disk" in str(exc)
    else:
        raise AssertionError("a stale file was overwritten")
    assert (root / "app.py").read_bytes() == edited
