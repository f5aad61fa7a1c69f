"""The scan cache: a part of the project whose every input is unchanged is not scanned again.

A scan is made part by part (``hardener.parts``): a part is a set of modules
and templates that can see each other, and what the rules find in one part
depends on nothing of another. A finding still depends on more than the file
it is in (the part's apps, blueprints and config classes come from all its
modules, and several rules read templates, static JavaScript, requirements or
``.env`` files), so results are kept per part, not per file.

A stored part is reused only when everything its scan and its fixes read is
the same:

* the key of the entry: hardener's and the rules' source code, the versions of
  Python, libcst, jinja2 and detect-secrets, the configuration (with the
  baseline's entries) and the selected rules;
* the content of each of the part's modules and templates, and the same split:
  no file joined the part, and it was not cut in two;
* the answers to the module lookups the part made in the whole project (a file
  elsewhere may now answer to a name), and no file now at a path it looked up
  and did not find;
* every other file it read through the workspace (requirements, ``.env``,
  ``.gitignore``, static JavaScript...), by content, and every folder it looked
  at on disk (for example ``static/``), by listing. Reads of a fix count for
  its part, also when the fix is computed after the scan.

The entry holds, per part, the findings (every field), their fixes' titles and
safety, the change sets the front end computed (a JSON report computes them
all, so the next JSON report needs none) with the diffs a report showed, the
errors and counts; and, per
module, what the split read off it. A cached fix whose change set was not
computed yet is computed by scanning again, without the cache, when it is
asked for. ``--apply-all`` and the interactive review never use cached fixes:
they compose fixes on live trees.

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
SCHEMA = 2
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
    were looked up on disk, so a stored part can be checked against them. The
    scanner swaps ``reads`` and ``looked_up`` for those of the part it scans
    (and of the part whose fix is computed)."""

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


