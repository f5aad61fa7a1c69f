"""The scan cache: a scan whose every input is unchanged is not run again.

A scan's findings depend on more than the file they are in: the project model
(apps, blueprints, config classes) is built from every module, most rules look
at views and settings in other modules, and several read templates, static
JavaScript, requirements or ``.env`` files. Measured on this code base, no
file rule's result depended on its own file alone (see docs/performance.md),
so results are not reused per file: reusing them when another file changed
could report what is no longer there, or miss what is.

An entry is reused only when everything the scan and its fixes read is the
same:

* the key: hardener's and the rules' source code, the versions of Python,
  libcst, jinja2 and detect-secrets, the configuration (with the baseline's
  entries) and the selected rules;
* the content of every Python file and template the scan discovered;
* every other file read through the workspace (requirements, ``.env``,
  ``.gitignore``, static JavaScript...), by content, and every folder looked
  at on disk (for example ``static/``), by listing.

The entry holds the findings (every field), their fixes' titles and safety,
the change sets the front end computed (a JSON report computes them all, so
the next JSON report needs none), the errors and counts. A cached fix whose
change set was not computed yet is computed by scanning again, without the
cache, when it is asked for. ``--apply-all`` and the interactive review never
use cached fixes: they compose fixes on live trees.

Entries live in ``.hardener/cache/`` under the scanned root (``.hardener/``
holds a ``.gitignore`` of ``*``), as JSON (never pickle: loading a cache file
cannot run code), readable by the owner only (a change set may hold a
generated secret). ``--no-cache`` or ``cache = false`` turns the cache off.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from hardener import __version__
from hardener.apply import _atomic_write, _ensure_state_dir, _sha
from hardener.models import ChangeSet, Confidence, FileChange, Finding, Fix, FixError, Safety, Severity
from hardener.workspace import Workspace

CACHE_DIR = ".hardener/cache"
SCHEMA = 1
KEEP_ENTRIES = 4  # entries (one per configuration) kept per project
_LIBRARIES = ("libcst", "jinja2", "detect-secrets", "tomlkit")


_CODE_FINGERPRINT: str | None = None


def code_fingerprint() -> str:
    """hardener's and the rules' source code, and the libraries that shape results."""
    global _CODE_FINGERPRINT
    if _CODE_FINGERPRINT is not None:
        return _CODE_FINGERPRINT
    import importlib.metadata

    import hardener
    import hardener_codemods

    h = hashlib.sha256()
    h.update(f"{SCHEMA}\0{__version__}\0{sys.version}\0".encode())
    for name in _LIBRARIES:
        try:
            h.update(f"{name}={importlib.metadata.version(name)}\0".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{name}=-\0".encode())
    for package in (hardener, hardener_codemods):
        base = Path(package.__file__).parent
        for path in sorted(base.rglob("*.py")):
            h.update(path.relative_to(base).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    _CODE_FINGERPRINT = h.hexdigest()
    return _CODE_FINGERPRINT


def _path_state(path: Path):
    """What looking at a path on disk can tell: missing, a file, or a folder's listing."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return ["file", st.st_size, st.st_mtime_ns]
    listing = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        rel = os.path.relpath(dirpath, path)
        for name in sorted(filenames):
            try:
                fst = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            listing.append([f"{rel}/{name}", fst.st_size, fst.st_mtime_ns])
        listing.append([rel + "/"])
    return ["dir", hashlib.sha256(json.dumps(listing).encode()).hexdigest()]


@dataclass
class TrackingWorkspace(Workspace):
    """A workspace that remembers what was read through it, and which paths
    were looked up on disk, so a cache entry can be checked against them."""

    reads: dict[str, str | None] = field(default_factory=dict)
    looked_up: set[str] = field(default_factory=set)
    quiet: bool = False  # the scanner reading the discovered files: not recorded

    def read(self, rel: str) -> bytes | None:
        data = super().read(rel)
        if not self.quiet and rel not in self.reads:
            self.reads[rel] = _sha(data)
        return data

    def abspath(self, rel: str) -> Path:
        if not self.quiet:
            self.looked_up.add(rel)
        return super().abspath(rel)


