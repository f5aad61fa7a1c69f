"""Add a requirement to the file that really holds the project's dependencies.

Where, in order:

1. ``pyproject.toml`` ``[project].dependencies`` (PEP 621), or
   ``[tool.poetry.dependencies]``; when ``[project]`` lists ``dependencies`` in
   ``dynamic``, the file the build backend reads them from (setuptools'
   ``[tool.setuptools.dynamic]``, hatch-requirements-txt's
   ``[tool.hatch.metadata.hooks.requirements_txt]``);
2. a ``Pipfile``'s ``[packages]``;
3. a requirements file (``requirements.in`` before ``requirements.txt``, and
   the files a top-level one includes with ``-r``);
4. a ``[project]`` table without dependencies gets a ``dependencies`` array.

TOML is edited with tomlkit so comments, order and formatting stay. Names are
compared after PEP 503 normalisation and never duplicated: an unconditional
entry that lacks an extra the fix needs gets the extra added; an entry that
only applies under an environment marker is kept and reported. A
requirements file pinned with ``--hash`` or compiled by pip-tools / uv is not
edited: the outcome names the exact command to run. A lock file that the edit
makes stale (poetry.lock, uv.lock, pdm.lock, Pipfile.lock, a compiled
requirements.txt) is named with the command that refreshes it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

import tomlkit

from hardener.fixkit import normalize_name, requirement_name  # noqa: F401  (re-exported)

REQUIREMENT_FILES = (
    "requirements.in", "requirements.txt",
    "requirements/base.in", "requirements/base.txt",
    "requirements/main.in", "requirements/main.txt",
    "requirements/prod.in", "requirements/prod.txt",
    "requirements/production.in", "requirements/production.txt",
    "requirements/common.in", "requirements/common.txt",
)

# lock file -> (the tool that owns it, the command that refreshes it)
PYPROJECT_LOCKS = (
    ("poetry.lock", "`poetry lock` (Poetry 1.x: `poetry lock --no-update`)"),
    ("uv.lock", "`uv lock`"),
    ("pdm.lock", "`pdm lock`"),
)


@dataclass
class Outcome:
    changed: bool = False
    already: bool = False
    message: str = ""
    path: str | None = None
    stale: list[str] = field(default_factory=list)  # lock files made out of date, with the command to refresh


# --------------------------------------------------------------------------- PEP 508, the parts we need

_REQ = re.compile(
    r"""^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*
        (?:\[(?P<extras>[^\]]*)\])?\s*
        (?P<rest>[^;]*?)\s*
        (?:;\s*(?P<marker>.*?))?\s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Requirement:
    name: str
    extras: frozenset[str] = frozenset()
    spec: str = ""  # version specifier or "@ url"
    marker: str | None = None

    @property
    def norm(self) -> str:
        return normalize_name(self.name)

    def with_extras(self, extras: frozenset[str]) -> "Requirement":
        return Requirement(self.name, self.extras | extras, self.spec, self.marker)

    def __str__(self) -> str:
        out = self.name
        if self.extras:
            out += "[" + ",".join(sorted(self.extras)) + "]"
        if self.spec:
            out += (" " if self.spec.startswith("@") else "") + self.spec
        if self.marker:
            out += f"; {self.marker}"
        return out


def parse_requirement(text: str) -> Requirement | None:
    """A PEP 508 string (no options, no comment) or None."""
    m = _REQ.match(text)
    if not m:
        return None
    extras = frozenset(normalize_name(e.strip()) for e in (m.group("extras") or "").split(",") if e.strip())
    return Requirement(m.group("name"), extras, (m.group("rest") or "").strip(), (m.group("marker") or None))


def _requirement_line(line: str) -> Requirement | None:
    """A requirement from a requirements-file line: comments, options and hashes stripped."""
    line = re.split(r"(?:^|\s)#", line, maxsplit=1)[0]
    line = re.split(r"\s(?:--hash|--global-option|--config-settings|--install-option)\b", line, maxsplit=1)[0].strip()
    if line.endswith("\\"):  # continued on the next line (hashes, options)
        line = line[:-1].strip()
    if not line or line.startswith("-"):
        return None
    return parse_requirement(line)


