"""hardener.fixkit.add_imports gives exactly what libcst's AddImportsVisitor gives on the whole module."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from hardener.fixkit import add_imports, module_bytes

REPO = Path(__file__).resolve().parent.parent
IMPORTS = [
    [("os", None)],
    [("flask", "request")],
    [("werkzeug.utils", "secure_filename"), ("os", None)],
    [("__future__", "annotations")],
    [("sys", None), ("os.path", "join")],
    [("flask", "g"), ("flask", "abort"), ("os", None), ("os.path", None)],
]
SNIPPETS = [
    "", "# only a comment\n", '"""doc"""\n', '"""doc"""\nimport os\n', "__strict__ = True\nimport x\nfoo()\n",
    '"a" "b"\nimport os\n', "import os; import sys\nx = 1\n", "from flask import Flask\n# c\nx = 1\n",
    "from flask import *\nx = 1\n", "from flask import Flask, request as rq\n\n\ndef f():\n    import os\n",
    "x = 1\nimport os\n", "from __future__ import annotations\nimport sys\n",
    "from . import x\nfrom flask import Flask\n", "from flask import (\n    Flask,\n    g,\n)\nx = 1\n",
    "from flask import request as r\nfrom flask import g\nfrom flask import abort\n",
    "import os as o\nimport sys\n# comment\n\nx = 1\n", "from os import path\nfrom os import sep\n",
    "\n\n# lead\nimport sys\n", "from .flask import g\nimport os.path\n\n\nclass K:\n    pass\n",
]


def _modules():
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted((REPO / "sample_projects").rglob("*.py")) + [p for p in sorted(stdlib.glob("*.py")) if p.stat().st_size < 20_000][:12]
    for path in paths:
        yield str(path), cst.parse_module(path.read_bytes())
    for i, text in enumerate(SNIPPETS):
        yield f"snippet {i}", cst.parse_module(text)


@pytest.mark.parametrize("imports", IMPORTS, ids=lambda i: ",".join(f"{m}.{n}" for m, n in i))
def test_same_code_as_add_imports_visitor_on_the_whole_module(imports):
    checked = 0
    for name, module in _modules():
        context = CodemodContext()
        for mod, obj in imports:
            AddImportsVisitor.add_needed_import(context, mod, obj)
        expected = AddImportsVisitor(context).transform_module(module).code
        assert add_imports(module, *imports).code == expected, name
        checked += 1
    assert checked > 30


def test_the_rest_of_the_module_is_not_rebuilt():
    module = cst.parse_module("import sys\n\nx = 1\n\n\ndef f():\n    return x\n")
    new = add_imports(module, ("os", None))
    assert new.body[-1] is module.body[-1]
    assert new.code.startswith("import sys\nimport os\n")


def test_module_bytes_copies_the_statements_an_edit_kept():
    # statements dropped, inserted, replaced and moved, at the start, the end and
    # in between, two of them the same text: the same bytes as generating all
    import random

    rng = random.Random(7)
    checked = 0
    for name, module in _modules():
        data = module.bytes
        for _ in range(6):
            body = list(module.body)
            for _ in range(rng.randint(1, 3)):
                k = rng.randrange(len(body) + 1)
                roll = rng.random()
                if roll < 0.3 and k < len(body):
                    del body[k]
                elif roll < 0.6:
                    body.insert(k, cst.parse_statement("import zz_inserted\n"))
                elif roll < 0.8 and k < len(body):
                    body[k] = cst.parse_statement("x = 1\n")
                elif body:
                    body.insert(k, body.pop(rng.randrange(len(body))))
            new = module.with_changes(body=body)
            assert module_bytes(new, module, data) == new.bytes, name
            checked += 1
    assert checked > 100


def test_module_bytes_keeps_the_text_libcst_would_rewrite():
    # libcst does not give back `except (A) :` as written; inside a run of
    # statements the edit kept it stays as the file has it
    data = b"import os\ntry:\n    pass\nexcept (ValueError) :\n    pass\nimport sys\nx = 1\n"
    module = cst.parse_module(data)
    new = module.with_changes(body=[*module.body[:-1], cst.parse_statement("x = 2\n")])
    assert module_bytes(new, module, data) == data.replace(b"x = 1", b"x = 2")
    assert new.bytes == data.replace(b"x = 1", b"x = 2").replace(b") :", b"):")
