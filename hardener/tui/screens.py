"""The app's dialogs and the summary screen."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, Static

KEYS = [
    ("y", "accept this fix"),
    ("n", "skip this fix"),
    ("a", "accept this and the rest of this file's fixes"),
    ("d", "skip the rest of this file's fixes"),
    ("A", "accept all remaining safe fixes (asks first)"),
    ("j / down", "next finding"),
    ("k / up", "previous finding"),
    ("u", "undo the last decision"),
    ("o", "show the other fix (when the rule offers one)"),
    ("s", "unified / side-by-side diff"),
    ("e", "open the file at the line in $EDITOR"),
    ("g", "group by file / severity / category"),
    ("/", "filter: text, sev:high, cat:csrf (Esc clears)"),
    ("pgup / pgdn", "scroll the detail pane"),
    ("w", "write the accepted fixes"),
    ("Esc", "cancel the scan (keeps what was found)"),
    ("q", "quit (asks when accepted fixes are not written)"),
    ("?", "this help"),
]

MARKS = [
    ("·", "pending: no decision yet"),
    ("✓", "accepted: written with w"),
    ("✗", "skipped"),
    ("✎", "no automatic fix: fix it by hand"),
    ("≈", "resolved by another accepted fix"),
    ("!", "the fix cannot be applied now (see the detail)"),
]


class ConfirmScreen(ModalScreen[bool | str]):
    """A yes / no question; y and n answer it too. ``other`` (key, label) adds a
    third answer, given by its key or button, that dismisses with the label."""

    BINDINGS = [
        Binding("y", "answer(True)", "yes"),
        Binding("n,escape", "answer(False)", "no"),
    ]

    def __init__(self, question: str, detail: str = "", yes: str = "Yes", no: str = "No",
                 other: tuple[str, str] | None = None):
        super().__init__()
        self.question, self.detail, self.yes, self.no, self.other = question, detail, yes, no, other

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="question")
            if self.detail:
                with VerticalScroll(id="dialog-detail"):
                    yield Static(self.detail, markup=False)
            with Horizontal(id="buttons"):
                yield Button(f"{self.yes} (y)", variant="primary", id="yes")
                if self.other is not None:
                    yield Button(f"{self.other[1]} ({self.other[0]})", id="other")
                yield Button(f"{self.no} (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.other[1] if event.button.id == "other" else event.button.id == "yes")

    def on_key(self, event) -> None:
        if self.other is not None and event.key == self.other[0]:
            event.stop()
            self.dismiss(self.other[1])

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "close")]

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for key, what in KEYS:
            keys.add_row(key, what)
        marks = Table.grid(padding=(0, 2))
        marks.add_column(style="bold", no_wrap=True)
        marks.add_column()
        for mark, what in MARKS:
            marks.add_row(mark, what)
        body = Group(
            Text("Keys", style="bold underline"), keys, Text(""),
            Text("Marks in the list", style="bold underline"), marks, Text(""),
            Text("Nothing is written until you press w; then `hardener --undo` restores the files.", style="italic"),
        )
        with VerticalScroll(id="help"):
            yield Static(body)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


class SavePathScreen(ModalScreen["str | None"]):
    """Ask where to save a report (relative to the project root)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, default: str):
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Save the report to (relative to the project root):", id="question")
            yield Input(self.default, id="path")
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel (Esc)", id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(Input).value.strip() or None if event.button.id == "save" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SummaryScreen(Screen[None]):
    """What was written: per rule, files, dependencies, follow-ups, what is left."""

    BINDINGS = [
        Binding("t", "save('text')", "save text report"),
        Binding("j", "save('json')", "save JSON report"),
        Binding("q,escape", "app.quit_after_summary", "quit"),
        Binding("question_mark", "app.help", "help", show=False),
    ]

    def __init__(self, report, result, root: Path, config, skipped: dict[str, int]):  # skipped: "H211 name" -> count
        super().__init__()
        self.report, self.result, self.root, self.config, self.skipped = report, result, root, config, skipped

    def compose(self) -> ComposeResult:
        yield Static(Text(" hardener · fixes written", style="bold"), id="topbar")
        with VerticalScroll(id="summary"):
            yield Static(self.render_summary(), id="summary-body")
        yield Footer()

    def render_summary(self):
        from collections import Counter

        from hardener.summary import install_command

        report = self.report
        applied = Counter(f"{a.finding.code} {a.finding.name}" for a in report.applied)
        per_rule = Table(show_edge=False, expand=False, pad_edge=False)
        per_rule.add_column("rule")
        per_rule.add_column("applied", justify="right")
        per_rule.add_column("skipped", justify="right")
        for rule in sorted(set(applied) | set(self.skipped)):
            per_rule.add_row(rule, str(applied.get(rule, 0)), str(self.skipped.get(rule, 0)))
        parts = [Text(f"Applied {len(report.applied)} fix{'es' if len(report.applied) != 1 else ''}.", style="bold"),
                 per_rule, Text("")]

        def section(title: str, items: list[str]) -> None:
            if items:
                parts.append(Text(title, style="bold"))
                parts.extend(Text(f"  {item}") for item in items)
                parts.append(Text(""))

        section(f"Files changed ({len(report.written)})", report.written)
        section(f"Files created ({len(report.created)})", report.created)
        if report.journal:
            parts.append(Text("Undo with: hardener --undo", style="bold"))
            parts.append(Text(""))
        if report.dependencies:
            section("Dependencies added", report.dependencies)
            parts.insert(len(parts) - 1, Text(f"  install them: {install_command(report.dependencies)}", style="bold"))
        notes: list[str] = []
        for a in report.applied:
            notes += [n for n in a.changeset.notes if n not in notes]
        section("Notes", notes)
        section("Follow-ups for you", report.followups)
        section("Not applied", [f"{f.path}:{f.line} {f.code}: {reason}" for f, reason in report.failed])
        left = report.remaining
        if left:
            from hardener.models import Safety

            manual = sum(1 for f in left if f.fix is None)
            review = sum(1 for f in left if f.fix is not None and f.fix.safety is Safety.REVIEW)
            kinds = [f"{manual} to fix by hand"] if manual else []
            kinds += [f"{review} with a 'review' fix"] if review else []
            section(f"Findings left ({len(left)}" + (f": {', '.join(kinds)}" if kinds else "") + ")",
                    [f"{f.path}:{f.line} {f.code} {f.name}" for f in left])
        else:
            parts.append(Text("No findings left.", style="bold"))
        return Group(*parts)

    def action_save(self, fmt: str) -> None:
        default = "hardener-report.json" if fmt == "json" else "hardener-report.txt"

        def save(path: str | None) -> None:
            if not path:
                return
            target = Path(path) if Path(path).is_absolute() else self.root / path
            try:
                target.write_text(self.report_text(fmt), encoding="utf-8")
            except OSError as exc:
                self.app.notify(f"could not save {path}: {exc.strerror or exc}", severity="error")
                return
            self.app.notify(f"saved {path}")

        self.app.push_screen(SavePathScreen(default), save)

    def report_text(self, fmt: str) -> str:
        from hardener.report import render_json, render_text
        from hardener.summary import render_summary

        if fmt == "json":  # the standard report (see docs/json-format.md): what is left after writing
            return render_json(self.result, str(self.root))
        return render_summary(self.report, unsafe=True).lstrip("\n") + "\n" + render_text(self.result, str(self.root))
