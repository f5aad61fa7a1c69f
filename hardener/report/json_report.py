"""The JSON report: one object, versioned. See docs/json-format.md."""

from __future__ import annotations

import json

from hardener import __version__
from hardener.models import Finding, FixError, mask_secrets

SCHEMA_VERSION = 1


def fix_to_dict(finding: Finding) -> dict | None:
    fix = finding.fix
    if fix is None:
        return None
    out = {"title": fix.title, "safety": str(fix.safety), "files": []}
    if fix.reason:
        out["reason"] = fix.reason
    try:
        out["files"] = fix.changeset().paths
    except FixError as exc:
        out["error"] = str(exc)
    return out


def finding_to_dict(f: Finding) -> dict:
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
        "fingerprint": f.fingerprint,
        "fix": fix_to_dict(f),
    }


def render_json(result, root: str) -> str:
    data = {
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
        "root": str(root),
        "findings": [finding_to_dict(f) for f in result.findings],
        "errors": [{"path": p, "message": m} for p, m in result.errors],
    }
    return json.dumps(data, indent=2) + "\n"
