"""discover -> parse -> detect: run the rules over a project and collect findings."""

from __future__ import annotations

import fnmatch
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hardener.config import CONFIDENCES, SEVERITIES, Config
from hardener.discovery import discover
from hardener.gctune import gc_tuned
from hardener.models import Finding
from hardener.project import Project
from hardener.rules import Rule, select_rules
from hardener.source import ParseError, PythonFile, Suppressions, TemplateFile
from hardener.workspace import Workspace


# Generated or vendored modules this big are not analysed (parsing them with
# libcst would take longer than the rest of a typical project together).
MAX_FILE_BYTES = 5_000_000


@dataclass
class ScanResult:
    root: Path
    project: Project
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)  # known findings listed in the baseline
    errors: list[tuple[str, str]] = field(default_factory=list)
    files_scanned: int = 0
    cancelled: bool = False
    # errors of the scan itself (rules, parsing, templates), not of discovery or reading
    scan_errors: list[tuple[str, str]] = field(default_factory=list)
    cached: bool = False  # restored from the scan cache
    cache_inputs: object | None = field(default=None, repr=False)  # what the cache needs to store this scan
    cache: object | None = field(default=None, repr=False)  # the hardener.cache.ScanCache used, if any
    restorer: object | None = field(default=None, repr=False)  # builds the fixes of a cached result


# The files of recent scans, by root and path: a scan of content already parsed
# in this process (the rounds of --apply-all, a review's rescans) reuses the tree.
_RECENT: "weakref.WeakValueDictionary[tuple[str, str], PythonFile]" = weakref.WeakValueDictionary()


def _python_file(root: Path, rel: str, data: bytes) -> PythonFile:
    key = (str(root), rel)
    old = _RECENT.get(key)
    # a file whose parse failed is not reused: the scan decides about those itself
    if old is not None and old.data == data and (old.parse_error is None or old.parsed):
        return old
    new = _RECENT[key] = PythonFile(rel, data)
    return new


def remember_tree(root, rel: str, data: bytes, module) -> PythonFile:
    """A tree of ``data`` built elsewhere (the output of a staged fix, parsed to
    verify it) for the next scan of ``root`` to reuse while the caller holds
    the returned file."""
    file = PythonFile(rel, data)
    file.__dict__["module"] = module
    _RECENT[(str(Path(root)), rel)] = file
    return file


