"""The summary printed after fixes are written (``--apply-all``; the TUI shows the same)."""

from __future__ import annotations

from collections import Counter

from hardener.models import Safety


def install_command(dependencies: list[str]) -> str:
    return "pip install " + " ".join(f"'{d}'" if any(c in d for c in "<>=!~;[") else d for d in dependencies)


def render_summary(report, *, unsafe: bool = False) -> str:
    out = []
    per_rule = Counter(a.finding.code for a in report.applied)
    out.append(f"\nApplied {len(report.applied)} fix{'es' if len(report.applied) != 1 else ''}"
               + (f" ({', '.join(f'{c} x{n}' for c, n in sorted(per_rule.items()))})" if per_rule else "") + ".")
    if report.written:
        out.append(f"Files changed ({len(report.written)}): {', '.join(report.written)}")
    if report.created:
        out.append(f"Files created ({len(report.created)}): {', '.join(report.created)}")
    if report.dependencies:
        out.append(f"Dependencies added: {', '.join(report.dependencies)}")
        out.append(f"  install them: {install_command(report.dependencies)}")
    notes = []
    for a in report.applied:
        notes += [n for n in a.changeset.notes if n not in notes]
    if notes:
        out.append("Notes:")
        out += [f"  - {n}" for n in notes]
    if report.followups:
        out.append("Follow-ups for you:")
        out += [f"  - {f}" for f in report.followups]
    if report.journal:
        out.append(f"Undo with: hardener --undo   (journal {report.journal})")
    remaining = report.remaining
    if remaining:
        review = sum(1 for f in remaining if f.fix is not None and f.fix.safety is Safety.REVIEW)
        manual = sum(1 for f in remaining if f.fix is None)
        parts = []
        if review and not unsafe:
            parts.append(f"{review} with a 'review' fix (--unsafe-fixes applies them)")
        if manual:
            parts.append(f"{manual} to fix by hand")
        out.append(f"Findings left: {len(remaining)}" + (f" ({'; '.join(parts)})" if parts else "") + ".")
    else:
        out.append("No findings left.")
    return "\n".join(out) + "\n"
