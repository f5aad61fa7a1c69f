"""The independent parts of a project: each is analysed as a project of its own.

A repository often holds apps that have nothing to do with each other: the
services of a monorepo, a vendored library beside the site. A part is a set of
files that can see each other: a module and the modules it imports, a package's
modules, a templates folder and the modules of the folder that holds it. What
the rules decide about one part (its apps, their blueprints, configuration and
templates) cannot depend on another part, so a change in one file needs only
its part scanned again (``hardener.cache``), and the rules of one app never
see another app's config classes, templates or command-line apps.

The split is made in two steps:

* **statically**, from the bytes of each file (``links_of``): its import
  statements, resolved as ``Project.find_module`` resolves them, its package's
  ``__init__``, and for a template, the modules of the folder that holds its
  ``templates`` folder. A module that names a template folder or a Jinja loader
  of its own sees every template.
* **dynamically**: a part's project looks things up in the whole project
  (``Project.find_module``, ``project.python[path]``, ``path in
  project.templates``...); a lookup whose answer lies in another part is an
  *escape* (``Whole.escapes``). After each round of parts, the scanner merges
  every part that escaped with the parts it reached and scans the merged parts
  again, so every lookup gives what it gives in the whole project.
"""

from __future__ import annotations

import posixpath
import re
import sys
from dataclasses import dataclass, field

