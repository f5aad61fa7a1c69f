"""Rich renderables for the detail pane: code excerpts, diffs (unified and
side by side, syntax-highlighted, secrets masked) and rule explanations."""

from __future__ import annotations

import difflib
from itertools import zip_longest

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from hardener.models import ChangeSet, FileChange, Finding, mask_secrets

SEVERITY_LABELS = {"critical": "CRIT", "high": "HIGH", "medium": "MED", "low": "LOW"}


class Palette:
    """Colours picked for the current theme, so both light and dark stay readable."""

    def __init__(self, dark: bool, variables: dict[str, str] | None = None):
        v = _opaque(variables or {}, dark)
        self.dark = dark
        self.code_theme = "monokai" if dark else "default"
        self.background = v.get("surface") or ("#1e1e1e" if dark else "#ffffff")
        # text colours: on a light background the theme's bright ones get darker to stay readable
        self.error = _readable(v.get("error", "#ba3c5b"), dark)
        self.warning = _readable(v.get("warning", "#ffa62b"), dark)
        self.success = _readable(v.get("success", "#4EBF71"), dark)
        self.accent = _readable(v.get("accent", "#0178D4"), dark)
        self.muted = v.get("foreground-muted") or ("#9e9e9e" if dark else "#6e6e6e")
        if not dark:
            self.muted = _readable(self.muted, dark)
        self.removed_bg = "#4b1d24" if dark else "#ffdfe3"
        self.added_bg = "#1d4126" if dark else "#d9f5df"
        self.removed_sign = "#ff7b86" if dark else "#b3162e"
        self.added_sign = "#74d68b" if dark else "#1a7f37"

    def severity(self, severity: str) -> str:
        return {
            "critical": f"bold #ffffff on {self.error}",
            "high": f"bold {self.error}",
            "medium": f"bold {self.warning}",
            "low": f"{self.accent}",
        }.get(severity, "")

    def badge(self, severity: str) -> Text:
        return Text(f"{SEVERITY_LABELS.get(severity, severity.upper()):<4}", style=self.severity(severity))


def _opaque(variables: dict[str, str], dark: bool) -> dict[str, str]:
    """The theme colours used here as #rrggbb (translucent ones blended onto the background)."""
    from textual.color import Color

    base = Color.parse(variables.get("background") or ("#121212" if dark else "#efefef"))
    out = {}
    for name in ("surface", "error", "warning", "success", "accent", "foreground-muted"):
        value = variables.get(name)
        if not value:
            continue
        try:
            color = Color.parse(value)
        except Exception:
            continue
        if color.a < 1:
            color = base + color
        out[name] = color.hex6
    return out


def _readable(color: str, dark: bool) -> str:
    """Darken a colour until it has enough contrast on white (light themes only)."""
    from textual.color import Color

    if dark:
        return color
    c = Color.parse(color)
    for _ in range(10):
        if c.brightness <= 0.45:
            break
        c = c.darken(0.08)
    return c.hex6


