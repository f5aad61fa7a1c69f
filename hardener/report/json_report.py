"""The JSON report: one object, versioned. See docs/json-format.md and the
JSON Schema next to this module (``schema/report.schema.json``).

``schema_version`` changes only when a field is removed or changes meaning;
new optional fields may appear within a version.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from hardener import __version__
from hardener.models import Finding, FixError, Safety, mask_secrets

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schema" / "report.schema.json"


def fix_to_dict(finding: Finding) -> dict | None:
    fix = finding.fix
    if fix is None:
        return None
    out: dict = {"title": fix.title, "safety": str(fix.safety), "files": []}
    if fix.reason:
        out["reason"] = fix.reason
    try:
        cs = fix.changeset()
    except FixError as exc:
        out["error"] = str(exc)
        return out
    out["files"] = cs.paths
    out["dependencies"] = list(cs.dependencies)
    out["notes"] = list(cs.notes)
    out["followups"] = list(cs.followups)
    diff = cs.diff(mask=True)  # FileChange.secret_values masked
    out["diff"] = mask_secrets(diff, finding.secret_values)
    return out


def finding_to_dict(f: Finding, *, status: str = "open") -> dict:
    return {
        "code": f.code,
        "name": f.name,
        "category": f.category,
        "severity": str(f.severity),
        "confidence": str(f.confidence),
        "cwe": f.cwe,
        "message": mask_secrets(f.message, f.secret_values),
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "snippet": mask_secrets(f.snippet, f.secret_values),
        "fingerprint": f.fingerprint,
        "status": status,
        "fix": fix_to_dict(f),
    }


def summary(result) -> dict:
    counts = Counter(str(f.severity) for f in result.findings)
    return {
        "findings": len(result.findings),
        "by_severity": {s: counts.get(s, 0) for s in ("critical", "high", "medium", "low")},
        "fixable": sum(1 for f in result.findings if f.fix is not None),
        "safe_fixes": sum(1 for f in result.findings if f.fix is not None and f.fix.safety is Safety.SAFE),
        "suppressed": len(result.suppressed),
        "baselined": len(getattr(result, "baselined", [])),
        "files_scanned": result.files_scanned,
        "errors": len(result.errors),
    }


def render_json(result, root: str, *, show_suppressed: bool = False, baseline: str | None = None, **_) -> str:
    data = {
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
        "root": str(root),
        "baseline": baseline,
        "summary": summary(result),
        "findings": [finding_to_dict(f) for f in result.findings],
        "errors": [{"path": p, "message": m} for p, m in result.errors],
    }
    if show_suppressed:
        data["suppressed"] = [finding_to_dict(f, status="suppressed") for f in result.suppressed] + [
            finding_to_dict(f, status="baselined") for f in getattr(result, "baselined", [])
        ]
    return json.dumps(data, indent=2) + "\n"
