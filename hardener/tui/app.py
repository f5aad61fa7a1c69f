"""The Textual review app: scan, review each fix as a diff, accept or skip, write.

A thin client of the engine. One worker thread (the "engine") owns the
``ReviewSession``: it scans, computes fixes, stages accepted ones and rescans,
and hands copies of the entries to the user interface with
``call_from_thread``. The interface never waits for it: keys queue commands.
Writing goes through ``apply_fixes`` + ``commit`` like ``--apply-all``.
"""

from __future__ import annotations

import copy
import os
import queue
import shlex
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from hardener.models import Finding, Safety
from hardener.tui.render import Palette, diff_view, excerpt, explanation, what_else
from hardener.tui.screens import ConfirmScreen, HelpScreen, SummaryScreen
from hardener.tui.state import Entry, Status, computed

if TYPE_CHECKING:
    from hardener.tui.session import ReviewSession, WritePlan

MARKS = {
    Status.PENDING: "·", Status.ACCEPTED: "✓", Status.SKIPPED: "✗", Status.MANUAL: "✎", Status.RESOLVED: "≈",
}
GROUPS = ("file", "severity", "category")


@dataclass
class View:
    """What the engine hands to the interface after each step."""

    entries: list[Entry]
    errors: list[tuple[str, str]]
    can_undo: bool
    seq: int  # the last command done
    secrets: tuple[str, ...] = ()
    files_scanned: int = 0
    complete: bool = True


@dataclass
class Command:
    name: str
    seq: int
    args: dict = field(default_factory=dict)