def decode(data: bytes | None) -> str:
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def lexer_for(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if "/templates/" in f"/{path}" or name.endswith((".html", ".jinja", ".jinja2", ".j2")):
        return "html+jinja"
    if name.endswith(".py"):
        return "python"
    if name.endswith(".toml"):
        return "toml"
    if name.startswith(".env") or name.endswith((".cfg", ".ini")):
        return "ini" if not name.startswith(".env") else "bash"
    if name.endswith((".yml", ".yaml")):
        return "yaml"
    if name.endswith(".js"):
        return "javascript"
    if name.endswith(".css"):
        return "css"
    return "text"


def _without_background(text: Text) -> Text:
    """Keep the token colours, drop the code theme's background (the pane's shows through)."""
    from rich.style import Style

    def strip(style):
        if isinstance(style, str):
            style = Style.parse(style) if style else Style()
        return Style(color=style.color, bold=style.bold, italic=style.italic, underline=style.underline)

    out = Text(text.plain, style=strip(text.style) if text.style else "", end="")
    for span in text.spans:
        out.stylize(strip(span.style), span.start, span.end)
    return out


_HIGHLIGHTED: dict[tuple[str, str, str], list[Text]] = {}


def _highlight(text: str, path: str, palette: Palette) -> list[Text]:
    """One Text per line, highlighted as the file's language (each version of a file once)."""
    if not text:
        return []
    key = (lexer_for(path), palette.code_theme, text)
    lines = _HIGHLIGHTED.get(key)
    if lines is None:
        syntax = Syntax("", key[0], theme=palette.code_theme, background_color="default")
        lines = [_without_background(line) for line in syntax.highlight(text).split("\n", allow_blank=True)]
        expected = len(text.splitlines())
        lines = lines[:expected] + [Text("")] * (expected - len(lines))
        if len(_HIGHLIGHTED) > 64:
            _HIGHLIGHTED.clear()
        _HIGHLIGHTED[key] = lines
    return lines


def excerpt(finding: Finding, source: bytes | None, secrets, palette: Palette, context: int = 3) -> RenderableType:
    """The lines around the finding, the finding's own lines marked."""
    text = mask_secrets(decode(source), secrets)
    if not text:
        return Text(finding.snippet or "(source not available)", style=palette.muted)
    lines = _highlight(text, finding.path, palette)
    start = max(1, finding.line - context)
    end = min(len(lines), max(finding.end_line, finding.line) + context)
    table = Table.grid(expand=True, padding=(0, 1))
    table.add_column(no_wrap=True, width=1)
    table.add_column(justify="right", no_wrap=True, width=len(str(end)))
    table.add_column(ratio=1, overflow="fold")
    marked = range(finding.line, max(finding.end_line, finding.line) + 1)
    for n in range(start, end + 1):
        here = n in marked
        table.add_row(Text("❱" if here else " ", style=f"bold {palette.error}"),
                      Text(str(n), style="bold" if here else palette.muted), lines[n - 1].copy())
    return table


def _file_title(change: FileChange) -> str:
    if change.created:
        return f" {change.path} (new file" + (f", mode {change.mode:o}" if change.mode is not None else "") + ") "
    return f" {change.path} "


def diff_change(change: FileChange, secrets, palette: Palette, *, side_by_side: bool, context: int = 3) -> RenderableType:
    secrets = tuple(secrets) + tuple(change.secret_values)
    old_text = mask_secrets(decode(change.old), secrets)
    new_text = mask_secrets(decode(change.new), secrets)
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    old_hl, new_hl = _highlight(old_text, change.path, palette), _highlight(new_text, change.path, palette)
    width = max(3, len(str(max(len(old_lines), len(new_lines), 1))))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    groups = list(matcher.get_grouped_opcodes(context))
    title = Rule(Text(_file_title(change), style="bold"), align="left", style=palette.muted)
    if not groups:
        return Group(title, Text("(no textual change)", style=palette.muted))

    def num(n: int | None) -> Text:
        return Text("" if n is None else str(n + 1), style=palette.muted)

    def code(lines: list[Text], i: int, bg: str | None) -> Text:
        line = lines[i].copy() if i < len(lines) else Text("")
        if bg:
            line.stylize(f"on {bg}")
            line.pad_right(1)
        return line

    removed, added = palette.removed_bg, palette.added_bg
    if side_by_side:
        table = Table.grid(expand=True, padding=(0, 1))
        table.add_column(justify="right", width=width, no_wrap=True)
        table.add_column(ratio=1, overflow="fold")
        table.add_column(justify="right", width=width, no_wrap=True)
        table.add_column(ratio=1, overflow="fold")
        for gi, group in enumerate(groups):
            if gi:
                table.add_row(Text("⋯", style=palette.muted), "", Text("⋯", style=palette.muted), "")
            for tag, i1, i2, j1, j2 in group:
                if tag == "equal":
                    for i, j in zip(range(i1, i2), range(j1, j2)):
                        table.add_row(num(i), code(old_hl, i, None), num(j), code(new_hl, j, None))
                else:
                    for i, j in zip_longest(range(i1, i2), range(j1, j2)):
                        table.add_row(
                            num(i), code(old_hl, i, removed) if i is not None else Text(""),
                            num(j), code(new_hl, j, added) if j is not None else Text(""),
                        )
        return Group(title, table)

    table = Table.grid(expand=True)
    table.add_column(justify="right", width=width, no_wrap=True)
    table.add_column(justify="right", width=width + 1, no_wrap=True)
    table.add_column(width=2, no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    minus = Text("-", style=f"bold {palette.removed_sign}")
    plus = Text("+", style=f"bold {palette.added_sign}")
    for gi, group in enumerate(groups):
        first, last = group[0], group[-1]
        header = f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        table.add_row("", "", "", Text(header, style=palette.muted))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2)):
                    table.add_row(num(i), num(j), " ", code(new_hl, j, None))
                continue
            for i in range(i1, i2):
                table.add_row(num(i), "", minus, code(old_hl, i, removed))
            for j in range(j1, j2):
                table.add_row("", num(j), plus, code(new_hl, j, added))
    return Group(title, table)


def diff_view(cs: ChangeSet, secrets, palette: Palette, *, side_by_side: bool) -> RenderableType:
    parts: list[RenderableType] = []
    for change in cs.changes:
        parts.append(diff_change(change, secrets, palette, side_by_side=side_by_side))
    if not parts:
        parts.append(Text("(the fix changes no file)", style=palette.muted))
    return Group(*parts)


def what_else(cs: ChangeSet, palette: Palette) -> RenderableType | None:
    """Dependencies, created files, notes and follow-ups of a change set."""
    lines: list[Text] = []
    created = [c.path for c in cs.changes if c.created]
    if created:
        lines.append(Text.assemble(("creates ", "bold"), ", ".join(created)))
    if cs.dependencies:
        lines.append(Text.assemble(("adds dependencies ", "bold"), ", ".join(cs.dependencies)))
    for note in cs.notes:
        lines.append(Text.assemble(("note ", "bold"), note))
    for followup in cs.followups:
        lines.append(Text.assemble(("then you ", f"bold {palette.warning}"), followup))
    return Group(*lines) if lines else None


def explanation(rule, palette: Palette) -> RenderableType:
    """The rule's documentation (what, why, example, fix, references)."""
    from hardener.docs import doc_sections

    sections = doc_sections(rule)
    out = []
    for title, body in sections.items():
        if not title or not body:
            continue
        out.append(f"**{title}**\n\n{body}\n")
    return Markdown("\n".join(out), code_theme=palette.code_theme, hyperlinks=True)