# import statements: `from .x.y import a, b` / `import a.b as c, d` (names on the first line)
_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import\b([^\n#;]*)|import[ \t]+([^\n#;]*))", re.M)
# what puts templates where the folder next to the module would not: any template may be this module's
_OWN_TEMPLATE_FOLDER = re.compile(rb"template_folder|jinja_loader")
_JINJA_LOADER = re.compile(rb"(?:FileSystem|Choice|Prefix|Package|Dict|Function|Module)Loader")


def is_test_path(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return (
        any(p in ("tests", "test", "testing") for p in parts[:-1])
        or name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )


def module_name_for(path: str) -> str:
    name = path[:-3] if path.endswith(".py") else path
    if name.endswith("/__init__"):
        name = name[: -len("/__init__")]
    return name.replace("/", ".")


def module_index(paths) -> dict[str, str]:
    """dotted module name -> path, including names relative to source roots
    (``src/app/views.py`` is ``app.views`` and ``views`` too; the shallowest
    path wins). A name relative to a source root that starts with a module of
    the standard library is left out: ``import os`` means Python's ``os``, not
    ``vendor/cpython/os.py``."""
    index: dict[str, str] = {}
    stdlib = sys.stdlib_module_names
    for path in sorted(paths, key=lambda p: p.count("/")):
        parts = module_name_for(path).split(".")
        for i in range(len(parts)):
            if i and parts[i] in stdlib:
                continue
            index.setdefault(".".join(parts[i:]), path)
    return index


def imported_names(path: str, data: bytes) -> set[str]:
    """The dotted names the module's import statements may resolve to
    (relative imports made absolute); a superset: imports in strings count too."""
    names: set[str] = set()
    package = module_name_for(path).split(".")
    if not path.endswith("/__init__.py") and path != "__init__.py":
        package = package[:-1]
    for m in _IMPORT.finditer(data):
        dots, module, imported, plain = m.groups()
        if plain is not None:
            for item in plain.split(b","):
                name = item.split(b" as ")[0].strip().rstrip(b"\\").strip()
                if name:
                    names.add(name.decode("utf-8", "replace"))
            continue
        base = module.decode("utf-8", "replace")
        if dots:
            up = len(dots) - 1
            if up > len(package):
                continue
            base = ".".join(package[: len(package) - up] + ([base] if base else []))
        if not base:
            continue
        names.add(base)
        for item in imported.strip().lstrip(b"(").split(b","):
            name = item.split(b" as ")[0].strip().rstrip(b")\\").strip()
            if name and name != b"*":
                names.add(f"{base}.{name.decode('utf-8', 'replace')}")
    return names


def file_links(path: str, data: bytes) -> tuple[list[str], bool]:
    """What ``split`` reads off one module: the names its imports may resolve to,
    and whether it may put templates anywhere (a template folder or Jinja loader
    of its own)."""
    own = bool(_OWN_TEMPLATE_FOLDER.search(data) or b"jinja" in data and _JINJA_LOADER.search(data))
    return sorted(imported_names(path, data)), own


@dataclass
class Part:
    python: list[str]
    templates: list[str]


@dataclass
class Whole:
    """The whole project, as the part being scanned sees it: what its lookups
    find there. ``escapes`` are the paths they found outside the part; the
    cache keeps ``queries`` (module lookups and their answers) and ``missed``
    (paths no file had) to tell whether a stored part still holds."""

    index: dict[str, str]  # the whole project's module_index
    escapes: set[str] = field(default_factory=set)
    queries: dict[str, str | None] = field(default_factory=dict)
    missed: set[str] = field(default_factory=set)


class PartFiles(dict):
    """A part's files by path. Looking up a path of the whole project that is
    not in the part records it as an escape (and answers as for a missing file)."""

    def __init__(self, files: dict, whole: Whole, everything: dict, own: set[str]):
        super().__init__(files)
        self._whole = whole
        self._everything = everything
        self._own = own  # the part's files, those left out (a template that does not parse) included

    def _missed(self, key) -> None:
        if key in self._own:
            return
        if key in self._everything:
            self._whole.escapes.add(key)
        elif isinstance(key, str):
            self._whole.missed.add(key)

    def __contains__(self, key) -> bool:
        if dict.__contains__(self, key):
            return True
        self._missed(key)
        return False

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        self._missed(key)
        return default

    def __missing__(self, key):
        self._missed(key)
        raise KeyError(key)


class _Sets:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def split(python: dict[str, bytes], templates: list[str], index: dict[str, str],
          links: dict[str, tuple[list[str], bool]]) -> list[Part]:
    """The static parts of a project, in the order of their first file.
    ``python`` maps each module's path to its bytes; ``links`` holds what
    ``file_links`` gave for some of them already (the rest are added)."""
    paths = list(python)
    nodes = {p: i for i, p in enumerate(paths)}
    tnodes = {t: len(paths) + i for i, t in enumerate(templates)}
    every_template = len(paths) + len(templates)  # a node every template is linked to, when one needs it
    sets = _Sets(every_template + 1)
    by_dir: dict[str, list[int]] = {}
    for path, i in nodes.items():
        by_dir.setdefault(posixpath.dirname(path), []).append(i)
    own_folder = False
    tests: dict[str, int] = {}  # folder -> a test module there
    for path, i in nodes.items():
        data = python[path]
        folder = posixpath.dirname(path)
        if is_test_path(path):
            # pytest hands a folder's modules the fixtures of its conftest.py, with no import
            sets.union(i, tests.setdefault(folder, i))
        init = f"{folder}/__init__.py" if folder else "__init__.py"
        if init in nodes:
            sets.union(i, nodes[init])
            if path == init and folder:
                parent = posixpath.dirname(folder)
                parent_init = f"{parent}/__init__.py" if parent else "__init__.py"
                if parent_init in nodes:
                    sets.union(i, nodes[parent_init])
        found = links.get(path)
        if found is None:
            found = links[path] = file_links(path, data)
        names, own = found
        for name in names:
            target = index.get(name)
            if target is not None:
                sets.union(i, nodes[target])
        if own:
            sets.union(i, every_template)
            own_folder = True
    conftests = {posixpath.dirname(p): i for p, i in nodes.items() if posixpath.basename(p) == "conftest.py"}
    for folder, i in tests.items():  # and those of the conftest.py files of the folders above
        while folder:
            folder = posixpath.dirname(folder)
            if folder in conftests:
                sets.union(i, conftests[folder])
    for template, j in tnodes.items():
        home = template.rsplit("/templates/", 1)[0] if "/templates/" in template else ""
        if template.startswith("templates/"):
            home = ""
        while True:
            if home in by_dir:
                for i in by_dir[home]:
                    sets.union(j, i)
                break
            if not home:
                sets.union(j, every_template)
                break
            home = posixpath.dirname(home)
        if own_folder:
            sets.union(j, every_template)
    groups: dict[int, Part] = {}
    for path, i in nodes.items():
        groups.setdefault(sets.find(i), Part([], [])).python.append(path)
    for template, j in tnodes.items():
        groups.setdefault(sets.find(j), Part([], [])).templates.append(template)
    return list(groups.values())
