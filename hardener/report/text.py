"""Human-readable report, grouped by file, coloured on a terminal.

Colour only when the stream is a terminal and NO_COLOR is unset
(https://no-color.org); piped output is plain text.
"""

from __future__ import annotations

import os
from collections import Counter

from hardener.models import Finding, Safety, mask_secrets

COLORS = {"critical": "1;31", "high": "31", "medium": "33", "low": "36"}
DIM, BOLD = "2", "1"


def use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb"


def _c(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _caret_line(line: str, f: Finding) -> tuple[str, int]:
    """The indentation under the code line (tabs kept so the caret lines up) and the caret width."""
    prefix = "".join(ch if ch == "\t" else " " for ch in line[: max(0, f.column - 1)])
    if f.end_line == f.line and f.end_column > f.column:
        width = f.end_column - f.column
    else:
        width = len(line.rstrip()) - f.column + 1
    return prefix, max(1, width)


def _finding_lines(f: Finding, source, color: bool, tag: str = "") -> list[str]:
    sev = str(f.severity)
    tone = COLORS.get(sev, "0")
    fixable = ""
    if f.fix is not None:
        fixable = " [fix]" if f.fix.safety is Safety.SAFE else " [fix: review]"
    message = mask_secrets(f.message, f.secret_values)
    out = [
        f"  {f.line}:{f.column} {_c(f.code, tone, color)} {_c(sev, tone, color)} {message} "
        f"{_c('(' + f.name + ')', DIM, color)}{_c(fixable, BOLD, color)}{tag}"
    ]
    if source is not None:
        line = source.line_text(f.line)
        if line.strip():
            line = mask_secrets(line, f.secret_values).rstrip()
            prefix, width = _caret_line(line, f)
            out.append(f"      {line}")
            out.append("      " + prefix + _c("^" * width, tone, color))
    if f.fix is not None:
        out.append("      " + _c(f"= fix: {f.fix.title} [{f.fix.safety}]", DIM, color))
    return out


def render_text(result, root: str, color: bool = False, *, show_suppressed: bool = False,
                baseline: str | None = None, **_) -> str:
    out: list[str] = []
    items: list[tuple[Finding, str]] = [(f, "") for f in result.findings]
    if show_suppressed:
        items += [(f, _c(" [suppressed]", DIM, color)) for f in result.suppressed]
        items += [(f, _c(" [in baseline]", DIM, color)) for f in getattr(result, "baselined", [])]
    by_file: dict[str, list[tuple[Finding, str]]] = {}
    for f, tag in sorted(items, key=lambda item: item[0].sort_key()):
        by_file.setdefault(f.path, []).append((f, tag))
    project = result.project
    for path, findings in by_file.items():
        out.append(_c(path, "1;4", color))
        source = project.python.get(path) or project.templates.get(path)
        for f, tag in findings:
            out += _finding_lines(f, source, color, tag)
        out.append("")
    if result.errors:
        out.append(_c("errors", "1;31", color))
        for path, message in result.errors:
            out.append(f"  {path}: {message}")
        out.append("")
    out.append(summary_line(result))
    return "\n".join(out) + "\n"


def summary_line(result) -> str:
    n = len(result.findings)
    if not n:
        text = f"No findings in {result.files_scanned} files."
    else:
        counts = Counter(str(f.severity) for f in result.findings)
        parts = [f"{counts[s]} {s}" for s in ("critical", "high", "medium", "low") if counts[s]]
        fixes = sum(1 for f in result.findings if f.fix is not None)
        safe = sum(1 for f in result.findings if f.fix is not None and f.fix.safety is Safety.SAFE)
        text = f"Found {n} finding{'s' if n != 1 else ''} ({', '.join(parts)}) in {result.files_scanned} files; "
        if safe:
            text += f"{fixes} fixable ({safe} safe, run `hardener --apply-all`)."
        elif fixes:
            text += f"{fixes} fixable (all need review: `hardener --apply-all --unsafe-fixes`)."
        else:
            text += "no automatic fixes."
    if result.errors:
        text += f" {len(result.errors)} error{'s' if len(result.errors) != 1 else ''}."
    if getattr(result, "suppressed", None):
        text += f" {len(result.suppressed)} suppressed."
    if getattr(result, "baselined", None):
        text += f" {len(result.baselined)} in the baseline."
    return text