class HardenerApp(App[int]):
    """``hardener`` on a terminal."""

    CSS_PATH = "app.tcss"
    TITLE = "hardener"
    ENABLE_COMMAND_PALETTE = False
    # how often the scan updates the screen (seconds); 0: after every file
    update_interval = 0.1
    # how many findings from the cursor on get their fix computed ahead of time
    lookahead = 4

    BINDINGS = [
        Binding("y", "accept", "accept"),
        Binding("n", "skip", "skip"),
        Binding("a", "accept_file", "file✓"),
        Binding("d", "skip_file", "file✗"),
        Binding("A", "accept_safe", "safe"),
        Binding("j,down", "move(1)", "next", show=False),
        Binding("k,up", "move(-1)", "prev", show=False),
        Binding("u", "undo", "undo"),
        Binding("o", "other_fix", "other"),
        Binding("s", "toggle_diff", "diff"),
        Binding("e", "edit", "edit"),
        Binding("g", "group", "group", show=False),
        Binding("slash", "filter", "filter", show=False),
        Binding("w", "write", "write"),
        Binding("escape", "escape", "stop scan"),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit_app", "quit"),
        Binding("pagedown,space", "scroll_detail(1)", "scroll", show=False),
        Binding("pageup", "scroll_detail(-1)", "scroll up", show=False),
    ]

    def __init__(self, root: Path, config=None, args=None, *, theme: str | None = None):
        super().__init__()
        self.root = Path(root).resolve()
        self.config = config
        self.args = args
        if theme:
            self.theme = theme
        self._session: ReviewSession | None = None
        self.commands: queue.Queue[Command | None] = queue.Queue()
        self.phase = "scanning"  # scanning -> review -> written
        self.entries: list[Entry] = []  # the engine's latest copies
        self.provisional: list[Finding] = []  # streamed during the scan
        self.errors: list[tuple[str, str]] = []
        self.secrets: tuple[str, ...] = ()
        self.can_undo = False
        self.complete = True
        self.files_scanned = 0
        self.scan_total = 0
        self.scan_done = 0
        self.scan_path = ""
        self.cursor: int | None = None  # entry id (or -index-1 for a provisional finding)
        self.group = "file"
        self.filter = ""
        self.editing_filter = False
        self.side_by_side = False
        self.alternatives: set[int] = set()  # entries whose other fix is shown
        self.seq = 0  # commands sent
        self.done_seq = 0  # commands the engine finished
        self.overlay: dict[int, tuple[Status, int]] = {}  # decisions not yet confirmed by the engine
        self.stale_paths: dict[str, int] = {}  # files whose fixes are being recomputed
        self.busy = ""
        self.report = None
        self.result = None
        self.written = False
        self.initial_findings: list[Finding] = []
        self.initial_errors: list[tuple[str, str]] = []
        self.session_scanned: list[str] = []  # the files the first scan read
        self.compute_order: list[int] = []
        self._scanner = None
        self._stop = threading.Event()
        self._last_progress = 0.0
        self._order: list[int] = []  # visible entry ids in list order
        self._shown: dict[str, object] = {}  # what each part of the detail pane shows
        self.timings: dict[str, float] = {"start": time.perf_counter()}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(id="topbar")
        with Horizontal(id="scanbar"):
            yield ProgressBar(total=1, show_eta=False, id="progress")  # no pulsing animation: it would compete with the scan
            yield Static("starting…", id="scanlabel")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Input(placeholder="filter: text, sev:high, cat:csrf", id="filter")
                yield OptionList(id="list")
                yield Static(id="errors")
            with VerticalScroll(id="detail"):
                yield Static(id="d-head")
                yield Static(id="d-fix")
                yield Static(id="d-diff")
                yield Static(id="d-more")
                yield Static(id="d-excerpt")
                yield Static(id="d-doc")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one("#errors").display = False
        self.query_one("#list", OptionList).focus()
        self.update_all()
        self.call_after_refresh(self._first_paint)
        self.engine()

    def _first_paint(self) -> None:
        self.timings.setdefault("first_paint", time.perf_counter())

    def on_unmount(self) -> None:
        self._stop.set()
        if self._scanner is not None:
            self._scanner.cancel.set()
        self.commands.put(None)

    @property
    def session(self) -> ReviewSession:
        """Created on first use, by the engine thread: importing the engine
        (libcst, the rules) there lets the first screen paint at once."""
        if self._session is None:
            from hardener.tui.session import ReviewSession

            self._session = ReviewSession(self.root, self.config)
        return self._session

    @property
    def palette(self) -> Palette:
        theme = self.current_theme
        if getattr(self, "_palette_for", None) != theme.name:
            self._palette_for, self._palette = theme.name, Palette(theme.dark, self.theme_variables)
            self._render_cache = {}
        return self._palette

    def cached(self, key, make):
        """Rendered excerpts, diffs and docs, reused while the theme stays (highlighting is the slow part)."""
        self.palette  # drops the cache when the theme changed
        cache = self._render_cache
        if key not in cache:
            if len(cache) > 400:
                cache.clear()
            cache[key] = make()
        return cache[key]

    # ------------------------------------------------------------------ engine

    def send(self, name: str, **args) -> int:
        self.seq += 1
        self.commands.put(Command(name, self.seq, args))
        return self.seq

    @work(thread=True, group="engine", exit_on_error=True)
    def engine(self) -> None:
        """The only thread that touches the session."""
        session = self.session
        self.timings["engine_imported"] = time.perf_counter()
        worker = get_current_worker()
        scanner = self._scanner = session.scanner()
        self.timings["rules_loaded"] = time.perf_counter()

        found: list[Finding] = []
        last = {"progress": 0.0, "found": 0.0}

        def flush() -> None:
            batch = found[:]
            found.clear()
            last["found"] = time.perf_counter()
            self.call_from_thread(self._scan_found, batch)

        def on_finding(finding: Finding) -> None:
            found.append(finding)
            # the first finding at once, then at most ten updates a second
            if last["found"] == 0.0 or time.perf_counter() - last["found"] >= self.update_interval:
                flush()

        def progress(done: int, total: int, path: str) -> None:
            now = time.perf_counter()
            if found and now - last["found"] >= self.update_interval:
                flush()
            if path and done and now - last["progress"] < self.update_interval / 2:
                return
            last["progress"] = now
            self.call_from_thread(self._scan_progress, done, total, path)

        result = scanner.run(on_progress=progress, on_finding=on_finding)
        self._scanner = None
        session.load(result)
        scanned = sorted(result.project.python) + sorted(result.project.templates)
        self.call_from_thread(self._scan_done, list(result.findings), list(result.errors), result.cancelled, scanned)
        self.call_from_thread(self._take_view, self._view(session, 0))
        while not (worker.is_cancelled or self._stop.is_set()):
            try:
                command = self.commands.get(timeout=0.05)
            except queue.Empty:
                self._precompute(session)
                continue
            if command is None:
                break
            try:
                message = self._run_command(session, command)
            except Exception as exc:  # shown, never a crash of the review
                message = ("error", f"{command.name} failed: {exc.__class__.__name__}: {exc}")
            if self._stop.is_set():
                break
            self.call_from_thread(self._take_view, self._view(session, command.seq), message, command)

    def _view(self, session: ReviewSession, seq: int) -> View:
        entries = [copy.copy(e) for e in session.entries]
        secrets: list[str] = []
        for e in session.entries:
            secrets += [s for s in e.finding.secret_values if s and s not in secrets]
            if e.accepted is not None:
                for c in e.accepted.changes:
                    secrets += [s for s in c.secret_values if s and s not in secrets]
        return View(entries, list(session.errors), bool(session.undo_stack), seq, tuple(secrets),
                     session.files_scanned, session.complete)

    def _precompute(self, session: ReviewSession) -> None:
        """Idle time: compute the fixes of the finding under the cursor and of the
        next few (a rescan after each accept makes computing them all wasted work)."""
        for entry_id in list(self.compute_order)[:self.lookahead]:
            entry = session.get(entry_id)
            if entry is None or entry.status not in (Status.PENDING, Status.SKIPPED):
                continue
            for alt in (entry.id in self.alternatives, False):
                fix = entry.fix(alt)
                if fix is not None and computed(fix) is None:
                    session.compute(entry, alt)
                    if not self._stop.is_set():
                        self.call_from_thread(self._fix_ready, entry.id)
                    return

    def _run_command(self, session: ReviewSession, command: Command):
        args = command.args
        if command.name == "accept":
            def progress(done: int, total: int) -> None:
                if total > 1:
                    self.call_from_thread(self._set_busy, f"accepting {done}/{total}…")

            count, failures = session.accept(args["ids"], args.get("alternatives", set()), args.get("label", "accept"),
                                             progress=progress)
            if failures:
                entry, reason = failures[0]
                more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
                return ("warning", f"{entry.finding.code} {entry.finding.path}:{entry.finding.line}: not accepted: {reason}{more}")
            if count > 1:
                return ("information", f"accepted {count} fixes")
            return None
        if command.name == "skip":
            session.skip(args["ids"], args.get("label", "skip"))
            return None
        if command.name == "undo":
            label = session.undo()
            if session.undo_ids:
                command.args["cursor"] = session.undo_ids[0]
            return ("information", f"undone: {label}") if label else ("warning", "nothing to undo")
        if command.name == "reload":
            failures = session.reload()
            if failures:
                return ("warning", f"{len(failures)} accepted fix{'es' if len(failures) != 1 else ''} no longer apply"
                        " after the edit; they are pending again")
            return ("information", "the file changed: fixes recomputed")
        if command.name == "plan":
            plan = session.plan_write()
            self.call_from_thread(self._confirm_write, plan)
            return None
        if command.name == "commit":
            from hardener.apply import ApplyError

            try:
                report = session.commit(args["plan"])
            except ApplyError as exc:
                return ("error", f"nothing was written: {exc}")
            self.call_from_thread(self._written, report, args["plan"])
            return None
        raise ValueError(command.name)

    # ------------------------------------------------------------------ engine -> interface

    def _scan_progress(self, done: int, total: int, path: str) -> None:
        self.scan_done, self.scan_total, self.scan_path = done, total, path
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(total, 1), progress=done)
        label = f"{min(done + 1, total)}/{total} {path}" if path else f"{done}/{total} files"
        self.query_one("#scanlabel", Static).update(Text(label, no_wrap=True, overflow="ellipsis"))

    def _scan_found(self, findings: list[Finding]) -> None:
        self.timings.setdefault("first_finding", time.perf_counter())
        self.provisional.extend(findings)
        self.update_list()
        self.update_topbar()

    def _scan_done(self, findings: list[Finding], errors, cancelled: bool, scanned: list[str]) -> None:
        self.timings["scan_done"] = time.perf_counter()
        self.initial_findings, self.initial_errors = findings, errors
        self.session_scanned = scanned
        self.phase = "review"
        self.query_one("#scanbar").display = False
        current = self.current_finding()
        self.provisional = []
        self._pending_cursor = (current.code, current.path, current.line, current.column) if current else None
        if cancelled:
            self.notify(f"scan cancelled: {len(findings)} finding{'s' if len(findings) != 1 else ''} kept", timeout=4)

    def _take_view(self, view: View, message=None, command: Command | None = None) -> None:
        self.entries, self.errors, self.can_undo = view.entries, view.errors, view.can_undo
        self.secrets, self.files_scanned, self.complete = view.secrets, view.files_scanned, view.complete
        self.done_seq = max(self.done_seq, view.seq)
        self.overlay = {k: v for k, v in self.overlay.items() if v[1] > self.done_seq}
        self.stale_paths = {k: v for k, v in self.stale_paths.items() if v > self.done_seq}
        if self.done_seq >= self.seq:
            self.busy = ""
        pending_cursor = getattr(self, "_pending_cursor", None)
        if pending_cursor is not None:
            self._pending_cursor = None
            hit = next((e for e in self.entries
                        if (e.finding.code, e.finding.path, e.finding.line, e.finding.column) == pending_cursor), None)
            self.cursor = hit.id if hit else None
        if self.cursor is None or all(e.id != self.cursor for e in self.entries):
            self.cursor = self.entries[0].id if self.entries else None
        if command is not None and command.args.get("cursor") is not None:
            self.cursor = command.args["cursor"]
        if message:
            severity, text = message
            self.notify(text, severity=severity, timeout=5 if severity != "error" else 10)
        self.update_all()

    def _fix_ready(self, entry_id: int) -> None:
        if entry_id == self.cursor:
            self.update_detail()
            self.refresh_bindings()
        entry = next((e for e in self.entries if e.id == entry_id), None)
        state = self.fix_state(entry) if entry is not None else None
        if state is not None and state[1] is not None and entry_id in self._order:  # the mark becomes "!"
            label = self.entry_label(entry, self.palette)
            label.truncate(self.list_width(), overflow="ellipsis")
            self.query_one("#list", OptionList).replace_option_prompt(f"e{entry_id}", label)

    def _set_busy(self, text: str) -> None:
        self.busy = text
        self.update_topbar()

    # ------------------------------------------------------------------ state helpers

    def status_of(self, entry: Entry) -> Status:
        over = self.overlay.get(entry.id)
        return over[0] if over else entry.status

    def visible(self) -> list[Entry]:
        tokens = self.filter.lower().split()
        out = []
        for e in self.entries:
            f = e.finding
            hay = f"{f.code} {f.name} {f.category} {f.severity} {f.path} {f.message} {self.status_of(e)}".lower()
            ok = True
            for token in tokens:
                if token.startswith(("sev:", "severity:")):
                    ok = str(f.severity).startswith(token.split(":", 1)[1])
                elif token.startswith(("cat:", "category:")):
                    ok = f.category.startswith(token.split(":", 1)[1])
                else:
                    ok = token in hay
                if not ok:
                    break
            if ok:
                out.append(e)
        return self.grouped(out)

    def group_of(self, finding: Finding) -> str:
        if self.group == "severity":
            return str(finding.severity)
        if self.group == "category":
            return finding.category
        return finding.path

    def grouped(self, entries: list[Entry]) -> list[Entry]:
        if self.group == "severity":
            return sorted(entries, key=lambda e: (-int(e.finding.severity), e.finding.sort_key()))
        if self.group == "category":
            return sorted(entries, key=lambda e: (e.finding.category, e.finding.sort_key()))
        return entries

    def current(self) -> Entry | None:
        """The entry under the cursor (None when the filter hides it: keys never act on what is not shown)."""
        if self.cursor not in self._order:
            return None
        return next((e for e in self.entries if e.id == self.cursor), None)

    def current_finding(self) -> Finding | None:
        if self.phase == "scanning":
            if self.cursor is not None and self.cursor < 0 and -self.cursor - 1 < len(self.provisional):
                return self.provisional[-self.cursor - 1]
            return None
        entry = self.current()
        return entry.finding if entry else None

    def fix_state(self, entry: Entry):
        """(change set, error) of the fix shown for the entry, or None while it is computed."""
        if entry.status is Status.ACCEPTED and entry.accepted is not None:
            return entry.accepted, None
        if entry.finding.path in self.stale_paths:
            return None
        fix = entry.fix(entry.id in self.alternatives)
        return computed(fix)

    # ------------------------------------------------------------------ rendering

    def update_all(self) -> None:
        self.update_list()
        self.update_topbar()
        self.update_detail()
        self.update_errors()
        self.refresh_bindings()

    def update_topbar(self) -> None:
        palette = self.palette
        bar = Text(no_wrap=True, overflow="ellipsis")
        bar.append(" hardener ", style="bold reverse")
        bar.append(f" {self.root.name} ")
        if self.phase == "scanning":
            bar.append(f" scanning… {len(self.provisional)} found", style=palette.muted)
        else:
            order = self._order
            if self.cursor in order:
                bar.append(f" ({order.index(self.cursor) + 1}/{len(order)}) ", style="bold")
            elif order:
                bar.append(f" (-/{len(order)}) ", style="bold")
            counts = Counter(self.status_of(e) for e in self.entries)
            bar.append(f" {MARKS[Status.ACCEPTED]}{counts[Status.ACCEPTED]}", style=palette.success)
            bar.append(f" {MARKS[Status.SKIPPED]}{counts[Status.SKIPPED]}")
            bar.append(f" {MARKS[Status.PENDING]}{counts[Status.PENDING]}")
            if counts[Status.MANUAL]:
                bar.append(f" {MARKS[Status.MANUAL]}{counts[Status.MANUAL]}")
            bar.append(f"  by {self.group}", style=palette.muted)
            if self.filter:
                # "filtering" while the box has the keys, "filter" once Enter gave them back to the list
                bar.append(f"  {'filtering' if self.editing_filter else 'filter'}: {self.filter}", style=palette.warning)
            if self.side_by_side:
                bar.append("  side-by-side", style=palette.muted)
        if self.busy or self.seq > self.done_seq:
            bar.append(f"  {self.busy or 'recomputing fixes…'}", style=f"italic {palette.warning}")
        self.query_one("#topbar", Static).update(bar)

    def entry_label(self, entry: Entry, palette: Palette) -> Text:
        f = entry.finding
        status = self.status_of(entry)
        mark = MARKS[status]
        state = self.fix_state(entry) if status in (Status.PENDING, Status.SKIPPED) else None
        if state is not None and state[1] is not None:
            mark = "!"
        mark_style = {
            Status.ACCEPTED: f"bold {palette.success}", Status.SKIPPED: palette.muted,
            Status.RESOLVED: palette.muted, Status.MANUAL: palette.warning,
        }.get(status, "bold")
        if mark == "!":
            mark_style = f"bold {palette.error}"
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(mark, style=mark_style)
        text.append(" ")
        text.append_text(palette.badge(str(f.severity)))
        text.append(f" {f.code} ")
        where = f"{f.line}" if self.group == "file" else f"{f.path}:{f.line}"
        text.append(where, style=palette.muted)
        text.append(f" {f.name}", style=palette.muted if status in (Status.SKIPPED, Status.RESOLVED) else "")
        return text

    def update_list(self) -> None:
        palette = self.palette
        options: list[Option] = []
        order: list[int] = []
        if self.phase == "scanning":
            groups: dict[str, list[int]] = {}
            for i, f in enumerate(self.provisional):
                groups.setdefault(self.group_of(f), []).append(i)
            for name, items in groups.items():
                options.append(Option(Text(f"{name} ({len(items)})", style="bold", no_wrap=True, overflow="ellipsis"),
                                      disabled=True))
                for i in items:
                    f = self.provisional[i]
                    label = Text(no_wrap=True, overflow="ellipsis")
                    label.append("· ")
                    label.append_text(palette.badge(str(f.severity)))
                    label.append(f" {f.code} ")
                    label.append(str(f.line) if self.group == "file" else f"{f.path}:{f.line}", style=palette.muted)
                    label.append(f" {f.name}", style=palette.muted)
                    options.append(Option(label, id=f"p{i}"))
                    order.append(-i - 1)
        else:
            groups_e: dict[str, list[Entry]] = {}
            for e in self.visible():
                groups_e.setdefault(self.group_of(e.finding), []).append(e)
            for name, items in groups_e.items():
                counts = Counter(self.status_of(e) for e in items)
                head = Text(no_wrap=True, overflow="ellipsis")
                head.append(f"{name}", style="bold")
                head.append(f" {len(items)}", style=palette.muted)
                done = counts[Status.ACCEPTED] + counts[Status.SKIPPED]
                if done:
                    head.append(f" ({done} decided)", style=palette.muted)
                options.append(Option(head, disabled=True))
                for e in items:
                    options.append(Option(self.entry_label(e, palette), id=f"e{e.id}"))
                    order.append(e.id)
        self._order = order
        width = self.list_width()
        for option in options:
            option.prompt.truncate(width, overflow="ellipsis")
        if self.cursor not in order and order:
            self.cursor = order[0]  # the finding shown was filtered out (or the first one arrived)
            self.refresh_bindings()  # the footer shows what the keys can do on it now (e edit, ...)
        widget = self.query_one("#list", OptionList)
        self._syncing = True
        try:
            widget.set_options(options)
            if self.cursor in order:
                option_id = f"p{-self.cursor - 1}" if self.cursor < 0 else f"e{self.cursor}"
                widget.highlighted = widget.get_option_index(option_id)
        finally:
            self._syncing = False
        # the engine computes the fixes near the cursor first
        if self.cursor in order:
            i = order.index(self.cursor)
            self.compute_order = order[i:] + order[:i]
        else:
            self.compute_order = order

    def list_width(self) -> int:
        widget = self.query_one("#list", OptionList)
        width = widget.scrollable_content_region.width
        return max(10, (width or 40) - 1)

    def on_resize(self, event) -> None:
        self.call_after_refresh(self.update_list)

    @on(OptionList.OptionHighlighted, "#list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if getattr(self, "_syncing", False) or event.option_id is None:
            return
        new = -int(event.option_id[1:]) - 1 if event.option_id.startswith("p") else int(event.option_id[1:])
        if new != self.cursor:
            self.cursor = new
            if self.cursor in self._order:
                i = self._order.index(self.cursor)
                self.compute_order = self._order[i:] + self._order[:i]
            self.update_detail()
            self.update_topbar()
            self.refresh_bindings()

    def update_errors(self) -> None:
        widget = self.query_one("#errors", Static)
        shown = [(p, m) for p, m in self.errors if self.entries or not m.startswith("no Flask app found")]
        widget.display = bool(shown)
        if shown:
            widget.border_title = f"errors ({len(shown)})"
            text = Text()
            for path, message in shown:
                text.append(f"{path}", style="bold")
                text.append(f": {self.display_path(message)}\n")
            text.rstrip()
            widget.update(text)

    def display_path(self, text: str) -> str:
        """Never show the absolute root (it makes snapshots and screenshots depend on where it is)."""
        return text.replace(str(self.root), self.root.name)

    def update_detail(self) -> None:
        head = self.query_one("#d-head", Static)
        parts = {name: self.query_one(f"#d-{name}", Static) for name in ("excerpt", "fix", "diff", "more", "doc")}
        finding = self.current_finding()
        palette = self.palette
        if finding is None:
            for widget in parts.values():
                self._show(widget, "")
            self._show(head, self.empty_state(palette))
            return
        from hardener.docs import cwe_url
        from hardener.rules import get_rule

        entry = self.current() if self.phase != "scanning" else None
        if self.cursor != getattr(self, "_detail_cursor", None):
            self._detail_cursor = self.cursor
            self.query_one("#detail", VerticalScroll).scroll_home(animate=False)
        status = self.status_of(entry) if entry else Status.PENDING
        title = Text()
        title.append(f"{finding.code} {finding.name}", style="bold")
        title.append("\n")
        title.append(f"{finding.severity}", style=palette.severity(str(finding.severity)))
        title.append(f" · confidence {finding.confidence} · {finding.category}", style=palette.muted)
        if finding.cwe:
            title.append(" · ", style=palette.muted)
            title.append(f"CWE-{finding.cwe}", style=f"underline link {cwe_url(finding.cwe)}")
        title.append(f"\n{finding.path}:{finding.line}:{finding.column}", style=palette.accent)
        title.append(f"  {MARKS[status]} {status}", style=palette.muted)
        if entry is not None and entry.new:
            title.append("  (appeared after an accepted fix)", style=palette.muted)
        from hardener.models import mask_secrets

        title.append("\n")
        title.append(mask_secrets(finding.message, self.secrets + finding.secret_values))
        self._show(head, title)
        source = entry.source if entry is not None else self._disk(finding.path)
        fix_text, diff, more = self.fix_parts(entry, finding, palette)
        rule = get_rule(finding.code)
        content = {
            "fix": fix_text,
            "diff": diff,
            "more": more,
            "excerpt": self.cached(
                ("excerpt", id(finding), id(source), len(self.secrets)),
                lambda: Group(Text(f"The code at {finding.path}:{finding.line}", style="bold underline"),
                              excerpt(finding, source, self.secrets + finding.secret_values, palette))),
            "doc": self.cached(
                ("doc", finding.code),
                lambda: Group(Text("About this rule", style="bold underline"), explanation(rule, palette)) if rule else ""),
        }
        for name, renderable in content.items():
            self._show(parts[name], renderable)

    def _show(self, widget: Static, renderable) -> None:
        """Update a part of the detail pane only when its content changed (a
        repaint of the whole pane on every key is what makes a terminal app slow)."""
        last = self._shown.get(widget.id, None)
        if last is not None and (last is renderable or (isinstance(renderable, (str, Text)) and last == renderable)):
            return
        self._shown[widget.id] = renderable
        widget.update(renderable)
        widget.display = bool(renderable) or widget.id == "d-head"

    def _disk(self, rel: str) -> bytes | None:
        try:
            return (self.root / rel).read_bytes()
        except OSError:
            return None

    def fix_parts(self, entry: Entry | None, finding: Finding, palette: Palette) -> tuple[RenderableType, RenderableType, RenderableType]:
        fix = finding.fix
        if fix is None:
            return (Text.assemble(("No automatic fix", f"bold {palette.warning}"),
                                  ": fix it by hand (e opens the file at the line)."), "", "")
        if entry is None:
            return Text.assemble(("Fix: ", "bold"), fix.title, ("  (shown when the scan ends)", palette.muted)), "", ""
        use_alt = entry.id in self.alternatives and fix.alternative is not None
        if entry.status is Status.ACCEPTED:
            use_alt = entry.alternative
        shown = fix.alternative if use_alt else fix
        head = Text()
        head.append("Fix: ", style="bold")
        head.append(shown.title)
        head.append("  ")
        if shown.safety is Safety.REVIEW:
            head.append(" review ", style=f"bold #000000 on {palette.warning}")
            if shown.reason:
                head.append(f" {shown.reason}", style=palette.warning)
        else:
            head.append(" safe ", style=f"bold #000000 on {palette.success}")
        if fix.alternative is not None:
            other = fix if use_alt else fix.alternative
            head.append(f"\no: show the other fix: {other.title}", style=palette.muted)
        if entry.problem:
            head.append(f"\n! {entry.problem}", style=f"bold {palette.error}")
        status = self.status_of(entry)
        if status is Status.RESOLVED:
            return head + Text("\nResolved by another accepted fix.", style=palette.muted), "", ""
        state = self.fix_state(entry)
        if state is None:
            waiting = "recomputing after the accepted fix…" if finding.path in self.stale_paths else "computing the fix…"
            return head, Text(waiting, style=f"italic {palette.muted}"), ""
        cs, error = state
        if error is not None:
            head.append(f"\n! This fix cannot be applied now: {error}", style=f"bold {palette.error}")
            return head, "", ""
        secrets = self.secrets + finding.secret_values
        more = what_else(cs, palette) or ""
        diff = self.cached(("diff", id(cs), self.side_by_side, len(secrets)),
                           lambda: diff_view(cs, secrets, palette, side_by_side=self.side_by_side))
        return head, diff, more

    def empty_state(self, palette: Palette) -> RenderableType:
        if self.phase == "scanning":
            return Text("Scanning… findings appear in the list as they are found. Esc stops the scan.", style=palette.muted)
        if self.entries and self.filter:
            return Text(f"No finding matches the filter {self.filter!r} (Esc clears it).", style=palette.muted)
        no_flask = [m for p, m in self.errors if m.startswith("no Flask app found")]
        if no_flask and not self.entries:
            scanned = self.session_scanned
            listing = "".join(f"  {p}\n" for p in scanned[:12]) + (f"  … and {len(scanned) - 12} more\n" if len(scanned) > 12 else "")
            return Text.assemble(
                ("Not a Flask project\n\n", "bold"),
                (self.display_path(no_flask[0]) + ".\n\n", ""),
                ("Scanned:\n" + listing + "\n" if scanned else "", ""),
                ("hardener looks for Flask(...) application objects (module level or in an app factory). "
                 "Run it in the project root, or pass the root: hardener PATH.", palette.muted),
            )
        if not self.entries:
            head = "Scan cancelled: nothing found before it stopped." if not self.complete else "Nothing found"
            return Text.assemble(
                (head + "\n\n", f"bold {palette.success}"),
                (f"{self.files_scanned} file{'s' if self.files_scanned != 1 else ''} scanned"
                 + (f"; {len(self.errors)} could not be read (see errors)" if self.errors else "") + ".", ""),
            )
        return Text("")

    # ------------------------------------------------------------------ bindings

    def check_action(self, action: str, parameters) -> bool | None:
        if isinstance(self.screen, SummaryScreen) or self.written:
            return action in ("quit_app", "help", "quit_after_summary")
        entry = self.current() if self.phase == "review" else None
        status = self.status_of(entry) if entry else None
        if action == "escape":
            return self.phase == "scanning" or bool(self.filter) or self.editing_filter
        if action in ("accept", "other_fix"):
            if entry is None or status not in (Status.PENDING, Status.SKIPPED) or not entry.has_fix:
                return False
            if action == "other_fix":
                return entry.finding.fix.alternative is not None
            return True
        if action == "skip":
            return entry is not None and status is Status.PENDING
        if action in ("accept_file", "skip_file"):
            if entry is None:
                return False
            same = [e for e in self.entries if e.finding.path == entry.finding.path and self.status_of(e) is Status.PENDING]
            return any(e.has_fix for e in same) if action == "accept_file" else bool(same)
        if action == "accept_safe":
            return self.phase == "review" and any(self._safe_pending())
        if action == "undo":
            return self.phase == "review" and self.can_undo
        if action == "write":
            return self.phase == "review" and any(self.status_of(e) is Status.ACCEPTED for e in self.entries)
        if action == "toggle_diff":
            return entry is not None and entry.has_fix and status is not Status.RESOLVED
        if action == "edit":
            return self.current_finding() is not None
        if action in ("move", "group", "filter", "scroll_detail"):
            return True
        return True

    def _safe_pending(self) -> list[Entry]:
        return [e for e in self.entries
                if self.status_of(e) is Status.PENDING and e.has_fix and e.fix(e.id in self.alternatives).safety is Safety.SAFE]

    # ------------------------------------------------------------------ actions

    def _advance(self, after: Entry | None = None) -> None:
        """Go to the next finding still waiting for a decision (after the current one)."""
        order = self._order
        if not order:
            return
        start = order.index(after.id) if after is not None and after.id in order else -1
        by_id = {e.id: e for e in self.entries}
        for entry_id in order[start + 1:] + order[:start + 1]:
            e = by_id.get(entry_id)
            if e is not None and self.status_of(e) is Status.PENDING:
                self.cursor = entry_id
                return
        self.notify("Every fix has a decision: press w to write the accepted ones, u to undo.", timeout=4)

    def _decide(self, name: str, targets: list[Entry], status: Status, label: str) -> None:
        if not targets:
            return
        args = {"ids": [e.id for e in targets], "label": label}
        if name == "accept":
            args["alternatives"] = {e.id for e in targets if e.id in self.alternatives}
        seq = self.send(name, **args)
        for e in targets:
            self.overlay[e.id] = (status, seq)
        if name == "accept":
            paths: set[str] = set()
            for e in targets:
                state = computed(e.fix(e.id in self.alternatives))
                paths |= set(state[0].paths) if state and state[0] is not None else {e.finding.path}
            for path in paths:
                self.stale_paths[path] = seq
            self.busy = "recomputing fixes…"
        self._advance(targets[0] if len(targets) == 1 else targets[-1])
        self.update_all()

    def action_accept(self) -> None:
        entry = self.current()
        if entry is not None and self.check_action("accept", ()):
            label = f"accept {entry.finding.code} {entry.finding.path}:{entry.finding.line}"
            self._decide("accept", [entry], Status.ACCEPTED, label)

    def action_skip(self) -> None:
        entry = self.current()
        if entry is not None and self.check_action("skip", ()):
            self._decide("skip", [entry], Status.SKIPPED, f"skip {entry.finding.code} {entry.finding.path}:{entry.finding.line}")

    def _rest_of_file(self, entry: Entry) -> list[Entry]:
        order = self._order
        by_id = {e.id: e for e in self.entries}
        same = [by_id[i] for i in order if i in by_id and by_id[i].finding.path == entry.finding.path]
        return [e for e in same if self.status_of(e) is Status.PENDING]

    def action_accept_file(self) -> None:
        entry = self.current()
        if entry is None or not self.check_action("accept_file", ()):
            return
        targets = [e for e in self._rest_of_file(entry) if e.has_fix]
        self._decide("accept", targets, Status.ACCEPTED, f"accept the rest of {entry.finding.path}")

    def action_skip_file(self) -> None:
        entry = self.current()
        if entry is None or not self.check_action("skip_file", ()):
            return
        self._decide("skip", self._rest_of_file(entry), Status.SKIPPED, f"skip the rest of {entry.finding.path}")

    def action_accept_safe(self) -> None:
        targets = self._safe_pending()
        if not targets:
            return
        files = sorted({e.finding.path for e in targets})
        detail = "\n".join(f"{e.finding.code} {e.finding.path}:{e.finding.line}  {e.finding.fix.title}" for e in targets)

        def answer(yes: bool | None) -> None:
            if yes:
                self._decide("accept", targets, Status.ACCEPTED, f"accept {len(targets)} safe fixes")

        self.push_screen(ConfirmScreen(
            f"Accept all {len(targets)} remaining safe fixes in {len(files)} file{'s' if len(files) != 1 else ''}?",
            detail), answer)

    def action_move(self, step: int) -> None:
        order = self._order
        if not order:
            return
        if self.cursor not in order:
            self.cursor = order[0]
        else:
            i = max(0, min(len(order) - 1, order.index(self.cursor) + step))
            self.cursor = order[i]
        widget = self.query_one("#list", OptionList)
        option_id = f"p{-self.cursor - 1}" if self.cursor < 0 else f"e{self.cursor}"
        self._syncing = True
        try:
            widget.highlighted = widget.get_option_index(option_id)
        finally:
            self._syncing = False
        i = order.index(self.cursor)
        self.compute_order = order[i:] + order[:i]
        self.update_detail()
        self.update_topbar()
        self.refresh_bindings()

    def action_undo(self) -> None:
        if self.check_action("undo", ()):
            self.send("undo")
            self.busy = "undoing…"
            self.update_topbar()

    def action_other_fix(self) -> None:
        entry = self.current()
        if entry is None or not self.check_action("other_fix", ()):
            return
        self.alternatives ^= {entry.id}
        self.update_detail()
        self.update_list()

    def action_toggle_diff(self) -> None:
        self.side_by_side = not self.side_by_side
        self.update_detail()
        self.update_topbar()

    def action_group(self) -> None:
        self.group = GROUPS[(GROUPS.index(self.group) + 1) % len(GROUPS)]
        self.update_list()
        self.update_topbar()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()
        self.editing_filter = True
        self.update_topbar()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter = event.value.strip()
        self.update_list()
        self.update_detail()
        self.update_topbar()
        self.refresh_bindings()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not self.filter:
            event.input.display = False
        self.query_one("#list").focus()
        self.editing_filter = False
        self.update_topbar()

    def action_escape(self) -> None:
        if self.phase == "scanning":
            scanner = self._scanner
            if scanner is not None:
                scanner.cancel.set()
                self.query_one("#scanlabel", Static).update("stopping…")
            return
        if self.filter or self.query_one("#filter").display:
            box = self.query_one("#filter", Input)
            box.value = ""
            box.display = False
            self.filter = ""
            self.editing_filter = False
            self.query_one("#list").focus()
            self.update_all()

    def action_scroll_detail(self, direction: int) -> None:
        detail = self.query_one("#detail", VerticalScroll)
        if direction > 0:
            detail.scroll_page_down(animate=False)
        else:
            detail.scroll_page_up(animate=False)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_edit(self) -> None:
        finding = self.current_finding()
        if finding is None:
            return
        path = self.root / finding.path
        before = self._disk(finding.path)
        entry = self.current()
        line = disk_line(entry.source if entry is not None else before, before, finding.line)
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        try:
            with self.suspend():
                subprocess.call([*shlex.split(editor), f"+{line}", str(path)])
        except Exception as exc:  # no terminal to hand over (tests, some terminals)
            self.notify(f"cannot open the editor: {exc}", severity="error")
            return
        self.refresh()
        if self._disk(finding.path) != before:
            if self.phase == "scanning":
                self.notify("the file changed: the fixes are computed when the scan ends")
            else:
                self.busy = "rescanning after the edit…"
                self.send("reload")
                self.update_topbar()

    def action_write(self) -> None:
        if not self.check_action("write", ()):
            return
        self.busy = "composing the accepted fixes…"
        self.send("plan")
        self.update_topbar()

    def _confirm_write(self, plan: WritePlan) -> None:
        accepted = sum(1 for e in self.entries if e.status is Status.ACCEPTED)
        lines = []
        if plan.changed:
            lines.append(f"change: {', '.join(plan.changed)}")
        if plan.created:
            lines.append(f"create: {', '.join(plan.created)}")
        if plan.dirty:
            lines.append(f"warning: uncommitted git changes in {', '.join(plan.dirty)} (hardener --undo restores them)")
        for finding, reason in plan.not_applied:
            lines.append(f"not applied: {finding.code} {finding.path}:{finding.line}: {reason}")
        if plan.differs:
            lines.append(f"note: composed in file order, the result differs from the preview in {', '.join(plan.differs)}")
        if not plan.changed and not plan.created:
            self.notify("The accepted fixes change nothing on disk.", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.busy = "writing…"
                self.send("commit", plan=plan)
                self.update_topbar()

        count = len(plan.changed) + len(plan.created)
        self.push_screen(ConfirmScreen(
            f"Write {accepted} accepted fix{'es' if accepted != 1 else ''} to {count} file{'s' if count != 1 else ''}?",
            "\n".join(lines), yes="Write"), answer)

    def _written(self, report, plan: WritePlan) -> None:
        self.report, self.result, self.written = report, plan.result, True
        self.phase = "written"
        skipped = Counter(f"{e.finding.code} {e.finding.name}" for e in self.entries if e.status is Status.SKIPPED)
        self.push_screen(SummaryScreen(report, plan.result, self.root, self.config, dict(skipped)))

    def action_quit_app(self) -> None:
        unwritten = sum(1 for e in self.entries if self.status_of(e) is Status.ACCEPTED) if not self.written else 0
        if not unwritten:
            self.exit(self.exit_code())
            return

        def answer(choice: bool | str | None) -> None:
            if choice == "Write":
                self.action_write()  # shows what it writes and asks; q afterwards quits
            elif choice is True:
                self.exit(self.exit_code())

        self.push_screen(ConfirmScreen(
            f"{unwritten} accepted fix{'es are' if unwritten != 1 else ' is'} not written. Quit without writing?",
            f"w writes {'them' if unwritten != 1 else 'it'} first (and shows what it writes); n goes back to the list.",
            yes="Quit",
            other=("w", "Write")), answer)

    def action_quit_after_summary(self) -> None:
        self.exit(self.exit_code())

    def exit_code(self) -> int:
        from hardener.cli import _exit_for, _exit_with_errors

        if self.written and self.report is not None:
            remaining, errors = self.report.remaining, self.report.errors
        else:
            remaining, errors = self.initial_findings, self.initial_errors
        args = self.args
        if args is None:
            from types import SimpleNamespace

            args = SimpleNamespace(exit_zero=False)
        return _exit_with_errors(_exit_for(remaining, args, self.config), errors)


def disk_line(shown: bytes | None, disk: bytes | None, line: int) -> int:
    """The finding's line (counted in the code with the accepted fixes staged)
    in the file as it is on disk, where the editor opens it."""
    if shown is None or disk is None or shown == disk:
        return line
    import difflib

    a, b = shown.splitlines(), disk.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i1 <= line - 1 < i2:
            return j1 + (line - 1 - i1) + 1 if tag == "equal" else j1 + 1
    return min(line, len(b) or 1)


def run_tui(root: Path, config, args) -> int:
    """Run the review app; the exit code follows the command line's (0, 1, 2)."""
    app = HardenerApp(root, config, args)
    code = app.run()
    if app.return_code not in (None, 0) and code is None:
        return 2
    return code if code is not None else app.exit_code()
