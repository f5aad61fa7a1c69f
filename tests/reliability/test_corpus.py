"""Fixes proven on real code that is already on the machine: the Python
standard library's sources and the installed site-packages.

A small sample always runs; the whole corpus is opt-in: `pytest -m corpus`.
Scanning never crashes, every fixed file compiles, a second run changes
nothing, and no file outside the root is touched."""

from __future__ import annotations

import hashlib
import shutil
import sysconfig
from pathlib import Path

import pytest

from hardener.apply import apply_fixes, commit
from hardener.config import Config
from hardener.scanner import scan

STDLIB = Path(sysconfig.get_paths()["stdlib"])
PURELIB = Path(sysconfig.get_paths()["purelib"])
APP = "from flask import Flask\napp = Flask(__name__)\n"


def _corpus_files(limit: int | None):
    files = []
    for base in (STDLIB, PURELIB):
        for path in sorted(base.rglob("*.py")):
            parts = set(path.relative_to(base).parts)
            if base == STDLIB and ("site-packages" in parts or "test" in parts or "tests" in parts):
                continue
            files.append((base, path))
    if limit is not None:
        step = max(1, len(files) // limit)
        files = files[::step][:limit]
    return files


def _copy(files, root: Path) -> int:
    count = 0
    for base, path in files:
        # not "site-packages": discovery skips folders of that name (installed code)
        rel = Path("stdlib" if base == STDLIB else "packages") / path.relative_to(base)
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, dest)
        except OSError:
            continue
        count += 1
    (root / "app.py").write_text(APP)
    return count


def _digest(paths) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for _, p in paths}


def _run(files, tmp_path):
    root = tmp_path / "corpus"
    copied = _copy(files, root)
    originals = _digest(files)
    config = Config(cache=False)
    result = scan(root, config)
    report, ws, _ = apply_fixes(root, config, unsafe=True)
    changed = dict(ws.changed)
    for rel, data in changed.items():
        if rel.endswith(".py"):
            compile(data, rel, "exec", dont_inherit=True)
    commit(ws)
    second, ws2, _ = apply_fixes(root, config, unsafe=True)
    assert ws2.changed == {}, sorted(ws2.changed)
    assert _digest(files) == originals  # nothing outside the root was touched
    assert result.files_scanned >= copied * 0.95, (result.files_scanned, copied)
    return copied, len(result.findings), len(report.applied), len(result.errors)


def test_corpus_sample(tmp_path):
    copied, findings, applied, errors = _run(_corpus_files(limit=120), tmp_path)
    assert copied >= 100


@pytest.mark.corpus
def test_whole_corpus(tmp_path):
    copied, findings, applied, errors = _run(_corpus_files(limit=None), tmp_path)
    print(f"\ncorpus: {copied} files, {findings} findings, {applied} fixes applied, {errors} errors")
    assert copied > 1000