# --------------------------------------------------------------------------- entry point


def add_requirement(builder, name: str, requirement: str) -> Outcome:
    want = parse_requirement(requirement) or Requirement(name)
    pyproject = builder.current("pyproject.toml")
    project_table_without_deps = False
    dynamic_unknown = False
    if pyproject is not None:
        try:
            doc = tomlkit.parse(pyproject.decode("utf-8"))
        except Exception:
            return Outcome(message=f"pyproject.toml is not valid TOML; add {requirement!r} to your dependencies by hand")
        project = doc.get("project")
        dynamic = list(project.get("dynamic", [])) if isinstance(project, dict) else []
        if isinstance(project, dict) and "dependencies" in project and "dependencies" not in dynamic:
            return _locks(builder, _add_pep621(builder, doc, project["dependencies"], want))
        poetry = doc.get("tool", {}).get("poetry", {})
        if isinstance(poetry, dict) and "dependencies" in poetry:
            return _locks(builder, _add_table(builder, doc, "pyproject.toml", poetry["dependencies"], want, poetry=True))
        if "dependencies" in dynamic:
            files = _dynamic_files(doc)
            for path in files:
                outcome = _add_to_requirements(builder, path, want)
                if outcome is not None:
                    return outcome
            dynamic_unknown = not files
        elif isinstance(project, dict):
            project_table_without_deps = True
    pipfile = builder.current("Pipfile")
    if pipfile is not None:
        try:
            doc = tomlkit.parse(pipfile.decode("utf-8"))
        except Exception:
            return Outcome(message=f"Pipfile is not valid TOML; add {requirement!r} to its [packages] by hand")
        if "packages" not in doc:
            doc["packages"] = tomlkit.table()
        outcome = _add_table(builder, doc, "Pipfile", doc["packages"], want, poetry=False)
        if outcome.changed and builder.current("Pipfile.lock") is not None:
            outcome.stale.append("Pipfile.lock is now out of date: run `pipenv lock`")
        return _finish(outcome)
    for path in REQUIREMENT_FILES:
        outcome = _add_to_requirements(builder, path, want)
        if outcome is not None:
            return outcome
    if project_table_without_deps:
        doc = tomlkit.parse(builder.current("pyproject.toml").decode("utf-8"))
        array = tomlkit.array()
        array.append(str(want))
        doc["project"]["dependencies"] = array
        builder.set("pyproject.toml", tomlkit.dumps(doc).encode("utf-8"))
        return _locks(builder, Outcome(changed=True, path="pyproject.toml"))
    if dynamic_unknown:
        return Outcome(message=(
            f"[project] dependencies are dynamic and hardener cannot tell which file your build backend reads "
            f"them from: add {str(want)!r} there by hand"
        ))
    return Outcome(message=f"no dependency file found: add {str(want)!r} to your project's dependencies")


def _finish(outcome: Outcome) -> Outcome:
    """Fold the lock-file notes into the message the user sees."""
    parts = [p for p in [outcome.message, *outcome.stale] if p]
    outcome.message = "; ".join(parts)
    return outcome


def _locks(builder, outcome: Outcome) -> Outcome:
    if outcome.changed and outcome.path == "pyproject.toml":
        for lock, command in PYPROJECT_LOCKS:
            if builder.current(lock) is not None:
                outcome.stale.append(f"{lock} is now out of date: run {command}")
    return _finish(outcome)


def _dynamic_files(doc) -> list[str]:
    tool = doc.get("tool", {})
    files = tool.get("setuptools", {}).get("dynamic", {}).get("dependencies", {}).get("file", [])
    if not files:
        files = tool.get("hatch", {}).get("metadata", {}).get("hooks", {}).get("requirements_txt", {}).get("files", [])
    if isinstance(files, str):
        files = [files]
    return [posixpath.normpath(str(f)) for f in files]


def _conditional(marker: str | None, name: str) -> str:
    return (f"{name} is only a dependency when `{marker}`; it was not added again: make sure it is installed "
            "wherever the app runs")


# --------------------------------------------------------------------------- PEP 621


