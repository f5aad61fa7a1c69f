"""The review state behind the app, free of any user interface.

A ``ReviewSession`` holds the findings of one scan as ``Entry`` objects with a
decision each (pending, accepted, skipped), and an in-memory ``Workspace`` into
which every accepted fix is staged. After each accept the project is scanned
again on that workspace, so the fixes still pending are recomputed on the code
as it will be (no stale diff is ever shown). Every decision can be undone: an
accept keeps the workspace and entries from before it.

Nothing here writes a file except ``commit``, which goes through the same
``apply_fixes`` + ``commit`` path as ``--apply-all``.

All methods run on one thread (the app's engine worker); the app only reads
the copies that ``view()`` returns.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from hardener.apply import (
    ApplyError, ApplyReport, StaleFileError, apply_fixes, commit, dirty_files, finding_key, stage,
)
from hardener.fixkit import StaleFixError
from hardener.models import Finding, FixError, Safety
from hardener.scanner import ScanResult, Scanner
from hardener.tui.state import Entry, Status, computed
from hardener.workspace import Workspace


def copy_workspace(ws: Workspace) -> Workspace:
    return Workspace(ws.root, dict(ws._cache), dict(ws._original), dict(ws.pending), dict(ws.modes))


@dataclass
class _Undo:
    label: str
    ids: list[int]
    entries: list[Entry]
    ws: Workspace
    errors: list[tuple[str, str]]


@dataclass
class WritePlan:
    """What ``w`` would write: composed by ``apply_fixes`` from the accepted keys."""

    report: ApplyReport
    ws: Workspace
    result: ScanResult
    changed: list[str]
    created: list[str]
    dirty: list[str]  # files to change that have uncommitted git changes
    differs: list[str]  # files whose result is not what the review previewed
    not_applied: list[tuple[Finding, str]]  # accepted but apply_fixes could not apply them


class ReviewSession:
    def __init__(self, root: Path, config=None):
        self.root = Path(root)
        self.config = config
        self.ws = Workspace(self.root)
        self.entries: list[Entry] = []
        self.errors: list[tuple[str, str]] = []
        self.files_scanned = 0
        self.complete = True  # the scan was not cancelled
        self.undo_stack: list[_Undo] = []
        self.undo_ids: list[int] = []  # the entries the last undo gave back
        self._ids = 0

    # ------------------------------------------------------------------ scanning

    def scanner(self) -> Scanner:
        return Scanner(self.root, self.config, self.ws)

    def load(self, result: ScanResult) -> None:
        """Take the result of the first scan (made with ``scanner()``)."""
        self.entries = []
        self.undo_stack = []
        self.complete = not result.cancelled
        self.files_scanned = result.files_scanned
        self.errors = list(result.errors)
        for finding in result.findings:
            self.entries.append(self._new_entry(finding))

    def _new_entry(self, finding: Finding, *, new: bool = False) -> Entry:
        self._ids += 1
        return Entry(
            id=self._ids, finding=finding, status=Status.PENDING if finding.fix is not None else Status.MANUAL,
            keys={finding_key(finding)}, source=self.ws.read(finding.path), new=new,
        )

    def _rescan(self) -> None:
        result = Scanner(self.root, self.config, self.ws).run()
        self.errors = list(result.errors)
        by_key: dict[tuple, Finding] = {finding_key(f): f for f in result.findings}
        matched: set[tuple] = set()
        for entry in self.entries:
            hit = next((k for k in entry.keys if k in by_key and k not in matched), None)
            if entry.status is Status.ACCEPTED:
                if hit is not None:
                    matched.add(hit)  # the fix did not make it go away: stays decided
                continue
            if hit is None:
                entry.status = Status.RESOLVED
                continue
            matched.add(hit)
            entry.finding = by_key[hit]
            entry.source = self.ws.read(entry.finding.path)
            entry.problem = ""
            if entry.status is Status.RESOLVED:
                entry.status = Status.PENDING if entry.has_fix else Status.MANUAL
            elif entry.status is Status.MANUAL and entry.has_fix:
                entry.status = Status.PENDING  # another fix made it fixable
            elif entry.status is Status.PENDING and not entry.has_fix:
                entry.status = Status.MANUAL
        if self.complete:
            for key, finding in by_key.items():
                if key not in matched:
                    self.entries.append(self._new_entry(finding, new=True))
            self.entries.sort(key=lambda e: (e.finding.path, e.finding.line, e.finding.column, e.finding.code, e.id))

    # ------------------------------------------------------------------ fixes

    def compute(self, entry: Entry, alternative: bool | None = None) -> None:
        fix = entry.fix(alternative)
        if fix is None or computed(fix) is not None:
            return
        try:
            fix.changeset()
        except FixError:
            pass  # kept in fix._error
        except Exception as exc:  # a rule bug: shown, never a crash
            fix._error = f"internal error in {entry.finding.code}: {exc.__class__.__name__}: {exc}"

    def get(self, entry_id: int) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    # ------------------------------------------------------------------ decisions

    def _snapshot(self, label: str, ids: list[int]) -> None:
        entries = [copy.copy(e) for e in self.entries]
        for e in entries:
            e.keys = set(e.keys)
        self.undo_stack.append(_Undo(label, list(ids), entries, self.ws, list(self.errors)))

    def skip(self, ids: list[int], label: str = "skip") -> int:
        targets = [e for e in (self.get(i) for i in ids) if e is not None and e.status is Status.PENDING]
        if not targets:
            return 0
        self._snapshot(label, [e.id for e in targets])
        for e in targets:
            e.status = Status.SKIPPED
        return len(targets)

    def accept(self, ids: list[int], alternatives: set[int] = frozenset(), label: str = "accept",
               progress=None) -> tuple[int, list[tuple[Entry, str]]]:
        """Stage the fixes of these entries (in order), rescanning between
        fixes that touch the same files. Returns (accepted count, failures)."""
        todo = [e for e in (self.get(i) for i in ids)
                if e is not None and e.status in (Status.PENDING, Status.SKIPPED) and e.has_fix]
        if not todo:
            return 0, []
        self._snapshot(label, [e.id for e in todo])
        for e in todo:
            e.alternative = e.id in alternatives and e.finding.fix.alternative is not None
        failures: list[tuple[Entry, str]] = []
        count = 0
        total = len(todo)
        while todo:
            ws = copy_workspace(self.ws)
            touched: set[str] = set()
            later: list[Entry] = []
            progressed = False
            for e in todo:
                if e.finding.path in touched:
                    later.append(e)
                    continue
                fix = e.fix()
                try:
                    cs = fix.changeset()
                except StaleFixError:
                    later.append(e)
                    continue
                except FixError as exc:
                    e.problem = str(exc)
                    failures.append((e, str(exc)))
                    continue
                except Exception as exc:
                    e.problem = f"internal error in {e.finding.code}: {exc.__class__.__name__}: {exc}"
                    failures.append((e, e.problem))
                    continue
                if touched & set(cs.paths):
                    later.append(e)
                    continue
                try:
                    stage(ws, cs)
                except (FixError, StaleFileError) as exc:
                    e.problem = f"cannot be applied with the fixes accepted so far: {exc}"
                    failures.append((e, e.problem))
                    continue
                touched |= set(cs.paths)
                e.status, e.accepted, e.problem = Status.ACCEPTED, cs, ""
                count += 1
                progressed = True
                if progress:
                    progress(count, total)
            if not progressed:
                for e in later:
                    e.problem = "cannot be applied together with the fixes accepted so far"
                    failures.append((e, e.problem))
                break
            self.ws = ws
            self._rescan()
            todo = [e for e in later if e.status in (Status.PENDING, Status.SKIPPED) and e.has_fix]
        if count == 0:
            self.undo()  # nothing changed: do not leave an empty step to undo
        return count, failures

    def undo(self) -> str | None:
        if not self.undo_stack:
            return None
        step = self.undo_stack.pop()
        self.undo_ids = step.ids
        self.entries, self.ws, self.errors = step.entries, step.ws, step.errors
        return step.label

    @property
    def accepted(self) -> list[Entry]:
        return [e for e in self.entries if e.status is Status.ACCEPTED]

    def reload(self) -> list[tuple[Entry, str]]:
        """The files changed on disk (an editor): scan them again from disk and
        stage the accepted fixes again. Undo history starts over."""
        accepted = [(e.id, e.alternative) for e in self.accepted]
        for e in self.entries:
            if e.status is Status.ACCEPTED:
                e.status, e.accepted = Status.PENDING, None
        self.ws = Workspace(self.root)
        self._rescan()
        self.undo_stack = []
        _, failures = self.accept([i for i, _ in accepted], {i for i, alt in accepted if alt}, label="reload")
        self.undo_stack = []
        return failures

    # ------------------------------------------------------------------ writing

    def plan_write(self) -> WritePlan:
        """Compose the accepted fixes with ``apply_fixes`` (the --apply-all path)."""
        chosen: dict[tuple, bool] = {}
        for e in self.accepted:
            for key in e.keys:
                chosen[key] = e.alternative

        def accept(finding: Finding):
            key = finding_key(finding)
            if key not in chosen:
                return False
            if chosen[key] and finding.fix.alternative is not None:
                return finding.fix.alternative
            return True

        report, ws, result = apply_fixes(self.root, self.config, unsafe=True, accept=accept)
        changed = sorted(ws.changed)
        created = [p for p in changed if ws.original(p) is None]
        preview = self.ws.changed
        differs = sorted(p for p in set(changed) | set(preview) if ws.changed.get(p) != preview.get(p))
        applied = {finding_key(a.finding) for a in report.applied}
        not_applied = [(f, reason) for f, reason in report.failed]
        for e in self.accepted:
            if not (e.keys & applied) and not any(finding_key(f) in e.keys for f, _ in not_applied):
                not_applied.append((e.finding, "not found again when the fixes were composed"))
        return WritePlan(report, ws, result, [p for p in changed if p not in created], created,
                         dirty_files(self.root, changed), differs, not_applied)

    @staticmethod
    def commit(plan: WritePlan) -> ApplyReport:
        """Write the plan (raises ApplyError / StaleFileError: then nothing is written)."""
        written, created, journal = commit(plan.ws)
        plan.report.written, plan.report.created, plan.report.journal = written, created, journal
        return plan.report


def safe_pending(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.status is Status.PENDING and e.has_fix and e.fix().safety is Safety.SAFE]


__all__ = ["ApplyError", "Entry", "ReviewSession", "Status", "WritePlan", "computed", "safe_pending"]
