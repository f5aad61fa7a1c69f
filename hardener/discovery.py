"""Find the files a scan looks at: Python sources and Jinja templates."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIRS = {
    ".git", ".hg", ".svn", "__pycache__", "node_modules", "site-packages",
    "build", "dist", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".hardener", ".venv", "venv", ".eggs",
}
TEMPLATE_SUFFIXES = {".html", ".htm", ".jinja", ".jinja2", ".j2", ".xml", ".txt"}


class GitIgnore:
    """A small .gitignore matcher: globs, ``**``, anchoring, dir-only and ``!``."""

    def __init__(self, lines: list[str], base: str = ""):
        self.rules: list[tuple[re.Pattern, bool, bool]] = []  # (regex, negate, dir_only)
        for raw in lines:
            line = raw.rstrip("\n").rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.strip("/") if dir_only else line
            anchored = "/" in line.lstrip("/") or line.startswith("/")
            line = line.lstrip("/")
            regex = _glob_to_regex(line)
            prefix = re.escape(base + "/") if base else ""
            if anchored:
                pattern = f"^{prefix}{regex}$"
            else:
                pattern = f"^{prefix}(?:.*/)?{regex}$"
            self.rules.append((re.compile(pattern), negate, dir_only))

    def ignored(self, rel: str, is_dir: bool) -> bool | None:
        result = None
        for regex, negate, dir_only in self.rules:
            if dir_only and not is_dir:
                continue
            if regex.match(rel):
                result = not negate
        return result


def _glob_to_regex(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = glob.find("]", i)
            if j == -1:
                out.append(re.escape(c))
            else:
                out.append(glob[i : j + 1].replace("!", "^", 1) if glob[i + 1 : i + 2] == "!" else glob[i : j + 1])
                i = j + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass
class Discovered:
    python: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def matches_any(rel: str, globs: list[str]) -> bool:
    for glob in globs:
        g = glob.rstrip("/")
        if fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(rel, g + "/*") or rel.startswith(g + "/"):
            return True
        if "/" not in g and any(fnmatch.fnmatch(part, g) for part in rel.split("/")):
            return True
    return False


def discover(root: Path, exclude: list[str] | None = None) -> Discovered:
    """Walk ``root`` and list .py files and templates, sorted, relative with '/'."""
    exclude = exclude or []
    found = Discovered()
    ignores: list[GitIgnore] = []
    root_real = os.path.realpath(root)
    seen_dirs: set[str] = set()

    def is_ignored(rel: str, is_dir: bool) -> bool:
        verdict = None
        for gi in ignores:
            v = gi.ignored(rel, is_dir)
            if v is not None:
                verdict = v
        return bool(verdict)

    def walk(dir_path: str, rel_dir: str, in_templates: bool) -> None:
        real = os.path.realpath(dir_path)
        if real in seen_dirs:
            found.errors.append((rel_dir or ".", "symlink loop: directory already visited, skipped"))
            return
        seen_dirs.add(real)
        gi_path = os.path.join(dir_path, ".gitignore")
        pushed = False
        if os.path.isfile(gi_path):
            try:
                with open(gi_path, encoding="utf-8", errors="replace") as fh:
                    ignores.append(GitIgnore(fh.read().splitlines(), rel_dir))
                pushed = True
            except OSError:
                pass
        try:
            entries = sorted(os.scandir(dir_path), key=lambda e: e.name)
        except OSError as exc:
            found.errors.append((rel_dir or ".", f"cannot list directory: {exc.strerror or exc}"))
            entries = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir()
            except OSError as exc:
                found.errors.append((rel, f"cannot read: {exc.strerror or exc}"))
                continue
            if is_dir:
                if entry.name in SKIP_DIRS or entry.name.endswith(".egg-info"):
                    continue
                if os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
                    continue
                if is_ignored(rel, True) or matches_any(rel, exclude):
                    continue
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if not (target == root_real or target.startswith(root_real + os.sep)):
                        continue  # never leave the root
                walk(entry.path, rel, in_templates or entry.name == "templates")
                continue
            if is_ignored(rel, False) or matches_any(rel, exclude):
                continue
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if not target.startswith(root_real + os.sep):
                    continue
            name = entry.name
            if name.endswith(".py"):
                found.python.append(rel)
            elif in_templates and os.path.splitext(name)[1] in TEMPLATE_SUFFIXES:
                found.templates.append(rel)
        if pushed:
            ignores.pop()

    walk(str(root), "", False)
    return found
