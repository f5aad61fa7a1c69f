"""One file of the project, parsed at most once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider


class _LazyJinja:
    """One shared jinja2 Environment, created on first use (keeps start-up fast)."""

    _env = None

    def parse(self, text: str):
        if self._env is None:
            import jinja2

            # Extensions commonly used in Flask templates, so their tags parse.
            type(self)._env = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols", "jinja2.ext.i18n"])
        return self._env.parse(text)


_JINJA = _LazyJinja()


class ParseError(Exception):
    pass


def one_line_reason(exc: Exception) -> str:
    """libcst's messages are multi-line with a caret picture: keep the first line."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else exc.__class__.__name__
    if isinstance(exc, cst.ParserSyntaxError):
        return f"syntax error at line {exc.raw_line}, column {exc.raw_column + 1}: {exc.message}"
    return first


@dataclass(eq=False)
class PythonFile:
    path: str  # relative to the root, with "/"
    data: bytes

    parse_error: str | None = field(default=None, init=False)

    @cached_property
    def module(self) -> cst.Module:
        if self.parse_error is not None:
            raise ParseError(self.parse_error)
        try:
            return self._parse()
        except ParseError as exc:
            self.parse_error = str(exc)
            raise

    def _parse(self) -> cst.Module:
        if b"\0" in self.data:
            raise ParseError("file contains a NUL byte")
        try:
            return cst.parse_module(self.data)
        except cst.ParserSyntaxError as exc:
            raise ParseError(one_line_reason(exc)) from None
        except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
            raise ParseError(f"cannot decode: {exc}") from None
        except RecursionError:
            raise ParseError("too deeply nested to parse") from None
        except Exception as exc:  # libcst raises a few others on odd input
            raise ParseError(one_line_reason(exc)) from None

    @cached_property
    def wrapper(self) -> MetadataWrapper:
        # The module is never mutated, so the defensive deep copy is skipped:
        # nodes found by rules stay the very nodes the positions refer to.
        return MetadataWrapper(self.module, unsafe_skip_copy=True)

    @cached_property
    def positions(self):
        return self.wrapper.resolve(PositionProvider)

    def position(self, node: cst.CSTNode) -> CodeRange:
        return self.positions[node]

    @cached_property
    def text(self) -> str:
        return self.module.code

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return ""

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


@dataclass(eq=False)
class TemplateFile:
    path: str
    data: bytes

    @cached_property
    def text(self) -> str:
        data = self.data
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        return data.decode("utf-8", errors="surrogateescape")

    @property
    def has_bom(self) -> bool:
        return self.data.startswith(b"\xef\xbb\xbf")

    def encode(self, text: str) -> bytes:
        out = text.encode("utf-8", errors="surrogateescape")
        return (b"\xef\xbb\xbf" + out) if self.has_bom else out

    @cached_property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""

    def syntax_error(self) -> str | None:
        """A one-line reason if Jinja cannot parse the template, else None."""
        try:
            import jinja2
        except ImportError:  # Flask brings jinja2; without it there is nothing to check against
            return None
        try:
            _JINJA.parse(self.text)
        except jinja2.TemplateSyntaxError as exc:
            return f"not valid Jinja at line {exc.lineno}: {exc.message}"
        except Exception as exc:
            return f"not valid Jinja: {exc.__class__.__name__}"
        return None

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = self.text.count("\n", 0, offset) + 1
        start = self.text.rfind("\n", 0, offset) + 1
        return line, offset - start + 1


@dataclass
class Suppressions:
    """``# hardener: ignore[CODE, ...]`` per line, and file-wide ``# hardener: ignore-file``."""

    by_line: dict[int, set[str] | None] = field(default_factory=dict)  # None = all codes
    file_codes: set[str] | None = field(default_factory=set)  # None = whole file
    used: set[tuple[int, str]] = field(default_factory=set)

    PATTERN = re.compile(r"hardener:\s*ignore(-file)?(?:\[([A-Za-z0-9_,\s]*)\])?")

    @classmethod
    def parse(cls, text: str) -> "Suppressions":
        sup = cls()
        if "hardener:" not in text:
            return sup
        for number, line in enumerate(text.splitlines(), 1):
            if "hardener:" not in line:
                continue
            for m in cls.PATTERN.finditer(line):
                codes = {c.strip().upper() for c in (m.group(2) or "").split(",") if c.strip()} or None
                if m.group(1):
                    if codes is None or sup.file_codes is None:
                        sup.file_codes = None
                    else:
                        sup.file_codes |= codes
                else:
                    prev = sup.by_line.get(number, set())
                    sup.by_line[number] = None if codes is None or prev is None else prev | codes
        return sup

    def suppresses(self, code: str, line: int, end_line: int | None = None) -> bool:
        if self.file_codes is None or code in self.file_codes:
            return True
        for ln in {line, end_line or line}:
            if ln in self.by_line:
                codes = self.by_line[ln]
                if codes is None or code in codes:
                    self.used.add((ln, code))
                    return True
        return False