def _add_pep621(builder, doc, deps, want: Requirement) -> Outcome:
    unconditional = None
    conditional = None
    for i, item in enumerate(deps):
        req = parse_requirement(str(item))
        if req is None or req.norm != want.norm:
            continue
        if req.marker:
            conditional = conditional or req
            continue
        unconditional = (i, req)
        break
    if unconditional is not None:
        i, req = unconditional
        if want.extras <= req.extras:
            return Outcome(already=True, path="pyproject.toml")
        deps[i] = str(req.with_extras(want.extras))
        builder.set("pyproject.toml", tomlkit.dumps(doc).encode("utf-8"))
        return Outcome(changed=True, path="pyproject.toml")
    if conditional is not None and not want.marker:
        return Outcome(already=True, path="pyproject.toml", message=_conditional(conditional.marker, conditional.name))
    deps.append(str(want))
    _tidy_multiline_array(deps)
    builder.set("pyproject.toml", tomlkit.dumps(doc).encode("utf-8"))
    return Outcome(changed=True, path="pyproject.toml")


def _tidy_multiline_array(array) -> None:
    """Keep a one-item-per-line array one item per line after an append."""
    try:
        text = array.as_string()
    except Exception:
        return
    if "\n" in text:
        array.multiline(True)


# --------------------------------------------------------------------------- Poetry / Pipfile tables


def _add_table(builder, doc, path: str, table, want: Requirement, *, poetry: bool) -> Outcome:
    """``name = "spec"`` or ``name = {version = ..., extras = [...], markers = ...}``."""
    for key in list(table.keys()):
        if normalize_name(str(key)) != want.norm:
            continue
        value = table[key]
        if isinstance(value, list):  # Poetry "multiple constraints": one per environment
            return Outcome(already=True, path=path, message=_conditional("several constraints", str(key)))
        if isinstance(value, dict):
            marker = value.get("markers") or value.get("python") or value.get("platform") or value.get("sys_platform")
            if marker and not want.marker:
                return Outcome(already=True, path=path, message=_conditional(str(marker), str(key)))
            have = frozenset(normalize_name(str(e)) for e in value.get("extras", []))
            if want.extras <= have:
                return Outcome(already=True, path=path)
            extras = tomlkit.array()
            for e in sorted(have | want.extras):
                extras.append(e)
            value["extras"] = extras
        else:
            if not want.extras:
                return Outcome(already=True, path=path)
            inline = tomlkit.inline_table()
            inline["version"] = str(value)
            extras = tomlkit.array()
            for e in sorted(want.extras):
                extras.append(e)
            inline["extras"] = extras
            table[key] = inline
        builder.set(path, tomlkit.dumps(doc).encode("utf-8"))
        return Outcome(changed=True, path=path)
    spec = want.spec if want.spec and not want.spec.startswith("@") else "*"
    if want.extras or want.marker:
        inline = tomlkit.inline_table()
        inline["version"] = spec
        if want.extras:
            extras = tomlkit.array()
            for e in sorted(want.extras):
                extras.append(e)
            inline["extras"] = extras
        if want.marker:
            inline["markers"] = want.marker
        table[want.name] = inline
    else:
        table[want.name] = spec
    builder.set(path, tomlkit.dumps(doc).encode("utf-8"))
    return Outcome(changed=True, path=path)


# --------------------------------------------------------------------------- requirements files

_COMPILED = re.compile(r"autogenerated by (pip-compile|uv)", re.IGNORECASE)
_INCLUDE = re.compile(r"^\s*(?:-r|--requirement)(?:\s+|=)(\S+)")


def compile_command(text: str) -> str | None:
    """The command a compiled requirements file says it was made with, if any."""
    lines = text.splitlines()
    for i, line in enumerate(lines[:30]):
        if _COMPILED.search(line):
            for follow in lines[i + 1:i + 8]:
                cmd = follow.lstrip("#").strip()
                if cmd.startswith(("pip-compile", "uv pip compile", "uv export")):
                    return cmd
            return "pip-compile" if "pip-compile" in line else "uv pip compile"
    return None


