"""What a Flask project is: its apps, where their configuration lives, its templates.

The model is built from one pass over each parsed module and is shared by all
rules, so a rule asks "which config classes does the app load?" instead of
re-discovering it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator

import libcst as cst

from hardener.parts import Whole, is_test_path, module_index, module_name_for
from hardener.source import ParseError, PythonFile, TemplateFile

CONFIG_METHODS = {"from_object", "from_pyfile", "from_envvar", "from_prefixed_env", "from_mapping", "from_file"}


# --------------------------------------------------------------------------- names


def dotted_name(node: cst.BaseExpression | None) -> str | None:
    """``a.b.c`` for Name/Attribute chains, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def string_value(node: cst.BaseExpression | None) -> str | None:
    """The value of a plain (non f-) string literal or implicit concatenation."""
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def literal_value(node: cst.BaseExpression | None):
    """Python value of simple literals: str, int, bool, None; else a sentinel."""
    s = string_value(node)
    if s is not None:
        return s
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    return NOT_LITERAL


class _NotLiteral:
    def __repr__(self) -> str:
        return "NOT_LITERAL"


NOT_LITERAL = _NotLiteral()


# --------------------------------------------------------------------------- facts


@dataclass(eq=False)
class AppObject:
    """A ``Flask(...)`` or ``Blueprint(...)`` bound to a name."""

    name: str
    file: PythonFile
    statement: cst.SimpleStatementLine
    call: cst.Call
    factory: cst.FunctionDef | None
    kind: str  # "flask" | "blueprint"
    aliases: tuple[str, ...] = ()  # other names bound in the same statement: app = flask_app = Flask(...)

    @property
    def line(self) -> int:
        return self.file.position(self.statement).start.line


@dataclass(eq=False)
class ConfigSetting:
    """One place a configuration key gets a value."""

    key: str
    value: cst.BaseExpression | None
    file: PythonFile
    node: cst.CSTNode  # what to report: the statement, keyword argument or dict element
    kind: str  # item | update | attr | class | module | mapping | run
    owner: str | None  # the app variable or the class name
    scope: cst.FunctionDef | None = None
    statement: cst.CSTNode | None = None  # the enclosing statement line

    @property
    def literal(self):
        return literal_value(self.value)


@dataclass(eq=False)
class ConfigClass:
    name: str
    file: PythonFile
    node: cst.ClassDef
    bases: list[str]
    settings: dict[str, ConfigSetting] = field(default_factory=dict)
    loaded: bool = False
    parents: list["ConfigClass"] = field(default_factory=list)

    @property
    def testing(self) -> bool:
        lowered = self.name.lower()
        return "test" in lowered

    def lookup(self, key: str) -> ConfigSetting | None:
        """The setting in force for ``key``, following inheritance."""
        if key in self.settings:
            return self.settings[key]
        for parent in self.parents:
            found = parent.lookup(key)
            if found is not None:
                return found
        return None


@dataclass(eq=False)
class ConfigLoad:
    method: str  # from_object, from_pyfile, ...
    file: PythonFile
    call: cst.Call
    owner: str | None
    scope: cst.FunctionDef | None
    targets: list[str] = field(default_factory=list)  # unresolved target descriptions


@dataclass(eq=False)
class ModuleFacts:
    file: PythonFile
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    imported_modules: set[str] = field(default_factory=set)
    apps: list[AppObject] = field(default_factory=list)
    settings: list[ConfigSetting] = field(default_factory=list)  # app-level settings
    classes: dict[str, ConfigClass] = field(default_factory=dict)
    module_settings: dict[str, ConfigSetting] = field(default_factory=dict)
    loads: list[ConfigLoad] = field(default_factory=list)
    functions: dict[str, cst.FunctionDef] = field(default_factory=dict)
    module_dicts: dict[str, cst.Dict] = field(default_factory=dict)
    calls_load_dotenv: bool = False
    # ``x = SomethingFlask(...)`` / ``SomethingBlueprint(...)``: an app or blueprint
    # if the class is the project's own subclass of Flask's (``Project._link``)
    app_candidates: list[tuple[AppObject, str]] = field(default_factory=list)

    def qualify(self, node: cst.BaseExpression) -> str | None:
        name = dotted_name(node)
        return self.qualify_name(name) if name is not None else None

    def imported(self, name: str) -> bool:
        """Whether ``a.b`` starts with a name the module imports (``a.b`` is then
        looked up in that module; a local object's attribute is not)."""
        return name.partition(".")[0] in self.imports

    def qualify_name(self, name: str) -> str:
        """``a.b`` with ``a`` replaced by what the module imports under that name."""
        head, dot, rest = name.partition(".")
        return self.imports[head] + dot + rest if head in self.imports else name


