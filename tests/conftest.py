import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_projects"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def make_project(tmp_path):
    """Write {path: text} under a fresh directory and return it."""

    def make(files: dict[str, str], name: str = "proj") -> Path:
        return write_tree(tmp_path / name, files)

    return make


def run_hardener(*args, cwd=None, env=None, input=None, timeout=600):
    """Run the real command line in a subprocess."""
    full_env = dict(os.environ, NO_COLOR="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "hardener", *map(str, args)],
        cwd=cwd, env=full_env, input=input, capture_output=True, text=True, timeout=timeout,
    )


def copy_sample(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(SAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc", ".hardener"))
    return target


def snapshot_tree(root: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".hardener" not in path.parts and "__pycache__" not in path.parts:
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


@pytest.fixture
def cli_recursion_limit():
    """In-process scans share cache entries with the command line only at its recursion limit."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 6000))
    yield
    sys.setrecursionlimit(old)
