"""What the interface knows about each finding under review: its decision
and its fix. Kept apart from the session so the app paints before the engine
(libcst and the rules) is imported."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hardener.models import ChangeSet, Finding, Fix


class Status(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    SKIPPED = "skipped"
    MANUAL = "manual"  # no automatic fix
    RESOLVED = "resolved"  # went away with another accepted fix

    def __str__(self) -> str:
        return self.value


@dataclass
class Entry:
    id: int
    finding: Finding  # as found by the latest scan (for accepted ones: when accepted)
    status: Status
    keys: set = field(default_factory=set)  # every finding_key it had across rescans
    alternative: bool = False  # the reviewer chose fix.alternative
    accepted: ChangeSet | None = None  # what was staged
    problem: str = ""  # why the fix cannot be applied now (conflicts, errors)
    source: bytes | None = None  # the file's content the finding's line numbers refer to
    new: bool = False  # appeared after an accepted fix changed the code

    @property
    def has_fix(self) -> bool:
        return self.finding.fix is not None

    @property
    def decided(self) -> bool:
        return self.status in (Status.ACCEPTED, Status.SKIPPED)

    def fix(self, alternative: bool | None = None) -> Fix | None:
        fix = self.finding.fix
        use_alt = self.alternative if alternative is None else alternative
        if fix is not None and use_alt and fix.alternative is not None:
            return fix.alternative
        return fix


def computed(fix: Fix | None) -> tuple[ChangeSet | None, str | None] | None:
    """The fix's change set or error if computed already (None when not yet)."""
    if fix is None:
        return None
    if fix._error is not None:
        return None, fix._error
    if fix._result is not None:
        return fix._result, None
    return None