# Subclasses of Flask and Blueprint other packages provide.
_APP_CLASSES = {"apiflask.APIFlask": "flask", "apiflask.app.APIFlask": "flask", "apiflask.APIBlueprint": "blueprint",
                "apiflask.blueprint.APIBlueprint": "blueprint", "flask_smorest.Blueprint": "blueprint",
                "flask_smorest.blueprint.Blueprint": "blueprint"}


def app_kind(qualified: str) -> str | None:
    """"flask" or "blueprint" for the qualified name of Flask's app or blueprint class."""
    if qualified in ("flask.Flask", "Flask") or qualified.endswith(".Flask") and qualified.startswith("flask"):
        return "flask"
    if qualified in ("flask.Blueprint", "Blueprint") or qualified.endswith("flask.blueprints.Blueprint"):
        return "blueprint"
    return _APP_CLASSES.get(qualified)


class _FactsVisitor(cst.CSTVisitor):
    def __init__(self, facts: ModuleFacts, module_name: str):
        self.facts = facts
        self.module_name = module_name
        self.functions: list[cst.FunctionDef] = []
        self.classes: list[cst.ClassDef] = []
        self.statement: cst.CSTNode | None = None
        self.aliases: dict[tuple[int, str], str] = {}  # (id of the scope, alias) -> the app's name

    def _owner(self, node: cst.BaseExpression) -> str | None:
        """The dotted name of what a setting is made on, an app's alias replaced by its name."""
        name = dotted_name(node)
        scope = self.functions[-1] if self.functions else None
        return self.aliases.get((id(scope), name), name) if name is not None else None

    # -- scopes
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self.functions and not self.classes:
            self.facts.functions[node.name.value] = node
        self.functions.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)
        if len(self.classes) == 1 and not self.functions:
            bases = [dotted_name(arg.value) or "" for arg in node.bases]
            cls = ConfigClass(node.name.value, self.facts.file, node, bases)
            self.facts.classes[node.name.value] = cls

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statement = node

    # -- imports
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            self.facts.imported_modules.add(full)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.facts.imports[alias.asname.name.value] = full
            else:
                head = full.split(".")[0]
                self.facts.imports.setdefault(head, head)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else ""
        level = len(node.relative)
        if level:
            package = self.module_name.split(".")
            # a module's package is its name minus the last part (unless it is __init__)
            if not self.facts.file.path.endswith("__init__.py"):
                package = package[:-1]
            package = package[: len(package) - (level - 1)] if level > 1 else package
            module = ".".join([p for p in package if p] + ([module] if module else []))
        self.facts.imported_modules.add(module or "")
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            self.facts.imports[local] = f"{module}.{name}" if module else name

    # -- assignments
    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        names = [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
        for target in node.targets:
            if len(names) > 1 and isinstance(target.target, cst.Name) and target.target.value != names[0]:
                continue  # app = flask_app = Flask(...): one app, with an alias (below)
            self._assignment(target.target, value, node, tuple(names[1:]))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assignment(node.target, node.value, node)

    def _assignment(self, target: cst.BaseExpression, value: cst.BaseExpression, node: cst.CSTNode,
                    aliases: tuple[str, ...] = ()) -> None:
        facts = self.facts
        scope = self.functions[-1] if self.functions else None
        # app = Flask(__name__) / bp = Blueprint(...)
        if isinstance(target, cst.Name) and isinstance(value, cst.Call) and (self.functions or not self.classes):
            qualified = facts.qualify(value.func) or ""
            kind = app_kind(qualified)
            # the project's own subclass? IndicoFlask, or any class name: QuokkaApp (see _link)
            subclass = not kind and qualified.rpartition(".")[2][:1].isupper()
            if (kind or subclass) and not (self.classes and _hands_to_own_methods(scope, target.value)):
                app = AppObject(target.value, facts.file, self.statement, value, scope, kind or "", aliases)
                if kind:
                    facts.apps.append(app)
                else:
                    facts.app_candidates.append((app, qualified))
                for alias in aliases:
                    self.aliases[(id(scope), alias)] = target.value
        # class attribute: DEBUG = True
        if self.classes and not self.functions and isinstance(target, cst.Name) and len(self.classes) == 1:
            key = target.value
            if key.isupper():
                cls = facts.classes[self.classes[0].name.value]
                cls.settings[key] = ConfigSetting(key, value, facts.file, self.statement, "class", cls.name, None, self.statement)
            return
        # module constant: SECRET_KEY = "..." (a config module loaded by from_object/from_pyfile)
        if not self.classes and not self.functions and isinstance(target, cst.Name):
            if target.value.isupper():
                facts.module_settings[target.value] = ConfigSetting(
                    target.value, value, facts.file, self.statement, "module", None, None, self.statement
                )
            if isinstance(value, cst.Dict):
                facts.module_dicts[target.value] = value
        # app.config["KEY"] = value
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Attribute) and target.value.attr.value == "config":
            if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = string_value(target.slice[0].slice.value)
                if key:
                    owner = self._owner(target.value.value)
                    facts.settings.append(ConfigSetting(key, value, facts.file, self.statement, "item", owner, scope, self.statement))
        # app.secret_key = ... / app.debug = ...
        if isinstance(target, cst.Attribute) and target.attr.value in ("secret_key", "debug", "testing", "permanent_session_lifetime"):
            owner = self._owner(target.value)
            if owner is not None and not owner.startswith("self."):
                key = target.attr.value.upper()
                facts.settings.append(ConfigSetting(key, value, facts.file, self.statement, "attr", owner, scope, self.statement))


