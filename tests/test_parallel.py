"""hardener.parallel: change sets computed on two processes are those computed one by one."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from hardener import parallel
from hardener.models import ChangeSet, FileChange, Fix, FixError, Safety
from hardener.scanner import scan

REPO = Path(__file__).resolve().parent.parent
SECRET = re.compile(r"[A-Za-z0-9_\-]{32,}")  # generated keys differ from run to run

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or parallel.cpu_count() < 2, reason="needs os.fork and two CPUs")


@pytest.fixture(autouse=True)
def two_workers(monkeypatch):
    monkeypatch.setenv("HARDENER_WORKERS", "2")  # the forked child is off unless asked for


def _fix(n: int, compute=None) -> Fix:
    def made() -> ChangeSet:
        return ChangeSet([FileChange(f"f{n}.py", b"old\n", f"new {n} in {os.getpid()}\n".encode())], notes=[f"n{n}"])

    return Fix(f"fix {n}", Safety.SAFE, compute or made)


def test_every_other_fix_comes_from_the_child_and_all_are_kept():
    fixes = [_fix(n) for n in range(12)]
    parallel.compute_changesets(fixes)
    pids = set()
    for n, fix in enumerate(fixes):
        assert fix._result is not None
        change = fix._result.changes[0]
        assert change.path == f"f{n}.py" and fix._result.notes == [f"n{n}"]
        pids.add(change.new.split()[-1])
    assert str(os.getpid()).encode() in pids and len(pids) == 2  # two processes did the work


def test_errors_are_kept_or_left_for_the_parent():
    def refused() -> ChangeSet:
        raise FixError("cannot be fixed safely")

    def broken() -> ChangeSet:
        raise RuntimeError("a bug in a rule")

    fixes = [_fix(n) for n in range(10)]
    fixes[1] = _fix(1, refused)  # computed by the child
    fixes[3] = _fix(3, broken)  # computed by the child, which leaves it alone
    parallel.compute_changesets(fixes)
    assert fixes[1]._error == "cannot be fixed safely"
    with pytest.raises(FixError):
        fixes[1].changeset()
    assert fixes[3]._result is None and fixes[3]._error is None
    with pytest.raises(RuntimeError):  # the report meets the bug as it would have without the child
        fixes[3].changeset()


def test_few_fixes_or_workers_off_stay_in_this_process(monkeypatch):
    few = [_fix(n) for n in range(parallel.MIN_FIXES - 1)]
    parallel.compute_changesets(few)
    assert all(f._result is None for f in few)
    for value in ("1", "", "two"):
        monkeypatch.setenv("HARDENER_WORKERS", value)
        many = [_fix(n) for n in range(20)]
        parallel.compute_changesets(many)
        assert all(f._result is None for f in many)
    monkeypatch.delenv("HARDENER_WORKERS")  # the default
    assert not parallel.enabled()


def _diffs(root: Path, *, workers: bool) -> list[str]:
    result = scan(root)
    fixes = [f.fix for f in result.findings if f.fix is not None]
    if workers:
        parallel.compute_changesets(fixes)
    out = []
    for fix in fixes:
        try:
            out.append(SECRET.sub("<secret>", fix.changeset().diff()))
        except FixError as exc:
            out.append(f"error: {exc}")
    return out


def test_same_change_sets_as_one_by_one_on_a_sample_project(tmp_path):
    root = tmp_path / "shop"
    shutil.copytree(REPO / "sample_projects" / "shop_factory", root)
    serial = _diffs(root, workers=False)
    assert len(serial) >= parallel.MIN_FIXES
    assert _diffs(root, workers=True) == serial
