"""The benchmark script runs end to end on a tiny tree (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "run.py"


def test_benchmark_smoke(tmp_path):
    out = tmp_path / "results.json"
    tree = tmp_path / "tree"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--files", "20", "--no-stdlib", "--runs", "1", "--tree", str(tree),
         "--json", str(out), "-q"],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    table = result.stdout
    for row in ("full scan, median wall", "peak memory (scan)", "rescan, 1 file changed",
                "rescan, nothing changed", "--apply-all on a copy", "hardener --version"):
        assert row in table, table
    assert "tree: 20 generated Flask files" in table
    data = json.loads(out.read_text())
    assert data["tree"]["generated_files"] == 20 and data["tree"]["stdlib_files"] == 0
    assert data["hardener_scan_s"] > 0 and data["bandit_scan_s"] > 0
    assert data["hardener_peak_mb"] > 0 and data["bandit_peak_mb"] > 0
    assert data["hardener_findings"] > 0 and data["bandit_results"] > 0
    # the cached rescans report what a scan without the cache reports
    assert data["rescan_identical"] and data["unchanged_rescan_identical"]
    # the kept tree is reused by a second run with the same parameters
    assert json.loads((tree / ".benchmark-tree.json").read_text())["params"]["files"] == 20


def test_generated_tree_is_deterministic_and_valid_python(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    a = generate(tmp_path / "a", files=30, lines=4000, seed=3)
    b = generate(tmp_path / "b", files=30, lines=4000, seed=3)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    assert all((tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes() for p in files_a)
    assert a.python_files == 30 and 3000 < a.python_lines < 5000 and a.templates > 0
    for path in (tmp_path / "a").rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_a_folder_the_script_did_not_build_is_refused(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "other.py").write_text("x = 1\n")
    result = subprocess.run([sys.executable, str(SCRIPT), "--files", "5", "--no-stdlib", "--runs", "1",
                             "--tree", str(tree), "-q"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode != 0 and "not a tree this script built" in result.stderr
    assert sorted(p.name for p in tree.iterdir()) == ["other.py"]