def _hands_to_own_methods(method: cst.FunctionDef, name: str) -> bool:
    """Whether ``method`` passes ``name`` to a method of its class (``cls._configure(app)``,
    ``self.setup(app)``). An app built in a method counts as an app (its routes and settings
    are in the method), unless such helpers configure it: the model does not follow them,
    so it would miss what they set up (an extension, a cookie setting)."""

    class Visitor(cst.CSTVisitor):
        def __init__(self):
            super().__init__()
            self.found = False

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
                    and func.value.value in ("self", "cls") \
                    and any(isinstance(arg.value, cst.Name) and arg.value.value == name for arg in node.args):
                self.found = True

    visitor = Visitor()
    method.body.visit(visitor)
    return visitor.found


class _FactsAndCallsVisitor(_FactsVisitor):
    """Also the facts calls give. Used where the bytes hold what such a call
    needs (the walk can then skip every expression in the other modules)."""

    def visit_Call(self, node: cst.Call) -> None:
        facts = self.facts
        func = node.func
        scope = self.functions[-1] if self.functions else None
        qualified = facts.qualify(func) or ""
        if qualified.endswith("load_dotenv"):
            facts.calls_load_dotenv = True
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        base = func.value
        # app.config.update(KEY=..., ...) / app.config.update({"KEY": ...})
        if isinstance(base, cst.Attribute) and base.attr.value == "config":
            owner = self._owner(base.value)
            if method in ("update", "from_mapping", "setdefault"):
                kind = "update" if method != "from_mapping" else "mapping"
                if method == "setdefault":
                    if node.args and string_value(node.args[0].value) and len(node.args) > 1:
                        facts.settings.append(ConfigSetting(string_value(node.args[0].value), node.args[1].value,
                                                            facts.file, node.args[1], kind, owner, scope, self.statement))
                    return
                for arg in node.args:
                    if arg.keyword is not None:
                        facts.settings.append(ConfigSetting(arg.keyword.value, arg.value, facts.file, arg, kind, owner, scope, self.statement))
                    elif isinstance(arg.value, cst.Dict):
                        for element in arg.value.elements:
                            if isinstance(element, cst.DictElement):
                                key = string_value(element.key)
                                if key:
                                    facts.settings.append(ConfigSetting(key, element.value, facts.file, element, kind, owner, scope, self.statement))
            if method in CONFIG_METHODS:
                facts.loads.append(ConfigLoad(method, facts.file, node, owner, scope))
            return
        # app.run(debug=True)
        if method == "run":
            owner = self._owner(base)
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value in ("debug", "use_debugger", "use_reloader"):
                    facts.settings.append(ConfigSetting("RUN_" + arg.keyword.value.upper(), arg.value, facts.file, arg, "run", owner, scope, self.statement))


