"""hardener.cstcodegen: the same code and the same positions as libcst's own code generation."""

from __future__ import annotations

import libcst as cst
from libcst._nodes.base import CSTCodegenError
from libcst.metadata import MetadataWrapper, PositionProvider

from hardener import cstcodegen
from tests.test_cstwalk import _modules


def _generated(module: cst.Module):
    """The code of the module and of every node, and every node's range."""
    nodes = []

    class All(cst.CSTVisitor):
        def on_visit(self, node):
            nodes.append(node)
            return True

    module.visit(All())
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    # the code of every fifth node (all of them would take long on big modules), the range of every node
    return module.code, [_code(module, n) for n in nodes[::5]], [positions.get(n) for n in nodes]


def _code(module: cst.Module, node: cst.CSTNode) -> str:
    try:
        return module.code_for_node(node)
    except CSTCodegenError as exc:  # some nodes need their parent (an annotation's indicator)
        return f"error: {exc}"


def test_same_code_and_positions_as_libcst():
    checked = 0
    for name, module in _modules():
        cstcodegen.uninstall()
        try:
            expected = _generated(module)
        finally:
            cstcodegen.install()
        assert cstcodegen.installed()
        assert _generated(module) == expected, name
        checked += len(expected[2])
    assert checked > 50_000


def test_closing_tokens_are_not_written_after_an_error():
    module = cst.parse_module("x = ([1, 2], {3: 4})\n")

    class Boom(Exception):
        pass

    from libcst._nodes.internal import CodegenState

    state = CodegenState(default_indent="    ", default_newline="\n")
    value = module.body[0].body[0].value
    try:
        with value._parenthesize(state):
            state.add_token("inside")
            raise Boom
    except Boom:
        pass
    assert "".join(state.tokens) == "(inside"