class ScanCache:
    """The cache of one project root for one configuration and rule selection."""

    def __init__(self, root: Path, config, rule_codes: list[str]):
        self.root = Path(root)
        # the recursion limit decides what is "too deeply nested to analyse"
        self.key = hashlib.sha256(
            json.dumps([code_fingerprint(), config.fingerprint(), sorted(rule_codes), sys.getrecursionlimit()]).encode()
        ).hexdigest()
        self.path = self.root / CACHE_DIR / f"scan-{self.key[:24]}.json"
        self._loaded: dict | None = None

    def workspace(self) -> TrackingWorkspace:
        return TrackingWorkspace(self.root)

    # -- reading
    def _entry(self) -> dict | None:
        if self._loaded is None:
            try:
                entry = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError, UnicodeDecodeError):
                entry = None
            if not isinstance(entry, dict) or entry.get("schema") != SCHEMA or entry.get("key") != self.key:
                entry = {}
            self._loaded = entry
        return self._loaded or None

    def links(self, inputs: Inputs) -> dict[str, tuple[list[str], bool]]:
        """What ``hardener.parts.file_links`` gave for the modules whose content is unchanged."""
        entry = self._entry()
        if entry is None:
            return {}
        now = inputs.files
        return {path: (names, own) for path, (digest, names, own) in entry.get("links", {}).items()
                if now.get(f"py:{path}") == digest}

    def reusable(self, inputs: Inputs, static: list, index: dict[str, str], restorer: "Restorer") -> list:
        """The stored parts every input of which is unchanged, as pairs of the
        static parts (``hardener.parts.split``) each one is made of and its
        record. A stored part holds when its files have the same content, it is
        still made of whole static parts, its module lookups give the same
        answers, no path it missed exists now, and what else it read or looked
        at on disk is the same."""
        from hardener.parts import Part
        from hardener.scanner import PartRecord

        entry = self._entry()
        if entry is None:
            return []
        now = inputs.files
        position = {key: i for i, key in enumerate(now)}
        static_of = {path: part for part in static for path in [*part.python, *part.templates]}
        ws = inputs.workspace
        out = []
        for stored in entry.get("parts", []):
            files = stored["files"]
            if any(now.get(key) != digest for key, digest in files.items()):
                continue
            members = {key.partition(":")[2] for key in files}
            covered = list({id(static_of[m]): static_of[m] for m in members}.values())
            if any(m not in members for part in covered for m in [*part.python, *part.templates]):
                continue  # a file joined the part, or it was split
            if any(index.get(dotted) != answer for dotted, answer in stored["queries"].items()):
                continue
            if any(f"py:{m}" in now or f"tpl:{m}" in now for m in stored["missed"]):
                continue
            if any(_sha(ws.read(rel)) != digest for rel, digest in stored["reads"].items()):
                continue
            if any(_path_state(ws.abspath(rel)) != state for rel, state in stored["paths"].items()):
                continue
            keys = sorted(files, key=position.__getitem__)
            part = Part([k[3:] for k in keys if k.startswith("py:")], [k[4:] for k in keys if k.startswith("tpl:")])
            record = PartRecord(part, None, restored=True, stored=stored,
                                findings=[restorer.finding(f) for f in stored["findings"]],
                                suppressed=[restorer.finding(f) for f in stored["suppressed"]],
                                baselined=[restorer.finding(f) for f in stored["baselined"]],
                                errors=[tuple(e) for e in stored["errors"]], files_scanned=stored["files_scanned"],
                                flask=stored["flask"], texts=stored["texts"])
            out.append((covered, record))
        return out

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
        entry = {
            "schema": SCHEMA, "key": self.key,
            "parts": [self._part(record, result, inputs) for record in result.parts],
            "links": {path: [inputs.files[f"py:{path}"], names, own] for path, (names, own) in result.links.items()
                      if f"py:{path}" in inputs.files},
        }
        try:
            _ensure_state_dir(self.root)
            _atomic_write(self.path, json.dumps(entry, separators=(",", ":")).encode("utf-8"), 0o600)
            self._prune()
        except OSError:
            return False  # a read-only project: scanning works, caching does not
        return True

    @staticmethod
    def _part(record, result, inputs: Inputs) -> dict:
        data = {
            "findings": [_finding_to_data(f) for f in record.findings],
            "suppressed": [_finding_to_data(f) for f in record.suppressed],
            "baselined": [_finding_to_data(f) for f in record.baselined],
            "errors": [list(e) for e in record.errors],
            "files_scanned": record.files_scanned,
            "flask": record.flask,
        }
        if record.stored is not None:  # restored: what it was checked against is the same
            return {**record.stored, **data}
        part = record.part
        files = {key: inputs.files[key] for key in [*(f"py:{p}" for p in part.python), *(f"tpl:{t}" for t in part.templates)]}
        own = {key.partition(":")[2] for key in files}
        root = Path(inputs.workspace.root)
        shown = {f.path for f in [*record.findings, *record.suppressed, *record.baselined]}
        texts = {}
        for path in sorted(shown):
            source = dict.get(result.project.python, path)
            if source is not None and "text" in source.__dict__:
                texts[path] = source.text  # the source text libcst gave, for the lines a report shows
        return {
            "files": files,
            "queries": record.queries,
            "missed": sorted(record.missed),
            "reads": {rel: digest for rel, digest in record.reads.items() if rel not in own},
            "paths": {rel: _path_state(root / rel) for rel in sorted(record.paths) if rel not in own},
            **data,
            "texts": texts,
        }

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
        "changes": [[c.path, _b64(c.old), _b64(c.new), c.mode, list(c.secret_values), c.shown] for c in cs.changes],
        "dependencies": list(cs.dependencies), "notes": list(cs.notes), "followups": list(cs.followups),
    }


def _changeset_from_data(data: dict) -> ChangeSet:
    return ChangeSet(
        changes=[FileChange(path, _unb64(old), _unb64(new), mode, tuple(secrets), shown)
                 for path, old, new, mode, secrets, shown in data["changes"]],
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
        return False  # every part was restored, and no change set was computed for one
    return cache.store(result)