# --------------------------------------------------------------------------- project


@dataclass
class Project:
    """Everything the rules share about one project."""

    root: str
    python: dict[str, PythonFile]
    templates: dict[str, TemplateFile]
    workspace: object  # hardener.workspace.Workspace
    errors: list[tuple[str, str]] = field(default_factory=list)
    config: object | None = None  # the run's hardener.config.Config (rules read e.g. headers_fix)
    whole: Whole | None = None  # when this is one part of a project (hardener.parts): the whole one

    _file_facts: dict[str, ModuleFacts | None] = field(default_factory=dict, repr=False)
    # path -> None if not dormant, else the names of its classes that have bases
    _dormant: dict[str, tuple[str, ...] | None] = field(default_factory=dict, repr=False)
    _woken: set[str] = field(default_factory=set, repr=False)

    # -- parsing
    def facts_of(self, path: str) -> ModuleFacts | None:
        """The facts of one module (parsed on first use), None if it holds none."""
        if path not in self._file_facts:
            file = self.python[path]
            facts = None
            # Only modules that can hold Flask facts are parsed here.
            if may_hold_facts(file.data):
                try:
                    module = file.module
                except ParseError:
                    module = None
                if module is not None:
                    facts = ModuleFacts(file)
                    try:
                        data = file.data
                        visitor = _FactsAndCallsVisitor if calls_give_facts(data) else _FactsVisitor
                        module.visit(visitor(facts, module_name_for(path)))
                    except RecursionError:
                        file.parse_error = "too deeply nested to analyse"
                        facts = None
            self._file_facts[path] = facts
        return self._file_facts[path]

    def in_model(self, path: str) -> ModuleFacts | None:
        """The facts a module adds to the model (parsed on first use): None for
        test modules, modules that hold none, and *dormant* ones (below) until
        a link of the model leads into them."""
        if is_test_path(path):
            return None
        if path not in self._woken and self.dormant(path):
            return None
        return self.facts_of(path)

    def dormant(self, path: str) -> bool:
        """A module that can give the model nothing of its own (no app,
        blueprint, configuration setting or load, ``load_dotenv`` call or
        configuration class) is left out of it unparsed: see ``dormancy``.
        A link of the model into it (a class loaded or inherited from, a
        module loaded as configuration) wakes it up."""
        if path not in self._dormant:
            data = self.python[path].data
            self._dormant[path] = dormancy(path, data) if may_hold_facts(data) else None
        return self._dormant[path] is not None

    @cached_property
    def model_paths(self) -> list[str]:
        """The modules outside the tests that may hold facts, in the model's
        order, dormant ones included: what a rule reading more of every module
        than its facts (its imports, its views) looks through."""
        return [path for path in self.python if not is_test_path(path) and may_hold_facts(self.python[path].data)]

    @cached_property
    def facts(self) -> dict[str, ModuleFacts]:
        """The model: the facts of every module outside the tests. What tests
        create, configure or load says nothing about production (every rule
        left such facts out by hand), and leaving them out spares parsing the
        test modules no rule checks. Dormant modules are left out until the
        links lead into one; the links are then made again with it."""
        while True:
            out = {path: f for path in self.python if (f := self.in_model(path)) is not None}
            woken = self._link(out)
            if not woken:
                return out
            self._woken |= woken

    def parse(self, path: str) -> PythonFile | None:
        file = self.python.get(path)
        if file is None:
            return None
        try:
            file.module
        except ParseError:
            return None
        return file

    @cached_property
    def module_index(self) -> dict[str, str]:
        """dotted module name -> path, including names relative to source roots."""
        return module_index(self.python)

    def find_module(self, dotted: str) -> str | None:
        found = self.module_index.get(dotted)
        if self.whole is not None:
            wider = self.whole.index.get(dotted)
            self.whole.queries[dotted] = wider
            if wider != found:  # the whole project's answer lies in another part
                self.whole.escapes.add(wider)
        return found

    # -- linking: from_object targets, class inheritance
    def _link(self, all_facts: dict[str, ModuleFacts]) -> set[str]:
        """Resolve loads and class bases; the dormant modules a link led into
        (to be woken, and the links made again) are returned."""
        self._waking: set[str] = set()
        for facts in all_facts.values():
            for cls in facts.classes.values():
                cls.loaded, cls.parents = False, []
        classes_by_qualname: dict[str, ConfigClass] = {}
        for path, facts in all_facts.items():
            modname = module_name_for(path)
            for cls in facts.classes.values():
                classes_by_qualname[f"{modname}.{cls.name}"] = cls
        self._classes_by_qualname = classes_by_qualname
        self._loaded_modules: set[str] = set()
        self.unresolved_loads = False

        def resolve_class(facts: ModuleFacts, name: str, sleeping: set[str]) -> ConfigClass | None:
            if name in facts.classes:
                return facts.classes[name]
            return self._class_by_dotted(facts.qualify_name(name), sleeping)

        # a base in a dormant module is woken only when the class counts (below)
        sleeping_bases: dict[int, set[str]] = {}
        for facts in all_facts.values():
            for cls in facts.classes.values():
                sleeping: set[str] = set()
                cls.parents = [p for p in (resolve_class(facts, b, sleeping) for b in cls.bases if b) if p is not None]
                if sleeping:
                    sleeping_bases[id(cls)] = sleeping

        self._link_app_subclasses(all_facts)

        def mark(cls: ConfigClass) -> None:
            if cls.loaded:
                return
            cls.loaded = True
            for parent in cls.parents:
                mark(parent)

        for facts in all_facts.values():
            if is_test_path(facts.file.path):
                continue  # what the tests load says nothing about production
            for load in facts.loads:
                for target in self._load_targets(facts, load):
                    if isinstance(target, ConfigClass):
                        mark(target)
                    elif isinstance(target, str):
                        self._loaded_modules.add(target)
                    else:
                        self.unresolved_loads = True

        if self.unresolved_loads:
            # We could not tell which class is used: assume every non-test config class
            # of the app's kind may be (not an analyzer's or an SMS provider's *Config).
            for cls in classes_by_qualname.values():
                if cls.name.endswith("Config") and not cls.testing and _app_config_like(cls):
                    mark(cls)
            # ... a dormant one too, when marking it would mark the classes it inherits from
            for path, subclasses in self._dormant.items():
                if subclasses and path not in self._woken and any(
                        name.endswith("Config") and "test" not in name.lower() for name in subclasses):
                    self._waking.add(path)
        # the classes whose bases count: with settings, loaded, and what they inherit from
        seen: set[int] = set()
        todo = [c for c in classes_by_qualname.values() if c.settings or c.loaded]
        while todo:
            cls = todo.pop()
            if id(cls) not in seen:
                seen.add(id(cls))
                self._waking |= sleeping_bases.get(id(cls), set())
                todo += cls.parents
        return self._waking

    def _link_app_subclasses(self, all_facts: dict[str, ModuleFacts]) -> None:
        """``app = IndicoFlask(...)``, ``app = QuokkaApp(...)``: an instance of the
        project's own subclass of Flask (or Blueprint) is an app (a blueprint) like Flask's."""
        owners = {id(cls): facts for facts in all_facts.values() for cls in facts.classes.values()}

        def kind_of(cls: ConfigClass, depth: int = 0) -> str | None:
            facts = owners.get(id(cls))
            if facts is None or depth > 10:
                return None
            for base in cls.bases:
                kind = app_kind(facts.qualify_name(base)) if base else None
                if kind:
                    return kind
            return next((k for k in (kind_of(p, depth + 1) for p in cls.parents) if k), None)

        # A call of a class named like no app class of the model is not looked up (a
        # lookup can wake a dormant module), unless its name says Flask or Blueprint.
        app_classes = {cls.name for facts in all_facts.values() for cls in facts.classes.values()
                       if cls.bases and kind_of(cls)}
        for facts in all_facts.values():
            if not facts.app_candidates:
                continue
            candidates = {id(app) for app, _ in facts.app_candidates}
            facts.apps = [a for a in facts.apps if id(a) not in candidates]
            for app, qualified in facts.app_candidates:
                name = qualified.rpartition(".")[2]
                if not name.endswith(("Flask", "Blueprint")) and name not in app_classes:
                    continue
                cls = self._class_by_dotted(qualified) if "." in qualified else facts.classes.get(qualified)
                app.kind = (kind_of(cls) if cls is not None else None) or ""
                if app.kind:
                    facts.apps.append(app)

    def _find_linked(self, dotted: str) -> str | None:
        """``find_module`` for a link of the model: a dormant module found is woken."""
        path = self.find_module(dotted)
        self._wake(path)
        return path

    def _asleep(self, path: str) -> bool:
        return path not in self._woken and not is_test_path(path) and self.dormant(path)

    def _wake(self, path: str | None) -> None:
        if path is not None and self._asleep(path):
            self._waking.add(path)

    def _class_by_dotted(self, dotted: str, sleeping: set[str] | None = None) -> ConfigClass | None:
        """The class ``dotted`` names; a dormant module it is in is woken, or
        only noted in ``sleeping`` when given."""
        module, _, name = dotted.rpartition(".")
        path = self.find_module(module) if module else None
        if path is None:
            return None
        if self._asleep(path):
            (self._waking if sleeping is None else sleeping).add(path)
            return None  # not known until woken
        return self._classes_by_qualname.get(f"{module_name_for(path)}.{name}")

    def _load_targets(self, facts: ModuleFacts, load: ConfigLoad) -> list:
        """Resolve a from_object/from_pyfile argument to classes (or module paths)."""
        if load.method in ("from_mapping", "from_prefixed_env", "from_envvar"):
            return []
        if not load.call.args:
            return [None]
        arg = load.call.args[0].value
        return self._resolve_config_expr(facts, arg, load, depth=0)

    def _resolve_config_expr(self, facts: ModuleFacts, arg: cst.BaseExpression, load: ConfigLoad, depth: int) -> list:
        if depth > 3:
            return [None]
        text = string_value(arg)
        if text is not None:
            if load.method in ("from_pyfile", "from_file"):
                base = posixpath.dirname(facts.file.path)
                for candidate in (posixpath.normpath(posixpath.join(base, text)), text):
                    if candidate in self.python:
                        self._wake(candidate)
                        return [candidate]
                return [None]
            cls = self._class_by_dotted(text)
            if cls is not None:
                return [cls]
            path = self._find_linked(text)
            return [path] if path else [None]
        if isinstance(arg, (cst.Name, cst.Attribute)):
            name = dotted_name(arg) or ""
            if name in facts.classes:
                return [facts.classes[name]]
            head = name.split(".")[0]
            qualified = facts.imports.get(head)
            if qualified:
                full = qualified + name[len(head):]
                cls = self._class_by_dotted(full)
                if cls is not None:
                    return [cls]
                path = self._find_linked(full)
                if path:
                    return [path]
            if load.scope is not None and isinstance(arg, cst.Name):
                # a parameter of the factory with a default value (None: it loads nothing then)
                for param in load.scope.params.params:
                    if param.name.value == arg.value and param.default is not None:
                        if isinstance(param.default, cst.Name) and param.default.value == "None":
                            return []
                        return self._resolve_config_expr(facts, param.default, load, depth + 1)
                # a name the factory assigns once
                bound = _assigned_in(load.scope, arg.value)
                if len(bound) == 1 and bound[0] is not None:
                    return self._resolve_config_expr(facts, bound[0], load, depth + 1)
            return [None]
        if isinstance(arg, cst.BooleanOperation) and isinstance(arg.operator, cst.Or):
            # superset_config_module or os.environ.get(...): either side
            return (self._resolve_config_expr(facts, arg.left, load, depth + 1)
                    + self._resolve_config_expr(facts, arg.right, load, depth + 1))
        if isinstance(arg, cst.Call) and facts.qualify(arg.func) in _ENV_LOOKUPS:
            # os.environ.get("SUPERSET_CONFIG", "superset.config"): the module loaded
            # unless the deployment names another
            default = [a.value for a in arg.args[1:2] if a.keyword is None] \
                + [a.value for a in arg.args if a.keyword is not None and a.keyword.value == "default"]
            return self._resolve_config_expr(facts, default[0], load, depth + 1) if default else [None]
        if isinstance(arg, cst.Subscript) and isinstance(arg.value, cst.Name) and arg.value.value in facts.module_dicts:
            out = []
            for element in facts.module_dicts[arg.value.value].elements:
                if isinstance(element, cst.DictElement):
                    out += self._resolve_config_expr(facts, element.value, load, depth + 1)
            return out
        return [None]

    # -- queries the rules use
    @property
    def apps(self) -> list[AppObject]:
        return [a for f in self.facts.values() for a in f.apps if a.kind == "flask"]

    @property
    def blueprints(self) -> list[AppObject]:
        return [a for f in self.facts.values() for a in f.apps if a.kind == "blueprint"]

    @property
    def config_classes(self) -> list[ConfigClass]:
        return [c for f in self.facts.values() for c in f.classes.values() if _looks_like_config(c)]

    def loaded_config_classes(self) -> list[ConfigClass]:
        return [c for c in self.config_classes if c.loaded]

    def loaded_config_modules(self) -> list[str]:
        self.facts
        return sorted(self._loaded_modules)

    def config_settings(self, *, loaded_only: bool = True) -> Iterator[ConfigSetting]:
        """Every place a config key is set that the app reads (app-level, loaded classes and modules)."""
        for facts in self.facts.values():
            yield from facts.settings
            if facts.file.path in self.loaded_config_modules():
                yield from facts.module_settings.values()
            for cls in facts.classes.values():
                if not _looks_like_config(cls):
                    continue
                if cls.loaded or not loaded_only:
                    yield from cls.settings.values()

    def is_flask_project(self) -> bool:
        return bool(self.apps or self.blueprints)

    @cached_property
    def template_dirs(self) -> list[str]:
        dirs = sorted({t.rsplit("/templates/", 1)[0] + "/templates" if "/templates/" in t else "templates" for t in self.templates})
        return dirs

    def facts_for(self, path: str) -> ModuleFacts | None:
        """A module's facts; a test module's or a dormant module's own (rules
        checking it qualify names with them), though they are not part of the
        model."""
        if is_test_path(path):
            return self.facts_of(path) if path in self.python else None
        found = self.facts.get(path)
        if found is None and path in self.python and self.dormant(path):
            return self.facts_of(path)  # what the module holds, though the model leaves it out
        return found


