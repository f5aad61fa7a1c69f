"""The files of a project as the engine sees them.

A ``Workspace`` reads files from disk once and keeps pending edits in memory,
so fixes can be computed, composed and re-scanned before anything is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Workspace:
    root: Path
    _cache: dict[str, bytes | None] = field(default_factory=dict)
    _original: dict[str, bytes | None] = field(default_factory=dict)
    pending: dict[str, bytes] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)  # modes for created files

    def abspath(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> bytes | None:
        """Current content (pending edits included), None if the file does not exist."""
        if rel in self.pending:
            return self.pending[rel]
        if rel not in self._cache:
            try:
                data = self.abspath(rel).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                data = None
            self._cache[rel] = data
            self._original.setdefault(rel, data)
        return self._cache[rel]

    def remember(self, rel: str, data: bytes) -> None:
        """Record bytes read by discovery so the stale check compares against them."""
        self._cache.setdefault(rel, data)
        self._original.setdefault(rel, data)

    def original(self, rel: str) -> bytes | None:
        if rel not in self._original:
            self.read(rel)
        return self._original.get(rel)

    def exists(self, rel: str) -> bool:
        return self.read(rel) is not None

    def write(self, rel: str, data: bytes, mode: int | None = None) -> None:
        self.pending[rel] = data
        if mode is not None and self.original(rel) is None:
            self.modes[rel] = mode

    @property
    def changed(self) -> dict[str, bytes]:
        return {rel: data for rel, data in self.pending.items() if data != self.original(rel)}


def relpath(path: Path, root: Path) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")
