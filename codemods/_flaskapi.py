"""Helpers shared by the API rules (H5xx): views and their routes, calls by
qualified name, module-level objects, how one module imports another.

Not a rule module: nothing here is registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from hardener.project import AppObject, ModuleFacts, dotted_name, is_test_path, literal_value, module_name_for, string_value

# `@<dotted name>.route(` (or .get/.post/...) in the bytes: a necessary condition
# of a view (the name may be spread over lines, wrapped in parentheses, commented)
ROUTE_DECORATOR = re.compile(
    rb"@[\s(\\]*[A-Za-z_](?:[\w\s.()\\]|#[^\n]*\n)*?\.(?:[\s\\]|#[^\n]*\n)*(?:route|get|post|put|patch|delete)"
    rb"(?:[\s\\)]|#[^\n]*\n)*\(")
ROUTE_METHODS = {"route": None, "get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE"}


@dataclass(eq=False)
class Route:
    decorator: cst.Decorator
    owner: str  # the app or blueprint variable
    path: str
    methods: list[str] | None  # None: not a literal we can read


@dataclass(eq=False)
class View:
    file: object  # PythonFile
    func: cst.FunctionDef
    routes: list[Route] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.func.name.value

    @property
    def paths(self) -> list[str]:
        return [r.path for r in self.routes]

    @property
    def methods(self) -> set[str] | None:
        """Every method the view answers, None when some route's are not literal."""
        out: set[str] = set()
        for route in self.routes:
            if route.methods is None:
                return None
            out.update(route.methods)
        return out

    @property
    def last_route_index(self) -> int:
        return max(i for i, d in enumerate(self.func.decorators) if any(r.decorator is d for r in self.routes))


def call_name(facts: ModuleFacts | None, node: cst.BaseExpression) -> str:
    """The qualified name of a callee (``jwt.decode``, ``flask_cors.CORS``), '' if unknown."""
    if facts is not None:
        return facts.qualify(node) or ""
    return dotted_name(node) or ""


def facts_or_imports(project, file) -> ModuleFacts:
    """The module's facts; for modules the project model skips (no Flask in
    them), just their imports, so names still qualify."""
    facts = project.facts_for(file.path)
    if facts is not None:
        return facts
    facts = ModuleFacts(file)
    for stmt in file.module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        full = dotted_name(alias.name) or ""
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            facts.imports[alias.asname.name.value] = full
                        else:
                            facts.imports.setdefault(full.split(".")[0], full.split(".")[0])
                elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None \
                        and not isinstance(small.names, cst.ImportStar):
                    module = dotted_name(small.module) or ""
                    for alias in small.names:
                        name = dotted_name(alias.name) or ""
                        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
                        facts.imports[local] = f"{module}.{name}"
    return facts


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def arg_value(call: cst.Call, position: int, name: str) -> cst.BaseExpression | None:
    """A call argument given by position or by keyword."""
    kw = keyword(call, name)
    if kw is not None:
        return kw.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[position].value if len(positional) > position else None


def string_list(node: cst.BaseExpression | None) -> list[str] | None:
    """``"x"`` -> ["x"], ``["a", "b"]`` / tuples / sets of strings -> the strings, else None."""
    single = string_value(node)
    if single is not None:
        return [single]
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        out = []
        for element in node.elements:
            value = string_value(element.value)
            if value is None:
                return None
            out.append(value)
        return out
    return None


def _route_of(decorator: cst.Decorator, owners: set[str]) -> Route | None:
    call = decorator.decorator
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    if method not in ROUTE_METHODS:
        return None
    owner = dotted_name(call.func.value)
    if owner is None or owner not in owners:
        return None
    path = string_value(arg_value(call, 0, "rule"))
    if path is None:
        return None
    if ROUTE_METHODS[method] is not None:
        methods = [ROUTE_METHODS[method]]
    else:
        given = keyword(call, "methods")
        methods = ["GET"] if given is None else string_list(given.value)
        if methods is not None:
            methods = [m.upper() for m in methods]
    return Route(decorator, owner, path, methods)


def route_owners(project, facts: ModuleFacts) -> set[str]:
    """Names in this module that are apps or blueprints: defined here or imported."""
    names = {a.name for a in facts.apps}
    known = project.__dict__.get("_api_rules_app_names")
    if known is None:  # computed once per scan
        known = {(module_name_for(a.file.path), a.name) for f in project.facts.values() for a in f.apps}
        project.__dict__["_api_rules_app_names"] = known
    for local, qualified in facts.imports.items():
        module, _, name = qualified.rpartition(".")
        path = project.find_module(module) if module else None
        if path is not None and (module_name_for(path), name) in known:
            names.add(local)
    return names


class _Views(cst.CSTVisitor):
    def __init__(self, file, owners: set[str]):
        self.file = file
        self.owners = owners
        self.views: list[View] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        routes = [r for d in node.decorators if (r := _route_of(d, self.owners)) is not None]
        if routes:
            self.views.append(View(self.file, node, routes))


