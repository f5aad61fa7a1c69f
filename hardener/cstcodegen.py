"""Cheaper code generation for libcst trees.

Rules ask for the source of nodes (``Module.code_for_node``) and for positions
(a code generation that records ranges) many thousands of times in a scan.
libcst's code generation enters a generator-based context manager for every
expression (``_parenthesize``, which wraps ``record_syntactic_position``), for
every list, set and dict (``_bracketize`` / ``_braceize``), and the base
``CodegenState.record_syntactic_position`` is one too, though it does nothing:
``contextlib`` machinery was a third of the time spent generating code.

``install()`` replaces those four with plain context manager classes that do
the same thing in the same order (on an exception inside the block, the
closing tokens are not written, as before). ``tests/test_cstcodegen.py``
compares the generated code and every node's position with libcst's own on
real code. ``HARDENER_LIBCST_CODEGEN=1`` turns it off.
"""

from __future__ import annotations

import os

from libcst._nodes import expression
from libcst._nodes.internal import CodegenState

_ORIGINAL = {
    "record": CodegenState.record_syntactic_position,
    "parenthesize": expression.BaseExpression._parenthesize,
    "bracketize": expression.BaseList._bracketize,
    "braceize": expression._BaseSetOrDict._braceize,
}


class _Nothing:
    """CodegenState.record_syntactic_position of the base state: records nothing."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        return False


_NOTHING = _Nothing()


def _record_nothing(self, node, *, start_node=None, end_node=None) -> _Nothing:
    return _NOTHING


class _Parenthesized:
    """``lpar`` tokens, the expression inside its syntactic position, ``rpar``."""

    __slots__ = ("node", "state", "inner")

    def __init__(self, node, state):
        self.node, self.state = node, state

    def __enter__(self) -> None:
        node, state = self.node, self.state
        for lpar in node.lpar:
            lpar._codegen(state)
        self.inner = state.record_syntactic_position(node)
        self.inner.__enter__()

    def __exit__(self, kind, value, traceback) -> bool:
        if self.inner.__exit__(kind, value, traceback) or kind is not None:
            return False
        state = self.state
        for rpar in self.node.rpar:
            rpar._codegen(state)
        return False


class _Enclosed:
    """An opening token, the body, a closing token (list brackets, braces)."""

    __slots__ = ("open", "close", "state")

    def __init__(self, open_token, close_token, state):
        self.open, self.close, self.state = open_token, close_token, state

    def __enter__(self) -> None:
        self.open._codegen(self.state)

    def __exit__(self, kind, value, traceback) -> bool:
        if kind is None:
            self.close._codegen(self.state)
        return False


def _parenthesize(self, state) -> _Parenthesized:
    return _Parenthesized(self, state)


def _bracketize(self, state) -> _Enclosed:
    return _Enclosed(self.lbracket, self.rbracket, state)


def _braceize(self, state) -> _Enclosed:
    return _Enclosed(self.lbrace, self.rbrace, state)


def install() -> None:
    if os.environ.get("HARDENER_LIBCST_CODEGEN") == "1":
        return
    CodegenState.record_syntactic_position = _record_nothing
    expression.BaseExpression._parenthesize = _parenthesize
    expression.BaseList._bracketize = _bracketize
    expression._BaseSetOrDict._braceize = _braceize


def uninstall() -> None:
    CodegenState.record_syntactic_position = _ORIGINAL["record"]
    expression.BaseExpression._parenthesize = _ORIGINAL["parenthesize"]
    expression.BaseList._bracketize = _ORIGINAL["bracketize"]
    expression._BaseSetOrDict._braceize = _ORIGINAL["braceize"]


def installed() -> bool:
    return CodegenState.record_syntactic_position is _record_nothing
