"""The rule contract and registry.

A rule is one module in ``codemods/`` (imported as ``hardener_codemods``)
holding a ``Rule`` subclass: its code and name, a ruff-shaped docstring,
VALID/INVALID examples, a detector and the fix it proposes. Decorate it with
``@register`` and list the module in ``hardener_codemods.RULE_MODULES``.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import ClassVar, Iterable

import libcst as cst

from hardener.models import Confidence, Finding, Fix, Severity
from hardener.source import PythonFile, TemplateFile


@dataclass
class Example:
    """A small project for tests and docs.

    ``files`` maps paths to content (a plain string means ``{"app.py": ...}``);
    ``fixed`` maps paths to the content expected after applying every fix of
    this rule (``None``: no fix is expected); ``findings`` is how many findings
    of the rule the example yields.
    """

    files: dict[str, str] | str
    fixed: dict[str, str] | str | None = None
    findings: int = 1
    unsafe: bool = False  # the fix is "review": apply it with --unsafe-fixes

    def file_map(self) -> dict[str, str]:
        return {"app.py": self.files} if isinstance(self.files, str) else dict(self.files)

    def fixed_map(self) -> dict[str, str] | None:
        if self.fixed is None:
            return None
        return {"app.py": self.fixed} if isinstance(self.fixed, str) else dict(self.fixed)


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case
    category: ClassVar[str]
    severity: ClassVar[Severity]
    confidence: ClassVar[Confidence]
    cwe: ClassVar[int | None] = None
    # Byte strings of which at least one must appear in a Python file for
    # check_file to run on it (an empty tuple means every file).
    triggers: ClassVar[tuple[bytes, ...]] = ()
    template_triggers: ClassVar[tuple[str, ...]] = ()
    VALID: ClassVar[list[Example | str]] = []
    INVALID: ClassVar[list[Example]] = []

    # -- hooks: override what the rule needs
    def check_file(self, file: PythonFile, project) -> Iterable[Finding]:
        return ()

    def check_template(self, template: TemplateFile, project) -> Iterable[Finding]:
        return ()

    def check_project(self, project) -> Iterable[Finding]:
        return ()

    # -- helpers
    @classmethod
    def wants(cls, data: bytes) -> bool:
        return not cls.triggers or any(t in data for t in cls.triggers)

    @classmethod
    def title(cls) -> str:
        doc = (cls.__doc__ or "").strip().splitlines()
        return doc[0].strip() if doc else cls.name

    @classmethod
    def doc(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")

    def finding(
        self,
        file: PythonFile,
        node: cst.CSTNode,
        message: str,
        fix: Fix | None = None,
        *,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        secret_values: tuple[str, ...] = (),
    ) -> Finding:
        pos = file.position(node)
        snippet = file.code_for(node) if len(file.code_for(node)) < 400 else file.line_text(pos.start.line)
        from hardener.models import mask_secrets

        return Finding(
            code=self.code, name=self.name, category=self.category,
            severity=severity or self.severity, confidence=confidence or self.confidence,
            cwe=self.cwe, message=message, path=file.path,
            line=pos.start.line, column=pos.start.column + 1,
            end_line=pos.end.line, end_column=pos.end.column + 1,
            fix=fix, snippet=mask_secrets(snippet, secret_values), secret_values=secret_values,
        )

    def template_finding(
        self, template: TemplateFile, start: int, end: int, message: str, fix: Fix | None = None,
        *, severity: Severity | None = None, confidence: Confidence | None = None,
    ) -> Finding:
        line, col = template.line_col(start)
        end_line, end_col = template.line_col(end)
        return Finding(
            code=self.code, name=self.name, category=self.category,
            severity=severity or self.severity, confidence=confidence or self.confidence,
            cwe=self.cwe, message=message, path=template.path, line=line, column=col,
            end_line=end_line, end_column=end_col, fix=fix, snippet=template.text[start:end],
        )


_REGISTRY: dict[str, type[Rule]] = {}
_LOADED = False
CODE_RE = re.compile(r"^H\d{3}$")


def register(cls: type[Rule]) -> type[Rule]:
    assert CODE_RE.match(cls.code), f"bad rule code {cls.code!r}"
    assert cls.code not in _REGISTRY or _REGISTRY[cls.code] is cls, f"duplicate rule code {cls.code}"
    _REGISTRY[cls.code] = cls
    return cls


def all_rules() -> list[type[Rule]]:
    """Every registered rule, sorted by code (imports the rule modules on first use)."""
    global _LOADED
    if not _LOADED:
        # every module, even when one was imported directly before (and registered its rule)
        package = importlib.import_module("hardener_codemods")
        for name in package.RULE_MODULES:
            importlib.import_module(f"hardener_codemods.{name}")
        _LOADED = True
    return [_REGISTRY[c] for c in sorted(_REGISTRY)]


def get_rule(code: str) -> type[Rule] | None:
    all_rules()
    return _REGISTRY.get(code.upper())


def select_rules(select: list[str] | None = None, ignore: list[str] | None = None) -> list[type[Rule]]:
    """Filter by code or prefix (``H1`` selects H101, H102...) or category name."""

    def matches(rule: type[Rule], patterns: list[str]) -> bool:
        for p in patterns:
            p = p.strip()
            if not p:
                continue
            if p.upper() == "ALL" or rule.code.startswith(p.upper()) or p.lower() in (rule.category, rule.name):
                return True
        return False

    rules = all_rules()
    if select:
        rules = [r for r in rules if matches(r, select)]
    if ignore:
        rules = [r for r in rules if not matches(r, ignore)]
    return rules
