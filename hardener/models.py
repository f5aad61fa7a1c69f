"""The data the engine passes around: findings, fixes and change sets.

A ``Finding`` is what a rule reports. Its optional ``Fix`` is a *change set*
over one or more files, computed lazily (only when shown or applied) from the
scan that produced the finding.
"""

from __future__ import annotations

import difflib
import enum
import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable


class Severity(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    def __str__(self) -> str:  # "high"
        return self.name.lower()


class Confidence(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    def __str__(self) -> str:
        return self.name.lower()


class Safety(str, enum.Enum):
    """``safe`` fixes keep the app working; ``review`` ones change behaviour
    that existing data or clients may depend on."""

    SAFE = "safe"
    REVIEW = "review"

    def __str__(self) -> str:
        return self.value


CATEGORIES = (
    "csrf", "headers", "cookie", "upload", "secret", "sql", "debug",
    "xss", "ssti", "redirect", "password", "cors", "other",
)


@dataclass(frozen=True)
class FileChange:
    """New content for one file. ``old`` is None when the file is created."""

    path: str  # relative to the project root, with "/"
    old: bytes | None
    new: bytes
    mode: int | None = None  # permissions for a created file (e.g. 0o600 for .env)
    secret_values: tuple[str, ...] = ()  # masked whenever the diff is shown
    # the masked diff with 3 lines of context, once made (reports show it; the cache keeps it)
    shown: str | None = field(default=None, compare=False, repr=False)

    @property
    def created(self) -> bool:
        return self.old is None

    def diff(self, *, mask: bool = True, context: int = 3) -> str:
        if mask and context == 3:
            if self.shown is None:
                object.__setattr__(self, "shown", self._diff(True, 3))
            return self.shown
        return self._diff(mask, context)

    def _diff(self, mask: bool, context: int) -> str:
        old_text = _decode(self.old or b"")
        new_text = _decode(self.new)
        if mask:
            old_text = mask_secrets(old_text, self.secret_values)
            new_text = mask_secrets(new_text, self.secret_values)
        lines = difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile="/dev/null" if self.old is None else f"a/{self.path}",
            tofile=f"b/{self.path}",
            n=context,
        )
        out = []
        for line in lines:
            if line.endswith("\r\n"):
                line = line[:-2] + "\n"
            elif not line.endswith("\n"):
                line += "\n\\ No newline at end of file\n"
            out.append(line)
        return "".join(out)


@dataclass
class ChangeSet:
    """Everything a fix does: file edits plus what the user should know."""

    changes: list[FileChange] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)  # requirement strings added
    notes: list[str] = field(default_factory=list)  # what else the fix did / needs
    followups: list[str] = field(default_factory=list)  # steps for the user afterwards

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.changes]

    def diff(self, *, mask: bool = True) -> str:
        return "".join(c.diff(mask=mask) for c in self.changes)

    def merge(self, other: "ChangeSet") -> None:
        self.dependencies += [d for d in other.dependencies if d not in self.dependencies]
        self.notes += [n for n in other.notes if n not in self.notes]
        self.followups += [f for f in other.followups if f not in self.followups]


class FixError(Exception):
    """A fix could not be computed safely; the finding stays, unfixed."""


@dataclass
class Fix:
    """A proposed change, computed on demand.

    ``compute`` returns a ChangeSet built from the content the scan saw; the
    engine refuses to write it if any file changed since.
    """

    title: str
    safety: Safety
    compute: Callable[[], ChangeSet]
    reason: str = ""  # why it is ``review``
    # another way to fix the same finding, offered by the review front ends (e.g. an
    # after_request hook instead of Flask-Talisman); ``accept`` may answer with it
    alternative: "Fix | None" = None
    _result: ChangeSet | None = field(default=None, repr=False)
    _error: str | None = field(default=None, repr=False)

    def changeset(self) -> ChangeSet:
        if self._error is not None:
            raise FixError(self._error)
        if self._result is None:
            try:
                self._result = self.compute()
            except FixError as exc:
                self._error = str(exc)
                raise
        return self._result


@dataclass
class Finding:
    code: str
    name: str
    category: str
    severity: Severity
    confidence: Confidence
    cwe: int | None
    message: str
    path: str  # relative to the root, with "/"
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int
    fix: Fix | None = None
    snippet: str = ""  # the source line(s), secrets masked; used for fingerprints
    secret_values: tuple[str, ...] = ()
    # how many findings with the same rule, file and fingerprint come after this
    # one in the file: tells identical snippets apart (set by the scanner)
    occurrence: int = 0

    @property
    def fingerprint(self) -> str:
        """Stable across edits elsewhere in the file: rule, file and code text."""
        text = " ".join(self.snippet.split())
        return hashlib.sha256(f"{self.code}\0{self.path}\0{text}".encode()).hexdigest()[:16]

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def mask(value: str) -> str:
    """Show at most a hint of a secret: its first two characters."""
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * min(len(value) - 2, 12)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    for value in sorted(set(secrets), key=len, reverse=True):
        if value:
            text = text.replace(value, mask(value))
    return text
