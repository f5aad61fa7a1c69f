"""Baselines: record today's findings so CI fails only on new ones.

``hardener --write-baseline FILE`` stores every finding as (rule, file,
fingerprint); ``--baseline FILE`` (or ``baseline = "FILE"`` in
``[tool.hardener]``) hides the findings that match an entry. The fingerprint is
a hash of the rule, the file and the finding's code text (whitespace
normalised, secrets masked), never the line number: edits elsewhere in the file
do not bring old findings back, while a change to the flagged code itself (or
a second copy of it) does. Entries are counted, so two identical findings need
two entries.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hardener import __version__
from hardener.models import Finding, mask_secrets

FORMAT = "hardener-baseline"
FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file is missing or not one hardener wrote."""


def key(finding: Finding) -> tuple[str, str, str]:
    return (finding.code, finding.path, finding.fingerprint)


@dataclass
class Baseline:
    path: str
    entries: Counter = field(default_factory=Counter)

    def matcher(self) -> "BaselineMatcher":
        """A fresh matcher for one scan (each entry hides one finding)."""
        return BaselineMatcher(Counter(self.entries))

    def __len__(self) -> int:
        return sum(self.entries.values())


@dataclass
class BaselineMatcher:
    left: Counter

    def take(self, finding: Finding) -> bool:
        k = key(finding)
        if self.left[k] > 0:
            self.left[k] -= 1
            return True
        return False

    def give_back(self, finding: Finding) -> None:
        """Undo ``take`` (the finding's part is scanned again)."""
        self.left[key(finding)] += 1


def dumps(findings: list[Finding]) -> str:
    entries = [
        {
            "code": f.code,
            "path": f.path,
            "fingerprint": f.fingerprint,
            # for people reading the file; matching ignores them
            "line": f.line,
            "message": mask_secrets(f.message, f.secret_values),
        }
        for f in sorted(findings, key=Finding.sort_key)
    ]
    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "hardener_version": __version__, "findings": entries}
    return json.dumps(data, indent=2) + "\n"


def write_baseline(path: Path, findings: list[Finding]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(findings), encoding="utf-8")
    return len(findings)


def load_baseline(path: Path) -> Baseline:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline {path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not a hardener baseline (invalid JSON: {exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"{path}: not a hardener baseline (write one with --write-baseline)")
    if data.get("format_version") != FORMAT_VERSION:
        raise BaselineError(
            f"{path}: baseline format version {data.get('format_version')!r} is not supported "
            f"(this hardener reads version {FORMAT_VERSION}); write it again with --write-baseline"
        )
    entries: Counter = Counter()
    for i, entry in enumerate(data.get("findings", [])):
        try:
            entries[(str(entry["code"]), str(entry["path"]), str(entry["fingerprint"]))] += 1
        except (TypeError, KeyError):
            raise BaselineError(f"{path}: entry {i} lacks code, path or fingerprint") from None
    return Baseline(str(path), entries)