@dataclass
class Inputs:
    """What one scan read: the discovered files and what else it looked at."""

    files: dict[str, str]  # "py:path" / "tpl:path" -> sha256 of the content
    workspace: TrackingWorkspace

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(sorted(self.files.items())).encode()).hexdigest()


class ScanCache:
    """The cache of one project root for one configuration and rule selection."""

    def __init__(self, root: Path, config, rule_codes: list[str]):
        self.root = Path(root)
        # the recursion limit decides what is "too deeply nested to analyse"
        self.key = hashlib.sha256(
            json.dumps([code_fingerprint(), config.fingerprint(), sorted(rule_codes), sys.getrecursionlimit()]).encode()
        ).hexdigest()
        self.path = self.root / CACHE_DIR / f"scan-{self.key[:24]}.json"

    def workspace(self) -> TrackingWorkspace:
        return TrackingWorkspace(self.root)

    # -- reading
    def lookup(self, inputs: Inputs) -> dict | None:
        """The stored entry if every input is unchanged, else None."""
        try:
            entry = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if not isinstance(entry, dict) or entry.get("schema") != SCHEMA or entry.get("key") != self.key:
            return None
        if entry.get("files") != inputs.digest():
            return None
        ws = inputs.workspace
        for rel, digest in entry.get("reads", {}).items():
            if _sha(ws.read(rel)) != digest:
                return None
        for rel, state in entry.get("paths", {}).items():
            if _path_state(ws.abspath(rel)) != state:
                return None
        return entry

    # -- writing
    def store(self, result) -> bool:
        """Write the entry for a finished scan (after the front end used it, so the
        change sets it computed are kept). False when the scan cannot be cached."""
        inputs: Inputs | None = getattr(result, "cache_inputs", None)
        if inputs is None or result.cancelled:
            return False
        if any("MemoryError" in message for _, message in result.errors):
            return False  # depends on the machine, not on the code
        ws = inputs.workspace
        if ws.pending:
            return False
        reads = {rel: digest for rel, digest in ws.reads.items() if f"py:{rel}" not in inputs.files
                 and f"tpl:{rel}" not in inputs.files}
        paths = {rel: _path_state(Path(ws.root) / rel) for rel in sorted(ws.looked_up)
                 if f"py:{rel}" not in inputs.files and f"tpl:{rel}" not in inputs.files}
        entry = {
            "schema": SCHEMA,
            "key": self.key,
            "files": inputs.digest(),
            "reads": reads,
            "paths": paths,
            "result": _result_to_data(result),
        }
        try:
            _ensure_state_dir(self.root)
            _atomic_write(self.path, json.dumps(entry, separators=(",", ":")).encode("utf-8"), 0o600)
            self._prune()
        except OSError:
            return False  # a read-only project: scanning works, caching does not
        return True

    def _prune(self) -> None:
        entries = sorted(self.path.parent.glob("scan-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP_ENTRIES:]:
            try:
                old.unlink()
            except OSError:
                pass


# --------------------------------------------------------------------------- (de)serialising


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def _changeset_to_data(cs: ChangeSet) -> dict:
    return {
        "changes": [[c.path, _b64(c.old), _b64(c.new), c.mode, list(c.secret_values)] for c in cs.changes],
        "dependencies": list(cs.dependencies), "notes": list(cs.notes), "followups": list(cs.followups),
    }


def _changeset_from_data(data: dict) -> ChangeSet:
    return ChangeSet(
        changes=[FileChange(path, _unb64(old), _unb64(new), mode, tuple(secrets))
                 for path, old, new, mode, secrets in data["changes"]],
        dependencies=list(data["dependencies"]), notes=list(data["notes"]), followups=list(data["followups"]),
    )


def _fix_to_data(fix: Fix | None) -> dict | None:
    if fix is None:
        return None
    out = {"title": fix.title, "safety": fix.safety.value, "reason": fix.reason,
           "alternative": _fix_to_data(fix.alternative)}
    if fix._result is not None:
        out["changeset"] = _changeset_to_data(fix._result)
    elif fix._error is not None:
        out["error"] = fix._error
    return out


def _finding_to_data(f: Finding) -> dict:
    return {
        "code": f.code, "name": f.name, "category": f.category, "severity": int(f.severity),
        "confidence": int(f.confidence), "cwe": f.cwe, "message": f.message, "path": f.path,
        "line": f.line, "column": f.column, "end_line": f.end_line, "end_column": f.end_column,
        "snippet": f.snippet, "secret_values": list(f.secret_values), "occurrence": f.occurrence,
        "fix": _fix_to_data(f.fix),
    }


def _result_to_data(result) -> dict:
    project = result.project
    shown = {f.path for f in [*result.findings, *result.suppressed, *result.baselined]}
    texts = {}
    for path in sorted(shown):
        source = project.python.get(path)
        if source is not None and "text" in source.__dict__:
            texts[path] = source.text
    return {
        "findings": [_finding_to_data(f) for f in result.findings],
        "suppressed": [_finding_to_data(f) for f in result.suppressed],
        "baselined": [_finding_to_data(f) for f in result.baselined],
        "errors": [list(e) for e in result.scan_errors],
        "files_scanned": result.files_scanned,
        "texts": texts,  # the source text libcst gave, for the lines a report shows
    }


class Restorer:
    """Builds Findings from an entry; a fix with no stored change set is computed
    from a fresh scan (without the cache) when asked for."""

    def __init__(self, live_scan):
        self._live_scan = live_scan
        self._live = None

        self.computed = False  # a change set was computed here (the entry is worth writing again)

    def _live_fix(self, key: tuple, depth: int) -> Fix:
        if self._live is None:
            result = self._live_scan()
            self._live = {(f.code, f.path, f.fingerprint, f.occurrence): f
                          for f in [*result.findings, *result.suppressed, *result.baselined]}
        found = self._live.get(key)
        fix = found.fix if found is not None else None
        for _ in range(depth):
            fix = fix.alternative if fix is not None else None
        if fix is None:
            raise FixError("the project changed since it was scanned; run hardener again")
        return fix

    def fix(self, data: dict | None, key: tuple, depth: int = 0) -> Fix | None:
        if data is None:
            return None

        def compute():
            self.computed = True
            return self._live_fix(key, depth).changeset()

        fix = Fix(
            data["title"], Safety(data["safety"]), compute, reason=data.get("reason", ""),
            alternative=self.fix(data.get("alternative"), key, depth + 1),
        )
        if "changeset" in data:  # computed in an earlier run: ready, and kept when the entry is written again
            fix._result = _changeset_from_data(data["changeset"])
        elif "error" in data:
            fix._error = data["error"]
        return fix

    def finding(self, data: dict) -> Finding:
        f = Finding(
            code=data["code"], name=data["name"], category=data["category"], severity=Severity(data["severity"]),
            confidence=Confidence(data["confidence"]), cwe=data["cwe"], message=data["message"], path=data["path"],
            line=data["line"], column=data["column"], end_line=data["end_line"], end_column=data["end_column"],
            snippet=data["snippet"], secret_values=tuple(data["secret_values"]), occurrence=data["occurrence"],
        )
        f.fix = self.fix(data["fix"], (f.code, f.path, f.fingerprint, f.occurrence))
        return f


def save(result) -> bool:
    """Store a finished scan in its cache (call it once the front end is done with
    the result, so the change sets it computed are kept). A result restored from
    the cache is written again only when new change sets were computed for it."""
    cache = getattr(result, "cache", None)
    if cache is None:
        return False
    if result.cached and not (result.restorer is not None and result.restorer.computed):
        return False
    return cache.store(result)
