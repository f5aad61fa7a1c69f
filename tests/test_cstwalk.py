"""hardener.cstwalk: the fast read-only traversal makes exactly libcst's callbacks."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest

from hardener import cstwalk

REPO = Path(__file__).resolve().parent.parent


class Recorder(cst.CSTVisitor):
    """Every callback, with the node's identity; skips the children of lambdas."""

    def __init__(self):
        self.events = []

    def on_visit(self, node):
        self.events.append(("visit", id(node), type(node).__name__))
        return not isinstance(node, cst.Lambda)

    def on_leave(self, node):
        self.events.append(("leave", id(node)))

    def on_visit_attribute(self, node, attribute):
        self.events.append(("visit_attr", id(node), attribute))

    def on_leave_attribute(self, node, attribute):
        self.events.append(("leave_attr", id(node), attribute))


class Named(cst.CSTVisitor):
    """The usual shape of a rule's visitor: visit_X / leave_X methods only."""

    def __init__(self):
        self.events = []

    def visit_Name(self, node):
        self.events.append(("name", id(node)))

    def visit_FunctionDef(self, node):
        self.events.append(("def", id(node)))
        return node.name.value != "skip_me"

    def leave_Call(self, node):
        self.events.append(("call", id(node)))

    def visit_Call_func(self, node):  # an attribute hook
        self.events.append(("call.func", id(node)))


class Plain(cst.CSTVisitor):
    """Named without the attribute hook."""

    __init__ = Named.__init__
    visit_Name = Named.visit_Name
    visit_FunctionDef = Named.visit_FunctionDef
    leave_Call = Named.leave_Call


class Mixin:
    def visit_Attribute(self, node):
        self.events.append(("attr", id(node)))


class Mixed(Mixin, Plain):
    """Methods from a mixin count too; no attribute hooks here."""


def _sources() -> list[tuple[str, str]]:
    out = []
    for path in sorted((REPO / "sample_projects").rglob("*.py")) + sorted((REPO / "hardener").rglob("*.py")):
        out.append((str(path), path.read_text(encoding="utf-8")))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in ("argparse.py", "dataclasses.py", "typing.py", "asyncio/base_events.py", "email/_header_value_parser.py"):
        if (stdlib / name).is_file():
            out.append((name, (stdlib / name).read_text(encoding="utf-8")))
    out.append(("syntax.py", (
        "from . import a as b, c\nfrom x import *\nimport d.e as f\n"
        "def skip_me():\n    return g(1)\n"
        "async def h(a, /, b=1, *c, d: int = 2, **e) -> None:\n"
        "    async with x as (y, z):\n        await w\n    async for i in j:\n        yield i\n"
        "x = f'{a!r:>{width}} {b=}' + str(rb'\\x00' rb'y')\n"
        "match p:\n    case {'k': [1, *rest]} | Point(x=0) if rest:\n        pass\n    case _:\n        pass\n"
        "try:\n    pass\nexcept* ValueError as e:\n    raise\nfinally:\n    del a[1:2, ::3]\n"
        "lambda q, *, r=1: (q, r)\n@dec(1)\nclass K(B, metaclass=M):\n    x: int = 1\n    global g\n"
        "with (open(a) as b, open(c)):\n    print(*a, **b, sep='')\n"
        "while (n := n - 1) > 0 or not n:\n    continue\nelse:\n    assert n, 'msg'\n"
        "a = [i for i in range(3) if i] ; b = {k: v for k, v in c} ; s = {*a} ; t = (*a, *b)\n"
        "if a is not b and c not in d:\n    e @= f\nelif -g ** 2 >> 1:\n    ...\n"
    )))
    return out


def _modules():
    """(name, module) for every source that libcst parses."""
    for name, text in _sources():
        try:
            yield name, cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue


@pytest.fixture
def slow_then_fast():
    """Run a visitor with libcst's traversal, then with the fast one."""
    def run(module: cst.Module, make):
        was = cstwalk.installed()
        cstwalk.uninstall()
        try:
            slow = make()
            module.visit(slow)
        finally:
            if was:
                cstwalk.install()
        fast = make()
        cstwalk._visit(module, fast)
        return slow.events, fast.events

    return run


@pytest.mark.parametrize("make", [Recorder, Named, Mixed], ids=["generic", "named", "mixin"])
def test_same_callbacks_as_libcst(slow_then_fast, make):
    checked = 0
    for name, module in _modules():
        slow, fast = slow_then_fast(module, make)
        assert slow == fast, name
        checked += bool(slow)
    assert checked > 20


def test_every_node_type_with_children_has_a_plan_or_falls_back():
    module = cst.parse_module(_sources()[-1][1])
    seen = set()

    class Types(cst.CSTVisitor):
        def on_visit(self, node):
            seen.add(type(node))
            return True

    cstwalk._visit(module, Types())
    plans = {cls: cstwalk.plan_for(cls) for cls in seen}
    # the generated shape covers nearly everything; what does not uses libcst's own code
    assert sum(1 for p in plans.values() if p is not None) > 0.9 * len(plans)
    assert plans[cst.Name] == ("lpar", "rpar")
    assert plans[cst.Assign] == ("targets", "value", "semicolon")


