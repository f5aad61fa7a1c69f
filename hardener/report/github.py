"""GitHub Actions workflow commands: one annotation per finding.

``::error file=app.py,line=3,endLine=3,col=5,endColumn=15,title=H101 flask-debug-enabled::message``

Levels: critical and high findings are errors, medium ones warnings, low ones
notices. Messages escape ``%``, CR and LF; property values also escape ``:``
and ``,`` (the separators of the command), as the runner expects.
"""

from __future__ import annotations

from hardener.models import Safety, mask_secrets

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding) -> str:
    props = {
        "file": finding.path,
        "line": str(finding.line),
        "endLine": str(max(finding.end_line, finding.line)),
        "col": str(finding.column),
    }
    if finding.end_line == finding.line and finding.end_column > finding.column:
        props["endColumn"] = str(finding.end_column)
    props["title"] = f"{finding.code} {finding.name} ({finding.severity})"
    message = mask_secrets(finding.message, finding.secret_values)
    if finding.fix is not None:
        hint = "hardener --apply-all" if finding.fix.safety is Safety.SAFE else "hardener --apply-all --unsafe-fixes"
        message += f"\nFix available: {finding.fix.title} (`{hint}`)"
    props_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{LEVELS[str(finding.severity)]} {props_text}::{escape_data(message)}"


def render_github(result, root: str, **_) -> str:
    lines = [annotation(f) for f in result.findings]
    return "".join(line + "\n" for line in lines)
