"""propose -> verify -> write: turn fixes into files on disk, safely.

``apply_fixes`` composes fixes on an in-memory Workspace (re-scanning after each
round so later fixes see earlier ones); ``commit`` verifies every file against
the bytes it was computed from, journals the originals and writes atomically.
``undo`` restores the last journal byte for byte.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import signal
import stat
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import libcst as cst

from hardener.config import Config
from hardener.fixkit import StaleFixError
from hardener.models import ChangeSet, FileChange, Finding, Fix, FixError, Safety
from hardener.scanner import ScanResult, Scanner, remember_tree
from hardener.source import parse_unvalidated
from hardener.workspace import Workspace

JOURNAL_DIR = ".hardener/journal"


class ApplyError(Exception):
    pass


class StaleFileError(ApplyError):
    pass


@dataclass
class Applied:
    finding: Finding
    changeset: ChangeSet


@dataclass
class ApplyReport:
    applied: list[Applied] = field(default_factory=list)
    failed: list[tuple[Finding, str]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    journal: str | None = None

    @property
    def dependencies(self) -> list[str]:
        out: list[str] = []
        for a in self.applied:
            out += [d for d in a.changeset.dependencies if d not in out]
        return out

    @property
    def followups(self) -> list[str]:
        out: list[str] = []
        for a in self.applied:
            out += [f for f in a.changeset.followups if f not in out]
        return out


def finding_key(f: Finding) -> tuple[str, str, str, int]:
    """Stable across rescans: line numbers move when fixes land, this does not.
    Identical snippets are told apart by how many of them follow (fixes land
    first-to-last, so the count of the ones still waiting does not change)."""
    return (f.code, f.path, f.fingerprint, f.occurrence)


def is_read_only(path: Path) -> bool:
    """No write permission bit set (checked on the bits: root can write anything)."""
    try:
        return not (os.stat(path).st_mode & 0o222)
    except OSError:
        return False


def verify_changeset(cs: ChangeSet) -> dict[str, cst.Module]:
    """Python results must parse (with libcst, as the next scan will) and
    compile; gives back the trees."""
    trees = {}
    for change in cs.changes:
        if change.path.endswith(".py"):
            try:
                trees[change.path] = parse_unvalidated(change.new)
                with warnings.catch_warnings():  # the project's own `x is 1` is not ours to report
                    warnings.simplefilter("ignore")
                    compile(change.new, change.path, "exec", dont_inherit=True)
            except Exception as exc:
                raise FixError(f"the fixed {change.path} would not compile: {str(exc).splitlines()[0]}") from None
    return trees


def stage(ws: Workspace, cs: ChangeSet) -> dict[str, cst.Module]:
    """Put a change set into the workspace after checking it is not stale;
    gives back the trees of its Python results."""
    for change in cs.changes:
        if ws.read(change.path) != change.old:
            raise StaleFileError(f"{change.path} changed since the fix was computed")
        if change.old is not None and change.path not in ws.pending and is_read_only(ws.abspath(change.path)):
            raise FixError(f"{change.path} is read-only; the fix was not applied")
    trees = verify_changeset(cs)
    for change in cs.changes:
        ws.write(change.path, change.new, change.mode)
    return trees


def apply_fixes(
    root: Path,
    config: Config | None = None,
    *,
    unsafe: bool = False,
    accept: Callable[[Finding], "bool | Fix"] | None = None,
    on_applied: Callable[[Applied], None] | None = None,
    max_rounds: int = 50,
    workspace: Workspace | None = None,
) -> tuple[ApplyReport, Workspace, ScanResult]:
    """Compose every accepted fix in memory. Nothing is written here.

    Each round scans the (in-memory) project, applies the fixes whose files do
    not overlap, and goes again until nothing new applies. A fix that fails or
    does not make its finding go away is tried once only.

    Without a reviewer (``--apply-all``) a round also composes fixes that
    touch the same files (every round is a whole scan, and a module with three
    findings would otherwise take three): all change sets of the round are
    computed on the content it scanned, and one that meets a file an earlier
    fix of the round changed is applied on top of it when their changed lines
    are at least one unchanged line apart (``merge_lines``); files that are
    not code (``.env``, requirements) are edited again from their new content.
    Anything closer waits for the next round. A reviewer sees and accepts
    exactly the change that is applied, so with ``accept`` fixes of one file
    go one per round.
    """
    ws = workspace or Workspace(Path(root))
    report = ApplyReport()
    attempted: set[tuple[str, str, str]] = set()
    compose = accept is None

    def eligible(finding: Finding) -> bool:
        fix = finding.fix
        return fix is not None and finding_key(finding) not in attempted and (fix.safety is not Safety.REVIEW or unsafe)

    result = Scanner(root, config, ws).run()
    for _ in range(max_rounds):
        touched: set[str] = set()
        progressed = False
        staged_trees: dict[str, object] = {}  # kept alive until the next scan has reused them
        if compose:  # every change set from the content this round scanned
            for finding in result.findings:
                if eligible(finding):
                    try:
                        finding.fix.changeset()
                    except Exception:
                        pass  # met again below, where it is reported
        sources = set(result.project.python) | set(result.project.templates) if compose else set()
        for finding in result.findings:
            if not eligible(finding) or (finding.path in touched and not compose):
                continue
            fix = finding.fix
            try:
                cs = fix.changeset()
            except StaleFixError:
                continue  # computed on content another fix of this round changed
            except FixError as exc:
                attempted.add(finding_key(finding))
                report.failed.append((finding, str(exc)))
                continue
            except Exception as exc:  # a bug in a rule must not stop the others
                attempted.add(finding_key(finding))
                report.failed.append((finding, f"internal error in {finding.code}: {exc!r}"))
                continue
            if finding.path in touched and finding.path not in cs.paths:
                continue  # what the finding was seen in has changed: scan it again first
            composed = bool(touched & set(cs.paths))
            if composed:
                cs = _compose(ws, fix, cs, touched, sources) if compose else None
                if cs is None:
                    continue  # recompute on the next round, on the new content
            attempted.add(finding_key(finding))
            if accept is not None:
                answer = accept(finding)
                if not answer:
                    continue
                if isinstance(answer, Fix) and answer is not fix:  # the reviewer chose fix.alternative
                    try:
                        cs = answer.changeset()
                    except FixError as exc:
                        report.failed.append((finding, str(exc)))
                        continue
                    if touched & set(cs.paths):
                        attempted.discard(finding_key(finding))
                        continue
            try:
                trees = stage(ws, cs)
            except (FixError, StaleFileError) as exc:
                if composed:  # together with this round's other fixes it does not hold: alone next round
                    attempted.discard(finding_key(finding))
                    continue
                report.failed.append((finding, str(exc)))
                continue
            for path, tree in trees.items():  # the next scan parses none of them again
                staged_trees[path] = remember_tree(root, path, ws.read(path), tree)
            touched |= set(cs.paths)
            progressed = True
            applied = Applied(finding, cs)
            report.applied.append(applied)
            if on_applied:
                on_applied(applied)
        if not progressed:
            break
        result = Scanner(root, config, ws).run()
    report.remaining = result.findings
    report.errors = result.errors
    return report, ws, result


def _compose(ws: Workspace, fix: Fix, cs: ChangeSet, touched: set[str], sources: set[str]) -> ChangeSet | None:
    """``cs`` (computed on the round's content) made to apply on top of the
    fixes staged this round, or None when it cannot be without a new scan."""
    overlap = touched & set(cs.paths)
    if not overlap & sources:
        # only files no rule reads as code: compute the fix again, its edits of
        # those files then start from their new content
        try:
            cs = fix.compute()
        except Exception:
            return None
        if touched & set(cs.paths) & sources or any(ws.read(c.path) != c.old for c in cs.changes):
            return None
        return cs
    changes = []
    for change in cs.changes:
        current = ws.read(change.path)
        if change.path in overlap:
            if change.old is None or current is None:
                return None
            merged = merge_lines(change.old, current, change.new)
            if merged is None:
                return None
            change = FileChange(change.path, current, merged, change.mode, change.secret_values)
        changes.append(change)
    return ChangeSet(changes, list(cs.dependencies), list(cs.notes), list(cs.followups))


def _line_edits(base: list[bytes], new: list[bytes]) -> list[tuple[int, int, list[bytes]]]:
    matcher = difflib.SequenceMatcher(None, base, new, autojunk=False)
    return [(i1, i2, new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def merge_lines(base: bytes, ours: bytes, theirs: bytes) -> bytes | None:
    """``theirs``' changes to ``base`` applied to ``ours`` (another change of
    ``base``); None unless every changed range of one is at least one
    unchanged line away from every changed range of the other."""
    lines = base.splitlines(keepends=True)
    mine = _line_edits(lines, ours.splitlines(keepends=True))
    other = _line_edits(lines, theirs.splitlines(keepends=True))
    for start, end, _ in other:
        if any(start <= e and s <= end for s, e, _ in mine):
            return None
    out: list[bytes] = []
    at = 0
    for start, end, new in sorted(mine + other, key=lambda edit: (edit[0], edit[1])):
        out += lines[at:start]
        out += new
        at = end
    out += lines[at:]
    return b"".join(out)


# --------------------------------------------------------------------------- writing


@contextmanager
def _signals_deferred():
    """Ctrl-C and SIGTERM (which unwinds like it) wait until the block is done: an
    interrupt that came between creating a temp file and the ``try`` that removes
    it would leave the file behind. Where signals cannot be blocked, nothing waits."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _atomic_write(path: Path, data: bytes, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _signals_deferred():
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".hardener-tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode if mode is not None else 0o644)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _ensure_state_dir(root: Path) -> Path:
    state = root / ".hardener"
    state.mkdir(exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by hardener: keep its journal and cache out of git\n*\n")
    return state


def commit(ws: Workspace) -> tuple[list[str], list[str], str | None]:
    """Write the workspace's changed files. Returns (changed, created, journal id).

    Every file is checked against the bytes the fixes were computed from; if
    any changed on disk since, nothing at all is written.
    """
    root = ws.root
    changes = ws.changed
    if not changes:
        return [], [], None
    root_real = os.path.realpath(root)
    for rel in changes:
        target = root / rel
        real = os.path.realpath(target)
        if not (real == root_real or real.startswith(root_real + os.sep)):
            raise ApplyError(f"{rel}: resolves outside the project root; not written")
        if target.is_symlink():
            raise ApplyError(f"{rel}: is a symbolic link; not written")
        try:
            current = target.read_bytes()
        except FileNotFoundError:
            current = None
        if current != ws.original(rel):
            raise StaleFileError(f"{rel} changed on disk since it was scanned; nothing was written, run hardener again")
        if current is not None and is_read_only(target):
            raise ApplyError(f"{rel}: file is read-only; nothing was written")
    # journal first, so an interrupted run can always be undone
    run_id = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    journal = _ensure_state_dir(root) / "journal" / run_id
    (journal / "originals").mkdir(parents=True)
    entries = []
    for i, (rel, new) in enumerate(sorted(changes.items())):
        original = ws.original(rel)
        mode = None
        if original is not None:
            mode = stat.S_IMODE((root / rel).stat().st_mode)
            (journal / "originals" / str(i)).write_bytes(original)
        entries.append({"path": rel, "existed": original is not None, "mode": mode,
                        "backup": str(i) if original is not None else None,
                        "old_sha256": _sha(original), "new_sha256": _sha(new)})
    manifest = journal / "manifest.json"
    manifest.write_text(json.dumps({"version": 1, "files": entries}, indent=2))
    written, created = [], []
    for entry in entries:
        rel = entry["path"]
        mode = entry["mode"] if entry["existed"] else ws.modes.get(rel, 0o644)
        _atomic_write(root / rel, changes[rel], mode)
        (written if entry["existed"] else created).append(rel)
    return written, created, run_id


def undo(root: Path) -> list[str]:
    """Restore the files of the most recent journal. Returns messages, one per file."""
    base = Path(root) / JOURNAL_DIR
    runs = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.endswith(".undone")) if base.is_dir() else []
    if not runs:
        raise ApplyError("nothing to undo: no journal under .hardener/journal")
    journal = runs[-1]
    entries = json.loads((journal / "manifest.json").read_text())["files"]
    problems = []
    for entry in entries:
        target = Path(root) / entry["path"]
        current = target.read_bytes() if target.exists() else None
        if _sha(current) != entry["new_sha256"]:
            problems.append(f"{entry['path']} changed after hardener wrote it")
    if problems:
        raise ApplyError("refusing to undo: " + "; ".join(problems))
    messages = []
    for entry in entries:
        target = Path(root) / entry["path"]
        if entry["existed"]:
            _atomic_write(target, (journal / "originals" / entry["backup"]).read_bytes(), entry["mode"])
            messages.append(f"restored {entry['path']}")
        else:
            target.unlink()
            messages.append(f"removed {entry['path']} (created by hardener)")
    journal.rename(journal.with_name(journal.name + ".undone"))
    return messages


def dirty_files(root: Path, paths: list[str]) -> list[str]:
    """Those of ``paths`` with uncommitted changes in a git work tree ([] outside git)."""
    import subprocess

    if not paths:
        return []
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "-z", "--", *paths],
            cwd=root, capture_output=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if out.returncode != 0:
        return []
    # porcelain paths are relative to the repository top, so map them back
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True)
    prefix = os.path.relpath(Path(root).resolve(), Path(top.stdout.strip()).resolve()) if top.returncode == 0 else "."
    dirty = []
    for entry in out.stdout.decode("utf-8", "replace").split("\0"):
        if len(entry) < 4 or entry[:2] == "??":
            continue
        rel = entry[3:]
        if prefix != ".":
            rel = os.path.relpath(rel, prefix)
        dirty.append(rel.replace(os.sep, "/"))
    return sorted(set(dirty) & set(paths))