def _node_classes():
    seen, todo = set(), [cst.CSTNode]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return seen


def test_plans_cut_by_indentation_are_inspects():
    import ast
    import inspect
    import textwrap

    for cls in _node_classes():
        try:
            source = textwrap.dedent(inspect.getsource(cls._visit_and_replace_children))
            expected = cstwalk._read_plan(ast.parse(source).body[0])
        except (OSError, TypeError):
            expected = None
        assert cstwalk.plan_for(cls) == expected, cls


def test_closures_are_the_subtypes_reachable_through_the_annotations():
    """The same tables as the plain definition: issubclass on every annotation,
    then growing each set until nothing changes."""
    import inspect
    import typing

    concrete = [c for c in _node_classes() if not inspect.isabstract(c) and c.__module__.startswith("libcst.")]

    def types(hint):
        if typing.get_origin(hint) is None:
            if isinstance(hint, type):
                return {c for c in concrete if issubclass(c, hint)} if issubclass(hint, cst.CSTNode) else set()
            return None
        if typing.get_origin(hint) is typing.Literal:
            return set()
        out = set()
        for arg in typing.get_args(hint):
            found = types(arg)
            if found is None:
                return None
            out |= found
        return out

    reach = {}
    for cls in concrete:
        hints = typing.get_type_hints(cls, globalns=dict(vars(cst)))
        plan = cstwalk.plan_for(cls)
        found = {cls}
        for field in plan if plan is not None else list(hints):
            kids = types(hints.get(field))
            if kids is None:
                found = None
                break
            found |= kids
        reach[cls] = found
    changed = True
    while changed:
        changed = False
        for cls, found in reach.items():
            if found is None:
                continue
            grown = set(found)
            for kid in found:
                if reach.get(kid) is None:
                    grown = None
                    break
                grown |= reach[kid]
            if grown is None or grown != found:
                reach[cls], changed = grown, True
    assert cstwalk.closures() == {c: None if r is None else frozenset(r) for c, r in reach.items()}


def test_reachable_through_cycles_and_unknown_children():
    a, b, c, d, e = (type(n, (), {}) for n in "abcde")
    got = cstwalk._reachable({a: {b}, b: {a, c}, c: set(), d: {e}, e: None})
    assert got == {a: frozenset({a, b, c}), b: frozenset({a, b, c}), c: frozenset({c}), d: None, e: None}


def test_no_op_methods_and_attribute_hooks_are_told_apart():
    assert not cstwalk._profile(Mixed()).attrs
    assert cstwalk._profile(Named()).attrs
    assert "visit_Attribute" in cstwalk._profile(Mixed()).names
    assert "visit_Name" not in cstwalk._profile(cst.CSTVisitor()).names
    assert cstwalk._profile(Mixed()).relevant[cst.Attribute]
    assert not cstwalk._profile(Mixed()).relevant[cst.SimpleWhitespace]


def test_a_method_set_on_the_instance_counts():
    class Counter(cst.CSTVisitor):
        pass

    counter = Counter()
    seen = []
    counter.visit_Integer = lambda node: seen.append(node.value)
    cstwalk._visit(cst.parse_module("x = 1 + 2\n"), counter)
    assert seen == ["1", "2"]
    cstwalk._visit(cst.parse_module("y = 3\n"), Counter())  # the class alone: nothing to call
    assert seen == ["1", "2"]


def test_transformers_keep_libcsts_traversal():
    class Upper(cst.CSTTransformer):
        def leave_Name(self, original, updated):
            return updated.with_changes(value=updated.value.upper())

    module = cst.parse_module("a = b + c\n")
    assert module.visit(Upper()).code == "A = B + C\n"


def test_installed_by_the_engine():
    import hardener.source  # noqa: F401 - installing is a side effect of the import

    assert cstwalk.installed()
    assert cst.parse_module("x = 1\n").visit(cst.CSTVisitor()) is not None


class _Parents(cst.CSTVisitor):
    """The reference parent map: libcst's own traversal, every node."""

    def __init__(self):
        self.stack, self.parents = [], {}

    def on_visit(self, node):
        if self.stack:
            self.parents[id(node)] = self.stack[-1]
        self.stack.append(node)
        return True

    def on_leave(self, node):
        self.stack.pop()


def test_parent_map_is_libcsts_without_the_skipped_types():
    from hardener.source import TRIVIA

    checked = 0
    for name, module in _modules():
        reference = _Parents()
        cstwalk.uninstall()
        try:
            module.visit(reference)
        finally:
            cstwalk.install()
        expected = {key: parent for key, parent in reference.parents.items()}
        fast = cstwalk.parent_map(module, TRIVIA)
        kept = {key: parent for key, parent in expected.items() if key in fast}
        assert all(fast[key] is parent for key, parent in kept.items()), name
        # what is left out is whitespace and punctuation only, and every other node is there
        nodes = {}
        assert cstwalk.parent_map(module).keys() == expected.keys(), name

        class All(cst.CSTVisitor):
            def on_visit(self, node):
                nodes[id(node)] = node
                return True

        module.visit(All())
        missing = {type(nodes[key]) for key in expected.keys() - fast.keys()}
        assert missing <= TRIVIA, (name, missing - TRIVIA)
        checked += len(fast)
    assert checked > 50_000
