"""source.parse_unvalidated: the tree libcst's parser gives, with shared whitespace nodes."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst._nodes.base import CSTNode

from hardener.source import parse_unvalidated
from tests.test_cstwalk import _sources


def test_same_tree_and_code_as_libcst():
    checked = 0
    for name, text in _sources():
        try:
            expected = cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue
        got = parse_unvalidated(text.encode("utf-8"))
        assert got.code == expected.code == text, name
        assert got.deep_equals(expected), name
        checked += 1
    assert checked > 20


def test_whitespace_and_newlines_are_shared_and_the_classes_restored():
    module = parse_unvalidated(b"a = 1\nb = 2\n")
    first, second = (stmt.body[0] for stmt in module.body)
    assert first.targets[0].whitespace_before_equal is second.targets[0].whitespace_before_equal
    assert module.body[0].trailing_whitespace.newline is module.body[1].trailing_whitespace.newline
    assert isinstance(first.targets[0].whitespace_before_equal, cst.SimpleWhitespace)
    assert cst.SimpleWhitespace.__name__ == "SimpleWhitespace" and cst.Newline.__name__ == "Newline"
    assert CSTNode.__post_init__.__name__ == "__post_init__"
    assert cst.Name.__init__.__qualname__ == "Name.__init__"  # the dataclass's own, validating one


def test_the_nodes_are_built_with_the_dataclass_fields_and_defaults():
    module = parse_unvalidated(b"@d\nclass C(B, metaclass=M):\n    x: int = 1\n    async def f(self, *a, k=2, **kw): pass\n")
    assert module.deep_equals(cst.parse_module("@d\nclass C(B, metaclass=M):\n    x: int = 1\n"
                                               "    async def f(self, *a, k=2, **kw): pass\n"))
    cls = module.body[0]
    assert cls.name.lpar == () and cls.type_parameters is None and cls.decorators[0].decorator.value == "d"


def test_a_syntax_error_restores_the_classes_too():
    with pytest.raises(cst.ParserSyntaxError):
        parse_unvalidated(b"def f(:\n")
    assert isinstance(cst.SimpleWhitespace, type) and isinstance(cst.Newline, type)
    assert cst.Call.__init__.__qualname__ == "Call.__init__"
    with pytest.raises(cst.CSTValidationError):  # nodes built by hand are validated again
        cst.Name("not a name")