def _included(builder, path: str, seen: set[str]) -> list[str]:
    """``path`` and the files it includes with -r, recursively (those that exist)."""
    if path in seen:
        return []
    seen.add(path)
    data = builder.current(path)
    if data is None:
        return []
    out = [path]
    for line in data.decode("utf-8", "replace").splitlines():
        m = _INCLUDE.match(line)
        if m:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), m.group(1)))
            out += _included(builder, target, seen)
    return out


def _add_to_requirements(builder, path: str, want: Requirement) -> Outcome | None:
    data = builder.current(path)
    if data is None:
        return None
    files = _included(builder, path, set())
    texts = {p: builder.current(p).decode("utf-8", "replace") for p in files}
    conditional = None
    for p in files:
        for number, line in enumerate(texts[p].splitlines()):
            req = _requirement_line(line)
            if req is None or req.norm != want.norm:
                continue
            if req.marker and not want.marker:
                conditional = conditional or req
                continue
            if want.extras <= req.extras:
                return Outcome(already=True, path=p)
            # the fix needs an extra the entry lacks: add it to that line (if the file may be edited)
            problem = _not_editable(p, texts[p], want)
            if problem:
                return problem
            return _rewrite_line(builder, p, texts[p], number, req, want)
    if conditional is not None:
        return Outcome(already=True, path=path, message=_conditional(conditional.marker, conditional.name))
    text = texts[path]
    target = path
    own = [ln for ln in text.splitlines() if _requirement_line(ln) is not None]
    if not own and len(files) > 1:
        target = files[1]  # a file made only of -r lines: add to the first file it includes
        text = texts[target]
    problem = _not_editable(target, text, want)
    if problem:
        return problem
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith(("\n", "\r")):
        text += newline
    text += str(want) + newline
    builder.set(target, text.encode("utf-8"))
    return _compiled_sibling(builder, Outcome(changed=True, path=target), target)


def _not_editable(path: str, text: str, want: Requirement) -> Outcome | None:
    command = compile_command(text)
    if command:
        source = _compile_source(command, path)
        return Outcome(message=(
            f"{path} is compiled, so hardener did not edit it: add {str(want)!r} to {source} "
            f"and run `{command}`"
        ))
    if re.search(r"(?m)(^|\s)--hash[=\s]", text) or "--require-hashes" in text:
        return Outcome(message=(
            f"{path} pins every package with --hash, so hardener did not edit it: add {str(want)!r} to the file "
            f"it is generated from (e.g. requirements.in) and run `pip-compile --generate-hashes -o {path} requirements.in`"
        ))
    return None


def _compile_source(command: str, path: str) -> str:
    for word in command.split()[1:]:
        if word.endswith((".in", ".toml", ".txt")) and not word.startswith("-") and posixpath.basename(word) != posixpath.basename(path):
            return word
    return path[:-4] + ".in" if path.endswith(".txt") else path


def _compiled_sibling(builder, outcome: Outcome, path: str) -> Outcome:
    """Editing ``x.in`` makes a compiled ``x.txt`` stale: name the command."""
    if path.endswith(".in"):
        sibling = path[:-3] + ".txt"
        data = builder.current(sibling)
        if data is not None:
            command = compile_command(data.decode("utf-8", "replace"))
            if command or b"--hash" in data:
                outcome.stale.append(f"{sibling} is now out of date: run `{command or f'pip-compile --generate-hashes {path}'}`")
    return _finish(outcome)


def _rewrite_line(builder, path: str, text: str, number: int, req: Requirement, want: Requirement) -> Outcome:
    lines = text.splitlines(keepends=True)
    line = lines[number]
    m = re.match(r"(\s*)([A-Za-z0-9][A-Za-z0-9._-]*)(\s*\[[^\]]*\])?", line)
    if not m:
        return Outcome(message=f"add the extras {sorted(want.extras)} to {req.name} in {path} by hand")
    extras = "[" + ",".join(sorted(req.extras | want.extras)) + "]"
    lines[number] = line[:m.start(2)] + m.group(2) + extras + line[m.end():]
    builder.set(path, "".join(lines).encode("utf-8"))
    return _compiled_sibling(builder, Outcome(changed=True, path=path), path)