def views_in(project, file) -> list[View]:
    """Functions decorated with ``@<app or blueprint>.route(...)`` (and .get/.post/...).
    Worked out once per module and scan: most rules ask."""
    cache = project.__dict__.setdefault("_views_in", {})
    hit = cache.get(file.path)
    if hit is not None and hit[0] is file:
        return list(hit[1])
    views: list[View] = []
    facts = project.facts_for(file.path) if not is_test_path(file.path) and ROUTE_DECORATOR.search(file.data) else None
    if facts is not None:
        owners = route_owners(project, facts)
        if owners:
            visitor = _Views(file, owners)
            file.module.visit(visitor)
            views = visitor.views
    cache[file.path] = (file, views)
    return list(views)


def all_views(project) -> Iterator[View]:
    for path in sorted(project.model_paths):
        yield from views_in(project, project.python[path])


class _Calls(cst.CSTVisitor):
    def __init__(self):
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


def calls_in(node: cst.CSTNode) -> list[cst.Call]:
    visitor = _Calls()
    node.visit(visitor)
    return visitor.calls


def module_level_instances(facts: ModuleFacts, qualified: set[str]) -> list[tuple[str, cst.Call, cst.SimpleStatementLine]]:
    """``name = Class(...)`` at module level where Class qualifies to one of
    ``qualified``, also in module-level ``if``/``try``/``with`` blocks (``if
    wtf_present: csrf = CSRFProtect()``)."""
    out = []
    for stmt in _module_level_statements(facts.file.module.body):
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name) \
                    and isinstance(small.value, cst.Call) and call_name(facts, small.value.func) in qualified:
                out.append((small.targets[0].target.value, small.value, stmt))
    return out


def _module_level_statements(body) -> Iterator[cst.SimpleStatementLine]:
    """The simple statements run at module level: in the body, and in its
    ``if``/``try``/``with`` blocks (not in functions or classes)."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield stmt
        elif isinstance(stmt, (cst.If, cst.Try, cst.TryStar, cst.With)):
            blocks = [stmt.body]
            if isinstance(stmt, cst.If):
                blocks.append(stmt.orelse)
            elif isinstance(stmt, (cst.Try, cst.TryStar)):
                blocks += [h.body for h in stmt.handlers] + [stmt.orelse, stmt.finalbody]
            for block in blocks:
                if isinstance(block, cst.If):  # elif
                    yield from _module_level_statements([block])
                    continue
                if isinstance(block, (cst.Else, cst.Finally, cst.ExceptHandler, cst.ExceptStarHandler)):
                    block = block.body
                if isinstance(block, cst.IndentedBlock):
                    yield from _module_level_statements(block.body)


def import_spec(project, from_path: str, target_path: str) -> tuple[str, int]:
    """How ``from_path`` should import from the module at ``target_path``:
    (module text, relative level), following the project's own habits."""
    target_name = module_name_for(target_path)

    def resolves(facts: ModuleFacts, module: str) -> bool:
        return project.find_module(module) == target_path

    facts = project.facts_for(from_path)
    if facts is not None:
        for stmt in _import_froms(facts.file.module):
            module = dotted_name(stmt.module) if stmt.module is not None else ""
            if stmt.relative:
                resolved = _resolve_relative(from_path, len(stmt.relative), module)
                if resolved and project.find_module(resolved) == target_path:
                    return module, len(stmt.relative)
            elif module and resolves(facts, module):
                return module, 0
    # how anyone else in the project imports it (a dormant module is parsed
    # only if it names the module)
    last = target_name.rpartition(".")[2].encode()
    for path in project.model_paths:
        if path not in project.facts and (last not in project.python[path].data or project.facts_for(path) is None):
            continue
        for stmt in _import_froms(project.python[path].module):
            if stmt.relative or stmt.module is None:
                continue
            module = dotted_name(stmt.module) or ""
            if module and project.find_module(module) == target_path:
                return module, 0
    return target_name, 0


def _import_froms(module: cst.Module) -> Iterator[cst.ImportFrom]:
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom):
                    yield small


def _resolve_relative(from_path: str, level: int, module: str) -> str | None:
    package = module_name_for(from_path).split(".")
    if not from_path.endswith("__init__.py"):
        package = package[:-1]
    if level > 1:
        package = package[: len(package) - (level - 1)]
    if not package and not module:
        return None
    return ".".join([p for p in package if p] + ([module] if module else []))


def flask_apps(project) -> list[AppObject]:
    """The project's Flask apps outside tests, one per (file, factory, name)."""
    return [a for a in project.apps if not is_test_path(a.file.path)]


PASSWORD_KEY = re.compile(r"^(password|passwd|pwd|pass|password_?hash|pw_?hash|hashed_?password|pwhash|password_?digest)$", re.I)


def is_true(node: cst.BaseExpression | None) -> bool:
    return literal_value(node) is True