class Scanner:
    """One scan of one project. ``on_progress(done, total, path)`` and
    ``on_finding(finding)`` let a front end stream results; ``cancel`` stops
    the scan between files (what was found so far is kept)."""

    def __init__(
        self,
        root: Path,
        config: Config | None = None,
        workspace: Workspace | None = None,
        rules: list[type[Rule]] | None = None,
        cache=None,
    ):
        self.root = Path(root)
        self.config = config or Config()
        if cache is not None and workspace is None:
            workspace = cache.workspace()
        # the cache needs to see every read: only with its own kind of workspace
        self.cache = cache if cache is not None and hasattr(workspace, "looked_up") else None
        self.workspace = workspace or Workspace(self.root)
        self.rules = [r() for r in (rules if rules is not None else select_rules(self.config.select, self.config.ignore))]
        self.cancel = threading.Event()

    def run(
        self,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_finding: Callable[[Finding], None] | None = None,
    ) -> ScanResult:
        with gc_tuned():
            return self._run(on_progress, on_finding)

    def _run(self, on_progress, on_finding) -> ScanResult:
        ws = self.workspace
        found = discover(self.root, self.config.exclude)
        errors = list(found.errors) + list(self.config.errors)
        python: dict[str, PythonFile] = {}
        templates: dict[str, TemplateFile] = {}
        read: dict[str, TemplateFile] = {}
        if self.cache is not None:
            ws.quiet = True  # the discovered files are in the cache key by content
        try:
            for rel in found.python:
                data = self._read(rel, errors)
                if data is not None:
                    python[rel] = _python_file(self.root, rel, data)
            # files created by pending fixes (not yet on disk) are part of the project too
            for rel, data in ws.pending.items():
                if rel.endswith(".py") and rel not in python:
                    python[rel] = _python_file(self.root, rel, data)
            for rel in found.templates:
                data = self._read(rel, errors)
                if data is not None:
                    read[rel] = TemplateFile(rel, data)
        finally:
            if self.cache is not None:
                ws.quiet = False
        inputs = None
        if self.cache is not None:
            from hardener.apply import _sha
            from hardener.cache import Inputs

            inputs = Inputs({**{f"py:{rel}": _sha(f.data) for rel, f in python.items()},
                             **{f"tpl:{rel}": _sha(t.data) for rel, t in read.items()}}, ws)
            entry = self.cache.lookup(inputs)
            if entry is not None:
                return self._restore(entry, inputs, python, read, errors, on_progress, on_finding)
        live_errors = len(errors)  # discovery, configuration and reading: checked again on every run
        for rel, template in read.items():
            problem = template.syntax_error()
            if problem:
                errors.append((rel, problem))  # rules leave a template they cannot read alone
            else:
                templates[rel] = template
        project = Project(str(self.root), python, templates, ws, errors, self.config)
        result = ScanResult(self.root, project, errors=errors, cache_inputs=inputs, cache=self.cache)
        suppressions: dict[str, Suppressions] = {}
        baseline = self.config.baseline_data.matcher() if self.config.baseline_data is not None else None

        def emit(finding: Finding) -> None:
            if not self._keep(finding):
                return
            sup = suppressions.get(finding.path)
            if sup is None:
                source = python.get(finding.path) or templates.get(finding.path)
                text = source.data.decode("utf-8", "replace") if source is not None else ""
                kind = "python" if finding.path in python else "template" if finding.path in templates else None
                sup = suppressions[finding.path] = Suppressions.parse(text, kind, self.config.tool_suppressions)
            if sup.suppresses(finding.code, finding.line, finding.end_line):
                result.suppressed.append(finding)
                return
            if baseline is not None and baseline.take(finding):
                result.baselined.append(finding)
                return
            result.findings.append(finding)
            if on_finding:
                on_finding(finding)

        file_rules = [r for r in self.rules if type(r).check_file is not Rule.check_file]
        template_rules = [r for r in self.rules if type(r).check_template is not Rule.check_template]
        project_rules = [r for r in self.rules if type(r).check_project is not Rule.check_project]
        paths = list(python)
        total = len(paths) + len(templates)
        done = 0
        for rel in paths:
            if self.cancel.is_set():
                result.cancelled = True
                break
            file = python[rel]
            if on_progress:
                on_progress(done, total, rel)
            project.in_model(rel)  # test and dormant modules are parsed only when a rule needs them
            wanted = [rule for rule in file_rules if rule.wants(file.data)]
            if wanted and file.parse_error is None:
                self._check_file(file, project, wanted, errors, emit)
            elif file.parsed:  # the facts pass met a problem in a tree (too deep: reported below)
                for rule in wanted:
                    self._guarded(rule, rel, errors, lambda: [emit(f) for f in rule.check_file(file, project)])
            if file.parse_error is not None:
                errors.append((rel, file.parse_error))
            done += 1
        if not result.cancelled:
            for rel, template in templates.items():
                if on_progress:
                    on_progress(done, total, rel)
                for rule in template_rules:
                    if rule.template_triggers and not any(t in template.text for t in rule.template_triggers):
                        continue
                    self._guarded(rule, rel, errors, lambda: [emit(f) for f in rule.check_template(template, project)])
                done += 1
            for rule in project_rules:
                self._guarded(rule, ".", errors, lambda: [emit(f) for f in rule.check_project(project)])
            if self.config.report_unused_suppressions or any(c.strip().upper() == "H000" for c in self.config.select):
                from hardener.unused import unused_suppressions

                ran = {r.code for r in self.rules}
                result.findings += unused_suppressions(project, suppressions, ran)
            if not project.is_flask_project():
                errors.append((".", f"no Flask app found under {self.root} ({len(python)} Python files scanned)"))
        if on_progress:
            on_progress(done, total, "")
        result.files_scanned = done
        result.findings.sort(key=Finding.sort_key)
        seen: dict[tuple[str, str, str], int] = {}
        for finding in reversed(result.findings):
            key = (finding.code, finding.path, finding.fingerprint)
            finding.occurrence = seen.get(key, 0)
            seen[key] = finding.occurrence + 1
        result.scan_errors = errors[live_errors:]
        errors.sort()
        return result

    def _restore(self, entry: dict, inputs, python, templates, errors, on_progress, on_finding) -> ScanResult:
        """The result of an earlier scan of exactly these inputs, streamed like a scan's."""
        from hardener.cache import Restorer

        data = entry["result"]
        for path, text in data.get("texts", {}).items():
            if path in python:
                python[path].__dict__["text"] = text  # what libcst gave for this content: the lines reports show
        project = Project(str(self.root), python, templates, self.workspace, errors, self.config)
        restorer = Restorer(lambda: Scanner(self.root, self.config, Workspace(self.root),
                                            rules=[type(r) for r in self.rules]).run())
        result = ScanResult(self.root, project, errors=errors, cached=True, cache_inputs=inputs, cache=self.cache,
                            restorer=restorer)
        result.findings = [restorer.finding(f) for f in data["findings"]]
        result.suppressed = [restorer.finding(f) for f in data["suppressed"]]
        result.baselined = [restorer.finding(f) for f in data["baselined"]]
        result.scan_errors = [tuple(e) for e in data["errors"]]
        result.files_scanned = data["files_scanned"]
        paths = [*python, *templates]
        if on_progress:
            for done, rel in enumerate(paths):
                on_progress(done, len(paths), rel)
        if on_finding:
            for finding in result.findings:
                on_finding(finding)
        if on_progress:
            on_progress(len(paths), len(paths), "")
        errors.extend(result.scan_errors)
        errors.sort()
        return result

    def _check_file(self, file: PythonFile, project: Project, wanted: list[Rule], errors, emit) -> None:
        """Run the file rules whose triggers matched, parsing the file only if
        one of them needs its tree (many return early, e.g. on a module with no
        routes). The results are exactly those of parsing first: rules run only
        on files that parse, and the file's syntax error is reported."""
        found: list[Finding] = []
        problems: list[tuple[str, str]] = []
        for rule in wanted:
            self._guarded(rule, file.path, problems, lambda: found.extend(rule.check_file(file, project)))
        if not file.parsed and file.parse_error is None and (found or problems or not file.syntax_ok()):
            try:
                file.module  # decides: rules only count on a file that parses
            except ParseError:
                pass
        if file.parse_error is not None and not file.parsed:
            return  # what the rules said about a file that does not parse is dropped, as if never run
        errors.extend(problems)
        for finding in found:
            emit(finding)

    @staticmethod
    def _guarded(rule, rel: str, errors: list[tuple[str, str]], run: Callable[[], object]) -> None:
        """A rule that fails on odd code becomes one error line; the scan goes on."""
        try:
            run()
        except RecursionError:
            errors.append((rel, f"{rule.code}: too deeply nested to analyse"))
        except Exception as exc:  # a rule bug must not cost the user the rest of the scan
            errors.append((rel, f"{rule.code}: internal error: {exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))

    def _read(self, rel: str, errors: list[tuple[str, str]]) -> bytes | None:
        try:
            size = self.workspace.abspath(rel).stat().st_size if rel not in self.workspace.pending else 0
            if size > MAX_FILE_BYTES:
                errors.append((rel, f"skipped: {size / 1e6:.1f} MB is larger than the {MAX_FILE_BYTES // 10**6} MB limit"))
                return None
            data = self.workspace.read(rel)
        except PermissionError:
            errors.append((rel, "permission denied: cannot read the file"))
            return None
        except OSError as exc:
            errors.append((rel, f"cannot read: {exc.strerror or exc}"))
            return None
        return data

    def _keep(self, finding: Finding) -> bool:
        cfg = self.config
        if finding.severity < SEVERITIES.index(cfg.min_severity) + 1:
            return False
        if finding.confidence < CONFIDENCES.index(cfg.min_confidence) + 1:
            return False
        for glob, codes in cfg.per_file_ignores.items():
            if fnmatch.fnmatch(finding.path, glob) and any(
                finding.code.startswith(c.upper()) or c.upper() == "ALL" or c.lower() in (finding.category, finding.name)
                for c in codes
            ):
                return False
        return True


def scan(root: Path, config: Config | None = None, workspace: Workspace | None = None, *, cache=None,
         **kwargs) -> ScanResult:
    return Scanner(root, config, workspace, cache=cache).run(**kwargs)
