"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning, IDE viewers).

One run; ``tool.driver.rules`` describes every rule (short and full
description, help text in plain text and Markdown, a help URI, tags with
"security", the category and the CWE, ``security-severity`` and
``precision``); each result points at the rule by id and index, carries a
``partialFingerprints`` entry that survives edits elsewhere in the file, and
its fix as ``artifactChanges`` with replacements computed from the change set
(character offsets into the original file). Secrets are masked everywhere,
inserted content included. Suppressed and baselined findings appear only with
``--show-suppressed``, marked with SARIF ``suppressions``.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from hardener import __version__
from hardener.models import FileChange, Finding, FixError, Safety, mask_secrets

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "hardener/v1"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
# GitHub buckets: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
PRECISION = {"high": "high", "medium": "medium", "low": "low"}


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "replace")


def replacements(change: FileChange, secrets: tuple[str, ...] = ()) -> list[dict]:
    """SARIF replacements turning ``change.old`` into ``change.new``.

    Regions are character offsets into the old text (line-granular blocks from
    a diff), listed in file order; apply them from the last to the first.
    """
    old = _text(change.old)
    new = _text(change.new)
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    out = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        rep: dict = {"deletedRegion": {"charOffset": starts[i1], "charLength": starts[i2] - starts[i1]}}
        inserted = "".join(new_lines[j1:j2])
        if inserted:
            rep["insertedContent"] = {"text": mask_secrets(inserted, tuple(change.secret_values) + tuple(secrets))}
        out.append(rep)
    return out


def apply_replacements(old: str, reps: list[dict]) -> str:
    """Apply SARIF replacements to a text (used by the tests and handy for tools)."""
    text = old
    for rep in sorted(reps, key=lambda r: r["deletedRegion"]["charOffset"], reverse=True):
        region = rep["deletedRegion"]
        start, length = region["charOffset"], region.get("charLength", 0)
        text = text[:start] + rep.get("insertedContent", {}).get("text", "") + text[start + length:]
    return text


def _location(path: str, region: dict | None = None) -> dict:
    loc: dict = {"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}}}
    if region:
        loc["physicalLocation"]["region"] = region
    return loc


def rule_descriptor(rule) -> dict:
    from hardener.docs import doc_sections, help_uri

    sections = doc_sections(rule)
    parts = [sections.get("What it does", "") or rule.title(), sections.get("Why is this bad?", "")]
    # one paragraph per section, lines joined (SARIF viewers show plain text)
    full = "\n\n".join(" ".join(p.split()) for p in parts if p.strip())
    tags = ["security", rule.category]
    if rule.cwe:
        tags.append(f"external/cwe/cwe-{rule.cwe}")
    severity = str(rule.severity)
    descriptor = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.title()},
        "fullDescription": {"text": full},
        "help": {"text": rule.doc(), "markdown": rule.doc()},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {
            "tags": tags,
            "security-severity": SECURITY_SEVERITY[severity],
            "precision": PRECISION[str(rule.confidence)],
            "problem.severity": {"error": "error", "warning": "warning", "note": "recommendation"}[LEVELS[severity]],
        },
    }
    uri = help_uri(rule)
    if uri:
        descriptor["helpUri"] = uri
    if rule.cwe:
        descriptor["properties"]["cwe"] = f"CWE-{rule.cwe}"
        # the link to the CWE taxonomy of the run (SARIF 3.49.15 relationships)
        descriptor["relationships"] = [
            {"target": {"id": str(rule.cwe), "toolComponent": {"name": "CWE"}}, "kinds": ["superset"]}
        ]
    return descriptor


def cwe_taxonomy(cwes: list[int]) -> dict:
    from hardener.docs import cwe_url

    return {
        "name": "CWE",
        "organization": "MITRE",
        "shortDescription": {"text": "The MITRE Common Weakness Enumeration"},
        "informationUri": "https://cwe.mitre.org/",
        "taxa": [{"id": str(c), "name": f"CWE-{c}", "helpUri": cwe_url(c)} for c in sorted(set(cwes))],
    }


