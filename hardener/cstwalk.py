"""A faster traversal for read-only libcst visitors.

``CSTNode.visit`` in libcst rebuilds every node it passes through (its
``_visit_and_replace_children`` constructs a new node from the visited
children, and validates it) even for a ``CSTVisitor``, which cannot change
anything: the copy is thrown away. The rules only read, and visiting was most
of a scan's time.

``install()`` replaces ``CSTNode.visit`` with a traversal that, for
``CSTVisitor`` instances only, walks the same children in the same order and
makes the same callbacks (``on_visit``, ``on_visit_attribute``,
``on_leave_attribute``, ``on_leave``), without building nodes. Transformers
keep libcst's own code.

The order of each node type's children is read once from the source of its
``_visit_and_replace_children`` (a ``return NodeType(field=visit_*(self,
"field", self.field, visitor), ...)``); a node type whose method has any other
shape keeps libcst's traversal for its own children. ``tests/test_cstwalk.py``
checks the callbacks are identical, event for event, on real code.
``HARDENER_LIBCST_VISIT=1`` turns it off.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import operator
import os
import textwrap
import typing
import weakref
from collections import OrderedDict

import libcst
from libcst import CSTNode, CSTVisitor, MaybeSentinel

_HELPERS = {
    "visit_required", "visit_optional", "visit_sentinel", "visit_sequence",
    "visit_iterable", "visit_body_sequence", "visit_body_iterable",
}
_ORIGINAL_VISIT = CSTNode.visit
_PLANS: dict[type, tuple[str, ...] | None] = {}
_ON_VISIT = CSTVisitor.on_visit
_ON_LEAVE = CSTVisitor.on_leave


def plan_for(cls: type) -> tuple[str, ...] | None:
    """The fields ``cls._visit_and_replace_children`` visits, in order; None if
    the method is not the plain generated shape (then libcst's own is used)."""
    try:
        return _PLANS[cls]
    except KeyError:
        pass
    plan = None
    try:
        source = _function_source(cls._visit_and_replace_children)
        plan = _read_plan(ast.parse(source).body[0]) if source is not None else None
    except (OSError, TypeError, SyntaxError, IndexError, AttributeError):
        plan = None
    _PLANS[cls] = plan
    return plan


def _function_source(fn) -> str | None:
    """The dedented source of a function defined in a file, cut from the file's
    lines by indentation (``inspect.getsource`` tokenizes the file from the
    function on, which took most of the start-up for libcst's 345 node types).
    A cut that is not one whole function fails to parse or gives no plan."""
    code = fn.__code__
    lines = linecache.getlines(code.co_filename)
    start = code.co_firstlineno - 1
    if not 0 <= start < len(lines):
        return None
    first = lines[start]
    indent = len(first) - len(first.lstrip())
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and len(line) - len(line.lstrip()) <= indent and not line.lstrip().startswith(")"):
            break
        end += 1
    return textwrap.dedent("".join(lines[start:end]))


_GETTERS: dict[type, object] = {}


def _no_children(node: CSTNode) -> tuple:
    return ()


def getter_for(cls: type):
    """A function giving a node's child fields' values in visiting order, in one
    C call (operator.attrgetter); None for a node type libcst walks itself."""
    plan = plan_for(cls)
    if plan is None:
        getter = None
    elif not plan:
        getter = _no_children
    elif len(plan) == 1:
        one = operator.attrgetter(plan[0])

        def getter(node, one=one):
            return (one(node),)
    else:
        getter = operator.attrgetter(*plan)
    _GETTERS[cls] = getter
    return getter


def _read_plan(fn: ast.AST) -> tuple[str, ...] | None:
    if not isinstance(fn, ast.FunctionDef):
        return None
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return None
    value = body[0].value
    if isinstance(value, ast.Name) and value.id == "self":
        return ()  # a leaf: no children
    if not isinstance(value, ast.Call):
        return None
    fields: list[str] = []
    for arg in [*value.args, *(k.value for k in value.keywords)]:
        if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id in _HELPERS:
            if len(arg.args) != 4 or arg.keywords:
                return None
            parent, name, field, visitor = arg.args
            if not (
                isinstance(parent, ast.Name) and parent.id == "self"
                and isinstance(name, ast.Constant) and isinstance(name.value, str)
                and isinstance(field, ast.Attribute) and isinstance(field.value, ast.Name)
                and field.value.id == "self" and field.attr == name.value
                and isinstance(visitor, ast.Name) and visitor.id == "visitor"
            ):
                return None
            fields.append(name.value)
        elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "self":
            continue  # a plain value copied over (e.g. Name.value): not a child
        elif isinstance(arg, ast.Constant):
            continue
        else:
            return None
    return tuple(fields)


_CLOSURES: dict[type, frozenset[type] | None] | None = None


def _node_types(hint, below: dict[type, set[type]]) -> set[type] | None:
    """The concrete node classes a field annotation allows (None: cannot tell);
    ``below`` maps a class to its concrete node subclasses."""
    origin = typing.get_origin(hint)
    if origin is None:
        if isinstance(hint, type):
            return set(below.get(hint, ())) if issubclass(hint, CSTNode) else set()
        return None
    if origin is typing.Literal:
        return set()
    out: set[type] = set()
    for arg in typing.get_args(hint):
        found = _node_types(arg, below)
        if found is None:
            return None
        out |= found
    return out


def closures() -> dict[type, frozenset[type] | None]:
    """For each libcst node class, every node class that can appear in its
    subtree (itself included), from the field annotations; None when some
    annotation cannot be read (then nothing below it is ever skipped)."""
    global _CLOSURES
    if _CLOSURES is not None:
        return _CLOSURES
    seen: set[type] = set()
    todo = [CSTNode]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    concrete = [c for c in seen if not inspect.isabstract(c) and c.__module__.startswith("libcst.")]
    # each class's concrete subclasses, itself included (libcst registers no
    # virtual subclasses: the classes' own MROs say it all)
    below: dict[type, set[type]] = {}
    for cls in concrete:
        for base in cls.__mro__:
            below.setdefault(base, set()).add(cls)
    namespace = dict(vars(libcst))
    children: dict[type, set[type] | None] = {}
    for cls in concrete:
        try:
            hints = typing.get_type_hints(cls, globalns=namespace)
        except Exception:
            children[cls] = None
            continue
        plan = plan_for(cls)
        found: set[type] | None = set()
        # a node type walked by libcst's own code: any annotated field may be a child
        for field in plan if plan is not None else list(hints):
            types = _node_types(hints.get(field), below)
            if types is None:
                found = None
                break
            found |= types
        children[cls] = found
    _CLOSURES = _reachable(children)
    return _CLOSURES


def _reachable(children: dict[type, set[type] | None]) -> dict[type, frozenset[type] | None]:
    """Every node reachable from each node of the graph, itself included;
    None when a node on the way has unknown children. Strongly connected
    components (Tarjan's), each worked out once after those it leads to."""
    index: dict[type, int] = {}
    low: dict[type, int] = {}
    stack: list[type] = []
    on_stack: set[type] = set()
    reach: dict[type, frozenset[type] | None] = {}

    def connect(node: type) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for kid in children.get(node) or ():
            if kid not in index:
                connect(kid)
                low[node] = min(low[node], low[kid])
            elif kid in on_stack:
                low[node] = min(low[node], index[kid])
        if low[node] != index[node]:
            return
        members: list[type] = []
        while True:
            member = stack.pop()
            on_stack.discard(member)
            members.append(member)
            if member is node:
                break
        found: set[type] | None = set(members)
        for member in members:
            kids = children.get(member)  # None: unknown children, or a node the graph does not describe
            if kids is None:
                found = None
                break
            for kid in kids:
                if kid in found:
                    continue
                below = reach.get(kid)  # a component finished before this one
                if below is None:
                    found = None
                    break
                found |= below
            if found is None:
                break
        frozen = None if found is None else frozenset(found)
        for member in members:
            reach[member] = frozen

    for node in children:
        if node not in index:
            connect(node)
    return {node: reach[node] for node in children}


_BASE_CLASSES = frozenset(CSTVisitor.__mro__)


def _class_names(cls: type) -> frozenset[str]:
    """Attribute names a visitor class defines itself (its classes below
    CSTVisitor): anything else resolves to CSTVisitor's own methods, whose
    visit_X / leave_X are no-ops."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass not in _BASE_CLASSES:
            names.update(klass.__dict__)
    return frozenset(names)


def _own_names(visitor: CSTVisitor) -> set[str]:
    """The visitor's own attribute names: its classes' and its instance's."""
    return set(_class_names(type(visitor))) | set(getattr(visitor, "__dict__", ()))


def _wants_attribute_hooks(visitor: CSTVisitor, names) -> bool:
    """Does this visitor react to on_visit_attribute / on_leave_attribute?"""
    cls = type(visitor)
    if cls.on_visit_attribute is not CSTVisitor.on_visit_attribute or \
            cls.on_leave_attribute is not CSTVisitor.on_leave_attribute:
        return True
    # the default hooks call visit_<Node>_<field> / leave_<Node>_<field>; node class
    # names hold no underscore, so such a method name holds at least two
    return any(n.startswith(("visit_", "leave_")) and n.count("_") >= 2 for n in names)


class _Profile:
    """What one visitor class reacts to, worked out once per class."""

    __slots__ = ("names", "attrs", "default", "relevant", "__weakref__")

    def __init__(self, visitor: CSTVisitor, names):
        cls = type(visitor)
        self.names = names
        self.attrs = _wants_attribute_hooks(visitor, names)
        self.default = cls.on_visit is _ON_VISIT and cls.on_leave is _ON_LEAVE
        # node types that have a visit_X / leave_X method here, and for every node
        # type whether one of those can be in its subtree at all
        reach = closures()
        by_name = _classes_by_name()
        handled: set[type] = set()
        for name in names:
            if name.startswith(("visit_", "leave_")):
                handled.update(by_name.get(name[6:], ()))
        self.relevant = {node: below is None or not below.isdisjoint(handled) for node, below in reach.items()}


_PROFILES: "weakref.WeakKeyDictionary[type, _Profile]" = weakref.WeakKeyDictionary()
_SHARED: dict[tuple, _Profile] = {}
_BY_NAME: dict[str, list[type]] | None = None


def _classes_by_name() -> dict[str, list[type]]:
    global _BY_NAME
    if _BY_NAME is None:
        _BY_NAME = {}
        for node in closures():
            _BY_NAME.setdefault(node.__name__, []).append(node)
    return _BY_NAME


def _profile(visitor: CSTVisitor) -> _Profile:
    cls = type(visitor)
    own = getattr(visitor, "__dict__", None)
    if own and any(k.startswith(("visit_", "leave_", "on_")) for k in own):
        return _Profile(visitor, _own_names(visitor))  # methods set on the instance: not shared
    profile = _PROFILES.get(cls)
    if profile is None:
        # Rules define visitor classes inside functions: a new class on every
        # call, with the same methods. Their profiles are shared.
        names = _class_names(cls)
        key = (names, *(getattr(m, "__code__", m) for m in (
            cls.on_visit, cls.on_leave, cls.on_visit_attribute, cls.on_leave_attribute)))
        profile = _SHARED.get(key)
        if profile is None:
            profile = _SHARED[key] = _Profile(visitor, names)
        _PROFILES[cls] = profile
    return profile


def _walk_fields(node: CSTNode, visitor: CSTVisitor, walk) -> None:
    """Every child of ``node``, field by field, between the visitor's
    ``on_visit_attribute`` and ``on_leave_attribute`` (for visitors with
    attribute hooks: every child is entered)."""
    for field in _PLANS[node.__class__]:
        visitor.on_visit_attribute(node, field)
        _walk_value(getattr(node, field), walk)
        visitor.on_leave_attribute(node, field)


def _walk_value(value, walk) -> None:
    """A field's value: a node, a sequence of nodes, or nothing (None, MaybeSentinel)."""
    kind = value.__class__
    if kind is tuple or kind is list:
        for child in value:
            walk(child)
    elif value is not None and kind is not MaybeSentinel:
        walk(value)


def _walk_default(root: CSTNode, visitor: CSTVisitor, profile: _Profile) -> None:
    """For visitors that keep CSTVisitor's on_visit/on_leave: the visit_X /
    leave_X methods are looked up once per node type (as on_visit would),
    CSTVisitor's own no-op ones are not called at all, and subtrees where no
    node type has a method of this visitor (whitespace, commas, ... for most
    rules) are not walked: nothing would be called there."""
    visits: dict[type, object] = {}
    leaves: dict[type, object] = {}
    names, attrs = profile.names, profile.attrs
    relevant = profile.relevant.get

    def walk(node: CSTNode) -> None:
        cls = node.__class__
        try:
            visit = visits[cls]
            leave = leaves[cls]
        except KeyError:
            name = cls.__name__
            visit = visits[cls] = getattr(visitor, f"visit_{name}") if f"visit_{name}" in names else None
            leave = leaves[cls] = getattr(visitor, f"leave_{name}") if f"leave_{name}" in names else None
        if visit is None or visit(node) is not False:
            children = _GETTERS[cls] if cls in _GETTERS else getter_for(cls)
            if children is None:
                node._visit_and_replace_children(visitor)
            elif attrs:
                _walk_fields(node, visitor, walk)
            else:
                for value in children(node):
                    kind = value.__class__
                    if kind is tuple or kind is list:
                        for child in value:
                            if relevant(child.__class__, True):
                                walk(child)
                    elif value is not None and kind is not MaybeSentinel and relevant(kind, True):
                        walk(value)
        if leave is not None:
            leave(node)

    walk(root)


def _walk_generic(root: CSTNode, visitor: CSTVisitor, attrs: bool) -> None:
    on_visit, on_leave = visitor.on_visit, visitor.on_leave

    def walk(node: CSTNode) -> None:
        if on_visit(node):
            cls = node.__class__
            children = _GETTERS[cls] if cls in _GETTERS else getter_for(cls)
            if children is None:
                node._visit_and_replace_children(visitor)
            elif attrs:
                _walk_fields(node, visitor, walk)
            else:
                for value in children(node):
                    _walk_value(value, walk)
        on_leave(node)

    walk(root)


def _visit(self, visitor):
    if isinstance(visitor, CSTVisitor):
        profile = _profile(visitor)
        if profile.default:
            _walk_default(self, visitor, profile)
        else:
            _walk_generic(self, visitor, profile.attrs)
        return self  # what libcst returns for a visitor: the node itself
    return _ORIGINAL_VISIT(self, visitor)


def install() -> None:
    if os.environ.get("HARDENER_LIBCST_VISIT") == "1":
        return
    CSTNode.visit = _visit


def uninstall() -> None:
    CSTNode.visit = _ORIGINAL_VISIT


def installed() -> bool:
    return CSTNode.visit is _visit


_LEAVES_OUT: dict[frozenset, frozenset[type]] = {}


def _left_out(skip: frozenset) -> frozenset[type]:
    """Node types whose whole subtree holds only ``skip`` types."""
    out = _LEAVES_OUT.get(skip)
    if out is None:
        out = _LEAVES_OUT[skip] = frozenset(
            cls for cls, reach in closures().items() if reach is not None and reach <= skip
        )
    return out


_PARENT_MAPS: "OrderedDict[tuple[int, frozenset], tuple[CSTNode, dict[int, CSTNode]]]" = OrderedDict()


def parent_map(root: CSTNode, skip: frozenset = frozenset()) -> dict[int, CSTNode]:
    """``id(child) -> parent`` for every node below ``root``, leaving out the
    subtrees that hold only node types in ``skip`` (whitespace and punctuation,
    say). One direct walk: no visitor, no callbacks. Several rules and fixes
    ask for the map of the same module one after the other: the last few are
    kept (with their root, so the ids stay valid). Do not change the map."""
    key = (id(root), skip)
    hit = _PARENT_MAPS.get(key)
    if hit is not None and hit[0] is root:
        _PARENT_MAPS.move_to_end(key)
        return hit[1]
    parents = _walk_parents(root, skip)
    _PARENT_MAPS[key] = (root, parents)
    while len(_PARENT_MAPS) > 8:
        _PARENT_MAPS.popitem(last=False)
    return parents


def _walk_parents(root: CSTNode, skip: frozenset) -> dict[int, CSTNode]:
    parents: dict[int, CSTNode] = {}
    left_out = _left_out(skip)
    stack = [root]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        cls = node.__class__
        children = _GETTERS[cls] if cls in _GETTERS else getter_for(cls)
        values = node.children if children is None else children(node)
        for value in values:
            kind = value.__class__
            if kind is tuple or kind is list:
                for child in value:
                    if child.__class__ not in left_out:
                        parents[id(child)] = node
                        push(child)
            elif value is not None and kind is not MaybeSentinel and kind not in left_out:
                parents[id(value)] = node
                push(value)
    return parents
