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
from hardener.parts import Part, PartFiles, Whole, file_links, module_index, split
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
    restorer: object | None = field(default=None, repr=False)  # builds the fixes of findings from the cache
    parts: list["PartRecord"] = field(default_factory=list, repr=False)  # what each part of the project gave
    links: dict = field(default_factory=dict, repr=False)  # what hardener.parts.file_links gave, by path


@dataclass(eq=False)
class PartRecord:
    """What one part of the project gave (hardener.parts), scanned here or restored from the cache."""

    part: Part
    project: Project | None
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    files_scanned: int = 0
    flask: bool = False
    cancelled: bool = False
    restored: bool = False
    # what the cache checks before it reuses the record
    queries: dict[str, str | None] = field(default_factory=dict)  # module lookups and their answers
    missed: set[str] = field(default_factory=set)  # paths looked up that no file had
    reads: dict[str, str | None] = field(default_factory=dict)  # other files read, by content
    paths: set[str] = field(default_factory=set)  # paths looked at on disk
    texts: dict[str, str] = field(default_factory=dict)  # restored: the source text of the findings' files
    stored: dict | None = None  # restored: the cache's entry for it


def _reading_into(ws, record: PartRecord, compute):
    """A fix's compute whose reads through the workspace count as its part's."""

    def tracked():
        outer, outer_paths = ws.reads, ws.looked_up
        ws.reads, ws.looked_up = record.reads, record.paths
        try:
            return compute()
        finally:
            ws.reads, ws.looked_up = outer, outer_paths

    return tracked


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


_RECENT_TEMPLATES: "weakref.WeakValueDictionary[tuple[str, str], TemplateFile]" = weakref.WeakValueDictionary()


