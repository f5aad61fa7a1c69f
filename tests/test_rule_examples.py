"""Every rule's VALID examples yield nothing; every INVALID one yields its
findings, its fix produces the expected files, and a re-scan is clean."""

from __future__ import annotations

import pytest

from hardener.apply import apply_fixes
from hardener.config import Config
from hardener.models import CATEGORIES
from hardener.rules import Example, all_rules
from hardener.scanner import scan

from conftest import write_tree

CASES_VALID = [
    pytest.param(rule, ex if isinstance(ex, Example) else Example(ex, findings=0), id=f"{rule.code}-valid-{i}")
    for rule in all_rules() for i, ex in enumerate(rule.VALID)
]
CASES_INVALID = [
    pytest.param(rule, ex, id=f"{rule.code}-invalid-{i}") for rule in all_rules() for i, ex in enumerate(rule.INVALID)
]


def _config(rule) -> Config:
    return Config(select=[rule.code], cache=False)


@pytest.mark.parametrize("rule,example", CASES_VALID)
def test_valid_examples_yield_nothing(rule, example, tmp_path):
    root = write_tree(tmp_path / "p", example.file_map())
    result = scan(root, _config(rule))
    assert [f for f in result.findings if f.code == rule.code] == []
    assert result.errors == []


@pytest.mark.parametrize("rule,example", CASES_INVALID)
def test_invalid_examples_are_found_and_fixed(rule, example, tmp_path):
    files = example.file_map()
    root = write_tree(tmp_path / "p", files)
    result = scan(root, _config(rule))
    found = [f for f in result.findings if f.code == rule.code]
    assert len(found) == example.findings, [f.message for f in found]
    for f in found:
        assert f.name == rule.name and f.category == rule.category
    expected = example.fixed_map()
    if expected is None:
        assert all(f.fix is None for f in found)
        return
    report, ws, after = apply_fixes(root, _config(rule), unsafe=example.unsafe)
    assert not report.failed, report.failed
    for path, text in expected.items():
        assert (ws.read(path) or b"").decode() == text, path
    # a re-scan of the fixed code finds nothing of this rule
    assert [f for f in after.findings if f.code == rule.code] == []
    # files that the example does not list as fixed are unchanged, unless created
    for path, original in files.items():
        if path not in expected:
            assert ws.read(path).decode() == original


def test_every_rule_has_docs_and_examples():
    for rule in all_rules():
        doc = rule.doc()
        for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety", "## References"):
            assert heading in doc, (rule.code, heading)
        assert rule.INVALID, rule.code
        assert rule.VALID, rule.code
        assert rule.category in CATEGORIES, (rule.code, rule.category)  # the JSON schema lists these
