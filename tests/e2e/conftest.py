"""End-to-end harness: copy a sample project, run the real `hardener` on it.

``hardened(name)`` is computed once per test session (per name and flags):
later rules extend the e2e tests with their own exploit checks on the same
patched copy instead of running hardener again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import copy_sample, run_hardener, snapshot_tree


@dataclass
class Hardened:
    original: Path  # untouched copy
    root: Path  # patched copy
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    after_first: dict[str, bytes]
    after_second: dict[str, bytes]


@pytest.fixture(scope="session")
def hardened(tmp_path_factory):
    cache: dict[tuple, Hardened] = {}

    def get(name: str, *flags: str) -> Hardened:
        key = (name, flags)
        if key not in cache:
            base = tmp_path_factory.mktemp(f"{name}-{'-'.join(f.strip('-') for f in flags) or 'safe'}")
            original = copy_sample(name, base / "original")
            root = copy_sample(name, base / "patched")
            first = run_hardener(root, "--apply-all", *flags)
            after_first = snapshot_tree(root)
            second = run_hardener(root, "--apply-all", *flags)
            after_second = snapshot_tree(root)
            cache[key] = Hardened(original, root, first, second, after_first, after_second)
        return cache[key]

    return get


def run_sample_tests(root: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run a sample project's own test suite in a subprocess."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=root, env=env, capture_output=True, text=True, timeout=600,
    )


# The start of every probe script: a browser-like form post that sends the
# page's CSRF token when it has one.
PROBE_PREAMBLE = r'''
import io, json, os, re, sqlite3, sys, tempfile
sys.path.insert(0, ".")
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
out = {}


def post_form(c, form_url, data, post_url=None, **kw):
    """Like a browser: load the page, send the form's hidden token if it has one."""
    page = c.get(form_url).get_data(as_text=True)
    m = TOKEN.search(page)
    if m:
        data = dict(data, csrf_token=m.group(1))
    return c.post(post_url or form_url, data=data, **kw)
'''


def run_probe(root: Path, script: str) -> dict:
    """Run a probe script in a sample project (a subprocess: the samples' module
    names clash) and return the JSON it printed last."""
    import json

    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for key in ("SECRET_KEY", "FLASK_DEBUG", "DATABASE_URL", "SQLALCHEMY_DATABASE_URI", "FORCE_HTTPS"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