def _template_file(root: Path, rel: str, data: bytes) -> TemplateFile:
    """A template of a recent scan with the same content (its Jinja check is done), or a new one."""
    key = (str(root), rel)
    old = _RECENT_TEMPLATES.get(key)
    if old is not None and old.data == data:
        return old
    new = _RECENT_TEMPLATES[key] = TemplateFile(rel, data)
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
                    read[rel] = _template_file(self.root, rel, data)
        finally:
            if self.cache is not None:
                ws.quiet = False
        project = Project(str(self.root), python, read, ws, errors, self.config)
        result = ScanResult(self.root, project, errors=errors, cache=self.cache)
        index = module_index(python)
        inputs = None
        if self.cache is not None:
            from hardener.apply import _sha
            from hardener.cache import Inputs

            inputs = Inputs({**{f"py:{rel}": _sha(f.data) for rel, f in python.items()},
                             **{f"tpl:{rel}": _sha(t.data) for rel, t in read.items()}}, ws)
            result.cache_inputs = inputs
            result.links = self.cache.links(inputs)
        for rel, file in python.items():  # kept with the file too, for the next scan in this process
            if rel not in result.links:
                result.links[rel] = file.memo("parts.file_links", lambda: file_links(file.path, file.data))
        static = split({rel: f.data for rel, f in python.items()}, list(read), index, result.links)
        queue = list(static)
        order = {path: i for i, path in enumerate([*python, *read])}
        reused: dict[int, PartRecord] = {}
        if inputs is not None:
            result.restorer = self._restorer()
            position = {id(p): i for i, p in enumerate(queue)}
            for covered, record in self.cache.reusable(inputs, static, index, result.restorer):
                # a stored part may be several static ones merged: it takes the place of the first
                places = sorted(position[id(p)] for p in covered)
                for i in places:
                    queue[i] = None
                queue[places[0]] = record.part
                reused[id(record.part)] = record
            queue = [p for p in queue if p is not None]
        live_errors = len(errors)  # discovery, configuration and reading: checked again on every run
        suppressions: dict[str, Suppressions] = {}
        baseline = self.config.baseline_data.matcher() if self.config.baseline_data is not None else None

        def emit(record: PartRecord, finding: Finding) -> None:
            if not self._keep(finding):
                return
            sup = suppressions.get(finding.path)
            if sup is None:
                source = python.get(finding.path) or read.get(finding.path)
                text = source.data.decode("utf-8", "replace") if source is not None else ""
                kind = "python" if finding.path in python else "template" if finding.path in read else None
                sup = suppressions[finding.path] = Suppressions.parse(text, kind, self.config.tool_suppressions)
            if sup.suppresses(finding.code, finding.line, finding.end_line):
                record.suppressed.append(finding)
                return
            if baseline is not None and baseline.take(finding):
                record.baselined.append(finding)
                return
            record.findings.append(finding)
            if on_finding and not everything_reused:
                on_finding(finding)

        def forget(record: PartRecord) -> None:
            """Undo what emitting the findings of a part scanned again did (a
            restored part's findings were not emitted: the cache split them)."""
            if record.restored:
                return
            for finding in record.baselined:
                baseline.give_back(finding)
            for path in [*record.part.python, *record.part.templates]:
                suppressions.pop(path, None)  # they remember what they hid

        # The parts, in rounds: each part of a round is scanned; those whose lookups
        # escaped are merged with the parts they reached (all of a round's at once,
        # so a part many others reach is scanned again once, not once for each)
        # and the merged parts are the next round. The rest are done.
        owner = {path: part for part in queue for path in [*part.python, *part.templates]}
        everything_reused = len(reused) == len(queue)  # the findings are streamed in their order at the end
        total = len(python) + len(read)
        progress = [0]
        done: dict[int, PartRecord] = {}  # by id of the part
        unused = self.config.report_unused_suppressions or any(c.strip().upper() == "H000" for c in self.config.select)
        while queue and not result.cancelled:
            reached: dict[int, set[str]] = {}  # id of a part scanned in this round -> the paths it escaped to
            for part in queue:
                record = reused.get(id(part))
                if record is not None:
                    for path, text in record.texts.items():
                        if path in python:
                            python[path].__dict__["text"] = text  # what libcst gave for this content: the lines reports show
                    for finding in record.findings:
                        if on_finding and not everything_reused:
                            on_finding(finding)
                    progress[0] += record.files_scanned
                    if on_progress:
                        on_progress(progress[0], total, "")
                else:
                    record = PartRecord(part, None)
                    escapes = self._scan_part(record, python, read, index, lambda f, r=record: emit(r, f),
                                              on_progress, progress, total)
                    if escapes and not record.cancelled:
                        reached[id(part)] = escapes
                    elif unused:
                        from hardener.unused import unused_suppressions

                        record.findings += unused_suppressions(record.project, suppressions, {r.code for r in self.rules})
                    result.cancelled = record.cancelled
                done[id(part)] = record
                if result.cancelled:
                    break
            if not reached or result.cancelled:
                break
            # the merged parts: each escaping part with the parts it reached, transitively
            merged_into: dict[int, int] = {}  # id of a part -> id of the part standing for its group

            def find(i: int) -> int:
                while merged_into.get(i, i) != i:
                    i = merged_into[i]
                return i

            parts_by_id = {id(owner[path]): owner[path] for path in owner}
            touched = set(reached)  # the escaping parts and every part one reached
            for i, escapes in reached.items():
                for path in escapes:
                    j = id(owner[path])
                    touched.add(j)
                    a, b = find(i), find(j)
                    if a != b:
                        merged_into[max(a, b)] = min(a, b)
            groups: dict[int, list[Part]] = {}
            for i in touched:
                groups.setdefault(find(i), []).append(parts_by_id[i])
            queue = []
            for members_of in groups.values():
                for old in members_of:
                    gone = done.pop(id(old), None)
                    if gone is not None:
                        forget(gone)
                        progress[0] -= gone.files_scanned
                members = sorted({path for p in members_of for path in [*p.python, *p.templates]}, key=order.__getitem__)
                merged = Part([m for m in members if m in python], [m for m in members if m not in python])
                for path in members:
                    owner[path] = merged
                queue.append(merged)
            queue.sort(key=lambda part: order[(part.python or part.templates)[0]])
        result.parts = sorted(done.values(), key=lambda r: order[(r.part.python or r.part.templates)[0]])
        for record in result.parts:
            result.findings += record.findings
            result.suppressed += record.suppressed
            result.baselined += record.baselined
            errors.extend(record.errors)
            result.files_scanned += record.files_scanned
        if not result.cancelled and not any(record.flask for record in result.parts):
            errors.append((".", f"no Flask app found under {self.root} ({len(python)} Python files scanned)"))
        if on_progress:
            on_progress(result.files_scanned, total, "")
        result.findings.sort(key=Finding.sort_key)
        seen: dict[tuple[str, str, str], int] = {}
        for finding in reversed(result.findings):
            key = (finding.code, finding.path, finding.fingerprint)
            finding.occurrence = seen.get(key, 0)
            seen[key] = finding.occurrence + 1
        result.scan_errors = errors[live_errors:]
        result.cached = everything_reused and bool(reused)
        if on_finding and everything_reused:
            for finding in result.findings:
                on_finding(finding)
        errors.sort()
        return result

    def _restorer(self):
        """Builds the fixes of findings restored from the cache (from a scan without it, when needed)."""
        from hardener.cache import Restorer

        return Restorer(lambda: Scanner(self.root, self.config, Workspace(self.root),
                                        rules=[type(r) for r in self.rules]).run())

    def _scan_part(self, record: PartRecord, python, read, index, emit, on_progress, progress, total) -> set[str]:
        """One part of the project, scanned as a project of its own into its
        record (``emit`` files each finding there); the paths of other parts
        its lookups reached are returned (then the record is of no use)."""
        part = record.part
        ws = self.workspace
        tracking = self.cache is not None
        if tracking:
            ws.reads, ws.looked_up = {}, set()
        whole = Whole(index)
        problems: list[tuple[str, str]] = []
        templates: dict[str, TemplateFile] = {}
        for rel in part.templates:
            problem = read[rel].syntax_error()
            if problem:
                problems.append((rel, problem))  # rules leave a template they cannot read alone
            else:
                templates[rel] = read[rel]
        own = {*part.python, *part.templates}
        project = Project(str(self.root), PartFiles({p: python[p] for p in part.python}, whole, python, own),
                          PartFiles(templates, whole, read, own), ws, problems, self.config, whole=whole)
        record.project = project
        if tracking:
            inner = emit

            def emit(finding: Finding) -> None:
                fix = finding.fix
                while fix is not None:  # its reads count for this part, whenever it is computed
                    fix.compute = _reading_into(ws, record, fix.compute)
                    fix = fix.alternative
                inner(finding)
        file_rules = [r for r in self.rules if type(r).check_file is not Rule.check_file]
        template_rules = [r for r in self.rules if type(r).check_template is not Rule.check_template]
        project_rules = [r for r in self.rules if type(r).check_project is not Rule.check_project]
        start = progress[0]
        for rel in part.python:
            if self.cancel.is_set():
                record.cancelled = True
                break
            file = python[rel]
            if on_progress:
                on_progress(progress[0], total, rel)
            project.in_model(rel)  # test and dormant modules are parsed only when a rule needs them
            wanted = [rule for rule in file_rules if rule.wants(file.data)]
            if wanted and file.parse_error is None:
                self._check_file(file, project, wanted, problems, emit)
            elif file.parsed:  # the facts pass met a problem in a tree (too deep: reported below)
                for rule in wanted:
                    self._guarded(rule, rel, problems, lambda: [emit(f) for f in rule.check_file(file, project)])
            if file.parse_error is not None:
                problems.append((rel, file.parse_error))
            progress[0] += 1
        if not record.cancelled:
            for rel, template in templates.items():
                if on_progress:
                    on_progress(progress[0], total, rel)
                for rule in template_rules:
                    if rule.template_triggers and not any(t in template.text for t in rule.template_triggers):
                        continue
                    self._guarded(rule, rel, problems, lambda: [emit(f) for f in rule.check_template(template, project)])
                progress[0] += 1
            progress[0] += len(part.templates) - len(templates)
            for rule in project_rules:
                self._guarded(rule, ".", problems, lambda: [emit(f) for f in rule.check_project(project)])
            record.flask = project.is_flask_project()
        record.files_scanned = progress[0] - start
        record.errors = problems
        record.queries, record.missed = whole.queries, whole.missed
        if tracking:
            record.reads, record.paths = ws.reads, ws.looked_up
            ws.reads, ws.looked_up = {}, set()
        return whole.escapes

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
