"""Property tests over every rule's fix: the output parses and compiles,
applying twice equals applying once, and code without findings is never changed.

Programs come from hypothesmith (generated from the grammar / libcst nodes)
mixed into each rule's INVALID examples, so every codemod meets code it was
not written for."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hardener.apply import apply_fixes
from hardener.config import Config
from hardener.rules import all_rules
from hardener.scanner import scan

EXAMPLES = [(rule.code, ex) for rule in all_rules() for ex in rule.INVALID]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _compiles(source: str) -> bool:
    try:
        compile(source, "<generated>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _with_tree(files: dict[str, str]):
    root = Path(tempfile.mkdtemp(prefix="hardener-prop-"))
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@SETTINGS
@given(source=hypothesmith.from_node())
def test_generated_code_without_findings_is_never_changed(source):
    assume(_compiles(source))
    root = _with_tree({"app.py": "from flask import Flask\napp = Flask(__name__)\n", "gen.py": source})
    try:
        result = scan(root, Config(cache=False))
        if any(f.path == "gen.py" for f in result.findings):
            return
        report, ws, _ = apply_fixes(root, Config(cache=False), unsafe=True)
        assert ws.read("gen.py").decode() == source
    finally:
        shutil.rmtree(root)


@SETTINGS
@given(example=st.sampled_from(EXAMPLES), noise=hypothesmith.from_node(), where=st.sampled_from(["before", "after"]))
def test_fixes_compile_and_are_idempotent_around_generated_code(example, noise, where):
    code, ex = example
    assume(_compiles(noise) and "__future__" not in noise)
    files = ex.file_map()
    target = next(iter(files))
    if target.endswith(".py"):
        files[target] = (noise + "\n" + files[target]) if where == "before" else (files[target] + "\n" + noise)
    assume(all(_compiles(t) for p, t in files.items() if p.endswith(".py")))
    root = _with_tree(files)
    try:
        config = Config(select=[code], cache=False)
        report, ws, after = apply_fixes(root, config, unsafe=True)
        for rel, data in ws.changed.items():
            if rel.endswith(".py"):
                assert _compiles(data.decode("utf-8")), rel
        # apply the same fixes again on the fixed code: nothing more changes
        again, ws2, _ = apply_fixes(root, config, unsafe=True, workspace=ws)
        assert ws2.changed == ws.changed
        assert [a for a in again.applied] == []
    finally:
        shutil.rmtree(root)


@pytest.mark.parametrize("code,example", EXAMPLES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(EXAMPLES)])
def test_each_fix_is_idempotent(code, example, tmp_path):
    root = _with_tree(example.file_map())
    try:
        config = Config(select=[code], cache=False)
        _, ws, _ = apply_fixes(root, config, unsafe=True)
        again, ws2, after = apply_fixes(root, config, unsafe=True, workspace=ws)
        assert again.applied == []
        assert [f for f in after.findings if f.code == code and f.fix is not None] == []
    finally:
        shutil.rmtree(root)
