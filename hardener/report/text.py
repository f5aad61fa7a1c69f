"""Human-readable report, grouped by file, coloured on a terminal."""

from __future__ import annotations

import os
from collections import Counter

from hardener.models import Finding, Safety, mask_secrets

COLORS = {"critical": "1;31", "high": "31", "medium": "33", "low": "36"}


def use_color(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("NO_COLOR")


def _c(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def render_text(result, root: str, color: bool = False) -> str:
    out: list[str] = []
    by_file: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_file.setdefault(f.path, []).append(f)
    project = result.project
    for path, findings in by_file.items():
        out.append(_c(path, "1", color))
        source = project.python.get(path) or project.templates.get(path)
        for f in findings:
            sev = str(f.severity)
            fixable = ""
            if f.fix is not None:
                fixable = " [fix]" if f.fix.safety is Safety.SAFE else " [fix: review]"
            message = mask_secrets(f.message, f.secret_values)
            out.append(
                f"  {f.line}:{f.column} {_c(f.code, COLORS.get(sev, '0'), color)} "
                f"{_c(sev, COLORS.get(sev, '0'), color)} {message} ({f.name}){fixable}"
            )
            if source is not None:
                line = source.line_text(f.line)
                if line.strip():
                    line = mask_secrets(line, f.secret_values)
                    out.append(f"      {line.rstrip()}")
                    width = max(1, (f.end_column - f.column) if f.end_line == f.line else len(line.rstrip()) - f.column + 1)
                    out.append("      " + " " * (f.column - 1) + _c("^" * max(1, width), COLORS.get(sev, "0"), color))
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
        text = (f"Found {n} finding{'s' if n != 1 else ''} ({', '.join(parts)}) in {result.files_scanned} files; "
                f"{fixes} fixable ({safe} safe, run `hardener --apply-all`).")
    if result.errors:
        text += f" {len(result.errors)} error{'s' if len(result.errors) != 1 else ''}."
    if getattr(result, "suppressed", None):
        text += f" {len(result.suppressed)} suppressed."
    return text