# Settings of Flask and its usual extensions: a class holding one configures an app.
FLASK_SETTING = re.compile(
    r"(?:SECRET_KEY|DEBUG|TESTING|ENV|SERVER_NAME|APPLICATION_ROOT|PREFERRED_URL_SCHEME|MAX_CONTENT_LENGTH|"
    r"MAX_FORM_\w+|PERMANENT_SESSION_LIFETIME|PROPAGATE_EXCEPTIONS|TRAP_\w+|JSON_AS_ASCII|JSON_SORT_KEYS|"
    r"JSONIFY_\w+|TEMPLATES_AUTO_RELOAD|SEND_FILE_MAX_AGE_DEFAULT|USE_X_SENDFILE|(?:SESSION|REMEMBER|SQLALCHEMY|"
    r"MAIL|WTF|JWT|CACHE|CELERY|BABEL|SECURITY|RATELIMIT|CORS|UPLOADS?|UPLOADED|LOGIN|OAUTH|REDIS|TALISMAN|"
    r"DEBUG_TB|RECAPTCHA|BCRYPT|ASSETS|COMPRESS|SERVER)_\w+)")


_ENV_LOOKUPS = {"os.environ.get", "os.getenv", "environ.get"}


def _assigned_in(function: cst.FunctionDef, name: str) -> list[cst.BaseExpression | None]:
    """What ``name`` is bound to in the function (not in the functions it holds):
    the value of each ``name = ...``, None for each other binding (unpacking, ``for``...)."""
    bound: list[cst.BaseExpression | None] = []

    class Visitor(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    if target.target.value == name:
                        bound.append(node.value)
                elif name in _names_in(target.target):
                    bound.append(None)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name and node.value is not None:
                bound.append(node.value)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if name in _names_in(node.target):
                bound.append(None)

        def visit_For(self, node: cst.For) -> None:
            if name in _names_in(node.target):
                bound.append(None)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            if name in _names_in(node.target):
                bound.append(None)

    function.visit(Visitor())
    return bound


def _names_in(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for e in target.elements for n in _names_in(e.value)}
    if isinstance(target, cst.StarredElement):
        return _names_in(target.value)
    return set()


def _app_config_like(cls: ConfigClass, depth: int = 0) -> bool:
    """A class of an app's settings: in a config/settings module, with a setting
    of Flask's or an extension's, or inheriting from such a class."""
    stem = posixpath.splitext(posixpath.basename(cls.file.path))[0].lower()
    if stem in ("config", "configs", "settings", "configuration", "default_settings") \
            or any(FLASK_SETTING.fullmatch(key) for key in cls.settings):
        return True
    return depth < 8 and any(_app_config_like(parent, depth + 1) for parent in cls.parents)


def _looks_like_config(cls: ConfigClass) -> bool:
    return bool(cls.settings) and (cls.loaded or "config" in cls.name.lower() or "settings" in cls.name.lower()
                                   or any("config" in b.lower() for b in cls.bases))


def may_hold_facts(data: bytes) -> bool:
    """Whether a module's bytes can give facts; the model parses no other module
    (a rule that needs facts can use this as a prefilter)."""
    return (
        b"flask" in data or b"Flask" in data or b"config" in data or b"Config" in data
        or b"SECRET" in data or b"DEBUG" in data
    )


# What can give a module facts of its own, as bytes (each a superset of what it
# stands for: an attribute may have spaces, a line continuation or, inside
# brackets, a comment after its dot, as may a keyword argument before its `=`).
_GAP = rb"(?:[\s\\]|#[^\n]*\n)*"  # a comment ends its line: one way to match each
_RUN_KEYWORD = re.compile(rb"\b(?:debug|use_debugger|use_reloader)" + _GAP + rb"=")
_ACTIVE_BYTES = re.compile(
    rb"Blueprint|load_dotenv"
    rb"|\." + _GAP + rb"(?:config|secret_key|debug|testing|permanent_session_lifetime)\b"
    rb"|" + _RUN_KEYWORD.pattern
)


# A class body assigning a name (on a line of its own, after the class line's
# colon, after a `;`; the name may be parenthesized): a superset of where a
# configuration class sets an upper-case name.
_ASSIGNED_NAME = re.compile(r"(?m)(?:^[ \t\f]+|[:;][ \t\f]*)(?:\\\r?\n[ \t\f]*)*[(\s]*([^\W\da-z][^\Wa-z]*)[\s)\\]*(?:=(?!=)|:)")
_SUBCLASS = re.compile(r"(?m)^[ \t\f]*class[\s\\]+([^\W\d]\w*)[\s\\]*\(")


# What a call needs to give a fact (``_FactsAndCallsVisitor``), as bytes.
_CONFIG_CALL = re.compile(rb"\bconfig" + _GAP + rb"\." + _GAP + rb"(?:update|setdefault|from_\w+)")
_RUN_CALL = re.compile(rb"\." + _GAP + rb"run" + _GAP + rb"\(")


def calls_give_facts(data: bytes) -> bool:
    """Whether a call in the module can give a fact: ``load_dotenv()``,
    ``X.config.update(...)``, ``X.config.from_object(...)``... or ``X.run(debug=...)``.
    The facts walk of the other modules (the most) skips every expression."""
    return b"load_dotenv" in data or _CONFIG_CALL.search(data) is not None or (
        _RUN_CALL.search(data) is not None and _RUN_KEYWORD.search(data) is not None)


def dormancy(path: str, data: bytes) -> tuple[str, ...] | None:
    """None if the module can give the model facts of its own, else the names
    of its classes that may have bases (what a link can still lead to).

    Facts of its own are apps and blueprints, configuration settings and loads,
    ``load_dotenv`` calls (none of which can be written without the bytes
    ``_ACTIVE_BYTES`` looks for, or, through a relative import, a path naming
    flask) and configuration classes (a class body assigning an upper-case
    name: ``_ASSIGNED_NAME``). What else a module holds (imports, constants,
    other classes) counts only through links from other modules: a dormant
    module is parsed when one leads to it, and rules reading more of every
    module than its facts look through ``Project.model_paths``. Every test
    here is on the text, a superset of what it stands for."""
    if b"flask" in data or b"Flask" in data or "flask" in path.lower() or _ACTIVE_BYTES.search(data):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None  # another encoding: left to the parser
    if any(m.group(1).isupper() for m in _ASSIGNED_NAME.finditer(text)):
        return None
    return tuple(m.group(1) for m in _SUBCLASS.finditer(text))