def _fallback_descriptor(finding: Finding) -> dict:
    severity = str(finding.severity)
    tags = ["security", finding.category] + ([f"external/cwe/cwe-{finding.cwe}"] if finding.cwe else [])
    from hardener.docs import cwe_url

    out = {
        "id": finding.code, "name": finding.name,
        "shortDescription": {"text": finding.name}, "fullDescription": {"text": finding.name},
        "help": {"text": finding.name}, "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"tags": tags, "security-severity": SECURITY_SEVERITY[severity]},
    }
    if finding.cwe:
        out["helpUri"] = cwe_url(finding.cwe)
    return out


def _fix(finding: Finding) -> tuple[list[dict], str | None]:
    fix = finding.fix
    if fix is None:
        return [], None
    try:
        cs = fix.changeset()
    except FixError as exc:
        return [], str(exc)
    changes = []
    for change in cs.changes:
        reps = replacements(change, finding.secret_values)
        if reps:
            changes.append({
                "artifactLocation": {"uri": change.path, "uriBaseId": "%SRCROOT%"},
                "replacements": reps,
            })
    if not changes:
        return [], None
    description = f"{fix.title} [{fix.safety}]"
    if fix.safety is Safety.REVIEW and fix.reason:
        description += f": {fix.reason}"
    if any(c.secret_values for c in cs.changes) or finding.secret_values:
        description += " (secret values are masked in this report)"
    return [{"description": {"text": description}, "artifactChanges": changes}], None


def _result(finding: Finding, index: dict[str, int], suppression: dict | None, baseline_state: str | None) -> dict:
    region = {
        "startLine": finding.line, "startColumn": finding.column,
        "endLine": max(finding.end_line, finding.line),
        "endColumn": finding.end_column if finding.end_line > finding.line or finding.end_column > finding.column
        else finding.column + 1,
    }
    if finding.snippet:
        region["snippet"] = {"text": mask_secrets(finding.snippet, finding.secret_values)}
    result: dict = {
        "ruleId": finding.code,
        "ruleIndex": index[finding.code],
        "level": LEVELS[str(finding.severity)],
        "message": {"text": mask_secrets(finding.message, finding.secret_values)},
        "locations": [_location(finding.path, region)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "severity": str(finding.severity),
            "confidence": str(finding.confidence),
            "category": finding.category,
        },
    }
    if finding.fix is not None:
        result["properties"]["fixSafety"] = str(finding.fix.safety)
    fixes, error = _fix(finding)
    if fixes:
        result["fixes"] = fixes
    if error:
        result["properties"]["fixError"] = error
    if suppression is not None:
        result["suppressions"] = [suppression]
    if baseline_state:
        result["baselineState"] = baseline_state
    return result


def render_sarif(result, root: str, *, show_suppressed: bool = False, baseline: str | None = None, **_) -> str:
    from hardener.rules import all_rules

    rules = [rule_descriptor(r) for r in all_rules()]
    index = {d["id"]: i for i, d in enumerate(rules)}
    shown = list(result.findings)
    if show_suppressed:
        shown += list(result.suppressed) + list(getattr(result, "baselined", []))
    for f in shown:
        if f.code not in index:
            index[f.code] = len(rules)
            rules.append(_fallback_descriptor(f))
    results = [_result(f, index, None, "new" if baseline else None) for f in result.findings]
    if show_suppressed:
        results += [_result(f, index, {"kind": "inSource", "status": "accepted"}, None) for f in result.suppressed]
        results += [
            _result(f, index, {"kind": "external", "status": "accepted",
                               "justification": f"listed in the baseline {baseline}" if baseline else "listed in the baseline"},
                    "unchanged")
            for f in getattr(result, "baselined", [])
        ]
    notifications = []
    for path, message in result.errors:
        note: dict = {"level": "error", "message": {"text": message}}
        if path and path != ".":
            note["locations"] = [_location(path)]
        notifications.append(note)
    root_uri = Path(root).resolve().as_uri().rstrip("/") + "/"
    run = {
        "tool": {
            "driver": {
                "name": "hardener",
                "semanticVersion": __version__,
                "version": __version__,
                "rules": rules,
            }
        },
        "taxonomies": [cwe_taxonomy([r.cwe for r in all_rules() if r.cwe])],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": not result.cancelled, "toolExecutionNotifications": notifications}],
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
