"""PythonFile.position: the compact map gives libcst's own ranges."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from hardener.source import TRIVIA, PythonFile, _pack

REPO = Path(__file__).resolve().parent.parent


def _files():
    for path in sorted((REPO / "sample_projects").rglob("*.py")) + sorted((REPO / "hardener").glob("*.py")):
        yield PythonFile(str(path), path.read_bytes())
    yield PythonFile("crlf.py", b"def f(a,\r\n      b):\r\n    return {'k': [a, b]}  # c\r\n\r\n@d\r\nclass K: pass\r\n")
    yield PythonFile("tabs.py", b"if x:\n\ty = '''a\nb'''\n\tz = (1 +\n\t     2)\n")


def test_same_ranges_as_libcst_for_every_node():
    checked = 0
    for file in _files():
        full = MetadataWrapper(file.module, unsafe_skip_copy=True).resolve(PositionProvider)
        for node, expected in full.items():
            if type(node) in TRIVIA:
                continue
            assert file.position(node) == expected, (file.path, type(node).__name__)
            checked += 1
        assert "positions" not in file.__dict__  # the compact map answered every one
    assert checked > 5000


def test_one_statements_code_generation_gives_the_same_ranges():
    odd = [
        PythonFile("dup.py", b"# header\n\npass\nx = 1\npass\n\n\n# lead\n@d  # c\ndef f():\n    pass\n"),
        PythonFile("no_newline.py", b"import os\ny = os.sep"),
        PythonFile("cr.py", b"a = 1\rb = (2,\r     3)\r"),
        PythonFile("semi.py", b"a = 1; b = 2\nif a:\n    b = 3  # x\n    # trailing\nc = [\n  1,\n]\n"),
    ]
    answered = checked = 0
    for file in [*_files(), *odd]:
        full = MetadataWrapper(file.module, unsafe_skip_copy=True).resolve(PositionProvider)
        for node, expected in full.items():
            if type(node) in TRIVIA or node is file.module:
                continue
            checked += 1
            value = file._statement_position(node)
            if value is not None:
                assert value == _pack(expected), (file.path, type(node).__name__)
                answered += 1
    assert answered > 0.9 * checked
    # the repeated `pass` and the last line without a newline are left to the whole map
    dup = odd[0]
    assert dup._statement_position(dup.module.body[0]) is None
    assert odd[1]._statement_position(odd[1].module.body[1]) is None


def test_whitespace_and_punctuation_fall_back_to_libcsts_map():
    file = PythonFile("a.py", b"x = f(a, b)\n")
    call = file.module.body[0].body[0].value
    comma = call.args[0].comma
    full = MetadataWrapper(file.module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert file.position(call) == full[call]
    assert file.position(comma) == full[comma]


def test_a_node_of_another_tree_is_not_found():
    file = PythonFile("a.py", b"x = 1\n")
    other = cst.parse_module("x = 1\n")
    try:
        file.position(other.body[0])
    except KeyError:
        pass
    else:
        raise AssertionError("a node of another tree has no position here")


def test_text_is_the_code_libcst_generates():
    for file in _files():
        assert file.text == file.module.code, file.path
    for data in (b"\xef\xbb\xbfx = 1\n", b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", b"x = 1\r\ny = 2", b""):
        file = PythonFile("a.py", data)
        assert file.text == file.module.code
