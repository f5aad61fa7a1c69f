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
